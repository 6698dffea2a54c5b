/*
 * cert.h - certificates of the profile (PROFILE.md): building, checked
 * signing, writing and reading.
 *
 * The root builds every CA-side kind it signs (root, link, cross, issuing
 * CA, OCSP responder, validation server); the user kind is the online
 * issuer's. Builders return an unsigned X509 for hk_cert_sign_issued() (or
 * hk_cert_sign_checked() for the self-signed root). docs/certificates.md
 * lists every field with its source.
 */
#ifndef HK_CERT_H
#define HK_CERT_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "profile.h"

struct hk_profile;

enum hk_cert_kind {
	HK_CERT_ROOT,		/* self-signed root, NewWithNew */
	HK_CERT_LINK,		/* OldWithNew / NewWithOld (RFC 4210 4.4) */
	HK_CERT_CROSS,		/* to or from the bridge CA */
	HK_CERT_ISSUING,	/* online issuing CA */
	HK_CERT_USER,		/* resident (電子証明書) */
	HK_CERT_OCSP,		/* delegated OCSP responder */
	HK_CERT_VALIDATION,	/* validation server */
};

#define HK_SERIAL_LEN	20	/* octets of our serials (128 random bits) */
#define HK_CERT_MAX	(64 * 1024)	/* bytes of a certificate file read */

/*
 * A serial made at `at` (the certificate's notBefore): 0b01 and the Unix
 * minute in 30 bits, then 128 random bits (PROFILE.md: at least 127).
 * Positive, always HK_SERIAL_LEN octets, ascending with time.
 */
int hk_cert_serial_make(unsigned char s[HK_SERIAL_LEN], time_t at);

/* "root", "link", ... for messages. */
const char *hk_cert_kind_name(enum hk_cert_kind kind);

/*
 * Build the unsigned root certificate for public key pub: v3, random
 * serial, issuer = subject = root DN, notBefore = not_before, notAfter =
 * notBefore + validity years - 1 s, basicConstraints, keyUsage, SKI,
 * Japanese subjectAltName and cRLDistributionPoints. With rehearsal != 0
 * the subject, issuer, alt-name and CRL DP names end with OU=<marker>.
 */
int hk_cert_build_root(const struct hk_profile *p, EVP_PKEY *pub,
    time_t not_before, int rehearsal, X509 **out);

/*
 * Sign cert with key the careful way: lint a copy with expected_pub's
 * signature algorithm fixed (hk_cert_set_sigalg), sign with key, require
 * the TBS bytes to equal the linted copy's, verify the signature with
 * expected_pub, lint the result. HK_ERR_LINT, HK_ERR_VERIFY or HK_ERR_CRYPTO with a detail.
 */
int hk_cert_sign_checked(X509 *cert, EVP_PKEY *key, EVP_PKEY *expected_pub,
    const struct hk_profile *p, enum hk_cert_kind kind, int rehearsal);

#define HK_CROSS_VALIDITY_YEARS	5	/* CPS 7-1-2: cross certificates */
#define HK_CERT_PATHLEN_NONE	(-1)	/* no pathLenConstraint (cross) */

enum hk_link_dir {
	HK_LINK_OLD_WITH_NEW,	/* old public key signed by the new key */
	HK_LINK_NEW_WITH_OLD,	/* new public key signed by the old key */
};

/*
 * Issuing CA for the key of csr (checked with hk_csr_check against the
 * expected DN "<issuing_subject_prefix>, OU=Issuing CA <generation>" and
 * the profile's issuing key). Issued by root (the self-signed certificate
 * of the signing key): notAfter = notBefore + issuing validity - 1 s, cut
 * back to root's notAfter; basicConstraints cA pathLen 0, keyUsage
 * keyCertSign|cRLSign, policy_ca, SKI, AKI = root's SKI, CRL DP = root DN.
 */
int hk_cert_build_issuing(const struct hk_profile *p, X509 *root,
    X509_REQ *csr, int generation, time_t not_before, int rehearsal,
    X509 **out);

/*
 * The same issuing CA re-certified under another root key (key rollover,
 * CPS 4-13): subject and public key copied from old (a CA certificate with
 * the profile's issuing key; no CSR: the key is already the CA's), new
 * serial, notAfter = old's notAfter (never later), cut back to root's;
 * the other fields as hk_cert_build_issuing. An old certificate expired
 * before not_before is refused (HK_ERR_INVALID). Revocation is the
 * caller's to check (issued.txt).
 */
int hk_cert_build_issuing_renew(const struct hk_profile *p, X509 *root,
    X509 *old, time_t not_before, int rehearsal, X509 **out);

/*
 * Link certificate (RFC 4210 4.4.1, CPS 7-1-4) between two self-signed root
 * generations: OldWithNew certifies old_root's key under the new key,
 * NewWithOld new_root's key under the old key. issuer = subject = root DN,
 * notBefore = key_generated (the subject key's generation time: the caller
 * gives its self-signed certificate's notBefore), notAfter =
 * old_root's notAfter; SKI = subject key, AKI = signing key.
 */
int hk_cert_build_link(const struct hk_profile *p, enum hk_link_dir dir,
    X509 *old_root, X509 *new_root, time_t key_generated, int rehearsal,
    X509 **out);

/*
 * Cross certificate to the bridge CA for the key and subject of its csr
 * (expected_dn: the agreed DN text, or NULL to take the CSR's after its
 * type check). 5 years (HK_CROSS_VALIDITY_YEARS), inside root's validity;
 * basicConstraints cA with path_len (HK_CERT_PATHLEN_NONE = absent);
 * certificatePolicies policy_ca; with mapped_policy != NULL a
 * policyMappings policy_ca -> mapped_policy, critical only when the
 * profile says so (PROFILE.md, interoperability).
 */
int hk_cert_build_cross(const struct hk_profile *p, X509 *root,
    X509_REQ *csr, const char *expected_dn, int path_len,
    const char *mapped_policy, time_t not_before, int rehearsal, X509 **out);

/*
 * OCSP responder <n> ("<prefix>, CN=OCSP Responder <n>") for csr's key:
 * 1 year (profile), id-kp-OCSPSigning, id-pkix-ocsp-nocheck, keyUsage
 * digitalSignature, policy_ocsp (test arc in rehearsal), no CRL DP.
 */
int hk_cert_build_ocsp(const struct hk_profile *p, X509 *root, X509_REQ *csr,
    int n, time_t not_before, int rehearsal, X509 **out);

/*
 * Validation server <n> ("<prefix>, CN=Official Certificate Validation
 * Server <n>"): keyUsage digitalSignature|nonRepudiation,
 * policy_validation (test arc in rehearsal), CRL DP = root DN.
 */
int hk_cert_build_validation(const struct hk_profile *p, X509 *root,
    X509_REQ *csr, int n, time_t not_before, int rehearsal, X509 **out);

struct hk_basic4;

/* 1 when x is valid at t: notBefore <= t <= notAfter (X509_cmp_time). */
int hk_cert_valid_at(const X509 *x, time_t t);
/* A certificate's or a CRL's time t as a time_t: 0, or HK_ERR_INVALID when
 * t is NULL (ASN1_TIME_to_tm would read the clock) or does not decode. */
int hk_cert_time(const ASN1_TIME *t, time_t *out);
/* 1 when a and b have the same DER encoding (byte for byte, not
 * X509_NAME_cmp's canonical form), else 0. */
int hk_cert_name_eq(const X509_NAME *a, const X509_NAME *b);

/*
 * The CRL partitions of a municipality (PROFILE.md names; docs/publish.md
 * "Issuing generations"). Each issuing generation has its own partitions,
 * since a CRL must be signed by the issuer of the certificates it covers
 * (RFC 5280 5.2.1, 6.3.3): the certificates of generation 1 name the
 * PROFILE.md partition "<issuing prefix>, OU=CRL Distribution Points,
 * CN=<romaji> CRLDP" and "<repository-url>/crl/<code>.crl"; those of a
 * later generation g "... CN=<romaji> CRLDP <g>" and ".../crl/<code>-<g>
 * .crl", so that no certificate already issued changes its names. The
 * partition id ("<code>" or "<code>-<g>") is the stem of the CRL's file in
 * the repository, of its entry cache and the key of its CRL numbers.
 * gen is 1 to HK_CERT_GEN_MAX; the URI is "" when the profile names no
 * repository URL (or, hk_err set, for a code or generation that
 * hk_cert_partition_id refuses: callers check those first). hk_cert_partition_id_parse takes an id apart (0, or
 * HK_ERR_PARSE for anything that is not one).
 */
#define HK_CERT_GEN_MAX		999
#define HK_CERT_PARTITION_ID_MAX	11	/* "431010-999" */
int hk_cert_partition_id(const char *code, int gen, char *buf, size_t len);
int hk_cert_partition_id_parse(const char *id, char code[7], int *gen);
int hk_cert_partition_dn(const struct hk_profile *p, const char *romaji,
    int gen, int rehearsal, X509_NAME **out);
void hk_cert_partition_uri(const struct hk_profile *p, const char *code,
    int gen, char *buf, size_t len);
/* Append to gns a distribution point's fullName: directoryName dn [+ URI
 * uri unless ""], alike in cRLDistributionPoints and a CRL's IDP. */
int hk_cert_add_fullname(GENERAL_NAMES *gns, const X509_NAME *dn,
    const char *uri);

/*
 * Resident's certificate (電子証明書, PROFILE.md user column) for pub,
 * issued by issuer (the online issuing CA's certificate): subject
 * "<issuing prefix>, L=<romaji>, CN=<serial hex>" (+ OU=<marker>),
 * notAfter = notBefore + user validity - 1 s exactly (hk_cert_user_not_after:
 * never cut back; HK_ERR_STATE under an issuer that ends before that),
 * keyUsage digitalSignature|nonRepudiation (critical), SKI, AKI = issuer's
 * SKI, certificatePolicies policy_user (test arc in rehearsal; critical per
 * profile) with the CPS URI qualifier, CRL DP = the municipality's
 * partition of the issuer's generation gen (+ its http URI),
 * issuerAltName = the Japanese name of the root (profile root-jname),
 * subjectAltName = the basic 4 items.
 */
/*
 * The notAfter of a resident's certificate issued at not_before under
 * issuer (issuing generation gen): not_before + user.validity-years - 1 s
 * (CPS 1-3-2: 3 years from issue; PROFILE.md: inclusive). A certificate is
 * never cut short: when that passes the issuer's notAfter, the issuer's
 * issuing window (PROFILE.md: its validity covers the window + 3 y) has
 * closed, and this is HK_ERR_STATE with a one-line message naming the
 * generation, its notAfter and the end the certificate would have.
 */
int hk_cert_user_not_after(const struct hk_profile *p, X509 *issuer, int gen,
    time_t not_before, time_t *na);

int hk_cert_build_user(const struct hk_profile *p, X509 *issuer, int gen,
    EVP_PKEY *pub, const char *romaji, const char *code,
    const struct hk_basic4 *b4, time_t not_before, int rehearsal,
    X509 **out);

/*
 * The same, many at a time: what every resident's certificate of one
 * issuing CA (issuer, generation gen) carries alike (its DN and keyUsage,
 * AKI, certificatePolicies, issuerAltName extensions) encoded once by the
 * same code, and with hk_cert_user_tmpl_partition the CRL DP of each
 * partition. hk_cert_build_user_tmpl then makes the same certificate as
 * hk_cert_build_user (which is it, with a template of its own); a
 * partition not in the template is built for the certificate. A template
 * is read-only once made: threads may build from it at once.
 */
struct hk_cert_user_tmpl;
int hk_cert_user_tmpl_new(const struct hk_profile *p, X509 *issuer, int gen,
    int rehearsal, struct hk_cert_user_tmpl **out);
int hk_cert_user_tmpl_partition(struct hk_cert_user_tmpl *t,
    const char *romaji, const char *code);
void hk_cert_user_tmpl_free(struct hk_cert_user_tmpl *t);
int hk_cert_build_user_tmpl(const struct hk_cert_user_tmpl *t, EVP_PKEY *pub,
    const char *romaji, const char *code, const struct hk_basic4 *b4,
    time_t not_before, X509 **out);

/* The policy OID a kind carries (rehearsal: the test arc; CA kinds use
 * policy_user_test, the .0.10 arc of policy_ca), or NULL for none. */
const char *hk_cert_policy(const struct hk_profile *p, enum hk_cert_kind kind,
    int rehearsal);

/*
 * hk_cert_sign_checked() for a certificate issued by issuer (the signer's
 * own self-signed certificate): first hk_lint_issued() (issuer DN, AKI =
 * issuer's SKI, validity inside issuer's), then the checked signing with
 * issuer's public key as the expected key.
 */
int hk_cert_sign_issued(X509 *cert, X509 *issuer, EVP_PKEY *key,
    const struct hk_profile *p, enum hk_cert_kind kind, int rehearsal);

/* The subjectKeyIdentifier / authorityKeyIdentifier keyIdentifier of x,
 * decoded from the extension itself (never OpenSSL's cache, which a
 * certificate still being built may hold stale), or NULL; caller frees. */
ASN1_OCTET_STRING *hk_cert_ski(X509 *x);
ASN1_OCTET_STRING *hk_cert_aki_keyid(X509 *x);

/* The message digest the profile's algorithm uses for key (sha256/384). */
const EVP_MD *hk_cert_md(const struct hk_profile *p, EVP_PKEY *key);

/* The certificate as DER and as PEM (both OPENSSL_malloc'd; the caller
 * frees them with OPENSSL_free). */
int hk_cert_encode(X509 *cert, unsigned char **der, size_t *der_len,
    char **pem, size_t *pem_len);
/* Write DER and/or PEM (either path may be NULL), mode 0644, never
 * replacing an existing file (HK_ERR_EXISTS). Both or neither: when the
 * PEM cannot be written, the DER just written is removed again. */
int hk_cert_write(X509 *cert, const char *der_path, const char *pem_path);
/*
 * Set both signature AlgorithmIdentifiers of cert (the TBSCertificate's and
 * the outer one) to what pub's private key signs with md (RSA: PKCS#1 v1.5
 * with NULL parameters, RFC 4055 5; EC: ECDSA without parameters, RFC 5758
 * 3.2), as X509_sign would: the TBSCertificate then is the one the key
 * will sign, and the signature replaces nothing else.
 */
int hk_cert_set_sigalg(X509 *cert, EVP_PKEY *pub, const EVP_MD *md);
/*
 * The unsigned certificate around a recorded TBSCertificate (its bytes
 * kept as they are, an empty signature), to be signed by pub's private key
 * with md: refused (one line) unless tbs is one DER TBSCertificate whose
 * signature field is that key's algorithm. To sign again what was recorded
 * before a crash.
 */
int hk_cert_unsigned_from_tbs(const unsigned char *tbs, size_t len,
    EVP_PKEY *pub, const EVP_MD *md, X509 **out);
/*
 * Sign the TBSCertificate bytes as they are (never a re-encoding: what is
 * signed is what was recorded): key's signature over tbs with md, verified
 * with pub, and the DER Certificate (RFC 5280 4.1.1) around tbs with pub's
 * signatureAlgorithm (the one hk_cert_set_sigalg put inside the TBS).
 * *der OPENSSL_malloc'd. HK_ERR_P11: the key did not sign; HK_ERR_VERIFY:
 * the signature does not verify with pub; HK_ERR_CRYPTO: no encoding.
 * Thread-safe.
 */
int hk_cert_sign_tbs(const unsigned char *tbs, size_t len, EVP_PKEY *key,
    EVP_PKEY *pub, const EVP_MD *md, unsigned char **der, int *der_len);
/*
 * SHA-256 of the TBSCertificate that a key like pub will sign with md, for
 * the operators to confirm before the real signature (hk_cert_set_sigalg
 * fixes the signature algorithm fields).
 */
int hk_cert_tbs_digest(X509 *cert, EVP_PKEY *pub, const EVP_MD *md,
    unsigned char d[32]);
/* Read one certificate, PEM or DER, refusing trailing data. */
int hk_cert_read(const char *path, X509 **out);
/* The same over bytes already read (PEM or DER, one certificate, nothing
 * after it); name is used in messages. */
int hk_cert_parse(const char *name, const unsigned char *buf, size_t len,
    X509 **out);
/* SHA-256 over the DER certificate. */
int hk_cert_fingerprint(X509 *cert, unsigned char out[32]);
/* Same as "AA:BB:..." (96 bytes). */
int hk_cert_fingerprint_text(X509 *cert, char out[96]);
/* Key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 (1)). */
int hk_cert_key_id(EVP_PKEY *pub, unsigned char out[20]);

#endif

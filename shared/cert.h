/*
 * cert.h - certificates of the profile (PROFILE.md): building, checked
 * signing, writing and reading.
 *
 * Only the root (NewWithNew self-signed) is built so far; the other kinds
 * are named so that lint and signing can grow into them.
 */
#ifndef HK_CERT_H
#define HK_CERT_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

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

#define HK_SERIAL_LEN	20	/* octets of our serials (158 random bits) */
#define HK_CERT_MAX	(64 * 1024)	/* bytes of a certificate file read */

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
 * Sign cert with key the careful way: lint a copy signed with a throwaway
 * software key of expected_pub's type, sign with key, require the TBS bytes
 * to equal the linted copy's, verify the signature with expected_pub, lint
 * the result. HK_ERR_LINT, HK_ERR_VERIFY or HK_ERR_CRYPTO with a detail.
 */
int hk_cert_sign_checked(X509 *cert, EVP_PKEY *key, EVP_PKEY *expected_pub,
    const struct hk_profile *p, enum hk_cert_kind kind, int rehearsal);

/* The message digest the profile's algorithm uses for key (sha256/384). */
const EVP_MD *hk_cert_md(const struct hk_profile *p, EVP_PKEY *key);

/* Write DER and/or PEM (either path may be NULL), mode 0644, never
 * replacing an existing file (HK_ERR_EXISTS). */
int hk_cert_write(X509 *cert, const char *der_path, const char *pem_path);
/* Read one certificate, PEM or DER, refusing trailing data. */
int hk_cert_read(const char *path, X509 **out);
/* SHA-256 over the DER certificate. */
int hk_cert_fingerprint(X509 *cert, unsigned char out[32]);
/* Same as "AA:BB:..." (96 bytes). */
int hk_cert_fingerprint_text(X509 *cert, char out[96]);
/* Key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 (1)). */
int hk_cert_key_id(EVP_PKEY *pub, unsigned char out[20]);

#endif

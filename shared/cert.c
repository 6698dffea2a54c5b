/* cert.c - build, sign (checked), write and read certificates. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "atomic.h"
#include "basic4.h"
#include "be.h"
#include "cert.h"
#include "clock.h"
#include "csr.h"
#include "err.h"
#include "hex.h"
#include "lint.h"
#include "name.h"
#include "profile.h"

const char *
hk_cert_kind_name(enum hk_cert_kind kind)
{
	switch (kind) {
	case HK_CERT_ROOT:	return "root";
	case HK_CERT_LINK:	return "link";
	case HK_CERT_CROSS:	return "cross";
	case HK_CERT_ISSUING:	return "issuing";
	case HK_CERT_USER:	return "user";
	case HK_CERT_OCSP:	return "ocsp";
	case HK_CERT_VALIDATION: return "validation";
	}
	return "?";
}

int
hk_cert_key_id(EVP_PKEY *pub, unsigned char out[20])
{
	X509_PUBKEY *xpk = NULL;
	const unsigned char *bits;
	int len, r = HK_ERR_CRYPTO;

	if (X509_PUBKEY_set(&xpk, pub) != 1 ||
	    X509_PUBKEY_get0_param(NULL, &bits, &len, NULL, xpk) != 1 ||
	    len <= 0)
		goto out;
	/* RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits */
	if (EVP_Digest(bits, (size_t)len, out, NULL, EVP_sha1(), NULL) != 1)
		goto out;
	r = 0;
out:
	X509_PUBKEY_free(xpk);
	return r;
}

const EVP_MD *
hk_cert_md(const struct hk_profile *p, EVP_PKEY *key)
{
	(void)p;
	/* The profile pairs P-384 with ecdsa-with-SHA384 and RSA keys with
	 * sha256WithRSAEncryption (profile.c refuses other pairs). */
	if (EVP_PKEY_is_a(key, "EC"))
		return EVP_sha384();
	return EVP_sha256();
}

/* 0 if pub has the type and size alg names; else a detail. */
static int
key_matches(EVP_PKEY *pub, enum hk_key_alg alg, const char *what)
{
	int bits = EVP_PKEY_get_bits(pub);

	if (hk_key_alg_matches(pub, alg))
		return 0;
	hk_err_set("%s: the key is %s-%d but the profile asks %s", what,
	    EVP_PKEY_is_a(pub, "RSA") ? "RSA" :
	    EVP_PKEY_is_a(pub, "EC") ? "EC" : "other", bits,
	    hk_key_alg_name(alg));
	return HK_ERR_INVALID;
}

int
hk_cert_serial_make(unsigned char s[HK_SERIAL_LEN], time_t at)
{
	uint32_t m = at > 0 ? (uint32_t)(at / 60 > 0x3fffffff ? 0x3fffffff :
	    at / 60) : 0;

	/* 0b01 and the Unix minute in 30 bits (until the year 4011), then
	 * 128 random bits (PROFILE.md asks at least 127): positive, exactly
	 * 20 octets, and ascending with time, so the store's serial indexes
	 * grow at one end instead of taking random leaves (docs/store.md). */
	hk_be_put32(s, m | 0x40000000u);
	if (RAND_bytes(s + 4, HK_SERIAL_LEN - 4) != 1) {
		hk_err_set("serial: the random generator failed");
		return HK_ERR_CRYPTO;
	}
	return 0;
}

static int
random_serial(X509 *x, time_t at)
{
	unsigned char s[HK_SERIAL_LEN];
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;
	int r;

	if ((r = hk_cert_serial_make(s, at)) != 0)
		return r;
	r = HK_ERR_CRYPTO;
	if ((bn = BN_bin2bn(s, sizeof(s), NULL)) == NULL ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    X509_set_serialNumber(x, ai) != 1)
		goto out;
	r = 0;
out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

/* A directoryName of name, which it takes over (freed on failure): no
 * copy, which costs an encoding and a decoding of the name. */
static int
add_dirname0(GENERAL_NAMES *gns, X509_NAME *name)
{
	GENERAL_NAME *gn;

	if ((gn = GENERAL_NAME_new()) == NULL) {
		X509_NAME_free(name);
		return HK_ERR_ALLOC;
	}
	GENERAL_NAME_set0_value(gn, GEN_DIRNAME, name);
	if (!sk_GENERAL_NAME_push(gns, gn)) {
		GENERAL_NAME_free(gn);
		return HK_ERR_ALLOC;
	}
	return 0;
}

/* subjectAltName or issuerAltName (nid): one directoryName, name taken
 * over (freed in any case). */
static int
add_altname0(X509 *x, int nid, X509_NAME *name)
{
	GENERAL_NAMES *gns;
	int r = HK_ERR_CRYPTO;

	if ((gns = GENERAL_NAMES_new()) == NULL) {
		X509_NAME_free(name);
		return HK_ERR_ALLOC;
	}
	if (add_dirname0(gns, name) == 0 &&
	    X509_add1_ext_i2d(x, nid, gns, 0, X509V3_ADD_DEFAULT) == 1)
		r = 0;
	GENERAL_NAMES_free(gns);
	return r;
}

static int
add_uri(GENERAL_NAMES *gns, const char *uri)
{
	GENERAL_NAME *gn;
	ASN1_IA5STRING *s;

	if ((gn = GENERAL_NAME_new()) == NULL)
		return HK_ERR_ALLOC;
	if ((s = ASN1_IA5STRING_new()) == NULL ||
	    ASN1_STRING_set(s, uri, (int)strlen(uri)) != 1) {
		ASN1_IA5STRING_free(s);
		GENERAL_NAME_free(gn);
		return HK_ERR_ALLOC;
	}
	GENERAL_NAME_set0_value(gn, GEN_URI, s);
	if (!sk_GENERAL_NAME_push(gns, gn)) {
		GENERAL_NAME_free(gn);
		return HK_ERR_ALLOC;
	}
	return 0;
}

/* A fullName: dn [+ uri when not ""]; dn taken over (freed in any case). */
static int
add_fullname0(GENERAL_NAMES *gns, X509_NAME *dn, const char *uri)
{
	int r;

	if ((r = add_dirname0(gns, dn)) == 0 && *uri != '\0')
		r = add_uri(gns, uri);
	return r;
}

int
hk_cert_add_fullname(GENERAL_NAMES *gns, const X509_NAME *dn,
    const char *uri)
{
	X509_NAME *dup;

	if ((dup = X509_NAME_dup(dn)) == NULL)
		return HK_ERR_ALLOC;
	return add_fullname0(gns, dup, uri);
}

/* cRLDistributionPoints: one point, fullName = dn [+ uri when not ""];
 * dn taken over (freed in any case). */
static int
add_dp0(X509 *x, X509_NAME *dn, const char *uri)
{
	CRL_DIST_POINTS *dps = NULL;
	DIST_POINT *dp = NULL;
	int r = HK_ERR_ALLOC;

	if ((dps = sk_DIST_POINT_new_null()) == NULL ||
	    (dp = DIST_POINT_new()) == NULL ||
	    (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL) {
		X509_NAME_free(dn);
		goto out;
	}
	dp->distpoint->type = 0;	/* fullName */
	if ((r = add_fullname0(dp->distpoint->name.fullname, dn, uri)) != 0)
		goto out;
	r = HK_ERR_ALLOC;
	if (!sk_DIST_POINT_push(dps, dp))
		goto out;
	dp = NULL;
	r = HK_ERR_CRYPTO;
	if (X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	DIST_POINT_free(dp);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return r;
}

static int
add_dp(X509 *x, const X509_NAME *dn, const char *uri)
{
	X509_NAME *dup;

	if ((dup = X509_NAME_dup(dn)) == NULL)
		return HK_ERR_ALLOC;
	return add_dp0(x, dup, uri);
}

/* The CRL DP of root-issued certificates: the root DN where the ARL lives
 * [+ <repository>/arl.crl]. */
static int
add_crldp(X509 *x, const X509_NAME *dn, const char *repo)
{
	char uri[600] = "";

	if (repo != NULL && *repo != '\0')
		snprintf(uri, sizeof(uri), "%s/arl.crl", repo);
	return add_dp(x, dn, uri);
}

int
hk_cert_sign_checked(X509 *cert, EVP_PKEY *key, EVP_PKEY *expected_pub,
    const struct hk_profile *p, enum hk_cert_kind kind, int rehearsal)
{
	const char *kn = hk_cert_kind_name(kind);
	X509 *copy = NULL, *final = NULL;
	unsigned char *tbs1 = NULL, *tbs2 = NULL, *der = NULL;
	const unsigned char *pp;
	const EVP_MD *md;
	int n1, n2, nd, r = HK_ERR_CRYPTO;

	hk_err_clear();
	md = hk_cert_md(p, expected_pub);
	/* (a) lint a copy with the signer's algorithm fields, unsigned */
	if (hk_cert_set_sigalg(cert, expected_pub, md) != 0 ||
	    (copy = X509_dup(cert)) == NULL) {
		hk_err_set("%s: cannot fix the TBSCertificate before signing",
		    kn);
		goto out;
	}
	if ((r = hk_lint_cert(copy, p, kind, rehearsal)) != 0) {
		hk_err_set("before signing: %s", hk_err_msg());
		r = HK_ERR_LINT;
		goto out;
	}
	r = HK_ERR_CRYPTO;
	if ((n1 = i2d_re_X509_tbs(copy, &tbs1)) <= 0) {
		hk_err_set("%s: cannot encode the linted TBS", kn);
		goto out;
	}
	/* (b) sign with the real key (generic path: works for PKCS#11) */
	if (X509_sign(cert, key, md) <= 0) {
		hk_err_set("%s: signing failed", kn);
		goto out;
	}
	/* (c) what was signed is byte for byte what was linted */
	if ((n2 = i2d_re_X509_tbs(cert, &tbs2)) <= 0) {
		hk_err_set("%s: cannot encode the signed TBS", kn);
		goto out;
	}
	if (n1 != n2 || memcmp(tbs1, tbs2, (size_t)n1) != 0) {
		hk_err_set("%s: the signed TBSCertificate differs from the "
		    "linted one", kn);
		r = HK_ERR_LINT;
		goto out;
	}
	/* (d) verify with the expected public key; X509_verify() returns 1
	 * on success and 0 or -1 otherwise: compare with 1. */
	r = HK_ERR_VERIFY;
	if (kind == HK_CERT_ROOT &&
	    EVP_PKEY_eq(X509_get0_pubkey(cert), expected_pub) != 1) {
		hk_err_set("%s: the certificate's key is not the expected "
		    "key", kn);
		goto out;
	}
	if (kind != HK_CERT_ROOT) {
		ASN1_OCTET_STRING *aki = hk_cert_aki_keyid(cert);
		unsigned char kid[20];
		int ok;

		ok = hk_cert_key_id(expected_pub, kid) == 0 && aki != NULL &&
		    ASN1_STRING_length(aki) == 20 &&
		    memcmp(ASN1_STRING_get0_data(aki), kid, 20) == 0;
		ASN1_OCTET_STRING_free(aki);
		if (!ok) {
			hk_err_set("%s: authorityKeyIdentifier does not name "
			    "the signing key", kn);
			goto out;
		}
	}
	if (X509_verify(cert, expected_pub) != 1) {
		hk_err_set("%s: signature does not verify with the expected "
		    "public key", kn);
		goto out;
	}
	/* (e) lint the final certificate as a relying party reads it */
	r = HK_ERR_CRYPTO;
	if ((nd = i2d_X509(cert, &der)) <= 0) {
		hk_err_set("%s: cannot encode the certificate", kn);
		goto out;
	}
	pp = der;
	if ((final = d2i_X509(NULL, &pp, nd)) == NULL || pp != der + nd) {
		hk_err_set("%s: the signed certificate does not parse back",
		    kn);
		goto out;
	}
	if ((r = hk_lint_cert(final, p, kind, rehearsal)) != 0) {
		hk_err_set("after signing: %s", hk_err_msg());
		r = HK_ERR_LINT;
		goto out;
	}
	r = 0;
out:
	if (r == HK_ERR_CRYPTO)
		hk_err_add_openssl();
	else
		ERR_clear_error();
	X509_free(copy);
	X509_free(final);
	OPENSSL_free(tbs1);
	OPENSSL_free(tbs2);
	OPENSSL_free(der);
	return r;
}

int
hk_cert_encode(X509 *cert, unsigned char **der, size_t *der_len,
    char **pem, size_t *pem_len)
{
	BIO *bio = NULL;
	char *p;
	long pl;
	int n;

	*der = NULL;
	*pem = NULL;
	if ((n = i2d_X509(cert, der)) <= 0 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(bio, cert) != 1 ||
	    (pl = BIO_get_mem_data(bio, &p)) <= 0 ||
	    (*pem = OPENSSL_malloc((size_t)pl)) == NULL) {
		hk_err_set("cannot encode the certificate");
		hk_err_add_openssl();
		BIO_free(bio);
		OPENSSL_free(*der);
		*der = NULL;
		return HK_ERR_CRYPTO;
	}
	memcpy(*pem, p, (size_t)pl);
	*der_len = (size_t)n;
	*pem_len = (size_t)pl;
	BIO_free(bio);
	return 0;
}

int
hk_cert_write(X509 *cert, const char *der_path, const char *pem_path)
{
	unsigned char *der;
	char *pem;
	size_t dl, pl;
	int r;

	if ((r = hk_cert_encode(cert, &der, &dl, &pem, &pl)) != 0)
		return r;
	r = hk_file_write_pair(der_path, der, dl, pem_path, pem, pl);
	OPENSSL_free(der);
	OPENSSL_free(pem);
	return r;
}

int
hk_cert_parse(const char *name, const unsigned char *buf, size_t len,
    X509 **out)
{
	const unsigned char *pp;
	X509 *x = NULL, *extra = NULL;
	BIO *bio = NULL;
	int r;

	*out = NULL;
	r = HK_ERR_PARSE;
	if (len > HK_CERT_MAX || len > INT_MAX) {
		hk_err_set("%s: larger than a certificate may be", name);
		return HK_ERR_INVALID;
	}
	if (len > 10 && memmem(buf, len, "-----BEGIN CERTIFICATE-----",
	    27) != NULL) {
		if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
			r = HK_ERR_ALLOC;
			goto out;
		}
		if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
			hk_err_set("%s: not a PEM certificate", name);
			goto out;
		}
		if ((extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			hk_err_set("%s: more than one certificate", name);
			goto out;
		}
	} else {
		pp = buf;
		if ((x = d2i_X509(NULL, &pp, (long)len)) == NULL) {
			hk_err_set("%s: not a DER certificate", name);
			goto out;
		}
		if (pp != buf + len) {
			hk_err_set("%s: trailing bytes after the certificate",
			    name);
			goto out;
		}
	}
	*out = x;
	x = NULL;
	r = 0;
out:
	ERR_clear_error();
	X509_free(x);
	X509_free(extra);
	BIO_free(bio);
	return r;
}

int
hk_cert_read(const char *path, X509 **out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = hk_file_read(path, HK_CERT_MAX, &buf, &len)) != 0) {
		if (*hk_err_msg() == '\0')
			hk_err_set("%s: %s", path, hk_strerror(r));
		return r;
	}
	r = hk_cert_parse(path, buf, len, out);
	free(buf);
	return r;
}

int
hk_cert_fingerprint(X509 *cert, unsigned char out[32])
{
	unsigned int len = 0;

	if (X509_digest(cert, EVP_sha256(), out, &len) != 1 || len != 32)
		return HK_ERR_CRYPTO;
	return 0;
}

int
hk_cert_fingerprint_text(X509 *cert, char out[96])
{
	unsigned char d[32];
	int r;

	if ((r = hk_cert_fingerprint(cert, d)) != 0)
		return r;
	hk_fingerprint_colons(d, out);
	return 0;
}

/* ---- certificates the root issues (link, cross, issuing, OCSP, VA) ---- */

ASN1_OCTET_STRING *
hk_cert_ski(X509 *x)
{
	ASN1_OCTET_STRING *ski;

	ski = X509_get_ext_d2i(x, NID_subject_key_identifier, NULL, NULL);
	ERR_clear_error();
	return ski;
}

ASN1_OCTET_STRING *
hk_cert_aki_keyid(X509 *x)
{
	AUTHORITY_KEYID *aki;
	ASN1_OCTET_STRING *id = NULL;

	aki = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
	if (aki != NULL) {
		id = aki->keyid;
		aki->keyid = NULL;
	}
	AUTHORITY_KEYID_free(aki);
	ERR_clear_error();
	return id;
}

/* Everything a builder needs about its signer's certificate. */
struct signer {
	const X509_NAME *dn;		/* issuer DN = signer's subject */
	ASN1_OCTET_STRING *ski;		/* signer's SKI: our AKI keyid;
					 * freed by signer_free */
	time_t not_after;		/* signer's notAfter */
};

static int
signer_get(X509 *issuer, const char *kn, struct signer *s)
{
	memset(s, 0, sizeof(*s));
	s->dn = X509_get_subject_name(issuer);
	s->ski = hk_cert_ski(issuer);
	if (s->ski == NULL || ASN1_STRING_length(s->ski) <= 0) {
		hk_err_set("%s: the issuing root certificate has no "
		    "subjectKeyIdentifier (RFC 5280 4.2.1.1)", kn);
		return HK_ERR_INVALID;
	}
	if (hk_cert_time(X509_get0_notAfter(issuer), &s->not_after) != 0) {
		hk_err_set("%s: the issuing root's notAfter does not decode",
		    kn);
		return HK_ERR_INVALID;
	}
	return 0;
}

static void
signer_free(struct signer *s)
{
	ASN1_OCTET_STRING_free(s->ski);
	s->ski = NULL;
}

static int
set_times(X509 *x, time_t nb, time_t na)
{
	ASN1_TIME *t = NULL;
	int r = HK_ERR_CRYPTO;

	/* ASN1_TIME_set picks UTCTime for 1950-2049 and GeneralizedTime
	 * otherwise, as RFC 5280 4.1.2.5 asks. */
	if ((t = ASN1_TIME_set(NULL, nb)) == NULL ||
	    X509_set1_notBefore(x, t) != 1)
		goto out;
	ASN1_TIME_free(t);
	if ((t = ASN1_TIME_set(NULL, na)) == NULL ||
	    X509_set1_notAfter(x, t) != 1)
		goto out;
	r = 0;
out:
	ASN1_TIME_free(t);
	return r;
}

static int
add_bc(X509 *x, int ca, int path_len)
{
	BASIC_CONSTRAINTS *bc = NULL;
	int r = HK_ERR_CRYPTO;

	if ((bc = BASIC_CONSTRAINTS_new()) == NULL)
		return HK_ERR_ALLOC;
	bc->ca = ca ? 0xff : 0;
	if (path_len >= 0 && ((bc->pathlen = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set(bc->pathlen, path_len) != 1))
		goto out;
	if (X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

/* keyUsage (critical) with the named bits set. */
static int
add_ku(X509 *x, int b0, int b1)
{
	ASN1_BIT_STRING *ku = NULL;
	int r = HK_ERR_CRYPTO;

	if ((ku = ASN1_BIT_STRING_new()) == NULL ||
	    ASN1_BIT_STRING_set_bit(ku, b0, 1) != 1 ||
	    (b1 >= 0 && ASN1_BIT_STRING_set_bit(ku, b1, 1) != 1) ||
	    X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	ASN1_BIT_STRING_free(ku);
	return r;
}

static int
add_ski(X509 *x, EVP_PKEY *pub)
{
	ASN1_OCTET_STRING *ski = NULL;
	unsigned char kid[20];
	int r;

	if ((r = hk_cert_key_id(pub, kid)) != 0)
		return r;
	r = HK_ERR_CRYPTO;
	if ((ski = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(ski, kid, sizeof(kid)) != 1 ||
	    X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	ASN1_OCTET_STRING_free(ski);
	return r;
}

/* authorityKeyIdentifier: keyIdentifier only (RFC 5280 4.2.1.1). */
static int
add_aki(X509 *x, const ASN1_OCTET_STRING *keyid)
{
	AUTHORITY_KEYID *aki = NULL;
	int r = HK_ERR_CRYPTO;

	if ((aki = AUTHORITY_KEYID_new()) == NULL ||
	    (aki->keyid = ASN1_OCTET_STRING_dup(keyid)) == NULL ||
	    X509_add1_ext_i2d(x, NID_authority_key_identifier, aki, 0,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	AUTHORITY_KEYID_free(aki);
	return r;
}

/* certificatePolicies: one policy, with a CPS pointer qualifier when
 * cps_uri is not NULL (else none). */
static int
add_policy(X509 *x, const char *oid, const char *cps_uri, int critical)
{
	CERTIFICATEPOLICIES *cps = NULL;
	POLICYINFO *pi = NULL;
	POLICYQUALINFO *q = NULL;
	int r = HK_ERR_CRYPTO;

	if ((cps = sk_POLICYINFO_new_null()) == NULL ||
	    (pi = POLICYINFO_new()) == NULL)
		goto out;
	ASN1_OBJECT_free(pi->policyid);
	if ((pi->policyid = OBJ_txt2obj(oid, 1)) == NULL)
		goto out;
	if (cps_uri != NULL) {
		if ((pi->qualifiers = sk_POLICYQUALINFO_new_null()) == NULL ||
		    (q = POLICYQUALINFO_new()) == NULL)
			goto out;
		q->pqualid = OBJ_nid2obj(NID_id_qt_cps);
		if ((q->d.cpsuri = ASN1_IA5STRING_new()) == NULL ||
		    ASN1_STRING_set(q->d.cpsuri, cps_uri,
		    (int)strlen(cps_uri)) != 1 ||
		    !sk_POLICYQUALINFO_push(pi->qualifiers, q))
			goto out;
		q = NULL;
	}
	if (!sk_POLICYINFO_push(cps, pi))
		goto out;
	pi = NULL;
	if (X509_add1_ext_i2d(x, NID_certificate_policies, cps, critical,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	POLICYQUALINFO_free(q);
	POLICYINFO_free(pi);
	sk_POLICYINFO_pop_free(cps, POLICYINFO_free);
	return r;
}

static int
add_policy_mapping(X509 *x, const char *issuer_domain,
    const char *subject_domain, int critical)
{
	POLICY_MAPPINGS *pms = NULL;
	POLICY_MAPPING *pm = NULL;
	int r = HK_ERR_CRYPTO;

	if ((pms = sk_POLICY_MAPPING_new_null()) == NULL ||
	    (pm = POLICY_MAPPING_new()) == NULL)
		goto out;
	if ((pm->issuerDomainPolicy = OBJ_txt2obj(issuer_domain, 1)) == NULL ||
	    (pm->subjectDomainPolicy = OBJ_txt2obj(subject_domain, 1)) ==
	    NULL || !sk_POLICY_MAPPING_push(pms, pm))
		goto out;
	pm = NULL;
	if (X509_add1_ext_i2d(x, NID_policy_mappings, pms, critical,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	POLICY_MAPPING_free(pm);
	sk_POLICY_MAPPING_pop_free(pms, POLICY_MAPPING_free);
	return r;
}

/* extendedKeyUsage id-kp-OCSPSigning and id-pkix-ocsp-nocheck (NULL). */
static int
add_ocsp_exts(X509 *x)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	ASN1_OBJECT *o = NULL;
	ASN1_NULL *nul = NULL;
	int r = HK_ERR_CRYPTO;

	if ((eku = sk_ASN1_OBJECT_new_null()) == NULL ||
	    (o = OBJ_nid2obj(NID_OCSP_sign)) == NULL ||
	    !sk_ASN1_OBJECT_push(eku, o))
		goto out;
	if (X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	/* RFC 6960 4.2.2.2.1: the value is NULL, non-critical */
	if ((nul = ASN1_NULL_new()) == NULL ||
	    X509_add1_ext_i2d(x, NID_id_pkix_OCSP_noCheck, nul, 0,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	sk_ASN1_OBJECT_free(eku);	/* OBJ_nid2obj objects are static */
	ASN1_NULL_free(nul);
	return r;
}

const char *
hk_cert_policy(const struct hk_profile *p, enum hk_cert_kind kind,
    int rehearsal)
{
	switch (kind) {
	case HK_CERT_ISSUING:
	case HK_CERT_CROSS:
		return rehearsal ? p->policy_user_test : p->policy_ca;
	case HK_CERT_OCSP:
		return rehearsal ? p->policy_ocsp_test : p->policy_ocsp;
	case HK_CERT_VALIDATION:
		return rehearsal ? p->policy_validation_test :
		    p->policy_validation;
	case HK_CERT_USER:
		return rehearsal ? p->policy_user_test : p->policy_user;
	case HK_CERT_ROOT:
	case HK_CERT_LINK:
		break;
	}
	return NULL;
}

/* A new v3 certificate with a random serial, names, times and key (no
 * subject when NULL: the caller sets it). */
static int
start_cert(const X509_NAME *subject, const X509_NAME *issuer, time_t nb,
    time_t na, EVP_PKEY *pub, X509 **out)
{
	X509 *x = NULL;
	int r = HK_ERR_CRYPTO;

	*out = NULL;
	if ((x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1)
		goto out;
	if ((r = random_serial(x, nb)) != 0)
		goto out;
	r = HK_ERR_CRYPTO;
	if ((subject != NULL && X509_set_subject_name(x, subject) != 1) ||
	    X509_set_issuer_name(x, issuer) != 1 ||
	    X509_set_pubkey(x, pub) != 1)
		goto out;
	if ((r = set_times(x, nb, na)) != 0)
		goto out;
	*out = x;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	return r;
}

/* "<prefix>, <rdn>" parsed, + OU=<marker> in rehearsal. */
static int
kind_name(const struct hk_profile *p, const char *rdn, int rehearsal,
    X509_NAME **out)
{
	char dn[HK_PROFILE_DN_MAX + 128];

	snprintf(dn, sizeof(dn), "%s, %s", p->issuing_subject_prefix, rdn);
	return hk_name_build(dn, rehearsal ? p->rehearsal_marker : NULL, out);
}

static int
not_before_ok(time_t nb, const char *kn)
{
	if (nb < -631152000L) {		/* before 1950 */
		hk_err_set("%s: notBefore before 1950", kn);
		return HK_ERR_INVALID;
	}
	return 0;
}

/* A builder's failure r inside OpenSSL (or out of memory), named for the
 * kind kn with OpenSSL's errors; any other failure has said its own. */
static void
build_failed(int r, const char *kn)
{
	if (r == HK_ERR_CRYPTO || r == HK_ERR_ALLOC) {
		hk_err_set("%s: cannot build the certificate", kn);
		hk_err_add_openssl();
	}
}

int
hk_cert_build_root(const struct hk_profile *p, EVP_PKEY *pub,
    time_t not_before, int rehearsal, X509 **out)
{
	const char *marker = rehearsal ? p->rehearsal_marker : NULL;
	X509_NAME *subject = NULL, *jname = NULL;
	X509 *x = NULL;
	time_t na;
	int r;

	*out = NULL;
	if ((r = not_before_ok(not_before, "root")) != 0 ||
	    (r = key_matches(pub, p->root_key, "root")) != 0)
		return r;
	if ((r = hk_name_build(p->root_subject, marker, &subject)) != 0 ||
	    (r = hk_name_build(p->root_jname, marker, &jname)) != 0)
		goto out;
	r = HK_ERR_INVALID;
	if ((na = hk_time_add_years(not_before, p->root_validity_years)) ==
	    (time_t)-1)
		goto out;
	/* inclusive (PROFILE.md); no pathLenConstraint on the root */
	if ((r = start_cert(subject, subject, not_before, na - 1, pub,
	    &x)) != 0 ||
	    (r = add_bc(x, 1, HK_CERT_PATHLEN_NONE)) != 0 ||
	    (r = add_ku(x, 5, 6)) != 0 ||	/* keyCertSign, cRLSign */
	    (r = add_ski(x, pub)) != 0)
		goto out;
	r = add_altname0(x, NID_subject_alt_name, jname);
	jname = NULL;
	if (r != 0 || (r = add_crldp(x, subject, p->repository_url)) != 0)
		goto out;
	*out = x;
	x = NULL;
	r = 0;
out:
	build_failed(r, "root");
	X509_free(x);
	X509_NAME_free(subject);
	X509_NAME_free(jname);
	return r;
}

/* The shared tail of an end-entity or CA certificate the root issues. */
struct issued {
	enum hk_cert_kind kind;		/* what is built */
	const X509_NAME *subject;	/* subject DN */
	EVP_PKEY *pub;			/* subject key */
	time_t nb, na;			/* validity (inclusive) */
	int ca;				/* 1: basicConstraints cA */
	int path_len;			/* pathLen, or HK_CERT_PATHLEN_NONE */
	int ku0, ku1;			/* keyUsage bits (ku1 -1: none) */
	const char *policy;		/* one policy OID, or NULL */
	const char *mapped;		/* policyMappings target, or NULL */
	int crldp;			/* 1: CRL DP naming the root DN */
};

static int
build_issued(const struct hk_profile *p, X509 *root, const struct issued *b,
    X509 **out)
{
	const char *kn = hk_cert_kind_name(b->kind);
	struct signer s;
	X509 *x = NULL;
	int r;

	*out = NULL;
	if ((r = signer_get(root, kn, &s)) != 0)
		goto out;
	if ((r = start_cert(b->subject, s.dn, b->nb, b->na, b->pub, &x)) != 0)
		goto out;
	if (b->ca)
		r = add_bc(x, 1, b->path_len);
	if (r != 0 || (r = add_ku(x, b->ku0, b->ku1)) != 0)
		goto out;
	if (b->kind == HK_CERT_OCSP && (r = add_ocsp_exts(x)) != 0)
		goto out;
	if ((r = add_ski(x, b->pub)) != 0 || (r = add_aki(x, s.ski)) != 0)
		goto out;
	if (b->policy != NULL && (r = add_policy(x, b->policy, NULL,
	    0)) != 0)
		goto out;
	if (b->mapped != NULL && (r = add_policy_mapping(x, b->policy,
	    b->mapped, p->policy_mappings_critical)) != 0)
		goto out;
	if (b->crldp && (r = add_crldp(x, s.dn, p->repository_url)) != 0)
		goto out;
	*out = x;
	x = NULL;
	r = 0;
out:
	build_failed(r, kn);
	signer_free(&s);
	X509_free(x);
	return r;
}

/* notBefore + years - 1 s, cut back to the signer's notAfter. */
static int
capped_end(X509 *root, time_t nb, int years, const char *kn, time_t *na)
{
	time_t end, rna;

	if ((end = hk_time_add_years(nb, years)) == (time_t)-1)
		return HK_ERR_INVALID;
	end -= 1;
	if (hk_cert_time(X509_get0_notAfter(root), &rna) != 0) {
		hk_err_set("%s: the issuing root's notAfter does not decode",
		    kn);
		return HK_ERR_INVALID;
	}
	if (nb >= rna) {
		hk_err_set("%s: notBefore is not inside the issuing root's "
		    "validity", kn);
		return HK_ERR_INVALID;
	}
	*na = end < rna ? end : rna;
	return 0;
}

/* An issuing CA (cert.h), fresh or renewed: its notAfter also cut back
 * to *end unless end is NULL. */
static int
build_issuing(const struct hk_profile *p, X509 *root,
    const X509_NAME *subject, EVP_PKEY *pub, time_t nb, const time_t *end,
    int rehearsal, X509 **out)
{
	struct issued b;
	int r;

	memset(&b, 0, sizeof(b));
	b.kind = HK_CERT_ISSUING;
	b.subject = subject;
	b.pub = pub;
	b.nb = nb;
	if ((r = capped_end(root, nb, p->issuing_validity_years, "issuing",
	    &b.na)) != 0)
		return r;
	if (end != NULL && *end < b.na)
		b.na = *end;
	b.ca = 1;
	b.path_len = 0;
	b.ku0 = 5;			/* keyCertSign */
	b.ku1 = 6;			/* cRLSign */
	b.policy = hk_cert_policy(p, HK_CERT_ISSUING, rehearsal);
	b.crldp = 1;
	return build_issued(p, root, &b, out);
}

int
hk_cert_build_issuing(const struct hk_profile *p, X509 *root,
    X509_REQ *csr, int generation, time_t not_before, int rehearsal,
    X509 **out)
{
	X509_NAME *dn = NULL;
	char rdn[64];
	int r;

	*out = NULL;
	if (generation < 1 || generation > 999) {
		hk_err_set("issuing: generation %d is not 1..999", generation);
		return HK_ERR_INVALID;
	}
	if ((r = not_before_ok(not_before, "issuing")) != 0)
		return r;
	snprintf(rdn, sizeof(rdn), "OU=Issuing CA %d", generation);
	if ((r = kind_name(p, rdn, rehearsal, &dn)) != 0)
		goto out;
	if ((r = hk_csr_check(csr, "issuing CA request", dn, &p->issuing_key,
	    0)) != 0)
		goto out;
	r = build_issuing(p, root, dn, X509_REQ_get0_pubkey(csr), not_before,
	    NULL, rehearsal, out);
out:
	X509_NAME_free(dn);
	return r;
}

int
hk_cert_build_issuing_renew(const struct hk_profile *p, X509 *root,
    X509 *old, time_t not_before, int rehearsal, X509 **out)
{
	const X509_NAME *dn;
	BASIC_CONSTRAINTS *bc;
	EVP_PKEY *pub;
	time_t old_na;
	char t[32];
	int r, ca;

	*out = NULL;
	if ((r = not_before_ok(not_before, "issuing")) != 0)
		return r;
	if (old == NULL || (dn = X509_get_subject_name(old)) == NULL ||
	    (pub = X509_get0_pubkey(old)) == NULL) {
		hk_err_set("issuing: the certificate to renew has no subject "
		    "or key that decodes");
		return HK_ERR_INVALID;
	}
	bc = X509_get_ext_d2i(old, NID_basic_constraints, NULL, NULL);
	ca = bc != NULL && bc->ca;
	BASIC_CONSTRAINTS_free(bc);
	if (!ca) {
		hk_err_set("issuing: the certificate to renew is not a CA "
		    "certificate");
		return HK_ERR_INVALID;
	}
	if ((r = key_matches(pub, p->issuing_key, "issuing")) != 0)
		return r;
	/* The old notAfter is kept (CPS 4-13: the same issuing CA under
	 * the new key, not a longer-lived one), cut back to the new root's. */
	if (hk_cert_time(X509_get0_notAfter(old), &old_na) != 0) {
		hk_err_set("issuing: the certificate to renew has a notAfter "
		    "that does not decode");
		return HK_ERR_INVALID;
	}
	if (old_na < not_before) {
		hk_time_format(old_na, t, sizeof(t));
		hk_err_set("issuing: the certificate to renew expired at %s: "
		    "an expired issuing CA is not re-certified (CPS 4-13)", t);
		return HK_ERR_INVALID;
	}
	return build_issuing(p, root, dn, pub, not_before, &old_na, rehearsal,
	    out);
}

int
hk_cert_build_link(const struct hk_profile *p, enum hk_link_dir dir,
    X509 *old_root, X509 *new_root, time_t key_generated, int rehearsal,
    X509 **out)
{
	X509 *subject = dir == HK_LINK_OLD_WITH_NEW ? old_root : new_root;
	X509 *signer = dir == HK_LINK_OLD_WITH_NEW ? new_root : old_root;
	const char *marker = rehearsal ? p->rehearsal_marker : NULL;
	X509_NAME *dn = NULL;
	EVP_PKEY *pub;
	struct signer s;
	time_t na;
	X509 *x = NULL;
	int r;

	*out = NULL;
	if ((r = not_before_ok(key_generated, "link")) != 0)
		return r;
	if ((pub = X509_get0_pubkey(subject)) == NULL ||
	    X509_get0_pubkey(signer) == NULL) {
		hk_err_set("link: a root certificate's key does not decode");
		return HK_ERR_INVALID;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(old_root),
	    X509_get0_pubkey(new_root)) == 1) {
		hk_err_set("link: RFC 4210 4.4.1: the old and new root keys "
		    "are the same key");
		return HK_ERR_INVALID;
	}
	if ((r = key_matches(pub, p->root_key, "link")) != 0)
		return r;
	if ((r = signer_get(signer, "link", &s)) != 0)
		goto out;
	/* CPS 7-1-4: both end with the old self-signed certificate */
	r = HK_ERR_INVALID;
	if (hk_cert_time(X509_get0_notAfter(old_root), &na) != 0) {
		hk_err_set("link: the old root's notAfter does not decode");
		goto out;
	}
	if (key_generated >= na) {
		hk_err_set("link: CPS 7-1-4: the key was generated after the "
		    "old root's notAfter");
		goto out;
	}
	if ((r = hk_name_build(p->root_subject, marker, &dn)) != 0)
		goto out;
	if ((r = start_cert(dn, dn, key_generated, na, pub, &x)) != 0 ||
	    (r = add_bc(x, 1, HK_CERT_PATHLEN_NONE)) != 0 ||
	    (r = add_ku(x, 5, 6)) != 0 ||
	    (r = add_ski(x, pub)) != 0 ||
	    (r = add_aki(x, s.ski)) != 0 ||
	    (r = add_crldp(x, dn, p->repository_url)) != 0)
		goto out;
	*out = x;
	x = NULL;
	r = 0;
out:
	build_failed(r, "link");
	signer_free(&s);
	X509_free(x);
	X509_NAME_free(dn);
	return r;
}

int
hk_cert_build_cross(const struct hk_profile *p, X509 *root,
    X509_REQ *csr, const char *expected_dn, int path_len,
    const char *mapped_policy, time_t not_before, int rehearsal, X509 **out)
{
	struct issued b;
	X509_NAME *dn = NULL, *rootdn = NULL;
	time_t rna;
	int r;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	if ((r = not_before_ok(not_before, "cross")) != 0)
		return r;
	if (path_len < HK_CERT_PATHLEN_NONE || path_len > 16) {
		hk_err_set("cross: pathLenConstraint %d is not -1..16",
		    path_len);
		return HK_ERR_INVALID;
	}
	if (mapped_policy != NULL && (hk_oid_check(mapped_policy) != 0 ||
	    strcmp(mapped_policy, "2.5.29.32.0") == 0)) {
		hk_err_set("cross: RFC 5280 4.2.1.5: subjectDomainPolicy \"%s\" "
		    "must be a policy OID other than anyPolicy", mapped_policy);
		return HK_ERR_INVALID;
	}
	if (expected_dn != NULL && (r = hk_name_parse(expected_dn, &dn)) != 0)
		return r;
	if ((r = hk_csr_check(csr, "bridge CA request", dn, NULL, 0)) != 0)
		goto out;
	b.subject = X509_REQ_get_subject_name(csr);
	if ((r = hk_name_build(p->root_subject, rehearsal ?
	    p->rehearsal_marker : NULL, &rootdn)) != 0)
		goto out;
	if (X509_NAME_cmp(b.subject, rootdn) == 0) {
		hk_err_set("cross: the bridge CA's subject must not be our root "
		    "DN");
		r = HK_ERR_INVALID;
		goto out;
	}
	b.kind = HK_CERT_CROSS;
	b.pub = X509_REQ_get0_pubkey(csr);
	b.nb = not_before;
	if ((b.na = hk_time_add_years(not_before, HK_CROSS_VALIDITY_YEARS)) ==
	    (time_t)-1) {
		r = HK_ERR_INVALID;
		goto out;
	}
	b.na -= 1;
	if (hk_cert_time(X509_get0_notAfter(root), &rna) != 0 ||
	    b.na > rna) {
		hk_err_set("cross: CPS 7-1-2: 5 years from notBefore end after "
		    "the issuing root's notAfter; issue it from the next root "
		    "generation");
		r = HK_ERR_INVALID;
		goto out;
	}
	b.ca = 1;
	b.path_len = path_len;
	b.ku0 = 5;
	b.ku1 = 6;
	b.policy = hk_cert_policy(p, HK_CERT_CROSS, rehearsal);
	b.mapped = mapped_policy;
	b.crldp = 1;
	r = build_issued(p, root, &b, out);
out:
	X509_NAME_free(dn);
	X509_NAME_free(rootdn);
	return r;
}

static int
build_server(const struct hk_profile *p, X509 *root, X509_REQ *csr,
    enum hk_cert_kind kind, int n, time_t not_before, int rehearsal,
    X509 **out)
{
	const char *kn = hk_cert_kind_name(kind);
	struct issued b;
	X509_NAME *dn = NULL;
	char rdn[96], what[64];
	int r;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	if (n < 1 || n > 999) {
		hk_err_set("%s: number %d is not 1..999", kn, n);
		return HK_ERR_INVALID;
	}
	if ((r = not_before_ok(not_before, kn)) != 0)
		return r;
	snprintf(rdn, sizeof(rdn), kind == HK_CERT_OCSP ?
	    "CN=OCSP Responder %d" :
	    "CN=Official Certificate Validation Server %d", n);
	snprintf(what, sizeof(what), "%s request", kn);
	if ((r = kind_name(p, rdn, rehearsal, &dn)) != 0)
		goto out;
	/* PROFILE.md: RSA-2048 like the issuing CA's online keys */
	if ((r = hk_csr_check(csr, what, dn, &p->issuing_key, 0)) != 0)
		goto out;
	b.kind = kind;
	b.subject = dn;
	b.pub = X509_REQ_get0_pubkey(csr);
	b.nb = not_before;
	if ((r = capped_end(root, not_before, kind == HK_CERT_OCSP ?
	    p->ocsp_validity_years : p->validation_validity_years, kn,
	    &b.na)) != 0)
		goto out;
	b.ca = 0;
	b.ku0 = 0;			/* digitalSignature */
	b.ku1 = kind == HK_CERT_VALIDATION ? 1 : -1; /* nonRepudiation */
	b.policy = hk_cert_policy(p, kind, rehearsal);
	b.crldp = kind == HK_CERT_VALIDATION;
	r = build_issued(p, root, &b, out);
out:
	X509_NAME_free(dn);
	return r;
}

int
hk_cert_build_ocsp(const struct hk_profile *p, X509 *root, X509_REQ *csr,
    int n, time_t not_before, int rehearsal, X509 **out)
{
	return build_server(p, root, csr, HK_CERT_OCSP, n, not_before,
	    rehearsal, out);
}

int
hk_cert_build_validation(const struct hk_profile *p, X509 *root,
    X509_REQ *csr, int n, time_t not_before, int rehearsal, X509 **out)
{
	return build_server(p, root, csr, HK_CERT_VALIDATION, n, not_before,
	    rehearsal, out);
}

int
hk_cert_sign_issued(X509 *cert, X509 *issuer, EVP_PKEY *key,
    const struct hk_profile *p, enum hk_cert_kind kind, int rehearsal)
{
	EVP_PKEY *pub = X509_get0_pubkey(issuer);
	int r;

	hk_err_clear();
	if (pub == NULL) {
		hk_err_set("%s: the issuer's key does not decode",
		    hk_cert_kind_name(kind));
		return HK_ERR_INVALID;
	}
	if ((r = hk_lint_issued(cert, issuer, p, kind)) != 0)
		return r;
	return hk_cert_sign_checked(cert, key, pub, p, kind, rehearsal);
}

/* The signature AlgorithmIdentifier pub's private key gives with md. */
static X509_ALGOR *
sigalg_new(EVP_PKEY *pub, const EVP_MD *md)
{
	X509_ALGOR *alg;
	int kt, sig = NID_undef;

	/* the profile's key types (profile.c): RSA and EC */
	kt = EVP_PKEY_is_a(pub, "RSA") ? EVP_PKEY_RSA :
	    EVP_PKEY_is_a(pub, "EC") ? EVP_PKEY_EC : NID_undef;
	if (kt == NID_undef || OBJ_find_sigid_by_algs(&sig,
	    EVP_MD_get_type(md), kt) != 1 || (alg = X509_ALGOR_new()) == NULL)
		goto fail;
	if (X509_ALGOR_set0(alg, OBJ_nid2obj(sig), kt == EVP_PKEY_RSA ?
	    V_ASN1_NULL : V_ASN1_UNDEF, NULL) == 1)
		return alg;
	X509_ALGOR_free(alg);
 fail:
	hk_err_set("no signature algorithm for this key and digest");
	hk_err_add_openssl();
	return NULL;
}

int
hk_cert_set_sigalg(X509 *cert, EVP_PKEY *pub, const EVP_MD *md)
{
	X509_ALGOR *alg, *tbs_alg, *outer;
	const X509_ALGOR *co;
	int r = 0;

	if ((alg = sigalg_new(pub, md)) == NULL)
		return HK_ERR_CRYPTO;
	/*
	 * OpenSSL 3.0 has no setter for a certificate's two signature
	 * AlgorithmIdentifiers (X509_REQ has X509_REQ_set1_signature_algo);
	 * X509_get0_tbs_sigalg and X509_get0_signature return the
	 * certificate's own fields, the ones X509_sign fills.
	 */
	tbs_alg = (X509_ALGOR *)X509_get0_tbs_sigalg(cert);
	X509_get0_signature(NULL, &co, cert);
	outer = (X509_ALGOR *)co;
	if (X509_ALGOR_copy(tbs_alg, alg) != 1 ||
	    X509_ALGOR_copy(outer, alg) != 1) {
		hk_err_set("cannot set the signature algorithm");
		hk_err_add_openssl();
		r = HK_ERR_CRYPTO;
	}
	X509_ALGOR_free(alg);
	return r;
}

/* Certificate (RFC 5280 4.1.1) with the TBSCertificate kept as its bytes:
 * the signed certificate around the TBS just signed, or the unsigned one
 * around a recorded TBS, without re-encoding it (cert_shell_encode). */
typedef struct {
	ASN1_TYPE *tbs;			/* tbsCertificate, as it is */
	X509_ALGOR *alg;		/* signatureAlgorithm */
	ASN1_BIT_STRING *sig;		/* signatureValue (empty if unsigned) */
} HK_CERT_SHELL;

ASN1_SEQUENCE(HK_CERT_SHELL) = {
	ASN1_SIMPLE(HK_CERT_SHELL, tbs, ASN1_ANY),
	ASN1_SIMPLE(HK_CERT_SHELL, alg, X509_ALGOR),
	ASN1_SIMPLE(HK_CERT_SHELL, sig, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(HK_CERT_SHELL)

IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(HK_CERT_SHELL)
IMPLEMENT_STATIC_ASN1_ENCODE_FUNCTIONS(HK_CERT_SHELL)

/*
 * The DER Certificate around tbs (len bytes, one SEQUENCE TLV: the caller
 * checks it) kept byte for byte, with alg as signatureAlgorithm and the
 * slen bytes of sig (none for an unsigned certificate) as signatureValue.
 * *der OPENSSL_malloc'd. HK_ERR_ALLOC or HK_ERR_CRYPTO; the caller says
 * which certificate could not be encoded.
 */
static int
cert_shell_encode(const unsigned char *tbs, size_t len, const X509_ALGOR *alg,
    const unsigned char *sig, size_t slen, unsigned char **der, int *der_len)
{
	HK_CERT_SHELL *sh = NULL;
	ASN1_STRING *seq = NULL;
	int r = HK_ERR_ALLOC;

	*der = NULL;
	*der_len = 0;
	if (len > INT_MAX || slen > INT_MAX)
		return HK_ERR_INTERNAL;
	if ((sh = HK_CERT_SHELL_new()) == NULL || sh->tbs == NULL ||
	    (seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE)) == NULL)
		goto out;
	r = HK_ERR_CRYPTO;
	if (ASN1_STRING_set(seq, tbs, (int)len) != 1)
		goto out;
	/* the ANY takes the whole TLV as it is (no re-encoding) */
	ASN1_TYPE_set(sh->tbs, V_ASN1_SEQUENCE, seq);
	seq = NULL;
	if (X509_ALGOR_copy(sh->alg, alg) != 1 ||
	    (slen > 0 && ASN1_STRING_set(sh->sig, sig, (int)slen) != 1))
		goto out;
	/* the signature's every bit counts: no unused bits (X.690 8.6.2.2),
	 * whatever its last octet ends with (an empty one has none either) */
	sh->sig->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07L);
	sh->sig->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	if ((*der_len = i2d_HK_CERT_SHELL(sh, der)) <= 0) {
		*der = NULL;
		*der_len = 0;
		goto out;
	}
	r = 0;
 out:
	ASN1_STRING_free(seq);
	HK_CERT_SHELL_free(sh);
	return r;
}

int
hk_cert_unsigned_from_tbs(const unsigned char *tbs, size_t len,
    EVP_PKEY *pub, const EVP_MD *md, X509 **out)
{
	ASN1_TYPE *t = NULL;
	X509_ALGOR *alg = NULL;
	const unsigned char *p = tbs;
	unsigned char *der = NULL, *t2 = NULL;
	X509 *x = NULL;
	int n, n2, r = HK_ERR_PARSE;

	*out = NULL;
	if (len == 0 || len > INT_MAX) {
		hk_err_set("the recorded TBSCertificate is empty or too long");
		goto out;
	}
	if ((t = d2i_ASN1_TYPE(NULL, &p, (long)len)) == NULL ||
	    p != tbs + len || ASN1_TYPE_get(t) != V_ASN1_SEQUENCE) {
		hk_err_set("the recorded TBSCertificate is not one DER "
		    "SEQUENCE");
		goto out;
	}
	if ((alg = sigalg_new(pub, md)) == NULL) {
		r = HK_ERR_CRYPTO;
		goto out;
	}
	if ((r = cert_shell_encode(tbs, len, alg, NULL, 0, &der, &n)) != 0) {
		hk_err_set("cannot encode the unsigned certificate");
		goto out;
	}
	r = HK_ERR_PARSE;
	p = der;
	if ((x = d2i_X509(NULL, &p, n)) == NULL || p != der + n) {
		hk_err_set("the recorded TBSCertificate does not parse as a "
		    "certificate's");
		goto out;
	}
	/* the recorded signature field is the key's, and the TBS re-encodes
	 * to the same bytes (DER) */
	if (X509_ALGOR_cmp(X509_get0_tbs_sigalg(x), alg) != 0) {
		hk_err_set("the recorded TBSCertificate's signature algorithm "
		    "is not the issuing key's");
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((n2 = i2d_re_X509_tbs(x, &t2)) <= 0 || (size_t)n2 != len ||
	    memcmp(t2, tbs, len) != 0) {
		hk_err_set("the recorded TBSCertificate is not DER");
		goto out;
	}
	*out = x;
	x = NULL;
	r = 0;
 out:
	ERR_clear_error();
	X509_free(x);
	OPENSSL_free(der);
	OPENSSL_free(t2);
	X509_ALGOR_free(alg);
	ASN1_TYPE_free(t);
	return r;
}

int
hk_cert_sign_tbs(const unsigned char *tbs, size_t len, EVP_PKEY *key,
    EVP_PKEY *pub, const EVP_MD *md, unsigned char **der, int *der_len)
{
	X509_ALGOR *alg = NULL;
	EVP_MD_CTX *mc = NULL;
	unsigned char *sig = NULL;
	size_t slen = 0;
	int r = HK_ERR_ALLOC;

	*der = NULL;
	*der_len = 0;
	if (len < 2 || len > INT_MAX || tbs[0] != 0x30) {
		hk_err_set("the TBSCertificate is not one DER SEQUENCE");
		return HK_ERR_INTERNAL;
	}
	if ((mc = EVP_MD_CTX_new()) == NULL)
		goto out;
	r = HK_ERR_P11;
	if (EVP_DigestSignInit(mc, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(mc, NULL, &slen, tbs, len) != 1 || slen == 0 ||
	    slen > INT_MAX || (sig = OPENSSL_malloc(slen)) == NULL ||
	    EVP_DigestSign(mc, sig, &slen, tbs, len) != 1) {
		hk_err_set("the token did not sign");
		hk_err_add_openssl();
		goto out;
	}
	/* 1 good, 0 bad, negative error: only 1 is a signature */
	r = HK_ERR_VERIFY;
	if (EVP_MD_CTX_reset(mc) != 1 ||
	    EVP_DigestVerifyInit(mc, NULL, md, NULL, pub) != 1 ||
	    EVP_DigestVerify(mc, sig, slen, tbs, len) != 1) {
		hk_err_set("the signature does not verify with the issuing "
		    "CA's key");
		goto out;
	}
	r = HK_ERR_CRYPTO;
	if ((alg = sigalg_new(pub, md)) == NULL ||
	    cert_shell_encode(tbs, len, alg, sig, slen, der, der_len) != 0) {
		hk_err_set("cannot encode the signed certificate");
		hk_err_add_openssl();
		goto out;
	}
	r = 0;
 out:
	X509_ALGOR_free(alg);
	OPENSSL_free(sig);
	EVP_MD_CTX_free(mc);
	return r;
}

int
hk_cert_tbs_digest(X509 *cert, EVP_PKEY *pub, const EVP_MD *md,
    unsigned char d[32])
{
	unsigned char *der = NULL;
	int len, r;

	if ((r = hk_cert_set_sigalg(cert, pub, md)) != 0)
		return r;
	if ((len = i2d_re_X509_tbs(cert, &der)) <= 0) {
		hk_err_set("cannot encode the TBS certificate");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	SHA256(der, (size_t)len, d);
	OPENSSL_free(der);
	return 0;
}

int
hk_cert_valid_at(const X509 *x, time_t t)
{
	return X509_cmp_time(X509_get0_notBefore(x), &t) < 0 &&
	    X509_cmp_time(X509_get0_notAfter(x), &t) > 0;
}

int
hk_cert_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return HK_ERR_INVALID;
	*out = timegm(&tm);
	return 0;
}

int
hk_cert_name_eq(const X509_NAME *a, const X509_NAME *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la, lb, eq;

	la = i2d_X509_NAME(a, &da);
	lb = i2d_X509_NAME(b, &db);
	eq = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;
	OPENSSL_free(da);
	OPENSSL_free(db);
	return eq;
}

static int
gen_ok(int gen)
{
	if (gen < 1 || gen > HK_CERT_GEN_MAX) {
		hk_err_set("issuing generation %d: a number from 1 to %d", gen,
		    HK_CERT_GEN_MAX);
		return HK_ERR_INVALID;
	}
	return 0;
}

int
hk_cert_partition_id(const char *code, int gen, char *buf, size_t len)
{
	int n, r;

	if ((r = gen_ok(gen)) != 0)
		return r;
	if (strlen(code) != 6 || strspn(code, "0123456789") != 6) {
		hk_err_set("%s: a partition is a 6-digit municipality code",
		    code);
		return HK_ERR_INVALID;
	}
	n = gen == 1 ? snprintf(buf, len, "%s", code) :
	    snprintf(buf, len, "%s-%d", code, gen);
	if (n < 0 || (size_t)n >= len) {
		hk_err_set("%s: partition id too long", code);
		return HK_ERR_INVALID;
	}
	return 0;
}

int
hk_cert_partition_id_parse(const char *id, char code[7], int *gen)
{
	size_t n = strlen(id);
	int g = 1;

	*gen = 0;
	if (n < 6 || strspn(id, "0123456789") != 6)
		return HK_ERR_PARSE;
	if (n > 6) {
		/* "-<g>", g from 2 (generation 1 has no suffix), no 0 first */
		if (n < 8 || n > HK_CERT_PARTITION_ID_MAX - 1 || id[6] != '-' ||
		    id[7] == '0' || strspn(id + 7, "0123456789") != n - 7 ||
		    (g = atoi(id + 7)) < 2)
			return HK_ERR_PARSE;
	}
	memcpy(code, id, 6);
	code[6] = '\0';
	*gen = g;
	return 0;
}

int
hk_cert_partition_dn(const struct hk_profile *p, const char *romaji,
    int gen, int rehearsal, X509_NAME **out)
{
	char rdn[120];
	int r;

	*out = NULL;
	if ((r = gen_ok(gen)) != 0)
		return r;
	if (gen == 1)
		snprintf(rdn, sizeof(rdn), "OU=CRL Distribution Points, "
		    "CN=%s CRLDP", romaji);
	else
		snprintf(rdn, sizeof(rdn), "OU=CRL Distribution Points, "
		    "CN=%s CRLDP %d", romaji, gen);
	return kind_name(p, rdn, rehearsal, out);
}

void
hk_cert_partition_uri(const struct hk_profile *p, const char *code,
    int gen, char *buf, size_t len)
{
	char id[HK_CERT_PARTITION_ID_MAX];

	if (p->repository_url[0] == '\0' ||
	    hk_cert_partition_id(code, gen, id, sizeof(id)) != 0)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%s/crl/%s.crl", p->repository_url, id);
}

/* Subject "<prefix>, L=<romaji>, CN=<serial hex>" (+ OU=<marker>). */
static int
user_subject(const struct hk_profile *p, X509 *x, const char *romaji,
    int rehearsal)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	X509_NAME *dn = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL, rdn[120];
	int r = HK_ERR_CRYPTO;

	if ((bn = ASN1_INTEGER_to_BN(sn, NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	snprintf(rdn, sizeof(rdn), "L=%s, CN=%s", romaji, hex);
	if ((r = kind_name(p, rdn, rehearsal, &dn)) != 0)
		goto out;
	r = X509_set_subject_name(x, dn) == 1 ? 0 : HK_ERR_CRYPTO;
out:
	X509_NAME_free(dn);
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

int
hk_cert_user_not_after(const struct hk_profile *p, X509 *issuer, int gen,
    time_t not_before, time_t *na)
{
	char b1[32], b2[32], b3[32];
	time_t end, ina;

	*na = 0;
	if ((end = hk_time_add_years(not_before, p->user_validity_years)) ==
	    (time_t)-1) {
		hk_err_set("user: notBefore is out of range");
		return HK_ERR_INVALID;
	}
	end -= 1;
	if (hk_cert_time(X509_get0_notAfter(issuer), &ina) != 0) {
		hk_err_set("user: issuing CA %d: its notAfter does not decode",
		    gen);
		return HK_ERR_INVALID;
	}
	if (end > ina) {
		hk_time_format(ina, b1, sizeof(b1));
		hk_time_format(not_before, b2, sizeof(b2));
		hk_time_format(end, b3, sizeof(b3));
		hk_err_set("issuing CA %d (notAfter %s): CPS 1-3-2: its "
		    "issuing window has closed: a resident's certificate "
		    "issued at %s would end at %s (%d years minus 1 second), "
		    "after it", gen, b1, b2, b3, p->user_validity_years);
		return HK_ERR_STATE;
	}
	*na = end;
	return 0;
}

/* The extensions every resident's certificate of one issuing CA carries
 * alike, encoded once, and the CRL DPs of the partitions asked for. */
struct hk_cert_user_tmpl {
	const struct hk_profile *p;
	X509 *issuer;			/* up-ref'd */
	int gen, rehearsal;
	struct signer s;		/* the issuer's DN, SKI, notAfter */
	X509 *ext;			/* keyUsage, AKI, policies, IAN */
	size_t nparts, cap;
	struct tmpl_part {
		char code[8];
		char romaji[HK_PROFILE_DN_MAX];
		X509_EXTENSION *dp;	/* its cRLDistributionPoints */
	} *parts;
};

enum { T_KU, T_AKI, T_POL, T_IAN, T_N };	/* ext's extensions, in order */

int
hk_cert_user_tmpl_new(const struct hk_profile *p, X509 *issuer, int gen,
    int rehearsal, struct hk_cert_user_tmpl **out)
{
	struct hk_cert_user_tmpl *t;
	const char *marker = rehearsal ? p->rehearsal_marker : NULL;
	X509_NAME *jname = NULL;
	int r;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return HK_ERR_ALLOC;
	t->p = p;
	t->gen = gen;
	t->rehearsal = rehearsal;
	if (X509_up_ref(issuer) != 1) {
		free(t);
		return HK_ERR_ALLOC;
	}
	t->issuer = issuer;
	if ((r = signer_get(issuer, "user", &t->s)) != 0 ||
	    (r = hk_name_build(p->root_jname, marker, &jname)) != 0)
		goto out;
	r = HK_ERR_ALLOC;
	if ((t->ext = X509_new()) == NULL)
		goto out;
	/* the same helpers as a certificate built without the template, in
	 * the order hk_cert_build_user_tmpl puts them */
	if ((r = add_ku(t->ext, 0, 1)) != 0 ||	/* digitalSignature, nonRep. */
	    (r = add_aki(t->ext, t->s.ski)) != 0 ||
	    (r = add_policy(t->ext, hk_cert_policy(p, HK_CERT_USER,
	    rehearsal), p->cps_uri, p->policy_user_critical)) != 0)
		goto out;
	r = add_altname0(t->ext, NID_issuer_alt_name, jname);
	jname = NULL;
	if (r == 0 && X509_get_ext_count(t->ext) != T_N)
		r = HK_ERR_INTERNAL;
 out:
	X509_NAME_free(jname);
	if (r != 0) {
		build_failed(r, "user");
		hk_cert_user_tmpl_free(t);
		return r;
	}
	*out = t;
	return 0;
}

void
hk_cert_user_tmpl_free(struct hk_cert_user_tmpl *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nparts; i++)
		X509_EXTENSION_free(t->parts[i].dp);
	free(t->parts);
	X509_free(t->ext);
	signer_free(&t->s);
	X509_free(t->issuer);
	free(t);
}

/* The cRLDistributionPoints extension of a partition, on its own. */
static int
partition_dp(const struct hk_profile *p, const char *romaji, const char *code,
    int gen, int rehearsal, X509_EXTENSION **out)
{
	X509_NAME *part = NULL;
	X509 *x = NULL;
	char uri[HK_PROFILE_URL_MAX + 64];
	int r;

	*out = NULL;
	if ((r = hk_cert_partition_dn(p, romaji, gen, rehearsal, &part)) != 0)
		return r;
	hk_cert_partition_uri(p, code, gen, uri, sizeof(uri));
	if ((x = X509_new()) == NULL) {
		X509_NAME_free(part);
		return HK_ERR_ALLOC;
	}
	r = add_dp0(x, part, uri);
	if (r == 0 && (X509_get_ext_count(x) != 1 ||
	    (*out = X509_EXTENSION_dup(X509_get_ext(x, 0))) == NULL))
		r = HK_ERR_ALLOC;
	X509_free(x);
	return r;
}

int
hk_cert_user_tmpl_partition(struct hk_cert_user_tmpl *t, const char *romaji,
    const char *code)
{
	struct tmpl_part *np;
	int r;

	if (strlen(code) >= sizeof(np->code) ||
	    strlen(romaji) >= sizeof(np->romaji)) {
		hk_err_set("user: partition %s: code or romaji too long", code);
		return HK_ERR_INVALID;
	}
	if (t->nparts == t->cap) {
		size_t nc = t->cap ? 2 * t->cap : 64;

		if ((np = realloc(t->parts, nc * sizeof(*np))) == NULL)
			return HK_ERR_ALLOC;
		t->parts = np;
		t->cap = nc;
	}
	np = &t->parts[t->nparts];
	memset(np, 0, sizeof(*np));
	if ((r = partition_dp(t->p, romaji, code, t->gen, t->rehearsal,
	    &np->dp)) != 0)
		return r;
	snprintf(np->code, sizeof(np->code), "%s", code);
	snprintf(np->romaji, sizeof(np->romaji), "%s", romaji);
	t->nparts++;
	return 0;
}

/* Add a copy of one of the template's extensions. */
static int
add_copy(X509 *x, const X509_EXTENSION *e)
{
	return X509_add_ext(x, (X509_EXTENSION *)e, -1) == 1 ? 0 :
	    HK_ERR_CRYPTO;
}

int
hk_cert_build_user_tmpl(const struct hk_cert_user_tmpl *t, EVP_PKEY *pub,
    const char *romaji, const char *code, const struct hk_basic4 *b4,
    time_t not_before, X509 **out)
{
	const X509_EXTENSION *dp = NULL;
	X509_EXTENSION *own = NULL;
	X509 *x = NULL;
	time_t na;
	size_t i;
	int r;

	*out = NULL;
	if ((r = not_before_ok(not_before, "user")) != 0 ||
	    (r = hk_cert_user_not_after(t->p, t->issuer, t->gen, not_before,
	    &na)) != 0)
		return r;
	for (i = 0; i < t->nparts && dp == NULL; i++)
		if (strcmp(t->parts[i].code, code) == 0 &&
		    strcmp(t->parts[i].romaji, romaji) == 0)
			dp = t->parts[i].dp;
	if (dp == NULL) {
		if ((r = partition_dp(t->p, romaji, code, t->gen, t->rehearsal,
		    &own)) != 0)
			goto out;
		dp = own;
	}
	/* the subject is set once the serial is drawn */
	if ((r = start_cert(NULL, t->s.dn, not_before, na, pub, &x)) != 0 ||
	    (r = user_subject(t->p, x, romaji, t->rehearsal)) != 0 ||
	    (r = add_copy(x, X509_get_ext(t->ext, T_KU))) != 0 ||
	    (r = add_ski(x, pub)) != 0 ||
	    (r = add_copy(x, X509_get_ext(t->ext, T_AKI))) != 0 ||
	    (r = add_copy(x, X509_get_ext(t->ext, T_POL))) != 0 ||
	    (r = add_copy(x, dp)) != 0 ||
	    (r = add_copy(x, X509_get_ext(t->ext, T_IAN))) != 0 ||
	    (r = hk_basic4_add(x, b4)) != 0)
		goto out;
	*out = x;
	x = NULL;
	r = 0;
out:
	build_failed(r, "user");
	X509_EXTENSION_free(own);
	X509_free(x);
	return r;
}

int
hk_cert_build_user(const struct hk_profile *p, X509 *issuer, int gen,
    EVP_PKEY *pub, const char *romaji, const char *code,
    const struct hk_basic4 *b4, time_t not_before, int rehearsal, X509 **out)
{
	struct hk_cert_user_tmpl *t = NULL;
	int r;

	*out = NULL;
	if ((r = not_before_ok(not_before, "user")) != 0 ||
	    (r = hk_cert_user_tmpl_new(p, issuer, gen, rehearsal, &t)) != 0)
		return r;
	r = hk_cert_build_user_tmpl(t, pub, romaji, code, b4, not_before,
	    out);
	hk_cert_user_tmpl_free(t);
	return r;
}

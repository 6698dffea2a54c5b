/*
 * profile.h - the certificate profile (PROFILE.md, docs/profile.md).
 *
 * Names, durations, key sizes, algorithms and policy OIDs come from a YAML
 * file ("hanko-profile: 1"); hk_profile_default() holds the Kumamoto values,
 * identical to ceremony-scripts/profile-kumamoto.yaml. Loading is strict:
 * every key below is required except repository-url, unknown keys are
 * refused, OIDs must be well formed, DNs must parse, numbers in range.
 */
#ifndef HK_PROFILE_H
#define HK_PROFILE_H

#include <stddef.h>

#include <openssl/evp.h>

#define HK_PROFILE_VERSION	1
#define HK_PROFILE_DN_MAX	512	/* bytes of DN text, incl. NUL */
#define HK_PROFILE_OID_MAX	128	/* bytes of a dotted OID, incl. NUL */
#define HK_PROFILE_URL_MAX	512	/* bytes of a URL, incl. NUL */
#define HK_PROFILE_MARKER_MAX	32	/* bytes of the rehearsal marker */
/* A CRL or ARL outlives the ARL's interval by at least this: publish runs
 * once a day (24 h) and allows a 4-hour margin (docs/publish.md). */
#define HK_PROFILE_CRL_SLACK_HOURS	28

enum hk_key_alg {
	HK_KEY_RSA2048,		/* "rsa-2048" (CPS 6-1-1-2) */
	HK_KEY_RSA3072,		/* "rsa-3072" */
	HK_KEY_RSA4096,		/* "rsa-4096" */
	HK_KEY_EC_P384,		/* "ec-p384" (secp384r1) */
};

enum hk_sig_alg {
	HK_SIG_SHA256_RSA,	/* "sha256WithRSAEncryption" (PKCS#1 v1.5) */
	HK_SIG_ECDSA_SHA384,	/* "ecdsa-with-SHA384" (P-384 keys only) */
};

struct hk_profile {
	/* root (知事) self-signed certificate */
	char root_subject[HK_PROFILE_DN_MAX];	/* root DN text */
	char root_jname[HK_PROFILE_DN_MAX];	/* Japanese DN for subjectAltName */
	int root_validity_years;		/* self-signed validity (CPS 6-3-1-2) */
	int root_key_use_years;			/* private key use before rollover */
	enum hk_key_alg root_key;		/* root key type and size */
	enum hk_sig_alg root_signature;		/* algorithm the root signs with */
	/* issuing CA (online) */
	char issuing_subject_prefix[HK_PROFILE_DN_MAX]; /* DN before "OU=Issuing CA <g>" */
	enum hk_key_alg issuing_key;		/* issuing CA key */
	int issuing_validity_years;		/* issuing window + user validity */
	/* residents (電子証明書) */
	int user_validity_years;		/* CPS 1-3-2: 3 years */
	enum hk_key_alg user_key;		/* residents' keys: exactly */
	int user_allow_rsa1024;			/* 1: also accept legacy RSA-1024 */
	/* OCSP responder and validation server */
	int ocsp_validity_years;		/* OCSP responder certificate */
	int validation_validity_years;		/* validation-server certificate */
	/* certificatePolicies (dotted OIDs) */
	char policy_ca[HK_PROFILE_OID_MAX];	/* CA certificates (cross, issuing) */
	char policy_user[HK_PROFILE_OID_MAX];	/* user certificates */
	char policy_user_test[HK_PROFILE_OID_MAX]; /* user, rehearsal */
	int policy_user_critical;		/* certificatePolicies critical in users */
	char policy_ocsp[HK_PROFILE_OID_MAX];	/* OCSP responder */
	char policy_ocsp_test[HK_PROFILE_OID_MAX]; /* OCSP responder, rehearsal */
	char policy_validation[HK_PROFILE_OID_MAX]; /* validation server */
	char policy_validation_test[HK_PROFILE_OID_MAX]; /* validation, rehearsal */
	char cps_uri[HK_PROFILE_URL_MAX];	/* CPS pointer qualifier */
	int policy_mappings_critical;		/* 0 by default: see PROFILE.md */
	/* CRLs and ARLs */
	int crl_validity_hours;			/* nextUpdate - thisUpdate (72) */
	int crl_interval_hours;			/* issue cadence (24) */
	/* repository and rehearsal */
	char repository_url[HK_PROFILE_URL_MAX]; /* http(s) base, "" when none */
	char rehearsal_marker[HK_PROFILE_MARKER_MAX]; /* final OU in rehearsal */
};

/* A new profile holding the Kumamoto defaults. */
int hk_profile_default(struct hk_profile **out);
/* Load and strictly validate a profile file. */
int hk_profile_load(const char *path, struct hk_profile **out);
/* The same over bytes already read; name is used in messages. */
int hk_profile_load_buf(const char *name, const unsigned char *buf,
    size_t len, struct hk_profile **out);
void hk_profile_free(struct hk_profile *p);
/* NULL if a and b hold the same values, else the first differing key. */
const char *hk_profile_diff(const struct hk_profile *a,
    const struct hk_profile *b);
/*
 * Every key whose value differs, in file order, as "key: A -> B" joined by
 * sep, into buf (cut with "..." when it does not fit; "" when none).
 * Returns how many keys differ (all of them, also those cut).
 */
size_t hk_profile_changes(const struct hk_profile *a,
    const struct hk_profile *b, const char *sep, char *buf, size_t len);

const char *hk_key_alg_name(enum hk_key_alg k);
/* Modulus bits (RSA) or curve bits (EC) of k. */
int hk_key_alg_bits(enum hk_key_alg k);
/* 1 if pub is a key of type and size k (RSA modulus, or the P-384 curve). */
int hk_key_alg_matches(EVP_PKEY *pub, enum hk_key_alg k);
const char *hk_sig_alg_name(enum hk_sig_alg s);
/* 0 if s is a dotted OID OpenSSL accepts (first arc 0-2, no empty arcs). */
int hk_oid_check(const char *s);

#endif

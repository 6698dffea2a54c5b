/*
 * crl.h - CRLs and ARLs (RFC 5280 5, PROFILE.md "CRLs and ARLs", CPS 4-4-9,
 * 7-2): build, sign (checked), lint, verify, pre-sign in batches.
 *
 * One code path for both kinds: the root's ARL (issuer = root DN,
 * issuingDistributionPoint fullName = root DN, onlyContainsCACerts) and the
 * online publisher's per-municipality user CRLs (fullName = the partition
 * DN, onlyContainsUserCerts). Only the spec differs.
 */
#ifndef HK_CRL_H
#define HK_CRL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "profile.h"

#define HK_CRL_BATCH_DEFAULT	35	/* ARLs pre-signed per batch */
#define HK_CRL_BATCH_MAX	400	/* most ARLs in one batch */
#define HK_CRL_ENTRIES_MAX	1000000	/* entries in one CRL */
#define HK_CRL_URI_MAX		(HK_PROFILE_URL_MAX + 32) /* IDP URI bytes */

enum hk_crl_scope {
	HK_CRL_SCOPE_CA,	/* ARL: onlyContainsCACerts */
	HK_CRL_SCOPE_USER,	/* user CRL: onlyContainsUserCerts */
};

/* CRLReason values we use (CPS 4-4-4-2); 0 = no reasonCode extension
 * (never unspecified(0) on the wire), never certificateHold(6). */
enum hk_crl_reason {
	HK_REASON_NONE			= 0,
	HK_REASON_KEY_COMPROMISE	= 1,
	HK_REASON_CA_COMPROMISE		= 2,
	HK_REASON_AFFILIATION_CHANGED	= 3,
	HK_REASON_SUPERSEDED		= 4,
	HK_REASON_CESSATION		= 5,
};

struct hk_crl_entry {
	const ASN1_INTEGER *serial;	/* the revoked certificate's serial */
	time_t revoked;			/* revocationDate (<= thisUpdate) */
	enum hk_crl_reason reason;	/* HK_REASON_NONE: no extension */
};

/* The DER of one revokedCertificates entry (X509_REVOKED: serial,
 * revocationDate, reasonCode unless NONE), as a CRL carries it; *der is
 * OPENSSL_malloc'd. The store keeps these bytes so that a CRL is never
 * rebuilt entry by entry (online/store.h, crl_entries). */
int hk_crl_entry_der(const struct hk_crl_entry *e, unsigned char **der,
    size_t *len);

struct hk_crl_spec {
	X509 *issuer;			/* signer's certificate: issuer DN,
					 * AKI (its SKI), verification key */
	enum hk_crl_scope scope;	/* CA or user certificates only */
	const X509_NAME *idp_dn;	/* IDP fullName directoryName */
	char idp_uri[HK_CRL_URI_MAX];	/* IDP http URI, "" for none */
	int validity_hours;		/* nextUpdate - thisUpdate (72) */
	int interval_hours;		/* batch: thisUpdate step (24) */
	const struct hk_crl_entry *entries; /* revoked certificates; may be
					 * NULL when n_entries is 0 */
	size_t n_entries;		/* count of entries */
};

/* The signer signs through this when given (e.g. a libp11 key behind a
 * ceremony prompt); it must sign crl with X509_CRL_sign or the like. */
typedef int (*hk_crl_sign_fn)(X509_CRL *crl, void *arg);

/*
 * Fill spec for the root's ARL: issuer root, scope CA, idp_dn = root's
 * subject (PROFILE.md: fullName = root DN), idp_uri = "<repository-url>/
 * arl.crl" when the profile names a repository, validity and interval from
 * the profile. entries are left empty.
 */
int hk_crl_spec_arl(struct hk_crl_spec *spec, const struct hk_profile *p,
    X509 *root);

/* Build one unsigned CRL v2: thisUpdate, nextUpdate = + validity_hours,
 * cRLNumber number, AKI, critical IDP, entries sorted by serial. */
int hk_crl_build(const struct hk_crl_spec *spec, time_t this_update,
    uint64_t number, X509_CRL **out);

/* Lint crl against spec and the profile: every rule names RFC 5280 5.x or
 * PROFILE.md. With is_signed == 0 the signature fields are not checked. */
int hk_crl_lint(X509_CRL *crl, const struct hk_crl_spec *spec,
    const struct hk_profile *p, int is_signed);

/* Lint, sign with fn(crl, arg) when fn is set or else X509_CRL_sign with
 * key (generic EVP path: works for a libp11 key), re-parse, verify with the
 * issuer's key, lint again. */
int hk_crl_sign_checked(X509_CRL *crl, const struct hk_crl_spec *spec,
    const struct hk_profile *p, EVP_PKEY *key, hk_crl_sign_fn fn, void *arg);

/*
 * n CRLs (0: HK_CRL_BATCH_DEFAULT), the i-th with thisUpdate = start + i *
 * interval_hours and cRLNumber last_number + 1 + i (strictly increasing,
 * continuing the last batch), each signed checked. out must hold n
 * pointers; on failure none is returned (all freed, out cleared).
 */
int hk_crl_batch(const struct hk_crl_spec *spec, const struct hk_profile *p,
    time_t start, size_t n, uint64_t last_number, EVP_PKEY *key,
    hk_crl_sign_fn fn, void *arg, X509_CRL **out);

/* Signature and names of crl against issuer: issuer DN, AKI = issuer's
 * SKI, signature verifies with issuer's key. HK_ERR_VERIFY otherwise. */
int hk_crl_verify(X509_CRL *crl, X509 *issuer);

/* The cRLNumber (0..2^64-1), HK_ERR_INVALID when absent or too large. */
int hk_crl_number(X509_CRL *crl, uint64_t *out);

/* Write DER and/or PEM, never replacing (HK_ERR_EXISTS); both or neither,
 * as hk_cert_write. */
int hk_crl_write(X509_CRL *crl, const char *der_path, const char *pem_path);

#endif

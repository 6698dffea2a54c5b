/* lint.c - certificates against the profile, one rule at a time. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "clock.h"
#include "err.h"
#include "lint.h"
#include "name.h"
#include "profile.h"

struct lint {
	X509 *x;			/* the certificate under test */
	const struct hk_profile *p;	/* the profile */
	const char *kn;			/* kind name for messages */
	int rehearsal;			/* 1: names end with OU=<marker> */
	X509_NAME *dn;			/* expected subject/issuer */
	X509_NAME *jname;		/* expected Japanese alt-name */
};

static int bad(const struct lint *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
bad(const struct lint *l, const char *fmt, ...)
{
	char rule[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	hk_err_set("%s: %s", l->kn, rule);
	ERR_clear_error();
	return HK_ERR_LINT;
}

/* 0 if a and b have the same DER encoding. */
static int
name_der_eq(const X509_NAME *a, const X509_NAME *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la, lb, eq;

	la = i2d_X509_NAME(a, &da);
	lb = i2d_X509_NAME(b, &db);
	eq = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;
	OPENSSL_free(da);
	OPENSSL_free(db);
	return eq ? 0 : -1;
}

static int
lint_version_serial(const struct lint *l)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(l->x);
	const ASN1_BIT_STRING *iuid = NULL, *suid = NULL;
	BIGNUM *bn;
	int bits;

	if (X509_get_version(l->x) != X509_VERSION_3)
		return bad(l, "RFC 5280 4.1.2.1: version must be 3 when "
		    "extensions are present");
	if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER)
		return bad(l, "RFC 5280 4.1.2.2: serialNumber must be "
		    "positive");
	if ((bn = ASN1_INTEGER_to_BN(sn, NULL)) == NULL)
		return bad(l, "RFC 5280 4.1.2.2: serialNumber does not decode");
	bits = BN_num_bits(bn);
	if (BN_is_zero(bn)) {
		BN_free(bn);
		return bad(l, "RFC 5280 4.1.2.2: serialNumber must be "
		    "non-zero");
	}
	BN_free(bn);
	if (bits / 8 + 1 > 20)
		return bad(l, "RFC 5280 4.1.2.2: serialNumber must be at most "
		    "20 octets");
	if (bits < 128)
		return bad(l, "PROFILE.md: serialNumber must carry at least "
		    "127 random bits (has %d bits)", bits);
	X509_get0_uids(l->x, &iuid, &suid);
	if (iuid != NULL || suid != NULL)
		return bad(l, "RFC 5280 4.1.2.8: unique identifiers must not "
		    "be present");
	return 0;
}

static int
lint_sigalg(const struct lint *l)
{
	const X509_ALGOR *alg = NULL, *tbsalg = X509_get0_tbs_sigalg(l->x);
	const ASN1_BIT_STRING *sig = NULL;
	const ASN1_OBJECT *obj = NULL;
	const void *pval = NULL;
	int ptype = 0, want;

	X509_get0_signature(&sig, &alg, l->x);
	if (alg == NULL || tbsalg == NULL || X509_ALGOR_cmp(alg, tbsalg) != 0)
		return bad(l, "RFC 5280 4.1.1.2: signatureAlgorithm must equal "
		    "the TBSCertificate signature field");
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	want = l->p->root_signature == HK_SIG_ECDSA_SHA384 ?
	    NID_ecdsa_with_SHA384 : NID_sha256WithRSAEncryption;
	if (OBJ_obj2nid(obj) != want)
		return bad(l, "PROFILE.md: signature algorithm must be %s",
		    hk_sig_alg_name(l->p->root_signature));
	if (want == NID_sha256WithRSAEncryption && ptype != V_ASN1_NULL)
		return bad(l, "RFC 4055 5: sha256WithRSAEncryption parameters "
		    "must be NULL");
	if (want == NID_ecdsa_with_SHA384 && ptype != V_ASN1_UNDEF)
		return bad(l, "RFC 5758 3.2: ecdsa-with-SHA384 parameters must "
		    "be absent");
	return 0;
}

static int
lint_key(const struct lint *l)
{
	EVP_PKEY *pk = X509_get0_pubkey(l->x);
	enum hk_key_alg alg = l->p->root_key;
	if (pk == NULL)
		return bad(l, "RFC 5280 4.1.2.7: subjectPublicKeyInfo does not "
		    "decode");
	if (hk_key_alg_matches(pk, alg))
		return 0;
	if (alg == HK_KEY_EC_P384)
		return bad(l, "PROFILE.md: the key must be ec-p384");
	return bad(l, "CPS 6-1-1-2 / PROFILE.md: the key must be %s (found "
	    "%s-%d)", hk_key_alg_name(alg), EVP_PKEY_is_a(pk, "RSA") ? "RSA" :
	    "non-RSA", EVP_PKEY_get_bits(pk));
	return 0;
}

static int
lint_one_name(const struct lint *l, const X509_NAME *got, const char *field,
    const char *section)
{
	const char *why = NULL;

	if (got == NULL || X509_NAME_entry_count(got) == 0)
		return bad(l, "RFC 5280 %s: %s must not be empty", section,
		    field);
	if (hk_name_check_types(got, &why) != 0)
		return bad(l, "RFC 5280 %s / PROFILE.md: %s: %s", section,
		    field, why);
	if (name_der_eq(got, l->dn) != 0)
		return bad(l, "PROFILE.md: %s must be the profile's root DN "
		    "\"%s\"%s%s", field, l->p->root_subject,
		    l->rehearsal ? " + OU=" : "",
		    l->rehearsal ? l->p->rehearsal_marker : "");
	return 0;
}

static int
time_value(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

static int
lint_time(const struct lint *l, const ASN1_TIME *t, const char *field,
    time_t *out)
{
	const unsigned char *d = ASN1_STRING_get0_data(t);
	int len = ASN1_STRING_length(t), type = ASN1_STRING_type(t);
	struct tm tm;

	if (time_value(t, out) != 0 || gmtime_r(out, &tm) == NULL)
		return bad(l, "RFC 5280 4.1.2.5: %s does not decode", field);
	if (tm.tm_year + 1900 < 2050 && type != V_ASN1_UTCTIME)
		return bad(l, "RFC 5280 4.1.2.5: %s before 2050 must be "
		    "UTCTime", field);
	if (tm.tm_year + 1900 >= 2050 && type != V_ASN1_GENERALIZEDTIME)
		return bad(l, "RFC 5280 4.1.2.5: %s from 2050 must be "
		    "GeneralizedTime", field);
	if (len != (type == V_ASN1_UTCTIME ? 13 : 15) || d[len - 1] != 'Z')
		return bad(l, "RFC 5280 4.1.2.5.%d: %s must be "
		    "YY(YY)MMDDHHMMSSZ", type == V_ASN1_UTCTIME ? 1 : 2, field);
	return 0;
}

static int
lint_validity(const struct lint *l)
{
	time_t nb, na, want;
	char b1[32], b2[32];
	int r;

	if ((r = lint_time(l, X509_get0_notBefore(l->x), "notBefore",
	    &nb)) != 0 ||
	    (r = lint_time(l, X509_get0_notAfter(l->x), "notAfter",
	    &na)) != 0)
		return r;
	want = hk_time_add_years(nb, l->p->root_validity_years) - 1;
	if (na != want) {
		hk_time_format(na, b1, sizeof(b1));
		hk_time_format(want, b2, sizeof(b2));
		return bad(l, "CPS 6-3-1-2 / PROFILE.md: validity must be %d "
		    "years minus 1 second (notAfter %s, expected %s)",
		    l->p->root_validity_years, b1, b2);
	}
	return 0;
}

static const int root_exts[] = {
	NID_basic_constraints, NID_key_usage, NID_subject_key_identifier,
	NID_subject_alt_name, NID_crl_distribution_points, NID_undef
};

static int
lint_ext_set(const struct lint *l)
{
	int i, j, k, nid, n = X509_get_ext_count(l->x);
	char oid[80];

	for (i = 0; i < n; i++) {
		X509_EXTENSION *e = X509_get_ext(l->x, i);
		const ASN1_OBJECT *o = X509_EXTENSION_get_object(e);

		nid = OBJ_obj2nid(o);
		if (OBJ_obj2txt(oid, sizeof(oid), o, 0) <= 0)
			snprintf(oid, sizeof(oid), "?");
		for (j = 0; j < i; j++)
			if (OBJ_cmp(o, X509_EXTENSION_get_object(
			    X509_get_ext(l->x, j))) == 0)
				return bad(l, "RFC 5280 4.2: extension %s "
				    "appears more than once", oid);
		if (nid == NID_authority_key_identifier)
			return bad(l, "PROFILE.md: a self-signed root carries "
			    "no authorityKeyIdentifier");
		for (k = 0; root_exts[k] != NID_undef; k++)
			if (root_exts[k] == nid)
				break;
		if (root_exts[k] == NID_undef)
			return bad(l, "PROFILE.md: extension %s%s is not in the "
			    "root profile", oid, X509_EXTENSION_get_critical(e) ?
			    " (critical)" : "");
	}
	return 0;
}

/* The decoded extension nid (caller frees with its type's _free) or NULL
 * when absent (*crit = -1). lint_ext_set has ruled out duplicates. */
static void *
get_ext(const struct lint *l, int nid, int *crit, int *undecodable)
{
	int i = X509_get_ext_by_NID(l->x, nid, -1);
	X509_EXTENSION *e;
	void *v;

	*crit = -1;
	*undecodable = 0;
	if (i < 0 || (e = X509_get_ext(l->x, i)) == NULL)
		return NULL;
	*crit = X509_EXTENSION_get_critical(e);
	if ((v = X509V3_EXT_d2i(e)) == NULL)
		*undecodable = 1;
	return v;
}

static int
lint_bc_ku(const struct lint *l)
{
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	int crit, undec, i, r = 0;

	bc = get_ext(l, NID_basic_constraints, &crit, &undec);
	if (crit < 0)
		return bad(l, "RFC 5280 4.2.1.9: basicConstraints must be "
		    "present in a CA certificate");
	if (bc == NULL)
		return bad(l, "RFC 5280 4.2.1.9: basicConstraints does not "
		    "decode");
	if (!crit)
		r = bad(l, "RFC 5280 4.2.1.9: basicConstraints must be "
		    "critical in a CA certificate");
	else if (!bc->ca)
		r = bad(l, "RFC 5280 4.2.1.9: basicConstraints must assert cA "
		    "in a CA certificate");
	else if (bc->pathlen != NULL)
		r = bad(l, "PROFILE.md: the root's basicConstraints carries no "
		    "pathLenConstraint");
	BASIC_CONSTRAINTS_free(bc);
	if (r != 0)
		return r;

	ku = get_ext(l, NID_key_usage, &crit, &undec);
	if (crit < 0)
		return bad(l, "RFC 5280 4.2.1.3: keyUsage must be present in a "
		    "CA certificate");
	if (ku == NULL)
		return bad(l, "RFC 5280 4.2.1.3: keyUsage does not decode");
	if (!crit)
		r = bad(l, "RFC 5280 4.2.1.3: keyUsage must be critical "
		    "(PROFILE.md)");
	for (i = 0; r == 0 && i < ku->length * 8; i++)
		if (ASN1_BIT_STRING_get_bit(ku, i) != (i == 5 || i == 6))
			r = bad(l, "PROFILE.md: keyUsage must be exactly "
			    "keyCertSign and cRLSign");
	if (r == 0 && (!ASN1_BIT_STRING_get_bit(ku, 5) ||
	    !ASN1_BIT_STRING_get_bit(ku, 6)))
		r = bad(l, "PROFILE.md: keyUsage must be exactly keyCertSign "
		    "and cRLSign");
	ASN1_BIT_STRING_free(ku);
	return r;
}

static int
lint_ski(const struct lint *l)
{
	ASN1_OCTET_STRING *ski;
	unsigned char kid[20];
	int crit, undec, r = 0;

	ski = get_ext(l, NID_subject_key_identifier, &crit, &undec);
	if (crit < 0)
		return bad(l, "RFC 5280 4.2.1.2: subjectKeyIdentifier must be "
		    "present in a CA certificate");
	if (ski == NULL)
		return bad(l, "RFC 5280 4.2.1.2: subjectKeyIdentifier does not "
		    "decode");
	if (crit)
		r = bad(l, "RFC 5280 4.2.1.2: subjectKeyIdentifier must not be "
		    "critical");
	else if (hk_cert_key_id(X509_get0_pubkey(l->x), kid) != 0)
		r = bad(l, "RFC 5280 4.2.1.2: cannot compute the key "
		    "identifier");
	else if (ASN1_STRING_length(ski) != 20 ||
	    memcmp(ASN1_STRING_get0_data(ski), kid, 20) != 0)
		r = bad(l, "RFC 5280 4.2.1.2 (1): subjectKeyIdentifier must be "
		    "the SHA-1 of the subjectPublicKey bits");
	ASN1_OCTET_STRING_free(ski);
	return r;
}

static int
lint_san(const struct lint *l)
{
	GENERAL_NAMES *san;
	GENERAL_NAME *gn;
	const char *why = NULL;
	int crit, undec, r = 0;

	san = get_ext(l, NID_subject_alt_name, &crit, &undec);
	if (crit < 0)
		return bad(l, "PROFILE.md: subjectAltName with the Japanese "
		    "name must be present");
	if (san == NULL)
		return bad(l, "RFC 5280 4.2.1.6: subjectAltName does not "
		    "decode");
	if (crit)
		r = bad(l, "RFC 5280 4.2.1.6: subjectAltName must not be "
		    "critical when the subject is not empty");
	else if (sk_GENERAL_NAME_num(san) != 1 ||
	    (gn = sk_GENERAL_NAME_value(san, 0))->type != GEN_DIRNAME)
		r = bad(l, "PROFILE.md: subjectAltName must be exactly one "
		    "directoryName");
	else if (hk_name_check_types(gn->d.directoryName, &why) != 0)
		r = bad(l, "PROFILE.md: subjectAltName directoryName: %s",
		    why);
	else if (name_der_eq(gn->d.directoryName, l->jname) != 0)
		r = bad(l, "PROFILE.md: subjectAltName directoryName must be "
		    "the Japanese name \"%s\"%s%s", l->p->root_jname,
		    l->rehearsal ? " + OU=" : "",
		    l->rehearsal ? l->p->rehearsal_marker : "");
	GENERAL_NAMES_free(san);
	return r;
}

static int
lint_crldp(const struct lint *l)
{
	CRL_DIST_POINTS *dps;
	DIST_POINT *dp;
	GENERAL_NAMES *full;
	GENERAL_NAME *gn;
	const char *repo = l->p->repository_url;
	char uri[600];
	int crit, undec, want, r = 0;

	dps = get_ext(l, NID_crl_distribution_points, &crit, &undec);
	if (crit < 0)
		return bad(l, "PROFILE.md: cRLDistributionPoints naming the "
		    "root DN must be present");
	if (dps == NULL)
		return bad(l, "RFC 5280 4.2.1.13: cRLDistributionPoints does "
		    "not decode");
	want = *repo != '\0' ? 2 : 1;
	snprintf(uri, sizeof(uri), "%s/arl.crl", repo);
	if (crit) {
		r = bad(l, "RFC 5280 4.2.1.13: cRLDistributionPoints should "
		    "be non-critical");
		goto out;
	}
	if (sk_DIST_POINT_num(dps) != 1 ||
	    (dp = sk_DIST_POINT_value(dps, 0))->reasons != NULL ||
	    dp->CRLissuer != NULL || dp->distpoint == NULL ||
	    dp->distpoint->type != 0) {
		r = bad(l, "PROFILE.md: cRLDistributionPoints must be one "
		    "point with a fullName and no reasons or cRLIssuer");
		goto out;
	}
	full = dp->distpoint->name.fullname;
	if (sk_GENERAL_NAME_num(full) != want ||
	    (gn = sk_GENERAL_NAME_value(full, 0))->type != GEN_DIRNAME ||
	    name_der_eq(gn->d.directoryName, l->dn) != 0) {
		r = bad(l, "PROFILE.md: cRLDistributionPoints fullName must be "
		    "the root DN%s", want == 2 ? " and the repository's "
		    "arl.crl URI" : " only (no repository URL in the profile)");
		goto out;
	}
	if (want == 2) {
		gn = sk_GENERAL_NAME_value(full, 1);
		if (gn->type != GEN_URI ||
		    (size_t)ASN1_STRING_length(gn->d.uniformResourceIdentifier)
		    != strlen(uri) || memcmp(ASN1_STRING_get0_data(
		    gn->d.uniformResourceIdentifier), uri, strlen(uri)) != 0)
			r = bad(l, "PROFILE.md: cRLDistributionPoints URI must "
			    "be %s", uri);
	}
out:
	CRL_DIST_POINTS_free(dps);
	return r;
}

int
hk_lint_cert(X509 *cert, const struct hk_profile *p, enum hk_cert_kind kind,
    int rehearsal)
{
	struct lint l;
	const char *marker = rehearsal ? p->rehearsal_marker : NULL;
	int r;

	memset(&l, 0, sizeof(l));
	l.x = cert;
	l.p = p;
	l.kn = hk_cert_kind_name(kind);
	l.rehearsal = rehearsal;
	if (kind != HK_CERT_ROOT)
		return bad(&l, "no lint rules for this kind yet");
	if (hk_name_build(p->root_subject, marker, &l.dn) != 0 ||
	    hk_name_build(p->root_jname, marker, &l.jname) != 0) {
		r = bad(&l, "the profile's DNs do not parse");
		goto out;
	}
	if ((r = lint_version_serial(&l)) != 0 ||
	    (r = lint_sigalg(&l)) != 0 ||
	    (r = lint_one_name(&l, X509_get_issuer_name(cert), "issuer",
	    "4.1.2.4")) != 0 ||
	    (r = lint_one_name(&l, X509_get_subject_name(cert), "subject",
	    "4.1.2.6")) != 0 ||
	    (r = lint_validity(&l)) != 0 ||
	    (r = lint_key(&l)) != 0 ||
	    (r = lint_ext_set(&l)) != 0 ||
	    (r = lint_bc_ku(&l)) != 0 ||
	    (r = lint_ski(&l)) != 0 ||
	    (r = lint_san(&l)) != 0 ||
	    (r = lint_crldp(&l)) != 0)
		goto out;
	r = 0;
out:
	X509_NAME_free(l.dn);
	X509_NAME_free(l.jname);
	return r;
}

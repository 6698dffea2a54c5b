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

#include "basic4.h"
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
	enum hk_cert_kind kind;		/* the kind under test */
	int rehearsal;			/* 1: names end with OU=<marker> */
	int gen;			/* user: the issuer's generation */
	X509_NAME *dn;			/* root DN: issuer, CRL DP, root subject */
	X509_NAME *jname;		/* expected Japanese alt-name */
	const struct hk_lint_user_ctx *ctx; /* user: names made once, or
					 * NULL (dn and jname are its own
					 * then, not freed here) */
};

/* hk_lint_user_ctx: the names every resident's certificate of one issuing
 * generation is compared with, built and encoded once. */
struct hk_lint_user_ctx {
	const struct hk_profile *p;
	int rehearsal, gen;
	X509_NAME *dn, *jname;
	size_t nparts, cap;
	struct lint_part {
		char romaji[HK_PROFILE_DN_MAX];	/* the municipality (L=) */
		char code[7];		/* its 6-digit code: the URI's file */
		X509_NAME *dn;		/* its partition's DN */
	} *parts;
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
	static const enum hk_key_alg any[] = {
		HK_KEY_RSA2048, HK_KEY_RSA3072, HK_KEY_RSA4096, HK_KEY_EC_P384
	};
	EVP_PKEY *pk = X509_get0_pubkey(l->x);
	enum hk_key_alg alg = l->p->root_key;
	size_t i;

	if (pk == NULL)
		return bad(l, "RFC 5280 4.1.2.7: subjectPublicKeyInfo does not "
		    "decode");
	if (l->kind == HK_CERT_CROSS) {
		/* the bridge CA's key: any key type a request may carry */
		for (i = 0; i < sizeof(any) / sizeof(any[0]); i++)
			if (hk_key_alg_matches(pk, any[i]))
				return 0;
		return bad(l, "CPS 6-1-1-2 / PROFILE.md: the key must be "
		    "RSA-2048/3072/4096 or EC P-384");
	}
	if (l->kind != HK_CERT_ROOT && l->kind != HK_CERT_LINK)
		alg = l->p->issuing_key;
	if (hk_key_alg_matches(pk, alg))
		return 0;
	if (alg == HK_KEY_EC_P384)
		return bad(l, "PROFILE.md: the key must be ec-p384");
	return bad(l, "CPS 6-1-1-2 / PROFILE.md: the key must be %s (found "
	    "%s-%d)", hk_key_alg_name(alg), EVP_PKEY_is_a(pk, "RSA") ? "RSA" :
	    "non-RSA", EVP_PKEY_get_bits(pk));
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
	if (!hk_cert_name_eq(got, l->dn))
		return bad(l, "PROFILE.md: %s must be the profile's root DN "
		    "\"%s\"%s%s", field, l->p->root_subject,
		    l->rehearsal ? " + OU=" : "",
		    l->rehearsal ? l->p->rehearsal_marker : "");
	return 0;
}

/*
 * Subject of a kind named "<prefix>, <attr>=<label> <n>" (+ OU=<marker>):
 * read n from the certificate, rebuild the name, compare DER.
 */
static int
lint_numbered_subject(const struct lint *l, const char *attr,
    const char *label)
{
	const X509_NAME *got = X509_get_subject_name(l->x);
	X509_NAME *prefix = NULL, *want = NULL;
	const X509_NAME_ENTRY *e;
	const ASN1_STRING *v;
	const char *why = NULL;
	char val[64], dn[HK_PROFILE_DN_MAX + 128];
	size_t llen = strlen(label), i;
	int np, len, eq;

	if (got == NULL || X509_NAME_entry_count(got) == 0)
		return bad(l, "RFC 5280 4.1.2.6: subject must not be empty");
	if (hk_name_check_types(got, &why) != 0)
		return bad(l, "RFC 5280 4.1.2.6 / PROFILE.md: subject: %s", why);
	if (hk_name_parse(l->p->issuing_subject_prefix, &prefix) != 0)
		return bad(l, "the profile's DNs do not parse");
	np = X509_NAME_entry_count(prefix);
	X509_NAME_free(prefix);
	if ((e = X509_NAME_get_entry(got, np)) == NULL)
		goto fail;
	v = X509_NAME_ENTRY_get_data(e);
	len = ASN1_STRING_length(v);
	if (len <= (int)llen + 1 || len >= (int)sizeof(val))
		goto fail;
	memcpy(val, ASN1_STRING_get0_data(v), (size_t)len);
	val[len] = '\0';
	if (strncmp(val, label, llen) != 0 || val[llen] != ' ' ||
	    val[llen + 1] < '1' || val[llen + 1] > '9' || len - llen - 1 > 3)
		goto fail;
	for (i = llen + 1; i < (size_t)len; i++)
		if (val[i] < '0' || val[i] > '9')
			goto fail;
	snprintf(dn, sizeof(dn), "%s, %s=%s", l->p->issuing_subject_prefix,
	    attr, val);
	if (hk_name_build(dn, l->rehearsal ? l->p->rehearsal_marker : NULL,
	    &want) != 0)
		goto fail;
	eq = hk_cert_name_eq(got, want);
	X509_NAME_free(want);
	if (eq)
		return 0;
fail:
	return bad(l, "PROFILE.md: subject must be \"%s, %s=%s <n>\"%s%s",
	    l->p->issuing_subject_prefix, attr, label,
	    l->rehearsal ? " + OU=" : "",
	    l->rehearsal ? l->p->rehearsal_marker : "");
}

static int
lint_subject(const struct lint *l)
{
	const X509_NAME *got = X509_get_subject_name(l->x);
	const char *why = NULL;

	switch (l->kind) {
	case HK_CERT_ROOT:
	case HK_CERT_LINK:
		return lint_one_name(l, got, "subject", "4.1.2.6");
	case HK_CERT_ISSUING:
		return lint_numbered_subject(l, "OU", "Issuing CA");
	case HK_CERT_OCSP:
		return lint_numbered_subject(l, "CN", "OCSP Responder");
	case HK_CERT_VALIDATION:
		return lint_numbered_subject(l, "CN",
		    "Official Certificate Validation Server");
	case HK_CERT_CROSS:
		if (got == NULL || X509_NAME_entry_count(got) == 0)
			return bad(l, "RFC 5280 4.1.2.6: subject must not be "
			    "empty in a CA certificate");
		if (hk_name_check_types(got, &why) != 0)
			return bad(l, "RFC 5280 4.1.2.6 / PROFILE.md: subject: "
			    "%s", why);
		if (hk_cert_name_eq(got, l->dn))
			return bad(l, "RFC 5280 3.2: a cross certificate's "
			    "subject is the other CA, not our root DN");
		return 0;
	case HK_CERT_USER:
		break;
	}
	return bad(l, "no lint rules for this kind yet");
}

static int
lint_time(const struct lint *l, const ASN1_TIME *t, const char *field,
    time_t *out)
{
	const unsigned char *d = ASN1_STRING_get0_data(t);
	int len = ASN1_STRING_length(t), type = ASN1_STRING_type(t);
	struct tm tm;

	if (hk_cert_time(t, out) != 0 || gmtime_r(out, &tm) == NULL)
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
	int r, years;

	if ((r = lint_time(l, X509_get0_notBefore(l->x), "notBefore",
	    &nb)) != 0 ||
	    (r = lint_time(l, X509_get0_notAfter(l->x), "notAfter",
	    &na)) != 0)
		return r;
	if (na <= nb)
		return bad(l, "RFC 5280 4.1.2.5: notAfter must be after "
		    "notBefore");
	switch (l->kind) {
	/* exactly the term: CPS 1-3-2 (有効期間の終了日は発行日の 3 年後)
	 * for a resident's too; an issuing CA too short for that issues no
	 * more (hk_cert_user_not_after), it does not shorten them */
	case HK_CERT_ROOT:
	case HK_CERT_CROSS:
	case HK_CERT_USER:
		years = l->kind == HK_CERT_ROOT ? l->p->root_validity_years :
		    l->kind == HK_CERT_CROSS ? HK_CROSS_VALIDITY_YEARS :
		    l->p->user_validity_years;
		want = hk_time_add_years(nb, years) - 1;
		if (na == want)
			return 0;
		hk_time_format(na, b1, sizeof(b1));
		hk_time_format(want, b2, sizeof(b2));
		return bad(l, "%s / PROFILE.md: validity must be %d "
		    "years minus 1 second (notAfter %s, expected %s)",
		    l->kind == HK_CERT_ROOT ? "CPS 6-3-1-2" :
		    l->kind == HK_CERT_CROSS ? "CPS 7-1-2" : "CPS 1-3-2",
		    years, b1, b2);
	case HK_CERT_LINK:
		years = l->p->root_validity_years;
		break;
	case HK_CERT_ISSUING:
		years = l->p->issuing_validity_years;
		break;
	case HK_CERT_OCSP:
		years = l->p->ocsp_validity_years;
		break;
	case HK_CERT_VALIDATION:
		years = l->p->validation_validity_years;
		break;
	default:
		return bad(l, "no lint rules for this kind yet");
	}
	want = hk_time_add_years(nb, years) - 1;
	if (na > want) {
		hk_time_format(na, b1, sizeof(b1));
		hk_time_format(want, b2, sizeof(b2));
		return bad(l, "%s: validity must be at most %d years minus 1 "
		    "second (notAfter %s, latest %s)", l->kind == HK_CERT_LINK ?
		    "CPS 7-1-4" : "PROFILE.md", years, b1, b2);
	}
	return 0;
}

static const int root_exts[] = {
	NID_basic_constraints, NID_key_usage, NID_subject_key_identifier,
	NID_subject_alt_name, NID_crl_distribution_points, NID_undef
};
static const int link_exts[] = {
	NID_basic_constraints, NID_key_usage, NID_subject_key_identifier,
	NID_authority_key_identifier, NID_crl_distribution_points, NID_undef
};
static const int issuing_exts[] = {
	NID_basic_constraints, NID_key_usage, NID_subject_key_identifier,
	NID_authority_key_identifier, NID_certificate_policies,
	NID_crl_distribution_points, NID_undef
};
static const int cross_exts[] = {
	NID_basic_constraints, NID_key_usage, NID_subject_key_identifier,
	NID_authority_key_identifier, NID_certificate_policies,
	NID_policy_mappings, NID_crl_distribution_points, NID_undef
};
static const int ocsp_exts[] = {
	NID_key_usage, NID_ext_key_usage, NID_id_pkix_OCSP_noCheck,
	NID_subject_key_identifier, NID_authority_key_identifier,
	NID_certificate_policies, NID_undef
};
static const int validation_exts[] = {
	NID_key_usage, NID_subject_key_identifier,
	NID_authority_key_identifier, NID_certificate_policies,
	NID_crl_distribution_points, NID_undef
};

static const int user_exts[] = {
	NID_key_usage, NID_subject_key_identifier,
	NID_authority_key_identifier, NID_certificate_policies,
	NID_crl_distribution_points, NID_issuer_alt_name,
	NID_subject_alt_name, NID_undef
};

static const int *
kind_exts(enum hk_cert_kind kind)
{
	switch (kind) {
	case HK_CERT_ROOT:	return root_exts;
	case HK_CERT_LINK:	return link_exts;
	case HK_CERT_ISSUING:	return issuing_exts;
	case HK_CERT_CROSS:	return cross_exts;
	case HK_CERT_OCSP:	return ocsp_exts;
	case HK_CERT_VALIDATION: return validation_exts;
	case HK_CERT_USER:	return user_exts;
	}
	return NULL;
}

static int
is_ca_kind(enum hk_cert_kind kind)
{
	return kind == HK_CERT_ROOT || kind == HK_CERT_LINK ||
	    kind == HK_CERT_ISSUING || kind == HK_CERT_CROSS;
}

static int
lint_ext_set(const struct lint *l)
{
	const int *allowed = kind_exts(l->kind);
	int i, j, k, nid, n = X509_get_ext_count(l->x);
	char oid[80];

	if (allowed == NULL)
		return bad(l, "no lint rules for this kind yet");
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
		if (nid == NID_authority_key_identifier &&
		    l->kind == HK_CERT_ROOT)
			return bad(l, "PROFILE.md: a self-signed root carries "
			    "no authorityKeyIdentifier");
		for (k = 0; allowed[k] != NID_undef; k++)
			if (allowed[k] == nid)
				break;
		if (allowed[k] == NID_undef)
			return bad(l, "PROFILE.md: extension %s%s is not in the "
			    "%s profile", oid, X509_EXTENSION_get_critical(e) ?
			    " (critical)" : "", l->kn);
	}
	return 0;
}

/* The decoded extension nid (caller frees with its type's _free), or NULL
 * when absent (*crit = -1) or undecodable (*crit 0 or 1). lint_ext_set has
 * ruled out duplicates. */
static void *
get_ext(const struct lint *l, int nid, int *crit)
{
	int i = X509_get_ext_by_NID(l->x, nid, -1);
	X509_EXTENSION *e;

	*crit = -1;
	if (i < 0 || (e = X509_get_ext(l->x, i)) == NULL)
		return NULL;
	*crit = X509_EXTENSION_get_critical(e);
	return X509V3_EXT_d2i(e);
}

static int
lint_bc(const struct lint *l)
{
	BASIC_CONSTRAINTS *bc;
	long pl;
	int crit, r = 0;

	if (!is_ca_kind(l->kind))
		return 0;	/* absent: lint_ext_set refuses it */
	bc = get_ext(l, NID_basic_constraints, &crit);
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
	else if ((l->kind == HK_CERT_ROOT || l->kind == HK_CERT_LINK) &&
	    bc->pathlen != NULL)
		r = bad(l, "PROFILE.md: the %s's basicConstraints carries no "
		    "pathLenConstraint", l->kn);
	else if (l->kind == HK_CERT_ISSUING && (bc->pathlen == NULL ||
	    ASN1_INTEGER_get_int64((int64_t *)&pl, bc->pathlen) != 1 ||
	    pl != 0))
		r = bad(l, "PROFILE.md: an issuing CA's basicConstraints must "
		    "have pathLenConstraint 0");
	else if (bc->pathlen != NULL &&
	    ASN1_STRING_type(bc->pathlen) == V_ASN1_NEG_INTEGER)
		r = bad(l, "RFC 5280 4.2.1.9: pathLenConstraint must not be "
		    "negative");
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

static int
lint_ku(const struct lint *l)
{
	ASN1_BIT_STRING *ku;
	int crit, i, r = 0, b0, b1;
	const char *want;

	switch (l->kind) {
	case HK_CERT_OCSP:
		b0 = 0, b1 = -1, want = "digitalSignature";
		break;
	case HK_CERT_VALIDATION:
	case HK_CERT_USER:
		b0 = 0, b1 = 1, want = "digitalSignature and nonRepudiation";
		break;
	default:
		b0 = 5, b1 = 6, want = "keyCertSign and cRLSign";
		break;
	}
	ku = get_ext(l, NID_key_usage, &crit);
	if (crit < 0)
		return bad(l, is_ca_kind(l->kind) ? "RFC 5280 4.2.1.3: keyUsage "
		    "must be present in a CA certificate" :
		    "PROFILE.md: keyUsage must be present");
	if (ku == NULL)
		return bad(l, "RFC 5280 4.2.1.3: keyUsage does not decode");
	if (!crit)
		r = bad(l, "RFC 5280 4.2.1.3: keyUsage must be critical "
		    "(PROFILE.md)");
	for (i = 0; r == 0 && i < ku->length * 8; i++)
		if (ASN1_BIT_STRING_get_bit(ku, i) != (i == b0 || i == b1))
			r = bad(l, "PROFILE.md: keyUsage must be exactly %s",
			    want);
	if (r == 0 && (!ASN1_BIT_STRING_get_bit(ku, b0) ||
	    (b1 >= 0 && !ASN1_BIT_STRING_get_bit(ku, b1))))
		r = bad(l, "PROFILE.md: keyUsage must be exactly %s", want);
	ASN1_BIT_STRING_free(ku);
	return r;
}

static int
lint_bc_ku(const struct lint *l)
{
	int r;

	if ((r = lint_bc(l)) != 0)
		return r;
	return lint_ku(l);
}

static int
lint_ski(const struct lint *l)
{
	ASN1_OCTET_STRING *ski;
	unsigned char kid[EVP_MAX_MD_SIZE];
	unsigned int kl = 0;
	int crit, r = 0;

	ski = get_ext(l, NID_subject_key_identifier, &crit);
	if (crit < 0)
		return bad(l, is_ca_kind(l->kind) ? "RFC 5280 4.2.1.2: "
		    "subjectKeyIdentifier must be present in a CA certificate" :
		    "RFC 5280 4.2.1.2 / PROFILE.md: subjectKeyIdentifier must "
		    "be present");
	if (ski == NULL)
		return bad(l, "RFC 5280 4.2.1.2: subjectKeyIdentifier does not "
		    "decode");
	if (crit)
		r = bad(l, "RFC 5280 4.2.1.2: subjectKeyIdentifier must not be "
		    "critical");
	/* OpenSSL's digest of the certificate's own subjectPublicKey bits,
	 * not the builder's (hk_cert_key_id, which re-encodes the key) */
	else if (X509_pubkey_digest(l->x, EVP_sha1(), kid, &kl) != 1 ||
	    kl != 20)
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
	int crit, r = 0;

	san = get_ext(l, NID_subject_alt_name, &crit);
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
	else if (!hk_cert_name_eq(gn->d.directoryName, l->jname))
		r = bad(l, "PROFILE.md: subjectAltName directoryName must be "
		    "the Japanese name \"%s\"%s%s", l->p->root_jname,
		    l->rehearsal ? " + OU=" : "",
		    l->rehearsal ? l->p->rehearsal_marker : "");
	GENERAL_NAMES_free(san);
	return r;
}

/*
 * What both cRLDistributionPoints rules ask (PROFILE.md): present (naming
 * `what`), decodes, non-critical, one point with a fullName and no reasons
 * or cRLIssuer. On 0, *full is that fullName, *want how many names it
 * must hold (2 with a repository URL, else 1) and *out the extension, the
 * caller's to free.
 */
static int
crldp_point(const struct lint *l, const char *what, CRL_DIST_POINTS **out,
    GENERAL_NAMES **full, int *want)
{
	CRL_DIST_POINTS *dps;
	DIST_POINT *dp;
	int crit, r;

	*out = NULL;
	*want = *l->p->repository_url != '\0' ? 2 : 1;
	dps = get_ext(l, NID_crl_distribution_points, &crit);
	if (crit < 0)
		return bad(l, "PROFILE.md: cRLDistributionPoints naming %s "
		    "must be present", what);
	if (dps == NULL)
		return bad(l, "RFC 5280 4.2.1.13: cRLDistributionPoints does "
		    "not decode");
	if (crit)
		r = bad(l, "RFC 5280 4.2.1.13: cRLDistributionPoints should "
		    "be non-critical");
	else if (sk_DIST_POINT_num(dps) != 1 ||
	    (dp = sk_DIST_POINT_value(dps, 0))->reasons != NULL ||
	    dp->CRLissuer != NULL || dp->distpoint == NULL ||
	    dp->distpoint->type != 0)
		r = bad(l, "PROFILE.md: cRLDistributionPoints must be one "
		    "point with a fullName and no reasons or cRLIssuer");
	else {
		*full = dp->distpoint->name.fullname;
		*out = dps;
		return 0;
	}
	CRL_DIST_POINTS_free(dps);
	return r;
}

static int
lint_crldp(const struct lint *l)
{
	CRL_DIST_POINTS *dps;
	GENERAL_NAMES *full;
	GENERAL_NAME *gn;
	const char *repo = l->p->repository_url;
	char uri[600];
	int want, r;

	if ((r = crldp_point(l, "the root DN", &dps, &full, &want)) != 0)
		return r;
	snprintf(uri, sizeof(uri), "%s/arl.crl", repo);
	if (sk_GENERAL_NAME_num(full) != want ||
	    (gn = sk_GENERAL_NAME_value(full, 0))->type != GEN_DIRNAME ||
	    !hk_cert_name_eq(gn->d.directoryName, l->dn)) {
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

static int
lint_aki(const struct lint *l)
{
	AUTHORITY_KEYID *aki;
	int crit, r = 0;

	if (l->kind == HK_CERT_ROOT)
		return 0;
	aki = get_ext(l, NID_authority_key_identifier, &crit);
	if (crit < 0)
		return bad(l, "RFC 5280 4.2.1.1: authorityKeyIdentifier must be "
		    "present");
	if (aki == NULL)
		return bad(l, "RFC 5280 4.2.1.1: authorityKeyIdentifier does "
		    "not decode");
	if (crit)
		r = bad(l, "RFC 5280 4.2.1.1: authorityKeyIdentifier must not "
		    "be critical");
	else if (aki->keyid == NULL || ASN1_STRING_length(aki->keyid) != 20)
		r = bad(l, "RFC 5280 4.2.1.1 / PROFILE.md: authorityKeyIdentifier "
		    "must hold a 20-byte keyIdentifier");
	else if (aki->issuer != NULL || aki->serial != NULL)
		r = bad(l, "PROFILE.md: authorityKeyIdentifier holds the "
		    "keyIdentifier only (no issuer and serial)");
	AUTHORITY_KEYID_free(aki);
	return r;
}

/*
 * The policy OID of a kind, read here from the profile the way PROFILE.md's
 * certificatePolicies row and docs/certificates.md give it, not taken from
 * the builder (hk_cert_policy), so that a slip in the builder's table is a
 * lint failure: cross and issuing CA policies.ca, the resident
 * policies.user, the OCSP responder policies.ocsp, the validation server
 * policies.validation. In a rehearsal each its test arc (policies.*-test);
 * the CA kinds, which have none of their own, the resident's
 * policies.user-test (.1.0.10). NULL for the root and link, which carry no
 * certificatePolicies.
 */
static const char *
profile_policy(const struct hk_profile *p, enum hk_cert_kind kind,
    int rehearsal)
{
	switch (kind) {
	case HK_CERT_CROSS:
	case HK_CERT_ISSUING:
		return rehearsal ? p->policy_user_test : p->policy_ca;
	case HK_CERT_USER:
		return rehearsal ? p->policy_user_test : p->policy_user;
	case HK_CERT_OCSP:
		return rehearsal ? p->policy_ocsp_test : p->policy_ocsp;
	case HK_CERT_VALIDATION:
		return rehearsal ? p->policy_validation_test :
		    p->policy_validation;
	case HK_CERT_ROOT:
	case HK_CERT_LINK:
		break;
	}
	return NULL;
}

static int
lint_policies(const struct lint *l)
{
	const char *want = profile_policy(l->p, l->kind, l->rehearsal);
	CERTIFICATEPOLICIES *cps;
	POLICYINFO *pi;
	char oid[HK_PROFILE_OID_MAX];
	int crit, r = 0;

	if (want == NULL)
		return 0;	/* absent: lint_ext_set refuses it */
	cps = get_ext(l, NID_certificate_policies, &crit);
	if (crit < 0)
		return bad(l, "PROFILE.md: certificatePolicies %s must be "
		    "present", want);
	if (cps == NULL)
		return bad(l, "RFC 5280 4.2.1.4: certificatePolicies does not "
		    "decode");
	if (crit)
		r = bad(l, "PROFILE.md: certificatePolicies must not be "
		    "critical in a %s certificate", l->kn);
	else if (sk_POLICYINFO_num(cps) != 1 ||
	    (pi = sk_POLICYINFO_value(cps, 0))->qualifiers != NULL ||
	    OBJ_obj2txt(oid, sizeof(oid), pi->policyid, 1) <= 0 ||
	    strcmp(oid, want) != 0)
		r = bad(l, "PROFILE.md: certificatePolicies must be exactly "
		    "%s%s without qualifiers", want, l->rehearsal ?
		    " (the rehearsal arc)" : "");
	sk_POLICYINFO_pop_free(cps, POLICYINFO_free);
	return r;
}

static int
lint_policy_mappings(const struct lint *l)
{
	const char *ca = profile_policy(l->p, l->kind, l->rehearsal);
	POLICY_MAPPINGS *pms;
	POLICY_MAPPING *pm;
	char a[HK_PROFILE_OID_MAX], b[HK_PROFILE_OID_MAX];
	int crit, i, r = 0;

	if (l->kind != HK_CERT_CROSS)
		return 0;
	pms = get_ext(l, NID_policy_mappings, &crit);
	if (crit < 0)
		return 0;	/* optional: only when agreed with the BCA */
	if (pms == NULL)
		return bad(l, "RFC 5280 4.2.1.5: policyMappings does not "
		    "decode");
	if (crit != (l->p->policy_mappings_critical ? 1 : 0))
		r = bad(l, "PROFILE.md (interoperability): policyMappings must "
		    "be %scritical as the profile says",
		    l->p->policy_mappings_critical ? "" : "non-");
	else if (sk_POLICY_MAPPING_num(pms) < 1)
		r = bad(l, "RFC 5280 4.2.1.5: policyMappings must not be "
		    "empty");
	for (i = 0; r == 0 && i < sk_POLICY_MAPPING_num(pms); i++) {
		pm = sk_POLICY_MAPPING_value(pms, i);
		if (OBJ_obj2txt(a, sizeof(a), pm->issuerDomainPolicy, 1) <= 0 ||
		    OBJ_obj2txt(b, sizeof(b), pm->subjectDomainPolicy, 1) <= 0 ||
		    strcmp(a, "2.5.29.32.0") == 0 ||
		    strcmp(b, "2.5.29.32.0") == 0)
			r = bad(l, "RFC 5280 4.2.1.5: policyMappings must not "
			    "map to or from anyPolicy");
		else if (strcmp(a, ca) != 0)
			r = bad(l, "PROFILE.md: policyMappings issuerDomainPolicy "
			    "must be our CA policy %s", ca);
	}
	sk_POLICY_MAPPING_pop_free(pms, POLICY_MAPPING_free);
	return r;
}

static int
lint_ocsp(const struct lint *l)
{
	EXTENDED_KEY_USAGE *eku;
	const ASN1_OCTET_STRING *v;
	int i, crit, r = 0;

	if (l->kind != HK_CERT_OCSP)
		return 0;
	eku = get_ext(l, NID_ext_key_usage, &crit);
	if (crit < 0)
		return bad(l, "RFC 6960 4.2.2.2: extendedKeyUsage "
		    "id-kp-OCSPSigning must be present");
	if (eku == NULL)
		return bad(l, "RFC 5280 4.2.1.12: extendedKeyUsage does not "
		    "decode");
	if (crit)
		r = bad(l, "PROFILE.md: extendedKeyUsage must not be critical");
	else if (sk_ASN1_OBJECT_num(eku) != 1 ||
	    OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) != NID_OCSP_sign)
		r = bad(l, "RFC 6960 4.2.2.2 / PROFILE.md: extendedKeyUsage must "
		    "be exactly id-kp-OCSPSigning");
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	if (r != 0)
		return r;
	/* OpenSSL's d2i for id-pkix-ocsp-nocheck accepts any content:
	 * check the raw extnValue. */
	if ((i = X509_get_ext_by_NID(l->x, NID_id_pkix_OCSP_noCheck, -1)) < 0)
		return bad(l, "RFC 6960 4.2.2.2.1 / PROFILE.md: "
		    "id-pkix-ocsp-nocheck must be present");
	if (X509_EXTENSION_get_critical(X509_get_ext(l->x, i)))
		return bad(l, "RFC 6960 4.2.2.2.1: id-pkix-ocsp-nocheck must "
		    "not be critical");
	v = X509_EXTENSION_get_data(X509_get_ext(l->x, i));
	if (ASN1_STRING_length(v) != 2 || ASN1_STRING_get0_data(v)[0] != 0x05 ||
	    ASN1_STRING_get0_data(v)[1] != 0x00)
		return bad(l, "RFC 6960 4.2.2.2.1: id-pkix-ocsp-nocheck value "
		    "must be NULL");
	return 0;
}

/* The value of the first entry nid of name, copied into buf, or -1. */
static int
name_value(const X509_NAME *name, int nid, char *buf, size_t len)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	const ASN1_STRING *v;
	int vl;

	if (i < 0)
		return -1;
	v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	vl = ASN1_STRING_length(v);
	if (vl <= 0 || (size_t)vl >= len ||
	    memchr(ASN1_STRING_get0_data(v), 0, (size_t)vl) != NULL)
		return -1;
	memcpy(buf, ASN1_STRING_get0_data(v), (size_t)vl);
	buf[vl] = '\0';
	return 0;
}

/* Subject "<prefix>, L=<romaji>, CN=<serial hex>" (+ OU=<marker>). */
static int
lint_user_subject(const struct lint *l, char *romaji, size_t rlen)
{
	const X509_NAME *got = X509_get_subject_name(l->x);
	X509_NAME *want = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL, cn[128], dn[HK_PROFILE_DN_MAX * 3];
	const char *why = NULL;
	int eq = 0;

	if (got == NULL || X509_NAME_entry_count(got) == 0)
		return bad(l, "RFC 5280 4.1.2.6: subject must not be empty");
	if (hk_name_check_types(got, &why) != 0)
		return bad(l, "RFC 5280 4.1.2.6 / PROFILE.md: subject: %s", why);
	if (rlen > HK_PROFILE_DN_MAX)
		rlen = HK_PROFILE_DN_MAX;
	if (name_value(got, NID_localityName, romaji, rlen) == 0 &&
	    name_value(got, NID_commonName, cn, sizeof(cn)) == 0 &&
	    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(l->x), NULL)) !=
	    NULL && (hex = BN_bn2hex(bn)) != NULL && strcmp(cn, hex) == 0) {
		snprintf(dn, sizeof(dn), "%s, L=%s, CN=%s",
		    l->p->issuing_subject_prefix, romaji, hex);
		if (hk_name_build(dn, l->rehearsal ? l->p->rehearsal_marker :
		    NULL, &want) == 0)
			eq = hk_cert_name_eq(got, want);
	}
	X509_NAME_free(want);
	OPENSSL_free(hex);
	BN_free(bn);
	if (!eq)
		return bad(l, "PROFILE.md: subject must be \"%s, L=<municipality"
		    ">, CN=<serial in hex>\"%s%s", l->p->issuing_subject_prefix,
		    l->rehearsal ? " + OU=" : "",
		    l->rehearsal ? l->p->rehearsal_marker : "");
	return 0;
}

static int
lint_user_key(const struct lint *l)
{
	EVP_PKEY *pk = X509_get0_pubkey(l->x);

	if (pk == NULL)
		return bad(l, "RFC 5280 4.1.2.7: subjectPublicKeyInfo does not "
		    "decode");
	if (hk_key_alg_matches(pk, l->p->user_key))
		return 0;
	if (l->p->user_allow_rsa1024 && EVP_PKEY_is_a(pk, "RSA") &&
	    EVP_PKEY_get_bits(pk) == 1024)
		return 0;
	return bad(l, "CPS 6-1-2-3 / PROFILE.md: the key must be %s%s",
	    hk_key_alg_name(l->p->user_key), l->p->user_allow_rsa1024 ?
	    " or legacy RSA-1024" : "");
}

static int
lint_user_policies(const struct lint *l)
{
	const char *want = profile_policy(l->p, HK_CERT_USER, l->rehearsal);
	CERTIFICATEPOLICIES *cps;
	POLICYINFO *pi;
	POLICYQUALINFO *q;
	char oid[HK_PROFILE_OID_MAX];
	int crit, r = 0;

	cps = get_ext(l, NID_certificate_policies, &crit);
	if (crit < 0)
		return bad(l, "PROFILE.md: certificatePolicies %s must be "
		    "present", want);
	if (cps == NULL)
		return bad(l, "RFC 5280 4.2.1.4: certificatePolicies does not "
		    "decode");
	if (crit != (l->p->policy_user_critical ? 1 : 0))
		r = bad(l, "PROFILE.md: certificatePolicies must be %scritical "
		    "in a user certificate", l->p->policy_user_critical ?
		    "" : "non-");
	else if (sk_POLICYINFO_num(cps) != 1 ||
	    OBJ_obj2txt(oid, sizeof(oid), (pi = sk_POLICYINFO_value(cps,
	    0))->policyid, 1) <= 0 || strcmp(oid, want) != 0)
		r = bad(l, "PROFILE.md: certificatePolicies must be exactly "
		    "%s%s", want, l->rehearsal ? " (the rehearsal arc)" : "");
	else if (sk_POLICYQUALINFO_num(pi->qualifiers) != 1 ||
	    OBJ_obj2nid((q = sk_POLICYQUALINFO_value(pi->qualifiers,
	    0))->pqualid) != NID_id_qt_cps ||
	    (size_t)ASN1_STRING_length(q->d.cpsuri) !=
	    strlen(l->p->cps_uri) || memcmp(ASN1_STRING_get0_data(
	    q->d.cpsuri), l->p->cps_uri, strlen(l->p->cps_uri)) != 0)
		r = bad(l, "PROFILE.md: certificatePolicies must carry one CPS "
		    "pointer qualifier %s", l->p->cps_uri);
	sk_POLICYINFO_pop_free(cps, POLICYINFO_free);
	return r;
}

/*
 * The name of municipality romaji's CRL partition for issuing generation
 * gen, made here from the profile the way PROFILE.md (Names: "<issuing
 * prefix>, OU=CRL Distribution Points, CN=<Municipality> CRLDP") and
 * docs/publish.md "Issuing generations" (generation g from 2: "... CRLDP
 * <g>") give it, + OU=<marker> in a rehearsal; not the builder's
 * (hk_cert_partition_dn). gsuf is " <g>" after generation 1, else "".
 */
static void
partition_gsuf(int gen, char gsuf[16])
{
	gsuf[0] = '\0';
	if (gen > 1)
		snprintf(gsuf, 16, " %d", gen);
}

static int
partition_dn(const struct hk_profile *p, const char *romaji, int gen,
    int rehearsal, X509_NAME **out)
{
	char dn[HK_PROFILE_DN_MAX * 2 + 64], gsuf[16];
	int n;

	*out = NULL;
	partition_gsuf(gen, gsuf);
	n = snprintf(dn, sizeof(dn), "%s, OU=CRL Distribution Points, "
	    "CN=%s CRLDP%s", p->issuing_subject_prefix, romaji, gsuf);
	if (n < 0 || (size_t)n >= sizeof(dn))
		return HK_ERR_INVALID;
	return hk_name_build(dn, rehearsal ? p->rehearsal_marker : NULL, out);
}

/*
 * The partition's file in the repository, from its URI: "<repository-url>
 * /crl/<code>.crl" in generation 1, ".../crl/<code>-<g>.crl" in a later
 * generation g (docs/publish.md "Issuing generations"), the code six
 * digits. The certificate does not name the municipality's code: any
 * six digits pass here; lint_user_crldp then compares them with the code
 * the run's context has for the municipality, when it has one.
 */
static int
partition_uri_ok(const struct lint *l, const ASN1_IA5STRING *uri)
{
	char pre[HK_PROFILE_URL_MAX + 8], suf[24];
	const unsigned char *u = ASN1_STRING_get0_data(uri);
	size_t pl, sl, ul = (size_t)ASN1_STRING_length(uri), i;

	snprintf(pre, sizeof(pre), "%s/crl/", l->p->repository_url);
	if (l->gen > 1)
		snprintf(suf, sizeof(suf), "-%d.crl", l->gen);
	else
		snprintf(suf, sizeof(suf), ".crl");
	pl = strlen(pre);
	sl = strlen(suf);
	if (ul != pl + 6 + sl || memcmp(u, pre, pl) != 0 ||
	    memcmp(u + pl + 6, suf, sl) != 0)
		return 0;
	for (i = pl; i < pl + 6; i++)
		if (u[i] < '0' || u[i] > '9')
			return 0;
	return 1;
}

static int
lint_user_crldp(const struct lint *l, const char *romaji)
{
	CRL_DIST_POINTS *dps;
	GENERAL_NAMES *full;
	GENERAL_NAME *gn;
	X509_NAME *part = NULL;
	const X509_NAME *pdn = NULL;
	const struct lint_part *lp = NULL;
	const unsigned char *u;
	char gsuf[16];
	int want, r;
	size_t i, pl;

	if ((r = crldp_point(l, "the municipality's partition", &dps, &full,
	    &want)) != 0)
		return r;
	for (i = 0; l->ctx != NULL && i < l->ctx->nparts && lp == NULL; i++)
		if (strcmp(l->ctx->parts[i].romaji, romaji) == 0)
			pdn = (lp = &l->ctx->parts[i])->dn;
	if (pdn == NULL && partition_dn(l->p, romaji, l->gen, l->rehearsal,
	    &part) == 0)
		pdn = part;
	if (pdn == NULL || sk_GENERAL_NAME_num(full) != want ||
	    (gn = sk_GENERAL_NAME_value(full, 0))->type != GEN_DIRNAME ||
	    !hk_cert_name_eq(gn->d.directoryName, pdn)) {
		partition_gsuf(l->gen, gsuf);
		r = bad(l, "PROFILE.md: cRLDistributionPoints fullName must be "
		    "the partition \"%s, OU=CRL Distribution Points, CN=%s "
		    "CRLDP%s\" of issuing generation %d%s",
		    l->p->issuing_subject_prefix, romaji, gsuf, l->gen,
		    want == 2 ? " and its http URI" : " only");
		goto out;
	}
	if (want == 2 && ((gn = sk_GENERAL_NAME_value(full, 1))->type !=
	    GEN_URI || !partition_uri_ok(l, gn->d.uniformResourceIdentifier))) {
		r = bad(l, "PROFILE.md: cRLDistributionPoints URI must be "
		    "%s/crl/<code>%s.crl (issuing generation %d)",
		    l->p->repository_url, l->gen > 1 ? "-<generation>" : "",
		    l->gen);
		goto out;
	}
	/* The form is right: its six digits must be the code of the
	 * municipality the DN names, when the context knows it. */
	if (want == 2 && lp != NULL) {
		u = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
		pl = strlen(l->p->repository_url) + strlen("/crl/");
		if (memcmp(u + pl, lp->code, 6) != 0)
			r = bad(l, "PROFILE.md: cRLDistributionPoints URI must "
			    "name the partition's municipality %s, code %s, not "
			    "%.6s", romaji, lp->code, (const char *)u + pl);
	}
out:
	X509_NAME_free(part);
	CRL_DIST_POINTS_free(dps);
	return r;
}

static int
lint_user_ian(const struct lint *l)
{
	GENERAL_NAMES *ian;
	GENERAL_NAME *gn;
	int crit, r = 0;

	ian = get_ext(l, NID_issuer_alt_name, &crit);
	if (crit < 0)
		return bad(l, "PROFILE.md: issuerAltName with the issuer's "
		    "Japanese name must be present");
	if (ian == NULL)
		return bad(l, "RFC 5280 4.2.1.7: issuerAltName does not "
		    "decode");
	if (crit)
		r = bad(l, "RFC 5280 4.2.1.7: issuerAltName should be "
		    "non-critical");
	else if (sk_GENERAL_NAME_num(ian) != 1 ||
	    (gn = sk_GENERAL_NAME_value(ian, 0))->type != GEN_DIRNAME ||
	    !hk_cert_name_eq(gn->d.directoryName, l->jname))
		r = bad(l, "PROFILE.md: issuerAltName must be exactly the "
		    "directoryName \"%s\"%s%s", l->p->root_jname,
		    l->rehearsal ? " + OU=" : "",
		    l->rehearsal ? l->p->rehearsal_marker : "");
	GENERAL_NAMES_free(ian);
	return r;
}

/* A basic-4 value's rule broken (HK_ERR_INVALID: a lint failure naming
 * the item), or the rule's own failure (no EUC-JP in iconv) as it is. */
static int
value_bad(const struct lint *l, const char *item, int r, const char *why)
{
	if (r == HK_ERR_INVALID)
		return bad(l, "subjectAltName %s: %s", item, why);
	hk_err_set("%s: subjectAltName %s: %s", l->kn, item, why);
	return r;
}

static int
lint_user_san(const struct lint *l)
{
	struct hk_basic4 b;
	char why[512];
	time_t nb;
	int r, crit = X509_get_ext_by_NID(l->x, NID_subject_alt_name, -1);

	if (crit >= 0 && X509_EXTENSION_get_critical(X509_get_ext(l->x,
	    crit)))
		return bad(l, "RFC 5280 4.2.1.6: subjectAltName must not be "
		    "critical when the subject is not empty");
	if (hk_basic4_from_cert(l->x, &b) != 0)
		return bad(l, "%s", hk_err_msg());
	/* the request checker's rules (shared/basic4.c), the date of birth
	 * not after the day of issue */
	if (hk_cert_time(X509_get0_notBefore(l->x), &nb) != 0)
		return bad(l, "RFC 5280 4.1.2.5: notBefore does not decode");
	if ((r = hk_basic4_birth_ok(b.birth, nb, why, sizeof(why))) != 0)
		return value_bad(l, "dateOfBirth", r, why);
	if (strlen(b.gender) != 1 || b.gender[0] < '1' || b.gender[0] > '3')
		return bad(l, "PROFILE.md: gender must be 1, 2 or 3");
	if (hk_utf8_chars(b.name, strlen(b.name)) != (int)strlen(b.name_flags)
	    || hk_utf8_chars(b.address, strlen(b.address)) !=
	    (int)strlen(b.addr_flags))
		return bad(l, "PROFILE.md: substitute flags must be one per "
		    "character of the name and the address");
	/* each string on its own: the name's flags end at 100 */
	if (strspn(b.name_flags, "01") != strlen(b.name_flags) ||
	    strspn(b.addr_flags, "01") != strlen(b.addr_flags))
		return bad(l, "PROFILE.md: substitute flags are 0 or 1");
	if (hk_utf8_chars(b.address, strlen(b.address)) > HK_B4_ADDR_CHARS)
		return bad(l, "PROFILE.md: address at most %d characters",
		    HK_B4_ADDR_CHARS);
	if ((r = hk_basic4_jis_ok(b.name, why, sizeof(why))) != 0)
		return value_bad(l, "commonName", r, why);
	if ((r = hk_basic4_jis_ok(b.address, why, sizeof(why))) != 0)
		return value_bad(l, "address", r, why);
	return 0;
}

static int
lint_user(struct lint *l)
{
	char romaji[HK_PROFILE_DN_MAX];
	const char *why = NULL;
	const X509_NAME *iss = X509_get_issuer_name(l->x);
	int r;

	if ((r = lint_version_serial(l)) != 0 || (r = lint_sigalg(l)) != 0)
		return r;
	if (iss == NULL || X509_NAME_entry_count(iss) == 0 ||
	    hk_name_check_types(iss, &why) != 0)
		return bad(l, "RFC 5280 4.1.2.4: issuer must be a non-empty "
		    "name of the profile's types");
	if ((r = lint_user_subject(l, romaji, sizeof(romaji))) != 0 ||
	    (r = lint_validity(l)) != 0 ||
	    (r = lint_user_key(l)) != 0 ||
	    (r = lint_ext_set(l)) != 0 ||
	    (r = lint_ku(l)) != 0 ||
	    (r = lint_ski(l)) != 0 ||
	    (r = lint_aki(l)) != 0 ||
	    (r = lint_user_policies(l)) != 0 ||
	    (r = lint_user_crldp(l, romaji)) != 0 ||
	    (r = lint_user_ian(l)) != 0 ||
	    (r = lint_user_san(l)) != 0)
		return r;
	return 0;
}

static int
lint_run(X509 *cert, const struct hk_profile *p, enum hk_cert_kind kind,
    int rehearsal, int gen, const struct hk_lint_user_ctx *ctx)
{
	struct lint l = { .x = cert, .p = p, .kind = kind,
	    .kn = hk_cert_kind_name(kind), .rehearsal = rehearsal, .gen = gen };
	const char *marker = rehearsal ? p->rehearsal_marker : NULL;
	int r;

	if (gen < 1 || gen > HK_CERT_GEN_MAX)
		return bad(&l, "issuing generation %d: a number from 1 to %d",
		    gen, HK_CERT_GEN_MAX);
	if (kind_exts(kind) == NULL)
		return bad(&l, "no lint rules for this kind yet");
	if (ctx != NULL) {
		/* the context's own names, never freed here */
		l.ctx = ctx;
		l.dn = ctx->dn;
		l.jname = ctx->jname;
		return lint_user(&l);
	}
	if (hk_name_build(p->root_subject, marker, &l.dn) != 0 ||
	    hk_name_build(p->root_jname, marker, &l.jname) != 0) {
		r = bad(&l, "the profile's DNs do not parse");
		goto out;
	}
	if (kind == HK_CERT_USER) {
		r = lint_user(&l);
		goto out;
	}
	if ((r = lint_version_serial(&l)) != 0 ||
	    (r = lint_sigalg(&l)) != 0 ||
	    (r = lint_one_name(&l, X509_get_issuer_name(cert), "issuer",
	    "4.1.2.4")) != 0 ||
	    (r = lint_subject(&l)) != 0 ||
	    (r = lint_validity(&l)) != 0 ||
	    (r = lint_key(&l)) != 0 ||
	    (r = lint_ext_set(&l)) != 0 ||
	    (r = lint_bc_ku(&l)) != 0 ||
	    (r = lint_ski(&l)) != 0 ||
	    (r = lint_aki(&l)) != 0 ||
	    (r = lint_policies(&l)) != 0 ||
	    (r = lint_policy_mappings(&l)) != 0 ||
	    (r = lint_ocsp(&l)) != 0 ||
	    (kind == HK_CERT_ROOT && (r = lint_san(&l)) != 0) ||
	    (kind != HK_CERT_OCSP && (r = lint_crldp(&l)) != 0))
		goto out;
	r = 0;
out:
	X509_NAME_free(l.dn);
	X509_NAME_free(l.jname);
	return r;
}

int
hk_lint_cert(X509 *cert, const struct hk_profile *p, enum hk_cert_kind kind,
    int rehearsal)
{
	return lint_run(cert, p, kind, rehearsal, 1, NULL);
}

int
hk_lint_user(X509 *cert, const struct hk_profile *p, int rehearsal, int gen)
{
	return lint_run(cert, p, HK_CERT_USER, rehearsal, gen, NULL);
}

/* Encoded now, so that comparing reads it only (threads share it). */
static int
name_encoded(X509_NAME *n)
{
	const unsigned char *der;
	size_t len;

	return X509_NAME_get0_der(n, &der, &len) == 1 && len > 0 ? 0 :
	    HK_ERR_CRYPTO;
}

int
hk_lint_user_ctx_new(const struct hk_profile *p, int rehearsal, int gen,
    struct hk_lint_user_ctx **out)
{
	struct hk_lint_user_ctx *c;
	const char *marker = rehearsal ? p->rehearsal_marker : NULL;

	*out = NULL;
	if (gen < 1 || gen > HK_CERT_GEN_MAX) {
		hk_err_set("user: issuing generation %d: a number from 1 to "
		    "%d", gen, HK_CERT_GEN_MAX);
		return HK_ERR_INVALID;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return HK_ERR_ALLOC;
	c->p = p;
	c->rehearsal = rehearsal;
	c->gen = gen;
	if (hk_name_build(p->root_subject, marker, &c->dn) != 0 ||
	    hk_name_build(p->root_jname, marker, &c->jname) != 0 ||
	    name_encoded(c->dn) != 0 || name_encoded(c->jname) != 0) {
		hk_lint_user_ctx_free(c);
		hk_err_set("user: the profile's DNs do not parse");
		return HK_ERR_LINT;
	}
	*out = c;
	return 0;
}

int
hk_lint_user_ctx_partition(struct hk_lint_user_ctx *c, const char *romaji,
    const char *code)
{
	struct lint_part *np;
	size_t i;

	if (strlen(romaji) >= sizeof(np->romaji)) {
		hk_err_set("user: partition %s: romaji too long", romaji);
		return HK_ERR_INVALID;
	}
	for (i = 0; i < 6 && code[i] >= '0' && code[i] <= '9'; i++)
		;
	if (i != 6 || code[6] != '\0') {
		hk_err_set("user: partition %s: code \"%s\": must be 6 digits",
		    romaji, code);
		return HK_ERR_INVALID;
	}
	if (c->nparts == c->cap) {
		size_t nc = c->cap ? 2 * c->cap : 64;

		if ((np = realloc(c->parts, nc * sizeof(*np))) == NULL)
			return HK_ERR_ALLOC;
		c->parts = np;
		c->cap = nc;
	}
	np = &c->parts[c->nparts];
	memset(np, 0, sizeof(*np));
	if (partition_dn(c->p, romaji, c->gen, c->rehearsal, &np->dn) != 0 ||
	    name_encoded(np->dn) != 0) {
		X509_NAME_free(np->dn);
		hk_err_set("user: partition %s: its DN does not build", romaji);
		return HK_ERR_LINT;
	}
	snprintf(np->romaji, sizeof(np->romaji), "%s", romaji);
	memcpy(np->code, code, sizeof(np->code));
	c->nparts++;
	return 0;
}

void
hk_lint_user_ctx_free(struct hk_lint_user_ctx *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nparts; i++)
		X509_NAME_free(c->parts[i].dn);
	free(c->parts);
	X509_NAME_free(c->dn);
	X509_NAME_free(c->jname);
	free(c);
}

int
hk_lint_user_with(X509 *cert, const struct hk_lint_user_ctx *c)
{
	return lint_run(cert, c->p, HK_CERT_USER, c->rehearsal, c->gen, c);
}

int
hk_lint_issued(X509 *cert, X509 *issuer, const struct hk_profile *p,
    enum hk_cert_kind kind)
{
	ASN1_OCTET_STRING *aki = NULL, *ski = NULL;
	struct lint l = { .x = cert, .p = p, .kind = kind,
	    .kn = hk_cert_kind_name(kind) };
	char b1[32], b2[32], b3[32];
	time_t nb, na, ina, full = 0;
	int r;

	if (kind == HK_CERT_ROOT)
		return bad(&l, "a self-signed root has no other issuer");
	if (!hk_cert_name_eq(X509_get_issuer_name(cert),
	    X509_get_subject_name(issuer)))
		return bad(&l, "RFC 5280 4.1.2.4: issuer must equal the issuing "
		    "certificate's subject");
	aki = hk_cert_aki_keyid(cert);
	ski = hk_cert_ski(issuer);
	if (aki == NULL || ski == NULL || ASN1_OCTET_STRING_cmp(aki, ski) != 0)
		r = bad(&l, "RFC 5280 4.2.1.1: authorityKeyIdentifier must be "
		    "the issuer's subjectKeyIdentifier");
	else if (hk_cert_time(X509_get0_notBefore(cert), &nb) != 0 ||
	    hk_cert_time(X509_get0_notAfter(cert), &na) != 0 ||
	    hk_cert_time(X509_get0_notAfter(issuer), &ina) != 0)
		r = bad(&l, "RFC 5280 4.1.2.5: notBefore or notAfter does not "
		    "decode");
	else if (na > ina)
		r = bad(&l, "PROFILE.md: notAfter must not be after the "
		    "issuer's notAfter");
	else if ((kind == HK_CERT_OCSP || kind == HK_CERT_VALIDATION) &&
	    (full = hk_time_add_years(nb, kind == HK_CERT_OCSP ?
	    p->ocsp_validity_years : p->validation_validity_years) - 1) !=
	    na && na != ina) {
		/* a server certificate answers for what its issuer issued,
		 * all of which ends by the issuer's notAfter: its full term,
		 * or cut back to exactly that end, never anything shorter */
		hk_time_format(na, b1, sizeof(b1));
		hk_time_format(full, b2, sizeof(b2));
		hk_time_format(ina, b3, sizeof(b3));
		r = bad(&l, "PROFILE.md: validity must be %d years minus 1 "
		    "second, or end with the issuer's notAfter (notAfter %s, "
		    "expected %s or %s)", kind == HK_CERT_OCSP ?
		    p->ocsp_validity_years : p->validation_validity_years, b1,
		    b2, b3);
	} else
		r = 0;
	ASN1_OCTET_STRING_free(aki);
	ASN1_OCTET_STRING_free(ski);
	return r;
}

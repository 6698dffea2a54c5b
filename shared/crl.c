/* crl.c - build, sign (checked), lint and verify CRLs and ARLs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "atomic.h"
#include "cert.h"
#include "clock.h"
#include "crl.h"
#include "err.h"
#include "profile.h"

static int crl_bad(const char *, ...) __attribute__((format(printf, 1, 2)));

static int
crl_bad(const char *fmt, ...)
{
	char rule[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	hk_err_set("crl: %s", rule);
	ERR_clear_error();
	return HK_ERR_LINT;
}

int
hk_crl_spec_arl(struct hk_crl_spec *spec, const struct hk_profile *p,
    X509 *root)
{
	memset(spec, 0, sizeof(*spec));
	spec->issuer = root;
	spec->scope = HK_CRL_SCOPE_CA;
	spec->idp_dn = X509_get_subject_name(root);
	if (p->repository_url[0] != '\0' &&
	    (size_t)snprintf(spec->idp_uri, sizeof(spec->idp_uri),
	    "%s/arl.crl", p->repository_url) >= sizeof(spec->idp_uri)) {
		hk_err_set("crl: repository-url too long");
		return HK_ERR_INVALID;
	}
	spec->validity_hours = p->crl_validity_hours;
	spec->interval_hours = p->crl_interval_hours;
	return 0;
}

static int
add_idp(X509_CRL *crl, const struct hk_crl_spec *s)
{
	ISSUING_DIST_POINT *idp = NULL;
	int r = HK_ERR_CRYPTO;

	if ((idp = ISSUING_DIST_POINT_new()) == NULL ||
	    (idp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (idp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL)
		goto out;
	idp->distpoint->type = 0;	/* fullName */
	if (hk_cert_add_fullname(idp->distpoint->name.fullname, s->idp_dn,
	    s->idp_uri) != 0)
		goto out;
	if (s->scope == HK_CRL_SCOPE_CA)
		idp->onlyCA = 0xff;
	else
		idp->onlyuser = 0xff;
	if (X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	ISSUING_DIST_POINT_free(idp);
	return r;
}

/* One X509_REVOKED: serial, revocationDate, reasonCode unless NONE. */
static int
revoked_new(const struct hk_crl_entry *e, X509_REVOKED **out)
{
	X509_REVOKED *rev = NULL;
	ASN1_TIME *t = NULL;
	ASN1_ENUMERATED *reason = NULL;
	int r = HK_ERR_CRYPTO;

	*out = NULL;
	if ((rev = X509_REVOKED_new()) == NULL ||
	    X509_REVOKED_set_serialNumber(rev, (ASN1_INTEGER *)e->serial) != 1 ||
	    (t = ASN1_TIME_set(NULL, e->revoked)) == NULL ||
	    X509_REVOKED_set_revocationDate(rev, t) != 1)
		goto out;
	if (e->reason != HK_REASON_NONE) {
		if ((reason = ASN1_ENUMERATED_new()) == NULL ||
		    ASN1_ENUMERATED_set(reason, (long)e->reason) != 1 ||
		    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0,
		    X509V3_ADD_DEFAULT) != 1)
			goto out;
	}
	*out = rev;
	rev = NULL;
	r = 0;
out:
	X509_REVOKED_free(rev);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(reason);
	return r;
}

static int
add_entry(X509_CRL *crl, const struct hk_crl_entry *e)
{
	X509_REVOKED *rev;
	int r;

	if ((r = revoked_new(e, &rev)) != 0)
		return r;
	/* X509_CRL_add0_revoked returns 1 on success: checked, unlike
	 * apps/ca.c */
	if (X509_CRL_add0_revoked(crl, rev) != 1) {
		X509_REVOKED_free(rev);
		return HK_ERR_CRYPTO;
	}
	return 0;
}

int
hk_crl_entry_der(const struct hk_crl_entry *e, unsigned char **der,
    size_t *len)
{
	X509_REVOKED *rev;
	int n, r;

	*der = NULL;
	*len = 0;
	if ((int)e->reason < 0 || (int)e->reason > (int)HK_REASON_CESSATION) {
		hk_err_set("CRL entry: reason %d: CPS 4-4-4-2 reasons 1-5 only",
		    (int)e->reason);
		return HK_ERR_INVALID;
	}
	if ((r = revoked_new(e, &rev)) != 0)
		return r;
	if ((n = i2d_X509_REVOKED(rev, der)) <= 0) {
		X509_REVOKED_free(rev);
		*der = NULL;
		return HK_ERR_CRYPTO;
	}
	X509_REVOKED_free(rev);
	*len = (size_t)n;
	return 0;
}

/* Input rules of a spec, before anything is built. */
static int
spec_check(const struct hk_crl_spec *s, time_t this_update)
{
	size_t i, j;

	ASN1_OCTET_STRING *ski;

	if (s->issuer == NULL || s->idp_dn == NULL ||
	    (ski = hk_cert_ski(s->issuer)) == NULL) {
		hk_err_set("crl: the spec needs an issuer with a "
		    "subjectKeyIdentifier and an IDP name");
		return HK_ERR_INVALID;
	}
	ASN1_OCTET_STRING_free(ski);
	if (s->validity_hours < 1 || s->validity_hours > 24 * 31) {
		hk_err_set("crl: validity of %d hours is not 1..744",
		    s->validity_hours);
		return HK_ERR_INVALID;
	}
	if (s->n_entries > HK_CRL_ENTRIES_MAX ||
	    (s->n_entries > 0 && s->entries == NULL)) {
		hk_err_set("crl: entry list empty or longer than %d",
		    HK_CRL_ENTRIES_MAX);
		return HK_ERR_INVALID;
	}
	for (i = 0; i < s->n_entries; i++) {
		const struct hk_crl_entry *e = &s->entries[i];

		if (e->serial == NULL ||
		    ASN1_STRING_type(e->serial) != V_ASN1_INTEGER) {
			hk_err_set("crl: entry %zu: RFC 5280 5.1.2.6: serial "
			    "must be a positive integer", i + 1);
			return HK_ERR_INVALID;
		}
		if ((int)e->reason < 0 || (int)e->reason > HK_REASON_CESSATION) {
			hk_err_set("crl: entry %zu: CPS 4-4-4-2 / PROFILE.md: "
			    "reason %d is not one of 1..5 (never unspecified or "
			    "certificateHold)", i + 1, (int)e->reason);
			return HK_ERR_INVALID;
		}
		if (e->revoked > this_update) {
			hk_err_set("crl: entry %zu: RFC 5280 5.3: revocationDate "
			    "after thisUpdate", i + 1);
			return HK_ERR_INVALID;
		}
		/* quadratic, but only for the caller's list: an ARL holds few
		 * entries; user CRLs come sorted from the database */
		for (j = 0; j < i && s->n_entries <= 10000; j++)
			if (ASN1_INTEGER_cmp(s->entries[j].serial,
			    e->serial) == 0) {
				hk_err_set("crl: entries %zu and %zu: the same "
				    "serial twice", j + 1, i + 1);
				return HK_ERR_INVALID;
			}
	}
	return 0;
}

int
hk_crl_build(const struct hk_crl_spec *s, time_t this_update,
    uint64_t number, X509_CRL **out)
{
	X509_CRL *crl = NULL;
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *num = NULL;
	AUTHORITY_KEYID *aki = NULL;
	size_t i;
	int r;

	*out = NULL;
	if ((r = spec_check(s, this_update)) != 0)
		return r;
	r = HK_ERR_CRYPTO;
	if ((crl = X509_CRL_new()) == NULL ||
	    X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl,
	    X509_get_subject_name(s->issuer)) != 1)
		goto out;
	/* ASN1_TIME_set: UTCTime through 2049, then GeneralizedTime
	 * (RFC 5280 5.1.2.4) */
	if ((t = ASN1_TIME_set(NULL, this_update)) == NULL ||
	    X509_CRL_set1_lastUpdate(crl, t) != 1)
		goto out;
	ASN1_TIME_free(t);
	if ((t = ASN1_TIME_set(NULL, this_update +
	    (time_t)s->validity_hours * 3600)) == NULL ||
	    X509_CRL_set1_nextUpdate(crl, t) != 1)
		goto out;
	if ((aki = AUTHORITY_KEYID_new()) == NULL ||
	    (aki->keyid = hk_cert_ski(s->issuer)) == NULL ||
	    X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 0,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	if ((num = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_uint64(num, number) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	if ((r = add_idp(crl, s)) != 0)
		goto out;
	for (i = 0; i < s->n_entries; i++)
		if ((r = add_entry(crl, &s->entries[i])) != 0)
			goto out;
	r = HK_ERR_CRYPTO;
	if (X509_CRL_sort(crl) != 1)
		goto out;
	*out = crl;
	crl = NULL;
	r = 0;
out:
	if (r == HK_ERR_CRYPTO) {
		hk_err_set("crl: cannot build the CRL");
		hk_err_add_openssl();
	}
	X509_CRL_free(crl);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(aki);
	return r;
}

static int
lint_time(const ASN1_TIME *t, const char *field, time_t *out)
{
	struct tm tm;
	int type, len;

	if (t == NULL)
		return crl_bad("RFC 5280 5.1.2.%s: %s must be present",
		    strcmp(field, "nextUpdate") == 0 ? "5" : "4", field);
	type = ASN1_STRING_type(t);
	len = ASN1_STRING_length(t);
	if (hk_cert_time(t, out) != 0 || gmtime_r(out, &tm) == NULL)
		return crl_bad("RFC 5280 5.1.2.4: %s does not decode", field);
	if ((tm.tm_year + 1900 < 2050) != (type == V_ASN1_UTCTIME) ||
	    len != (type == V_ASN1_UTCTIME ? 13 : 15) ||
	    ASN1_STRING_get0_data(t)[len - 1] != 'Z')
		return crl_bad("RFC 5280 5.1.2.4: %s must be UTCTime "
		    "YYMMDDHHMMSSZ through 2049, else GeneralizedTime", field);
	return 0;
}

static int
lint_idp(X509_CRL *crl, const struct hk_crl_spec *s, int crit)
{
	ISSUING_DIST_POINT *idp;
	GENERAL_NAMES *full;
	GENERAL_NAME *gn;
	const ASN1_IA5STRING *u;
	int want = s->idp_uri[0] != '\0' ? 2 : 1, r = 0;

	if (!crit)
		return crl_bad("RFC 5280 5.2.5: issuingDistributionPoint must "
		    "be critical");
	if ((idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point,
	    NULL, NULL)) == NULL)
		return crl_bad("RFC 5280 5.2.5: issuingDistributionPoint does "
		    "not decode");
	if (idp->distpoint == NULL || idp->distpoint->type != 0) {
		r = crl_bad("PROFILE.md: issuingDistributionPoint must name a "
		    "fullName");
		goto out;
	}
	full = idp->distpoint->name.fullname;
	if (sk_GENERAL_NAME_num(full) != want ||
	    (gn = sk_GENERAL_NAME_value(full, 0))->type != GEN_DIRNAME ||
	    !hk_cert_name_eq(gn->d.directoryName, s->idp_dn)) {
		r = crl_bad("PROFILE.md: issuingDistributionPoint fullName must "
		    "be the %s DN%s", s->scope == HK_CRL_SCOPE_CA ? "root" :
		    "partition", want == 2 ? " and its http URI" : " only");
		goto out;
	}
	if (want == 2) {
		gn = sk_GENERAL_NAME_value(full, 1);
		u = gn->d.uniformResourceIdentifier;
		if (gn->type != GEN_URI || (size_t)ASN1_STRING_length(u) !=
		    strlen(s->idp_uri) || memcmp(ASN1_STRING_get0_data(u),
		    s->idp_uri, strlen(s->idp_uri)) != 0) {
			r = crl_bad("PROFILE.md: issuingDistributionPoint URI "
			    "must be %s", s->idp_uri);
			goto out;
		}
	}
	if (s->scope == HK_CRL_SCOPE_CA ? (!idp->onlyCA || idp->onlyuser) :
	    (!idp->onlyuser || idp->onlyCA)) {
		r = crl_bad("PROFILE.md: issuingDistributionPoint must assert "
		    "%s only", s->scope == HK_CRL_SCOPE_CA ?
		    "onlyContainsCACerts" : "onlyContainsUserCerts");
		goto out;
	}
	if (idp->onlysomereasons != NULL || idp->indirectCRL ||
	    idp->onlyattr)
		r = crl_bad("PROFILE.md: issuingDistributionPoint carries no "
		    "onlySomeReasons, indirectCRL or onlyContainsAttributeCerts");
out:
	ISSUING_DIST_POINT_free(idp);
	return r;
}

static int
lint_exts(X509_CRL *crl, const struct hk_crl_spec *s)
{
	const STACK_OF(X509_EXTENSION) *exts = X509_CRL_get0_extensions(crl);
	AUTHORITY_KEYID *aki;
	ASN1_OCTET_STRING *ski;
	ASN1_INTEGER *num;
	int i, j, nid, crit, seen_aki = 0, seen_num = 0, seen_idp = 0, r;

	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
		const ASN1_OBJECT *o = X509_EXTENSION_get_object(e);

		for (j = 0; j < i; j++)
			if (OBJ_cmp(o, X509_EXTENSION_get_object(
			    sk_X509_EXTENSION_value(exts, j))) == 0)
				return crl_bad("RFC 5280 5.2: an extension "
				    "appears more than once");
		nid = OBJ_obj2nid(o);
		crit = X509_EXTENSION_get_critical(e);
		switch (nid) {
		case NID_authority_key_identifier:
			seen_aki = 1;
			if (crit)
				return crl_bad("RFC 5280 5.2.1: "
				    "authorityKeyIdentifier must not be "
				    "critical");
			aki = X509V3_EXT_d2i(e);
			ski = hk_cert_ski(s->issuer);
			r = aki == NULL || aki->keyid == NULL || ski == NULL ||
			    aki->issuer != NULL || aki->serial != NULL ||
			    ASN1_OCTET_STRING_cmp(aki->keyid, ski) != 0;
			AUTHORITY_KEYID_free(aki);
			ASN1_OCTET_STRING_free(ski);
			if (r)
				return crl_bad("RFC 5280 5.2.1 / PROFILE.md: "
				    "authorityKeyIdentifier must be the issuer's "
				    "subjectKeyIdentifier only");
			break;
		case NID_crl_number:
			seen_num = 1;
			if (crit)
				return crl_bad("RFC 5280 5.2.3: cRLNumber must "
				    "not be critical");
			num = X509V3_EXT_d2i(e);
			r = num == NULL ||
			    ASN1_STRING_type(num) != V_ASN1_INTEGER ||
			    ASN1_STRING_length(num) > 20;
			ASN1_INTEGER_free(num);
			if (r)
				return crl_bad("RFC 5280 5.2.3: cRLNumber must "
				    "be a non-negative integer of at most 20 "
				    "octets");
			break;
		case NID_issuing_distribution_point:
			seen_idp = 1;
			if ((r = lint_idp(crl, s, crit)) != 0)
				return r;
			break;
		default:
			return crl_bad("PROFILE.md: extension %s is not in the "
			    "CRL profile", nid == NID_undef ? "(unknown)" :
			    OBJ_nid2ln(nid));
		}
	}
	if (!seen_aki)
		return crl_bad("RFC 5280 5.2.1: authorityKeyIdentifier must be "
		    "present");
	if (!seen_num)
		return crl_bad("RFC 5280 5.2.3: cRLNumber must be present");
	if (!seen_idp)
		return crl_bad("PROFILE.md: issuingDistributionPoint must be "
		    "present");
	return 0;
}

static int
rev_cmp(const X509_REVOKED *const *a, const X509_REVOKED *const *b)
{
	return ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(*a),
	    X509_REVOKED_get0_serialNumber(*b));
}

static int
lint_entries(X509_CRL *crl, time_t this_update)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl), *sorted;
	const STACK_OF(X509_EXTENSION) *exts;
	ASN1_ENUMERATED *reason;
	time_t t;
	long v;
	int i, n = sk_X509_REVOKED_num(revs), r = 0;

	for (i = 0; i < n; i++) {
		X509_REVOKED *rev = sk_X509_REVOKED_value(revs, i);
		const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(rev);
		X509_EXTENSION *e;

		if (ASN1_STRING_type(sn) != V_ASN1_INTEGER ||
		    ASN1_STRING_length(sn) > 20)
			return crl_bad("entry %d: RFC 5280 5.1.2.6: serial must "
			    "be positive, at most 20 octets", i + 1);
		if ((r = lint_time(X509_REVOKED_get0_revocationDate(rev),
		    "revocationDate", &t)) != 0)
			return r;
		if (t > this_update)
			return crl_bad("entry %d: RFC 5280 5.3: revocationDate "
			    "after thisUpdate", i + 1);
		exts = X509_REVOKED_get0_extensions(rev);
		if (exts == NULL || sk_X509_EXTENSION_num(exts) == 0)
			continue;
		e = sk_X509_EXTENSION_value(exts, 0);
		if (sk_X509_EXTENSION_num(exts) != 1 ||
		    OBJ_obj2nid(X509_EXTENSION_get_object(e)) != NID_crl_reason)
			return crl_bad("entry %d: PROFILE.md: the only entry "
			    "extension is reasonCode", i + 1);
		if (X509_EXTENSION_get_critical(e))
			return crl_bad("entry %d: RFC 5280 5.3.1: reasonCode "
			    "must not be critical", i + 1);
		if ((reason = X509V3_EXT_d2i(e)) == NULL)
			return crl_bad("entry %d: RFC 5280 5.3.1: reasonCode "
			    "does not decode", i + 1);
		v = ASN1_ENUMERATED_get(reason);
		ASN1_ENUMERATED_free(reason);
		if (v < 1 || v > 5)
			return crl_bad("entry %d: CPS 4-4-4-2 / PROFILE.md: "
			    "reasonCode %ld is not one of 1..5 (unspecified is "
			    "omitted, certificateHold never used)", i + 1, v);
	}
	if ((sorted = sk_X509_REVOKED_dup(revs)) == NULL)
		return crl_bad("out of memory");
	(void)sk_X509_REVOKED_set_cmp_func(sorted, rev_cmp);
	sk_X509_REVOKED_sort(sorted);
	for (i = 1; i < n && r == 0; i++) {
		const X509_REVOKED *a = sk_X509_REVOKED_value(sorted, i - 1);
		const X509_REVOKED *b = sk_X509_REVOKED_value(sorted, i);

		if (rev_cmp(&a, &b) == 0)
			r = crl_bad("RFC 5280 5.1.2.6: a serial is listed "
			    "twice");
	}
	sk_X509_REVOKED_free(sorted);
	return r;
}

int
hk_crl_lint(X509_CRL *crl, const struct hk_crl_spec *s,
    const struct hk_profile *p, int is_signed)
{
	const X509_ALGOR *alg = NULL;
	const ASN1_BIT_STRING *sig = NULL;
	const ASN1_OBJECT *obj = NULL;
	time_t tu, nu;
	int ptype = 0, want, r;

	if (X509_CRL_get_version(crl) != X509_CRL_VERSION_2)
		return crl_bad("RFC 5280 5.1.2.1: version must be v2");
	if (!hk_cert_name_eq(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(s->issuer)))
		return crl_bad("RFC 5280 5.1.2.3: issuer must be the signer's "
		    "subject DN");
	if ((r = lint_time(X509_CRL_get0_lastUpdate(crl), "thisUpdate",
	    &tu)) != 0 ||
	    (r = lint_time(X509_CRL_get0_nextUpdate(crl), "nextUpdate",
	    &nu)) != 0)
		return r;
	if (nu - tu != (time_t)s->validity_hours * 3600)
		return crl_bad("CPS 7-2 / PROFILE.md: nextUpdate must be "
		    "thisUpdate + %d hours", s->validity_hours);
	if ((r = lint_exts(crl, s)) != 0 || (r = lint_entries(crl, tu)) != 0)
		return r;
	if (!is_signed)
		return 0;
	/* RFC 5280 5.1.1.2 (outer = inner algorithm): OpenSSL 3.0 has no
	 * getter for the inner one; X509_CRL_sign sets both. */
	X509_CRL_get0_signature(crl, &sig, &alg);
	if (alg == NULL || sig == NULL)
		return crl_bad("RFC 5280 5.1.1.2: the CRL is not signed");
	X509_ALGOR_get0(&obj, &ptype, NULL, alg);
	want = p->root_signature == HK_SIG_ECDSA_SHA384 ?
	    NID_ecdsa_with_SHA384 : NID_sha256WithRSAEncryption;
	if (OBJ_obj2nid(obj) != want)
		return crl_bad("PROFILE.md: signature algorithm must be %s",
		    hk_sig_alg_name(p->root_signature));
	if (want == NID_sha256WithRSAEncryption && ptype != V_ASN1_NULL)
		return crl_bad("RFC 4055 5: sha256WithRSAEncryption parameters "
		    "must be NULL");
	return 0;
}

int
hk_crl_verify(X509_CRL *crl, X509 *issuer)
{
	ASN1_OCTET_STRING *ski = NULL;
	AUTHORITY_KEYID *aki;
	EVP_PKEY *pub = X509_get0_pubkey(issuer);
	int ok;

	if (!hk_cert_name_eq(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(issuer))) {
		hk_err_set("crl: RFC 5280 6.3.3 (b): the CRL issuer is not the "
		    "certificate's subject");
		return HK_ERR_VERIFY;
	}
	aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL,
	    NULL);
	ski = hk_cert_ski(issuer);
	ok = aki != NULL && aki->keyid != NULL && ski != NULL &&
	    ASN1_OCTET_STRING_cmp(aki->keyid, ski) == 0;
	AUTHORITY_KEYID_free(aki);
	ASN1_OCTET_STRING_free(ski);
	if (!ok) {
		hk_err_set("crl: RFC 5280 5.2.1: authorityKeyIdentifier does not "
		    "name the certificate's key");
		ERR_clear_error();
		return HK_ERR_VERIFY;
	}
	/* X509_CRL_verify() returns 1 on success, 0 or -1 otherwise */
	if (pub == NULL || X509_CRL_verify(crl, pub) != 1) {
		hk_err_set("crl: signature does not verify with the issuer's "
		    "key");
		ERR_clear_error();
		return HK_ERR_VERIFY;
	}
	return 0;
}

int
hk_crl_sign_checked(X509_CRL *crl, const struct hk_crl_spec *s,
    const struct hk_profile *p, EVP_PKEY *key, hk_crl_sign_fn fn, void *arg)
{
	unsigned char *der = NULL;
	const unsigned char *pp;
	X509_CRL *back = NULL;
	int n, r;

	hk_err_clear();
	if ((r = hk_crl_lint(crl, s, p, 0)) != 0) {
		hk_err_set("before signing: %s", hk_err_msg());
		return r;
	}
	r = HK_ERR_CRYPTO;
	if (fn != NULL) {
		if (fn(crl, arg) != 0) {
			if (*hk_err_msg() == '\0')
				hk_err_set("crl: the signing callback failed");
			goto out;
		}
	} else if (key == NULL || X509_CRL_sign(crl, key,
	    hk_cert_md(p, X509_get0_pubkey(s->issuer))) <= 0) {
		hk_err_set("crl: signing failed");
		goto out;
	}
	if ((n = i2d_X509_CRL(crl, &der)) <= 0) {
		hk_err_set("crl: cannot encode the signed CRL");
		goto out;
	}
	pp = der;
	if ((back = d2i_X509_CRL(NULL, &pp, n)) == NULL || pp != der + n) {
		hk_err_set("crl: the signed CRL does not parse back");
		goto out;
	}
	if ((r = hk_crl_verify(back, s->issuer)) != 0)
		goto out;
	if ((r = hk_crl_lint(back, s, p, 1)) != 0) {
		hk_err_set("after signing: %s", hk_err_msg());
		goto out;
	}
	r = 0;
out:
	if (r == HK_ERR_CRYPTO)
		hk_err_add_openssl();
	else
		ERR_clear_error();
	X509_CRL_free(back);
	OPENSSL_free(der);
	return r;
}

int
hk_crl_batch(const struct hk_crl_spec *s, const struct hk_profile *p,
    time_t start, size_t n, uint64_t last_number, EVP_PKEY *key,
    hk_crl_sign_fn fn, void *arg, X509_CRL **out)
{
	uint64_t num, prev = last_number;
	size_t i;
	int r = 0;

	if (n == 0)
		n = HK_CRL_BATCH_DEFAULT;
	for (i = 0; i < n; i++)
		out[i] = NULL;
	if (n > HK_CRL_BATCH_MAX) {
		hk_err_set("crl: a batch of %zu is more than %d", n,
		    HK_CRL_BATCH_MAX);
		return HK_ERR_INVALID;
	}
	if (s->interval_hours < 1 || s->interval_hours > s->validity_hours) {
		hk_err_set("crl: CPS 4-4-9: interval of %d hours must be 1.."
		    "validity (%d)", s->interval_hours, s->validity_hours);
		return HK_ERR_INVALID;
	}
	if (last_number > UINT64_MAX - n) {
		hk_err_set("crl: RFC 5280 5.2.3: cRLNumber would overflow");
		return HK_ERR_INVALID;
	}
	for (i = 0; i < n; i++) {
		num = last_number + 1 + i;
		/* RFC 5280 5.2.3: monotonically increasing, never reused */
		if (num <= prev && i > 0) {
			hk_err_set("crl: cRLNumber not increasing");
			r = HK_ERR_INTERNAL;
			goto out;
		}
		prev = num;
		if ((r = hk_crl_build(s, start + (time_t)i * s->interval_hours *
		    3600, num, &out[i])) != 0 ||
		    (r = hk_crl_sign_checked(out[i], s, p, key, fn, arg)) != 0) {
			hk_err_set("batch item %zu (cRLNumber %llu): %s", i + 1,
			    (unsigned long long)num, hk_err_msg());
			goto out;
		}
	}
out:
	if (r != 0)
		for (i = 0; i < n; i++) {
			X509_CRL_free(out[i]);
			out[i] = NULL;
		}
	return r;
}

int
hk_crl_number(X509_CRL *crl, uint64_t *out)
{
	ASN1_INTEGER *num;
	int crit = 0, r = HK_ERR_INVALID;

	*out = 0;
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	if (num != NULL && ASN1_INTEGER_get_uint64(out, num) == 1)
		r = 0;
	ASN1_INTEGER_free(num);
	ERR_clear_error();
	if (r != 0)
		hk_err_set("crl: cRLNumber absent or larger than 2^64-1");
	return r;
}

int
hk_crl_write(X509_CRL *crl, const char *der_path, const char *pem_path)
{
	unsigned char *der = NULL;
	BIO *bio = NULL;
	char *pem;
	long pemlen;
	int n, r = HK_ERR_CRYPTO;

	if ((n = i2d_X509_CRL(crl, &der)) <= 0 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_CRL(bio, crl) != 1 ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0) {
		hk_err_set("crl: cannot encode the CRL");
		hk_err_add_openssl();
	} else
		r = hk_file_write_pair(der_path, der, (size_t)n, pem_path,
		    pem, (size_t)pemlen);
	BIO_free(bio);
	OPENSSL_free(der);
	return r;
}

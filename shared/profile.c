/* profile.c - the certificate profile: Kumamoto defaults and strict loading. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "err.h"
#include "name.h"
#include "profile.h"
#include "yamlx.h"

static const char *const key_names[] = {
	"rsa-2048", "rsa-3072", "rsa-4096", "ec-p384", NULL
};
static const char *const rsa_key_names[] = {
	"rsa-2048", "rsa-3072", "rsa-4096", NULL
};
static const char *const sig_names[] = {
	"sha256WithRSAEncryption", "ecdsa-with-SHA384", NULL
};

int
hk_key_alg_bits(enum hk_key_alg k)
{
	switch (k) {
	case HK_KEY_RSA2048: return 2048;
	case HK_KEY_RSA3072: return 3072;
	case HK_KEY_RSA4096: return 4096;
	case HK_KEY_EC_P384: return 384;
	}
	return 0;
}

int
hk_key_alg_matches(EVP_PKEY *pub, enum hk_key_alg k)
{
	char group[64] = "";
	size_t glen = 0;

	if (pub == NULL)
		return 0;
	if (k == HK_KEY_EC_P384)
		return EVP_PKEY_is_a(pub, "EC") &&
		    EVP_PKEY_get_group_name(pub, group, sizeof(group),
		    &glen) == 1 && strcmp(group, "secp384r1") == 0;
	return EVP_PKEY_is_a(pub, "RSA") &&
	    EVP_PKEY_get_bits(pub) == hk_key_alg_bits(k);
}

const char *
hk_key_alg_name(enum hk_key_alg k)
{
	if ((unsigned)k < 4)
		return key_names[k];
	return "?";
}

const char *
hk_sig_alg_name(enum hk_sig_alg s)
{
	if ((unsigned)s < 2)
		return sig_names[s];
	return "?";
}

static void
set_defaults(struct hk_profile *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->root_subject, sizeof(p->root_subject), "%s",
	    "C=JP, O=JPKI, OU=Kumamoto-ken, OU=Governor of Kumamoto Prefecture");
	snprintf(p->root_jname, sizeof(p->root_jname), "%s",
	    "C=JP, O=公的個人認証サービス, OU=熊本県知事");
	p->root_validity_years = 10;
	p->root_key_use_years = 5;
	p->root_key = HK_KEY_RSA2048;
	p->root_signature = HK_SIG_SHA256_RSA;
	snprintf(p->issuing_subject_prefix, sizeof(p->issuing_subject_prefix),
	    "%s", "C=JP, O=JPKI, OU=Kumamoto-ken");
	p->issuing_key = HK_KEY_RSA2048;
	p->issuing_validity_years = 5;
	p->user_validity_years = 3;
	p->user_key = HK_KEY_RSA2048;
	p->user_allow_rsa1024 = 0;
	p->ocsp_validity_years = 1;
	p->validation_validity_years = 1;
	snprintf(p->policy_ca, sizeof(p->policy_ca), "1.2.392.200149.8.5.1.1.10");
	snprintf(p->policy_user, sizeof(p->policy_user),
	    "1.2.392.200149.8.5.1.1.10");
	snprintf(p->policy_user_test, sizeof(p->policy_user_test),
	    "1.2.392.200149.8.5.1.0.10");
	p->policy_user_critical = 1;
	snprintf(p->policy_ocsp, sizeof(p->policy_ocsp),
	    "1.2.392.200149.8.5.1.300");
	snprintf(p->policy_ocsp_test, sizeof(p->policy_ocsp_test),
	    "1.2.392.200149.8.5.1.0.300");
	snprintf(p->policy_validation, sizeof(p->policy_validation),
	    "1.2.392.200149.8.5.1.200");
	snprintf(p->policy_validation_test, sizeof(p->policy_validation_test),
	    "1.2.392.200149.8.5.1.0.200");
	snprintf(p->cps_uri, sizeof(p->cps_uri), "https://www.jpki.go.jp/cps.html");
	p->policy_mappings_critical = 0;
	p->crl_validity_hours = 72;
	p->crl_interval_hours = 24;
	p->repository_url[0] = '\0';
	snprintf(p->rehearsal_marker, sizeof(p->rehearsal_marker), "TEST");
}

int
hk_profile_default(struct hk_profile **out)
{
	struct hk_profile *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return HK_ERR_ALLOC;
	set_defaults(p);
	*out = p;
	return 0;
}

void
hk_profile_free(struct hk_profile *p)
{
	free(p);
}

int
hk_oid_check(const char *s)
{
	ASN1_OBJECT *o;
	const char *c;
	int dots = 0, prev_dot = 1;

	if (s == NULL || s[0] < '0' || s[0] > '2' || s[1] != '.')
		return HK_ERR_INVALID;
	for (c = s; *c != '\0'; c++) {
		if (*c == '.') {
			if (prev_dot)
				return HK_ERR_INVALID;
			prev_dot = 1;
			dots++;
		} else if (*c >= '0' && *c <= '9') {
			if (prev_dot && *c == '0' && c[1] >= '0' && c[1] <= '9')
				return HK_ERR_INVALID;	/* leading zero */
			prev_dot = 0;
		} else
			return HK_ERR_INVALID;
	}
	if (prev_dot || dots < 2)
		return HK_ERR_INVALID;
	if ((o = OBJ_txt2obj(s, 1)) == NULL)
		return HK_ERR_INVALID;
	ASN1_OBJECT_free(o);
	return 0;
}

/* printable ASCII without blanks, quotes, '<', '>', '\' */
static int
url_ok(const char *s, int allow_empty)
{
	const char *c;

	if (*s == '\0')
		return allow_empty;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return 0;
	for (c = s; *c != '\0'; c++)
		if (*c <= 0x20 || *c >= 0x7f || *c == '"' || *c == '<' ||
		    *c == '>' || *c == '\\')
			return 0;
	return strlen(s) > 8;
}

/*
 * The repository URL is a base that "/arl.crl" and "/crl/<code>.crl" are
 * appended to, in every certificate for life: a host (no user:password@
 * before it) and a path, without a query or fragment (either would swallow
 * what is appended) and without a final '/'.
 */
static int
repo_url_ok(const char *s)
{
	const char *host, *end;

	if (*s == '\0')
		return 1;
	if (!url_ok(s, 0) || s[strlen(s) - 1] == '/' ||
	    strpbrk(s, "?#") != NULL)
		return 0;
	host = strstr(s, "://") + 3;
	end = host + strcspn(host, "/");
	return end > host && memchr(host, '@', (size_t)(end - host)) == NULL;
}

struct ld {
	const struct hk_yaml_doc *d;	/* the document */
	struct hk_profile *p;		/* being filled */
};

static int
get_int(struct ld *l, const struct hk_yaml_node *map, const char *key,
    long min, long max, int *out)
{
	long v = 0;
	int r;

	if ((r = hk_yaml_get_int(l->d, map, key, 1, min, max, &v)) != 0)
		return r;
	*out = (int)v;
	return 0;
}

static int
get_enum(struct ld *l, const struct hk_yaml_node *map, const char *key,
    const char *const *names, int *out)
{
	const struct hk_yaml_node *n;
	int r;

	if ((r = hk_yaml_need(l->d, map, key, &n)) != 0)
		return r;
	return hk_yaml_enum(l->d, n, names, out);
}

static int
get_dn(struct ld *l, const struct hk_yaml_node *map, const char *key,
    char *buf, size_t bufsz)
{
	const struct hk_yaml_node *n;
	X509_NAME *name = NULL;
	int r;

	if ((r = hk_yaml_get_str(l->d, map, key, 1, 1, buf, bufsz)) != 0)
		return r;
	n = hk_yaml_get(map, key);
	if (hk_name_parse(buf, &name) != 0)
		return hk_yaml_fail(l->d, n, "%s", hk_err_msg());
	X509_NAME_free(name);
	return 0;
}

static int
get_oid(struct ld *l, const struct hk_yaml_node *map, const char *key,
    char *buf, size_t bufsz)
{
	int r;

	if ((r = hk_yaml_get_str(l->d, map, key, 1, 1, buf, bufsz)) != 0)
		return r;
	if (hk_oid_check(buf) != 0)
		return hk_yaml_fail(l->d, hk_yaml_get(map, key),
		    "must be a dotted OID such as 1.2.392.200149.8.5.1.1.10");
	return 0;
}

static int
get_section(struct ld *l, const char *key, const char *const *allowed,
    const struct hk_yaml_node **out)
{
	int r;

	if ((r = hk_yaml_need(l->d, l->d->root, key, out)) != 0)
		return r;
	return hk_yaml_keys(l->d, *out, allowed);
}

static int
load_root(struct ld *l)
{
	static const char *const keys[] = { "subject", "japanese-name",
	    "validity-years", "key-use-years", "key", "signature", NULL };
	const struct hk_yaml_node *m;
	struct hk_profile *p = l->p;
	int r, v;

	if ((r = get_section(l, "root", keys, &m)) != 0 ||
	    (r = get_dn(l, m, "subject", p->root_subject,
	    sizeof(p->root_subject))) != 0 ||
	    (r = get_dn(l, m, "japanese-name", p->root_jname,
	    sizeof(p->root_jname))) != 0 ||
	    (r = get_int(l, m, "validity-years", 1, 30,
	    &p->root_validity_years)) != 0 ||
	    (r = get_int(l, m, "key-use-years", 1, p->root_validity_years,
	    &p->root_key_use_years)) != 0)
		return r;
	if ((r = get_enum(l, m, "key", key_names, &v)) != 0)
		return r;
	p->root_key = (enum hk_key_alg)v;
	if ((r = get_enum(l, m, "signature", sig_names, &v)) != 0)
		return r;
	p->root_signature = (enum hk_sig_alg)v;
	if ((p->root_key == HK_KEY_EC_P384) !=
	    (p->root_signature == HK_SIG_ECDSA_SHA384))
		return hk_yaml_fail(l->d, hk_yaml_get(m, "signature"),
		    "must be ecdsa-with-SHA384 for an ec-p384 key and "
		    "sha256WithRSAEncryption for an RSA key");
	return 0;
}

static int
load_issuing(struct ld *l)
{
	static const char *const keys[] = { "subject-prefix", "key",
	    "validity-years", NULL };
	const struct hk_yaml_node *m;
	struct hk_profile *p = l->p;
	int r, v;

	if ((r = get_section(l, "issuing-ca", keys, &m)) != 0 ||
	    (r = get_dn(l, m, "subject-prefix", p->issuing_subject_prefix,
	    sizeof(p->issuing_subject_prefix))) != 0)
		return r;
	/* RSA only: residents' certificates are signed
	 * sha256WithRSAEncryption (PROFILE.md), and hanko-online issue
	 * refuses any other issuing key */
	if ((r = get_enum(l, m, "key", rsa_key_names, &v)) != 0)
		return r;
	p->issuing_key = (enum hk_key_alg)v;
	/* It must cover its issuing window plus a user's validity and stay
	 * inside the root's (PROFILE.md); checked against user below. */
	return get_int(l, m, "validity-years", 2, p->root_validity_years,
	    &p->issuing_validity_years);
}

static int
load_user(struct ld *l)
{
	static const char *const keys[] = { "validity-years", "key",
	    "allow-legacy-rsa-1024", NULL };
	const struct hk_yaml_node *m;
	struct hk_profile *p = l->p;
	int r, v;

	if ((r = get_section(l, "user", keys, &m)) != 0 ||
	    (r = get_int(l, m, "validity-years", 1,
	    p->issuing_validity_years - 1, &p->user_validity_years)) != 0)
		return r;
	/* CPS 6-1-2-3: user keys are RSA */
	if ((r = get_enum(l, m, "key", rsa_key_names, &v)) != 0)
		return r;
	p->user_key = (enum hk_key_alg)v;
	return hk_yaml_get_bool(l->d, m, "allow-legacy-rsa-1024", 1,
	    &p->user_allow_rsa1024);
}

static int
load_policies(struct ld *l)
{
	static const char *const keys[] = { "ca", "user", "user-test",
	    "user-critical", "ocsp", "ocsp-test", "validation",
	    "validation-test", "cps-uri", "policy-mappings-critical", NULL };
	const struct hk_yaml_node *m;
	struct hk_profile *p = l->p;
	int r;

	if ((r = get_section(l, "policies", keys, &m)) != 0 ||
	    (r = get_oid(l, m, "ca", p->policy_ca, sizeof(p->policy_ca))) != 0 ||
	    (r = get_oid(l, m, "user", p->policy_user,
	    sizeof(p->policy_user))) != 0 ||
	    (r = get_oid(l, m, "user-test", p->policy_user_test,
	    sizeof(p->policy_user_test))) != 0 ||
	    (r = hk_yaml_get_bool(l->d, m, "user-critical", 1,
	    &p->policy_user_critical)) != 0 ||
	    (r = get_oid(l, m, "ocsp", p->policy_ocsp,
	    sizeof(p->policy_ocsp))) != 0 ||
	    (r = get_oid(l, m, "ocsp-test", p->policy_ocsp_test,
	    sizeof(p->policy_ocsp_test))) != 0 ||
	    (r = get_oid(l, m, "validation", p->policy_validation,
	    sizeof(p->policy_validation))) != 0 ||
	    (r = get_oid(l, m, "validation-test", p->policy_validation_test,
	    sizeof(p->policy_validation_test))) != 0 ||
	    (r = hk_yaml_get_str(l->d, m, "cps-uri", 1, 1, p->cps_uri,
	    sizeof(p->cps_uri))) != 0 ||
	    (r = hk_yaml_get_bool(l->d, m, "policy-mappings-critical", 1,
	    &p->policy_mappings_critical)) != 0)
		return r;
	if (!url_ok(p->cps_uri, 0))
		return hk_yaml_fail(l->d, hk_yaml_get(m, "cps-uri"),
		    "must be an http:// or https:// URL of printable ASCII");
	if (strcmp(p->policy_user, p->policy_user_test) == 0 ||
	    strcmp(p->policy_ocsp, p->policy_ocsp_test) == 0 ||
	    strcmp(p->policy_validation, p->policy_validation_test) == 0)
		return hk_yaml_fail(l->d, m, "a test policy OID must differ "
		    "from its production OID");
	return 0;
}

static int
load_rest(struct ld *l)
{
	static const char *const okeys[] = { "validity-years", NULL };
	static const char *const ckeys[] = { "validity-hours",
	    "interval-hours", NULL };
	const struct hk_yaml_node *m, *n;
	struct hk_profile *p = l->p;
	const char *c;
	int r;

	if ((r = get_section(l, "ocsp", okeys, &m)) != 0 ||
	    (r = get_int(l, m, "validity-years", 1, 5,
	    &p->ocsp_validity_years)) != 0 ||
	    (r = get_section(l, "validation-server", okeys, &m)) != 0 ||
	    (r = get_int(l, m, "validity-years", 1, 5,
	    &p->validation_validity_years)) != 0 ||
	    (r = get_section(l, "crl", ckeys, &m)) != 0 ||
	    (r = get_int(l, m, "validity-hours", HK_PROFILE_CRL_SLACK_HOURS + 1,
	    24 * 31, &p->crl_validity_hours)) != 0 ||
	    (r = get_int(l, m, "interval-hours", 1, 24 * 31,
	    &p->crl_interval_hours)) != 0)
		return r;
	/* publish runs once a day (CPS 2-6-2, 4-4-3) and releases the ARL
	 * of the batch whose thisUpdate came last, up to interval-hours
	 * before: it must stay valid until the next day's run and its
	 * margin, or relying parties are left without a valid ARL */
	if (p->crl_interval_hours >
	    p->crl_validity_hours - HK_PROFILE_CRL_SLACK_HOURS)
		return hk_yaml_fail(l->d, hk_yaml_get(m, "interval-hours"),
		    "must be at most crl.validity-hours - %d (%d): CPS 2-6-2, "
		    "4-4-3: publish runs once a day and releases an ARL up to "
		    "interval-hours old, which must stay valid until the next "
		    "day's run (24 h) and a 4-hour margin",
		    HK_PROFILE_CRL_SLACK_HOURS,
		    p->crl_validity_hours - HK_PROFILE_CRL_SLACK_HOURS);
	if ((r = hk_yaml_get_str(l->d, l->d->root, "repository-url", 0, 0,
	    p->repository_url, sizeof(p->repository_url))) != 0)
		return r;
	if ((n = hk_yaml_get(l->d->root, "repository-url")) != NULL &&
	    !repo_url_ok(p->repository_url))
		return hk_yaml_fail(l->d, n, "must be empty or an http:// or "
		    "https:// URL of a host and path, printable ASCII, without "
		    "user@, '?', '#' or a final '/' (\"/crl/<code>.crl\" is "
		    "appended)");
	if ((r = hk_yaml_get_str(l->d, l->d->root, "rehearsal-marker", 1, 1,
	    p->rehearsal_marker, sizeof(p->rehearsal_marker))) != 0)
		return r;
	/* a blank first or last would vanish from the DN as text (name.c
	 * trims values) and a marker of blanks alone marks nothing */
	for (c = p->rehearsal_marker; *c != '\0'; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == ' ') ||
		    (*c == ' ' && (c == p->rehearsal_marker || c[1] == '\0')))
			return hk_yaml_fail(l->d,
			    hk_yaml_get(l->d->root, "rehearsal-marker"),
			    "must be 1 to %d letters, digits, '-' or blanks, "
			    "not beginning or ending with a blank",
			    HK_PROFILE_MARKER_MAX - 1);
	return 0;
}

/* The profile of a parsed document (d is the caller's). */
static int
profile_of(struct hk_yaml_doc *d, struct hk_profile **out)
{
	static const char *const keys[] = { "hanko-profile", "root",
	    "issuing-ca", "user", "ocsp", "validation-server", "policies",
	    "crl", "repository-url", "rehearsal-marker", NULL };
	struct hk_profile *p = NULL;
	struct ld l;
	long version = 0;
	int r;

	if ((r = hk_yaml_keys(d, d->root, keys)) != 0 ||
	    (r = hk_yaml_get_int(d, d->root, "hanko-profile", 1,
	    HK_PROFILE_VERSION, HK_PROFILE_VERSION, &version)) != 0)
		goto out;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	set_defaults(p);
	l.d = d;
	l.p = p;
	if ((r = load_root(&l)) != 0 || (r = load_issuing(&l)) != 0 ||
	    (r = load_user(&l)) != 0 || (r = load_policies(&l)) != 0 ||
	    (r = load_rest(&l)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	hk_profile_free(p);
	return r;
}

int
hk_profile_load(const char *path, struct hk_profile **out)
{
	struct hk_yaml_doc *d = NULL;
	int r;

	*out = NULL;
	if ((r = hk_yaml_load(path, &d)) == 0)
		r = profile_of(d, out);
	hk_yaml_free(d);
	return r;
}

int
hk_profile_load_buf(const char *name, const unsigned char *buf, size_t len,
    struct hk_profile **out)
{
	struct hk_yaml_doc *d = NULL;
	int r;

	*out = NULL;
	if ((r = hk_yaml_load_buf(name, buf, len, &d)) == 0)
		r = profile_of(d, out);
	hk_yaml_free(d);
	return r;
}

#define DIFF_STR(f, k) if (strcmp(a->f, b->f) != 0) return k
#define DIFF_INT(f, k) if (a->f != b->f) return k

const char *
hk_profile_diff(const struct hk_profile *a, const struct hk_profile *b)
{
	DIFF_STR(root_subject, "root.subject");
	DIFF_STR(root_jname, "root.japanese-name");
	DIFF_INT(root_validity_years, "root.validity-years");
	DIFF_INT(root_key_use_years, "root.key-use-years");
	DIFF_INT(root_key, "root.key");
	DIFF_INT(root_signature, "root.signature");
	DIFF_STR(issuing_subject_prefix, "issuing-ca.subject-prefix");
	DIFF_INT(issuing_key, "issuing-ca.key");
	DIFF_INT(issuing_validity_years, "issuing-ca.validity-years");
	DIFF_INT(user_validity_years, "user.validity-years");
	DIFF_INT(user_key, "user.key");
	DIFF_INT(user_allow_rsa1024, "user.allow-legacy-rsa-1024");
	DIFF_INT(ocsp_validity_years, "ocsp.validity-years");
	DIFF_INT(validation_validity_years, "validation-server.validity-years");
	DIFF_STR(policy_ca, "policies.ca");
	DIFF_STR(policy_user, "policies.user");
	DIFF_STR(policy_user_test, "policies.user-test");
	DIFF_INT(policy_user_critical, "policies.user-critical");
	DIFF_STR(policy_ocsp, "policies.ocsp");
	DIFF_STR(policy_ocsp_test, "policies.ocsp-test");
	DIFF_STR(policy_validation, "policies.validation");
	DIFF_STR(policy_validation_test, "policies.validation-test");
	DIFF_STR(cps_uri, "policies.cps-uri");
	DIFF_INT(policy_mappings_critical, "policies.policy-mappings-critical");
	DIFF_INT(crl_validity_hours, "crl.validity-hours");
	DIFF_INT(crl_interval_hours, "crl.interval-hours");
	DIFF_STR(repository_url, "repository-url");
	DIFF_STR(rehearsal_marker, "rehearsal-marker");
	return NULL;
}

/* One key's "key: was -> now" into the list, "sep" before all but the
 * first; a list cut for lack of room ends in "...". */
struct changes {
	char *buf;
	size_t len, off;
	const char *sep;
	size_t n;
};

static void
change_add(struct changes *c, const char *key, const char *was,
    const char *now)
{
	int k;

	if (c->len == 0)
		return;
	if (c->off < c->len) {
		k = snprintf(c->buf + c->off, c->len - c->off, "%s%s: %s -> %s",
		    c->n ? c->sep : "", key, was, now);
		if (k < 0 || (size_t)k >= c->len - c->off) {
			c->off = c->len;
			if (c->len > 4)
				memcpy(c->buf + c->len - 4, "...", 4);
		} else
			c->off += (size_t)k;
	}
	c->n++;
}

static void
change_int(struct changes *c, const char *key, long a, long b)
{
	char x[32], y[32];

	if (a == b)
		return;
	snprintf(x, sizeof(x), "%ld", a);
	snprintf(y, sizeof(y), "%ld", b);
	change_add(c, key, x, y);
}

#define CH_STR(f, k) if (strcmp(a->f, b->f) != 0) \
	change_add(&c, k, *a->f ? a->f : "\"\"", *b->f ? b->f : "\"\"")
#define CH_INT(f, k) change_int(&c, k, a->f, b->f)
#define CH_BOOL(f, k) if (a->f != b->f) \
	change_add(&c, k, a->f ? "true" : "false", b->f ? "true" : "false")
#define CH_KEY(f, k) if (a->f != b->f) \
	change_add(&c, k, hk_key_alg_name(a->f), hk_key_alg_name(b->f))

size_t
hk_profile_changes(const struct hk_profile *a, const struct hk_profile *b,
    const char *sep, char *buf, size_t len)
{
	struct changes c = { buf, len, 0, sep, 0 };

	if (len > 0)
		buf[0] = '\0';
	CH_STR(root_subject, "root.subject");
	CH_STR(root_jname, "root.japanese-name");
	CH_INT(root_validity_years, "root.validity-years");
	CH_INT(root_key_use_years, "root.key-use-years");
	CH_KEY(root_key, "root.key");
	if (a->root_signature != b->root_signature)
		change_add(&c, "root.signature",
		    hk_sig_alg_name(a->root_signature),
		    hk_sig_alg_name(b->root_signature));
	CH_STR(issuing_subject_prefix, "issuing-ca.subject-prefix");
	CH_KEY(issuing_key, "issuing-ca.key");
	CH_INT(issuing_validity_years, "issuing-ca.validity-years");
	CH_INT(user_validity_years, "user.validity-years");
	CH_KEY(user_key, "user.key");
	CH_BOOL(user_allow_rsa1024, "user.allow-legacy-rsa-1024");
	CH_INT(ocsp_validity_years, "ocsp.validity-years");
	CH_INT(validation_validity_years, "validation-server.validity-years");
	CH_STR(policy_ca, "policies.ca");
	CH_STR(policy_user, "policies.user");
	CH_STR(policy_user_test, "policies.user-test");
	CH_BOOL(policy_user_critical, "policies.user-critical");
	CH_STR(policy_ocsp, "policies.ocsp");
	CH_STR(policy_ocsp_test, "policies.ocsp-test");
	CH_STR(policy_validation, "policies.validation");
	CH_STR(policy_validation_test, "policies.validation-test");
	CH_STR(cps_uri, "policies.cps-uri");
	CH_BOOL(policy_mappings_critical, "policies.policy-mappings-critical");
	CH_INT(crl_validity_hours, "crl.validity-hours");
	CH_INT(crl_interval_hours, "crl.interval-hours");
	CH_STR(repository_url, "repository-url");
	CH_STR(rehearsal_marker, "rehearsal-marker");
	return c.n;
}

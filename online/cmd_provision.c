/*
 * cmd_provision.c - "hanko-online provision": record provisions of
 * revocation information made outside serve (CPS 4-5; docs/records.md),
 * so that the monthly report counts them:
 *
 *   ldap   reads of the CRLs or the ARL from the LDAP directory (CPS
 *          4-4-4-1), counted from the directory's access log (docs/ldap.md)
 *   media  CRLs or the ARL handed over on removable media
 *
 * serve records http and ocsp itself, so those are refused here (they
 * would be counted twice). The recipient must be a relying party
 * registered with `rp add` (CPS 4-4-4-3, 4-4-4-5: revocation information
 * goes only to parties registered with the governor), registered and not
 * retired at the time of the provision; the object a partition of the
 * state's municipalities.csv (431010, or 431010-2 for issuing generation
 * 2), arl, or crl (partition CRLs not told apart). The time (--at, UTC or
 * +09:00) is not in the future. One row of the provisions table, written
 * only together with its audit record (records.provision): the row is
 * committed after the record is appended, so nothing is recorded
 * unaudited; then a signed checkpoint.
 *
 * An exact repeat (the same recipient, method, object and count in the
 * same JST month, the report's unit) is refused, naming the earlier row:
 * a provision is never deleted, so a command run twice would count twice
 * in the published report. Another real provision of the same numbers is
 * recorded with --another-provision, which its audit record says.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "municipalities.h"
#include "online.h"
#include "store.h"

#define PROVISION_COUNT_MAX	1000000000L	/* a typo's guard */
#define PROVISION_GEN_MAX	999		/* issuing generations */

struct provision_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *recipient;		/* --recipient NAME */
	const char *method;		/* --method ldap|media */
	const char *object;		/* --object ID|arl|crl */
	const char *count_s;		/* --count N */
	const char *at_s;		/* --at TIME, or NULL: now */
	int another;			/* --another-provision */
	long count;			/* the count, parsed */
	time_t at;			/* the time, parsed (0 until known) */
};

static const char provision_usage[] =
"usage: hanko-online provision --state DIR --recipient NAME --method "
"ldap|media\n"
"           --object PARTITION|arl|crl --count N [--at TIME]\n"
"           [--another-provision]\n"
"  NAME: a relying party registered with hanko-online rp add\n"
"  PARTITION: a partition id of municipalities.csv (431010, 431010-2)\n"
"  TIME: YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS+09:00 (default: now)\n"
"  --another-provision: the same recipient, method, object and count are\n"
"    recorded in that month already, and this is another provision\n";

/* "--count N": 1 to PROVISION_COUNT_MAX, digits only. */
static int
count_parse(struct provision_opts *o)
{
	const char *v = o->count_s;
	size_t n = strlen(v);

	if (n < 1 || n > 10 || strspn(v, "0123456789") != n ||
	    (o->count = strtol(v, NULL, 10)) < 1 ||
	    o->count > PROVISION_COUNT_MAX) {
		hk_err_set("--count %.40s: CPS 4-5: the number of provisions, "
		    "a whole number from 1 to %ld", v, PROVISION_COUNT_MAX);
		return HK_ERR_USAGE;
	}
	return 0;
}

/* "--at TIME": YYYY-MM-DDTHH:MM:SSZ, or the same with +09:00 (JST). */
static int
at_parse(struct provision_opts *o)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	const char *v = o->at_s;
	char z[21];
	size_t i, n = strlen(v);
	int jst = n == 25 && strcmp(v + 19, "+09:00") == 0;

	if (n != 20 && !jst)
		goto bad;
	for (i = 0; i < 19; i++)
		if (shape[i] == 'd' ? v[i] < '0' || v[i] > '9' :
		    v[i] != shape[i])
			goto bad;
	if (!jst && v[19] != 'Z')
		goto bad;
	memcpy(z, v, 19);
	z[19] = 'Z';
	z[20] = '\0';
	if (hk_time_parse(z, &o->at) != 0)
		goto bad;
	if (jst)
		o->at -= HK_JST_OFFSET;
	return 0;
 bad:
	hk_err_set("--at %.40s: a date and time, YYYY-MM-DDTHH:MM:SSZ (UTC) "
	    "or YYYY-MM-DDTHH:MM:SS+09:00 (JST)", v);
	return HK_ERR_USAGE;
}

/* "--object": a partition id's form (the code checked later against
 * municipalities.csv), arl or crl. */
static int
object_form_ok(const char *v)
{
	size_t n = strlen(v);
	long g;

	if (strcmp(v, "arl") == 0 || strcmp(v, "crl") == 0)
		return 1;
	if (n < 6 || strspn(v, "0123456789") != 6)
		return 0;
	if (n == 6)
		return 1;
	/* generation 1 has no suffix (docs/publish.md) */
	if (v[6] != '-' || n > 10 || v[7] < '1' || v[7] > '9' ||
	    strspn(v + 7, "0123456789") != n - 7)
		return 0;
	g = strtol(v + 7, NULL, 10);
	return g >= 2 && g <= PROVISION_GEN_MAX;
}

static int
parse(struct provision_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--recipient", .value = &o->recipient,
		    .required = 1 },
		{ .name = "--method", .value = &o->method, .required = 1 },
		{ .name = "--object", .value = &o->object, .required = 1 },
		{ .name = "--count", .value = &o->count_s, .required = 1 },
		{ .name = "--at", .value = &o->at_s },
		{ .name = "--another-provision", .flag = &o->another },
		{ .name = NULL },
	};
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = hk_online_parse(&o->c, argc, argv, provision_usage, args,
	    NULL)) != 0)
		return r;
	if (strcmp(o->method, "http") == 0 || strcmp(o->method, "ocsp") ==
	    0) {
		hk_err_set("--method %s: recorded by hanko-online serve as it "
		    "answers; this command records ldap or media only",
		    o->method);
		return HK_ERR_USAGE;
	}
	if (strcmp(o->method, "ldap") != 0 && strcmp(o->method, "media") !=
	    0) {
		hk_err_set("--method %.40s: CPS 4-5: ldap (read from the "
		    "directory) or media (handed over on removable media)",
		    o->method);
		return HK_ERR_USAGE;
	}
	if (!hk_store_rp_name_ok(o->recipient)) {
		hk_err_set("--recipient %.80s: a relying party's name, 1 to %d "
		    "of [A-Za-z0-9._-], starting with a letter or digit",
		    o->recipient, HK_STORE_RP_NAME_MAX);
		return HK_ERR_USAGE;
	}
	if (!object_form_ok(o->object)) {
		hk_err_set("--object %.40s: a partition id (431010, or "
		    "431010-2 for issuing generation 2 to %d), arl, or crl "
		    "(partition CRLs not told apart)", o->object,
		    PROVISION_GEN_MAX);
		return HK_ERR_USAGE;
	}
	if ((r = count_parse(o)) != 0)
		return r;
	return o->at_s != NULL ? at_parse(o) : 0;
}

/* What needs the state: the recipient registered and not retired at the
 * time, the time not in the future, a partition of municipalities.csv. */
static int
provision_check(struct hk_online *on, struct hk_store *store,
    const struct provision_opts *o, time_t now)
{
	struct hk_store_rp rp;
	struct hk_munis *m = NULL;
	const struct hk_muni *mu;
	char path[4096], code[7], a[32], b[32];
	int r;

	hk_store_jst_format(o->at, a, sizeof(a));
	if (o->at > now) {
		hk_store_jst_format(now, b, sizeof(b));
		hk_err_set("--at %s: in the future (now %s): a provision is "
		    "recorded after it was made", a, b);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_rp_get(store, o->recipient, &rp)) ==
	    HK_ERR_NOT_FOUND) {
		hk_err_set("--recipient %s: CPS 4-4-4-5: not a registered "
		    "relying party (register it first: hanko-online rp add)",
		    o->recipient);
		return HK_ERR_INVALID;
	}
	if (r != 0)
		return r;
	if (o->at < rp.registered_at) {
		hk_store_jst_format(rp.registered_at, b, sizeof(b));
		hk_err_set("--recipient %s: CPS 4-4-4-5: registered at %s, "
		    "after the provision (--at %s)", o->recipient, b, a);
		return HK_ERR_INVALID;
	}
	if (rp.retired_at != 0 && o->at >= rp.retired_at) {
		hk_store_jst_format(rp.retired_at, b, sizeof(b));
		hk_err_set("--recipient %s: CPS 4-4-4-5: retired at %s, before "
		    "the provision (--at %s)", o->recipient, b, a);
		return HK_ERR_INVALID;
	}
	if (strcmp(o->object, "arl") == 0 || strcmp(o->object, "crl") == 0)
		return 0;
	memcpy(code, o->object, 6);
	code[6] = '\0';
	if ((r = hk_online_path(on, "municipalities.csv", path,
	    sizeof(path))) != 0 || (r = hk_munis_load(path, &m)) != 0)
		return r;
	if ((mu = hk_munis_find(m, code)) == NULL || !mu->partition) {
		hk_err_set("--object %s: %s: %s of municipalities.csv", o->object,
		    code, mu == NULL ? "not a municipality" :
		    "not a CRL partition (partition no)");
		r = HK_ERR_INVALID;
	}
	hk_munis_free(m);
	return r;
}

/*
 * An exact repeat: the same recipient, method, object and count already
 * recorded in the JST month of the time (the report's unit; within the
 * transaction, so two runs at once cannot both pass). Refused unless
 * --another-provision says it is another provision; *again set then.
 */
static int
repeat_check(struct hk_store *store, const struct provision_opts *o,
    int *again)
{
	struct tm tm;
	time_t j = o->at + HK_JST_OFFSET, from, to, at;
	int64_t id;
	uint64_t n;
	char when[32];
	int r;

	*again = 0;
	if (gmtime_r(&j, &tm) == NULL) {
		hk_err_set("--at: outside the calendar");
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_month_bounds(tm.tm_year + 1900, tm.tm_mon + 1,
	    &from, &to)) != 0)
		return r;
	if ((r = hk_store_provision_find(store, o->recipient, o->method,
	    o->object, (uint64_t)o->count, from, to, &id, &at, &n)) ==
	    HK_ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return r;
	if (o->another) {
		*again = 1;
		return 0;
	}
	hk_store_jst_format(at, when, sizeof(when));
	hk_err_set("%s, method %s, object %s, count %ld in %04d-%02d (JST): "
	    "recorded already (provisions row %" PRId64 ", at %s%s): entered "
	    "again it would count twice in the CPS 4-5 report; if this is "
	    "another provision, give --another-provision", o->recipient,
	    o->method, o->object, o->count, tm.tm_year + 1900, tm.tm_mon + 1,
	    id, when, n > 1 ? ", and more" : "");
	return HK_ERR_INVALID;
}

/* The row and its audit record: the row committed only once the record is
 * appended. */
static int
provision_record(struct hk_online *on, struct hk_store *store,
    const struct provision_opts *o)
{
	char a[32], z[32];
	int r, again = 0;

	hk_store_jst_format(o->at, a, sizeof(a));
	hk_time_format(o->at, z, sizeof(z));
	if ((r = hk_store_begin(store)) != 0 ||
	    (r = repeat_check(store, o, &again)) != 0 ||
	    (r = hk_store_provision_add_count(store, o->recipient, o->method,
	    o->object, o->at, (uint64_t)o->count)) != 0)
		goto out;
	if (hk_online_audit(on, "records.provision", "ok", "CPS 4-5: %s, "
	    "method %s, object %s, count %ld, at %s (%s)%s", o->recipient,
	    o->method, o->object, o->count, z, a, again ? "; another "
	    "provision of the same numbers in the month (--another-provision)"
	    : "") != 0) {
		hk_err_set("audit record records.provision ok not written: "
		    "nothing recorded");
		r = HK_ERR_AUDIT;
		goto out;
	}
	if ((r = hk_store_commit(store)) != 0) {
		/* the fail record the caller appends says so */
		hk_err_set("%s: the row of the records.provision ok record "
		    "above is not recorded", hk_err_msg());
		goto out;
	}
	printf("recorded: %s, method %s, object %s, count %ld, at %s%s\n",
	    o->recipient, o->method, o->object, o->count, a, again ?
	    " (another provision of the same numbers in the month)" : "");
 out:
	if (r != 0)
		hk_store_rollback(store);
	return r;
}

int
cmd_provision(int argc, char **argv)
{
	struct provision_opts o;
	struct hk_online *on = NULL;
	struct hk_store *store = NULL;
	char path[4096];
	time_t now;
	int r;

	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_online_open(&o.c, &on)) != 0)
		goto out;
	now = hk_clock_now();
	if (o.at_s == NULL)
		o.at = now;
	if ((r = hk_online_path(on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 || (r = hk_store_open(path, 0, &store)) != 0 ||
	    (r = hk_online_login(on)) != 0)
		goto out;
	if ((r = provision_check(on, store, &o, now)) != 0 ||
	    (r = provision_record(on, store, &o)) != 0) {
		if (r != HK_ERR_AUDIT)
			hk_online_audit(on, "records.provision", "fail",
			    "%s method %s object %s count %ld: %s",
			    o.recipient, o.method, o.object, o.count,
			    hk_err_msg());
		hk_online_checkpoint_keep_err(on);
		goto out;
	}
	if ((r = hk_online_checkpoint(on)) != 0) {
		/* recorded and audited already: entering it again would
		 * count it twice (a provision is never deleted) */

		hk_err_set("the provision IS recorded (its records.provision "
		    "record too); only the audit checkpoint failed: do not "
		    "enter it again: %s", hk_err_msg());
	}
out:
	hk_store_close(store);
	hk_online_close(on);
	return r;
}

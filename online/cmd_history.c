/*
 * cmd_history.c - "hanko-online history": a resident's own issuance and
 * revocation history, for disclosure at the resident's request after the
 * clerk has confirmed who they are (CPS 2-8-6; docs/records.md).
 *
 * The resident is found by the keyed hash of the identifier (the same in
 * every municipality), so every certificate of theirs is listed, oldest
 * first: serial, municipality, issued (notBefore), notAfter, status, when
 * revoked and why. The identifier is never printed back, never stored and
 * never logged: the audit record (records.history) names the resident by
 * the first 8 hex digits of the keyed hash only.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bundle.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "online.h"
#include "store.h"

struct history_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *resident;		/* --resident-id ID */
};

static const char history_usage[] =
"usage: hanko-online history --state DIR --resident-id ID\n";

static int
parse(struct history_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--resident-id", .value = &o->resident,
		    .required = 1 },
		{ .name = NULL },
	};

	memset(o, 0, sizeof(*o));
	return hk_online_parse(&o->c, argc, argv, history_usage, args, NULL);
}

/* One line per certificate, under the header. */
static int
print_row(const struct hk_store_cert *c, void *arg)
{
	size_t *n = arg, k;
	char hex[2 * HK_STORE_SERIAL_MAX + 1], nb[32], na[32], ra[32];
	char reason[40];

	hk_hex_encode(c->serial, c->serial_len, hex);
	for (k = 0; hex[k]; k++)
		if (hex[k] >= 'a' && hex[k] <= 'f')
			hex[k] = (char)(hex[k] - 'a' + 'A');
	hk_time_format(c->not_before, nb, sizeof(nb));
	hk_time_format(c->not_after, na, sizeof(na));
	if (c->status == HK_CERT_REVOKED) {
		hk_time_format(c->revoked_at, ra, sizeof(ra));
		snprintf(reason, sizeof(reason), "%d %s", c->reason,
		    hk_revreq_reason_name(c->reason) ?
		    hk_revreq_reason_name(c->reason) : "?");
	} else {
		snprintf(ra, sizeof(ra), "-");
		snprintf(reason, sizeof(reason), "-");
	}
	/* a valid certificate past its notAfter (CPS 4-2-3: no longer
	 * counts) */
	printf("%-40s  %-12s  %-20s  %-20s  %-7s  %-20s  %s\n", hex,
	    c->municipality, nb, na, c->status == HK_CERT_VALID &&
	    c->not_after < hk_clock_now() ? "expired" :
	    hk_cert_status_name(c->status), ra, reason);
	(*n)++;
	return 0;
}

int
cmd_history(int argc, char **argv)
{
	struct history_opts o;
	struct hk_online *on = NULL;
	struct hk_store *store = NULL;
	unsigned char rkey[HK_STORE_RKEY_LEN];
	char path[4096], who[9];
	size_t n = 0;
	int r;

	memset(rkey, 0, sizeof(rkey));
	snprintf(who, sizeof(who), "-");
	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_online_open(&o.c, &on)) != 0)
		goto out;
	if ((r = hk_online_path(on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 || (r = hk_store_open(path, 0, &store)) != 0 ||
	    (r = hk_online_login(on)) != 0)
		goto out;
	if ((r = hk_online_resident_key(on, o.resident, rkey)) != 0)
		goto fail;
	hk_hex_encode(rkey, 4, who);
	printf("%-40s  %-12s  %-20s  %-20s  %-7s  %-20s  %s\n", "serial",
	    "municipality", "issued", "not after", "status", "revoked at",
	    "reason");
	if ((r = hk_store_history(store, rkey, print_row, &n)) != 0)
		goto fail;
	if (n == 0)
		printf("(no certificate of this resident in the store)\n");
	hk_online_audit(on, "records.history", "ok", "CPS 2-8-6: resident %s "
	    "(keyed hash): %zu certificates disclosed", who, n);
	r = hk_online_checkpoint(on);
	goto out;
fail:
	hk_online_audit(on, "records.history", "fail", "resident %s: %s", who,
	    hk_err_msg());
	hk_online_checkpoint_keep_err(on);
out:
	OPENSSL_cleanse(rkey, sizeof(rkey));
	hk_store_close(store);
	hk_online_close(on);
	return r;
}

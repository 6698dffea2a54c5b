/*
 * cmd_revoke.c - "hanko-online revoke": revoke a resident's certificate
 * (CPS 4-4) by serial or by resident (municipality and resident
 * identifier, looked up by the keyed hash), with a CPS 4-4-4-2 reason only:
 * 1 key-compromise, 2 ca-compromise, 3 affiliation-changed, 4 superseded,
 * 5 cessation-of-operation. No suspension (certificateHold) and no
 * "unspecified"; a revocation is final (the store's trigger refuses any
 * change of a revoked row). Audited (cert.revoke ok/fail) with a checkpoint.
 * Publication of the partition CRLs is "hanko-online publish" (to come).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "bundle.h"
#include "clock.h"
#include "crl.h"
#include "err.h"
#include "hex.h"
#include "municipalities.h"
#include "online.h"
#include "request.h"
#include "secmem.h"
#include "store.h"

struct revoke_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *reason;		/* --reason 1-5|NAME */
	const char *serial;		/* --serial HEX, or NULL */
	const char *muni;		/* --municipality CODE, or NULL */
	const char *resident;		/* --resident-id ID, or NULL */
};

static const char revoke_usage[] =
"usage: hanko-online revoke --state DIR --reason 1-5|NAME\n"
"           (--serial HEX | --municipality CODE --resident-id ID)\n"
"reasons (CPS 4-4-4-2): 1 key-compromise, 2 ca-compromise,\n"
"  3 affiliation-changed, 4 superseded, 5 cessation-of-operation\n";

static int
parse(struct revoke_opts *o, int argc, char **argv)
{
	const char **slot;
	int i, r;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		if (hk_online_common_opt(&o->c, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0) {
			fputs(revoke_usage, stdout);
			return 1;
		}
		if (strcmp(argv[i], "--reason") == 0)
			slot = &o->reason;
		else if (strcmp(argv[i], "--serial") == 0)
			slot = &o->serial;
		else if (strcmp(argv[i], "--municipality") == 0)
			slot = &o->muni;
		else if (strcmp(argv[i], "--resident-id") == 0)
			slot = &o->resident;
		else {
			hk_err_set("%s: unknown argument (see --help)",
			    argv[i]);
			return HK_ERR_USAGE;
		}
		if ((*slot = hk_online_opt_value(argc, argv, &i)) == NULL)
			return HK_ERR_USAGE;
	}
	if (o->c.state == NULL || o->reason == NULL ||
	    (o->serial != NULL) == (o->muni != NULL || o->resident != NULL) ||
	    (o->serial == NULL && (o->muni == NULL || o->resident == NULL))) {
		hk_err_set("--state, --reason and either --serial or both "
		    "--municipality and --resident-id are required (see "
		    "--help)");
		return HK_ERR_USAGE;
	}
	return 0;
}

/* --serial: 1-20 bytes of hex, either case. */
static int
serial_parse(const char *hex, unsigned char *s, size_t *len)
{
	char low[2 * HK_STORE_SERIAL_MAX + 1];
	size_t n = strlen(hex), i;

	if (n == 0 || n % 2 != 0 || n > 2 * HK_STORE_SERIAL_MAX)
		goto bad;
	for (i = 0; i <= n; i++)
		low[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ?
		    hex[i] - 'A' + 'a' : hex[i]);
	if (hk_hex_decode(low, s, n / 2) != 0)
		goto bad;
	*len = n / 2;
	return 0;
bad:
	hk_err_set("--serial %s: RFC 5280 4.1.2.2: 1 to 20 octets in hex",
	    hex);
	return HK_ERR_USAGE;
}

/* The resident's live certificate through the keyed hash. */
static int
by_resident(struct hk_online *on, struct hk_store *store,
    const struct revoke_opts *o, unsigned char *s, size_t *len)
{
	const char *sid = hk_state_get(on->st, "store.id");
	const char *suri = hk_state_get(on->st, "store.key-uri");
	const char *check = hk_state_get(on->st, "store.key-check");
	struct hk_munis *munis = NULL;
	const struct hk_muni *m;
	unsigned char *key = NULL, rkey[HK_STORE_RKEY_LEN], mac[32];
	unsigned int ml = 0;
	char path[4096], hex[64];
	size_t i;
	int r;

	if (strlen(o->resident) != HK_REQ_ID_LEN ||
	    strspn(o->resident, "0123456789") != HK_REQ_ID_LEN) {
		hk_err_set("--resident-id: CPS 3-1: the resident record code "
		    "must be %d digits", HK_REQ_ID_LEN);
		return HK_ERR_USAGE;
	}
	if ((r = hk_online_path(on, "municipalities.csv", path,
	    sizeof(path))) != 0 || (r = hk_munis_load(path, &munis)) != 0)
		return r;
	if ((m = hk_munis_find(munis, o->muni)) == NULL || !m->partition) {
		hk_err_set("--municipality %s: not a partition of the state's "
		    "municipalities.csv", o->muni);
		r = HK_ERR_INVALID;
		goto out;
	}
	if (sid == NULL || suri == NULL || check == NULL) {
		hk_err_set("%s/state.conf: store.id, store.key-uri and "
		    "store.key-check are required", on->st->dir);
		r = HK_ERR_STATE;
		goto out;
	}
	if ((r = hk_online_store_key(on->tok, suri, sid, &key)) != 0)
		goto out;
	HMAC(EVP_sha256(), key, HK_STORE_HMAC_KEY_LEN,
	    (const unsigned char *)"check", 5, mac, &ml);
	hk_hex_encode(mac, 16, hex);
	if (strcmp(hex, check) != 0) {
		hk_err_set("%s/state.conf: store.key-check: the token's store "
		    "key is not the one this store was made with", on->st->dir);
		r = HK_ERR_STATE;
		goto out;
	}
	if ((r = hk_store_resident_key(key, o->resident, rkey)) != 0)
		goto out;
	if ((r = hk_store_cert_live(store, rkey, s, len)) ==
	    HK_ERR_NOT_FOUND)
		hk_err_set("--resident-id: municipality %s: CPS 4-4: the "
		    "resident has no valid certificate", m->code);
	else if (r == 0) {
		struct hk_store_cert c;

		/* the clerk's municipality must be the certificate's: another
		 * municipality's resident has no valid certificate here */
		if ((r = hk_store_cert_get(store, s, *len, &c)) == 0 &&
		    strcmp(c.municipality, m->code) != 0) {
			hk_err_set("--resident-id: municipality %s: CPS 4-4: "
			    "the resident has no valid certificate of this "
			    "municipality", m->code);
			r = HK_ERR_NOT_FOUND;
		}
	}
out:
	for (i = 0; i < sizeof(rkey); i++)
		rkey[i] = 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	hk_secret_free(key);
	hk_munis_free(munis);
	return r;
}

int
cmd_revoke(int argc, char **argv)
{
	struct revoke_opts o;
	struct hk_online *on = NULL;
	struct hk_store *store = NULL;
	struct hk_store_cert c;
	unsigned char s[HK_STORE_SERIAL_MAX];
	char path[4096], hex[2 * HK_STORE_SERIAL_MAX + 1];
	size_t sl = 0, k;
	int r, reason = 0;

	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if (hk_revreq_reason_parse(o.reason, &reason) != 0) {
		hk_err_set("--reason %s: CPS 4-4-4-2: only 1 key-compromise, 2 "
		    "ca-compromise, 3 affiliation-changed, 4 superseded, 5 "
		    "cessation-of-operation (no suspension, no unspecified)",
		    o.reason);
		return HK_ERR_USAGE;
	}
	if (o.serial != NULL && (r = serial_parse(o.serial, s, &sl)) != 0)
		return r;
	if ((r = hk_online_open(&o.c, &on)) != 0)
		goto out;
	if ((r = hk_online_path(on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 || (r = hk_store_open(path, 0, &store)) != 0 ||
	    (r = hk_online_login(on)) != 0)
		goto out;
	if (o.serial == NULL && (r = by_resident(on, store, &o, s, &sl)) != 0)
		goto fail;
	hk_hex_encode(s, sl, hex);
	for (k = 0; hex[k]; k++)
		if (hex[k] >= 'a' && hex[k] <= 'f')
			hex[k] = (char)(hex[k] - 'a' + 'A');
	if ((r = hk_store_cert_get(store, s, sl, &c)) != 0) {
		if (r == HK_ERR_NOT_FOUND)
			hk_err_set("serial %s: no such certificate in the "
			    "store", hex);
		goto fail;
	}
	if (c.status != HK_CERT_VALID) {
		hk_err_set("serial %s: CPS 4-4: the certificate is %s; only a "
		    "valid certificate is revoked (a revocation is final)",
		    hex, hk_cert_status_name(c.status));
		r = HK_ERR_INVALID;
		goto fail;
	}
	{
		struct hk_crl_entry e;
		ASN1_INTEGER *ai = ASN1_INTEGER_new();
		unsigned char *ed = NULL;
		size_t el = 0;
		BIGNUM *bn = BN_bin2bn(s, (int)sl, NULL);

		e.revoked = hk_clock_now();
		e.reason = (enum hk_crl_reason)reason;
		e.serial = ai;
		if (ai == NULL || bn == NULL || BN_to_ASN1_INTEGER(bn, ai) == NULL)
			r = HK_ERR_ALLOC;
		else if ((r = hk_crl_entry_der(&e, &ed, &el)) == 0)
			r = hk_store_cert_revoke(store, s, sl, reason, e.revoked,
			    ed, el);
		OPENSSL_free(ed);
		BN_free(bn);
		ASN1_INTEGER_free(ai);
		if (r != 0)
			goto fail;
	}
	hk_online_audit(on, "cert.revoke", "ok", "serial %s: municipality %s, "
	    "reason %d (%s)", hex, c.municipality, reason,
	    hk_revreq_reason_name(reason));
	if ((r = hk_online_checkpoint(on)) != 0)
		goto out;
	printf("Revoked serial %s (municipality %s): reason %d (%s)\n", hex,
	    c.municipality, reason, hk_revreq_reason_name(reason));
	goto out;
fail:
	hk_online_audit(on, "cert.revoke", "fail", "%s", hk_err_msg());
	hk_online_checkpoint_keep_err(on);
out:
	hk_store_close(store);
	hk_online_close(on);
	return r;
}

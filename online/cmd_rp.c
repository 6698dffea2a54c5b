/*
 * cmd_rp.c - "hanko-online rp": the registered relying parties
 * (署名検証者等) who may fetch the partition CRLs and ask OCSP
 * (CPS 2-6-3, 4-4-4-3, 4-4-4-5; docs/relying-parties.md).
 *
 *   rp add --name NAME [--token-out FILE]   register; a new bearer token
 *   rp list                                 every registration
 *   rp retire --name NAME                   retire (final; never deleted)
 *
 * A token is 256 random bits as 64 lowercase hex characters, shown once
 * (on stdout, or written to FILE, mode 0600, never over an existing file)
 * and stored only as the SHA-256 of its 64 characters. add and retire are
 * audited (rp.add, rp.retire) with a signed checkpoint.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "atomic.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "online.h"
#include "secmem.h"
#include "store.h"

#define RP_TOKEN_BYTES	32		/* 256 bits */

struct rp_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *verb;		/* add, list, retire */
	const char *name;		/* --name NAME */
	const char *token_out;		/* --token-out FILE, or NULL */
};

static const char rp_usage[] =
"usage: hanko-online rp add --state DIR --name NAME [--token-out FILE]\n"
"       hanko-online rp list --state DIR\n"
"       hanko-online rp retire --state DIR --name NAME\n"
"  NAME: 1 to 64 of [A-Za-z0-9._-], starting with a letter or digit\n";

static int
parse(struct rp_opts *o, int argc, char **argv)
{
	const char **slot;
	int i, r;

	memset(o, 0, sizeof(*o));
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(rp_usage, stdout);
		return 1;
	}
	if (argc < 2 || (strcmp(argv[1], "add") != 0 &&
	    strcmp(argv[1], "list") != 0 && strcmp(argv[1], "retire") != 0)) {
		hk_err_set("%s: expected add, list or retire (see --help)",
		    argc < 2 ? "rp" : argv[1]);
		return HK_ERR_USAGE;
	}
	o->verb = argv[1];
	for (i = 2; i < argc; i++) {
		if (hk_online_common_opt(&o->c, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0) {
			fputs(rp_usage, stdout);
			return 1;
		}
		if (strcmp(argv[i], "--name") == 0 && strcmp(o->verb,
		    "list") != 0)
			slot = &o->name;
		else if (strcmp(argv[i], "--token-out") == 0 &&
		    strcmp(o->verb, "add") == 0)
			slot = &o->token_out;
		else {
			hk_err_set("%s: unknown argument for rp %s (see "
			    "--help)", argv[i], o->verb);
			return HK_ERR_USAGE;
		}
		if ((r = hk_opt_once(slot, argc, argv, &i)) != 0)
			return r;
	}
	if (o->c.state == NULL || (strcmp(o->verb, "list") != 0 &&
	    o->name == NULL)) {
		hk_err_set("rp %s: --state%s required (see --help)", o->verb,
		    strcmp(o->verb, "list") != 0 ? " and --name are" : " is");
		return HK_ERR_USAGE;
	}
	if (o->name != NULL && !hk_store_rp_name_ok(o->name)) {
		hk_err_set("--name %.80s: 1 to %d of [A-Za-z0-9._-], starting "
		    "with a letter or digit", o->name, HK_STORE_RP_NAME_MAX);
		return HK_ERR_USAGE;
	}
	return 0;
}

static int
print_rp(const struct hk_store_rp *rp, void *arg)
{
	char reg[32], ret[32], hex[17];

	(void)arg;
	hk_time_format(rp->registered_at, reg, sizeof(reg));
	if (rp->retired_at != 0)
		hk_time_format(rp->retired_at, ret, sizeof(ret));
	else
		snprintf(ret, sizeof(ret), "-");
	hk_hex_encode(rp->credential, 8, hex);
	printf("%-24s %-5s %s %-20s %s\n", rp->name, rp->kind, reg, ret, hex);
	return 0;
}

static int
rp_list(struct hk_store *store)
{
	printf("%-24s %-5s %-20s %-20s %s\n", "name", "kind", "registered",
	    "retired", "credential");
	return hk_store_rp_each(store, print_rp, NULL);
}

/* Register o->name with a new token; the token shown or written once. */
static int
rp_add(struct hk_online *on, struct hk_store *store, const struct rp_opts *o)
{
	unsigned char cred[SHA256_DIGEST_LENGTH];
	char *tok = NULL, *line = NULL, hex[17];
	size_t off;
	ssize_t n;
	int r, written = 0;

	if ((r = hk_secret_random_hex(RP_TOKEN_BYTES, &tok)) != 0 ||
	    (line = hk_secret_alloc(2 * RP_TOKEN_BYTES + 2)) == NULL) {
		r = r != 0 ? r : HK_ERR_ALLOC;
		goto out;
	}
	SHA256((const unsigned char *)tok, 2 * RP_TOKEN_BYTES, cred);
	snprintf(line, 2 * RP_TOKEN_BYTES + 2, "%s\n", tok);
	if ((r = hk_store_begin(store)) != 0 ||
	    (r = hk_store_rp_add(store, o->name, "token", cred,
	    hk_clock_now())) != 0)
		goto out;
	if (o->token_out != NULL) {
		if ((r = hk_file_write(o->token_out, line,
		    2 * RP_TOKEN_BYTES + 1, 0600, HK_WRITE_NOREPLACE)) != 0)
			goto out;
		written = 1;
	}
	/* recorded before the commit: a credential is not registered
	 * without its record. One that cannot be appended rolls the
	 * registration back and removes the token file (below): nothing
	 * registered, exit 6 (docs/audit-log.md "When an append fails") */
	hk_hex_encode(cred, 8, hex);
	if (hk_online_audit(on, "rp.add", "ok", "%s: kind token, credential "
	    "SHA-256 %s...%s%s", o->name, hex, o->token_out ? ", token "
	    "written to " : "", o->token_out ? o->token_out : "") != 0) {
		struct hk_err_kept lost;

		hk_err_keep(&lost);
		hk_err_set("relying party %s: not registered (%s%s): its "
		    "rp.add record could not be appended: %s", o->name,
		    "the registration rolled back",
		    written ? ", the token file removed" : "", lost.msg);
		r = HK_ERR_AUDIT;
		goto out;
	}
	if ((r = hk_store_commit(store)) != 0) {
		struct hk_err_kept why;

		hk_err_keep(&why);
		hk_err_set("relying party %s: not registered (the rp.add "
		    "record above is void): %s", o->name, why.msg);
		goto out;
	}
	if (o->token_out != NULL)
		printf("relying party %s registered; its bearer token is in "
		    "%s (mode 0600), shown nowhere else\n", o->name,
		    o->token_out);
	else {
		printf("relying party %s registered; its bearer token, shown "
		    "this once:\n", o->name);
		/* from locked memory straight to the descriptor: through
		 * printf a copy would stay in stdout's buffer until exit */
		fflush(stdout);
		for (off = 0; off < 2 * RP_TOKEN_BYTES + 1;) {
			n = write(1, line + off, 2 * RP_TOKEN_BYTES + 1 - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;	/* unreported, as printf's were */
			off += (size_t)n;
		}
	}
 out:
	if (r != 0) {
		hk_store_rollback(store);
		if (written)
			(void)unlink(o->token_out);
	}
	hk_wipe(cred, sizeof(cred));
	hk_secret_free(line);
	hk_secret_free(tok);
	return r;
}

int
cmd_rp(int argc, char **argv)
{
	struct rp_opts o;
	struct hk_online *on = NULL;
	struct hk_store *store = NULL;
	char path[4096], when[32];
	int r;

	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_online_open(&o.c, &on)) != 0 ||
	    (r = hk_online_path(on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 || (r = hk_store_open(path, 0, &store)) != 0)
		goto out;
	if (strcmp(o.verb, "list") == 0) {
		r = rp_list(store);
		goto out;
	}
	if ((r = hk_online_login(on)) != 0)
		goto out;
	if (strcmp(o.verb, "add") == 0) {
		if ((r = rp_add(on, store, &o)) != 0)
			goto fail;
	} else {
		if ((r = hk_store_rp_retire(store, o.name,
		    hk_clock_now())) != 0)
			goto fail;
		hk_time_format(hk_clock_now(), when, sizeof(when));
		/* a retirement stands (undoing it would accept the
		 * credential again): one whose record is lost ends with
		 * exit 6, naming it (docs/audit-log.md) */
		if (hk_online_audit(on, "rp.retire", "ok", "%s: retired at "
		    "%s; its credential is refused from now on", o.name,
		    when) != 0) {
			struct hk_err_kept lost;
			char done[512], rec[512];

			hk_err_keep(&lost);
			printf("relying party %s retired at %s\n", o.name,
			    when);
			hk_online_checkpoint_keep_err(on);
			snprintf(done, sizeof(done), "relying party %s: "
			    "retired at %s (it stays retired)", o.name, when);
			snprintf(rec, sizeof(rec), "the retirement (relying "
			    "party %s, retired at %s)", o.name, when);
			r = hk_online_unrecorded(done, "its rp.retire record is",
			    lost.msg, rec);
			goto out;
		}
		printf("relying party %s retired at %s\n", o.name, when);
	}
	r = hk_online_checkpoint(on);
	goto out;
 fail:
	hk_online_audit(on, strcmp(o.verb, "add") == 0 ? "rp.add" :
	    "rp.retire", "fail", "%s", hk_err_msg());
	hk_online_checkpoint_keep_err(on);
 out:
	hk_store_close(store);
	hk_online_close(on);
	return r;
}

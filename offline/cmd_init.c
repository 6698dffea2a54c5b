/*
 * cmd_init.c - "hanko-offline init": a new CA state folder (CPS 6-1-1-1,
 * 6-2-1-2, 6-2-1-7, 6-4-1-1).
 *
 * Everything is checked first (profile, roster, passphrases, that nothing
 * exists yet), then built in a temporary folder beside the target and
 * renamed into place at the end: a failure before that leaves nothing
 * behind, and nothing is removed after it (hk_newstate_commit). The token
 * gets random SO and user PINs that exist only in locked memory and, sealed
 * under the quorum key, in secrets/. Each key manager's sealed share goes to
 * a folder of their own under --media.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "atomic.h"
#include "audit.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "newstate.h"
#include "offline.h"
#include "p11.h"
#include "profile.h"
#include "profile_accept.h"
#include "quorum.h"
#include "roster.h"
#include "secmem.h"
#include "state.h"

#define HK_PIN_BYTES	16	/* random bytes behind each PIN (hex) */

struct init_opts {
	struct hk_common_opts c;	/* --state, --clock */
	const char *profile;		/* --profile FILE */
	const char *roster;		/* --roster FILE */
	const char *media;		/* --media DIR: <DIR>/<id>/ per holder */
	const char *module;		/* --module PATH: another PKCS#11 module */
	const char *label;		/* --token-label; default hanko-root */
	const char *kdf;		/* --kdf LEVEL; default moderate */
	int rehearsal;			/* --rehearsal */
	const char *passin_id[HK_QUORUM_MAX_SHARES];	/* --passin ID=SPEC */
	const char *passin_spec[HK_QUORUM_MAX_SHARES];
	int npassin;
};

/* What init builds, freed and wiped in one place. */
struct init_work {
	struct hk_profile *profile;	/* parsed --profile */
	struct hk_roster *roster;	/* parsed --roster */
	unsigned char *profile_buf;	/* bytes of --profile, copied verbatim */
	size_t profile_len;
	unsigned char *roster_buf;	/* bytes of --roster, copied verbatim */
	size_t roster_len;
	char *pass[HK_QUORUM_MAX_SHARES]; /* passphrases (secure memory) */
	char share_path[HK_QUORUM_MAX_SHARES][4096]; /* on the media */
	int shares_written;		/* share files made so far */
	char audit_key_sha256[65];	/* SHA-256 of the audit key's SPKI */
	char tmp[4096];			/* the temporary state folder */
	int tmp_made;			/* 1 once tmp exists */
	char *user_pin, *so_pin;	/* secure memory */
	struct hk_quorum_dealer *dealer;
	struct hk_token *tok;
	int kdf_level;
};

static const char init_usage[] =
"usage: hanko-offline init --state DIR --profile FILE --roster FILE\n"
"           --media DIR [--passin ID=SPEC]... [--kdf LEVEL] [--rehearsal]\n"
"           [--clock YYYY-MM-DDTHH:MM:SSZ] [--module PATH] [--token-label L]\n";

static int
parse(struct init_opts *o, int argc, char **argv)
{
	int i, r;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (hk_common_opt(&o->c, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
		} else if (strcmp(a, "--help") == 0) {
			fputs(init_usage, stdout);
			exit(0);
		} else if (strcmp(a, "--rehearsal") == 0) {
			if (o->rehearsal)
				return hk_err_twice(a, NULL, NULL);
			o->rehearsal = 1;
		} else if (strcmp(a, "--profile") == 0) {
			if ((r = hk_opt_once(&o->profile, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(a, "--roster") == 0) {
			if ((r = hk_opt_once(&o->roster, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(a, "--media") == 0) {
			if ((r = hk_opt_once(&o->media, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(a, "--module") == 0) {
			if ((r = hk_opt_once(&o->module, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(a, "--token-label") == 0) {
			if ((r = hk_opt_once(&o->label, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(a, "--kdf") == 0) {
			if ((r = hk_opt_once(&o->kdf, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(a, "--passin") == 0) {
			const char *v = hk_opt_value(argc, argv, &i), *eq;
			if (v == NULL)
				return HK_ERR_USAGE;
			if ((eq = strchr(v, '=')) == NULL || eq == v ||
			    o->npassin == HK_QUORUM_MAX_SHARES) {
				hk_err_set("--passin: expected ID=SPEC, e.g. "
				    "km1=env:KM1_PASS");
				return HK_ERR_USAGE;
			}
			o->passin_id[o->npassin] = v;
			o->passin_spec[o->npassin++] = eq + 1;
		} else {
			hk_err_set("%s: unknown option (see --help)", a);
			return HK_ERR_USAGE;
		}
	}
	if (o->c.state == NULL || o->profile == NULL || o->roster == NULL ||
	    o->media == NULL) {
		hk_err_set("--state, --profile, --roster and --media are "
		    "required (see --help)");
		return HK_ERR_USAGE;
	}
	if (o->c.clock != NULL && !o->rehearsal) {
		hk_err_set("--clock %s: the clock may be set only with "
		    "--rehearsal", o->c.clock);
		return HK_ERR_USAGE;
	}
	if (o->label == NULL)
		o->label = o->rehearsal ? "hanko-root-test" : "hanko-root";
	/* before the passphrases are asked for, not after */
	if (hk_token_label_check(o->label) != 0) {
		hk_err_set("--token-label: %s", hk_err_msg());
		return HK_ERR_USAGE;
	}
	return 0;
}

static int
check_passin_ids(const struct init_opts *o, const struct hk_roster *ro)
{
	char id[64];
	int i;

	for (i = 0; i < o->npassin; i++) {
		size_t len = (size_t)(o->passin_spec[i] - 1 - o->passin_id[i]);
		const struct hk_person *p;
		snprintf(id, sizeof(id), "%.*s", (int)len, o->passin_id[i]);
		p = hk_roster_find(ro, id);
		if (p == NULL || p->role != HK_ROLE_KEY_MANAGER) {
			hk_err_set("--passin %s=...: %s is not a key manager "
			    "of the roster", id, id);
			return HK_ERR_USAGE;
		}
	}
	return 0;
}

/* Step 1: every input is checked before anything is made. */
static int
check_inputs(const struct init_opts *o, struct init_work *w)
{
	size_t i, n;
	int r;

	if ((r = hk_newstate_check(o->c.state)) != 0)
		return r;
	if ((r = hk_kdf_level_parse(o->kdf ? o->kdf : "moderate",
	    &w->kdf_level)) != 0) {
		hk_err_set("--kdf %s: expected interactive, moderate or "
		    "sensitive", o->kdf);
		return r;
	}
	/* the bytes kept and accepted are the bytes checked */
	if ((r = hk_file_read(o->profile, HK_PROFILE_MAX, &w->profile_buf,
	    &w->profile_len)) != 0 ||
	    (r = hk_profile_load_buf(o->profile, w->profile_buf,
	    w->profile_len, &w->profile)) != 0)
		return r;
	if ((r = hk_roster_load(o->roster, &w->roster)) != 0 ||
	    (r = hk_file_read(o->roster, 1 << 20, &w->roster_buf,
	    &w->roster_len)) != 0)
		return r;
	if ((r = check_passin_ids(o, w->roster)) != 0)
		return r;
	n = hk_roster_key_managers(w->roster);
	for (i = 0; i < n; i++) {
		const struct hk_person *km = hk_roster_key_manager(w->roster, i);
		int len = snprintf(w->share_path[i], sizeof(w->share_path[i]),
		    "%s/%s/share-%zu-%s%s", o->media, km->id, i + 1, km->id,
		    HK_QUORUM_SHARE_SUFFIX);
		if (len < 0 || (size_t)len >= sizeof(w->share_path[i])) {
			hk_err_set("%s: path too long", o->media);
			return HK_ERR_INVALID;
		}
		if (hk_path_exists(w->share_path[i])) {
			hk_err_set("%s: already exists; refusing to overwrite "
			    "a key manager's share", w->share_path[i]);
			return HK_ERR_EXISTS;
		}
	}
	/* Passphrases: each key manager's, strong, and all different. */
	return hk_newset_passphrases(w->roster, o->passin_id, o->passin_spec,
	    o->npassin, "", w->pass);
}

static int
tmp_path(const struct init_work *w, const char *rel, char *buf, size_t len)
{
	return hk_newstate_path(w->tmp, rel, buf, len);
}

static int
seal_to(struct init_work *w, const char *name, const char *secret)
{
	uint8_t *blob = NULL;
	size_t len;
	char rel[128], path[4096];
	int r;

	snprintf(rel, sizeof(rel), "secrets/%s.sealed", name);
	if ((r = tmp_path(w, rel, path, sizeof(path))) != 0)
		return r;
	if ((r = hk_quorum_seal_secret(hk_quorum_dealer_key(w->dealer), name,
	    secret, strlen(secret), &blob, &len)) != 0)
		return r;
	r = hk_file_write(path, blob, len, 0600, HK_WRITE_NOREPLACE);
	free(blob);
	return r;
}

/* A record of the new log; one that cannot be appended stops init, and
 * the new state is removed (cleanup): HK_ERR_AUDIT. */
static int
audit(struct init_work *w, const char *event, const char *result,
    const char *actors, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
audit(struct init_work *w, const char *event, const char *result,
    const char *actors, const char *fmt, ...)
{
	char path[4096], details[4096], why[1024];
	va_list ap;
	int r;

	if ((r = tmp_path(w, "audit/audit.log", path, sizeof(path))) != 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(details, sizeof(details), fmt, ap);
	va_end(ap);
	if (hk_audit_append(path, event, result, actors, details) != 0) {
		snprintf(why, sizeof(why), "%s", hk_err_msg());
		hk_err_set("audit record %s %s not written: %s", event, result,
		    why);
		return HK_ERR_AUDIT;
	}
	return 0;
}

static void
sha256_hex(const unsigned char *buf, size_t len, char out[65])
{
	unsigned char d[32];

	SHA256(buf, len, d);
	hk_hex_encode(d, sizeof(d), out);
}

/* Steps 2-6: build the state in w->tmp. */
static int
build(const struct init_opts *o, struct init_work *w, struct hk_state *st)
{
	const char *holders[HK_QUORUM_MAX_SHARES];
	struct hk_p11_cfg cfg = { o->module, NULL };
	char path[4096], conf[4096], uri[256], hex[65], setid[33], t[32];
	const unsigned char audit_id[] = "audit-1";
	EVP_PKEY *pub = NULL, *priv = NULL;
	size_t i, n = hk_roster_key_managers(w->roster);
	BIO *bio = NULL;
	char *pem = NULL;
	long pemlen;
	int r;

	static const char *dirs[] = { "secrets", "audit", "certs" };
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if ((r = tmp_path(w, dirs[i], path, sizeof(path))) != 0 ||
		    (r = hk_dir_create(path, 0700)) != 0)
			return r;
	if ((r = tmp_path(w, "audit/audit.log", path, sizeof(path))) != 0 ||
	    (r = hk_audit_create(path)) != 0)
		return r;
	sha256_hex(w->profile_buf, w->profile_len, hex);
	if ((r = audit(w, "init.start", "ok", "-", "state %s; profile %s "
	    "sha256 %s; roster %s; %zu key managers, threshold %u; %s",
	    o->c.state, o->profile, hex, o->roster, n, w->roster->threshold,
	    o->rehearsal ? "REHEARSAL" : "real run")) != 0)
		return r;

	/* The quorum key and the PINs it seals (CPS 6-4-1-1). */
	for (i = 0; i < n; i++)
		holders[i] = hk_roster_key_manager(w->roster, i)->id;
	if ((r = hk_quorum_deal(NULL, (int)w->roster->threshold, (int)n,
	    holders, &w->dealer)) != 0)
		return r;
	if ((r = hk_secret_random_hex(HK_PIN_BYTES, &w->user_pin)) != 0 ||
	    (r = hk_secret_random_hex(HK_PIN_BYTES, &w->so_pin)) != 0 ||
	    (r = seal_to(w, "token-user-pin", w->user_pin)) != 0 ||
	    (r = seal_to(w, "token-so-pin", w->so_pin)) != 0)
		return r;
	if ((r = tmp_path(w, HK_QUORUM_SET_FILE, path, sizeof(path))) != 0 ||
	    (r = hk_quorum_set_write(path, hk_quorum_dealer_set(w->dealer),
	    HK_WRITE_NOREPLACE)) != 0)
		return r;
	hk_hex_encode(hk_quorum_dealer_set(w->dealer)->id, HK_QUORUM_ID_LEN,
	    setid);
	if ((r = audit(w, "quorum.deal", "ok", "-", "set %s: %u of %zu", setid,
	    w->roster->threshold, n)) != 0)
		return r;

	/* The token, with random PINs (embedded SoftHSM2 by default). */
	if (o->module == NULL) {
		if ((r = hk_newstate_softhsm(w->tmp, conf, sizeof(conf))) != 0)
			return r;
		cfg.softhsm_conf = conf;
	}
	if ((r = hk_token_init(&cfg, o->label, w->so_pin, w->user_pin)) != 0) {
		struct hk_err_kept why;
		hk_err_keep(&why);
		if (audit(w, "token.init", "fail", "-", "%s", why.msg) != 0)
			hk_err_restore(&why);	/* the token's error first */
		return r;
	}
	if ((r = audit(w, "token.init", "ok", "-", "token %s in %s", o->label,
	    o->module ? o->module : "embedded SoftHSM2")) != 0)
		return r;
	if ((r = hk_token_open(&cfg, o->label, &w->tok)) != 0 ||
	    (r = hk_token_login(w->tok, w->user_pin)) != 0)
		return r;
	/* The key that signs audit checkpoints lives in the token too. */
	if ((r = hk_token_keygen(w->tok, HK_P11_EC, 256, "audit-1", audit_id,
	    sizeof(audit_id) - 1)) != 0 ||
	    (r = hk_p11_uri(o->label, audit_id, sizeof(audit_id) - 1, uri,
	    sizeof(uri))) != 0 ||
	    (r = hk_token_key(w->tok, uri, NULL, &pub)) != 0)
		return r;
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(bio, pub) != 1 ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0) {
		r = HK_ERR_CRYPTO;
		goto out;
	}
	if ((r = tmp_path(w, "audit/audit-key.pem", path, sizeof(path))) != 0 ||
	    (r = hk_file_write(path, pem, (size_t)pemlen, 0644,
	    HK_WRITE_NOREPLACE)) != 0)
		goto out;
	if ((r = hk_audit_key_sha256_hex(pub, w->audit_key_sha256)) != 0)
		goto out;
	if ((r = audit(w, "key.generate", "ok", "-", "audit-1: EC P-256 key %s "
	    "in the token signs checkpoints; its public key %s SHA-256 %s",
	    uri, "audit/audit-key.pem", w->audit_key_sha256)) != 0)
		goto out;

	/* The copies of profile and roster the CA was made with. */
	if ((r = tmp_path(w, "profile.yaml", path, sizeof(path))) != 0 ||
	    (r = hk_file_write(path, w->profile_buf, w->profile_len, 0644,
	    HK_WRITE_NOREPLACE)) != 0 ||
	    (r = tmp_path(w, HK_PROFILE_COPY, path, sizeof(path))) != 0 ||
	    (r = hk_file_write(path, w->profile_buf, w->profile_len, 0444,
	    HK_WRITE_NOREPLACE)) != 0 ||
	    (r = tmp_path(w, "roster.yaml", path, sizeof(path))) != 0 ||
	    (r = hk_file_write(path, w->roster_buf, w->roster_len, 0644,
	    HK_WRITE_NOREPLACE)) != 0)
		goto out;

	hk_time_format(hk_clock_now(), t, sizeof(t));
	sha256_hex(w->profile_buf, w->profile_len, hex);
	if ((r = hk_profile_record(st, hex, t, "init")) != 0 ||
	    (r = hk_state_set(st, "created", t)) != 0 ||
	    (r = hk_state_set(st, "rehearsal", o->rehearsal ? "yes" :
	    "no")) != 0 ||
	    (r = hk_state_set(st, "token.label", o->label)) != 0 ||
	    (r = hk_state_set(st, "token.module", o->module ? o->module :
	    HK_SOFTHSM_MODULE)) != 0 ||
	    (r = hk_state_set(st, "token.embedded", o->module ? "no" :
	    "yes")) != 0 ||
	    (r = hk_state_set(st, "audit.key-uri", uri)) != 0 ||
	    (r = hk_state_set(st, "quorum.set-id", setid)) != 0 ||
	    (r = hk_state_set(st, "root.generations", "0")) != 0)
		goto out;
	if ((r = hk_newstate_save(w->tmp, st)) != 0)
		goto out;

	/* Each key manager's share, on their own medium (CPS 6-2-1-2). */
	for (i = 0; i < n; i++) {
		const struct hk_person *km = hk_roster_key_manager(w->roster, i);
		if ((r = hk_newset_media_dir(o->media, km->id)) != 0 ||
		    (r = hk_quorum_share_write(w->dealer, (int)i + 1,
		    w->pass[i], w->kdf_level, w->share_path[i])) != 0)
			goto out;
		w->shares_written = (int)i + 1;
		if ((r = audit(w, "share.issue", "ok", km->id, "share %zu of "
		    "set %s to %s", i + 1, setid, w->share_path[i])) != 0)
			goto out;
	}
	if ((r = audit(w, "init.done", "ok", "-", "state %s ready; token %s; "
	    "set %s", o->c.state, o->label, setid)) != 0 ||
	    (r = hk_token_key(w->tok, uri, &priv, NULL)) != 0 ||
	    (r = tmp_path(w, "audit/audit.log", path, sizeof(path))) != 0 ||
	    (r = hk_audit_checkpoint(path, priv, "audit-1")) != 0)
		goto out;
	r = 0;
 out:
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	BIO_free(bio);
	return r;
}

static void
cleanup(struct init_work *w, int failed)
{
	int i;

	/* Only while tmp is not the state yet (hk_newstate_commit clears
	 * tmp_made once it has moved into place, also when the fsync after
	 * it fails): from then on the shares are the state's, and the CA's
	 * key cannot be activated without them (CPS 6-2-1-7), so nothing is
	 * removed. */
	if (failed && w->tmp_made) {
		/* Nothing half-made stays: the shares are useless without
		 * the state, and the state is not in place yet. */
		for (i = 0; i < w->shares_written; i++)
			unlink(w->share_path[i]);
		/* No shell: the path is the user's --state plus a suffix,
		 * and may hold any byte (a quote, a ';'). The token and the
		 * sealed PINs in it go with the folder. */
		(void)hk_tree_remove_after(w->tmp, "hanko-offline init");
	}
	for (i = 0; i < HK_QUORUM_MAX_SHARES; i++)
		hk_secret_free(w->pass[i]);
	hk_secret_free(w->user_pin);
	hk_secret_free(w->so_pin);
	hk_quorum_dealer_free(w->dealer);
	hk_token_close(w->tok);
	hk_profile_free(w->profile);
	hk_roster_free(w->roster);
	free(w->profile_buf);
	free(w->roster_buf);
}

int
cmd_init(int argc, char **argv)
{
	struct init_opts o;
	struct init_work w;
	struct hk_state *st = NULL;
	time_t t;
	int r;

	memset(&w, 0, sizeof(w));
	if ((r = parse(&o, argc, argv)) != 0)
		return r;
	if (o.c.clock != NULL) {
		if (hk_time_parse(o.c.clock, &t) != 0) {
			hk_err_set("--clock %s: expected YYYY-MM-DDTHH:MM:SSZ",
			    o.c.clock);
			return HK_ERR_USAGE;
		}
		hk_clock_set(t);
	}
	if ((r = check_inputs(&o, &w)) != 0)
		goto out;
	if ((r = hk_dir_temp_beside(o.c.state, "init", w.tmp,
	    sizeof(w.tmp))) != 0)
		goto out;
	w.tmp_made = 1;
	if ((r = hk_state_new(o.c.state, &st)) != 0 ||
	    (r = hk_state_set(st, "format", "1")) != 0)
		goto out;
	if ((r = build(&o, &w, st)) != 0)
		goto out;
	hk_token_close(w.tok);
	w.tok = NULL;
	/* The SoftHSM2 configuration names the final folder, then the whole
	 * state folder appears at once. */
	if ((r = hk_newstate_commit(w.tmp, o.c.state, o.module == NULL,
	    &w.tmp_made)) != 0)
		goto out;
	printf("CA state folder %s made%s: token %s, %zu key managers, "
	    "threshold %u.\n", o.c.state, o.rehearsal ? " (REHEARSAL)" : "",
	    o.label, hk_roster_key_managers(w.roster), w.roster->threshold);
	for (int i = 0; i < w.shares_written; i++)
		printf("  share %d -> %s\n", i + 1, w.share_path[i]);
	printf("  audit key audit-1: SHA-256 of its public key (%s/audit/"
	    "audit-key.pem) %s: write it in the ceremony record; the internal "
	    "auditor compares the file with it (docs/audit-log.md)\n",
	    o.c.state, w.audit_key_sha256);
	r = 0;
 out:
	cleanup(&w, r != 0);
	hk_state_free(st);
	return r;
}

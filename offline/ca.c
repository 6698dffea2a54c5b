/*
 * ca.c - opening the CA state folder, audit records, quorum activation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "audit.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "offline.h"
#include "passin.h"
#include "profile_accept.h"
#include "quorum.h"
#include "secmem.h"

const char *
hk_opt_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc || argv[*i + 1][0] == '\0') {
		hk_err_set("%s: needs a value", argv[*i]);
		return NULL;
	}
	(*i)++;
	return argv[*i];
}

int
hk_common_opt(struct hk_common_opts *o, int argc, char **argv, int *i, int *r)
{
	const char **slot = NULL;

	*r = 0;
	if (strcmp(argv[*i], "--state") == 0)
		slot = &o->state;
	else if (strcmp(argv[*i], "--clock") == 0)
		slot = &o->clock;
	else
		return 0;
	*r = hk_opt_once(slot, argc, argv, i);
	return 1;
}

int
hk_ca_open(const struct hk_common_opts *o, const char *command,
    struct hk_ca **out)
{
	struct hk_ca *ca;
	const char *rehearsal;
	time_t t;
	int r;

	*out = NULL;
	if (o->state == NULL) {
		hk_err_set("%s: --state DIR is required", command);
		return HK_ERR_USAGE;
	}
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return HK_ERR_ALLOC;
	if ((r = hk_state_load(o->state, &ca->st)) != 0)
		goto fail;
	if ((r = hk_state_path(ca->st, "audit/audit.log", ca->audit_log,
	    sizeof(ca->audit_log))) != 0)
		goto fail;
	rehearsal = hk_state_get(ca->st, "rehearsal");
	if (o->clock != NULL) {
		if (rehearsal == NULL || strcmp(rehearsal, "yes") != 0) {
			hk_err_set("--clock %s: the clock may be set only in a "
			    "rehearsal (this CA state is a real one)", o->clock);
			r = HK_ERR_USAGE;
			goto fail;
		}
		if (hk_time_parse(o->clock, &t) != 0) {
			hk_err_set("--clock %s: expected YYYY-MM-DDTHH:MM:SSZ",
			    o->clock);
			r = HK_ERR_USAGE;
			goto fail;
		}
		hk_clock_set(t);
	}
	*out = ca;
	return 0;
 fail:
	hk_ca_close(ca);
	return r;
}

int
hk_ca_profile(struct hk_ca *ca, struct hk_profile **out)
{
	struct hk_profile_seen seen;
	int r;

	if ((r = hk_profile_load_accepted(ca->st, "the profile-accept "
	    "ceremony (hanko-offline ceremony run ceremony-scripts/"
	    "profile-accept.yaml)", out, &seen)) != 0 || !seen.adopt)
		return r;
	/* A state made before the record, with the profile init was given:
	 * recorded as accepted at init, once; logged before it is recorded
	 * (docs/profile.md). */
	if ((r = hk_ca_audit(ca, "profile.adopt", "ok", "-", "%s/%s SHA-256 "
	    "%s: the profile init was given (init.start %s); recorded in "
	    "state.conf as accepted at init", ca->st->dir, HK_PROFILE_FILE,
	    seen.hex, seen.at)) != 0 ||
	    (r = hk_profile_record(ca->st, seen.hex, seen.at, "init")) != 0 ||
	    (r = hk_state_save(ca->st)) != 0) {
		hk_profile_free(*out);
		*out = NULL;
		return r;
	}
	return 0;
}

/*
 * The test hook: HANKO_FAIL_AUDIT_AT=EVENT makes every "ok" record of EVENT
 * fail to append, as a full disk would (states made with init --rehearsal
 * and rehearsal copies only; docs/audit-log.md).
 */
static int
audit_forced_failure(struct hk_ca *ca, const char *event, const char *result)
{
	const char *f = getenv("HANKO_FAIL_AUDIT_AT");
	const char *rh = hk_state_get(ca->st, "rehearsal");

	if (f == NULL || rh == NULL || strcmp(rh, "yes") != 0 ||
	    strcmp(f, event) != 0 || strcmp(result, "ok") != 0)
		return 0;
	hk_err_set("%s: append failed: forced by HANKO_FAIL_AUDIT_AT "
	    "(rehearsal test)", ca->audit_log);
	return 1;
}

static int
ca_audit_v(struct hk_ca *ca, int warn, const char *event, const char *result,
    const char *actors, const char *fmt, va_list ap)
{
	struct hk_err_kept saved;
	char details[4096];
	int r;

	/* Keep the detail of the failure being logged, if any. */
	hk_err_keep(&saved);
	vsnprintf(details, sizeof(details), fmt, ap);
	if (audit_forced_failure(ca, event, result))
		r = HK_ERR_AUDIT;
	else
		r = hk_audit_append(ca->audit_log, event, result,
		    actors != NULL && *actors ? actors : "-", details);
	if (r == 0) {
		hk_err_restore(&saved);
		return 0;
	}
	if (warn) {
		if (ca->audit_lost++ == 0)
			fprintf(stderr, "hanko-offline: AUDIT LOG NOT WRITTEN: "
			    "record %s %s: %s\n", event, result, hk_err_msg());
		hk_err_restore(&saved);
	} else {
		ca->audit_lost++;
		hk_err_set("audit record %s %s not written: %s", event,
		    result, hk_err_msg());
	}
	return HK_ERR_AUDIT;
}

int
hk_ca_audit(struct hk_ca *ca, const char *event, const char *result,
    const char *actors, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = ca_audit_v(ca, 0, event, result, actors, fmt, ap);
	va_end(ap);
	return r;
}

void
hk_ca_audit_warn(struct hk_ca *ca, const char *event, const char *result,
    const char *actors, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)ca_audit_v(ca, 1, event, result, actors, fmt, ap);
	va_end(ap);
}

static void
add_actor(struct hk_ca *ca, const char *id)
{
	size_t len = strlen(ca->actors);

	snprintf(ca->actors + len, sizeof(ca->actors) - len, "%s%s",
	    len ? "," : "", id);
}

/* Open <state>/secrets/<name>.sealed with the quorum key. */
static int
unseal_with(struct hk_ca *ca, const uint8_t *key, const char *name,
    uint8_t **plain)
{
	char path[4096], rel[160];
	unsigned char *blob = NULL;
	size_t bloblen, len;
	int r;

	*plain = NULL;
	/* the file of the key in force (sealed.c) */
	if ((r = hk_sealed_path(ca, key, name, rel, sizeof(rel), path,
	    sizeof(path))) != 0)
		return r;
	if ((r = hk_file_read(path, 65536, &blob, &bloblen)) != 0)
		return r;
	r = hk_quorum_open_secret(key, name, blob, bloblen, plain, &len);
	if (r != 0)
		hk_err_set("%s: cannot be opened with the quorum key (%s)",
		    path, hk_strerror(r));
	free(blob);
	return r;
}

int
hk_ca_unseal(struct hk_ca *ca, const char *name, unsigned char **plain)
{
	*plain = NULL;
	if (ca->qkey == NULL) {
		hk_err_set("%s: needs the quorum (hk_ca_activate)", name);
		return HK_ERR_STATE;
	}
	return unseal_with(ca, ca->qkey, name, plain);
}

/* A share refused as foreign: name the retired set it belongs to, if a
 * rotation retired it (quorum.set.<id>.retired in the state folder). */
static void
name_retired(struct hk_ca *ca, const char *path, const char *setid)
{
	struct hk_quorum_share_info info;
	char rel[128], rpath[4096], sid[2 * HK_QUORUM_ID_LEN + 1];
	int i;

	if (hk_quorum_share_info(path, &info) != 0)
		return;
	for (i = 0; i < HK_QUORUM_ID_LEN; i++)
		snprintf(sid + 2 * i, 3, "%02x", info.set_id[i]);
	/* The set in force is never the retired one, whatever a rotation
	 * that stopped before its commit left behind. */
	if (strcmp(sid, setid) == 0)
		return;
	snprintf(rel, sizeof(rel), "%s.%s.retired", HK_QUORUM_SET_FILE, sid);
	if (hk_state_path(ca->st, rel, rpath, sizeof(rpath)) != 0 ||
	    !hk_path_exists(rpath))
		return;
	hk_err_set("%s: share %d (%s) belongs to quorum set %s, retired by "
	    "a rotation of the shares (%s); the CA's set is %s", path,
	    info.index, info.holder, sid, rel, setid);
}

/* Open the token named in state.conf (no login). */
static int
token_open(struct hk_ca *ca)
{
	struct hk_p11_cfg cfg;
	char conf[4096];
	const char *label = hk_state_get(ca->st, "token.label");
	const char *module = hk_state_get(ca->st, "token.module");
	const char *embedded = hk_state_get(ca->st, "token.embedded");
	int r;

	if (label == NULL || module == NULL || embedded == NULL) {
		hk_err_set("%s/state.conf: token.label, token.module and "
		    "token.embedded are required", ca->st->dir);
		return HK_ERR_STATE;
	}
	cfg.module = module;
	cfg.softhsm_conf = NULL;
	if (strcmp(embedded, "yes") == 0) {
		if ((r = hk_state_path(ca->st, "token/softhsm2.conf", conf,
		    sizeof(conf))) != 0 || (r = hk_softhsm_conf_check(conf)) != 0)
			return r;
		cfg.softhsm_conf = conf;
	}
	return hk_token_open(&cfg, label, &ca->tok);
}

int
hk_ca_activate(struct hk_ca *ca, const struct hk_share_arg *shares,
    int nshares)
{
	struct hk_quorum_set *set = NULL;
	struct hk_quorum_collect *c = NULL;
	struct hk_quorum_share_info info;
	char path[4096], prompt[512], setid[2 * HK_QUORUM_ID_LEN + 1];
	char *pass = NULL;
	uint8_t *key = NULL, *pin = NULL;
	int i, r;

	ca->actors[0] = '\0';
	if ((r = hk_state_path(ca->st, HK_QUORUM_SET_FILE, path,
	    sizeof(path))) != 0 || (r = hk_quorum_set_read(path, &set)) != 0)
		goto out;
	for (i = 0; i < HK_QUORUM_ID_LEN; i++)
		snprintf(setid + 2 * i, 3, "%02x", set->id[i]);
	if ((r = hk_quorum_collect_new(set, &c)) != 0)
		goto out;
	for (i = 0; i < nshares; i++) {
		const char *p = shares[i].path;

		if ((r = hk_quorum_collect_check(c, p, &info)) != 0) {
			if (r == HK_ERR_SHARE_FOREIGN)
				name_retired(ca, p, setid);
			hk_ca_audit_warn(ca, "share.open", "fail", "-",
			    "%s: %s", p, hk_err_msg());
			goto out;
		}
		snprintf(prompt, sizeof(prompt), "Passphrase of %s for share "
		    "%d of %d (%s): ", info.holder, info.index, info.n, p);
		if ((r = hk_passin_read(shares[i].passin, prompt, &pass)) != 0) {
			hk_ca_audit_warn(ca, "share.open", "fail",
			    info.holder, "%s: no passphrase: %s", p,
			    hk_err_msg());
			goto out;
		}
		r = hk_quorum_collect_add(c, p, pass);
		hk_secret_free(pass);
		pass = NULL;
		if (r != 0) {
			hk_ca_audit_warn(ca, "share.open", "fail",
			    info.holder, "share %d of set %s from %s: %s",
			    info.index, setid, p, hk_err_msg());
			goto out;
		}
		/* Every record of the activation is written before it goes
		 * on: no unrecorded share opening, combination or login. */
		if ((r = hk_ca_audit(ca, "share.open", "ok", info.holder,
		    "share %d of set %s from %s", info.index, setid, p)) != 0)
			goto out;
		add_actor(ca, info.holder);
	}
	if ((r = hk_quorum_collect_finish(c, &key)) != 0) {
		hk_ca_audit_warn(ca, "quorum.combine", "fail", ca->actors,
		    "%s; no login attempted", hk_err_msg());
		goto out;
	}
	if ((r = hk_ca_audit(ca, "quorum.combine", "ok", ca->actors,
	    "%d shares of set %s (threshold %d of %d)",
	    hk_quorum_collect_count(c), setid, set->m, set->n)) != 0)
		goto out;
	/* The caller may need the key again (backups, re-sharing). */
	hk_secret_free(ca->qkey);
	if (ca->stand_in_qkey != NULL) {
		/* A rehearsal: the real shares were checked; from here on a
		 * throwaway key stands in and the real one is wiped. */
		hk_secret_free(key);
		key = NULL;
		if ((ca->qkey = hk_secret_alloc(HK_QUORUM_KEY_LEN)) == NULL) {
			r = HK_ERR_ALLOC;
			goto out;
		}
		memcpy(ca->qkey, ca->stand_in_qkey, HK_QUORUM_KEY_LEN);
		if ((r = hk_ca_audit(ca, "quorum.stand-in", "ok", ca->actors,
		    "rehearsal: the real shares reached the quorum; the real "
		    "quorum key is wiped and a throwaway one stands in")) != 0)
			goto out;
	} else {
		ca->qkey = key;
		key = NULL;
		/* The files of a key a re-key replaced, left by a crash
		 * between its commit and their removal, go now. */
		if ((r = hk_sealed_tidy(ca, ca->qkey, 0)) != 0) {
			hk_ca_audit_warn(ca, "secrets.remove", "fail",
			    ca->actors, "%s", hk_err_msg());
			goto out;
		}
	}
	if (ca->quorum_only) {
		r = 0;
		goto out;
	}
	r = unseal_with(ca, ca->qkey, "token-user-pin", &pin);
	if (r != 0) {
		hk_ca_audit_warn(ca, "token.login", "fail", ca->actors, "%s",
		    hk_err_msg());
		goto out;
	}
	if ((r = token_open(ca)) != 0 ||
	    (r = hk_token_login(ca->tok, (const char *)pin)) != 0) {
		hk_ca_audit_warn(ca, "token.login", "fail", ca->actors, "%s",
		    hk_err_msg());
		goto out;
	}
	/* A login the log does not hold is undone: logged out, closed. */
	if ((r = hk_ca_audit(ca, "token.login", "ok", ca->actors, "token %s",
	    hk_state_get(ca->st, "token.label"))) != 0)
		goto out;
	r = 0;
 out:
	if (r != 0) {
		/* Not activated: no session and no quorum key are left. */
		hk_token_close(ca->tok);
		ca->tok = NULL;
		hk_secret_free(ca->qkey);
		ca->qkey = NULL;
	}
	hk_secret_free(pass);
	hk_secret_free(key);
	hk_secret_free(pin);
	hk_quorum_collect_free(c);
	hk_quorum_set_free(set);
	return r;
}

int
hk_ca_checkpoint(struct hk_ca *ca)
{
	EVP_PKEY *priv = NULL;
	const char *uri = hk_state_get(ca->st, "audit.key-uri");
	int r;

	if (ca->tok == NULL || uri == NULL) {
		hk_err_set("audit checkpoint: the token is not activated");
		return HK_ERR_STATE;
	}
	if ((r = hk_token_key(ca->tok, uri, &priv, NULL)) != 0)
		return r;
	r = hk_audit_checkpoint(ca->audit_log, priv, "audit-1");
	EVP_PKEY_free(priv);
	return r;
}

int
hk_ca_checkpoint_anchor(struct hk_ca *ca, char *out, size_t len)
{
	struct hk_audit_report *rep = NULL;
	EVP_PKEY *priv = NULL;
	const char *uri = hk_state_get(ca->st, "audit.key-uri");
	char khex[65];
	int r;

	if ((r = hk_ca_checkpoint(ca)) != 0)
		return r;
	if ((r = hk_token_key(ca->tok, uri, &priv, NULL)) != 0)
		return r;
	if ((r = hk_audit_key_sha256_hex(priv, khex)) != 0)
		goto out;
	if ((rep = malloc(sizeof(*rep))) == NULL) {
		hk_err_set("out of memory");
		r = HK_ERR_ALLOC;
		goto out;
	}
	/* The checkpoint just made is the log's last record: the anchor
	 * the ceremony record on paper keeps (docs/audit-log.md). */
	if ((r = hk_audit_verify(ca->audit_log, NULL, rep)) != 0)
		goto out;
	if (rep->last_checkpoint_seq < 0 ||
	    (uint64_t)rep->last_checkpoint_seq + 1 != rep->records) {
		hk_err_set("%s: the checkpoint is not the log's last record",
		    ca->audit_log);
		r = HK_ERR_AUDIT;
		goto out;
	}
	snprintf(out, len, "log %s record %lld hash %s, audit key SHA-256 %s",
	    rep->log_id, (long long)rep->last_checkpoint_seq, rep->last_hash,
	    khex);
 out:
	free(rep);
	EVP_PKEY_free(priv);
	return r;
}

void
hk_ca_close(struct hk_ca *ca)
{
	if (ca == NULL)
		return;
	/* Logging out deactivates the key (CPS 6-2-1-8); the checkpoint
	 * that the command signed last covers the session's records. */
	hk_token_close(ca->tok);
	hk_secret_free(ca->qkey);
	hk_secret_free(ca->stand_in_qkey);
	hk_state_free(ca->st);
	free(ca);
}

int
hk_share_opt(struct hk_share_arg *shares, int *n, int argc, char **argv,
    int *i, int *r)
{
	*r = 0;
	if (strcmp(argv[*i], "--share") == 0) {
		if (*n == HK_MAX_SHARE_ARGS) {
			hk_err_set("--share: at most %d shares",
			    HK_MAX_SHARE_ARGS);
			*r = HK_ERR_USAGE;
			return 1;
		}
		if ((shares[*n].path = hk_opt_value(argc, argv, i)) == NULL) {
			*r = HK_ERR_USAGE;
			return 1;
		}
		shares[(*n)++].passin = NULL;
		return 1;
	}
	if (strcmp(argv[*i], "--passin") == 0) {
		const char *v = hk_opt_value(argc, argv, i);
		if (v == NULL) {
			*r = HK_ERR_USAGE;
		} else if (*n == 0 || shares[*n - 1].passin != NULL) {
			hk_err_set("--passin: must follow the --share it "
			    "opens");
			*r = HK_ERR_USAGE;
		} else
			shares[*n - 1].passin = v;
		return 1;
	}
	return 0;
}

int
hk_ca_parse(struct hk_ca_args *a, const struct hk_ca_opt *opts,
    const char *usage, int argc, char **argv)
{
	const struct hk_ca_opt *op;
	int i, r;

	for (i = 1; i < argc; i++) {
		if (hk_common_opt(&a->c, argc, argv, &i, &r) ||
		    hk_share_opt(a->shares, &a->nshares, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 1;
		}
		for (op = opts; op != NULL && op->name != NULL; op++)
			if (strcmp(argv[i], op->name) == 0)
				break;
		if (op == NULL || op->name == NULL) {
			hk_err_set("%s: unknown option (see --help)", argv[i]);
			return HK_ERR_USAGE;
		}
		if (op->n == NULL) {
			if ((r = hk_opt_once(op->value, argc, argv, &i)) != 0)
				return r;
			continue;
		}
		if (*op->n == op->max) {
			hk_err_set("%s: at most %d", op->name, op->max);
			return HK_ERR_USAGE;
		}
		if ((op->value[(*op->n)++] = hk_opt_value(argc, argv, &i)) ==
		    NULL)
			return HK_ERR_USAGE;
	}
	return 0;
}

/* Keep the bytes of the roster just approved (cmd_roster.c). */
int
hk_roster_keep_approved(struct hk_ca *ca, const char *path)
{
	unsigned char *buf = NULL;
	char dst[4096];
	size_t len;
	int r;

	if ((r = hk_state_path(ca->st, "roster.approved.yaml", dst,
	    sizeof(dst))) != 0 ||
	    (r = hk_file_read(path, 1 << 20, &buf, &len)) != 0)
		return r;
	r = hk_file_write(dst, buf, len, 0644, 0);
	free(buf);
	return r;
}

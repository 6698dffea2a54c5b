/*
 * cmd_init.c - "hanko-online init": a new online state folder with its own
 * token, the issuing key generated inside it, the issuing key's PKCS#10
 * request for the issue-subca ceremony, the audit log and the store
 * (DESIGN.md 7; CPS 6-1-1, 6-2-1).
 *
 * As hanko-offline init: every input is checked first, everything is
 * built in "<state>.init-XXXXXX" beside the target and renamed into place
 * at the end, so a failure before the rename leaves nothing behind
 * (removed without a shell, hk_tree_remove_after) and one after it (the
 * folder's fsync) removes nothing (hk_newstate_commit). The token's user
 * PIN is random and kept in secrets/token-user-pin (0600): the unattended
 * publisher must sign without a person present (docs/hanko-online.1,
 * SECURITY). The SO PIN is random and never stored: the online token has
 * no SO operation; a lost or suspect issuing key is replaced by a new
 * generation certified by the root, never restored.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "atomic.h"
#include "audit.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "municipalities.h"
#include "name.h"
#include "newstate.h"
#include "online.h"
#include "p11.h"
#include "profile.h"
#include "profile_accept.h"
#include "secmem.h"
#include "state.h"
#include "store.h"

#define PIN_BYTES	16	/* random bytes behind each PIN (hex) */

struct init_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *profile;		/* --profile FILE */
	const char *munis;		/* --municipalities FILE; NULL = shipped */
	const char *module;		/* --module PATH; NULL = embedded SoftHSM2 */
	const char *label;		/* --token-label; default hanko-online */
	int rehearsal;			/* --rehearsal */
};

/* What init builds, freed and wiped in one place. */
struct init_work {
	struct hk_profile *profile;	/* parsed --profile */
	struct hk_munis *munis;		/* parsed --municipalities */
	unsigned char *profile_buf;	/* bytes of --profile */
	size_t profile_len;
	unsigned char *munis_buf;	/* bytes of --municipalities */
	size_t munis_len;
	X509_NAME *subject;		/* the issuing CA's DN, generation 1 */
	char tmp[4096];			/* the temporary state folder */
	int tmp_made;			/* 1 once tmp exists */
	char *user_pin, *so_pin;	/* secure memory */
	struct hk_token *tok;		/* logged in while building */
	struct hk_online_csr csr;	/* the issuing CA's request */
	char audit_key_sha256[65];	/* SHA-256 of the audit key's SPKI */
	char operator[HK_ONLINE_OPERATOR_MAX + 1]; /* the records' actor */
};

static const char init_usage[] =
"usage: hanko-online init --state DIR --profile FILE [--municipalities FILE]\n"
"           [--rehearsal] [--clock YYYY-MM-DDTHH:MM:SSZ] [--module PATH]\n"
"           [--token-label L]\n";

static int
parse(struct init_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--profile", .value = &o->profile, .required = 1 },
		{ .name = "--municipalities", .value = &o->munis },
		{ .name = "--module", .value = &o->module },
		{ .name = "--token-label", .value = &o->label },
		{ .name = "--rehearsal", .flag = &o->rehearsal },
		{ .name = NULL },
	};
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = hk_online_parse(&o->c, argc, argv, init_usage, args,
	    NULL)) != 0)
		return r;
	if (o->munis == NULL) {
		/* installed copy, else the source tree's (a build run) */
		o->munis = HANKO_ONLINE_DATA "/municipalities-kumamoto.csv";
		if (!hk_path_exists(o->munis))
			o->munis = HANKO_SOURCE_DIR
			    "/online/data/municipalities-kumamoto.csv";
	}
	if (o->label == NULL)
		o->label = o->rehearsal ? "hanko-online-test" : "hanko-online";
	return hk_online_clock(o->c.clock, o->rehearsal);
}

static int
check_inputs(const struct init_opts *o, struct init_work *w)
{
	int r;

	if ((r = hk_newstate_check(o->c.state)) != 0)
		return r;
	/* the bytes kept and accepted are the bytes checked */
	if ((r = hk_file_read(o->profile, HK_PROFILE_MAX, &w->profile_buf,
	    &w->profile_len)) != 0 ||
	    (r = hk_profile_load_buf(o->profile, w->profile_buf,
	    w->profile_len, &w->profile)) != 0)
		return r;
	if ((r = hk_munis_load(o->munis, &w->munis)) != 0 ||
	    (r = hk_file_read(o->munis, 1 << 20, &w->munis_buf,
	    &w->munis_len)) != 0)
		return r;
	return hk_online_issuing_subject(w->profile, 1, o->rehearsal,
	    &w->subject);
}

static int
tmp_path(const struct init_work *w, const char *rel, char *buf, size_t len)
{
	return hk_newstate_path(w->tmp, rel, buf, len);
}

static void
audit(struct init_work *w, const char *event, const char *result,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
audit(struct init_work *w, const char *event, const char *result,
    const char *fmt, ...)
{
	char path[4096], details[4096];
	struct hk_err_kept keep;
	va_list ap;

	if (tmp_path(w, "audit/audit.log", path, sizeof(path)) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(details, sizeof(details), fmt, ap);
	va_end(ap);
	hk_err_keep(&keep);
	(void)hk_audit_append(path, event, result, w->operator, details);
	hk_err_restore(&keep);
}

/* Generate a key in the token; its CKA_ID is its label. */
static int
keygen(struct init_work *w, const char *label, enum hk_p11_keytype type,
    int bits)
{
	return hk_token_keygen(w->tok, type, bits, label,
	    (const unsigned char *)label, strlen(label));
}

/* A new file of the temporary state folder (hk_online_put_fn: the issuing
 * key's request, hk_online_csr_make). */
static int
put_tmp(void *arg, const char *rel, const void *buf, size_t len)
{
	char path[4096];
	int r;

	if ((r = tmp_path(arg, rel, path, sizeof(path))) != 0)
		return r;
	return hk_file_write(path, buf, len, 0644, HK_WRITE_NOREPLACE);
}

static int
pubkey_pem(EVP_PKEY *pub, const char *path)
{
	BIO *bio;
	char *pem = NULL;
	long len;
	int r = HK_ERR_CRYPTO;

	if ((bio = BIO_new(BIO_s_mem())) != NULL &&
	    PEM_write_bio_PUBKEY(bio, pub) == 1 &&
	    (len = BIO_get_mem_data(bio, &pem)) > 0)
		r = hk_file_write(path, pem, (size_t)len, 0644,
		    HK_WRITE_NOREPLACE);
	BIO_free(bio);
	return r;
}

/* Build the whole state in w->tmp. */
static int
build(const struct init_opts *o, struct init_work *w, struct hk_state *st)
{
	struct hk_p11_cfg cfg = { o->module, NULL };
	char path[4096], conf[4096], hex[65], phex[65], t[32], line[80];
	char iss_uri[256], aud_uri[256], sto_uri[256], store_id[33];
	unsigned char rnd[16], *skey = NULL, check[32];
	EVP_PKEY *pub = NULL, *priv = NULL, *apub = NULL;
	struct hk_store *store = NULL;
	enum hk_key_alg ik = w->profile->issuing_key;
	size_t i;
	int r;

	static const char *dirs[] = { "secrets", "audit", "certs", "bundles" };
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if ((r = tmp_path(w, dirs[i], path, sizeof(path))) != 0 ||
		    (r = hk_dir_create(path, 0700)) != 0)
			return r;
	if ((r = tmp_path(w, "audit/audit.log", path, sizeof(path))) != 0 ||
	    (r = hk_audit_create(path)) != 0)
		return r;
	SHA256(w->profile_buf, w->profile_len, check);
	hk_hex_encode(check, 32, hex);
	memcpy(phex, hex, sizeof(phex));
	audit(w, "init.start", "ok", "online state %s; profile %s sha256 %s; "
	    "municipalities %s: %zu municipalities, %zu partitions; %s",
	    o->c.state, o->profile, hex, o->munis, w->munis->municipalities,
	    w->munis->partitions, o->rehearsal ? "REHEARSAL" : "real run");

	/* The token, with random PINs; the user PIN in a 0600 file. */
	if ((r = hk_secret_random_hex(PIN_BYTES, &w->user_pin)) != 0 ||
	    (r = hk_secret_random_hex(PIN_BYTES, &w->so_pin)) != 0)
		return r;
	if (o->module == NULL) {
		if ((r = hk_newstate_softhsm(w->tmp, conf, sizeof(conf))) != 0)
			return r;
		cfg.softhsm_conf = conf;
	}
	if ((r = hk_token_init(&cfg, o->label, w->so_pin, w->user_pin)) != 0) {
		audit(w, "token.init", "fail", "%s", hk_err_msg());
		return r;
	}
	hk_secret_free(w->so_pin);	/* never stored: see the top */
	w->so_pin = NULL;
	{
		size_t n = strlen(w->user_pin);
		w->user_pin[n] = '\n';
		r = tmp_path(w, HK_ONLINE_PIN_FILE, path, sizeof(path));
		if (r == 0)
			r = hk_file_write(path, w->user_pin, n + 1, 0600,
			    HK_WRITE_NOREPLACE);
		w->user_pin[n] = '\0';
		if (r != 0)
			return r;
	}
	audit(w, "token.init", "ok", "token %s in %s; user PIN in %s (0600), "
	    "SO PIN discarded", o->label, o->module ? o->module :
	    "embedded SoftHSM2", HK_ONLINE_PIN_FILE);
	if ((r = hk_token_open(&cfg, o->label, &w->tok)) != 0 ||
	    (r = hk_token_login(w->tok, w->user_pin)) != 0)
		return r;

	/* Keys: issuing-1 (profile), audit-1 (EC P-256), store-1 (RSA). */
	if ((r = keygen(w, "issuing-1", ik == HK_KEY_EC_P384 ? HK_P11_EC :
	    HK_P11_RSA, hk_key_alg_bits(ik))) != 0 ||
	    (r = keygen(w, "audit-1", HK_P11_EC, 256)) != 0 ||
	    (r = keygen(w, "store-1", HK_P11_RSA, 2048)) != 0)
		goto out;
	if ((r = hk_p11_uri(o->label, (const unsigned char *)"issuing-1", 9,
	    iss_uri, sizeof(iss_uri))) != 0 ||
	    (r = hk_p11_uri(o->label, (const unsigned char *)"audit-1", 7,
	    aud_uri, sizeof(aud_uri))) != 0 ||
	    (r = hk_p11_uri(o->label, (const unsigned char *)"store-1", 7,
	    sto_uri, sizeof(sto_uri))) != 0)
		goto out;
	if ((r = hk_token_key(w->tok, iss_uri, &priv, &pub)) != 0)
		goto out;
	if (!hk_key_alg_matches(pub, ik)) {
		hk_err_set("issuing-1: the token made a key that is not %s",
		    hk_key_alg_name(ik));
		r = HK_ERR_P11;
		goto out;
	}
	audit(w, "key.generate", "ok", "issuing-1: %s key %s in the token "
	    "(the issuing CA, generation 1)", hk_key_alg_name(ik), iss_uri);
	if ((r = hk_token_key(w->tok, aud_uri, NULL, &apub)) != 0 ||
	    (r = tmp_path(w, "audit/audit-key.pem", path, sizeof(path))) != 0 ||
	    (r = pubkey_pem(apub, path)) != 0)
		goto out;
	/* its fingerprint for the record of the day (as offline init's):
	 * docs/audit-log.md */
	if ((r = hk_audit_key_sha256_hex(apub, w->audit_key_sha256)) != 0)
		goto out;
	audit(w, "key.generate", "ok", "audit-1: EC P-256 key %s in the token "
	    "signs checkpoints; its public key %s SHA-256 %s", aud_uri,
	    "audit/audit-key.pem", w->audit_key_sha256);

	if ((r = hk_online_csr_make(w->profile, 1, w->subject, priv, pub,
	    put_tmp, w, &w->csr)) != 0) {
		audit(w, "csr.make", "fail", "%s", hk_err_msg());
		goto out;
	}
	{
		char *dn = hk_name_print(w->subject);
		audit(w, "csr.make", "ok", "certs/issuing-1.csr.der: subject "
		    "%s; SHA-256 %s", dn ? dn : "?", w->csr.hex);
		free(dn);
	}

	/* The store, and its resident-hash key derived in the token. */
	randombytes_buf(rnd, sizeof(rnd));
	hk_hex_encode(rnd, sizeof(rnd), store_id);
	if ((r = tmp_path(w, HK_ONLINE_STORE_FILE, path, sizeof(path))) != 0 ||
	    (r = hk_store_create(path, store_id, &store)) != 0)
		goto out;
	hk_store_close(store);
	if ((r = hk_online_store_key(w->tok, sto_uri, store_id, &skey)) != 0)
		goto out;
	/* A check value so that a different key is noticed, never used. */
	{
		unsigned int cl = 0;
		HMAC(EVP_sha256(), skey, HK_STORE_HMAC_KEY_LEN,
		    (const unsigned char *)"check", 5, check, &cl);
		hk_hex_encode(check, 16, hex);
	}
	audit(w, "store.create", "ok", "%s: schema %d, store id %s (in it and "
	    "in state.conf); resident "
	    "identifiers kept as HMAC-SHA-256 under a key derived by store-1",
	    HK_ONLINE_STORE_FILE, HK_STORE_SCHEMA, store_id);

	/* The copies of the inputs the publisher was made with. */
	if ((r = tmp_path(w, "profile.yaml", path, sizeof(path))) != 0 ||
	    (r = hk_file_write(path, w->profile_buf, w->profile_len, 0644,
	    HK_WRITE_NOREPLACE)) != 0 ||
	    (r = tmp_path(w, HK_PROFILE_COPY, path, sizeof(path))) != 0 ||
	    (r = hk_file_write(path, w->profile_buf, w->profile_len, 0444,
	    HK_WRITE_NOREPLACE)) != 0 ||
	    (r = tmp_path(w, "municipalities.csv", path, sizeof(path))) != 0 ||
	    (r = hk_file_write(path, w->munis_buf, w->munis_len, 0644,
	    HK_WRITE_NOREPLACE)) != 0)
		goto out;

	hk_time_format(hk_clock_now(), t, sizeof(t));
	snprintf(line, sizeof(line), "%d", 1);
	if ((r = hk_state_set(st, "kind", "online")) != 0 ||
	    (r = hk_state_set(st, "created", t)) != 0 ||
	    (r = hk_state_set(st, "rehearsal", o->rehearsal ? "yes" :
	    "no")) != 0 ||
	    (r = hk_state_set(st, "token.label", o->label)) != 0 ||
	    (r = hk_state_set(st, "token.module", o->module ? o->module :
	    HK_SOFTHSM_MODULE)) != 0 ||
	    (r = hk_state_set(st, "token.embedded", o->module ? "no" :
	    "yes")) != 0 ||
	    (r = hk_state_set(st, "audit.key-uri", aud_uri)) != 0 ||
	    (r = hk_state_set(st, "store.key-uri", sto_uri)) != 0 ||
	    (r = hk_state_set(st, "store.id", store_id)) != 0 ||
	    (r = hk_state_set(st, "store.key-check", hex)) != 0 ||
	    (r = hk_state_set(st, "issuing.generation", line)) != 0 ||
	    (r = hk_state_set(st, "issuing.1.key-uri", iss_uri)) != 0 ||
	    (r = hk_state_set(st, "issuing.1.csr",
	    "certs/issuing-1.csr.der")) != 0 ||
	    (r = hk_state_set(st, "issuing.1.csr-sha256", w->csr.hex)) != 0 ||
	    (r = hk_profile_record(st, phex, t, "init")) != 0)
		goto out;
	if ((r = hk_newstate_save(w->tmp, st)) != 0)
		goto out;
	audit(w, "init.done", "ok", "online state %s ready; token %s; issuing "
	    "CSR SHA-256 %s", o->c.state, o->label, w->csr.hex);
	EVP_PKEY_free(priv);
	priv = NULL;
	if ((r = hk_token_key(w->tok, aud_uri, &priv, NULL)) != 0 ||
	    (r = tmp_path(w, "audit/audit.log", path, sizeof(path))) != 0 ||
	    (r = hk_audit_checkpoint(path, priv, "audit-1")) != 0)
		goto out;
	r = 0;
 out:
	hk_secret_free(skey);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(apub);
	return r;
}

static void
cleanup(struct init_work *w, int failed)
{
	/* Only while tmp is not the state yet: hk_newstate_commit clears
	 * tmp_made once it has moved into place, also when the fsync after
	 * it fails. No shell: the path is the user's --state plus a suffix,
	 * and may hold any byte (a quote, a ';'); no symbolic link is
	 * followed. The token and the PIN file in it go with the folder. */
	if (failed && w->tmp_made) {
		(void)hk_tree_remove_after(w->tmp, "hanko-online init");
	}
	hk_secret_free(w->user_pin);
	hk_secret_free(w->so_pin);
	hk_token_close(w->tok);
	hk_profile_free(w->profile);
	hk_munis_free(w->munis);
	X509_NAME_free(w->subject);
	free(w->csr.der);
	free(w->profile_buf);
	free(w->munis_buf);
}

int
cmd_init(int argc, char **argv)
{
	struct init_opts o;
	struct init_work w;
	struct hk_state *st = NULL;
	int r;

	memset(&w, 0, sizeof(w));
	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_online_operator(w.operator, sizeof(w.operator))) != 0 ||
	    (r = check_inputs(&o, &w)) != 0)
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
	if ((r = hk_newstate_commit(w.tmp, o.c.state, o.module == NULL,
	    &w.tmp_made)) != 0)
		goto out;
	printf("Online state folder %s made%s: token %s, %zu municipalities "
	    "in %zu CRL partitions.\n", o.c.state, o.rehearsal ?
	    " (REHEARSAL)" : "", o.label, w.munis->municipalities,
	    w.munis->partitions);
	printf("Issuing CA request (generation 1): %s/certs/issuing-1.csr.pem "
	    "and .der\n", o.c.state);
	printf("Read aloud for the issue-subca ceremony, SHA-256 of the DER "
	    "request:\n  %s\n  %s\n", w.csr.hex, w.csr.colons);
	printf("Audit key audit-1: SHA-256 of its public key (%s/audit/"
	    "audit-key.pem) %s: write it in the record of the day; the "
	    "internal auditor compares the file with it (docs/audit-log.md)\n",
	    o.c.state, w.audit_key_sha256);
	r = 0;
 out:
	cleanup(&w, r != 0);
	hk_state_free(st);
	return r;
}

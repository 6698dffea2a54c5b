/*
 * cmd_request.c - "hanko-online request": what travels from the publisher
 * to the offline root (issue 4 item 4; media-format/SPEC.md section 13):
 *
 *   --type csr                 the next issuing generation's key, made in
 *                              the online token, and its PKCS#10 request
 *                              (a re-key; CPS 6-1-1, 6-3-1-2);
 *   --type revocation-request  a request to revoke an issuing CA
 *                              certificate (CPS 4-4-4-2 reasons 1-5).
 *
 * Either leaves as a bundle signed by the CURRENT issuing key (through
 * libp11, never leaving the token) with its certificate as imported from
 * the root (the store's issuing rows). The first CSR, before any issuing
 * certificate exists, is not a bundle: "hanko-online init" prints its
 * SHA-256, read aloud in the ceremony (docs/air-gap.md); so is a CSR whose
 * signer generation is marked compromised or revoked by the root's ARL, or
 * whose certificate has ended (request_plain).
 *
 * The signer's sequence number (state.conf issuing.<g>.bundle-sequence,
 * the last one used) is saved before the bundle is written, so a number is
 * never used twice. A new key and request are recorded in state.conf only
 * once complete; a failure before that removes the key and the files. A
 * request whose certificate has not come back yet is sent again (with a
 * new sequence) rather than replaced by another key. Everything audited.
 */
#include <sys/stat.h>

#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "audit.h"
#include "bundle.h"
#include "cert.h"
#include "clock.h"
#include "csr.h"
#include "err.h"
#include "hex.h"
#include "issued.h"
#include "name.h"
#include "online.h"
#include "p11.h"
#include "profile.h"
#include "store.h"

#define MAX_GEN		999	/* issuing generations */

static const char request_usage[] =
"usage: hanko-online request --state DIR --type csr --out DIR [--clock T]\n"
"       hanko-online request --state DIR --type revocation-request\n"
"           --reason 1-5|NAME [--serial HEX] [--note FILE] --out DIR\n"
"           [--clock T]\n"
"reasons (CPS 4-4-4-2): 1 key-compromise, 2 ca-compromise,\n"
"  3 affiliation-changed, 4 superseded, 5 cessation-of-operation\n";

struct request_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *type;		/* --type */
	const char *out;		/* --out: the bundle folder to make */
	const char *reason;		/* --reason */
	const char *serial;		/* --serial */
	const char *note;		/* --note FILE */
};

/* What a request works with, freed in one place. */
struct request_work {
	struct hk_online *on;
	struct hk_store *store;
	struct hk_online_issuing iss;	/* stored issuing certificates */
	X509 *cert;			/* the signer's certificate (a ref) */
	int gen;			/* the signer's generation */
	EVP_PKEY *priv;			/* the signer's key in the token */
	/* csr */
	int new_gen;			/* the request's generation */
	struct hk_profile *prof;	/* the profile accepted (csr only) */
	int key_made;			/* 1 while a new key may be undone */
	char made[3][4096];		/* files written, undone on failure */
	int nmade;
	struct hk_online_csr csr;	/* the request */
	/* revocation-request */
	struct hk_revreq q;
	char doc[HK_REVREQ_MAX];
	unsigned char *note;
	size_t note_len;
	uint64_t seq;
	struct hk_bundle_trust t;	/* pinned root + stored links */
	char stopped[512];		/* the root's ARL revokes the signer's
					 * key (signer_revoked), or "" */
	char ended[32];			/* the signer's certificate ended at
					 * this notAfter (find_signer), or "" */
};

static int
parse(struct request_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--type", .value = &o->type, .required = 1 },
		{ .name = "--out", .value = &o->out, .required = 1 },
		{ .name = "--reason", .value = &o->reason },
		{ .name = "--serial", .value = &o->serial },
		{ .name = "--note", .value = &o->note },
		{ .name = NULL },
	};
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = hk_online_parse(&o->c, argc, argv, request_usage, args,
	    NULL)) != 0)
		return r;
	if (strcmp(o->type, "csr") != 0 &&
	    strcmp(o->type, "revocation-request") != 0) {
		hk_err_set("--type %s: SPEC 13: the online side sends csr or "
		    "revocation-request only", o->type);
		return HK_ERR_USAGE;
	}
	if (strcmp(o->type, "csr") == 0 && (o->reason || o->serial ||
	    o->note)) {
		hk_err_set("--reason, --serial and --note belong to "
		    "--type revocation-request");
		return HK_ERR_USAGE;
	}
	if (strcmp(o->type, "revocation-request") == 0 && o->reason == NULL) {
		hk_err_set("--type revocation-request: --reason is required "
		    "(1-5, CPS 4-4-4-2)");
		return HK_ERR_USAGE;
	}
	return 0;
}

/* Checks that need no state: the reason, the serial's form, the note. */
static int
check_args(const struct request_opts *o, struct request_work *w)
{
	size_t i, j;
	int r;

	if (o->reason == NULL)
		return 0;
	if (hk_revreq_reason_parse(o->reason, &w->q.reason) != 0) {
		hk_err_set("--reason %s: CPS 4-4-4-2: only 1 key-compromise, 2 "
		    "ca-compromise, 3 affiliation-changed, 4 superseded, 5 "
		    "cessation-of-operation (never unspecified or hold)",
		    o->reason);
		return HK_ERR_INVALID;
	}
	if (o->serial != NULL) {
		for (i = 0, j = 0; o->serial[i] != '\0'; i++) {
			char ch = o->serial[i];
			if (ch == ':')
				continue;
			if (j + 1 >= sizeof(w->q.serial) ||
			    !((ch >= '0' && ch <= '9') || (ch >= 'a' &&
			    ch <= 'f') || (ch >= 'A' && ch <= 'F'))) {
				hk_err_set("--serial %s: not a hexadecimal "
				    "serial of at most 20 bytes", o->serial);
				return HK_ERR_USAGE;
			}
			w->q.serial[j++] = (char)(ch >= 'A' && ch <= 'F' ?
			    ch - 'A' + 'a' : ch);
		}
		w->q.serial[j] = '\0';
	}
	if (o->note != NULL) {
		if ((r = hk_file_read(o->note, HK_REVREQ_NOTE_MAX, &w->note,
		    &w->note_len)) != 0)
			return r;
		if (memchr(w->note, '\0', w->note_len) != NULL) {
			hk_err_set("%s: SPEC 13.3: the note is text (no NUL "
			    "byte)", o->note);
			return HK_ERR_INVALID;
		}
	}
	return 0;
}

static int
gen_key(const struct hk_online *on, int g, const char **uri)
{
	char key[64];

	snprintf(key, sizeof(key), "issuing.%d.key-uri", g);
	*uri = hk_state_get(on->st, key);
	return *uri != NULL;
}

/*
 * The signer: the highest issuing generation whose key is in the token and
 * whose certificate, imported from the root, is stored and valid now; the
 * latest stored certificate of that generation (after a rollover, the one
 * re-certified under the new root generation).
 */
static int
find_signer(struct request_work *w)
{
	const char *g = hk_state_get(w->on->st, "issuing.generation"), *uri;
	char path[4096];
	time_t now = hk_clock_now();
	long top = g ? strtol(g, NULL, 10) : 0;
	int gen, i, r;

	if (top < 1 || top > MAX_GEN) {
		hk_err_set("%s/state.conf: issuing.generation: missing or out "
		    "of range", w->on->st->dir);
		return HK_ERR_STATE;
	}
	if ((r = hk_online_path(w->on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 ||
	    (r = hk_store_open(path, 0, &w->store)) != 0 ||
	    (r = hk_online_issuing_load(w->store, &w->iss)) != 0 ||
	    (r = hk_online_login(w->on)) != 0)
		return r;
	for (gen = (int)top; gen >= 1; gen--) {
		EVP_PKEY *pub = NULL;
		X509 *best = NULL;
		if (!gen_key(w->on, gen, &uri))
			continue;
		if ((r = hk_token_key(w->on->tok, uri, NULL, &pub)) != 0)
			return r;
		for (i = 0; i < w->iss.n; i++)
			if (w->iss.gen[i] == gen && EVP_PKEY_eq(pub,
			    X509_get0_pubkey(w->iss.x[i])) == 1)
				best = w->iss.x[i];	/* the latest wins */
		EVP_PKEY_free(pub);
		if (best == NULL)
			continue;
		if (X509_cmp_time(X509_get0_notBefore(best), &now) >= 0) {
			hk_err_set("store: issuing generation %d: its "
			    "certificate is not valid now", gen);
			return HK_ERR_STATE;
		}
		/* Ended: the root refuses a bundle it signs (SPEC 6.2), so
		 * the next generation's CSR, the only way on, goes as the
		 * request alone (request_plain), its SHA-256 read aloud. */
		if (X509_cmp_time(X509_get0_notAfter(best), &now) <= 0) {
			time_t na;

			if (hk_cert_time(X509_get0_notAfter(best), &na) != 0)
				return HK_ERR_STATE;
			hk_time_format(na, w->ended, sizeof(w->ended));
		}
		w->cert = best;
		w->gen = gen;
		if ((r = hk_online_trust_load(w->on, w->store, &w->t)) != 0)
			return r;
		return hk_token_key(w->on->tok, uri, &w->priv, NULL);
	}
	hk_err_set("%s: no issuing CA certificate imported yet: the first "
	    "CSR crosses by the fingerprint read aloud and QR, not as a bundle "
	    "(docs/air-gap.md)", w->on->st->dir);
	return HK_ERR_STATE;
}

/* A new file of the state folder, undone on failure (hk_online_put_fn). */
static int
write_made(void *arg, const char *rel, const void *buf, size_t len)
{
	struct request_work *w = arg;
	char *path = w->made[w->nmade];
	int r;

	if ((r = hk_online_path(w->on, rel, path, sizeof(w->made[0]))) != 0)
		return r;
	if ((r = hk_file_write(path, buf, len, 0644, HK_WRITE_NOREPLACE)) != 0)
		return r;
	w->nmade++;
	return 0;
}

/* Undo a new key and its files (a failure before state.conf has them). */
static void
undo_new(struct request_work *w)
{
	char label[32];
	int i;

	for (i = 0; i < w->nmade; i++)
		(void)unlink(w->made[i]);
	w->nmade = 0;
	if (w->key_made) {
		snprintf(label, sizeof(label), "issuing-%d", w->new_gen);
		(void)hk_token_key_destroy(w->on->tok,
		    (const unsigned char *)label, strlen(label));
		w->key_made = 0;
	}
}

/* The live log's last csr.make ok of issuing generation gen (its seq). */
struct csr_made {
	int gen;
	uint64_t seq;
};

static int
csr_made_each(const struct hk_audit_record *rec, void *arg)
{
	struct csr_made *c = arg;
	char pat[48];
	int n;

	if (strcmp(rec->event, "csr.make") != 0 ||
	    strcmp(rec->result, "ok") != 0)
		return 0;
	n = snprintf(pat, sizeof(pat), "(issuing generation %d)", c->gen);
	if (n > 0 && memmem(rec->details, rec->dlen, pat, (size_t)n) != NULL)
		c->seq = rec->seq;
	return 0;
}

/*
 * A key "issuing-<gen>" found in the token while state.conf names
 * generation gen - 1 as the newest: left by a request that failed before
 * state.conf recorded it (nothing was ever signed for it, so it is
 * destroyed), unless the evidence says it was recorded: a csr.make ok of
 * that generation in the live log (audited right after state.conf saved
 * the key), or the token's compromise mark of that generation. Then
 * state.conf is older than the token (restored from a backup taken before
 * the request): the key may sign CRLs for certificates residents hold, and
 * it is never destroyed here.
 */
static int
leftover_check(struct request_work *w, const char *uri)
{
	struct csr_made c = { w->new_gen, 0 };
	char label[48], val[HK_P11_DATA_MAX];
	int marked, r;

	if ((r = hk_audit_scan(w->on->audit_log, csr_made_each, &c)) != 0) {
		hk_err_set("%s: %s; the token's key %s is not destroyed "
		    "without the log's word that it was never recorded",
		    w->on->audit_log, hk_err_msg(), uri);
		return r;
	}
	snprintf(label, sizeof(label), "issuing.%d.compromised", w->new_gen);
	if ((marked = hk_online_token_mark(w->on, label, val,
	    sizeof(val))) < 0)
		return marked;
	if (c.seq == 0 && marked == 0)
		return 0;
	hk_err_set("%s: the token holds the key of issuing generation %d, "
	    "which %s, but %s/state.conf names generation %d as the newest: "
	    "state.conf is older than the token (restored from a backup taken "
	    "before that request?); put back the state.conf that names "
	    "generation %d (docs/backup.md \"Restore\", step 7); nothing "
	    "destroyed or made", uri, w->new_gen, c.seq != 0 ?
	    "the audit log records as made (csr.make ok)" :
	    "the token marks compromised", w->on->st->dir, w->gen,
	    w->new_gen);
	return HK_ERR_STATE;
}

/* The next generation's key in the token and its request, as init makes
 * generation 1's (the same checks as the offline csr-check step). */
static int
new_csr(struct request_work *w)
{
	struct hk_profile *prof = w->prof;
	const char *reh = hk_state_get(w->on->st, "rehearsal");
	const char *label_tok = hk_state_get(w->on->st, "token.label");
	X509_NAME *subject = NULL;
	EVP_PKEY *priv = NULL, *pub = NULL;
	char path[4096], label[32], uri[256], key[64], num[16];
	int r, rehearsal = reh != NULL && strcmp(reh, "yes") == 0;
	enum hk_key_alg ik;

	w->new_gen = w->gen + 1;
	if (w->new_gen > MAX_GEN || label_tok == NULL) {
		hk_err_set("%s/state.conf: issuing.generation or token.label "
		    "out of range", w->on->st->dir);
		return HK_ERR_STATE;
	}
	ik = prof->issuing_key;
	if ((r = hk_online_issuing_subject(prof, w->new_gen, rehearsal,
	    &subject)) != 0)
		goto out;
	snprintf(label, sizeof(label), "issuing-%d", w->new_gen);
	if ((r = hk_p11_uri(label_tok, (const unsigned char *)label,
	    strlen(label), uri, sizeof(uri))) != 0)
		goto out;
	/* A key of this name not in state.conf is left by a run that failed
	 * before recording it: nothing was ever signed for it. */
	if (hk_token_key(w->on->tok, uri, NULL, &pub) == 0) {
		EVP_PKEY_free(pub);
		pub = NULL;
		if ((r = leftover_check(w, uri)) != 0 ||
		    (r = hk_token_key_destroy(w->on->tok,
		    (const unsigned char *)label, strlen(label))) != 0)
			goto out;
		hk_online_audit(w->on, "key.destroy", "ok", "%s: left by a "
		    "request that never completed (not in state.conf)", uri);
	}
	hk_err_clear();
	if ((r = hk_token_keygen(w->on->tok, ik == HK_KEY_EC_P384 ?
	    HK_P11_EC : HK_P11_RSA, hk_key_alg_bits(ik), label,
	    (const unsigned char *)label, strlen(label))) != 0)
		goto out;
	w->key_made = 1;
	if ((r = hk_token_key(w->on->tok, uri, &priv, &pub)) != 0)
		goto out;
	if (!hk_key_alg_matches(pub, ik)) {
		hk_err_set("%s: the token made a key that is not %s", label,
		    hk_key_alg_name(ik));
		r = HK_ERR_P11;
		goto out;
	}
	hk_online_audit(w->on, "key.generate", "ok", "%s: %s key %s in the "
	    "token (the issuing CA, generation %d)", label,
	    hk_key_alg_name(ik), uri, w->new_gen);
	if ((r = hk_online_csr_make(prof, w->new_gen, subject, priv, pub,
	    write_made, w, &w->csr)) != 0)
		goto out;
	/* Into state.conf (saved with the sequence, by the caller). */
	snprintf(num, sizeof(num), "%d", w->new_gen);
	if ((r = hk_state_set(w->on->st, "issuing.generation", num)) != 0)
		goto out;
	snprintf(key, sizeof(key), "issuing.%d.key-uri", w->new_gen);
	if ((r = hk_state_set(w->on->st, key, uri)) != 0)
		goto out;
	snprintf(key, sizeof(key), "issuing.%d.csr", w->new_gen);
	snprintf(path, sizeof(path), "certs/issuing-%d.csr.der", w->new_gen);
	if ((r = hk_state_set(w->on->st, key, path)) != 0)
		goto out;
	snprintf(key, sizeof(key), "issuing.%d.csr-sha256", w->new_gen);
	r = hk_state_set(w->on->st, key, w->csr.hex);
 out:
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	X509_NAME_free(subject);
	return r;
}

/* The outstanding request of a generation not certified yet, sent again. */
static int
old_csr(struct request_work *w, int g)
{
	char key[64], path[4096];
	const char *rel;
	X509_REQ *req = NULL;
	unsigned char d[32];
	int r;

	w->new_gen = g;
	snprintf(key, sizeof(key), "issuing.%d.csr", g);
	if ((rel = hk_state_get(w->on->st, key)) == NULL) {
		hk_err_set("%s/state.conf: %s missing", w->on->st->dir, key);
		return HK_ERR_STATE;
	}
	if ((r = hk_online_path(w->on, rel, path, sizeof(path))) != 0 ||
	    (r = hk_csr_read(path, &req)) != 0 ||
	    (r = hk_file_read(path, 1 << 20, &w->csr.der, &w->csr.len)) != 0)
		goto out;
	SHA256(w->csr.der, w->csr.len, d);
	hk_hex_encode(d, 32, w->csr.hex);
	hk_fingerprint_colons(d, w->csr.colons);
 out:
	X509_REQ_free(req);
	return r;
}

/* The revocation request: the certificate named (default: the signer's)
 * must be an issuing CA certificate the store holds. */
static int
make_revreq(struct request_work *w)
{
	unsigned char *der = NULL;
	char hx[43];
	X509 *x = NULL;
	int i, len, r;

	if (w->q.serial[0] == '\0') {
		x = w->cert;
		if ((r = hk_issued_serial_hex(x, w->q.serial,
		    sizeof(w->q.serial))) != 0)
			return r;
	} else {
		for (i = 0; i < w->iss.n && x == NULL; i++)
			if (hk_issued_serial_hex(w->iss.x[i], hx,
			    sizeof(hx)) == 0 && strcmp(hx, w->q.serial) == 0)
				x = w->iss.x[i];
		if (x == NULL) {
			hk_err_set("--serial %s: not the serial of an issuing "
			    "CA certificate in the store (as issued.txt writes "
			    "it: lowercase hex, even length)", w->q.serial);
			return HK_ERR_NOT_FOUND;
		}
	}
	if ((len = i2d_X509(x, &der)) <= 0)
		return HK_ERR_CRYPTO;
	SHA256(der, (size_t)len, w->q.cert_sha256);
	OPENSSL_free(der);
	w->q.requested = hk_clock_now();
	return hk_revreq_encode(&w->q, w->doc, sizeof(w->doc));
}

/* The signer's next sequence number, put in state.conf (saved by caller). */
static int
next_sequence(struct request_work *w)
{
	char key[64], buf[24], *end;
	const char *v;
	unsigned long long last = 0;

	snprintf(key, sizeof(key), "issuing.%d.bundle-sequence", w->gen);
	if ((v = hk_state_get(w->on->st, key)) != NULL) {
		last = strtoull(v, &end, 10);
		if (*v < '0' || *v > '9' || *end != '\0' ||
		    last >= HK_BUNDLE_MAX_SEQ) {
			hk_err_set("%s/state.conf: %s: must be a decimal below "
			    "%" PRIu64, w->on->st->dir, key,
			    HK_BUNDLE_MAX_SEQ);
			return HK_ERR_STATE;
		}
	}
	w->seq = (uint64_t)last + 1;
	snprintf(buf, sizeof(buf), "%" PRIu64, w->seq);
	return hk_state_set(w->on->st, key, buf);
}

/*
 * Whether the signer's generation is marked compromised, in state.conf or
 * by the token's mark (revoke --issuing-key-compromise, CPS 4-14-2): its
 * key then authenticates nothing, so a CSR does not travel as a bundle it
 * signs (the root refuses it once the issuing CA certificate is revoked,
 * and before that would take the word of a key someone else may hold).
 */
static int
signer_compromised(struct request_work *w, int *yes)
{
	char when[32];
	int r;

	if ((r = hk_online_issuing_marked(w->on, w->gen, when,
	    sizeof(when))) < 0)
		return r;
	*yes = r == 1;
	return 0;
}

/*
 * Whether the root has revoked the signer's key (hk_online_issuing_stopped
 * on the newest stored ARL, the rule issue refuses by; CPS 4-14-2): the
 * offline reader refuses a bundle its revoked certificate signs (SPEC
 * 13.4), so the CSR of the next generation, the way out, goes as the
 * request alone (request_plain), its SHA-256 read aloud.
 */
static int
signer_revoked(struct request_work *w, int *yes)
{
	int r;

	*yes = 0;
	if ((r = hk_online_issuing_arl(w->store, &w->iss)) != 0)
		return r;
	*yes = hk_online_issuing_stopped(&w->iss, X509_get0_pubkey(w->cert),
	    hk_clock_now(), w->stopped, sizeof(w->stopped));
	return 0;
}

/*
 * The request of the next generation when the signer is compromised,
 * revoked by the root (bad) or its certificate ended (not bad): no
 * bundle, the request alone in OUT (a new folder), its SHA-256 printed to
 * be read aloud in the ceremony, as for the first CSR (docs/air-gap.md).
 * No sequence number is spent. state.conf records a new key before OUT is
 * written; running it again gives the same request.
 */
static int
request_plain(const struct request_opts *o, struct request_work *w, int bad)
{
	char path[4096], *dn;
	int n, r;

	if ((r = hk_state_save(w->on->st)) != 0)
		return r;
	w->nmade = 0;
	w->key_made = 0;
	n = snprintf(path, sizeof(path), "%s/issuing-%d.csr.der", o->out,
	    w->new_gen);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		hk_err_set("--out %s: path too long", o->out);
		return HK_ERR_USAGE;
	}
	dn = hk_name_print(X509_get_subject_name(w->cert));
	if (!bad)
		hk_online_audit(w->on, "csr.make", "ok", "certs/issuing-%d.csr."
		    "der (issuing generation %d) SHA-256 %s; no bundle: issuing "
		    "generation %d %s: its certificate ended %s (SPEC 6.2): the "
		    "request alone to %s, its SHA-256 read aloud", w->new_gen,
		    w->new_gen, w->csr.hex, w->gen, dn ? dn : "?", w->ended,
		    path);
	else if (w->stopped[0] != '\0')
		hk_online_audit(w->on, "csr.make", "ok", "certs/issuing-%d.csr."
		    "der (issuing generation %d) SHA-256 %s; no bundle: issuing "
		    "generation %d %s is revoked by the root (%s; CPS 4-14-2): "
		    "the request alone to %s, its SHA-256 read aloud",
		    w->new_gen, w->new_gen, w->csr.hex, w->gen, dn ? dn : "?",
		    w->stopped, path);
	else
		hk_online_audit(w->on, "csr.make", "ok", "certs/issuing-%d.csr."
		    "der (issuing generation %d) SHA-256 %s; no bundle: issuing "
		    "generation %d %s is compromised (CPS 4-14-2): the request "
		    "alone to %s, its SHA-256 read aloud", w->new_gen,
		    w->new_gen, w->csr.hex, w->gen, dn ? dn : "?", path);
	free(dn);
	if ((r = hk_dir_create(o->out, 0755)) != 0 ||
	    (r = hk_file_write(path, w->csr.der, w->csr.len, 0644,
	    HK_WRITE_NOREPLACE)) != 0)
		return r;
	if (!bad)
		printf("Issuing generation %d's certificate ended %s (CPS "
		    "1-3-2): the root refuses a bundle signed by a certificate "
		    "that is not valid (SPEC 6.2): no bundle made.\n", w->gen,
		    w->ended);
	else if (w->stopped[0] != '\0')
		printf("Issuing generation %d is revoked by the root (%s; CPS "
		    "4-14-2): the root refuses bundles of a revoked issuing "
		    "CA: no bundle made.\n", w->gen, w->stopped);
	else
		printf("Issuing generation %d is compromised (issuing.%d."
		    "compromised, CPS 4-14-2): its key authenticates nothing, "
		    "and the root refuses bundles of a revoked issuing CA: no "
		    "bundle made.\n", w->gen, w->gen);
	printf("Request for issuing generation %d: %s (also %s/certs/issuing-%d."
	    "csr.der); SHA-256 of the DER request\n  %s\n  %s\n"
	    "Carry the request and read this SHA-256 aloud in the issue-subca "
	    "ceremony, as for the first CSR (docs/air-gap.md \"The first "
	    "CSR\").\n", w->new_gen, path, w->on->st->dir,
	    w->new_gen, w->csr.hex, w->csr.colons);
	return 0;
}

/* --out's folder is there before anything is made: a bundle that cannot be
 * written would have spent its sequence number (and for a CSR recorded a
 * new key) for nothing. */
static int
out_parent(const char *out)
{
	char copy[4096];
	const char *dir;
	struct stat st;

	if (snprintf(copy, sizeof(copy), "%s", out) >= (int)sizeof(copy)) {
		hk_err_set("--out %s: path too long", out);
		return HK_ERR_INVALID;
	}
	dir = dirname(copy);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		hk_err_set("--out %s: its folder %s is not a folder that "
		    "exists; nothing made, no sequence number spent", out,
		    dir);
		return HK_ERR_NOT_FOUND;
	}
	return 0;
}

static int
request(const struct request_opts *o, struct request_work *w)
{
	struct hk_bundle_file files[2];
	char name[2][64], hx[65], shaline[66];
	unsigned char mh[32];
	const char *g;
	size_t nf = 0;
	int csr = strcmp(o->type, "csr") == 0, r, top, bad = 0;

	if (hk_path_exists(o->out)) {
		hk_err_set("%s: already exists; refusing to overwrite", o->out);
		return HK_ERR_EXISTS;
	}
	if ((r = out_parent(o->out)) != 0)
		return r;
	if ((r = find_signer(w)) != 0)
		return r;
	if (csr) {
		g = hk_state_get(w->on->st, "issuing.generation");
		top = (int)strtol(g, NULL, 10);
		if (top > w->gen) {
			if ((r = old_csr(w, top)) != 0)
				return r;
		} else if ((r = new_csr(w)) != 0)
			return r;
		if ((r = signer_compromised(w, &bad)) != 0 ||
		    (!bad && (r = signer_revoked(w, &bad)) != 0))
			return r;
		if (bad || w->ended[0] != '\0')
			return request_plain(o, w, bad);
		snprintf(name[0], sizeof(name[0]), "issuing-%d.csr.der",
		    w->new_gen);
		snprintf(name[1], sizeof(name[1]), "issuing-%d.csr.sha256",
		    w->new_gen);
		snprintf(shaline, sizeof(shaline), "%s\n", w->csr.hex);
		files[0] = (struct hk_bundle_file){ name[0], w->csr.der,
		    w->csr.len };
		files[1] = (struct hk_bundle_file){ name[1],
		    (const unsigned char *)shaline, 65 };
		nf = 2;
	} else {
		/* a revocation request the root would refuse unread: the root
		 * has revoked the signer (SPEC 13.4), which is also what a
		 * request to revoke it asks; no sequence number is spent */
		if (w->ended[0] != '\0') {
			hk_err_set("store: issuing generation %d: its "
			    "certificate ended %s: the offline reader refuses "
			    "a bundle it signs (SPEC 6.2); no revocation "
			    "request made (the root's ARL lists no expired "
			    "certificate; one to revoke goes to the root on "
			    "paper, with the CA manager's instruction: "
			    "revoke.yaml)", w->gen, w->ended);
			return HK_ERR_STATE;
		}
		if ((r = signer_revoked(w, &bad)) != 0)
			return r;
		if (bad) {
			hk_err_set("issuing generation %d is revoked by the root "
			    "(%s; CPS 4-14-2): the offline reader refuses a "
			    "bundle its certificate signs (SPEC 13.4); no "
			    "revocation request made (a certificate to revoke "
			    "now goes to the root on paper, with the CA "
			    "manager's instruction: revoke.yaml)", w->gen,
			    w->stopped);
			return HK_ERR_STATE;
		}
		if ((r = make_revreq(w)) != 0)
			return r;
		files[nf++] = (struct hk_bundle_file){ HK_REVREQ_FILE,
		    (const unsigned char *)w->doc, strlen(w->doc) };
		if (w->note != NULL)
			files[nf++] = (struct hk_bundle_file){ HK_REVREQ_NOTE,
			    w->note, w->note_len };
	}
	/* The number is spent (and a new key recorded) before the bundle
	 * exists; from here a failure leaves a complete state. */
	if ((r = next_sequence(w)) != 0 || (r = hk_state_save(w->on->st)) != 0)
		return r;
	w->nmade = 0;
	w->key_made = 0;
	if (csr) {
		char *dn = hk_name_print(X509_get_subject_name(w->cert));
		hk_online_audit(w->on, "csr.make", "ok", "certs/issuing-%d.csr."
		    "der (issuing generation %d) SHA-256 %s; signer issuing "
		    "generation %d %s", w->new_gen, w->new_gen, w->csr.hex,
		    w->gen, dn ? dn : "?");
		free(dn);
	}
	if ((r = hk_bundle_write_trust(o->out, o->type, w->seq,
	    hk_clock_now(), files, nf, w->priv, w->cert, &w->t, mh)) != 0)
		return r;
	hk_hex_encode(mh, 32, hx);
	hk_online_audit(w->on, "bundle.create", "ok", "%s: type %s, sequence "
	    "%" PRIu64 " of issuing generation %d, %zu files, manifest sha256 "
	    "%s%s%s", o->out, o->type, w->seq, w->gen, nf, hx,
	    csr ? "" : "; request: ", csr ? "" : w->doc);
	printf("Bundle %s: type %s, sequence %" PRIu64 ", signed by issuing "
	    "CA generation %d\nmanifest SHA-256: %s\n", o->out, o->type,
	    w->seq, w->gen, hx);
	if (csr)
		printf("Request for issuing generation %d: SHA-256 of the DER "
		    "request\n  %s\n  %s\n", w->new_gen, w->csr.hex,
		    w->csr.colons);
	else
		printf("Revocation request: serial %s, reason %d (%s)\n",
		    w->q.serial, w->q.reason,
		    hk_revreq_reason_name(w->q.reason));
	return 0;
}

int
cmd_request(int argc, char **argv)
{
	struct request_opts o;
	struct request_work w;
	int r;

	memset(&w, 0, sizeof(w));
	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	o.c.clock_guard = HK_ONLINE_GUARD_REFUSE;	/* docs/clock.md */
	if ((r = check_args(&o, &w)) != 0)
		goto done;
	/* the profile before anything is written: a changed one is refused
	 * with nothing done (docs/profile.md) */
	if ((r = hk_online_open(&o.c, &w.on)) != 0 ||
	    (r = hk_online_state_lock(w.on)) != 0 ||
	    (strcmp(o.type, "csr") == 0 &&
	    (r = hk_online_profile(w.on, &w.prof)) != 0))
		goto done;
	if ((r = request(&o, &w)) != 0) {
		undo_new(&w);
		hk_online_audit(w.on, "bundle.create", "fail", "%s (type %s, "
		    "sequence %" PRIu64 "): %s", o.out, o.type, w.seq,
		    hk_err_msg());
		if (w.on->tok != NULL)
			hk_online_checkpoint_keep_err(w.on);
		goto done;
	}
	r = hk_online_checkpoint(w.on);
 done:
	hk_online_issuing_free(&w.iss);
	EVP_PKEY_free(w.priv);
	X509_free(w.t.anchor);
	sk_X509_pop_free(w.t.links, X509_free);
	free(w.csr.der);
	free(w.note);
	hk_profile_free(w.prof);
	hk_store_close(w.store);
	hk_online_close(w.on);
	return r;
}

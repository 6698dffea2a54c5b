/*
 * cmd_revoke.c - "hanko-online revoke": revoke a resident's certificate
 * (CPS 4-4) by serial or by resident (municipality and resident
 * identifier, looked up by the keyed hash), with a CPS 4-4-4-2 reason only:
 * 1 key-compromise, 2 ca-compromise, 3 affiliation-changed, 4 superseded,
 * 5 cessation-of-operation. No suspension (certificateHold) and no
 * "unspecified"; a revocation is final (the store's trigger refuses any
 * change of a revoked row). Audited (cert.revoke ok/fail) with a checkpoint.
 *
 * With --issuing-key-compromise --generation N (CPS 4-4-1-3, 4-14-2):
 * every valid certificate issued under that generation's issuing key is
 * revoked cACompromise(2) and its pending ones voided, in one transaction
 * (store_records.c, hk_store_issuer_revoke), only when --yes-revoke-all
 * gives the count the store holds; --dry-run prints the count. Audited
 * (cert.revoke-all) with the count. Before the revocations the generation
 * is marked compromised in the token (a data object, hk_online_mark_put,
 * which outlives a restore of the state from a backup) and in state.conf
 * (issuing.N.compromised); a second run keeps both marks and sets the one
 * missing. Publication of the partition CRLs is "hanko-online publish".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>

#include "audit.h"
#include "bundle.h"
#include "cert.h"
#include "clock.h"
#include "crl.h"
#include "err.h"
#include "hex.h"
#include "issue_pipeline.h"
#include "issued.h"
#include "logev.h"
#include "municipalities.h"
#include "ocsp.h"
#include "online.h"
#include "request.h"
#include "secmem.h"
#include "store.h"

#define MAX_GEN		999	/* issuing generations */
#define MAX_CERTS	16	/* issuing CA certificates of a generation */

struct revoke_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *reason;		/* --reason 1-5|NAME */
	const char *serial;		/* --serial HEX, or NULL */
	const char *muni;		/* --municipality CODE, or NULL */
	const char *resident;		/* --resident-id ID, or NULL */
	int compromise;			/* --issuing-key-compromise */
	const char *generation;		/* --generation N, or NULL */
	const char *confirm;		/* --yes-revoke-all COUNT or NULL */
	int dry_run;			/* --dry-run: count only */
	int gen;			/* generation, parsed */
	uint64_t expect;		/* COUNT, parsed */
};

static const char revoke_usage[] =
"usage: hanko-online revoke --state DIR --reason 1-5|NAME\n"
"           (--serial HEX | --municipality CODE --resident-id ID)\n"
"       hanko-online revoke --state DIR --issuing-key-compromise\n"
"           --generation N (--yes-revoke-all COUNT | --dry-run)\n"
"reasons (CPS 4-4-4-2): 1 key-compromise, 2 ca-compromise,\n"
"  3 affiliation-changed, 4 superseded, 5 cessation-of-operation\n";

/* A decimal of 1 to 19 digits, at most max (no sign, no spaces). */
static int
decimal(const char *v, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (v[0] == '\0' || strlen(v) > 19 || strspn(v, "0123456789") !=
	    strlen(v))
		return -1;
	for (i = 0; v[i]; i++)
		n = n * 10 + (uint64_t)(v[i] - '0');
	if (n > max)
		return -1;
	*out = n;
	return 0;
}

/* The options of --issuing-key-compromise, or their absence. */
static int
parse_compromise(struct revoke_opts *o)
{
	uint64_t g;

	if (!o->compromise) {
		if (o->generation || o->confirm || o->dry_run) {
			hk_err_set("--generation, --yes-revoke-all and "
			    "--dry-run belong to --issuing-key-compromise");
			return HK_ERR_USAGE;
		}
		return 0;
	}
	if (o->reason || o->serial || o->muni || o->resident ||
	    o->generation == NULL || (o->confirm != NULL) == o->dry_run) {
		hk_err_set("--issuing-key-compromise takes --generation and "
		    "either --yes-revoke-all COUNT or --dry-run (the reason is "
		    "always ca-compromise; no --serial or resident) (see "
		    "--help)");
		return HK_ERR_USAGE;
	}
	if (decimal(o->generation, MAX_GEN, &g) != 0 || g < 1) {
		hk_err_set("--generation %s: an issuing generation 1-%d",
		    o->generation, MAX_GEN);
		return HK_ERR_USAGE;
	}
	o->gen = (int)g;
	if (o->confirm != NULL && decimal(o->confirm, (uint64_t)INT64_MAX,
	    &o->expect) != 0) {
		hk_err_set("--yes-revoke-all %s: the count of valid "
		    "certificates to revoke, in decimal (--dry-run prints it)",
		    o->confirm);
		return HK_ERR_USAGE;
	}
	return 0;
}

static int
parse(struct revoke_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--reason", .value = &o->reason },
		{ .name = "--serial", .value = &o->serial },
		{ .name = "--municipality", .value = &o->muni },
		{ .name = "--resident-id", .value = &o->resident },
		{ .name = "--issuing-key-compromise", .flag = &o->compromise },
		{ .name = "--generation", .value = &o->generation },
		{ .name = "--yes-revoke-all", .value = &o->confirm },
		{ .name = "--dry-run", .flag = &o->dry_run },
		{ .name = NULL },
	};
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = hk_online_parse(&o->c, argc, argv, revoke_usage, args,
	    NULL)) != 0)
		return r;
	if ((r = parse_compromise(o)) != 0)
		return r;
	if (o->compromise)
		return 0;
	if (o->reason == NULL ||
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

/*
 * "--resident-id -" reads the identifier from standard input (one line, a
 * prompt on standard error when it is a terminal), so that it appears
 * neither in the process list nor in the shell's history. It is read with
 * read(2) a byte at a time into buf, never through stdin's buffer (which
 * would keep a copy until the process ends), and the caller wipes buf once
 * it is used.
 */
static int
resident_stdin(char *buf, size_t len)
{
	size_t n = 0;
	ssize_t k;
	char c = 0;
	int got = 0, toolong = 0, r = 0;

	if (isatty(0))
		fprintf(stderr, "resident record code: ");
	for (;;) {
		if ((k = read(0, &c, 1)) < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			hk_err_set("--resident-id -: standard input: cannot be "
			    "read");
			r = HK_ERR_USAGE;
			goto out;
		}
		if (k == 0)
			break;
		got = 1;
		if (c == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = c;
		else
			toolong = 1;	/* read on to the end of the line */
	}
	buf[n] = '\0';
	if (!got) {
		hk_err_set("--resident-id -: standard input: no line (CPS 3-1: "
		    "the resident record code, one line)");
		r = HK_ERR_USAGE;
		goto out;
	}
	if (toolong) {
		/* longer than any identifier */
		hk_err_set("--resident-id -: standard input: CPS 3-1: the "
		    "resident record code must be %d digits", HK_REQ_ID_LEN);
		r = HK_ERR_USAGE;
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
 out:
	hk_wipe(&c, sizeof(c));
	return r;
}

int
hk_online_resident_key(struct hk_online *on, const char *resident_id,
    unsigned char rkey[HK_STORE_RKEY_LEN])
{
	unsigned char *key = NULL;
	char line[64];
	const char *id = resident_id, *from = "";
	int r;

	memset(rkey, 0, HK_STORE_RKEY_LEN);
	memset(line, 0, sizeof(line));
	if (strcmp(resident_id, "-") == 0) {
		if ((r = resident_stdin(line, sizeof(line))) != 0)
			goto out;
		id = line;
		from = " -: standard input";
	}
	if (strlen(id) != HK_REQ_ID_LEN ||
	    strspn(id, "0123456789") != HK_REQ_ID_LEN) {
		hk_err_set("--resident-id%s: CPS 3-1: the resident record code "
		    "must be %d digits", from, HK_REQ_ID_LEN);
		r = HK_ERR_USAGE;
		goto out;
	}
	if ((r = hk_online_store_key_checked(on, &key)) != 0)
		goto out;
	r = hk_store_resident_key(key, id, rkey);
	hk_secret_free(key);
out:
	OPENSSL_cleanse(line, sizeof(line));
	return r;
}

/* The resident's live certificate through the keyed hash. */
static int
by_resident(struct hk_online *on, struct hk_store *store,
    const struct revoke_opts *o, unsigned char *s, size_t *len)
{
	struct hk_munis *munis = NULL;
	const struct hk_muni *m;
	unsigned char rkey[HK_STORE_RKEY_LEN];
	char path[4096];
	int r;

	if ((r = hk_online_path(on, "municipalities.csv", path,
	    sizeof(path))) != 0 || (r = hk_munis_load(path, &munis)) != 0)
		return r;
	if ((m = hk_munis_find(munis, o->muni)) == NULL || !m->partition) {
		hk_err_set("--municipality %s: not a partition of the state's "
		    "municipalities.csv", o->muni);
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((r = hk_online_resident_key(on, o->resident, rkey)) != 0)
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
	OPENSSL_cleanse(rkey, sizeof(rkey));
	hk_munis_free(munis);
	return r;
}

/* The issuing CA certificates of one generation and their one key id. */
struct gen_key {
	int gen;				/* the generation wanted */
	unsigned char id[HK_STORE_KEYID_MAX];	/* their SKI */
	size_t id_len;				/* 0 until one is found */
	char serial[MAX_CERTS][41];		/* their serials (issued.txt
						 * form), for the request */
	int n;
};

static int
each_gen(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct gen_key *k = arg;
	const unsigned char *p = der;
	ASN1_OCTET_STRING *ski = NULL;
	X509 *x = NULL;
	int r = HK_ERR_STATE;

	if (gen != k->gen)
		return 0;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len ||
	    (ski = hk_cert_ski(x)) == NULL || ski->length < 1 ||
	    ski->length > HK_STORE_KEYID_MAX) {
		hk_err_set("store: ca_certs: issuing generation %d: a stored "
		    "certificate does not parse or has no "
		    "subjectKeyIdentifier", gen);
		goto out;
	}
	if (k->id_len != 0 && (k->id_len != (size_t)ski->length ||
	    memcmp(k->id, ski->data, k->id_len) != 0)) {
		hk_err_set("store: ca_certs: issuing generation %d: its "
		    "certificates name two different keys", gen);
		goto out;
	}
	k->id_len = (size_t)ski->length;
	memcpy(k->id, ski->data, k->id_len);
	if (k->n < MAX_CERTS && hk_issued_serial_hex(x,
	    k->serial[k->n], sizeof(k->serial[0])) == 0)
		k->n++;
	r = 0;
out:
	ASN1_OCTET_STRING_free(ski);
	X509_free(x);
	return r;
}

/* The pending rows of the compromised key, and what the audit log says of
 * each serial (hk_logev_issued): its first cert.issue ok record (batch,
 * seq), then an issue.done ok record of that batch after it, or its
 * cert.reserve ok before that run ended. */
struct pends {
	const struct gen_key *k;
	struct hk_logev_issued *p;
	size_t n, cap, ndone;
};

static int
each_pend(const struct hk_store_cert *c, const unsigned char *der,
    size_t len, time_t reserved_at, void *arg)
{
	struct pends *ps = arg;
	struct hk_logev_issued *p;

	(void)der;
	(void)len;
	(void)reserved_at;
	if (c->issuer_len != ps->k->id_len || memcmp(c->issuer, ps->k->id,
	    c->issuer_len) != 0)
		return 0;
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 16;

		if ((p = reallocarray(ps->p, cap, sizeof(*p))) == NULL)
			return HK_ERR_ALLOC;
		ps->p = p;
		ps->cap = cap;
	}
	p = &ps->p[ps->n++];
	memset(p, 0, sizeof(*p));
	hk_issue_hex(c->serial, c->serial_len, p->hex);
	return 0;
}

static int
pend_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hk_logev_issued *)a)->hex,
	    ((const struct hk_logev_issued *)b)->hex);
}

/*
 * After a restore of the state from a backup taken mid-batch (docs/backup.md
 * "Restore"), a pending row of the key may be a certificate the batch
 * signed and delivered after the backup: the live log's cert.issue record
 * of its serial, then the batch's issue.done ok, or its cert.reserve ok
 * before that run ended (the run went on past the commit and wrote the
 * certificate into results.csv, even if it then failed: issue.done fail).
 * Voided, it would be on no
 * CRL and never put back (a void row never changes): refused, nothing
 * changed, until recover puts its batch back. A crash's pending rows (no
 * restore) have no such pair and are voided as before. A log that fails
 * verification cannot say: said on stderr, the rows voided as before
 * (docs/backup.md "Restore", step 6: such a log is not put back).
 */
static int
pending_issued(struct hk_online *on, struct hk_store *store,
    const struct gen_key *k)
{
	struct pends ps;
	struct hk_audit_report rep;
	struct hk_logev_logs L;
	char names[200];
	const char *bad = on->audit_log;
	size_t i, shown = 0, w = 0;
	int r;

	memset(&ps, 0, sizeof(ps));
	memset(&L, 0, sizeof(L));
	ps.k = k;
	if ((r = hk_store_cert_each(store, HK_CERT_PENDING, each_pend,
	    &ps)) != 0 || ps.n == 0)
		goto out;
	qsort(ps.p, ps.n, sizeof(*ps.p), pend_cmp);
	/* the live log, then the closed logs it links back to (after a
	 * yearly close the records between the backup and the close are
	 * only there), read as the live log is: the chain, no key */
	if ((r = hk_audit_verify(on->audit_log, NULL, &rep)) == 0 &&
	    (r = hk_logev_logs_open(&L, on->audit_log, &rep, NULL,
	    "hanko-online revoke")) == HK_ERR_AUDIT)
		bad = "a closed log it links back to";
	if (r == 0 && (r = hk_logev_issued(&L, ps.p, ps.n, sizeof(*ps.p),
	    &ps.ndone)) == HK_ERR_AUDIT && L.failed != NULL)
		bad = L.failed;
	if (r == HK_ERR_AUDIT) {
		fprintf(stderr, "hanko-online revoke: warning: %s: fails "
		    "verification (%s): whether the %zu pending rows of "
		    "generation %d were issued after a backup is not known; "
		    "voided\n", bad, hk_err_msg(), ps.n, k->gen);
		hk_err_clear();
		r = 0;
		goto out;
	}
	if (r != 0 || ps.ndone == 0)
		goto out;
	names[0] = '\0';
	for (i = 0; i < ps.n; i++)
		if (ps.p[i].done != 0 && shown < 3 && w < sizeof(names)) {
			w += (size_t)snprintf(names + w, sizeof(names) - w,
			    "%s%s", shown ? ", " : "", ps.p[i].hex);
			shown++;
		}
	for (i = 0; ps.p[i].done == 0; i++)
		;	/* the first named: ndone > 0 */
	hk_err_set("issuing generation %d: %zu pending certificate%s of its "
	    "key the audit log records as issued after the backup this store "
	    "was restored from (serial %s%s; batch %s: cert.issue seq %s, "
	    "then %s seq %s%s): voided, %s would "
	    "be on no CRL and never put back: recover the batch%s first "
	    "(hanko-online recover, docs/backup.md \"Restore\", step 9), then "
	    "this again; nothing changed", k->gen, ps.ndone, ps.ndone == 1 ?
	    "" : "s", names, ps.ndone > shown ? ", ..." : "", ps.p[i].batch,
	    hk_logev_at(&L, ps.p[i].issued), strcmp(ps.p[i].event,
	    "cert.reserve") == 0 ? "cert.reserve" : "issue.done ok",
	    hk_logev_at(&L, ps.p[i].done),
	    strcmp(ps.p[i].event, "cert.reserve") == 0 ? ": the run went on "
	    "past its commit" : " ended that run", ps.ndone == 1 ? "it" :
	    "they",
	    ps.ndone == 1 ? "" : "es");
	r = HK_ERR_STATE;
out:
	hk_logev_logs_free(&L);
	free(ps.p);
	return r;
}

/* Mark the generation compromised in state.conf: whatever issues under it
 * can see that it must not (CPS 4-14-2: issuance stops). *made: set now
 * (NULL: not wanted). */
static int
mark_compromised(struct hk_online *on, int gen, time_t t, int *made)
{
	char key[64], when[32];

	snprintf(key, sizeof(key), "issuing.%d.compromised", gen);
	hk_time_format(t, when, sizeof(when));
	if (made != NULL)
		*made = 0;
	if (hk_state_get(on->st, key) != NULL)
		return 0;
	if (hk_state_set(on->st, key, when) != 0)
		return HK_ERR_INTERNAL;
	if (made != NULL)
		*made = 1;
	return hk_state_save(on->st);
}

/* Both marks of a compromise at t, the token's first (docs/backup.md: a
 * restore does not take it back), then state.conf's; an error names the
 * one not saved. */
static int
marks_put(struct hk_online *on, const struct gen_key *k, const char *kid,
    time_t t, int *made, int *conf_made)
{
	int r;

	if ((r = hk_online_mark_put(on, k->gen, kid, t, made)) != 0) {
		hk_err_set("token: issuing.%d.compromised not saved; nothing "
		    "revoked: %s", k->gen, hk_err_msg());
		return r;
	}
	if ((r = mark_compromised(on, k->gen, t, conf_made)) != 0) {
		hk_err_set("%s/state.conf: issuing.%d.compromised not saved; "
		    "nothing revoked: %s", on->st->dir, k->gen, hk_err_msg());
		return r;
	}
	return 0;
}

/* A valid certificate of the key with a notBefore after t. */
struct later {
	const struct gen_key *k;
	time_t t;
	uint64_t n;
	char first[2 * HK_STORE_SERIAL_MAX + 1];
};

static int
each_later(const struct hk_store_cert *c, const unsigned char *der,
    size_t len, time_t reserved_at, void *arg)
{
	struct later *l = arg;

	(void)der;
	(void)len;
	(void)reserved_at;
	if (c->issuer_len != l->k->id_len || memcmp(c->issuer, l->k->id,
	    c->issuer_len) != 0 || c->not_before <= l->t)
		return 0;
	if (l->n++ == 0)
		hk_issue_hex(c->serial, c->serial_len, l->first);
	return 0;
}

/*
 * recover --revocations (docs/backup.md "Restore", step 9): the live log's
 * cert.revoke-all of generation gen, key id kid (lowercase hex), at t,
 * redone as --issuing-key-compromise made it, at the record's time (RFC
 * 5280 5.3.2: a CRL never moves a revocation later): both marks with t,
 * then, in a transaction left open for the caller to audit and commit (a
 * failure rolls it back), every valid certificate of the key revoked
 * cACompromise at t and its pending rows voided, with pending_issued's
 * refusal of rows the log records as delivered. The caller holds the
 * state and issuance locks and the login. Refused (HK_ERR_NOT_FOUND,
 * HK_ERR_INVALID, HK_ERR_STATE, one line): the generation not stored, its
 * key not kid, a valid certificate of the key issued after t.
 */
int
hk_online_revoke_all_at(struct hk_online *on, struct hk_store *store,
    int gen, const char *kid, time_t t, struct hk_online_revoked_all *out)
{
	struct gen_key k;
	struct later l;
	char have[2 * HK_STORE_KEYID_MAX + 1];
	uint64_t valid = 0, pending = 0;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&k, 0, sizeof(k));
	k.gen = gen;
	if ((r = hk_store_ca_each(store, HK_CA_ISSUING, each_gen, &k)) != 0)
		return r;
	if (k.id_len == 0) {
		hk_err_set("issuing generation %d: no issuing CA certificate of "
		    "this generation in the store: import its bundle again "
		    "(docs/backup.md \"Restore\", step 9), then this again",
		    gen);
		return HK_ERR_NOT_FOUND;
	}
	hk_hex_encode(k.id, k.id_len, have);
	if (strcmp(have, kid) != 0) {
		hk_err_set("issuing generation %d: the record names key id %s, "
		    "the store's issuing CA certificates of the generation key "
		    "id %s: nothing changed; hand both to the internal auditor",
		    gen, kid, have);
		return HK_ERR_INVALID;
	}
	/* CPS 4-14-2: issuance stops first, as revoke does */
	if ((r = marks_put(on, &k, kid, t, &out->token_made,
	    &out->conf_made)) != 0)
		return r;
	if ((r = hk_store_begin(store)) != 0)
		return r;
	memset(&l, 0, sizeof(l));
	l.k = &k;
	l.t = t;
	if ((r = hk_store_issuer_count(store, k.id, k.id_len, &valid,
	    &pending)) != 0 || (pending > 0 && (r = pending_issued(on, store,
	    &k)) != 0) || (r = hk_store_cert_each(store, HK_CERT_VALID,
	    each_later, &l)) != 0)
		goto fail;
	if (l.n > 0) {
		hk_err_set("issuing generation %d: %" PRIu64 " valid "
		    "certificate%s of its key issued after the record's time "
		    "(serial %s%s): not revoked before it was issued; nothing "
		    "revoked; hand them to the internal auditor", gen, l.n,
		    l.n == 1 ? "" : "s", l.first, l.n > 1 ? ", ..." : "");
		r = HK_ERR_INVALID;
		goto fail;
	}
	if ((r = hk_store_issuer_revoke(store, k.id, k.id_len,
	    HK_REASON_CA_COMPROMISE, t, &out->revoked, &out->voided)) != 0)
		goto fail;
	if (out->revoked != valid) {
		hk_err_set("store: issuing generation %d: %" PRIu64 " revoked, "
		    "%" PRIu64 " counted; nothing revoked", gen, out->revoked,
		    valid);
		r = HK_ERR_INTERNAL;
		goto fail;
	}
	return 0;
fail:
	hk_store_rollback(store);
	return r;
}

/*
 * --issuing-key-compromise (CPS 4-4-1-3): all valid certificates of the
 * generation's key revoked cACompromise, its pending ones voided, in one
 * transaction, only when the operators' count is the store's.
 */
static int
compromise(struct hk_online *on, struct hk_store *store,
    const struct revoke_opts *o, int *unrecorded)
{
	struct hk_err_kept lost;
	struct gen_key k;
	uint64_t valid = 0, pending = 0, revoked = 0, voided = 0;
	char kid[2 * HK_STORE_KEYID_MAX + 1], when[32];
	time_t t = hk_clock_now();
	int r, i, lockfd = -1, made = 0;

	memset(&k, 0, sizeof(k));
	k.gen = o->gen;
	if ((r = hk_store_ca_each(store, HK_CA_ISSUING, each_gen, &k)) != 0)
		return r;
	if (k.id_len == 0) {
		hk_err_set("--generation %d: no issuing CA certificate of this "
		    "generation in the store (hanko-online import)", o->gen);
		return HK_ERR_NOT_FOUND;
	}
	hk_hex_encode(k.id, k.id_len, kid);
	/* the issuance lock: an issue running now would go on signing under
	 * the key and move the count; the operators stop it first */
	if (!o->dry_run && hk_online_issue_lock(on, &lockfd) != 0) {
		hk_err_set("%s: a hanko-online issue is running on this state: "
		    "stop it first (kill it: what it has in flight stays "
		    "pending and is voided here), then run --dry-run again "
		    "for the count; nothing revoked", on->st->dir);
		r = HK_ERR_STATE;
		goto out;
	}
	if ((r = hk_store_begin(store)) != 0 ||
	    (r = hk_store_issuer_count(store, k.id, k.id_len, &valid,
	    &pending)) != 0)
		goto out;
	if (pending > 0 && (r = pending_issued(on, store, &k)) != 0)
		goto out;
	if (o->dry_run) {
		printf("Issuing generation %d (key id %s): %" PRIu64 " valid "
		    "and %" PRIu64 " pending certificates; nothing changed\n",
		    o->gen, kid, valid, pending);
		goto out;
	}
	if (valid != o->expect) {
		hk_err_set("--yes-revoke-all %" PRIu64 ": CPS 4-4-1-3: issuing "
		    "generation %d has %" PRIu64 " valid certificates, not %"
		    PRIu64 "; nothing revoked", o->expect, o->gen, valid,
		    o->expect);
		r = HK_ERR_INVALID;
		goto out;
	}
	/* CPS 4-14-2: issuance stops first: the mark is saved before the
	 * revocations, so that a crash after this point never leaves the key
	 * usable (under the issuance lock: nothing issues meanwhile); in the
	 * token first, which a restore of the state from a backup does not
	 * take back (docs/backup.md), then in state.conf */
	if ((r = marks_put(on, &k, kid, t, &made, NULL)) != 0)
		goto out;
	if ((r = hk_store_issuer_revoke(store, k.id, k.id_len,
	    HK_REASON_CA_COMPROMISE, t, &revoked, &voided)) != 0)
		goto out;
	if (revoked != valid) {
		hk_err_set("store: issuing generation %d: %" PRIu64 " revoked, "
		    "%" PRIu64 " counted; nothing revoked", o->gen, revoked,
		    valid);
		r = HK_ERR_INTERNAL;
		goto out;
	}
	if ((r = hk_store_commit(store)) != 0)
		goto out;
	/* the revocations' time said (the record's own is read later):
	 * recover --revocations redoes them at it (RFC 5280 5.3.2) */
	hk_time_format(t, when, sizeof(when));
	/* final (CPS 4-4): revocations whose record is lost stay, and the
	 * run ends with exit 6 naming them (below) */
	lost.msg[0] = '\0';
	if (hk_online_audit(on, "cert.revoke-all", "ok", "issuing generation "
	    "%d key id %s: CPS 4-4-1-3: %" PRIu64 " certificates revoked "
	    "reason 2 (ca-compromise), %" PRIu64 " pending voided; revoked at "
	    "%s%s%s", o->gen, kid, revoked, voided, when, on->clock_note[0] ?
	    "; " : "", on->clock_note) != 0)
		hk_err_keep(&lost);
	printf("Revoked %" PRIu64 " certificates of issuing generation %d "
	    "(key id %s): reason 2 (ca-compromise); %" PRIu64 " pending "
	    "voided\n", revoked, o->gen, kid, voided);
	printf("Issuing generation %d marked compromised in the token and in "
	    "state.conf (issuing.%d.compromised)%s\n", o->gen, o->gen,
	    made ? "" : "; the token's mark of an earlier run kept");
	printf("Next (CPS 4-14-2): stop issuance under generation %d; "
	    "publish the CRLs at once (hanko-online publish --now); ask the "
	    "root to revoke the issuing CA certificate:\n", o->gen);
	for (i = 0; i < k.n; i++)
		printf("  hanko-online request --state %s --type "
		    "revocation-request --reason ca-compromise --serial %s "
		    "--out DIR\n", o->c.state, k.serial[i]);
	printf("Then notify the 個人認証BCA and announce it on the web (CPS "
	    "4-4-1-3, 4-14-2); a new issuing key: hanko-online request "
	    "--state %s --type csr --out DIR (no bundle: read its SHA-256 "
	    "aloud in the issue-subca ceremony); residents apply again (CPS "
	    "4-4-2-5; docs/records.md \"Issuing-key compromise\")\n",
	    o->c.state);
	if (lost.msg[0] != '\0') {
		char done[512], rec[512];

		snprintf(done, sizeof(done), "issuing generation %d (key id "
		    "%s): %" PRIu64 " certificates revoked and %" PRIu64
		    " pending voided (final, CPS 4-4: the store and the CRLs "
		    "keep them)", o->gen, kid, revoked, voided);
		snprintf(rec, sizeof(rec), "the revocations (issuing "
		    "generation %d, key id %s, %" PRIu64 " certificates, "
		    "reason 2, revoked at %s)", o->gen, kid, revoked, when);
		r = hk_online_unrecorded(done, "its cert.revoke-all record is",
		    lost.msg, rec);
		*unrecorded = 1;
	}
out:
	hk_store_rollback(store);
	if (lockfd >= 0)
		close(lockfd);
	return r;
}

/* One certificate by serial or by resident, with the given reason. */
static int
revoke_single(struct hk_online *on, struct hk_store *store,
    const struct revoke_opts *o, int reason, unsigned char *s, size_t sl,
    int *unrecorded)
{
	struct hk_err_kept lost, olost;
	struct hk_store_cert c;
	unsigned char *ed = NULL;
	char hex[2 * HK_STORE_SERIAL_MAX + 1], when[32], rwhen[32] = "";
	char rnote[160] = "";
	size_t el = 0, k, nref = 0;
	time_t t = hk_clock_now();
	int r;

	if (o->serial == NULL && (r = by_resident(on, store, o, s, &sl)) != 0)
		return r;
	hk_hex_encode(s, sl, hex);
	for (k = 0; hex[k]; k++)
		if (hex[k] >= 'a' && hex[k] <= 'f')
			hex[k] = (char)(hex[k] - 'a' + 'A');
	if ((r = hk_store_cert_get(store, s, sl, &c)) != 0) {
		if (r == HK_ERR_NOT_FOUND)
			hk_err_set("serial %s: no such certificate in the "
			    "store", hex);
		return r;
	}
	if (c.status != HK_CERT_VALID) {
		hk_err_set("serial %s: CPS 4-4: the certificate is %s; only a "
		    "valid certificate is revoked (a revocation is final)",
		    hex, hk_cert_status_name(c.status));
		return HK_ERR_INVALID;
	}
	/* past its notAfter it is valid no more (CPS 4-2-3; history says
	 * expired), and a revocation dated after it would be on no CRL
	 * (RFC 5280 3.3: an entry stays until the certificate expires) */
	if (c.not_after < t) {
		hk_time_format(c.not_after, when, sizeof(when));
		hk_err_set("serial %s: CPS 4-4: the certificate expired at %s "
		    "(notAfter); only a valid certificate is revoked: an "
		    "expired one is on no CRL (RFC 5280 3.3) and needs no "
		    "revocation", hex, when);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_revoke_entry(s, sl, reason, t, &ed, &el)) == 0)
		r = hk_store_cert_revoke(store, s, sl, reason, t, ed, el);
	OPENSSL_free(ed);
	if (r != 0)
		return r;
	/* the revocation's time said (the record's own is read later):
	 * recover --revocations redoes it at it (RFC 5280 5.3.2) */
	hk_time_format(t, when, sizeof(when));
	/* A revocation is final (CPS 4-4): one whose record is lost stays,
	 * and the run ends with exit 6 naming it (below) */
	if (hk_online_audit(on, "cert.revoke", "ok", "serial %s: "
	    "municipality %s, reason %d (%s); revoked at %s", hex,
	    c.municipality, reason, hk_revreq_reason_name(reason), when) != 0)
		hk_err_keep(&lost);
	else
		lost.msg[0] = '\0';
	olost.msg[0] = '\0';
	printf("Revoked serial %s (municipality %s): reason %d (%s)\n", hex,
	    c.municipality, reason, hk_revreq_reason_name(reason));
	/* the OCSP answer turns revoked now, not at the next refresh
	 * (docs/ocsp.md); serve would also sign it on demand meanwhile, as
	 * the stored status differs */
	{
		size_t n = 0;

		if (hk_ocsp_refresh_state(on, hk_clock_now(), &n) != 0) {
			fprintf(stderr, "hanko-online revoke: revoked, but the "
			    "OCSP responses were not refreshed: %s (run "
			    "hanko-online ocsp-refresh)\n", hk_err_msg());
			hk_online_audit(on, "ocsp.refresh", "fail", "%s",
			    hk_err_msg());
		} else if (n > 0 && hk_online_audit(on, "ocsp.refresh", "ok",
		    "%zu responses signed after the revocation of %s", n,
		    hex) != 0) {
			/* the responses are in place (served): kept, and
			 * the run ends with exit 6 naming them (below) */
			hk_err_keep(&olost);
			nref = n;
			hk_time_format(hk_clock_now(), rwhen, sizeof(rwhen));
		}
	}
	if (olost.msg[0] != '\0')
		snprintf(rnote, sizeof(rnote), "; nor is the ocsp.refresh "
		    "record of the %zu OCSP responses signed after it at %s "
		    "(in place, served: kept)", nref, rwhen);
	if (lost.msg[0] != '\0') {
		hk_err_set("serial %s: revoked (final, CPS 4-4: the store and "
		    "the CRLs keep it) but its cert.revoke record is not in "
		    "the audit log (%s): hand this line to the internal "
		    "auditor, who records the revocation (serial %s, reason "
		    "%d, revoked at %s) in the ceremony record%s", hex,
		    lost.msg, hex, reason, when, rnote);
		*unrecorded = 1;
		return HK_ERR_AUDIT;
	}
	if (olost.msg[0] != '\0') {
		char done[256], rec[256];

		snprintf(done, sizeof(done), "serial %s: revoked and recorded "
		    "(cert.revoke), and %zu OCSP responses signed after it at "
		    "%s and in place (served; kept)", hex, nref, rwhen);
		snprintf(rec, sizeof(rec), "the refresh (%zu responses signed "
		    "at %s after the revocation of %s)", nref, rwhen, hex);
		*unrecorded = 1;
		return hk_online_unrecorded(done, "their ocsp.refresh record is",
		    olost.msg, rec);
	}
	return 0;
}

int
cmd_revoke(int argc, char **argv)
{
	struct revoke_opts o;
	struct hk_online *on = NULL;
	struct hk_store *store = NULL;
	unsigned char s[HK_STORE_SERIAL_MAX];
	char path[4096];
	size_t sl = 0;
	int r, reason = 0, unrecorded = 0;

	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if (!o.compromise && hk_revreq_reason_parse(o.reason, &reason) != 0) {
		hk_err_set("--reason %s: CPS 4-4-4-2: only 1 key-compromise, 2 "
		    "ca-compromise, 3 affiliation-changed, 4 superseded, 5 "
		    "cessation-of-operation (no suspension, no unspecified)",
		    o.reason);
		return HK_ERR_USAGE;
	}
	if (o.serial != NULL && (r = serial_parse(o.serial, s, &sl)) != 0)
		return r;
	/* the clock (docs/clock.md): an issuing-key compromise is never
	 * refused for it, only warned (CPS 4-14-2); a dry run writes
	 * nothing */
	o.c.clock_guard = !o.compromise ? HK_ONLINE_GUARD_REFUSE :
	    o.dry_run ? HK_ONLINE_GUARD_NONE : HK_ONLINE_GUARD_WARN;
	/* the compromise mark is saved into state.conf: as its other
	 * writers, under the state lock, from a copy read under it */
	if ((r = hk_online_open(&o.c, &on)) != 0 || (o.compromise &&
	    !o.dry_run && (r = hk_online_state_lock_wait(on)) != 0))
		goto out;
	if ((r = hk_online_path(on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 || (r = hk_store_open(path, 0, &store)) != 0)
		goto out;
	if (o.compromise && o.dry_run) {
		/* counts only: nothing changes, nothing to record */
		r = compromise(on, store, &o, &unrecorded);
		goto out;
	}
	if ((r = hk_online_login(on)) != 0)
		goto out;
	if (o.compromise)
		r = compromise(on, store, &o, &unrecorded);
	else
		r = revoke_single(on, store, &o, reason, s, sl, &unrecorded);
	if (r != 0) {
		/* a revocation done whose record is lost is no failure to
		 * record as one: the message says what to do */
		if (!unrecorded)
			hk_online_audit(on, o.compromise ? "cert.revoke-all" :
			    "cert.revoke", "fail", "%s", hk_err_msg());
		hk_online_checkpoint_keep_err(on);
		goto out;
	}
	r = hk_online_checkpoint(on);
out:
	hk_store_close(store);
	hk_online_close(on);
	return r;
}

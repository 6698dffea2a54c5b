/*
 * cmd_check.c - "hanko-online check": the store's consistency, for a store
 * restored, merged or altered outside hanko's rules (docs/records.md):
 *
 *   pages       SQLite's integrity_check of the file (pages, B-trees,
 *               indexes against their tables): a problem is reported and
 *               nothing is fixed (no write into a damaged file); the
 *               operators restore the backup (docs/records.md);
 *   schema      every table, index and trigger hk_store_open makes, as it
 *               makes it; a missing index or trigger is re-created (after
 *               the double issuances are resolved, so the one-live index
 *               can hold again); altered or unexpected ones are reported;
 *   double      a resident with more than one valid certificate (CPS
 *               4-2-3: "万が一、二重発行されてしまった場合
 *               ... 発行日の新しい方の電子証明書を失効させる"): the
 *               newer ones (later notBefore, then later reservation)
 *               are revoked
 *               cessationOfOperation(5), the oldest kept;
 *   der         a valid certificate whose DER does not parse, is not the
 *               row's serial, issuer key or recorded TBSCertificate, or
 *               whose signature does not verify with its issuing CA key:
 *               reported (the store cannot tell damage from tampering;
 *               the operators compare with the backup);
 *   pending     a reservation older than --pending-age (default one hour:
 *               no run holds one that long): reported, recovered by the
 *               issue command;
 *   revocations every cert.revoke / cert.revoke-all ok record of the live
 *               audit log (verified with the token's audit key first) that
 *               the store does not hold revoked, as after a restore from a
 *               backup (docs/backup.md "Restore"; CPS 4-4): a valid one is
 *               reported with "recover --revocations" (which redoes it at
 *               the record's time), one not in the store with
 *               "recover its batch first"; never revoked here. So is each
 *               certificate a cert.issue record names (its batch's
 *               issue.start gives the generation) that a later
 *               cert.revoke-all of that generation's key revoked as a set
 *               and that is not in the store (CPS 4-4-1-3, 4-14-2: on the
 *               CRLs only once recover puts it back, revoked). A log that
 *               fails verification is a finding;
 *   compromise  an issuing generation the token marks compromised (revoke
 *               --issuing-key-compromise, hk_online_mark_lost) and
 *               state.conf does not: a state.conf restored from a backup
 *               taken before the compromise; reported with the revoke
 *               command that marks it again once the batches are
 *               recovered (issue refuses meanwhile);
 *   void        a void row whose serial the logs record as issued
 *               (cert.issue ok, then its batch's issue.done ok, or its
 *               cert.reserve ok before that run ended): signed
 *               and delivered, voided after a restore; reported with the
 *               way back (never changed: a void row is final);
 *   keys        a certificate revoked keyCompromise whose key is not in
 *               compromised_keys (issue would certify it again, CPS
 *               4-4-2-5) or whose DER does not decode, and a row of
 *               compromised_keys without a keyCompromise revocation of
 *               that key (schema 9, docs/store.md), and a valid
 *               certificate of a key compromised_keys holds (certified
 *               before schema 9, or signed while its key was being
 *               revoked): reported with the revocation to make, not
 *               changed;
 *   responder   an OCSP responder state.conf names whose certificate the
 *               store lacks (made after the backup it was restored from):
 *               put back, as publish takes responder/ from the store.
 *
 * One line per finding on stdout; the exit status is 1 when anything was
 * found (fixed or not), 0 for a consistent store. --dry-run changes
 * nothing. Fixes are one transaction, each revocation audited (cert.revoke)
 * and the run (store.check), with a checkpoint.
 *
 * Why cessationOfOperation: CPS 4-4-4-2 defines 4 superseded as
 * "電子証明書を更新した" (the holder's certificate was renewed: said
 * of the older one when a newer replaces it) and 5 as
 * "電子証明書の必要性がなくなった" (the certificate is no longer
 * needed). The duplicate is the newer one and
 * replaces nothing: the resident's older certificate stays valid, so the
 * duplicate is simply not needed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "audit.h"
#include "bundle.h"
#include "cert.h"
#include "clock.h"
#include "crl.h"
#include "err.h"
#include "hex.h"
#include "logev.h"
#include "name.h"
#include "online.h"
#include "p11.h"
#include "state.h"
#include "store.h"

#define DOUBLE_REASON	HK_REASON_CESSATION	/* see above */
#define PENDING_AGE	3600		/* seconds: older than any run */
#define MAX_ISSUERS	64		/* issuing CA certificates used */

struct check_opts {
	struct hk_online_opts c;	/* --state, --clock */
	int dry_run;			/* --dry-run: report only */
	int pending_age;		/* --pending-age SECONDS */
};

/* A certificate of a double issuance to revoke. */
struct dup {
	struct hk_store_cert c;		/* the newer certificate */
	unsigned char kept[HK_STORE_SERIAL_MAX]; /* the oldest, kept */
	size_t kept_len;
	time_t kept_nb;			/* its notBefore */
};

/* A revocation the audit log records: cert.revoke of hanko-online revoke
 * and of check ("serial S: municipality M, reason R (...)"), or of issue's
 * re-issue ("batch B, ...: OLD/MUNI/R/NEW ..."). */
struct lrev {
	char serial[2 * HK_STORE_SERIAL_MAX + 1];	/* uppercase hex */
	char muni[HK_STORE_CODE_LEN + 1];
	int reason;
	uint64_t seq;
	char time[24];
	char neu[2 * HK_STORE_SERIAL_MAX + 1];	/* re-issue: the new serial */
	char batch[17];				/* re-issue: its batch */
};

/* A cert.revoke-all: every certificate of an issuing key. */
struct lrevall {
	int gen;
	char kid[2 * HK_STORE_KEYID_MAX + 1];	/* lowercase hex */
	uint64_t seq;
	char time[24];
};

/* An issue.start: its batch (sha16) and issuing CA generation. */
struct lstart {
	char batch[17];
	int gen;
	uint64_t seq;
};

/* A certificate a cert.issue record names, of a key a later
 * cert.revoke-all revoked as a set, not in the store. */
struct lmiss {
	char serial[2 * HK_STORE_SERIAL_MAX + 1];
	char muni[HK_STORE_CODE_LEN + 1];
	char batch[17];
	int gen;
	uint64_t seq;			/* its cert.issue record */
	const struct lrevall *all;	/* the earliest after it */
};

/* A void row, and what the logs (the closed logs behind the live log,
 * then the live log) say of its serial: its first
 * cert.issue ok record (batch, seq), then what says it was committed and
 * delivered (hk_logev_issued: an issue.done ok of that batch, or its
 * cert.reserve ok before that run ended). */
struct lvoid {
	struct hk_logev_issued ev;	/* first: serial (uppercase hex), log */
	char muni[HK_STORE_CODE_LEN + 1];
};

/* A schema difference. */
struct sdiff {
	char type[16], name[64], problem[16];
	int restorable;			/* a missing index or trigger */
	int restored;			/* re-created by fix */
};

/* What a check works with and finds. */
struct check_work {
	struct hk_online *on;
	struct hk_store *store;
	const struct check_opts *o;
	struct dup *dups;		/* newer certificates to revoke */
	size_t ndups, capdups;
	unsigned char group[HK_STORE_RKEY_LEN]; /* resident being grouped */
	struct dup first;		/* the oldest of that group */
	struct sdiff *sd;		/* schema differences */
	size_t nsd, capsd;
	X509 *iss[MAX_ISSUERS];		/* the stored issuing CA certs */
	int iss_gen[MAX_ISSUERS];	/* ... their generations */
	int niss;
	time_t now;			/* the system clock (reserved_at) */
	uint64_t findings, fixed;
	int damaged;			/* integrity_check named a problem */
	uint64_t checked;		/* valid certificates read */
	struct lrev *lr;		/* the log's revocations, by serial */
	size_t nlr, caplr;
	struct lrevall *la;		/* the log's cert.revoke-all */
	size_t nla, capla;
	struct lstart *ls;		/* the log's issue.start */
	size_t nls, capls;
	struct lmiss *lm;		/* issued, revoked as a set, missing */
	size_t nlm, caplm;
	int log_bad;			/* the log failed verification */
	struct hk_logev_logs logs;	/* the closed logs the live log links
					 * back to, then it: every seq above
					 * is a place in them (hk_logev_scan) */
	struct lvoid *lv;		/* void rows, by serial */
	size_t nlv, caplv;
	struct kc_key *kc;		/* compromised_keys, in key order */
	size_t nkc, capkc;
};

/* A key of compromised_keys: its SHA-256 and the certificate revoked. */
struct kc_key {
	unsigned char sha[32];
	char hex[2 * HK_STORE_SERIAL_MAX + 1];
};

static const char check_usage[] =
"usage: hanko-online check --state DIR [--dry-run] [--pending-age SECONDS]\n";

static int
parse(struct check_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--dry-run", .flag = &o->dry_run },
		{ .name = "--pending-age", .num = &o->pending_age, .lo = 0,
		    .hi = 31622400, .rule = "seconds, 0 to 31622400 (a year)" },
		{ .name = NULL },
	};

	memset(o, 0, sizeof(*o));
	o->pending_age = PENDING_AGE;
	return hk_online_parse(&o->c, argc, argv, check_usage, args, NULL);
}

static void
serial_hex(const unsigned char *s, size_t len,
    char hex[2 * HK_STORE_SERIAL_MAX + 1])
{
	size_t k;

	hk_hex_encode(s, len, hex);
	for (k = 0; hex[k]; k++)
		if (hex[k] >= 'a' && hex[k] <= 'f')
			hex[k] = (char)(hex[k] - 'a' + 'A');
}

static int
each_schema(const char *type, const char *name, const char *problem,
    int restored, void *arg)
{
	struct check_work *w = arg;
	struct sdiff *sd;

	(void)restored;
	if (w->nsd == w->capsd) {
		size_t cap = w->capsd ? 2 * w->capsd : 16;
		if ((sd = reallocarray(w->sd, cap, sizeof(*sd))) == NULL)
			return HK_ERR_ALLOC;
		w->sd = sd;
		w->capsd = cap;
	}
	sd = &w->sd[w->nsd++];
	snprintf(sd->type, sizeof(sd->type), "%s", type);
	snprintf(sd->name, sizeof(sd->name), "%s", name);
	snprintf(sd->problem, sizeof(sd->problem), "%s", problem);
	sd->restorable = strcmp(problem, "missing") == 0 &&
	    (strcmp(type, "index") == 0 || strcmp(type, "trigger") == 0);
	return 0;
}

/* Rows come grouped by resident, oldest first: keep the first of each
 * group, collect the rest. */
static int
each_double(const struct hk_store_cert *c, void *arg)
{
	struct check_work *w = arg;
	struct dup *d;

	if (w->first.c.serial_len == 0 || memcmp(w->group, c->resident_key,
	    HK_STORE_RKEY_LEN) != 0) {
		memcpy(w->group, c->resident_key, HK_STORE_RKEY_LEN);
		w->first.c = *c;
		return 0;
	}
	if (w->ndups == w->capdups) {
		size_t cap = w->capdups ? 2 * w->capdups : 16;
		if ((d = reallocarray(w->dups, cap, sizeof(*d))) == NULL)
			return HK_ERR_ALLOC;
		w->dups = d;
		w->capdups = cap;
	}
	d = &w->dups[w->ndups++];
	d->c = *c;
	memcpy(d->kept, w->first.c.serial, w->first.c.serial_len);
	d->kept_len = w->first.c.serial_len;
	d->kept_nb = w->first.c.not_before;
	return 0;
}

/* Revoke the newer certificates of every double issuance (in the caller's
 * transaction). */
static int
revoke_doubles(struct check_work *w, time_t t)
{
	unsigned char *der = NULL;
	size_t i, dl;
	int r = 0;

	for (i = 0; i < w->ndups && r == 0; i++) {
		if ((r = hk_store_revoke_entry(w->dups[i].c.serial,
		    w->dups[i].c.serial_len, DOUBLE_REASON, t, &der,
		    &dl)) != 0)
			break;
		r = hk_store_cert_revoke(w->store, w->dups[i].c.serial,
		    w->dups[i].c.serial_len, DOUBLE_REASON, t, der, dl);
		OPENSSL_free(der);
		der = NULL;
	}
	return r;
}

static int
each_restored(const char *type, const char *name, const char *problem,
    int restored, void *arg)
{
	struct check_work *w = arg;
	size_t i;

	(void)problem;
	for (i = 0; i < w->nsd; i++)
		if (strcmp(w->sd[i].type, type) == 0 &&
		    strcmp(w->sd[i].name, name) == 0)
			w->sd[i].restored = restored;
	return 0;
}

/* Print (and audit, once committed) the schema and double findings. */
static void
report_fixable(struct check_work *w, time_t t, int fixed)
{
	char hex[2 * HK_STORE_SERIAL_MAX + 1];
	char kept[2 * HK_STORE_SERIAL_MAX + 1];
	char who[9], nb[32], kb[32], when[32];
	const char *rn = hk_revreq_reason_name(DOUBLE_REASON);
	size_t i;

	for (i = 0; i < w->nsd; i++) {
		struct sdiff *sd = &w->sd[i];
		int done = fixed && sd->restored;
		printf("schema: %s %s: %s%s\n", sd->type, sd->name,
		    sd->problem, done ? "; re-created as hk_store_open makes "
		    "it" : !sd->restorable ? "; not changed (the operators "
		    "decide)" : fixed ? "; could not be re-created (rows "
		    "break it)" : "; would be re-created");
		if (done) {
			hk_online_audit(w->on, "store.schema", "ok", "%s %s: "
			    "missing; re-created", sd->type, sd->name);
			w->fixed++;
		}
		w->findings++;
	}
	for (i = 0; i < w->ndups; i++) {
		struct dup *d = &w->dups[i];
		serial_hex(d->c.serial, d->c.serial_len, hex);
		serial_hex(d->kept, d->kept_len, kept);
		hk_hex_encode(d->c.resident_key, 4, who);
		hk_time_format(d->c.not_before, nb, sizeof(nb));
		hk_time_format(d->kept_nb, kb, sizeof(kb));
		printf("double: resident %s: CPS 4-2-3: serial %s "
		    "(municipality %s, issued %s) %s reason %d (%s); serial "
		    "%s (issued %s) kept\n", who, hex, d->c.municipality, nb,
		    fixed ? "revoked" : "would be revoked", DOUBLE_REASON, rn,
		    kept, kb);
		if (fixed) {
			/* the revocation's time (fix's, read before the
			 * record's): recover --revocations redoes it at it */
			hk_time_format(t, when, sizeof(when));
			hk_online_audit(w->on, "cert.revoke", "ok",
			    "serial %s: municipality %s, reason %d (%s): CPS "
			    "4-2-3 double issuance of resident %s (keyed "
			    "hash); serial %s kept; revoked at %s", hex,
			    d->c.municipality, DOUBLE_REASON, rn, who, kept,
			    when);
			w->fixed++;
		}
		w->findings++;
	}
}

/* The fixes, in one transaction: revocations first, so that the one-live
 * index can be re-created. */
static int
fix(struct check_work *w, time_t t)
{
	size_t i;
	int r, restore = 0;

	for (i = 0; i < w->nsd; i++)
		restore |= w->sd[i].restorable;
	if (w->ndups == 0 && !restore)
		return 0;
	if ((r = hk_store_begin(w->store)) != 0)
		return r;
	if ((r = revoke_doubles(w, t)) != 0 || (restore &&
	    (r = hk_store_schema_check(w->store, 1, each_restored,
	    w)) != 0) || (r = hk_store_commit(w->store)) != 0) {
		hk_store_rollback(w->store);
		return r;
	}
	return 0;
}

static int
each_issuing(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct check_work *w = arg;
	const unsigned char *p = der;
	X509 *x;

	if (w->niss == MAX_ISSUERS)
		return 0;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		X509_free(x);
		ERR_clear_error();
		return 0;		/* not ours to judge here */
	}
	w->iss_gen[w->niss] = gen;
	w->iss[w->niss++] = x;
	return 0;
}

/* ---- responders state.conf names (docs/backup.md "Restore", step 7) ---- */

struct resp_find {
	const unsigned char *der;
	size_t len;
	int found;
};

static int
each_responder(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct resp_find *f = arg;

	(void)gen;
	if (len == f->len && memcmp(der, f->der, len) == 0)
		f->found = 1;
	return 0;
}

/*
 * An OCSP responder state.conf names whose certificate the store does not
 * hold: made by responder after the backup the store was restored from,
 * its state.conf and certificate kept from the damaged folder (docs/backup.md
 * "Restore", step 7). publish takes responder/ from the store, so it would
 * never be published (CPS 2-8-2). Put back (generation n, as responder
 * stores it) when a stored issuing CA certificate signed it; reported only
 * otherwise.
 */
static int
responders(struct check_work *w)
{
	char k[64], path[4096];
	const char *rel, *why;
	struct resp_find f;
	unsigned char *der;
	char *subject;
	X509 *x;
	int n, i, len, r = 0, signed_ok;

	for (n = 1; n <= 999 && r == 0; n++) {
		snprintf(k, sizeof(k), "responder.%d.cert", n);
		if ((rel = hk_state_get(w->on->st, k)) == NULL)
			continue;
		if (hk_online_path(w->on, rel, path, sizeof(path)) != 0 ||
		    hk_cert_read(path, &x) != 0) {
			hk_err_clear();
			continue;	/* ocsp-refresh and serve name it */
		}
		der = NULL;
		if ((len = i2d_X509(x, &der)) <= 0) {
			X509_free(x);
			return HK_ERR_CRYPTO;
		}
		memset(&f, 0, sizeof(f));
		f.der = der;
		f.len = (size_t)len;
		if ((r = hk_store_ca_each(w->store, HK_CA_RESPONDER,
		    each_responder, &f)) != 0 || f.found)
			goto next;
		for (i = 0, signed_ok = 0; i < w->niss && !signed_ok; i++)
			signed_ok = X509_verify(x,
			    X509_get0_pubkey(w->iss[i])) == 1;
		ERR_clear_error();
		why = !signed_ok ? "not put back: no stored issuing CA "
		    "certificate signed it" : w->o->dry_run ? "would be put "
		    "back" : "put back";
		if (signed_ok && !w->o->dry_run) {
			subject = hk_name_print(X509_get_subject_name(x));
			r = hk_store_ca_add(w->store, HK_CA_RESPONDER, n,
			    subject ? subject : "?", der, (size_t)len, 0);
			free(subject);
			if (r != 0)
				goto next;
			hk_online_audit(w->on, "store.responder", "ok",
			    "OCSP responder %d (%s): named by state.conf, not "
			    "in the store: put back", n, rel);
			w->fixed++;
		}
		printf("responder: OCSP responder %d (%s): state.conf names "
		    "it, the store does not hold its certificate (made after "
		    "the backup the store was restored from?): publish leaves "
		    "it out of the repository's responder/ (CPS 2-8-2); %s\n",
		    n, rel, why);
		w->findings++;
 next:
		OPENSSL_free(der);
		X509_free(x);
	}
	return r;
}

/* The issuing CA certificate whose SKI is the row's issuer, or NULL. */
static X509 *
issuer_of(struct check_work *w, const struct hk_store_cert *c)
{
	ASN1_OCTET_STRING *ski;
	X509 *found = NULL;
	int i;

	for (i = 0; i < w->niss && found == NULL; i++) {
		if ((ski = hk_cert_ski(w->iss[i])) == NULL)
			continue;
		if ((size_t)ski->length == c->issuer_len &&
		    memcmp(ski->data, c->issuer, c->issuer_len) == 0)
			found = w->iss[i];
		ASN1_OCTET_STRING_free(ski);
	}
	return found;
}

/* The TBSCertificate's bytes as they are in the certificate's DER (the
 * outer SEQUENCE's first element, header included): 0, or -1 when der is
 * not a SEQUENCE holding one. */
static int
tbs_of(const unsigned char *der, size_t len, const unsigned char **tb,
    long *tl)
{
	const unsigned char *p = der, *q;
	long ol, il;
	int tag, cls;

	if ((ASN1_get_object(&p, &ol, &tag, &cls, (long)len) & 0x80) != 0 ||
	    tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL)
		return -1;
	q = p;
	if ((ASN1_get_object(&q, &il, &tag, &cls, ol) & 0x80) != 0 ||
	    tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL)
		return -1;
	*tb = p;
	*tl = (long)(q - p) + il;
	return 0;
}

/* What is wrong with a valid row's DER, or NULL. */
static const char *
der_problem(struct check_work *w, const struct hk_store_cert *c,
    const unsigned char *der, size_t len, X509 **xp)
{
	const unsigned char *p = der;
	unsigned char sb[HK_STORE_SERIAL_MAX];
	ASN1_OCTET_STRING *aki = NULL;
	const char *why = NULL;
	BIGNUM *bn = NULL;
	const unsigned char *tb;
	X509 *x, *iss;
	long tl;
	int n;

	if (der == NULL || len == 0 || (x = d2i_X509(NULL, &p,
	    (long)len)) == NULL) {
		ERR_clear_error();
		return "der: does not parse as an X.509 certificate";
	}
	*xp = x;
	if (p != der + len)
		return "der: trailing bytes after the certificate";
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x),
	    NULL)) == NULL || BN_is_negative(bn) || (n = BN_num_bytes(bn)) <
	    1 || n > HK_STORE_SERIAL_MAX || BN_bn2bin(bn, sb) != n ||
	    (size_t)n != c->serial_len || memcmp(sb, c->serial, (size_t)n) !=
	    0)
		why = "der: its serialNumber is not the row's serial";
	else if ((aki = hk_cert_aki_keyid(x)) == NULL || (size_t)aki->length !=
	    c->issuer_len || memcmp(aki->data, c->issuer, c->issuer_len) != 0)
		why = "der: its authorityKeyIdentifier is not the row's issuer";
	else if (c->tbs != NULL && (tbs_of(der, len, &tb, &tl) != 0 ||
	    (size_t)tl != c->tbs_len || memcmp(tb, c->tbs, c->tbs_len) != 0))
		/* the stored bytes themselves: a re-encoding of what they
		 * decode to would hide a non-canonical TBSCertificate whose
		 * signature fails for every relying party */
		why = "der: its TBSCertificate is not the one recorded before "
		    "signing";
	else if ((iss = issuer_of(w, c)) == NULL)
		why = "issuer: no issuing CA certificate of this key in the "
		    "store";
	else if (X509_verify(x, X509_get0_pubkey(iss)) != 1)
		/* X509_verify: 1 good, 0 bad, -1 error */
		why = "der: the signature does not verify with the issuing CA "
		    "key";
	ASN1_OCTET_STRING_free(aki);
	BN_free(bn);
	ERR_clear_error();
	return why;
}

/* ---- revocations the audit log records (docs/backup.md "Restore") ---- */

/* A record's place in the logs for a message: "N" in the live log, "N of
 * the closed log PATH" in a closed one (hk_logev_at). */
#define AT(w, at)	hk_logev_at(&(w)->logs, (at))

static int
add_lrev(struct check_work *w, const char *serial, size_t sl,
    const char *muni, size_t ml, int reason, const struct hk_audit_record *rec,
    const char *neu, size_t nl, const char *batch)
{
	struct lrev *e;

	if (!hk_logev_serial_ok(serial, sl) || ml > HK_STORE_CODE_LEN ||
	    reason < 1 || reason > 5)
		return 0;	/* not an entry as revoke or issue writes it */
	if (w->nlr == w->caplr) {
		size_t cap = w->caplr ? 2 * w->caplr : 64;

		if ((e = reallocarray(w->lr, cap, sizeof(*e))) == NULL)
			return HK_ERR_ALLOC;
		w->lr = e;
		w->caplr = cap;
	}
	e = &w->lr[w->nlr++];
	memset(e, 0, sizeof(*e));
	memcpy(e->serial, serial, sl);
	memcpy(e->muni, muni, ml);
	e->reason = reason;
	e->seq = rec->seq;
	snprintf(e->time, sizeof(e->time), "%s", rec->time);
	if (neu != NULL) {
		memcpy(e->neu, neu, nl);
		snprintf(e->batch, sizeof(e->batch), "%.16s", batch);
	}
	return 0;
}

/* "serial S: municipality M, reason R (NAME)..." (revoke, check) */
static int
rec_single(struct check_work *w, const char *d,
    const struct hk_audit_record *rec)
{
	const char *s, *m;
	size_t sl, ml;
	int reason;

	if (!hk_logev_revoke_serial(d, &s, &sl, &m, &ml, &reason) ||
	    memchr(m, ',', ml) != NULL)
		return 0;	/* check's own: M ends at its first ',' */
	return add_lrev(w, s, sl, m, ml, reason, rec, NULL, 0, NULL);
}

/* "batch B, CPS 4-4-1-1 re-issue, old/municipality/reason/new[; revoked at T] (N): OLD/MUNI/R/NEW ..."
 * (issue --replace): each OLD revoked with reason R */
static int
rec_reissue(struct check_work *w, const char *d,
    const struct hk_audit_record *rec)
{
	const char *e, *f[4];
	size_t fl[4], n, k;
	int r = 0;

	if (strncmp(d, "batch ", 6) != 0 || (e = strstr(d, "): ")) == NULL)
		return 0;
	for (e += 3; *e != '\0' && r == 0; e += n, e += *e == ' ') {
		const char *q = e, *end;

		n = strcspn(e, " ");
		end = e + n;
		for (k = 0; k < 4; k++) {
			const char *sl = memchr(q, '/', (size_t)(end - q));

			f[k] = q;
			fl[k] = (size_t)((sl != NULL ? sl : end) - q);
			if (sl == NULL)
				break;
			q = sl + 1;
		}
		if (k != 3 || fl[2] != 1 || !hk_logev_serial_ok(f[3], fl[3]))
			continue;
		r = add_lrev(w, f[0], fl[0], f[1], fl[1], f[2][0] - '0', rec,
		    f[3], fl[3], d + 6);
	}
	return r;
}

/* "issuing generation G key id K: ..." (revoke --issuing-key-compromise) */
static int
rec_all(struct check_work *w, const char *d,
    const struct hk_audit_record *rec)
{
	struct lrevall *e;
	const char *k;
	size_t kl;
	int gen;

	if (!hk_logev_revoke_all(d, &gen, &k, &kl))
		return 0;
	if (w->nla == w->capla) {
		size_t cap = w->capla ? 2 * w->capla : 4;

		if ((e = reallocarray(w->la, cap, sizeof(*e))) == NULL)
			return HK_ERR_ALLOC;
		w->la = e;
		w->capla = cap;
	}
	e = &w->la[w->nla++];
	memset(e, 0, sizeof(*e));
	e->gen = gen;
	memcpy(e->kid, k, kl);
	e->seq = rec->seq;
	snprintf(e->time, sizeof(e->time), "%s", rec->time);
	return 0;
}

/* issue.start's "batch FILE sha256 HEX[ (--replace)]: ..., issuing CA
 * generation G" (cmd_issue.c): the batch's first 16 hex digits (as its
 * cert.issue records name it) and G. */
static int
rec_start(struct check_work *w, const char *d,
    const struct hk_audit_record *rec)
{
	struct lstart *e;
	const char *h;
	long gen;

	if ((h = hk_logev_start_sha(d)) == NULL ||
	    (gen = hk_logev_start_gen(h)) < 0 || gen > 999)
		return 0;	/* not issue's form */
	if (w->nls == w->capls) {
		size_t cap = w->capls ? 2 * w->capls : 16;

		if ((e = reallocarray(w->ls, cap, sizeof(*e))) == NULL)
			return HK_ERR_ALLOC;
		w->ls = e;
		w->capls = cap;
	}
	e = &w->ls[w->nls++];
	memset(e, 0, sizeof(*e));
	memcpy(e->batch, h + 8, 16);
	e->gen = (int)gen;
	e->seq = rec->seq;
	return 0;
}

static int
each_record(const struct hk_audit_record *rec, void *arg)
{
	struct check_work *w = arg;
	int all, r;
	char *d;

	if (strcmp(rec->result, "ok") != 0)
		return 0;
	if (strcmp(rec->event, "cert.revoke-all") == 0)
		all = 1;
	else if (strcmp(rec->event, "cert.revoke") == 0)
		all = 0;
	else if (strcmp(rec->event, "issue.start") == 0)
		all = 2;
	else
		return 0;
	if ((d = hk_logev_details(rec)) == NULL)
		return HK_ERR_ALLOC;
	if (all == 2)
		r = rec_start(w, d, rec);
	else if (all)
		r = rec_all(w, d, rec);
	else if ((r = rec_single(w, d, rec)) == 0)
		r = rec_reissue(w, d, rec);
	free(d);
	return r;
}

static int
lrev_cmp(const void *a, const void *b)
{
	const struct lrev *x = a, *y = b;
	int c = strcmp(x->serial, y->serial);

	return c != 0 ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The last record of serial (hex) and the first one's index, or NULL. */
static const struct lrev *
lrev_find(const struct check_work *w, const char *hex, size_t *first,
    size_t *n)
{
	size_t lo = 0, hi = w->nlr, m;

	*n = 0;
	while (lo < hi) {
		m = lo + (hi - lo) / 2;
		if (strcmp(w->lr[m].serial, hex) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	*first = lo;
	while (lo + *n < w->nlr && strcmp(w->lr[lo + *n].serial, hex) == 0)
		(*n)++;
	return *n > 0 ? &w->lr[lo + *n - 1] : NULL;
}

/*
 * The live audit log, its checkpoints verified with the token's audit key
 * (as recover reads it: the chain alone is rebuilt by anyone who can write
 * the file), and the closed logs it links back to (docs/audit-log.md
 * "Retention"), each verified with the same key and its link checked:
 * after a yearly close the records between the backup and the close are
 * only there. Then their revocation records collected, oldest log first.
 * A log that fails is a finding, named: its revocations are then not
 * compared.
 */
static int
log_read(struct check_work *w)
{
	struct hk_audit_report rep;
	const char *bad = w->on->audit_log;
	int r;

	if ((r = hk_online_audit_verify(w->on, &rep)) != 0 &&
	    r != HK_ERR_AUDIT)
		return r;
	if (r == 0) {
		r = hk_online_logs_open(w->on, &rep, "hanko-online check",
		    &w->logs);
		if (r != 0 && r != HK_ERR_AUDIT)
			return r;
		if (r != 0) {
			/* the closed log named in the detail */
			snprintf(rep.reason, sizeof(rep.reason), "%s",
			    hk_err_msg());
			bad = "a closed log it links back to";
		}
	}
	if (r == 0 && (r = hk_logev_scan(&w->logs, each_record, w)) != 0 &&
	    r != HK_ERR_AUDIT)
		return r;
	if (r != 0 && w->logs.failed != NULL) {
		bad = w->logs.failed;
		rep.reason[0] = '\0';
	}
	if (r != 0) {
		printf("audit: %s: fails verification with the token's audit "
		    "key (%s): the revocations it records are not compared "
		    "with the store; docs/backup.md \"Restore\", step 6\n",
		    bad, rep.reason[0] ? rep.reason : hk_err_msg());
		w->findings++;
		w->log_bad = 1;
		w->nlr = w->nla = w->nls = 0;
		return 0;
	}
	if (w->nlr > 1)
		qsort(w->lr, w->nlr, sizeof(*w->lr), lrev_cmp);
	return 0;
}

/* The store's row of an uppercase hex serial: 0, HK_ERR_NOT_FOUND, or -1
 * for a serial no row can have (an odd number of digits). */
static int
get_hex(struct check_work *w, const char *hex, struct hk_store_cert *c)
{
	unsigned char s[HK_STORE_SERIAL_MAX];
	char low[2 * HK_STORE_SERIAL_MAX + 1];
	size_t k, sl = strlen(hex);

	if (sl % 2 != 0)
		return -1;	/* issue and revoke write whole bytes */
	for (k = 0; k <= sl; k++)
		low[k] = (char)(hex[k] >= 'A' ? hex[k] - 'A' + 'a' : hex[k]);
	if (hk_hex_decode(low, s, sl / 2) != 0)
		return -1;
	memset(c, 0, sizeof(*c));
	return hk_store_cert_get(w->store, s, sl / 2, c);
}

/* A valid certificate the log says was revoked (by serial or by its
 * issuing key): a finding each, with the command that redoes the record
 * at its time (recover --revocations: revoke would date it now, later
 * than the CRLs relying parties saw, RFC 5280 5.3.2). */
static void
valid_revoked(struct check_work *w, const struct hk_store_cert *c)
{
	char hex[2 * HK_STORE_SERIAL_MAX + 1];
	char kid[2 * HK_STORE_KEYID_MAX + 1];
	struct hk_store_cert nc;
	const struct lrev *e;
	size_t first, n, i;

	serial_hex(c->serial, c->serial_len, hex);
	if ((e = lrev_find(w, hex, &first, &n)) != NULL && e->neu[0] != '\0' &&
	    get_hex(w, e->neu, &nc) == HK_ERR_NOT_FOUND) {
		/* recover puts the new one back and revokes this one with
		 * the record's reason and time, as issue did */
		printf("revocation: serial %s (municipality %s): valid in the "
		    "store, but the audit log's cert.revoke seq %s"
		    " (%s) revoked it reason %d (%s) when batch %s re-issued it "
		    "as serial %s, which is not in the store: recover that "
		    "batch first (hanko-online recover, docs/backup.md "
		    "\"Restore\"): it revokes this one\n", hex, c->municipality,
		    AT(w, e->seq), e->time, e->reason, hk_revreq_reason_name(e->reason),
		    e->batch, e->neu);
		w->findings++;
		return;
	}
	if (e != NULL) {
		printf("revocation: serial %s (municipality %s): valid in the "
		    "store, but the audit log's cert.revoke seq %s"
		    " (%s) revoked it reason %d (%s); redo it at the record's "
		    "time: hanko-online recover --state %s --revocations\n",
		    hex, c->municipality, AT(w, e->seq), e->time, e->reason,
		    hk_revreq_reason_name(e->reason), w->o->c.state);
		w->findings++;
		return;
	}
	hk_hex_encode(c->issuer, c->issuer_len, kid);
	for (i = 0; i < w->nla; i++)
		if (strcmp(w->la[i].kid, kid) == 0) {
			printf("revocation: serial %s (municipality %s): valid "
			    "in the store, but the audit log's cert.revoke-all "
			    "seq %s (%s) revoked every certificate of "
			    "issuing generation %d (key id %s) reason 2 "
			    "(ca-compromise); redo it at the record's time: "
			    "hanko-online recover --state %s --revocations\n",
			    hex, c->municipality, AT(w, w->la[i].seq),
			    w->la[i].time,
			    w->la[i].gen, kid, w->o->c.state);
			w->findings++;
			return;
		}
}

/* Every serial the log revoked that the store does not hold revoked (the
 * valid ones are each_valid's): not in the store (issued after the
 * backup, not yet recovered), or pending or void. A revoked one with
 * another reason than every record's is a note, not a finding: it is
 * revoked (relying parties refuse it) and a revocation is final. */
static int
log_compare(struct check_work *w)
{
	struct hk_store_cert c;
	size_t i = 0, first, n, k;
	const struct lrev *e;
	int r, same;

	while (i < w->nlr) {
		e = lrev_find(w, w->lr[i].serial, &first, &n);
		i = first + n;
		if ((r = get_hex(w, e->serial, &c)) == -1)
			continue;
		if (r == HK_ERR_NOT_FOUND) {
			printf("revocation: serial %s (municipality %s): not in "
			    "the store, but the audit log's cert.revoke seq %s"
			    " (%s) revoked it reason %d (%s): issued "
			    "after the backup; not in the store: recover its "
			    "batch first (hanko-online recover, docs/backup.md "
			    "\"Restore\"), then run check again\n", e->serial,
			    e->muni, AT(w, e->seq), e->time, e->reason,
			    hk_revreq_reason_name(e->reason));
			w->findings++;
			continue;
		}
		if (r != 0)
			return r;
		if (c.status == HK_CERT_VALID)
			continue;	/* each_valid's */
		if (c.status != HK_CERT_REVOKED) {
			printf("revocation: serial %s (municipality %s): %s in "
			    "the store, but the audit log's cert.revoke seq %s"
			    " (%s) revoked it reason %d (%s) as a valid "
			    "certificate; not changed (compare with the "
			    "backup)\n", e->serial, c.municipality,
			    hk_cert_status_name(c.status), AT(w, e->seq), e->time,
			    e->reason, hk_revreq_reason_name(e->reason));
			w->findings++;
			continue;
		}
		for (same = 0, k = first; k < first + n; k++)
			same |= w->lr[k].reason == c.reason;
		if (!same)
			printf("note: serial %s (municipality %s): revoked "
			    "reason %d (%s) in the store; the audit log's "
			    "cert.revoke seq %s (%s) says reason %d "
			    "(%s); a revocation is final: not changed\n",
			    e->serial, c.municipality, c.reason,
			    hk_revreq_reason_name(c.reason), AT(w, e->seq), e->time,
			    e->reason, hk_revreq_reason_name(e->reason));
	}
	return 0;
}

/* The key id of a cert.revoke-all is the key of generation gen: the
 * store's issuing CA certificates of gen have that SKI (revoke takes it
 * from them); with none of gen stored, the record's generation says it. */
static int
kid_of_gen(const struct check_work *w, int gen, const char *kid)
{
	char hex[2 * HK_STORE_KEYID_MAX + 1];
	ASN1_OCTET_STRING *ski;
	int i, any = 0, same = 0;

	for (i = 0; i < w->niss; i++) {
		if (w->iss_gen[i] != gen || (ski = hk_cert_ski(w->iss[i])) ==
		    NULL)
			continue;
		any = 1;
		if (ski->length >= 1 && ski->length <= HK_STORE_KEYID_MAX) {
			hk_hex_encode(ski->data, (size_t)ski->length, hex);
			same |= strcmp(hex, kid) == 0;
		}
		ASN1_OCTET_STRING_free(ski);
	}
	return !any || same;
}

/* The generation of batch (sha16)'s issue.start last before seq, or -1. */
static int
gen_at(const struct check_work *w, const char *batch, uint64_t seq)
{
	size_t i;
	int gen = -1;

	for (i = 0; i < w->nls && w->ls[i].seq < seq; i++)
		if (strncmp(w->ls[i].batch, batch, 16) == 0)
			gen = w->ls[i].gen;
	return gen;
}

/* cert.issue "batch B, serial/municipality/line (N): S/M/L ...": each S
 * issued under generation G (B's issue.start) that a later
 * cert.revoke-all of G's key revoked, not in the store, kept. */
static int
each_issued(const struct hk_audit_record *rec, void *arg)
{
	struct check_work *w = arg;
	const struct lrevall *all;
	struct hk_store_cert c;
	const char *e;
	char *d, batch[17];
	size_t n, k, sl, ml;
	int gen, r = 0;

	if (strcmp(rec->event, "cert.issue") != 0 || strcmp(rec->result,
	    "ok") != 0 || rec->dlen < 23 || memcmp(rec->details, "batch ",
	    6) != 0)
		return 0;
	memcpy(batch, rec->details + 6, 16);
	batch[16] = '\0';
	if (strspn(batch, "0123456789abcdef") != 16 ||
	    (gen = gen_at(w, batch, rec->seq)) < 0)
		return 0;	/* not tied to a key: not named */
	for (all = NULL, k = 0; k < w->nla && all == NULL; k++)
		if (w->la[k].seq > rec->seq && w->la[k].gen == gen &&
		    kid_of_gen(w, gen, w->la[k].kid))
			all = &w->la[k];
	if (all == NULL)
		return 0;
	if ((d = hk_logev_details(rec)) == NULL)
		return HK_ERR_ALLOC;
	if ((e = strstr(d, "): ")) == NULL)
		goto out;
	for (e += 3; *e != '\0' && r == 0; e += n, e += *e == ' ') {
		const char *a, *b;
		struct lmiss *m;

		n = strcspn(e, " ");
		if ((a = memchr(e, '/', n)) == NULL || (b = memchr(a + 1, '/',
		    n - (size_t)(a + 1 - e))) == NULL)
			continue;
		sl = (size_t)(a - e);
		ml = (size_t)(b - a - 1);
		if (!hk_logev_serial_ok(e, sl) || ml > HK_STORE_CODE_LEN)
			continue;
		if (w->nlm == w->caplm) {
			size_t cap = w->caplm ? 2 * w->caplm : 16;

			if ((m = reallocarray(w->lm, cap, sizeof(*m))) ==
			    NULL) {
				r = HK_ERR_ALLOC;
				break;
			}
			w->lm = m;
			w->caplm = cap;
		}
		m = &w->lm[w->nlm];
		memset(m, 0, sizeof(*m));
		memcpy(m->serial, e, sl);
		if ((r = get_hex(w, m->serial, &c)) != HK_ERR_NOT_FOUND) {
			r = r == -1 ? 0 : r;	/* in the store: elsewhere */
			continue;
		}
		r = 0;
		hk_err_clear();
		memcpy(m->muni, a + 1, ml);
		memcpy(m->batch, batch, sizeof(m->batch));
		m->gen = gen;
		m->seq = rec->seq;
		m->all = all;
		w->nlm++;
	}
out:
	free(d);
	return r;
}

static int
lmiss_cmp(const void *a, const void *b)
{
	const struct lmiss *x = a, *y = b;
	int c = strcmp(x->serial, y->serial);

	return c != 0 ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The certificates of a key revoked as a set (CPS 4-4-1-3) that the store
 * lacks: the cert.revoke-all record names no serial, the cert.issue
 * records do, their batch's issue.start the generation (the records carry
 * no key id; the generation's is the stored issuing CA certificate's).
 * A second pass over the log, only when it has a cert.revoke-all.
 */
static int
issued_compare(struct check_work *w)
{
	const struct lmiss *m;
	size_t i, first, n;
	int r;

	if (w->log_bad || w->nla == 0)
		return 0;
	if ((r = hk_logev_scan(&w->logs, each_issued, w)) != 0)
		return r;
	if (w->nlm > 1)
		qsort(w->lm, w->nlm, sizeof(*w->lm), lmiss_cmp);
	for (i = 0; i < w->nlm; i++) {
		m = &w->lm[i];
		if (i > 0 && strcmp(m->serial, w->lm[i - 1].serial) == 0)
			continue;	/* its first cert.issue named it */
		/* revoked before the set (a re-issue, revoke): the set did not
		 * revoke it; log_compare names it with its own record */
		if (lrev_find(w, m->serial, &first, &n) != NULL &&
		    w->lr[first].seq < m->all->seq)
			continue;
		printf("revocation: serial %s (municipality %s): not in the "
		    "store, but the audit log's cert.issue seq %s"
		    " (batch %s, issuing generation %d) issued it and "
		    "cert.revoke-all seq %s (%s) revoked every "
		    "certificate of issuing generation %d (key id %s) reason 2 "
		    "(ca-compromise): issued after the backup; not in the "
		    "store: recover its batch first (hanko-online recover, "
		    "docs/backup.md \"Restore\": it puts it back revoked), then "
		    "run check again\n", m->serial, m->muni, AT(w, m->seq),
		    m->batch, m->gen, AT(w, m->all->seq), m->all->time,
		    m->all->gen,
		    m->all->kid);
		w->findings++;
	}
	return 0;
}

static int
each_void(const struct hk_store_cert *c, const unsigned char *der,
    size_t len, time_t reserved_at, void *arg)
{
	struct check_work *w = arg;
	struct lvoid *v;

	(void)der;
	(void)len;
	(void)reserved_at;
	if (w->nlv == w->caplv) {
		size_t cap = w->caplv ? 2 * w->caplv : 16;

		if ((v = reallocarray(w->lv, cap, sizeof(*v))) == NULL)
			return HK_ERR_ALLOC;
		w->lv = v;
		w->caplv = cap;
	}
	v = &w->lv[w->nlv++];
	memset(v, 0, sizeof(*v));
	serial_hex(c->serial, c->serial_len, v->ev.hex);
	snprintf(v->muni, sizeof(v->muni), "%s", c->municipality);
	return 0;
}

static int
lvoid_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lvoid *)a)->ev.hex,
	    ((const struct lvoid *)b)->ev.hex);
}

/*
 * A void row whose serial the logs record as issued (cert.issue ok)
 * and delivered (issue.done ok of its batch after it, or a cert.reserve ok
 * of its batch before that run ended: the run went on past its commit and
 * wrote it into results.csv even if it failed later; hk_logev_issued):
 * signed, committed and delivered in the lost store, void in this one, as
 * when revoke --issuing-key-compromise ran on a restored store before recover
 * (docs/backup.md "Restore", step 9). Its resident holds it, no CRL lists
 * it and a void row never changes: a finding, with the way back. (A void
 * row of a crash, cert.issue written and the run killed before its commit,
 * has neither: never delivered, not named.)
 */
static int
void_compare(struct check_work *w)
{
	const struct lvoid *v;
	size_t i;
	int r;

	if (w->log_bad)
		return 0;
	if ((r = hk_store_cert_each(w->store, HK_CERT_VOID, each_void,
	    w)) != 0 || w->nlv == 0)
		return r;
	qsort(w->lv, w->nlv, sizeof(*w->lv), lvoid_cmp);
	if ((r = hk_logev_issued(&w->logs, w->lv, w->nlv,
	    sizeof(*w->lv), NULL)) != 0)
		return r;
	for (i = 0; i < w->nlv; i++) {
		v = &w->lv[i];
		if (v->ev.done == 0)
			continue;
		printf("void: serial %s (municipality %s): void in the store, "
		    "but the audit log's cert.issue seq %s (batch %s) "
		    "signed it and %s seq %s%s: "
		    "issued to its resident, on no CRL, and a void row never "
		    "changes (voided by revoke --issuing-key-compromise before "
		    "its batch was recovered?); restore the state from the "
		    "backup again, recover the batches first, then redo the "
		    "revocations (docs/backup.md \"Restore\", step 9)\n",
		    v->ev.hex, v->muni, AT(w, v->ev.issued), v->ev.batch,
		    strcmp(v->ev.event, "cert.reserve") == 0 ? "cert.reserve" :
		    "issue.done ok", AT(w, v->ev.done), strcmp(v->ev.event,
		    "cert.reserve") == 0 ? ": the run went on past its commit" :
		    " ended that run");
		w->findings++;
	}
	return 0;
}

static int
kc_cmp(const void *a, const void *b)
{
	return memcmp(a, ((const struct kc_key *)b)->sha, 32);
}

/* A valid certificate x of a key compromised_keys holds (CPS 4-4-2-5: a
 * compromised key is never certified): named, with the revocation. */
static void
valid_compromised(struct check_work *w, const struct hk_store_cert *c, X509 *x)
{
	const struct kc_key *k;
	const unsigned char *pk;
	unsigned char sha[32];
	char hex[2 * HK_STORE_SERIAL_MAX + 1];
	int pklen;

	/* one expired is valid no more (revoke refuses it, CPS 4-4) */
	if (w->nkc == 0 || x == NULL || c->not_after < hk_clock_now() ||
	    X509_PUBKEY_get0_param(NULL, &pk,
	    &pklen, NULL, X509_get_X509_PUBKEY(x)) != 1 || pklen <= 0)
		return;
	SHA256(pk, (size_t)pklen, sha);
	if ((k = bsearch(sha, w->kc, w->nkc, sizeof(*w->kc), kc_cmp)) == NULL)
		return;
	serial_hex(c->serial, c->serial_len, hex);
	printf("compromised key: serial %s (municipality %s): valid, its key "
	    "that of certificate %s, revoked key-compromise: a compromised key "
	    "is never certified (CPS 4-4-2-5); revoke it: hanko-online revoke "
	    "--state %s --serial %s --reason key-compromise; not changed\n",
	    hex, c->municipality, k->hex, w->o->c.state, hex);
	w->findings++;
}

static int
each_valid(const struct hk_store_cert *c, const unsigned char *der,
    size_t len, time_t reserved_at, void *arg)
{
	struct check_work *w = arg;
	char hex[2 * HK_STORE_SERIAL_MAX + 1];
	const char *why;
	X509 *x = NULL;

	(void)reserved_at;
	w->checked++;
	if ((why = der_problem(w, c, der, len, &x)) != NULL) {
		serial_hex(c->serial, c->serial_len, hex);
		printf("certificate: serial %s (municipality %s): %s; not "
		    "changed (compare with the backup)\n", hex,
		    c->municipality, why);
		w->findings++;
	}
	valid_compromised(w, c, x);
	X509_free(x);
	valid_revoked(w, c);
	return 0;
}

static int
each_pending(const struct hk_store_cert *c, const unsigned char *der,
    size_t len, time_t reserved_at, void *arg)
{
	struct check_work *w = arg;
	char hex[2 * HK_STORE_SERIAL_MAX + 1], at[32];

	(void)der;
	(void)len;
	if (w->now - reserved_at < w->o->pending_age)
		return 0;
	serial_hex(c->serial, c->serial_len, hex);
	hk_time_format(reserved_at, at, sizeof(at));
	printf("pending: serial %s (municipality %s): reserved %s and never "
	    "completed; recovered by hanko-online issue, not here\n", hex,
	    c->municipality, at);
	w->findings++;
	return 0;
}

static int
each_kc(enum hk_store_kc_problem p, const unsigned char *serial,
    size_t serial_len, void *arg)
{
	struct check_work *w = arg;
	char hex[2 * HK_STORE_SERIAL_MAX + 1];

	serial_hex(serial, serial_len > HK_STORE_SERIAL_MAX ?
	    HK_STORE_SERIAL_MAX : serial_len, hex);
	if (p == HK_KC_MISSING)
		printf("compromised key: serial %s: revoked key-compromise, its "
		    "key not in compromised_keys: issue would certify it again "
		    "(CPS 4-4-2-5); not changed (compare with the backup)\n",
		    hex);
	else if (p == HK_KC_UNDECODABLE)
		printf("compromised key: serial %s: revoked key-compromise, its "
		    "certificate does not decode: its key cannot be recorded in "
		    "compromised_keys, issue would certify it again (CPS "
		    "4-4-2-5); not changed (compare with the backup)\n", hex);
	else
		printf("compromised key: serial %s: a row of compromised_keys "
		    "without a key-compromise revocation of that key (the "
		    "certificate not revoked key-compromise, or of another "
		    "key): issue refuses a key no revocation names; not "
		    "changed (compare with the backup)\n", hex);
	w->findings++;
	return 0;
}

/* 1 when the table compromised_keys is as the schema makes it (else it is
 * the schema's finding already). */
static int
kc_table_sound(const struct check_work *w)
{
	size_t i;

	for (i = 0; i < w->nsd; i++)
		if (strcmp(w->sd[i].type, "table") == 0 &&
		    strcmp(w->sd[i].name, "compromised_keys") == 0)
			return 0;
	return 1;
}

/* The keys of the keyCompromise revocations against compromised_keys
 * (schema 9). */
static int
compromised_keys(struct check_work *w)
{
	if (!kc_table_sound(w))
		return 0;
	return hk_store_key_compromised_check(w->store, each_kc, w);
}

static int
each_kc_load(const unsigned char sha[32], const unsigned char *serial,
    size_t serial_len, void *arg)
{
	struct check_work *w = arg;
	struct kc_key *k;

	if (w->nkc == w->capkc) {
		size_t cap = w->capkc ? 2 * w->capkc : 64;

		if ((k = reallocarray(w->kc, cap, sizeof(*k))) == NULL)
			return HK_ERR_ALLOC;
		w->kc = k;
		w->capkc = cap;
	}
	k = &w->kc[w->nkc++];
	memcpy(k->sha, sha, 32);
	serial_hex(serial, serial_len > HK_STORE_SERIAL_MAX ?
	    HK_STORE_SERIAL_MAX : serial_len, k->hex);
	return 0;
}

/* compromised_keys read whole, in key order, for each_valid. */
static int
kc_load(struct check_work *w)
{
	if (!kc_table_sound(w))
		return 0;
	return hk_store_key_compromised_each(w->store, each_kc_load, w);
}

static int
each_page_problem(const char *problem, void *arg)
{
	struct check_work *w = arg;

	printf("pages: %s\n", problem);
	w->findings++;
	w->damaged = 1;
	return 0;
}

/* Each generation the token marks compromised (revoke
 * --issuing-key-compromise) and state.conf does not: a state.conf restored
 * from a backup taken before the compromise. issue refuses to run until
 * revoke marks it again (and revokes the key's certificates the restored
 * store holds valid); recover takes the token's mark and runs first. */
static int
token_marks(struct check_work *w)
{
	char val[HK_P11_DATA_MAX];
	int gen = 0, r;

	while ((r = hk_online_mark_lost(w->on, gen + 1, &gen, val,
	    sizeof(val))) == 1) {
		printf("compromise: issuing generation %d: the token marks it "
		    "compromised (issuing.%d.compromised: %s), state.conf does "
		    "not (restored from a backup taken before the "
		    "compromise?); issue refuses until it is marked again; "
		    "recover the batches issued after the backup first (they "
		    "go back revoked), then redo the log's revocations, which "
		    "marks it again at the cert.revoke-all's time: "
		    "hanko-online recover --state %s --revocations "
		    "(docs/backup.md \"Restore\", step 9)\n", gen, gen, val,
		    w->o->c.state);
		w->findings++;
	}
	return r;
}

/* Each root generation declared compromised (trust --compromised, CPS
 * 4-14-2), a finding on every run: nothing it signs is imported, nothing
 * issued under an issuing CA it certified; the CA starts again. A mark the
 * token holds and state.conf lacks (a restored state.conf) is said with
 * the command that marks it again. */
static int
root_distrust(struct check_work *w)
{
	struct hk_online_distrust d;
	char where[512];
	int i, r;

	if ((r = hk_online_distrust_load(w->on, w->store, 1, &d)) != 0)
		return r;
	for (i = 0; i < d.n; i++) {
		printf("distrust: root generation %d is declared compromised "
		    "(%s): CPS 4-14-2: import refuses what it signs, issue "
		    "and responder refuse under an issuing CA it certified; "
		    "start the CA again with init-root on a new state and "
		    "have relying parties remove that root "
		    "(docs/ceremony-lifecycle.md \"compromise\")\n",
		    d.mark[i].gen, hk_online_distrust_where(&d.mark[i], where,
		    sizeof(where)));
		w->findings++;
	}
	hk_online_distrust_free(&d);
	return 0;
}

static int
check(struct check_work *w)
{
	time_t t = hk_clock_now();
	int r;

	w->now = time(NULL);	/* reserved_at is the system clock's */
	if ((r = token_marks(w)) != 0 || (r = root_distrust(w)) != 0)
		return r;
	if ((r = hk_store_pages_check(w->store, each_page_problem, w)) != 0)
		return r;
	if (w->damaged) {
		printf("pages: the file is damaged: nothing fixed, nothing "
		    "more checked; restore the store from its backup "
		    "(docs/records.md) and run check again\n");
		return 0;
	}
	if ((r = log_read(w)) != 0)
		return r;
	if ((r = hk_store_schema_check(w->store, 0, each_schema, w)) != 0 ||
	    (r = hk_store_double_each(w->store, hk_clock_now(), each_double,
	    w)) != 0)
		return r;
	if (!w->o->dry_run && (r = fix(w, t)) != 0)
		return r;
	report_fixable(w, t, !w->o->dry_run);
	if ((r = hk_store_ca_each(w->store, HK_CA_ISSUING, each_issuing,
	    w)) != 0 || (r = responders(w)) != 0 || (r = kc_load(w)) != 0 ||
	    (r = hk_store_cert_each(w->store, HK_CERT_VALID,
	    each_valid, w)) != 0 || (r = hk_store_cert_each(w->store,
	    HK_CERT_PENDING, each_pending, w)) != 0 ||
	    (r = compromised_keys(w)) != 0 ||
	    (r = log_compare(w)) != 0 || (r = issued_compare(w)) != 0 ||
	    (r = void_compare(w)) != 0)
		return r;
	return 0;
}

int
cmd_check(int argc, char **argv)
{
	struct check_opts o;
	struct check_work w;
	struct hk_err_kept lost;
	char path[4096];
	int r, i;

	memset(&w, 0, sizeof(w));
	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	w.o = &o;
	if ((r = hk_online_open(&o.c, &w.on)) != 0)
		goto out;
	if ((r = hk_online_path(w.on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 || (r = hk_store_open(path, 0,
	    &w.store)) != 0 || (r = hk_online_login(w.on)) != 0)
		goto out;
	if ((r = check(&w)) != 0) {
		hk_online_audit(w.on, "store.check", "fail", "%s",
		    hk_err_msg());
		hk_online_checkpoint_keep_err(w.on);
		goto out;
	}
	/* A store.check ok record that cannot be appended: the check is
	 * done and stands, the run ends with exit 6 naming it for the
	 * internal auditor (docs/audit-log.md "When an append fails"); a
	 * fail record lost is said on stderr, the run's own error stays. */
	lost.msg[0] = '\0';
	if (hk_online_audit(w.on, "store.check", w.findings ? "fail" : "ok",
	    "%s%" PRIu64 " valid certificates read; %" PRIu64 " findings, %"
	    PRIu64 " fixed", o.dry_run ? "dry run: " : "", w.checked,
	    w.findings, w.fixed) != 0 && w.findings == 0)
		hk_err_keep(&lost);
	if ((r = hk_online_checkpoint(w.on)) != 0)
		goto out;
	if (w.findings != 0) {
		hk_err_set("%s: %" PRIu64 " findings, %" PRIu64 " fixed%s",
		    path, w.findings, w.fixed, o.dry_run ?
		    " (dry run: nothing changed)" : "");
		r = HK_ERR_VERIFY;
	} else
		printf("Store consistent: %" PRIu64 " valid certificates "
		    "checked\n", w.checked);
	if (r == 0 && lost.msg[0] != '\0') {
		char done[256], rec[256];

		snprintf(done, sizeof(done), "check: the store is consistent "
		    "(%s%" PRIu64 " valid certificates checked, no findings)",
		    o.dry_run ? "dry run; " : "", w.checked);
		snprintf(rec, sizeof(rec), "the check (%" PRIu64 " valid "
		    "certificates read, 0 findings)", w.checked);
		r = hk_online_unrecorded(done, "its store.check record is",
		    lost.msg, rec);
	}
out:
	for (i = 0; i < w.niss; i++)
		X509_free(w.iss[i]);
	free(w.dups);
	free(w.sd);
	free(w.lr);
	free(w.la);
	free(w.ls);
	free(w.lm);
	free(w.lv);
	free(w.kc);
	hk_logev_logs_free(&w.logs);
	hk_store_close(w.store);
	hk_online_close(w.on);
	return r;
}

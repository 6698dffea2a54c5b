/*
 * fuzz_audit.c - the audit log reader (shared/audit.c, docs/audit-log.md)
 * on a log and a head file of arbitrary bytes: the record line parser,
 * the details unescaping, genesis and checkpoint details (base64
 * signature), the head file parser and the tail reader of append, copy
 * and checkpoint.
 *
 * Input: the first line (up to and with its '\n') is the head file
 * "<log>.head" (an empty first line: no head file); the rest is the log.
 * When the first line is "fixup\n", the log's lines of 8 tab-separated
 * fields get their prev and hash fields recomputed (docs/audit-log.md
 * "Hash"), checkpoint details re-signed by the fixed test key, and a head
 * file naming the last line is written: mutations then reach past the
 * hash check into the chain, genesis and checkpoint rules.
 *
 * Beyond "no crash, no leak" it checks what the header promises:
 * verify with the key passing implies without; scan and print agree with
 * verify; a copy verifies as the original; checkpoint and append succeed
 * on a log that verifies and it still verifies after; checkpoint refuses
 * a broken chain; a failed append or checkpoint leaves the log and the
 * head file as they were. Seeds: corpus/audit/ (made by this target with
 * HK_FUZZ_AUDIT_SEEDS=DIR set: real logs with checkpoints).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "fuzz_tmp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void make_seeds(const char *out);

/* A fixed P-256 test key (made for this target; signs nothing real). */
static const char test_key_pem[] =
"-----BEGIN PRIVATE KEY-----\n"
"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/nWvvjDci5vs7y8S\n"
"IurnKun0dl6ew2jTpvGcsa5W9nuhRANCAARyDbDITP1s4Va9Z6ey1SfPAYgT238b\n"
"VNRbgHvOsa/WCj/JGDlayUowNFp0KLNSYAaVrJPAIODyo4vmmcnyE3vp\n"
"-----END PRIVATE KEY-----\n";

#define T_FIXED	1900000000	/* 2030-03-17: the clock of appends */
#define KEY_LABEL "fuzz-key"

static EVP_PKEY *key;		/* the test key (private and public) */
static char key_fp_hex[65];	/* SHA-256 of its SPKI DER */
static const char *dir;
static char logp[4200], headp[4300], copyp[4200], copyhp[4300];

/* ---- files ----------------------------------------------------------- */

static void
put_file(const char *path, const void *p, size_t n)
{
	FILE *f;

	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (n > 0 && fwrite(p, 1, n, f) != n)
		abort();
	if (fclose(f) != 0)
		abort();
}

/* The whole file (NULL, *n = 0: there is none). */
static unsigned char *
get_file(const char *path, size_t *n)
{
	unsigned char *p = NULL;
	struct stat st;
	FILE *f;

	*n = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fstat(fileno(f), &st) != 0 || (p = malloc((size_t)st.st_size +
	    1)) == NULL || fread(p, 1, (size_t)st.st_size, f) !=
	    (size_t)st.st_size)
		abort();
	fclose(f);
	*n = (size_t)st.st_size;
	return p;
}

static int
same(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0) &&
	    (a == NULL) == (b == NULL);
}

/* ---- the fixup of hashes and signatures ------------------------------ */

struct buf {
	char *p;
	size_t len, cap;
};

static void
add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = 2 * (b->len + n + 1);
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static int
hexv(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : -1;
}

/* Unescape details as docs/audit-log.md says (no canonical check here:
 * the reader makes it); a bad escape is kept as it is. */
static size_t
unescape(const char *in, size_t n, unsigned char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (in[i] == '\\' && i + 1 < n && strchr("\\tnr", in[i + 1]) &&
		    in[i + 1] != '\0') {
			out[o++] = in[i + 1] == 't' ? '\t' : in[i + 1] == 'n' ?
			    '\n' : in[i + 1] == 'r' ? '\r' : '\\';
			i += 2;
		} else if (in[i] == '\\' && i + 3 < n && in[i + 1] == 'x' &&
		    hexv(in[i + 2]) >= 0 && hexv(in[i + 3]) >= 0) {
			out[o++] = (unsigned char)(hexv(in[i + 2]) << 4 |
			    hexv(in[i + 3]));
			i += 4;
		} else
			out[o++] = (unsigned char)in[i++];
	}
	return o;
}

static void
hash_field(EVP_MD_CTX *c, const void *p, size_t n)
{
	unsigned char be[4] = { (unsigned char)(n >> 24),
	    (unsigned char)(n >> 16), (unsigned char)(n >> 8),
	    (unsigned char)n };

	EVP_DigestUpdate(c, be, 4);
	EVP_DigestUpdate(c, p, n);
}

/* The record hash of docs/audit-log.md over fields f[0..5] and prev. */
static void
record_hash(const char **f, const size_t *fl, const unsigned char prev[32],
    unsigned char out[32])
{
	static const char tag[] = "hanko-audit-record-1";
	unsigned char *d = malloc(fl[5] + 1);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t i, dn;

	if (d == NULL || c == NULL)
		abort();
	dn = unescape(f[5], fl[5], d);
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, tag, sizeof(tag));
	for (i = 0; i < 5; i++)
		hash_field(c, f[i], fl[i]);
	hash_field(c, d, dn);
	EVP_DigestUpdate(c, prev, 32);
	EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
	free(d);
}

/* "key=<label> key-sha256=<fp> sig=<base64>" signed over the checkpoint
 * message (docs/audit-log.md "Checkpoints"). */
static void
ckpt_details(struct buf *out, const unsigned char log_id[16], uint64_t seq,
    const unsigned char prev[32], const char *time, const char *label,
    size_t ll)
{
	static const char tag[] = "hanko-audit-checkpoint-1";
	unsigned char m[sizeof(tag) + 16 + 8 + 32 + 20], sig[256];
	char b64[400];
	size_t o = 0, sl = sizeof(sig);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int i;

	memcpy(m, tag, sizeof(tag));
	o += sizeof(tag);
	memcpy(m + o, log_id, 16);
	o += 16;
	for (i = 7; i >= 0; i--)
		m[o++] = (unsigned char)(seq >> (8 * i));
	memcpy(m + o, prev, 32);
	o += 32;
	memcpy(m + o, time, 20);
	if (c == NULL || EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL,
	    key) != 1 || EVP_DigestSign(c, sig, &sl, m, sizeof(m)) != 1)
		abort();
	EVP_MD_CTX_free(c);
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)sl);
	add(out, "key=", 4);
	add(out, label, ll);
	add(out, " key-sha256=", 12);
	add(out, key_fp_hex, 64);
	add(out, " sig=", 5);
	add(out, b64, strlen(b64));
}

/* The log with every 8-field line's prev and hash made right, and the
 * head file naming its last such line. */
static void
fixup(const char *in, size_t n, struct buf *log, struct buf *head)
{
	unsigned char prev[32] = { 0 }, h[32], log_id[16] = { 0 };
	const char *line = in, *end = in + n, *nl, *f[8];
	char hx[65], lastseq[32] = "0";
	size_t fl[8], nf, i;
	struct buf dt = { NULL, 0, 0 };
	int any = 0;

	while (line < end) {
		const char *p, *s;

		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL) {	/* a last line without '\n' as it is */
			add(log, line, (size_t)(end - line));
			break;
		}
		for (nf = 0, s = p = line; p <= nl; p++) {
			if (p < nl && *p != '\t')
				continue;
			if (nf < 8) {
				f[nf] = s;
				fl[nf] = (size_t)(p - s);
			}
			nf++;
			s = p + 1;
		}
		if (nf != 8) {
			add(log, line, (size_t)(nl - line) + 1);
			line = nl + 1;
			continue;
		}
		/* genesis: its log id, for checkpoints and the head */
		if (!any && fl[5] == 60 && memcmp(f[5], "format=hanko-audit-1 "
		    "log-id=", 28) == 0) {
			memcpy(hx, f[5] + 28, 32);
			hx[32] = '\0';
			(void)hk_hex_decode(hx, log_id, 16);
		}
		dt.len = 0;
		if (fl[2] == 16 && memcmp(f[2], "audit.checkpoint", 16) == 0 &&
		    fl[1] == 20 && fl[5] > 4 && memcmp(f[5], "key=", 4) == 0) {
			uint64_t seq = 0;
			const char *sp = memchr(f[5], ' ', fl[5]);
			size_t ll = sp ? (size_t)(sp - f[5]) - 4 : fl[5] - 4;

			for (i = 0; i < fl[0] && i < 19; i++)
				seq = seq * 10 + (uint64_t)(f[0][i] - '0');
			add(&dt, "", 0);
			ckpt_details(&dt, log_id, seq - 1, prev, f[1], f[5] + 4,
			    ll);
			f[5] = dt.p;
			fl[5] = dt.len;
		}
		record_hash(f, fl, prev, h);
		for (i = 0; i < 6; i++) {
			add(log, f[i], fl[i]);
			add(log, "\t", 1);
		}
		hk_hex_encode(prev, 32, hx);
		add(log, hx, 64);
		add(log, "\t", 1);
		hk_hex_encode(h, 32, hx);
		add(log, hx, 64);
		add(log, "\n", 1);
		memcpy(prev, h, 32);
		snprintf(lastseq, sizeof(lastseq), "%.*s", (int)(fl[0] < 20 ?
		    fl[0] : 20), f[0]);
		any = 1;
		line = nl + 1;
	}
	free(dt.p);
	if (!any)
		return;
	add(head, "hanko-audit-head-1 log-id=", 26);
	hk_hex_encode(log_id, 16, hx);
	add(head, hx, 32);
	add(head, " seq=", 5);
	add(head, lastseq, strlen(lastseq));
	add(head, " hash=", 6);
	hk_hex_encode(prev, 32, hx);
	add(head, hx, 64);
	add(head, "\n", 1);
}

/* ---- the checks ------------------------------------------------------ */

struct seen {
	uint64_t n;	/* records handed over */
	uint64_t next;	/* the seq expected next (checkpoints are skipped) */
};

static int
each(const struct hk_audit_record *r, void *arg)
{
	struct seen *s = arg;
	char esc[4 * 64 + 1];

	/* in order, never a checkpoint, fields as the format says */
	if (r->seq < s->next || strcmp(r->event, "audit.checkpoint") == 0 ||
	    strlen(r->time) != 20 || r->time[19] != 'Z' ||
	    r->event[0] == '\0' || strlen(r->event) > 64 ||
	    r->result[0] == '\0' || strlen(r->result) > 32 ||
	    r->actors[0] == '\0' || r->dlen > HK_AUDIT_DETAILS_MAX)
		abort();
	if (r->dlen > 0 && r->dlen <= 64)
		hk_audit_escape(r->details, r->dlen, esc);
	s->next = r->seq + 1;
	s->n++;
	return 0;
}

/* The report is filled as hk_audit_verify says. */
static void
check_report(int v, const struct hk_audit_report *rep)
{
	if (v == 0 && (rep->reason[0] != '\0' || rep->records == 0 ||
	    strlen(rep->log_id) != 32 || strlen(rep->last_hash) != 64 ||
	    rep->head_mismatches != 0 || rep->bad_seq != -1))
		abort();
	if (v == HK_ERR_AUDIT && rep->reason[0] == '\0')
		abort();
	if (v != 0 && v != HK_ERR_AUDIT && v != HK_ERR_NOT_FOUND &&
	    v != HK_ERR_IO)
		abort();
	if (rep->checkpoints > rep->records)
		abort();
}

struct state {
	unsigned char *log, *head;
	size_t loglen, headlen;
};

static void
state_read(struct state *s)
{
	s->log = get_file(logp, &s->loglen);
	s->head = get_file(headp, &s->headlen);
}

static void
state_put(const struct state *s)
{
	unlink(headp);
	put_file(logp, s->log, s->loglen);
	if (s->head != NULL)
		put_file(headp, s->head, s->headlen);
}

static void
state_free(struct state *s)
{
	free(s->log);
	free(s->head);
}

/* The field i (0-based, tab-separated) of the log's last line. */
static const char *
last_field(const struct state *s, int i, size_t *n)
{
	const char *b = (const char *)s->log, *e, *p;

	if (s->loglen < 2 || b[s->loglen - 1] != '\n')
		return NULL;
	e = b + s->loglen - 1;
	for (p = e; p > b && p[-1] != '\n'; p--)
		;
	for (; i > 0; i--) {
		if ((p = memchr(p, '\t', (size_t)(e - p))) == NULL)
			return NULL;
		p++;
	}
	{ const char *t = memchr(p, '\t', (size_t)(e - p)); *n = (size_t)((t != NULL ? t : e) - p); }
	return p;
}

/* new is old brought forward from the record before the log's last
 * (seq S, hash = the last line's prev) to the last one: what append and
 * checkpoint do for a head left one behind by a crash. */
static int
head_forward(const struct state *was, const struct state *now)
{
	const char *o = (const char *)was->head, *sq, *prev, *hash, *seq;
	size_t pl, hl, sl;
	char want[512];
	unsigned long long s;
	char *end;

	if (o == NULL || now->head == NULL || was->headlen < 60 + 6 + 64 ||
	    memchr(o, '\0', was->headlen) != NULL ||
	    (sq = strstr(o, " seq=")) == NULL ||
	    (seq = last_field(was, 0, &sl)) == NULL ||
	    (prev = last_field(was, 6, &pl)) == NULL ||
	    (hash = last_field(was, 7, &hl)) == NULL || pl != 64 || hl != 64)
		return 0;
	s = strtoull(sq + 5, &end, 10);
	if (strncmp(end, " hash=", 6) != 0 || memcmp(end + 6, prev, 64) != 0)
		return 0;
	snprintf(want, sizeof(want), "%llu", s + 1);
	if (strlen(want) != sl || memcmp(want, seq, sl) != 0)
		return 0;
	snprintf(want, sizeof(want), "%.*s seq=%llu hash=%.64s\n",
	    (int)(sq - o), o, s + 1, hash);
	return same((const unsigned char *)want, strlen(want), now->head,
	    now->headlen);
}

/* After a failed append or checkpoint: the log as it was; the head file
 * too, except that a head one record behind (a crash) may be brought
 * forward. */
static void
check_unchanged(const struct state *was)
{
	struct state now;

	state_read(&now);
	if (!same(was->log, was->loglen, now.log, now.loglen))
		abort();
	if (!same(was->head, was->headlen, now.head, now.headlen) &&
	    !head_forward(was, &now))
		abort();
	state_free(&now);
}

/* The temp folder goes at exit (libFuzzer ends with exit()). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t;
	unsigned char *der = NULL, d[32];
	BIO *b;
	int n;

	(void)argc;
	(void)argv;
	/* tmpfs when there is one: each input is written and fsynced */
	dir = fuzz_tmp_dir("fuzz_audit");
	snprintf(logp, sizeof(logp), "%s/audit.log", dir);
	snprintf(headp, sizeof(headp), "%s/audit.log.head", dir);
	snprintf(copyp, sizeof(copyp), "%s/copy.log", dir);
	snprintf(copyhp, sizeof(copyhp), "%s/copy.log.head", dir);
	if ((b = BIO_new_mem_buf(test_key_pem, -1)) == NULL ||
	    (key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL)
		abort();
	BIO_free(b);
	if ((n = i2d_PUBKEY(key, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)n, d, NULL, EVP_sha256(), NULL) != 1)
		abort();
	OPENSSL_free(der);
	hk_hex_encode(d, 32, key_fp_hex);
	hk_clock_set(T_FIXED);
	if ((t = getenv("HK_FUZZ_AUDIT_SEEDS")) != NULL) {
		make_seeds(t);
		exit(0);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *nl;
	struct hk_audit_report rp, rn, rc;
	struct hk_audit_copy cp;
	struct state st;
	struct seen sn = { 0, 0 };
	struct buf log = { NULL, 0, 0 }, head = { NULL, 0, 0 };
	FILE *devnull;
	int vp, vn, sc, pr, c, ck, ap, structural;

	if ((nl = memchr(in, '\n', size)) == NULL)
		return 0;
	unlink(logp);
	unlink(headp);
	unlink(copyp);
	unlink(copyhp);
	if (nl - in == 5 && memcmp(in, "fixup", 5) == 0) {
		fixup(nl + 1, size - (size_t)(nl + 1 - in), &log, &head);
		put_file(logp, log.p, log.len);
		if (head.len > 0)
			put_file(headp, head.p, head.len);
	} else {
		put_file(logp, nl + 1, size - (size_t)(nl + 1 - in));
		if (nl > in)
			put_file(headp, in, (size_t)(nl - in) + 1);
	}
	free(log.p);
	free(head.p);
	state_read(&st);

	vp = hk_audit_verify(logp, key, &rp);
	check_report(vp, &rp);
	vn = hk_audit_verify(logp, NULL, &rn);
	check_report(vn, &rn);
	if (vp == 0 && vn != 0)
		abort();
	if (vn == 0 && (rn.records != rp.records || rn.checkpoints !=
	    rp.checkpoints || strcmp(rn.last_hash, rp.last_hash) != 0))
		abort();
	/* scan: the same verdict, every record but checkpoints handed over */
	sc = hk_audit_scan(logp, each, &sn);
	if (sc != vn || (vn == 0 && sn.n != rn.records - rn.checkpoints))
		abort();
	/* print: the chain only (no head file) */
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	pr = hk_audit_print(logp, devnull);
	fclose(devnull);
	if (vn == 0 && pr != 0)
		abort();
	/* a copy verifies as the original */
	if ((c = hk_audit_copy(logp, copyp, &cp)) == 0) {
		int v2 = hk_audit_verify(copyp, NULL, &rc);
		if (v2 != vn)
			abort();
		if (cp.log_size != st.loglen || cp.head_size != st.headlen)
			abort();
	} else if (vn == 0)
		abort();	/* a log that verifies can be copied */
	unlink(copyp);
	unlink(copyhp);

	/* checkpoint: only on a sound chain; the log still verifies */
	structural = vn == HK_ERR_AUDIT && rn.bad_line != 0 &&
	    rn.head_mismatches == 0;
	ck = hk_audit_checkpoint(logp, key, KEY_LABEL);
	if (ck == 0 && structural)
		abort();
	if (vn == 0 && ck != 0)
		abort();
	if (ck != 0)
		check_unchanged(&st);
	else if (vn == 0 && hk_audit_verify(logp, vp == 0 ? key : NULL,
	    NULL) != 0)
		abort();

	/* append, on the log as it was */
	state_put(&st);
	ap = hk_audit_append(logp, "fuzz.event", "ok", "fuzzer", "x\ty");
	if (vn == 0 && ap != 0)
		abort();
	if (ap != 0)
		check_unchanged(&st);
	else if (vn == 0 && hk_audit_verify(logp, vp == 0 ? key : NULL,
	    NULL) != 0)
		abort();
	state_free(&st);
	hk_err_clear();
	ERR_clear_error();
	return 0;
}

/* ---- seeds ----------------------------------------------------------- */

static void
seed_out(const char *out, const char *name, const char *first)
{
	struct state s;
	char p[4600];
	FILE *f;

	state_read(&s);
	snprintf(p, sizeof(p), "%s/%s", out, name);
	if ((f = fopen(p, "wb")) == NULL)
		abort();
	if (first != NULL)
		fputs(first, f);
	else if (s.head != NULL)
		fwrite(s.head, 1, s.headlen, f);
	else
		fputs("\n", f);
	fwrite(s.log, 1, s.loglen, f);
	fclose(f);
	state_free(&s);
}

void
make_seeds(const char *out)
{
	time_t t = 1711962000;	/* 2024-04-01T09:00:00Z */

	unlink(logp);
	unlink(headp);
	hk_clock_set(t);
	if (hk_audit_create(logp) != 0)
		abort();
	seed_out(out, "genesis", NULL);
	hk_clock_set(t += 60);
	if (hk_audit_append(logp, "share.open", "ok", "yamada,suzuki",
	    "分散鍵 2/5 を開封\ttab \\ back \x01\xff") != 0)
		abort();
	hk_clock_set(t += 60);
	if (hk_audit_checkpoint(logp, key, "root-2024") != 0)
		abort();
	hk_clock_set(t += 60);
	if (hk_audit_append(logp, "cert.revoke", "fail", "-",
	    "serial 0A1B: municipality 43201, reason 1 (keyCompromise); "
	    "revoked at 2024-04-01T09:03:00Z") != 0)
		abort();
	seed_out(out, "checkpoint", NULL);
	seed_out(out, "checkpoint-fixup", "fixup\n");
	seed_out(out, "checkpoint-nohead", "\n");
	hk_clock_set(t -= 600);		/* a step back in time */
	if (hk_audit_append(logp, "room.enter", "ok", "guard@kumamoto",
	    "") != 0)
		abort();
	hk_clock_set(t += 1200);
	if (hk_audit_checkpoint(logp, key, "root-2024") != 0)
		abort();
	seed_out(out, "two-checkpoints", NULL);
}

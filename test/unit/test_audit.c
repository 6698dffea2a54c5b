/*
 * test_audit.c - the tamper-evident audit log (shared/audit.c).
 *
 * A sample log of 25 records (Japanese and hostile details, three signed
 * checkpoints) must verify; then every single-byte change, every deleted,
 * inserted or swapped record and every truncation must be found. The
 * hash and signature inputs are re-implemented here from docs/audit-log.md,
 * so the document and the code are checked against each other.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "audit.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "review.h"
#include "testutil.h"

#define T0		1711962000	/* 2024-04-01T09:00:00Z */
#define MAXLINES	64

static char logp[4096], headp[4200];

static const char *const sample_details[] = {
	"熊本県知事の鍵ペア生成を開始",
	"分散鍵 2/5 を開封: 山田太郎 (総務部)",
	"slot 0 \"JPKI-ROOT\" login",
	"tab\there and a newline\nhere",
	"back\\slash C:\\ca\\root.pem",
	"control \x01\x1b[31m red \x7f",
	"invalid UTF-8 \xff\xfe\xc0\xaf end",
	"bidi \xe2\x80\xae txt.exe \xc2\x85 C1 NEL",
	"",
	"CRL #12 発行 (次回更新 72 時間後)",
	"失効: シリアル 0a:1b:2c 理由 keyCompromise",
	"-",
	"\\x41 looks like an escape but is text",
	"入退室記録: サーバ室 09:00-09:45",
	"OCSP responder key renewed",
	"帳簿閲覧 (内部監査者)",
	"trailing backslash \\",
	"全角スペース\u3000と絵文字 🔏",
	"root.create ok",
	"最終記録",
	"after the last checkpoint",
};
static const char *const sample_events[] = {
	"root.keygen", "share.open", "token.login", "test.escape",
	"test.escape", "test.escape", "test.escape", "test.escape",
	"init", "crl.issue", "cert.revoke", "test.dash", "test.escape",
	"room.enter", "ocsp.key", "ledger.read", "test.escape", "test.utf8",
	"root.create", "ceremony.end", "after.checkpoint",
};
static const char *const sample_actors[] = {
	"yamada,suzuki", "yamada", "op-01", "-", "-", "-", "-", "-", "-",
	"kato", "kato,sato", "-", "-", "guard@kumamoto", "-", "auditor.1",
	"-", "-", "yamada,suzuki,kato", "-", "-",
};

/* ---- helpers -------------------------------------------------------- */

static void
paths(const char *name)
{
	const char *d = hk_test_dir(name);

	snprintf(logp, sizeof(logp), "%s/audit.log", d);
	snprintf(headp, sizeof(headp), "%s/audit.log.head", d);
}

/* The log still holds the len bytes of was (read before); frees was. */
static void
log_unchanged(unsigned char *was, size_t len)
{
	size_t nl;
	unsigned char *now = hk_test_read(logp, &nl);

	cr_assert_eq(nl, len);
	cr_assert_eq(memcmp(was, now, len), 0);
	free(was);
	free(now);
}

/* The longest event name there may be (64) and one-character actor ids,
 * comma-separated, are taken. */
static void
append_edges_taken(void)
{
	cr_expect_eq(hk_audit_append(logp, "a123456789012345678901234567890123"
	    "456789012345678901234567890123", "ok", "-", ""), 0, "%s",
	    hk_err_msg());
	cr_expect_eq(hk_audit_append(logp, "x", "ok", "a,b", ""), 0, "%s",
	    hk_err_msg());
}

static EVP_PKEY *
rsa_key(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);

	cr_assert_not_null(k);
	return k;
}

static EVP_PKEY *
ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	cr_assert_not_null(k);
	return k;
}

/*
 * The sample: genesis, appends 1-8, checkpoint 9, appends 10-16,
 * checkpoint 17, appends 18-22, checkpoint 23, append 24. 25 lines.
 */
static void
build_sample(EVP_PKEY *key)
{
	int i, seq = 0;

	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0, "%s", hk_err_msg());
	for (i = 0; i < 21; i++) {
		hk_clock_set(T0 + 60 * ++seq);
		cr_assert_eq(hk_audit_append(logp, sample_events[i],
		    i % 5 == 4 ? "fail" : "ok", sample_actors[i],
		    sample_details[i]), 0, "%s", hk_err_msg());
		if (i == 7 || i == 14 || i == 19) {
			hk_clock_set(T0 + 60 * ++seq);
			cr_assert_eq(hk_audit_checkpoint(logp, key, "root-2024"),
			    0, "%s", hk_err_msg());
		}
	}
	cr_assert_eq(seq, 24);
}

struct lines {
	char *l[MAXLINES];	/* each line with its '\n', NUL-terminated */
	size_t n;		/* lines */
};

static void
lines_split(const unsigned char *buf, size_t len, struct lines *ls)
{
	size_t i, s = 0;

	ls->n = 0;
	for (i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		cr_assert_lt(ls->n, MAXLINES);
		ls->l[ls->n] = strndup((const char *)buf + s, i + 1 - s);
		ls->n++;
		s = i + 1;
	}
	cr_assert_eq(s, len, "sample must end in a newline");
}

static void
lines_write(const char *path, char *const *l, size_t n)
{
	FILE *f = fopen(path, "wb");
	size_t i;

	cr_assert_not_null(f);
	for (i = 0; i < n; i++)
		cr_assert_eq(fputs(l[i], f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

static void
lines_free(struct lines *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		free(ls->l[i]);
	ls->n = 0;
}

/* Split a line (without '\n') at tabs into 8 fields; 0 or -1. */
static int
fields(char *line, char *f[8])
{
	int n = 0;
	char *p = line, *t;

	for (;;) {
		if (n == 8)
			return -1;
		f[n++] = p;
		if ((t = strchr(p, '\t')) == NULL)
			break;
		*t = '\0';
		p = t + 1;
	}
	return n == 8 ? 0 : -1;
}

/* Unescape details as docs/audit-log.md says. */
static size_t
spec_unescape(const char *in, unsigned char *out)
{
	size_t o = 0;
	unsigned int v;

	while (*in) {
		if (*in != '\\') {
			out[o++] = (unsigned char)*in++;
			continue;
		}
		switch (in[1]) {
		case '\\': out[o++] = '\\'; break;
		case 't': out[o++] = '\t'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 'x':
			cr_assert_eq(sscanf(in + 2, "%2x", &v), 1);
			out[o++] = (unsigned char)v;
			in += 2;
			break;
		default:
			cr_assert_fail("bad escape");
		}
		in += 2;
	}
	return o;
}

static void
spec_field(EVP_MD_CTX *c, const void *p, size_t n)
{
	unsigned char be[4] = { (unsigned char)(n >> 24),
	    (unsigned char)(n >> 16), (unsigned char)(n >> 8),
	    (unsigned char)n };

	cr_assert_eq(EVP_DigestUpdate(c, be, 4), 1);
	cr_assert_eq(EVP_DigestUpdate(c, p, n), 1);
}

/* The record hash of docs/audit-log.md, section "Record hash". */
static void
spec_hash(char *const f[8], const unsigned char prev[32],
    unsigned char out[32])
{
	static const char tag[] = "hanko-audit-record-1";
	unsigned char *d = malloc(strlen(f[5]) + 1);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t dl = spec_unescape(f[5], d);
	int i;

	cr_assert_eq(EVP_DigestInit_ex(c, EVP_sha256(), NULL), 1);
	cr_assert_eq(EVP_DigestUpdate(c, tag, sizeof(tag)), 1); /* with NUL */
	for (i = 0; i < 5; i++)
		spec_field(c, f[i], strlen(f[i]));
	spec_field(c, d, dl);
	cr_assert_eq(EVP_DigestUpdate(c, prev, 32), 1);
	cr_assert_eq(EVP_DigestFinal_ex(c, out, NULL), 1);
	EVP_MD_CTX_free(c);
	free(d);
}

/*
 * Recompute every prev and hash from the fields (what an attacker without
 * the checkpoint key can do), and write a matching head file.
 */
static void
spec_relink(struct lines *ls)
{
	unsigned char prev[32] = { 0 }, h[32];
	char *f[8], ph[65], hh[65], id[33], buf[64 * 1024];
	size_t i;
	FILE *hf;

	for (i = 0; i < ls->n; i++) {
		char *copy = strdup(ls->l[i]);
		copy[strlen(copy) - 1] = '\0';
		cr_assert_eq(fields(copy, f), 0);
		if (i == 0)
			cr_assert_eq(sscanf(f[5],
			    "format=hanko-audit-1 log-id=%32s", id), 1);
		spec_hash(f, prev, h);
		hk_hex_encode(prev, 32, ph);
		hk_hex_encode(h, 32, hh);
		snprintf(buf, sizeof(buf), "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		    f[0], f[1], f[2], f[3], f[4], f[5], ph, hh);
		free(ls->l[i]);
		ls->l[i] = strdup(buf);
		memcpy(prev, h, 32);
		free(copy);
	}
	hf = fopen(headp, "wb");
	cr_assert_not_null(hf);
	fprintf(hf, "hanko-audit-head-1 log-id=%s seq=%zu hash=%s\n", id,
	    ls->n - 1, hh);
	cr_assert_eq(fclose(hf), 0);
}

/* The checkpoint message of docs/audit-log.md, section "Checkpoints". */
static size_t
spec_ckpt_msg(const char *log_id_hex, uint64_t head_seq, const char *prev_hex,
    const char *time, unsigned char *m)
{
	static const char tag[] = "hanko-audit-checkpoint-1";
	size_t o = 0;
	int i;

	memcpy(m, tag, sizeof(tag));
	o += sizeof(tag);
	cr_assert_eq(hk_hex_decode(log_id_hex, m + o, 16), 0);
	o += 16;
	for (i = 7; i >= 0; i--)
		m[o++] = (unsigned char)(head_seq >> (8 * i));
	{
		char p[65];
		memcpy(p, prev_hex, 64);
		p[64] = '\0';
		cr_assert_eq(hk_hex_decode(p, m + o, 32), 0);
	}
	o += 32;
	memcpy(m + o, time, 20);
	return o + 20;
}

static void
sample_load(struct lines *ls)
{
	unsigned char *b;
	size_t len;

	b = hk_test_read(logp, &len);
	lines_split(b, len, ls);
	free(b);
}

/* ---- tests ---------------------------------------------------------- */

Test(audit, sample_verifies_and_reports)
{
	struct hk_audit_report rep;
	EVP_PKEY *k;

	paths("sample_verifies");
	k = rsa_key();
	build_sample(k);
	cr_assert_eq(hk_audit_verify(logp, k, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.records, 25);
	cr_expect_eq(rep.checkpoints, 3);
	cr_expect_eq(rep.last_checkpoint_seq, 23);
	cr_expect_eq(rep.unsigned_records, 1);
	cr_expect_eq(rep.signatures_checked, 1);
	cr_expect_eq(rep.head_lag, 0);
	cr_expect_eq(rep.head_mismatches, 0);
	cr_expect_eq(rep.bad_line, 0);
	cr_expect_eq(rep.bad_seq, -1);
	cr_expect_str_empty(rep.reason);
	cr_expect_eq(strlen(rep.log_id), 32);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.signatures_checked, 0);
	cr_assert_eq(hk_audit_verify(logp, NULL, NULL), 0);
	EVP_PKEY_free(k);
}

/* The document and the code agree: relinking from the spec changes nothing,
 * and every checkpoint verifies with a spec-built message. */
Test(audit, spec_reimplementation_agrees)
{
	struct lines ls, again;
	char id[33], *f[8];
	unsigned char m[128], sig[1024];
	int sigs = 0;
	size_t i;
	EVP_PKEY *k;

	paths("spec_agrees");
	k = ec_key();
	build_sample(k);
	sample_load(&ls);
	sample_load(&again);
	spec_relink(&again);
	cr_assert_eq(again.n, 25);
	for (i = 0; i < ls.n; i++)
		cr_assert_str_eq(again.l[i], ls.l[i], "line %zu", i + 1);
	cr_assert_eq(hk_audit_verify(logp, k, NULL), 0, "%s", hk_err_msg());
	for (i = 0; i < ls.n; i++) {
		char *c = strdup(ls.l[i]);
		c[strlen(c) - 1] = '\0';
		cr_assert_eq(fields(c, f), 0);
		if (i == 0)
			cr_assert_eq(sscanf(f[5], "format=hanko-audit-1 "
			    "log-id=%32s", id), 1);
		if (strcmp(f[2], "audit.checkpoint") == 0) {
			const char *b64 = strstr(f[5], " sig=") + 5;
			int n = EVP_DecodeBlock(sig, (const unsigned char *)b64,
			    (int)strlen(b64));
			size_t ml = spec_ckpt_msg(id, i - 1, f[6], f[1], m);
			EVP_MD_CTX *c2 = EVP_MD_CTX_new();
			size_t bl = strlen(b64);
			cr_assert_gt(n, 0);
			/* EVP_DecodeBlock counts the padding as bytes. */
			n -= (b64[bl - 1] == '=') + (b64[bl - 2] == '=');
			cr_assert_eq(EVP_DigestVerifyInit(c2, NULL, EVP_sha256(),
			    NULL, k), 1);
			cr_assert_eq(EVP_DigestVerify(c2, sig, (size_t)n, m, ml),
			    1, "checkpoint on line %zu", i + 1);
			EVP_MD_CTX_free(c2);
			sigs++;
		}
		free(c);
	}
	cr_assert_eq(sigs, 3);
	lines_free(&ls);
	lines_free(&again);
	EVP_PKEY_free(k);
}

/* The head seq is a u64 big-endian in the signed message: a checkpoint
 * past record 255 (its second byte in use) verifies against the
 * specification's message too, and only there. */
Test(audit, spec_checkpoint_past_one_byte_of_seq)
{
	unsigned char *b, m[128], sig[1024];
	char id[33], *f[8], *last, *first;
	size_t len, ml, bl;
	EVP_MD_CTX *c;
	EVP_PKEY *k;
	int i, n;

	paths("spec_seq");
	k = ec_key();
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0, "%s", hk_err_msg());
	for (i = 0; i < 299; i++)
		cr_assert_eq(hk_audit_append(logp, "test.event", "ok", "-",
		    "n"), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_audit_checkpoint(logp, k, "root-2024"), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_audit_verify(logp, k, NULL), 0, "%s", hk_err_msg());
	b = hk_test_read(logp, &len);
	cr_assert_gt(len, 1);
	b[len - 1] = '\0';	/* the last newline */
	first = strdup((char *)b);
	*strchr(first, '\n') = '\0';
	cr_assert_eq(fields(first, f), 0);
	cr_assert_eq(sscanf(f[5], "format=hanko-audit-1 log-id=%32s", id), 1);
	last = strrchr((char *)b, '\n') + 1;
	cr_assert_eq(fields(last, f), 0);
	cr_assert_str_eq(f[2], "audit.checkpoint");
	cr_assert_str_eq(f[0], "300");
	bl = strlen(strstr(f[5], " sig=") + 5);
	n = EVP_DecodeBlock(sig, (const unsigned char *)strstr(f[5], " sig=") +
	    5, (int)bl);
	cr_assert_gt(n, 0);
	n -= (f[5][strlen(f[5]) - 1] == '=') + (f[5][strlen(f[5]) - 2] == '=');
	ml = spec_ckpt_msg(id, 299, f[6], f[1], m);
	c = EVP_MD_CTX_new();
	cr_assert_eq(EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, k), 1);
	cr_assert_eq(EVP_DigestVerify(c, sig, (size_t)n, m, ml), 1,
	    "the checkpoint at 300 signs the message of docs/audit-log.md");
	EVP_MD_CTX_free(c);
	free(first);
	free(b);
	EVP_PKEY_free(k);
}

Test(audit, every_single_byte_change_is_detected)
{
	unsigned char *orig, *mut;
	size_t len, i, det[3] = { 0, 0, 0 };
	struct hk_audit_report rep;
	EVP_PKEY *k;
	int v;

	paths("every_byte");
	k = rsa_key();
	build_sample(k);
	orig = hk_test_read(logp, &len);
	mut = malloc(len);
	cr_assert_gt(len, 4000);
	for (v = 0; v < 3; v++) {
		for (i = 0; i < len; i++) {
			unsigned char b = orig[i], c;
			if (v == 0)
				c = b ^ 0x01;
			else if (v == 1) {
				c = (unsigned char)(0x20 + (i * 7) % 95);
				if (c == b)
					c = c == 0x7e ? 0x20 : c + 1;
			} else
				c = b == '\n' ? '\t' : '\n';
			memcpy(mut, orig, len);
			mut[i] = c;
			hk_test_write(logp, mut, len);
			if (hk_audit_verify(logp, v == 0 ? k : NULL, &rep) ==
			    HK_ERR_AUDIT && rep.bad_line >= 1)
				det[v]++;
			else
				cr_expect_fail("variant %d offset %zu (0x%02x -> "
				    "0x%02x) not detected", v, i, b, c);
		}
	}
	cr_expect_eq(det[0], len);
	cr_expect_eq(det[1], len);
	cr_expect_eq(det[2], len);
	hk_test_write(logp, orig, len);
	cr_assert_eq(hk_audit_verify(logp, k, NULL), 0, "%s", hk_err_msg());
	free(orig);
	free(mut);
	EVP_PKEY_free(k);
}

Test(audit, deleting_any_record_is_detected)
{
	struct lines ls;
	char *l[MAXLINES];
	struct hk_audit_report rep;
	size_t d, i, n;
	EVP_PKEY *k;

	paths("delete");
	k = ec_key();
	build_sample(k);
	sample_load(&ls);
	for (d = 0; d < ls.n; d++) {
		for (i = 0, n = 0; i < ls.n; i++)
			if (i != d)
				l[n++] = ls.l[i];
		lines_write(logp, l, n);
		cr_assert_eq(hk_audit_verify(logp, k, &rep), HK_ERR_AUDIT,
		    "deleting line %zu", d + 1);
		/* The line that now sits where the removed one was is named;
		 * removing the last is found through the head file. */
		cr_expect_eq(rep.bad_line, d + 1 < ls.n ? d + 1 : 0,
		    "deleting line %zu: %s", d + 1, rep.reason);
		cr_expect_eq(rep.bad_seq, (int64_t)d, "%s", rep.reason);
	}
	lines_free(&ls);
	EVP_PKEY_free(k);
}

/* A log deep in the file system (a CI checkout: some 400 characters of
 * folders, then a state's audit/closed/audit-<id>-<date>.log) is named
 * whole in the failure, and the rule after it is not cut off. */
Test(audit, long_path_failure_named_whole)
{
	static const char tail[] = "(a record was removed, inserted or "
	    "moved)";
	struct lines ls;
	char *l[MAXLINES], dir[2048];
	struct hk_audit_report rep;
	size_t i, n, rl, ml, off;
	EVP_PKEY *k;

	off = (size_t)snprintf(dir, sizeof(dir), "%s",
	    hk_test_dir("long_path"));
	for (i = 0; i < 6; i++) {
		off += (size_t)snprintf(dir + off, sizeof(dir) - off,
		    "/ci-runner-workspace-level-%zu-abcdefghijklmnopqrstuvwxyz"
		    "0123456789", i);
		cr_assert_eq(mkdir(dir, 0700), 0, "%s", dir);
	}
	snprintf(dir + off, sizeof(dir) - off, "/audit");
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(dir + off, sizeof(dir) - off, "/audit/closed");
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(logp, sizeof(logp), "%s/audit-0123456789abcdef0123456789abcdef"
	    "-20270402.log", dir);
	snprintf(headp, sizeof(headp), "%s.head", logp);
	cr_assert_gt(strlen(logp), 450, "%zu", strlen(logp));
	k = ec_key();
	build_sample(k);
	sample_load(&ls);
	for (i = 0, n = 0; i < ls.n; i++)	/* record 4 removed */
		if (i != 4)
			l[n++] = ls.l[i];
	lines_write(logp, l, n);
	cr_assert_eq(hk_audit_verify(logp, k, &rep), HK_ERR_AUDIT);
	rl = strlen(rep.reason);
	ml = strlen(hk_err_msg());
	cr_expect_eq(strncmp(rep.reason, logp, strlen(logp)), 0, "%s",
	    rep.reason);
	cr_expect(rl >= sizeof(tail) - 1 && strcmp(rep.reason + rl -
	    (sizeof(tail) - 1), tail) == 0, "cut short: %s", rep.reason);
	cr_expect(ml >= sizeof(tail) - 1 && strcmp(hk_err_msg() + ml -
	    (sizeof(tail) - 1), tail) == 0, "cut short: %s", hk_err_msg());
	lines_free(&ls);
	EVP_PKEY_free(k);
}

Test(audit, inserting_a_copy_anywhere_is_detected)
{
	struct lines ls;
	char *l[MAXLINES];
	struct hk_audit_report rep;
	size_t p, s, i, n, count = 0;
	EVP_PKEY *k;

	paths("insert");
	k = ec_key();
	build_sample(k);
	sample_load(&ls);
	for (p = 0; p <= ls.n; p++) {
		for (s = 0; s < ls.n; s++) {
			for (i = 0, n = 0; i < ls.n; i++) {
				if (i == p)
					l[n++] = ls.l[s];
				l[n++] = ls.l[i];
			}
			if (p == ls.n)
				l[n++] = ls.l[s];
			lines_write(logp, l, n);
			cr_assert_eq(hk_audit_verify(logp, NULL, &rep),
			    HK_ERR_AUDIT, "copy of line %zu at %zu", s + 1,
			    p + 1);
			cr_expect_geq(rep.bad_line, p + 1);
			count++;
		}
	}
	cr_expect_eq(count, (ls.n + 1) * ls.n);
	lines_free(&ls);
	EVP_PKEY_free(k);
}

Test(audit, swapping_adjacent_records_is_detected)
{
	struct lines ls;
	struct hk_audit_report rep;
	size_t i;
	char *t;
	EVP_PKEY *k;

	paths("swap");
	k = ec_key();
	build_sample(k);
	sample_load(&ls);
	for (i = 0; i + 1 < ls.n; i++) {
		t = ls.l[i]; ls.l[i] = ls.l[i + 1]; ls.l[i + 1] = t;
		lines_write(logp, ls.l, ls.n);
		cr_assert_eq(hk_audit_verify(logp, k, &rep), HK_ERR_AUDIT,
		    "swapping lines %zu and %zu", i + 1, i + 2);
		cr_expect_eq(rep.bad_line, i + 1, "%s", rep.reason);
		t = ls.l[i]; ls.l[i] = ls.l[i + 1]; ls.l[i + 1] = t;
	}
	lines_free(&ls);
	EVP_PKEY_free(k);
}

Test(audit, truncating_at_any_offset_is_detected)
{
	unsigned char *orig;
	size_t len, o, det = 0;
	EVP_PKEY *k;

	paths("truncate");
	k = ec_key();
	build_sample(k);
	orig = hk_test_read(logp, &len);
	for (o = 0; o < len; o++) {
		hk_test_write(logp, orig, o);
		if (hk_audit_verify(logp, NULL, NULL) == HK_ERR_AUDIT)
			det++;
		else
			cr_expect_fail("truncation at %zu not detected", o);
	}
	cr_expect_eq(det, len);
	free(orig);
	EVP_PKEY_free(k);
}

Test(audit, first_bad_record_is_named)
{
	unsigned char *b;
	size_t len, off = 0, line = 1;
	struct hk_audit_report rep;
	char *p;
	EVP_PKEY *k;

	paths("first_bad");
	k = ec_key();
	build_sample(k);
	b = hk_test_read(logp, &len);
	/* Find line 8 (record 7: "invalid UTF-8 ..."), change one byte of
	 * its details, and one in record 14 to see that the first is named. */
	while (line < 8)
		if (b[off++] == '\n')
			line++;
	p = strstr((char *)b + off, "invalid");
	cr_assert_not_null(p);
	cr_assert_lt((unsigned char *)p, (unsigned char *)memchr(b + off,
	    '\n', len - off));
	p[0] = 'I';
	p = strstr((char *)b + off, "looks like");
	cr_assert_not_null(p);
	p[0] = 'L';
	hk_test_write(logp, b, len);
	cr_assert_eq(hk_audit_verify(logp, k, &rep), HK_ERR_AUDIT);
	cr_expect_eq(rep.bad_line, 8);
	cr_expect_eq(rep.bad_seq, 7);
	cr_expect_eq(rep.records, 7);
	cr_expect_not_null(strstr(hk_err_msg(), "audit.log:8: record 7: hash "
	    "does not match its contents"), "%s", hk_err_msg());
	cr_expect_str_eq(rep.reason, hk_err_msg());
	free(b);
	EVP_PKEY_free(k);
}

Test(audit, checkpoint_by_another_key_fails)
{
	struct hk_audit_report rep;
	EVP_PKEY *a, *b;

	paths("other_key");
	a = rsa_key();
	b = ec_key();
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "share.open", "ok", "yamada", "1"),
	    0);
	cr_assert_eq(hk_audit_checkpoint(logp, a, "root-a"), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_audit_append(logp, "share.open", "ok", "suzuki", "2"),
	    0);
	/* A key that did not sign the log's checkpoints does not seal it:
	 * a log rewritten and re-signed by another key (its audit-key.pem
	 * replaced) would otherwise get the token's checkpoint on top. */
	cr_assert_eq(hk_audit_checkpoint(logp, b, "root-b"), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(hk_err_msg(), ":3: record 2: checkpoint "
	    "signed by key root-a, not by the given public key; refusing to "
	    "sign a checkpoint"), "%s", hk_err_msg());
	cr_assert_eq(hk_audit_verify(logp, a, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.records, 4, "nothing written by the refusal");
	cr_expect_eq(rep.checkpoints, 1);
	cr_assert_eq(hk_audit_verify(logp, b, &rep), HK_ERR_AUDIT);
	cr_expect_eq(rep.bad_line, 3);
	cr_expect_not_null(strstr(rep.reason, "signed by key root-a, not by "
	    "the given public key"), "%s", rep.reason);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

/* Line i (a checkpoint) re-signed by other, its claimed key-sha256 kept,
 * and the chain relinked after it. */
static void
resign_ckpt(struct lines *ls, size_t i, EVP_PKEY *other)
{
	char *f[8], id[33], b64[1400], buf[64 * 1024], *c0, *ci, *s;
	unsigned char m[128], sig[1024];
	size_t siglen = sizeof(sig), ml;
	EVP_MD_CTX *c;

	c0 = strdup(ls->l[0]);
	cr_assert_eq(fields(c0, f), 0);
	cr_assert_eq(sscanf(f[5], "format=hanko-audit-1 log-id=%32s", id), 1);
	free(c0);
	ci = strdup(ls->l[i]);
	ci[strlen(ci) - 1] = '\0';
	cr_assert_eq(fields(ci, f), 0);
	cr_assert_str_eq(f[2], "audit.checkpoint");
	ml = spec_ckpt_msg(id, (uint64_t)i - 1, f[6], f[1], m);
	c = EVP_MD_CTX_new();
	cr_assert_eq(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, other), 1);
	cr_assert_eq(EVP_DigestSign(c, sig, &siglen, m, ml), 1);
	EVP_MD_CTX_free(c);
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
	s = strstr(f[5], " sig=");
	cr_assert_not_null(s);
	s[5] = '\0';
	snprintf(buf, sizeof(buf), "%s\t%s\t%s\t%s\t%s\t%s%s\t%s\t%s\n",
	    f[0], f[1], f[2], f[3], f[4], f[5], b64, f[6], f[7]);
	free(ls->l[i]);
	ls->l[i] = strdup(buf);
	free(ci);
	spec_relink(ls);
}

/* Rewriting history and recomputing every hash passes the chain check but
 * not the checkpoint signature; a forged signature by another key claiming
 * to be the CA key fails too. */
Test(audit, rewritten_chain_caught_by_signature)
{
	struct lines ls;
	struct hk_audit_report rep;
	EVP_PKEY *k, *other;
	char *p;

	paths("rewrite");
	k = rsa_key();
	other = rsa_key();
	build_sample(k);
	sample_load(&ls);
	p = strstr(ls.l[1], "生成を開始");
	cr_assert_not_null(p);
	memcpy(p, "破棄", strlen("破棄"));	/* same length in UTF-8 */
	spec_relink(&ls);
	lines_write(logp, ls.l, ls.n);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_audit_verify(logp, k, &rep), HK_ERR_AUDIT);
	cr_expect_eq(rep.bad_line, 10);
	cr_expect_eq(rep.bad_seq, 9);
	cr_expect_not_null(strstr(rep.reason, "signature does not verify"),
	    "%s", rep.reason);

	/* Re-sign checkpoint 9 with another key, keep the claimed key-sha256. */
	lines_free(&ls);
	unlink(logp);
	unlink(headp);
	build_sample(k);
	sample_load(&ls);
	resign_ckpt(&ls, 9, other);
	lines_write(logp, ls.l, ls.n);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_audit_verify(logp, k, &rep), HK_ERR_AUDIT);
	cr_expect_eq(rep.bad_line, 10, "%s", rep.reason);
	cr_assert_eq(hk_audit_verify(logp, other, &rep), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(rep.reason, "not by the given public key"));
	lines_free(&ls);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

/*
 * A checkpoint verifies only the last earlier checkpoint's signature (the
 * rest by the chain: docs/audit-log.md "Checkpoints"). An earlier
 * checkpoint forged with another key (its key-sha256 claiming the CA's)
 * and the chain relinked is still refused, through the genuine checkpoint
 * after it; so is a forged last one; and nothing is written.
 */
Test(audit, checkpoint_refuses_forged_earlier_checkpoint)
{
	struct lines ls;
	struct hk_audit_report rep;
	EVP_PKEY *k, *other;
	unsigned char *was;
	size_t wl;
	size_t at[2] = { 9, 23 };	/* the first and the last checkpoint */
	int j;

	k = ec_key();
	other = ec_key();
	for (j = 0; j < 2; j++) {
		paths(j == 0 ? "forged_first" : "forged_last");
		build_sample(k);
		sample_load(&ls);
		resign_ckpt(&ls, at[j], other);
		lines_write(logp, ls.l, ls.n);
		lines_free(&ls);
		cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s",
		    hk_err_msg());
		was = hk_test_read(logp, &wl);
		hk_clock_set(T0 + 60 * 30);
		cr_assert_eq(hk_audit_checkpoint(logp, k, "root-2024"),
		    HK_ERR_AUDIT, "forged checkpoint at record %zu sealed",
		    at[j]);
		cr_expect_not_null(strstr(hk_err_msg(), "audit.log:24: record "
		    "23: checkpoint signature does not verify with the given "
		    "public key; refusing to sign a checkpoint"), "%s",
		    hk_err_msg());
		log_unchanged(was, wl);
	}
	/* The same log unforged takes the checkpoint. */
	paths("forged_none");
	build_sample(k);
	hk_clock_set(T0 + 60 * 30);
	cr_assert_eq(hk_audit_checkpoint(logp, k, "root-2024"), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_audit_verify(logp, k, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.checkpoints, 4);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

Test(audit, append_after_reopen_continues_the_chain)
{
	struct hk_audit_report rep;
	struct lines ls;
	char *f[8], *g[8];

	paths("reopen");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "init", "ok", "yamada", "初期化"),
	    0);
	cr_assert_eq(hk_audit_append(logp, "token.login", "fail", "yamada",
	    "PIN 誤り"), 0);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0);
	cr_assert_eq(rep.records, 3);
	/* A later run of the program: nothing held in memory. */
	hk_clock_set(T0 + 86400);
	cr_assert_eq(hk_audit_append(logp, "token.login", "ok", "yamada", ""),
	    0);
	cr_assert_eq(hk_audit_append(logp, "root.create", "ok",
	    "yamada,suzuki", NULL), 0);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.records, 5);
	cr_expect_eq(rep.unsigned_records, 5);
	cr_expect_eq(rep.last_checkpoint_seq, -1);
	sample_load(&ls);
	cr_assert_eq(ls.n, 5);
	ls.l[2][strlen(ls.l[2]) - 1] = '\0';
	ls.l[3][strlen(ls.l[3]) - 1] = '\0';
	cr_assert_eq(fields(ls.l[2], f), 0);
	cr_assert_eq(fields(ls.l[3], g), 0);
	cr_expect_str_eq(g[0], "3");
	cr_expect_str_eq(g[1], "2024-04-02T09:00:00Z");
	cr_expect_str_eq(g[6], f[7]);
	lines_free(&ls);
}

Test(audit, create_refuses_an_existing_log)
{
	unsigned char *a;
	size_t al;

	paths("create_exists");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	a = hk_test_read(logp, &al);
	cr_assert_eq(hk_audit_create(logp), HK_ERR_EXISTS);
	cr_expect_not_null(strstr(hk_err_msg(), "already exists"));
	log_unchanged(a, al);
	cr_assert_eq(hk_audit_verify(logp, NULL, NULL), 0);
}

/* docs/audit-log.md: which code points are escaped (C1 controls, the
 * bidirectional and line/paragraph separators, the BOM), their
 * neighbours kept raw, and bytes that are not shortest-form UTF-8
 * escaped byte by byte. */
Test(audit, escaping_edges)
{
	static const struct {
		const char *b;
		int esc;
	} pc[] = {
		{ "\xc2\x80", 1 }, { "\xc2\x9f", 1 }, { "\xc2\xa0", 0 },
		{ "\xd8\x9c", 1 }, { "\xe2\x80\x8d", 0 }, { "\xe2\x80\x8e", 1 },
		{ "\xe2\x80\x8f", 1 }, { "\xe2\x80\xa8", 1 },
		{ "\xe2\x80\xa9", 1 }, { "\xe2\x80\xaa", 1 },
		{ "\xe2\x80\xae", 1 }, { "\xe2\x80\xaf", 0 },
		{ "\xe2\x81\xa5", 0 }, { "\xe2\x81\xa6", 1 },
		{ "\xe2\x81\xa9", 1 }, { "\xe2\x81\xaa", 0 },
		{ "\xef\xbb\xbf", 1 }, { "\xef\xbb\xbe", 0 },
		{ "\xc0\x80", 1 }, { "\xc1\xbf", 1 }, { "\xed\xa0\x80", 1 },
		{ "\xf4\x90\x80\x80", 1 }, { "\xf0\x8f\xbf\xbf", 1 },
		{ "\xe2\x80", 1 }, { "\x80", 1 }, { "\xf4\x8f\xbf\xbf", 0 },
	};
	static const char hx[] = "0123456789abcdef";
	char d[512], want[2048], *f[8];
	unsigned char out[512];
	struct lines ls;
	size_t i, k, dl = 0, wl = 0, n;

	for (i = 0; i < sizeof(pc) / sizeof(pc[0]); i++) {
		const char *b = pc[i].b;

		for (k = 0; b[k] != '\0'; k++) {
			d[dl++] = b[k];
			if (pc[i].esc) {
				want[wl++] = '\\';
				want[wl++] = 'x';
				want[wl++] = hx[(unsigned char)b[k] >> 4];
				want[wl++] = hx[(unsigned char)b[k] & 0xf];
			} else
				want[wl++] = b[k];
		}
		d[dl++] = '|';
		want[wl++] = '|';
	}
	d[dl] = '\0';
	want[wl] = '\0';
	paths("escape_edges");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "test.escape", "ok", "-", d), 0,
	    "%s", hk_err_msg());
	sample_load(&ls);
	ls.l[1][strlen(ls.l[1]) - 1] = '\0';
	cr_assert_eq(fields(ls.l[1], f), 0);
	cr_expect_str_eq(f[5], want);
	n = spec_unescape(f[5], out);
	cr_assert_eq(n, dl);
	cr_assert_eq(memcmp(out, d, n), 0);
	cr_assert_eq(hk_audit_verify(logp, NULL, NULL), 0, "%s", hk_err_msg());
	lines_free(&ls);
}

Test(audit, escaping_round_trips)
{
	static const char d[] = "a\tb\nc\\d\x01" "e\x7f" "f\xff" "g \xe2\x80\xae"
	    " 熊本県 \r end\\";
	struct lines ls;
	char *f[8];
	unsigned char out[256];
	size_t n;
	FILE *pf;
	char pbuf[4096];

	paths("escape");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "test.escape", "ok", "-", d), 0);
	sample_load(&ls);
	ls.l[1][strlen(ls.l[1]) - 1] = '\0';
	cr_assert_eq(fields(ls.l[1], f), 0);
	cr_expect_str_eq(f[5], "a\\tb\\nc\\\\d\\x01e\\x7ff\\xffg \\xe2\\x80\\xae"
	    " 熊本県 \\r end\\\\");
	n = spec_unescape(f[5], out);
	cr_assert_eq(n, strlen(d));
	cr_assert_eq(memcmp(out, d, n), 0);
	cr_assert_eq(hk_audit_verify(logp, NULL, NULL), 0);
	pf = fmemopen(pbuf, sizeof(pbuf), "w");
	cr_assert_eq(hk_audit_print(logp, pf), 0, "%s", hk_err_msg());
	fclose(pf);
	cr_expect_not_null(strstr(pbuf, "熊本県"));
	cr_expect_not_null(strstr(pbuf, "test.escape"));
	cr_expect_null(strchr(pbuf, '\t'));
	cr_expect_null(strchr(pbuf, '\x01'));
	lines_free(&ls);
}

Test(audit, print_one_line_per_record)
{
	char *buf = NULL;
	size_t len = 0, i, nl = 0;
	FILE *pf;
	EVP_PKEY *k;

	paths("print");
	k = ec_key();
	build_sample(k);
	pf = open_memstream(&buf, &len);
	cr_assert_eq(hk_audit_print(logp, pf), 0, "%s", hk_err_msg());
	fclose(pf);
	for (i = 0; i < len; i++)
		nl += buf[i] == '\n';
	cr_expect_eq(nl, 25);
	cr_expect_not_null(strstr(buf, "分散鍵 2/5 を開封: 山田太郎"));
	cr_expect_not_null(strstr(buf, "signed by key root-2024"));
	cr_expect_not_null(strstr(buf, "over records 0-8"));
	free(buf);
	EVP_PKEY_free(k);
}

Test(audit, bad_arguments_are_refused_and_nothing_written)
{
	char big[HK_AUDIT_DETAILS_MAX + 2];
	unsigned char *a;
	size_t al;
	EVP_PKEY *k;

	paths("bad_args");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	a = hk_test_read(logp, &al);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_expect_eq(hk_audit_append(logp, "audit.checkpoint", "ok", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "audit.create", "ok", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "Bad Event", "ok", "-", ""),
	    HK_ERR_INVALID);
	/* [a-z0-9][a-z0-9._-]{0,63}: the first character, the length */
	cr_expect_eq(hk_audit_append(logp, ".cert", "ok", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "-cert", "ok", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "_cert", "ok", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "cert issue", "ok", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "cert/issue", "ok", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "cert.Issue", "ok", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "aB", "ok", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "", "ok", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "a123456789012345678901234567890123"
	    "4567890123456789012345678901234", "ok", "-", ""), HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "x", "OK", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "x", "oK", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "x", "o.k", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "x", "ok", "a,,b", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "x", "ok", ",alice", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "x", "ok", "alice,", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "x", "ok", "a\tb", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, "x", "ok", "-", big),
	    HK_ERR_INVALID);
	k = ec_key();
	cr_expect_eq(hk_audit_checkpoint(logp, k, "bad label"),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_checkpoint(logp, k, "r/oot"), HK_ERR_INVALID);
	cr_expect_eq(hk_audit_checkpoint(logp, k, ""), HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append("/nonexistent/audit.log", "x", "ok", "-",
	    ""), HK_ERR_NOT_FOUND);
	log_unchanged(a, al);
	EVP_PKEY_free(k);
	/* and what lies just inside the rules is taken */
	append_edges_taken();
}

/* A crash between the log append and the head write leaves the head one
 * record behind: not tampering, and the next append heals it. */
Test(audit, head_one_behind_is_a_crash_not_tampering)
{
	struct hk_audit_report rep;
	unsigned char *h;
	size_t hl;

	paths("head_lag");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "a", "ok", "-", "1"), 0);
	h = hk_test_read(headp, &hl);
	cr_assert_eq(hk_audit_append(logp, "b", "ok", "-", "2"), 0);
	hk_test_write(headp, h, hl);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.head_lag, 1);
	cr_assert_eq(hk_audit_append(logp, "c", "ok", "-", "3"), 0);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.head_lag, 0);
	cr_expect_eq(rep.head_mismatches, 0);
	cr_expect_eq(rep.records, 4);
	free(h);
}

/* Cutting records off the end is found through the head file; an append
 * after that still happens, records the evidence, and verify keeps failing. */
Test(audit, truncation_then_append_is_recorded)
{
	struct hk_audit_report rep;
	struct lines ls;
	EVP_PKEY *k;

	paths("trunc_append");
	k = ec_key();
	build_sample(k);
	sample_load(&ls);
	lines_write(logp, ls.l, ls.n - 3);
	cr_assert_eq(hk_audit_verify(logp, k, &rep), HK_ERR_AUDIT);
	cr_expect_eq(rep.bad_line, 0);
	cr_expect_eq(rep.bad_seq, 22);
	cr_expect_not_null(strstr(rep.reason, "names record 24, but the log "
	    "ends at record 21"), "%s", rep.reason);
	hk_clock_set(T0 + 100000);
	cr_assert_eq(hk_audit_append(logp, "token.logout", "ok", "yamada", ""),
	    0, "%s", hk_err_msg());
	cr_assert_eq(hk_audit_verify(logp, k, &rep), HK_ERR_AUDIT);
	cr_expect_eq(rep.head_mismatches, 1);
	cr_expect_eq(rep.bad_line, 23);
	cr_expect_eq(rep.records, 24);	/* the rest was still checked */
	cr_expect_not_null(strstr(rep.reason, "audit.log:23: record 22: the "
	    "head file did not match"), "%s", rep.reason);
	/* The chain itself is sound, so a checkpoint can still sign it. */
	cr_assert_eq(hk_audit_checkpoint(logp, k, "root-2024"), 0, "%s",
	    hk_err_msg());
	lines_free(&ls);
	EVP_PKEY_free(k);
}

Test(audit, head_file_missing_or_malformed_fails)
{
	struct hk_audit_report rep;
	unsigned char *h;
	size_t hl;
	char *p;

	paths("head_bad");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "a", "ok", "-", "1"), 0);
	h = hk_test_read(headp, &hl);
	unlink(headp);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(rep.reason, "audit.log.head: missing"));
	p = strstr((char *)h, "hash=") + 5;
	*p = (char)(*p >= 'a' ? *p - 32 : *p == '0' ? 'A' : *p);
	if (*p >= '0' && *p <= '9')
		*p = 'A';
	hk_test_write(headp, h, hl);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(rep.reason, "not \"hanko-audit-head-1"),
	    "%s", rep.reason);
	free(h);
}

Test(audit, checkpoint_refuses_a_tampered_chain)
{
	unsigned char *a;
	size_t al;
	char *p;
	EVP_PKEY *k;

	paths("ckpt_tampered");
	k = ec_key();
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "kato",
	    "serial 01"), 0);
	cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "kato",
	    "serial 02"), 0);
	a = hk_test_read(logp, &al);
	p = strstr((char *)a, "serial 01");
	p[8] = '9';
	hk_test_write(logp, a, al);
	cr_assert_eq(hk_audit_checkpoint(logp, k, "root"), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(hk_err_msg(), "refusing to sign"));
	log_unchanged(a, al);
	EVP_PKEY_free(k);
	/* and what lies just inside the rules is taken */
	append_edges_taken();
}

Test(audit, append_refuses_a_damaged_last_line)
{
	unsigned char *a, *b;
	size_t al, bl;

	paths("damaged_tail");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "a", "ok", "-", "1"), 0);
	a = hk_test_read(logp, &al);
	hk_test_write(logp, a, al - 1);		/* no final newline */
	cr_assert_eq(hk_audit_append(logp, "b", "ok", "-", "2"), HK_ERR_AUDIT);
	b = hk_test_read(logp, &bl);
	cr_assert_eq(bl, al - 1);
	free(a);
	free(b);
}

/* A disk that fills up part-way through a record (here RLIMIT_FSIZE, under
 * which write() stops short and then fails, as it does on ENOSPC): the
 * append fails and the log is as it was, not left with half a line that
 * would refuse every later append and fail verify as if tampered with.
 * Once there is room again the chain goes on. */
Test(audit, append_cut_short_leaves_the_log_as_it_was)
{
	struct hk_audit_report rep;
	struct rlimit was, lim;
	unsigned char *a, *h, *h2;
	size_t al, hl, hl2;
	char big[4000];
	int r;

	paths("append_short");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "a", "ok", "-", "1"), 0);
	a = hk_test_read(logp, &al);
	h = hk_test_read(headp, &hl);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_neq(signal(SIGXFSZ, SIG_IGN), SIG_ERR);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &was), 0);
	lim = was;
	lim.rlim_cur = (rlim_t)al + 1000;	/* room for a part of the line */
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = hk_audit_append(logp, "b", "ok", "-", big);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &was), 0);
	cr_assert_eq(r, HK_ERR_IO, "%s", hk_err_msg());
	cr_expect_not_null(strstr(hk_err_msg(), "cannot append"), "%s",
	    hk_err_msg());
	log_unchanged(a, al);
	h2 = hk_test_read(headp, &hl2);
	cr_expect(hl2 == hl && memcmp(h, h2, hl) == 0, "head file changed");
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_audit_append(logp, "c", "ok", "-", big), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.records, 3);
	cr_expect_eq(rep.head_lag, 0);
	free(h);
	free(h2);
}

/* The record went in but the head file could not be written after it (a
 * full disk for the head's temp file; here a folder where the head file
 * belongs makes the rename fail): the append reports failure, so the log
 * must not keep the record (or the head-mismatch record written before
 * it), or the log would show as done what the caller then undoes. */
Test(audit, append_whose_head_cannot_be_written_is_undone)
{
	struct hk_audit_report rep;
	unsigned char *a, *b, *h;
	size_t al, hl;
	EVP_PKEY *k;

	paths("head_unwritable");
	k = ec_key();
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "a", "ok", "-", "1"), 0);
	a = hk_test_read(logp, &al);
	h = hk_test_read(headp, &hl);
	cr_assert_eq(unlink(headp), 0);
	cr_assert_eq(mkdir(headp, 0700), 0);
	cr_assert_neq(hk_audit_append(logp, "ceremony.step", "ok", "-",
	    "step x"), 0);
	cr_expect_not_null(strstr(hk_err_msg(), "audit.log.head"), "%s",
	    hk_err_msg());
	b = malloc(al);
	cr_assert_not_null(b);
	memcpy(b, a, al);
	log_unchanged(b, al);
	cr_assert_neq(hk_audit_checkpoint(logp, k, "audit-1"), 0);
	log_unchanged(a, al);
	cr_assert_eq(rmdir(headp), 0);
	hk_test_write(headp, h, hl);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.records, 2);
	cr_assert_eq(hk_audit_append(logp, "b", "ok", "-", "2"), 0);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.records, 3);
	free(h);
	EVP_PKEY_free(k);
}

Test(audit, time_may_go_backwards_but_is_counted)
{
	struct hk_audit_report rep;

	paths("time_back");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	hk_clock_set(T0 - 3600);	/* a rehearsal set the clock back */
	cr_assert_eq(hk_audit_append(logp, "rehearsal", "ok", "-", ""), 0);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.time_backsteps, 1);
}

Test(audit, missing_log_is_not_found)
{
	struct hk_audit_report rep;

	paths("missing");
	cr_expect_eq(hk_audit_verify(logp, NULL, &rep), HK_ERR_NOT_FOUND);
	cr_expect_eq(hk_audit_print(logp, stdout), HK_ERR_NOT_FOUND);
}

/* Editing one record and fixing its own hash breaks the next record's prev. */
Test(audit, edit_with_own_hash_fixed_breaks_the_next_prev)
{
	struct hk_audit_report rep;
	struct lines ls;
	unsigned char prev[32], h[32];
	char *f[8], *c, hh[65], buf[4096];

	paths("edit_rehash");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "kato",
	    "serial 01"), 0);
	cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "kato",
	    "serial 02"), 0);
	cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "kato",
	    "serial 03"), 0);
	sample_load(&ls);
	c = strdup(ls.l[2]);
	c[strlen(c) - 1] = '\0';
	cr_assert_eq(fields(c, f), 0);
	f[5] = "serial 99";
	cr_assert_eq(hk_hex_decode(f[6], prev, 32), 0);
	spec_hash(f, prev, h);
	hk_hex_encode(h, 32, hh);
	snprintf(buf, sizeof(buf), "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f[0],
	    f[1], f[2], f[3], f[4], f[5], f[6], hh);
	free(ls.l[2]);
	ls.l[2] = strdup(buf);
	free(c);
	lines_write(logp, ls.l, ls.n);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), HK_ERR_AUDIT);
	cr_expect_eq(rep.bad_line, 4);
	cr_expect_not_null(strstr(rep.reason, "audit.log:4: record 3: prev does "
	    "not match the hash of record 2"), "%s", rep.reason);
	lines_free(&ls);
}

/* "\x09" and "\t" decode to the same byte, so the hash cannot tell them
 * apart: only the canonical-escaping rule keeps one line per record. */
Test(audit, non_canonical_escape_with_valid_hash_is_refused)
{
	static const char *const alt[][2] = {
		{ "\\t", "\\x09" }, { "A", "\\x41" }, { "熊", "\\xe7\\x86\\x8a" },
	};
	struct hk_audit_report rep;
	struct lines ls;
	unsigned char *orig;
	char *p, tmp[256];
	size_t i, olen;

	paths("noncanonical");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "note", "ok", "-", "x\tA熊"), 0);
	orig = hk_test_read(logp, &olen);
	for (i = 0; i < 3; i++) {
		hk_test_write(logp, orig, olen);
		sample_load(&ls);
		p = strstr(ls.l[1], alt[i][0]);
		cr_assert_not_null(p);
		snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)(p - ls.l[1]),
		    ls.l[1], alt[i][1], p + strlen(alt[i][0]));
		free(ls.l[1]);
		ls.l[1] = strdup(tmp);
		spec_relink(&ls);	/* the hash is the same as before */
		lines_write(logp, ls.l, ls.n);
		cr_assert_eq(hk_audit_verify(logp, NULL, &rep), HK_ERR_AUDIT,
		    "%s accepted", alt[i][1]);
		cr_expect_not_null(strstr(rep.reason, "audit.log:2: record 1: "
		    "details: not canonically escaped"), "%s", rep.reason);
		lines_free(&ls);
	}
	free(orig);
}

/* Without the key an attacker can relink the chain after removing a record,
 * but the numbering still shows the gap (and a checkpoint after it fails). */
Test(audit, relinked_deletion_leaves_a_numbering_gap)
{
	struct hk_audit_report rep;
	struct lines ls;
	EVP_PKEY *k;
	size_t i;

	paths("relinked_delete");
	k = ec_key();
	build_sample(k);
	sample_load(&ls);
	free(ls.l[4]);
	for (i = 4; i + 1 < ls.n; i++)
		ls.l[i] = ls.l[i + 1];
	ls.n--;
	spec_relink(&ls);
	lines_write(logp, ls.l, ls.n);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), HK_ERR_AUDIT);
	cr_expect_eq(rep.bad_line, 5);
	cr_expect_not_null(strstr(rep.reason, "audit.log:5: record 4: sequence "
	    "number is 5, expected 4"), "%s", rep.reason);
	lines_free(&ls);
	EVP_PKEY_free(k);
}

/* Appends from several processes at once are serialised by the flock. */
Test(audit, concurrent_appends_keep_one_chain)
{
	struct hk_audit_report rep;
	pid_t pid[4];
	int i, j, st;

	paths("concurrent");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	for (i = 0; i < 4; i++) {
		cr_assert_geq(pid[i] = fork(), 0);
		if (pid[i] == 0) {
			char d[64];
			for (j = 0; j < 25; j++) {
				snprintf(d, sizeof(d), "worker %d 記録 %d", i, j);
				if (hk_audit_append(logp, "test.concurrent", "ok",
				    "-", d) != 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (i = 0; i < 4; i++) {
		cr_assert_eq(waitpid(pid[i], &st, 0), pid[i]);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.records, 101);
	cr_expect_eq(rep.head_mismatches, 0);
	cr_expect_eq(rep.head_lag, 0);
}

struct scan_seen {
	uint64_t seqs[64];	/* seq of each record handed over */
	char events[64][80];	/* and its event */
	size_t n;
	int stop_at;		/* return 1 at this seq (0: never) */
};

static int
scan_each(const struct hk_audit_record *rec, void *arg)
{
	struct scan_seen *s = arg;

	cr_assert_lt(s->n, 64);
	s->seqs[s->n] = rec->seq;
	snprintf(s->events[s->n], sizeof(s->events[0]), "%s", rec->event);
	s->n++;
	return s->stop_at != 0 && rec->seq == (uint64_t)s->stop_at ? 1 : 0;
}

/* hk_audit_scan: every record but checkpoints, in order;
 * a stop from the callback; and a log that fails verification refused. */
Test(audit, scan_hands_over_each_record)
{
	struct scan_seen s;
	unsigned char *a;
	size_t al, i;
	EVP_PKEY *k;

	paths("scan");
	k = ec_key();
	build_sample(k);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(hk_audit_scan(logp, scan_each, &s), 0, "%s", hk_err_msg());
	cr_expect_eq(s.n, 22, "25 records less 3 checkpoints");
	for (i = 0; i < s.n; i++)
		cr_expect_neq(strcmp(s.events[i], "audit.checkpoint"), 0);
	cr_expect_eq(s.seqs[0], 0);
	cr_expect_str_eq(s.events[0], "audit.create");
	cr_expect_eq(s.seqs[s.n - 1], 24);
	for (i = 1; i < s.n; i++)
		cr_expect_gt(s.seqs[i], s.seqs[i - 1]);
	memset(&s, 0, sizeof(s));
	s.stop_at = 5;
	cr_expect_eq(hk_audit_scan(logp, scan_each, &s), 1);
	cr_expect_eq(s.seqs[s.n - 1], 5);
	/* cut the final newline: the scan refuses the log */
	a = hk_test_read(logp, &al);
	hk_test_write(logp, a, al - 1);
	memset(&s, 0, sizeof(s));
	cr_expect_eq(hk_audit_scan(logp, scan_each, &s), HK_ERR_AUDIT);
	free(a);
	EVP_PKEY_free(k);
}

/* hk_audit_copy (a backup of the state, docs/backup.md): copies taken
 * while other processes append are each a whole log with its own head
 * file (the copy holds the log's lock: no half record, no head of another
 * moment), each a prefix of the final log, and say where they end; a copy
 * is never written over. */
Test(audit, copy_while_others_append_is_whole)
{
	struct hk_audit_report rep;
	struct hk_audit_copy ac;
	unsigned char *fin, *cp, *h;
	char to[4300], th[4400], d[64], *hx;
	size_t flen, clen, hlen;
	pid_t pid[3];
	int i, j, st;

	paths("copy");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	for (i = 0; i < 3; i++) {
		cr_assert_geq(pid[i] = fork(), 0);
		if (pid[i] == 0) {
			for (j = 0; j < 60; j++) {
				snprintf(d, sizeof(d), "worker %d 記録 %d", i, j);
				if (hk_audit_append(logp, "test.copy", "ok", "-",
				    d) != 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (i = 0; i < 20; i++) {
		snprintf(to, sizeof(to), "%s.copy-%d", logp, i);
		cr_assert_eq(hk_audit_copy(logp, to, &ac), 0, "%s",
		    hk_err_msg());
		cr_assert_eq(hk_audit_verify(to, NULL, &rep), 0, "copy %d: %s",
		    i, hk_err_msg());
		cr_expect_eq(rep.head_lag, 0, "copy %d: its head is its log's",
		    i);
		cr_expect_str_eq(ac.log_id, rep.log_id);
		cr_expect_eq(ac.last_seq, rep.records - 1);
		cr_expect_str_eq(ac.last_hash, rep.last_hash);
		cp = hk_test_read(to, &clen);
		cr_expect_eq(clen, ac.log_size);
		{
			unsigned char dg[32];
			char a[65], b[65];
			EVP_Digest(cp, clen, dg, NULL, EVP_sha256(), NULL);
			hk_hex_encode(dg, 32, a);
			hk_hex_encode(ac.log_sha256, 32, b);
			cr_expect_str_eq(a, b, "log_sha256 is the copy's");
		}
		free(cp);
	}
	for (i = 0; i < 3; i++) {
		cr_assert_eq(waitpid(pid[i], &st, 0), pid[i]);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	fin = hk_test_read(logp, &flen);
	for (i = 0; i < 20; i++) {
		snprintf(to, sizeof(to), "%s.copy-%d", logp, i);
		cp = hk_test_read(to, &clen);
		cr_expect(clen <= flen && memcmp(cp, fin, clen) == 0,
		    "copy %d is a prefix of the log", i);
		free(cp);
	}
	/* the last copy's head names its last record */
	snprintf(th, sizeof(th), "%s.copy-19.head", logp);
	h = hk_test_read(th, &hlen);
	cr_assert_not_null(hx = strstr((char *)h, "hash="));
	cr_expect_eq(strncmp(hx + 5, ac.last_hash, 64), 0);
	free(h);
	/* never written over: the copy and its head as they were */
	snprintf(to, sizeof(to), "%s.copy-0", logp);
	cp = hk_test_read(to, &clen);
	cr_expect_eq(hk_audit_copy(logp, to, &ac), HK_ERR_EXISTS);
	h = hk_test_read(to, &hlen);
	cr_expect(hlen == clen && memcmp(h, cp, clen) == 0);
	free(h);
	free(cp);
	free(fin);
}

/* ---- the yearly close (docs/audit-log.md "Retention") --------------- */

static char closedp[4096], tdir[4096];

/* A log of five records and a checkpoint in test dir name, then closed
 * with key at T0 + 1 day by op1,auditor1; out filled. */
static void
close_sample(const char *name, EVP_PKEY *key, struct hk_audit_closed *out)
{
	int i;

	paths(name);
	strcpy(tdir, logp);
	*strrchr(tdir, '/') = '\0';
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0, "%s", hk_err_msg());
	for (i = 0; i < 4; i++)
		cr_assert_eq(hk_audit_append(logp, sample_events[i], "ok",
		    sample_actors[i], sample_details[i]), 0, "%s",
		    hk_err_msg());
	cr_assert_eq(hk_audit_checkpoint(logp, key, "audit-1"), 0, "%s",
	    hk_err_msg());
	hk_clock_set(T0 + 86400);
	cr_assert_eq(hk_audit_close(logp, key, "audit-1", "op1,auditor1",
	    out), 0, "%s", hk_err_msg());
	snprintf(closedp, sizeof(closedp), "%s", out->closed_log);
}

/* Point logp/headp (which spec_relink writes) at path. */
static void
use_log(const char *path)
{
	cr_assert_lt(strlen(path), sizeof(logp));
	strcpy(logp, path);
	strcpy(headp, path);
	strcat(headp, ".head");
}

/* Insert "<seq> <time> event result actors details" as line at of the log
 * at logp, renumber the seqs after it and relink (as an attacker without
 * the checkpoint key can); at == n appends. */
static void
forge_insert(size_t at, const char *event, const char *result,
    const char *actors, const char *details)
{
	struct lines ls;
	char buf[8192], *f[8];
	size_t i;

	sample_load(&ls);
	cr_assert_leq(at, ls.n);
	cr_assert_lt(ls.n, MAXLINES);
	for (i = ls.n; i > at; i--)
		ls.l[i] = ls.l[i - 1];
	ls.n++;
	snprintf(buf, sizeof(buf), "0\t2024-04-02T09:00:00Z\t%s\t%s\t%s\t%s\t"
	    "%064d\t%064d\n", event, result, actors, details, 0, 0);
	ls.l[at] = strdup(buf);
	for (i = at; i < ls.n; i++) {
		char *c = strdup(ls.l[i]);
		c[strlen(c) - 1] = '\0';
		cr_assert_eq(fields(c, f), 0);
		snprintf(buf, sizeof(buf), "%zu\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		    i, f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
		free(ls.l[i]);
		ls.l[i] = strdup(buf);
		free(c);
	}
	spec_relink(&ls);
	lines_write(logp, ls.l, ls.n);
	lines_free(&ls);
}

Test(audit, close_seals_the_log_and_the_new_log_links_to_it)
{
	struct hk_audit_closed c;
	struct hk_audit_report rc, rn, rp;
	EVP_PKEY *key = ec_key();
	char want[4200], *buf = NULL, id[33];
	struct stat st;
	size_t blen = 0;
	FILE *mem;

	close_sample("close_ok", key, &c);
	/* the closed log: in closed/, named for its id and day, 0400 */
	cr_assert_eq(strlen(c.old_log_id), 32);
	snprintf(want, sizeof(want), "%s/closed/audit-%s-20240402.log",
	    tdir, c.old_log_id);
	cr_expect_str_eq(c.closed_log, want);
	cr_assert_eq(stat(c.closed_log, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0400);
	snprintf(want, sizeof(want), "%s.head", c.closed_log);
	cr_assert_eq(stat(want, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0400);
	cr_expect_eq(c.resumed, 0);
	/* ... verifies, ends with audit.close (seq 6) and its checkpoint */
	cr_assert_eq(hk_audit_verify(c.closed_log, key, &rc), 0, "%s",
	    rc.reason);
	cr_expect_str_eq(rc.log_id, c.old_log_id);
	cr_expect_eq(rc.records, 8);
	cr_expect_eq(rc.close_seq, 6);
	cr_expect_eq(rc.sealed, 1);
	cr_expect_str_eq(rc.close_time, "2024-04-02T09:00:00Z");
	cr_expect_eq(rc.last_checkpoint_seq, 7);
	cr_expect_eq(c.last_seq, 7);
	cr_expect_str_eq(c.last_hash, rc.last_hash);
	/* the new log: create, link, checkpoint; the link names it */
	cr_assert_eq(hk_audit_verify(logp, key, &rn), 0, "%s", rn.reason);
	cr_expect_str_eq(rn.log_id, c.new_log_id);
	cr_expect_str_neq(rn.log_id, c.old_log_id);
	cr_expect_eq(rn.records, 3);
	cr_expect_eq(rn.checkpoints, 1);
	cr_expect_eq(rn.linked, 1);
	cr_expect_eq(rn.close_seq, -1);
	cr_expect_str_eq(rn.prev_log_id, c.old_log_id);
	cr_expect_eq(rn.prev_seq, 7);
	cr_expect_str_eq(rn.prev_hash, rc.last_hash);
	cr_expect_eq(hk_audit_verify_link(&rn, c.closed_log, key, &rp), 0,
	    "%s", hk_err_msg());
	cr_expect_eq(hk_audit_close_pending(logp), 0);
	/* the report of both programs, the closed log found in closed/ */
	cr_assert_not_null(mem = open_memstream(&buf, &blen));
	cr_expect_eq(hk_audit_check_previous(logp, &rn, NULL, key, mem), 0,
	    "%s", hk_err_msg());
	fclose(mem);
	snprintf(want, sizeof(want), "  begins after log %s (closed): the "
	    "link names its record 7 hash %s\n", c.old_log_id, rc.last_hash);
	cr_expect_not_null(strstr(buf, want), "%s", buf);
	snprintf(want, sizeof(want), "  the closed log %s: OK: 8 records "
	    "(signatures verified)", c.closed_log);
	cr_expect_not_null(strstr(buf, want), "%s", buf);
	free(buf);
	/* the closed log's records: audit.close by the actors, naming it */
	{
		struct lines ls;
		char *f[8], *l;

		use_log(c.closed_log);
		sample_load(&ls);
		l = strdup(ls.l[6]);
		l[strlen(l) - 1] = '\0';
		cr_assert_eq(fields(l, f), 0);
		cr_expect_str_eq(f[2], "audit.close");
		cr_expect_str_eq(f[4], "op1,auditor1");
		snprintf(id, sizeof(id), "%s", c.old_log_id);
		snprintf(want, sizeof(want), "log-id=%s", id);
		cr_expect_str_eq(f[5], want);
		free(l);
		lines_free(&ls);
	}
	/* appends go on in the new log */
	snprintf(want, sizeof(want), "%s/audit.log", tdir);
	use_log(want);
	cr_expect_eq(hk_audit_append(logp, "cert.issue", "ok", "kato",
	    "after the close"), 0, "%s", hk_err_msg());
	cr_expect_eq(hk_audit_verify(logp, key, &rn), 0, "%s", rn.reason);
	cr_expect_eq(rn.records, 4);
	EVP_PKEY_free(key);
}

/* A refused close left no new log (audit.log.next) and no audit/closed/. */
static void
close_left_nothing(void)
{
	char np[4200], cd[4200];

	snprintf(np, sizeof(np), "%s.next", logp);
	snprintf(cd, sizeof(cd), "%s", logp);
	strcpy(cd + strlen(cd) - strlen("audit.log"), "closed");
	cr_expect_eq(access(np, F_OK), -1);
	cr_expect_eq(access(cd, F_OK), -1);
}

Test(audit, close_refuses_a_log_that_fails_and_leaves_it)
{
	EVP_PKEY *key = ec_key();
	struct hk_audit_closed c;
	struct lines ls;
	unsigned char *was;
	size_t len;
	int i;

	paths("close_tampered");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	for (i = 0; i < 3; i++)
		cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "kato",
		    sample_details[i]), 0);
	sample_load(&ls);
	ls.l[2][strlen(ls.l[2]) - 70] ^= 1;	/* one bit of a hash */
	lines_write(logp, ls.l, ls.n);
	lines_free(&ls);
	was = hk_test_read(logp, &len);
	cr_expect_eq(hk_audit_close(logp, key, "audit-1", "op1", &c),
	    HK_ERR_AUDIT);
	cr_expect_not_null(strstr(hk_err_msg(), "refusing to close"), "%s",
	    hk_err_msg());
	log_unchanged(was, len);
	close_left_nothing();
	EVP_PKEY_free(key);
}

/* The close's checkpoint, like any (checkpoint_by_another_key_fails): a
 * log whose checkpoints another key signed (rewritten and re-signed, its
 * audit-key.pem replaced) is not sealed and closed by this key. */
Test(audit, close_refuses_a_log_another_key_signed)
{
	EVP_PKEY *a = ec_key(), *b = ec_key();
	struct hk_audit_closed c;
	struct hk_audit_report rep;
	unsigned char *was;
	size_t len;

	paths("close_other_key");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "kato", "1"), 0);
	cr_assert_eq(hk_audit_checkpoint(logp, a, "root-a"), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "kato", "2"), 0);
	was = hk_test_read(logp, &len);
	cr_expect_eq(hk_audit_close(logp, b, "audit-1", "op1", &c),
	    HK_ERR_AUDIT, "a log re-signed by another key was closed");
	cr_expect_not_null(strstr(hk_err_msg(), ":3: record 2: checkpoint "
	    "signed by key root-a, not by the given public key; refusing to "
	    "close"), "%s", hk_err_msg());
	log_unchanged(was, len);
	close_left_nothing();
	/* the key that signed it closes it */
	cr_assert_eq(hk_audit_close(logp, a, "root-a", "op1", &c), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_audit_verify(logp, a, &rep), 0, "%s", hk_err_msg());
	cr_expect_eq(rep.linked, 1);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

Test(audit, a_changed_closed_log_or_a_wrong_link_is_refused)
{
	EVP_PKEY *key = ec_key();
	struct hk_audit_closed c, c2;
	struct hk_audit_report rn, rn2, rp;
	char newlog[4096], copy[4200], other[4096];
	struct lines ls;
	unsigned char *b;
	size_t len;

	close_sample("close_link", key, &c);
	snprintf(newlog, sizeof(newlog), "%s", logp);
	cr_assert_eq(hk_audit_verify(newlog, key, &rn), 0);
	/* another log's closed log: named as another */
	close_sample("close_link_other", key, &c2);
	snprintf(other, sizeof(other), "%s", c2.closed_log);
	cr_expect_eq(hk_audit_verify_link(&rn, other, key, &rp),
	    HK_ERR_AUDIT);
	cr_expect_not_null(strstr(hk_err_msg(), "but the link (record 1 of "
	    "log"), "%s", hk_err_msg());
	/* a log that is not closed (the new log itself) */
	cr_expect_eq(hk_audit_verify_link(&rn, newlog, key, &rp),
	    HK_ERR_AUDIT);
	cr_expect_not_null(strstr(hk_err_msg(), "not a closed log"), "%s",
	    hk_err_msg());
	/* a log with no link has none to check */
	cr_assert_eq(hk_audit_verify(c.closed_log, key, &rn2), 0);
	cr_expect_eq(hk_audit_verify_link(&rn2, c.closed_log, key, &rp),
	    HK_ERR_AUDIT);
	/* the closed log missing: not found */
	snprintf(copy, sizeof(copy), "%s.gone", c.closed_log);
	cr_expect_eq(hk_audit_verify_link(&rn, copy, key, &rp),
	    HK_ERR_NOT_FOUND);
	/* one record of the closed log changed and the chain relinked: the
	 * checkpoints' signatures find it */
	snprintf(copy, sizeof(copy), "%s/copy.log", tdir);
	b = hk_test_read(c.closed_log, &len);
	hk_test_write(copy, b, len);
	free(b);
	use_log(copy);
	sample_load(&ls);
	{
		char *p = strstr(ls.l[3], "slot 0");
		cr_assert_not_null(p);
		p[5] = '9';
	}
	spec_relink(&ls);
	lines_write(logp, ls.l, ls.n);
	lines_free(&ls);
	cr_expect_eq(hk_audit_verify_link(&rn, copy, key, &rp), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(hk_err_msg(), "the closed log before this "
	    "one fails"), "%s", hk_err_msg());
	/* without the key the relinked copy passes on its own, but its last
	 * hash is not the one the link names */
	cr_expect_eq(hk_audit_verify_link(&rn, copy, NULL, &rp), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(hk_err_msg(), "the closed log was changed"),
	    "%s", hk_err_msg());
	/* a link forged to name another last record (the new log relinked,
	 * checked without key): refused against the real closed log */
	use_log(newlog);
	sample_load(&ls);
	{
		char *p = strstr(ls.l[1], "previous-seq=7 ");
		cr_assert_not_null(p);
		p[13] = '6';
	}
	spec_relink(&ls);
	lines_write(logp, ls.l, ls.n);
	lines_free(&ls);
	cr_assert_eq(hk_audit_verify(newlog, NULL, &rn), 0, "%s", rn.reason);
	cr_expect_eq(rn.prev_seq, 6);
	cr_expect_eq(hk_audit_verify_link(&rn, c.closed_log, key, &rp),
	    HK_ERR_AUDIT);
	cr_expect_not_null(strstr(hk_err_msg(), "but the link names record 6"),
	    "%s", hk_err_msg());
	EVP_PKEY_free(key);
}

Test(audit, nothing_may_follow_the_close_and_its_checkpoint)
{
	EVP_PKEY *key = ec_key();
	struct hk_audit_closed c;
	struct hk_audit_report rep;
	char live[4200], d[100];
	unsigned char *b;
	size_t len;

	close_sample("close_after", key, &c);
	/* the closed log as the live log of a close stopped after its seal:
	 * appends and checkpoints refuse, naming what to run */
	snprintf(live, sizeof(live), "%s/live", tdir);
	cr_assert_eq(mkdir(live, 0700), 0);
	strcat(live, "/audit.log");
	b = hk_test_read(c.closed_log, &len);
	hk_test_write(live, b, len);
	free(b);
	{
		char ch[4300], lh[4300];
		snprintf(ch, sizeof(ch), "%s.head", c.closed_log);
		snprintf(lh, sizeof(lh), "%s.head", live);
		b = hk_test_read(ch, &len);
		hk_test_write(lh, b, len);
		free(b);
	}
	b = hk_test_read(live, &len);
	cr_expect_eq(hk_audit_append(live, "cert.issue", "ok", "kato", "x"),
	    HK_ERR_AUDIT);
	cr_expect_not_null(strstr(hk_err_msg(), "the log is closed"), "%s",
	    hk_err_msg());
	cr_expect_eq(hk_audit_checkpoint(live, key, "audit-1"), HK_ERR_AUDIT);
	use_log(live);
	log_unchanged(b, len);
	cr_expect_eq(hk_audit_close_pending(live), 1);
	/* a record forged after the close's checkpoint */
	forge_insert(8, "cert.issue", "ok", "kato", "late");
	cr_expect_eq(hk_audit_verify(live, NULL, &rep), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(rep.reason, "record 8: written after the log "
	    "was closed (record 6 is audit.close"), "%s", rep.reason);
	/* a record between audit.close and its checkpoint */
	b = hk_test_read(c.closed_log, &len);
	hk_test_write(live, b, len);
	free(b);
	forge_insert(7, "cert.issue", "ok", "kato", "squeezed in");
	cr_expect_eq(hk_audit_verify(live, NULL, &rep), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(rep.reason, "record 7: written after the log "
	    "was closed"), "%s", rep.reason);
	/* a second audit.close, with its own checkpoint after it */
	b = hk_test_read(c.closed_log, &len);
	hk_test_write(live, b, len);
	free(b);
	snprintf(d, sizeof(d), "log-id=%s", c.old_log_id);
	forge_insert(8, "audit.close", "ok", "-", d);
	cr_expect_eq(hk_audit_verify(live, NULL, &rep), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(rep.reason, "record 8: written after the log "
	    "was closed"), "%s", rep.reason);
	EVP_PKEY_free(key);
}

Test(audit, close_and_link_records_only_where_they_belong)
{
	EVP_PKEY *key = ec_key();
	struct hk_audit_closed c;
	struct hk_audit_report rep;
	struct lines ls;
	char d[300], *f[8], *l;
	int i;

	/* a real link record's details */
	close_sample("close_only_src", key, &c);
	sample_load(&ls);
	l = strdup(ls.l[1]);
	l[strlen(l) - 1] = '\0';
	cr_assert_eq(fields(l, f), 0);
	snprintf(d, sizeof(d), "%s", f[5]);
	free(l);
	lines_free(&ls);
	/* reserved: no caller may append them */
	paths("close_only");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_expect_eq(hk_audit_append(logp, HK_AUDIT_EV_CLOSE, "ok", "-", ""),
	    HK_ERR_INVALID);
	cr_expect_eq(hk_audit_append(logp, HK_AUDIT_EV_LINK, "ok", "-", d),
	    HK_ERR_INVALID);
	for (i = 0; i < 3; i++)
		cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "kato",
		    sample_details[i]), 0);
	/* audit.link as record 2 */
	forge_insert(2, HK_AUDIT_EV_LINK, "ok", "-", d);
	cr_expect_eq(hk_audit_verify(logp, NULL, &rep), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(rep.reason, "record 2: audit.link is allowed "
	    "only as record 1"), "%s", rep.reason);
	/* as record 1 but malformed: refused likewise */
	paths("close_only2");
	cr_assert_eq(hk_audit_create(logp), 0);
	forge_insert(1, HK_AUDIT_EV_LINK, "ok", "-", "previous-log-id=xyz");
	cr_expect_eq(hk_audit_verify(logp, NULL, &rep), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(rep.reason, "record 1: audit.link is allowed "
	    "only as record 1, as"), "%s", rep.reason);
	/* audit.close naming another log */
	paths("close_only3");
	cr_assert_eq(hk_audit_create(logp), 0);
	snprintf(d, sizeof(d), "log-id=%s", c.old_log_id);
	forge_insert(1, HK_AUDIT_EV_CLOSE, "ok", "-", d);
	cr_expect_eq(hk_audit_verify(logp, NULL, &rep), HK_ERR_AUDIT);
	cr_expect_not_null(strstr(rep.reason, "record 1: audit.close must be"),
	    "%s", rep.reason);
	EVP_PKEY_free(key);
}

/* A second close within the first closed log's year (a close run again by
 * mistake, or the next year's a day early): the first closed log is linked
 * from the second only, and audit verify of the live log must still find
 * it missing, changed or swapped while CPS 4-11-4 keeps it. */
Test(audit, a_closed_log_behind_a_closed_log_is_checked_within_its_year)
{
	EVP_PKEY *key = ec_key();
	struct hk_audit_closed c1, c2;
	struct hk_audit_report rn;
	char gone[4200], gone_h[4300], h1[4200], *buf = NULL, want[4300];
	size_t blen = 0;
	FILE *mem;

	close_sample("close_twice", key, &c1);
	hk_clock_set(T0 + 2 * 86400);
	cr_assert_eq(hk_audit_close(logp, key, "audit-1", "op1,auditor1",
	    &c2), 0, "%s", hk_err_msg());
	cr_assert_str_eq(c2.old_log_id, c1.new_log_id);
	cr_assert_eq(hk_audit_verify(logp, key, &rn), 0, "%s", rn.reason);
	/* both there: both links checked and said */
	cr_assert_not_null(mem = open_memstream(&buf, &blen));
	cr_expect_eq(hk_audit_check_previous(logp, &rn, NULL, key, mem), 0,
	    "%s", hk_err_msg());
	fclose(mem);
	snprintf(want, sizeof(want), "  the closed log %s: OK", c2.closed_log);
	cr_expect_not_null(strstr(buf, want), "%s", buf);
	snprintf(want, sizeof(want), "  the closed log %s: OK", c1.closed_log);
	cr_expect_not_null(strstr(buf, want), "%s", buf);
	free(buf);
	/* the first closed log removed within its year: refused, named */
	snprintf(gone, sizeof(gone), "%s.gone", c1.closed_log);
	snprintf(h1, sizeof(h1), "%s.head", c1.closed_log);
	snprintf(gone_h, sizeof(gone_h), "%s.head", gone);
	cr_assert_eq(rename(c1.closed_log, gone), 0);
	cr_assert_eq(rename(h1, gone_h), 0);
	cr_assert_not_null(mem = fopen("/dev/null", "w"));
	cr_expect_eq(hk_audit_check_previous(logp, &rn, NULL, key, mem),
	    HK_ERR_AUDIT);
	fclose(mem);
	cr_expect_not_null(strstr(hk_err_msg(), c1.old_log_id), "%s",
	    hk_err_msg());
	cr_expect_not_null(strstr(hk_err_msg(), "is missing"), "%s",
	    hk_err_msg());
	/* after its year: said, not refused */
	hk_clock_set(T0 + 400 * 86400);
	cr_assert_not_null(mem = open_memstream(&buf, &blen));
	cr_expect_eq(hk_audit_check_previous(logp, &rn, NULL, key, mem), 0,
	    "%s", hk_err_msg());
	fclose(mem);
	cr_expect_not_null(strstr(buf, "is no longer there"), "%s", buf);
	free(buf);
	cr_assert_eq(rename(gone, c1.closed_log), 0);
	cr_assert_eq(rename(gone_h, h1), 0);
	EVP_PKEY_free(key);
}

/* hk_audit_newest (the clock guard, docs/clock.md): the latest time of
 * the log's end, the last of equal ones, from the last `since` on. */
Test(audit, newest_of_the_end_from_the_last_accept)
{
	struct hk_audit_newest nw;

	paths("newest");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_newest(logp, "clock.accept", &nw), 0, "%s",
	    hk_err_msg());
	cr_expect_eq(nw.seq, 0);
	cr_expect_str_eq(nw.event, "audit.create");
	hk_clock_set(T0 + 7200);
	cr_assert_eq(hk_audit_append(logp, "issue.done", "ok", "-", ""), 0);
	hk_clock_set(T0 + 60);		/* set back: records 2, 3 earlier */
	cr_assert_eq(hk_audit_append(logp, "publish.run", "ok", "-", ""), 0);
	cr_assert_eq(hk_audit_append(logp, "publish.run", "ok", "-", ""), 0);
	cr_assert_eq(hk_audit_newest(logp, "clock.accept", &nw), 0);
	cr_expect_eq(nw.seq, 1, "the newest, not the last");
	cr_expect_eq(nw.t, T0 + 7200);
	cr_expect_str_eq(nw.time, "2024-04-01T11:00:00Z");
	cr_expect_str_eq(nw.event, "issue.done");
	cr_expect_eq(nw.last_seq, 3);
	cr_expect_str_eq(nw.last_time, "2024-04-01T09:01:00Z");
	/* equal times: the last of them */
	hk_clock_set(T0 + 7200);
	cr_assert_eq(hk_audit_append(logp, "x", "ok", "-", ""), 0);
	cr_assert_eq(hk_audit_newest(logp, NULL, &nw), 0);
	cr_expect_eq(nw.seq, 4);
	/* an acceptance: the records before it no longer count */
	hk_clock_set(T0 + 120);
	cr_assert_eq(hk_audit_append(logp, "clock.accept", "ok", "-", ""), 0);
	cr_assert_eq(hk_audit_newest(logp, "clock.accept", &nw), 0);
	cr_expect_eq(nw.seq, 5);
	cr_expect_str_eq(nw.event, "clock.accept");
	hk_clock_set(T0 + 180);
	cr_assert_eq(hk_audit_append(logp, "issue.done", "ok", "-", ""), 0);
	cr_assert_eq(hk_audit_newest(logp, "clock.accept", &nw), 0);
	cr_expect_eq(nw.seq, 6);
	cr_assert_eq(hk_audit_newest(logp, NULL, &nw), 0);
	cr_expect_eq(nw.seq, 4, "without since: the newest of all");
}

/* A log longer than the window: it starts inside a line, which is
 * skipped; a record beyond the window does not count. */
Test(audit, newest_window_starts_inside_a_line)
{
	struct hk_audit_newest nw;
	char *big;
	int i, n;

	paths("newest_window");
	big = malloc(HK_AUDIT_DETAILS_MAX + 1);
	cr_assert_not_null(big);
	memset(big, 'a', HK_AUDIT_DETAILS_MAX);
	big[HK_AUDIT_DETAILS_MAX] = '\0';
	hk_clock_set(T0 + 86400);
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "far.ahead", "ok", "-", ""), 0);
	hk_clock_set(T0);
	n = HK_AUDIT_NEWEST_WINDOW / HK_AUDIT_DETAILS_MAX + 2;
	for (i = 0; i < n; i++) {
		hk_clock_set(T0 + i);
		cr_assert_eq(hk_audit_append(logp, "filler", "ok", "-", big),
		    0);
	}
	free(big);
	cr_assert_eq(hk_audit_newest(logp, "clock.accept", &nw), 0, "%s",
	    hk_err_msg());
	cr_expect_eq(nw.seq, (uint64_t)n + 1, "seq %llu",
	    (unsigned long long)nw.seq);
	cr_expect_eq(nw.t, T0 + n - 1);
	cr_expect_eq(nw.last_seq, (uint64_t)n + 1);
}

/* A log begun by a close, shorter than the window: its first records are
 * the close's, dated by the close's clock; the window goes on into the
 * closed log it links back to (and through its link), unless a since
 * record was read first. A closed log no longer there ends it. */
Test(audit, newest_reads_on_into_the_closed_log)
{
	EVP_PKEY *key = ec_key();
	struct hk_audit_newest nw;
	struct hk_audit_closed c1, c2;
	char gone[4200];

	paths("newest_closed");
	hk_clock_set(T0 + 86400);	/* records of a clock a day ahead */
	cr_assert_eq(hk_audit_create(logp), 0);
	cr_assert_eq(hk_audit_append(logp, "issue.done", "ok", "-", ""), 0);
	hk_clock_set(T0);		/* the close at the right clock */
	cr_assert_eq(hk_audit_close(logp, key, "audit-1", "op1", &c1), 0,
	    "%s", hk_err_msg());
	cr_assert_eq(hk_audit_newest(logp, "clock.accept", &nw), 0, "%s",
	    hk_err_msg());
	cr_expect_eq(nw.seq, 1, "seq %llu", (unsigned long long)nw.seq);
	cr_expect_eq(nw.t, T0 + 86400);
	cr_expect_str_eq(nw.event, "issue.done");
	cr_expect_str_eq(nw.closed, c1.closed_log);
	cr_expect_eq(nw.last_seq, 2, "the live log's last record");
	/* and back through a second close */
	hk_clock_set(T0 + 60);
	cr_assert_eq(hk_audit_close(logp, key, "audit-1", "op1", &c2), 0,
	    "%s", hk_err_msg());
	cr_assert_eq(hk_audit_newest(logp, "clock.accept", &nw), 0, "%s",
	    hk_err_msg());
	cr_expect_eq(nw.t, T0 + 86400);
	cr_expect_str_eq(nw.closed, c1.closed_log);
	/* an acceptance in the live log: the closed logs no longer count */
	hk_clock_set(T0 + 120);
	cr_assert_eq(hk_audit_append(logp, "clock.accept", "ok", "-", ""), 0);
	cr_assert_eq(hk_audit_newest(logp, "clock.accept", &nw), 0);
	cr_expect_eq(nw.t, T0 + 120);
	cr_expect_str_eq(nw.closed, "");
	/* without since: read on; the first closed log gone: it ends there */
	cr_assert_eq(hk_audit_newest(logp, NULL, &nw), 0);
	cr_expect_eq(nw.t, T0 + 86400);
	snprintf(gone, sizeof(gone), "%s.gone", c1.closed_log);
	cr_assert_eq(rename(c1.closed_log, gone), 0);
	cr_assert_eq(hk_audit_newest(logp, NULL, &nw), 0, "%s",
	    hk_err_msg());
	cr_expect_eq(nw.t, T0 + 120);
	cr_expect_str_eq(nw.closed, "");
	EVP_PKEY_free(key);
}

/* ---- audit review (shared/review.c, docs/audit-log.md "Weekly review") */

/* The review of logp from since to until, as text (caller frees), of the
 * publisher's log (online) or the offline CA's (its cadence: log.backup);
 * its result in *r. */
static char *
review_of(int online, const char *since, const char *until, EVP_PKEY *pub,
    int *r)
{
	struct hk_review_opts o;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	memset(&o, 0, sizeof(o));
	o.program = online ? "hanko-online" : "hanko-offline";
	o.online = online;
	o.since = since;
	o.until = until;
	cr_assert_eq(hk_review_check(&o), 0, "%s", hk_err_msg());
	cr_assert_not_null(f = open_memstream(&text, &len));
	*r = hk_review_run(logp, pub, NULL, &o, (time_t)-1, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_not_null(text);
	return text;
}

static char *
review(const char *since, const char *until, EVP_PKEY *pub, int *r)
{
	return review_of(1, since, until, pub, r);
}

#define DAY0	"2024-04-01T00:00:00Z"	/* the day of T0 */
#define DAY1	"2024-04-02T00:00:00Z"

Test(audit_review, details_cut_at_a_character_boundary)
{
	/* a note of "a" and 100 x "あ" (3 bytes each): byte 240 falls
	 * inside the 80th character */
	char jp[1 + 300 + 1], ascii[242], want[1024], *text;
	int i, r;

	jp[0] = 'a';
	for (i = 0; i < 100; i++)
		memcpy(jp + 1 + 3 * i, "\xe3\x81\x82", 3);
	jp[301] = '\0';
	memset(ascii, 'b', 241);
	ascii[241] = '\0';
	paths("review_cut");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0, "%s", hk_err_msg());
	hk_clock_set(T0 + 60);
	cr_assert_eq(hk_audit_append(logp, "note", "ok", "aud1", jp), 0);
	cr_assert_eq(hk_audit_append(logp, "note", "ok", "aud1", ascii), 0);
	ascii[240] = '\0';
	cr_assert_eq(hk_audit_append(logp, "note", "ok", "aud1", ascii), 0);
	text = review(DAY0, DAY1, NULL, &r);
	cr_assert_eq(r, HK_ERR_WARNING, "%s", hk_err_msg());
	/* the 79 whole characters after "a", none of the 80th's bytes */
	snprintf(want, sizeof(want), "\n  1 2024-04-01T09:01:00Z note ok aud1 "
	    "%.*s [cut]\n", 1 + 79 * 3, jp);
	cr_expect(strstr(text, want) != NULL, "%s", text);
	cr_expect(strstr(text, "\\x") == NULL, "%s", text);
	/* text of one byte per character: cut at 240 bytes, or not at all */
	snprintf(want, sizeof(want), "\n  2 2024-04-01T09:01:00Z note ok aud1 "
	    "%.240s [cut]\n", ascii);
	cr_expect(strstr(text, want) != NULL, "%s", text);
	snprintf(want, sizeof(want), "\n  3 2024-04-01T09:01:00Z note ok aud1 "
	    "%s\n", ascii);
	cr_expect(strstr(text, want) != NULL, "%s", text);
	/* no checkpoint in the log: said so (not "checkpoint0") */
	cr_expect(strstr(text, "\n  the period's last record 3 is not signed "
	    "yet: it is in the unsigned tail (4 records, no checkpoint yet)\n")
	    != NULL, "%s", text);
	free(text);
}

/* A clock set back a week between the period's records: records 0-3 and
 * 6-7 are the period's, 4-5 are dated the week before. */
Test(audit_review, records_of_another_week_between_are_named)
{
	char *text;
	int i, r;

	paths("review_runs");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0, "%s", hk_err_msg());
	for (i = 1; i <= 3; i++) {
		hk_clock_set(T0 + 60 * i);
		cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "op1",
		    ""), 0);
	}
	hk_clock_set(T0 - 8 * 86400);
	cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "op1", ""), 0);
	cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "op1", ""), 0);
	hk_clock_set(T0 + 3600);
	cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "op1", ""), 0);
	cr_assert_eq(hk_audit_append(logp, "cert.issue", "ok", "op1", ""), 0);
	text = review(DAY0, DAY1, NULL, &r);
	cr_expect(strstr(text, "\n  records 0 to 7 in log order, not "
	    "contiguous: 6 records in 2 runs (0 to 3, 6 to 7), "
	    "2024-04-01T09:00:00Z to 2024-04-01T10:00:00Z; the 2 records "
	    "between them are dated outside the period (the clock was set "
	    "back or corrected: docs/clock.md) and are not in this review\n")
	    != NULL, "%s", text);
	cr_expect(strstr(text, "\n  records 0 to 7: ") == NULL, "%s", text);
	/* for the auditor to read (exit 9): nothing else of the period is */
	cr_expect_eq(r, HK_ERR_WARNING, "%s", text);
	cr_expect(strstr(text, "\n  4 2024-03-24T09:00:00Z cert.issue: "
	    "records 4 to 5, between the period's records 3 and 6, are dated "
	    "outside the period: the clock was set back or corrected "
	    "(docs/clock.md); they are not in this review\n") != NULL, "%s",
	    text);
	free(text);
	/* a period of one run: the range as before, nothing to read */
	text = review("2024-03-24T00:00:00Z", "2024-03-25T00:00:00Z", NULL, &r);
	cr_expect(strstr(text, "\n  records 4 to 5: 2 records, "
	    "2024-03-24T09:00:00Z to 2024-03-24T09:00:00Z\n") != NULL, "%s",
	    text);
	free(text);
}

/* Ten runs: the first eight named, and how many more. */
Test(audit_review, many_runs_named_up_to_eight)
{
	char *text;
	int i, r;

	paths("review_many_runs");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0, "%s", hk_err_msg());
	for (i = 0; i < 10; i++) {
		hk_clock_set(T0 - 8 * 86400);
		cr_assert_eq(hk_audit_append(logp, "x", "ok", "-", ""), 0);
		hk_clock_set(T0 + 60);
		cr_assert_eq(hk_audit_append(logp, "x", "ok", "-", ""), 0);
	}
	text = review(DAY0, DAY1, NULL, &r);
	cr_expect(strstr(text, "\n  records 0 to 20 in log order, not "
	    "contiguous: 11 records in 11 runs (0 to 0, 2 to 2, 4 to 4, 6 to 6, "
	    "8 to 8, 10 to 10, 12 to 12, 14 to 14, and 3 more), "
	    "2024-04-01T09:00:00Z to 2024-04-01T09:01:00Z; the 10 records "
	    "between them are dated outside the period") != NULL, "%s", text);
	free(text);
}

/* A checkpoint after the period's last record signs it, also one dated
 * before the period by a clock set back since. */
Test(audit_review, a_checkpoint_dated_before_the_period_signs_it)
{
	EVP_PKEY *key = ec_key();
	char *text;
	int r;

	paths("review_signed");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0, "%s", hk_err_msg());
	hk_clock_set(T0 + 60);
	cr_assert_eq(hk_audit_append(logp, "x", "ok", "-", ""), 0);
	hk_clock_set(T0 - 8 * 86400);
	cr_assert_eq(hk_audit_checkpoint(logp, key, "audit-1"), 0, "%s",
	    hk_err_msg());
	text = review(DAY0, DAY1, key, &r);
	cr_expect(strstr(text, "\n  the period's last record 1 is signed by "
	    "the checkpoint record 2 (2024-03-24T09:00:00Z)\n") != NULL, "%s",
	    text);
	cr_expect(strstr(text, "unsigned tail") == NULL, "%s", text);
	free(text);
	EVP_PKEY_free(key);
}

/* A ceremony run that was killed leaves its ceremony.start with no
 * ceremony.done: named for the auditor, whether the next start follows
 * or the log ends there; a run ended by a failed step (ceremony.done
 * fail) is not. */
Test(audit_review, a_killed_ceremony_run_is_named)
{
	char *text;
	int r;

	paths("review_killed");
	hk_clock_set(T0);
	cr_assert_eq(hk_audit_create(logp), 0, "%s", hk_err_msg());
	hk_clock_set(T0 + 60);
	cr_assert_eq(hk_audit_append(logp, "ceremony.start", "ok", "-",
	    "init-root script ceremony-scripts/init-root.yaml"), 0);
	cr_assert_eq(hk_audit_append(logp, "key.generate", "ok", "-",
	    "root-1"), 0);
	hk_clock_set(T0 + 600);
	cr_assert_eq(hk_audit_append(logp, "ceremony.start", "ok", "-",
	    "init-root again"), 0);
	cr_assert_eq(hk_audit_append(logp, "ceremony.done", "fail", "-",
	    "step keygen: refused"), 0);
	hk_clock_set(T0 + 900);
	cr_assert_eq(hk_audit_append(logp, "ceremony.start", "ok", "-",
	    "issue-subca"), 0);
	text = review_of(0, DAY0, DAY1, NULL, &r);
	cr_expect_eq(r, HK_ERR_WARNING, "%s", text);
	cr_expect(strstr(text, "\n  1 2024-04-01T09:01:00Z ceremony.start "
	    "init-root script ceremony-scripts/init-root.yaml: no "
	    "ceremony.done follows it before the next ceremony.start: the run "
	    "was killed or the machine lost power, and what it made was not "
	    "undone (docs/ceremonies.md \"Killed runs\": the next ceremony run "
	    "removes it)\n") != NULL,
	    "%s", text);
	cr_expect(strstr(text, "\n  5 2024-04-01T09:15:00Z ceremony.start "
	    "issue-subca: no ceremony.done follows it in the log yet (a run "
	    "still going, or killed)") != NULL, "%s", text);
	cr_expect(strstr(text, "init-root again: no ceremony.done") == NULL,
	    "%s", text);
	free(text);
}

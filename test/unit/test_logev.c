/* test_logev.c - online/logev.c's hk_logev_issued on logs written here:
 * which record says a serial's certificate was delivered (issue.done ok,
 * or a cert.reserve of its batch before that run ended), and the runs
 * that say nothing (a crash, a later cert.issue, another batch); the
 * record parsers take numbers and times only as hanko writes them
 * (inputs test/fuzz/fuzz_logev.c found). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "err.h"
#include "logev.h"
#include "testutil.h"

#define X "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define Y "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define Z "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static char logp[4200];

static void
rec(const char *event, const char *result, const char *details)
{
	cr_assert_eq(hk_audit_append(logp, event, result, "-", details), 0,
	    "%s", hk_err_msg());
}

static void
start(const char *sha)
{
	char d[300];

	snprintf(d, sizeof(d), "batch b.csv sha256 %s: 3 requests, 3 without "
	    "a result, issuing CA generation 1", sha);
	rec("issue.start", "ok", d);
}

static void
done(const char *sha, const char *result)
{
	char d[300];

	snprintf(d, sizeof(d), "batch b.csv sha256 %s: this run 1 issued, 0 "
	    "refused; the batch 1 issued, 0 refused of 3", sha);
	rec("issue.done", result, d);
}

static void
list(const char *event, const char *sha, const char *serial)
{
	char d[300];

	snprintf(d, sizeof(d), "batch %.16s, serial/municipality/line (1): "
	    "%s/431010/1", sha, serial);
	rec(event, "ok", d);
}

/* Serials A to F (sorted), each after the scan: *done (0: none), event. */
static void
scan_at(struct hk_logev_issued *p, size_t *ndone, char at[12][200])
{
	const char *hex[] = { "0A", "0B", "0C", "0D", "0E", "0F" };
	struct hk_audit_report rep;
	struct hk_logev_logs L;
	size_t i;

	memset(p, 0, 6 * sizeof(*p));
	for (i = 0; i < 6; i++)
		snprintf(p[i].hex, sizeof(p[i].hex), "%s", hex[i]);
	cr_assert_eq(hk_audit_verify(logp, NULL, &rep), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_logev_logs_open(&L, logp, &rep, NULL, NULL), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_logev_issued(&L, p, 6, sizeof(*p), ndone), 0,
	    "%s", hk_err_msg());
	if (at != NULL)
		for (i = 0; i < 6; i++) {
			snprintf(at[2 * i], 200, "%s", p[i].issued ?
			    hk_logev_at(&L, p[i].issued) : "");
			snprintf(at[2 * i + 1], 200, "%s", p[i].done ?
			    hk_logev_at(&L, p[i].done) : "");
		}
	hk_logev_logs_free(&L);
}

static void
scan(struct hk_logev_issued *p, size_t *ndone)
{
	scan_at(p, ndone, NULL);
}

Test(logev, issued_evidence)
{
	struct hk_logev_issued p[6];
	size_t nd;

	snprintf(logp, sizeof(logp), "%s/audit.log", hk_test_dir("logev"));
	cr_assert_eq(hk_audit_create(logp), 0, "%s", hk_err_msg());
	/* run 1 of X: 0A's chunk committed (the run reserved again), then
	 * 0B's cert.issue, and the run failed */
	start(X);
	list("cert.reserve", X, "0A");
	list("cert.issue", X, "0A");
	list("cert.reserve", X, "0B");
	list("cert.issue", X, "0B");
	done(X, "fail");
	/* run 1 of Y: 0C signed, killed before its commit (no end); the
	 * cert.reserve of batch Z later says nothing of 0C */
	start(Y);
	list("cert.reserve", Y, "0C");
	list("cert.issue", Y, "0C");
	/* run 2 of X (resumed): 0D signed, killed; run 3 of X: its own
	 * cert.reserve after issue.start is not 0D's run; 0E delivered by
	 * issue.done ok of its own run after a cert.reserve */
	start(X);
	list("cert.issue", X, "0D");
	start(X);
	list("cert.reserve", Z, "0D");	/* another batch */
	list("cert.reserve", X, "0E");
	list("cert.issue", X, "0E");
	list("cert.reserve", X, "0F");
	done(X, "ok");
	scan(p, &nd);
	cr_expect(p[0].issued != 0 && p[0].done != 0 &&
	    strcmp(p[0].event, "cert.reserve") == 0,
	    "0A: its run reserved again after its cert.issue, then failed");
	cr_expect(p[1].issued != 0 && p[1].done != 0 &&
	    strcmp(p[1].event, "issue.done") == 0, "0B: its run failed, "
	    "a later run of X ended ok (it wrote or recovered 0B)");
	cr_expect(p[2].issued != 0 && p[2].done == 0, "0C: a crash");
	cr_expect(p[3].issued != 0 && p[3].done != 0 &&
	    strcmp(p[3].event, "issue.done") == 0,
	    "0D: killed, then a later run of X ended ok (it recovered 0D)");
	cr_expect(p[4].issued != 0 && p[4].done != 0 &&
	    strcmp(p[4].event, "issue.done") == 0,
	    "0E: its run's own issue.done ok said, not the cert.reserve");
	cr_expect(p[5].issued == 0 && p[5].done == 0, "0F: never cert.issue");
	cr_expect_eq(nd, 4);
}

Test(logev, issued_crash_then_resumed_run_fails)
{
	struct hk_logev_issued p[6];
	size_t nd;

	snprintf(logp, sizeof(logp), "%s/audit.log", hk_test_dir("logev2"));
	cr_assert_eq(hk_audit_create(logp), 0, "%s", hk_err_msg());
	/* 0A signed, the run killed before its commit; the resumed run
	 * reserves its own chunks, then fails: 0A stays undelivered */
	start(X);
	list("cert.issue", X, "0A");
	start(X);
	list("cert.reserve", X, "0B");
	list("cert.issue", X, "0B");
	list("cert.reserve", X, "0C");
	list("cert.issue", X, "0D");
	list("cert.issue", X, "0D");	/* a later record: no sign */
	done(X, "fail");
	scan(p, &nd);
	cr_expect(p[0].issued != 0 && p[0].done == 0,
	    "0A: a crash; the next run's cert.reserve is not its run's");
	cr_expect(p[1].done != 0 && strcmp(p[1].event, "cert.reserve") == 0);
	cr_expect(p[3].issued != 0 && p[3].done == 0,
	    "0D: only a later cert.issue, then issue.done fail: not known");
	cr_expect_eq(nd, 1);
}

/* A run with records on both sides of a yearly close (its appends waited
 * for the close's lock, then went to the new log): the closed log's
 * records come first, then the live log's, one sequence; a record is
 * named with the closed log's file when it is there. */
Test(logev, issued_across_a_close)
{
	struct hk_logev_issued p[6];
	struct hk_audit_closed c;
	char at[12][200];
	EVP_PKEY *key;
	size_t nd;

	snprintf(logp, sizeof(logp), "%s/audit.log", hk_test_dir("logev3"));
	cr_assert_eq(hk_audit_create(logp), 0, "%s", hk_err_msg());
	cr_assert_not_null(key = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	/* Y: 0C signed, the run killed (no end) before the close */
	start(Y);
	list("cert.reserve", Y, "0C");
	list("cert.issue", Y, "0C");
	/* X: 0A's chunk signed before the close; the run reserves its next
	 * chunk after it (0A committed), then 0B, then fails */
	start(X);
	list("cert.reserve", X, "0A");
	list("cert.issue", X, "0A");
	cr_assert_eq(hk_audit_close(logp, key, "test", NULL, &c), 0, "%s",
	    hk_err_msg());
	list("cert.reserve", X, "0B");
	list("cert.issue", X, "0B");
	done(X, "fail");
	/* Y resumed: its own cert.reserve is not the killed run's */
	start(Y);
	list("cert.reserve", Y, "0D");
	/* Z: 0E signed, its run ended ok */
	start(Z);
	list("cert.issue", Z, "0E");
	done(Z, "ok");
	scan_at(p, &nd, at);
	cr_expect(p[0].issued != 0 && p[0].done > p[0].issued &&
	    strcmp(p[0].event, "cert.reserve") == 0,
	    "0A: cert.issue in the closed log, its run's cert.reserve in the "
	    "new one");
	cr_expect(strstr(at[0], " of the closed log ") != NULL &&
	    strstr(at[0], c.closed_log) != NULL, "0A's cert.issue: %s", at[0]);
	cr_expect(strstr(at[1], "closed") == NULL, "0A's cert.reserve is the "
	    "live log's: %s", at[1]);
	cr_expect(p[1].issued != 0 && p[1].done == 0, "0B: issue.done fail");
	cr_expect(p[2].issued != 0 && p[2].done == 0, "0C: killed before the "
	    "close, the run after it is another");
	cr_expect(p[4].issued != 0 && p[4].done != 0 &&
	    strcmp(p[4].event, "issue.done") == 0);
	cr_expect_eq(nd, 2);
	EVP_PKEY_free(key);
}

/* "; revoked at T": T as hanko writes it, or not said (recover then takes
 * the record's own time); hk_time_parse alone takes " 4" or "+4" for
 * "04" (test/fuzz/corpus/logev/crash-revoked-at-blank-in-time). */
Test(logev, revoked_at_only_as_hanko_writes_it)
{
	static const char *const bad[] = { "2026- 4-02T10:00:00Z",
	    "2026-+4-02T10:00:00Z", "2026-04-02T 9:00:00Z",
	    "2026-04-02T10:00:+0Z", "2026-02-30T10:00:00Z",
	    "2026-04-02T10:00:00", "2026-04-02 10:00:00Z" };
	char d[200], when[21];
	time_t at = 7;
	size_t i;

	cr_assert_eq(hk_logev_revoked_at("serial 0A: municipality 431001, "
	    "reason 1 (keyCompromise); revoked at 2026-04-02T10:00:00Z", &at,
	    when), 1);
	cr_expect_eq(at, 1775124000);
	cr_expect_str_eq(when, "2026-04-02T10:00:00Z");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(d, sizeof(d), "serial 0A: municipality 431001, reason "
		    "1 (keyCompromise); revoked at %s", bad[i]);
		at = 7;
		cr_expect_eq(hk_logev_revoked_at(d, &at, when), 0, "%s", d);
		cr_expect_eq(at, 7, "%s: *at untouched", d);
	}
	cr_expect_eq(hk_logev_revoked_at("serial 0A: municipality 431001, "
	    "reason 1 (keyCompromise): revoked at 2026-04-02T10:00:00Z", &at,
	    when), 0, "recover's own record (\": revoked at\") says none");
}

/* G of cert.revoke-all and issue.start: a plain decimal as revoke and
 * issue write it (%d); strtol took a sign, blanks and leading zeros. */
Test(logev, generation_only_a_plain_decimal)
{
	static const char *const bad[] = { "+1", " 1", "01", "-0", "1000",
	    "", "1 " };
	static const char *const good[] = { "0", "1", "999" };
	char d[300];
	const char *k, *h;
	size_t kl, i;
	int gen;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(d, sizeof(d), "issuing generation %s key id 5c2a: CPS "
		    "4-4-1-3", bad[i]);
		cr_expect_eq(hk_logev_revoke_all(d, &gen, &k, &kl), 0, "%s",
		    d);
		snprintf(d, sizeof(d), "batch b.csv sha256 " X ": 1 requests, "
		    "1 without a result, issuing CA generation %s", bad[i]);
		cr_assert_not_null(h = hk_logev_start_sha(d));
		if (strcmp(bad[i], "1000") != 0)
			cr_expect_eq(hk_logev_start_gen(h), -1, "%s", d);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(d, sizeof(d), "issuing generation %s key id 5c2a: CPS "
		    "4-4-1-3", good[i]);
		cr_expect_eq(hk_logev_revoke_all(d, &gen, &k, &kl), 1, "%s",
		    d);
		cr_expect_eq(gen, atoi(good[i]));
		cr_expect_eq(kl, 4);
		snprintf(d, sizeof(d), "batch b.csv sha256 " X ": 1 requests, "
		    "1 without a result, issuing CA generation %s", good[i]);
		cr_assert_not_null(h = hk_logev_start_sha(d));
		cr_expect_eq(hk_logev_start_gen(h), atoi(good[i]), "%s", d);
	}
}

/*
 * cmd_status.c - "hanko-offline status": what this CA is, at a glance, for
 * the people in the room before a ceremony: rehearsal or real, token, share
 * set, root generations with fingerprints and validity, and the audit log's
 * state. Read-only: no token session, no audit record.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "audit.h"
#include "cert.h"
#include "ceremony.h"
#include "clock.h"
#include "err.h"
#include "offline.h"
#include "quorum.h"
#include "state.h"

static void
print_root(const struct hk_state *st, int gen)
{
	char key[64], path[4096], fp[96];
	char nb[32] = "invalid-time", na[32] = "invalid-time";
	const char *rel;
	X509 *x = NULL;
	time_t t;

	snprintf(key, sizeof(key), "root.%d.cert", gen);
	if ((rel = hk_state_get(st, key)) == NULL ||
	    hk_state_path(st, rel, path, sizeof(path)) != 0 ||
	    hk_cert_read(path, &x) != 0) {
		printf("  root %d:        (certificate missing: %s)\n", gen,
		    rel ? rel : "not recorded");
		return;
	}
	hk_cert_fingerprint_text(x, fp);
	if (hk_cert_time(X509_get0_notBefore(x), &t) == 0)
		hk_time_format(t, nb, sizeof(nb));
	if (hk_cert_time(X509_get0_notAfter(x), &t) == 0)
		hk_time_format(t, na, sizeof(na));
	printf("  root %d:        %s\n                 valid %s .. %s\n"
	    "                 SHA-256 %s\n", gen, path, nb, na, fp);
	X509_free(x);
}

/* CPS 4-11-4: the log is kept a year and closed once a year
 * (docs/audit-log.md "Retention"): when it began, and whether the close is
 * due (a year after, by the machine's clock). */
static void
yearly_close(const struct hk_audit_report *rep)
{
	time_t begun, due, now = hk_clock_now();

	if (hk_time_parse(rep->first_time, &begun) != 0 ||
	    (due = hk_time_add_years(begun, 1)) == (time_t)-1)
		return;
	if (now < due)
		printf("  yearly close:  the log began %s; its close is due in "
		    "%ld days (CPS 4-11-4)\n", rep->first_time,
		    (long)((due - now) / 86400));
	else
		printf("  yearly close:  DUE: the log began %s, %ld days ago: "
		    "close it with the internal auditor present (hanko-offline "
		    "audit close; CPS 4-11-4, docs/audit-log.md \"Retention\")"
		    "\n", rep->first_time, (long)((now - begun) / 86400));
}

int
cmd_status(int argc, char **argv)
{
	const char *state = NULL, *gens;
	struct hk_state *st = NULL;
	struct hk_quorum_set *set = NULL;
	struct hk_audit_report rep;
	char path[4096];
	FILE *nul;
	int i, n, r;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			puts("usage: hanko-offline status --state DIR");
			return 0;
		} else if (strcmp(argv[i], "--state") == 0) {
			if ((r = hk_opt_once(&state, argc, argv, &i)) != 0)
				return r;
		} else {
			hk_err_set("%s: unknown option (usage: hanko-offline "
			    "status --state DIR)", argv[i]);
			return HK_ERR_USAGE;
		}
	}
	if (state == NULL) {
		hk_err_set("status: --state DIR is required");
		return HK_ERR_USAGE;
	}
	if ((r = hk_state_load(state, &st)) != 0)
		return r;
	printf("CA state %s%s\n", state,
	    strcmp(hk_state_get(st, "rehearsal") ? hk_state_get(st,
	    "rehearsal") : "", "yes") == 0 ? " (REHEARSAL)" : "");
	printf("  created:       %s\n", hk_state_get(st, "created") ?
	    hk_state_get(st, "created") : "?");
	printf("  token:         %s in %s (%s)\n",
	    hk_state_get(st, "token.label") ? hk_state_get(st, "token.label") :
	    "?", hk_state_get(st, "token.module") ? hk_state_get(st,
	    "token.module") : "?", strcmp(hk_state_get(st, "token.embedded") ?
	    hk_state_get(st, "token.embedded") : "", "yes") == 0 ?
	    "embedded SoftHSM2" : "external module");
	if (hk_state_path(st, HK_QUORUM_SET_FILE, path, sizeof(path)) == 0 &&
	    hk_quorum_set_read(path, &set) == 0) {
		char id[2 * HK_QUORUM_ID_LEN + 1];
		for (i = 0; i < HK_QUORUM_ID_LEN; i++)
			snprintf(id + 2 * i, 3, "%02x", set->id[i]);
		printf("  share set:     %s, %d of %d%s; holders", id, set->m,
		    set->n, set->retired ? " (RETIRED)" : "");
		for (i = 0; i < set->n; i++)
			printf("%s%s", i ? ", " : " ", set->holder[i]);
		printf("\n");
	} else
		printf("  share set:     unreadable: %s\n", hk_err_msg());
	gens = hk_state_get(st, "root.generations");
	n = gens ? atoi(gens) : 0;
	if (n == 0)
		printf("  root:          none yet (create-root)\n");
	for (i = 1; i <= n; i++)
		print_root(st, i);
	/* a killed ceremony run's leftovers wait (docs/ceremonies.md
	 * "Killed runs"); said, never touched here */
	(void)hk_cer_journal_show(st->dir, stdout);
	if (hk_state_path(st, "audit/audit.log", path, sizeof(path)) == 0) {
		r = hk_audit_verify(path, NULL, &rep);
		/* audit verify's checks of a close too, without the key: a
		 * log put back after its close, the closed logs it links
		 * back to (their chains and the links); what they print is
		 * audit verify's to say */
		if (r == 0 && (nul = fopen("/dev/null", "we")) == NULL) {
			hk_err_set("/dev/null: cannot open: %s",
			    strerror(errno));
			r = HK_ERR_IO;
		} else if (r == 0) {
			r = hk_audit_check_previous(path, &rep, NULL, NULL,
			    nul);
			fclose(nul);
		}
		if (r == 0) {
			printf("  audit log:     %llu records, chain intact; last "
			    "checkpoint at record %lld, %llu records after it "
			    "(run 'audit verify' to check signatures)\n",
			    (unsigned long long)rep.records,
			    (long long)rep.last_checkpoint_seq,
			    (unsigned long long)rep.unsigned_records);
			yearly_close(&rep);
		} else
			printf("  audit log:     FAILS VERIFICATION: %s\n",
			    rep.reason[0] ? rep.reason : hk_err_msg());
	}
	hk_quorum_set_free(set);
	hk_state_free(st);
	return r;
}

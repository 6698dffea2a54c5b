/*
 * hanko-online - the publisher of a JPKI prefectural CA: imports signed
 * bundles from the offline root, issues residents' certificates from the
 * delegated issuing key, revokes, publishes CRLs and ARLs, answers OCSP and
 * serves the repository (DESIGN.md section 7).
 *
 * main.c only dispatches; each subcommand lives in cmd_<name>.c. Errors are
 * one line "hanko-online: <detail>" and the exit status of hk_exit_code
 * (hanko-online(1), EXIT STATUS).
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "online.h"
#include "secmem.h"

static const char usage_text[] =
"usage: hanko-online <command> [options]\n"
"\n"
"commands:\n"
"  init       the state folder, the store, the online token, the issuing\n"
"             key and its CSR\n"
"  trust      pin the root certificate (its SHA-256 confirmed by the operators)\n"
"  import     verify and import a signed bundle from the offline root\n"
"  request    a signed bundle for the offline root: the next issuing key's\n"
"             CSR, or a request to revoke an issuing CA certificate\n"
"  issue      residents' certificates from a batch of requests (CSV)\n"
"  revoke     revoke a resident's certificate by serial or by resident\n"
"             (CPS 4-4-4-2 reasons only)\n"
	/* ---- later subcommands' usage lines ---- */
"  publish    the partition CRLs, the ARL of the day and the root's\n"
"             certificates as one repository set (CPS 4-4-9, 4-4-10)\n"
"  check      the store's consistency: a double issuance revoked (CPS 4-2-3),\n"
"             the schema, the certificates, stale reservations\n"
"  history    a resident's own certificates and revocations (CPS 2-8-6)\n"
"  report     the monthly report of revocation information provided (CPS 4-5)\n"
"  provision  record provisions made outside serve: LDAP reads, media\n"
"             (CPS 4-5)\n"
"  responder  the delegated OCSP responder: its key in the token, its\n"
"             certificate from the issuing CA (again: renewal)\n"
"  ocsp-refresh  sign the OCSP responses that are due (after a revocation,\n"
"             and hourly)\n"
"  ldap-push  write a repository set into an LDAP directory: the root's\n"
"             entry and one entry per CRL partition (CPS 4-4-4-1)\n"
"  index-page the public index page of a repository set (HTML)\n"
"  serve      the HTTP repository and OCSP responder (key holder and\n"
"             network worker: docs/process-model.md)\n"
"  rp         register, list and retire relying parties (CPS 4-4-4-3)\n"
"  profile    show the profile signed with; accept a change of it,\n"
"             audited (CPS 7-1, 7-2, 8-1)\n"
"  backup     the state's records (store, audit log, files; not the token)\n"
"             into a new folder, signed; backup verify checks one\n"
"             (CPS 4-11-6, 4-12-2-4)\n"
"  recover    the certificates a batch issued after the last backup, put\n"
"             back into a restored store from its results.csv\n"
"  status     whether the online CA needs attention, read-only: issuing\n"
"             generations, certificates, publication, OCSP, backup, audit\n"
"             log, profile (exit 9: something does)\n"
"  audit      verify the audit log (and its link to the closed log before\n"
"             it); close it once a year and begin a new one (CPS 4-11-4);\n"
"             note room entry and media in it (CPS 4-11-2); the weekly\n"
"             review for the internal auditor (CPS 4-11-1, 4-11-3)\n"
"  clock      the clock against the audit log's newest record (the guard of\n"
"             the commands that sign); --accept-set-back --actors IDS: a\n"
"             clock that was ahead, accepted by them, audited (CPS 4-12-2-5)\n"
	/* ---- end later usage lines ---- */
"  version    print the version\n";

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{ "init", cmd_init },
	{ "trust", cmd_trust },
	{ "import", cmd_import },
	{ "request", cmd_request },
	{ "issue", cmd_issue },
	{ "revoke", cmd_revoke },
	/* ---- later subcommands: one line each, keep your own lines ---- */
	{ "publish", cmd_publish },
	{ "check", cmd_check },
	{ "history", cmd_history },
	{ "report", cmd_report },
	{ "responder", cmd_responder },
	{ "ocsp-refresh", cmd_ocsp_refresh },
	{ "ocsp-answer", cmd_ocsp_answer },
	{ "ldap-push", cmd_ldap },
	{ "index-page", cmd_index },
	{ "serve", cmd_serve },
	{ "rp", cmd_rp },
	{ "provision", cmd_provision },
	{ "profile", cmd_profile },
	{ "backup", cmd_backup },
	{ "recover", cmd_recover },
	{ "status", cmd_status },
	{ "audit", cmd_audit },
	{ "clock", cmd_clock },
	/* ---- end later subcommands ---- */
};

int
main(int argc, char **argv)
{
	size_t i;
	int r;

	if (argc == 2 && (strcmp(argv[1], "version") == 0 ||
	    strcmp(argv[1], "--version") == 0)) {
		printf("hanko-online %s\n", HANKO_VERSION);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2) {
		fputs(usage_text, stderr);
		return hk_exit_code(HK_ERR_USAGE);
	}
	if (hk_secmem_init() != 0) {
		fprintf(stderr, "hanko-online: cannot initialise secure "
		    "memory\n");
		return hk_exit_code(HK_ERR_INTERNAL);
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		hk_err_set("%s: unknown command (see hanko-online --help)",
		    argv[1]);
		hk_err_print_line(stderr, "hanko-online", hk_err_msg());
		return hk_exit_code(HK_ERR_USAGE);
	}
	hk_err_clear();
	if ((r = commands[i].fn(argc - 1, argv + 1)) != 0) {
		const char *m = hk_err_msg();
		char prefix[64];

		snprintf(prefix, sizeof(prefix), "hanko-online %s", argv[1]);
		hk_err_print_line(stderr, prefix, *m ? m : hk_strerror(r));
		return hk_exit_code(r);
	}
	return 0;
}

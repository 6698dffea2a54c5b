/*
 * hanko-online - the publisher of a JPKI prefectural CA: imports signed
 * bundles from the offline root, issues residents' certificates from the
 * delegated issuing key, revokes, publishes CRLs and ARLs, answers OCSP and
 * serves the repository (DESIGN.md section 7).
 *
 * A skeleton for now: it prints its usage. The commands arrive with the
 * online publisher and serving issues.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"

static const char usage_text[] =
"usage: hanko-online <command> [options]\n"
"\n"
"commands (planned; none is implemented in this version):\n"
"  init       the store, the online token and the issuing key's CSR\n"
"  import     verify and import a signed bundle from the offline root\n"
"  issue      issue residents' certificates (one request or a batch file)\n"
"  revoke     revoke by serial or by resident, with a CPS 4-4 reason\n"
"  publish    per-municipality CRLs and the ARL of the day (cron)\n"
"  serve      the repository over HTTP, and OCSP for registered parties\n"
"  version    print the version\n";

int
main(int argc, char **argv)
{
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
	if (argc >= 2)
		fprintf(stderr, "hanko-online: %s: not implemented in this "
		    "version\n", argv[1]);
	fputs(usage_text, stderr);
	return hk_exit_code(HK_ERR_USAGE);
}

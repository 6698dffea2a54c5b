/*
 * hanko-offline - the air-gapped root of a JPKI prefectural CA.
 * main() only dispatches to cmd_<name>.c; see hanko-offline(1).
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "offline.h"
#include "secmem.h"

static const char usage_text[] =
"usage: hanko-offline <command> [options]\n"
"\n"
"commands:\n"
"  init         make a new CA state folder, token and sealed shares\n"
"  create-root  generate the root key in the token and self-sign (quorum)\n"
"  activate     check that a set of shares activates the token (quorum)\n"
"  backup       wrap a CA key to a key manager's medium (quorum)\n"
"  restore      restore the CA keys into a fresh token (quorum)\n"
"  destroy      destroy a root key and make its backups unusable (quorum)\n"
"  rotate-shares  re-share the quorum key to a new roster (quorum)\n"
"  ceremony     run (or rehearse) a ceremony script; check a script\n"
"  roster       set passphrase verifiers; the CA manager approves the roster\n"
"  audit        verify, show, review, back up, close the log; note in it\n"
"  share        inspect a share file without its passphrase\n"
"  profile      check a profile file\n"
"  status       what this CA is: token, share set, roots, audit log\n"
"  bundle       create, verify or import a signed bundle (air gap)\n"
"  qr           a small file as QR code images, and back\n"
"  version      print the version\n"
"\n"
"Run 'hanko-offline <command> --help' for its options; man hanko-offline.\n";

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{ "init",		cmd_init },
	{ "create-root",	cmd_create_root },
	{ "activate",		cmd_activate },
	{ "backup",		cmd_backup },
	{ "restore",		cmd_restore },
	{ "destroy",		cmd_destroy },
	{ "rotate-shares",	cmd_rotate_shares },
	{ "ceremony",		cmd_ceremony },
	{ "roster",		cmd_roster },
	{ "audit",		cmd_audit },
	{ "share",		cmd_share },
	{ "profile",		cmd_profile },
	{ "status",		cmd_status },
	{ "bundle",		cmd_bundle },
	{ "qr",			cmd_qr },
};

int
main(int argc, char **argv)
{
	size_t i;
	int r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? hk_exit_code(HK_ERR_USAGE) : 0;
	}
	if (strcmp(argv[1], "version") == 0 ||
	    strcmp(argv[1], "--version") == 0) {
		printf("hanko-offline %s\n", HANKO_VERSION);
		return 0;
	}
	if ((r = hk_secmem_init()) != 0) {
		fprintf(stderr, "hanko-offline: %s\n", hk_err_msg());
		return hk_exit_code(r);
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		r = commands[i].fn(argc - 1, argv + 1);
		if (r != 0) {
			const char *m = hk_err_msg();
			char prefix[64];

			snprintf(prefix, sizeof(prefix), "hanko-offline %s",
			    argv[1]);
			hk_err_print_line(stderr, prefix, *m ? m :
			    hk_strerror(r));
		}
		return hk_exit_code(r);
	}
	hk_err_set("%s: unknown command (see hanko-offline --help)", argv[1]);
	hk_err_print_line(stderr, "hanko-offline", hk_err_msg());
	return hk_exit_code(HK_ERR_USAGE);
}

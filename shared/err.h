/*
 * err.h - the one error domain of hanko (after OpenSSH's ssherr.h).
 *
 * Every function returns 0 or one of these negative codes. CK_RV and OpenSSL
 * errors are mapped into it at the boundary (p11.c, cert.c). A function that
 * fails may also leave a one-line detail naming the input, the field and the
 * rule with hk_err_set(); main() prints "hanko-offline: <detail>" and exits
 * with hk_exit_code(r).
 */
#ifndef HK_ERR_H
#define HK_ERR_H

#include <stddef.h>
#include <stdio.h>

enum hk_err {
	HK_OK			= 0,
	HK_ERR_INTERNAL		= -1,	/* a bug or an unexpected library failure */
	HK_ERR_ALLOC		= -2,	/* out of (secure) memory */
	HK_ERR_IO		= -3,	/* read, write, fsync or rename failed */
	HK_ERR_EXISTS		= -4,	/* refusing to overwrite */
	HK_ERR_NOT_FOUND	= -5,	/* a named file, key or token is missing */
	HK_ERR_INVALID		= -6,	/* input breaks a rule (value, range, type) */
	HK_ERR_PARSE		= -7,	/* input is not well-formed */
	HK_ERR_USAGE		= -8,	/* command line is wrong */
	HK_ERR_CRYPTO		= -9,	/* an OpenSSL or libsodium operation failed */
	HK_ERR_P11		= -10,	/* the PKCS#11 token refused or failed */
	HK_ERR_PASSPHRASE	= -11,	/* wrong passphrase (share cannot be opened) */
	HK_ERR_WEAK_PASSPHRASE	= -12,	/* passphrase refused by the strength rule */
	HK_ERR_SHARE_CORRUPT	= -13,	/* share file damaged (checksum, format) */
	HK_ERR_SHARE_FOREIGN	= -14,	/* share belongs to another or retired set */
	HK_ERR_SHARE_DUPLICATE	= -15,	/* the same share index given twice */
	HK_ERR_QUORUM		= -16,	/* fewer shares than the threshold */
	HK_ERR_COMMITMENT	= -17,	/* reconstructed secret fails its commitment */
	HK_ERR_LINT		= -18,	/* certificate breaks the profile */
	HK_ERR_VERIFY		= -19,	/* a signature does not verify */
	HK_ERR_AUDIT		= -20,	/* the audit log fails verification */
	HK_ERR_TTY		= -21,	/* a prompt was needed but no terminal exists */
	HK_ERR_STATE		= -22,	/* the CA state folder is not in the needed state */
	HK_ERR_WARNING		= -23,	/* done, but an operator must act soon */
};

/* Short fixed text for a code; never NULL. */
const char *hk_strerror(int r);

/*
 * Exit status for a code, as documented in hanko-offline(1), EXIT STATUS:
 * 0 ok, 1 failed check, 2 usage, 3 bad input, 4 authentication,
 * 5 token, 6 audit log, 7 would overwrite, 8 I/O, 70 internal.
 */
int hk_exit_code(int r);

/*
 * Bytes of the detail line, its NUL included. A longer detail is cut and
 * ends in HK_ERR_CUT, so a cut line never passes for a whole one.
 */
#define HK_ERR_DETAIL_MAX	8192
#define HK_ERR_CUT		" [cut]"

/* Record the one-line detail of the current failure (printf style). An
 * argument may be hk_err_msg() itself: hk_err_set("lint: %s",
 * hk_err_msg()) puts a prefix before the detail. */
void hk_err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A once-only option met a second time (a repeated --state, --out, --clock
 * is nearly always a slip in a script or a paste): HK_ERR_USAGE with
 * "--name: given twice (once only): 'first' and 'second'", each value cut
 * to 256 bytes; a flag (first NULL) and a passphrase source (a name with
 * "passin": its value may be the secret) get "--name: given twice (once
 * only)" alone.
 */
int hk_err_twice(const char *name, const char *first, const char *second);
/*
 * "--name VALUE" of a once-only option at argv[*i] into *slot (NULL until
 * then): 0 with *i on the value, or HK_ERR_USAGE with "--name: needs a
 * value" (none, or an empty one) or hk_err_twice's line when *slot is set.
 */
int hk_opt_once(const char **slot, int argc, char **argv, int *i);
/* Append OpenSSL's queued error text to the detail, then clear the queue. */
void hk_err_add_openssl(void);
/* The detail, or "" when none was set. */
const char *hk_err_msg(void);
void hk_err_clear(void);

/*
 * The detail kept whole across work that may set its own (a rollback, an
 * audit record, a clean-up): hk_err_keep() before it, hk_err_restore()
 * after; kept->msg may also go into a new detail.
 */
struct hk_err_kept {
	char msg[HK_ERR_DETAIL_MAX];
};
void hk_err_keep(struct hk_err_kept *k);
void hk_err_restore(const struct hk_err_kept *k);

/*
 * The error line main() prints: "<prefix>: <detail>\n" on f, the detail
 * kept on one line whatever input it quotes: a control character (C0, DEL,
 * C1), a direction mark or override (U+200E-F, U+202A-E, U+2066-9) or a byte
 * that is not well-formed UTF-8 is written as \n, \t, \r, \xNN or \u{N}.
 */
void hk_err_print_line(FILE *f, const char *prefix, const char *detail);

#endif

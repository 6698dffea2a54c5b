/*
 * passin.h - where a passphrase comes from, in OpenSSL's -passin style.
 *
 *   pass:TEXT   the passphrase itself (visible in ps(1): meant for
 *               rehearsals and tests; not refused elsewhere)
 *   env:VAR     the value of environment variable VAR
 *   file:PATH   the first line of PATH
 *   fd:N        the first line read from file descriptor N (read byte by
 *               byte, so several passphrases can come from one pipe)
 *   NULL        prompt on /dev/tty with echo off; the terminal is restored
 *               on every path, including a signal during the prompt
 *
 * "First line": up to the first '\n' (a '\r' before it is dropped). An empty
 * passphrase is refused. The result is hk_secret_alloc memory holding a NUL
 * terminated string of at most HK_PASSIN_MAX bytes: free with
 * hk_secret_free(). Temporaries are wiped. Errors (hk_err_set detail names
 * the source, never the text of a pass: value):
 *   HK_ERR_USAGE      unknown source type, malformed fd number, bad fd
 *   HK_ERR_NOT_FOUND  env: variable not set, file: missing
 *   HK_ERR_IO         file: or fd: cannot be read
 *   HK_ERR_INVALID    empty, longer than HK_PASSIN_MAX, NUL byte, or the two
 *                     entries of a new passphrase differ
 *   HK_ERR_TTY        a prompt is needed but there is no terminal
 */
#ifndef HK_PASSIN_H
#define HK_PASSIN_H

#define HK_PASSIN_MAX	1024	/* bytes of a passphrase */

/* prompt: shown on the terminal, e.g. "Passphrase for share 2 (suzuki): ". */
int hk_passin_read(const char *spec, const char *prompt, char **pass);
/*
 * A new passphrase: on the terminal it is asked twice and the two must be
 * equal; from any other source it is read once.
 */
int hk_passin_read_new(const char *spec, const char *prompt, char **pass);

#endif

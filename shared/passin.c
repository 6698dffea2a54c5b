/*
 * passin.c - passphrases from pass:, env:, file:, fd: or the terminal.
 *
 * The terminal prompt follows OpenBSD's readpassphrase(3): echo off with
 * TCSAFLUSH, signals that would leave the terminal silent are caught, the
 * terminal and the handlers are restored, then the signal is sent again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "passin.h"
#include "secmem.h"

#define BUF_LEN		(HK_PASSIN_MAX + 2)

static volatile sig_atomic_t caught_signal;

static const int prompt_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM,
};
#define NSIG_PROMPT (int)(sizeof(prompt_signals) / sizeof(prompt_signals[0]))

static void
on_signal(int sig)
{
	caught_signal = sig;
}

/*
 * Read one line from fd into buf (cap bytes, secure) byte by byte, so no
 * byte after the '\n' is consumed. Sets *got_any when any byte was read.
 * Returns 0, HK_ERR_IO (errno kept), HK_ERR_INVALID (too long, NUL) or 1 if
 * interrupted by a caught signal (prompt only).
 */
static int
read_line(int fd, char *buf, size_t cap, size_t *len, int *got_any,
    int stop_on_signal)
{
	size_t n = 0;
	ssize_t k;
	char c;
	int toolong = 0, nul = 0;

	*len = 0;
	*got_any = 0;
	for (;;) {
		k = read(fd, &c, 1);
		if (k < 0) {
			if (errno == EINTR) {
				if (stop_on_signal && caught_signal != 0)
					return 1;
				continue;
			}
			return HK_ERR_IO;
		}
		if (k == 0)
			break;
		*got_any = 1;
		if (c == '\n')
			break;
		if (c == '\0')
			nul = 1;
		if (n + 1 < cap)
			buf[n++] = c;
		else
			toolong = 1;	/* keep reading to the end of line */
	}
	hk_wipe(&c, sizeof(c));
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	if (toolong || n > HK_PASSIN_MAX)
		return HK_ERR_INVALID;
	if (nul)
		return HK_ERR_INVALID;
	return 0;
}

static int
tty_prompt(const char *prompt, char *buf, size_t cap, size_t *len)
{
	struct sigaction sa, old_sa[NSIG_PROMPT];
	struct termios old_t, new_t;
	int fd, i, r, got = 0, restored_ok, sig;
	ssize_t w;

	*len = 0;
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		hk_err_set("no terminal to ask \"%s\" on (/dev/tty: %s); give "
		    "the passphrase with --passin env:VAR, file:PATH or fd:N",
		    prompt, strerror(errno));
		return HK_ERR_TTY;
	}
	if (tcgetattr(fd, &old_t) != 0) {
		hk_err_set("/dev/tty: cannot read terminal settings: %s",
		    strerror(errno));
		close(fd);
		return HK_ERR_TTY;
	}
	caught_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;		/* no SA_RESTART: read() returns EINTR */
	sa.sa_handler = on_signal;
	for (i = 0; i < NSIG_PROMPT; i++)
		(void)sigaction(prompt_signals[i], &sa, &old_sa[i]);

	new_t = old_t;
	new_t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	new_t.c_lflag |= ICANON;
	r = HK_ERR_TTY;
	if (tcsetattr(fd, TCSAFLUSH, &new_t) != 0) {
		hk_err_set("/dev/tty: cannot turn echo off: %s",
		    strerror(errno));
		goto restore;
	}
	w = write(fd, prompt, strlen(prompt));
	(void)w;
	r = read_line(fd, buf, cap, len, &got, 1);
	w = write(fd, "\n", 1);
	(void)w;
 restore:
	restored_ok = tcsetattr(fd, TCSAFLUSH, &old_t) == 0;
	for (i = 0; i < NSIG_PROMPT; i++)
		(void)sigaction(prompt_signals[i], &old_sa[i], NULL);
	close(fd);
	sig = caught_signal;
	caught_signal = 0;
	if (sig != 0) {
		hk_wipe(buf, cap);
		*len = 0;
		(void)kill(getpid(), sig);	/* now with the old handler */
		hk_err_set("passphrase prompt interrupted by signal %d", sig);
		return HK_ERR_TTY;
	}
	if (!restored_ok) {
		hk_err_set("/dev/tty: cannot restore terminal settings");
		r = HK_ERR_TTY;
	}
	if (r == 1)
		r = HK_ERR_TTY;
	if (r == HK_ERR_IO)
		hk_err_set("/dev/tty: cannot read: %s", strerror(errno));
	else if (r == HK_ERR_INVALID)
		hk_err_set("passphrase typed at the prompt: longer than %d "
		    "bytes or contains a NUL", HK_PASSIN_MAX);
	else if (r == 0 && !got) {
		hk_err_set("/dev/tty: end of input at the prompt");
		r = HK_ERR_TTY;
	}
	return r;
}

/* Strict decimal file descriptor number. */
static int
parse_fd(const char *s, int *fd)
{
	long v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 6 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*fd = (int)v;
	return 0;
}

/* The source part of a spec that may be named in a message. */
static int
from_fd(const char *spec, int fd, char *buf, size_t cap, size_t *len)
{
	int r, got;

	r = read_line(fd, buf, cap, len, &got, 0);
	if (r == HK_ERR_IO) {
		if (errno == EBADF) {
			hk_err_set("%s: not an open file descriptor", spec);
			return HK_ERR_USAGE;
		}
		hk_err_set("%s: cannot read: %s", spec, strerror(errno));
		return HK_ERR_IO;
	}
	if (r == HK_ERR_INVALID) {
		hk_err_set("%s: first line longer than %d bytes or contains a "
		    "NUL byte", spec, HK_PASSIN_MAX);
		return r;
	}
	if (!got) {
		hk_err_set("%s: empty (no passphrase line)", spec);
		return HK_ERR_INVALID;
	}
	return 0;
}

static int
passin_get(const char *spec, const char *prompt, char *buf, size_t *len)
{
	const char *v;
	size_t n;
	int fd, r;

	*len = 0;
	if (spec == NULL)
		return tty_prompt(prompt ? prompt : "Passphrase: ", buf,
		    BUF_LEN, len);
	if (strncmp(spec, "pass:", 5) == 0) {
		v = spec + 5;
		if ((n = strlen(v)) > HK_PASSIN_MAX) {
			hk_err_set("pass:...: longer than %d bytes",
			    HK_PASSIN_MAX);
			return HK_ERR_INVALID;
		}
		memcpy(buf, v, n + 1);
		*len = n;
		return 0;
	}
	if (strncmp(spec, "env:", 4) == 0) {
		if (spec[4] == '\0' || strchr(spec + 4, '=') != NULL) {
			hk_err_set("%s: no valid variable name after env:",
			    spec);
			return HK_ERR_USAGE;
		}
		if ((v = getenv(spec + 4)) == NULL) {
			hk_err_set("%s: environment variable %s is not set",
			    spec, spec + 4);
			return HK_ERR_NOT_FOUND;
		}
		if ((n = strlen(v)) > HK_PASSIN_MAX) {
			hk_err_set("%s: longer than %d bytes", spec,
			    HK_PASSIN_MAX);
			return HK_ERR_INVALID;
		}
		memcpy(buf, v, n + 1);
		*len = n;
		return 0;
	}
	if (strncmp(spec, "file:", 5) == 0) {
		if (spec[5] == '\0') {
			hk_err_set("file:: no path after file:");
			return HK_ERR_USAGE;
		}
		fd = open(spec + 5, O_RDONLY | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			hk_err_set("%s: cannot open: %s", spec,
			    strerror(errno));
			return errno == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_IO;
		}
		r = from_fd(spec, fd, buf, BUF_LEN, len);
		close(fd);
		return r;
	}
	if (strncmp(spec, "fd:", 3) == 0) {
		if (parse_fd(spec + 3, &fd) != 0) {
			hk_err_set("%s: fd: needs a decimal descriptor number",
			    spec);
			return HK_ERR_USAGE;
		}
		return from_fd(spec, fd, buf, BUF_LEN, len);
	}
	/* Never echo the spec: it may be a passphrase typed without pass:. */
	hk_err_set("passphrase source: unknown type (expected pass:TEXT, "
	    "env:VAR, file:PATH or fd:N)");
	return HK_ERR_USAGE;
}

static int
passin_one(const char *spec, const char *prompt, char **pass)
{
	char *buf;
	size_t len = 0;
	int r;

	if ((buf = hk_secret_alloc(BUF_LEN)) == NULL) {
		hk_err_set("passphrase: cannot allocate secure memory");
		return HK_ERR_ALLOC;
	}
	if ((r = passin_get(spec, prompt, buf, &len)) != 0)
		goto out;
	if (len == 0) {
		if (spec != NULL && strncmp(spec, "pass:", 5) == 0)
			hk_err_set("pass:: empty passphrase");
		else
			hk_err_set("%s: empty passphrase",
			    spec ? spec : "terminal");
		r = HK_ERR_INVALID;
		goto out;
	}
	*pass = buf;
	buf = NULL;
	r = 0;
 out:
	hk_secret_free(buf);	/* wipes */
	return r;
}

int
hk_passin_read(const char *spec, const char *prompt, char **pass)
{
	*pass = NULL;
	return passin_one(spec, prompt, pass);
}

int
hk_passin_read_new(const char *spec, const char *prompt, char **pass)
{
	char *a = NULL, *b = NULL;
	size_t la, lb;
	int r;

	*pass = NULL;
	if ((r = passin_one(spec, prompt, &a)) != 0 || spec != NULL)
		goto done;
	if ((r = passin_one(NULL, "Again, to confirm: ", &b)) != 0)
		goto done;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb || hk_ct_memcmp(a, b, la) != 0) {
		hk_err_set("the two passphrases typed differ; nothing changed");
		r = HK_ERR_INVALID;
		goto done;
	}
	r = 0;
 done:
	hk_secret_free(b);
	if (r == 0) {
		*pass = a;
		a = NULL;
	}
	hk_secret_free(a);
	return r;
}

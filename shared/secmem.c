/* secmem.c - locked, guarded, wiped memory for secrets (libsodium). */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "secmem.h"

int
hk_secmem_init(void)
{
	struct rlimit rl = { 0, 0 };

	if (sodium_init() < 0) {
		hk_err_set("libsodium: initialisation failed");
		return HK_ERR_CRYPTO;
	}
	/* No core dumps and no ptrace attach: secrets stay in this process. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    setrlimit(RLIMIT_CORE, &rl) != 0) {
		hk_err_set("cannot make the process non-dumpable");
		return HK_ERR_INTERNAL;
	}
	return 0;
}

void *
hk_secret_alloc(size_t len)
{
	void *p;

	if (len == 0)
		len = 1;
	if ((p = sodium_malloc(len)) == NULL) {
		hk_err_set("out of memory for a secret (%zu bytes)", len);
		return NULL;
	}
	/* libsodium 1.0.18 ignores a failed mlock(2) in sodium_malloc: the
	 * secret would sit in memory that may be swapped out. Lock it again
	 * (no cost when it is locked) and refuse when it cannot be. The
	 * system call itself: ASan's mlock interceptor only returns 0. */
	if (syscall(SYS_mlock, p, len) != 0) {
		int e = errno;

		sodium_free(p);
		hk_err_set("cannot lock %zu bytes of memory for a secret "
		    "(mlock: %s): a secret is never kept in memory that may be "
		    "swapped; raise the locked-memory limit (ulimit -l, "
		    "systemd LimitMEMLOCK=)", len, strerror(e));
		return NULL;
	}
	memset(p, 0, len);
	return p;
}

void
hk_secret_free(void *p)
{
	if (p != NULL)
		sodium_free(p);	/* wipes, unlocks, releases guard pages */
}

char *
hk_secret_strdup(const char *s)
{
	size_t len = strlen(s);
	char *p;

	if ((p = hk_secret_alloc(len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len + 1);
	return p;
}

void
hk_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		sodium_memzero(p, len);
}

int
hk_ct_memcmp(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len);
}

int
hk_secret_random_hex(size_t nbytes, char **out)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char b;
	size_t i;

	if ((*out = hk_secret_alloc(2 * nbytes + 1)) == NULL)
		return HK_ERR_ALLOC;
	for (i = 0; i < nbytes; i++) {
		randombytes_buf(&b, 1);
		(*out)[2 * i] = hexd[b >> 4];
		(*out)[2 * i + 1] = hexd[b & 0xf];
	}
	hk_wipe(&b, sizeof(b));
	return 0;
}

/*
 * secmem.h - memory for secrets (PINs, shares, passphrases, key bytes).
 *
 * hk_secmem_init() must run first in main(): it initialises libsodium, makes
 * the process non-dumpable (no core files, no ptrace by other users) and
 * sets the core size limit to 0. Secret buffers come from hk_secret_alloc
 * (libsodium guarded, mlock'ed pages) and go back through hk_secret_free,
 * which wipes them. Stack secrets are wiped with hk_wipe before every return.
 */
#ifndef HK_SECMEM_H
#define HK_SECMEM_H

#include <stddef.h>

int hk_secmem_init(void);
void *hk_secret_alloc(size_t len);	/* NULL on failure; zero-filled */
void hk_secret_free(void *p);		/* wipes; NULL is fine */
char *hk_secret_strdup(const char *s);	/* locked copy of a C string */
void hk_wipe(void *p, size_t len);
/* A random secret of nbytes as lowercase hex (a token PIN) in locked
 * memory: 2*nbytes characters and a NUL. hk_secret_free it. */
int hk_secret_random_hex(size_t nbytes, char **out);
/* Constant-time comparison: 0 when equal. */
int hk_ct_memcmp(const void *a, const void *b, size_t len);

#endif

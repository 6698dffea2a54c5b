/*
 * shim_real.h - for the tests' LD_PRELOAD shims (test/data/online/failnth.c,
 * test/data/media/fatlike.c): REAL(name) declares real_<name>, the libc
 * function the shim stands in front of, found once with dlsym(RTLD_NEXT);
 * without it the call fails with ENOSYS (the shim returns -1).
 */
#ifndef HK_TEST_SHIM_REAL_H
#define HK_TEST_SHIM_REAL_H

#include <dlfcn.h>
#include <errno.h>

#define REAL(name) \
	static __typeof__(name) *real_##name; \
	if (real_##name == NULL) \
		*(void **)&real_##name = dlsym(RTLD_NEXT, #name); \
	if (real_##name == NULL) { \
		errno = ENOSYS; \
		return -1; \
	}

#endif

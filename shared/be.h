/*
 * be.h - big-endian (network order) integers in byte buffers, for the
 * formats hanko defines itself (QR frames, the key holder's channel,
 * serials, the audit hash's length prefixes).
 */
#ifndef HK_BE_H
#define HK_BE_H

#include <stdint.h>

static inline void
hk_be_put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static inline void
hk_be_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline unsigned
hk_be_get16(const unsigned char *p)
{
	return ((unsigned)p[0] << 8) | p[1];
}

static inline uint32_t
hk_be_get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

#endif

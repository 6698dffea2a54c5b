/* hex.c - hex encoding for digests, ids and fingerprints; strict decimals. */
#include <string.h>

#include "err.h"
#include "hex.h"

static const char hk_hexdig[] = "0123456789abcdef";

void
hk_hex_encode(const unsigned char *in, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hk_hexdig[in[i] >> 4];
		out[2 * i + 1] = hk_hexdig[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
hk_hex_decode(const char *in, unsigned char *out, size_t outlen)
{
	size_t i;

	if (strlen(in) != 2 * outlen)
		return HK_ERR_PARSE;
	for (i = 0; i < outlen; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return HK_ERR_PARSE;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void
hk_fingerprint_colons(const unsigned char dgst[32], char out[96])
{
	static const char up[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < 32; i++) {
		if (i)
			out[o++] = ':';
		out[o++] = up[dgst[i] >> 4];
		out[o++] = up[dgst[i] & 0xf];
	}
	out[o] = '\0';
}

int
hk_dec_parse(const char *s, size_t n, size_t maxd, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > maxd || maxd > 19 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * shamir.c - hazmat Shamir secret sharing over GF(2^8), constant time.
 *
 * Multiplication is a shift-and-add loop whose conditional steps are masks,
 * the inverse is a fixed square-and-multiply chain for a^254: no table is
 * indexed and no branch is taken on a secret value.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "secmem.h"
#include "shamir.h"

uint8_t
hk_gf256_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0, mask;
	int i;

	for (i = 0; i < 8; i++) {
		mask = (uint8_t)-(b & 1);		/* 0xff if bit set */
		r ^= a & mask;
		mask = (uint8_t)-(a >> 7);		/* 0xff if a overflows */
		a = (uint8_t)((a << 1) ^ (mask & 0x1b));
		b >>= 1;
	}
	return r;
}

uint8_t
hk_gf256_inv(uint8_t a)
{
	uint8_t a2, a3, a7, a15, a31, a63, a127;

	/* 254 = 0b11111110: a^3, a^7, ... a^127, then square once. */
	a2 = hk_gf256_mul(a, a);
	a3 = hk_gf256_mul(a2, a);
	a7 = hk_gf256_mul(hk_gf256_mul(a3, a3), a);
	a15 = hk_gf256_mul(hk_gf256_mul(a7, a7), a);
	a31 = hk_gf256_mul(hk_gf256_mul(a15, a15), a);
	a63 = hk_gf256_mul(hk_gf256_mul(a31, a31), a);
	a127 = hk_gf256_mul(hk_gf256_mul(a63, a63), a);
	return hk_gf256_mul(a127, a127);
}

int
hk_shamir_split(const uint8_t secret[HK_SHAMIR_SECRET_LEN], int m, int n,
    uint8_t shares[][HK_SHAMIR_SECRET_LEN])
{
	uint8_t (*coef)[HK_SHAMIR_SECRET_LEN] = NULL;	/* coef[d][byte] */
	uint8_t x, y;
	int i, j, d, r = HK_ERR_INTERNAL;

	if (m < 2 || n < m || n > HK_SHAMIR_MAX_SHARES) {
		hk_err_set("shamir: threshold %d of %d shares: need "
		    "2 <= m <= n <= %d", m, n, HK_SHAMIR_MAX_SHARES);
		return HK_ERR_INVALID;
	}
	coef = hk_secret_alloc((size_t)m * HK_SHAMIR_SECRET_LEN);
	if (coef == NULL) {
		hk_err_set("shamir: cannot allocate secure memory");
		return HK_ERR_ALLOC;
	}
	memcpy(coef[0], secret, HK_SHAMIR_SECRET_LEN);
	randombytes_buf(coef[1], (size_t)(m - 1) * HK_SHAMIR_SECRET_LEN);

	for (i = 0; i < n; i++) {
		x = (uint8_t)(i + 1);
		for (j = 0; j < HK_SHAMIR_SECRET_LEN; j++) {
			/* Horner: ((c[m-1] x + c[m-2]) x + ...) x + c[0] */
			y = coef[m - 1][j];
			for (d = m - 2; d >= 0; d--)
				y = hk_gf256_mul(y, x) ^ coef[d][j];
			shares[i][j] = y;
		}
	}
	hk_wipe(&y, sizeof(y));
	r = 0;
	hk_secret_free(coef);	/* wipes */
	return r;
}

int
hk_shamir_combine(const uint8_t *xs,
    const uint8_t shares[][HK_SHAMIR_SECRET_LEN], int k,
    uint8_t secret[HK_SHAMIR_SECRET_LEN])
{
	uint8_t basis[HK_SHAMIR_MAX_SHARES];	/* public: depends on xs only */
	uint8_t num, den, acc;
	int i, j, b;

	memset(secret, 0, HK_SHAMIR_SECRET_LEN);
	if (k < 1 || k > HK_SHAMIR_MAX_SHARES) {
		hk_err_set("shamir: %d shares given: need 1..%d", k,
		    HK_SHAMIR_MAX_SHARES);
		return HK_ERR_INVALID;
	}
	/* The x-coordinates are public: branching on them is fine. */
	for (i = 0; i < k; i++) {
		if (xs[i] == 0) {
			hk_err_set("shamir: share x-coordinate 0 is not "
			    "allowed (it would be the secret)");
			return HK_ERR_INVALID;
		}
		for (j = 0; j < i; j++)
			if (xs[i] == xs[j]) {
				hk_err_set("shamir: share x-coordinate %u "
				    "given twice", (unsigned)xs[i]);
				return HK_ERR_INVALID;
			}
	}
	/* l_i(0) = prod_{j != i} x_j / (x_j - x_i); minus is xor here. */
	for (i = 0; i < k; i++) {
		num = 1;
		den = 1;
		for (j = 0; j < k; j++) {
			if (j == i)
				continue;
			num = hk_gf256_mul(num, xs[j]);
			den = hk_gf256_mul(den, xs[j] ^ xs[i]);
		}
		basis[i] = hk_gf256_mul(num, hk_gf256_inv(den));
	}
	for (b = 0; b < HK_SHAMIR_SECRET_LEN; b++) {
		acc = 0;
		for (i = 0; i < k; i++)
			acc ^= hk_gf256_mul(shares[i][b], basis[i]);
		secret[b] = acc;
	}
	acc = 0;
	hk_wipe(&acc, sizeof(acc));
	return 0;
}

/*
 * shamir.h - hazmat: Shamir secret sharing over GF(2^8), byte-wise on a
 * 32-byte secret (after Daan Sprenkels' "sss" hazmat layer).
 *
 * This layer does not authenticate anything: a wrong, stale or forged share
 * silently yields a wrong secret. Use quorum.h, which adds set ids, share
 * hashes, a commitment and sealed share files. Only quorum.c and the tests
 * should include this header.
 *
 * Field: GF(2^8) with the AES polynomial x^8+x^4+x^3+x+1 (0x11b). Share i
 * (1 <= i <= n) is the value of a random polynomial of degree m-1 at x = i,
 * whose constant term is the secret byte.
 *
 * Constant time: no table lookups and no branches depend on SECRET inputs.
 * SECRET: the secret, the share values, the polynomial coefficients, the
 *         operands of hk_gf256_mul / hk_gf256_inv.
 * PUBLIC: m, n, k and the x-coordinates (share indices).
 */
#ifndef HK_SHAMIR_H
#define HK_SHAMIR_H

#include <stdint.h>

#define HK_SHAMIR_SECRET_LEN	32	/* bytes of secret and of each share */
#define HK_SHAMIR_MAX_SHARES	255	/* x runs over 1..255 */

/*
 * Split secret (SECRET) into n shares with threshold m, 2 <= m <= n <= 255.
 * shares[i] (SECRET output) is the share at x = i + 1. Coefficients come from
 * randombytes_buf() and are wiped. 0, or HK_ERR_INVALID for bad m, n
 * (shares untouched), HK_ERR_ALLOC.
 */
int hk_shamir_split(const uint8_t secret[HK_SHAMIR_SECRET_LEN], int m, int n,
    uint8_t shares[][HK_SHAMIR_SECRET_LEN]);

/*
 * Lagrange interpolation at 0 of k shares (1 <= k <= 255): xs[i] (PUBLIC) is
 * the x of shares[i] (SECRET). Refuses a zero or duplicated x with
 * HK_ERR_INVALID (secret zeroed). With fewer than m shares, or any wrong
 * share, the result is a wrong secret and nothing says so.
 */
int hk_shamir_combine(const uint8_t *xs,
    const uint8_t shares[][HK_SHAMIR_SECRET_LEN], int k,
    uint8_t secret[HK_SHAMIR_SECRET_LEN]);

/* Field operations, constant time in both operands (exposed for tests). */
uint8_t hk_gf256_mul(uint8_t a, uint8_t b);
uint8_t hk_gf256_inv(uint8_t a);	/* a^254; 0 maps to 0 */

#endif

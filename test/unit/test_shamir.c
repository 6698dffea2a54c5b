/* test_shamir.c - the hazmat Shamir core and GF(2^8). */
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "err.h"
#include "secmem.h"
#include "shamir.h"
#include "testutil.h"

static void
setup(void)
{
	cr_assert_eq(hk_secmem_init(), 0);
}

TestSuite(shamir, .init = setup);

/* Schoolbook carry-less multiplication, then reduction by 0x11b. */
static uint8_t
slow_mul(uint8_t a, uint8_t b)
{
	unsigned p = 0;
	int i;

	for (i = 0; i < 8; i++)
		if (b & (1u << i))
			p ^= (unsigned)a << i;
	for (i = 14; i >= 8; i--)
		if (p & (1u << i))
			p ^= 0x11bu << (i - 8);
	return (uint8_t)p;
}

Test(shamir, gf_mul_all_pairs)
{
	unsigned a, b;

	/* Known value from FIPS 197 section 4.2: {57} x {83} = {c1}. */
	cr_assert_eq(hk_gf256_mul(0x57, 0x83), 0xc1);
	for (a = 0; a < 256; a++)
		for (b = 0; b < 256; b++)
			cr_assert_eq(hk_gf256_mul((uint8_t)a, (uint8_t)b),
			    slow_mul((uint8_t)a, (uint8_t)b),
			    "mul(%02x, %02x)", a, b);
}

Test(shamir, gf_inverse_all)
{
	unsigned a;

	cr_assert_eq(hk_gf256_inv(0), 0);
	for (a = 1; a < 256; a++) {
		uint8_t i = hk_gf256_inv((uint8_t)a);

		cr_assert_eq(slow_mul((uint8_t)a, i), 1, "inv(%02x)=%02x", a,
		    i);
	}
}

/* Combine the shares whose bit is set in mask. */
static int
combine_mask(uint8_t shares[][32], int n, unsigned mask, uint8_t out[32])
{
	uint8_t xs[8], sub[8][32];
	int i, k = 0;

	for (i = 0; i < n; i++)
		if (mask & (1u << i)) {
			xs[k] = (uint8_t)(i + 1);
			memcpy(sub[k], shares[i], 32);
			k++;
		}
	cr_assert_eq(hk_shamir_combine(xs, (const uint8_t (*)[32])sub, k,
	    out), 0);
	return k;
}

Test(shamir, every_subset_small_n)
{
	uint8_t secret[32], shares[6][32], got[32];
	int m, n, rounds, k;
	unsigned mask;

	for (rounds = 0; rounds < 3; rounds++)
		for (n = 2; n <= 6; n++)
			for (m = 2; m <= n; m++) {
				randombytes_buf(secret, sizeof(secret));
				cr_assert_eq(hk_shamir_split(secret, m, n,
				    shares), 0);
				for (mask = 1; mask < (1u << n); mask++) {
					k = combine_mask(shares, n, mask, got);
					if (k >= m)
						cr_assert_eq(memcmp(got, secret,
						    32), 0, "%d of %d, mask %x",
						    m, n, mask);
					else
						cr_assert_neq(memcmp(got,
						    secret, 32), 0, "%d of %d "
						    "mask %x: m-1 shares gave "
						    "the secret", m, n, mask);
				}
			}
}

Test(shamir, large_n_and_shares_differ)
{
	static uint8_t shares[255][32];
	uint8_t secret[32], got[32], xs[3] = { 1, 128, 255 }, sub[3][32];

	randombytes_buf(secret, sizeof(secret));
	cr_assert_eq(hk_shamir_split(secret, 3, 255, shares), 0);
	memcpy(sub[0], shares[0], 32);
	memcpy(sub[1], shares[127], 32);
	memcpy(sub[2], shares[254], 32);
	cr_assert_eq(hk_shamir_combine(xs, (const uint8_t (*)[32])sub, 3, got),
	    0);
	cr_assert_eq(memcmp(got, secret, 32), 0);
	/* all 255 together (the most there can be) give it back too; 256
	 * are refused before anything is read */
	{
		static uint8_t all[255];
		int i;

		for (i = 0; i < 255; i++)
			all[i] = (uint8_t)(i + 1);
		memset(got, 0, sizeof(got));
		cr_assert_eq(hk_shamir_combine(all,
		    (const uint8_t (*)[32])shares, 255, got), 0, "%s",
		    hk_err_msg());
		cr_assert_eq(memcmp(got, secret, 32), 0);
		cr_assert_eq(hk_shamir_combine(all,
		    (const uint8_t (*)[32])shares, 256, got), HK_ERR_INVALID);
	}
	/* No share equals the secret (overwhelmingly likely if random). */
	cr_assert_neq(memcmp(shares[0], secret, 32), 0);
	/* Splitting twice gives different shares (fresh coefficients). */
	{
		uint8_t again[2][32];

		cr_assert_eq(hk_shamir_split(secret, 2, 2, again), 0);
		cr_assert_neq(memcmp(again[0], shares[0], 32), 0);
	}
}

Test(shamir, split_refuses_bad_parameters)
{
	uint8_t secret[32] = { 0 }, shares[4][32];

	cr_assert_eq(hk_shamir_split(secret, 1, 3, shares), HK_ERR_INVALID);
	cr_assert_eq(hk_shamir_split(secret, 4, 3, shares), HK_ERR_INVALID);
	cr_assert_eq(hk_shamir_split(secret, 2, 256, shares), HK_ERR_INVALID);
	cr_assert_eq(hk_shamir_split(secret, 0, 0, shares), HK_ERR_INVALID);
}

Test(shamir, combine_refuses_zero_and_duplicate_x)
{
	uint8_t secret[32], shares[3][32], got[32];
	uint8_t xs_dup[3] = { 1, 2, 1 }, xs_zero[3] = { 0, 1, 2 };

	randombytes_buf(secret, sizeof(secret));
	cr_assert_eq(hk_shamir_split(secret, 3, 3, shares), 0);
	memset(got, 0xaa, sizeof(got));
	cr_assert_eq(hk_shamir_combine(xs_dup, (const uint8_t (*)[32])shares,
	    3, got), HK_ERR_INVALID);
	cr_assert_eq(got[0], 0);	/* output cleared */
	cr_assert_eq(hk_shamir_combine(xs_zero, (const uint8_t (*)[32])shares,
	    3, got), HK_ERR_INVALID);
	cr_assert_eq(hk_shamir_combine(xs_zero, (const uint8_t (*)[32])shares,
	    0, got), HK_ERR_INVALID);
}

Test(shamir, known_vector_degree_one)
{
	/* With m = 2 the share at x is s ^ a*x: check against slow_mul. */
	uint8_t secret[32], shares[2][32], a;
	int j;

	randombytes_buf(secret, sizeof(secret));
	cr_assert_eq(hk_shamir_split(secret, 2, 2, shares), 0);
	for (j = 0; j < 32; j++) {
		a = shares[0][j] ^ secret[j];	/* a * 1 */
		cr_assert_eq(shares[1][j], secret[j] ^ slow_mul(a, 2));
	}
}

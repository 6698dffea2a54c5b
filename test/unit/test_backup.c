/*
 * test_backup.c - the key backup file and the wrap behind it (CPS 6-2-1-4,
 * 4-14-1; docs/key-lifecycle.md): a file made and opened again; every
 * flipped byte, a wrong quorum key, a retired (other) seed, truncation and
 * trailing bytes refused; and in SoftHSM2, a key wrapped under an SO-made
 * trusted KEK in one token, unwrapped into a fresh token, signs there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "backup.h"
#include "err.h"
#include "p11.h"
#include "secmem.h"
#include "testutil.h"

static void
setup(void)
{
	cr_assert_eq(hk_secmem_init(), 0);
}

TestSuite(backup, .init = setup, .timeout = 300);

static uint8_t qkey[32], seed[HK_BACKUP_SEED_LEN], wrapped[200];

/* A header for a software EC key, and the encoded file. */
static void
make_file(char **text, size_t *len, struct hk_backup_info *info)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	unsigned char *der = NULL;
	int n;

	cr_assert_not_null(k);
	randombytes_buf(qkey, sizeof(qkey));
	randombytes_buf(seed, sizeof(seed));
	randombytes_buf(wrapped, sizeof(wrapped));
	memset(info, 0, sizeof(*info));
	strcpy(info->ca_created, "2026-04-01T00:00:00Z");
	strcpy(info->ca_token, "hanko-root-test");
	strcpy(info->key_label, "root-1");
	memcpy(info->key_id, "root-1", 6);
	info->key_id_len = 6;
	strcpy(info->key_type, "ec-256");
	n = i2d_PUBKEY(k, &der);
	cr_assert(n > 0);
	memcpy(info->spki, der, (size_t)n);
	info->spki_len = (size_t)n;
	SHA256(der, (size_t)n, info->pub_sha256);
	strcpy(info->quorum_set, "00112233445566778899aabbccddeeff");
	hk_backup_kek_id(seed, info->kek_id);
	strcpy(info->created, "2026-04-02T09:00:00Z");
	cr_assert_eq(hk_backup_encode(info, wrapped, sizeof(wrapped), qkey,
	    seed, text, len), 0, "%s", hk_err_msg());
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

Test(backup, round_trip)
{
	struct hk_backup_info in, out;
	uint8_t *w = NULL;
	size_t len, wlen;
	char *text;

	make_file(&text, &len, &in);
	cr_assert(strncmp(text, HK_BACKUP_FORMAT "\n", 20) == 0);
	cr_assert_eq(hk_backup_parse("f", (unsigned char *)text, len, &out),
	    0, "%s", hk_err_msg());
	cr_assert_eq(hk_backup_open("f", (unsigned char *)text, len, qkey,
	    seed, &out, &w, &wlen), 0, "%s", hk_err_msg());
	cr_assert_eq(wlen, sizeof(wrapped));
	cr_assert_eq(memcmp(w, wrapped, wlen), 0);
	cr_assert_str_eq(out.key_label, "root-1");
	cr_assert_eq(out.key_id_len, 6);
	cr_assert_str_eq(out.kek_id, in.kek_id);
	cr_assert_eq(memcmp(out.pub_sha256, in.pub_sha256, 32), 0);
	cr_assert_eq(out.spki_len, in.spki_len);
	hk_secret_free(w);
	free(text);
}

Test(backup, every_flipped_byte_refused)
{
	struct hk_backup_info info;
	uint8_t *w = NULL;
	size_t len, wlen, i;
	char *text;
	int bit;

	make_file(&text, &len, &info);
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit += 7) {
			text[i] ^= (char)(1 << bit);
			cr_assert_neq(hk_backup_open("f", (unsigned char *)text,
			    len, qkey, seed, &info, &w, &wlen), 0,
			    "byte %zu bit %d accepted", i, bit);
			cr_assert_null(w);
			text[i] ^= (char)(1 << bit);
		}
	/* And the untouched file still opens. */
	cr_assert_eq(hk_backup_open("f", (unsigned char *)text, len, qkey,
	    seed, &info, &w, &wlen), 0, "%s", hk_err_msg());
	hk_secret_free(w);
	free(text);
}

Test(backup, wrong_quorum_key_or_retired_seed_refused)
{
	struct hk_backup_info info;
	uint8_t *w = NULL, other[32];
	size_t len, wlen;
	char *text;

	make_file(&text, &len, &info);
	memcpy(other, qkey, 32);
	other[31] ^= 0x80;
	cr_assert_eq(hk_backup_open("f", (unsigned char *)text, len, other,
	    seed, &info, &w, &wlen), HK_ERR_VERIFY);
	cr_assert(strstr(hk_err_msg(), "MAC does not verify") != NULL);
	memcpy(other, seed, 32);
	other[0] ^= 1;
	cr_assert_eq(hk_backup_open("f", (unsigned char *)text, len, qkey,
	    other, &info, &w, &wlen), HK_ERR_VERIFY);
	cr_assert_null(w);
	free(text);
}

Test(backup, kek_depends_on_key_label_and_seed)
{
	uint8_t *a = NULL, *b = NULL, *c = NULL, s2[32];

	randombytes_buf(qkey, 32);
	randombytes_buf(seed, 32);
	memcpy(s2, seed, 32);
	s2[5] ^= 1;
	cr_assert_eq(hk_backup_kek(qkey, "root-1", seed, &a), 0);
	cr_assert_eq(hk_backup_kek(qkey, "root-2", seed, &b), 0);
	cr_assert_eq(hk_backup_kek(qkey, "root-1", s2, &c), 0);
	cr_assert_neq(memcmp(a, b, 32), 0);
	cr_assert_neq(memcmp(a, c, 32), 0);
	hk_secret_free(a);
	hk_secret_free(b);
	hk_secret_free(c);
}

Test(backup, truncated_and_trailing_refused)
{
	struct hk_backup_info info;
	unsigned char *buf;
	size_t len, cut;
	char *text;

	make_file(&text, &len, &info);
	for (cut = 0; cut < len; cut += 7)
		cr_assert_eq(hk_backup_parse("f", (unsigned char *)text, cut,
		    &info), HK_ERR_PARSE, "cut at %zu accepted", cut);
	buf = malloc(len + 1);
	memcpy(buf, text, len);
	buf[len] = '\n';
	cr_assert_eq(hk_backup_parse("f", buf, len + 1, &info), HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), "after the mac line") != NULL);
	free(buf);
	free(text);
}

Test(backup, wrap_in_one_token_unwrap_in_a_fresh_one)
{
	char dir[4096], conf[4200], uri[256];
	struct hk_p11_cfg cfg = { NULL, conf };
	struct hk_token *a = NULL, *b = NULL;
	struct hk_p11_key_attrs at;
	EVP_PKEY *pub = NULL, *priv = NULL, *pub2 = NULL;
	uint8_t kek[32], *w = NULL;
	size_t wlen;
	const unsigned char id[] = "root-1";
	unsigned char sig[512];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md;

	snprintf(dir, sizeof(dir), "%s/token", hk_test_dir("backup-wrap"));
	cr_assert_eq(hk_softhsm_prepare(dir), 0, "%s", hk_err_msg());
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	cr_assert_eq(hk_token_init(&cfg, "old-root", "so-pin-123456",
	    "user-pin-123456"), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_token_init(&cfg, "new-root", "so-pin-123456",
	    "user-pin-123456"), 0, "%s", hk_err_msg());
	randombytes_buf(kek, sizeof(kek));

	cr_assert_eq(hk_token_open(&cfg, "old-root", &a), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_token_login(a, "user-pin-123456"), 0);
	cr_assert_eq(hk_token_keygen(a, HK_P11_RSA, 2048, "root-1", id, 6), 0,
	    "%s", hk_err_msg());
	cr_assert_eq(hk_p11_uri("old-root", id, 6, uri, sizeof(uri)), 0);
	cr_assert_eq(hk_token_key(a, uri, NULL, &pub), 0, "%s", hk_err_msg());
	/* A wrong SO PIN: refused, and the user is logged in again. */
	cr_assert_eq(hk_token_key_wrap(a, "wrong-so-pin", "user-pin-123456",
	    kek, 32, id, 6, &w, &wlen), HK_ERR_P11);
	cr_assert(strstr(hk_err_msg(), "SO login refused") != NULL);
	cr_assert_eq(hk_token_key_wrap(a, "so-pin-123456", "user-pin-123456",
	    kek, 32, id, 6, &w, &wlen), 0, "%s", hk_err_msg());
	cr_assert(wlen > 1000);
	/* Still logged in as the user: the key signs. */
	cr_assert_eq(hk_token_key(a, uri, &priv, NULL), 0, "%s", hk_err_msg());
	EVP_PKEY_free(priv);
	priv = NULL;
	hk_token_close(a);

	cr_assert_eq(hk_token_open(&cfg, "new-root", &b), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_token_login(b, "user-pin-123456"), 0);
	kek[0] ^= 1;
	cr_assert_eq(hk_token_key_unwrap(b, kek, 32, w, wlen, pub, "root-1",
	    id, 6), HK_ERR_P11, "a wrong KEK must not unwrap");
	kek[0] ^= 1;
	cr_assert_eq(hk_token_key_unwrap(b, kek, 32, w, wlen, pub, "root-1",
	    id, 6), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_token_key_unwrap(b, kek, 32, w, wlen, pub, "root-1",
	    id, 6), HK_ERR_EXISTS);
	cr_assert_eq(hk_p11_uri("new-root", id, 6, uri, sizeof(uri)), 0);
	cr_assert_eq(hk_token_key(b, uri, &priv, &pub2), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(EVP_PKEY_eq(pub, pub2), 1);
	cr_assert_eq(hk_token_key_attrs(b, uri, &at), 0, "%s", hk_err_msg());
	cr_assert(at.sensitive && at.extractable && at.wrap_with_trusted &&
	    !at.local);
	md = EVP_MD_CTX_new();
	cr_assert_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, priv), 1);
	cr_assert_eq(EVP_DigestSign(md, sig, &siglen, (const unsigned char *)
	    "x", 1), 1);
	EVP_MD_CTX_reset(md);
	cr_assert_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub),
	    1);
	cr_assert_eq(EVP_DigestVerify(md, sig, siglen, (const unsigned char *)
	    "x", 1), 1);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(pub2);
	hk_secret_free(w);
	hk_token_close(b);
}

/*
 * test_p11.c - keys in a real SoftHSM2 token of our own (DESIGN.md 3,
 * CPS 6-1-1-1, 6-2-1-6): generated inside, sensitive, extractable only
 * by a wrap under an SO-made trusted key (docs/key-lifecycle.md), usable
 * for signing through libp11, and found by RFC 7512 URI.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "err.h"
#include "p11.h"
#include "testutil.h"

static struct hk_token *
fresh_token(const char *name, char *conf, size_t conflen)
{
	struct hk_p11_cfg cfg = { NULL, conf };
	struct hk_token *t = NULL;
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s/token", hk_test_dir(name));
	cr_assert_eq(hk_softhsm_prepare(dir), 0, "%s", hk_err_msg());
	snprintf(conf, conflen, "%s/softhsm2.conf", dir);
	cr_assert_eq(hk_token_init(&cfg, "test-root", "so-pin-123456",
	    "user-pin-123456"), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_token_open(&cfg, "test-root", &t), 0, "%s",
	    hk_err_msg());
	return t;
}

Test(p11, keygen_sign_and_attributes)
{
	char conf[4200], uri[256];
	struct hk_token *t = fresh_token("p11-keygen", conf, sizeof(conf));
	struct hk_p11_key_attrs at;
	const unsigned char id[] = "root-1";
	EVP_PKEY *priv = NULL, *pub = NULL;
	EVP_MD_CTX *md;
	unsigned char sig[512];
	size_t siglen = sizeof(sig);
	const unsigned char msg[] = "熊本県知事";

	cr_assert_eq(hk_token_login(t, "user-pin-123456"), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_token_keygen(t, HK_P11_RSA, 2048, "root-1", id,
	    sizeof(id) - 1), 0, "%s", hk_err_msg());
	/* A second key with the same id is refused. */
	cr_assert_eq(hk_token_keygen(t, HK_P11_RSA, 2048, "root-1", id,
	    sizeof(id) - 1), HK_ERR_EXISTS);
	cr_assert_eq(hk_p11_uri("test-root", id, sizeof(id) - 1, uri,
	    sizeof(uri)), 0);
	cr_assert_str_eq(uri,
	    "pkcs11:token=test-root;id=%72%6f%6f%74%2d%31;type=private");
	cr_assert_eq(hk_token_key(t, uri, &priv, &pub), 0, "%s", hk_err_msg());
	cr_assert_eq(EVP_PKEY_get_bits(pub), 2048);

	cr_assert_eq(hk_token_key_attrs(t, uri, &at), 0, "%s", hk_err_msg());
	/* Extractable only with CKA_WRAP_WITH_TRUSTED: never in the clear
	 * (sensitive), and never wrapped but under a CKA_TRUSTED key. */
	cr_assert(at.sensitive && at.extractable && at.wrap_with_trusted &&
	    !at.never_extractable && at.always_sensitive && at.local);

	/* Sign in the token, verify with the public key outside it. */
	md = EVP_MD_CTX_new();
	cr_assert_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, priv), 1);
	cr_assert_eq(EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(md);
	md = EVP_MD_CTX_new();
	cr_assert_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub), 1);
	cr_assert_eq(EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)), 1);
	sig[10] ^= 1;
	cr_assert_neq(EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	hk_token_close(t);
}

Test(p11, ec_key_and_label_uri)
{
	char conf[4200];
	struct hk_token *t = fresh_token("p11-ec", conf, sizeof(conf));
	EVP_PKEY *pub = NULL;

	cr_assert_eq(hk_token_login(t, "user-pin-123456"), 0);
	cr_assert_eq(hk_token_keygen(t, HK_P11_EC, 256, "audit",
	    (const unsigned char *)"audit", 5), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_token_key(t, "pkcs11:token=test-root;object=audit",
	    NULL, &pub), 0, "%s", hk_err_msg());
	cr_assert_eq(EVP_PKEY_get_bits(pub), 256);
	EVP_PKEY_free(pub);
	/* Another token's URI, a malformed URI, an unknown key. */
	cr_assert_eq(hk_token_key(t, "pkcs11:token=other;object=audit", NULL,
	    &pub), HK_ERR_NOT_FOUND);
	cr_assert_eq(hk_token_key(t, "http://x", NULL, &pub), HK_ERR_INVALID);
	cr_assert_eq(hk_token_key(t, "pkcs11:token=test-root;object=none",
	    NULL, &pub), HK_ERR_NOT_FOUND);
	hk_token_close(t);
}

Test(p11, wrong_pin_and_logged_out_keygen)
{
	char conf[4200];
	struct hk_token *t = fresh_token("p11-pin", conf, sizeof(conf));
	struct hk_p11_cfg cfg = { NULL, conf };

	cr_assert_eq(hk_token_keygen(t, HK_P11_RSA, 2048, "k",
	    (const unsigned char *)"k", 1), HK_ERR_STATE);
	cr_assert_eq(hk_token_login(t, "wrong-pin-000000"), HK_ERR_P11);
	hk_token_close(t);
	/* A label that is not there, and a second token with the same label. */
	cr_assert_eq(hk_token_open(&cfg, "nope", &t), HK_ERR_NOT_FOUND);
	cr_assert_eq(hk_token_init(&cfg, "test-root", "so-pin-123456",
	    "user-pin-123456"), HK_ERR_EXISTS);
}

/* The data objects of the compromise mark (CPS 4-14-2): private,
 * persistent, made once, found by application and label, seen only after
 * a login. */
Test(p11, data_object_made_once_and_found)
{
	char conf[4200], buf[64];
	struct hk_token *t = fresh_token("p11-data", conf, sizeof(conf));
	struct hk_p11_cfg cfg = { NULL, conf };
	int made = -1, count = -1;

	cr_assert_eq(hk_token_data_put(t, "app", "issuing.1.compromised", "v1",
	    2, &made), HK_ERR_STATE);
	cr_assert_eq(hk_token_login(t, "user-pin-123456"), 0);
	cr_assert_eq(hk_token_data_get(t, "app", "issuing.1.compromised", buf,
	    sizeof(buf), &count), HK_ERR_NOT_FOUND);
	cr_assert_eq(count, 0);
	cr_assert_eq(hk_token_data_put(t, "app", "issuing.1.compromised", "v1",
	    2, &made), 0, "%s", hk_err_msg());
	cr_assert_eq(made, 1);
	/* a second put keeps the first value and makes nothing */
	cr_assert_eq(hk_token_data_put(t, "app", "issuing.1.compromised",
	    "other", 5, &made), 0, "%s", hk_err_msg());
	cr_assert_eq(made, 0);
	cr_assert_eq(hk_token_data_get(t, "app", "issuing.1.compromised", buf,
	    sizeof(buf), &count), 0, "%s", hk_err_msg());
	cr_assert_eq(count, 1);
	cr_assert_str_eq(buf, "v1");
	/* another label or application is another object; a value that does
	 * not fit the buffer is refused, not cut */
	cr_assert_eq(hk_token_data_get(t, "app", "issuing.2.compromised", buf,
	    sizeof(buf), &count), HK_ERR_NOT_FOUND);
	cr_assert_eq(hk_token_data_get(t, "other", "issuing.1.compromised", buf,
	    sizeof(buf), &count), HK_ERR_NOT_FOUND);
	cr_assert_eq(hk_token_data_get(t, "app", "issuing.1.compromised", buf,
	    2, &count), HK_ERR_INVALID);
	hk_token_close(t);
	/* persistent: another session after a reopen finds it, logged in
	 * only (private) */
	cr_assert_eq(hk_token_open(&cfg, "test-root", &t), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_token_data_get(t, "app", "issuing.1.compromised", buf,
	    sizeof(buf), &count), HK_ERR_STATE);
	cr_assert_eq(hk_token_login(t, "user-pin-123456"), 0);
	cr_assert_eq(hk_token_data_get(t, "app", "issuing.1.compromised", buf,
	    sizeof(buf), &count), 0, "%s", hk_err_msg());
	cr_assert_str_eq(buf, "v1");
	hk_token_close(t);
}

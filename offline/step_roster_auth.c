/*
 * step_roster_auth.c - people who authenticate with a PKCS#11 token of
 * their own (CPS 5-2-3: "IC card or password"; issue 3 item 2).
 *
 * The roster holds "credential: pkcs11" and the SHA-256 of the DER
 * SubjectPublicKeyInfo of the person's token key (roster set-token). At a
 * ceremony, "--operator ID=pkcs11:token=L;object=K[?module-path=M]
 * [&pin-source=SPEC]" (RFC 7512) names the key: the token is opened (the
 * module-path of the URI, else SoftHSM2 with the SOFTHSM2_CONF the process
 * was started with), the person logs in with their PIN (pin-source as a
 * passin SPEC, else typed at their prompt), the public key's SPKI SHA-256
 * must be the registered one, and a challenge
 *
 *     SHA-256("hanko person-auth 1" || 0x00 || 32 random bytes ||
 *             context (the script's SHA-256) || person id)
 *
 * is signed in the token (SHA-256 with the key's own scheme) and verified
 * with that public key. Nothing of the person's token is kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "ceremony.h"
#include "err.h"
#include "hex.h"
#include "p11.h"
#include "passin.h"
#include "secmem.h"

/* SOFTHSM2_CONF as the process started: opening the CA's (or a rehearsal
 * copy's) token later replaces it in the environment. */
static char env_conf[4096];

__attribute__((constructor)) static void
save_env_conf(void)
{
	const char *v = getenv("SOFTHSM2_CONF");

	if (v != NULL && strlen(v) < sizeof(env_conf))
		snprintf(env_conf, sizeof(env_conf), "%s", v);
}

static int
unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into out (size len). */
static int
pct_decode(const char *s, size_t n, char *out, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int h, l;
			if (i + 2 >= n)
				return HK_ERR_INVALID;
			if ((h = unhex(s[i + 1])) < 0 || (l = unhex(s[i + 2])) < 0)
				return HK_ERR_INVALID;
			c = h * 16 + l;
			i += 2;
		}
		if (c == 0 || o + 1 >= len)
			return HK_ERR_INVALID;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

struct p11uri {
	char path[1024];	/* "pkcs11:" and the path attributes */
	char token[256];	/* token= decoded */
	char module[1024];	/* module-path= decoded; "" */
	char pin_source[1024];	/* pin-source= decoded; "" */
};

static int
uri_parse(const char *what, const char *uri, struct p11uri *u)
{
	const char *q, *a, *end;
	int has_key = 0;

	memset(u, 0, sizeof(*u));
	if (strncmp(uri, "pkcs11:", 7) != 0) {
		hk_err_set("%s: %s: not an RFC 7512 pkcs11: URI", what, uri);
		return HK_ERR_USAGE;
	}
	q = strchr(uri, '?');
	end = q ? q : uri + strlen(uri);
	if ((size_t)(end - uri) >= sizeof(u->path)) {
		hk_err_set("%s: URI too long", what);
		return HK_ERR_USAGE;
	}
	snprintf(u->path, sizeof(u->path), "%.*s", (int)(end - uri), uri);
	for (a = uri + 7; a < end;) {
		const char *semi = memchr(a, ';', (size_t)(end - a));
		const char *e = semi ? semi : end;
		const char *eq = memchr(a, '=', (size_t)(e - a));
		size_t kl = eq ? (size_t)(eq - a) : 0;

		if (eq == NULL) {
			hk_err_set("%s: %.*s: expected attribute=value in the "
			    "URI path", what, (int)(e - a), a);
			return HK_ERR_USAGE;
		}
		if (kl == 5 && strncmp(a, "token", 5) == 0) {
			if (pct_decode(eq + 1, (size_t)(e - eq - 1), u->token,
			    sizeof(u->token)) != 0 || u->token[0] == '\0') {
				hk_err_set("%s: token=: a label, "
				    "percent-encoded", what);
				return HK_ERR_USAGE;
			}
		} else if ((kl == 6 && strncmp(a, "object", 6) == 0) ||
		    (kl == 2 && strncmp(a, "id", 2) == 0))
			has_key = 1;
		else if (!(kl == 4 && strncmp(a, "type", 4) == 0)) {
			hk_err_set("%s: %.*s: URI path attribute not taken "
			    "(token, object, id, type)", what, (int)kl, a);
			return HK_ERR_USAGE;
		}
		a = semi ? semi + 1 : end;
	}
	for (a = q ? q + 1 : end; *a != '\0';) {
		const char *amp = strchr(a, '&');
		const char *e = amp ? amp : a + strlen(a);
		const char *eq = memchr(a, '=', (size_t)(e - a));
		size_t kl = eq ? (size_t)(eq - a) : 0;
		char *dst = NULL;
		size_t dl = 0;

		if (eq != NULL && kl == 11 && strncmp(a, "module-path", 11) == 0) {
			dst = u->module;
			dl = sizeof(u->module);
		} else if (eq != NULL && kl == 10 &&
		    strncmp(a, "pin-source", 10) == 0) {
			dst = u->pin_source;
			dl = sizeof(u->pin_source);
		}
		if (dst == NULL) {
			/* Only the name: the value may be a PIN (pin-value=),
			 * and this message goes to the audit log. */
			if (eq != NULL)
				hk_err_set("%s: %.*s=...: URI query attribute "
				    "not taken (module-path, pin-source; "
				    "pin-value never)", what, (int)kl, a);
			else
				hk_err_set("%s: a URI query attribute without "
				    "'=' (module-path=, pin-source=; pin-value "
				    "never)", what);
			return HK_ERR_USAGE;
		}
		if (pct_decode(eq + 1, (size_t)(e - eq - 1), dst, dl) != 0 ||
		    dst[0] == '\0') {
			hk_err_set("%s: %.*s: empty or badly percent-encoded",
			    what, (int)kl, a);
			return HK_ERR_USAGE;
		}
		a = amp ? amp + 1 : e;
	}
	if (u->token[0] == '\0' || !has_key) {
		hk_err_set("%s: %s: the URI must name token= and object= (or "
		    "id=)", what, u->path);
		return HK_ERR_USAGE;
	}
	return 0;
}

static int
spki_digest(EVP_PKEY *pub, unsigned char out[32])
{
	unsigned char *der = NULL;
	int len;

	if ((len = i2d_PUBKEY(pub, &der)) <= 0) {
		hk_err_set("token key: cannot encode its public key");
		return HK_ERR_CRYPTO;
	}
	SHA256(der, (size_t)len, out);
	OPENSSL_free(der);
	return 0;
}

/* Sign the challenge in the token and verify it with pub. */
static int
challenge(EVP_PKEY *priv, EVP_PKEY *pub, const unsigned char context[32],
    const char *id)
{
	static const char tag[] = "hanko person-auth 1";
	unsigned char rnd[32], ch[32], sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *m = NULL;
	int r = HK_ERR_VERIFY;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		hk_err_set("challenge: no random bytes");
		return HK_ERR_CRYPTO;
	}
	{
		unsigned char m0[sizeof(tag) + 64 + HK_ROSTER_ID_MAX];
		size_t n = 0, il = strlen(id);
		if (il >= HK_ROSTER_ID_MAX)
			return HK_ERR_INVALID;
		memcpy(m0 + n, tag, sizeof(tag));	/* with its NUL */
		n += sizeof(tag);
		memcpy(m0 + n, rnd, sizeof(rnd));
		n += sizeof(rnd);
		memcpy(m0 + n, context, 32);
		n += 32;
		memcpy(m0 + n, id, il);
		n += il;
		SHA256(m0, n, ch);
	}
	if ((m = EVP_MD_CTX_new()) == NULL)
		return HK_ERR_ALLOC;
	if (EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, priv) != 1 ||
	    EVP_DigestSign(m, sig, &siglen, ch, sizeof(ch)) != 1) {
		hk_err_set("%s: the token did not sign the challenge", id);
		hk_err_add_openssl();
		r = HK_ERR_P11;
		goto out;
	}
	EVP_MD_CTX_free(m);
	if ((m = EVP_MD_CTX_new()) == NULL)
		return HK_ERR_ALLOC;
	if (EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, pub) != 1 ||
	    EVP_DigestVerify(m, sig, siglen, ch, sizeof(ch)) != 1) {
		hk_err_set("%s: the challenge signature does not verify with "
		    "the token's public key", id);
		r = HK_ERR_VERIFY;
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(m);
	return r;
}

int
hk_token_person_key(const char *id, const char *uri, const char *module,
    const char *pin_spec, const char *prompt,
    const unsigned char context[32], const unsigned char *want,
    unsigned char spki[32])
{
	struct p11uri u;
	struct hk_p11_cfg cfg;
	struct hk_token *t = NULL;
	EVP_PKEY *priv = NULL, *pub = NULL;
	char *pin = NULL, *saved = NULL, what[128], hex[65], whex[65];
	const char *cur = getenv("SOFTHSM2_CONF");
	int r;

	snprintf(what, sizeof(what), "%s: token key", id);
	if ((r = uri_parse(what, uri, &u)) != 0 ||
	    (cur != NULL && (saved = strdup(cur)) == NULL)) {
		/* pin-source=pass:... holds the PIN itself */
		OPENSSL_cleanse(&u, sizeof(u));
		return r != 0 ? r : HK_ERR_ALLOC;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.module = u.module[0] ? u.module : module;
	if (cfg.module == NULL && env_conf[0] != '\0')
		cfg.softhsm_conf = env_conf;
	if ((r = hk_token_open(&cfg, u.token, &t)) != 0)
		goto out;
	if ((r = hk_passin_read(u.pin_source[0] ? u.pin_source : pin_spec,
	    prompt, &pin)) != 0)
		goto out;
	if ((r = hk_token_login(t, pin)) != 0) {
		hk_err_clear();
		hk_err_set("%s: PIN refused by token '%s' (CPS 5-2-3)", id,
		    u.token);
		r = HK_ERR_PASSPHRASE;
		goto out;
	}
	if ((r = hk_token_key(t, u.path, &priv, &pub)) != 0 ||
	    (r = spki_digest(pub, spki)) != 0)
		goto out;
	if (want != NULL && memcmp(want, spki, 32) != 0) {
		hk_hex_encode(spki, 32, hex);
		hk_hex_encode(want, 32, whex);
		hk_err_set("%s: token key %s: SPKI SHA-256 %.16s... is not the "
		    "registered %.16s... (wrong token key)", id, u.path, hex,
		    whex);
		r = HK_ERR_VERIFY;
		goto out;
	}
	r = challenge(priv, pub, context, id);
out:
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	hk_token_close(t);
	hk_secret_free(pin);
	OPENSSL_cleanse(&u, sizeof(u));
	if (saved != NULL) {
		(void)setenv("SOFTHSM2_CONF", saved, 1);
		free(saved);
	} else
		(void)unsetenv("SOFTHSM2_CONF");
	return r;
}

int
hk_person_token_auth(const struct hk_person *p, const char *uri,
    const char *module, const char *pin_spec,
    const unsigned char context[32], char *detail, size_t len)
{
	unsigned char spki[32];
	char prompt[512], hex[65];
	int r;

	if (!hk_person_has_token(p) || !p->has_spki) {
		hk_err_set("%s: the roster holds no token credential for this "
		    "person (roster set-token); a passphrase is theirs", p->id);
		return HK_ERR_STATE;
	}
	snprintf(prompt, sizeof(prompt), "PIN of the token of %s (%s, %s): ",
	    p->id, p->name, hk_role_name(p->role));
	if ((r = hk_token_person_key(p->id, uri, module, pin_spec, prompt,
	    context, p->spki_sha256, spki)) != 0)
		return r;
	hk_hex_encode(spki, 32, hex);
	snprintf(detail, len, "PKCS#11 token key (SPKI SHA-256 %s), challenge "
	    "signed", hex);
	return 0;
}

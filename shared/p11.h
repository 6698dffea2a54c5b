/*
 * p11.h - CA keys in a PKCS#11 token, through libp11 (DESIGN.md section 3).
 *
 * The embedded default is SoftHSM2 with a token under the CA's own state
 * folder and a configuration file of its own (never /etc/softhsm). Any other
 * module is reached by its path. Tokens are selected by label, never by slot
 * number (SoftHSM renumbers slots); keys by CKA_ID, named with RFC 7512 URIs
 * such as "pkcs11:token=kumamoto-root;id=%72%6f%6f%74%2d%31;type=private".
 *
 * libp11 0.4.12 gives us sessions, login and EVP_PKEY handles for signing;
 * key generation, wrapping and unwrapping use the module's functions
 * directly so that the templates say exactly what docs/key-lifecycle.md
 * says: CKA_SENSITIVE=TRUE, CKA_EXTRACTABLE=TRUE with
 * CKA_WRAP_WITH_TRUSTED=TRUE, so that the only way out of the token is a
 * wrap under a CKA_TRUSTED key, which only the SO can make (and the SO PIN
 * is sealed under the quorum key).
 * A struct hk_token must outlive every EVP_PKEY taken from it.
 */
#ifndef HK_P11_H
#define HK_P11_H

#include <stddef.h>

#include <openssl/evp.h>

#define HK_SOFTHSM_MODULE	"/usr/lib/softhsm/libsofthsm2.so"

struct hk_p11_cfg {
	const char *module;	/* PKCS#11 module path; NULL = SoftHSM2 */
	const char *softhsm_conf; /* SOFTHSM2_CONF to use; NULL = leave env */
};

struct hk_token;

enum hk_p11_keytype {
	HK_P11_RSA,		/* bits = modulus size */
	HK_P11_EC,		/* bits = 256 or 384 (NIST P curves) */
};

/* Make the folder dir (which must not exist) with tokens/ and softhsm2.conf
 * for a token of our own. */
int hk_softhsm_prepare(const char *dir);
/* (Re)write <dir>/softhsm2.conf naming <named>/tokens: the same folder, or
 * the name it will have once the state folder is renamed into place. */
int hk_softhsm_conf_write(const char *dir, const char *named);
/* An embedded token's softhsm2.conf (CONF, in the state's token/ folder)
 * must name that folder's tokens/ as directories.tokendir: SoftHSM2 takes
 * the path as written, so a state restored or moved to another path would
 * otherwise find no token ("cannot load PKCS#11 module") or another state's.
 * HK_ERR_P11 with one line naming the file, the line and both folders. */
int hk_softhsm_conf_check(const char *conf);

/* A token label hanko makes: 1 to 32 of a-z, 0-9 and '-'; else
 * HK_ERR_INVALID naming the label and the rule (hk_token_init checks it
 * too; callers check it before asking anyone for anything). */
int hk_token_label_check(const char *label);
/* Initialise the first free slot's token with label, SO PIN and user PIN. */
int hk_token_init(const struct hk_p11_cfg *cfg, const char *label,
    const char *so_pin, const char *user_pin);

/* Open the token with this label. */
int hk_token_open(const struct hk_p11_cfg *cfg, const char *label,
    struct hk_token **out);
/* Log in as the user. A wrong PIN gives HK_ERR_P11 with the CK_RV named. */
int hk_token_login(struct hk_token *t, const char *user_pin);
int hk_token_logout(struct hk_token *t);
void hk_token_close(struct hk_token *t);

/* Generate a key pair inside the token: private key CKA_TOKEN, CKA_PRIVATE,
 * CKA_SENSITIVE, CKA_SIGN, CKA_DECRYPT=FALSE, and CKA_EXTRACTABLE=TRUE only
 * together with CKA_WRAP_WITH_TRUSTED=TRUE (the quorum-controlled backup
 * wrap, hk_token_key_wrap); refuses an id in use. */
int hk_token_keygen(struct hk_token *t, enum hk_p11_keytype type, int bits,
    const char *label, const unsigned char *id, size_t id_len);

/* Destroy the private and public key objects with this CKA_ID (used to
 * undo a key generation whose ceremony failed before anything was signed
 * and published). Missing objects are not an error. */
int hk_token_key_destroy(struct hk_token *t, const unsigned char *id,
    size_t id_len);

/* Private and public key of an RFC 7512 URI (token=, object=, id=; the
 * token must be this token). priv may be NULL to get the public key only. */
int hk_token_key(struct hk_token *t, const char *uri, EVP_PKEY **priv,
    EVP_PKEY **pub);

/* Attributes of the private key of uri, for checks and tests. */
struct hk_p11_key_attrs {
	int sensitive;		/* CKA_SENSITIVE */
	int extractable;	/* CKA_EXTRACTABLE */
	int always_sensitive;	/* CKA_ALWAYS_SENSITIVE */
	int never_extractable;	/* CKA_NEVER_EXTRACTABLE */
	int local;		/* CKA_LOCAL: generated on the token */
	int wrap_with_trusted;	/* CKA_WRAP_WITH_TRUSTED */
};
int hk_token_key_attrs(struct hk_token *t, const char *uri,
    struct hk_p11_key_attrs *out);

/* Build "pkcs11:token=<label>;id=<pct-encoded id>;type=private". */
int hk_p11_uri(const char *token_label, const unsigned char *id,
    size_t id_len, char *buf, size_t len);

/*
 * The backup wrap (CPS 6-2-1-4). The private key with CKA_ID id is wrapped
 * with CKM_AES_KEY_WRAP_PAD (RFC 5649) under kek (32 bytes), which exists
 * in the token only for this call, as a session object with CKA_TRUSTED
 * that the SO makes: the user is logged out, the SO logs in, makes it and
 * logs out, the user logs in again (the token must be logged in as the user
 * on entry and is on return, unless re-login fails: then HK_ERR_P11 and
 * logged out). *wrapped is hk_secret_alloc memory: hk_secret_free it.
 */
int hk_token_key_wrap(struct hk_token *t, const char *so_pin,
    const char *user_pin, const unsigned char *kek, size_t kek_len,
    const unsigned char *id, size_t id_len, unsigned char **wrapped,
    size_t *wrapped_len);

/*
 * Unwrap a key wrapped by hk_token_key_wrap into this token (logged in as
 * the user) as a private key with label and id and the attributes of
 * hk_token_keygen, and make its public key object from pub (RSA or EC).
 * Refuses an id in use; on failure nothing is left in the token.
 */
int hk_token_key_unwrap(struct hk_token *t, const unsigned char *kek,
    size_t kek_len, const unsigned char *wrapped, size_t wrapped_len,
    EVP_PKEY *pub, const char *label, const unsigned char *id,
    size_t id_len);

/*
 * Data objects (CKO_DATA): a persistent, private record in the token
 * (CKA_TOKEN and CKA_PRIVATE true, CKA_MODIFIABLE false), named by
 * CKA_APPLICATION app and CKA_LABEL label, value 1 to HK_P11_DATA_MAX
 * bytes. Private objects are seen only by a logged-in user: both calls
 * need hk_token_login (HK_ERR_STATE otherwise).
 *
 * hk_token_data_put makes the object unless one with this application and
 * label is there already (that one is kept as it is): *made 1 when made,
 * 0 when found. hk_token_data_get reads the value of the one with this
 * application and label into buf (NUL-terminated; a longer value is
 * HK_ERR_INVALID), *count the number of such objects (0 with
 * HK_ERR_NOT_FOUND when none).
 */
#define HK_P11_DATA_MAX	1024
int hk_token_data_put(struct hk_token *t, const char *app,
    const char *label, const void *value, size_t len, int *made);
int hk_token_data_get(struct hk_token *t, const char *app,
    const char *label, char *buf, size_t buflen, int *count);

/* Random bytes from the token's RNG mixed with libsodium's. */
int hk_token_random(struct hk_token *t, unsigned char *buf, size_t len);

#endif

/*
 * roster.h - the people of the CA and the key managers' quorum
 * (CPS 5-2-1-1, DESIGN.md sections 1 and 4).
 *
 * A YAML file ("hanko-roster: 1") lists people, each with an id (lowercase
 * [a-z0-9-], 1-32 bytes, unique), a UTF-8 name (Japanese allowed), one role,
 * and optional credential/contact fields; "quorum: {threshold: m}" applies
 * to the key managers. With n key managers: 2 <= m <= n <= 255.
 *
 * A person's credential may be a passphrase verifier (CPS 5-2-3): the
 * string of libsodium's crypto_pwhash_str (Argon2id), "$argon2id$...", or
 * a PKCS#11 token of their own: "credential: pkcs11" with
 * "spki-sha256: <64 lowercase hex>", the SHA-256 of the DER
 * SubjectPublicKeyInfo of the key in their token (roster set-token); they
 * authenticate by signing a challenge in it (offline/step_roster_auth.c).
 * The roster in a CA state folder is approved by the CA manager: the
 * SHA-256 of its bytes is recorded (offline/cmd_roster.c), and any change
 * to the file, such as a new verifier, needs a new approval.
 */
#ifndef HK_ROSTER_H
#define HK_ROSTER_H

#include <stddef.h>

#define HK_ROSTER_VERSION	1
#define HK_ROSTER_MAX_PEOPLE	1024	/* entries in one roster */
#define HK_ROSTER_MAX_KM	255	/* key managers (share indices 1..255) */
#define HK_ROSTER_ID_MAX	33	/* bytes of an id, incl. NUL */
#define HK_ROSTER_NAME_MAX	257	/* bytes of a name, incl. NUL */
#define HK_ROSTER_CRED_MAX	4097	/* bytes of a credential, incl. NUL */

enum hk_role {
	HK_ROLE_KEY_MANAGER,		/* "key-manager" 秘密鍵管理者 */
	HK_ROLE_SENIOR_OPERATOR,	/* "senior-operator" 上級操作員 */
	HK_ROLE_CA_MANAGER,		/* "ca-manager" 認証局管理責任者 */
	HK_ROLE_AUDITOR,		/* "auditor" 内部監査者 */
	HK_ROLE_REVIEWER,		/* "reviewer" 審査担当者 */
	HK_ROLE_APPROVER,		/* "approver" 承認担当者 */
};

struct hk_person {
	char id[HK_ROSTER_ID_MAX];	/* unique, [a-z0-9-] */
	char name[HK_ROSTER_NAME_MAX];	/* display name, UTF-8 */
	enum hk_role role;		/* the one role held */
	char *credential;		/* opaque credential (e.g. a public key); NULL if absent */
	char *contact;			/* contact line; NULL if absent */
	int has_spki;			/* 1: credential "pkcs11" with ... */
	unsigned char spki_sha256[32];	/* ... SHA-256 of the token key's SPKI */
};

struct hk_roster {
	struct hk_person *people;	/* all entries, in file order */
	size_t npeople;			/* entries in people */
	size_t *km;			/* indices into people of the key managers */
	size_t nkm;			/* n: number of key managers */
	unsigned int threshold;		/* m: key managers needed */
};

int hk_roster_load(const char *path, struct hk_roster **out);
/* The same over bytes already read; name is used in messages. */
int hk_roster_load_buf(const char *name, const unsigned char *buf, size_t len,
    struct hk_roster **out);
void hk_roster_free(struct hk_roster *r);

/* The person with this id, or NULL. */
const struct hk_person *hk_roster_find(const struct hk_roster *r,
    const char *id);
/* n, and the i-th key manager (0 <= i < n) in file order, or NULL. */
size_t hk_roster_key_managers(const struct hk_roster *r);
const struct hk_person *hk_roster_key_manager(const struct hk_roster *r,
    size_t i);
/* Number of people holding role. */
size_t hk_roster_count(const struct hk_roster *r, enum hk_role role);

const char *hk_role_name(enum hk_role role);
int hk_role_parse(const char *s, enum hk_role *out);
/* 0 if s is a valid id: 1-32 bytes of [a-z0-9-], not starting with '-'. */
int hk_roster_id_check(const char *s);

#define HK_VERIFIER_PREFIX	"$argon2id$"

#define HK_CRED_PKCS11		"pkcs11"

/* 1 if p's credential is a PKCS#11 token key (credential: pkcs11). */
int hk_person_has_token(const struct hk_person *p);
/* Make p's credential the token key whose SPKI has this SHA-256. */
int hk_person_set_token(struct hk_person *p, const unsigned char spki[32]);

/* 1 if p's credential is a passphrase verifier. */
int hk_person_has_verifier(const struct hk_person *p);
/*
 * Replace p's credential by a verifier of pass at kdf_level (enum
 * hk_kdf_level of quorum.h). HK_ERR_CRYPTO if Argon2id cannot run.
 */
int hk_person_set_verifier(struct hk_person *p, const char *pass,
    int kdf_level);
/*
 * Check pass against p's verifier: 0, HK_ERR_PASSPHRASE when wrong,
 * HK_ERR_STATE when p has no verifier. The detail names p, never pass.
 */
int hk_person_verify(const struct hk_person *p, const char *pass);
/*
 * The SHA-256 that names p's credential in the audit log
 * (roster.credential records, docs/ceremonies.md): over
 * "hanko credential 1" NUL, the credential text, NUL, then for a token
 * credential the 32 bytes of spki-sha256. Two credentials are the same
 * exactly when these are. HK_ERR_NOT_FOUND, out zeroed, when p has none.
 */
int hk_person_credential_sha256(const struct hk_person *p,
    unsigned char out[32]);
/*
 * Write r as a canonical roster file (comments are not kept), replacing
 * path atomically. The result loads back to the same roster.
 */
int hk_roster_write(const struct hk_roster *r, const char *path);

#endif

/* roster.c - people, roles and the key managers' quorum from YAML. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "atomic.h"
#include "err.h"
#include "hex.h"
#include "quorum.h"
#include "roster.h"
#include "yamlx.h"

static const char *const role_names[] = {
	"key-manager", "senior-operator", "ca-manager", "auditor",
	"reviewer", "approver", NULL
};

const char *
hk_role_name(enum hk_role role)
{
	if ((unsigned)role < 6)
		return role_names[role];
	return "?";
}

int
hk_role_parse(const char *s, enum hk_role *out)
{
	int i;

	for (i = 0; role_names[i] != NULL; i++)
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum hk_role)i;
			return 0;
		}
	return HK_ERR_INVALID;
}

int
hk_roster_id_check(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len >= HK_ROSTER_ID_MAX || s[0] == '-')
		return HK_ERR_INVALID;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return HK_ERR_INVALID;
	return 0;
}

void
hk_roster_free(struct hk_roster *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->npeople; i++) {
		free(r->people[i].credential);
		free(r->people[i].contact);
	}
	free(r->people);
	free(r->km);
	free(r);
}

static int
opt_str(const struct hk_yaml_doc *d, const struct hk_yaml_node *m,
    const char *key, char **out)
{
	const struct hk_yaml_node *n;
	const char *s;
	int r;

	*out = NULL;
	if ((n = hk_yaml_get(m, key)) == NULL)
		return 0;
	if ((r = hk_yaml_str(d, n, 1, HK_ROSTER_CRED_MAX - 1, &s)) != 0)
		return r;
	if ((*out = strdup(s)) == NULL)
		return HK_ERR_ALLOC;
	return 0;
}

static int
load_person(const struct hk_yaml_doc *d, const struct hk_yaml_node *m,
    struct hk_person *p)
{
	static const char *const keys[] = { "id", "name", "role",
	    "credential", "contact", "spki-sha256", NULL };
	const struct hk_yaml_node *n;
	int r, role;

	if ((r = hk_yaml_keys(d, m, keys)) != 0 ||
	    (r = hk_yaml_get_str(d, m, "id", 1, 1, p->id,
	    sizeof(p->id))) != 0)
		return r;
	if (hk_roster_id_check(p->id) != 0)
		return hk_yaml_fail(d, hk_yaml_get(m, "id"), "must be 1 to %d "
		    "of a-z, 0-9 and '-', not starting with '-'",
		    HK_ROSTER_ID_MAX - 1);
	if ((r = hk_yaml_get_str(d, m, "name", 1, 1, p->name,
	    sizeof(p->name))) != 0)
		return r;
	if ((r = hk_yaml_need(d, m, "role", &n)) != 0 ||
	    (r = hk_yaml_enum(d, n, role_names, &role)) != 0)
		return r;
	p->role = (enum hk_role)role;
	if ((r = opt_str(d, m, "credential", &p->credential)) != 0 ||
	    (r = opt_str(d, m, "contact", &p->contact)) != 0)
		return r;
	/* A token credential: credential: pkcs11 and spki-sha256, together. */
	n = hk_yaml_get(m, "spki-sha256");
	if (hk_person_has_token(p)) {
		char hex[65];
		size_t i;
		if ((r = hk_yaml_get_str(d, m, "spki-sha256", 1, 64, hex,
		    sizeof(hex))) != 0)
			return r;
		for (i = 0; hex[i] != '\0'; i++)
			if (!((hex[i] >= '0' && hex[i] <= '9') ||
			    (hex[i] >= 'a' && hex[i] <= 'f')))
				break;
		if (i != 64 || hk_hex_decode(hex, p->spki_sha256, 32) != 0)
			return hk_yaml_fail(d, n, "spki-sha256 must be 64 "
			    "lowercase hex digits (the SHA-256 of the token "
			    "key's SubjectPublicKeyInfo)");
		p->has_spki = 1;
	} else if (n != NULL)
		return hk_yaml_fail(d, n, "spki-sha256 is only for a token "
		    "credential (credential: %s)", HK_CRED_PKCS11);
	return 0;
}

/* The roster of a parsed document (d is the caller's). */
static int
roster_of(struct hk_yaml_doc *d, struct hk_roster **out)
{
	static const char *const keys[] = { "hanko-roster", "people",
	    "quorum", NULL };
	static const char *const qkeys[] = { "threshold", NULL };
	struct hk_roster *ro = NULL;
	const struct hk_yaml_node *people, *q, *tn;
	long version = 0, m = 0;
	size_t i, j;
	int r;

	*out = NULL;
	if ((r = hk_yaml_keys(d, d->root, keys)) != 0 ||
	    (r = hk_yaml_get_int(d, d->root, "hanko-roster", 1,
	    HK_ROSTER_VERSION, HK_ROSTER_VERSION, &version)) != 0 ||
	    (r = hk_yaml_need(d, d->root, "people", &people)) != 0 ||
	    (r = hk_yaml_seq(d, people)) != 0 ||
	    (r = hk_yaml_need(d, d->root, "quorum", &q)) != 0 ||
	    (r = hk_yaml_keys(d, q, qkeys)) != 0 ||
	    (r = hk_yaml_need(d, q, "threshold", &tn)) != 0)
		goto out;
	if (people->n == 0 || people->n > HK_ROSTER_MAX_PEOPLE) {
		r = hk_yaml_fail(d, people, "must list 1 to %d people",
		    HK_ROSTER_MAX_PEOPLE);
		goto out;
	}
	if ((ro = calloc(1, sizeof(*ro))) == NULL ||
	    (ro->people = calloc(people->n, sizeof(*ro->people))) == NULL ||
	    (ro->km = calloc(people->n, sizeof(*ro->km))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < people->n; i++) {
		const struct hk_yaml_node *pm = people->kids[i];

		ro->npeople++;
		if ((r = hk_yaml_map(d, pm)) != 0 ||
		    (r = load_person(d, pm, &ro->people[i])) != 0)
			goto out;
		for (j = 0; j < i; j++)
			if (strcmp(ro->people[j].id, ro->people[i].id) == 0) {
				r = hk_yaml_fail(d, hk_yaml_get(pm, "id"),
				    "duplicate id '%s' (also people[%zu])",
				    ro->people[i].id, j);
				goto out;
			}
		/* One token is one person: the same key for two people would
		 * let one token holder be both of a dual control. */
		for (j = 0; j < i && ro->people[i].has_spki; j++)
			if (ro->people[j].has_spki &&
			    memcmp(ro->people[j].spki_sha256,
			    ro->people[i].spki_sha256, 32) == 0) {
				r = hk_yaml_fail(d, hk_yaml_get(pm,
				    "spki-sha256"), "the token key of "
				    "people[%zu] %s: one token key is one "
				    "person's (CPS 5-2-2, 5-2-3)", j,
				    ro->people[j].id);
				goto out;
			}
		if (ro->people[i].role == HK_ROLE_KEY_MANAGER)
			ro->km[ro->nkm++] = i;
	}
	if (ro->nkm < 2 || ro->nkm > HK_ROSTER_MAX_KM) {
		r = hk_yaml_fail(d, people, "quorum needs 2 <= n <= %d key "
		    "managers, found %zu", HK_ROSTER_MAX_KM, ro->nkm);
		goto out;
	}
	/* The message states the rule and both numbers. */
	if (tn->kind != HK_YAML_SCALAR || hk_yaml_int(d, tn, 2,
	    (long)ro->nkm, &m) != 0) {
		r = hk_yaml_fail(d, tn, "threshold m must be an integer with "
		    "2 <= m <= n = %zu (the number of key managers)", ro->nkm);
		goto out;
	}
	ro->threshold = (unsigned int)m;
	*out = ro;
	ro = NULL;
	r = 0;
out:
	hk_roster_free(ro);
	return r;
}

int
hk_roster_load(const char *path, struct hk_roster **out)
{
	struct hk_yaml_doc *d = NULL;
	int r;

	*out = NULL;
	if ((r = hk_yaml_load(path, &d)) == 0)
		r = roster_of(d, out);
	hk_yaml_free(d);
	return r;
}

int
hk_roster_load_buf(const char *name, const unsigned char *buf, size_t len,
    struct hk_roster **out)
{
	struct hk_yaml_doc *d = NULL;
	int r;

	*out = NULL;
	if ((r = hk_yaml_load_buf(name, buf, len, &d)) == 0)
		r = roster_of(d, out);
	hk_yaml_free(d);
	return r;
}

const struct hk_person *
hk_roster_find(const struct hk_roster *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->npeople; i++)
		if (strcmp(r->people[i].id, id) == 0)
			return &r->people[i];
	return NULL;
}

size_t
hk_roster_key_managers(const struct hk_roster *r)
{
	return r->nkm;
}

const struct hk_person *
hk_roster_key_manager(const struct hk_roster *r, size_t i)
{
	if (i >= r->nkm)
		return NULL;
	return &r->people[r->km[i]];
}

size_t
hk_roster_count(const struct hk_roster *r, enum hk_role role)
{
	size_t i, n = 0;

	for (i = 0; i < r->npeople; i++)
		if (r->people[i].role == role)
			n++;
	return n;
}

int
hk_person_has_token(const struct hk_person *p)
{
	return p->credential != NULL &&
	    strcmp(p->credential, HK_CRED_PKCS11) == 0;
}

int
hk_person_set_token(struct hk_person *p, const unsigned char spki[32])
{
	char *dup;

	if ((dup = strdup(HK_CRED_PKCS11)) == NULL)
		return HK_ERR_ALLOC;
	free(p->credential);
	p->credential = dup;
	memcpy(p->spki_sha256, spki, 32);
	p->has_spki = 1;
	return 0;
}

int
hk_person_has_verifier(const struct hk_person *p)
{
	return p->credential != NULL && strncmp(p->credential,
	    HK_VERIFIER_PREFIX, strlen(HK_VERIFIER_PREFIX)) == 0;
}

int
hk_person_set_verifier(struct hk_person *p, const char *pass, int kdf_level)
{
	char str[crypto_pwhash_STRBYTES];
	unsigned long long ops;
	size_t mem;
	char *dup;

	switch (kdf_level) {
	case HK_KDF_INTERACTIVE:
		ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		break;
	case HK_KDF_SENSITIVE:
		ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
		break;
	default:
		ops = crypto_pwhash_OPSLIMIT_MODERATE;
		mem = crypto_pwhash_MEMLIMIT_MODERATE;
		break;
	}
	if (crypto_pwhash_str(str, pass, strlen(pass), ops, mem) != 0) {
		hk_err_set("%s: Argon2id failed (out of memory?)", p->id);
		return HK_ERR_CRYPTO;
	}
	if ((dup = strdup(str)) == NULL)
		return HK_ERR_ALLOC;
	free(p->credential);
	p->credential = dup;
	p->has_spki = 0;
	memset(p->spki_sha256, 0, sizeof(p->spki_sha256));
	return 0;
}

int
hk_person_credential_sha256(const struct hk_person *p, unsigned char out[32])
{
	static const char tag[] = "hanko credential 1";
	crypto_hash_sha256_state h;

	memset(out, 0, 32);
	if (p->credential == NULL)
		return HK_ERR_NOT_FOUND;
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)tag, sizeof(tag));
	crypto_hash_sha256_update(&h, (const unsigned char *)p->credential,
	    strlen(p->credential) + 1);
	if (p->has_spki)
		crypto_hash_sha256_update(&h, p->spki_sha256, 32);
	crypto_hash_sha256_final(&h, out);
	return 0;
}

int
hk_person_verify(const struct hk_person *p, const char *pass)
{
	if (hk_person_has_token(p)) {
		hk_err_set("%s: authenticates with a PKCS#11 token of their "
		    "own, not a passphrase (--operator %s=pkcs11:token=...;"
		    "object=...)", p->id, p->id);
		return HK_ERR_STATE;
	}
	if (!hk_person_has_verifier(p)) {
		hk_err_set("%s: the roster holds no passphrase verifier for "
		    "this person (hanko-offline roster set-passphrase)", p->id);
		return HK_ERR_STATE;
	}
	if (crypto_pwhash_str_verify(p->credential, pass, strlen(pass)) != 0) {
		hk_err_set("%s: wrong passphrase (CPS 5-2-3)", p->id);
		return HK_ERR_PASSPHRASE;
	}
	return 0;
}

/* A YAML double-quoted scalar of s (UTF-8 passes through). */
static void
put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int
hk_roster_write(const struct hk_roster *r, const char *path)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;
	int rc;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return HK_ERR_ALLOC;
	fprintf(f, "# Written by hanko-offline; approve it again after any "
	    "change (roster approve).\nhanko-roster: %d\n\npeople:\n",
	    HK_ROSTER_VERSION);
	for (i = 0; i < r->npeople; i++) {
		const struct hk_person *p = &r->people[i];
		fprintf(f, "  - id: %s\n    name: ", p->id);
		put_quoted(f, p->name);
		fprintf(f, "\n    role: %s\n", hk_role_name(p->role));
		if (p->credential != NULL) {
			fputs("    credential: ", f);
			put_quoted(f, p->credential);
			fputc('\n', f);
		}
		if (p->has_spki) {
			char hex[65];
			hk_hex_encode(p->spki_sha256, 32, hex);
			fprintf(f, "    spki-sha256: \"%s\"\n", hex);
		}
		if (p->contact != NULL) {
			fputs("    contact: ", f);
			put_quoted(f, p->contact);
			fputc('\n', f);
		}
	}
	fprintf(f, "\nquorum:\n  threshold: %u\n", r->threshold);
	if (fclose(f) != 0) {
		free(buf);
		return HK_ERR_ALLOC;
	}
	rc = hk_file_write(path, buf, len, 0644, 0);
	free(buf);
	return rc;
}

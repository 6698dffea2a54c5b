/*
 * p11.c - PKCS#11 tokens through libp11; key generation through the module.
 *
 * libp11 0.4.12 loads the module (C_Initialize), finds tokens, logs in and
 * hands out EVP_PKEYs whose operations run in the token. It parses no RFC 7512
 * URI (p11-kit does, PROFILE.md) and its key generation cannot ask for a
 * non-extractable key, so C_GenerateKeyPair is called here through the
 * module's own function list, in the same process and login state.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <libp11.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>
#include <sodium.h>

#include "atomic.h"
#include "err.h"
#include "p11.h"
#include "secmem.h"

struct hk_token {
	PKCS11_CTX *ctx;		/* libp11 context; owns the module */
	PKCS11_SLOT *slots;		/* all slots of the module */
	unsigned int nslots;		/* number of slots */
	PKCS11_SLOT *slot;		/* the slot holding our token */
	CK_FUNCTION_LIST_PTR fl;	/* the module's functions (raw calls) */
	void *dl;			/* dlopen handle behind fl */
	CK_SLOT_ID slotid;		/* PKCS#11 slot id of slot */
	char label[33];			/* token label */
	int logged_in;			/* 1 after hk_token_login */
};

int
hk_softhsm_conf_write(const char *dir, const char *named)
{
	char path[4096], conf[4300];
	int n;

	n = snprintf(path, sizeof(path), "%s/softhsm2.conf", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return HK_ERR_INVALID;
	n = snprintf(conf, sizeof(conf),
	    "# SoftHSM2 configuration of this CA's own token (made by hanko).\n"
	    "# Never the system's /etc/softhsm: the token lives here.\n"
	    "directories.tokendir = %s/tokens/\n"
	    "objectstore.backend = file\n"
	    "log.level = ERROR\n"
	    "slots.removable = false\n"
	    "slots.mechanisms = ALL\n"
	    "library.reset_on_fork = false\n", named);
	if (n < 0 || (size_t)n >= sizeof(conf))
		return HK_ERR_INVALID;
	return hk_file_write(path, conf, (size_t)n, 0600, 0);
}

int
hk_softhsm_prepare(const char *dir)
{
	char path[4096];
	int r;

	if ((r = hk_dir_create(dir, 0700)) != 0)
		return r;
	if ((size_t)snprintf(path, sizeof(path), "%s/tokens", dir) >=
	    sizeof(path))
		return HK_ERR_INVALID;
	if ((r = hk_dir_create(path, 0700)) != 0)
		return r;
	return hk_softhsm_conf_write(dir, dir);
}

int
hk_softhsm_conf_check(const char *conf)
{
	char line[4400], named[4400], own[4400], rn[PATH_MAX], ro[PATH_MAX];
	const char *slash = strrchr(conf, '/');
	FILE *f;
	int e = 0, found = 0, n;

	n = slash == NULL ? snprintf(own, sizeof(own), "tokens") :
	    snprintf(own, sizeof(own), "%.*s/tokens", (int)(slash - conf),
	    conf);
	if (n < 0 || (size_t)n >= sizeof(own))
		return HK_ERR_INVALID;
	if ((f = fopen(conf, "r")) == NULL) {
		hk_err_set("%s: SoftHSM2 configuration: %s", conf,
		    strerror(errno));
		return HK_ERR_P11;
	}
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "directories.tokendir", 20) != 0)
			continue;
		p += 20;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p++ != '=')
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == '\n' || end[-1] == '\r' ||
		    end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';
		snprintf(named, sizeof(named), "%s", p);
		found = 1;
	}
	fclose(f);
	if (!found) {
		hk_err_set("%s: no directories.tokendir line: SoftHSM2 would "
		    "look for the token elsewhere", conf);
		return HK_ERR_P11;
	}
	if (realpath(own, ro) == NULL) {
		hk_err_set("%s: %s", own, strerror(errno));
		return HK_ERR_P11;
	}
	if (realpath(named, rn) == NULL)
		e = errno;
	if (e != 0 || strcmp(rn, ro) != 0) {
		hk_err_set("%s: directories.tokendir names %s (%s), not this "
		    "state's token folder %s/: a state restored or moved to "
		    "another path; restore it at the path it was made at "
		    "or make that line name "
		    "%s/", conf, named, e != 0 ? strerror(e) :
		    "another folder", ro, ro);
		return HK_ERR_P11;
	}
	return 0;
}

static const char *
module_of(const struct hk_p11_cfg *cfg)
{
	return cfg != NULL && cfg->module != NULL ? cfg->module :
	    HK_SOFTHSM_MODULE;
}

static int
p11_error(const char *what)
{
	hk_err_set("%s", what);
	hk_err_add_openssl();
	return HK_ERR_P11;
}

static int
token_load(const struct hk_p11_cfg *cfg, struct hk_token **out)
{
	struct hk_token *t;
	CK_C_GetFunctionList getfl;
	const char *mod = module_of(cfg);
	struct stat mst;
	void *pre;

	*out = NULL;
	if (cfg != NULL && cfg->softhsm_conf != NULL) {
		struct stat st;
		if (stat(cfg->softhsm_conf, &st) != 0) {
			hk_err_set("%s: SoftHSM2 configuration missing",
			    cfg->softhsm_conf);
			return HK_ERR_NOT_FOUND;
		}
		if (setenv("SOFTHSM2_CONF", cfg->softhsm_conf, 1) != 0)
			return HK_ERR_INTERNAL;
	}
	/* Opened here first: a path that is no library (missing, a folder,
	 * not ELF) is bad input named on one line, before libp11 prints its
	 * own line and fails as the token's error. Held until libp11 has
	 * its reference. */
	if ((mod[0] == '\0' || strchr(mod, '/') != NULL) &&
	    stat(mod, &mst) != 0 && errno == ENOENT) {
		hk_err_set("%s: PKCS#11 module: no such file", mod);
		return HK_ERR_NOT_FOUND;
	}
	(void)dlerror();
	if ((pre = dlopen(mod, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		const char *e = dlerror();

		hk_err_set("%s: not a PKCS#11 module that can be loaded (%s)",
		    mod, e != NULL ? e : "dlopen failed");
		return HK_ERR_INVALID;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		dlclose(pre);
		return HK_ERR_ALLOC;
	}
	if ((t->ctx = PKCS11_CTX_new()) == NULL) {
		dlclose(pre);
		free(t);
		return HK_ERR_ALLOC;
	}
	if (PKCS11_CTX_load(t->ctx, mod) != 0) {
		PKCS11_CTX_free(t->ctx);
		dlclose(pre);
		free(t);
		hk_err_set("%s: cannot load PKCS#11 module", mod);
		hk_err_add_openssl();
		return HK_ERR_P11;
	}
	dlclose(pre);
	/* The module is loaded now; take a second reference to it. */
	if ((t->dl = dlopen(mod, RTLD_NOW | RTLD_NOLOAD)) == NULL ||
	    (getfl = (CK_C_GetFunctionList)dlsym(t->dl,
	    "C_GetFunctionList")) == NULL || getfl(&t->fl) != CKR_OK) {
		hk_err_set("%s: no C_GetFunctionList", mod);
		hk_token_close(t);
		return HK_ERR_P11;
	}
	if (PKCS11_enumerate_slots(t->ctx, &t->slots, &t->nslots) != 0) {
		hk_token_close(t);
		return p11_error("PKCS#11: cannot list slots");
	}
	*out = t;
	return 0;
}

static PKCS11_SLOT *
slot_by_label(struct hk_token *t, const char *label)
{
	unsigned int i;

	for (i = 0; i < t->nslots; i++) {
		PKCS11_TOKEN *tok = t->slots[i].token;
		if (tok != NULL && tok->initialized &&
		    strcmp(tok->label, label) == 0)
			return &t->slots[i];
	}
	return NULL;
}

int
hk_token_label_check(const char *label)
{
	size_t i, len = strlen(label);

	if (len == 0 || len > 32) {
		hk_err_set("token label '%s': must be 1 to 32 characters",
		    label);
		return HK_ERR_INVALID;
	}
	for (i = 0; i < len; i++)
		if (!((label[i] >= 'a' && label[i] <= 'z') ||
		    (label[i] >= '0' && label[i] <= '9') || label[i] == '-')) {
			hk_err_set("token label '%s': only a-z, 0-9 and '-'",
			    label);
			return HK_ERR_INVALID;
		}
	return 0;
}

int
hk_token_init(const struct hk_p11_cfg *cfg, const char *label,
    const char *so_pin, const char *user_pin)
{
	struct hk_token *t = NULL;
	PKCS11_SLOT *slot = NULL;
	char padded[33];
	unsigned int i;
	int r;

	if ((r = hk_token_label_check(label)) != 0)
		return r;
	if ((r = token_load(cfg, &t)) != 0)
		return r;
	if (slot_by_label(t, label) != NULL) {
		hk_err_set("token '%s': a token with this label already exists",
		    label);
		r = HK_ERR_EXISTS;
		goto out;
	}
	for (i = 0; i < t->nslots && slot == NULL; i++)
		if (t->slots[i].token != NULL && !t->slots[i].token->initialized)
			slot = &t->slots[i];
	if (slot == NULL) {
		hk_err_set("%s: no free slot for a new token", module_of(cfg));
		r = HK_ERR_P11;
		goto out;
	}
	/* libp11 0.4.12 hands the label to C_InitToken as it is, and the
	 * module reads 32 bytes of it (PKCS#11: blank-padded, not NUL-ended);
	 * give it exactly that. */
	memset(padded, ' ', 32);
	memcpy(padded, label, strlen(label));
	padded[32] = '\0';
	if (PKCS11_init_token(slot->token, so_pin, padded) != 0) {
		r = p11_error("token: C_InitToken failed");
		goto out;
	}
	/* SoftHSM gives an initialised token a new slot id: look again. */
	PKCS11_release_all_slots(t->ctx, t->slots, t->nslots);
	t->slots = NULL;
	if (PKCS11_enumerate_slots(t->ctx, &t->slots, &t->nslots) != 0 ||
	    (slot = slot_by_label(t, label)) == NULL) {
		r = p11_error("token: new token not found after C_InitToken");
		goto out;
	}
	if (PKCS11_open_session(slot, 1) != 0 ||
	    PKCS11_login(slot, 1, so_pin) != 0 ||
	    PKCS11_init_pin(slot->token, user_pin) != 0) {
		r = p11_error("token: setting the user PIN failed");
		goto out;
	}
	PKCS11_logout(slot);
	r = 0;
 out:
	hk_token_close(t);
	return r;
}

int
hk_token_open(const struct hk_p11_cfg *cfg, const char *label,
    struct hk_token **out)
{
	struct hk_token *t = NULL;
	int r;

	*out = NULL;
	if ((r = token_load(cfg, &t)) != 0)
		return r;
	if ((t->slot = slot_by_label(t, label)) == NULL) {
		hk_err_set("%s: no token labelled '%s'", module_of(cfg), label);
		hk_token_close(t);
		return HK_ERR_NOT_FOUND;
	}
	t->slotid = PKCS11_get_slotid_from_slot(t->slot);
	snprintf(t->label, sizeof(t->label), "%s", label);
	if (PKCS11_open_session(t->slot, 1) != 0) {
		r = p11_error("token: cannot open a session");
		hk_token_close(t);
		return r;
	}
	*out = t;
	return 0;
}

int
hk_token_login(struct hk_token *t, const char *user_pin)
{
	if (PKCS11_login(t->slot, 0, user_pin) != 0) {
		hk_err_set("token '%s': login refused", t->label);
		hk_err_add_openssl();
		return HK_ERR_P11;
	}
	t->logged_in = 1;
	return 0;
}

int
hk_token_logout(struct hk_token *t)
{
	if (t == NULL || !t->logged_in)
		return 0;
	t->logged_in = 0;
	if (PKCS11_logout(t->slot) != 0)
		return p11_error("token: logout failed");
	return 0;
}

void
hk_token_close(struct hk_token *t)
{
	if (t == NULL)
		return;
	(void)hk_token_logout(t);
	if (t->slots != NULL)
		PKCS11_release_all_slots(t->ctx, t->slots, t->nslots);
	if (t->ctx != NULL) {
		PKCS11_CTX_unload(t->ctx);
		PKCS11_CTX_free(t->ctx);
	}
	if (t->dl != NULL)
		dlclose(t->dl);
	free(t);
}

/* Find the object of a class with this CKA_ID in a session. */
static int
find_by_id(struct hk_token *t, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
    const unsigned char *id, size_t id_len, CK_OBJECT_HANDLE *obj)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_ULONG n = 0;
	CK_RV rv;

	*obj = CK_INVALID_HANDLE;
	if ((rv = t->fl->C_FindObjectsInit(s, tmpl, 2)) != CKR_OK)
		goto fail;
	rv = t->fl->C_FindObjects(s, obj, 1, &n);
	t->fl->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		goto fail;
	return n == 1 ? 0 : HK_ERR_NOT_FOUND;
 fail:
	hk_err_set("token '%s': C_FindObjects failed (CKR 0x%lx)", t->label,
	    (unsigned long)rv);
	return HK_ERR_P11;
}

static int
raw_session(struct hk_token *t, CK_SESSION_HANDLE *s)
{
	CK_RV rv;

	rv = t->fl->C_OpenSession(t->slotid, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, s);
	if (rv != CKR_OK) {
		hk_err_set("token '%s': C_OpenSession failed (CKR 0x%lx)",
		    t->label, (unsigned long)rv);
		return HK_ERR_P11;
	}
	return 0;
}

int
hk_token_keygen(struct hk_token *t, enum hk_p11_keytype type, int bits,
    const char *label, const unsigned char *id, size_t id_len)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE pubh, privh, found;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG modbits = (CK_ULONG)bits;
	CK_BYTE pubexp[] = { 0x01, 0x00, 0x01 };
	CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	unsigned char *ecparams = NULL;
	int eclen = 0, r;
	CK_RV rv;
	CK_ATTRIBUTE pub[8], priv[10];
	CK_ULONG npub = 0, npriv = 0;

	if (!t->logged_in) {
		hk_err_set("token '%s': key generation needs a login", t->label);
		return HK_ERR_STATE;
	}
	if (type == HK_P11_RSA && (bits < 2048 || bits > 8192)) {
		hk_err_set("key generation: RSA-%d refused (2048 to 8192)", bits);
		return HK_ERR_INVALID;
	}
	if (type == HK_P11_EC) {
		int nid = bits == 256 ? NID_X9_62_prime256v1 :
		    bits == 384 ? NID_secp384r1 : NID_undef;
		ASN1_OBJECT *o = nid == NID_undef ? NULL : OBJ_nid2obj(nid);
		if (o == NULL || (eclen = i2d_ASN1_OBJECT(o, &ecparams)) <= 0) {
			hk_err_set("key generation: EC P-%d not supported", bits);
			return HK_ERR_INVALID;
		}
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
	}
	if ((r = raw_session(t, &s)) != 0)
		goto out;
	if ((r = find_by_id(t, s, CKO_PRIVATE_KEY, id, id_len, &found)) !=
	    HK_ERR_NOT_FOUND) {
		if (r == 0) {
			hk_err_set("token '%s': a key with id of '%s' exists; "
			    "refusing to make another", t->label, label);
			r = HK_ERR_EXISTS;
		}
		goto out;
	}
#define ADD(a, n, typ, p, l) do { a[n].type = typ; a[n].pValue = (void *)(p); \
	a[n].ulValueLen = (l); n++; } while (0)
	ADD(pub, npub, CKA_TOKEN, &yes, sizeof(yes));
	ADD(pub, npub, CKA_VERIFY, &yes, sizeof(yes));
	ADD(pub, npub, CKA_LABEL, label, strlen(label));
	ADD(pub, npub, CKA_ID, id, id_len);
	if (type == HK_P11_RSA) {
		ADD(pub, npub, CKA_MODULUS_BITS, &modbits, sizeof(modbits));
		ADD(pub, npub, CKA_PUBLIC_EXPONENT, pubexp, sizeof(pubexp));
	} else
		ADD(pub, npub, CKA_EC_PARAMS, ecparams, (CK_ULONG)eclen);
	ADD(priv, npriv, CKA_TOKEN, &yes, sizeof(yes));
	ADD(priv, npriv, CKA_PRIVATE, &yes, sizeof(yes));
	ADD(priv, npriv, CKA_SENSITIVE, &yes, sizeof(yes));
	/* Extractable only by a wrap under a CKA_TRUSTED key (SO-made):
	 * docs/key-lifecycle.md. */
	ADD(priv, npriv, CKA_EXTRACTABLE, &yes, sizeof(yes));
	ADD(priv, npriv, CKA_WRAP_WITH_TRUSTED, &yes, sizeof(yes));
	ADD(priv, npriv, CKA_SIGN, &yes, sizeof(yes));
	ADD(priv, npriv, CKA_DECRYPT, &no, sizeof(no));
	ADD(priv, npriv, CKA_LABEL, label, strlen(label));
	ADD(priv, npriv, CKA_ID, id, id_len);
#undef ADD
	rv = t->fl->C_GenerateKeyPair(s, &mech, pub, npub, priv, npriv, &pubh,
	    &privh);
	if (rv != CKR_OK) {
		hk_err_set("token '%s': C_GenerateKeyPair failed (CKR 0x%lx)",
		    t->label, (unsigned long)rv);
		r = HK_ERR_P11;
		goto out;
	}
	r = 0;
 out:
	if (s != CK_INVALID_HANDLE)
		t->fl->C_CloseSession(s);
	OPENSSL_free(ecparams);
	return r;
}

int
hk_token_key_destroy(struct hk_token *t, const unsigned char *id,
    size_t id_len)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_CLASS classes[] = { CKO_PRIVATE_KEY, CKO_PUBLIC_KEY };
	CK_OBJECT_HANDLE obj;
	size_t i;
	CK_RV rv;
	int r;

	if ((r = raw_session(t, &s)) != 0)
		return r;
	for (i = 0; i < 2; i++) {
		r = find_by_id(t, s, classes[i], id, id_len, &obj);
		if (r == HK_ERR_NOT_FOUND)
			continue;
		if (r != 0)
			break;
		if ((rv = t->fl->C_DestroyObject(s, obj)) != CKR_OK) {
			hk_err_set("token '%s': C_DestroyObject failed "
			    "(CKR 0x%lx)", t->label, (unsigned long)rv);
			r = HK_ERR_P11;
			break;
		}
	}
	t->fl->C_CloseSession(s);
	return r == HK_ERR_NOT_FOUND ? 0 : r;
}

int
hk_p11_uri(const char *token_label, const unsigned char *id, size_t id_len,
    char *buf, size_t len)
{
	size_t o, i;
	int n;

	n = snprintf(buf, len, "pkcs11:token=%s;id=", token_label);
	if (n < 0 || (size_t)n >= len)
		return HK_ERR_INVALID;
	o = (size_t)n;
	for (i = 0; i < id_len; i++) {
		if (o + 4 >= len)
			return HK_ERR_INVALID;
		snprintf(buf + o, len - o, "%%%02x", id[i]);
		o += 3;
	}
	if (o + sizeof(";type=private") > len)
		return HK_ERR_INVALID;
	strcpy(buf + o, ";type=private");
	return 0;
}

/* Token labels are 32 bytes padded with blanks; trim trailing blanks (and
 * NULs, which some modules use) on both sides before comparing. */
static int
label_eq(const unsigned char a[32], const unsigned char b[32])
{
	size_t la = 32, lb = 32;

	while (la > 0 && (a[la - 1] == ' ' || a[la - 1] == '\0'))
		la--;
	while (lb > 0 && (b[lb - 1] == ' ' || b[lb - 1] == '\0'))
		lb--;
	return la == lb && memcmp(a, b, la) == 0;
}

/* Parse an RFC 7512 URI naming an object on this token: its CKA_ID and/or
 * CKA_LABEL (copied out, NUL-terminated). */
static int
uri_object(struct hk_token *t, const char *uri, unsigned char *id,
    size_t *id_len, char *label, size_t label_len)
{
	P11KitUri *u;
	CK_ATTRIBUTE *a;
	CK_TOKEN_INFO ti, *uti;
	CK_RV rv;
	int r = HK_ERR_INVALID;

	*id_len = 0;
	label[0] = '\0';
	if ((u = p11_kit_uri_new()) == NULL)
		return HK_ERR_ALLOC;
	if (p11_kit_uri_parse(uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, u) !=
	    P11_KIT_URI_OK) {
		hk_err_set("%s: not an RFC 7512 PKCS#11 URI", uri);
		goto out;
	}
	/* Compare the label ourselves: the URI's token label, blank-padded
	 * to 32 bytes as in CK_TOKEN_INFO, must be this token's. */
	if ((rv = t->fl->C_GetTokenInfo(t->slotid, &ti)) != CKR_OK) {
		hk_err_set("token '%s': C_GetTokenInfo failed (CKR 0x%lx)",
		    t->label, (unsigned long)rv);
		r = HK_ERR_P11;
		goto out;
	}
	uti = p11_kit_uri_get_token_info(u);
	if (uti == NULL || !label_eq(uti->label, ti.label)) {
		hk_err_set("%s: names another token than '%s'", uri, t->label);
		r = HK_ERR_NOT_FOUND;
		goto out;
	}
	if ((a = p11_kit_uri_get_attribute(u, CKA_ID)) != NULL) {
		if (a->ulValueLen == 0 || a->ulValueLen > 64) {
			hk_err_set("%s: id must be 1 to 64 bytes", uri);
			goto out;
		}
		memcpy(id, a->pValue, a->ulValueLen);
		*id_len = a->ulValueLen;
	}
	if ((a = p11_kit_uri_get_attribute(u, CKA_LABEL)) != NULL) {
		if (a->ulValueLen >= label_len) {
			hk_err_set("%s: object label too long", uri);
			goto out;
		}
		memcpy(label, a->pValue, a->ulValueLen);
		label[a->ulValueLen] = '\0';
	}
	if (*id_len == 0 && label[0] == '\0') {
		hk_err_set("%s: names no object (give id= or object=)", uri);
		goto out;
	}
	r = 0;
 out:
	p11_kit_uri_free(u);
	return r;
}

/*
 * The public half of a private key object, as a plain software key with no
 * ties to the module. libp11 0.4.12's PKCS11_get_public_key leaks what it
 * builds (LeakSanitizer), so the public parts are taken from the private
 * key's EVP_PKEY (modulus and exponent, or the EC point), re-encoded.
 */
static int
public_of(PKCS11_KEY *k, EVP_PKEY **pub)
{
	EVP_PKEY *p11 = NULL;
	unsigned char *der = NULL;
	const unsigned char *q;
	int len;

	*pub = NULL;
	if ((p11 = PKCS11_get_private_key(k)) == NULL)
		return p11_error("token: cannot read the key");
	len = i2d_PUBKEY(p11, &der);
	EVP_PKEY_free(p11);
	q = der;
	if (len <= 0 || (*pub = d2i_PUBKEY(NULL, &q, len)) == NULL) {
		OPENSSL_free(der);
		return p11_error("token: cannot encode the public key");
	}
	OPENSSL_free(der);
	return 0;
}

int
hk_token_key(struct hk_token *t, const char *uri, EVP_PKEY **priv,
    EVP_PKEY **pub)
{
	PKCS11_KEY *keys = NULL, *k = NULL;
	unsigned int n = 0, i;
	unsigned char id[64];
	size_t id_len;
	char label[256];
	int r;

	if (priv != NULL)
		*priv = NULL;
	if (pub != NULL)
		*pub = NULL;
	if ((r = uri_object(t, uri, id, &id_len, label, sizeof(label))) != 0)
		return r;
	if (PKCS11_enumerate_keys(t->slot->token, &keys, &n) != 0)
		return p11_error("token: cannot list keys");
	for (i = 0; i < n && k == NULL; i++) {
		if (id_len > 0 && (keys[i].id_len != id_len ||
		    memcmp(keys[i].id, id, id_len) != 0))
			continue;
		if (label[0] != '\0' && (keys[i].label == NULL ||
		    strcmp(keys[i].label, label) != 0))
			continue;
		k = &keys[i];
	}
	if (k == NULL) {
		hk_err_set("%s: no such private key in token '%s'%s", uri,
		    t->label, t->logged_in ? "" : " (not logged in)");
		return HK_ERR_NOT_FOUND;
	}
	if (pub != NULL && (r = public_of(k, pub)) != 0)
		return r;
	if (priv != NULL && (*priv = PKCS11_get_private_key(k)) == NULL) {
		if (pub != NULL) {
			EVP_PKEY_free(*pub);
			*pub = NULL;
		}
		return p11_error("token: cannot use the private key");
	}
	return 0;
}

int
hk_token_key_attrs(struct hk_token *t, const char *uri,
    struct hk_p11_key_attrs *out)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE obj;
	CK_BBOOL v[6] = { 0 };
	CK_ATTRIBUTE a[] = {
		{ CKA_SENSITIVE, &v[0], sizeof(CK_BBOOL) },
		{ CKA_EXTRACTABLE, &v[1], sizeof(CK_BBOOL) },
		{ CKA_ALWAYS_SENSITIVE, &v[2], sizeof(CK_BBOOL) },
		{ CKA_NEVER_EXTRACTABLE, &v[3], sizeof(CK_BBOOL) },
		{ CKA_LOCAL, &v[4], sizeof(CK_BBOOL) },
		{ CKA_WRAP_WITH_TRUSTED, &v[5], sizeof(CK_BBOOL) },
	};
	unsigned char id[64];
	size_t id_len;
	char label[256];
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = uri_object(t, uri, id, &id_len, label, sizeof(label))) != 0)
		return r;
	if (id_len == 0) {
		hk_err_set("%s: attribute look-up needs id=", uri);
		return HK_ERR_INVALID;
	}
	if ((r = raw_session(t, &s)) != 0)
		return r;
	if ((r = find_by_id(t, s, CKO_PRIVATE_KEY, id, id_len, &obj)) != 0) {
		if (r == HK_ERR_NOT_FOUND)
			hk_err_set("%s: no such private key", uri);
		goto out;
	}
	if (t->fl->C_GetAttributeValue(s, obj, a, 6) != CKR_OK) {
		hk_err_set("%s: cannot read key attributes", uri);
		r = HK_ERR_P11;
		goto out;
	}
	out->sensitive = v[0] == CK_TRUE;
	out->extractable = v[1] == CK_TRUE;
	out->always_sensitive = v[2] == CK_TRUE;
	out->never_extractable = v[3] == CK_TRUE;
	out->local = v[4] == CK_TRUE;
	out->wrap_with_trusted = v[5] == CK_TRUE;
 out:
	t->fl->C_CloseSession(s);
	return r;
}

/* A 256-bit AES key object from bytes: a session object, never on the
 * token, sensitive and not extractable; trusted when the SO makes it. */
static int
kek_create(struct hk_token *t, CK_SESSION_HANDLE s, const unsigned char *kek,
    size_t kek_len, int trusted, CK_OBJECT_HANDLE *obj)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE a[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &no, sizeof(no) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_WRAP, &yes, sizeof(yes) },
		{ CKA_UNWRAP, &yes, sizeof(yes) },
		{ CKA_VALUE, (void *)kek, kek_len },
		{ CKA_TRUSTED, &yes, sizeof(yes) },
	};
	CK_RV rv;

	if (kek_len != 32) {
		hk_err_set("token '%s': the wrap key must be 32 bytes", t->label);
		return HK_ERR_INVALID;
	}
	rv = t->fl->C_CreateObject(s, a, trusted ? 10 : 9, obj);
	if (rv != CKR_OK) {
		hk_err_set("token '%s': cannot make the %swrap key (CKR 0x%lx)",
		    t->label, trusted ? "trusted " : "", (unsigned long)rv);
		return HK_ERR_P11;
	}
	return 0;
}

int
hk_token_key_wrap(struct hk_token *t, const char *so_pin,
    const char *user_pin, const unsigned char *kek, size_t kek_len,
    const unsigned char *id, size_t id_len, unsigned char **wrapped,
    size_t *wrapped_len)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE kh = CK_INVALID_HANDLE, key;
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_ULONG len = 0;
	unsigned char *buf = NULL;
	int so = 0, r;
	CK_RV rv;

	*wrapped = NULL;
	*wrapped_len = 0;
	if (!t->logged_in) {
		hk_err_set("token '%s': wrapping needs a login", t->label);
		return HK_ERR_STATE;
	}
	if ((r = raw_session(t, &s)) != 0)
		return r;
	/* CKA_TRUSTED can be set by the SO only, and the SO cannot log in
	 * while the user is. */
	if ((r = hk_token_logout(t)) != 0)
		goto out;
	if ((rv = t->fl->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)so_pin,
	    strlen(so_pin))) != CKR_OK) {
		hk_err_set("token '%s': SO login refused (CKR 0x%lx)", t->label,
		    (unsigned long)rv);
		r = HK_ERR_P11;
		goto relogin;
	}
	so = 1;
	if ((r = kek_create(t, s, kek, kek_len, 1, &kh)) != 0)
		goto relogin;
	t->fl->C_Logout(s);
	so = 0;
 relogin:
	if (so)
		t->fl->C_Logout(s);
	if (hk_token_login(t, user_pin) != 0) {
		hk_err_set("token '%s': user login after the SO step refused",
		    t->label);
		r = HK_ERR_P11;
		goto out;
	}
	if (r != 0)
		goto out;
	/* Handles of private objects died with the logout: look again. */
	if ((r = find_by_id(t, s, CKO_PRIVATE_KEY, id, id_len, &key)) != 0) {
		if (r == HK_ERR_NOT_FOUND)
			hk_err_set("token '%s': no private key with this id to "
			    "wrap", t->label);
		goto out;
	}
	if ((rv = t->fl->C_WrapKey(s, &mech, kh, key, NULL, &len)) != CKR_OK ||
	    len == 0 || len > 65536) {
		hk_err_set("token '%s': C_WrapKey refused (CKR 0x%lx)",
		    t->label, (unsigned long)rv);
		r = HK_ERR_P11;
		goto out;
	}
	if ((buf = hk_secret_alloc(len)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if ((rv = t->fl->C_WrapKey(s, &mech, kh, key, buf, &len)) != CKR_OK) {
		hk_err_set("token '%s': C_WrapKey failed (CKR 0x%lx)",
		    t->label, (unsigned long)rv);
		r = HK_ERR_P11;
		goto out;
	}
	*wrapped = buf;
	*wrapped_len = len;
	buf = NULL;
	r = 0;
 out:
	hk_secret_free(buf);
	if (kh != CK_INVALID_HANDLE)
		t->fl->C_DestroyObject(s, kh);
	t->fl->C_CloseSession(s);
	return r;
}

/* The public key object of pub, with label and id. */
static int
pub_create(struct hk_token *t, CK_SESSION_HANDLE s, EVP_PKEY *pub,
    const char *label, const unsigned char *id, size_t id_len,
    CK_KEY_TYPE *kt, CK_OBJECT_HANDLE *obj)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE a[8];
	CK_ULONG n = 0;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	unsigned char *mod = NULL, *exp = NULL, *params = NULL, *point = NULL;
	unsigned char raw[200];
	size_t rawlen = 0;
	char group[64];
	int r = HK_ERR_CRYPTO, plen = 0, ptlen = 0, ml = 0, el = 0;
	CK_RV rv;

	a[n++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	a[n++] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, kt, sizeof(*kt) };
	a[n++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
	a[n++] = (CK_ATTRIBUTE){ CKA_VERIFY, &yes, sizeof(yes) };
	a[n++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
	a[n++] = (CK_ATTRIBUTE){ CKA_ID, (void *)id, id_len };
	if (EVP_PKEY_base_id(pub) == EVP_PKEY_RSA) {
		*kt = CKK_RSA;
		if (!EVP_PKEY_get_bn_param(pub, "n", &bn_n) ||
		    !EVP_PKEY_get_bn_param(pub, "e", &bn_e) ||
		    (ml = BN_num_bytes(bn_n)) <= 0 ||
		    (el = BN_num_bytes(bn_e)) <= 0 ||
		    (mod = malloc((size_t)ml)) == NULL ||
		    (exp = malloc((size_t)el)) == NULL)
			goto out;
		BN_bn2bin(bn_n, mod);
		BN_bn2bin(bn_e, exp);
		a[n++] = (CK_ATTRIBUTE){ CKA_MODULUS, mod, (CK_ULONG)ml };
		a[n++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, exp,
		    (CK_ULONG)el };
	} else if (EVP_PKEY_base_id(pub) == EVP_PKEY_EC) {
		ASN1_OCTET_STRING *os = NULL;
		ASN1_OBJECT *o;
		*kt = CKK_EC;
		if (!EVP_PKEY_get_utf8_string_param(pub, "group", group,
		    sizeof(group), NULL) ||
		    (o = OBJ_nid2obj(OBJ_sn2nid(group))) == NULL ||
		    (plen = i2d_ASN1_OBJECT(o, &params)) <= 0 ||
		    !EVP_PKEY_get_octet_string_param(pub, "pub", raw,
		    sizeof(raw), &rawlen) ||
		    (os = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(os, raw, (int)rawlen) ||
		    (ptlen = i2d_ASN1_OCTET_STRING(os, &point)) <= 0) {
			ASN1_OCTET_STRING_free(os);
			goto out;
		}
		ASN1_OCTET_STRING_free(os);
		a[n++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, params, (CK_ULONG)plen };
		a[n++] = (CK_ATTRIBUTE){ CKA_EC_POINT, point, (CK_ULONG)ptlen };
	} else {
		hk_err_set("token '%s': only RSA and EC keys are restored",
		    t->label);
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((rv = t->fl->C_CreateObject(s, a, n, obj)) != CKR_OK) {
		hk_err_set("token '%s': cannot make the public key object "
		    "(CKR 0x%lx)", t->label, (unsigned long)rv);
		r = HK_ERR_P11;
		goto out;
	}
	r = 0;
 out:
	if (r == HK_ERR_CRYPTO)
		hk_err_set("token '%s': cannot read the public key to restore",
		    t->label);
	BN_free(bn_n);
	BN_free(bn_e);
	free(mod);
	free(exp);
	OPENSSL_free(params);
	OPENSSL_free(point);
	return r;
}

int
hk_token_key_unwrap(struct hk_token *t, const unsigned char *kek,
    size_t kek_len, const unsigned char *wrapped, size_t wrapped_len,
    EVP_PKEY *pub, const char *label, const unsigned char *id,
    size_t id_len)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE kh = CK_INVALID_HANDLE, pubh = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE privh = CK_INVALID_HANDLE, found;
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = CKK_RSA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE a[11];
	CK_ULONG n = 0;
	CK_RV rv;
	int r;

	if (!t->logged_in) {
		hk_err_set("token '%s': unwrapping needs a login", t->label);
		return HK_ERR_STATE;
	}
	if ((r = raw_session(t, &s)) != 0)
		return r;
	if ((r = find_by_id(t, s, CKO_PRIVATE_KEY, id, id_len, &found)) !=
	    HK_ERR_NOT_FOUND || (r = find_by_id(t, s, CKO_PUBLIC_KEY, id,
	    id_len, &found)) != HK_ERR_NOT_FOUND) {
		if (r == 0) {
			hk_err_set("token '%s': a key with the id of '%s' "
			    "exists; refusing to restore over it", t->label,
			    label);
			r = HK_ERR_EXISTS;
		}
		goto out;
	}
	if ((r = pub_create(t, s, pub, label, id, id_len, &kt, &pubh)) != 0 ||
	    (r = kek_create(t, s, kek, kek_len, 0, &kh)) != 0)
		goto out;
	a[n++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	a[n++] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, &kt, sizeof(kt) };
	a[n++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
	a[n++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &yes, sizeof(yes) };
	a[n++] = (CK_ATTRIBUTE){ CKA_SENSITIVE, &yes, sizeof(yes) };
	a[n++] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, &yes, sizeof(yes) };
	a[n++] = (CK_ATTRIBUTE){ CKA_WRAP_WITH_TRUSTED, &yes, sizeof(yes) };
	a[n++] = (CK_ATTRIBUTE){ CKA_SIGN, &yes, sizeof(yes) };
	a[n++] = (CK_ATTRIBUTE){ CKA_DECRYPT, &no, sizeof(no) };
	a[n++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
	a[n++] = (CK_ATTRIBUTE){ CKA_ID, (void *)id, id_len };
	rv = t->fl->C_UnwrapKey(s, &mech, kh, (CK_BYTE_PTR)wrapped,
	    wrapped_len, a, n, &privh);
	if (rv != CKR_OK) {
		hk_err_set("token '%s': C_UnwrapKey of '%s' refused "
		    "(CKR 0x%lx): wrong wrap key or damaged backup", t->label,
		    label, (unsigned long)rv);
		r = HK_ERR_P11;
		goto out;
	}
	r = 0;
 out:
	if (kh != CK_INVALID_HANDLE)
		t->fl->C_DestroyObject(s, kh);
	if (r != 0 && pubh != CK_INVALID_HANDLE)
		t->fl->C_DestroyObject(s, pubh);
	if (r != 0 && privh != CK_INVALID_HANDLE)
		t->fl->C_DestroyObject(s, privh);
	t->fl->C_CloseSession(s);
	return r;
}

/* The data objects of app with label (up to max handles), in session s. */
static int
data_find(struct hk_token *t, CK_SESSION_HANDLE s, const char *app,
    const char *label, CK_OBJECT_HANDLE *obj, CK_ULONG max, CK_ULONG *n)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_APPLICATION, (void *)app, strlen(app) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_RV rv;

	*n = 0;
	if ((rv = t->fl->C_FindObjectsInit(s, tmpl, 4)) != CKR_OK)
		goto fail;
	rv = t->fl->C_FindObjects(s, obj, max, n);
	t->fl->C_FindObjectsFinal(s);
	if (rv == CKR_OK)
		return 0;
 fail:
	hk_err_set("token '%s': C_FindObjects of data object '%s' failed "
	    "(CKR 0x%lx)", t->label, label, (unsigned long)rv);
	return HK_ERR_P11;
}

static int
data_args(struct hk_token *t, const char *app, const char *label)
{
	if (!t->logged_in) {
		hk_err_set("token '%s': data object '%s' needs a login",
		    t->label, label);
		return HK_ERR_STATE;
	}
	if (app[0] == '\0' || label[0] == '\0') {
		hk_err_set("token '%s': a data object needs an application and "
		    "a label", t->label);
		return HK_ERR_INVALID;
	}
	return 0;
}

int
hk_token_data_put(struct hk_token *t, const char *app, const char *label,
    const void *value, size_t len, int *made)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE obj;
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE a[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_MODIFIABLE, &no, sizeof(no) },
		{ CKA_APPLICATION, (void *)app, strlen(app) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_VALUE, (void *)value, len },
	};
	CK_ULONG n = 0;
	CK_RV rv;
	int r;

	*made = 0;
	if ((r = data_args(t, app, label)) != 0)
		return r;
	if (len == 0 || len > HK_P11_DATA_MAX) {
		hk_err_set("token '%s': data object '%s': its value must be 1 "
		    "to %d bytes", t->label, label, HK_P11_DATA_MAX);
		return HK_ERR_INVALID;
	}
	if ((r = raw_session(t, &s)) != 0)
		return r;
	if ((r = data_find(t, s, app, label, &obj, 1, &n)) != 0 || n > 0)
		goto out;
	if ((rv = t->fl->C_CreateObject(s, a, 7, &obj)) != CKR_OK) {
		hk_err_set("token '%s': cannot make data object '%s' (CKR "
		    "0x%lx)", t->label, label, (unsigned long)rv);
		r = HK_ERR_P11;
		goto out;
	}
	*made = 1;
 out:
	t->fl->C_CloseSession(s);
	return r;
}

int
hk_token_data_get(struct hk_token *t, const char *app, const char *label,
    char *buf, size_t buflen, int *count)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE obj[16];
	CK_ATTRIBUTE a = { CKA_VALUE, NULL, 0 };
	CK_ULONG n = 0;
	CK_RV rv;
	int r;

	*count = 0;
	if (buflen > 0)
		buf[0] = '\0';
	if ((r = data_args(t, app, label)) != 0)
		return r;
	if ((r = raw_session(t, &s)) != 0)
		return r;
	if ((r = data_find(t, s, app, label, obj, 16, &n)) != 0)
		goto out;
	*count = (int)n;
	if (n == 0) {
		r = HK_ERR_NOT_FOUND;
		goto out;
	}
	if ((rv = t->fl->C_GetAttributeValue(s, obj[0], &a, 1)) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    a.ulValueLen >= buflen) {
		hk_err_set("token '%s': data object '%s': its value cannot be "
		    "read or is over %zu bytes (CKR 0x%lx)", t->label, label,
		    buflen > 0 ? buflen - 1 : 0, (unsigned long)rv);
		r = rv != CKR_OK ? HK_ERR_P11 : HK_ERR_INVALID;
		goto out;
	}
	a.pValue = buf;
	if ((rv = t->fl->C_GetAttributeValue(s, obj[0], &a, 1)) != CKR_OK) {
		hk_err_set("token '%s': data object '%s': its value cannot be "
		    "read (CKR 0x%lx)", t->label, label, (unsigned long)rv);
		r = HK_ERR_P11;
		goto out;
	}
	buf[a.ulValueLen] = '\0';
 out:
	t->fl->C_CloseSession(s);
	return r;
}

int
hk_token_random(struct hk_token *t, unsigned char *buf, size_t len)
{
	unsigned char *tok;
	size_t i;

	randombytes_buf(buf, len);
	if (t == NULL)
		return 0;
	if ((tok = malloc(len)) == NULL)
		return HK_ERR_ALLOC;
	if (PKCS11_generate_random(t->slot, tok, (unsigned int)len) == 0)
		for (i = 0; i < len; i++)
			buf[i] ^= tok[i];
	sodium_memzero(tok, len);
	free(tok);
	return 0;
}

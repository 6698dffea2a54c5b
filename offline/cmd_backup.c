/*
 * cmd_backup.c - "hanko-offline backup": a CA key, wrapped under a key that
 * only the quorum can derive, written to a key manager's medium
 * (CPS 6-2-1-4; docs/key-lifecycle.md). Also the helpers the other key
 * life-cycle commands (restore, destroy) share: which keys the state
 * knows, their per-key KEK seeds, and the public key each must have.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "backup.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "offline.h"
#include "p11.h"
#include "quorum.h"
#include "secmem.h"

static const char backup_usage[] =
"usage: hanko-offline backup --state DIR --key LABEL --out FILE\n"
"           --share FILE [--passin SPEC] [--share FILE [--passin SPEC]]...\n"
"           [--clock YYYY-MM-DDTHH:MM:SSZ]\n";

void
hk_life_checkpoint_keep_err(struct hk_ca *ca)
{
	struct hk_err_kept saved;

	if (ca->tok == NULL)
		return;
	hk_err_keep(&saved);
	(void)hk_ca_checkpoint(ca);
	hk_err_restore(&saved);
}

int
hk_life_key(struct hk_ca *ca, const char *label, char *uri_key, size_t len)
{
	const char *gen = hk_state_get(ca->st, "root.generations");
	char dkey[64];
	long n, g;
	char *end;

	if (strcmp(label, "audit-1") == 0) {
		snprintf(uri_key, len, "audit.key-uri");
		return 0;
	}
	if (strncmp(label, "root-", 5) != 0 || label[5] < '1' ||
	    label[5] > '9' || (n = strtol(label + 5, &end, 10)) <= 0 ||
	    *end != '\0' || n > 999) {
		hk_err_set("--key %s: key: expected root-N or audit-1", label);
		return HK_ERR_USAGE;
	}
	g = gen != NULL ? strtol(gen, NULL, 10) : 0;
	if (n > g) {
		hk_err_set("--key %s: key: this CA has root generations 1..%ld "
		    "only", label, g);
		return HK_ERR_NOT_FOUND;
	}
	snprintf(dkey, sizeof(dkey), "root.%ld.destroyed", n);
	if (hk_state_get(ca->st, dkey) != NULL) {
		hk_err_set("--key %s: key: destroyed at %s (CPS 6-2-1-9)",
		    label, hk_state_get(ca->st, dkey));
		return HK_ERR_STATE;
	}
	snprintf(uri_key, len, "root.%ld.key-uri", n);
	if (hk_state_get(ca->st, uri_key) == NULL) {
		hk_err_set("%s/state.conf: %s missing", ca->st->dir, uri_key);
		return HK_ERR_STATE;
	}
	return 0;
}

int
hk_life_seed(struct hk_ca *ca, const char *label, int create, uint8_t **seed)
{
	char name[96], rel[160], path[4096], kid[33], skey[96];
	uint8_t *blob = NULL, *fresh = NULL;
	size_t bloblen;
	int r;

	*seed = NULL;
	snprintf(name, sizeof(name), "backup-seed-%s", label);
	if (ca->qkey == NULL) {
		hk_err_set("%s: needs the quorum (hk_ca_activate)", name);
		return HK_ERR_STATE;
	}
	/* the seed's file under the key in force (sealed.c) */
	if ((r = hk_sealed_path(ca, ca->qkey, name, rel, sizeof(rel), path,
	    sizeof(path))) != 0)
		return r;
	if (hk_path_exists(path)) {
		if ((r = hk_ca_unseal(ca, name, seed)) != 0)
			return r;
		return 0;
	}
	if (!create) {
		hk_err_set("%s: no backup KEK seed for %s: it was never backed "
		    "up, or the key was destroyed and the seed retired with it "
		    "(no quorum can open its backups)", rel, label);
		return HK_ERR_NOT_FOUND;
	}
	if ((r = hk_sealed_new_path(ca, name, rel, sizeof(rel), path,
	    sizeof(path))) != 0)
		return r;
	if ((fresh = hk_secret_alloc(HK_BACKUP_SEED_LEN)) == NULL)
		return HK_ERR_ALLOC;
	if ((r = hk_token_random(ca->tok, fresh, HK_BACKUP_SEED_LEN)) != 0 ||
	    (r = hk_quorum_seal_secret(ca->qkey, name, fresh,
	    HK_BACKUP_SEED_LEN, &blob, &bloblen)) != 0 ||
	    (r = hk_file_write(path, blob, bloblen, 0600,
	    HK_WRITE_NOREPLACE)) != 0)
		goto out;
	hk_backup_kek_id(fresh, kid);
	/* A seed the log does not hold is not kept. */
	if ((r = hk_ca_audit(ca, "backup.seed", "ok", ca->actors, "%s: new KEK "
	    "seed %s sealed under the quorum key in %s", label, kid,
	    rel)) != 0) {
		(void)unlink(path);
		goto out;
	}
	snprintf(skey, sizeof(skey), "backup.%s.kek-id", label);
	if ((r = hk_state_set(ca->st, skey, kid)) != 0 ||
	    (r = hk_state_save(ca->st)) != 0)
		goto out;
	*seed = fresh;
	fresh = NULL;
 out:
	free(blob);
	hk_secret_free(fresh);
	return r;
}

int
hk_life_refpub(struct hk_ca *ca, const char *label, EVP_PKEY **pub)
{
	char rel[128], path[4096];
	unsigned char *buf = NULL;
	const unsigned char *q;
	size_t len;
	X509 *cert = NULL;
	BIO *bio = NULL;
	int r;

	*pub = NULL;
	if (strcmp(label, "audit-1") == 0) {
		snprintf(rel, sizeof(rel), "audit/audit-key.pem");
		if ((r = hk_state_path(ca->st, rel, path, sizeof(path))) != 0 ||
		    (r = hk_file_read(path, 65536, &buf, &len)) != 0)
			return r;
		if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
		    (*pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) ==
		    NULL) {
			hk_err_set("%s: not a PEM public key", path);
			r = HK_ERR_PARSE;
		}
		goto out;
	}
	snprintf(rel, sizeof(rel), "certs/%s.der", label);
	if ((r = hk_state_path(ca->st, rel, path, sizeof(path))) != 0 ||
	    (r = hk_file_read(path, 65536, &buf, &len)) != 0)
		return r;
	q = buf;
	if ((cert = d2i_X509(NULL, &q, (long)len)) == NULL ||
	    q != buf + len || (*pub = X509_get_pubkey(cert)) == NULL) {
		hk_err_set("%s: not a DER certificate", path);
		r = HK_ERR_PARSE;
	}
 out:
	BIO_free(bio);
	X509_free(cert);
	free(buf);
	return r;
}

int
hk_life_spki(EVP_PKEY *pub, unsigned char **der, size_t *len,
    unsigned char sha[32])
{
	int n;

	*der = NULL;
	if ((n = i2d_PUBKEY(pub, der)) <= 0) {
		hk_err_set("cannot encode a public key");
		return HK_ERR_CRYPTO;
	}
	*len = (size_t)n;
	SHA256(*der, *len, sha);
	return 0;
}

/* "rsa-2048", "ec-256". */
static void
key_type(EVP_PKEY *pub, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%d", EVP_PKEY_base_id(pub) == EVP_PKEY_RSA ?
	    "rsa" : "ec", EVP_PKEY_get_bits(pub));
}

/* Read back what was written and open it as restore would. */
static int
check_written(struct hk_ca *ca, const char *path, const uint8_t *seed,
    const uint8_t *wrapped, size_t wlen)
{
	struct hk_backup_info info;
	unsigned char *buf = NULL;
	uint8_t *w = NULL;
	size_t len, n;
	int r;

	if ((r = hk_file_read(path, HK_BACKUP_MAX, &buf, &len)) != 0)
		return r;
	if ((r = hk_backup_open(path, buf, len, ca->qkey, seed, &info, &w,
	    &n)) == 0 && (n != wlen || hk_ct_memcmp(w, wrapped, n) != 0)) {
		hk_err_set("%s: reads back differently", path);
		r = HK_ERR_IO;
	}
	hk_secret_free(w);
	free(buf);
	return r;
}

/*
 * The backup file this run put in place at path leaves the medium again
 * after a failure (a read-back, a folder fsync, the log's record), so that
 * the next try is not stopped by "already exists": removed and its folder
 * fsynced, but only while path is still the file written (written: its
 * lstat taken right after the rename; anything else there is left alone).
 * The failure's detail stays, with what became of the file after it.
 */
static void
remove_written(const char *path, const struct stat *written)
{
	struct hk_err_kept why;
	struct stat st;

	hk_err_keep(&why);
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			hk_err_restore(&why);
		else
			hk_err_set("%s; and %s, written by this run, could not "
			    "be removed: %s", why.msg, path, strerror(errno));
		return;
	}
	if (st.st_dev != written->st_dev || st.st_ino != written->st_ino) {
		hk_err_set("%s; %s left as it is: it is no longer the file this "
		    "run wrote", why.msg, path);
		return;
	}
	if (unlink(path) != 0) {
		hk_err_set("%s; and %s, written by this run, could not be "
		    "removed: %s", why.msg, path, strerror(errno));
		return;
	}
	if (hk_dir_sync(path) != 0) {
		hk_err_set("%s; %s removed again, but its folder could not be "
		    "fsynced: %s", why.msg, path, strerror(errno));
		return;
	}
	hk_err_set("%s; %s removed again", why.msg, path);
}

int
hk_backup(struct hk_ca *ca, const struct backup_opts *o)
{
	struct hk_backup_info info;
	EVP_PKEY *pub = NULL, *ref = NULL;
	unsigned char *spki = NULL, *so = NULL, *pin = NULL;
	uint8_t *seed = NULL, *kek = NULL, *wrapped = NULL;
	char ukey[64], *text = NULL, setid[33] = "";
	const char *uri, *s;
	size_t spki_len, wlen = 0, tlen = 0;
	struct stat wst;
	int r, in_place = 0;

	memset(&info, 0, sizeof(info));
	if (ca->tok == NULL || ca->qkey == NULL) {
		hk_err_set("backup: the token is not activated by a quorum");
		return HK_ERR_STATE;
	}
	if (o->key == NULL || o->out == NULL) {
		hk_err_set("backup: --key and --out are required");
		r = HK_ERR_USAGE;
		goto fail;
	}
	if ((r = hk_life_key(ca, o->key, ukey, sizeof(ukey))) != 0)
		goto fail;
	uri = hk_state_get(ca->st, ukey);
	if (hk_path_exists(o->out)) {
		hk_err_set("--out %s: already exists; a backup is never "
		    "overwritten", o->out);
		r = HK_ERR_EXISTS;
		goto fail;
	}
	/* The key in the token must be the one the CA's records name. */
	if ((r = hk_token_key(ca->tok, uri, NULL, &pub)) != 0 ||
	    (r = hk_life_refpub(ca, o->key, &ref)) != 0)
		goto fail;
	if (EVP_PKEY_eq(pub, ref) != 1) {
		hk_err_set("%s: the key in the token is not the public key of "
		    "the CA's records for %s", uri, o->key);
		r = HK_ERR_VERIFY;
		goto fail;
	}
	if ((r = hk_life_spki(pub, &spki, &spki_len, info.pub_sha256)) != 0)
		goto fail;
	if (spki_len > sizeof(info.spki)) {
		r = HK_ERR_INVALID;
		goto fail;
	}
	memcpy(info.spki, spki, spki_len);
	info.spki_len = spki_len;
	key_type(pub, info.key_type, sizeof(info.key_type));
	if ((r = hk_life_seed(ca, o->key, 1, &seed)) != 0 ||
	    (r = hk_backup_kek(ca->qkey, o->key, seed, &kek)) != 0 ||
	    (r = hk_ca_unseal(ca, "token-so-pin", &so)) != 0 ||
	    (r = hk_ca_unseal(ca, "token-user-pin", &pin)) != 0)
		goto fail;
	r = hk_token_key_wrap(ca->tok, (const char *)so, (const char *)pin,
	    kek, HK_BACKUP_KEK_LEN, (const unsigned char *)o->key,
	    strlen(o->key), &wrapped, &wlen);
	if (r != 0)
		goto fail;
	s = hk_state_get(ca->st, "created");
	snprintf(info.ca_created, sizeof(info.ca_created), "%s", s ? s : "-");
	snprintf(info.ca_token, sizeof(info.ca_token), "%s",
	    hk_state_get(ca->st, "token.label"));
	snprintf(info.key_label, sizeof(info.key_label), "%s", o->key);
	memcpy(info.key_id, o->key, strlen(o->key));
	info.key_id_len = strlen(o->key);
	s = hk_state_get(ca->st, "quorum.set-id");
	snprintf(setid, sizeof(setid), "%s", s ? s : "");
	snprintf(info.quorum_set, sizeof(info.quorum_set), "%s", setid);
	hk_backup_kek_id(seed, info.kek_id);
	hk_time_format(hk_clock_now(), info.created, sizeof(info.created));
	if ((r = hk_backup_encode(&info, wrapped, wlen, ca->qkey, seed, &text,
	    &tlen)) != 0)
		goto fail;
	/* wst: the file put in place, for remove_written */
	r = hk_file_write_placed(o->out, text, tlen, 0600, HK_WRITE_NOREPLACE,
	    &in_place);
	in_place = in_place && lstat(o->out, &wst) == 0;
	if (r != 0) {
		hk_err_set("--out %s: the backup cannot be written: %s", o->out,
		    hk_err_msg());
		goto fail;
	}
	if ((r = check_written(ca, o->out, seed, wrapped, wlen)) != 0) {
		hk_err_set("--out %s: the backup written does not read back: "
		    "%s", o->out, hk_err_msg());
		goto fail;
	}
	{
		char hex[65];
		hk_hex_encode(info.pub_sha256, 32, hex);
		/* A backup the log does not hold is not left behind. */
		if ((r = hk_ca_audit(ca, "key.backup", "ok", ca->actors, "%s "
		    "wrapped under KEK %s to %s; public key SHA-256 %s",
		    o->key, info.kek_id, o->out, hex)) != 0)
			goto fail;
		printf("Backup of %s written to %s\n  public key SHA-256 %s\n"
		    "  KEK %s (quorum set %s)\n", o->key, o->out, hex,
		    info.kek_id, setid);
	}
	r = hk_ca_checkpoint(ca);
	goto out;
 fail:
	/* A backup the run does not end with is not left behind. */
	if (in_place)
		remove_written(o->out, &wst);
	hk_ca_audit_warn(ca, "key.backup", "fail", ca->actors, "%s: %s",
	    o->key ? o->key : "-", hk_err_msg());
	hk_life_checkpoint_keep_err(ca);
 out:
	EVP_PKEY_free(pub);
	EVP_PKEY_free(ref);
	OPENSSL_free(spki);
	hk_secret_free(so);
	hk_secret_free(pin);
	hk_secret_free(seed);
	hk_secret_free(kek);
	hk_secret_free(wrapped);
	free(text);
	return r;
}

int
cmd_backup(int argc, char **argv)
{
	struct hk_ca_args a = { 0 };
	struct backup_opts o = { 0 };
	const struct hk_ca_opt opts[] = {
		{ "--key", &o.key, NULL, 0 },
		{ "--out", &o.out, NULL, 0 },
		{ NULL, NULL, NULL, 0 }
	};
	struct hk_ca *ca = NULL;
	int r;

	if ((r = hk_ca_parse(&a, opts, backup_usage, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if (o.key == NULL || o.out == NULL) {
		hk_err_set("backup: --key and --out are required (see --help)");
		return HK_ERR_USAGE;
	}
	if (hk_path_exists(o.out)) {
		hk_err_set("--out %s: already exists; a backup is never "
		    "overwritten", o.out);
		return HK_ERR_EXISTS;
	}
	if ((r = hk_ca_open(&a.c, "backup", &ca)) != 0)
		return r;
	if ((r = hk_ca_audit(ca, "key.backup.start", "ok", "-", "%s to %s",
	    o.key, o.out)) != 0)
		goto out;
	if ((r = hk_ca_activate(ca, a.shares, a.nshares)) != 0) {
		hk_ca_audit_warn(ca, "key.backup", "fail", ca->actors,
		    "%s: %s", o.key, hk_err_msg());
		goto out;
	}
	r = hk_backup(ca, &o);
 out:
	hk_ca_close(ca);
	return r;
}

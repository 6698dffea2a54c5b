/*
 * sealed.c - the sealed secrets of secrets/ and the quorum key they are
 * sealed under (DESIGN.md 4, CPS 5-2-2, 6-2-1-2, 6-4-1;
 * docs/key-lifecycle.md "Changing the quorum key").
 *
 * A secret NAME (token-so-pin, token-user-pin, backup-seed-LABEL) is in
 *   secrets/NAME.sealed             sealed under the quorum key made at init
 *   secrets/NAME.key-KID.sealed     sealed under the quorum key whose key id
 *                                   is KID (16 hex digits, hk_sealed_key_id)
 * The key id is a keyed BLAKE2b of the quorum key itself, so the set in
 * force (quorum.set) chooses the files: its shares combine one key, whose
 * id names the files read. A re-key (rotate-shares --new-quorum-key)
 * writes every secret again under the new key's id before the one rename
 * of quorum.set.new over quorum.set; before that rename the old key and
 * its files are what activation reads, after it the new ones. The files of
 * a key no longer in force are removed after the commit, and a leftover
 * (a crash between the commit and the removal) by the next activation;
 * each is overwritten in place first (hk_sealed_shred), as destroy does a
 * retired seed: the old key is what m old shares combine.
 *
 * secrets/quorum-key-history.key-KID.sealed holds the keys in force before
 * KID's (32 bytes each, newest first), sealed under KID's key, so that a
 * backup made before a re-key (its KEK and MAC derived from the old key)
 * still restores with the new shares, and only with them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <sodium.h>

#include "atomic.h"
#include "err.h"
#include "hex.h"
#include "offline.h"
#include "quorum.h"
#include "secmem.h"

#define KID_TAG		".key-"
#define SEALED_SUFFIX	".sealed"

void
hk_sealed_key_id(const uint8_t *key, char out[HK_SEALED_KID_LEN + 1])
{
	static const char what[] = "hanko quorum key id";
	uint8_t d[HK_SEALED_KID_LEN / 2];

	crypto_generichash(d, sizeof(d), (const unsigned char *)what,
	    sizeof(what) - 1, key, HK_QUORUM_KEY_LEN);
	hk_hex_encode(d, sizeof(d), out);
}

/* rel = "secrets/NAME[.key-KID].sealed"; path under the state folder. */
static int
form(struct hk_ca *ca, const char *name, const char *kid, char *rel,
    size_t rellen, char *path, size_t len)
{
	int n = snprintf(rel, rellen, "secrets/%s%s%s%s", name,
	    kid ? KID_TAG : "", kid ? kid : "", SEALED_SUFFIX);

	if (n < 0 || (size_t)n >= rellen) {
		hk_err_set("secrets/%s: name too long", name);
		return HK_ERR_INVALID;
	}
	return hk_state_path(ca->st, rel, path, len);
}

int
hk_sealed_path(struct hk_ca *ca, const uint8_t *key, const char *name,
    char *rel, size_t rellen, char *path, size_t len)
{
	char kid[HK_SEALED_KID_LEN + 1];
	int r;

	hk_sealed_key_id(key, kid);
	if ((r = form(ca, name, kid, rel, rellen, path, len)) != 0)
		return r;
	if ((r = hk_path_lookup(path)) < 0)
		return r;
	if (r > 0)
		return 0;
	return form(ca, name, NULL, rel, rellen, path, len);
}

int
hk_sealed_new_path(struct hk_ca *ca, const char *name, char *rel,
    size_t rellen, char *path, size_t len)
{
	char kid[HK_SEALED_KID_LEN + 1], prel[128], ppath[4096];
	int r;

	/* The form the user PIN is in: a key made by a re-key names its
	 * files, the key made at init does not. */
	if ((r = hk_sealed_path(ca, ca->qkey, "token-user-pin", prel,
	    sizeof(prel), ppath, sizeof(ppath))) != 0)
		return r;
	hk_sealed_key_id(ca->qkey, kid);
	return form(ca, name, strstr(prel, KID_TAG) ? kid : NULL, rel, rellen,
	    path, len);
}

int
hk_sealed_history(struct hk_ca *ca, const uint8_t *key, uint8_t **keys,
    size_t *n)
{
	char rel[128], path[4096], kid[HK_SEALED_KID_LEN + 1];
	unsigned char *blob = NULL;
	size_t bloblen, len;
	int r;

	*keys = NULL;
	*n = 0;
	hk_sealed_key_id(key, kid);
	if ((r = form(ca, HK_SEALED_HISTORY, kid, rel, sizeof(rel), path,
	    sizeof(path))) != 0)
		return r;
	if ((r = hk_path_lookup(path)) <= 0)
		return r;
	if ((r = hk_file_read(path, 65536, &blob, &bloblen)) != 0)
		return r;
	r = hk_quorum_open_secret(key, HK_SEALED_HISTORY, blob, bloblen,
	    keys, &len);
	free(blob);
	if (r != 0) {
		hk_err_set("%s: cannot be opened with the quorum key (%s)",
		    path, hk_strerror(r));
		return r;
	}
	if (len == 0 || len % HK_QUORUM_KEY_LEN != 0) {
		hk_err_set("%s: %zu bytes, not a list of quorum keys", path,
		    len);
		hk_secret_free(*keys);
		*keys = NULL;
		return HK_ERR_PARSE;
	}
	*n = len / HK_QUORUM_KEY_LEN;
	return 0;
}

/*
 * Split a directory entry "NAME[.key-KID].sealed": name (NUL-ended) and
 * kid ("" for the init form). 0 if it is not a sealed file's name.
 */
static int
split(const char *ent, char *name, size_t namelen, char *kid)
{
	size_t l = strlen(ent), sl = strlen(SEALED_SUFFIX), tl = strlen(KID_TAG);
	size_t i;

	if (l <= sl || strcmp(ent + l - sl, SEALED_SUFFIX) != 0 || ent[0] == '.')
		return 0;
	l -= sl;
	kid[0] = '\0';
	if (l > tl + HK_SEALED_KID_LEN && strncmp(ent + l - HK_SEALED_KID_LEN -
	    tl, KID_TAG, tl) == 0) {
		for (i = l - HK_SEALED_KID_LEN; i < l; i++)
			if (!((ent[i] >= '0' && ent[i] <= '9') ||
			    (ent[i] >= 'a' && ent[i] <= 'f')))
				break;
		if (i == l) {
			memcpy(kid, ent + l - HK_SEALED_KID_LEN,
			    HK_SEALED_KID_LEN);
			kid[HK_SEALED_KID_LEN] = '\0';
			l -= HK_SEALED_KID_LEN + tl;
		}
	}
	if (l + 1 > namelen)
		return 0;
	memcpy(name, ent, l);
	name[l] = '\0';
	return 1;
}

/*
 * An interrupted write's leftover of a sealed file, "NAME[.key-KID].sealed"
 * then ".tmp-" and 16 hex digits (hk_file_write): its secret's name into
 * name. 0 if ent is not one.
 */
static int
split_tmp(const char *ent, char *name, size_t namelen)
{
	static const char mark[] = ".tmp-";
	char stem[256], kid[HK_SEALED_KID_LEN + 1];
	const char *t = strstr(ent, mark), *u;

	if (t == NULL)
		return 0;
	while ((u = strstr(t + 1, mark)) != NULL)
		t = u;
	if (strlen(t + sizeof(mark) - 1) != 16 ||
	    strspn(t + sizeof(mark) - 1, "0123456789abcdef") != 16 ||
	    (size_t)(t - ent) >= sizeof(stem))
		return 0;
	memcpy(stem, ent, (size_t)(t - ent));
	stem[t - ent] = '\0';
	return split(stem, name, namelen, kid);
}

int
hk_sealed_shred(const char *path)
{
	unsigned char rnd[4096];
	struct stat st;
	off_t off = 0;
	ssize_t n;
	size_t want;
	int fd;

	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		hk_err_set("%s: cannot overwrite: %s", path, strerror(errno));
		return HK_ERR_IO;
	}
	if (fstat(fd, &st) != 0) {
		hk_err_set("%s: cannot overwrite: %s", path, strerror(errno));
		close(fd);
		return HK_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		hk_err_set("%s: not a regular file", path);
		close(fd);
		return HK_ERR_IO;
	}
	while (off < st.st_size) {
		want = (size_t)(st.st_size - off) < sizeof(rnd) ?
		    (size_t)(st.st_size - off) : sizeof(rnd);
		randombytes_buf(rnd, want);
		if ((n = pwrite(fd, rnd, want, off)) < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			hk_err_set("%s: cannot overwrite: %s", path,
			    n < 0 ? strerror(errno) : "short write");
			close(fd);
			return HK_ERR_IO;
		}
		off += n;
	}
	if (fsync(fd) != 0) {
		hk_err_set("%s: cannot fsync the overwrite: %s", path,
		    strerror(errno));
		close(fd);
		return HK_ERR_IO;
	}
	close(fd);
	if (unlink(path) != 0 && errno != ENOENT) {
		hk_err_set("%s: cannot remove: %s", path, strerror(errno));
		return HK_ERR_IO;
	}
	return 1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The secrets/ entries, sorted (readdir order is the filesystem's). */
static int
list_secrets(struct hk_ca *ca, char dir[4096], char ***ents, size_t *n)
{
	DIR *d;
	struct dirent *e;
	char **v = NULL, **nv;
	size_t cap = 0;
	int r;

	*ents = NULL;
	*n = 0;
	if ((r = hk_state_path(ca->st, "secrets", dir, 4096)) != 0)
		return r;
	if ((d = opendir(dir)) == NULL) {
		hk_err_set("%s: cannot list: %s", dir, strerror(errno));
		return HK_ERR_IO;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto nomem;
			v = nv;
		}
		if ((v[*n] = strdup(e->d_name)) == NULL)
			goto nomem;
		(*n)++;
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), cmp_str);
	*ents = v;
	return 0;
 nomem:
	closedir(d);
	while (*n > 0)
		free(v[--(*n)]);
	free(v);
	return HK_ERR_ALLOC;
}

static void
free_list(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

/* fsync the folder that holds quorum.set (the commit's rename). */
static int
sync_set(struct hk_ca *ca)
{
	char path[4096];
	int r;

	if ((r = hk_state_path(ca->st, "quorum.set", path, sizeof(path))) != 0)
		return r;
	if (hk_dir_sync(path) != 0) {
		hk_err_set("%s: cannot sync the folder of the quorum set in "
		    "force before removing the files of the key it replaced: "
		    "%s; nothing removed", path, strerror(errno));
		return HK_ERR_IO;
	}
	return 0;
}

int
hk_sealed_tidy(struct hk_ca *ca, const uint8_t *key, int all)
{
	char dir[4096], path[4096], name[128], kid[HK_SEALED_KID_LEN + 1];
	char ek[HK_SEALED_KID_LEN + 1], hk[HK_SEALED_KID_LEN + 1];
	char rel[160], kpath[4096];
	char **ents = NULL;
	uint8_t *hist = NULL;
	size_t n = 0, nh = 0, i, j;
	int r, removed = 0, older, tmp;

	hk_sealed_key_id(key, kid);
	if ((r = list_secrets(ca, dir, &ents, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		tmp = 0;
		if (!split(ents[i], name, sizeof(name), ek)) {
			/* An interrupted write's leftover: nothing reads it,
			 * but it may hold a secret sealed under a key never
			 * in force (a re-key stopped there): with all, it
			 * goes too. */
			if (!all || !split_tmp(ents[i], name, sizeof(name)))
				continue;
			tmp = 1;
		} else if (ek[0] == '\0') {
			/* the init form: superseded once the key in force
			 * has its own file of the same secret */
			if ((r = form(ca, name, kid, rel, sizeof(rel), kpath,
			    sizeof(kpath))) != 0)
				goto out;
			if ((r = hk_path_lookup(kpath)) < 0)
				goto out;
			if (r == 0)
				continue;
		} else if (strcmp(ek, kid) == 0) {
			continue;
		} else if (!all) {
			/* Only a key this one replaced: a file of a re-key
			 * that has not reached its commit is not touched
			 * here (a rotation run removes it). The history
			 * is read only when such a file is there. */
			if (hist == NULL && (r = hk_sealed_history(ca, key,
			    &hist, &nh)) != 0)
				goto out;
			for (older = 0, j = 0; j < nh && !older; j++) {
				hk_sealed_key_id(hist + j * HK_QUORUM_KEY_LEN,
				    hk);
				older = strcmp(hk, ek) == 0;
			}
			if (!older)
				continue;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    ents[i]) >= sizeof(path)) {
			hk_err_set("%s/%s: path too long", dir, ents[i]);
			r = HK_ERR_INVALID;
			goto out;
		}
		/* Before the first removal, the state folder synced: the
		 * rename of quorum.set that put this key in force may not be
		 * on disk yet (a rotation killed before its own sync); were
		 * it lost, the old set would come back without its files. */
		if (removed == 0 && (r = sync_set(ca)) != 0)
			goto out;
		/* overwritten in place, then unlinked: the old key is what
		 * m old shares still combine */
		if ((r = hk_sealed_shred(path)) < 0) {
			hk_err_set("%s (%s)", hk_err_msg(), tmp ? "left by an "
			    "interrupted write" : "sealed under a quorum key "
			    "not in force");
			goto out;
		}
		removed++;
		if (tmp)
			r = hk_ca_audit(ca, "secrets.remove", "ok", ca->actors,
			    "secrets/%s overwritten and removed: left by an "
			    "interrupted write", ents[i]);
		else
			r = hk_ca_audit(ca, "secrets.remove", "ok", ca->actors,
			    "secrets/%s overwritten and removed: sealed under "
			    "a quorum key not in force (key id %s)", ents[i],
			    ek[0] ? ek : "of init");
		if (r != 0)
			goto out;
	}
	r = 0;
	if (removed && hk_dir_sync(path) != 0) {
		hk_err_set("%s: cannot sync the removals: %s", dir,
		    strerror(errno));
		r = HK_ERR_IO;
	}
 out:
	hk_secret_free(hist);
	free_list(ents, n);
	return r;
}

int
hk_sealed_retire(struct hk_ca *ca, const char *secret, int *retired)
{
	char dir[4096], path[4096], name[128], ek[HK_SEALED_KID_LEN + 1];
	char **ents = NULL;
	size_t n = 0, i;
	int r;

	*retired = 0;
	if ((r = list_secrets(ca, dir, &ents, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (!split(ents[i], name, sizeof(name), ek) &&
		    !split_tmp(ents[i], name, sizeof(name)))
			continue;
		if (strcmp(name, secret) != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    ents[i]) >= sizeof(path)) {
			hk_err_set("%s/%s: path too long", dir, ents[i]);
			r = HK_ERR_INVALID;
			goto out;
		}
		if ((r = hk_sealed_shred(path)) < 0)
			goto out;
		*retired += r;
	}
	r = 0;
	if (*retired && hk_dir_sync(path) != 0) {
		hk_err_set("%s: cannot sync the removals: %s", dir,
		    strerror(errno));
		r = HK_ERR_IO;
	}
 out:
	free_list(ents, n);
	return r;
}

void
hk_rekey_free(struct hk_rekey *rk, int failed)
{
	size_t i;

	for (i = 0; i < rk->n; i++) {
		if (failed)
			(void)unlink(rk->made[i]);
		free(rk->made[i]);
	}
	free(rk->made);
	rk->made = NULL;
	rk->n = 0;
}

/* Write blob to path (0600, never replacing) and remember it. */
static int
put(struct hk_ca *ca, struct hk_rekey *rk, const char *rel, const char *path,
    const uint8_t *blob, size_t len, const char *what)
{
	char **nv, hex[65];
	unsigned char d[32];
	int r;

	if ((nv = realloc(rk->made, (rk->n + 1) * sizeof(*nv))) == NULL)
		return HK_ERR_ALLOC;
	rk->made = nv;
	if ((rk->made[rk->n] = strdup(path)) == NULL)
		return HK_ERR_ALLOC;
	if ((r = hk_file_write(path, blob, len, 0600,
	    HK_WRITE_NOREPLACE)) != 0) {
		free(rk->made[rk->n]);
		return r;
	}
	rk->n++;
	SHA256(blob, len, d);
	hk_hex_encode(d, 32, hex);
	/* A sealed file the log does not hold is removed (the caller). */
	return hk_ca_audit(ca, "quorum.rekey.seal", "ok", ca->actors, "%s "
	    "SHA-256 %s: %s sealed under the new quorum key", rel, hex, what);
}

int
hk_sealed_rekey(struct hk_ca *ca, const uint8_t *newkey, struct hk_rekey *rk)
{
	char dir[4096], name[128], ek[HK_SEALED_KID_LEN + 1];
	char okid[HK_SEALED_KID_LEN + 1], nkid[HK_SEALED_KID_LEN + 1];
	char rel[160], path[4096], orel[160], opath[4096];
	char **ents = NULL;
	uint8_t *plain = NULL, *blob = NULL, *hist = NULL, *nh = NULL;
	unsigned char *oblob = NULL;
	size_t n = 0, i, len, bloblen, obloblen, nhist = 0;
	int r;

	hk_sealed_key_id(ca->qkey, okid);
	hk_sealed_key_id(newkey, nkid);
	if ((r = list_secrets(ca, dir, &ents, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!split(ents[i], name, sizeof(name), ek) ||
		    strcmp(name, HK_SEALED_HISTORY) == 0)
			continue;
		/* the secret's file under the key in force, read once */
		if ((r = hk_sealed_path(ca, ca->qkey, name, orel, sizeof(orel),
		    opath, sizeof(opath))) != 0)
			goto out;
		if (strcmp(strrchr(opath, '/') + 1, ents[i]) != 0) {
			if (strcmp(ek, nkid) == 0) {
				hk_err_set("%s/%s: already sealed under the "
				    "new quorum key", dir, ents[i]);
				r = HK_ERR_EXISTS;
				goto out;
			}
			/* another key's file: the tidy at the start of the
			 * rotation removed them all */
			hk_err_set("%s/%s: sealed under a quorum key not in "
			    "force (left by an earlier run): remove it",
			    dir, ents[i]);
			r = HK_ERR_STATE;
			goto out;
		}
		if ((r = hk_file_read(opath, 65536, &oblob, &obloblen)) != 0)
			goto out;
		r = hk_quorum_open_secret(ca->qkey, name, oblob, obloblen,
		    &plain, &len);
		free(oblob);
		oblob = NULL;
		if (r != 0) {
			hk_err_set("%s: cannot be opened with the quorum key "
			    "in force (%s); nothing re-sealed", opath,
			    hk_strerror(r));
			goto out;
		}
		r = hk_quorum_seal_secret(newkey, name, plain, len, &blob,
		    &bloblen);
		hk_secret_free(plain);
		plain = NULL;
		if (r != 0 || (r = form(ca, name, nkid, rel, sizeof(rel), path,
		    sizeof(path))) != 0 || (r = put(ca, rk, rel, path, blob,
		    bloblen, name)) != 0)
			goto out;
		free(blob);
		blob = NULL;
	}
	/* The history: the key in force, then the keys before it. */
	if ((r = hk_sealed_history(ca, ca->qkey, &hist, &nhist)) != 0)
		goto out;
	if ((nhist + 1) * HK_QUORUM_KEY_LEN > HK_SEALED_MAX) {
		hk_err_set("secrets: %zu quorum keys in the history, at most "
		    "%d", nhist + 1, HK_SEALED_MAX / HK_QUORUM_KEY_LEN);
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((nh = hk_secret_alloc((nhist + 1) * HK_QUORUM_KEY_LEN)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	memcpy(nh, ca->qkey, HK_QUORUM_KEY_LEN);
	if (nhist > 0)
		memcpy(nh + HK_QUORUM_KEY_LEN, hist, nhist * HK_QUORUM_KEY_LEN);
	if ((r = hk_quorum_seal_secret(newkey, HK_SEALED_HISTORY, nh,
	    (nhist + 1) * HK_QUORUM_KEY_LEN, &blob, &bloblen)) != 0 ||
	    (r = form(ca, HK_SEALED_HISTORY, nkid, rel, sizeof(rel), path,
	    sizeof(path))) != 0)
		goto out;
	{
		char what[128];
		snprintf(what, sizeof(what), "the %zu quorum key%s before it "
		    "(old backups)", nhist + 1, nhist ? "s" : "");
		r = put(ca, rk, rel, path, blob, bloblen, what);
	}
 out:
	free(blob);
	free(oblob);
	hk_secret_free(plain);
	hk_secret_free(hist);
	hk_secret_free(nh);
	free_list(ents, n);
	return r;
}

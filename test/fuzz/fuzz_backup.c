/*
 * fuzz_backup.c - the two backup formats' parsers on arbitrary bytes:
 * the offline key backup file (shared/backup.c: hk_backup_parse, then
 * hk_backup_open with a fixed test quorum key and seed) and the online
 * backup's MANIFEST (online/sbackup.c: hk_sbackup_parse, the parse
 * hk_sbackup_verify makes; docs/backup.md). Both get every input.
 *
 * Beyond "no crash, no leak" it checks: a key backup that parses opens or
 * fails only on its MAC; what opens encodes (hk_backup_encode) to the
 * same bytes, and what parses to the same header lines; the sizes stay
 * within the header's bounds; a MANIFEST that parses is canonical (it
 * encodes to its bytes), lists valid paths sorted and once, each found.
 * Seeds: corpus/backup/ (made by this target with HK_FUZZ_BACKUP_SEEDS=DIR
 * set: a key backup of the test quorum key, and MANIFESTs).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backup.h"
#include "err.h"
#include "sbackup.h"
#include "secmem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void make_seeds(const char *out);

static uint8_t qkey[32], seed[HK_BACKUP_SEED_LEN];	/* test values */

/* The bytes of the line "key: ..." with its '\n' (NULL: none). */
static const char *
line_of(const char *t, size_t n, const char *key, size_t *ll)
{
	size_t kl = strlen(key), i = 0;
	const char *nl;

	while (i < n) {
		nl = memchr(t + i, '\n', n - i);
		if (nl == NULL)
			return NULL;
		if ((size_t)(nl - (t + i)) >= kl && memcmp(t + i, key, kl) ==
		    0) {
			*ll = (size_t)(nl - (t + i)) + 1;
			return t + i;
		}
		i = (size_t)(nl - t) + 1;
	}
	return NULL;
}

static void
key_backup(const uint8_t *data, size_t size)
{
	struct hk_backup_info info, info2;
	uint8_t *w = NULL, wr[HK_BACKUP_WRAPPED_MAX];
	size_t wl = 0, ml, tl, ll, n;
	const char *mac, *l;
	char *text = NULL;
	int p, o;

	p = hk_backup_parse("fuzz", data, size, &info);
	o = hk_backup_open("fuzz", data, size, qkey, seed, &info2, &w, &wl);
	if (p != 0 && p != HK_ERR_PARSE)
		abort();
	if (p != 0 ? o != p : o != 0 && o != HK_ERR_VERIFY)
		abort();
	if ((o == 0) != (w != NULL) || (o == 0) != (wl != 0))
		abort();
	if (p != 0)
		goto out;
	if (info.key_id_len < 1 || info.key_id_len > 32 ||
	    info.spki_len < 1 || info.spki_len > HK_BACKUP_SPKI_MAX ||
	    strlen(info.quorum_set) != 32 || strlen(info.kek_id) != 32 ||
	    memcmp(&info, &info2, sizeof(info)) != 0)
		abort();
	if (o == 0) {
		/* what opens is the canonical text of what it holds */
		if (wl > HK_BACKUP_WRAPPED_MAX || hk_backup_encode(&info, w, wl,
		    qkey, seed, &text, &tl) != 0 || tl != size ||
		    memcmp(text, data, size) != 0)
			abort();
		goto out;
	}
	/* what parses: the header it gives encodes to the same lines, the
	 * MAC aside (wrapped taken from its line as the parser takes it) */
	if ((l = line_of((const char *)data, size, "wrapped: ", &ll)) == NULL ||
	    sodium_base642bin(wr, sizeof(wr), l + 9, ll - 10, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    hk_backup_encode(&info, wr, n, qkey, seed, &text, &tl) != 0 ||
	    (mac = line_of(text, tl, "mac: ", &ml)) == NULL ||
	    (size_t)(mac - text) + ml != tl || size < ml ||
	    (size_t)(mac - text) != size - ml ||
	    memcmp(text, data, (size_t)(mac - text)) != 0)
		abort();
 out:
	free(text);
	hk_secret_free(w);
}

static void
manifest(const uint8_t *data, size_t size)
{
	struct hk_sbackup_manifest *m = NULL;
	char *text = NULL;
	size_t i, tl;
	int r;

	r = hk_sbackup_parse("MANIFEST", data, size, &m);
	if ((r == 0) != (m != NULL) || (r != 0 && r != HK_ERR_PARSE))
		abort();
	if (r != 0)
		return;
	if (m->state == NULL || strlen(m->created) != 20 ||
	    strlen(m->store_id) != 32 || strlen(m->log_id) != 32 ||
	    strlen(m->log_hash) != 64 || strlen(m->key_sha256) != 64 ||
	    m->n > HK_SBACKUP_FILES_MAX)
		abort();
	for (i = 0; i < m->n; i++)
		if (!hk_sbackup_path_ok(m->files[i].path) || (i > 0 &&
		    strcmp(m->files[i - 1].path, m->files[i].path) >= 0) ||
		    hk_sbackup_find(m, m->files[i].path) != &m->files[i])
			abort();
	if (hk_sbackup_encode(m, &text, &tl) != 0 || tl != size ||
	    memcmp(text, data, size) != 0)
		abort();
	free(text);
	hk_sbackup_free(m);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t;
	size_t i;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	for (i = 0; i < sizeof(qkey); i++)
		qkey[i] = (uint8_t)(0x51 + i);
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(0xa0 ^ i);
	if ((t = getenv("HK_FUZZ_BACKUP_SEEDS")) != NULL) {
		make_seeds(t);
		exit(0);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	key_backup(data, size);
	manifest(data, size);
	hk_err_clear();
	return 0;
}

/* ---- seeds ----------------------------------------------------------- */

static void
put(const char *out, const char *name, const char *p, size_t n)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n ||
	    fclose(f) != 0)
		abort();
}

void
make_seeds(const char *out)
{
	static const char *const paths[] = { "audit/audit-key.pem",
	    "audit/audit.log", "audit/audit.log.head", "batches/2026-04-02/results.csv",
	    "state.conf", "store.db" };
	struct hk_backup_info info;
	struct hk_sbackup_manifest *m;
	uint8_t wrapped[40];
	unsigned char sha[32];
	char *text;
	size_t len, i;

	memset(&info, 0, sizeof(info));
	snprintf(info.ca_created, sizeof(info.ca_created),
	    "2026-04-01T09:00:00Z");
	snprintf(info.ca_token, sizeof(info.ca_token), "JPKI-ROOT");
	snprintf(info.key_label, sizeof(info.key_label), "root-1");
	info.key_id_len = 4;
	memcpy(info.key_id, "\x01\x02\x0a\xff", 4);
	snprintf(info.key_type, sizeof(info.key_type), "ec-256");
	/* a P-256 SubjectPublicKeyInfo's length; its bytes do not matter */
	info.spki_len = 91;
	for (i = 0; i < info.spki_len; i++)
		info.spki[i] = (unsigned char)(i * 7);
	crypto_hash_sha256(info.pub_sha256, info.spki, info.spki_len);
	snprintf(info.quorum_set, sizeof(info.quorum_set),
	    "00112233445566778899aabbccddeeff");
	hk_backup_kek_id(seed, info.kek_id);
	snprintf(info.created, sizeof(info.created), "2026-04-01T09:30:00Z");
	for (i = 0; i < sizeof(wrapped); i++)
		wrapped[i] = (uint8_t)(0x33 * i);
	if (hk_backup_encode(&info, wrapped, sizeof(wrapped), qkey, seed,
	    &text, &len) != 0)
		abort();
	put(out, "key-backup", text, len);
	free(text);

	if (hk_sbackup_new(&m) != 0 || (m->state = strdup("/var/lib/hanko/"
	    "\\xe7\\x86\\x8a\\x5c online")) == NULL)
		abort();
	snprintf(m->created, sizeof(m->created), "2026-04-02T10:00:00Z");
	snprintf(m->store_id, sizeof(m->store_id),
	    "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
	snprintf(m->log_id, sizeof(m->log_id),
	    "d4f7732d8efd9912414b601bf857c2d8");
	m->log_seq = 41;
	snprintf(m->log_hash, sizeof(m->log_hash), "%s",
	    "e20bcefbcfe616f0a9b3420c6146927840d38ba9b5c8af9706ef572403fb4dea");
	snprintf(m->key_sha256, sizeof(m->key_sha256), "%s",
	    "f2f8ca64d7cab6ad98cc3fe96050cd67c96b7c70fdcd08e1e900d7e9652ae869");
	if (hk_sbackup_encode(m, &text, &len) != 0)
		abort();
	put(out, "manifest-empty", text, len);
	free(text);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		memset(sha, (int)i * 17, sizeof(sha));
		if (hk_sbackup_add(m, paths[i], 1000 * i, sha) != 0)
			abort();
	}
	m->files[5].size = 9999999999999999999ULL;	/* 19 digits */
	if (hk_sbackup_encode(m, &text, &len) != 0)
		abort();
	put(out, "manifest", text, len);
	free(text);
	hk_sbackup_free(m);
}

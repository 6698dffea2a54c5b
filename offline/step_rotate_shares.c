/*
 * step_rotate_shares.c - action "rotate-shares": the quorum key re-shared
 * to the key managers of a new roster (CPS 5-2-1-1 (2), 5-3-3; DESIGN.md 4),
 * by hk_rotate_shares with the quorum a quorum-activate step combined.
 *
 * The new roster is an input of the script (its SHA-256 shown and in the
 * transcript); each new holder types their new passphrase twice at the
 * terminal. The new shares go to <dir>/<id>/share-I-ID-SET8.hks where
 * <dir> is the folder of the step's manifest output (out/NAME: --out DIR),
 * and the manifest lists the new set and each share's SHA-256. The rename
 * of quorum.set is the commit: no undo. When the CA manager is present
 * (authenticated for this ceremony, which they approved), the new roster is
 * recorded as approved by them and kept as roster.approved.yaml, so the
 * next ceremony accepts it and the next "roster approve" compares with it.
 * With new-quorum-key: true the new set is dealt from a fresh quorum key
 * and every secret of secrets/ is sealed again under it (hk_rotate_shares,
 * sealed.c); the transcript lists each new sealed file and its SHA-256.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "atomic.h"
#include "ceremony.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "quorum.h"
#include "roster.h"
#include "transcript.h"

static const char *const kdf_levels[] = { "interactive", "moderate",
    "sensitive", NULL };

static const struct hk_param_spec params[] = {
	{ "roster", HK_PARAM_INPUT, 1, 0, 0, NULL, NULL, -1 },
	{ "manifest", HK_PARAM_OUTPUT, 1, 0, 0, NULL, NULL, HK_OUTPUT_FILE },
	{ "kdf", HK_PARAM_ENUM, 0, 0, 0, kdf_levels, NULL, -1 },
	{ "new-quorum-key", HK_PARAM_BOOL, 0, 0, 0, NULL, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

/* 1 if id is one of the comma-separated ids of actors (whole ids). */
static int
acted(const char *actors, const char *id)
{
	size_t n = strlen(id), l;

	for (; *actors != '\0'; actors += l + (actors[l] == ',')) {
		l = strcspn(actors, ",");
		if (l == n && strncmp(actors, id, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * Who handed over what, on the paper the witnesses sign (CPS 4-12-1,
 * 5-3-3): the key managers whose shares were used (those leaving too), then
 * each new holder with the share they took; one line each.
 */
static void
witnesses(struct hk_cer *c, const struct hk_roster *nw)
{
	const struct hk_person *p;
	char role[64];
	size_t i, j;

	for (i = 0; i < c->roster->npeople; i++) {
		p = &c->roster->people[i];
		if (p->role != HK_ROLE_KEY_MANAGER ||
		    !acted(c->ca->actors, p->id))
			continue;
		/* the same person: same id and name (an id given to someone
		 * new is another person) */
		for (j = 0; j < nw->nkm; j++)
			if (strcmp(hk_roster_key_manager(nw, j)->id,
			    p->id) == 0 && strcmp(hk_roster_key_manager(nw,
			    j)->name, p->name) == 0)
				break;
		if (j < nw->nkm)
			snprintf(role, sizeof(role), "key-manager (share used; "
			    "new share %zu)", j + 1);
		else
			snprintf(role, sizeof(role), "key-manager (share used;"
			    " leaves)");
		hk_transcript_witness(c->tr, p->id, p->name, role);
	}
	for (j = 0; j < nw->nkm; j++) {
		p = hk_roster_key_manager(nw, j);
		snprintf(role, sizeof(role), "key-manager (new share %zu)",
		    j + 1);
		hk_transcript_witness(c->tr, p->id, p->name, role);
	}
}

/* The manifest: the new set and each new share's path and SHA-256; each
 * share also in the transcript with its holder, and the holders among its
 * witnesses. */
static int
write_manifest(struct hk_cer *c, const char *roster,
    const unsigned char *rbuf, size_t rlen, const char *media,
    const char *path)
{
	struct hk_roster *ro = NULL;
	const char *setid = hk_state_get(c->ca->st, "quorum.set-id");
	char *text = NULL, share[4096], hex[65];
	unsigned char *buf = NULL, d[32];
	size_t i, n, len, cap = 65536, off = 0;
	int r;

	if ((r = hk_roster_load_buf(roster, rbuf, rlen, &ro)) != 0)
		return r;
	if ((text = malloc(cap)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	n = hk_roster_key_managers(ro);
	off += (size_t)snprintf(text + off, cap - off, "hanko-new-shares: 1\n"
	    "quorum-set: %s\nthreshold: %u of %zu\n", setid ? setid : "?",
	    ro->threshold, n);
	for (i = 0; i < n && off < cap; i++) {
		const struct hk_person *km = hk_roster_key_manager(ro, i);
		int sl = snprintf(share, sizeof(share), "%s/%s/share-%zu-%s-"
		    "%.8s%s", media, km->id, i + 1, km->id, setid ? setid : "",
		    HK_QUORUM_SHARE_SUFFIX);
		if (sl < 0 || (size_t)sl >= sizeof(share)) {
			hk_err_set("%s: path too long", media);
			r = HK_ERR_INVALID;
			goto out;
		}
		if ((r = hk_file_read(share, 1 << 20, &buf, &len)) != 0)
			goto out;
		SHA256(buf, len, d);
		free(buf);
		buf = NULL;
		hk_hex_encode(d, 32, hex);
		off += (size_t)snprintf(text + off, cap - off, "share: %zu %s "
		    "%s SHA-256 %s\n", i + 1, km->id, share, hex);
		hk_transcript_add(c->tr, "output", d, "new share %zu of set %s "
		    "to %s (%s) %s SHA-256 %s", i + 1, setid ? setid : "?",
		    km->id, km->name, share, hex);
	}
	witnesses(c, ro);
	if (off >= cap) {
		hk_err_set("%s: manifest too long", path);
		r = HK_ERR_INVALID;
		goto out;
	}
	r = hk_file_write(path, text, off, 0644, HK_WRITE_NOREPLACE);
 out:
	free(text);
	hk_roster_free(ro);
	return r;
}

/* After a re-key: each file of secrets/ sealed under the new key (its
 * name carries the key's id), name and SHA-256, into the transcript. */
static int
transcribe_sealed(struct hk_cer *c)
{
	char dir[4096], path[4096], kid[HK_SEALED_KID_LEN + 1], tag[40];
	char hex[65];
	unsigned char *buf = NULL, d[32];
	struct dirent *e;
	size_t len;
	DIR *dp;
	int r = 0;

	hk_sealed_key_id(c->ca->qkey, kid);
	snprintf(tag, sizeof(tag), ".key-%s.sealed", kid);
	if ((r = hk_state_path(c->ca->st, "secrets", dir, sizeof(dir))) != 0)
		return r;
	if ((dp = opendir(dir)) == NULL) {
		hk_err_set("%s: cannot list: %s", dir, strerror(errno));
		return HK_ERR_IO;
	}
	while (r == 0 && (e = readdir(dp)) != NULL) {
		size_t l = strlen(e->d_name), tl = strlen(tag);
		if (l <= tl || strcmp(e->d_name + l - tl, tag) != 0)
			continue;
		snprintf(path, sizeof(path), "%.3000s/%.1000s", dir, e->d_name);
		if ((r = hk_file_read(path, 65536, &buf, &len)) != 0)
			break;
		SHA256(buf, len, d);
		free(buf);
		buf = NULL;
		hk_hex_encode(d, 32, hex);
		r = hk_transcript_add(c->tr, "output", d, "sealed under the "
		    "new quorum key %s: secrets/%s SHA-256 %s", kid, e->d_name,
		    hex);
	}
	closedir(dp);
	return r;
}

/* The CA manager of this ceremony approves the new roster. */
static int
record_approval(struct hk_cer *c, const char *roster,
    const unsigned char sha[32], char *by, size_t bylen)
{
	char hex[65], t[32], path[4096];
	size_t i;
	int r;

	by[0] = '\0';
	for (i = 0; i < c->npresent; i++)
		if (c->present[i]->role == HK_ROLE_CA_MANAGER) {
			snprintf(by, bylen, "%s", c->present[i]->id);
			break;
		}
	if (by[0] == '\0')
		return 0;
	/* What is now roster.yaml must be the very input shown. */
	{
		unsigned char *buf = NULL, d[32];
		size_t len;
		if ((r = hk_state_path(c->ca->st, "roster.yaml", path,
		    sizeof(path))) != 0 ||
		    (r = hk_file_read(path, 1 << 20, &buf, &len)) != 0)
			return r;
		SHA256(buf, len, d);
		free(buf);
		if (memcmp(d, sha, 32) != 0) {
			hk_err_set("%s: not the roster the ceremony was given "
			    "(%s changed during the run); approve it with "
			    "roster approve", path, roster);
			return HK_ERR_VERIFY;
		}
	}
	hk_hex_encode(sha, 32, hex);
	hk_time_format(hk_clock_now(), t, sizeof(t));
	/* Logged first; then roster.approved.yaml, the roster later
	 * approvals are compared with, follows the approval recorded. */
	if ((r = hk_ca_audit(c->ca, "roster.approve", "ok", by, "%s SHA-256 "
	    "%s: the new roster of the %s ceremony, approved by the CA "
	    "manager present", roster, hex, c->script->name)) != 0)
		return r;
	if ((r = hk_roster_keep_approved(c->ca, path)) != 0 ||
	    (r = hk_state_set(c->ca->st, "roster.approved-sha256", hex)) != 0 ||
	    (r = hk_state_set(c->ca->st, "roster.approved-by", by)) != 0 ||
	    (r = hk_state_set(c->ca->st, "roster.approved-at", t)) != 0 ||
	    (r = hk_state_save(c->ca->st)) != 0) {
		hk_ca_audit_warn(c->ca, "roster.approve", "fail", by, "%s "
		    "SHA-256 %s: not recorded in state.conf: %s", roster, hex,
		    hk_err_msg());
		return r;
	}
	return 0;
}

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *ro = hk_script_param(st, "roster");
	const struct hk_script_param *kdf = hk_script_param(st, "kdf");
	const struct hk_script_param *nk = hk_script_param(st,
	    "new-quorum-key");
	struct rotate_shares_opts o;
	const char *manifest, *slash;
	char media[4096], by[64];
	int r, mi;

	manifest = hk_cer_ref_output(c, st, "manifest", &mi);
	if (c->script->outputs[mi].base != HK_BASE_OUT) {
		hk_err_set("%s:%lu:%lu: step %s: the new shares go to the "
		    "holders' media: the manifest is out/NAME (--out DIR)",
		    c->script->file, st->line, st->col, st->id);
		return HK_ERR_INVALID;
	}
	slash = strrchr(manifest, '/');
	snprintf(media, sizeof(media), "%.*s", slash ? (int)(slash -
	    manifest) : 1, slash ? manifest : ".");
	memset(&o, 0, sizeof(o));
	o.roster = c->input_path[ro->ref];
	/* the bytes read at the start, whose SHA-256 is in the transcript */
	if ((r = hk_iss_input(c, ro->ref, 1 << 20, &o.roster_buf,
	    &o.roster_len)) != 0)
		return r;
	o.media = media;
	o.kdf_level = kdf != NULL ? (int)kdf->ival : HK_KDF_MODERATE;
	o.new_key = nk != NULL && nk->ival != 0;
	/* No --passin ID=SPEC: each new holder types theirs. */
	if ((r = hk_rotate_shares(c->ca, &o)) != 0)
		return r;
	if ((r = record_approval(c, o.roster, c->input_sha[ro->ref], by,
	    sizeof(by))) != 0 ||
	    (r = write_manifest(c, o.roster, o.roster_buf, o.roster_len, media,
	    manifest)) != 0 || (o.new_key && (r = transcribe_sealed(c)) != 0)) {
		hk_err_set("step %s: the new quorum set is in place, but: %s",
		    st->id, hk_err_msg());
		return r;
	}
	snprintf(res->detail, sizeof(res->detail), "quorum set %s dealt to "
	    "the key managers of %.900s; shares under %.900s, listed in the "
	    "manifest; the old set retired%s; roster %s",
	    hk_state_get(c->ca->st, "quorum.set-id"), o.roster, media,
	    o.new_key ? ", with a new quorum key (the secrets sealed again "
	    "under it; the old key's files removed)" : "",
	    by[0] ? "approved by the CA manager present" :
	    "to be approved (roster approve)");
	return 0;
}

const struct hk_step_action hk_step_rotate_shares = {
	{ "rotate-shares", "re-share the quorum key to a new roster's key "
	    "managers; the old set is retired", params, 1, 0, 1 },
	run, NULL
};

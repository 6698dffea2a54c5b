/*
 * journal.c - the ceremony journal: what a running ceremony has made and
 * not yet committed, kept durably in <state>/ceremony.journal, so that a
 * run killed between two steps (SIGKILL, a power cut, a crash: no undo
 * ran) leaves a record the next ceremony recovers from (docs/ceremonies.md
 * "Killed runs").
 *
 * Written (temporary file, fsync, rename, folder fsync: hk_file_write)
 * BEFORE a root key is generated (its id), before a certificate file is
 * created under certs/ (its path) and before arl-batch writes its ARLs
 * under certs/arl/ (their numbers, one range); rewritten after each step
 * from what the steps' undo would remove now (a commit has cleared it:
 * key_made 0, nwritten 0, arl-batch's files 0); removed at the run's
 * normal end. Recovery, right after the quorum activated the token in the
 * next ceremony run, under dual control, removes what the journal names
 * and nothing state.conf or issued.txt names (an ARL numbered up to
 * arl.last-number is committed; a kill between a commit's state.conf and
 * the journal's rewrite leaves the journal naming what is committed:
 * kept).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "ceremony.h"
#include "crl.h"
#include "err.h"
#include "issued.h"
#include "p11.h"
#include "step_rollover.h"

#define JOURNAL_HEAD	"hanko-ceremony-journal: 1"

/* "root-<1..999>": the only key ids a journal may name. */
static int
key_id_ok(const char *id)
{
	size_t i, n = strlen(id);

	if (n < 6 || n > 8 || strncmp(id, "root-", 5) != 0 || id[5] == '0')
		return 0;
	for (i = 5; i < n; i++)
		if (id[i] < '0' || id[i] > '9')
			return 0;
	return 1;
}

/* "certs/<name>": one plain file name below certs/, no "..", no dot first. */
static int
file_rel_ok(const char *rel)
{
	const char *n = rel + 6;
	size_t i;

	if (strncmp(rel, "certs/", 6) != 0 || *n == '\0' || *n == '.' ||
	    strlen(n) > 200)
		return 0;
	for (i = 0; n[i] != '\0'; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' &&
		    n[i] <= 'Z') || (n[i] >= '0' && n[i] <= '9') ||
		    n[i] == '.' || n[i] == '-' || n[i] == '_'))
			return 0;
	return 1;
}

/* "<first>..<last>": ARL numbers from 1 up, first <= last, at most one
 * batch (HK_CRL_BATCH_MAX), no leading zero. */
static int
arl_range(const char *v, uint64_t *first, uint64_t *last)
{
	uint64_t n[2] = { 0, 0 };
	int k;

	for (k = 0; k < 2; k++) {
		size_t d = 0;
		if (*v == '0')
			return 0;
		for (; *v >= '0' && *v <= '9'; v++, d++) {
			if (d >= 18)
				return 0;
			n[k] = n[k] * 10 + (uint64_t)(*v - '0');
		}
		if (d == 0 || (k == 0 && strncmp(v, "..", 2) != 0))
			return 0;
		if (k == 0)
			v += 2;
	}
	if (*v != '\0' || n[0] > n[1] || n[1] - n[0] >= HK_CRL_BATCH_MAX)
		return 0;
	*first = n[0];
	*last = n[1];
	return 1;
}

/* The word of an entry's journal line. */
static const char *
entry_word(const struct hk_cer_jentry *e)
{
	return e->key ? "key" : e->arl ? "arl" : "file";
}

/* The path under the state folder of abs as "certs/x", or NULL. */
static const char *
state_rel(const struct hk_cer *c, const char *abs)
{
	const char *dir = c->ca->st->dir;
	size_t dl = strlen(dir);

	if (strncmp(abs, dir, dl) != 0 || abs[dl] != '/')
		return NULL;
	return file_rel_ok(abs + dl + 1) ? abs + dl + 1 : NULL;
}

int
hk_journal_path(const char *state_dir, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", state_dir, HK_JOURNAL_FILE) >=
	    len) {
		hk_err_set("%s: state folder path too long", state_dir);
		return HK_ERR_INVALID;
	}
	return 0;
}

/* Append one line to buf (at *off, cap len); 0 or HK_ERR_INVALID. */
static int
add_line(char *buf, size_t len, size_t *off, const char *kind,
    const char *v)
{
	int n = snprintf(buf + *off, len - *off, "%s %s\n", kind, v);

	if (n < 0 || (size_t)n >= len - *off) {
		hk_err_set("ceremony journal: too many entries");
		return HK_ERR_INVALID;
	}
	*off += (size_t)n;
	return 0;
}

/*
 * Write the journal: what the steps done would have undone if the run
 * failed now (steps with an undo: their key made, their files under
 * certs/), and what the step running is about to make (c->jnext). Nothing:
 * the journal is removed. Durable either way when this returns 0.
 */
static int
journal_write(struct hk_cer *c)
{
	char path[4096], buf[16384], id[64];
	size_t off, i;
	int j, r, n = 0;

	if ((r = hk_journal_path(c->ca->st->dir, path, sizeof(path))) != 0)
		return r;
	off = (size_t)snprintf(buf, sizeof(buf), "%s\n", JOURNAL_HEAD);
	if (*c->jold_run != '\0' && (r = add_line(buf, sizeof(buf), &off,
	    "ceremony:", c->jold_run)) != 0)
		return r;
	for (j = 0; j < c->njold; j++) {
		if ((r = add_line(buf, sizeof(buf), &off,
		    entry_word(&c->jold[j]), c->jold[j].v)) != 0)
			return r;
		n++;
	}
	for (i = 0; !c->jend && i < c->script->nsteps; i++) {
		const struct hk_step_result *res = &c->res[i];
		const struct hk_step_action *a =
		    hk_ceremony_action(c->script->steps[i].action);
		if (!res->ran || a->undo == NULL)
			continue;
		if (res->key_made && res->key_id_len > 0 &&
		    res->key_id_len < sizeof(id)) {
			memcpy(id, res->key_id, res->key_id_len);
			id[res->key_id_len] = '\0';
			if (key_id_ok(id)) {
				if ((r = add_line(buf, sizeof(buf), &off,
				    "key", id)) != 0)
					return r;
				n++;
			}
		}
		for (j = 0; j < res->nwritten; j++) {
			const char *rel = state_rel(c, res->written[j]);
			if (rel == NULL)
				continue;
			if ((r = add_line(buf, sizeof(buf), &off, "file",
			    rel)) != 0)
				return r;
			n++;
		}
		/* arl-batch's ARLs (up to a batch, more than written[]
		 * holds): one range until arl-commit takes them over */
		if (a == &hk_step_arl_batch) {
			size_t na;
			uint64_t last;
			char range[64];
			(void)hk_life_arl_file(0, &na, &last);
			if (na > 0 && last >= na) {
				snprintf(range, sizeof(range), "%llu..%llu",
				    (unsigned long long)(last - na + 1),
				    (unsigned long long)last);
				if ((r = add_line(buf, sizeof(buf), &off,
				    "arl", range)) != 0)
					return r;
				n++;
			}
		}
	}
	{
		char line[512];
		snprintf(line, sizeof(line), "%s script SHA-256 %s",
		    c->script->name, c->script->sha256_hex);
		if ((r = add_line(buf, sizeof(buf), &off, "ceremony:",
		    line)) != 0)
			return r;
	}
	for (j = 0; j < c->njnext; j++) {
		if ((r = add_line(buf, sizeof(buf), &off,
		    entry_word(&c->jnext[j]), c->jnext[j].v)) != 0)
			return r;
		n++;
	}
	if (n > 0)
		return hk_file_write(path, buf, off, 0600, 0);
	return hk_cer_journal_remove(c->ca->st->dir);
}

static int
journal_next(struct hk_cer *c, int key, int arl, const char *v)
{
	int r;

	if (c->njnext >= (int)(sizeof(c->jnext) / sizeof(c->jnext[0]))) {
		hk_err_set("ceremony journal: too many entries in one step");
		return HK_ERR_INTERNAL;
	}
	c->jnext[c->njnext].key = key;
	c->jnext[c->njnext].arl = arl;
	snprintf(c->jnext[c->njnext].v, sizeof(c->jnext[0].v), "%s", v);
	c->njnext++;
	if ((r = journal_write(c)) != 0) {
		c->njnext--;
		hk_err_set("%s; nothing made (the ceremony journal must name "
		    "it first)", hk_err_msg());
	}
	return r;
}

/* The path of ARL n under the state folder. */
static int
arl_path(const struct hk_cer *c, uint64_t n, char *path, size_t len)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "certs/arl/arl-%llu.crl",
	    (unsigned long long)n);
	return hk_state_path(c->ca->st, rel, path, len);
}

/* 1 unless what e names is surely not there (a failed step's intent). */
static int
still_there(struct hk_cer *c, const struct hk_cer_jentry *e)
{
	const char *label = hk_state_get(c->ca->st, "token.label");
	struct hk_p11_key_attrs at;
	char path[4096];
	uint64_t n, first, last;
	int r;

	if (e->arl) {
		if (!arl_range(e->v, &first, &last))
			return 1;
		for (n = first; n <= last; n++)
			if (arl_path(c, n, path, sizeof(path)) != 0 ||
			    hk_path_lookup(path) != 0)
				return 1;
		return 0;
	}
	if (!e->key)
		return hk_state_path(c->ca->st, e->v, path, sizeof(path)) != 0 ||
		    hk_path_lookup(path) != 0;
	if (c->ca->tok == NULL || hk_p11_uri(label ? label : "",
	    (const unsigned char *)e->v, strlen(e->v), path,
	    sizeof(path)) != 0)
		return 1;
	r = hk_token_key_attrs(c->ca->tok, path, &at);
	return r != HK_ERR_NOT_FOUND;
}

int
hk_cer_journal_key(struct hk_cer *c, const unsigned char *id, size_t idlen)
{
	char v[16];

	if (idlen >= sizeof(v)) {
		hk_err_set("ceremony journal: key id too long");
		return HK_ERR_INTERNAL;
	}
	memcpy(v, id, idlen);
	v[idlen] = '\0';
	if (!key_id_ok(v)) {
		hk_err_set("ceremony journal: key id %s is not root-<n>", v);
		return HK_ERR_INTERNAL;
	}
	/* only what this run makes is named: a key there already is not */
	{
		struct hk_cer_jentry e;
		memset(&e, 0, sizeof(e));
		e.key = 1;
		snprintf(e.v, sizeof(e.v), "%s", v);
		if (still_there(c, &e)) {
			hk_err_set("token '%s': a key with id %s is there already "
			    "and no ceremony journal names it; refusing to make "
			    "another (docs/ceremonies.md \"Killed runs\")",
			    hk_state_get(c->ca->st, "token.label"), v);
			return HK_ERR_EXISTS;
		}
	}
	return journal_next(c, 1, 0, v);
}

int
hk_cer_journal_file(struct hk_cer *c, const char *abs)
{
	const char *rel = state_rel(c, abs);
	int r;

	/* a file outside <state>/certs/ is not for the journal */
	if (rel == NULL)
		return 0;
	/* only what this run makes is named: a file there already is not */
	if ((r = hk_path_lookup(abs)) == 1) {
		hk_err_set("%s: already exists; refusing to overwrite", abs);
		return HK_ERR_EXISTS;
	}
	if (r != 0)
		return r;
	return journal_next(c, 0, 0, rel);
}

int
hk_cer_journal_arls(struct hk_cer *c, uint64_t first, uint64_t last)
{
	char v[64], path[4096];
	uint64_t n, f, l;
	int r;

	snprintf(v, sizeof(v), "%llu..%llu", (unsigned long long)first,
	    (unsigned long long)last);
	if (!arl_range(v, &f, &l)) {
		hk_err_set("ceremony journal: ARLs %s: not a range of one "
		    "batch", v);
		return HK_ERR_INTERNAL;
	}
	/* only what this run makes is named: an ARL there already is not */
	for (n = first; n <= last; n++) {
		if ((r = arl_path(c, n, path, sizeof(path))) != 0)
			return r;
		if ((r = hk_path_lookup(path)) == 1) {
			hk_err_set("%s: already exists; refusing to overwrite",
			    path);
			return HK_ERR_EXISTS;
		}
		if (r != 0)
			return r;
	}
	return journal_next(c, 0, 1, v);
}

void
hk_cer_journal_step_done(struct hk_cer *c, int failed)
{
	struct hk_err_kept saved;
	int i;

	hk_err_keep(&saved);
	/* A failed step removed what it made, but what its own cleanup
	 * could not remove stays named, for the next run's recovery. */
	for (i = 0; failed && i < c->njnext; i++)
		if (c->njold < HK_CER_JOLD_MAX && still_there(c, &c->jnext[i]))
			c->jold[c->njold++] = c->jnext[i];
	c->njnext = 0;
	/* What was not written keeps the journal as it was: naming more
	 * than is left is safe (recovery keeps what is committed). */
	if (journal_write(c) != 0)
		fprintf(stderr, "hanko-offline ceremony: warning: %s\n",
		    hk_err_msg());
	hk_err_restore(&saved);
}

int
hk_cer_journal_end(struct hk_cer *c, int ok)
{
	c->njnext = 0;
	/* A run that ended well keeps all it made: nothing of it is
	 * pending; a failed one's undo ran: what it left is. */
	if (ok)
		c->jend = 1;
	return journal_write(c);
}

/* The journal as read back. */
struct hk_journal {
	char path[4096];
	char ceremony[512];
	size_t n;
	struct hk_cer_jentry e[HK_CER_JOLD_MAX];
};

/* 0 and j->n == 0 when there is no journal. */
static int
journal_load(const char *state_dir, struct hk_journal *j)
{
	unsigned char *buf = NULL;
	char *line, *next;
	size_t len;
	unsigned long ln = 0;
	uint64_t af, al;
	int r;

	memset(j, 0, sizeof(*j));
	if ((r = hk_journal_path(state_dir, j->path, sizeof(j->path))) != 0)
		return r;
	if ((r = hk_path_lookup(j->path)) <= 0)
		return r;
	if ((r = hk_file_read(j->path, 1 << 16, &buf, &len)) != 0)
		return r;
	for (line = (char *)buf; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		ln++;
		if (ln == 1) {
			if (strcmp(line, JOURNAL_HEAD) == 0)
				continue;
		} else if (strncmp(line, "ceremony: ", 10) == 0) {
			size_t cl = strlen(j->ceremony);
			snprintf(j->ceremony + cl, sizeof(j->ceremony) - cl,
			    "%s%s", cl ? " + " : "", line + 10);
			continue;
		} else if (j->n < sizeof(j->e) / sizeof(j->e[0]) &&
		    ((strncmp(line, "key ", 4) == 0 && key_id_ok(line + 4)) ||
		    (strncmp(line, "file ", 5) == 0 &&
		    file_rel_ok(line + 5)) || (strncmp(line, "arl ", 4) == 0 &&
		    arl_range(line + 4, &af, &al)))) {
			j->e[j->n].key = line[0] == 'k';
			j->e[j->n].arl = line[0] == 'a';
			snprintf(j->e[j->n].v, sizeof(j->e[0].v), "%s",
			    line + (line[0] == 'f' ? 5 : 4));
			j->n++;
			continue;
		}
		hk_err_set("%s:%lu: not a line of a ceremony journal (\"%s\", "
		    "\"ceremony: ...\", \"key root-<n>\", \"file "
		    "certs/<name>\" or \"arl <first>..<last>\"); nothing is "
		    "removed: look at it with the auditor (docs/ceremonies.md "
		    "\"Killed runs\")", j->path,
		    ln, ln == 1 ? JOURNAL_HEAD : "...");
		free(buf);
		return HK_ERR_STATE;
	}
	free(buf);
	if (ln == 0) {
		hk_err_set("%s: empty; nothing is removed (docs/ceremonies.md "
		    "\"Killed runs\")", j->path);
		return HK_ERR_STATE;
	}
	return 0;
}

/* v without a final ".der" or ".pem": a certificate's DER and PEM twins
 * are one thing (state.conf names the DER only). */
static size_t
stem_len(const char *v)
{
	size_t n = strlen(v);

	if (n > 4 && (strcmp(v + n - 4, ".der") == 0 ||
	    strcmp(v + n - 4, ".pem") == 0))
		return n - 4;
	return n;
}

static int
same_stem(const char *a, const char *b)
{
	size_t n = stem_len(a);

	return n == stem_len(b) && strncmp(a, b, n) == 0;
}

/*
 * 1 when what entry e names is the CA's: a key of a generation state.conf
 * has (root.generations) or whose URI it holds, or whose self-signed
 * certificate issued.txt registers (kind root); a file state.conf or
 * issued.txt names (either twin). Such a thing is never removed.
 */
static int
committed(const struct hk_state *st, const struct hk_issued *reg, int key,
    const char *v)
{
	size_t i;

	if (key) {
		const char *g = hk_state_get(st, "root.generations");
		char uri[512];
		if (g == NULL || strtol(v + 5, NULL, 10) <= strtol(g, NULL, 10))
			return 1;
		if (hk_p11_uri(hk_state_get(st, "token.label") ?
		    hk_state_get(st, "token.label") : "", (const unsigned char *)v,
		    strlen(v), uri, sizeof(uri)) != 0)
			return 1;
		for (i = 0; i < st->n; i++)
			if (strcmp(st->val[i], uri) == 0)
				return 1;
		/* its self-signed certificate registered (rollover-commit
		 * writes issued.txt before state.conf): never destroyed */
		for (i = 0; reg != NULL && i < reg->n; i++) {
			const char *f = reg->e[i].file, *b = strrchr(f, '/');
			b = b != NULL ? b + 1 : f;
			if (strcmp(reg->e[i].kind, "root") == 0 &&
			    stem_len(b) == strlen(v) &&
			    strncmp(b, v, strlen(v)) == 0)
				return 1;
		}
		return 0;
	}
	for (i = 0; i < st->n; i++)
		if (same_stem(st->val[i], v))
			return 1;
	for (i = 0; reg != NULL && i < reg->n; i++)
		if (same_stem(reg->e[i].file, v))
			return 1;
	return 0;
}

/*
 * One ceremony run at a time on a state: the run holds an exclusive lock
 * on the state folder itself (no file made) from before it reads the
 * journal to its end, so a second run started meanwhile (another terminal)
 * is refused before anything, and never takes the first run's journal for
 * a killed run's leftovers and removes what the first run is making.
 * status tests it the same way (hk_cer_run_busy).
 */
static int
run_lock(struct hk_cer *c)
{
	const char *dir = c->ca->st->dir;
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		hk_err_set("%s: cannot open the state folder: %s", dir,
		    strerror(errno));
		return HK_ERR_IO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK) {
			hk_err_set("%s: another ceremony run is going on this "
			    "state (it holds the state folder's lock); one run "
			    "at a time: wait for it to end (docs/ceremonies.md "
			    "\"Killed runs\")", dir);
			return HK_ERR_STATE;
		}
		hk_err_set("%s: cannot lock the state folder: %s", dir,
		    strerror(e));
		return HK_ERR_IO;
	}
	c->runlock_fd = fd;
	c->runlock_held = 1;
	return 0;
}

int
hk_cer_run_busy(const char *state_dir)
{
	int fd, busy = 0;

	if ((fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0)
		busy = errno == EWOULDBLOCK;
	close(fd);	/* a shared lock taken is released with it */
	return busy;
}

int
hk_cer_journal_begin(struct hk_cer *c)
{
	struct hk_journal *j;
	int r;

	if (!c->runlock_held && (r = run_lock(c)) != 0)
		return r;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return HK_ERR_ALLOC;
	if ((r = journal_load(c->ca->st->dir, j)) == 0) {
		memcpy(c->jold, j->e, sizeof(j->e[0]) * j->n);
		c->njold = (int)j->n;
		snprintf(c->jold_run, sizeof(c->jold_run), "%s", j->ceremony);
		c->jpending = hk_cer_journal_pending(c->ca->st->dir);
	}
	free(j);
	return r;
}

int
hk_cer_journal_stray(struct hk_cer *c, const char *rel)
{
	struct hk_issued *reg = NULL;
	struct hk_err_kept saved;
	int i, found = 0;

	if (c->njold == 0)
		return 0;
	hk_err_keep(&saved);
	if (hk_issued_load(c->ca->st->dir, &reg) == 0)
		for (i = 0; i < c->njold; i++)
			if (!c->jold[i].key && !c->jold[i].arl &&
			    strcmp(c->jold[i].v, rel) == 0 &&
			    !committed(c->ca->st, reg, 0, rel))
				found = 1;
	hk_issued_free(reg);
	hk_err_restore(&saved);
	return found;
}

int
hk_cer_journal_pending(const char *state_dir)
{
	char path[4096];

	if (hk_journal_path(state_dir, path, sizeof(path)) != 0)
		return 0;
	return hk_path_lookup(path) == 1;
}

/*
 * The ARLs of an entry "arl <first>..<last>": each one numbered up to
 * state.conf's arl.last-number is the CA's (arl-commit records it, and
 * only it, when it takes a batch over): kept; each other one is removed if
 * it is there and a regular file (crl.remove ok). What became of them in
 * what. arl.last-number that is not a number: nothing removed.
 */
/*
 * Remove the regular file path that a killed run left (named by its
 * journal, committed by nothing), its folder synced, audited as event
 * ("<name> removed: <kind>left by a ceremony run that ended without its
 * undo (<run>)"). *gone 1 when it is not there (nothing to remove); a
 * path that is there but not a regular file is refused, nothing removed.
 */
static int
remove_left(struct hk_cer *c, const char *path, const char *event,
    const char *who, const char *name, const char *kind, int *gone)
{
	struct stat sb;

	*gone = 0;
	if (lstat(path, &sb) != 0) {
		if (errno != ENOENT) {
			hk_err_set("%s: cannot look up: %s", path,
			    strerror(errno));
			return HK_ERR_IO;
		}
		*gone = 1;
		return 0;
	}
	if (!S_ISREG(sb.st_mode)) {
		hk_err_set("%s: named by the ceremony journal but not a "
		    "regular file; nothing removed", path);
		return HK_ERR_STATE;
	}
	if (unlink(path) != 0 || hk_dir_sync(path) != 0) {
		hk_err_set("%s: cannot remove: %s", path, strerror(errno));
		return HK_ERR_IO;
	}
	return hk_ca_audit(c->ca, event, "ok", who, "%s removed: %sleft by a "
	    "ceremony run that ended without its undo (%s)", name, kind,
	    c->jold_run);
}

static int
recover_arls(struct hk_cer *c, const char *v, const char *who, char *what,
    size_t len)
{
	const char *lv = hk_state_get(c->ca->st, "arl.last-number");
	unsigned long long kept_to = 0;
	uint64_t first, last, n;
	unsigned removed = 0, gone = 0, kept = 0;
	char path[4096], *end;
	size_t off = 0;
	int r, was_gone;

	if (!arl_range(v, &first, &last)) {
		hk_err_set("ceremony journal: arl %s: not a range", v);
		return HK_ERR_STATE;
	}
	if (lv != NULL) {
		errno = 0;
		kept_to = strtoull(lv, &end, 10);
		if (*lv < '0' || *lv > '9' || *end != '\0' || errno != 0) {
			hk_err_set("%s/state.conf: arl.last-number \"%s\" is "
			    "not a number; no ARL removed", c->ca->st->dir, lv);
			return HK_ERR_STATE;
		}
	}
	for (n = first; n <= last; n++) {
		if (n <= kept_to) {
			kept++;
			continue;
		}
		if ((r = arl_path(c, n, path, sizeof(path))) != 0 ||
		    (r = remove_left(c, path, "crl.remove", who, path, "an ARL "
		    "no arl-commit took over, ", &was_gone)) != 0)
			return r;
		if (was_gone)
			gone++;
		else
			removed++;
	}
	what[0] = '\0';
	if (kept > 0)
		off += (size_t)snprintf(what + off, len - off, "kept %u "
		    "(committed: arl.last-number = %s)", kept, lv);
	if (removed > 0 && off < len)
		off += (size_t)snprintf(what + off, len - off, "%sremoved %u",
		    off ? ", " : "", removed);
	if (gone > 0 && off < len)
		snprintf(what + off, len - off, "%snot there %u", off ? ", " :
		    "", gone);
	return 0;
}

int
hk_cer_recover(struct hk_cer *c, const char *who, char *detail, size_t len)
{
	struct hk_issued *reg = NULL;
	const char *label = hk_state_get(c->ca->st, "token.label");
	char uri[512], path[4096];
	size_t off = 0;
	int i, r;

	detail[0] = '\0';
	if ((r = hk_issued_load(c->ca->st->dir, &reg)) != 0)
		return r;
	off = (size_t)snprintf(detail, len, "leftovers of a run "
	    "that ended without its undo (%s: %s):", HK_JOURNAL_FILE,
	    *c->jold_run ? c->jold_run : "?");
	/* every entry, also when detail is full (it is then cut) */
	for (i = 0; i < c->njold; i++) {
		const char *v = c->jold[i].v;
		const char *what = "";
		char arlwhat[160];

		if (c->jold[i].arl) {
			if ((r = recover_arls(c, v, who, arlwhat,
			    sizeof(arlwhat))) != 0)
				goto out;
			what = arlwhat;
		} else if (committed(c->ca->st, reg, c->jold[i].key, v)) {
			what = "kept (committed: named by state.conf or "
			    "issued.txt)";
		} else if (c->jold[i].key) {
			struct hk_p11_key_attrs at;
			if ((r = hk_p11_uri(label ? label : "",
			    (const unsigned char *)v, strlen(v), uri,
			    sizeof(uri))) != 0)
				goto out;
			/* looked up in a session of its own: libp11's list
			 * of keys (hk_token_key) would keep the handle of the
			 * key destroyed here for the key made after it */
			r = hk_token_key_attrs(c->ca->tok, uri, &at);
			if (r == HK_ERR_NOT_FOUND) {
				hk_err_clear();
				what = "not in the token (nothing to remove)";
			} else if (r != 0) {
				goto out;
			} else {
				if ((r = hk_token_key_destroy(c->ca->tok,
				    (const unsigned char *)v,
				    strlen(v))) != 0 ||
				    (r = hk_ca_audit(c->ca, "key.destroy", "ok",
				    who, "%s removed from the token: left by "
				    "a ceremony run that ended without its "
				    "undo (%s)", v, c->jold_run)) != 0)
					goto out;
				what = "destroyed";
			}
		} else {
			int was_gone;

			if ((r = hk_state_path(c->ca->st, v, path,
			    sizeof(path))) != 0 || (r = remove_left(c, path,
			    "cert.remove", who, v, "", &was_gone)) != 0)
				goto out;
			what = was_gone ? "not there (nothing to remove)" :
			    "removed";
		}
		if (off < len)
			off += (size_t)snprintf(detail + off, len - off,
			    "%s %s%s %s", i ? ";" : "", c->jold[i].key ?
			    "key " : c->jold[i].arl ? "arl " : "", v, what);
	}
	if (c->njold == 0 && off < len)
		snprintf(detail + off, len - off, " nothing named");
	if (off >= len)
		detail[len - 1] = '\0';
	r = 0;
out:
	hk_issued_free(reg);
	return r;
}

int
hk_cer_journal_recovered(struct hk_cer *c)
{
	c->njold = 0;
	c->jold_run[0] = '\0';
	c->jpending = 0;
	return journal_write(c);
}

/* Remove the journal once the recovery is recorded. */
int
hk_cer_journal_remove(const char *state_dir)
{
	char path[4096];
	int r;

	if ((r = hk_journal_path(state_dir, path, sizeof(path))) != 0)
		return r;
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			return 0;
		hk_err_set("%s: cannot remove: %s", path, strerror(errno));
		return HK_ERR_IO;
	}
	if (hk_dir_sync(path) != 0) {
		hk_err_set("%s: folder not synced after the removal: %s", path,
		    strerror(errno));
		return HK_ERR_IO;
	}
	return 0;
}

int
hk_cer_journal_show(const char *state_dir, FILE *out)
{
	struct hk_journal *j;
	size_t i;
	int r;

	if (!hk_cer_journal_pending(state_dir))
		return 0;
	if (hk_cer_run_busy(state_dir)) {
		fprintf(out, "  ceremony:      RUNNING: a ceremony run holds the "
		    "state folder's lock; %s/%s is its own journal, nothing "
		    "waits\n", state_dir, HK_JOURNAL_FILE);
		return 0;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return HK_ERR_ALLOC;
	r = journal_load(state_dir, j);
	fprintf(out, "  leftovers:     WAITING: a ceremony run ended without "
	    "its undo (killed, power cut, crash): %s/%s\n", state_dir,
	    HK_JOURNAL_FILE);
	if (r != 0)
		fprintf(out, "                 unreadable: %s\n", hk_err_msg());
	else {
		fprintf(out, "                 run: %s\n", *j->ceremony ?
		    j->ceremony : "?");
		for (i = 0; i < j->n; i++)
			fprintf(out, "                 may be left: %s %s\n",
			    entry_word(&j->e[i]), j->e[i].v);
		fprintf(out, "                 the next ceremony run with "
		    "quorum-activate removes what nothing committed names "
		    "(docs/ceremonies.md \"Killed runs\")\n");
	}
	free(j);
	return r;
}

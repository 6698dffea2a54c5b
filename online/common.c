/*
 * common.c - the helpers of hanko-online's subcommands: options, the state
 * folder, the token login from the PIN file, audit records, the store key,
 * the issuing CA's certificates and requests, the reader's trust.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "atomic.h"
#include "audit.h"
#include "bundle.h"
#include "cert.h"
#include "clock.h"
#include "csr.h"
#include "err.h"
#include "logev.h"
#include "hex.h"
#include "issued.h"
#include "name.h"
#include "online.h"
#include "repo.h"
#include "profile.h"
#include "profile_accept.h"
#include "secmem.h"

const char *
hk_online_opt_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc || argv[*i + 1][0] == '\0') {
		hk_err_set("%s: needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

int
hk_online_common_opt(struct hk_online_opts *o, int argc, char **argv,
    int *i, int *r)
{
	*r = 0;
	if (strcmp(argv[*i], "--state") == 0) {
		*r = hk_opt_once(&o->state, argc, argv, i);
		return 1;
	}
	if (strcmp(argv[*i], "--clock") == 0) {
		*r = hk_opt_once(&o->clock, argc, argv, i);
		return 1;
	}
	return 0;
}

/* Name k of n into buf: "A", ", B" or " and C". */
static void
name_add(char *buf, size_t len, const char *name, size_t k, size_t n)
{
	size_t l = strlen(buf);

	snprintf(buf + l, len - l, "%s%s", k == 0 ? "" : k + 1 == n ?
	    " and " : ", ", name);
}

/* "--state, --a and OPERAND": the required names, into buf. */
static void
required_list(const struct hk_online_arg *args,
    const struct hk_online_operand *operand, char *buf, size_t len)
{
	const struct hk_online_arg *a;
	size_t n = 1 + (operand != NULL), k = 0;

	for (a = args; a != NULL && a->name != NULL; a++)
		n += a->required != 0;
	buf[0] = '\0';
	name_add(buf, len, "--state", k++, n);
	for (a = args; a != NULL && a->name != NULL; a++)
		if (a->required)
			name_add(buf, len, a->name, k++, n);
	if (operand != NULL)
		name_add(buf, len, operand->name, k++, n);
}

/* "--name N": a decimal number within the option's range. */
static int
num_opt(const struct hk_online_arg *a, int argc, char **argv, int *i)
{
	const char *v;
	char *end;
	long n;

	if ((v = hk_online_opt_value(argc, argv, i)) == NULL)
		return HK_ERR_USAGE;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *v < '0' || *v > '9' || *end != '\0' || n < a->lo ||
	    n > a->hi) {
		if (a->rule != NULL)
			hk_err_set("%s %s: %s", a->name, v, a->rule);
		else
			hk_err_set("%s %s: a number from %ld to %ld", a->name,
			    v, a->lo, a->hi);
		return HK_ERR_USAGE;
	}
	*a->num = (int)n;
	return 0;
}

int
hk_online_parse(struct hk_online_opts *o, int argc, char **argv,
    const char *usage, const struct hk_online_arg *args,
    const struct hk_online_operand *operand)
{
	const struct hk_online_arg *a;
	char names[512];
	const char *seen[HK_ONLINE_MAX_ARGS] = { NULL };	/* each once */
	size_t k;
	int i, r, missing;

	for (a = args, k = 0; a != NULL && a->name != NULL; a++)
		if (++k > HK_ONLINE_MAX_ARGS) {
			hk_err_set("%s: more than %d options in the command's "
			    "table", a->name, HK_ONLINE_MAX_ARGS);
			return HK_ERR_INTERNAL;
		}
	for (i = 1; i < argc; i++) {
		if (hk_online_common_opt(o, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 1;
		}
		for (a = args; a != NULL && a->name != NULL; a++)
			if (strcmp(argv[i], a->name) == 0)
				break;
		if (a != NULL && a->name != NULL) {
			k = (size_t)(a - args);
			if (seen[k] != NULL && a->flag != NULL)
				return hk_err_twice(a->name, NULL, NULL);
			if (seen[k] != NULL) {
				if (i + 1 >= argc || argv[i + 1][0] == '\0') {
					hk_err_set("%s: needs a value",
					    a->name);
					return HK_ERR_USAGE;
				}
				return hk_err_twice(a->name, seen[k],
				    argv[i + 1]);
			}
			if (a->flag != NULL)
				*a->flag = 1;
			else if (a->num != NULL) {
				if ((r = num_opt(a, argc, argv, &i)) != 0)
					return r;
			} else if ((*a->value = hk_online_opt_value(argc, argv,
			    &i)) == NULL)
				return HK_ERR_USAGE;
			seen[k] = argv[i];
		} else if (operand == NULL) {
			hk_err_set("%s: unknown argument (see --help)",
			    argv[i]);
			return HK_ERR_USAGE;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			hk_err_set("%s: unknown option (see --help)", argv[i]);
			return HK_ERR_USAGE;
		} else if (*operand->value != NULL) {
			hk_err_set("%s: one %s only", argv[i], operand->what);
			return HK_ERR_USAGE;
		} else
			*operand->value = argv[i];
	}
	missing = o->state == NULL || (operand != NULL &&
	    *operand->value == NULL);
	for (a = args; a != NULL && a->name != NULL; a++)
		missing |= a->required && a->value != NULL && *a->value == NULL;
	if (missing) {
		required_list(args, operand, names, sizeof(names));
		hk_err_set("%s %s required (see --help)", names,
		    strchr(names, ' ') != NULL ? "are" : "is");
		return HK_ERR_USAGE;
	}
	return 0;
}

int
hk_online_common_parse(struct hk_online_opts *o, int argc, char **argv,
    const char *usage)
{
	memset(o, 0, sizeof(*o));
	return hk_online_parse(o, argc, argv, usage, NULL, NULL);
}

int
hk_online_clock(const char *clock, int rehearsal)
{
	time_t t;

	if (clock == NULL)
		return 0;
	if (!rehearsal) {
		hk_err_set("--clock %s: the clock may be set only in a "
		    "rehearsal", clock);
		return HK_ERR_USAGE;
	}
	if (hk_time_parse(clock, &t) != 0) {
		hk_err_set("--clock %s: expected YYYY-MM-DDTHH:MM:SSZ", clock);
		return HK_ERR_USAGE;
	}
	hk_clock_set(t);
	return 0;
}

int
hk_online_path(const struct hk_online *on, const char *rel, char *buf,
    size_t len)
{
	return hk_state_path(on->st, rel, buf, len);
}

struct upgrade_rec {
	struct hk_online *on;
	const char *path, *id;
	int from;			/* the version upgraded */
	uint64_t keys, unread;		/* schema 9: keys recorded, not */
};

/* What the upgrade of a store of schema 7 does (the rest of a schema 6
 * store's upgrade too). */
#define UPGRADE_OCSP "the responder of each pre-signed OCSP response " \
	"recorded from now on (the next ocsp-refresh signs every stored " \
	"response again)"

/* What the upgrade of a store of schema 8 does (and of 6 and 7 after the
 * rest) into buf: the keys of the certificates revoked keyCompromise. */
static const char *
upgrade_keys(const struct upgrade_rec *u, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "the keys of the %" PRIu64 " certificates "
	    "revoked key-compromise recorded in compromised_keys (issue "
	    "refuses them, CPS 4-4-2-5)", u->keys);
	if (u->unread > 0 && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "; %" PRIu64 " revoked "
		    "key-compromise whose certificate does not decode, not "
		    "recorded (hanko-online check names them)", u->unread);
	return buf;
}

/* The audit record of a store's upgrade, in its transaction. */
static int
upgrade_record(void *arg, int from, uint64_t keys, uint64_t unread)
{
	struct upgrade_rec *u = arg;
	char k[400];
	int r;

	u->from = from;
	u->keys = keys;
	u->unread = unread;
	upgrade_keys(u, k, sizeof(k));
	if (from == 6)
		r = hk_online_audit(u->on, "store.upgrade", "ok", "%s: schema "
		    "6 -> %d: store id %s of state.conf recorded in it (a store "
		    "of schema 6 has none, so this first run could not tell "
		    "whose it is); " UPGRADE_OCSP "; %s", u->path,
		    HK_STORE_SCHEMA, u->id, k);
	else if (from == 7)
		r = hk_online_audit(u->on, "store.upgrade", "ok", "%s: schema "
		    "%d -> %d: " UPGRADE_OCSP "; %s", u->path, from,
		    HK_STORE_SCHEMA, k);
	else
		r = hk_online_audit(u->on, "store.upgrade", "ok", "%s: schema "
		    "%d -> %d: %s", u->path, from, HK_STORE_SCHEMA, k);
	if (r != 0) {
		hk_err_set("%s: schema %d -> %d: the audit record cannot be "
		    "appended (%s): not upgraded, nothing changed", u->path,
		    from, HK_STORE_SCHEMA, u->on->audit_log);
		return HK_ERR_IO;
	}
	return 0;
}

/*
 * store.db must be this state's (docs/store.md, "The store id"): its store
 * id (meta store.id, made by init) is state.conf's store.id, else
 * HK_ERR_STATE naming both files and both ids, before anything is
 * written. A store of schema 6, made before stores had an id, gets this
 * state's on its first run, audited (store.upgrade) and said on stderr;
 * it and a store of schema 7 get the column that records each OCSP
 * response's responder (schema 8) the same way, and those and a store of
 * schema 8 the table of the compromised keys (schema 9). What a peek cannot read (no store.db, a damaged one, another
 * version) is left to the command's own open of the store, which names it
 * as before; a command that never opens the store goes on.
 */
/* The id peeked from store.db (path) is state.conf's (conf, want). */
static int
store_id_matches(const char *path, const char *conf, const char *want,
    const char *id)
{
	if (id[0] == '\0') {
		hk_err_set("%s: no store id (meta store.id, recorded by init): "
		    "not this state's store (%s store.id %s); put this state's "
		    "own store.db back (docs/store.md)", path, conf, want);
		return HK_ERR_STATE;
	}
	if (strcmp(id, want) != 0) {
		hk_err_set("%s: store id %s is not this state's (%s store.id "
		    "%s): a store.db of another state; put this state's own "
		    "back (docs/store.md), nothing changed", path, id, conf,
		    want);
		return HK_ERR_STATE;
	}
	return 0;
}

static int
store_check(struct hk_online *on)
{
	char path[4096], conf[4096], id[HK_STORE_ID_LEN + 8];
	const char *want = hk_state_get(on->st, "store.id");
	struct upgrade_rec u;
	int r, schema, done = 0;

	if ((r = hk_online_path(on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 ||
	    (r = hk_online_path(on, "state.conf", conf, sizeof(conf))) != 0)
		return r;
	if ((r = hk_store_peek(path, &schema, id, sizeof(id))) != 0) {
		/* a store that cannot be read (the medium) is not skipped:
		 * its id went unchecked, another state's store taken */
		if (r == HK_ERR_IO)
			return r;
		hk_err_clear();
		return 0;
	}
	if (schema < HK_STORE_SCHEMA_OLDEST || schema > HK_STORE_SCHEMA)
		return 0;
	/* read only (status): a store of schema 6 to 8 is left to the next
	 * command that writes, and refused by the read-only open */
	if (schema != HK_STORE_SCHEMA && on->read_only)
		return 0;
	if (want == NULL) {
		hk_err_set("%s: store.id missing (%s: store id %s)", conf, path,
		    id[0] ? id : "none");
		return HK_ERR_STATE;
	}
	/* a store of schema 7 on has its id: another state's is refused
	 * before the upgrade writes to it (and the upgrade compares again
	 * under the write lock) */
	if (schema >= 7 && schema < HK_STORE_SCHEMA &&
	    (r = store_id_matches(path, conf, want, id)) != 0)
		return r;
	if (schema < HK_STORE_SCHEMA) {
		char k[400];

		memset(&u, 0, sizeof(u));
		u.on = on;
		u.path = path;
		u.id = want;
		if ((r = hk_store_upgrade(path, want, upgrade_record, &u,
		    &done)) != 0)
			return r;
		if (done)
			upgrade_keys(&u, k, sizeof(k));
		if (done && u.from == 6)
			fprintf(stderr, "hanko-online: %s: schema 6 -> %d: store "
			    "id %s of %s recorded in it; " UPGRADE_OCSP
			    "; %s (audited store.upgrade)\n", path,
			    HK_STORE_SCHEMA, want, conf, k);
		else if (done && u.from == 7)
			fprintf(stderr, "hanko-online: %s: schema %d -> %d: "
			    UPGRADE_OCSP "; %s (audited store.upgrade)\n",
			    path, u.from, HK_STORE_SCHEMA, k);
		else if (done)
			fprintf(stderr, "hanko-online: %s: schema %d -> %d: "
			    "%s (audited store.upgrade)\n", path, u.from,
			    HK_STORE_SCHEMA, k);
		/* done, or another command did it: read what is there now */
		if ((r = hk_store_peek(path, &schema, id, sizeof(id))) != 0)
			return r;
	}
	return store_id_matches(path, conf, want, id);
}

int
hk_online_clock_read(struct hk_online *on, time_t now,
    struct hk_audit_newest *nw, long long *behind)
{
	int r;

	*behind = 0;
	if ((r = hk_audit_newest(on->audit_log, HK_ONLINE_CLOCK_ACCEPT,
	    nw)) != 0)
		return r;
	*behind = (long long)nw->t - (long long)now;
	return 0;
}

void
hk_online_clock_line(const struct hk_online *on, time_t now,
    const struct hk_audit_newest *nw, long long behind, char *buf,
    size_t len)
{
	char t[32];

	hk_time_format(now, t, sizeof(t));
	snprintf(buf, len, "CPS 4-12-2-5: the clock reads %s, %lld s behind "
	    "audit record %" PRIu64 " (%s, %s) of %s, over the %d s "
	    "allowed: the clock was set back, or was ahead when that record "
	    "was written; put it right (timedatectl), or if it was ahead and "
	    "is right now, have the CA manager confirm the time source and "
	    "run hanko-online clock --state %s --accept-set-back --actors "
	    "IDS (docs/clock.md)", t, behind, nw->seq, nw->time, nw->event,
	    nw->closed[0] ? nw->closed : on->audit_log,
	    HK_ONLINE_CLOCK_TOLERANCE, on->st->dir);
}

/* The clock guard of hk_online_open (online.h, docs/clock.md). */
static int
clock_guard(struct hk_online *on, int mode)
{
	struct hk_audit_newest nw;
	char line[HK_ERR_DETAIL_MAX], t[32];
	long long behind;
	time_t now = hk_clock_now();
	int r;

	if (mode == HK_ONLINE_GUARD_NONE)
		return 0;
	if ((r = hk_online_clock_read(on, now, &nw, &behind)) != 0) {
		if (mode == HK_ONLINE_GUARD_REFUSE)
			return r;
		/* the emergency goes on (its own append names a log it
		 * cannot write); the warning and its record say the clock
		 * went unchecked, and why */
		fprintf(stderr, "hanko-online: warning: CPS 4-12-2-5: the "
		    "clock is not checked: the end of the audit log, whose "
		    "newest record the clock guard compares with, cannot be "
		    "read: %s; an issuing-key compromise is never refused for "
		    "the clock (CPS 4-14-2): going on, its audit record says "
		    "so\n", hk_err_msg());
		snprintf(on->clock_note, sizeof(on->clock_note),
		    "clock-unchecked: the end of the audit log could not be "
		    "read (%s): the clock was not checked (CPS 4-12-2-5), not "
		    "refused (CPS 4-14-2)", hk_err_msg());
		hk_err_clear();
		return 0;
	}
	if (behind <= HK_ONLINE_CLOCK_TOLERANCE)
		return 0;
	hk_online_clock_line(on, now, &nw, behind, line, sizeof(line));
	if (mode == HK_ONLINE_GUARD_REFUSE) {
		hk_err_set("%s; nothing signed or recorded", line);
		return HK_ERR_STATE;
	}
	fprintf(stderr, "hanko-online: warning: %s; an issuing-key "
	    "compromise is never refused for the clock (CPS 4-14-2): going "
	    "on, its audit record says so\n", line);
	hk_time_format(now, t, sizeof(t));
	snprintf(on->clock_note, sizeof(on->clock_note), "clock-behind: the "
	    "clock read %s, %lld s behind audit record %" PRIu64 " (%s)%s%s, "
	    "not refused (CPS 4-14-2)", t, behind, nw.seq, nw.time,
	    nw.closed[0] ? " of the closed log " : "", nw.closed);
	return 0;
}

/* [A-Za-z0-9][A-Za-z0-9._-]{0,max-1} */
static int
operator_part_ok(const char *s, size_t n, size_t max)
{
	size_t i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return 0;
	}
	return 1;
}

#define OPERATOR_NAME_MAX	32

int
hk_online_operator(char *buf, size_t len)
{
	const char *e = getenv("HANKO_OPERATOR"), *name = NULL, *at;
	char host[256], uidname[32];
	struct passwd *pw;
	size_t n, room;

	if (e != NULL) {
		size_t i, el = strlen(e);
		int printable = 1;

		at = strchr(e, '@');
		if ((at == NULL && operator_part_ok(e, el,
		    OPERATOR_NAME_MAX)) || (at != NULL &&
		    operator_part_ok(e, (size_t)(at - e), OPERATOR_NAME_MAX) &&
		    operator_part_ok(at + 1, strlen(at + 1),
		    HK_ONLINE_OPERATOR_MAX) && el <= HK_ONLINE_OPERATOR_MAX)) {
			if (at != NULL) {
				snprintf(buf, len, "%s", e);
				return 0;
			}
			name = e;
		} else {
			for (i = 0; i < el && printable; i++)
				printable = e[i] >= 0x21 && e[i] <= 0x7e;
			hk_err_set("HANKO_OPERATOR=%s: must be NAME or "
			    "NAME@SYSTEM, each [A-Za-z0-9][A-Za-z0-9._-]*, NAME "
			    "at most %d bytes and the whole at most %d (the "
			    "actor of the audit records, CPS 4-11-2); nothing "
			    "done", printable ? e : "(not printable ASCII)",
			    OPERATOR_NAME_MAX, HK_ONLINE_OPERATOR_MAX);
			return HK_ERR_USAGE;
		}
	}
	/* the person who logged in (also under sudo or su); in cron or a
	 * systemd service there is none: the user the run is */
	if (name == NULL && ((name = getlogin()) == NULL ||
	    !operator_part_ok(name, strlen(name), OPERATOR_NAME_MAX))) {
		pw = getpwuid(getuid());
		name = pw != NULL ? pw->pw_name : NULL;
		if (name == NULL || !operator_part_ok(name, strlen(name),
		    OPERATOR_NAME_MAX)) {
			snprintf(uidname, sizeof(uidname), "uid%lu",
			    (unsigned long)getuid());
			name = uidname;
		}
	}
	/* the system: the host name up to its first dot, cut to fit */
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	n = strlen(name);
	room = HK_ONLINE_OPERATOR_MAX - n - 1;
	if (strlen(host) > room)
		host[room] = '\0';
	if (!operator_part_ok(host, strlen(host), room))
		snprintf(host, sizeof(host), "unknown-host");
	snprintf(buf, len, "%s@%s", name, host);
	return 0;
}

int
hk_online_open(const struct hk_online_opts *o, struct hk_online **out)
{
	struct hk_online *on;
	const char *kind, *reh;
	int r;

	*out = NULL;
	if (o->state == NULL) {
		hk_err_set("--state DIR is required");
		return HK_ERR_USAGE;
	}
	if ((on = calloc(1, sizeof(*on))) == NULL)
		return HK_ERR_ALLOC;
	on->state_lockfd = -1;
	on->read_only = o->read_only;
	if ((r = hk_online_operator(on->operator, sizeof(on->operator))) != 0 ||
	    (r = hk_state_load(o->state, &on->st)) != 0)
		goto fail;
	kind = hk_state_get(on->st, "kind");
	if (kind == NULL || strcmp(kind, "online") != 0) {
		hk_err_set("%s/state.conf: kind: not an online state folder "
		    "(made by hanko-online init)", o->state);
		r = HK_ERR_STATE;
		goto fail;
	}
	reh = hk_state_get(on->st, "rehearsal");
	if ((r = hk_online_clock(o->clock, reh != NULL &&
	    strcmp(reh, "yes") == 0)) != 0 ||
	    (r = hk_online_path(on, "audit/audit.log", on->audit_log,
	    sizeof(on->audit_log))) != 0 ||
	    (r = clock_guard(on, o->clock_guard)) != 0 ||
	    (r = store_check(on)) != 0)
		goto fail;
	*out = on;
	return 0;
 fail:
	hk_online_close(on);
	return r;
}

/* The PIN file: a regular file of ours, mode 0600 exactly, one line. */
static int
read_pin(const char *path, char **pin)
{
	struct stat sb;
	ssize_t n;
	char *p;
	int fd, r = HK_ERR_IO;

	*pin = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		hk_err_set("%s: cannot open the token PIN file: %s", path,
		    strerror(errno));
		return errno == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_IO;
	}
	/* a stat or read that fails is the medium's failure (exit 8), not
	 * a PIN file of the wrong kind or an empty one (exit 3) */
	if (fstat(fd, &sb) != 0) {
		hk_err_set("%s: cannot stat the token PIN file: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		hk_err_set("%s: the token PIN file must be a regular file",
		    path);
		r = HK_ERR_STATE;
		goto out;
	}
	if ((sb.st_mode & 07777) != 0600 || sb.st_uid != geteuid()) {
		hk_err_set("%s: mode %04o owner %u: the token PIN file must "
		    "be mode 0600 and owned by the service user (%u)", path,
		    (unsigned)(sb.st_mode & 07777), (unsigned)sb.st_uid,
		    (unsigned)geteuid());
		r = HK_ERR_STATE;
		goto out;
	}
	if ((p = hk_secret_alloc(129)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	while ((n = read(fd, p, 128)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		hk_err_set("%s: cannot read the token PIN file: %s", path,
		    strerror(errno));
		hk_secret_free(p);
		goto out;
	}
	if (n == 0 || memchr(p, '\n', (size_t)n) == NULL) {
		hk_err_set("%s: the token PIN file must hold one line", path);
		hk_secret_free(p);
		r = HK_ERR_STATE;
		goto out;
	}
	*strchr(p, '\n') = '\0';
	*pin = p;
	r = 0;
 out:
	close(fd);
	return r;
}

int
hk_online_login(struct hk_online *on)
{
	const char *label = hk_state_get(on->st, "token.label");
	const char *module = hk_state_get(on->st, "token.module");
	const char *emb = hk_state_get(on->st, "token.embedded");
	struct hk_p11_cfg cfg = { NULL, NULL };
	char conf[4096], pinpath[4096];
	char *pin = NULL;
	int r;

	if (on->tok != NULL)
		return 0;
	if (label == NULL || module == NULL) {
		hk_err_set("%s/state.conf: token.label and token.module are "
		    "required", on->st->dir);
		return HK_ERR_STATE;
	}
	if (emb != NULL && strcmp(emb, "yes") == 0) {
		if ((r = hk_online_path(on, "token/softhsm2.conf", conf,
		    sizeof(conf))) != 0 || (r = hk_softhsm_conf_check(conf)) != 0)
			return r;
		cfg.softhsm_conf = conf;
	} else
		cfg.module = module;
	if ((r = hk_online_path(on, HK_ONLINE_PIN_FILE, pinpath,
	    sizeof(pinpath))) != 0 || (r = read_pin(pinpath, &pin)) != 0)
		return r;
	if ((r = hk_token_open(&cfg, label, &on->tok)) == 0 &&
	    (r = hk_token_login(on->tok, pin)) != 0) {
		hk_token_close(on->tok);
		on->tok = NULL;
	}
	hk_secret_free(pin);
	return r;
}

/* The test hook of docs/audit-log.md: HANKO_FAIL_AUDIT_AT=EVENT fails
 * every record of EVENT, on rehearsal states only (as hanko-offline's). */
static int
forced_failure(struct hk_online *on, const char *event)
{
	const char *f = getenv("HANKO_FAIL_AUDIT_AT");
	const char *rh = hk_state_get(on->st, "rehearsal");

	return f != NULL && rh != NULL && strcmp(rh, "yes") == 0 &&
	    strcmp(f, event) == 0;
}

/* hk_online_audit and hk_online_audit_by: the record of actors. */
static int online_vaudit(struct hk_online *, const char *, const char *,
    const char *, const char *, va_list) __attribute__((format(printf, 5, 0)));

static int
online_vaudit(struct hk_online *on, const char *actors, const char *event,
    const char *result, const char *fmt, va_list ap)
{
	char details[HK_AUDIT_DETAILS_MAX];
	struct hk_err_kept keep;
	int r;

	vsnprintf(details, sizeof(details), fmt, ap);
	hk_err_keep(&keep);
	if (forced_failure(on, event)) {
		hk_err_set("append failed: forced by HANKO_FAIL_AUDIT_AT "
		    "(rehearsal test)");
		r = HK_ERR_IO;
	} else
		r = hk_audit_append(on->audit_log, event, result, actors,
		    details);
	if (r != 0)
		fprintf(stderr, "hanko-online: %s: cannot append %s: %s\n",
		    on->audit_log, event, hk_err_msg());
	/* A record of a failure keeps the failure's message for its caller;
	 * the failed append of any other record is what stops its caller,
	 * so that is the message, not whatever an earlier lookup left */
	if (r != 0 && strcmp(result, "fail") != 0) {
		char why[HK_ERR_DETAIL_MAX];

		snprintf(why, sizeof(why), "%s", hk_err_msg());
		hk_err_set("%s: cannot append %s: %s", on->audit_log, event,
		    why);
	} else
		hk_err_restore(&keep);
	return r;
}

int
hk_online_audit(struct hk_online *on, const char *event, const char *result,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = online_vaudit(on, on->operator, event, result, fmt, ap);
	va_end(ap);
	return r;
}

int
hk_online_audit_by(struct hk_online *on, const char *actors,
    const char *event, const char *result, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = online_vaudit(on, actors, event, result, fmt, ap);
	va_end(ap);
	return r;
}

int
hk_online_audit_verify(struct hk_online *on, struct hk_audit_report *rep)
{
	const char *uri = hk_state_get(on->st, "audit.key-uri");
	EVP_PKEY *pub = NULL;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (uri == NULL) {
		hk_err_set("%s/state.conf: audit.key-uri missing",
		    on->st->dir);
		return HK_ERR_STATE;
	}
	if ((r = hk_token_key(on->tok, uri, NULL, &pub)) != 0)
		return r;
	r = hk_audit_verify(on->audit_log, pub, rep);
	EVP_PKEY_free(pub);
	return r == 0 ? 0 : HK_ERR_AUDIT;
}

int
hk_online_logs_open(struct hk_online *on, const struct hk_audit_report *rep,
    const char *prog, struct hk_logev_logs *L)
{
	EVP_PKEY *pub = NULL;
	int r;

	if ((r = hk_token_key(on->tok, hk_state_get(on->st, "audit.key-uri"),
	    NULL, &pub)) != 0)
		return r;
	r = hk_logev_logs_open(L, on->audit_log, rep, pub, prog);
	EVP_PKEY_free(pub);
	return r;
}

int
hk_online_checkpoint(struct hk_online *on)
{
	const char *uri = hk_state_get(on->st, "audit.key-uri");
	EVP_PKEY *priv = NULL;
	int r;

	if (uri == NULL) {
		hk_err_set("%s/state.conf: audit.key-uri missing",
		    on->st->dir);
		return HK_ERR_STATE;
	}
	if ((r = hk_online_login(on)) != 0 ||
	    (r = hk_token_key(on->tok, uri, &priv, NULL)) != 0)
		return r;
	r = hk_audit_checkpoint(on->audit_log, priv, "audit-1");
	EVP_PKEY_free(priv);
	return r;
}

void
hk_online_checkpoint_keep_err(struct hk_online *on)
{
	struct hk_err_kept keep;

	hk_err_keep(&keep);
	if (hk_online_checkpoint(on) != 0)
		fprintf(stderr, "hanko-online: %s: no checkpoint: %s\n",
		    on->audit_log, hk_err_msg());
	hk_err_restore(&keep);
}

int
hk_online_unrecorded(const char *done, const char *what, const char *lost,
    const char *record)
{
	hk_err_set("%s but %s not in the audit log (%s): hand this line to "
	    "the internal auditor, who records %s in the ceremony record",
	    done, what, lost, record);
	return HK_ERR_AUDIT;
}

void
hk_online_close(struct hk_online *on)
{
	if (on == NULL)
		return;
	if (on->tok != NULL) {
		(void)hk_token_logout(on->tok);
		hk_token_close(on->tok);
	}
	hk_state_free(on->st);
	if (on->state_lockfd >= 0)
		close(on->state_lockfd);
	free(on);
}

int
hk_online_store_key_checked(struct hk_online *on, unsigned char **key)
{
	const char *sid = hk_state_get(on->st, "store.id");
	const char *suri = hk_state_get(on->st, "store.key-uri");
	const char *check = hk_state_get(on->st, "store.key-check");
	unsigned char mac[32];
	unsigned int ml = 0;
	char hex[64];
	int r;

	*key = NULL;
	if (sid == NULL || suri == NULL || check == NULL) {
		hk_err_set("%s/state.conf: store.id, store.key-uri and "
		    "store.key-check are required", on->st->dir);
		return HK_ERR_STATE;
	}
	if ((r = hk_online_login(on)) != 0 ||
	    (r = hk_online_store_key(on->tok, suri, sid, key)) != 0)
		return r;
	HMAC(EVP_sha256(), *key, HK_STORE_HMAC_KEY_LEN,
	    (const unsigned char *)"check", 5, mac, &ml);
	hk_hex_encode(mac, 16, hex);
	OPENSSL_cleanse(mac, sizeof(mac));
	if (strcmp(hex, check) != 0) {
		hk_err_set("%s/state.conf: store.key-check: the token's store "
		    "key is not the one this store was made with", on->st->dir);
		hk_secret_free(*key);
		*key = NULL;
		return HK_ERR_STATE;
	}
	return 0;
}

int
hk_online_store_key(struct hk_token *tok, const char *key_uri,
    const char *store_id, unsigned char **key)
{
	static const char label[] = "hanko-online store key v1";
	EVP_PKEY *priv = NULL;
	EVP_MD_CTX *ctx = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char msg[256];
	EVP_MD_CTX *h = NULL;
	unsigned int hl = 0;
	int r = HK_ERR_CRYPTO, n;

	*key = NULL;
	n = snprintf(msg, sizeof(msg), "%s %s", label, store_id);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return HK_ERR_INVALID;
	if ((r = hk_token_key(tok, key_uri, &priv, NULL)) != 0)
		return r;
	r = HK_ERR_CRYPTO;
	/* RSA PKCS#1 v1.5 is deterministic: the same signature (a secret
	 * never published) every time. */
	if (EVP_PKEY_get_base_id(priv) != EVP_PKEY_RSA) {
		hk_err_set("%s: the store key must be an RSA key", key_uri);
		r = HK_ERR_STATE;
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, priv) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, (unsigned char *)msg,
	    (size_t)n) != 1 || (sig = hk_secret_alloc(siglen)) == NULL ||
	    EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)msg,
	    (size_t)n) != 1) {
		hk_err_set("%s: cannot derive the store key", key_uri);
		hk_err_add_openssl();
		goto out;
	}
	if ((*key = hk_secret_alloc(HK_STORE_HMAC_KEY_LEN)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if ((h = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(h, label, sizeof(label)) != 1 ||
	    EVP_DigestUpdate(h, sig, siglen) != 1 ||
	    EVP_DigestFinal_ex(h, *key, &hl) != 1 ||
	    hl != HK_STORE_HMAC_KEY_LEN) {
		hk_secret_free(*key);
		*key = NULL;
		goto out;
	}
	r = 0;
 out:
	EVP_MD_CTX_free(h);
	EVP_MD_CTX_free(ctx);
	hk_secret_free(sig);
	EVP_PKEY_free(priv);
	return r;
}

static int
each_issuing(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct hk_online_issuing *l = arg;
	const unsigned char *p = der;
	X509 *x;

	if (l->n == HK_ONLINE_ISSUING_MAX) {
		hk_err_set("store: ca_certs: more than %d issuing "
		    "certificates", HK_ONLINE_ISSUING_MAX);
		return HK_ERR_STATE;
	}
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		X509_free(x);
		hk_err_set("store: ca_certs: a stored issuing certificate does "
		    "not parse");
		return HK_ERR_STATE;
	}
	l->x[l->n] = x;
	l->gen[l->n++] = gen;
	return 0;
}

int
hk_online_issuing_load(struct hk_store *s, struct hk_online_issuing *l)
{
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = hk_store_ca_each(s, HK_CA_ISSUING, each_issuing, l)) != 0)
		hk_online_issuing_free(l);
	return r;
}

void
hk_online_issuing_free(struct hk_online_issuing *l)
{
	while (l->n > 0)
		X509_free(l->x[--l->n]);
}

int
hk_online_issuing_arl(struct hk_store *s, struct hk_online_issuing *l)
{
	struct hk_store_arl a = { 0 };
	STACK_OF(X509_REVOKED) *revs;
	AUTHORITY_KEYID *akid = NULL;
	const ASN1_OCTET_STRING *ck;
	const unsigned char *p;
	X509_CRL *c = NULL;
	uint64_t last;
	int i, j, r;

	l->arl = 0;
	for (i = 0; i < l->n; i++) {
		l->revoked[i] = 0;
		l->reason[i] = -1;
		l->at[i] = 0;
		l->ends[i] = 0;
	}
	if ((r = hk_store_arl_last(s, &last)) != 0 || last == 0)
		return r;
	if ((r = hk_store_arl_get(s, last, &a)) != 0)
		return r;
	p = a.der;
	if ((c = d2i_X509_CRL(NULL, &p, (long)a.len)) == NULL ||
	    p != a.der + a.len) {
		hk_err_set("%s: arls: ARL %" PRIu64 " does not parse: whether "
		    "the root revoked an issuing CA cannot be told",
		    HK_ONLINE_STORE_FILE, last);
		r = HK_ERR_STATE;
		goto out;
	}
	l->arl = last;
	/* the root key that signed the ARL (absent: none matches) */
	akid = X509_CRL_get_ext_d2i(c, NID_authority_key_identifier, NULL,
	    NULL);
	revs = X509_CRL_get_REVOKED(c);
	for (j = 0; j < sk_X509_REVOKED_num(revs); j++) {
		X509_REVOKED *rv = sk_X509_REVOKED_value(revs, j);
		ASN1_ENUMERATED *why;
		time_t t = 0;

		for (i = 0; i < l->n; i++) {
			if (ASN1_INTEGER_cmp(X509_get0_serialNumber(l->x[i]),
			    X509_REVOKED_get0_serialNumber(rv)) != 0 ||
			    X509_NAME_cmp(X509_CRL_get_issuer(c),
			    X509_get_issuer_name(l->x[i])) != 0)
				continue;
			why = X509_REVOKED_get_ext_d2i(rv, NID_crl_reason,
			    NULL, NULL);
			(void)hk_cert_time(X509_REVOKED_get0_revocationDate(rv),
			    &t);
			l->revoked[i] = 1;
			l->reason[i] = why != NULL ?
			    (int)ASN1_ENUMERATED_get(why) : -1;
			l->at[i] = t;
			ASN1_ENUMERATED_free(why);
			/* superseded: the copy replaced; cACompromise of a
			 * copy another root key certified: that root's
			 * compromise, not the issuing CA's (docs/publish.md
			 * "An issuing CA the root revokes") */
			ck = X509_get0_authority_key_id(l->x[i]);
			l->ends[i] = l->reason[i] != 4 && !(l->reason[i] == 2 &&
			    (akid == NULL || akid->keyid == NULL || ck == NULL ||
			    ASN1_OCTET_STRING_cmp(akid->keyid, ck) != 0));
		}
	}
	r = 0;
 out:
	ERR_clear_error();
	AUTHORITY_KEYID_free(akid);
	X509_CRL_free(c);
	hk_store_arl_clear(&a);
	return r;
}

int
hk_online_issuing_stopped(const struct hk_online_issuing *l, EVP_PKEY *pub,
    time_t now, char *buf, size_t len)
{
	char sh[2 * 20 + 1], t[32], rs[48];
	const char *name;
	int i, last = -1, ended = -1, kept = 0;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	for (i = 0; i < l->n; i++) {
		if (EVP_PKEY_eq(pub, X509_get0_pubkey(l->x[i])) != 1)
			continue;
		if (!l->revoked[i] && hk_cert_valid_at(l->x[i], now))
			kept = 1;	/* a valid copy not revoked */
		if (l->revoked[i])
			last = i;	/* oldest first: the latest */
		if (l->revoked[i] && l->ends[i])
			ended = i;	/* whatever the other copies */
	}
	ERR_clear_error();
	if (ended >= 0)
		last = ended;
	else if (kept || last < 0)
		return 0;
	if (buf == NULL || len == 0)
		return 1;
	if (hk_issued_serial_hex(l->x[last], sh, sizeof(sh)) != 0)
		snprintf(sh, sizeof(sh), "?");
	ERR_clear_error();
	hk_time_format(l->at[last], t, sizeof(t));
	name = hk_revreq_reason_name(l->reason[last]);
	if (l->reason[last] < 0)
		snprintf(rs, sizeof(rs), "no reason given");
	else if (name != NULL)
		snprintf(rs, sizeof(rs), "%s", name);
	else
		snprintf(rs, sizeof(rs), "reason %d", l->reason[last]);
	snprintf(buf, len, "ARL %" PRIu64 " revokes issuing CA %d's "
	    "certificate serial %s (%s, revoked %s)", l->arl, l->gen[last], sh,
	    rs, t);
	return 1;
}

int
hk_online_issuing_refuse(const char *stopped)
{
	hk_err_set("%s: %s: CPS 4-14-2: the root has revoked this issuing CA: "
	    "nothing is issued or certified under it (publish goes on with "
	    "its CRLs); make the next issuing generation: hanko-online "
	    "request --type csr, the issue-subca ceremony, hanko-online "
	    "import", HK_ONLINE_STORE_FILE, stopped);
	return HK_ERR_STATE;
}

int
hk_online_gen_issuer(struct hk_online *on, const struct hk_online_issuing *l,
    int gen, time_t now, X509 **x, EVP_PKEY **key)
{
	EVP_PKEY *pub = NULL;
	X509 *best = NULL;
	const char *uri;
	char k[64];
	int i, r, bi = 0;

	*x = NULL;
	if (key != NULL)
		*key = NULL;
	snprintf(k, sizeof(k), "issuing.%d.key-uri", gen);
	if ((uri = hk_state_get(on->st, k)) == NULL) {
		hk_err_set("%s/state.conf: %s: no key of issuing generation %d",
		    on->st->dir, k, gen);
		return HK_ERR_NOT_FOUND;
	}
	if ((r = hk_token_key(on->tok, uri, NULL, &pub)) != 0)
		return r;
	for (i = 0; i < l->n; i++)
		if (l->gen[i] == gen && EVP_PKEY_eq(pub,
		    X509_get0_pubkey(l->x[i])) == 1 &&
		    hk_cert_valid_at(l->x[i], now) &&
		    (best == NULL || !l->revoked[i] || l->revoked[bi])) {
			best = l->x[i];		/* oldest first: latest wins, */
			bi = i;			/* one not revoked first */
		}
	EVP_PKEY_free(pub);
	ERR_clear_error();
	if (best == NULL)
		return 0;
	if (key != NULL && (r = hk_token_key(on->tok, uri, key, NULL)) != 0)
		return r;
	if (X509_up_ref(best) != 1) {
		if (key != NULL) {
			EVP_PKEY_free(*key);
			*key = NULL;
		}
		return HK_ERR_ALLOC;
	}
	*x = best;
	return 0;
}

int
hk_online_issue_lock(struct hk_online *on, int *fd)
{
	if ((*fd = open(on->st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
	    0) {
		hk_err_set("%s: cannot open: %s", on->st->dir,
		    strerror(errno));
		return HK_ERR_IO;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	hk_err_set("%s: a hanko-online issue is running on this state (flock: "
	    "%s)", on->st->dir, strerror(errno));
	close(*fd);
	*fd = -1;
	return HK_ERR_STATE;
}

int
hk_online_issue_lock_wait(struct hk_online *on, int *fd)
{
	if (hk_online_issue_lock(on, fd) == 0)
		return 0;
	hk_err_clear();
	if ((*fd = open(on->st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
	    0) {
		hk_err_set("%s: cannot open: %s", on->st->dir,
		    strerror(errno));
		return HK_ERR_IO;
	}
	fprintf(stderr, "hanko-online: %s: a hanko-online issue is running on "
	    "this state: waiting for it to end\n", on->st->dir);
	while (flock(*fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		hk_err_set("%s: flock: %s", on->st->dir, strerror(errno));
		close(*fd);
		*fd = -1;
		return HK_ERR_IO;
	}
	return 0;
}

int
hk_online_mark_put(struct hk_online *on, int gen, const char *kid, time_t t,
    int *made)
{
	char label[48], val[HK_P11_DATA_MAX], when[32];
	int n;

	*made = 0;
	if (on->tok == NULL) {
		hk_err_set("token: the compromise mark needs the login");
		return HK_ERR_INTERNAL;
	}
	snprintf(label, sizeof(label), "issuing.%d.compromised", gen);
	hk_time_format(t, when, sizeof(when));
	n = snprintf(val, sizeof(val), "key id %s, %s", kid, when);
	if (n < 0 || (size_t)n >= sizeof(val))
		return HK_ERR_INTERNAL;
	return hk_token_data_put(on->tok, HK_ONLINE_MARK_APP, label, val,
	    (size_t)n, made);
}

int
hk_online_token_mark(struct hk_online *on, const char *label, char *val,
    size_t len)
{
	size_t k;
	int count, r;

	if (len == 0)
		return HK_ERR_INTERNAL;
	val[0] = '\0';
	r = hk_token_data_get(on->tok, HK_ONLINE_MARK_APP, label, val, len,
	    &count);
	if (r == HK_ERR_NOT_FOUND)
		return 0;
	if (r != 0 && r != HK_ERR_INVALID)
		return r;
	/* a value too long to read is still a mark */
	if (r != 0)
		snprintf(val, len, "%s", "(value unreadable)");
	for (k = 0; val[k] != '\0'; k++)
		if (val[k] < 0x20 || val[k] > 0x7e)
			val[k] = '?';
	return 1;
}

int
hk_online_issuing_marked(struct hk_online *on, int gen, char *when,
    size_t len)
{
	char key[64], val[HK_P11_DATA_MAX];
	const char *v, *c;
	int r;

	snprintf(key, sizeof(key), "issuing.%d.compromised", gen);
	if ((v = hk_state_get(on->st, key)) != NULL) {
		snprintf(when, len, "%s", v);
		return 1;
	}
	if (on->tok == NULL ||
	    (r = hk_online_token_mark(on, key, val, sizeof(val))) == 0)
		return 0;
	if (r < 0)
		return r;
	c = strrchr(val, ' ');
	/* a time is 20 bytes; a longer word is cut, not overrun */
	snprintf(when, len, "%.31s", c != NULL ? c + 1 : val);
	return 1;
}

int
hk_online_mark_lost(struct hk_online *on, int from, int *gen, char *val,
    size_t len)
{
	char label[48];
	int top, g, r;

	*gen = 0;
	if (len > 0)
		val[0] = '\0';
	if (on->tok == NULL) {
		hk_err_set("token: the compromise marks need the login");
		return HK_ERR_INTERNAL;
	}
	if ((r = hk_online_top_gen(on, &top)) != 0)
		return r;
	for (g = from < 1 ? 1 : from; g <= top; g++) {
		snprintf(label, sizeof(label), "issuing.%d.compromised", g);
		if (hk_state_get(on->st, label) != NULL)
			continue;
		if ((r = hk_online_token_mark(on, label, val, len)) < 0)
			return r;
		if (r == 0)
			continue;
		*gen = g;
		return 1;
	}
	if (len > 0)
		val[0] = '\0';
	return 0;
}

int
hk_online_mark_refuse(struct hk_online *on, int gen, const char *val)
{
	const char *label = hk_state_get(on->st, "token.label");

	hk_err_set("token '%s': issuing.%d.compromised (%s), but %s/state.conf "
	    "lacks it (restored from a backup taken before the compromise?): "
	    "CPS 4-14-2: nothing issued; recover the batches issued after "
	    "the backup (hanko-online recover), then the log's revocations, "
	    "which mark it again at the compromise's time: hanko-online "
	    "recover --state %s --revocations (with no cert.revoke-all ok "
	    "record of it in the log: revoke --issuing-key-compromise "
	    "--generation %d) (docs/backup.md \"Restore\", step 9)",
	    label != NULL ? label : "?", gen, val, on->st->dir, on->st->dir,
	    gen);
	return HK_ERR_STATE;
}

int
hk_online_lock_file(struct hk_online *on, const char *name, char *path,
    size_t plen, int *fd, char *holder, size_t hlen)
{
	ssize_t n;
	int e, r;

	*fd = -1;
	if (holder != NULL && hlen > 0)
		holder[0] = '\0';
	if ((r = hk_online_path(on, name, path, plen)) != 0)
		return r;
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0) {
		hk_err_set("%s: cannot open: %s", path, strerror(errno));
		return HK_ERR_IO;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	e = errno;
	if (e == EWOULDBLOCK && holder != NULL && hlen > 0 &&
	    (n = pread(*fd, holder, hlen - 1, 0)) > 0) {
		holder[n] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
	}
	close(*fd);
	*fd = -1;
	if (e == EWOULDBLOCK)
		return HK_ERR_STATE;
	hk_err_set("%s: flock: %s", path, strerror(e));
	return HK_ERR_IO;
}

/* state.lock taken (fd): state.conf read again under it */
static int
state_locked(struct hk_online *on, int fd)
{
	struct hk_state *st;
	int r;

	/* what another writer saved after this run read it */
	if ((r = hk_state_load(on->st->dir, &st)) != 0) {
		close(fd);
		return r;
	}
	hk_state_free(on->st);
	on->st = st;
	on->state_lockfd = fd;
	return 0;
}

#define STATE_LOCK_HELD "another hanko-online command is changing " \
	"state.conf (request, responder, profile accept, import, revoke " \
	"--issuing-key-compromise, or backup copying the state's files and " \
	"store)"

int
hk_online_state_lock(struct hk_online *on)
{
	char path[4096];
	int fd, r;

	if ((r = hk_online_lock_file(on, "state.lock", path, sizeof(path),
	    &fd, NULL, 0)) != 0) {
		if (r == HK_ERR_STATE)
			hk_err_set("%s: " STATE_LOCK_HELD ": run this one "
			    "again once it has ended; nothing changed", path);
		return r;
	}
	return state_locked(on, fd);
}

int
hk_online_state_lock_wait(struct hk_online *on)
{
	char path[4096];
	int fd, r;

	r = hk_online_lock_file(on, "state.lock", path, sizeof(path), &fd,
	    NULL, 0);
	if (r != HK_ERR_STATE)
		return r != 0 ? r : state_locked(on, fd);
	fprintf(stderr, "hanko-online: %s: " STATE_LOCK_HELD ": waiting for "
	    "it to end\n", path);
	if ((r = hk_online_lock_wait(on, "state.lock", &fd)) != 0)
		return r;
	return state_locked(on, fd);
}

int
hk_online_lock_wait(struct hk_online *on, const char *name, int *fd)
{
	char path[4096];
	int r;

	*fd = -1;
	if ((r = hk_online_path(on, name, path, sizeof(path))) != 0)
		return r;
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0) {
		hk_err_set("%s: cannot open: %s", path, strerror(errno));
		return HK_ERR_IO;
	}
	while (flock(*fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		hk_err_set("%s: flock: %s", path, strerror(errno));
		close(*fd);
		*fd = -1;
		return HK_ERR_IO;
	}
	return 0;
}

int
hk_online_profile(struct hk_online *on, struct hk_profile **out)
{
	struct hk_profile_seen seen;
	struct hk_state *st = NULL;
	char accept[4200], path[4096];
	int fd = -1, r;

	snprintf(accept, sizeof(accept), "hanko-online profile accept --state "
	    "%s", on->st->dir);
	if ((r = hk_profile_load_accepted(on->st, accept, out, &seen)) != 0 ||
	    !seen.adopt)
		return r;
	/* A state made before the record, with the profile init was given:
	 * recorded as accepted at init, once, under the lock of state.conf's
	 * writers (docs/profile.md). Held by another: a later run records. */
	if (on->state_lockfd >= 0)
		st = on->st;
	else {
		r = hk_online_lock_file(on, "state.lock", path, sizeof(path),
		    &fd, NULL, 0);
		if (r == HK_ERR_STATE) {
			hk_err_clear();
			return 0;
		}
		if (r != 0 || (r = hk_state_load(on->st->dir, &st)) != 0)
			goto fail;
	}
	if (hk_state_get(st, HK_PROFILE_KEY_SHA) == NULL) {
		/* logged before it is recorded: nothing is accepted that the
		 * log does not hold */
		if ((r = hk_online_audit(on, "profile.adopt", "ok", "%s/%s "
		    "SHA-256 %s: the profile init was given (init.start %s); "
		    "recorded in state.conf as accepted at init", on->st->dir,
		    HK_PROFILE_FILE, seen.hex, seen.at)) != 0 ||
		    (r = hk_profile_record(st, seen.hex, seen.at, "init")) != 0 ||
		    (r = hk_state_save(st)) != 0)
			goto fail;
	}
	if (st != on->st && hk_state_get(on->st, HK_PROFILE_KEY_SHA) == NULL &&
	    (r = hk_profile_record(on->st, seen.hex, seen.at, "init")) != 0)
		goto fail;
	r = 0;
	goto out;
 fail:
	hk_profile_free(*out);
	*out = NULL;
 out:
	if (st != on->st)
		hk_state_free(st);
	if (fd >= 0)
		close(fd);
	return r;
}

int
hk_online_top_gen(struct hk_online *on, int *top)
{
	const char *g = hk_state_get(on->st, "issuing.generation");
	long n = g != NULL ? strtol(g, NULL, 10) : 0;

	*top = 0;
	if (n < 1 || n > HK_CERT_GEN_MAX) {
		hk_err_set("%s/state.conf: issuing.generation: a number from 1 "
		    "to %d is required", on->st->dir, HK_CERT_GEN_MAX);
		return HK_ERR_STATE;
	}
	*top = (int)n;
	return 0;
}

int
hk_online_current_issuer(struct hk_online *on, struct hk_store *s,
    time_t now, X509 **x, int *gen, EVP_PKEY **key)
{
	struct hk_online_issuing l;
	char stopped[512];
	int top, n, r;

	*x = NULL;
	*gen = 0;
	if (key != NULL)
		*key = NULL;
	if ((r = hk_online_top_gen(on, &top)) != 0 ||
	    (r = hk_online_issuing_load(s, &l)) != 0)
		return r;
	if ((r = hk_online_issuing_arl(s, &l)) != 0)
		goto out;
	for (n = top; n >= 1 && *x == NULL; n--) {
		r = hk_online_gen_issuer(on, &l, n, now, x, key);
		if (r == HK_ERR_NOT_FOUND && n < top) {
			hk_err_clear();
			continue;	/* an older key, retired */
		}
		if (r != 0)
			goto out;
		if (*x != NULL)
			*gen = n;
	}
	r = *x == NULL ? hk_online_no_issuer() : 0;
	if (r == 0 && hk_online_issuing_stopped(&l, X509_get0_pubkey(*x), now,
	    stopped, sizeof(stopped))) {
		/* the root's revocation (CPS 4-14-2): no older generation
		 * stands in for it */
		r = hk_online_issuing_refuse(stopped);
		X509_free(*x);
		*x = NULL;
		*gen = 0;
		if (key != NULL) {
			EVP_PKEY_free(*key);
			*key = NULL;
		}
	}
 out:
	hk_online_issuing_free(&l);
	ERR_clear_error();
	return r;
}

int
hk_online_no_issuer(void)
{
	hk_err_set("%s: no imported issuing CA certificate valid now for a "
	    "key of the token (run hanko-online import)",
	    HK_ONLINE_STORE_FILE);
	return HK_ERR_STATE;
}

/* ---- the issuing CA's request (init, request) ---- */

int
hk_online_issuing_subject(const struct hk_profile *p, int gen, int rehearsal,
    X509_NAME **out)
{
	char dn[HK_PROFILE_DN_MAX + 64];

	snprintf(dn, sizeof(dn), "%s, OU=Issuing CA %d",
	    p->issuing_subject_prefix, gen);
	return hk_name_build(dn, rehearsal ? p->rehearsal_marker : NULL, out);
}

int
hk_online_csr_make(const struct hk_profile *p, int gen,
    const X509_NAME *subject, EVP_PKEY *priv, EVP_PKEY *pub,
    hk_online_put_fn put, void *arg, struct hk_online_csr *out)
{
	X509_REQ *req = NULL;
	unsigned char *der = NULL, d[32];
	BIO *bio = NULL;
	char *pem = NULL, rel[32], path[64], line[80];
	long pemlen;
	int len, r = HK_ERR_CRYPTO;

	memset(out, 0, sizeof(*out));
	snprintf(rel, sizeof(rel), "issuing-%d.csr", gen);
	/* OpenSSL returns the signature length (> 0) on success. */
	if ((req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, 0) != 1 ||
	    X509_REQ_set_subject_name(req, subject) != 1 ||
	    X509_REQ_set_pubkey(req, pub) != 1 ||
	    X509_REQ_sign(req, priv, hk_cert_md(p, pub)) <= 0)
		goto crypto;
	if (X509_REQ_verify(req, pub) != 1) {
		hk_err_set("%s: the token's signature does not verify with the "
		    "issuing public key", rel);
		r = HK_ERR_VERIFY;
		goto out;
	}
	if ((r = hk_csr_check(req, rel, subject, &p->issuing_key, 0)) != 0)
		goto out;
	r = HK_ERR_CRYPTO;
	if ((len = i2d_X509_REQ(req, &der)) <= 0 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_REQ(bio, req) != 1 ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0)
		goto crypto;
	SHA256(der, (size_t)len, d);
	hk_hex_encode(d, 32, out->hex);
	hk_fingerprint_colons(d, out->colons);
	snprintf(line, sizeof(line), "%s\n", out->hex);
	snprintf(path, sizeof(path), "certs/%s.der", rel);
	if ((r = put(arg, path, der, (size_t)len)) != 0)
		goto out;
	snprintf(path, sizeof(path), "certs/%s.pem", rel);
	if ((r = put(arg, path, pem, (size_t)pemlen)) != 0)
		goto out;
	snprintf(path, sizeof(path), "certs/%s.sha256", rel);
	if ((r = put(arg, path, line, strlen(line))) != 0)
		goto out;
	if ((out->der = malloc((size_t)len)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	memcpy(out->der, der, (size_t)len);
	out->len = (size_t)len;
	r = 0;
	goto out;
 crypto:
	hk_err_set("%s: cannot build or sign the request", rel);
	hk_err_add_openssl();
 out:
	OPENSSL_free(der);
	BIO_free(bio);
	X509_REQ_free(req);
	return r;
}

/* ---- the reader's trust (import, request) ---- */

static int
each_link(const unsigned char *der, size_t len, int gen, void *arg)
{
	STACK_OF(X509) *sk = arg;
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	(void)gen;
	if (x == NULL || p != der + len || !sk_X509_push(sk, x)) {
		X509_free(x);
		hk_err_set("store: ca_certs: a stored link certificate does "
		    "not parse");
		return HK_ERR_STATE;
	}
	return 0;
}

int
hk_online_trust_load(struct hk_online *on, struct hk_store *s,
    struct hk_bundle_trust *t)
{
	char path[4096];
	int r, nroots;

	if ((r = hk_online_path(on, HK_ONLINE_ANCHOR, path,
	    sizeof(path))) != 0)
		return r;
	/* (an anchor whose look-up fails is not "not pinned yet") */
	if ((r = hk_path_lookup(path)) < 0)
		return r;
	if (r == 0) {
		hk_err_set("%s: no root pinned yet (run hanko-online trust "
		    "first)", path);
		return HK_ERR_STATE;
	}
	/* trust writes the anchor before it commits the root's row: an
	 * anchor alone is a trust that stopped, and a root generation
	 * imported now would be numbered 1 (docs/hanko-online.1, trust) */
	if ((r = hk_store_ca_count(s, HK_CA_ROOT, &nroots)) != 0)
		return r;
	if (nroots == 0) {
		hk_err_set("%s: pinned, but the store has no root generation 1: "
		    "a trust stopped before its commit; run hanko-online trust "
		    "again with the same root and --fingerprint", path);
		return HK_ERR_STATE;
	}
	if ((r = hk_cert_read(path, &t->anchor)) != 0)
		return r;
	if ((t->links = sk_X509_new_null()) == NULL)
		return HK_ERR_ALLOC;
	return hk_store_ca_each(s, HK_CA_LINK, each_link, t->links);
}

int
hk_online_arl_runway(struct hk_store *s, uint64_t out, time_t now,
    uint64_t *floor, time_t *horizon, time_t *all)
{
	uint64_t eff, rec;
	int r;

	*floor = out;
	*horizon = *all = 0;
	if ((r = hk_store_arl_in_effect(s, now, &eff)) != 0 ||
	    (r = hk_store_crl_number_get(s, HK_ARL_FLOOR, &rec)) != 0)
		return r;
	if (eff > *floor)
		*floor = eff;
	if (rec > *floor)
		*floor = rec;
	if ((r = hk_store_arl_horizon(s, *floor, horizon)) != 0)
		return r;
	return hk_store_arl_horizon(s, 0, all);
}

time_t
hk_online_issue_last(const struct hk_profile *p, X509 *x, int gen,
    time_t lo, time_t hi)
{
	time_t mid, na;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (hk_cert_user_not_after(p, x, gen, mid, &na) == 0)
			lo = mid;
		else
			hi = mid;
	}
	hk_err_clear();
	return lo;
}

void
hk_online_window_note(int gen, int top, time_t until, time_t now,
    char *buf, size_t len)
{
	char t[32];

	hk_time_format(until, t, sizeof(t));
	snprintf(buf, len, "PROFILE.md: issuing CA %d %s 3-year certificates "
	    "%s %s; %s (docs/air-gap.md)", gen, until < now ? "could issue" :
	    "can issue", until < now ? "only until" : "until", t,
	    top > gen ? "certify the requested next generation (the "
	    "issue-subca ceremony) and hanko-online import it" :
	    "request the next generation now: hanko-online request --type "
	    "csr, the issue-subca ceremony, hanko-online import");
}

const char *
hk_online_arl_todo(int lost, const char *todo, char *buf, size_t len)
{
	if (lost == 0)
		return todo;
	snprintf(buf, len, "no ARL can follow: root generation %d, the root "
	    "in force, is declared compromised (root.%d.compromised) and "
	    "signs none (CPS 4-14-2); the CA starts again with init-root on "
	    "a new state (docs/ceremony-lifecycle.md \"compromise\")", lost,
	    lost);
	return buf;
}

void
hk_online_arl_note(uint64_t floor, time_t horizon, time_t all, int lost,
    char *buf, size_t len)
{
	char t[32], below[80] = "", todo[320];
	const char *what = hk_online_arl_todo(lost, "hold the arl-batch "
	    "ceremony and import its bundle", todo, sizeof(todo));

	if (all > horizon)
		snprintf(below, sizeof(below), "; ARLs numbered below %" PRIu64
		    " do not count", floor);
	if (horizon == 0) {
		/* none left to release: no time to name (was the epoch) */
		snprintf(buf, len, "CPS 4-4-10: no imported ARL left to release "
		    "(%s): %s", all > 0 ? below + 2 : "none imported", what);
		return;
	}
	hk_time_format(horizon, t, sizeof(t));
	snprintf(buf, len, "CPS 4-4-10: the imported ARLs run out at %s "
	    "(within %d days%s): %s", t, HK_PUBLISH_ARL_DAYS, below, what);
}

/* The store's root generations, by generation (hk_online_repo_owner). */
struct owner_roots {
	struct {
		int gen;
		unsigned char sha[32];
	} r[64];
	size_t n;
};

static int
owner_root(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct owner_roots *o = arg;

	if (o->n < sizeof(o->r) / sizeof(o->r[0])) {
		o->r[o->n].gen = gen;
		SHA256(der, len, o->r[o->n].sha);
		o->n++;
	}
	return 0;
}

int
hk_online_repo_owner(struct hk_store *s, const struct hk_repo_set *cur,
    const char *repo, const char *tail)
{
	struct owner_roots roots;
	char got[65], want[65];
	size_t i, j, nset = 0, match = 0;
	int g, end, r;

	if (cur == NULL)
		return 0;
	memset(&roots, 0, sizeof(roots));
	if ((r = hk_store_ca_each(s, HK_CA_ROOT, owner_root, &roots)) != 0)
		return r;
	for (i = 0; i < cur->nfiles; i++) {
		const struct hk_repo_file *f = &cur->files[i];

		end = 0;
		if (sscanf(f->path, "root/gen-%d.cer%n", &g, &end) != 1 ||
		    end == 0 || f->path[end] != '\0')
			continue;
		nset++;
		for (j = 0; j < roots.n; j++) {
			if (roots.r[j].gen != g)
				continue;
			if (memcmp(roots.r[j].sha, f->sha256, 32) == 0) {
				match++;
				continue;
			}
			hk_hex_encode(f->sha256, 32, got);
			hk_hex_encode(roots.r[j].sha, 32, want);
			hk_err_set("%s: set %lu is another CA's: its %s (SHA-256 "
			    "%s) is not this state's root generation %d "
			    "(SHA-256 %s); %s", repo, cur->n, f->path, got, g,
			    want, tail);
			return HK_ERR_STATE;
		}
	}
	if (nset > 0 && match == 0) {
		hk_err_set("%s: set %lu is another CA's: none of its %zu root "
		    "certificate%s (root/gen-N.cer) is a root generation this "
		    "state holds; %s", repo, cur->n, nset, nset == 1 ? "" :
		    "s", tail);
		return HK_ERR_STATE;
	}
	return 0;
}

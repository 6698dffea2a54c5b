/* profile_accept.c - the profile a state folder was accepted with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "atomic.h"
#include "audit.h"
#include "err.h"
#include "hex.h"
#include "profile_accept.h"

int
hk_profile_read_state(const struct hk_state *st, unsigned char **buf,
    size_t *len, char hex[65])
{
	unsigned char d[32];
	char path[4096];
	int r;

	*buf = NULL;
	hex[0] = '\0';
	if ((r = hk_state_path(st, HK_PROFILE_FILE, path, sizeof(path))) != 0 ||
	    (r = hk_file_read(path, HK_PROFILE_MAX, buf, len)) != 0)
		return r;
	SHA256(*buf, *len, d);
	hk_hex_encode(d, 32, hex);
	return 0;
}

struct init_rec {
	char hex[65];		/* the digest named, "" if none */
	char at[32];		/* the record's time */
	int found;		/* 1 once an init.start record was seen */
};

/* "... profile FILE sha256 HEX; ...": the HEX after the first "profile ". */
static int
each_init(const struct hk_audit_record *rec, void *arg)
{
	static const char tag[] = " sha256 ";
	struct init_rec *ir = arg;
	const char *d = (const char *)rec->details, *end = d + rec->dlen;
	const char *p;
	size_t i;

	if (strcmp(rec->event, "init.start") != 0)
		return 0;
	ir->found = 1;
	snprintf(ir->at, sizeof(ir->at), "%s", rec->time);
	for (p = d; p + 8 <= end; p++)
		if (memcmp(p, "profile ", 8) == 0 &&
		    (p == d || p[-1] == ' '))
			break;
	for (; p + sizeof(tag) - 1 + 64 <= end; p++) {
		if (memcmp(p, tag, sizeof(tag) - 1) != 0)
			continue;
		p += sizeof(tag) - 1;
		for (i = 0; i < 64; i++)
			if (!((p[i] >= '0' && p[i] <= '9') ||
			    (p[i] >= 'a' && p[i] <= 'f')))
				break;
		if (i == 64 && (p + 64 == end || p[64] == ';')) {
			memcpy(ir->hex, p, 64);
			ir->hex[64] = '\0';
		}
		break;
	}
	return 1;		/* the first init.start only */
}

int
hk_profile_init_digest(const struct hk_state *st, char hex[65], char at[32])
{
	struct init_rec ir;
	char log[4096];
	int r;

	memset(&ir, 0, sizeof(ir));
	hex[0] = at[0] = '\0';
	if ((r = hk_state_path(st, "audit/audit.log", log, sizeof(log))) != 0)
		return r;
	r = hk_audit_scan(log, each_init, &ir);
	if (r < 0)
		return r;
	if (ir.hex[0] == '\0') {
		hk_err_set("%s: %s", log, ir.found ? "the init.start record "
		    "names no profile SHA-256" : "no init.start record");
		return HK_ERR_NOT_FOUND;
	}
	memcpy(hex, ir.hex, 65);
	snprintf(at, 32, "%s", ir.at);
	return 0;
}

int
hk_profile_load_accepted(const struct hk_state *st, const char *accept,
    struct hk_profile **out, struct hk_profile_seen *seen)
{
	const char *want = hk_state_get(st, HK_PROFILE_KEY_SHA);
	const char *at = hk_state_get(st, HK_PROFILE_KEY_AT);
	const char *by = hk_state_get(st, HK_PROFILE_KEY_BY);
	unsigned char *buf = NULL;
	char path[4096];
	size_t len;
	int r;

	*out = NULL;
	memset(seen, 0, sizeof(*seen));
	if ((r = hk_state_path(st, HK_PROFILE_FILE, path, sizeof(path))) != 0 ||
	    (r = hk_profile_read_state(st, &buf, &len, seen->hex)) != 0)
		goto out;
	if (want != NULL) {
		snprintf(seen->was, sizeof(seen->was), "%s", want);
		snprintf(seen->at, sizeof(seen->at), "%s", at ? at : "");
		if (strcmp(want, seen->hex) != 0) {
			hk_err_set("%s: changed since it was accepted on %s by "
			    "%s (SHA-256 now %s, accepted %s); nothing done: "
			    "put back the profile accepted (%s/%s holds it) "
			    "or accept the change with %s", path,
			    at ? at : "?", by ? by : "?", seen->hex, want,
			    st->dir, HK_PROFILE_COPY, accept);
			r = HK_ERR_STATE;
			goto out;
		}
	} else {
		/* A state made before the record: the profile init was given
		 * is in its audit log; anything else needs an acceptance. */
		r = hk_profile_init_digest(st, seen->was, seen->at);
		if (r == HK_ERR_AUDIT)
			goto out;
		if (r != 0) {
			hk_err_set("%s: SHA-256 %s was never accepted: "
			    "state.conf has no profile.sha256 (a state made "
			    "before hanko recorded one) and %s; nothing done: "
			    "accept it with %s", path, seen->hex, hk_err_msg(),
			    accept);
			r = HK_ERR_STATE;
			goto out;
		}
		if (strcmp(seen->was, seen->hex) != 0) {
			hk_err_set("%s: changed since it was accepted on %s by "
			    "init (SHA-256 now %s, accepted %s, the one the "
			    "audit log's init.start record names; state.conf "
			    "has no profile.sha256: a state made before hanko "
			    "recorded one); nothing done: put back the profile "
			    "init was given or accept the change with %s", path,
			    seen->at, seen->hex, seen->was, accept);
			r = HK_ERR_STATE;
			goto out;
		}
		seen->adopt = 1;
	}
	r = hk_profile_load_buf(path, buf, len, out);
 out:
	free(buf);
	return r;
}

int
hk_profile_record(struct hk_state *st, const char *hex, const char *at,
    const char *by)
{
	int r;

	if ((r = hk_state_set(st, HK_PROFILE_KEY_SHA, hex)) != 0 ||
	    (r = hk_state_set(st, HK_PROFILE_KEY_AT, at)) != 0 ||
	    (r = hk_state_set(st, HK_PROFILE_KEY_BY, by)) != 0)
		return r;
	return 0;
}

int
hk_profile_keep_copy(const struct hk_state *st, const unsigned char *buf,
    size_t len)
{
	char path[4096];
	int r;

	if ((r = hk_state_path(st, HK_PROFILE_COPY, path, sizeof(path))) != 0)
		return r;
	return hk_file_write(path, buf, len, 0444, 0);
}

void
hk_profile_accepted_bytes(const struct hk_state *st, const char *want,
    unsigned char **buf, size_t *len)
{
	static const char *const rel[] = { HK_PROFILE_COPY, HK_PROFILE_FILE };
	unsigned char d[32];
	char path[4096], hex[65];
	size_t i;

	*buf = NULL;
	*len = 0;
	for (i = 0; want != NULL && want[0] != '\0' && i < 2; i++) {
		if (hk_state_path(st, rel[i], path, sizeof(path)) != 0 ||
		    !hk_path_exists(path) || hk_file_read(path, HK_PROFILE_MAX,
		    buf, len) != 0) {
			hk_err_clear();
			*buf = NULL;
			continue;
		}
		SHA256(*buf, *len, d);
		hk_hex_encode(d, 32, hex);
		if (strcmp(hex, want) == 0)
			return;
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
}

int
hk_profile_retire(const struct hk_state *st, const unsigned char *buf,
    size_t len, const char *hex, char *path, size_t pathlen)
{
	char base[4096];
	unsigned char *e = NULL;
	size_t elen;
	int r;

	if ((r = hk_state_path(st, HK_PROFILE_FILE, base, sizeof(base))) != 0)
		return r;
	if ((size_t)snprintf(path, pathlen, "%s.%.8s.retired", base, hex) >=
	    pathlen) {
		hk_err_set("%s: path too long", base);
		return HK_ERR_INVALID;
	}
	if ((r = hk_file_write(path, buf, len, 0444, HK_WRITE_NOREPLACE)) == 0)
		return 0;
	/* the same profile retired before (changed back) */
	if (r != HK_ERR_EXISTS || hk_file_read(path, HK_PROFILE_MAX, &e,
	    &elen) != 0 || elen != len || memcmp(e, buf, len) != 0) {
		free(e);
		if (r == HK_ERR_EXISTS)
			hk_err_set("%s: exists with other bytes than the "
			    "profile accepted until now (SHA-256 %s)", path,
			    hex);
		return r == HK_ERR_EXISTS ? HK_ERR_EXISTS : r;
	}
	free(e);
	hk_err_clear();
	return 0;
}

int
hk_profile_accepted_copy(const struct hk_state *st, const char *want,
    struct hk_profile **out)
{
	unsigned char *buf = NULL, d[32];
	char path[4096], hex[65];
	size_t len;
	int r;

	*out = NULL;
	if (want == NULL || (r = hk_state_path(st, HK_PROFILE_COPY, path,
	    sizeof(path))) != 0 || !hk_path_exists(path))
		return 0;
	if (hk_file_read(path, HK_PROFILE_MAX, &buf, &len) != 0) {
		hk_err_clear();
		return 0;
	}
	SHA256(buf, len, d);
	hk_hex_encode(d, 32, hex);
	r = 0;
	if (strcmp(hex, want) == 0 && hk_profile_load_buf(path, buf, len,
	    out) != 0) {
		hk_err_clear();
		*out = NULL;
	}
	free(buf);
	return r;
}

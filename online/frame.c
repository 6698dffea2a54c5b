/*
 * frame.c - the length-framed channel between the key holder and the
 * network worker of "hanko-online serve" (frame.h, docs/process-model.md).
 * Every length is checked before it is used; the reader never allocates
 * more than HK_FRAME_MAX bytes and never trusts a type it was not told to
 * accept.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "be.h"
#include "err.h"
#include "frame.h"

static const struct {
	const char *event;
	const char *result;
} events[HK_EV_END] = {
	[HK_EV_REPO_UNAUTH] = { "repo.refuse", "unauthenticated" },
	[HK_EV_REPO_FORBIDDEN] = { "repo.refuse", "forbidden" },
	[HK_EV_OCSP_UNAUTH] = { "ocsp.refuse", "unauthenticated" },
	[HK_EV_OCSP_FORBIDDEN] = { "ocsp.refuse", "forbidden" },
	[HK_EV_OCSP_BUSY] = { "ocsp.refuse", "rate-limited" },
	[HK_EV_SUPPRESSED] = { "serve.suppressed", "ok" },
	[HK_EV_SET_BAD] = { "repo.set", "fail" },
	[HK_EV_PROV_LOST] = { "provision.lost", "fail" },
	[HK_EV_ACCESS_LOST] = { "serve.access-log", "fail" },
};

int
hk_frame_event_name(unsigned code, const char **event, const char **result)
{
	if (code == 0 || code >= HK_EV_END)
		return -1;
	*event = events[code].event;
	*result = events[code].result;
	return 0;
}

const char *
hk_frame_method_name(unsigned method)
{
	switch (method) {
	case HK_PROV_HTTP:
		return "http";
	case HK_PROV_OCSP:
		return "ocsp";
	}
	return NULL;
}

/* Write all of buf (MSG_NOSIGNAL: a gone peer is an error, not SIGPIPE). */
static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, buf, len);
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			/* the peer is gone: the end of the channel, as a
			 * clean EOF is to hk_frame_read */
			hk_err_set("channel: closed by the peer");
			return HK_ERR_NOT_FOUND;
		}
		if (n <= 0) {
			hk_err_set("channel: write: %s", n < 0 ?
			    strerror(errno) : "nothing written");
			return HK_ERR_IO;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
hk_frame_write(int fd, unsigned type, uint32_t id, const void *data,
    size_t len)
{
	unsigned char hdr[HK_FRAME_HDR_LEN];
	int r;

	if (type == 0 || type >= HK_FRAME_TYPE_END) {
		hk_err_set("channel: type %u: not a frame type", type);
		return HK_ERR_INVALID;
	}
	if (len > HK_FRAME_MAX || (len > 0 && data == NULL)) {
		hk_err_set("channel: payload of %zu bytes: at most %d", len,
		    HK_FRAME_MAX);
		return HK_ERR_INVALID;
	}
	hk_be_put32(hdr, HK_FRAME_MAGIC);
	hk_be_put16(hdr + 4, type);
	hk_be_put16(hdr + 6, 0);
	hk_be_put32(hdr + 8, id);
	hk_be_put32(hdr + 12, (uint32_t)len);
	/* header and payload in one write where the payload is small, so a
	 * reader never sees a header long before its payload */
	if (len <= 4096) {
		unsigned char one[HK_FRAME_HDR_LEN + 4096];

		memcpy(one, hdr, sizeof(hdr));
		if (len > 0)
			memcpy(one + sizeof(hdr), data, len);
		return write_all(fd, one, sizeof(hdr) + len);
	}
	if ((r = write_all(fd, hdr, sizeof(hdr))) != 0)
		return r;
	return write_all(fd, data, len);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read exactly len bytes. first: nothing of this frame read yet (a clean
 * EOF here is the end of the channel). Waits timeout_ms for the first
 * byte, then HK_FRAME_TIMEOUT_MS in all for the rest.
 */
static int
read_exact(int fd, unsigned char *buf, size_t len, int first, int timeout_ms)
{
	struct pollfd pfd;
	long long deadline = -1;
	size_t got = 0;
	ssize_t n;
	int wait, pr;

	if (!first)
		deadline = now_ms() + HK_FRAME_TIMEOUT_MS;
	while (got < len) {
		if (first && got == 0)
			wait = timeout_ms;
		else {
			if (deadline < 0)
				deadline = now_ms() + HK_FRAME_TIMEOUT_MS;
			wait = (int)(deadline - now_ms());
			if (wait < 0)
				wait = 0;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		pr = poll(&pfd, 1, wait);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			hk_err_set("channel: poll: %s", strerror(errno));
			return HK_ERR_IO;
		}
		if (pr == 0) {
			if (first && got == 0) {
				hk_err_set("channel: no frame within %d ms",
				    timeout_ms);
				return HK_ERR_IO;
			}
			hk_err_set("channel: short frame: %zu of %zu bytes "
			    "within %d ms", got, len, HK_FRAME_TIMEOUT_MS);
			return HK_ERR_PARSE;
		}
		n = read(fd, buf + got, len - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* a peer that exits with our frames unread resets the
		 * stream: that is its end too */
		if (n < 0 && errno == ECONNRESET)
			n = 0;
		if (n < 0) {
			hk_err_set("channel: read: %s", strerror(errno));
			return HK_ERR_IO;
		}
		if (n == 0) {
			if (first && got == 0) {
				hk_err_set("channel: closed by the peer");
				return HK_ERR_NOT_FOUND;
			}
			hk_err_set("channel: short frame: the peer closed "
			    "after %zu of %zu bytes", got, len);
			return HK_ERR_PARSE;
		}
		got += (size_t)n;
	}
	return 0;
}

int
hk_frame_read(int fd, unsigned accept, int timeout_ms, struct hk_frame *f)
{
	unsigned char hdr[HK_FRAME_HDR_LEN];
	uint32_t len;
	unsigned type;
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = read_exact(fd, hdr, sizeof(hdr), 1, timeout_ms)) != 0)
		return r;
	if (hk_be_get32(hdr) != HK_FRAME_MAGIC) {
		hk_err_set("channel: bad magic %08x (want %08x)",
		    (unsigned)hk_be_get32(hdr), HK_FRAME_MAGIC);
		return HK_ERR_PARSE;
	}
	type = hk_be_get16(hdr + 4);
	if (type == 0 || type >= HK_FRAME_TYPE_END ||
	    (accept & (1u << type)) == 0) {
		hk_err_set("channel: type %u: not a frame this side accepts",
		    type);
		return HK_ERR_PARSE;
	}
	if (hk_be_get16(hdr + 6) != 0) {
		hk_err_set("channel: flags %04x: must be 0", hk_be_get16(hdr + 6));
		return HK_ERR_PARSE;
	}
	len = hk_be_get32(hdr + 12);
	if (len > HK_FRAME_MAX) {
		hk_err_set("channel: length %u: at most %d", (unsigned)len,
		    HK_FRAME_MAX);
		return HK_ERR_PARSE;
	}
	/* PING, PONG and FAILED carry nothing (frame.h) */
	if (len != 0 && (type == HK_FRAME_PING || type == HK_FRAME_PONG ||
	    type == HK_FRAME_FAILED)) {
		hk_err_set("channel: type %u: length %u: must be 0", type,
		    (unsigned)len);
		return HK_ERR_PARSE;
	}
	f->type = type;
	f->id = hk_be_get32(hdr + 8);
	f->len = len;
	if (len == 0)
		return 0;
	if ((f->data = malloc(len)) == NULL)
		return HK_ERR_ALLOC;
	if ((r = read_exact(fd, f->data, len, 0, 0)) != 0) {
		hk_frame_free(f);
		return r;
	}
	return 0;
}

void
hk_frame_free(struct hk_frame *f)
{
	if (f == NULL)
		return;
	free(f->data);
	memset(f, 0, sizeof(*f));
}

size_t
hk_frame_audit_encode(unsigned code, const char *detail, unsigned char *buf)
{
	size_t n = 0;

	hk_be_put16(buf, code);
	for (; detail != NULL && detail[n] != '\0' && n < HK_FRAME_DETAIL_MAX;
	    n++) {
		unsigned char ch = (unsigned char)detail[n];

		buf[2 + n] = ch >= 0x20 && ch <= 0x7e ? ch : '?';
	}
	return 2 + n;
}

int
hk_frame_audit_decode(const unsigned char *p, size_t len, unsigned *code,
    char *detail)
{
	size_t i;

	*code = 0;
	detail[0] = '\0';
	if (len < 2 || len - 2 > HK_FRAME_DETAIL_MAX) {
		hk_err_set("channel: AUDIT: %zu bytes: 2 to %d", len,
		    2 + HK_FRAME_DETAIL_MAX);
		return HK_ERR_PARSE;
	}
	*code = hk_be_get16(p);
	if (*code == 0 || *code >= HK_EV_END) {
		hk_err_set("channel: AUDIT: event %u: not one of the fixed set",
		    *code);
		return HK_ERR_PARSE;
	}
	for (i = 2; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e) {
			hk_err_set("channel: AUDIT: detail byte %zu: printable "
			    "ASCII only", i - 2);
			return HK_ERR_PARSE;
		}
	memcpy(detail, p + 2, len - 2);
	detail[len - 2] = '\0';
	return 0;
}

static int
name_ok(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > HK_FRAME_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static int
object_ok(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > HK_FRAME_OBJECT_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

int
hk_frame_prov_encode(const struct hk_frame_prov *recs, size_t n,
    unsigned char **out, size_t *len)
{
	unsigned char *p;
	size_t i, total = 2, nl, ol;

	*out = NULL;
	*len = 0;
	if (n < 1 || n > HK_FRAME_PROV_MAX) {
		hk_err_set("channel: PROVISION: %zu records: 1 to %d", n,
		    HK_FRAME_PROV_MAX);
		return HK_ERR_INVALID;
	}
	for (i = 0; i < n; i++) {
		nl = strnlen(recs[i].name, HK_FRAME_NAME_MAX + 1);
		ol = strnlen(recs[i].object, HK_FRAME_OBJECT_MAX + 1);
		if (hk_frame_method_name(recs[i].method) == NULL ||
		    !name_ok(recs[i].name, nl) ||
		    !object_ok(recs[i].object, ol) || recs[i].count == 0) {
			hk_err_set("channel: PROVISION: record %zu breaks "
			    "the frame's rules", i + 1);
			return HK_ERR_INVALID;
		}
		total += 1 + 1 + nl + 1 + ol + 4;
	}
	if (total > HK_FRAME_MAX)
		return HK_ERR_INVALID;
	if ((p = malloc(total)) == NULL)
		return HK_ERR_ALLOC;
	*out = p;
	*len = total;
	hk_be_put16(p, (unsigned)n);
	p += 2;
	for (i = 0; i < n; i++) {
		nl = strlen(recs[i].name);
		ol = strlen(recs[i].object);
		*p++ = (unsigned char)recs[i].method;
		*p++ = (unsigned char)nl;
		memcpy(p, recs[i].name, nl);
		p += nl;
		*p++ = (unsigned char)ol;
		memcpy(p, recs[i].object, ol);
		p += ol;
		hk_be_put32(p, recs[i].count);
		p += 4;
	}
	return 0;
}

/* One record at p (avail bytes left); its size in *used. */
static int
prov_one(const unsigned char *p, size_t avail, struct hk_frame_prov *rec,
    size_t *used)
{
	size_t nl, ol;

	memset(rec, 0, sizeof(*rec));
	if (avail < 2)
		return HK_ERR_PARSE;
	rec->method = p[0];
	nl = p[1];
	if (hk_frame_method_name(rec->method) == NULL ||
	    avail - 2 < nl + 1 || !name_ok((const char *)p + 2, nl))
		return HK_ERR_PARSE;
	memcpy(rec->name, p + 2, nl);
	ol = p[2 + nl];
	if (avail - 3 - nl < ol + 4 || !object_ok((const char *)p + 3 + nl, ol))
		return HK_ERR_PARSE;
	memcpy(rec->object, p + 3 + nl, ol);
	rec->count = hk_be_get32(p + 3 + nl + ol);
	if (rec->count == 0)
		return HK_ERR_PARSE;
	*used = 3 + nl + ol + 4;
	return 0;
}

int
hk_frame_prov_decode(const unsigned char *p, size_t len,
    int (*fn)(const struct hk_frame_prov *rec, void *arg), void *arg)
{
	struct hk_frame_prov rec;
	size_t n, i, off, used = 0;
	int pass, r;

	if (len < 2 || (n = hk_be_get16(p)) < 1 || n > HK_FRAME_PROV_MAX) {
		hk_err_set("channel: PROVISION: needs 1 to %d records",
		    HK_FRAME_PROV_MAX);
		return HK_ERR_PARSE;
	}
	/* pass 0 checks the whole payload, pass 1 hands the records out */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0, off = 2; i < n; i++, off += used)
			if (prov_one(p + off, len - off, &rec, &used) != 0) {
				hk_err_set("channel: PROVISION: record %zu "
				    "breaks the frame's rules", i + 1);
				return HK_ERR_PARSE;
			} else if (pass == 1 && (r = fn(&rec, arg)) != 0)
				return r;
		if (off != len) {
			hk_err_set("channel: PROVISION: %zu bytes after the "
			    "last record", len - off);
			return HK_ERR_PARSE;
		}
	}
	return 0;
}

/*
 * fuzz_frame.c - serve's channel as the key holder reads it (online/frame.h,
 * docs/process-model.md): the input is what a compromised network worker
 * writes. It goes through a socketpair (write end then closed) to
 * hk_frame_read, once with each accept mask serve uses (HK_FRAME_TO_HOLDER,
 * the key holder's; HK_FRAME_TO_WORKER, the worker's), read until the end
 * or an error. A reference reading of the same bytes by frame.h's rules
 * says what each read must return: a frame of an accepted type with the
 * id, length (at most HK_FRAME_MAX) and exactly the bytes sent, then
 * HK_ERR_NOT_FOUND at a clean end or HK_ERR_PARSE, with nothing read past
 * the offending header (FIONREAD), *f cleared; never HK_ERR_IO (the write
 * end is closed: nothing waits, no timeout).
 *
 * Each AUDIT and PROVISION payload the key holder takes, and the input
 * itself as one, goes to its decoder (hk_frame_audit_decode,
 * hk_frame_event_name, hk_frame_prov_decode): what decodes re-encodes to
 * the same bytes by the worker's encoders, strings are NUL-terminated
 * within their bounds, counts within their limits, and a refused
 * PROVISION payload hands out no record.
 * Seeds: test/fuzz/corpus/frame/ (frames of each type the key holder
 * takes, made by hk_frame_write and the worker's encoders).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "be.h"
#include "err.h"
#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* ---- AUDIT ---- */

static void
audit_payload(const unsigned char *p, size_t len)
{
	char *detail = malloc(HK_FRAME_DETAIL_MAX + 1);	/* exactly: ASan */
	unsigned char *buf = malloc(2 + HK_FRAME_DETAIL_MAX);
	const char *ev = NULL, *res = NULL;
	unsigned code;
	size_t i;

	CHECK(detail != NULL && buf != NULL);
	if (hk_frame_audit_decode(p, len, &code, detail) == 0) {
		CHECK(len >= 2 && len - 2 <= HK_FRAME_DETAIL_MAX);
		CHECK(code >= 1 && code < HK_EV_END);
		CHECK(hk_frame_event_name(code, &ev, &res) == 0);
		CHECK(ev != NULL && res != NULL && *ev != '\0' && *res != '\0');
		CHECK(memchr(detail, '\0', HK_FRAME_DETAIL_MAX + 1) != NULL);
		CHECK(strlen(detail) == len - 2);
		for (i = 0; detail[i] != '\0'; i++)
			CHECK(detail[i] >= 0x20 && detail[i] <= 0x7e);
		/* the worker's encoder makes the same bytes */
		CHECK(hk_frame_audit_encode(code, detail, buf) == len);
		CHECK(memcmp(buf, p, len) == 0);
	} else {
		/* the key holder logs nothing of a refused payload */
		CHECK(detail[0] == '\0');
	}
	free(buf);
	free(detail);
}

/* ---- PROVISION ---- */

struct collect {
	struct hk_frame_prov recs[HK_FRAME_PROV_MAX];
	size_t n;
	size_t stop;		/* answer 1 ("full") at this call; 0: never */
};

static int
collect(const struct hk_frame_prov *rec, void *arg)
{
	struct collect *c = arg;

	CHECK(c->n < HK_FRAME_PROV_MAX);
	CHECK(memchr(rec->name, '\0', sizeof(rec->name)) != NULL);
	CHECK(memchr(rec->object, '\0', sizeof(rec->object)) != NULL);
	CHECK(strlen(rec->name) >= 1 && strlen(rec->name) <= HK_FRAME_NAME_MAX);
	CHECK(strlen(rec->object) >= 1 &&
	    strlen(rec->object) <= HK_FRAME_OBJECT_MAX);
	CHECK(hk_frame_method_name(rec->method) != NULL);
	CHECK(rec->count >= 1);
	c->recs[c->n++] = *rec;
	return c->stop != 0 && c->n == c->stop ? 1 : 0;
}

static void
prov_payload(const unsigned char *p, size_t len)
{
	struct collect *c = calloc(1, sizeof(*c));
	unsigned char *out = NULL;
	size_t olen = 0;
	int r;

	CHECK(c != NULL);
	if (len > HK_FRAME_MAX)		/* never more in a frame */
		len = HK_FRAME_MAX;
	r = hk_frame_prov_decode(p, len, collect, c);
	if (r != 0) {
		CHECK(r == HK_ERR_PARSE);
		CHECK(c->n == 0);	/* nothing half-applied */
		free(c);
		return;
	}
	CHECK(c->n >= 1 && c->n <= HK_FRAME_PROV_MAX);
	CHECK(c->n == hk_be_get16(p));
	/* the worker's encoder makes the same bytes */
	CHECK(hk_frame_prov_encode(c->recs, c->n, &out, &olen) == 0);
	CHECK(olen == len && memcmp(out, p, len) == 0);
	free(out);
	/* a callback that stops (the key holder's counters full): its
	 * answer, and no record after it */
	c->stop = 1 + (len > 2 ? p[len - 1] : 0) % c->n;
	c->n = 0;
	CHECK(hk_frame_prov_decode(p, len, collect, c) == 1);
	CHECK(c->n == c->stop);
	free(c);
}

/* ---- framing ---- */

/* Bytes of data the socket took (non-blocking: the rest is not sent). */
static size_t
send_some(int fd, const uint8_t *data, size_t size)
{
	size_t off = 0;
	ssize_t n;

	while (off < size) {
		n = send(fd, data + off, size - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	return off;
}

static size_t
unread(int fd)
{
	int n = -1;

	CHECK(ioctl(fd, FIONREAD, &n) == 0 && n >= 0);
	return (size_t)n;
}

static void
cleared(const struct hk_frame *f)
{
	CHECK(f->type == 0 && f->id == 0 && f->len == 0 && f->data == NULL);
}

static void
read_all(const uint8_t *data, size_t size, unsigned accept)
{
	struct hk_frame f;
	size_t sent, off = 0, left;
	uint32_t len;
	unsigned type;
	int sv[2], big = 1 << 20, r;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	sent = send_some(sv[1], data, size);
	close(sv[1]);
	for (;;) {
		/* the key holder reads once poll says the channel is
		 * readable: no wait for the first byte */
		r = hk_frame_read(sv[0], accept, 0, &f);
		CHECK(r != HK_ERR_IO && r != HK_ERR_ALLOC);
		left = sent - off;
		if (left == 0) {
			CHECK(r == HK_ERR_NOT_FOUND);
			cleared(&f);
			break;
		}
		if (left < HK_FRAME_HDR_LEN) {
			CHECK(r == HK_ERR_PARSE);
			cleared(&f);
			CHECK(unread(sv[0]) == 0);
			break;
		}
		type = hk_be_get16(data + off + 4);
		len = hk_be_get32(data + off + 12);
		if (hk_be_get32(data + off) != HK_FRAME_MAGIC || type == 0 ||
		    type >= HK_FRAME_TYPE_END || (accept & (1u << type)) == 0 ||
		    hk_be_get16(data + off + 6) != 0 || len > HK_FRAME_MAX ||
		    /* PING, PONG, FAILED: empty (frame.h) */
		    (len != 0 && (type == HK_FRAME_PING ||
		    type == HK_FRAME_PONG || type == HK_FRAME_FAILED))) {
			/* refused on its header: nothing read past it */
			CHECK(r == HK_ERR_PARSE);
			cleared(&f);
			CHECK(unread(sv[0]) == left - HK_FRAME_HDR_LEN);
			break;
		}
		if (left - HK_FRAME_HDR_LEN < len) {
			CHECK(r == HK_ERR_PARSE);	/* cut short */
			cleared(&f);
			CHECK(unread(sv[0]) == 0);
			break;
		}
		CHECK(r == 0);
		CHECK(f.type == type && (accept & (1u << f.type)) != 0);
		CHECK(f.id == hk_be_get32(data + off + 8));
		CHECK(f.len == len && f.len <= HK_FRAME_MAX);
		CHECK((f.len == 0) == (f.data == NULL));
		CHECK(f.len == 0 ||
		    memcmp(f.data, data + off + HK_FRAME_HDR_LEN, f.len) == 0);
		off += HK_FRAME_HDR_LEN + f.len;
		CHECK(unread(sv[0]) == sent - off);
		/* the key holder's decoders (on_audit, on_provision) */
		if (accept == HK_FRAME_TO_HOLDER && f.type == HK_FRAME_AUDIT)
			audit_payload(f.data, f.len);
		if (accept == HK_FRAME_TO_HOLDER &&
		    f.type == HK_FRAME_PROVISION)
			prov_payload(f.data, f.len);
		hk_frame_free(&f);
		cleared(&f);
	}
	close(sv[0]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_all(data, size, HK_FRAME_TO_HOLDER);
	read_all(data, size, HK_FRAME_TO_WORKER);
	/* the input as a payload itself: the decoders without the framing */
	audit_payload(data, size);
	prov_payload(data, size);
	return 0;
}

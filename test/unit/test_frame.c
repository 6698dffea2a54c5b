/*
 * test_frame.c - the channel between serve's key holder and its worker
 * (online/frame.c): frames go through a socketpair intact; every framing
 * error (bad magic, flags, unknown or unexpected type, oversize, a frame
 * cut short at any byte, a slow frame) is HK_ERR_PARSE and a clean close
 * is HK_ERR_NOT_FOUND; AUDIT and PROVISION payloads are checked whole.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "frame.h"

static int sv[2];

static void
pair(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void
unpair(void)
{
	close(sv[0]);
	close(sv[1]);
}

TestSuite(frame, .init = pair, .fini = unpair);

/* A raw header: magic, type, flags, id, length. */
static void
header(unsigned char *h, uint32_t magic, unsigned type, unsigned flags,
    uint32_t id, uint32_t len)
{
	h[0] = magic >> 24; h[1] = magic >> 16; h[2] = magic >> 8; h[3] = magic;
	h[4] = type >> 8; h[5] = type;
	h[6] = flags >> 8; h[7] = flags;
	h[8] = id >> 24; h[9] = id >> 16; h[10] = id >> 8; h[11] = id;
	h[12] = len >> 24; h[13] = len >> 16; h[14] = len >> 8; h[15] = len;
}

Test(frame, round_trip_every_type_and_size)
{
	static unsigned char big[HK_FRAME_MAX];
	struct hk_frame f;
	size_t sizes[] = { 0, 1, 100, 4096, 4097, 20000 };
	size_t i;
	pid_t p;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	/* a writer process, so that a payload over the socket buffer flows */
	if ((p = fork()) == 0) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			if (hk_frame_write(sv[1], HK_FRAME_SIGN_OCSP,
			    (uint32_t)i + 7, big, sizes[i]) != 0)
				_exit(1);
		if (hk_frame_write(sv[1], HK_FRAME_PING, 0, NULL, 0) != 0 ||
		    hk_frame_write(sv[1], HK_FRAME_SIGN_OCSP, 99, big,
		    HK_FRAME_MAX) != 0)
			_exit(1);
		_exit(0);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cr_assert_eq(hk_frame_read(sv[0], HK_FRAME_TO_HOLDER, 5000,
		    &f), 0, "%s", hk_err_msg());
		cr_assert_eq(f.type, HK_FRAME_SIGN_OCSP);
		cr_assert_eq(f.id, i + 7);
		cr_assert_eq(f.len, sizes[i]);
		cr_assert(sizes[i] == 0 || memcmp(f.data, big, sizes[i]) == 0);
		hk_frame_free(&f);
	}
	cr_assert_eq(hk_frame_read(sv[0], HK_FRAME_TO_HOLDER, 5000, &f), 0);
	cr_assert_eq(f.type, HK_FRAME_PING);
	cr_assert_null(f.data);
	cr_assert_eq(hk_frame_read(sv[0], HK_FRAME_TO_HOLDER, 5000, &f), 0);
	cr_assert_eq(f.len, HK_FRAME_MAX);
	hk_frame_free(&f);
	close(sv[1]);
	cr_assert_eq(hk_frame_read(sv[0], HK_FRAME_TO_HOLDER, 5000, &f),
	    HK_ERR_NOT_FOUND, "a clean close between frames");
	sv[1] = -1;
}

Test(frame, writer_refuses_oversize_and_unknown_types)
{
	static unsigned char big[HK_FRAME_MAX + 1];

	cr_assert_eq(hk_frame_write(sv[1], HK_FRAME_SIGN_OCSP, 1, big,
	    sizeof(big)), HK_ERR_INVALID);
	cr_assert_eq(hk_frame_write(sv[1], 0, 1, NULL, 0), HK_ERR_INVALID);
	cr_assert_eq(hk_frame_write(sv[1], HK_FRAME_TYPE_END, 1, NULL, 0),
	    HK_ERR_INVALID);
}

/* Write raw bytes, close, expect a parse error naming rule. */
static void
expect_parse(const unsigned char *b, size_t n, unsigned accept,
    const char *rule)
{
	struct hk_frame f;

	cr_assert_eq(write(sv[1], b, n), (ssize_t)n);
	close(sv[1]);
	sv[1] = -1;
	cr_assert_eq(hk_frame_read(sv[0], accept, 5000, &f), HK_ERR_PARSE,
	    "want a parse error for %s", rule);
	cr_assert(strstr(hk_err_msg(), rule) != NULL, "%s: %s", rule,
	    hk_err_msg());
	cr_assert_null(f.data);
}

Test(frame, bad_magic)
{
	unsigned char h[16];

	header(h, 0x47415242, HK_FRAME_PING, 0, 0, 0);
	expect_parse(h, 16, HK_FRAME_TO_HOLDER, "bad magic");
}

Test(frame, flags_must_be_zero)
{
	unsigned char h[16];

	header(h, HK_FRAME_MAGIC, HK_FRAME_PING, 1, 0, 0);
	expect_parse(h, 16, HK_FRAME_TO_HOLDER, "flags");
}

Test(frame, unknown_and_wrong_direction_types)
{
	unsigned char h[16];

	header(h, HK_FRAME_MAGIC, 99, 0, 0, 0);
	expect_parse(h, 16, HK_FRAME_TO_HOLDER, "not a frame this side");
}

Test(frame, a_response_sent_to_the_holder)
{
	unsigned char h[16];

	header(h, HK_FRAME_MAGIC, HK_FRAME_RESPONSE, 0, 1, 0);
	expect_parse(h, 16, HK_FRAME_TO_HOLDER, "not a frame this side");
}

Test(frame, a_job_sent_to_the_worker)
{
	unsigned char h[16];

	header(h, HK_FRAME_MAGIC, HK_FRAME_SIGN_OCSP, 0, 1, 0);
	expect_parse(h, 16, HK_FRAME_TO_WORKER, "not a frame this side");
}

Test(frame, oversize_length_before_any_allocation)
{
	unsigned char h[16];

	header(h, HK_FRAME_MAGIC, HK_FRAME_SIGN_OCSP, 0, 1, 0xffffffffu);
	expect_parse(h, 16, HK_FRAME_TO_HOLDER, "length 4294967295");
}

/* PING, PONG and FAILED carry nothing (frame.h): one with a payload is a
 * framing error on its header, and the reader takes nothing past it (found
 * by fuzz_frame: a FAILED of 227 bytes and a PING of 5 were taken). */
Test(frame, empty_types_carry_nothing)
{
	static const struct {
		unsigned type, accept;
	} c[] = {
		{ HK_FRAME_PING, HK_FRAME_TO_HOLDER },
		{ HK_FRAME_PONG, HK_FRAME_TO_WORKER },
		{ HK_FRAME_FAILED, HK_FRAME_TO_WORKER },
	};
	unsigned char b[16 + 5];
	struct hk_frame f;
	char want[64];
	size_t i;
	int p[2], left;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		header(b, HK_FRAME_MAGIC, c[i].type, 0, 1, 5);
		memset(b + 16, 'x', 5);
		cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
		cr_assert_eq(write(p[1], b, sizeof(b)), (ssize_t)sizeof(b));
		close(p[1]);
		cr_assert_eq(hk_frame_read(p[0], c[i].accept, 5000, &f),
		    HK_ERR_PARSE, "type %u with 5 bytes", c[i].type);
		snprintf(want, sizeof(want), "channel: type %u: length 5: "
		    "must be 0", c[i].type);
		cr_assert_str_eq(hk_err_msg(), want);
		cr_assert_null(f.data);
		cr_assert_eq(f.len, 0);
		cr_assert_eq(ioctl(p[0], FIONREAD, &left), 0);
		cr_assert_eq(left, 5, "nothing read past the header");
		close(p[0]);
	}
}

Test(frame, cut_at_every_byte)
{
	unsigned char b[16 + 40];
	struct hk_frame f;
	size_t cut;

	header(b, HK_FRAME_MAGIC, HK_FRAME_SIGN_OCSP, 0, 3, 40);
	memset(b + 16, 0x30, 40);
	for (cut = 1; cut < sizeof(b); cut++) {
		int p[2];

		cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
		cr_assert_eq(write(p[1], b, cut), (ssize_t)cut);
		close(p[1]);
		cr_assert_eq(hk_frame_read(p[0], HK_FRAME_TO_HOLDER, 5000, &f),
		    HK_ERR_PARSE, "cut at %zu", cut);
		cr_assert(strstr(hk_err_msg(), "short frame") != NULL ||
		    strstr(hk_err_msg(), "closed") != NULL, "%s",
		    hk_err_msg());
		close(p[0]);
	}
}

Test(frame, a_stalled_frame_times_out, .timeout = 20)
{
	unsigned char h[16];
	struct hk_frame f;

	/* a header promising 100 bytes, then nothing (the peer stays) */
	header(h, HK_FRAME_MAGIC, HK_FRAME_SIGN_OCSP, 0, 3, 100);
	cr_assert_eq(write(sv[1], h, 16), 16);
	cr_assert_eq(hk_frame_read(sv[0], HK_FRAME_TO_HOLDER, 5000, &f),
	    HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), "within") != NULL, "%s",
	    hk_err_msg());
}

/* A peer that closed its end (EPIPE) or ended with frames unread
 * (ECONNRESET) is the end of the channel, as a clean EOF is to the
 * reader: HK_ERR_NOT_FOUND, not an I/O error (serve's key holder then
 * exits 70, the worker gone, not 3, a broken protocol). */
Test(frame, write_to_a_gone_peer_is_the_end)
{
	int p[2];

	close(sv[0]);
	sv[0] = -1;
	cr_assert_eq(hk_frame_write(sv[1], HK_FRAME_PING, 0, NULL, 0),
	    HK_ERR_NOT_FOUND, "%s", hk_err_msg());
	cr_assert_str_eq(hk_err_msg(), "channel: closed by the peer");
	/* ECONNRESET: the peer ends with our frame unread in its buffer */
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	cr_assert_eq(hk_frame_write(p[1], HK_FRAME_PING, 0, NULL, 0), 0);
	close(p[0]);
	cr_assert_eq(hk_frame_write(p[1], HK_FRAME_PING, 0, NULL, 0),
	    HK_ERR_NOT_FOUND, "%s", hk_err_msg());
	close(p[1]);
	/* not a socket, and not writable: an I/O error still */
	cr_assert_eq(pipe(p), 0);
	close(p[1]);
	cr_assert_eq(hk_frame_write(p[0], HK_FRAME_PING, 0, NULL, 0),
	    HK_ERR_IO);
	cr_assert(strncmp(hk_err_msg(), "channel: write: ", 16) == 0, "%s",
	    hk_err_msg());
	close(p[0]);
}

Test(frame, nothing_within_the_wait)
{
	struct hk_frame f;

	cr_assert_eq(hk_frame_read(sv[0], HK_FRAME_TO_HOLDER, 50, &f),
	    HK_ERR_IO);
}

Test(frame, audit_payloads)
{
	unsigned char buf[2 + HK_FRAME_DETAIL_MAX];
	char detail[HK_FRAME_DETAIL_MAX + 1], longer[3000];
	const char *ev, *res;
	unsigned code;
	size_t n;

	n = hk_frame_audit_encode(HK_EV_REPO_UNAUTH, "client 1\x01\xff", buf);
	cr_assert_eq(n, 2 + 10);
	cr_assert_eq(hk_frame_audit_decode(buf, n, &code, detail), 0);
	cr_assert_eq(code, HK_EV_REPO_UNAUTH);
	cr_assert_str_eq(detail, "client 1??", "non-printables replaced");
	cr_assert_eq(hk_frame_event_name(code, &ev, &res), 0);
	cr_assert_str_eq(ev, "repo.refuse");
	cr_assert_str_eq(res, "unauthenticated");
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	cr_assert_eq(hk_frame_audit_encode(HK_EV_SUPPRESSED, longer, buf),
	    2 + HK_FRAME_DETAIL_MAX, "cut to the maximum");
	/* decoding refuses what encoding never makes */
	buf[5] = 0x07;
	cr_assert_eq(hk_frame_audit_decode(buf, 12, &code, detail),
	    HK_ERR_PARSE, "a control byte");
	buf[0] = 0x03;
	buf[1] = 0xe7;
	cr_assert_eq(hk_frame_audit_decode(buf, 2, &code, detail),
	    HK_ERR_PARSE, "event 999");
	buf[0] = 0;
	buf[1] = 0;
	cr_assert_eq(hk_frame_audit_decode(buf, 2, &code, detail),
	    HK_ERR_PARSE, "event 0");
	cr_assert_eq(hk_frame_audit_decode(buf, 1, &code, detail),
	    HK_ERR_PARSE, "one byte");
	cr_assert_eq(hk_frame_event_name(HK_EV_END, &ev, &res), -1);
	/* the worker's lost provisions: the key holder's own record's pair,
	 * which report adds up (CPS 4-5) */
	cr_assert_eq(hk_frame_event_name(HK_EV_PROV_LOST, &ev, &res), 0);
	cr_assert_str_eq(ev, "provision.lost");
	cr_assert_str_eq(res, "fail");
}

static int
collect(const struct hk_frame_prov *rec, void *arg)
{
	struct hk_frame_prov *out = arg;
	size_t i;

	for (i = 0; out[i].count != 0; i++)
		;
	out[i] = *rec;
	return 0;
}

Test(frame, provision_payloads)
{
	struct hk_frame_prov in[3], got[5];
	unsigned char *p = NULL, bad[64];
	size_t len = 0, i;

	memset(in, 0, sizeof(in));
	memset(got, 0, sizeof(got));
	snprintf(in[0].name, sizeof(in[0].name), "bank-1");
	snprintf(in[0].object, sizeof(in[0].object), "431010");
	in[0].method = HK_PROV_HTTP;
	in[0].count = 5;
	snprintf(in[1].name, sizeof(in[1].name), "city.2_x");
	snprintf(in[1].object, sizeof(in[1].object), "ocsp");
	in[1].method = HK_PROV_OCSP;
	in[1].count = 4000000000u;
	/* a partition of a later issuing generation (docs/publish.md) */
	snprintf(in[2].name, sizeof(in[2].name), "bank-1");
	snprintf(in[2].object, sizeof(in[2].object), "431010-2");
	in[2].method = HK_PROV_HTTP;
	in[2].count = 1;
	cr_assert_eq(hk_frame_prov_encode(in, 3, &p, &len), 0);
	cr_assert_eq(hk_frame_prov_decode(p, len, collect, got), 0);
	for (i = 0; i < 3; i++) {
		cr_assert_str_eq(got[i].name, in[i].name);
		cr_assert_str_eq(got[i].object, in[i].object);
		cr_assert_eq(got[i].method, in[i].method);
		cr_assert_eq(got[i].count, in[i].count);
	}
	/* every cut and one trailing byte: refused, nothing handed out */
	for (i = 0; i < len; i++) {
		memset(got, 0, sizeof(got));
		cr_assert_eq(hk_frame_prov_decode(p, i, collect, got),
		    HK_ERR_PARSE, "cut at %zu", i);
		cr_assert_eq(got[0].count, 0, "nothing applied at cut %zu", i);
	}
	memcpy(bad, p, len);
	bad[len] = 0;
	cr_assert_eq(hk_frame_prov_decode(bad, len + 1, collect, got),
	    HK_ERR_PARSE);
	/* a bad method, a zero count, a name with '/', an upper-case object */
	memcpy(bad, p, len);
	bad[2] = 9;
	cr_assert_eq(hk_frame_prov_decode(bad, len, collect, got),
	    HK_ERR_PARSE);
	memcpy(bad, p, len);
	bad[20] = 0;
	bad[17] = bad[18] = bad[19] = 0;	/* the count's other bytes */
	cr_assert_eq(hk_frame_prov_decode(bad, len, collect, got),
	    HK_ERR_PARSE, "count 0");
	memcpy(bad, p, len);
	bad[4] = '/';
	cr_assert_eq(hk_frame_prov_decode(bad, len, collect, got),
	    HK_ERR_PARSE);
	memcpy(bad, p, len);
	bad[2 + 2 + 6 + 1] = 'A';
	cr_assert_eq(hk_frame_prov_decode(bad, len, collect, got),
	    HK_ERR_PARSE);
	free(p);
	/* the encoder refuses what the decoder would */
	in[2] = in[0];
	in[2].count = 0;
	cr_assert_eq(hk_frame_prov_encode(in + 2, 1, &p, &len), HK_ERR_INVALID);
	in[2] = in[0];
	snprintf(in[2].name, sizeof(in[2].name), "a b");
	cr_assert_eq(hk_frame_prov_encode(in + 2, 1, &p, &len), HK_ERR_INVALID);
	cr_assert_eq(hk_frame_prov_encode(in, 0, &p, &len), HK_ERR_INVALID);
}

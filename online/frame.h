/*
 * frame.h - the narrow channel between the key holder of "hanko-online
 * serve" and its network worker (docs/process-model.md, DESIGN.md 7).
 *
 * A stream socket (socketpair) carries frames: a fixed 16-byte header
 *
 *	magic "HKF1" (4) | type (2) | flags, always 0 (2) | id (4) | length (4)
 *
 * all big-endian, then length bytes of payload, length at most
 * HK_FRAME_MAX. Each side accepts a fixed set of types. Any framing error
 * (bad magic, flags, unknown or unexpected type, oversize, a frame cut
 * short, a payload that breaks its type's rule) is HK_ERR_PARSE: the
 * reader closes the channel; the key holder audits and exits.
 *
 * Worker -> key holder: PING (empty; "ready"), SIGN_OCSP (a job from
 * hk_ocsp_answer), AUDIT (an event of a fixed set and a detail text),
 * PROVISION (counts of revocation information handed out, CPS 4-5).
 * Key holder -> worker: PONG (empty), RESPONSE (a signed OCSPResponse) or
 * FAILED (empty), each carrying the id of the frame it answers.
 */
#ifndef HK_FRAME_H
#define HK_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define HK_FRAME_MAGIC		0x484b4631u	/* "HKF1" */
#define HK_FRAME_HDR_LEN	16		/* bytes of a header */
#define HK_FRAME_MAX		65536	/* bytes of a payload, at most */
#define HK_FRAME_DETAIL_MAX	1024		/* bytes of an AUDIT detail */
#define HK_FRAME_PROV_MAX	256		/* records in one PROVISION */
#define HK_FRAME_NAME_MAX	64	/* bytes of a relying party's name */
#define HK_FRAME_OBJECT_MAX	16	/* bytes of a provision's object */
#define HK_FRAME_TIMEOUT_MS	5000	/* a started frame must finish */

enum hk_frame_type {
	HK_FRAME_PING = 1,	/* w->k: empty; the first one means ready */
	HK_FRAME_PONG = 2,		/* k->w: empty, answers PING */
	HK_FRAME_SIGN_OCSP = 3,	/* w->k: a signing job (hk_ocsp_answer) */
	HK_FRAME_RESPONSE = 4,	/* k->w: the signed OCSPResponse (DER), or
				 * an unsigned tryLater while the clock is
				 * behind (docs/clock.md) */
	HK_FRAME_FAILED = 5,	/* k->w: empty, the job was not signed */
	HK_FRAME_AUDIT = 6,		/* w->k: event code (2) and detail */
	HK_FRAME_PROVISION = 7,		/* w->k: provision counts */
	HK_FRAME_TYPE_END = 8,		/* first unknown type */
};

/* The set of types each side accepts (bit 1 << type). */
#define HK_FRAME_TO_HOLDER	((1u << HK_FRAME_PING) | \
	(1u << HK_FRAME_SIGN_OCSP) | (1u << HK_FRAME_AUDIT) | \
	(1u << HK_FRAME_PROVISION))
#define HK_FRAME_TO_WORKER	((1u << HK_FRAME_PONG) | \
	(1u << HK_FRAME_RESPONSE) | (1u << HK_FRAME_FAILED))

/* One frame as read. */
struct hk_frame {
	unsigned type;			/* an hk_frame_type */
	uint32_t id;			/* the sender's id; answers repeat it */
	size_t len;			/* bytes of data */
	unsigned char *data;		/* malloc'd payload; NULL when len 0 */
};

/*
 * The events a worker may ask the key holder to audit: each code is one
 * fixed (event, result) pair; nothing else reaches the log from the
 * network side.
 */
enum hk_frame_event {
	HK_EV_REPO_UNAUTH = 1,		/* repo.refuse unauthenticated (401) */
	HK_EV_REPO_FORBIDDEN = 2,	/* repo.refuse forbidden (403) */
	HK_EV_OCSP_UNAUTH = 3,		/* ocsp.refuse unauthenticated */
	HK_EV_OCSP_FORBIDDEN = 4,	/* ocsp.refuse forbidden */
	HK_EV_OCSP_BUSY = 5,	/* ocsp.refuse rate-limited (tryLater) */
	HK_EV_SUPPRESSED = 6,		/* serve.suppressed ok: refusals
					 * counted, not recorded one by one */
	HK_EV_SET_BAD = 7,	/* repo.set fail: a set cannot be read */
	HK_EV_PROV_LOST = 8,	/* provision.lost fail: provisions the
				 * worker could not count (its counter
				 * table full); the detail is their number
				 * alone, which the key holder adds up and
				 * audits once per flush period (CPS 4-5) */
	HK_EV_ACCESS_LOST = 9,	/* serve.access-log fail: lines of the
				 * access log not written (their number
				 * and the error) */
	HK_EV_END = 10,			/* first unknown code */
};

/* The event and result of a code; -1 for an unknown code. */
int hk_frame_event_name(unsigned code, const char **event,
    const char **result);

/* Provision methods in a PROVISION record. */
enum hk_frame_method {
	HK_PROV_HTTP = 1,		/* "http" */
	HK_PROV_OCSP = 2,		/* "ocsp" */
};

/* One PROVISION record: name handed method/object count times. */
struct hk_frame_prov {
	char name[HK_FRAME_NAME_MAX + 1];	/* the relying party's name */
	char object[HK_FRAME_OBJECT_MAX + 1];	/* partition code, "arl",
						 * "ocsp" */
	unsigned method;			/* an hk_frame_method */
	uint32_t count;				/* >= 1 */
};

/* "http" or "ocsp"; NULL for another value. */
const char *hk_frame_method_name(unsigned method);

/*
 * Write one frame (all of it, retrying after EINTR and partial writes).
 * HK_ERR_INVALID for a payload over HK_FRAME_MAX or an unknown type,
 * HK_ERR_NOT_FOUND when the peer is gone (EPIPE: it closed its end;
 * ECONNRESET: it ended with frames unread), as hk_frame_read says of a
 * clean EOF; HK_ERR_IO for any other failed write.
 */
int hk_frame_write(int fd, unsigned type, uint32_t id, const void *data,
    size_t len);

/*
 * Read one frame of a type in accept (a mask of 1 << type). Waits at most
 * timeout_ms for its first byte (-1: for ever), then HK_FRAME_TIMEOUT_MS
 * for the rest. 0 with *f filled; HK_ERR_NOT_FOUND when the peer closed
 * the channel between frames; HK_ERR_IO on a timeout before the first byte
 * or a read error; HK_ERR_PARSE for any framing error (with a one-line
 * detail: "channel: rule"). *f is cleared on entry.
 */
int hk_frame_read(int fd, unsigned accept, int timeout_ms,
    struct hk_frame *f);
void hk_frame_free(struct hk_frame *f);

/*
 * AUDIT payload: code (2 bytes) then the detail, printable ASCII only
 * (0x20..0x7e), at most HK_FRAME_DETAIL_MAX bytes. Encoding replaces any
 * other byte with '?' and cuts an over-long detail; decoding refuses both
 * (HK_ERR_PARSE). buf holds 2 + HK_FRAME_DETAIL_MAX bytes; detail receives
 * a NUL-terminated copy (HK_FRAME_DETAIL_MAX + 1 bytes).
 */
size_t hk_frame_audit_encode(unsigned code, const char *detail,
    unsigned char *buf);
int hk_frame_audit_decode(const unsigned char *p, size_t len, unsigned *code,
    char *detail);

/*
 * PROVISION payload: record count (2 bytes, 1..HK_FRAME_PROV_MAX), then per
 * record method (1), name length (1) and name ([A-Za-z0-9._-], 1..64),
 * object length (1) and object ([a-z0-9-], 1..16: "arl", "ocsp" or a
 * partition id such as 431010 or 431010-2), count (4, >= 1); nothing
 * after. Encoding: HK_ERR_INVALID for a record that breaks these rules or
 * a payload over HK_FRAME_MAX. Decoding calls fn for each record of a
 * payload that is valid as a whole (checked first), else HK_ERR_PARSE.
 */
int hk_frame_prov_encode(const struct hk_frame_prov *recs, size_t n,
    unsigned char **out, size_t *len);
int hk_frame_prov_decode(const unsigned char *p, size_t len,
    int (*fn)(const struct hk_frame_prov *rec, void *arg), void *arg);

#endif

/*
 * request.h - residents' certificate requests (CPS 4-1, 4-2; docs/
 * requests.md): one request per line of a CSV file with a header, every
 * field checked against its rule. A refusal is one line
 * "<file>:<line>: <field>: <rule>" (hk_err_set) and HK_ERR_INVALID (or
 * HK_ERR_PARSE for a line that is not a row of the format).
 *
 *   municipality,resident_id,name,name_flags,birth,gender,address,address_flags,key
 */
#ifndef HK_REQUEST_H
#define HK_REQUEST_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "basic4.h"
#include "municipalities.h"
#include "profile.h"

#define HK_REQ_HEADER	"municipality,resident_id,name,name_flags,birth," \
			"gender,address,address_flags,key"
#define HK_REQ_LINE_MAX	4096	/* bytes of a line, incl. newline */
#define HK_REQ_ID_LEN	11	/* digits of a resident identifier */
#define HK_REQ_PREFECTURE "熊本県" /* the address's first characters */

struct hk_request {
	size_t line;				/* line number in the file */
	const struct hk_muni *muni;		/* the municipality (in munis) */
	char resident_id[HK_REQ_ID_LEN + 1];	/* 住民票コード; never stored */
	struct hk_basic4 b4;			/* the basic 4 items + flags */
	EVP_PKEY *key;				/* the resident's public key */
};

/* Context of a batch: what the rules need. */
struct hk_request_ctx {
	const char *input;		/* file name for messages */
	const char *basedir;		/* key paths are relative to it */
	const struct hk_munis *munis;	/* known municipalities */
	const struct hk_profile *p;	/* key type and size rules */
	time_t now;			/* dates of birth not after its
					 * date in Japan (UTC+9); a
					 * municipality retired by then
					 * issues nothing */
};

/*
 * A batch file read whole (at most max bytes): its SHA-256 (lowercase hex),
 * its lines as offsets and lengths into content, each newline replaced by
 * a NUL (a line may hold NUL bytes of its own: lens counts them), the
 * folder its key paths are relative to, and its header line checked
 * against c (whose input and basedir are set here; c->basedir points
 * into b). A missing file is HK_ERR_NOT_FOUND, "cannot open the batch".
 * What it allocated is the caller's, also on failure: hk_batch_file_free.
 */
struct hk_batch_file {
	unsigned char *content;		/* the bytes, malloc'd */
	size_t len;
	size_t *lines, *lens;		/* nlines offsets and lengths */
	size_t nlines;
	char sha[65];
	char basedir[4096];
	size_t bad_line, bad_byte;	/* the first byte that is not UTF-8
					 * (line and byte in it, 1-based) of
					 * a file in another encoding (no line
					 * with UTF-8 beyond ASCII); bad_line
					 * 0: UTF-8, each bad line its own
					 * refusal */
	unsigned char bad_val;		/* that byte */
};
int hk_batch_file_read(const char *path, size_t max, struct hk_batch_file *b,
    struct hk_request_ctx *c);
/* Free what hk_batch_file_read allocated, the content cleansed first (it
 * holds resident identifiers). */
void hk_batch_file_free(struct hk_batch_file *b);
/* 0 if the whole file is UTF-8; else HK_ERR_PARSE with one line naming its
 * first byte that is not and what to do (a Shift_JIS file, Excel's "CSV
 * (カンマ区切り)", is one whole-file refusal, not a refusal per line). */
int hk_batch_file_utf8(const struct hk_batch_file *b, const char *path);

/* 0 if line (no newline) is exactly HK_REQ_HEADER. */
int hk_request_header(const struct hk_request_ctx *c, const char *line);
/* Parse and check one line (no newline) into *out (key owned by out). */
int hk_request_parse(const struct hk_request_ctx *c, size_t lineno,
    const char *line, struct hk_request *out);
/* The same for len bytes as read (getline): a NUL byte among them is
 * refused, where a C string would silently end at it. */
int hk_request_parse_bytes(const struct hk_request_ctx *c, size_t lineno,
    const char *line, size_t len, struct hk_request *out);
void hk_request_clear(struct hk_request *r);

/* The birth and name/address character rules are the basic 4 items' own,
 * shared with the lint: hk_basic4_birth_ok, hk_basic4_jis_ok (basic4.h). */

#endif

/*
 * transcript.h - the record of a ceremony (CPS 4-12-1, DESIGN.md 5).
 *
 * Lines "key: value" collected while the ceremony runs (script hash,
 * inputs' hashes, people, each step with time, actors and result, digests
 * confirmed, outputs' hashes), then written once as
 *   <base>.txt      the transcript, UTF-8 text
 *   <base>.txt.sig  a detached signature over it by the token's audit key
 *                   (openssl dgst -sha256 -verify audit-key.pem -signature)
 *   <base>.html     a printable page: the same lines, every digest also as
 *                   a QR code (inline SVG), and a line for each witness's
 *                   signature
 * none of which ever replaces an existing file. docs/ceremonies.md has the
 * format.
 */
#ifndef HK_TRANSCRIPT_H
#define HK_TRANSCRIPT_H

#include <openssl/evp.h>

#define HK_TRANSCRIPT_FORMAT	"hanko-ceremony-transcript: 1"

struct hk_transcript;

int hk_transcript_new(const char *title, struct hk_transcript **out);
void hk_transcript_free(struct hk_transcript *t);
/* One line "key: value", value escaped as the audit log's details are
 * (hk_audit_escape: \\, \t, \n, \r, and \xHH for each byte of another
 * control character, of a bidirectional control such as U+202E or of
 * invalid UTF-8), so the printed transcript reads as what happened. Any
 * number of lines (memory only); a line that finds no memory is counted
 * and the transcript says so ("lost: N"). dgst, if not NULL, is a SHA-256
 * shown as a QR code on the printed page. */
int hk_transcript_add(struct hk_transcript *t, const char *key,
    const unsigned char *dgst, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A person who signs the paper copy (id, name and role escaped the same
 * way); any number of them. */
int hk_transcript_witness(struct hk_transcript *t, const char *id,
    const char *name, const char *role);
/*
 * Write <dir>/<base>.txt, .txt.sig (only when key is not NULL; the
 * signature is verified with pub first) and .html. If <base>.txt exists,
 * "-2" ... "-99" is appended to base. txt receives the .txt path.
 */
int hk_transcript_write(struct hk_transcript *t, const char *dir,
    const char *base, EVP_PKEY *key, EVP_PKEY *pub, char *txt, size_t txtlen);

#endif

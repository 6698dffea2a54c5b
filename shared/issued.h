/*
 * issued.h - the register of what the root key has signed (CPS 4-10,
 * 4-14-2, 7-2-2): every certificate the root issues is recorded here when
 * its ceremony commits, revocations mark it, and ARLs are built from it.
 *
 * <state>/issued.txt, one line per certificate, tab-separated:
 *   serial  kind  notBefore  notAfter  sha256  file  status  revokedAt  reason  subject
 * serial is lowercase hex; times RFC 3339 UTC; status "valid" or "revoked";
 * revokedAt and reason "-" while valid; reason is the RFC 5280 CRLReason
 * number (1..5, CPS 4-4-4-2). The file is rewritten atomically; the audit
 * log records every change. Nothing is ever un-revoked.
 */
#ifndef HK_ISSUED_H
#define HK_ISSUED_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#define HK_ISSUED_FILE		"issued.txt"
#define HK_ISSUED_MAX		100000	/* lines in one register */

struct hk_issued_entry {
	char serial[41 + 2];	/* lowercase hex, no leading zeros beyond one */
	char kind[24];		/* root, link, cross, issuing, ocsp, validation */
	time_t not_before;	/* validity of the certificate */
	time_t not_after;
	char sha256[65];	/* SHA-256 of the DER, lowercase hex */
	char file[256];		/* path relative to the state folder */
	int revoked;		/* 1 once revoked */
	time_t revoked_at;	/* valid when revoked */
	int reason;		/* CRLReason when revoked; 0 = none given */
	char subject[512];	/* RFC 2253 subject, for people */
};

struct hk_issued {
	char path[4096];		/* the register file */
	struct hk_issued_entry *e;	/* entries in file order */
	size_t n;			/* entries used */
	size_t cap;			/* entries allocated */
};

/* Load <state_dir>/issued.txt; a missing file is an empty register. */
int hk_issued_load(const char *state_dir, struct hk_issued **out);
/* Add a certificate (refuses a serial already present). */
int hk_issued_add(struct hk_issued *r, X509 *cert, const char *kind,
    const char *file);
/* The entry of serial (hex, any case), or NULL. */
struct hk_issued_entry *hk_issued_find(struct hk_issued *r,
    const char *serial);
/* Mark revoked; HK_ERR_INVALID for an unknown reason (only 1..5) and
 * HK_ERR_EXISTS when already revoked (never un-revoked or re-dated). */
int hk_issued_revoke(struct hk_issued *r, const char *serial, time_t when,
    int reason);
/* Write the register atomically. */
int hk_issued_save(const struct hk_issued *r);
/* The same; *placed is 1 once the new file is in place, also when the
 * call then failed (its folder's fsync). */
int hk_issued_save_placed(const struct hk_issued *r, int *placed);
void hk_issued_free(struct hk_issued *r);
/* Lowercase hex of a certificate's serial into buf (>= 43 bytes). */
int hk_issued_serial_hex(X509 *cert, char *buf, size_t len);

#endif

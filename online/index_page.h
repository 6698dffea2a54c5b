/*
 * index_page.h - the public index page of the repository (CPS 2-6;
 * DESIGN.md 7 "Repository"; docs/repository.md).
 *
 * One complete, static HTML page (no script, inline CSS), in Japanese and
 * English, describing one published set folder from its MANIFEST:
 *
 *   - each root generation, issuing CA and OCSP responder certificate:
 *     subject, issuer, serial, validity and status at now, the SHA-256
 *     fingerprint as text and as a QR code (inline SVG, libqrencode via
 *     shared/qr.h; payload "AA:BB:...", as openssl x509 -fingerprint
 *     -sha256 prints it) and a link to the DER file;
 *   - the link certificates, cross certificates and CertificatePairs, the
 *     roots' PKCS#7 bundle and MANIFEST, linked;
 *   - the freshness of the ARL and of every partition CRL (thisUpdate,
 *     nextUpdate, number and time left at now, from MANIFEST): a row under
 *     24 hours from its nextUpdate is marked as a warning, one past it as
 *     expired, and a banner at the top counts them. CRL files are listed
 *     without links: they are for registered relying parties only
 *     (CPS 2-6-3), as the page's access section says.
 *
 * Links are relative to the repository's top (the page is served as "/"
 * or placed beside root/, crl/, ...); only files hk_repo_public allows are
 * linked. Every text from the set (subjects, file names) is HTML-escaped;
 * bytes that are not UTF-8 or are control characters show as \xNN. Each
 * certificate file is read through hk_repo_read (size and SHA-256 checked
 * against MANIFEST); CRL files only have their size checked (they may be
 * large, and are not shown).
 */
#ifndef HK_INDEX_PAGE_H
#define HK_INDEX_PAGE_H

#include <stddef.h>
#include <time.h>

#define HK_INDEX_WARN_SECONDS	(24 * 3600)	/* nextUpdate this close:
						 * a warning */

struct hk_repo_set;

/*
 * The page for the current set of the repository repo (the link
 * "--repo DIR", repo.h) at now: *html malloc'd (free()), *len bytes, NUL
 * terminated. Errors: those of hk_repo_open, HK_ERR_NOT_FOUND (a listed
 * file missing), HK_ERR_PARSE (a certificate, a CRL line without its
 * times), HK_ERR_VERIFY (a file differs from its MANIFEST line), with a
 * one-line detail. Thread-safe.
 */
int hk_index_html(const char *repo, time_t now, char **html, size_t *len);
/* The same for a set already open (serve holds one). */
int hk_index_html_set(const struct hk_repo_set *set, time_t now,
    char **html, size_t *len);

#endif

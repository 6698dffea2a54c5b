/*
 * crosspair.h - CertificatePair (X.509 11.2.3, RFC 4523 2.6) for the
 * crossCertificatePair attribute of our root's repository entry:
 *
 *   CertificatePair ::= SEQUENCE {
 *     forward [0] EXPLICIT Certificate OPTIONAL,
 *     reverse [1] EXPLICIT Certificate OPTIONAL }
 *     -- at least one of the pair shall be present
 *
 * In our entry (PROFILE.md, Repository): forward = the certificate the
 * bridge CA issued to us, reverse = the one we issued to it (CPS 4-8).
 */
#ifndef HK_CROSSPAIR_H
#define HK_CROSSPAIR_H

#include <stddef.h>

#include <openssl/x509.h>

#define HK_CROSSPAIR_MAX	(128 * 1024)	/* bytes of an encoded pair */

/* DER of the pair (either member may be NULL, not both); *der is
 * OPENSSL_malloc'd (OPENSSL_free). */
int hk_crosspair_encode(X509 *forward, X509 *reverse, unsigned char **der,
    size_t *len);

/* Strict decode: DER only (re-encoding equals the input), no trailing
 * bytes, at least one member. *forward / *reverse are NULL when absent. */
int hk_crosspair_decode(const unsigned char *der, size_t len,
    X509 **forward, X509 **reverse);

/*
 * The pair is ours: forward (when present) certifies root's current key
 * and name (subject DN and public key equal root's, issued by another CA)
 * and its signature is not checked here (that is the bridge's anchor's
 * business); reverse (when present) is byte for byte issued_reverse, the
 * cross certificate we issued, and verifies with root's key.
 */
int hk_crosspair_check(X509 *forward, X509 *reverse, X509 *root,
    X509 *issued_reverse);

#endif

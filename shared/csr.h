/*
 * csr.h - PKCS#10 certification requests (RFC 2986) from outside the root:
 * the online issuing CA, the OCSP responder, the validation server and the
 * bridge CA (CPS 4-6, 4-7). All hostile: read strictly, check strictly.
 */
#ifndef HK_CSR_H
#define HK_CSR_H

#include <stddef.h>

#include <openssl/x509.h>

#include "profile.h"

#define HK_CSR_MAX		(64 * 1024)	/* bytes of a CSR file read */

/* hk_csr_check flags */
#define HK_CSR_ALLOW_EXTENSIONS	0x01	/* accept an extensionRequest attribute
					 * (its content is never copied) */
#define HK_CSR_ALLOW_ATTRIBUTES	0x02	/* accept any other attribute */

/*
 * Read one request, PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE
 * REQUEST", only blanks around it) or DER. Refuses trailing bytes, a
 * second PEM block and any encoding that is not DER (the re-encoding must
 * equal the input, so the fingerprint is that of the bytes received).
 */
int hk_csr_read(const char *path, X509_REQ **out);
/* Same from memory; input names the source in messages. */
int hk_csr_parse(const unsigned char *buf, size_t len, const char *input,
    X509_REQ **out);

/*
 * Check a parsed request: version 1 (0), signature algorithm in the
 * allow-list (SHA-256/384/512 with RSA or ECDSA), signature verifies with
 * the request's own key (proof of possession), key RSA-2048/3072/4096 or
 * P-384 and, when want is not NULL, exactly *want; subject single-valued
 * RDNs with C PrintableString and the rest UTF8String and, when expected is
 * not NULL, equal to it (DER); attributes refused unless flags allow. input
 * names the request in the detail ("issuing.csr: RFC 2986 4.2: ...").
 */
int hk_csr_check(X509_REQ *req, const char *input, const X509_NAME *expected,
    const enum hk_key_alg *want, unsigned flags);

/* SHA-256 over the DER request, as "AA:BB:..." for operators to read aloud
 * (96 bytes incl. NUL). */
int hk_csr_fingerprint_text(X509_REQ *req, char out[96]);

#endif

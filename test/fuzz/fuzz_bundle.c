/*
 * fuzz_bundle.c - the bundle reader's parsers (media-format/SPEC.md 4, 6):
 * input = 2-byte big-endian manifest length, the manifest, then
 * manifest.sig. The manifest goes through the strict parser, the pair
 * through the signature and trust check against the vectors' root1.pem.
 * Seeds: test/fuzz/corpus/bundle/ (from media-format/vectors).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "bundle.h"
#include "cert.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *anchor;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hk_bundle_manifest *m = NULL;
	struct hk_bundle_trust t;
	unsigned char id[20];
	size_t mlen;

	if (anchor == NULL && hk_cert_read(HANKO_SOURCE_DIR
	    "/media-format/vectors/root1.pem", &anchor) != 0)
		abort();
	if (size < 2)
		return 0;
	mlen = ((size_t)data[0] << 8) | data[1];
	if (mlen > size - 2)
		mlen = size - 2;
	if (hk_bundle_manifest_parse(data + 2, mlen, "fuzz", &m) == 0) {
		char *enc = NULL;
		size_t elen;
		/* what parses is canonical: it encodes to the same bytes */
		if (hk_bundle_manifest_encode(m, &enc, &elen) != 0 ||
		    elen != mlen || memcmp(enc, data + 2, mlen) != 0)
			abort();
		free(enc);
	}
	hk_bundle_manifest_free(m);
	t.anchor = anchor;
	t.links = NULL;
	(void)hk_bundle_check_signature(data + 2, mlen, data + 2 + mlen,
	    size - 2 - mlen, &t, "fuzz", id);
	ERR_clear_error();
	return 0;
}

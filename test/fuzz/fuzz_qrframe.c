/*
 * fuzz_qrframe.c - the QR frame parser and set assembly
 * (media-format/SPEC.md 11): input = frames, each preceded by a 2-byte
 * big-endian length, as zbar would hand them over in any order. Whatever
 * the set accepts must hash to the SHA-256 its frames name.
 * Seeds: test/fuzz/corpus/qrframe/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "qrframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hk_qrf_set *s = NULL;
	struct hk_qrf_frame f, f0;
	unsigned char *out = NULL, h[32];
	size_t pos = 0, olen = 0;
	int nf = 0;

	(void)hk_qrf_parse(data, size, "fuzz", &f);
	if (hk_qrf_set_new(&s) != 0)
		return 0;
	while (size - pos >= 2) {
		size_t len = ((size_t)data[pos] << 8) | data[pos + 1];
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		/* the set's identity is its first accepted frame's */
		if (hk_qrf_set_add(s, data + pos, len, "fuzz") == 0 &&
		    nf++ == 0 && hk_qrf_parse(data + pos, len, "fuzz",
		    &f0) != 0)
			abort();
		pos += len;
	}
	if (hk_qrf_set_finish(s, &out, &olen) == 0) {
		if (nf == 0)
			abort();
		crypto_hash_sha256(h, out, olen);
		if (memcmp(h, f0.sha256, 32) != 0 || olen != f0.total)
			abort();
	}
	free(out);
	hk_qrf_set_free(s);
	return 0;
}

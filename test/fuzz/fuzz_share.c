/* fuzz_share.c - a key manager's share file is hostile input: the parser
 * behind hk_quorum_share_info must refuse damage without crashing. The
 * input is written to a file in the working folder (the API reads files). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "quorum.h"
#include "secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct hk_quorum_share_info info;
	FILE *f;

	if (!init) {
		hk_secmem_init();
		init = 1;
	}
	if ((f = fopen("fuzz-share.hks", "wb")) == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	(void)hk_quorum_share_info("fuzz-share.hks", &info);
	return 0;
}

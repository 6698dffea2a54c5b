/* fuzz_script.c - libFuzzer target for the ceremony script loader (over
 * yamlx) with hanko-offline's own action registry. Build with
 * -DHANKO_FUZZ=ON and clang (test/fuzz/run.sh); seeds: corpus/script/. */
#include <stddef.h>
#include <stdint.h>

#include "ceremony.h"
#include "err.h"
#include "script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hk_action_spec *const *reg;
	struct hk_script *s = NULL;
	size_t n;

	reg = hk_ceremony_registry(&n);
	if (hk_script_load_buf("fuzz.yaml", data, size, reg, n, &s) == 0)
		hk_script_free(s);
	hk_err_clear();
	return 0;
}

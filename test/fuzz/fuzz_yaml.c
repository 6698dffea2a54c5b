/* fuzz_yaml.c - the strict YAML loader under hostile bytes: it must refuse
 * or accept, never crash, leak or run away (caps on size, depth, nodes). */
#include <stddef.h>
#include <stdint.h>

#include "yamlx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hk_yaml_doc *doc = NULL;

	if (hk_yaml_load_buf("fuzz.yaml", data, size, &doc) == 0)
		hk_yaml_free(doc);
	return 0;
}

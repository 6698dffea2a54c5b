/* fuzz_roster.c - libFuzzer target for the roster (shared/roster.c:
 * hk_roster_load_buf), the YAML file of the CA's people and the key
 * managers' quorum that init copies into the state folder. Beyond "no
 * crash, no leak": a refusal names the file; a roster loaded keeps the
 * rules of roster.h (ids valid and unique, 2 <= m <= n <= 255 key
 * managers, token keys one person's). Seeds: corpus/roster/
 * (test/data/roster/). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "roster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hk_roster *ro = NULL;
	size_t i, j, km = 0;

	if (hk_roster_load_buf("fuzz.yaml", data, size, &ro) != 0) {
		if (ro != NULL || strncmp(hk_err_msg(), "fuzz.yaml",
		    strlen("fuzz.yaml")) != 0)
			abort();
		hk_err_clear();
		return 0;
	}
	if (ro->npeople == 0 || ro->npeople > HK_ROSTER_MAX_PEOPLE ||
	    ro->nkm < 2 || ro->nkm > HK_ROSTER_MAX_KM ||
	    ro->threshold < 2 || ro->threshold > ro->nkm ||
	    hk_roster_key_managers(ro) != ro->nkm)
		abort();
	for (i = 0; i < ro->npeople; i++) {
		const struct hk_person *p = &ro->people[i];
		if (hk_roster_id_check(p->id) != 0 ||
		    hk_roster_find(ro, p->id) != p || p->name[0] == '\0' ||
		    hk_role_name(p->role) == NULL)
			abort();
		for (j = 0; j < i; j++)
			if (p->has_spki && ro->people[j].has_spki &&
			    memcmp(p->spki_sha256, ro->people[j].spki_sha256,
			    32) == 0)
				abort();
		if (p->role == HK_ROLE_KEY_MANAGER) {
			if (hk_roster_key_manager(ro, km++) != p)
				abort();
		}
	}
	if (km != ro->nkm || hk_roster_count(ro, HK_ROLE_KEY_MANAGER) != km)
		abort();
	hk_roster_free(ro);
	hk_err_clear();
	return 0;
}

/* fuzz_profile.c - libFuzzer target for the certificate profile
 * (shared/profile.c: hk_profile_load_buf, docs/profile.md) and the way a
 * state folder reads the profile it accepted (shared/profile_accept.c:
 * hk_profile_load_accepted, which every signing command goes through).
 * The input is the whole profile.yaml. Beyond "no crash, no leak": a
 * refusal names the file; a profile loaded equals itself and compares
 * with the default; the accepted path loads the same bytes to the same
 * profile when state.conf records their SHA-256, and refuses them
 * (HK_ERR_STATE) when it records another. Seeds: corpus/profile/
 * (ceremony-scripts/profile-kumamoto.yaml, test/data/profile/). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "err.h"
#include "profile.h"
#include "profile_accept.h"
#include "state.h"
#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *dir;
static char path[128];
static struct hk_profile *def;

static void
cleanup(void)
{
	hk_profile_free(def);
}

static void
setup(void)
{
	dir = fuzz_tmp_dir("fuzz_profile");
	if (hk_profile_default(&def) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/" HK_PROFILE_FILE, dir);
	atexit(cleanup);
}

/* The rules of docs/profile.md that a profile loaded keeps. */
static void
check(const struct hk_profile *p)
{
	size_t ml = strlen(p->rehearsal_marker);

	if (p->root_validity_years < 1 || p->root_validity_years > 30 ||
	    p->root_key_use_years < 1 ||
	    p->root_key_use_years > p->root_validity_years ||
	    p->issuing_validity_years < 2 ||
	    p->issuing_validity_years > p->root_validity_years ||
	    p->user_validity_years < 1 ||
	    p->user_validity_years >= p->issuing_validity_years ||
	    (p->root_key == HK_KEY_EC_P384) !=
	    (p->root_signature == HK_SIG_ECDSA_SHA384) ||
	    p->issuing_key == HK_KEY_EC_P384 || p->user_key == HK_KEY_EC_P384 ||
	    p->crl_validity_hours <= HK_PROFILE_CRL_SLACK_HOURS ||
	    p->crl_interval_hours < 1 || p->crl_interval_hours >
	    p->crl_validity_hours - HK_PROFILE_CRL_SLACK_HOURS ||
	    strcmp(p->policy_user, p->policy_user_test) == 0 ||
	    strcmp(p->policy_ocsp, p->policy_ocsp_test) == 0 ||
	    strcmp(p->policy_validation, p->policy_validation_test) == 0 ||
	    hk_oid_check(p->policy_ca) != 0 || hk_oid_check(p->policy_user) !=
	    0 || ml == 0 || p->rehearsal_marker[0] == ' ' ||
	    p->rehearsal_marker[ml - 1] == ' ' ||
	    (p->repository_url[0] != '\0' &&
	    strncmp(p->repository_url, "http://", 7) != 0 &&
	    strncmp(p->repository_url, "https://", 8) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hk_profile *p = NULL, *q = NULL;
	struct hk_profile_seen seen;
	struct hk_state *st = NULL;
	unsigned char d[32];
	char hex[65], buf[256];
	FILE *f;
	int r, ra;
	size_t i;

	if (dir == NULL)
		setup();
	r = hk_profile_load_buf("fuzz.yaml", data, size, &p);
	if (r != 0) {
		if (p != NULL || strncmp(hk_err_msg(), "fuzz.yaml", 9) != 0)
			abort();
	} else {
		check(p);
		if (hk_profile_diff(p, p) != NULL ||
		    hk_profile_changes(p, p, "; ", buf, sizeof(buf)) != 0 ||
		    buf[0] != '\0')
			abort();
		if ((hk_profile_diff(p, def) == NULL) !=
		    (hk_profile_changes(p, def, "; ", buf, sizeof(buf)) == 0))
			abort();
	}
	hk_err_clear();

	/* the same bytes as <state>/profile.yaml, accepted by digest */
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	SHA256(data, size, d);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	if (hk_state_new(dir, &st) != 0 ||
	    hk_profile_record(st, hex, "2026-04-01T00:00:00Z", "init") != 0)
		abort();
	ra = hk_profile_load_accepted(st, "accept", &q, &seen);
	if ((ra == 0) != (r == 0) || strcmp(seen.hex, hex) != 0 ||
	    seen.adopt)
		abort();
	if (ra == 0 && hk_profile_diff(p, q) != NULL)
		abort();
	hk_profile_free(q);
	q = NULL;
	hex[0] = hex[0] == '0' ? '1' : '0';	/* another digest */
	if (hk_profile_record(st, hex, "2026-04-01T00:00:00Z", "init") != 0 ||
	    hk_profile_load_accepted(st, "accept", &q, &seen) != HK_ERR_STATE ||
	    q != NULL)
		abort();
	hk_state_free(st);
	hk_profile_free(p);
	hk_err_clear();
	return 0;
}

/*
 * newset.c - what "init" and "rotate-shares" do alike for the key managers
 * of a new quorum set (CPS 6-2-1-2): each one's new passphrase, strong and
 * their own, and each one's folder on the media for their share.
 */
#include <stdio.h>
#include <string.h>

#include "atomic.h"
#include "err.h"
#include "offline.h"
#include "passin.h"
#include "quorum.h"
#include "roster.h"

/* The --passin SPEC given as "<id>=SPEC", or NULL (prompt). */
static const char *
passin_for(const char *const *passin_id, const char *const *passin_spec,
    int npassin, const char *id)
{
	size_t len = strlen(id);
	int i;

	for (i = 0; i < npassin; i++)
		if (strncmp(passin_id[i], id, len) == 0 &&
		    passin_id[i][len] == '=')
			return passin_spec[i];
	return NULL;
}

int
hk_newset_passphrases(const struct hk_roster *ro,
    const char *const *passin_id, const char *const *passin_spec,
    int npassin, const char *of, char **pass)
{
	size_t i, j, n = hk_roster_key_managers(ro);
	int r;

	for (i = 0; i < n; i++) {
		const struct hk_person *km = hk_roster_key_manager(ro, i);
		char prompt[512];

		snprintf(prompt, sizeof(prompt), "New passphrase for %s (%s), "
		    "key manager %zu of %zu%s: ", km->id, km->name, i + 1, n,
		    of);
		if ((r = hk_passin_read_new(passin_for(passin_id, passin_spec,
		    npassin, km->id), prompt, &pass[i])) != 0)
			return r;
		if ((r = hk_passphrase_check(pass[i], km->id, km->name, NULL,
		    0)) != 0) {
			hk_err_set("passphrase of key manager %s: %s", km->id,
			    hk_err_msg());
			return r;
		}
		for (j = 0; j < i; j++)
			if (hk_passphrase_equal(pass[i], pass[j])) {
				hk_err_set("passphrase of key manager %s: the "
				    "same as %s's; each holder needs their own",
				    km->id, hk_roster_key_manager(ro, j)->id);
				return HK_ERR_WEAK_PASSPHRASE;
			}
	}
	return 0;
}

int
hk_newset_media_dir(const char *media, const char *id)
{
	char dir[4096];
	int r;

	snprintf(dir, sizeof(dir), "%s/%s", media, id);
	if ((r = hk_dir_ensure(media, 0700)) != 0)
		return r;
	if ((r = hk_dir_ensure(dir, 0700)) != 0)
		return r;
	return 0;
}

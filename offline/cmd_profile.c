/*
 * cmd_profile.c - "hanko-offline profile check FILE": load a profile with
 * every rule of docs/profile.md and say whether it differs from the Kumamoto
 * defaults of PROFILE.md.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "offline.h"
#include "profile.h"

int
cmd_profile(int argc, char **argv)
{
	struct hk_profile *p = NULL, *d = NULL;
	const char *diff;
	int r;

	if ((argc == 2 || argc == 3) &&
	    strcmp(argv[argc - 1], "--help") == 0) {
		puts("usage: hanko-offline profile check FILE");
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "check") != 0) {
		hk_err_set("usage: hanko-offline profile check FILE");
		return HK_ERR_USAGE;
	}
	if ((r = hk_profile_load(argv[2], &p)) != 0)
		return r;
	if ((r = hk_profile_default(&d)) != 0)
		goto out;
	diff = hk_profile_diff(p, d);
	printf("%s: OK; %s%s\n", argv[2], diff == NULL ?
	    "same values as the Kumamoto defaults" :
	    "differs from the Kumamoto defaults, first at ",
	    diff == NULL ? "" : diff);
 out:
	hk_profile_free(p);
	hk_profile_free(d);
	return r;
}

/*
 * cmd_index.c - "hanko-online index-page": the repository's public index
 * page (index_page.h) for a repository folder, on stdout or into a file
 * (replaced atomically, mode 0644) that operators may publish statically.
 * It reads the set and changes nothing, so it needs no state folder, and
 * --clock only says for which time the freshness is shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "clock.h"
#include "err.h"
#include "index_page.h"
#include "online.h"

struct index_opts {
	const char *repo;		/* --repo: the repository folder */
	const char *clock;		/* --clock T, NULL: now */
	const char *out;		/* --out FILE, NULL: stdout */
};

static const char index_usage[] =
"usage: hanko-online index-page --repo DIR [--clock T] [--out FILE]\n";

static int
parse(struct index_opts *o, int argc, char **argv)
{
	const char **slot;
	int i, r;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(index_usage, stdout);
			return 1;
		}
		if (strcmp(argv[i], "--repo") == 0)
			slot = &o->repo;
		else if (strcmp(argv[i], "--clock") == 0)
			slot = &o->clock;
		else if (strcmp(argv[i], "--out") == 0)
			slot = &o->out;
		else {
			hk_err_set("%s: unknown option (see --help)", argv[i]);
			return HK_ERR_USAGE;
		}
		if ((r = hk_opt_once(slot, argc, argv, &i)) != 0)
			return r;
	}
	if (o->repo == NULL) {
		hk_err_set("--repo DIR is required (see --help)");
		return HK_ERR_USAGE;
	}
	return 0;
}

int
cmd_index(int argc, char **argv)
{
	struct index_opts o;
	char *html = NULL;
	size_t len = 0;
	time_t now;
	int r;

	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if (o.clock != NULL) {
		if (hk_time_parse(o.clock, &now) != 0) {
			hk_err_set("--clock %s: expected YYYY-MM-DDTHH:MM:SSZ",
			    o.clock);
			return HK_ERR_USAGE;
		}
	} else
		now = hk_clock_now();
	/* hk_repo_open reads the link once: one set, even if publish
	 * swaps it meanwhile */
	if ((r = hk_index_html(o.repo, now, &html, &len)) != 0)
		return r;
	if (o.out != NULL)
		r = hk_file_write(o.out, html, len, 0644, 0);
	else if (fwrite(html, 1, len, stdout) != len || fflush(stdout) != 0) {
		hk_err_set("stdout: cannot write the page");
		r = HK_ERR_IO;
	}
	free(html);
	return r;
}

/*
 * cmd_ceremony.c - "hanko-offline ceremony": run or check a ceremony
 * script (DESIGN.md section 5, docs/ceremonies.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony.h"
#include "err.h"
#include "script.h"

static const char ceremony_usage[] =
"usage: hanko-offline ceremony run SCRIPT --state DIR [--rehearsal]\n"
"           [--keep-rehearsal] [--clock YYYY-MM-DDTHH:MM:SSZ]\n"
"           [--share FILE [--passin SPEC]]... [--operator ID[=SPEC]]...\n"
"           [--input NAME=PATH]... [--out DIR] [--confirm-digests]\n"
"       hanko-offline ceremony check SCRIPT\n"
"       hanko-offline ceremony actions\n";

static int
parse_run(struct hk_cer_opts *o, int argc, char **argv)
{
	struct hk_common_opts c;
	int i, r;

	memset(o, 0, sizeof(*o));
	memset(&c, 0, sizeof(c));
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *v, *eq;

		if (hk_common_opt(&c, argc, argv, &i, &r) ||
		    hk_share_opt(o->shares, &o->nshares, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
		} else if (strcmp(a, "--rehearsal") == 0) {
			if (o->rehearsal)
				return hk_err_twice(a, NULL, NULL);
			o->rehearsal = 1;
		} else if (strcmp(a, "--keep-rehearsal") == 0) {
			if (o->keep_rehearsal)
				return hk_err_twice(a, NULL, NULL);
			o->keep_rehearsal = 1;
		} else if (strcmp(a, "--confirm-digests") == 0) {
			if (o->confirm_digests)
				return hk_err_twice(a, NULL, NULL);
			o->confirm_digests = 1;
		} else if (strcmp(a, "--out") == 0) {
			if ((r = hk_opt_once(&o->out, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(a, "--operator") == 0) {
			if ((v = hk_opt_value(argc, argv, &i)) == NULL)
				return HK_ERR_USAGE;
			if (o->nops == HK_CER_MAX_PEOPLE) {
				hk_err_set("--operator: at most %d people",
				    HK_CER_MAX_PEOPLE);
				return HK_ERR_USAGE;
			}
			eq = strchr(v, '=');
			o->op_id[o->nops] = v;
			o->op_spec[o->nops++] = eq ? eq + 1 : NULL;
		} else if (strcmp(a, "--input") == 0) {
			if ((v = hk_opt_value(argc, argv, &i)) == NULL)
				return HK_ERR_USAGE;
			if ((eq = strchr(v, '=')) == NULL || eq == v ||
			    eq[1] == '\0' || o->nins == HK_SCRIPT_MAX_INPUTS) {
				hk_err_set("--input %s: expected NAME=PATH", v);
				return HK_ERR_USAGE;
			}
			o->in_name[o->nins] = strndup(v, (size_t)(eq - v));
			o->in_path[o->nins++] = eq + 1;
		} else if (strcmp(a, "--help") == 0) {
			fputs(ceremony_usage, stdout);
			exit(0);
		} else if (a[0] == '-' || o->script != NULL) {
			hk_err_set("%s: unknown option (see --help)", a);
			return HK_ERR_USAGE;
		} else
			o->script = a;
	}
	o->state = c.state;
	o->clock = c.clock;
	if (o->script == NULL) {
		hk_err_set("ceremony run: SCRIPT is required (see --help)");
		return HK_ERR_USAGE;
	}
	if (o->keep_rehearsal && !o->rehearsal) {
		hk_err_set("--keep-rehearsal: only with --rehearsal");
		return HK_ERR_USAGE;
	}
	return 0;
}

static int
check(const char *file)
{
	const struct hk_action_spec *const *reg;
	struct hk_script *s = NULL;
	size_t n, i;
	int r;

	reg = hk_ceremony_registry(&n);
	if ((r = hk_script_load(file, reg, n, &s)) != 0)
		return r;
	if ((r = hk_ceremony_script_check(s)) != 0) {
		hk_script_free(s);
		return r;
	}
	printf("%s: OK: ceremony %s, %zu steps, %zu inputs, %zu outputs\n"
	    "  SHA-256 %s\n", file, s->name, s->nsteps, s->ninputs,
	    s->noutputs, s->sha256_hex);
	for (i = 0; i < s->nsteps; i++)
		printf("  %2zu. %-16s %-16s%s%s\n", i + 1, s->steps[i].id,
		    s->steps[i].spec->name,
		    s->steps[i].dual_control ? " dual-control" : "",
		    s->steps[i].signs ? " signs" : "");
	hk_script_free(s);
	return 0;
}

static void
actions(void)
{
	const struct hk_action_spec *const *reg;
	size_t n, i, k;

	reg = hk_ceremony_registry(&n);
	for (i = 0; i < n; i++) {
		printf("%-18s %s%s%s\n", reg[i]->name, reg[i]->summary,
		    reg[i]->needs_quorum ? " [quorum]" : "",
		    reg[i]->signs ? " [signs]" : "");
		for (k = 0; reg[i]->params != NULL &&
		    reg[i]->params[k].name != NULL; k++)
			printf("%-18s   param %s%s\n", "",
			    reg[i]->params[k].name,
			    reg[i]->params[k].required ? " (required)" : "");
	}
}

int
cmd_ceremony(int argc, char **argv)
{
	struct hk_cer_opts *o;
	int r, i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    (argc == 3 && strcmp(argv[2], "--help") == 0)) {
		if (argc < 2) {
			/* one line, as for an unknown verb */
			hk_err_set("a verb is needed: run, check or actions (see "
			    "--help)");
			return HK_ERR_USAGE;
		}
		fputs(ceremony_usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "check") == 0) {
		if (argc != 3) {
			hk_err_set("ceremony check: expected one SCRIPT");
			return HK_ERR_USAGE;
		}
		return check(argv[2]);
	}
	if (strcmp(argv[1], "actions") == 0) {
		if (argc > 2) {
			hk_err_set("%s: unknown argument (ceremony actions "
			    "takes none)", argv[2]);
			return HK_ERR_USAGE;
		}
		actions();
		return 0;
	}
	if (strcmp(argv[1], "run") != 0) {
		hk_err_set("ceremony %s: unknown; expected run, check or "
		    "actions", argv[1]);
		return HK_ERR_USAGE;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return HK_ERR_ALLOC;
	if ((r = parse_run(o, argc, argv)) == 0)
		r = hk_ceremony_run(o);
	for (i = 0; i < o->nins; i++)
		free((char *)o->in_name[i]);
	free(o);
	return r;
}

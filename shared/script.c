/* script.c - ceremony scripts: strict loading and whole-script checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "atomic.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "script.h"
#include "yamlx.h"

static const char *const input_kinds[] = { "file", "csr", "cert", NULL };
static const char *const output_kinds[] = { "cert-der", "cert-pem",
    "crl-der", "file", NULL };
static const char *const role_names[] = { "key-manager", "senior-operator",
    "ca-manager", "auditor", "reviewer", "approver", NULL };

const char *
hk_input_kind_name(enum hk_input_kind k)
{
	return (unsigned)k < 3 ? input_kinds[k] : "?";
}

const char *
hk_output_kind_name(enum hk_output_kind k)
{
	return (unsigned)k < 4 ? output_kinds[k] : "?";
}

void
hk_script_free(struct hk_script *s)
{
	free(s);
}

const struct hk_script_param *
hk_script_param(const struct hk_script_step *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nparams; i++)
		if (strcmp(st->params[i].name, name) == 0)
			return &st->params[i];
	return NULL;
}

int
hk_script_step_find(const struct hk_script *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->nsteps; i++)
		if (strcmp(s->steps[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* A name or id: 1-32 of [a-z0-9-], not starting with '-'. */
static int
get_id(const struct hk_yaml_doc *d, const struct hk_yaml_node *m,
    const char *key, char out[HK_SCRIPT_ID_MAX])
{
	const struct hk_yaml_node *n;
	const char *s;
	int r;

	if ((r = hk_yaml_need(d, m, key, &n)) != 0 ||
	    (r = hk_yaml_str(d, n, 1, HK_SCRIPT_ID_MAX - 1, &s)) != 0)
		return r;
	if (hk_roster_id_check(s) != 0)
		return hk_yaml_fail(d, n, "must be 1 to %d of a-z, 0-9 and "
		    "'-', not starting with '-'", HK_SCRIPT_ID_MAX - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* "6-1-1-1": 1 to 5 numbers joined by '-', each 1-2 digits, first 1-9. */
static int
cps_check(const char *s)
{
	int groups = 0, digits = 0;

	if (s[0] < '1' || s[0] > '9')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9') {
			if (++digits > 2)
				return -1;
		} else if (*s == '-' && digits > 0 && s[1] != '\0') {
			groups++;
			digits = 0;
		} else
			return -1;
	}
	return groups < 5 && digits > 0 ? 0 : -1;
}

static int
load_cps(const struct hk_yaml_doc *d, const struct hk_yaml_node *root,
    struct hk_script *s)
{
	const struct hk_yaml_node *seq, *n;
	const char *v;
	size_t i, j;
	int r;

	if ((r = hk_yaml_need(d, root, "cps", &seq)) != 0 ||
	    (r = hk_yaml_seq(d, seq)) != 0)
		return r;
	if (seq->n == 0 || seq->n > HK_SCRIPT_MAX_CPS)
		return hk_yaml_fail(d, seq, "must list 1 to %d CPS sections",
		    HK_SCRIPT_MAX_CPS);
	for (i = 0; i < seq->n; i++) {
		n = seq->kids[i];
		if ((r = hk_yaml_str(d, n, 1, 15, &v)) != 0)
			return r;
		if (cps_check(v) != 0)
			return hk_yaml_fail(d, n, "must be a CPS section such "
			    "as \"6-1-1-1\" (1 to 5 numbers joined by '-')");
		for (j = 0; j < i; j++)
			if (strcmp(s->cps[j], v) == 0)
				return hk_yaml_fail(d, n, "duplicate CPS "
				    "section '%s'", v);
		memcpy(s->cps[i], v, strlen(v) + 1);
		s->ncps++;
	}
	return 0;
}

static int
load_roles(const struct hk_yaml_doc *d, const struct hk_yaml_node *root,
    struct hk_script *s)
{
	const struct hk_yaml_node *m, *n;
	long v;
	size_t i;
	int r, role;

	if ((r = hk_yaml_need(d, root, "roles", &m)) != 0 ||
	    (r = hk_yaml_keys(d, m, role_names)) != 0)
		return r;
	if (m->n == 0)
		return hk_yaml_fail(d, m, "must name at least one role");
	for (i = 0; i < m->n; i++) {
		n = m->kids[i];
		(void)hk_role_parse(m->keys[i], (enum hk_role *)&role);
		if (role == HK_ROLE_KEY_MANAGER) {
			if (n->kind != HK_YAML_SCALAR ||
			    strcmp(n->str, "quorum") != 0)
				return hk_yaml_fail(d, n, "key managers act "
				    "as a quorum: the value must be 'quorum'");
			s->role_count[role] = HK_SCRIPT_QUORUM;
			continue;
		}
		if (n->kind == HK_YAML_SCALAR && strcmp(n->str, "quorum") == 0)
			return hk_yaml_fail(d, n, "only key-manager can be "
			    "'quorum'");
		if ((r = hk_yaml_int(d, n, 1, HK_SCRIPT_MAX_ROLE_COUNT,
		    &v)) != 0)
			return r;
		s->role_count[role] = (int)v;
	}
	return 0;
}

static int
load_inputs(const struct hk_yaml_doc *d, const struct hk_yaml_node *root,
    struct hk_script *s)
{
	static const char *const keys[] = { "name", "kind", "sha256",
	    "description", NULL };
	const struct hk_yaml_node *seq, *m, *n;
	struct hk_script_input *in;
	const char *v;
	size_t i, j;
	int r, k;

	if ((seq = hk_yaml_get(root, "inputs")) == NULL)
		return 0;
	if ((r = hk_yaml_seq(d, seq)) != 0)
		return r;
	if (seq->n > HK_SCRIPT_MAX_INPUTS)
		return hk_yaml_fail(d, seq, "at most %d inputs",
		    HK_SCRIPT_MAX_INPUTS);
	for (i = 0; i < seq->n; i++) {
		m = seq->kids[i];
		in = &s->inputs[i];
		in->reader = -1;
		if ((r = hk_yaml_keys(d, m, keys)) != 0 ||
		    (r = get_id(d, m, "name", in->name)) != 0 ||
		    (r = hk_yaml_need(d, m, "kind", &n)) != 0 ||
		    (r = hk_yaml_enum(d, n, input_kinds, &k)) != 0 ||
		    (r = hk_yaml_get_str(d, m, "description", 0, 1,
		    in->description, sizeof(in->description))) != 0)
			return r;
		in->kind = (enum hk_input_kind)k;
		if ((n = hk_yaml_get(m, "sha256")) != NULL) {
			if ((r = hk_yaml_str(d, n, 1, 64, &v)) != 0)
				return r;
			if (strlen(v) != 64 || hk_hex_decode(v, in->sha256,
			    32) != 0)
				return hk_yaml_fail(d, n, "must be 64 "
				    "lowercase hex digits (a SHA-256)");
			in->has_sha256 = 1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(s->inputs[j].name, in->name) == 0)
				return hk_yaml_fail(d, hk_yaml_get(m, "name"),
				    "duplicate input name '%s'", in->name);
		s->ninputs++;
	}
	return 0;
}

static int
load_outputs(const struct hk_yaml_doc *d, const struct hk_yaml_node *root,
    struct hk_script *s)
{
	static const char *const keys[] = { "name", "path", "kind", NULL };
	const struct hk_yaml_node *seq, *m, *n;
	struct hk_script_output *o;
	const char *v, *f;
	size_t i, j;
	int r, k;

	if ((seq = hk_yaml_get(root, "outputs")) == NULL)
		return 0;
	if ((r = hk_yaml_seq(d, seq)) != 0)
		return r;
	if (seq->n > HK_SCRIPT_MAX_OUTPUTS)
		return hk_yaml_fail(d, seq, "at most %d outputs",
		    HK_SCRIPT_MAX_OUTPUTS);
	for (i = 0; i < seq->n; i++) {
		m = seq->kids[i];
		o = &s->outputs[i];
		o->writer = -1;
		if ((r = hk_yaml_keys(d, m, keys)) != 0 ||
		    (r = get_id(d, m, "name", o->name)) != 0 ||
		    (r = hk_yaml_need(d, m, "kind", &n)) != 0 ||
		    (r = hk_yaml_enum(d, n, output_kinds, &k)) != 0 ||
		    (r = hk_yaml_need(d, m, "path", &n)) != 0 ||
		    (r = hk_yaml_str(d, n, 1, HK_SCRIPT_PATH_MAX - 1,
		    &v)) != 0)
			return r;
		o->kind = (enum hk_output_kind)k;
		if (strncmp(v, "certs/", 6) == 0) {
			o->base = HK_BASE_CERTS;
			f = v + 6;
		} else if (strncmp(v, "out/", 4) == 0) {
			o->base = HK_BASE_OUT;
			f = v + 4;
		} else
			return hk_yaml_fail(d, n, "must be certs/NAME (the "
			    "state's certs/) or out/NAME (the --out folder)");
		if (*f == '\0' || *f == '.' || strspn(f, "abcdefghijklmnopqrstu"
		    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
		    strlen(f))
			return hk_yaml_fail(d, n, "file name must be "
			    "[A-Za-z0-9._-], not starting with '.'");
		memcpy(o->path, v, strlen(v) + 1);
		memcpy(o->file, f, strlen(f) + 1);
		for (j = 0; j < i; j++) {
			if (strcmp(s->outputs[j].name, o->name) == 0)
				return hk_yaml_fail(d, hk_yaml_get(m, "name"),
				    "duplicate output name '%s'", o->name);
			if (strcmp(s->outputs[j].path, o->path) == 0)
				return hk_yaml_fail(d, n, "path '%s' is also "
				    "output '%s'", o->path,
				    s->outputs[j].name);
		}
		s->noutputs++;
	}
	return 0;
}

static int
find_name(const struct hk_script *s, enum hk_param_type t, const char *v)
{
	size_t i;

	if (t == HK_PARAM_INPUT) {
		for (i = 0; i < s->ninputs; i++)
			if (strcmp(s->inputs[i].name, v) == 0)
				return (int)i;
	} else if (t == HK_PARAM_OUTPUT) {
		for (i = 0; i < s->noutputs; i++)
			if (strcmp(s->outputs[i].name, v) == 0)
				return (int)i;
	}
	return -1;
}

static int
load_param(const struct hk_yaml_doc *d, const struct hk_yaml_node *n,
    const struct hk_param_spec *ps, struct hk_script *s, size_t stepi,
    struct hk_script_param *p)
{
	struct hk_script_step *st = &s->steps[stepi];
	const char *v;
	int r, b, e;

	p->name = ps->name;
	p->line = n->line;
	p->col = n->col;
	p->ref = -1;
	if (n->kind != HK_YAML_SCALAR)
		return hk_yaml_fail(d, n, "parameter %s of %s must be a "
		    "scalar", ps->name, st->spec->name);
	switch (ps->type) {
	case HK_PARAM_INT:
		if ((r = hk_yaml_int(d, n, ps->min, ps->max, &p->ival)) != 0)
			return r;
		break;
	case HK_PARAM_BOOL:
		if ((r = hk_yaml_bool(d, n, &b)) != 0)
			return r;
		p->ival = b;
		break;
	case HK_PARAM_ENUM:
		if ((r = hk_yaml_enum(d, n, ps->names, &e)) != 0)
			return r;
		p->ival = e;
		break;
	default:
		break;
	}
	if ((r = hk_yaml_str(d, n, 1, HK_SCRIPT_VALUE_MAX - 1, &v)) != 0)
		return r;
	memcpy(p->value, v, strlen(v) + 1);
	switch (ps->type) {
	case HK_PARAM_INPUT:
		if ((p->ref = find_name(s, ps->type, v)) < 0)
			return hk_yaml_fail(d, n, "no input named '%s' in "
			    "inputs:", v);
		if (s->inputs[p->ref].reader < 0)
			s->inputs[p->ref].reader = (int)stepi;
		break;
	case HK_PARAM_OUTPUT:
		if ((p->ref = find_name(s, ps->type, v)) < 0)
			return hk_yaml_fail(d, n, "no output named '%s' in "
			    "outputs:", v);
		if (ps->ref_kind >= 0 &&
		    s->outputs[p->ref].kind != (enum hk_output_kind)ps->ref_kind)
			return hk_yaml_fail(d, n, "output '%s' is %s; %s of "
			    "%s needs %s", v,
			    hk_output_kind_name(s->outputs[p->ref].kind),
			    ps->name, st->spec->name,
			    hk_output_kind_name(ps->ref_kind));
		if (s->outputs[p->ref].writer >= 0)
			return hk_yaml_fail(d, n, "output '%s' is already "
			    "written by step '%s'", v,
			    s->steps[s->outputs[p->ref].writer].id);
		s->outputs[p->ref].writer = (int)stepi;
		break;
	case HK_PARAM_STEP:
		if ((p->ref = hk_script_step_find(s, v)) < 0 ||
		    (size_t)p->ref >= stepi)
			return hk_yaml_fail(d, n, "no earlier step with id "
			    "'%s'", v);
		if (ps->ref_action != NULL &&
		    strcmp(s->steps[p->ref].spec->name, ps->ref_action) != 0)
			return hk_yaml_fail(d, n, "step '%s' runs %s; %s of "
			    "%s needs a step that runs %s", v,
			    s->steps[p->ref].spec->name, ps->name,
			    st->spec->name, ps->ref_action);
		break;
	default:
		break;
	}
	return 0;
}

static int
load_params(const struct hk_yaml_doc *d, const struct hk_yaml_node *m,
    struct hk_script *s, size_t stepi)
{
	struct hk_script_step *st = &s->steps[stepi];
	const struct hk_param_spec *ps = st->spec->params;
	const struct hk_yaml_node *pm = hk_yaml_get(m, "params");
	const char *allowed[HK_SCRIPT_MAX_PARAMS + 1];
	const struct hk_yaml_node *n;
	size_t i, k = 0;
	int r;

	for (i = 0; ps != NULL && ps[i].name != NULL &&
	    i < HK_SCRIPT_MAX_PARAMS; i++)
		allowed[k++] = ps[i].name;
	allowed[k] = NULL;
	if (pm != NULL) {
		if ((r = hk_yaml_map(d, pm)) != 0)
			return r;
		for (i = 0; i < pm->n; i++) {
			size_t j;
			for (j = 0; allowed[j] != NULL; j++)
				if (strcmp(pm->keys[i], allowed[j]) == 0)
					break;
			if (allowed[j] == NULL)
				return hk_yaml_fail(d, pm->kids[i], "action "
				    "%s takes no parameter '%s'",
				    st->spec->name, pm->keys[i]);
		}
	}
	for (i = 0; i < k; i++) {
		n = hk_yaml_get(pm, ps[i].name);
		if (n == NULL) {
			if (ps[i].required)
				return hk_yaml_fail(d, pm != NULL ? pm : m,
				    "action %s needs parameter '%s'",
				    st->spec->name, ps[i].name);
			continue;
		}
		if ((r = load_param(d, n, &ps[i], s, stepi,
		    &st->params[st->nparams])) != 0)
			return r;
		st->nparams++;
	}
	return 0;
}

static int
load_step_roles(const struct hk_yaml_doc *d, const struct hk_yaml_node *m,
    struct hk_script *s, struct hk_script_step *st)
{
	const struct hk_yaml_node *seq, *n;
	size_t i;
	int r, role, people = 0;

	if ((seq = hk_yaml_get(m, "roles")) != NULL) {
		if ((r = hk_yaml_seq(d, seq)) != 0)
			return r;
		if (seq->n == 0 || seq->n > HK_SCRIPT_NROLES)
			return hk_yaml_fail(d, seq, "must list 1 to %d roles",
			    HK_SCRIPT_NROLES);
		for (i = 0; i < seq->n; i++) {
			n = seq->kids[i];
			if ((r = hk_yaml_enum(d, n, role_names, &role)) != 0)
				return r;
			if (st->roles & (1u << role))
				return hk_yaml_fail(d, n, "role %s listed "
				    "twice", role_names[role]);
			if (s->role_count[role] == 0)
				return hk_yaml_fail(d, n, "role %s is not in "
				    "the script's roles:", role_names[role]);
			st->roles |= 1u << role;
			people += s->role_count[role] == HK_SCRIPT_QUORUM ?
			    2 : s->role_count[role];
		}
	}
	if (st->spec->needs_quorum &&
	    !(st->roles & (1u << HK_ROLE_KEY_MANAGER)))
		return hk_yaml_fail(d, seq != NULL ? seq : m, "action %s needs "
		    "the key managers' quorum: roles must include key-manager",
		    st->spec->name);
	if (st->dual_control) {
		if (seq == NULL)
			return hk_yaml_fail(d, hk_yaml_get(m, "dual-control"),
			    "dual control needs roles: naming who acts");
		if (st->roles & (1u << HK_ROLE_KEY_MANAGER))
			return hk_yaml_fail(d, hk_yaml_get(m, "dual-control"),
			    "dual control is by two named people, not the "
			    "key managers' quorum (already m of n)");
		if (people < 2)
			return hk_yaml_fail(d, hk_yaml_get(m, "dual-control"),
			    "dual control needs two people, but the script's "
			    "roles: provide %d for this step", people);
	}
	return 0;
}

static int
load_steps(const struct hk_yaml_doc *d, const struct hk_yaml_node *root,
    const struct hk_action_spec *const *reg, size_t nreg,
    struct hk_script *s)
{
	static const char *const keys[] = { "id", "action", "params", "roles",
	    "dual-control", "signs", NULL };
	const struct hk_yaml_node *seq, *m, *n;
	struct hk_script_step *st;
	const char *v;
	size_t i, j, a;
	int r, tokened = 0;

	if ((r = hk_yaml_need(d, root, "steps", &seq)) != 0 ||
	    (r = hk_yaml_seq(d, seq)) != 0)
		return r;
	if (seq->n == 0 || seq->n > HK_SCRIPT_MAX_STEPS)
		return hk_yaml_fail(d, seq, "must list 1 to %d steps",
		    HK_SCRIPT_MAX_STEPS);
	for (i = 0; i < seq->n; i++) {
		m = seq->kids[i];
		st = &s->steps[i];
		if ((r = hk_yaml_keys(d, m, keys)) != 0 ||
		    (r = get_id(d, m, "id", st->id)) != 0)
			return r;
		st->line = m->line;
		st->col = m->col;
		for (j = 0; j < i; j++)
			if (strcmp(s->steps[j].id, st->id) == 0)
				return hk_yaml_fail(d, hk_yaml_get(m, "id"),
				    "duplicate step id '%s'", st->id);
		if ((r = hk_yaml_need(d, m, "action", &n)) != 0 ||
		    (r = hk_yaml_str(d, n, 1, 64, &v)) != 0)
			return r;
		for (a = 0; a < nreg; a++)
			if (strcmp(reg[a]->name, v) == 0)
				break;
		if (a == nreg)
			return hk_yaml_fail(d, n, "unknown action '%s' (see "
			    "docs/ceremonies.md for the registry)", v);
		st->action = (int)a;
		st->spec = reg[a];
		if ((r = hk_yaml_get_bool(d, m, "dual-control", 0,
		    &st->dual_control)) != 0 ||
		    (r = hk_yaml_get_bool(d, m, "signs", 0, &st->signs)) != 0)
			return r;
		if (st->signs != st->spec->signs)
			return hk_yaml_fail(d, hk_yaml_get(m, "signs") ?
			    hk_yaml_get(m, "signs") : m, st->spec->signs ?
			    "action %s signs with a CA key: the step must say "
			    "signs: true" : "action %s signs nothing: signs: "
			    "true is wrong here", st->spec->name);
		if (st->spec->signs && !st->dual_control)
			return hk_yaml_fail(d, m, "a step that signs needs "
			    "dual-control: true (CPS 5-2-2)");
		if (st->spec->needs_token && !tokened)
			return hk_yaml_fail(d, n, "action %s needs the token: "
			    "an earlier step must run quorum-activate",
			    st->spec->name);
		if (st->spec->needs_quorum)
			tokened = 1;
		if ((r = load_step_roles(d, m, s, st)) != 0)
			return r;
		s->nsteps++;
		if ((r = load_params(d, m, s, i)) != 0)
			return r;
	}
	return 0;
}

static int
check_whole(const struct hk_yaml_doc *d, const struct hk_yaml_node *root,
    struct hk_script *s)
{
	const struct hk_yaml_node *seq;
	size_t i, j;
	int used, role;

	/* Every output has its writer, every input its reader. */
	seq = hk_yaml_get(root, "outputs");
	for (i = 0; i < s->noutputs; i++)
		if (s->outputs[i].writer < 0)
			return hk_yaml_fail(d, seq->kids[i], "output '%s' is "
			    "written by no step", s->outputs[i].name);
	seq = hk_yaml_get(root, "inputs");
	for (i = 0; i < s->ninputs; i++)
		if (s->inputs[i].reader < 0)
			return hk_yaml_fail(d, seq->kids[i], "input '%s' is "
			    "used by no step", s->inputs[i].name);
	/* Every role named is needed by some step. */
	seq = hk_yaml_get(root, "roles");
	for (i = 0; i < seq->n; i++) {
		(void)hk_role_parse(seq->keys[i], (enum hk_role *)&role);
		used = 0;
		for (j = 0; j < s->nsteps; j++)
			if (s->steps[j].roles & (1u << role))
				used = 1;
		if (!used)
			return hk_yaml_fail(d, seq->kids[i], "role %s acts in "
			    "no step", seq->keys[i]);
	}
	return 0;
}

static int
load_doc(const struct hk_yaml_doc *d, const struct hk_action_spec *const *reg,
    size_t nreg, struct hk_script *s)
{
	static const char *const keys[] = { "hanko-ceremony", "name", "title",
	    "cps", "roles", "inputs", "outputs", "steps", "clock", NULL };
	const struct hk_yaml_node *root = d->root, *n;
	const char *v;
	long version = 0;
	int r;

	if ((r = hk_yaml_keys(d, root, keys)) != 0 ||
	    (r = hk_yaml_get_int(d, root, "hanko-ceremony", 1,
	    HK_SCRIPT_VERSION, HK_SCRIPT_VERSION, &version)) != 0 ||
	    (r = get_id(d, root, "name", s->name)) != 0 ||
	    (r = hk_yaml_get_str(d, root, "title", 0, 1, s->title,
	    sizeof(s->title))) != 0)
		return r;
	if ((n = hk_yaml_get(root, "clock")) != NULL) {
		if ((r = hk_yaml_str(d, n, 1, 32, &v)) != 0)
			return r;
		if (hk_time_parse(v, &s->clock) != 0)
			return hk_yaml_fail(d, n, "must be a UTC time "
			    "YYYY-MM-DDTHH:MM:SSZ");
		s->has_clock = 1;
	}
	if ((r = load_cps(d, root, s)) != 0 ||
	    (r = load_roles(d, root, s)) != 0 ||
	    (r = load_inputs(d, root, s)) != 0 ||
	    (r = load_outputs(d, root, s)) != 0 ||
	    (r = load_steps(d, root, reg, nreg, s)) != 0 ||
	    (r = check_whole(d, root, s)) != 0)
		return r;
	return 0;
}

int
hk_script_load_buf(const char *name, const unsigned char *buf, size_t len,
    const struct hk_action_spec *const *reg, size_t nreg,
    struct hk_script **out)
{
	struct hk_yaml_doc *d = NULL;
	struct hk_script *s = NULL;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return HK_ERR_ALLOC;
	snprintf(s->file, sizeof(s->file), "%s", name);
	SHA256(buf, len, s->sha256);
	hk_hex_encode(s->sha256, sizeof(s->sha256), s->sha256_hex);
	if ((r = hk_yaml_load_buf(name, buf, len, &d)) != 0)
		goto out;
	if (d->root->kind != HK_YAML_MAP) {
		r = hk_yaml_fail(d, d->root, "a ceremony script must be a "
		    "mapping starting with hanko-ceremony: 1");
		goto out;
	}
	if ((r = load_doc(d, reg, nreg, s)) != 0)
		goto out;
	*out = s;
	s = NULL;
	r = 0;
out:
	hk_script_free(s);
	hk_yaml_free(d);
	return r;
}

int
hk_script_load(const char *path, const struct hk_action_spec *const *reg,
    size_t nreg, struct hk_script **out)
{
	unsigned char *buf = NULL;
	size_t len;
	int r;

	*out = NULL;
	if ((r = hk_file_read(path, HK_YAML_MAX_FILE, &buf, &len)) != 0)
		return r;
	r = hk_script_load_buf(path, buf, len, reg, nreg, out);
	free(buf);
	return r;
}

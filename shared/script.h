/*
 * script.h - ceremony scripts (DESIGN.md section 5, docs/ceremonies.md).
 *
 * A script ("hanko-ceremony: 1") names the ceremony, the CPS sections it
 * carries out, the roles that must be present, its inputs, its steps and
 * its outputs. It is loaded over yamlx and checked completely before any
 * token session opens: unknown or duplicate keys, wrong types, missing
 * fields, values out of range, unknown actions, parameters an action does
 * not take, references to undefined inputs, outputs or steps and duplicate
 * ids are refused with one line "file:line:column: path: rule".
 *
 * The loader does not know the actions: the caller passes the registry of
 * action specifications (offline/ceremony.c holds hanko-offline's), so
 * that a new action is one new file and one line in that table.
 */
#ifndef HK_SCRIPT_H
#define HK_SCRIPT_H

#include <stddef.h>
#include <time.h>

#include "roster.h"

#define HK_SCRIPT_VERSION	1
#define HK_SCRIPT_ID_MAX	33	/* bytes of a name or id, incl. NUL */
#define HK_SCRIPT_TITLE_MAX	257	/* bytes of the title, incl. NUL */
#define HK_SCRIPT_PATH_MAX	128	/* bytes of an output path, incl. NUL */
#define HK_SCRIPT_VALUE_MAX	257	/* bytes of a parameter value, incl. NUL */
#define HK_SCRIPT_MAX_CPS	64	/* CPS sections listed */
#define HK_SCRIPT_MAX_INPUTS	32
#define HK_SCRIPT_MAX_OUTPUTS	32
#define HK_SCRIPT_MAX_STEPS	64
#define HK_SCRIPT_MAX_PARAMS	16	/* parameters of one action */
#define HK_SCRIPT_MAX_ROLE_COUNT 16	/* people of one role */
#define HK_SCRIPT_NROLES	6	/* enum hk_role values */

/* What a parameter's value must be. */
enum hk_param_type {
	HK_PARAM_STR,		/* a string of 1..HK_SCRIPT_VALUE_MAX-1 bytes */
	HK_PARAM_INT,		/* an integer in [min, max] */
	HK_PARAM_BOOL,		/* true or false */
	HK_PARAM_ENUM,		/* one of names */
	HK_PARAM_INPUT,		/* the name of an input of the script */
	HK_PARAM_OUTPUT,	/* the name of an output; the step writes it */
	HK_PARAM_STEP,		/* the id of an earlier step */
};

enum hk_input_kind {
	HK_INPUT_FILE,		/* "file": any bytes */
	HK_INPUT_CSR,		/* "csr": a PKCS#10 request, PEM or DER */
	HK_INPUT_CERT,		/* "cert": an X.509 certificate, PEM or DER */
};

enum hk_output_kind {
	HK_OUTPUT_CERT_DER,	/* "cert-der" */
	HK_OUTPUT_CERT_PEM,	/* "cert-pem" */
	HK_OUTPUT_CRL_DER,	/* "crl-der" */
	HK_OUTPUT_FILE,		/* "file" */
};

enum hk_output_base {
	HK_BASE_CERTS,		/* "certs/NAME": the state's certs/ */
	HK_BASE_OUT,		/* "out/NAME": the run's --out DIR */
};

/* One parameter an action takes. */
struct hk_param_spec {
	const char *name;		/* key under params: */
	enum hk_param_type type;	/* what the value must be */
	int required;			/* 1 if the step must give it */
	long min, max;			/* HK_PARAM_INT range */
	const char *const *names;	/* HK_PARAM_ENUM values, NULL-ended */
	const char *ref_action;		/* HK_PARAM_STEP: the step referred to
					 * must run this action; NULL = any */
	int ref_kind;			/* HK_PARAM_OUTPUT: required
					 * enum hk_output_kind, -1 = any */
};

/* What the loader knows of an action; offline/step_*.c fill one each. */
struct hk_action_spec {
	const char *name;		/* "root-keygen", ... */
	const char *summary;		/* one line for docs and --help */
	const struct hk_param_spec *params; /* NULL-name-ended; NULL = none */
	int needs_quorum;		/* 1: key managers' quorum must be a role */
	int signs;			/* 1: signs with a CA key (the step
					 * must say signs: true) */
	int needs_token;		/* 1: runs only after quorum activation */
};

struct hk_script_param {
	const char *name;		/* points into the action's spec */
	char value[HK_SCRIPT_VALUE_MAX]; /* the scalar as written */
	long ival;			/* INT/BOOL value; ENUM index */
	int ref;			/* INPUT/OUTPUT/STEP: index referred to */
	unsigned long line, col;	/* where the value is */
};

struct hk_script_input {
	char name[HK_SCRIPT_ID_MAX];	/* [a-z0-9-] id, unique among inputs */
	enum hk_input_kind kind;
	int has_sha256;			/* 1 if sha256 was given */
	unsigned char sha256[32];	/* expected digest of the file */
	char description[HK_SCRIPT_TITLE_MAX]; /* free text; "" if absent */
	int reader;			/* first step reading it; -1 none */
};

struct hk_script_output {
	char name[HK_SCRIPT_ID_MAX];	/* unique among outputs */
	enum hk_output_base base;	/* certs/ or --out */
	char file[HK_SCRIPT_PATH_MAX];	/* file name under base, no '/' */
	char path[HK_SCRIPT_PATH_MAX];	/* "certs/NAME" or "out/NAME" as written */
	enum hk_output_kind kind;
	int writer;			/* index of the step that writes it */
};

struct hk_script_step {
	char id[HK_SCRIPT_ID_MAX];	/* unique among steps */
	int action;			/* index into the registry */
	const struct hk_action_spec *spec; /* registry[action] */
	int dual_control;		/* 1: two distinct people of roles */
	int signs;			/* as written (must match spec->signs) */
	unsigned int roles;		/* bit (1 << enum hk_role) per role */
	struct hk_script_param params[HK_SCRIPT_MAX_PARAMS]; /* given ones */
	size_t nparams;
	unsigned long line, col;	/* where the step starts */
};

struct hk_script {
	char file[4096];		/* file name used in messages */
	unsigned char sha256[32];	/* over the exact bytes parsed */
	char sha256_hex[65];
	char name[HK_SCRIPT_ID_MAX];	/* ceremony name */
	char title[HK_SCRIPT_TITLE_MAX]; /* free text; "" if absent */
	char cps[HK_SCRIPT_MAX_CPS][16]; /* "6-1-1-1", ... */
	size_t ncps;
	/* roles: people needed per enum hk_role; HK_SCRIPT_QUORUM for the
	 * key managers' threshold, 0 = not needed */
	int role_count[HK_SCRIPT_NROLES];
	int has_clock;			/* 1 if clock: was given */
	time_t clock;			/* rehearsal clock */
	struct hk_script_input inputs[HK_SCRIPT_MAX_INPUTS];
	size_t ninputs;
	struct hk_script_output outputs[HK_SCRIPT_MAX_OUTPUTS];
	size_t noutputs;
	struct hk_script_step steps[HK_SCRIPT_MAX_STEPS];
	size_t nsteps;
};

#define HK_SCRIPT_QUORUM	(-1)	/* role_count of "key-manager: quorum" */

/*
 * Load and check a script file against the registry of n action specs.
 * The SHA-256 is over the very bytes parsed. HK_ERR_INVALID / HK_ERR_PARSE
 * with "file:line:column: path: rule"; HK_ERR_NOT_FOUND, HK_ERR_IO.
 */
int hk_script_load(const char *path, const struct hk_action_spec *const *reg,
    size_t n, struct hk_script **out);
/* The same over bytes; name is used in messages. */
int hk_script_load_buf(const char *name, const unsigned char *buf, size_t len,
    const struct hk_action_spec *const *reg, size_t n,
    struct hk_script **out);
void hk_script_free(struct hk_script *s);

/* The parameter of step, or NULL when the step does not give it. */
const struct hk_script_param *hk_script_param(const struct hk_script_step *st,
    const char *name);
/* Index of the step with this id, or -1. */
int hk_script_step_find(const struct hk_script *s, const char *id);

const char *hk_input_kind_name(enum hk_input_kind k);
const char *hk_output_kind_name(enum hk_output_kind k);

#endif

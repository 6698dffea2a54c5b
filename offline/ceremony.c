/*
 * ceremony.c - the ceremony engine: the step registry, the checks made
 * before the token opens, the rehearsal copy, the steps with dual control
 * and confirmation, undo on failure, and the transcript.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "audit.h"
#include "cert.h"
#include "ceremony.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "passin.h"
#include "profile.h"
#include "qr.h"
#include "secmem.h"
#include "transcript.h"

/* The registry: one line per action (ceremony.h says how to add one). */
static const struct hk_step_action *const registry[] = {
	&hk_step_approve,
	&hk_step_quorum_activate,
	&hk_step_input_check,
	&hk_step_root_keygen,
	&hk_step_root_self_sign,
	&hk_step_root_commit,
	&hk_step_audit_checkpoint,
	/* issuance: issue-subca, responder-certs, cross-certify */
	&hk_step_csr_check,
	&hk_step_issue_subca,
	&hk_step_issue_commit,
	&hk_step_responder_cert,
	&hk_step_cross_issue,
	&hk_step_cross_accept,
	&hk_step_cross_commit,
	/* root life cycle: rollover, revoke, arl-batch, compromise */
	&hk_step_rollover_link,
	&hk_step_rollover_issuing,
	&hk_step_rollover_commit,
	&hk_step_revoke,
	&hk_step_arl_batch,
	&hk_step_arl_commit,
	&hk_step_compromise_revoke,
	&hk_step_compromise_notice,
	/* key custody: backup, restore, destroy, rotate-shares */
	&hk_step_backup,
	&hk_step_restore,
	&hk_step_destroy,
	&hk_step_rotate_shares,
	/* roster: roster-change */
	&hk_step_roster_check,
	&hk_step_roster_commit,
	/* profile: profile-accept */
	&hk_step_profile_accept,
};
#define NREG	(sizeof(registry) / sizeof(registry[0]))

/* Steps that sign or register a certificate of the root: none of them
 * belongs in a compromise ceremony (CPS 4-14-2: issuance stops), where
 * compromise-revoke revokes only what issued.txt already holds. */
static const char *const compromise_excludes[] = {
	"csr-check", "issue-subca", "issue-commit", "responder-cert",
	"cross-issue", "cross-accept", "cross-commit", "root-keygen",
	"root-self-sign", "root-commit", "rollover-link", "rollover-issuing",
	"rollover-commit",
};

/* Index of the first step of s whose action is action, or -1. */
static int
step_index(const struct hk_script *s, const char *action)
{
	size_t i;

	for (i = 0; i < s->nsteps; i++)
		if (strcmp(s->steps[i].spec->name, action) == 0)
			return (int)i;
	return -1;
}

int
hk_ceremony_script_check(const struct hk_script *s)
{
	const struct hk_script_step *st;
	size_t i, j;
	int arl, comp, acc;

	/* The approval is the CA manager's instruction (CPS 5-2-2): an
	 * approve step no CA manager performs would record one never given. */
	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		if (strcmp(st->spec->name, "approve") == 0 &&
		    !(st->roles & (1u << HK_ROLE_CA_MANAGER))) {
			hk_err_set("%s:%lu:%lu: steps[%zu]: approve without "
			    "ca-manager in its roles: the CA manager gives the "
			    "instruction (CPS 5-2-2); add roles: [ca-manager]",
			    s->file, st->line, st->col, i);
			return HK_ERR_INVALID;
		}
	}
	comp = step_index(s, "compromise-revoke");
	for (i = 0; comp >= 0 && i < s->nsteps; i++)
		for (j = 0; j < sizeof(compromise_excludes) /
		    sizeof(compromise_excludes[0]); j++)
			if (strcmp(s->steps[i].spec->name,
			    compromise_excludes[j]) == 0) {
				st = &s->steps[i];
				hk_err_set("%s:%lu:%lu: steps[%zu]: %s in a "
				    "script with compromise-revoke (step %s): "
				    "CPS 4-14-2: a compromise ceremony signs "
				    "and registers no certificate (one made "
				    "here would be on no ARL); hold it as its "
				    "own ceremony", s->file, st->line, st->col,
				    i, st->spec->name, s->steps[comp].id);
				return HK_ERR_INVALID;
			}

	/* A change of the profile is a ceremony of its own, its last step:
	 * nothing signs beside it, with either profile, and nothing after it
	 * can fail and leave it in force unannounced (docs/profile.md). */
	acc = step_index(s, "profile-accept");
	for (i = 0; acc >= 0 && i < s->nsteps; i++) {
		st = &s->steps[i];
		if ((int)i == acc || ((int)i < acc &&
		    (strcmp(st->spec->name, "approve") == 0 ||
		    strcmp(st->spec->name, "input-check") == 0)))
			continue;
		hk_err_set("%s:%lu:%lu: steps[%zu]: %s in a script with "
		    "profile-accept (step %s): a change of the profile is a "
		    "ceremony of its own, approve and input-check before it, "
		    "nothing after it (CPS 8-1, 8-3)", s->file, st->line,
		    st->col, i, st->spec->name, s->steps[acc].id);
		return HK_ERR_INVALID;
	}

	arl = step_index(s, "arl-batch");
	for (i = (size_t)(arl + 1); arl >= 0 && i < s->nsteps; i++) {
		st = &s->steps[i];
		if (strcmp(st->spec->name, "revoke") == 0 ||
		    strcmp(st->spec->name, "compromise-revoke") == 0) {
			hk_err_set("%s:%lu:%lu: steps[%zu]: %s after step %s "
			    "(arl-batch): a revocation staged once the ARLs "
			    "are built is on none of them, yet arl-commit "
			    "would record it (CPS 4-10, 4-4-9); put it before "
			    "the arl-batch step", s->file, st->line, st->col,
			    i, st->spec->name, s->steps[arl].id);
			return HK_ERR_INVALID;
		}
	}
	return 0;
}

const struct hk_action_spec *const *
hk_ceremony_registry(size_t *n)
{
	static const struct hk_action_spec *specs[NREG];
	size_t i;

	for (i = 0; i < NREG; i++)
		specs[i] = &registry[i]->spec;
	*n = NREG;
	return specs;
}

const struct hk_step_action *
hk_ceremony_action(int index)
{
	if (index < 0 || (size_t)index >= NREG)
		return NULL;
	return registry[index];
}

struct hk_step_result *
hk_cer_ref_result(struct hk_cer *c, const struct hk_script_step *st,
    const char *param)
{
	const struct hk_script_param *p = hk_script_param(st, param);

	return p != NULL && p->ref >= 0 ? &c->res[p->ref] : NULL;
}

const char *
hk_cer_ref_output(struct hk_cer *c, const struct hk_script_step *st,
    const char *param, int *index)
{
	const struct hk_script_param *p = hk_script_param(st, param);

	*index = p != NULL ? p->ref : -1;
	return p != NULL && p->ref >= 0 ? c->output_path[p->ref] : NULL;
}

void
hk_cer_undo_written(struct hk_cer *c, struct hk_step_result *res,
    const char *event, const char *before)
{
	int i;

	for (i = 0; i < res->nwritten; i++)
		if (unlink(res->written[i]) == 0) {
			res->undone = 1;
			hk_ca_audit_warn(c->ca, event, "ok", res->actors, "%s "
			    "removed: the ceremony failed before %s",
			    res->written[i], before);
		}
	res->nwritten = 0;
}

/*
 * Signals during a ceremony. SIGINT (Ctrl-C), SIGHUP (the terminal
 * closed), SIGTERM and SIGQUIT do not end the process in the middle of a
 * run: from ceremony.start on they are caught (cer_signal), the step
 * running ends, the next one is not started, a prompt of the engine's
 * (the confirmation, the label of a key to destroy) is answered "no", and
 * a passphrase prompt (passin.c sends the signal again, to this handler)
 * fails; the run then fails like any failed step: the steps done are
 * undone, the transcript says FAILED, ceremony.done fail (docs/ceremonies.md
 * "Interrupted").
 */
static volatile sig_atomic_t cer_signal;
static const int cer_signals[] = { SIGINT, SIGHUP, SIGTERM, SIGQUIT };
#define CER_NSIG (int)(sizeof(cer_signals) / sizeof(cer_signals[0]))

static void
cer_on_signal(int sig)
{
	if (cer_signal == 0)
		cer_signal = sig;
}

/* Install the handler (restart: SA_RESTART or not), old handlers in old. */
static void
cer_signals_catch(struct sigaction old[CER_NSIG], int restart)
{
	struct sigaction sa;
	int i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = restart ? SA_RESTART : 0;
	sa.sa_handler = cer_on_signal;
	for (i = 0; i < CER_NSIG; i++)
		(void)sigaction(cer_signals[i], &sa, &old[i]);
}

static void
cer_signals_restore(const struct sigaction old[CER_NSIG])
{
	int i;

	for (i = 0; i < CER_NSIG; i++)
		(void)sigaction(cer_signals[i], &old[i], NULL);
}

static const char *
cer_signal_name(int sig)
{
	switch (sig) {
	case SIGINT:	return "SIGINT (Ctrl-C)";
	case SIGHUP:	return "SIGHUP (the terminal closed)";
	case SIGTERM:	return "SIGTERM";
	case SIGQUIT:	return "SIGQUIT";
	default:	return "a signal";
	}
}

int
hk_cer_interrupted(char *buf, size_t len)
{
	int sig = cer_signal;

	if (sig != 0 && buf != NULL)
		snprintf(buf, len, "%s", cer_signal_name(sig));
	return sig;
}

int
hk_cer_ask(const char *prompt, char *ans, size_t len)
{
	struct sigaction old[CER_NSIG];
	size_t n = 0;
	ssize_t k;
	char ch;
	int fd, r = 0;

	ans[0] = '\0';
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return HK_ERR_TTY;
	/* No SA_RESTART here: a signal ends the read (EINTR). */
	cer_signals_catch(old, 0);
	if (cer_signal == 0) {
		k = write(fd, prompt, strlen(prompt));
		(void)k;
		for (;;) {
			k = read(fd, &ch, 1);
			if (k < 0 && errno == EINTR && cer_signal == 0)
				continue;
			if (k <= 0 || ch == '\n')
				break;
			if (n + 1 < len)
				ans[n++] = ch;
		}
		ans[n] = '\0';
	}
	cer_signals_restore(old);
	close(fd);
	if (cer_signal != 0) {
		ans[0] = '\0';
		r = 1;
	}
	return r;
}

int
hk_cer_confirm(struct hk_cer *c, const struct hk_script_step *st,
    const char *what, const unsigned char dgst[32])
{
	struct hk_qr *q = NULL;
	char hex[65], ans[128];
	size_t len;
	int r;

	hk_hex_encode(dgst, 32, hex);
	printf("\nStep %s: %s\n  SHA-256 %s\n", st->id, what, hex);
	if (hk_qr_encode(hex, &q) == 0)
		(void)hk_qr_print(q, stdout);
	hk_qr_free(q);
	hk_transcript_add(c->tr, "digest", dgst, "step %s: %s SHA-256 %s",
	    st->id, what, hex);
	if (c->confirm_auto) {
		printf("  confirmed by --confirm-digests (rehearsal)\n");
		fflush(stdout);
		return hk_ca_audit(c->ca, "ceremony.confirm", "ok",
		    c->res[st - c->script->steps].actors, "step %s: %s SHA-256 "
		    "%s confirmed by --confirm-digests", st->id, what, hex);
	}
	fflush(stdout);
	r = hk_cer_ask("Type the first 8 hex digits of the SHA-256 above to "
	    "sign (anything else refuses): ", ans, sizeof(ans));
	if (r == HK_ERR_TTY) {
		hk_err_set("step %s: confirming the digest needs the "
		    "operator at a terminal (--confirm-digests only in a "
		    "rehearsal); nothing signed", st->id);
		goto fail;
	}
	if (r == 1) {
		hk_err_set("step %s: the confirmation was interrupted by %s: "
		    "refused; nothing signed", st->id,
		    cer_signal_name(cer_signal));
		r = HK_ERR_TTY;
		goto fail;
	}
	len = strcspn(ans, "\r\n");
	ans[len] = '\0';
	if (len != 8 || strncasecmp(ans, hex, 8) != 0) {
		hk_err_set("step %s: the confirmation typed does not match the "
		    "first 8 hex digits %.8s; nothing signed", st->id, hex);
		r = HK_ERR_INVALID;
		goto fail;
	}
	return hk_ca_audit(c->ca, "ceremony.confirm", "ok",
	    c->res[st - c->script->steps].actors, "step %s: %s SHA-256 %s "
	    "confirmed at the terminal", st->id, what, hex);
fail:
	hk_ca_audit_warn(c->ca, "ceremony.confirm", "fail",
	    c->res[st - c->script->steps].actors, "step %s: %s", st->id,
	    hk_err_msg());
	return r;
}

int
hk_ceremony_roster(struct hk_ca *ca, struct hk_roster **out)
{
	unsigned char *buf = NULL, d[32];
	char path[4096], hex[65];
	const char *want = hk_state_get(ca->st, "roster.approved-sha256");
	size_t len;
	int r;

	*out = NULL;
	if ((r = hk_state_path(ca->st, "roster.yaml", path,
	    sizeof(path))) != 0 ||
	    (r = hk_file_read(path, 1 << 20, &buf, &len)) != 0)
		return r;
	SHA256(buf, len, d);
	free(buf);
	hk_hex_encode(d, 32, hex);
	if (want == NULL) {
		hk_err_set("%s: not approved by the CA manager (hanko-offline "
		    "roster approve; CPS 5-2-1)", path);
		return HK_ERR_STATE;
	}
	if (strcmp(want, hex) != 0) {
		hk_err_set("%s: changed since the CA manager approved it "
		    "(SHA-256 %s, approved %.16s...); approve it again", path,
		    hex, want);
		return HK_ERR_STATE;
	}
	return hk_roster_load(path, out);
}

/* Inputs: given, readable, of their kind, with the expected digest. */
static int
check_inputs(const struct hk_cer_opts *o, struct hk_cer *c)
{
	const struct hk_script *s = c->script;
	unsigned char *buf = NULL;
	size_t i, len;
	int j, r, found;

	for (j = 0; j < o->nins; j++) {
		found = 0;
		for (i = 0; i < s->ninputs; i++)
			if (strcmp(s->inputs[i].name, o->in_name[j]) == 0)
				found = 1;
		if (!found) {
			hk_err_set("--input %s: the script %s has no such "
			    "input", o->in_name[j], s->file);
			return HK_ERR_USAGE;
		}
	}
	for (i = 0; i < s->ninputs; i++) {
		const struct hk_script_input *in = &s->inputs[i];
		const char *path = NULL;
		for (j = 0; j < o->nins; j++)
			if (strcmp(in->name, o->in_name[j]) == 0) {
				if (path != NULL) {
					hk_err_set("--input %s: given twice",
					    in->name);
					return HK_ERR_USAGE;
				}
				path = o->in_path[j];
			}
		if (path == NULL) {
			hk_err_set("input %s (%s) of %s: missing --input %s="
			    "PATH", in->name, hk_input_kind_name(in->kind),
			    s->file, in->name);
			return HK_ERR_USAGE;
		}
		if ((r = hk_file_read(path, 1 << 20, &buf, &len)) != 0)
			return r;
		SHA256(buf, len, c->input_sha[i]);
		snprintf(c->input_path[i], sizeof(c->input_path[i]), "%s",
		    path);
		if (in->kind != HK_INPUT_FILE) {
			const unsigned char *p = buf;
			BIO *bio = BIO_new_mem_buf(buf, (int)len);
			void *obj = NULL;
			if (in->kind == HK_INPUT_CERT) {
				obj = PEM_read_bio_X509(bio, NULL, NULL, NULL);
				if (obj == NULL)
					obj = d2i_X509(NULL, &p, (long)len);
				X509_free(obj);
			} else {
				obj = PEM_read_bio_X509_REQ(bio, NULL, NULL,
				    NULL);
				if (obj == NULL)
					obj = d2i_X509_REQ(NULL, &p, (long)len);
				X509_REQ_free(obj);
			}
			BIO_free(bio);
			if (obj == NULL) {
				free(buf);
				hk_err_clear();
				hk_err_set("%s: input %s: not a %s (PEM or "
				    "DER)", path, in->name, in->kind ==
				    HK_INPUT_CERT ? "certificate" :
				    "PKCS#10 request");
				return HK_ERR_PARSE;
			}
		}
		/* kept: the steps read these bytes, not the file again */
		c->input_buf[i] = buf;
		c->input_len[i] = len;
		buf = NULL;
		if (in->has_sha256 && memcmp(in->sha256, c->input_sha[i],
		    32) != 0) {
			char hex[65];
			hk_hex_encode(c->input_sha[i], 32, hex);
			hk_err_set("%s: input %s: SHA-256 %s is not the one "
			    "the script expects", path, in->name, hex);
			return HK_ERR_INVALID;
		}
	}
	return 0;
}

static int
resolve_outputs(const struct hk_cer_opts *o, struct hk_cer *c)
{
	const struct hk_script *s = c->script;
	size_t i;
	int r;

	for (i = 0; i < s->noutputs; i++) {
		const struct hk_script_output *out = &s->outputs[i];
		if (out->base == HK_BASE_OUT) {
			if (o->out == NULL) {
				hk_err_set("output %s (%s) of %s: needs --out "
				    "DIR", out->name, out->path, s->file);
				return HK_ERR_USAGE;
			}
			if ((size_t)snprintf(c->output_path[i],
			    sizeof(c->output_path[i]), "%s/%s", o->out,
			    out->file) >= sizeof(c->output_path[i]))
				return HK_ERR_INVALID;
		} else if ((r = hk_state_path(c->ca->st, out->path,
		    c->output_path[i], sizeof(c->output_path[i]))) != 0)
			return r;
		/* a leftover of a killed run the recovery removes after
		 * quorum-activate (docs/ceremonies.md "Killed runs") */
		if (hk_path_exists(c->output_path[i]) &&
		    !(out->base != HK_BASE_OUT &&
		    hk_cer_journal_stray(c, out->path))) {
			hk_err_set("%s: output %s already exists; refusing to "
			    "overwrite", c->output_path[i], out->name);
			return HK_ERR_EXISTS;
		}
	}
	return 0;
}

/* --operator ID[=SPEC]: every person's passphrase against the roster. */
static int
authenticate(const struct hk_cer_opts *o, struct hk_cer *c)
{
	char id[64], prompt[512], how[256];
	char *pass = NULL;
	int i, j, r;

	for (i = 0; i < o->nops; i++) {
		const struct hk_person *p;
		size_t idlen = strcspn(o->op_id[i], "=");

		snprintf(id, sizeof(id), "%.*s", (int)idlen, o->op_id[i]);
		for (j = 0; j < i; j++)
			if (strncmp(o->op_id[j], id, idlen) == 0 &&
			    (o->op_id[j][idlen] == '=' ||
			    o->op_id[j][idlen] == '\0')) {
				hk_err_set("--operator %s: the same person "
				    "twice; dual control needs two distinct "
				    "people (CPS 5-2-2)", id);
				hk_ca_audit_warn(c->ca,
				    "ceremony.dual-control",
				    "fail", id, "%s: %s", c->script->name,
				    hk_err_msg());
				return HK_ERR_INVALID;
			}
		if ((p = hk_roster_find(c->roster, id)) == NULL) {
			hk_err_set("--operator %s: not in the approved roster",
			    id);
			return HK_ERR_USAGE;
		}
		how[0] = '\0';
		if (o->op_spec[i] != NULL &&
		    strncmp(o->op_spec[i], "pkcs11:", 7) == 0)
			/* A token of their own (step_roster_auth.c). */
			r = hk_person_token_auth(p, o->op_spec[i], NULL, NULL,
			    c->script->sha256, how, sizeof(how));
		else if (hk_person_has_token(p)) {
			hk_err_set("--operator %s: authenticates with their "
			    "PKCS#11 token: --operator %s=pkcs11:token=...;"
			    "object=...", p->id, p->id);
			r = HK_ERR_USAGE;
		} else {
			snprintf(prompt, sizeof(prompt), "Passphrase of %s "
			    "(%s, %s): ", p->id, p->name,
			    hk_role_name(p->role));
			if ((r = hk_passin_read(o->op_spec[i], prompt,
			    &pass)) != 0)
				return r;
			r = hk_person_verify(p, pass);
			hk_secret_free(pass);
			pass = NULL;
		}
		if (r != 0) {
			hk_ca_audit_warn(c->ca, "person.auth", "fail", p->id,
			    "%s: %s", c->script->name, hk_err_msg());
			return r;
		}
		if ((r = hk_ca_audit(c->ca, "person.auth", "ok", p->id, "%s as "
		    "%s for %s%s%s", p->name, hk_role_name(p->role),
		    c->script->name, how[0] ? " by " : "", how)) != 0)
			return r;
		c->present[c->npresent++] = p;
		hk_transcript_add(c->tr, "person", NULL, "%s %s (%s) "
		    "authenticated by %s", p->id, hk_role_name(p->role),
		    p->name, how[0] ? how : "passphrase verifier");
		hk_transcript_witness(c->tr, p->id, p->name,
		    hk_role_name(p->role));
	}
	return 0;
}

/* People present of the step's roles (key managers act by their shares). */
static size_t
step_people(const struct hk_cer *c, const struct hk_script_step *st,
    char *buf, size_t len)
{
	size_t i, n = 0, off = strlen(buf);

	for (i = 0; i < c->npresent; i++) {
		if (!(st->roles & (1u << c->present[i]->role)) ||
		    c->present[i]->role == HK_ROLE_KEY_MANAGER)
			continue;
		n++;
		if (buf != NULL && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			    off ? "," : "", c->present[i]->id);
	}
	return n;
}

/* The script's roles and each step's people, before anything is done. */
static int
check_roles(const struct hk_cer *c, int nshares)
{
	const struct hk_script *s = c->script;
	char who[1024];
	size_t i, n;
	int role;

	for (role = 0; role < HK_SCRIPT_NROLES; role++) {
		if (s->role_count[role] == HK_SCRIPT_QUORUM) {
			if ((unsigned)nshares < c->roster->threshold) {
				hk_err_set("%s: the key managers' quorum needs "
				    "%u shares (--share), %d given", s->file,
				    c->roster->threshold, nshares);
				return HK_ERR_QUORUM;
			}
			continue;
		}
		n = 0;
		for (i = 0; i < c->npresent; i++)
			if ((int)c->present[i]->role == role)
				n++;
		if (n < (size_t)s->role_count[role]) {
			hk_err_set("%s: roles: %d %s needed, %zu authenticated "
			    "(--operator ID=SPEC)", s->file,
			    s->role_count[role],
			    hk_role_name((enum hk_role)role), n);
			return HK_ERR_USAGE;
		}
	}
	for (i = 0; i < s->nsteps; i++) {
		const struct hk_script_step *st = &s->steps[i];
		who[0] = '\0';
		if (st->dual_control &&
		    step_people(c, st, who, sizeof(who)) < 2) {
			hk_err_set("step %s: dual control needs two distinct "
			    "authenticated people of its roles; present: %s",
			    st->id, *who ? who : "none");
			return HK_ERR_USAGE;
		}
	}
	return 0;
}

/* 1 if this process has a controlling terminal to confirm on. */
static int
have_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static int
has_signing_step(const struct hk_script *s)
{
	size_t i;

	for (i = 0; i < s->nsteps; i++)
		if (s->steps[i].signs)
			return 1;
	return 0;
}

static void
result_free(struct hk_step_result *r)
{
	EVP_PKEY_free(r->priv);
	EVP_PKEY_free(r->pub);
	X509_free(r->cert);
	memset(r, 0, sizeof(*r));
}

/* Hash what a step wrote into the transcript. */
static void
record_outputs(struct hk_cer *c, size_t stepi)
{
	const struct hk_script *s = c->script;
	unsigned char *buf, d[32];
	char hex[65];
	size_t i, len;

	for (i = 0; i < s->noutputs; i++) {
		if (s->outputs[i].writer != (int)stepi)
			continue;
		if (hk_file_read(c->output_path[i], 1 << 24, &buf, &len) != 0)
			continue;
		SHA256(buf, len, d);
		free(buf);
		hk_hex_encode(d, 32, hex);
		hk_transcript_add(c->tr, "output", d, "%s %s SHA-256 %s",
		    s->outputs[i].name, c->output_path[i], hex);
		printf("  output %s: %s\n    SHA-256 %s\n", s->outputs[i].name,
		    c->output_path[i], hex);
	}
}

/* The test hook: SIGKILL right after the named step ran, before the
 * journal is rewritten or anything recorded (rehearsals only): a run
 * that ends without its undo (t_ceremony_killed). */
static void
forced_kill(const struct hk_cer *c, const struct hk_script_step *st)
{
	const char *f = getenv("HANKO_KILL_AFTER_STEP");

	if (f != NULL && c->rehearsal && strcmp(f, st->id) == 0) {
		fflush(stdout);
		(void)kill(getpid(), SIGKILL);
	}
}

/*
 * Right after quorum-activate: what a run that ended without its undo left
 * (the journal) is removed, nothing committed, under dual control (the
 * quorum and two authenticated people besides the key managers), as its
 * own record (docs/ceremonies.md "Killed runs").
 */
static int
recover(struct hk_cer *c, const struct hk_script_step *st)
{
	char who[1024], detail[4096];
	size_t i, n = 0, off;
	int r;

	off = (size_t)snprintf(who, sizeof(who), "%s", c->ca->actors);
	for (i = 0; i < c->npresent && off < sizeof(who); i++) {
		if (c->present[i]->role == HK_ROLE_KEY_MANAGER)
			continue;
		n++;
		off += (size_t)snprintf(who + off, sizeof(who) - off, "%s%s",
		    off ? "," : "", c->present[i]->id);
	}
	printf("\n== recovery: a ceremony run ended without its undo (%s); "
	    "its leftovers are removed\n", *c->jold_run ? c->jold_run : "?");
	if (n < 2) {
		hk_err_set("step %s: a run's leftovers wait (%s); removing them "
		    "needs dual control: two distinct authenticated people "
		    "besides the key managers (present: %s); nothing removed",
		    st->id, HK_JOURNAL_FILE, *who ? who : "none");
		r = HK_ERR_INVALID;
		goto fail;
	}
	if ((r = hk_cer_recover(c, who, detail, sizeof(detail))) != 0)
		goto fail;
	/* the record first: a journal still there redoes it, harmlessly */
	if ((r = hk_ca_audit(c->ca, "ceremony.recover", "ok", who, "%s: %s",
	    c->script->name, detail)) != 0)
		return r;
	hk_transcript_add(c->tr, "recover", NULL, "after %s by %s: %s",
	    st->id, who, detail);
	printf("  ok: %s\n", detail);
	return hk_cer_journal_recovered(c);
fail:
	hk_ca_audit_warn(c->ca, "ceremony.recover", "fail", *who ? who : "-",
	    "%s: %s", c->script->name, hk_err_msg());
	hk_transcript_add(c->tr, "recover", NULL, "after %s: FAILED: %s",
	    st->id, hk_err_msg());
	return r;
}

/* The test hook: fail after the named step ran (rehearsals only). */
static int
forced_failure(const struct hk_cer *c, const struct hk_script_step *st)
{
	const char *f = getenv("HANKO_FAIL_AT_STEP");

	if (f == NULL || !c->rehearsal || strcmp(f, st->id) != 0)
		return 0;
	hk_err_set("step %s: failure forced by HANKO_FAIL_AT_STEP "
	    "(rehearsal test)", st->id);
	return HK_ERR_INTERNAL;
}

static int
run_steps(struct hk_cer *c, size_t *done)
{
	const struct hk_script *s = c->script;
	char t[32];
	size_t i;
	int r;

	*done = 0;
	for (i = 0; i < s->nsteps; i++) {
		const struct hk_script_step *st = &s->steps[i];
		const struct hk_step_action *a = hk_ceremony_action(st->action);
		struct hk_step_result *res = &c->res[i];
		char who[1024] = "";

		printf("\n== step %zu/%zu: %s (%s)\n", i + 1, s->nsteps, st->id,
		    a->spec.name);
		fflush(stdout);
		if ((st->roles & (1u << HK_ROLE_KEY_MANAGER)) &&
		    c->ca->actors[0] != '\0')
			snprintf(who, sizeof(who), "%s", c->ca->actors);
		if (cer_signal != 0) {
			hk_err_set("step %s not run: the ceremony was "
			    "interrupted by %s", st->id,
			    cer_signal_name(cer_signal));
			r = HK_ERR_TTY;
		} else if (step_people(c, st, who, sizeof(who)) < 2 &&
		    st->dual_control) {
			hk_err_set("step %s: dual control needs two distinct "
			    "authenticated people", st->id);
			r = HK_ERR_INVALID;
		} else if (a->spec.needs_token && c->ca->tok == NULL) {
			hk_err_set("step %s: the token is not active", st->id);
			r = HK_ERR_STATE;
		} else {
			snprintf(res->actors, sizeof(res->actors), "%s",
			    *who ? who : "-");
			r = a->run(c, st, res);
			if (r == 0) {
				res->ran = 1;
				*done = i + 1;
				forced_kill(c, st);
			}
			/* the journal names what the undo would remove now */
			hk_cer_journal_step_done(c, r != 0);
			if (r == 0)
				r = forced_failure(c, st);
		}
		/* A step the log does not hold did not happen: it fails, and
		 * the engine undoes it with the steps before. */
		if (r == 0)
			r = hk_ca_audit(c->ca, "ceremony.step", "ok",
			    res->actors, "%s step %s (%s): %s", s->name, st->id,
			    a->spec.name, res->detail);
		hk_time_format(hk_clock_now(), t, sizeof(t));
		if (r != 0) {
			hk_ca_audit_warn(c->ca, "ceremony.step", "fail",
			    res->actors[0] ? res->actors : "-", "%s step %s "
			    "(%s): %s", s->name, st->id, a->spec.name,
			    hk_err_msg());
			hk_transcript_add(c->tr, "step", NULL, "%s %s fail at "
			    "%s by %s: %s", st->id, a->spec.name, t,
			    res->actors[0] ? res->actors : "-", hk_err_msg());
			return r;
		}
		hk_transcript_add(c->tr, "step", NULL, "%s %s ok at %s by %s: "
		    "%s", st->id, a->spec.name, t, res->actors, res->detail);
		printf("  ok: %s\n", res->detail);
		record_outputs(c, i);
		if (a == &hk_step_quorum_activate && c->jpending &&
		    (r = recover(c, st)) != 0)
			return r;
	}
	return 0;
}

/* 1 if id is one of the comma-separated ids of actors (whole ids only:
 * "sato" is not in "satoh,suzuki"). */
static int
actor_listed(const char *actors, const char *id)
{
	size_t n = strlen(id);
	const char *a = actors;

	while (*a != '\0') {
		size_t l = strcspn(a, ",");
		if (l == n && strncmp(a, id, n) == 0)
			return 1;
		a += l;
		if (*a == ',')
			a++;
	}
	return 0;
}

/* Undo the steps done, last first, and say so in the log. where: "" in
 * a state that is kept, else what becomes of the throwaway copy (a
 * rehearsal without --keep-rehearsal removes it: what a step did stays
 * in it only, and a kept line must not say more). */
static void
undo_steps(struct hk_cer *c, size_t done, const char *where)
{
	struct hk_err_kept saved;
	size_t i;

	hk_err_keep(&saved);
	for (i = done; i-- > 0;) {
		const struct hk_script_step *st = &c->script->steps[i];
		const struct hk_step_action *a = hk_ceremony_action(st->action);
		if (!c->res[i].ran)
			continue;
		if (a->undo == NULL) {
			/* a commit, a destroy, ...: what it did stays, and a
			 * reader of the transcript must see that too */
			hk_transcript_add(c->tr, "kept", NULL, "%s %s: kept (no "
			    "undo: what it did stays%s)", st->id, a->spec.name,
			    where);
			continue;
		}
		a->undo(c, st, &c->res[i]);
		/* Only what was undone is said to be: what a later step
		 * committed stays, and the record says so. */
		if (c->res[i].undone)
			hk_transcript_add(c->tr, "undo", NULL, "%s %s undone",
			    st->id, a->spec.name);
		else
			hk_transcript_add(c->tr, "kept", NULL, "%s %s: nothing "
			    "of it undone (committed, or nothing left to "
			    "remove%s)", st->id, a->spec.name, where);
	}
	hk_err_restore(&saved);
}

/* The key managers whose shares were used, as witnesses. */
static void
km_witnesses(struct hk_cer *c)
{
	size_t i;

	for (i = 0; i < c->roster->npeople; i++) {
		const struct hk_person *p = &c->roster->people[i];
		if (p->role == HK_ROLE_KEY_MANAGER &&
		    actor_listed(c->ca->actors, p->id))
			hk_transcript_witness(c->tr, p->id, p->name,
			    hk_role_name(p->role));
	}
}

/* Write the transcript, signed when the token is active. */
static int
finish_transcript(struct hk_cer *c, const struct hk_cer_opts *o,
    const char *tdir, int ok, char *txt, size_t txtlen)
{
	EVP_PKEY *priv = NULL, *pub = NULL;
	const char *uri = hk_state_get(c->ca->st, "audit.key-uri");
	char t[32], base[256], tz[32];
	unsigned char *buf = NULL, d[32];
	size_t len, i;
	int r;

	hk_time_format(hk_clock_now(), t, sizeof(t));
	hk_transcript_add(c->tr, "finished", NULL, "%s", t);
	hk_transcript_add(c->tr, "result", NULL, "%s", ok ? "ok" :
	    "FAILED (the undo lines above say what was undone, the kept lines "
	    "what stays)");
	for (i = 0, len = 0; t[i] != '\0' && len < sizeof(tz) - 1; i++)
		if (t[i] != '-' && t[i] != ':')
			tz[len++] = t[i];
	tz[len] = '\0';
	snprintf(base, sizeof(base), "%s-%s%s", c->script->name, tz,
	    o->rehearsal ? "-rehearsal" : "");
	if ((r = hk_dir_ensure(tdir, 0755)) != 0)
		return r;
	if (c->ca->tok != NULL && uri != NULL &&
	    (r = hk_token_key(c->ca->tok, uri, &priv, &pub)) != 0)
		return r;
	r = hk_transcript_write(c->tr, tdir, base, priv, pub, txt, txtlen);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	if (r != 0)
		return r;
	if (hk_file_read(txt, 1 << 24, &buf, &len) == 0) {
		char hex[65];
		SHA256(buf, len, d);
		free(buf);
		hk_hex_encode(d, 32, hex);
		if (ok && (r = hk_ca_audit(c->ca, "ceremony.transcript", "ok",
		    "-", "%s: %s SHA-256 %s%s", c->script->name, txt, hex,
		    c->ca->tok ? " (signed by audit-1)" :
		    " (unsigned: token not active)")) != 0)
			return r;
		if (!ok)
			hk_ca_audit_warn(c->ca, "ceremony.transcript", "ok",
			    "-", "%s: %s SHA-256 %s%s", c->script->name, txt,
			    hex, c->ca->tok ? " (signed by audit-1)" :
			    " (unsigned: token not active)");
	}
	printf("\nTranscript: %s (+ .html%s)\n", txt, c->ca->tok ?
	    ", .txt.sig" : "");
	return 0;
}

static void
cer_free(struct hk_cer *c)
{
	size_t i;

	for (i = 0; i < HK_SCRIPT_MAX_STEPS; i++)
		result_free(&c->res[i]);
	for (i = 0; i < HK_SCRIPT_MAX_INPUTS; i++)
		free(c->input_buf[i]);
	hk_transcript_free(c->tr);
	hk_roster_free(c->roster);
	hk_profile_free(c->profile);
	hk_ca_close(c->ca);
	hk_script_free((struct hk_script *)c->script);
	if (c->runlock_held)
		close(c->runlock_fd);	/* the run lock released */
}

/*
 * The real CA's log records the rehearsal, whether it ran or failed, also
 * when its copy could not be made (copy "": "copy failed"): script name
 * and SHA-256, ok or why (msg), the transcript and what became of the
 * copy. r is the run's
 * result: a rehearsal that ran but whose record is lost fails (msg then
 * says why); a failed one only warns. Returns the run's result.
 */
static int
rehearsal_record(const struct hk_cer_opts *o, const struct hk_cer *c,
    const char *copy, const char *txt, int r, struct hk_err_kept *msg,
    int state_rehearsal)
{
	const char *fate = *copy == '\0' ? "failed" : o->keep_rehearsal ?
	    "kept" : "removed";
	char log0[4096], d[8192], clk[64] = "", tsha[80] = "";
	int dn;

	/* The real CA's log records when the rehearsal really ran: the clock
	 * it set for the copy (--clock, clock:) is named, not used. A state
	 * made with init --rehearsal keeps the clock its tests set. */
	if (!state_rehearsal && hk_clock_is_set()) {
		char t[32];
		hk_time_format(hk_clock_now(), t, sizeof(t));
		snprintf(clk, sizeof(clk), "; rehearsal clock %s", t);
		hk_clock_unset();
	}
	/* The transcript is signed by the copy's throwaway audit key, gone
	 * with the copy: its SHA-256 here, in the real log, is what the
	 * internal auditor checks it against (docs/ceremonies.md). */
	if (*txt) {
		unsigned char *buf = NULL, md[32];
		size_t len;
		char hex[65];
		struct hk_err_kept keep;

		hk_err_keep(&keep);	/* a read error leaves no trace */
		if (hk_file_read(txt, 1 << 24, &buf, &len) == 0) {
			SHA256(buf, len, md);
			free(buf);
			hk_hex_encode(md, 32, hex);
			snprintf(tsha, sizeof(tsha), " SHA-256 %s", hex);
		}
		hk_err_restore(&keep);
	}
	snprintf(log0, sizeof(log0), "%s/audit/audit.log", o->state);
	dn = snprintf(d, sizeof(d), "%s script SHA-256 %s: %s%s; transcript "
	    "%s%s; copy %s%s%s", c->script->name, c->script->sha256_hex, r == 0 ?
	    "ok" : msg->msg, clk, *txt ? txt : "none", tsha, copy, *copy ? " " :
	    "", fate);
	if (dn < 0 || (size_t)dn >= sizeof(d))
		d[sizeof(d) - 1] = '\0';	/* cut, still one line */
	if (hk_audit_append(log0, "ceremony.rehearsal", r == 0 ? "ok" : "fail",
	    "-", d) == 0)
		return r;
	if (r == 0) {
		/* The rehearsal ran, but the real state's log does not say
		 * so. */
		hk_err_set("audit record ceremony.rehearsal ok not written: %s",
		    hk_err_msg());
		hk_err_keep(msg);
		return HK_ERR_AUDIT;
	}
	fprintf(stderr, "hanko-offline: AUDIT LOG NOT WRITTEN: record "
	    "ceremony.rehearsal fail: %s\n", hk_err_msg());
	return r;
}

/* The real state's profile accepted (recorded once in a state made
 * before the record), before a rehearsal copies the state. */
static int
early_profile(const struct hk_cer_opts *o)
{
	struct hk_common_opts co = { o->state, NULL };
	struct hk_profile *p = NULL;
	struct hk_ca *ca = NULL;
	int r;

	if ((r = hk_ca_open(&co, "ceremony run", &ca)) == 0)
		r = hk_ca_profile(ca, &p);
	hk_profile_free(p);
	hk_ca_close(ca);
	return r;
}

int
hk_ceremony_run(const struct hk_cer_opts *o)
{
	struct hk_cer *c = NULL;
	struct hk_script *script = NULL;
	struct hk_state *st0 = NULL;
	struct hk_common_opts co;
	char copy[4096] = "", tdir[4096], txt[4096] = "", anchor[512];
	uint8_t *stand_in = NULL;
	char t[32];
	struct hk_err_kept msg;
	const char *v;
	const struct hk_action_spec *const *reg;
	size_t nreg, done = 0, i;
	int r, state_rehearsal, started = 0, copying = 0, accepting;
	struct sigaction old_sa[CER_NSIG];
	int catching = 0;

	reg = hk_ceremony_registry(&nreg);
	/* 1. The whole script, before anything else. */
	if ((r = hk_script_load(o->script, reg, nreg, &script)) != 0)
		return r;
	if ((r = hk_ceremony_script_check(script)) != 0) {
		hk_script_free(script);
		return r;
	}
	printf("Ceremony %s (%s)\n  script  %s\n  SHA-256 %s\n", script->name,
	    *script->title ? script->title : "no title", o->script,
	    script->sha256_hex);
	if (o->state == NULL) {
		hk_err_set("ceremony run: --state DIR is required");
		r = HK_ERR_USAGE;
		goto early;
	}
	if ((r = hk_state_load(o->state, &st0)) != 0)
		goto early;
	v = hk_state_get(st0, "rehearsal");
	state_rehearsal = v != NULL && strcmp(v, "yes") == 0;
	hk_state_free(st0);
	st0 = NULL;
	if (o->confirm_digests && !o->rehearsal && !state_rehearsal) {
		hk_err_set("--confirm-digests: only in a rehearsal; a real "
		    "run is confirmed by the operator at the terminal");
		r = HK_ERR_USAGE;
		goto early;
	}
	if (o->clock != NULL && !o->rehearsal && !state_rehearsal) {
		hk_err_set("--clock %s: the clock may be set only in a "
		    "rehearsal (this CA state is a real one)", o->clock);
		r = HK_ERR_USAGE;
		goto early;
	}
	if (script->has_clock && !o->rehearsal && !state_rehearsal) {
		hk_err_set("%s: clock: a script that sets the clock runs only "
		    "as a rehearsal", o->script);
		r = HK_ERR_USAGE;
		goto early;
	}
	if (!o->rehearsal && !state_rehearsal && has_signing_step(script) &&
	    !have_tty()) {
		hk_err_set("%s: a real ceremony that signs needs a terminal "
		    "for the confirmations", o->script);
		r = HK_ERR_TTY;
		goto early;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = HK_ERR_ALLOC;
		goto early;
	}
	c->script = script;
	script = NULL;
	if ((r = hk_transcript_new(c->script->name, &c->tr)) != 0 ||
	    (r = check_inputs(o, c)) != 0)
		goto early;

	/* The profile accepted, checked on the state itself before a
	 * rehearsal copies it (whose fresh log holds no init record): a
	 * changed one is refused with nothing made (docs/profile.md). */
	accepting = step_index(c->script, "profile-accept") >= 0;
	if (o->rehearsal && !accepting && (r = early_profile(o)) != 0)
		goto early;

	/* 2. The state: a throwaway CA in a rehearsal (rehearsal.c): no key,
	 * PIN or quorum secret of the real CA is in it. */
	copying = o->rehearsal;	/* from here a rehearsal is recorded */
	if (o->rehearsal && (r = hk_rehearsal_make(o->state, copy,
	    sizeof(copy), &stand_in)) != 0)
		goto early;
	memset(&co, 0, sizeof(co));
	co.state = o->rehearsal ? copy : o->state;
	co.clock = o->clock;
	if ((r = hk_ca_open(&co, "ceremony run", &c->ca)) != 0)
		goto early;
	c->ca->stand_in_qkey = stand_in;	/* the CA owns it now */
	stand_in = NULL;
	/* a run that ended without its undo left a journal: read it now
	 * (its leftovers are removed after quorum-activate) */
	if ((r = hk_cer_journal_begin(c)) != 0)
		goto early;
	c->rehearsal = o->rehearsal || state_rehearsal;
	c->confirm_auto = o->confirm_digests;
	c->shares = o->shares;
	c->nshares = o->nshares;
	if (c->script->has_clock && o->clock == NULL)
		hk_clock_set(c->script->clock);
	/* profile-accept puts another profile in force: no step of its
	 * ceremony reads this one (hk_ceremony_script_check) */
	if (!accepting && (r = hk_ca_profile(c->ca, &c->profile)) != 0)
		goto early;
	if ((r = hk_ceremony_roster(c->ca, &c->roster)) != 0 ||
	    (r = resolve_outputs(o, c)) != 0)
		goto early;
	if (o->out != NULL)
		snprintf(tdir, sizeof(tdir), "%s", o->out);
	else
		snprintf(tdir, sizeof(tdir), "%s/ceremonies", o->state);

	hk_time_format(hk_clock_now(), t, sizeof(t));
	hk_transcript_add(c->tr, "ceremony", NULL, "%s%s%s", c->script->name,
	    *c->script->title ? ": " : "", c->script->title);
	hk_transcript_add(c->tr, "script", NULL, "%s", o->script);
	hk_transcript_add(c->tr, "script-sha256", c->script->sha256, "%s",
	    c->script->sha256_hex);
	hk_transcript_add(c->tr, "mode", NULL, "%s", o->rehearsal ?
	    "REHEARSAL on a throwaway copy of the state (outputs marked TEST)"
	    : c->rehearsal ? "run on a rehearsal state (outputs marked TEST)" :
	    "REAL");
	hk_transcript_add(c->tr, "state", NULL, "%s%s%s", o->state,
	    o->rehearsal ? " copied to " : "", o->rehearsal ? copy : "");
	hk_transcript_add(c->tr, "started", NULL, "%s", t);
	{
		char cps[1024] = "";
		size_t off = 0;
		for (i = 0; i < c->script->ncps && off < sizeof(cps); i++)
			off += (size_t)snprintf(cps + off, sizeof(cps) - off,
			    "%s%s", i ? ", " : "", c->script->cps[i]);
		hk_transcript_add(c->tr, "cps", NULL, "%s", cps);
	}
	for (i = 0; i < c->script->ninputs; i++) {
		char hex[65];
		hk_hex_encode(c->input_sha[i], 32, hex);
		hk_transcript_add(c->tr, "input", c->input_sha[i], "%s %s %s "
		    "SHA-256 %s", c->script->inputs[i].name,
		    hk_input_kind_name(c->script->inputs[i].kind),
		    c->input_path[i], hex);
	}
	if (c->jpending && step_index(c->script, "quorum-activate") < 0) {
		printf("\nA ceremony run ended without its undo; its leftovers "
		    "wait (%s/%s): this ceremony has no quorum-activate and "
		    "leaves them; the next one with it removes them.\n",
		    c->ca->st->dir, HK_JOURNAL_FILE);
		hk_transcript_add(c->tr, "leftovers", NULL, "%s/%s names what "
		    "a run that ended without its undo left (%s): not removed "
		    "by this ceremony (no quorum-activate)", c->ca->st->dir,
		    HK_JOURNAL_FILE, c->jold_run);
	}
	/* From here a signal ends the run as a failed step would, never in
	 * the middle (cer_signal, above). */
	cer_signal = 0;
	cer_signals_catch(old_sa, 1);
	catching = 1;
	/* 3. People, then roles and dual control, still before the token.
	 * A log that cannot take the start record stops the ceremony here. */
	if ((r = hk_ca_audit(c->ca, "ceremony.start", "ok", "-", "%s script "
	    "%s SHA-256 %s; %s", c->script->name, o->script,
	    c->script->sha256_hex, o->rehearsal ? "REHEARSAL" : c->rehearsal ?
	    "rehearsal state" : "real run")) != 0)
		goto early;
	started = 1;
	if ((r = authenticate(o, c)) != 0 ||
	    (r = check_roles(c, o->nshares)) != 0)
		goto fail;

	/* 4. The steps. */
	if ((r = run_steps(c, &done)) != 0)
		goto fail;
	/* all it made is kept: the journal no longer names it */
	if (hk_cer_journal_end(c, 1) != 0)
		fprintf(stderr, "hanko-offline ceremony: warning: %s\n",
		    hk_err_msg());
	km_witnesses(c);
	if ((r = finish_transcript(c, o, tdir, 1, txt, sizeof(txt))) != 0)
		goto fail_late;
	/* The steps are done and kept: a record lost now cannot undo them,
	 * but the run does not end as a success (exit 6). */
	if ((r = hk_ca_audit(c->ca, "ceremony.done", "ok", "-", "%s script "
	    "SHA-256 %s", c->script->name, c->script->sha256_hex)) != 0)
		goto out;
	anchor[0] = '\0';
	if (c->ca->tok != NULL && (r = hk_ca_checkpoint_anchor(c->ca, anchor,
	    sizeof(anchor))) != 0)
		goto out;
	printf("Ceremony %s done%s.\n", c->script->name, c->rehearsal ?
	    " (REHEARSAL: outputs marked TEST)" : "");
	if (anchor[0] != '\0' && copy[0] == '\0')
		printf("Audit log sealed by the checkpoint after the transcript: "
		    "%s (write it in the ceremony record)\n", anchor);
	r = 0;
	goto out;
fail:
	undo_steps(c, done, o->rehearsal && !o->keep_rehearsal ? " in the "
	    "throwaway rehearsal copy only, which this run then removes" : "");
	hk_err_keep(&msg);
	/* what the undo could not remove stays named for the next run */
	if (hk_cer_journal_end(c, 0) != 0)
		fprintf(stderr, "hanko-offline ceremony: warning: %s\n",
		    hk_err_msg());
	hk_err_restore(&msg);
	hk_err_keep(&msg);
	/* they handed their shares over whatever came after (CPS 4-12-1) */
	km_witnesses(c);
	if (finish_transcript(c, o, tdir, 0, txt, sizeof(txt)) != 0)
		fprintf(stderr, "hanko-offline ceremony: transcript not "
		    "written: %s\n", hk_err_msg());
	hk_err_restore(&msg);
fail_late:
	hk_err_keep(&msg);
	hk_ca_audit_warn(c->ca, "ceremony.done", "fail", "-", "%s: %s",
	    c->script->name, msg.msg);
	if (c->ca->tok != NULL)
		(void)hk_ca_checkpoint(c->ca);
	hk_err_restore(&msg);
	goto out;
early:
	if (c != NULL && c->ca != NULL && started == 0)
		hk_ca_audit_warn(c->ca, "ceremony.refused", "fail", "-",
		    "%s: %s", c->script->name, hk_err_msg());
out:
	hk_err_keep(&msg);
	if (copying)
		r = rehearsal_record(o, c, copy, txt, r, &msg,
		    state_rehearsal);
	if (o->rehearsal && copy[0] != '\0') {
		/* Keys from the token go before the token closes. */
		for (i = 0; i < HK_SCRIPT_MAX_STEPS; i++)
			result_free(&c->res[i]);
		hk_ca_close(c->ca);
		c->ca = NULL;
		if (o->keep_rehearsal)
			printf("Rehearsal state kept: %s\n", copy);
		else if (hk_tree_remove(copy) != 0)
			fprintf(stderr, "hanko-offline ceremony: could not "
			    "remove %s\n", copy);
	}
	if (c != NULL)
		cer_free(c);
	free(c);
	hk_secret_free(stand_in);
	hk_script_free(script);
	if (catching)
		cer_signals_restore(old_sa);
	hk_err_restore(&msg);
	return r;
}

/*
 * cmd_status.c - "hanko-online status": whether the online CA needs
 * attention, read-only (docs/status.md): what publish's warnings, check,
 * backup verify, responder and the audit log say, one fact per line with
 * the CPS section it serves, each by the rule the command that acts on it
 * uses (the helpers of online.h, ocsp.h, repo.h). A fact that needs
 * attention is also a line "warning: ..." on stderr naming what to do, and
 * the exit status is then 9 (HK_ERR_WARNING, as publish's).
 *
 * It writes nothing: no audit record (like profile without accept and
 * hanko-offline audit show: nothing is done, so there is nothing to
 * record; docs/status.md), no lock, the store read through a read-only
 * connection (hk_store_open_readonly: never a checkpoint, never store.db
 * opened to write), a store of schema 6 to 8 not upgraded (read_only), the
 * token not opened (its compromise marks and the audit key need the PIN:
 * check and audit verify with the key read those), the audit log read
 * under its shared lock only (hk_audit_verify without a key, then
 * hk_audit_scan).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "audit.h"
#include "cert.h"
#include "clock.h"
#include "crosspair.h"
#include "err.h"
#include "ocsp.h"
#include "online.h"
#include "profile.h"
#include "profile_accept.h"
#include "repo.h"
#include "store.h"

#define BACKUP_MAX_AGE	(26 * 3600)	/* the daily timer, and some slack */
#define PUBLISH_SLACK	(2 * 3600)	/* a set older than the CRL interval
					 * and this: the daily run did not
					 * publish (CPS 4-4-9) */
#define ROOT_DAYS	180	/* warn when the root's key use ends sooner:
				 * the rollover is a quorum ceremony with new
				 * key backups, then the import (CPS 4-13) */
#define CROSS_DAYS	90	/* warn when a cross certificate ends
				 * sooner: its renewal goes through the
				 * bridge CA (CPS 4-6..4-9) */

struct status_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *repo;		/* --repo DIR */
};

struct status_work {
	const struct status_opts *o;
	struct hk_online *on;
	struct hk_store *store;
	struct hk_profile *p;		/* the profile accepted, or NULL */
	time_t now;
	int nwarn;
	char last[HK_ERR_DETAIL_MAX];	/* the last warning: the exit line */
	int audit_bad;			/* the log fails verification */
	char audit_why[HK_ERR_DETAIL_MAX];
	/* the newest backup.create ok record */
	uint64_t bseq;
	char btime[24];
	char bfolder[4096];
	int bfound;
	char prof[HK_ERR_DETAIL_MAX + 128];	/* the profile's lines, printed
						 * last */
};

static const char status_usage[] =
"usage: hanko-online status --state DIR [--repo DIR] [--clock T]\n";

static void
warn(struct status_work *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A warning: printed at once on stderr, but the last, which is the exit
 * line main prints; so one line each. */
static void
warn(struct status_work *w, const char *fmt, ...)
{
	va_list ap;

	if (w->nwarn > 0)
		fprintf(stderr, "hanko-online status: warning: %s\n", w->last);
	va_start(ap, fmt);
	vsnprintf(w->last, sizeof(w->last), fmt, ap);
	va_end(ap);
	w->nwarn++;
}

static long
days(time_t from, time_t to)
{
	return (long)((to - from) / 86400);
}

/* ---- issuing generations (CPS 1-3-2, 6-3-1-2, 4-14-2) ---- */

/* The root's revocations of the issuing CA certificates (the newest
 * stored ARL, hk_online_issuing_arl): an ARL that does not parse is a
 * warning, and nothing is taken as revoked. */
static void
arl_revocations(struct status_work *w, struct hk_online_issuing *l)
{
	if (hk_online_issuing_arl(w->store, l) == 0)
		return;
	warn(w, "%s: issue and responder refuse until it is put right "
	    "(restore store.db from the backup, or import the ARL bundle "
	    "again)", hk_err_msg());
	hk_err_clear();
}

static int
issuing(struct status_work *w)
{
	struct hk_online_issuing l;
	const char *mark, *uri;
	char k[64], t[32], note[512], stopped[512];
	time_t na, nb, last;
	X509 *x, *cur = NULL;
	int top, g, i, r, curgen = 0, curmark = 0, ci = 0, lost;

	if ((r = hk_online_top_gen(w->on, &top)) != 0 ||
	    (r = hk_online_distrust_top(w->on, w->store, &lost)) != 0 ||
	    (r = hk_online_issuing_load(w->store, &l)) != 0)
		return r;
	arl_revocations(w, &l);
	for (g = 1; g <= top; g++) {
		for (x = NULL, i = 0; i < l.n; i++)
			if (l.gen[i] == g)
				x = l.x[i];	/* oldest first: the latest */
		snprintf(k, sizeof(k), "issuing.%d.key-uri", g);
		uri = hk_state_get(w->on->st, k);
		snprintf(k, sizeof(k), "issuing.%d.compromised", g);
		mark = hk_state_get(w->on->st, k);
		if (x == NULL) {
			printf("issuing: generation %d: no certificate "
			    "imported (its CSR goes to the issue-subca "
			    "ceremony; CPS 6-3-1-2)\n", g);
		} else if (hk_cert_time(X509_get0_notAfter(x), &na) != 0 ||
		    hk_cert_time(X509_get0_notBefore(x), &nb) != 0) {
			hk_err_set("store: ca_certs: issuing generation %d: "
			    "validity does not decode", g);
			r = HK_ERR_STATE;
			goto out;
		} else {
			hk_time_format(na, t, sizeof(t));
			printf("issuing: generation %d: certificate notAfter %s "
			    "(CPS 6-3-1-2)\n", g, t);
			if (hk_cert_user_not_after(w->p, x, g, nb, &last) != 0)
				printf("issuing: generation %d: key use: no "
				    "3-year certificate fits in it (CPS 1-3-2, "
				    "6-3-1-2)\n", g);
			else {
				last = hk_online_issue_last(w->p, x, g, nb,
				    na + 1);
				hk_time_format(last, t, sizeof(t));
				printf("issuing: generation %d: key use ends %s "
				    "(the last 3-year certificate; CPS 1-3-2, "
				    "6-3-1-2)\n", g, t);
			}
			hk_err_clear();
		}
		printf("issuing: generation %d: compromise mark: %s%s "
		    "(state.conf; CPS 4-4-1-3, 4-14-2)\n", g, mark ? "marked, " :
		    "none", mark ? mark : "");
		/* the current one: hk_online_current_issuer's rule without
		 * the token (status does not log in): a key state.conf names
		 * and a stored certificate valid now */
		if (uri != NULL && x != NULL)
			for (i = 0; i < l.n; i++)
				if (l.gen[i] == g &&
				    hk_cert_valid_at(l.x[i], w->now) &&
				    (curgen != g || !l.revoked[i] ||
				    l.revoked[ci])) {
					/* one the ARL does not list first */
					cur = l.x[i];
					ci = i;
					curgen = g;
					curmark = mark != NULL;
				}
		if (x != NULL && hk_online_issuing_stopped(&l,
		    X509_get0_pubkey(x), w->now, stopped, sizeof(stopped)))
			printf("issuing: generation %d: revoked by the root: "
			    "%s (CPS 4-14-2, 4-10)\n", g, stopped);
	}
	printf("issuing: token: not opened: its compromise marks need the PIN "
	    "and status does not log in (hanko-online check compares them "
	    "with state.conf; CPS 4-14-2)\n");
	if (cur == NULL) {
		warn(w, "PROFILE.md: no issuing generation has a certificate "
		    "valid at now: issue stops; import the next generation's "
		    "certificate (hanko-online request --type csr, the "
		    "issue-subca ceremony, hanko-online import)");
		r = 0;
		goto out;
	}
	if (hk_online_issuing_stopped(&l, X509_get0_pubkey(cur), w->now,
	    stopped, sizeof(stopped))) {
		printf("issuing: generation %d: current, revoked by the root: "
		    "issue and responder refuse under it, publish goes on "
		    "with its CRLs (CPS 4-14-2)\n", curgen);
		warn(w, "CPS 4-14-2: %s: issuing generation %d, the current "
		    "one, is revoked by the root: issue and responder refuse "
		    "under it; %s", stopped, curgen, lost > 0 ? "the root in "
		    "force is declared compromised (see its line): no next "
		    "generation can be certified; the CA starts again with "
		    "init-root on a new state (docs/ceremony-lifecycle.md "
		    "\"compromise\")" : "make the next generation "
		    "(hanko-online request --type csr, the issue-subca "
		    "ceremony, hanko-online import)");
	} else
		printf("issuing: generation %d: current (issue, publish and "
		    "responder sign with it)\n", curgen);
	if (curmark)
		warn(w, "CPS 4-14-2: issuing generation %d, the current one, "
		    "is marked compromised in state.conf: issue refuses under "
		    "it; request the next generation (hanko-online request "
		    "--type csr, the issue-subca ceremony, hanko-online "
		    "import)", curgen);
	if (hk_cert_user_not_after(w->p, cur, curgen, w->now, &last) != 0) {
		/* closed: the last second it was open, found as publish's
		 * check_window does (the certificate is valid now, so one
		 * issued 3 years and a day before fitted) */
		last = hk_online_issue_last(w->p, cur, curgen, w->now -
		    (time_t)(3 * 366 + 1) * 86400, w->now);
		hk_time_format(last, t, sizeof(t));
		printf("issuing: 3-year certificates: none fits in issuing CA "
		    "%d any more: issuance has stopped (since %s; CPS 1-3-2)\n",
		    curgen, t);
	} else {
		hk_cert_time(X509_get0_notAfter(cur), &na);
		last = hk_online_issue_last(w->p, cur, curgen, w->now, na + 1);
		hk_time_format(last, t, sizeof(t));
		printf("issuing: 3-year certificates: %ld days left under "
		    "issuing CA %d, until %s; then issuance stops (CPS 1-3-2, "
		    "6-3-1-2)\n", days(w->now, last), curgen, t);
	}
	hk_err_clear();
	/* as publish warns: also while the next generation is requested
	 * but its certificate not imported (the note then says so) */
	if (last < w->now + (time_t)HK_PUBLISH_WINDOW_DAYS * 86400) {
		hk_online_window_note(curgen, top, last, w->now, note,
		    sizeof(note));
		warn(w, "%s", note);
	}
	r = 0;
 out:
	hk_online_issuing_free(&l);
	return r;
}

/* ---- the root and the cross certificates (CPS 4-13, 6-3-1-2, 4-9) ---- */

struct root_work {
	struct status_work *w;
	X509 *root;		/* the newest generation's certificate */
	int gen;
	int bad;		/* a row that does not decode */
	X509 *dir[2];		/* the latest-ending cross certificate: [0]
				 * the bridge CA issued to the root, [1] the
				 * root issued to the bridge CA */
};

static int
each_root(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct root_work *rw = arg;
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	time_t na;
	char t[32];

	if (x == NULL || hk_cert_time(X509_get0_notAfter(x), &na) != 0) {
		X509_free(x);
		rw->bad = 1;
		return 0;
	}
	hk_time_format(na, t, sizeof(t));
	printf("root: generation %d: certificate notAfter %s (CPS 6-3-1-2)\n",
	    gen, t);
	if (rw->root == NULL || gen >= rw->gen) {
		X509_free(rw->root);
		rw->root = x;
		rw->gen = gen;
	} else
		X509_free(x);
	return 0;
}

static void
cross_keep(struct root_work *rw, X509 *x)
{
	time_t na, had;
	int d;

	if (x == NULL || rw->root == NULL ||
	    hk_cert_time(X509_get0_notAfter(x), &na) != 0)
		return;
	if (X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(rw->root)) == 0)
		d = 1;
	else if (X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_subject_name(rw->root)) == 0)
		d = 0;
	else
		return;
	if (rw->dir[d] != NULL && hk_cert_time(X509_get0_notAfter(rw->dir[d]),
	    &had) == 0 && had >= na)
		return;
	X509_up_ref(x);
	X509_free(rw->dir[d]);
	rw->dir[d] = x;
}

static int
each_cross(const unsigned char *der, size_t len, int gen, void *arg)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	(void)gen;
	cross_keep(arg, x);
	X509_free(x);
	ERR_clear_error();
	return 0;
}

static int
each_pair(const unsigned char *der, size_t len, int gen, void *arg)
{
	X509 *f = NULL, *r = NULL;

	(void)gen;
	if (hk_crosspair_decode(der, len, &f, &r) == 0) {
		cross_keep(arg, f);
		cross_keep(arg, r);
	}
	X509_free(f);
	X509_free(r);
	ERR_clear_error();
	hk_err_clear();
	return 0;
}

static int
roots(struct status_work *w)
{
	static const char *const what[2] = {
		"the bridge CA issued to the root (CPS 4-9 (1))",
		"the root issued to the bridge CA (CPS 4-9 (2))",
	};
	struct root_work rw;
	char t[32], dn[256];
	time_t nb, na, end;
	int d, r;

	memset(&rw, 0, sizeof(rw));
	rw.w = w;
	if ((r = hk_store_ca_each(w->store, HK_CA_ROOT, each_root, &rw)) != 0)
		goto out;
	if (rw.bad) {
		hk_err_set("store: ca_certs: a root certificate does not "
		    "decode");
		r = HK_ERR_STATE;
		goto out;
	}
	if (rw.root == NULL) {
		printf("root: none imported (CPS 6-3-1-2)\n");
		r = 0;
		goto out;
	}
	/* The key use (CPS 6-3-1-2: 5 years from the key's generation), by
	 * the newest generation's notBefore: the offline CA counts from
	 * root.<g>.created, which is that second or (generation 1: the
	 * init-root commit) a little later; so never after it. */
	if (w->p != NULL &&
	    hk_cert_time(X509_get0_notBefore(rw.root), &nb) == 0 &&
	    (end = hk_time_add_years(nb, w->p->root_key_use_years)) !=
	    (time_t)-1) {
		hk_time_format(end, t, sizeof(t));
		printf("root: generation %d: key use ends %s (its notBefore and "
		    "root.key-use-years, %d; then the rollover: CPS 4-13, "
		    "6-3-1-2)\n", rw.gen, t, w->p->root_key_use_years);
		if (end < w->now + (time_t)ROOT_DAYS * 86400)
			warn(w, "CPS 4-13, 6-3-1-2: root generation %d's key "
			    "use %s %s: after it the root certifies "
			    "no issuing CA, responder or cross certificate; "
			    "hold the rollover ceremony (ceremony-scripts/"
			    "rollover.yaml, docs/ceremony-lifecycle.md), then "
			    "hanko-online import its bundles", rw.gen,
			    end <= w->now ? "ended" : "ends", t);
	}
	hk_err_clear();
	if ((r = hk_store_ca_each(w->store, HK_CA_CROSS, each_cross,
	    &rw)) != 0 || (r = hk_store_ca_each(w->store, HK_CA_PAIR,
	    each_pair, &rw)) != 0)
		goto out;
	for (d = 0; d < 2; d++) {
		if (rw.dir[d] == NULL) {
			printf("cross: none %s\n", what[d]);
			continue;
		}
		hk_cert_time(X509_get0_notAfter(rw.dir[d]), &na);
		hk_time_format(na, t, sizeof(t));
		X509_NAME_oneline(d ? X509_get_subject_name(rw.dir[d]) :
		    X509_get_issuer_name(rw.dir[d]), dn, sizeof(dn));
		printf("cross: the latest %s: %s, notAfter %s\n", what[d], dn,
		    t);
		if (na < w->now + (time_t)CROSS_DAYS * 86400)
			warn(w, "CPS 4-9: the latest cross certificate %s %s "
			    "%s (%s): renew it with the bridge CA: the "
			    "cross-certify ceremony (ceremony-scripts/"
			    "cross-certify.yaml), then hanko-online import "
			    "--type cross-pair", what[d], na <= w->now ?
			    "ended" : "ends", t, dn);
	}
	r = 0;
 out:
	X509_free(rw.root);
	X509_free(rw.dir[0]);
	X509_free(rw.dir[1]);
	return r;
}

/* ---- a root generation declared compromised (CPS 4-14-2) ----
 * state.conf's root.G.compromised (trust --compromised); status does not
 * log in: a mark only the token holds (a restored state.conf) is check's
 * finding. */
static int
root_distrust(struct status_work *w)
{
	struct hk_online_distrust d;
	int i, r;

	if ((r = hk_online_distrust_load(w->on, w->store, 0, &d)) != 0)
		return r;
	for (i = 0; i < d.n; i++) {
		printf("root: generation %d: declared compromised %s "
		    "(root.%d.compromised, CPS 4-14-2)\n", d.mark[i].gen,
		    d.mark[i].conf_val, d.mark[i].gen);
		warn(w, "CPS 4-14-2: root generation %d is declared "
		    "compromised (root.%d.compromised, %s): import refuses "
		    "what it signs, issue and responder refuse under an "
		    "issuing CA it certified; start the CA again with "
		    "init-root on a new state and have relying parties remove "
		    "that root (docs/ceremony-lifecycle.md \"compromise\")",
		    d.mark[i].gen, d.mark[i].gen, d.mark[i].conf_val);
	}
	hk_online_distrust_free(&d);
	return 0;
}

/* ---- certificates (CPS 4-3, 4-4-9) ---- */

static int
certificates(struct status_work *w)
{
	uint64_t v, rv, pd;
	int r;

	if ((r = hk_store_status_count(w->store, HK_CERT_VALID, &v)) != 0 ||
	    (r = hk_store_status_count(w->store, HK_CERT_REVOKED, &rv)) != 0 ||
	    (r = hk_store_status_count(w->store, HK_CERT_PENDING, &pd)) != 0)
		return r;
	printf("certificates: valid %" PRIu64 " (CPS 4-3)\n", v);
	printf("certificates: revoked %" PRIu64 " (CPS 4-4, 4-4-9)\n", rv);
	printf("certificates: pending %" PRIu64 " (CPS 4-3)\n", pd);
	if (pd > 0)
		warn(w, "CPS 4-3: %" PRIu64 " certificate%s pending: a batch "
		    "that stopped (or one running now); run hanko-online issue "
		    "--state %s again: it completes or voids them first",
		    pd, pd > 1 ? "s" : "", w->on->st->dir);
	return 0;
}

/* ---- publication (CPS 2-6-2, 4-4-9, 4-4-10) ---- */

static int
publication(struct status_work *w)
{
	struct hk_repo_set *cur = NULL;
	const struct hk_repo_file *arl = NULL, *first = NULL;
	uint64_t floor;
	time_t at, horizon, all, due;
	char t[32], t2[32], note[640];
	size_t i, ncrl = 0;
	int r, lost;

	if (w->o->repo == NULL)
		printf("publication: not checked: no --repo (state.conf names "
		    "no repository)\n");
	else if ((r = hk_repo_open(w->o->repo, &cur)) == HK_ERR_NOT_FOUND) {
		hk_err_clear();
		printf("publication: %s: nothing published\n", w->o->repo);
		warn(w, "CPS 2-6-2: %s: nothing published: run hanko-online "
		    "publish --state %s --repo %s", w->o->repo,
		    w->on->st->dir, w->o->repo);
	} else if (r != 0)
		return r;
	if (cur != NULL) {
		at = hk_repo_published_at(cur);
		hk_time_format(at, t, sizeof(t));
		printf("publication: set %lu published at %s (CPS 2-6-2)\n",
		    cur->n, t);
		/* CPS 4-4-9: every 24 h (the profile's interval), whether
		 * or not the CRLs out still last */
		if (w->p != NULL && at > 0 && w->now - at >
		    (time_t)w->p->crl_interval_hours * 3600 + PUBLISH_SLACK) {
			printf("publication: set %lu is %ld h old, over %d h: "
			    "no daily publication since (CPS 4-4-9)\n", cur->n,
			    (long)((w->now - at) / 3600),
			    w->p->crl_interval_hours + PUBLISH_SLACK / 3600);
			warn(w, "CPS 4-4-9: set %lu of %s was published at %s, "
			    "%ld h ago, over %d h: the CRLs and the ARL are "
			    "published every %d h; see why hanko-publish.service "
			    "did not run or failed (systemctl status "
			    "hanko-publish), then hanko-online publish --state "
			    "%s --repo %s", cur->n, w->o->repo, t,
			    (long)((w->now - at) / 3600),
			    w->p->crl_interval_hours + PUBLISH_SLACK / 3600,
			    w->p->crl_interval_hours, w->on->st->dir,
			    w->o->repo);
		}
		for (i = 0; i < cur->nfiles; i++)
			if (cur->files[i].is_crl &&
			    strncmp(cur->files[i].path, "crl/", 4) == 0) {
				ncrl++;
				if (first == NULL || cur->files[i].next_update <
				    first->next_update)
					first = &cur->files[i];
			}
		if (first == NULL) {
			printf("publication: CRLs: none\n");
			warn(w, "CPS 4-4-9: set %lu holds no CRL: run "
			    "hanko-online publish --now", cur->n);
		} else if (w->p != NULL) {
			/* the next daily run: a day after this set, or now
			 * when that is past; publish's margin beyond it */
			due = at + (time_t)w->p->crl_interval_hours * 3600;
			if (due < w->now)
				due = w->now;
			hk_time_format(first->next_update, t, sizeof(t));
			printf("publication: CRLs: %zu, the first to expire %s "
			    "at %s (CPS 4-4-9)\n", ncrl, first->path, t);
			if (first->next_update < due + HK_PUBLISH_MARGIN) {
				printf("publication: CRLs: expire before the "
				    "next daily run and its margin (%d h)\n",
				    HK_PUBLISH_MARGIN / 3600);
				warn(w, "CPS 4-4-9: %s of set %lu %s at %s, "
				    "before the next daily run and its margin "
				    "(%d h): run hanko-online publish --state "
				    "%s --repo %s --now", first->path, cur->n,
				    first->next_update <= w->now ? "expired" :
				    "expires", t, HK_PUBLISH_MARGIN / 3600,
				    w->on->st->dir, w->o->repo);
			} else
				printf("publication: CRLs: last beyond the next "
				    "daily run and its margin (%d h)\n",
				    HK_PUBLISH_MARGIN / 3600);
		}
		if ((arl = hk_repo_find(cur, "arl.crl")) != NULL &&
		    arl->is_crl) {
			hk_time_format(arl->next_update, t, sizeof(t));
			printf("publication: ARL released: ARL %" PRIu64 ", "
			    "nextUpdate %s (CPS 4-4-10)\n", arl->number, t);
		} else {
			arl = NULL;
			printf("publication: ARL released: none (CPS 4-4-10)\n");
		}
	}
	if ((r = hk_online_arl_runway(w->store, arl ? arl->number : 0, w->now,
	    &floor, &horizon, &all)) != 0)
		goto out;
	if (horizon == 0)
		printf("publication: pre-signed ARLs: none to release "
		    "(CPS 4-4-10)\n");
	else if (horizon > w->now) {
		hk_time_format(horizon, t2, sizeof(t2));
		printf("publication: pre-signed ARLs: run out at %s, %ld days "
		    "(from ARL %" PRIu64 "; CPS 4-4-10)\n", t2,
		    days(w->now, horizon), floor);
	} else {
		hk_time_format(horizon, t2, sizeof(t2));
		printf("publication: pre-signed ARLs: ran out at %s, %ld days "
		    "ago (from ARL %" PRIu64 "; CPS 4-4-10)\n", t2,
		    days(horizon, w->now), floor);
	}
	if (horizon < w->now + HK_PUBLISH_ARL_DAYS * 86400) {
		if ((r = hk_online_distrust_top(w->on, w->store, &lost)) != 0)
			goto out;
		hk_online_arl_note(floor, horizon, all, lost, note,
		    sizeof(note));
		warn(w, "%s", note);
	}
	r = 0;
 out:
	hk_repo_close(cur);
	return r;
}

/* ---- OCSP (CPS 4-4-4-1, 1-3-2) ---- */

/* A responder's lines and its renewal window (ocsp-refresh's warning);
 * which: "" for responder.current, " (issuing generation G)" for an
 * older generation's. */
static void
responder_window(struct status_work *w, long n, int gen, time_t na, int final,
    const char *which)
{
	char t[32], opt[32] = "";

	hk_time_format(na, t, sizeof(t));
	printf("ocsp: responder %ld%s: notAfter %s (CPS 1-3-2, 4-4-4-1)\n", n,
	    which, t);
	if (final)
		printf("ocsp: responder %ld: ends with its issuing CA: no "
		    "renewal takes it further\n", n);
	else if (na - w->now < HK_OCSP_RENEW_DAYS * 86400) {
		printf("ocsp: responder %ld: in its renewal window (%d days "
		    "before its end)\n", n, HK_OCSP_RENEW_DAYS);
		if (gen > 0)
			snprintf(opt, sizeof(opt), " --generation %d", gen);
		warn(w, "CPS 4-4-4-1: OCSP responder %ld%s %s %s: run "
		    "hanko-online responder --state %s%s to renew it, then "
		    "restart hanko-online serve", n, which, na <= w->now ?
		    "ended" : "ends", t, w->on->st->dir, opt);
	} else
		printf("ocsp: responder %ld: not in its renewal window (%d "
		    "days before its end)\n", n, HK_OCSP_RENEW_DAYS);
}

/* A responder other than responder.current that the signer uses: an
 * older issuing generation's (docs/ocsp.md "Issuing generations"). */
static int
older_responder(long n, int gen, time_t na, int final, void *arg)
{
	struct status_work *w = arg;
	const char *cur = hk_state_get(w->on->st, "responder.current");
	char which[48];

	if (cur != NULL && strtol(cur, NULL, 10) == n)
		return 0;
	snprintf(which, sizeof(which), " (issuing generation %d)", gen);
	responder_window(w, n, gen, na, final, which);
	return 0;
}

static int
ocsp(struct status_work *w)
{
	const char *cur = hk_state_get(w->on->st, "responder.current");
	time_t na;
	long n;
	int gen, final, r;

	if (cur == NULL || (n = strtol(cur, NULL, 10)) < 1) {
		printf("ocsp: no responder (CPS 4-4-4-1)\n");
		warn(w, "CPS 4-4-4-1: no OCSP responder: run hanko-online "
		    "responder --state %s", w->on->st->dir);
		return 0;
	}
	if ((r = hk_ocsp_responder_info(w->on->st, w->store, n, &gen, &na,
	    &final)) != 0)
		return r;
	responder_window(w, n, gen, na, final, "");
	/* the older issuing generations' responders, as ocsp-refresh signs
	 * with them and warns (their certificates are answered by them) */
	return hk_ocsp_responders_each(w->on->st, w->store, w->now,
	    older_responder, w);
}

/* ---- backup (CPS 4-11-6, 4-12-2-4) and the audit log (CPS 4-11) ---- */

static int
each_backup(const struct hk_audit_record *rec, void *arg)
{
	struct status_work *w = arg;
	const char *end;
	size_t n;

	if (strcmp(rec->event, "backup.create") != 0 ||
	    strcmp(rec->result, "ok") != 0)
		return 0;
	/* "<folder>: MANIFEST SHA-256 ..." (cmd_backup.c) */
	end = memmem(rec->details, rec->dlen, ": MANIFEST", 10);
	n = end != NULL ? (size_t)(end - (const char *)rec->details) :
	    rec->dlen;
	if (n >= sizeof(w->bfolder))
		n = sizeof(w->bfolder) - 1;
	hk_audit_escape(rec->details, n > 1000 ? 1000 : n, w->bfolder);
	snprintf(w->btime, sizeof(w->btime), "%s", rec->time);
	w->bseq = rec->seq;
	w->bfound = 1;
	return 0;
}

static void
backup(struct status_work *w)
{
	time_t bt;

	if (!w->bfound) {
		printf("backup: none (no backup.create ok record; CPS 4-11-6, "
		    "4-12-2-4)\n");
		warn(w, "CPS 4-11-6, 4-12-2-4: no backup.create ok record in "
		    "the audit log: run hanko-online backup --state %s --out "
		    "DIR (the daily hanko-backup.timer, docs/backup.md)",
		    w->on->st->dir);
		return;
	}
	if (hk_time_parse(w->btime, &bt) != 0) {
		printf("backup: record %" PRIu64 ": its time %s does not "
		    "parse\n", w->bseq, w->btime);
		return;
	}
	printf("backup: last backup.create ok: record %" PRIu64 " at %s, %s "
	    "(CPS 4-11-6, 4-12-2-4)\n", w->bseq, w->btime, w->bfolder);
	printf("backup: age %ld h (over %d h needs attention: the timer is "
	    "daily)\n", (long)((w->now - bt) / 3600), BACKUP_MAX_AGE / 3600);
	if (w->now - bt > BACKUP_MAX_AGE)
		warn(w, "CPS 4-11-6, 4-12-2-4: the last backup (%s, %s) is "
		    "%ld h old, over %d h: see why hanko-backup.service did not "
		    "run or failed (systemctl status hanko-backup), then "
		    "hanko-online backup --state %s --out DIR", w->btime,
		    w->bfolder, (long)((w->now - bt) / 3600),
		    BACKUP_MAX_AGE / 3600, w->on->st->dir);
}

/* The clock guard's rule (docs/clock.md): the clock against the newest
 * record of the audit log's end, read as the commands that sign read it. */
static int
clock_fact(struct status_work *w)
{
	struct hk_audit_newest nw;
	char line[HK_ERR_DETAIL_MAX];
	long long behind;
	int r;

	if ((r = hk_online_clock_read(w->on, w->now, &nw, &behind)) != 0)
		return r;
	if (behind <= HK_ONLINE_CLOCK_TOLERANCE) {
		printf("clock: not behind the newest audit record %" PRIu64
		    " (%s) by more than %d s: the commands that sign run "
		    "(CPS 4-12-2-5)\n", nw.seq, nw.time,
		    HK_ONLINE_CLOCK_TOLERANCE);
		return 0;
	}
	printf("clock: %lld s behind the newest audit record %" PRIu64 " (%s)"
	    "%s%s, over %d s: issue, revoke, recover, request, responder, "
	    "ocsp-refresh and ocsp-answer refuse, and serve signs no OCSP "
	    "response (CPS 4-12-2-5)\n", behind, nw.seq, nw.time,
	    nw.closed[0] ? " of the closed log " : "", nw.closed,
	    HK_ONLINE_CLOCK_TOLERANCE);
	hk_online_clock_line(w->on, w->now, &nw, behind, line, sizeof(line));
	warn(w, "%s", line);
	return 0;
}

/* CPS 4-11-4: the log is kept a year and closed once a year
 * (docs/audit-log.md "Retention"); from a year after it began the close
 * is due. */
static int
yearly_close(struct status_work *w, const struct hk_audit_report *rep)
{
	time_t begun;

	if (hk_time_parse(rep->first_time, &begun) != 0) {
		hk_err_set("%s: record 0: time %s: not read", w->on->audit_log,
		    rep->first_time);
		return HK_ERR_AUDIT;
	}
	if (hk_time_add_years(begun, 1) > w->now) {
		printf("audit log: begun %s; the yearly close is due in %ld "
		    "days (CPS 4-11-4)\n", rep->first_time,
		    days(w->now, hk_time_add_years(begun, 1)));
		return 0;
	}
	printf("audit log: begun %s, %ld days ago (CPS 4-11-4)\n",
	    rep->first_time, days(begun, w->now));
	warn(w, "audit log: begun %s, %ld days ago: the yearly close is due "
	    "(hanko-online audit close --state DIR --actors OPERATOR,AUDITOR "
	    "with the internal auditor present; CPS 4-11-4, docs/audit-log.md "
	    "\"Retention\")", rep->first_time, days(begun, w->now));
	return 0;
}

static int
audit(struct status_work *w)
{
	struct hk_audit_report rep;
	int r;

	r = hk_audit_verify(w->on->audit_log, NULL, &rep);
	/* and, as audit verify, a log put back after its yearly close (a
	 * look into audit/closed/; the closed logs themselves are audit
	 * verify's to check: docs/status.md) */
	if (r == 0)
		r = hk_audit_check_reopened(w->on->audit_log, &rep);
	if (r == HK_ERR_AUDIT) {
		w->audit_bad = 1;
		snprintf(w->audit_why, sizeof(w->audit_why), "%s",
		    rep.reason[0] ? rep.reason : hk_err_msg());
		printf("audit log: fails verification: %s (CPS 4-11-5)\n",
		    w->audit_why);
		printf("backup: not read: the audit log fails verification\n");
		hk_err_clear();
		return 0;
	}
	if (r != 0)
		return r;
	if ((r = hk_audit_scan(w->on->audit_log, each_backup, w)) != 0)
		return r;
	backup(w);
	printf("audit log: %" PRIu64 " records (CPS 4-11-2)\n", rep.records);
	if ((r = yearly_close(w, &rep)) != 0)
		return r;
	if (rep.last_checkpoint_seq < 0)
		printf("audit log: no checkpoint (CPS 4-11-5)\n");
	else
		printf("audit log: last checkpoint record %" PRId64 " (CPS "
		    "4-11-5)\n", rep.last_checkpoint_seq);
	printf("audit log: %" PRIu64 " records after it (the unsigned "
	    "tail)\n", rep.unsigned_records);
	printf("audit log: the chain and head file verified, not the "
	    "checkpoints' signatures (they need the audit key: hanko-online "
	    "check)\n");
	return clock_fact(w);
}

/* ---- the profile (CPS 7-1, 8-1) ---- */

static int
profile(struct status_work *w)
{
	struct hk_profile_seen seen;
	char accept[4200];
	const char *want;
	int r;

	snprintf(accept, sizeof(accept), "hanko-online profile accept --state "
	    "%s", w->on->st->dir);
	r = hk_profile_load_accepted(w->on->st, accept, &w->p, &seen);
	if (r == 0) {
		snprintf(w->prof, sizeof(w->prof), "profile: profile.yaml is "
		    "the profile accepted (SHA-256 %s%s%s; CPS 7-1, 8-1)\n",
		    seen.hex, seen.at[0] ? ", accepted " : "", seen.at);
		return 0;
	}
	if (r != HK_ERR_STATE)
		return r;
	snprintf(w->prof, sizeof(w->prof), "profile: profile.yaml is not the "
	    "profile accepted (CPS 7-1, 8-1)\n");
	warn(w, "%s", hk_err_msg());
	hk_err_clear();
	/* the facts below by the profile accepted, if its copy is there */
	want = hk_state_get(w->on->st, HK_PROFILE_KEY_SHA);
	if (want != NULL && (r = hk_profile_accepted_copy(w->on->st, want,
	    &w->p)) != 0)
		return r;
	if (w->p == NULL)
		snprintf(w->prof + strlen(w->prof), sizeof(w->prof) -
		    strlen(w->prof), "profile: no copy of the profile accepted: "
		    "the issuing windows and the CRLs' margin not computed\n");
	return 0;
}

int
cmd_status(int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--repo", .value = NULL },
		{ .name = NULL },
	};
	struct hk_online_arg a[2];
	struct status_opts o;
	struct status_work w;
	char path[4096], t[32];
	int r;

	memset(&o, 0, sizeof(o));
	memset(&w, 0, sizeof(w));
	memcpy(a, args, sizeof(a));
	a[0].value = &o.repo;
	if ((r = hk_online_parse(&o.c, argc, argv, status_usage, a, NULL)) !=
	    0)
		return r == 1 ? 0 : r;
	o.c.read_only = 1;
	w.o = &o;
	if ((r = hk_online_open(&o.c, &w.on)) != 0)
		goto out;
	w.now = hk_clock_now();
	if ((r = hk_online_path(w.on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 ||
	    (r = hk_store_open_readonly(path, &w.store)) != 0)
		goto out;
	hk_time_format(w.now, t, sizeof(t));
	printf("status of %s at %s\n", w.on->st->dir, t);
	if ((r = profile(&w)) != 0)
		goto out;
	if (w.p == NULL)
		printf("issuing: not computed: no profile accepted to compute "
		    "the windows with\n");
	else if ((r = issuing(&w)) != 0)
		goto out;
	if ((r = roots(&w)) != 0 || (r = root_distrust(&w)) != 0 ||
	    (r = certificates(&w)) != 0 || (r = publication(&w)) != 0 ||
	    (r = ocsp(&w)) != 0 || (r = audit(&w)) != 0)
		goto out;
	fputs(w.prof, stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		hk_err_set("status: standard output: write failed");
		r = HK_ERR_IO;
		goto out;
	}
	if (w.audit_bad) {
		if (w.nwarn > 0)
			fprintf(stderr, "hanko-online status: warning: %s\n",
			    w.last);
		hk_err_set("%s: fails verification: %s", w.on->audit_log,
		    w.audit_why);
		r = HK_ERR_AUDIT;
	} else if (w.nwarn > 0) {
		hk_err_set("warning: %s", w.last);
		r = HK_ERR_WARNING;
	}
 out:
	hk_profile_free(w.p);
	if (w.store != NULL)
		hk_store_close(w.store);
	hk_online_close(w.on);
	return r;
}

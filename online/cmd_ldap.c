/*
 * cmd_ldap.c - "hanko-online ldap-push": write the published repository
 * folder into an LDAP directory (CPS 2-6, 4-4-4-1; ldap_publish.h,
 * docs/ldap.md). The bind password comes from a passin source into locked
 * memory and is wiped; the push is audited (ldap.publish ok/fail, with the
 * counts) with a checkpoint.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ldap_publish.h"
#include "online.h"
#include "passin.h"
#include "secmem.h"

struct ldap_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *repo;		/* --repo: the repository folder */
	const char *uri;		/* --ldap URI */
	const char *bind_dn;		/* --bind-dn DN */
	const char *passin;		/* --passin SRC, NULL: prompt */
	int starttls;			/* --starttls */
	int timeout;			/* --timeout S, 0: the default */
};

static const char ldap_usage[] =
"usage: hanko-online ldap-push --state DIR --repo DIR --ldap URI\n"
"           --bind-dn DN [--passin SRC] [--starttls] [--timeout S]\n";

static int
parse(struct ldap_opts *o, int argc, char **argv)
{
	char rule[64];
	const struct hk_online_arg args[] = {
		{ .name = "--repo", .value = &o->repo, .required = 1 },
		{ .name = "--ldap", .value = &o->uri, .required = 1 },
		{ .name = "--bind-dn", .value = &o->bind_dn, .required = 1 },
		{ .name = "--passin", .value = &o->passin },
		{ .name = "--starttls", .flag = &o->starttls },
		{ .name = "--timeout", .num = &o->timeout, .lo = 1,
		    .hi = HK_LDAP_TIMEOUT_MAX, .rule = rule },
		{ .name = NULL },
	};

	memset(o, 0, sizeof(*o));
	snprintf(rule, sizeof(rule), "expected 1 to %d seconds",
	    HK_LDAP_TIMEOUT_MAX);
	return hk_online_parse(&o->c, argc, argv, ldap_usage, args, NULL);
}

int
hk_online_ldap_push(struct hk_online *on, const struct hk_online_ldap *l,
    const char *repo)
{
	struct hk_ldap_opts lo;
	struct hk_ldap_stats st;
	char prompt[256], *pw = NULL;
	int r;

	memset(&st, 0, sizeof(st));
	/* a server that drops the connection must not kill us silently */
	signal(SIGPIPE, SIG_IGN);
	snprintf(prompt, sizeof(prompt), "LDAP password for %.200s: ",
	    l->bind_dn);
	if ((r = hk_passin_read(l->passin, prompt, &pw)) != 0)
		goto fail;
	memset(&lo, 0, sizeof(lo));
	lo.uri = l->uri;
	lo.bind_dn = l->bind_dn;
	lo.password = pw;
	lo.starttls = l->starttls;
	lo.timeout = l->timeout;
	lo.stats = &st;
	r = hk_ldap_publish(&lo, repo);
	hk_secret_free(pw);
	if (r != 0)
		goto fail;
	hk_online_audit(on, "ldap.publish", "ok", "%s as %s from %s: root "
	    "entry %s (%zu cACertificate, %zu crossCertificatePair, ARL), "
	    "%zu partition CRLs; %zu entries added, %zu updated", l->uri,
	    l->bind_dn, repo, st.root_dn, st.ca_certs, st.pairs,
	    st.partitions, st.added, st.updated);
	printf("LDAP %s: %s: %zu cACertificate, %zu crossCertificatePair, "
	    "ARL; %zu partition CRLs (%zu entries added, %zu updated)\n",
	    l->uri, st.root_dn, st.ca_certs, st.pairs, st.partitions,
	    st.added, st.updated);
	return 0;
 fail:
	hk_online_audit(on, "ldap.publish", "fail", "%s (%zu entries added, "
	    "%zu updated before)", hk_err_msg(), st.added, st.updated);
	return r;
}

int
cmd_ldap(int argc, char **argv)
{
	struct ldap_opts o;
	struct hk_online_ldap l;
	struct hk_online *on = NULL;
	int r;

	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_online_open(&o.c, &on)) != 0)
		return r;
	memset(&l, 0, sizeof(l));
	l.uri = o.uri;
	l.bind_dn = o.bind_dn;
	l.passin = o.passin;
	l.starttls = o.starttls;
	l.timeout = o.timeout;
	if ((r = hk_online_ldap_push(on, &l, o.repo)) != 0)
		hk_online_checkpoint_keep_err(on);
	else
		r = hk_online_checkpoint(on);
	hk_online_close(on);
	return r;
}

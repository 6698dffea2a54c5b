/*
 * ldap_publish.c - a published set folder written into an LDAP directory
 * (ldap_publish.h, docs/ldap.md; CPS 2-6, 4-4-4-1; RFC 4523).
 *
 * First everything is read and checked from the set folder (nothing is
 * sent for a set that fails), then one connection binds and writes the
 * root's entry and one entry per partition, parents made where missing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <ldap.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "crosspair.h"
#include "err.h"
#include "hex.h"
#include "ldap_publish.h"
#include "name.h"
#include "repo.h"
#include "yamlx.h"

#define LDP_KNOWN_MAX	256		/* parent DNs remembered */

/* One DER object of the set. */
struct obj {
	char name[128];			/* path inside the set */
	unsigned char *der;		/* the file's bytes (malloc'd) */
	size_t len;
	X509 *x;			/* certificates */
	X509_CRL *crl;			/* CRLs */
	X509_NAME *part;		/* CRLs: the IDP partition DN (owned) */
};

struct objs {
	struct obj *v;
	size_t n;
};

/* What is published, read from the set. */
struct set {
	struct objs gens;		/* root/gen-<N>.cer, N ascending */
	struct objs links;		/* root/link-*.cer */
	struct objs pairs;		/* cross/pair-*.der */
	struct objs issuing;		/* issuing/issuing-<N>.cer */
	struct objs crls;		/* crl/<code>.crl */
	struct obj arl;			/* arl.crl */
	const X509_NAME *root_dn;	/* the newest generation's subject */
};

/*
 * The TLS handshake's watchdog. libldap bounds the TCP connection
 * (LDAP_OPT_NETWORK_TIMEOUT) and each operation (LDAP_OPT_TIMEOUT), but
 * not the handshake of ldaps:// or StartTLS: a server that accepts and
 * never answers it is read for ever (libldap 2.5.13, spinning on EAGAIN).
 * From the connection on, the handshake and the bind get the timeout;
 * then the socket is shut down, which ends the handshake with an error.
 */
struct watchdog {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t tid;
	struct timespec deadline;	/* CLOCK_MONOTONIC, once connected */
	int fd;				/* the socket, -1 until connected */
	int done;			/* the handshake and bind ended */
	int fired;			/* the socket was shut down */
	int timeout;			/* seconds */
};

/* The connection. */
struct ldc {
	LDAP *ld;
	const char *uri;
	int timeout;			/* seconds */
	struct hk_ldap_stats *st;
	char *known[LDP_KNOWN_MAX];	/* DNs known to exist */
	size_t nknown;
	struct watchdog wd;		/* the TLS handshake's (ld_connect) */
	int wd_on;			/* wd to free after the unbind */
	struct ldap_conncb cb;		/* its connection callbacks */
	const struct set *s;		/* the set pushed (root_owner) */
};

/* ---- DN strings (RFC 4514) ---- */

static const char *
attr_short(int nid)
{
	switch (nid) {
	case NID_countryName:		return "c";
	case NID_organizationName:	return "o";
	case NID_organizationalUnitName: return "ou";
	case NID_commonName:		return "cn";
	case NID_localityName:		return "l";
	case NID_stateOrProvinceName:	return "st";
	default:			return NULL;
	}
}

static void
put_value(FILE *f, const unsigned char *u, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = u[i];

		if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\%02X", ch);
		else if (strchr(",+\"\\<>;=", ch) != NULL ||
		    (i == 0 && (ch == ' ' || ch == '#')) ||
		    (i == len - 1 && ch == ' '))
			fprintf(f, "\\%c", ch);
		else
			fputc(ch, f);
	}
}

/* The DN of the first count entries of name (an ancestor when fewer). */
static int
dn_prefix(const X509_NAME *name, int count, char **out)
{
	FILE *f;
	char *buf = NULL;
	size_t blen = 0;
	int i, r = 0;

	*out = NULL;
	if ((f = open_memstream(&buf, &blen)) == NULL)
		return HK_ERR_ALLOC;
	for (i = count - 1; i >= 0 && r == 0; i--) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		const char *a = attr_short(OBJ_obj2nid(
		    X509_NAME_ENTRY_get_object(e)));
		unsigned char *u = NULL;
		int ulen;

		if (a == NULL) {
			hk_err_set("DN: RDN %d: only C, O, OU, CN, L and ST "
			    "are written to LDAP", i + 1);
			r = HK_ERR_INVALID;
			break;
		}
		ulen = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e));
		if (ulen <= 0 || !hk_utf8_valid((char *)u, (size_t)ulen)) {
			hk_err_set("DN: RDN %d: value is not UTF-8", i + 1);
			r = HK_ERR_INVALID;
		} else {
			const X509_NAME_ENTRY *up;

			/* one RDN of several values: joined by '+' */
			if (i != count - 1) {
				up = X509_NAME_get_entry(name, i + 1);
				fputc(X509_NAME_ENTRY_set(e) ==
				    X509_NAME_ENTRY_set(up) ? '+' : ',', f);
			}
			fprintf(f, "%s=", a);
			put_value(f, u, (size_t)ulen);
		}
		OPENSSL_free(u);
	}
	if (fclose(f) != 0 && r == 0)
		r = HK_ERR_ALLOC;
	if (r == 0 && (buf == NULL || blen == 0)) {
		hk_err_set("DN: empty");
		r = HK_ERR_INVALID;
	}
	if (r != 0) {
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

int
hk_ldap_dn(const X509_NAME *name, char **out)
{
	return dn_prefix(name, X509_NAME_entry_count(name), out);
}

/* ---- the set folder ---- */

static void
obj_clear(struct obj *o)
{
	free(o->der);
	X509_free(o->x);
	X509_CRL_free(o->crl);
	X509_NAME_free(o->part);
	memset(o, 0, sizeof(*o));
}

static void
objs_free(struct objs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		obj_clear(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void
set_free(struct set *s)
{
	objs_free(&s->gens);
	objs_free(&s->links);
	objs_free(&s->pairs);
	objs_free(&s->issuing);
	objs_free(&s->crls);
	obj_clear(&s->arl);
}

static int
obj_cmp(const void *a, const void *b)
{
	/* strverscmp: "gen-2" before "gen-10" */
	return strverscmp(((const struct obj *)a)->name,
	    ((const struct obj *)b)->name);
}

/* A path of the set: prefix, then [0-9a-z-], then suffix. */
static int
path_match(const char *n, const char *prefix, const char *suffix)
{
	size_t ln = strlen(n), lp = strlen(prefix), ls = strlen(suffix), i;

	if (ln <= lp + ls || strncmp(n, prefix, lp) != 0 ||
	    strcmp(n + ln - ls, suffix) != 0)
		return 0;
	for (i = lp; i < ln - ls; i++)
		if (!((n[i] >= '0' && n[i] <= '9') ||
		    (n[i] >= 'a' && n[i] <= 'z') || n[i] == '-'))
			return 0;
	return 1;
}

/* Every file prefix*suffix of the set, read and checked against its
 * MANIFEST line (hk_repo_read). */
static int
objs_read(const struct hk_repo_set *rs, const char *prefix,
    const char *suffix, struct objs *out)
{
	size_t i;
	int r = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < rs->nfiles && r == 0; i++) {
		const char *path = rs->files[i].path;
		struct obj *v;

		if (!path_match(path, prefix, suffix))
			continue;
		if ((v = reallocarray(out->v, out->n + 1, sizeof(*v))) ==
		    NULL) {
			r = HK_ERR_ALLOC;
			break;
		}
		out->v = v;
		memset(&v[out->n], 0, sizeof(v[out->n]));
		snprintf(v[out->n].name, sizeof(v[out->n].name), "%s", path);
		if ((r = hk_repo_read(rs, path, &v[out->n].der,
		    &v[out->n].len)) == 0)
			out->n++;
	}
	if (r != 0) {
		objs_free(out);
		return r;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), obj_cmp);
	return 0;
}

static int
parse_cert(struct obj *o)
{
	const unsigned char *p = o->der;

	if ((o->x = d2i_X509(NULL, &p, (long)o->len)) == NULL ||
	    p != o->der + o->len) {
		hk_err_set("%s: not one DER certificate (RFC 5280 4.1)",
		    o->name);
		return HK_ERR_PARSE;
	}
	return 0;
}

static int
parse_crl(struct obj *o)
{
	const unsigned char *p = o->der;

	if ((o->crl = d2i_X509_CRL(NULL, &p, (long)o->len)) == NULL ||
	    p != o->der + o->len) {
		hk_err_set("%s: not one DER CRL (RFC 5280 5.1)", o->name);
		return HK_ERR_PARSE;
	}
	return 0;
}

/* The one directoryName of the CRL's issuingDistributionPoint fullName. */
static int
crl_partition(struct obj *o)
{
	ISSUING_DIST_POINT *idp;
	GENERAL_NAME *g;
	int crit = 0, i, r = HK_ERR_INVALID;

	idp = X509_CRL_get_ext_d2i(o->crl, NID_issuing_distribution_point,
	    &crit, NULL);
	if (idp == NULL || idp->distpoint == NULL ||
	    idp->distpoint->type != 0) {
		hk_err_set("%s: issuingDistributionPoint: PROFILE.md: a "
		    "partition CRL names its partition DN (fullName)", o->name);
		goto out;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(idp->distpoint->name.fullname);
	    i++) {
		g = sk_GENERAL_NAME_value(idp->distpoint->name.fullname, i);
		if (g->type != GEN_DIRNAME)
			continue;
		if (o->part != NULL) {
			hk_err_set("%s: issuingDistributionPoint: more than "
			    "one directoryName", o->name);
			goto out;
		}
		if ((o->part = X509_NAME_dup(g->d.dirn)) == NULL) {
			r = HK_ERR_ALLOC;
			goto out;
		}
	}
	if (o->part == NULL) {
		hk_err_set("%s: issuingDistributionPoint: no directoryName "
		    "(PROFILE.md: the partition DN)", o->name);
		goto out;
	}
	r = 0;
 out:
	ISSUING_DIST_POINT_free(idp);
	return r;
}

/* 1 if crl verifies with the key of one of the certificates of s whose
 * subject is its issuer. */
static int
crl_signed_by(X509_CRL *crl, const struct objs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		EVP_PKEY *k = X509_get0_pubkey(s->v[i].x);

		if (X509_NAME_cmp(X509_get_subject_name(s->v[i].x),
		    X509_CRL_get_issuer(crl)) != 0 || k == NULL)
			continue;
		if (X509_CRL_verify(crl, k) == 1)	/* 1 only: <= 0 fails */
			return 1;
	}
	ERR_clear_error();
	return 0;
}

static int
set_read_certs(const struct hk_repo_set *rs, struct set *s)
{
	struct objs *all[] = { &s->gens, &s->links, &s->issuing };
	size_t i, k;
	int r;

	if ((r = objs_read(rs, "root/gen-", ".cer", &s->gens)) != 0 ||
	    (r = objs_read(rs, "root/link-", ".cer", &s->links)) != 0 ||
	    (r = objs_read(rs, "issuing/issuing-", ".cer", &s->issuing)) != 0)
		return r;
	if (s->gens.n == 0) {
		hk_err_set("%s: no root generation (root/gen-<N>.cer)",
		    rs->dir);
		return HK_ERR_NOT_FOUND;
	}
	for (k = 0; k < sizeof(all) / sizeof(all[0]); k++)
		for (i = 0; i < all[k]->n; i++)
			if ((r = parse_cert(&all[k]->v[i])) != 0)
				return r;
	s->root_dn = X509_get_subject_name(s->gens.v[s->gens.n - 1].x);
	for (k = 0; k < 2; k++)
		for (i = 0; i < all[k]->n; i++) {
			X509 *x = all[k]->v[i].x;

			if (X509_NAME_cmp(X509_get_subject_name(x),
			    s->root_dn) != 0 ||
			    X509_NAME_cmp(X509_get_issuer_name(x),
			    s->root_dn) != 0) {
				hk_err_set("%s: subject and issuer: "
				    "PROFILE.md: every root generation and "
				    "link keeps the root DN",
				    all[k]->v[i].name);
				return HK_ERR_INVALID;
			}
		}
	return 0;
}

static int
set_read(const struct hk_repo_set *rs, struct set *s)
{
	size_t i, j;
	int r;

	if ((r = set_read_certs(rs, s)) != 0)
		return r;
	if ((r = objs_read(rs, "cross/pair-", ".der", &s->pairs)) != 0)
		return r;
	for (i = 0; i < s->pairs.n; i++) {
		X509 *fw = NULL, *rv = NULL;

		if (hk_crosspair_decode(s->pairs.v[i].der, s->pairs.v[i].len,
		    &fw, &rv) != 0) {
			hk_err_set("%s: not one DER CertificatePair (RFC 4523 "
			    "2.6)", s->pairs.v[i].name);
			return HK_ERR_PARSE;
		}
		X509_free(fw);
		X509_free(rv);
	}
	snprintf(s->arl.name, sizeof(s->arl.name), "arl.crl");
	if (hk_repo_find(rs, "arl.crl") == NULL) {
		hk_err_set("%s: arl.crl: no ARL in the set "
		    "(certificationAuthority requires one; import an "
		    "arl-batch)", rs->dir);
		return HK_ERR_NOT_FOUND;
	}
	if ((r = hk_repo_read(rs, "arl.crl", &s->arl.der, &s->arl.len)) != 0)
		return r;
	if ((r = parse_crl(&s->arl)) != 0)
		return r;
	if (X509_NAME_cmp(X509_CRL_get_issuer(s->arl.crl), s->root_dn) != 0 ||
	    !crl_signed_by(s->arl.crl, &s->gens)) {
		hk_err_set("%s: signature: the ARL does not verify with a root "
		    "generation of the set", s->arl.name);
		return HK_ERR_VERIFY;
	}
	if ((r = objs_read(rs, "crl/", ".crl", &s->crls)) != 0)
		return r;
	for (i = 0; i < s->crls.n; i++) {
		struct obj *o = &s->crls.v[i];

		if ((r = parse_crl(o)) != 0 || (r = crl_partition(o)) != 0)
			return r;
		if (!crl_signed_by(o->crl, &s->issuing)) {
			hk_err_set("%s: signature: no issuing CA certificate "
			    "of the set verifies it", o->name);
			return HK_ERR_VERIFY;
		}
		if (X509_NAME_cmp(o->part, s->root_dn) == 0) {
			hk_err_set("%s: issuingDistributionPoint: names the "
			    "root DN, not a partition", o->name);
			return HK_ERR_INVALID;
		}
		for (j = 0; j < i; j++)
			if (X509_NAME_cmp(o->part, s->crls.v[j].part) == 0) {
				hk_err_set("%s: issuingDistributionPoint: the "
				    "partition of %s too", o->name,
				    s->crls.v[j].name);
				return HK_ERR_INVALID;
			}
	}
	return 0;
}

/* ---- LDAP ---- */

static int
ld_fail(struct ldc *c, const char *dn, const char *what, int rc)
{
	char *diag = NULL, *p;

	if (c->ld != NULL)
		(void)ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE,
		    &diag);
	for (p = diag; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	if (rc == LDAP_TIMEOUT)
		hk_err_set("%s: %s: %s: no answer within %d s", c->uri, dn,
		    what, c->timeout);
	else
		hk_err_set("%s: %s: %s: %s%s%s%s", c->uri, dn, what,
		    ldap_err2string(rc), diag != NULL && *diag != '\0' ?
		    " (" : "", diag != NULL ? diag : "", diag != NULL &&
		    *diag != '\0' ? ")" : "");
	ldap_memfree(diag);
	switch (rc) {
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		return HK_ERR_PASSPHRASE;
	default:
		return HK_ERR_IO;
	}
}

static int
host_loopback(const char *h)
{
	unsigned char a[16];

	if (h == NULL || *h == '\0')
		return 0;
	if (strcasecmp(h, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, h, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, h, a) == 1)
		return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
	return 0;
}

static int
uri_check(const struct hk_ldap_opts *o)
{
	LDAPURLDesc *lud = NULL;
	int r = HK_ERR_USAGE;

	if (strpbrk(o->uri, " \t,") != NULL ||
	    ldap_url_parse(o->uri, &lud) != LDAP_URL_SUCCESS) {
		hk_err_set("--ldap %s: expected one ldap://, ldaps:// or "
		    "ldapi:// URI", o->uri);
		return HK_ERR_USAGE;
	}
	if (strcasecmp(lud->lud_scheme, "ldaps") == 0 ||
	    strcasecmp(lud->lud_scheme, "ldapi") == 0)
		r = 0;
	else if (strcasecmp(lud->lud_scheme, "ldap") != 0)
		hk_err_set("--ldap %s: expected one ldap://, ldaps:// or "
		    "ldapi:// URI", o->uri);
	else if (!o->starttls && !host_loopback(lud->lud_host))
		hk_err_set("--ldap %s: plain ldap:// only to the loopback: "
		    "the bind password would cross the network in clear (use "
		    "ldaps:// or --starttls)", o->uri);
	else
		r = 0;
	ldap_free_urldesc(lud);
	return r;
}


static int
wd_add(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
    struct ldap_conncb *ctx)
{
	struct watchdog *w = ctx->lc_arg;
	ber_socket_t fd = -1;

	(void)ld;
	(void)srv;
	(void)addr;
	(void)ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd);
	pthread_mutex_lock(&w->mu);
	if (!w->done && w->fd < 0 && fd >= 0) {
		w->fd = fd;
		clock_gettime(CLOCK_MONOTONIC, &w->deadline);
		w->deadline.tv_sec += w->timeout;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static void
wd_del(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
	struct watchdog *w = ctx->lc_arg;

	(void)ld;
	(void)sb;
	pthread_mutex_lock(&w->mu);
	w->fd = -1;			/* closed: never shut down another */
	pthread_mutex_unlock(&w->mu);
}

static void *
wd_run(void *arg)
{
	struct watchdog *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->done) {
		if (w->fd < 0)
			pthread_cond_wait(&w->cv, &w->mu);
		else if (pthread_cond_timedwait(&w->cv, &w->mu,
		    &w->deadline) == ETIMEDOUT && !w->done && w->fd >= 0) {
			(void)shutdown(w->fd, SHUT_RDWR);
			w->fired = 1;
			break;
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* 0 and the watchdog running, or an error. */
static int
wd_start(struct watchdog *w, int timeout)
{
	pthread_condattr_t ca;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->timeout = timeout;
	if (pthread_condattr_init(&ca) != 0)
		return HK_ERR_INTERNAL;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&w->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		return HK_ERR_INTERNAL;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		pthread_cond_destroy(&w->cv);
		return HK_ERR_INTERNAL;
	}
	if (pthread_create(&w->tid, NULL, wd_run, w) != 0) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		return HK_ERR_INTERNAL;
	}
	return 0;
}

/* Stop the watchdog; 1 if it shut the socket down. */
static int
wd_stop(struct watchdog *w)
{
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->tid, NULL);
	return w->fired;
}

/* After the handle is gone (wd_del may be called until then). */
static void
wd_free(struct watchdog *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
}

static int
ld_tls_bind(const struct hk_ldap_opts *o, struct ldc *c, const char **what)
{
	struct berval cred;
	int rc;

	*what = "StartTLS";
	if (o->starttls &&
	    (rc = ldap_start_tls_s(c->ld, NULL, NULL)) != LDAP_SUCCESS)
		return rc;
	*what = "bind";
	cred.bv_val = (char *)o->password;	/* libldap only reads it */
	cred.bv_len = strlen(o->password);
	return ldap_sasl_bind_s(c->ld, o->bind_dn, LDAP_SASL_SIMPLE, &cred,
	    NULL, NULL, NULL);
}

static int
ld_connect(const struct hk_ldap_opts *o, struct ldc *c)
{
	struct timeval tv = { c->timeout, 0 };
	const char *what;
	int v = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, client = 0, rc,
	    r;

	/*
	 * The bind password goes to the server TLS authenticates: its
	 * certificate is always checked, whatever TLS_REQCERT ldap.conf(5),
	 * ~/.ldaprc or LDAPTLS_REQCERT say (never, allow and try send it to
	 * anyone). Set in the global options and their TLS context remade,
	 * which a handle inherits: a handle's own context would lose the CA
	 * certificates ldap.conf names (TLS_CACERT), which only the global
	 * options keep.
	 */
	if ((o->starttls || strncasecmp(o->uri, "ldaps:", 6) == 0) &&
	    (ldap_set_option(NULL, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(NULL, LDAP_OPT_X_TLS_NEWCTX, &client) !=
	    LDAP_OPT_SUCCESS)) {
		hk_err_set("%s: TLS set-up: the CA certificates (TLS_CACERT, "
		    "TLS_CACERTDIR in ldap.conf(5), LDAPTLS_CACERT) cannot be "
		    "loaded", o->uri);
		return HK_ERR_IO;
	}
	if ((rc = ldap_initialize(&c->ld, o->uri)) != LDAP_SUCCESS) {
		c->ld = NULL;
		return ld_fail(c, o->bind_dn, "initialize", rc);
	}
	if (ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &v) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(c->ld, LDAP_OPT_TIMEOUT, &tv) !=
	    LDAP_OPT_SUCCESS) {
		hk_err_set("%s: cannot set the LDAP options", o->uri);
		return HK_ERR_INTERNAL;
	}
	if ((r = wd_start(&c->wd, c->timeout)) != 0) {
		hk_err_set("%s: cannot start the TLS handshake's watchdog",
		    o->uri);
		return r;
	}
	c->wd_on = 1;
	c->cb.lc_add = wd_add;
	c->cb.lc_del = wd_del;
	c->cb.lc_arg = &c->wd;
	if (ldap_set_option(c->ld, LDAP_OPT_CONNECT_CB, &c->cb) !=
	    LDAP_OPT_SUCCESS) {
		(void)wd_stop(&c->wd);
		hk_err_set("%s: cannot set the LDAP options", o->uri);
		return HK_ERR_INTERNAL;
	}
	rc = ld_tls_bind(o, c, &what);
	if (wd_stop(&c->wd) && rc != LDAP_SUCCESS)
		rc = LDAP_TIMEOUT;	/* the handshake never answered */
	if (rc != LDAP_SUCCESS)
		return ld_fail(c, o->bind_dn, what, rc);
	return 0;
}

static int
known(struct ldc *c, const char *dn)
{
	size_t i;

	for (i = 0; i < c->nknown; i++)
		if (strcasecmp(c->known[i], dn) == 0)
			return 1;
	return 0;
}

static void
remember(struct ldc *c, const char *dn)
{
	if (c->nknown < LDP_KNOWN_MAX && !known(c, dn) &&
	    (c->known[c->nknown] = strdup(dn)) != NULL)
		c->nknown++;
}

/* The attributes that hold CRLs, whose numbers never go back. */
static const char *const root_crl_types[] = {
	"authorityRevocationList;binary", "certificateRevocationList;binary",
	NULL };
static const char *const part_crl_types[] = {
	"certificateRevocationList;binary", NULL };

/*
 * RFC 5280 5.2.3, PROFILE.md "CRLs and ARLs": CRL numbers never go back,
 * in the directory either. 0 when no value of the attributes types in
 * entry e is a CRL of crl's issuer numbered above it; otherwise
 * HK_ERR_EXISTS naming both numbers (a push of an older set, or one racing
 * a newer push). Values that are no CRL, or another issuer's, are left to
 * the replace.
 */
static int
crl_not_older(struct ldc *c, LDAPMessage *e, const char *dn,
    const char *const *types, const struct obj *crl)
{
	ASN1_INTEGER *nn, *on = NULL;
	struct berval **v = NULL;
	size_t i, k;
	int r = 0;

	nn = X509_CRL_get_ext_d2i(crl->crl, NID_crl_number, NULL, NULL);
	for (k = 0; types[k] != NULL && r == 0; k++) {
		v = ldap_get_values_len(c->ld, e, types[k]);
		for (i = 0; v != NULL && v[i] != NULL && r == 0; i++) {
			const unsigned char *p =
			    (const unsigned char *)v[i]->bv_val;
			X509_CRL *old = d2i_X509_CRL(NULL, &p,
			    (long)v[i]->bv_len);

			if (old != NULL && X509_NAME_cmp(X509_CRL_get_issuer(
			    old), X509_CRL_get_issuer(crl->crl)) == 0 &&
			    (on = X509_CRL_get_ext_d2i(old, NID_crl_number,
			    NULL, NULL)) != NULL && nn != NULL &&
			    ASN1_INTEGER_cmp(on, nn) > 0) {
				char *a = i2s_ASN1_INTEGER(NULL, on);
				char *b = i2s_ASN1_INTEGER(NULL, nn);

				hk_err_set("%s: %s: %s: the directory holds "
				    "CRL number %s, above %s's %s: not "
				    "replaced (RFC 5280 5.2.3: CRL numbers "
				    "never go back; push the current set)",
				    c->uri, dn, types[k], a != NULL ? a : "?",
				    crl->name, b != NULL ? b : "?");
				OPENSSL_free(a);
				OPENSSL_free(b);
				r = HK_ERR_EXISTS;
			}
			ASN1_INTEGER_free(on);
			on = NULL;
			X509_CRL_free(old);
		}
		ldap_value_free_len(v);
	}
	ASN1_INTEGER_free(nn);
	ERR_clear_error();
	return r;
}

/*
 * The root's entry e (dn) is this CA's, or holds no root certificate: 0
 * when none of its cACertificate values is a self-signed certificate of
 * the root DN, or one of them is a root generation of the set. Otherwise
 * HK_ERR_STATE: a CA started again after its root key's compromise (CPS
 * 4-14-2: a new root under the same DN, so the same entries) would replace
 * the old CA's root, ARL and residents' CRLs, which its old state keeps
 * (docs/ceremony-lifecycle.md "compromise"). Links are not self-signed; an
 * older set of this CA shares a generation with a newer directory (and is
 * left to crl_not_older).
 */
static int
root_owner(struct ldc *c, LDAPMessage *e, const char *dn)
{
	static const char type[] = "cACertificate;binary";
	const struct set *s = c->s;
	const struct obj *nw = &s->gens.v[s->gens.n - 1];
	struct berval **v;
	unsigned char d[32], first[32];
	char got[65], want[65];
	size_t i, j, nroot = 0, match = 0;

	if ((v = ldap_get_values_len(c->ld, e, type)) == NULL)
		return 0;
	for (i = 0; v[i] != NULL; i++) {
		const unsigned char *p = (const unsigned char *)v[i]->bv_val;
		X509 *x = d2i_X509(NULL, &p, (long)v[i]->bv_len);
		EVP_PKEY *k = x != NULL ? X509_get0_pubkey(x) : NULL;

		if (x == NULL || k == NULL || X509_NAME_cmp(
		    X509_get_subject_name(x), s->root_dn) != 0 ||
		    X509_NAME_cmp(X509_get_issuer_name(x), s->root_dn) != 0 ||
		    X509_verify(x, k) != 1) {
			X509_free(x);
			continue;
		}
		X509_free(x);
		SHA256((const unsigned char *)v[i]->bv_val, v[i]->bv_len, d);
		if (nroot++ == 0)
			memcpy(first, d, sizeof(first));
		for (j = 0; j < s->gens.n; j++) {
			unsigned char g[32];

			SHA256(s->gens.v[j].der, s->gens.v[j].len, g);
			if (memcmp(g, d, sizeof(d)) == 0)
				match++;
		}
	}
	ldap_value_free_len(v);
	ERR_clear_error();
	if (nroot == 0 || match > 0)
		return 0;
	hk_hex_encode(first, sizeof(first), got);
	SHA256(nw->der, nw->len, d);
	hk_hex_encode(d, sizeof(d), want);
	hk_err_set("%s: %s: %s: another CA's entry: its root certificate "
	    "SHA-256 %s (1 of %zu) is none of this set's root generations "
	    "(the newest: %s, SHA-256 %s); a CA started again pushes into a "
	    "directory of its own, and the old CA's entries stay the old "
	    "state's (docs/ceremony-lifecycle.md \"compromise\"); nothing "
	    "written", c->uri, dn, type, got, nroot, nw->name, want);
	return HK_ERR_STATE;
}

/*
 * 1 and the entry's objectClass values (*cls, ldap_value_free_len) when
 * dn exists, 0 when it does not, or an error. With crl, the values of the
 * attributes crl_types (NULL-terminated) are read too and must hold no CRL
 * newer than crl (crl_not_older); with root_crl_types (the root's entry),
 * its cACertificate values too, which must not be another CA's
 * (root_owner).
 */
static int
entry_classes(struct ldc *c, const char *dn, struct berval ***cls,
    const char *const *crl_types, const struct obj *crl)
{
	char oc[] = "objectClass", filter[] = "(objectClass=*)";
	char *attrs[8];
	struct timeval tv = { c->timeout, 0 };
	LDAPMessage *res = NULL, *e;
	size_t n = 0, i;
	int rc, r;

	*cls = NULL;
	attrs[n++] = oc;
	for (i = 0; crl != NULL && crl_types[i] != NULL && n < 6; i++)
		attrs[n++] = (char *)crl_types[i];
	if (crl != NULL && crl_types == root_crl_types)
		attrs[n++] = (char *)"cACertificate;binary";
	attrs[n] = NULL;
	rc = ldap_search_ext_s(c->ld, dn, LDAP_SCOPE_BASE, filter, attrs, 0,
	    NULL, NULL, &tv, 1, &res);
	if (rc == LDAP_NO_SUCH_OBJECT)
		r = 0;
	else if (rc != LDAP_SUCCESS)
		r = ld_fail(c, dn, "search", rc);
	else if ((e = ldap_first_entry(c->ld, res)) == NULL)
		r = 0;
	else if (crl != NULL && crl_types == root_crl_types &&
	    (r = root_owner(c, e, dn)) != 0)
		;
	else if (crl != NULL &&
	    (r = crl_not_older(c, e, dn, crl_types, crl)) != 0)
		;
	else {
		*cls = ldap_get_values_len(c->ld, e, oc);
		r = 1;
	}
	ldap_msgfree(res);
	return r;
}

/* The structural object class of an entry named by an RDN of nid. */
static const char *
structural(int nid)
{
	switch (nid) {
	case NID_countryName:		return "country";
	case NID_organizationName:	return "organization";
	case NID_organizationalUnitName: return "organizationalUnit";
	case NID_localityName:
	case NID_stateOrProvinceName:	return "locality";
	case NID_commonName:		return "applicationProcess";
	default:			return NULL;
	}
}

/* The last RDN of the first count entries of name: type and UTF-8 value
 * (OPENSSL_free *val). */
static int
rdn_of(const X509_NAME *name, int count, int *nid, unsigned char **val)
{
	const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, count - 1);

	*val = NULL;
	if (e == NULL)
		return HK_ERR_INTERNAL;
	*nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
	if (ASN1_STRING_to_UTF8(val, X509_NAME_ENTRY_get_data(e)) <= 0)
		return HK_ERR_INVALID;
	return 0;
}

/* Add the entry named by the first count RDNs of name: objectClass
 * classes (NULL-terminated) and its naming attribute, then attrs. */
static int
ld_add(struct ldc *c, const X509_NAME *name, int count, const char *dn,
    const char *const *classes, LDAPMod **attrs)
{
	LDAPMod oc, rdn, *mods[16];
	char oc_type[] = "objectClass", *ocv[8], *rdnv[2];
	unsigned char *val = NULL;
	size_t i, n = 0;
	int nid, rc, r;

	if ((r = rdn_of(name, count, &nid, &val)) != 0)
		return r;
	for (i = 0; classes[i] != NULL && i < 7; i++)
		ocv[i] = (char *)classes[i];
	ocv[i] = NULL;
	oc.mod_op = LDAP_MOD_ADD;
	oc.mod_type = oc_type;
	oc.mod_values = ocv;
	rdnv[0] = (char *)val;
	rdnv[1] = NULL;
	rdn.mod_op = LDAP_MOD_ADD;
	rdn.mod_type = (char *)attr_short(nid);
	rdn.mod_values = rdnv;
	mods[n++] = &oc;
	mods[n++] = &rdn;
	for (i = 0; attrs != NULL && attrs[i] != NULL && n < 15; i++)
		if (attrs[i]->mod_bvalues != NULL &&
		    attrs[i]->mod_bvalues[0] != NULL)
			mods[n++] = attrs[i];
	mods[n] = NULL;
	rc = ldap_add_ext_s(c->ld, dn, mods, NULL, NULL);
	OPENSSL_free(val);
	if (rc == LDAP_ALREADY_EXISTS && attrs == NULL)
		return 0;	/* a parent made meanwhile */
	if (rc != LDAP_SUCCESS)
		return ld_fail(c, dn, "add", rc);
	c->st->added++;
	remember(c, dn);
	return 0;
}

/* Make every missing ancestor of the entry named by name. */
static int
ensure_parents(struct ldc *c, const X509_NAME *name)
{
	char *dns[HK_NAME_MAX_RDNS];
	struct berval **cls = NULL;
	int n = X509_NAME_entry_count(name), k, top, r = 0;

	if (n > HK_NAME_MAX_RDNS) {
		hk_err_set("%s: a DN of more than %d RDNs", c->uri,
		    HK_NAME_MAX_RDNS);
		return HK_ERR_INVALID;
	}
	for (k = 0; k < n; k++)
		dns[k] = NULL;
	/* upwards until an ancestor exists */
	for (top = n - 1; top >= 1; top--) {
		if ((r = dn_prefix(name, top, &dns[top])) != 0)
			goto out;
		if (known(c, dns[top]))
			break;
		if ((r = entry_classes(c, dns[top], &cls, NULL, NULL)) < 0)
			goto out;
		ldap_value_free_len(cls);
		cls = NULL;
		if (r == 1) {
			remember(c, dns[top]);
			break;
		}
	}
	r = 0;
	/* then down, making each */
	for (k = top + 1; k < n; k++) {
		const char *cl[2];
		unsigned char *val = NULL;
		int nid;

		if ((r = rdn_of(name, k, &nid, &val)) != 0)
			goto out;
		OPENSSL_free(val);
		if ((cl[0] = structural(nid)) == NULL) {
			hk_err_set("%s: %s: no object class for a parent "
			    "named by this attribute", c->uri, dns[k]);
			r = HK_ERR_INVALID;
			goto out;
		}
		cl[1] = NULL;
		if ((r = ld_add(c, name, k, dns[k], cl, NULL)) != 0)
			goto out;
	}
 out:
	for (k = 0; k < n; k++)
		free(dns[k]);
	return r;
}

/*
 * Write one leaf entry: when it exists, add the object classes it lacks
 * (those after want[0], the structural one, which an existing entry keeps)
 * and replace every attribute of attrs; otherwise make its parents and add
 * it with want and attrs. Refused when its crl_types hold a CRL newer than
 * crl (crl_not_older).
 */
static int
put_entry(struct ldc *c, const X509_NAME *name, const char *const *want,
    LDAPMod **attrs, const char *const *crl_types, const struct obj *crl)
{
	LDAPMod add_oc, *mods[16];
	struct berval **cls = NULL;
	char oc_type[] = "objectClass", *missing[8], *dn = NULL;
	size_t i, j, n = 0, nm = 0;
	int rc, r;

	if ((r = dn_prefix(name, X509_NAME_entry_count(name), &dn)) != 0)
		return r;
	if ((r = entry_classes(c, dn, &cls, crl_types, crl)) < 0)
		goto out;
	if (r == 0) {
		if ((r = ensure_parents(c, name)) == 0)
			r = ld_add(c, name, X509_NAME_entry_count(name), dn,
			    want, attrs);
		goto out;
	}
	for (i = 1; want[i] != NULL && nm < 7; i++) {
		int have = 0;

		for (j = 0; cls != NULL && cls[j] != NULL; j++)
			if (strlen(want[i]) == cls[j]->bv_len &&
			    strncasecmp(want[i], cls[j]->bv_val,
			    cls[j]->bv_len) == 0)
				have = 1;
		if (!have)
			missing[nm++] = (char *)want[i];
	}
	missing[nm] = NULL;
	if (nm > 0) {
		add_oc.mod_op = LDAP_MOD_ADD;
		add_oc.mod_type = oc_type;
		add_oc.mod_values = missing;
		mods[n++] = &add_oc;
	}
	for (i = 0; attrs[i] != NULL && n < 15; i++)
		mods[n++] = attrs[i];
	mods[n] = NULL;
	if ((rc = ldap_modify_ext_s(c->ld, dn, mods, NULL, NULL)) !=
	    LDAP_SUCCESS) {
		r = ld_fail(c, dn, "modify", rc);
		goto out;
	}
	c->st->updated++;
	r = 0;
 out:
	ldap_value_free_len(cls);
	free(dn);
	return r;
}


/* A binary attribute to replace with the objects' bytes (unique). */
struct battr {
	LDAPMod mod;
	char type[64];
	struct berval *bv;		/* n values */
	struct berval **bvp;		/* NULL-terminated */
	size_t n;
};

static int
battr_init(struct battr *a, const char *type, const struct obj *const *o,
    size_t n)
{
	size_t i, j;

	memset(a, 0, sizeof(*a));
	snprintf(a->type, sizeof(a->type), "%s", type);
	if ((a->bv = calloc(n + 1, sizeof(*a->bv))) == NULL ||
	    (a->bvp = calloc(n + 1, sizeof(*a->bvp))) == NULL)
		return HK_ERR_ALLOC;
	for (i = 0; i < n; i++) {
		int dup = 0;

		/* an equal value twice is an LDAP error: keep one */
		for (j = 0; j < a->n; j++)
			if (a->bv[j].bv_len == o[i]->len &&
			    memcmp(a->bv[j].bv_val, o[i]->der, o[i]->len) == 0)
				dup = 1;
		if (dup)
			continue;
		a->bv[a->n].bv_val = (char *)o[i]->der;
		a->bv[a->n].bv_len = o[i]->len;
		a->bvp[a->n] = &a->bv[a->n];
		a->n++;
	}
	a->mod.mod_op = LDAP_MOD_REPLACE | LDAP_MOD_BVALUES;
	a->mod.mod_type = a->type;
	a->mod.mod_bvalues = a->bvp;
	return 0;
}

static void
battr_free(struct battr *a)
{
	free(a->bv);
	free(a->bvp);
}

static int
push_root(struct ldc *c, const struct set *s)
{
	static const char *want_oc[] = { NULL, "certificationAuthority",
	    "pkiCA", NULL };
	const char *want[4];
	const struct obj **certs = NULL, **pairs = NULL, *arl = &s->arl;
	struct battr a[4];
	LDAPMod *mods[5];
	unsigned char *val = NULL;
	size_t i, n = 0;
	int nid, k, r;

	memset(a, 0, sizeof(a));
	if ((r = rdn_of(s->root_dn, X509_NAME_entry_count(s->root_dn), &nid,
	    &val)) != 0)
		return r;
	OPENSSL_free(val);
	memcpy(want, want_oc, sizeof(want));
	if ((want[0] = structural(nid)) == NULL) {
		hk_err_set("%s: %s: the root DN ends in an attribute with no "
		    "object class", c->uri, c->st->root_dn);
		return HK_ERR_INVALID;
	}
	if ((certs = calloc(s->gens.n + s->links.n + 1, sizeof(*certs))) ==
	    NULL || (pairs = calloc(s->pairs.n + 1, sizeof(*pairs))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < s->gens.n; i++)
		certs[n++] = &s->gens.v[i];
	for (i = 0; i < s->links.n; i++)
		certs[n++] = &s->links.v[i];
	for (i = 0; i < s->pairs.n; i++)
		pairs[i] = &s->pairs.v[i];
	if ((r = battr_init(&a[0], "cACertificate;binary", certs, n)) != 0 ||
	    (r = battr_init(&a[1], "authorityRevocationList;binary", &arl,
	    1)) != 0 ||
	    (r = battr_init(&a[2], "certificateRevocationList;binary", &arl,
	    1)) != 0 ||
	    (r = battr_init(&a[3], "crossCertificatePair;binary", pairs,
	    s->pairs.n)) != 0)
		goto out;
	for (k = 0; k < 4; k++)
		mods[k] = &a[k].mod;
	mods[4] = NULL;
	if ((r = put_entry(c, s->root_dn, want, mods, root_crl_types,
	    &s->arl)) != 0)
		goto out;
	c->st->ca_certs = a[0].n;
	c->st->pairs = a[3].n;
 out:
	for (k = 0; k < 4; k++)
		battr_free(&a[k]);
	free(certs);
	free(pairs);
	return r;
}

static int
push_partition(struct ldc *c, const struct obj *o)
{
	static const char *crldp[] = { "cRLDistributionPoint", NULL };
	const char *want[3] = { NULL, "pkiCA", NULL };
	struct battr a;
	LDAPMod *mods[2];
	unsigned char *val = NULL;
	int nid, r;

	if ((r = rdn_of(o->part, X509_NAME_entry_count(o->part), &nid,
	    &val)) != 0)
		return r;
	OPENSSL_free(val);
	if (nid != NID_commonName &&
	    (want[0] = structural(nid)) == NULL) {
		hk_err_set("%s: issuingDistributionPoint: the partition DN "
		    "ends in an attribute with no object class", o->name);
		return HK_ERR_INVALID;
	}
	if ((r = battr_init(&a, "certificateRevocationList;binary", &o, 1)) !=
	    0)
		goto out;
	mods[0] = &a.mod;
	mods[1] = NULL;
	r = put_entry(c, o->part, nid == NID_commonName ? crldp : want, mods,
	    part_crl_types, o);
	if (r == 0)
		c->st->partitions++;
 out:
	battr_free(&a);
	return r;
}

/*
 * Before anything is written: no entry the set writes holds a CRL newer
 * than the set's (the ARL in the root's entry, each partition's CRL), so
 * that an older set is refused whole. put_entry checks again at the write.
 */
static int
check_numbers(struct ldc *c, const struct set *s)
{
	struct berval **cls = NULL;
	char *dn = NULL;
	size_t i;
	int r;

	for (i = 0; i <= s->crls.n; i++) {
		const struct obj *o = i == 0 ? &s->arl : &s->crls.v[i - 1];
		const X509_NAME *name = i == 0 ? s->root_dn : o->part;

		if ((r = dn_prefix(name, X509_NAME_entry_count(name), &dn)) !=
		    0)
			return r;
		r = entry_classes(c, dn, &cls, i == 0 ? root_crl_types :
		    part_crl_types, o);
		ldap_value_free_len(cls);
		cls = NULL;
		free(dn);
		dn = NULL;
		if (r < 0)
			return r;
	}
	return 0;
}

static int
opts_check(const struct hk_ldap_opts *o)
{
	if (o->uri == NULL || o->bind_dn == NULL || *o->bind_dn == '\0' ||
	    o->password == NULL || *o->password == '\0') {
		/* an empty password would bind anonymously (RFC 4513 5.1.2) */
		hk_err_set("LDAP: the URI, the bind DN and a non-empty "
		    "password are required");
		return HK_ERR_USAGE;
	}
	if (o->timeout < 0 || o->timeout > HK_LDAP_TIMEOUT_MAX) {
		hk_err_set("LDAP timeout %d s: at most %d", o->timeout,
		    HK_LDAP_TIMEOUT_MAX);
		return HK_ERR_USAGE;
	}
	return uri_check(o);
}

int
hk_ldap_publish_set(const struct hk_ldap_opts *o,
    const struct hk_repo_set *rs)
{
	struct hk_ldap_stats local;
	struct ldc c;
	struct set s;
	size_t i;
	char *dn = NULL;
	int r;

	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	c.st = o->stats != NULL ? o->stats : &local;
	memset(c.st, 0, sizeof(*c.st));
	c.st->set = rs->n;
	c.uri = o->uri;
	c.timeout = o->timeout > 0 ? o->timeout : HK_LDAP_TIMEOUT_DEFAULT;
	if ((r = opts_check(o)) != 0)
		return r;
	if ((r = set_read(rs, &s)) != 0)
		goto out;
	if ((r = hk_ldap_dn(s.root_dn, &dn)) != 0)
		goto out;
	snprintf(c.st->root_dn, sizeof(c.st->root_dn), "%s", dn);
	c.s = &s;
	if ((r = ld_connect(o, &c)) != 0 || (r = check_numbers(&c, &s)) != 0 ||
	    (r = push_root(&c, &s)) != 0)
		goto out;
	for (i = 0; i < s.crls.n; i++)
		if ((r = push_partition(&c, &s.crls.v[i])) != 0)
			goto out;
 out:
	if (c.ld != NULL)
		ldap_unbind_ext_s(c.ld, NULL, NULL);
	if (c.wd_on)
		wd_free(&c.wd);
	for (i = 0; i < c.nknown; i++)
		free(c.known[i]);
	free(dn);
	set_free(&s);
	return r;
}

int
hk_ldap_publish(const struct hk_ldap_opts *o, const char *repo)
{
	struct hk_repo_set *rs = NULL;
	int r;

	if (o->stats != NULL)
		memset(o->stats, 0, sizeof(*o->stats));
	if ((r = opts_check(o)) != 0 || (r = hk_repo_open(repo, &rs)) != 0)
		return r;
	r = hk_ldap_publish_set(o, rs);
	hk_repo_close(rs);
	return r;
}

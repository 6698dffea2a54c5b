/*
 * distrust.c - a root generation declared compromised online (CPS 4-14-2;
 * docs/ceremony-lifecycle.md "compromise"): hanko-online trust
 * --compromised G marks it, out of band (nothing the lost key signs can be
 * trusted to say so), in the token (a private data object of application
 * HK_ONLINE_MARK_APP labelled "root.G.compromised", value "SHA-256 <hex>,
 * <time>", which a restore of the state from a backup does not take back:
 * docs/backup.md) and in state.conf (root.G.compromised = <time>). Either
 * mark is the declaration; it is never undone.
 *
 * From then on import refuses every bundle that key signs, and issue and
 * responder refuse while the issuing CA certificate they would use is
 * certified by it (its signature verifies with that root key).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "err.h"
#include "online.h"
#include "p11.h"
#include "store.h"

static int
each_stored_root(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct hk_online_distrust *d = arg;
	const unsigned char *p = der;
	X509 *x;

	if (d->nroots == HK_ONLINE_DISTRUST_MAX) {
		hk_err_set("store: more than %d root generations",
		    HK_ONLINE_DISTRUST_MAX);
		return HK_ERR_STATE;
	}
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		X509_free(x);
		hk_err_set("store: ca_certs: root generation %d does not "
		    "parse", gen);
		return HK_ERR_STATE;
	}
	d->root[d->nroots] = x;
	d->rgen[d->nroots++] = gen;
	return 0;
}

/* The token's mark of generation gen: 1 with its value (printable ASCII)
 * in val, 0 when none, else an error. */
static int
token_mark(struct hk_online *on, int gen, char *val, size_t len)
{
	char label[48];

	snprintf(label, sizeof(label), "root.%d.compromised", gen);
	return hk_online_token_mark(on, label, val, len);
}

int
hk_online_distrust_load(struct hk_online *on, struct hk_store *s, int token,
    struct hk_online_distrust *d)
{
	char key[48];
	const char *v;
	int i, r;

	memset(d, 0, sizeof(*d));
	if (token && on->tok == NULL) {
		hk_err_set("token: the root compromise marks need the login");
		return HK_ERR_INTERNAL;
	}
	if ((r = hk_store_ca_each(s, HK_CA_ROOT, each_stored_root, d)) != 0)
		goto fail;
	for (i = 0; i < d->nroots; i++) {
		struct hk_online_distrust_mark *m = &d->mark[d->n];

		snprintf(key, sizeof(key), "root.%d.compromised", d->rgen[i]);
		v = hk_state_get(on->st, key);
		m->conf = v != NULL;
		if (v != NULL)
			snprintf(m->conf_val, sizeof(m->conf_val), "%s", v);
		if (token && (r = token_mark(on, d->rgen[i], m->token_val,
		    sizeof(m->token_val))) < 0)
			goto fail;
		m->token = token && r == 1;
		if (!m->conf && !m->token)
			continue;
		m->gen = d->rgen[i];
		m->root = d->root[i];
		d->n++;
	}
	return 0;
 fail:
	hk_online_distrust_free(d);
	return r;
}

void
hk_online_distrust_free(struct hk_online_distrust *d)
{
	while (d->nroots > 0)
		X509_free(d->root[--d->nroots]);
	d->n = 0;
}

const struct hk_online_distrust_mark *
hk_online_distrust_key(const struct hk_online_distrust *d, EVP_PKEY *k)
{
	int i;

	for (i = 0; k != NULL && i < d->n; i++)
		if (EVP_PKEY_eq(k, X509_get0_pubkey(d->mark[i].root)) == 1)
			return &d->mark[i];
	return NULL;
}

const char *
hk_online_distrust_where(const struct hk_online_distrust_mark *m, char *buf,
    size_t len)
{
	if (m->conf)
		snprintf(buf, len, "state.conf root.%d.compromised = %s%s",
		    m->gen, m->conf_val, m->token ? ", and the token's mark" :
		    "");
	else
		snprintf(buf, len, "the token's root.%d.compromised: %s; "
		    "state.conf lacks it (restored from a backup taken before "
		    "the declaration?): hanko-online trust --compromised %d "
		    "again marks it there", m->gen, m->token_val, m->gen);
	return buf;
}

int
hk_online_distrust_ca(struct hk_online *on, struct hk_store *s, X509 *ca,
    int igen, const char *what)
{
	struct hk_online_distrust d;
	char where[512];
	int i, r;

	if ((r = hk_online_distrust_load(on, s, 1, &d)) != 0)
		return r;
	for (i = 0; i < d.n; i++) {
		const struct hk_online_distrust_mark *m = &d.mark[i];

		/* X509_verify: 1 is good; 0 and -1 are failures */
		if (X509_verify(ca, X509_get0_pubkey(m->root)) != 1)
			continue;
		hk_err_set("issuing generation %d: its CA certificate is "
		    "certified by root generation %d, declared compromised "
		    "(%s): CPS 4-14-2: %s; the CA starts again with init-root "
		    "on a new state (docs/ceremony-lifecycle.md "
		    "\"compromise\")", igen, m->gen,
		    hk_online_distrust_where(m, where, sizeof(where)), what);
		r = HK_ERR_STATE;
		break;
	}
	ERR_clear_error();
	hk_online_distrust_free(&d);
	return r;
}

int
hk_online_distrust_newest(struct hk_online *on, struct hk_store *s,
    const char *what)
{
	struct hk_online_distrust d;
	char where[512];
	int i, top = 0, r;

	if ((r = hk_online_distrust_load(on, s, 1, &d)) != 0)
		return r;
	for (i = 0; i < d.nroots; i++)
		if (d.rgen[i] > top)
			top = d.rgen[i];
	for (i = 0; i < d.n; i++) {
		const struct hk_online_distrust_mark *m = &d.mark[i];

		if (m->gen != top)
			continue;
		hk_err_set("root generation %d, the newest the store holds, is "
		    "declared compromised (%s): CPS 4-14-2: %s; the CA starts "
		    "again with init-root on a new state "
		    "(docs/ceremony-lifecycle.md \"compromise\")", m->gen,
		    hk_online_distrust_where(m, where, sizeof(where)), what);
		r = HK_ERR_STATE;
		break;
	}
	hk_online_distrust_free(&d);
	return r;
}

int
hk_online_distrust_top(struct hk_online *on, struct hk_store *s, int *gen)
{
	struct hk_online_distrust d;
	int i, top = 0, r;

	*gen = 0;
	if ((r = hk_online_distrust_load(on, s, on->tok != NULL, &d)) != 0)
		return r;
	for (i = 0; i < d.nroots; i++)
		if (d.rgen[i] > top)
			top = d.rgen[i];
	for (i = 0; i < d.n; i++)
		if (d.mark[i].gen == top)
			*gen = top;
	hk_online_distrust_free(&d);
	return 0;
}

/*
 * step_arl.c - actions "arl-batch" and "arl-commit" (CPS 4-4-3, 4-4-9,
 * 4-4-10, 7-2-2): ARLs signed by the current root key in the token, one
 * per crl.interval-hours (24) from now, each valid crl.validity-hours (72),
 * cRLNumber continuing state.conf's arl.last-number, IDP onlyContainsCACerts,
 * entries = the revoked certificates of issued.txt that had not expired at
 * the thisUpdate of the last ARL released for sure (keep_since; RFC 5280
 * 3.3: an entry stays until one ARL issued after its certificate's expiry
 * has listed it), plus those staged in this ceremony (revoke,
 * compromise-revoke).
 *
 * One confirmation for the whole batch: every ARL is built first and the
 * SHA-256 of its tbsCertList shown (number, thisUpdate, digest) in the
 * transcript; the operators confirm the SHA-256 over those digests
 * concatenated in order; each signature is then checked to be over the
 * very TBS confirmed. The files (certs/arl/arl-<number>.crl, never
 * replaced) are written only once the whole batch is signed; arl-commit
 * then saves the staged revocations in issued.txt and arl.last-number in
 * state.conf. Before that, a failure removes the files and keeps the
 * number: nothing is half done.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "cert.h"
#include "ceremony.h"
#include "clock.h"
#include "crl.h"
#include "err.h"
#include "hex.h"
#include "issued.h"
#include "p11.h"
#include "step_rollover.h"
#include "transcript.h"

/* What arl-batch made, for arl-commit and undo (one ceremony a process). */
static char arl_files[HK_CRL_BATCH_MAX][4096];
static size_t narl_files;
static uint64_t arl_last;		/* the last cRLNumber signed */
static int arl_signed;			/* 1: arl_last is set */

struct sign_arg {
	EVP_PKEY *key;
	const EVP_MD *md;
	unsigned char (*dig)[32];	/* the TBS digests confirmed */
	size_t i, n;
	long fail_at;			/* rehearsal test hook; 0 = none */
};

/* The signing callback of hk_crl_batch: sign in the token, then check
 * the TBS signed is the one confirmed. */
static int
sign_cb(X509_CRL *crl, void *arg)
{
	struct sign_arg *a = arg;
	unsigned char *der = NULL, d[32];
	int len;

	if (a->i >= a->n) {
		hk_err_set("arl: more ARLs signed than confirmed");
		return HK_ERR_INTERNAL;
	}
	if (a->fail_at > 0 && (size_t)a->fail_at == a->i + 1) {
		hk_err_set("arl: failure forced at ARL %zu by HANKO_FAIL_AT_ARL "
		    "(rehearsal test)", a->i + 1);
		return HK_ERR_INTERNAL;
	}
	if (X509_CRL_sign(crl, a->key, a->md) <= 0) {
		hk_err_set("arl: the token did not sign");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	if ((len = i2d_re_X509_CRL_tbs(crl, &der)) <= 0) {
		hk_err_set("arl: cannot encode the signed TBS");
		return HK_ERR_CRYPTO;
	}
	SHA256(der, (size_t)len, d);
	OPENSSL_free(der);
	if (memcmp(d, a->dig[a->i], 32) != 0) {
		hk_err_set("arl %zu: the signed TBS is not the one confirmed",
		    a->i + 1);
		return HK_ERR_VERIFY;
	}
	a->i++;
	return 0;
}

/* SHA-256 of the tbsCertList key will sign (a throwaway key of the same
 * type fixes the signature algorithm fields). */
static int
crl_tbs_digest(X509_CRL *crl, EVP_PKEY *tmp, const EVP_MD *md,
    unsigned char d[32])
{
	unsigned char *der = NULL;
	int len;

	if (X509_CRL_sign(crl, tmp, md) <= 0 ||
	    (len = i2d_re_X509_CRL_tbs(crl, &der)) <= 0) {
		hk_err_set("arl: cannot encode the TBS");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	SHA256(der, (size_t)len, d);
	OPENSSL_free(der);
	return 0;
}

/*
 * Since when an expired certificate's entry may go (RFC 5280 3.3: an entry
 * stays until one ARL issued after its certificate's expiry has listed
 * it): the thisUpdate of the highest-numbered ARL made whose thisUpdate is
 * at least one interval before now. publish releases, once an interval,
 * the highest-numbered ARL current, so that one has been out for a whole
 * interval, and it listed every entry whose certificate expired before
 * it. Not the last ARL made: while the last batch still runs (a batch is
 * made before the one out runs out), its later ARLs are never released
 * once this batch, numbered above them, is imported, so an entry whose
 * certificate expired since the last ARL released would be on no ARL
 * issued after its expiry. now when no such ARL can be read.
 */
static time_t
keep_since(struct hk_cer *c, uint64_t last, time_t now, time_t step)
{
	unsigned char *buf = NULL;
	const unsigned char *p;
	X509_CRL *crl = NULL;
	char rel[64], path[4096];
	time_t t = now, lu;
	uint64_t n;
	size_t len;
	int found = 0, ok;

	for (n = last; n > 0 && last - n < 2 * HK_CRL_BATCH_MAX && !found;
	    n--) {
		snprintf(rel, sizeof(rel), "certs/arl/arl-%llu.crl",
		    (unsigned long long)n);
		if (hk_state_path(c->ca->st, rel, path, sizeof(path)) != 0 ||
		    hk_file_read(path, (size_t)16 << 20, &buf, &len) != 0)
			break;
		p = buf;
		ok = (crl = d2i_X509_CRL(NULL, &p, (long)len)) != NULL &&
		    hk_cert_time(X509_CRL_get0_lastUpdate(crl), &lu) == 0;
		if (ok && lu <= now - step) {
			t = lu;
			found = 1;
		}
		X509_CRL_free(crl);
		crl = NULL;
		free(buf);
		buf = NULL;
		if (!ok)
			break;
	}
	hk_err_clear();
	ERR_clear_error();
	return t;
}

/* The entries: revoked in issued.txt and not expired at since, plus those
 * staged. */
static int
arl_entries(struct hk_cer *c, struct hk_issued *reg, time_t since,
    struct hk_crl_entry **out, size_t *n)
{
	const struct hk_life_staged *sg;
	struct hk_crl_entry *e;
	struct hk_issued_entry *ie;
	BIGNUM *bn = NULL;
	size_t i, ns, k = 0;

	(void)c;
	sg = hk_life_staged(&ns);
	*out = NULL;
	*n = 0;
	if ((e = calloc(reg->n + ns + 1, sizeof(*e))) == NULL)
		return HK_ERR_ALLOC;
	for (i = 0; i < reg->n + ns; i++) {
		const char *serial;
		time_t when;
		int reason;

		if (i < reg->n) {
			ie = &reg->e[i];
			if (!ie->revoked || ie->not_after < since)
				continue;
			serial = ie->serial;
			when = ie->revoked_at;
			reason = ie->reason;
		} else {
			serial = sg[i - reg->n].serial;
			when = sg[i - reg->n].when;
			reason = sg[i - reg->n].reason;
			if ((ie = hk_issued_find(reg, serial)) != NULL &&
			    ie->revoked)
				continue;	/* listed above already */
		}
		if (BN_hex2bn(&bn, serial) == 0 ||
		    (e[k].serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
			hk_err_set("arl: serial %s does not convert", serial);
			goto fail;
		}
		e[k].revoked = when;
		e[k].reason = (enum hk_crl_reason)reason;
		k++;
	}
	BN_free(bn);
	*out = e;
	*n = k;
	return 0;
fail:
	BN_free(bn);
	for (i = 0; i < k; i++)
		ASN1_INTEGER_free((ASN1_INTEGER *)e[i].serial);
	free(e);
	return HK_ERR_CRYPTO;
}

static void
free_entries(struct hk_crl_entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ASN1_INTEGER_free((ASN1_INTEGER *)e[i].serial);
	free(e);
}

static uint64_t
last_number(struct hk_cer *c, int *ok)
{
	const char *v = hk_state_get(c->ca->st, "arl.last-number");
	char *end;
	unsigned long long n;

	*ok = 1;
	if (v == NULL)
		return 0;
	n = strtoull(v, &end, 10);
	if (*v == '\0' || *end != '\0' || *v == '-')
		*ok = 0;
	return (uint64_t)n;
}

static int
remove_files(struct hk_cer *c, const char *actors, const char *why)
{
	size_t i;
	int n = 0;

	for (i = 0; i < narl_files; i++)
		if (unlink(arl_files[i]) == 0) {
			n++;
			hk_ca_audit_warn(c->ca, "crl.remove", "ok", actors,
			    "%s removed: %s", arl_files[i], why);
		}
	narl_files = 0;
	return n;
}

/*
 * Every ARL of the batch ends (nextUpdate) by the signer's notAfter: an
 * ARL is never valid beyond the certificate of the key that signed it.
 * After its key-use period (CPS 6-3-1-2) a root still signs ARLs until
 * its certificates expire, which is at the latest its own notAfter.
 */
static int
arl_fit(const struct hk_script_step *st, X509 *root, int gen,
    const struct hk_crl_spec *spec, time_t now, uint64_t last, size_t n)
{
	time_t na, step = (time_t)spec->interval_hours * 3600;
	time_t valid = (time_t)spec->validity_hours * 3600;
	char t1[32], t2[32];
	size_t fit;

	if (hk_cert_time(X509_get0_notAfter(root), &na) != 0) {
		hk_err_set("root-%d: notAfter does not decode", gen);
		return HK_ERR_INVALID;
	}
	for (fit = 0; fit < n; fit++)
		if (now + (time_t)fit * step + valid > na)
			break;
	if (fit == n)
		return 0;
	hk_time_format(now + (time_t)fit * step + valid, t1, sizeof(t1));
	hk_time_format(na, t2, sizeof(t2));
	if (fit > 0)
		hk_err_set("step %s: ARL %llu: nextUpdate %s would pass "
		    "root-%d's notAfter %s (an ARL is not valid beyond its "
		    "signer's certificate; CPS 6-3-1-2, 7-2-2): at most %zu "
		    "ARLs fit (count: %zu); later ones come from the next root "
		    "generation", st->id, (unsigned long long)(last + 1 + fit),
		    t1, gen, t2, fit, fit);
	else
		hk_err_set("step %s: ARL %llu: nextUpdate %s would pass "
		    "root-%d's notAfter %s (an ARL is not valid beyond its "
		    "signer's certificate; CPS 6-3-1-2, 7-2-2): none fits; "
		    "ARLs come from the next root generation", st->id,
		    (unsigned long long)(last + 1), t1, gen, t2);
	return HK_ERR_INVALID;
}

static const struct hk_param_spec batch_params[] = {
	{ "count", HK_PARAM_INT, 0, 1, HK_CRL_BATCH_MAX, NULL, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
batch_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *cp = hk_script_param(st, "count");
	size_t n = cp != NULL ? (size_t)cp->ival : HK_CRL_BATCH_DEFAULT;
	X509 *root = NULL;
	EVP_PKEY *priv = NULL, *pub = NULL, *tmp = NULL;
	struct hk_issued *reg = NULL;
	struct hk_crl_entry *ents = NULL;
	size_t nents = 0, i;
	struct hk_crl_spec spec;
	struct sign_arg sa;
	X509_CRL **crls = NULL;
	unsigned char (*dig)[32] = NULL, all[32], fd[32], *buf;
	char dir[4096], hex[65], t1[32], t2[32], what[160];
	const char *fail_env = getenv("HANKO_FAIL_AT_ARL");
	time_t now = hk_clock_now();
	uint64_t last;
	int gen = hk_life_generation(c), r, ok;
	size_t blen;

	memset(&sa, 0, sizeof(sa));
	last = last_number(c, &ok);
	if (!ok) {
		hk_err_set("%s: state.conf: arl.last-number is not a number",
		    c->ca->st->dir);
		return HK_ERR_STATE;
	}
	if (arl_signed) {
		hk_err_set("step %s: one ARL step per ceremony", st->id);
		return HK_ERR_INVALID;
	}
	if ((r = hk_life_root_may_sign(c, gen, HK_ROOT_ARL)) != 0 ||
	    (r = hk_life_root(c, gen, &root, &priv, &pub)) != 0)
		return r;
	crls = calloc(n, sizeof(*crls));
	dig = calloc(n, sizeof(*dig));
	if (crls == NULL || dig == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if ((r = hk_crl_spec_arl(&spec, c->profile, root)) != 0 ||
	    (r = arl_fit(st, root, gen, &spec, now, last, n)) != 0 ||
	    (r = hk_issued_load(c->ca->st->dir, &reg)) != 0 ||
	    (r = arl_entries(c, reg, keep_since(c, last, now,
	    (time_t)spec.interval_hours * 3600), &ents, &nents)) != 0)
		goto out;
	spec.entries = ents;
	spec.n_entries = nents;
	if ((r = hk_state_path(c->ca->st, "certs/arl", dir, sizeof(dir))) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		char path[4096];
		if ((size_t)snprintf(path, sizeof(path), "%s/arl-%llu.crl", dir,
		    (unsigned long long)(last + 1 + i)) >= sizeof(path)) {
			hk_err_set("%s: path too long", dir);
			r = HK_ERR_INVALID;
			goto out;
		}
		if (hk_path_exists(path)) {
			hk_err_set("%s: already exists; refusing to overwrite "
			    "(is arl.last-number behind?)", path);
			r = HK_ERR_EXISTS;
			goto out;
		}
	}
	/* 1. every TBS, its digest, one digest over them all */
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA)
		tmp = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)EVP_PKEY_get_bits(pub));
	else
		tmp = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    EVP_PKEY_get_bits(pub) > 256 ? "P-384" : "P-256");
	if (tmp == NULL) {
		r = HK_ERR_CRYPTO;
		hk_err_set("arl: no throwaway key");
		goto out;
	}
	for (i = 0; i < n; i++) {
		X509_CRL *x = NULL;
		time_t tu = now + (time_t)i * spec.interval_hours * 3600;
		if ((r = hk_crl_build(&spec, tu, last + 1 + i, &x)) != 0 ||
		    (r = crl_tbs_digest(x, tmp, hk_cert_md(c->profile, pub),
		    dig[i])) != 0) {
			X509_CRL_free(x);
			goto out;
		}
		X509_CRL_free(x);
		hk_hex_encode(dig[i], 32, hex);
		hk_time_format(tu, t1, sizeof(t1));
		hk_time_format(tu + (time_t)spec.validity_hours * 3600, t2,
		    sizeof(t2));
		printf("  ARL %llu thisUpdate %s nextUpdate %s entries %zu TBS "
		    "SHA-256 %s\n", (unsigned long long)(last + 1 + i), t1, t2,
		    nents, hex);
		hk_transcript_add(c->tr, "arl", NULL, "number %llu thisUpdate "
		    "%s nextUpdate %s entries %zu tbsCertList SHA-256 %s",
		    (unsigned long long)(last + 1 + i), t1, t2, nents, hex);
	}
	SHA256((const unsigned char *)dig, n * 32, all);
	snprintf(what, sizeof(what), "%zu ARL%s %llu..%llu by root-%d "
	    "(SHA-256 over the TBS digests listed, in order)", n,
	    n == 1 ? "" : "s", (unsigned long long)(last + 1),
	    (unsigned long long)(last + n), gen);
	/* 2. one confirmation, then the token signs each */
	if ((r = hk_cer_confirm(c, st, what, all)) != 0)
		goto out;
	sa.key = priv;
	sa.md = hk_cert_md(c->profile, pub);
	sa.dig = dig;
	sa.n = n;
	sa.fail_at = c->rehearsal && fail_env != NULL ? atol(fail_env) : 0;
	if ((r = hk_crl_batch(&spec, c->profile, now, n, last, NULL, sign_cb,
	    &sa, crls)) != 0) {
		hk_ca_audit_warn(c->ca, "crl.sign", "fail", res->actors,
		    "%s: %s", what, hk_err_msg());
		goto out;
	}
	if (sa.i != n) {
		hk_err_set("arl: %zu signed, %zu confirmed", sa.i, n);
		r = HK_ERR_INTERNAL;
		goto out;
	}
	/* 3. the files, all or none, named first by the ceremony journal
	 * (one range: a run killed from here on is recovered by the next,
	 * docs/ceremonies.md "Killed runs") */
	if ((r = hk_cer_journal_arls(c, last + 1, last + n)) != 0 ||
	    (r = hk_dir_ensure(dir, 0755)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(arl_files[narl_files],
		    sizeof(arl_files[0]), "%s/arl-%llu.crl", dir,
		    (unsigned long long)(last + 1 + i)) >= sizeof(arl_files[0])) {
			hk_err_set("%s: path too long", dir);
			r = HK_ERR_INVALID;
			goto out;
		}
		if ((r = hk_crl_write(crls[i], arl_files[narl_files],
		    NULL)) != 0) {
			struct hk_err_kept msg;
			hk_err_keep(&msg);
			remove_files(c, res->actors, "the batch could not be "
			    "written whole");
			hk_err_restore(&msg);
			goto out;
		}
		narl_files++;
		if (hk_file_read(arl_files[i], 1 << 24, &buf, &blen) == 0) {
			SHA256(buf, blen, fd);
			free(buf);
			hk_hex_encode(fd, 32, hex);
			hk_transcript_add(c->tr, "output", fd, "arl-%llu %s "
			    "SHA-256 %s", (unsigned long long)(last + 1 + i),
			    arl_files[i], hex);
		}
	}
	hk_hex_encode(all, 32, hex);
	/* ARLs the log does not hold are not kept. */
	if ((r = hk_ca_audit(c->ca, "crl.sign", "ok", res->actors, "%s "
	    "written to %s; %zu entries; batch SHA-256 %s", what, dir, nents,
	    hex)) != 0) {
		struct hk_err_kept msg;
		hk_err_keep(&msg);
		remove_files(c, res->actors, "the log cannot hold their "
		    "record");
		hk_err_restore(&msg);
		goto out;
	}
	arl_last = last + n;
	arl_signed = 1;
	snprintf(res->detail, sizeof(res->detail), "ARLs %llu..%llu signed by "
	    "root-%d, %zu entries, written to certs/arl/; batch SHA-256 %s",
	    (unsigned long long)(last + 1), (unsigned long long)(last + n), gen,
	    nents, hex);
	r = 0;
out:
	if (crls != NULL)
		for (i = 0; i < n; i++)
			X509_CRL_free(crls[i]);
	free(crls);
	free(dig);
	free_entries(ents, nents);
	hk_issued_free(reg);
	EVP_PKEY_free(tmp);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	X509_free(root);
	return r;
}

int
hk_life_arl_signed(void)
{
	return arl_signed;
}

const char *
hk_life_arl_file(size_t i, size_t *n, uint64_t *last)
{
	*n = narl_files;
	*last = arl_last;
	return i < narl_files ? arl_files[i] : NULL;
}

static void
batch_undo(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	(void)st;
	if (remove_files(c, res->actors, "the ceremony failed before "
	    "arl-commit") > 0)
		res->undone = 1;
	arl_signed = 0;
}

const struct hk_step_action hk_step_arl_batch = {
	{ "arl-batch", "pre-sign ARLs for the next days (count, default 35; 1 "
	    "for an emergency ARL) with the current root key, one confirmation",
	    batch_params, 0, 1, 1 },
	batch_run, batch_undo
};

/* Action "arl-commit". */

static const struct hk_param_spec commit_params[] = {
	{ "arl", HK_PARAM_STEP, 1, 0, 0, NULL, "arl-batch", -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
commit_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_life_staged *sg;
	struct hk_issued *reg = NULL;
	unsigned char *saved = NULL;
	size_t savedlen = 0, ns, i;
	char path[4096], val[32], key[64], t[32], why[HK_ERR_DETAIL_MAX];
	int r, had, keep = 0, placed = 0;

	sg = hk_life_staged(&ns);
	if (!arl_signed) {
		hk_err_set("step %s: no ARL was signed in this ceremony",
		    st->id);
		return HK_ERR_STATE;
	}
	if ((r = hk_state_path(c->ca->st, HK_ISSUED_FILE, path,
	    sizeof(path))) != 0)
		return r;
	/* an issued.txt whose look-up fails is not "none": the undo
	 * removed it then */
	if ((had = hk_path_lookup(path)) < 0)
		return had;
	if (ns > 0) {
		if (had && (r = hk_file_read(path, 64 << 20, &saved,
		    &savedlen)) != 0)
			return r;
		if ((r = hk_issued_load(c->ca->st->dir, &reg)) != 0)
			goto out;
		for (i = 0; i < ns; i++)
			if ((r = hk_issued_revoke(reg, sg[i].serial, sg[i].when,
			    sg[i].reason)) != 0)
				goto out;
		if ((r = hk_issued_save(reg)) != 0)
			goto out;
	}
	snprintf(val, sizeof(val), "%llu", (unsigned long long)arl_last);
	r = hk_state_set(c->ca->st, "arl.last-number", val);
	if (r == 0 && hk_life_compromised_gen > 0) {
		snprintf(key, sizeof(key), "root.%d.compromised",
		    hk_life_compromised_gen);
		hk_time_format(hk_clock_now(), t, sizeof(t));
		r = hk_state_set(c->ca->st, key, t);
	}
	/* The notice for the bridge CA is the CA's from here on, as the
	 * ARLs: state.conf names it (root.<g>.compromise-notice), so that a
	 * recovery after a run killed right after this commit, whose journal
	 * still names the notice, keeps it (journal.c, docs/ceremonies.md
	 * "Killed runs"). */
	for (i = 0; r == 0 && hk_life_compromised_gen > 0 &&
	    i < (size_t)(st - c->script->steps); i++) {
		char rel[256];
		if (strcmp(c->script->steps[i].spec->name,
		    "compromise-notice") != 0 || c->res[i].nwritten < 1 ||
		    hk_iss_rel(c, c->res[i].written[0], rel, sizeof(rel)) != 0) {
			hk_err_clear();
			continue;
		}
		snprintf(key, sizeof(key), "root.%d.compromise-notice",
		    hk_life_compromised_gen);
		r = hk_state_set(c->ca->st, key, rel);
	}
	/* A state.conf in place whose folder's fsync then failed names the
	 * ARLs all the same (arl.last-number): kept and recorded, not undone;
	 * the failure is said after the records. */
	if (r == 0 && (keep = hk_state_save_placed(c->ca->st, &placed)) != 0 &&
	    !placed)
		r = keep;
	if (r != 0) {
		if (ns > 0 && had)
			(void)hk_file_write(path, saved, savedlen, 0644, 0);
		else if (ns > 0)
			(void)unlink(path);
		goto out;
	}
	snprintf(why, sizeof(why), "%s", keep != 0 ? hk_err_msg() : "");
	narl_files = 0;		/* the CA's now: no undo removes them */
	hk_life_committed = 1;
	for (i = 0; i < (size_t)(st - c->script->steps); i++)
		c->res[i].nwritten = 0;	/* the notice too */
	/* Committed: a record lost now fails the step (exit 6) but
	 * undoes nothing. */
	for (i = 0; i < ns && r == 0; i++)
		r = hk_ca_audit(c->ca, "cert.revoke", "ok", res->actors, "%s %s "
		    "revoked, reason %s(%d), recorded in %s", sg[i].kind,
		    sg[i].serial, hk_life_reasons[sg[i].reason - 1],
		    sg[i].reason, HK_ISSUED_FILE);
	if (r == 0)
		r = hk_ca_audit(c->ca, "crl.issue", "ok", res->actors,
		    "arl.last-number = %s; %zu revocation%s recorded", val, ns,
		    ns == 1 ? "" : "s");
	if (r != 0)
		goto out;
	if (keep != 0) {
		hk_err_set("the ARLs of this batch are made and named by "
		    "state.conf (arl.last-number = %s): kept; but %s", val,
		    why);
		r = keep;
		goto out;
	}
	snprintf(res->detail, sizeof(res->detail), "arl.last-number = %s; %zu "
	    "revocation%s recorded in %s", val, ns, ns == 1 ? "" : "s",
	    HK_ISSUED_FILE);
out:
	free(saved);
	hk_issued_free(reg);
	return r;
}

const struct hk_step_action hk_step_arl_commit = {
	{ "arl-commit", "record the staged revocations in issued.txt and "
	    "arl.last-number in state.conf; the ARLs are kept from here on",
	    commit_params, 0, 0, 1 },
	commit_run, NULL
};

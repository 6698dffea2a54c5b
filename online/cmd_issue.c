/*
 * cmd_issue.c - "hanko-online issue": residents' certificates from a batch
 * of requests (CPS 4-1 to 4-3; docs/requests.md, docs/store.md "Crash
 * safety: issuance protocol").
 *
 * For each line: validate (online/request.c); the resident's keyed hash;
 * refuse a second live certificate (CPS 4-2-3); build the certificate
 * (hk_cert_build_user) and lint it signed with a throwaway key; reserve the
 * serial with the TBSCertificate in a committed transaction of its own;
 * sign through the token with the checked signer; require the signed TBS
 * to be the reserved one; complete; audit; write the DER. A refused line is
 * one result line and never stops or spoils the rest; a failure after the
 * reservation voids the serial, which is never used again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "basic4.h"
#include "cert.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "lint.h"
#include "municipalities.h"
#include "online.h"
#include "profile.h"
#include "request.h"
#include "secmem.h"
#include "store.h"

struct issue_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *batch;		/* --batch FILE: the requests (CSV) */
	const char *out;		/* --out DIR: results.csv, certs/ */
};

/* What a batch works with, freed in one place. */
struct issue_work {
	struct hk_online *on;		/* the state, logged in */
	struct hk_store *store;		/* open store */
	struct hk_profile *p;		/* the state's profile */
	struct hk_munis *munis;		/* the state's municipalities */
	X509 *issuer;			/* the issuing CA certificate */
	EVP_PKEY *ikey;			/* its private key in the token */
	EVP_PKEY *tmp;			/* throwaway key like the issuer's */
	unsigned char *skey;		/* store key (hk_secret_alloc) */
	FILE *results;			/* <out>/results.csv */
	char certs[4096];		/* <out>/certs */
	int rehearsal;			/* 1: rehearsal state */
	size_t ok, refused;		/* counts */
};

static const char issue_usage[] =
"usage: hanko-online issue --state DIR --batch FILE --out DIR "
"[--clock T]\n";

static int
parse(struct issue_opts *o, int argc, char **argv)
{
	int i, r;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		if (hk_online_common_opt(&o->c, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
		} else if (strcmp(argv[i], "--help") == 0) {
			fputs(issue_usage, stdout);
			return 1;
		} else if (strcmp(argv[i], "--batch") == 0) {
			if ((o->batch = hk_online_opt_value(argc, argv,
			    &i)) == NULL)
				return HK_ERR_USAGE;
		} else if (strcmp(argv[i], "--out") == 0) {
			if ((o->out = hk_online_opt_value(argc, argv,
			    &i)) == NULL)
				return HK_ERR_USAGE;
		} else {
			hk_err_set("%s: unknown argument (see --help)",
			    argv[i]);
			return HK_ERR_USAGE;
		}
	}
	if (o->c.state == NULL || o->batch == NULL || o->out == NULL) {
		hk_err_set("--state, --batch and --out are required (see "
		    "--help)");
		return HK_ERR_USAGE;
	}
	return 0;
}

struct find_issuer {
	EVP_PKEY *pub;			/* the token's issuing public key */
	time_t now;			/* must be inside the validity */
	X509 *found;			/* newest match */
};

static int
each_issuing(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct find_issuer *f = arg;
	const unsigned char *p = der;
	X509 *x;

	(void)gen;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		X509_free(x);
		hk_err_set("store: ca_certs: a stored issuing CA certificate "
		    "does not parse");
		return HK_ERR_STATE;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(x), f->pub) == 1 &&
	    X509_cmp_time(X509_get0_notBefore(x), &f->now) < 0 &&
	    X509_cmp_time(X509_get0_notAfter(x), &f->now) > 0) {
		X509_free(f->found);
		f->found = x;		/* oldest first: keep the newest */
	} else
		X509_free(x);
	return 0;
}

/* The state's profile, municipalities, store, token key, issuing CA. */
static int
work_open(struct issue_work *w, const struct issue_opts *o)
{
	struct find_issuer f;
	const char *gen, *reh, *check, *sid, *suri;
	unsigned char mac[32];
	unsigned int ml = 0;
	char path[4096], key[64], hex[64];
	int r;

	memset(&f, 0, sizeof(f));
	if ((r = hk_online_open(&o->c, &w->on)) != 0)
		return r;
	reh = hk_state_get(w->on->st, "rehearsal");
	w->rehearsal = reh != NULL && strcmp(reh, "yes") == 0;
	if ((r = hk_online_path(w->on, "profile.yaml", path,
	    sizeof(path))) != 0 || (r = hk_profile_load(path, &w->p)) != 0 ||
	    (r = hk_online_path(w->on, "municipalities.csv", path,
	    sizeof(path))) != 0 || (r = hk_munis_load(path, &w->munis)) != 0 ||
	    (r = hk_online_path(w->on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 || (r = hk_store_open(path, 0,
	    &w->store)) != 0)
		return r;
	gen = hk_state_get(w->on->st, "issuing.generation");
	snprintf(key, sizeof(key), "issuing.%s.key-uri", gen ? gen : "?");
	sid = hk_state_get(w->on->st, "store.id");
	suri = hk_state_get(w->on->st, "store.key-uri");
	check = hk_state_get(w->on->st, "store.key-check");
	if (gen == NULL || hk_state_get(w->on->st, key) == NULL ||
	    sid == NULL || suri == NULL || check == NULL) {
		hk_err_set("%s/state.conf: issuing.generation, %s, store.id, "
		    "store.key-uri and store.key-check are required",
		    w->on->st->dir, key);
		return HK_ERR_STATE;
	}
	if ((r = hk_online_login(w->on)) != 0 ||
	    (r = hk_token_key(w->on->tok, hk_state_get(w->on->st, key),
	    &w->ikey, &f.pub)) != 0)
		return r;
	if ((r = hk_online_store_key(w->on->tok, suri, sid, &w->skey)) != 0)
		goto out;
	HMAC(EVP_sha256(), w->skey, HK_STORE_HMAC_KEY_LEN,
	    (const unsigned char *)"check", 5, mac, &ml);
	hk_hex_encode(mac, 16, hex);
	if (strcmp(hex, check) != 0) {
		hk_err_set("%s/state.conf: store.key-check: the token's store "
		    "key is not the one this store was made with",
		    w->on->st->dir);
		r = HK_ERR_STATE;
		goto out;
	}
	f.now = hk_clock_now();
	if ((r = hk_store_ca_each(w->store, HK_CA_ISSUING, each_issuing,
	    &f)) != 0)
		goto out;
	if (f.found == NULL) {
		hk_err_set("%s: no imported issuing CA certificate valid now "
		    "for the token's issuing key %s (run hanko-online import)",
		    HK_ONLINE_STORE_FILE, key);
		r = HK_ERR_STATE;
		goto out;
	}
	w->issuer = f.found;
	if ((w->tmp = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)EVP_PKEY_get_bits(f.pub))) == NULL ||
	    !EVP_PKEY_is_a(f.pub, "RSA")) {
		hk_err_set("issue: the issuing key must be RSA (PROFILE.md)");
		r = HK_ERR_STATE;
		goto out;
	}
	r = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	EVP_PKEY_free(f.pub);
	return r;
}

static void
work_close(struct issue_work *w)
{
	if (w->results != NULL && fclose(w->results) != 0)
		fprintf(stderr, "hanko-online issue: results.csv: write "
		    "failed\n");
	hk_secret_free(w->skey);
	EVP_PKEY_free(w->tmp);
	EVP_PKEY_free(w->ikey);
	X509_free(w->issuer);
	hk_munis_free(w->munis);
	hk_profile_free(w->p);
	hk_store_close(w->store);
	hk_online_close(w->on);
}

static void
result(struct issue_work *w, size_t line, const char *serial,
    const char *detail)
{
	if (serial != NULL) {
		fprintf(w->results, "%zu,ok,%s\n", line, serial);
		w->ok++;
	} else {
		fprintf(w->results, "%zu,refused,%s\n", line, detail);
		w->refused++;
	}
	fflush(w->results);
}

/* Serial of x: big-endian bytes and upper-case hex. */
static int
serial_of(X509 *x, unsigned char s[HK_STORE_SERIAL_MAX], size_t *len,
    char hex[2 * HK_STORE_SERIAL_MAX + 1])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	int n;

	if (bn == NULL || (n = BN_num_bytes(bn)) < 1 ||
	    n > HK_STORE_SERIAL_MAX) {
		BN_free(bn);
		return HK_ERR_INTERNAL;
	}
	*len = (size_t)BN_bn2bin(bn, s);
	BN_free(bn);
	hk_hex_encode(s, *len, hex);
	for (n = 0; hex[n]; n++)
		if (hex[n] >= 'a' && hex[n] <= 'f')
			hex[n] = (char)(hex[n] - 'a' + 'A');
	return 0;
}

/* The TBSCertificate of x as the issuer will sign it (signature algorithm
 * fixed by a signature with the throwaway key), linted. */
static int
tbs_linted(struct issue_work *w, X509 *x, unsigned char **tbs, int *len)
{
	char detail[1024];
	int r;

	*tbs = NULL;
	if (X509_sign(x, w->tmp, hk_cert_md(w->p, w->tmp)) <= 0 ||
	    (*len = i2d_re_X509_tbs(x, tbs)) <= 0) {
		hk_err_set("user: cannot encode the TBSCertificate");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	if ((r = hk_lint_issued(x, w->issuer, w->p, HK_CERT_USER)) != 0 ||
	    (r = hk_lint_cert(x, w->p, HK_CERT_USER, w->rehearsal)) != 0) {
		snprintf(detail, sizeof(detail), "%s", hk_err_msg());
		hk_err_set("lint: %s", detail);
		OPENSSL_free(*tbs);
		*tbs = NULL;
	}
	return r;
}

/* Sign the reserved certificate; 0 and x signed, or an error after which
 * the caller voids the serial. */
static int
sign_reserved(struct issue_work *w, X509 *x, const unsigned char *tbs,
    int tlen)
{
	unsigned char *t2 = NULL;
	int n, r;

	if ((r = hk_cert_sign_issued(x, w->issuer, w->ikey, w->p, HK_CERT_USER,
	    w->rehearsal)) != 0)
		return r;
	if ((n = i2d_re_X509_tbs(x, &t2)) != tlen ||
	    memcmp(t2, tbs, (size_t)tlen) != 0) {
		hk_err_set("user: the signed TBSCertificate is not the one "
		    "reserved in the store");
		r = HK_ERR_VERIFY;
	} else if (X509_verify(x, X509_get0_pubkey(w->issuer)) != 1) {
		/* X509_verify: 1 good, 0 bad, -1 error */
		hk_err_set("user: signature does not verify with the issuing "
		    "CA's key");
		r = HK_ERR_VERIFY;
	}
	OPENSSL_free(t2);
	ERR_clear_error();
	return r;
}

/* One request line: always ends in exactly one result line. */
static void
issue_line(struct issue_work *w, const struct hk_request_ctx *ctx,
    size_t ln, const char *line)
{
	struct hk_request req;
	struct hk_store_cert c;
	unsigned char s[HK_STORE_SERIAL_MAX], *tbs = NULL, *der = NULL;
	char hex[2 * HK_STORE_SERIAL_MAX + 1], path[4200], detail[1200];
	char msg[4096 + 1300];
	size_t sl;
	X509 *x = NULL;
	time_t now = hk_clock_now();
	int r, tlen = 0, dlen, reserved = 0;

	memset(&c, 0, sizeof(c));
	hk_err_clear();
	if ((r = hk_request_parse(ctx, ln, line, &req)) != 0) {
		result(w, ln, NULL, hk_err_msg());
		return;
	}
	snprintf(c.municipality, sizeof(c.municipality), "%s", req.muni->code);
	if ((r = hk_store_resident_key(w->skey, req.resident_id,
	    c.resident_key)) != 0)
		goto fail;
	r = hk_store_cert_live(w->store, c.resident_key, s, &sl);
	if (r == 0) {
		size_t k;

		hk_hex_encode(s, sl, hex);
		for (k = 0; hex[k]; k++)
			if (hex[k] >= 'a' && hex[k] <= 'f')
				hex[k] = (char)(hex[k] - 'a' + 'A');
		hk_err_set("%s:%zu: resident_id: CPS 4-2-3: the resident "
		    "already has a valid certificate (serial %s)", ctx->input,
		    ln, hex);
		r = HK_ERR_INVALID;
		goto fail;
	}
	if (r != HK_ERR_NOT_FOUND)
		goto fail;
	if ((r = hk_cert_build_user(w->p, w->issuer, req.key,
	    req.muni->romaji, req.muni->code, &req.b4, now, w->rehearsal,
	    &x)) != 0 || (r = tbs_linted(w, x, &tbs, &tlen)) != 0 ||
	    (r = serial_of(x, s, &sl, hex)) != 0)
		goto fail;
	memcpy(c.serial, s, sl);
	c.serial_len = sl;
	{
		const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);

		if (aki == NULL || aki->length < 1 ||
		    aki->length > HK_STORE_KEYID_MAX) {
			hk_err_set("user: no authorityKeyIdentifier");
			r = HK_ERR_INTERNAL;
			goto fail;
		}
		memcpy(c.issuer, aki->data, (size_t)aki->length);
		c.issuer_len = (size_t)aki->length;
	}
	c.status = HK_CERT_PENDING;
	c.tbs = tbs;
	c.tbs_len = (size_t)tlen;
	{
		struct tm tm;
		const ASN1_TIME *na = X509_get0_notAfter(x);

		c.not_before = now;
		if (ASN1_TIME_to_tm(na, &tm) != 1) {
			r = HK_ERR_INTERNAL;
			goto fail;
		}
		c.not_after = timegm(&tm);
	}
	/* the serial and the resident's slot are spent from here on */
	if ((r = hk_store_cert_reserve(w->store, &c)) != 0) {
		if (r == HK_ERR_INVALID)
			hk_err_set("%s:%zu: resident_id: CPS 4-2-3: the resident "
			    "already has a live certificate", ctx->input, ln);
		goto fail;
	}
	reserved = 1;
	hk_online_audit(w->on, "cert.reserve", "ok", "serial %s: municipality "
	    "%s, %s line %zu", hex, c.municipality, ctx->input, ln);
	if ((r = sign_reserved(w, x, tbs, tlen)) != 0)
		goto fail;
	if ((dlen = i2d_X509(x, &der)) <= 0) {
		r = HK_ERR_CRYPTO;
		goto fail;
	}
	if ((r = hk_store_cert_complete(w->store, s, sl, der,
	    (size_t)dlen)) != 0)
		goto fail;
	reserved = 0;
	hk_online_audit(w->on, "cert.issue", "ok", "serial %s: municipality "
	    "%s, valid until %" PRId64 ", %s line %zu", hex, c.municipality,
	    (int64_t)c.not_after, ctx->input, ln);
	snprintf(path, sizeof(path), "%s/%s.der", w->certs, hex);
	if (hk_cert_write(x, path, NULL) != 0)
		fprintf(stderr, "hanko-online issue: line %zu: serial %s "
		    "issued and stored, but %s\n", ln, hex, hk_err_msg());
	result(w, ln, hex, NULL);
	goto out;
fail:
	snprintf(detail, sizeof(detail), "%s", *hk_err_msg() ? hk_err_msg() :
	    hk_strerror(r));
	/* every reason names the input and the line */
	if (strncmp(detail, ctx->input, strlen(ctx->input)) != 0)
		snprintf(msg, sizeof(msg), "%s:%zu: %s", ctx->input, ln,
		    detail);
	else
		snprintf(msg, sizeof(msg), "%s", detail);
	if (reserved) {
		if (hk_store_cert_void(w->store, s, sl) != 0)
			fprintf(stderr, "hanko-online issue: serial %s: cannot "
			    "void the reservation: %s\n", hex, hk_err_msg());
		hk_online_audit(w->on, "cert.void", "fail", "serial %s: %s",
		    hex, msg);
	}
	result(w, ln, NULL, msg);
out:
	OPENSSL_free(tbs);
	OPENSSL_free(der);
	X509_free(x);
	hk_request_clear(&req);
}

static size_t
count_lines(FILE *f)
{
	size_t n = 0;
	int ch;

	while ((ch = getc(f)) != EOF)
		n += ch == '\n';
	rewind(f);
	return n;
}

static int
run_batch(struct issue_work *w, const struct issue_opts *o)
{
	struct hk_request_ctx ctx;
	char dir[4096], *line = NULL, *slash;
	size_t cap = 0, ln = 0, total;
	ssize_t n;
	FILE *f;
	int r = 0, tty = isatty(2);

	snprintf(dir, sizeof(dir), "%s", o->batch);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	memset(&ctx, 0, sizeof(ctx));
	ctx.input = o->batch;
	ctx.basedir = dir;
	ctx.munis = w->munis;
	ctx.p = w->p;
	ctx.now = hk_clock_now();
	if ((f = fopen(o->batch, "r")) == NULL) {
		hk_err_set("%s: cannot open the batch", o->batch);
		return HK_ERR_NOT_FOUND;
	}
	total = count_lines(f);
	while ((n = getline(&line, &cap, f)) >= 0) {
		ln++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (ln == 1) {
			if ((r = hk_request_header(&ctx, line)) != 0)
				break;
			continue;
		}
		if (n == 0 || line[0] == '#')
			continue;	/* blank and comment lines */
		issue_line(w, &ctx, ln, line);
		if (tty)
			fprintf(stderr, "\rissue: line %zu/%zu, %zu issued, "
			    "%zu refused", ln, total, w->ok, w->refused);
	}
	if (tty)
		fputc('\n', stderr);
	if (r == 0 && ln == 0) {
		hk_err_set("%s: empty batch (no header)", o->batch);
		r = HK_ERR_PARSE;
	}
	if (line != NULL)
		OPENSSL_cleanse(line, cap);
	free(line);
	fclose(f);
	return r;
}

int
cmd_issue(int argc, char **argv)
{
	struct issue_opts o;
	struct issue_work w;
	char path[4200];
	int r;

	memset(&w, 0, sizeof(w));
	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = work_open(&w, &o)) != 0)
		goto out;
	if ((r = hk_dir_create(o.out, 0755)) != 0)
		goto out;
	snprintf(w.certs, sizeof(w.certs), "%s/certs", o.out);
	snprintf(path, sizeof(path), "%s/results.csv", o.out);
	if ((r = hk_dir_create(w.certs, 0755)) != 0)
		goto out;
	if ((w.results = fopen(path, "wx")) == NULL) {
		hk_err_set("%s: cannot create the results file", path);
		r = HK_ERR_IO;
		goto out;
	}
	fprintf(w.results, "line,result,serial_or_reason\n");
	hk_online_audit(w.on, "issue.start", "ok", "batch %s", o.batch);
	r = run_batch(&w, &o);
	hk_online_audit(w.on, "issue.done", r == 0 ? "ok" : "fail",
	    "batch %s: %zu issued, %zu refused", o.batch, w.ok, w.refused);
	if (r == 0)
		r = hk_online_checkpoint(w.on);
	else
		hk_online_checkpoint_keep_err(w.on);
	if (r != 0)
		goto out;
	printf("%s: %zu issued, %zu refused; results in %s\n", o.batch, w.ok,
	    w.refused, path);
	if (w.refused > 0) {
		hk_err_set("%s: %zu of %zu requests refused (see %s)", o.batch,
		    w.refused, w.ok + w.refused, path);
		r = HK_ERR_INVALID;
	}
out:
	work_close(&w);
	return r;
}

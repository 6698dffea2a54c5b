/*
 * bundle.c - writing, verifying and importing signed bundles
 * (media-format/SPEC.md; section numbers in messages are SPEC's).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "atomic.h"
#include "bundle.h"
#include "cert.h"
#include "clock.h"
#include "err.h"
#include "hex.h"

static const char *const bundle_types[] = {
	"root-generation",	/* a new root self-signed certificate + links */
	"link-certs",		/* OldWithNew / NewWithOld link certificates */
	"issuing-ca-cert",	/* the online issuing CA's certificate */
	"arl-batch",		/* pre-signed ARLs for the coming weeks */
	"cross-pair",		/* cross certificates / CertificatePair */
	"responder-certs",	/* OCSP and validation server certificates */
	"csr",			/* a CSR from the online side to the root */
	"revocation-request",	/* a request to revoke a root-issued cert */
};

int
hk_bundle_type_ok(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(bundle_types) / sizeof(bundle_types[0]); i++)
		if (strcmp(type, bundle_types[i]) == 0)
			return 1;
	return 0;
}

int
hk_bundle_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > HK_BUNDLE_MAX_NAME || name[0] == '.' ||
	    strstr(name, "..") != NULL ||
	    strcmp(name, HK_BUNDLE_MANIFEST) == 0 ||
	    strcmp(name, HK_BUNDLE_SIGNATURE) == 0)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Why a name is refused, for messages. */
static const char *
name_rule(const char *name)
{
	if (name[0] == '\0')
		return "empty name";
	if (strlen(name) > HK_BUNDLE_MAX_NAME)
		return "name longer than 100 bytes";
	if (strchr(name, '/') != NULL)
		return "name contains '/'";
	if (name[0] == '.')
		return "name starts with '.'";
	if (strstr(name, "..") != NULL)
		return "name contains '..'";
	if (strcmp(name, HK_BUNDLE_MANIFEST) == 0 ||
	    strcmp(name, HK_BUNDLE_SIGNATURE) == 0)
		return "reserved name";
	return "name has a byte outside [A-Za-z0-9._-]";
}

/* ---------------------------------------------------------------- */
/* The manifest (SPEC 4). */

/* Untrusted text for a message: at most cap-1 bytes, anything outside
 * [A-Za-z0-9._-] shown as '?', so nothing raw reaches a terminal. */
static const char *
safe(const char *s, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < cap; i++)
		buf[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-' ? s[i] : '?');
	buf[i] = '\0';
	return buf;
}

void
hk_bundle_manifest_free(struct hk_bundle_manifest *m)
{
	if (m == NULL)
		return;
	free(m->files);
	free(m);
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct hk_bundle_entry *)a)->name,
	    ((const struct hk_bundle_entry *)b)->name);
}

int
hk_bundle_manifest_encode(const struct hk_bundle_manifest *m, char **out,
    size_t *len)
{
	char tm[32], sid[41], h[65], *buf;
	size_t cap, off = 0, i;
	int n;

	*out = NULL;
	*len = 0;
	if (m->nfiles == 0 || m->nfiles > HK_BUNDLE_MAX_FILES)
		return HK_ERR_INVALID;
	cap = 256 + m->nfiles * (HK_BUNDLE_MAX_NAME + 100);
	if ((buf = malloc(cap)) == NULL)
		return HK_ERR_ALLOC;
	hk_time_format(m->created, tm, sizeof(tm));
	hk_hex_encode(m->signer, sizeof(m->signer), sid);
	n = snprintf(buf, cap, "hanko-bundle %d\ntype %s\nsequence %" PRIu64
	    "\ncreated %s\nsigner %s\nfiles %zu\n", m->version, m->type,
	    m->sequence, tm, sid, m->nfiles);
	if (n < 0 || (size_t)n >= cap)
		goto toolong;
	off = (size_t)n;
	for (i = 0; i < m->nfiles; i++) {
		hk_hex_encode(m->files[i].sha256, 32, h);
		n = snprintf(buf + off, cap - off, "file %s %" PRIu64 " %s\n",
		    h, m->files[i].size, m->files[i].name);
		if (n < 0 || (size_t)n >= cap - off)
			goto toolong;
		off += (size_t)n;
	}
	n = snprintf(buf + off, cap - off, "end\n");
	if (n < 0 || (size_t)n >= cap - off)
		goto toolong;
	off += (size_t)n;
	if (off > HK_BUNDLE_MAX_MANIFEST)
		goto toolong;
	*out = buf;
	*len = off;
	return 0;
 toolong:
	free(buf);
	hk_err_set("manifest: SPEC 5: longer than %d bytes",
	    HK_BUNDLE_MAX_MANIFEST);
	return HK_ERR_INVALID;
}

/* Strict decimal: no sign, no leading zero, at most 18 digits. */
static int
parse_dec(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (hk_dec_parse(s, strlen(s), 18, &v) != 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Next line of the manifest into line (without '\n'); -1 at the end,
 * -2 when a line has no '\n' or is too long or holds a NUL. */
static int
next_line(const unsigned char *buf, size_t len, size_t *pos, char *line,
    size_t cap)
{
	size_t start = *pos, i;

	if (start >= len)
		return -1;
	for (i = start; i < len && buf[i] != '\n'; i++)
		if (buf[i] == '\0' || i - start + 1 >= cap)
			return -2;
	if (i == len)
		return -2;
	memcpy(line, buf + start, i - start);
	line[i - start] = '\0';
	*pos = i + 1;
	return 0;
}

/* "key value" with key as given: the value, or NULL. */
static const char *
field(const char *line, const char *key)
{
	size_t k = strlen(key);

	if (strncmp(line, key, k) != 0 || line[k] != ' ')
		return NULL;
	return line + k + 1;
}

static int
parse_file_line(const char *v, struct hk_bundle_entry *e)
{
	const char *sp1, *sp2;
	char num[24];

	/* <64 hex> SP <size> SP <name> */
	if (strlen(v) < 64 + 1 || v[64] != ' ')
		return -1;
	{
		char h[65];
		memcpy(h, v, 64);
		h[64] = '\0';
		if (hk_hex_decode(h, e->sha256, 32) != 0)
			return -1;
	}
	sp1 = v + 64;
	if ((sp2 = strchr(sp1 + 1, ' ')) == NULL)
		return -3;		/* no name */
	if ((size_t)(sp2 - sp1 - 1) >= sizeof(num))
		return -2;		/* longer than any allowed size */
	memcpy(num, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	num[sp2 - sp1 - 1] = '\0';
	if (parse_dec(num, HK_BUNDLE_MAX_FILE, &e->size) != 0)
		return -2;
	if (strlen(sp2 + 1) > HK_BUNDLE_MAX_NAME ||
	    !hk_bundle_name_ok(sp2 + 1))
		return -3;
	strcpy(e->name, sp2 + 1);
	return 0;
}

int
hk_bundle_manifest_parse(const unsigned char *buf, size_t len,
    const char *what, struct hk_bundle_manifest **out)
{
	struct hk_bundle_manifest *m = NULL;
	char line[512], tb[41], *enc = NULL;
	const char *v;
	size_t pos = 0, i, enclen;
	uint64_t u, total = 0;
	int ln = 0, r = HK_ERR_PARSE, k;

	*out = NULL;
	if (len > HK_BUNDLE_MAX_MANIFEST) {
		hk_err_set("%s: SPEC 5: manifest longer than %d bytes", what,
		    HK_BUNDLE_MAX_MANIFEST);
		return HK_ERR_INVALID;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return HK_ERR_ALLOC;
#define NEXT() do {							\
	ln++;								\
	if ((k = next_line(buf, len, &pos, line, sizeof(line))) != 0) {	\
		hk_err_set("%s:%d: SPEC 4.1: %s", what, ln, k == -1 ?	\
		    "manifest ends early" : "line without LF, with NUL "	\
		    "or longer than 511 bytes");			\
		goto out;						\
	}								\
} while (0)
#define BAD(...) do { hk_err_set(__VA_ARGS__); goto out; } while (0)
	NEXT();
	if (strcmp(line, "hanko-bundle 1") != 0) {
		if (strncmp(line, "hanko-bundle ", 13) == 0 && line[13] &&
		    strspn(line + 13, "0123456789") == strlen(line + 13))
			BAD("%s:1: SPEC 9: format version %.20s is not 1 "
			    "(unknown versions are refused)", what, line + 13);
		BAD("%s:1: SPEC 4.1: first line must be \"hanko-bundle 1\"",
		    what);
	}
	m->version = 1;
	NEXT();
	if ((v = field(line, "type")) == NULL)
		BAD("%s:%d: SPEC 4.1: expected \"type <type>\"", what, ln);
	if (!hk_bundle_type_ok(v))
		BAD("%s:%d: type: SPEC 4.2: unknown type \"%s\"", what, ln,
		    safe(v, tb, sizeof(tb)));
	strcpy(m->type, v);
	NEXT();
	if ((v = field(line, "sequence")) == NULL)
		BAD("%s:%d: SPEC 4.1: expected \"sequence <n>\"", what, ln);
	if (parse_dec(v, HK_BUNDLE_MAX_SEQ, &m->sequence) != 0 ||
	    m->sequence == 0)
		BAD("%s:%d: sequence: SPEC 4.3: must be a decimal 1.."
		    "999999999999999999 without leading zeros", what, ln);
	NEXT();
	if ((v = field(line, "created")) == NULL)
		BAD("%s:%d: SPEC 4.1: expected \"created <time>\"", what, ln);
	{
		char back[32];
		if (hk_time_parse(v, &m->created) != 0)
			BAD("%s:%d: created: SPEC 4.3: must be "
			    "YYYY-MM-DDTHH:MM:SSZ", what, ln);
		hk_time_format(m->created, back, sizeof(back));
		if (strcmp(back, v) != 0)
			BAD("%s:%d: created: SPEC 4.3: not a canonical UTC "
			    "time", what, ln);
	}
	NEXT();
	if ((v = field(line, "signer")) == NULL)
		BAD("%s:%d: SPEC 4.1: expected \"signer <key id>\"", what, ln);
	if (strlen(v) != 40 || hk_hex_decode(v, m->signer, 20) != 0)
		BAD("%s:%d: signer: SPEC 4.3: must be 40 lowercase hex digits",
		    what, ln);
	NEXT();
	if ((v = field(line, "files")) == NULL)
		BAD("%s:%d: SPEC 4.1: expected \"files <n>\"", what, ln);
	if (parse_dec(v, HK_BUNDLE_MAX_FILES, &u) != 0 || u == 0)
		BAD("%s:%d: files: SPEC 5: must be 1..%d", what, ln,
		    HK_BUNDLE_MAX_FILES);
	m->nfiles = (size_t)u;
	if ((m->files = calloc(m->nfiles, sizeof(*m->files))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < m->nfiles; i++) {
		NEXT();
		if ((v = field(line, "file")) == NULL)
			BAD("%s:%d: SPEC 4.1: expected \"file <sha256> <size> "
			    "<name>\" (%zu of %zu)", what, ln, i + 1,
			    m->nfiles);
		switch (parse_file_line(v, &m->files[i])) {
		case 0:
			break;
		case -2:
			BAD("%s:%d: size: SPEC 5: must be a decimal 0..%u "
			    "without leading zeros", what, ln,
			    HK_BUNDLE_MAX_FILE);
		case -3:
			BAD("%s:%d: name: SPEC 3: not an allowed name", what,
			    ln);
		default:
			BAD("%s:%d: sha256: SPEC 4.3: must be 64 lowercase hex "
			    "digits then one space", what, ln);
		}
		if (i > 0 && strcmp(m->files[i - 1].name, m->files[i].name) >= 0)
			BAD("%s:%d: name: SPEC 4.1: files must be sorted by "
			    "name, each once (\"%s\" after \"%s\")", what, ln,
			    m->files[i].name, m->files[i - 1].name);
		total += m->files[i].size;
		if (total > HK_BUNDLE_MAX_TOTAL)
			BAD("%s:%d: size: SPEC 5: files total more than %u "
			    "bytes", what, ln, HK_BUNDLE_MAX_TOTAL);
	}
	NEXT();
	if (strcmp(line, "end") != 0)
		BAD("%s:%d: SPEC 4.1: expected \"end\" after %zu file lines",
		    what, ln, m->nfiles);
	if (pos != len)
		BAD("%s:%d: SPEC 4.1: bytes after \"end\"", what, ln + 1);
#undef NEXT
#undef BAD
	/* Belt and braces: what was read must be the canonical encoding. */
	if ((r = hk_bundle_manifest_encode(m, &enc, &enclen)) != 0)
		goto out;
	if (enclen != len || memcmp(enc, buf, len) != 0) {
		hk_err_set("%s: SPEC 4.1: not in canonical form", what);
		r = HK_ERR_PARSE;
		goto out;
	}
	crypto_hash_sha256(m->digest, buf, len);
	*out = m;
	m = NULL;
	r = 0;
 out:
	free(enc);
	hk_bundle_manifest_free(m);
	return r;
}

/* ---------------------------------------------------------------- */
/* Signing and checking the signature (SPEC 6). */

/*
 * The shape of manifest.sig (SPEC 6.1), as OpenSSL ASN.1 templates: what
 * RFC 5652 SignedData says, with the fields OpenSSL's CMS code does not
 * check (versions, the outer digestAlgorithms, algorithm parameters,
 * unsigned attributes) held where we can check them, and the DER encoding
 * compared byte for byte. A single changed bit anywhere is refused.
 */
typedef struct {
	ASN1_INTEGER *version;
	ASN1_TYPE *sid;
	X509_ALGOR *digest_alg;
	STACK_OF(X509_ATTRIBUTE) *signed_attrs;
	X509_ALGOR *sig_alg;
	ASN1_OCTET_STRING *sig;
	STACK_OF(X509_ATTRIBUTE) *unsigned_attrs;
} HK_SI;

ASN1_SEQUENCE(HK_SI) = {
	ASN1_SIMPLE(HK_SI, version, ASN1_INTEGER),
	ASN1_SIMPLE(HK_SI, sid, ASN1_ANY),
	ASN1_SIMPLE(HK_SI, digest_alg, X509_ALGOR),
	ASN1_IMP_SET_OF_OPT(HK_SI, signed_attrs, X509_ATTRIBUTE, 0),
	ASN1_SIMPLE(HK_SI, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(HK_SI, sig, ASN1_OCTET_STRING),
	ASN1_IMP_SET_OF_OPT(HK_SI, unsigned_attrs, X509_ATTRIBUTE, 1)
} static_ASN1_SEQUENCE_END(HK_SI)

DEFINE_STACK_OF(HK_SI)

typedef struct {
	ASN1_OBJECT *type;
	ASN1_OCTET_STRING *content;
} HK_ECI;

ASN1_SEQUENCE(HK_ECI) = {
	ASN1_SIMPLE(HK_ECI, type, ASN1_OBJECT),
	ASN1_EXP_OPT(HK_ECI, content, ASN1_OCTET_STRING, 0)
} static_ASN1_SEQUENCE_END(HK_ECI)

typedef struct {
	ASN1_INTEGER *version;
	STACK_OF(X509_ALGOR) *digest_algs;
	HK_ECI *eci;
	STACK_OF(X509) *certs;
	STACK_OF(ASN1_TYPE) *crls;
	STACK_OF(HK_SI) *signer_infos;
} HK_SD;

ASN1_SEQUENCE(HK_SD) = {
	ASN1_SIMPLE(HK_SD, version, ASN1_INTEGER),
	ASN1_SET_OF(HK_SD, digest_algs, X509_ALGOR),
	ASN1_SIMPLE(HK_SD, eci, HK_ECI),
	ASN1_IMP_SET_OF_OPT(HK_SD, certs, X509, 0),
	ASN1_IMP_SET_OF_OPT(HK_SD, crls, ASN1_ANY, 1),
	ASN1_SET_OF(HK_SD, signer_infos, HK_SI)
} static_ASN1_SEQUENCE_END(HK_SD)

typedef struct {
	ASN1_OBJECT *type;
	HK_SD *sd;
} HK_CI;

ASN1_SEQUENCE(HK_CI) = {
	ASN1_SIMPLE(HK_CI, type, ASN1_OBJECT),
	ASN1_EXP(HK_CI, sd, HK_SD, 0)
} static_ASN1_SEQUENCE_END(HK_CI)

typedef struct {
	X509_NAME *issuer;
	ASN1_INTEGER *serial;
} HK_IAS;

ASN1_SEQUENCE(HK_IAS) = {
	ASN1_SIMPLE(HK_IAS, issuer, X509_NAME),
	ASN1_SIMPLE(HK_IAS, serial, ASN1_INTEGER)
} static_ASN1_SEQUENCE_END(HK_IAS)

/*
 * The signer identifier must be byte for byte the issuerAndSerialNumber
 * of the included certificate: OpenSSL matches names case-insensitively
 * (X509_NAME_cmp on the canonical form), so "jp" would match "JP".
 */
static int
sid_is_cert(const ASN1_TYPE *sid, X509 *cert)
{
	HK_IAS ias;
	unsigned char *enc = NULL;
	int n, ok;

	ias.issuer = X509_get_issuer_name(cert);
	ias.serial = (ASN1_INTEGER *)X509_get0_serialNumber(cert);
	n = ASN1_item_i2d((ASN1_VALUE *)&ias, &enc, ASN1_ITEM_rptr(HK_IAS));
	ok = n > 0 && sid->type == V_ASN1_SEQUENCE &&
	    sid->value.sequence->length == n &&
	    memcmp(sid->value.sequence->data, enc, (size_t)n) == 0;
	OPENSSL_free(enc);
	return ok;
}

/* parameters of an AlgorithmIdentifier: 1 absent, 2 NULL, 0 other */
static int
alg_params(const X509_ALGOR *a)
{
	int ptype;
	const void *pval;

	X509_ALGOR_get0(NULL, &ptype, &pval, a);
	return ptype == V_ASN1_UNDEF ? 1 : ptype == V_ASN1_NULL ? 2 : 0;
}

static int
int_is(const ASN1_INTEGER *i, long v)
{
	return ASN1_INTEGER_get(i) == v && i->type == V_ASN1_INTEGER;
}

/* SPEC 6.1's profile of the SignedData, on the exact DER bytes. */
static int
check_shape(const unsigned char *sig, size_t slen, const char *what)
{
	HK_CI *ci = NULL;
	HK_SD *sd;
	HK_SI *si;
	const unsigned char *p = sig;
	unsigned char *enc = NULL;
	const char *rule = NULL;
	int n, dnid, snid, r = HK_ERR_PARSE;

	ci = (HK_CI *)ASN1_item_d2i(NULL, &p, (long)slen, ASN1_ITEM_rptr(HK_CI));
	if (ci == NULL || p != sig + slen) {
		rule = "not one DER CMS ContentInfo (or bytes after it)";
		goto out;
	}
	n = ASN1_item_i2d((ASN1_VALUE *)ci, &enc, ASN1_ITEM_rptr(HK_CI));
	if (n <= 0 || (size_t)n != slen || memcmp(enc, sig, slen) != 0) {
		rule = "not in DER (distinguished) encoding";
		goto out;
	}
	sd = ci->sd;
	if (OBJ_obj2nid(ci->type) != NID_pkcs7_signed) {
		rule = "contentType must be id-signedData";
		goto out;
	}
	if (!int_is(sd->version, 1)) {
		rule = "SignedData version must be 1";
		goto out;
	}
	if (OBJ_obj2nid(sd->eci->type) != NID_pkcs7_data ||
	    sd->eci->content != NULL) {
		rule = "encapContentInfo must be id-data with no content "
		    "(detached)";
		goto out;
	}
	if (sk_X509_num(sd->certs) != 1 || sd->crls != NULL) {
		rule = "certificates must hold exactly the signer's "
		    "certificate, and no CRLs";
		goto out;
	}
	if (sk_HK_SI_num(sd->signer_infos) != 1) {
		rule = "must hold exactly one SignerInfo";
		goto out;
	}
	si = sk_HK_SI_value(sd->signer_infos, 0);
	if (!int_is(si->version, 1) ||
	    !sid_is_cert(si->sid, sk_X509_value(sd->certs, 0))) {
		rule = "SignerInfo version must be 1, with the exact "
		    "issuerAndSerialNumber of the included certificate";
		goto out;
	}
	if (si->signed_attrs == NULL || si->unsigned_attrs != NULL) {
		rule = "signed attributes required, unsigned ones refused";
		goto out;
	}
	dnid = OBJ_obj2nid(si->digest_alg->algorithm);
	if ((dnid != NID_sha256 && dnid != NID_sha384 && dnid != NID_sha512) ||
	    alg_params(si->digest_alg) != 1) {
		rule = "digest must be SHA-256, -384 or -512 with absent "
		    "parameters";
		goto out;
	}
	if (sk_X509_ALGOR_num(sd->digest_algs) != 1 ||
	    X509_ALGOR_cmp(sk_X509_ALGOR_value(sd->digest_algs, 0),
	    si->digest_alg) != 0) {
		rule = "digestAlgorithms must be exactly the signer's digest";
		goto out;
	}
	snid = OBJ_obj2nid(si->sig_alg->algorithm);
	if (!((snid == NID_rsaEncryption && alg_params(si->sig_alg) == 2) ||
	    ((snid == NID_ecdsa_with_SHA256 || snid == NID_ecdsa_with_SHA384 ||
	    snid == NID_ecdsa_with_SHA512) && alg_params(si->sig_alg) == 1))) {
		rule = "signatureAlgorithm must be rsaEncryption (NULL "
		    "parameters) or ecdsa-with-SHA256/384/512";
		goto out;
	}
	r = 0;
 out:
	if (rule != NULL)
		hk_err_set("%s: SPEC 6.1: %s", what, rule);
	OPENSSL_free(enc);
	ASN1_item_free((ASN1_VALUE *)ci, ASN1_ITEM_rptr(HK_CI));
	ERR_clear_error();
	return r;
}

static int
sign_manifest(const char *manifest, size_t mlen, EVP_PKEY *key, X509 *cert,
    unsigned char **sig, size_t *slen)
{
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL;
	unsigned char *der = NULL, *p;
	int n, r = HK_ERR_CRYPTO;

	*sig = NULL;
	*slen = 0;
	if ((in = BIO_new_mem_buf(manifest, (int)mlen)) == NULL)
		goto out;
	/* Detached, binary (no MIME canonicalisation), the signer's
	 * certificate included, SHA-256, no S/MIME capabilities. */
	cms = CMS_sign(NULL, NULL, NULL, NULL,
	    CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP);
	if (cms == NULL ||
	    CMS_add1_signer(cms, cert, key, EVP_sha256(), CMS_BINARY |
	    CMS_NOSMIMECAP) == NULL ||
	    CMS_final(cms, in, NULL, CMS_DETACHED | CMS_BINARY) != 1) {
		hk_err_set("manifest: CMS signing failed");
		hk_err_add_openssl();
		goto out;
	}
	if ((n = i2d_CMS_ContentInfo(cms, NULL)) <= 0 ||
	    n > HK_BUNDLE_MAX_SIG || (der = malloc((size_t)n)) == NULL) {
		hk_err_set("manifest.sig: cannot encode (%d bytes)", n);
		goto out;
	}
	p = der;
	if (i2d_CMS_ContentInfo(cms, &p) != n)
		goto out;
	*sig = der;
	*slen = (size_t)n;
	der = NULL;
	r = 0;
 out:
	free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return r;
}

/* cert valid at the clock's now? */
static int
valid_now(X509 *c)
{
	return hk_cert_valid_at(c, hk_clock_now());
}

/* cert's validity begun at the clock's now (its end not looked at)? */
static int
begun_now(X509 *c)
{
	time_t now = hk_clock_now();

	return X509_cmp_time(X509_get0_notBefore(c), &now) < 0;
}

static int
same_key(EVP_PKEY *a, EVP_PKEY *b)
{
	return a != NULL && b != NULL && EVP_PKEY_eq(a, b) == 1;
}

/*
 * A link certificate usable from a trusted key (SPEC 6.2). Its validity
 * must have begun; its end does not matter: a NewWithOld link ends with the
 * old root (PROFILE.md), but the key it certified stays a root key, and
 * what is then checked is the signer's own certificate.
 */
static int
link_ok(X509 *l, EVP_PKEY *from)
{
	/* X509_verify: 1 is good; 0 and -1 are failures. */
	return X509_verify(l, from) == 1 && begun_now(l) &&
	    X509_NAME_cmp(X509_get_subject_name(l),
	    X509_get_issuer_name(l)) == 0 &&
	    X509_check_ca(l) == 1 &&
	    (X509_get_key_usage(l) & KU_KEY_CERT_SIGN) != 0;
}

/*
 * The trusted keys: the anchor's, then each NewWithOld link's subject key
 * whose signature verifies under a key already trusted (SPEC 6.2). Is the
 * signer certificate trusted? Either its key is a trusted key and it is
 * self-signed, or it is issued (signature verifies) by a trusted key under
 * the anchor's name. The signer must be valid at hk_clock_now(); the
 * anchor and the links are the path by which a key became trusted and
 * need only have begun: once root generation 1 and its NewWithOld link
 * end, generation 2's bundles still verify while generation 2 is valid.
 */
static int
signer_trusted(X509 *signer, const struct hk_bundle_trust *t, const char *what)
{
	EVP_PKEY *keys[HK_BUNDLE_MAX_LINKS + 1], *spub;
	int used[HK_BUNDLE_MAX_LINKS] = { 0 };
	int nkeys = 0, nlinks, i, j, grew;

	if (t == NULL || t->anchor == NULL) {
		hk_err_set("%s: SPEC 6.2: no pinned root certificate given",
		    what);
		return HK_ERR_USAGE;
	}
	nlinks = t->links ? sk_X509_num(t->links) : 0;
	if (nlinks > HK_BUNDLE_MAX_LINKS) {
		hk_err_set("%s: SPEC 6.2: more than %d link certificates",
		    what, HK_BUNDLE_MAX_LINKS);
		return HK_ERR_INVALID;
	}
	if (!begun_now(t->anchor)) {
		hk_err_set("%s: SPEC 6.2: the pinned root certificate is not "
		    "valid yet", what);
		return HK_ERR_VERIFY;
	}
	keys[nkeys++] = X509_get0_pubkey(t->anchor);
	do {
		grew = 0;
		for (i = 0; i < nlinks; i++) {
			X509 *l = sk_X509_value(t->links, i);
			if (used[i])
				continue;
			for (j = 0; j < nkeys; j++) {
				if (link_ok(l, keys[j])) {
					used[i] = 1;
					keys[nkeys++] = X509_get0_pubkey(l);
					grew = 1;
					break;
				}
			}
		}
	} while (grew);
	ERR_clear_error();
	spub = X509_get0_pubkey(signer);
	if (!valid_now(signer)) {
		hk_err_set("%s: SPEC 6.2: the signer certificate is not valid "
		    "now", what);
		return HK_ERR_VERIFY;
	}
	/* The pinned root's key signs only as the pinned certificate: a
	 * self-signed certificate of that key is dated by whoever holds it,
	 * so another one would let a retired key outlive its root; and what
	 * it issued counts only while the pinned root is valid. */
	if (same_key(spub, keys[0]) && X509_cmp(signer, t->anchor) != 0) {
		hk_err_set("%s: SPEC 6.2: the signer has the pinned root's key "
		    "but is not the pinned root certificate", what);
		return HK_ERR_VERIFY;
	}
	for (j = 0; j < nkeys; j++) {
		if (same_key(spub, keys[j])) {
			if (X509_verify(signer, spub) == 1)
				return 0;
			ERR_clear_error();
		}
	}
	for (j = 0; j < nkeys; j++) {
		/* the anchor's key, also when a link (an OldWithNew one)
		 * certifies it again: only while the pinned root is valid */
		if ((j == 0 || same_key(keys[j], keys[0])) &&
		    !valid_now(t->anchor))
			continue;
		if (X509_verify(signer, keys[j]) == 1 &&
		    X509_NAME_cmp(X509_get_issuer_name(signer),
		    X509_get_subject_name(t->anchor)) == 0)
			return 0;
		ERR_clear_error();
	}
	hk_err_set("%s: SPEC 6.2: the signer is neither the pinned root nor "
	    "a root generation linked to it, nor certified by one", what);
	return HK_ERR_VERIFY;
}

/* hk_bundle_check_signature, also handing out (up-referenced) the signer
 * certificate when signer_out is not NULL. */
static int
check_signature(const unsigned char *manifest, size_t mlen,
    const unsigned char *sig, size_t slen, const struct hk_bundle_trust *t,
    const char *what, unsigned char signer_id[20], X509 **signer_out)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(X509) *signers = NULL;
	X509_ALGOR *dig = NULL, *salg = NULL;
	BIO *content = NULL;
	const unsigned char *p = sig;
	int nid, r = HK_ERR_VERIFY;

	memset(signer_id, 0, 20);
	if (slen == 0 || slen > HK_BUNDLE_MAX_SIG) {
		hk_err_set("%s: SPEC 5: signature empty or longer than %d "
		    "bytes", what, HK_BUNDLE_MAX_SIG);
		return HK_ERR_INVALID;
	}
	if ((r = check_shape(sig, slen, what)) != 0)
		goto out;
	r = HK_ERR_VERIFY;
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)slen)) == NULL ||
	    p != sig + slen) {
		hk_err_set("%s: SPEC 6.1: not one DER CMS ContentInfo (or "
		    "bytes after it)", what);
		r = HK_ERR_PARSE;
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
	    CMS_is_detached(cms) != 1) {
		hk_err_set("%s: SPEC 6.1: must be a detached SignedData", what);
		r = HK_ERR_PARSE;
		goto out;
	}
	if ((sis = CMS_get0_SignerInfos(cms)) == NULL ||
	    sk_CMS_SignerInfo_num(sis) != 1) {
		hk_err_set("%s: SPEC 6.1: must hold exactly one SignerInfo",
		    what);
		r = HK_ERR_PARSE;
		goto out;
	}
	CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, 0), NULL, NULL,
	    &dig, &salg);
	nid = dig ? OBJ_obj2nid(dig->algorithm) : NID_undef;
	if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512) {
		hk_err_set("%s: SPEC 6.1: digest must be SHA-256, -384 or "
		    "-512", what);
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((content = BIO_new_mem_buf(mlen ? manifest : (const void *)"",
	    (int)mlen)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	/* The signature and content digest with the included signer
	 * certificate; the trust decision is signer_trusted()'s. */
	if (CMS_verify(cms, NULL, NULL, content, NULL, CMS_BINARY |
	    CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		hk_err_set("%s: SPEC 6.1: the signature does not verify over "
		    "the manifest", what);
		hk_err_add_openssl();
		goto out;
	}
	if ((signers = CMS_get0_signers(cms)) == NULL ||
	    sk_X509_num(signers) != 1) {
		hk_err_set("%s: SPEC 6.1: the signer certificate must be "
		    "included", what);
		goto out;
	}
	if ((r = signer_trusted(sk_X509_value(signers, 0), t, what)) != 0)
		goto out;
	if (hk_cert_key_id(X509_get0_pubkey(sk_X509_value(signers, 0)),
	    signer_id) != 0) {
		r = HK_ERR_CRYPTO;
		goto out;
	}
	if (signer_out != NULL) {
		*signer_out = sk_X509_value(signers, 0);
		X509_up_ref(*signer_out);
	}
	r = 0;
 out:
	sk_X509_free(signers);
	BIO_free(content);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}

int
hk_bundle_check_signature(const unsigned char *manifest, size_t mlen,
    const unsigned char *sig, size_t slen, const struct hk_bundle_trust *t,
    const char *what, unsigned char signer_id[20])
{
	return check_signature(manifest, mlen, sig, slen, t, what, signer_id,
	    NULL);
}

/* ---------------------------------------------------------------- */
/* The folder (SPEC 3, 7). */

/* Read the regular file name in folder dfd: no links, at most max bytes. */
static int
read_at(int dfd, const char *dir, const char *name, size_t max,
    unsigned char **buf, size_t *len)
{
	struct stat st;
	unsigned char *b = NULL;
	size_t got = 0;
	int fd, r = HK_ERR_IO;

	*buf = NULL;
	*len = 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd < 0) {
		hk_err_set("%s/%s: SPEC 7: cannot open: %s", dir, name,
		    strerror(errno));
		return errno == ENOENT ? HK_ERR_NOT_FOUND :
		    errno == ELOOP ? HK_ERR_INVALID : HK_ERR_IO;
	}
	/* a stat or read that fails is said with the system's error and the
	 * file named (a bare "input/output error"; "file grew while read"
	 * of a read that failed) */
	if (fstat(fd, &st) != 0) {
		hk_err_set("%s/%s: cannot stat: %s", dir, name,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		hk_err_set("%s/%s: SPEC 3: not a regular file", dir, name);
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		hk_err_set("%s/%s: SPEC 5: longer than %zu bytes", dir, name,
		    max);
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((b = malloc((size_t)st.st_size + 1)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hk_err_set("%s/%s: cannot read: %s", dir, name,
			    strerror(errno));
			goto out;
		}
		if (n == 0) {
			hk_err_set("%s/%s: file shrank while read", dir, name);
			goto out;
		}
		got += (size_t)n;
	}
	{
		unsigned char extra;
		ssize_t n;

		while ((n = read(fd, &extra, 1)) < 0 && errno == EINTR)
			;
		if (n < 0) {
			hk_err_set("%s/%s: cannot read: %s", dir, name,
			    strerror(errno));
			goto out;
		}
		if (n != 0) {
			hk_err_set("%s/%s: file grew while read", dir, name);
			goto out;
		}
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	b = NULL;
	r = 0;
 out:
	free(b);
	close(fd);
	return r;
}

struct dirlist {
	char **names;		/* entry names except . and .., sorted */
	size_t n;
};

static void
dirlist_free(struct dirlist *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	d->names = NULL;
	d->n = 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every entry of the bundle folder must be manifest, manifest.sig or an
 * allowed payload name, and a regular file with one link (SPEC 3, 7 1-3).
 */
static int
scan_dir(int dfd, const char *dir, struct dirlist *out)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	int fd, r = HK_ERR_INVALID;

	out->names = NULL;
	out->n = 0;
	if ((fd = dup(dfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		hk_err_set("%s: cannot list: %s", dir, strerror(errno));
		return HK_ERR_IO;
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		char **nn;

		if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
			continue;
		if (strcmp(nm, HK_BUNDLE_MANIFEST) != 0 &&
		    strcmp(nm, HK_BUNDLE_SIGNATURE) != 0 &&
		    !hk_bundle_name_ok(nm)) {
			char sb[121];
			hk_err_set("%s/%s: SPEC 3: %s", dir,
			    safe(nm, sb, sizeof(sb)), name_rule(nm));
			goto out;
		}
		if (fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			hk_err_set("%s/%s: cannot stat: %s", dir, nm,
			    strerror(errno));
			r = HK_ERR_IO;
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			hk_err_set("%s/%s: SPEC 3: %s, not a regular file",
			    dir, nm, S_ISLNK(st.st_mode) ? "a symbolic link" :
			    S_ISDIR(st.st_mode) ? "a folder" :
			    S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ?
			    "a device" : "a fifo or socket");
			goto out;
		}
		if (st.st_nlink != 1) {
			hk_err_set("%s/%s: SPEC 3: a hard link (%ju links), "
			    "not a plain file", dir, nm,
			    (uintmax_t)st.st_nlink);
			goto out;
		}
		if (out->n >= HK_BUNDLE_MAX_FILES + 2) {
			hk_err_set("%s: SPEC 5: more than %d files", dir,
			    HK_BUNDLE_MAX_FILES + 2);
			goto out;
		}
		if ((nn = realloc(out->names, (out->n + 1) *
		    sizeof(*nn))) == NULL) {
			r = HK_ERR_ALLOC;
			goto out;
		}
		out->names = nn;
		if ((out->names[out->n] = strdup(nm)) == NULL) {
			r = HK_ERR_ALLOC;
			goto out;
		}
		out->n++;
	}
	if (errno != 0) {
		hk_err_set("%s: cannot list: %s", dir, strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	if (out->n > 1)
		qsort(out->names, out->n, sizeof(*out->names), cmp_str);
	r = 0;
 out:
	closedir(d);
	if (r != 0)
		dirlist_free(out);
	return r;
}

static int
open_dir(const char *dir, int *dfd)
{
	*dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*dfd < 0) {
		hk_err_set("%s: SPEC 3: not a folder (or a symbolic link): %s",
		    dir, strerror(errno));
		return errno == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_INVALID;
	}
	return 0;
}

static int
in_list(const struct dirlist *d, const char *name)
{
	return bsearch(&name, d->names, d->n, sizeof(*d->names),
	    cmp_str) != NULL;
}

int
hk_bundle_verify(const char *dir, const struct hk_bundle_trust *t,
    struct hk_bundle_manifest **out)
{
	return hk_bundle_verify_rule(dir, t, NULL, NULL, out);
}

int
hk_bundle_verify_rule(const char *dir, const struct hk_bundle_trust *t,
    hk_bundle_rule_fn rule, void *arg, struct hk_bundle_manifest **out)
{
	struct hk_bundle_manifest *m = NULL;
	struct dirlist dl = { 0 };
	X509 *signer = NULL;
	unsigned char *man = NULL, *sig = NULL, *data = NULL;
	unsigned char sid[20], h[32];
	char what[PATH_MAX + 32], hx[41];
	size_t mlen, slen, dlen, i;
	int dfd = -1, r;

	if (out != NULL)
		*out = NULL;
	if ((r = open_dir(dir, &dfd)) != 0)
		return r;
	if ((r = scan_dir(dfd, dir, &dl)) != 0)
		goto out;
	if ((r = read_at(dfd, dir, HK_BUNDLE_MANIFEST, HK_BUNDLE_MAX_MANIFEST,
	    &man, &mlen)) != 0 || (r = read_at(dfd, dir, HK_BUNDLE_SIGNATURE,
	    HK_BUNDLE_MAX_SIG, &sig, &slen)) != 0)
		goto out;
	/* Signature first: the manifest parser sees only signed bytes. */
	snprintf(what, sizeof(what), "%s/%s", dir, HK_BUNDLE_SIGNATURE);
	if ((r = check_signature(man, mlen, sig, slen, t, what, sid,
	    &signer)) != 0)
		goto out;
	snprintf(what, sizeof(what), "%s/%s", dir, HK_BUNDLE_MANIFEST);
	if ((r = hk_bundle_manifest_parse(man, mlen, what, &m)) != 0)
		goto out;
	if (memcmp(sid, m->signer, 20) != 0) {
		hk_hex_encode(sid, 20, hx);
		hk_err_set("%s: signer: SPEC 4.3: names another key than the "
		    "one that signed (%s)", what, hx);
		r = HK_ERR_INVALID;
		goto out;
	}
	/* The exact file set: nothing missing, nothing extra. */
	for (i = 0; i < m->nfiles; i++) {
		if (!in_list(&dl, m->files[i].name)) {
			hk_err_set("%s/%s: SPEC 7: listed in the manifest but "
			    "missing", dir, m->files[i].name);
			r = HK_ERR_INVALID;
			goto out;
		}
	}
	for (i = 0; i < dl.n; i++) {
		struct hk_bundle_entry key;
		if (strcmp(dl.names[i], HK_BUNDLE_MANIFEST) == 0 ||
		    strcmp(dl.names[i], HK_BUNDLE_SIGNATURE) == 0)
			continue;
		snprintf(key.name, sizeof(key.name), "%s", dl.names[i]);
		if (bsearch(&key, m->files, m->nfiles, sizeof(*m->files),
		    cmp_entry) == NULL) {
			hk_err_set("%s/%s: SPEC 7: not listed in the manifest "
			    "(extra file)", dir, dl.names[i]);
			r = HK_ERR_INVALID;
			goto out;
		}
	}
	for (i = 0; i < m->nfiles; i++) {
		const struct hk_bundle_entry *e = &m->files[i];
		free(data);
		data = NULL;
		if ((r = read_at(dfd, dir, e->name, HK_BUNDLE_MAX_FILE, &data,
		    &dlen)) != 0)
			goto out;
		if (dlen != e->size) {
			hk_err_set("%s/%s: SPEC 7: %zu bytes, the manifest "
			    "says %" PRIu64, dir, e->name, dlen, e->size);
			r = HK_ERR_INVALID;
			goto out;
		}
		crypto_hash_sha256(h, data, dlen);
		if (memcmp(h, e->sha256, 32) != 0) {
			hk_err_set("%s/%s: SPEC 7: SHA-256 differs from the "
			    "manifest's", dir, e->name);
			r = HK_ERR_INVALID;
			goto out;
		}
	}
	/* The reader's own rule on the signer and contents (SPEC 13.4). */
	if (rule != NULL && (r = rule(signer, m, dir, arg)) != 0)
		goto out;
	if (out != NULL) {
		*out = m;
		m = NULL;
	}
	r = 0;
 out:
	free(man);
	free(sig);
	free(data);
	X509_free(signer);
	dirlist_free(&dl);
	hk_bundle_manifest_free(m);
	if (dfd >= 0)
		close(dfd);
	return r;
}

/* ---------------------------------------------------------------- */
/* Writing (SPEC 6, 10). */

static int
write_in(int dfd, const char *dir, const char *name, const void *buf,
    size_t len)
{
	const unsigned char *p = buf;
	int fd;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	if (fd < 0) {
		hk_err_set("%s/%s: cannot create: %s", dir, name,
		    strerror(errno));
		return HK_ERR_IO;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			hk_err_set("%s/%s: cannot write: %s", dir, name,
			    strerror(errno));
			close(fd);
			return HK_ERR_IO;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0) {
		hk_err_set("%s/%s: fsync: %s", dir, name, strerror(errno));
		close(fd);
		return HK_ERR_IO;
	}
	return close(fd) == 0 ? 0 : HK_ERR_IO;
}

/* Remove a temporary folder we made (plain files only) and the folder. */
static void
remove_tmp(const char *dir)
{
	DIR *d;
	struct dirent *de;
	int dfd;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dfd, de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

/* "<path>.tmp-<16 hex>", made mode 0700. */
static int
make_tmp_dir(const char *path, char *tmp, size_t cap)
{
	unsigned char rnd[8];
	char hx[17];
	int n;

	randombytes_buf(rnd, sizeof(rnd));
	hk_hex_encode(rnd, sizeof(rnd), hx);
	n = snprintf(tmp, cap, "%s.tmp-%s", path, hx);
	if (n < 0 || (size_t)n >= cap) {
		hk_err_set("%s: path too long", path);
		return HK_ERR_INVALID;
	}
	if (mkdir(tmp, 0700) != 0) {
		hk_err_set("%s: cannot create: %s", tmp, strerror(errno));
		return HK_ERR_IO;
	}
	return 0;
}

/* rename tmp to dest, refusing to replace anything, then fsync the parent */
static int
rename_into_place(const char *tmp, const char *dest)
{
	if (hk_dir_rename_noreplace(tmp, dest) != 0) {
		int e = errno;
		hk_err_set("%s: cannot rename into place: %s", dest,
		    strerror(e));
		return e == EEXIST || e == ENOTEMPTY ? HK_ERR_EXISTS :
		    HK_ERR_IO;
	}
	if (hk_dir_sync(dest) != 0) {
		/* hk_dir_sync sets no detail: without one the command
		 * said only "input/output error" */
		hk_err_set("%s: renamed into place, but the folder holding it "
		    "could not be fsynced: %s", dest, strerror(errno));
		return HK_ERR_IO;
	}
	return 0;
}

int
hk_bundle_write(const char *out, const char *type, uint64_t sequence,
    time_t created, const struct hk_bundle_file *files, size_t nfiles,
    EVP_PKEY *key, X509 *cert, unsigned char manifest_sha256[32])
{
	return hk_bundle_write_trust(out, type, sequence, created, files,
	    nfiles, key, cert, NULL, manifest_sha256);
}

int
hk_bundle_write_trust(const char *out, const char *type, uint64_t sequence,
    time_t created, const struct hk_bundle_file *files, size_t nfiles,
    EVP_PKEY *key, X509 *cert, const struct hk_bundle_trust *check,
    unsigned char manifest_sha256[32])
{
	struct hk_bundle_manifest m = { 0 };
	struct hk_bundle_trust self = { cert, NULL };
	char tmp[PATH_MAX], *man = NULL;
	unsigned char *sig = NULL, sid[20];
	size_t mlen, slen, i;
	uint64_t total = 0;
	int dfd = -1, made = 0, r = HK_ERR_INVALID;

	if (manifest_sha256 != NULL)
		memset(manifest_sha256, 0, 32);
	if (!hk_bundle_type_ok(type)) {
		hk_err_set("--type %s: SPEC 4.2: unknown bundle type", type);
		return HK_ERR_USAGE;
	}
	if (sequence == 0 || sequence > HK_BUNDLE_MAX_SEQ) {
		hk_err_set("%s: sequence: SPEC 4.3: out of range", out);
		return HK_ERR_INVALID;
	}
	if (nfiles == 0 || nfiles > HK_BUNDLE_MAX_FILES) {
		hk_err_set("%s: SPEC 5: a bundle holds 1..%d files", out,
		    HK_BUNDLE_MAX_FILES);
		return HK_ERR_INVALID;
	}
	if (hk_path_exists(out)) {
		hk_err_set("%s: already exists; refusing to overwrite", out);
		return HK_ERR_EXISTS;
	}
	m.version = HK_BUNDLE_VERSION;
	snprintf(m.type, sizeof(m.type), "%s", type);
	m.sequence = sequence;
	m.created = created;
	m.nfiles = nfiles;
	if ((r = hk_cert_key_id(X509_get0_pubkey(cert), m.signer)) != 0)
		return r;
	if ((m.files = calloc(nfiles, sizeof(*m.files))) == NULL)
		return HK_ERR_ALLOC;
	for (i = 0; i < nfiles; i++) {
		if (!hk_bundle_name_ok(files[i].name)) {
			char sb[121];
			hk_err_set("%s: SPEC 3: %s", safe(files[i].name, sb,
			    sizeof(sb)), name_rule(files[i].name));
			r = HK_ERR_INVALID;
			goto out;
		}
		if (files[i].len > HK_BUNDLE_MAX_FILE ||
		    (total += files[i].len) > HK_BUNDLE_MAX_TOTAL) {
			hk_err_set("%s: SPEC 5: file over %u bytes or bundle "
			    "over %u", files[i].name, HK_BUNDLE_MAX_FILE,
			    HK_BUNDLE_MAX_TOTAL);
			r = HK_ERR_INVALID;
			goto out;
		}
		strcpy(m.files[i].name, files[i].name);
		m.files[i].size = files[i].len;
		crypto_hash_sha256(m.files[i].sha256, files[i].len ?
		    files[i].data : (const unsigned char *)"", files[i].len);
	}
	qsort(m.files, nfiles, sizeof(*m.files), cmp_entry);
	for (i = 1; i < nfiles; i++) {
		if (strcmp(m.files[i - 1].name, m.files[i].name) == 0) {
			hk_err_set("%s: SPEC 4.1: name given twice",
			    m.files[i].name);
			r = HK_ERR_INVALID;
			goto out;
		}
	}
	if ((r = hk_bundle_manifest_encode(&m, &man, &mlen)) != 0 ||
	    (r = sign_manifest(man, mlen, key, cert, &sig, &slen)) != 0)
		goto out;
	/* Verify our own signature before anything is written. The writer's
	 * certificate is its own anchor here; validity at hk_clock_now(). */
	if ((r = hk_bundle_check_signature((unsigned char *)man, mlen, sig,
	    slen, check != NULL ? check : &self, out, sid)) != 0) {
		r = HK_ERR_VERIFY;
		goto out;
	}
	if ((r = make_tmp_dir(out, tmp, sizeof(tmp))) != 0)
		goto out;
	made = 1;
	if ((dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = HK_ERR_IO;
		goto out;
	}
	for (i = 0; i < nfiles; i++)
		if ((r = write_in(dfd, tmp, files[i].name, files[i].data ?
		    (const void *)files[i].data : "", files[i].len)) != 0)
			goto out;
	if ((r = write_in(dfd, tmp, HK_BUNDLE_MANIFEST, man, mlen)) != 0 ||
	    (r = write_in(dfd, tmp, HK_BUNDLE_SIGNATURE, sig, slen)) != 0)
		goto out;
	/* a medium that keeps no modes (FAT, exFAT) may refuse the chmod:
	 * the folder then has the mount's mode, which readers never check */
	if ((fchmod(dfd, 0755) != 0 && !hk_mode_unkept(errno)) ||
	    fsync(dfd) != 0) {
		hk_err_set("%s: cannot finish: %s", tmp, strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	if ((r = rename_into_place(tmp, out)) != 0)
		goto out;
	made = 0;
	if (manifest_sha256 != NULL)
		crypto_hash_sha256(manifest_sha256, (unsigned char *)man, mlen);
	r = 0;
 out:
	if (dfd >= 0)
		close(dfd);
	if (made)
		remove_tmp(tmp);
	free(man);
	free(sig);
	free(m.files);
	return r;
}

/* ---------------------------------------------------------------- */
/* The reader's sequence state (SPEC 8). */

#define SEEN_HEADER	"hanko-bundle-seen 1\n"
#define SEEN_MAX	256	/* signers remembered */

struct seen {
	unsigned char id[SEEN_MAX][20];
	uint64_t seq[SEEN_MAX];
	size_t n;
};

static int
seen_load(const char *path, struct seen *s)
{
	unsigned char *buf = NULL;
	char line[128], hx[41], num[24];
	size_t len, pos, i;
	int k, ln = 1, r;

	s->n = 0;
	r = hk_file_read(path, 65536, &buf, &len);
	if (r == HK_ERR_NOT_FOUND) {
		hk_err_clear();
		return 0;
	}
	if (r != 0)
		return r;
	r = HK_ERR_PARSE;
	if (len < strlen(SEEN_HEADER) ||
	    memcmp(buf, SEEN_HEADER, strlen(SEEN_HEADER)) != 0) {
		hk_err_set("%s:1: SPEC 8: first line must be \"hanko-bundle-"
		    "seen 1\"", path);
		goto out;
	}
	pos = strlen(SEEN_HEADER);
	while ((k = next_line(buf, len, &pos, line, sizeof(line))) == 0) {
		ln++;
		if (s->n == SEEN_MAX || strlen(line) < 42 || line[40] != ' ') {
			hk_err_set("%s:%d: SPEC 8: expected \"<key id> "
			    "<sequence>\"", path, ln);
			goto out;
		}
		memcpy(hx, line, 40);
		hx[40] = '\0';
		if (strlen(line + 41) >= sizeof(num)) {
			hk_err_set("%s:%d: SPEC 8: sequence too long", path,
			    ln);
			goto out;
		}
		memcpy(num, line + 41, strlen(line + 41) + 1);
		if (hk_hex_decode(hx, s->id[s->n], 20) != 0 ||
		    parse_dec(num, HK_BUNDLE_MAX_SEQ, &s->seq[s->n]) != 0) {
			hk_err_set("%s:%d: SPEC 8: expected \"<key id> "
			    "<sequence>\"", path, ln);
			goto out;
		}
		if (s->seq[s->n] == 0) {
			/* the last sequence imported: a bundle's, never 0 */
			hk_err_set("%s:%d: sequence: SPEC 4.3, 8: must be 1.."
			    "999999999999999999 (the last bundle imported from "
			    "that signer), not 0", path, ln);
			goto out;
		}
		for (i = 0; i < s->n; i++)
			if (memcmp(s->id[i], s->id[s->n], 20) == 0) {
				hk_err_set("%s:%d: SPEC 8: key id given twice",
				    path, ln);
				goto out;
			}
		s->n++;
	}
	if (k == -2) {
		hk_err_set("%s:%d: SPEC 8: damaged line", path, ln + 1);
		goto out;
	}
	r = 0;
 out:
	free(buf);
	return r;
}

int
hk_bundle_seen_check(const char *seen_file, const struct hk_bundle_manifest *m)
{
	struct seen *s;
	char hx[41];
	size_t i;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return HK_ERR_ALLOC;
	if ((r = seen_load(seen_file, s)) != 0)
		goto out;
	for (i = 0; i < s->n; i++) {
		if (memcmp(s->id[i], m->signer, 20) != 0)
			continue;
		if (m->sequence <= s->seq[i]) {
			hk_hex_encode(m->signer, 20, hx);
			hk_err_set("sequence: SPEC 8: bundle %" PRIu64 " of "
			    "signer %s is a replay or older than the last "
			    "imported (%" PRIu64 "); refused", m->sequence, hx,
			    s->seq[i]);
			r = HK_ERR_INVALID;
		}
		break;
	}
 out:
	free(s);
	return r;
}

int
hk_bundle_seen_update(const char *seen_file, const struct hk_bundle_manifest *m)
{
	struct seen *s;
	char *buf = NULL, hx[41];
	size_t i, off = 0, cap;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return HK_ERR_ALLOC;
	if ((r = seen_load(seen_file, s)) != 0)
		goto out;
	for (i = 0; i < s->n; i++)
		if (memcmp(s->id[i], m->signer, 20) == 0)
			break;
	if (i == s->n) {
		if (s->n == SEEN_MAX) {
			hk_err_set("%s: SPEC 8: more than %d signers",
			    seen_file, SEEN_MAX);
			r = HK_ERR_INVALID;
			goto out;
		}
		memcpy(s->id[s->n++], m->signer, 20);
	} else if (m->sequence <= s->seq[i]) {
		hk_err_set("%s: SPEC 8: sequence %" PRIu64 " is not above %"
		    PRIu64, seen_file, m->sequence, s->seq[i]);
		r = HK_ERR_INVALID;
		goto out;
	}
	s->seq[i] = m->sequence;
	cap = strlen(SEEN_HEADER) + s->n * 64 + 1;
	if ((buf = malloc(cap)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	off = (size_t)snprintf(buf, cap, "%s", SEEN_HEADER);
	for (i = 0; i < s->n; i++) {
		hk_hex_encode(s->id[i], 20, hx);
		off += (size_t)snprintf(buf + off, cap - off, "%s %" PRIu64
		    "\n", hx, s->seq[i]);
	}
	r = hk_file_write(seen_file, buf, off, 0644, 0);
 out:
	free(buf);
	free(s);
	return r;
}

/* ---------------------------------------------------------------- */
/* Import (SPEC 8). */

static int
copy_bundle(const char *src, const char *tmp)
{
	struct dirlist dl = { 0 };
	unsigned char *buf = NULL;
	size_t len, i;
	uint64_t total = 0;
	int sfd = -1, tfd = -1, r;

	if ((r = open_dir(src, &sfd)) != 0)
		return r;
	if ((r = scan_dir(sfd, src, &dl)) != 0)
		goto out;
	if ((tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		hk_err_set("%s: cannot open: %s", tmp, strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	for (i = 0; i < dl.n; i++) {
		free(buf);
		buf = NULL;
		if ((r = read_at(sfd, src, dl.names[i], HK_BUNDLE_MAX_FILE,
		    &buf, &len)) != 0)
			goto out;
		if ((total += len) > HK_BUNDLE_MAX_TOTAL +
		    HK_BUNDLE_MAX_MANIFEST + HK_BUNDLE_MAX_SIG) {
			hk_err_set("%s: SPEC 5: more than %u bytes", src,
			    HK_BUNDLE_MAX_TOTAL);
			r = HK_ERR_INVALID;
			goto out;
		}
		if ((r = write_in(tfd, tmp, dl.names[i], buf, len)) != 0)
			goto out;
	}
	if (fsync(tfd) != 0) {
		hk_err_set("%s: fsync: %s", tmp, strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	r = 0;
 out:
	free(buf);
	dirlist_free(&dl);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	return r;
}

int
hk_bundle_import(const char *src, const char *dest, const char *seen_file,
    const struct hk_bundle_trust *t, const char *expect_type,
    struct hk_bundle_manifest **out)
{
	return hk_bundle_import_rule(src, dest, seen_file, t, expect_type,
	    NULL, NULL, out);
}

int
hk_bundle_import_rule(const char *src, const char *dest,
    const char *seen_file, const struct hk_bundle_trust *t,
    const char *expect_type, hk_bundle_rule_fn rule, void *arg,
    struct hk_bundle_manifest **out)
{
	struct hk_bundle_manifest *m = NULL;
	char tmp[PATH_MAX], msg[1024];
	int made = 0, r;

	if (out != NULL)
		*out = NULL;
	if (hk_path_exists(dest)) {
		hk_err_set("%s: already exists; refusing to overwrite", dest);
		return HK_ERR_EXISTS;
	}
	if ((r = make_tmp_dir(dest, tmp, sizeof(tmp))) != 0)
		return r;
	made = 1;
	/* Verify the copy, not the medium: what is checked is what stays.
	 * A copy that cannot be written is named as it is (the medium was
	 * read; the folder written into is what failed). */
	if ((r = copy_bundle(src, tmp)) != 0)
		goto out;
	if ((r = hk_bundle_verify_rule(tmp, t, rule, arg, &m)) != 0) {
		/* Name the medium, not our temporary copy, in the message. */
		const char *e = hk_err_msg();
		size_t tl = strlen(tmp);
		if (strncmp(e, tmp, tl) == 0) {
			snprintf(msg, sizeof(msg), "%s%s", src, e + tl);
			hk_err_set("%s", msg);
		}
		goto out;
	}
	if (expect_type != NULL && strcmp(m->type, expect_type) != 0) {
		hk_err_set("%s/manifest: type: SPEC 4.2: \"%s\", expected "
		    "\"%s\"", src, m->type, expect_type);
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((r = hk_bundle_seen_check(seen_file, m)) != 0) {
		snprintf(msg, sizeof(msg), "%s/manifest: %s", src, hk_err_msg());
		hk_err_set("%s", msg);
		goto out;
	}
	if (chmod(tmp, 0755) != 0 || (r = rename_into_place(tmp, dest)) != 0) {
		r = r ? r : HK_ERR_IO;
		goto out;
	}
	made = 0;
	/* Only after the import is in place. A crash between the two leaves
	 * dest present: importing the bundle again is refused (dest exists),
	 * never half done; a failed update takes dest away again. */
	if ((r = hk_bundle_seen_update(seen_file, m)) != 0) {
		remove_tmp(dest);	/* all or nothing */
		goto out;
	}
	if (out != NULL) {
		*out = m;
		m = NULL;
	}
	r = 0;
 out:
	if (made)
		remove_tmp(tmp);
	hk_bundle_manifest_free(m);
	return r;
}

/* ---------------------------------------------------------------- */
/* Revocation requests (SPEC 13.3). */

/* CRLReason = index + 1: the CPS 4-4-4-2 reasons, never 0 or hold (6). */
static const char *const revreq_reasons[] = { "key-compromise",
    "ca-compromise", "affiliation-changed", "superseded",
    "cessation-of-operation" };

const char *
hk_revreq_reason_name(int reason)
{
	if (reason < 1 || reason > 5)
		return NULL;
	return revreq_reasons[reason - 1];
}

int
hk_revreq_reason_parse(const char *s, int *reason)
{
	int i;

	if (s[0] >= '1' && s[0] <= '5' && s[1] == '\0') {
		*reason = s[0] - '0';
		return 0;
	}
	for (i = 0; i < 5; i++)
		if (strcmp(s, revreq_reasons[i]) == 0) {
			*reason = i + 1;
			return 0;
		}
	return -1;
}

/* A serial as issued.txt writes it: lowercase hex, even length 2..40, no
 * leading zero byte unless it is needed for the sign (BN_bn2hex, lowered). */
static int
serial_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 2 || n > 40 || n % 2 != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return !(n > 2 && s[0] == '0' && s[1] == '0');
}

int
hk_revreq_encode(const struct hk_revreq *q, char *out, size_t cap)
{
	char hx[65], tm[32];
	int n;

	if (!serial_ok(q->serial) || hk_revreq_reason_name(q->reason) == NULL) {
		hk_err_set("revocation request: SPEC 13.3: serial or reason "
		    "out of range");
		return HK_ERR_INVALID;
	}
	hk_hex_encode(q->cert_sha256, 32, hx);
	hk_time_format(q->requested, tm, sizeof(tm));
	n = snprintf(out, cap, "%s\nserial %s\ncertificate %s\nreason %d\n"
	    "requested %s\nend\n", HK_REVREQ_HEADER, q->serial, hx,
	    q->reason, tm);
	if (n < 0 || (size_t)n >= cap)
		return HK_ERR_INVALID;
	return 0;
}

int
hk_revreq_parse(const unsigned char *buf, size_t len, const char *what,
    struct hk_revreq *out)
{
	static const char *const keys[] = { "serial", "certificate", "reason",
	    "requested" };
	char line[128], enc[HK_REVREQ_MAX];
	const char *v[4];
	char val[4][100];
	size_t pos = 0, i;
	uint64_t reason;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= HK_REVREQ_MAX) {
		hk_err_set("%s: SPEC 13.3: empty or longer than %d bytes", what,
		    HK_REVREQ_MAX - 1);
		return HK_ERR_INVALID;
	}
	if (next_line(buf, len, &pos, line, sizeof(line)) != 0 ||
	    strncmp(line, "hanko-revocation-request ", 25) != 0) {
		hk_err_set("%s:1: SPEC 13.3: first line must be \"%s\"", what,
		    HK_REVREQ_HEADER);
		return HK_ERR_PARSE;
	}
	if (strcmp(line, HK_REVREQ_HEADER) != 0) {
		hk_err_set("%s:1: SPEC 9: format version %s is not 1", what,
		    line + 25);
		return HK_ERR_INVALID;
	}
	for (i = 0; i < 4; i++) {
		if (next_line(buf, len, &pos, line, sizeof(line)) != 0 ||
		    (v[i] = field(line, keys[i])) == NULL ||
		    strlen(v[i]) >= sizeof(val[i])) {
			hk_err_set("%s:%zu: SPEC 13.3: expected \"%s <value>\"",
			    what, i + 2, keys[i]);
			return HK_ERR_PARSE;
		}
		snprintf(val[i], sizeof(val[i]), "%s", v[i]);
	}
	if (next_line(buf, len, &pos, line, sizeof(line)) != 0 ||
	    strcmp(line, "end") != 0 || pos != len) {
		hk_err_set("%s:6: SPEC 13.3: expected \"end\" and nothing after "
		    "it", what);
		return HK_ERR_PARSE;
	}
	if (!serial_ok(val[0])) {
		hk_err_set("%s:2: serial: SPEC 13.3: lowercase hex of even "
		    "length 2-40, no leading 00 byte", what);
		return HK_ERR_INVALID;
	}
	memcpy(out->serial, val[0], strlen(val[0]) + 1);	/* <= 40 */
	if (strlen(val[1]) != 64 || hk_hex_decode(val[1], out->cert_sha256,
	    32) != 0) {
		hk_err_set("%s:3: certificate: SPEC 13.3: 64 lowercase hex "
		    "digits", what);
		return HK_ERR_INVALID;
	}
	if (parse_dec(val[2], 99, &reason) != 0 || reason < 1 || reason > 5) {
		hk_err_set("%s:4: reason: SPEC 13.3, CPS 4-4-4-2: \"%s\" is "
		    "not a CRLReason 1-5", what, val[2]);
		return HK_ERR_INVALID;
	}
	out->reason = (int)reason;
	if (hk_time_parse(val[3], &out->requested) != 0) {
		hk_err_set("%s:5: requested: SPEC 13.3: expected "
		    "YYYY-MM-DDTHH:MM:SSZ", what);
		return HK_ERR_INVALID;
	}
	/* Canonical: exactly the bytes the encoder makes. */
	if (hk_revreq_encode(out, enc, sizeof(enc)) != 0 ||
	    strlen(enc) != len || memcmp(enc, buf, len) != 0) {
		hk_err_set("%s: SPEC 13.3: not in canonical form (uppercase hex, "
		    "spacing or time not as the encoder writes them)", what);
		return HK_ERR_INVALID;
	}
	return 0;
}

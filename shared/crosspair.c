/* crosspair.c - CertificatePair with OpenSSL ASN.1 templates. */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "crosspair.h"
#include "err.h"

typedef struct hk_cert_pair_st {
	X509 *forward;			/* [0] EXPLICIT, may be NULL */
	X509 *reverse;			/* [1] EXPLICIT, may be NULL */
} HK_CERT_PAIR;

DECLARE_ASN1_FUNCTIONS(HK_CERT_PAIR)

ASN1_SEQUENCE(HK_CERT_PAIR) = {
	ASN1_EXP_OPT(HK_CERT_PAIR, forward, X509, 0),
	ASN1_EXP_OPT(HK_CERT_PAIR, reverse, X509, 1),
} ASN1_SEQUENCE_END(HK_CERT_PAIR)

IMPLEMENT_ASN1_FUNCTIONS(HK_CERT_PAIR)

int
hk_crosspair_encode(X509 *forward, X509 *reverse, unsigned char **der,
    size_t *len)
{
	HK_CERT_PAIR pair;
	int n;

	*der = NULL;
	*len = 0;
	if (forward == NULL && reverse == NULL) {
		hk_err_set("crosspair: X.509 11.2.3: at least one of forward "
		    "and reverse must be present");
		return HK_ERR_INVALID;
	}
	pair.forward = forward;
	pair.reverse = reverse;
	if ((n = i2d_HK_CERT_PAIR(&pair, der)) <= 0) {
		hk_err_set("crosspair: cannot encode the pair");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	*len = (size_t)n;
	return 0;
}

int
hk_crosspair_decode(const unsigned char *der, size_t len, X509 **forward,
    X509 **reverse)
{
	HK_CERT_PAIR *pair = NULL;
	const unsigned char *pp = der;
	unsigned char *re = NULL;
	int n, r = HK_ERR_PARSE;

	*forward = NULL;
	*reverse = NULL;
	if (len == 0 || len > HK_CROSSPAIR_MAX) {
		hk_err_set("crosspair: empty or larger than %d bytes",
		    HK_CROSSPAIR_MAX);
		return HK_ERR_PARSE;
	}
	if ((pair = d2i_HK_CERT_PAIR(NULL, &pp, (long)len)) == NULL) {
		hk_err_set("crosspair: not a CertificatePair (X.509 11.2.3)");
		goto out;
	}
	if (pp != der + len) {
		hk_err_set("crosspair: %zu trailing bytes after the pair",
		    (size_t)(der + len - pp));
		goto out;
	}
	if (pair->forward == NULL && pair->reverse == NULL) {
		hk_err_set("crosspair: X.509 11.2.3: at least one of forward "
		    "and reverse must be present");
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((n = i2d_HK_CERT_PAIR(pair, &re)) <= 0 || (size_t)n != len ||
	    memcmp(re, der, len) != 0) {
		hk_err_set("crosspair: X.690 10: the pair is not DER");
		goto out;
	}
	*forward = pair->forward;
	*reverse = pair->reverse;
	pair->forward = NULL;
	pair->reverse = NULL;
	r = 0;
out:
	ERR_clear_error();
	OPENSSL_free(re);
	HK_CERT_PAIR_free(pair);
	return r;
}

static int
der_eq(X509 *a, X509 *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la, lb, eq;

	la = i2d_X509(a, &da);
	lb = i2d_X509(b, &db);
	eq = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;
	OPENSSL_free(da);
	OPENSSL_free(db);
	return eq;
}

int
hk_crosspair_check(X509 *forward, X509 *reverse, X509 *root,
    X509 *issued_reverse)
{
	EVP_PKEY *rootkey = X509_get0_pubkey(root);
	int r = HK_ERR_INVALID;

	if (forward == NULL && reverse == NULL) {
		hk_err_set("crosspair: X.509 11.2.3: at least one of forward "
		    "and reverse must be present");
		goto out;
	}
	if (forward != NULL) {
		if (X509_NAME_cmp(X509_get_subject_name(forward),
		    X509_get_subject_name(root)) != 0) {
			hk_err_set("crosspair: forward: subject must be our "
			    "root DN (RFC 4523 2.6: issued to us)");
			goto out;
		}
		if (rootkey == NULL || X509_get0_pubkey(forward) == NULL ||
		    EVP_PKEY_eq(X509_get0_pubkey(forward), rootkey) != 1) {
			hk_err_set("crosspair: forward: must certify our "
			    "root's current key");
			goto out;
		}
		if (X509_NAME_cmp(X509_get_issuer_name(forward),
		    X509_get_subject_name(root)) == 0) {
			hk_err_set("crosspair: forward: must be issued by the "
			    "other CA, not by our root");
			goto out;
		}
	}
	if (reverse != NULL) {
		if (issued_reverse == NULL || !der_eq(reverse, issued_reverse)) {
			hk_err_set("crosspair: reverse: must be the cross "
			    "certificate we issued");
			goto out;
		}
		/* X509_verify() returns 1 on success */
		if (rootkey == NULL || X509_verify(reverse, rootkey) != 1) {
			hk_err_set("crosspair: reverse: signature does not "
			    "verify with our root's key");
			r = HK_ERR_VERIFY;
			goto out;
		}
	}
	r = 0;
out:
	ERR_clear_error();
	return r;
}

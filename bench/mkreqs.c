/*
 * mkreqs.c - N PKCS#10 requests (PEM files req-<i>.pem in DIR), all for one
 * RSA-2048 key, subject CN=resident-<i>: the input of the `openssl ca`
 * peer runs of bench/run.sh, made in one process so that set-up time does
 * not dominate the run.
 *
 *   mkreqs DIR N
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

int
main(int argc, char **argv)
{
	EVP_PKEY *k;
	long n, i;
	char path[4096], cn[64];

	if (argc != 3 || (n = atol(argv[2])) < 1) {
		fprintf(stderr, "usage: mkreqs DIR N\n");
		return 2;
	}
	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		X509_REQ *r = X509_REQ_new();
		X509_NAME *nm = X509_NAME_new();
		FILE *f;

		snprintf(cn, sizeof(cn), "resident-%ld", i);
		snprintf(path, sizeof(path), "%s/req-%ld.pem", argv[1], i);
		if (r == NULL || nm == NULL ||
		    !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
		    (unsigned char *)cn, -1, -1, 0) ||
		    !X509_REQ_set_subject_name(r, nm) ||
		    !X509_REQ_set_pubkey(r, k) ||
		    X509_REQ_sign(r, k, EVP_sha256()) <= 0 ||
		    (f = fopen(path, "w")) == NULL ||
		    !PEM_write_X509_REQ(f, r) || fclose(f) != 0) {
			fprintf(stderr, "mkreqs: %s: failed\n", path);
			return 1;
		}
		X509_NAME_free(nm);
		X509_REQ_free(r);
	}
	EVP_PKEY_free(k);
	return 0;
}

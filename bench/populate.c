/*
 * populate.c - fill a hanko-online store with N residents' certificates for
 * the benchmarks (bench/README.md), through the store interface itself
 * (online/store.h): each certificate is reserved and completed as issuance
 * does, 10,000 to a transaction, with the issuer's serials as if issued one
 * after another over five years (hk_cert_serial_make) and random resident
 * keys; with --revoked each is then revoked (reason cycling through the
 * CPS reasons) with its CRL entry, as hanko-online revoke stores it.
 *
 *   populate STORE ISSUER-KEYID-HEX TEMPLATE.der N [--revoked] CODE[:DER]...
 *
 * TEMPLATE.der is a real issued certificate whose bytes stand in for each
 * row's DER (the size of a real row); the CODEs are the partitions used in
 * turn, each with its own template when given as CODE:DER. Prints rows per
 * second. A row names its template's CRL partition: publish and issue,
 * which read the CRL DP of each partition's newest valid certificate
 * (docs/publish.md step 5, docs/municipalities.md), refuse a partition
 * whose valid rows carry another municipality's certificate, so a store
 * populated without --revoked gives each CODE a certificate of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/rand.h>

#include "cert.h"
#include "crl.h"
#include "err.h"
#include "store.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (b = malloc((size_t)n)) == NULL ||
	    fread(b, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "populate: %s: cannot read\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void
die(const char *what)
{
	fprintf(stderr, "populate: %s: %s\n", what, hk_err_msg());
	exit(1);
}

int
main(int argc, char **argv)
{
	struct hk_store *s;
	struct hk_store_cert c;
	unsigned char *der, *entry, **cder;
	size_t der_len, entry_len, n, i, ncodes, *clen;
	const char *hex;
	char **codes, *colon;
	int revoked = 0, a = 5;
	time_t t = time(NULL);
	double t0;

	if (argc < 6) {
		fprintf(stderr, "usage: populate STORE ISSUER-KEYID-HEX "
		    "TEMPLATE.der N [--revoked] CODE...\n");
		return 2;
	}
	if (strcmp(argv[5], "--revoked") == 0) {
		revoked = 1;
		a = 6;
	}
	codes = argv + a;
	ncodes = (size_t)(argc - a);
	if (ncodes == 0)
		return 2;
	n = strtoul(argv[4], NULL, 10);
	der = slurp(argv[3], &der_len);
	if ((cder = calloc(ncodes, sizeof(*cder))) == NULL ||
	    (clen = calloc(ncodes, sizeof(*clen))) == NULL)
		return 1;
	for (i = 0; i < ncodes; i++) {
		cder[i] = der;
		clen[i] = der_len;
		if ((colon = strchr(codes[i], ':')) != NULL) {
			*colon = '\0';
			cder[i] = slurp(colon + 1, &clen[i]);
		}
	}
	memset(&c, 0, sizeof(c));
	for (hex = argv[2]; hex[0] && hex[1] && c.issuer_len < 64; hex += 2)
		sscanf(hex, "%2hhx", &c.issuer[c.issuer_len++]);
	if (hk_store_open(argv[1], 0, &s) != 0)
		die(argv[1]);
	t0 = now();
	for (i = 0; i < n; i++) {
		if (i % 10000 == 0 && hk_store_begin(s) != 0)
			die("begin");
		/* the serials the issuer makes (hk_cert_serial_make), as
		 * if issued one after another over the last five years */
		if (hk_cert_serial_make(c.serial, t - 5L * 365 * 86400 +
		    (time_t)((double)i / (double)n * 5 * 365 * 86400)) != 0)
			die("random");
		c.serial_len = HK_SERIAL_LEN;
		if (RAND_bytes(c.resident_key, HK_STORE_RKEY_LEN) != 1)
			die("random");
		snprintf(c.municipality, sizeof(c.municipality), "%s",
		    codes[i % ncodes]);
		c.not_before = t - 86400;
		c.not_after = t + 5L * 365 * 86400;
		if (hk_store_cert_reserve(s, &c) != 0 ||
		    hk_store_cert_complete(s, c.serial, c.serial_len,
		    cder[i % ncodes], clen[i % ncodes]) != 0)
			die("insert");
		if (revoked) {
			struct hk_crl_entry e;
			ASN1_INTEGER *ai;
			BIGNUM *bn = BN_bin2bn(c.serial,
			    (int)c.serial_len, NULL);

			ai = BN_to_ASN1_INTEGER(bn, NULL);
			e.serial = ai;
			e.revoked = t - 3600;
			e.reason = (enum hk_crl_reason)(1 + i % 5);
			if (hk_crl_entry_der(&e, &entry, &entry_len) != 0 ||
			    hk_store_cert_revoke(s, c.serial, c.serial_len,
			    (int)e.reason, e.revoked, entry, entry_len) != 0)
				die("revoke");
			OPENSSL_free(entry);
			ASN1_INTEGER_free(ai);
			BN_free(bn);
		}
		if ((i + 1) % 10000 == 0 || i + 1 == n) {
			if (hk_store_commit(s) != 0)
				die("commit");
			if ((i + 1) % 100000 == 0)
				fprintf(stderr, "populate: %zu rows\n", i + 1);
		}
	}
	printf("populate: %zu certificates%s in %.1f s: %.0f rows/s\n", n,
	    revoked ? " (revoked)" : "", now() - t0, (double)n / (now() - t0));
	hk_store_close(s);
	for (i = 0; i < ncodes; i++)
		if (cder[i] != der)
			free(cder[i]);
	free(cder);
	free(clen);
	free(der);
	return 0;
}

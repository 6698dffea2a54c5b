/*
 * cmd_create_root.c - "hanko-offline create-root": the root key of the
 * governor (知事) generated inside the token by a quorum of key managers,
 * and its self-signed certificate (CPS 6-1-1-1, 6-1-1-2, 6-2-1-6, 6-3-1-2,
 * 7-1-3).
 *
 * The certificate is built from the profile, linted on a copy with the key's
 * signature algorithm fixed, signed in the token over the byte-identical
 * TBS, verified, linted again, and written as DER and PEM without replacing
 * anything.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "audit.h"
#include "cert.h"
#include "ceremony.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "offline.h"
#include "p11.h"
#include "profile.h"

static const char create_root_usage[] =
"usage: hanko-offline create-root --state DIR --share FILE [--passin SPEC]\n"
"           [--share FILE [--passin SPEC]]... [--clock YYYY-MM-DDTHH:MM:SSZ]\n";

static void
print_summary(X509 *cert, const char *der, const char *pem, int rehearsal)
{
	char fp[96], nb[32] = "invalid-time", na[32] = "invalid-time";
	char *serial = NULL, subj[512];
	const ASN1_INTEGER *sn = X509_get0_serialNumber(cert);
	BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
	time_t t;

	hk_cert_fingerprint_text(cert, fp);
	if (bn != NULL)
		serial = BN_bn2hex(bn);
	if (hk_cert_time(X509_get0_notBefore(cert), &t) == 0)
		hk_time_format(t, nb, sizeof(nb));
	if (hk_cert_time(X509_get0_notAfter(cert), &t) == 0)
		hk_time_format(t, na, sizeof(na));
	X509_NAME_oneline(X509_get_subject_name(cert), subj, sizeof(subj));
	printf("Root certificate made%s:\n"
	    "  subject     %s\n  serial      %s\n  valid       %s .. %s\n"
	    "  written     %s\n              %s\n  SHA-256     %s\n",
	    rehearsal ? " (REHEARSAL: marked TEST)" : "", subj,
	    serial ? serial : "?", nb, na, der, pem, fp);
	OPENSSL_free(serial);
	BN_free(bn);
}

int
cmd_create_root(int argc, char **argv)
{
	struct hk_ca_args o = { 0 };	/* the shared options only */
	struct hk_ca *ca = NULL;
	struct hk_profile *p = NULL;
	struct hk_root_key k;
	X509 *cert = NULL;
	char der[4096], pem[4096], fp[96];
	int rehearsal, r;

	memset(&k, 0, sizeof(k));
	if ((r = hk_ca_parse(&o, NULL, create_root_usage, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_ca_open(&o.c, "create-root", &ca)) != 0)
		return r;
	rehearsal = strcmp(hk_state_get(ca->st, "rehearsal") ?
	    hk_state_get(ca->st, "rehearsal") : "no", "yes") == 0;
	if ((r = hk_ca_profile(ca, &p)) != 0)
		goto fail;
	if ((r = hk_state_path(ca->st, "certs/root-1.der", der,
	    sizeof(der))) != 0 || (r = hk_state_path(ca->st,
	    "certs/root-1.pem", pem, sizeof(pem))) != 0 ||
	    (r = hk_root_precheck(ca, o.c.state, der, pem)) != 0)
		goto fail;
	/* Nothing is activated, generated or signed unless logged. */
	if ((r = hk_ca_audit(ca, "root.create.start", "ok", "-", "generation "
	    "1, %s, %s", hk_key_alg_name(p->root_key),
	    rehearsal ? "REHEARSAL" : "real run")) != 0 ||
	    (r = hk_ca_activate(ca, o.shares, o.nshares)) != 0)
		goto fail;

	/* The key, generated inside the token (CPS 6-2-1-6). */
	if ((r = hk_root_keygen(ca, p, &k)) != 0)
		goto fail;
	/* Build, lint, sign, verify, lint (DESIGN.md 5). */
	if ((r = hk_root_sign(ca, p, &k, rehearsal, NULL, NULL, &cert)) != 0 ||
	    (r = hk_root_write(ca, cert, der, pem, fp)) != 0 ||
	    (r = hk_root_commit(ca, &k, "certs/root-1.der", fp)) != 0)
		goto fail;
	if ((r = hk_ca_checkpoint(ca)) != 0)
		goto fail;
	print_summary(cert, der, pem, rehearsal);
	goto out;
 fail:
	if (ca != NULL) {
		hk_root_key_undo(ca, &k);
		hk_ca_audit_warn(ca, "root.create", "fail", ca->actors, "%s",
		    hk_err_msg());
		/* Sign what was logged, when the token is active. */
		hk_life_checkpoint_keep_err(ca);
	}
 out:
	X509_free(cert);
	EVP_PKEY_free(k.priv);
	EVP_PKEY_free(k.pub);
	hk_profile_free(p);
	hk_ca_close(ca);
	return r;
}

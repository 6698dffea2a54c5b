/*
 * lint.h - check a certificate against the profile (PROFILE.md), rule by
 * rule. Each failure sets a detail naming the kind, the source and the rule,
 * e.g. "root: RFC 5280 4.2.1.9: basicConstraints must be critical in a CA
 * certificate", and returns HK_ERR_LINT. Every kind has its rules (root,
 * link, cross, issuing, ocsp, validation, and the resident's user
 * certificate: subject, validity, key, keyUsage, policies with the CPS
 * qualifier, the partition CRL DP, issuerAltName and the basic 4 items).
 * What a rule expects comes from the profile and PROFILE.md, derived here,
 * never from the builder it checks (shared/cert.c: its policy table,
 * partition names or key identifier): only neutral helpers are shared
 * (reading a time, comparing DER names, getting an extension).
 */
#ifndef HK_LINT_H
#define HK_LINT_H

#include <openssl/x509.h>

#include "cert.h"

struct hk_profile;

int hk_lint_cert(X509 *cert, const struct hk_profile *p,
    enum hk_cert_kind kind, int rehearsal);
/*
 * A resident's certificate issued under issuing generation gen: its CRL
 * distribution point names that generation's partition (the name PROFILE.md
 * and docs/publish.md give it, made by the lint, not by
 * hk_cert_partition_dn). hk_lint_cert with HK_CERT_USER is generation 1.
 */
int hk_lint_user(X509 *cert, const struct hk_profile *p, int rehearsal,
    int gen);
/*
 * The same rules for many certificates: the names they are compared with
 * (the root DN, the Japanese name, each partition's DN added with
 * hk_lint_user_ctx_partition) built and encoded once, by the lint's own
 * code, not the builder's. A partition not in the context is built for
 * the certificate. Read-only once made: threads may lint with it at once.
 * hk_lint_user_ctx_partition takes the municipality's romaji (the DN's
 * L= and CN=<romaji> CRLDP) with its 6-digit code (municipalities.csv):
 * a certificate of that municipality whose CRL DP URI names another code
 * is refused. Without the context (hk_lint_user), or for a municipality
 * not added, the certificate does not say the code: any six digits pass.
 */
struct hk_lint_user_ctx;
int hk_lint_user_ctx_new(const struct hk_profile *p, int rehearsal, int gen,
    struct hk_lint_user_ctx **out);
int hk_lint_user_ctx_partition(struct hk_lint_user_ctx *c,
    const char *romaji, const char *code);
void hk_lint_user_ctx_free(struct hk_lint_user_ctx *c);
int hk_lint_user_with(X509 *cert, const struct hk_lint_user_ctx *c);

/*
 * The rules that need the issuer's certificate (the signer's self-signed
 * root): issuer DN = issuer's subject (DER), authorityKeyIdentifier keyid =
 * issuer's subjectKeyIdentifier, notAfter not after issuer's notAfter; an
 * OCSP responder or validation server certificate runs its profile term
 * (notBefore + N years - 1 s) or ends exactly with its issuer, nothing
 * shorter. Not for HK_CERT_ROOT.
 */
int hk_lint_issued(X509 *cert, X509 *issuer, const struct hk_profile *p,
    enum hk_cert_kind kind);

#endif

/*
 * lint.h - check a certificate against the profile (PROFILE.md), rule by
 * rule. Each failure sets a detail naming the kind, the source and the rule,
 * e.g. "root: RFC 5280 4.2.1.9: basicConstraints must be critical in a CA
 * certificate", and returns HK_ERR_LINT. Only HK_CERT_ROOT is implemented;
 * other kinds return HK_ERR_LINT ("no lint rules yet").
 */
#ifndef HK_LINT_H
#define HK_LINT_H

#include <openssl/x509.h>

#include "cert.h"

struct hk_profile;

int hk_lint_cert(X509 *cert, const struct hk_profile *p,
    enum hk_cert_kind kind, int rehearsal);

#endif

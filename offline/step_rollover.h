/*
 * step_rollover.h - helpers shared by the root life-cycle actions
 * (rollover, revoke, arl-batch, compromise; docs/ceremony-lifecycle.md).
 * Internal to offline/step_rollover.c, step_revoke.c, step_arl.c,
 * step_compromise.c, step_root_keygen.c and step_issue_subca.c.
 */
#ifndef HK_STEP_ROLLOVER_H
#define HK_STEP_ROLLOVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ceremony.h"

/* The current root generation (root.generations), its certificate and,
 * when priv is not NULL, its key from the token. */
/* The certificate of the real root generation gen: in a rehearsal of a
 * real CA the copy's root-<gen> is a stand-in (offline/rehearsal.c) and
 * the real one is root.<gen>.real-cert; elsewhere the same as
 * hk_life_root's. For steps that decide what the real key signed. */
int hk_life_root_real(struct hk_cer *c, int gen, X509 **cert);
int hk_life_root(struct hk_cer *c, int gen, X509 **cert, EVP_PKEY **priv,
    EVP_PKEY **pub);
/* root.generations as a number (0 if absent). */
int hk_life_generation(struct hk_cer *c);

/* What a root generation's key is asked to sign. */
enum hk_root_use {
	HK_ROOT_ISSUE,	/* a certificate: issuing CA, responder, cross */
	HK_ROOT_LINK,	/* the links of a rollover from this generation */
	HK_ROOT_ARL	/* ARLs */
};
/*
 * 0 when root generation gen may sign for use now; otherwise
 * HK_ERR_STATE and a one-line message naming state.conf's key and the CPS
 * rule. A generation marked root.<gen>.compromised signs nothing (CPS
 * 4-14-2: issuance stops; its only ARL is the compromise ceremony's
 * emergency ARL, signed before the mark is committed) and a rollover from
 * it is refused (its links would certify the lost key, or be signed by
 * it). Past its key-use period (hk_life_key_use_end; CPS 6-3-1-2) it
 * issues no certificate; it still signs the NewWithOld link of the
 * rollover that replaces it, and ARLs while it is the current generation,
 * each ending by its certificate's notAfter (step_arl.c checks that).
 */
int hk_life_root_may_sign(struct hk_cer *c, int gen, enum hk_root_use use);
/* The end of generation gen's key-use period: root.<gen>.created plus
 * the profile's root.key-use-years (CPS 6-3-1-2: 5 years from the key's
 * generation). */
int hk_life_key_use_end(struct hk_cer *c, int gen, time_t *end);

/* Confirm, sign issued (hk_cert_sign_issued), check the TBS signed is the
 * one confirmed. what names it for the operators, name in the errors;
 * nothing audited but the confirmation. */
int hk_life_sign_tbs(struct hk_cer *c, const struct hk_script_step *st,
    X509 *cert, X509 *issuer, EVP_PKEY *key, int kind, const char *what,
    const char *name);
/* The same, what naming it in the errors too, with a "cert.sign" "fail"
 * record when it fails. */
int hk_life_sign_confirmed(struct hk_cer *c, const struct hk_script_step *st,
    X509 *cert, X509 *issuer, EVP_PKEY *key, int kind, const char *what);
/* Undo for a step whose files are in res->written: remove them. */
void hk_life_undo_files(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res);

/* Revocations staged by revoke / compromise-revoke, applied to issued.txt
 * only by arl-commit, after the ARL naming them was signed and written. */
#define HK_LIFE_MAX_STAGED	1024
struct hk_life_staged {
	char serial[43];
	char kind[24];
	int reason;		/* CRLReason 1..5 */
	time_t when;
};
int hk_life_stage(const char *serial, const char *kind, int reason,
    time_t when);
/* The staged list (n entries). */
const struct hk_life_staged *hk_life_staged(size_t *n);
/* Clear (undo of the staging step). */
void hk_life_unstage_all(void);
/* 1 once arl-commit kept the revocations (undo then leaves them). */
extern int hk_life_committed;
/* The generation a compromise ceremony declared (0: none). */
extern int hk_life_compromised_gen;

/* 1 once arl-batch signed its ARLs in this ceremony (until undone). */
int hk_life_arl_signed(void);
/* The i-th ARL file arl-batch wrote in this ceremony (NULL past the end),
 * how many, and the last cRLNumber signed. */
const char *hk_life_arl_file(size_t i, size_t *n, uint64_t *last);

/* CRLReason names of the scripts: index + 1 is the CRLReason. */
extern const char *const hk_life_reasons[];

#endif

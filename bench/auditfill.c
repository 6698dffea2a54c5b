/*
 * auditfill.c - add to a hanko-online state's audit log the records a
 * running serve leaves (bench/README.md "Year-end scale"): for each hour
 * from FROM to TO (UTC, --clock format), one ocsp.refresh record and an
 * audit checkpoint signed by the state's audit key in its token, as
 * serve's key holder writes them (online/serve_keyholder.c: a refresh, a
 * checkpoint hourly when records were added; the actor $HANKO_OPERATOR,
 * else op1@ca-online). Records are timed at the
 * hour, so the commands run afterwards at later --clock times pass the
 * clock guard. For measurements on rehearsal states only; never run by
 * the test suite.
 *
 *   auditfill STATE FROM TO
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "clock.h"
#include "err.h"
#include "p11.h"
#include "secmem.h"

static char *
conf_get(const char *state, const char *key)
{
	char p[4096], line[4096], *v = NULL;
	size_t kl = strlen(key);
	FILE *f;

	snprintf(p, sizeof(p), "%s/state.conf", state);
	if ((f = fopen(p, "r")) == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, kl) == 0 && strncmp(line + kl, " = ",
		    3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			v = strdup(line + kl + 3);
			break;
		}
	fclose(f);
	return v;
}

int
main(int argc, char **argv)
{
	struct hk_p11_cfg cfg = { NULL, NULL };
	struct hk_token *tok = NULL;
	EVP_PKEY *priv = NULL;
	char conf[4096], pinp[4096], logp[4096], *pin, *label, *uri, *reh;
	time_t from, to, t;
	unsigned long n = 0;
	const char *actor = getenv("HANKO_OPERATOR");
	FILE *f;

	if (argc != 4 || hk_time_parse(argv[2], &from) != 0 ||
	    hk_time_parse(argv[3], &to) != 0) {
		fprintf(stderr, "usage: auditfill STATE FROM TO\n");
		return 2;
	}
	if (hk_secmem_init() != 0 || (pin = hk_secret_alloc(256)) == NULL) {
		fprintf(stderr, "auditfill: no locked memory\n");
		return 1;
	}
	reh = conf_get(argv[1], "rehearsal");
	if (reh == NULL || strcmp(reh, "yes") != 0) {
		fprintf(stderr, "auditfill: %s: not a rehearsal state\n",
		    argv[1]);
		return 1;
	}
	label = conf_get(argv[1], "token.label");
	uri = conf_get(argv[1], "audit.key-uri");
	snprintf(conf, sizeof(conf), "%s/token/softhsm2.conf", argv[1]);
	snprintf(pinp, sizeof(pinp), "%s/secrets/token-user-pin", argv[1]);
	snprintf(logp, sizeof(logp), "%s/audit/audit.log", argv[1]);
	cfg.softhsm_conf = conf;
	/* unbuffered: no copy of the PIN in stdio's buffer */
	if (label == NULL || uri == NULL || (f = fopen(pinp, "r")) == NULL ||
	    setvbuf(f, NULL, _IONBF, 0) != 0 || fgets(pin, 256, f) == NULL) {
		hk_secret_free(pin);
		fprintf(stderr, "auditfill: %s: not a state with an embedded "
		    "token\n", argv[1]);
		return 1;
	}
	fclose(f);
	pin[strcspn(pin, "\n")] = '\0';
	if (hk_token_open(&cfg, label, &tok) != 0 ||
	    hk_token_login(tok, pin) != 0 ||
	    hk_token_key(tok, uri, &priv, NULL) != 0) {
		hk_secret_free(pin);
		fprintf(stderr, "auditfill: %s\n", hk_err_msg());
		return 1;
	}
	hk_secret_free(pin);
	if (actor == NULL || actor[0] == '\0')
		actor = "op1@ca-online";
	for (t = from; t <= to; t += 3600) {
		hk_clock_set(t);
		if (hk_audit_append(logp, "ocsp.refresh", "ok", actor,
		    "refresh: 2 responses signed") != 0 ||
		    hk_audit_checkpoint(logp, priv, "audit-1") != 0) {
			fprintf(stderr, "auditfill: %s\n", hk_err_msg());
			return 1;
		}
		n++;
	}
	printf("%lu hours\n", n);
	EVP_PKEY_free(priv);
	hk_token_close(tok);
	return 0;
}

/*
 * serve_keyholder.h - the key holder of "hanko-online serve"
 * (docs/process-model.md, DESIGN.md 7): the process logged in to the
 * online token. It pre-signs OCSP responses, signs the jobs its network
 * worker sends, writes the audit log and the provision counts, and never
 * reads a byte from the network: its only input is the framed channel
 * (frame.h) from the worker it started.
 */
#ifndef HK_SERVE_KEYHOLDER_H
#define HK_SERVE_KEYHOLDER_H

#include "online.h"

struct hk_keyholder_cfg {
	struct hk_online *on;		/* logged in (hk_online_login) */
	const char *repo;	/* --repo: the link to the current set */
	const char *listen;		/* the address as bound, for messages */
	int listen_fd;		/* the listening socket, for the worker;
				 * hk_keyholder_run closes it */
	char *const *worker_argv;	/* argv of "hanko-online serve --worker"
					 * (the channel is fd 3, the listening
					 * socket fd 4) */
	unsigned flush;			/* seconds between provision writes */
	unsigned refresh;		/* seconds between OCSP refreshes */
	unsigned sign_rate;		/* signing jobs per second the worker
					 * may ask (the holder allows twice) */
	int ocsp;			/* 0: --no-ocsp, no signer */
	int access_fd;			/* the access log for the worker: fd 5
					 * (a file), 1 (standard output, its
					 * own) or -1 (none); the caller's */
};

/*
 * Open the store and the OCSP signer, pre-sign (hk_ocsp_refresh), start
 * the worker (fork and exec, so it holds nothing of the token), then
 * serve its frames until SIGTERM or SIGINT (0). A framing error, a broken
 * channel or a worker that dies ends the run with an error after an
 * audit record: the supervisor restarts serve (docs/process-model.md).
 */
int hk_keyholder_run(const struct hk_keyholder_cfg *cfg);

#endif

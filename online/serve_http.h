/*
 * serve_http.h - the network worker of "hanko-online serve"
 * (docs/process-model.md): libmicrohttpd over the current repository set,
 * access control by registered relying party, OCSP answered from the
 * pre-signed responses or by a signing job sent to the key holder.
 *
 * The worker is a fresh process image (the key holder forks and execs
 * "hanko-online serve --worker"): it never had the token, the PIN or any
 * key in its memory. It opens the store read-only and never writes the
 * store or the audit log itself; audit records and provision counts go to
 * the key holder as frames (frame.h).
 */
#ifndef HK_SERVE_HTTP_H
#define HK_SERVE_HTTP_H

/* Bad frames the rehearsal-only --debug-bad-frame writes on SIGUSR2. */
enum hk_http_bad_frame {
	HK_BAD_FRAME_NONE = 0,
	HK_BAD_FRAME_MAGIC,		/* "magic": wrong magic */
	HK_BAD_FRAME_TYPE,	/* "type": a type the holder never takes */
	HK_BAD_FRAME_OVERSIZE,	/* "oversize": length over HK_FRAME_MAX */
	HK_BAD_FRAME_SHORT,	/* "short": a header, then a cut payload */
	HK_BAD_FRAME_AUDIT,		/* "audit": an event outside the set */
};

/* What the worker is started with (cmd_serve.c fills it from argv). */
struct hk_http_cfg {
	const char *state;		/* the online state folder */
	const char *repo;	/* --repo: the link to the current set */
	int listen_fd;		/* the listening socket (from the holder) */
	int channel_fd;			/* the channel to the key holder */
	unsigned workers;		/* libmicrohttpd threads */
	unsigned max_conn;		/* connections at once, in all */
	unsigned max_per_ip;	/* connections at once per client address */
	unsigned timeout;		/* seconds a connection may stay idle */
	unsigned deadline;	/* seconds for a whole request to arrive */
	unsigned sign_rate;	/* OCSP signing jobs per second, at most */
	unsigned party_rate;	/* of them, per relying party, at most */
	int ocsp;			/* 0: --no-ocsp (/ocsp is 404) */
	const char *user;		/* --user: drop to this user, or NULL */
	int access_fd;		/* the access log (--access-log), or -1 */
	enum hk_http_bad_frame bad_frame; /* rehearsal test hook, or NONE */
};

/* Run until SIGTERM or SIGINT (0), or until the channel fails (an error).
 * Returns after the daemon stopped and the last counts were sent. */
int hk_http_run(const struct hk_http_cfg *cfg);

/* Parse "magic", "type", ... into *out; -1 for another word. */
int hk_http_bad_frame_parse(const char *s, enum hk_http_bad_frame *out);

#endif

/*
 * cmd_serve.c - "hanko-online serve": the HTTP repository and OCSP
 * responder of the publisher (DESIGN.md 7; CPS 2-6, 4-4-4, 4-5;
 * docs/process-model.md, docs/relying-parties.md).
 *
 * Started by an operator (or systemd), serve is the key holder: it binds
 * the listening socket, logs in to the online token, pre-signs OCSP
 * responses and starts its network worker as a fresh image of this
 * program ("serve --worker", fork and exec), which serves HTTP with
 * libmicrohttpd and talks to the key holder only over the framed channel.
 * This file reads the options of both and hands over to
 * serve_keyholder.c or serve_http.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "online.h"
#include "repo.h"
#include "serve_http.h"
#include "serve_keyholder.h"

struct serve_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *repo;		/* --repo DIR (the set link) */
	const char *listen;		/* --listen ADDR:PORT */
	int workers;			/* --workers N: HTTP threads */
	int max_conn;			/* --max-connections N */
	int max_per_ip;			/* --max-per-client N */
	int timeout;			/* --timeout S: idle connection */
	int sign_rate;			/* --sign-rate N: jobs per second */
	int party_rate;			/* --sign-rate-per-party N: of them,
					 * per relying party */
	int flush;			/* --flush S: provision writes */
	int refresh;			/* --refresh S: OCSP pre-signing */
	int no_ocsp;			/* --no-ocsp */
	const char *user;		/* --user NAME (worker), or NULL */
	const char *access_log;		/* --access-log FILE|-, or NULL */
	int access_fd;			/* --access-log-fd N (internal) */
	const char *bad_frame;		/* --debug-bad-frame KIND, or NULL */
	int worker;			/* --worker (internal) */
	int channel_fd;			/* --channel-fd N (internal) */
	int listen_fd;			/* --listen-fd N (internal) */
};

static const char serve_usage[] =
"usage: hanko-online serve --state DIR --repo DIR --listen ADDR:PORT\n"
"           [--workers N] [--max-connections N] [--max-per-client N]\n"
"           [--timeout S] [--sign-rate N] [--sign-rate-per-party N]\n"
"           [--flush S] [--refresh S] [--no-ocsp] [--user NAME]\n"
"           [--access-log FILE|-]\n"
"  ADDR:PORT  127.0.0.1:8080, [::1]:8080, 0.0.0.0:80; port 0: any free one\n"
"  the bound address is printed once the worker is ready\n";

#define NUM(opt, field, max, text) { .name = opt, .num = &o->field, .lo = 1, \
	.hi = max, .rule = "a whole number from 1 to " text }

static int
parse(struct serve_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--repo", .value = &o->repo, .required = 1 },
		{ .name = "--listen", .value = &o->listen, .required = 1 },
		{ .name = "--user", .value = &o->user },
		{ .name = "--access-log", .value = &o->access_log },
		{ .name = "--debug-bad-frame", .value = &o->bad_frame },
		{ .name = "--no-ocsp", .flag = &o->no_ocsp },
		{ .name = "--worker", .flag = &o->worker },
		NUM("--workers", workers, 64, "64"),
		NUM("--max-connections", max_conn, 65536, "65536"),
		NUM("--max-per-client", max_per_ip, 65536, "65536"),
		NUM("--timeout", timeout, 3600, "3600"),
		NUM("--sign-rate", sign_rate, 100000, "100000"),
		NUM("--sign-rate-per-party", party_rate, 100000, "100000"),
		NUM("--flush", flush, 3600, "3600"),
		NUM("--refresh", refresh, 86400, "86400"),
		NUM("--channel-fd", channel_fd, INT_MAX, "2147483647"),
		NUM("--listen-fd", listen_fd, INT_MAX, "2147483647"),
		NUM("--access-log-fd", access_fd, INT_MAX, "2147483647"),
		{ .name = NULL },
	};
	int r;

	memset(o, 0, sizeof(*o));
	o->workers = 4;
	o->max_conn = 256;
	o->max_per_ip = 32;
	o->timeout = 5;
	o->sign_rate = 20;
	o->flush = 10;
	o->refresh = 300;
	o->channel_fd = o->listen_fd = o->access_fd = -1;
	if ((r = hk_online_parse(&o->c, argc, argv, serve_usage, args,
	    NULL)) != 0)
		return r;
	/* the worker the parent starts gets the socket and channel too */
	if (o->worker && (o->channel_fd < 0 || o->listen_fd < 0)) {
		hk_err_set("--worker: --channel-fd and --listen-fd are "
		    "required (an internal mode of serve)");
		return HK_ERR_USAGE;
	}
	/* a quarter of the global rate unless given: four parties asking
	 * at once cannot use it all up (docs/ocsp.md) */
	if (o->party_rate == 0)
		o->party_rate = o->sign_rate >= 4 ? o->sign_rate / 4 : 1;
	if (o->party_rate > o->sign_rate) {
		hk_err_set("--sign-rate-per-party %d: at most --sign-rate (%d)",
		    o->party_rate, o->sign_rate);
		return HK_ERR_USAGE;
	}
	if (o->max_per_ip > o->max_conn) {
		hk_err_set("--max-per-client %d: at most --max-connections "
		    "(%d)", o->max_per_ip, o->max_conn);
		return HK_ERR_USAGE;
	}
	return 0;
}

#undef NUM

/* Bind and listen on "ADDR:PORT" ("[v6]:PORT"); the bound address (with
 * the port chosen for port 0) in buf. */
static int
listen_on(const char *spec, int *fd, char *buf, size_t len)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[16], hbuf[NI_MAXHOST], pbuf[NI_MAXSERV];
	const char *colon = strrchr(spec, ':');
	size_t hl;
	int s = -1, one = 1, e;

	*fd = -1;
	if (colon == NULL || colon == spec || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof(port) ||
	    (hl = (size_t)(colon - spec)) >= sizeof(host))
		goto bad;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (host[0] == '[') {
		if (hl < 3 || host[hl - 1] != ']')
			goto bad;
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((e = getaddrinfo(host, port, &hints, &ai)) != 0 || ai == NULL)
		goto bad;
	if ((s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, 128) != 0 ||
	    getsockname(s, (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, hbuf, sizeof(hbuf), pbuf,
	    sizeof(pbuf), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		hk_err_set("--listen %s: %s", spec, strerror(errno));
		if (s >= 0)
			close(s);
		freeaddrinfo(ai);
		return HK_ERR_IO;
	}
	freeaddrinfo(ai);
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    hbuf, pbuf);
	*fd = s;
	return 0;
 bad:
	if (ai != NULL)
		freeaddrinfo(ai);
	hk_err_set("--listen %s: expected ADDR:PORT with a numeric address "
	    "(127.0.0.1:8080, [::1]:8080)", spec);
	return HK_ERR_USAGE;
}

/*
 * The access log (docs/ocsp.md "Access log"): "-" is standard output (a
 * systemd unit's journal), fd 1; else FILE, opened here to append (made
 * 0640 if missing; no symbolic link, a regular file) and given to the
 * worker as fd 5, so that a worker run as --user needs no right to it.
 */
static int
access_open(const char *path, int *fd)
{
	struct stat sb;

	if (strcmp(path, "-") == 0) {
		if (fcntl(1, F_GETFD) < 0) {
			hk_err_set("--access-log -: standard output is not "
			    "open");
			return HK_ERR_USAGE;
		}
		*fd = 1;
		return 0;
	}
	if ((*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NOCTTY, 0640)) < 0) {
		hk_err_set("--access-log %s: cannot open to append: %s", path,
		    strerror(errno));
		return errno == ENOENT || errno == ELOOP || errno == EISDIR ||
		    errno == ENOTDIR ? HK_ERR_INVALID : HK_ERR_IO;
	}
	if (fstat(*fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		hk_err_set("--access-log %s: not a regular file", path);
		close(*fd);
		*fd = -1;
		return HK_ERR_INVALID;
	}
	return 0;
}

/*
 * The repository's current set is this state's own, as publish's
 * check_owner has it: every root/gen-N.cer of the set that the store holds
 * as generation N is that very certificate, and at least one is. Serve
 * answers OCSP with this state's responder (only for its own issuing CAs:
 * another CA's certificates are answered unauthorized), hands the
 * residents' CRLs to this state's relying parties (the other CA's refused)
 * and records the provisions in this state's store (CPS 4-5): a CA started
 * again after its root key's compromise (CPS 4-14-2) given the old CA's
 * repository would do all of that for the old CA's set, and serving its own
 * at the old URLs would stop the old CA's OCSP. Nothing published yet (no
 * link) is left to serve as before.
 */
static int
repo_owner(struct hk_online *on, const char *repo)
{
	struct hk_repo_set *rs = NULL;
	struct hk_store *st = NULL;
	char path[4096];
	int r;

	if (hk_repo_open(repo, &rs) != 0) {
		hk_err_clear();
		return 0;
	}
	if ((r = hk_online_path(on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) == 0 && (r = hk_store_open(path, 0, &st)) == 0)
		r = hk_online_repo_owner(st, rs, repo, "serve answers OCSP, "
		    "relying parties and provision records as this state's "
		    "CA: a CA started again serves a repository of its own, "
		    "and the old one is served by the old state "
		    "(docs/ceremony-lifecycle.md \"compromise\"); not "
		    "started");
	hk_store_close(st);
	hk_repo_close(rs);
	return r;
}

/* The worker: a fresh image that never logged in. */
static int
run_worker(struct serve_opts *o)
{
	struct hk_http_cfg cfg;
	struct hk_online *on = NULL;
	int r;

	/* the state is read for its rehearsal flag (--clock) only */
	if ((r = hk_online_open(&o->c, &on)) != 0)
		return r;
	hk_online_close(on);
	memset(&cfg, 0, sizeof(cfg));
	cfg.state = o->c.state;
	cfg.repo = o->repo;
	cfg.listen_fd = o->listen_fd;
	cfg.channel_fd = o->channel_fd;
	cfg.workers = o->workers;
	cfg.max_conn = o->max_conn;
	cfg.max_per_ip = o->max_per_ip;
	cfg.timeout = o->timeout;
	cfg.deadline = 2 * o->timeout;
	cfg.sign_rate = o->sign_rate;
	cfg.party_rate = o->party_rate;
	cfg.ocsp = !o->no_ocsp;
	cfg.user = o->user;
	cfg.access_fd = o->access_fd;
	if (o->bad_frame != NULL)
		(void)hk_http_bad_frame_parse(o->bad_frame, &cfg.bad_frame);
	return hk_http_run(&cfg);
}

/* argv of the worker: the options it needs, the fds it gets. */
static int
worker_argv(const struct serve_opts *o, char **av, size_t cap, char *nums,
    size_t nlen)
{
	size_t n = 0, used = 0;
	const struct {
		const char *name;
		int v;
	} kv[] = {
		{ "--workers", o->workers },
		{ "--max-connections", o->max_conn },
		{ "--max-per-client", o->max_per_ip },
		{ "--timeout", o->timeout },
		{ "--sign-rate", o->sign_rate },
		{ "--sign-rate-per-party", o->party_rate },
	};
	size_t k;

#define ADD(s) do { if (n + 1 >= cap) return HK_ERR_INTERNAL; \
	av[n++] = (char *)(s); } while (0)
	ADD("hanko-online");
	ADD("serve");
	ADD("--worker");
	ADD("--state");
	ADD(o->c.state);
	ADD("--repo");
	ADD(o->repo);
	ADD("--listen");		/* bound by the parent: fd 4 */
	ADD(o->listen);
	ADD("--channel-fd");
	ADD("3");
	ADD("--listen-fd");
	ADD("4");
	for (k = 0; k < sizeof(kv) / sizeof(kv[0]); k++) {
		int w = snprintf(nums + used, nlen - used, "%d", kv[k].v);

		if (w < 0 || (size_t)w >= nlen - used)
			return HK_ERR_INTERNAL;
		ADD(kv[k].name);
		ADD(nums + used);
		used += (size_t)w + 1;
	}
	if (o->c.clock != NULL) {
		ADD("--clock");
		ADD(o->c.clock);
	}
	if (o->no_ocsp)
		ADD("--no-ocsp");
	if (o->user != NULL) {
		ADD("--user");
		ADD(o->user);
	}
	if (o->bad_frame != NULL) {
		ADD("--debug-bad-frame");
		ADD(o->bad_frame);
	}
	if (o->access_log != NULL) {	/* fd 5, or standard output */
		ADD("--access-log-fd");
		ADD(strcmp(o->access_log, "-") == 0 ? "1" : "5");
	}
#undef ADD
	av[n] = NULL;
	return 0;
}

int
cmd_serve(int argc, char **argv)
{
	struct serve_opts o;
	struct hk_keyholder_cfg cfg;
	struct hk_online *on = NULL;
	enum hk_http_bad_frame bf;
	const char *reh;
	char addr[300], nums[128], *av[40];
	int r, fd = -1, afd = -1;

	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if (o.bad_frame != NULL && hk_http_bad_frame_parse(o.bad_frame,
	    &bf) != 0) {
		hk_err_set("--debug-bad-frame %s: magic, type, oversize, short "
		    "or audit", o.bad_frame);
		return HK_ERR_USAGE;
	}
	if (o.worker)
		return run_worker(&o);
	if ((r = hk_online_open(&o.c, &on)) != 0)
		return r;
	reh = hk_state_get(on->st, "rehearsal");
	if (o.bad_frame != NULL && (reh == NULL || strcmp(reh, "yes") != 0)) {
		hk_err_set("--debug-bad-frame: a test hook, refused unless "
		    "the state is a rehearsal");
		r = HK_ERR_USAGE;
		goto out;
	}
	if (o.user != NULL && geteuid() != 0) {
		hk_err_set("--user %s: only root can change to another user",
		    o.user);
		r = HK_ERR_USAGE;
		goto out;
	}
	if ((r = repo_owner(on, o.repo)) != 0 ||
	    (r = worker_argv(&o, av, sizeof(av) / sizeof(av[0]), nums,
	    sizeof(nums))) != 0 ||
	    (o.access_log != NULL && (r = access_open(o.access_log,
	    &afd)) != 0) ||
	    (r = listen_on(o.listen, &fd, addr, sizeof(addr))) != 0 ||
	    (r = hk_online_login(on)) != 0)
		goto out;
	memset(&cfg, 0, sizeof(cfg));
	cfg.on = on;
	cfg.repo = o.repo;
	cfg.listen = addr;
	cfg.listen_fd = fd;
	cfg.worker_argv = av;
	cfg.flush = o.flush;
	cfg.refresh = o.refresh;
	cfg.sign_rate = o.sign_rate;
	cfg.ocsp = !o.no_ocsp;
	cfg.access_fd = afd;
	r = hk_keyholder_run(&cfg);
	fd = -1;			/* closed by hk_keyholder_run */
 out:
	if (fd >= 0)
		close(fd);
	if (afd > 2)
		close(afd);
	hk_online_close(on);
	return r;
}

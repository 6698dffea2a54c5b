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
#include <unistd.h>

#include "err.h"
#include "online.h"
#include "serve_http.h"
#include "serve_keyholder.h"

struct serve_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *repo;		/* --repo DIR (the set link) */
	const char *listen;		/* --listen ADDR:PORT */
	unsigned workers;		/* --workers N: HTTP threads */
	unsigned max_conn;		/* --max-connections N */
	unsigned max_per_ip;		/* --max-per-client N */
	unsigned timeout;		/* --timeout S: idle connection */
	unsigned sign_rate;		/* --sign-rate N: jobs per second */
	unsigned flush;			/* --flush S: provision writes */
	unsigned refresh;		/* --refresh S: OCSP pre-signing */
	int no_ocsp;			/* --no-ocsp */
	const char *user;		/* --user NAME (worker), or NULL */
	const char *bad_frame;		/* --debug-bad-frame KIND, or NULL */
	int worker;			/* --worker (internal) */
	int channel_fd;			/* --channel-fd N (internal) */
	int listen_fd;			/* --listen-fd N (internal) */
};

static const char serve_usage[] =
"usage: hanko-online serve --state DIR --repo DIR --listen ADDR:PORT\n"
"           [--workers N] [--max-connections N] [--max-per-client N]\n"
"           [--timeout S] [--sign-rate N] [--flush S] [--refresh S]\n"
"           [--no-ocsp] [--user NAME]\n"
"  ADDR:PORT  127.0.0.1:8080, [::1]:8080, 0.0.0.0:80; port 0: any free one\n"
"  the bound address is printed once the worker is ready\n";

/* A number option: 1..max. */
static int
number(const char *opt, const char *v, unsigned max, unsigned *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 || n < 1 ||
	    n > max) {
		hk_err_set("%s %s: a whole number from 1 to %u", opt, v, max);
		return HK_ERR_USAGE;
	}
	*out = (unsigned)n;
	return 0;
}

static int
parse(struct serve_opts *o, int argc, char **argv)
{
	static const struct {
		const char *name;
		size_t off;
		unsigned max;
	} nums[] = {
		{ "--workers", offsetof(struct serve_opts, workers), 64 },
		{ "--max-connections", offsetof(struct serve_opts, max_conn),
		    65536 },
		{ "--max-per-client", offsetof(struct serve_opts, max_per_ip),
		    65536 },
		{ "--timeout", offsetof(struct serve_opts, timeout), 3600 },
		{ "--sign-rate", offsetof(struct serve_opts, sign_rate),
		    100000 },
		{ "--flush", offsetof(struct serve_opts, flush), 3600 },
		{ "--refresh", offsetof(struct serve_opts, refresh), 86400 },
		{ "--channel-fd", offsetof(struct serve_opts, channel_fd),
		    INT_MAX },
		{ "--listen-fd", offsetof(struct serve_opts, listen_fd),
		    INT_MAX },
	};
	const char *v;
	size_t k;
	int i, r;

	memset(o, 0, sizeof(*o));
	o->workers = 4;
	o->max_conn = 256;
	o->max_per_ip = 32;
	o->timeout = 5;
	o->sign_rate = 20;
	o->flush = 10;
	o->refresh = 300;
	o->channel_fd = o->listen_fd = -1;
	for (i = 1; i < argc; i++) {
		if (hk_online_common_opt(&o->c, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0) {
			fputs(serve_usage, stdout);
			return 1;
		}
		if (strcmp(argv[i], "--no-ocsp") == 0) {
			o->no_ocsp = 1;
			continue;
		}
		if (strcmp(argv[i], "--worker") == 0) {
			o->worker = 1;
			continue;
		}
		for (k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
			if (strcmp(argv[i], nums[k].name) == 0)
				break;
		if (k < sizeof(nums) / sizeof(nums[0])) {
			unsigned n;

			if ((v = hk_online_opt_value(argc, argv, &i)) == NULL ||
			    (r = number(nums[k].name, v, nums[k].max, &n)) != 0)
				return HK_ERR_USAGE;
			if (nums[k].max == INT_MAX)
				*(int *)(void *)((char *)o + nums[k].off) =
				    (int)n;
			else
				*(unsigned *)(void *)((char *)o +
				    nums[k].off) = n;
			continue;
		}
		if (strcmp(argv[i], "--repo") == 0)
			v = o->repo = hk_online_opt_value(argc, argv, &i);
		else if (strcmp(argv[i], "--listen") == 0)
			v = o->listen = hk_online_opt_value(argc, argv, &i);
		else if (strcmp(argv[i], "--user") == 0)
			v = o->user = hk_online_opt_value(argc, argv, &i);
		else if (strcmp(argv[i], "--debug-bad-frame") == 0)
			v = o->bad_frame = hk_online_opt_value(argc, argv, &i);
		else {
			hk_err_set("%s: unknown argument (see --help)",
			    argv[i]);
			return HK_ERR_USAGE;
		}
		if (v == NULL)
			return HK_ERR_USAGE;
	}
	if (o->c.state == NULL || o->repo == NULL || (!o->worker &&
	    o->listen == NULL) || (o->worker && (o->channel_fd < 0 ||
	    o->listen_fd < 0))) {
		hk_err_set("--state, --repo and --listen are required (see "
		    "--help)");
		return HK_ERR_USAGE;
	}
	if (o->max_per_ip > o->max_conn) {
		hk_err_set("--max-per-client %u: at most --max-connections "
		    "(%u)", o->max_per_ip, o->max_conn);
		return HK_ERR_USAGE;
	}
	return 0;
}

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
	cfg.ocsp = !o->no_ocsp;
	cfg.user = o->user;
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
		unsigned v;
	} kv[] = {
		{ "--workers", o->workers },
		{ "--max-connections", o->max_conn },
		{ "--max-per-client", o->max_per_ip },
		{ "--timeout", o->timeout },
		{ "--sign-rate", o->sign_rate },
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
	ADD("--channel-fd");
	ADD("3");
	ADD("--listen-fd");
	ADD("4");
	for (k = 0; k < sizeof(kv) / sizeof(kv[0]); k++) {
		int w = snprintf(nums + used, nlen - used, "%u", kv[k].v);

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
	int r, fd = -1;

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
	if ((r = worker_argv(&o, av, sizeof(av) / sizeof(av[0]), nums,
	    sizeof(nums))) != 0 ||
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
	r = hk_keyholder_run(&cfg);
	fd = -1;			/* closed by hk_keyholder_run */
 out:
	if (fd >= 0)
		close(fd);
	hk_online_close(on);
	return r;
}

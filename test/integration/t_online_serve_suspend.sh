#!/usr/bin/env bash
# t_online_serve_suspend.sh - signing jobs never hold an HTTP thread
# (docs/process-model.md "What the worker does"): with the key holder
# stopped (SIGSTOP), 8 OCSP requests with a nonce (signing jobs) wait on a
# 4-thread worker; while they all still wait, 32 pre-signed requests (16 on
# keep-alive connections opened before, spread over the pool's threads, and
# 16 on new connections) must all be answered successful, every one before
# any of the waiting jobs is answered. On a worker whose pool threads wait
# for the key holder themselves, a pre-signed request on such a thread's
# connection waits with it (and a job over "workers - 1" is refused at
# once): this fails. Then SIGCONT: each job is answered tryLater or
# signed, none dropped and none an HTTP error; a job after it is signed.
# Last, jobs still waiting when the worker is stopped (SIGTERM) are each
# answered tryLater or closed, and the worker ends without a sanitizer
# report or libmicrohttpd's abort on a suspended connection, and serve
# exits 70 (the worker gone). Last, a job whose answer meets the channel
# closed by a killed worker: serve exits 70 too, not 3 (a protocol
# violation).
. "$(dirname "$0")/online.sh"
. "$(dirname "$0")/serve.sh"
SP=""
KP=""
cleanup() {
	if [ -n "$SP" ]; then
		kill -CONT "$KP" 2>/dev/null || true
		kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null
	fi
	return 0
}
trap cleanup EXIT

serve_one_cert
openssl ocsp -issuer "$ISS" -cert "$T/c.pem" -no_nonce -reqout "$T/plain.der" 2>/dev/null
openssl ocsp -issuer "$ISS" -cert "$T/c.pem" -reqout "$T/nonce.der" 2>/dev/null
check "a pre-signed request and a nonce request" test -s "$T/plain.der" -a -s "$T/nonce.der"

# --max-per-client 64: this client holds up to 40 connections at once (16
# kept, 8 waiting jobs, 16 new), over the default 32 per client, whose
# refusals (reset, broken pipe) made the first check fail under load;
# --sign-rate-per-party 10: this one party's 8 jobs are all queued
start_serve() { serve_start --clock 2026-04-03T12:00:00Z --workers 4 --sign-rate 10 --sign-rate-per-party 10 --max-per-client 64; }

cat >"$T/suspend.py" <<'EOF'
# argv: port token nonce.der plain.der keyholder-pid workers mode
# mode "order": print "presigned_ok presigned_total nonce_before nonce_total
#   nonce_signed nonce_busy nonce_other" (see the test's header);
# mode "stop": send the jobs, SIGTERM the worker (argv[5] is then its
#   pid), print "answered_busy closed other" once every job has ended.
import http.client, os, signal, sys, threading, time
port, tok = int(sys.argv[1]), sys.argv[2]
nonce, plain = open(sys.argv[3], "rb").read(), open(sys.argv[4], "rb").read()
pid, workers, mode = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
hdr = {"Content-Type": "application/ocsp-request", "Authorization": "Bearer " + tok}

def status(r, b):
    """The OCSP responseStatus (0 successful, 3 tryLater, ...) or "http"."""
    if r.status != 200 or len(b) < 5:
        return "http"
    i = 2 + (b[1] & 0x7f if b[1] & 0x80 else 0)
    return b[i + 2] if b[i:i + 2] == b"\x0a\x01" else "http"

def post(c, body):
    """One POST /ocsp on connection c: its status, "closed" (no answer)."""
    try:
        c.request("POST", "/ocsp", body, hdr)
        r = c.getresponse()
        return status(r, r.read())
    except Exception as e:
        print("#", repr(e), file=sys.stderr)
        return "closed"

lock = threading.Lock()
order = []		# ("nonce"|"plain", status), in order of completion
def nonce_job():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    st = post(c, nonce)
    c.close()
    with lock:
        order.append(("nonce", st))

# keep-alive connections, each answered once: the pool spreads them
keep = [http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(4 * workers)]
warm = [post(c, plain) for c in keep]
jobs = [threading.Thread(target=nonce_job) for _ in range(2 * workers)]
for t in jobs:
    t.start()
# the jobs reach the worker and wait (the key holder is stopped)
time.sleep(0.5)

if mode == "stop":
    os.kill(pid, signal.SIGTERM)
    for t in jobs:
        t.join()
    sts = [s for _, s in order]
    print(sts.count(3), sts.count("closed"), len(sts) - sts.count(3) - sts.count("closed"))
    sys.exit(0)

def plain_pair(c):
    # one on the kept connection, one on a new connection
    a = post(c, plain)
    n = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    b = post(n, plain)
    n.close()
    with lock:
        order.append(("plain", a))
        order.append(("plain", b))
ps = [threading.Thread(target=plain_pair, args=(c,)) for c in keep]
for t in ps:
    t.start()
for t in ps:
    t.join()
with lock:
    before = sum(1 for k, _ in order if k == "nonce")
    pl = [s for k, s in order if k == "plain"]
os.kill(pid, signal.SIGCONT)
for t in jobs:
    t.join()
for c in keep:
    c.close()
ns = [s for k, s in order if k == "nonce"]
print(pl.count(0) + warm.count(0), len(pl) + len(warm), before, len(ns),
      ns.count(0), ns.count(3), len(ns) - ns.count(0) - ns.count(3))
EOF

check "serve --workers 4 --sign-rate 10" start_serve
kill -STOP "$KP"
read -r pok ptot before ntot nsig nbusy noth < <(python3 "$T/suspend.py" "$PORT" "$(cat "$T/tok")" \
	"$T/nonce.der" "$T/plain.der" "$KP" 4 order)
check "key holder stopped, 8 jobs waiting: all $ptot pre-signed requests answered successful ($pok)" \
	test "$ptot" = 48 -a "$pok" = 48
check "... all of them before any waiting job was answered ($before of $ntot)" test "$before" = 0
check "... after SIGCONT each of the $ntot jobs answered tryLater ($nbusy) or signed ($nsig), none dropped ($noth)" \
	test "$ntot" = 8 -a "$noth" = 0 -a $((nsig + nbusy)) = 8
cat "$R" "$ISS" >"$T/chain.pem"
openssl ocsp -url "http://127.0.0.1:$PORT/ocsp" -header "Authorization=Bearer $(cat "$T/tok")" -issuer "$ISS" \
	-cert "$T/c.pem" -CAfile "$T/chain.pem" -attime "$(date -u -d 2026-04-03T12:00:00Z +%s)" \
	-validity_period "$(since 2026-04-01T00:00:00Z)" >"$T/after.txt" 2>&1 || true
check "a job after the stall is signed: good, verified, its nonce checked" sh -c \
	"grep -q 'Response verify OK' '$T/after.txt' && grep -q ': good' '$T/after.txt' && ! grep -qi 'nonce' '$T/after.txt'"
kill -TERM "$SP"
rc=0; wait "$SP" || rc=$?; SP=""
check "serve stops with status 0" test "$rc" = 0

# Jobs still waiting when the worker stops: each answered or closed, and
# the worker's exit is clean (no abort, no sanitizer report).
check "serve again" start_serve
kill -STOP "$KP"
read -r sbusy sclosed sother < <(python3 "$T/suspend.py" "$PORT" "$(cat "$T/tok")" \
	"$T/nonce.der" "$T/plain.der" "$WP" 4 stop)
kill -CONT "$KP"
rc=0; wait "$SP" || rc=$?; SP=""
check "worker stopped with 8 jobs waiting: each answered tryLater ($sbusy) or closed ($sclosed), nothing else ($sother)" \
	test "$sother" = 0 -a $((sbusy + sclosed)) = 8
# (70 whether the key holder finds the channel closed or its answer to a
# job it was sent meets the closed channel first)
check "... serve ends, the worker gone (status $rc: 70)" test "$rc" = 70
check "... no abort, no sanitizer report from the worker" sh -c \
	"! grep -qE 'suspended connections|AddressSanitizer|LeakSanitizer|runtime error|PANIC' '$T/serve.err'"

# The key holder's answer meets the worker gone: with the key holder
# stopped, one signing job is queued on its end of the channel (ss shows
# its bytes), the worker is killed (SIGKILL), then SIGCONT: the key holder
# reads the job, signs it, and its answer's write fails (EPIPE or
# ECONNRESET) before it reads the channel's end. That is the worker gone,
# not a protocol violation: exit 70, the worker-gone line and
# serve.worker fail, as when it reads the end first. (Before, the failed
# write was "the worker broke the channel protocol", exit 3.)
LOG=$O/audit/audit.log
# chan_queued PID: bytes waiting on PID's unix stream sockets (ss -x).
chan_queued() {
	ss -xpn 2>/dev/null | awk -v p="pid=$1," 'index($0, p) { n += $3 } END { print n + 0 }'
}
check "serve again" start_serve
kill -STOP "$KP"
curl -s -o /dev/null -m 30 -H "Content-Type: application/ocsp-request" \
	-H "Authorization: Bearer $(cat "$T/tok")" --data-binary @"$T/nonce.der" "$U/ocsp" &
CURL=$!
for _ in $(seq 100); do [ "$(chan_queued "$KP")" -gt 0 ] && break; sleep 0.1; done
check "... key holder stopped: the signing job waits on its end of the channel ($(chan_queued "$KP") bytes)" \
	test "$(chan_queued "$KP")" -gt 0
kill -KILL "$WP"
wait "$CURL" || true
kill -CONT "$KP"
for _ in $(seq 100); do kill -0 "$SP" 2>/dev/null || break; sleep 0.1; done
rc=0; wait "$SP" || rc=$?; SP=""
check "... worker killed, then SIGCONT: the answer meets the closed channel, serve exits 70 ($rc)" test "$rc" = 70
check "... its last line on stderr: the worker was killed, serve stops" sh -c \
	"tail -1 '$T/serve.err' | grep -q '^hanko-online serve: the worker killed by signal 9; serve stops (a supervisor restarts it)\$'"
check "... serve.worker fail in the audit log, no serve.channel fail" sh -c \
	"tail -5 '$LOG' | grep -q '	serve.worker	fail	op1@ca-online	the worker killed by signal 9; serve stops' && \
	! tail -5 '$LOG' | grep -q '	serve.channel	'"
finish

#!/usr/bin/env bash
# t_online_serve_malformed.sh - "hanko-online serve" under hostile input
# (issue 6, the malformed-request must-show; docs/relying-parties.md
# "Limits"): well over 100 malformed HTTP and OCSP requests sent raw with
# Python sockets - bad methods and versions, HTTP/0.9, no Host, huge
# request lines and headers, path traversal in every spelling, broken
# credentials, garbage, truncated and oversized DER, bad base64 in the GET
# form, bad lengths and chunking, a connection flood, and slow clients
# (silent, trickling headers, trickling a body). Each gets an error status
# (a dropped connection only where no answer can be made: HTTP/0.9, an
# endless chunked body, a slow client, which the server drops while it
# still trickles); a normal client is served while slow ones hold
# connections; a health GET after each group; both processes alive at the
# end, a clean stop, no sanitizer report. Times are printed, never checked
# (speed is the benchmarks' business).
. "$(dirname "$0")/online.sh"
. "$(dirname "$0")/serve.sh"

serve_one_cert
openssl ocsp -issuer "$ISS" -cert "$T/c.pem" -no_nonce -reqout "$T/req.der" 2>/dev/null
check "a valid OCSP request to spoil" test -s "$T/req.der"
# a symbolic link dropped into the set: not in MANIFEST, never served
ln -s /etc/passwd "$(readlink -f "$P")/root/evil.cer"

check "serve is listening" serve_start --clock 2026-04-03T12:00:00Z

cat >"$T/hostile.py" <<'EOF'
# One line per case: "ok|FAIL <TAB> name <TAB> what happened".
import base64, random, select, socket, sys, threading, time

H, PORT, TOK, REQ = "127.0.0.1", int(sys.argv[1]), open(sys.argv[2]).read().strip(), open(sys.argv[3], "rb").read()
ROOT = open(sys.argv[6], "rb").read()	# what GET /root/gen-1.cer must answer
out = open(sys.argv[4], "w")
CRL = "/crl/431010.crl"
AUTH = "Authorization: Bearer %s\r\n" % TOK

def report(ok, name, what):
    out.write("%s\t%s\t%s\n" % ("ok" if ok else "FAIL", name, what.replace("\t", " ").replace("\n", " ")[:200]))
    out.flush()

def raw(data, timeout=8.0, pace=None, progress=None):
    """Send data (bytes, or a list of chunks sent pace seconds apart; the
    sending stops early once the server answers or closes: progress
    ["unsent"] says how many chunks were left); the answer as (status or
    None, headers, body, seconds, closed). closed: the server ended the
    connection; False when it said nothing for timeout seconds."""
    t0 = time.time()
    s = socket.create_connection((H, PORT), timeout=timeout)
    buf = b""
    chunks = data if isinstance(data, list) else [data]
    unsent = len(chunks)
    try:
        for c in chunks:
            if c:
                s.sendall(c)
            unsent -= 1
            if pace:
                time.sleep(pace)
                if select.select([s], [], [], 0)[0]:
                    break
        while True:
            b = s.recv(65536)
            if not b:
                break
            buf += b
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        s.close()
        return None, b"", b"", time.time() - t0, False
    finally:
        if progress is not None:
            progress["unsent"] = unsent
    s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    st = None
    if buf.startswith(b"HTTP/1."):
        try:
            st = int(buf[9:12])
        except ValueError:
            pass
    return st, head, body, time.time() - t0, True

def req(method, path, headers="", body=b"", version="HTTP/1.1"):
    h = "%s %s %s\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s" % (method, path, version, headers)
    if body:
        h += "Content-Length: %d\r\n" % len(body)
    return h.encode("latin-1") + b"\r\n" + body

def ocsp_status(body):
    # OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, ... }
    if len(body) < 5 or body[0] != 0x30:
        return None
    i = 2 + (body[1] & 0x7f if body[1] & 0x80 else 0)
    if i + 2 >= len(body) or body[i] != 0x0a or body[i + 1] != 1:
        return None
    return body[i + 2]

def error(name, data, allow_close=False, want=None, **kw):
    st, head, body, dt, closed = raw(data, **kw)
    if want is not None:
        good = st in want
    else:
        good = st is not None and 400 <= st <= 599
    if st is None and allow_close and closed:
        good = True
    if st == 200 and (b"root:" in body or b"state.conf" in body):
        good = False
    report(good, name, "status %s in %.1f s" % (st, dt))

def health(group):
    st, head, body, dt, closed = raw(req("GET", "/root/gen-1.cer"), timeout=30)
    report(st == 200 and body == ROOT, "health after " + group, "status %s in %.2f s" % (st, dt))

def ocsp_post(name, der, want, ctype="application/ocsp-request", auth=AUTH):
    st, head, body, dt, closed = raw(req("POST", "/ocsp", auth + "Content-Type: %s\r\n" % ctype, der))
    os_ = ocsp_status(body) if st == 200 else None
    if isinstance(want, int):
        good = st == 200 and os_ == want
    else:
        good = st in want
    report(good, name, "HTTP %s, OCSP status %s" % (st, os_))

# 1. methods, versions, request lines
for m in ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO", "get", "PROPFIND"]:
    error("method %s on a file" % m, req(m, "/arl.crl"))
error("method PUT on /ocsp", req("PUT", "/ocsp"))
error("method DELETE on /ocsp/x", req("DELETE", "/ocsp/MA"))
error("GET /ocsp without the request", req("GET", "/ocsp", AUTH))
error("HTTP/0.9 request line", b"GET /root/gen-1.cer\r\n", allow_close=True)
error("HTTP/2.0 in an HTTP/1 request line", req("GET", "/root/gen-1.cer", version="HTTP/2.0"))
error("HTTP/9.9", req("GET", "/root/gen-1.cer", version="HTTP/9.9"))
error("HTTX/1.1", req("GET", "/root/gen-1.cer", version="HTTX/1.1"), allow_close=True)
error("HTTP/1.1 without Host", b"GET /root/gen-1.cer HTTP/1.1\r\nConnection: close\r\n\r\n")
st, head, body, dt, closed = raw(b"GET /root/gen-1.cer HTTP/1.0\r\n\r\n")
report(st == 200, "HTTP/1.0 without Host is fine (no Host in 1.0)", "status %s" % st)
error("a request line of garbage bytes", b"\x00\x01\x02\x03\xff\xfe\r\n\r\n", allow_close=True)
error("GET alone", b"GET\r\n\r\n", allow_close=True)
error("an extra word in the request line", b"GET /arl.crl HTTP/1.1 extra\r\nHost: x\r\n\r\n")
error("a 20 KB request line", req("GET", "/" + "a" * 20000))
error("a 20 KB header", req("GET", "/root/gen-1.cer", "X-Big: " + "b" * 20000 + "\r\n"))
error("200 headers of 100 bytes", req("GET", "/root/gen-1.cer", "".join("X-H%d: %s\r\n" % (i, "c" * 90) for i in range(200))))
error("a header without a colon", b"GET /root/gen-1.cer HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n")
# libmicrohttpd cuts a field value at a NUL: harmless on a public file,
# and a credential cut short is refused
st, head, body, dt, closed = raw(b"GET /root/gen-1.cer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-A: a\x00b\r\n\r\n")
report(st in (200, 400), "a NUL in a header of a public request: served or refused", "status %s" % st)
error("a NUL inside the bearer token", ("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\x00%s\r\n\r\n" %
      (CRL, TOK[:32], TOK[32:])).encode(), want=(400, 401, 403))
error("a space before the colon", b"GET /root/gen-1.cer HTTP/1.1\r\nHost : x\r\n\r\n")
error("absolute-form target", req("GET", "http://127.0.0.1/root/gen-1.cer"))
error("asterisk target", req("GET", "*"))
error("an empty request", b"\r\n\r\n", allow_close=True)
health("methods and request lines")

# 2. paths: traversal in every spelling, never a file outside the set
paths = ["/../etc/passwd", "/crl/../arl.crl", "/%2e%2e/etc/passwd", "/%2E%2E%2Fetc%2Fpasswd",
         "/root/..%2f..%2fstate.conf", "//etc/passwd", "/root//gen-1.cer", "/.MANIFEST", "/./arl.crl",
         "/root/./gen-1.cer", "/root\\gen-1.cer", "/root%5cgen-1.cer", "/arl.crl%00.txt", "/arl.crl%00",
         "/%00", "/%zz", "/%", "/%2", "/%252e%252e/etc/passwd", "/..;/arl.crl", "/crl/431010.crl/",
         "/crl/", "/root/", "/%20arl.crl", "/repo.sets/1/arl.crl", "/%c0%ae%c0%ae/etc/passwd",
         "/..%c0%af../etc/passwd", "/" + "x/" * 100 + "y", "/root/evil.cer", "/.", "/..", "/...",
         "/root/gen-1.cer%2f..%2f..%2fstate.conf", "/%2fetc%2fpasswd", "/crl/%2e%2e/MANIFEST",
         "/root/gen-1.cer;.crl", "/\x7froot", "/root/gen-1.cer\xff"]
for p in paths:
    error("path %r" % p, req("GET", p))
health("paths")

# 3. credentials on crl/: each refused (401/403/400/431), never the CRL
for name, h in [("Bearer without a token", "Authorization: Bearer\r\n"),
                ("Bearer with 64 'g'", "Authorization: Bearer " + "g" * 64 + "\r\n"),
                ("Bearer with 63 hex", "Authorization: Bearer " + TOK[:63] + "\r\n"),
                ("Bearer with 65 hex", "Authorization: Bearer " + TOK + "0\r\n"),
                ("Bearer upper-case hex", "Authorization: Bearer " + TOK.upper() + "\r\n"),
                ("Basic not base64", "Authorization: Basic !!!!\r\n"),
                ("Basic without a colon", "Authorization: Basic " + base64.b64encode(b"bank-1").decode() + "\r\n"),
                ("Basic with an empty name", "Authorization: Basic " + base64.b64encode((":" + TOK).encode()).decode() + "\r\n"),
                ("Basic with an empty token", "Authorization: Basic " + base64.b64encode(b"bank-1:").decode() + "\r\n"),
                ("Basic with a 200-byte name", "Authorization: Basic " + base64.b64encode(("n" * 200 + ":" + TOK).encode()).decode() + "\r\n"),
                ("Basic with a NUL in the name", "Authorization: Basic " + base64.b64encode(("bank-1\0:" + TOK).encode()).decode() + "\r\n"),
                ("Digest", "Authorization: Digest username=\"bank-1\"\r\n"),
                ("an 8 KB Authorization", "Authorization: Bearer " + "a" * 8000 + "\r\n"),
                ("two Authorization headers", "Authorization: Basic !!\r\nAuthorization: Bearer " + TOK + "x\r\n")]:
    st, head, body, dt, closed = raw(req("GET", CRL, h))
    report(st in (400, 401, 403, 431) and b"\x30\x82" not in body[:4], "credential: " + name, "status %s" % st)
health("credentials")

# 4. OCSP bodies (with a valid credential: they reach the parser)
rnd = random.Random(6960)
ocsp_post("OCSP: garbage text", b"hello, responder", 1)
ocsp_post("OCSP: empty body", b"", 1)
ocsp_post("OCSP: truncated DER (half)", REQ[:len(REQ) // 2], 1)
ocsp_post("OCSP: truncated DER (last byte)", REQ[:-1], 1)
ocsp_post("OCSP: trailing byte", REQ + b"\x00", 1)
ocsp_post("OCSP: BER indefinite length", b"\x30\x80" + REQ[2:] + b"\x00\x00", 1)
ocsp_post("OCSP: 2000 nested SEQUENCEs", b"\x30\x80" * 2000, 1)
ocsp_post("OCSP: a length of 2^32", b"\x30\x84\xff\xff\xff\xff" + REQ, 1)
ocsp_post("OCSP: the outer tag changed", b"\x31" + REQ[1:], 1)
ocsp_post("OCSP: a certificate instead", open(sys.argv[5], "rb").read(), 1)
for i in range(12):
    ocsp_post("OCSP: random bytes %d" % i, bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 400))), 1)
for i in range(8):
    b = bytearray(REQ)
    b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
    st, head, body, dt, closed = raw(req("POST", "/ocsp", AUTH + "Content-Type: application/ocsp-request\r\n", bytes(b)))
    report(st == 200 and ocsp_status(body) in (0, 1, 6), "OCSP: one bit flipped %d" % i,
           "HTTP %s, OCSP status %s" % (st, ocsp_status(body)))
ocsp_post("OCSP: over 4096 bytes (Content-Length)", b"\x30" * 5000, (413,))
ocsp_post("OCSP: wrong Content-Type", REQ, (415,), ctype="application/x-www-form-urlencoded")
ocsp_post("OCSP: garbage without a credential", b"garbage", 6, auth="")
error("OCSP: no Content-Type", req("POST", "/ocsp", AUTH, REQ), want=(415,))
error("OCSP: Content-Length -1", b"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n" + AUTH.encode() + b"Content-Length: -1\r\n\r\n", allow_close=True)
error("OCSP: Content-Length abc", b"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n" + AUTH.encode() + b"Content-Length: abc\r\n\r\n", allow_close=True)
error("OCSP: two different Content-Lengths", b"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n" + AUTH.encode() + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef", allow_close=True)
# a transfer coding libmicrohttpd does not read (it would take the body as
# running to the end of the connection and answer nothing): refused at once
for te, st in [("gzip", 400), ("chunked, gzip", 400), ("xchunked", 400), ("gzip, chunked", 501), ("chunked ", 501)]:
    error("Transfer-Encoding: %r on a GET: %d at once" % (te, st), req("GET", "/root/gen-1.cer",
          "Transfer-Encoding: %s\r\n" % te, b"") + b"0\r\n\r\n", want=(st,))
error("two Transfer-Encoding fields (chunked twice): 501", req("GET", "/root/gen-1.cer",
      "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n") + b"0\r\n\r\n", want=(501,))
error("two Host fields: 400 (RFC 9112 3.2)", req("GET", "/root/gen-1.cer", "Host: other.example\r\n"), want=(400,))
# another method with a body too long to read through: still its 405
error("PUT with a 10 KB body: 405", req("PUT", "/arl.crl", "", b"x" * 10000), want=(405,))
error("POST with a 10 KB body on a file: 405", req("POST", "/root/gen-1.cer", "", b"x" * 10000), want=(405,))
error("PUT /ocsp with a 10 KB body: 405", req("PUT", "/ocsp", AUTH, b"\x30" * 10000), want=(405,))
error("OCSP: a bad chunk size", b"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n" + AUTH.encode() + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", allow_close=True)
# an endless chunked body: dropped once over the limit
chunk = b"1000\r\n" + b"\x30" * 4096 + b"\r\n"
error("OCSP: a chunked body over the limit", [b"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n" + AUTH.encode() + b"Transfer-Encoding: chunked\r\n\r\n"] + [chunk] * 40, allow_close=True)
health("OCSP bodies")

# 5. the GET form
g = "/ocsp/"
for name, p in [("not base64", g + "!!!!"), ("empty", g), ("one character", g + "A"),
                ("a space inside", g + base64.b64encode(REQ).decode()[:10] + "%20" + base64.b64encode(REQ).decode()[10:]),
                ("a bad escape", g + "MEow%"), ("an escaped NUL", g + "MEow%00AA"),
                ("over 4096 bytes", g + "A" * 6000), ("padding in the middle", g + "AB==CD==")]:
    error("OCSP GET: " + name, req("GET", p, AUTH))
for name, der in [("garbage", b"garbage!"), ("truncated", REQ[:20]), ("trailing byte", REQ + b"\x01")]:
    st, head, body, dt, closed = raw(req("GET", g + base64.urlsafe_b64encode(der).decode().rstrip("="), AUTH))
    report(st == 200 and ocsp_status(body) == 1, "OCSP GET: " + name, "HTTP %s, OCSP status %s" % (st, ocsp_status(body)))
error("POST to /ocsp/<x>", req("POST", g + "MEow", AUTH + "Content-Type: application/ocsp-request\r\n", REQ))
error("HEAD /ocsp", req("HEAD", "/ocsp", AUTH))
health("the GET form")

# 6. a flood of connections: the per-client cap; the server stays up
socks = []
for i in range(60):
    try:
        socks.append(socket.create_connection((H, PORT), timeout=2))
    except OSError:
        pass
time.sleep(0.5)
for s in socks:
    s.close()
time.sleep(0.5)
health("60 idle connections")

# 7. slow clients: silent, trickling headers, trickling a body - each
# dropped by the server (its idle timeout or request deadline: LIMIT s)
# while it still trickles; meanwhile a normal client is served, each time
# while they still hold their connections (not once they were dropped).
results = []
def slow(name, data, pace, limit):
    progress = {}
    st, head, body, dt, closed = raw(data, timeout=limit + 5, pace=pace, progress=progress)
    results.append((name, st, dt, closed, limit, pace is None or progress["unsent"] > 0, progress["unsent"]))
threads = [threading.Thread(target=slow, args=("a silent connection", b"", None, 8)),
           threading.Thread(target=slow, args=("a silent connection (2)", b"", None, 8)),
           threading.Thread(target=slow, args=("headers trickled 1 byte/s",
                            [bytes([c]) for c in b"GET /root/gen-1.cer HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 40], 1.0, 14)),
           threading.Thread(target=slow, args=("a header line every 0.8 s",
                            [b"GET /root/gen-1.cer HTTP/1.1\r\nHost: x\r\n"] + [b"X-%d: y\r\n" % i for i in range(40)], 0.8, 14)),
           threading.Thread(target=slow, args=("a body trickled 1 byte/s",
                            [b"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n" + AUTH.encode() +
                             b"Content-Length: 1000\r\n\r\n"] + [b"\x30"] * 40, 1.0, 14))]
for t in threads:
    t.start()
time.sleep(1.5)
worst, served = 0, 0
for i in range(8):
    st, head, body, dt, closed = raw(req("GET", "/root/gen-1.cer"), timeout=30)
    served += st == 200 and body == ROOT and any(t.is_alive() for t in threads)
    worst = max(worst, dt)
    time.sleep(0.5)
report(served == 8, "others served while slow clients hold connections",
       "%d of 8 answered while they held them, the slowest in %.2f s" % (served, worst))
for t in threads:
    t.join()
for name, st, dt, closed, limit, early, unsent in results:
    report(closed and st != 200 and early, "slow client dropped: " + name,
           "status %s, closed %s after %.1f s (limit %d s), %d chunks unsent" % (st, closed, dt, limit, unsent))
health("slow clients")
EOF

python3 "$T/hostile.py" "$PORT" "$T/tok" "$T/req.der" "$T/results" "$CERT" "$P/root/gen-1.cer" 2>"$T/py.err" || true
check "the hostile client ran to its end" sh -c "test -s '$T/results' && ! grep -q Traceback '$T/py.err'"
N=$(wc -l <"$T/results")
check "at least 100 hostile requests ($N cases)" test "$N" -ge 100
while IFS=$'\t' read -r res name what; do
	check "$name ($what)" test "$res" = ok
done <"$T/results"
check "the key holder is alive" kill -0 "$KP"
check "the worker is alive" kill -0 "$WP"
code=$(curl -sS -o "$T/last.cer" -w '%{http_code}' "http://127.0.0.1:$PORT/root/gen-1.cer")
check "a last GET: 200, the certificate" sh -c "test '$code' = 200 && cmp -s '$T/last.cer' '$P/root/gen-1.cer'"
kill "$SP"
rc=0
wait "$SP" || rc=$?
SP=""
check "serve stops cleanly (exit 0)" test "$rc" = 0
check "no sanitizer or crash report from either process" sh -c \
	"! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error|Segmentation|Aborted' '$T/serve.err'"
check "the audit log verifies" "$OFF" audit verify --log "$O/audit/audit.log"
check "the refusals are in it, rate-limited (fewer than 60 records)" sh -c \
	"n=\$(grep -c '	repo.refuse	\|	ocsp.refuse	' '$O/audit/audit.log'); test \$n -ge 1 -a \$n -lt 60"
finish

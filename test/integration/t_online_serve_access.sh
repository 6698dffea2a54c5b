#!/usr/bin/env bash
# t_online_serve_access.sh - serve's access log (docs/ocsp.md "Access log";
# CPS 4-11-2: 有効性確認に関するすべてのアクセス・稼動ログ): with --access-log FILE
# every answer serve gives is one line, time, client, relying party, method,
# path, status and body bytes, TAB-separated, the path escaped; "-" writes
# them on standard output (the journal of a systemd unit); a FILE that
# cannot be opened to append is refused before the token is touched; lines
# that cannot be written (the file over RLIMIT_FSIZE, SIGXFSZ ignored:
# EFBIG) are counted and audited as serve.access-log fail, and serve goes on
# answering. Before the access log, only refusals were audited and
# provisions counted: no answer was recorded as an access.
. "$(dirname "$0")/online.sh"
. "$(dirname "$0")/serve.sh"
LOG=$O/audit/audit.log
AL=$T/access.log

serve_one_cert
TOK=$(cat "$T/tok")
CRL=$(cd "$P" && ls crl/*.crl | head -1)

# The file: refused whole, before anything else, with the file named.
mkdir -p "$T/adir"
ln -s "$T/elsewhere.log" "$T/link.log"
fails "--access-log in a folder that does not exist: refused (exit 3)" 3 \
	"^hanko-online serve: --access-log $T/nodir/a.log: cannot open to append: No such file or directory$" \
	"$ON" serve --state "$O" --repo "$P" --listen 127.0.0.1:0 --access-log "$T/nodir/a.log"
fails "--access-log a folder: refused (exit 3)" 3 "^hanko-online serve: --access-log $T/adir: cannot open to append: Is a directory$" \
	"$ON" serve --state "$O" --repo "$P" --listen 127.0.0.1:0 --access-log "$T/adir"
fails "--access-log a symbolic link: refused (exit 3)" 3 \
	"^hanko-online serve: --access-log $T/link.log: cannot open to append: Too many levels of symbolic links$" \
	"$ON" serve --state "$O" --repo "$P" --listen 127.0.0.1:0 --access-log "$T/link.log"
check "... nothing made where the link points" test ! -e "$T/elsewhere.log"

# The lines: one per answer, in the order given on one connection each.
echo "an earlier line" >"$AL"
check "serve --access-log FILE" serve_start --clock 2026-04-03T12:00:00Z --access-log "$AL"
req() { curl -s -o "$T/body" -w '%{http_code} %{size_download}\n' "$@" >>"$T/got" 2>/dev/null || echo "000 0" >>"$T/got"; }
: >"$T/got"
req "$U/"
req "$U/$CRL"
req -H "Authorization: Bearer $TOK" "$U/$CRL"
ETAG=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $TOK" "$U/$CRL" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
echo "200 $(stat -c %s "$P/$CRL")" >>"$T/got"
req -H "Authorization: Bearer $TOK" -H "If-None-Match: $ETAG" "$U/$CRL"
openssl ocsp -issuer "$ISS" -cert "$T/c.pem" -no_nonce -reqout "$T/ocsp.req" 2>/dev/null
req -H "Authorization: Bearer $TOK" -H "Content-Type: application/ocsp-request" --data-binary "@$T/ocsp.req" "$U/ocsp"
req "$U/no%20such%25file"
req -X DELETE "$U/arl.crl"
check "... the answers (curl): 200, 401, 200, 200, 304, 200, 400, 405" \
	test "$(cut -d' ' -f1 "$T/got" | tr '\n' ' ')" = "200 401 200 200 304 200 400 405 "
for _ in $(seq 100); do [ "$(wc -l <"$AL")" -ge 9 ] && break; sleep 0.1; done
check "... one line for each, after the line the file had" test "$(wc -l <"$AL")" = 9 -a "$(head -1 "$AL")" = "an earlier line"
tail -n +2 "$AL" >"$T/lines"
check "... each: time (UTC), client, party, method, path, status, bytes" \
	awk -F'\t' 'NF != 7 || $1 !~ /^2026-04-03T12:00:00Z$/ || $2 != "127.0.0.1" || $7 !~ /^[0-9]+$/ { bad = 1 } END { exit bad }' "$T/lines"
check "... party, method, path, status in order" test "$(cut -f3-6 "$T/lines" | tr '\t\n' ' |')" = \
	"- GET / 200|- GET /$CRL 401|bank-1 GET /$CRL 200|bank-1 GET /$CRL 200|bank-1 GET /$CRL 304|bank-1 POST /ocsp 200|- GET /no%20such%25file 400|- DELETE /arl.crl 405|"
check "... the bytes are the bodies curl got" test "$(cut -f6-7 "$T/lines" | tr '\t' ' ')" = "$(cat "$T/got")"
check "... the body of the 200 is the CRL's size" test "$(sed -n 3p "$T/lines" | cut -f7)" = "$(stat -c %s "$P/$CRL")"
check "stop serve" stop_serve
check "... no line after the stop" test "$(wc -l <"$AL")" = 9

# "-": on standard output, after the listening line.
check "serve --access-log - (standard output)" serve_start --clock 2026-04-03T12:00:00Z --access-log -
curl -s -o /dev/null -H "Authorization: Bearer $TOK" "$U/$CRL"
for _ in $(seq 100); do grep -q "	bank-1	GET	/$CRL	200	" "$T/serve.out" && break; sleep 0.1; done
check "... the line is on serve's standard output" grep -q "^2026-04-03T12:00:00Z	127.0.0.1	bank-1	GET	/$CRL	200	[0-9]*$" "$T/serve.out"
# RFC 9110 9.1: a general-purpose server supports HEAD wherever GET: the GET
# form of OCSP (RFC 6960 A.1) too (it was 405); HEAD counts no provision.
B64=$(base64 -w0 "$T/ocsp.req" | sed 's/+/%2B/g; s,/,%2F,g; s/=/%3D/g')
curl -s -o "$T/get.body" -D "$T/get.hdr" -H "Authorization: Bearer $TOK" "$U/ocsp/$B64"
curl -s -I -o "$T/head.hdr" -H "Authorization: Bearer $TOK" "$U/ocsp/$B64"
hval() { tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | head -1; }
check "HEAD /ocsp/<base64>: 200, the GET's Content-Type and Content-Length" test \
	"$(head -1 "$T/head.hdr" | cut -d' ' -f2) $(hval "$T/head.hdr" Content-Type) $(hval "$T/head.hdr" Content-Length)" = \
	"200 application/ocsp-response $(stat -c %s "$T/get.body")"
check "... the GET's body is an OCSP response" sh -c "openssl ocsp -respin '$T/get.body' -resp_text -noverify 2>/dev/null | grep -q 'OCSP Response Status: successful'"
curl -s -o "$T/put.body" -D "$T/put.hdr" -X PUT -H "Authorization: Bearer $TOK" "$U/ocsp/$B64"
check "PUT /ocsp/<base64>: 405, Allow: GET, HEAD" test "$(head -1 "$T/put.hdr" | cut -d' ' -f2) $(hval "$T/put.hdr" Allow)" = "405 GET, HEAD"
for _ in $(seq 100); do grep -q "	PUT	/ocsp/" "$T/serve.out" && break; sleep 0.1; done
check "... the access lines: GET, HEAD (the same bytes), PUT" test "$(grep "	/ocsp/" "$T/serve.out" | cut -f3,4,6,7 | tr '\t\n' ' |')" = \
	"bank-1 GET 200 $(stat -c %s "$T/get.body")|bank-1 HEAD 200 $(stat -c %s "$T/get.body")|- PUT 405 $(stat -c %s "$T/put.body")|"
check "stop serve" stop_serve

# Lines that cannot be written: a file at RLIMIT_FSIZE (bash's ulimit -f, in
# KiB; a sparse file at the limit) with SIGXFSZ ignored, inherited by both
# processes: the access log's appends fail with EFBIG, the store and the
# audit log are far below the limit.
truncate -s 65536K "$T/full.log"
n0=$(grep -c '	serve\.access-log	fail	' "$LOG" || true)
check "serve --access-log FILE at its size limit" bash -c "trap '' XFSZ; ulimit -f 65536
	$(declare -f serve_start); T='$T' ON='$ON' O='$O' P='$P'; serve_start --clock 2026-04-03T12:00:00Z --access-log '$T/full.log'
	echo \$SP >'$T/sp'; disown"
SP=$(cat "$T/sp")
U=http://127.0.0.1:$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/serve.out")
check "... it still answers (three GETs)" sh -c "for i in 1 2 3; do curl -sf -o /dev/null -H 'Authorization: Bearer $TOK' '$U/$CRL' || exit 1; done"
for _ in $(seq 100); do [ "$(grep -c '	serve\.access-log	fail	' "$LOG" || true)" -gt "$n0" ] && break; sleep 0.1; done
check "... the lines not written audited: serve.access-log fail, their number and why" \
	grep -Eq "	serve\.access-log	fail	op1@ca-online	[1-3] lines of the access log not written: File too large	" "$LOG"
check "... the file unchanged" test "$(stat -c %s "$T/full.log")" = $((65536 * 1024))
# not our child (the subshell started it): stopped and waited for by pid
kill "$SP"
for _ in $(seq 100); do kill -0 "$SP" 2>/dev/null || break; sleep 0.1; done
check "stop serve" sh -c "! kill -0 $SP 2>/dev/null && tail -1 '$LOG' | cut -f3 | grep -qx audit.checkpoint &&
	grep -q '	serve\.stop	ok	' '$LOG' && ! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' '$T/serve.err'"
SP=""
finish

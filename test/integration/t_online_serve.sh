#!/usr/bin/env bash
# t_online_serve.sh - "hanko-online serve" and "rp" (issue 6 items 1 and 3;
# CPS 2-6-3, 4-4-4-1..5, 4-5; docs/relying-parties.md,
# docs/process-model.md): a working publisher (make_online) with six
# residents' certificates (one revoked), an OCSP responder and a published
# set; then, with curl and openssl only:
#   - public files: status, content types, bytes identical to the set,
#     ETag = SHA-256 and If-None-Match -> 304, HEAD, Cache-Control never
#     beyond a CRL's nextUpdate (a server whose clock is 100 s before it);
#   - crl/ and MANIFEST: 401 with both challenges without a credential,
#     403 for a wrong, malformed or retired token or another party's name,
#     200 with Bearer and with Basic; the refusals audited, identical ones
#     once with a count; the provisions counted in the store in batches;
#   - OCSP: good / revoked / unknown with openssl ocsp and Bearer, a nonce,
#     the GET form, unauthorized (6) for no or a retired credential;
#   - a set swapped by publish while clients fetch: every answer is the old
#     CRL or the new one with its own ETag, never anything else;
#   - the process model: the worker never loaded the token's module, runs
#     as --user nobody, and a bad frame on the channel stops serve with an
#     audit record (exit 3); SIGHUP re-signs after a revocation;
#   - a relying party's check: the partition CRL fetched over HTTP with
#     credentials, openssl verify -crl_check (good ok, revoked refused) and
#     certtool --verify --load-crl after certtool --verify-crl of that CRL
#     (certtool does not check the CRL it is given); a file damaged on
#     disk refused with 500.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
. "$HANKO_SRC/test/data/online/setup.sh"
. "$(dirname "$0")/serve.sh"
fresh_tmp
T=$HANKO_TMP

make_online "$T"
P=$T/repo
LOG=$O/audit/audit.log
db() { sqlite3 "$O/store.db" "$1"; }
at() { date -u -d "$1" +%s; }

# Six residents; the one of 432024 (Yatsushiro) revoked.
B=$T/req
req_dir "$B" 7
ok "issue six certificates" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/issued"
certs_from "$T/issued"
serial() { sed -n "s/^$1,ok,\([0-9A-F]*\),.*/\1/p" "$T/issued/results.csv"; }
S_GOOD=$(serial 2)	# 431010 Kumamoto-shi Chuo-ku
S_REV=$(serial 3)	# 432024 Yatsushiro-shi
S_LATE=$(serial 5)	# 432105 Kikuchi-shi, revoked while serving
for s in "$S_GOOD" "$S_REV" "$S_LATE"; do
	openssl x509 -inform DER -in "$T/issued/certs/$s.der" -out "$T/$s.pem"
done
ok "revoke 432024's: keyCompromise" "$ON" revoke --state "$O" --clock 2026-04-03T09:00:00Z --serial "$S_REV" \
	--reason key-compromise
# the test's time goes forward (the clock guard, docs/clock.md): the
# responder after the revocation, the relying parties after the publish
ok "the OCSP responder" "$ON" responder --state "$O" --clock 2026-04-03T09:15:00Z
ok "offline: 12 ARLs" arl_batch 12 2026-04-02T11:00:00Z
ok "offline: bundle of the ARLs" arl_bundle 12 2026-04-02T12:00:00Z
ok "import the ARLs" "$ON" import --state "$O" --clock 2026-04-03T09:30:00Z --type arl-batch "$T/b-arl"
ok "publish set 1" "$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T10:00:00Z
cat "$R" "$ISS" >"$T/chain.pem"

# Relying parties (CPS 4-4-4-3, 4-4-4-5), at 04-03T11:00 (RPC).
RPC=(--clock 2026-04-03T11:00:00Z)
fails "rp add: a name with a space" 2 "--name a b: 1 to 64 of" "$ON" rp add --state "$O" "${RPC[@]}" --name "a b"
ok "rp add bank-1 (token on stdout)" "$ON" rp add --state "$O" "${RPC[@]}" --name bank-1
TOK1=$(tail -1 "$HANKO_TMP/out")
check "... the token is 64 lowercase hex, shown once" sh -c "echo '$TOK1' | grep -qxE '[0-9a-f]{64}'"
check "... the store holds only its SHA-256" test "$(db "SELECT hex(credential) FROM relying_parties WHERE name = 'bank-1'")" = \
	"$(printf %s "$TOK1" | sha256sum | cut -c1-64 | tr a-f A-F)"
check "... the token itself is nowhere in the state folder" sh -c "! grep -rqa '$TOK1' '$O'"
ok "rp add city-2 --token-out" "$ON" rp add --state "$O" "${RPC[@]}" --name city-2 --token-out "$T/city-2.token"
TOK2=$(cat "$T/city-2.token")
check "... the token file is mode 0600 and not on stdout" sh -c \
	"test \$(stat -c %a '$T/city-2.token') = 600 && ! grep -q '$TOK2' '$HANKO_TMP/out'"
fails "rp add: the same name again" 7 "registered once" "$ON" rp add --state "$O" "${RPC[@]}" --name bank-1
fails "rp add: --token-out over an existing file" 7 "already exists" \
	"$ON" rp add --state "$O" "${RPC[@]}" --name city-3 --token-out "$T/city-2.token"
check "... and city-3 was not registered" test "$(db "SELECT count(*) FROM relying_parties WHERE name = 'city-3'")" = 0
ok "rp add old-3" "$ON" rp add --state "$O" "${RPC[@]}" --name old-3
TOK3=$(tail -1 "$HANKO_TMP/out")
ok "rp retire old-3" "$ON" rp retire --state "$O" "${RPC[@]}" --name old-3
fails "rp retire: again" 3 "retired already" "$ON" rp retire --state "$O" "${RPC[@]}" --name old-3
fails "rp retire: unknown" 3 "no such relying party" "$ON" rp retire --state "$O" "${RPC[@]}" --name nobody-9
ok "rp list" "$ON" rp list --state "$O"
check "... three parties, old-3 retired" sh -c "grep -c '^bank-1 \|^city-2 \|^old-3 ' '$HANKO_TMP/out' | grep -qx 3 && \
	grep '^old-3 ' '$HANKO_TMP/out' | grep -qE 'token +[0-9TZ:-]+ +[0-9]{4}-'"
check "audit: rp.add and rp.retire records" sh -c "test \$(grep -c '	rp.add	ok	op1@ca-online	' '$LOG') = 3 && \
	grep -q '	rp.retire	ok	op1@ca-online	old-3: retired' '$LOG' && grep -q '	rp.add	fail	' '$LOG'"

# serve: start it (serve.sh), --flush 1 for the provision counts.
start_serve() { serve_start --flush 1 "$@"; }
# get NAME URL [curl args]: body in $T/NAME.body, headers in $T/NAME.hdr,
# status in $T/NAME.code
get() {
	local n=$1 u=$2; shift 2
	curl -sS -o "$T/$n.body" -D "$T/$n.hdr" -w '%{http_code}' "$@" "$u" >"$T/$n.code" 2>/dev/null || true
	tr -d '\r' <"$T/$n.hdr" >"$T/$n.h" && mv "$T/$n.h" "$T/$n.hdr"
}
code() { cat "$T/$1.code"; }
hdr() { sed -n "s/^$2: //Ip" "$T/$1.hdr" | head -1; }
sha() { sha256sum <"$1" | cut -c1-64; }

fails "serve: --listen without a port" 2 "expected ADDR:PORT" "$ON" serve --state "$O" --repo "$P" --listen 127.0.0.1
fails "serve: --workers 0" 2 "--workers 0: a whole number from 1 to 64" \
	"$ON" serve --state "$O" --repo "$P" --listen 127.0.0.1:0 --workers 0
check "serve starts (clock 2026-04-03T12:00:00Z)" start_serve --clock 2026-04-03T12:00:00Z
check "... serve.start and the pre-signed OCSP responses are audited" sh -c \
	"grep -q '	serve.start	ok	op1@ca-online	listening on 127.0.0.1:' '$LOG' && grep -q '	ocsp.refresh	ok	op1@ca-online	start: [0-9]* responses signed' '$LOG'"

# Public files (CPS 2-6-3): free, typed, identical to the set.
get gen1 "$U/root/gen-1.cer"
check "root/gen-1.cer: 200, application/pkix-cert" test "$(code gen1) $(hdr gen1 Content-Type)" = "200 application/pkix-cert"
check "... byte-identical to the set" cmp "$T/gen1.body" "$P/root/gen-1.cer"
check "... ETag is the file's SHA-256" test "$(hdr gen1 ETag)" = "\"$(sha "$P/root/gen-1.cer")\""
check "... Cache-Control: public, max-age=3600" test "$(hdr gen1 Cache-Control)" = "public, max-age=3600"
check "... Last-Modified is an HTTP date" test -n "$(date -d "$(hdr gen1 Last-Modified)" +%s 2>/dev/null)"
ET=$(hdr gen1 ETag)
get gen1c "$U/root/gen-1.cer" -H "If-None-Match: $ET"
check "If-None-Match with the ETag: 304, no body, same ETag" test "$(code gen1c) $(cat "$T/gen1c.body" 2>/dev/null | wc -c) $(hdr gen1c ETag)" = "304 0 $ET"
get gen1w "$U/root/gen-1.cer" -H "If-None-Match: \"00\", W/$ET"
check "If-None-Match: a list with the weak form: 304" test "$(code gen1w)" = 304
get gen1o "$U/root/gen-1.cer" -H 'If-None-Match: "0000"'
check "If-None-Match with another tag: 200" test "$(code gen1o)" = 200
get gen1h "$U/root/gen-1.cer" -I
check "HEAD: 200, Content-Length of the file" test "$(code gen1h) $(hdr gen1h Content-Length)" = "200 $(stat -c %s "$P/root/gen-1.cer")"
get p7c "$U/root/roots.p7c"
check "root/roots.p7c: application/pkcs7-mime, identical" sh -c "test '$(code p7c) $(hdr p7c Content-Type)' = '200 application/pkcs7-mime' && cmp -s '$T/p7c.body' '$P/root/roots.p7c'"
get iss "$U/issuing/issuing-1.cer"
check "issuing/issuing-1.cer: pkix-cert, identical" sh -c "test '$(code iss) $(hdr iss Content-Type)' = '200 application/pkix-cert' && cmp -s '$T/iss.body' '$P/issuing/issuing-1.cer'"
RESP=$(cd "$P" && ls responder/*.cer | head -1)
get rsp "$U/$RESP"
check "$RESP: pkix-cert, identical" sh -c "test '$(code rsp)' = 200 && cmp -s '$T/rsp.body' '$P/$RESP'"
get arl "$U/arl.crl"
check "arl.crl without a credential: 200 application/pkix-crl, identical" sh -c \
	"test '$(code arl) $(hdr arl Content-Type)' = '200 application/pkix-crl' && cmp -s '$T/arl.body' '$P/arl.crl'"
check "... Cache-Control: public, max-age=300 (nextUpdate is days away)" test "$(hdr arl Cache-Control)" = "public, max-age=300"
get idx "$U/"
check "/: the index page, text/html, names the root certificate" sh -c \
	"test '$(code idx) $(hdr idx Content-Type)' = '200 text/html; charset=utf-8' && grep -q 'gen-1.cer' '$T/idx.body'"
check "keep-alive: a second request on the same connection" sh -c \
	"curl -sv -o /dev/null -o /dev/null '$U/root/gen-1.cer' '$U/arl.crl' 2>&1 | grep -q 'Re-using existing connection'"
get none "$U/root/gen-9.cer"
check "a file not in MANIFEST: 404" test "$(code none)" = 404
get post "$U/root/gen-1.cer" -X POST -d x
check "POST on a file: 405, Allow: GET, HEAD" test "$(code post) $(hdr post Allow)" = "405 GET, HEAD"

# crl/ and MANIFEST: registered relying parties only (CPS 2-6-3, 4-4-4-5).
C=crl/431010.crl
get c0 "$U/$C"
check "$C without a credential: 401" test "$(code c0)" = 401
check "... WWW-Authenticate: Bearer and Basic" sh -c "grep -q '^WWW-Authenticate: Bearer realm=\"hanko\"' '$T/c0.hdr' && \
	grep -q '^WWW-Authenticate: Basic realm=\"hanko\"' '$T/c0.hdr'"
check "... no CRL bytes in the answer" sh -c "! cmp -s '$T/c0.body' '$P/$C'"
get m0 "$U/MANIFEST"
check "MANIFEST without a credential: 401" test "$(code m0)" = 401
get cw "$U/$C" -H "Authorization: Bearer $(printf %064d 7)"
check "$C with an unknown token: 403" test "$(code cw)" = 403
get cm "$U/$C" -H "Authorization: Bearer not-a-token"
check "$C with a malformed token: 403" test "$(code cm)" = 403
get cr "$U/$C" -H "Authorization: Bearer $TOK3"
check "$C with the retired party's token: 403" test "$(code cr)" = 403
get cn "$U/$C" -u "city-2:$TOK1"
check "$C with Basic, bank-1's token under city-2's name: 403" test "$(code cn)" = 403
get cb "$U/$C" -H "Authorization: Bearer $TOK1"
check "$C with bank-1's Bearer token: 200 application/pkix-crl" test "$(code cb) $(hdr cb Content-Type)" = "200 application/pkix-crl"
check "... identical to the set, ETag its SHA-256" sh -c "cmp -s '$T/cb.body' '$P/$C' && test '$(hdr cb ETag)' = '\"$(sha "$P/$C")\"'"
check "... Cache-Control private (never in a shared cache), Vary: Authorization" \
	test "$(hdr cb Cache-Control) / $(hdr cb Vary)" = "private, max-age=300 / Authorization"
check "... Last-Modified is the CRL's thisUpdate" test "$(hdr cb Last-Modified)" = "Fri, 03 Apr 2026 10:00:00 GMT"
get cs "$U/$C" -u "city-2:$TOK2"
check "$C with Basic city-2:<token>: 200, identical" sh -c "test '$(code cs)' = 200 && cmp -s '$T/cs.body' '$P/$C'"
get ms "$U/MANIFEST" -u "city-2:$TOK2"
check "MANIFEST with Basic: 200, identical" sh -c "test '$(code ms)' = 200 && cmp -s '$T/ms.body' '$P/MANIFEST'"
for i in 1 2 3; do get cb$i "$U/$C" -H "Authorization: Bearer $TOK1"; done
get cb304 "$U/$C" -H "Authorization: Bearer $TOK1" -H "If-None-Match: $(hdr cb ETag)"
check "$C If-None-Match with a credential: 304" test "$(code cb304)" = 304
check "... with the Vary: Authorization of its 200 (RFC 9110 15.4.5)" test "$(hdr cb304 Vary)" = Authorization
get cc0 "$U/crl/432024.crl" -H "Authorization: Bearer $TOK1"
get arl1 "$U/arl.crl" -u "bank-1:$TOK1"
for _ in $(seq 40); do get flood "$U/$C"; done
check "40 more requests without a credential: all 401" test "$(code flood)" = 401

# OCSP (CPS 4-4-4-1..3; RFC 6960): openssl ocsp as the relying party.
AT=$(at 2026-04-03T12:00:00Z)
OCSP=(-issuer "$ISS" -CAfile "$T/chain.pem" -attime "$AT" -validity_period "$(since 2026-04-01T00:00:00Z)")
ocsp() { openssl ocsp -url "$U/ocsp" "${OCSP[@]}" "$@" 2>&1; }
ocsp -header "Authorization=Bearer $TOK1" -cert "$T/$S_GOOD.pem" -no_nonce >"$T/o1" || true
check "OCSP, pre-signed (no nonce): good, the response verifies" sh -c "grep -q 'Response verify OK' '$T/o1' && grep -q ': good' '$T/o1'"
ocsp -header "Authorization=Bearer $TOK1" -cert "$T/$S_REV.pem" >"$T/o2" || true
check "OCSP with a nonce: revoked, keyCompromise, nonce checked" sh -c "grep -q 'Response verify OK' '$T/o2' && \
	grep -q ': revoked' '$T/o2' && grep -q 'Reason: keyCompromise' '$T/o2' && ! grep -qi 'nonce' '$T/o2'"
ocsp -header "Authorization=Bearer $TOK2" -serial 0x0102030405 -no_nonce >"$T/o3" || true
check "OCSP for a serial never issued: unknown" sh -c "grep -q 'Response verify OK' '$T/o3' && grep -q '0x0102030405: unknown' '$T/o3'"
ocsp -cert "$T/$S_GOOD.pem" >"$T/o4" || true
check "OCSP without a credential: unauthorized (6)" grep -q "Responder Error: unauthorized (6)" "$T/o4"
ocsp -header "Authorization=Bearer $TOK3" -cert "$T/$S_GOOD.pem" >"$T/o5" || true
check "OCSP with the retired party's token: unauthorized (6)" grep -q "Responder Error: unauthorized (6)" "$T/o5"
openssl ocsp -issuer "$ISS" -cert "$T/$S_GOOD.pem" -no_nonce -reqout "$T/req.der" 2>/dev/null
B64=$(base64 -w0 "$T/req.der" | sed 's/+/%2B/g; s,/,%2F,g; s/=/%3D/g')
get og "$U/ocsp/$B64" -H "Authorization: Bearer $TOK1"
check "OCSP GET /ocsp/<base64>: 200 application/ocsp-response" test "$(code og) $(hdr og Content-Type)" = "200 application/ocsp-response"
openssl ocsp -respin "$T/og.body" -issuer "$ISS" -CAfile "$T/chain.pem" -attime "$AT" -validity_period "$(since 2026-04-01T00:00:00Z)" \
	-cert "$T/$S_GOOD.pem" >"$T/o6" 2>&1 || true
check "... the response verifies and says good" sh -c "grep -q 'Response verify OK' '$T/o6' && grep -q ': good' '$T/o6'"
NU=$(openssl ocsp -respin "$T/og.body" -noverify -resp_text 2>/dev/null | sed -n 's/^ *Next Update: //p' | head -1)
check "... Expires is its nextUpdate ($NU)" test "$(date -u -d "$(hdr og Expires)" +%s)" = "$(date -u -d "$NU" +%s)"
check "... Cache-Control: private, max-age at most 300 s" sh -c \
	"echo '$(hdr og Cache-Control)' | grep -qE '^private, max-age=([0-9]{1,2}|[12][0-9]{2}|300)\$'"
B64U=$(base64 -w0 "$T/req.der" | tr '+/' '-_' | tr -d =)
get ou "$U/ocsp/$B64U" -H "Authorization: Bearer $TOK1"
check "OCSP GET with unpadded base64url: the same response bytes" cmp "$T/ou.body" "$T/og.body"
get on "$U/ocsp/$B64"
check "OCSP GET without a credential: unauthorized (6) with the challenge" sh -c \
	"test '$(code on)' = 200 && openssl ocsp -respin '$T/on.body' -resp_text -noverify 2>&1 | grep -q 'unauthorized (6)' && \
	 grep -q '^WWW-Authenticate: Bearer' '$T/on.hdr'"

# Swap (repository.h): publish while clients fetch; each answer is the old
# CRL or the new one, with its own ETag. The revocation and the publish run
# at serve's clock: a record dated later would put serve's clock behind the
# newest record, and its key holder would sign nothing (docs/clock.md; the
# serves below start at that clock too).
OLD=$(sha "$P/crl/432105.crl")
ok "revoke 432105's while serving: cessationOfOperation" "$ON" revoke --state "$O" --clock 2026-04-03T12:00:00Z \
	--serial "$S_LATE" --reason cessation-of-operation
(
	for i in $(seq 600); do
		curl -sS -o "$T/sw.$i" -D "$T/sw.$i.h" -H "Authorization: Bearer $TOK1" "$U/crl/432105.crl" 2>/dev/null || true
		[ -e "$T/published" ] && [ -z "${after:-}" ] && after=$i
		[ -n "${after:-}" ] && [ "$i" -ge $((after + 10)) ] && break
	done
) &
LP=$!
sleep 0.3
ok "publish set 2 while serving" "$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T12:00:00Z
touch "$T/published"
wait "$LP"
NEW=$(sha "$P/crl/432105.crl")
bad=0 olds=0 news=0
for f in "$T"/sw.[0-9]*; do
	case $f in *.h) continue ;; esac
	s=$(sha "$f")
	e=$(tr -d '\r' <"$f.h" | sed -n 's/^ETag: "\(.*\)"$/\1/Ip')
	if [ "$s" = "$OLD" ] && [ "$e" = "$OLD" ]; then olds=$((olds + 1))
	elif [ "$s" = "$NEW" ] && [ "$e" = "$NEW" ]; then news=$((news + 1))
	else bad=$((bad + 1)); fi
done
check "the swap: $olds old and $news new answers, none mixed or broken" test "$bad" = 0 -a "$news" -ge 10 -a "$OLD" != "$NEW"
get new "$U/crl/432105.crl" -H "Authorization: Bearer $TOK1"
check "... the new CRL lists the revoked serial" sh -c \
	"openssl crl -inform DER -in '$T/new.body' -noout -text | grep -q 'Serial Number: $S_LATE'"
# (the key holder looks at the repository once a second: up to 60 s on a
# loaded machine)
for _ in $(seq 600); do grep -q '	repo.set	ok	op1@ca-online	.* -> repo.sets/2: now serving' "$LOG" && break; sleep 0.1; done
check "... the key holder noticed the new set (repo.set)" grep -q '	repo.set	ok	op1@ca-online	.* -> repo.sets/2: now serving' "$LOG"
kill -HUP "$KP"
for _ in $(seq 600); do grep -q '	ocsp.refresh	ok	op1@ca-online	SIGHUP\|	ocsp.refresh	ok	op1@ca-online	new repository set' "$LOG" && break; sleep 0.1; done
ocsp -header "Authorization=Bearer $TOK1" -cert "$T/$S_LATE.pem" -no_nonce >"$T/o7" || true
check "SIGHUP / new set: the revoked certificate's response re-signed: revoked" sh -c \
	"grep -q ': revoked' '$T/o7' && grep -q 'Reason: cessationOfOperation' '$T/o7'"

# The process model (docs/process-model.md).
check "the key holder loaded the token's module (SoftHSM)" grep -q softhsm "/proc/$KP/maps"
check "the worker never did: a fresh image without the token" sh -c "! grep -q softhsm /proc/$WP/maps"
check "the worker holds no file of the token or the PIN" sh -c "! ls -l /proc/$WP/fd | grep -q '/token/\|token-user-pin'"
check "... and may not gain privileges (NoNewPrivs)" grep -qE '^NoNewPrivs:[[:space:]]+1' "/proc/$WP/status"
ok "serve stops on SIGTERM (exit 0)" stop_serve
check "... serve.stop ok, worker exited with status 0" grep -q '	serve.stop	ok	op1@ca-online	worker exited with status 0' "$LOG"
check "the worker is gone too" sh -c "! kill -0 $WP 2>/dev/null"

# Audit of the refusals (rate-limited: identical ones once, then a count).
check "audit: the unauthenticated fetch of $C" grep -q "	repo.refuse	unauthenticated	op1@ca-online	client 127.0.0.1: GET /$C: no credential" "$LOG"
check "audit: the retired party's refusal names it" grep -q "	repo.refuse	forbidden	op1@ca-online	client 127.0.0.1: GET /$C: retired relying party old-3" "$LOG"
check "audit: Basic under another's name" grep -q "	repo.refuse	forbidden	op1@ca-online	.*the token is not city-2's" "$LOG"
check "audit: OCSP refusals" sh -c "grep -q '	ocsp.refuse	unauthenticated	op1@ca-online	client 127.0.0.1: POST /ocsp' '$LOG' && \
	grep -q '	ocsp.refuse	forbidden	op1@ca-online	.*retired relying party old-3' '$LOG'"
check "audit: 40 identical refusals are one record and a count" sh -c \
	"test \$(grep -c '	repo.refuse	unauthenticated	op1@ca-online	client 127.0.0.1: GET /$C: no credential' '$LOG') = 1 && \
	 grep -qE '	serve.suppressed	ok	op1@ca-online	(4[0-9]) more repo.refuse unauthenticated within [0-9]+ s like: client 127.0.0.1: GET /$C' '$LOG'"
check "the audit log verifies" "$OFF" audit verify --log "$LOG"

# Provisions (CPS 4-5): counted in batches, by party, method and object.
check "provisions: bank-1 http 431010 = 4 (not the 304, not HEAD)" test \
	"$(db "SELECT sum(count) FROM provisions WHERE recipient = 'bank-1' AND method = 'http' AND object = '431010'")" = 4
prov() { db "SELECT coalesce(sum(count), 0) FROM provisions WHERE recipient = '$1' AND method = '$2' AND object = '$3'"; }
check "provisions: city-2 431010 1 (Basic), MANIFEST none; bank-1 432024 1, arl 1" test \
	"$(prov city-2 http 431010) $(db "SELECT count(*) FROM provisions WHERE object = 'MANIFEST' OR object = 'manifest'") \
$(prov bank-1 http 432024) $(prov bank-1 http arl)" = "1 0 1 1"
check "provisions: the swap's fetches of 432105 ($((olds + news)))" test "$(prov bank-1 http 432105)" = $((olds + news + 1))
check "provisions: OCSP answers counted (bank-1 >= 5, city-2 1)" test \
	"$(db "SELECT sum(count) >= 5 FROM provisions WHERE recipient = 'bank-1' AND method = 'ocsp'") \
$(db "SELECT sum(count) FROM provisions WHERE recipient = 'city-2' AND method = 'ocsp'")" = "1 1"
check "provisions: batched (fewer rows than provisions)" test \
	"$(db "SELECT count(*) < sum(count) FROM provisions")" = 1
check "provisions: nothing for refused requests or the retired party" test \
	"$(db "SELECT count(*) FROM provisions WHERE recipient = 'old-3'")" = 0

# The worker as another user (--user nobody). It must be able to reach the
# repository: the unit tests make the shared tmp folder 0700, so open the
# way down to this test's folder (a deployment keeps the repository in a
# world-readable place, docs/process-model.md).
d=$T
while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
check "serve --user nobody" start_serve --clock 2026-04-03T12:00:00Z --user nobody
check "... the worker runs as nobody, the key holder as root" sh -c \
	"test \$(awk '/^Uid:/ { print \$2 }' /proc/$WP/status) = $(id -u nobody) && test \$(awk '/^Uid:/ { print \$2 }' /proc/$KP/status) = 0"
get nb "$U/$C" -u "bank-1:$TOK1"
check "... and serves: $C with Basic 200" test "$(code nb)" = 200
ocsp -header "Authorization=Bearer $TOK1" -cert "$T/$S_GOOD.pem" >"$T/o8" || true
check "... and answers OCSP with a nonce (a signing job): good" grep -q ': good' "$T/o8"
ok "... stop" stop_serve

# A flood of nonce requests (signing jobs) does not starve the pre-signed
# path: over --sign-rate they get tryLater, and pre-signed answers go on
# meanwhile (one party floods: --sign-rate-per-party 2 leaves it the whole
# global rate, whose cap this is; t_online_serve_party has the party's). The flood lasts until the pre-signed requests are done (each
# flood thread sends 15 and then goes on until then), so every one of them
# is sent during the flood, on any machine; each must be answered
# successful (none refused, dropped or timed out). No clock bound: a
# pre-signed request on a connection that a server thread holds while it
# waits for the key holder waits with it, for as long as the loaded key
# holder takes to sign.
openssl ocsp -issuer "$ISS" -cert "$T/$S_GOOD.pem" -reqout "$T/nonce.der" 2>/dev/null
check "serve --sign-rate 2 (one party may use it all: --sign-rate-per-party 2)" start_serve --clock 2026-04-03T12:00:00Z --sign-rate 2 --sign-rate-per-party 2
cat >"$T/flood.py" <<'EOF2'
import http.client, sys, threading, time
port, tok = int(sys.argv[1]), sys.argv[2]
nonce, plain = open(sys.argv[3], "rb").read(), open(sys.argv[4], "rb").read()
hdr = {"Content-Type": "application/ocsp-request", "Authorization": "Bearer " + tok}
def post(body):
    """The OCSP responseStatus (0 successful, 3 tryLater, ...), or "error"
    (no answer, or not an OCSP response), and the seconds taken."""
    t0 = time.time()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("POST", "/ocsp", body, hdr)
        r = c.getresponse()
        b = r.read()
        c.close()
        # OCSPResponse: SEQUENCE { responseStatus ENUMERATED ... }
        i = 2 + (b[1] & 0x7f if b[1] & 0x80 else 0)
        st = b[i + 2] if r.status == 200 and b[i:i + 2] == b"\x0a\x01" else "error"
    except Exception as e:
        print("#", repr(e), file=sys.stderr)
        st = "error"
    return st, time.time() - t0
statuses, lock, done = [], threading.Lock(), threading.Event()
def flood():
    k = 0
    while k < 15 or not done.is_set():
        st, _ = post(nonce)
        k += 1
        with lock:
            statuses.append(st)
        if k >= 15:
            time.sleep(0.02)	# beyond its 15: enough to last, not a storm
ts = [threading.Thread(target=flood) for _ in range(6)]
for t in ts:
    t.start()
worst, fails, during = 0.0, 0, 0
for _ in range(10):
    st, dt = post(plain)
    fails += st != 0
    worst = max(worst, dt)
    during += any(t.is_alive() for t in ts)
    time.sleep(0.05)
done.set()
for t in ts:
    t.join()
print(len(statuses), statuses.count(0), statuses.count(3), fails, during, "%.2f" % worst)
EOF2
read -r n good busy pfail during worst < <(python3 "$T/flood.py" "${U##*:}" "$TOK1" "$T/nonce.der" "$T/req.der")
check "$n nonce requests (90 or more) at --sign-rate 2: some signed ($good), the rest tryLater ($busy)" \
	test "$n" -ge 90 -a "$good" -ge 1 -a "$busy" -ge 40 -a $((good + busy)) = "$n"
check "... meanwhile ($during of 10 during the flood) every pre-signed answer succeeded (the slowest in $worst s)" \
	test "$pfail" = 0 -a "$during" = 10
ok "... stop" stop_serve
check "... the rate limit is audited (ocsp.refuse rate-limited)" grep -q "	ocsp.refuse	rate-limited	op1@ca-online	client 127.0.0.1: bank-1: signing jobs over 2/s" "$LOG"

# A bad frame from the worker: the key holder audits it and stops (exit 3).
for kind in magic oversize audit; do
	check "serve --debug-bad-frame $kind" start_serve --clock 2026-04-03T12:00:00Z --debug-bad-frame "$kind"
	kill -USR2 "$WP"
	rc=0
	for _ in $(seq 100); do kill -0 "$SP" 2>/dev/null || break; sleep 0.1; done
	wait "$SP" || rc=$?
	SP=""
	check "... bad frame ($kind): serve exits with status 3" test "$rc" = 3
	check "... its last line on stderr names the rule" sh -c \
		"tail -1 '$T/serve.err' | grep -q '^hanko-online serve: channel: .*the worker broke the channel protocol'"
	check "... serve.channel fail in the audit log" sh -c "tail -5 '$LOG' | grep -q '	serve.channel	fail	op1@ca-online	channel: '"
	check "... the worker is gone" sh -c "sleep 0.3; ! kill -0 $WP 2>/dev/null"
done
check "... bad magic, oversize, unknown event named" sh -c "grep -q 'channel: bad magic' '$LOG' && \
	grep -q 'channel: length 65537: at most 65536' '$LOG' && grep -q 'AUDIT: event 999: not one of the fixed set' '$LOG'"
fails "--debug-bad-frame: an unknown kind" 2 "magic, type, oversize" \
	"$ON" serve --state "$O" --repo "$P" --listen 127.0.0.1:0 --debug-bad-frame nonsense

# The relying party's check (CPS 4-4-4-4, 4-4-11): CRL over HTTP, then
# openssl verify -crl_check (certtool at today's time: at the end).
check "serve again" start_serve --clock 2026-04-04T12:00:00Z
AT2=$(at 2026-04-04T12:00:00Z)
for code in 431010 432024; do
	curl -sS -u "bank-1:$TOK1" -o "$T/$code.crl" "$U/crl/$code.crl"
	openssl crl -inform DER -in "$T/$code.crl" -out "$T/$code.crl.pem"
done
check "openssl verify -crl_check: the good certificate (431010's CRL)" openssl verify -attime "$AT2" -crl_check \
	-CRLfile "$T/431010.crl.pem" -CAfile "$R" -untrusted "$ISS" "$T/$S_GOOD.pem"
openssl verify -attime "$AT2" -crl_check -CRLfile "$T/432024.crl.pem" -CAfile "$R" -untrusted "$ISS" "$T/$S_REV.pem" \
	>"$T/v2" 2>&1 || true
check "openssl verify -crl_check: the revoked one fails: certificate revoked" grep -q "certificate revoked" "$T/v2"
# A responder renewed while serve runs: serve goes on with the one it
# loaded at start and says that a restart uses the new one (docs/ocsp.md).
# The daily backup while serve runs (docs/backup.md: 04:00, serve never
# stops). Its snapshot's connection may checkpoint and remove the WAL when
# it closes; it must not do so under serve's own connections. It did when
# any hk_store_new in serve's processes read store.db's header with
# open(2)/close(2): a close(2) drops every POSIX lock the process holds on
# the file, its SQLite connections' too, and serve's next write found the
# store "malformed" (the "stop" below, exit 3).
ok "the daily backup while serve runs" "$ON" backup --state "$O" --clock 2026-04-04T12:00:00Z --out "$T/bk1"
ocsp -header "Authorization=Bearer $TOK1" -cert "$T/$S_GOOD.pem" >"$T/o-bk" || true
check "... serve answers after it (a signed nonce: good)" grep -q ': good' "$T/o-bk"
ok "... and again" "$ON" backup --state "$O" --clock 2026-04-04T12:00:00Z --out "$T/bk2"
ok "responder renewed while serving (responder 2)" "$ON" responder --state "$O" --clock 2026-04-04T12:00:00Z
check "... it says to restart a running serve" grep -q \
	"and restart a running hanko-online serve: it signs with the responders it loaded at start" "$HANKO_TMP/out"
# (both lines: the audit record may follow the stderr line; up to 20 s
# on a loaded machine, the ASan build)
for _ in $(seq 200); do
	grep -q 'names OCSP responder 2' "$T/serve.err" && grep -q 'ocsp.responder	fail	op1@ca-online	state.conf names OCSP responder 2' "$LOG" && break
	sleep 0.1
done
check "... serve notices it: restart serve to use it (stderr and audit, once)" sh -c \
	"grep -qx 'hanko-online serve: ocsp: state.conf names OCSP responder 2, this serve signs with the responders it loaded at start (responder.current 1): restart serve to use it' '$T/serve.err' &&
	 [ \$(grep -c '	ocsp.responder	fail	op1@ca-online	state.conf names OCSP responder 2, this serve signs with the responders it loaded at start (responder.current 1): restart serve to use it' '$LOG') = 1 ]"
# SIGHUP: once the key holder has answered a signing job sent after the
# signal, it has handled the signal too (it reads its signals before the
# channel's frames).
kill -HUP "$KP"
ocsp -header "Authorization=Bearer $TOK1" -cert "$T/$S_GOOD.pem" >"$T/o-hup" || true
check "... SIGHUP: a signing job answered after it (good)" grep -q ': good' "$T/o-hup"
check "... SIGHUP: still once" test "$(grep -c 'names OCSP responder 2' "$T/serve.err")" = 1
ok "stop" stop_serve
check "serve restarted: no such line, it signs with responder 2" start_serve --clock 2026-04-04T12:30:00Z
ocsp -header "Authorization=Bearer $TOK1" -cert "$T/$S_GOOD.pem" -respout "$T/o-r2.der" >"$T/o-r2" || true
check "... an OCSP answer with a nonce is signed by responder 2" sh -c \
	"grep -q ': good' '$T/o-r2' && ! grep -q 'names OCSP responder' '$T/serve.err' &&
	 openssl ocsp -respin '$T/o-r2.der' -resp_text -noverify 2>/dev/null | grep -q 'CN *= *OCSP Responder 2'"
ok "stop" stop_serve

# Cache-Control never beyond nextUpdate: a server 100 s before it (set 2's,
# days after the serves above: last, so that the test's time goes forward).
NEXT=$(awk '$3 == "crl/431010.crl" { print $5 }' "$P/MANIFEST")
ANEXT=$(awk '$3 == "arl.crl" { print $5 }' "$P/MANIFEST")
CLK=$(date -u -d "@$(( $(at "$NEXT") - 100 ))" +%Y-%m-%dT%H:%M:%SZ)
check "serve at $CLK (--no-ocsp)" start_serve --clock "$CLK" --no-ocsp
get late "$U/$C" -H "Authorization: Bearer $TOK1"
check "$C: Cache-Control: private, max-age=100 (its nextUpdate $NEXT)" test "$(hdr late Cache-Control)" = "private, max-age=100"
get latea "$U/arl.crl"
left=$(( $(at "$ANEXT") - $(at "$CLK") ))
want="public, max-age=$(( left < 300 ? left : 300 ))"
[ "$left" -le 0 ] && want="public, no-cache"
check "arl.crl ($ANEXT): Cache-Control: $want" test "$(hdr latea Cache-Control)" = "$want"
get lateo "$U/ocsp" -X POST -H 'Content-Type: application/ocsp-request' --data-binary @"$T/req.der"
check "--no-ocsp: /ocsp is 404" test "$(code lateo)" = 404
ok "... stop" stop_serve

# Serve at today's time (no --clock), OCSP checked by openssl at its own
# clock and the relying party's check with certtool (no -attime) need a
# publisher valid today: one made yesterday
# (make_online), two residents issued, one revoked, the responder made and
# the set published at the real clock.
make_online "$T/now" "$(ago 1)"
P=$T/now/repo
req_dir "$T/now/req" 3
ok "today: issue two certificates" "$ON" issue --state "$O" --batch "$T/now/req/batch.csv" --out "$T/now/issued"
certs_from "$T/now/issued"
N_GOOD=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/now/issued/results.csv")	# 431010
N_REV=$(sed -n 's/^3,ok,\([0-9A-F]*\),.*/\1/p' "$T/now/issued/results.csv")	# 432024
ok "today: revoke 432024's (keyCompromise)" "$ON" revoke --state "$O" --serial "$N_REV" --reason key-compromise
ok "today: the OCSP responder" "$ON" responder --state "$O"
fails "today: publish (no ARL imported: exit 9)" 9 "no imported ARL is current" "$ON" publish --state "$O" --repo "$P"
ok "today: rp add bank-1" "$ON" rp add --state "$O" --name bank-1 --token-out "$T/now/tok"
TOKN=$(cat "$T/now/tok")
check "serve at today's time" start_serve
curl -sS -u "bank-1:$TOKN" -o "$T/now-432024.crl" "$U/crl/432024.crl"
curl -sS -u "bank-1:$TOKN" -o "$T/now-431010.crl" "$U/crl/431010.crl"
openssl crl -inform DER -in "$T/now-432024.crl" -out "$T/now-432024.pem"
openssl crl -inform DER -in "$T/now-431010.crl" -out "$T/now-431010.pem"
openssl x509 -inform DER -in "$T/now/issued/certs/$N_GOOD.der" -out "$T/now/good.pem"
openssl x509 -inform DER -in "$T/now/issued/certs/$N_REV.der" -out "$T/now/rev.pem"
cat "$R" "$ISS" >"$T/now/chain.pem"
for c in good rev; do
	openssl ocsp -url "$U/ocsp" -issuer "$ISS" -CAfile "$T/now/chain.pem" -header "Authorization=Bearer $TOKN" \
		-cert "$T/now/$c.pem" >"$T/now/o-$c" 2>&1 || true
done
check "OCSP at today's time (openssl's own clock, a nonce): good" sh -c \
	"grep -q 'Response verify OK' '$T/now/o-good' && grep -q ': good' '$T/now/o-good'"
check "OCSP at today's time: revoked, keyCompromise" sh -c \
	"grep -q 'Response verify OK' '$T/now/o-rev' && grep -q ': revoked' '$T/now/o-rev' && grep -q 'Reason: keyCompromise' '$T/now/o-rev'"
cat "$T/now/good.pem" "$ISS" >"$T/good-chain.pem"
cat "$T/now/rev.pem" "$ISS" >"$T/rev-chain.pem"
# certtool --verify --load-crl uses whatever CRL of the issuer it is given:
# it checks neither the CRL's signature, nor its partition (the critical
# IDP is unknown to it), nor its nextUpdate (docs/relying-parties.md "Other
# libraries"; t_online_interop.sh shows all three). So the relying party's
# steps come first, as that guide tells a GnuTLS user: each CRL fetched
# verifies with the issuing CA (certtool --verify-crl: its signature, and
# its nextUpdate at today's time, like every certtool run here) and its IDP
# names what the certificate's CRL DP names (openssl). Only then does the
# chain check below show that a genuine, current CRL of the certificate's
# own partition makes certtool refuse the revoked one and pass the good one.
CT_CRL_OK='Verification output: Verified. The certificate is trusted.'
CT_REVOKED='Chain verification output: Not verified. The certificate is NOT trusted. The certificate chain is revoked.'
# the fullName lines of a CRL DP or IDP as openssl prints them (it puts the
# IDP's onlyContainsUserCerts on the DirName's line)
dp_names() { sed -n -e 's/ *Only User Certificates$//' -e 's/^ *\(DirName:.*\|URI:.*\)$/\1/p'; }
for c in 431010:good 432024:rev; do
	certtool --verify-crl --load-ca-certificate "$ISS" --infile "$T/now-${c%:*}.pem" >"$T/ctc-${c%:*}" 2>&1 || true
	openssl crl -in "$T/now-${c%:*}.pem" -noout -text | dp_names >"$T/idp-${c%:*}"
	openssl x509 -in "$T/now/${c#*:}.pem" -noout -ext crlDistributionPoints | dp_names >"$T/cdp-${c%:*}"
done
check "certtool --verify-crl: the fetched crl/431010.crl verifies with the issuing CA (signature, not past nextUpdate)" \
	grep -qF "$CT_CRL_OK" "$T/ctc-431010"
check "certtool --verify-crl: the fetched crl/432024.crl verifies with the issuing CA" grep -qF "$CT_CRL_OK" "$T/ctc-432024"
check "... the issuingDistributionPoint of each names the CRL DP of the certificate checked with it (openssl)" sh -c \
	"test -s '$T/idp-431010' && cmp -s '$T/idp-431010' '$T/cdp-431010' && test -s '$T/idp-432024' && cmp -s '$T/idp-432024' '$T/cdp-432024'"
check "certtool --verify --load-crl with that genuine 431010 CRL: the good certificate" certtool --verify \
	--load-ca-certificate "$R" --load-crl "$T/now-431010.pem" --infile "$T/good-chain.pem"
certtool --verify --load-ca-certificate "$R" --load-crl "$T/now-432024.pem" --infile "$T/rev-chain.pem" >"$T/ct" 2>&1 || true
check "certtool --verify --load-crl with that genuine 432024 CRL: the revoked one is refused as revoked" \
	grep -qF "$CT_REVOKED" "$T/ct"
# A file of the set changed on disk after publication: refused with 500 and
# a line on serve's stderr, never served (docs/process-model.md).
cp -p "$P/root/gen-1.cer" "$T/gen-1.keep"
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(-5, 2); c = f.read(1)[0]; f.seek(-5, 2); f.write(bytes([c ^ 1]))' \
	"$P/root/gen-1.cer"
get dmg "$U/root/gen-1.cer"
check "a file damaged on disk: 500, its bytes not served" sh -c \
	"test '$(code dmg)' = 500 && grep -q '^500 the file does not match its MANIFEST line' '$T/dmg.body'"
check "... serve names it on stderr" grep -q "^hanko-online serve: worker: .*/root/gen-1.cer: size or SHA-256 is not its MANIFEST line's$" \
	"$T/serve.err"
cp -p "$T/gen-1.keep" "$P/root/gen-1.cer"
get undmg "$U/root/gen-1.cer"
check "... put back: 200 again" test "$(code undmg)" = 200
# A folder of the set replaced by a link (to a copy with the same bytes):
# links in the set are never followed (docs/relying-parties.md "Limits").
SET=$(readlink -f "$P")
mv "$SET/issuing" "$T/issuing.moved" && ln -s "$T/issuing.moved" "$SET/issuing"
get lnk "$U/issuing/issuing-1.cer"
check "a folder of the set that is a link: 500, not served through the link" sh -c \
	"test '$(code lnk)' = 500 && ! cmp -s '$T/lnk.body' '$T/issuing.moved/issuing-1.cer'"
check "... serve names it on stderr" grep -q "^hanko-online serve: worker: .*/issuing/issuing-1.cer: Too many levels of symbolic links$" \
	"$T/serve.err"
rm "$SET/issuing" && mv "$T/issuing.moved" "$SET/issuing"
get unlnk "$U/issuing/issuing-1.cer"
check "... the folder put back: 200 again" test "$(code unlnk)" = 200
ok "stop" stop_serve
# The token shown on stdout went there from locked memory, not through
# stdout's buffer (which kept it to the exit): none left at the exit.
if have_gdb; then
	mem_at_exit "$T/rp.mem" '(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])' "$ON" rp add --state "$O" "${RPC[@]}" --name bank-9
	TOK9=$(grep -xE '[0-9a-f]{64}' "$T/rp.mem.out" | tail -1)
	check "rp add (token on stdout): no copy of the token left in memory at exit" \
		bash -c "[ -n '$TOK9' ] && [ -e '$T/rp.mem' ] && ! grep -qx '$TOK9' '$T/rp.mem'"
else
	echo "skip - memory scan of rp add (no gdb with Python)"
fi
finish

#!/usr/bin/env bash
# t_online_ocsp.sh - OCSP (issue 6 item 2; CPS 4-4-4-1 to 4-4-4-3; RFC 6960,
# RFC 8954; docs/ocsp.md): a working publisher (make_online), four residents'
# certificates, one revoked keyCompromise; "hanko-online responder" makes the
# delegated responder certificate (checked with openssl x509 and verify);
# "ocsp-refresh" pre-signs; then, without a server, requests made by
# "openssl ocsp -reqout" are answered by "hanko-online ocsp-answer" (the
# network worker's hk_ocsp_answer and, when asked, the key holder's
# hk_ocsp_sign_job) and every response is checked by "openssl ocsp -respin":
# good, revoked with reason and time, unknown for a serial never issued, the
# nonce echoed (and none without), another issuer unauthorized, garbage,
# truncated, trailing and oversized requests malformedRequest; a revocation
# is answered at once (signed), and pre-signed after the next refresh; a
# second responder re-signs everything.
. "$(dirname "$0")/online.sh"

# Four residents (valid.csv lines 2-5).
B=$T/req
req_dir "$B" 5
ok "issue four certificates" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/issued"
certs_from "$T/issued"
for i in 1 2 3 4; do
	SER[$i]=$(sed -n "$((i + 1))s/^[0-9]*,ok,\([0-9A-F]*\),.*/\1/p" "$T/issued/results.csv")
	openssl x509 -inform DER -in "$T/issued/certs/${SER[$i]}.der" -out "$T/c$i.pem"
done
ok "revoke certificate 2: keyCompromise" "$ON" revoke --state "$O" --clock 2026-05-01T09:00:00Z \
	--serial "${SER[2]}" --reason key-compromise

RT=(--clock 2026-05-01T10:00:00Z)
AC=(--clock 2026-05-01T11:00:00Z)
fails "ocsp-refresh before any responder" 3 "responder.current: no OCSP responder yet" \
	"$ON" ocsp-refresh --state "$O" "${RT[@]}"
openssl ocsp -issuer "$ISS" -cert "$T/c1.pem" -no_nonce -reqout "$T/good.req" 2>/dev/null
fails "ocsp-answer before any responder" 3 "run hanko-online responder" \
	"$ON" ocsp-answer --state "$O" "${AC[@]}" --request "$T/good.req" --out "$T/none.resp"

# The delegated responder (PROFILE.md "OCSP responder" column).
ok "responder: OCSP responder 1" "$ON" responder --state "$O" "${RT[@]}"
RC1=$O/certs/ocsp-responder-1.pem
openssl x509 -in "$RC1" -noout -text >"$T/rc1.txt"
check "subject C=JP, O=JPKI, OU=Kumamoto-ken, CN=OCSP Responder 1 (+ OU=TEST)" \
	grep -q "Subject: C = JP, O = JPKI, OU = Kumamoto-ken, CN = OCSP Responder 1, OU = TEST" "$T/rc1.txt"
check "issuer: the issuing CA (RFC 6960 4.2.2.2)" \
	test "$(openssl x509 -in "$RC1" -noout -issuer)" = "$(openssl x509 -in "$ISS" -noout -subject | sed 's/^subject/issuer/')"
check "EKU: OCSP Signing only" sh -c "grep -A1 'Extended Key Usage:' '$T/rc1.txt' | tail -1 | grep -qx ' *OCSP Signing'"
check "EKU non-critical" sh -c "! grep -q 'Extended Key Usage: critical' '$T/rc1.txt'"
check "id-pkix-ocsp-nocheck present, non-critical" sh -c \
	"grep -q 'OCSP No Check: *\$' '$T/rc1.txt'"
off=$(openssl asn1parse -in "$RC1" | grep -A1 ":OCSP No Check" | tail -1 | cut -d: -f1 | tr -d ' ')
check "id-pkix-ocsp-nocheck value is NULL (05 00)" test \
	"$(openssl asn1parse -in "$RC1" -strparse "$off" | tr -d ' ')" = "0:d=0hl=2l=0prim:NULL"
check "keyUsage critical: digitalSignature only" sh -c \
	"grep -A1 'Key Usage: critical' '$T/rc1.txt' | tail -1 | grep -qx ' *Digital Signature'"
check "policy: the test arc of the OCSP responder policy" grep -q "Policy: 1.2.392.200149.8.5.1.0.300" "$T/rc1.txt"
check "no basicConstraints, no CRL DP" sh -c "! grep -Eq 'Basic Constraints|CRL Distribution' '$T/rc1.txt'"
check "validity: 1 year minus 1 second (CPS 1-3-2)" sh -c \
	"grep -q 'Not Before: May  1 10:00:00 2026 GMT' '$T/rc1.txt' && grep -q 'Not After : May  1 09:59:59 2027 GMT' '$T/rc1.txt'"
check "RSA-2048 like the issuing key" grep -q "Public-Key: (2048 bit)" "$T/rc1.txt"
AT=(-attime "$(date -u -d 2026-05-01T11:00:00Z +%s)")
check "openssl verify: root -> issuing CA -> responder, purpose OCSP helper" \
	openssl verify "${AT[@]}" -x509_strict -CAfile "$R" -untrusted "$ISS" -purpose ocsphelper "$RC1"
check "state.conf: responder.current = 1, its key URI and certificate" sh -c \
	"grep -qx 'responder.current = 1' '$O/state.conf' && grep -q '^responder.1.key-uri = pkcs11:.*id=%6f%63%73%70%2d%31' '$O/state.conf'"
check "store: the responder certificate (publish puts it in responder/)" test \
	"$(db "SELECT kind, generation FROM ca_certs WHERE kind = 'responder'")" = "responder|1"
check "audit: key.generate and cert.issue of OCSP responder 1" sh -c \
	"grep -q '	key.generate	ok	.*OCSP responder 1' '$O/audit/audit.log' && grep -q '	cert.issue	ok	.*OCSP responder 1: serial' '$O/audit/audit.log'"

# Pre-signed responses.
ok "ocsp-refresh signs the four responses" "$ON" ocsp-refresh --state "$O" "${RT[@]}"
check "... and says so" grep -q "^4 OCSP responses signed (responder 1" "$HANKO_TMP/out"
check "store: 3 good, 1 revoked, valid 24 hours" test \
	"$(db "SELECT status, count(*), min(next_update - this_update) FROM ocsp_responses GROUP BY status ORDER BY status")" = \
	"$(printf 'good|3|86400\nrevoked|1|86400')"
ok "ocsp-refresh again: nothing is due" "$ON" ocsp-refresh --state "$O" "${RT[@]}"
check "... 0 signed" grep -q "^0 OCSP responses signed" "$HANKO_TMP/out"
check "audit: ocsp.refresh ok, 4 then 0" test "$(grep '	ocsp.refresh	ok	' "$O/audit/audit.log" | sed 's/.*ok	op1@ca-online	\([0-9]*\) .*/\1/' | tr '\n' ' ')" = "4 0 "

# Requests made by openssl, answered by ocsp-answer, checked by openssl.
cat "$ISS" "$R" >"$T/va.pem"
# the stricter check: the responder's chain to the root, delegation by the
# issuer of the certificate asked (no -VAfile trust shortcut)
VER=(-issuer "$ISS" -CAfile "$R" -verify_other "$ISS" "${AT[@]}" -validity_period "$(since 2026-04-01T00:00:00Z)")
answer() {	# NAME: answer $T/NAME.req into $T/NAME.resp
	rm -f "$T/$1.resp"
	"$ON" ocsp-answer --state "$O" "${AC[@]}" --request "$T/$1.req" --out "$T/$1.resp" >"$T/$1.how"
}
verify() {	# NAME ARGS...: openssl's reading of $T/NAME.resp
	openssl ocsp -respin "$T/$1.resp" "${VER[@]}" "${@:2}" >"$T/$1.txt" 2>&1
}

ok "answer: certificate 1, no nonce" answer good
check "... the pre-signed response (no signature now)" grep -q "^ready" "$T/good.how"
ok "openssl ocsp verifies the response" verify good -cert "$T/c1.pem"
check "... good" grep -q "c1.pem: good" "$T/good.txt"
check "... Response verify OK" grep -q "Response verify OK" "$T/good.txt"
openssl ocsp -respin "$T/good.resp" -resp_text -noverify >"$T/good.text" 2>/dev/null
check "... producedAt: the refresh (10:00), not the request (11:00)" grep -q "Produced At: May  1 10:00:00 2026 GMT" "$T/good.text"
check "... nextUpdate 24 h after thisUpdate" sh -c \
	"grep -q 'This Update: May  1 10:00:00 2026 GMT' '$T/good.text' && grep -q 'Next Update: May  2 10:00:00 2026 GMT' '$T/good.text'"
check "... responderID byKey: the responder's SKI" test "$(sed -n 's/^ *Responder Id: //p' "$T/good.text")" = \
	"$(openssl x509 -in "$RC1" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :')"
check "... the responder certificate included" grep -q "Subject: C=JP, O=JPKI, OU=Kumamoto-ken, CN=OCSP Responder 1, OU=TEST" "$T/good.text"
check "... no nonce" sh -c "! grep -q 'OCSP Nonce' '$T/good.text'"
ok "openssl ocsp -VAfile issuing+root also accepts it" \
	openssl ocsp -respin "$T/good.resp" -issuer "$ISS" -VAfile "$T/va.pem" -CAfile "$R" "${AT[@]}" \
	-validity_period "$(since 2026-04-01T00:00:00Z)" -cert "$T/c1.pem"
check "a response for certificate 1 does not pass for certificate 3" sh -c \
	"! openssl ocsp -respin '$T/good.resp' ${VER[*]} -cert '$T/c3.pem' 2>&1 | grep -q 'c3.pem: good'"

openssl ocsp -issuer "$ISS" -cert "$T/c2.pem" -no_nonce -reqout "$T/rev.req" 2>/dev/null
ok "answer: certificate 2 (revoked)" answer rev
check "... pre-signed" grep -q "^ready" "$T/rev.how"
ok "openssl ocsp verifies it" verify rev -cert "$T/c2.pem"
check "... revoked, keyCompromise, at the revocation time" sh -c \
	"grep -q 'c2.pem: revoked' '$T/rev.txt' && grep -q 'Reason: keyCompromise' '$T/rev.txt' && \
	grep -q 'Revocation Time: May  1 09:00:00 2026 GMT' '$T/rev.txt'"

NEVER=0x4000000000000000000000000000000000000001
openssl ocsp -issuer "$ISS" -serial $NEVER -no_nonce -reqout "$T/unk.req" 2>/dev/null
ok "answer: a serial never issued (issuer name and key ours)" answer unk
check "... signed on demand" grep -q "^signed" "$T/unk.how"
ok "openssl ocsp verifies it" verify unk -serial $NEVER
check "... unknown, never good" grep -q ": unknown" "$T/unk.txt"
check "... producedAt: the request's time" sh -c \
	"openssl ocsp -respin '$T/unk.resp' -resp_text -noverify 2>/dev/null | grep -q 'Produced At: May  1 11:00:00 2026 GMT'"

openssl ocsp -issuer "$ISS" -cert "$T/c1.pem" -reqout "$T/nonce.req" 2>/dev/null
ok "answer: certificate 1 with a nonce" answer nonce
check "... signed (a nonce is never answered from the pre-signed)" grep -q "^signed" "$T/nonce.how"
ok "openssl ocsp verifies it (no nonce of its own to compare)" verify nonce -no_nonce -cert "$T/c1.pem"
check "... good" grep -q "c1.pem: good" "$T/nonce.txt"
# openssl ocsp -reqin puts a nonce of its own in a request it reads (or,
# with -no_nonce, checks none): compare the extension values it prints
nonce_of() { openssl ocsp "$@" 2>/dev/null | grep -A1 'OCSP Nonce' | tail -1 | tr -d ' '; }
check "... the nonce echoed: the request's OCTET STRING, byte for byte" test \
	"$(nonce_of -respin "$T/nonce.resp" -resp_text -noverify)" = "$(nonce_of -reqin "$T/nonce.req" -req_text)"
check "... a 16-octet nonce (RFC 8954)" test "$(nonce_of -respin "$T/nonce.resp" -resp_text -noverify | cut -c1-4)" = 0410
openssl ocsp -issuer "$ISS" -cert "$T/c1.pem" -reqout "$T/nonce2.req" 2>/dev/null
ok "answer: the same with another nonce" answer nonce2
check "... a response of its own: nonces differ" test \
	"$(nonce_of -respin "$T/nonce2.resp" -resp_text -noverify)" != "$(nonce_of -respin "$T/nonce.resp" -resp_text -noverify)" -a \
	"$(nonce_of -respin "$T/nonce2.resp" -resp_text -noverify)" = "$(nonce_of -reqin "$T/nonce2.req" -req_text)"

openssl ocsp -issuer "$ISS" -cert "$T/c1.pem" -cert "$T/c2.pem" -cert "$T/c4.pem" -no_nonce -reqout "$T/multi.req" 2>/dev/null
ok "answer: three certificates in one request" answer multi
ok "openssl ocsp verifies it" verify multi -cert "$T/c1.pem" -cert "$T/c2.pem" -cert "$T/c4.pem"
check "... good, revoked, good" sh -c "grep -q 'c1.pem: good' '$T/multi.txt' && grep -q 'c2.pem: revoked' '$T/multi.txt' && grep -q 'c4.pem: good' '$T/multi.txt'"
openssl ocsp -sha256 -issuer "$ISS" -cert "$T/c4.pem" -no_nonce -reqout "$T/sha256.req" 2>/dev/null
ok "answer: a SHA-256 CertID" answer sha256
ok "openssl ocsp verifies it" verify sha256 -sha256 -cert "$T/c4.pem"
check "... good, signed for that CertID" sh -c "grep -q 'c4.pem: good' '$T/sha256.txt' && grep -q '^signed' '$T/sha256.how'"

openssl ocsp -issuer "$R" -cert "$ISS" -no_nonce -reqout "$T/other.req" 2>/dev/null
ok "answer: a request for another issuer (the root)" answer other
check "... unauthorized" grep -q "^error unauthorized: request: certID 1: RFC 6960 2.3" "$T/other.how"
check "... openssl reads an unsigned unauthorized response" sh -c \
	"openssl ocsp -respin '$T/other.resp' -resp_text -noverify 2>&1 | grep -q 'Responder Error: unauthorized (6)'"
printf 'GET / HTTP/1.0\r\n\r\n' >"$T/garbage.req"
head -c 40 "$T/good.req" >"$T/trunc.req"
{ cat "$T/good.req"; printf '\0'; } >"$T/trail.req"
{ cat "$T/good.req"; head -c 5000 /dev/zero; } | head -c 5000 >"$T/big.req"
: >"$T/empty.req"
for q in garbage trunc trail big empty; do
	ok "answer: $q request" answer $q
	check "... malformedRequest (openssl agrees)" sh -c "grep -q '^error malformedrequest: request: ' '$T/$q.how' && \
		openssl ocsp -respin '$T/$q.resp' -resp_text -noverify 2>&1 | grep -q 'Responder Error: malformedrequest (1)'"
done
check "... the oversized one by its size" grep -q "size: at most 4096 bytes (got 5000)" "$T/big.how"
check "... the trailing byte named" grep -q "1 bytes after the OCSPRequest" "$T/trail.how"
fails "ocsp-answer never writes over a file" 7 "already exists" \
	"$ON" ocsp-answer --state "$O" "${AC[@]}" --request "$T/good.req" --out "$T/good.resp"

# A revocation re-signs the certificate's response at once (revoke runs the
# refresh, docs/ocsp.md).
ok "revoke certificate 3: cessationOfOperation" "$ON" revoke --state "$O" --clock 2026-05-01T12:00:00Z \
	--serial "${SER[3]}" --reason cessation-of-operation
check "... revoke refreshed the OCSP response (audited)" grep -q "	ocsp.refresh	ok	op1@ca-online	1 responses signed after the revocation of ${SER[3]}" "$O/audit/audit.log"
AC=(--clock 2026-05-01T12:10:00Z)
openssl ocsp -issuer "$ISS" -cert "$T/c3.pem" -no_nonce -reqout "$T/rev3.req" 2>/dev/null
ok "answer: certificate 3 after its revocation" answer rev3
check "... pre-signed by the revoke" grep -q "^ready" "$T/rev3.how"
ok "openssl ocsp verifies it" verify rev3 -cert "$T/c3.pem"
check "... revoked, cessationOfOperation" sh -c "grep -q 'c3.pem: revoked' '$T/rev3.txt' && grep -q 'Reason: cessationOfOperation' '$T/rev3.txt'"
ok "ocsp-refresh after the revocation" "$ON" ocsp-refresh --state "$O" --clock 2026-05-01T12:20:00Z
check "... nothing left to sign" grep -q "^0 OCSP responses signed" "$HANKO_TMP/out"
check "store: certificate 3's response is now revoked" test \
	"$(db "SELECT status FROM ocsp_responses WHERE hex(serial) = '${SER[3]}'")" = revoked
ok "revoke certificate 4: superseded" "$ON" revoke --state "$O" --clock 2026-05-01T12:30:00Z \
	--serial "${SER[4]}" --reason superseded
check "store: certificate 4's response is revoked at once" test \
	"$(db "SELECT status FROM ocsp_responses WHERE hex(serial) = '${SER[4]}'")" = revoked
ok "ocsp-refresh" "$ON" ocsp-refresh --state "$O" --clock 2026-05-01T12:40:00Z
check "... nothing left to sign (revoke did it)" grep -q "^0 OCSP responses signed" "$HANKO_TMP/out"
AC=(--clock 2026-05-01T12:50:00Z)
openssl ocsp -issuer "$ISS" -cert "$T/c4.pem" -no_nonce -reqout "$T/rev4.req" 2>/dev/null
ok "answer: certificate 4" answer rev4
check "... pre-signed" grep -q "^ready" "$T/rev4.how"
ok "openssl ocsp verifies it" verify rev4 -cert "$T/c4.pem"
check "... revoked, superseded" sh -c "grep -q 'c4.pem: revoked' '$T/rev4.txt' && grep -q 'Reason: superseded' '$T/rev4.txt'"

# The refresh margin: 12 h before nextUpdate everything is signed again.
ok "ocsp-refresh 13 hours later" "$ON" ocsp-refresh --state "$O" --clock 2026-05-01T23:30:00Z
check "... re-signs the two made at 10:00, not those of 12:10 and 12:40" grep -q "^2 OCSP responses signed" "$HANKO_TMP/out"

# Renewal: responder 2; what responder 1 signed is signed again.
ok "responder again: OCSP responder 2" "$ON" responder --state "$O" --clock 2026-05-02T00:00:00Z
check "state.conf: responder.current = 2" grep -qx "responder.current = 2" "$O/state.conf"
ok "ocsp-refresh with responder 2" "$ON" ocsp-refresh --state "$O" --clock 2026-05-02T00:10:00Z
check "... all four signed again" grep -q "^4 OCSP responses signed (responder 2" "$HANKO_TMP/out"
AC=(--clock 2026-05-02T00:20:00Z)
AT=(-attime "$(date -u -d 2026-05-02T00:20:00Z +%s)")
VER=(-issuer "$ISS" -CAfile "$R" -verify_other "$ISS" "${AT[@]}" -validity_period "$(since 2026-04-01T00:00:00Z)")
ok "answer: certificate 1" answer good
check "... pre-signed by responder 2" sh -c "grep -q '^ready' '$T/good.how' && \
	openssl ocsp -respin '$T/good.resp' -resp_text -noverify 2>/dev/null | grep -q 'CN=OCSP Responder 2'"
ok "openssl ocsp verifies it" verify good -cert "$T/c1.pem"
check "... good" grep -q "c1.pem: good" "$T/good.txt"
# A single-serial request without a nonce signed on demand also stores its
# response (docs/ocsp.md): the next one is answered from the store.
db "DELETE FROM ocsp_responses WHERE hex(serial) = '${SER[1]}'"
ok "answer: certificate 1, its stored response gone" answer good
check "... signed" grep -q "^signed" "$T/good.how"
check "... and stored: good, valid 24 hours, the response sent" test \
	"$(db "SELECT status, next_update - this_update, hex(der) FROM ocsp_responses WHERE hex(serial) = '${SER[1]}'")" = \
	"good|86400|$(od -An -v -tx1 "$T/good.resp" | tr -d ' \n' | tr a-f A-F)"
ok "answer: certificate 1 again" answer good
check "... the stored one" grep -q "^ready" "$T/good.how"
# A responder certificate never outlives its issuer (docs/ocsp.md
# "Responder certificates"): in issuing CA 1's last year (it ends
# 2031-04-02T08:59:59Z) responder 3 ends exactly with it, and says so;
# every certificate it answers for ends by then too.
ok "responder in issuing CA 1's last year: OCSP responder 3" "$ON" responder --state "$O" --clock 2030-06-01T00:00:00Z
check "... valid until issuing CA 1's notAfter, and says it is cut" grep -q \
	"^OCSP responder 3 (REHEARSAL): .*, issued by issuing CA 1, valid until 2031-04-02T08:59:59Z (cut back to issuing CA 1's notAfter, short of 1 year: it answers only for certificates that end by then)$" \
	"$HANKO_TMP/out"
check "... its notAfter is the issuing CA's" test \
	"$(openssl x509 -in "$O/certs/ocsp-responder-3.pem" -noout -enddate)" = "$(openssl x509 -in "$ISS" -noout -enddate)"
check "... audited with the cut" sh -c \
	"grep '	cert.issue	ok	.*OCSP responder 3: ' '$O/audit/audit.log' | grep -q 'valid until 2031-04-02T08:59:59Z (cut back to issuing CA 1'"
# Its end cannot be put off: ocsp-refresh neither asks to renew it in the
# last month nor refuses to sign with it in the last 12 hours; it signs up
# to the end. A certificate valid until 08:00 on the last day (put in the
# store as issue would leave it) needs its response then.
LATE=4AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1
db "INSERT INTO serials VALUES (x'$LATE', 0);
INSERT INTO certificates (serial, municipality, resident_key, status, not_before, not_after, issuer)
  SELECT x'$LATE', '431010', randomblob(32), 'pending', not_before, $(date -u -d 2031-04-02T08:00:00Z +%s), issuer
  FROM certificates WHERE hex(serial) = '${SER[1]}';
UPDATE certificates SET status = 'valid', der = x'00' WHERE hex(serial) = '$LATE';"
ok "ocsp-refresh in issuing CA 1's last month" "$ON" ocsp-refresh --state "$O" --clock 2031-03-15T00:00:00Z
check "... says responder 3 ends with issuing CA 1, and asks no renewal" sh -c \
	"grep -qx 'OCSP responder 3 ends 2031-04-02T08:59:59Z with issuing CA 1: it cannot be renewed beyond it, and every certificate it answers for ends by then' '$HANKO_TMP/out' &&
	! grep -q 'to renew it' '$HANKO_TMP/out'"
ok "ocsp-refresh in issuing CA 1's last 12 hours" "$ON" ocsp-refresh --state "$O" --clock 2031-04-02T00:00:00Z
check "... signs the certificate's response, valid up to the responder's end" test \
	"$(db "SELECT status, datetime(this_update, 'unixepoch'), datetime(next_update, 'unixepoch') FROM ocsp_responses WHERE hex(serial) = '$LATE'")" = \
	"good|2031-04-02 00:00:00|2031-04-02 08:59:59"
ok "ocsp-refresh 10 minutes later" "$ON" ocsp-refresh --state "$O" --clock 2031-04-02T00:10:00Z
check "... nothing due: a response cut to the end is not signed again" grep -q "^0 OCSP responses signed" "$HANKO_TMP/out"
ok "the online audit log verifies (checkpoints by audit-1)" "$OFF" audit verify --state "$O"
finish

#!/usr/bin/env bash
# t_online_ocsp_renew.sh - a stored OCSP response signed by another responder
# than the current one of its issuing generation is due (docs/ocsp.md
# "Pre-signed responses"; CPS 4-4-9, 4-4-4-1): after "hanko-online
# responder" renews, the next ocsp-refresh signs every response again with
# the new one, also when the renewal ran in the same second as the refresh
# before it (a fixed rehearsal --clock here; the same second boundary in
# production), which a comparison of thisUpdate with the responder's
# notBefore missed (0 signed, the old responder's responses kept). The on-demand signing
# (ocsp-answer's signing job) records its responder too, and serve's
# pre-signing at start follows the same rule. A serve not restarted after a
# renewal leaves the newer responder's responses as they are (made after
# the notBefore of the responder it loaded): it hands them out and its
# refresh does not sign them again.
. "$(dirname "$0")/online.sh"
. "$HANKO_SRC/test/integration/serve.sh"

B=$T/req
req_dir "$B" 4
ok "issue three certificates" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/issued"
certs_from "$T/issued"
for i in 1 2 3; do
	SER[$i]=$(sed -n "$((i + 1))s/^[0-9]*,ok,\([0-9A-F]*\),.*/\1/p" "$T/issued/results.csv")
	openssl x509 -inform DER -in "$T/issued/certs/${SER[$i]}.der" -out "$T/c$i.pem"
done
ok "revoke certificate 2: keyCompromise" "$ON" revoke --state "$O" --clock 2026-04-03T09:00:00Z \
	--serial "${SER[2]}" --reason key-compromise

# Everything at one second.
CK=(--clock 2026-04-03T10:00:00Z)
AT=(-attime "$(date -u -d 2026-04-03T10:00:00Z +%s)")
VER=(-issuer "$ISS" -CAfile "$R" -verify_other "$ISS" "${AT[@]}" -validity_period "$(since 2026-04-01T00:00:00Z)")
ski() { openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :'; }
answer() {	# NAME CERT: openssl's request for CERT answered into $T/NAME.resp
	openssl ocsp -issuer "$ISS" -cert "$2" -no_nonce -reqout "$T/$1.req" 2>/dev/null
	rm -f "$T/$1.resp"
	"$ON" ocsp-answer --state "$O" "${CK[@]}" --request "$T/$1.req" --out "$T/$1.resp" >"$T/$1.how"
}
# stored_ids: the Responder Id of every stored response, one a line, sorted
stored_ids() {
	local s
	for s in $(db "SELECT hex(serial) FROM ocsp_responses ORDER BY serial"); do
		db "SELECT hex(der) FROM ocsp_responses WHERE hex(serial) = '$s'" | xxd -r -p >"$T/stored.der"
		openssl ocsp -respin "$T/stored.der" -resp_text -noverify 2>/dev/null | sed -n 's/^ *Responder Id: //p'
	done | sort
}

ok "responder: OCSP responder 1" "$ON" responder --state "$O" "${CK[@]}"
ok "ocsp-refresh: the three responses" "$ON" ocsp-refresh --state "$O" "${CK[@]}"
check "... 3 signed by responder 1" grep -q "^3 OCSP responses signed (responder 1," "$HANKO_TMP/out"
check "... each response's responder recorded: responder 1's certificate (SHA-256)" test \
	"$(db "SELECT DISTINCT hex(responder) FROM ocsp_responses")" = \
	"$(openssl x509 -in "$O/certs/ocsp-responder-1.pem" -outform DER | sha256sum | cut -c1-64 | tr a-f A-F)"

# The renewal in the same second as that refresh.
ok "responder again, the same second: OCSP responder 2" "$ON" responder --state "$O" "${CK[@]}"
check "... its notBefore is that second (the responses' thisUpdate)" test \
	"$(openssl x509 -in "$O/certs/ocsp-responder-2.pem" -noout -startdate)" = "notBefore=Apr  3 10:00:00 2026 GMT"
ok "ocsp-refresh, the same second" "$ON" ocsp-refresh --state "$O" "${CK[@]}"
check "... all three signed again, by responder 2" grep -q "^3 OCSP responses signed (responder 2," "$HANKO_TMP/out"
check "... every stored response's Responder Id is responder 2's key" test \
	"$(stored_ids | uniq -c | sed 's/^ *//')" = "3 $(ski "$O/certs/ocsp-responder-2.pem")"
ok "answer: certificate 1" answer good "$T/c1.pem"
check "... the pre-signed response" grep -q "^ready" "$T/good.how"
openssl ocsp -respin "$T/good.resp" -resp_text -noverify >"$T/good.text" 2>/dev/null
check "... Responder Id: responder 2's key (byKey), not responder 1's" test \
	"$(sed -n 's/^ *Responder Id: //p' "$T/good.text")" = "$(ski "$O/certs/ocsp-responder-2.pem")"
check "... the certificate included is responder 2's" sh -c \
	"grep -q 'CN=OCSP Responder 2' '$T/good.text' && ! grep -q 'CN=OCSP Responder 1' '$T/good.text'"
ok "openssl ocsp verifies it: good" openssl ocsp -respin "$T/good.resp" "${VER[@]}" -cert "$T/c1.pem" -out "$T/good.txt"
check "... good" grep -q "c1.pem: good" "$T/good.txt"
ok "answer: certificate 2" answer rev "$T/c2.pem"
openssl ocsp -respin "$T/rev.resp" "${VER[@]}" -cert "$T/c2.pem" >"$T/rev.txt" 2>&1
check "... revoked, keyCompromise, signed by responder 2" sh -c \
	"grep -q 'c2.pem: revoked' '$T/rev.txt' && grep -q 'Reason: keyCompromise' '$T/rev.txt' &&
	openssl ocsp -respin '$T/rev.resp' -resp_text -noverify 2>/dev/null | grep -q 'CN=OCSP Responder 2'"
ok "ocsp-refresh once more, the same second" "$ON" ocsp-refresh --state "$O" "${CK[@]}"
check "... nothing due: each was signed by the current responder" grep -q "^0 OCSP responses signed" "$HANKO_TMP/out"

# Signed on demand (a plain one-serial request): stored with its responder,
# so not due again.
db "DELETE FROM ocsp_responses WHERE hex(serial) = '${SER[3]}'"
ok "answer: certificate 3, its stored response gone" answer c3 "$T/c3.pem"
check "... signed now" grep -q "^signed" "$T/c3.how"
check "... stored with responder 2's certificate" test \
	"$(db "SELECT hex(responder) FROM ocsp_responses WHERE hex(serial) = '${SER[3]}'")" = \
	"$(openssl x509 -in "$O/certs/ocsp-responder-2.pem" -outform DER | sha256sum | cut -c1-64 | tr a-f A-F)"
ok "ocsp-refresh after it" "$ON" ocsp-refresh --state "$O" "${CK[@]}"
check "... nothing due" grep -q "^0 OCSP responses signed" "$HANKO_TMP/out"

# serve's pre-signing at start (hk_ocsp_refresh): the same rule.
P=$T/repo
# (exit 9 without an imported ARL current at this clock: the set is made)
"$ON" publish --state "$O" --repo "$P" "${CK[@]}" >/dev/null 2>&1 || true
check "a set is published for serve" test -f "$P/MANIFEST"
ok "responder again, the same second: OCSP responder 3" "$ON" responder --state "$O" "${CK[@]}"
cleanup() { [ -n "${SP:-}" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null; return 0; }
trap cleanup EXIT
check "serve starts, the same second" serve_start "${CK[@]}"
kill "$SP"; wait "$SP" 2>/dev/null; SP=""
check "... its pre-signing at start signed all three again" \
	grep -q "	ocsp.refresh	ok	op1@ca-online	start: 3 responses signed" "$O/audit/audit.log"
check "... every stored response's Responder Id is responder 3's key" test \
	"$(stored_ids | uniq -c | sed 's/^ *//')" = "3 $(ski "$O/certs/ocsp-responder-3.pem")"

# A serve not restarted after a renewal signs with the responder it loaded
# at start (docs/ocsp.md) and does not take back what the new one signed:
# the new responder's responses, made after the loaded one's notBefore,
# are handed out as they are and are not due for its refresh (re-signed by
# the older responder, they were due again for the next ocsp-refresh: every
# stored response signed twice per refresh, every request a signing job).
T1=2026-04-03T10:20:00Z
ok "rp add bank-1" "$ON" rp add --state "$O" --clock "$T1" --name bank-1 --token-out "$T/tok"
check "serve at $T1: it loads responder 3" serve_start --clock "$T1"
ok "responder 4 while serve runs" "$ON" responder --state "$O" --clock "$T1"
ok "ocsp-refresh: responder 4 signs" "$ON" ocsp-refresh --state "$O" --clock "$T1"
check "... all three signed by responder 4" grep -q "^3 OCSP responses signed (responder 4," "$HANKO_TMP/out"
openssl ocsp -url "$U/ocsp" -issuer "$ISS" -cert "$T/c1.pem" -no_nonce -header "Authorization=Bearer $(cat "$T/tok")" \
	-noverify -resp_text >"$T/served.text" 2>&1 || true
check "serve hands out responder 4's pre-signed response, not one signed again by responder 3" test \
	"$(sed -n 's/^ *Responder Id: //p' "$T/served.text")" = "$(ski "$O/certs/ocsp-responder-4.pem")"
kill -HUP "$SP"
openssl ocsp -url "$U/ocsp" -issuer "$ISS" -cert "$T/c1.pem" -header "Authorization=Bearer $(cat "$T/tok")" \
	-noverify >/dev/null 2>&1 || true	# a signing job: answered after the SIGHUP's refresh
kill "$SP"; wait "$SP" 2>/dev/null; SP=""
check "... its SIGHUP refresh signed nothing again" sh -c \
	"! grep -q '	ocsp.refresh	ok	op1@ca-online	SIGHUP: ' '$O/audit/audit.log'"
check "... every stored response's Responder Id is still responder 4's key" test \
	"$(stored_ids | uniq -c | sed 's/^ *//')" = "3 $(ski "$O/certs/ocsp-responder-4.pem")"
ok "the online audit log verifies" "$OFF" audit verify --state "$O"
finish

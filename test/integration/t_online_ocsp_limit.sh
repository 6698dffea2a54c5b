#!/usr/bin/env bash
# t_online_ocsp_limit.sh - OCSP answers for at most 8 issuing keys at once
# (docs/ocsp.md "Issuing generations"): with more issuing generations
# valid, the newest are answered and the older ones left out with a
# warning, never every answer stopped; "responder" warns when the
# responder it makes leaves one out. Nine generations take a minute of
# ceremonies, so this rehearsal state lowers the limit to 1 with
# HANKO_OCSP_MAX_ISSUERS (honoured on rehearsal states only; the limit of
# 8 itself: unit.ocsp ocsp_answer::nine_live_issuing_keys_the_eight_newest_answered).
. "$(dirname "$0")/online.sh"
B=$T/req
req_dir "$B" 2
ok "issue one certificate under issuing CA 1" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/g1"
certs_from "$T/g1"
C1=$(ls "$T/g1/certs/"*.der | head -1)
openssl x509 -inform DER -in "$C1" -out "$T/c1.pem"
ok "OCSP responder 1 (issuing generation 1)" "$ON" responder --state "$O" --clock 2026-04-02T13:00:00Z
check "... no warning" bash -c "! grep -q warning '$HANKO_TMP/out'"
ok "make_online_gen2: the rollover to issuing CA 2" make_online_gen2 "$T"

OC=(--clock 2026-04-03T14:00:00Z)
# answer NAME: ocsp-answer for certificate 1; prints what openssl read
answer() {
	openssl ocsp -issuer "$ISS" -cert "$T/c1.pem" -no_nonce -reqout "$T/$1.req" 2>/dev/null
	"$ON" ocsp-answer --state "$O" "${OC[@]}" --request "$T/$1.req" --out "$T/$1.resp" >/dev/null &&
		openssl ocsp -respin "$T/$1.resp" -resp_text -noverify 2>&1 |
		grep -m1 -E 'OCSP Response Status|Responder Error' | sed 's/^ *//'
}

export HANKO_OCSP_MAX_ISSUERS=1
ok "responder 2 for issuing generation 2, one issuing key answered at once" "$ON" responder --state "$O" \
	--clock 2026-04-03T12:30:00Z
check "... it says issuing generation 1 is left out, and why" grep -qx \
	"warning: OCSP responder 1 left out: issuing generation 1 is older than the 1 newest issuing keys valid now, the most OCSP answers for at once: the certificates of its issuing generation are answered unauthorized (docs/ocsp.md \"Issuing generations\")" \
	"$HANKO_TMP/out"
check "... audited" grep -q "	ocsp.responders	fail	op1@ca-online	OCSP responder 1 left out: issuing generation 1 is older" "$O/audit/audit.log"
ok "ocsp-refresh still signs (responder 2), not stopped" "$ON" ocsp-refresh --state "$O" "${OC[@]}"
check "... responder 2 only, and the same warning" bash -c \
	"grep -q '^[0-9]* OCSP responses signed (responder 2, valid until [^;]*)\$' '$HANKO_TMP/out' &&
	 grep -q '^warning: OCSP responder 1 left out: issuing generation 1 is older than the 1 newest' '$HANKO_TMP/out'"
check "a certificate of issuing CA 1 is answered unauthorized" test "$(answer lim)" = \
	"Responder Error: unauthorized (6)"

unset HANKO_OCSP_MAX_ISSUERS
ok "without the test limit: ocsp-refresh signs with both responders" "$ON" ocsp-refresh --state "$O" "${OC[@]}"
check "... responder 2 and responder 1 (issuing generation 1), no warning" bash -c \
	"grep -q '^[0-9]* OCSP responses signed (responder 2, valid until .*; responder 1 (issuing generation 1) until .*)\$' '$HANKO_TMP/out' &&
	 ! grep -q warning '$HANKO_TMP/out'"
check "a certificate of issuing CA 1 is answered (successful)" test "$(answer all)" = \
	"OCSP Response Status: successful (0x0)"
ok "the audit log verifies" "$OFF" audit verify --state "$O"
finish

#!/usr/bin/env bash
# t_online_serve_clock.sh - serve's key holder and the clock guard (CPS
# 4-12-2-5, docs/clock.md): serve started at a clock more than 300 s behind
# the audit log's newest record still serves the repository and the OCSP
# responses already pre-signed, but signs nothing: its pre-signing at start
# is skipped (the stored response of a due certificate keeps its
# thisUpdate), said once on stderr with the guard's line and once in the
# audit log (ocsp.refresh fail), not again on later refreshes (SIGHUP); a
# nonce request (a signing job) is answered tryLater (RFC 6960 4.2.1),
# unsigned, while a request without a nonce still gets the older
# pre-signed response. After a clock.accept recorded while serve runs, the
# next refresh (SIGHUP) signs again and says so once; serve restarted at a
# clock within the 300 s of the newest record signs at start. A log's end
# the key holder cannot read holds signing too.
. "$(dirname "$0")/online.sh"
. "$(dirname "$0")/serve.sh"
LOG=$O/audit/audit.log
at() { date -u -d "$1" +%s; }
# newest: seq, time and event of the record the guard compares with
# (docs/clock.md): the latest time, the last of equal ones, from the last
# clock.accept on
newest() { awk -F'\t' '$3 == "clock.accept" || $2 >= t { t = $2; s = $1; e = $3 } END { print s "\t" t "\t" e }' "$LOG"; }

serve_one_cert		# issue, responder, publish at 2026-04-03T10:00, rp add bank-1
TOK=$(cat "$T/tok")
S=$(basename "$CERT" .der)
cat "$R" "$ISS" >"$T/chain.pem"
sig() { sqlite3 "$O/store.db" "SELECT this_update FROM ocsp_responses WHERE hex(serial) = '$S'"; }
ok "ocsp-refresh at 2026-04-03T11:00:00Z" "$ON" ocsp-refresh --state "$O" --clock 2026-04-03T11:00:00Z
TU0=$(sig)
check "... the certificate's pre-signed response: thisUpdate 2026-04-03T11:00:00Z" test "$TU0" = "$(at 2026-04-03T11:00:00Z)"
# a record of a clock that was ahead: the newest, 2026-04-04T05:00
ok "rp add bank-2 at 2026-04-04T05:00:00Z" "$ON" rp add --state "$O" --clock 2026-04-04T05:00:00Z --name bank-2 \
	--token-out "$T/tok2"
IFS=$'\t' read -r N NT NE < <(newest)
check "... the newest record ($N, $NE) is at 2026-04-04T05:00:00Z" test "$NT" = 2026-04-04T05:00:00Z

# serve at 2026-04-03T23:30: 19800 s behind. The stored response has 11.5 h
# left, under the 12 h refresh margin: due, so a refresh would sign it, and
# over the 1 h serve margin: handed out as it is.
BACK=2026-04-03T23:30:00Z
check "serve at $BACK (19800 s behind record $N)" serve_start --clock "$BACK"
AT=$(at "$BACK")
OCSP=(-issuer "$ISS" -CAfile "$T/chain.pem" -attime "$AT" -validity_period "$(since 2026-04-01T00:00:00Z)")
ocsp() { openssl ocsp -url "$U/ocsp" "${OCSP[@]}" -header "Authorization=Bearer $TOK" -cert "$T/c.pem" "$@" 2>&1; }
check "... the repository is served" test "$(curl -s -o /dev/null -w '%{http_code}' "$U/root/gen-1.cer")" = 200
check "... the pre-signing at start signed nothing: the stored response keeps thisUpdate 2026-04-03T11:00:00Z" \
	test "$(sig)" = "$TU0"
LINE="hanko-online serve: ocsp: CPS 4-12-2-5: the clock reads $BACK, 19800 s behind audit record $N \($NT, $NE\) of $O/audit/audit.log, over the 300 s allowed: .* --accept-set-back --actors IDS \(docs/clock.md\); no OCSP response is signed meanwhile: the pre-signed ones are served, requests that need a signature get tryLater$"
check "... said on stderr with the guard's line" grep -qE "^$LINE" "$T/serve.err"
REC="	ocsp.refresh	fail	op1@ca-online	start: CPS 4-12-2-5: the clock reads $BACK, 19800 s behind audit record $N \($NT, $NE\) of .*; no OCSP response is signed meanwhile"
check "... and in the audit log (ocsp.refresh fail)" grep -qE "$REC" "$LOG"
check "... no ocsp.refresh ok after record $N" test \
	"$(awk -F'\t' -v n="$N" '$1 > n && $3 == "ocsp.refresh" && $4 == "ok"' "$LOG" | wc -l)" = 0
ocsp -no_nonce >"$T/o-plain" || true
check "a request without a nonce: the older pre-signed response, good, thisUpdate 2026-04-03T11:00:00Z" sh -c \
	"grep -q 'Response verify OK' '$T/o-plain' && grep -q ': good' '$T/o-plain' &&
	 grep -q 'This Update: Apr  3 11:00:00 2026 GMT' '$T/o-plain'"
ocsp -respout "$T/nonce.resp" >"$T/o-nonce" || true
# tryLater: an OCSPResponse of its status only, 30 03 0a 01 03 (unsigned)
trylater() { { openssl ocsp -respin "$1" -resp_text -noverify 2>&1 || true; } | grep -qx 'Responder Error: trylater (3)' &&
	test "$(od -An -tx1 "$1" | tr -d ' \n')" = 30030a0103; }
check "a nonce request: tryLater (openssl -resp_text), status only, unsigned" trylater "$T/nonce.resp"
check "... the stored response unchanged" test "$(sig)" = "$TU0"
held() { trylater "$1" && test "$(sig)" = "$TU0"; }
# SIGHUP twice: a refresh each (a signing job answered after the signal
# shows it was handled: the key holder reads its signals first)
for i in 1 2; do
	kill -HUP "$KP"
	ocsp -respout "$T/hup$i.resp" >/dev/null || true
	check "SIGHUP $i: the refresh signs nothing, a nonce request still gets tryLater" held "$T/hup$i.resp"
done
check "... the stderr line and the audit record once each, not per refresh" test \
	"$(grep -cE "$LINE" "$T/serve.err") $(grep -cE '	ocsp.refresh	fail	op1@ca-online	[a-zA-Z ]*: CPS 4-12-2-5: ' "$LOG")" = "1 1"

# The way out while serve runs: the CA manager accepts the clock
# (clock.accept); the next refresh reads it and signs.
ok "clock --accept-set-back at $BACK while serve runs" "$ON" clock --state "$O" --clock "$BACK" --accept-set-back \
	--actors kimura
kill -HUP "$KP"
ocsp -respout "$T/acc.resp" >"$T/o-acc" || true
check "after SIGHUP: a nonce request is signed (good, nonce checked)" sh -c \
	"grep -q 'Response verify OK' '$T/o-acc' && grep -q ': good' '$T/o-acc' && ! grep -qi 'nonce' '$T/o-acc'"
check "... the refresh signed the due response at $BACK" test "$(sig)" = "$AT"
AGAIN="hanko-online serve: ocsp: CPS 4-12-2-5: the clock reads $BACK, not behind audit record [0-9]+ \($BACK\) by more than 300 s: signing OCSP responses again \(3 requests got tryLater meanwhile\)$"
check "... said once on stderr (3 requests got tryLater meanwhile)" test "$(grep -cE "^$AGAIN" "$T/serve.err")" = 1
check "... and in the audit log (ocsp.refresh ok SIGHUP), then the responses signed" sh -c \
	"grep -qE '	ocsp.refresh	ok	op1@ca-online	SIGHUP: CPS 4-12-2-5: the clock reads $BACK, not behind audit record [0-9]+ \\($BACK\\) by more than 300 s: signing OCSP responses again' '$LOG' &&
	 grep -q '	ocsp.refresh	ok	op1@ca-online	SIGHUP: 1 responses signed' '$LOG'"
ok "stop" stop_serve

# A later record; serve restarted 120 s behind it (within the 300 s) signs
# at start and says nothing of the clock.
ok "rp add bank-3 at 2026-04-05T12:00:00Z" "$ON" rp add --state "$O" --clock 2026-04-05T12:00:00Z --name bank-3 \
	--token-out "$T/tok3"
check "serve at 2026-04-05T11:58:00Z (120 s behind)" serve_start --clock 2026-04-05T11:58:00Z
check "... the pre-signing at start signed the due response at its clock" test "$(sig)" = "$(at 2026-04-05T11:58:00Z)"
check "... nothing said of the clock" sh -c "! grep -q 'CPS 4-12-2-5' '$T/serve.err'"
ok "stop" stop_serve

# The log's end unreadable (a record of the closed log the live log links
# back to damaged, the live log sound): signing is held as the commands
# that sign refuse.
ok "audit close at 2026-04-05T12:00:00Z" "$ON" audit close --state "$O" --clock 2026-04-05T12:00:00Z --actors op1,auditor1
CL=$(ls "$O"/audit/closed/audit-*.log)
cp -p "$CL" "$T/closed.keep"
sed -i '2s/	20\([0-9][0-9]\)-/	2x\1-/' "$CL"	# record 1's time: not a time
db "DELETE FROM ocsp_responses"	# every response due: a refresh would sign it
check "serve at 2026-04-05T12:00:00Z, the closed log damaged, no stored response" serve_start --clock 2026-04-05T12:00:00Z
check "... the pre-signing at start signed nothing" test "$(db "SELECT count(*) FROM ocsp_responses")" = 0
ocsp -respout "$T/unread.resp" >/dev/null || true
check "... a nonce request: tryLater" trylater "$T/unread.resp"
ocsp -no_nonce -respout "$T/unread2.resp" >/dev/null || true
check "... a request without a nonce (no stored response to hand out): tryLater, nothing stored" sh -c \
	"$(declare -f trylater); trylater '$T/unread2.resp' && test \$(sqlite3 '$O/store.db' 'SELECT count(*) FROM ocsp_responses') = 0"
kill -HUP "$KP"
ocsp -respout "$T/unread3.resp" >/dev/null || true
check "... SIGHUP: still tryLater, nothing signed" sh -c \
	"$(declare -f trylater); trylater '$T/unread3.resp' && test \$(sqlite3 '$O/store.db' 'SELECT count(*) FROM ocsp_responses') = 0"
check "... said on stderr: the clock is not checked, the closed log named, nothing signed until it can be read" grep -qE \
	"^hanko-online serve: ocsp: CPS 4-12-2-5: the clock is not checked: the end of the audit log, whose newest record the clock guard compares with, cannot be read: $CL: .*; no OCSP response is signed until it can be: " \
	"$T/serve.err"
check "... and in the audit log (ocsp.refresh fail), once each" test \
	"$(grep -c 'the clock is not checked' "$T/serve.err") $(grep -cE "	ocsp.refresh	fail	op1@ca-online	start: CPS 4-12-2-5: the clock is not checked: the end of the audit log cannot be read: $CL: " "$O/audit/audit.log")" = "1 1"
ok "stop" stop_serve
cp -p "$T/closed.keep" "$CL"
check "the audit log verifies" "$OFF" audit verify --log "$O/audit/audit.log"
finish

#!/usr/bin/env bash
# t_online_clock.sh - the clock guard (CPS 4-12-2-5, docs/clock.md): with the
# clock set back a day behind the audit log's newest record, issue, revoke
# and request are refused (exit 3, one line) before anything is signed,
# reserved or recorded; status warns (exit 9); a clock within the 300 s
# allowed passes and one a second beyond does not; revoke
# --issuing-key-compromise is never refused for the clock (CPS 4-14-2): it
# goes on, warns, and its record says so, and its records, dated earlier,
# do not open the guard; clock --accept-set-back --actors records the
# acceptance (clock.accept, naming who confirmed the time source; without
# --actors it is a usage error) after which issue runs at that clock; an
# audit close at a clock set back does not open the guard (it reads on into
# the closed log); a log's end the guard cannot read does not stop the
# compromise revocation, which warns (CPS 4-12-2-5) and records that the
# clock went unchecked.
. "$(dirname "$0")/online.sh"

B=$T/req
req_dir "$B"
six_residents "$B/batch1.csv"
AH=(--clock 2026-04-03T12:00:00Z)	# the records of a clock a day ahead
ok "issue six residents at 2026-04-03T12:00:00Z" "$ON" issue --state "$O" "${AH[@]}" \
	--batch "$B/batch1.csv" --out "$T/out1"
S2=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/out1/results.csv")
check "... a serial" test -n "$S2"
# newest: seq and time of the record the guard compares with (docs/clock.md):
# the latest time, the last of equal ones, from the last clock.accept on
newest() { awk -F'\t' '$3 == "clock.accept" || $2 >= t { t = $2; s = $1 } END { print s "\t" t }' "$O/audit/audit.log"; }
N=$(newest | cut -f1) NT=$(newest | cut -f2)
check "... the log's newest record is its last, at 2026-04-03T12:00:00Z" test "$NT|$N" = "2026-04-03T12:00:00Z|$(tail -1 "$O/audit/audit.log" | cut -f1)"

BACK=(--clock 2026-04-02T12:00:00Z)	# a day behind record $N
# snap: what a refused command must leave as it was
snap() { { db .dump; cat "$O/audit/audit.log" "$O/audit/audit.log.head" "$O/state.conf"; ls -R "$O/certs"; } | sha256sum; }
before=$(snap)
{ sed -n 1p "$B/batch1.csv"
  echo "431010,70000000007,熊本　次郎,00000,319750301,1,熊本県熊本市中央区水前寺６丁目１８番１号,00000000000000000000,keys/resident-2.pub.pem"
} >"$B/batch2.csv"
RE="CPS 4-12-2-5: the clock reads 2026-04-02T12:00:00Z, 86400 s behind audit record $N \(2026-04-03T12:00:00Z, audit.checkpoint\) of .*audit.log, over the 300 s allowed: .*clock --state .* --accept-set-back --actors IDS \(docs/clock.md\)"
fails "issue with the clock a day back: refused" 3 "^hanko-online issue: $RE.*; nothing signed or recorded$" \
	"$ON" issue --state "$O" "${BACK[@]}" --batch "$B/batch2.csv" --out "$T/out2"
check "... no results folder" test ! -e "$T/out2"
check "... nothing signed, reserved or recorded: store, log, state.conf, certs/ as they were" test "$(snap)" = "$before"
check "... no serial used: still 6 certificates, no batch but the first" \
	test "$(db "SELECT count(*) FROM certificates")|$(db "SELECT count(*) FROM batches")" = "6|1"
fails "revoke with the clock a day back: refused" 3 "^hanko-online revoke: $RE" \
	"$ON" revoke --state "$O" "${BACK[@]}" --serial "$S2" --reason 4
check "... still valid, nothing recorded" test "$(db "SELECT status FROM certificates WHERE hex(serial) = '$S2'")|$(snap)" = "valid|$before"
fails "request --type csr with the clock a day back: refused" 3 "^hanko-online request: $RE" \
	"$ON" request --state "$O" "${BACK[@]}" --type csr --out "$T/r-csr"
check "... no bundle, no key, nothing recorded" test ! -e "$T/r-csr" -a "$(snap)" = "$before"
certs_from "$T/out1"
openssl x509 -inform DER -in "$T/out1/certs/$S2.der" -out "$T/c2.pem"
openssl ocsp -issuer "$ISS" -cert "$T/c2.pem" -no_nonce -reqout "$T/c2.req" 2>/dev/null
fails "ocsp-answer with the clock a day back: refused (it signs and stores as ocsp-refresh does)" 3 \
	"^hanko-online ocsp-answer: $RE" \
	"$ON" ocsp-answer --state "$O" "${BACK[@]}" --request "$T/c2.req" --out "$T/c2.resp"
check "... no response written, nothing recorded" test ! -e "$T/c2.resp" -a "$(snap)" = "$before"
fails "... at the log's clock it passes the guard (and wants a responder)" 3 "run hanko-online responder" \
	"$ON" ocsp-answer --state "$O" "${AH[@]}" --request "$T/c2.req" --out "$T/c2.resp"
fails "clock: the guard would refuse" 3 "^hanko-online clock: $RE" "$ON" clock --state "$O" "${BACK[@]}"
check "... it prints the clock, record $N and the refusal" grep -qz \
	"clock: 2026-04-02T12:00:00Z (--clock).*newest record $N (2026-04-03T12:00:00Z, audit.checkpoint); last record $N .*guard: refuses: the clock is 86400 s behind record $N" "$T/out"

rc=0; "$ON" status --state "$O" "${BACK[@]}" >"$T/st.out" 2>"$T/st.err" || rc=$?
check "status with the clock a day back: exit 9 (exit $rc)" test "$rc" = 9
check "... a warning names the clock and record $N" grep -Eq "^hanko-online status: warning: $RE" "$T/st.err"
check "... and its fact line" grep -q "^clock: 86400 s behind the newest audit record $N (2026-04-03T12:00:00Z), over 300 s" "$T/st.out"
check "... naming what refuses and that serve signs no OCSP response" grep -q "^clock: 86400 s behind .*: issue, revoke, recover, request, responder, ocsp-refresh and ocsp-answer refuse, and serve signs no OCSP response (CPS 4-12-2-5)$" "$T/st.out"
"$ON" status --state "$O" "${AH[@]}" >"$T/st.out" 2>"$T/st.err" || true
check "status at 2026-04-03T12:00:00Z: no clock warning, the fact line says it runs" sh -c \
	"! grep -q 4-12-2-5 '$T/st.err' && grep -q '^clock: not behind the newest audit record $N' '$T/st.out'"
check "... nothing written by status or clock" test "$(snap)" = "$before"

# the tolerance: 300 s behind passes, 301 s is refused
ok "clock: 300 s behind passes" "$ON" clock --state "$O" --clock 2026-04-03T11:55:00Z
check "... said so" grep -q "^guard: passes: the clock is 300 s behind record $N, within the 300 s allowed" "$T/out"
fails "clock: 301 s behind would refuse" 3 "301 s behind audit record $N" "$ON" clock --state "$O" --clock 2026-04-03T11:54:59Z
ok "revoke 300 s behind the last record: runs" "$ON" revoke --state "$O" --clock 2026-04-03T11:55:00Z --serial "$S2" --reason 4
check "... revoked" test "$(db "SELECT status FROM certificates WHERE hex(serial) = '$S2'")" = revoked

# the way out: the clock was ahead when those records were written
N=$(newest | cut -f1)
before=$(snap)
fails "clock --accept-set-back without --actors: usage, naming --actors and why" 2 \
	"^hanko-online clock: --accept-set-back needs --actors IDS: the CA manager who confirmed the time source .*clock.accept record.*; nothing recorded$" \
	"$ON" clock --state "$O" "${BACK[@]}" --accept-set-back
for bad in - ",cam1" "cam1,,op1" "cam 1" "-cam1"; do
	fails "clock --accept-set-back --actors '$bad': usage" 2 \
		"^hanko-online clock: --actors $bad: must be at least one id \\[A-Za-z0-9\\]" \
		"$ON" clock --state "$O" "${BACK[@]}" --accept-set-back --actors "$bad"
done
fails "clock --accept-set-back --actors '': usage, no value" 2 "^hanko-online clock: --actors: needs a value$" \
	"$ON" clock --state "$O" "${BACK[@]}" --accept-set-back --actors ""
fails "clock --actors without --accept-set-back: usage" 2 "^hanko-online clock: --actors cam1: only with --accept-set-back" \
	"$ON" clock --state "$O" "${BACK[@]}" --actors cam1
check "... nothing recorded by any of them" test "$(snap)" = "$before"
ok "clock --accept-set-back --actors cam1,op1 at 2026-04-02T12:00:00Z" "$ON" clock --state "$O" "${BACK[@]}" \
	--accept-set-back --actors cam1,op1
check "... said" grep -q "^Accepted: the clock 2026-04-02T12:00:00Z, 86400 s behind record $N (2026-04-03T12:00:00Z), recorded (clock.accept, actors cam1,op1)" "$T/out"
check "... a clock.accept record by cam1,op1 names the clock, record $N, its time and the difference" grep -Eq \
	"^[0-9]+	2026-04-02T12:00:00Z	clock.accept	ok	cam1,op1	CPS 4-12-2-5: the clock reads 2026-04-02T12:00:00Z, 86400 s behind audit record $N \(2026-04-03T12:00:00Z, audit.checkpoint\): accepted as a clock that was ahead .*time source confirmed by the CA manager" "$O/audit/audit.log"
check "... signed by a checkpoint after it" test "$(cut -f3 "$O/audit/audit.log" | tail -2 | tr '\n' ' ')" = "clock.accept audit.checkpoint "
ok "clock at 2026-04-02T12:00:00Z now passes" "$ON" clock --state "$O" "${BACK[@]}"
ok "clock --accept-set-back again: nothing to accept" "$ON" clock --state "$O" "${BACK[@]}" --accept-set-back --actors cam1
check "... nothing recorded" sh -c "grep -q '^nothing to accept: nothing recorded' '$T/out' && test \"\$(grep -c clock.accept '$O/audit/audit.log')\" = 1"
ok "issue at 2026-04-02T13:00:00Z after the acceptance: runs" "$ON" issue --state "$O" --clock 2026-04-02T13:00:00Z \
	--batch "$B/batch2.csv" --out "$T/out3"
S7=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/out3/results.csv")
check "... issued: 6 valid certificates again" test -n "$S7" -a "$(db "SELECT count(*) FROM certificates WHERE status = 'valid'")" = 6

# an issuing-key compromise is never refused for the clock (CPS 4-14-2)
N=$(newest | cut -f1) NT=$(newest | cut -f2)
V=$(db "SELECT count(*) FROM certificates WHERE status = 'valid'")
rc=0; "$ON" revoke --state "$O" --clock 2026-04-01T13:00:00Z --issuing-key-compromise --generation 1 \
	--yes-revoke-all "$V" >"$T/cr.out" 2>"$T/cr.err" || rc=$?
check "revoke --issuing-key-compromise a day behind: done (exit $rc)" test "$rc" = 0
check "... warned: the clock, record $N, not refused" grep -q "^hanko-online: warning: CPS 4-12-2-5: the clock reads 2026-04-01T13:00:00Z, 86400 s behind audit record $N ($NT, audit.checkpoint) .*an issuing-key compromise is never refused for the clock (CPS 4-14-2)" "$T/cr.err"
check "... all $V revoked" test "$(db "SELECT count(*) FROM certificates WHERE status = 'valid'")" = 0
check "... its cert.revoke-all record says so" grep -Eq \
	"^[0-9]+	2026-04-01T13:00:00Z	cert.revoke-all	ok	op1@ca-online	.*; revoked at 2026-04-01T13:00:00Z; clock-behind: the clock read 2026-04-01T13:00:00Z, 86400 s behind audit record $N \($NT\), not refused \(CPS 4-14-2\)	" "$O/audit/audit.log"
check "... the log's last record is at that clock" test "$(tail -1 "$O/audit/audit.log" | cut -f2)" = 2026-04-01T13:00:00Z
fails "clock after it: its earlier records do not open the guard (record $N still the newest)" 3 \
	"86400 s behind audit record $N \($NT, audit.checkpoint\)" "$ON" clock --state "$O" --clock 2026-04-01T13:00:00Z
fails "revoke at that clock: still refused" 3 "^hanko-online revoke: CPS 4-12-2-5: .* behind audit record $N " \
	"$ON" revoke --state "$O" --clock 2026-04-01T13:00:00Z --serial "$S2" --reason 1

ok "audit verify: the log is sound" "$OFF" audit verify --log "$O/audit/audit.log" --key "$O/audit/audit-key.pem"
# the records dated earlier than the one before them, for the internal auditor
# to explain (docs/audit-log.md): hanko-online audit verify says so too
BS=$(awk -F'\t' 'NR > 1 && $2 < t { n++ } { t = $2 } END { print n + 0 }' "$O/audit/audit.log")
check "... records older than the one before them: some ($BS)" test "$BS" -gt 0
ok "hanko-online audit verify: the log is sound" "$ON" audit verify --state "$O"
check "... it counts them for the auditor, as hanko-offline audit verify does" \
	grep -q "^  $BS records older than the one before them (a clock set back or corrected" "$T/out"

# the yearly close (not guarded) at a clock set back: the new log's records
# are the close's, dated by it, and the guard reads on into the closed log
# it links back to, where record $N still is; and back through a second close
N=$(newest | cut -f1) NT=$(newest | cut -f2)
ok "audit close a day behind record $N: runs (not guarded)" \
	"$ON" audit close --state "$O" --clock 2026-04-01T13:00:00Z --actors op1,auditor1
CL=$(ls "$O"/audit/closed/audit-*.log)
check "... a new log, its records at that clock" test "$(sed -n 2p "$O/audit/audit.log" | cut -f2,3)" = "2026-04-01T13:00:00Z	audit.link"
fails "clock after it: still refused, by record $N of the closed log" 3 \
	"^hanko-online clock: CPS 4-12-2-5: the clock reads 2026-04-01T13:00:00Z, [0-9]+ s behind audit record $N \($NT, audit.checkpoint\) of $CL, over the 300 s allowed" \
	"$ON" clock --state "$O" --clock 2026-04-01T13:00:00Z
check "... it names the closed log" grep -q "^audit log: newest record $N ($NT, audit.checkpoint) of the closed log $CL; last record 2 " "$T/out"
fails "revoke at that clock: refused" 3 "^hanko-online revoke: CPS 4-12-2-5: .* behind audit record $N \($NT, audit.checkpoint\) of $CL" \
	"$ON" revoke --state "$O" --clock 2026-04-01T13:00:00Z --serial "$S2" --reason 1
ok "a second close at that clock" "$ON" audit close --state "$O" --clock 2026-04-01T13:10:00Z --actors op1,auditor1
fails "clock after it: refused, by record $N two closes back" 3 "behind audit record $N \($NT, audit.checkpoint\) of $CL, over" \
	"$ON" clock --state "$O" --clock 2026-04-01T13:10:00Z
ok "clock at $NT: passes" "$ON" clock --state "$O" --clock "$NT"

# the guard cannot read the log's end (a record of the closed log the live
# log links back to damaged, the live log sound): an issuing-key compromise
# still goes on; its warning says CPS 4-12-2-5 and what could not be read,
# its record that the clock was not checked
CL2=$(ls "$O"/audit/closed/audit-*.log | grep -vxF "$CL")
check "the second closed log" test -f "$CL2"
chmod u+w "$CL2"
sed -i '2s/	20\([0-9][0-9]\)-/	2x\1-/' "$CL2"	# record 1's time: not a time
fails "clock: the closed log's end does not read (exit 6)" 6 "^hanko-online clock: $CL2: a record of the log's end: .*run audit verify$" \
	"$ON" clock --state "$O" --clock 2026-04-01T13:20:00Z
V=$(db "SELECT count(*) FROM certificates WHERE status = 'valid'")
rc=0; "$ON" revoke --state "$O" --clock 2026-04-01T13:20:00Z --issuing-key-compromise --generation 1 \
	--yes-revoke-all "$V" >"$T/cu.out" 2>"$T/cu.err" || rc=$?
check "revoke --issuing-key-compromise, the log's end unreadable: done (exit $rc)" test "$rc" = 0
check "... warned: CPS 4-12-2-5, the clock not checked, the closed log named, not refused" grep -q \
	"^hanko-online: warning: CPS 4-12-2-5: the clock is not checked: the end of the audit log, whose newest record the clock guard compares with, cannot be read: $CL2: a record of the log's end: .*; an issuing-key compromise is never refused for the clock (CPS 4-14-2): going on, its audit record says so$" "$T/cu.err"
check "... its cert.revoke-all record: revoked at T, then the clock not checked" grep -Eq \
	"^[0-9]+	2026-04-01T13:20:00Z	cert.revoke-all	ok	op1@ca-online	issuing generation 1 .*; revoked at 2026-04-01T13:20:00Z; clock-unchecked: the end of the audit log could not be read \($CL2: a record of the log's end: .*\): the clock was not checked \(CPS 4-12-2-5\), not refused \(CPS 4-14-2\)	" "$O/audit/audit.log"
check "... signed by a checkpoint after it" test "$(cut -f3 "$O/audit/audit.log" | tail -2 | tr '\n' ' ')" = "cert.revoke-all audit.checkpoint "
finish

#!/usr/bin/env bash
# t_online_serve_clock_long.sh - serve's key holder, whose clock guard
# cannot read the audit log's end (a record of the closed log the live log
# links back to damaged; docs/clock.md "serve"), under a state folder deep
# in the file system (a CI checkout: some 400 characters of folders, as
# t_online_long_path): its stderr line and its ocsp.refresh fail record
# name the failure whole, as ocsp-refresh's refusal does (the closed log's
# path and what is wrong in it), not cut at 511 bytes.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
. "$HANKO_SRC/test/data/online/setup.sh"
fresh_tmp
T=$HANKO_TMP
D=$(long_dir "$T")
make_online "$D"
db() { sqlite3 "$O/store.db" "$1"; }
. "$(dirname "$0")/serve.sh"
check "the state folder is ${#O} characters long" test ${#O} -ge 400

serve_one_cert		# issue, responder, publish, rp add bank-1
ok "audit close at 2026-04-05T12:00:00Z" "$ON" audit close --state "$O" --clock 2026-04-05T12:00:00Z --actors op1,auditor1
CL=$(ls "$O"/audit/closed/audit-*.log)
chmod u+w "$CL"
sed -i '2s/	20\([0-9][0-9]\)-/	2x\1-/' "$CL"	# record 1's time: not a time
"$ON" ocsp-refresh --state "$O" --clock 2026-04-05T12:00:00Z >/dev/null 2>"$T/refresh.err" || true
WHY=$(sed -n 's/^hanko-online ocsp-refresh: //p' "$T/refresh.err")
whole() { [[ "$WHY" == "$CL:"* ]] && [ ${#WHY} -gt 511 ]; }
check "ocsp-refresh refuses, naming the closed log (${#CL} characters) and what is wrong: over 511 bytes" whole
check "serve at 2026-04-05T12:00:00Z, the closed log damaged" serve_start --clock 2026-04-05T12:00:00Z
kill "$SP"; wait "$SP" 2>/dev/null; SP=""
check "... stopped cleanly (no sanitizer report)" sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' '$T/serve.err'"
check "... stderr names the failure whole, then what serve does" grep -qF \
	"the end of the audit log, whose newest record the clock guard compares with, cannot be read: $WHY; no OCSP response is signed until it can be: " \
	"$T/serve.err"
check "... so does its ocsp.refresh fail record" grep -qF \
	"	ocsp.refresh	fail	op1@ca-online	start: CPS 4-12-2-5: the clock is not checked: the end of the audit log cannot be read: $WHY; no OCSP response is signed until it can be" \
	"$O/audit/audit.log"
finish

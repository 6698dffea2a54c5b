#!/usr/bin/env bash
# t_online_recover_revocations_clock.sh - "hanko-online recover
# --revocations" with the real clock (no --clock), each read of it a
# second on (test/data/online/clockstep.c: as a slow run, whose audit
# record is written seconds after it read the revocation's time): the
# revocations come back at the lost store's times, not their records'
# (RFC 5280 5.3.2: the CRLs relying parties saw), and one already in the
# restored store is no note (docs/backup.md "Restore", step 9).
#   batch A (residents 1-5); A's line 2 revoked key-compromise; the backup;
#   batch R --replace re-issues resident 5 (A's line 6 superseded: issue's
#   record is written after its commit, and says the revocation's time);
#   A's line 3 revoked affiliation-changed; a double issuance made outside
#   hanko revoked by check (its time read at its start, before its long
#   scans); generation 1's compromise (the rest). The state restored from the backup, the live log kept:
#   recover of batch R (A's line 6 revoked at the lost store's time, R's
#   line revoked by the compromise at its time); recover --revocations:
#   exit 0, no note, 3 redone, 2 already; every row
#   the lost store's (status, reason, revoked_at) and its CRL entries;
#   state.conf's mark the lost one's; check clean; a second run the same.
. "$(dirname "$0")/online.sh"
BK=$T/backups
mkdir -p "$BK"
ASAN_PRELOAD=verify_asan_link_order=0
cc -shared -fPIC -o "$T/clockstep.so" "$HANKO_SRC/test/data/online/clockstep.c" -ldl
step() { env HK_CLOCKSTEP="$T/clockstep" LD_PRELOAD="$T/clockstep.so" ASAN_OPTIONS="$ASAN_PRELOAD" "$@"; }
six_residents "$T/six.csv"
serial_of() { awk -F, -v l="$2" '$1 == l && $2 == "ok" { print $3 }' "$1"; }
req_dir "$T/a"; req_dir "$T/r"
sed -n 1,6p "$T/six.csv" >"$T/a/batch.csv"
sed -n '1p;6p' "$T/six.csv" >"$T/r/batch.csv"			# resident 5 again
ok "batch A (residents 1-5)" "$ON" issue --state "$O" --clock 2026-04-02T12:00:00Z --batch "$T/a/batch.csv" --out "$T/a/out"
A1=$(serial_of "$T/a/out/results.csv" 2); A2=$(serial_of "$T/a/out/results.csv" 3)
A3=$(serial_of "$T/a/out/results.csv" 4); A4=$(serial_of "$T/a/out/results.csv" 5)
A5=$(serial_of "$T/a/out/results.csv" 6)
check "five serials" test -n "$A1" -a -n "$A2" -a -n "$A3" -a -n "$A4" -a -n "$A5"
ok "A's line 2 revoked key-compromise (the real clock, stepping)" step "$ON" revoke --state "$O" --serial "$A1" --reason 1
rat() { sqlite3 "$O/store.db" "SELECT revoked_at FROM certificates WHERE hex(serial) = '$1'"; }
rec_at() { date -u -d "$(awk -F'\t' -v p="serial $1: " '$3 == "cert.revoke" && $4 == "ok" && index($0, p) { print $2 }' "$O/audit/audit.log" | head -1)" +%s; }
check "... its record's time is seconds after its revoked_at (the shim works)" test "$(rec_at "$A1")" -gt "$(rat "$A1")"
ok "the backup" step "$ON" backup --state "$O" --out "$BK/b1"
ok "batch R --replace re-issues resident 5 (A's line 6 superseded; the real clock, stepping)" step "$ON" issue --state "$O" --replace --batch "$T/r/batch.csv" --out "$T/r/out"
R1=$(serial_of "$T/r/out/results.csv" 2)
check "... its cert.revoke record's time is after A's line 6's revoked_at (the shim works)" \
	test "$(date -u -d "$(awk -F'\t' -v p="$A5/" '$3 == "cert.revoke" && $4 == "ok" && index($0, p) { print $2 }' "$O/audit/audit.log")" +%s)" -gt "$(rat "$A5")"
ok "A's line 3 revoked affiliation-changed" step "$ON" revoke --state "$O" --serial "$A2" --reason 3
ok "a double issuance made outside hanko: A's line 5 given line 4's resident" sqlite3 "$O/store.db" "DROP INDEX certificates_one_live; DROP TRIGGER certificates_fixed;
	DROP TRIGGER certificates_transition; UPDATE certificates SET resident_key = (SELECT resident_key FROM certificates WHERE hex(serial) = '$A3') WHERE hex(serial) = '$A4'"
fails "check revokes the newer one, reason 5 (the real clock, stepping)" 1 "findings, 4 fixed$" step "$ON" check --state "$O"
DX=$(sqlite3 "$O/store.db" "SELECT hex(serial) FROM certificates WHERE status = 'revoked' AND reason = 5")
check "... one of A's lines 4 and 5 revoked by check" sh -c "[ '$DX' = '$A3' ] || [ '$DX' = '$A4' ]"
ok "generation 1's compromise: the rest (2)" step "$ON" revoke --state "$O" --issuing-key-compromise --generation 1 --yes-revoke-all 2
ALL="$A1 $A2 $A3 $A4 $A5 $R1"
rows() { for s in $ALL; do sqlite3 "$O/store.db" "SELECT hex(serial), status, coalesce(reason, 0), coalesce(revoked_at, 0) FROM certificates WHERE hex(serial) = '$s'"; done; }
crl() { sqlite3 "$O/store.db" "SELECT hex(serial), hex(entry) FROM crl_entries ORDER BY serial"; }
rows >"$T/lost.rows"; crl >"$T/lost.crl"
grep '^issuing\.1\.compromised' "$O/state.conf" >"$T/lost.mark"
check "the lost store: all six revoked" test "$(grep -c '|revoked|' "$T/lost.rows")" = 6
mkdir -p "$T/live-audit"
cp -p "$O/audit/audit.log" "$O/audit/audit.log.head" "$T/live-audit/"
restore_state "$BK/b1" "$O.damaged" "$T/live-audit"
ok "restored: recover batch R (after the backup)" step "$ON" recover --state "$O" --batch "$T/r/batch.csv" --results "$T/r/out/results.csv"
check "... A's line 6 revoked superseded at the lost store's time, not its record's" test \
	"$(sqlite3 "$O/store.db" "SELECT hex(serial), status, coalesce(reason, 0), coalesce(revoked_at, 0) FROM certificates WHERE hex(serial) = '$A5'")" = "$(grep "^$A5|" "$T/lost.rows")"
ok "restored: recover --revocations" step "$ON" recover --state "$O" --revocations
check "... no note: A's lines 2 and 6 are in the restored store as their records made them" sh -c "! grep -q '^note:' '$T/out'"
check "... 3 redone, 2 already in the store, 0 noted" \
	grep -q "^Revocations of the live log: 3 redone at their records' times, 2 already in the store, 0 noted, 0 refused of 5$" "$T/out"
rows >"$T/got.rows"
check "every certificate: the lost store's status, reason and revoked_at" cmp -s "$T/lost.rows" "$T/got.rows"
[ -z "${HANKO_DEBUG:-}" ] || diff "$T/lost.rows" "$T/got.rows" >&2 || true
check "the CRL entries are the lost store's" test "$(crl)" = "$(cat "$T/lost.crl")"
check "state.conf's mark: the lost one's time" test "$(grep '^issuing\.1\.compromised' "$O/state.conf")" = "$(cat "$T/lost.mark")"
ok "check: clean" step "$ON" check --state "$O"
check "... Store consistent, no finding, no note" test "$(cat "$T/out")" = "Store consistent: 0 valid certificates checked"
ok "a second run" step "$ON" recover --state "$O" --revocations
check "... 0 redone, 5 already, 0 noted" \
	grep -q "^Revocations of the live log: 0 redone at their records' times, 5 already in the store, 0 noted, 0 refused of 5$" "$T/out"
finish

#!/usr/bin/env bash
# t_online_recover_revocations.sh - "hanko-online recover --revocations"
# redoes the live log's cert.revoke and cert.revoke-all records a store
# restored from a backup lacks, each with its record's reason and TIME
# (docs/backup.md "Restore", step 9; CPS 4-4, 4-4-1-3, 4-14-1; RFC 5280
# 5.3.2: the revocation date is when the CA processed it, and a later date
# on the next CRL would make signatures between the two look valid).
#   batch A (residents 1-5) under issuing generation 1; A's line 6 revoked
#   affiliation-changed (in the backup); the backup; then A's line 2
#   key-compromise (T1 13:00), batch R --replace re-issues resident 2 (A's
#   line 3 superseded, T2 13:10), a double issuance made outside hanko and
#   revoked by check (reason 5, 13:20), batch E (resident 6) and its
#   certificate revoked key-compromise (13:40), then generation 1's
#   compromise (T3 14:00: the rest). The lost store's rows kept aside.
#   restore 1: R recovered, the hand-made redo (revoke --serial) dates A's
#   line 2 at the redo's time, not T1: why recover --revocations exists.
#   restore 2: R recovered; a rewritten log: exit 6, nothing changed;
#   recover --revocations: every revocation back with the lost store's
#   reason and time, state.conf marked at T3, E's not in the store refused
#   with its line (exit 3); E recovered, again: exit 0, check clean, a third
#   run changes nothing; publish: the CRLs' revocationDate are the originals.
. "$(dirname "$0")/online.sh"
BK=$T/backups
mkdir -p "$BK"
six_residents "$T/six.csv"
serial_of() { awk -F, -v l="$2" '$1 == l && $2 == "ok" { print $3 }' "$1"; }
req_dir "$T/a"; req_dir "$T/r"; req_dir "$T/e"
sed -n 1,6p "$T/six.csv" >"$T/a/batch.csv"			# residents 1-5
sed -n '1p;3p' "$T/six.csv" >"$T/r/batch.csv"			# resident 2 again
sed -n '1p;7p' "$T/six.csv" >"$T/e/batch.csv"			# resident 6
ok "batch A (residents 1-5) under generation 1" "$ON" issue --state "$O" --clock 2026-04-02T12:00:00Z --batch "$T/a/batch.csv" --out "$T/a/out"
A1=$(serial_of "$T/a/out/results.csv" 2); A2=$(serial_of "$T/a/out/results.csv" 3)
A3=$(serial_of "$T/a/out/results.csv" 4); A4=$(serial_of "$T/a/out/results.csv" 5)
A5=$(serial_of "$T/a/out/results.csv" 6)
check "five serials" test -n "$A1" -a -n "$A2" -a -n "$A3" -a -n "$A4" -a -n "$A5"
ok "A's line 6 revoked affiliation-changed before the backup" "$ON" revoke --state "$O" --clock 2026-04-02T12:10:00Z --serial "$A5" --reason 3
ok "the backup" "$ON" backup --state "$O" --out "$BK/b1" --clock 2026-04-02T12:30:00Z
# ---- after the backup ----------------------------------------------------
ok "T1: A's line 2 revoked key-compromise" "$ON" revoke --state "$O" --clock 2026-04-02T13:00:00Z --serial "$A1" --reason key-compromise
ok "T2: batch R --replace re-issues resident 2 (A's line 3 superseded)" "$ON" issue --state "$O" --clock 2026-04-02T13:10:00Z --replace --batch "$T/r/batch.csv" --out "$T/r/out"
R1=$(serial_of "$T/r/out/results.csv" 2)
ok "a double issuance made outside hanko: A's line 5 given line 4's resident" sqlite3 "$O/store.db" "DROP INDEX certificates_one_live; DROP TRIGGER certificates_fixed;
	DROP TRIGGER certificates_transition; UPDATE certificates SET resident_key = (SELECT resident_key FROM certificates WHERE hex(serial) = '$A3') WHERE hex(serial) = '$A4'"
fails "check revokes the newer one, reason 5" 1 "findings, 4 fixed$" "$ON" check --state "$O" --clock 2026-04-02T13:20:00Z
DX=$(db "SELECT hex(serial) FROM certificates WHERE status = 'revoked' AND reason = 5")
check "... one of A's lines 4 and 5 revoked by check" sh -c "[ '$DX' = '$A3' ] || [ '$DX' = '$A4' ]"
ok "batch E (resident 6)" "$ON" issue --state "$O" --clock 2026-04-02T13:30:00Z --batch "$T/e/batch.csv" --out "$T/e/out"
E1=$(serial_of "$T/e/out/results.csv" 2)
ok "E's certificate revoked key-compromise" "$ON" revoke --state "$O" --clock 2026-04-02T13:40:00Z --serial "$E1" --reason 1
ok "T3: compromise of generation 1 --dry-run" "$ON" revoke --state "$O" --clock 2026-04-02T14:00:00Z --issuing-key-compromise --generation 1 --dry-run
NV=$(sed -n 's/.*: \([0-9]*\) valid and 0 pending certificates.*/\1/p' "$T/out")
check "... 2 valid (the double's kept one, R's)" test "$NV" = 2
ok "T3: --yes-revoke-all 2" "$ON" revoke --state "$O" --clock 2026-04-02T14:00:00Z --issuing-key-compromise --generation 1 --yes-revoke-all 2
ALL="$A1 $A2 $A3 $A4 $A5 $R1 $E1"
rows() { for s in $ALL; do sqlite3 "$O/store.db" "SELECT hex(serial), status, coalesce(reason, 0), coalesce(revoked_at, 0), hex(der) FROM certificates WHERE hex(serial) = '$s'"; done; }
crl() { sqlite3 "$O/store.db" "SELECT hex(serial), hex(entry) FROM crl_entries ORDER BY serial"; }
rows >"$T/lost.rows"; crl >"$T/lost.crl"
bdates() { sqlite3 "$O/store.db" "SELECT sha256, started_at, finished_at FROM batches ORDER BY sha256"; }
bdates >"$T/lost.batches"
ts() { date -u -d "2026-04-02T$1Z" +%s; }
check "the lost store: all seven revoked, each at its own time" test \
	"$(cut -d'|' -f2-4 "$T/lost.rows" | tr '\n' ' ')" = \
	"revoked|1|$(ts 13:00:00) revoked|4|$(ts 13:10:00) $(for s in "$A3" "$A4"; do [ "$s" = "$DX" ] && printf 'revoked|5|%s ' "$(ts 13:20:00)" || printf 'revoked|2|%s ' "$(ts 14:00:00)"; done)revoked|3|$(ts 12:10:00) revoked|2|$(ts 14:00:00) revoked|1|$(ts 13:40:00) "
mkdir -p "$T/live-audit"
cp -p "$O/audit/audit.log" "$O/audit/audit.log.head" "$T/live-audit/"
seq_of() { awk -F'\t' -v e="$1" -v p="$2" '$3 == e && $4 == "ok" && $0 ~ p { print $1 }' "$T/live-audit/audit.log"; }
RE1=$(seq_of cert.revoke "serial $E1: ")
# restore N: the state from the backup (docs/backup.md "Restore"), the
# token moved back, the live log (kept aside) put back; state.conf the
# backup's (without the compromise mark)
restore() { restore_state "$BK/b1" "$O.damaged$1" "$T/live-audit"; }
dump() { sqlite3 "$O/store.db" ".dump certificates serials batches batch_results crl_entries"; }

# ---- restore 1: the redo by hand moves the revocation date --------------
restore 1
ok "restore 1: recover R" "$ON" recover --state "$O" --clock 2026-04-02T15:00:00Z --batch "$T/r/batch.csv" --results "$T/r/out/results.csv"
ok "the redo by hand of T1 (check's old advice): revoke --serial A1 --reason 1" "$ON" revoke --state "$O" --clock 2026-04-02T15:10:00Z --serial "$A1" --reason 1
check "... dated at the redo (15:10), not T1 (13:00): a relying party checking the next CRL takes a signature of 13:30 for valid" test \
	"$(db "SELECT revoked_at FROM certificates WHERE hex(serial) = '$A1'")" = "$(ts 15:10:00)"

# ---- restore 2: recover --revocations --------------------------------------
restore 2
ok "restore 2: recover R" "$ON" recover --state "$O" --clock 2026-04-02T15:00:00Z --batch "$T/r/batch.csv" --results "$T/r/out/results.csv"
fails "--revocations with --batch: usage" 2 "--revocations takes no --batch" \
	"$ON" recover --state "$O" --revocations --batch "$T/r/batch.csv"
dump >"$T/before.dump"; cp "$O/state.conf" "$T/before.conf"
python3 "$HANKO_SRC/test/data/audit/edit.py" rewrite "$O/audit/audit.log" 2
fails "the live log rewritten, its chain recomputed: exit 6" 6 "fails verification with the token.s audit key" \
	"$ON" recover --state "$O" --clock 2026-04-02T15:20:00Z --revocations
check "... nothing changed (store, state.conf)" sh -c "sqlite3 '$O/store.db' '.dump certificates serials batches batch_results crl_entries' | cmp -s - '$T/before.dump' && cmp -s '$O/state.conf' '$T/before.conf'"
cp -p "$T/live-audit/audit.log" "$T/live-audit/audit.log.head" "$O/audit/"
rc=0; "$ON" recover --state "$O" --clock 2026-04-02T15:30:00Z --revocations >"$T/rv1.out" 2>"$T/rv1.err" || rc=$?
cat "$T/rv1.err" >&2
check "recover --revocations, E not recovered: exit 3" test "$rc" = 3
check "... E's record refused with its line" grep -qx "hanko-online recover: serial $E1: the audit log's cert.revoke seq $RE1 (2026-04-02T13:40:00Z) revoked it reason 1 (key-compromise), but it is not in the store (issued after the backup): recover its batch first (hanko-online recover --batch FILE --results FILE, docs/backup.md \"Restore\", step 9), then this again" "$T/rv1.err"
check "... the last line of stderr says the count" grep -q "^hanko-online recover: 1 of 6 revocations refused (above)" "$T/rv1.err"
check "... A's line 2 redone at T1, as its record says" grep -qx "serial $A1 (municipality 431010): revoked reason 1 (key-compromise) at 2026-04-02T13:00:00Z, as the live log's cert.revoke seq $(seq_of cert.revoke "serial $A1: ") says" "$T/rv1.out"
check "... the summary: 3 redone (T1, the double, T3), 2 already (A's line 6, R's replacement), 1 refused" \
	grep -q "^Revocations of the live log: 3 redone at their records' times, 2 already in the store, 0 noted, 1 refused of 6$" "$T/rv1.out"
check "... state.conf marked at T3 (the record's time)" grep -qx "issuing.1.compromised = 2026-04-02T14:00:00Z" "$O/state.conf"
check "... audited: cert.revoke ok naming the record redone" \
	grep -q "	cert.revoke	ok	op1@ca-online	serial $A1: municipality 431010, reason 1 (key-compromise): revoked at 2026-04-02T13:00:00Z, redone from the live log's record seq " "$O/audit/audit.log"
ok "recover E" "$ON" recover --state "$O" --clock 2026-04-02T15:40:00Z --batch "$T/e/batch.csv" --results "$T/e/out/results.csv"
check "the batches rows (R, E put back) are the lost store's: dated by the log's issue.start and issue.done ok, not recover's runs" sh -c \
	"sqlite3 '$O/store.db' 'SELECT sha256, started_at, finished_at FROM batches ORDER BY sha256' | cmp -s - '$T/lost.batches' &&
	 grep -q '|$(ts 13:10:00)|$(ts 13:10:00)$' '$T/lost.batches' && grep -q '|$(ts 13:30:00)|$(ts 13:30:00)$' '$T/lost.batches'"
ok "recover --revocations again: exit 0" "$ON" recover --state "$O" --clock 2026-04-02T15:50:00Z --revocations
check "... nothing left to redo" grep -q "^Revocations of the live log: 0 redone at their records' times, 6 already in the store, 0 noted, 0 refused of 6$" "$T/out"
rows >"$T/got.rows"
check "every certificate back: the lost store's status, reason and ORIGINAL time, and DER" cmp -s "$T/lost.rows" "$T/got.rows"
[ -z "${HANKO_DEBUG:-}" ] || diff "$T/lost.rows" "$T/got.rows" >&2 || true
check "the CRL entries are the lost store's" test "$(crl)" = "$(cat "$T/lost.crl")"
ok "check: clean" "$ON" check --state "$O" --clock 2026-04-02T16:00:00Z
check "... Store consistent, no finding, no note" test "$(cat "$T/out")" = "Store consistent: 0 valid certificates checked"
dump >"$T/after.dump"; cp "$O/state.conf" "$T/after.conf"
ok "a third run" "$ON" recover --state "$O" --clock 2026-04-02T16:10:00Z --revocations
check "... changes nothing (store dump, state.conf)" sh -c "sqlite3 '$O/store.db' '.dump certificates serials batches batch_results crl_entries' | cmp -s - '$T/after.dump' && cmp -s '$O/state.conf' '$T/after.conf'"
# ---- publish: each revocationDate is the original --------------------------
P=$T/repo
fails "publish (no ARL imported: exit 9, the CRLs written)" 9 "no imported ARL is current" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-02T17:00:00Z
for f in "$P"/crl/*.crl; do openssl crl -inform DER -in "$f" -noout -text; done >"$T/crl.txt"
# revdate SERIAL: the revocationDate the CRLs give SERIAL
revdate() { grep -A1 "Serial Number: $1\$" "$T/crl.txt" | sed -n 's/^ *Revocation Date: //p'; }
check "A's line 2: Apr  2 13:00:00 (T1), not the redo's" test "$(revdate "$A1")" = "Apr  2 13:00:00 2026 GMT"
check "A's line 3: Apr  2 13:10:00 (T2)" test "$(revdate "$A2")" = "Apr  2 13:10:00 2026 GMT"
check "the double: Apr  2 13:20:00 (check's)" test "$(revdate "$DX")" = "Apr  2 13:20:00 2026 GMT"
for s in "$A3" "$A4" "$R1"; do
	[ "$s" = "$DX" ] && continue
	check "serial $s: Apr  2 14:00:00 (T3)" test "$(revdate "$s")" = "Apr  2 14:00:00 2026 GMT"
done
check "E's: Apr  2 13:40:00" test "$(revdate "$E1")" = "Apr  2 13:40:00 2026 GMT"
finish

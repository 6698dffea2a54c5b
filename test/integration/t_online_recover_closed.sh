#!/usr/bin/env bash
# t_online_recover_closed.sh - the restore tooling reads the closed logs
# the live log links back to (docs/backup.md "Restore", step 9;
# docs/audit-log.md "Retention"): the daily backup is taken while batch A
# is mid-way, A then finished, one of its certificates the backup holds
# valid (VS) revoked cessation-of-operation (not key-compromise: the fixture's
# residents share keys, and check names a valid certificate of a compromised
# key); then the yearly close (audit close):
# A's records and VS's revocation are only in the closed log; after it
# batch B (one resident) and a revocation of B's certificate. The disk is
# lost, the backup restored with the live log and audit/closed/ put back:
#   - a closed log that fails verification is refused (exit 6, named),
#     one missing within its year too, nothing changed; check makes it a
#     finding and revoke a warning, as they do with a live log that fails;
#   - revoke --issuing-key-compromise refuses to void A's pending rows, the
#     closed log recording them delivered (named with its file);
#   - check names VS's lost revocation with the closed log's file;
#   - recover B before A is refused, A's issue.start named in the closed
#     log; A then B put back; recover --revocations redoes VS's revocation
#     at its original time (the closed log's record) and B's (the live
#     log's); check is clean only after;
#   - the closed log deleted after its year: a note on stderr, the live
#     log still read.
. "$(dirname "$0")/online.sh"
BK=$T/backups
mkdir -p "$BK"
N=160
# ---- before the close: A held part-way, the backup, A finished ------------
mid_batch_backup "$N"
bq() { sqlite3 "file:$BK/b1/store.db?immutable=1" "$1"; }
BV=$(bq "SELECT count(*) FROM certificates WHERE status = 'valid'")
BP=$(bq "SELECT count(*) FROM certificates WHERE status = 'pending'")
check "the backup holds some of A valid ($BV), some pending ($BP)" test "$BP" -gt 1 -a "$BV" -gt 1
VS=$(bq "SELECT hex(serial) FROM certificates WHERE status = 'valid' ORDER BY serial LIMIT 1")
ok "VS (valid in the backup) revoked cessation-of-operation, before the close" \
	"$ON" revoke --state "$O" --clock 2026-04-02T13:30:00Z --serial "$VS" --reason 5
ok "the yearly close" "$ON" audit close --state "$O" --clock 2026-04-02T14:00:00Z --actors op1,auditor1
CL=$(ls "$O"/audit/closed/audit-*.log)
check "one closed log ($CL)" test -f "$CL"
check "... A's issue.start and VS's revocation are in it, not in the live log" sh -c \
	"grep -q '	issue.start	ok	' '$CL' && grep -q '	cert.revoke	ok	.*serial $VS: ' '$CL' &&
	! grep -q '	issue.start	\|	cert.revoke	' '$O/audit/audit.log'"
# ---- after the close: batch B, its certificate revoked -------------------
mkdir -p "$T/b"
cp -r "$T/a/keys" "$T/b/"
awk -F, 'NR == 1 { print; next } NR == 2 { OFS = ","; $2 = "72000000999"; print }' "$T/a/batch.csv" >"$T/b/batch.csv"
ok "batch B after the close: one resident" "$ON" issue --state "$O" --clock 2026-04-02T14:30:00Z --batch "$T/b/batch.csv" --out "$T/b/out"
B1=$(awk -F, '$1 == 2 && $2 == "ok" { print $3 }' "$T/b/out/results.csv")
ok "B's certificate revoked affiliation-changed" "$ON" revoke --state "$O" --clock 2026-04-02T14:40:00Z --serial "$B1" --reason 3
rows() { sqlite3 "$O/store.db" "SELECT hex(serial), status, coalesce(reason, 0), coalesce(revoked_at, 0), hex(der) FROM certificates ORDER BY serial"; }
rows >"$T/lost.rows"
check "the lost store: $((N + 1)) rows, VS and B's revoked" sh -c \
	"test \$(wc -l <'$T/lost.rows') = $((N + 1)) && grep -q '^$VS|revoked|5|' '$T/lost.rows' && grep -q '^$B1|revoked|3|' '$T/lost.rows'"
ASHA=$(sha256sum "$T/a/batch.csv" | cut -c1-64)
ASEQ=$(awk -F'\t' -v s="$ASHA" '$3 == "issue.start" && index($0, " sha256 " s) { print $1; exit }' "$CL")
RSEQ=$(awk -F'\t' -v s="serial $VS: " '$3 == "cert.revoke" && index($0, s) { print $1; exit }' "$CL")
check "A's issue.start ($ASEQ) and VS's cert.revoke ($RSEQ) found in the closed log" test -n "$ASEQ" -a -n "$RSEQ"

# ---- the disk lost: the backup restored, the live log and closed/ back -----
restore_state "$BK/b1" "$O.damaged" "$O.damaged/audit"
cp -rp "$O.damaged/audit/closed" "$O/audit/"
dump() { sqlite3 "$O/store.db" ".dump certificates serials batches batch_results crl_entries"; }
dump >"$T/restored.dump"
cp "$O/state.conf" "$T/restored.conf"
unchanged() { dump | cmp -s - "$T/restored.dump" && cmp -s "$O/state.conf" "$T/restored.conf"; }
CLQ=$(printf '%s' "$CL" | sed 's/[.[\*^$()+?{|]/\\&/g')

# a closed log that fails verification: refused, named, nothing changed
cp -p "$CL" "$T/closed.saved"
chmod u+w "$CL"
flip_byte "$CL" $(( $(stat -c%s "$CL") / 2 ))
# (the clock guard reads the closed log's end before recover's own
# evidence pass does, docs/clock.md, and refuses it first: either names it)
fails "a closed log that fails verification: recover --revocations refused" 6 \
	"^hanko-online recover: .*$CLQ.*: (it cannot be evidence; docs/backup\.md \"Restore\", step 6|a record of the log's end: .*; run audit verify)$" \
	"$ON" recover --state "$O" --clock 2026-04-02T15:00:00Z --revocations
check "... nothing changed" unchanged
fails "... recover --batch refused the same way" 6 "$CLQ.*: (it cannot be evidence|a record of the log's end: .*; run audit verify)" \
	"$ON" recover --state "$O" --clock 2026-04-02T15:00:00Z --batch "$T/a/batch.csv" --results "$T/a/out/results.csv"
check "... nothing changed" unchanged
fails "... check: the log's failure is a finding, naming the closed log" 1 "" \
	"$ON" check --state "$O" --clock 2026-04-02T15:00:00Z
check "... said" grep -q "^audit: a closed log it links back to: fails verification with the token's audit key (the closed log before this one fails: $CLQ:[0-9]*: record [0-9]*: .*): the revocations it records are not compared with the store" "$HANKO_TMP/out"
ok "... revoke --issuing-key-compromise --dry-run: as with a live log that fails, said, not refused (CPS 4-14-2)" \
	"$ON" revoke --state "$O" --clock 2026-04-02T15:00:00Z --issuing-key-compromise --generation 1 --dry-run
check "... the warning names the closed log" grep -q "^hanko-online revoke: warning: a closed log it links back to: fails verification (the closed log before this one fails: $CLQ:.*whether the $BP pending rows of generation 1 were issued after a backup is not known; voided" "$HANKO_TMP/err"
check "... nothing changed" unchanged
cp -p "$T/closed.saved" "$CL"
mv "$CL" "$T/closed.away"
fails "a closed log missing within its year: refused" 6 \
	"^hanko-online recover: .*audit\.log: the closed log [0-9a-f]{32} it links to is missing .*CPS 4-11-4 keeps it until 2027-04-02T14:00:00Z" \
	"$ON" recover --state "$O" --clock 2026-04-02T15:00:00Z --revocations
check "... nothing changed" unchanged
mv "$T/closed.away" "$CL"

# revoke --issuing-key-compromise: A's pending rows delivered, per the closed log
fails "revoke --issuing-key-compromise before recover: refused, the closed log's records named" 3 \
	"^hanko-online revoke: issuing generation 1: $BP pending certificates of its key the audit log records as issued after the backup .*batch [0-9a-f]{16}: cert\.issue seq [0-9]+ of the closed log $CLQ, then issue\.done ok seq [0-9]+ of the closed log $CLQ ended that run\): voided, they would be on no CRL .*nothing changed$" \
	"$ON" revoke --state "$O" --clock 2026-04-02T15:05:00Z --issuing-key-compromise --generation 1 --dry-run
check "... nothing changed" unchanged

# check: VS's lost revocation named with the closed log
fails "check before recover: findings" 1 "" "$ON" check --state "$O" --clock 2026-04-02T15:10:00Z
check "... VS: valid in the store, revoked by the closed log's record" grep -q \
	"^revocation: serial $VS (municipality [0-9]*): valid in the store, but the audit log's cert.revoke seq $RSEQ of the closed log $CLQ (2026-04-02T13:30:00Z) revoked it reason 5 (cessation-of-operation); redo it at the record's time: hanko-online recover --state $O --revocations$" "$HANKO_TMP/out"

# recover: A (its records in the closed log) before B (in the live log)
fails "recover B before A: refused, A's issue.start named in the closed log" 3 \
	"^hanko-online recover: .*b/batch\.csv: batch $T/a/batch\.csv \(sha256 $ASHA\), whose issue\.start \(seq $ASEQ of the closed log $CLQ\) is before this batch's \(seq [0-9]+\), has $((N - BV)) certificates \(cert\.issue\) not in the store .*recover it first; nothing changed" \
	"$ON" recover --state "$O" --clock 2026-04-02T15:20:00Z --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
check "... nothing changed" unchanged
ok "recover A" "$ON" recover --state "$O" --clock 2026-04-02T15:30:00Z --batch "$T/a/batch.csv" --results "$T/a/out/results.csv"
check "... the $((N - BV)) it issued after the backup put back" grep -q ": $((N - BV)) put back, $BV already in the store, 0 refused of $N issued$" "$HANKO_TMP/out"
ok "recover B" "$ON" recover --state "$O" --clock 2026-04-02T15:40:00Z --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
fails "check before the revocations: findings" 1 "" "$ON" check --state "$O" --clock 2026-04-02T15:50:00Z
check "... VS's (closed log) and B's (live log) revocations named" sh -c \
	"grep -q '^revocation: serial $VS .*cert.revoke seq $RSEQ of the closed log ' '$HANKO_TMP/out' &&
	grep -q '^revocation: serial $B1 .*cert.revoke seq [0-9]* (2026-04-02T14:40:00Z)' '$HANKO_TMP/out'"
ok "recover --revocations" "$ON" recover --state "$O" --clock 2026-04-02T16:00:00Z --revocations
check "... VS redone at 13:30, as the closed log's record says" grep -qx \
	"serial $VS (municipality [0-9]*): revoked reason 5 (cessation-of-operation) at 2026-04-02T13:30:00Z, as the closed log $CLQ's cert.revoke seq $RSEQ says" "$HANKO_TMP/out"
check "... B's redone at 14:40, as the live log's record says" grep -q \
	"^serial $B1 (municipality [0-9]*): revoked reason 3 (affiliation-changed) at 2026-04-02T14:40:00Z, as the live log's cert.revoke seq [0-9]* says$" "$HANKO_TMP/out"
check "... both logs counted" grep -q "^Revocations of the live log and the 1 closed log it links back to: 2 redone at their records' times, 0 already in the store, 0 noted, 0 refused of 2$" "$HANKO_TMP/out"
check "... the redo's record names the closed log" grep -q \
	"	cert.revoke	ok	op1@ca-online	serial $VS: municipality [0-9]*, reason 5 (cessation-of-operation): revoked at 2026-04-02T13:30:00Z, redone from the closed log $CLQ's record seq $RSEQ after a restore" "$O/audit/audit.log"
check "every certificate back: the lost store's status, reason, time and DER" sh -c "$(declare -f rows); O='$O'; rows | cmp -s - '$T/lost.rows'"
ok "check: consistent" "$ON" check --state "$O" --clock 2026-04-02T16:10:00Z
check "... Store consistent" grep -q "^Store consistent" "$HANKO_TMP/out"
ok "recover --revocations again: nothing left" "$ON" recover --state "$O" --clock 2026-04-02T16:20:00Z --revocations
check "... the redone records not redone again" grep -q ": 0 redone at their records' times, 2 already in the store, 0 noted, 0 refused of 2$" "$HANKO_TMP/out"

# the closed log deleted after its year (by the internal auditor): a note
mv "$CL" "$T/closed.away"
ok "the closed log gone after its year: recover --revocations" "$ON" recover --state "$O" --clock 2027-04-03T09:00:00Z --revocations
check "... a note on stderr names it and its year" grep -q \
	"^hanko-online recover: note: $O/audit/audit\.log: the closed log [0-9a-f]*, which this log links back to, is no longer in audit/closed/ (kept until 2027-04-02T14:00:00Z" "$HANKO_TMP/err"
check "... the live log still read: B's revocation found (in the store)" grep -q "^Revocations of the live log: 0 redone at their records' times, 1 already in the store, 0 noted, 0 refused of 1$" "$HANKO_TMP/out"
finish

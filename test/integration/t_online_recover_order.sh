#!/usr/bin/env bash
# t_online_recover_order.sh - "hanko-online recover" takes batches in the
# order they ran (docs/backup.md "Restore", step 9): batch P before the
# backup; after it batch A (residents 3 and 4), batch Z (every line
# refused: no certificate), batch B (--replace: A's resident 3 again,
# superseding A's certificate; resident 5 new). Restored from the backup
# with the live audit log: recover B before A is refused (exit 3, one line
# naming batch A by its file and SHA-256 and its issue.start seq, "recover
# it first"), nothing changed; P (its certificates in the store) and Z (no
# certificate) do not hold it up. Then A, then B: the store is row for row
# the lost one (A's line 2 revoked superseded by B's), check is clean;
# recover A again after B changes nothing.
. "$(dirname "$0")/online.sh"
BK=$T/backups
mkdir -p "$BK"
six_residents "$T/six.csv"
for d in p a z b; do req_dir "$T/$d"; done
head -3 "$T/six.csv" >"$T/p/batch.csv"			# residents 1, 2
{ head -1 "$T/six.csv"; sed -n 4,5p "$T/six.csv"; } >"$T/a/batch.csv"	# 3, 4
head -2 "$T/six.csv" >"$T/z/batch.csv"			# 1 again, no --replace
{ head -1 "$T/six.csv"; sed -n 4p "$T/six.csv"; sed -n 6p "$T/six.csv"; } >"$T/b/batch.csv"	# 3, 5
ok "batch P" "$ON" issue --state "$O" --clock 2026-04-02T12:00:00Z --batch "$T/p/batch.csv" --out "$T/p/out"
ok "the backup" "$ON" backup --state "$O" --out "$BK/b1" --clock 2026-04-02T13:00:00Z
ok "batch A (after the backup)" "$ON" issue --state "$O" --clock 2026-04-02T14:00:00Z --batch "$T/a/batch.csv" --out "$T/a/out"
fails "batch Z: its one line refused (resident 1 holds a certificate)" 3 "" \
	"$ON" issue --state "$O" --clock 2026-04-02T14:10:00Z --batch "$T/z/batch.csv" --out "$T/z/out"
check "... no certificate" test "$(grep -c ',ok,' "$T/z/out/results.csv")" = 0
ok "batch B (--replace: A's resident 3 again, resident 5 new)" "$ON" issue --state "$O" --clock 2026-04-02T14:20:00Z --replace --batch "$T/b/batch.csv" --out "$T/b/out"
serial_of() { awk -F, -v l="$2" '$1 == l && $2 == "ok" { print $3 }' "$1"; }
A2=$(serial_of "$T/a/out/results.csv" 2); A3=$(serial_of "$T/a/out/results.csv" 3)
B2=$(serial_of "$T/b/out/results.csv" 2); B3=$(serial_of "$T/b/out/results.csv" 3)
cols() { sqlite3 "$O/store.db" "SELECT status, coalesce(reason, 0), coalesce(revoked_at, 0), municipality, not_before, not_after, hex(resident_key), hex(issuer), hex(tbs), hex(der) FROM certificates WHERE hex(serial) = '$1'"; }
for s in "$A2" "$A3" "$B2" "$B3"; do cols "$s" >"$T/live.$s"; done
check "... A's line 2 revoked superseded by B's line 2" test "$(cut -d'|' -f1,2 "$T/live.$A2")" = "revoked|4"
sqlite3 "$O/store.db" "SELECT seq, hex(entry) FROM crl_entries ORDER BY seq" >"$T/crl.live"
ASHA=$(sha256sum "$T/a/batch.csv" | cut -c1-64)
ASEQ=$(awk -F'\t' -v s="$ASHA" '$3 == "issue.start" && index($0, " sha256 " s) { print $1; exit }' "$O/audit/audit.log")
check "A's issue.start is in the log (seq $ASEQ)" test -n "$ASEQ"
# ---- the restore of docs/backup.md, the live log kept --------------------
restore_state "$BK/b1" "$O.damaged" "$O.damaged/audit"
R=(--clock 2026-04-02T15:00:00Z)
snap() { sqlite3 "$O/store.db" "SELECT hex(serial), status, coalesce(reason,0), coalesce(revoked_at,0), hex(der) FROM certificates ORDER BY serial; SELECT * FROM batch_results ORDER BY batch, line; SELECT id, sha256, name, finished_at FROM batches ORDER BY id; SELECT seq, hex(entry) FROM crl_entries ORDER BY seq"; }
snap >"$T/snap0"
L0=$(wc -l <"$O/audit/audit.log")
fails "recover B before A: refused, batch A named with its issue.start, recover it first" 3 \
	"^hanko-online recover: .*b/batch.csv: batch $T/a/batch.csv \(sha256 $ASHA\), whose issue.start \(seq $ASEQ\) is before this batch's \(seq [0-9]+\), has 2 certificates \(cert.issue\) not in the store \(serial ($A2|$A3) among them\): recover it first; nothing changed" \
	"$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
snap >"$T/snap1"
check "... nothing changed in the store" cmp -s "$T/snap0" "$T/snap1"
check "... nor in the audit log" test "$(wc -l <"$O/audit/audit.log")" = "$L0"
ok "recover A (P's certificates in the store, P before it)" "$ON" recover --state "$O" "${R[@]}" --batch "$T/a/batch.csv" --results "$T/a/out/results.csv"
check "... 2 put back" grep -q ": 2 put back, 0 already in the store, 0 refused of 2 issued$" "$HANKO_TMP/out"
ok "then recover B (Z before it has no certificate)" "$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
check "... 2 put back" grep -q ": 2 put back, 0 already in the store, 0 refused of 2 issued$" "$HANKO_TMP/out"
check "... B's line 2 put back replacing A's line 2" grep -q "serial $B2: put back (line 2, .*it replaced serial $A2, revoked reason 4" "$HANKO_TMP/out"
for s in "$A2" "$A3" "$B2" "$B3"; do
	check "serial $s: its row is the one issue left" test "$(cols "$s")" = "$(cat "$T/live.$s")"
done
check "the CRL entries are the ones the lost store had" \
	test "$(sqlite3 "$O/store.db" "SELECT seq, hex(entry) FROM crl_entries ORDER BY seq")" = "$(cat "$T/crl.live")"
ok "check: consistent" "$ON" check --state "$O" --clock 2026-04-02T15:30:00Z
check "... Store consistent" grep -q "^Store consistent" "$HANKO_TMP/out"
snap >"$T/snap2"
ok "recover A again, after B (recovered already: nothing holds it up)" "$ON" recover --state "$O" --clock 2026-04-02T15:40:00Z --batch "$T/a/batch.csv" --results "$T/a/out/results.csv"
check "... both already there" grep -q ": 0 put back, 2 already in the store, 0 refused of 2 issued$" "$HANKO_TMP/out"
snap >"$T/snap3"
check "... nothing changed" cmp -s "$T/snap2" "$T/snap3"
ok "recover B again" "$ON" recover --state "$O" --clock 2026-04-02T15:40:00Z --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
check "... both already there" grep -q ": 0 put back, 2 already in the store, 0 refused of 2 issued$" "$HANKO_TMP/out"
finish

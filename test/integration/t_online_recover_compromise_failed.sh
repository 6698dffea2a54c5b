#!/usr/bin/env bash
# t_online_recover_compromise_failed.sh - a backup taken while batch A
# (--replace) is held mid-way (some of its rows pending in it), A then
# going on and FAILING in a later chunk (its last line re-issues P's
# resident and the cert.revoke record cannot be appended: the test hook
# of docs/audit-log.md). The chunks A committed before are in its
# results.csv (delivered) though A ended with issue.done fail: the log has
# their cert.issue, then a cert.reserve of a later chunk of A (issue
# reserves the next chunk only once the chunk it finished committed),
# then issue.done fail. The state restored from the backup:
#   revoke --issuing-key-compromise first is refused (exit 3), naming
#   those rows and the cert.reserve record (before this fix: no
#   issue.done ok, so they were voided though delivered);
#   restore 2, those rows voided: check names each, with the cert.reserve;
#   recover A refuses each as delivered (the cert.reserve named), and,
#   with the rest of A put back, holds up batch C (run after A): before
#   recover used hk_logev_issued, a void row counted only after an
#   issue.done ok of its batch, and C went in ahead of A's void rows.
. "$(dirname "$0")/online.sh"
BK=$T/backups
mkdir -p "$BK"
N=160
req_dir "$T/a"
req_dir "$T/p"
many_residents "$N" 72000000000 >"$T/a/batch.csv"
awk -F, 'NR == 1 { print; next } NR == 2 { OFS = ","; $2 = "72000000999"; print }' "$T/a/batch.csv" >"$T/p/batch.csv"
req_dir "$T/c"
awk -F, 'NR == 1 { print; next } NR == 2 { OFS = ","; $2 = "72000000888"; print }' "$T/a/batch.csv" >"$T/c/batch.csv"
ok "batch P: one resident" "$ON" issue --state "$O" --clock 2026-04-02T11:00:00Z --batch "$T/p/batch.csv" --out "$T/p/out"
sed -n 2p "$T/p/batch.csv" >>"$T/a/batch.csv"
# ---- A held part-way, the backup taken; then A fails at its last line ----
cc -shared -fPIC -o "$T/pausewrite.so" "$HANKO_SRC/test/data/online/pausewrite.c" -ldl
rm -f "$T/iw.reached" "$T/iw.go"
irc=0
env HANKO_FAIL_AUDIT_AT=cert.revoke \
	HK_PAUSE_WRITE="$T/iw" HK_PAUSE_WRITE_PATH="*/online/store.db-wal" HK_PAUSE_WRITE_SKIP=150 \
	LD_PRELOAD="$T/pausewrite.so" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$ON" issue --state "$O" --clock 2026-04-02T12:00:00Z --chunk 16 --replace --batch "$T/a/batch.csv" \
	--out "$T/a/out" >"$T/a.out" 2>&1 &
ipid=$!
for _ in $(seq 6000); do [ -e "$T/iw.reached" ] && break; sleep 0.02; done
check "batch A is held part-way" test -e "$T/iw.reached"
ok "the backup, taken while A is held" "$ON" backup --state "$O" --out "$BK/b1" --clock 2026-04-02T12:30:00Z
touch "$T/iw.go"
wait "$ipid" || irc=$?
check "batch A failed at its last line (exit $irc): cert.revoke not appended" sh -c \
	"[ $irc -ne 0 ] && grep -q 'cannot append cert.revoke' '$T/a.out'"
check "... its last record: issue.done fail (no issue.done ok of A)" sh -c \
	"grep -P '\tissue\.done\t' '$O/audit/audit.log' | tail -n 1 | grep -qP '\tfail\t' &&
	 test \$(grep -P '\tissue\.done\tok\t' '$O/audit/audit.log' | wc -l) = 1"
check "... a cert.reserve of A after the last cert.issue" sh -c \
	"grep -P '\tcert\.(issue|reserve)\t' '$O/audit/audit.log' | tail -n 1 | grep -qP '\tcert\.reserve\t'"
bq() { sqlite3 "file:$BK/b1/store.db?immutable=1" "$1"; }
bq "SELECT hex(serial) FROM certificates WHERE status = 'pending' ORDER BY serial" >"$T/backup.pending"
# the backup's pending rows A committed and wrote into results.csv
while read -r s; do grep -q ",ok,$s," "$T/a/out/results.csv" && echo "$s"; done <"$T/backup.pending" >"$T/delivered"
K=$(wc -l <"$T/delivered" | tr -d ' ')
check "the backup holds $K pending rows A delivered (results.csv ok) before failing" test "$K" -gt 1
PS=$(head -n 1 "$T/delivered")
ok "batch C, after A: one new resident" "$ON" issue --state "$O" --clock 2026-04-02T13:00:00Z --batch "$T/c/batch.csv" --out "$T/c/out"

restore() { restore_state "$BK/b1" "$O.damaged$1" "$O.damaged$1/audit"; }
dump() { sqlite3 "$O/store.db" ".dump certificates serials batches batch_results crl_entries"; }

# ---- restore 1: the compromise first is refused ---------------------------
restore 1
dump >"$T/restored.dump"
REFUSED="^hanko-online revoke: issuing generation 1: $K pending certificates of its key the audit log records as issued after the backup this store was restored from \(serial [0-9A-F]+, [0-9A-F]+(, [0-9A-F]+)?(, \.\.\.)?; batch [0-9a-f]{16}: cert\.issue seq [0-9]+, then cert\.reserve seq [0-9]+: the run went on past its commit\): voided, they would be on no CRL and never put back: recover the batches first \(hanko-online recover, docs/backup\.md \"Restore\", step 9\), then this again; nothing changed$"
fails "revoke --issuing-key-compromise --dry-run: refused, the cert.reserve named" 3 "$REFUSED" \
	"$ON" revoke --state "$O" --clock 2026-04-02T15:00:00Z --issuing-key-compromise --generation 1 --dry-run
V=$(db "SELECT count(*) FROM certificates WHERE status = 'valid'")
fails "revoke --issuing-key-compromise: refused" 3 "$REFUSED" \
	"$ON" revoke --state "$O" --clock 2026-04-02T15:00:00Z --issuing-key-compromise --generation 1 --yes-revoke-all "$V"
check "... $PS still pending, the store unchanged" sh -c \
	"test \"\$(sqlite3 '$O/store.db' \"SELECT status FROM certificates WHERE hex(serial) = '$PS'\")\" = pending &&
	 sqlite3 '$O/store.db' '.dump certificates serials batches batch_results crl_entries' | cmp -s - '$T/restored.dump'"

# ---- restore 2: those rows voided (as revoke did before this fix) ---------
restore 2
db "UPDATE certificates SET status = 'void', ended = 1 WHERE status = 'pending'"
fails "check: each void row A delivered is a finding" 1 "findings" \
	"$ON" check --state "$O" --clock 2026-04-02T17:00:00Z --dry-run
check "... $K lines, $PS among them, naming the cert.reserve" sh -c "test \$(grep -c '^void: serial [0-9A-F]* (municipality [0-9]*): void in the store, but the audit log.s cert.issue seq [0-9]* (batch [0-9a-f]*) signed it and cert.reserve seq [0-9]*: the run went on past its commit: issued to its resident, on no CRL, .*restore the state from the backup again, recover the batches first, then redo the revocations' '$T/out') = $K &&
	grep -q '^void: serial $PS ' '$T/out'"
rc=0
"$ON" recover --state "$O" --clock 2026-04-02T17:10:00Z --batch "$T/a/batch.csv" --results "$T/a/out/results.csv" >"$T/r.out" 2>"$T/r.err" || rc=$?
check "recover A: exit 3, its void lines refused" test "$rc" = 3
check "... each of the $K said as delivered, naming the cert.reserve" sh -c "test \$(grep -c 'serial [0-9A-F]* is void in the store with this certificate.s TBSCertificate: reserved in the backup, signed and delivered after it (the live log: cert.issue seq [0-9]* (batch [0-9a-f]*), then cert.reserve seq [0-9]*: the run went on past its commit), then voided' '$T/r.err') = $K &&
	grep -q 'serial $PS is void in the store' '$T/r.err' && ! grep -q INCIDENT '$T/r.err'"
C1=$(awk -F, '$2 == "ok" { print $3; exit }' "$T/c/out/results.csv")
dump >"$T/before-c.dump"
fails "recover C: refused, A's void rows delivered are not in the store" 3 \
	"has $K certificates \\(cert\\.issue\\) not in the store \\(serial [0-9A-F]+ among them\\): recover it first; nothing changed \\(docs/backup\\.md \"Restore\", step 9\\); $K of them void in it, though the live log shows them delivered \\(serial [0-9A-F]+: cert\\.issue seq [0-9]+ \\(batch [0-9a-f]{16}\\), then cert\\.reserve seq [0-9]+: the run went on past its commit\\): restore the state from the backup again" \
	"$ON" recover --state "$O" --clock 2026-04-02T17:20:00Z --batch "$T/c/batch.csv" --results "$T/c/out/results.csv"
check "... nothing changed, C's certificate $C1 not put back" sh -c \
	"dump_now=\$(sqlite3 '$O/store.db' '.dump certificates serials batches batch_results crl_entries'); [ \"\$dump_now\" = \"\$(cat '$T/before-c.dump')\" ] &&
	 test -z \"\$(sqlite3 '$O/store.db' \"SELECT 1 FROM certificates WHERE hex(serial) = '$C1'\")\""
finish

#!/usr/bin/env bash
# t_online_recover_compromise_pending.sh - a backup taken while batch A is
# mid-way (some of its rows pending), A then finished (its certificates
# delivered in results.csv), batch B (one resident), one of A's
# certificates the backup holds valid (VS) and one it holds pending (PS)
# revoked key-compromise, then issuing generation 1 revoked as a set
# (cert.revoke-all, the token's mark); the state restored from that backup
# (state.conf without the mark), the live log kept (docs/backup.md
# "Restore", step 9):
#   restore 1: revoke --issuing-key-compromise first is refused (exit 3,
#   naming the pending rows the log records as issued and "recover the
#   batches first"), --dry-run too, nothing changed (store, state.conf);
#   recover A then B run under the token's mark (a note on stderr), then
#   the log's cert.revoke and cert.revoke-all are redone in the log's
#   order: every certificate is back with results.csv's DER, the status,
#   reason and time of the lost store (those the backup held valid revoked
#   again at the redo's time, VS key-compromise), nothing pending or void,
#   check clean, publish lists every certificate;
#   restore 2: the backup's pending rows voided as revoke did before this
#   fix: check names each (void, but cert.issue and issue.done), recover B
#   is refused (A's certificates not in the store), recover A says what the
#   void rows are (not an INCIDENT with another certificate).
. "$(dirname "$0")/online.sh"
BK=$T/backups
mkdir -p "$BK"
N=160
# ---- batch A held part-way; the backup taken meanwhile ---------------------
mid_batch_backup "$N"
mkdir -p "$T/b"
cp -r "$T/a/keys" "$T/b/" 2>/dev/null || true
awk -F, 'NR == 1 { print; next } NR == 2 { OFS = ","; $2 = "72000000999"; print }' "$T/a/batch.csv" >"$T/b/batch.csv"
ok "batch B: one resident" "$ON" issue --state "$O" --clock 2026-04-02T13:00:00Z --batch "$T/b/batch.csv" --out "$T/b/out"
bq() { sqlite3 "file:$BK/b1/store.db?immutable=1" "$1"; }
BV=$(bq "SELECT count(*) FROM certificates WHERE status = 'valid'")
BP=$(bq "SELECT count(*) FROM certificates WHERE status = 'pending'")
check "the backup holds some of A valid ($BV), some pending ($BP), not all" \
	test "$BP" -gt 1 -a "$BV" -gt 1 -a $((BV + BP)) -lt "$N"
bq "SELECT hex(serial) FROM certificates WHERE status = 'valid' ORDER BY serial" >"$T/backup.valid"
PS=$(bq "SELECT hex(serial) FROM certificates WHERE status = 'pending' ORDER BY serial LIMIT 1")
VS=$(head -1 "$T/backup.valid")
ok "PS (pending in the backup) revoked key-compromise" "$ON" revoke --state "$O" --clock 2026-04-02T13:30:00Z --serial "$PS" --reason 1
ok "VS (valid in the backup) revoked key-compromise" "$ON" revoke --state "$O" --clock 2026-04-02T13:30:00Z --serial "$VS" --reason 1
ok "compromise of generation 1" "$ON" revoke --state "$O" --clock 2026-04-02T14:00:00Z \
	--issuing-key-compromise --generation 1 --yes-revoke-all $((N + 1 - 2))
rows() { sqlite3 "$O/store.db" "SELECT hex(serial), status, reason, revoked_at, hex(der) FROM certificates ORDER BY serial"; }
rows >"$T/lost.rows"
check "the lost store: $((N + 1)) rows, all revoked" test "$(grep -c '|revoked|' "$T/lost.rows")" = $((N + 1))

restore() { restore_state "$BK/b1" "$O.damaged$1" "$O.damaged$1/audit"; }
dump() { sqlite3 "$O/store.db" ".dump certificates serials batches batch_results crl_entries"; }

# ---- restore 1: the compromise redone first is refused -------------------
restore 1
check "restored: state.conf lacks the mark" sh -c "! grep -q compromised '$O/state.conf'"
dump >"$T/restored.dump"
cp "$O/state.conf" "$T/restored.conf"
REFUSED="^hanko-online revoke: issuing generation 1: $BP pending certificates of its key the audit log records as issued after the backup this store was restored from \(serial [0-9A-F]+, [0-9A-F]+, [0-9A-F]+, \.\.\.; batch [0-9a-f]{16}: cert\.issue seq [0-9]+, then issue\.done ok seq [0-9]+ ended that run\): voided, they would be on no CRL and never put back: recover the batches first \(hanko-online recover, docs/backup\.md \"Restore\", step 9\), then this again; nothing changed$"
fails "revoke --issuing-key-compromise --dry-run before recover: refused" 3 "$REFUSED" \
	"$ON" revoke --state "$O" --clock 2026-04-02T15:00:00Z --issuing-key-compromise --generation 1 --dry-run
fails "revoke --issuing-key-compromise before recover: refused" 3 "$REFUSED" \
	"$ON" revoke --state "$O" --clock 2026-04-02T15:00:00Z --issuing-key-compromise --generation 1 --yes-revoke-all "$BV"
check "... nothing voided or revoked: the store unchanged" sh -c "dump() { sqlite3 '$O/store.db' '.dump certificates serials batches batch_results crl_entries'; }; dump | cmp -s - '$T/restored.dump'"
check "... state.conf unchanged (no mark)" cmp -s "$O/state.conf" "$T/restored.conf"
rc=0; "$ON" recover --state "$O" --clock 2026-04-02T15:10:00Z --revocations >"$T/rv0.out" 2>"$T/rv0.err" || rc=$?
check "recover --revocations before recover: exit 3" test "$rc" = 3
check "... the cert.revoke-all refused, saying state.conf was marked all the same (not just \"nothing changed\")" grep -q \
	"^hanko-online recover: issuing generation 1 (key id [0-9a-f]*): the audit log's cert.revoke-all seq [0-9]* (2026-04-02T14:00:00Z): issuing generation 1: $BP pending certificates .*; nothing changed; but marked compromised at the record's time (issuance stops) in state.conf\$" "$T/rv0.err"
check "... state.conf marked at the record's time" grep -qx "issuing.1.compromised = 2026-04-02T14:00:00Z" "$O/state.conf"
restore 1b

# ---- the documented order: recover A, B, then the log's revocations -----
ok "recover A under the token's mark" "$ON" recover --state "$O" --clock 2026-04-02T15:20:00Z \
	--batch "$T/a/batch.csv" --results "$T/a/out/results.csv"
check "... a note: state.conf lacks the mark, mark it again once the batches are recovered" grep -q \
	"^hanko-online recover: note: token '.*': issuing\.1\.compromised (key id [0-9a-f]*, 2026-04-02T14:00:00Z), but $O/state\.conf lacks it (restored from a backup taken before the compromise?): taken as marked (CPS 4-14-2): its certificates go back revoked per the audit log's cert.revoke-all, never valid; once every batch is recovered, redo the log's revocations, which marks generation 1 again at the cert.revoke-all's time: hanko-online recover --state $O --revocations (docs/backup.md \"Restore\", step 9)\$" "$T/err"
check "... $((N - BV)) put back or completed, $BV already there" grep -q \
	": $((N - BV)) put back, $BV already in the store, 0 refused of $N issued$" "$T/out"
ok "recover B" "$ON" recover --state "$O" --clock 2026-04-02T15:21:00Z \
	--batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
fails "the log's cert.revoke of PS: done already (recover put it back so)" 3 "the certificate is revoked" \
	"$ON" revoke --state "$O" --clock 2026-04-02T15:30:00Z --serial "$PS" --reason 1
ok "the log's cert.revoke of VS, again" "$ON" revoke --state "$O" --clock 2026-04-02T15:31:00Z --serial "$VS" --reason 1
ok "the log's cert.revoke-all, again" "$ON" revoke --state "$O" --clock 2026-04-02T15:32:00Z \
	--issuing-key-compromise --generation 1 --yes-revoke-all $((BV - 1))
check "... 0 pending voided" grep -q "; 0 pending voided$" "$T/out"
# the lost store's rows, those the backup held valid revoked again now
T1=$(date -u -d 2026-04-02T15:31:00Z +%s); T2=$(date -u -d 2026-04-02T15:32:00Z +%s)
awk -F'|' -v vs="$VS" -v t1="$T1" -v t2="$T2" 'NR == FNR { bv[$1] = 1; next }
	{ OFS = "|"; if ($1 == vs) $4 = t1; else if ($1 in bv) $4 = t2; print }' \
	"$T/backup.valid" "$T/lost.rows" >"$T/want.rows"
rows >"$T/got.rows"
check "every certificate back: results.csv's DER, the lost store's status, reason and time" cmp -s "$T/got.rows" "$T/want.rows"
check "... PS key-compromise at 13:30 (its own record), a completed one ca-compromise at 14:00" sh -c \
	"grep -q '^$PS|revoked|1|$(date -u -d 2026-04-02T13:30:00Z +%s)|' '$T/got.rows' &&
	 test \$(sqlite3 'file:$BK/b1/store.db?immutable=1' \"SELECT hex(serial) FROM certificates WHERE status = 'pending'\" |
	   grep -v '^$PS\$' | grep -c -f - '$T/got.rows' | tr -d ' ') = $((BP - 1)) &&
	 test \$(grep -c '|revoked|2|$(date -u -d 2026-04-02T14:00:00Z +%s)|' '$T/got.rows') = $((N + 1 - BV - 1))"
check "... the DER is results.csv's" sh -c "cut -d, -f3,4 '$T/a/out/results.csv' '$T/b/out/results.csv' | grep -v '^serial' |
	while IFS=, read -r s c; do printf '%s|%s\n' \"\$s\" \"\$(printf %s \"\$c\" | base64 -d | od -An -tx1 -v | tr -d ' \n' | tr a-f A-F)\"; done |
	sort >'$T/res.der'; cut -d'|' -f1,5 '$T/got.rows' | sort | cmp -s - '$T/res.der'"
check "... nothing pending or void" test "$(db "SELECT count(*) FROM certificates WHERE status IN ('pending', 'void')")" = 0
ok "check: clean" "$ON" check --state "$O" --clock 2026-04-02T15:40:00Z
check "... Store consistent" grep -q "^Store consistent" "$T/out"
P=$T/repo
fails "publish (no ARL imported: exit 9, the CRLs written)" 9 "no imported ARL is current" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-02T16:00:00Z
for f in "$P"/crl/*.crl; do openssl crl -inform DER -in "$f" -noout -text; done |
	sed -n 's/^ *Serial Number: //p' | sort >"$T/crl.serials"
check "the CRLs list every certificate once" sh -c "cut -d'|' -f1 '$T/got.rows' | sort | cmp -s - '$T/crl.serials'"
# the compromise made public (CPS 4-4-1-3): a notice in the set, and the
# index page's warning and issuing CA 1's card
N1=$P/notice/issuing-1.txt
FP1=$(sha256sum <"$P/issuing/issuing-1.cer" | cut -c1-64 | tr a-f A-F | sed 's/../&:/g;s/:$//')
WHEN=$(sed -n 's/^issuing\.1\.compromised = //p' "$O/state.conf")
check "publish: notice/issuing-1.txt in the set and its MANIFEST" sh -c \
	"grep -q \"^\$(sha256sum '$N1' | cut -c1-64) \$(stat -c %s '$N1') notice/issuing-1.txt\$\" '$P/MANIFEST' &&
	 [ \$(grep -c ' notice/' '$P/MANIFEST') = 1 ]"
check "... it names the key, the time state.conf records, issuing CA 1's SHA-256 and file, what to do" sh -c \
	"[ -n '$WHEN' ] && grep -qx '鍵 / Key: 発行局（利用者証明書の発行者） 第 1 世代 / issuing CA generation 1' '$N1' &&
	 grep -qx '宣言日時 / Declared: $WHEN' '$N1' && grep -qx 'SHA-256: $FP1' '$N1' &&
	 grep -qx 'ファイル / File: issuing/issuing-1.cer' '$N1' &&
	 grep -q 'Treat every certificate under this key as revoked, even before the ARL lists it' '$N1' &&
	 grep -q 'ARL に記載される前であっても' '$N1' && grep -q '^  CRL: .*crl/' '$N1'"
ok "index-page" "$ON" index-page --repo "$P" --clock 2026-04-02T16:05:00Z --out "$T/ix.html"
sed 's/<[^>]*>//g' "$T/ix.html" >"$T/ix.txt"
check "... the warning block links the notice; issuing CA 1's card: declared compromised, not valid" sh -c \
	"grep -q '<li>発行局（利用者証明書の発行者） 第 1 世代 / issuing CA generation 1: <a href=\"notice/issuing-1.txt\">' '$T/ix.html' &&
	 awk '/^issuing\/issuing-1\.cer\$/ { c = 1 } c && /^有効期間/ { print; exit }' '$T/ix.txt' |
	   grep -q '⚠ 危殆化宣言 / declared compromised (公表 notice)\$' &&
	 [ \$(grep -c '危殆化宣言 / declared compromised' '$T/ix.txt') = 1 ]"

# ---- restore 2: the pending rows voided (as revoke did before) -----------
restore 2
db "UPDATE certificates SET status = 'void', ended = 1 WHERE status = 'pending'"
fails "check: each void row the log records as issued is a finding" 1 "findings" \
	"$ON" check --state "$O" --clock 2026-04-02T17:00:00Z --dry-run
check "... $BP lines, PS among them, with the way back" sh -c "test \$(grep -c '^void: serial [0-9A-F]* (municipality [0-9]*): void in the store, but the audit log.s cert.issue seq [0-9]* (batch [0-9a-f]*) signed it and issue.done ok seq [0-9]* ended that run: issued to its resident, on no CRL, .*restore the state from the backup again, recover the batches first, then redo the revocations' '$T/out') = $BP &&
	grep -q '^void: serial $PS ' '$T/out'"
fails "recover B: refused, A's certificates not in the store (void)" 3 "has $((N - BV)) certificates \(cert\.issue\) not in the store \(serial [0-9A-F]+ among them\): recover it first; nothing changed" \
	"$ON" recover --state "$O" --clock 2026-04-02T17:10:00Z --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
rc=0; "$ON" recover --state "$O" --clock 2026-04-02T17:20:00Z --batch "$T/a/batch.csv" \
	--results "$T/a/out/results.csv" >"$T/r.out" 2>"$T/r.err" || rc=$?
check "recover A: the void lines refused (exit $rc)" test "$rc" = 3
check "... each said as what it is, not an INCIDENT with another certificate" sh -c \
	"test \$(grep -c 'serial [0-9A-F]* is void in the store with this certificate.s TBSCertificate: reserved in the backup, signed and delivered after it (the live log: cert.issue seq [0-9]* (batch [0-9a-f]*), then issue.done ok seq [0-9]* ended that run), then voided' '$T/r.err') = $BP &&
	! grep -q INCIDENT '$T/r.err'"
finish

#!/usr/bin/env bash
# t_online_recover_pending.sh - a backup taken while a batch is mid-way
# holds some of its certificates pending (reserved, not yet completed);
# restored as docs/backup.md "Restore" says, the live audit log kept:
#   batch A (N residents) is held inside a write of the store's -wal while
#   the backup is taken, then runs to its end; batch B (--replace) re-issues
#   a resident whose A certificate the backup holds pending, and one new;
#   restore 1: recover B first is refused (A started before the backup and
#   is not all in the store); recover A completes the pending rows with
#   results.csv's certificates and puts the rest back; recover B revokes
#   that A certificate as B did; then every certificate is in the store
#   exactly once, row for row the lost store's, with the serial and DER of
#   results.csv, no serial used twice, check clean; the next issue finds
#   nothing pending and uses a new serial;
#   restore 2 (the same backup): the next issue first, which signs the
#   pending rows again (the same DER), then recover A and B: the same store;
#   restore 3: A's results.csv with a pending row's line "pending" (as a run
#   that stopped writes it): that line named, its row left pending and A
#   not finished (B still refused); the next issue signs it again, then A
#   is finished and B goes back: the same store.
. "$(dirname "$0")/online.sh"
BK=$T/backups
mkdir -p "$BK"
N=160
# ---- batch A held part-way; the backup taken meanwhile ---------------------
mid_batch_backup "$N"
bq() { sqlite3 "file:$BK/b1/store.db?immutable=1" "$1"; }
BV=$(bq "SELECT count(*) FROM certificates WHERE status = 'valid'")
BP=$(bq "SELECT count(*) FROM certificates WHERE status = 'pending'")
check "the backup holds some of A valid ($BV), some pending ($BP), not all" \
	test "$BP" -gt 0 -a "$BV" -gt 0 -a $((BV + BP)) -lt "$N"
# the line of a certificate the backup holds pending, and its resident
PL=$(bq "SELECT min(r.line) FROM batch_results r JOIN certificates c ON c.serial = r.serial WHERE c.status = 'pending'")
PS=$(bq "SELECT hex(serial) FROM batch_results WHERE line = $PL")
serial_of() { awk -F, -v l="$2" '$1 == l && $2 == "ok" { print $3 }' "$1"; }
check "... line $PL's pending serial is results.csv's" test "$(serial_of "$T/a/out/results.csv" "$PL")" = "$PS"
# ---- batch B (--replace): line PL's resident again, and one new ----------
req_dir "$T/b"
{ head -1 "$T/a/batch.csv"; sed -n "${PL}p" "$T/a/batch.csv"
  sed -n 2p "$T/a/batch.csv" | sed 's/^\([0-9]*\),[0-9]*,/\1,72999999999,/'; } >"$T/b/batch.csv"
ok "batch B (--replace)" "$ON" issue --state "$O" --clock 2026-04-02T14:00:00Z --replace --batch "$T/b/batch.csv" --out "$T/b/out"
B2=$(serial_of "$T/b/out/results.csv" 2); B3=$(serial_of "$T/b/out/results.csv" 3)
check "... A's line $PL revoked superseded" test "$(sqlite3 "$O/store.db" "SELECT status || reason FROM certificates WHERE hex(serial) = '$PS'")" = revoked4
rows() { sqlite3 "$1" "SELECT hex(serial), status, coalesce(reason, 0), coalesce(revoked_at, 0), municipality, not_before, not_after, hex(resident_key), hex(issuer), hex(tbs), hex(der) FROM certificates ORDER BY serial"; }
rows "$O/store.db" >"$T/live.rows"
sqlite3 "$O/store.db" "SELECT seq, hex(entry) FROM crl_entries ORDER BY seq" >"$T/live.crl"
# serial,DER (hex) of every ok line of results.csv
python3 - "$T/a/out/results.csv" "$T/b/out/results.csv" >"$T/results.der" <<'PY'
import base64, sys
for f in sys.argv[1:]:
    for l in open(f).read().splitlines()[1:]:
        c = l.split(",")
        if c[1] == "ok":
            print(c[2] + "|" + base64.b64decode(c[3]).hex().upper())
PY
sort -o "$T/results.der" "$T/results.der"
check "results.csv: $((N + 2)) certificates, no serial twice" \
	test "$(cut -d'|' -f1 "$T/results.der" | sort -u | wc -l)" = $((N + 2))
ASHA=$(sha256sum "$T/a/batch.csv" | cut -c1-64)
cp -p "$O/audit/audit.log" "$O/audit/audit.log.head" "$T/"
# ---- the restore (docs/backup.md), the live log kept ----------------------
restore() { restore_state "$BK/b1" "$O.damaged" "$T"; }
# the store's certificates (serial, DER) and what results.csv says
store_der() { sqlite3 "$O/store.db" "SELECT hex(serial) || '|' || hex(der) FROM certificates WHERE status IN ('valid', 'revoked') ORDER BY 1" | sort; }
same_store() {
	check "$1: every row is the lost store's (serial, status, reason, time, dates, resident, TBS, DER)" \
		test "$(rows "$O/store.db" | grep -v "^$2|")" = "$(cat "$T/live.rows")"
	check "$1: the CRL entries are the lost store's" \
		test "$(sqlite3 "$O/store.db" "SELECT seq, hex(entry) FROM crl_entries ORDER BY seq")" = "$(cat "$T/live.crl")"
	check "$1: the certificates of A and B are results.csv's, serial and DER, each once" \
		test "$(store_der | grep -v "^$2|")" = "$(cat "$T/results.der")"
	check "$1: nothing pending or void" \
		test "$(sqlite3 "$O/store.db" "SELECT count(*) FROM certificates WHERE status IN ('pending', 'void')")" = 0
}
restore
check "restored: line $PL pending" test "$(sqlite3 "$O/store.db" "SELECT status FROM certificates WHERE hex(serial) = '$PS'")" = pending
R=(--clock 2026-04-02T15:00:00Z)
# recover after the next issue (16:00) of restores 2 and 3: after it, as the
# clock guard wants (docs/clock.md: the test's time goes forward; each
# restore puts back the live log as it was after B)
RL=(--clock 2026-04-02T16:10:00Z)
fails "recover B first: refused, A (started before the backup) not all in the store" 3 \
	"b/batch.csv: batch $T/a/batch.csv \(sha256 $ASHA\), whose issue.start \(seq [0-9]+\) is before this batch's \(seq [0-9]+\), has $((N - BV)) certificates \(cert.issue\) not in the store .*: recover it first" \
	"$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
ok "recover A" "$ON" recover --state "$O" "${R[@]}" --batch "$T/a/batch.csv" --results "$T/a/out/results.csv"
check "... $((N - BV)) put back, the $BV valid in the backup already there" \
	grep -q ": $((N - BV)) put back, $BV already in the store, 0 refused of $N issued$" "$HANKO_TMP/out"
check "... the $BP pending ones completed (cert.recover: reserved in the backup, signed after it)" \
	test "$(grep -c '	cert.recover	ok	.*(reserved in the backup, signed after it)' "$O/audit/audit.log")" = "$BP"
check "... A finished in the journal" test "$(sqlite3 "$O/store.db" "SELECT finished_at IS NOT NULL FROM batches WHERE sha256 = '$ASHA'")" = 1
ok "recover B" "$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
check "... line 2 replaced A's line $PL, revoked superseded" grep -q "serial $B2: put back (line 2, .*it replaced serial $PS, revoked reason 4" "$HANKO_TMP/out"
same_store "restore 1" NONE
ok "check: consistent" "$ON" check --state "$O" --clock 2026-04-02T15:30:00Z
check "... Store consistent" grep -q "^Store consistent" "$HANKO_TMP/out"
req_dir "$T/c"
{ head -1 "$T/a/batch.csv"; sed -n 3p "$T/a/batch.csv" | sed 's/^\([0-9]*\),[0-9]*,/\1,72999999998,/'; } >"$T/c/batch.csv"
ok "the next issue (batch C, a new resident)" "$ON" issue --state "$O" --clock 2026-04-02T16:00:00Z --batch "$T/c/batch.csv" --out "$T/c/out"
check "... nothing left pending to recover" sh -c "! grep -q '^recovered' '$HANKO_TMP/out'"
C2=$(serial_of "$T/c/out/results.csv" 2)
check "... its serial is new" sh -c "[ -n '$C2' ] && ! grep -q '^$C2|' '$T/results.der'"
same_store "after C" "$C2"
ok "check after C: consistent" "$ON" check --state "$O" --clock 2026-04-02T16:30:00Z
# ---- restore 2: the next issue before recover -------------------------------
restore
mkdir -p "$T/c2"
ok "restored again: the next issue first (batch C)" "$ON" issue --state "$O" --clock 2026-04-02T16:00:00Z --batch "$T/c/batch.csv" --out "$T/c2/out"
check "... it signs the $BP pending rows again" grep -q "^recovered $BP certificates left pending by a crash, voided 0$" "$HANKO_TMP/out"
C2b=$(serial_of "$T/c2/out/results.csv" 2)
check "... the pending serial of line $PL now valid, its DER results.csv's" \
	test "$(sqlite3 "$O/store.db" "SELECT hex(serial) || '|' || hex(der) FROM certificates WHERE hex(serial) = '$PS'")" = "$(grep "^$PS|" "$T/results.der")"
ok "recover A" "$ON" recover --state "$O" "${RL[@]}" --batch "$T/a/batch.csv" --results "$T/a/out/results.csv"
check "... $((N - BV - BP)) put back, $((BV + BP)) already there" \
	grep -q ": $((N - BV - BP)) put back, $((BV + BP)) already in the store, 0 refused of $N issued$" "$HANKO_TMP/out"
ok "recover B" "$ON" recover --state "$O" "${RL[@]}" --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
same_store "restore 2" "$C2b"
ok "check: consistent" "$ON" check --state "$O" --clock 2026-04-02T16:30:00Z
# ---- restore 3: A's results.csv as a run that stopped wrote it, line PL
# pending there too: nothing to put back for it, A not finished ----------
restore
mkdir -p "$T/a3" "$T/c3"
cp "$T/a/out/batch.sha256" "$T/a3/"
awk -F, -v l="$PL" -v s="$PS" 'BEGIN { OFS = "," } $1 == l { print l, "pending", s; next } { print }' \
	"$T/a/out/results.csv" >"$T/a3/results.csv"
ok "restored again: recover A with line $PL pending in its results.csv" "$ON" recover --state "$O" "${R[@]}" --batch "$T/a/batch.csv" --results "$T/a3/results.csv"
check "... line $PL named: no certificate to put back" grep -q "^$T/a3/results.csv:$PL: line $PL: pending when the results were written: no certificate to put back$" "$HANKO_TMP/out"
check "... the others put back" grep -q ": $((N - BV - 1)) put back, $BV already in the store, 0 refused of $((N - 1)) issued$" "$HANKO_TMP/out"
check "... serial $PS still pending" test "$(sqlite3 "$O/store.db" "SELECT status FROM certificates WHERE hex(serial) = '$PS'")" = pending
check "... A not finished in the journal while a row of it is pending (docs/store.md)" \
	test "$(sqlite3 "$O/store.db" "SELECT finished_at IS NULL FROM batches WHERE sha256 = '$ASHA'")" = 1
fails "recover B: refused, A's pending certificate not in the store" 3 \
	"batch $T/a/batch.csv \(sha256 $ASHA\), .* has 1 certificate \(cert.issue\) not in the store \(serial $PS among them\): recover it first" \
	"$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
ok "the next issue (batch C)" "$ON" issue --state "$O" --clock 2026-04-02T16:00:00Z --batch "$T/c/batch.csv" --out "$T/c3/out"
check "... signs the pending row again" grep -q "^recovered 1 certificates left pending by a crash, voided 0$" "$HANKO_TMP/out"
C2c=$(serial_of "$T/c3/out/results.csv" 2)
ok "recover A again: line $PL now in the store" "$ON" recover --state "$O" "${RL[@]}" --batch "$T/a/batch.csv" --results "$T/a3/results.csv"
check "... A finished" test "$(sqlite3 "$O/store.db" "SELECT finished_at IS NOT NULL FROM batches WHERE sha256 = '$ASHA'")" = 1
ok "recover B" "$ON" recover --state "$O" "${RL[@]}" --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
same_store "restore 3" "$C2c"
ok "check: consistent" "$ON" check --state "$O" --clock 2026-04-02T16:30:00Z
finish

#!/usr/bin/env bash
# t_online_recover.sh - "hanko-online recover" (docs/backup.md "Restore",
# step 10; CPS 4-4, 4-14-1): the certificates a batch issued after the last
# backup put back into the restored store from the batch's results.csv:
#   batch A issued, backed up; batch B (--replace: two of A's residents
#   re-issued, one with the same basic 4 items, one moved; two new ones);
#   the state restored from the backup as docs/backup.md says (the live
#   audit log kept); recover with B's batch and results: a tampered
#   results.csv (another line's certificate, a flipped byte) has those
#   lines refused and named, the others put back; then every B certificate
#   is in the store as issue left it, the superseded A ones revoked with
#   the reasons and times of their cert.revoke records; revoke by serial and
#   by resident works for B's; check passes; publish lists the revocations;
#   running recover again changes nothing. Without its cert.revoke evidence
#   a re-issue is refused, not guessed.
. "$(dirname "$0")/online.sh"
P=$T/repo
BK=$T/backups
mkdir -p "$BK"
req_dir "$T/a"
six_residents "$T/six.csv"
# A: residents 1 to 4
head -5 "$T/six.csv" >"$T/a/batch.csv"
ok "batch A" "$ON" issue --state "$O" --clock 2026-04-02T12:00:00Z --batch "$T/a/batch.csv" --out "$T/a/out"
ok "the backup" "$ON" backup --state "$O" --out "$BK/b1" --clock 2026-04-02T13:00:00Z
D=$BK/b1
# B (--replace): resident 1 again (the same basic 4 items: superseded),
# resident 2 moved (affiliationChanged), residents 5 and 6 new
req_dir "$T/b"
{ sed -n 1,2p "$T/six.csv"
  sed -n 3p "$T/six.csv" | sed 's/熊本県八代市松江城町１番２５号,000000000000000/熊本県八代市松江城町１番２６号,000000000000000/'
  sed -n 6,7p "$T/six.csv"; } >"$T/b/batch.csv"
ok "batch B (--replace)" "$ON" issue --state "$O" --clock 2026-04-02T14:00:00Z --replace --batch "$T/b/batch.csv" --out "$T/b/out"
check "... 4 issued" test "$(grep -c ',ok,' "$T/b/out/results.csv")" = 4
serial_of() { awk -F, -v l="$2" '$1 == l && $2 == "ok" { print $3 }' "$1"; }
A2=$(serial_of "$T/a/out/results.csv" 2); A3=$(serial_of "$T/a/out/results.csv" 3)
B2=$(serial_of "$T/b/out/results.csv" 2); B3=$(serial_of "$T/b/out/results.csv" 3)
B4=$(serial_of "$T/b/out/results.csv" 4); B5=$(serial_of "$T/b/out/results.csv" 5)
cols() { sqlite3 "$O/store.db" "SELECT status, coalesce(reason, 0), coalesce(revoked_at, 0), municipality, not_before, not_after, hex(resident_key), hex(issuer), hex(tbs), hex(der) FROM certificates WHERE hex(serial) = '$1'"; }
for s in "$A2" "$A3" "$B2" "$B3" "$B4" "$B5"; do cols "$s" >"$T/live.$s"; done
check "... A's line 2 superseded (4), line 3 affiliationChanged (3)" \
	test "$(cut -d'|' -f1,2 "$T/live.$A2")/$(cut -d'|' -f1,2 "$T/live.$A3")" = "revoked|4/revoked|3"
sqlite3 "$O/store.db" "SELECT seq, hex(entry) FROM crl_entries ORDER BY seq" >"$T/crl.live"
# after the backup: A's line 4 (in the backup) and B's line 4 (issued
# after it) revoked keyCompromise; the restore loses both revocations
A4=$(serial_of "$T/a/out/results.csv" 4)
BSHA=$(sha256sum "$T/b/batch.csv" | cut -c1-16)
ok "revoke A's line 4 after the backup" "$ON" revoke --state "$O" --clock 2026-04-02T14:30:00Z --serial "$A4" --reason key-compromise
ok "revoke B's line 4 after the backup" "$ON" revoke --state "$O" --clock 2026-04-02T14:30:00Z --serial "$B4" --reason key-compromise
# ---- the store lost: the restore of docs/backup.md ---------------------
restore_state "$D" "$O.damaged" "$O.damaged/audit"
fails "restored: check finds the revocations the store lost" 1 "store.db: 4 findings, 0 fixed$" \
	"$ON" check --state "$O" --clock 2026-04-02T15:00:00Z
check "... A's line 4: valid in the store, revoked in the log: the command named" \
	grep -q "^revocation: serial $A4 (municipality [0-9]*): valid in the store, but the audit log's cert.revoke seq [0-9]* (2026-04-02T14:30:00Z) revoked it reason 1 (key-compromise); redo it at the record's time: hanko-online recover --state $O --revocations\$" "$HANKO_TMP/out"
check "... B's line 4: not in the store: recover its batch first" \
	grep -q "^revocation: serial $B4 (municipality 431028): not in the store, but the audit log's cert.revoke seq [0-9]* (2026-04-02T14:30:00Z) revoked it reason 1 (key-compromise): issued after the backup; not in the store: recover its batch first" "$HANKO_TMP/out"
check "... A's lines 2 and 3, re-issued by B: recover B first" sh -c \
	"grep -q '^revocation: serial $A2 (.*): valid in the store, but .* revoked it reason 4 (superseded) when batch $BSHA re-issued it as serial $B2, which is not in the store: recover that batch first' '$HANKO_TMP/out' &&
	 grep -q '^revocation: serial $A3 (.*): valid in the store, but .* revoked it reason 3 (affiliation-changed) when batch $BSHA re-issued it as serial $B3,' '$HANKO_TMP/out'"
check "... nothing revoked by check" test "$(sqlite3 "$O/store.db" "SELECT status FROM certificates WHERE hex(serial) = '$A4'")" = valid
cp "$HANKO_TMP/out" "$T/check1.out"
check "... B's certificates are not in the restored store" \
	test "$(sqlite3 "$O/store.db" "SELECT count(*) FROM certificates WHERE hex(serial) IN ('$B2', '$B3', '$B4', '$B5')")" = 0
check "... A's lines 2 and 3 are valid in it" \
	test "$(sqlite3 "$O/store.db" "SELECT group_concat(status) FROM certificates WHERE hex(serial) IN ('$A2', '$A3')")" = "valid,valid"
fails "revoke a B certificate before recover: not in the store" 3 "" \
	"$ON" revoke --state "$O" --clock 2026-04-02T15:00:00Z --serial "$B4" --reason key-compromise
R=(--clock 2026-04-02T15:10:00Z)
fails "recover with batch A's results and batch B: refused, nothing ties them" 3 "a/out/batch.sha256: names another batch than .*/b/batch.csv" \
	"$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/a/out/results.csv"
# ---- tampered results --------------------------------------------------
mkdir "$T/bad"
cp "$T/b/out/batch.sha256" "$T/bad/"
b64_of() { awk -F, -v l="$2" '$1 == l && $2 == "ok" { print $4 }' "$1"; }
# line 4 (resident 5) given A's line 4 certificate (resident 3) with its
# serial; line 5's certificate with one byte flipped
A4=$(serial_of "$T/a/out/results.csv" 4)
python3 - "$T/b/out/results.csv" "$T/bad/results.csv" "$A4" "$(b64_of "$T/a/out/results.csv" 4)" <<'PY'
import base64, sys
src, dst, a4, a4b = sys.argv[1:]
out = []
for l in open(src).read().splitlines():
    f = l.split(",")
    if f[0] == "4":
        l = ",".join([f[0], f[1], a4, a4b])
    elif f[0] == "5":
        d = bytearray(base64.b64decode(f[3])); d[len(d) // 2] ^= 1
        l = ",".join(f[:3] + [base64.b64encode(bytes(d)).decode()])
    out.append(l)
open(dst, "w").write("\n".join(out) + "\n")
PY
rc=0; "$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/bad/results.csv" >"$T/bad.out" 2>"$T/bad.err" || rc=$?
cat "$T/bad.err" >&2
check "recover with tampered results: exit 3" test "$rc" = 3
check "... line 4 (another line's certificate) refused and named" \
	grep -q "^$T/bad/results.csv:4: line 4, serial $A4: the certificate is not the one issue builds from line 4 " "$T/bad.err"
check "... line 5 (a flipped byte) refused and named" \
	grep -q "^$T/bad/results.csv:5: line 5, serial $B5: certificate: its signature does not verify" "$T/bad.err"
check "... one stderr line per refusal, and the summary" test "$(wc -l <"$T/bad.err")" = 3
check "... audited: two cert.recover fail records" \
	test "$(grep -c "	cert.recover	fail	" "$O/audit/audit.log")" = 2
check "... the others put back" test "$(grep -c ': put back ' "$T/bad.out")" = 2
check "... A's line 4 certificate untouched" test "$(sqlite3 "$O/store.db" "SELECT status FROM certificates WHERE hex(serial) = '$A4'")" = valid
check "... B's line 5 not in the store" test "$(sqlite3 "$O/store.db" "SELECT count(*) FROM certificates WHERE hex(serial) = '$B5'")" = 0
# ---- an empty results.csv (cut short) is no header: refused ----------------
mkdir "$T/empty"
cp "$T/b/out/batch.sha256" "$T/empty/"
: >"$T/empty/results.csv"
fails "recover with an empty results.csv: exit 3, its header named" 3 "empty/results.csv:1: header: not \"line,result,serial_or_reason,certificate\"" \
	"$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/empty/results.csv"
# ---- a line field not as issue writes it (a plain decimal of a line of
# the batch file) is not issue's form: refused as a bad header or result
# is (exit 3, the file, its line, the field and the rule named), never
# taken as that line (strtoull took "+4", " 4" and "04" as line 4)
mkdir "$T/badline"
cp "$T/b/out/batch.sha256" "$T/badline/"
B4ROW=$(awk -F, '$1 == 4 && $2 == "ok"' "$T/b/out/results.csv")
for f in "+4" " 4" "04" "-4" "4 " "0x4" "18446744073709551620"; do
	{ head -1 "$T/b/out/results.csv"; echo "$f${B4ROW#4}"; } >"$T/badline/results.csv"
	fails "recover with results line \"$f,ok,...\": exit 3, not a plain decimal" 3 \
		"$T/badline/results.csv:2: line: not a plain decimal \(digits only: no sign, blank or leading zero\), as issue writes it \(docs/requests.md\)$" \
		"$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/badline/results.csv"
done
for f in 0 1 6 9; do
	{ head -1 "$T/b/out/results.csv"; echo "$f${B4ROW#4}"; } >"$T/badline/results.csv"
	fails "recover with results line \"$f,ok,...\": exit 3, not a line of the batch" 3 \
		"$T/badline/results.csv:2: line: $f is not a line of $T/b/batch.csv after its header \(2 to 5\), as issue writes it \(docs/requests.md\)$" \
		"$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/badline/results.csv"
done
{ head -1 "$T/b/out/results.csv"; echo "7,refused,batch.csv:7: resident_id: a reason"; } >"$T/badline/results.csv"
fails "a refused line past the batch's lines: exit 3, not a line of the batch" 3 \
	"$T/badline/results.csv:2: line: 7 is not a line of $T/b/batch.csv after its header \(2 to 5\)" \
	"$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/badline/results.csv"
check "... B's line 4 not put back by any of them" test "$(sqlite3 "$O/store.db" "SELECT count(*) FROM certificates WHERE hex(serial) = '$B4'")" = 0
# ---- B's results with another batch file (line 4's resident_id changed,
# its own batch.sha256): the certificates are not in it (the resident
# record code is not), but the live log names their serials as batch B's
check "B's line 4 is resident 5" grep -q '^431028,50000000005,' "$T/b/batch.csv"
sed 's/^431028,50000000005,/431028,50000000015,/' "$T/b/batch.csv" >"$T/b/other.csv"
mkdir "$T/other"
cp "$T/b/out/results.csv" "$T/other/"
sha256sum "$T/b/other.csv" | cut -c1-64 >"$T/other/batch.sha256"
BSHA=$(sha256sum "$T/b/batch.csv" | cut -c1-16)
rc=0; "$ON" recover --state "$O" "${R[@]}" --batch "$T/b/other.csv" --results "$T/other/results.csv" >"$T/other.out" 2>"$T/other.err" || rc=$?
cat "$T/other.err" >&2
check "recover with another batch file than the log's: exit 3" test "$rc" = 3
check "... line 4 refused: the log names its serial batch $BSHA's" \
	grep -q "^$T/other/results.csv:4: line 4, serial $B4: the audit log's record [0-9]* names serial $B4 for line 4, municipality 431028 of batch $BSHA, not of batch " "$T/other.err"
check "... B's lines 4 and 5 not in the store" test "$(sqlite3 "$O/store.db" "SELECT count(*) FROM certificates WHERE hex(serial) IN ('$B4', '$B5')")" = 0
# ---- a live log rewritten with its chain recomputed (docs/audit-log.md
# "What is and is not detected"): the chain alone still holds, a signed
# checkpoint after the change does not; recover takes no evidence from it
cp -p "$O/audit/audit.log" "$T/log.keep"; cp -p "$O/audit/audit.log.head" "$T/head.keep"
python3 "$HANKO_SRC/test/data/audit/edit.py" rewrite "$O/audit/audit.log" 2
C0=$(sqlite3 "$O/store.db" "SELECT count(*) FROM certificates")
rc=0; "$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/b/out/results.csv" >"$T/rw.out" 2>"$T/rw.err" || rc=$?
check "recover on a log rewritten with its chain recomputed: exit 6, the audit key's check named" sh -c \
	"[ $rc = 6 ] && grep -q 'fails verification with the token.s audit key' '$T/rw.err'"
check "... nothing put back" test "$(sqlite3 "$O/store.db" "SELECT count(*) FROM certificates")" = "$C0"
rc=0; "$ON" check --state "$O" "${R[@]}" >"$T/rwc.out" 2>"$T/rwc.err" || rc=$?
check "check on that log: exit 6 (no checkpoint signed over it), the log's failure is a finding, its revocations not compared" sh -c \
	"[ $rc = 6 ] && grep -q 'refusing to sign a checkpoint' '$T/rwc.err' && grep -q '^audit: .*audit.log: fails verification with the token.s audit key (.*): the revocations it records are not compared' '$T/rwc.out' && ! grep -q '^revocation:' '$T/rwc.out'"
cp -p "$T/log.keep" "$O/audit/audit.log"; cp -p "$T/head.keep" "$O/audit/audit.log.head"
# ---- the real results --------------------------------------------------
ok "recover with B's results" "$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
cp "$HANKO_TMP/out" "$T/good.out"
check "... lines 2 and 3 already there, 4 and 5 put back" sh -c \
	"grep -q 'serial $B2: already in the store' '$T/good.out' && grep -q 'serial $B3: already in the store' '$T/good.out' &&
	 grep -q 'serial $B4: put back' '$T/good.out' && grep -q 'serial $B5: put back' '$T/good.out'"
for s in "$A2" "$A3" "$B2" "$B3" "$B4" "$B5"; do
	check "serial $s: its row is the one issue left (status, reason, time, dates, partition, resident, issuer, TBS, DER)" \
		test "$(cols "$s")" = "$(cat "$T/live.$s")"
done
check "the CRL entries are the ones the lost store had" \
	test "$(sqlite3 "$O/store.db" "SELECT seq, hex(entry) FROM crl_entries ORDER BY seq")" = "$(cat "$T/crl.live")"
check "batch B's journal: four results" test "$(sqlite3 "$O/store.db" "SELECT count(*) FROM batch_results r JOIN batches b ON b.id = r.batch WHERE b.name LIKE 'issue --replace %'")" = 4
check "the audit log: a cert.recover ok record per certificate put back, naming serial, batch and line" sh -c \
	"[ \$(grep -c '	cert.recover	ok	op1@ca-online	serial [0-9A-F]*: municipality [0-9]*: batch $(sha256sum "$T/b/batch.csv" | cut -c1-64) line [2-5] (' '$O/audit/audit.log') = 4 ]"
check "... and a checkpoint after recover.done" sh -c "tail -2 '$O/audit/audit.log' | head -1 | grep -q '	recover.done	ok	' && tail -1 '$O/audit/audit.log' | grep -q '	audit.checkpoint	'"
snap() { sqlite3 "$O/store.db" "SELECT hex(serial), status, coalesce(reason,0), coalesce(revoked_at,0), hex(der) FROM certificates ORDER BY serial; SELECT * FROM batch_results ORDER BY batch, line; SELECT id, sha256, finished_at FROM batches ORDER BY id; SELECT seq, hex(entry) FROM crl_entries ORDER BY seq"; }
snap >"$T/snap1"
ok "recover again" "$ON" recover --state "$O" --clock 2026-04-02T15:20:00Z --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
check "... says all four are there" grep -q ": 0 put back, 4 already in the store, 0 refused of 4 issued$" "$HANKO_TMP/out"
snap >"$T/snap2"
check "... and changes nothing in the store" cmp -s "$T/snap1" "$T/snap2"
ok "revoke A's line 4 again" "$ON" revoke --state "$O" --clock 2026-04-02T15:25:00Z --serial "$A4" --reason key-compromise
fails "check after recover: B's line 4, put back valid, was revoked" 1 "1 findings, 0 fixed$" \
	"$ON" check --state "$O" --clock 2026-04-02T15:30:00Z
check "... named with its command" grep -q "^revocation: serial $B4 (municipality 431028): valid in the store, .* redo it at the record's time: hanko-online recover --state $O --revocations\$" "$HANKO_TMP/out"
check "... the only line" test "$(wc -l <"$HANKO_TMP/out")" = 1
ok "revoke B's line 4 by serial" "$ON" revoke --state "$O" --clock 2026-04-02T16:00:00Z --serial "$B4" --reason key-compromise
ok "check: consistent" "$ON" check --state "$O" --clock 2026-04-02T16:10:00Z
check "... Store consistent" grep -q "^Store consistent" "$HANKO_TMP/out"
ok "revoke B's line 5 (resident 6) by resident" "$ON" revoke --state "$O" --clock 2026-04-02T16:10:00Z --municipality 432032 --resident-id 60000000006 --reason 3
check "... both revoked" test "$(sqlite3 "$O/store.db" "SELECT group_concat(status) FROM certificates WHERE hex(serial) IN ('$B4', '$B5')")" = "revoked,revoked"
rc=0; "$ON" publish --state "$O" --repo "$P" --clock 2026-04-02T17:00:00Z >"$T/pub.out" 2>&1 || rc=$?
check "publish runs (exit $rc: 0 or 9)" sh -c "[ $rc = 0 ] || [ $rc = 9 ]"
listed() { openssl crl -inform DER -in "$P/crl/$1.crl" -noout -text | grep -q "$2"; }
check "... its CRL of 431010 lists A's superseded line 2" listed 431010 "$A2"
check "... of 432024 A's line 3 (moved)" listed 432024 "$A3"
check "... of 431028 B's line 4, put back then revoked" listed 431028 "$B4"
check "... of 432032 B's line 5, put back then revoked" listed 432032 "$B5"
# ---- a re-issue without its evidence: refused, not guessed -----------------
mkdir -m 0700 "$T/o2"
(cd "$D" && tar cf - --exclude=./MANIFEST --exclude=./MANIFEST.sig .) | (cd "$T/o2" && tar xpf -)
cp -rp "$O/token" "$O/secrets" "$T/o2/"
sed -i "s|$O|$T/o2|g" "$T/o2/token/softhsm2.conf" 2>/dev/null || true
rc=0; "$ON" recover --state "$T/o2" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/b/out/results.csv" >"$T/o2.out" 2>"$T/o2.err" || rc=$?
cat "$T/o2.err" >&2
check "the backup's own log (no record after it): exit 3" test "$rc" = 3
check "... the two re-issues refused, naming the resident's valid certificate" sh -c \
	"grep -q ':2: line 2, serial $B2: CPS 4-2-3: the resident has a valid certificate in the store (serial $A2) and the audit log has no cert.revoke' '$T/o2.err' &&
	 grep -q ':3: line 3, serial $B3: CPS 4-2-3: .*(serial $A3)' '$T/o2.err'"
check "... the two new residents put back" test "$(grep -c ': put back ' "$T/o2.out")" = 2
finish

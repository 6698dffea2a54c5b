#!/usr/bin/env bash
# t_audit_close.sh - the yearly close of the audit log (CPS 4-11-4, 4-11-5;
# docs/audit-log.md "Retention"): hanko-online audit close seals the log
# with audit.close and a checkpoint, moves it with its head file into
# audit/closed/ (0400) and begins a new log whose record 1 (audit.link)
# names the closed log's id, last seq and last hash; audit verify checks the
# link (a closed log swapped, changed or deleted within its year is found
# and named); a close killed between any two of its steps leaves the old
# log live or a closed log and a new live log, appends refused meanwhile
# with what to run, and the next close finishes it; issue, revoke,
# publish, backup, backup verify, status and check work after a close;
# backup verify --state of a backup taken before a close compares it with
# the closed log (the links followed back), records cut before the close
# found and named.
. "$(dirname "$0")/online.sh"
log=$O/audit/audit.log
KEY=$O/audit/audit-key.pem
CD=$O/audit/closed
ASAN_PRELOAD="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
id_of() { sed -n '1s/.*log-id=\([0-9a-f]\{32\}\)$/\1/p' "$1" | cut -f1; }
genesis_id() { head -1 "$1" | cut -f6 | sed 's/.*log-id=//'; }
field() { sed -n "$(($2 + 1))p" "$1" | cut -f"$3"; }

# 0. Records of the year: six residents issued, a backup taken.
req_dir "$T/b"
six_residents "$T/b/batch1.csv"
ok "issue six residents" "$ON" issue --state "$O" "${IC[@]}" --batch "$T/b/batch1.csv" --out "$T/out1"
ok "a backup before the close" "$ON" backup --state "$O" --out "$T/bk1" --clock 2026-04-02T13:00:00Z

# Before any close the log begins with no link: --previous has nothing to
# be checked against, refused rather than an OK that reads as if it was.
fails "audit verify --previous before any close: refused (usage)" 2 \
	"^hanko-online audit: --previous $T/nowhere\.log: .*audit\.log begins with no audit\.link" \
	"$ON" audit verify --state "$O" --previous "$T/nowhere.log"
fails "audit review --previous before any close: refused (usage), as verify" 2 \
	"^hanko-online audit: --previous $T/nowhere\.log: .*audit\.log begins with no audit\.link" \
	"$ON" audit review --state "$O" --previous "$T/nowhere.log" --clock 2026-04-02T14:00:00Z

# 1. The close.
old=$(genesis_id "$log")
oldn=$(wc -l <"$log")
cp "$log" "$T/log.before"
cp "$log.head" "$T/log.before.head"
ok "audit close" "$ON" audit close --state "$O" --clock 2026-04-03T09:00:00Z --actors op1,auditor1
cp "$HANKO_TMP/out" "$T/close.out"
CL=$CD/audit-$old-20260403.log
check "the closed log is audit/closed/audit-<id>-<day>.log, with its head file" test -f "$CL" -a -f "$CL.head"
check "... nothing else in audit/closed/" test "$(ls -A "$CD" | tr '\n' ' ')" = "audit-$old-20260403.log audit-$old-20260403.log.head "
check "... both read-only (0400)" test "$(stat -c %a "$CL" "$CL.head" | tr '\n' ' ')" = "400 400 "
check "... it holds the year's records unchanged" cmp -s -n "$(stat -c %s "$T/log.before")" "$T/log.before" "$CL"
check "... then audit.close by the actors, naming the log" \
	test "$(field "$CL" "$oldn" 3-6)" = "audit.close	ok	op1,auditor1	log-id=$old"
check "... then its checkpoint, the last record" \
	test "$(field "$CL" $((oldn + 1)) 3)" = audit.checkpoint -a "$(wc -l <"$CL")" = $((oldn + 2))
lastseq=$((oldn + 1))
lasthash=$(tail -1 "$CL" | cut -f8)
new=$(genesis_id "$log")
check "a new live log with another id" test -n "$new" -a "$new" != "$old"
check "... record 1 is the link to the closed log's last record" \
	test "$(field "$log" 1 3-6)" = "audit.link	ok	-	previous-log-id=$old previous-seq=$lastseq previous-hash=$lasthash"
check "... record 2 its checkpoint" test "$(field "$log" 2 3)" = audit.checkpoint
check "... its head file names record 2" grep -q "log-id=$new seq=2 " "$log.head"
check "said: the closed log, where, and the new log" \
	grep -q "^Closed log $old at record $lastseq hash $lasthash: $CL " "$T/close.out"
check "... the link checked" grep -q "the closed log $CL: OK: $((oldn + 2)) records (signatures verified).*the link matches" "$T/close.out"

# The weekly review of a period the close falls in (docs/audit-log.md
# "Weekly review"): the live log's review reads the closed log's backups
# for the cadence (backup.create at 04-02T13:00 there, 25.5 h before the
# period's end: no backup gap; no publication in either log on 04-02 JST,
# which ends in the period), and says where the period's earlier records
# are; the closed log's review checks its cadence up to the close only
# (04-02 JST again, but not 04-03, nor a backup after the close).
RP=(--since 2026-04-02T12:00:00Z --until 2026-04-03T14:30:00Z)
fails "audit review of the live log over the close: the link to read (exit 9)" 9 "lines need" \
	"$ON" audit review --state "$O" --clock 2026-04-03T15:00:00Z "${RP[@]}"
GAP0402="  publication: none on 2026-04-02 (JST): no publish.done ok record that day (CPS 4-4-9: CRLs every 24 hours)"
cadence() { sed -n '/^Cadence gaps/,/^Working hours/p' "$HANKO_TMP/out" | sed '$d'; }
check "... no backup gap: the closed log's backup of 04-02T13:00 counts" test "$(cadence)" = \
	"Cadence gaps (CPS 4-4-9 publication, 4-11-6 backup): 1
$GAP0402"
check "... the period's records before the log are in the closed log, named" grep -qx \
	"  the log begins at 2026-04-03T09:00:00Z (record 1, audit.link), after the period's start: the period's records before it are in the closed log $CL (review them with --log on it, the same --since and --until); its publications and backups count in the cadence gaps below" "$HANKO_TMP/out"
fails "audit review of the closed log to 04-04T16:00: the close to read (exit 9)" 9 "lines need" \
	"$ON" audit review --log "$CL" --key "$KEY" --since 2026-04-02T12:00:00Z --until 2026-04-04T16:00:00Z
check "... its cadence up to the close only: no backup gap, no 04-03" test "$(cadence)" = \
	"Cadence gaps (CPS 4-4-9 publication, 4-11-6 backup): 1
$GAP0402"
check "... the close named, the rest in the next log" grep -qx \
	"  the log was closed at 2026-04-03T09:00:00Z (record $oldn, audit.close), before the period's end: the period's records after it are in the next log (review it with the same --since and --until); the cadence gaps below are checked up to the close" "$HANKO_TMP/out"
# 2. Verification of both.
ok "hanko-online audit verify" "$ON" audit verify --state "$O"
check "... reports the link (id, seq, hash)" grep -q "begins after log $old (closed): the link names its record $lastseq hash $lasthash" "$HANKO_TMP/out"
check "... and checks it against audit/closed/" grep -q "the closed log $CL: OK" "$HANKO_TMP/out"
ok "the closed log verifies on its own" "$OFF" audit verify --log "$CL" --key "$KEY"
# the weekly review of the closed log over a week past its close (CPS
# 4-11-3): no publication or backup gap is claimed after the close (those
# days are the live log's)
"$ON" audit review --log "$CL" --key "$KEY" --since 2026-04-01T15:00:00Z --until 2026-04-08T14:59:59Z \
	>"$T/rv.out" 2>"$T/rv.err" || true
check "audit review of the closed log past its close: no cadence gap after the close" \
	grep -qx 'Cadence gaps (CPS 4-4-9 publication, 4-11-6 backup): 0' "$T/rv.out"
check "... and says it is closed and sealed" grep -q "closed: record $((oldn)) is audit.close (2026-04-03T09:00:00Z), sealed by the checkpoint after it" "$HANKO_TMP/out"
# The live log rolled back: its copy from before the close (with its head
# file, a sound shorter chain) put back over the log the close began.
cp -p "$log" "$T/live.kept"; cp -p "$log.head" "$T/live.kept.head"
cp "$T/log.before" "$log"; cp "$T/log.before.head" "$log.head"
fails "the live log replaced by its copy from before the close: found, naming the closed log" 6 \
	"audit/audit.log: log $old was closed already \(.*closed/audit-$old-20260403.log\), but this log is not: an older copy" \
	"$ON" audit verify --state "$O"
check "... nothing said OK" bash -c "! grep -q 'OK' '$HANKO_TMP/out'"
fails "... hanko-offline audit verify --log too" 6 "log $old was closed already" "$OFF" audit verify --log "$log" --key "$KEY"
check "... nothing said OK" bash -c "! grep -q 'OK' '$HANKO_TMP/out'"
rc=0; "$ON" status --state "$O" --clock 2026-04-03T09:30:00Z >"$T/status.out" 2>"$T/status.err" || rc=$?
check "... hanko-online status: exit 6 (exit $rc)" test "$rc" = 6
check "... its audit log line names the finding" grep -q "^audit log: fails verification: .*log $old was closed already" "$T/status.out"
check "... never 'verified'" sh -c "! grep -q 'audit log: the chain and head file verified' '$T/status.out'"
cp -p "$T/live.kept" "$log"; cp -p "$T/live.kept.head" "$log.head"

# 3. The link: a closed log changed, swapped or deleted is found and named.
chmod 600 "$CL"
cp -p "$CL" "$T/cl.kept"
python3 - "$CL" 5 <<'PY'
import sys
p, n = sys.argv[1], int(sys.argv[2])
ls = open(p, 'rb').read().split(b'\n')
f = ls[n].split(b'\t'); f[3] = b'fail'; ls[n] = b'\t'.join(f)
open(p, 'wb').write(b'\n'.join(ls))
PY
fails "one record of the closed log changed: found and named" 6 "closed/audit-$old-20260403.log:6: record 5: hash does not match" \
	"$ON" audit verify --state "$O"
check "... stdout says no OK of the live log" bash -c "! grep -q '^$log: OK' '$HANKO_TMP/out'"
check "... the live log's line says the run fails" \
	grep -q "^$log: FAILS: the closed log before it does not verify (below); the live log's own chain: [0-9]* records, [0-9]* signed checkpoints (signatures verified)" "$HANKO_TMP/out"
fails "... hanko-offline audit verify --log too" 6 "closed/audit-$old-20260403.log:6: record 5: hash does not match" \
	"$OFF" audit verify --log "$log" --key "$KEY"
check "... stdout says no OK of the live log" bash -c "! grep -q '^$log: OK' '$HANKO_TMP/out'"
check "... the live log's line says the run fails" grep -q "^$log: FAILS: the closed log before it" "$HANKO_TMP/out"
cp -p "$T/cl.kept" "$CL"
# another closed log put in its place: the backup's copy of an earlier
# state's log does not do; a closed log of its own (the old log cut short
# and closed again by hand) is another log id or another last record
head -n "$((oldn - 2))" "$T/cl.kept" >"$CL"
fails "the closed log cut short: found" 6 "closed/audit-$old-20260403.log.head: names record" \
	"$ON" audit verify --state "$O"
cp -p "$T/cl.kept" "$CL"
cp -p "$T/bk1/audit/audit.log" "$CL"; cp -p "$T/bk1/audit/audit.log.head" "$CL.head.x"
cp -p "$CL.head" "$T/clh.kept"; cp -p "$CL.head.x" "$CL.head"; rm -f "$CL.head.x"
fails "the closed log swapped for an earlier copy of it: not a closed log" 6 "audit-$old-20260403.log: does not end with audit.close and its checkpoint" \
	"$ON" audit verify --state "$O"
cp -p "$T/cl.kept" "$CL"; cp -p "$T/clh.kept" "$CL.head"
mv "$CL" "$T/cl.moved"; mv "$CL.head" "$T/cl.moved.head"
fails "the closed log deleted within its year: refused, naming the log and the date" 6 "the closed log $old it links to is missing .*keeps it until 2027-04-03" \
	"$ON" audit verify --state "$O" --clock 2026-06-01T00:00:00Z
ok "... given with --previous it is found" "$ON" audit verify --state "$O" --previous "$T/cl.moved"
ok "... after its year, its absence is said, not refused" "$ON" audit verify --state "$O" --clock 2027-04-04T00:00:00Z
check "... said" grep -q "no longer there (kept until 2027-04-03" "$HANKO_TMP/out"
fails "--previous not a closed log (the new log itself): named" 6 "audit/audit.log: does not end with audit.close and its checkpoint: not a closed log" \
	"$ON" audit verify --state "$O" --previous "$log"
mv "$T/cl.moved" "$CL"; mv "$T/cl.moved.head" "$CL.head"
chmod 400 "$CL"

# 4. The publisher's commands after the close append to the new log.
n0=$(wc -l <"$log")
serial=$(awk -F, 'NR == 2 && $2 == "ok" { print $3 }' "$T/out1/results.csv")
ok "revoke after the close" "$ON" revoke --state "$O" --clock 2026-04-03T10:00:00Z --serial "$serial" --reason key-compromise
check "... recorded in the new log (cert.revoke)" grep -q "	cert.revoke	ok	" "$log"
check "... and not in the closed log" test "$(grep -c "	cert.revoke	" "$CL" || true)" = 0
req_dir "$T/c"
six_residents "$T/c/batch.csv"
# the same six lines as batch 1, so the same batch (its SHA-256): resumed,
# the line revoked above said so, not delivered (exit 9)
fails "issue after the close (batch 1 again: its revoked line said so)" 9 \
	"1 of 6 certificates revoked or expired since issued .*: do not deliver those" \
	"$ON" issue --state "$O" --clock 2026-04-03T11:00:00Z --batch "$T/c/batch.csv" --out "$T/out2"
check "... recorded in the new log (cert.issue, issue.done)" grep -q "	issue.done	ok	" "$log"
rc=0; "$ON" publish --state "$O" --repo "$T/repo" --clock 2026-04-04T03:00:00Z >"$T/pub.out" 2>&1 || rc=$?
check "publish after the close (exit $rc: 9 is the rehearsal's missing ARL)" test "$rc" = 0 -o "$rc" = 9
check "... recorded in the new log" grep -q "	crl.publish	ok	" "$log"
check "... all recorded in the new log" test "$(wc -l <"$log")" -gt $((n0 + 6))
# CPS 4-11-2 (入退室記録): a note of people entering the server room, by the
# people it is of; the operator who entered it named (docs/audit-log.md "Notes")
ok "audit note: room entry into the new log" "$ON" audit note --state "$O" --clock 2026-04-04T03:10:00Z \
	--event room.enter --actors kimura,ito --text "サーバ室 入室: 定期保守"
check "... the record: room.enter, ok, the people, the text and who entered it" sh -c \
	"tail -1 '$log' | cut -f2-6 | grep -qx '2026-04-04T03:10:00Z	room.enter	ok	kimura,ito	サーバ室 入室: 定期保守 (entered by op1@ca-online)'"
cp -p "$log" "$T/note.log"
fails "audit note of another event: refused (usage)" 2 \
	"^hanko-online audit: --event door.open: not a note's event; one of room.enter, room.leave, media.in, media.out, note" \
	"$ON" audit note --state "$O" --clock 2026-04-04T03:11:00Z --event door.open --actors kimura --text x
fails "audit note with actors -: refused (usage)" 2 "^hanko-online audit: --actors -: must be at least one id" \
	"$ON" audit note --state "$O" --clock 2026-04-04T03:11:00Z --event note --actors - --text x
fails "audit note with an empty text: refused (usage)" 2 "^hanko-online audit: --text: needs a value$" \
	"$ON" audit note --state "$O" --clock 2026-04-04T03:11:00Z --event note --actors kimura --text ""
fails "audit note with a new line in its text: refused (usage)" 2 "^hanko-online audit: --text: byte 2 \\(0x0a\\): a control character" \
	"$ON" audit note --state "$O" --clock 2026-04-04T03:11:00Z --event note --actors kimura --text "$(printf 'a\nb')"
check "... none of them appended anything" cmp -s "$T/note.log" "$log"
ok "check on the closed state" "$ON" check --state "$O" --clock 2026-04-04T03:30:00Z
check "... its checkpoint signs the note" sh -c "tail -1 '$log' | cut -f3 | grep -qx audit.checkpoint && grep -q '	room.enter	' '$log'"
ok "a backup after the close" "$ON" backup --state "$O" --out "$T/bk2" --clock 2026-04-04T04:00:00Z
check "... its MANIFEST names the new log" grep -q "$new" "$T/bk2/MANIFEST"
ok "backup verify --state of it" "$ON" backup verify "$T/bk2" --state "$O"
ok "backup verify --state of the backup before the close: compared with the closed log" "$ON" backup verify "$T/bk1" --state "$O"
check "... the closed log begins with the backup's copy" \
	grep -q "audit log is a new log begun by the yearly close since the backup; the closed log $CL it links back to begins with the backup's copy" "$HANKO_TMP/out"
rc=0; "$ON" status --state "$O" --clock 2026-04-04T05:00:00Z >"$T/status.out" 2>&1 || rc=$?
check "status runs on the closed state (exit $rc)" test "$rc" = 0 -o "$rc" = 9
check "... its audit log line is not a failure" sh -c "! grep -q 'audit log: fails' '$T/status.out'"
ok "hanko-offline audit backup of the new log (its earlier backup another log: said)" \
	"$OFF" audit backup --state "$O" --out "$T/usb" --clock 2026-04-04T06:00:00Z
ok "the new log verifies after all this" "$ON" audit verify --state "$O"
# hanko-offline's --state verify appends log.verify at the real clock (it has
# no --clock): after the rehearsal's dated, guarded commands (docs/clock.md)
ok "hanko-offline audit verify --state" "$OFF" audit verify --state "$O"
check "... reports the link too" grep -q "the closed log $CL: OK" "$HANKO_TMP/out"

# 5. A close killed between any two of its steps.
cc -shared -fPIC -o "$T/crashat.so" "$HANKO_SRC/test/data/audit/crashat.c" -ldl
day=5
crash_round() {
	local name=$1 pat=$2 when=$3 skip=$4 want=$5 rc=0 cur id d
	cur=$(genesis_id "$log")
	d=2026-04-$(printf %02d $day)
	env HK_CRASH_AT="$pat" HK_CRASH_WHEN="$when" HK_CRASH_SKIP="$skip" LD_PRELOAD="$T/crashat.so" \
		ASAN_OPTIONS="$ASAN_PRELOAD" "$ON" audit close --state "$O" --clock "${d}T09:00:00Z" \
		>"$T/crash.out" 2>&1 || rc=$?
	check "$name: the close was killed there (exit $rc)" test "$rc" = 99
	id=$(genesis_id "$log")
	case $want in
	old-open)
		check "$name: the old log is live, not closed" test "$id" = "$cur" -a "$(tail -1 "$log" | cut -f3)" != audit.checkpoint -o "$(tail -2 "$log" | head -1 | cut -f3)" != audit.close
		ok "$name: an append goes on in the old log" "$OFF" audit verify --state "$O"
		check "$name: ... recorded there" test "$(tail -1 "$log" | cut -f3)" = log.verify
		;;
	old-closed)
		check "$name: the old log is live and closed" test "$id" = "$cur" -a "$(tail -2 "$log" | head -1 | cut -f3)" = audit.close
		"$OFF" audit verify --state "$O" >/dev/null 2>"$T/probe.err" || true
		check "$name: an append (log.verify) refused, saying what to run" \
			grep -q "AUDIT LOG NOT WRITTEN: .*the log is closed (audit.close) and no new log replaced it yet: finish the close with 'hanko-offline audit close --state $O'" "$T/probe.err"
		check "$name: ... nothing appended after the close" test "$(tail -1 "$log" | cut -f3)" = audit.checkpoint
		;;
	new-nohead)
		check "$name: the new log is live" test "$id" != "$cur" -a "$(field "$log" 1 3)" = audit.link
		"$OFF" audit verify --state "$O" >/dev/null 2>"$T/probe.err" || true
		check "$name: an append (log.verify) refused, saying what to run" \
			grep -q "AUDIT LOG NOT WRITTEN: .*a close of the log stopped part-way .*audit.log.next.head is there.*finish it with 'hanko-offline audit close --state $O'" "$T/probe.err"
		check "$name: ... nothing appended to the new log" test "$(wc -l <"$log")" = 3
		;;
	esac
	check "$name: one live log only" test "$(ls "$O/audit" | grep -c '^audit\.log$')" = 1
	ok "$name: the close run again finishes it" "$ON" audit close --state "$O" --clock "${d}T10:00:00Z"
	id=$(genesis_id "$log")
	check "$name: ... a new log" test "$id" != "$cur"
	check "$name: ... its link names the log that was live" test "$(field "$log" 1 6 | sed 's/previous-log-id=\([0-9a-f]*\) .*/\1/')" = "$cur"
	check "$name: ... nothing left of the close's work" test ! -e "$log.next" -a ! -e "$log.next.head"
	ok "$name: ... verify checks the link" "$ON" audit verify --state "$O"
	check "$name: ... against the closed log" grep -q "the closed log $CD/audit-$cur-.*: OK.*the link matches" "$HANKO_TMP/out"
	ok "$name: ... the closed log verifies on its own" "$OFF" audit verify --log "$(ls "$CD"/audit-"$cur"-*.log)" --key "$KEY"
	check "$name: ... and ends with audit.close and its checkpoint" \
		test "$(tail -2 "$(ls "$CD"/audit-"$cur"-*.log)" | cut -f3 | tr '\n' ' ')" = "audit.close audit.checkpoint "
	day=$((day + 1))
}
crash_round "before the seal's head write" "*>*/audit/audit.log.head" before 0 old-closed
crash_round "after the seal" "*>*/audit/audit.log.head" after 0 old-closed
crash_round "after the new log's file" "*>*/audit/audit.log.next" after 0 old-closed
crash_round "after the new log's checkpoint" "*>*/audit/audit.log.next.head" after 1 old-closed
crash_round "after the closed log's link" "*>*/closed/*.log" after 0 old-closed
crash_round "after the closed head's link" "*>*/closed/*.log.head" after 0 old-closed
crash_round "after the new log's rename" "*audit.log.next>*/audit/audit.log" after 0 new-nohead
check "no closed log lost: one per close" test "$(ls "$CD"/*.log | wc -l)" = 8
other=$(ls "$CD"/audit-*.log | grep -v -- "-20260411.log$" | head -1)
fails "--previous another closed log (swapped): named" 6 "is log [0-9a-f]{32}, but the link \(record 1 of log $(genesis_id "$log")\) names log" \
	"$ON" audit verify --state "$O" --previous "$other"
# 6. Closes within a year of each other: the first closed log is linked
# from the second closed log only, and is kept all the same.
ok "verify follows the links back to the first closed log" "$ON" audit verify --state "$O" --clock 2026-06-01T00:00:00Z
check "... and checks it" grep -q "the closed log $CL: OK" "$HANKO_TMP/out"
mv "$CL" "$T/cl.moved"; mv "$CL.head" "$T/cl.moved.head"
fails "the first closed log deleted within its year, linked from a closed log only: refused, named" 6 \
	"audit-$new-20260405.log: the closed log $old it links to is missing .*keeps it until 2027-04-03" \
	"$ON" audit verify --state "$O" --clock 2026-06-01T00:00:00Z
ok "... after its year, said" "$ON" audit verify --state "$O" --clock 2027-04-04T00:00:00Z
check "... said" grep -q "the closed log $old is no longer there (kept until 2027-04-03" "$HANKO_TMP/out"
mv "$T/cl.moved" "$CL"; mv "$T/cl.moved.head" "$CL.head"
ok "backup verify --state of the backup before the first close: the links followed back to it" \
	"$ON" backup verify "$T/bk1" --state "$O"
check "... compared with the first closed log" grep -q "the closed log $CL it links back to begins with the backup's copy" "$HANKO_TMP/out"

# 7. Records cut from the log's end after a backup (the head file made to
# match), then the log closed: the close's checkpoint seals what is left,
# and backup verify --state of that backup compares it with the closed log
# (docs/backup.md "Checking a backup"), also behind a second close.
ok "an append before the backup (log.verify)" "$OFF" audit verify --state "$O"
ok "a backup" "$ON" backup --state "$O" --out "$T/bk3" --clock 2026-04-20T04:00:00Z
nb=$(wc -l <"$T/bk3/audit/audit.log")
cut=$(genesis_id "$log")
cp -p "$log" "$T/log3.kept"
chmod 600 "$log"
head -n $((nb - 1)) "$T/log3.kept" >"$log"
printf 'hanko-audit-head-1 log-id=%s seq=%d hash=%s\n' "$cut" $((nb - 2)) "$(tail -1 "$log" | cut -f8)" >"$log.head"
ok "... the log cut back before the backup's last record passes audit verify" "$OFF" audit verify --log "$log" --key "$KEY"
ok "... and is closed" "$ON" audit close --state "$O" --clock 2026-04-21T09:00:00Z --actors op1,auditor1
CL3=$CD/audit-$cut-20260421.log
fails "backup verify --state of the backup: the closed log does not begin with its copy: exit 1" 1 \
	"bk3: 1 problem: not a sound backup of this state" "$ON" backup verify "$T/bk3" --state "$O"
check "... the problem on stdout, naming the closed log and the first record that differs" \
	grep -q "^$T/bk3/audit/audit.log: the closed log $CL3 (log $cut, which the live log links back to) does not begin with the backup's copy: record $((nb - 1)) (line $nb) differs" "$HANKO_TMP/out"
ok "a second close" "$ON" audit close --state "$O" --clock 2026-04-22T09:00:00Z --actors op1,auditor1
fails "... the links followed back: still found" 1 "bk3: 1 problem: not a sound backup of this state" \
	"$ON" backup verify "$T/bk3" --state "$O"
check "... named" grep -q "^$T/bk3/audit/audit.log: the closed log $CL3 (log $cut, which the live log links back to) does not begin with the backup's copy: record $((nb - 1)) (line $nb) differs" "$HANKO_TMP/out"
finish

#!/usr/bin/env bash
# t_offline_audit_close.sh - hanko-offline audit close (CPS 4-11-4, 4-11-5;
# docs/audit-log.md "Retention"): the quorum activates the token first, its
# records going into the log being closed, then the log is sealed with
# audit.close (the holders) and a checkpoint, moved into audit/closed/ and a
# new log begun whose record 1 (audit.link) names it; audit verify (with and
# without --previous) reports and checks the link; an audited command after
# the close lands in the new log; too few shares refuse the close, the log
# kept as it was but for the records of the failed activation; a close
# killed after its seal is finished by the next audit close without the
# token, the new log then checkpointed (and, when the quorum fails then, the
# operator is told the close is finished and what to run instead); audit
# backup after the close says it begins a new log and carries the closed
# log in closed/ (a closed log missing within its year, or changed, refused,
# nothing on the medium); the options are parsed into a cleared structure.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
make_ca "$T/ca"
S=$T/ca/state
LOG=$S/audit/audit.log
KEY=$S/audit/audit-key.pem
CD=$S/audit/closed
USB=$T/usb
mkdir "$USB"
ASAN_PRELOAD="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
mapfile -t Q < <(share_args "$T/ca" 1 2 3)
mapfile -t Q2 < <(share_args "$T/ca" 1 2)
genesis_id() { head -1 "$1" | cut -f6 | sed 's/.*log-id=//'; }
field() { sed -n "$(($2 + 1))p" "$1" | cut -f"$3"; }
events() { sed -n "$(($2 + 1)),\$p" "$1" | cut -f3 | tr '\n' ' '; }

# 0. Records of the year: an activation, an audit backup.
ok "activate before the close" "$OFF" activate --state "$S" "${Q[@]}" --clock 2026-04-02T09:00:00Z
ok "audit backup before the close" "$OFF" audit backup --state "$S" --out "$USB" --clock 2026-04-02T10:00:00Z
old=$(genesis_id "$LOG")

# 1. Too few shares: refused, nothing closed, the log as it was but for the
# records of the failed activation (every share opening is recorded).
cp -p "$LOG" "$T/log.before"; cp -p "$LOG.head" "$T/head.before"
n0=$(wc -l <"$LOG")
fails "two shares of three: the close refused" 4 "2 of the 3 shares needed" \
	"$OFF" audit close --state "$S" "${Q2[@]}" --clock 2026-04-03T08:00:00Z
check "... the log is the same log, not closed" test "$(genesis_id "$LOG")" = "$old" -a ! -e "$CD"
check "... what it held is there byte for byte" cmp -s -n "$(stat -c %s "$T/log.before")" "$T/log.before" "$LOG"
check "... only the failed activation added (share.open x2, quorum.combine fail)" \
	test "$(events "$LOG" "$n0")" = "share.open share.open quorum.combine " -a "$(tail -1 "$LOG" | cut -f4)" = fail
check "... no audit.close anywhere" test "$(grep -c '	audit\.close	' "$LOG" || true)" = 0
check "... no new log begun" test ! -e "$LOG.next" -a ! -e "$LOG.next.head"
ok "... the log verifies" "$OFF" audit verify --state "$S"

# 2. The close with the quorum.
n1=$(wc -l <"$LOG")
cp -p "$LOG" "$T/log.before"; cp -p "$LOG.head" "$T/log.before.head"
ok "audit close with three shares" "$OFF" audit close --state "$S" "${Q[@]}" --clock 2026-04-03T09:00:00Z
cp "$HANKO_TMP/out" "$T/close.out"
CL=$CD/audit-$old-20260403.log
check "the closed log is $CL with its head file, both 0400" \
	test "$(stat -c %a "$CL" "$CL.head" 2>/dev/null | tr '\n' ' ')" = "400 400 "
check "... it holds the year's records byte for byte" cmp -s -n "$(stat -c %s "$T/log.before")" "$T/log.before" "$CL"
check "... then the activation, audit.close and its checkpoint, the last record" \
	test "$(events "$CL" "$n1")" = "share.open share.open share.open quorum.combine token.login audit.close audit.checkpoint "
check "... the login by the three holders" test "$(field "$CL" $((n1 + 4)) 4-5)" = "ok	yamada,sato,suzuki"
check "... audit.close by the holders, naming the log" \
	test "$(field "$CL" $((n1 + 5)) 3-6)" = "audit.close	ok	yamada,sato,suzuki	log-id=$old"
lastseq=$((n1 + 6))
lasthash=$(tail -1 "$CL" | cut -f8)
ok "... the closed log verifies on its own with the audit key" "$OFF" audit verify --log "$CL" --key "$KEY"
check "... said closed and sealed" grep -q "closed: record $((n1 + 5)) is audit.close (2026-04-03T09:00:00Z), sealed by the checkpoint after it" "$HANKO_TMP/out"
new=$(genesis_id "$LOG")
check "a new live log with another id" test -n "$new" -a "$new" != "$old"
check "... record 1 the link to the closed log's last record" \
	test "$(field "$LOG" 1 3-6)" = "audit.link	ok	-	previous-log-id=$old previous-seq=$lastseq previous-hash=$lasthash"
check "... then its checkpoint, nothing else (the logout is not a record)" \
	test "$(events "$LOG" 0)" = "audit.create audit.link audit.checkpoint "
check "... no .next left" test ! -e "$LOG.next" -a ! -e "$LOG.next.head"
check "said: the closed log, its last record and where it is" \
	grep -q "^Closed log $old at record $lastseq hash $lasthash: $CL " "$T/close.out"
check "... the new log" grep -q "^New log $new: $LOG, its record 1" "$T/close.out"
check "... the link checked" grep -q "the closed log $CL: OK: $((lastseq + 1)) records (signatures verified).*the link matches" "$T/close.out"

# 3. audit verify of the new log, with and without --previous.
ok "audit verify --state" "$OFF" audit verify --state "$S"
check "... reports the link" grep -q "begins after log $old (closed): the link names its record $lastseq hash $lasthash" "$HANKO_TMP/out"
check "... and checks it against audit/closed/" grep -q "the closed log $CL: OK.*the link matches its last record" "$HANKO_TMP/out"
ok "audit verify --state --previous the closed log" "$OFF" audit verify --state "$S" --previous "$CL"
check "... checks that one" grep -q "the closed log $CL: OK.*the link matches" "$HANKO_TMP/out"
cp -p "$LOG" "$T/new.copy"; cp -p "$LOG.head" "$T/new.copy.head"
ok "audit verify --log (a copy) --key --previous" "$OFF" audit verify --log "$T/new.copy" --key "$KEY" --previous "$CL"
check "... checks the link" grep -q "the closed log $CL: OK.*the link matches" "$HANKO_TMP/out"
fails "--previous the log as it was before the close (not closed): refused" 6 "does not end with audit.close and its checkpoint: not a closed log" \
	"$OFF" audit verify --state "$S" --previous "$USB/audit-20260402T100000Z/audit.log"
fails "--previous a file not there: refused" 3 "nothere" \
	"$OFF" audit verify --state "$S" --previous "$T/nothere"
ok "status after the close: the audit log intact" "$OFF" status --state "$S"
check "... said" grep -q "^  audit log:     .* records, chain intact;" "$HANKO_TMP/out"
# The live log put back after the close (its copy from before it, with its
# head file: a sound shorter chain): audit verify refuses it and says
# nothing OK; status says what audit verify says, never intact.
cp -p "$LOG" "$T/live.kept"; cp -p "$LOG.head" "$T/live.kept.head"
cp "$T/log.before" "$LOG"; cp "$T/log.before.head" "$LOG.head"
fails "the live log put back after its close: audit verify refuses it" 6 "log $old was closed already" \
	"$OFF" audit verify --state "$S"
check "... nothing said OK" bash -c "! grep -q 'OK' '$HANKO_TMP/out'"
fails "... status: the same finding, exit 6" 6 "log $old was closed already" "$OFF" status --state "$S"
check "... said FAILS VERIFICATION, naming the closed log" \
	grep -q "^  audit log:     FAILS VERIFICATION: .*log $old was closed already (.*closed/audit-$old-20260403.log), but this log is not" "$HANKO_TMP/out"
check "... never 'chain intact'" bash -c "! grep -q 'chain intact' '$HANKO_TMP/out'"
cp -p "$T/live.kept" "$LOG"; cp -p "$T/live.kept.head" "$LOG.head"

# 4. An audited command after the close lands in the new log.
sha_cl=$(sha256sum <"$CL")
n2=$(wc -l <"$LOG")
ok "activate after the close" "$OFF" activate --state "$S" "${Q[@]}" --clock 2026-04-03T10:00:00Z
check "... its records in the new log, under a checkpoint" \
	test "$(events "$LOG" "$n2")" = "share.open share.open share.open quorum.combine token.login quorum.activate-check audit.checkpoint "
check "... the closed log unchanged" test "$(sha256sum <"$CL")" = "$sha_cl"
ok "... the new log verifies with the link" "$OFF" audit verify --state "$S"
check "... link checked" grep -q "the closed log $CL: OK" "$HANKO_TMP/out"

# 5. audit backup after the close: a new log, said, not refused.
ok "audit backup after the close" "$OFF" audit backup --state "$S" --out "$USB" --clock 2026-04-03T11:00:00Z
check "... says it begins a new log" \
	grep -q "begins a new log: the previous backup $USB/audit-20260402T100000Z/audit.log is of log $old, this one of log $new" "$HANKO_TMP/out"
check "... and that the closed log extends that backup, compared" \
	grep -q "(the closed log $CL extends the previous backup byte for byte;" "$HANKO_TMP/out"
check "... its log.backup record says so too" bash -c "tail -1 '$LOG' | cut -f3,6 | grep -q '^log.backup	.*begins a new log'"
# ... and it carries the closed log the new log links to, with its head
# file, in closed/: the close's own records (audit.close, its checkpoint)
# reach the medium (docs/audit-log.md "Backup" 4).
B5=$USB/audit-20260403T110000Z
check "... the closed log and its head file in the backup's closed/, byte for byte" \
	cmp -s "$CL" "$B5/closed/audit-$old-20260403.log"
check "... its head file too" cmp -s "$CL.head" "$B5/closed/audit-$old-20260403.log.head"
check "... nothing else in closed/" test "$(ls -A "$B5/closed" | tr '\n' ' ')" = "audit-$old-20260403.log audit-$old-20260403.log.head "
check "... the copy ends with audit.close and its checkpoint" \
	test "$(tail -2 "$B5/closed/audit-$old-20260403.log" | cut -f3 | tr '\n' ' ')" = "audit.close audit.checkpoint "
check "... said" grep -q "^Closed log $old: $B5/closed/audit-$old-20260403.log up to record $lastseq (audit.close at record $((lastseq - 1)), its checkpoint last).*read back, verified, the link matches" "$HANKO_TMP/out"
check "... the log.backup record names it with its SHA-256" bash -c "tail -1 '$LOG' | cut -f6 | grep -qF 'closed log $old carried as $B5/closed/audit-$old-20260403.log: SHA-256 $(sha256sum <"$CL" | cut -c1-64), $(stat -c %s "$CL") bytes, up to record $lastseq hash $lasthash'"
ok "... the backup folder alone verifies, the link checked against its own closed/" \
	"$OFF" audit verify --log "$B5/audit.log" --key "$KEY"
check "... against the copy" grep -q "the closed log $B5/closed/audit-$old-20260403.log: OK.*the link matches" "$HANKO_TMP/out"
ok "a later backup carries it again (each backup folder stands alone)" \
	"$OFF" audit backup --state "$S" --out "$USB" --clock 2026-04-03T11:30:00Z
check "... byte for byte" cmp -s "$CL" "$USB/audit-20260403T113000Z/closed/audit-$old-20260403.log"
check "... it extends the previous backup of the new log" grep -q "^It extends the previous backup $B5/audit.log" "$HANKO_TMP/out"
# a closed log missing within its year: refused, nothing on the medium;
# after its year: the backup is made without it, said
mv "$CL" "$T/cl.away"; mv "$CL.head" "$T/cl.away.head"
nusb=$(ls -A "$USB" | wc -l)
fails "the closed log missing within its year: refused, named" 6 \
	"the closed log $old it links to is missing .*keeps it until 2027-04-03.*no backup made" \
	"$OFF" audit backup --state "$S" --out "$USB" --clock 2026-04-03T11:40:00Z
check "... nothing on the medium" test "$(ls -A "$USB" | wc -l)" = "$nusb"
check "... recorded as log.backup fail" bash -c "tail -1 '$LOG' | cut -f3,4 | grep -q '^log.backup	fail$'"
ok "after its year the backup is made without it" \
	"$OFF" audit backup --state "$S" --out "$USB/after-its-year" --clock 2027-04-04T00:00:00Z
check "... said" grep -q "^Closed log $old: no longer kept (CPS 4-11-4 kept it until 2027-04-03" "$HANKO_TMP/out"
check "... no closed/ in it" test ! -e "$USB/after-its-year/closed"
rm -rf "$USB/after-its-year"
mv "$T/cl.away" "$CL"; mv "$T/cl.away.head" "$CL.head"
# a closed log changed: refused, nothing on the medium
chmod 600 "$CL"; cp -p "$CL" "$T/cl.kept"
sed -i '3s/	ok	/	fail	/' "$CL"
fails "the closed log changed: refused, named" 6 "closed/audit-$old-20260403.log:3: record 2: .*no backup made" \
	"$OFF" audit backup --state "$S" --out "$USB" --clock 2026-04-03T11:50:00Z
check "... nothing on the medium" test "$(ls -A "$USB" | wc -l)" = "$nusb"
fails "audit verify --state with the closed log changed: exit 6, named" 6 "closed/audit-$old-20260403.log:3: record 2: " \
	"$OFF" audit verify --state "$S"
check "... stdout says no OK of the live log" bash -c "! grep -q '^$LOG: OK' '$HANKO_TMP/out'"
check "... the live log's line says the run fails" \
	grep -q "^$LOG: FAILS: the closed log before it does not verify (below); the live log's own chain: [0-9]* records" "$HANKO_TMP/out"
check "... its log.verify record is a fail naming it" bash -c "tail -1 '$LOG' | cut -f3,4,6 | grep -q '^log.verify	fail	.*record 2: '"
fails "... status: not intact, the closed log named, exit 6" 6 "closed/audit-$old-20260403.log:3: record 2: " \
	"$OFF" status --state "$S"
check "... said FAILS VERIFICATION" grep -q "^  audit log:     FAILS VERIFICATION: .*record 2: " "$HANKO_TMP/out"
cp -p "$T/cl.kept" "$CL"; chmod 400 "$CL"

# 6. A close killed after its seal is finished by the next audit close,
# without the token; the activation then goes into the new log, which is
# checkpointed.
cc -shared -fPIC -o "$T/crashat.so" "$HANKO_SRC/test/data/audit/crashat.c" -ldl
day=4
crash() {	# crash PATTERN WHEN SKIP: an audit close killed there (exit 99)
	local rc=0
	env HK_CRASH_AT="$1" HK_CRASH_WHEN="$2" HK_CRASH_SKIP="$3" LD_PRELOAD="$T/crashat.so" \
		ASAN_OPTIONS="$ASAN_PRELOAD" "$OFF" audit close --state "$S" "${Q[@]}" \
		--clock "2026-04-$(printf %02d $day)T09:00:00Z" >"$T/crash.out" 2>&1 || rc=$?
	[ "$rc" = 99 ]
}
# the activation writes the head file 5 times (3 x share.open,
# quorum.combine, token.login): the 6th is the seal's
round() {	# round NAME PATTERN SKIP WANT
	local name=$1 cur n kept d
	cur=$(genesis_id "$LOG")
	d=2026-04-$(printf %02d $day)
	check "$name: the close was killed there" crash "$2" after "$3"
	case $4 in
	old-closed)
		check "$name: the old log is live and sealed" test "$(genesis_id "$LOG")" = "$cur" -a \
			"$(tail -2 "$LOG" | cut -f3 | tr '\n' ' ')" = "audit.close audit.checkpoint " ;;
	new-nohead)
		check "$name: the new log is live, its head file not yet" test "$(genesis_id "$LOG")" != "$cur" -a \
			-e "$LOG.next.head" ;;
	esac
	# what the closed log must be: the old log as the crash left it
	if [ "$4" = old-closed ]; then kept=$(sha256sum <"$LOG"); else
		kept=$(sha256sum <"$(ls "$CD"/audit-"$cur"-*.log)"); fi
	ok "$name: audit close again finishes it" "$OFF" audit close --state "$S" "${Q[@]}" --clock "${d}T10:00:00Z"
	check "$name: ... said" grep -q "^A close that stopped part-way is finished." "$HANKO_TMP/out"
	CLc=$(ls "$CD"/audit-"$cur"-*.log)
	check "$name: ... the closed log is the log as sealed, byte for byte (the second run's activation is not in it)" \
		test "$(sha256sum <"$CLc")" = "$kept" -a "$(tail -2 "$CLc" | cut -f3 | tr '\n' ' ')" = "audit.close audit.checkpoint "
	check "$name: ... the new log: the link, the activation, then a checkpoint over it" \
		bash -c "[[ '$(events "$LOG" 1)' == 'audit.link '*'share.open share.open share.open quorum.combine token.login audit.checkpoint ' ]]"
	check "$name: ... nothing left of the close's work" test ! -e "$LOG.next" -a ! -e "$LOG.next.head"
	ok "$name: ... audit verify checks the link" "$OFF" audit verify --state "$S"
	check "$name: ... against the closed log" grep -q "the closed log $CLc: OK.*the link matches" "$HANKO_TMP/out"
	check "$name: ... the new log's records are all under a checkpoint" \
		grep -q "; 0 records after it" "$HANKO_TMP/out"
	day=$((day + 1))
}
round "after the seal" "*>*/audit/audit.log.head" 5 old-closed
round "after the closed log's link" "*>*/closed/*.log" 0 old-closed
round "after the new log's rename" "*audit.log.next>*/audit/audit.log" 0 new-nohead

# 7. Killed after the seal, then run again with too few shares: the close
# is finished (the token is not needed for that), the quorum refused; the
# operator is told the close is done and to sign the new log with
# activate, not to run audit close again (that would close the new log).
cur=$(genesis_id "$LOG")
check "killed after the seal once more" crash "*>*/audit/audit.log.head" after 5
d=2026-04-$(printf %02d $day)
fails "audit close with two shares: the close finished, the quorum refused, activate named" 4 \
	"2 of the 3 shares needed.*the close is finished.*hanko-offline activate --state $S" \
	"$OFF" audit close --state "$S" "${Q2[@]}" --clock "${d}T10:00:00Z"
check "... said on stdout" grep -q "^A close that stopped part-way is finished." "$HANKO_TMP/out"
new=$(genesis_id "$LOG")
check "... the new log is live" test "$new" != "$cur" -a "$(field "$LOG" 1 3)" = audit.link
ok "... audit verify checks the link" "$OFF" audit verify --state "$S"
ok "activate then signs the new log" "$OFF" activate --state "$S" "${Q[@]}" --clock "${d}T11:00:00Z"
check "... its last record a checkpoint, the log the same" test "$(tail -1 "$LOG" | cut -f3)" = audit.checkpoint -a "$(genesis_id "$LOG")" = "$new"
check "one closed log per close" test "$(ls "$CD"/*.log | wc -l)" = 5

# 9. Records removed from the end of the log (the head file made to match)
# after its last backup and before the close: the close seals what is left,
# and the next audit backup, of the new log, must still compare the
# previous backup with the closed log (docs/audit-log.md "Backup" 3).
make_ca "$T/ca2"
S2=$T/ca2/state
LOG2=$S2/audit/audit.log
USB2=$T/usb2
mkdir "$USB2"
mapfile -t R < <(share_args "$T/ca2" 1 2 3)
ok "another CA: activate" "$OFF" activate --state "$S2" "${R[@]}" --clock 2026-04-02T09:00:00Z
ok "... audit backup" "$OFF" audit backup --state "$S2" --out "$USB2" --clock 2026-04-02T10:00:00Z
ok "... activate again (its records after the backup)" "$OFF" activate --state "$S2" "${R[@]}" --clock 2026-04-02T11:00:00Z
cp -p "$LOG2" "$T/log2.kept"; cp -p "$LOG2.head" "$T/head2.kept"
# cut back to the record before the backup's last (log.backup ok), and the
# head file to name it: audit verify cannot see it (docs/audit-log.md)
nb=$(wc -l <"$USB2"/audit-20260402T100000Z/audit.log)
head -n $((nb - 1)) "$T/log2.kept" >"$LOG2"
printf 'hanko-audit-head-1 log-id=%s seq=%d hash=%s\n' "$(genesis_id "$LOG2")" $((nb - 2)) \
	"$(tail -1 "$LOG2" | cut -f8)" >"$LOG2.head"
ok "... the cut log passes audit verify" "$OFF" audit verify --log "$LOG2" --key "$S2/audit/audit-key.pem"
old2=$(genesis_id "$LOG2")
ok "... audit close seals what is left" "$OFF" audit close --state "$S2" "${R[@]}" --clock 2026-04-03T09:00:00Z
fails "audit backup after the close: the closed log does not extend the previous backup: refused, named" 6 \
	"closed/audit-$old2-20260403.log: does not extend the previous backup $USB2/audit-20260402T100000Z/audit.log: record $((nb - 1)) \(line $nb\) differs" \
	"$OFF" audit backup --state "$S2" --out "$USB2" --clock 2026-04-03T11:00:00Z
check "... no backup made" test "$(ls "$USB2" | wc -l)" = 1

# 8. The options: parsed into a cleared structure (valgrind, when there
# and the build is not ASan's: an uninitialised --state read is an error).
# ldd's whole output is read first: grep -q quitting at the match could
# end ldd by SIGPIPE, and under pipefail that read as "not ASan's".
if command -v valgrind >/dev/null && ! grep -q libasan <<<"$(ldd "$OFF")"; then
	fails "audit close without --state (valgrind: no uninitialised read)" 2 "audit close: --state DIR is required" \
		valgrind -q --error-exitcode=97 --log-file="$T/vg.log" "$OFF" audit close --clock 2026-04-20T00:00:00Z
	check "... valgrind quiet" test ! -s "$T/vg.log"
else
	echo "ok - audit close without --state: valgrind check skipped (no valgrind, or an ASan build)"
fi
finish

#!/usr/bin/env bash
# t_audit_backup.sh - hanko-offline audit backup (CPS 4-11-5, 4-11-6;
# docs/audit-log.md "Backup"): the log and its head copied under the log's
# lock into a new folder on the medium, verified with the audit key, checked
# to extend the previous backup byte for byte, recorded as log.backup after
# it is in place. A log truncated or rewritten since the previous backup (in
# a way audit verify cannot see) is refused, naming both files and the
# first record that differs; a damaged previous backup or copy is found; a
# new log is said, not refused; failures and an existing --out leave
# nothing.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
make_ca "$T/ca"
S=$T/ca/state
LOG=$S/audit/audit.log
KEY=$S/audit/audit-key.pem
USB=$T/usb
EDIT="python3 $HANKO_SRC/test/data/audit/edit.py"
ASAN_PRELOAD="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
mkdir "$USB"
bk() { "$OFF" audit backup --state "$S" "$@"; }
last() { tail -1 "$LOG" | cut -f3-6; }
# unchanged: the medium holds exactly what it held (names and bytes)
medium_was() { MED=$(tree_digest "$USB"); }
medium_same() { [ "$(tree_digest "$USB")" = "$MED" ]; }
# save / restore the live log around an edit
save_log() { cp -p "$LOG" "$T/log.saved"; cp -p "$LOG.head" "$T/head.saved"; }
restore_log() { cp -p "$T/log.saved" "$LOG"; cp -p "$T/head.saved" "$LOG.head"; }

# 1. The first backup: a folder on the medium named for the time.
ok "the first backup" bk --out "$USB" --clock 2026-04-02T09:00:00Z
B1=$USB/audit-20260402T090000Z
check "... made as $B1 with audit.log and its head, nothing else" \
	test "$(ls -A "$B1" | tr '\n' ' ')" = "audit.log audit.log.head "
check "... both 0600" test "$(stat -c %a "$B1/audit.log" "$B1/audit.log.head" | tr '\n' ' ')" = "600 600 "
check "... nothing else on the medium (no temporary folder)" test "$(ls -A "$USB")" = audit-20260402T090000Z
check "... said to be the first backup of this log" grep -q "^It is the first backup of log [0-9a-f]\{32\} on $USB$" "$T/out"
ok "... the copy verifies on its own with the audit key" \
	"$OFF" audit verify --log "$B1/audit.log" --key "$KEY"
check "... the live log begins with it byte for byte (cmp)" \
	cmp -s -n "$(stat -c%s "$B1/audit.log")" "$B1/audit.log" "$LOG"
check "... the live log has one record more: log.backup" \
	test $(($(wc -l <"$LOG") - $(wc -l <"$B1/audit.log"))) = 1
SHA1=$(sha256sum <"$B1/audit.log" | cut -d' ' -f1)
SEQ1=$(sed -n 's/.* seq=\([0-9]*\) .*/\1/p' "$B1/audit.log.head")
check "log.backup ok names the copy, its SHA-256 and head seq $SEQ1" \
	bash -c "last=\$(tail -1 '$LOG' | cut -f3-6); [[ \"\$last\" == 'log.backup	ok	-	$B1/audit.log: SHA-256 $SHA1, '*'head seq $SEQ1 '*'it is the first backup'* ]]"

# 2. The next one extends it.
ok "the second backup" bk --out "$USB" --clock 2026-04-03T09:00:00Z
B2=$USB/audit-20260403T090000Z
check "... extends the first, named, with the record count since" \
	grep -q "^It extends the previous backup $B1/audit.log (up to record $SEQ1) byte for byte, 1 record since$" "$T/out"
check "... the hand check agrees: cmp -n of the first against the second" \
	cmp -s -n "$(stat -c%s "$B1/audit.log")" "$B1/audit.log" "$B2/audit.log"
check "... its log.backup record says so" \
	bash -c "tail -1 '$LOG' | grep -q '	log.backup	ok	-	$B2/audit.log: .*it extends the previous backup $B1/audit.log'"
# --out a new folder: made exactly there, compared with the newest backup
# on its medium (the highest head seq, not the latest name: B2's clock is
# later than B3's).
ok "a backup to a folder named by the operator" bk --out "$USB/monthly-2026-04" --clock 2026-04-01T12:00:00Z
B3=$USB/monthly-2026-04
check "... compared with the newest backup of the log on the medium, $B2" \
	grep -q "^It extends the previous backup $B2/audit.log " "$T/out"
check "... the copy is there" test -f "$B3/audit.log" -a -f "$B3/audit.log.head"

# 3. An existing --out is refused; nothing changes.
medium_was
LOGSUM=$(sha256sum <"$LOG")
fails "--out an existing backup folder is refused" 7 \
	"--out $B3: already exists and holds audit.log; a backup is made new, never over anything" \
	bk --out "$B3"
touch "$T/file"
fails "--out an existing file is refused" 7 "--out $T/file: already exists and is not a folder" \
	bk --out "$T/file"
fails "a backup whose name is taken on the medium is refused" 7 \
	"$B1: already exists; a backup is made new, never over anything" \
	bk --out "$USB" --clock 2026-04-02T09:00:00Z
check "... the medium is as it was" medium_same
check "... each refusal is recorded as log.backup fail" \
	test "$(grep -c '	log.backup	fail	-	backup to .*never over anything; nothing kept	' "$LOG")" = 3
fails "a medium inside the state folder is refused" 3 "inside the state folder" \
	bk --out "$S/certs"
fails "a medium that does not exist" 3 "--out $T/nope/x: the folder that should hold the backup" \
	bk --out "$T/nope/x"
fails "--out under a regular file: refused as a missing folder is" 3 \
	"--out $T/file/x: the folder that should hold the backup, $T/file: not a folder" \
	bk --out "$T/file/x"
fails "--out two levels under a regular file" 3 \
	"--out $T/file/x/y: the folder that should hold the backup, $T/file/x: Not a directory" \
	bk --out "$T/file/x/y"
fails "--out is required" 2 "--state DIR and --out MEDIUM are required" bk
check "no backup record for the refusals" test "$(grep -c '	log.backup	ok	' "$LOG")" = 3

# 4. Records removed from the end of the live log and the head file made
# to match: audit verify cannot see it (docs/audit-log.md); the backup does.
save_log
N=$(($(wc -l <"$LOG") - $(wc -l <"$B3/audit.log") + 2))
$EDIT truncate "$LOG" "$N"
ok "the truncated log still passes audit verify" "$OFF" audit verify --log "$LOG" --key "$KEY"
medium_was
L3=$(wc -l <"$B3/audit.log")
fails "a truncated live log is refused against the previous backup" 6 \
	"^hanko-offline audit: $LOG: does not extend the previous backup $B3/audit.log: record $((L3 - 2)) \(line $((L3 - 1))\) is missing: the log ends at record $((L3 - 3)), the backup at record $((L3 - 1)): records were removed since" \
	bk --out "$USB" --clock 2026-04-04T09:00:00Z
check "... nothing left on the medium" medium_same
check "... recorded as log.backup fail naming both files" \
	bash -c "tail -1 '$LOG' | grep -q '	log.backup	fail	-	backup to $USB/audit-20260404T090000Z: $LOG: does not extend the previous backup $B3/audit.log: record'"
restore_log

# 5. A record after the last checkpoint rewritten, the chain recomputed:
# audit verify cannot see it either; the backup names the record.
save_log
K=$(($(wc -l <"$B3/audit.log") - 2))
$EDIT rewrite "$LOG" "$K"
ok "the rewritten log still passes audit verify" "$OFF" audit verify --log "$LOG" --key "$KEY"
fails "a rewritten live log is refused against the previous backup" 6 \
	"^hanko-offline audit: $LOG: does not extend the previous backup $B3/audit.log: record $K \(line $((K + 1))\) differs from the backup's: records were changed since" \
	bk --out "$USB" --clock 2026-04-04T09:00:00Z
check "... nothing left on the medium" medium_same
restore_log
# ... and a rewrite before a checkpoint is found by the copy's verification
save_log
$EDIT rewrite "$LOG" 3
fails "a log rewritten under a checkpoint is refused: the live log does not verify" 6 \
	"$LOG: the live log does not verify: .*record 11: .*no backup made" \
	bk --out "$USB" --clock 2026-04-04T09:00:00Z
check "... nothing left on the medium" medium_same
restore_log

# 6. A damaged backup on the medium is found; --previous names an earlier.
cp -p "$B3/audit.log" "$T/b3.saved"
flip_byte "$B3/audit.log" $(($(head -4 "$B3/audit.log" | wc -c) + 10))
medium_was
fails "a damaged previous backup is found and named" 6 \
	"$B3/audit.log: the previous backup does not verify: $B3/audit.log:5: record 4: " \
	bk --out "$USB" --clock 2026-04-04T09:00:00Z
check "... nothing left on the medium" medium_same
ok "--previous an earlier backup that verifies" \
	bk --out "$USB" --clock 2026-04-04T09:00:00Z --previous "$B2"
check "... compared with it" grep -q "^It extends the previous backup $B2/audit.log " "$T/out"
B4=$USB/audit-20260404T090000Z
rm -rf "$B3"	# to the internal auditor
printf 'not a head\n' >"$T/h.saved"; mkdir "$USB/odd"; cp "$B4/audit.log" "$USB/odd/"; cp "$T/h.saved" "$USB/odd/audit.log.head"
medium_was
fails "a backup on the medium whose head file is damaged is refused" 6 \
	"$USB/odd: a backup on the medium whose head file cannot be read \(.*not an audit log head file\)" \
	bk --out "$USB" --clock 2026-04-05T09:00:00Z
check "... nothing left on the medium" medium_same
rm -rf "$USB/odd"

# 7. A copy damaged on its way to the medium (each write of the copy's
# temporary file inverts its first byte): found, nothing kept.
cc -shared -fPIC -o "$T/corruptwrite.so" "$HANKO_SRC/test/data/audit/corruptwrite.c" -ldl
medium_was
fails "a copy the medium does not keep as written is found" 8 \
	"$USB/audit-20260405T090000Z: audit.log read back from the medium is not what was written \(.*, other bytes\): the medium is faulty; no backup kept" \
	env HK_CORRUPT_WRITE_PREFIX=audit.log.tmp- LD_PRELOAD="$T/corruptwrite.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$OFF" audit backup --state "$S" --out "$USB" --clock 2026-04-05T09:00:00Z
check "... nothing left on the medium" medium_same
check "... recorded as log.backup fail" bash -c "tail -1 '$LOG' | grep -q '	log.backup	fail	-	.*the medium is faulty; no backup kept; nothing kept'"

# 8. Failures at a read, the rename into place, the fsync after it and the
# record: nothing is left, nothing recorded as made.
cc -shared -fPIC -o "$T/failread.so" "$HANKO_SRC/test/data/custody/failread.c" -ldl
cc -shared -fPIC -o "$T/failrename.so" "$HANKO_SRC/test/data/issuance/failrename.c" -ldl
cc -shared -fPIC -o "$T/failfsync.so" "$HANKO_SRC/test/data/init/failfsync.c" -ldl
OKS=$(grep -c '	log.backup	ok	' "$LOG")
fails "a copy that cannot be read back" 8 "audit.log: cannot read: Input/output error" \
	env HK_FAIL_READ_NAME=audit.log LD_PRELOAD="$T/failread.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$OFF" audit backup --state "$S" --out "$USB" --clock 2026-04-05T09:00:00Z
check "... nothing left on the medium" medium_same
fails "a backup that cannot be renamed into place" 8 "cannot move the backup into place" \
	env HK_FAIL_RENAME=audit-20260405 LD_PRELOAD="$T/failrename.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$OFF" audit backup --state "$S" --out "$USB" --clock 2026-04-05T09:00:00Z
check "... nothing left on the medium" medium_same
fails "a backup whose medium folder cannot be fsynced" 8 \
	"could not be fsynced \(Input/output error\): the backup was removed again, none kept" \
	env HK_FAIL_FSYNC_DIR="$(realpath "$USB")" LD_PRELOAD="$T/failfsync.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$OFF" audit backup --state "$S" --out "$USB" --clock 2026-04-05T09:00:00Z
check "... nothing left on the medium" medium_same
fails "a backup whose log.backup record cannot be appended" 6 \
	"audit record log.backup ok not written: .*HANKO_FAIL_AUDIT_AT.*; the backup $USB/audit-20260405T090000Z was removed again, none kept" \
	env HANKO_FAIL_AUDIT_AT=log.backup "$OFF" audit backup --state "$S" --out "$USB" --clock 2026-04-05T09:00:00Z
check "... nothing left on the medium" medium_same
check "... no backup recorded as made by any of them" test "$(grep -c '	log.backup	ok	' "$LOG")" = "$OKS"
ok "the live log verifies after all of it" "$OFF" audit verify --state "$S"
ok "the next backup is made" bk --out "$USB" --clock 2026-04-05T09:00:00Z
check "... it extends the last one made" grep -q "^It extends the previous backup $B4/audit.log " "$T/out"

# 9. A new log (the yearly close: the old one archived, a new log id): said,
# not refused; the next backup compares with the new log's.
mkdir "$T/archive"
mv "$LOG" "$LOG.head" "$T/archive/"
$EDIT new "$LOG" 2027-04-01T00:00:00Z
ok "the first backup of a new log" bk --out "$USB" --clock 2027-04-01T09:00:00Z
check "... said: a new log, the previous backup of another log id, not compared" \
	grep -Eq "^It begins a new log: the previous backup $USB/audit-[0-9T]+Z/audit.log is of log [0-9a-f]{32}, this one of log [0-9a-f]{32} \(not compared" "$T/out"
ok "the next backup of the new log" bk --out "$USB" --clock 2027-04-02T09:00:00Z
check "... extends the new log's first" \
	grep -q "^It extends the previous backup $USB/audit-20270401T090000Z/audit.log " "$T/out"
ok "--previous a backup of the old log: a new log, not refused" \
	bk --out "$USB" --clock 2027-04-03T09:00:00Z --previous "$B4"
check "... said so" grep -q "^It begins a new log: the previous backup $B4/audit.log is of log" "$T/out"

# The medium is exFAT mounted through FUSE (exfat-fuse): no rename flags
# (renameat2 RENAME_NOREPLACE: EINVAL), a chmod taken and ignored; the shim
# test/data/media/fatlike.c makes $USB so. The backup folder is moved into
# place all the same (it was refused, "cannot move the backup into place:
# Invalid argument").
cc -shared -fPIC -o "$T/fatlike.so" "$HANKO_SRC/test/data/media/fatlike.c" -ldl
ok "a backup onto exFAT through FUSE" env HK_FATLIKE_PREFIX="$USB" HK_FATLIKE_CHMOD=pass \
	HK_FATLIKE_TRACE="$T/fat.trace" LD_PRELOAD="$T/fatlike.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$OFF" audit backup --state "$S" --out "$USB" --clock 2027-04-04T09:00:00Z
check "... the medium refused the flag (the shim at work); the copy verifies" bash -c \
	"grep -q '^renameat2 ' '$T/fat.trace' && '$OFF' audit verify --log '$USB/audit-20270404T090000Z/audit.log' --key '$KEY' >/dev/null"
finish

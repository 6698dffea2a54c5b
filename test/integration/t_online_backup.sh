#!/usr/bin/env bash
# t_online_backup.sh - "hanko-online backup" and "backup verify" (CPS 4-11-6,
# 4-12-2-4, 4-14-1; docs/backup.md):
#   a backup taken while an issue batch runs (SQLite's copy held open while
#   the batch commits past it) is the store as one commit left it: verify
#   passes, its integrity_check is ok, it holds exactly what was committed
#   when its copy began, every valid row's certificate verifies, and
#   restored it passes check and the batch resumes on it;
#   the token, secrets/, crlcache/ and locks are not in it; MANIFEST.sig
#   verifies with openssl; backup.create names the MANIFEST's SHA-256;
#   any byte changed in any file, an extra or a missing file or folder is
#   found and named; a backup of another state is named;
#   a failure (a read error midway, the rename, the fsync after it, the
#   backup.create record) leaves nothing, and records no backup;
#   a restore by docs/backup.md passes check, publish runs on it, the live
#   audit log kept (extending the backup's) and the stale -wal/-shm of the
#   damaged store never beside the restored one.
. "$(dirname "$0")/online.sh"
BK=$T/backups
mkdir -p "$BK"
log=$O/audit/audit.log
ASAN_PRELOAD=verify_asan_link_order=0
count() { grep -c "	$1	" "$log" || true; }
# no backup folder and no temporary one left in BK but those named
left() { (cd "$BK" && ls -A) | tr '\n' ' '; }
# the rows of a store, by status
rows() { sqlite3 -cmd ".timeout 10000" "$1" "SELECT count(*) FROM certificates WHERE status = '$2'"; }

# ---- a backup while an issue batch runs --------------------------------
# 1,500 distinct residents over the six valid.csv samples' names and the
# five sample keys (the validator accepts one key for several residents).
N=1500
mkdir -p "$T/b"
cp -r "$REQ/keys" "$T/b/"
many_residents "$N" 71000000000 >"$T/b/batch.csv"
cc -shared -fPIC -o "$T/pausewrite.so" "$HANKO_SRC/test/data/online/pausewrite.c" -ldl
valid() { rows "$O/store.db" valid; }
# issue held inside a write of the store's -wal some chunks into the batch
# (a transaction under way: nothing of it committed, readers go on)
rm -f "$T/iw.reached" "$T/iw.go"
env HK_PAUSE_WRITE="$T/iw" HK_PAUSE_WRITE_PATH="*/online/store.db-wal" HK_PAUSE_WRITE_SKIP=300 \
	LD_PRELOAD="$T/pausewrite.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$ON" issue --state "$O" "${IC[@]}" --chunk 32 --batch "$T/b/batch.csv" --out "$T/issued" \
	>"$T/issue.out" 2>&1 &
ipid=$!
for _ in $(seq 6000); do [ -e "$T/iw.reached" ] && break; sleep 0.02; done
check "issue is held part-way through its batch" test -e "$T/iw.reached"
AT_HOLD=$(valid)
PENDING_AT_HOLD=$(rows "$O/store.db" pending)
check "... with some of the $N certificates valid ($AT_HOLD), not all" test "$AT_HOLD" -gt 0 -a "$AT_HOLD" -lt "$N"
# The backup held at its first write of the copy of the store (inside
# SQLite's backup step: its read transaction open); issue goes on and ends
# meanwhile; then the copy goes on.
rm -f "$T/pw.reached" "$T/pw.go"
env HK_PAUSE_WRITE="$T/pw" HK_PAUSE_WRITE_PATH="*/run1.backup-*/store.db" \
	LD_PRELOAD="$T/pausewrite.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$ON" backup --state "$O" --out "$BK/run1" "${IC[@]}" >"$T/b1.out" 2>"$T/b1.err" &
bpid=$!
for _ in $(seq 6000); do [ -e "$T/pw.reached" ] && break; sleep 0.02; done
check "the backup is inside its copy of the store" test -e "$T/pw.reached"
touch "$T/iw.go"
irc=0; wait "$ipid" || irc=$?
check "issue ran to its end meanwhile (exit $irc)" test "$irc" = 0
check "... all $N certificates valid in the live store" test "$(valid)" = "$N"
touch "$T/pw.go"
brc=0; wait "$bpid" || brc=$?
check "the backup taken during the batch succeeded (exit $brc)" test "$brc" = 0
cat "$T/b1.err" >&2
ok "backup verify: the backup taken during the batch" "$ON" backup verify "$BK/run1" --state "$O"
check "... its store.db: integrity_check ok" test "$(sqlite3 "file:$BK/run1/store.db?immutable=1" 'PRAGMA integrity_check')" = ok
check "... it holds the $AT_HOLD certificates valid when its copy began, not the $N of the end" \
	test "$(sqlite3 "file:$BK/run1/store.db?immutable=1" "SELECT count(*) FROM certificates WHERE status = 'valid'")" = "$AT_HOLD"
check "... and the $PENDING_AT_HOLD reserved then" \
	test "$(sqlite3 "file:$BK/run1/store.db?immutable=1" "SELECT count(*) FROM certificates WHERE status = 'pending'")" = "$PENDING_AT_HOLD"
check "... every valid row has its result line, and the lines with a result are 2 to K" sh -c "
	sqlite3 'file:$BK/run1/store.db?immutable=1' 'SELECT line FROM batch_results ORDER BY line' >'$T/lines'
	[ \"\$(head -1 '$T/lines')\" = 2 ] && [ \"\$(tail -1 '$T/lines')\" = \$((\$(wc -l <'$T/lines') + 1)) ]"
# every valid certificate of the copy verifies with the issuing CA
sqlite3 "file:$BK/run1/store.db?immutable=1" "SELECT hex(der) FROM certificates WHERE status = 'valid'" |
	while read -r h; do echo "$h" | xxd -r -p | openssl x509 -inform DER; done >"$T/copy-certs.pem"
check "... every one of its $AT_HOLD valid certificates verifies with the root and the issuing CA" sh -c "
	[ \$(grep -c 'BEGIN CERT' '$T/copy-certs.pem') = $AT_HOLD ] &&
	python3 - '$T/copy-certs.pem' '$T/one' <<'PY'
import subprocess, sys
pem = open(sys.argv[1]).read().split('-----END CERTIFICATE-----')
for c in pem[:-1]:
    open(sys.argv[2], 'w').write(c + '-----END CERTIFICATE-----\n')
    r = subprocess.run(['openssl', 'verify', '-attime', '$(date -u -d 2026-04-02T13:00:00Z +%s)', '-CAfile', '$R',
        '-untrusted', '$ISS', sys.argv[2]], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(r.stdout + r.stderr)
PY"

# ---- what is in a backup, what is not ----------------------------------
P=$T/repo
"$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T03:00:00Z >/dev/null 2>&1 || true
ok "backup after the day's publish" "$ON" backup --state "$O" --out "$BK/day1" --clock 2026-04-03T04:00:00Z
check "... stdout names the folder and says the token is not in it" sh -c \
	"grep -q '^Backup $BK/day1: ' '$HANKO_TMP/out' && grep -q 'Not in it: token/ and secrets/' '$HANKO_TMP/out'"
D=$BK/day1
check "no token/, secrets/, crlcache/, lock, -wal or -shm in it" sh -c \
	"! ls -A '$D' | grep -Eq '^(token|secrets|crlcache|.*\\.lock|store\\.db-.*)\$'"
check "... nor named in MANIFEST" sh -c "! grep -Eq ' (token|secrets|crlcache)/| [a-z]+\\.lock\$' '$D/MANIFEST'"
check "the state's other files are in it, byte for byte" sh -c "
	for f in state.conf profile.yaml profile.accepted.yaml municipalities.csv bundles.seen \
		certs/root-anchor.der certs/issuing-1.csr.der audit/audit-key.pem; do cmp -s '$O/'\$f '$D/'\$f || exit 1; done"
check "... the bundles imported" test "$(cd "$O/bundles" && find . -type f | sort)" = "$(cd "$D/bundles" && find . -type f | sort)"
check "the backup folder is mode 0700" test "$(stat -c %a "$D")" = 700
ok "MANIFEST.sig verifies with openssl and the state's audit key" \
	openssl dgst -sha256 -verify "$O/audit/audit-key.pem" -signature "$D/MANIFEST.sig" "$D/MANIFEST"
MH=$(sha256sum "$D/MANIFEST" | cut -c1-64)
check "backup.create ok names the folder and the MANIFEST's SHA-256" \
	grep -q "	backup.create	ok	op1@ca-online	$D: MANIFEST SHA-256 $MH; " "$log"
check "... after the backup's copy of the log ends (records are not in their own backup)" \
	test "$(sed -n 's/^audit-log [0-9a-f]* seq \([0-9]*\) .*/\1/p' "$D/MANIFEST")" -lt \
	"$(grep "	backup.create	ok	op1@ca-online	$D:" "$log" | cut -f1)"
ok "backup verify (the backup's own key)" "$ON" backup verify "$D"
check "... says the key is the backup's own, to compare" grep -q "from the backup's own audit/audit-key.pem" "$HANKO_TMP/out"
ok "backup verify --state: this state's, the live log extends the backup's" "$ON" backup verify "$D" --state "$O"
check "... says so" grep -q "audit log begins with the backup's copy" "$HANKO_TMP/out"
ok "backup verify --key" "$ON" backup verify "$D" --key "$O/audit/audit-key.pem"
before=$(tree_digest "$D")
"$ON" backup verify "$D" --state "$O" >/dev/null
check "verify changed nothing in the backup, made no -wal or -shm" test "$(tree_digest "$D")" = "$before"
ok "MANIFEST: sha256sum -c of its file lines" sh -c "cd '$D' && sed -n 's/^file \\([0-9a-f]*\\) [0-9]* \\(.*\\)/\\1  \\2/p' MANIFEST | sha256sum -c --quiet"

# ---- refusals: nothing is made, nothing written over --------------------
# (the backups from here to the restore at BC, after the day's backup and
# before the revocation after it: the test's time goes forward, as the clock
# guard wants, docs/clock.md; they would record at the real clock, ahead)
BC=(--clock 2026-04-03T04:30:00Z)
fails "--out that exists: refused, nothing written over" 7 "day1: already exists" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$D"
fails "--out inside the state folder: refused" 3 "inside the state folder" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$O/bk"
check "... nothing made there" test ! -e "$O/bk"
fails "--out in a folder that does not exist: refused" 3 \
	"^hanko-online backup: --out $BK/nope/bk: the folder that should hold the backup, $BK/nope: No such file or directory \(a backup is made in an existing folder\)$" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$BK/nope/bk"
# a component of --out that is a regular file: the same rule, exit 3 (not an
# I/O error); so for a file deeper in, and for a dangling symbolic link
echo not-a-folder >"$T/afile"
fails "--out under a regular file: refused as a missing folder is" 3 \
	"^hanko-online backup: --out $T/afile/bk: the folder that should hold the backup, $T/afile: not a folder \(a backup is made in an existing folder\)$" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$T/afile/bk"
fails "--out two levels under a regular file: refused, exit 3" 3 \
	"^hanko-online backup: --out $T/afile/sub/bk: the folder that should hold the backup, $T/afile/sub: Not a directory \(a backup is made in an existing folder\)$" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$T/afile/sub/bk"
ln -s "$T/nowhere" "$T/dangling"
fails "--out under a dangling symbolic link: refused, exit 3" 3 \
	"^hanko-online backup: --out $T/dangling/bk: the folder that should hold the backup, $T/dangling: No such file or directory" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$T/dangling/bk"
fails "--out that is a dangling symbolic link: it exists, exit 7, nothing written through it" 7 \
	"dangling: already exists" "$ON" backup --state "$O" "${BC[@]}" --out "$T/dangling"
check "... nothing made, the file and the link as they were" bash -c \
	"[ \"\$(cat '$T/afile')\" = not-a-folder ] && [ ! -e '$T/nowhere' ] && ! ls -d '$T'/afile.backup-* '$T'/dangling.backup-* 2>/dev/null"
fails "backup without --out" 2 "--out are required" "$ON" backup --state "$O" "${BC[@]}"
check "backup --help: the usage on stdout, exit 0" bash -c \
	"'$ON' backup --help >'$T/help' 2>'$T/help.err' && grep -q '^usage: hanko-online backup ' '$T/help' && ! test -s '$T/help.err'"
fails "backup verify without the backup folder" 2 "the backup folder DIR2 is required" "$ON" backup verify --state "$O"
fails "backup verify: a second folder" 2 "two: one backup folder only" "$ON" backup verify one two
fails "backup verify: --clock is not its option" 2 "--clock: not an option of backup verify" \
	"$ON" backup verify "$D" --clock 2026-04-03T00:00:00Z
fails "backup verify of a folder that does not exist" 3 "no-such: No such file" \
	"$ON" backup verify "$BK/no-such"
check "only the backups made are in the folder" test "$(left)" = "day1 run1 "
# the state's audit/audit-key.pem not the token's audit key: a backup
# could not be checked with it
cp -p "$O/audit/audit-key.pem" "$T/audit-key.pem.kept"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkey -pubout >"$O/audit/audit-key.pem"
fails "an audit/audit-key.pem that is not the token's audit key: refused" 3 "audit-key.pem: not the public key of the token's audit key" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$BK/key"
cp -p "$T/audit-key.pem.kept" "$O/audit/audit-key.pem"
check "... nothing left" test "$(left)" = "day1 run1 "
# a live log that fails verification: no backup (an incident first)
cp -p "$log" "$T/log.kept"; cp -p "$log.head" "$T/head.kept"
flip_byte "$log" 400
fails "a live audit log that fails verification: exit 6, no backup" 6 "audit.log:.*record" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$BK/badlog"
cp -p "$T/log.kept" "$log"; cp -p "$T/head.kept" "$log.head"
check "... nothing left" test "$(left)" = "day1 run1 "
mkdir -p "$T/junk"; ln -s /etc/passwd "$O/certs/link.pem"
fails "a symbolic link in the state folder: refused, named" 3 "certs/link.pem: not a regular file or folder" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$BK/sym"
rm -f "$O/certs/link.pem"
check "... nothing left" test "$(left)" = "day1 run1 "
# a copy of the token or of the PIN under another name is never copied
# (the output would say "Not in it: token/ and secrets/")
for c in "secrets secrets.old" "token token.bak" "secrets/token-user-pin certs/token-user-pin"; do
	set -- $c
	cp -a "$O/$1" "$O/$2"
	fails "a copy of $1 as $2: refused, named" 3 "$2: a copy of the token or of its PIN" \
		"$ON" backup --state "$O" "${BC[@]}" --out "$BK/copy"
	rm -rf "${O:?}/$2"
	check "... nothing left" test "$(left)" = "day1 run1 "
done

# ---- any damage to a backup is found and named --------------------------
n=0
while read -r f; do
	rm -rf "$T/dmg"; cp -a "$D" "$T/dmg"
	sz=$(stat -c %s "$T/dmg/$f")
	flip_byte "$T/dmg/$f" $((sz / 2))
	rc=0; "$ON" backup verify "$T/dmg" >"$T/v.out" 2>"$T/v.err" || rc=$?
	if [ "$rc" != 1 ] || ! grep -qF "$T/dmg/$f" "$T/v.out" || [ "$(wc -l <"$T/v.err")" != 1 ]; then
		echo "# $f: exit $rc"; cat "$T/v.out" "$T/v.err"; n=$((n + 1))
	fi
done < <(cd "$D" && find . -type f | sed 's|^\./||' | sort)
check "a byte changed in any file of the backup (each of $(cd "$D" && find . -type f | wc -l)): exit 1, the file named" test "$n" = 0
rm -rf "$T/dmg"; cp -a "$D" "$T/dmg"
flip_byte "$T/dmg/store.db" 1000
rc=0; "$ON" backup verify "$T/dmg" --state "$O" >"$T/v.out" 2>&1 || rc=$?
check "... a byte of store.db (not its header) changed: its SHA-256 named" grep -q "dmg/store.db: SHA-256 .* is not MANIFEST's" "$T/v.out"
rm -rf "$T/dmg"; cp -a "$D" "$T/dmg"
echo extra >"$T/dmg/certs/extra.pem"
fails "an extra file: found" 1 "dmg: 1 problem" "$ON" backup verify "$T/dmg"
check "... and named" grep -qx "$T/dmg/certs/extra.pem: not in MANIFEST: an extra file" "$HANKO_TMP/out"
rm -f "$T/dmg/certs/extra.pem"; mkdir "$T/dmg/more"
fails "an extra folder: found" 1 "dmg: 1 problem" "$ON" backup verify "$T/dmg"
check "... and named" grep -qx "$T/dmg/more/: not in MANIFEST: an extra folder" "$HANKO_TMP/out"
rmdir "$T/dmg/more"; rm "$T/dmg/certs/root-anchor.pem"
fails "a missing file: found" 1 "dmg: 1 problem" "$ON" backup verify "$T/dmg"
check "... and named" grep -qx "$T/dmg/certs/root-anchor.pem: missing (listed in MANIFEST)" "$HANKO_TMP/out"
rm -rf "$T/dmg"; cp -a "$D" "$T/dmg"; rm "$T/dmg/MANIFEST.sig"
fails "no MANIFEST.sig: found" 1 "dmg: 1 problem" "$ON" backup verify "$T/dmg"
check "... and named" grep -qx "$T/dmg/MANIFEST.sig: missing" "$HANKO_TMP/out"
# a hostile or damaged medium: a FIFO in place of store.db or the audit
# log is named, never opened (an open of a FIFO waits for a writer that
# never comes; "timeout" only turns such a hang into a failure here)
for f in store.db audit/audit.log; do
	rm -rf "$T/dmg"; cp -a "$D" "$T/dmg"; rm "$T/dmg/$f"; mkfifo "$T/dmg/$f"
	fails "a FIFO in place of $f: found, not waited on" 1 "dmg: 1 problem" \
		timeout 60 "$ON" backup verify "$T/dmg"
	check "... and named" grep -qx "$T/dmg/$f: not a regular file (a symbolic link, a device, ...)" "$HANKO_TMP/out"
done
# a store.db made to hold the check: its meta a view whose query never
# ends (a recursive CTE); SQLite runs a view's query when meta is read
rm -rf "$T/dmg"; cp -a "$D" "$T/dmg"; rm "$T/dmg/store.db"
sqlite3 "$T/dmg/store.db" "CREATE VIEW meta(key, value) AS WITH RECURSIVE c(x) AS
	(SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT 'schema', x FROM c WHERE x < 0"
rc=0; timeout 60 "$ON" backup verify "$T/dmg" >"$T/v.out" 2>"$T/v.err" || rc=$?
check "a store.db whose meta is a view without end: exit 1 ($rc), not held" test "$rc" = 1
check "... named: meta is not one plain table" grep -q "^$T/dmg/store.db: .*meta: not one plain table (none, a view" "$T/v.out"
# another state: a copy of this one under another store id
cp -a "$O" "$T/other"
sed -i "s/^store.id = .*/store.id = 00112233445566778899aabbccddeeff/" "$T/other/state.conf"
fails "backup verify --state of another state: named" 1 "day1: 1 problem: not a sound backup of this state" \
	"$ON" backup verify "$D" --state "$T/other"
check "... store ids named" grep -q "store.db: store id .* is not this state's (state.conf store.id 00112233445566778899aabbccddeeff)" "$HANKO_TMP/out"
rm -rf "$T/other"

# ---- a failure leaves nothing, and records no backup ---------------------
made=$(grep -c '	backup.create	ok	' "$log")
failed=$(grep -c '	backup.create	fail	' "$log")
cc -shared -fPIC -o "$T/failread.so" "$HANKO_SRC/test/data/custody/failread.c" -ldl
cc -shared -fPIC -o "$T/failrename.so" "$HANKO_SRC/test/data/issuance/failrename.c" -ldl
cc -shared -fPIC -o "$T/failfsync.so" "$HANKO_SRC/test/data/init/failfsync.c" -ldl
fails "a file that cannot be read midway (municipalities.csv): exit 8" 8 "municipalities.csv: cannot read" \
	env HK_FAIL_READ_NAME=municipalities.csv LD_PRELOAD="$T/failread.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$BK/f1"
check "... nothing left, no temporary folder" test "$(left)" = "day1 run1 "
fails "the rename into place fails: exit 8" 8 "f2: cannot move the backup into place" \
	env HK_FAIL_RENAME=f2 LD_PRELOAD="$T/failrename.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$BK/f2"
check "... nothing left" test "$(left)" = "day1 run1 "
fails "the folder holding it cannot be fsynced after the rename: exit 8" 8 "f3: the folder holding the backup could not be fsynced .*removed again" \
	env HK_FAIL_FSYNC_DIR="$(realpath "$BK")" LD_PRELOAD="$T/failfsync.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$BK/f3"
check "... nothing left" test "$(left)" = "day1 run1 "
rc=0; env HANKO_FAIL_AUDIT_AT=backup.create "$ON" backup --state "$O" "${BC[@]}" --out "$BK/f4" >"$T/f4.out" 2>"$T/f4.err" || rc=$?
check "backup.create cannot be appended: exit 6 ($rc), the backup removed again" sh -c "[ $rc = 6 ] &&
	grep -q 'cannot append backup.create: .*HANKO_FAIL_AUDIT_AT' '$T/f4.err' &&
	tail -1 '$T/f4.err' | grep -q 'backup.create ok not written: the backup $BK/f4 was removed again, none kept'"
check "... nothing left" test "$(left)" = "day1 run1 "
check "... no backup.create ok was recorded by any of them" test "$(grep -c '	backup.create	ok	' "$log")" = "$made"
check "... the failures are recorded (backup.create fail)" test "$(grep -c '	backup.create	fail	' "$log")" = $((failed + 3))
ok "the audit log verifies" "$OFF" audit verify --log "$log" --key "$O/audit/audit-key.pem"

# ---- a backup killed part-way: its temporary folder is left, and named ---
# (SIGKILL, a power loss: nothing runs to remove it; the next run, into
# another dated folder, names it for the operators and removes nothing)
rm -f "$T/kw.reached" "$T/kw.go"
env HK_PAUSE_WRITE="$T/kw" HK_PAUSE_WRITE_PATH="*/killed.backup-*/store.db" \
	LD_PRELOAD="$T/pausewrite.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$ON" backup --state "$O" "${BC[@]}" --out "$BK/killed" >/dev/null 2>&1 &
kpid=$!
for _ in $(seq 6000); do [ -e "$T/kw.reached" ] && break; sleep 0.02; done
check "a backup is held inside its copy of the store" test -e "$T/kw.reached"
kill -KILL "$kpid"; wait "$kpid" 2>/dev/null || true
KL=$(cd "$BK" && ls -d killed.backup-* 2>/dev/null || true)
check "... killed: its temporary folder is left ($KL)" test -n "$KL" -a -d "$BK/$KL"
ok "the next backup (into another folder) is made" "$ON" backup --state "$O" "${BC[@]}" --out "$BK/after-kill"
check "... and names the folder left, to be removed" grep -q "warning: $(realpath "$BK")/$KL: left by a backup that stopped before it finished" "$HANKO_TMP/err"
check "... which it does not remove" test -d "$BK/$KL"
rm -rf "${BK:?}/$KL" "$BK/after-kill"

# ---- restore (docs/backup.md): the state folder damaged -------------------
# After the backup: a revocation (lost from the store by the restore, kept
# in the live log), then store.db damaged; a stale -wal beside it. Each
# step with its --clock, after the one before (the clock guard).
S1=$(sqlite3 "$O/store.db" "SELECT hex(serial) FROM certificates WHERE status = 'valid' ORDER BY rowid LIMIT 1")
ok "a revocation after the backup" "$ON" revoke --state "$O" --clock 2026-04-03T05:00:00Z --serial "$S1" --reason superseded
: >"$O/store.db"
printf 'the damaged store left these' >"$O/store.db-wal"
cp "$O/store.db-wal" "$O/store.db-shm"
fails "the damaged store is refused" 3 "store.db: empty: not a hanko store .*restore it from the backup" \
	"$ON" check --state "$O" --clock 2026-04-03T05:10:00Z --dry-run
# the procedure of docs/backup.md, "Restore"
mv "$O" "$O.damaged"
mkdir -m 0700 "$O"
(cd "$D" && tar cf - --exclude=./MANIFEST --exclude=./MANIFEST.sig .) | (cd "$O" && tar xpf -)
mv "$O.damaged/token" "$O.damaged/secrets" "$O/"
ok "the damaged state's audit log verifies" "$OFF" audit verify --log "$O.damaged/audit/audit.log" --key "$O/audit/audit-key.pem"
ok "... and begins with the backup's copy" "$ON" backup verify "$D" --state "$O.damaged" --key "$O/audit/audit-key.pem"
cp -p "$O.damaged/audit/audit.log" "$O.damaged/audit/audit.log.head" "$O/audit/"
check "no store.db-wal or -shm beside the restored store.db" sh -c "! ls '$O' | grep -q 'store.db-'"
check "... the damaged store's kept aside with it" test -e "$O.damaged/store.db-wal" -a -e "$O.damaged/store.db-shm"
fails "restored: check names the revocation the store lost" 1 "store.db: 1 findings, 0 fixed$" "$ON" check --state "$O" --clock 2026-04-03T05:30:00Z
check "... with the command that revokes it again, and nothing else" sh -c \
	"grep -q \"^revocation: serial $S1 (municipality [0-9]*): valid in the store, but the audit log's cert.revoke seq [0-9]* (.*) revoked it reason 4 (superseded); redo it at the record's time: hanko-online recover --state $O --revocations\$\" '$HANKO_TMP/out' && [ \$(wc -l <'$HANKO_TMP/out') = 1 ]"
seq_b=$(sed -n 's/^audit-log [0-9a-f]* seq \([0-9]*\) .*/\1/p' "$D/MANIFEST")
# docs/backup.md, Restore, step 9: the records after the backup's
"$OFF" audit show --log "$O/audit/audit.log" | awk -v s="$seq_b" '$1 > s' |
	grep -E ' (cert\.(issue|recover|revoke|revoke-all|expire|void)|bundle\.import|rp\.(add|retire)|records\.provision|profile\.accept|key\.generate) ' >"$T/after"
check "the revocation lost by the restore is in the live log after the backup's record $seq_b" \
	grep -q " cert.revoke .*serial $S1: " "$T/after"
check "... the only work after it" test "$(wc -l <"$T/after")" = 1
check "... and not in the restored store" test "$(sqlite3 "$O/store.db" "SELECT status FROM certificates WHERE hex(serial) = '$S1'")" = valid
ok "... revoked again" "$ON" revoke --state "$O" --clock 2026-04-03T06:00:00Z --serial "$S1" --reason superseded
ok "restored: check after the revocation again" "$ON" check --state "$O" --clock 2026-04-03T06:10:00Z
check "... the store is consistent" grep -q "^Store consistent" "$HANKO_TMP/out"
rc=0; "$ON" publish --state "$O" --repo "$P" --clock 2026-04-04T03:00:00Z >"$T/pub.out" 2>&1 || rc=$?
check "publish runs on the restored state (exit $rc: 0 or 9, a warning)" sh -c "[ $rc = 0 ] || [ $rc = 9 ]"
check "... its CRL lists the revocation" sh -c \
	"openssl crl -inform DER -in '$P/crl/$(sqlite3 "$O/store.db" "SELECT municipality FROM certificates WHERE hex(serial) = '$S1'").crl' -noout -text | grep -q '$S1'"
ok "the restored state backs up again" "$ON" backup --state "$O" --out "$BK/day2" --clock 2026-04-04T04:00:00Z
ok "... and that backup verifies" "$ON" backup verify "$BK/day2" --state "$O"

# ---- restore of a backup taken before the first import -------------------
# init made bundles/ empty; a backup holds files, not empty folders: the
# state restored from it must still import its first bundle.
O2=$T/online2
"$ON" init --state "$O2" --profile "$PROFILE" --rehearsal --clock 2026-04-02T00:00:00Z >/dev/null
"$ON" trust --state "$O2" --clock 2026-04-02T11:00:00Z --fingerprint "$FP" "$R" >/dev/null
check "a new state: bundles/ empty" test -d "$O2/bundles" -a -z "$(ls -A "$O2/bundles")"
ok "its backup before the first import" "$ON" backup --state "$O2" --out "$BK/new" --clock 2026-04-02T11:10:00Z
mv "$O2" "$O2.damaged"
mkdir -m 0700 "$O2"
(cd "$BK/new" && tar cf - --exclude=./MANIFEST --exclude=./MANIFEST.sig .) | (cd "$O2" && tar xpf -)
mv "$O2.damaged/token" "$O2.damaged/secrets" "$O2/"
ok "... restored: check" "$ON" check --state "$O2"
arl_batch 2 2026-04-02T10:30:00Z >/dev/null
arl_bundle 2 2026-04-02T10:40:00Z >/dev/null
ok "... restored: its first import (the ARLs)" "$ON" import --state "$O2" --clock 2026-04-02T11:30:00Z "$T/b-arl"
check "... into bundles/" test "$(ls "$O2/bundles" | wc -l)" = 1
finish

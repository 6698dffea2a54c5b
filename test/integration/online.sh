# online.sh - the start of an online integration test, sourced by it
# first: lib.sh, the sample offline CA and a fresh online state in $T
# (make_online: $O, $ISS, $REQ, IC, ...), and db() on its store.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
. "$HANKO_SRC/test/data/online/setup.sh"
fresh_tmp
T=$HANKO_TMP
make_online "$T"
db() { sqlite3 "$O/store.db" "$1"; }
# restore_state BACKUP DAMAGED LOGDIR: docs/backup.md "Restore" steps 2-6 on
# $O after a lost store: the state folder set aside whole as DAMAGED (its
# store.db emptied first, as a lost file), a new one at the same path from
# BACKUP (without MANIFEST and MANIFEST.sig), the token and secrets/ moved
# back from DAMAGED, and the live audit log (audit.log and its head file)
# put back from LOGDIR (which may be DAMAGED/audit).
restore_state() {
	local bk=$1 d=$2 logdir=$3
	: >"$O/store.db"
	rm -rf "$d"
	mv "$O" "$d"
	mkdir -m 0700 "$O"
	(cd "$bk" && tar cf - --exclude=./MANIFEST --exclude=./MANIFEST.sig .) | (cd "$O" && tar xpf -)
	mv "$d/token" "$d/secrets" "$O/"
	cp -p "$logdir/audit.log" "$logdir/audit.log.head" "$O/audit/"
}

# many_residents N BASE: a batch of N distinct residents (resident ids
# BASE, BASE + 1, ...) over the six valid.csv samples' names and the five
# sample keys (the validator accepts one key for several residents), on
# stdout; the keys are the request folder's keys/.
many_residents() {
	awk -F, -v n="$1" -v base="$2" 'NR == 1 { print; next } NR <= 6 { row[nr++] = $0 }
	END { OFS = ","
		for (i = 0; i < n; i++) {
			split(row[i % nr], f, ","); f[2] = sprintf("%011.0f", base + i)
			f[9] = sprintf("keys/resident-%d.pub.pem", i % 5 + 1)
			print f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9] } }' \
		"$REQ/valid.csv"
}

# mid_batch_backup N: batch A ($T/a/batch.csv, N residents, chunks of 16) is
# held inside a write of the store's -wal some chunks in (pausewrite), the
# backup $BK/b1 taken meanwhile (some of A's rows pending in it), then A
# runs to its end ($T/a/out/results.csv, N ok). Needs $BK made.
mid_batch_backup() {
	local n=$1 irc=0 ipid
	req_dir "$T/a"
	many_residents "$n" 72000000000 >"$T/a/batch.csv"
	cc -shared -fPIC -o "$T/pausewrite.so" "$HANKO_SRC/test/data/online/pausewrite.c" -ldl
	rm -f "$T/iw.reached" "$T/iw.go"
	env HK_PAUSE_WRITE="$T/iw" HK_PAUSE_WRITE_PATH="*/online/store.db-wal" HK_PAUSE_WRITE_SKIP=150 \
		LD_PRELOAD="$T/pausewrite.so" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$ON" issue --state "$O" --clock 2026-04-02T12:00:00Z --chunk 16 --batch "$T/a/batch.csv" \
		--out "$T/a/out" >"$T/a.out" 2>&1 &
	ipid=$!
	for _ in $(seq 6000); do [ -e "$T/iw.reached" ] && break; sleep 0.02; done
	check "batch A is held part-way" test -e "$T/iw.reached"
	ok "the backup, taken while A is held" "$ON" backup --state "$O" --out "$BK/b1" --clock 2026-04-02T12:30:00Z
	touch "$T/iw.go"
	wait "$ipid" || irc=$?
	check "batch A ran to its end (exit $irc)" test "$irc" = 0
	check "... $n issued" test "$(grep -c ',ok,' "$T/a/out/results.csv")" = "$n"
}

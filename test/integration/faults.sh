# faults.sh - for the I/O-fault sweeps (t_online_faults, t_offline_faults),
# sourced once $T is set: the shim test/data/online/failnth.c built as
# $T/failnth.so (it fails the Nth writing call under $HK_FAILNTH_PREFIX,
# or with HK_FAILNTH_MODE=read the Nth reading call: open for reading,
# read, pread, stat, fstat), ASAN_PRELOAD (the sanitizer build's options,
# the shim preloaded before ASan), run_faulted and clean_run.
# The writing sweeps fail their sampled calls with ENOSPC and EIO in turn
# (the first sample ENOSPC, the next EIO, ...); HK_FAILNTH_ERRNO=ENOSPC or
# EIO fails every one with that. A line that says a full medium ("No space
# left", "disk is full") when the call failed with EIO is a defect
# (wrong_reason). The reading sweeps (MODE=read) fail theirs with EIO:
# the shim's HK_FAILNTH_MODE=read counts open for reading, read, readv,
# pread (SQLite reads its pages so), stat, lstat, fstatat, fstat, access
# and faccessat (not mmap: SQLite's -shm; nor what glibc does inside
# fopen and fread). A reading sweep's run that exits 0 must print and
# leave what a clean run does; any other must say the medium's failure
# (reason_said), never a short, empty or missing file.
# By hand, every call (slow; build-asan):
#   HK_FAULTS_ALL=1 HK_FAILNTH_ERRNO=EIO HK_FAULTS_ONLY=publish,issue ctest -R t_online_faults
#   HK_FAULTS_ALL=1 HK_FAULTS_ONLY=read-publish,read-check ctest -R t_online_faults
# (HK_FAULTS_SAMPLES, HK_FAULTS_READ_SAMPLES: how many calls each sweep
# fails when not all; HK_FAULTS_EXTRA: the reading calls failed besides
# the first of each kind, evenly.)
cc -shared -fPIC -o "$T/failnth.so" "$HANKO_SRC/test/data/online/failnth.c" -ldl
ASAN_PRELOAD="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# REASON, SQLREASON: what a line says of the fault the focused checks
# make (HK_FAILNTH_ERRNO, ENOSPC unless set): strerror's, SQLite's.
if [ "${HK_FAILNTH_ERRNO:-ENOSPC}" = EIO ]; then
	REASON="Input/output error" SQLREASON="disk I/O error"
else
	REASON="No space left on device" SQLREASON="database or disk is full"
fi
# MODE: the calls the sweeps count and fail (write, or read: then EIO).
MODE=write
# ERRNO: the errno of the next run_faulted (set_errno K: the Kth sample's).
ERRNO=${HK_FAILNTH_ERRNO:-ENOSPC}
set_errno() {
	if [ -n "${HK_FAILNTH_ERRNO:-}" ]; then ERRNO=$HK_FAILNTH_ERRNO
	elif [ "$MODE" = read ] || [ $(($1 % 2)) = 1 ]; then ERRNO=EIO
	else ERRNO=ENOSPC; fi
}
# wrong_reason LINE: LINE says a full medium of a call that failed with EIO.
wrong_reason() {
	[ "$ERRNO" = EIO ] && printf '%s\n' "$1" | grep -q -i -E 'no space left|disk is full|medium is full'
}

# run_faulted N CMD...: CMD with the Nth writing call (reading, MODE=read)
# under $PREFIXES failing with $ERRNO; its exit status in rc, stdout in
# $T/fout, stderr in $T/ferr, every counted call in $T/trace.
run_faulted() {
	local n=$1; shift
	rc=0
	env HK_FAILNTH_PREFIX="$PREFIXES" HK_FAILNTH_N="$n" HK_FAILNTH_TRACE="$T/trace" \
		HK_FAILNTH_MODE="$MODE" HK_FAILNTH_ERRNO="$ERRNO" \
		LD_PRELOAD="$T/failnth.so" ASAN_OPTIONS="$ASAN_PRELOAD" "$@" >"$T/fout" 2>"$T/ferr" || rc=$?
}

# sample_faulted K N CMD...: the sweep's Kth sample: CMD with its Nth call
# failed (ENOSPC or EIO by turn, set_errno), as run_faulted; sets what (the
# call the shim failed) and err (stderr without the shim's lines); returns
# 1 when the run never reached call N.
sample_faulted() {
	local k=$1; shift
	rm -f "$T/trace"
	set_errno "$k"
	run_faulted "$@"
	what=$(sed -n 's/^failnth: call [0-9]* //p' "$T/ferr")
	[ -n "$what" ] || return 1
	err=$(grep -v '^failnth: ' "$T/ferr" || true)
}

# clean_run NAME CMD...: CMD run once without a fault on the state as the
# caller left it (the test's fingerprint before and after it in
# $T/fp.base and $T/fp.clean), checked to succeed; its writing (reading,
# MODE=read) calls counted in total, and step set so that $SAMPLES of them are failed in
# turn (every one with HK_FAULTS_ALL=1).
clean_run() {
	local name=$1; shift
	fingerprint >"$T/fp.base"
	rm -f "$T/trace"
	run_faulted 0 "$@"
	want=$rc
	cp "$T/fout" "$T/fout.clean"
	touch "$T/trace"; cp "$T/trace" "$T/trace.clean"
	total=$(wc -l <"$T/trace" 2>/dev/null || echo 0)
	check "$name: a clean run succeeds (exit $want)" test "$want" = 0 || cat "$T/ferr"
	fingerprint >"$T/fp.clean"
	[ "$MODE" != read ] || [ -z "${CONTENT:-}" ] || content >"$T/cf.clean"
	echo "# $name: $total $([ "$MODE" = read ] && echo reading || echo writing) calls"
	step=1
	[ "${HK_FAULTS_ALL:-0}" = 1 ] || [ "$total" -le "$SAMPLES" ] || step=$(( (total + SAMPLES - 1) / SAMPLES ))
}

# positions: the calls a sweep fails (after clean_run), one a line.
# Writing: 1, 1 + step, ... (every one with HK_FAULTS_ALL=1). Reading,
# whose calls are many (every record of the audit log, every page of the
# store read): the first call of each class (the call, its path with the
# numbers and temporary names made general, and whether it is the first,
# second or a later such call on that very file: a read after one that
# returned data) and $HK_FAULTS_EXTRA (20) calls evenly besides (pages of
# the store read in the middle of a query); $SAMPLES of them, evenly (the
# middle of each of $SAMPLES stretches), unless HK_FAULTS_ALL=1.
positions() {
	local extra=${HK_FAULTS_EXTRA:-20}
	if [ "$MODE" != read ]; then
		seq "${HK_FAULTS_FIRST:-1}" "$step" "$total"
		return
	fi
	{
		awk '{ p = $3
			gsub(/\.tmp-[0-9a-f]+/, ".tmp-X", p); gsub(/-[A-Za-z0-9]{6}$/, "-X", p)
			gsub(/\/\.new-[A-Za-z0-9]{6}/, "/.new-X", p); gsub(/[0-9]+/, "N", p)
			o = ++seen[$2 " " $3]; k = $2 " " p " " (o < 3 ? o : 3)
			if (!(k in first)) { first[k] = $1; print $1 } }' "$T/trace.clean"
		[ "$total" = 0 ] || seq 1 "$(( (total + extra - 1) / extra ))" "$total"
	} | sort -n -u | if [ "${HK_FAULTS_ALL:-0}" = 1 ]; then cat; else
		awk -v s="$SAMPLES" '{ a[NR] = $1 } END { if (NR <= s) { for (i = 1; i <= NR; i++) print a[i]; exit }
			for (i = 0; i < s; i++) print a[1 + int((i + 0.5) * NR / s)] }'
	fi
}

# reason_said LINE: LINE says the medium failed (strerror's or SQLite's
# words for EIO, or a folder that cannot be synced), not what a short,
# empty or missing file would say.
reason_said() {
	printf '%s\n' "$1" | grep -q -E 'Input/output error|disk I/O error|cannot fsync'
}

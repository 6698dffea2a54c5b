# faults.sh - for the I/O-fault sweeps (t_online_faults, t_offline_faults),
# sourced once $T is set: the shim test/data/online/failnth.c built as
# $T/failnth.so (it fails the Nth writing call under $HK_FAILNTH_PREFIX),
# ASAN_PRELOAD (the sanitizer build's options, the shim preloaded before
# ASan), and run_faulted.
cc -shared -fPIC -o "$T/failnth.so" "$HANKO_SRC/test/data/online/failnth.c" -ldl
ASAN_PRELOAD="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# run_faulted N CMD...: CMD with the Nth writing call under $PREFIXES
# failing; its exit status in rc, stdout in $T/fout, stderr in $T/ferr,
# every counted call in $T/trace.
run_faulted() {
	local n=$1; shift
	rc=0
	env HK_FAILNTH_PREFIX="$PREFIXES" HK_FAILNTH_N="$n" HK_FAILNTH_TRACE="$T/trace" \
		LD_PRELOAD="$T/failnth.so" ASAN_OPTIONS="$ASAN_PRELOAD" "$@" >"$T/fout" 2>"$T/ferr" || rc=$?
}

# clean_run NAME CMD...: CMD run once without a fault on the state as the
# caller left it (the test's fingerprint before and after it in
# $T/fp.base and $T/fp.clean), checked to succeed; its writing calls
# counted in total, and step set so that $SAMPLES of them are failed in
# turn (every one with HK_FAULTS_ALL=1).
clean_run() {
	local name=$1; shift
	fingerprint >"$T/fp.base"
	rm -f "$T/trace"
	run_faulted 0 "$@"
	want=$rc
	total=$(wc -l <"$T/trace" 2>/dev/null || echo 0)
	check "$name: a clean run succeeds (exit $want)" test "$want" = 0 || cat "$T/ferr"
	fingerprint >"$T/fp.clean"
	echo "# $name: $total writing calls"
	step=1
	[ "${HK_FAULTS_ALL:-0}" = 1 ] || [ "$total" -le "$SAMPLES" ] || step=$(( (total + SAMPLES - 1) / SAMPLES ))
}

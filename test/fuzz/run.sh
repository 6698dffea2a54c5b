#!/usr/bin/env bash
# run.sh SRC_DIR BUILD_DIR SECONDS - build the libFuzzer targets with clang
# (ASan + UBSan) and run each for SECONDS on its seed corpus. A crash, leak
# or timeout fails. Prints "N passed, N failed" at the end.
set -euo pipefail
src=$1 build=$2 secs=${3:-20}
command -v clang >/dev/null || { echo "run.sh: clang is needed (dev.sh installs it)" >&2; exit 1; }
CC=clang cmake -S "$src" -B "$build" -DHANKO_FUZZ=ON -DHANKO_SANITIZE=ON \
	-DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
passed=0 failed=0
for bin in "$build"/test/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	work="$build/fuzz-work/$name"
	rm -rf "$work"; mkdir -p "$work/corpus"
	[ -d "$src/test/fuzz/corpus/$name" ] && cp -r "$src/test/fuzz/corpus/$name/." "$work/corpus/"
	if (cd "$work" && "$bin" -max_total_time="$secs" -timeout=60 -rss_limit_mb=4096 \
		${HANKO_FUZZ_SEED:+-seed="$HANKO_FUZZ_SEED"} \
		-print_final_stats=1 corpus >"$work/log" 2>&1); then
		echo "ok - fuzz_$name ran ${secs}s: $(grep -m1 'stat::number_of_executed_units' "$work/log" | awk '{print $2}') inputs, no crash ($(grep -m1 -o 'Seed: [0-9]*' "$work/log"))"
		passed=$((passed + 1))
	else
		echo "FAIL - fuzz_$name (see $work/log; $(grep -m1 -o 'Seed: [0-9]*' "$work/log"), HANKO_FUZZ_SEED replays it)"
		tail -40 "$work/log"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]

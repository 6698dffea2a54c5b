#!/usr/bin/env bash
# t_demo.sh - the README's main job runs from start to end: it makes the
# root, verifies the audit log, and its summary shows the root's real
# SHA-256 fingerprint.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
build=$(dirname "$(dirname "$OFF")")
ok "scripts/demo.sh runs to the end" env HANKO_DEMO_DIR="$T/demo" HANKO_DEMO_SERVE=0 \
	"$HANKO_SRC/scripts/demo.sh" "$build"
cat "$T/out" "$T/err" >"$T/demo.out"
R=$T/demo/state/certs/root-1.pem
fp=$(openssl x509 -in "$R" -noout -fingerprint -sha256 | sed 's/^.*=//')
check "the root certificate was written" test -s "$R"
check "the summary shows the root's SHA-256 fingerprint" grep -q "SHA-256 *$fp" "$T/demo.out"
check "the demo showed two shares failing" grep -q "2 of the 3 shares needed" "$T/demo.out"
check "the demo's audit log verified" grep -q "audit.log: OK: .* (signatures verified)" "$T/demo.out"
check "the demo made five sealed shares" test "$(find "$T/demo/media" -name '*.hks' | wc -l)" = 5
check "no PIN is on disk in clear" bash -c "! grep -rqa -e 'user.pin *=' -e 'so.pin *=' '$T/demo/state'"
ok "the demo's audit log verifies again" "$OFF" audit verify --state "$T/demo/state"
finish

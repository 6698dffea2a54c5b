# serve.sh - for the tests that run hanko-online serve, sourced after
# online.sh ($T, $O, $ON, $ISS, $REQ, IC): serve_one_cert makes what they
# serve, serve_start starts it.

# serve_one_cert: one resident's certificate ($CERT, its DER; $T/c.pem),
# the OCSP responder, a set published into $P, and the relying party
# bank-1 (its token in $T/tok), each at its --clock, the last at
# 2026-04-03T11:00:00Z: serve at a clock more than 300 s behind the newest
# record signs nothing (docs/clock.md), so the tests serve after it.
serve_one_cert() {
	P=$T/repo
	B=$T/req
	req_dir "$B" 2
	ok "issue one certificate" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/issued"
	certs_from "$T/issued"
	ok "the OCSP responder" "$ON" responder --state "$O" --clock 2026-04-02T13:00:00Z
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T10:00:00Z >/dev/null 2>&1 || true
	check "a set is published" test -f "$P/MANIFEST"
	ok "rp add bank-1" "$ON" rp add --state "$O" --clock 2026-04-03T11:00:00Z --name bank-1 --token-out "$T/tok"
	CERT=$(ls "$T"/issued/certs/*.der | head -1)
	openssl x509 -inform DER -in "$CERT" -out "$T/c.pem"
}

# serve_start ARGS...: serve $P on a free port of 127.0.0.1 with ARGS.
# Waits for its "listening on" line and sets SP (its pid: the key holder),
# KP (the key holder, as the line names it), WP (the worker), PORT and U.
# serve.out and serve.err are emptied before the start: the redirection of
# a background command happens in the child, and a wait begun first once
# read the last serve's line (its port long closed); the line must name
# the started process as its key holder. 1 when serve did not come up,
# with its stderr on ours for the log.
serve_start() {
	: >"$T/serve.out"; : >"$T/serve.err"
	"$ON" serve --state "$O" --repo "$P" --listen 127.0.0.1:0 "$@" >>"$T/serve.out" 2>>"$T/serve.err" &
	SP=$!
	for _ in $(seq 300); do grep -q 'listening on' "$T/serve.out" && break; sleep 0.1; done
	PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/serve.out")
	U=http://127.0.0.1:$PORT
	KP=$(sed -n 's/.*key holder \([0-9]*\),.*/\1/p' "$T/serve.out")
	WP=$(sed -n 's/.*worker \([0-9]*\)).*/\1/p' "$T/serve.out")
	[ -n "$PORT" ] && [ -n "$WP" ] && [ "$KP" = "$SP" ] || {
		echo "# serve did not start (key holder '$KP', started $SP); running: $(kill -0 "$SP" 2>/dev/null && echo yes || echo no)" >&2
		sed 's/^/# serve.err: /' "$T/serve.err" >&2; return 1; }
}

# SP: the serve running (serve_start sets it), stopped at the test's exit
# (a test that needs more at its exit defines its own cleanup after this).
SP=""
cleanup() { [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null; return 0; }
trap cleanup EXIT
# stop_serve: stop the serve SP; 1 when it did not exit 0 (its stderr
# shown) or a sanitizer spoke in its stderr.
stop_serve() {
	kill "$SP"; local rc=0; wait "$SP" || rc=$?; SP=""
	[ "$rc" = 0 ] || cat "$T/serve.err" >&2
	! grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$T/serve.err" >&2 || rc=1
	return $rc
}

# many_parties COUNTERS: registers relying parties p-01, p-02, ... enough
# that each fetching every partition CRL once makes more than COUNTERS
# (party, method, object) counts; sets NP (partition CRLs) and K (parties)
many_parties() {
	local i
	NP=$(ls "$P"/crl/*.crl | wc -l)
	check "the set has partition CRLs ($NP)" test "$NP" -gt 10
	K=$(( $1 / NP + 1 ))
	for i in $(seq -w 1 "$K"); do
		"$ON" rp add --state "$O" --clock 2026-04-03T11:00:00Z --name "p-$i" --token-out "$T/p-$i.tok" \
			>/dev/null 2>"$T/rp.err" || { echo "# rp add p-$i: $(cat "$T/rp.err")" >&2; break; }
	done
	check "$K relying parties registered" test "$(db "SELECT count(*) FROM relying_parties WHERE name LIKE 'p-%'")" = "$K"
}

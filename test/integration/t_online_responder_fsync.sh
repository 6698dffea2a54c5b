#!/usr/bin/env bash
# t_online_responder_fsync.sh - a certificate and its PEM twin are written
# both or neither (shared/atomic.c, hk_file_write_pair), also when the
# fsync of their folder fails after a rename (a failing medium, through the
# LD_PRELOAD shim of test/data/init): "hanko-online responder" then exits 8
# and leaves no certs/ocsp-responder-1.der behind, so that running it again
# makes responder 1 instead of stopping at "refusing to overwrite".
. "$(dirname "$0")/online.sh"
T=$(realpath "$T")
O=$(realpath "$O")
cc -shared -fPIC -o "$T/failfsync.so" "$HANKO_SRC/test/data/init/failfsync.c" -ldl
certs_fsync_fails() {
	env HK_FAIL_FSYNC_DIR="$O/certs" LD_PRELOAD="$T/failfsync.so" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}
RC=(--clock 2026-04-02T13:00:00Z)
C0=$(cd "$O/certs" && ls | tr '\n' ' ')
S0=$(sha256sum <"$O/state.conf")

fails "responder: the fsync of certs/ after the certificate's rename fails" 8 \
	"ocsp-responder-1.der: cannot fsync its folder" certs_fsync_fails "$ON" responder --state "$O" "${RC[@]}"
check "... neither certs/ocsp-responder-1.der nor .pem is left" test "$(cd "$O/certs" && ls | tr '\n' ' ')" = "$C0"
check "... state.conf names no responder" test "$(sha256sum <"$O/state.conf")" = "$S0"
ok "responder again: responder 1" "$ON" responder --state "$O" "${RC[@]}"
check "... its certificate and state.conf entry" bash -c "[ -s '$O/certs/ocsp-responder-1.der' ] && \
	cmp -s '$O/certs/ocsp-responder-1.pem' <(openssl x509 -inform DER -in '$O/certs/ocsp-responder-1.der') && \
	grep -qx 'responder.current = 1' '$O/state.conf'"
ok "the audit log verifies" "$OFF" audit verify --state "$O"
finish

#!/usr/bin/env bash
# t_online_fsync.sh - the online state when the fsync of a folder fails
# after a rename into it (a failing medium, through the LD_PRELOAD shim of
# test/data/init): each run exits 8 with one line naming the file, and
# running it again completes the work instead of stopping at what the
# failed run left.
# - responder: a certificate and its PEM twin are written both or neither
#   (shared/atomic.c, hk_file_write_pair), so no certs/ocsp-responder-1.der
#   is left to refuse the next run with "refusing to overwrite";
# - import: the copy renamed into bundles/ is named in the message (not a
#   bare "input/output error"), and the next import removes it as the copy
#   of an import that never committed and imports the bundle.
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

ok "arl-batch ceremony: ARLs 1-2" arl_batch 2 2026-04-02T11:00:00Z
ok "... in a bundle" arl_bundle 2 2026-04-02T11:10:00Z
IM=(--clock 2026-04-02T13:30:00Z)
fails "import: the fsync of bundles/ after the copy's rename fails" 8 \
	"bundles/0+2-arl-batch-[0-9a-f]{40}: renamed into place, but the folder holding it could not be fsynced: Input/output error" \
	env HK_FAIL_FSYNC_DIR="$O/bundles" LD_PRELOAD="$T/failfsync.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$ON" import --state "$O" "${IM[@]}" "$T/b-arl"
check "... nothing stored" test "$(db "SELECT count(*) FROM arls")" = 0
ok "import again: imported" "$ON" import --state "$O" "${IM[@]}" "$T/b-arl"
check "... ARLs 1-2 stored, the stale copy's removal audited" bash -c \
	"[ \"\$(sqlite3 '$O/store.db' 'SELECT count(*) FROM arls')\" = 2 ] && grep -q '	bundle.recover	ok	' '$O/audit/audit.log'"
ok "the audit log verifies" "$OFF" audit verify --state "$O"
finish

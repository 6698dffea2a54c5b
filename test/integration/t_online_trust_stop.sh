#!/usr/bin/env bash
# t_online_trust_stop.sh - "hanko-online trust" stopped between writing the
# anchor (certs/root-anchor.der) and committing the store's root row (here
# a failing medium: the fsync of certs/ fails after the anchor's rename,
# through the LD_PRELOAD shim of test/data/init; a kill there leaves the
# same). An anchor without its row is not a pinned root: import and
# request refuse it, naming what to do (else a root-generation bundle would
# be stored as generation 1 and publish would leave the root out of the
# repository), and trust run again with the same root and fingerprint
# completes it; another root is not taken over it.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
. "$HANKO_SRC/test/data/online/setup.sh"
fresh_tmp
T=$(realpath "$HANKO_TMP")
day=2026-04-02
make_rooted_ca "$T/ca" 2026-04-01
O=$T/online
"$ON" init --state "$O" --profile "$PROFILE" --rehearsal --clock "${day}T00:00:00Z" >/dev/null
issue_subca "$O/certs/issuing-1.csr.pem" "$O/certs/issuing-1.csr.sha256" "${day}T09:00:00Z" >/dev/null
"$OFF" bundle create --state "$S" --clock "${day}T10:00:00Z" --type issuing-ca-cert --out "$T/b-iss" \
	"${SH[@]}" "$S/certs/issuing-1.der" >/dev/null
FP=$(openssl x509 -in "$R" -outform DER | sha256sum | cut -c1-64)
TC=(--clock "${day}T11:00:00Z")
cc -shared -fPIC -o "$T/failfsync.so" "$HANKO_SRC/test/data/init/failfsync.c" -ldl
certs_fsync_fails() {
	env HK_FAIL_FSYNC_DIR="$O/certs" LD_PRELOAD="$T/failfsync.so" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}
roots() { sqlite3 "$O/store.db" "SELECT count(*) FROM ca_certs WHERE kind = 'root'"; }

fails "trust: the fsync of certs/ after the anchor's rename fails" 8 "root-anchor.der: cannot fsync its folder" \
	certs_fsync_fails "$ON" trust --state "$O" "${TC[@]}" --fingerprint "$FP" "$R"
check "... the anchor is in place, the store has no root row" bash -c \
	"cmp -s '$O/certs/root-anchor.der' <(openssl x509 -in '$R' -outform DER) && [ \"\$(sqlite3 '$O/store.db' \"SELECT count(*) FROM ca_certs WHERE kind = 'root'\")\" = 0 ]"

fails "import refuses an anchor without its row, naming trust" 3 \
	"root-anchor.der: pinned, but the store has no root generation 1: a trust stopped before its commit; run hanko-online trust again with the same root and --fingerprint" \
	"$ON" import --state "$O" "${TC[@]}" "$T/b-iss"
check "... nothing imported" bash -c "[ -z \"\$(ls -A '$O/bundles')\" ] && \
	[ \"\$(sqlite3 '$O/store.db' 'SELECT count(*) FROM bundles; SELECT count(*) FROM ca_certs' | tr '\n' ' ')\" = '0 0 ' ]"

# another root in the anchor's place (a stopped trust of another file):
# not replaced by this one
state_copy "$O" "$T/other"
openssl x509 -in "$S/certs/issuing-1.pem" -outform DER -out "$T/other/certs/root-anchor.der"
D=$(tree_digest "$T/other/certs")
fails "trust over another stopped anchor is refused" 7 \
	"root-anchor.der: holds another root, pinned by a trust that stopped before the store recorded it" \
	"$ON" trust --state "$T/other" "${TC[@]}" --fingerprint "$FP" "$R"
check "... the anchor is as it was, no root row" bash -c "[ '$(tree_digest "$T/other/certs")' = '$D' ] && \
	[ \"\$(sqlite3 '$T/other/store.db' \"SELECT count(*) FROM ca_certs WHERE kind = 'root'\")\" = 0 ]"

ok "trust again with the same root and fingerprint completes it" \
	"$ON" trust --state "$O" "${TC[@]}" --fingerprint "$FP" "$R"
check "... one root row, generation 1, the anchor's bytes" test \
	"$(sqlite3 "$O/store.db" "SELECT generation || ' ' || hex(der) FROM ca_certs WHERE kind = 'root'")" = \
	"1 $(xxd -p -u "$O/certs/root-anchor.der" | tr -d '\n')"
check "... the PEM anchor is the root" cmp -s "$O/certs/root-anchor.pem" <(openssl x509 -in "$R")
check "... audited as the completion" grep -q "	root.trust	ok	op1@ca-online	.*; completes a trust that stopped before the store recorded it	" \
	"$O/audit/audit.log"
fails "trust once more: pinned already" 7 "a root is pinned already" \
	"$ON" trust --state "$O" "${TC[@]}" --fingerprint "$FP" "$R"
check "... still one root row" test "$(roots)" = 1
ok "import now" "$ON" import --state "$O" "${TC[@]}" "$T/b-iss"
ok "the audit log verifies" "$OFF" audit verify --state "$O"
finish

#!/usr/bin/env bash
# t_init_fsync.sh - init of hanko-offline and of hanko-online when the last
# step fails: the fsync of the folder holding the new state, after the state
# was renamed into place (shared/newstate.c, hk_newstate_commit; a failing
# medium, through an LD_PRELOAD shim). From the rename on the state is in
# place and nothing of it may be removed: the run exits 8 with one line
# saying so, and the key managers' shares on the media are kept, else the
# CA's key could never be activated (CPS 6-2-1-7).
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
ON=$HANKO_ONLINE
CLOCK=2026-04-01T00:00:00Z
cc -shared -fPIC -o "$T/failfsync.so" "$HANKO_SRC/test/data/init/failfsync.c" -ldl
mkdir -p "$T/p"
P=$(realpath "$T/p")
passins=()
for km in "${KMS[@]}"; do passins+=(--passin "$km=env:HK_PASS_$km"); done
# fsync_fails COMMAND...: COMMAND with every fsync of the folder $P failing
fsync_fails() {
	env HK_FAIL_FSYNC_DIR="$P" LD_PRELOAD="$T/failfsync.so" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}
DURABLE='the new state IS in place, but the folder holding it could not be fsynced \(Input/output error\), so its directory entry may not be durable: remove nothing'

fails "offline init: the fsync after the rename fails" 8 "p/state: $DURABLE" \
	fsync_fails "$OFF" init --state "$P/state" --profile "$PROFILE" --roster "$ROSTER" \
	--media "$T/media" --rehearsal --kdf interactive --clock $CLOCK "${passins[@]}"
check "... the state is in place, alone in its folder (no temporary folder)" \
	bash -c "[ -f '$P/state/state.conf' ] && [ \"\$(ls -A '$P')\" = state ]"
check "... every key manager's share is kept" bash -c \
	'for i in 1 2 3 4 5; do km=$(echo yamada sato suzuki takahashi tanaka | cut -d" " -f$i); \
	test -s "$1/media/$km/share-$i-$km.hks" || exit 1; done' _ "$T"
check "... the token and the sealed PINs are kept" bash -c \
	"[ -f '$P/state/token/softhsm2.conf' ] && [ -s '$P/state/secrets/token-user-pin.sealed' ] && [ -s '$P/state/secrets/token-so-pin.sealed' ]"
ok "... its audit log verifies" "$OFF" audit verify --state "$P/state"
mapfile -t args < <(share_args "$T" 1 3 5)
ok "... and three of the kept shares activate it" "$OFF" activate --state "$P/state" "${args[@]}"

fails "online init: the fsync after the rename fails" 8 "p/online: $DURABLE" \
	fsync_fails "$ON" init --state "$P/online" --profile "$PROFILE" --rehearsal --clock $CLOCK
check "... the state is in place (token, PIN file, store), no temporary folder" bash -c \
	"for f in state.conf token/softhsm2.conf secrets/token-user-pin store.db certs/issuing-1.csr.der; do \
	test -f '$P/online/'\$f || exit 1; done; [ \"\$(ls -A '$P' | sort | tr '\n' ' ')\" = 'online state ' ]"
ok "... its audit log verifies" "$OFF" audit verify --state "$P/online"

# The key managers' media on exFAT mounted through FUSE (exfat-fuse), which
# takes no rename flags (renameat2 RENAME_NOREPLACE: EINVAL) and ignores a
# chmod: test/data/media/fatlike.c makes $T/usb so. Each share is written
# all the same (it was refused: "cannot rename into place: Invalid
# argument", exit 8) and activates the token.
cc -shared -fPIC -o "$T/fatlike.so" "$HANKO_SRC/test/data/media/fatlike.c" -ldl
mkdir -p "$T/usb"
ok "offline init, the shares onto exFAT through FUSE" env HK_FATLIKE_PREFIX="$T/usb" HK_FATLIKE_CHMOD=pass \
	HK_FATLIKE_TRACE="$T/fat.trace" LD_PRELOAD="$T/fatlike.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$OFF" init --state "$T/state-usb" --profile "$PROFILE" --roster "$ROSTER" \
	--media "$T/usb/media" --rehearsal --kdf interactive --clock $CLOCK "${passins[@]}"
check "... the medium refused the flag (the shim at work)" grep -q '^renameat2 ' "$T/fat.trace"
mapfile -t args < <(share_args "$T/usb" 1 3 5)
ok "... and three of its shares activate the token" "$OFF" activate --state "$T/state-usb" "${args[@]}"
finish

#!/usr/bin/env bash
# t_state_relative.sh - a state folder made with a relative --state (as the
# man page's examples do: init --state demo/state) is used later from
# another working folder. SoftHSM2 reads its token folder as written in
# token/softhsm2.conf, from the working folder of each command: a relative
# one there left every later command run elsewhere unable to open the
# token ("cannot load PKCS#11 module", exit 5) (shared/newstate.c).
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$(realpath "$HANKO_TMP")
ON=$HANKO_ONLINE
passins=()
for km in "${KMS[@]}"; do passins+=(--passin "$km=env:HK_PASS_$km"); done

mkdir -p "$T/a/demo"
ok "offline init with a relative --state (demo/state, from $T/a)" \
	bash -c 'cd "$1/a" && shift && "$@"' _ "$T" "$OFF" init --state demo/state \
	--profile "$PROFILE" --roster "$ROSTER" --media demo/media --rehearsal \
	--kdf interactive "${passins[@]}"
mapfile -t args < <(share_args "$T/a/demo" 1 3 5)
ok "... three shares activate it from the folder it was made in" \
	bash -c 'cd "$1/a" && shift && "$@"' _ "$T" "$OFF" activate --state demo/state "${args[@]}"
ok "... and from another folder, naming it a/demo/state" \
	bash -c 'cd "$1" && shift && "$@"' _ "$T" "$OFF" activate --state a/demo/state "${args[@]}"
ok "... and from / by its absolute path" \
	bash -c 'cd / && "$@"' _ "$OFF" activate --state "$T/a/demo/state" "${args[@]}"

mkdir -p "$T/b"
ok "online init with a relative --state (online, from $T/b)" \
	bash -c 'cd "$1/b" && shift && "$@"' _ "$T" "$ON" init --state online \
	--profile "$PROFILE" --rehearsal
ok "... check from / by its absolute path" "$ON" check --state "$T/b/online"

# The same state copied to another path (a spare machine with another
# folder, docs/backup.md "Restore" step 4): its softhsm2.conf still names
# the first path's token folder. With that one there, the copy would use
# the other state's token unseen; with it gone, SoftHSM2 failed to start
# and the line named only the module ("cannot load PKCS#11 module").
mkdir -p "$T/spare"
cp -a "$T/b/online" "$T/spare/online"
fails "a copy at another path, the first still there: refused, naming both token folders (exit 5)" 5 \
	"^hanko-online check: $T/spare/online/token/softhsm2.conf: directories.tokendir names $T/b/online/token/tokens/ \\(another folder\\), not this state's token folder $T/spare/online/token/tokens/: a state restored or moved to another path; restore it at the path it was made at or make that line name $T/spare/online/token/tokens/\$" \
	"$ON" check --state "$T/spare/online"
mv "$T/b/online" "$T/b/online.gone"
fails "... the first path gone: refused the same way, naming why (exit 5)" 5 \
	"^hanko-online check: $T/spare/online/token/softhsm2.conf: directories.tokendir names $T/b/online/token/tokens/ \\(No such file or directory\\), not this state's token folder" \
	"$ON" check --state "$T/spare/online"
sed -i "s|^directories.tokendir = .*|directories.tokendir = $T/spare/online/token/tokens/|" "$T/spare/online/token/softhsm2.conf"
ok "... that line made to name the copy's token folder: check opens its token" "$ON" check --state "$T/spare/online"
cp -a "$T/a/demo/state" "$T/spare/state"
mapfile -t args < <(share_args "$T/a/demo" 1 3 5)
fails "an offline state copied to another path: activate refused naming its softhsm2.conf (exit 5)" 5 \
	"^hanko-offline activate: $T/spare/state/token/softhsm2.conf: directories.tokendir names $T/a/demo/state/token/tokens/ \\(another folder\\)" \
	"$OFF" activate --state "$T/spare/state" "${args[@]}"
mv "$T/b/online.gone" "$T/b/online"
check "... its token is found from another folder through its softhsm2.conf" \
	bash -c 'cd / && SOFTHSM2_CONF="$1/b/online/token/softhsm2.conf" softhsm2-util --show-slots | grep -q "Label: *hanko-online"' _ "$T"
finish

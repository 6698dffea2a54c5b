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
check "... its token is found from another folder through its softhsm2.conf" \
	bash -c 'cd / && SOFTHSM2_CONF="$1/b/online/token/softhsm2.conf" softhsm2-util --show-slots | grep -q "Label: *hanko-online"' _ "$T"
finish

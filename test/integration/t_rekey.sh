#!/usr/bin/env bash
# t_rekey.sh - changing the quorum key itself (rotate-shares
# --new-quorum-key; docs/key-lifecycle.md "Changing the quorum key"; CPS
# 5-2-2, 5-3-3, 6-2-1-2, 6-4-1): after a re-key, m old shares and the
# retired set record combine a key that opens none of the state's sealed
# files (a plain rotation leaves them all open to it); the new shares
# activate, back up and checkpoint; a backup made before restores with the
# new shares (the old key kept in a history sealed under the new one); the
# log names each new sealed file with its SHA-256; a run killed between the
# sealed files, just before or just after the commit leaves a CA that
# activates with one of the two sets, and the next run cleans up.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
PROBE=${HANKO_SEALPROBE:?run through ctest}
ASAN_PRELOAD="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
A=$T/a
make_ca "$A"
mapfile -t Q < <(share_args "$A" 1 2 3)
"$OFF" create-root --state "$A/state" "${Q[@]}" >/dev/null
mkdir -p "$A/bk"
for k in root-1 audit-1; do
	"$OFF" backup --state "$A/state" --key "$k" --out "$A/bk/$k.hkb" "${Q[@]}" >/dev/null
done
OLDSET=$(sed -n 's/^quorum.set-id = //p' "$A/state/state.conf")
NEW=$T/roster-new.yaml
rotation_roster "$ROSTER" "$NEW"
NEWPASS=(--passin nakamura=env:HK_PASS_nakamura --passin kobayashi=env:HK_PASS_kobayashi
	--passin yamada=env:HK_NEW_yamada --passin suzuki=env:HK_NEW_suzuki)
OLDQ=("$A/media/yamada/share-1-yamada.hks" HK_PASS_yamada
	"$A/media/sato/share-2-sato.hks" HK_PASS_sato
	"$A/media/suzuki/share-3-suzuki.hks" HK_PASS_suzuki)
state_copy "$A/state" "$T/pre"
cp -a "$A/media" "$T/pre-media"
# restore_pre: the state (with its own token) as before any rotation
restore_pre() {
	rm -rf "$A/state" "$A/media" "$A/nm"
	state_copy "$T/pre" "$A/state"
	sed -i "s|^directories.tokendir = .*|directories.tokendir = $A/state/token/tokens/|" \
		"$A/state/token/softhsm2.conf"
	cp -a "$T/pre-media" "$A/media"
}
ROT=("$OFF" rotate-shares --state "$A/state" --roster "$NEW" --media "$A/nm"
	--kdf interactive "${NEWPASS[@]}" "${Q[@]}")
ns() { find "$A/nm/$1" -name '*.hks'; }

# What a plain rotation leaves: the same key, so the old shares and the
# retired set still open every sealed secret (why a re-key exists).
ok "a plain rotation" "${ROT[@]}"
check "... the old shares and the retired set open the secrets (exit 1)" \
	bash -c "'$PROBE' '$A/state/quorum.set.$OLDSET.retired' '$A/state/secrets' ${OLDQ[*]} >'$T/probe' 2>&1; [ \$? = 1 ]"
check "... the user PIN among them" grep -q '^opens token-user-pin.sealed$' "$T/probe"

restore_pre
# A second name of the old key's user PIN file stands in for the blocks
# that held it: the re-key must overwrite them (as destroy does a seed's),
# not only unlink the name and leave the bytes on the disk.
mkdir "$T/blocks"
ln "$A/state/secrets/token-user-pin.sealed" "$T/blocks/token-user-pin.sealed"
ok "a rotation with --new-quorum-key" "${ROT[@]}" --new-quorum-key
cp "$T/out" "$T/rekey.out"
NEWSET=$(sed -n 's/^quorum.set-id = //p' "$A/state/state.conf")
KID=$(sed -n 's/^New quorum key \([0-9a-f]\{16\}\): 4 secrets and the key history sealed under it; the old key.s files removed\.$/\1/p' "$T/rekey.out")
check "... it names the new key and the four secrets ($KID)" test -n "$KID"
check "... state.conf names a new set" test "$NEWSET" != "$OLDSET"
check "... secrets/ holds only the new key's files" test \
	"$(cd "$A/state/secrets" && ls | tr '\n' ' ')" = \
	"backup-seed-audit-1.key-$KID.sealed backup-seed-root-1.key-$KID.sealed quorum-key-history.key-$KID.sealed token-so-pin.key-$KID.sealed token-user-pin.key-$KID.sealed "
check "... the old shares and the retired set open none of them (exit 0)" \
	bash -c "'$PROBE' '$A/state/quorum.set.$OLDSET.retired' '$A/state/secrets' ${OLDQ[*]} >'$T/probe' 2>&1"
check "... each refused" test "$(grep -c '^refused ' "$T/probe")" = 5
check "... nor the old key's user PIN file's blocks: overwritten in place (exit 0)" \
	bash -c "'$PROBE' '$A/state/quorum.set.$OLDSET.retired' '$T/blocks' ${OLDQ[*]} >'$T/probe' 2>&1"
NEWQ=("$(ns nakamura)" HK_PASS_nakamura "$(ns suzuki)" HK_NEW_suzuki)
check "... the new shares open all of them (exit 1, 5 opened)" \
	bash -c "'$PROBE' '$A/state/quorum.set' '$A/state/secrets' ${NEWQ[*]} >'$T/probe' 2>&1; [ \$? = 1 ] && [ \$(grep -c '^opens ' '$T/probe') = 5 ]"
for f in "$A/state/secrets/"*; do
	b=${f##*/} h=$(sha256sum "$f" | cut -d' ' -f1)
	check "... the log names secrets/$b and its SHA-256" \
		grep -q "	quorum.rekey.seal	ok	[a-z,]*	secrets/$b SHA-256 $h: " "$A/state/audit/audit.log"
done
check "... the log says the old key's files were removed (4)" \
	test "$(grep -c '	secrets.remove	ok	.*sealed under a quorum key not in force (key id of init)' "$A/state/audit/audit.log")" = 4
fails "an old share is refused, named as the retired set's" 4 "belongs to quorum set $OLDSET, retired" \
	"$OFF" activate --state "$A/state" --share "$(ns nakamura)" --passin env:HK_PASS_nakamura \
	--share "$A/media/sato/share-2-sato.hks" --passin env:HK_PASS_sato
NQ=(--share "$(ns nakamura)" --passin env:HK_PASS_nakamura --share "$(ns suzuki)" --passin env:HK_NEW_suzuki)
ok "the new shares activate" "$OFF" activate --state "$A/state" "${NQ[@]}"
ok "... and back up root-1 (wrap, checkpoint signed)" "$OFF" backup --state "$A/state" \
	--key root-1 --out "$A/bk/root-1-new.hkb" "${NQ[@]}"
# Lost token: the backups made before the re-key (KEK of the old key)
# restore with the new shares through the history.
SOFTHSM2_CONF=$A/state/token/softhsm2.conf softhsm2-util --delete-token \
	--token "$(sed -n 's/^token.label = //p' "$A/state/state.conf")" >/dev/null
ok "backups made before the re-key restore with the new shares" \
	"$OFF" restore --state "$A/state" --backup "$A/bk/root-1.hkb" --backup "$A/bk/audit-1.hkb" \
	--share "$(ns kobayashi)" --passin env:HK_PASS_kobayashi \
	--share "$(ns yamada)" --passin env:HK_NEW_yamada
ok "... the restored token activates with the new shares" "$OFF" activate --state "$A/state" "${NQ[@]}"
ok "the audit log verifies" "$OFF" audit verify --state "$A/state"
# A second re-key: the history holds both older keys; the first backups
# still restore.
export HK_N2_nakamura='Shimabara ferry at noon 1795' HK_N2_kobayashi='Yatsushiro tatami rush 6 fields'
export HK_N2_yamada='Kumamoto ramen garlic chips 79' HK_N2_suzuki='Minamata bay clear water 2015'
ok "a second re-key" "$OFF" rotate-shares --state "$A/state" --roster "$A/state/roster.yaml" \
	--media "$A/nm2" --kdf interactive --new-quorum-key --passin nakamura=env:HK_N2_nakamura \
	--passin kobayashi=env:HK_N2_kobayashi --passin yamada=env:HK_N2_yamada \
	--passin suzuki=env:HK_N2_suzuki "${NQ[@]}"
check "... the shares of the first re-key open nothing either" \
	bash -c "'$PROBE' '$A/state/quorum.set.$NEWSET.retired' '$A/state/secrets' ${NEWQ[*]} >'$T/probe' 2>&1"
SOFTHSM2_CONF=$A/state/token/softhsm2.conf softhsm2-util --delete-token \
	--token "$(sed -n 's/^token.label = //p' "$A/state/state.conf")" >/dev/null
ok "... the first backups restore with the third set's shares" \
	"$OFF" restore --state "$A/state" --backup "$A/bk/root-1.hkb" --backup "$A/bk/audit-1.hkb" \
	--share "$(find "$A/nm2/nakamura" -name '*.hks')" --passin env:HK_N2_nakamura \
	--share "$(find "$A/nm2/yamada" -name '*.hks')" --passin env:HK_N2_yamada
ok "... the audit log verifies" "$OFF" audit verify --state "$A/state"

# Crash points (a kill, through crashat.so, at a rename): between the
# sealed files (before 1: a sealed file's temporary copy is left, which the
# next re-key removes too), just before and just after the commit.
cc -shared -fPIC -o "$T/crashat.so" "$HANKO_SRC/test/data/audit/crashat.c" -ldl
crash() {	# crash PATTERN WHEN SKIP: the re-key killed there (exit 99)
	local rc=0
	env HK_CRASH_AT="$1" HK_CRASH_WHEN="$2" HK_CRASH_SKIP="$3" LD_PRELOAD="$T/crashat.so" \
		ASAN_OPTIONS="$ASAN_PRELOAD" "${ROT[@]}" --new-quorum-key >"$T/crash.out" 2>&1 || rc=$?
	[ "$rc" = 99 ]
}
OLDA=(--share "$A/media/yamada/share-1-yamada.hks" --passin env:HK_PASS_yamada
	--share "$A/media/sato/share-2-sato.hks" --passin env:HK_PASS_sato
	--share "$A/media/suzuki/share-3-suzuki.hks" --passin env:HK_PASS_suzuki)
for at in "*/secrets/*.sealed.tmp-*>*/secrets/*.sealed after 0" \
	"*/secrets/*.sealed.tmp-*>*/secrets/*.sealed after 2" \
	"*/secrets/*.sealed.tmp-*>*/secrets/*.sealed before 1" \
	"*/quorum.set.new>*/quorum.set before 0"; do
	set -- $at
	restore_pre
	check "killed at $1 ($2, skip $3)" crash "$1" "$2" "$3"
	CQ=(--share "$(ns nakamura)" --passin env:HK_PASS_nakamura --share "$(ns suzuki)" --passin env:HK_NEW_suzuki)
	fails "... the new shares are refused: the old set is in force" 4 "nakamura" \
		"$OFF" activate --state "$A/state" "${CQ[@]}"
	ok "... the old shares activate" "$OFF" activate --state "$A/state" "${OLDA[@]}"
	ok "... the re-key run again succeeds" "${ROT[@]}" --new-quorum-key
	kid=$(sed -n 's/^New quorum key \([0-9a-f]*\):.*/\1/p' "$T/out")
	check "... and leaves only its new key's files ($kid)" test \
		"$(ls "$A/state/secrets" | grep -vc "\.key-$kid\.sealed\$")" = 0
	ok "... the audit log verifies" "$OFF" audit verify --state "$A/state"
done
restore_pre
check "killed just after the commit" crash "*/quorum.set.new>*/quorum.set" after 0
CQ=(--share "$(ns nakamura)" --passin env:HK_PASS_nakamura --share "$(ns suzuki)" --passin env:HK_NEW_suzuki)
fails "... the old shares are refused, named as the retired set's" 4 "belongs to quorum set $OLDSET, retired" \
	"$OFF" activate --state "$A/state" "${OLDA[@]}"
check "... the old key's files are still there (killed before their removal)" \
	test -e "$A/state/secrets/token-user-pin.sealed"
# The kill came before the rotation synced the state folder: the
# commit's rename may not be on disk, and with it lost the old set would
# come back without its files. The activation syncs it before it removes
# anything; a sync that fails removes nothing.
cc -shared -fPIC -o "$T/failfsync.so" "$HANKO_SRC/test/data/init/failfsync.c" -ldl
fails "... an activation whose sync of the state folder fails removes nothing" 8 \
	"quorum.set: cannot sync the folder of the quorum set in force before removing the files of the key it replaced: .*; nothing removed" \
	env HK_FAIL_FSYNC_DIR="$(realpath "$A/state")" LD_PRELOAD="$T/failfsync.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$OFF" activate --state "$A/state" "${CQ[@]}"
check "... the old key's files are all still there" test -e "$A/state/secrets/token-user-pin.sealed"
rm -rf "$T/blocks"; mkdir "$T/blocks"
ln "$A/state/secrets/token-user-pin.sealed" "$T/blocks/token-user-pin.sealed"
ok "... the new shares activate" "$OFF" activate --state "$A/state" "${CQ[@]}"
check "... and that activation removed the old key's files (audited)" bash -c \
	"[ ! -e '$A/state/secrets/token-user-pin.sealed' ] && grep -q '	secrets.remove	ok	nakamura,suzuki	secrets/token-user-pin.sealed overwritten and removed' '$A/state/audit/audit.log'"
check "... the old shares and the retired set open nothing now" \
	bash -c "'$PROBE' '$A/state/quorum.set.$OLDSET.retired' '$A/state/secrets' ${OLDQ[*]} >'$T/probe' 2>&1"
check "... nor the removed user PIN file's blocks: overwritten in place (exit 0)" \
	bash -c "'$PROBE' '$A/state/quorum.set.$OLDSET.retired' '$T/blocks' ${OLDQ[*]} >'$T/probe' 2>&1"
ok "... the audit log verifies" "$OFF" audit verify --state "$A/state"

# A re-key killed before its commit leaves the new key's files (and the
# new shares); a destroy run before the next re-key must retire the seed in
# every file that holds it, or the stopped run's shares (with its
# quorum.set.new) still open it: CPS 6-2-1-9, "no quorum, present or
# future" (docs/key-lifecycle.md, Destruction 1).
restore_pre
check "killed just before the commit, again" crash "*/quorum.set.new>*/quorum.set" before 0
SQ=("$(ns nakamura)" HK_PASS_nakamura "$(ns suzuki)" HK_NEW_suzuki)
check "... the stopped run's shares open its seed of root-1" \
	bash -c "'$PROBE' '$A/state/quorum.set.new' '$A/state/secrets' ${SQ[*]} >'$T/probe' 2>&1; grep -q '^opens backup-seed-root-1\.key-' '$T/probe'"
check "... the seed of root-1 is in a file of the stopped run's key too" \
	bash -c "ls '$A/state/secrets' | grep -q '^backup-seed-root-1\.key-[0-9a-f]*\.sealed\$'"
# and a leftover of a write of it interrupted (hk_file_write's temporary name)
f=$(ls "$A/state/secrets/"backup-seed-root-1.key-*.sealed)
cp -p "$f" "$f.tmp-0123456789abcdef"
operators
approve_roster "$A/state" watanabe ito kimura
ok "... a rollover makes root-2 current (old shares)" \
	"$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/rollover.yaml" --state "$A/state" \
	--confirm-digests "${Q[@]}" "${OPS[@]}"
ok "... root-1 is destroyed" "$OFF" destroy --state "$A/state" --key root-1 --yes-destroy root-1 "${Q[@]}"
check "... no file of secrets/ holds root-1's seed any more" \
	bash -c "! ls -a '$A/state/secrets' | grep -q '^backup-seed-root-1\.'"
check "... the stopped run's shares open no seed of root-1" \
	bash -c "'$PROBE' '$A/state/quorum.set.new' '$A/state/secrets' ${SQ[*]} >'$T/probe' 2>&1; ! grep -q '^opens backup-seed-root-1' '$T/probe'"
ok "... the audit log verifies" "$OFF" audit verify --state "$A/state"

# The old key is wiped from the re-key's memory (its history and the
# secrets opened with it are hk_secret_alloc memory).
if have_gdb; then
	restore_pre
	OLDKEY=$("$PROBE" "$A/state/quorum.set" "$A/state/secrets" "${OLDQ[@]}" --print-key 2>/dev/null | sed -n 's/^key //p')
	check "the probe gives the old key" test ${#OLDKEY} = 64
	RE=$(echo "$OLDKEY" | sed 's/../\\x&/g')
	mem_at_exit "$T/rekey.mem" "$RE" "${ROT[@]}" --new-quorum-key </dev/null
	check "... the re-key ran under gdb" grep -q '^New quorum key' "$T/rekey.mem.out"
	check "... the old quorum key is not in its memory at exit" test ! -s "$T/rekey.mem"
fi
finish

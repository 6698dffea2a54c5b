#!/usr/bin/env bash
# t_rotate.sh - re-sharing the quorum key to a new roster (DESIGN.md 4,
# CPS 5-2-1-1, 5-3-3; docs/key-lifecycle.md): a 3-of-5 set is rotated by
# three old holders to a new roster of four (two stay, two join) with
# threshold 2; bad inputs change nothing; a medium that cannot be written
# leaves the old set in place; afterwards the new shares activate, every
# old share is refused and named as the retired set's, the old set and
# roster are kept marked retired, a backup made before still restores
# (same quorum key), and the audit log verifies. After an approval, a
# rotation that replaces a key manager leaves a roster the CA manager can
# approve, and the next ceremony runs.
. "$(dirname "$0")/lib.sh"
fresh_tmp
A=$HANKO_TMP/a
make_ca "$A"
mapfile -t Q < <(share_args "$A" 1 2 3)
"$OFF" create-root --state "$A/state" "${Q[@]}" >/dev/null
mkdir -p "$A/media/yamada/backup"
"$OFF" backup --state "$A/state" --key audit-1 \
	--out "$A/media/yamada/backup/audit-1.hkb" "${Q[@]}" >/dev/null
"$OFF" backup --state "$A/state" --key root-1 \
	--out "$A/media/yamada/backup/root-1.hkb" "${Q[@]}" >/dev/null
OLDSET=$(sed -n 's/^quorum.set-id = //p' "$A/state/state.conf")

# The new roster: yamada and suzuki stay, nakamura and kobayashi join;
# sato, takahashi and tanaka leave. Threshold 2 of 4.
NEW=$HANKO_TMP/roster-new.yaml
rotation_roster "$ROSTER" "$NEW"
NEWPASS=(--passin nakamura=env:HK_PASS_nakamura --passin kobayashi=env:HK_PASS_kobayashi
	--passin yamada=env:HK_NEW_yamada --passin suzuki=env:HK_NEW_suzuki)
NM=$A/newmedia
digest_before=$(cd "$A/state" && sha256sum quorum.set roster.yaml state.conf)

mapfile -t TWO < <(share_args "$A" 4 5)
fails "rotation needs the quorum of the current set" 4 "2 of the 3 shares needed" \
	"$OFF" rotate-shares --state "$A/state" --roster "$NEW" --media "$NM" \
	--kdf interactive "${NEWPASS[@]}" "${TWO[@]}"
export HK_WEAK=password
fails "a weak new passphrase is refused and named" 3 "passphrase of key manager kobayashi" \
	"$OFF" rotate-shares --state "$A/state" --roster "$NEW" --media "$NM" \
	--kdf interactive --passin nakamura=env:HK_PASS_nakamura \
	--passin kobayashi=env:HK_WEAK --passin yamada=env:HK_NEW_yamada \
	--passin suzuki=env:HK_NEW_suzuki "${Q[@]}"
fails "two new holders with one passphrase are refused" 3 "the same as" \
	"$OFF" rotate-shares --state "$A/state" --roster "$NEW" --media "$NM" \
	--kdf interactive --passin nakamura=env:HK_PASS_nakamura \
	--passin kobayashi=env:HK_PASS_nakamura --passin yamada=env:HK_NEW_yamada \
	--passin suzuki=env:HK_NEW_suzuki "${Q[@]}"
fails "a --passin for someone not on the new roster is refused" 2 "sato is not a key manager" \
	"$OFF" rotate-shares --state "$A/state" --roster "$NEW" --media "$NM" \
	--kdf interactive "${NEWPASS[@]}" --passin sato=env:HK_PASS_sato "${Q[@]}"
# A --passin with no ID (a slip for --passin ID=SPEC): refused, naming the
# argument, never its value (SPEC may be pass:PASSPHRASE).
fails "a --passin =pass:... with no ID is refused without its value" 2 "^hanko-offline rotate-shares: --passin \(argument [0-9]*\): expected ID=SPEC, the ID empty$" \
	"$OFF" rotate-shares --state "$A/state" --roster "$NEW" --media "$NM" \
	--kdf interactive "${NEWPASS[@]}" --passin '=pass:Aso sunrise 77 crater lake' "${Q[@]}"
check "... the passphrase is not on stderr" sh -c "! grep -q 'Aso sunrise' '$HANKO_TMP/err'"
# A medium that cannot be written, midway through the new shares.
mkdir -p "$NM"
touch "$NM/suzuki"
fails "a medium that cannot be written stops the rotation" 8 "suzuki" \
	"$OFF" rotate-shares --state "$A/state" --roster "$NEW" --media "$NM" \
	--kdf interactive "${NEWPASS[@]}" "${Q[@]}"
rm -f "$NM/suzuki"
# The commit itself fails (rename of quorum.set.new, a full medium through
# an LD_PRELOAD shim): everything written before it goes again, also the
# retired copy of the set still in force and roster.yaml.new.
cc -shared -fPIC -o "$HANKO_TMP/failrenamefrom.so" \
	"$HANKO_SRC/test/data/rotate/failrenamefrom.c" -ldl
fails "a commit that cannot be made stops the rotation" 8 \
	"quorum.set: cannot put the new set in place: No space left" \
	env HK_FAIL_RENAME_FROM=quorum.set.new LD_PRELOAD="$HANKO_TMP/failrenamefrom.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$OFF" rotate-shares --state "$A/state" --roster "$NEW" --media "$NM" \
	--kdf interactive "${NEWPASS[@]}" "${Q[@]}"
check "... no retired copy of the set still in force is left" \
	test ! -e "$A/state/quorum.set.$OLDSET.retired"
check "... no roster.yaml.new is left" test ! -e "$A/state/roster.yaml.new"
check "the refused rotations left set, roster and state.conf as they were" \
	test "$(cd "$A/state" && sha256sum quorum.set roster.yaml state.conf)" = "$digest_before"
check "no new share was left on any medium" \
	test -z "$(find "$NM" -name '*.hks')"
check "no quorum.set.new was left" test ! -e "$A/state/quorum.set.new"
ok "the old set still activates" "$OFF" activate --state "$A/state" "${Q[@]}"

ok "three old holders rotate the shares to the new roster" \
	"$OFF" rotate-shares --state "$A/state" --roster "$NEW" --media "$NM" \
	--kdf interactive "${NEWPASS[@]}" "${Q[@]}"
NEWSET=$(sed -n 's/^quorum.set-id = //p' "$A/state/state.conf")
check "state.conf names a new set" test "$NEWSET" != "$OLDSET"
check "the old set is kept, marked retired" \
	grep -qi 'retired' "$A/state/quorum.set.$OLDSET.retired"
check "the roster copy is the new roster" cmp -s "$NEW" "$A/state/roster.yaml"
check "the old roster is kept" cmp -s "$ROSTER" "$A/state/roster.yaml.$OLDSET.retired"
check "four new shares were issued" test "$(find "$NM" -name '*.hks' | wc -l)" = 4
ns() { find "$NM/$1" -name '*.hks'; }
ok "two new shares activate the token" "$OFF" activate --state "$A/state" \
	--share "$(ns nakamura)" --passin env:HK_PASS_nakamura \
	--share "$(ns suzuki)" --passin env:HK_NEW_suzuki
fails "one new share does not" 4 "1 of the 2 shares needed" \
	"$OFF" activate --state "$A/state" --share "$(ns kobayashi)" \
	--passin env:HK_PASS_kobayashi
for i in 1 2 3 4 5; do
	km=${KMS[$((i - 1))]}
	fails "old share $i ($km) is refused, named as the retired set's" 4 \
		"share-$i-$km.hks: share $i \($km\) belongs to quorum set $OLDSET, retired" \
		"$OFF" activate --state "$A/state" --share "$(ns nakamura)" \
		--passin env:HK_PASS_nakamura \
		--share "$A/media/$km/share-$i-$km.hks" --passin "env:HK_PASS_$km"
done
check "old shares are audited as refused" test \
	"$(grep -c '	share.open	fail	.*retired' "$A/state/audit/audit.log")" = 5

# The quorum key did not change: a backup made before restores with the
# new set (after the token is lost).
SOFTHSM2_CONF=$A/state/token/softhsm2.conf softhsm2-util --delete-token \
	--token hanko-root-test >/dev/null
ok "a backup made before the rotation restores with the new shares" \
	"$OFF" restore --state "$A/state" --backup "$A/media/yamada/backup/root-1.hkb" \
	--backup "$A/media/yamada/backup/audit-1.hkb" \
	--share "$(ns kobayashi)" --passin env:HK_PASS_kobayashi \
	--share "$(ns yamada)" --passin env:HK_NEW_yamada

# After an approval, a rotation that changes a key manager (kobayashi
# replaced by tanaka): the CA manager approves the roster it put in force
# (the key managers are the new set's), and the next ceremony runs.
export HK_PASS_kimura='Minamata hills tea 3 harvest'
export HK_PASS_hayashi='Kurokawa onsen lanterns 12 nights'
set_passphrases "$A/state" kimura hayashi
ok "the CA manager approves the roster" "$OFF" roster approve --state "$A/state" \
	--manager kimura --passin env:HK_PASS_kimura
NEW2=$HANKO_TMP/roster-new2.yaml
sed -e 's/^  - id: kobayashi$/  - id: tanaka/' -e 's/^    name: "\?小林 さくら"\?$/    name: "田中 美咲"/' \
	"$A/state/roster.yaml" >"$NEW2"
export HK_NEW2_tanaka='Kikuchi gorge maple leaves 2027'
NM2=$A/newmedia2
ok "a rotation that replaces kobayashi by tanaka" "$OFF" rotate-shares --state "$A/state" \
	--roster "$NEW2" --media "$NM2" --kdf interactive --passin tanaka=env:HK_NEW2_tanaka \
	--passin nakamura=env:HK_PASS_nakamura --passin yamada=env:HK_NEW_yamada \
	--passin suzuki=env:HK_NEW_suzuki --share "$(ns nakamura)" --passin env:HK_PASS_nakamura \
	--share "$(ns suzuki)" --passin env:HK_NEW_suzuki
ns2() { find "$NM2/$1" -name '*.hks'; }
NQ=(--share "$(ns2 tanaka)" --passin env:HK_NEW2_tanaka --share "$(ns2 yamada)" --passin env:HK_NEW_yamada)
BK=(ceremony run "$HANKO_SRC/ceremony-scripts/backup.yaml" --state "$A/state" "${NQ[@]}"
	--operator kimura=env:HK_PASS_kimura --operator hayashi=env:HK_PASS_hayashi)
fails "a ceremony before the CA manager approves the rotated roster" 3 \
	'roster.yaml: changed since the CA manager approved it' "$OFF" "${BK[@]}" --out "$A/bk0"
ok "the CA manager approves the rotated roster" "$OFF" roster approve --state "$A/state" \
	--manager kimura --passin env:HK_PASS_kimura
check "... roster.approved.yaml is the rotated roster" cmp -s "$NEW2" "$A/state/roster.approved.yaml"
mkdir -p "$A/bk1"
ok "the next ceremony runs with the new key managers' shares" "$OFF" "${BK[@]}" --out "$A/bk1"
check "... and its backup step names tanaka" \
	grep -q '	key.backup	ok	tanaka,yamada	root-1' "$A/state/audit/audit.log"
cp "$A/state/roster.yaml" "$HANKO_TMP/keep.yaml"
sed 's/^  - id: tanaka$/  - id: kobayashi/' "$HANKO_TMP/keep.yaml" >"$A/state/roster.yaml"
fails "roster approve still refuses key managers that are not the set's" 3 \
	'key manager [0-9] kobayashi .*not holder [0-9] \(tanaka\) of the quorum set in force' \
	"$OFF" roster approve --state "$A/state" --manager kimura --passin env:HK_PASS_kimura
cp "$HANKO_TMP/keep.yaml" "$A/state/roster.yaml"
# docs/key-lifecycle.md "A holder away, a passphrase forgotten, a medium
# lost": nakamura's medium is lost; the others re-deal the same key to the
# same roster, nakamura choosing a new passphrase; the lost share is then a
# retired set's, and the roster stays the one approved.
export HK_NEW3_tanaka='Kikuchi gorge maple leaves 2028' HK_NEW3_nakamura='Shimabara ferry at dusk 1793'
export HK_NEW3_yamada='Kumamoto ramen garlic chips 78' HK_NEW3_suzuki='Minamata bay clear water 2014'
NM3=$A/newmedia3
ok "a medium lost: the others re-deal to the same roster" "$OFF" rotate-shares --state "$A/state" \
	--roster "$A/state/roster.yaml" --media "$NM3" --kdf interactive \
	--passin tanaka=env:HK_NEW3_tanaka --passin nakamura=env:HK_NEW3_nakamura \
	--passin yamada=env:HK_NEW3_yamada --passin suzuki=env:HK_NEW3_suzuki "${NQ[@]}"
fails "... the lost share is refused, named as the retired set's" 4 \
	"share [0-9] \(nakamura\) belongs to quorum set [0-9a-f]{32}, retired" \
	"$OFF" activate --state "$A/state" --share "$(ns2 nakamura)" --passin env:HK_PASS_nakamura \
	--share "$(find "$NM3/yamada" -name '*.hks')" --passin env:HK_NEW3_yamada
ok "... nakamura's new share activates with another" "$OFF" activate --state "$A/state" \
	--share "$(find "$NM3/nakamura" -name '*.hks')" --passin env:HK_NEW3_nakamura \
	--share "$(find "$NM3/suzuki" -name '*.hks')" --passin env:HK_NEW3_suzuki
ok "... roster show" "$OFF" roster show --state "$A/state"
check "... the roster is still the one approved" grep -q ': approved$' "$HANKO_TMP/out"
ok "the audit log verifies" "$OFF" audit verify --state "$A/state"
finish

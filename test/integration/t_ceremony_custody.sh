#!/usr/bin/env bash
# t_ceremony_custody.sh - the key custody ceremonies run by the engine
# (ceremony-scripts/backup.yaml, destroy.yaml, restore.yaml,
# rotate-shares.yaml; docs/ceremony-custody.md; CPS 5-2-1-1, 6-2-1-4,
# 6-2-1-9, 4-14-1, 5-3-3): each as a rehearsal on a throwaway copy and as a
# real run of the same file; a failure forced after each step leaves token,
# log, state and media consistent; backup -> token lost -> restore ->
# rollover -> destroy -> the destroyed key's backup refused, all through
# ceremonies; destroy refuses the root key in force (before its label is
# asked, in a rehearsal too) and refuses without its label typed; after
# rotate-shares the old shares are refused and the new ones activate; the
# audit log verifies at the end.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
SCR=$HANKO_SRC/ceremony-scripts
export HK_PASS_kimura='Minamata hills tea 3 harvest'
export HK_PASS_hayashi='Kurokawa onsen lanterns 12 nights'
make_ca "$T/ca"
S=$T/ca/state
mapfile -t Q < <(share_args "$T/ca" 1 3 5)
mapfile -t Q2 < <(share_args "$T/ca" 2 3 4)
"$OFF" create-root --state "$S" "${Q[@]}" >/dev/null
# watanabe, ito (senior operators) and kimura run the rollover that ends
# root-1's life before it is destroyed.
operators
ROPS=("${OPS[@]}")
approve_roster "$S" kimura hayashi watanabe ito
OPS=(--operator kimura=env:HK_PASS_kimura --operator hayashi=env:HK_PASS_hayashi)
CLK=(--clock 2026-05-01T09:00:00Z)
export SOFTHSM2_CONF=$S/token/softhsm2.conf
# objs STATE LABEL: how many public key objects labelled LABEL the token named
# by STATE's state.conf holds.
objs() {
	local tok; tok=$(sed -n 's/^token.label = //p' "$1/state.conf")
	SOFTHSM2_CONF=$1/token/softhsm2.conf pkcs11-tool --module $SOFT --token-label "$tok" \
		--list-objects --type pubkey 2>/dev/null | grep -c "label: *$2\$" || true
}

for f in backup restore destroy rotate-shares; do
	ok "ceremony check accepts $f.yaml" "$OFF" ceremony check "$SCR/$f.yaml"
done

# ---- backup (CPS 6-2-1-4) ----
B=$SCR/backup.yaml
for step in approve activate backup-root backup-audit checkpoint; do
	M=$T/ff-backup-$step; mkdir -p "$M"
	rc=0; HANKO_FAIL_AT_STEP=$step "$OFF" ceremony run "$B" --state "$S" --rehearsal \
		--keep-rehearsal "${CLK[@]}" --out "$M" "${Q[@]}" "${OPS[@]}" >"$T/out" 2>"$T/err" || rc=$?
	C=$(kept "$T/out")
	check "backup: failure after $step: the run fails (exit $rc)" test "$rc" = 70 -a -n "$C"
	check "backup: failure after $step: no backup file is left on the medium" \
		test -z "$(find "$M" -name '*.hkb')"
	check "backup: failure after $step: the token keeps root-1 and audit-1" \
		test "$(objs "$C" root-1)" = 1 -a "$(objs "$C" audit-1)" = 1
	case $step in backup-*|checkpoint)
		check "backup: failure after $step: the removal is audited" \
			grep -q '	key.backup.remove	ok	' "$C/audit/audit.log" ;;
	esac
	# A rehearsal runs on a throwaway CA (offline/rehearsal.c): the real
	# shares must not open its token, and its token must still be whole.
	fails "backup: failure after $step: the real shares do not open the throwaway copy" 1 \
		"cannot be opened with the quorum key" "$OFF" activate --state "$C" "${Q[@]}"
	check "backup: failure after $step: the copy's token still holds audit-1" test "$(objs "$C" audit-1)" = 1
	ok "backup: failure after $step: the copy's audit log verifies" "$OFF" audit verify --state "$C"
	rm -rf "$C"
done
mkdir -p "$T/rh-backup"
ok "backup: rehearsal" "$OFF" ceremony run "$B" --state "$S" --rehearsal "${CLK[@]}" \
	--out "$T/rh-backup" "${Q[@]}" "${OPS[@]}"
check "backup: the rehearsal copy is gone" bash -c "! ls -d '$S'.rehearsal-* 2>/dev/null"
check "backup: the state's log records the rehearsal" \
	grep -q '	ceremony.rehearsal	ok	-	backup script SHA-256' "$S/audit/audit.log"
BK=$T/media/yamada/backup; mkdir -p "$BK"
ok "backup: real run" "$OFF" ceremony run "$B" --state "$S" --out "$BK" "${Q[@]}" "${OPS[@]}"
check "backup: both backups are on the medium, mode 0600" \
	test "$(stat -c %a "$BK/root-1.hkb")" = 600 -a "$(stat -c %a "$BK/audit-1.hkb")" = 600
want=$(openssl x509 -in "$S/certs/root-1.pem" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
check "backup: root-1.hkb is root-1.pem's key" grep -qx "public-key-sha256: $want" "$BK/root-1.hkb"
TX=$(ls "$BK"/backup-*.txt)
check "backup: the transcript lists both outputs with their SHA-256" bash -c \
	"grep -q \"^output: root-backup .* SHA-256 \$(sha256sum <'$BK/root-1.hkb' | cut -c1-64)\$\" '$TX' && grep -q '^output: audit-backup ' '$TX'"
ok "backup: the transcript's signature verifies" \
	openssl dgst -sha256 -verify "$S/audit/audit-key.pem" -signature "$TX.sig" "$TX"
check "backup: each key's backup is audited with the key managers" bash -c \
	"[ \$(grep -c '	key.backup	ok	yamada,suzuki,tanaka	' '$S/audit/audit.log') = 2 ]"
fails "backup: a second run refuses to overwrite the backups" 7 'root-1.hkb: output root-backup already exists' \
	"$OFF" ceremony run "$B" --state "$S" --out "$BK" "${Q[@]}" "${OPS[@]}"

# ---- destroy refuses the root key in force (CPS 6-2-1-9, 4-13, 4-14-2) ----
D=$SCR/destroy.yaml
IN_FORCE="destroy.yaml:[0-9]+:[0-9]+: step destroy: root-1 is the root key in force \(state.conf: root.generations = 1, no root.1.compromised\): CPS 6-2-1-9 .* once a rollover has made a newer generation current .* or a compromise ceremony has marked it root.1.compromised \(CPS 4-14-2\); nothing destroyed$"
rc=0; drive '[["Type the label of the key to destroy", "root-1"]]' \
	"$OFF" ceremony run "$D" --state "$S" "${Q[@]}" "${OPS[@]}" >"$T/tty.out" 2>&1 || rc=$?
check "destroy: root-1, the root key in force, is refused (exit $rc)" bash -c \
	"[ $rc = 3 ] && tr -d '\r' <'$T/tty.out' | grep -Eq \"\$1\"" _ "$IN_FORCE"
check "destroy: ... before anyone is asked to type its label" bash -c \
	"! grep -q 'Type the label of the key to destroy' '$T/tty.out' && ! tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -q '	ceremony.confirm	'"
fails "destroy: a rehearsal refuses it too" 3 "$IN_FORCE" \
	"$OFF" ceremony run "$D" --state "$S" --rehearsal --confirm-digests \
	"${CLK[@]}" "${Q[@]}" "${OPS[@]}"
check "destroy: after the refusals root-1 is whole" bash -c \
	"[ $(objs "$S" root-1) = 1 ] && [ -e '$S/secrets/backup-seed-root-1.sealed' ] && ! grep -q '^root.1.destroyed' '$S/state.conf'"

# ---- the token is lost: restore (CPS 4-14-1) ----
R=$SCR/restore.yaml
INS=(--input root-backup="$BK/root-1.hkb" --input audit-backup="$BK/audit-1.hkb")
softhsm2-util --delete-token --token hanko-root-test >/dev/null
fails "restore: the lost token no longer activates" 3 "no token labelled" \
	"$OFF" activate --state "$S" "${Q[@]}"
# A rehearsal runs on a throwaway CA (offline/rehearsal.c): its steps up to
# the restore can be rehearsed, but a real backup is never opened there.
for step in approve check-root-backup check-audit-backup; do
	rc=0; HANKO_FAIL_AT_STEP=$step "$OFF" ceremony run "$R" --state "$S" --rehearsal \
		--keep-rehearsal --confirm-digests "${CLK[@]}" "${INS[@]}" "${Q2[@]}" "${OPS[@]}" \
		>"$T/out" 2>"$T/err" || rc=$?
	C=$(kept "$T/out")
	check "restore: failure after $step: the run fails (exit $rc)" test "$rc" = 70 -a -n "$C"
	check "restore: failure after $step: state.conf still names the lost token, no fresh one" bash -c \
		"grep -qx 'token.label = hanko-root-test' '$C/state.conf' && ! SOFTHSM2_CONF='$C/token/softhsm2.conf' softhsm2-util --show-slots | grep -q hanko-root-test-r2"
	ok "restore: failure after $step: the copy's audit log verifies" "$OFF" audit verify --state "$C"
	rm -rf "$C"
done
fails "restore: a rehearsal never opens a real backup" 3 "no backup KEK seed for root-1" \
	"$OFF" ceremony run "$R" --state "$S" --rehearsal --confirm-digests \
	"${CLK[@]}" "${INS[@]}" "${Q2[@]}" "${OPS[@]}"
check "restore: the rehearsal made no token for the real state" \
	bash -c "! softhsm2-util --show-slots | grep -q hanko-root-test-r2"
# a copy of the script whose restore step names the audit key's backup only:
# refused before any token is made, naming the step's inputs (not --backup,
# an option of the restore command the ceremony does not take)
sed -e '/^      backup-1: root-backup$/d' -e 's/^      backup-2: audit-backup$/      backup-1: audit-backup/' \
	"$R" >"$T/restore-audit-only.yaml"
rc=0; "$OFF" ceremony run "$T/restore-audit-only.yaml" --state "$S" --confirm-digests \
	"${INS[@]}" "${Q2[@]}" "${OPS[@]}" >"$T/out" 2>"$T/err" || rc=$?
check "restore: a script without root-1's backup is refused (exit $rc)" test "$rc" = 3
check "... naming the restore step's backups, not --backup" grep -q \
	"restore: no backup of root-1 among the restore step's backups (params backup-1 .. backup-8, each a file input of the script)" "$T/err"
check "... no fresh token made" bash -c "! softhsm2-util --show-slots | grep -q hanko-root-test-r2"
ok "restore: real run" "$OFF" ceremony run "$R" --state "$S" --confirm-digests \
	"${INS[@]}" "${Q2[@]}" "${OPS[@]}"
check "restore: state.conf names the fresh token" grep -qx 'token.label = hanko-root-test-r2' "$S/state.conf"
check "restore: the fresh token holds root-1 and audit-1" \
	test "$(objs "$S" root-1)" = 1 -a "$(objs "$S" audit-1)" = 1
check "restore: each key's test signature verified" bash -c \
	"[ \$(grep -c '	key.restore	ok	.*test signature verifies' '$S/audit/audit.log') = 2 ]"
TX=$(ls -t "$S"/ceremonies/restore-*.txt | head -1)
check "restore: the transcript has the backups' SHA-256" \
	grep -q "^input: root-backup file .* SHA-256 $(sha256sum <"$BK/root-1.hkb" | cut -c1-64)$" "$TX"
ok "restore: the transcript is signed by the restored audit key" \
	openssl dgst -sha256 -verify "$S/audit/audit-key.pem" -signature "$TX.sig" "$TX"
ok "restore: the restored token activates" "$OFF" activate --state "$S" "${Q[@]}"

# ---- the rollover makes root-2 current: root-1's life ends (CPS 4-13) ----
ok "rollover: root-2 made current" "$OFF" ceremony run "$SCR/rollover.yaml" --state "$S" \
	--confirm-digests "${Q[@]}" "${ROPS[@]}"
check "rollover: root.generations = 2" grep -qx 'root.generations = 2' "$S/state.conf"

# ---- destroy refuses without the typed label (CPS 6-2-1-9) ----
fails "destroy: without a terminal (and no rehearsal answer) nothing is destroyed" 3 \
	'step destroy: destroying root-1 needs its label typed at the terminal' \
	setsid -w "$OFF" ceremony run "$D" --state "$S" "${Q[@]}" "${OPS[@]}"
rc=0; drive '[["Type the label of the key to destroy", "root-2"]]' \
	"$OFF" ceremony run "$D" --state "$S" "${Q[@]}" "${OPS[@]}" >"$T/tty.out" 2>&1 || rc=$?
check "destroy: a wrong label typed is refused (exit $rc)" bash -c \
	"[ $rc = 3 ] && grep -q \"the confirmation typed is not the key label 'root-1'; nothing destroyed\" '$T/tty.out'"
check "destroy: after the refusals root-1 is whole" bash -c \
	"[ $(objs "$S" root-1) = 1 ] && [ -e '$S/secrets/backup-seed-root-1.sealed' ] && ! grep -q '^root.1.destroyed' '$S/state.conf'"
check "destroy: the refusals are audited" bash -c \
	"[ \$(grep -c '	ceremony.confirm	fail	' '$S/audit/audit.log') -ge 2 ]"
for step in approve activate destroy checkpoint; do
	rc=0; HANKO_FAIL_AT_STEP=$step "$OFF" ceremony run "$D" --state "$S" --rehearsal \
		--keep-rehearsal --confirm-digests "${CLK[@]}" "${Q[@]}" "${OPS[@]}" >"$T/out" 2>"$T/err" || rc=$?
	C=$(kept "$T/out")
	check "destroy: failure after $step: the run fails (exit $rc)" test "$rc" = 70 -a -n "$C"
	case $step in
	approve|activate)
		check "destroy: failure after $step: root-1 and state.conf untouched, no real seed in the copy" bash -c \
			"[ $(objs "$C" root-1) = 1 ] && [ ! -e '$C/secrets/backup-seed-root-1.sealed' ] && ! grep -q '^root.1.destroyed' '$C/state.conf'" ;;
	*)
		check "destroy: failure after $step: root-1 is gone, seed retired, recorded" bash -c \
			"[ $(objs "$C" root-1) = 0 ] && [ ! -e '$C/secrets/backup-seed-root-1.sealed' ] && grep -q '^root.1.destroyed' '$C/state.conf'"
		check "destroy: failure after $step: the transcript says the destroy is kept (it has no undo)" grep -qx \
			'kept: destroy destroy: kept (no undo: what it did stays)' \
			"$(sed -n 's/^Transcript: \(.*\.txt\) (.*/\1/p' "$T/out")" ;;
	esac
	# A rehearsal runs on a throwaway CA (offline/rehearsal.c): the real
	# shares must not open its token, and its token must still be whole.
	fails "destroy: failure after $step: the real shares do not open the throwaway copy" 1 \
		"cannot be opened with the quorum key" "$OFF" activate --state "$C" "${Q[@]}"
	check "destroy: failure after $step: the copy's token still holds audit-1" test "$(objs "$C" audit-1)" = 1
	ok "destroy: failure after $step: the copy's audit log verifies" "$OFF" audit verify --state "$C"
	rm -rf "$C"
done
ok "destroy: rehearsal" "$OFF" ceremony run "$D" --state "$S" --rehearsal --confirm-digests \
	"${CLK[@]}" "${Q[@]}" "${OPS[@]}"
check "destroy: the rehearsal left the real root-1 whole" bash -c \
	"[ $(objs "$S" root-1) = 1 ] && ! grep -q '^root.1.destroyed' '$S/state.conf'"

# ---- destroy for real, then its backup is refused ----
rc=0; drive '[["Type the label of the key to destroy", "root-1"]]' \
	"$OFF" ceremony run "$D" --state "$S" "${Q[@]}" "${OPS[@]}" >"$T/tty.out" 2>&1 || rc=$?
check "destroy: real run with root-1 typed at the terminal (exit $rc)" test "$rc" = 0
check "destroy: the token holds no root-1, its seed is gone, state.conf records it" bash -c \
	"[ $(objs "$S" root-1) = 0 ] && [ ! -e '$S/secrets/backup-seed-root-1.sealed' ] && grep -q '^root.1.destroyed' '$S/state.conf'"
check "destroy: the confirmation is audited" \
	grep -q '	ceremony.confirm	ok	.*destroy root-1 confirmed at the terminal' "$S/audit/audit.log"
fails "restore after destroy: the destroyed key's backup is unusable" 3 'root-1.hkb: unusable' \
	"$OFF" ceremony run "$R" --state "$S" --confirm-digests "${INS[@]}" "${Q[@]}" "${OPS[@]}"
fails "backup after destroy: root-1 is refused" 3 'root-1: key: destroyed' \
	"$OFF" ceremony run "$B" --state "$S" --out "$T/late" "${Q[@]}" "${OPS[@]}"
check "backup after destroy: nothing left on the medium" test -z "$(find "$T/late" -name '*.hkb' 2>/dev/null)"

# ---- rotate-shares (CPS 5-3-3) ----
RS=$SCR/rotate-shares.yaml
NEW=$T/roster-new.yaml
rotation_roster "$S/roster.yaml" "$NEW"
ANS=$(python3 -c 'import json,os; e=os.environ; a=[]
for who,var in (("nakamura","HK_PASS_nakamura"),("kobayashi","HK_PASS_kobayashi"),("yamada","HK_NEW_yamada"),("suzuki","HK_NEW_suzuki")):
    a += [["New passphrase for "+who, e[var]], ["Again, to confirm", e[var]]]
print(json.dumps(a))')
setid() { sed -n 's/^quorum.set-id = //p' "$1/state.conf"; }
OLDSET=$(setid "$S")
for step in approve check-roster activate rotate checkpoint; do
	M=$T/ff-rotate-$step; mkdir -p "$M"
	rc=0; HANKO_FAIL_AT_STEP=$step drive "$ANS" "$OFF" ceremony run "$RS" \
		--state "$S" --rehearsal --keep-rehearsal --confirm-digests "${CLK[@]}" --out "$M" \
		--input new-roster="$NEW" "${Q[@]}" "${OPS[@]}" >"$T/out" 2>&1 || rc=$?
	C=$(kept "$T/out" | tr -d '\r')
	check "rotate: failure after $step: the run fails (exit $rc)" test "$rc" = 70 -a -n "$C"
	case $step in
	rotate|checkpoint)
		NS=$(sed -n 's/^quorum-set: //p' "$M/new-shares.txt")
		check "rotate: failure after $step: the copy's set is the manifest's, the old one retired" bash -c \
			"[ '$(setid "$C")' = '$NS' ] && [ -e '$C/quorum.set.$OLDSET.retired' ] && [ \$(find '$M' -name '*.hks' | wc -l) = 4 ]"
		fails "rotate: failure after $step: old shares no longer open the copy" 4 'retired' \
			"$OFF" activate --state "$C" "${Q[@]}" ;;
	*)
		check "rotate: failure after $step: no new share, set unchanged" bash -c \
			"[ -z \"\$(find '$M' -name '*.hks')\" ] && [ '$(setid "$C")' = '$OLDSET' ] && [ ! -e '$C/quorum.set.new' ]"
		fails "rotate: failure after $step: the real shares do not open the throwaway copy" 1 \
			"cannot be opened with the quorum key" "$OFF" activate --state "$C" "${Q[@]}" ;;
	esac
	ok "rotate: failure after $step: the copy's audit log verifies" "$OFF" audit verify --state "$C"
	rm -rf "$C"
done
mkdir -p "$T/rh-rotate"
rc=0; drive "$ANS" "$OFF" ceremony run "$RS" --state "$S" --rehearsal \
	--confirm-digests "${CLK[@]}" --out "$T/rh-rotate" --input new-roster="$NEW" "${Q[@]}" "${OPS[@]}" \
	>"$T/out" 2>&1 || rc=$?
check "rotate: rehearsal (exit $rc)" test "$rc" = 0
check "rotate: the rehearsal left the real set in place" test "$(setid "$S")" = "$OLDSET"
# The new roster may not carry a credential its holder did not set: the
# CA manager's verifier given to the auditor is refused by the rotate step.
python3 - "$NEW" "$T/roster-bad.yaml" <<'PY'
import re, sys
t = open(sys.argv[1], encoding='utf-8').read()
def cred(pid):
    m = re.search(r'^  - id: %s\n(?:    .*\n)*' % pid, t, re.M)
    return m, re.search(r'^    credential: .*\n', m.group(0), re.M).group(0)
_, kc = cred('kimura')
m, hc = cred('hayashi')
open(sys.argv[2], 'w', encoding='utf-8').write(t[:m.start()] + m.group(0).replace(hc, kc) + t[m.end():])
PY
mkdir -p "$T/bad-rotate"
fails "rotate: a new roster giving the auditor the CA manager's verifier is refused" 3 \
	'roster-bad.yaml: hayashi: credential .* not set by its holder' \
	"$OFF" ceremony run "$RS" --state "$S" --confirm-digests --out "$T/bad-rotate" \
	--input new-roster="$T/roster-bad.yaml" "${Q[@]}" "${OPS[@]}"
check "rotate: ... no new share, the set and the approval unchanged" bash -c \
	"[ -z \"\$(find '$T/bad-rotate' -name '*.hks')\" ] && [ '$(setid "$S")' = '$OLDSET' ] && ! grep -q \"\$(sha256sum <'$T/roster-bad.yaml' | cut -c1-64)\" '$S/state.conf'"
NM=$T/newmedia; mkdir -p "$NM"
rc=0; drive "$ANS" "$OFF" ceremony run "$RS" --state "$S" --confirm-digests \
	--out "$NM" --input new-roster="$NEW" "${Q[@]}" "${OPS[@]}" >"$T/out" 2>&1 || rc=$?
check "rotate: real run, each new holder typing a new passphrase (exit $rc)" test "$rc" = 0
check "rotate: the terminal did not echo a new passphrase" bash -c \
	"! grep -qF -e \"\$HK_PASS_nakamura\" -e \"\$HK_NEW_yamada\" '$T/out'"
NS=$(setid "$S")
check "rotate: the new set is the CA's and the manifest names it" bash -c \
	"[ '$NS' != '$OLDSET' ] && grep -qx 'quorum-set: $NS' '$NM/new-shares.txt' && grep -qx 'threshold: 2 of 4' '$NM/new-shares.txt'"
check "rotate: the manifest has each new share's SHA-256" bash -c \
	"f=\$(ls '$NM'/kobayashi/*.hks) && grep -q \"kobayashi \$f SHA-256 \$(sha256sum <\$f | cut -c1-64)\" '$NM/new-shares.txt'"
# Who handed over what, on the paper the witnesses sign: each new share
# with its holder and SHA-256, the new holders among the witnesses, and the
# key managers whose shares were used (tanaka leaves).
RTX=$(ls "$NM"/rotate-shares-*.txt)
check "rotate: the transcript lists each new share with its holder and SHA-256" bash -c '
	n=0; while read -r _ i who f _ h; do
		grep -qxF "output: new share $i of set $3 to $who ($(sed -n "/^  - id: $who\$/{n;s/^    name: \"\?\([^\"]*\)\"\?\$/\1/p}" "$4")) $f SHA-256 $h" "$1" || exit 1
		n=$((n + 1))
	done < <(grep "^share: " "$2/new-shares.txt"); [ "$n" = 4 ]' _ "$RTX" "$NM" "$(setid "$S")" "$NEW"
check "rotate: the new holders sign the transcript, the holders whose shares were used too" bash -c \
	"grep -qx 'witness: nakamura key-manager (new share 1) (中村 大輔)' '$RTX' &&
	grep -qx 'witness: kobayashi key-manager (new share 2) (小林 さくら)' '$RTX' &&
	grep -Eqx 'witness: yamada key-manager \(share used; new share [34]\) \(山田 太郎\)' '$RTX' &&
	grep -Eqx 'witness: tanaka key-manager \(share used; leaves\) \(田中 健\)' '$RTX'"
# new-quorum-key: true: each secret sealed again under the new key is in
# the transcript with its SHA-256, and the old key's files are gone.
check "rotate: the transcript lists each secret sealed under the new quorum key with its SHA-256" bash -c '
	n=0; for f in "$2"/secrets/*.sealed; do
		b=${f##*/}; k=${b#*.key-}; k=${k%.sealed}
		grep -qxF "output: sealed under the new quorum key $k: secrets/$b SHA-256 $(sha256sum <"$f" | cut -c1-64)" "$1" || exit 1
		n=$((n + 1))
	done; [ "$n" -ge 3 ] && [ -z "$(ls "$2"/secrets | grep -v "\.key-$k\.sealed$")" ]' _ "$RTX" "$S"
# docs/ceremony-custody.md "Check before leaving": each new holder runs
# share inspect on their share and compares its SHA-256 with new-shares.txt.
check "rotate: share inspect prints each new share's SHA-256 as new-shares.txt lists it" bash -c '
	n=0; while read -r _ i who f _ h; do
		got=$("$1" share inspect "$f" | sed -n "s/^sha256: *//p") || exit 1
		[ "$got" = "$h" ] || { echo "share $i ($who): inspect says \"$got\", the manifest $h" >&2; exit 1; }
		n=$((n + 1))
	done < <(grep "^share: " "$2/new-shares.txt"); [ "$n" = 4 ]' _ "$OFF" "$NM"
fails "rotate: old shares are refused, named as the retired set's" 4 'retired by a rotation' \
	"$OFF" activate --state "$S" "${Q[@]}"
NEWQ=(--share "$(ls "$NM"/nakamura/*.hks)" --passin env:HK_PASS_nakamura
	--share "$(ls "$NM"/suzuki/*.hks)" --passin env:HK_NEW_suzuki)
ok "rotate: two new shares activate the token" "$OFF" activate --state "$S" "${NEWQ[@]}"
check "rotate: the new roster is recorded as approved by the CA manager present" bash -c \
	"grep -qx \"roster.approved-sha256 = \$(sha256sum <'$NEW' | cut -c1-64)\" '$S/state.conf' && grep -qx 'roster.approved-by = kimura' '$S/state.conf'"
# audit-1 alone (root-1 is destroyed): a ceremony by the new key managers
# under the roster the rotation recorded as approved.
sed -e 's/^name: backup$/name: backup-audit/' -e '/- name: root-backup/,/kind: file/d' \
	-e '/- id: backup-root/,/out: root-backup/d' "$B" >"$T/backup-audit.yaml"
mkdir -p "$T/after"
ok "rotate: the next ceremony runs with the new key managers' shares" "$OFF" ceremony run \
	"$T/backup-audit.yaml" --state "$S" --out "$T/after" "${NEWQ[@]}" "${OPS[@]}"
check "rotate: ... and its backup step names them" \
	grep -q '	key.backup	ok	nakamura,suzuki	audit-1' "$S/audit/audit.log"
check "rotate: roster.approved.yaml follows the approval it recorded" \
	cmp -s "$NEW" "$S/roster.approved.yaml"
ok "rotate: the CA manager approves the roster in force again" "$OFF" roster approve \
	--state "$S" --manager kimura --passin env:HK_PASS_kimura

ok "the audit log verifies at the end" "$OFF" audit verify --state "$S"
finish

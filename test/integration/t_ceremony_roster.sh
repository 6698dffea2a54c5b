#!/usr/bin/env bash
# t_ceremony_roster.sh - roster changes as a ceremony (ceremony-scripts/
# roster-change.yaml; CPS 5-2-1, 5-2-2) and people authenticated by a
# PKCS#11 token of their own (CPS 5-2-3): refusals before anything changes,
# a failure forced at each step, a rehearsal then the real run, the old
# roster retired, credentials of people added set afterwards, a second
# SoftHSM2 token made here for one operator; a credential is approved only
# when its holder set it (roster approve and rotate-shares).
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
SCRIPT=$HANKO_SRC/ceremony-scripts/roster-change.yaml
operators
export HK_PASS_hayashi='Kurokawa lanterns 21 autumn'
export HK_PASS_nakamura='Tsujun bridge water 1854 arch'
make_ca "$T/ca"
S=$T/ca/state
approve_roster "$S" watanabe ito kimura hayashi
OPS=(--operator kimura=env:HK_PASS_kimura --operator hayashi=env:HK_PASS_hayashi)
run() { "$OFF" ceremony run "$SCRIPT" "$@"; }
# snap: roster.yaml, state.conf and the folder's file list.
snap() { (cat "$S/roster.yaml" "$S/state.conf"; ls "$S"/roster.yaml*) | sha256sum; }

# roster FILE EDIT: the state's roster with a python edit of its text.
edit_roster() {
	python3 - "$S/roster.yaml" "$1" "$2" <<'PY'
import re, sys
src, out, how = sys.argv[1:4]
t = open(src, encoding="utf-8").read()
add = ('  - id: nakamura\n    name: "中村 翔"\n    role: senior-operator\n'
       '    contact: "ext. 4417"\n')
if how == "add":
    t = t.replace("\nquorum:", add + "\nquorum:")
elif how == "add-cred":
    t = t.replace("\nquorum:", add + '    credential: "$argon2id$v=19$m=65536,t=2,p=1$x$y"\n\nquorum:')
elif how == "km":
    t = t.replace("role: key-manager\n", "role: senior-operator\n", 1)
elif how == "threshold":
    t = t.replace("threshold: 3", "threshold: 2")
elif how == "cred":
    i = t.index("id: watanabe"); j = t.index("credential:", i); k = t.index("\n", j)
    t = t[:j] + 'credential: "$argon2id$v=19$m=65536,t=2,p=1$AAAA$BBBB"' + t[k:]
elif how == "no-ca":
    t = t.replace("role: ca-manager", "role: auditor")
elif how == "no-auditor":
    t = re.sub(r"  - id: hayashi\n(    .*\n)*", "", t)
elif how == "one-senior":
    t = re.sub(r"  - id: ito\n(    .*\n)*", "", t)
elif how == "new-auditor":
    t = re.sub(r"  - id: hayashi\n(    .*\n)*", "", t)
    t = t.replace("\nquorum:", '  - id: ogata\n    name: "緒方 美穂"\n    role: auditor\n\nquorum:')
open(out, "w", encoding="utf-8").write(t)
PY
	sha256sum <"$1" | cut -c1-64 >"$1.sha256"
}
ins() { printf -- '--input\nnew-roster=%s\n--input\nnew-roster-sha256=%s\n' "$1" "$1.sha256"; }

ok "ceremony check accepts roster-change.yaml" "$OFF" ceremony check "$SCRIPT"
edit_roster "$T/new.yaml" add
mapfile -t IN < <(ins "$T/new.yaml")
B0=$(snap)

# Refusals: nothing changes.
echo 0000000000000000000000000000000000000000000000000000000000000000 >"$T/wrong.sha256"
fails "a new roster not matching the change request's SHA-256" 3 'new-roster: SHA-256 [0-9a-f]{64} is not 0{64}, the one on the change request' \
	run --state "$S" --confirm-digests --input new-roster="$T/new.yaml" \
	--input new-roster-sha256="$T/wrong.sha256" "${OPS[@]}"
for how in km threshold; do
	edit_roster "$T/$how.yaml" $how
	mapfile -t I2 < <(ins "$T/$how.yaml")
	fails "a change of the key managers ($how) points to rotate-shares" 3 \
		'the share set must follow the key managers; change them with the rotate-shares ceremony' \
		run --state "$S" --confirm-digests "${I2[@]}" "${OPS[@]}"
done
edit_roster "$T/cred.yaml" cred
mapfile -t I2 < <(ins "$T/cred.yaml")
fails "a kept person's credential changed by a roster change" 3 \
	'people\[5\] watanabe: credential changed; a person changes their own' \
	run --state "$S" --confirm-digests "${I2[@]}" "${OPS[@]}"
edit_roster "$T/addc.yaml" add-cred
mapfile -t I2 < <(ins "$T/addc.yaml")
fails "a person added with a credential" 3 'nakamura: added with a credential' \
	run --state "$S" --confirm-digests "${I2[@]}" "${OPS[@]}"
edit_roster "$T/noca.yaml" no-ca
mapfile -t I2 < <(ins "$T/noca.yaml")
fails "a roster without a CA manager" 3 'no ca-manager left' \
	run --state "$S" --confirm-digests "${I2[@]}" "${OPS[@]}"
# The only auditor transfers out (April): a roster without one could never
# be changed again (this ceremony needs the auditor), so it is refused; one
# replaced by a new auditor in the same change is accepted (below).
edit_roster "$T/noaud.yaml" no-auditor
mapfile -t I2 < <(ins "$T/noaud.yaml")
fails "a roster without an auditor" 3 'people: no auditor left; the roster-change, .* no roster change could add one afterwards' \
	run --state "$S" --confirm-digests "${I2[@]}" "${OPS[@]}"
edit_roster "$T/newaud.yaml" new-auditor
mapfile -t I2 < <(ins "$T/newaud.yaml")
ok "the auditor replaced by a new one in the same change (rehearsal)" \
	run --state "$S" --rehearsal --confirm-digests "${I2[@]}" "${OPS[@]}"
# A senior operator transfers out and no one replaces them yet: accepted (a
# later change can add one), but said before the CA manager confirms and in
# the record: the signing ceremonies need two senior operators (CPS 5-2-2).
edit_roster "$T/onesen.yaml" one-senior
mapfile -t I2 < <(ins "$T/onesen.yaml")
ok "one senior operator left (rehearsal): accepted" \
	run --state "$S" --rehearsal --confirm-digests "${I2[@]}" "${OPS[@]}"
check "... with a warning before the confirmation: which ceremonies cannot run" grep -q \
	"^New roster .*onesen.yaml: .*; WARNING: 1 senior operator left: the ceremonies under the dual control of two (arl-batch, compromise, cross-certify, init-root, issue-subca, responder-certs, revoke, rollover) cannot run until a roster change adds one (CPS 5-2-2)\$" "$HANKO_TMP/out"
cp "$S/roster.yaml" "$T/same.yaml"; sha256sum <"$T/same.yaml" | cut -c1-64 >"$T/same.yaml.sha256"
mapfile -t I2 < <(ins "$T/same.yaml")
fails "the roster in force again is no change" 3 'nothing to change' \
	run --state "$S" --confirm-digests "${I2[@]}" "${OPS[@]}"
fails "dual control: the auditor must be there" 2 'roles: 1 auditor needed, 0 authenticated' \
	run --state "$S" --confirm-digests "${IN[@]}" --operator kimura=env:HK_PASS_kimura
fails "dual control: one person twice" 3 'kimura: the same person twice' \
	run --state "$S" --confirm-digests "${IN[@]}" --operator kimura=env:HK_PASS_kimura \
	--operator kimura=env:HK_PASS_kimura
fails "a wrong passphrase of the auditor" 4 'hayashi: wrong passphrase' \
	run --state "$S" --confirm-digests "${IN[@]}" --operator kimura=env:HK_PASS_kimura \
	--operator hayashi=pass:not-the-auditors
fails "no terminal and no --confirm-digests: not confirmed" 3 'step check-roster: confirming the digest needs the operator at a terminal' \
	setsid -w "$OFF" ceremony run "$SCRIPT" --state "$S" "${IN[@]}" "${OPS[@]}"
check "the refused runs left roster.yaml and state.conf as they were" test "$(snap)" = "$B0"

# A failure forced after each step.
for step in approve check-roster; do
	rc=0; HANKO_FAIL_AT_STEP=$step "$OFF" ceremony run "$SCRIPT" --state "$S" --confirm-digests \
		"${IN[@]}" "${OPS[@]}" >"$T/out.$step" 2>"$T/err.$step" || rc=$?
	check "failure after $step (state run): exit 70" test "$rc" = 70
	check "failure after $step: roster and state unchanged" test "$(snap)" = "$B0"
done
for step in approve check-roster commit; do
	rc=0; HANKO_FAIL_AT_STEP=$step "$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal \
		--keep-rehearsal --confirm-digests "${IN[@]}" "${OPS[@]}" >"$T/out.$step" 2>"$T/err.$step" || rc=$?
	C=$(kept "$T/out.$step")
	TXF=$(sed -n 's/^Transcript: \(.*\.txt\) (.*/\1/p' "$T/out.$step")
	check "failure after $step (rehearsal): exit 70, copy kept" test "$rc" = 70 -a -n "$C"
	# every step that ran is accounted for, last first: none has an undo,
	# so each says it is kept
	want=$(case $step in commit) echo commit:roster-commit;; esac
		case $step in commit|check-roster) echo check-roster:roster-check;; esac
		echo approve:approve)
	check "failure after $step: the transcript says kept (no undo) for each step that ran, last first" test \
		"$(sed -n 's/^kept: \([a-z-]*\) \([a-z-]*\): kept (no undo: what it did stays)$/\1:\2/p' "$TXF")" = "$want"
	check "... and FAILED points to the undo and kept lines" grep -qx \
		'result: FAILED (the undo lines above say what was undone, the kept lines what stays)' "$TXF"
	if [ "$step" = commit ]; then
		check "failure after commit: the new roster is in force in the copy" cmp -s "$C/roster.yaml" "$T/new.yaml"
	else
		check "failure after $step: the copy's roster unchanged, approval unchanged" bash -c \
			"cmp -s '$C/roster.yaml' '$S/roster.yaml' && ! ls '$C'/roster.yaml.*.retired 2>/dev/null && grep -q \"^roster.approved-sha256 = $(sha256sum <"$S/roster.yaml" | cut -c1-64)\$\" '$C/state.conf'"
	fi
	ok "failure after $step: the copy's audit log verifies" "$OFF" audit verify --state "$C"
	rm -rf "$C"
done
# Without --keep-rehearsal the throwaway copy is removed at the end: what a
# step without an undo did stays in that copy only, and the kept lines of
# the transcript (written before the removal) say so.
rc=0; HANKO_FAIL_AT_STEP=commit "$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal \
	--confirm-digests "${IN[@]}" "${OPS[@]}" >"$T/out.gone" 2>"$T/err.gone" || rc=$?
TXF=$(sed -n 's/^Transcript: \(.*\.txt\) (.*/\1/p' "$T/out.gone")
CG=$(sed -n 's/^state: .* copied to //p' "$TXF")
check "failure after commit (rehearsal, copy removed): exit 70, the copy gone" bash -c \
	"[ $rc = 70 ] && [ -n '$CG' ] && [ ! -e '$CG' ]"
check "... the transcript says kept in the removed copy only, for each step that ran, last first" test \
	"$(sed -n 's/^kept: \([a-z-]*\) \([a-z-]*\): kept (no undo: what it did stays in the throwaway rehearsal copy only, which this run then removes)$/\1:\2/p' "$TXF")" = \
	"$(printf 'commit:roster-commit\ncheck-roster:roster-check\napprove:approve')"
check "... no kept line says more" sh -c "! grep -q 'what it did stays)' '$TXF'"
check "the rehearsals left the state unchanged" test "$(snap)" = "$B0"

# Rehearsal, then the real run of the same script.
ok "rehearsal of roster-change" run --state "$S" --rehearsal --confirm-digests "${IN[@]}" "${OPS[@]}"
check "... the state unchanged" test "$(snap)" = "$B0"
check "... recorded in the state's log" bash -c "grep -q '	ceremony.rehearsal	ok	-	roster-change' '$S/audit/audit.log'"
OLD=$(sha256sum <"$S/roster.yaml" | cut -c1-64)
cp "$S/roster.yaml" "$T/old.yaml"
ok "real run of roster-change" run --state "$S" --confirm-digests "${IN[@]}" "${OPS[@]}"
check "roster.yaml is the new roster, byte for byte" cmp -s "$S/roster.yaml" "$T/new.yaml"
check "the old roster is kept as roster.yaml.<sha8>.retired" cmp -s "$S/roster.yaml.${OLD:0:8}.retired" "$T/old.yaml"
NEW=$(cat "$T/new.yaml.sha256")
check "state.conf: approved-sha256 and -by the CA manager" bash -c \
	"grep -q '^roster.approved-sha256 = $NEW\$' '$S/state.conf' && grep -q '^roster.approved-by = kimura\$' '$S/state.conf'"
check "the log has roster.change and the step actors kimura,hayashi" bash -c \
	"grep -q '	roster.change	ok	kimura	' '$S/audit/audit.log' && grep -q '	ceremony.step	ok	kimura,hayashi	roster-change step check-roster' '$S/audit/audit.log'"
ok "roster show: approved, nakamura without credential" "$OFF" roster show --state "$S"
check "... as shown" bash -c "grep -q ': approved$' '$HANKO_TMP/out' && grep -Eq 'nakamura +senior-operator +- ' '$HANKO_TMP/out'"

# The person added sets a verifier; the roster is approved again.
ok "nakamura sets a passphrase (none before: no old one asked)" "$OFF" roster set-passphrase \
	--state "$S" --person nakamura --passin env:HK_PASS_nakamura --kdf interactive
fails "the roster changed by it needs a new approval" 3 'changed since the CA manager approved it' \
	run --state "$S" --confirm-digests "${IN[@]}" "${OPS[@]}"
ok "the CA manager approves it" "$OFF" roster approve --state "$S" --manager kimura --passin env:HK_PASS_kimura
# Replacing a verifier needs the old passphrase.
fails "replacing watanabe's verifier with a wrong old passphrase" 4 'watanabe: wrong passphrase' \
	"$OFF" roster set-passphrase --state "$S" --person watanabe --old-passin pass:guess-guess-guess \
	--passin pass:'A whole new phrase 99 kites' --kdf interactive
fails "... and with no old passphrase and no terminal" 3 'terminal' \
	setsid -w "$OFF" roster set-passphrase --state "$S" --person watanabe \
	--passin pass:'A whole new phrase 99 kites' --kdf interactive
check "... audited" bash -c "grep -q '	roster.credential	fail	watanabe	' '$S/audit/audit.log'"

# --- A PKCS#11 token of their own (CPS 5-2-3) ---
mkdir -p "$T/optok/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$T/optok/tokens" >"$T/optok/softhsm2.conf"
export SOFTHSM2_CONF=$T/optok/softhsm2.conf
export ITO_PIN=2468-ito-pin
softhsm2-util --init-token --free --label op-ito --so-pin 87654321 --pin "$ITO_PIN" >/dev/null
for k in ito-key other-key; do
	pkcs11-tool --module $SOFT --token-label op-ito --login --pin "$ITO_PIN" --keypairgen \
		--key-type EC:prime256v1 --label $k --id "$([ $k = ito-key ] && echo 01 || echo 02)" >/dev/null 2>&1
done
URI="pkcs11:token=op-ito;object=ito-key?pin-source=env:ITO_PIN"
fails "set-token over a verifier needs the old passphrase" 4 'ito: wrong passphrase' \
	"$OFF" roster set-token --state "$S" --person ito --token-label op-ito --key-label ito-key \
	--passin env:ITO_PIN --old-passin pass:wrong-wrong-wrong
fails "set-token with a wrong PIN" 4 "ito: PIN refused by token 'op-ito'" \
	"$OFF" roster set-token --state "$S" --person ito --token-label op-ito --key-label ito-key \
	--passin pass:0000 --old-passin env:HK_PASS_ito
ok "set-token reads ito's key from her token" "$OFF" roster set-token --state "$S" --person ito \
	--module $SOFT --token-label op-ito --key-label ito-key --passin env:ITO_PIN --old-passin env:HK_PASS_ito
SPKI=$(pkcs11-tool --module $SOFT --token-label op-ito --read-object --type pubkey --label ito-key 2>/dev/null |
	openssl pkey -pubin -inform DER -outform DER | sha256sum | cut -c1-64)
check "roster.yaml: credential pkcs11 and the SPKI SHA-256 of her key" bash -c \
	"grep -A4 'id: ito' '$S/roster.yaml' | grep -q 'credential: \"pkcs11\"' && grep -q 'spki-sha256: \"$SPKI\"' '$S/roster.yaml'"
ok "the CA manager approves the roster" "$OFF" roster approve --state "$S" --manager kimura --passin env:HK_PASS_kimura
ok "roster show marks the token" "$OFF" roster show --state "$S"
check "... as shown" grep -Eq 'ito +senior-operator +token' "$HANKO_TMP/out"
# One token key is one person's (CPS 5-2-2, 5-2-3): registered for two,
# its holder alone would be both people of a dual control.
cp "$S/roster.yaml" "$T/before-dup.yaml"
fails "watanabe cannot register ito's token key as his" 3 \
	'--person watanabe: token key .* is already the credential of ito .*one token key is one person' \
	"$OFF" roster set-token --state "$S" --person watanabe --module $SOFT --token-label op-ito \
	--key-label ito-key --passin env:ITO_PIN --old-passin env:HK_PASS_watanabe
check "... roster.yaml unchanged, the refusal audited" bash -c "cmp -s '$T/before-dup.yaml' '$S/roster.yaml' &&
	tail -1 '$S/audit/audit.log' | grep -q '	roster.credential	fail	watanabe	.*already the credential of ito'"

INIT=$HANKO_SRC/ceremony-scripts/init-root.yaml
mapfile -t SH < <(share_args "$T/ca" 2 4 5)
IOPS=(--operator watanabe=env:HK_PASS_watanabe --operator kimura=env:HK_PASS_kimura)
fails "ito's passphrase is no longer hers" 2 'ito: authenticates with their PKCS#11 token' \
	"$OFF" ceremony run "$INIT" --state "$S" --confirm-digests "${SH[@]}" "${IOPS[@]}" \
	--operator ito=env:HK_PASS_ito
fails "a wrong token key is refused" 1 'ito: token key .*is not the registered .* \(wrong token key\)' \
	"$OFF" ceremony run "$INIT" --state "$S" --confirm-digests "${SH[@]}" "${IOPS[@]}" \
	--operator "ito=pkcs11:token=op-ito;object=other-key?pin-source=env:ITO_PIN"
fails "a wrong PIN is refused" 4 "ito: PIN refused by token 'op-ito'" \
	"$OFF" ceremony run "$INIT" --state "$S" --confirm-digests "${SH[@]}" "${IOPS[@]}" \
	--operator "ito=pkcs11:token=op-ito;object=ito-key?pin-source=pass:1111"
check "... and audited" bash -c "grep '	person.auth	fail	ito	' '$S/audit/audit.log' | grep -q 'PIN refused'"
fails "one person twice, by token" 3 'ito: the same person twice' \
	"$OFF" ceremony run "$INIT" --state "$S" --confirm-digests "${SH[@]}" \
	--operator "ito=$URI" --operator "ito=$URI" --operator kimura=env:HK_PASS_kimura
fails "a URI without object=" 2 'the URI must name token= and object=' \
	"$OFF" ceremony run "$INIT" --state "$S" --confirm-digests "${SH[@]}" "${IOPS[@]}" \
	--operator "ito=pkcs11:token=op-ito?pin-source=env:ITO_PIN"
# pin-value= is never taken, and its value (a PIN) is named nowhere: not
# on stderr, not in the audit log that keeps the refusal.
fails "a URI with pin-value= is refused" 2 'ito: token key: pin-value=\.\.\.: URI query attribute not taken' \
	"$OFF" ceremony run "$INIT" --state "$S" --confirm-digests "${SH[@]}" "${IOPS[@]}" \
	--operator "ito=pkcs11:token=op-ito;object=ito-key?pin-value=$ITO_PIN"
check "... the PIN is neither on stderr nor in the audit log" bash -c \
	"grep -q '	person.auth	fail	ito	.*pin-value' '$S/audit/audit.log' &&
	! grep -qF -- '$ITO_PIN' '$HANKO_TMP/err' '$S/audit/audit.log'"
check "nothing was made by the refused runs" bash -c "[ ! -e '$S/certs/root-1.der' ] && grep -q '^root.generations = 0$' '$S/state.conf'"
ok "init-root with ito authenticated by her token (rehearsal)" "$OFF" ceremony run "$INIT" \
	--state "$S" --rehearsal --keep-rehearsal --clock 2026-04-01T09:00:00Z --confirm-digests \
	"${SH[@]}" "${IOPS[@]}" --operator "ito=$URI"
C=$(kept "$HANKO_TMP/out")
check "... person.auth names her token key, she signed with watanabe" bash -c \
	"grep '	person.auth	ok	ito	' '$C/audit/audit.log' | grep -q 'PKCS#11 token key (SPKI SHA-256 $SPKI)' && grep -q '	ceremony.step	ok	watanabe,ito	init-root step self-sign' '$C/audit/audit.log' && [ -e '$C/certs/root-1.der' ]"
rm -rf "$C"
fails "set-passphrase over a token credential needs the token" 2 'ito: holds a PKCS#11 token credential' \
	"$OFF" roster set-passphrase --state "$S" --person ito --passin env:HK_PASS_ito --kdf interactive
ok "set-passphrase with her token (--old-token)" "$OFF" roster set-passphrase --state "$S" --person ito \
	--old-token "$URI" --passin env:HK_PASS_ito --kdf interactive

# The roster format: old forms load, token fields checked.
bad() { sed "s/^    role: ca-manager$/    role: ca-manager\n$1/" "$ROSTER" >"$T/bad.yaml"; }
bad '    spki-sha256: "'"$SPKI"'"'
fails "spki-sha256 without credential: pkcs11" 3 'bad.yaml:[0-9]+:[0-9]+: .*spki-sha256 is only for a token credential' \
	"$OFF" init --state "$T/b1" --profile "$PROFILE" --roster "$T/bad.yaml" --media "$T/bm1" --rehearsal
bad '    credential: pkcs11\n    spki-sha256: "ABC"'
fails "a malformed spki-sha256" 3 'bad.yaml:[0-9]+:[0-9]+: .*spki-sha256' \
	"$OFF" init --state "$T/b2" --profile "$PROFILE" --roster "$T/bad.yaml" --media "$T/bm2" --rehearsal
# After the first approval, the CA manager alone approves only changes of
# credentials: people and roles change by the roster-change ceremony.
cp "$S/roster.yaml" "$T/roster.keep"
python3 - "$S/roster.yaml" <<'PY'
import sys
p = sys.argv[1]; t = open(p, encoding='utf-8').read()
i = t.index('id: ito'); j = t.index('role: senior-operator', i)
open(p, 'w', encoding='utf-8').write(t[:j] + 'role: auditor' + t[j + len('role: senior-operator'):])
PY
fails "roster approve refuses a change of roles" 3 'ito .*differs from the approved roster.*roster-change ceremony' \
	"$OFF" roster approve --state "$S" --manager kimura --passin env:HK_PASS_kimura
check "... and the refusal is audited" grep -q '	roster.approve	fail	kimura	' "$S/audit/audit.log"
cp "$T/roster.keep" "$S/roster.yaml"
ok "roster approve still approves the roster as approved" \
	"$OFF" roster approve --state "$S" --manager kimura --passin env:HK_PASS_kimura

# --- A credential is replaced only by its holder (CPS 5-2-3) ---
# setcred FILE ID FROM-FILE FROM-ID: ID's credential in FILE becomes
# FROM-ID's of FROM-FILE ("none": removed).
setcred() {
	python3 - "$@" <<'PY'
import re, sys
path, who, src, frm = sys.argv[1:5]
def entry(text, pid):
    m = re.search(r'^  - id: %s\n(?:    .*\n)*' % re.escape(pid), text, re.M)
    return m
t = open(path, encoding='utf-8').read()
line = ''
if frm != 'none':
    line = re.search(r'^    credential: .*\n', entry(open(src, encoding='utf-8').read(), frm).group(0), re.M).group(0)
m = entry(t, who)
body = re.sub(r'^    (credential|spki-sha256): .*\n', '', m.group(0), flags=re.M)
body = body.replace('\n', '\n' + line, 1) if False else re.sub(r'(^    role: .*\n)', lambda r: r.group(1) + line, body, flags=re.M)
open(path, 'w', encoding='utf-8').write(t[:m.start()] + body + t[m.end():])
PY
}
APPROVE=("$OFF" roster approve --state "$S" --manager kimura --passin env:HK_PASS_kimura)
cp "$S/roster.yaml" "$T/ok.yaml"
setcred "$S/roster.yaml" watanabe "$S/roster.yaml" kimura
setcred "$S/roster.yaml" ito "$S/roster.yaml" kimura
fails "the CA manager cannot approve his own verifier given to watanabe and ito" 3 \
	'roster.yaml: watanabe: credential \(SHA-256 [0-9a-f]{16}\.\.\.\) not set by its holder: no roster.credential record of theirs since the last approval' \
	"${APPROVE[@]}"
check "... the refusal is audited" bash -c \
	"tail -1 '$S/audit/audit.log' | grep -q '	roster.approve	fail	kimura	.*watanabe: credential'"
fails "... so no ceremony takes kimura's passphrase for all three" 3 'changed since the CA manager approved it' \
	"$OFF" ceremony run "$INIT" --state "$S" --rehearsal --confirm-digests "${SH[@]}" \
	--operator watanabe=env:HK_PASS_kimura --operator ito=env:HK_PASS_kimura --operator kimura=env:HK_PASS_kimura
cp "$T/ok.yaml" "$S/roster.yaml"
export HK_PASS_watanabe2='Amakusa lighthouse 88 waves'
ok "watanabe replaces his own passphrase" "$OFF" roster set-passphrase --state "$S" --person watanabe \
	--old-passin env:HK_PASS_watanabe --passin env:HK_PASS_watanabe2 --kdf interactive
check "... the record names the new credential" bash -c \
	"tail -1 '$S/audit/audit.log' | grep -Eq '	roster.credential	ok	watanabe	credential-sha256 [0-9a-f]{64}: passphrase verifier .* replacing theirs, proved by the old one'"
ok "... and the CA manager approves it" "${APPROVE[@]}"
# The old credential proved is the one last approved, never the working
# roster.yaml's: whoever can edit that file could otherwise strip
# watanabe's credential (no proof asked) or put their own in its place and
# prove that, then set a passphrase of their choosing for him.
cp "$S/roster.yaml" "$T/a2.yaml"
N0=$(grep -c '	roster.credential	ok	' "$S/audit/audit.log")
setcred "$S/roster.yaml" watanabe "$S/roster.yaml" none
fails "his credential removed from roster.yaml: the approved one is still asked for" 3 'terminal' \
	setsid -w "$OFF" roster set-passphrase --state "$S" --person watanabe \
	--passin pass:'Chosen by the CA manager 12' --kdf interactive
cp "$T/a2.yaml" "$S/roster.yaml"
setcred "$S/roster.yaml" watanabe "$S/roster.yaml" kimura
fails "the CA manager's verifier put in his place, proved with the CA manager's passphrase: refused" 4 \
	'watanabe: wrong passphrase' \
	"$OFF" roster set-passphrase --state "$S" --person watanabe --old-passin env:HK_PASS_kimura \
	--passin pass:'Chosen by the CA manager 12' --kdf interactive
check "... no roster.credential ok record was written for either" \
	test "$(grep -c '	roster.credential	ok	' "$S/audit/audit.log")" = "$N0"
cp "$T/a2.yaml" "$S/roster.yaml"
setcred "$S/roster.yaml" watanabe "$T/ok.yaml" watanabe
fails "his previous verifier put back by someone else is refused" 3 \
	'watanabe: credential .* not set by its holder: no roster.credential record of theirs since the last approval' \
	"${APPROVE[@]}"
setcred "$S/roster.yaml" watanabe "$S/roster.approved.yaml" watanabe
export HK_PASS_watanabe3='Kumamoto bears 5 honey jars'
"$OFF" roster set-passphrase --state "$S" --person watanabe --old-passin env:HK_PASS_watanabe2 \
	--passin env:HK_PASS_watanabe3 --kdf interactive >/dev/null
cp "$S/roster.yaml" "$T/w3.yaml"
setcred "$S/roster.yaml" watanabe "$S/roster.yaml" kimura
fails "a verifier other than the one its holder set last is refused" 3 \
	'watanabe: credential .* not set by its holder: their last roster.credential record names another credential' \
	"${APPROVE[@]}"
setcred "$S/roster.yaml" watanabe "$S/roster.yaml" none
fails "a credential removed is refused" 3 'people\[5\] watanabe: credential removed' "${APPROVE[@]}"
cp "$T/w3.yaml" "$S/roster.yaml"
mv "$S/roster.approved.yaml" "$T/approved.keep"
fails "roster.approved.yaml missing after an approval is an error, not a first approval" 3 \
	'roster.approved.yaml: missing, but state.conf records an approval' "${APPROVE[@]}"
cp "$T/w3.yaml" "$S/roster.approved.yaml"
fails "roster.approved.yaml replaced is refused" 3 \
	'roster.approved.yaml: SHA-256 [0-9a-f]{16}\.\.\. is not the roster approved' "${APPROVE[@]}"
mv "$T/approved.keep" "$S/roster.approved.yaml"
ok "with the approved copy back, watanabe's own new passphrase is approved" "${APPROVE[@]}"
# The rotation puts a roster in force (and the ceremony approves it): the
# same rule, checked before any passphrase is asked.
mapfile -t Q3 < <(share_args "$T/ca" 1 2 3)
cp "$S/roster.yaml" "$T/rot.yaml"
setcred "$T/rot.yaml" ito "$S/roster.yaml" kimura
state0=$(cd "$S" && sha256sum quorum.set roster.yaml state.conf)
fails "rotate-shares to a roster giving ito the CA manager's verifier" 3 \
	'rot.yaml: ito: credential .* not set by its holder' \
	"$OFF" rotate-shares --state "$S" --roster "$T/rot.yaml" --media "$T/rm" --kdf interactive "${Q3[@]}"
check "... nothing changed" test "$(cd "$S" && sha256sum quorum.set roster.yaml state.conf)" = "$state0" -a ! -e "$T/rm"
ok "the audit log verifies" "$OFF" audit verify --state "$S"
finish

#!/usr/bin/env bash
# t_ceremony_init.sh - the init-root ceremony (ceremony-scripts/init-root.yaml):
# roster approval, dual control, a rehearsal then a real run of the very same
# script, the typed confirmation, a failure forced after each step, and the
# signed transcript (CPS 5-2-1, 5-2-2, 5-2-3, 4-12-1, 6-1-1-1, 7-1-3).
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
SCRIPT=$HANKO_SRC/ceremony-scripts/init-root.yaml
operators
make_ca "$T/ca"
S=$T/ca/state
mapfile -t SH < <(share_args "$T/ca" 2 4 5)
run() { "$OFF" ceremony run "$SCRIPT" "$@"; }
log() { cut -f3-5 "$S/audit/audit.log"; }
# no_root_key STATE: the token of STATE holds no object labelled root-1.
no_root_key() {
	! SOFTHSM2_CONF=$1/token/softhsm2.conf pkcs11-tool --module $SOFT \
		--token-label hanko-root-test --list-objects --type pubkey 2>/dev/null | grep -q 'label: *root-1'
}
has_root_key() { ! no_root_key "$1"; }

ok "ceremony check accepts init-root.yaml" "$OFF" ceremony check "$SCRIPT"
SHA=$(sha256sum <"$SCRIPT" | cut -c1-64)
check "ceremony check prints the script's SHA-256" grep -q "$SHA" "$HANKO_TMP/out"

# Credentials (CPS 5-2-3) and the CA manager's approval (CPS 5-2-1, 5-2-2).
for p in watanabe ito kimura; do
	ok "set-passphrase for $p" "$OFF" roster set-passphrase --state "$S" --person "$p" \
		--passin "env:HK_PASS_$p" --kdf interactive
done
fails "a roster never approved is refused" 3 'roster.yaml: not approved by the CA manager' \
	run --state "$S" --rehearsal --confirm-digests "${SH[@]}" "${OPS[@]}"
fails "approve by someone who is not the CA manager" 2 'watanabe: not the CA manager' \
	"$OFF" roster approve --state "$S" --manager watanabe --passin env:HK_PASS_watanabe
fails "approve with a wrong passphrase" 4 'kimura: wrong passphrase' \
	"$OFF" roster approve --state "$S" --manager kimura --passin pass:wrong-wrong-wrong
check "the refused approval is audited" bash -c "grep -q '	roster.approve	fail	kimura	' '$S/audit/audit.log'"
ok "the CA manager approves the roster" "$OFF" roster approve --state "$S" --manager kimura --passin env:HK_PASS_kimura
check "state.conf records the roster's SHA-256" \
	grep -q "^roster.approved-sha256 = $(sha256sum <"$S/roster.yaml" | cut -c1-64)$" "$S/state.conf"
cp "$S/roster.yaml" "$T/roster.saved"
echo "# edited" >>"$S/roster.yaml"
fails "a roster changed after approval is refused" 3 'changed since the CA manager approved it' \
	run --state "$S" --rehearsal --confirm-digests "${SH[@]}" "${OPS[@]}"
cp "$T/roster.saved" "$S/roster.yaml"

# Dual control (CPS 5-2-2): two distinct people, never one person twice.
fails "one person twice is refused" 3 'watanabe: the same person twice' \
	run --state "$S" --confirm-digests "${SH[@]}" --operator watanabe=env:HK_PASS_watanabe \
	--operator watanabe=env:HK_PASS_watanabe --operator kimura=env:HK_PASS_kimura
check "... and audited" bash -c "grep -q '	ceremony.dual-control	fail	watanabe	' '$S/audit/audit.log'"
fails "one senior operator only is refused" 2 'roles: 2 senior-operator needed, 1 authenticated' \
	run --state "$S" --confirm-digests "${SH[@]}" --operator watanabe=env:HK_PASS_watanabe \
	--operator kimura=env:HK_PASS_kimura
fails "a wrong operator passphrase is refused" 4 'ito: wrong passphrase' \
	run --state "$S" --confirm-digests "${SH[@]}" --operator watanabe=env:HK_PASS_watanabe \
	--operator ito=pass:not-her-passphrase --operator kimura=env:HK_PASS_kimura
check "... and audited" bash -c "grep -q '	person.auth	fail	ito	' '$S/audit/audit.log'"
fails "too few shares for the quorum" 4 'quorum needs 3 shares' \
	run --state "$S" --confirm-digests "${SH[@]:0:8}" "${OPS[@]}"
check "nothing was made by the refused runs" bash -c "[ ! -e '$S/certs/root-1.der' ] && grep -q '^root.generations = 0$' '$S/state.conf'"

# No confirmation: nothing is signed, the key is destroyed.
fails "a rehearsal without a terminal or --confirm-digests signs nothing" 3 \
	'step self-sign: confirming the digest needs the operator at a terminal' \
	setsid -w "$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal --keep-rehearsal \
	--clock 2026-04-01T09:00:00Z "${SH[@]}" "${OPS[@]}"
C=$(kept "$HANKO_TMP/out")
check "the rehearsal copy holds no certificate" test -n "$C" -a ! -e "$C/certs/root-1.der" -a ! -e "$C/certs/root-1.pem"
check "the rehearsal copy's token holds no root-1 key" no_root_key "$C"
check "the refusal and the key's removal are in the copy's log" bash -c \
	"grep -q '	ceremony.confirm	fail	' '$C/audit/audit.log' && grep -q '	key.destroy	ok	' '$C/audit/audit.log'"
ok "the copy's audit log verifies" "$OFF" audit verify --state "$C"
rm -rf "$C"

# A failure forced after each step leaves token, log and media consistent.
for step in approve activate keygen self-sign commit checkpoint; do
	HANKO_FAIL_AT_STEP=$step "$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal --keep-rehearsal \
		--clock 2026-04-01T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}" >"$T/out.$step" 2>"$T/err.$step" && rc=0 || rc=$?
	C=$(kept "$T/out.$step")
	TXF=$(sed -n 's/^Transcript: \(.*\.txt\) (.*/\1/p' "$T/out.$step")
	check "failure after $step: the run fails (exit $rc)" test "$rc" = 70 -a -n "$C"
	case $step in
	commit|checkpoint)
		check "failure after $step: the committed root stays whole" bash -c \
			"[ -e '$C/certs/root-1.der' ] && grep -q '^root.generations = 1$' '$C/state.conf'"
		check "failure after $step: the token keeps root-1" has_root_key "$C"
		check "failure after $step: the transcript says the key and root are kept, not undone" bash -c \
			"! grep -q '^undo: ' '$TXF' && grep -q '^kept: keygen root-keygen' '$TXF' &&
			grep -q '^kept: self-sign root-self-sign' '$TXF' && ! grep -q 'every step done was undone' '$TXF'" ;;
	*)
		check "failure after $step: no certificate, generation 0" bash -c \
			"[ ! -e '$C/certs/root-1.der' ] && [ ! -e '$C/certs/root-1.pem' ] && grep -q '^root.generations = 0$' '$C/state.conf'"
		check "failure after $step: no root-1 in the token" no_root_key "$C"
		case $step in keygen|self-sign)
			check "failure after $step: the transcript lists the key undone" \
				grep -q '^undo: keygen root-keygen undone' "$TXF" ;;
		esac ;;
	esac
	ok "failure after $step: the copy's audit log verifies" "$OFF" audit verify --state "$C"
	rm -rf "$C"
done
check "the original state is untouched by the rehearsals" bash -c \
	"[ ! -e '$S/certs/root-1.der' ] && grep -q '^root.generations = 0$' '$S/state.conf'"

# The rehearsal, then the real run of the same script.
ok "rehearsal of init-root" run --state "$S" --rehearsal --clock 2026-04-01T09:00:00Z \
	--confirm-digests "${SH[@]}" "${OPS[@]}"
check "the rehearsal printed the script's SHA-256" grep -q "SHA-256 $SHA" "$HANKO_TMP/out"
check "the rehearsal copy is gone" bash -c "! ls -d '$S'.rehearsal-* 2>/dev/null"
check "the state's log records the rehearsal with the script's SHA-256" bash -c \
	"grep '	ceremony.rehearsal	ok	' '$S/audit/audit.log' | grep -q '$SHA'"
RTX=$(sed -n 's/^Transcript: \(.*\.txt\) (.*/\1/p' "$HANKO_TMP/out")
check "the rehearsal's transcript is in the state's ceremonies/, signed by the throwaway key (not the state's)" bash -c \
	"[ -f '$RTX' ] && ! openssl dgst -sha256 -verify '$S/audit/audit-key.pem' -signature '$RTX.sig' '$RTX' >/dev/null 2>&1"
check "... its SHA-256 is in the state's ceremony.rehearsal record, to check it by (docs/ceremonies.md)" bash -c \
	"cut -f3,6 '$S/audit/audit.log' | grep -F 'ceremony.rehearsal	' | grep -qF '/$(basename "$RTX") SHA-256 $(sha256sum <"$RTX" | cut -c1-64);'"
check "the state is still without a root" test ! -e "$S/certs/root-1.der"
ok "real run of the same script" run --state "$S" --clock 2026-04-01T10:00:00Z \
	--confirm-digests "${SH[@]}" "${OPS[@]}"
cp "$HANKO_TMP/out" "$T/real.out"
check "the real run printed the same SHA-256" grep -q "SHA-256 $SHA" "$HANKO_TMP/out"
check "the real run's ceremony.start records it" bash -c \
	"grep '	ceremony.start	ok	' '$S/audit/audit.log' | tail -1 | grep -q '$SHA'"
R=$S/certs/root-1.pem
ok "openssl verify accepts the root" openssl verify -x509_strict -check_ss_sig \
	-attime "$(date -u -d 2026-04-01T12:00:00Z +%s)" -CAfile "$R" "$R"
check "the root is marked TEST (rehearsal state)" bash -c \
	"openssl x509 -in '$R' -noout -subject -nameopt RFC2253 | grep -q '^subject=OU=TEST,'"
check "state.conf records generation 1" grep -q '^root.1.cert = certs/root-1.der$' "$S/state.conf"
check "each step is in the audit log" bash -c "[ \$(grep -c '	ceremony.step	ok	' '$S/audit/audit.log') -ge 6 ]"
check "the signing step's actors are the two senior operators" bash -c \
	"grep -q '	ceremony.step	ok	watanabe,ito	init-root step self-sign' '$S/audit/audit.log'"
TX=$(ls "$S"/ceremonies/init-root-20260401T100000Z.txt)
check "the transcript names the script's SHA-256" grep -qx "script-sha256: $SHA" "$TX"
FP=$(openssl x509 -in "$S/certs/root-1.der" -inform DER -outform DER | sha256sum | cut -c1-64)
check "the transcript has the output's SHA-256" grep -q "^output: root-der .* SHA-256 $FP$" "$TX"
ok "the transcript's signature verifies with openssl and the audit key" \
	openssl dgst -sha256 -verify "$S/audit/audit-key.pem" -signature "$TX.sig" "$TX"
# The anchor outside the machine (docs/audit-log.md, "What is and is not
# detected"): the transcript, signed on paper, names the log id, the seq and
# hash of the checkpoint its last step made, and the audit key's SHA-256; the
# auditor compares them with the log and the key file, with stock tools.
LID=$(head -1 "$S/audit/audit.log" | cut -f6 | sed 's/.*log-id=//')
KSHA=$(openssl pkey -pubin -in "$S/audit/audit-key.pem" -outform DER | sha256sum | cut -c1-64)
anchor=$(sed -n 's/^step: checkpoint audit-checkpoint ok .*checkpoint signed by audit-1: //p' "$TX")
aseq=$(echo "$anchor" | sed -n 's/^log [0-9a-f]\{32\} record \([0-9]*\) .*/\1/p')
check "the transcript's checkpoint step names the log id and the audit key's SHA-256" \
	test -n "$aseq" -a "$(echo "$anchor" | sed "s/ record $aseq hash [0-9a-f]\{64\},/,/")" = "log $LID, audit key SHA-256 $KSHA"
check "... and the seq and hash of that checkpoint record in the log" test "$(sed -n "$((aseq + 1))p" "$S/audit/audit.log" | cut -f1,3,8)" = \
	"$aseq	audit.checkpoint	$(echo "$anchor" | sed 's/.* hash \([0-9a-f]\{64\}\),.*/\1/')"
# docs/ceremonies.md "Transcript": the auditor's check against the log.
tx_logged() { cut -f3,6 "$S/audit/audit.log" | grep -F "ceremony.transcript	" | grep -qF "/$(basename "$1") SHA-256 $(sha256sum <"$2" | cut -c1-64) "; }
check "the transcript's SHA-256 is the one the log's ceremony.transcript record gives" tx_logged "$TX" "$TX"
# The weekly review (docs/audit-log.md "Weekly review") lists each ceremony
# with its transcript's path and SHA-256, to match to the signed copies.
"$OFF" audit review --state "$S" --since 2026-01-01T00:00:00Z --until 2026-12-31T23:59:59Z >"$T/review.txt" 2>/dev/null || true
NCT=$(cut -f3 "$S/audit/audit.log" | grep -cx ceremony.transcript)
check "audit review lists every ceremony's transcript ($NCT, the log's ceremony.transcript records)" sh -c \
	"grep -qx 'Ceremonies (each transcript, to hold against its signed printed copy: sha256sum of the .txt): $NCT' '$T/review.txt' &&
	 test \$(sed -n '/^Ceremonies/,/^Cadence/p' '$T/review.txt' | grep -c '^  [0-9]') = $NCT"
check "... this run's: its seq, time, path and the SHA-256 sha256sum gives" grep -qx \
	"  $(grep -F "	ceremony.transcript	" "$S/audit/audit.log" | grep -F "/$(basename "$TX") " | cut -f1) 2026-04-01T10:00:00Z init-root: $TX SHA-256 $(sha256sum <"$TX" | cut -c1-64) (signed by audit-1)" "$T/review.txt"
# this run's transcript put under another run's name (the first rehearsal's,
# whose record is not in this log), as a swap would: the signature holds
SW=$T/swap/$(basename "$(ls "$S"/ceremonies/init-root-*-rehearsal*.txt | head -1)")
mkdir -p "$T/swap"; cp "$TX" "$SW"; cp "$TX.sig" "$SW.sig"
check "another run's transcript under this run's name: its signature verifies, the log check finds it" bash -c \
	"[ '$SW' != '$T/swap/' ] && openssl dgst -sha256 -verify '$S/audit/audit-key.pem' -signature '$SW.sig' '$SW' >/dev/null &&
	! { cut -f3,6 '$S/audit/audit.log' | grep -F 'ceremony.transcript	' | grep -qF \"/$(basename "$SW") SHA-256 $(sha256sum <"$SW" | cut -c1-64) \"; }"
last=$(tail -1 "$S/audit/audit.log")
check "the run's last line names the checkpoint after the transcript" grep -qx \
	"Audit log sealed by the checkpoint after the transcript: log $LID record $(echo "$last" | cut -f1) hash $(echo "$last" | cut -f8), audit key SHA-256 $KSHA (write it in the ceremony record)" "$T/real.out"
check "the printable page has the fingerprint, QR codes and witness lines" bash -c \
	"grep -q '$FP' '${TX%.txt}.html' && grep -q '<svg' '${TX%.txt}.html' && grep -q '渡辺 直樹' '${TX%.txt}.html'"
ok "the audit log verifies" "$OFF" audit verify --state "$S"
fails "a second run refuses to overwrite the root" 7 'root-1.der: output root-der already exists' \
	run --state "$S" --confirm-digests "${SH[@]}" "${OPS[@]}"
ok "the transcripts were never replaced" test "$(ls "$S"/ceremonies/*.txt | wc -l)" -ge 8

# A real (non-rehearsal) state: no --confirm-digests, no --clock, and a
# terminal is required before anything is touched.
args=(); for km in "${KMS[@]}"; do args+=(--passin "$km=env:HK_PASS_$km"); done
ok "init a real state" "$OFF" init --state "$T/real" --profile "$PROFILE" --roster "$ROSTER" \
	--media "$T/realmedia" --kdf interactive "${args[@]}"
KSHA=$(openssl pkey -pubin -in "$T/real/audit/audit-key.pem" -outform DER | sha256sum | cut -c1-64)
check "init prints the audit key's SHA-256 for the ceremony record" \
	grep -q "^  audit key audit-1: SHA-256 of its public key (.*/audit/audit-key.pem) $KSHA: write it in the ceremony record" "$HANKO_TMP/out"
check "... and its key.generate record names it" bash -c "cut -f3-6 '$T/real/audit/audit.log' | grep -q '^key.generate	ok	-	audit-1: .*; its public key audit/audit-key.pem SHA-256 $KSHA\$'"
fails "--confirm-digests is refused on a real state" 2 '--confirm-digests: only in a rehearsal' \
	run --state "$T/real" --confirm-digests
fails "a real signing ceremony without a terminal is refused" 3 'needs a terminal for the confirmations' \
	setsid -w "$OFF" ceremony run "$SCRIPT" --state "$T/real"
fails "--clock is refused on a real state" 2 'the clock may be set only in a rehearsal' \
	run --state "$T/real" --clock 2026-04-01T00:00:00Z
# A rehearsal of the real CA may set its own clock, but the record the real
# log keeps of it carries the real time, the rehearsal's clock in its
# details (CPS 4-11-2: when it happened).
approve_roster "$T/real" watanabe ito kimura
RSH=(); for i in 1 2 3; do km=${KMS[$((i - 1))]}
	RSH+=(--share "$T/realmedia/$km/share-$i-$km.hks" --passin "env:HK_PASS_$km"); done
ok "a rehearsal of the real CA with --clock 2020-06-01T00:00:00Z" run --state "$T/real" --rehearsal \
	--clock 2020-06-01T00:00:00Z --confirm-digests "${RSH[@]}" "${OPS[@]}"
check "the real log's ceremony.rehearsal record has the real time, the rehearsal clock in its details" \
	python3 -c 'import sys
l = [x.split("\t") for x in open(sys.argv[1], encoding="utf-8").read().splitlines()]
r, p = l[-1], l[-2]
sys.exit(not (r[2] == "ceremony.rehearsal" and p[2] == "roster.approve" and r[1] >= p[1]
    and "rehearsal clock 2020-06-01T00:00:00Z" in r[5]))' "$T/real/audit/audit.log"

# The transcript's witnesses are the key managers whose shares were used,
# matched by id: satoh's share does not make sato a witness.
KMS=(yamada sato suzuki satoh tanaka)
export HK_PASS_satoh='Kurokawa onsen stones 64 steps'
sed 's/^  - id: takahashi$/  - id: satoh/' "$ROSTER" >"$T/roster-satoh.yaml"
ROSTER=$T/roster-satoh.yaml make_ca "$T/ca2"
S2=$T/ca2/state
approve_roster "$S2" watanabe ito kimura
mapfile -t SH2 < <(share_args "$T/ca2" 1 3 4)
ok "init-root with the shares of yamada, suzuki and satoh (rehearsal)" run --state "$S2" \
	--rehearsal --clock 2026-04-01T09:00:00Z --confirm-digests "${SH2[@]}" "${OPS[@]}"
TX2=$S2/ceremonies/init-root-20260401T090000Z-rehearsal.txt
check "the transcript's key-manager witnesses are yamada, suzuki and satoh only" bash -c \
	"[ \"\$(grep '^witness: [a-z]* key-manager ' '$TX2' | cut -d' ' -f2 | sort | tr '\n' ' ')\" = 'satoh suzuki yamada ' ]"
finish

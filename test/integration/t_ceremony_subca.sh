#!/usr/bin/env bash
# t_ceremony_subca.sh - the issue-subca ceremony (ceremony-scripts/issue-subca.yaml):
# the online issuing CA's request checked and its SHA-256 confirmed before the
# token, the certificate signed under the root key with dual control, written,
# registered in issued.txt and recorded in state.conf; bad requests refused
# before the token; no confirmation, nothing signed; a failure forced after
# each step undone (CPS 6-1-1-5, 7-1-2, 4-10, 4-12-1).
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
fresh_tmp
T=$HANKO_TMP
SCRIPT=$HANKO_SRC/ceremony-scripts/issue-subca.yaml
make_rooted_ca "$T/ca"
PFX="/C=JP/O=JPKI/OU=Kumamoto-ken"
run() { "$OFF" ceremony run "$SCRIPT" --state "$S" "$@"; }
ins() { echo --input "issuing-csr=$1" --input "issuing-csr-sha256=${2:-$1.sha256}"; }

ok "ceremony check accepts issue-subca.yaml" "$OFF" ceremony check "$SCRIPT"
csr 2048 "$PFX/OU=Issuing CA 1/OU=TEST" "$T/iss1.csr"

# Refused before the token is touched (CPS 6-1-1-5, PROFILE.md), an hour
# before the real run (their transcripts are not its).
RF=(--clock 2026-04-02T08:00:00Z)
csr 2048 "$PFX/OU=Issuing CA 2/OU=TEST" "$T/wrong-gen.csr"
fails "a request for the wrong generation is refused" 3 'wrong-gen.csr: input issuing-csr: .*subject' \
	run "${RF[@]}" $(ins "$T/wrong-gen.csr") --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... before the token" last_run_no_token "$S"
csr 2048 "$PFX/OU=Someone Else/OU=TEST" "$T/wrong-subj.csr"
fails "a request with a wrong subject is refused" 3 'wrong-subj.csr: input issuing-csr: .*subject' \
	run "${RF[@]}" $(ins "$T/wrong-subj.csr") --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... before the token" last_run_no_token "$S"
csr 1024 "$PFX/OU=Issuing CA 1/OU=TEST" "$T/small.csr"
fails "a request with an RSA-1024 key is refused" 3 'small.csr: input issuing-csr: .*(key|RSA)' \
	run "${RF[@]}" $(ins "$T/small.csr") --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... before the token" last_run_no_token "$S"
# bad signature: flip one byte inside the signature of the DER request
openssl req -in "$T/iss1.csr" -outform DER -out "$T/badsig.der"
python3 - "$T/badsig.der" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[-5] ^= 1; open(p, 'wb').write(b)
PY
sha256sum <"$T/badsig.der" | cut -c1-64 >"$T/badsig.der.sha256"
fails "a request whose signature does not verify is refused" 1 'badsig.der: input issuing-csr: .*(signature|possession)' \
	run "${RF[@]}" $(ins "$T/badsig.der") --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... before the token" last_run_no_token "$S"
echo 0000000000000000000000000000000000000000000000000000000000000000 >"$T/wrong.sha256"
fails "a request whose SHA-256 is not the online side's is refused" 3 \
	'iss1.csr: input issuing-csr: SHA-256 [0-9a-f]{64} is not 0{64}, the one the requester showed' \
	run "${RF[@]}" $(ins "$T/iss1.csr" "$T/wrong.sha256") --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... before the token" last_run_no_token "$S"
echo "not a digest" >"$T/junk.sha256"
fails "an expected SHA-256 that is not 64 hex digits is refused" 3 'input issuing-csr-sha256: the expected SHA-256 must be 64 hex digits' \
	run "${RF[@]}" $(ins "$T/iss1.csr" "$T/junk.sha256") --confirm-digests "${SH[@]}" "${OPS[@]}"
fails "one senior operator only is refused" 2 'roles: 2 senior-operator needed, 1 authenticated' \
	run "${RF[@]}" $(ins "$T/iss1.csr") --confirm-digests "${SH[@]}" --operator watanabe=env:HK_PASS_watanabe \
	--operator kimura=env:HK_PASS_kimura
check "nothing was issued by the refused runs" bash -c \
	"[ ! -e '$S/certs/issuing-1.der' ] && [ ! -e '$S/issued.txt' ] && ! grep -q '^issuing' '$S/state.conf'"

# No confirmation (no terminal, no --confirm-digests): nothing signed.
fails "without a terminal or --confirm-digests nothing is signed" 3 \
	'step check-request: confirming the digest needs the operator at a terminal' \
	setsid -w "$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal --keep-rehearsal \
	--clock $CLOCK $(ins "$T/iss1.csr") "${SH[@]}" "${OPS[@]}"
C=$(kept "$HANKO_TMP/out")
check "the copy holds no issuing certificate and the token was not used" bash -c \
	"[ -n '$C' ] && [ ! -e '$C/certs/issuing-1.der' ] && ! grep -q '	share.open	' <(tac '$C/audit/audit.log' | sed '/	ceremony.start	/q')"
rm -rf "$C"

# A failure forced after each step leaves token, log and files consistent.
for step in approve check-request activate sign commit checkpoint; do
	HANKO_FAIL_AT_STEP=$step "$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal --keep-rehearsal \
		--clock $CLOCK --confirm-digests $(ins "$T/iss1.csr") "${SH[@]}" "${OPS[@]}" \
		>"$T/out.$step" 2>"$T/err.$step" && rc=0 || rc=$?
	C=$(kept "$T/out.$step")
	check "failure after $step: the run fails (exit $rc)" test "$rc" = 70 -a -n "$C"
	case $step in
	commit|checkpoint)
		check "failure after $step: issuing 1 stays, registered and recorded" bash -c \
			"[ -e '$C/certs/issuing-1.der' ] && [ -e '$C/certs/issuing-1.pem' ] && grep -q '^issuing.current = 1$' '$C/state.conf' && [ \$(grep -c '	issuing	' '$C/issued.txt') = 1 ]" ;;
	*)
		check "failure after $step: no certificate, nothing registered or recorded" bash -c \
			"[ ! -e '$C/certs/issuing-1.der' ] && [ ! -e '$C/certs/issuing-1.pem' ] && [ ! -e '$C/issued.txt' ] && ! grep -q '^issuing' '$C/state.conf'" ;;
	esac
	[ "$step" = sign ] && check "failure after sign: the removal is logged" \
		grep -q '	cert.remove	ok	.*issuing-1.der removed' "$C/audit/audit.log"
	ok "failure after $step: the copy's audit log verifies" "$OFF" audit verify --state "$C"
	rm -rf "$C"
done
check "the rehearsals left the state untouched" bash -c \
	"[ ! -e '$S/certs/issuing-1.der' ] && ! grep -q '^issuing' '$S/state.conf'"

# Rehearsal, then the real run of the same script.
ok "rehearsal of issue-subca" run --rehearsal --clock $CLOCK --confirm-digests $(ins "$T/iss1.csr") "${SH[@]}" "${OPS[@]}"
check "the rehearsal copy is gone and the state unchanged" bash -c \
	"! ls -d '$S'.rehearsal-* 2>/dev/null && [ ! -e '$S/certs/issuing-1.der' ]"
ok "real run of issue-subca" run --clock $CLOCK --confirm-digests $(ins "$T/iss1.csr") "${SH[@]}" "${OPS[@]}"
I=$S/certs/issuing-1.pem
AT="-attime $(date -u -d 2026-04-04T00:00:00Z +%s)"
ok "openssl verify -x509_strict accepts issuing 1 under the root" openssl verify -x509_strict $AT -CAfile "$R" "$I"
ok "openssl verify with the CA policy (test arc)" openssl verify -x509_strict $AT -policy_check -explicit_policy \
	-policy $POLICY_TEST -CAfile "$R" "$I"
check "the subject is the profile's, generation 1, marked TEST" bash -c \
	"openssl x509 -in '$I' -noout -subject -nameopt RFC2253 | grep -qx 'subject=OU=TEST,OU=Issuing CA 1,OU=Kumamoto-ken,O=JPKI,C=JP'"
check "the certificate's key is the request's" bash -c \
	"[ \"\$(openssl x509 -in '$I' -noout -pubkey)\" = \"\$(openssl req -in '$T/iss1.csr' -noout -pubkey)\" ]"
check "DER and PEM are the same certificate" bash -c \
	"cmp <(openssl x509 -in '$I' -outform DER) '$S/certs/issuing-1.der'"
check "state.conf: issuing.current = 1, issuing.1.cert" bash -c \
	"grep -qx 'issuing.current = 1' '$S/state.conf' && grep -qx 'issuing.1.cert = certs/issuing-1.der' '$S/state.conf'"
SER=$(openssl x509 -in "$I" -noout -serial | cut -d= -f2 | tr A-F a-f | sed 's/^0*//')
FP=$(sha256sum <"$S/certs/issuing-1.der" | cut -c1-64)
check "issued.txt lists issuing 1 (serial, kind, SHA-256, file, valid)" bash -c \
	"awk -F'\t' '\$1==\"$SER\" && \$2==\"issuing\" && \$5==\"$FP\" && \$6==\"certs/issuing-1.der\" && \$7==\"valid\"' '$S/issued.txt' | grep -q ."
check "the signing step's actors are the two senior operators" bash -c \
	"grep -q '	ceremony.step	ok	watanabe,ito	issue-subca step sign' '$S/audit/audit.log'"
TX=$(ls "$S"/ceremonies/issue-subca-20260402T*.txt | grep -v rehearsal | tail -1)
check "the transcript records both confirmed digests" bash -c \
	"grep -q '^digest: step check-request: issuing request' '$TX' && grep -q '^digest: step sign: issuing certificate 1 (tbsCertificate)' '$TX'"
ok "the transcript's signature verifies" openssl dgst -sha256 -verify "$S/audit/audit-key.pem" -signature "$TX.sig" "$TX"
ok "the audit log verifies" "$OFF" audit verify --state "$S"

# The same script again: generation 2, never overwriting generation 1.
fails "the generation-1 request again is refused (the next is generation 2)" 3 'input issuing-csr: .*subject' \
	run --clock $CLOCK --confirm-digests $(ins "$T/iss1.csr") "${SH[@]}" "${OPS[@]}"
csr 2048 "$PFX/OU=Issuing CA 2/OU=TEST" "$T/iss2.csr"
ok "the same script issues generation 2" run --clock 2026-04-03T09:00:00Z --confirm-digests $(ins "$T/iss2.csr") "${SH[@]}" "${OPS[@]}"
ok "openssl verify accepts issuing 2" openssl verify -x509_strict $AT -CAfile "$R" "$S/certs/issuing-2.pem"
check "issuing 1 untouched, issuing.current = 2, two entries in issued.txt" bash -c \
	"[ \"\$(sha256sum <'$S/certs/issuing-1.der' | cut -c1-64)\" = '$FP' ] && grep -qx 'issuing.current = 2' '$S/state.conf' && [ \$(grep -c '	issuing	' '$S/issued.txt') = 2 ]"
ok "the audit log still verifies" "$OFF" audit verify --state "$S"

# CPS 6-3-1-2: the root key is used 5 years from its generation
# (root.1.created 2026-04-01T10:00:00Z); from then on it issues nothing.
csr 2048 "$PFX/OU=Issuing CA 3/OU=TEST" "$T/iss3.csr"
ok "a second before root-1's key-use period ends, issue-subca still signs (rehearsal)" \
	run --rehearsal --clock 2031-04-01T09:59:59Z --confirm-digests $(ins "$T/iss3.csr") "${SH[@]}" "${OPS[@]}"
fails "from 2031-04-01T10:00:00Z issue-subca under root-1 is refused" 3 \
	"state.conf: root.1.created = 2026-04-01T10:00:00Z: CPS 6-3-1-2: root-1's key was used 5 years from its generation, until 2031-04-01T10:00:00Z; it issues no more certificates: run the rollover" \
	run --clock 2031-04-01T10:00:00Z --confirm-digests $(ins "$T/iss3.csr") "${SH[@]}" "${OPS[@]}"
check "... before the token, no issuing-3" bash -c "$(declare -f last_run_no_token); last_run_no_token '$S' && [ ! -e '$S/certs/issuing-3.der' ]"
fails "... and in year 7" 3 "CPS 6-3-1-2: root-1's key was used 5 years" \
	run --clock 2033-06-01T09:00:00Z --confirm-digests $(ins "$T/iss3.csr") "${SH[@]}" "${OPS[@]}"

# certtool checks validity at the real clock only: the same ceremony on a
# root made two days ago, issuing CA 1 certified yesterday.
make_rooted_ca "$T/now" "$(ago 2)"
ok "issue-subca yesterday under a root of the day before (for certtool)" \
	run --clock "$(ago 1)T09:00:00Z" --confirm-digests $(ins "$T/iss1.csr") "${SH[@]}" "${OPS[@]}"
ok "certtool verifies issuing 1 under the root" certtool --verify --load-ca-certificate "$R" \
	--infile "$S/certs/issuing-1.pem"
finish

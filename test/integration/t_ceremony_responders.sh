#!/usr/bin/env bash
# t_ceremony_responders.sh - the responder-certs ceremony
# (ceremony-scripts/responder-certs.yaml): OCSP responder 1 and validation
# server 1 certified by the root from their requests (CPS 5-2-1-1 (6)),
# registered and recorded; bad requests refused before the token; a failure
# forced after each step undone.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
fresh_tmp
T=$HANKO_TMP
SCRIPT=$HANKO_SRC/ceremony-scripts/responder-certs.yaml
make_rooted_ca "$T/ca"
PFX="/C=JP/O=JPKI/OU=Kumamoto-ken"
run() { "$OFF" ceremony run "$SCRIPT" --state "$S" "$@"; }
ins() {
	echo --input "ocsp-csr=$1" --input "ocsp-csr-sha256=$1.sha256" \
		--input "validation-csr=$2" --input "validation-csr-sha256=$2.sha256"
}
csr 2048 "$PFX/CN=OCSP Responder 1/OU=TEST" "$T/ocsp1.csr"
csr 2048 "$PFX/CN=Official Certificate Validation Server 1/OU=TEST" "$T/val1.csr"

ok "ceremony check accepts responder-certs.yaml" "$OFF" ceremony check "$SCRIPT"
fails "the requests swapped are refused" 3 'val1.csr: input ocsp-csr: .*subject' \
	run --clock $CLOCK --confirm-digests $(ins "$T/val1.csr" "$T/ocsp1.csr") "${SH[@]}" "${OPS[@]}"
check "... before the token" last_run_no_token "$S"
csr 3072 "$PFX/CN=OCSP Responder 1/OU=TEST" "$T/ocsp-3072.csr"
fails "a key other than the profile's (RSA-3072) is refused" 3 'ocsp-3072.csr: input ocsp-csr: .*key' \
	run --clock $CLOCK --confirm-digests $(ins "$T/ocsp-3072.csr" "$T/val1.csr") "${SH[@]}" "${OPS[@]}"
check "... before the token" last_run_no_token "$S"

for step in approve check-ocsp check-validation activate sign-ocsp sign-validation commit-ocsp commit-validation checkpoint; do
	HANKO_FAIL_AT_STEP=$step "$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal --keep-rehearsal \
		--clock $CLOCK --confirm-digests $(ins "$T/ocsp1.csr" "$T/val1.csr") "${SH[@]}" "${OPS[@]}" \
		>"$T/out.$step" 2>"$T/err.$step" && rc=0 || rc=$?
	C=$(kept "$T/out.$step")
	check "failure after $step: the run fails (exit $rc)" test "$rc" = 70 -a -n "$C"
	case $step in
	commit-ocsp)
		check "failure after $step: OCSP 1 kept, validation 1 removed" bash -c \
			"[ -e '$C/certs/ocsp-1.der' ] && [ ! -e '$C/certs/validation-1.der' ] && grep -qx 'ocsp.current = 1' '$C/state.conf' && ! grep -q '^validation' '$C/state.conf'" ;;
	commit-validation|checkpoint)
		check "failure after $step: both kept and recorded" bash -c \
			"[ -e '$C/certs/ocsp-1.der' ] && [ -e '$C/certs/validation-1.der' ] && grep -qx 'validation.current = 1' '$C/state.conf' && [ \$(grep -vc '^#' '$C/issued.txt') = 2 ]" ;;
	*)
		check "failure after $step: nothing written, registered or recorded" bash -c \
			"[ ! -e '$C/certs/ocsp-1.der' ] && [ ! -e '$C/certs/validation-1.der' ] && [ ! -e '$C/issued.txt' ] && ! grep -q '^ocsp\|^validation' '$C/state.conf'" ;;
	esac
	ok "failure after $step: the copy's audit log verifies" "$OFF" audit verify --state "$C"
	rm -rf "$C"
done

ok "rehearsal of responder-certs" run --rehearsal --clock $CLOCK --confirm-digests $(ins "$T/ocsp1.csr" "$T/val1.csr") "${SH[@]}" "${OPS[@]}"
ok "real run of responder-certs" run --clock $CLOCK --confirm-digests $(ins "$T/ocsp1.csr" "$T/val1.csr") "${SH[@]}" "${OPS[@]}"
O=$S/certs/ocsp-1.pem V=$S/certs/validation-1.pem
AT="-attime $(date -u -d 2026-04-04T00:00:00Z +%s)"
ok "openssl verify accepts OCSP responder 1" openssl verify -x509_strict $AT -purpose ocsphelper -CAfile "$R" "$O"
ok "openssl verify accepts validation server 1" openssl verify -x509_strict $AT -CAfile "$R" "$V"
check "OCSP 1 has OCSPSigning and ocsp-nocheck" bash -c \
	"openssl x509 -in '$O' -noout -text | grep -q 'OCSP Signing' && openssl x509 -in '$O' -noout -text | grep -q 'OCSP No Check'"
check "state.conf: ocsp.current, validation.current and their files" bash -c \
	"grep -qx 'ocsp.current = 1' '$S/state.conf' && grep -qx 'ocsp.1.cert = certs/ocsp-1.der' '$S/state.conf' &&
	 grep -qx 'validation.current = 1' '$S/state.conf' && grep -qx 'validation.1.cert = certs/validation-1.der' '$S/state.conf'"
check "issued.txt lists ocsp and validation" bash -c \
	"[ \"\$(grep -v '^#' '$S/issued.txt' | cut -f2,6,7 | tr '\t\n' ' ')\" = 'ocsp certs/ocsp-1.der valid validation certs/validation-1.der valid ' ]"
ok "the audit log verifies" "$OFF" audit verify --state "$S"

# certtool checks validity at the real clock only: the same ceremony on a
# root made two days ago, the responders certified yesterday.
make_rooted_ca "$T/now" "$(ago 2)"
ok "responder-certs yesterday under a root of the day before (for certtool)" \
	run --clock "$(ago 1)T09:00:00Z" --confirm-digests $(ins "$T/ocsp1.csr" "$T/val1.csr") "${SH[@]}" "${OPS[@]}"
O=$S/certs/ocsp-1.pem V=$S/certs/validation-1.pem
ok "certtool verifies both" bash -c "certtool --verify --load-ca-certificate '$R' --infile '$O' && certtool --verify --load-ca-certificate '$R' --infile '$V'"
finish

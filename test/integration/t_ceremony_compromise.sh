#!/usr/bin/env bash
# t_ceremony_compromise.sh - the compromise ceremony (ceremony-scripts/compromise.yaml):
# after a rollover, root-1 declared compromised: everything it signed revoked
# (cACompromise), the link certifying its key revoked (keyCompromise), an
# emergency ARL at once, the notice for the bridge CA; a failure forced after
# each step leaves everything as it was (CPS 4-14-2, 4-10, 4-4-9); the
# current root declared compromised signs nothing more, and may be
# destroyed (6-2-1-9).
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
fresh_tmp
T=$HANKO_TMP
ok "init-root" make_rooted_ca "$T/ca"
ok "issue-subca: issuing CA 1 under root-1" issue_iss1
ok "rollover to root-2" "$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/rollover.yaml" --state "$S" \
	--clock 2026-10-01T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
# Bundles signed by root-1 (as whoever holds its key could sign later) and
# by root-2, made before the compromise; the offline reader checks them after.
ok "bundle signed by root-1" "$OFF" bundle create --state "$S" --clock 2026-10-01T10:00:00Z --generation 1 \
	--type link-certs --out "$T/b-r1" "${SH[@]}" "$S/certs/link-2-new-with-old.der"
ok "bundle signed by root-2" "$OFF" bundle create --state "$S" --clock 2026-10-01T10:00:00Z \
	--type link-certs --out "$T/b-r2" "${SH[@]}" "$S/certs/link-2-new-with-old.der"
ok "... root-1's verifies before the compromise" "$OFF" bundle verify --state "$S" --clock 2026-10-02T09:00:00Z "$T/b-r1"
SCRIPT=$HANKO_SRC/ceremony-scripts/compromise.yaml
ISS1=$(serial_of certs/issuing-1.der); ISS2=$(serial_of certs/issuing-1-root-2.der)
NWO=$(serial_of certs/link-2-new-with-old.der); OWN=$(serial_of certs/link-2-old-with-new.der)
cp "$S/issued.txt" "$T/issued.before"
ok "ceremony check accepts compromise.yaml" "$OFF" ceremony check "$SCRIPT"
for step in approve revoke activate arl notice commit checkpoint; do
	HANKO_FAIL_AT_STEP=$step "$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal --keep-rehearsal \
		--clock 2026-10-10T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}" >"$T/out.$step" 2>&1 && rc=0 || rc=$?
	C=$(kept "$T/out.$step")
	case $step in
	commit|checkpoint)
		check "failure after $step: revocations, ARL and notice kept" bash -c \
			"[ $rc = 70 ] && [ -e '$C/certs/arl/arl-1.crl' ] && [ -e '$C/certs/compromise-notice-root-1.txt' ] && grep -q '^root.1.compromised = ' '$C/state.conf' && ! cmp -s '$C/issued.txt' '$T/issued.before'" ;;
	*)
		check "failure after $step: nothing revoked, no ARL, no notice" bash -c \
			"[ $rc = 70 ] && cmp -s '$C/issued.txt' '$T/issued.before' && [ ! -e '$C/certs/arl/arl-1.crl' ] && [ ! -e '$C/certs/compromise-notice-root-1.txt' ] && ! grep -q 'compromised\|arl.last' '$C/state.conf'" ;;
	esac
	ok "failure after $step: the copy's audit log verifies" "$OFF" audit verify --state "$C"
	rm -rf "$C"
done
ok "rehearsal of compromise" "$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal --clock 2026-10-10T09:00:00Z \
	--confirm-digests "${SH[@]}" "${OPS[@]}"
ok "real run of compromise" "$OFF" ceremony run "$SCRIPT" --state "$S" --clock 2026-10-10T09:00:00Z \
	--confirm-digests "${SH[@]}" "${OPS[@]}"
fails "bundle verify: a bundle signed by the compromised root-1 is refused" 1 \
	'b-r1/manifest.sig: signer: SPEC 6.2: root generation 1, marked compromised \(root.1.compromised = 2026-10-10T09:00:00Z\)' \
	"$OFF" bundle verify --state "$S" --clock 2026-10-11T09:00:00Z "$T/b-r1"
fails "bundle import of it too" 1 'SPEC 6.2: root generation 1, marked compromised' \
	"$OFF" bundle import --state "$S" --clock 2026-10-11T09:00:00Z --into "$T/in-r1" "$T/b-r1"
check "... nothing imported, nothing recorded" bash -c "[ ! -e '$T/in-r1' ] && [ ! -e '$S/bundles.seen' ]"
ok "root-2's bundle still verifies" "$OFF" bundle verify --state "$S" --clock 2026-10-11T09:00:00Z "$T/b-r2"
check "issuing CA 1 under root-1: revoked cACompromise(2)" grep -q "^$ISS1	.*	revoked	2026-10-10T09:00:00Z	2	" "$S/issued.txt"
check "NewWithOld (signed by root-1): revoked cACompromise(2)" grep -q "^$NWO	.*	revoked	2026-10-10T09:00:00Z	2	" "$S/issued.txt"
check "OldWithNew (certifies root-1's key): revoked keyCompromise(1)" grep -q "^$OWN	.*	revoked	2026-10-10T09:00:00Z	1	" "$S/issued.txt"
check "issuing CA 1 under root-2 stays valid" grep -q "^$ISS2	.*	valid	" "$S/issued.txt"
check "root.1.compromised and arl.last-number = 1" bash -c \
	"grep -qx 'root.1.compromised = 2026-10-10T09:00:00Z' '$S/state.conf' && grep -qx 'arl.last-number = 1' '$S/state.conf'"
ok "the emergency ARL verifies with the current root (root-2)" \
	openssl crl -inform DER -in "$S/certs/arl/arl-1.crl" -noout -verify -CAfile "$S/certs/root-2.pem"
check "the ARL lists the three serials with their reasons" bash -c \
	"t=\$(openssl crl -inform DER -in '$S/certs/arl/arl-1.crl' -noout -text); for s in $ISS1 $NWO; do echo \"\$t\" | grep -A4 -i \"Serial Number: \$s\" | grep -q 'CA Compromise' || exit 1; done; echo \"\$t\" | grep -A4 -i 'Serial Number: $OWN' | grep -q 'Key Compromise'"
N=$S/certs/compromise-notice-root-1.txt
FP=$(openssl x509 -in "$S/certs/root-1.der" -inform DER -noout -fingerprint -sha256 | cut -d= -f2)
check "the notice names the key, its fingerprint, the time, each serial and the ARL" bash -c \
	"grep -q '^key: root-1 pkcs11:' '$N' && grep -q '^key-certificate-sha256: $FP$' '$N' && grep -q '^declared: 2026-10-10T09:00:00Z$' '$N' && grep -q '^revoked-count: 3$' '$N' && grep -q '^revoked: serial $OWN kind link reason key-compromise(1)' '$N' && grep -q '^emergency-arl: .*arl-1.crl sha256 ' '$N'"
# Issuing CA 1's copy under root-1 is revoked cACompromise because root-1's
# key was lost, not its own: the next rollover still re-certifies it.
rollover_yaml 3 "$T/rollover-3.yaml"
ok "rollover to root-3 after root-1's compromise (rehearsal)" "$OFF" ceremony run "$T/rollover-3.yaml" --state "$S" \
	--rehearsal --clock 2026-10-20T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... issuing CA 1 re-certified under root-3 (its root-1 copy's cACompromise is root-1's loss)" grep -q \
	'ok: issuing CA 1 re-certified under root-3: certs/issuing-1-root-3.der' "$HANKO_TMP/out"
fails "a second compromise run for root-1 is refused" 7 'already' \
	"$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal --clock 2026-10-11T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
ok "the audit log verifies" "$OFF" audit verify --state "$S"

# The current root declared compromised: its key signs nothing more (CPS
# 4-14-2: issuance stops); no regular ARL, no rollover from it.
ok "second CA: init-root" make_rooted_ca "$T/ca1"
S1=$S SH1=("${SH[@]}")
ok "second CA: compromise of root-1, the current root" "$OFF" ceremony run "$SCRIPT" --state "$S1" \
	--clock 2026-05-01T09:00:00Z --confirm-digests "${SH1[@]}" "${OPS[@]}"
no_sign() { ! tac "$S1/audit/audit.log" | sed '/	ceremony.start	/q' | grep -q "	$1	"; }
fails "issue-subca under the compromised root-1 is refused" 3 \
	'state.conf: root.1.compromised = 2026-05-01T09:00:00Z: CPS 4-14-2: issuance under a compromised root key has stopped' \
	"$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/issue-subca.yaml" --state "$S1" --clock 2026-05-02T09:00:00Z \
	--confirm-digests --input "issuing-csr=$T/iss1.csr" --input "issuing-csr-sha256=$T/iss1.csr.sha256" "${SH1[@]}" "${OPS[@]}"
check "... before the token, no issuing-1" bash -c "$(declare -f no_sign); S1='$S1'; no_sign share.open && [ ! -e '$S1/certs/issuing-1.der' ]"
fails "a regular arl-batch signed by the compromised root-1 is refused" 3 \
	'root.1.compromised = 2026-05-01T09:00:00Z: CPS 4-14-2: a compromised root key signs no more ARLs' \
	"$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/arl-batch.yaml" --state "$S1" --clock 2026-05-02T09:00:00Z \
	--confirm-digests "${SH1[@]}" "${OPS[@]}"
check "... nothing signed, only the emergency ARL exists" bash -c \
	"$(declare -f no_sign); S1='$S1'; no_sign crl.sign && [ \"\$(ls '$S1/certs/arl')\" = arl-1.crl ] && grep -qx 'arl.last-number = 1' '$S1/state.conf'"
fails "a rollover from the compromised root-1 is refused (no link may certify it or be signed by it)" 3 \
	'root.1.compromised = 2026-05-01T09:00:00Z: CPS 4-14-2: no rollover from a compromised root key' \
	"$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/rollover.yaml" --state "$S1" --clock 2026-05-02T09:00:00Z \
	--confirm-digests "${SH1[@]}" "${OPS[@]}"
check "... refused before root-2 was generated: no key, no certificate, generation 1" bash -c \
	"$(declare -f no_sign); S1='$S1'; no_sign key.generate && no_sign cert.sign && ! ls '$S1/certs' | grep -q 'root-2\|link-2' && grep -qx 'root.generations = 1' '$S1/state.conf'"
# Still the current generation, but its life ended with the compromise:
# root-1 may now be destroyed (CPS 6-2-1-9 after 4-14-2).
ok "the compromised root-1, still current, may be destroyed" "$OFF" destroy --state "$S1" \
	--key root-1 --yes-destroy root-1 "${SH1[@]}"
check "... state.conf records it" grep -q '^root.1.destroyed = ' "$S1/state.conf"
ok "second CA: the audit log verifies" "$OFF" audit verify --state "$S1"
finish

#!/usr/bin/env bash
# t_ceremony_arl.sh - the arl-batch and revoke ceremonies
# (ceremony-scripts/arl-batch.yaml, revoke.yaml): 35 pre-signed ARLs under one
# confirmation, numbers continuing across batches, a revocation by serial with
# a CPS reason and its emergency ARL, refusals before the token, a failure
# forced mid-batch and after each step (CPS 4-4-3, 4-4-9, 4-4-10, 4-10, 7-2-2).
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
fresh_tmp
T=$HANKO_TMP
ok "init-root (generation 1)" make_rooted_ca "$T/ca"
ok "issue-subca: issuing CA 1" issue_iss1
SERIAL=$(grep -v '^#' "$S/issued.txt" | awk -F'\t' '$2 == "issuing" {print $1}')
A=$S/certs/arl
BATCH=$HANKO_SRC/ceremony-scripts/arl-batch.yaml
REVOKE=$HANKO_SRC/ceremony-scripts/revoke.yaml
AT="-attime $(date -d 2026-10-03 +%s)"
arlcheck() {	# arlcheck FIRST LAST: every ARL verifies, IDP, numbers, 72 h
	local i
	for i in $(seq "$1" "$2"); do
		openssl crl -inform DER -in "$A/arl-$i.crl" -noout -verify -CAfile "$R" 2>&1 | grep -q 'verify OK' || return 1
		openssl crl -inform DER -in "$A/arl-$i.crl" -noout -text >"$T/crl.txt"
		grep -q "X509v3 CRL Number: *$" "$T/crl.txt" && grep -A1 'CRL Number' "$T/crl.txt" | grep -qx " *$i" || return 1
		grep -q 'Only CA Certificates' "$T/crl.txt" || return 1
		grep -A1 'Issuing Distribution Point: critical' "$T/crl.txt" >/dev/null || return 1
	done
}

ok "ceremony check accepts arl-batch.yaml" "$OFF" ceremony check "$BATCH"
ok "ceremony check accepts revoke.yaml" "$OFF" ceremony check "$REVOKE"

# No confirmation: nothing signed, no file.
fails "arl-batch without a terminal or --confirm-digests signs nothing" 3 \
	'step arl: confirming the digest needs the operator at a terminal' \
	setsid -w "$OFF" ceremony run "$BATCH" --state "$S" --rehearsal --keep-rehearsal \
	--clock 2026-10-01T09:00:00Z "${SH[@]}" "${OPS[@]}"
C=$(kept "$HANKO_TMP/out")
check "no confirmation: no ARL, no arl.last-number" bash -c "[ ! -e '$C/certs/arl' ] || [ -z \"\$(ls '$C/certs/arl')\" ]; ! grep -q '^arl.last-number' '$C/state.conf'"
rm -rf "$C"

# A failure forced mid-batch (the 17th signature) and after each step.
HANKO_FAIL_AT_ARL=17 "$OFF" ceremony run "$BATCH" --state "$S" --rehearsal --keep-rehearsal \
	--clock 2026-10-01T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}" >"$T/out.mid" 2>"$T/err.mid" && rc=0 || rc=$?
C=$(kept "$T/out.mid")
check "failure mid-batch: the run fails (exit $rc)" test "$rc" != 0 -a -n "$C"
check "failure mid-batch: the error names ARL 17" grep -q 'batch item 17' "$T/err.mid"
check "failure mid-batch: no ARL file, arl.last-number unchanged" bash -c \
	"[ -z \"\$(ls '$C/certs/arl' 2>/dev/null)\" ] && ! grep -q '^arl.last-number' '$C/state.conf'"
ok "failure mid-batch: the copy's audit log verifies" "$OFF" audit verify --state "$C"
rm -rf "$C"
for step in approve activate arl commit checkpoint; do
	HANKO_FAIL_AT_STEP=$step "$OFF" ceremony run "$BATCH" --state "$S" --rehearsal --keep-rehearsal \
		--clock 2026-10-01T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}" >"$T/out.$step" 2>"$T/err.$step" && rc=0 || rc=$?
	C=$(kept "$T/out.$step")
	check "failure after $step: the run fails (exit $rc)" test "$rc" = 70 -a -n "$C"
	case $step in
	commit|checkpoint)
		check "failure after $step: 35 ARLs kept, arl.last-number = 35" bash -c \
			"[ \$(ls '$C/certs/arl' | wc -l) = 35 ] && grep -q '^arl.last-number = 35$' '$C/state.conf'" ;;
	*)
		check "failure after $step: no ARL, arl.last-number unchanged" bash -c \
			"[ -z \"\$(ls '$C/certs/arl' 2>/dev/null)\" ] && ! grep -q '^arl.last-number' '$C/state.conf'" ;;
	esac
	ok "failure after $step: the copy's audit log verifies" "$OFF" audit verify --state "$C"
	rm -rf "$C"
done

# Batch 1: 35 ARLs, one confirmation.
ok "rehearsal of arl-batch" "$OFF" ceremony run "$BATCH" --state "$S" --rehearsal --clock 2026-10-01T09:00:00Z \
	--confirm-digests "${SH[@]}" "${OPS[@]}"
ok "arl-batch (batch 1)" "$OFF" ceremony run "$BATCH" --state "$S" --clock 2026-10-01T09:00:00Z \
	--confirm-digests "${SH[@]}" "${OPS[@]}"
check "35 ARLs arl-1..arl-35" bash -c "[ \$(ls '$A' | wc -l) = 35 ] && [ -e '$A/arl-1.crl' ] && [ -e '$A/arl-35.crl' ]"
check "arl.last-number = 35" grep -qx 'arl.last-number = 35' "$S/state.conf"
check "one confirmation for the batch" bash -c \
	"[ \$(tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -c '	ceremony.confirm	ok	') = 1 ]"
TX=$(ls "$S"/ceremonies/arl-batch-20261001T090000Z.txt)
check "the transcript lists each ARL's number and thisUpdate" bash -c \
	"[ \$(grep -c '^arl: number ' '$TX') = 35 ] && grep -q '^arl: number 35 thisUpdate 2026-11-04T09:00:00Z nextUpdate 2026-11-07T09:00:00Z' '$TX'"
ok "every ARL of batch 1 verifies with root-1, numbers, IDP onlyContainsCACerts" arlcheck 1 35
check "ARL 1: thisUpdate 2026-10-01, nextUpdate +72 h, no entries" bash -c \
	"openssl crl -inform DER -in '$A/arl-1.crl' -noout -lastupdate -nextupdate | tr '\n' ' ' | grep -q 'Oct  1 09:00:00 2026 GMT nextUpdate=Oct  4 09:00:00 2026 GMT' && openssl crl -inform DER -in '$A/arl-1.crl' -noout -text | grep -q 'No Revoked Certificates'"

# Revoke: refusals before the token.
revoke_yaml "$SERIAL" superseded "$T/revoke.yaml"
revoke_yaml 0badc0de superseded "$T/revoke-unknown.yaml"
revoke_yaml "$SERIAL" certificate-hold "$T/revoke-hold.yaml"
revoke_yaml "$SERIAL" unspecified "$T/revoke-unspec.yaml"
fails "reason certificateHold refused at script load" 3 'revoke-hold.yaml:.*reason' "$OFF" ceremony check "$T/revoke-hold.yaml"
fails "reason unspecified refused at script load" 3 'revoke-unspec.yaml:.*reason' "$OFF" ceremony check "$T/revoke-unspec.yaml"
cp "$S/issued.txt" "$T/issued.before"
fails "an unknown serial is refused" 3 'serial 0badc0de: not a certificate this root issued' \
	"$OFF" ceremony run "$T/revoke-unknown.yaml" --state "$S" --clock 2026-10-05T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... before the token" bash -c "! tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -q '	share.open	\|	crl.sign	'"
check "... and nothing changed" bash -c "cmp -s '$S/issued.txt' '$T/issued.before' && grep -qx 'arl.last-number = 35' '$S/state.conf'"
for step in revoke arl; do
	HANKO_FAIL_AT_STEP=$step "$OFF" ceremony run "$T/revoke.yaml" --state "$S" --rehearsal --keep-rehearsal \
		--clock 2026-10-05T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}" >"$T/out.r$step" 2>&1 && rc=0 || rc=$?
	C=$(kept "$T/out.r$step")
	check "revoke, failure after $step: not revoked, no ARL 36, number 35" bash -c \
		"[ $rc = 70 ] && cmp -s '$C/issued.txt' '$T/issued.before' && [ ! -e '$C/certs/arl/arl-36.crl' ] && grep -qx 'arl.last-number = 35' '$C/state.conf'"
	rm -rf "$C"
done
ok "revoke issuing CA 1 (superseded) with an emergency ARL" "$OFF" ceremony run "$T/revoke.yaml" --state "$S" \
	--clock 2026-10-05T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "issued.txt marks it revoked, reason 4" bash -c \
	"grep -q \"^$SERIAL	issuing	.*	revoked	2026-10-05T09:00:00Z	4	\" '$S/issued.txt'"
check "emergency ARL 36 at once, arl.last-number = 36" bash -c "[ -e '$A/arl-36.crl' ] && grep -qx 'arl.last-number = 36' '$S/state.conf'"
ok "ARL 36 verifies" arlcheck 36 36
check "ARL 36 lists the serial with reason Superseded" bash -c \
	"openssl crl -inform DER -in '$A/arl-36.crl' -noout -text | grep -A4 -i 'Serial Number: $SERIAL' | grep -q Superseded"
fails "revoking it again is refused" 7 "serial $SERIAL: already revoked" \
	"$OFF" ceremony run "$T/revoke.yaml" --state "$S" --clock 2026-10-06T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"

# A revocation staged after the ARLs are built would be recorded in
# issued.txt by arl-commit yet be on none of them: such a script is refused
# by ceremony check and before a run does anything.
cat >"$T/revoke-after.yaml" <<'Y'
hanko-ceremony: 1
name: revoke
cps: ["4-10"]
roles:
  ca-manager: 1
  key-manager: quorum
  senior-operator: 2
steps:
  - id: approve
    action: approve
    roles: [ca-manager]
  - id: activate
    action: quorum-activate
    roles: [key-manager]
  - id: arl
    action: arl-batch
    roles: [senior-operator]
    dual-control: true
    signs: true
  - id: revoke
    action: revoke
    roles: [ca-manager, senior-operator]
    dual-control: true
    params:
      serial: "0badc0de"
      reason: key-compromise
  - id: commit
    action: arl-commit
    roles: [senior-operator]
    params:
      arl: arl
Y
fails "ceremony check refuses a revoke step after arl-batch" 3 \
	'revoke-after.yaml:20:5: steps\[3\]: revoke after step arl \(arl-batch\): a revocation staged once the ARLs are built is on none of them' \
	"$OFF" ceremony check "$T/revoke-after.yaml"
cp "$S/issued.txt" "$T/issued.before"
LOGN=$(wc -l <"$S/audit/audit.log")
fails "... and so does ceremony run, before anything" 3 'revoke-after.yaml:20:5: steps\[3\]: revoke after step arl' \
	"$OFF" ceremony run "$T/revoke-after.yaml" --state "$S" --clock 2026-10-05T12:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... nothing signed or recorded" bash -c \
	"cmp -s '$S/issued.txt' '$T/issued.before' && [ ! -e '$A/arl-37.crl' ] && grep -qx 'arl.last-number = 36' '$S/state.conf' && [ \$(wc -l <'$S/audit/audit.log') = $LOGN ]"
sed 's/action: revoke$/action: compromise-revoke/; s/serial: "0badc0de"/generation: 1/; /reason: key-compromise/d' \
	"$T/revoke-after.yaml" >"$T/compromise-after.yaml"
fails "ceremony check refuses a compromise-revoke step after arl-batch" 3 \
	'compromise-after.yaml:20:5: steps\[3\]: compromise-revoke after step arl \(arl-batch\)' \
	"$OFF" ceremony check "$T/compromise-after.yaml"

# Batch 2 continues the numbers and keeps the revoked serial.
ok "arl-batch (batch 2)" "$OFF" ceremony run "$BATCH" --state "$S" --clock 2026-10-06T09:00:00Z \
	--confirm-digests "${SH[@]}" "${OPS[@]}"
check "batch 2 is arl-37..arl-71, arl.last-number = 71" bash -c \
	"[ -e '$A/arl-37.crl' ] && [ -e '$A/arl-71.crl' ] && [ ! -e '$A/arl-72.crl' ] && grep -qx 'arl.last-number = 71' '$S/state.conf'"
ok "every ARL of batch 2 verifies, numbers continue" arlcheck 37 71
listed() { local i; for i in $(seq "$1" "$2"); do openssl crl -inform DER -in "$A/arl-$i.crl" -noout -text |
	grep -A4 -i "Serial Number: $SERIAL" | grep -q Superseded || return 1; done; }
check "every ARL of batch 2 lists the revoked serial with its reason" listed 37 71
check "batch 1's files were never replaced" bash -c "[ \$(ls '$A' | wc -l) = 71 ]"
ok "openssl verify with the ARL: the revoked issuing CA is refused" bash -c \
	"openssl crl -inform DER -in '$A/arl-37.crl' -out '$T/arl.pem' && ! openssl verify $AT -crl_check -CAfile '$R' -CRLfile '$T/arl.pem' '$S/certs/issuing-1.pem' 2>&1 | grep -q ': OK'"

# RFC 5280 3.3: an entry stays until one ARL issued after its certificate's
# expiry has listed it. Issuing CA 1 (revoked) expires 2031-04-02T08:59:59Z.
# Batch 3's last ARL (2031-02-04) is before that; batch 4 is made after it,
# when the ARLs had run out: it must still list the serial (the first ARLs
# issued beyond the validity); batch 5, after batch 4, no longer.
has() { openssl crl -inform DER -in "$A/arl-$1.crl" -noout -text | grep -qi "Serial Number: $SERIAL"; }
ok "arl-batch (batch 3, 2031-01-01)" "$OFF" ceremony run "$BATCH" --state "$S" --clock 2031-01-01T09:00:00Z \
	--confirm-digests "${SH[@]}" "${OPS[@]}"
check "... arl-72 and arl-106 list issuing CA 1" bash -c "$(declare -f has); A='$A' SERIAL='$SERIAL'; has 72 && has 106"
# The usual case: the next batch is made while the one out still runs (its
# later ARLs, dated after the expiry, are never released once the new batch,
# numbered above them, is imported). Made an hour after the expiry, it must
# still list the serial: the last ARL released before it (thisUpdate at least
# a day back) was dated before the expiry. On a clone of the CA (its token
# folder its own): a batch of 100 from 2031-01-02 that runs to 2031-04-11,
# then the batch of 2031-04-02T10:00.
K=$T/clone/state
mkdir -p "$T/clone" && cp -a "$S" "$K"
sed -i "s|^directories.tokendir = .*|directories.tokendir = $K/token/tokens/|" "$K/token/softhsm2.conf"
sed 's/count: 35/count: 100/' "$BATCH" >"$T/arl-100.yaml"
ok "clone: a batch of 100 (2031-01-02, to 2031-04-11)" "$OFF" ceremony run "$T/arl-100.yaml" --state "$K" \
	--clock 2031-01-02T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
ok "clone: a batch on 2031-04-02T10:00, an hour after the expiry, while that one runs" "$OFF" ceremony run \
	"$BATCH" --state "$K" --clock 2031-04-02T10:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... its first ARL (arl-207, thisUpdate after the expiry) still lists it (RFC 5280 3.3)" bash -c \
	"$(declare -f has); A='$K/certs/arl' SERIAL='$SERIAL'; has 207 && openssl crl -inform DER -in '$K/certs/arl/arl-207.crl' -noout -lastupdate | grep -qx 'lastUpdate=Apr  2 10:00:00 2031 GMT'"
rm -rf "$T/clone"
ok "arl-batch (batch 4, 2031-05-01, after its expiry)" "$OFF" ceremony run "$BATCH" --state "$S" \
	--clock 2031-05-01T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... arl-107 (thisUpdate after the expiry) still lists it (RFC 5280 3.3)" bash -c \
	"$(declare -f has); A='$A' SERIAL='$SERIAL'; has 107 && openssl crl -inform DER -in '$A/arl-107.crl' -noout -lastupdate | grep -qx 'lastUpdate=May  1 09:00:00 2031 GMT'"
ok "arl-batch (batch 5, 2031-06-10: after root-1's key-use period, ARLs go on; CPS 6-3-1-2)" "$OFF" ceremony run \
	"$BATCH" --state "$S" --clock 2031-06-10T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... arl-142 no longer lists it" bash -c "$(declare -f has); A='$A' SERIAL='$SERIAL'; ! has 142 && [ -e '$A/arl-142.crl' ]"

# No ARL outlives its signer: near root-1's end (notAfter 2036-04-01T09:59:59Z)
# a batch whose nextUpdates pass it is refused, one that fits is signed.
fails "arl-batch on 2036-03-20: ARL 187 would end after root-1's notAfter: refused, 10 fit" 3 \
	"step arl: ARL 187: nextUpdate 2036-04-02T09:00:00Z would pass root-1's notAfter 2036-04-01T09:59:59Z .*: at most 10 ARLs fit" \
	"$OFF" ceremony run "$BATCH" --state "$S" --clock 2036-03-20T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... nothing signed, arl.last-number = 176" bash -c \
	"! tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -q '	crl.sign	' && [ ! -e '$A/arl-177.crl' ] && grep -qx 'arl.last-number = 176' '$S/state.conf'"
sed 's/count: 35/count: 10/' "$BATCH" >"$T/arl-10.yaml"
ok "arl-batch of 10 on 2036-03-20" "$OFF" ceremony run "$T/arl-10.yaml" --state "$S" --clock 2036-03-20T09:00:00Z \
	--confirm-digests "${SH[@]}" "${OPS[@]}"
ok "... ARLs 177-186 verify with root-1" arlcheck 177 186
check "... the last one ends before root-1 does" bash -c \
	"openssl crl -inform DER -in '$A/arl-186.crl' -noout -nextupdate | grep -qx 'nextUpdate=Apr  1 09:00:00 2036 GMT' && [ ! -e '$A/arl-187.crl' ]"
sed 's/count: 35/count: 1/' "$BATCH" >"$T/arl-1.yaml"
fails "one ARL on 2036-03-30 (it would end 2036-04-02) is refused: none fits" 3 \
	"step arl: ARL 187: nextUpdate 2036-04-02T09:00:00Z would pass root-1's notAfter .*: none fits" \
	"$OFF" ceremony run "$T/arl-1.yaml" --state "$S" --clock 2036-03-30T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
ok "the audit log verifies" "$OFF" audit verify --state "$S"
finish

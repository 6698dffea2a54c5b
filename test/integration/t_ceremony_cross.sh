#!/usr/bin/env bash
# t_ceremony_cross.sh - the cross-certify ceremony (ceremony-scripts/cross-certify.yaml)
# with a toy bridge CA made here with openssl: its request checked and its
# SHA-256 confirmed before the token (CPS 6-1-1-5), our cross certificate
# issued and registered, the bridge's certificate for our root accepted only
# for our current key and name, the CertificatePair written; a party trusting
# only the bridge's anchor reaches our issuing CA; renewal is generation 2
# (CPS 4-6, 4-7, 4-8, 4-9, 7-1-2).
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
fresh_tmp
T=$HANKO_TMP
SCRIPT=$HANKO_SRC/ceremony-scripts/cross-certify.yaml
make_rooted_ca "$T/ca"
issue_iss1 >/dev/null
I=$S/certs/issuing-1.pem
run() { "$OFF" ceremony run "$SCRIPT" --state "$S" "$@"; }
ROOTSUBJ="/C=JP/O=JPKI/OU=Kumamoto-ken/OU=Governor of Kumamoto Prefecture/OU=TEST"
. "$HANKO_SRC/test/data/issuance/bridge.sh"
ins() { # N FORWARD
	echo --input "bca-csr=$T/bca-$1.csr" --input "bca-csr-sha256=$T/bca-$1.csr.sha256" \
		--input "bca-cert=$2" --input "bca-cert-sha256=$2.sha256"
}
bridge 1
forward "$R" 1 "$T/fwd1.der"

ok "ceremony check accepts cross-certify.yaml" "$OFF" ceremony check "$SCRIPT"

# Refusals.
openssl req -new -key "$T/bca-1.key" -subj "/C=JP/O=JPKI/OU=Other CA" -out "$T/other.csr"
openssl req -in "$T/other.csr" -outform DER | sha256sum | cut -c1-64 >"$T/other.csr.sha256"
fails "a request not for the agreed bridge DN is refused" 3 'other.csr: input bca-csr: .*subject' \
	run --clock $CLOCK --confirm-digests --input "bca-csr=$T/other.csr" --input "bca-csr-sha256=$T/other.csr.sha256" \
	--input "bca-cert=$T/fwd1.der" --input "bca-cert-sha256=$T/fwd1.der.sha256" "${SH[@]}" "${OPS[@]}"
check "... before the token" last_run_no_token "$S"
cp "$T/bca-1.csr" "$T/bad.csr"; echo 1111111111111111111111111111111111111111111111111111111111111111 >"$T/bad.csr.sha256"
fails "a request whose SHA-256 is not the one the bridge sent is refused" 3 \
	'bad.csr: input bca-csr: SHA-256 [0-9a-f]{64} is not 1{64}, the one the requester showed' \
	run --clock $CLOCK --confirm-digests --input "bca-csr=$T/bad.csr" --input "bca-csr-sha256=$T/bad.csr.sha256" \
	--input "bca-cert=$T/fwd1.der" --input "bca-cert-sha256=$T/fwd1.der.sha256" "${SH[@]}" "${OPS[@]}"
check "... before the token" last_run_no_token "$S"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/imp.key" -subj "$ROOTSUBJ" -days 30 -out "$T/imp.pem" 2>/dev/null
forward "$T/imp.pem" 1 "$T/fwd-otherkey.der"
fails "a bridge certificate for another key is refused" 3 \
	"fwd-otherkey.der: input bca-cert: crosspair: forward: must certify our root's current key" \
	run --clock $CLOCK --confirm-digests $(ins 1 "$T/fwd-otherkey.der") "${SH[@]}" "${OPS[@]}"
check "... and the cross certificate signed before it was removed" bash -c \
	"[ ! -e '$S/certs/cross-1.der' ] && [ ! -e '$S/certs/crosspair-1.der' ] && ! grep -q '^cross' '$S/state.conf' && ! grep -q '	cross	' '$S/issued.txt' && tail -20 '$S/audit/audit.log' | grep -q '	cert.remove	ok	.*cross-1.der'"
forward "$R" 1 "$T/fwd-bad-sha.der"; echo 2222222222222222222222222222222222222222222222222222222222222222 >"$T/fwd-bad-sha.der.sha256"
fails "a bridge certificate whose SHA-256 is not the one sent is refused" 3 \
	'input bca-cert: SHA-256 [0-9a-f]{64} is not 2{64}, the one the bridge CA sent' \
	run --clock $CLOCK --confirm-digests $(ins 1 "$T/fwd-bad-sha.der") "${SH[@]}" "${OPS[@]}"
# A bridge certificate through which a party trusting the bridge's anchor
# could build no path to a resident (OpenSSL, NSS and GnuTLS refuse it) or
# check our ARL: each refused naming the field.
fwd_ext() { # NAME EXTENSIONS (the cross section's, one changed)
	printf '[x]\n%s\n' "$2" >"$T/$1.cnf"
	forward "$R" 1 "$T/$1.der" "$T/$1.cnf"
}
XP="certificatePolicies = $POLICY_TEST"
KI=$'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid'
fwd_ext fwd-nocrlsign $'basicConstraints = critical, CA:true\nkeyUsage = critical, keyCertSign\n'"$KI"$'\n'"$XP"
fwd_ext fwd-dsig $'basicConstraints = critical, CA:true\nkeyUsage = critical, digitalSignature\n'"$KI"$'\n'"$XP"
fwd_ext fwd-noku $'basicConstraints = critical, CA:true\n'"$KI"$'\n'"$XP"
fwd_ext fwd-nobc $'keyUsage = critical, keyCertSign, cRLSign\n'"$KI"$'\n'"$XP"
fwd_ext fwd-pathlen0 $'basicConstraints = critical, CA:true, pathlen:0\nkeyUsage = critical, keyCertSign, cRLSign\n'"$KI"$'\n'"$XP"
fwd_ext fwd-otherski $'basicConstraints = critical, CA:true\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = 0102030405060708090a0b0c0d0e0f1011121314\nauthorityKeyIdentifier = keyid\n'"$XP"
for f in nocrlsign:keyUsage dsig:keyUsage noku:keyUsage nobc:basicConstraints \
	pathlen0:'basicConstraints: pathLenConstraint 0' otherski:subjectKeyIdentifier; do
	fails "a bridge certificate for us without ${f#*:} as a path needs (fwd-${f%%:*}) is refused" 3 \
		"fwd-${f%%:*}.der: input bca-cert: ${f#*:}[: ].*RFC 5280" \
		run --clock $CLOCK --confirm-digests $(ins 1 "$T/fwd-${f%%:*}.der") "${SH[@]}" "${OPS[@]}"
done
check "... and nothing of them kept" bash -c \
	"! ls '$S'/certs/cross* >/dev/null 2>&1 && ! grep -q '^cross' '$S/state.conf' && ! grep -q '	cross	' '$S/issued.txt'"
bridge x
forward "$R" x "$T/fwd-otherbridge.der"
fails "a bridge certificate signed by another bridge key is refused" 1 \
	'fwd-otherbridge.der: input bca-cert: signature: does not verify with the bridge CA key we certified' \
	run --clock $CLOCK --confirm-digests $(ins 1 "$T/fwd-otherbridge.der") "${SH[@]}" "${OPS[@]}"

# A failure forced after each step.
for step in approve check-request activate sign accept commit checkpoint; do
	HANKO_FAIL_AT_STEP=$step "$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal --keep-rehearsal \
		--clock $CLOCK --confirm-digests $(ins 1 "$T/fwd1.der") "${SH[@]}" "${OPS[@]}" \
		>"$T/out.$step" 2>"$T/err.$step" && rc=0 || rc=$?
	C=$(kept "$T/out.$step")
	check "failure after $step: the run fails (exit $rc)" test "$rc" = 70 -a -n "$C"
	case $step in
	commit|checkpoint)
		check "failure after $step: generation 1 stays whole" bash -c \
			"[ -e '$C/certs/cross-1.der' ] && [ -e '$C/certs/crosspair-1.der' ] && grep -qx 'cross.current = 1' '$C/state.conf' && grep -q '	cross	' '$C/issued.txt'" ;;
	*)
		check "failure after $step: nothing written, registered or recorded" bash -c \
			"! ls '$C'/certs/cross* >/dev/null 2>&1 && ! grep -q '^cross' '$C/state.conf' && ! grep -q '	cross	' '$C/issued.txt'" ;;
	esac
	ok "failure after $step: the copy's audit log verifies" "$OFF" audit verify --state "$C"
	rm -rf "$C"
done

# Inputs are read once, before anything runs: the bridge's certificate and
# its SHA-256 replaced on the medium while the run waits for a passphrase
# (a FIFO) change nothing; what is kept is what the transcript hashed.
forward "$R" 1 "$T/other.der"
cp "$T/fwd1.der" "$T/in.der"; cp "$T/fwd1.der.sha256" "$T/in.der.sha256"
rm -f "$T/pass"; mkfifo "$T/pass"
"$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal --keep-rehearsal --clock $CLOCK --confirm-digests \
	$(ins 1 "$T/in.der") "${SH[@]}" --operator watanabe=file:"$T/pass" --operator ito=env:HK_PASS_ito \
	--operator kimura=env:HK_PASS_kimura >"$T/out.swap" 2>&1 &
swap_pid=$!
# opening the FIFO waits for the ceremony to open it: its inputs are read by then
timeout 120 bash -c 'exec 3>"$1"; cp "$2" "$3"; cp "$2.sha256" "$3.sha256"; printf "%s\n" "$4" >&3' _ \
	"$T/pass" "$T/other.der" "$T/in.der" "$HK_PASS_watanabe" || true
wait $swap_pid && rc=0 || rc=$?
C=$(kept "$T/out.swap")
GOOD=$(cat "$T/fwd1.der.sha256")
check "inputs swapped during the run: it still succeeds (exit $rc), the swap came after the start" bash -c \
	"[ $rc = 0 ] && [ -n '$C' ] && cmp -s '$T/in.der' '$T/other.der'"
check "... the transcript's bca-cert SHA-256 is the one read at the start" \
	grep -q "^input: bca-cert cert $T/in.der SHA-256 $GOOD\$" "$(sed -n 's/^Transcript: \(.*\.txt\) (.*/\1/p' "$T/out.swap")"
check "... the certificate kept is that one, not the file now on the medium" bash -c \
	"[ \"\$(sha256sum <'$C/certs/cross-forward-1.der' | cut -c1-64)\" = '$GOOD' ] && ! cmp -s '$C/certs/cross-forward-1.der' '$T/other.der'"
rm -rf "$C"

# A CertificatePair that cannot be written (a full medium: renameat2 fails
# through an LD_PRELOAD shim) leaves nothing behind: the forward certificate
# written just before is removed too, so the ceremony runs again (below).
cc -shared -fPIC -o "$T/failrename.so" "$HANKO_SRC/test/data/issuance/failrename.c" -ldl
fails "the pair cannot be written: the run fails" 8 'crosspair-1.der: cannot rename into place: No space left' \
	env HK_FAIL_RENAME=crosspair- LD_PRELOAD="$T/failrename.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$OFF" ceremony run "$SCRIPT" --state "$S" --clock $CLOCK --confirm-digests $(ins 1 "$T/fwd1.der") \
	"${SH[@]}" "${OPS[@]}"
check "... nothing left: no cross-forward-1, crosspair-1 or cross-1, nothing recorded" bash -c \
	"! ls '$S'/certs/cross* >/dev/null 2>&1 && ! grep -q '^cross' '$S/state.conf' && ! grep -q '	cross	' '$S/issued.txt'"
check "... the forward certificate's removal is in the log" \
	grep -q '	cert.remove	ok	.*cross-forward-1.der removed' "$S/audit/audit.log"

# Rehearsal, then the real run (also the run again after the failure above).
ok "rehearsal of cross-certify" run --rehearsal --clock $CLOCK --confirm-digests $(ins 1 "$T/fwd1.der") "${SH[@]}" "${OPS[@]}"
check "the state is unchanged by the rehearsal" bash -c "! ls '$S'/certs/cross* >/dev/null 2>&1"
ok "real run of cross-certify" run --clock $CLOCK --confirm-digests $(ins 1 "$T/fwd1.der") "${SH[@]}" "${OPS[@]}"
X=$S/certs/cross-1.pem
AT="-attime $(date -u -d 2026-04-04T00:00:00Z +%s)"
ok "our cross certificate verifies under our root" openssl verify -x509_strict $AT -CAfile "$R" "$X"
check "it certifies the bridge's key and DN, 5 years, with the mapping" bash -c \
	"[ \"\$(openssl x509 -in '$X' -noout -pubkey)\" = \"\$(openssl req -in '$T/bca-1.csr' -noout -pubkey)\" ] &&
	 openssl x509 -in '$X' -noout -subject -nameopt RFC2253 | grep -qx 'subject=OU=Bridge CA,O=JPKI,C=JP' &&
	 openssl x509 -in '$X' -noout -text | grep -q '1.2.392.200149.8.5.9.1'"
openssl x509 -in "$S/certs/cross-forward-1.der" -inform DER -out "$T/fwd1.pem"
ok "a party trusting only the bridge's anchor reaches our issuing CA (policy, explicit)" \
	openssl verify -x509_strict $AT -policy_check -explicit_policy -policy $POLICY_TEST \
	-CAfile "$T/bca-1.pem" -untrusted "$T/fwd1.pem" "$I"
# A resident's certificate under issuing CA 1 (its key iss1.csr.key): the
# whole path from the bridge's anchor, in OpenSSL and NSS.
printf '%s\n' '[x]' 'keyUsage = critical, digitalSignature, nonRepudiation' 'subjectKeyIdentifier = hash' \
	'authorityKeyIdentifier = keyid' "certificatePolicies = critical, $POLICY_TEST" >"$T/leaf.cnf"
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/leaf.key" -subj "/C=JP/CN=resident" -out "$T/leaf.csr" 2>/dev/null
toy_ca_run "$(toy_ca)" -in "$T/leaf.csr" -cert "$I" -keyfile "$T/iss1.csr.key" -notext -startdate 20260403000000Z \
	-enddate 20290402235959Z -extfile "$T/leaf.cnf" -extensions x -out "$T/leaf.pem" >/dev/null 2>&1
ok "... and a resident's certificate under it" \
	openssl verify -x509_strict $AT -policy_check -explicit_policy -policy $POLICY_TEST \
	-CAfile "$T/bca-1.pem" -untrusted "$T/fwd1.pem" -untrusted "$I" "$T/leaf.pem"
if command -v vfychain >/dev/null; then
	for f in bca-1 leaf; do openssl x509 -in "$T/$f.pem" -outform DER -out "$T/$f.der"; done
	openssl x509 -in "$I" -outform DER -out "$T/iss1.der"
	ok "... NSS vfychain agrees (trusting only the bridge's anchor)" bash -c \
		"vfychain -pp -u 4 -b 2604040000Z -o OID.$POLICY_TEST '$T/leaf.der' '$S/certs/cross-forward-1.der' '$T/iss1.der' -t '$T/bca-1.der' 2>&1 | grep -q 'Chain is good'"
fi
fails "... and not without the bridge's certificate for our root" 2 '.' \
	bash -c "openssl verify -x509_strict $AT -CAfile '$T/bca-1.pem' '$I' >/dev/null 2>&1 || { echo 'no path'>&2; exit 2; }"
P=$S/certs/crosspair-1.der
openssl asn1parse -inform DER -in "$P" >"$T/pair.txt"
check "the CertificatePair decodes into [0] and [1]" bash -c \
	"grep -q 'd=1 .*cont \[ 0 \]' '$T/pair.txt' && grep -q 'd=1 .*cont \[ 1 \]' '$T/pair.txt'"
openssl asn1parse -inform DER -in "$P" -strparse 4 -noout -out "$T/pair0.der" 2>/dev/null || true
check "[0] is the bridge's certificate for us, [1] ours" bash -c \
	"python3 - '$P' '$S/certs/cross-forward-1.der' '$S/certs/cross-1.der' <<'PY'
import sys
p, f, r = (open(x, 'rb').read() for x in sys.argv[1:])
def tlv(b, i):
    t = b[i]; l = b[i+1]; h = 2
    if l & 0x80:
        n = l & 0x7f; l = int.from_bytes(b[i+2:i+2+n], 'big'); h = 2 + n
    return t, i + h, l
t, o, l = tlv(p, 0); assert t == 0x30 and o + l == len(p)
t0, o0, l0 = tlv(p, o); assert t0 == 0xa0 and p[o0:o0+l0] == f
t1, o1, l1 = tlv(p, o0 + l0); assert t1 == 0xa1 and p[o1:o1+l1] == r
PY"
check "state.conf: cross.current = 1, reverse, forward, pair" bash -c \
	"grep -qx 'cross.current = 1' '$S/state.conf' && grep -qx 'cross.1.reverse = certs/cross-1.der' '$S/state.conf' &&
	 grep -qx 'cross.1.forward = certs/cross-forward-1.der' '$S/state.conf' && grep -qx 'cross.1.pair = certs/crosspair-1.der' '$S/state.conf'"
check "issued.txt lists the issuing CA and the cross certificate" bash -c \
	"[ \"\$(grep -v '^#' '$S/issued.txt' | cut -f2 | tr '\n' ' ')\" = 'issuing cross ' ] && grep -q '	cross	.*	certs/cross-1.der	valid	' '$S/issued.txt'"
ok "the audit log verifies" "$OFF" audit verify --state "$S"

# Renewal (a new bridge key): the same script, generation 2.
bridge 2
forward "$R" 2 "$T/fwd2.der"
ok "the same script renews: generation 2" run --clock 2026-04-03T09:00:00Z --confirm-digests $(ins 2 "$T/fwd2.der") "${SH[@]}" "${OPS[@]}"
check "generation 2 recorded, generation 1 kept" bash -c \
	"grep -qx 'cross.current = 2' '$S/state.conf' && grep -qx 'cross.2.pair = certs/crosspair-2.der' '$S/state.conf' &&
	 grep -qx 'cross.1.pair = certs/crosspair-1.der' '$S/state.conf' && [ \$(grep -c '	cross	' '$S/issued.txt') = 2 ]"
openssl x509 -in "$S/certs/cross-forward-2.der" -inform DER -out "$T/fwd2.pem"
ok "a party trusting the new bridge anchor reaches our issuing CA" \
	openssl verify -x509_strict $AT -policy_check -explicit_policy -policy $POLICY_TEST \
	-CAfile "$T/bca-2.pem" -untrusted "$T/fwd2.pem" "$I"
ok "the audit log still verifies" "$OFF" audit verify --state "$S"

# certtool checks validity at the real clock only: the same path on a root
# made two days ago (the bridge's certificates from then), issuing CA 1 and
# the cross-certification yesterday.
BDAY=$(ago 2)
make_rooted_ca "$T/now" "$BDAY"
issue_subca "$T/iss1.csr" "$T/iss1.csr.sha256" "$(ago 1)T09:00:00Z" >/dev/null
bridge now
forward "$R" now "$T/fwd-now.der"
ok "cross-certify yesterday under a root of the day before (for certtool)" \
	run --clock "$(ago 1)T10:00:00Z" --confirm-digests $(ins now "$T/fwd-now.der") "${SH[@]}" "${OPS[@]}"
openssl x509 -in "$S/certs/cross-forward-1.der" -inform DER -out "$T/fwd-now.pem"
cat "$S/certs/issuing-1.pem" "$T/fwd-now.pem" >"$T/chain.pem"
ok "certtool agrees" certtool --verify --load-ca-certificate "$T/bca-now.pem" --infile "$T/chain.pem"
finish

#!/usr/bin/env bash
# t_root.sh - the root made in the token by create-root (CPS 6-1-1-2,
# 6-3-1-2, 7-1-3) checked with tools that are not hanko: openssl verify,
# GnuTLS certtool, openssl asn1parse, and SoftHSM2's own view of the key.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
make_ca "$T/ca"
S=$T/ca/state
mapfile -t args < <(share_args "$T/ca" 2 4 5)
ok "create-root with shares 2, 4, 5" "$OFF" create-root --state "$S" --clock 2026-04-01T09:00:00Z "${args[@]}"
R=$S/certs/root-1.pem
D=$S/certs/root-1.der

ok "openssl verify -x509_strict accepts the root" openssl verify -x509_strict -check_ss_sig \
	-attime "$(date -u -d 2026-04-01T12:00:00Z +%s)" -CAfile "$R" "$R"
# certtool checks validity at the real clock only: a second root, made the
# same way yesterday.
make_ca "$T/now" "$(ago 1)T00:00:00Z"
mapfile -t nargs < <(share_args "$T/now" 2 4 5)
ok "create-root yesterday (for certtool)" "$OFF" create-root --state "$T/now/state" --clock "$(ago 1)T09:00:00Z" "${nargs[@]}"
RN=$T/now/state/certs/root-1.pem
ok "GnuTLS certtool verifies the root against itself" \
	bash -c "certtool --verify --load-ca-certificate '$RN' --infile '$RN' 2>/dev/null | grep -q 'Chain verification output: Verified'"
ok "GnuTLS certtool --verify-chain accepts it" certtool --verify-chain --infile "$RN"
check "DER and PEM hold the same certificate" \
	test "$(openssl x509 -in "$D" -inform DER -outform DER | sha256sum)" = "$(openssl x509 -in "$R" -outform DER | sha256sum)"

text=$(openssl x509 -in "$R" -noout -text -nameopt RFC2253)
check "validity is exactly 10 years minus one second" \
	bash -c "openssl x509 -in '$R' -noout -startdate -enddate | tr '\n' ' ' | grep -q 'notBefore=Apr  1 09:00:00 2026 GMT notAfter=Apr  1 08:59:59 2036 GMT'"
check "subject is the rehearsal root DN" \
	bash -c "openssl x509 -in '$R' -noout -subject -nameopt RFC2253 | grep -qx 'subject=OU=TEST,OU=Governor of Kumamoto Prefecture,OU=Kumamoto-ken,O=JPKI,C=JP'"
check "issuer equals subject" test "$(openssl x509 -in "$R" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')" = \
	"$(openssl x509 -in "$R" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
check "basicConstraints critical, CA:TRUE" bash -c "grep -A1 'Basic Constraints: critical' <<<\"\$0\" | grep -q 'CA:TRUE'" "$text"
check "keyUsage critical, exactly keyCertSign and cRLSign" bash -c "grep -A1 'Key Usage: critical' <<<\"\$0\" | grep -qx ' *Certificate Sign, CRL Sign'" "$text"
check "no authorityKeyIdentifier" bash -c "! grep -q 'Authority Key Identifier' <<<\"\$0\"" "$text"
# SKI = SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 4.2.1.2 (1)).
ski=$(openssl x509 -in "$R" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f)
openssl x509 -in "$R" -noout -pubkey | openssl pkey -pubin -outform DER >"$T/spki.der"
off=$(openssl asn1parse -inform DER -in "$T/spki.der" | awk -F: '/BIT STRING/{print $1+0; exit}')
hl=$(openssl asn1parse -inform DER -in "$T/spki.der" | awk '/BIT STRING/{sub(/.*hl=/,""); print $1+0; exit}')
want=$(tail -c +$((off + hl + 2)) "$T/spki.der" | sha1sum | cut -c1-40)
check "SKI is the SHA-1 of the public key bits" test "$ski" = "$want"
# OpenSSL prints the directoryName of an alt-name with UTF-8 bytes escaped.
esc() { python3 -c 'import sys; print("".join(c if ord(c) < 128 else "".join("\\x%02X" % b for b in c.encode()) for c in sys.argv[1]))' "$1"; }
jname="DirName:/C=JP/O=$(esc 公的個人認証サービス)/OU=$(esc 熊本県知事)/OU=TEST"
check "the Japanese alt-name is the directoryName C=JP, O=公的個人認証サービス, OU=熊本県知事" \
	bash -c "openssl x509 -in '$R' -noout -ext subjectAltName | grep -qxF '    $jname'"
check "the CRL distribution point is the root DN" \
	bash -c "openssl x509 -in '$R' -noout -ext crlDistributionPoints | grep -q 'DirName:C = JP, O = JPKI, OU = Kumamoto-ken, OU = Governor of Kumamoto Prefecture, OU = TEST'"
check "C is a PrintableString and the other attributes UTF8String" \
	bash -c "openssl asn1parse -inform DER -in '$D' | sed -n '/countryName/{n;p;q}' | grep -q PRINTABLESTRING && \
	         [ \"\$(openssl asn1parse -inform DER -in '$D' | grep -A1 'organizationalUnitName' | grep -c UTF8STRING)\" -ge 3 ]"
check "RSA-2048 with sha256WithRSAEncryption" bash -c "grep -q 'Public-Key: (2048 bit)' <<<\"\$0\" && grep -q 'Signature Algorithm: sha256WithRSAEncryption' <<<\"\$0\"" "$text"
# The public key in the certificate is the one in the token (SoftHSM2's view, without a login).
SOFTHSM2_CONF=$S/token/softhsm2.conf pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so \
	--token-label hanko-root-test --read-object --type pubkey --label root-1 -o "$T/tokpub.der" >/dev/null 2>&1 || true
check "the token holds the root's public key" \
	test "$(openssl pkey -pubin -inform DER -in "$T/tokpub.der" -outform DER 2>/dev/null | sha256sum)" = "$(sha256sum <"$T/spki.der")"
check "the state records generation 1 and its key URI" \
	grep -q '^root.1.key-uri = pkcs11:token=hanko-root-test;id=%72%6f%6f%74%2d%31;type=private$' "$S/state.conf"
check "the audit log records the key generation and the signature" \
	bash -c "grep -q '	key.generate	ok	sato,takahashi,tanaka	root-1' '$S/audit/audit.log' && grep -q '	cert.sign	ok	' '$S/audit/audit.log'"
ok "the audit log verifies with its checkpoint key" "$OFF" audit verify --state "$S"
ok "status reads the CA" "$OFF" status --state "$S"
fp=$(openssl x509 -in "$R" -noout -fingerprint -sha256 | sed 's/^.*=//')
check "status shows the root's fingerprint, the 3-of-5 set and a clean log" \
	bash -c "grep -q 'SHA-256 $fp' '$T/out' && grep -q ', 3 of 5; holders yamada, sato, suzuki, takahashi, tanaka' '$T/out' && grep -q 'chain intact' '$T/out'"
# CPS 4-11-4: when the log began and when its yearly close is due, by the
# machine's clock (status takes no --clock): this log began at init,
# 2026-04-01T00:00:00Z; a log begun on 2025-01-01 is past its year.
due=$(date -u -d 2027-04-01T00:00:00Z +%s) now=$(date -u +%s)
if [ "$now" -lt "$due" ]; then
	n=$(( (due - now) / 86400 ))
	check "status says when the log began and in how many days its yearly close is due ($n)" grep -Eqx \
		"  yearly close:  the log began 2026-04-01T00:00:00Z; its close is due in ($n|$((n - 1))) days \(CPS 4-11-4\)" "$T/out"
else
	check "status says the yearly close is due (past 2027-04-01)" grep -q "^  yearly close:  DUE: the log began 2026-04-01T00:00:00Z" "$T/out"
fi
make_ca "$T/old" 2025-01-01T00:00:00Z
ok "status of a CA whose log began on 2025-01-01" "$OFF" status --state "$T/old/state"
n=$(( ($(date -u +%s) - $(date -u -d 2025-01-01T00:00:00Z +%s)) / 86400 ))
check "... the yearly close is DUE, with the days since the log began ($n)" grep -Eqx \
	"  yearly close:  DUE: the log began 2025-01-01T00:00:00Z, ($n|$((n - 1))) days ago: close it with the internal auditor present \(hanko-offline audit close; CPS 4-11-4, docs/audit-log.md \"Retention\"\)" "$T/out"
echo tampered >>"$S/audit/audit.log"
fails "status exits 6 on a tampered audit log" 6 "" "$OFF" status --state "$S"
check "... and says so" grep -q 'FAILS VERIFICATION' "$T/out"
finish

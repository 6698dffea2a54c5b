#!/usr/bin/env bash
# t_online_interop.sh - residents' certificates, partition CRLs and the ARL
# checked by verifiers that are not OpenSSL (the project's rule: check our
# output with independent tools too; CPS 4-3, 7-1, 7-2, 4-4-4-4, 4-4-11;
# PROFILE.md; docs/relying-parties.md "Other libraries"). A working
# publisher (make_online), six residents of six municipalities (the
# substitute-character samples and the foreign resident with an alias among
# them), three revoked with three reasons, the ARLs of an arl-batch, one
# publication; then:
#  - GnuTLS certtool: every certificate verifies root -> issuing CA ->
#    resident, the SAN's six otherNames in order with their values, every
#    partition CRL and the ARL verify, a revoked certificate is revoked with
#    its partition CRL; refusals: another root, expiry, a tampered
#    certificate, a tampered CRL, a CRL against the wrong issuer, a CRL past
#    its nextUpdate;
#  - NSS (a throwaway database; certutil, vfychain, crlutil, nss-pp): every
#    certificate verifies with libpkix, with our policy and not another;
#    refusals: a tampered certificate, another root, expiry.
# What the libraries cannot do with our (RFC 5280 conforming) output is
# asserted as observed, so that a change shows: GnuTLS ignores the critical
# issuingDistributionPoint (it applies any CRL of the issuer, unverified
# and stale ones too); NSS refuses every CRL and ARL with a critical IDP
# (a toy CA made with openssl shows that this is the only reason, and that
# NSS finds a revoked certificate revoked when it has a CRL it can use), so
# it cannot tell a revoked resident's certificate from a good one; its
# classic verifier refuses the critical certificatePolicies. certtool 3.7
# has no --attime: faketime gives it the verification time.
. "$(dirname "$0")/online.sh"
P=$T/repo
C=$T/c
mkdir -p "$C"
AT="2026-04-04 04:00:00"	# a day after the revocations, inside the CRLs' 72 h
LATE="2026-04-08 04:00:00"	# after the CRLs' nextUpdate (2026-04-07T03:00:00Z)
NB=2604040400Z	# vfychain -b (YYMMDDHHMMZ) at AT
# certtool at a given time (faketime reads a local time: TZ=UTC)
ct_at() { local t=$1; shift; TZ=UTC faketime "$t" certtool "$@"; }
ct() { ct_at "$AT" "$@"; }
# out FILE PATTERN: the captured output holds PATTERN (fixed string)
out() { grep -qF -- "$2" "$1"; }
# flip IN OUT: IN with one bit of its signature changed (the fifth byte
# from the end: the signature BIT STRING ends the DER)
flip() { python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-5] ^= 1
open(sys.argv[2], "wb").write(b)' "$1" "$2"; }
# certtool's last line for a good and for a revoked chain
VERIFIED='Chain verification output: Verified. The certificate is trusted.'
REVOKED='Chain verification output: Not verified. The certificate is NOT trusted. The certificate chain is revoked.'

# Six residents of six municipalities: lines 2-7 of valid.csv.
#   2 431010 熊本　太郎                     revoked: keyCompromise
#   3 432024 八代　花子                     good
#   4 432148 高木　一郎 (髙 substituted)     revoked: superseded
#   5 432105 鷗外　丂 (JIS X 0212, era 0)   good
#   6 431028 スミス　ジョン　山田　ジョン (foreign resident, name and alias)
#                                           revoked: affiliationChanged
#   7 432032 人吉　崎子 (﨑 substituted)     good
B=$T/req
req_dir "$B" 7
ok "issue six certificates in six municipalities" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" \
	--out "$T/issued"
certs_from "$T/issued"
RES=$T/issued/results.csv
serial() { sed -n "s/^$1,ok,\([0-9A-F]*\),.*/\1/p" "$RES"; }
code() { sed -n "$1p" "$B/batch.csv" | cut -d, -f1; }
LINES="2 3 4 5 6 7"
for l in $LINES; do
	openssl x509 -inform DER -in "$T/issued/certs/$(serial "$l").der" -out "$C/$l.pem"
	cp "$T/issued/certs/$(serial "$l").der" "$C/$l.der"
	cat "$C/$l.pem" "$ISS" >"$C/$l.chain.pem"
done
RC=(--clock 2026-04-03T09:00:00Z)
ok "revoke line 2 (431010): keyCompromise" "$ON" revoke --state "$O" "${RC[@]}" --serial "$(serial 2)" \
	--reason key-compromise
ok "revoke line 4 (432148, substitute character): superseded" "$ON" revoke --state "$O" "${RC[@]}" \
	--serial "$(serial 4)" --reason superseded
ok "revoke line 6 (431028, alias): affiliationChanged" "$ON" revoke --state "$O" "${RC[@]}" \
	--serial "$(serial 6)" --reason affiliation-changed

# The ARLs (ten from 2026-04-02T11:00: none runs out within 7 days), then
# the publication.
ok "offline: arl-batch ceremony (10 ARLs)" arl_batch 10 2026-04-02T11:00:00Z
ok "offline: bundle of the ARLs" arl_bundle 10 2026-04-02T12:00:00Z
ok "import the ARLs" "$ON" import --state "$O" --clock 2026-04-03T10:00:00Z --type arl-batch "$T/b-arl"
ok "publish (2026-04-04T03:00:00Z)" "$ON" publish --state "$O" --repo "$P" --clock 2026-04-04T03:00:00Z
for f in "$P"/crl/*.crl; do openssl crl -inform DER -in "$f" -out "$C/crl-$(basename "$f" .crl).pem"; done
openssl crl -inform DER -in "$P/arl.crl" -out "$C/arl.pem"
NCRL=$(ls "$P"/crl/*.crl | wc -l)

# A toy CA made with openssl, for the refusals (another root) and for
# NSS's control: two leaves, the first revoked on two CRLs alike but for
# a critical IDP (the toy's dates are today's: used without -b/faketime).
Y=$T/toy
mkdir -p "$Y"
cat >"$Y/ca.cnf" <<'EOF'
[ca]
default_ca = toy
[toy]
database = index.txt
crlnumber = crlnumber
default_md = sha256
[plain]
authorityKeyIdentifier = keyid
[idp]
authorityKeyIdentifier = keyid
issuingDistributionPoint = critical, @idp_sect
[idp_sect]
fullname = dirName:idp_dn
onlyuser = TRUE
[idp_dn]
CN = toy partition
[leaf]
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
toy() (
	cd "$Y" &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -subj "/CN=toy root" -days 30 -out ca.pem &&
	for n in 1 2; do
		openssl req -new -newkey rsa:2048 -nodes -keyout "leaf$n.key" -subj "/CN=toy leaf $n" -out "leaf$n.csr" &&
		openssl x509 -req -in "leaf$n.csr" -CA ca.pem -CAkey ca.key -set_serial "$n" -days 30 \
			-extfile ca.cnf -extensions leaf -outform DER -out "leaf$n.der" || return 1
	done &&
	echo 01 >crlnumber &&
	printf 'R\t%s\t%s,keyCompromise\t01\tunknown\t/CN=toy leaf 1\n' "$(date -u -d '+30 days' +%y%m%d%H%M%SZ)" \
		"$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)" >index.txt &&
	for e in plain idp; do
		openssl ca -config ca.cnf -gencrl -keyfile ca.key -cert ca.pem -crldays 3 -crlexts "$e" -out "$e.pem" &&
		openssl crl -in "$e.pem" -outform DER -out "$e.crl" || return 1
	done
)
ok "a toy CA (openssl): root, two leaves, the first revoked; a CRL without IDP and one with" toy

# --- GnuTLS certtool -----------------------------------------------------
for l in $LINES; do
	ct --verify --verify-profile=medium --load-ca-certificate "$R" --infile "$C/$l.chain.pem" >"$T/ct" 2>&1 || true
	check "certtool --verify: line $l ($(code "$l")): root -> issuing CA -> resident, at $AT UTC" out "$T/ct" "$VERIFIED"
done
cat "$C/5.pem" "$ISS" "$R" >"$T/full.pem"
ok "certtool --verify-chain: resident, issuing CA, root (the last one trusted)" \
	ct --verify-chain --verify-profile=medium --infile "$T/full.pem"
ct --verify --verify-profile=medium --load-ca-certificate "$Y/ca.pem" --infile "$C/5.chain.pem" >"$T/ct" 2>&1 || true
check "certtool refuses: the chain against another root (the toy's): issuer unknown" \
	out "$T/ct" "Chain verification output: Not verified. The certificate is NOT trusted. The certificate issuer is unknown."
flip "$C/3.der" "$T/bad.der"
{ openssl x509 -inform DER -in "$T/bad.der"; cat "$ISS"; } >"$T/bad-chain.pem"
ct --verify --verify-profile=medium --load-ca-certificate "$R" --infile "$T/bad-chain.pem" >"$T/ct" 2>&1 || true
check "certtool refuses: line 3's certificate with one bit of its signature changed" \
	out "$T/ct" "Chain verification output: Not verified. The certificate is NOT trusted. The signature in the certificate is invalid."
ct_at "2029-04-03 00:00:00" --verify --verify-profile=medium --load-ca-certificate "$R" --infile "$C/5.chain.pem" \
	>"$T/ct" 2>&1 || true
check "certtool refuses: after the resident's notAfter (2029-04-02T11:59:59Z): expired" \
	out "$T/ct" "The certificate chain uses expired certificate."
ct -i --infile "$C/2.pem" >"$T/ct-i" 2>&1
check "certtool -i: certificatePolicies critical, our test policy and the CPS URI (known to GnuTLS)" sh -c \
	"grep -A2 'Certificate Policies (critical):' '$T/ct-i' | grep -q '1.2.392.200149.8.5.1.0.10' &&
	 grep -q 'URI: https://www.jpki.go.jp/cps.html' '$T/ct-i'"

# The basic 4 items as certtool shows them: each otherName's OID and the
# DER of its value (the explicit [0] taken off): a UTF8String we decode.
san_certtool() {	# certtool -i output -> "OID value" lines
	python3 - "$1" <<'PY'
import re, sys
oids, vals = [], []
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"\s*otherName OID: (\S+)$", line)
    if m:
        oids.append(m.group(1))
    m = re.match(r"\s*otherName DER: ([0-9a-f]+)$", line)
    if m:
        b = bytes.fromhex(m.group(1))
        n, off = b[1], 2
        if n & 0x80:
            off = 2 + (n & 0x7f)
            n = int.from_bytes(b[2:off], "big")
        if b[0] != 0x0C or off + n != len(b):
            sys.exit("otherName DER: not one UTF8String: " + m.group(1))
        vals.append(b[off:].decode("utf-8"))
if len(oids) != len(vals):
    sys.exit("OIDs and values differ in number")
for o, v in zip(oids, vals):
    print(o, v)
PY
}
san_csv() {	# batch line -> the six "OID value" lines PROFILE.md orders
	sed -n "$1p" "$B/batch.csv" | awk -F, '{ p = "1.2.392.200149.8.5.5.";
		print p "1 " $3; print p "4 " $5; print p "3 " $6; print p "5 " $7; print p "2 " $4; print p "6 " $8 }'
}
bad=0
for l in $LINES; do
	ct -i --infile "$C/$l.pem" >"$T/ct-i.$l" 2>&1
	[ "$(san_certtool "$T/ct-i.$l")" = "$(san_csv "$l")" ] || { bad=$((bad + 1)); echo "line $l:"; san_certtool "$T/ct-i.$l"; }
done
check "certtool -i: the six otherNames of each certificate in the PROFILE.md order, OIDs and values as requested" \
	test "$bad" = 0
check "... line 6: the foreign resident's name and alias" grep -qx "1.2.392.200149.8.5.5.1 スミス　ジョン　山田　ジョン" \
	<(san_certtool "$T/ct-i.6")
check "... line 4: the substitute flag of 高 (10000)" grep -qx "1.2.392.200149.8.5.5.2 10000" <(san_certtool "$T/ct-i.4")
check "limitation (GnuTLS): the values only as DER, not decoded (the name's line is dots)" \
	grep -qx $'\t\t\totherName ASCII: .................' "$T/ct-i.2"

bad=0
for f in "$C"/crl-*.pem; do
	ct --verify-crl --load-ca-certificate "$ISS" --infile "$f" >"$T/ct" 2>&1 || true
	out "$T/ct" "Verification output: Verified. The certificate is trusted." || { bad=$((bad + 1)); echo "$f"; }
done
check "certtool --verify-crl: each of the $NCRL partition CRLs verifies with the issuing CA" test "$bad" = 0
ct --verify-crl --load-ca-certificate "$R" --infile "$C/arl.pem" >"$T/ct" 2>&1 || true
check "certtool --verify-crl: the ARL verifies with the root" \
	out "$T/ct" "Verification output: Verified. The certificate is trusted."
ct --verify-crl --load-ca-certificate "$R" --infile "$C/crl-431010.pem" >"$T/ct" 2>&1 || true
check "certtool refuses: 431010's CRL against the root (the wrong issuer)" \
	out "$T/ct" "Verification output: Not verified.  The certificate is NOT trusted. The certificate issuer is unknown."
flip "$P/crl/431010.crl" "$T/bad.crl"
openssl crl -inform DER -in "$T/bad.crl" -out "$T/bad-crl.pem"
ct --verify-crl --load-ca-certificate "$ISS" --infile "$T/bad-crl.pem" >"$T/ct" 2>&1 || true
check "certtool refuses: 431010's CRL with one bit of its signature changed" \
	out "$T/ct" "Verification output: Not verified.  The certificate is NOT trusted. The signature in the certificate is invalid."
ct_at "$LATE" --verify-crl --load-ca-certificate "$ISS" --infile "$C/crl-431010.pem" >"$T/ct" 2>&1 || true
check "certtool refuses: 431010's CRL after its nextUpdate: superseded" out "$T/ct" \
	"Verification output: Not verified.  The certificate is NOT trusted. The revocation or OCSP data are old and have been superseded."
check "limitation (GnuTLS): the critical issuingDistributionPoint is an unknown extension to it" \
	grep -q 'Unknown extension 2.5.29.28 (critical):' "$T/ct"

# Revocation in the chain: certtool --verify --load-crl.
ctv_crl() {	# LINE CRL-PEM [TIME]: the chain of LINE with that CRL
	ct_at "${3:-$AT}" --verify --verify-profile=medium --load-ca-certificate "$R" --load-crl "$2" \
		--infile "$C/$1.chain.pem" >"$T/ct" 2>&1 || true
}
for l in 2 4 6; do
	ctv_crl "$l" "$C/crl-$(code "$l").pem"
	check "certtool --verify --load-crl: line $l is revoked on its partition's CRL ($(code "$l"))" out "$T/ct" "$REVOKED"
done
for l in 3 5 7; do
	ctv_crl "$l" "$C/crl-$(code "$l").pem"
	check "certtool --verify --load-crl: line $l is good with its partition's CRL ($(code "$l"))" out "$T/ct" "$VERIFIED"
done
# What GnuTLS does not do (RFC 5280 5.2, 5.2.5, 6.3.3: a CRL with a
# critical extension the application cannot process is not used; the CRL's
# scope must be the certificate's distribution point; its signature and
# nextUpdate checked). The relying party must (docs/relying-parties.md).
ctv_crl 2 "$C/crl-432148.pem"
check "limitation (GnuTLS): revoked line 2 (431010) given 432148's CRL (another partition): verified" \
	out "$T/ct" "$VERIFIED"
ctv_crl 2 "$T/bad-crl.pem"
check "limitation (GnuTLS): the CRL whose signature was changed is still used (line 2: revoked)" out "$T/ct" "$REVOKED"
ctv_crl 3 "$C/crl-432024.pem" "$LATE"
check "limitation (GnuTLS): a CRL past its nextUpdate is used without a word (line 3: verified)" out "$T/ct" "$VERIFIED"
# The same three with openssl verify -crl_check, which does check them
# (what docs/relying-parties.md tells a GnuTLS user to do by hand).
osv() {	# LINE CRL-PEM TIME
	openssl verify -attime "$(date -u -d "$3Z" +%s)" -crl_check -CAfile "$R" -untrusted "$ISS" -CRLfile "$2" \
		"$C/$1.pem" >"$T/osv" 2>&1 || true
}
osv 2 "$C/crl-432148.pem" "$AT"
check "contrast (openssl): line 2 given 432148's CRL: different CRL scope" out "$T/osv" "lookup: different CRL scope"
osv 2 "$T/bad-crl.pem" "$AT"
check "contrast (openssl): the changed CRL: CRL signature failure" out "$T/osv" "lookup: CRL signature failure"
osv 3 "$C/crl-432024.pem" "$LATE"
check "contrast (openssl): past its nextUpdate: CRL has expired" out "$T/osv" "lookup: CRL has expired"

# --- NSS --------------------------------------------------------------------
N=sql:$T/nss
mkdir -p "$T/nss" "$T/nss-toy"
ok "NSS: certutil -N (a throwaway database)" certutil -N -d "$N" --empty-password
ok "NSS: the root trusted for signatures (,C,)" certutil -A -d "$N" -n kumamoto-root -t ,C, -i "$R"
ok "NSS: the issuing CA, no trust of its own" certutil -A -d "$N" -n issuing-1 -t ,, -i "$ISS"
# vfy DB ARGS...: vfychain for signing certificates (usage 4, email signer:
# digitalSignature and nonRepudiation, no EKU), its report in $T/vfy
vfy() { local db=$1; shift; vfychain -d "$db" -u 4 "$@" >"$T/vfy" 2>&1 || true; }
for l in $LINES; do
	vfy "$N" -pp -b "$NB" "$C/$l.der"
	check "vfychain -pp (libpkix): line $l ($(code "$l")) chains to the root, at $NB" out "$T/vfy" "Chain is good!"
done
vfy "$N" -p -b "$NB" "$C/3.der"
check "vfychain -p (CERT_VerifyCertificate through libpkix): good" out "$T/vfy" "Chain is good!"
vfy "$N" -pp -b "$NB" -o OID.1.2.392.200149.8.5.1.0.10 "$C/3.der"
check "vfychain -pp -o our (test) policy: good" out "$T/vfy" "Chain is good!"
vfy "$N" -pp -b "$NB" -o OID.1.2.392.200149.8.5.1.1.10 "$C/3.der"
check "NSS refuses: the production policy asked of a rehearsal certificate (-8032)" \
	out "$T/vfy" "ERROR -8032: Cert chain fails policy validation"
vfy "$N" -pp -b "$NB" "$T/bad.der"
check "NSS refuses: the certificate with one bit of its signature changed (-8182)" \
	out "$T/vfy" "ERROR -8182: Peer's certificate has an invalid signature."
vfy "$N" -pp -b 2904030000Z "$C/3.der"
check "NSS refuses: after its notAfter (-8181)" out "$T/vfy" "ERROR -8181: Peer's Certificate has expired."
certutil -N -d "sql:$T/nss-toy" --empty-password
certutil -A -d "sql:$T/nss-toy" -n toy -t ,C, -i "$Y/ca.pem"
vfy "sql:$T/nss-toy" -pp -b "$NB" "$C/3.der"
check "NSS refuses: in a database trusting another root (the toy's) (-8179)" \
	out "$T/vfy" "ERROR -8179: Peer's Certificate issuer is not recognized."
vfy "$N" -b "$NB" "$C/3.der"
check "limitation (NSS): the classic verifier refuses the critical certificatePolicies (-8151)" \
	out "$T/vfy" "ERROR -8151: Certificate contains unknown critical extension."
bad=0
for l in $LINES; do
	nss-pp -t c -i "$C/$l.der" >"$T/pp.$l" 2>&1 || true
	[ "$(sed -n 's/^ *OID: OID\.\(1\.2\.392\.200149\.8\.5\.5\.[0-9]\)$/\1/p' "$T/pp.$l" | tr '\n' ' ')" = \
		"1.2.392.200149.8.5.5.1 1.2.392.200149.8.5.5.4 1.2.392.200149.8.5.5.3 1.2.392.200149.8.5.5.5 1.2.392.200149.8.5.5.2 1.2.392.200149.8.5.5.6 " ] ||
		{ bad=$((bad + 1)); echo "line $l"; }
done
check "nss-pp: each certificate's six otherNames in the PROFILE.md order" test "$bad" = 0
check "... line 5's ASCII values: 019500000, 3, 0000, 0000000000000" sh -c \
	"grep -A12 'Subject Alt Name' '$T/pp.5' | grep -c -e 'Other Name: \"019500000\"' -e 'Other Name: \"3\"' \
	 -e 'Other Name: \"0000\"' -e 'Other Name: \"0000000000000\"' | grep -qx 4"
check "limitation (NSS): the name shown as dots (its 15 UTF-8 bytes)" grep -qx '            Other Name: "..............."' "$T/pp.2"

# The CRLs: NSS knows no issuingDistributionPoint, and a critical
# extension it does not know makes it refuse the whole CRL (RFC 5280 5.2).
CRIT="crlutil: unable to import CRL: SEC_ERROR_CRL_UNKNOWN_CRITICAL_EXTENSION: Issuer's V2 Certificate Revocation List has an unknown critical extension."
bad=0
for code in 431010 432148 431028 432024; do
	crlutil -I -d "$N" -t 1 -i "$P/crl/$code.crl" >"$T/crlutil" 2>&1 && bad=$((bad + 1))
	out "$T/crlutil" "$CRIT" || { bad=$((bad + 1)); cat "$T/crlutil"; }
done
check "limitation (NSS): crlutil -I refuses every partition CRL (critical IDP: unknown critical extension)" test "$bad" = 0
crlutil -I -d "$N" -t 1 -i "$P/arl.crl" >"$T/crlutil" 2>&1 || true
check "limitation (NSS): ... and the ARL (critical IDP, onlyContainsCACerts)" out "$T/crlutil" "$CRIT"
crlutil -L -d "$N" >"$T/crls" 2>&1 || true
check "... the database holds no CRL (crlutil -L)" sh -c "grep -q '^CRL names' '$T/crls' && ! grep -q ' CRL *\$' '$T/crls'"
vfy "$N" -pp -b "$NB" -g leaf -m crl -s forbidFetching "$C/2.der"
check "limitation (NSS): so revoked line 2 (431010) is 'good' to vfychain -pp -g leaf -m crl" out "$T/vfy" "Chain is good!"
vfy "$N" -pp -b "$NB" -g leaf -m crl -s forbidFetching,failIfNoInfo "$C/3.der"
check "limitation (NSS): and with failIfNoInfo good line 3 is refused, as 'revoked' (-8180)" \
	out "$T/vfy" "ERROR -8180: Peer's Certificate has been revoked."
# The control: the toy's CRLs alike but for the IDP.
crlutil -I -d "sql:$T/nss-toy" -t 1 -i "$Y/idp.crl" >"$T/crlutil" 2>&1 || true
check "control (NSS): the toy's CRL with a critical IDP is refused the same way" out "$T/crlutil" "$CRIT"
ok "control (NSS): the toy's CRL without an IDP is imported" crlutil -I -d "sql:$T/nss-toy" -t 1 -i "$Y/plain.crl"
vfy "sql:$T/nss-toy" -pp -g leaf -m crl -s forbidFetching "$Y/leaf1.der"
check "control (NSS): with it, the toy's revoked leaf is revoked (-8180)" \
	out "$T/vfy" "ERROR -8180: Peer's Certificate has been revoked."
vfy "sql:$T/nss-toy" -pp -g leaf -m crl -s forbidFetching,failIfNoInfo "$Y/leaf2.der"
check "control (NSS): ... and its other leaf good, also with failIfNoInfo" out "$T/vfy" "Chain is good!"

ok "the online audit log verifies" "$OFF" audit verify --state "$O"
finish

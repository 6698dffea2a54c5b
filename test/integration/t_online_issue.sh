#!/usr/bin/env bash
# t_online_issue.sh - "hanko-online issue" (issue 5 item 3): the set-up of
# t_online_import.sh (rehearsal root, the online issuing CA certified by
# issue-subca, imported as a bundle), then a batch mixing good and bad
# requests: every good line issued, every bad line refused with its line
# and rule; each certificate verifies against the root and the issuing CA;
# the SAN decodes into the six basic-4 otherNames in the PROFILE.md order;
# a second request for a resident refused (CPS 4-2-3); rerunning the same
# batch issues nothing twice. Then "hanko-online revoke" (item 4): by serial
# and by resident, CPS reasons only, final, audited; a revoked resident may
# be issued again.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
fresh_tmp
T=$HANKO_TMP
ON=$HANKO_ONLINE
O=$T/online
C=(--clock 2026-04-02T10:00:00Z)
IC=(--clock 2026-04-02T12:00:00Z)
REQ=$HANKO_SRC/test/data/requests

make_rooted_ca "$T/ca"
ok "online init" "$ON" init --state "$O" --profile "$PROFILE" --rehearsal --clock 2026-04-02T00:00:00Z
ok "issue-subca for the online CSR" "$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/issue-subca.yaml" \
	--state "$S" --clock $CLOCK --confirm-digests --input "issuing-csr=$O/certs/issuing-1.csr.pem" \
	--input "issuing-csr-sha256=$O/certs/issuing-1.csr.sha256" "${SH[@]}" "${OPS[@]}"
ok "bundle: the issuing CA certificate" "$OFF" bundle create --state "$S" "${C[@]}" --type issuing-ca-cert \
	--out "$T/b-iss" "${SH[@]}" "$S/certs/issuing-1.der"
FP=$(openssl x509 -in "$R" -outform DER | sha256sum | cut -c1-64)

# A batch: the valid sample with bad lines between (keys beside it).
B=$T/req
mkdir -p "$B"
cp -r "$REQ/keys" "$B/"
{
	sed -n 1,3p "$REQ/valid.csv"
	echo "431010,1234567890,熊本　次郎,00000,319750301,1,熊本県熊本市中央区水前寺６丁目,000000000000000,keys/resident-1.pub.pem"
	echo "432024,70000000007,髙木　三郎,00000,319750301,1,熊本県八代市松江城町１番,000000000000,keys/resident-1.pub.pem"
	sed -n 4,5p "$REQ/valid.csv"
	echo "# a comment line and a blank line are skipped"
	echo ""
	echo "432024,80000000008,八代　四郎,00000,419750301,1,熊本県八代市松江城町１番,000000000000,keys/resident-1.pub.pem"
	echo "432024,90000000009,八代　五郎,00000,319750301,1,熊本県八代市松江城町１番,000000000000,keys/rsa-1024.pub.pem"
	sed -n 6,7p "$REQ/valid.csv"
	echo "too,few,fields"
} >"$B/batch.csv"

fails "issue before the issuing CA is imported" 3 "no imported issuing CA certificate" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/out0"
ok "trust the root" "$ON" trust --state "$O" --fingerprint "$FP" "$R"
ok "import the issuing CA certificate" "$ON" import --state "$O" "$T/b-iss"
fails "usage: --out missing" 2 "are required" "$ON" issue --state "$O" --batch "$B/batch.csv"

fails "the mixed batch: every bad line refused, the rest issued" 3 "5 of 11 requests refused" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/out1"
RES=$T/out1/results.csv
check "results: one line per request (11 + header)" test "$(wc -l <"$RES")" = 12
check "results: 6 ok" test "$(grep -c '^[0-9]*,ok,' "$RES")" = 6
check "results: the good lines are ok" test "$(grep ',ok,' "$RES" | cut -d, -f1 | tr '\n' ' ')" = "2 3 6 7 12 13 "
check "results: line 4 refused on resident_id" grep -q "^4,refused,$B/batch.csv:4: resident_id: CPS 3-1" "$RES"
check "results: line 5 refused on the name (髙)" grep -q "^5,refused,.*:5: name: CPS 3-1-8: character 1 (U+9AD9)" "$RES"
check "results: line 10 refused on the era" grep -q "^10,refused,.*:10: birth: era 4 (平成) does not cover 1975-03-01" "$RES"
check "results: line 11 refused on the key size" grep -q "^11,refused,.*:11: key: CPS 6-1-2-3" "$RES"
check "results: line 14 refused on the shape" grep -q "^14,refused,.*:14: line: docs/requests.md: 3 fields" "$RES"
check "six certificates written" test "$(ls "$T/out1/certs" | wc -l)" = 6

openssl x509 -in "$S/certs/issuing-1.der" -inform DER -out "$T/issuing.pem"
for f in "$T"/out1/certs/*.der; do
	openssl x509 -in "$f" -inform DER -out "${f%.der}.pem"
	check "$(basename "$f") verifies against the root and the issuing CA" \
		openssl verify -CAfile "$R" -untrusted "$T/issuing.pem" "${f%.der}.pem"
	check "$(basename "$f"): serial is its file name" \
		test "$(openssl x509 -in "$f" -inform DER -noout -serial | cut -d= -f2)" = "$(basename "$f" .der)"
done

# The SAN of the first certificate, decoded with openssl asn1parse.
first=$(grep ',ok,' "$RES" | head -1 | cut -d, -f3)
CERT=$T/out1/certs/$first.der
off=$(openssl asn1parse -inform DER -in "$CERT" | grep -A1 "X509v3 Subject Alternative Name" | tail -1 | cut -d: -f1 | tr -d ' ')
openssl asn1parse -inform DER -in "$CERT" -strparse "$off" >"$T/san.txt"
check "SAN: six otherName OIDs in the PROFILE.md order" test "$(grep -o 'OBJECT *:[0-9.]*' "$T/san.txt" | sed 's/.*://' | tr '\n' ' ')" = \
	"1.2.392.200149.8.5.5.1 1.2.392.200149.8.5.5.4 1.2.392.200149.8.5.5.3 1.2.392.200149.8.5.5.5 1.2.392.200149.8.5.5.2 1.2.392.200149.8.5.5.6 "
check "SAN: each value an explicit [0] UTF8String" test "$(grep -c 'cont \[ 0 \]' "$T/san.txt")" = 12 -a "$(grep -c UTF8STRING "$T/san.txt")" = 6
check "SAN: the values in order" test "$(grep UTF8STRING "$T/san.txt" | sed 's/.*UTF8STRING *://' | tr '\n' '|')" = \
	"熊本　太郎|319750301|1|熊本県熊本市中央区水前寺６丁目１８番１号|00000|00000000000000000000|"
openssl x509 -in "$CERT" -inform DER -noout -text >"$T/cert.txt"
check "keyUsage critical: digitalSignature, nonRepudiation" sh -c \
	"grep -A1 'Key Usage: critical' '$T/cert.txt' | grep -q 'Digital Signature, Non Repudiation'"
check "certificatePolicies critical, test arc, CPS qualifier" sh -c \
	"grep -A2 'Certificate Policies: critical' '$T/cert.txt' | grep -q 'Policy: $POLICY_TEST' && grep -q 'CPS: https://www.jpki.go.jp/cps.html' '$T/cert.txt'"
check "CRL DP: the municipality's partition" grep -q "DirName:C = JP, O = JPKI, OU = Kumamoto-ken, OU = CRL Distribution Points, CN = Kumamoto-shi Chuo-ku CRLDP, OU = TEST" "$T/cert.txt"
off=$(openssl asn1parse -inform DER -in "$CERT" | grep -A1 "X509v3 Issuer Alternative Name" | tail -1 | cut -d: -f1 | tr -d ' ')
check "issuerAltName: the Japanese name (+ OU=TEST)" test "$(openssl asn1parse -inform DER -in "$CERT" -strparse "$off" | \
	grep -E 'STRING' | sed 's/.*STRING *://' | tr '\n' '|')" = "JP|公的個人認証サービス|熊本県知事|TEST|"
check "validity: 3 years minus 1 second" sh -c "grep -q 'Not After : Apr  2 11:59:59 2029 GMT' '$T/cert.txt'"

db() { sqlite3 "$O/store.db" "$1"; }
check "store: six valid certificates, none pending" test "$(db "SELECT status, count(*) FROM certificates GROUP BY status")" = "valid|6"
check "store: the resident identifier is not in clear" sh -c "! grep -q 12345678901 '$O/store.db'"
check "audit: six cert.reserve and six cert.issue" test "$(grep -c '	cert.issue	ok' "$O/audit/audit.log")" = 6 -a \
	"$(grep -c '	cert.reserve	ok' "$O/audit/audit.log")" = 6

# A second request for a resident with a valid certificate (CPS 4-2-3).
{ sed -n 1p "$REQ/valid.csv"; sed -n 2p "$REQ/valid.csv" | sed 's/resident-1/resident-2/'; } >"$B/again.csv"
fails "a second certificate for the same resident" 3 "1 of 1 requests refused" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/again.csv" --out "$T/out2"
check "... refused on CPS 4-2-3" grep -q "^2,refused,.*:2: resident_id: CPS 4-2-3: the resident already has a valid certificate" "$T/out2/results.csv"

fails "rerunning the same batch issues nothing" 3 "11 of 11 requests refused" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/out3"
check "... the six residents refused on CPS 4-2-3" test "$(grep -c 'CPS 4-2-3' "$T/out3/results.csv")" = 6
check "... no certificate written" test "$(ls "$T/out3/certs" | wc -l)" = 0
check "... the store still holds six" test "$(db "SELECT count(*) FROM certificates")" = 6
fails "an existing --out folder is refused" 7 "" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/out3"
printf 'code,name\n' >"$B/bad-header.csv"
fails "a batch without the header" 3 "bad-header.csv:1: header" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/bad-header.csv" --out "$T/out4"

# Revocation (CPS 4-4).
RC=(--clock 2026-05-01T09:00:00Z)
S1=$(sed -n 's/^2,ok,//p' "$RES")
fails "revoke: reason certificateHold refused" 2 "CPS 4-4-4-2: only 1 key-compromise" \
	"$ON" revoke --state "$O" "${RC[@]}" --serial "$S1" --reason certificate-hold
fails "revoke: reason 6 refused" 2 "CPS 4-4-4-2" "$ON" revoke --state "$O" "${RC[@]}" --serial "$S1" --reason 6
fails "revoke: reason 0 (unspecified) refused" 2 "CPS 4-4-4-2" "$ON" revoke --state "$O" "${RC[@]}" --serial "$S1" --reason 0
fails "revoke: serial and resident together" 2 "either --serial or both" \
	"$ON" revoke --state "$O" --serial "$S1" --municipality 431010 --reason 4
fails "revoke: a serial that is not hex" 2 "1 to 20 octets in hex" "$ON" revoke --state "$O" --serial XYZ1 --reason 4
fails "revoke: an unknown serial" 3 "no such certificate" "$ON" revoke --state "$O" "${RC[@]}" --serial 0102 --reason 4
ok "revoke by serial: superseded" "$ON" revoke --state "$O" "${RC[@]}" --serial "$S1" --reason superseded
check "... the store says revoked, reason 4, at the clock" test \
	"$(db "SELECT status, reason, revoked_at FROM certificates WHERE hex(serial) = '$S1'")" = "revoked|4|1777626000"
fails "revoke the same serial again: revocation is final" 3 "is revoked; only a valid certificate is revoked" \
	"$ON" revoke --state "$O" "${RC[@]}" --serial "$S1" --reason key-compromise
fails "revoke by resident: a wrong resident identifier form" 2 "must be 11 digits" \
	"$ON" revoke --state "$O" "${RC[@]}" --municipality 432024 --resident-id 2000 --reason 3
fails "revoke by resident: not a partition" 3 "not a partition" \
	"$ON" revoke --state "$O" "${RC[@]}" --municipality 431001 --resident-id 20000000002 --reason 3
fails "revoke by resident: the wrong municipality has no certificate for them" 3 "has no valid certificate" \
	"$ON" revoke --state "$O" "${RC[@]}" --municipality 431010 --resident-id 20000000002 --reason 3
ok "revoke by resident: affiliationChanged" "$ON" revoke --state "$O" "${RC[@]}" --municipality 432024 \
	--resident-id 20000000002 --reason affiliation-changed
S2=$(sed -n 's/^3,ok,//p' "$RES")
check "... it was the resident's certificate (line 3), reason 3" test \
	"$(db "SELECT status, reason FROM certificates WHERE hex(serial) = '$S2'")" = "revoked|3"
check "store: four valid, two revoked" test "$(db "SELECT status, count(*) FROM certificates GROUP BY status ORDER BY status")" = \
	"$(printf 'revoked|2\nvalid|4')"
check "audit: two cert.revoke ok, the refusals as fail" test "$(grep -c '	cert.revoke	ok' "$O/audit/audit.log")" = 2 -a \
	"$(grep -c '	cert.revoke	fail' "$O/audit/audit.log")" -ge 4
ok "a revoked resident is issued a new certificate" "$ON" issue --state "$O" "${RC[@]}" --batch "$B/again.csv" --out "$T/out5"
check "... one ok line" test "$(grep -c ',ok,' "$T/out5/results.csv")" = 1
ok "the online audit log verifies (checkpoints by audit-1)" "$OFF" audit verify --state "$O"
finish

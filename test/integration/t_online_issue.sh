#!/usr/bin/env bash
# t_online_issue.sh - "hanko-online issue" (issue 5 item 3): the set-up of
# t_online_import.sh (rehearsal root, the online issuing CA certified by
# issue-subca, imported as a bundle), then a batch mixing good and bad
# requests: every good line issued, every bad line refused with its line
# and rule; each certificate verifies against the root and the issuing CA;
# the SAN decodes into the six basic-4 otherNames in the PROFILE.md order;
# a second request for a resident refused (CPS 4-2-3); rerunning the same
# batch issues nothing twice (the batch journal). Then "hanko-online revoke"
# (item 4): by serial and by resident, CPS reasons only, final, audited; a
# revoked resident may be issued again. Then re-issue with --replace
# (CPS 4-4-1-1, 4-4-4-2: superseded, affiliationChanged on a move) and the
# resume of a batch killed part way (CPS 4-3 crash safety).
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
. "$HANKO_SRC/test/data/online/setup.sh"	# make_online_gen2
fresh_tmp
T=$HANKO_TMP
ON=$HANKO_ONLINE
O=$T/online
C=(--clock 2026-04-02T10:00:00Z)
IC=(--clock 2026-04-02T12:00:00Z)
REQ=$HANKO_SRC/test/data/requests

make_rooted_ca "$T/ca"
ok "online init" "$ON" init --state "$O" --profile "$PROFILE" --rehearsal --clock 2026-04-02T00:00:00Z
ok "issue-subca for the online CSR" \
	issue_subca "$O/certs/issuing-1.csr.pem" "$O/certs/issuing-1.csr.sha256"
ok "bundle: the issuing CA certificate" "$OFF" bundle create --state "$S" "${C[@]}" --type issuing-ca-cert \
	--out "$T/b-iss" "${SH[@]}" "$S/certs/issuing-1.der"
FP=$(openssl x509 -in "$R" -outform DER | sha256sum | cut -c1-64)

# A batch: the valid sample with bad lines between (keys beside it).
B=$T/req
req_dir "$B"
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
ok "trust the root" "$ON" trust --state "$O" --clock 2026-04-02T11:00:00Z --fingerprint "$FP" "$R"
ok "import the issuing CA certificate" "$ON" import --state "$O" --clock 2026-04-02T11:00:00Z "$T/b-iss"
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
check "the output folder: results.csv and the batch marker, nothing else" \
	test "$(ls -A "$T/out1" | tr '\n' ' ')" = "batch.sha256 results.csv "
check "results: each ok line is line,ok,serial,base64 DER" \
	test "$(grep -c '^[0-9]*,ok,[0-9A-F]\{40\},MII[A-Za-z0-9+/]*=*$' "$RES")" = 6
certs_from "$T/out1"
check "six certificates in the results" test "$(ls "$T/out1/certs" | wc -l)" = 6

openssl x509 -in "$S/certs/issuing-1.der" -inform DER -out "$T/issuing.pem"
for f in "$T"/out1/certs/*.der; do
	openssl x509 -in "$f" -inform DER -out "${f%.der}.pem"
	check "$(basename "$f") verifies against the root and the issuing CA" \
		openssl verify -attime "$(date -u -d 2026-04-03T00:00:00Z +%s)" -CAfile "$R" -untrusted "$T/issuing.pem" "${f%.der}.pem"
	check "$(basename "$f"): serial is its file name" \
		test "$(openssl x509 -in "$f" -inform DER -noout -serial | cut -d= -f2)" = "$(basename "$f" .der)"
done

# The SAN of the first certificate, decoded with openssl asn1parse.
first=$(grep -m1 ',ok,' "$RES" | cut -d, -f3)
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
# Each serial in a cert.reserve and a cert.issue record (a chunk's
# certificates share one record: docs/requests.md, audit records).
audited() { grep "	$1	ok	" "$O/audit/audit.log" | grep -q "$2/"; }
n=0
for s in $(grep ',ok,' "$RES" | cut -d, -f3); do
	audited cert.reserve "$s" && audited cert.issue "$s" && n=$((n + 1))
done
check "audit: each of the six serials reserved and issued" test "$n" = 6
check "audit: no serial issued that was not reserved" test \
	"$(grep '	cert.issue	ok' "$O/audit/audit.log" | grep -o '[0-9A-F]\{40\}/' | sort | uniq | wc -l)" = 6

# The TBSCertificate signed is byte for byte the one reserved before
# signing (openssl asn1parse, sqlite3), and it names the issuer's
# signature algorithm (what recovery signs again: docs/store.md).
tbs_hex() {	# DER file -> hex of its first element (the TBSCertificate)
	local hl l
	read -r hl l < <(openssl asn1parse -inform DER -in "$1" | sed -n 2p | \
		sed 's/.*hl= *\([0-9]*\) *l= *\([0-9]*\).*/\1 \2/')
	dd if="$1" bs=1 skip=4 count=$((hl + l)) 2>/dev/null | od -An -tx1 | tr -d ' \n' | tr a-f A-F
}
n=0
for s in $(grep ',ok,' "$RES" | cut -d, -f3); do
	db "SELECT hex(tbs) FROM certificates WHERE hex(serial) = '$s'" | xxd -r -p >"$T/tbs.der"
	t=$(tbs_hex "$T/out1/certs/$s.der")
	[ -n "$t" ] && [ "$t" = "$(od -An -tx1 "$T/tbs.der" | tr -d ' \n' | tr a-f A-F)" ] &&
		openssl asn1parse -inform DER -in "$T/tbs.der" | sed -n 6p | grep -q 'd=2 .*OBJECT *:sha256WithRSAEncryption' &&
		n=$((n + 1))
done
check "TBS: signed = reserved, with the issuer's algorithm, for all six" test "$n" = 6
check "store: no draft column (schema 3 on: recovery signs the recorded TBS)" test \
	"$(db "SELECT count(*) FROM pragma_table_info('certificates') WHERE name = 'draft'")|$(db "SELECT value FROM meta WHERE key = 'schema'")" = "0|9"

# A second request for a resident with a valid certificate (CPS 4-2-3).
{ sed -n 1p "$REQ/valid.csv"; sed -n 2p "$REQ/valid.csv" | sed 's/resident-1/resident-2/'; } >"$B/again.csv"
fails "a second certificate for the same resident" 3 "1 of 1 requests refused" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/again.csv" --out "$T/out2"
check "... refused on CPS 4-2-3" grep -q "^2,refused,.*:2: resident_id: CPS 4-2-3: the resident already has a valid certificate" "$T/out2/results.csv"

# The same content again is the same batch (its SHA-256, the journal):
# nothing is redone, the results come from the journal.
nrec=$(wc -l <"$O/audit/audit.log")
fails "rerunning the same batch issues nothing: its results from the journal" 3 "5 of 11 requests refused" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/out3"
check "... results.csv identical to the first run's (the same six certificates, byte for byte)" cmp "$RES" "$T/out3/results.csv"
check "... the store still holds six" test "$(db "SELECT count(*) FROM certificates")" = 6
check "... no reservation or issue audited" test "$(tail -n +$((nrec + 1)) "$O/audit/audit.log" | \
	grep -c '	cert\.')" = 0
check "... the batch is in the journal once, finished" test \
	"$(db "SELECT count(*), count(finished_at) FROM batches WHERE name LIKE '%/batch.csv'")" = "1|1"
fails "an existing --out folder of another batch is refused" 7 "out3: already exists and is not the output of this batch" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/again.csv" --out "$T/out3"
check "... out3 untouched" cmp "$RES" "$T/out3/results.csv"
# A run killed while writing results.csv leaves its temporary file
# (results.csv.tmp-<16 hex>): the next run into that folder removes it.
touch "$T/out3/results.csv.tmp-0123456789abcdef" "$T/out3/results.csv.tmp-notours"
fails "the batch once more into its own folder" 3 "5 of 11 requests refused" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/out3"
check "... the temporary results a killed run left are removed, nothing else" \
	test "$(ls -A "$T/out3" | tr '\n' ' ')" = "batch.sha256 results.csv results.csv.tmp-notours "

# A run killed between making its new output folder and renaming it into
# place leaves <out>.issue-XXXXXX (at most the marker): the next run for
# that --out removes it once it is a minute old, and nothing else.
for f in old123 fresh1 extra1 full12; do mkdir -p "$T/out6.issue-$f"; echo 0 >"$T/out6.issue-$f/batch.sha256"; done
mkdir -p "$T/out6.issue-empty1" "$T/out6.issue-lnk123" "$T/out7.issue-other1"
echo x >"$T/out6.issue-extra1/notes.txt"
echo x >"$T/out6.issue-full12/results.csv"
ln -s /etc/hostname "$T/out6.issue-lnk123/batch.sha256"
touch -h -d '2 minutes ago' "$T"/out6.issue-old123 "$T"/out6.issue-empty1 "$T"/out6.issue-extra1 "$T"/out6.issue-full12 "$T"/out6.issue-lnk123 "$T"/out7.issue-other1
{ sed -n 1p "$REQ/valid.csv"; sed -n 2p "$REQ/valid.csv" | sed 's/resident-1/resident-6/; s/,1,/,4,/'; } >"$B/leftover.csv"
fails "a batch to a new --out beside leftovers" 3 "1 of 1 requests refused" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/leftover.csv" --out "$T/out6"
check "... the old leftovers (the marker alone, or nothing) are removed, and said" bash -c "! test -e '$T/out6.issue-old123' && ! test -e '$T/out6.issue-empty1' && grep -q 'removed .*out6.issue-old123, left by a run interrupted' '$HANKO_TMP/out'"
check "... a fresh one, one with other files, one with results, a symlinked marker and another --out's are kept" bash -c "
	for f in out6.issue-fresh1 out6.issue-extra1/notes.txt out6.issue-full12/results.csv out6.issue-lnk123/batch.sha256 out7.issue-other1; do test -e '$T/'\$f || test -L '$T/'\$f || exit 1; done"
# A NUL byte ends no line early (docs/requests.md): such a line is refused
# whole, at its byte, not cut there or taken for a blank line; the header
# may not hold one either.
L=$(sed -n 2p "$REQ/valid.csv" | awk -F, -v OFS=, '{ $2 = "91000000001"; print }')
{ sed -n 1p "$REQ/valid.csv"; printf '%s\0,garbage\n' "$L"; printf '\0%s\n' "$L"; } >"$B/nul.csv"
fails "NUL bytes in two lines: both refused, nothing issued" 3 "2 of 2 requests refused" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/nul.csv" --out "$T/nul"
check "... line 2 refused at its NUL byte" \
	grep -q "^2,refused,$B/nul.csv:2: line: docs/requests.md: control character 0x00 at byte $(printf '%s' "$L" | wc -c | awk '{ print $1 + 1 }')\$" "$T/nul/results.csv"
check "... line 3, which starts with one, refused too" \
	grep -q "^3,refused,$B/nul.csv:3: line: docs/requests.md: control character 0x00 at byte 1\$" "$T/nul/results.csv"
{ printf '%s\0x\n' "$(sed -n 1p "$REQ/valid.csv")"; echo "$L"; } >"$B/nul-header.csv"
fails "a NUL byte in the header: the batch refused" 3 "nul-header.csv:1: header: docs/requests.md: control character 0x00 at byte 80" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/nul-header.csv" --out "$T/nulh"
# Excel's "CSV (カンマ区切り)" is Shift_JIS (CP932): its header is ASCII and
# passes, its lines do not. The file is refused once, before anything is
# journaled or made, saying how to save it (docs/requests.md), not as a
# final refusal of every line; with CR LF (as Excel writes) the same one.
L=$(sed -n 2p "$REQ/valid.csv" | awk -F, -v OFS=, '{ $2 = "92000000002"; print }')
{ sed -n 1p "$REQ/valid.csv"; echo "$L"; echo "# 熊本県"; } | iconv -f UTF-8 -t CP932 >"$B/sjis.csv"
SJ='sjis.csv:2: line: docs/requests.md: not valid UTF-8 at byte 20 \(0x8c\): the batch file is not UTF-8 \(Shift_JIS, as Excel.s "CSV \(カンマ区切り\)" saves it, or another encoding\), nothing is issued: save it as UTF-8'
fails "a Shift_JIS batch: one refusal of the file, not one per line" 3 "$SJ" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/sjis.csv" --out "$T/sjis"
check "... no OUT made" test ! -e "$T/sjis"
fails "... run again: the same refusal (nothing was journaled)" 3 "$SJ" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/sjis.csv" --out "$T/sjis"
sed 's/$/\r/' "$B/sjis.csv" >"$B/sjis-crlf.csv"
fails "a Shift_JIS batch with CR LF: the one refusal of its encoding, the CR LF taken" 3 \
	"$(printf '%s' "$SJ" | sed 's/^sjis/sjis-crlf/')" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/sjis-crlf.csv" --out "$T/sjis"
check "... nothing said of the CR LF" sh -c "! grep -q 0x0d '$HANKO_TMP/err'"
# A UTF-8 batch with one damaged line (a stray 0x8c) is not a Shift_JIS
# file: each line is judged on its own (a bad line never stops or spoils
# the rest): line 2 refused at its byte, line 3 (kanji, UTF-8) for its own
# rule (a gender code 9; so that nothing is issued here).
L2=$(sed -n 2p "$REQ/valid.csv" | awk -F, -v OFS=, '{ $2 = "92000000003"; print }')
L3=$(sed -n 2p "$REQ/valid.csv" | awk -F, -v OFS=, '{ $2 = "92000000004"; $6 = "9"; print }')
{ sed -n 1p "$REQ/valid.csv"; printf '%s\n' "$L2" | sed 's/熊本/熊\x8c本/'; echo "$L3"; } >"$B/utf8-damaged.csv"
fails "a UTF-8 batch with one damaged line: each line judged, not the file refused" 3 "2 of 2 requests refused" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/utf8-damaged.csv" --out "$T/utf8d"
check "... line 2 refused at its byte, line 3 for its gender code" sh -c \
	"grep -q '^2,refused,$B/utf8-damaged.csv:2: line: docs/requests.md: not valid UTF-8 at byte' '$T/utf8d/results.csv' &&
	 grep -q '^3,refused,$B/utf8-damaged.csv:3: gender' '$T/utf8d/results.csv'"
printf 'code,name\n' >"$B/bad-header.csv"
fails "a batch without the header" 3 "bad-header.csv:1: header" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/bad-header.csv" --out "$T/out4"

# Revocation (CPS 4-4).
RC=(--clock 2026-05-01T09:00:00Z)
S1=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$RES")
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
ok "revoke by resident: affiliationChanged, the identifier on standard input (--resident-id -)" \
	sh -c 'echo 20000000002 | "$@"' sh "$ON" revoke --state "$O" "${RC[@]}" --municipality 432024 \
	--resident-id - --reason affiliation-changed
S2=$(sed -n 's/^3,ok,\([0-9A-F]*\),.*/\1/p' "$RES")
check "... it was the resident's certificate (line 3), reason 3" test \
	"$(db "SELECT status, reason FROM certificates WHERE hex(serial) = '$S2'")" = "revoked|3"
check "store: four valid, two revoked" test "$(db "SELECT status, count(*) FROM certificates GROUP BY status ORDER BY status")" = \
	"$(printf 'revoked|2\nvalid|4')"
# Excel's "CSV UTF-8" writes a byte-order mark and CR LF line ends; that
# file is taken as it is (docs/requests.md): both its lines issued, the
# certificates the same as from the LF file's lines (their key paths read
# without the CR). A CR more at a line's end is still that line's refusal.
E2=$(sed -n 2p "$REQ/valid.csv" | awk -F, -v OFS=, '{ $2 = "93000000001"; print }')
E3=$(sed -n 3p "$REQ/valid.csv" | awk -F, -v OFS=, '{ $2 = "93000000002"; print }')
E4=$(sed -n 4p "$REQ/valid.csv" | awk -F, -v OFS=, '{ $2 = "93000000003"; print }')
E5=$(sed -n 5p "$REQ/valid.csv" | awk -F, -v OFS=, '{ $2 = "93000000004"; print }')
{ printf '\357\273\277'; sed -n 1p "$REQ/valid.csv"; echo "$E2"; echo "# コメント"; echo; echo "$E3"; } |
	sed 's/$/\r/' >"$B/excel.csv"
{ printf '%s\r\r\n' "$E4"; echo "$E5"; } >>"$B/excel.csv"
fails "an Excel \"CSV UTF-8\" batch (BOM, CR LF): taken as it is, its one bad line refused" 3 \
	"1 of 4 requests refused" \
	"$ON" issue --state "$O" "${RC[@]}" --batch "$B/excel.csv" --out "$T/excel"
check "... lines 2, 5 (CR LF) and 7 (LF) issued; line 6, with a CR more, refused at it; 3-4 skipped" sh -c \
	"grep -q '^2,ok,' '$T/excel/results.csv' && grep -q '^5,ok,' '$T/excel/results.csv' &&
	 grep -q '^7,ok,' '$T/excel/results.csv' &&
	 grep -q '^6,refused,$B/excel.csv:6: line: docs/requests.md: control character 0x0d' '$T/excel/results.csv' &&
	 [ \$(grep -c ',ok,' '$T/excel/results.csv') = 3 ] && ! grep -q '^[34],' '$T/excel/results.csv'"
ES=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/excel/results.csv")
db "SELECT hex(der) FROM certificates WHERE hex(serial) = '$ES'" | xxd -r -p >"$T/excel/2.der"
check "... line 2's certificate holds the key its line names (the path read without the CR)" sh -c \
	"openssl x509 -inform DER -in '$T/excel/2.der' -noout -pubkey | cmp -s - '$REQ/$(printf '%s' "$E2" | cut -d, -f9)'"
check "audit: two cert.revoke ok, the refusals as fail" test "$(grep -c '	cert.revoke	ok' "$O/audit/audit.log")" = 2 -a \
	"$(grep -c '	cert.revoke	fail' "$O/audit/audit.log")" -ge 4
fails "again.csv once more: its line has its result already (refused)" 3 "1 of 1 requests refused" \
	"$ON" issue --state "$O" "${RC[@]}" --batch "$B/again.csv" --out "$T/out2"
{ cat "$B/again.csv"; echo "# sent again after the revocation"; } >"$B/again2.csv"
ok "a revoked resident is issued a new certificate (a new batch)" "$ON" issue --state "$O" "${RC[@]}" --batch "$B/again2.csv" --out "$T/out5"
check "... one ok line" test "$(grep -c ',ok,' "$T/out5/results.csv")" = 1
# Re-issue (CPS 4-4-1-1, 4-4-4-2; docs/requests.md "Re-issue"): the valid
# certificate is revoked in the transaction that reserves the new one,
# superseded(4) when the basic 4 items are unchanged, affiliationChanged(3)
# when they changed (a move), each with its CRL entry in the old partition.
XC=(--clock 2026-05-02T09:00:00Z)
S6=$(sed -n 's/^6,ok,\([0-9A-F]*\),.*/\1/p' "$RES")	# 30000000003, Aso (432148)
S7=$(sed -n 's/^7,ok,\([0-9A-F]*\),.*/\1/p' "$RES")	# 40000000004, Kikuchi (432105)
{
	sed -n 1p "$REQ/valid.csv"
	sed -n 4p "$REQ/valid.csv" | sed 's/resident-3/resident-5/'
	echo "432024,40000000004,鷗外　丂,0000,019500000,3,熊本県八代市松江城町１番２５号,000000000000000,keys/resident-4.pub.pem"
	echo "432024,70000000007,八代　七郎,00000,319750301,1,熊本県八代市松江城町１番,000000000000,keys/resident-1.pub.pem"
} >"$B/replace.csv"
fails "without --replace a resident with a valid certificate is refused (CPS 4-2-3)" 3 "2 of 3 requests refused" \
	"$ON" issue --state "$O" "${XC[@]}" --batch "$B/replace.csv" --out "$T/rep0"
S4=$(sed -n 's/^4,ok,\([0-9A-F]*\),.*/\1/p' "$T/rep0/results.csv")	# 70000000007, issued by rep0
{ cat "$B/replace.csv"; echo "432024,70000000008,八代　八郎,00000,319750301,1,熊本県八代市松江城町２番,000000000000,keys/resident-2.pub.pem"; } >"$B/replace2.csv"
ok "--replace: four lines issued" "$ON" issue --state "$O" "${XC[@]}" --replace --batch "$B/replace2.csv" --out "$T/rep1"
certs_from "$T/rep1"
N2=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/rep1/results.csv")
N3=$(sed -n 's/^3,ok,\([0-9A-F]*\),.*/\1/p' "$T/rep1/results.csv")
check "... four ok lines" test "$(grep -c ',ok,' "$T/rep1/results.csv")" = 4
check "... line 4 (issued by the refused run): superseded; line 5 (no certificate): nothing revoked" test \
	"$(db "SELECT status, reason FROM certificates WHERE hex(serial) = '$S4'")" = "revoked|4" -a \
	"$(grep -c "$(sed -n 's/^5,ok,\([0-9A-F]*\),.*/\1/p' "$T/rep1/results.csv")/" "$O/audit/audit.log")" = 2
check "... unchanged basic 4: the old one revoked superseded(4) at the clock" test \
	"$(db "SELECT status, reason, revoked_at, municipality FROM certificates WHERE hex(serial) = '$S6'")" = "revoked|4|1777712400|432148"
check "... a move to Yatsushiro: the old one revoked affiliationChanged(3)" test \
	"$(db "SELECT status, reason, municipality FROM certificates WHERE hex(serial) = '$S7'")" = "revoked|3|432105"
check "... the new ones valid, the moved resident in 432024" test \
	"$(db "SELECT status || municipality FROM certificates WHERE hex(serial) IN ('$N2', '$N3') ORDER BY municipality")" = \
	"$(printf 'valid432024\nvalid432148')"
check "... CRL entries in the old partitions" test \
	"$(db "SELECT municipality FROM crl_entries WHERE hex(serial) IN ('$S6', '$S7') ORDER BY municipality")" = "$(printf '432105\n432148')"
db "SELECT hex(entry) FROM crl_entries WHERE hex(serial) = '$S6'" | xxd -r -p >"$T/e6.der"
db "SELECT hex(entry) FROM crl_entries WHERE hex(serial) = '$S7'" | xxd -r -p >"$T/e7.der"
check "... entry of $S6 (openssl asn1parse): serial, date, reasonCode superseded" sh -c \
	"openssl asn1parse -inform DER -in '$T/e6.der' >'$T/e6.txt' && grep -q 'INTEGER *:$S6' '$T/e6.txt' && \
	grep -q 'UTCTIME *:260502090000Z' '$T/e6.txt' && grep -q 'X509v3 CRL Reason Code' '$T/e6.txt' && \
	openssl asn1parse -inform DER -in '$T/e6.der' -strparse \$(grep -A1 'CRL Reason Code' '$T/e6.txt' | tail -1 | cut -d: -f1) | grep -q 'ENUMERATED *:04'"
check "... entry of $S7: reasonCode affiliationChanged" sh -c \
	"openssl asn1parse -inform DER -in '$T/e7.der' >'$T/e7.txt' && \
	openssl asn1parse -inform DER -in '$T/e7.der' -strparse \$(grep -A1 'CRL Reason Code' '$T/e7.txt' | tail -1 | cut -d: -f1) | grep -q 'ENUMERATED *:03'"
openssl x509 -in "$T/rep1/certs/$N3.der" -inform DER -noout -text >"$T/n3.txt"
off=$(openssl asn1parse -inform DER -in "$T/rep1/certs/$N3.der" | grep -A1 "X509v3 Subject Alternative Name" | tail -1 | cut -d: -f1 | tr -d ' ')
check "... the moved resident's new certificate: Yatsushiro's CRL partition, the new address" sh -c \
	"grep -q 'CN = Yatsushiro-shi CRLDP' '$T/n3.txt' && openssl asn1parse -inform DER -in '$T/rep1/certs/$N3.der' -strparse $off | grep -q 'UTF8STRING *:熊本県八代市松江城町１番２５号'"
check "... audit: cert.revoke names old/municipality/reason/new" sh -c \
	"grep '	cert.revoke	ok' '$O/audit/audit.log' | grep -q '$S6/432148/4/$N2' && \
	grep '	cert.revoke	ok' '$O/audit/audit.log' | grep -q '$S7/432105/3/$N3'"
fails "a --replace batch rerun without --replace: the batch keeps its mode" 2 "was started with --replace" \
	"$ON" issue --state "$O" "${XC[@]}" --batch "$B/replace2.csv" --out "$T/rep1"
n=$(db "SELECT count(*) FROM certificates")
ok "the --replace batch rerun: nothing redone" "$ON" issue --state "$O" "${XC[@]}" --replace --batch "$B/replace2.csv" --out "$T/rep1"
check "... no certificate added, none revoked again" test "$(db "SELECT count(*), sum(status = 'revoked') FROM certificates")" = "$n|5"
# The same resident twice in one --replace batch: the second line replaces
# what the first issued (the same result whatever the chunk boundaries);
# the first line's certificate, revoked, is not delivered: results.csv says
# "revoked" (not "ok"), exit 9 (docs/requests.md "Results").
N5=$(sed -n 's/^5,ok,\([0-9A-F]*\),.*/\1/p' "$T/rep1/results.csv")
{ sed -n 1p "$B/replace2.csv"; sed -n 5p "$B/replace2.csv"; sed -n 5p "$B/replace2.csv"; } >"$B/replace3.csv"
fails "--replace: one resident on two lines: the first line's certificate revoked since issued (exit 9)" 9 \
	"replace3.csv: 1 of 2 certificates revoked or expired since issued .*: do not deliver those" \
	"$ON" issue --state "$O" "${XC[@]}" --replace --batch "$B/replace3.csv" --out "$T/rep3"
check "... stdout: 1 issued, 1 revoked since issued" grep -qx "$B/replace3.csv: 1 issued, 0 refused, 1 revoked since issued, 0 expired: do not deliver those; results in $T/rep3/results.csv" "$HANKO_TMP/out"
R2=$(sed -n 's/^2,revoked,\([0-9A-F]*\),.*/\1/p' "$T/rep3/results.csv")
check "... line 2 reads revoked, superseded at the clock: do not deliver" \
	grep -q "^2,revoked,$R2,MII[A-Za-z0-9+/]*=*,reason 4 (superseded) at 2026-05-02T09:00:00Z: do not deliver\$" "$T/rep3/results.csv"
R3=$(sed -n 's/^3,ok,\([0-9A-F]*\),.*/\1/p' "$T/rep3/results.csv")
check "... rep1's certificate, then line 2's, revoked superseded; line 3's valid" test \
	"$(db "SELECT group_concat(status || reason, ' ') FROM (SELECT status, coalesce(reason, '') AS reason FROM certificates WHERE hex(serial) IN ('$N5', '$R2', '$R3') ORDER BY rowid)")" = "revoked4 revoked4 valid"

# A lost card (CPS 4-3-2, 4-4-2-1, 4-4-2-3): its certificate revoked
# key-compromise; the key is never certified again, for this resident or
# another, as a public key or in a PKCS#10 request (CPS 4-4-2-5: a new key
# pair, a new certificate). Before, the next batch certified it again.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/lost.key" 2>/dev/null
openssl pkey -in "$T/lost.key" -pubout -out "$B/keys/lost.pub.pem"
openssl req -new -key "$T/lost.key" -subj "/CN=any" -sha256 -out "$B/keys/lost.csr.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout -out "$B/keys/card2.pub.pem"
LOSTL() { sed -n 2p "$REQ/valid.csv" | awk -F, -v OFS=, -v id="$1" -v k="$2" '{ $2 = id; $9 = k; print }'; }
{ sed -n 1p "$REQ/valid.csv"; LOSTL 97000000001 keys/lost.pub.pem; } >"$B/lost0.csv"
ok "a resident's card (lost later)" "$ON" issue --state "$O" "${XC[@]}" --batch "$B/lost0.csv" --out "$T/lost0"
K1=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/lost0/results.csv")
ok "... lost: revoked key-compromise" "$ON" revoke --state "$O" "${XC[@]}" --serial "$K1" --reason key-compromise
{ sed -n 1p "$REQ/valid.csv"; LOSTL 97000000001 keys/lost.pub.pem; LOSTL 97000000002 keys/lost.csr.pem
  LOSTL 97000000001 keys/card2.pub.pem; } >"$B/lost1.csv"
fails "the compromised key sent again: refused, for the resident and for another (CSR)" 3 "2 of 3 requests refused" \
	"$ON" issue --state "$O" "${XC[@]}" --batch "$B/lost1.csv" --out "$T/lost1"
KR="key: CPS 4-4-2-1, 4-4-2-5: the public key of certificate $K1, revoked key-compromise: a compromised key is never certified again; the resident needs a new key pair (a new card)"
check "... lines 2 and 3 refused naming the revoked certificate; line 4 (a new key) issued" sh -c \
	"grep -qx '2,refused,$B/lost1.csv:2: $KR' '$T/lost1/results.csv' &&
	 grep -qx '3,refused,$B/lost1.csv:3: $KR' '$T/lost1/results.csv' && grep -q '^4,ok,' '$T/lost1/results.csv'"
check "... the resident holds one valid certificate: the new card's" test \
	"$(db "SELECT count(*) FROM certificates WHERE status = 'valid' AND hex(resident_key) = (SELECT hex(resident_key) FROM certificates WHERE hex(serial) = '$K1')")" = 1
check "... the key recorded with the revocation (compromised_keys, schema 9), none else" test \
	"$(db "SELECT group_concat(hex(serial)) FROM compromised_keys")" = "$K1"
# check on a copy of the state whose key row was deleted around the
# schema's trigger: the revocation named (issue would certify it again)
cp -a "$O" "$T/kc-state"
sed -i "s|$O/token/|$T/kc-state/token/|" "$T/kc-state/token/softhsm2.conf"
sqlite3 "$T/kc-state/store.db" "DROP TRIGGER compromised_keys_no_delete; DELETE FROM compromised_keys;"
rc=0; "$ON" check --state "$T/kc-state" --dry-run "${XC[@]}" >"$T/kc.out" 2>"$T/kc.err" || rc=$?
check "check: a key-compromise revocation whose key is not recorded: found (exit $rc)" sh -c \
	"[ $rc = 1 ] && grep -qx 'compromised key: serial $K1: revoked key-compromise, its key not in compromised_keys: issue would certify it again (CPS 4-4-2-5); not changed (compare with the backup)' '$T/kc.out'"
# A valid certificate of a compromised key (certified before the store had
# compromised_keys, as the copy's empty table lets issue do here, or
# signed while the key was being revoked): check names it with the
# revocation to make. Before, nothing named it.
{ sed -n 1p "$REQ/valid.csv"; LOSTL 97000000009 keys/lost.pub.pem; } >"$B/kc-old.csv"
ok "... the copy, its table emptied, certifies the key (as before schema 9)" \
	"$ON" issue --state "$T/kc-state" "${XC[@]}" --batch "$B/kc-old.csv" --out "$T/kc-old"
KV=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/kc-old/results.csv")
sqlite3 "$T/kc-state/store.db" "ATTACH '$O/store.db' AS o; INSERT INTO compromised_keys SELECT * FROM o.compromised_keys;"
rc=0; "$ON" check --state "$T/kc-state" --dry-run "${XC[@]}" >"$T/kc.out" 2>"$T/kc.err" || rc=$?
check "check: a valid certificate of a compromised key: named with the revocation to make (exit $rc)" sh -c \
	"[ $rc = 1 ] && [ -n '$KV' ] && grep -qx 'compromised key: serial $KV (municipality [0-9]*): valid, its key that of certificate $K1, revoked key-compromise: a compromised key is never certified (CPS 4-4-2-5); revoke it: hanko-online revoke --state $T/kc-state --serial $KV --reason key-compromise; not changed' '$T/kc.out'"
rm -rf "$T/kc-state"
# A card lost while an issue run is under way (revoke takes no issuance
# lock): the run read compromised_keys at its start, before the
# revocation; a line of that key reserved after it is refused all the same
# (pauseopen.so holds the run as it reads the line's key file, the
# revocation made meanwhile). Before, the run certified the key again.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout -out "$B/keys/race.pub.pem"
{ sed -n 1p "$REQ/valid.csv"; LOSTL 97000000004 keys/race.pub.pem; } >"$B/race0.csv"
ok "a resident's card (lost during a later run)" "$ON" issue --state "$O" "${XC[@]}" --batch "$B/race0.csv" --out "$T/race0"
K2=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/race0/results.csv")
cp "$B/keys/race.pub.pem" "$B/keys/race2.pub.pem"
{ sed -n 1p "$REQ/valid.csv"; LOSTL 97000000005 keys/race2.pub.pem; } >"$B/race1.csv"
cc -shared -fPIC -o "$T/pauseopen.so" "$HANKO_SRC/test/data/online/pauseopen.c" -ldl
env HK_PAUSE_OPEN="$T/kcrace" HK_PAUSE_OPEN_PATH="*/keys/race2.pub.pem" LD_PRELOAD="$T/pauseopen.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$ON" issue --state "$O" "${XC[@]}" --batch "$B/race1.csv" --out "$T/race1" >"$T/race1.out" 2>"$T/race1.err" &
RP=$!
for i in $(seq 1 3000); do [ -e "$T/kcrace.reached" ] && break; sleep 0.02; done
check "an issue run has read compromised_keys and waits at its line's key file" test -e "$T/kcrace.reached"
ok "... meanwhile the card's certificate revoked key-compromise" \
	"$ON" revoke --state "$O" "${XC[@]}" --serial "$K2" --reason key-compromise
touch "$T/kcrace.go"
rc=0; wait "$RP" || rc=$?
KR2="key: CPS 4-4-2-1, 4-4-2-5: the public key of certificate $K2, revoked key-compromise: a compromised key is never certified again; the resident needs a new key pair (a new card)"
check "... the run's line of that key refused naming it (exit $rc)" sh -c \
	"[ $rc = 3 ] && grep -qx '2,refused,$B/race1.csv:2: $KR2' '$T/race1/results.csv'"
check "... no certificate reserved or issued since the revoked one" test \
	"$(db "SELECT count(*) FROM certificates WHERE rowid > (SELECT rowid FROM certificates WHERE hex(serial) = '$K2')")" = 0
# A reservation left pending by a stopped run (its cert.issue record lost:
# exit 8), of a key whose certificate is revoked key-compromise after it:
# the next run's recovery does not sign it (the key would be certified
# after its compromise, CPS 4-4-2-5) but voids it, audited; the line is
# then refused as any line of that key. Before, it was signed and valid.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout -out "$B/keys/pend.pub.pem"
cp "$B/keys/pend.pub.pem" "$B/keys/pend2.pub.pem"
{ sed -n 1p "$REQ/valid.csv"; LOSTL 97000000006 keys/pend.pub.pem; } >"$B/pend0.csv"
ok "a resident's card (lost while a run of its key is left pending)" "$ON" issue --state "$O" "${XC[@]}" --batch "$B/pend0.csv" --out "$T/pend0"
K3=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/pend0/results.csv")
{ sed -n 1p "$REQ/valid.csv"; LOSTL 97000000007 keys/pend2.pub.pem; } >"$B/pend1.csv"
rc=0
HANKO_FAIL_AUDIT_AT=cert.issue "$ON" issue --state "$O" "${XC[@]}" --batch "$B/pend1.csv" --out "$T/pend1" \
	>"$HANKO_TMP/out" 2>"$HANKO_TMP/err" || rc=$?
P3=$(db "SELECT hex(serial) FROM certificates WHERE status = 'pending'")
check "... a run of the same key (another resident) stopped (exit $rc), its line pending" sh -c \
	"[ $rc = 8 ] && [ -n '$P3' ] && grep -q '^2,pending' '$T/pend1/results.csv'"
ok "... then the card revoked key-compromise" "$ON" revoke --state "$O" "${XC[@]}" --serial "$K3" --reason key-compromise
rc=0
"$ON" issue --state "$O" "${XC[@]}" --batch "$B/pend1.csv" --out "$T/pend1" >"$HANKO_TMP/out" 2>"$HANKO_TMP/err" || rc=$?
check "... the next run voids the pending reservation, not signed (exit $rc)" test \
	"$(db "SELECT status FROM certificates WHERE hex(serial) = '$P3'")" = void
check "... audited cert.void, naming the revoked certificate" grep -q \
	"	cert.void	fail	.*serial $P3: .*its key is that of certificate $K3, revoked key-compromise" "$O/audit/audit.log"
check "... the line refused (its reservation voided); no valid certificate since the revoked one" sh -c \
	"[ $rc = 3 ] && grep -q '^2,refused,$B/pend1.csv:2: serial $P3 was reserved, then voided' '$T/pend1/results.csv' &&
	 [ \$(sqlite3 '$O/store.db' \"SELECT count(*) FROM certificates WHERE status = 'valid' AND rowid > (SELECT rowid FROM certificates WHERE hex(serial) = '$K3')\") = 0 ]"

new_resident() {	# ID: valid.csv line 2 for resident ID
	sed -n 2p "$REQ/valid.csv" | awk -F, -v OFS=, -v id="$1" '{ $2 = id; print }'
}
# A run that stops early (here its first cert.issue record cannot be
# written: exit 8) still writes results.csv with one line per request
# line: the line in flight pending, the lines no run reached
# "unprocessed", a comment line none (docs/requests.md "Results").
{ sed -n 1p "$REQ/valid.csv"; new_resident 96000000001; new_resident 96000000002
  echo "# a comment line"; new_resident 96000000003; } >"$B/stop.csv"
rc=0
HANKO_FAIL_AUDIT_AT=cert.issue "$ON" issue --state "$O" "${XC[@]}" --chunk 1 --batch "$B/stop.csv" \
	--out "$T/stop" >"$HANKO_TMP/out" 2>"$HANKO_TMP/err" || rc=$?
check "a run stopped by a lost cert.issue record: exit 8 ($rc)" test "$rc" = 8
check "... stdout says how far it got and what to do" grep -Eq "^$B/stop.csv: stopped: 0 issued, 0 refused, [12] pending, [12] unprocessed; results in $T/stop/results.csv; run the same batch again to finish it\$" "$HANKO_TMP/out"
# line 3 is reserved while line 2 is signed (the next chunk is prepared
# meanwhile) or not yet reached
check "... results.csv: line 2 pending, 3 pending or unprocessed, 5 unprocessed, the comment (4) not listed" \
	grep -Eqx 'line,result 2,pending 3,(pending|unprocessed) 5,unprocessed ' <<<"$(cut -d, -f1,2 "$T/stop/results.csv" | tr '\n' ' ')"
cp "$T/stop/results.csv" "$T/stop-results.csv"
ok "... the same batch again finishes it" "$ON" issue --state "$O" "${XC[@]}" --chunk 1 --batch "$B/stop.csv" --out "$T/stop"
ok "recover reads such a results.csv: unprocessed lines named, nothing to put back" \
	"$ON" recover --state "$O" "${XC[@]}" --batch "$B/stop.csv" --results "$T/stop-results.csv"
check "... line 5 named unprocessed" grep -qx "$T/stop-results.csv:4: line 5: unprocessed when the results were written (no run had reached it): no certificate to put back" "$HANKO_TMP/out"
check "... then lines 2, 3 and 5 are ok, nothing unprocessed" test \
	"$(cut -d, -f1,2 "$T/stop/results.csv" | tr '\n' ' ')" = "line,result 2,ok 3,ok 5,ok "

# CPS 1-3-2: a resident's certificate runs 3 years from issue (minus 1 s),
# never cut short to its issuer's end. Issuing CA 1 ends
# 2031-04-02T08:59:59Z, so its issuing window closes after
# 2028-04-02T09:00:00Z, the last second a 3-year certificate fits in it.
{ sed -n 1p "$REQ/valid.csv"; new_resident 95000000001; } >"$B/win1.csv"
ok "the last second of issuing CA 1's window: issued" \
	"$ON" issue --state "$O" --clock 2028-04-02T09:00:00Z --batch "$B/win1.csv" --out "$T/win1"
W1=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/win1/results.csv")
check "... 3 years minus 1 second, ending with issuing CA 1" test \
	"$(db "SELECT not_after FROM certificates WHERE hex(serial) = '$W1'")" = "$(date -u -d 2031-04-02T08:59:59Z +%s)"
{ sed -n 1p "$REQ/valid.csv"; new_resident 95000000002; } >"$B/win2.csv"
WINMSG="^hanko-online issue: issuing CA 1 \(notAfter 2031-04-02T08:59:59Z\): CPS 1-3-2: its issuing window has closed: a resident's certificate issued at 2028-04-02T09:00:01Z would end at 2031-04-02T09:00:00Z \(3 years minus 1 second\), after it"
nb=$(db "SELECT count(*) FROM batches")
fails "a second later the window has closed: the batch refused, naming the next step" 3 \
	"$WINMSG; make the next issuing generation: hanko-online request --type csr, the issue-subca ceremony, hanko-online import \(docs/air-gap.md\)\$" \
	"$ON" issue --state "$O" --clock 2028-04-02T09:00:01Z --batch "$B/win2.csv" --out "$T/win2"
check "... nothing issued or journaled, no --out" test "$(db "SELECT count(*) FROM batches")" = "$nb" -a ! -e "$T/win2"
# The re-key (docs/air-gap.md): once generation 2 is requested the refusal
# names it; once certified and imported it is current and issues.
ok "request --type csr: issuing generation 2 (2029-04-03)" \
	"$ON" request --state "$O" --clock 2029-04-03T08:00:00Z --type csr --out "$T/r-csr2-first"
fails "... issue before its certificate is imported: refused, naming generation 2" 3 \
	"^hanko-online issue: issuing CA 1 .*: CPS 1-3-2: its issuing window has closed: .*; issuing generation 2 \(requested\) has no certificate valid now: certify it \(the issue-subca ceremony\) and hanko-online import it \(docs/air-gap.md\)\$" \
	"$ON" issue --state "$O" --clock 2029-04-03T08:30:00Z --batch "$B/win2.csv" --out "$T/win2"
fails "... publish's daily warning says the same (docs/publish.md)" 9 \
	"PROFILE.md: issuing CA 1 could issue 3-year certificates only until 2028-04-02T09:00:00Z; certify the requested next generation \(the issue-subca ceremony\) and hanko-online import it" \
	"$ON" publish --state "$O" --repo "$T/repo-win" --clock 2029-04-03T08:40:00Z
ok "make_online_gen2 on 2029-04-03: the outstanding request certified, imported" make_online_gen2 "$T" 2029-04-03
ok "... the same batch now issued by issuing CA 2" "$ON" issue --state "$O" "${IC2[@]}" --batch "$B/win2.csv" --out "$T/win2"
certs_from "$T/win2"
W2=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/win2/results.csv")
openssl x509 -in "$T/win2/certs/$W2.der" -inform DER -out "$T/win2/w2.pem"
check "... verifies under issuing CA 2, 3 years minus 1 second" sh -c \
	"openssl verify -attime $(date -u -d 2029-04-04T00:00:00Z +%s) -CAfile '$R' -untrusted '$ISS2' '$T/win2/w2.pem' >/dev/null &&
	test \"\$(openssl x509 -in '$T/win2/w2.pem' -noout -enddate)\" = 'notAfter=Apr  3 11:59:59 2032 GMT'"

# CPS 4-2-3 refuses a second *valid* certificate. Once a resident's
# certificate has expired the next one is issued, with or without
# --replace, and the expired one is neither refused nor revoked: it stops
# being the resident's live certificate (status valid, ended; schema 6).
# (That is in 2029, under issuing CA 2: CA 1's window closed in 2028.)
live_of() {	# the live certificate of the resident of serial $1
	db "SELECT hex(serial) FROM certificates WHERE live = 1 AND resident_key = (SELECT resident_key FROM certificates WHERE hex(serial) = '$1')"
}
E1=$(live_of "$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$RES")")	# valid.csv line 2
F1=$(live_of "$(sed -n 's/^12,ok,\([0-9A-F]*\),.*/\1/p' "$RES")")	# valid.csv line 6
NA=$(db "SELECT max(not_after) FROM certificates WHERE hex(serial) IN ('$E1', '$F1')")
check "two residents with a live certificate to let expire" test -n "$E1" -a -n "$F1"
EM1=$(db "SELECT municipality FROM certificates WHERE hex(serial) = '$E1'")
ATC=(--clock "$(date -u -d "@$NA" +%Y-%m-%dT%H:%M:%SZ)")
EXC=(--clock "$(date -u -d "@$((NA + 1))" +%Y-%m-%dT%H:%M:%SZ)")
sed -n 1,2p "$REQ/valid.csv" >"$B/renew0.csv"
fails "at its notAfter ($NA) the certificate is still valid: the next refused (CPS 4-2-3)" 3 "1 of 1 requests refused" \
	"$ON" issue --state "$O" "${ATC[@]}" --batch "$B/renew0.csv" --out "$T/ren0"
{ cat "$B/renew0.csv"; echo "# a second after its notAfter"; } >"$B/renew1.csv"
ok "a second after its notAfter: issued without --replace" \
	"$ON" issue --state "$O" "${EXC[@]}" --batch "$B/renew1.csv" --out "$T/ren1"
E2=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/ren1/results.csv")
# The first batch run again now (docs/requests.md "Results"): none of its
# six certificates is to be delivered any more: four revoked since (by
# serial, by resident, two re-issues), two past their notAfter.
fails "the first batch again, three years on: nothing ok (exit 3: its refused lines)" 3 \
	"batch.csv: 5 of 11 requests refused \(see $T/out1-again/results.csv\), 4 revoked since issued, 2 expired: do not deliver those\$" \
	"$ON" issue --state "$O" "${EXC[@]}" --batch "$B/batch.csv" --out "$T/out1-again"
check "... lines 2, 3, 6, 7 revoked (reasons 4, 3, 4, 3), 12 and 13 expired" test \
	"$(grep -v ',refused,' "$T/out1-again/results.csv" | sed -n 's/^\([0-9]*\),\([a-z]*\),.*,\(reason [0-9]\|notAfter\).*/\1\2 \3/p' | tr '\n' '|')" = \
	"2revoked reason 4|3revoked reason 3|6revoked reason 4|7revoked reason 3|12expired notAfter|13expired notAfter|"
check "... line 12: its certificate, and when it expired" grep -qx \
	"12,expired,$(sed -n 's/^12,ok,//p' "$RES"),notAfter 2029-04-02T11:59:59Z: do not deliver" "$T/out1-again/results.csv"
check "... the expired one: valid, no longer live, never revoked, no CRL entry" test \
	"$(db "SELECT status, ended, coalesce(reason, '-'), coalesce(live, '-') FROM certificates WHERE hex(serial) = '$E1'")|$(db "SELECT count(*) FROM crl_entries WHERE hex(serial) = '$E1'")" = "valid|1|-|-|0"
check "... the new one valid and live" test "$(db "SELECT status, live FROM certificates WHERE hex(serial) = '$E2'")" = "valid|1"
check "... issued by issuing CA 2 (its key identifier), 3 years minus 1 second on" test \
	"$(db "SELECT hex(issuer), not_after FROM certificates WHERE hex(serial) = '$E2'")" = \
	"$(openssl x509 -in "$ISS2" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :')|$(( $(date -u -d "$(date -u -d "@$((NA + 1))" '+%Y-%m-%d %H:%M:%S') UTC + 3 years" +%s) - 1 ))"
check "... audit: cert.expire names old/municipality/new" sh -c \
	"grep '	cert.expire	ok' '$O/audit/audit.log' | grep -q '$E1/$EM1/$E2'"
RID=$(sed -n 2p "$REQ/valid.csv" | cut -d, -f2)
"$ON" history --state "$O" "${EXC[@]}" --resident-id "$RID" >"$T/hist.txt" 2>&1
check "history: the expired one shows expired, the new one valid" sh -c \
	"grep '^$E1 ' '$T/hist.txt' | grep -q ' expired ' && grep '^$E2 ' '$T/hist.txt' | grep -q ' valid '"
# An expired certificate is valid no more: revoke refuses it (before, it
# was revoked, dated after its notAfter, on no CRL ever: RFC 5280 3.3).
fails "revoke: an expired certificate is not revoked (CPS 4-4)" 3 \
	"^hanko-online revoke: serial $E1: CPS 4-4: the certificate expired at $(date -u -d "@$NA" +%Y-%m-%dT%H:%M:%SZ) \(notAfter\); only a valid certificate is revoked" \
	"$ON" revoke --state "$O" "${EXC[@]}" --serial "$E1" --reason key-compromise
check "... the store unchanged: valid, no CRL entry" test \
	"$(db "SELECT status, coalesce(reason, '-') FROM certificates WHERE hex(serial) = '$E1'")|$(db "SELECT count(*) FROM crl_entries WHERE hex(serial) = '$E1'")" = "valid|-|0"
{ cat "$B/renew0.csv"; echo "# and again"; } >"$B/renew2.csv"
fails "... and the new one counts: the same resident again is refused" 3 "1 of 1 requests refused" \
	"$ON" issue --state "$O" "${EXC[@]}" --batch "$B/renew2.csv" --out "$T/ren2"
check "... naming the new serial" grep -q "CPS 4-2-3: the resident already has a valid certificate (serial $E2)" "$T/ren2/results.csv"
{ sed -n 1p "$REQ/valid.csv"; sed -n 6p "$REQ/valid.csv"; } >"$B/renew3.csv"
ok "--replace after expiry: issued" "$ON" issue --state "$O" "${EXC[@]}" --replace --batch "$B/renew3.csv" --out "$T/ren3"
check "... the expired one is not revoked (no superseded entry for an expired certificate)" test \
	"$(db "SELECT status, ended, coalesce(reason, '-') FROM certificates WHERE hex(serial) = '$F1'")|$(db "SELECT count(*) FROM crl_entries WHERE hex(serial) = '$F1'")" = "valid|1|-|0"
check "... no cert.revoke record names it" sh -c "! grep '	cert.revoke	' '$O/audit/audit.log' | grep -q '$F1/'"
ok "check: two valid certificates of one resident, one expired, are no double issuance" \
	"$ON" check --state "$O" "${EXC[@]}"
# A re-issue whose cert.revoke record cannot be appended (the test hook of
# docs/audit-log.md): the run ends, what it reserved stays pending, and the
# next run's recovery names the revocation (before, the run went on and the
# revocation was never audited).
{ cat "$B/renew0.csv"; echo "# re-issue, the audit log failing"; } >"$B/renew4.csv"
HANKO_FAIL_AUDIT_AT=cert.revoke "$ON" issue --state "$O" "${EXC[@]}" --replace --batch "$B/renew4.csv" \
	--out "$T/ren4" >"$T/ren4.out" 2>&1 && rc=0 || rc=$?
check "a re-issue whose cert.revoke record cannot be appended: the run ends (exit $rc)" sh -c \
	"[ $rc -ne 0 ] && grep -q 'cannot append cert.revoke' '$T/ren4.out'"
# the run's own last line names the record that stopped it, not what an
# earlier lookup of the store left ("the resident has no live certificate")
check "... and its last line says so" sh -c \
	"tail -n 1 '$T/ren4.out' | grep -q '^hanko-online issue: .*audit.log: cannot append cert.revoke: '"
check "... its reservation left pending" test "$(db "SELECT count(*) FROM certificates WHERE status = 'pending'")" = 1
ok "... the next run recovers it" "$ON" issue --state "$O" "${EXC[@]}" --replace --batch "$B/renew4.csv" --out "$T/ren4"
check "... and its cert.recover record names the revocation of $E2 (superseded)" sh -c \
	"grep '	cert.recover	ok' '$O/audit/audit.log' | grep -q 'serial $E2 revoked, reason 4'"

# Resume (docs/requests.md "Resume"): a batch killed (SIGKILL) part way and
# run again gives the results an uninterrupted run gives (serials aside).
# At LC, an hour after the expiry above (EXC): the test's time goes
# forward (the clock guard, docs/clock.md); issuing CA 2 signs.
LC=(--clock "$(date -u -d "@$((NA + 3601))" +%Y-%m-%dT%H:%M:%SZ)")
RB=$T/resume
req_dir "$RB"
mkres() {	# FILE IDBASE: 300 requests, two bad lines, two residents twice (296 ok)
	awk -F, -v base="$2" 'NR == 1 { print; next } NR <= 7 { row[n++] = $0 }
	END { OFS = ","
		for (i = 0; i < 300; i++) {
			if (i == 50) { print "431010,123,熊本　太郎,00000,319750301,1,熊本県熊本市,0,keys/resident-1.pub.pem"; continue }
			if (i == 170) { print "too,few,fields"; continue }
			split(row[i % 6], f, ","); f[2] = sprintf("%011.0f", base + (i == 250 ? 7 : i == 13 ? 12 : i))
			f[9] = "keys/resident-" (i % 5 + 1) ".pub.pem"
			print f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9] } }' "$REQ/valid.csv" >"$1"
}
mkres "$RB/batch.csv" 80000000000
SHA=$(sha256sum "$RB/batch.csv" | cut -c1-64)
results_of() { db "SELECT count(*) FROM batch_results r JOIN batches b ON b.id = r.batch WHERE b.sha256 = '$1'"; }
"$ON" issue --state "$O" "${LC[@]}" --chunk 8 --threads 1 --batch "$RB/batch.csv" --out "$RB/out" >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 2400); do
	[ "$(results_of "$SHA" 2>/dev/null || echo 0)" -ge 40 ] && break
	sleep 0.05
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
got=$(results_of "$SHA")
check "killed part way ($got of 300 lines had a result)" test "$got" -ge 40 -a "$got" -lt 300
fails "the same batch again: resumed" 3 "4 of 300 requests refused" \
	"$ON" issue --state "$O" "${LC[@]}" --chunk 8 --batch "$RB/batch.csv" --out "$RB/out"
check "... one result per request line" test "$(tail -n +2 "$RB/out/results.csv" | cut -d, -f1 | sort -n | uniq | wc -l)" = 300 -a \
	"$(wc -l <"$RB/out/results.csv")" = 301
check "... nothing left pending" test "$(db "SELECT count(*) FROM certificates WHERE status = 'pending'")" = 0
certs_from "$RB/out"
n=0
for s in $(grep ',ok,' "$RB/out/results.csv" | cut -d, -f3); do
	[ "$(db "SELECT hex(der) FROM certificates WHERE hex(serial) = '$s' AND status = 'valid'")" = \
		"$(od -An -tx1 "$RB/out/certs/$s.der" | tr -d ' \n' | tr a-f A-F)" ] && n=$((n + 1))
done
check "... every ok line's certificate is the store's ($n of 296)" test "$n" = 296 -a "$(ls "$RB/out/certs" | wc -l)" = 296
mv "$RB/out" "$RB/out-resumed"
mkres "$RB/batch.csv" 90000000000	# other residents, same lines otherwise
ok_or_3() { "$@" >/dev/null 2>&1; [ $? = 3 ]; }
check "an uninterrupted run of the same lines" ok_or_3 "$ON" issue --state "$O" "${LC[@]}" --batch "$RB/batch.csv" --out "$RB/out"
mask() { sed -E 's/[0-9A-F]{40}/SERIAL/g; s/^([0-9]+),ok,SERIAL,.*/\1,ok,SERIAL,CERT/' "$1"; }
check "... the resumed results.csv is the uninterrupted one (serials aside)" \
	cmp <(mask "$RB/out-resumed/results.csv") <(mask "$RB/out/results.csv")
for l in "252 9" "15 14"; do
	set -- $l
	check "... line $1 (the resident of line $2 again) refused on CPS 4-2-3" \
		grep -q "^$1,refused,.*:$1: resident_id: CPS 4-2-3: the resident already has a valid certificate (serial $(sed -n "s/^$2,ok,\([0-9A-F]*\),.*/\1/p" "$RB/out/results.csv"))" "$RB/out/results.csv"
done

# Recovery voids only what cannot be signed any more (docs/store.md): a
# run killed with reservations pending, then the issuing CAs expired
# (1: 2031-04-02, 2: 2034-04-03) before the next run.
mkres "$RB/expire.csv" 85000000000
pend() { db "SELECT count(*) FROM certificates WHERE status = 'pending'"; }
V0=$(db "SELECT count(*) FROM certificates WHERE status = 'void'")
for try in 1 2 3 4 5; do
	"$ON" issue --state "$O" "${LC[@]}" --chunk 4 --threads 1 --batch "$RB/expire.csv" \
		--out "$RB/expire" >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 1 400); do [ "$(pend)" -gt 0 ] && break; sleep 0.02; done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ "$(pend)" -gt 0 ] && break
done
P=$(pend)
check "killed with $P reservations pending" test "$P" -gt 0
fails "2034-04-04: the pending ones voided, then no issuing CA valid" 3 "no imported issuing CA certificate valid now" \
	"$ON" issue --state "$O" --clock 2034-04-04T00:00:00Z --batch "$RB/expire.csv" --out "$RB/expire"
check "... none pending, $P void" test "$(pend)|$(db "SELECT count(*) - $V0 FROM certificates WHERE status = 'void'")" = "0|$P"
check "... each audited cert.void: its issuing CA certificate has expired" test \
	"$(grep -c '	cert\.void	fail	.*its issuing CA certificate has expired; the serial is never used again' "$O/audit/audit.log")" = "$P"

ok "the online audit log verifies (checkpoints by audit-1)" "$OFF" audit verify --state "$O"
finish

#!/usr/bin/env bash
# t_online_generations.sh - CRLs per issuing generation (CPS 4-4-9, 7-2-1,
# 6-1-1 re-key; RFC 5280 5.2.1, 6.3.3; docs/publish.md "Issuing
# generations"): after the issuing key's rollover (make_online_gen2) the
# certificates of generation 1 keep their CRL distribution point
# (CN=<romaji> CRLDP, <url>/crl/<code>.crl) and generation 2's name their
# own (CN=<romaji> CRLDP 2, <url>/crl/<code>-2.crl); "hanko-online publish"
# writes both CRLs of every partition, each signed by its generation's
# issuing CA, listing only that generation's revocations, its IDP naming the
# same partition as the certificates; openssl verify -crl_check accepts the
# valid certificates of both generations, finds the two revoked ones
# revoked, and does not accept a certificate against the other generation's
# CRL; a later revocation reaches its own generation's CRL only; --now
# raises every number; the old key gone from the token is a warning. OCSP
# (docs/ocsp.md "Issuing generations"): each generation answered by its own
# responder, one request per issuing CA, responder --generation 1.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
fresh_tmp
T=$HANKO_TMP
# The sample profile with a repository URL (it has none: LDAP only), so the
# certificates and IDPs carry the CRL's URI as well as its directoryName.
URL=http://repo.example.jp/kumamoto
sed "s|^repository-url: \"\"|repository-url: \"$URL\"|" "$PROFILE" >"$T/profile.yaml"
PROFILE=$T/profile.yaml
. "$HANKO_SRC/test/data/online/setup.sh"
make_online "$T"
P=$T/repo
B=$T/req
req_dir "$B"
# batch FILE RESIDENT_ID...: the header and those residents of valid.csv
batch() {
	local f=$1; shift
	sed -n 1p "$REQ/valid.csv" >"$f"
	for id in "$@"; do grep "^[0-9]*,$id," "$REQ/valid.csv" >>"$f"; done
}
serial() { sed -n "s/^$2,ok,\([0-9A-F]*\),.*/\1/p" "$T/$1/results.csv"; }
dn() { openssl x509 -in "$1" -noout -"$2" -nameopt compat | sed "s/^$2=//"; }
CA1=$(dn "$ISS" subject)
romaji() { awk -F, -v c="$1" '$1 == c { print $4 }' "$O/municipalities.csv"; }

# Generation 1: three residents of 431010, one of 432024.
batch "$B/g1.csv" 12345678901 70000000001 70000000002 20000000002
ok "generation 1: issue four certificates" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/g1.csv" --out "$T/g1"
certs_from "$T/g1"
G1=("$(serial g1 2)" "$(serial g1 3)" "$(serial g1 4)" "$(serial g1 5)")
check "... four serials" test -n "${G1[0]}" -a -n "${G1[1]}" -a -n "${G1[2]}" -a -n "${G1[3]}"

ok "OCSP responder 1, issued by issuing CA 1" "$ON" responder --state "$O" --clock 2026-04-02T13:00:00Z
check "... for issuing generation 1" grep -qx 'responder.1.issuing-generation = 1' "$O/state.conf"

# The re-key window: generation 2's key and request exist, its certificate
# is not back yet; issuing CA 1 goes on issuing (the counters never stop).
ok "request --type csr: generation 2's key and request" "$ON" request --state "$O" \
	--clock 2026-04-03T08:00:00Z --type csr --out "$T/r-csr-early"
check "... issuing.generation = 2" grep -qx 'issuing.generation = 2' "$O/state.conf"
# A state.conf older than the token (restored from a backup taken before
# that request) names generation 1 as the newest: issuing-2 in the token is
# not a leftover of a failed request (the log has its csr.make), so the next
# request must not destroy it (it signs the CRLs of what it will issue).
cp -p "$O/state.conf" "$T/state.conf.new"
cp -p "$O/state.conf" "$T/state.conf.g1" && sed -i '/^issuing\.2\./d; s/^issuing\.generation = 2$/issuing.generation = 1/' "$T/state.conf.g1"
cp -p "$T/state.conf.g1" "$O/state.conf"
CSR2=$(sha256sum <"$O/certs/issuing-2.csr.der")
fails "request --type csr under a state.conf older than the token: refused, issuing-2 kept" 3 \
	"issuing generation 2, which the audit log records as made \(csr.make ok\), but $O/state.conf names generation 1 as the newest: .*put back the state.conf that names generation 2 .*nothing destroyed or made" \
	"$ON" request --state "$O" --clock 2026-04-03T08:10:00Z --type csr --out "$T/r-csr-again"
check "... no key destroyed or made, the request kept, state.conf unchanged" sh -c \
	"! grep -q '	key.destroy	ok	' '$O/audit/audit.log' && [ \$(grep -c '	key.generate	ok	op1@ca-online	issuing-2:' '$O/audit/audit.log') = 1 ] &&
	 [ \"\$(sha256sum <'$O/certs/issuing-2.csr.der')\" = '$CSR2' ] && cmp -s '$O/state.conf' '$T/state.conf.g1' && [ ! -e '$T/r-csr-again' ]"
cp -p "$T/state.conf.new" "$O/state.conf"
batch "$B/gw.csv" 70000000010
ok "issue in the re-key window" "$ON" issue --state "$O" --clock 2026-04-03T08:30:00Z --batch "$B/gw.csv" --out "$T/gw"
check "... issued by issuing CA 1, and it says why" sh -c "grep -q '^2,ok,' '$T/gw/results.csv' &&
	grep -qx 'issuing CA 1 issues: the certificate of generation 2 (requested) is not imported yet' '$HANKO_TMP/out'"
certs_from "$T/gw"
GW=$(serial gw 2)
check "... its issuer is issuing CA 1, its CRL DP generation 1's" sh -c \
	"[ \"\$(openssl x509 -inform DER -in '$T/gw/certs/$GW.der' -noout -issuer -nameopt compat)\" = 'issuer=$CA1' ] &&
	openssl x509 -inform DER -in '$T/gw/certs/$GW.der' -noout -ext crlDistributionPoints | grep -q 'CRLDP, OU = TEST\$'"
check "... audited with its generation" grep -q "	issue.start	ok	op1@ca-online	batch .*gw.csv .*, issuing CA generation 1	" "$O/audit/audit.log"

ok "make_online_gen2: the rollover to issuing CA 2" make_online_gen2 "$T"
[ -n "${ISS2:-}" ] || { finish; exit 1; }
check "... ISS2 is issuing CA 2" grep -q "Issuing CA 2" <<<"$(dn "$ISS2" subject)"
CA2=$(dn "$ISS2" subject)
check "... the online state is on generation 2" grep -qx 'issuing.generation = 2' "$O/state.conf"
check "... import named the next steps: generation 2's responder and CRLs" grep -qx \
	"Next for issuing CA 2: its OCSP responder (hanko-online responder --state $O) and its CRLs (hanko-online publish --state $O --repo DIR --now); keep the older issuing keys in the token until their certificates end." \
	"$T/import-iss2.out"

# Generation 2: three other residents of 431010, another of 432024.
batch "$B/g2.csv" 70000000003 70000000004 70000000005 70000000046
ok "generation 2: issue four certificates" "$ON" issue --state "$O" "${IC2[@]}" --batch "$B/g2.csv" --out "$T/g2"
certs_from "$T/g2"
G2=("$(serial g2 2)" "$(serial g2 3)" "$(serial g2 4)" "$(serial g2 5)")
check "... four serials" test -n "${G2[0]}" -a -n "${G2[1]}" -a -n "${G2[2]}" -a -n "${G2[3]}"
c1() { echo "$T/g1/certs/$1.der"; }
c2() { echo "$T/g2/certs/$1.der"; }
issued_by() {	# CA-DN DER...
	local want=$1 c; shift
	for c in "$@"; do
		[ "$(openssl x509 -inform DER -in "$c" -noout -issuer -nameopt compat)" = "issuer=$want" ] || return 1
	done
}
check "the generation-1 certificates' issuer is issuing CA 1" issued_by "$CA1" \
	"$(c1 "${G1[0]}")" "$(c1 "${G1[1]}")" "$(c1 "${G1[2]}")" "$(c1 "${G1[3]}")"
check "the generation-2 certificates' issuer is issuing CA 2" issued_by "$CA2" \
	"$(c2 "${G2[0]}")" "$(c2 "${G2[1]}")" "$(c2 "${G2[2]}")" "$(c2 "${G2[3]}")"
ok "the generation-2 certificates verify under root + issuing CA 2" openssl verify \
	-attime "$(date -u -d 2026-04-04T04:00:00Z +%s)" -CAfile "$R" -untrusted "$ISS2" \
	<(openssl x509 -inform DER -in "$(c2 "${G2[0]}")") <(openssl x509 -inform DER -in "$(c2 "${G2[3]}")")

# The CRL distribution points (PROFILE.md): generation 1's unchanged,
# generation 2's its own.
M1=431010 M2=432024
DIR="C = JP, O = JPKI, OU = Kumamoto-ken, OU = CRL Distribution Points"
# crldp DER: the DirName and URI lines of its CRL distribution points
crldp() { openssl x509 -inform DER -in "$1" -noout -ext crlDistributionPoints | grep -E '^ *(DirName|URI):' | sed 's/^ *//'; }
want_dp() {	# CODE SUFFIX(""|" 2") FILE-SUFFIX(""|"-2")
	printf 'DirName:%s, CN = %s CRLDP%s, OU = TEST\nURI:%s/crl/%s%s.crl\n' \
		"$DIR" "$(romaji "$1")" "$2" "$URL" "$1" "$3"
}
dp_is() {	# DER CODE SUFFIX FILE-SUFFIX
	[ "$(crldp "$1")" = "$(want_dp "$2" "$3" "$4")" ]
}
check "gen 1, $M1: CN=$(romaji $M1) CRLDP, $URL/crl/$M1.crl (unchanged)" dp_is "$(c1 "${G1[0]}")" $M1 "" ""
check "gen 1, $M2: CN=$(romaji $M2) CRLDP, $URL/crl/$M2.crl (unchanged)" dp_is "$(c1 "${G1[3]}")" $M2 "" ""
check "gen 2, $M1: CN=$(romaji $M1) CRLDP 2, $URL/crl/$M1-2.crl" dp_is "$(c2 "${G2[0]}")" $M1 " 2" "-2"
check "gen 2, $M2: CN=$(romaji $M2) CRLDP 2, $URL/crl/$M2-2.crl" dp_is "$(c2 "${G2[3]}")" $M2 " 2" "-2"

# One revocation in each generation, both in 431010.
RC=(--clock 2026-04-03T13:00:00Z)
ok "revoke a generation-1 certificate of $M1 (key-compromise)" "$ON" revoke --state "$O" "${RC[@]}" \
	--serial "${G1[0]}" --reason key-compromise
ok "revoke a generation-2 certificate of $M1 (superseded)" "$ON" revoke --state "$O" "${RC[@]}" \
	--serial "${G2[0]}" --reason superseded

# OCSP after the re-key (docs/ocsp.md "Issuing generations"): responder 1
# keeps answering for generation 1's certificates, responder 2 for
# generation 2's; one request names one issuing CA.
ok "OCSP responder 2, issued by issuing CA 2" "$ON" responder --state "$O" --clock 2026-04-03T13:00:00Z
check "... for issuing generation 2, responder.current = 2" sh -c \
	"grep -qx 'responder.2.issuing-generation = 2' '$O/state.conf' && grep -qx 'responder.current = 2' '$O/state.conf'"
OC=(--clock 2026-04-03T14:00:00Z)
# (the revocations above refreshed generation 1's responses through
# responder 1 already: revoke runs the refresh)
ok "ocsp-refresh: generation 2's certificates too" "$ON" ocsp-refresh --state "$O" "${OC[@]}"
check "... 4 signed, by responder 2 and responder 1 (issuing generation 1)" grep -q \
	"^4 OCSP responses signed (responder 2, valid until 2027-04-03T12:59:59Z; responder 1 (issuing generation 1) until 2027-04-02T12:59:59Z)$" \
	"$HANKO_TMP/out"
check "... every certificate of both generations has its response (5 + 4)" test \
	"$(sqlite3 "$O/store.db" "SELECT count(*) FROM ocsp_responses")" = 9
# status (read-only: its --clock moves nothing) warns of responder 1, the
# older generation's, 30 days before its end as ocsp-refresh does; it
# looked at responder.current only, and said nothing even once responder 1
# had ended and generation 1's certificates were answered unauthorized.
W1="hanko-online status: warning: CPS 4-4-4-1: OCSP responder 1 (issuing generation 1)"
"$ON" status --state "$O" --clock 2027-03-02T13:00:00Z >"$T/st1.out" 2>"$T/st1.err" || true
check "status 31 days before responder 1 ends: its line, no warning" sh -c \
	"grep -qx 'ocsp: responder 1 (issuing generation 1): notAfter 2027-04-02T12:59:59Z (CPS 1-3-2, 4-4-4-1)' '$T/st1.out' &&
	 ! grep -q 'OCSP responder 1' '$T/st1.err'"
"$ON" status --state "$O" --clock 2027-03-04T13:00:00Z >"$T/st2.out" 2>"$T/st2.err" || true
check "status 29 days before: a warning naming responder --generation 1" grep -qxF \
	"$W1 ends 2027-04-02T12:59:59Z: run hanko-online responder --state $O --generation 1 to renew it, then restart hanko-online serve" "$T/st2.err"
rc=0; "$ON" status --state "$O" --clock 2027-04-03T13:00:00Z >"$T/st3.out" 2>"$T/st3.err" || rc=$?
check "status after it ended: exit 9, the warning says ended" sh -c "[ $rc = 9 ] && grep -qxF \
	'$W1 ended 2027-04-02T12:59:59Z: run hanko-online responder --state $O --generation 1 to renew it, then restart hanko-online serve' '$T/st3.err'"
OAT=(-attime "$(date -u -d 2026-04-03T14:30:00Z +%s)" -validity_period "$(since 2026-04-01T00:00:00Z)")
# ocsp_is NAME ISSUING CERT-PEM STATUS: openssl's request answered by
# ocsp-answer from the pre-signed responses, verified by openssl with the
# responder's chain to the root and its delegation by ISSUING (no -VAfile
# shortcut), STATUS for the certificate
ocsp_is() {
	openssl ocsp -issuer "$2" -cert "$3" -no_nonce -reqout "$T/$1.req" 2>/dev/null
	"$ON" ocsp-answer --state "$O" "${OC[@]}" --request "$T/$1.req" --out "$T/$1.resp" >"$T/$1.how" || return 1
	openssl ocsp -respin "$T/$1.resp" -issuer "$2" -CAfile "$R" -verify_other "$2" "${OAT[@]}" -cert "$3" >"$T/$1.txt" 2>&1
	grep -q "^ready: the pre-signed response" "$T/$1.how" && grep -q '^Response verify OK' "$T/$1.txt" && grep -q "^$3: $4\$" "$T/$1.txt"
}
# resp_by NAME RESPONDER-PEM: the response's responderID is that key's
resp_by() {
	local k
	k=$(openssl x509 -in "$2" -noout -pubkey | openssl pkey -pubin -outform DER | openssl asn1parse -inform DER \
		-strparse 19 -noout -out - 2>/dev/null | sha1sum | cut -c1-40 | tr a-f A-F)
	openssl ocsp -respin "$T/$1.resp" -resp_text -noverify 2>/dev/null | grep -q "Responder Id: $k\$"
}
for n in 0 1; do openssl x509 -inform DER -in "$(c1 "${G1[$n]}")" -out "$T/o1-$n.pem"; done
for n in 0 1; do openssl x509 -inform DER -in "$(c2 "${G2[$n]}")" -out "$T/o2-$n.pem"; done
check "OCSP, generation 1 (revoked): pre-signed, delegated by issuing CA 1, revoked" ocsp_is g1r "$ISS" "$T/o1-0.pem" revoked
check "OCSP, generation 1 (valid): good" ocsp_is g1g "$ISS" "$T/o1-1.pem" good
check "OCSP, generation 2 (revoked): delegated by issuing CA 2, revoked" ocsp_is g2r "$ISS2" "$T/o2-0.pem" revoked
check "OCSP, generation 2 (valid): good" ocsp_is g2g "$ISS2" "$T/o2-1.pem" good
check "... generation 1's answered by responder 1 (responderID byKey)" resp_by g1g "$O/certs/ocsp-responder-1.pem"
check "... generation 2's by responder 2" resp_by g2g "$O/certs/ocsp-responder-2.pem"
check "... and not the other way" eval '! resp_by g1g "$O/certs/ocsp-responder-2.pem" && ! resp_by g2g "$O/certs/ocsp-responder-1.pem"'
openssl ocsp -issuer "$ISS" -cert "$T/o1-1.pem" -issuer "$ISS2" -cert "$T/o2-1.pem" -no_nonce -reqout "$T/mixed.req" 2>/dev/null
ok "OCSP: one request naming both issuing CAs is answered" "$ON" ocsp-answer --state "$O" "${OC[@]}" \
	--request "$T/mixed.req" --out "$T/mixed.resp"
check "... unauthorized: one request, one responder" grep -q \
	"^error unauthorized: request: certID 2: RFC 6960 2.3: another issuing CA than certID 1's (one request, one responder)" "$HANKO_TMP/out"
fails "responder --generation 3: no such key" 3 "--generation 3: .*issuing.3.key-uri: no key of issuing generation 3" \
	"$ON" responder --state "$O" --clock 2026-04-03T14:00:00Z --generation 3
ok "responder --generation 1: generation 1's renewed, signed by issuing key 1" "$ON" responder --state "$O" \
	--clock 2026-04-03T14:10:00Z --generation 1
check "... responder 3, issued by issuing CA 1" sh -c \
	"grep -qx 'responder.3.issuing-generation = 1' '$O/state.conf' &&
	openssl verify -attime $(date -u -d 2026-04-03T14:30:00Z +%s) -CAfile '$R' -untrusted '$ISS' -purpose ocsphelper '$O/certs/ocsp-responder-3.pem' >/dev/null"
ok "ocsp-refresh: generation 1's five signed again by responder 3" "$ON" ocsp-refresh --state "$O" --clock 2026-04-03T14:20:00Z
check "... 5, by responder 3 (generation 1) and responder 2" grep -q \
	"^5 OCSP responses signed (responder 3, valid until 2027-04-03T14:09:59Z; responder 2 (issuing generation 2) until 2027-04-03T12:59:59Z)$" \
	"$HANKO_TMP/out"
OC=(--clock 2026-04-03T14:20:00Z)
check "OCSP, generation 1 (valid): good, now by responder 3" eval \
	'ocsp_is g1g3 "$ISS" "$T/o1-1.pem" good && resp_by g1g3 "$O/certs/ocsp-responder-3.pem"'
check "OCSP, generation 2: still responder 2" eval \
	'ocsp_is g2g3 "$ISS2" "$T/o2-1.pem" good && resp_by g2g3 "$O/certs/ocsp-responder-2.pem"'

# The root's ARLs, so that publish has nothing to warn about.
ok "offline: arl-batch ceremony (10 ARLs from 2026-04-03T10:30)" arl_batch 10 2026-04-03T10:30:00Z
ok "offline: bundle of the ARLs" arl_bundle 10 2026-04-03T11:00:00Z
ok "import the ARLs" "$ON" import --state "$O" --clock 2026-04-03T15:00:00Z --type arl-batch "$T/b-arl"

pub() { "$ON" publish --state "$O" --repo "$P" "$@"; }
ok "publish" pub --clock 2026-04-04T03:00:00Z
check "... says it signed for generations 2 and 1" grep -q \
	"^Published set 1 at $P: 98 CRLs of issuing generations 2, 1 (2 entries, 98 caches rebuilt), ARL released$" "$HANKO_TMP/out"
check "... audited per partition and generation" sh -c "grep -q '	publish.start	ok	op1@ca-online	.*issuing CA generations 2, 1,' '$O/audit/audit.log' &&
	grep -q '	crl.publish	ok	op1@ca-online	partition $M1 (Kumamoto-shi Chuo-ku, issuing generation 1): cRLNumber 1, entries 1 ' '$O/audit/audit.log' &&
	grep -q '	crl.publish	ok	op1@ca-online	partition $M1-2 (Kumamoto-shi Chuo-ku, issuing generation 2): cRLNumber 1, entries 1 ' '$O/audit/audit.log'"
check "... an entry cache per partition id" test -s "$O/crlcache/$M1.head" -a -s "$O/crlcache/$M1-2.head"
ok "publish again the same day: nothing to do (both generations are there)" pub --clock 2026-04-04T05:00:00Z
check "... says so" grep -q "^Nothing to publish: set 1 " "$HANKO_TMP/out"
mapfile -t PARTS < <(awk -F, '$6 == "yes" { print $1 }' "$O/municipalities.csv")
missing=0
for m in "${PARTS[@]}"; do
	[ -f "$P/crl/$m.crl" ] && [ -f "$P/crl/$m-2.crl" ] || missing=$((missing + 1))
done
check "every partition (${#PARTS[@]}) has crl/<code>.crl and crl/<code>-2.crl ($missing missing)" test "$missing" = 0
check "... and no other CRL" test "$(ls "$P/crl" | wc -l)" = $((2 * ${#PARTS[@]}))

crl() { openssl crl -inform DER -in "$P/crl/$1.crl" "${@:2}" 2>/dev/null; }
crl_issuer() { [ "$(crl "$1" -noout -issuer -nameopt compat)" = "issuer=$2" ]; }
# (openssl crl says "verify OK" on stderr)
crl_verifies() {
	[ "$(openssl crl -inform DER -in "$P/crl/$1.crl" -noout -verify -CAfile "$2" 2>&1)" = "verify OK" ]
}
# crl_serials NAME: its entries' serials, without leading zeros, sorted
crl_serials() { crl "$1" -noout -text | sed -n 's/^ *Serial Number: *//p' | sed 's/^0*//' | sort | tr '\n' ' '; }
nz() { printf '%s ' "$(sed 's/^0*//' <<<"$1")"; }
check "crl/$M1.crl: issuer is issuing CA 1" crl_issuer $M1 "$CA1"
check "crl/$M1.crl: verifies with issuing CA 1" crl_verifies $M1 "$ISS"
check "crl/$M1.crl: lists exactly the revoked generation-1 serial" test "$(crl_serials $M1)" = "$(nz "${G1[0]}")"
check "crl/$M1-2.crl: issuer is issuing CA 2" crl_issuer $M1-2 "$CA2"
check "crl/$M1-2.crl: verifies with issuing CA 2" crl_verifies $M1-2 "$ISS2"
check "crl/$M1-2.crl: lists exactly the revoked generation-2 serial" test "$(crl_serials $M1-2)" = "$(nz "${G2[0]}")"
check "crl/$M2.crl: issuing CA 1's, verifies, no entries" eval \
	'crl_issuer $M2 "$CA1" && crl_verifies $M2 "$ISS" && [ -f "$P/crl/$M2.crl" ] && [ -z "$(crl_serials $M2)" ]'
check "crl/$M2-2.crl: issuing CA 2's, verifies, no entries" eval \
	'crl_issuer $M2-2 "$CA2" && crl_verifies $M2-2 "$ISS2" && [ -f "$P/crl/$M2-2.crl" ] && [ -z "$(crl_serials $M2-2)" ]'
bad=0
for m in "${PARTS[@]}"; do
	crl_issuer "$m" "$CA1" && crl_verifies "$m" "$ISS" || bad=$((bad + 1))
	crl_issuer "$m-2" "$CA2" && crl_verifies "$m-2" "$ISS2" || bad=$((bad + 1))
done
check "every partition: <code>.crl by issuing CA 1, <code>-2.crl by issuing CA 2 ($bad wrong)" test "$bad" = 0

# The IDP of each CRL names the partition exactly as its generation's
# certificates' CRL distribution points do.
# idp NAME: the DirName and URI lines of its IDP (openssl prints "Only User
# Certificates" on the URI's line)
idp() {
	crl "$1" -noout -text | sed -n '/Issuing Distribution Point/,/Only User/p' |
		sed 's/ *Only User Certificates$//' | grep -E '^ *(DirName|URI):' | sed 's/^ *//'
}
idp_is() { [ -n "$(idp "$1")" ] && [ "$(idp "$1")" = "$(crldp "$2")" ]; }
check "IDP of crl/$M1.crl = CRLDP of the generation-1 certificates of $M1" idp_is $M1 "$(c1 "${G1[1]}")"
check "IDP of crl/$M1-2.crl = CRLDP of the generation-2 certificates of $M1" idp_is $M1-2 "$(c2 "${G2[1]}")"
check "IDP of crl/$M2.crl = CRLDP of the generation-1 certificate of $M2" idp_is $M2 "$(c1 "${G1[3]}")"
check "IDP of crl/$M2-2.crl = CRLDP of the generation-2 certificate of $M2" idp_is $M2-2 "$(c2 "${G2[3]}")"
bad=0
for m in "${PARTS[@]}"; do
	[ "$(idp "$m")" = "$(want_dp "$m" "" "")" ] && [ "$(idp "$m-2")" = "$(want_dp "$m" " 2" "-2")" ] ||
		bad=$((bad + 1))
done
check "every partition's IDPs: CRLDP / CRLDP 2 and their URIs ($bad wrong)" test "$bad" = 0

# openssl verify -crl_check, at a time within the CRLs' 72 hours.
AT=(-attime "$(date -u -d 2026-04-04T04:00:00Z +%s)")
for n in "${!G1[@]}"; do openssl x509 -inform DER -in "$(c1 "${G1[$n]}")" -out "$T/g1-$n.pem"; done
for n in "${!G2[@]}"; do openssl x509 -inform DER -in "$(c2 "${G2[$n]}")" -out "$T/g2-$n.pem"; done
for m in $M1 $M1-2 $M2 $M2-2; do crl "$m" -out "$T/$m.crl.pem" || true; done
# vfy ISSUING CRL-NAME CERT-PEM: openssl verify's output (never fails)
vfy() {
	openssl verify "${AT[@]}" -crl_check -CAfile "$R" -untrusted "$1" -CRLfile "$T/$2.crl.pem" "$3" 2>&1 || true
}
vfy_ok() { [ "$(vfy "$@")" = "$3: OK" ]; }
vfy_revoked() { vfy "$@" | grep -q "certificate revoked"; }
check "verify -crl_check: gen 1 valid ($M1) OK with crl/$M1.crl" vfy_ok "$ISS" $M1 "$T/g1-1.pem"
check "verify -crl_check: gen 1 valid ($M1) OK with crl/$M1.crl (2)" vfy_ok "$ISS" $M1 "$T/g1-2.pem"
check "verify -crl_check: gen 1 valid ($M2) OK with crl/$M2.crl" vfy_ok "$ISS" $M2 "$T/g1-3.pem"
check "verify -crl_check: gen 2 valid ($M1) OK with crl/$M1-2.crl" vfy_ok "$ISS2" $M1-2 "$T/g2-1.pem"
check "verify -crl_check: gen 2 valid ($M1) OK with crl/$M1-2.crl (2)" vfy_ok "$ISS2" $M1-2 "$T/g2-2.pem"
check "verify -crl_check: gen 2 valid ($M2) OK with crl/$M2-2.crl" vfy_ok "$ISS2" $M2-2 "$T/g2-3.pem"
check "verify -crl_check: the revoked gen-1 certificate: certificate revoked" vfy_revoked "$ISS" $M1 "$T/g1-0.pem"
check "verify -crl_check: the revoked gen-2 certificate: certificate revoked" vfy_revoked "$ISS2" $M1-2 "$T/g2-0.pem"
vfy "$ISS" $M1-2 "$T/g1-1.pem" >"$T/v-cross"
check "verify -crl_check: a gen-1 certificate against the gen-2 CRL is not accepted" \
	eval '[ -f "$P/crl/$M1-2.crl" ] && [ -s "$T/v-cross" ] && ! grep -q ": OK$" "$T/v-cross"'
vfy "$ISS2" $M1 "$T/g2-1.pem" >"$T/v-cross2"
check "verify -crl_check: a gen-2 certificate against the gen-1 CRL is not accepted" \
	eval '[ -f "$P/crl/$M1.crl" ] && [ -s "$T/v-cross2" ] && ! grep -q ": OK$" "$T/v-cross2"'

# A later revocation of generation 1 reaches generation 1's CRL only.
ok "revoke another generation-1 certificate of $M1 (affiliation-changed)" "$ON" revoke --state "$O" \
	--clock 2026-04-04T09:00:00Z --serial "${G1[1]}" --reason affiliation-changed

# --now: every partition of both generations gets a higher number.
crl_number() {	# NAME: its CRL number in decimal, -1 if none
	local v
	v=$(crl "$1" -noout -crlnumber | cut -d= -f2) || true
	if [ -n "$v" ]; then printf '%d' "$v"; else echo -1; fi
}
declare -A N0
for m in "${PARTS[@]}"; do N0[$m]=$(crl_number "$m"); N0[$m-2]=$(crl_number "$m-2"); done
ok "publish --now" pub --clock 2026-04-04T10:00:00Z --now
bad=0
for k in "${!N0[@]}"; do
	n=$(crl_number "$k")
	[ "${N0[$k]}" -ge 0 ] && [ "$n" -gt "${N0[$k]}" ] || bad=$((bad + 1))
done
check "--now: each of the ${#N0[@]} CRLs has a higher number ($bad not)" test "$bad" = 0 -a "${#N0[@]}" = $((2 * ${#PARTS[@]}))
check "... $M1: ${N0[$M1]} -> $(crl_number $M1), $M1-2: ${N0[$M1-2]} -> $(crl_number $M1-2)" eval \
	'[ "$(crl_number $M1)" -gt "${N0[$M1]}" ] && [ "$(crl_number $M1-2)" -gt "${N0[$M1-2]}" ]'
check "... crl/$M1.crl lists both revoked generation-1 serials" test "$(crl_serials $M1)" = \
	"$(printf '%s\n%s\n' "$(sed 's/^0*//' <<<"${G1[0]}")" "$(sed 's/^0*//' <<<"${G1[1]}")" | sort | tr '\n' ' ')"
check "... crl/$M1-2.crl still only generation 2's" test "$(crl_serials $M1-2)" = "$(nz "${G2[0]}")"
check "... appended to generation 1's cache, nothing rebuilt" sh -c \
	"grep '	crl.publish	ok	op1@ca-online	partition $M1 (' '$O/audit/audit.log' | tail -1 | grep -q 'entries 2, thisUpdate' &&
	tac '$O/audit/audit.log' | sed '/	publish.start	/q' | grep -c '	crl.publish	ok	' | grep -qx 98 &&
	! tac '$O/audit/audit.log' | sed '/	publish.start	/q' | grep -q 'cache rebuilt'"

# Served to a registered relying party: both generations' CRLs, each
# fetch counted for the monthly report under its partition id (CPS 4-5).
# (rp add and ldap-push below with a --clock between the runs around them,
# not the real clock, ahead of the ocsp-refresh of 04-04T21:30: the clock
# guard, docs/clock.md)
ok "rp add bank-1" "$ON" rp add --state "$O" --clock 2026-04-04T10:20:00Z --name bank-1
TOK=$(tail -1 "$HANKO_TMP/out")
SP="" SLAPD=""
# (errexit holds in the trap too: nothing in it may fail)
cleanup() {
	if [ -n "$SP" ]; then kill "$SP" 2>/dev/null || true; fi
	if [ -n "$SLAPD" ]; then kill "$SLAPD" 2>/dev/null || true; fi
}
trap cleanup EXIT
"$ON" serve --state "$O" --repo "$P" --listen 127.0.0.1:0 --flush 1 --clock 2026-04-04T10:30:00Z \
	>"$T/serve.out" 2>"$T/serve.err" &
SP=$!
for _ in $(seq 300); do grep -q 'listening on' "$T/serve.out" && break; sleep 0.1; done
U=http://$(sed -n 's/.*listening on \([0-9.:]*\) .*/\1/p' "$T/serve.out")
fetch() { curl -sS -o "$T/$2" -w '%{http_code}' -H "Authorization: Bearer $TOK" "$U/crl/$1.crl" 2>/dev/null; }
check "serve: crl/$M1-2.crl to bank-1: 200, the published bytes" eval \
	'[ "$(fetch $M1-2 got-2.crl)" = 200 ] && cmp -s "$T/got-2.crl" "$P/crl/$M1-2.crl"'
check "serve: crl/$M1.crl to bank-1: 200, the published bytes" eval \
	'[ "$(fetch $M1 got-1.crl)" = 200 ] && cmp -s "$T/got-1.crl" "$P/crl/$M1.crl"'
kill "$SP"; wait "$SP" 2>/dev/null || true; SP=""
check "provisions: bank-1 http $M1 = 1 and $M1-2 = 1" test \
	"$(sqlite3 "$O/store.db" "SELECT object || '=' || sum(count) FROM provisions WHERE recipient = 'bank-1' AND method = 'http' GROUP BY object ORDER BY object" | tr '\n' ' ')" = \
	"$M1=1 $M1-2=1 "

# LDAP (docs/ldap.md): each generation's CRL goes to the entry its IDP
# names, generation 2's beside generation 1's.
L=$T/ldap
mkdir -p "$L/db"
export HK_LDAP_PW='Kumamoto LDAP bind 2026!'
sed -e "s|@DIR@|$L|g" -e "s|@ROOTPW@|$(slappasswd -s "$HK_LDAP_PW")|" \
	"$HANKO_SRC/test/data/ldap/slapd.conf.in" >"$L/slapd.conf"
slapd_start "$L/slapd.conf" "$L/slapd.log" || true
ok "ldap-push of the set" "$ON" ldap-push --state "$O" --clock 2026-04-04T10:40:00Z --repo "$P" --ldap "$URI" \
	--bind-dn cn=admin,c=JP --passin env:HK_LDAP_PW
CDP="ou=CRL Distribution Points,ou=Kumamoto-ken,o=JPKI,c=JP"
# ldap_crl DN FILE: the entry's certificateRevocationList;binary is FILE
ldap_crl() {
	rm -rf "$T/get"; mkdir -p "$T/get"
	ldap_tt "$T/get" -x -H "$URI" -D cn=admin,c=JP -w "$HK_LDAP_PW" -LLL -o ldif-wrap=no -s base -b "$1" \
		'certificateRevocationList;binary' >"$T/get.ldif" 2>/dev/null || return 1
	[ "$(ls "$T/get" | wc -l)" = 1 ] && cmp -s "$T/get/$(ls "$T/get")" "$2"
}
R1=$(romaji $M1)
check "LDAP: ou=TEST,cn=$R1 CRLDP holds crl/$M1.crl (generation 1)" ldap_crl "ou=TEST,cn=$R1 CRLDP,$CDP" "$P/crl/$M1.crl"
check "LDAP: ou=TEST,cn=$R1 CRLDP 2 holds crl/$M1-2.crl (generation 2)" ldap_crl "ou=TEST,cn=$R1 CRLDP 2,$CDP" "$P/crl/$M1-2.crl"
check "LDAP: every partition CRL of both generations has its entry" test \
	"$(ldapsearch -x -H "$URI" -D cn=admin,c=JP -w "$HK_LDAP_PW" -LLL -b "$CDP" '(certificateRevocationList;binary=*)' dn 2>/dev/null | grep -c '^dn:')" \
	= $((2 * ${#PARTS[@]}))
kill "$SLAPD"; wait "$SLAPD" 2>/dev/null || true; SLAPD=""

# token_delete LABEL: both halves of the key LABEL gone from the online
# token (as a token restored from an older backup would lose them)
token_delete() {
	local t
	for t in privkey pubkey; do
		SOFTHSM2_CONF=$O/token/softhsm2.conf pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so \
			--token-label hanko-online-test --login --pin "$(cat "$O/secrets/token-user-pin")" \
			--delete-object --type $t --label "$1" >/dev/null 2>&1
	done
}

# Generation 1's key gone from the token while its certificate is valid:
# published without its CRLs, exit 9 with a warning that says why.
token_delete issuing-1
fails "issuing key 1 gone: publish --now warns (exit 9)" 9 \
	"warning: CPS 4-4-9: issuing generation 1 has a certificate valid now but its key is not in the token: the certificates it issued get no CRL" \
	pub --clock 2026-04-04T11:00:00Z --now
check "... generation 2's CRLs published, generation 1's no longer" sh -c \
	"[ -f '$P/crl/$M1-2.crl' ] && [ ! -e '$P/crl/$M1.crl' ] && [ \$(ls '$P/crl' | wc -l) = ${#PARTS[@]} ]"
# Generation 1's responder key gone (responder 3, the newest made): the
# other generation's responder signs on, and the run says which is out.
token_delete ocsp-3
ok "responder 3's key gone: ocsp-refresh still signs generation 2's" "$ON" ocsp-refresh --state "$O" \
	--clock 2026-04-04T21:30:00Z
check "... 4 by responder 2, and a warning naming responder 3" sh -c \
	"grep -qx '4 OCSP responses signed (responder 2, valid until 2027-04-03T12:59:59Z)' '$HANKO_TMP/out' &&
	grep -q '^warning: OCSP responder 3 left out: .*: the certificates of its issuing generation are answered unauthorized' '$HANKO_TMP/out'"
check "... audited as a failure" grep -q "	ocsp.refresh	fail	op1@ca-online	OCSP responder 3 left out" "$O/audit/audit.log"
OC=(--clock 2026-04-04T21:30:00Z)
OAT=(-attime "$(date -u -d 2026-04-04T21:40:00Z +%s)" -validity_period "$(since 2026-04-01T00:00:00Z)")
check "... and generation 2's answers go on" eval \
	'ocsp_is g2g4 "$ISS2" "$T/o2-1.pem" good && resp_by g2g4 "$O/certs/ocsp-responder-2.pem"'
# ... and generation 1's certificates are answered unauthorized, as the
# warning says, when the key holder would have to sign (a nonce): not an
# internal error (docs/ocsp.md "Issuing generations")
openssl ocsp -issuer "$ISS" -cert "$T/o1-1.pem" -reqout "$T/g1n.req" 2>/dev/null
ok "OCSP with a nonce for generation 1, its responder's key gone" "$ON" ocsp-answer --state "$O" "${OC[@]}" \
	--request "$T/g1n.req" --out "$T/g1n.resp"
check "... unauthorized (6)" sh -c \
	"grep -q '^error unauthorized: job: certID 1: RFC 6960 2.3: not an issuer this responder answers for' '$HANKO_TMP/out' &&
	openssl ocsp -respin '$T/g1n.resp' -resp_text -noverify 2>&1 | grep -q 'Responder Error: unauthorized (6)'"
ok "the online audit log verifies" "$OFF" audit verify --state "$O"
finish

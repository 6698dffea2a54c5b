#!/usr/bin/env bash
# t_online_retire.sh - a merged municipality stops issuing (docs/
# municipalities.md "A merger or a rename"; CPS 4-1-1, 4-2-1, 4-4-9): the
# state's municipalities.csv given the retired column (the awk line of the
# docs), 432032 Hitoyoshi-shi retired from 2026-04-03. From that day a
# batch line naming 432032 is one refused line naming the line, the field
# and the rule, and the batch's other lines are issued; the old
# certificate is still revoked by its municipality and resident, is in
# history and OCSP, and its revocation reaches 432032's CRL (openssl crl
# -verify, openssl verify -crl_check); publish keeps that CRL while a
# certificate of 432032 is valid or still to be listed, then says (a note
# on stdout, not a warning) that the row may be removed.
. "$(dirname "$0")/online.sh"
M=$O/municipalities.csv
P=$T/repo
pub() { "$ON" publish --state "$O" --repo "$P" "$@"; }
crl_number() { printf '%d' "$(openssl crl -inform DER -in "$P/crl/$1.crl" -noout -crlnumber | cut -d= -f2)"; }
cp "$M" "$T/municipalities.orig"

B=$T/req
req_dir "$B" 7
ok "issue six certificates, one of 432032 (2026-04-02)" "$ON" issue --state "$O" "${IC[@]}" \
	--batch "$B/batch.csv" --out "$T/issued"
certs_from "$T/issued"
S_HI=$(sed -n 's/^7,ok,\([0-9A-F]*\),.*/\1/p' "$T/issued/results.csv")
check "... 432032's certificate issued" test -n "$S_HI"
openssl x509 -inform DER -in "$T/issued/certs/$S_HI.der" -out "$T/hi.pem"
cat "$R" "$ISS" >"$T/chain.pem"
ok "an OCSP responder" "$ON" responder --state "$O" --clock 2026-04-02T12:30:00Z

# The merger: the retired column added as docs/municipalities.md says,
# then 432032's day.
awk -F, -v OFS=, '/^#/ || /^$/ { print; next } !h { print $0 ",retired"; h = 1; next } { print $0 "," }' \
	"$T/municipalities.orig" >"$T/m8.csv"
sed 's/^\(432032,.*\),$/\1,2026-04-03/' "$T/m8.csv" >"$M"
check "... one row retired" test "$(grep -c ',2026-04-03$' "$M")" = 1
LINE=$(grep -n '^432032,' "$M" | cut -d: -f1)

# The day before in Japan, 432032 still issues.
{ head -1 "$REQ/valid.csv"
  sed -n 7p "$REQ/valid.csv" | sed 's/^432032,60000000006,/432032,60000000026,/'
} >"$B/before.csv"
ok "2026-04-02 23:59:59 JST, the last second before its day: 432032 issues" "$ON" issue --state "$O" \
	--clock 2026-04-02T14:59:59Z --batch "$B/before.csv" --out "$T/before"
check "... issued" grep -q '^2,ok,[0-9A-F]*,' "$T/before/results.csv"
# Another line of 432032 accepted then, its certificate reserved, but the
# run stops before completing it (its cert.issue record cannot be
# written): left pending, as by a crash. Its recovery after the retired
# day signs it (docs/municipalities.md: its TBSCertificate, notBefore
# included, was fixed before the day).
{ head -1 "$REQ/valid.csv"
  sed -n 7p "$REQ/valid.csv" | sed 's/^432032,60000000006,/432032,60000000036,/'
} >"$B/pending.csv"
rc=0
HANKO_FAIL_AUDIT_AT=cert.issue "$ON" issue --state "$O" --clock 2026-04-02T14:59:59Z \
	--batch "$B/pending.csv" --out "$T/pending" >"$HANKO_TMP/out" 2>"$HANKO_TMP/err" || rc=$?
S_PEND=$(db "SELECT hex(serial) FROM certificates WHERE municipality = '432032' AND status = 'pending'")
check "the same second, a line whose certificate is left pending (cert.issue not written: exit $rc)" \
	sh -c "[ $rc = 8 ] && [ -n '$S_PEND' ] && grep -q '^2,pending,$S_PEND$' '$T/pending/results.csv'"

# The next batch: a new resident of 432032 and one of 431010.
{ head -1 "$REQ/valid.csv"
  sed -n 7p "$REQ/valid.csv" | sed 's/^432032,60000000006,/432032,60000000016,/'
  grep '^431010,70000000001,' "$REQ/valid.csv"
} >"$B/after.csv"
N_CERTS=$(db "SELECT count(*) FROM certificates")
fails "2026-04-03 10:00 JST: one line refused (exit 3)" 3 "1 of 2 requests refused" \
	"$ON" issue --state "$O" --clock 2026-04-03T01:00:00Z --batch "$B/after.csv" --out "$T/after"
check "... line 2 refused naming the line, the field and the rule" grep -qF \
	"2,refused,$B/after.csv:2: municipality: CPS 4-1-1, 4-2-1: 432032 (人吉市) is retired since 2026-04-03 (municipalities.csv: retired): no certificate is issued under it" \
	"$T/after/results.csv"
check "... line 3 (431010) issued" grep -q '^3,ok,[0-9A-F]*,' "$T/after/results.csv"
check "... one certificate more in the store, none of 432032" test \
	"$(db "SELECT count(*) FROM certificates")|$(db "SELECT count(*) FROM certificates WHERE municipality = '432032'")" = \
	"$((N_CERTS + 1))|3"
check "... the pending certificate of 432032, reserved before its day, recovered: valid, notBefore 23:59:59 JST" sh -c \
	"grep -q '^recovered 1 certificates left pending by a crash, voided 0$' '$HANKO_TMP/out' &&
	 grep -q '	cert.recover	ok	op1@ca-online	serial $S_PEND: municipality 432032: ' '$O/audit/audit.log' &&
	 [ \"\$(sqlite3 '$O/store.db' \"SELECT status || ' ' || not_before FROM certificates WHERE hex(serial) = '$S_PEND'\")\" = \"valid \$(date -u -d 2026-04-02T14:59:59Z +%s)\" ]"

# The old town's certificate: revoked by its municipality and resident,
# in history, answered by OCSP.
ok "revoke 432032's certificate by municipality and resident (key compromise)" "$ON" revoke --state "$O" \
	--clock 2026-04-04T01:00:00Z --municipality 432032 --resident-id 60000000006 --reason key-compromise
check "... that serial revoked in the store" test \
	"$(db "SELECT status FROM certificates WHERE hex(serial) = '$S_HI'")" = revoked
ok "history of the old town's resident" "$ON" history --state "$O" --clock 2026-04-04T02:00:00Z \
	--resident-id 60000000006
check "... its certificate, 432032, revoked" grep -Eq "^$S_HI +432032 .* revoked .* 1 key-compromise$" "$HANKO_TMP/out"
openssl ocsp -issuer "$ISS" -cert "$T/hi.pem" -no_nonce -reqout "$T/hi.req" 2>/dev/null
ok "ocsp-answer for the old town's certificate" "$ON" ocsp-answer --state "$O" --clock 2026-04-04T02:00:00Z \
	--request "$T/hi.req" --out "$T/hi.resp"
openssl ocsp -respin "$T/hi.resp" -issuer "$ISS" -CAfile "$R" -verify_other "$ISS" \
	-attime "$(date -u -d 2026-04-04T02:30:00Z +%s)" -validity_period "$(since 2026-04-01T00:00:00Z)" \
	-cert "$T/hi.pem" >"$T/hi.ocsp" 2>&1 || true
check "... openssl ocsp: verified, revoked" sh -c \
	"grep -q '^Response verify OK' '$T/hi.ocsp' && grep -q '^$T/hi.pem: revoked' '$T/hi.ocsp'"

# publish: the retired partition is published like any other, with the
# revocation; no note while a certificate of it is still to be listed.
fails "publish: 432032's CRL published (exit 9: no ARL only)" 9 "^hanko-online publish: warning: CPS 4-4-10: no imported ARL is current[^;]*$" \
	pub --clock 2026-04-04T03:00:00Z
check "... no note: 432032 still has a certificate to list" sh -c "! grep -q '^Note:' '$HANKO_TMP/out'"
check "... crl/432032.crl lists the serial (Key Compromise)" sh -c \
	"openssl crl -inform DER -in '$P/crl/432032.crl' -noout -text | grep -A4 'Serial Number: $S_HI' | grep -q 'Key Compromise'"
ok "... it verifies with the issuing CA (openssl crl -verify)" \
	openssl crl -inform DER -in "$P/crl/432032.crl" -CAfile "$T/chain.pem" -verify -noout
openssl crl -inform DER -in "$P/crl/432032.crl" -out "$T/432032.crl.pem"
openssl verify -attime "$(date -u -d 2026-04-04T04:00:00Z +%s)" -crl_check -CAfile "$T/chain.pem" \
	-CRLfile "$T/432032.crl.pem" "$T/hi.pem" >"$T/v1" 2>&1 || true
check "openssl verify -crl_check: the old town's certificate is revoked (in the CRL's scope)" \
	grep -q "certificate revoked" "$T/v1"

# 432032's certificates expire at 2029-04-02T11:59:59Z and 14:59:58Z (two).
# The first CRL after the expiry still lists the revoked one (RFC 5280
# 3.3): no note yet.
# (in 2029 the issuing window of generation 1 has closed too: its warning,
# and no other)
W2029="^hanko-online publish: warning: CPS 4-4-10: no imported ARL is current[^;]*; PROFILE.md: issuing CA 1 could issue 3-year certificates only until [0-9TZ:-]+; request the next generation now: hanko-online request --type csr, the issue-subca ceremony, hanko-online import \(docs/air-gap.md\)$"
N_HI=$(crl_number 432032)
fails "publish after all three expired (2029-04-02T15:00:00Z): exit 9, no ARL and the issuing window only" 9 \
	"$W2029" pub --clock 2029-04-02T15:00:00Z --now
check "... 432032's CRL number +1 and still lists the serial; no note" sh -c \
	"[ $(crl_number 432032) = $((N_HI + 1)) ] &&
	 openssl crl -inform DER -in '$P/crl/432032.crl' -noout -text | grep -q 'Serial Number: $S_HI' &&
	 ! grep -q '^Note:' '$HANKO_TMP/out'"
fails "the run after: the note that the row may go, on stdout; exit 9 for the ARL and the issuing window only" 9 \
	"$W2029" pub --clock 2029-04-02T15:00:01Z --now
check "... the note names the line, the code, the day and the rule" grep -qx \
	"Note: municipalities.csv:$LINE: 432032 (Hitoyoshi-shi): retired since 2026-04-03, and no certificate of it is valid or revoked and still to be listed (CPS 4-4-9, RFC 5280 3.3): its row may now be removed (docs/municipalities.md, \"A merger or a rename\"); until then its CRL is published without entries" \
	"$HANKO_TMP/out"
check "... 432032's CRL still published (number +2), without entries" sh -c \
	"[ $(crl_number 432032) = $((N_HI + 2)) ] &&
	 ! openssl crl -inform DER -in '$P/crl/432032.crl' -noout -text | grep -q 'Serial Number'"
check "... audited: publish.note ok" grep -q "	publish.note	ok	op1@ca-online	municipalities.csv:$LINE: 432032 (Hitoyoshi-shi): retired since 2026-04-03" \
	"$O/audit/audit.log"
# publish --ldap whose push fails (here before any server is contacted: the
# set has no ARL, which the root's entry needs): the set is published, the
# run exits with the LDAP failure, and the note is still said on stdout, not
# only audited.
export HK_LDAP_PW=unused
NOTES=$(grep -c '	publish.note	ok	' "$O/audit/audit.log")
fails "publish --ldap, the push failing: the set published, the LDAP failure and the warnings in one line (exit 3)" 3 \
	"^hanko-online publish: set [0-9]+ published at $P, but LDAP: .*arl.crl: no ARL in the set .*; and warning: CPS 4-4-10" \
	pub --clock 2029-04-02T15:00:01Z --now --ldap ldap://127.0.0.1:9 \
	--ldap-bind-dn cn=admin,c=JP --ldap-passin env:HK_LDAP_PW
check "... the note is said on stdout there too" grep -qx \
	"Note: municipalities.csv:$LINE: 432032 (Hitoyoshi-shi): retired since 2026-04-03, and no certificate of it is valid or revoked and still to be listed (CPS 4-4-9, RFC 5280 3.3): its row may now be removed (docs/municipalities.md, \"A merger or a rename\"); until then its CRL is published without entries" \
	"$HANKO_TMP/out"
check "... and audited (publish.note ok)" test "$(grep -c '	publish.note	ok	' "$O/audit/audit.log")" = $((NOTES + 1))
grep -v '^432032,' "$M" >"$T/m-removed.csv" && cp "$T/m-removed.csv" "$M"
fails "row removed: published without a hold (exit 9: no ARL and the issuing window only)" 9 \
	"$W2029" pub --clock 2029-04-02T15:00:02Z --now
check "... without crl/432032.crl, no note" sh -c "[ ! -e '$P/crl/432032.crl' ] && ! grep -q '^Note:' '$HANKO_TMP/out'"

ok "the online audit log verifies (checkpoints by audit-1)" "$OFF" audit verify --state "$O"
finish

#!/usr/bin/env bash
# t_online_publish_munis.sh - publish when the state's municipalities.csv
# no longer matches the certificates issued (docs/municipalities.md "A
# merger or a rename", docs/publish.md; CPS 4-4-4-4, 4-4-9; RFC 5280 5.2.5,
# 6.3.3): a row removed (a merger) while its certificates are valid, and a
# romaji changed. Either way the other partitions are published, that
# partition's CRL of the current set is kept as it is, and the run exits 3
# with one line naming the code, the field and the rule; with the row or
# the romaji put back the partition is published again (openssl crl,
# openssl verify -crl_check). A code whose certificates have all expired
# may leave the file.
. "$(dirname "$0")/online.sh"
# The repository sits deep (two 200-character folders), as a deployment's
# may: publish's one final line then runs over a kilobyte, and must still
# end with its last warning whole (it was cut at 1024 bytes once).
LONG=$(printf 'repository-folder-%.0s' $(seq 11))
P=$T/${LONG:0:200}/${LONG:0:200}/repo
mkdir -p "$(dirname "$P")"
M=$O/municipalities.csv
db() { sqlite3 "$O/store.db" "$1"; }
pub() { "$ON" publish --state "$O" --repo "$P" "$@"; }
set_of() { readlink "$P"; }
crl_number() { printf '%d' "$(openssl crl -inform DER -in "$P/crl/$1.crl" -noout -crlnumber | cut -d= -f2)"; }
set_ok() { (cd "$1" && awk '{print $1 "  " $3}' MANIFEST | sha256sum -c --quiet) >/dev/null 2>&1; }
cp "$M" "$T/municipalities.orig"

# Six residents in six partitions (431010, 432024, 432148, 432105,
# 431028, 432032 Hitoyoshi-shi).
B=$T/req
req_dir "$B" 7
ok "issue six certificates" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/issued"
certs_from "$T/issued"
serial() { sed -n "s/^$1,ok,\([0-9A-F]*\),.*/\1/p" "$T/issued/results.csv"; }
S_YA=$(serial 3)	# 432024 Yatsushiro-shi
S_HI=$(serial 7)	# 432032 Hitoyoshi-shi
cat "$R" "$ISS" >"$T/chain.pem"
for s in "$S_YA" "$S_HI"; do openssl x509 -inform DER -in "$T/issued/certs/$s.der" -out "$T/$s.pem"; done

fails "publish (no ARL imported: exit 9)" 9 "no imported ARL is current" pub --clock 2026-04-03T03:00:00Z
check "... set 1 with crl/432032.crl" test "$(set_of)" = "repo.sets/1" -a -e "$P/crl/432032.crl"
N_HI=$(crl_number 432032)
N_KU=$(crl_number 431010)

# A merger: the operator removes 432032's row while its certificate is
# valid; then that certificate's key is compromised.
grep -v '^432032,' "$T/municipalities.orig" >"$M"
ok "revoke 432032's certificate (key compromise)" "$ON" revoke --state "$O" --clock 2026-04-04T01:00:00Z \
	--serial "$S_HI" --reason key-compromise
fails "row 432032 removed: exit 3 naming the code, the field and the rule" 3 \
	"^hanko-online publish: municipalities.csv: 432032: no row, but the store holds 1 certificate of it valid or revoked until 2029-04-02T11:59:59Z: CPS 4-4-4-4, 4-4-9, PROFILE.md: its CRL is published until the last of them expires; put the row back .*crl/432032.crl not updated \(the one of set 1 kept\); set 2 published with the other partitions; warning: CPS 4-4-10: no imported ARL" \
	pub --clock 2026-04-04T03:00:00Z
check "... the other partitions are published (set 2, 431010's number +1)" \
	test "$(set_of)" = "repo.sets/2" -a "$(crl_number 431010)" = $((N_KU + 1))
check "... crl/432032.crl is set 1's, byte for byte (not dropped)" cmp "$P/crl/432032.crl" "$P.sets/1/crl/432032.crl"
check "... set 2 matches its MANIFEST (sha256sum -c)" set_ok "$P"
check "... the store did not take a number for 432032" \
	test "$(db "SELECT number FROM crl_numbers WHERE partition = '432032'")" = "$N_HI"
check "... audited: crl.hold fail" grep -q "	crl.hold	fail	op1@ca-online	municipalities.csv: 432032: no row" "$O/audit/audit.log"
fails "a second run the same day: nothing published, exit 3 again" 3 \
	"municipalities.csv: 432032: no row, .*; nothing published \(set 2 of today stays\)" pub --clock 2026-04-04T05:00:00Z
check "... still set 2" test "$(set_of)" = "repo.sets/2"

cp "$T/municipalities.orig" "$M"
fails "row put back: published (exit 9: no ARL only)" 9 "^hanko-online publish: warning: CPS 4-4-10" \
	pub --clock 2026-04-04T06:00:00Z --now
check "... crl/432032.crl number +1 and lists the key-compromised serial" sh -c \
	"[ $(crl_number 432032) = $((N_HI + 1)) ] &&
	 openssl crl -inform DER -in '$P/crl/432032.crl' -noout -text | grep -A4 '$S_HI' | grep -q 'Key Compromise'"
openssl crl -inform DER -in "$P/crl/432032.crl" -out "$T/432032.crl.pem"
openssl verify -attime "$(date -u -d 2026-04-04T07:00:00Z +%s)" -crl_check -CAfile "$T/chain.pem" \
	-CRLfile "$T/432032.crl.pem" "$T/$S_HI.pem" >"$T/v1" 2>&1 || true
check "openssl verify -crl_check: 432032's certificate is revoked" grep -q "certificate revoked" "$T/v1"

# A rename: the romaji of 432024, which has a valid certificate, changed.
sed 's/^432024,city,,Yatsushiro-shi,/432024,city,,Yatsushiro-city,/' "$T/municipalities.orig" >"$M"
N_YA=$(crl_number 432024)
cp "$P/crl/432024.crl" "$T/432024.before"
S_BEFORE=$(set_of)
fails "romaji of 432024 changed: exit 3 naming the code, the field and the rule" 3 \
	"^hanko-online publish: municipalities.csv: 432024: romaji \"Yatsushiro-city\": partition 432024 \(issuing generation 1\) would be named CN=Yatsushiro-city CRLDP, but the IDP of crl/432024.crl in set [0-9]+ names CN=Yatsushiro-shi CRLDP: RFC 5280 5.2.5, 6.3.3: .*crl/432024.crl not updated \(the one of set [0-9]+ kept\); set [0-9]+ published with the other partitions" \
	pub --clock 2026-04-05T03:00:00Z
check "... a new set, 432024's CRL unchanged (byte for byte, number $N_YA)" sh -c \
	"[ '$(set_of)' != '$S_BEFORE' ] && cmp -s '$P/crl/432024.crl' '$T/432024.before' && [ $(crl_number 432024) = $N_YA ]"
openssl crl -inform DER -in "$P/crl/432024.crl" -out "$T/432024.crl.pem"
ok "openssl verify -crl_check: 432024's certificate against the kept CRL (in scope, not revoked)" \
	openssl verify -attime "$(date -u -d 2026-04-05T04:00:00Z +%s)" -crl_check -CAfile "$T/chain.pem" \
	-CRLfile "$T/432024.crl.pem" "$T/$S_YA.pem"
# Issuing under the new romaji would name a partition that no CRL of the
# old name covers, and that none would cover once the romaji is put back
# (publish then holds the partition for the new certificate): refused
# before anything is signed.
# (at RC, between the publish runs of 03:00 and 03:10 that day: the clock
# guard, docs/clock.md, refuses an issue behind them)
RC=(--clock 2026-04-05T03:05:00Z)
B2=$T/req-rename
req_dir "$B2"
(head -1 "$REQ/valid.csv" && grep '^432024,70000000046,' "$REQ/valid.csv") >"$B2/batch.csv"
N_CERTS=$(db "SELECT count(*) FROM certificates")
fails "issue under the changed romaji of 432024: exit 3 naming the code, the field and the rule" 3 \
	"^hanko-online issue: municipalities.csv: 432024: romaji \"Yatsushiro-city\": partition 432024 \(issuing generation 1\) would be named CN=Yatsushiro-city CRLDP, but its newest valid certificate \(serial $S_YA\) names CN=Yatsushiro-shi CRLDP: RFC 5280 5.2.5, 6.3.3: .*; nothing issued$" \
	"$ON" issue --state "$O" "${RC[@]}" --batch "$B2/batch.csv" --out "$T/issued-rename"
check "... no certificate made, no results folder" \
	test "$(db "SELECT count(*) FROM certificates")" = "$N_CERTS" -a ! -e "$T/issued-rename"
# The same for the profile's repository URL, which every CRL DP carries.
cp "$T/municipalities.orig" "$M"
cp "$O/profile.yaml" "$T/profile.orig"
sed 's|^repository-url: ""|repository-url: "http://repo.example.jp/kumamoto"|' "$T/profile.orig" >"$O/profile.yaml"
ok "the new repository-url accepted (docs/profile.md)" "$ON" profile accept --state "$O" "${RC[@]}"
fails "issue under a new repository-url: exit 3 naming the field" 3 \
	"^hanko-online issue: profile.yaml: repository-url: partition 431010 \(issuing generation 1\) would be named http://repo.example.jp/kumamoto/crl/431010.crl, but its newest valid certificate \(serial [0-9A-F]+\) names no URI: .*; nothing issued$" \
	"$ON" issue --state "$O" "${RC[@]}" --batch "$B2/batch.csv" --out "$T/issued-rename"
cp "$T/profile.orig" "$O/profile.yaml"
ok "... and the profile as it was accepted again" "$ON" profile accept --state "$O" "${RC[@]}"
ok "romaji and profile as they were: the 432024 request is issued" \
	"$ON" issue --state "$O" "${RC[@]}" --batch "$B2/batch.csv" --out "$T/issued-rename"
certs_from "$T/issued-rename"
check "... its CRL DP names CN = Yatsushiro-shi CRLDP" sh -c \
	"openssl x509 -inform DER -in \"\$(ls '$T'/issued-rename/certs/*.der | head -1)\" -noout -ext crlDistributionPoints | grep -q 'CN = Yatsushiro-shi CRLDP'"
sed 's/^432024,city,,Yatsushiro-shi,/432024,city,,Yatsushiro-city,/' "$T/municipalities.orig" >"$M"
# The held partition's kept CRL damaged on disk: it cannot be signed
# again today, so it is left out with a warning, and the other partitions
# are still published (a same-day run notices the damage: set_intact).
S_HELD=$(set_of)
N_KU=$(crl_number 431010)
flip_byte "$P/crl/432024.crl" 100
fails "the kept CRL of 432024 damaged: exit 3 naming the hold and the damaged file" 3 \
	"^hanko-online publish: municipalities.csv: 432024: romaji .*; set [0-9]+ published with the other partitions.*warning: .*CPS 4-4-9: .*/crl/432024.crl: size or SHA-256 is not its MANIFEST line's: damaged, not kept: no CRL of that partition until it is signed again$" \
	pub --clock 2026-04-05T03:10:00Z
check "... a new set without crl/432024.crl; 431010's CRL number +1" sh -c \
	"[ '$(set_of)' != '$S_HELD' ] && [ ! -e '$P/crl/432024.crl' ] && [ $(crl_number 431010) = $((N_KU + 1)) ]"
check "... the new set is as its MANIFEST says" set_ok "$P"
# Without a CRL to compare with (a new repository), the CRL DP of the
# partition's newest certificate tells the same.
fails "... into a new repository: the CRL DP of its newest certificate (exit 3)" 3 \
	"^hanko-online publish: municipalities.csv: 432024: romaji \"Yatsushiro-city\": .* but the CRL DP of its newest valid certificate names CN=Yatsushiro-shi CRLDP: .*crl/432024.crl not updated \(none published before\)" \
	"$ON" publish --state "$O" --repo "$T/repo2" --clock 2026-04-05T03:00:00Z --new-repository
check "... no crl/432024.crl in it, the others there" sh -c \
	"[ ! -e '$T/repo2/crl/432024.crl' ] && [ -e '$T/repo2/crl/431010.crl' ]"
# The held partition never had a CRL there; it must not make every run of
# the day publish again (new numbers each time): the run is skipped, and
# still exits 3 naming the hold, audited again.
N_R2=$(openssl crl -inform DER -in "$T/repo2/crl/431010.crl" -noout -crlnumber)
N_HOLD=$(grep -c "	crl.hold	fail	op1@ca-online	municipalities.csv: 432024: " "$O/audit/audit.log")
fails "... a second run the same day: nothing published, exit 3 naming the hold again" 3 \
	"^hanko-online publish: municipalities.csv: 432024: romaji \"Yatsushiro-city\": .*crl/432024.crl not updated \(none published before\); nothing published \(set 1 of today stays\); warning: CPS 4-4-10" \
	"$ON" publish --state "$O" --repo "$T/repo2" --clock 2026-04-05T03:30:00Z
check "... still set 1, 431010's CRL number unchanged" sh -c \
	"[ \"\$(readlink '$T/repo2')\" = repo2.sets/1 ] &&
	 [ \"\$(openssl crl -inform DER -in '$T/repo2/crl/431010.crl' -noout -crlnumber)\" = '$N_R2' ]"
check "... audited: crl.hold fail once more, publish.skip" sh -c \
	"[ \$(grep -c '	crl.hold	fail	op1@ca-online	municipalities.csv: 432024: ' '$O/audit/audit.log') = $((N_HOLD + 1)) ] &&
	 tail -n 5 '$O/audit/audit.log' | grep -q '	publish.skip	ok	'"
cp "$T/municipalities.orig" "$M"
fails "romaji put back: published (exit 9: no ARL only)" 9 "^hanko-online publish: warning: CPS 4-4-10" \
	pub --clock 2026-04-05T04:00:00Z --now
check "... 432024's CRL number +1, its IDP the certificates' CRL DP" sh -c \
	"[ $(crl_number 432024) = $((N_YA + 1)) ] &&
	 openssl crl -inform DER -in '$P/crl/432024.crl' -noout -text | grep -q 'CN = Yatsushiro-shi CRLDP'"

# Once every certificate of a code has expired (and one CRL after the
# expiry has listed what was revoked: RFC 5280 3.3), its row may go.
fails "publish at the certificates' expiry (2029-04-02T12:00:00Z)" 9 "no imported ARL is current" \
	pub --clock 2029-04-02T12:00:00Z --now
grep -v '^432148,' "$T/municipalities.orig" >"$M"
fails "row 432148 removed after its certificate expired: published (exit 9: no ARL only)" 9 \
	"^hanko-online publish: warning: CPS 4-4-10" pub --clock 2029-04-02T12:00:01Z --now
check "... without crl/432148.crl" test ! -e "$P/crl/432148.crl"
cp "$T/municipalities.orig" "$M"

ok "the online audit log verifies (checkpoints by audit-1)" "$OFF" audit verify --state "$O"
finish

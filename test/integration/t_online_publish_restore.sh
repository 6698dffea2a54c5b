#!/usr/bin/env bash
# t_online_publish_restore.sh - publish after store.db was restored from a
# backup (docs/publish.md "Speed": the entry caches are checked against the
# store before they are used). Five residents of 431010: A revoked, the
# store backed up, B and C revoked and published (their caches now hold
# A, B, C up to seq 3); the backup restored; D and E revoked for key
# compromise, which takes seqs 2 and 3 again (AUTOINCREMENT continues from
# the backup). The next CRL must list what the store holds: A, D and E,
# not B and C (openssl crl, openssl verify -crl_check).
. "$(dirname "$0")/online.sh"
P=$T/repo
db() { sqlite3 "$O/store.db" "$1"; }
pub() { "$ON" publish --state "$O" --repo "$P" "$@"; }
# the serials on 431010's CRL, sorted
listed() { openssl crl -inform DER -in "$P/crl/431010.crl" -noout -text |
	sed -n 's/^ *Serial Number: //p' | sort | tr '\n' ' '; }
# the serials the store has revoked in 431010, sorted
revoked() { db "SELECT hex(serial) FROM certificates WHERE municipality = '431010' AND status = 'revoked'" |
	sort | tr '\n' ' '; }

B=$T/req
req_dir "$B"
{ sed -n 1p "$REQ/valid.csv"; sed -n 9,13p "$REQ/valid.csv"; } >"$B/batch.csv"
ok "issue five certificates in 431010" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/issued"
certs_from "$T/issued"
serial() { sed -n "s/^$1,ok,\([0-9A-F]*\),.*/\1/p" "$T/issued/results.csv"; }
SA=$(serial 2); SB=$(serial 3); SC=$(serial 4); SD=$(serial 5); SE=$(serial 6)
check "... all five in 431010" test "$(db "SELECT count(*) FROM certificates WHERE municipality = '431010'")" = 5

ok "revoke A (superseded)" "$ON" revoke --state "$O" --clock 2026-04-03T01:00:00Z --serial "$SA" --reason superseded
ok "back up store.db (sqlite3 .backup)" sqlite3 "$O/store.db" ".backup $T/backup.db"
ok "revoke B (superseded)" "$ON" revoke --state "$O" --clock 2026-04-03T02:00:00Z --serial "$SB" --reason superseded
ok "revoke C (superseded)" "$ON" revoke --state "$O" --clock 2026-04-03T02:00:00Z --serial "$SC" --reason superseded
fails "publish (no ARL imported: exit 9)" 9 "no imported ARL is current" pub --clock 2026-04-03T03:00:00Z
check "431010's CRL lists A, B and C" test "$(listed)" = "$(printf '%s\n' "$SA" "$SB" "$SC" | sort | tr '\n' ' ')"
check "... its cache header is at seq 3" grep -qx "seq 3" "$O/crlcache/431010.head"

# The store restored from the backup; the state folder otherwise as is.
cp "$T/backup.db" "$O/store.db"
rm -f "$O/store.db-wal" "$O/store.db-shm"
check "restored: the store has A's revocation only" test "$(revoked)" = "$SA "
ok "revoke D (key compromise)" "$ON" revoke --state "$O" --clock 2026-04-04T01:00:00Z --serial "$SD" --reason key-compromise
ok "revoke E (key compromise)" "$ON" revoke --state "$O" --clock 2026-04-04T01:00:00Z --serial "$SE" --reason key-compromise
check "... D and E took seqs 2 and 3 again (the cache's seq is not ahead of the store)" \
	test "$(db "SELECT seq FROM crl_entries ORDER BY seq" | tr '\n' ' ')" = "1 2 3 "

fails "publish after the restore (exit 9: no ARL)" 9 "no imported ARL is current" pub --clock 2026-04-04T03:00:00Z
check "... every cache rebuilt from the store" grep -q "(3 entries, $(awk -F, '$6 == "yes"' "$O/municipalities.csv" | wc -l) caches rebuilt)" "$HANKO_TMP/out"
check "431010's CRL lists what the store has revoked: A, D and E" test "$(listed)" = "$(revoked)"
check "... not B or C" sh -c "! openssl crl -inform DER -in '$P/crl/431010.crl' -noout -text | grep -Eq '$SB|$SC'"
check "... D with reason Key Compromise" sh -c \
	"openssl crl -inform DER -in '$P/crl/431010.crl' -noout -text | grep -A4 '$SD' | grep -q 'Key Compromise'"
check "... it verifies with the issuing CA (openssl crl -verify)" sh -c \
	"openssl crl -inform DER -in '$P/crl/431010.crl' -CAfile '$ISS' -noout -verify 2>&1 | grep -qx 'verify OK'"
cat "$R" "$ISS" >"$T/chain.pem"
openssl crl -inform DER -in "$P/crl/431010.crl" -out "$T/431010.crl.pem"
AT=(-attime "$(date -u -d 2026-04-04T04:00:00Z +%s)")
for s in "$SB" "$SE"; do openssl x509 -inform DER -in "$T/issued/certs/$s.der" -out "$T/$s.pem"; done
openssl verify "${AT[@]}" -crl_check -CAfile "$T/chain.pem" -CRLfile "$T/431010.crl.pem" "$T/$SE.pem" >"$T/v1" 2>&1 || true
check "openssl verify -crl_check: E is revoked" grep -q "certificate revoked" "$T/v1"
ok "openssl verify -crl_check: B (valid in the restored store) passes" \
	openssl verify "${AT[@]}" -crl_check -CAfile "$T/chain.pem" -CRLfile "$T/431010.crl.pem" "$T/$SB.pem"
check "audit: 431010's cache rebuilt" grep -q "	crl.publish	ok	op1@ca-online	partition 431010 .*entries 3 (cache rebuilt)" "$O/audit/audit.log"

# From then on the caches are used again: a new revocation is appended.
ok "revoke B again (cessation of operation)" "$ON" revoke --state "$O" --clock 2026-04-05T01:00:00Z --serial "$SB" \
	--reason cessation-of-operation
fails "the next daily run (exit 9: no ARL)" 9 "no imported ARL is current" pub --clock 2026-04-05T03:00:00Z
check "... appended: no cache rebuilt" grep -q "(4 entries, 0 caches rebuilt)" "$HANKO_TMP/out"
check "... 431010's CRL lists A, D, E and B" test "$(listed)" = "$(revoked)" -a "$(revoked | wc -w)" = 4

ok "the online audit log verifies (checkpoints by audit-1)" "$OFF" audit verify --state "$O"
finish

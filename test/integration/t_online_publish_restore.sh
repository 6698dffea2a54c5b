#!/usr/bin/env bash
# t_online_publish_restore.sh - publish after store.db was restored from a
# backup (docs/publish.md "Speed": the entry caches are checked against the
# store before they are used; "Never un-revoked": CPS 4-4). Seven residents
# of 431010: A revoked, the store backed up; H issued (a second batch) and
# revoked, B and C revoked, all published (their caches now hold A, H, B, C
# up to seq 4); the backup restored; D and E revoked for key compromise,
# which takes seqs 2 and 3 again (AUTOINCREMENT continues from the backup).
# A CRL of what the store holds (A, D, E) would drop H, B and C, which
# relying parties hold revoked: publish refuses, daily or --now, nothing
# published (exit 3, naming the file, a serial, its reason and date, and
# the way out: H's batch recovered first, then recover --revocations).
# Once both are done, the CRL lists A to E and H (openssl crl, openssl
# verify -crl_check).
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
{ sed -n 1p "$REQ/valid.csv"; sed -n 9,15p "$REQ/valid.csv"; } >"$B/batch.csv"
ok "issue seven certificates in 431010" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/issued"
certs_from "$T/issued"
serial() { sed -n "s/^$1,ok,\([0-9A-F]*\),.*/\1/p" "$T/issued/results.csv"; }
SA=$(serial 2); SB=$(serial 3); SC=$(serial 4); SD=$(serial 5); SE=$(serial 6); SF=$(serial 7); SG=$(serial 8)
check "... all seven in 431010" test "$(db "SELECT count(*) FROM certificates WHERE municipality = '431010'")" = 7

ok "revoke A (superseded)" "$ON" revoke --state "$O" --clock 2026-04-03T01:00:00Z --serial "$SA" --reason superseded
ok "back up store.db (sqlite3 .backup)" sqlite3 "$O/store.db" ".backup $T/backup.db"
{ sed -n 1p "$REQ/valid.csv"; sed -n 16p "$REQ/valid.csv"; } >"$B/batch2.csv"
ok "issue H after the backup" "$ON" issue --state "$O" --clock 2026-04-03T01:10:00Z --batch "$B/batch2.csv" --out "$T/issued2"
SH=$(sed -n "s/^2,ok,\([0-9A-F]*\),.*/\1/p" "$T/issued2/results.csv")
ok "revoke H (key compromise)" "$ON" revoke --state "$O" --clock 2026-04-03T01:30:00Z --serial "$SH" --reason key-compromise
ok "revoke B (superseded)" "$ON" revoke --state "$O" --clock 2026-04-03T02:00:00Z --serial "$SB" --reason superseded
ok "revoke C (superseded)" "$ON" revoke --state "$O" --clock 2026-04-03T02:00:00Z --serial "$SC" --reason superseded
fails "publish (no ARL imported: exit 9)" 9 "no imported ARL is current" pub --clock 2026-04-03T03:00:00Z
check "431010's CRL lists A, H, B and C" test "$(listed)" = "$(printf '%s\n' "$SA" "$SH" "$SB" "$SC" | sort | tr '\n' ' ')"
check "... its cache header is at seq 4" grep -qx "seq 4" "$O/crlcache/431010.head"

# The store restored from the backup; the state folder otherwise as is.
cp "$T/backup.db" "$O/store.db"
rm -f "$O/store.db-wal" "$O/store.db-shm"
check "restored: the store has A's revocation only" test "$(revoked)" = "$SA "
ok "revoke D (key compromise)" "$ON" revoke --state "$O" --clock 2026-04-04T01:00:00Z --serial "$SD" --reason key-compromise
ok "revoke E (key compromise)" "$ON" revoke --state "$O" --clock 2026-04-04T01:00:00Z --serial "$SE" --reason key-compromise
check "... D and E took seqs 2 and 3 again (the cache's seq is not ahead of the store)" \
	test "$(db "SELECT seq FROM crl_entries ORDER BY seq" | tr '\n' ' ')" = "1 2 3 "

# CPS 4-4: H, B and C are on the CRL relying parties hold (set 1); the CRL
# of the restored store would show them valid again. H, the first in the
# CRL's order, is not in the store at all (issued after the backup).
cp "$P/crl/431010.crl" "$T/set1.crl"
UNREV="^hanko-online publish: partition 431010 \(Kumamoto-shi Chuo-ku, issuing generation 1\): crl/431010\.crl \(number 1, set 1, out\) lists serial $SH revoked at 2026-04-03T01:30:00Z, reasonCode 1 \(key-compromise\), which the CRL made now would drop: the store does not hold its certificate \(issued after the store's backup: recover its batch first, then the log's revocations with hanko-online recover --revocations, docs/backup\.md \"Restore\" step 9\); 3 such serials: CPS 4-4: a revocation is never undone; nothing published$"
fails "publish after the restore: refused, H, B and C would be dropped (exit 3)" 3 "$UNREV" pub --clock 2026-04-04T03:00:00Z
check "... nothing published: set 1 stays, its CRL as it was" sh -c \
	"[ \"\$(readlink '$P')\" = repo.sets/1 ] && cmp -s '$P/crl/431010.crl' '$T/set1.crl' && [ ! -e '$T/repo.sets/2' ]"
check "... the store took no number (the backup's: none yet)" test "$(db "SELECT count(*) FROM crl_numbers WHERE partition = '431010'")" = 0
check "... audited: publish.done fail, naming the serial" grep -q \
	"	publish.done	fail	op1@ca-online	partition 431010 .*lists serial $SH .*nothing published" "$O/audit/audit.log"
fails "publish --now after the restore: refused the same way (exit 3)" 3 "$UNREV" pub --clock 2026-04-04T03:10:00Z --now
check "... nothing published" sh -c "[ \"\$(readlink '$P')\" = repo.sets/1 ] && cmp -s '$P/crl/431010.crl' '$T/set1.crl'"

# docs/backup.md "Restore" step 9: H's batch recovered (H back valid: its
# revocation is the log's), then the log's revocations redone, at their
# records' times and with their reasons (the entries relying parties hold)
ok "recover H's batch" "$ON" recover --state "$O" --clock 2026-04-04T03:15:00Z --batch "$B/batch2.csv" --results "$T/issued2/results.csv"
UNREV2="^hanko-online publish: partition 431010 \(Kumamoto-shi Chuo-ku, issuing generation 1\): crl/431010\.crl \(number 1, set 1, out\) lists serial $SH revoked at 2026-04-03T01:30:00Z, reasonCode 1 \(key-compromise\), which the CRL made now would drop: its certificate is valid until [0-9TZ:-]* and the store holds it not revoked \(restored from a backup taken before the revocation: redo the log's revocations with hanko-online recover --revocations, docs/backup\.md \"Restore\" step 9\); 3 such serials: CPS 4-4: a revocation is never undone; nothing published$"
fails "publish --now before recover --revocations: refused, H named as held valid (exit 3)" 3 "$UNREV2" pub --clock 2026-04-04T03:16:00Z --now
ok "recover --revocations: H, B and C redone from the audit log" "$ON" recover --state "$O" --revocations --clock 2026-04-04T03:20:00Z
check "... the store has A to E and H revoked" test "$(revoked | wc -w)" = 6
fails "publish after the recovery (exit 9: no ARL)" 9 "no imported ARL is current" pub --clock 2026-04-04T03:30:00Z
check "... set 2" test "$(readlink "$P")" = repo.sets/2
check "431010's CRL lists what the store has revoked: A to E and H" test "$(listed)" = "$(revoked)"
check "... H, B and C as set 1 listed them (same date and reason)" sh -c \
	"for s in '$SH' '$SB' '$SC'; do openssl crl -inform DER -in '$T/set1.crl' -noout -text | grep -A4 \"Serial Number: \$s\" >'$T/e1';
	 openssl crl -inform DER -in '$P/crl/431010.crl' -noout -text | grep -A4 \"Serial Number: \$s\" >'$T/e2'; cmp -s '$T/e1' '$T/e2' || exit 1; done"
check "... D with reason Key Compromise" sh -c \
	"openssl crl -inform DER -in '$P/crl/431010.crl' -noout -text | grep -A4 '$SD' | grep -q 'Key Compromise'"
check "... it verifies with the issuing CA (openssl crl -verify)" sh -c \
	"openssl crl -inform DER -in '$P/crl/431010.crl' -CAfile '$ISS' -noout -verify 2>&1 | grep -qx 'verify OK'"
cat "$R" "$ISS" >"$T/chain.pem"
openssl crl -inform DER -in "$P/crl/431010.crl" -out "$T/431010.crl.pem"
AT=(-attime "$(date -u -d 2026-04-04T04:00:00Z +%s)")
for s in "$SB" "$SE"; do
	openssl x509 -inform DER -in "$T/issued/certs/$s.der" -out "$T/$s.pem"
	openssl verify "${AT[@]}" -crl_check -CAfile "$T/chain.pem" -CRLfile "$T/431010.crl.pem" "$T/$s.pem" >"$T/v-$s" 2>&1 || true
done
check "openssl verify -crl_check: E is revoked" grep -q "certificate revoked" "$T/v-$SE"
check "openssl verify -crl_check: B is revoked (as set 1 said)" grep -q "certificate revoked" "$T/v-$SB"
check "audit: 431010 published with 6 entries" grep -q "	crl.publish	ok	op1@ca-online	partition 431010 .*entries 6" "$O/audit/audit.log"

# From then on the caches are used again: a new revocation is appended.
ok "revoke F (cessation of operation)" "$ON" revoke --state "$O" --clock 2026-04-05T01:00:00Z --serial "$SF" \
	--reason cessation-of-operation
fails "the next daily run (exit 9: no ARL)" 9 "no imported ARL is current" pub --clock 2026-04-05T03:00:00Z
check "... appended: no cache rebuilt" grep -q "(7 entries, 0 caches rebuilt)" "$HANKO_TMP/out"
check "... 431010's CRL lists A to F and H" test "$(listed)" = "$(revoked)" -a "$(revoked | wc -w)" = 7


# The machine lost with its repository (docs/backup.md "Restore" step 10,
# docs/publish.md "Numbers"): the store restored from a backup taken after
# the 04-05 publication; G revoked and published after it (relying parties
# hold that CRL, number N + 1, listing G); then a new repository. The
# restored store's numbers are N: without being told, publish numbered
# CRLs N + 1 again, without G (RFC 5280 5.2.3).
N=$(db "SELECT number FROM crl_numbers WHERE partition = '431010'")
ok "back up store.db after the 04-05 publication (431010 at number $N)" sqlite3 "$O/store.db" ".backup $T/backup2.db"
ok "revoke G (key compromise)" "$ON" revoke --state "$O" --clock 2026-04-05T05:00:00Z --serial "$SG" --reason key-compromise
fails "publish --now (exit 9: no ARL)" 9 "no imported ARL is current" pub --clock 2026-04-05T06:00:00Z --now
mkdir -p "$T/held" "$T/bad/crl"
cp -rL "$P/crl" "$T/held/"
cp "$P/crl/431028.crl" "$T/bad/crl/431010.crl"
check "... relying parties hold 431010's CRL number $((N + 1)), listing G" sh -c \
	"openssl crl -inform DER -in '$T/held/crl/431010.crl' -noout -crlnumber | grep -qx 'crlNumber=0x0*$(printf %X $((N + 1)))' &&
	 openssl crl -inform DER -in '$T/held/crl/431010.crl' -noout -text | grep -q '$SG'"
rm -rf "$P" "$T/repo.sets" "$O/crlcache"
cp "$T/backup2.db" "$O/store.db"
rm -f "$O/store.db-wal" "$O/store.db-shm"
fails "the machine rebuilt: publish into a new repository is refused, naming the store's number (exit 3)" 3 \
	"^hanko-online publish: $T/new: no published set, but the store numbered CRLs before \\(partition [0-9]*: number [0-9]*\\): .*RFC 5280 5.2.3.*--numbers-above DIR, or --new-repository .*nothing published" \
	"$ON" publish --state "$O" --repo "$T/new" --clock 2026-04-06T01:00:00Z
check "... nothing written" test ! -e "$T/new" -a ! -e "$T/new.sets"
fails "--numbers-above and --new-repository together: usage (exit 2)" 2 "one or the other" \
	"$ON" publish --state "$O" --repo "$T/new" --numbers-above "$T/held" --new-repository
fails "--numbers-above a CRL of another partition under 431010's name: refused naming it (exit 3)" 3 \
	"^hanko-online publish: $T/bad/crl/431010.crl: not the CRL of partition 431010 \\(its issuingDistributionPoint is not [^']*'s; --numbers-above\\)\$" \
	"$ON" publish --state "$O" --repo "$T/new" --clock 2026-04-06T01:00:00Z --numbers-above "$T/bad"
cp "$T/held/crl/431010.crl" "$T/bad/crl/431010.crl"
printf 'x' >>"$T/bad/crl/431010.crl"
fails "--numbers-above a CRL with a byte after it: refused naming it (exit 3)" 3 \
	"^hanko-online publish: $T/bad/crl/431010.crl: not one DER CRL \\(--numbers-above\\)\$" \
	"$ON" publish --state "$O" --repo "$T/new" --clock 2026-04-06T01:00:00Z --numbers-above "$T/bad"
fails "--numbers-above the CRLs relying parties hold: G's revocation, lost with the store, named (exit 3)" 3 \
	"^hanko-online publish: $T/held/crl/431010.crl \\(number $((N + 1))\\) lists serial $SG revoked at 2026-04-05T05:00:00Z, reasonCode 1, which the store holds not revoked; 1 such serial: .*nothing published" \
	"$ON" publish --state "$O" --repo "$T/new" --clock 2026-04-06T01:00:00Z --numbers-above "$T/held"
check "... nothing written" test ! -e "$T/new" -a ! -e "$T/new.sets"
check "... and says how: --take-revocations, or revoke dated now" grep -q \
	"take those the store holds valid with --take-revocations (their dates and reasons as the CRL says), or redo each with hanko-online revoke" "$HANKO_TMP/err"
fails "--take-revocations without --numbers-above: usage (exit 2)" 2 "^hanko-online publish: --take-revocations: only with --numbers-above DIR" \
	"$ON" publish --state "$O" --repo "$T/new" --take-revocations
# G's revocation taken from the CRL relying parties hold, at its date and
# with its reason (RFC 5280 5.3.2): a revoke now would date a key
# compromise a day later than the CRL they hold says.
fails "--numbers-above --take-revocations: G taken, published (exit 9: no ARL)" 9 "no imported ARL is current" \
	"$ON" publish --state "$O" --repo "$T/new" --clock 2026-04-06T03:00:00Z --numbers-above "$T/held" --take-revocations
check "... said: G revoked reason 1 at 2026-04-05T05:00:00Z, taken from the CRL" grep -q \
	"^serial $SG (municipality 431010): revoked reason 1 (key-compromise) at 2026-04-05T05:00:00Z, taken from $T/held/crl/431010.crl (number $((N + 1)))\$" "$HANKO_TMP/out"
check "... the store: G revoked, reason 1, at 2026-04-05T05:00:00Z" test \
	"$(db "SELECT status || ' ' || reason || ' ' || datetime(revoked_at, 'unixepoch') FROM certificates WHERE hex(serial) = '$SG'")" = "revoked 1 2026-04-05 05:00:00"
check "... audited: cert.revoke, taken from the CRL relying parties hold" grep -q \
	"	cert.revoke	ok	op1@ca-online	serial $SG: municipality 431010, reason 1 (key-compromise); revoked at 2026-04-05T05:00:00Z, taken from $T/held/crl/431010.crl (CRL number $((N + 1)) of partition 431010" "$O/audit/audit.log"
check "... the new CRL dates G's revocation as the one relying parties hold" sh -c \
	"openssl crl -inform DER -in '$T/new/crl/431010.crl' -noout -text | grep -A1 'Serial Number: $SG' | grep -q 'Revocation Date: Apr  5 05:00:00 2026 GMT'"
check "... 431010's CRL is number $((N + 2)), above the one relying parties hold" sh -c \
	"openssl crl -inform DER -in '$T/new/crl/431010.crl' -noout -crlnumber | grep -qx 'crlNumber=0x0*$(printf %X $((N + 2)))'"
check "... it lists G" sh -c "openssl crl -inform DER -in '$T/new/crl/431010.crl' -noout -text | grep -q '$SG'"
check "... the store took the number" test "$(db "SELECT number FROM crl_numbers WHERE partition = '431010'")" = $((N + 2))
fails "another new repository with --new-repository: the store's numbers continue (exit 9: no ARL)" 9 \
	"no imported ARL is current" "$ON" publish --state "$O" --repo "$T/new2" --clock 2026-04-06T04:00:00Z --new-repository
check "... 431010's CRL is number $((N + 3))" sh -c \
	"openssl crl -inform DER -in '$T/new2/crl/431010.crl' -noout -crlnumber | grep -qx 'crlNumber=0x0*$(printf %X $((N + 3)))'"

ok "the online audit log verifies (checkpoints by audit-1)" "$OFF" audit verify --state "$O"
finish

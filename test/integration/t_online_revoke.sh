#!/usr/bin/env bash
# t_online_revoke.sh - revocation rules (issue 5 items 4 and 8): "hanko-online
# check" finds a double issuance in a store altered outside hanko and revokes
# the newer certificate (CPS 4-2-3, reason 5), restores the dropped index,
# reports damaged certificates and stale reservations; then "hanko-online
# revoke --issuing-key-compromise" (CPS 4-4-1-3, 4-14-2) revokes exactly the
# valid certificates of issuing generation 1 with cACompromise(2), keeps the
# reason of one revoked earlier, voids the pending one, refuses a wrong
# confirmation count without changing anything, and finds nothing the second
# time. CRL entries are decoded with openssl asn1parse.
. "$(dirname "$0")/online.sh"
# entry SERIAL: the stored CRL entry of SERIAL, as openssl asn1parse shows it
entry() {
	db "SELECT hex(entry) FROM crl_entries WHERE hex(serial) = '$1'" | xxd -r -p >"$T/entry.der"
	openssl asn1parse -inform DER -in "$T/entry.der" || true
}

B=$T/req
req_dir "$B"
six_residents "$B/batch1.csv"
ok "issue six residents (lines 2-7)" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch1.csv" --out "$T/out1"
L() { sed -n "s/^$1,ok,\([0-9A-F]*\),.*/\1/p" "$T/out1/results.csv"; }
L2=$(L 2) L3=$(L 3) L5=$(L 5) L6=$(L 6) L7=$(L 7)
check "six serials" test -n "$L2" -a -n "$L3" -a -n "$L5" -a -n "$L6" -a -n "$L7"

# check on a consistent store (DESIGN.md 7), at a clock while the
# certificates are valid (an expired one is no double issuance): the first
# one an hour after the issuance, before the second issuance (the clock
# guard, docs/clock.md: the test's time goes forward); the later ones at CK
CK=(--clock 2026-04-04T09:00:00Z)
ok "check: a fresh store is consistent" "$ON" check --state "$O" --clock 2026-04-02T13:00:00Z
check "... and says so" grep -q "^Store consistent: 6 valid certificates checked" "$T/out"
fails "check: --pending-age not a number" 2 "--pending-age x: seconds" "$ON" check --state "$O" --pending-age x

# A double issuance (CPS 4-2-3): a second resident issued later, then the
# store altered outside hanko (the one-live index and two triggers dropped) so
# that the certificate becomes the resident of line 3's.
{ sed -n 1p "$B/batch1.csv"
  echo "431010,70000000007,熊本　次郎,00000,319750301,1,熊本県熊本市中央区水前寺６丁目１８番１号,00000000000000000000,keys/resident-2.pub.pem"
} >"$B/batch2.csv"
ok "issue one more resident a day later" "$ON" issue --state "$O" --clock 2026-04-03T12:00:00Z --batch "$B/batch2.csv" --out "$T/out2"
SX=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/out2/results.csv")
ok "alter the store outside hanko (sqlite3)" sqlite3 "$O/store.db" "DROP INDEX certificates_one_live; DROP TRIGGER certificates_fixed;
	DROP TRIGGER certificates_transition; UPDATE certificates SET resident_key = (SELECT resident_key FROM certificates WHERE hex(serial) = '$L3') WHERE hex(serial) = '$SX'"
check "... the resident of line 3 now has two valid certificates" test \
	"$(db "SELECT count(*) FROM certificates WHERE status = 'valid' AND resident_key = (SELECT resident_key FROM certificates WHERE hex(serial) = '$L3')")" = 2
cp "$O/store.db" "$T/before.db"
fails "check --dry-run: the double issuance found, nothing changed" 1 "4 findings, 0 fixed \(dry run: nothing changed\)" \
	"$ON" check --state "$O" "${CK[@]}" --dry-run
check "... one line each: the double, the index, two triggers" test "$(wc -l <"$T/out")" = 4
check "... the newer one would be revoked, reason 5" grep -q "^double: resident [0-9a-f]\{8\}: CPS 4-2-3: serial $SX (municipality 431010, issued 2026-04-03T12:00:00Z) would be revoked reason 5 (cessation-of-operation); serial $L3 (issued 2026-04-02T12:00:00Z) kept$" "$T/out"
check "... the index would be re-created" grep -q "^schema: index certificates_one_live: missing; would be re-created" "$T/out"
check "... the store unchanged" test "$(sqlite3 "$T/before.db" .dump | sha256sum)" = "$(db .dump | sha256sum)"
fails "check: the newer certificate revoked" 1 "4 findings, 4 fixed$" "$ON" check --state "$O" "${CK[@]}"
check "... the double issuance line says revoked" grep -q "^double: .*serial $SX .* revoked reason 5 (cessation-of-operation); serial $L3 .* kept$" "$T/out"
check "... the newer one revoked, cessationOfOperation" test "$(db "SELECT status, reason FROM certificates WHERE hex(serial) = '$SX'")" = "revoked|5"
check "... the older one still valid" test "$(db "SELECT status FROM certificates WHERE hex(serial) = '$L3'")" = valid
entry "$SX" >"$T/asn1"
check "... its CRL entry (openssl asn1parse): the serial and reasonCode 05" sh -c \
	"grep -q 'INTEGER *:$SX' '$T/asn1' && grep -q 'OBJECT *:X509v3 CRL Reason Code' '$T/asn1' && \
	 openssl asn1parse -inform DER -in '$T/entry.der' -strparse \$(grep -A1 'CRL Reason Code' '$T/asn1' | tail -1 | cut -d: -f1 | tr -d ' ') | grep -q 'ENUMERATED *:05'"
check "... the index and the triggers are back" test "$(db "SELECT count(*) FROM sqlite_master WHERE name IN ('certificates_one_live', 'certificates_fixed', 'certificates_transition')")" = 3
check "... audited: the revocation and the check" sh -c "grep -q '	cert.revoke	ok	.*serial $SX: .*CPS 4-2-3 double issuance' '$O/audit/audit.log' && \
	grep -q '	store.check	fail	.*4 findings, 4 fixed' '$O/audit/audit.log'"
check "... the audit record names no resident identifier" sh -c "! grep -q 70000000007 '$O/audit/audit.log'"
ok "check again: consistent" "$ON" check --state "$O" "${CK[@]}"

# A damaged page (on a copy of the state): SQLite's integrity_check names it,
# nothing is fixed or written, the operators restore the backup.
state_copy "$O" "$T/dmg"
sqlite3 "$T/dmg/store.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
PSZ=$(sqlite3 "$T/dmg/store.db" "PRAGMA page_size")
PG=$(sqlite3 "$T/dmg/store.db" "SELECT rootpage FROM sqlite_master WHERE name = 'certificates_partition'")
dd if=/dev/zero of="$T/dmg/store.db" bs=1 seek=$(((PG - 1) * PSZ + 8)) count=64 conv=notrunc status=none
SUM=$(sha256sum <"$T/dmg/store.db")
fails "check: a damaged index page is named, nothing fixed" 1 "findings, 0 fixed$" "$ON" check --state "$T/dmg" "${CK[@]}"
check "... the problem named as SQLite's integrity_check gives it" grep -q "^pages: " "$T/out"
check "... and the advice: restore the backup" grep -q "^pages: the file is damaged: nothing fixed, nothing more checked; restore the store from its backup" "$T/out"
check "... the store file not written" test "$(sha256sum <"$T/dmg/store.db")" = "$SUM"

# Damaged certificates and a stale reservation: reported, not changed. One
# of them keeps its values but not its bytes: the serialNumber's length
# re-encoded in long form (81 14), which OpenSSL still decodes, while the
# signature no longer covers the bytes (a re-encoding would hide it).
db "SELECT hex(der) FROM certificates WHERE hex(serial) = '$L3'" | xxd -r -p >"$T/l3.der"
python3 - "$T/l3.der" "$T/l3-ber.der" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
def head(b, i):	# tag, length, start of contents
	if b[i + 1] < 0x80:
		return b[i], b[i + 1], i + 2
	n = b[i + 1] & 0x7f
	return b[i], int.from_bytes(b[i + 2:i + 2 + n], 'big'), i + 2 + n
def length(n, long_form=False):
	if n < 0x80 and not long_form:
		return bytes([n])
	v = n.to_bytes((n.bit_length() + 7) // 8, 'big')
	return bytes([0x80 | len(v)]) + v
t, l, p = head(d, 0)
tt, tl, tp = head(d, p)
tbs, rest = d[tp:tp + tl], d[tp + tl:]
vt, vl, vp = head(tbs, 0)			# [0] version
st, sl, sp = head(tbs, vp + vl)		# serialNumber
tbs = tbs[:vp + vl] + bytes([st]) + length(sl, True) + tbs[sp:]
inner = bytes([tt]) + length(len(tbs)) + tbs + rest
open(sys.argv[2], 'wb').write(bytes([t]) + length(len(inner)) + inner)
PY
check "the re-encoded one: openssl reads the same serial, and its signature fails" sh -c \
	"openssl x509 -inform DER -in '$T/l3-ber.der' -noout -serial | grep -q '=$L3\$' && \
	 ! openssl verify -partial_chain -attime $(date -u -d 2026-04-04T09:00:00Z +%s) -trusted '$ISS' '$T/l3-ber.der' >/dev/null 2>&1 && \
	 openssl x509 -inform DER -in '$T/l3.der' -out '$T/l3.pem' && \
	 openssl verify -partial_chain -attime $(date -u -d 2026-04-04T09:00:00Z +%s) -trusted '$ISS' '$T/l3.pem' >/dev/null"
ok "damage three certificates and leave a reservation (sqlite3)" sqlite3 "$O/store.db" "DROP TRIGGER certificates_fixed;
	DROP TRIGGER certificates_transition;
	UPDATE certificates SET der = x'$(xxd -p "$T/l3-ber.der" | tr -d '\n')' WHERE hex(serial) = '$L3';
	UPDATE certificates SET der = (SELECT der FROM certificates WHERE hex(serial) = '$L6') WHERE hex(serial) = '$L7';
	UPDATE certificates SET der = x'3003020101' WHERE hex(serial) = '$L5';
	INSERT INTO serials VALUES (x'7F01', CAST(strftime('%s', 'now') AS INTEGER) - 7200);
	INSERT INTO certificates (serial, municipality, resident_key, status, not_before, not_after, issuer, tbs)
	  SELECT x'7F01', '431010', randomblob(32), 'pending', not_before, not_after, issuer, tbs FROM certificates WHERE hex(serial) = '$L2'"
fails "check: six findings, the triggers re-created" 1 "6 findings, 2 fixed$" "$ON" check --state "$O" "${CK[@]}"
check "... six lines" test "$(wc -l <"$T/out")" = 6
check "... a DER re-encoded (its TBSCertificate's bytes are not the ones recorded)" grep -q "^certificate: serial $L3 (municipality [0-9]*): der: its TBSCertificate is not the one recorded before signing" "$T/out"
check "... a DER that does not parse" grep -q "^certificate: serial $L5 (municipality [0-9]*): der: does not parse as an X.509 certificate; not changed" "$T/out"
check "... a DER of another serial" grep -q "^certificate: serial $L7 (municipality [0-9]*): der: its serialNumber is not the row's serial" "$T/out"
check "... the stale reservation" grep -q "^pending: serial 7F01 (municipality 431010): reserved [0-9T:-]*Z and never completed; recovered by hanko-online issue" "$T/out"
check "... the triggers re-created" test "$(grep -c "^schema: trigger certificates_[a-z]*: missing; re-created" "$T/out")" = 2
fails "check: a reservation younger than --pending-age is no finding" 1 "3 findings, 0 fixed$" \
	"$ON" check --state "$O" "${CK[@]}" --pending-age 10800

# Issuing-key compromise (CPS 4-4-1-3): one certificate revoked by hand first.
RC=(--clock 2026-05-01T09:00:00Z)
CC=(--clock 2026-05-02T09:00:00Z)
ok "revoke line 2 by hand: key-compromise" "$ON" revoke --state "$O" "${RC[@]}" --serial "$L2" --reason key-compromise
fails "compromise: no confirmation" 2 "either --yes-revoke-all COUNT or --dry-run" \
	"$ON" revoke --state "$O" --issuing-key-compromise --generation 1
fails "compromise: a --reason is refused" 2 "the reason is always ca-compromise" \
	"$ON" revoke --state "$O" --issuing-key-compromise --generation 1 --reason 1 --dry-run
fails "compromise: generation 0" 2 "--generation 0: an issuing generation 1-999" \
	"$ON" revoke --state "$O" --issuing-key-compromise --generation 0 --dry-run
fails "compromise: a count that is not a number" 2 "--yes-revoke-all 5x: the count" \
	"$ON" revoke --state "$O" --issuing-key-compromise --generation 1 --yes-revoke-all 5x
fails "--yes-revoke-all without --issuing-key-compromise" 2 "belong to --issuing-key-compromise" \
	"$ON" revoke --state "$O" --serial "$L3" --reason 4 --yes-revoke-all 5
fails "compromise: generation 2 was never imported" 3 "--generation 2: no issuing CA certificate of this generation" \
	"$ON" revoke --state "$O" --issuing-key-compromise --generation 2 --dry-run
KID=$(openssl x509 -in "$ISS" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f)
ok "compromise --dry-run: the count" "$ON" revoke --state "$O" "${CC[@]}" --issuing-key-compromise --generation 1 --dry-run
check "... 5 valid and 1 pending under the key openssl names" grep -q "^Issuing generation 1 (key id $KID): 5 valid and 1 pending certificates; nothing changed" "$T/out"
cp "$O/store.db" "$T/before.db"
fails "compromise: a wrong count refuses" 3 "--yes-revoke-all 6: CPS 4-4-1-3: issuing generation 1 has 5 valid certificates, not 6; nothing revoked" \
	"$ON" revoke --state "$O" "${CC[@]}" --issuing-key-compromise --generation 1 --yes-revoke-all 6
check "... the store unchanged" test "$(sqlite3 "$T/before.db" .dump | sha256sum)" = "$(db .dump | sha256sum)"
check "... the refusal audited" grep -q "	cert.revoke-all	fail	.*not 6; nothing revoked" "$O/audit/audit.log"
check "... the generation not marked" sh -c "! grep -q 'issuing.1.compromised' '$O/state.conf'"
# An issue run holds the issuance lock: it would go on signing under the key
# and move the count, so the operators stop it first; nothing revoked or
# marked meanwhile.
flock -x "$O" sleep 60 &
LP=$!
for i in $(seq 1 3000); do flock -n -x "$O" true 2>/dev/null || break; sleep 0.02; done
fails "compromise while an issue run holds the state: refused" 3 "a hanko-online issue is running on this state: stop it first" \
	"$ON" revoke --state "$O" "${CC[@]}" --issuing-key-compromise --generation 1 --yes-revoke-all 5
pkill -P "$LP" sleep 2>/dev/null || true; kill "$LP" 2>/dev/null || true; wait "$LP" 2>/dev/null || true
check "... the store unchanged, the generation not marked" sh -c \
	"test \"\$(sqlite3 '$T/before.db' .dump | sha256sum)\" = \"\$(sqlite3 '$O/store.db' .dump | sha256sum)\" && ! grep -q 'issuing.1.compromised' '$O/state.conf'"
# The mark comes before the revocations: when they fail (a trigger injected
# here refuses them), issuance is stopped all the same, nothing revoked.
# Also for an issue run that read state.conf before the mark and takes the
# issuance lock only after the compromise run (pauseflock.so holds it
# between the two, the moment of a race): it must see the mark.
{ sed -n 1p "$B/batch1.csv"
  echo "431010,70000000008,熊本　三郎,00000,319750301,1,熊本県熊本市中央区水前寺６丁目１８番１号,00000000000000000000,keys/resident-2.pub.pem"
} >"$B/batch3.csv"
cc -shared -fPIC -o "$T/pauseflock.so" "$HANKO_SRC/test/data/online/pauseflock.c" -ldl
NCERT=$(db "SELECT count(*) FROM certificates")
env HK_PAUSE_FLOCK="$T/race" LD_PRELOAD="$T/pauseflock.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$ON" issue --state "$O" "${CC[@]}" --batch "$B/batch3.csv" --out "$T/out-race" >"$T/race.out" 2>"$T/race.err" &
RP=$!
for i in $(seq 1 3000); do [ -e "$T/race.reached" ] && break; sleep 0.02; done
check "an issue run has read state.conf (no mark yet) and waits before the issuance lock" test -e "$T/race.reached"
db "CREATE TRIGGER inject BEFORE UPDATE ON certificates WHEN NEW.status = 'revoked' BEGIN SELECT RAISE(ABORT, 'injected'); END;"
fails "compromise: the revocations fail after the mark" 3 "injected" \
	"$ON" revoke --state "$O" "${CC[@]}" --issuing-key-compromise --generation 1 --yes-revoke-all 5
touch "$T/race.go"
rc=0; wait "$RP" || rc=$?
check "... the issue run that read state.conf before the mark is refused once it holds the lock (exit 3)" sh -c \
	"test $rc = 3 && grep -q 'issuing.1.compromised: CPS 4-14-2: no issuance under a compromised issuing key' '$T/race.err'"
check "... nothing reserved or issued by it" sh -c "[ ! -e '$T/out-race/results.csv' ] && [ \$(sqlite3 '$O/store.db' 'SELECT count(*) FROM certificates') = $NCERT ]"
check "... its recovery did not sign the key's stale reservation: voided, audited" sh -c \
	"[ \$(sqlite3 '$O/store.db' \"SELECT status FROM certificates WHERE hex(serial) = '7F01'\") = void ] && \
	 grep -q '	cert.void	fail	op1@ca-online	serial 7F01: .*issuing key generation 1 is compromised' '$O/audit/audit.log'"
ok "another reservation of the key left pending (sqlite3)" sqlite3 "$O/store.db" "INSERT INTO serials VALUES (x'7F02', 0);
	INSERT INTO certificates (serial, municipality, resident_key, status, not_before, not_after, issuer, tbs)
	  SELECT x'7F02', '431010', randomblob(32), 'pending', not_before, not_after, issuer, tbs FROM certificates WHERE hex(serial) = '$L2'"
check "... nothing revoked" test "$(db "SELECT count(*) FROM certificates WHERE status = 'revoked'")" = \
	"$(sqlite3 "$T/before.db" "SELECT count(*) FROM certificates WHERE status = 'revoked'")"
check "... but generation 1 is marked compromised already" grep -q "^issuing.1.compromised = " "$O/state.conf"
db "DROP TRIGGER inject"
# In an emergency the compromise waits for state.lock, not refused: the
# daily backup holds it while it copies the store (held here by flock).
NREV=$(db "SELECT count(*) FROM certificates WHERE status = 'revoked'")
flock -x "$O/state.lock" sleep 60 &
SLP=$!
for i in $(seq 1 3000); do flock -n -x "$O/state.lock" true 2>/dev/null || break; sleep 0.02; done
"$ON" revoke --state "$O" "${CC[@]}" --issuing-key-compromise --generation 1 --yes-revoke-all 5 >"$T/out" 2>"$T/wait.err" &
WP=$!
for i in $(seq 1 3000); do grep -q "waiting for it to end" "$T/wait.err" 2>/dev/null && break; sleep 0.02; done
check "compromise while another command holds state.lock: it waits, saying so" sh -c \
	"grep -q 'state.lock: another hanko-online command is changing state.conf .*: waiting for it to end' '$T/wait.err' && kill -0 $WP"
check "... nothing revoked meanwhile" test "$(db "SELECT count(*) FROM certificates WHERE status = 'revoked'")" = "$NREV"
pkill -P "$SLP" sleep 2>/dev/null || true; kill "$SLP" 2>/dev/null || true; wait "$SLP" 2>/dev/null || true
rc=0; wait "$WP" || rc=$?
check "compromise: --yes-revoke-all 5, once the lock is given (exit $rc)" test "$rc" = 0
check "... says 5 revoked, 1 pending voided" grep -q "^Revoked 5 certificates of issuing generation 1 (key id $KID): reason 2 (ca-compromise); 1 pending voided" "$T/out"
check "... no certificate of the key left valid or pending" test "$(db "SELECT count(*) FROM certificates WHERE status IN ('valid', 'pending')")" = 0
check "... the five: cACompromise at the clock" test "$(db "SELECT count(*) FROM certificates WHERE reason = 2 AND revoked_at = 1777712400")" = 5
check "... line 2 keeps key-compromise and its date" test "$(db "SELECT reason, revoked_at FROM certificates WHERE hex(serial) = '$L2'")" = "1|1777626000"
check "... the double issuance keeps cessationOfOperation" test "$(db "SELECT reason FROM certificates WHERE hex(serial) = '$SX'")" = 5
check "... the reservation voided" test "$(db "SELECT status FROM certificates WHERE hex(serial) = '7F02'")" = void
check "... one CRL entry per revoked certificate" test "$(db "SELECT count(*) FROM crl_entries")" = 7 -a \
	"$(db "SELECT count(*) FROM crl_entries e JOIN certificates c USING (serial) WHERE c.status = 'revoked'")" = 7
for s in "$L3" "$L6" "$L7"; do
	entry "$s" >"$T/asn1"
	off=$(grep -A1 'CRL Reason Code' "$T/asn1" | tail -1 | cut -d: -f1 | tr -d ' ')
	check "... CRL entry $s (openssl): its serial, 2026-05-02 09:00:00Z, reasonCode 02" sh -c \
		"grep -q 'INTEGER *:$s' '$T/asn1' && grep -q 'UTCTIME *:260502090000Z' '$T/asn1' && \
		 openssl asn1parse -inform DER -in '$T/entry.der' -strparse $off | grep -q 'ENUMERATED *:02'"
done
check "... audited with the count" grep -q "	cert.revoke-all	ok	op1@ca-online	issuing generation 1 key id $KID: CPS 4-4-1-3: 5 certificates revoked reason 2 (ca-compromise), 1 pending voided" "$O/audit/audit.log"
check "... state.conf marks generation 1 compromised" grep -q "^issuing.1.compromised = 2026-05-02T09:00:00Z" "$O/state.conf"
ISER=$(openssl x509 -in "$ISS" -noout -serial | cut -d= -f2 | tr A-F a-f)
check "... the next step printed: the revocation request of the issuing CA" grep -q "hanko-online request --state $O --type revocation-request --reason ca-compromise --serial $ISER --out DIR" "$T/out"
check "... and the rest of CPS 4-14-2: the BCA told, a new issuing key" grep -q \
	"^Then notify the 個人認証BCA .*(CPS 4-4-1-3, 4-14-2); a new issuing key: hanko-online request --state $O --type csr --out DIR" "$T/out"
ok "... and that request is made" "$ON" request --state "$O" "${CC[@]}" --type revocation-request --reason ca-compromise --serial "$ISER" --out "$T/rev-request"
# The next issuing key (docs/records.md step 5): the compromised key
# authenticates nothing, and the root refuses a bundle of issuing CA 1 once
# it is revoked: the request crosses alone, its SHA-256 read aloud.
SEQ=$(grep '^issuing.1.bundle-sequence' "$O/state.conf")
ok "request --type csr under the compromised generation" "$ON" request --state "$O" "${CC[@]}" --type csr --out "$T/csr2"
check "... no bundle: the request alone in OUT, no sequence spent" sh -c \
	"[ \"\$(ls '$T/csr2')\" = issuing-2.csr.der ] && grep -qx '$SEQ' '$O/state.conf' && \
	 cmp -s '$T/csr2/issuing-2.csr.der' '$O/certs/issuing-2.csr.der'"
H2=$(sha256sum <"$T/csr2/issuing-2.csr.der" | cut -c1-64)
check "... says why and prints the request's SHA-256 to read aloud" sh -c \
	"grep -q '^Issuing generation 1 is compromised (issuing.1.compromised, CPS 4-14-2): .*no bundle made' '$T/out' && grep -qx '  $H2' '$T/out'"
check "... audited" grep -q "	csr.make	ok	.*SHA-256 $H2; no bundle: issuing generation 1 .* is compromised" "$O/audit/audit.log"
ok "run again: the same request" "$ON" request --state "$O" "${CC[@]}" --type csr --out "$T/csr2b"
check "... the same bytes" cmp -s "$T/csr2/issuing-2.csr.der" "$T/csr2b/issuing-2.csr.der"
echo "$H2" >"$T/csr2.sha256"
ok "the issue-subca ceremony certifies it by the SHA-256 read aloud" issue_subca "$T/csr2/issuing-2.csr.der" "$T/csr2.sha256" 2026-05-02T10:00:00Z
# CPS 4-14-2: no issuance under the compromised key, whatever the batch
NCERT=$(db "SELECT count(*) FROM certificates")
fails "issue after the compromise is refused" 3 "issuing.1.compromised: CPS 4-14-2: no issuance under a compromised issuing key" \
	"$ON" issue --state "$O" "${CC[@]}" --batch "$B/batch3.csv" --out "$T/out3"
check "... nothing reserved, no results" sh -c "[ ! -e '$T/out3/results.csv' ] && [ \$(sqlite3 '$O/store.db' 'SELECT count(*) FROM certificates') = $NCERT ]"
ok "compromise again: --dry-run counts none" "$ON" revoke --state "$O" "${CC[@]}" --issuing-key-compromise --generation 1 --dry-run
check "... 0 valid and 0 pending" grep -q ": 0 valid and 0 pending certificates" "$T/out"
ok "compromise again: --yes-revoke-all 0 finds none" "$ON" revoke --state "$O" "${CC[@]}" --issuing-key-compromise --generation 1 --yes-revoke-all 0
check "... revoked none" grep -q "^Revoked 0 certificates" "$T/out"
check "... nothing more in the CRL entries" test "$(db "SELECT count(*) FROM crl_entries")" = 7
ok "the online audit log verifies (checkpoints by audit-1)" "$OFF" audit verify --state "$O"
finish

#!/usr/bin/env bash
# t_online_check_log.sh - "hanko-online check" compares the live audit
# log's revocations with a store restored from a backup (docs/records.md,
# check's table; docs/backup.md "Restore", step 8; CPS 4-4, 4-4-1-3):
#   batch A (residents 1, 2) issued under issuing generation 1, batch G
#   (residents 3, 4) under generation 2, backed up; batch B (residents 5,
#   6) under generation 2; A's line 2 revoked affiliation-changed, G's
#   line 2 key-compromise; then "revoke --issuing-key-compromise" of
#   generation 2 (G's line 3, B's two); the state restored from the backup
#   as docs/backup.md says (the live log and the state.conf holding the
#   compromise mark kept). check names A's and G's line 2 with their own
#   revoke commands, G's line 3 with the cert.revoke-all's command, and B's
#   two (not in the store: their cert.issue record, their batch's
#   issue.start naming generation 2, before the cert.revoke-all of its key)
#   with "recover its batch first"; A's line 3 (generation 1) is not named.
#   recover puts B's two back revoked, reason 2 at the cert.revoke-all's
#   time (CPS 4-4-1-3), and check no longer names them. A's line 2 revoked
#   again with another reason than its first record's: no note (the
#   store's reason is the record just made). The compromise revoked again:
#   G's line 2 is then revoked ca-compromise in the store, key-compromise in
#   the log: a note, not a finding (exit 0). publish then lists B's two on
#   issuing CA 2's CRLs of their partitions (openssl crl, openssl verify
#   -crl_check).
. "$(dirname "$0")/online.sh"
BK=$T/backups
mkdir -p "$BK"
six_residents "$T/six.csv"
serial_of() { awk -F, -v l="$2" '$1 == l && $2 == "ok" { print $3 }' "$1"; }
req_dir "$T/a"
sed -n 1,3p "$T/six.csv" >"$T/a/batch.csv"
ok "batch A (residents 1, 2) under generation 1" "$ON" issue --state "$O" --clock 2026-04-02T12:00:00Z --batch "$T/a/batch.csv" --out "$T/a/out"
ok "the rollover to issuing generation 2 (2026-04-03)" make_online_gen2 "$T"
req_dir "$T/g"
{ sed -n 1p "$T/six.csv"; sed -n 4,5p "$T/six.csv"; } >"$T/g/batch.csv"
ok "batch G (residents 3, 4) under generation 2" "$ON" issue --state "$O" "${IC2[@]}" --batch "$T/g/batch.csv" --out "$T/g/out"
ok "the backup" "$ON" backup --state "$O" --out "$BK/b1" --clock 2026-04-03T13:00:00Z
D=$BK/b1
req_dir "$T/b"
{ sed -n 1p "$T/six.csv"; sed -n 6,7p "$T/six.csv"; } >"$T/b/batch.csv"
ok "batch B after the backup (residents 5, 6) under generation 2" "$ON" issue --state "$O" --clock 2026-04-03T14:00:00Z --batch "$T/b/batch.csv" --out "$T/b/out"
A1=$(serial_of "$T/a/out/results.csv" 2); A2=$(serial_of "$T/a/out/results.csv" 3)
G1=$(serial_of "$T/g/out/results.csv" 2); G2=$(serial_of "$T/g/out/results.csv" 3)
B1=$(serial_of "$T/b/out/results.csv" 2); B2=$(serial_of "$T/b/out/results.csv" 3)
check "six serials" test -n "$A1" -a -n "$A2" -a -n "$G1" -a -n "$G2" -a -n "$B1" -a -n "$B2"
kid_of() { sqlite3 "$O/store.db" "SELECT lower(hex(issuer)) FROM certificates WHERE hex(serial) = '$1'"; }
KID1=$(kid_of "$A1"); KID2=$(kid_of "$G1")
check "A's under one key, G's and B's under another" sh -c \
	"[ '$KID1' != '$KID2' ] && [ '$(kid_of "$A2")' = '$KID1' ] && [ '$(kid_of "$G2")' = '$KID2' ] && [ '$(kid_of "$B1")' = '$KID2' ] && [ '$(kid_of "$B2")' = '$KID2' ]"
ok "revoke A's line 2 after the backup: affiliation-changed" "$ON" revoke --state "$O" --clock 2026-04-03T14:30:00Z --serial "$A1" --reason affiliation-changed
ok "revoke G's line 2 after the backup: key-compromise" "$ON" revoke --state "$O" --clock 2026-04-03T14:35:00Z --serial "$G1" --reason key-compromise
ok "compromise of generation 2 --dry-run: G's line 3, B's two" "$ON" revoke --state "$O" --clock 2026-04-03T15:00:00Z --issuing-key-compromise --generation 2 --dry-run
check "... 3 valid" grep -q ": 3 valid and 0 pending certificates" "$HANKO_TMP/out"
ok "revoke --issuing-key-compromise --generation 2 --yes-revoke-all 3" "$ON" revoke --state "$O" --clock 2026-04-03T15:00:00Z --issuing-key-compromise --generation 2 --yes-revoke-all 3
# seq_of EVENT PATTERN: the seq of the live log's ok record of EVENT whose
# details match PATTERN (the log's lines: seq, time, event, result, ...)
seq_of() { awk -F'\t' -v e="$1" -v p="$2" '$3 == e && $4 == "ok" && $0 ~ p { print $1 }' "$O/audit/audit.log"; }
RA1=$(seq_of cert.revoke "serial $A1: ")
RG1=$(seq_of cert.revoke "serial $G1: ")
RALL=$(seq_of cert.revoke-all "issuing generation 2 key id $KID2: ")
check "the log's three records: one each" sh -c "[ \$(echo '$RA1' | wc -w) = 1 ] && [ \$(echo '$RG1' | wc -w) = 1 ] && [ \$(echo '$RALL' | wc -w) = 1 ]"
BSHA=$(cut -c1-16 "$T/b/out/batch.sha256")
RIB=$(seq_of cert.issue "batch $BSHA, .* $B1/")
check "B's cert.issue record: one, before the cert.revoke-all" sh -c "[ \$(echo '$RIB' | wc -w) = 1 ] && [ '$RIB' -lt '$RALL' ]"
# ---- the store lost: the restore of docs/backup.md ---------------------
restore_state "$D" "$O.damaged" "$O.damaged/audit"
# step 7: the damaged folder's state.conf is newer (the compromise mark)
check "step 7: state.conf differs by the compromise mark" sh -c \
	"diff '$D/state.conf' '$O.damaged/state.conf' | grep -q '^> issuing.2.compromised = 2026-04-03T15:00:00Z'"
cp -p "$O.damaged/state.conf" "$O/"
C=(--clock 2026-04-03T15:30:00Z)
cmd_line() { echo "hanko-online recover --state $O --revocations"; }
{ echo "revocation: serial $A1 (municipality 431010): valid in the store, but the audit log's cert.revoke seq $RA1 (2026-04-03T14:30:00Z) revoked it reason 3 (affiliation-changed); redo it at the record's time: $(cmd_line "$A1" 3)"
  echo "revocation: serial $G1 (municipality 432148): valid in the store, but the audit log's cert.revoke seq $RG1 (2026-04-03T14:35:00Z) revoked it reason 1 (key-compromise); redo it at the record's time: $(cmd_line "$G1" 1)"
  echo "revocation: serial $G2 (municipality 432105): valid in the store, but the audit log's cert.revoke-all seq $RALL (2026-04-03T15:00:00Z) revoked every certificate of issuing generation 2 (key id $KID2) reason 2 (ca-compromise); redo it at the record's time: $(cmd_line)"
} | sort >"$T/want1"
# B's two: issued after the backup under generation 2, revoked as a set
b_line() { echo "revocation: serial $1 (municipality $2): not in the store, but the audit log's cert.issue seq $RIB (batch $BSHA, issuing generation 2) issued it and cert.revoke-all seq $RALL (2026-04-03T15:00:00Z) revoked every certificate of issuing generation 2 (key id $KID2) reason 2 (ca-compromise): issued after the backup; not in the store: recover its batch first (hanko-online recover, docs/backup.md \"Restore\": it puts it back revoked), then run check again"; }
{ cat "$T/want1"; b_line "$B1" 431028; b_line "$B2" 432032; } | sort >"$T/want0"
fails "restored: check finds the three revocations the store lost and B's two it lacks" 1 "store.db: 5 findings, 0 fixed$" \
	"$ON" check --state "$O" "${C[@]}"
sort "$HANKO_TMP/out" >"$T/got0"
check "... exactly five lines: A's and G's line 2 by serial, G's line 3 by the compromise, each with its command, B's two with recover (A's line 3, generation 1, not named)" \
	cmp -s "$T/want0" "$T/got0"
[ -z "${HANKO_DEBUG:-}" ] || diff "$T/want0" "$T/got0" >&2 || true
check "... nothing revoked by check" \
	test "$(sqlite3 "$O/store.db" "SELECT count(*) FROM certificates WHERE status = 'valid'")" = 4
check "... audited: store.check fail, 5 findings" \
	sh -c "tail -2 '$O/audit/audit.log' | head -1 | grep -q '	store.check	fail	op1@ca-online	4 valid certificates read; 5 findings, 0 fixed'"
# With the backup's log instead of the live one (docs/backup.md step 6: the
# live one lost) nothing says when B's were revoked: the mark (state.conf)
# refuses them, saying why, nothing put back
mkdir -p "$T/live-audit"
cp -p "$O/audit/audit.log" "$O/audit/audit.log.head" "$T/live-audit/"
cp -p "$D/audit/audit.log" "$D/audit/audit.log.head" "$O/audit/"
rc=0; "$ON" recover --state "$O" --clock 2026-04-03T15:32:00Z --batch "$T/b/batch.csv" --results "$T/b/out/results.csv" >"$T/rec.out" 2>"$T/rec.err" || rc=$?
why="issuing key generation 2 is compromised (CPS 4-4-1-3): its certificates are revoked as a set, and the audit log has no cert.revoke-all record of its key id $KID2 after this serial's cert.issue (the log has no cert.issue record of this serial): its revocation time is not known; not put back"
{ echo "$T/b/out/results.csv:2: line 2, serial $B1: $why"
  echo "$T/b/out/results.csv:3: line 3, serial $B2: $why"; } >"$T/want-ref"
check "recover of B with the backup's log: exit 3, both lines refused, saying why" sh -c \
	"[ $rc = 3 ] && [ \$(grep -cxFf '$T/want-ref' '$T/rec.err') = 2 ]"
check "... not in the store" test "$(sqlite3 "$O/store.db" "SELECT count(*) FROM certificates WHERE hex(serial) IN ('$B1', '$B2')")" = 0
cp -p "$T/live-audit/audit.log" "$T/live-audit/audit.log.head" "$O/audit/"
# B's certificates (issued after the backup, revoked by the compromise) are
# put back revoked, as the cert.revoke-all revoked them: reason 2 at its time
ok "recover of B under the compromise mark: both put back revoked" "$ON" recover --state "$O" --clock 2026-04-03T15:35:00Z --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
b_put() { echo "$T/b/out/results.csv:$3: serial $1: put back (line $3, municipality $2); revoked reason 2 (ca-compromise) at 2026-04-03T15:00:00Z per cert.revoke-all seq $RALL (issuing generation 2 key id $KID2, CPS 4-4-1-3): never valid"; }
{ b_put "$B1" 431028 2; b_put "$B2" 432032 3
  echo "$T/b/out/results.csv: 2 put back, 0 already in the store, 0 refused of 2 issued"; } >"$T/want-rec"
check "... its stdout: each revoked, per the cert.revoke-all record" cmp -s "$T/want-rec" "$HANKO_TMP/out"
[ -z "${HANKO_DEBUG:-}" ] || diff "$T/want-rec" "$HANKO_TMP/out" >&2 || true
T1500=$(date -u -d 2026-04-03T15:00:00Z +%s)
check "... in the store revoked, reason 2, at the record's time, with their CRL entries" test \
	"$(sqlite3 "$O/store.db" "SELECT c.status || '|' || c.reason || '|' || c.revoked_at || '|' || (e.serial IS NOT NULL) FROM certificates c LEFT JOIN crl_entries e ON e.serial = c.serial WHERE hex(c.serial) IN ('$B1', '$B2')" | sort -u)" = "revoked|2|$T1500|1"
check "... audited: cert.recover ok of each, naming the cert.revoke-all record" sh -c \
	"[ \$(grep -c '	cert.recover	ok	op1@ca-online	serial \($B1\|$B2\): .*; revoked reason 2 (ca-compromise) at 2026-04-03T15:00:00Z per cert.revoke-all seq $RALL ' '$O/audit/audit.log') = 2 ]"
fails "check: B's two no longer named, the three others are" 1 "store.db: 3 findings, 0 fixed$" \
	"$ON" check --state "$O" "${C[@]}"
sort "$HANKO_TMP/out" >"$T/got1"
check "... exactly the three lines" cmp -s "$T/want1" "$T/got1"
[ -z "${HANKO_DEBUG:-}" ] || diff "$T/want1" "$T/got1" >&2 || true
# ---- A's line 2 revoked again, with another reason than the log's first ----
ok "revoke A's line 2 again, superseded (the log said affiliation-changed)" "$ON" revoke --state "$O" --clock 2026-04-03T15:40:00Z --serial "$A1" --reason superseded
fails "check: two left" 1 "store.db: 2 findings, 0 fixed$" "$ON" check --state "$O" "${C[@]}"
grep -v "^revocation: serial $A1 " "$T/want1" >"$T/want2"
sort "$HANKO_TMP/out" >"$T/got2"
check "... A's line 2 neither a finding nor a note: its last record's reason is the store's" cmp -s "$T/want2" "$T/got2"
# ---- the compromise revoked again: G's line 2 ca-compromise in the store ----
ok "compromise again after the restore: --dry-run" "$ON" revoke --state "$O" --clock 2026-04-03T15:50:00Z --issuing-key-compromise --generation 2 --dry-run
check "... 2 valid (G's lines 2 and 3)" grep -q ": 2 valid and 0 pending certificates" "$HANKO_TMP/out"
ok "... --yes-revoke-all 2" "$ON" revoke --state "$O" --clock 2026-04-03T15:50:00Z --issuing-key-compromise --generation 2 --yes-revoke-all 2
check "... G's line 2 revoked ca-compromise in the store" \
	test "$(sqlite3 "$O/store.db" "SELECT status, reason FROM certificates WHERE hex(serial) = '$G1'")" = "revoked|2"
ok "check: consistent (a note is no finding)" "$ON" check --state "$O" "${C[@]}"
{ echo "note: serial $G1 (municipality 432148): revoked reason 2 (ca-compromise) in the store; the audit log's cert.revoke seq $RG1 (2026-04-03T14:35:00Z) says reason 1 (key-compromise); a revocation is final: not changed"
  echo "Store consistent: 1 valid certificates checked"; } >"$T/want3"
check "... G's line 2's reasons differ: the note, then Store consistent, nothing else" cmp -s "$T/want3" "$HANKO_TMP/out"
[ -z "${HANKO_DEBUG:-}" ] || diff "$T/want3" "$HANKO_TMP/out" >&2 || true
check "... audited: store.check ok, 0 findings" \
	sh -c "tail -2 '$O/audit/audit.log' | head -1 | grep -q '	store.check	ok	op1@ca-online	1 valid certificates read; 0 findings, 0 fixed'"
check "... G's line 2 still ca-compromise, A's line 3 still valid" \
	test "$(sqlite3 "$O/store.db" "SELECT status || reason FROM certificates WHERE hex(serial) = '$G1'; SELECT status FROM certificates WHERE hex(serial) = '$A2'" | tr '\n' ' ')" = "revoked2 valid "
# ---- publish: B's two on issuing CA 2's CRLs of their partitions --------
P=$T/repo
fails "publish (no ARL imported: exit 9, the CRLs written)" 9 "no imported ARL is current" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T16:00:00Z
crl_text() { openssl crl -inform DER -in "$P/crl/$1.crl" -noout -text; }
# listed PART SERIAL: the CRL lists it, CA Compromise, revoked at 15:00:00
listed() { crl_text "$1" | grep -A4 "Serial Number: $2\$" | grep -q 'Revocation Date: Apr  3 15:00:00 2026 GMT' &&
	crl_text "$1" | grep -A4 "Serial Number: $2\$" | grep -q 'CA Compromise'; }
check "crl/431028-2.crl (issuing CA 2) lists B's line 2, CA Compromise, at the record's time" listed 431028-2 "$B1"
check "crl/432032-2.crl (issuing CA 2) lists B's line 3, CA Compromise, at the record's time" listed 432032-2 "$B2"
check "... both CRLs verify with issuing CA 2" sh -c \
	"for p in 431028-2 432032-2; do openssl crl -inform DER -in '$P/crl/'\$p.crl -CAfile '$ISS2' -noout -verify 2>&1 | grep -qx 'verify OK' || exit 1; done"
certs_from "$T/b/out"
cat "$R" "$ISS2" >"$T/chain2.pem"
AT=(-attime "$(date -u -d 2026-04-03T17:00:00Z +%s)")
for s in "$B1" "$B2"; do openssl x509 -inform DER -in "$T/b/out/certs/$s.der" -out "$T/$s.pem"; done
openssl crl -inform DER -in "$P/crl/431028-2.crl" -out "$T/b1.crl.pem"
openssl crl -inform DER -in "$P/crl/432032-2.crl" -out "$T/b2.crl.pem"
rc=0; openssl verify "${AT[@]}" -crl_check -CAfile "$T/chain2.pem" -CRLfile "$T/b1.crl.pem" "$T/$B1.pem" >"$T/v1" 2>&1 || rc=$?
check "openssl verify -crl_check: B's line 2 revoked" sh -c "[ $rc != 0 ] && grep -q 'certificate revoked' '$T/v1'"
rc=0; openssl verify "${AT[@]}" -crl_check -CAfile "$T/chain2.pem" -CRLfile "$T/b2.crl.pem" "$T/$B2.pem" >"$T/v2" 2>&1 || rc=$?
check "openssl verify -crl_check: B's line 3 revoked" sh -c "[ $rc != 0 ] && grep -q 'certificate revoked' '$T/v2'"
finish

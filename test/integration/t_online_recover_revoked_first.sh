#!/usr/bin/env bash
# t_online_recover_revoked_first.sh - "hanko-online recover" of a batch
# whose issuing key was revoked as a set (cert.revoke-all) puts each
# certificate back with its FIRST revocation (docs/backup.md "Restore",
# step 9; CPS 4-4, 4-4-1-3, RFC 5280 5.3.2: a CRL does not move a
# revocation later): revoke --issuing-key-compromise revokes only the
# key's VALID certificates, so one revoked before it keeps its own reason
# and time. After a backup, batch B (residents 1, 2, 3) under issuing
# generation 1; the rollover to generation 2; batch C (--replace) re-issues
# resident 1 under generation 2 (B's line 2 revoked superseded at 12:00);
# B's line 3 revoked key-compromise by revoke (12:30); then generation 1's
# compromise (13:00: B's line 4, the one valid). Restored from the backup
# as docs/backup.md says (state.conf kept, the generation-2 bundle imported
# again), recover B then C: every row is the lost store's (B's line 2
# superseded at 12:00, line 3 key-compromise at 12:30, line 4
# ca-compromise at 13:00, C's valid), the CRL entries too; check names
# B's line 2 and 3 once each before recover (not also as revoked by the
# set) and is clean after; publish lists each B serial once, with its
# first reason and time.
. "$(dirname "$0")/online.sh"
BK=$T/backups
mkdir -p "$BK"
six_residents "$T/six.csv"
req_dir "$T/b"
req_dir "$T/c"
sed -n 1,4p "$T/six.csv" >"$T/b/batch.csv"			# residents 1, 2, 3
sed -n 1,2p "$T/six.csv" >"$T/c/batch.csv"			# resident 1 again
serial_of() { awk -F, -v l="$2" '$1 == l && $2 == "ok" { print $3 }' "$1"; }
ok "the backup" "$ON" backup --state "$O" --out "$BK/b1" --clock 2026-04-02T12:30:00Z
ok "batch B (after the backup) under generation 1" "$ON" issue --state "$O" --clock 2026-04-02T13:00:00Z --batch "$T/b/batch.csv" --out "$T/b/out"
ok "the rollover to issuing generation 2 (2026-04-03)" make_online_gen2 "$T"
ok "batch C (--replace: resident 1 again) under generation 2" "$ON" issue --state "$O" "${IC2[@]}" --replace --batch "$T/c/batch.csv" --out "$T/c/out"
B1=$(serial_of "$T/b/out/results.csv" 2); B2=$(serial_of "$T/b/out/results.csv" 3); B3=$(serial_of "$T/b/out/results.csv" 4)
C1=$(serial_of "$T/c/out/results.csv" 2)
check "four serials" test -n "$B1" -a -n "$B2" -a -n "$B3" -a -n "$C1"
ok "revoke B's line 3: key-compromise (12:30)" "$ON" revoke --state "$O" --clock 2026-04-03T12:30:00Z --serial "$B2" --reason key-compromise
ok "compromise of generation 1: --dry-run" "$ON" revoke --state "$O" --clock 2026-04-03T13:00:00Z --issuing-key-compromise --generation 1 --dry-run
check "... 1 valid (B's line 4)" grep -q ": 1 valid and 0 pending certificates" "$HANKO_TMP/out"
ok "... --yes-revoke-all 1" "$ON" revoke --state "$O" --clock 2026-04-03T13:00:00Z --issuing-key-compromise --generation 1 --yes-revoke-all 1
cols() { sqlite3 "$O/store.db" "SELECT status, coalesce(reason, 0), coalesce(revoked_at, 0), municipality, not_before, not_after, hex(resident_key), hex(issuer), hex(tbs), hex(der) FROM certificates WHERE hex(serial) = '$1'"; }
for s in "$B1" "$B2" "$B3" "$C1"; do cols "$s" >"$T/live.$s"; done
T1200=$(date -u -d 2026-04-03T12:00:00Z +%s); T1230=$(date -u -d 2026-04-03T12:30:00Z +%s); T1300=$(date -u -d 2026-04-03T13:00:00Z +%s)
check "live: B's line 2 superseded at 12:00, line 3 key-compromise at 12:30, line 4 ca-compromise at 13:00, C's valid" test \
	"$(for s in "$B1" "$B2" "$B3" "$C1"; do cut -d'|' -f1-3 "$T/live.$s"; done | tr '\n' ' ')" = \
	"revoked|4|$T1200 revoked|1|$T1230 revoked|2|$T1300 valid|0|0 "
crl() { sqlite3 "$O/store.db" "SELECT hex(serial), hex(entry) FROM crl_entries ORDER BY serial"; }
crl >"$T/crl.live"
seq_of() { awk -F'\t' -v e="$1" -v p="$2" '$3 == e && $4 == "ok" && $0 ~ p { print $1 }' "$O/audit/audit.log"; }
KID1=$(sqlite3 "$O/store.db" "SELECT lower(hex(issuer)) FROM certificates WHERE hex(serial) = '$B1'")
RALL=$(seq_of cert.revoke-all "issuing generation 1 key id $KID1: ")
RC1=$(seq_of cert.revoke " $B1/[0-9]*/4/$C1")
RB2=$(seq_of cert.revoke "serial $B2: ")
check "the log: one cert.revoke-all, C's re-issue record, B's line 3 revocation" sh -c \
	"[ \$(echo '$RALL' | wc -w) = 1 ] && [ \$(echo '$RC1' | wc -w) = 1 ] && [ \$(echo '$RB2' | wc -w) = 1 ]"
# ---- the store lost: the restore of docs/backup.md ---------------------
restore_state "$BK/b1" "$O.damaged" "$O.damaged/audit"
# step 7: the damaged folder's state.conf (the generation-2 key, the
# compromise mark) and certs/ are newer and sound
cp -p "$O.damaged/state.conf" "$O/"
cp -rp "$O.damaged/certs/." "$O/certs/"
# step 9: bundle.import again (issuing CA 2)
ok "step 9: import the generation-2 bundle again" "$ON" import --state "$O" --clock 2026-04-03T14:00:00Z "$T/b-iss2"
R=(--clock 2026-04-03T14:30:00Z)
BSHA=$(cut -c1-16 "$T/b/out/batch.sha256")
fails "check before recover: B's three and C's re-issue named" 1 "" "$ON" check --state "$O" "${R[@]}"
check "... B's line 2 named once (its cert.revoke), not also as revoked by the set" \
	test "$(grep -c "^revocation: serial $B1 " "$HANKO_TMP/out")" = 1
check "... B's line 3 named once (its cert.revoke), not also as revoked by the set" \
	test "$(grep -c "^revocation: serial $B2 " "$HANKO_TMP/out")" = 1
check "... B's line 4 named once, by the set" \
	grep -q "^revocation: serial $B3 (municipality [0-9]*): not in the store, but the audit log's cert.issue seq [0-9]* (batch $BSHA, issuing generation 1) issued it and cert.revoke-all seq $RALL " "$HANKO_TMP/out"
ok "recover B" "$ON" recover --state "$O" "${R[@]}" --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
check "... 3 put back" grep -q ": 3 put back, 0 already in the store, 0 refused of 3 issued$" "$HANKO_TMP/out"
check "... line 2 revoked superseded at 12:00 per C's cert.revoke record" grep -q \
	"serial $B1: put back (line 2, municipality 431010); revoked reason 4 (superseded) at 2026-04-03T12:00:00Z per cert.revoke seq $RC1" "$HANKO_TMP/out"
check "... line 3 revoked key-compromise at 12:30 per its cert.revoke record" grep -q \
	"serial $B2: put back (line 3, municipality 432024); revoked reason 1 (key-compromise) at 2026-04-03T12:30:00Z per cert.revoke seq $RB2" "$HANKO_TMP/out"
check "... line 4 revoked ca-compromise at 13:00 per the cert.revoke-all" grep -q \
	"serial $B3: put back (line 4, municipality 432148); revoked reason 2 (ca-compromise) at 2026-04-03T13:00:00Z per cert.revoke-all seq $RALL" "$HANKO_TMP/out"
ok "recover C" "$ON" recover --state "$O" "${R[@]}" --batch "$T/c/batch.csv" --results "$T/c/out/results.csv"
check "... 1 put back" grep -q ": 1 put back, 0 already in the store, 0 refused of 1 issued$" "$HANKO_TMP/out"
check "... naming what it replaced" grep -q "serial $C1: put back (line 2, .*; it replaced serial $B1, revoked reason 4 as cert.revoke record $RC1 says" "$HANKO_TMP/out"
for s in "$B1" "$B2" "$B3" "$C1"; do
	check "serial $s: its row is the one the lost store had" test "$(cols "$s")" = "$(cat "$T/live.$s")"
done
check "the CRL entries are the ones the lost store had" test "$(crl)" = "$(cat "$T/crl.live")"
ok "check: consistent" "$ON" check --state "$O" --clock 2026-04-03T15:00:00Z
check "... Store consistent, no note" test "$(cat "$HANKO_TMP/out")" = "Store consistent: 1 valid certificates checked"
# ---- publish: each B serial once on generation 1's CRL of its partition --
P=$T/repo
fails "publish (no ARL imported: exit 9, the CRLs written)" 9 "no imported ARL is current" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T16:00:00Z
crl_text() { openssl crl -inform DER -in "$P/crl/$1.crl" -noout -text; }
# listed PART SERIAL DATE REASON: listed once, revoked at DATE with REASON
listed() { [ "$(crl_text "$1" | grep -c "Serial Number: $2\$")" = 1 ] &&
	crl_text "$1" | grep -A4 "Serial Number: $2\$" | grep -q "Revocation Date: $3" &&
	crl_text "$1" | grep -A4 "Serial Number: $2\$" | grep -q "$4"; }
check "crl/431010.crl (generation 1) lists B's line 2 once, Superseded, at 12:00" listed 431010 "$B1" "Apr  3 12:00:00 2026 GMT" Superseded
check "crl/432024.crl lists B's line 3 once, Key Compromise, at 12:30" listed 432024 "$B2" "Apr  3 12:30:00 2026 GMT" "Key Compromise"
check "crl/432148.crl lists B's line 4 once, CA Compromise, at 13:00" listed 432148 "$B3" "Apr  3 13:00:00 2026 GMT" "CA Compromise"
check "C's certificate is on no CRL" sh -c "for f in '$P'/crl/*.crl; do openssl crl -inform DER -in \"\$f\" -noout -text | grep -q 'Serial Number: $C1\$' && exit 1; done; exit 0"
finish

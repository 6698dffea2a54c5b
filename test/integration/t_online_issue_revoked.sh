#!/usr/bin/env bash
# t_online_issue_revoked.sh - a resumed batch never hands out a revoked
# certificate as "ok" (docs/requests.md "Results", CPS 4-4, 4-14-2). Batch
# A is issued under issuing generation 1; then one of its residents is
# re-issued (--replace: superseded), one certificate revoked by serial (key
# compromise). A run again: those lines read "revoked" with the reason and
# time, the certificate kept on the line (recover's source after a
# restore), stdout counts them apart, exit 9. Then generation 2 is imported
# and generation 1's key revoked as compromised (first with the
# revocations failing after the mark: A then reads lines 4 and 5
# "compromised", not "ok"): A run again under
# generation 2 reads every line revoked (the set's reason 2), exit 9; and
# recover with that results.csv changes nothing. Restored from a backup
# taken before A, recover puts A back from that results.csv (the
# certificates the revoked lines keep), each as the lost store had it.
. "$(dirname "$0")/online.sh"
B=$T/req
req_dir "$B"
six_residents "$B/six.csv"
sed -n 1,5p "$B/six.csv" >"$B/a.csv"	# lines 2-5
BK=$T/backups
mkdir -p "$BK"
ok "the backup, before batch A" "$ON" backup --state "$O" --out "$BK/b1" --clock 2026-04-02T11:30:00Z
ok "batch A: four residents issued (generation 1)" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/a.csv" --out "$T/a"
L() { sed -n "s/^$1,ok,\([0-9A-F]*\),.*/\1/p" "$T/a-first.csv"; }
cp "$T/a/results.csv" "$T/a-first.csv"
L2=$(L 2) L3=$(L 3) L4=$(L 4) L5=$(L 5)
check "four serials" test -n "$L2" -a -n "$L3" -a -n "$L4" -a -n "$L5"
{ sed -n 1p "$B/a.csv"; sed -n 3p "$B/a.csv"; } >"$B/r.csv"
ok "--replace: line 3's resident re-issued (superseded)" \
	"$ON" issue --state "$O" --clock 2026-04-02T13:00:00Z --replace --batch "$B/r.csv" --out "$T/r"
ok "revoke line 2 by serial: key-compromise" \
	"$ON" revoke --state "$O" --clock 2026-04-02T14:00:00Z --serial "$L2" --reason key-compromise

fails "A again: two lines revoked since issued, exit 9" 9 \
	"^hanko-online issue: $B/a.csv: 2 of 4 certificates revoked or expired since issued \(lines \"revoked\", \"expired\" in $T/a/results.csv\): do not deliver those \(CPS 4-4\)\$" \
	"$ON" issue --state "$O" --clock 2026-04-02T15:00:00Z --batch "$B/a.csv" --out "$T/a"
check "... stdout counts them apart" grep -qx "$B/a.csv: 2 issued, 0 refused, 2 revoked since issued, 0 expired: do not deliver those; results in $T/a/results.csv" "$HANKO_TMP/out"
check "... line 2: revoked, key-compromise at its time, the certificate, do not deliver" grep -qx \
	"2,revoked,$L2,$(sed -n 's/^2,ok,[0-9A-F]*,//p' "$T/a-first.csv"),reason 1 (key-compromise) at 2026-04-02T14:00:00Z: do not deliver" "$T/a/results.csv"
check "... line 3: revoked superseded by the re-issue" grep -qx \
	"3,revoked,$L3,$(sed -n 's/^3,ok,[0-9A-F]*,//p' "$T/a-first.csv"),reason 4 (superseded) at 2026-04-02T13:00:00Z: do not deliver" "$T/a/results.csv"
check "... lines 4 and 5 still ok, as first written" cmp <(grep '^[45],' "$T/a/results.csv") <(grep '^[45],' "$T/a-first.csv")
check "... docs/requests.md's awk for ok lines takes none of the revoked" test \
	"$(awk -F, '$2 == "ok" { print $1 }' "$T/a/results.csv" | tr '\n' ' ')" = "4 5 "

# Generation 1's key compromised (CPS 4-4-1-3, 4-14-2), generation 2
# issuing: A resumed under generation 2 lists every line revoked.
ok "make_online_gen2: generation 2 imported (2026-04-03)" make_online_gen2 "$T" 2026-04-03
# The mark comes before the revocations: when they fail (a trigger
# injected here refuses them), generation 1 is marked but its certificates
# still valid; A resumed meanwhile must not list them "ok" either.
db "CREATE TRIGGER inject BEFORE UPDATE ON certificates WHEN NEW.status = 'revoked' BEGIN SELECT RAISE(ABORT, 'injected'); END;"
fails "revoke --issuing-key-compromise: the revocations fail after the mark" 3 "injected" \
	"$ON" revoke --state "$O" --clock 2026-04-03T11:20:00Z --issuing-key-compromise --generation 1 --yes-revoke-all 3
db "DROP TRIGGER inject"
fails "A again meanwhile: lines 4 and 5 of the compromised key, not revoked yet: exit 9, naming what to run" 9 \
	"^hanko-online issue: $B/a.csv: 2 certificates of issuing generation 1, marked compromised, are not revoked yet \(lines \"compromised\" in $T/a/results.csv\): CPS 4-14-2: run hanko-online revoke --issuing-key-compromise --generation 1 again; do not deliver them\$" \
	"$ON" issue --state "$O" --clock 2026-04-03T11:25:00Z --batch "$B/a.csv" --out "$T/a"
check "... stdout counts them apart" grep -qx "$B/a.csv: 0 issued, 0 refused, 2 revoked since issued, 0 expired, 2 of a compromised issuing key not revoked yet: do not deliver those; results in $T/a/results.csv" "$HANKO_TMP/out"
check "... lines 4 and 5: compromised, the certificate, do not deliver" test \
	"$(grep -c '^[45],compromised,[0-9A-F]*,MII[A-Za-z0-9+/]*=*,issuing generation 1 is compromised (issuing.1.compromised = 2026-04-03T11:20:00Z) and this certificate is not revoked yet: revoke --issuing-key-compromise --generation 1 again; do not deliver$' "$T/a/results.csv")" = 2
cp "$T/a/results.csv" "$T/a-meanwhile.csv"
ok "revoke --issuing-key-compromise --generation 1: lines 4, 5 and the re-issue" \
	"$ON" revoke --state "$O" --clock 2026-04-03T11:30:00Z --issuing-key-compromise --generation 1 --yes-revoke-all 3
fails "A again under generation 2: four lines revoked, nothing ok, exit 9" 9 \
	"^hanko-online issue: $B/a.csv: 4 of 4 certificates revoked or expired since issued" \
	"$ON" issue --state "$O" "${IC2[@]}" --batch "$B/a.csv" --out "$T/a"
check "... stdout: 0 issued, 4 revoked since issued" grep -qx "$B/a.csv: 0 issued, 0 refused, 4 revoked since issued, 0 expired: do not deliver those; results in $T/a/results.csv" "$HANKO_TMP/out"
check "... lines 4 and 5: ca-compromise at the compromise's time" test \
	"$(grep -c '^[45],revoked,[0-9A-F]*,MII[A-Za-z0-9+/]*=*,reason 2 (ca-compromise) at 2026-04-03T11:30:00Z: do not deliver$' "$T/a/results.csv")" = 2
check "... lines 2 and 3 keep their own reasons and times" sh -c \
	"grep -q '^2,revoked,$L2,.*,reason 1 (key-compromise) at 2026-04-02T14:00:00Z: do not deliver\$' '$T/a/results.csv' &&
	 grep -q '^3,revoked,$L3,.*,reason 4 (superseded) at 2026-04-02T13:00:00Z: do not deliver\$' '$T/a/results.csv'"
check "... no ok line, nothing issued again" test "$(grep -c ',ok,' "$T/a/results.csv")|$(db "SELECT count(*) FROM certificates")" = "0|5"
check "... the audit log's issue.done counts them" grep -q "	issue.done	ok	.*the batch 0 issued, 0 refused of 4, 4 revoked since issued, 0 expired: do not deliver those	" "$O/audit/audit.log"

# recover reads such a results.csv: each certificate is the store's
# already, nothing changes (after a restore it would put them back, their
# revocations redone from the audit log: docs/backup.md).
before=$(db .dump | sha256sum)
ok "recover with that results.csv" \
	"$ON" recover --state "$O" --clock 2026-04-03T12:30:00Z --batch "$B/a.csv" --results "$T/a/results.csv"
check "... each of the four already in the store" test "$(grep -c ': serial [0-9A-F]*: already in the store, unchanged$' "$HANKO_TMP/out")" = 4
check "... the store unchanged" test "$(db .dump | sha256sum)" = "$before"
ok "recover with the results.csv written meanwhile (compromised lines)" \
	"$ON" recover --state "$O" --clock 2026-04-03T12:30:00Z --batch "$B/a.csv" --results "$T/a-meanwhile.csv"
check "... each of the four already in the store, the store unchanged" sh -c \
	"[ \$(grep -c ': serial [0-9A-F]*: already in the store, unchanged\$' '$HANKO_TMP/out') = 4 ] && [ \"\$(sqlite3 '$O/store.db' .dump | sha256sum)\" = '$before' ]"
sed 's/^\(2,revoked,[0-9A-F]*,[^,]*\),.*/\1/' "$T/a/results.csv" >"$T/a-cut.csv"
rc=0
"$ON" recover --state "$O" --clock 2026-04-03T12:30:00Z --batch "$B/a.csv" --results "$T/a-cut.csv" \
	>"$HANKO_TMP/out" 2>"$HANKO_TMP/err" || rc=$?
check "recover with line 2's note cut off: exit 3 ($rc), the line refused and named, the others already there" sh -c \
	"[ $rc = 3 ] && grep -qx '$T/a-cut.csv:2: line 2, serial $L2: not line,revoked,serial,certificate,note, as issue writes it (docs/requests.md)' '$HANKO_TMP/err' &&
	 [ \$(grep -c 'already in the store, unchanged\$' '$HANKO_TMP/out') = 3 ]"
check "... the store unchanged" test "$(db .dump | sha256sum)" = "$before"

# The store lost (docs/backup.md "Restore"): the backup before A, then A
# and R put back from their results.csv, A's all "revoked" now.
RS=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/r/results.csv")
cols() { db "SELECT status, coalesce(reason, 0), coalesce(revoked_at, 0), municipality, not_before, not_after, hex(resident_key), hex(issuer), hex(tbs), hex(der) FROM certificates WHERE hex(serial) = '$1'"; }
crl() { db "SELECT hex(serial), hex(entry) FROM crl_entries ORDER BY serial"; }
for s in "$L2" "$L3" "$L4" "$L5" "$RS"; do cols "$s" >"$T/live.$s"; done
crl >"$T/crl.live"
restore_state "$BK/b1" "$O.damaged" "$O.damaged/audit"
cp -p "$O.damaged/state.conf" "$O/"
cp -rp "$O.damaged/certs/." "$O/certs/"
ok "restored: the generation-2 bundle imported again" "$ON" import --state "$O" --clock 2026-04-03T13:00:00Z "$T/b-iss2"
ok "recover A from its results.csv (every line revoked)" \
	"$ON" recover --state "$O" --clock 2026-04-03T13:30:00Z --batch "$B/a.csv" --results "$T/a/results.csv"
check "... 4 put back" grep -q ": 4 put back, 0 already in the store, 0 refused of 4 issued$" "$HANKO_TMP/out"
ok "recover R" "$ON" recover --state "$O" --clock 2026-04-03T13:30:00Z --batch "$B/r.csv" --results "$T/r/results.csv"
for s in "$L2" "$L3" "$L4" "$L5" "$RS"; do
	check "serial $s: its row is the one the lost store had" test "$(cols "$s")" = "$(cat "$T/live.$s")"
done
check "the CRL entries are the ones the lost store had" test "$(crl)" = "$(cat "$T/crl.live")"
finish

#!/usr/bin/env bash
# t_online_long_path.sh - a state folder deep in the file system (a CI
# checkout: some 400 characters of folders) whose closed audit log,
# <state>/audit/closed/audit-<id>-<date>.log, is named in messages and
# records: each names it whole and keeps what follows it (the rule, what
# to do), nothing cut short.
#   - recover of a re-issue whose cert.revoke record is in the closed log,
#     itself revoked (cert.revoke) before its issuing key was (cert.revoke-
#     all), both in the closed log too, says (stdout, cert.recover record)
#     which records of which log, whole, and why it is never valid;
#   - a record removed from the closed log: audit verify and check name the
#     closed log, the record and the rule ("a record was removed, inserted
#     or moved"), check then what it does not compare and what to do.
# (SQLite takes a store.db path of at most 512 bytes: hanko's deepest state
# folder is some 480 characters; this one is some 420.)
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
. "$HANKO_SRC/test/data/online/setup.sh"
fresh_tmp
T=$HANKO_TMP
D=$(long_dir "$T")
make_online "$D"
check "the state folder is ${#O} characters long" test ${#O} -ge 400
# A: residents 1 and 2; the backup; B (--replace) re-issues resident 1 (the
# same basic 4 items: A's line 2 revoked superseded); then the yearly close
req_dir "$T/a"
six_residents "$T/six.csv"
head -3 "$T/six.csv" >"$T/a/batch.csv"
ok "batch A" "$ON" issue --state "$O" --clock 2026-04-02T12:00:00Z --batch "$T/a/batch.csv" --out "$T/a/out"
ok "the backup" "$ON" backup --state "$O" --out "$T/bk" --clock 2026-04-02T13:00:00Z
req_dir "$T/b"
head -2 "$T/six.csv" >"$T/b/batch.csv"
ok "batch B (--replace): resident 1 again" "$ON" issue --state "$O" --clock 2026-04-02T14:00:00Z --replace --batch "$T/b/batch.csv" --out "$T/b/out"
A2=$(awk -F, '$1 == 2 && $2 == "ok" { print $3 }' "$T/a/out/results.csv")
B2=$(awk -F, '$1 == 2 && $2 == "ok" { print $3 }' "$T/b/out/results.csv")
ok "B's certificate revoked key-compromise" "$ON" revoke --state "$O" --clock 2026-04-02T14:10:00Z --serial "$B2" --reason 1
ok "then issuing key 1 compromised: every certificate of it revoked" "$ON" revoke --state "$O" --clock 2026-04-02T14:20:00Z --issuing-key-compromise --generation 1 --yes-revoke-all 1
ok "the yearly close" "$ON" audit close --state "$O" --clock 2026-04-02T14:30:00Z --actors op1,auditor1
CL=$(ls "$O"/audit/closed/audit-*.log)
RSEQ=$(awk -F'\t' -v s="$A2/431010/4/" '$3 == "cert.revoke" && index($6, s) { print $1; exit }' "$CL")
KSEQ=$(awk -F'\t' -v s="serial $B2: " '$3 == "cert.revoke" && index($6, s) { print $1; exit }' "$CL")
ASEQ=$(awk -F'\t' '$3 == "cert.revoke-all" { print $1; exit }' "$CL")
check "A's line 2's cert.revoke ($RSEQ), B's ($KSEQ) and the cert.revoke-all ($ASEQ) are in the closed log (${#CL} characters)" \
	test -n "$RSEQ" -a -n "$KSEQ" -a -n "$ASEQ"
# ---- the store lost: restored from the backup, the live log and closed/
# put back (docs/backup.md "Restore")
: >"$O/store.db"
mv "$O" "$O.damaged"
mkdir -m 0700 "$O"
(cd "$T/bk" && tar cf - --exclude=./MANIFEST --exclude=./MANIFEST.sig .) | (cd "$O" && tar xpf -)
mv "$O.damaged/token" "$O.damaged/secrets" "$O/"
cp -p "$O.damaged/audit/audit.log" "$O.damaged/audit/audit.log.head" "$O/audit/"
cp -rp "$O.damaged/audit/closed" "$O/audit/"
ok "recover B" "$ON" recover --state "$O" --clock 2026-04-02T15:00:00Z --batch "$T/b/batch.csv" --results "$T/b/out/results.csv"
cp "$HANKO_TMP/out" "$T/recover.out"
KID=$(awk -F'\t' '$3 == "cert.revoke-all" { print $6; exit }' "$CL" | sed -n 's/.*key id \([0-9a-fA-F]*\).*/\1/p')
said="it replaced serial $A2, revoked reason 4 as cert.revoke record $RSEQ of the closed log $CL says; revoked reason 1 (key-compromise) at 2026-04-02T14:10:00Z per cert.revoke seq $KSEQ of the closed log $CL, before cert.revoke-all seq $ASEQ of the closed log $CL (issuing generation 1 key id $KID, CPS 4-4-1-3) revoked the key's valid certificates: never valid"
check "... stdout names the closed log's record whole" grep -qF "serial $B2: put back (line 2, municipality 431010); $said" "$T/recover.out"
printf '%s\n' "; $said" >"$T/said"
check "... so does its cert.recover record" sh -c "grep '	cert.recover	ok	' '$O/audit/audit.log' | grep -qFf '$T/said'"
check "... A's line 2 revoked superseded" test "$(sqlite3 "$O/store.db" "SELECT status || reason FROM certificates WHERE hex(serial) = '$A2'")" = revoked4
# ---- a record removed from the closed log --------------------------------
cp -p "$CL" "$T/closed.saved"
chmod u+w "$CL"
sed -i 5d "$CL"
fails "audit verify: the closed log, its record and the rule named whole" 6 \
	"the closed log before this one fails: .*/closed/audit-[0-9a-f]{32}-20260402\.log:5: record 4: sequence number is 5, expected 4 \(a record was removed, inserted or moved\)$" \
	"$ON" audit verify --state "$O" --clock 2026-04-02T15:10:00Z
check "... the closed log's path whole" grep -qF "fails: $CL:5: record 4:" "$HANKO_TMP/err"
fails "check: a finding, the closed log's failure whole, then what is not compared and what to do" 1 " findings, 0 fixed$" \
	"$ON" check --state "$O" --clock 2026-04-02T15:10:00Z
check "... the finding" grep -qF "fails verification with the token's audit key (the closed log before this one fails: $CL:5: record 4: sequence number is 5, expected 4 (a record was removed, inserted or moved)): the revocations it records are not compared with the store; docs/backup.md \"Restore\", step 6" "$HANKO_TMP/out"
cp -p "$T/closed.saved" "$CL"
ok "the closed log put back: audit verify passes" "$ON" audit verify --state "$O" --clock 2026-04-02T15:10:00Z
finish

#!/usr/bin/env bash
# t_online_revoke_unrecorded.sh - a hanko-online revoke whose cert.revoke
# record cannot be appended (HANKO_FAIL_AUDIT_AT, as a full disk would):
# the revocation stays (final, CPS 4-4), and the operator is told, with exit
# 6, that the record is missing and what to do (docs/audit-log.md "When an
# append fails"); no cert.revoke fail record claims it failed.
. "$(dirname "$0")/online.sh"
req_dir "$T/b"
six_residents "$T/b/batch1.csv"
ok "issue six residents" "$ON" issue --state "$O" "${IC[@]}" --batch "$T/b/batch1.csv" --out "$T/out1"
serial=$(awk -F, 'NR == 2 && $2 == "ok" { print $3 }' "$T/out1/results.csv")
rc=0
HANKO_FAIL_AUDIT_AT=cert.revoke "$ON" revoke --state "$O" --clock 2026-04-03T10:00:00Z \
	--serial "$serial" --reason key-compromise >"$T/rev.out" 2>"$T/rev.err" || rc=$?
check "revoke whose record is lost: exit 6 (audit), not 0 (exit $rc)" test "$rc" = 6
check "... the revocation stays in the store (final)" \
	test "$(db "SELECT status FROM certificates WHERE hex(serial) = '$serial'")" = revoked
check "... said revoked on stdout" grep -q "^Revoked serial $serial " "$T/rev.out"
check "... the last stderr line names the serial, the missing record and what to do" \
	bash -c "tail -1 '$T/rev.err' | grep -q 'revoke: serial $serial: revoked (final, CPS 4-4.*its cert.revoke record is not in the audit log (.*forced by HANKO_FAIL_AUDIT_AT.*): hand this line to the internal auditor, who records the revocation (serial $serial, reason 1, revoked at 2026-04-03T10:00:00Z)'"
check "... no cert.revoke record of it" test "$(grep -c '	cert\.revoke	' "$O/audit/audit.log" || true)" = 0
check "... the log still ends signed" test "$(tail -1 "$O/audit/audit.log" | cut -f3)" = audit.checkpoint
ok "... and verifies" "$OFF" audit verify --state "$O"
finish

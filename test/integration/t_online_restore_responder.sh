#!/usr/bin/env bash
# t_online_restore_responder.sh - docs/backup.md "Restore" step 7 keeps the
# damaged folder's newer state.conf and certs/ when responder ran after the
# backup: the restored store then lacks that responder's certificate, which
# publish takes from the store for the repository's responder/ (CPS 2-8-2).
# check (step 8) names it and puts it back (--dry-run changes nothing); the
# next publish has it; check is then clean.
# When the folder is lost (only token/, secrets/ and audit/ survive), the
# backup's state.conf names responder 1 while the token holds ocsp-2's key:
# responder takes the next number free in both (3), says and audits why,
# and leaves ocsp-2 unused (it refused for ever before: the key exists).
. "$(dirname "$0")/online.sh"

P=$T/repo
BK=$T/bk
mkdir -p "$BK"
ok "OCSP responder 1" "$ON" responder --state "$O" --clock 2026-04-02T13:00:00Z
ok "the day's backup" "$ON" backup --state "$O" --out "$BK/b1" --clock 2026-04-02T13:10:00Z
ok "OCSP responder 2, after the backup" "$ON" responder --state "$O" --clock 2026-04-02T13:20:00Z
# its name in the repository: responder/<first 16 hex digits of its SHA-256>.cer
R2=$(sha256sum <"$O/certs/ocsp-responder-2.der" | cut -c1-16)
R2DER=$(xxd -p "$O/certs/ocsp-responder-2.der" | tr -d '\n')

restore_state "$BK/b1" "$T/damaged" "$T/damaged/audit"
# step 7: the damaged folder's state.conf (naming responder 2) and its
# certificate are sound and newer than the backup's: kept
cp -p "$T/damaged/state.conf" "$O/state.conf"
cp -p "$T/damaged/certs/ocsp-responder-2.der" "$T/damaged/certs/ocsp-responder-2.pem" "$O/certs/"
check "restored: the store lacks responder 2's certificate" \
	test "$(db "SELECT count(*) FROM ca_certs WHERE kind = 'responder' AND hex(der) = upper('$R2DER')")" = 0

before=$(db .dump | sha256sum)
rc=0; "$ON" check --state "$O" --clock 2026-04-02T14:00:00Z --dry-run >"$T/dry.out" 2>&1 || rc=$?
check "check --dry-run: a finding (exit $rc)" test "$rc" = 1
check "... names responder 2, would put it back" grep -q \
	"^responder: OCSP responder 2 (certs/ocsp-responder-2.der): state.conf names it, the store does not hold its certificate .*; would be put back$" "$T/dry.out"
check "... nothing changed" test "$(db .dump | sha256sum)" = "$before"

rc=0; "$ON" check --state "$O" --clock 2026-04-02T14:00:00Z >"$T/fix.out" 2>&1 || rc=$?
check "check: a finding, fixed (exit $rc)" test "$rc" = 1
check "... put back" grep -q "^responder: OCSP responder 2 .*; put back$" "$T/fix.out"
check "... its certificate in the store, as responder stored it (generation 2)" \
	test "$(db "SELECT generation FROM ca_certs WHERE kind = 'responder' AND hex(der) = upper('$R2DER')")" = 2
check "... audited" grep -Eq "	store.responder	ok	op1@ca-online	OCSP responder 2 \(certs/ocsp-responder-2.der\): named by state.conf, not in the store: put back	" \
	"$O/audit/audit.log"
ok "check again: clean" "$ON" check --state "$O" --clock 2026-04-02T14:10:00Z
check "... Store consistent" grep -q "^Store consistent" "$HANKO_TMP/out"

rc=0; "$ON" publish --state "$O" --repo "$P" --clock 2026-04-02T15:00:00Z >"$T/pub.out" 2>&1 || rc=$?
check "publish (exit $rc: 0 or 9, a warning)" sh -c "[ $rc = 0 ] || [ $rc = 9 ]"
check "... the repository has responder 2's certificate" cmp "$P/responder/$R2.cer" "$O/certs/ocsp-responder-2.der"

# the folder lost: the backup's state.conf (responder.current 1) with the
# token that holds ocsp-2's key
restore_state "$BK/b1" "$T/lost" "$T/lost/audit"
check "the backup's state.conf names responder 1" grep -qx "responder.current = 1" "$O/state.conf"
rc=0; "$ON" responder --state "$O" --clock 2026-04-02T16:00:00Z >"$T/r3.out" 2>"$T/r3.err" || rc=$?
check "responder with ocsp-2's key in the token and not in state.conf: made (exit $rc)" test "$rc" = 0
check "... as responder 3" grep -q "^OCSP responder 3" "$T/r3.out"
check "... state.conf names responder 3" grep -qx "responder.current = 3" "$O/state.conf"
check "... saying why, on stderr" grep -qx "hanko-online responder: warning: key ocsp-2 is in the token and state.conf names no responder 2 (made after the backup state.conf came from, or a run cut short): left unused, this responder is 3 (docs/ocsp.md)" "$T/r3.err"
check "... and in its key.generate record" grep -Eq "	key.generate	ok	op1@ca-online	ocsp-3: .*\(OCSP responder 3\); key ocsp-2 is in the token and state.conf names no responder 2 .*: left unused, this responder is 3	" "$O/audit/audit.log"
check "... its certificate names responder 3" sh -c "openssl x509 -inform DER -in '$O/certs/ocsp-responder-3.der' -noout -subject | grep -q 'CN *= *OCSP Responder 3'"
ok "ocsp-refresh signs with responder 3" "$ON" ocsp-refresh --state "$O" --clock 2026-04-02T16:10:00Z
ok "the audit log verifies" "$ON" audit verify --state "$O"
finish

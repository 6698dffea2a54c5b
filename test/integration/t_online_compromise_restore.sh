#!/usr/bin/env bash
# t_online_compromise_restore.sh - the issuing-key compromise mark (CPS
# 4-14-2, 4-4-1-3) outlives a restore of the online state from a backup
# (docs/backup.md "Restore"): "revoke --issuing-key-compromise" also writes
# it into the token (a private data object, issuing.N.compromised), before
# the revocations and only once; the backup holds state.conf and store.db
# but not token/. After a restore of a backup taken before the compromise
# (state.conf without the mark, the key's certificates valid again in the
# store), issue refuses (exit 3, one line naming the token's mark and its
# time, state.conf lacking it, and the revoke to run), nothing is signed;
# recover, which signs nothing, runs under the token's mark (a note on
# stderr: recover the batches first, then mark it again; docs/backup.md
# "Restore", step 9) and changes nothing here; check names it with that
# command; publish writes the public notice from the token's mark alone
# (state.conf not written), the index page marks the issuing CA; revoke
# run again marks state.conf again and keeps the token's one mark.
. "$(dirname "$0")/online.sh"
BK=$T/backups
mkdir -p "$BK"
B=$T/req
req_dir "$B"
six_residents "$B/batch1.csv"
ok "issue six residents" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch1.csv" --out "$T/out1"
ok "the backup, before the compromise" "$ON" backup --state "$O" --out "$BK/b1" --clock 2026-04-02T13:00:00Z
check "... its state.conf has no compromise mark" sh -c "! grep -q 'compromised' '$BK/b1/state.conf'"

# The token's data objects labelled issuing.1.compromised, as pkcs11-tool
# (OpenSC) lists them after a user login: one line per object.
LABEL=$(sed -n 's/^token.label = //p' "$O/state.conf")
marks() {
	SOFTHSM2_CONF="$O/token/softhsm2.conf" pkcs11-tool --module "$SOFT" --token-label "$LABEL" \
		--login --pin "$(cat "$O/secrets/token-user-pin")" --list-objects --type data 2>/dev/null |
		grep -c "label: *'issuing\.1\.compromised'" || true
}
marks_public() {
	SOFTHSM2_CONF="$O/token/softhsm2.conf" pkcs11-tool --module "$SOFT" --token-label "$LABEL" \
		--list-objects --type data 2>/dev/null | grep -c "issuing\.1\.compromised" || true
}
check "no mark in the token yet" test "$(marks)" = 0

# Set 1, before the compromise: no notice (no ARL imported: exit 9).
P=$T/repo
fails "publish: set 1, before the compromise" 9 "no imported ARL is current" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T08:00:00Z
check "... no notice in it" sh -c "! grep -q ' notice/' '$P/MANIFEST'"

# The compromise, its revocations failing first (a trigger injected): both
# marks are saved before them.
CC=(--clock 2026-04-03T09:00:00Z)
KID=$(openssl x509 -in "$ISS" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f)
db "CREATE TRIGGER inject BEFORE UPDATE ON certificates WHEN NEW.status = 'revoked' BEGIN SELECT RAISE(ABORT, 'injected'); END;"
fails "compromise: the revocations fail after the marks" 3 "injected" \
	"$ON" revoke --state "$O" "${CC[@]}" --issuing-key-compromise --generation 1 --yes-revoke-all 6
check "... nothing revoked" test "$(db "SELECT count(*) FROM certificates WHERE status = 'valid'")" = 6
check "... the token holds the mark: one data object" test "$(marks)" = 1
check "... private: not listed without a login" test "$(marks_public)" = 0
check "... state.conf holds it too" grep -q "^issuing.1.compromised = 2026-04-03T09:00:00Z" "$O/state.conf"
db "DROP TRIGGER inject"
ok "compromise: --yes-revoke-all 6" "$ON" revoke --state "$O" --clock 2026-04-03T10:00:00Z \
	--issuing-key-compromise --generation 1 --yes-revoke-all 6
check "... says the token's mark of the earlier run is kept" grep -q \
	"^Issuing generation 1 marked compromised in the token and in state.conf (issuing.1.compromised); the token's mark of an earlier run kept" "$T/out"
check "... still one data object in the token" test "$(marks)" = 1
SOFTHSM2_CONF="$O/token/softhsm2.conf" pkcs11-tool --module "$SOFT" --token-label "$LABEL" --login \
	--pin "$(cat "$O/secrets/token-user-pin")" --read-object --type data --label issuing.1.compromised \
	--application-label hanko-online -o "$T/mark.val" >/dev/null 2>&1 || true
check "... its value: the key id and the time of the first run" test "$(cat "$T/mark.val" 2>/dev/null)" = \
	"key id $KID, 2026-04-03T09:00:00Z"
check "... all six revoked" test "$(db "SELECT count(*) FROM certificates WHERE status = 'revoked' AND reason = 2")" = 6
# CPS 4-14-2: no certificate under the compromised key, an OCSP
# responder's no more than a resident's
fails "responder under the compromised generation: refused" 3 \
	"^hanko-online responder: $O/state\.conf: issuing\.1\.compromised: CPS 4-14-2: no OCSP responder certificate under a compromised issuing key; nothing made$" \
	"$ON" responder --state "$O" --clock 2026-04-03T11:00:00Z
check "... no responder certificate made, none named" sh -c \
	"! ls '$O/certs' | grep -q '^ocsp-responder-' && ! grep -q '^responder\.' '$O/state.conf'"

# ---- the state restored from the backup (docs/backup.md "Restore") -----
restore_state "$BK/b1" "$O.damaged" "$O.damaged/audit"
check "restored: state.conf lacks the mark, the six are valid again" sh -c \
	"! grep -q compromised '$O/state.conf' && test \$(sqlite3 '$O/store.db' \"SELECT count(*) FROM certificates WHERE status = 'valid'\") = 6"
check "... the token (moved back) still holds its one mark" test "$(marks)" = 1

# CPS 4-4-1-3: the compromise made public (docs/repository.md "Compromise
# notices") by the token's mark alone, read-only (state.conf stays as it
# is), at once: the same JST day as set 1, without --now, not skipped
# (notice_missing); the notice gives the token's time
cp "$O/state.conf" "$T/conf.before"
rc=0; "$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T12:00:00Z >"$T/pub.out" 2>"$T/pub.err" || rc=$?
check "publish under the restored state, set 1's day, no --now (exit $rc: no ARL imported): set 2, with notice/issuing-1.txt, by the token's mark" sh -c \
	"[ $rc = 9 ] && [ \"\$(readlink '$P')\" = repo.sets/2 ] && grep -q ' notice/issuing-1\.txt\$' '$P/MANIFEST' &&
	 grep -qx '宣言日時 / Declared: 2026-04-03T09:00:00Z' '$P/notice/issuing-1.txt'"
check "... it names issuing CA 1's SHA-256" grep -qx "SHA-256: $(openssl x509 -in "$ISS" -outform DER | sha256sum | cut -c1-64 | tr a-f A-F | sed 's/../&:/g; s/:$//')" "$P/notice/issuing-1.txt"
check "... state.conf not written: as restored" cmp -s "$O/state.conf" "$T/conf.before"
ok "index-page of that set" "$ON" index-page --repo "$P" --clock 2026-04-03T12:00:00Z --out "$T/ix.html"
check "... the warning block links the notice; issuing CA 1's card: declared compromised" sh -c \
	"grep -q '<a href=\"notice/issuing-1.txt\">' '$T/ix.html' && grep -q '危殆化宣言 / declared compromised' '$T/ix.html'"

MSG="token '$LABEL': issuing\.1\.compromised \(key id $KID, 2026-04-03T09:00:00Z\), but $O/state\.conf lacks it \(restored from a backup taken before the compromise\?\): CPS 4-14-2: nothing issued; recover the batches issued after the backup \(hanko-online recover\), then the log's revocations, which mark it again at the compromise's time: hanko-online recover --state $O --revocations \(with no cert\.revoke-all ok record of it in the log: revoke --issuing-key-compromise --generation 1\) \(docs/backup\.md \"Restore\", step 9\)$"
{ sed -n 1p "$B/batch1.csv"
  echo "431010,70000000007,熊本　次郎,00000,319750301,1,熊本県熊本市中央区水前寺６丁目１８番１号,00000000000000000000,keys/resident-2.pub.pem"
} >"$B/batch2.csv"
sqlite3 "$O/store.db" "SELECT hex(serial), status FROM certificates ORDER BY serial; SELECT hex(serial) FROM serials ORDER BY serial" >"$T/rows.before"
fails "issue under the restored state: refused, naming both marks" 3 "$MSG" \
	"$ON" issue --state "$O" --clock 2026-04-03T12:00:00Z --batch "$B/batch2.csv" --out "$T/out2"
check "... nothing signed or reserved: the store's rows and serials unchanged" sh -c \
	"sqlite3 '$O/store.db' 'SELECT hex(serial), status FROM certificates ORDER BY serial; SELECT hex(serial) FROM serials ORDER BY serial' | cmp -s - '$T/rows.before'"
check "... no results" test ! -e "$T/out2/results.csv"
check "... no issue.start but batch 1's" test "$(grep -c '	issue.start	' "$O/audit/audit.log")" = 1
ok "recover under the restored state: taken as marked, not refused" \
	"$ON" recover --state "$O" --clock 2026-04-03T12:00:00Z --batch "$B/batch1.csv" --results "$T/out1/results.csv"
check "... a note names the token's mark and says to mark it again once the batches are recovered" grep -q \
	"^hanko-online recover: note: token '$LABEL': issuing\.1\.compromised (key id $KID, 2026-04-03T09:00:00Z), but $O/state\.conf lacks it (restored from a backup taken before the compromise?): taken as marked (CPS 4-14-2): its certificates go back revoked per the audit log's cert.revoke-all, never valid; once every batch is recovered, redo the log's revocations, which marks generation 1 again at the cert.revoke-all's time: hanko-online recover --state $O --revocations (docs/backup.md \"Restore\", step 9)\$" "$T/err"
check "... the six already in the store" grep -q ": 0 put back, 6 already in the store, 0 refused of 6 issued$" "$T/out"
check "... nothing put back or changed" sh -c \
	"sqlite3 '$O/store.db' 'SELECT hex(serial), status FROM certificates ORDER BY serial; SELECT hex(serial) FROM serials ORDER BY serial' | cmp -s - '$T/rows.before'"
fails "responder under the restored state: refused the same way" 3 "$MSG" \
	"$ON" responder --state "$O" --clock 2026-04-03T12:00:00Z
check "... no responder certificate made" sh -c "! ls '$O/certs' | grep -q '^ocsp-responder-'"
CK=(--clock 2026-04-04T09:00:00Z)
# 7 findings: the mark, and the six valid certificates the log's
# cert.revoke-all revoked
fails "check: the token's mark state.conf lacks is a finding" 1 "7 findings, 0 fixed \(dry run: nothing changed\)$" \
	"$ON" check --state "$O" "${CK[@]}" --dry-run
check "... one line naming it and the command that marks it again" grep -q \
	"^compromise: issuing generation 1: the token marks it compromised (issuing.1.compromised: key id $KID, 2026-04-03T09:00:00Z), state.conf does not (restored from a backup taken before the compromise?); issue refuses until it is marked again; recover the batches issued after the backup first (they go back revoked), then redo the log's revocations, which marks it again at the cert.revoke-all's time: hanko-online recover --state $O --revocations (docs/backup.md \"Restore\", step 9)\$" \
	"$T/out"

# docs/backup.md "Restore", step 9: the compromise revoked again
ok "revoke --issuing-key-compromise --dry-run: the six again" "$ON" revoke --state "$O" "${CK[@]}" \
	--issuing-key-compromise --generation 1 --dry-run
check "... 6 valid" grep -q ": 6 valid and 0 pending certificates" "$T/out"
ok "revoke --issuing-key-compromise again: --yes-revoke-all 6" "$ON" revoke --state "$O" "${CK[@]}" \
	--issuing-key-compromise --generation 1 --yes-revoke-all 6
check "... state.conf carries the mark again" grep -q "^issuing.1.compromised = 2026-04-04T09:00:00Z" "$O/state.conf"
check "... the token's mark kept, not duplicated" sh -c \
	"grep -q \"the token's mark of an earlier run kept\" '$T/out' && test \$(SOFTHSM2_CONF='$O/token/softhsm2.conf' pkcs11-tool --module '$SOFT' --token-label '$LABEL' --login --pin \"\$(cat '$O/secrets/token-user-pin')\" --list-objects --type data 2>/dev/null | grep -c \"label: *'issuing\.1\.compromised'\") = 1"
check "... the six revoked" test "$(db "SELECT count(*) FROM certificates WHERE status = 'revoked' AND reason = 2")" = 6
ok "check: no compromise finding now" "$ON" check --state "$O" "${CK[@]}"
check "... no compromise line" sh -c "! grep -q '^compromise:' '$T/out'"
fails "issue: refused by state.conf's mark again" 3 "issuing.1.compromised: CPS 4-14-2: no issuance under a compromised issuing key" \
	"$ON" issue --state "$O" --clock 2026-04-04T12:00:00Z --batch "$B/batch2.csv" --out "$T/out3"
check "... nothing reserved" test "$(db "SELECT count(*) FROM certificates")" = 6
ok "the online audit log verifies (checkpoints by audit-1)" "$OFF" audit verify --state "$O"
finish

#!/usr/bin/env bash
# t_online_backup_schema.sh - a backup taken before a store schema upgrade
# (docs/backup.md "Checking a backup", "Restore" step 3; docs/store.md
# "Schema versions"): its store.db of schema 8, 7 or 6, which the first
# command after a restore upgrades, verifies (exit 0, the schema said),
# checked against the schema of ITS version: an altered, missing or
# unexpected object in it is still found, and a schema 6 store.db that
# has a store id is named; a version this hanko-online does not upgrade
# (5, 10) stays a problem. A restore from such a backup (docs/backup.md
# "Restore") is upgraded by its first command (audited store.upgrade),
# check is clean after it, publish runs on it, and backup verify --state
# of the restored state's next backup passes. The upgrade to schema 9
# records the key of the certificate revoked key-compromise before the
# backup in compromised_keys, and issue refuses that key after it.
#
# The older backups are this state's backup with store.db put back to the
# schema of that version as hanko-online made it (the statements
# t_online_store_id.sh uses), MANIFEST's store.db line made again and
# MANIFEST.sig signed again by the token's audit key: so each is a backup
# as the hanko-online of that version took it (a real one, of commit
# fe5b9df at schema 7, verified the same when this was written).
. "$(dirname "$0")/online.sh"
BK=$T/backups
mkdir -p "$BK"
SID=$(sed -n 's/^store.id = //p' "$O/state.conf")
LABEL=$(sed -n 's/^token.label = //p' "$O/state.conf")
KEY=$O/audit/audit-key.pem
ver() { sqlite3 "file:$1?immutable=1" "SELECT value FROM meta WHERE key = 'schema'"; }

req_dir "$T/b"
six_residents "$T/b/batch1.csv"
ok "issue six residents" "$ON" issue --state "$O" "${IC[@]}" --batch "$T/b/batch1.csv" --out "$T/out1"
# resident 1's card lost: its key compromised before the backups
KC=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/out1/results.csv")
ok "resident 1's certificate revoked key-compromise ($KC)" "$ON" revoke --state "$O" --clock 2026-04-02T12:30:00Z \
	--serial "$KC" --reason key-compromise
ok "a backup (schema 9)" "$ON" backup --state "$O" --out "$BK/d9" --clock 2026-04-02T13:00:00Z
check "... its store.db is of schema 9" test "$(ver "$BK/d9/store.db")" = 9

# schema 8: no compromised_keys ($KEYS8); ocsp_responses as schemas 6 and 7
# made it ($OCSP7); schema 7 with its version; schema 6 without the store
# id's triggers and row.
KEYS8="DROP TABLE compromised_keys;"
S8="$KEYS8 UPDATE meta SET value = '8' WHERE key = 'schema';"
S7="$KEYS8 $OCSP7 UPDATE meta SET value = '7' WHERE key = 'schema';"
S6="$KEYS8 $OCSP7 DROP TRIGGER meta_store_id_once; DROP TRIGGER meta_store_id_fixed;
	DROP TRIGGER meta_store_id_no_delete; DELETE FROM meta WHERE key = 'store.id';
	UPDATE meta SET value = '6' WHERE key = 'schema';"

# resign DIR: MANIFEST's store.db line the file's SHA-256 and size again,
# MANIFEST.sig the token's audit key's signature of it (ECDSA over its
# SHA-256, DER: as backup signs it).
resign() {
	local d=$1 sz sum
	sz=$(stat -c %s "$d/store.db")
	sum=$(sha256sum <"$d/store.db" | cut -c1-64)
	sed -i "s|^file [0-9a-f]* [0-9]* store.db\$|file $sum $sz store.db|" "$d/MANIFEST"
	openssl dgst -sha256 -binary "$d/MANIFEST" >"$T/manifest.sha256"
	SOFTHSM2_CONF="$O/token/softhsm2.conf" pkcs11-tool --module "$SOFT" --token-label "$LABEL" \
		--login --pin "$(cat "$O/secrets/token-user-pin")" --sign --mechanism ECDSA \
		--signature-format openssl --id "$(printf audit-1 | xxd -p)" \
		-i "$T/manifest.sha256" -o "$d/MANIFEST.sig" >/dev/null 2>&1
}
# older NAME SQL: BK/NAME, a copy of the schema 9 backup whose store.db had
# SQL run on it, signed again.
older() {
	rm -rf "${BK:?}/$1"
	cp -a "$BK/d9" "$BK/$1"
	sqlite3 "$BK/$1/store.db" "$2" >/dev/null
	resign "$BK/$1"
}

# ---- the re-signing itself: a backup as it was, signed again, verifies ---
older same "SELECT 1;"
ok "the schema 9 backup signed again (the test's own re-signing): verifies" \
	"$ON" backup verify "$BK/same" --key "$KEY"
check "... no -wal or -shm left beside its store.db" sh -c "! ls '$BK/same' | grep -q 'store.db-'"
check "... and says nothing of a schema" sh -c "! grep -q '^store.db is of schema' '$HANKO_TMP/out'"

# ---- schema 8, 7 and 6: verified against that version's schema ---------
older s8 "$S8"
check "a backup whose store.db is of schema 8 (no compromised_keys)" test "$(ver "$BK/s8/store.db")" = 8
ok "... verifies (--key)" "$ON" backup verify "$BK/s8" --key "$KEY"
check "... saying its store.db is of schema 8, checked against schema 8, upgraded after a restore" grep -qx \
	"store.db is of schema 8 (taken before an upgrade of hanko; this hanko-online's is 9), checked against schema 8 as init and the upgrades made it: the first command after a restore upgrades it to 9 (audited store.upgrade; docs/store.md, schema versions)" \
	"$HANKO_TMP/out"
ok "... verifies (--state)" "$ON" backup verify "$BK/s8" --state "$O"

older s7 "$S7"
check "a backup whose store.db is of schema 7" test "$(ver "$BK/s7/store.db")" = 7
ok "... verifies (--key)" "$ON" backup verify "$BK/s7" --key "$KEY"
check "... saying its store.db is of schema 7, checked against schema 7, upgraded after a restore" grep -qx \
	"store.db is of schema 7 (taken before an upgrade of hanko; this hanko-online's is 9), checked against schema 7 as init and the upgrades made it: the first command after a restore upgrades it to 9 (audited store.upgrade; docs/store.md, schema versions)" \
	"$HANKO_TMP/out"
check "... and OK" grep -q "^$BK/s7: OK: a backup of .* store id $SID;" "$HANKO_TMP/out"
ok "... verifies (--state: this state's, its live log begins with the backup's)" \
	"$ON" backup verify "$BK/s7" --state "$O"
check "... (this state's; the live log compared)" sh -c \
	"grep -q 'store id $SID (this state.s)' '$HANKO_TMP/out' && grep -q 'audit log begins with the backup.s copy' '$HANKO_TMP/out' && grep -q '^store.db is of schema 7 ' '$HANKO_TMP/out'"

older s6 "$S6"
check "a backup whose store.db is of schema 6 (no store id in it)" sh -c \
	"test '$(ver "$BK/s6/store.db")' = 6 && test -z \"\$(sqlite3 'file:$BK/s6/store.db?immutable=1' \"SELECT value FROM meta WHERE key = 'store.id'\")\""
ok "... verifies (--key)" "$ON" backup verify "$BK/s6" --key "$KEY"
check "... saying so, and that the upgrade records MANIFEST's store id" grep -qx \
	"store.db is of schema 6 (taken before an upgrade of hanko; this hanko-online's is 9), checked against schema 6 as init and the upgrades made it: the first command after a restore upgrades it to 9, recording store id $SID (audited store.upgrade; docs/store.md, schema versions)" \
	"$HANKO_TMP/out"
ok "... verifies (--state)" "$ON" backup verify "$BK/s6" --state "$O"

# ---- what is not that version's schema is still found --------------------
older s7alt "$S7 DROP TRIGGER serials_no_delete;
	CREATE TRIGGER serials_no_delete BEFORE DELETE ON serials BEGIN SELECT 1; END;"
fails "schema 7, a trigger altered: found" 1 "s7alt: 1 problem: not a sound backup$" \
	"$ON" backup verify "$BK/s7alt" --key "$KEY"
check "... named, against schema 7" grep -qx \
	"$BK/s7alt/store.db: schema: trigger serials_no_delete altered (not the schema 7 that init and the upgrades made)" "$HANKO_TMP/out"
older s7miss "$S7 DROP TRIGGER meta_store_id_fixed;"
fails "schema 7, one of its store id's triggers missing: found" 1 "s7miss: 1 problem" \
	"$ON" backup verify "$BK/s7miss" --key "$KEY"
check "... named" grep -qx \
	"$BK/s7miss/store.db: schema: trigger meta_store_id_fixed missing (not the schema 7 that init and the upgrades made)" "$HANKO_TMP/out"
older s7col "$KEYS8 $OCSP7 ALTER TABLE ocsp_responses ADD COLUMN responder BLOB CHECK (length(responder) = 32);
	UPDATE meta SET value = '7' WHERE key = 'schema';"
fails "schema 7 with a responder column not as schema 8 adds it: found" 1 "s7col: 1 problem" \
	"$ON" backup verify "$BK/s7col" --key "$KEY"
check "... named (table ocsp_responses altered)" grep -qx \
	"$BK/s7col/store.db: schema: table ocsp_responses altered (not the schema 7 that init and the upgrades made)" "$HANKO_TMP/out"
older s8as7 "$KEYS8 UPDATE meta SET value = '7' WHERE key = 'schema';"
fails "a schema 8 store.db that says 7: found (its column is not schema 7's)" 1 "s8as7: 1 problem" \
	"$ON" backup verify "$BK/s8as7" --key "$KEY"
check "... named" grep -q "^$BK/s8as7/store.db: schema: table ocsp_responses altered" "$HANKO_TMP/out"
older s9as8 "UPDATE meta SET value = '8' WHERE key = 'schema';"
fails "a schema 9 store.db that says 8: found (compromised_keys is not schema 8's)" 1 "s9as8: [0-9]+ problems" \
	"$ON" backup verify "$BK/s9as8" --key "$KEY"
check "... named: the table and its triggers unexpected" sh -c \
	"grep -qx '$BK/s9as8/store.db: schema: table compromised_keys unexpected (not the schema 8 that init and the upgrades made)' '$HANKO_TMP/out' &&
	 grep -qx '$BK/s9as8/store.db: schema: trigger compromised_keys_revoked unexpected (not the schema 8 that init and the upgrades made)' '$HANKO_TMP/out'"
older s6id "$KEYS8 $OCSP7 UPDATE meta SET value = '6' WHERE key = 'schema';"
fails "a store.db of schema 6 with schema 7's triggers and a store id: found" 1 "s6id: 4 problems" \
	"$ON" backup verify "$BK/s6id" --key "$KEY"
check "... each trigger unexpected, named" test "$(grep -c "^$BK/s6id/store.db: schema: trigger meta_store_id_[a-z_]* unexpected (not the schema 6 that init and the upgrades made)\$" "$HANKO_TMP/out")" = 3
check "... and the store id (its upgrade would fail)" grep -qx \
	"$BK/s6id/store.db: meta: store.id: a store of schema 6 has none (its upgrade records state.conf's), this one has $SID" "$HANKO_TMP/out"
for v in 5 10; do
	older "s$v" "$S7 UPDATE meta SET value = '$v' WHERE key = 'schema';"
	fails "a store.db of schema $v (not one this hanko-online upgrades): a problem" 1 "s$v: 1 problem" \
		"$ON" backup verify "$BK/s$v" --key "$KEY"
	check "... named" grep -q \
		"^$BK/s$v/store.db: .*meta: schema: the store is of schema $v; this hanko-online reads schema 9, and 6 to 8 in a backup (upgraded by the first command after a restore; docs/store.md, schema versions)\$" \
		"$HANKO_TMP/out"
done
# another state's schema 6 backup (its state.conf and MANIFEST another id):
# named with --state although store.db has no id to compare
cp -a "$O" "$T/other"
sed -i "s/^store.id = .*/store.id = 00112233445566778899aabbccddeeff/" "$T/other/state.conf"
fails "backup verify --state of another state, schema 6 backup: named" 1 "s6: 1 problem: not a sound backup of this state" \
	"$ON" backup verify "$BK/s6" --state "$T/other"
check "... by MANIFEST's store id" grep -qx \
	"$BK/s6/MANIFEST: store id $SID is not this state's (state.conf store.id 00112233445566778899aabbccddeeff): a backup of another state" "$HANKO_TMP/out"
rm -rf "$T/other"

# ---- restore from the schema 7 backup (docs/backup.md, "Restore") --------
S1=$(db "SELECT hex(serial) FROM certificates WHERE status = 'valid' ORDER BY rowid LIMIT 1")
ok "a revocation after the backups" "$ON" revoke --state "$O" --clock 2026-04-03T05:00:00Z --serial "$S1" --reason superseded
P=$T/repo
restore_state "$BK/s7" "$T/damaged" "$T/damaged/audit"
check "restored: store.db of schema 7" test "$(db "SELECT value FROM meta WHERE key = 'schema'")" = 7
rc=0; "$ON" check --state "$O" --clock 2026-04-03T06:00:00Z >"$T/c7.out" 2>"$T/c7.err" || rc=$?
check "check on the restored state: exit 1 ($rc), naming the revocation the store lost" sh -c \
	"[ $rc = 1 ] && tail -1 '$T/c7.err' | grep -q 'store.db: 1 findings, 0 fixed\$'"
check "... stdout: only that revocation, no schema finding" sh -c \
	"grep -q '^revocation: serial $S1 ' '$T/c7.out' && [ \$(wc -l <'$T/c7.out') = 1 ]"
check "... the upgrade said first (stderr)" sh -c "head -1 '$T/c7.err' | grep -qx \
	'hanko-online: $O/store.db: schema 7 -> 9: the responder of each pre-signed OCSP response recorded from now on (the next ocsp-refresh signs every stored response again); the keys of the 1 certificates revoked key-compromise recorded in compromised_keys (issue refuses them, CPS 4-4-2-5) (audited store.upgrade)'"
check "... store.db of schema 9, its id kept" test "$(db "SELECT value FROM meta WHERE key = 'schema'") $(db "SELECT value FROM meta WHERE key = 'store.id'")" = "9 $SID"
check "... compromised_keys: the key of $KC" test "$(db "SELECT hex(serial) FROM compromised_keys")" = "$KC"
check "... audited store.upgrade" grep -q "	store.upgrade	ok	op1@ca-online	$O/store.db: schema 7 -> 9: .*; the keys of the 1 certificates revoked key-compromise recorded in compromised_keys" "$O/audit/audit.log"
ok "... the revocation redone (recover --revocations)" "$ON" recover --state "$O" --revocations --clock 2026-04-03T06:10:00Z
ok "check: clean after the upgrade" "$ON" check --state "$O" --clock 2026-04-03T06:20:00Z
check "... Store consistent, nothing missing, altered or unexpected" sh -c \
	"grep -q '^Store consistent' '$HANKO_TMP/out' && ! grep -Eq 'schema:|missing|altered|unexpected' '$HANKO_TMP/out'"
rc=0; "$ON" publish --state "$O" --repo "$P" --clock 2026-04-04T03:00:00Z >"$T/pub.out" 2>&1 || rc=$?
check "publish runs on the restored state (exit $rc: 0 or 9, a warning)" sh -c "[ $rc = 0 ] || [ $rc = 9 ]"
ok "the restored state backs up again" "$ON" backup --state "$O" --out "$BK/after7" --clock 2026-04-04T04:00:00Z
ok "... and that backup verifies --state (schema 9)" "$ON" backup verify "$BK/after7" --state "$O"
check "... no schema line (its own version)" sh -c "! grep -q '^store.db is of schema' '$HANKO_TMP/out'"
ok "the schema 7 backup still verifies --state against the restored state's live log" \
	"$ON" backup verify "$BK/s7" --state "$O"

# ---- restore from the schema 6 backup -------------------------------------
restore_state "$BK/s6" "$T/damaged6" "$T/damaged6/audit"
check "restored: store.db of schema 6, no store id" test "$(db "SELECT value FROM meta WHERE key = 'schema'")/$(db "SELECT count(*) FROM meta WHERE key = 'store.id'")" = 6/0
"$ON" check --state "$O" --clock 2026-04-04T05:00:00Z >"$T/c6.out" 2>"$T/c6.err" || true
check "check on it: the upgrade records state.conf's id (stderr)" grep -qx \
	"hanko-online: $O/store.db: schema 6 -> 9: store id $SID of $O/state.conf recorded in it; the responder of each pre-signed OCSP response recorded from now on (the next ocsp-refresh signs every stored response again); the keys of the 1 certificates revoked key-compromise recorded in compromised_keys (issue refuses them, CPS 4-4-2-5) (audited store.upgrade)" \
	"$T/c6.err"
check "... store.db of schema 9, this state's id, the key of $KC" test "$(db "SELECT value FROM meta WHERE key = 'schema'") $(db "SELECT value FROM meta WHERE key = 'store.id'") $(db "SELECT hex(serial) FROM compromised_keys")" = "9 $SID $KC"
check "... no schema finding" sh -c "! grep -q '^schema:' '$T/c6.out'"
ok "... the revocation redone (recover --revocations)" "$ON" recover --state "$O" --revocations --clock 2026-04-04T05:10:00Z
ok "check: clean after the upgrade from 6" "$ON" check --state "$O" --clock 2026-04-04T05:20:00Z
check "... Store consistent, nothing missing, altered or unexpected" sh -c \
	"grep -q '^Store consistent' '$HANKO_TMP/out' && ! grep -Eq 'schema:|missing|altered|unexpected' '$HANKO_TMP/out'"
# ---- restore from the schema 8 backup: its keys recorded once, issue refuses
restore_state "$BK/s8" "$T/damaged8" "$T/damaged8/audit"
check "restored: store.db of schema 8, no compromised_keys" test \
	"$(db "SELECT value FROM meta WHERE key = 'schema'")/$(db "SELECT count(*) FROM sqlite_schema WHERE name = 'compromised_keys'")" = 8/0
"$ON" check --state "$O" --clock 2026-04-04T06:00:00Z >"$T/c8.out" 2>"$T/c8.err" || true
check "check on it: the upgrade records the key revoked key-compromise (stderr)" grep -qx \
	"hanko-online: $O/store.db: schema 8 -> 9: the keys of the 1 certificates revoked key-compromise recorded in compromised_keys (issue refuses them, CPS 4-4-2-5) (audited store.upgrade)" \
	"$T/c8.err"
check "... store.db of schema 9, compromised_keys: the key of $KC" test \
	"$(db "SELECT value FROM meta WHERE key = 'schema'") $(db "SELECT hex(serial) FROM compromised_keys")" = "9 $KC"
check "... audited store.upgrade" grep -q "	store.upgrade	ok	op1@ca-online	$O/store.db: schema 8 -> 9: the keys of the 1 certificates" "$O/audit/audit.log"
check "... no schema or compromised key finding" sh -c "! grep -Eq '^(schema|compromised key):' '$T/c8.out'"
ok "... the revocation redone (recover --revocations)" "$ON" recover --state "$O" --revocations --clock 2026-04-04T06:10:00Z
ok "check: clean after the upgrade from 8" "$ON" check --state "$O" --clock 2026-04-04T06:20:00Z
check "... Store consistent" grep -q '^Store consistent' "$HANKO_TMP/out"
{ sed -n 1p "$T/b/batch1.csv"; sed -n 2p "$T/b/batch1.csv" | awk -F, -v OFS=, '{ $2 = "97000000001"; print }'; } >"$T/b/lost.csv"
fails "resident 1's compromised key sent again, for another resident: refused" 3 "1 of 1 requests refused" \
	"$ON" issue --state "$O" --clock 2026-04-04T07:00:00Z --batch "$T/b/lost.csv" --out "$T/lost"
check "... naming the certificate revoked key-compromise" grep -q \
	"^2,refused,.*key: CPS 4-4-2-1, 4-4-2-5: the public key of certificate $KC, revoked key-compromise" "$T/lost/results.csv"

ok "the audit log verifies" "$OFF" audit verify --log "$O/audit/audit.log" --key "$KEY"
finish

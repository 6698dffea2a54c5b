#!/usr/bin/env bash
# t_online_store_id.sh - store.db carries its state's store id (docs/store.md,
# "The store id"): init records state.conf's store.id inside store.db, and
# every command refuses a store.db whose id is another (the store.db of
# another state: a wrong prefecture's backup, a copied file) with one line
# naming both files and both ids, exit 3, the file untouched and nothing
# recorded in it. A store made before stores had an id (schema 6) gets this
# state's on its first run, audited (store.upgrade), and is then the schema
# that init makes (hanko-online check). Before, store.db held no id: a
# foreign one was used as this state's (rp add wrote into it). A store of
# schema 7 gets the column that records each OCSP response's responder
# (schema 8, docs/ocsp.md) the same way, after its id is checked: another
# state's is refused untouched; so does a store of schema 8 get the table
# of the compromised keys (schema 9, docs/store.md).
. "$(dirname "$0")/online.sh"

C=$O/state.conf
sid() { sed -n 's/^store\.id = //p' "$1"; }
meta() { sqlite3 "$1" "SELECT value FROM meta WHERE key = '$2'"; }
SA=$(sid "$C")
check "state.conf has a store id ($SA)" sh -c "echo '$SA' | grep -qxE '[0-9a-f]{32}'"
check "... init recorded it in store.db, schema 9" test "$(meta "$O/store.db" store.id) $(meta "$O/store.db" schema)" = "$SA 9"
check "... store.create names it" grep -q "	store.create	ok	op1@ca-online	store.db: schema 9, store id $SA (in it and in state.conf)" "$O/audit/audit.log"
ok "rp list with this state's own store" "$ON" rp list --state "$O"

# Another state (another prefecture, say): its store.db copied over ours.
ok "init another state" "$ON" init --state "$T/b" --profile "$PROFILE" --rehearsal --clock 2026-04-01T00:00:00Z
SB=$(sid "$T/b/state.conf")
check "... of another store id ($SB)" test -n "$SB" -a "$SB" != "$SA"
cp "$O/store.db" "$T/own.db"
rm -f "$O/store.db-wal" "$O/store.db-shm"
cp "$T/b/store.db" "$O/store.db"
SUM=$(sha256sum <"$O/store.db")
AUD=$(wc -l <"$O/audit/audit.log")
want="^hanko-online [a-z]+: $O/store.db: store id $SB is not this state's \($C store.id $SA\): a store.db of another state; put this state's own back \(docs/store.md\), nothing changed$"
fails "rp add with another state's store.db: refused, both files and ids named" 3 "$want" \
	"$ON" rp add --state "$O" --name bank-1
fails "rp list: refused the same way" 3 "$want" "$ON" rp list --state "$O"
fails "publish: refused the same way" 3 "$want" "$ON" publish --state "$O" --repo "$T/repo" --clock 2026-04-03T10:00:00Z
check "... the file is untouched, bank-1 not registered in it" sh -c \
	"test \"\$(sha256sum <'$O/store.db')\" = '$SUM' && test \"\$(sqlite3 '$O/store.db' 'SELECT count(*) FROM relying_parties')\" = 0"
check "... nothing published, nothing audited" sh -c "! test -e '$T/repo' && test \$(wc -l <'$O/audit/audit.log') = $AUD"

# A store.db whose id is gone (schema 9 without one): refused too.
cp "$T/b/store.db" "$T/noid.db"
sqlite3 "$T/noid.db" "DROP TRIGGER meta_store_id_no_delete; DELETE FROM meta WHERE key = 'store.id';"
cp "$T/noid.db" "$O/store.db"
fails "a schema 9 store.db without its id: refused" 3 \
	"^hanko-online rp: $O/store.db: no store id \(meta store.id, recorded by init\): not this state's store \($C store.id $SA\)" \
	"$ON" rp list --state "$O"

# One whose id was made long by raw SQL around the triggers: matches none.
cp "$T/own.db" "$T/long.db"
sqlite3 "$T/long.db" "DROP TRIGGER meta_store_id_fixed; UPDATE meta SET value = value || value WHERE key = 'store.id';"
cp "$T/long.db" "$O/store.db"
fails "a store.db whose id is not one init makes: refused" 3 \
	"^hanko-online rp: $O/store.db: store id \(malformed\) is not this state's \($C store.id $SA\)" \
	"$ON" rp list --state "$O"

# This state's own back: served again.
cp "$T/own.db" "$O/store.db"
ok "this state's own store.db back: rp add bank-1" "$ON" rp add --state "$O" --name bank-1 --token-out "$T/tok"
cp "$O/store.db" "$T/own.db"

# ocsp_responses as schemas 6 and 7 made it ($OCSP7, test/data/online/
# setup.sh), with one stored response; no compromised_keys before schema 9.
KEYS8="DROP TABLE compromised_keys;"
cols() { sqlite3 "$1" "SELECT group_concat(name) FROM pragma_table_info('ocsp_responses')"; }

# Another state's store of schema 7: refused before anything is written.
cp "$T/b/store.db" "$T/b7.db"
sqlite3 "$T/b7.db" "$KEYS8 $OCSP7 UPDATE meta SET value = '7' WHERE key = 'schema';"
cp "$T/b7.db" "$O/store.db"
SUM=$(sha256sum <"$O/store.db")
fails "another state's store.db of schema 7: refused, not upgraded" 3 \
	"^hanko-online rp: $O/store.db: store id $SB is not this state's \($C store.id $SA\)" \
	"$ON" rp list --state "$O"
check "... the file is untouched (schema 7, no column added), no store.upgrade" sh -c \
	"test \"\$(sha256sum <'$O/store.db')\" = '$SUM' && test '$(cols "$O/store.db")' = 'serial,status,this_update,next_update,der' &&
	! grep -q '	store.upgrade	' '$O/audit/audit.log'"

# This state's store of schema 7: the column added on its first run.
cp "$T/own.db" "$O/store.db"
sqlite3 "$O/store.db" "$KEYS8 $OCSP7 INSERT INTO serials VALUES (x'01', 0);
	INSERT INTO ocsp_responses VALUES (x'01', 'good', 100, 200, x'3003');
	UPDATE meta SET value = '7' WHERE key = 'schema';"
check "a store of schema 7 with a stored OCSP response, no responder column" test \
	"$(meta "$O/store.db" schema) $(cols "$O/store.db") $(sqlite3 "$O/store.db" 'SELECT count(*) FROM ocsp_responses')" = \
	"7 serial,status,this_update,next_update,der 1"
ok "rp list: runs" "$ON" rp list --state "$O"
check "... and says on stderr what the upgrade did" grep -qx \
	"hanko-online: $O/store.db: schema 7 -> 9: the responder of each pre-signed OCSP response recorded from now on (the next ocsp-refresh signs every stored response again); the keys of the 0 certificates revoked key-compromise recorded in compromised_keys (issue refuses them, CPS 4-4-2-5) (audited store.upgrade)" "$HANKO_TMP/err"
check "... store.db: schema 9, the column, the response kept with no responder recorded" test \
	"$(meta "$O/store.db" schema) $(cols "$O/store.db") $(sqlite3 "$O/store.db" 'SELECT count(*) FROM ocsp_responses WHERE responder IS NULL AND der = x'"'3003'")" = \
	"9 serial,status,this_update,next_update,der,responder 1"
check "... audited store.upgrade" grep -q \
	"	store.upgrade	ok	op1@ca-online	$O/store.db: schema 7 -> 9: the responder of each pre-signed OCSP response recorded" "$O/audit/audit.log"
ok "check: the store upgraded from schema 7 is the one init makes" \
	"$ON" check --state "$O" --clock 2026-04-02T12:00:00Z
check "... (Store consistent: nothing missing, altered or unexpected)" sh -c \
	"grep -q '^Store consistent' '$HANKO_TMP/out' && ! grep -Eq 'missing|altered|unexpected' '$HANKO_TMP/out'"

# A store of schema 6 (no id): this state's id recorded on its first run.
cp "$T/own.db" "$O/store.db"
sqlite3 "$O/store.db" "$KEYS8 $OCSP7 DROP TRIGGER meta_store_id_once; DROP TRIGGER meta_store_id_fixed; \
	DROP TRIGGER meta_store_id_no_delete; DELETE FROM meta WHERE key = 'store.id'; \
	UPDATE meta SET value = '6' WHERE key = 'schema';"
check "a store of schema 6, without an id" test "$(meta "$O/store.db" schema)/$(meta "$O/store.db" store.id)" = "6/"
ok "rp list: runs" "$ON" rp list --state "$O"
check "... and says on stderr that it recorded the id" grep -qx \
	"hanko-online: $O/store.db: schema 6 -> 9: store id $SA of $C recorded in it; the responder of each pre-signed OCSP response recorded from now on (the next ocsp-refresh signs every stored response again); the keys of the 0 certificates revoked key-compromise recorded in compromised_keys (issue refuses them, CPS 4-4-2-5) (audited store.upgrade)" "$HANKO_TMP/err"
check "... bank-1 is still registered" grep -q "bank-1" "$HANKO_TMP/out"
check "... store.db: schema 9, this state's id" test "$(meta "$O/store.db" store.id) $(meta "$O/store.db" schema)" = "$SA 9"
check "... audited store.upgrade" grep -q \
	"	store.upgrade	ok	op1@ca-online	$O/store.db: schema 6 -> 9: store id $SA of state.conf recorded in it" "$O/audit/audit.log"
ok "... the next run says nothing more" "$ON" rp list --state "$O"
check "... (stderr empty)" test ! -s "$HANKO_TMP/err"
check "... one store.upgrade record for each upgrade (7 -> 9, 6 -> 9)" test "$(grep -c '	store.upgrade	' "$O/audit/audit.log")" = 2
ok "check: the upgraded store is consistent, its schema the one init makes" \
	"$ON" check --state "$O" --clock 2026-04-02T12:00:00Z
check "... (Store consistent: nothing missing, altered or unexpected)" sh -c \
	"grep -q '^Store consistent' '$HANKO_TMP/out' && ! grep -Eq 'missing|altered|unexpected' '$HANKO_TMP/out'"
check "... the id can no longer change (raw SQL refused by the schema)" sh -c \
	"! sqlite3 '$O/store.db' \"UPDATE meta SET value = '$SB' WHERE key = 'store.id'\" 2>/dev/null && \
	 ! sqlite3 '$O/store.db' \"INSERT OR REPLACE INTO meta VALUES ('store.id', '$SB')\" 2>/dev/null && \
	 test \"\$(sqlite3 '$O/store.db' \"SELECT value FROM meta WHERE key = 'store.id'\")\" = '$SA'"
# A store of schema 8 (no compromised_keys): another state's refused
# untouched; this state's gets the table on its first run (schema 9).
cp "$T/b/store.db" "$T/b8.db"
sqlite3 "$T/b8.db" "$KEYS8 UPDATE meta SET value = '8' WHERE key = 'schema';"
cp "$T/b8.db" "$O/store.db"
SUM=$(sha256sum <"$O/store.db")
fails "another state's store.db of schema 8: refused, not upgraded" 3 \
	"^hanko-online rp: $O/store.db: store id $SB is not this state's \($C store.id $SA\)" \
	"$ON" rp list --state "$O"
check "... the file is untouched, no store.upgrade more" sh -c \
	"test \"\$(sha256sum <'$O/store.db')\" = '$SUM' && test \$(grep -c '	store.upgrade	' '$O/audit/audit.log') = 2"
cp "$T/own.db" "$O/store.db"
sqlite3 "$O/store.db" "$KEYS8 UPDATE meta SET value = '8' WHERE key = 'schema';"
ok "this state's store of schema 8: rp list runs" "$ON" rp list --state "$O"
check "... and says on stderr what the upgrade did" grep -qx \
	"hanko-online: $O/store.db: schema 8 -> 9: the keys of the 0 certificates revoked key-compromise recorded in compromised_keys (issue refuses them, CPS 4-4-2-5) (audited store.upgrade)" "$HANKO_TMP/err"
check "... store.db: schema 9, compromised_keys there (empty)" test \
	"$(meta "$O/store.db" schema) $(sqlite3 "$O/store.db" 'SELECT count(*) FROM compromised_keys')" = "9 0"
check "... audited store.upgrade" grep -q \
	"	store.upgrade	ok	op1@ca-online	$O/store.db: schema 8 -> 9: the keys of the 0 certificates" "$O/audit/audit.log"
ok "check: the store upgraded from schema 8 is the one init makes" \
	"$ON" check --state "$O" --clock 2026-04-02T12:00:00Z
check "... (Store consistent: nothing missing, altered or unexpected)" sh -c \
	"grep -q '^Store consistent' '$HANKO_TMP/out' && ! grep -Eq 'missing|altered|unexpected' '$HANKO_TMP/out'"
# A token whose store key is not the one the store was made with (another
# token put in, a state.conf of another state): every command that looks a
# resident up refuses before it does (hk_online_store_key_checked).
cp -p "$C" "$T/state.conf.keep"
sed -i 's/^store\.key-check = .*/store.key-check = 00000000000000000000000000000000/' "$C"
want="^hanko-online [a-z]+: $O/state.conf: store.key-check: the token's store key is not the one this store was made with$"
fails "revoke by resident with another store key: refused" 3 "$want" \
	"$ON" revoke --state "$O" --reason 4 --municipality 431010 --resident-id 12345678901
fails "history with another store key: refused" 3 "$want" \
	"$ON" history --state "$O" --resident-id 12345678901
cp -p "$T/state.conf.keep" "$C"
finish

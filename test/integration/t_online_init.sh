#!/usr/bin/env bash
# t_online_init.sh - "hanko-online init" (issue 5 item 1): the online state
# folder with its token, issuing key, CSR, audit log and store; the CSR
# verifies with stock openssl and has the issuing CA's subject; its SHA-256
# is printed and recorded; init twice and bad inputs are refused and leave
# nothing behind; the municipalities file's check digits verified here
# independently of the C code.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
ON=$HANKO_ONLINE
S=$T/online
MUNIS=$HANKO_SRC/online/data/municipalities-kumamoto.csv

# an init of the same name that was killed before its rename left its work
mkdir -m 0700 "$S.init-Ab12Cd" && echo 1234 >"$S.init-Ab12Cd/pin"
ok "init (rehearsal)" "$ON" init --state "$S" --profile "$PROFILE" --rehearsal --clock 2026-04-01T00:00:00Z
cp "$HANKO_TMP/out" "$T/init.out"
check "... names the folder a stopped init left (it may hold a token and its PIN)" grep -q \
	"^warning: $T/online.init-Ab12Cd: left by an init of $S that stopped before it finished; it may hold a token and its PIN: remove it" "$HANKO_TMP/err"
check "... and leaves it to the operators" test -f "$S.init-Ab12Cd/pin"
rm -r "$S.init-Ab12Cd"
check "state folder, token, store, audit log, CSR" bash -c "for f in state.conf token/softhsm2.conf store.db \
	audit/audit.log audit/audit-key.pem certs/issuing-1.csr.pem certs/issuing-1.csr.der \
	certs/issuing-1.csr.sha256 secrets/token-user-pin municipalities.csv profile.yaml; do \
	test -f '$S/'\$f || exit 1; done"
check "the PIN file is mode 0600 and the state folder 0700" bash -c \
	"[ \$(stat -c %a '$S/secrets/token-user-pin') = 600 ] && [ \$(stat -c %a '$S') = 700 ]"
check "no temporary folder left" bash -c "! ls -d '$S'.init-* 2>/dev/null"
ok "openssl req -verify accepts the CSR" openssl req -in "$S/certs/issuing-1.csr.pem" -verify -noout
check "its subject is the issuing CA generation 1 (rehearsal marker last)" bash -c \
	"openssl req -in '$S/certs/issuing-1.csr.pem' -noout -subject -nameopt RFC2253 | \
	grep -qx 'subject=OU=TEST,OU=Issuing CA 1,OU=Kumamoto-ken,O=JPKI,C=JP'"
check "its key is RSA-2048 (profile issuing_key)" bash -c \
	"openssl req -in '$S/certs/issuing-1.csr.pem' -noout -text | grep -q 'Public-Key: (2048 bit)'"
H=$(openssl req -in "$S/certs/issuing-1.csr.pem" -outform DER | sha256sum | cut -c1-64)
check "the printed SHA-256 is that of the DER request" grep -q "$H" "$T/init.out"
check "the .sha256 file holds it (the issue-subca ceremony's input)" \
	test "$(cat "$S/certs/issuing-1.csr.sha256")" = "$H"
KSHA=$(openssl pkey -pubin -in "$S/audit/audit-key.pem" -outform DER | sha256sum | cut -c1-64)
check "init prints the audit key's SHA-256 for the record of the day" \
	grep -q "^Audit key audit-1: SHA-256 of its public key ($S/audit/audit-key.pem) $KSHA: write it in the record of the day" "$T/init.out"
check "... and its key.generate record names it" bash -c "cut -f3-6 '$S/audit/audit.log' | grep -q '^key.generate	ok	op1@ca-online	audit-1: .*; its public key audit/audit-key.pem SHA-256 $KSHA\$'"
check "the DER and PEM are the same request" bash -c \
	"cmp <(openssl req -in '$S/certs/issuing-1.csr.pem' -outform DER) '$S/certs/issuing-1.csr.der'"
check "the key is inside the token, non-extractable" bash -c \
	"SOFTHSM2_CONF='$S/token/softhsm2.conf' pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so \
	--login --pin \$(cat '$S/secrets/token-user-pin') -O 2>/dev/null | grep -A8 'Private Key' | grep -q 'issuing-1'"
check "the audit log records the init and ends in a checkpoint" bash -c \
	"grep -q 'init.done' '$S/audit/audit.log' && tail -1 '$S/audit/audit.log' | grep -q 'audit.checkpoint'"
ok "the audit log and its signed checkpoint verify (the shared format)" "$OFF" audit verify --state "$S"
check "the store has the schema, in WAL mode" bash -c \
	"sqlite3 '$S/store.db' \"PRAGMA journal_mode; SELECT value FROM meta WHERE key = 'schema'\" | tr '\n' ' ' | grep -qx 'wal 9 '"
check "no resident identifier or PIN in state.conf" bash -c "! grep -q \"\$(cat '$S/secrets/token-user-pin')\" '$S/state.conf'"

# CPS 4-11-2: a record names who acted (操作員 ID、システム名). Unset, the
# operator is the session's login name (logname; in cron or systemd, the user)
# at the host up to its first dot; HANKO_OPERATOR=NAME puts NAME before the @.
HOST=$(uname -n | cut -d. -f1)
ME=$(logname 2>/dev/null || id -un)
ok "check, HANKO_OPERATOR unset" env -u HANKO_OPERATOR "$ON" check --state "$S"
check "... its store.check record's actor is the login name at the host ($ME@$HOST)" bash -c \
	"grep '	store.check	' '$S/audit/audit.log' | tail -1 | cut -f5 | grep -qx '$ME@$HOST'"
ok "check, HANKO_OPERATOR=sato" env HANKO_OPERATOR=sato "$ON" check --state "$S"
check "... its actor is sato@$HOST" bash -c \
	"grep '	store.check	' '$S/audit/audit.log' | tail -1 | cut -f5 | grep -qx 'sato@$HOST'"
ok "check, HANKO_OPERATOR=sato@ca-online-2 (a system named whole)" \
	env HANKO_OPERATOR=sato@ca-online-2 "$ON" check --state "$S"
check "... its actor is sato@ca-online-2" bash -c \
	"grep '	store.check	' '$S/audit/audit.log' | tail -1 | cut -f5 | grep -qx 'sato@ca-online-2'"
D=$(tree_digest "$S")
for bad in '' 'sato yamada' 'sato,yamada' '-sato' 'sato@' '@ca' 'a@b@c' 'さとう' \
    "$(printf 'x%.0s' $(seq 33))"; do
	fails "HANKO_OPERATOR='$bad' refused: usage, naming the variable and its rule" 2 \
		"^hanko-online check: HANKO_OPERATOR=.*: must be NAME or NAME@SYSTEM, each .*, NAME at most 32 bytes and the whole at most 64 .*CPS 4-11-2.*; nothing done$" \
		env HANKO_OPERATOR="$bad" "$ON" check --state "$S"
done
check "... and nothing was recorded" test "$(tree_digest "$S")" = "$D"

D=$(tree_digest "$S")
fails "init twice is refused" 7 "already exists" "$ON" init --state "$S" --profile "$PROFILE"
check "... and the state is untouched" test "$(tree_digest "$S")" = "$D"
printf 'hanko-profile: 1\nroot-subject: 12\n' >"$T/bad.yaml"
fails "a bad profile is refused" 3 "bad.yaml" "$ON" init --state "$T/o2" --profile "$T/bad.yaml"
check "... nothing left" bash -c "! ls -d '$T'/o2* 2>/dev/null"
sed 's/^432024,/432025,/' "$MUNIS" >"$T/m-bad.csv"
fails "a municipality code with a wrong check digit is refused" 3 "m-bad.csv:[0-9]+: code: \"432025\"" \
	"$ON" init --state "$T/o3" --profile "$PROFILE" --municipalities "$T/m-bad.csv"
check "... nothing left" bash -c "! ls -d '$T'/o3* 2>/dev/null"
fails "--clock outside a rehearsal is refused" 2 "rehearsal" \
	"$ON" init --state "$T/o4" --profile "$PROFILE" --clock 2026-04-01T00:00:00Z
fails "a missing parent folder is refused" 3 "does not exist" \
	"$ON" init --state "$T/nope/o5" --profile "$PROFILE"
fails "an unknown command" 2 "unknown command" "$ON" frobnicate

# The shipped municipalities file, checked without the C code.
check "45 municipalities and 5 wards, all of Kumamoto (43)" bash -c \
	"[ \$(grep -c '^43[0-9]\{4\},\(city\|town\|village\),' '$MUNIS') = 45 ] && \
	 [ \$(grep -c '^43[0-9]\{4\},ward,431001,' '$MUNIS') = 5 ]"
check "every town and village (31) names its district (郡), no city or ward does" bash -c \
	"[ \$(awk -F, '(\$2 == \"town\" || \$2 == \"village\") && \$7 ~ /郡\$/' '$MUNIS' | wc -l) = 31 ] && \
	 [ \$(awk -F, '(\$2 == \"city\" || \$2 == \"ward\") && \$7 != \"\"' '$MUNIS' | wc -l) = 0 ]"
check "every code's check digit (weights 6,5,4,3,2; 11 - sum mod 11; 10->0, 11->1)" bash -c \
	"grep '^[0-9]' '$MUNIS' | cut -d, -f1 | awk '{ s = 0; for (i = 1; i <= 5; i++) \
	s += substr(\$1, i, 1) * (7 - i); d = 11 - s % 11; if (d == 10) d = 0; if (d == 11) d = 1; \
	if (substr(\$1, 6, 1) != d) { print \"bad\", \$1; bad = 1 } } END { exit bad }'"
finish

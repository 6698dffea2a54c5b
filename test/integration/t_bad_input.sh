#!/usr/bin/env bash
# t_bad_input.sh - bad input gets a one-line error naming the input and the
# rule, a documented exit status (hanko-offline(1), EXIT STATUS), and
# changes nothing: no state folder, no share, nothing already stored lost.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
passins=()
for km in "${KMS[@]}"; do passins+=(--passin "$km=env:HK_PASS_$km"); done
INIT=("$OFF" init --rehearsal --kdf interactive "${passins[@]}")
init() { "${INIT[@]}" "$@"; }
nothing_made() { [ ! -e "$T/state" ] && [ ! -e "$T/media" ] && \
	[ -z "$(ls -A "$T" | grep -v -e '^out$' -e '^err$' -e '\.yaml$' || true)" ]; }
check "nothing_made sees a made folder" bash -c "mkdir '$T/media' && ! ( $(declare -f nothing_made); T='$T'; nothing_made ); r=\$?; rmdir '$T/media'; exit \$r"

# "Run 'hanko-offline <command> --help' for its options" (hanko-offline
# --help): every command it lists but version prints its usage on stdout and
# exits 0.
mapfile -t cmds < <("$OFF" --help | sed -n 's/^  \([a-z-]*\)  .*/\1/p' | grep -vx version)
check "hanko-offline --help lists the commands" test "${#cmds[@]}" -ge 15
for c in "${cmds[@]}"; do
	check "$c --help: the usage on stdout, exit 0" bash -c \
		"'$OFF' $c --help >'$T/help' 2>'$T/help.err' && grep -q '^usage: hanko-offline $c ' '$T/help' && ! test -s '$T/help.err'"
done
rm -f "$T/help" "$T/help.err"

# A malformed profile: YAML syntax, then a value out of range.
printf 'hanko-profile: 1\nroot: [unclosed\n' >"$T/bad-syntax.yaml"
fails "a profile that is not YAML is refused" 3 "bad-syntax.yaml:[0-9]+" \
	init --state "$T/state" --profile "$T/bad-syntax.yaml" --roster "$ROSTER" --media "$T/media"
check "... and nothing was made" nothing_made
sed 's/^\(\s*validity-years:\s*\)10/\1999/' "$PROFILE" >"$T/bad-range.yaml"
check "the range test profile differs from the shipped one" bash -c "! cmp -s '$PROFILE' '$T/bad-range.yaml'"
fails "a profile value out of range is refused, naming file, line and field" 3 \
	"bad-range.yaml:[0-9]+:[0-9]+: .*validity-years" \
	init --state "$T/state" --profile "$T/bad-range.yaml" --roster "$ROSTER" --media "$T/media"
check "... and nothing was made" nothing_made

# Rosters whose threshold breaks 2 <= m <= n.
sed 's/threshold: 3/threshold: 6/' "$ROSTER" >"$T/m-gt-n.yaml"
fails "a roster with m > n is refused" 3 "m-gt-n.yaml:[0-9]+:[0-9]+: .*threshold" \
	init --state "$T/state" --profile "$PROFILE" --roster "$T/m-gt-n.yaml" --media "$T/media"
check "... and nothing was made" nothing_made
sed 's/threshold: 3/threshold: 1/' "$ROSTER" >"$T/m-lt-2.yaml"
fails "a roster with m < 2 is refused" 3 "m-lt-2.yaml:[0-9]+:[0-9]+: .*threshold" \
	init --state "$T/state" --profile "$PROFILE" --roster "$T/m-lt-2.yaml" --media "$T/media"
check "... and nothing was made" nothing_made

# Passphrases: weak, or the same for two holders.
fails "a weak passphrase is refused when shares are made" 3 "passphrase of key manager sato" \
	env HK_PASS_sato=short "${INIT[@]}" --state "$T/state" --profile "$PROFILE" --roster "$ROSTER" --media "$T/media"
check "... and nothing was made" nothing_made
fails "the same passphrase for two holders is refused" 3 "passphrase of key manager sato: the same as yamada" \
	env HK_PASS_sato="$HK_PASS_yamada" "${INIT[@]}" --state "$T/state" --profile "$PROFILE" --roster "$ROSTER" --media "$T/media"
check "... and nothing was made" nothing_made
fails "an unknown option is a usage error" 2 "--frobnicate: unknown option" \
	init --frobnicate

# A state folder that already exists is never reused.
mkdir -p "$T/existing" && echo keep >"$T/existing/precious"
before=$(tree_digest "$T/existing")
fails "an existing state folder is refused" 7 "existing: already exists" \
	init --state "$T/existing" --profile "$PROFILE" --roster "$ROSTER" --media "$T/media"
check "... and it is unchanged" test "$(tree_digest "$T/existing")" = "$before"
rm -rf "$T/existing"

# A real CA, then bad input against it.
make_ca "$T/ca"
S=$T/ca/state
snap() { (cd "$S" && find . -path ./audit -prune -o -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }
before=$(snap)
mapfile -t args < <(share_args "$T/ca" 1 2)
fails "a missing share file is named" 3 "nowhere.hks: no such file" \
	"$OFF" create-root --state "$S" "${args[@]}" --share "$T/nowhere.hks" --passin env:HK_PASS_suzuki
check "... nothing but the audit log changed" test "$(snap)" = "$before"
check "... and the failure is in the audit log" \
	grep -q '	share.open	fail	-	.*nowhere.hks' "$S/audit/audit.log"
check "... and no root key was made" grep -q '^root.generations = 0$' "$S/state.conf"
fails "a state folder whose parent is missing is named" 3 "real/state: the folder .*real that should hold it does not exist" \
	init --state "$T/real/state" --profile "$PROFILE" --roster "$ROSTER" --media "$T/media"
mkdir -p "$T/real"
ok "a real (not rehearsal) CA is made" "$OFF" init --state "$T/real/state" \
	--profile "$PROFILE" --roster "$ROSTER" --media "$T/real/media" --kdf interactive "${passins[@]}"
mapfile -t args < <(share_args "$T/real" 1 2 3)
fails "--clock on a real CA is refused" 2 "clock may be set only in a rehearsal" \
	"$OFF" activate --state "$T/real/state" --clock 2030-01-01T00:00:00Z "${args[@]}"
fails "--clock at init needs --rehearsal" 2 "clock may be set only with --rehearsal" \
	"$OFF" init --state "$T/real2" --profile "$PROFILE" --roster "$ROSTER" --media "$T/m2" --clock 2030-01-01T00:00:00Z
# a bad token label is refused before anyone is asked for a passphrase (no
# --passin and no terminal here: a prompt would fail with "no terminal")
fails "--token-label with a capital, before any passphrase is asked for" 2 \
	"--token-label: token label 'Hanko-Root': only a-z, 0-9 and '-'" \
	"$OFF" init --state "$T/real3" --profile "$PROFILE" --roster "$ROSTER" --media "$T/m3" --token-label Hanko-Root
check "... nothing made" test ! -e "$T/real3" -a ! -e "$T/m3"
# --module that is no library: bad input on one line (exit 3), not libp11's
# own line and a token error (exit 5); nothing made.
fails "init --module a folder: one line, exit 3" 3 \
	"^hanko-offline init: $T/ca: not a PKCS#11 module that can be loaded" \
	init --state "$T/mod-state" --profile "$PROFILE" --roster "$ROSTER" --media "$T/mod-media" --module "$T/ca"
fails "init --module a missing file: one line, exit 3" 3 "^hanko-offline init: $T/nowhere.so: PKCS#11 module: no such file$" \
	init --state "$T/mod-state" --profile "$PROFILE" --roster "$ROSTER" --media "$T/mod-media" --module "$T/nowhere.so"
check "... nothing made" test ! -e "$T/mod-state" -a ! -e "$T/mod-media"
# A new line in --state would break the token's softhsm2.conf (one line
# names the token folder): refused first, not a token error (exit 5).
fails "init --state with a new line: refused, exit 3" 3 \
	'^hanko-offline init: .*/nl\\nstate: byte [0-9]+ \(0x0a\): a control character in the state folder' \
	init --state "$T/nl"$'\n'"state" --profile "$PROFILE" --roster "$ROSTER" --media "$T/nl-media"
check "... nothing made" bash -c "test -z \"\$(ls -A '$T' | grep -e '^nl')\""
mapfile -t args < <(share_args "$T/ca" 1 2 3)
ok "create-root with three shares" "$OFF" create-root --state "$S" "${args[@]}"
before=$(sha256sum "$S/certs/root-1.der" "$S/certs/root-1.pem")
fails "a second create-root is refused" 7 "root exists already" \
	"$OFF" create-root --state "$S" "${args[@]}"
check "... and the root certificate is unchanged" \
	test "$(sha256sum "$S/certs/root-1.der" "$S/certs/root-1.pem")" = "$before"
fails "a folder that is not a CA state is named" 3 "not a hanko CA state folder" \
	"$OFF" activate --state "$T" "${args[@]}"
fails "a file given as the state folder: the same, not an I/O error (exit 8)" 3 \
	"^hanko-offline activate: $PROFILE: not a hanko CA state folder \(not a folder\)$" \
	"$OFF" activate --state "$PROFILE" "${args[@]}"
ok "the audit log verifies after all of it" "$OFF" audit verify --state "$S"
# audit verify --state appends log.verify: dated as every other record of a
# rehearsal state (--clock), refused on a real CA as the others refuse it
ok "audit verify --state --clock in a rehearsal" "$OFF" audit verify --state "$S" --clock 2030-01-02T03:04:05Z
check "... its log.verify record carries the given time" sh -c \
	"tail -1 '$S/audit/audit.log' | grep -q '^[0-9]*	2030-01-02T03:04:05Z	log\.verify	ok	-	'"
cp -p "$T/real/state/audit/audit.log" "$T/real.log"
fails "audit verify --clock on a real CA is refused" 2 "^hanko-offline audit: --clock 2030-01-01T00:00:00Z: the clock may be set only in a rehearsal" \
	"$OFF" audit verify --state "$T/real/state" --clock 2030-01-01T00:00:00Z
check "... nothing appended" cmp -s "$T/real.log" "$T/real/state/audit/audit.log"
fails "audit verify --clock not a time: refused" 2 "--clock 2030-01-02: expected YYYY-MM-DDTHH:MM:SSZ" \
	"$OFF" audit verify --state "$S" --clock 2030-01-02
fails "audit verify --log --clock: refused, it appends nothing to date" 2 "--clock 2030-01-01T00:00:00Z: only with --state" \
	"$OFF" audit verify --log "$S/audit/audit.log" --clock 2030-01-01T00:00:00Z
ok "audit verify --state on the real CA, at its own clock" "$OFF" audit verify --state "$T/real/state"

# CPS 4-11-2 lists room entry among the logs (入退室記録): audit note enters
# what happened outside the program into the chained log (docs/audit-log.md
# "Notes"), its actors the people, refused whole on a bad event, actors or text.
ok "audit note: a medium into the ceremony room" "$OFF" audit note --state "$S" --event media.in \
	--actors yamada,sato --text "USB 2 (label BND-7) into the ceremony room, 鍵管理者2名"
check "... the record: media.in, ok, the people, the text" sh -c \
	"tail -1 '$S/audit/audit.log' | cut -f3-6 | grep -qx 'media.in	ok	yamada,sato	USB 2 (label BND-7) into the ceremony room, 鍵管理者2名'"
ok "... the log verifies with it" "$OFF" audit verify --state "$S"
ok "audit note --clock in a rehearsal" "$OFF" audit note --state "$S" --event room.enter --actors yamada \
	--text "入室" --clock 2030-01-02T03:05:00Z
check "... its record carries the given time" sh -c \
	"tail -1 '$S/audit/audit.log' | grep -q '^[0-9]*	2030-01-02T03:05:00Z	room\.enter	ok	yamada	入室	'"
cp -p "$S/audit/audit.log" "$T/note.log"
while IFS='|' read -r what rx a1 a2 a3; do
	fails "audit note $what: refused (usage)" 2 "$rx" \
		"$OFF" audit note --state "$S" --event "$a1" --actors "$a2" --text "$a3"
done <<'EOF2'
an event not of the list|^hanko-offline audit: --event room\.entry: not a note's event; one of room\.enter, room\.leave, media\.in, media\.out, note|room.entry|yamada|x
actors -|^hanko-offline audit: --actors -: must be at least one id|note|-|x
actors with a space|^hanko-offline audit: --actors yamada sato: must be at least one id|note|yamada sato|x
empty text|^hanko-offline audit: --text: needs a value|note|yamada|
EOF2
fails "audit note a text with a TAB: refused (usage)" 2 "^hanko-offline audit: --text: byte 2 \(0x09\): a control character; a note is one line of UTF-8 text$" \
	"$OFF" audit note --state "$S" --event note --actors yamada --text "$(printf 'a\tb')"
fails "audit note a text with U+202E: refused (usage)" 2 "^hanko-offline audit: --text: byte 2 \(0xe2\): a control or direction character" \
	"$OFF" audit note --state "$S" --event note --actors yamada --text "$(printf 'a\xe2\x80\xaeb')"
fails "audit note a text of Shift_JIS: refused (usage)" 2 "^hanko-offline audit: --text: byte 1 \(0x93\): not valid UTF-8" \
	"$OFF" audit note --state "$S" --event note --actors yamada --text "$(printf '\x93\xfc\x8e\xba')"
fails "audit note a text of 1025 bytes: refused (usage)" 2 "^hanko-offline audit: --text: 1025 bytes: a note is 1 to 1024" \
	"$OFF" audit note --state "$S" --event note --actors yamada --text "$(printf 'x%.0s' $(seq 1025))"
fails "audit note without --text: refused (usage)" 2 "^hanko-offline audit: audit note: --state, --event, --actors and --text are required" \
	"$OFF" audit note --state "$S" --event note --actors yamada
fails "audit note --clock on a real CA: refused" 2 "^hanko-offline audit: --clock 2030-01-01T00:00:00Z: the clock may be set only in a rehearsal" \
	"$OFF" audit note --state "$T/real/state" --event note --actors yamada --text x --clock 2030-01-01T00:00:00Z
check "... none of them appended anything" cmp -s "$T/note.log" "$S/audit/audit.log"
check "... nor to the real CA's log" sh -c "! grep -q '	note	' '$T/real/state/audit/audit.log'"

# The error line quotes the input as it was given, and stays one line: a
# new line, an escape sequence or a direction override in it is written
# escaped (\n, \xNN, \u{N}), never sent to the terminal.
fails "a --state with a new line: one line, the new line escaped" 3 \
	'^hanko-offline status: a\\nb: not a hanko CA state folder' \
	"$OFF" status --state "$(printf 'a\nb')"
fails "an --event with an escape sequence and U+202E: both escaped" 2 \
	"^hanko-offline audit: --event x\\\\x1b\\[2J\\\\u\\{202e\\}y: not a note's event" \
	"$OFF" audit note --state "$S" --event "$(printf 'x\033[2J\342\200\256y')" --actors yamada --text x
fails "an unknown command with a new line: one line" 2 '^hanko-offline: no\\nsuch: unknown command' \
	"$OFF" "$(printf 'no\nsuch')"

# audit verify --previous names the closed log a link points to: on a log
# never closed (no link) it is refused, not passed over with an OK.
fails "audit verify --previous on a log never closed: refused" 2 \
	"^hanko-offline audit: --previous $T/nowhere\.log: .*audit\.log begins with no audit\.link" \
	"$OFF" audit verify --state "$S" --previous "$T/nowhere.log"
fails "... the same with --log" 2 "^hanko-offline audit: --previous $T/nowhere\.log: " \
	"$OFF" audit verify --log "$S/audit/audit.log" --key "$S/audit/audit-key.pem" --previous "$T/nowhere.log"
fails "... and audit review --previous" 2 \
	"^hanko-offline audit: --previous $T/nowhere\.log: .*audit\.log begins with no audit\.link" \
	"$OFF" audit review --state "$S" --previous "$T/nowhere.log"
# Arguments a command does not take are refused, not ignored; a number is
# digits only.
# A group command without its verb: one line naming the verbs, as for an
# unknown verb (it printed the whole usage and a second line).
for g in "ceremony:run, check or actions" "roster:set-passphrase, set-token, approve or show" \
	"audit:verify, show, review, backup, close or note" "bundle:create, verify or import" "qr:encode or decode"; do
	fails "$OFF ${g%%:*} without a verb: one line naming the verbs" 2 \
		"^hanko-offline ${g%%:*}: a verb is needed: ${g#*:} \(see --help\)\$" "$OFF" "${g%%:*}"
done
fails "ceremony actions with an argument: refused" 2 "^hanko-offline ceremony: --frobnicate: unknown argument" \
	"$OFF" ceremony actions --frobnicate
fails "bundle create --generation +1: digits only" 2 "^hanko-offline bundle: --generation \+1: a root generation number \(1\.\.999\)$" \
	"$OFF" bundle create --state "$S" --type root-generation --out "$T/b-gen" --generation +1 "$PROFILE"
check "... nothing made" test ! -e "$T/b-gen"

# A once-only option given twice (two states, two outputs, two clocks: a
# slip in a script or a paste) is a usage error naming the option and both
# values, nothing done; it was taken, the last one counting. --share and
# --passin stay repeatable.
mapfile -t args < <(share_args "$T/ca" 1 2 3)
before=$(snap)
logsum=$(sha256sum <"$S/audit/audit.log")
rlogsum=$(sha256sum <"$T/real/state/audit/audit.log")
fails "audit verify --state twice: refused (usage), both named" 2 \
	"^hanko-offline audit: --state: given twice \(once only\): '$S' and '$T/real/state'$" \
	"$OFF" audit verify --state "$S" --state "$T/real/state"
fails "activate --clock twice: refused before a share is opened" 2 \
	"^hanko-offline activate: --clock: given twice \(once only\): '2030-01-02T03:00:00Z' and '2030-01-03T03:00:00Z'$" \
	"$OFF" activate --state "$S" "${args[@]}" --clock 2030-01-02T03:00:00Z --clock 2030-01-03T03:00:00Z
fails "... the same value twice is refused too" 2 "^hanko-offline activate: --clock: given twice \(once only\)" \
	"$OFF" activate --state "$S" --clock 2030-01-02T03:00:00Z "${args[@]}" --clock 2030-01-02T03:00:00Z
fails "bundle create --out twice: refused" 2 \
	"^hanko-offline bundle: --out: given twice \(once only\): '$T/b-1' and '$T/b-2'$" \
	"$OFF" bundle create --state "$S" "${args[@]}" --type root-generation --out "$T/b-1" --out "$T/b-2" "$PROFILE"
check "... neither made" test ! -e "$T/b-1" -a ! -e "$T/b-2"
fails "backup --key twice (a command's own option): refused" 2 \
	"^hanko-offline backup: --key: given twice \(once only\): 'root-1' and 'audit-1'$" \
	"$OFF" backup --state "$S" "${args[@]}" --key root-1 --key audit-1 --out "$T/bk.hkb"
check "... nothing made" test ! -e "$T/bk.hkb"
fails "audit note --text twice (a parser of its own): refused" 2 \
	"^hanko-offline audit: --text: given twice \(once only\): 'a' and 'b'$" \
	"$OFF" audit note --state "$S" --event room.enter --actors yamada --text a --text b
fails "audit review --since twice (review's options): refused" 2 \
	"^hanko-offline audit: --since: given twice \(once only\): '2030-01-01T00:00:00Z' and '2030-01-02T00:00:00Z'$" \
	"$OFF" audit review --state "$S" --since 2030-01-01T00:00:00Z --since 2030-01-02T00:00:00Z
fails "ceremony run --rehearsal twice (a flag): refused" 2 "^hanko-offline ceremony: --rehearsal: given twice \(once only\)$" \
	"$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/backup.yaml" --state "$S" --rehearsal --rehearsal
fails "roster set-passphrase --passin twice: refused, neither value said (it may be the passphrase)" 2 \
	"^hanko-offline roster: --passin: given twice \(once only\)$" \
	"$OFF" roster set-passphrase --state "$S" --person watanabe --passin pass:First-Secret-91 --passin pass:Second-Secret-92
check "... no passphrase on stderr" bash -c "! grep -q Secret '$T/err'"
fails "qr encode --chunk twice: refused" 2 "^hanko-offline qr: --chunk: given twice \(once only\): '100' and '200'$" \
	"$OFF" qr encode "$PROFILE" --out "$T/qr-twice" --chunk 100 --chunk 200
check "... nothing made" test ! -e "$T/qr-twice"
check "... the state and its log unchanged by all of them" \
	test "$(snap)" = "$before" -a "$(sha256sum <"$S/audit/audit.log")" = "$logsum"
check "... the real CA's log too (the second --state not verified)" \
	test "$(sha256sum <"$T/real/state/audit/audit.log")" = "$rlogsum"
ok "activate: --share and --passin, repeatable, taken three times" "$OFF" activate --state "$S" "${args[@]}"
check "... three shares opened" test "$(tail -8 "$S/audit/audit.log" | grep -c '	share.open	ok	')" = 3

# init's clean-up runs no shell: a --state name holding a quote and a
# command, and a medium that cannot be written (a file where suzuki's folder
# goes), so init fails after its temporary state (token, sealed PINs) exists.
mkdir -p "$T/q" "$T/qm"
touch "$T/qm/suzuki"
QS="$T/q/A'; touch pwned; echo 'B"
fails "init with a quote in --state fails on a medium that cannot be written" 8 "suzuki" \
	bash -c 'cd "$1" && shift && exec "$@"' _ "$T/q" "${INIT[@]}" --state "$QS" \
	--profile "$PROFILE" --roster "$ROSTER" --media "$T/qm"
check "... its temporary state (token, sealed PINs) is removed" test -z "$(ls -A "$T/q")"
check "... and nothing ran from the name" test ! -e "$T/q/pwned" -a ! -e "$T/pwned"
check "... no share is left on the media" test -z "$(find "$T/qm" -name '*.hks')"
rm "$T/qm/suzuki"
ok "the same init succeeds with a writable medium" bash -c 'cd "$1" && shift && exec "$@"' _ \
	"$T/q" "${INIT[@]}" --state "$QS" --profile "$PROFILE" --roster "$ROSTER" --media "$T/qm"
ok "... and its state, quote and all, activates" "$OFF" activate --state "$QS" \
	--share "$T/qm/yamada/share-1-yamada.hks" --passin env:HK_PASS_yamada \
	--share "$T/qm/sato/share-2-sato.hks" --passin env:HK_PASS_sato \
	--share "$T/qm/suzuki/share-3-suzuki.hks" --passin env:HK_PASS_suzuki
finish

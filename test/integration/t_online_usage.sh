#!/usr/bin/env bash
# t_online_usage.sh - the command lines of hanko-online's commands that share
# one parser (online/common.c hk_online_parse), serve among them: --help, a
# missing option or operand named with the others required, an unknown
# argument, an option without its value, a number out of its range, a second
# operand, flags, and an option given twice.
# Each refusal is one line on stderr with exit 2 (hanko-online(1), EXIT
# STATUS), before any state folder is read: --state names a folder that
# does not exist.
. "$(dirname "$0")/lib.sh"
ON=${ON:-$HANKO_ONLINE}
fresh_tmp
T=$HANKO_TMP
NO=$T/no-such-state

for c in history ocsp-answer trust report import publish responder ocsp-refresh issue check ldap-push init request revoke serve; do
	check "$c --help: the usage on stdout, exit 0" bash -c \
		"'$ON' $c --help >'$T/help' 2>'$T/help.err' && grep -q '^usage: hanko-online $c ' '$T/help' && ! test -s '$T/help.err'"
done

fails "history: --resident-id missing" 2 "^hanko-online history: --state and --resident-id are required \(see --help\)$" \
	"$ON" history --state "$NO"
fails "ocsp-answer: both files missing" 2 "--state, --request and --out are required" \
	"$ON" ocsp-answer --state "$NO"
fails "ocsp-answer: --out without its value" 2 "--out: needs a value" \
	"$ON" ocsp-answer --state "$NO" --request r --out
fails "trust: ROOT missing" 2 "--state, --fingerprint and ROOT are required" \
	"$ON" trust --state "$NO" --fingerprint 00
fails "trust: a second root" 2 "b.pem: one root certificate only" \
	"$ON" trust --state "$NO" --fingerprint 00 a.pem b.pem
fails "trust: an unknown option (a command with an operand)" 2 "--finger: unknown option" \
	"$ON" trust --state "$NO" --finger 00 a.pem
fails "import: BUNDLE missing" 2 "--state and BUNDLE are required" \
	"$ON" import --state "$NO" --type arl-batch
fails "import: a second bundle" 2 "two: one BUNDLE only" \
	"$ON" import --state "$NO" one two
fails "import: an unknown bundle type (the command's own check, after the parse)" 2 "--type nope: SPEC 4.2: unknown bundle type" \
	"$ON" import --state "$NO" --type nope one
fails "report: an unknown argument (a command without operands)" 2 "^hanko-online report: extra: unknown argument \(see --help\)$" \
	"$ON" report --state "$NO" --month 2026-04 extra
fails "report: --by-object is a flag, and needs --csv" 2 "--by-object selects the CSV part" \
	"$ON" report --state "$NO" --month 2026-04 --by-object
fails "report: --state missing" 2 "--state and --month are required" \
	"$ON" report --month 2026-04 --csv
fails "publish: --repo missing" 2 "--state and --repo are required" \
	"$ON" publish --state "$NO" --now
fails "publish: --ldap-starttls (a flag) without --ldap" 2 "need --ldap URI" \
	"$ON" publish --state "$NO" --repo r --ldap-starttls
fails "publish: --ldap without a bind DN" 2 "--ldap needs --ldap-bind-dn" \
	"$ON" publish --state "$NO" --repo r --ldap ldap://127.0.0.1:1
fails "responder: --state missing (common options only)" 2 "^hanko-online responder: --state is required \(see --help\)$" \
	"$ON" responder
fails "responder: --generation 0" 2 "--generation 0: an issuing generation 1-999" \
	"$ON" responder --state "$NO" --generation 0
fails "serve: --listen missing" 2 "^hanko-online serve: --state, --repo and --listen are required \(see --help\)$" \
	"$ON" serve --state "$NO" --repo r
fails "serve: an unknown argument" 2 "--port: unknown argument" \
	"$ON" serve --state "$NO" --repo r --listen 127.0.0.1:0 --port 80
fails "serve: --timeout out of range" 2 "--timeout 3601: a whole number from 1 to 3600" \
	"$ON" serve --state "$NO" --repo r --listen 127.0.0.1:0 --timeout 3601
fails "serve: --max-per-client above --max-connections" 2 "--max-per-client 10: at most --max-connections \(5\)" \
	"$ON" serve --state "$NO" --repo r --listen 127.0.0.1:0 --max-connections 5 --max-per-client 10
fails "serve --worker (internal) without its descriptors" 2 "--worker: --channel-fd and --listen-fd are required" \
	"$ON" serve --state "$NO" --repo r --listen 127.0.0.1:0 --worker --channel-fd 3
fails "ocsp-refresh: an unknown argument" 2 "--now: unknown argument" \
	"$ON" ocsp-refresh --state "$NO" --now
fails "issue: --out missing" 2 "--state, --batch and --out are required" \
	"$ON" issue --state "$NO" --batch b.csv --replace
fails "issue: --chunk out of range" 2 "--chunk 0: a number from 1 to 4096" \
	"$ON" issue --state "$NO" --batch b.csv --out o --chunk 0
fails "issue: --threads not a number" 2 "--threads 2x: a number from 1 to 64" \
	"$ON" issue --state "$NO" --batch b.csv --out o --threads 2x
fails "issue: --threads without its value" 2 "--threads: needs a value" \
	"$ON" issue --state "$NO" --batch b.csv --out o --threads
fails "check: --pending-age with a sign" 2 "--pending-age -1: seconds, 0 to 31622400 \(a year\)" \
	"$ON" check --state "$NO" --pending-age -1
fails "ldap-push: --timeout 0 (1 to 600)" 2 "--timeout 0: expected 1 to 600 seconds" \
	"$ON" ldap-push --state "$NO" --repo r --ldap ldap://127.0.0.1:1 --bind-dn cn=x --timeout 0
fails "ldap-push: the required list" 2 "--state, --repo, --ldap and --bind-dn are required" \
	"$ON" ldap-push --state "$NO" --starttls
fails "init: --profile missing" 2 "--state and --profile are required" \
	"$ON" init --state "$NO" --rehearsal
fails "request: an unknown argument" 2 "--kind: unknown argument" \
	"$ON" request --state "$NO" --kind csr
fails "request: --type outside the online side's two (the command's own check)" 2 "--type arl: SPEC 13" \
	"$ON" request --state "$NO" --type arl --out o
fails "revoke: --state missing" 2 "^hanko-online revoke: --state is required \(see --help\)$" \
	"$ON" revoke --reason 1 --serial 01
fails "revoke: a serial and a resident at once (the command's own either/or)" 2 "either --serial or both --municipality and --resident-id" \
	"$ON" revoke --state "$NO" --reason 1 --serial 01 --municipality 431010
fails "revoke: --generation without its value" 2 "--generation: needs a value" \
	"$ON" revoke --state "$NO" --issuing-key-compromise --dry-run --generation
fails "revoke: --dry-run (a flag) alone" 2 "belong to --issuing-key-compromise" \
	"$ON" revoke --state "$NO" --dry-run
# The error line stays one line whatever input it quotes (\n, \xNN, \u{N}).
fails "a --state with a new line: one line, the new line escaped" 3 \
	'^hanko-online history: a\\nb: not a hanko CA state folder' \
	"$ON" history --state "$(printf 'a\nb')" --resident-id 12345678901
fails "a --type with an escape sequence and U+202E: both escaped" 2 \
	'^hanko-online request: --type x\\x1b\[2J\\u\{202e\}y: SPEC 13' \
	"$ON" request --state "$NO" --type "$(printf 'x\033[2J\342\200\256y')" --out o
fails "an unknown command with a new line: one line" 2 '^hanko-online: no\\nsuch: unknown command' \
	"$ON" "$(printf 'no\nsuch')"
# --module that is no library: bad input on one line (exit 3), not libp11's
# own line and a token error (exit 5); no state folder made.
fails "init --module a folder: one line, exit 3" 3 "^hanko-online init: $T: not a PKCS#11 module that can be loaded" \
	"$ON" init --state "$NO" --profile "$HANKO_SRC/ceremony-scripts/profile-kumamoto.yaml" --rehearsal --module "$T"
fails "init --module empty: a usage error, not another module" 2 "^hanko-online init: --module: needs a value$" \
	"$ON" init --state "$NO" --profile "$HANKO_SRC/ceremony-scripts/profile-kumamoto.yaml" --rehearsal --module ""
check "... nothing made" test ! -e "$NO"
fails "init --state with a new line: refused (softhsm2.conf is line by line), exit 3" 3 \
	'^hanko-online init: .*/nl\\nstate: byte [0-9]+ \(0x0a\): a control character in the state folder' \
	"$ON" init --state "$T/nl"$'\n'"state" --profile "$HANKO_SRC/ceremony-scripts/profile-kumamoto.yaml" --rehearsal
check "... nothing made" bash -c "test -z \"\$(ls -A '$T' | grep -e '^nl')\""
# An empty value is no value (as hanko-offline): init --state '' went on to
# exit 8 ("cannot move the new state into place"), request --out '' to make
# the next CSR and spend a bundle sequence number before failing.
fails "init --state '': needs a value" 2 "^hanko-online init: --state: needs a value$" \
	"$ON" init --state "" --profile "$HANKO_SRC/ceremony-scripts/profile-kumamoto.yaml" --rehearsal
fails "request --out '': needs a value" 2 "^hanko-online request: --out: needs a value$" \
	"$ON" request --state "$NO" --type csr --out ""
fails "a file given as the state folder: not a state (exit 3), not an I/O error" 3 \
	"^hanko-online history: $HANKO_SRC/README.md: not a hanko CA state folder \(not a folder\)$" \
	"$ON" history --state "$HANKO_SRC/README.md" --resident-id 12345678901
# A once-only option given twice (two states, two outputs, two clocks: a
# slip in a script or a paste) is a usage error naming the option and both
# values; it was taken, the last one counting (publish went on to the
# second state: exit 3 here).
fails "publish --state twice: refused (usage), both named" 2 \
	"^hanko-online publish: --state: given twice \(once only\): '$NO' and '$T/other'$" \
	"$ON" publish --state "$NO" --state "$T/other" --repo r
fails "history --clock twice, the same value: refused" 2 \
	"^hanko-online history: --clock: given twice \(once only\): '2026-04-01T00:00:00Z' and '2026-04-01T00:00:00Z'$" \
	"$ON" history --state "$NO" --clock 2026-04-01T00:00:00Z --resident-id 12345678901 --clock 2026-04-01T00:00:00Z
fails "issue --out twice (a command's option): refused" 2 \
	"^hanko-online issue: --out: given twice \(once only\): 'o1' and 'o2'$" \
	"$ON" issue --state "$NO" --batch b.csv --out o1 --out o2
fails "issue --threads twice (a number): refused" 2 \
	"^hanko-online issue: --threads: given twice \(once only\): '2' and '4'$" \
	"$ON" issue --state "$NO" --batch b.csv --out o --threads 2 --threads 4
fails "issue --replace twice (a flag): refused" 2 "^hanko-online issue: --replace: given twice \(once only\)$" \
	"$ON" issue --state "$NO" --batch b.csv --out o --replace --replace
fails "ldap-push --passin twice: refused, neither value said (it may be the password)" 2 \
	"^hanko-online ldap-push: --passin: given twice \(once only\)$" \
	"$ON" ldap-push --state "$NO" --repo r --ldap ldap://127.0.0.1:1 --bind-dn x --passin pass:Pw-One-81 --passin pass:Pw-Two-82
check "... no password on stderr" bash -c "! grep -q Pw- '$T/err'"
fails "index-page --repo twice (a parser of its own): refused" 2 \
	"^hanko-online index-page: --repo: given twice \(once only\): 'r1' and 'r2'$" \
	"$ON" index-page --repo r1 --repo r2
fails "audit review --until twice (review's options): refused" 2 \
	"^hanko-online audit: --until: given twice \(once only\): '2026-04-01T00:00:00Z' and '2026-05-01T00:00:00Z'$" \
	"$ON" audit review --state "$NO" --until 2026-04-01T00:00:00Z --until 2026-05-01T00:00:00Z
fails "audit without a verb: one line naming the verbs" 2 \
	"^hanko-online audit: a verb is needed: verify, close, note or review \(see --help\)\$" "$ON" audit
fails "rp add --name twice: refused" 2 "^hanko-online rp: --name: given twice \(once only\): 'a' and 'b'$" \
	"$ON" rp add --state "$NO" --name a --name b
check "... nothing made" test ! -e "$NO" -a ! -e "$T/other" -a ! -e o1 -a ! -e o2 -a ! -e r1 -a ! -e r2
# Past the parse, the missing state folder is what is refused (exit 3).
rc=0; "$ON" history --state "$NO" --resident-id 12345678901 >/dev/null 2>"$T/err" || rc=$?
check "a complete command line goes on to the state (exit 3: no state)" test "$rc" = 3
check "... and nothing was made" test ! -e "$NO"
finish

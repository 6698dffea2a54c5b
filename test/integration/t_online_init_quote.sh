#!/usr/bin/env bash
# t_online_init_quote.sh - "hanko-online init" cleans up without a shell
# (hk_tree_remove, as hanko-offline init): a --state name holding a quote
# and a command, and a token label the token refuses, so that init fails
# after its temporary state folder (with the token's folder) exists; it is
# removed and nothing runs from the name. The same name then makes a state
# that works.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
ON=$HANKO_ONLINE
CLOCK=2026-04-01T00:00:00Z
mkdir -p "$T/q"
QS="$T/q/A'; touch pwned; echo 'B"
in_q() { (cd "$T/q" && "$@"); }

fails "init with a quote in --state fails at the token" 3 "token label 'Bad_Label': only a-z, 0-9 and '-'" \
	in_q "$ON" init --state "$QS" --profile "$PROFILE" --token-label Bad_Label --rehearsal --clock $CLOCK
check "... its temporary state is removed" test -z "$(ls -A "$T/q")"
check "... and nothing ran from the name" test ! -e "$T/q/pwned" -a ! -e "$T/pwned"
ok "the same init succeeds with the embedded token" \
	in_q "$ON" init --state "$QS" --profile "$PROFILE" --rehearsal --clock $CLOCK
check "... the state is there, quote and all, and nothing else" bash -c \
	'[ -f "$1/state.conf" ] && [ "$(ls -A "$2")" = "$(basename "$1")" ] && [ ! -e "$2/pwned" ]' _ "$QS" "$T/q"
ok "... and its audit log verifies" "$OFF" audit verify --state "$QS"
finish

# online.sh - the start of an online integration test, sourced by it
# first: lib.sh, the sample offline CA and a fresh online state in $T
# (make_online: $O, $ISS, $REQ, IC, ...), and db() on its store.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
. "$HANKO_SRC/test/data/online/setup.sh"
fresh_tmp
T=$HANKO_TMP
make_online "$T"
db() { sqlite3 "$O/store.db" "$1"; }

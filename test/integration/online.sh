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
# restore_state BACKUP DAMAGED LOGDIR: docs/backup.md "Restore" steps 2-6 on
# $O after a lost store: the state folder set aside whole as DAMAGED (its
# store.db emptied first, as a lost file), a new one at the same path from
# BACKUP (without MANIFEST and MANIFEST.sig), the token and secrets/ moved
# back from DAMAGED, and the live audit log (audit.log and its head file)
# put back from LOGDIR (which may be DAMAGED/audit).
restore_state() {
	local bk=$1 d=$2 logdir=$3
	: >"$O/store.db"
	rm -rf "$d"
	mv "$O" "$d"
	mkdir -m 0700 "$O"
	(cd "$bk" && tar cf - --exclude=./MANIFEST --exclude=./MANIFEST.sig .) | (cd "$O" && tar xpf -)
	mv "$d/token" "$d/secrets" "$O/"
	cp -p "$logdir/audit.log" "$logdir/audit.log.head" "$O/audit/"
}

#!/usr/bin/env bash
# t_online_faults.sh - an I/O-fault sweep of hanko-online's writing
# commands (publish, import, revoke --serial, issue, rp add, responder,
# ocsp-refresh, backup, profile accept, clock --accept-set-back, audit
# close): each runs on a copy of one small state (and repository) with the
# Nth writing call under the state (but its token, SoftHSM's files), the
# repository or its --out failing with ENOSPC or EIO, in turn
# (test/data/online/failnth.c; test/integration/faults.sh says how to
# sweep by hand); N sampled evenly over the calls a clean run makes
# ($HK_FAULTS_SAMPLES each, default 5; HK_FAULTS_ALL=1: every one;
# HK_FAULTS_ONLY=publish,import,...: those sweeps only). After
# each failed run: a documented non-zero exit (hanko-online.1 EXIT STATUS)
# with one line on stderr naming a path written (besides it only the report
# of a record or checkpoint its own failure path could not add), never a
# crash (a record of the work done that cannot be appended: exit 6, the
# work kept or undone); or exit 0 with the work done as a clean run does it
# (never a record or checkpoint left out); hanko-online audit verify
# passes and check --dry-run finds nothing; no temporary file is left; the
# repository's current set matches its MANIFEST; and the same command run
# again without the fault (or what its line says to run) succeeds and
# leaves the same files and rows as a clean run. A state in between that
# the docs say is finished by running again (audit close) is checked after
# that run only.
# Focused checks, each failing before its fix: a store.db that cannot be
# opened for writing is exit 8, not 70; import's copy into bundles/ that
# cannot be written is named as the copy, not the medium, and its folder's
# fsync is named; responder's certificate that the store does not take
# after state.conf names it is said to be kept, and check puts it back.
# Then the reading sweeps (publish, revoke, audit verify, check, import,
# backup verify, issue: read-publish, ... in HK_FAULTS_ONLY; default 2
# calls each, $HK_FAULTS_READ_SAMPLES) and the focused reading checks,
# below.
. "$(dirname "$0")/online.sh"
T=$(realpath "$T")
O=$(realpath "$O")
P=$T/repo
BK=$T/bk
IO=$T/iout
. "$(dirname "$0")/faults.sh"
PREFIXES="$O:$P:$T/repo.sets:$BK:$IO"
# the token's files are SoftHSM's (its own failure paths, not hanko's)
export HK_FAILNTH_SKIP=$O/token
SAMPLES=${HK_FAULTS_SAMPLES:-5}
PARTIAL_OK=""
ALLOW_DIFF=""
CHECK_FIXES="run hanko-online check --state $O, which puts it back"

# snap NAME: the state and repository kept as NAME (restore puts them back).
snap() {
	rm -rf "$T/$1" "$T/$1.repo" "$T/$1.repo.sets"
	cp -a "$O" "$T/$1"
	[ ! -e "$P" ] || cp -a "$P" "$T/$1.repo"
	[ ! -e "$T/repo.sets" ] || cp -a "$T/repo.sets" "$T/$1.repo.sets"
}

# The base: responder 1, ARLs 1-10 imported, six residents issued, a
# publish, one of them revoked; import sweeps from the state before the
# ARLs were imported.
B=$T/req
req_dir "$B"
published_base snap base0	# import's base: the ARLs not imported yet
mv "$T/b-arl" "$T/b-arl10"	# the sweeps import it again from there
ok "revoke line 2's" "$ON" revoke --state "$O" --clock 2026-04-02T13:40:00Z --serial "$S2" --reason superseded
{ sed -n 1p "$REQ/valid.csv"
  echo "431010,70000000007,熊本　三郎,00000,319750301,1,熊本県熊本市中央区水前寺６丁目１８番１号,00000000000000000000,keys/resident-1.pub.pem"
  echo "432024,70000000008,八代　四郎,00000,419900815,1,熊本県八代市松江城町１番２５号,000000000000000,keys/resident-2.pub.pem"
  echo "432148,70000000009,阿蘇　五郎,00000,520200101,1,熊本県阿蘇市一の宮町宮地５０４番地,00000000000000000,keys/resident-3.pub.pem"
} >"$B/three.csv"
snap base
BASE=base

# restore: the state and repository as snap $BASE left them, nothing else.
restore() {
	rm -rf "$O" "$P" "$T/repo.sets" "$BK" "$IO"
	cp -a "$T/$BASE" "$O"
	# the sets first: the link is relative (repo -> repo.sets/N), and
	# -e follows it (before, the link was never put back: every publish
	# ran into a new repository)
	[ ! -e "$T/$BASE.repo.sets" ] || cp -a "$T/$BASE.repo.sets" "$T/repo.sets"
	[ ! -e "$T/$BASE.repo" ] || cp -a "$T/$BASE.repo" "$P"
}
# fingerprint: what a run leaves, without what differs from run to run
# (temporary names, times, keys): the files of the state, the repository's
# current set and the outputs, and every table's row count.
fingerprint() {
	( cd "$O" && find . -path ./token -prune -o -print | grep -v -e '^\./store\.db-' \
		-e '^\./bundles/' -e '^\./audit/closed/' -e '\.lock$' | sort )
	[ ! -e "$P" ] || (cd "$P/" && find . | sort)
	[ ! -e "$BK" ] || (cd "$BK" && find . | sort)
	# issue's --out: its marker batch.sha256 may stay after a failed run
	# (docs/requests.md); the next run into it completes it
	[ ! -e "$IO" ] || (cd "$IO" && find . -mindepth 1 ! -name batch.sha256 | sort)
	for t in $(sqlite3 "$O/store.db" "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"); do
		echo "$t $(sqlite3 "$O/store.db" "SELECT count(*) FROM \"$t\"")"
	done
}
# content: the bytes a run leaves that every clean run leaves the same (the
# repository's files, the state's but the audit log, locks, bundles/, the
# token and the CRL caches (a cache that cannot be read is rebuilt from
# the store: docs/publish.md), and the store's rows): what a reading sweep's run that exits
# 0 must leave (CONTENT=1; not for issue, whose serials are random).
CONTENT=""
content() {
	[ ! -e "$P" ] || (cd "$P/" && find . -type f | sort | xargs -r sha256sum) || true
	(cd "$O" && find . \( -path ./token -o -path ./audit -o -path ./bundles -o -path ./crlcache \) -prune -o -type f -print |
		grep -v -e '^\./store\.db' -e '\.lock$' | sort | xargs -r sha256sum) || true
	sqlite3 "$O/store.db" .dump | sha256sum
}
# tmp_left: temporary files and folders left in the state, repository and
# outputs.
tmp_left() {
	find "$O" "$P/" "$T/repo.sets" ${BK:+"$BK"} ${IO:+"$IO"} 2>/dev/null \
		\( -name '*.tmp-*' -o -name '*.tmp' -o -name '*-XXXXXX' -o -name '*.new' -o -name '*.part' \) -print
}
# set_ok: the repository's current set matches its MANIFEST.
set_ok() {
	[ ! -e "$P" ] || (cd "$P/" && awk '{print $1 "  " $3}' MANIFEST | sha256sum -c --quiet) >/dev/null 2>&1
}
# same_but A B: fingerprints A and B the same but for lines of $ALLOW_DIFF.
same_but() {
	[ -n "$ALLOW_DIFF" ] && cmp -s <(grep -v -E "$ALLOW_DIFF" "$1") <(grep -v -E "$ALLOW_DIFF" "$2")
}
# fpdiff FP: what FP has that a clean run's does not, and the reverse.
fpdiff() { diff "$T/fp.clean" "$1" | grep '^[<>]' | head -4 | tr '\n' ' ' || true; }
firstline() { grep -m1 -v '^$' "$1" | cut -c1-300 || true; }
# (revoke's line for a refresh that failed after the revocation, too:
# docs/ocsp.md; and publish's for the pid in its lock, held all the same)
ASIDE='^hanko-online: [^ ]+: (no checkpoint|cannot append [a-z.-]+): |^hanko-online revoke: revoked, but the OCSP responses were not refreshed: |^hanko-online: [^ ]+/publish\.lock: cannot record the pid$'
# names_written LINE: LINE names a path under the folders written (or the
# token), not only the input read or nothing at all.
names_written() {
	local p IFS=:
	for p in $PREFIXES; do [[ "$1" != *"$p"* ]] || return 0; done
	[[ "$1" == *"token '"* ]]
}

# sound LABEL: the state's audit log verifies and check finds nothing;
# else LABEL and what failed added to $bad.
sound() {
	"$ON" audit verify --state "$O" >"$T/av" 2>&1 || bad="$bad ${1}audit-verify($(firstline "$T/av"))"
	"$ON" check --state "$O" --dry-run >"$T/ck" 2>&1 || bad="$bad ${1}check($(firstline "$T/ck"))"
}

# sweep NAME PREPARE CMD...: NAME's calls counted on a clean run (after
# PREPARE, a shell function run on the restored base), then N = 1, 2, ...
# (SAMPLES of them, evenly) failed in turn, each checked and run again.
sweep() {
	local name=$1 prep=$2 total n step want fails0 out err bad k
	shift 2
	restore; $prep
	clean_run "$name" "$@"
	lost=0 k=0
	for n in $(positions); do
		restore; $prep
		sample_faulted "$((k++))" "$n" "$@" || { echo "# $name: call $n not reached"; continue; }
		bad="" main=""
		! wrong_reason "$err" || bad="$bad says-no-space-of-EIO"
		fingerprint >"$T/fp.f"
		if cmp -s "$T/fp.clean" "$T/fp.f"; then done=done
		elif cmp -s "$T/fp.base" "$T/fp.f" || same_but "$T/fp.base" "$T/fp.f"; then done=undone
		elif same_but "$T/fp.clean" "$T/fp.f"; then done=resume
		else done=partial; fi
		case $rc in
		0) [ "$done" = done ] || bad="$bad exit-0-$done($(fpdiff "$T/fp.f"))"
		   # the work done; a record of it that could not be
		   # appended is exit 6, never 0 (docs/audit-log.md "When an
		   # append fails"); only the pid in publish's lock may be
		   # said beside an exit 0
		   if [ -n "$err" ]; then
			   [ -z "$(printf '%s\n' "$err" | grep -v -E "$ASIDE" || true)" ] || bad="$bad exit-0-said"
			   ! printf '%s\n' "$err" | grep -q -E '(no checkpoint|cannot append [a-z.-]+): ' || bad="$bad exit-0-unrecorded"
			   [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] || bad="$bad stderr-lines"
			   lost=$((lost + 1))
		   fi
		   ;;
		1|3|5|6|8)
		   # one line; besides it only the report of a record or
		   # checkpoint that the failure's own path could not add
		   main=$(printf '%s\n' "$err" | grep -v -E "$ASIDE" || true)
		   [ "$(printf '%s\n' "$main" | grep -c .)" = 1 ] || bad="$bad stderr-lines"
		   names_written "$main" || bad="$bad names-nothing-written" ;;
		*) bad="$bad exit-$rc" ;;
		esac
		# a read that failed: never taken as a short or empty file
		# (exit 0 only with what a clean run prints and leaves), else
		# said as the medium's failure
		if [ "$MODE" = read ]; then
			if [ "$rc" = 0 ] && [ -n "$err" ]; then
				# the work done and what was not said (the OCSP
				# responses after a revocation: docs/ocsp.md),
				# the medium's failure in its line
				reason_said "$err" || bad="$bad reason-not-said"
			elif [ "$rc" = 0 ]; then
				# (but a CRL cache that cannot be read: rebuilt
				# from the store, docs/publish.md; said)
				cmp -s <(sed -E 's/[0-9]+ caches rebuilt//' "$T/fout") <(sed -E 's/[0-9]+ caches rebuilt//' "$T/fout.clean") ||
					bad="$bad exit-0-prints-otherwise($(diff "$T/fout.clean" "$T/fout" | grep '^[<>]' | head -2 | tr '\n' ' ' || true))"
				[ -z "$CONTENT" ] || { content >"$T/cf.f"; cmp -s "$T/cf.clean" "$T/cf.f" ||
					bad="$bad exit-0-content($(diff "$T/cf.clean" "$T/cf.f" | grep '^[<>]' | head -2 | tr '\n' ' ' || true))"; }
			else
				# (or, backup verify's exit 1, its problem
				# lines on stdout: a file of the backup that
				# cannot be read is a problem of the backup)
				reason_said "$main" || { [ "$rc" = 1 ] && reason_said "$(cat "$T/fout")"; } ||
					bad="$bad reason-not-said"
			fi
		fi
		# a state in between that is documented, finished by running
		# again or by what the line says to run
		between=$PARTIAL_OK
		[[ "$main" != *"$CHECK_FIXES"* ]] || between=1
		[ "$done" != partial ] || [ -n "$between" ] || bad="$bad partial($(fpdiff "$T/fp.f"))"
		set_ok || bad="$bad manifest"
		[ -z "$(tmp_left)" ] || bad="$bad tmp-left($(tmp_left | head -3 | tr '\n' ' ' || true))"
		if [ "$done" != done ]; then
			# again, without the fault: as a clean run (the failed
			# run's state kept aside: audit verify and check append
			# records at the real clock, which the guard of a run at
			# --clock would then refuse)
			rm -rf "$T/faulted"
			cp -a "$O" "$T/faulted"
			rc2=0
			if [[ "$main" == *"$CHECK_FIXES"* ]]; then
				# what the line says to run instead (exit 1: a
				# finding, fixed)
				"$ON" check --state "$O" >"$T/aout" 2>"$T/aerr" || rc2=$?
				[ "$rc2" = 1 ] || bad="$bad check-fix-exit-$rc2($(firstline "$T/aerr"))"
			else
				"$@" >"$T/aout" 2>"$T/aerr" || rc2=$?
				[ "$rc2" = "$want" ] || bad="$bad again-exit-$rc2($(firstline "$T/aerr"))"
			fi
			fingerprint >"$T/fp.a"
			cmp -s "$T/fp.clean" "$T/fp.a" || bad="$bad again-differs($(fpdiff "$T/fp.a"))"
			set_ok || bad="$bad again-manifest"
			[ -z "$(tmp_left)" ] || bad="$bad again-tmp-left($(tmp_left | head -3 | tr '\n' ' ' || true))"
			sound again-
			rm -rf "$O"
			mv "$T/faulted" "$O"
		fi
		[ "$done" != done ] && [ -n "$between" ] || sound ""
		check "$name: call $n of $total ($what): exit $rc, $done, '$(printf '%s' "${main:-$err}" | head -1 | cut -c1-200)'${bad:+ -- DEFECT:$bad}" test -z "$bad"
	done
	echo "# $name: $lost runs with exit 0, a record or checkpoint after the work not appended (said on stderr)"
}

# faulted_at PREFIX N CMD...: CMD with the Nth writing call under PREFIX
# failing (ENOSPC), the shim's line in $T/said, not on stderr.
faulted_at() {
	local pre=$1 n=$2
	shift 2
	rm -f "$T/said"
	env HK_FAILNTH_PREFIX="$pre" HK_FAILNTH_N="$n" HK_FAILNTH_SAY="$T/said" \
		LD_PRELOAD="$T/failnth.so" ASAN_OPTIONS="$ASAN_PRELOAD" "$@"
}

# Focused: a store.db that cannot be opened for writing (SQLite opens it
# read-only then, and every write is "attempt to write a readonly
# database") is the medium's failure, exit 8, not an internal error (70).
restore
fails "rp add: store.db not opened for writing: exit 8 naming it" 8 \
	"^hanko-online rp: $O/store.db: .*readonly database \(a file of the store could not be opened for writing\)$" \
	faulted_at "$O/store.db" 1 "$ON" rp add --state "$O" --clock 2026-04-03T10:00:00Z --name bank-9
check "... the failed call was store.db's open" grep -q "^failnth: call 1 open $O/store.db failed" "$T/said"
check "... nothing registered" test "$(sqlite3 "$O/store.db" "SELECT count(*) FROM relying_parties")" = \
	"$(sqlite3 "$T/base/store.db" "SELECT count(*) FROM relying_parties")"

# Focused: import's copy of a bundle into bundles/ that cannot be written
# names the copy in the state (not the medium read, which is sound), and
# the fsync of the copy's folder is named (not a bare "input/output
# error"); nothing is left in bundles/.
BASE=base0
restore
rm -f "$T/trace"
env HK_FAILNTH_PREFIX="$O/bundles" HK_FAILNTH_TRACE="$T/trace" LD_PRELOAD="$T/failnth.so" \
	ASAN_OPTIONS="$ASAN_PRELOAD" "$ON" import --state "$O" --clock 2026-04-03T10:00:00Z "$T/b-arl10" >/dev/null
NMAN=$(grep -m1 ' openat .*\.tmp-[0-9a-f]*/manifest$' "$T/trace" | cut -d' ' -f1)
NSYNC=$(grep -m1 ' fsync .*\.tmp-[0-9a-f]*$' "$T/trace" | cut -d' ' -f1)
check "import: the copy's manifest and its folder's fsync are among its calls ($NMAN, $NSYNC)" test -n "$NMAN" -a -n "$NSYNC"
for n in 1 "$NMAN" "$((NMAN + 1))" "$NSYNC"; do
	restore
	fails "import: call $n under bundles/ fails: exit 8, the copy in the state named" 8 \
		"^hanko-online import: $O/bundles/[0-9]+-arl-batch-[0-9a-f]+\.tmp-[0-9a-f]{16}(/[a-z0-9.-]+)?: (cannot create|cannot write|fsync): $REASON$" \
		faulted_at "$O/bundles" "$n" "$ON" import --state "$O" --clock 2026-04-03T10:00:00Z "$T/b-arl10"
	check "... nothing left in bundles/" test "$(ls "$O/bundles")" = "$(ls "$T/base0/bundles")"
done
BASE=base

# read_faulted PREFIX N CMD...: CMD with the Nth reading call under PREFIX
# (but the token) failing with EIO, the shim's line in $T/said; N=0: the
# calls counted in $T/trace.
read_faulted() {
	local pre=$1 n=$2
	shift 2
	rm -f "$T/said" "$T/trace"
	env HK_FAILNTH_MODE=read HK_FAILNTH_ERRNO=EIO HK_FAILNTH_PREFIX="$pre" HK_FAILNTH_N="$n" \
		HK_FAILNTH_SAY="$T/said" HK_FAILNTH_TRACE="$T/trace" LD_PRELOAD="$T/failnth.so" \
		ASAN_OPTIONS="$ASAN_PRELOAD" "$@"
}

# Focused (reading): a bundle imported already, given again, whose store
# cannot be read when import asks whether it holds it: exit 8 naming the
# store, the copy in bundles/ kept (it was taken for the copy of an import
# that never committed and removed, "bundle.recover ok" recorded).
restore
REPLAY=("$ON" import --state "$O" --clock 2026-04-03T10:00:00Z "$T/b-arl10")
DEST=$(ls -d "$O"/bundles/*-arl-batch-*)
read_faulted "$O" 0 "${REPLAY[@]}" >/dev/null 2>&1 || true
NHAS=$(awk -v d="$DEST" '$3 == d { on = 1; next } on && $3 ~ /\/store\.db$/ { print $1; exit }' "$T/trace")
check "import (replayed): a read of the store after bundles/ is looked at ($NHAS)" test -n "$NHAS"
restore
fails "import (replayed): the store cannot be read when asked for the bundle: exit 8 naming it" 8 \
	"^hanko-online import: $O/store\.db: bundles: select: disk I/O error$" read_faulted "$O" "${NHAS:-0}" "${REPLAY[@]}"
check "... the copy of the imported bundle stays in bundles/" test -s "$DEST/manifest"
check "... no bundle.recover record" bash -c "! grep -q '	bundle.recover	' '$O/audit/audit.log'"
ok "... the audit log verifies" "$ON" audit verify --state "$O"
ok "... check finds nothing" "$ON" check --state "$O" --dry-run

# nth CALL PATH-RE [K]: the number of the Kth (default first) counted call
# CALL on a path matching PATH-RE in $T/trace.
nth() { awk -v c="$1" -v p="$2" -v k="${3:-1}" '$2 == c && $3 ~ p && ++n == k { print $1; exit }' "$T/trace"; }

# Focused (reading): check and audit verify whose reads fail say the
# medium's failure, exit 8, not damage or a wrong file (each before its
# fix): the store looked up ("no store here (run hanko-online init)") and
# opened (SQLite's bare "unable to open database file"; the first open, of
# the store id's check, skipped: another state's store went unrefused);
# a page of the store read for its schema (SQLITE_CORRUPT of EIO: "the
# store is damaged; restore it from the backup", exit 3) and for
# integrity_check ("error code=8458" a finding: "the file is damaged ...
# restore the store from its backup", exit 1); the PIN file's fstat and
# read ("must be a regular file", "must hold one line": an unread file
# taken as empty, exit 3); the audit log's head file's fstat ("not a
# regular file of at most 512 bytes (cannot check that the log was not
# truncated)", exit 6).
restore
read_faulted "$O" 0 "$ON" check --state "$O" >/dev/null 2>&1
NPIN=$(nth read '/secrets/token-user-pin$')
NOPEN=$(nth open '/store\.db$')
NSCHEMA=$(awk -v p="${NPIN:-0}" '$1 < p - 2 && $2 == "pread" && $3 ~ /\/store\.db$/ { n = $1 } END { print n }' "$T/trace")
NPAGE=$(awk -v p="${NPIN:-0}" '$1 > p && $2 == "pread" && $3 ~ /\/store\.db$/ && ++k == 2 { print $1; exit }' "$T/trace")
check "check: its reads of the store and the PIN file ($NOPEN, $NSCHEMA, $NPIN, $NPAGE)" test -n "$NOPEN" -a -n "$NSCHEMA" -a -n "$NPIN" -a -n "$NPAGE"
cp "$O/audit/audit.log" "$T/log.before"
fails "check: store.db's open fails: exit 8, the system's error said" 8 \
	"^hanko-online check: $O/store\.db: cannot open: unable to open database file \(Input/output error\)$" \
	read_faulted "$O" "${NOPEN:-0}" "$ON" check --state "$O"
fails "check: a page of the store's schema cannot be read: exit 8, the medium's failure, not damage" 8 \
	"^hanko-online check: $O/store\.db: meta: schema: database disk image is malformed \(Input/output error\): a read of the store failed: the medium, not the store's bytes$" \
	read_faulted "$O" "${NSCHEMA:-0}" "$ON" check --state "$O"
fails "check: a page of integrity_check cannot be read: exit 8, the medium's failure, not a finding of damage" 8 \
	"^hanko-online check: $O/store\.db: integrity_check: Page [0-9]+: unable to get the page\. error code=8458: a read of the store failed \(disk I/O error\): the medium, not the store's bytes$" \
	read_faulted "$O" "${NPAGE:-0}" "$ON" check --state "$O"
fails "check: the PIN file's fstat fails: exit 8 naming it" 8 \
	"^hanko-online check: $O/secrets/token-user-pin: cannot stat the token PIN file: Input/output error$" \
	read_faulted "$O" "$((${NPIN:-1} - 1))" "$ON" check --state "$O"
fails "check: the PIN file's read fails: exit 8 naming it, not an empty PIN file" 8 \
	"^hanko-online check: $O/secrets/token-user-pin: cannot read the token PIN file: Input/output error$" \
	read_faulted "$O" "${NPIN:-0}" "$ON" check --state "$O"
NACC=$(nth access '/store\.db$')
fails "check: the store's look-up fails: exit 8 naming it, not 'no store here (run hanko-online init)'" 8 \
	"^hanko-online check: $O/store\.db: cannot look up the store: Input/output error$" \
	read_faulted "$O" "${NACC:-0}" "$ON" check --state "$O"
check "... nothing stored changed: the store as it was, the audit log only added to (store.check fail)" bash -c "
	head -c \$(stat -c %s '$T/log.before') '$O/audit/audit.log' | cmp -s - '$T/log.before' &&
	[ \"\$(sqlite3 '$O/store.db' .dump | sha256sum)\" = \"\$(sqlite3 '$T/base/store.db' .dump | sha256sum)\" ]"
read_faulted "$O" 0 "$ON" audit verify --state "$O" >/dev/null 2>&1
NHEAD=$(nth fstat '/audit/audit\.log\.head$')
check "audit verify: the fstat of the log's head file among its calls ($NHEAD)" test -n "$NHEAD"
fails "audit verify: the head file's fstat fails: exit 8 naming it, not a head file damaged" 8 \
	"^hanko-online audit: $O/audit/audit\.log\.head: cannot stat: Input/output error$" \
	read_faulted "$O" "${NHEAD:-0}" "$ON" audit verify --state "$O"

# Focused (reading): an audit append whose look-up of the close's head
# file fails says so (it said "a close of the log stopped part-way"), and
# whose fstat of the log fails says so (it said "not a regular file"),
# each of rp add's such calls failed in turn; the store's header whose
# fstat fails names the system's error (it said "SQLite error 1802").
restore
RPADD=("$ON" rp add --state "$O" --clock 2026-04-03T10:00:00Z --name bank-9)
read_faulted "$O" 0 "${RPADD[@]}" >/dev/null 2>&1
cp "$T/trace" "$T/trace.rp"
# (the header's size, read before SQLite opens the store for its work:
# the fstat just before the second pread of store.db)
NHDR=$(awk '$2 == "pread" && $3 ~ /\/store\.db$/ && ++k == 2 { if (p2 == "fstat") print p1; exit } { p1 = $1; p2 = $2 }' "$T/trace")
NLOG=$(awk '($2 == "lstat" && $3 ~ /\/audit\/audit\.log\.next\.head$/) || ($2 == "fstat" && $3 ~ /\/audit\/audit\.log$/) { print $1 }' "$T/trace.rp" | tr '\n' ' ')
check "rp add: the store's fstat, the look-ups of the close's head file and the log's fstats among its calls ($NHDR; $NLOG)" \
	test -n "$NHDR" -a -n "$NLOG"
wrong=""
for n in $NLOG; do
	restore
	rc=0; read_faulted "$O" "$n" "${RPADD[@]}" >/dev/null 2>"$T/err2" || rc=$?
	# (exit 0 and nothing said: the fstat of the lock's check that the
	# log was not replaced meanwhile, which the lstat after it makes)
	if { [ "$rc" = 0 ] && [ -s "$T/err2" ]; } || { [ "$rc" != 0 ] && ! grep -q 'Input/output error' "$T/err2"; } ||
		grep -q -e 'stopped part-way' -e 'not a regular file' "$T/err2"; then
		wrong="$wrong $n:exit-$rc:$(head -1 "$T/err2" | cut -c1-160)"
	fi
done
check "rp add: each fails, its line says the medium's failure (or all is done, nothing said), not a close stopped part-way or not a regular file${wrong:+ --$wrong}" test -z "$wrong"
restore
fails "rp add: the store's fstat fails: exit 8, the system's error said" 8 \
	"^hanko-online rp: $O/store\.db: cannot read: Input/output error \(SQLite error [0-9]+\)$" \
	read_faulted "$O" "${NHDR:-0}" "${RPADD[@]}"

# Focused (reading): revoke whose reads of the store's WAL fail, each in
# turn (the first ones, before the revocation, and those of the OCSP
# refresh after it): never "the store is damaged; restore it from the
# backup" (SQLITE_CORRUPT of a WAL read's EIO, whose file's last errno
# SQLite does not give).
restore
REV=("$ON" revoke --state "$O" --clock 2026-04-03T10:00:00Z --serial "$S3" --reason superseded)
read_faulted "$O" 0 "${REV[@]}" >/dev/null 2>&1
NWAL=$(awk '$2 == "pread" && $3 ~ /\/store\.db-wal$/ { print $1 }' "$T/trace" | head -4 | tr '\n' ' ')
check "revoke: its reads of the WAL ($NWAL)" test -n "$NWAL"
wrong=""
for n in $NWAL; do
	restore
	rc=0; read_faulted "$O" "$n" "${REV[@]}" >/dev/null 2>"$T/err2" || rc=$?
	# (exit 0 and nothing said: a read of the checkpoint SQLite makes as
	# it closes, which leaves the WAL as it was)
	said=0; ! { [ -s "$T/err2" ] || [ "$rc" != 0 ]; } || said=1
	if grep -q -e 'the store is damaged' -e 'restore it from the backup' "$T/err2" ||
		{ [ "$said" = 1 ] && ! grep -q -e 'Input/output error' -e 'disk I/O error' "$T/err2"; }; then
		wrong="$wrong $n:exit-$rc:$(head -1 "$T/err2" | cut -c1-200)"
	fi
done
check "revoke: each WAL read failed: the medium's failure said (or all done, nothing said), not a damaged store${wrong:+ --$wrong}" test -z "$wrong"

# Focused (reading): import whose look-up of the pinned root fails: exit 8
# naming it, not "no root pinned yet (run hanko-online trust first)",
# exit 3, of a root pinned.
BASE=base0
restore
read_faulted "$O" 0 "$ON" import --state "$O" --clock 2026-04-03T10:00:00Z "$T/b-arl10" >/dev/null 2>&1
NANCH=$(nth lstat '/certs/root-anchor\.der$')
check "import: the lstat of the pinned root among its calls ($NANCH)" test -n "$NANCH"
restore
fails "import: the pinned root's look-up fails: exit 8 naming it" 8 \
	"^hanko-online import: $O/certs/root-anchor\.der: cannot look up: Input/output error$" \
	read_faulted "$O" "${NANCH:-0}" "$ON" import --state "$O" --clock 2026-04-03T10:00:00Z "$T/b-arl10"
check "... nothing imported" test "$(ls "$O/bundles")" = "$(ls "$T/base0/bundles")"
BASE=base

# Focused: responder's new certificate not taken by the store after
# state.conf names it: the line says responder 2 is made and kept and to
# run check (not responder again, which made responder 3 and left 2 out
# of the store); check puts it back.
restore
rm -f "$T/trace"
env HK_FAILNTH_PREFIX="$O" HK_FAILNTH_TRACE="$T/trace" LD_PRELOAD="$T/failnth.so" \
	ASAN_OPTIONS="$ASAN_PRELOAD" "$ON" responder --state "$O" --clock 2026-04-03T10:00:00Z >/dev/null
NPEM=$(grep ' rename[a-z0-9]* .*/certs/ocsp-responder-2\.pem$' "$T/trace" | tail -1 | cut -d' ' -f1)
NINS=$(awk -v p="${NPEM:-0}" '$1 > p && $2 == "pwrite" && $3 ~ /store\.db-wal$/ { print $1; exit }' "$T/trace")
NCONF=$(grep ' rename[a-z0-9]* .*/online/state\.conf$' "$T/trace" | tail -1 | cut -d' ' -f1)
NDIR=$(awk -v p="${NCONF:-0}" -v d="$O" '$1 > p && $2 == "fsync" && $3 == d { print $1; exit }' "$T/trace")
check "responder: a write of the store after its certificate's files ($NPEM, $NINS)" test -n "$NPEM" -a -n "$NINS"
check "responder: the fsync of the state folder after state.conf's rename ($NCONF, $NDIR)" test -n "$NCONF" -a -n "$NDIR"
restore
fails "responder: state.conf in place, its folder's fsync fails: exit 8, responder 2 said kept" 8 \
	"^hanko-online responder: OCSP responder 2 is made and named by state.conf \(certs/ocsp-responder-2\.der, its key on the token\): kept; but $O/state.conf: cannot fsync its folder$" \
	faulted_at "$O" "$NDIR" "$ON" responder --state "$O" --clock 2026-04-03T10:00:00Z
check "... state.conf names responder 2, and its files are there" bash -c "grep -qx 'responder.current = 2' '$O/state.conf' &&
	[ -s '$O/certs/ocsp-responder-2.der' ] && [ -s '$O/certs/ocsp-responder-2.pem' ]"
ok "... its key is kept: ocsp-refresh signs with it" "$ON" ocsp-refresh --state "$O" --clock 2026-04-03T10:00:00Z
ok "... check finds nothing" "$ON" check --state "$O" --dry-run
restore
fails "responder: the store does not take the certificate: exit 8, responder 2 kept, check named" 8 \
	"^hanko-online responder: OCSP responder 2 is made and named by state.conf \(certs/ocsp-responder-2\.der, its key on the token\), but the store did not take its certificate \($O/store.db: ca_certs: insert: $SQLREASON\): run hanko-online check --state $O, which puts it back" \
	faulted_at "$O" "$NINS" "$ON" responder --state "$O" --clock 2026-04-03T10:00:00Z
check "... the cert.issue fail record names it" grep -q "	cert.issue	fail	op1@ca-online	OCSP responder 2: OCSP responder 2 is made and named by state.conf" "$O/audit/audit.log"
fails "... check puts it back (exit 1: a finding, fixed)" 1 "findings, 1 fixed" "$ON" check --state "$O"
ok "... then check finds nothing" "$ON" check --state "$O" --dry-run
check "... the store holds responder 2" test "$(sqlite3 "$O/store.db" "SELECT count(*) FROM ca_certs WHERE kind = 'responder'")" = 2

# A backup of the base, for backup verify's reading sweep.
restore
ok "a backup of the base" "$ON" backup --state "$O" --out "$T/bk0" --clock 2026-04-02T13:50:00Z
snap backed
cp -a "$T/bk0" "$T/backed.bk"

nothing() { :; }
profile_edited() { sed -i '/^user:/,/^$/s/validity-years: 3/validity-years: 2/' "$O/profile.yaml"; }
AT=(--clock 2026-04-03T10:00:00Z)
ONLY=${HK_FAULTS_ONLY:-}
want_cmd() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }

want_cmd publish && sweep publish nothing "$ON" publish --state "$O" --repo "$P" "${AT[@]}"
BASE=base0
want_cmd import && sweep import nothing "$ON" import --state "$O" "${AT[@]}" "$T/b-arl10"
BASE=base
want_cmd revoke && sweep revoke nothing "$ON" revoke --state "$O" "${AT[@]}" --serial "$S3" --reason superseded
# issue: the batch journal's row may stay, for the run again to resume
# (docs/store.md "The batch journal", docs/requests.md), and results.csv
# is written from the journal at the end of every run: one that could not
# be written (all issued) is written by the run again (docs/requests.md
# "Resume")
ALLOW_DIFF='^batches [0-9]+$|^\./results\.csv$'
want_cmd issue && sweep issue nothing "$ON" issue --state "$O" "${AT[@]}" --batch "$B/three.csv" --out "$IO"
ALLOW_DIFF=""
want_cmd rp && sweep "rp add" nothing "$ON" rp add --state "$O" "${AT[@]}" --name bank-9
want_cmd responder && sweep responder nothing "$ON" responder --state "$O" "${AT[@]}"
want_cmd ocsp && sweep ocsp-refresh nothing "$ON" ocsp-refresh --state "$O" "${AT[@]}"
want_cmd backup && sweep backup nothing "$ON" backup --state "$O" --out "$BK" "${AT[@]}"
want_cmd profile && sweep "profile accept" profile_edited "$ON" profile accept --state "$O" "${AT[@]}"
want_cmd clock && sweep "clock --accept-set-back" nothing "$ON" clock --state "$O" --clock 2026-04-01T13:00:00Z \
	--accept-set-back --actors cam1,op1
# a close stopped part-way is found and finished by running it again
# (hanko-online.1): its state in between is not checked, the run again is
PARTIAL_OK=1
want_cmd close && sweep "audit close" nothing "$ON" audit close --state "$O" "${AT[@]}" --actors op1,auditor1
PARTIAL_OK=""

# The reading sweeps: the Nth reading call (open for reading, read, pread,
# stat, fstat) under the state, the repository, the backup or the bundle
# read failing with EIO. Besides the checks above: a run that exits 0 prints
# and leaves what a clean run does (a read that failed is never taken as a
# short, empty or missing file: an audit log cut short read as whole, a
# revocation or CRL entry left out, a state.conf line read as its
# default); any other exit says the medium's failure (strerror's or
# SQLite's words), not a damaged or missing file.
SAMPLES=${HK_FAULTS_READ_SAMPLES:-2}
MODE=read
rsweep() { sweep "read: $1" "${@:2}"; }
CONTENT=1
want_cmd read-publish && rsweep publish nothing "$ON" publish --state "$O" --repo "$P" "${AT[@]}"
want_cmd read-revoke && rsweep revoke nothing "$ON" revoke --state "$O" "${AT[@]}" --serial "$S3" --reason superseded
want_cmd read-audit-verify && rsweep "audit verify" nothing "$ON" audit verify --state "$O"
want_cmd read-check && rsweep check nothing "$ON" check --state "$O"
BASE=base0
PREFIXES0=$PREFIXES
PREFIXES="$PREFIXES:$T/b-arl10"
want_cmd read-import && rsweep import nothing "$ON" import --state "$O" "${AT[@]}" "$T/b-arl10"
PREFIXES=$PREFIXES0
BASE=backed
backup_in() { cp -a "$T/backed.bk" "$BK"; }
# Focused (reading): backup verify whose reads of the live audit log fail:
# exit 8, the live log named, not "1 problem: not a sound backup of this
# state" (exit 1) of a sound backup.
restore; backup_in
read_faulted "$O" 0 "$ON" backup verify "$BK" --state "$O" >/dev/null 2>&1
NLIVE=$(awk -v f="$O/audit/audit.log" '$3 == f && ($2 == "read" || $2 == "pread") { print $1 }' "$T/trace" | tr '\n' ' ')
check "backup verify: its reads of the live log ($NLIVE)" test -n "$NLIVE"
for n in $NLIVE; do
	restore; backup_in
	fails "backup verify: the live log's read $n fails: exit 8 naming it, not an unsound backup" 8 \
		"^hanko-online backup: $O/audit/audit\.log: the live log cannot be read: Input/output error$" \
		read_faulted "$O" "$n" "$ON" backup verify "$BK" --state "$O"
done
# ... and whose look-up or fstat of a file of the backup fails: that
# problem said once as the medium's (it was also "missing (listed in
# MANIFEST)"; "not a regular file (a symbolic link, a device, ...)"),
# exit 1: a file of the backup that cannot be read is a problem of it.
restore; backup_in
read_faulted "$BK" 0 "$ON" backup verify "$BK" --state "$O" >/dev/null 2>&1
NBST=$(awk -v f="$BK/certs/root-anchor.der" '$2 == "lstat" && $3 == f { print $1; exit }' "$T/trace")
NBFS=$(awk -v f="$BK/state.conf" '$2 == "fstat" && $3 == f { print $1; exit }' "$T/trace")
check "backup verify: its look-up of the backup's root-anchor.der, fstat of its state.conf ($NBST, $NBFS)" test -n "$NBST" -a -n "$NBFS"
restore; backup_in
rc=0; read_faulted "$BK" "${NBFS:-0}" "$ON" backup verify "$BK" --state "$O" >"$T/out2" 2>&1 || rc=$?
check "... state.conf's fstat fails: exit 1, 'cannot stat: Input/output error', not 'not a regular file' (exit $rc)" \
	bash -c "[ $rc = 1 ] && grep -q 'state\.conf: cannot stat: Input/output error' '$T/out2' && ! grep -q 'not a regular file' '$T/out2'"
restore; backup_in
rc=0; read_faulted "$BK" "${NBST:-0}" "$ON" backup verify "$BK" --state "$O" >"$T/out2" 2>&1 || rc=$?
check "... exit 1, the problem 'cannot stat: Input/output error' said once, not 'missing' (exit $rc)" \
	bash -c "[ $rc = 1 ] && grep -q 'root-anchor\.der: cannot stat: Input/output error' '$T/out2' && ! grep -q 'missing' '$T/out2'"
want_cmd read-backup-verify && rsweep "backup verify" backup_in "$ON" backup verify "$BK" --state "$O"
BASE=base
CONTENT=""
ALLOW_DIFF='^batches [0-9]+$|^\./results\.csv$'
want_cmd read-issue && rsweep issue nothing "$ON" issue --state "$O" "${AT[@]}" --batch "$B/three.csv" --out "$IO"
ALLOW_DIFF=""
MODE=write
finish

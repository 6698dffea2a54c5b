#!/usr/bin/env bash
# t_docs.sh - the documents name what the code has (docs_check.py): the
# man pages' SYNOPSIS against each command's own usage (--help), and
# docs/cps-mapping.md's tests (unit suite::test, integration scripts and
# their assertion texts) and files; each command the SYNOPSIS names takes
# --help (a refusal that says "see --help" must not refuse --help); every
# option of a SYNOPSIS is documented (hanko-online: an OPTIONS entry;
# hanko-offline: its command's COMMANDS entry or the common options, and
# every command has an entry). Operators and auditors follow both
# literally: a command missing from a SYNOPSIS, or a test the mapping names
# that no longer says so, sends them looking for what is not there.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
DC=$HANKO_SRC/test/integration/docs_check.py

# The checker must see a mismatch where there is one: a copy of the docs
# and tests with a SYNOPSIS line, a unit test name, an assertion text and a
# file name changed.
mkdir -p "$T/src/docs" "$T/src/test"
cp -r "$HANKO_SRC/docs/." "$T/src/docs/"
cp -r "$HANKO_SRC/test/unit" "$HANKO_SRC/test/integration" "$T/src/test/"
ln -s "$HANKO_SRC/test/data" "$HANKO_SRC/test/fuzz" "$HANKO_SRC/test/CMakeLists.txt" "$T/src/test/"
for f in "$HANKO_SRC"/*; do
	case ${f##*/} in docs|test) ;; *) ln -s "$f" "$T/src/" ;; esac
done
sed -i 's/^\.B hanko-online audit close$/.B hanko-online audit closed/' "$T/src/docs/hanko-online.1"
sed -i 's/\\-\\-previous$/\\-\\-prev/' "$T/src/docs/hanko-offline.1"
# an OPTIONS entry gone (hanko-online), a COMMANDS entry's option and a
# whole entry gone (hanko-offline)
sed -i 's/^\.BI \\-\\-sha256 " HEX"$/.BI \\-\\-sha " HEX"/' "$T/src/docs/hanko-online.1"
sed -i 's/^\.BI \\-\\-input " NAME" = PATH$/.BI \\-\\-in " NAME" = PATH/; s/^\.B roster show$/.B roster shown/' \
	"$T/src/docs/hanko-offline.1"
sed -i 's/`audit::sample_verifies_and_reports`/`audit::sample_verifies_and_report`/; s/"the audit log verifies after all of it"/"the audit log verifies after most of it"/; s#`offline/cmd_audit.c`#`offline/cmd_audits.c`#' \
	"$T/src/docs/cps-mapping.md"
HANKO_SRC=$T/src python3 "$DC" >"$T/mut.out" 2>&1 || true
check "a changed copy: the checker fails it" grep -q '^[1-9][0-9]* failed$' "$T/mut.out"
check "... the SYNOPSIS without audit close, named" \
	grep -q '^FAIL: docs/hanko-online.1: audit close: hanko-online --help has it, the SYNOPSIS not$' "$T/mut.out"
check "... audit verify --previous missing from the SYNOPSIS, named" \
	grep -q '^FAIL: docs/hanko-offline.1 SYNOPSIS: hanko-offline audit verify: options as its usage; lacks --previous' "$T/mut.out"
check "... a unit test that does not exist, named" \
	grep -q '^FAIL: cps-mapping.md:[0-9]*: unit.audit has audit::sample_verifies_and_report$' "$T/mut.out"
check "... an assertion text the script does not have, named" \
	grep -q '^FAIL: cps-mapping.md:[0-9]*: t_quorum asserts "the audit log verifies after most of it"$' "$T/mut.out"
check "... a file that does not exist, named" \
	grep -q '^FAIL: cps-mapping.md:[0-9]*: offline/cmd_audits.c exists$' "$T/mut.out"
check "... an option without an OPTIONS entry, named" \
	grep -q '^FAIL: docs/hanko-online.1 OPTIONS: hanko-online profile accept: .*; none for --sha256$' "$T/mut.out"
check "... an option its COMMANDS entry does not name, named" \
	grep -q '^FAIL: docs/hanko-offline.1 COMMANDS: hanko-offline ceremony run: .*; not --input$' "$T/mut.out"
check "... a command without a COMMANDS entry, named" \
	grep -q '^FAIL: docs/hanko-offline.1 COMMANDS: hanko-offline roster show: no entry$' "$T/mut.out"

python3 "$DC" >"$T/out" 2>&1 && rc=0 || rc=$?
check "the documents as they are: every check holds (exit $rc)" test "$rc" = 0
check "... and it checked them: the SYNOPSIS of both programs, the mapping's tests" sh -c \
	"grep -q '^ok: docs/hanko-online.1 SYNOPSIS: hanko-online issue: ' '$T/out' &&
	 grep -q '^ok: docs/hanko-offline.1 SYNOPSIS: hanko-offline audit close: ' '$T/out' &&
	 grep -q '^ok: cps-mapping.md:[0-9]*: t_quorum asserts ' '$T/out' &&
	 grep -q '^ok: cps-mapping.md:[0-9]*: unit.audit has audit::' '$T/out'"
check "... and every option of each SYNOPSIS documented: clock, trust, init, ceremony run, roster show" sh -c \
	"grep -q '^ok: docs/hanko-online.1 OPTIONS: hanko-online clock: ' '$T/out' &&
	 grep -q '^ok: docs/hanko-online.1 OPTIONS: hanko-online trust: ' '$T/out' &&
	 grep -q '^ok: docs/hanko-offline.1 COMMANDS: hanko-offline init: ' '$T/out' &&
	 grep -q '^ok: docs/hanko-offline.1 COMMANDS: hanko-offline ceremony run: ' '$T/out' &&
	 grep -q '^ok: docs/hanko-offline.1 COMMANDS: hanko-offline roster show: ' '$T/out'"
check "... each command of the SYNOPSIS takes --help: audit verify, share inspect, ceremony check" sh -c \
	"grep -q '^ok: hanko-offline audit verify --help: ' '$T/out' &&
	 grep -q '^ok: hanko-offline share inspect --help: ' '$T/out' &&
	 grep -q '^ok: hanko-offline ceremony check --help: ' '$T/out' &&
	 grep -q '^ok: hanko-online backup verify --help: ' '$T/out'"
# --help after another option gives the usage too, as every other command
# (status alone took it only as its one argument, else "unknown option")
rc=0; "$OFF" status --state "$T/none" --help >"$T/st.out" 2>&1 || rc=$?
check "hanko-offline status --state DIR --help: the usage (exit $rc)" sh -c \
	"[ $rc = 0 ] && grep -qx 'usage: hanko-offline status --state DIR' '$T/st.out'"
grep '^FAIL' "$T/out" || true
finish

# lib.sh - shared set-up for the integration tests (sourced, not run).
# ctest sets HANKO_OFFLINE, HANKO_ONLINE, HANKO_SRC and HANKO_TMP.
set -euo pipefail

: "${HANKO_OFFLINE:?run through ctest}"
: "${HANKO_SRC:?run through ctest}"
: "${HANKO_TMP:?run through ctest}"
OFF=$HANKO_OFFLINE
PROFILE=$HANKO_SRC/ceremony-scripts/profile-kumamoto.yaml
ROSTER=$HANKO_SRC/ceremony-scripts/roster-demo.yaml
KMS=(yamada sato suzuki takahashi tanaka)

# The demo key managers' passphrases (fictional, for rehearsals only).
export HK_PASS_yamada='Kumamoto castle 1607 spring!'
export HK_PASS_sato='Aso caldera sunrise #42 view'
export HK_PASS_suzuki='Amakusa pearls & dolphins 9'
export HK_PASS_takahashi='Hitoyoshi onsen river 88 boats'
export HK_PASS_tanaka='Kikuchi gorge maple leaves 2026'

# The operator the online program's records name (CPS 4-11-2, docs/audit-log.md
# "Actors"); t_online_init checks the default, login name @ host, with it unset.
export HANKO_OPERATOR=op1@ca-online

SOFT=/usr/lib/softhsm/libsofthsm2.so

TESTS_RUN=0
TESTS_FAILED=0

# ago N: the date N days before today (UTC, YYYY-MM-DD). A fixture made
# then is valid at the real clock, for what cannot be given a time: GnuTLS
# certtool 3.7 has no -attime; serve and OCSP at today's time.
ago() { date -u -d "$1 days ago" +%F; }

# since T: the seconds from T (UTC) to now. openssl ocsp checks a
# response's thisUpdate and nextUpdate at the real clock only (-attime is
# for the certificates): -validity_period "$(since T)" accepts those of a
# scenario after T, however long ago that was.
since() { echo $(( $(date +%s) - $(date -u -d "$1" +%s) )); }

fresh_tmp() {
	rm -rf "$HANKO_TMP"
	mkdir -p "$HANKO_TMP"
}

# ok NAME COMMAND...: COMMAND must succeed.
ok() {
	local name=$1; shift
	TESTS_RUN=$((TESTS_RUN + 1))
	if "$@" >"$HANKO_TMP/out" 2>"$HANKO_TMP/err"; then
		echo "ok - $name"
	else
		echo "FAIL - $name (exit $?)"; cat "$HANKO_TMP/err" >&2
		TESTS_FAILED=$((TESTS_FAILED + 1))
	fi
}

# fails NAME EXIT PATTERN COMMAND...: COMMAND must exit with EXIT and print
# exactly one line on stderr matching the extended regex PATTERN.
fails() {
	local name=$1 want=$2 pat=$3 rc=0; shift 3
	TESTS_RUN=$((TESTS_RUN + 1))
	"$@" >"$HANKO_TMP/out" 2>"$HANKO_TMP/err" || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL - $name: exit $rc, wanted $want"; cat "$HANKO_TMP/err" >&2
		TESTS_FAILED=$((TESTS_FAILED + 1))
	elif [ "$(wc -l <"$HANKO_TMP/err")" != 1 ]; then
		echo "FAIL - $name: stderr is not one line:"; cat "$HANKO_TMP/err" >&2
		TESTS_FAILED=$((TESTS_FAILED + 1))
	elif ! grep -Eq -- "$pat" "$HANKO_TMP/err"; then
		echo "FAIL - $name: stderr does not match /$pat/:"; cat "$HANKO_TMP/err" >&2
		TESTS_FAILED=$((TESTS_FAILED + 1))
	else
		echo "ok - $name (exit $rc: $(cat "$HANKO_TMP/err"))"
	fi
}

# check NAME CONDITION-COMMAND...: a plain assertion.
check() {
	local name=$1; shift
	TESTS_RUN=$((TESTS_RUN + 1))
	if "$@"; then echo "ok - $name"; else
		echo "FAIL - $name"; TESTS_FAILED=$((TESTS_FAILED + 1)); fi
}

finish() {
	echo "$((TESTS_RUN - TESTS_FAILED)) passed, $TESTS_FAILED failed"
	[ "$TESTS_FAILED" = 0 ]
}

# mem_at_exit OUT REGEX COMMAND...: run COMMAND under gdb, stopped at its
# exit_group, and write to OUT each distinct match of the Python bytes
# REGEX in its writable memory (not ASan's shadow), one a line; COMMAND's
# stdout and stderr (and gdb's) go to OUT.out, its stdin is ours. REGEX is
# in gdb's script, never in COMMAND's memory. A secret that was wiped is
# not in OUT. have_gdb: gdb with Python is here.
have_gdb() { gdb -q -batch -ex 'python print(1)' >/dev/null 2>&1; }
mem_at_exit() {
	local out=$1 re=$2; shift 2
	cat >"$out.py" <<EOF
import gdb, re
gdb.execute('set pagination off')
gdb.execute('set confirm off')
gdb.execute('catch syscall exit_group')
gdb.execute('run')
inf = gdb.selected_inferior()
found = set()
for line in open('/proc/%d/maps' % inf.pid):
    f = line.split()
    a, b = [int(x, 16) for x in f[0].split('-')]
    if f[1][:2] != 'rw' or b - a > 1 << 30:
        continue
    try:
        found.update(re.findall(rb'$re', bytes(inf.read_memory(a, b - a))))
    except gdb.MemoryError:
        pass
with open("$out", 'wb') as o:
    for m in sorted(found):
        o.write(m + b'\\n')
gdb.execute('kill')
EOF
	# LeakSanitizer cannot run under ptrace: it would end the run early
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		gdb -q -batch -x "$out.py" --args "$@" >"$out.out" 2>&1
}

# make_ca DIR [CLOCK]: a rehearsal CA with the demo roster at DIR/state,
# shares in DIR/media/<id>/share-<i>-<id>.hks (fast KDF for tests), made at
# CLOCK (default 2026-04-01T00:00:00Z).
make_ca() {
	local dir=$1 clock=${2:-2026-04-01T00:00:00Z} args=()
	mkdir -p "$dir"
	for km in "${KMS[@]}"; do args+=(--passin "$km=env:HK_PASS_$km"); done
	"$OFF" init --state "$dir/state" --profile "$PROFILE" --roster "$ROSTER" \
		--media "$dir/media" --rehearsal --kdf interactive \
		--clock "$clock" "${args[@]}" >/dev/null
}

# operators: the passphrases of the demo roster's operators watanabe and
# ito and of its CA manager kimura (fictional) in the environment, and OPS,
# the --operator arguments of the three.
operators() {
	export HK_PASS_watanabe='Shimabara bay ferry 7 gulls'
	export HK_PASS_ito='Yatsushiro rush mats 54 weave'
	export HK_PASS_kimura='Minamata hills tea 3 harvest'
	OPS=(--operator watanabe=env:HK_PASS_watanabe --operator ito=env:HK_PASS_ito
		--operator kimura=env:HK_PASS_kimura)
}

# set_passphrases STATE PERSON...: each PERSON's passphrase, HK_PASS_<id>,
# set on STATE (fast KDF).
set_passphrases() {
	local s=$1 p; shift
	for p in "$@"; do
		"$OFF" roster set-passphrase --state "$s" --person "$p" \
			--passin "env:HK_PASS_$p" --kdf interactive >/dev/null || return
	done
}

# approve_roster STATE PERSON...: set_passphrases, then the roster approved
# by the CA manager, kimura (who must be among the PERSONs or have his set).
approve_roster() {
	set_passphrases "$@" || return
	"$OFF" roster approve --state "$1" --manager kimura --passin env:HK_PASS_kimura >/dev/null
}

# drive ANSWERS CMD...: CMD run on a pseudo-terminal, its prompts answered
# from the JSON list ANSWERS (drive.py says how).
drive() { python3 "$HANKO_SRC/test/integration/drive.py" "$@"; }

# rotation_roster SRC OUT: the new roster of the share rotation tests in
# OUT: SRC's with yamada and suzuki kept, sato, takahashi and tanaka gone,
# nakamura and kobayashi added as key managers, threshold 2 (of 4). Exports
# the new holders' passphrases (HK_PASS_nakamura, HK_PASS_kobayashi) and
# those yamada and suzuki choose for their new shares (HK_NEW_yamada,
# HK_NEW_suzuki).
rotation_roster() {
	python3 - "$1" "$2" <<'PY'
import sys
src = open(sys.argv[1], encoding='utf-8').read()
out, skip = [], False
for line in src.splitlines():
    if line.startswith('  - id: '):
        skip = line.split()[-1] in ('sato', 'takahashi', 'tanaka')
    if not skip:
        out.append(line)
text = '\n'.join(out) + '\n'
text = text.replace('people:\n', 'people:\n  - id: nakamura\n    name: 中村 大輔\n'
    '    role: key-manager\n  - id: kobayashi\n    name: 小林 さくら\n'
    '    role: key-manager\n', 1).replace('threshold: 3', 'threshold: 2')
open(sys.argv[2], 'w', encoding='utf-8').write(text)
PY
	export HK_PASS_nakamura='Shimabara ferry at dawn 1792'
	export HK_PASS_kobayashi='Yatsushiro tatami rush 5 fields'
	export HK_NEW_yamada='Kumamoto ramen garlic chips 77'
	export HK_NEW_suzuki='Minamata bay clear water 2013'
}

# kept OUT: the rehearsal copy that --keep-rehearsal named in OUT.
kept() { sed -n 's/^Rehearsal state kept: //p' "$1"; }

# share_args DIR I...: --share/--passin pairs for key managers number I (1-5).
share_args() {
	local dir=$1; shift
	for i in "$@"; do
		local km=${KMS[$((i - 1))]}
		printf -- '--share\n%s\n--passin\nenv:HK_PASS_%s\n' \
			"$dir/media/$km/share-$i-$km.hks" "$km"
	done
}

# free_port: a loopback TCP port free now (another process may take it
# before it is used: slapd_start tries again then).
# flip_byte FILE OFFSET: invert the byte at OFFSET in place, so that the
# file always changes (writing a fixed byte leaves a file whose byte there
# is that one by chance, 1 in 256 for random content, unchanged).
flip_byte() {
	local c
	c=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	[ -n "$c" ] || { echo "flip_byte: $1: no byte at $2" >&2; return 1; }
	printf "$(printf '\\%03o' $((c ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# slapd_start CONF LOG [LEVEL]: a throwaway slapd (debug LEVEL, default 0,
# its output in LOG) on a free loopback port, once it answers: sets SLAPD
# (its pid), PORT and URI. slapd cannot be given port 0, so a port taken
# between free_port and its bind (a test running beside this one) makes it
# exit: then another port. Returns 1 if none worked.
slapd_start() {
	local conf=$1 log=$2 level=${3:-0} try
	for try in 1 2 3 4 5; do
		PORT=$(free_port)
		URI=ldap://127.0.0.1:$PORT
		slapd -f "$conf" -h "$URI/" -d "$level" >"$log" 2>&1 &
		SLAPD=$!
		for _ in $(seq 300); do
			ldapsearch -x -H "$URI" -s base -b "" >/dev/null 2>&1 && return 0
			kill -0 "$SLAPD" 2>/dev/null || break
			sleep 0.2
		done
		echo "# slapd on $URI did not answer (try $try): $(tail -1 "$log")" >&2
		kill "$SLAPD" 2>/dev/null || true
		wait "$SLAPD" 2>/dev/null || true
		SLAPD=
	done
	return 1
}

# ldap_tt DIR LDAPSEARCH-ARGS...: ldapsearch -tt, each value in a file of
# DIR, the LDIF on stdout naming each file by its path ("attr:< file://PATH").
# ldapsearch builds a file's name (and its URL) in 256 bytes: under a deep
# folder the name is cut short and mkstemp refuses it. So it runs in DIR and
# writes names relative to it ("file:///./NAME"), made whole here. (Its -F,
# the URL prefix, aborts in free() on Debian 12.)
ldap_tt() {
	local dir=$1; shift
	(cd "$dir" && ldapsearch "$@" -tt -T .) | awk -v d="$dir/" \
		'{ i = index($0, ":< file:///./"); if (i) $0 = substr($0, 1, i + 2) "file://" d substr($0, i + 13); print }'
}

# tree_digest DIR: one digest of every file's name, mode and contents.
# state_copy SRC DST: a copy of a state folder with a token of its own: its
# token/softhsm2.conf names the copy's token folder (a copy that named the
# original's is refused, exit 5: docs/backup.md "Restore").
state_copy() {
	cp -a "$1" "$2"
	sed -i "s|^directories.tokendir = .*|directories.tokendir = $2/token/tokens/|" "$2/token/softhsm2.conf"
}

tree_digest() {
	(cd "$1" && find . -type f -printf '%p %m\n' | sort && \
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum
}

# certs_from OUT: each certificate of OUT/results.csv (hanko-online issue:
# "<line>,ok,<serial>,<base64 DER>") as OUT/certs/<serial>.der, to read
# with openssl; refuses a line whose certificate is not base64 DER.
certs_from() {
	python3 - "$1" <<'PY'
import base64, binascii, os, sys
out = sys.argv[1]
os.makedirs(os.path.join(out, "certs"), exist_ok=True)
with open(os.path.join(out, "results.csv")) as f:
    for row in f.read().splitlines()[1:]:
        p = row.split(",", 3)
        if p[1] != "ok":
            continue
        der = base64.b64decode(p[3], validate=True)
        if der[:1] != b"\x30":
            sys.exit(f"results.csv: line {p[0]}: not a DER certificate")
        with open(os.path.join(out, "certs", p[2] + ".der"), "wb") as c:
            c.write(der)
PY
}

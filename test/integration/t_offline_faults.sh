#!/usr/bin/env bash
# t_offline_faults.sh - an I/O-fault sweep of hanko-offline's ceremonies
# (init-root, issue-subca, arl-batch, backup to --out, bundle create, audit
# backup): each runs on a copy of one small rehearsal CA with the Nth
# writing call under the state (but its token, SoftHSM's files) or the
# output folder failing with ENOSPC or EIO, in turn
# (test/data/online/failnth.c; test/integration/faults.sh says how to
# sweep by hand); N sampled evenly over the calls a clean run makes
# ($HK_FAULTS_SAMPLES each, default 5; HK_FAULTS_ALL=1: every one;
# HK_FAULTS_ONLY=init-root,...: those sweeps only). Then the reading
# sweeps (audit verify, activate, bundle verify, arl-batch, issue-subca:
# read-audit-verify, ... in HK_FAULTS_ONLY; $HK_FAULTS_READ_SAMPLES, 2). After each failed run: a documented non-zero exit (hanko-offline.1
# EXIT STATUS) with one line on stderr naming a path written, never a
# crash, never exit 0 with the work missing; the state is as before the run
# or as after a clean one (its files, state.conf, issued.txt's entries, the
# token's keys, the outputs on the medium), never in between; no temporary
# file; every transcript written is whole (its result line) and signed when
# the token was active; audit verify passes; and the same run again without
# the fault succeeds and leaves what a clean run leaves (docs/ceremonies.md
# "Interrupted", "Killed runs").
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
fresh_tmp
T=$(realpath "$HANKO_TMP")
. "$(dirname "$0")/faults.sh"
SAMPLES=${HK_FAULTS_SAMPLES:-5}
SCR=$HANKO_SRC/ceremony-scripts
MED=$T/med	# the output medium (--out)

export HK_PASS_hayashi='Kurokawa onsen lanterns 12 nights'
make_ca "$T/ca" 2026-04-01T00:00:00Z
S=$T/ca/state
R=$S/certs/root-1.pem
approve_roster "$S" watanabe ito kimura hayashi
mapfile -t SH < <(share_args "$T/ca" 2 4 5)
export HK_FAILNTH_SKIP=$S/token
PREFIXES="$S:$MED"
TOK=$(sed -n 's/^token.label = //p' "$S/state.conf")

snap() { rm -rf "$T/snap.$1"; cp -a "$S" "$T/snap.$1"; }
restore() { rm -rf "$S" "$MED"; cp -a "$T/snap.$BASE" "$S"; mkdir -p "$MED"; }

# keys: the token's key objects (class and label).
keys() {
	SOFTHSM2_CONF=$S/token/softhsm2.conf pkcs11-tool --module $SOFT --token-label "$TOK" \
		--list-objects 2>/dev/null | sed -n 's/^\(Private Key\|Public Key\|Secret Key\) Object.*/\1/p; s/^ *label: *//p' | paste -d' ' - - | sort | paste -sd' '
}
TXRE='-[0-9]{8}T[0-9]{6}Z(-rehearsal)?(-[0-9]+)?\.(txt|txt\.sig|html)$'
# fingerprint: what a run leaves, without what differs from run to run
# (transcripts, checked apart; times; serials): the state's files,
# state.conf, issued.txt's entries but their serials, the token's keys and
# the files on the medium.
# What the docs allow to stay after a failure: a backup's KEK seed, made
# once and sealed under the quorum key (docs/key-lifecycle.md; the next
# backup uses it), and the bundle sequence number taken before the bundle
# is written (media-format/SPEC.md 8: gaps are allowed); the folders of
# the transcripts and ARLs; an issued.txt of no entry where there was none
# (its entries are compared below).
fingerprint() {
	(cd "$S" && find . -path ./token -prune -o -print | grep -v -E -e "$TXRE" -e '^\./secrets/backup-seed-' \
		-e '^\./(ceremonies|certs/arl|issued\.txt)$' -e '\.lock$' | sort)
	grep -v -E '^(backup\.[a-z0-9-]+\.kek-id|bundle\.sequence) = ' "$S/state.conf"
	grep -v '^#' "$S/issued.txt" 2>/dev/null | cut -f2-4,6- || true
	echo "keys: $(keys)"
	(cd "$MED" && find . | grep -v -E -e "$TXRE" | sort)
}
tmp_left() {
	find "$S" "$MED" -path "$S/token" -prune -o \( -name '*.tmp-*' -o -name '*.tmp' -o -name '*XXXXXX' \
		-o -name '*.new' -o -name '*.part' -o -name '.*.tmp*' \) -print 2>/dev/null
}
# tx_bad: a transcript that is not whole (no result line, no .html) or
# whose signature does not verify with the audit key.
tx_bad() {
	local t
	for t in $(find "$S/ceremonies" "$MED" -name '*.txt' 2>/dev/null); do
		grep -q '^result: ' "$t" && [ -s "${t%.txt}.html" ] || { echo "$t: not whole"; continue; }
		[ ! -e "$t.sig" ] || openssl dgst -sha256 -verify "$S/audit/audit-key.pem" -signature "$t.sig" "$t" \
			>/dev/null 2>&1 || echo "$t: signature"
		grep -q -E '^step: [^ ]+ quorum-activate ok' "$t" && [ ! -e "$t.sig" ] && echo "$t: unsigned after activation"
	done
	for t in $(find "$S/ceremonies" "$MED" -name '*.txt.sig' -o -name '*.html' 2>/dev/null); do
		[ -e "${t%.sig}" ] && [ -e "${t%.html}.txt" -o "${t%.html}" = "$t" ] || echo "$t: alone"
	done
}
# content: the bytes of the state's files (but the transcripts, the audit
# log, the token and the secrets) and of the medium's, which every clean
# run leaves the same (the clock given; RSA signatures): what a reading
# sweep's run that exits 0 must leave (CONTENT=1).
CONTENT=""
content() {
	(cd "$S" && find . \( -path ./token -o -path ./audit -o -path ./ceremonies -o -path ./secrets \) -prune -o \
		-type f -print | grep -v -E -e "$TXRE" -e '\.lock$' | sort | xargs -r sha256sum) || true
	(cd "$MED" && find . -type f | grep -v -E -e "$TXRE" | sort | xargs -r sha256sum) || true
}
fpdiff() { diff "$T/fp.${2:-clean}" "$1" | grep '^[<>]' | head -6 | tr '\n' ' ' || true; }
firstline() { grep -m1 -v '^$' "$1" | cut -c1-300 || true; }
names_written() {
	local p IFS=:
	for p in $PREFIXES; do [[ "$1" != *"$p"* ]] || return 0; done
	return 1
}

# sweep NAME CMD...: NAME's calls counted on a clean run from snap $BASE,
# then N = 1, 2, ... (SAMPLES of them, evenly) failed in turn, each checked
# and run again.
sweep() {
	local name=$1 total n step want bad main done what err k
	shift
	restore
	clean_run "$name" "$@"
	cmp -s "$T/fp.base" "$T/fp.clean" && echo "# $name: a clean run changes nothing the fingerprint sees"
	cp "$T/trace" "$T/trace.$name"
	k=0
	for n in $(positions); do
		restore
		sample_faulted "$((k++))" "$n" "$@" || { echo "# $name: call $n not reached"; continue; }
		cp "$T/ferr" "$T/err.${name// /-}.$n"; cp "$T/fout" "$T/out.${name// /-}.$n"
		bad="" main=""
		! wrong_reason "$err" || bad="$bad says-no-space-of-EIO"
		fingerprint >"$T/fp.f"
		if cmp -s "$T/fp.clean" "$T/fp.f"; then done=done
		elif cmp -s "$T/fp.base" "$T/fp.f"; then done=undone
		else done=partial; fi
		case $rc in
		0) [ "$done" = done ] || bad="$bad exit-0-$done($(fpdiff "$T/fp.f"))"
		   [ -z "$err" ] || main=$err ;;
		1|3|4|5|6|7|8)
		   main=$err
		   [ "$(printf '%s\n' "$main" | grep -c .)" = 1 ] || bad="$bad stderr-lines"
		   names_written "$main" || bad="$bad names-nothing-written" ;;
		*) bad="$bad exit-$rc" ;;
		esac
		# a read that failed: never taken as a short or empty file
		# (exit 0 only with what a clean run prints and leaves), else
		# said as the medium's failure
		if [ "$MODE" = read ]; then
			if [ "$rc" = 0 ]; then
				cmp -s <(grep -v -E "$TXRE" "$T/fout") <(grep -v -E "$TXRE" "$T/fout.clean") ||
					bad="$bad exit-0-prints-otherwise($(diff "$T/fout.clean" "$T/fout" | grep '^[<>]' | head -2 | tr '\n' ' ' || true))"
				[ -z "$CONTENT" ] || { content >"$T/cf.f"; cmp -s "$T/cf.clean" "$T/cf.f" ||
					bad="$bad exit-0-content($(diff "$T/cf.clean" "$T/cf.f" | grep '^[<>]' | head -2 | tr '\n' ' ' || true))"; }
			else
				reason_said "$main" || bad="$bad reason-not-said"
			fi
		fi
		[ "$done" != partial ] || bad="$bad partial(clean: $(fpdiff "$T/fp.f") base: $(fpdiff "$T/fp.f" base))"
		[ -z "$(tmp_left)" ] || bad="$bad tmp-left($(tmp_left | head -3 | tr '\n' ' ' || true))"
		[ -z "$(tx_bad)" ] || bad="$bad transcript($(tx_bad | head -2 | tr '\n' ' '))"
		if [ "$done" != done ]; then
			cp -a "$S" "$T/kept.$name.$n"
			rm -rf "$T/faulted"; cp -a "$S" "$T/faulted"
			rc2=0
			"$@" >"$T/aout" 2>"$T/aerr" || rc2=$?
			[ "$rc2" = "$want" ] || bad="$bad again-exit-$rc2($(firstline "$T/aerr"))"
			fingerprint >"$T/fp.a"
			cmp -s "$T/fp.clean" "$T/fp.a" || bad="$bad again-differs($(fpdiff "$T/fp.a"))"
			[ -z "$(tmp_left)" ] || bad="$bad again-tmp-left($(tmp_left | head -3 | tr '\n' ' ' || true))"
			"$OFF" audit verify --state "$S" >"$T/av" 2>&1 || bad="$bad again-audit-verify($(firstline "$T/av"))"
			rm -rf "$S"; mv "$T/faulted" "$S"
		fi
		"$OFF" audit verify --state "$S" >"$T/av" 2>&1 || bad="$bad audit-verify($(firstline "$T/av"))"
		check "$name: call $n of $total ($what): exit $rc, $done, '$(printf '%s' "$main" | head -1 | cut -c1-200)'${bad:+ -- DEFECT:$bad}" test -z "$bad"
	done
}

ONLY=${HK_FAULTS_ONLY:-}
want_cmd() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
CER() { "$OFF" ceremony run "$SCR/$1.yaml" --state "$S" "${@:2}"; }

snap pre
mkdir -p "$MED"
ok "init-root" CER init-root --clock 2026-04-01T10:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
snap rooted
csr 2048 "/C=JP/O=JPKI/OU=Kumamoto-ken/OU=Issuing CA 1/OU=TEST" "$T/iss1.csr"
printf 'CSR of the issuing key\n' >"$T/in.csr"

# Focused: a transcript whose .txt.sig or .html cannot be written is not
# left as an unsigned or partial .txt (which reads as a run that failed
# before the token was activated): exit 8 naming the part, no part left.
BASE=pre
restore
rm -f "$T/trace"
env HK_FAILNTH_PREFIX="$S/ceremonies" HK_FAILNTH_TRACE="$T/trace" LD_PRELOAD="$T/failnth.so" \
	ASAN_OPTIONS="$ASAN_PRELOAD" "$OFF" ceremony run "$SCR/init-root.yaml" --state "$S" \
	--clock 2026-04-01T10:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}" >/dev/null
NSIG=$(grep -m1 ' rename[a-z0-9]* .*\.txt\.sig$' "$T/trace" | cut -d' ' -f1)
NHTML=$(grep -m1 ' open[a-z0-9]* .*\.html\.tmp-[0-9a-f]*$' "$T/trace" | cut -d' ' -f1)
check "init-root: its transcript's .txt.sig rename and .html create are among its calls ($NSIG, $NHTML)" \
	test -n "$NSIG" -a -n "$NHTML"
for n in "$NSIG" "$NHTML"; do
	restore
	rm -f "$T/said"
	fails "init-root: transcript call $n under ceremonies/ fails: exit 8 naming it" 8 \
		"^hanko-offline ceremony: $S/ceremonies/init-root-20260401T100000Z\.(txt\.sig|html\.tmp-[0-9a-f]+): " \
		env HK_FAILNTH_PREFIX="$S/ceremonies" HK_FAILNTH_N="$n" HK_FAILNTH_SAY="$T/said" LD_PRELOAD="$T/failnth.so" \
		ASAN_OPTIONS="$ASAN_PRELOAD" "$OFF" ceremony run "$SCR/init-root.yaml" --state "$S" \
		--clock 2026-04-01T10:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
	check "... no part of the transcript is left ($(ls "$S/ceremonies" | tr '\n' ' '))" test -z "$(ls -A "$S/ceremonies")"
	check "... root-1 is made all the same (committed before the transcript)" grep -qx 'root.generations = 1' "$S/state.conf"
	ok "... the audit log verifies" "$OFF" audit verify --state "$S"
done

# Focused: the backup ceremony whose checkpoint after a backup file is
# written and recorded fails (hk_backup keeps the file, as the backup
# command does) leaves no backup on the medium: the step fails and the
# ceremony is undone (it left root-1.hkb or audit-1.hkb there, and the run
# again was refused: "already exists").
BACKUP=("$OFF" ceremony run "$SCR/backup.yaml" --state "$S" --clock 2026-04-03T09:00:00Z --out "$MED" "${SH[@]}"
	--operator kimura=env:HK_PASS_kimura --operator hayashi=env:HK_PASS_hayashi)
BASE=rooted
restore
rm -f "$T/trace"
env HK_FAILNTH_PREFIX="$PREFIXES" HK_FAILNTH_TRACE="$T/trace" LD_PRELOAD="$T/failnth.so" \
	ASAN_OPTIONS="$ASAN_PRELOAD" "${BACKUP[@]}" >/dev/null
for k in root-1 audit-1; do
	# the checkpoint's append: the second to the log after the file's rename
	n=$(awk -v f="$MED/$k.hkb" -v l="$S/audit/audit.log" '$3 == f && $2 ~ /^rename/ { on = 1 }
		on && $2 == "open" && $3 == l && ++seen == 2 { print $1; exit }' "$T/trace")
	check "backup: the checkpoint after $k.hkb is among its calls ($n)" test -n "$n"
	restore
	fails "backup: the checkpoint after $k.hkb fails: exit 8 naming the log" 8 "^hanko-offline ceremony: $S/audit/audit\.log: " \
		env HK_FAILNTH_PREFIX="$PREFIXES" HK_FAILNTH_N="${n:-0}" HK_FAILNTH_SAY="$T/said" LD_PRELOAD="$T/failnth.so" \
		ASAN_OPTIONS="$ASAN_PRELOAD" "${BACKUP[@]}"
	check "... no backup is left on the medium ($(ls "$MED" | grep hkb | tr '\n' ' '))" test -z "$(ls "$MED" | grep '\.hkb$')"
	check "... the removal is audited" grep -q "	key.backup.remove	ok	.*$MED/$k.hkb removed" "$S/audit/audit.log"
	ok "... the audit log verifies" "$OFF" audit verify --state "$S"
	ok "... the run again makes both backups" "${BACKUP[@]}"
done

# conf_dir_fault NAME LINE CMD...: CMD on snap $BASE with the fsync of the
# state folder after state.conf's last rename failing; exit 8 and LINE.
conf_dir_fault() {
	local name=$1 line=$2 nc nd
	shift 2
	restore
	rm -f "$T/trace"
	env HK_FAILNTH_PREFIX="$S" HK_FAILNTH_TRACE="$T/trace" LD_PRELOAD="$T/failnth.so" \
		ASAN_OPTIONS="$ASAN_PRELOAD" "$@" >/dev/null
	nc=$(grep " rename $S/state.conf\$" "$T/trace" | tail -1 | cut -d' ' -f1)
	nd=$(awk -v p="${nc:-0}" -v d="$S" '$1 > p && $2 == "fsync" && $3 == d { print $1; exit }' "$T/trace")
	check "$name: the fsync of the state folder after state.conf's rename ($nc, $nd)" test -n "$nc" -a -n "$nd"
	restore
	fails "$name: state.conf in place, its folder's fsync fails: exit 8, kept" 8 "$line" \
		env HK_FAILNTH_PREFIX="$S" HK_FAILNTH_SKIP="$S/token" HK_FAILNTH_N="${nd:-0}" HK_FAILNTH_SAY="$T/said" \
		LD_PRELOAD="$T/failnth.so" ASAN_OPTIONS="$ASAN_PRELOAD" "$@"
}

# Focused: init-root whose state.conf is in place but whose folder's fsync
# then fails keeps root-1 (state.conf names it): the key is not destroyed
# nor the certificate removed (they were, state.conf naming them).
BASE=pre
INITROOT=("$OFF" ceremony run "$SCR/init-root.yaml" --state "$S" --clock 2026-04-01T10:00:00Z --confirm-digests
	"${SH[@]}" "${OPS[@]}")
conf_dir_fault init-root "^hanko-offline ceremony: root-1 is made and named by state.conf \(certs/root-1\.der, its key on the token\): kept; but $S/state\.conf: cannot fsync its folder\$" "${INITROOT[@]}"
check "... state.conf names root-1 and its certificate is there" bash -c "grep -qx 'root.generations = 1' '$S/state.conf' &&
	[ -s '$S/certs/root-1.der' ] && [ -s '$S/certs/root-1.pem' ]"
check "... the token keeps root-1 ($(keys))" bash -c "[[ '$(keys)' == *'Public Key root-1'* ]]"
check "... root-1's certificate is of the key on the token" bash -c "a=\$(openssl x509 -in '$S/certs/root-1.pem' -pubkey -noout) && [ -n \"\$a\" ] && [ \"\$a\" = \
	\"\$(SOFTHSM2_CONF=$S/token/softhsm2.conf pkcs11-tool --module $SOFT --token-label '$TOK' --read-object --type pubkey --label root-1 2>/dev/null | openssl pkey -pubin -inform DER 2>/dev/null)\" ]"
check "... root.create is recorded" grep -q '	root.create	ok	' "$S/audit/audit.log"
ok "... the audit log verifies" "$OFF" audit verify --state "$S"

# Focused: the transcripts' folder made, its parent's fsync failing: the
# line names the folder (a bare "input/output error" before).
NMK=$(awk -v d="$S/ceremonies" '$2 == "mkdir" && $3 == d { print $1; exit }' "$T/trace")
check "init-root: the folder of the transcripts is made among its calls ($NMK)" test -n "$NMK"
restore
fails "init-root: ceremonies/ made, its parent's fsync fails: exit 8 naming it" 8 \
	"^hanko-offline ceremony: $S/ceremonies: created, but its parent folder cannot be synced: $REASON\$" \
	env HK_FAILNTH_PREFIX="$S" HK_FAILNTH_SKIP="$S/token" HK_FAILNTH_N="$((${NMK:-0} + 1))" HK_FAILNTH_SAY="$T/said" \
	LD_PRELOAD="$T/failnth.so" ASAN_OPTIONS="$ASAN_PRELOAD" "${INITROOT[@]}"
check "... the failed call was that fsync" grep -q "^failnth: call $((${NMK:-0} + 1)) fsync $S failed" "$T/said"

# Focused: issue-subca's and arl-batch's commit whose state.conf is in place
# but whose folder's fsync then fails keep what state.conf names (the
# undo removed certs/issuing-1.* and issued.txt's entry, or the ARLs,
# while state.conf named them).
BASE=rooted
ISSUE=("$OFF" ceremony run "$SCR/issue-subca.yaml" --state "$S" --clock "$CLOCK" --confirm-digests
	--input "issuing-csr=$T/iss1.csr" --input "issuing-csr-sha256=$T/iss1.csr.sha256" "${SH[@]}" "${OPS[@]}")
conf_dir_fault issue-subca "^hanko-offline ceremony: issuing 1 is made and named by state.conf and issued.txt \(certs/issuing-1\.der\): kept; but $S/state\.conf: cannot fsync its folder\$" "${ISSUE[@]}"
check "... state.conf names issuing 1, its files and issued.txt's entry are there" bash -c "grep -qx 'issuing.current = 1' '$S/state.conf' &&
	[ -s '$S/certs/issuing-1.der' ] && [ -s '$S/certs/issuing-1.pem' ] && grep -q '	certs/issuing-1.der	' '$S/issued.txt'"
check "... cert.issue is recorded" grep -q '	cert.issue	ok	' "$S/audit/audit.log"
ok "... the audit log verifies" "$OFF" audit verify --state "$S"
# Focused: issue-subca's issued.txt in place whose folder's fsync fails:
# the entry is taken back with the certificate (it stayed, naming a
# certificate removed, and the run again registered a second one).
restore
NREG=$(grep " rename $S/issued.txt\$" "$T/trace" | head -1 | cut -d' ' -f1)
NREGD=$(awk -v p="${NREG:-0}" -v d="$S" '$1 > p && $2 == "fsync" && $3 == d { print $1; exit }' "$T/trace")
check "issue-subca: the fsync of the state folder after issued.txt's rename ($NREG, $NREGD)" test -n "$NREG" -a -n "$NREGD"
fails "issue-subca: issued.txt in place, its folder's fsync fails: exit 8 naming it" 8 \
	"^hanko-offline ceremony: $S/issued\.txt: .*cannot fsync its folder\$" \
	env HK_FAILNTH_PREFIX="$S" HK_FAILNTH_SKIP="$S/token" HK_FAILNTH_N="${NREGD:-0}" HK_FAILNTH_SAY="$T/said" \
	LD_PRELOAD="$T/failnth.so" ASAN_OPTIONS="$ASAN_PRELOAD" "${ISSUE[@]}"
check "... issued.txt registers no issuing CA, no certs/issuing-1.*" bash -c "! grep -q '	issuing	' '$S/issued.txt' 2>/dev/null &&
	! ls '$S/certs' | grep -q issuing"
ok "... the run again issues issuing 1" "${ISSUE[@]}"
check "... issued.txt registers it once" test "$(grep -c '	certs/issuing-1.der	' "$S/issued.txt")" = 1
ok "... the audit log verifies" "$OFF" audit verify --state "$S"
ARLB=("$OFF" ceremony run "$SCR/arl-batch.yaml" --state "$S" --clock 2026-10-01T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}")
conf_dir_fault arl-batch "^hanko-offline ceremony: the ARLs of this batch are made and named by state.conf \(arl.last-number = 35\): kept; but $S/state\.conf: cannot fsync its folder\$" "${ARLB[@]}"
check "... state.conf names ARL 35 and the 35 ARLs are there" bash -c "grep -qx 'arl.last-number = 35' '$S/state.conf' &&
	[ \$(ls '$S/certs/arl' | grep -c '^arl-[0-9]*\.crl\$') = 35 ]"
check "... crl.issue is recorded" grep -q '	crl.issue	ok	' "$S/audit/audit.log"
ok "... the audit log verifies" "$OFF" audit verify --state "$S"
# the rollover's commit: the same (it destroyed root-2 and removed its
# certificate and links while state.conf named them)
ROLL=("$OFF" ceremony run "$SCR/rollover.yaml" --state "$S" --clock 2026-10-01T09:00:00Z --confirm-digests
	"${SH[@]}" "${OPS[@]}")
conf_dir_fault rollover "^hanko-offline ceremony: root generation 2 is made and named by state.conf \(root.generations = 2; certs/root-2\.der, .*\): kept; but $S/state\.conf: cannot fsync its folder\$" "${ROLL[@]}"
check "... state.conf names generation 2, its certificate and links are there" bash -c "grep -qx 'root.generations = 2' '$S/state.conf' &&
	[ -s '$S/certs/root-2.der' ] && [ -s '$S/certs/link-2-old-with-new.der' ] && [ -s '$S/certs/link-2-new-with-old.der' ]"
check "... the token keeps root-2 ($(keys))" bash -c "[[ '$(keys)' == *'Public Key root-2'* ]]"
check "... root.rollover is recorded" grep -q '	root.rollover	ok	' "$S/audit/audit.log"
ok "... the audit log verifies" "$OFF" audit verify --state "$S"

BASE=pre
want_cmd init-root && sweep init-root "$OFF" ceremony run "$SCR/init-root.yaml" --state "$S" --clock 2026-04-01T10:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
BASE=rooted
want_cmd issue-subca && sweep issue-subca "$OFF" ceremony run "$SCR/issue-subca.yaml" --state "$S" --clock "$CLOCK" --confirm-digests \
	--input "issuing-csr=$T/iss1.csr" --input "issuing-csr-sha256=$T/iss1.csr.sha256" "${SH[@]}" "${OPS[@]}"
want_cmd arl-batch && sweep arl-batch "$OFF" ceremony run "$SCR/arl-batch.yaml" --state "$S" --clock 2026-10-01T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
want_cmd backup && sweep backup "$OFF" ceremony run "$SCR/backup.yaml" --state "$S" --clock 2026-04-03T09:00:00Z --out "$MED" "${SH[@]}" \
	--operator kimura=env:HK_PASS_kimura --operator hayashi=env:HK_PASS_hayashi
want_cmd bundle && sweep "bundle create" "$OFF" bundle create --state "$S" --clock 2026-04-03T10:00:00Z \
	--type csr --out "$MED/b1" "${SH[@]}" "$T/in.csr"
want_cmd audit-backup && sweep "audit backup" "$OFF" audit backup --state "$S" --out "$MED" --clock 2026-04-03T11:00:00Z

# The reading sweeps: the Nth reading call (open for reading, read, pread,
# stat, fstat) under the state, the medium or the shares' media failing
# with EIO. Besides the checks above: a run that exits 0 prints and leaves
# what a clean run does (a read that failed is never taken as a short,
# empty or missing file: an audit log cut short read as whole, an
# issued.txt read as no revocation, a state.conf line read as its
# default); any other exit says the medium's failure (strerror's words),
# not a damaged or missing file.
SAMPLES=${HK_FAULTS_READ_SAMPLES:-2}
MODE=read
CONTENT=1
PREFIXES="$S:$MED:$T/ca/media"
BASE=rooted
restore
ok "a bundle on the medium, for bundle verify" "$OFF" bundle create --state "$S" --clock 2026-04-03T10:00:00Z \
	--type csr --out "$MED/b1" "${SH[@]}" "$T/in.csr"
rm -rf "$T/bundle1"; cp -a "$MED/b1" "$T/bundle1"
# Focused (reading): bundle verify whose fstat or read of the manifest
# fails: exit 8, the line naming the manifest and the system's error (it
# said a bare "input/output error", "read failed or file shrank", "file
# grew while read").
rm -f "$T/trace"
env HK_FAILNTH_MODE=read HK_FAILNTH_PREFIX="$T/bundle1" HK_FAILNTH_TRACE="$T/trace" LD_PRELOAD="$T/failnth.so" \
	ASAN_OPTIONS="$ASAN_PRELOAD" "$OFF" bundle verify --state "$S" "$T/bundle1" >/dev/null 2>&1
NMAN=$(awk -v f="$T/bundle1/manifest" '$3 == f && ($2 == "fstat" || $2 == "read") { print $1 }' "$T/trace" | tr '\n' ' ')
check "bundle verify: its fstat and reads of the manifest ($NMAN)" test -n "$NMAN"
for n in $NMAN; do
	fails "bundle verify: the manifest's call $n fails: exit 8 naming it" 8 \
		"^hanko-offline bundle: $T/bundle1/manifest: cannot (stat|read): Input/output error\$" \
		env HK_FAILNTH_MODE=read HK_FAILNTH_ERRNO=EIO HK_FAILNTH_PREFIX="$T/bundle1" HK_FAILNTH_N="$n" \
		HK_FAILNTH_SAY="$T/said" LD_PRELOAD="$T/failnth.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
		"$OFF" bundle verify --state "$S" "$T/bundle1"
done

# Focused (reading): arl-batch whose look-up of the transcripts' folder
# fails: exit 8 naming it, not "already exists; refusing to reuse it"
# (exit 7: the folder taken for missing and made again).
restore
rm -f "$T/trace"
env HK_FAILNTH_MODE=read HK_FAILNTH_PREFIX="$S" HK_FAILNTH_SKIP="$S/token" HK_FAILNTH_TRACE="$T/trace" \
	LD_PRELOAD="$T/failnth.so" ASAN_OPTIONS="$ASAN_PRELOAD" "${ARLB[@]}" >/dev/null 2>&1
NTX=$(awk -v d="$S/ceremonies" '$2 == "lstat" && $3 == d { n = $1 } END { print n }' "$T/trace")
check "arl-batch: the look-up of the transcripts' folder among its calls ($NTX)" test -n "$NTX"
restore
fails "arl-batch: the transcripts' folder cannot be looked up: exit 8 naming it" 8 \
	"^hanko-offline ceremony: $S/ceremonies: cannot look up: Input/output error\$" \
	env HK_FAILNTH_MODE=read HK_FAILNTH_ERRNO=EIO HK_FAILNTH_PREFIX="$S" HK_FAILNTH_SKIP="$S/token" HK_FAILNTH_N="${NTX:-0}" \
	HK_FAILNTH_SAY="$T/said" LD_PRELOAD="$T/failnth.so" ASAN_OPTIONS="$ASAN_PRELOAD" "${ARLB[@]}"
ok "... the audit log verifies" "$OFF" audit verify --state "$S"

want_cmd read-audit-verify && sweep "read: audit verify" "$OFF" audit verify --state "$S"
want_cmd read-activate && sweep "read: activate" "$OFF" activate --state "$S" "${SH[@]}"
PREFIXES="$S:$MED:$T/ca/media:$T/bundle1"
want_cmd read-bundle-verify && sweep "read: bundle verify" "$OFF" bundle verify --state "$S" "$T/bundle1"
PREFIXES="$S:$MED:$T/ca/media"
want_cmd read-arl-batch && sweep "read: arl-batch" "$OFF" ceremony run "$SCR/arl-batch.yaml" --state "$S" \
	--clock 2026-10-01T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
CONTENT=""	# (the certificate's serial is random)
want_cmd read-issue-subca && sweep "read: issue-subca" "$OFF" ceremony run "$SCR/issue-subca.yaml" --state "$S" \
	--clock "$CLOCK" --confirm-digests --input "issuing-csr=$T/iss1.csr" --input "issuing-csr-sha256=$T/iss1.csr.sha256" \
	"${SH[@]}" "${OPS[@]}"
MODE=write
finish

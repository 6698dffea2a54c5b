#!/usr/bin/env bash
# t_ceremony_killed.sh - a ceremony run that ends without its undo (SIGKILL:
# HANKO_KILL_AFTER_STEP, rehearsal states only, kills the process right after
# the step ran, before anything else) leaves its journal; "status" says so;
# the next run with quorum-activate removes what the killed run made and did
# not commit (ceremony.recover, key.destroy, cert.remove in the log), under
# dual control, and goes on; what a commit made is never touched, also when
# the kill came right after the commit (docs/ceremonies.md "Killed runs").
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
fresh_tmp
T=$HANKO_TMP
INIT=$HANKO_SRC/ceremony-scripts/init-root.yaml
SUBCA=$HANKO_SRC/ceremony-scripts/issue-subca.yaml
PFX="/C=JP/O=JPKI/OU=Kumamoto-ken"

# killed STEP SCRIPT CLOCK ARGS...: the ceremony killed right after STEP.
killed() {
	local step=$1 script=$2 clock=$3 rc=0; shift 3
	# (the shell's "Killed" line goes to killed.err)
	{ HANKO_KILL_AFTER_STEP=$step "$OFF" ceremony run "$script" --state "$S" \
		--clock "$clock" --confirm-digests "${SH[@]}" "${OPS[@]}" "$@" \
		>"$T/killed.out" 2>&1; } 2>"$T/killed.err" || rc=$?
	check "killed after $step: the process died of SIGKILL (status $rc)" test "$rc" = 137
}
root_keys() {
	SOFTHSM2_CONF=$S/token/softhsm2.conf pkcs11-tool --module $SOFT \
		--token-label hanko-root-test --list-objects --type pubkey 2>/dev/null |
		grep -c 'label: *root-1$'
}
export -f root_keys; export SOFT
ins() { echo --input "issuing-csr=$1" --input "issuing-csr-sha256=$1.sha256"; }
# the records of the last run (from its ceremony.start)
last_run() { tac "$S/audit/audit.log" | sed '/	ceremony.start	/q'; }

# 1. init-root killed between root-keygen and root-commit (after self-sign:
# the key and both certificate files made, nothing recorded in state.conf).
make_ca "$T/ca1"
export S=$T/ca1/state
approve_roster "$S" watanabe ito kimura
mapfile -t SH < <(share_args "$T/ca1" 2 4 5)
# A key no journal names (here: the journal taken away after a kill right
# after root-keygen) is refused, never destroyed or named.
killed keygen "$INIT" 2026-04-01T09:00:00Z
check "... the journal names root-1" grep -qx 'key root-1' "$S/ceremony.journal"
mv "$S/ceremony.journal" "$T/journal.aside"
fails "a root-1 no journal names: init-root refused" 7 \
	"a key with id root-1 is there already and no ceremony journal names it; refusing to make another" \
	"$OFF" ceremony run "$INIT" --state "$S" --clock 2026-04-01T09:10:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... that key stays, nothing was destroyed, no journal was made" bash -c \
	"[ \$(root_keys) = 1 ] && ! grep -q '	key.destroy	' '$S/audit/audit.log' && [ ! -e '$S/ceremony.journal' ]"
mv "$T/journal.aside" "$S/ceremony.journal"
# With its journal back, the next run recovers it, and is then killed after
# self-sign: the key and both certificate files made, nothing recorded.
killed self-sign "$INIT" 2026-04-01T10:00:00Z
check "... the run had removed the first root-1 (its own ceremony.recover record)" \
	grep -q '	ceremony.recover	ok	.*key root-1 destroyed	' "$S/audit/audit.log"
check "... root-1 is in the token, its files in certs/, state.conf names none" bash -c \
	"[ \$(root_keys) = 1 ] && [ -e '$S/certs/root-1.der' ] && [ -e '$S/certs/root-1.pem' ] && grep -q '^root.generations = 0$' '$S/state.conf'" 
check "... the journal names the key and the files" bash -c \
	"grep -qx 'key root-1' '$S/ceremony.journal' && grep -qx 'file certs/root-1.der' '$S/ceremony.journal' && grep -qx 'file certs/root-1.pem' '$S/ceremony.journal'"
sha256sum "$S/state.conf" "$S/ceremony.journal" "$S/audit/audit.log" >"$T/before.sum"
ok "status runs" "$OFF" status --state "$S"
check "status says the leftovers wait, and what may be left" bash -c \
	"grep -q 'leftovers: *WAITING' '$HANKO_TMP/out' && grep -q 'may be left: key root-1' '$HANKO_TMP/out' && grep -q 'may be left: file certs/root-1.der' '$HANKO_TMP/out'"
check "status changed nothing" sha256sum -c --quiet "$T/before.sum"

ok "init-root runs again after the kill" "$OFF" ceremony run "$INIT" --state "$S" \
	--clock 2026-04-01T10:30:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... generation 1 recorded, one root-1 in the token, the journal gone" bash -c \
	"grep -q '^root.generations = 1$' '$S/state.conf' && [ \$(root_keys) = 1 ] && [ ! -e '$S/ceremony.journal' ]"
check "... the recovery is its own record, by the quorum and the two operators and the manager" bash -c \
	"last_run() { tac '$S/audit/audit.log' | sed '/	ceremony.start	/q'; }
	last_run | grep -q '	ceremony.recover	ok	[a-z,]*watanabe,ito,kimura	init-root: .* key root-1 destroyed; certs/root-1.der removed; certs/root-1.pem removed'"
check "... before the new key: key.destroy and cert.remove, then key.generate" bash -c \
	"tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | tac | awk -F'\t' '{print \$3}' | tr '\n' ' ' |
	grep -q 'key.destroy cert.remove cert.remove ceremony.recover key.generate'"
check "... the transcript says it" grep -q '^recover: after activate by .*key root-1 destroyed' \
	"$S"/ceremonies/init-root-20260401T103000Z.txt
ok "... the audit log verifies" "$OFF" audit verify --state "$S"

# 2. issue-subca killed between issue-subca and issue-commit: certs/issuing-1.*
# written and cert.sign ok logged, nothing registered (on a CA of its own).
make_rooted_ca "$T/ca3"
R=$S/certs/root-1.pem
csr 2048 "$PFX/OU=Issuing CA 1/OU=TEST" "$T/iss1.csr"
killed sign "$SUBCA" 2026-04-02T09:00:00Z $(ins "$T/iss1.csr")
check "... issuing-1 files left, cert.sign ok logged, nothing recorded" bash -c \
	"[ -e '$S/certs/issuing-1.der' ] && [ -e '$S/certs/issuing-1.pem' ] && grep -q '	cert.sign	ok	.*issuing 1' '$S/audit/audit.log' && ! grep -q '^issuing' '$S/state.conf'"
ok "issue-subca runs again after the kill" "$OFF" ceremony run "$SUBCA" --state "$S" \
	--clock 2026-04-02T09:30:00Z --confirm-digests $(ins "$T/iss1.csr") "${SH[@]}" "${OPS[@]}"
check "... issuing 1 recorded and registered once, the journal gone" bash -c \
	"grep -q '^issuing.current = 1$' '$S/state.conf' && [ \$(grep -c '	issuing	' '$S/issued.txt') = 1 ] && [ ! -e '$S/ceremony.journal' ]"
check "... the leftovers removed under its own record, the root kept" bash -c \
	"tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -q '	ceremony.recover	ok	.*certs/issuing-1.der removed; certs/issuing-1.pem removed' &&
	! tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -q '	key.destroy	'"
AT="-attime $(date -u -d 2026-04-04T00:00:00Z +%s)"
ok "... issuing 1 verifies under the root" openssl verify $AT -CAfile "$R" "$S/certs/issuing-1.pem"
ok "... the audit log verifies" "$OFF" audit verify --state "$S"

# A rollover killed after its last signing step, before rollover-commit:
# root-2, its self-signed certificate, both links and issuing 1 re-certified.
ROLL=$HANKO_SRC/ceremony-scripts/rollover.yaml
killed issuing "$ROLL" 2026-10-01T09:00:00Z
check "... root-2 and its files left, generation 1 still, the journal names them" bash -c \
	"grep -q '^root.generations = 1$' '$S/state.conf' && grep -qx 'key root-2' '$S/ceremony.journal' &&
	[ -e '$S/certs/root-2.der' ] && [ \$(grep -c '^file certs/' '$S/ceremony.journal') -ge 6 ]"
ok "rollover runs again after the kill" "$OFF" ceremony run "$ROLL" --state "$S" \
	--clock 2026-10-01T09:30:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... generation 2 recorded, the journal gone, root-2 destroyed once and made again" bash -c \
	"grep -q '^root.generations = 2$' '$S/state.conf' && [ ! -e '$S/ceremony.journal' ] &&
	tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -q '	ceremony.recover	ok	.*key root-2 destroyed; certs/root-2.der removed'"
ok "... the audit log verifies" "$OFF" audit verify --state "$S"

# 3. Killed right AFTER the commits (before the journal is rewritten): the
# journal still names what is now committed; the recovery keeps it.
make_ca "$T/ca2"
S=$T/ca2/state
approve_roster "$S" watanabe ito kimura
mapfile -t SH < <(share_args "$T/ca2" 2 4 5)
killed commit "$INIT" 2026-04-01T10:00:00Z
check "... generation 1 recorded, the journal still names root-1" bash -c \
	"grep -q '^root.generations = 1$' '$S/state.conf' && grep -qx 'key root-1' '$S/ceremony.journal'"
sha256sum "$S/certs/root-1.der" "$S/certs/root-1.pem" >"$T/root.sum"
killed commit "$SUBCA" 2026-04-02T09:00:00Z $(ins "$T/iss1.csr")
check "... that run's recovery kept root-1 (key and files), destroyed and removed nothing" bash -c \
	"[ \$(root_keys) = 1 ] && sha256sum -c --quiet '$T/root.sum' &&
	grep -q '	ceremony.recover	ok	.*key root-1 kept (committed.*certs/root-1.der kept (committed.*certs/root-1.pem kept (committed' '$S/audit/audit.log' &&
	! grep -q '	key.destroy	\|	cert.remove	' '$S/audit/audit.log'"
check "... issuing 1 recorded, the journal names its files" bash -c \
	"grep -q '^issuing.current = 1$' '$S/state.conf' && grep -qx 'file certs/issuing-1.der' '$S/ceremony.journal'"
sha256sum "$S/certs/issuing-1.der" "$S/certs/issuing-1.pem" >"$T/iss.sum"
csr 2048 "$PFX/OU=Issuing CA 2/OU=TEST" "$T/iss2.csr"
ok "issue-subca of generation 2 runs after the kill" "$OFF" ceremony run "$SUBCA" --state "$S" \
	--clock 2026-04-02T10:00:00Z --confirm-digests $(ins "$T/iss2.csr") "${SH[@]}" "${OPS[@]}"
check "... issuing 1 kept untouched, issuing 2 recorded, nothing removed" bash -c \
	"sha256sum -c --quiet '$T/iss.sum' && sha256sum -c --quiet '$T/root.sum' && [ \$(root_keys) = 1 ] &&
	grep -q '^issuing.current = 2$' '$S/state.conf' && [ ! -e '$S/ceremony.journal' ] &&
	! grep -q '	key.destroy	\|	cert.remove	' '$S/audit/audit.log'"
ok "... issuing 1 still verifies under the root kept" openssl verify $AT -CAfile "$S/certs/root-1.pem" "$S/certs/issuing-1.pem"
ok "... the audit log verifies" "$OFF" audit verify --state "$S"
# 4. A compromise killed right AFTER arl-commit: the notice for the bridge CA
# (certs/compromise-notice-root-1.txt, named in the journal since its step
# ran, but by neither state.conf nor issued.txt) is committed with the ARL;
# the next run's recovery keeps it (on ca3, rolled over to root-2 above).
S=$T/ca3/state
mapfile -t SH < <(share_args "$T/ca3" 2 4 5)
NOTICE=$S/certs/compromise-notice-root-1.txt
killed commit "$HANKO_SRC/ceremony-scripts/compromise.yaml" 2026-10-10T09:00:00Z
check "... root-1 compromised and arl.last-number recorded, the journal names the notice" bash -c \
	"grep -q '^root.1.compromised = ' '$S/state.conf' && grep -q '^arl.last-number = ' '$S/state.conf' &&
	grep -qx 'file certs/compromise-notice-root-1.txt' '$S/ceremony.journal'"
sha256sum "$NOTICE" >"$T/notice.sum"
sha256sum "$S"/certs/arl/arl-*.crl >"$T/earl.sum"
check "... the journal names the emergency ARL (committed: up to arl.last-number)" bash -c \
	"L=\$(sed -n 's/^arl.last-number = //p' '$S/state.conf'); grep -qx \"arl \$L..\$L\" '$S/ceremony.journal'"
rollover_yaml 3 "$T/rollover-3.yaml"
ok "a rollover to root-3 runs after the kill" "$OFF" ceremony run "$T/rollover-3.yaml" --state "$S" \
	--clock 2026-10-20T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... its recovery kept the committed notice untouched, the journal gone" bash -c \
	"sha256sum -c --quiet '$T/notice.sum' && [ ! -e '$S/ceremony.journal' ] &&
	tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -q '	ceremony.recover	ok	.*certs/compromise-notice-root-1.txt kept (committed' &&
	! tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -q '	cert.remove	'"
check "... and the emergency ARL (every ARL) byte-identical, none removed" bash -c \
	"sha256sum -c --quiet '$T/earl.sum' &&
	tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -q '	ceremony.recover	ok	.*arl [0-9]*\.\.[0-9]* kept 1 (committed' &&
	! tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -q '	crl.remove	'"
ok "... the audit log verifies" "$OFF" audit verify --state "$S"
# 5. A rollover cut off inside rollover-commit, between issued.txt (root-2, its
# links and issuing 1 re-certified registered) and state.conf (still
# generation 1): made here by a kill after the commit and state.conf put
# back as it was. root-2's certificate is registered: the recovery keeps
# its key (a root key is never destroyed once issued.txt holds its
# certificate) as it keeps the files (on ca2, generation 1).
S=$T/ca2/state
mapfile -t SH < <(share_args "$T/ca2" 2 4 5)
cp "$S/state.conf" "$T/ca2-state.conf"
killed commit "$ROLL" 2026-10-01T09:00:00Z
cp "$T/ca2-state.conf" "$S/state.conf"
check "... issued.txt registers root-2, state.conf is at generation 1, the journal names key root-2" bash -c \
	"grep -q '	root	.*	certs/root-2.der	' '$S/issued.txt' && grep -q '^root.generations = 1$' '$S/state.conf' &&
	grep -qx 'key root-2' '$S/ceremony.journal'"
root2_keys() {
	SOFTHSM2_CONF=$S/token/softhsm2.conf pkcs11-tool --module $SOFT \
		--token-label hanko-root-test --list-objects --type pubkey 2>/dev/null |
		grep -c 'label: *root-2$'
}
check "... root-2 is in the token" test "$(root2_keys)" = 1
csr 2048 "$PFX/OU=Issuing CA 3/OU=TEST" "$T/iss3.csr"
"$OFF" ceremony run "$SUBCA" --state "$S" --clock 2026-10-02T09:00:00Z --confirm-digests \
	$(ins "$T/iss3.csr") "${SH[@]}" "${OPS[@]}" >"$T/after-cut.out" 2>&1 || true
check "... the next run's recovery kept root-2 (registered in issued.txt), destroyed nothing" bash -c \
	"grep -q '	ceremony.recover	ok	.*key root-2 kept (committed' '$S/audit/audit.log' &&
	! grep -q '	key.destroy	' '$S/audit/audit.log'"
check "... root-2 is still in the token" test "$(root2_keys)" = 1
# 6. ARLs (certs/arl/, up to a batch: one "arl FIRST..LAST" entry). An
# arl-batch killed after its arl-batch step leaves 35 ARLs no arl-commit took
# over; the next run removes them and makes the batch again with the same
# numbers (arl.last-number never moved: none reached the online side). A
# batch killed right AFTER arl-commit is the CA's: kept byte for byte (on
# ca1, generation 1, no ARL yet).
S=$T/ca1/state
mapfile -t SH < <(share_args "$T/ca1" 2 4 5)
A=$S/certs/arl
BATCH=$HANKO_SRC/ceremony-scripts/arl-batch.yaml
killed arl "$BATCH" 2026-04-03T09:00:00Z
check "... ARLs 1..35 left, no arl.last-number, the journal names them as one range" bash -c \
	"[ \$(ls '$A' | wc -l) = 35 ] && [ -e '$A/arl-35.crl' ] && ! grep -q '^arl.last-number' '$S/state.conf' &&
	grep -qx 'arl 1..35' '$S/ceremony.journal'"
ok "status runs" "$OFF" status --state "$S"
check "status says the ARLs may be left" grep -q 'may be left: arl 1..35' "$HANKO_TMP/out"
# One run at a time: while a run holds the state folder's lock (flock(1)
# stands in for it), a second is refused before anything (it would take the
# first run's journal for leftovers and remove what that run is making), and
# status says the journal is a running ceremony's own.
fails "a second ceremony run while one holds the lock: refused, nothing removed" 3 \
	"another ceremony run is going on this state" \
	flock "$S" "$OFF" ceremony run "$BATCH" --state "$S" --clock 2026-04-03T09:20:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... the journal and the 35 ARLs still there" bash -c \
	"grep -qx 'arl 1..35' '$S/ceremony.journal' && [ \$(ls '$A' | wc -l) = 35 ]"
ok "status while a run holds the lock" flock "$S" "$OFF" status --state "$S"
check "... says a ceremony is running, not leftovers waiting" bash -c \
	"grep -q 'ceremony: *RUNNING' '$HANKO_TMP/out' && ! grep -q 'leftovers: *WAITING' '$HANKO_TMP/out'"
sha256sum "$A"/arl-*.crl >"$T/arl-left.sum"
fails "bundle create of a left ARL: refused, nothing signed or spent (its number is no arl-commit's)" 3 \
	"^hanko-offline bundle: $A/arl-1\.crl: cRLNumber 1 is above arl\.last-number 0: an ARL no arl-commit took over .*nothing bundled\$" \
	"$OFF" bundle create --state "$S" --clock 2026-04-03T09:10:00Z --type arl-batch --out "$T/b-left" "${SH[@]}" "$A/arl-1.crl"
check "... no bundle, no sequence number spent" bash -c "[ ! -e '$T/b-left' ] && ! grep -q '^bundle.sequence' '$S/state.conf'"
ok "arl-batch runs again after the kill (not refused: arl-1.crl already exists)" "$OFF" ceremony run "$BATCH" \
	--state "$S" --clock 2026-04-03T09:30:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... the recovery removed the 35 left (crl.remove each, its own record), the journal gone" bash -c \
	"last_run() { tac '$S/audit/audit.log' | sed '/	ceremony.start	/q'; }
	last_run | grep -q '	ceremony.recover	ok	.*arl 1..35 removed 35	' &&
	[ \$(last_run | grep -c '	crl.remove	ok	.*certs/arl/arl-[0-9]*.crl removed: an ARL no arl-commit took over') = 35 ] &&
	[ ! -e '$S/ceremony.journal' ]"
check "... the batch made again: ARLs 1..35 new (none the killed run's), no 36, arl.last-number = 35" bash -c \
	"[ \$(ls '$A' | wc -l) = 35 ] && [ ! -e '$A/arl-36.crl' ] && grep -q '^arl.last-number = 35$' '$S/state.conf' &&
	! sha256sum -c --quiet '$T/arl-left.sum' >/dev/null 2>&1 &&
	[ \$(sha256sum -c '$T/arl-left.sum' 2>/dev/null | grep -c ': OK$') = 0 ]"
check "... ARL 1 says cRLNumber 1 and verifies under root-1" bash -c \
	"openssl crl -inform DER -in '$A/arl-1.crl' -noout -crlnumber | grep -qx 'crlNumber=0x01' &&
	openssl crl -inform DER -in '$A/arl-1.crl' -noout -verify -CAfile '$S/certs/root-1.pem' 2>&1 | grep -q 'verify OK'"
sed 's/count: 35/count: 3/' "$BATCH" >"$T/arl-3.yaml"
killed commit "$T/arl-3.yaml" 2026-04-04T09:00:00Z
check "... arl.last-number = 38, the journal still names ARLs 36..38" bash -c \
	"grep -q '^arl.last-number = 38$' '$S/state.conf' && grep -qx 'arl 36..38' '$S/ceremony.journal'"
sha256sum "$A"/arl-*.crl >"$T/arl-all.sum"
csr 2048 "$PFX/OU=Issuing CA 1/OU=TEST" "$T/iss6.csr"
ok "issue-subca runs after the kill" "$OFF" ceremony run "$SUBCA" --state "$S" \
	--clock 2026-04-04T09:30:00Z --confirm-digests $(ins "$T/iss6.csr") "${SH[@]}" "${OPS[@]}"
check "... its recovery kept every committed ARL (1..38) byte-identical, removed none" bash -c \
	"[ \$(wc -l <'$T/arl-all.sum') = 38 ] && sha256sum -c --quiet '$T/arl-all.sum' && [ \$(ls '$A' | wc -l) = 38 ] &&
	tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -q '	ceremony.recover	ok	.*arl 36..38 kept 3 (committed: arl.last-number = 38)' &&
	! tac '$S/audit/audit.log' | sed '/	ceremony.start	/q' | grep -q '	crl.remove	'"
ok "... the audit log verifies" "$OFF" audit verify --state "$S"
finish

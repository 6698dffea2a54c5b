#!/usr/bin/env bash
# t_ceremony_confirm.sh - the typed confirmation before signing (issue 3
# item 4), on a terminal: a state made with "init --rehearsal" and no
# --confirm-digests, so init-root shows the tbsCertificate's SHA-256 and
# asks for its first 8 hex digits. A wrong answer refuses, signs nothing,
# destroys the generated key and is audited (ceremony.confirm fail); so
# does Ctrl-C or the terminal closed at it; the right one signs.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
SCRIPT=$HANKO_SRC/ceremony-scripts/init-root.yaml
operators
make_ca "$T/ca"
S=$T/ca/state
approve_roster "$S" watanabe ito kimura
mapfile -t SH < <(share_args "$T/ca" 2 4 5)
no_root_key() {
	! SOFTHSM2_CONF=$S/token/softhsm2.conf pkcs11-tool --module $SOFT \
		--token-label hanko-root-test --list-objects --type pubkey 2>/dev/null | grep -q 'label: *root-1'
}

TESTS_RUN=$((TESTS_RUN + 1))
rc=0; drive '[["Type the first 8 hex digits", "SHA8-WRONG"]]' "$OFF" ceremony run "$SCRIPT" --state "$S" \
	--clock 2026-04-01T10:00:00Z "${SH[@]}" "${OPS[@]}" >"$T/wrong.out" 2>&1 || rc=$?
if [ "$rc" = 3 ] && grep -q "ANSWERED 1" "$T/wrong.out" &&
	grep -q "step self-sign: the confirmation typed does not match the first 8 hex digits" "$T/wrong.out"; then
	echo "ok - a wrong confirmation typed at the terminal is refused (exit 3)"
else
	echo "FAIL - wrong confirmation: exit $rc"; cat "$T/wrong.out"
	TESTS_FAILED=$((TESTS_FAILED + 1))
fi
check "the prompt showed the digest" grep -Eq 'SHA-256 [0-9a-f]{64}' "$T/wrong.out"
check "nothing signed: no root-1.der/.pem, generation 0" bash -c \
	"[ ! -e '$S/certs/root-1.der' ] && [ ! -e '$S/certs/root-1.pem' ] && grep -q '^root.generations = 0$' '$S/state.conf'"
check "the generated key is destroyed" no_root_key
check "audited: ceremony.confirm fail, key.destroy, ceremony.done fail" bash -c \
	"grep -q '	ceremony.confirm	fail	watanabe,ito	step self-sign' '$S/audit/audit.log' && grep -q '	key.destroy	ok	' '$S/audit/audit.log' && grep -q '	ceremony.done	fail	-	init-root' '$S/audit/audit.log'"
check "cert.sign fail only, never ok" bash -c \
	"grep -q '	cert.sign	fail	.*nothing signed' '$S/audit/audit.log' && ! grep -q '	cert.sign	ok	' '$S/audit/audit.log'"

# Ctrl-C at the confirmation, then the terminal closed there (SIGHUP): a
# refusal, not the end of the process between two steps; the key made
# before it is destroyed, the transcript and the log say what happened, and
# the same ceremony runs again (below: the right answer signs).
TESTS_RUN=$((TESTS_RUN + 1))
rc=0; drive '[["Type the first 8 hex digits", "^C"]]' "$OFF" ceremony run "$SCRIPT" --state "$S" \
	--clock 2026-04-01T10:20:00Z "${SH[@]}" "${OPS[@]}" >"$T/int.out" 2>&1 || rc=$?
if [ "$rc" = 3 ] && grep -q "step self-sign: the confirmation was interrupted by SIGINT (Ctrl-C): refused; nothing signed" "$T/int.out"; then
	echo "ok - Ctrl-C at the confirmation refuses it (exit 3), the run ends as a failed step"
else
	echo "FAIL - Ctrl-C at the confirmation: exit $rc"; cat "$T/int.out"
	TESTS_FAILED=$((TESTS_FAILED + 1))
fi
check "... nothing signed: no root-1.der/.pem, generation 0" bash -c \
	"[ ! -e '$S/certs/root-1.der' ] && [ ! -e '$S/certs/root-1.pem' ] && grep -q '^root.generations = 0$' '$S/state.conf'"
check "... the key generated before it is destroyed" no_root_key
X=$S/ceremonies/init-root-20260401T102000Z.txt
check "... the transcript says FAILED, the key undone, the signal" bash -c \
	"grep -q '^result: FAILED' '$X' && grep -q '^undo: keygen root-keygen undone' '$X' && grep -q 'fail .*interrupted by SIGINT' '$X'"
check "... the key managers whose shares were used are among its witnesses" bash -c \
	"grep -q '^witness: sato key-manager' '$X' && grep -q '^witness: takahashi key-manager' '$X' && grep -q '^witness: tanaka key-manager' '$X'"
ok "... its signature verifies (openssl dgst, the audit key)" \
	openssl dgst -sha256 -verify "$S/audit/audit-key.pem" -signature "$X.sig" "$X"
check "... audited: key.destroy, ceremony.done fail naming SIGINT" bash -c \
	"tail -n 8 '$S/audit/audit.log' | grep -q '	key.destroy	ok	' && grep -q '	ceremony.done	fail	-	init-root: .*interrupted by SIGINT' '$S/audit/audit.log'"
TESTS_RUN=$((TESTS_RUN + 1))
rc=0; drive '[["Type the first 8 hex digits", "HUP"]]' "$OFF" ceremony run "$SCRIPT" --state "$S" \
	--clock 2026-04-01T10:40:00Z "${SH[@]}" "${OPS[@]}" >"$T/hup.out" 2>&1 || rc=$?
if [ "$rc" = 3 ] && grep -q '	ceremony.done	fail	-	init-root: step self-sign: the confirmation was interrupted by SIGHUP' "$S/audit/audit.log"; then
	echo "ok - the terminal closed at the confirmation: refused (exit 3), audited"
else
	echo "FAIL - terminal closed at the confirmation: exit $rc"; cat "$T/hup.out"; tail -n 3 "$S/audit/audit.log"
	TESTS_FAILED=$((TESTS_FAILED + 1))
fi
check "... the key destroyed, nothing signed" bash -c \
	"! [ -e '$S/certs/root-1.der' ] && grep -q '^root.generations = 0$' '$S/state.conf'"
check "... no root-1 key left in the token" no_root_key
ok "... the audit log verifies" "$OFF" audit verify --state "$S"

TESTS_RUN=$((TESTS_RUN + 1))
rc=0; drive '[["Type the first 8 hex digits", "SHA8"]]' "$OFF" ceremony run "$SCRIPT" --state "$S" \
	--clock 2026-04-01T11:00:00Z "${SH[@]}" "${OPS[@]}" >"$T/right.out" 2>&1 || rc=$?
if [ "$rc" = 0 ] && grep -q "ANSWERED 1" "$T/right.out" && grep -q "Ceremony init-root done" "$T/right.out"; then
	echo "ok - the right 8 hex digits typed at the terminal sign"
else
	echo "FAIL - right confirmation: exit $rc"; cat "$T/right.out"
	TESTS_FAILED=$((TESTS_FAILED + 1))
fi
check "audited: ceremony.confirm ok at the terminal" bash -c \
	"grep '	ceremony.confirm	ok	watanabe,ito	step self-sign' '$S/audit/audit.log' | grep -q 'confirmed at the terminal'"
ok "openssl verify accepts the root" openssl verify -x509_strict -check_ss_sig \
	-attime "$(date -u -d 2026-04-01T12:00:00Z +%s)" -CAfile "$S/certs/root-1.pem" "$S/certs/root-1.pem"
check "state.conf records generation 1" grep -q '^root.generations = 1$' "$S/state.conf"
ok "the audit log verifies" "$OFF" audit verify --state "$S"
finish

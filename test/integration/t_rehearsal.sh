#!/usr/bin/env bash
# t_rehearsal.sh - a rehearsal touches nothing real and can make nothing
# real (DESIGN.md 5, offline/rehearsal.c): the throwaway CA it runs on has
# its own token and keys, TEST roots in place of the real ones, PINs sealed
# under a stand-in quorum key, and its own audit log; the real shares are
# still checked, and the real CA's log records that a rehearsal ran.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
SCRIPT=$HANKO_SRC/ceremony-scripts/init-root.yaml
SHA=$(sha256sum <"$SCRIPT" | cut -c1-64)
operators
make_ca "$T/ca"
S=$T/ca/state
approve_roster "$S" watanabe ito kimura
mapfile -t SH < <(share_args "$T/ca" 1 3 5)
ok "init-root runs on the CA" "$OFF" ceremony run "$SCRIPT" --state "$S" --confirm-digests "${SH[@]}" "${OPS[@]}"
before=$(cd "$S" && find . -path ./audit -prune -o -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)

# A rehearsal on it (refused by the root-exists check, after the throwaway
# CA was made); keep the copy to look inside. The cp(1) that copies the
# state is a spy first in PATH that notes its environment.
mkdir -p "$T/spy"
printf '#!/bin/sh\nenv >"%s/spy/cp.env"\nexec /bin/cp "$@"\n' "$T" >"$T/spy/cp"
chmod +x "$T/spy/cp"
TESTS_RUN=$((TESTS_RUN + 1))
PATH="$T/spy:$PATH" "$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal --keep-rehearsal --confirm-digests \
	"${SH[@]}" "${OPS[@]}" >"$T/reh.out" 2>&1 || true
C=$(kept "$T/reh.out")
if [ -n "$C" ] && [ -d "$C" ]; then echo "ok - the rehearsal copy was kept: $C"; else
	echo "FAIL - no rehearsal copy"; cat "$T/reh.out"; TESTS_FAILED=$((TESTS_FAILED + 1)); fi
after=$(cd "$S" && find . -path ./audit -prune -o -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
check "the real CA is unchanged but for its log" test "$before" = "$after"
check "the real log records the rehearsal" grep -q '	ceremony.rehearsal	' "$S/audit/audit.log"
check "the state was copied by cp, which got none of the passphrases in our environment (--passin env:)" \
	bash -c "[ -s '$T/spy/cp.env' ] && ! grep -q '^HK_PASS_' '$T/spy/cp.env'"

spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum; }
check "the copy's root is not the real root" \
	test "$(spki "$C/certs/root-1.pem")" != "$(spki "$S/certs/root-1.pem")"
check "the copy's root is marked TEST" \
	bash -c "openssl x509 -in '$C/certs/root-1.pem' -noout -subject | grep -q 'OU *= *TEST'"
SOFTHSM2_CONF=$C/token/softhsm2.conf pkcs11-tool --module $SOFT --token-label hanko-root-test \
	--read-object --type pubkey --label root-1 -o "$T/copykey.der" >/dev/null 2>&1 || true
check "the copy's token holds a key of its own for root-1" \
	bash -c "[ -s '$T/copykey.der' ] && [ \"\$(openssl pkey -pubin -inform DER -in '$T/copykey.der' -outform DER | sha256sum)\" = \"\$(openssl x509 -in '$C/certs/root-1.pem' -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)\" ]"
check "the copy holds no object file of the real token" \
	bash -c "[ -z \"\$(comm -12 <(cd '$S/token/tokens' && find . -type f -name '*.object' -exec sha256sum {} + | cut -c1-64 | sort -u) <(cd '$C/token/tokens' && find . -type f -name '*.object' -exec sha256sum {} + | cut -c1-64 | sort -u))\" ]"
check "the copy's sealed PINs are not the real ones" \
	bash -c "! cmp -s '$S/secrets/token-user-pin.sealed' '$C/secrets/token-user-pin.sealed'"
mapfile -t SH3 < <(share_args "$T/ca" 1 3 5)
fails "the real quorum key cannot open the copy's token" 1 "token-user-pin.sealed: cannot be opened with the quorum key" \
	"$OFF" activate --state "$C" "${SH3[@]}"
check "the copy has an audit log of its own that starts with the rehearsal" \
	bash -c "sed -n 2p '$C/audit/audit.log' | grep -q '	rehearsal.start	ok	'"
ok "the copy's audit log verifies with the copy's audit key" "$OFF" audit verify --log "$C/audit/audit.log" --key "$C/audit/audit-key.pem"
check "the real audit log still verifies" bash -c "'$OFF' audit verify --state '$S' >/dev/null"

# The copy loses the real token and sealed secrets without a shell
# (hk_tree_remove). When that fails (an entry of the copied token that no
# removal may take, through a test-only LD_PRELOAD shim), the rehearsal
# stops with one line naming the folder and why, and the copy it could not
# remove either: nobody leaves a copy of the real token behind unknowingly.
cc -shared -fPIC -o "$T/failremove.so" "$HANKO_SRC/test/data/init/failremove.c" -ldl
echo keep >"$S/token/hk-unremovable"
before=$(cd "$S" && find . -path ./audit -prune -o -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
fails "a rehearsal whose copied token cannot be removed stops" 8 \
	"state\.rehearsal-[A-Za-z0-9]{6}/token: cannot remove the real CA's token from the rehearsal copy: .*/token/hk-unremovable: cannot remove: Device or resource busy; and the rehearsal copy .*state\.rehearsal-[A-Za-z0-9]{6} could not be removed .*: remove it by hand" \
	env HK_FAIL_REMOVE=hk-unremovable LD_PRELOAD="$T/failremove.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$OFF" ceremony run "$SCRIPT" --state "$S" --rehearsal --confirm-digests "${SH[@]}" "${OPS[@]}"
C2=$(sed -n "s/.*; and the rehearsal copy \(.*\) could not be removed .*/\1/p" "$HANKO_TMP/err")
check "... the copy it names is left beside the state, holding the entry" \
	bash -c "[ -n '$C2' ] && [ '$C2' != '$C' ] && [ -f '$C2/token/hk-unremovable' ]"
after=$(cd "$S" && find . -path ./audit -prune -o -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
check "... the real CA is unchanged" test "$before" = "$after"
check "... the real log records the failed rehearsal and why" \
	bash -c "tail -n 1 '$S/audit/audit.log' | grep -q '	ceremony.rehearsal	fail	-	init-root script SHA-256 $SHA: .*could not be removed .*; transcript none; copy failed	'"
rm -rf -- "$C2"
rm -- "$S/token/hk-unremovable"

# A rehearsal whose copy cannot be made at all (its folder beside the
# state cannot be created: the state named through a link whose name
# leaves no room for ".rehearsal-XXXXXX") stops before anyone is asked for
# anything, and the real CA's log still records it: one ceremony.rehearsal
# fail record with the script, its SHA-256 and why.
L=$T/$(printf 'state%.0s' $(seq 48))
ln -s "$S" "$L"
n0=$(grep -c '	ceremony\.rehearsal	' "$S/audit/audit.log")
fails "a rehearsal whose copy's folder cannot be created stops" 8 \
	"\.rehearsal-[A-Za-z0-9]{6}: cannot create: File name too long\$" \
	"$OFF" ceremony run "$SCRIPT" --state "$L" --rehearsal --confirm-digests "${SH[@]}" "${OPS[@]}"
check "... the real log gains one ceremony.rehearsal record" \
	test "$(grep -c '	ceremony\.rehearsal	' "$S/audit/audit.log")" = $((n0 + 1))
check "... ceremony.rehearsal fail: the script, its SHA-256 and why" \
	bash -c "tail -n 1 '$S/audit/audit.log' | grep -Eq '	ceremony\.rehearsal	fail	-	init-root script SHA-256 $SHA: [^	]*\.rehearsal-[A-Za-z0-9]{6}: cannot create: File name too long; transcript none; copy failed	'"
check "... no copy is left beside the state" \
	bash -c "! ls -d '$T'/state*.rehearsal-* 2>/dev/null | grep -q ."
ok "... the real audit log still verifies" "$OFF" audit verify --state "$S"
rm -- "$L"
finish

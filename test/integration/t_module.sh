#!/usr/bin/env bash
# t_module.sh - "a real HSM is one module path away" (DESIGN.md 3): with
# --module PATH, init uses that PKCS#11 module's first free token instead of
# making an embedded one, and create-root works the same. SoftHSM2 with a
# configuration outside the state folder stands in for the HSM here.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
mkdir -p "$T/hsm/tokens" "$T/ca"
cat >"$T/hsm/softhsm2.conf" <<CONF
directories.tokendir = $T/hsm/tokens/
objectstore.backend = file
log.level = ERROR
CONF
export SOFTHSM2_CONF=$T/hsm/softhsm2.conf
args=()
for km in "${KMS[@]}"; do args+=(--passin "$km=env:HK_PASS_$km"); done
ok "init on another module by path" "$OFF" init --state "$T/ca/state" --profile "$PROFILE" \
	--roster "$ROSTER" --media "$T/ca/media" --rehearsal --kdf interactive \
	--module /usr/lib/softhsm/libsofthsm2.so --token-label external-hsm "${args[@]}"
check "the state names the module and no embedded token" \
	bash -c "grep -qx 'token.embedded = no' '$T/ca/state/state.conf' && [ ! -e '$T/ca/state/token' ]"
check "the token lives in the module's own store" test -n "$(ls -A "$T/hsm/tokens")"
check "the module shows the new token by its label" \
	bash -c "softhsm2-util --show-slots 2>/dev/null | grep -q 'Label: *external-hsm'"
mapfile -t sargs < <(share_args "$T/ca" 1 2 3)
ok "create-root through the module" "$OFF" create-root --state "$T/ca/state" "${sargs[@]}"
ok "the root verifies" openssl verify -x509_strict -CAfile "$T/ca/state/certs/root-1.pem" "$T/ca/state/certs/root-1.pem"
check "the root key is in the module's token" \
	bash -c "pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label external-hsm --list-objects --type pubkey 2>/dev/null | grep -q 'label: *root-1'"
ok "the audit log verifies" "$OFF" audit verify --state "$T/ca/state"
finish

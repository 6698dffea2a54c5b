#!/usr/bin/env bash
# t_backup.sh - key backup, restore into a fresh token, and destruction
# (CPS 6-2-1-4, 4-14-1, 6-2-1-9; docs/key-lifecycle.md):
#   a backup that cannot be written leaves state and token consistent;
#   backups are 0600, never overwritten, need the quorum, and a damaged one
#   is refused and named; the token is lost; the keys are restored into a
#   fresh token, match root-1.pem and the audit key, sign (checkpoints
#   verify), and the quorum activates it; then root-1 is destroyed: the
#   token holds no root-1 object, every backup of it is refused (its KEK
#   seed is retired), and the audit log verifies throughout.
. "$(dirname "$0")/lib.sh"
fresh_tmp
A=$HANKO_TMP/a
make_ca "$A"
mapfile -t Q < <(share_args "$A" 1 3 5)
mapfile -t TWO < <(share_args "$A" 2 4)
"$OFF" create-root --state "$A/state" "${Q[@]}" >/dev/null
BK=$A/media/yamada/backup
mkdir -p "$BK"
export SOFTHSM2_CONF=$A/state/token/softhsm2.conf
MOD=/usr/lib/softhsm/libsofthsm2.so
pubobjs() { pkcs11-tool --module "$MOD" --token-label "$1" --list-objects \
	--type pubkey 2>/dev/null | grep -c "label:.*$2" || true; }
state_of() { grep -E "^(token|root|audit|backup)" "$A/state/state.conf"; }

# A medium that cannot be written: the failure is named and audited, no
# file appears, and the CA still activates.
fails "a backup to a folder that does not exist is refused and named" 8 \
	"--out $BK/nope/root-1.hkb" \
	"$OFF" backup --state "$A/state" --key root-1 --out "$BK/nope/root-1.hkb" "${Q[@]}"
check "nothing was written" test ! -e "$BK/nope"
check "the failure is an audit event" \
	grep -q '	key.backup	fail	' "$A/state/audit/audit.log"
ok "the CA still activates after the failed backup" \
	"$OFF" activate --state "$A/state" "${Q[@]}"

# A medium that takes the backup but cannot give it back (read(2) of the
# file fails, failread.so), or whose folder cannot be fsynced once the file
# is in place (failfsync.so): the run fails, and the file it wrote leaves
# the medium again, so that the next try is not stopped by "already exists".
cc -shared -fPIC -o "$HANKO_TMP/failread.so" "$HANKO_SRC/test/data/custody/failread.c" -ldl
cc -shared -fPIC -o "$HANKO_TMP/failfsync.so" "$HANKO_SRC/test/data/init/failfsync.c" -ldl
ASAN_PRELOAD="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
fails "a backup that cannot be read back fails, named" 8 \
	"rb.hkb: the backup written does not read back: .*rb.hkb: cannot read: Input/output error; .*rb.hkb removed again$" \
	env HK_FAIL_READ_NAME=rb.hkb LD_PRELOAD="$HANKO_TMP/failread.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$OFF" backup --state "$A/state" --key root-1 --out "$BK/rb.hkb" "${Q[@]}"
check "... and leaves nothing on the medium" test -z "$(ls -A "$BK")"
check "... the failure is audited with the removal" \
	grep -q '	key.backup	fail	.*rb.hkb: cannot read: .*rb.hkb removed again' "$A/state/audit/audit.log"
fails "a backup whose folder cannot be fsynced fails, named" 8 \
	"rb.hkb: cannot fsync its folder; .*rb.hkb removed again, but its folder could not be fsynced" \
	env HK_FAIL_FSYNC_DIR="$(realpath "$BK")" LD_PRELOAD="$HANKO_TMP/failfsync.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$OFF" backup --state "$A/state" --key root-1 --out "$BK/rb.hkb" "${Q[@]}"
check "... and leaves nothing on the medium" test -z "$(ls -A "$BK")"
ok "the next try writes the backup" \
	"$OFF" backup --state "$A/state" --key root-1 --out "$BK/rb.hkb" "${Q[@]}"
rm "$BK/rb.hkb"

fails "a backup needs the quorum" 4 "2 of the 3 shares needed" \
	"$OFF" backup --state "$A/state" --key root-1 --out "$BK/x.hkb" "${TWO[@]}"
fails "an unknown key is refused and named" 3 "root-7.*generations" \
	"$OFF" backup --state "$A/state" --key root-7 --out "$BK/x.hkb" "${Q[@]}"
check "no file for refused backups" test ! -e "$BK/x.hkb"

ok "root-1 is backed up" \
	"$OFF" backup --state "$A/state" --key root-1 --out "$BK/root-1.hkb" "${Q[@]}"
ok "audit-1 is backed up" \
	"$OFF" backup --state "$A/state" --key audit-1 --out "$BK/audit-1.hkb" "${Q[@]}"
check "the backup file is mode 0600" test "$(stat -c %a "$BK/root-1.hkb")" = 600
check "the backup names its key and format" \
	grep -qx 'key-label: root-1' "$BK/root-1.hkb"
check "the backup holds no key in the clear" \
	bash -c "! grep -q 'PRIVATE' '$BK/root-1.hkb'"
want=$(openssl x509 -in "$A/state/certs/root-1.pem" -pubkey -noout | \
	openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
check "its public-key-sha256 is root-1.pem's" \
	grep -qx "public-key-sha256: $want" "$BK/root-1.hkb"
fails "a backup is never overwritten" 7 "root-1.hkb.*already exists" \
	"$OFF" backup --state "$A/state" --key root-1 --out "$BK/root-1.hkb" "${Q[@]}"

# The token is lost.
softhsm2-util --delete-token --token hanko-root-test >/dev/null
fails "the lost token no longer activates" 3 "no token labelled" \
	"$OFF" activate --state "$A/state" "${Q[@]}"

# A damaged backup, a missing key, too few shares: refused, nothing made.
cp "$BK/root-1.hkb" "$HANKO_TMP/flip.hkb"
python3 - "$HANKO_TMP/flip.hkb" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
b[b.index(b'\ncreated: ') + 12] ^= 0x01   # a digit of the year: still well-formed
open(p, 'wb').write(b)
PY
before=$(state_of)
fails "a backup with a flipped byte is refused and named" 1 "flip.hkb: the MAC does not verify" \
	"$OFF" restore --state "$A/state" --backup "$HANKO_TMP/flip.hkb" \
	--backup "$BK/audit-1.hkb" "${Q[@]}"
fails "a restore needs a backup of every live key" 2 "no backup of root-1" \
	"$OFF" restore --state "$A/state" --backup "$BK/audit-1.hkb" "${Q[@]}"
fails "a restore needs the quorum" 4 "2 of the 3 shares needed" \
	"$OFF" restore --state "$A/state" --backup "$BK/root-1.hkb" \
	--backup "$BK/audit-1.hkb" "${TWO[@]}"
check "refused restores left state.conf as it was" test "$(state_of)" = "$before"
check "no fresh token was made by a refused restore" \
	bash -c "! softhsm2-util --show-slots 2>/dev/null | grep -q 'hanko-root-test-r2'"

# Restore into a fresh token.
mapfile -t Q2 < <(share_args "$A" 2 3 4)
# The state folder copied to a spare machine at another path (CPS 4-14-3):
# its token/softhsm2.conf still names the first path's token folder, where
# the fresh token would have been made (here: the other state's).
cp -a "$A/state" "$A/spare"
fails "a restore on a copy at another path: refused naming its softhsm2.conf and both folders (exit 5)" 5 \
	"$A/spare/token/softhsm2.conf: directories.tokendir names $A/state/token/tokens/ \\(another folder\\), not this state's token folder $A/spare/token/tokens/" \
	"$OFF" restore --state "$A/spare" --backup "$BK/root-1.hkb" --backup "$BK/audit-1.hkb" "${Q2[@]}"
check "... no fresh token made in the other state's token folder" \
	bash -c "! softhsm2-util --show-slots 2>/dev/null | grep -q 'hanko-root-test-r2'"
rm -rf "$A/spare"
ok "the keys are restored into a fresh token" \
	"$OFF" restore --state "$A/state" --backup "$BK/root-1.hkb" \
	--backup "$BK/audit-1.hkb" "${Q2[@]}"
check "state.conf names the fresh token" \
	grep -qx 'token.label = hanko-root-test-r2' "$A/state/state.conf"
check "the root key URI names the fresh token" \
	grep -q '^root.1.key-uri = pkcs11:token=hanko-root-test-r2;' "$A/state/state.conf"
check "the restored root key signed a test message root-1.pem verifies" \
	grep -q '	key.restore	ok	.*root-1 from .*test signature verifies' \
	"$A/state/audit/audit.log"
check "the fresh token holds root-1 and audit-1" \
	test "$(pubobjs hanko-root-test-r2 'root-1\|audit-1')" = 2
ok "the restored token activates" "$OFF" activate --state "$A/state" "${Q[@]}"
ok "checkpoints signed by the restored audit key verify" \
	"$OFF" audit verify --state "$A/state"
ok "the restored key can be backed up again" \
	"$OFF" backup --state "$A/state" --key root-1 --out "$BK/root-1-again.hkb" "${Q[@]}"
check "under the same KEK seed" test \
	"$(grep kek-id "$BK/root-1.hkb")" = "$(grep kek-id "$BK/root-1-again.hkb")"

# Destruction (CPS 6-2-1-9) is for a key at the end of its life: root-1,
# the root key in force, is refused, before the quorum is asked for (even
# too few shares give this refusal), and stays whole.
IN_FORCE="--key root-1: root-1 is the root key in force \(state.conf: root.generations = 1, no root.1.compromised\): CPS 6-2-1-9 .* once a rollover has made a newer generation current \(CPS 4-13, 6-3-1-2\) or a compromise ceremony has marked it root.1.compromised \(CPS 4-14-2\); nothing destroyed$"
fails "destroy refuses the root key in force" 3 "$IN_FORCE" \
	"$OFF" destroy --state "$A/state" --key root-1 --yes-destroy root-1 "${Q[@]}"
fails "... before the quorum is asked for" 3 "$IN_FORCE" \
	"$OFF" destroy --state "$A/state" --key root-1 --yes-destroy root-1 "${TWO[@]}"
check "... root-1 and its KEK seed are whole, nothing recorded" bash -c \
	"[ \$(SOFTHSM2_CONF='$SOFTHSM2_CONF' pkcs11-tool --module $MOD --token-label hanko-root-test-r2 --list-objects --type pubkey 2>/dev/null | grep -c 'label: *root-1\$') = 1 ] && [ -e '$A/state/secrets/backup-seed-root-1.sealed' ] && ! grep -q '^root.1.destroyed' '$A/state/state.conf'"
check "... the refusal is audited" \
	grep -q '	key.destroy.done	fail	-	root-1: --key root-1: root-1 is the root key in force' "$A/state/audit/audit.log"
# The rollover makes root-2 current: root-1's life ends (CPS 4-13).
operators
approve_roster "$A/state" watanabe ito kimura
ok "the rollover makes root-2 the root key in force" \
	"$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/rollover.yaml" --state "$A/state" \
	--confirm-digests "${Q[@]}" "${OPS[@]}"
fails "root-2, now in force, is refused in its turn" 3 \
	"--key root-2: root-2 is the root key in force \(state.conf: root.generations = 2, no root.2.compromised\)" \
	"$OFF" destroy --state "$A/state" --key root-2 --yes-destroy root-2 "${Q[@]}"
fails "destroy needs the key label typed again" 2 "yes-destroy root-2.*root-1" \
	"$OFF" destroy --state "$A/state" --key root-1 --yes-destroy root-2 "${Q[@]}"
fails "destroy needs the quorum" 4 "2 of the 3 shares needed" \
	"$OFF" destroy --state "$A/state" --key root-1 --yes-destroy root-1 "${TWO[@]}"
fails "the audit key is not destroyed by this command" 2 "only a root key" \
	"$OFF" destroy --state "$A/state" --key audit-1 --yes-destroy audit-1 "${Q[@]}"
check "root-1 is still in the token" test "$(pubobjs hanko-root-test-r2 root-1)" = 1
# A second name of the sealed seed's inode stands in for the blocks that held
# it: destroy must overwrite them (docs/key-lifecycle.md, Destruction 1), not
# write a new file over the name and leave the old bytes behind.
SEED=$A/state/secrets/backup-seed-root-1.sealed
cp "$SEED" "$HANKO_TMP/seed-before"
ln "$SEED" "$HANKO_TMP/seed-blocks"
ok "root-1 is destroyed" \
	"$OFF" destroy --state "$A/state" --key root-1 --yes-destroy root-1 "${Q[@]}"
check "the token holds no root-1 object" test "$(pubobjs hanko-root-test-r2 root-1)" = 0
check "the KEK seed of root-1 is gone" \
	test ! -e "$A/state/secrets/backup-seed-root-1.sealed"
check "the KEK seed's own bytes were overwritten in place, same length" bash -c \
	"! cmp -s '$HANKO_TMP/seed-before' '$HANKO_TMP/seed-blocks' && \
	[ \$(stat -c %s '$HANKO_TMP/seed-blocks') = \$(stat -c %s '$HANKO_TMP/seed-before') ]"
check "state.conf records the destruction" grep -q '^root.1.destroyed = ' "$A/state/state.conf"
check "the destruction is audited" \
	grep -q '	key.destroy	ok	.*names nothing' "$A/state/audit/audit.log"
fails "the destroyed key cannot be backed up or used" 3 "root-1.*destroyed" \
	"$OFF" backup --state "$A/state" --key root-1 --out "$BK/late.hkb" "${Q[@]}"
fails "an old backup of the destroyed key is unusable" 3 "root-1.hkb: unusable.*retired" \
	"$OFF" restore --state "$A/state" --backup "$BK/root-1.hkb" \
	--backup "$BK/audit-1.hkb" "${Q[@]}"
fails "so is the second copy" 3 "root-1-again.hkb: unusable" \
	"$OFF" restore --state "$A/state" --backup "$BK/root-1-again.hkb" "${Q[@]}"
# Even with the state's record of the destruction removed, no quorum can
# open it: the KEK seed is gone.
sed -i '/^root.1.destroyed/d' "$A/state/state.conf"
fails "without the seed no quorum reopens it" 3 "unusable.*no backup KEK seed" \
	"$OFF" restore --state "$A/state" --backup "$BK/root-1.hkb" \
	--backup "$BK/audit-1.hkb" "${Q[@]}"
ok "the audit log verifies after all of it" "$OFF" audit verify --state "$A/state"
finish

#!/usr/bin/env bash
# t_quorum.sh - m-of-n activation of the token (CPS 6-2-1-2, 6-2-1-7):
# for a 3-of-5 set every subset of three or more shares activates the token;
# every smaller subset fails with no login attempt; a damaged share, a share
# of another set, a duplicated share and a wrong passphrase are refused and
# named, and each failure is an audit event.
. "$(dirname "$0")/lib.sh"
fresh_tmp
make_ca "$HANKO_TMP/a"
make_ca "$HANKO_TMP/b"
A=$HANKO_TMP/a

logins() { grep -c '	token.login	ok	' "$A/state/audit/audit.log" || true; }
login_attempts() { grep -c '	token.login	' "$A/state/audit/audit.log" || true; }

# All 31 non-empty subsets of {1..5}.
big=0 small=0
for mask in $(seq 1 31); do
	set_=()
	for i in 1 2 3 4 5; do (( mask & (1 << (i - 1)) )) && set_+=("$i"); done
	mapfile -t args < <(share_args "$A" "${set_[@]}")
	before=$(login_attempts)
	if [ "${#set_[@]}" -ge 3 ]; then
		big=$((big + 1))
		ok "shares {${set_[*]}} activate the token" \
			"$OFF" activate --state "$A/state" "${args[@]}"
	else
		small=$((small + 1))
		fails "shares {${set_[*]}} do not reach the quorum" 4 \
			"${#set_[@]} of the 3 shares needed" \
			"$OFF" activate --state "$A/state" "${args[@]}"
		check "no login attempt with shares {${set_[*]}}" \
			test "$(login_attempts)" = "$before"
	fi
done
check "16 subsets of three or more were tried" test "$big" = 16
check "15 subsets of fewer than three were tried" test "$small" = 15
check "16 logins were audited" test "$(logins)" = 16

# A share with one flipped byte is named as damaged.
cp "$A/media/sato/share-2-sato.hks" "$HANKO_TMP/flip.hks"
python3 - "$HANKO_TMP/flip.hks" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[200] ^= 0x01
open(p, 'wb').write(b)
PY
mapfile -t args < <(share_args "$A" 1 3)
fails "a share with a flipped byte is refused and named" 4 "flip.hks" \
	"$OFF" activate --state "$A/state" "${args[@]}" \
	--share "$HANKO_TMP/flip.hks" --passin env:HK_PASS_sato

# A share of another CA's set.
mapfile -t args < <(share_args "$A" 1 3)
fails "a share from another set is refused and named" 4 "share-2-sato.hks.*(set|another)" \
	"$OFF" activate --state "$A/state" "${args[@]}" \
	--share "$HANKO_TMP/b/media/sato/share-2-sato.hks" --passin env:HK_PASS_sato

# The same share twice.
mapfile -t args < <(share_args "$A" 1 3 3)
fails "a duplicated share is refused and named" 4 "share-3-suzuki.hks" \
	"$OFF" activate --state "$A/state" "${args[@]}"

# A wrong passphrase: refused, named, and audited as a failure.
mapfile -t args < <(share_args "$A" 1 3)
fails "a wrong passphrase is refused and named" 4 "share-4-takahashi.hks.*passphrase|passphrase.*share-4-takahashi.hks" \
	"$OFF" activate --state "$A/state" "${args[@]}" \
	--share "$A/media/takahashi/share-4-takahashi.hks" --passin env:HK_PASS_tanaka
check "the wrong passphrase is an audit event naming its holder" \
	grep -q '	share.open	fail	takahashi	' "$A/state/audit/audit.log"

# A share of the set in force whose holder was changed (checksum fixed),
# beside a retired copy of that very set (a share rotation that stopped
# before its commit): refused as not this holder's, never named as a
# retired set's.
SETID=$(sed -n 's/^set-id: //p' "$A/state/quorum.set")
cp "$A/state/quorum.set" "$A/state/quorum.set.$SETID.retired"
python3 - "$A/media/suzuki/share-3-suzuki.hks" "$HANKO_TMP/holder.hks" <<'PY'
import hashlib, sys
t = open(sys.argv[1]).read().replace('holder: suzuki\n', 'holder: mallory\n')
i = t.index('checksum: ')
t = t[:i] + 'checksum: ' + hashlib.sha256(t[:i].encode()).hexdigest() + t[i + 74:]
open(sys.argv[2], 'w').write(t)
PY
mapfile -t args < <(share_args "$A" 1 2)
fails "a share of the set in force naming another holder is not called retired" 4 \
	"holder.hks: share 3 is held by 'suzuki' in set $SETID, but the file names 'mallory'" \
	"$OFF" activate --state "$A/state" "${args[@]}" \
	--share "$HANKO_TMP/holder.hks" --passin env:HK_PASS_suzuki
rm -f "$A/state/quorum.set.$SETID.retired"
check "no login followed any refused share" test "$(logins)" = 16
ok "the audit log verifies after all of it" "$OFF" audit verify --state "$A/state"
finish

#!/usr/bin/env bash
# t_online_arl_copy_revoked.sh - after a root rollover the issuing key has
# two certificates: its copy under root 1 and its copy under root 2. The
# root revokes the copy under root 2 (the one issue uses) key-compromise:
# a reason that ends the issuing CA (CPS 4-14-2; docs/ceremony-lifecycle.md
# "rollover": a copy revoked for any reason but superseded, or but the
# cACompromise of an older root's compromise, withdraws the key). issue and
# responder refuse (exit 3, nothing made) and status warns, although the
# copy under root 1 is valid and not listed (docs/publish.md "An issuing CA
# the root revokes"); before, they went on under that copy. On a second
# state, root 1's compromise (cACompromise of the copy under root 1, by
# root 2's emergency ARL) leaves the key in use through its copy under
# root 2, as superseded does (t_online_rp_rollover).
. "$(dirname "$0")/online.sh"

# rollover DAY: root 2, its links and issuing CA 1 re-certified under it,
# carried to the online side on DAY (bundles next to $O).
rollover() {
	local b
	b=$(dirname "$O")
	ok "rollover ceremony: root 2, links, issuing CA 1 re-certified" "$OFF" ceremony run \
		"$HANKO_SRC/ceremony-scripts/rollover.yaml" --state "$S" --clock "$1T09:00:00Z" --confirm-digests \
		"${SH[@]}" "${OPS[@]}"
	ok "bundle: root generation 2 (signed by 1)" "$OFF" bundle create --state "$S" --clock "$1T10:00:00Z" \
		--generation 1 --type root-generation --out "$b/b-root2" "${SH[@]}" "$S/certs/root-2.der" \
		"$S/certs/link-2-new-with-old.der" "$S/certs/link-2-old-with-new.der"
	ok "bundle: issuing CA 1 under root 2" "$OFF" bundle create --state "$S" --clock "$1T10:00:00Z" \
		--type issuing-ca-cert --out "$b/b-iss-r2" "${SH[@]}" "$S/certs/issuing-1-root-2.der"
	ok "import root generation 2" "$ON" import --state "$O" --clock "$1T11:00:00Z" "$b/b-root2"
	ok "import issuing CA 1 under root 2" "$ON" import --state "$O" --clock "$1T11:00:00Z" "$b/b-iss-r2"
}
rollover 2026-04-03
OLD1=$(serial_of certs/issuing-1.der)
NEW1=$(serial_of certs/issuing-1-root-2.der)
NEW1L=$(echo "$NEW1" | tr 'A-F' 'a-f')
check "two copies of issuing CA 1's key, two serials" sh -c "[ -n '$OLD1' ] && [ -n '$NEW1' ] && [ '$OLD1' != '$NEW1' ]"
sed -e "s/serial: \"00\"/serial: \"$NEW1\"/" -e "s/reason: superseded/reason: key-compromise/" \
	"$HANKO_SRC/ceremony-scripts/revoke.yaml" >"$T/revoke-new1.yaml"
ok "offline: revoke issuing CA 1's copy under root 2 (key-compromise), emergency ARL" "$OFF" ceremony run \
	"$T/revoke-new1.yaml" --state "$S" --clock 2026-04-04T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
RN=$(sed -n 's/^arl.last-number = //p' "$S/state.conf")
ok "bundle of ARL $RN" "$OFF" bundle create --state "$S" --clock 2026-04-04T09:30:00Z --type arl-batch \
	--out "$T/b-arl-new1" "${SH[@]}" "$S/certs/arl/arl-$RN.crl"
ok "import it" "$ON" import --state "$O" --clock 2026-04-04T10:00:00Z "$T/b-arl-new1"
check "... ARL $RN lists the copy under root 2 (keyCompromise), not the copy under root 1" sh -c \
	"openssl crl -inform DER -in '$S/certs/arl/arl-$RN.crl' -noout -text | grep -A4 -i 'Serial Number: $NEW1' |
	   grep -q 'Key Compromise' &&
	 ! openssl crl -inform DER -in '$S/certs/arl/arl-$RN.crl' -noout -text | grep -qi 'Serial Number: $OLD1'"

REFUSED="^hanko-online (issue|responder): store.db: ARL $RN revokes issuing CA 1's certificate serial $NEW1L \(key-compromise, revoked 2026-04-04T09:00:00Z\): CPS 4-14-2: the root has revoked this issuing CA: "
req_dir "$T/r" 3
fails "issue: refused, the copy under root 1 does not keep a key the root revoked keyCompromise (exit 3)" 3 \
	"$REFUSED" "$ON" issue --state "$O" --clock 2026-04-04T12:00:00Z --batch "$T/r/batch.csv" --out "$T/r/out"
check "... nothing issued: no certificate row, no results" sh -c \
	"[ \"\$(sqlite3 '$O/store.db' 'SELECT count(*) FROM certificates')\" = 0 ] && [ ! -e '$T/r/out/results.csv' ]"
fails "responder: refused the same (exit 3)" 3 "$REFUSED" "$ON" responder --state "$O" --clock 2026-04-04T12:00:00Z
fails "responder --generation 1: refused the same (exit 3)" 3 "$REFUSED" \
	"$ON" responder --state "$O" --clock 2026-04-04T12:00:00Z --generation 1
rc=0
"$ON" status --state "$O" --clock 2026-04-04T12:00:00Z >"$T/st.out" 2>"$T/st.err" || rc=$?
check "status: exit 9, issuing CA 1 current and revoked by the root (ARL $RN, key-compromise)" sh -c \
	"[ $rc = 9 ] && grep -q '^issuing: generation 1: revoked by the root: ARL $RN revokes issuing CA 1.s certificate serial $NEW1L (key-compromise, revoked 2026-04-04T09:00:00Z)' '$T/st.out' &&
	 grep -qx 'issuing: generation 1: current, revoked by the root: issue and responder refuse under it, publish goes on with its CRLs (CPS 4-14-2)' '$T/st.out'"

# A second state: root 1's key compromised (the compromise ceremony:
# everything root 1 signed revoked cACompromise, the copy under root 1
# among them, by root 2's emergency ARL) is root 1's loss, not the issuing
# CA's: the copy under root 2 keeps the key (docs/ceremony-lifecycle.md
# "rollover").
make_online "$T/second"
rollover 2026-04-03
OLD1=$(serial_of certs/issuing-1.der)
NEW1=$(serial_of certs/issuing-1-root-2.der)
ok "compromise ceremony: root 1 (an older generation)" "$OFF" ceremony run \
	"$HANKO_SRC/ceremony-scripts/compromise.yaml" --state "$S" --clock 2026-04-05T12:00:00Z --confirm-digests \
	"${SH[@]}" "${OPS[@]}"
EN=$(sed -n 's/^arl.last-number = //p' "$S/state.conf")
ok "its emergency ARL $EN, in a bundle signed by root 2" "$OFF" bundle create --state "$S" \
	--clock 2026-04-05T12:30:00Z --type arl-batch --out "$T/second/b-earl" "${SH[@]}" "$S/certs/arl/arl-$EN.crl"
ok "import it" "$ON" import --state "$O" --clock 2026-04-05T13:00:00Z "$T/second/b-earl"
check "... ARL $EN lists the copy under root 1 (CA Compromise), not the copy under root 2" sh -c \
	"openssl crl -inform DER -in '$S/certs/arl/arl-$EN.crl' -noout -text | grep -A4 -i 'Serial Number: $OLD1' |
	   grep -q 'CA Compromise' &&
	 ! openssl crl -inform DER -in '$S/certs/arl/arl-$EN.crl' -noout -text | grep -qi 'Serial Number: $NEW1'"
req_dir "$T/r0" 2
ok "issue goes on under issuing CA 1 (its copy under root 2)" "$ON" issue --state "$O" \
	--clock 2026-04-05T14:00:00Z --batch "$T/r0/batch.csv" --out "$T/r0/out"
finish

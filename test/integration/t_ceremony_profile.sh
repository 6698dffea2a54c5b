#!/usr/bin/env bash
# t_ceremony_profile.sh - a profile edited after init is noticed on the
# offline CA (CPS 7-1, 7-2; 8-1, 8-3, 6-6-1; docs/profile.md "A profile
# changed after init"; ceremony-scripts/profile-accept.yaml): init records
# the profile's SHA-256; one value changed in <state>/profile.yaml makes a
# ceremony refuse, real or rehearsed, with one line naming both digests,
# the date it was accepted and the ceremony that accepts it (exit 3),
# nothing changed in the state folder; the profile-accept ceremony (CA
# manager and auditor, the change request's SHA-256) shows the change,
# logs it and puts it in force; the ceremony then signs with it and the
# audit log verifies. A state made before the record (no profile.sha256)
# goes on with the profile init was given (recorded once, audited) and
# refuses any other.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
fresh_tmp
T=$HANKO_TMP
export HK_PASS_hayashi='Kurokawa lanterns 21 autumn'
make_ca "$T/ca"
S=$T/ca/state
approve_roster "$S" watanabe ito kimura hayashi
mapfile -t SH < <(share_args "$T/ca" 2 4 5)
ACCEPT=$HANKO_SRC/ceremony-scripts/profile-accept.yaml
AOPS=(--operator kimura=env:HK_PASS_kimura --operator hayashi=env:HK_PASS_hayashi)
conf() { sed -n "s/^$1 = //p" "$S/state.conf"; }
# every file of the state folder with its SHA-256 (the lock files aside)
snap() { (cd "$S" && find . -type f ! -name '*.lock' | LC_ALL=C sort |
	xargs -d '\n' sha256sum) >"$1"; }
WHY="the profile-accept ceremony \(hanko-offline ceremony run ceremony-scripts/profile-accept.yaml\)"

H0=$(sha256sum <"$S/profile.yaml" | cut -c1-64)
check "init: state.conf records the profile's SHA-256" test "$(conf profile.sha256)" = "$H0"
check "... accepted at init's time, by init" test "$(conf profile.accepted-at) $(conf profile.accepted-by)" = \
	"2026-04-01T00:00:00Z init"
check "... and keeps a copy of it" cmp -s "$S/profile.yaml" "$S/profile.accepted.yaml"
ok "init-root with the profile accepted" "$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/init-root.yaml" \
	--state "$S" --clock 2026-04-01T10:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
csr 2048 "/C=JP/O=JPKI/OU=Kumamoto-ken/OU=Issuing CA 1/OU=TEST" "$T/iss1.csr"

# One value changed: the issuing CA certified for 4 years, not 5.
cp "$S/profile.yaml" "$T/profile.orig"
sed -i '/^issuing-ca:/,/^$/s/validity-years: 5 /validity-years: 4 /' "$S/profile.yaml"
H1=$(sha256sum <"$S/profile.yaml" | cut -c1-64)
check "the edit changed the file" test "$H1" != "$H0"
snap "$T/before"
fails "issue-subca refuses the changed profile" 3 \
	"^hanko-offline ceremony: $S/profile.yaml: changed since it was accepted on 2026-04-01T00:00:00Z by init \(SHA-256 now $H1, accepted $H0\); nothing done: put back the profile accepted \($S/profile.accepted.yaml holds it\) or accept the change with $WHY$" \
	issue_subca "$T/iss1.csr" "$T/iss1.csr.sha256"
fails "... also as a rehearsal, before the copy is made" 3 "^hanko-offline ceremony: $S/profile.yaml: changed since it was accepted" \
	"$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/issue-subca.yaml" --state "$S" --rehearsal \
	--clock "$CLOCK" --confirm-digests --input "issuing-csr=$T/iss1.csr" \
	--input "issuing-csr-sha256=$T/iss1.csr.sha256" "${SH[@]}" "${OPS[@]}"
snap "$T/after"
check "the state folder is unchanged by the refusals but for the ceremony.refused record of the real run" bash -c \
	"diff <(grep -v ' ./audit/' '$T/before') <(grep -v ' ./audit/' '$T/after') &&
	test \"\$(tail -n 1 '$S/audit/audit.log' | cut -f3-5)\" = 'ceremony.refused	fail	-' &&
	test \$(grep -c '	ceremony.refused	' '$S/audit/audit.log') = 1"
check "... no rehearsal copy left" bash -c "! ls -d '$S'.rehearsal-* 2>/dev/null"

# profile-accept: its own ceremony, nothing beside it.
ok "ceremony check accepts profile-accept.yaml" "$OFF" ceremony check "$ACCEPT"
{ cat "$ACCEPT"; printf '  - id: check\n    action: input-check\n    roles: [ca-manager]\n    params:\n      input: new-profile\n'; } >"$T/bad.yaml"
fails "ceremony check refuses a step after it" 3 \
	"steps\[2\]: input-check in a script with profile-accept \(step accept\): a change of the profile is a ceremony of its own" \
	"$OFF" ceremony check "$T/bad.yaml"
# an approve after it too: one that fails (a record the log cannot take)
# would fail the ceremony with the new profile already in force
{ cat "$ACCEPT"; printf '  - id: again\n    action: approve\n    roles: [ca-manager]\n'; } >"$T/bad2.yaml"
fails "ceremony check refuses an approve after it" 3 \
	"steps\[2\]: approve in a script with profile-accept \(step accept\): a change of the profile is a ceremony of its own, approve and input-check before it, nothing after it" \
	"$OFF" ceremony check "$T/bad2.yaml"
cp "$S/profile.yaml" "$T/new-profile.yaml"
echo "$H0" >"$T/wrong.sha256"
echo "$H1" >"$T/new-profile.sha256"
IN=(--input "new-profile=$T/new-profile.yaml")
fails "a new profile not matching the change request's SHA-256" 3 \
	"new-profile: SHA-256 $H1 is not $H0, the one on the change request \(input new-profile-sha256\)" \
	"$OFF" ceremony run "$ACCEPT" --state "$S" --clock 2026-04-01T11:00:00Z --confirm-digests "${IN[@]}" \
	--input "new-profile-sha256=$T/wrong.sha256" "${AOPS[@]}"
check "... profile.sha256 unchanged" test "$(conf profile.sha256)" = "$H0"
IN+=(--input "new-profile-sha256=$T/new-profile.sha256")
ok "profile-accept rehearsed" "$OFF" ceremony run "$ACCEPT" --state "$S" --rehearsal --clock 2026-04-01T11:00:00Z \
	--confirm-digests "${IN[@]}" "${AOPS[@]}"
check "... the state's profile record unchanged" test "$(conf profile.sha256)" = "$H0"
# state.conf that cannot be saved (a full medium, through an LD_PRELOAD
# shim): profile.yaml goes back to what it was, so the CA is not left with
# a profile.yaml that every command refuses. (The edit is put back first,
# so "as it was" is not the new profile.)
cp "$T/profile.orig" "$S/profile.yaml"
cc -shared -fPIC -o "$T/failrenameto.so" "$HANKO_SRC/test/data/profile/failrenameto.c" -ldl
fails "profile-accept whose state.conf cannot be saved fails, named" 8 \
	"$S/profile.yaml: state.conf not saved \(.*No space left on device\); profile.yaml is as it was, the profile accepted unchanged" \
	env HK_FAIL_RENAME_TO=state.conf LD_PRELOAD="$T/failrenameto.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$OFF" ceremony run "$ACCEPT" --state "$S" --clock 2026-04-01T11:00:00Z \
	--confirm-digests "${IN[@]}" "${AOPS[@]}"
check "... profile.yaml is as it was" cmp -s "$T/profile.orig" "$S/profile.yaml"
check "... and is still the profile state.conf names" test \
	"$(sha256sum <"$S/profile.yaml" | cut -c1-64) $(conf profile.sha256)" = "$H0 $H0"
ok "profile-accept for real" "$OFF" ceremony run "$ACCEPT" --state "$S" --clock 2026-04-01T11:00:00Z \
	--confirm-digests "${IN[@]}" "${AOPS[@]}"
check "... shows the change" grep -q "changed: issuing-ca.validity-years: 5 -> 4" "$HANKO_TMP/out"
check "... state.conf records the new digest, when and by the CA manager" test \
	"$(conf profile.sha256) $(conf profile.accepted-at) $(conf profile.accepted-by)" = \
	"$H1 2026-04-01T11:00:00Z kimura"
check "... the profile accepted before is retired" cmp -s "$T/profile.orig" "$S/profile.yaml.${H0:0:8}.retired"
check "... profile.yaml and the copy are the new profile" bash -c \
	"cmp -s '$T/new-profile.yaml' '$S/profile.yaml' && cmp -s '$T/new-profile.yaml' '$S/profile.accepted.yaml'"
check "... the audit log has profile.accept by kimura with both digests and the change" grep -q \
	"	profile.accept	ok	kimura	$T/new-profile.yaml SHA-256 $H1 accepted, replacing SHA-256 $H0 (accepted on 2026-04-01T00:00:00Z by init), by the profile-accept ceremony; changed: issuing-ca.validity-years: 5 -> 4	" \
	"$S/audit/audit.log"
fails "the same profile again: nothing to change" 3 "new-profile: the profile accepted .*nothing to change" \
	"$OFF" ceremony run "$ACCEPT" --state "$S" --clock 2026-04-01T11:30:00Z --confirm-digests "${IN[@]}" "${AOPS[@]}"

ok "issue-subca works again" issue_subca "$T/iss1.csr" "$T/iss1.csr.sha256"
check "... with the profile accepted: certified for 4 years" bash -c \
	"openssl x509 -inform DER -in '$S/certs/issuing-1.der' -noout -enddate | grep -q ' 2030 GMT'"
ok "the audit log verifies" "$OFF" audit verify --state "$S"

# A state made before the record: no profile.sha256 in state.conf.
sed -i '/^profile\./d' "$S/state.conf"
rm -f "$S/profile.accepted.yaml"
csr 2048 "/C=JP/O=JPKI/OU=Kumamoto-ken/OU=Issuing CA 2/OU=TEST" "$T/iss2.csr"
snap "$T/before2"
fails "an old state whose profile is not init's is refused" 3 \
	"^hanko-offline ceremony: $S/profile.yaml: changed since it was accepted on 2026-04-01T00:00:00Z by init \(SHA-256 now $H1, accepted $H0, the one the audit log's init.start record names; state.conf has no profile.sha256: a state made before hanko recorded one\); nothing done: put back the profile init was given or accept the change with $WHY$" \
	issue_subca "$T/iss2.csr" "$T/iss2.csr.sha256"
snap "$T/after2"
check "... nothing changed but the ceremony.refused record" bash -c \
	"diff <(grep -v ' ./audit/' '$T/before2') <(grep -v ' ./audit/' '$T/after2') &&
	tail -n 1 '$S/audit/audit.log' | grep -q '	ceremony.refused	fail	-	issue-subca: $S/profile.yaml: changed since'"
cp "$T/profile.orig" "$S/profile.yaml"
ok "an old state with init's profile goes on (a rehearsal)" "$OFF" ceremony run \
	"$HANKO_SRC/ceremony-scripts/issue-subca.yaml" --state "$S" --rehearsal --clock "$CLOCK" \
	--confirm-digests --input "issuing-csr=$T/iss2.csr" --input "issuing-csr-sha256=$T/iss2.csr.sha256" \
	"${SH[@]}" "${OPS[@]}"
check "... the profile init was given is recorded, as accepted by init at init" test \
	"$(conf profile.sha256) $(conf profile.accepted-at) $(conf profile.accepted-by)" = \
	"$H0 2026-04-01T00:00:00Z init"
check "... audited once (profile.adopt)" test "$(grep -c '	profile.adopt	ok	' "$S/audit/audit.log")" = 1
ok "the audit log verifies" "$OFF" audit verify --state "$S"
finish

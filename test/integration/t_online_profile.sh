#!/usr/bin/env bash
# t_online_profile.sh - a profile edited after init is noticed (CPS 7-1,
# 7-2: certificates and CRLs follow the profile; 8-1, 8-3, 6-6-1: a change
# of practice is decided and approved, never made silently; docs/profile.md
# "A profile changed after init"): init records the profile's SHA-256 in
# state.conf; one value changed in <state>/profile.yaml makes issue and
# publish refuse with one line naming both digests, the date it was
# accepted and the command that accepts it (exit 3), nothing changed in
# the state folder; "profile accept" shows the change, logs it and records
# the new digest; issue and publish then sign with it, and the audit log
# verifies. A state made before the record (no profile.sha256) goes on
# working with the profile init was given (recorded once, audited) and
# refuses any other.
. "$(dirname "$0")/online.sh"
P=$T/repo
B=$T/req
req_dir "$B" 2
ACC="hanko-online profile accept --state $O"
# every file of the state folder with its SHA-256 (the lock files aside)
# store.db-wal and -shm: SQLite's own files, made by the store id's
# read-only peek (docs/store.md), not a change of the state
snap() { (cd "$O" && find . -type f ! -name '*.lock' ! -name 'store.db-wal' ! -name 'store.db-shm' | LC_ALL=C sort |
	xargs -d '\n' sha256sum) >"$1"; }
# publish: 9 is success with a warning (no ARL imported in this test)
pub_ok() { local rc=0; "$ON" publish --state "$O" --repo "$P" "$@" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 9 ]; }
conf() { sed -n "s/^$1 = //p" "$O/state.conf"; }

H0=$(sha256sum <"$O/profile.yaml" | cut -c1-64)
check "init: state.conf records the profile's SHA-256" test "$(conf profile.sha256)" = "$H0"
check "... accepted at init's time, by init" test "$(conf profile.accepted-at) $(conf profile.accepted-by)" = \
	"2026-04-02T00:00:00Z init"
check "... and keeps a copy of it" cmp -s "$O/profile.yaml" "$O/profile.accepted.yaml"

# One value changed: residents' certificates valid 2 years, not 3.
sed -i '/^user:/,/^$/s/validity-years: 3/validity-years: 2/' "$O/profile.yaml"
H1=$(sha256sum <"$O/profile.yaml" | cut -c1-64)
check "the edit changed the file" test "$H1" != "$H0"
snap "$T/before"
fails "issue refuses the changed profile" 3 \
	"^hanko-online issue: $O/profile.yaml: changed since it was accepted on 2026-04-02T00:00:00Z by init \(SHA-256 now $H1, accepted $H0\); nothing done: put back the profile accepted \($O/profile.accepted.yaml holds it\) or accept the change with $ACC$" \
	"$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/out1"
check "... nothing issued (no output folder)" test ! -e "$T/out1"
fails "publish refuses it" 3 "^hanko-online publish: $O/profile.yaml: changed since it was accepted .*\(SHA-256 now $H1, accepted $H0\)" \
	"$ON" publish --state "$O" --repo "$P" "${IC[@]}"
check "... nothing published" test ! -e "$P"
fails "request --type csr refuses it" 3 "^hanko-online request: $O/profile.yaml: changed since it was accepted" \
	"$ON" request --state "$O" "${IC[@]}" --type csr --out "$T/r-csr"
check "... no bundle" test ! -e "$T/r-csr"
snap "$T/after"
check "the state folder is unchanged by the refusals (store, state.conf, audit log)" \
	cmp -s "$T/before" "$T/after"
fails "responder refuses it" 3 "^hanko-online responder: $O/profile.yaml: changed since it was accepted" \
	"$ON" responder --state "$O" "${IC[@]}"
snap "$T/after1"
check "... it changed nothing but its cert.issue fail record (as every failure of responder)" bash -c \
	"diff <(grep -v ' ./audit/' '$T/before') <(grep -v ' ./audit/' '$T/after1') &&
	tail -n 2 '$O/audit/audit.log' | grep -q '	cert.issue	fail	op1@ca-online	OCSP responder 1: $O/profile.yaml: changed since'"
snap "$T/before"

ok "profile show" "$ON" profile show --state "$O"
check "... says it changed and what" bash -c "grep -q 'CHANGED since accepted' '$HANKO_TMP/out' &&
	grep -q 'user.validity-years: 3 -> 2' '$HANKO_TMP/out'"
fails "accept with the digest of another change reviewed" 3 \
	"^hanko-online profile: $O/profile.yaml: SHA-256 $H1 is not $H0, the one given with --sha256 \(the change reviewed\); nothing accepted$" \
	"$ON" profile accept --state "$O" --sha256 "$H0"
snap "$T/after2"
check "... nothing changed" cmp -s "$T/before" "$T/after2"
ok "profile accept" "$ON" profile accept --state "$O" --clock 2026-04-02T11:30:00Z --sha256 "$H1"
check "... shows the change" grep -q "user.validity-years: 3 -> 2" "$HANKO_TMP/out"
check "... state.conf records the new digest, when and how" test \
	"$(conf profile.sha256) $(conf profile.accepted-at) $(conf profile.accepted-by)" = \
	"$H1 2026-04-02T11:30:00Z profile accept"
check "... the copy is the new profile" cmp -s "$O/profile.yaml" "$O/profile.accepted.yaml"
check "... the profile it replaces is kept, read-only, named by its digest (CPS 4-12)" bash -c \
	"[ \"\$(sha256sum < '$O/profile.yaml.${H0:0:8}.retired' | cut -c1-64)\" = '$H0' ] &&
	 [ \"\$(stat -c %a '$O/profile.yaml.${H0:0:8}.retired')\" = 444 ] &&
	 grep -q 'the one it replaces kept as profile.yaml.${H0:0:8}.retired' '$HANKO_TMP/out'"
check "... the audit log has profile.accept with both digests and the change" grep -q \
	"	profile.accept	ok	op1@ca-online	$O/profile.yaml SHA-256 $H1 accepted, replacing SHA-256 $H0 (accepted on 2026-04-02T00:00:00Z by init); changed: user.validity-years: 3 -> 2	" \
	"$O/audit/audit.log"
ok "accept again: nothing to do" "$ON" profile accept --state "$O"
check "... says so" grep -q "is already the profile accepted" "$HANKO_TMP/out"
check "... one profile.accept record only" test "$(grep -c '	profile.accept	' "$O/audit/audit.log")" = 1

ok "issue works again" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/out2"
certs_from "$T/out2"
C1=$(ls "$T"/out2/certs/*.der | head -1)
check "... with the profile accepted: valid 2 years" bash -c \
	"openssl x509 -inform DER -in '$C1' -noout -enddate | grep -q ' 2028 GMT'"
check "publish works again" pub_ok "${IC[@]}"
ok "the audit log verifies" "$OFF" audit verify --state "$O"

# A state made before the record: no profile.sha256 in state.conf.
sed -i '/^profile\./d' "$O/state.conf"
rm -f "$O/profile.accepted.yaml"
snap "$T/before3"
fails "an old state whose profile is not init's is refused" 3 \
	"^hanko-online publish: $O/profile.yaml: changed since it was accepted on 2026-04-02T00:00:00Z by init \(SHA-256 now $H1, accepted $H0, the one the audit log's init.start record names; state.conf has no profile.sha256: a state made before hanko recorded one\); nothing done: put back the profile init was given or accept the change with $ACC$" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T12:00:00Z
snap "$T/after3"
check "... nothing changed" cmp -s "$T/before3" "$T/after3"
cp "$PROFILE" "$O/profile.yaml"
check "an old state with init's profile goes on working" pub_ok --clock 2026-04-03T12:00:00Z
check "... the profile init was given is recorded, as accepted by init at init" test \
	"$(conf profile.sha256) $(conf profile.accepted-at) $(conf profile.accepted-by)" = \
	"$H0 2026-04-02T00:00:00Z init"
check "... audited once (profile.adopt)" test "$(grep -c '	profile.adopt	ok	' "$O/audit/audit.log")" = 1
check "a later run records nothing more" pub_ok --clock 2026-04-04T12:00:00Z
check "... still one profile.adopt record" test "$(grep -c '	profile.adopt	' "$O/audit/audit.log")" = 1
ok "the audit log verifies" "$OFF" audit verify --state "$O"
finish

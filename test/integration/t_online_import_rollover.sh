#!/usr/bin/env bash
# t_online_import_rollover.sh - hanko-online import across a root rollover
# (media-format/SPEC.md 6.2, 8; docs/air-gap.md "After a rollover"): the
# rollover ceremony in 2031, its root-generation bundle signed by
# generation 1; then bundles of the two root generations that carry the
# same sequence number (sequences are per signer key: an offline state
# whose counter went back, restored from a copy, does this) each keep
# their own archived copy: the second never removes the first's. After
# root 1 and its NewWithOld link end (2036), bundles signed by generation
# 2 still import (and verify offline); generation 1's are refused. Before
# that, root 1's key compromised (CPS 4-14-2): once its emergency ARL is
# imported, a bundle root 1 signed is refused for its signer.
. "$(dirname "$0")/online.sh"
keyid() { openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | sed -n 2p | tr -d ' :\n' | tr 'A-F' 'a-f'; }
msha() { sha256sum <"$1/manifest" | cut -c1-64; }

ok "arl-batch ceremony (generation 1)" "$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/arl-batch.yaml" \
	--state "$S" --clock 2026-04-02T11:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
ok "rollover ceremony in 2031: root generation 2" "$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/rollover.yaml" \
	--state "$S" --clock 2031-04-01T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
K1=$(keyid "$S/certs/root-1.pem") K2=$(keyid "$S/certs/root-2.pem")
ok "bundle: root-generation 2, signed by generation 1" "$OFF" bundle create --state "$S" \
	--clock 2031-04-01T10:00:00Z --generation 1 --type root-generation --out "$T/b-root2" "${SH[@]}" \
	"$S/certs/root-2.der" "$S/certs/link-2-new-with-old.der" "$S/certs/link-2-old-with-new.der"
ok "import it" "$ON" import --state "$O" --clock 2031-04-01T11:00:00Z "$T/b-root2"
check "... root generation 2 and both links stored" test \
	"$(db "SELECT group_concat(k, ' ') FROM (SELECT kind || generation AS k FROM ca_certs WHERE kind IN ('root', 'link') ORDER BY k)")" = \
	"link0 link0 root1 root2"

# Two signers, one sequence number.
ok "bundle: ARLs 1-2 signed by generation 1" "$OFF" bundle create --state "$S" --clock 2031-04-02T10:00:00Z \
	--generation 1 --type arl-batch --out "$T/b-arl-g1" "${SH[@]}" "$S"/certs/arl/arl-{1,2}.crl
SEQ=$(sed -n 's/^sequence //p' "$T/b-arl-g1/manifest")
ok "import it" "$ON" import --state "$O" --clock 2031-04-02T11:00:00Z "$T/b-arl-g1"
G1=$O/bundles/$(printf '%018d' "$SEQ")-arl-batch-$K1
check "... archived in bundles/<sequence>-<type>-<signer key id>" test "$(msha "$G1")" = "$(msha "$T/b-arl-g1")"
sed -i "s/^bundle.sequence = .*/bundle.sequence = $((SEQ - 1))/" "$S/state.conf"
ok "bundle: ARLs 3-4 signed by generation 2, the same sequence (the offline counter went back)" \
	"$OFF" bundle create --state "$S" --clock 2031-04-02T12:00:00Z --type arl-batch --out "$T/b-arl-g2" \
	"${SH[@]}" "$S"/certs/arl/arl-{3,4}.crl
check "... sequence $SEQ, another signer" test \
	"$(sed -n 's/^sequence //p' "$T/b-arl-g2/manifest") $(sed -n 's/^signer //p' "$T/b-arl-g2/manifest")" = "$SEQ $K2"
ok "import it: sequences are per signer" "$ON" import --state "$O" --clock 2031-04-02T13:00:00Z "$T/b-arl-g2"
G2=$O/bundles/$(printf '%018d' "$SEQ")-arl-batch-$K2
check "generation 1's archived copy is still there, the one the store records" bash -c \
	"[ \"\$(sha256sum <'$G1/manifest' | cut -c1-64)\" = '$(msha "$T/b-arl-g1")' ] &&
	 [ \"\$(sqlite3 '$O/store.db' \"SELECT manifest_sha256 FROM bundles WHERE signer = '$K1' AND sequence = $SEQ\")\" = '$(msha "$T/b-arl-g1")' ] &&
	 cmp -s '$G1/arl-1.crl' '$S/certs/arl/arl-1.crl' && cmp -s '$G1/arl-2.crl' '$S/certs/arl/arl-2.crl'"
check "generation 2's copy in its own folder, the one the store records" bash -c \
	"[ \"\$(sha256sum <'$G2/manifest' | cut -c1-64)\" = '$(msha "$T/b-arl-g2")' ] &&
	 [ \"\$(sqlite3 '$O/store.db' \"SELECT manifest_sha256 FROM bundles WHERE signer = '$K2' AND sequence = $SEQ\")\" = '$(msha "$T/b-arl-g2")' ]"
check "no recovery removed anything" bash -c "! grep -q '	bundle.recover	' '$O/audit/audit.log'"
check "ARLs 1-4 stored" test "$(db "SELECT group_concat(number, ' ') FROM (SELECT number FROM arls ORDER BY number)")" = "1 2 3 4"

# Root 1's key compromised (the compromise ceremony, CPS 4-14-2) and its
# emergency ARL (signed by root 2, revoking OldWithNew keyCompromise)
# imported: a bundle root 1 signed before, held back (as whoever holds its
# key could sign one now), is refused for its signer, as the offline reader
# refuses it (t_ceremony_compromise); before, its signature was accepted
# and only its payload's own rules were left to stop it.
ok "bundle signed by generation 1, held back" "$OFF" bundle create --state "$S" --clock 2031-04-02T14:00:00Z \
	--generation 1 --type arl-batch --out "$T/b-held" "${SH[@]}" "$S/certs/arl/arl-5.crl"
ok "compromise ceremony: root 1" "$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/compromise.yaml" --state "$S" \
	--clock 2031-04-03T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
EN=$(sed -n 's/^arl.last-number = //p' "$S/state.conf")
OWN=$(serial_of certs/link-2-old-with-new.der)
ok "its emergency ARL $EN, in a bundle signed by generation 2" "$OFF" bundle create --state "$S" \
	--clock 2031-04-03T10:00:00Z --type arl-batch --out "$T/b-earl" "${SH[@]}" "$S/certs/arl/arl-$EN.crl"
ok "import it" "$ON" import --state "$O" --clock 2031-04-03T11:00:00Z "$T/b-earl"
fails "the held-back bundle of root 1 is refused: its key is compromised" 1 \
	"b-held/manifest.sig: signer: SPEC 6.2, CPS 4-14-2: this root key is compromised: ARL $EN revokes the link certificate $OWN that certifies it \\(keyCompromise\\); nothing it signs is imported" \
	"$ON" import --state "$O" --clock 2031-04-03T11:10:00Z "$T/b-held"
HS=$(sed -n 's/^sequence //p' "$T/b-held/manifest")
check "... nothing stored, no copy kept" bash -c "[ \"\$(sqlite3 '$O/store.db' 'SELECT count(*) FROM arls WHERE number = 5')\" = 0 ] && \
	[ ! -e '$O/bundles/$(printf '%018d' "$HS")-arl-batch-$K1' ]"
# The same key declared by hand too (hanko-online trust --compromised, CPS
# 4-14-2): generation 2, the rollover in force, stays trusted, and the
# operators are shown it to compare with the offline records (one the
# lost key brought in before the declaration would be the thief's).
sha() { openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-64; }
ok "trust --compromised 1: root 1 declared by hand as well" "$ON" trust --state "$O" \
	--clock 2031-04-03T11:20:00Z --compromised 1 --fingerprint "$(sha "$S/certs/root-1.pem")" --yes-distrust
check "... a note names generation 2, stored after it, with its SHA-256 and the command that would declare it" grep -q \
	"^note: root generation 2 (SHA-256 $(sha "$S/certs/root-2.pem")) was stored after generation 1 and is still trusted: if the offline CA's records show no rollover to it, it came in signed by the lost key; declare it too: hanko-online trust --compromised 2 --fingerprint $(sha "$S/certs/root-2.pem") --yes-distrust\$" \
	"$T/out"

# Root generation 1 and its NewWithOld link end on 2036-04-01 (PROFILE.md:
# the link ends with the old root). Generation 2's bundles go on importing:
# the pinned root and the link are the path by which generation 2's key
# became trusted, not certificates that must stay valid; generation 2's own
# certificate must.
END1=$(date -u -d "$(openssl x509 -in "$S/certs/root-1.pem" -noout -enddate | cut -d= -f2)" +%FT%TZ)
check "root 1 and NewWithOld(2 by 1) end on 2036-04-01 ($END1)" bash -c \
	"[ '$END1' = 2036-04-01T09:59:59Z ] && [ \"\$(openssl x509 -in '$S/certs/link-2-new-with-old.pem' -noout -enddate)\" = \"\$(openssl x509 -in '$S/certs/root-1.pem' -noout -enddate)\" ]"
ok "bundle: issuing CA 1 under root 2, signed by generation 2 (2036-03-31)" "$OFF" bundle create --state "$S" \
	--clock 2036-03-31T10:00:00Z --type issuing-ca-cert --out "$T/b-iss-r2" "${SH[@]}" "$S/certs/issuing-1-root-2.der"
# (the rollover re-certified issuing CA 1 with its own notAfter, 2031: by
# now it has expired, and an expired issuing CA certificate is refused
# after the bundle's signature was accepted)
fails "import it on 2036-03-31: its signer accepted, the expired issuing CA refused" 3 \
	"issuing-1-root-2.der: validity: the issuing CA certificate \(generation 1\) has expired; nothing imported" \
	"$ON" import --state "$O" --clock 2036-03-31T11:00:00Z "$T/b-iss-r2"
ok "arl-batch ceremony on 2036-04-02 (signed by generation 2)" "$OFF" ceremony run \
	"$HANKO_SRC/ceremony-scripts/arl-batch.yaml" --state "$S" --clock 2036-04-02T09:00:00Z --confirm-digests \
	"${SH[@]}" "${OPS[@]}"
LATE=$S/certs/arl/$(ls "$S/certs/arl" | grep "^arl-[0-9]*\.crl$" | sort -t- -k2 -n | tail -1)
ok "bundle: its newest ARL, signed by generation 2 (2036-04-02)" "$OFF" bundle create --state "$S" \
	--clock 2036-04-02T10:00:00Z --type arl-batch --out "$T/b-arl-late" "${SH[@]}" "$LATE"
ok "offline bundle verify of it on 2036-04-02: root 1 and the link ended, generation 2 valid" \
	"$OFF" bundle verify --state "$S" --clock 2036-04-02T10:30:00Z "$T/b-arl-late"
ok "import it on 2036-04-02, after root 1 and the link ended" "$ON" import --state "$O" \
	--clock 2036-04-02T11:00:00Z "$T/b-arl-late"
check "... the ARL is stored" test "$(db "SELECT hex(der) FROM arls ORDER BY number DESC LIMIT 1")" = \
	"$(openssl crl -in "$LATE" -inform DER -outform DER 2>/dev/null | xxd -p -u | tr -d '\n')"
rm -rf "$T/b-arl-g1-late"
cp -r "$T/b-arl-g1" "$T/b-arl-g1-late"
fails "a generation-1-signed bundle after root 1 ended is refused: its signer is not valid" 1 \
	"b-arl-g1-late/manifest.sig: SPEC 6.2: the signer certificate is not valid now" \
	"$ON" import --state "$O" --clock 2036-04-02T12:00:00Z "$T/b-arl-g1-late"
fails "... offline too" 1 "b-arl-g1-late/manifest.sig: SPEC 6.2: the signer certificate is not valid now" \
	"$OFF" bundle verify --state "$S" --clock 2036-04-02T12:00:00Z "$T/b-arl-g1-late"
fails "a link certificate is stored only while valid (OldWithNew after root 1 ended)" 3 \
	"link-2-old-with-new.der: validity: SPEC 6.2: a root generation or link certificate is accepted only while valid" \
	bash -c "'$OFF' bundle create --state '$S' --clock 2036-04-02T13:00:00Z --type link-certs --out '$T/b-link-late' \
	$(printf '%q ' "${SH[@]}") '$S/certs/link-2-old-with-new.der' >/dev/null &&
	'$ON' import --state '$O' --clock 2036-04-02T13:30:00Z '$T/b-link-late'"
ok "the audit log verifies" "$OFF" audit verify --state "$O"
finish

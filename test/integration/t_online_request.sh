#!/usr/bin/env bash
# t_online_request.sh - the other direction (issue 4 item 4,
# media-format/SPEC.md section 13): "hanko-online request" makes the next
# issuing key's CSR and revocation requests as bundles signed by the current
# issuing key; "hanko-offline bundle verify/import" accept them only from
# the CA's current, unrevoked issuing CA certificate under its root, refuse
# replays, forged signers and bad contents; the CSR that arrived this way
# feeds the issue-subca ceremony, the revocation request the revoke
# ceremony, and the new issuing CA signs the next request.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
fresh_tmp
T=$HANKO_TMP
ON=$HANKO_ONLINE
O=$T/online
C=(--clock 2026-04-02T10:00:00Z)
C2=(--clock 2026-04-03T10:00:00Z)

# Set-up as in t_online_import.sh: root, online init, issue-subca on the
# first CSR (its SHA-256 read aloud), the certificate carried back as a
# root-signed bundle, the root pinned by its fingerprint. The trust and the
# import at C, the clock of the requests after them (the clock guard,
# docs/clock.md: the test's time goes forward).
make_rooted_ca "$T/ca"
ok "online init" "$ON" init --state "$O" --profile "$PROFILE" --rehearsal --clock 2026-04-02T00:00:00Z
fails "no request before any issuing certificate: the first CSR is not a bundle" 3 \
	"no issuing CA certificate imported yet.*fingerprint" "$ON" request --state "$O" "${C[@]}" --type csr --out "$T/r0"
check "... nothing written" test ! -e "$T/r0"
ok "issue-subca on the first CSR, by its fingerprint" \
	issue_subca "$O/certs/issuing-1.csr.pem" "$O/certs/issuing-1.csr.sha256"
ok "bundle: the issuing CA certificate" "$OFF" bundle create --state "$S" "${C[@]}" --type issuing-ca-cert \
	--out "$T/b-iss" "${SH[@]}" "$S/certs/issuing-1.der"
ok "trust the root" "$ON" trust --state "$O" "${C[@]}" \
	--fingerprint "$(openssl x509 -in "$R" -outform DER | sha256sum | cut -c1-64)" "$R"
ok "import the issuing CA certificate" "$ON" import --state "$O" "${C[@]}" "$T/b-iss"
SER1=$(awk -F'\t' '$2 == "issuing" { print $1 }' "$S/issued.txt")

# 1. The next generation's CSR, signed by issuing CA 1.
ok "request --type csr" "$ON" request --state "$O" "${C[@]}" --type csr --out "$T/r-csr"
check "the bundle: the DER request, its SHA-256, manifest, manifest.sig" test \
	"$(ls "$T/r-csr" | tr '\n' ' ')" = "issuing-2.csr.der issuing-2.csr.sha256 manifest manifest.sig "
check "type csr, sequence 1" bash -c "grep -qx 'type csr' '$T/r-csr/manifest' && grep -qx 'sequence 1' '$T/r-csr/manifest'"
check "online state: generation 2 requested, its key in the token, signer sequence 1" bash -c \
	"grep -qx 'issuing.generation = 2' '$O/state.conf' && grep -q '^issuing.2.key-uri = ' '$O/state.conf' && grep -qx 'issuing.1.bundle-sequence = 1' '$O/state.conf'"
check "the request names Issuing CA 2 and verifies" bash -c \
	"openssl req -inform DER -in '$T/r-csr/issuing-2.csr.der' -noout -verify -subject 2>&1 | grep -q 'Issuing CA 2'"
ok "stock openssl cms -verify checks it against the root (SPEC 10)" bash -c "cd '$T/r-csr' && openssl cms -verify -binary \
	-inform DER -in manifest.sig -content manifest -CAfile '$R' -purpose any -attime $(date -u -d 2026-04-02T10:00:00Z +%s) -out /dev/null"
check "the signer in manifest.sig is issuing CA 1" bash -c "openssl cms -verify -noverify -binary -inform DER -in '$T/r-csr/manifest.sig' \
	-content '$T/r-csr/manifest' -certsout '$T/signer.pem' -out /dev/null 2>/dev/null && cmp -s '$T/signer.pem' '$S/certs/issuing-1.pem'"
check "audited, with a checkpoint" bash -c "grep -q 'bundle.create	ok' '$O/audit/audit.log' && grep -q 'csr.make	ok.*issuing-2' '$O/audit/audit.log'"
# (with --log and the state's key: the same check, signatures too, without
# the log.verify record --state appends at the real clock, ahead of the
# requests below; the end of the test verifies with --state)
ok "the online audit log verifies" "$OFF" audit verify --log "$O/audit/audit.log" --key "$O/audit/audit-key.pem"
check "... its checkpoints' signatures verified" grep -q "(signatures verified)" "$HANKO_TMP/out"

ok "offline bundle verify" "$OFF" bundle verify --state "$S" "${C[@]}" "$T/r-csr"
check "... names the signer and the ceremony inputs" bash -c "grep -q 'Signed by issuing CA generation 1' '$HANKO_TMP/out' && grep -q 'issuing-csr-sha256=' '$HANKO_TMP/out'"
ok "offline bundle import" "$OFF" bundle import --state "$S" "${C[@]}" --type csr --into "$T/in-csr" "$T/r-csr"
check "the imported copy equals the bundle" diff -r "$T/r-csr" "$T/in-csr"
fails "the same bundle again: replay" 3 "replay or older" \
	"$OFF" bundle import --state "$S" "${C[@]}" --into "$T/in-csr2" "$T/r-csr"
check "... nothing left" test ! -e "$T/in-csr2"

# 2. Signers the root never certified, and changed contents.
mk_forged() {	# DIR KEYFILE CERTFILE: the csr bundle re-signed by another key
	cp -r "$T/r-csr" "$1"
	openssl cms -sign -binary -nosmimecap -md sha256 -outform DER -signer "$3" -inkey "$2" \
		-in "$1/manifest" -out "$1/manifest.sig"
}
ISSDN=$(openssl x509 -in "$S/certs/issuing-1.pem" -noout -subject -nameopt compat | sed 's/^subject=//')
ROOTDN=$(openssl x509 -in "$R" -noout -subject -nameopt compat | sed 's/^subject=//')
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/self.key" -subj "$ISSDN" -utf8 -days 3650 \
	-out "$T/self.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/fake-root.key" -subj "$ROOTDN" -utf8 -days 3650 \
	-addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$T/fake-root.pem" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/fake-iss.key" -subj "$ISSDN" -utf8 -out "$T/fake-iss.csr" 2>/dev/null
openssl x509 -req -in "$T/fake-iss.csr" -CA "$T/fake-root.pem" -CAkey "$T/fake-root.key" -days 3650 \
	-set_serial "0x$SER1" -out "$T/fake-iss.pem" 2>/dev/null
mk_forged "$T/f-self" "$T/self.key" "$T/self.pem"
mk_forged "$T/f-fake" "$T/fake-iss.key" "$T/fake-iss.pem"
# (the forged certificates start today: checked at the real clock)
fails "a self-made issuing key, self-signed with the issuing DN, is refused" 1 "SPEC 6.2: the signer is neither" \
	"$OFF" bundle verify --state "$S" "$T/f-self"
fails "an issuing certificate (same DN, same serial) from a fake root of the same name is refused" 1 \
	"SPEC 6.2: the signer is neither" "$OFF" bundle import --state "$S" --into "$T/in-f" "$T/f-fake"
check "... nothing imported" test ! -e "$T/in-f"

# 3. Revocation requests: reasons 1-5 only, at creation.
SEQ0=$(grep '^issuing.1.bundle-sequence' "$O/state.conf")
for bad in 0 6 unspecified certificate-hold; do
	fails "revocation-request with reason $bad refused at creation" 3 "--reason $bad: CPS 4-4-4-2" \
		"$ON" request --state "$O" "${C[@]}" --type revocation-request --reason "$bad" --out "$T/rr-bad"
done
check "... no bundle, no sequence number spent" bash -c "[ ! -e '$T/rr-bad' ] && grep -qx '$SEQ0' '$O/state.conf'"
fails "a serial that is no issuing certificate of the store" 3 "--serial 0badc0de: not the serial" \
	"$ON" request --state "$O" "${C[@]}" --type revocation-request --reason 1 --serial 0badc0de --out "$T/rr-bad"
# --out in a folder that is not there: refused before anything is made or
# spent (it used to spend the number, then fail to write: exit 8).
fails "revocation-request --out in a missing folder: refused first" 3 \
	"--out $T/no/such/rr: its folder $T/no/such is not a folder that exists; nothing made, no sequence number spent" \
	"$ON" request --state "$O" "${C[@]}" --type revocation-request --reason 1 --serial "$SER1" --out "$T/no/such/rr"
check "... no sequence number spent, nothing audited as made" bash -c \
	"grep -qx '$SEQ0' '$O/state.conf' && ! grep -q 'bundle.create	ok	.*no/such' '$O/audit/audit.log'"
printf 'Token tamper seal found broken at 09:12.\nEscape \033[31m here\n' >"$T/note.txt"
ok "revocation-request (key-compromise) with a note" "$ON" request --state "$O" "${C[@]}" \
	--type revocation-request --reason key-compromise --note "$T/note.txt" --out "$T/r-rev"
check "the document is canonical and names issuing CA 1" bash -c "printf 'hanko-revocation-request 1\nserial %s\ncertificate %s\nreason 1\nrequested 2026-04-02T10:00:00Z\nend\n' \
	'$SER1' \"\$(sha256sum <'$S/certs/issuing-1.der' | cut -c1-64)\" | cmp -s - '$T/r-rev/revocation-request'"
check "sequence 2 of the same signer" grep -qx 'sequence 2' "$T/r-rev/manifest"
ok "offline verify of the revocation request" "$OFF" bundle verify --state "$S" "${C[@]}" "$T/r-rev"
check "... shows serial, reason, time, the note escaped, the revoke ceremony's values" bash -c \
	"grep -q 'Revocation request: serial $SER1 (issuing' '$HANKO_TMP/out' && grep -q 'reason 1 (key-compromise)' '$HANKO_TMP/out' \
	&& grep -q 'requested 2026-04-02T10:00:00Z' '$HANKO_TMP/out' && grep -qF 'Escape \\x1b[31m here' '$HANKO_TMP/out' \
	&& ! grep -q \$'\\033' '$HANKO_TMP/out' && grep -q 'serial: \"$SER1\", reason: key-compromise' '$HANKO_TMP/out'"
ok "offline import of the revocation request" "$OFF" bundle import --state "$S" "${C[@]}" --type revocation-request \
	--into "$T/in-rev" "$T/r-rev"
cp -r "$T/r-rev" "$T/r-rev-x"; sed -i 's/^reason 1$/reason 7/' "$T/r-rev-x/revocation-request"
fails "a changed request document" 3 "revocation-request: SPEC 7" "$OFF" bundle verify --state "$S" "${C[@]}" "$T/r-rev-x"

# 4. Another csr bundle before the certificate comes back: the same
# outstanding request again (new sequence), kept for later.
ok "request --type csr again: the outstanding request of generation 2 is sent again" \
	"$ON" request --state "$O" "${C[@]}" --type csr --out "$T/r-csr3"
check "... the same request, sequence 3" bash -c "cmp -s '$T/r-csr/issuing-2.csr.der' '$T/r-csr3/issuing-2.csr.der' && grep -qx 'sequence 3' '$T/r-csr3/manifest'"
check "... no third key generation" bash -c "! grep -q 'issuing.3' '$O/state.conf'"

# 5. The revoke ceremony on what the request asked; then issuing CA 1's
# bundles are refused.
revoke_yaml "$SER1" key-compromise "$T/revoke.yaml"
ok "revoke ceremony for issuing CA 1 (key-compromise)" "$OFF" ceremony run "$T/revoke.yaml" --state "$S" \
	--clock 2026-04-03T09:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "issued.txt marks it revoked, reason 1" bash -c "grep -q \"^$SER1	issuing	.*	revoked	2026-04-03T09:00:00Z	1	\" '$S/issued.txt'"
fails "a bundle of the revoked issuing CA is refused" 1 "serial $SER1 is revoked in issued.txt" \
	"$OFF" bundle import --state "$S" "${C2[@]}" --into "$T/in-csr3" "$T/r-csr3"
check "... nothing imported" test ! -e "$T/in-csr3"

# 6. The CSR that arrived as a bundle feeds issue-subca (generation 2).
ok "issue-subca on the CSR imported from the bundle" \
	issue_subca "$T/in-csr/issuing-2.csr.der" "$T/in-csr/issuing-2.csr.sha256" "${C2[1]}"
check "issuing.current = 2, its key the one the online token made" bash -c \
	"grep -qx 'issuing.current = 2' '$S/state.conf' && [ \"\$(openssl x509 -in '$S/certs/issuing-2.pem' -noout -pubkey)\" = \"\$(openssl req -inform DER -in '$T/in-csr/issuing-2.csr.der' -noout -pubkey)\" ]"
fails "issuing CA 1's bundles are now refused as not current" 1 "not the CA's current issuing CA certificate \(issuing.current = 2" \
	"$OFF" bundle verify --state "$S" "${C2[@]}" "$T/r-csr3"

# 7. Round trip with generation 2: its certificate back online, then it
# signs (a new signer, its own sequence).
ok "bundle: issuing CA 2's certificate" "$OFF" bundle create --state "$S" "${C2[@]}" --type issuing-ca-cert \
	--out "$T/b-iss2" "${SH[@]}" "$S/certs/issuing-2.der"
# (the import at C2, the clock of the requests after it, as in the set-up)
ok "online import of issuing CA 2" "$ON" import --state "$O" "${C2[@]}" "$T/b-iss2"
SER2=$(awk -F'\t' '$2 == "issuing" && $7 == "valid" { print $1 }' "$S/issued.txt")
ok "request signed by issuing CA 2: revoke it (superseded, as a test)" "$ON" request --state "$O" "${C2[@]}" \
	--type revocation-request --reason 4 --out "$T/r-rev2"
check "... sequence 1 of the new signer" bash -c "grep -qx 'sequence 1' '$T/r-rev2/manifest' && grep -qx 'issuing.2.bundle-sequence = 1' '$O/state.conf'"
ok "offline import of generation 2's request" "$OFF" bundle import --state "$S" "${C2[@]}" --into "$T/in-rev2" "$T/r-rev2"
check "... names issuing CA 2 (serial $SER2), reason 4" bash -c "grep -q 'Signed by issuing CA generation 2' '$HANKO_TMP/out' && grep -q 'serial: \"$SER2\", reason: superseded' '$HANKO_TMP/out'"
ok "request to revoke issuing CA 1 by serial" "$ON" request --state "$O" "${C2[@]}" \
	--type revocation-request --reason 1 --serial "$SER1" --out "$T/r-rev1"
fails "... refused offline: already revoked" 3 "$SER1 is already revoked" \
	"$OFF" bundle verify --state "$S" "${C2[@]}" "$T/r-rev1"
check "every import and refusal is audited offline" bash -c \
	"[ \$(grep -c 'bundle.import	ok.*signed by issuing CA serial' '$S/audit/audit.log') = 3 ] && grep -q 'bundle.verify	fail.*revoked' '$S/audit/audit.log'"

# 8. state.conf's writers one at a time (the state lock): a request that
# read state.conf before another request saved its sequence number takes
# the lock after it (pauseflock.so holds it between the two, the moment of
# a race), reads state.conf again and spends the next number, not the same.
cc -shared -fPIC -o "$T/pauseflock.so" "$HANKO_SRC/test/data/online/pauseflock.c" -ldl
SEQB=$(sed -n 's/^issuing\.2\.bundle-sequence = //p' "$O/state.conf")
env HK_PAUSE_FLOCK="$T/race" HK_PAUSE_FLOCK_FILE=1 LD_PRELOAD="$T/pauseflock.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$ON" request --state "$O" "${C2[@]}" --type revocation-request --reason 4 --out "$T/r-race1" \
	>"$T/race.out" 2>"$T/race.err" &
RP=$!
for i in $(seq 1 3000); do [ -e "$T/race.reached" ] && break; sleep 0.02; done
check "a request has read state.conf (sequence $SEQB spent) and waits before the state lock" test -e "$T/race.reached"
ok "another request meanwhile" "$ON" request --state "$O" "${C2[@]}" --type revocation-request --reason 4 --out "$T/r-race2"
touch "$T/race.go"
rc=0; wait "$RP" || rc=$?
check "... the waiting request ends well" test "$rc" = 0
check "... the two bundles carry sequences $((SEQB + 1)) and $((SEQB + 2)), each once" bash -c \
	"grep -qx 'sequence $((SEQB + 2))' '$T/r-race1/manifest' && grep -qx 'sequence $((SEQB + 1))' '$T/r-race2/manifest'"
check "... state.conf keeps the last one" grep -qx "issuing.2.bundle-sequence = $((SEQB + 2))" "$O/state.conf"
ok "both import offline: no replay" bash -c "'$OFF' bundle import --state '$S' ${C2[*]} --into '$T/in-race2' '$T/r-race2' && \
	'$OFF' bundle import --state '$S' ${C2[*]} --into '$T/in-race1' '$T/r-race1'"
# -F: the lock holder is the sleep itself, so that killing it frees the
# lock for what follows
flock -F "$O/state.lock" sleep 30 &
LP=$!
for i in $(seq 1 500); do flock -n "$O/state.lock" true 2>/dev/null || break; sleep 0.02; done
fails "a request while another writer holds the state lock" 3 "state.lock: another hanko-online command is changing state.conf" \
	"$ON" request --state "$O" "${C2[@]}" --type revocation-request --reason 4 --out "$T/r-race3"
check "... no bundle, no sequence number spent" bash -c "[ ! -e '$T/r-race3' ] && grep -qx 'issuing.2.bundle-sequence = $((SEQB + 2))' '$O/state.conf'"
kill "$LP" 2>/dev/null; wait "$LP" 2>/dev/null || true

# After issuing CA 2's certificate ended (2031-04-03T09:59:59Z; CPS 1-3-2,
# every warning of status missed): the offline reader refuses a bundle it
# signs (SPEC 6.2), so the next generation's CSR goes alone, its SHA-256
# read aloud, as for the first CSR. It was refused ("its certificate is not
# valid now"), the step status and issue name: no way on but a new CA.
CE=(--clock 2031-04-04T09:00:00Z)
SEQE=$(sed -n 's/^issuing\.2\.bundle-sequence = //p' "$O/state.conf")
ok "issuing CA 2 ended: request --type csr" "$ON" request --state "$O" "${CE[@]}" --type csr --out "$T/r-csr3e"
check "... no bundle: the request alone, no sequence spent" bash -c \
	"[ \"\$(ls '$T/r-csr3e')\" = issuing-3.csr.der ] && grep -qx 'issuing.2.bundle-sequence = $SEQE' '$O/state.conf' && \
	 cmp -s '$T/r-csr3e/issuing-3.csr.der' '$O/certs/issuing-3.csr.der'"
H3=$(sha256sum <"$T/r-csr3e/issuing-3.csr.der" | cut -c1-64)
check "... says why and prints its SHA-256 to read aloud" bash -c \
	"grep -qx \"Issuing generation 2's certificate ended 2031-04-03T09:59:59Z (CPS 1-3-2): the root refuses a bundle signed by a certificate that is not valid (SPEC 6.2): no bundle made.\" '$T/out' && grep -qx '  $H3' '$T/out'"
check "... audited" grep -q "	csr.make	ok	.*SHA-256 $H3; no bundle: issuing generation 2 .*: its certificate ended 2031-04-03T09:59:59Z" "$O/audit/audit.log"
fails "a revocation request signed by the ended certificate: refused, saying what to do" 3 \
	"issuing generation 2: its certificate ended 2031-04-03T09:59:59Z: the offline reader refuses a bundle it signs \\(SPEC 6.2\\); no revocation request made .*revoke.yaml" \
	"$ON" request --state "$O" "${CE[@]}" --type revocation-request --reason 4 --out "$T/r-reve"
echo "$H3" >"$T/csr3e.sha256"
ok "the rollover (root 1's key use ended 2031-04-01)" "$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/rollover.yaml" \
	--state "$S" --clock 2031-04-04T10:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
ok "the issue-subca ceremony certifies it by the SHA-256 read aloud" \
	issue_subca "$T/r-csr3e/issuing-3.csr.der" "$T/csr3e.sha256" 2031-04-04T11:00:00Z
check "... issuing CA 3 of that key, 5 years" bash -c \
	"[ \"\$(openssl x509 -in '$S/certs/issuing-3.pem' -noout -pubkey)\" = \"\$(openssl req -inform DER -in '$T/r-csr3e/issuing-3.csr.der' -noout -pubkey)\" ] && \
	 [ \"\$(openssl x509 -in '$S/certs/issuing-3.pem' -noout -enddate)\" = 'notAfter=Apr  4 10:59:59 2036 GMT' ]"
ok "the offline audit log verifies" "$OFF" audit verify --state "$S"
ok "the online audit log verifies" "$OFF" audit verify --state "$O"
finish

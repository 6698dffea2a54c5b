#!/usr/bin/env bash
# t_online_root_distrust.sh - the root key in force compromised (CPS 4-14-2;
# docs/ceremony-lifecycle.md "compromise"): the compromise ceremony of the
# current generation (1) has no link to revoke, so nothing signed by that
# key can tell the online side; the operators declare it out of band with
# "hanko-online trust --compromised 1 --fingerprint <the notice's SHA-256>
# --yes-distrust". A wrong fingerprint, a generation not stored, or no
# --yes-distrust marks nothing; the declaration is audited, idempotent and
# saved in the token as well as state.conf. From then on a bundle root 1
# signed (held back: whoever holds its key can sign one) is refused before
# its contents are read, the store and bundles/ unchanged; issue refuses
# with nothing reserved, responder refuses; status warns (exit 9), check
# has a finding; publish still publishes the CRLs and the ARL imported
# before. After a restore of a backup taken before the declaration the
# token's mark still refuses the bundle and issue; trust --compromised
# again marks state.conf again. The CA started again (a new root under the
# same DN): its publish and serve refuse the old CA's repository.
. "$(dirname "$0")/online.sh"
B=$T/req
P=$T/repo
BK=$T/backups
mkdir -p "$BK"
req_dir "$B"
published_base
ok "the backup, before the declaration" "$ON" backup --state "$O" --out "$BK/b1" --clock 2026-04-02T14:00:00Z

ok "arl-batch ceremony: ARL 11" arl_batch 1 2026-04-03T09:00:00Z
ok "a bundle root 1 signs, held back" "$OFF" bundle create --state "$S" --clock 2026-04-03T09:10:00Z \
	--type arl-batch --out "$T/b-held" "${SH[@]}" "$S/certs/arl/arl-11.crl"
ok "compromise ceremony: root 1, the current generation" "$OFF" ceremony run \
	"$HANKO_SRC/ceremony-scripts/compromise.yaml" --state "$S" --clock 2026-04-04T09:00:00Z \
	--confirm-digests "${SH[@]}" "${OPS[@]}"
NOTICE=$S/certs/compromise-notice-root-1.txt
FP=$(sed -n 's/^key-certificate-sha256: //p' "$NOTICE")
HEX=$(echo "$FP" | tr -d ':' | tr 'A-F' 'a-f')
check "the notice gives root 1's SHA-256" test "$HEX" = \
	"$(openssl x509 -in "$S/certs/root-1.pem" -outform DER | sha256sum | cut -c1-64)"

# Without the declaration the online side takes it (a copy of the state):
# nothing root 1's key signs can carry the news.
cp -a "$O" "$T/O-copy"
sed -i "s|^directories.tokendir = .*|directories.tokendir = $T/O-copy/token/tokens/|" "$T/O-copy/token/softhsm2.conf"
ok "undeclared: a copy of the state imports the held-back bundle" "$ON" import --state "$T/O-copy" \
	--clock 2026-04-04T09:30:00Z "$T/b-held"
rm -rf "$T/O-copy"

# The emergency ARL (12) is signed by root 1 itself: no other key can carry
# it. A compromised generation signs a bundle of its own ARLs only (all made
# before the mark); it is imported, and published at once, before the
# declaration, which refuses every bundle root 1 signs.
EA=$S/certs/arl/arl-12.crl
ISER=$(grep -v '^#' "$S/issued.txt" | awk -F'\t' '$2 == "issuing" {print $1}')
check "the compromise ceremony's emergency ARL 12 lists issuing CA 1 (CA Compromise), signed by root 1" sh -c \
	"openssl crl -inform DER -in '$EA' -noout -text | grep -A4 -i 'Serial Number: $ISER' | grep -q 'CA Compromise' &&
	 openssl crl -inform DER -in '$EA' -noout -verify -CAfile '$S/certs/root-1.pem' 2>&1 | grep -qx 'verify OK'"
fails "bundle create: root 1 (compromised) signs no issuing CA certificate bundle" 3 \
	"root generation 1 is compromised; it signs nothing \\(but a bundle of its own ARLs, type arl-batch" \
	"$OFF" bundle create --state "$S" --clock 2026-04-04T09:10:00Z --type issuing-ca-cert --out "$T/b-no1" \
	"${SH[@]}" "$S/certs/issuing-1.der"
fails "... nor an arl-batch bundle holding anything but an ARL it signed" 3 \
	"issuing-1.der: root generation 1 is compromised \\(root.1.compromised = 2026-04-04T09:00:00Z\\): it signs a bundle of its own ARLs only, and this is not an ARL \\(DER\\) its key signed$" \
	"$OFF" bundle create --state "$S" --clock 2026-04-04T09:10:00Z --type arl-batch --out "$T/b-no2" \
	"${SH[@]}" "$EA" "$S/certs/issuing-1.der"
check "... neither made, no quorum asked" sh -c "[ ! -e '$T/b-no1' ] && [ ! -e '$T/b-no2' ] &&
	! tac '$S/audit/audit.log' | sed '/	compromise.notice\|	ceremony.done/q' | grep -q '	share.open	'"
ok "bundle create: the emergency ARL, signed by root 1 (compromised)" "$OFF" bundle create --state "$S" \
	--clock 2026-04-04T09:10:00Z --type arl-batch --out "$T/b-emergency" "${SH[@]}" "$EA"
check "... it says to import it before the declaration" grep -q \
	"^Signed by root generation 1, marked compromised: its own ARLs, made before the mark. Import it online and publish --now before hanko-online trust --compromised 1" \
	"$HANKO_TMP/out"
check "... audited so" grep -q "	bundle.create	ok	.*signed by a root generation marked compromised: its own ARLs, made before the mark" \
	"$S/audit/audit.log"
ok "import the emergency ARL (before the declaration)" "$ON" import --state "$O" --clock 2026-04-04T09:30:00Z \
	"$T/b-emergency"
# (exit 9: the ARLs run out with ARL 12, and root 1 signs no more)
fails "publish --now: ARL 12 released" 9 "the imported ARLs run out at 2026-04-07T09:00:00Z \\(within 7 days; ARLs numbered below 12 do not count\\)" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-04T09:40:00Z --now
check "... arl.crl is ARL 12 and lists issuing CA 1, CA Compromise" sh -c \
	"openssl crl -inform DER -in '$P/arl.crl' -noout -crlnumber | grep -qx 'crlNumber=0x0C' &&
	 openssl crl -inform DER -in '$P/arl.crl' -noout -text | grep -A4 -i 'Serial Number: $ISER' | grep -q 'CA Compromise'"
# the index page: issuing CA 1 is revoked there, not "valid" (its validity
# period still runs); root 1 and responder 1 are not on the ARL
ok "index-page of the set with ARL 12" "$ON" index-page --repo "$P" --clock 2026-04-04T09:45:00Z --out "$T/ix.html"
sed 's/<[^>]*>//g' "$T/ix.html" >"$T/ix.txt"
check "... issuing CA 1's card: revoked, ARL 12, cACompromise, its time; the other cards valid" sh -c \
	"awk '/^issuing\/issuing-1\.cer\$/ { c = 1 } c && /^有効期間/ { print; exit }' '$T/ix.txt' |
	   grep -q '⚠ 失効 / revoked: ARL 12, cACompromise, 2026-04-04T09:00:00Z\$' &&
	 [ \$(grep -c '失効 / revoked' '$T/ix.txt') = 1 ] &&
	 [ \$(grep -c '有効 / valid' '$T/ix.txt') = \$((\$(grep -c '^有効期間' '$T/ix.txt') - 1)) ]"
check "... before the declaration: no notice in the set, no compromise warning" sh -c \
	"! grep -q ' notice/' '$P/MANIFEST' && ! grep -q 'banner-compromise\|declared compromised' '$T/ix.html'"

# ---- the declaration ----------------------------------------------------
DC=(--clock 2026-04-04T10:00:00Z)
WRONG=$(echo "$HEX" | sed 's/^0/X/;s/^[1-9a-f]/0/;s/^X/1/')	# the first digit changed, whatever it is
fails "trust --compromised: a wrong fingerprint marks nothing" 1 \
	"^hanko-online trust: --fingerprint $WRONG: root generation 1's SHA-256 is $HEX, not the one the operators read from the notice; nothing marked\$" \
	"$ON" trust --state "$O" "${DC[@]}" --compromised 1 --fingerprint "$WRONG" --yes-distrust
fails "... a generation not stored marks nothing" 3 \
	"^hanko-online trust: --compromised 2: not a stored root generation \\(the store holds 1 to 1\\); nothing marked\$" \
	"$ON" trust --state "$O" "${DC[@]}" --compromised 2 --fingerprint "$FP" --yes-distrust
fails "... without --yes-distrust marks nothing" 2 "^hanko-online trust: --compromised 1: --yes-distrust is required" \
	"$ON" trust --state "$O" "${DC[@]}" --compromised 1 --fingerprint "$FP"
check "... state.conf has no mark" sh -c "! grep -q '^root\\.1\\.compromised' '$O/state.conf'"
check "... the failures are audited" test "$(grep -c '	root.distrust	fail	' "$O/audit/audit.log")" = 2
# An issue run holds the issuance lock (as flock(1) here): the declaration
# waits for it to end (its batch is finished, then nothing more is issued),
# rather than marking while it signs.
flock -x "$O" sleep 60 &
LP=$!
for i in $(seq 1 3000); do flock -n -x "$O" true 2>/dev/null || break; sleep 0.02; done
"$ON" trust --state "$O" "${DC[@]}" --compromised 1 --fingerprint "$FP" --yes-distrust >"$T/out" 2>"$T/trust.err" &
TP=$!
for i in $(seq 1 3000); do grep -q "waiting for it to end" "$T/trust.err" 2>/dev/null && break; sleep 0.02; done
check "trust --compromised while an issue run holds the state: it waits, nothing marked yet" sh -c \
	"grep -q '^hanko-online: $O: a hanko-online issue is running on this state: waiting for it to end\$' '$T/trust.err' &&
	 kill -0 $TP && ! grep -q '^root\\.1\\.compromised' '$O/state.conf'"
pkill -P "$LP" sleep 2>/dev/null || true; kill "$LP" 2>/dev/null || true; wait "$LP" 2>/dev/null || true
rc=0; wait "$TP" || rc=$?
check "trust --compromised 1 with the notice's SHA-256: done once the issue run ended" test "$rc" = 0
check "... says what follows" grep -q "^Root generation 1 declared compromised (CPS 4-14-2): " "$T/out"
check "... state.conf marks it" grep -q "^root\\.1\\.compromised = 2026-04-04T10:00:00Z\$" "$O/state.conf"
check "... audited with the generation and the fingerprint" grep -q \
	"	root\\.distrust	ok	op1@ca-online	root generation 1 (.*) declared compromised: SHA-256 $HEX confirmed by the operators; the token's mark made, state.conf's made" \
	"$O/audit/audit.log"
LABEL=$(sed -n 's/^token.label = //p' "$O/state.conf")
tokmark() {
	SOFTHSM2_CONF="$O/token/softhsm2.conf" pkcs11-tool --module "$SOFT" --token-label "$LABEL" --login \
		--pin "$(cat "$O/secrets/token-user-pin")" --read-object --type data --label root.1.compromised \
		--application-label hanko-online -o "$T/mark.val" >/dev/null 2>&1 && cat "$T/mark.val"
}
check "... the token holds the mark: SHA-256 and time" test "$(tokmark)" = "SHA-256 $HEX, 2026-04-04T10:00:00Z"
ok "trust --compromised 1 again: done already" "$ON" trust --state "$O" --clock 2026-04-04T10:05:00Z \
	--compromised 1 --fingerprint "$FP" --yes-distrust
check "... says so" grep -q "^Root generation 1 is already declared compromised" "$T/out"
check "... the marks keep their first time" sh -c "grep -q '^root\\.1\\.compromised = 2026-04-04T10:00:00Z\$' '$O/state.conf' &&
	test \"\$(grep -c '^root\\.1\\.compromised' '$O/state.conf')\" = 1"
check "... the token's too" test "$(tokmark)" = "SHA-256 $HEX, 2026-04-04T10:00:00Z"
# The weekly review (docs/audit-log.md "Weekly review") reads the
# declaration whatever the week, as it reads root.compromise offline.
"$ON" audit review --state "$O" --clock 2026-04-04T11:00:00Z --since 2026-04-04T10:00:00Z >"$T/review.txt" 2>/dev/null || true
check "audit review: the declaration (root.distrust ok) is in the list always read" sh -c \
	"sed -n '/^Always read/,/^Cadence/p' '$T/review.txt' | grep -Eq '^  [0-9]+ 2026-04-04T10:00:00Z root\.distrust ok op1@ca-online root generation 1 '"

# ---- from then on -------------------------------------------------------
snap() { { ls -R "$O/bundles"; cat "$O/bundles.seen"; sqlite3 "$O/store.db" \
	"SELECT * FROM bundles; SELECT number FROM arls; SELECT kind, generation FROM ca_certs;
	 SELECT hex(serial), status FROM certificates; SELECT hex(serial) FROM serials"; } >"$1" 2>&1; }
# a reservation a crash left (as if): issue's recovery would sign it
ok "a reservation left pending by a crash (sqlite3)" sqlite3 "$O/store.db" "INSERT INTO serials VALUES (x'7F01', 0);
	INSERT INTO certificates (serial, municipality, resident_key, status, not_before, not_after, issuer, tbs)
	  SELECT x'7F01', '431010', randomblob(32), 'pending', not_before, not_after, issuer, tbs FROM certificates WHERE hex(serial) = '$S3'"
snap "$T/snap.before"
MSG="b-held/manifest\\.sig: signer: CPS 4-14-2: root generation 1 is declared compromised"
fails "import: the held-back bundle root 1 signed is refused, naming the mark" 1 \
	"$MSG \\(state\\.conf root\\.1\\.compromised = 2026-04-04T10:00:00Z, and the token's mark\\); nothing it signs is imported\$" \
	"$ON" import --state "$O" --clock 2026-04-04T11:00:00Z "$T/b-held"
snap "$T/snap.after"
check "... the store and bundles/ unchanged" cmp -s "$T/snap.before" "$T/snap.after"
ISSMSG="root generation 1, the newest the store holds, is declared compromised \\(state\\.conf root\\.1\\.compromised = 2026-04-04T10:00:00Z, and the token's mark\\): CPS 4-14-2"
{ sed -n 1p "$B/batch1.csv"
  echo "431010,70000000007,熊本　次郎,00000,319750301,1,熊本県熊本市中央区水前寺６丁目１８番１号,00000000000000000000,keys/resident-2.pub.pem"
} >"$B/batch2.csv"
fails "issue: refused" 3 "^hanko-online issue: $ISSMSG: nothing issued; the CA starts again" \
	"$ON" issue --state "$O" --clock 2026-04-04T12:00:00Z --batch "$B/batch2.csv" --out "$T/out2"
snap "$T/snap.after"
check "... nothing reserved or signed: the store as before (the crash's reservation not signed: still pending)" sh -c \
	"cmp -s '$T/snap.before' '$T/snap.after' && [ \$(sqlite3 '$O/store.db' \"SELECT status FROM certificates WHERE hex(serial) = '7F01'\") = pending ] &&
	 ! grep -q '	cert.recover	' '$O/audit/audit.log'"
check "... no results, no issue.start but batch 1's" sh -c \
	"test ! -e '$T/out2/results.csv' && test \$(grep -c '	issue.start	' '$O/audit/audit.log') = 1"
fails "responder: refused" 3 "^hanko-online responder: $ISSMSG: no OCSP responder certificate made" \
	"$ON" responder --state "$O" --clock 2026-04-04T12:00:00Z
check "... no second responder" sh -c "! grep -q '^responder\\.2\\.' '$O/state.conf'"
rc=0; "$ON" status --state "$O" --clock 2026-04-04T12:00:00Z >"$T/status.out" 2>"$T/status.err" || rc=$?
check "status: exit 9" test "$rc" = 9
check "... a warning naming the mark and what to do" grep -q \
	"^hanko-online status: warning: CPS 4-14-2: root generation 1 is declared compromised (root\.1\.compromised, 2026-04-04T10:00:00Z): import refuses what it signs, issue and responder refuse under an issuing CA it certified; start the CA again with init-root on a new state and have relying parties remove that root (docs/ceremony-lifecycle\.md \"compromise\")$" \
	"$T/status.err"
check "... its report line" grep -q "^root: generation 1: declared compromised 2026-04-04T10:00:00Z (root.1.compromised, CPS 4-14-2)$" "$T/status.out"
# what status says to do next: no next issuing generation and no ARL can
# follow (root 1 signs none): the CA starts again
LOST="no ARL can follow: root generation 1, the root in force, is declared compromised \\(root\\.1\\.compromised\\) and signs none \\(CPS 4-14-2\\); the CA starts again with init-root on a new state \\(docs/ceremony-lifecycle\\.md \"compromise\"\\)$"
check "... the ARLs' warning: none can follow, not the arl-batch ceremony" sh -c \
	"grep -Eq 'the imported ARLs run out at 2026-04-07T09:00:00Z .*: $LOST' '$T/status.err' &&
	 ! grep -q 'arl-batch' '$T/status.err'"
check "... issuing CA 1 revoked by ARL 12: the CA starts again, not the next generation" sh -c \
	"grep -q 'is revoked by the root: issue and responder refuse under it; the root in force is declared compromised (see its line): no next generation can be certified; the CA starts again' '$T/status.err' &&
	 ! grep -q 'issue-subca' '$T/status.err'"
rc=0; "$ON" check --state "$O" --clock 2026-04-04T12:00:00Z --dry-run >"$T/check.out" 2>"$T/check.err" || rc=$?
check "check: a finding (exit 1)" test "$rc" = 1
check "... its line" grep -q "^distrust: root generation 1 is declared compromised (state.conf root.1.compromised = 2026-04-04T10:00:00Z, and the token's mark): CPS 4-14-2: " "$T/check.out"
# The compromise made public (CPS 4-4-1-3: "Web 等により、その旨を公表する"):
# the same day's run without --now publishes a set with the notice rather
# than skipping, the set published at 09:40 having none.
readlink "$P" >"$T/link.0940"
fails "publish (no --now, same day): not skipped, the declaration has no notice yet" 9 \
	"the imported ARLs run out at 2026-04-07T09:00:00Z" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-04T12:05:00Z
check "... a new set swapped in, not skipped (no Nothing to publish)" sh -c \
	"[ \"\$(readlink '$P')\" != \"\$(cat '$T/link.0940')\" ] && ! grep -q '^Nothing to publish' '$HANKO_TMP/out'"
check "... the set has notice/root-gen-1.txt, in its MANIFEST with its SHA-256 and size" sh -c \
	"grep -q \"^\$(sha256sum '$P/notice/root-gen-1.txt' | cut -c1-64) \$(stat -c %s '$P/notice/root-gen-1.txt') notice/root-gen-1.txt\$\" '$P/MANIFEST' &&
	 [ \$(grep -c ' notice/' '$P/MANIFEST') = 1 ]"
N1=$P/notice/root-gen-1.txt
# root 1's subject as the index page prints it: RDNs in order, ", " between
SUBJ1=$(openssl x509 -in "$S/certs/root-1.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//' |
	awk -F, '{ for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? ", " : "") }')
check "... it names the key, the declaration's time, the certificate (subject, SHA-256, file)" sh -c \
	"grep -qx '鍵 / Key: ルート認証局（自己署名証明書） 第 1 世代 / root CA (self-signed) generation 1' '$N1' &&
	 grep -qx '宣言日時 / Declared: 2026-04-04T10:00:00Z' '$N1' &&
	 grep -qxF '主体者 / Subject: $SUBJ1' '$N1' &&
	 grep -qx 'SHA-256: $FP' '$N1' && grep -qx 'ファイル / File: root/gen-1.cer' '$N1'"
check "... what relying parties must do (ja, en) and where the ARL and CRLs are" sh -c \
	"grep -q 'この自己署名証明書を信頼点から削除し' '$N1' &&
	 grep -q 'Remove this root certificate from your trust anchors and treat every certificate signed under it' '$N1' &&
	 grep -qx '  ARL: arl.crl (このリポジトリ / in this repository)' '$N1' && grep -q '^  CRL: .*crl/' '$N1' && iconv -f UTF-8 -t UTF-8 '$N1' >/dev/null"
check "... no secret in it: no PIN, no share" sh -c \
	"! grep -qF \"\$(cat '$O/secrets/token-user-pin')\" '$N1'"
cp "$N1" "$T/notice.first" 2>/dev/null || : >"$T/notice.first"
ok "index-page of the set with the notice" "$ON" index-page --repo "$P" --clock 2026-04-04T12:06:00Z --out "$T/ix2.html"
sed 's/<[^>]*>//g' "$T/ix2.html" >"$T/ix2.txt"
check "... a warning block before the certificates, linking the notice" sh -c \
	"grep -q '<section class=\"banner expired\" id=\"banner-compromise\">' '$T/ix2.html' &&
	 grep -q '<li>ルート認証局（自己署名証明書） 第 1 世代 / root CA (self-signed) generation 1: <a href=\"notice/root-gen-1.txt\">' '$T/ix2.html' &&
	 [ \$(grep -n 'banner-compromise' '$T/ix2.html' | cut -d: -f1) -lt \$(grep -n 'id=\"roots\"' '$T/ix2.html' | cut -d: -f1) ]"
check "... root 1's card: declared compromised (ja/en) with the notice's link, not valid" sh -c \
	"awk '/^root\/gen-1\.cer\$/ { c = 1 } c && /^有効期間/ { print; exit }' '$T/ix2.txt' |
	   grep -q '⚠ 危殆化宣言 / declared compromised (公表 notice)\$' &&
	 grep -q 'declared compromised</strong> (<a href=\"notice/root-gen-1.txt\">' '$T/ix2.html' &&
	 [ \$(grep -c '危殆化宣言 / declared compromised' '$T/ix2.txt') = 1 ]"

# publish goes on: the residents' CRLs and the ARL imported before (their
# revocations stay visible)
ok "revoke a resident (key compromise)" "$ON" revoke --state "$O" --clock 2026-04-04T12:10:00Z --serial "$S2" --reason 1
fails "publish: still publishes (exit 9: the ARLs run out with ARL 12, none can follow)" 9 \
	"the imported ARLs run out at 2026-04-07T09:00:00Z .*: $LOST" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-04T12:30:00Z --now
check "... the new CRL of the resident's municipality lists the revocation" sh -c \
	"openssl crl -in '$P/crl/431010.crl' -inform DER -noout -text | grep -q 'Serial Number: $S2'"
check "... the emergency ARL imported before is still released" sh -c \
	"openssl crl -inform DER -in '$P/arl.crl' -noout -crlnumber | grep -qx 'crlNumber=0x0C'"
check "... the notice again, the same bytes (the same state)" cmp -s "$T/notice.first" "$P/notice/root-gen-1.txt"

# ---- a restore of the backup taken before the declaration -----------------
restore_state "$BK/b1" "$O.damaged" "$O.damaged/audit"
check "restored: state.conf lacks the mark" sh -c "! grep -q '^root\.1\.compromised' '$O/state.conf'"
check "... the token (moved back) keeps it" test "$(tokmark)" = "SHA-256 $HEX, 2026-04-04T10:00:00Z"
TOK="the token's root\.1\.compromised: SHA-256 $HEX, 2026-04-04T10:00:00Z; state\.conf lacks it \(restored from a backup taken before the declaration\?\): hanko-online trust --compromised 1 again marks it there"
fails "import: the held-back bundle still refused, by the token's mark" 1 "$MSG \($TOK\); nothing it signs is imported\$" \
	"$ON" import --state "$O" --clock 2026-04-05T11:00:00Z "$T/b-held"
check "... not stored" test "$(db "SELECT count(*) FROM arls WHERE number = 11")" = 0
fails "issue: refused by the token's mark" 3 "^hanko-online issue: root generation 1, the newest the store holds, is declared compromised \($TOK\): CPS 4-14-2: nothing issued; the CA starts again" \
	"$ON" issue --state "$O" --clock 2026-04-05T12:00:00Z --batch "$B/batch2.csv" --out "$T/out3"
rc=0; "$ON" check --state "$O" --clock 2026-04-05T12:00:00Z --dry-run >"$T/check.out" 2>"$T/check.err" || rc=$?
check "check: the finding says state.conf lacks it and what to run" grep -Eq \
	"^distrust: root generation 1 is declared compromised \\($TOK\\): CPS 4-14-2" "$T/check.out"
ok "trust --compromised 1 again: marks state.conf again" "$ON" trust --state "$O" --clock 2026-04-05T13:00:00Z \
	--compromised 1 --fingerprint "$HEX" --yes-distrust
check "... state.conf marks it, the token's mark kept" sh -c "grep -q '^root\.1\.compromised = 2026-04-05T13:00:00Z\$' '$O/state.conf' &&
	grep -q 'the token.s mark kept (an earlier run), state.conf.s made' '$O/audit/audit.log'"
# docs/backup.md "Restore" step 9: the resident's revocation, published in
# set 4 and lost with the restore, redone before anything is published (a
# CRL without it is refused: docs/publish.md "Never un-revoked")
ok "recover --revocations: the resident's revocation redone" "$ON" recover --state "$O" --clock 2026-04-05T13:05:00Z --revocations
rc=0; "$ON" publish --state "$O" --repo "$P" --clock 2026-04-05T13:10:00Z --now >"$T/pub.out" 2>"$T/pub.err" || rc=$?
check "publish --now after the restore (exit $rc): the notice keeps the first declaration's time (the token's mark)" sh -c \
	"[ $rc = 0 -o $rc = 9 ] && grep -qx '宣言日時 / Declared: 2026-04-04T10:00:00Z' '$P/notice/root-gen-1.txt'"
ok "the online audit log verifies" "$OFF" audit verify --state "$O"

# ---- the CA starts again: a new offline state (init-root), a new online
# state; its publish given the old CA's repository is refused, which stays
# the old state's (root 1, ARL 12, the residents' CRLs) ----
OLD_O=$O
readlink "$P" >"$T/link.before"; cp "$P/MANIFEST" "$T/manifest.before"
make_online "$T/new" 2026-04-06
check "the new CA: a new root under the same DN" sh -c \
	"[ \"\$(openssl x509 -in '$R' -noout -subject)\" = \"\$(openssl x509 -in '$T/ca/state/certs/root-1.pem' -noout -subject)\" ] &&
	 ! cmp -s '$R' '$T/ca/state/certs/root-1.pem'"
NEWFP=$(openssl x509 -in "$R" -outform DER | sha256sum | cut -c1-64)
fails "publish: the new state refuses the old CA's repository" 3 \
	"^hanko-online publish: $P: set [0-9]+ is another CA's: its root/gen-1\\.cer \\(SHA-256 $HEX\\) is not this state's root generation 1 \\(SHA-256 $NEWFP\\); a CA started again publishes into a repository of its own, and the old one stays the old state's \\(docs/ceremony-lifecycle\\.md \"compromise\"\\); nothing published\$" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-06T12:00:00Z
check "... the old repository as it was: root 1, ARL 12, the residents' CRLs" sh -c \
	"[ \"\$(readlink '$P')\" = \"\$(cat '$T/link.before')\" ] && cmp -s '$P/MANIFEST' '$T/manifest.before' &&
	 openssl crl -inform DER -in '$P/arl.crl' -noout -crlnumber | grep -qx 'crlNumber=0x0C'"
check "... the new store numbered no CRL" test "$(sqlite3 "$O/store.db" "SELECT count(*) FROM crl_numbers")" = 0
fails "publish: the new state into a repository of its own" 9 "no imported ARL is current" \
	"$ON" publish --state "$O" --repo "$T/repo-new" --clock 2026-04-06T12:00:00Z
check "... its root/gen-1.cer is the new root" cmp -s "$T/repo-new/root/gen-1.cer" <(openssl x509 -in "$R" -outform DER)
# serve of the new state given the old CA's repository: it would serve the
# old root, ARL and residents' CRLs as the new CA's, to the new state's
# relying parties (the old CA's refused), recorded in the new store, and
# answer the old CA's OCSP requests unauthorized; refused at the start
# (timeout: a serve that starts would run on)
AUD=$(wc -l <"$O/audit/audit.log")
fails "serve: the new state refuses the old CA's repository" 3 \
	"^hanko-online serve: $P: set [0-9]+ is another CA's: its root/gen-1\\.cer \\(SHA-256 $HEX\\) is not this state's root generation 1 \\(SHA-256 $NEWFP\\); serve answers OCSP, relying parties and provision records as this state's CA: a CA started again serves a repository of its own, and the old one is served by the old state \\(docs/ceremony-lifecycle\\.md \"compromise\"\\); not started\$" \
	timeout 30 "$ON" serve --state "$O" --repo "$P" --listen 127.0.0.1:0 --no-ocsp --clock 2026-04-06T12:30:00Z
check "... nothing served, nothing audited" test "$(wc -l <"$O/audit/audit.log")" = "$AUD"
# servestarts STATE REPO: serve --no-ocsp comes up (its "listening on"
# line), then is stopped
servestarts() {
	: >"$T/sv.out"
	"$ON" serve --state "$1" --repo "$2" --listen 127.0.0.1:0 --no-ocsp --clock 2026-04-06T12:30:00Z \
		>"$T/sv.out" 2>"$T/sv.err" &
	local pid=$! up=1
	for _ in $(seq 300); do grep -q 'listening on' "$T/sv.out" && { up=0; break; }; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	[ "$up" = 0 ] || { sed 's/^/# serve: /' "$T/sv.err" >&2; return 1; }
}
check "serve: the new state serves its own repository" servestarts "$O" "$T/repo-new"
check "serve: the old state goes on serving the old repository" servestarts "$OLD_O" "$P"
finish

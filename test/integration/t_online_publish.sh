#!/usr/bin/env bash
# t_online_publish.sh - "hanko-online publish" (issue 5 items 5 and 6;
# CPS 2-6-2, 2-6-3, 4-4-3, 4-4-9, 4-4-10, 7-2; docs/publish.md,
# docs/repository.md): a working publisher (make_online), six residents'
# certificates, three revoked with different reasons; then the partition
# CRLs checked with openssl (signature, the right partition only, critical
# IDP naming the partition, increasing numbers, verify -crl_check), the ARL
# of the day released from an imported arl-batch, the warnings and their
# exit status 9, the daily run that has nothing to do (unless a file of
# the current set was damaged: then a new set, exit 9), --now, the lock, the
# atomic swap of the repository link, the entry cache rebuilt when deleted
# or damaged, an entry dropped only after its certificate expired, and a
# failed login that changes nothing.
. "$(dirname "$0")/online.sh"
P=$T/repo
db() { sqlite3 "$O/store.db" "$1"; }
pub() { "$ON" publish --state "$O" --repo "$P" "$@"; }
crl_text() { openssl crl -inform DER -in "$P/crl/$1.crl" -noout -text; }
crl_number() { printf '%d' "$(openssl crl -inform DER -in "$P/crl/$1.crl" -noout -crlnumber | cut -d= -f2)"; }
set_of() { readlink "$P"; }
# every file of a set matches its MANIFEST (sha256sum, not our reader)
set_ok() { (cd "$1" && awk '{print $1 "  " $3}' MANIFEST | sha256sum -c --quiet) >/dev/null 2>&1; }

# Six residents in six partitions; three revoked, each with its own reason.
B=$T/req
req_dir "$B" 7
ok "issue six certificates" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch.csv" --out "$T/issued"
certs_from "$T/issued"
RES=$T/issued/results.csv
serial() { sed -n "s/^$1,ok,\([0-9A-F]*\),.*/\1/p" "$RES"; }
S_KC=$(serial 2)	# 431010 Kumamoto-shi Chuo-ku
S_AC=$(serial 3)	# 432024 Yatsushiro-shi
S_SU=$(serial 4)	# 432148 Aso-shi
S_GOOD=$(serial 5)	# 432105 Kikuchi-shi, stays valid
RC=(--clock 2026-04-03T09:00:00Z)
ok "revoke 431010's: keyCompromise" "$ON" revoke --state "$O" "${RC[@]}" --serial "$S_KC" --reason key-compromise
ok "revoke 432024's: affiliationChanged" "$ON" revoke --state "$O" "${RC[@]}" --serial "$S_AC" --reason affiliation-changed
ok "revoke 432148's: superseded" "$ON" revoke --state "$O" "${RC[@]}" --serial "$S_SU" --reason superseded
NPART=$(awk -F, '$6 == "yes"' "$O/municipalities.csv" | wc -l)

fails "usage: --repo is required" 2 "are required" "$ON" publish --state "$O"

# CPS 4-4-10: no ARL imported yet: everything else published, exit 9.
fails "CPS 4-4-10: no current ARL: published with a warning (exit 9)" 9 \
	"^hanko-online publish: warning: CPS 4-4-10: no imported ARL is current at 2026-04-03T10:00:00Z" \
	pub --clock 2026-04-03T10:00:00Z
check "... the repository is a link to set 1" test "$(set_of)" = "repo.sets/1"
check "... one CRL per partition ($NPART)" test "$(ls "$P/crl" | wc -l)" = "$NPART"
check "... no arl.crl" test ! -e "$P/arl.crl"
check "... the warning is audited as a failure" grep -q "	publish.warning	fail	.*no imported ARL is current" "$O/audit/audit.log"
check "... every file matches the MANIFEST (sha256sum -c)" set_ok "$P"

# The ARL batch from the root (the arl-batch ceremony with 10 ARLs).
ok "offline: arl-batch ceremony (10 ARLs from 2026-04-02T11:00)" arl_batch 10 2026-04-02T11:00:00Z
ok "offline: bundle of the ARLs" arl_bundle 10 2026-04-02T12:00:00Z
ok "import the ARLs" "$ON" import --state "$O" --clock 2026-04-03T11:00:00Z --type arl-batch "$T/b-arl"

N1=$(crl_number 431010)
ok "CPS 4-4-9: the daily publication (24 h later)" pub --clock 2026-04-04T03:00:00Z
check "... set 2" test "$(set_of)" = "repo.sets/2"
check "... CRL numbers increase (431010: $N1 -> $(crl_number 431010))" test "$(crl_number 431010)" = $((N1 + 1))
check "... the store holds the published numbers" test "$(db "SELECT number FROM crl_numbers WHERE partition = '431010'")" = $((N1 + 1))
bad=0
for f in "$P"/crl/*.crl; do
	v=$(openssl crl -inform DER -in "$f" -CAfile "$ISS" -noout -verify 2>&1) || true
	[ "$v" = "verify OK" ] || bad=$((bad + 1))
done
check "CPS 7-2-1: every partition CRL verifies with the issuing CA (openssl crl -verify)" test "$bad" = 0
bad=0
for f in "$P"/crl/*.crl; do
	code=$(basename "$f" .crl)
	name=$(awk -F, -v c="$code" '$1 == c { print $4 }' "$O/municipalities.csv")
	t=$(openssl crl -inform DER -in "$f" -noout -text)
	# here-strings, not "echo | grep -q" (pipefail and an early exit)
	grep -q "Issuing Distribution Point: critical" <<<"$t" || bad=$((bad + 1))
	grep -q "DirName:C = JP, O = JPKI, OU = Kumamoto-ken, OU = CRL Distribution Points, CN = $name CRLDP, OU = TEST" <<<"$t" ||
		bad=$((bad + 1))
	grep -q "Only User Certificates" <<<"$t" || bad=$((bad + 1))
	grep -q "Next Update: Apr  7 03:00:00 2026 GMT" <<<"$t" || bad=$((bad + 1))
done
check "PROFILE.md: each IDP is critical, names its partition, user certificates only; valid 72 h" test "$bad" = 0
where() { grep -l "$1" "$T"/txt/*.txt | xargs -r -n1 basename | tr '\n' ' '; }
mkdir -p "$T/txt"
for f in "$P"/crl/*.crl; do crl_text "$(basename "$f" .crl)" >"$T/txt/$(basename "$f" .crl).txt"; done
check "431010's serial is on 431010's CRL only" test "$(where "$S_KC")" = "431010.txt "
check "432024's serial is on 432024's CRL only" test "$(where "$S_AC")" = "432024.txt "
check "432148's serial is on 432148's CRL only" test "$(where "$S_SU")" = "432148.txt "
check "the valid certificate is on no CRL" test -z "$(where "$S_GOOD")"
check "CPS 4-4-4-2 reasons: Key Compromise, Affiliation Changed, Superseded" sh -c \
	"grep -A4 '$S_KC' '$T/txt/431010.txt' | grep -q 'Key Compromise' &&
	 grep -A4 '$S_AC' '$T/txt/432024.txt' | grep -q 'Affiliation Changed' &&
	 grep -A4 '$S_SU' '$T/txt/432148.txt' | grep -q Superseded"
check "partitions without revocations list none" sh -c "! grep -q 'Serial Number' '$T/txt/432105.txt'"

# openssl verify -crl_check with the partition CRL.
cat "$R" "$ISS" >"$T/chain.pem"
AT=(-attime "$(date -u -d 2026-04-04T04:00:00Z +%s)")
for s in "$S_KC" "$S_GOOD"; do openssl x509 -inform DER -in "$T/issued/certs/$s.der" -out "$T/$s.pem"; done
openssl crl -inform DER -in "$P/crl/431010.crl" -out "$T/431010.crl.pem"
openssl crl -inform DER -in "$P/crl/432105.crl" -out "$T/432105.crl.pem"
openssl verify "${AT[@]}" -crl_check -CAfile "$T/chain.pem" -CRLfile "$T/431010.crl.pem" "$T/$S_KC.pem" >"$T/v1" 2>&1 || true
check "openssl verify -crl_check: the revoked certificate is revoked" grep -q "certificate revoked" "$T/v1"
ok "openssl verify -crl_check: the valid one passes with its partition CRL" \
	openssl verify "${AT[@]}" -crl_check -CAfile "$T/chain.pem" -CRLfile "$T/432105.crl.pem" "$T/$S_GOOD.pem"

# CPS 4-4-10: the ARL of the day.
check "arl.crl is released: ARL 2 (the highest whose thisUpdate has come)" cmp "$P/arl.crl" "$S/certs/arl/arl-2.crl"
check "... it verifies with the root (openssl crl -verify)" sh -c \
	"openssl crl -inform DER -in '$P/arl.crl' -CAfile '$R' -noout -verify 2>&1 | grep -qx 'verify OK'"
check "... MANIFEST: its times and number" grep -q " arl.crl 2026-04-03T11:00:00Z 2026-04-06T11:00:00Z 2$" "$P/MANIFEST"
check "MANIFEST: the CRLs' times and numbers" grep -q " crl/431010.crl 2026-04-04T03:00:00Z 2026-04-07T03:00:00Z $((N1 + 1))$" "$P/MANIFEST"
check "root/gen-1.cer is the root" cmp "$P/root/gen-1.cer" <(openssl x509 -in "$R" -outform DER)
check "issuing/issuing-1.cer is the issuing CA" cmp "$P/issuing/issuing-1.cer" "$S/certs/issuing-1.der"
check "root/roots.p7c holds the root (openssl pkcs7)" sh -c \
	"openssl pkcs7 -inform DER -in '$P/root/roots.p7c' -print_certs -noout | grep -q 'subject=.*Governor of Kumamoto'"
check "audit: publish.start, $NPART crl.publish, arl.release, publish.done" sh -c \
	"tac '$O/audit/audit.log' | sed '/	publish.start	/q' >'$T/last.log';
	 [ \$(grep -c '	crl.publish	ok	op1@ca-online	partition ' '$T/last.log') = $NPART ] &&
	 grep -q '	arl.release	ok	op1@ca-online	ARL 2: ' '$T/last.log' && grep -q '	publish.done	ok	op1@ca-online	set 2 ' '$T/last.log'"

# A second run the same day does nothing; --now publishes at once.
N2=$(crl_number 431010)
ok "CPS 2-6-2: a second daily run the same day (JST) publishes nothing" pub --clock 2026-04-04T10:00:00Z
check "... and says so" grep -q "^Nothing to publish: set 2 " "$HANKO_TMP/out"
check "... no new set, the same numbers" test "$(set_of)" = "repo.sets/2" -a "$(crl_number 431010)" = "$N2"

# A revocation between two runs: appended to its partition's cache.
S_CE=$(serial 6)	# 431028 Kumamoto-shi Higashi-ku
ok "revoke 431028's: cessationOfOperation" "$ON" revoke --state "$O" --clock 2026-04-04T10:00:00Z --serial "$S_CE" \
	--reason cessation-of-operation

# The swap: a reader holding the old set keeps reading it.
D2=$(tree_digest "$T/repo.sets/2")
exec 8<"$P/crl/431010.crl"
H2=$(sha256sum <"$P/crl/431010.crl" | cut -c1-64)
ok "CPS 4-4-9: --now publishes at once (emergency)" pub --clock 2026-04-04T10:00:00Z --now
check "... set 3, numbers +1" test "$(set_of)" = "repo.sets/3" -a "$(crl_number 431010)" = $((N2 + 1))
check "... the new revocation appended (no cache rebuilt)" grep -q "(4 entries, 0 caches rebuilt)" "$HANKO_TMP/out"
check "... on 431028's CRL, Cessation Of Operation" sh -c \
	"openssl crl -inform DER -in '$P/crl/431028.crl' -noout -text | grep -A4 '$S_CE' | grep -q 'Cessation Of Operation'"
check "... the old set is untouched beside it" test "$(tree_digest "$T/repo.sets/2")" = "$D2"
check "... both sets match their MANIFESTs" sh -c "cd '$T' && (cd repo.sets/2 && awk '{print \$1 \"  \" \$3}' MANIFEST | sha256sum -c --quiet) && (cd repo.sets/3 && awk '{print \$1 \"  \" \$3}' MANIFEST | sha256sum -c --quiet)"
check "... audited with --now" grep -q "	publish.start	ok	.*--now (CPS 4-4-9 emergency)" "$O/audit/audit.log"

N3=$(crl_number 431010)
ok "the next day in JST (00:30) publishes, 5.5 h after the last" pub --clock 2026-04-04T15:30:00Z
check "... set 4, numbers +1" test "$(set_of)" = "repo.sets/4" -a "$(crl_number 431010)" = $((N3 + 1))
check "... read from the appended cache (no cache rebuilt), still listed" sh -c \
	"grep -q '(4 entries, 0 caches rebuilt)' '$HANKO_TMP/out' &&
	 openssl crl -inform DER -in '$P/crl/431028.crl' -noout -text | grep -q '$S_CE'"

# The lock: a second publish while one runs fails at once.
exec 9>>"$O/publish.lock"
flock -n 9
fails "a publish while another holds the lock fails at once" 3 "publish.lock: another publish is running" \
	pub --clock 2026-04-05T03:00:00Z --now
flock -u 9
exec 9>&-
check "... nothing published" test "$(set_of)" = "repo.sets/4"

# The entry cache: deleted or damaged, rebuilt with the same entries.
entries() { crl_text "$1" | sed -n '/^Revoked Certificates:/,/^    Signature Algorithm/p'; }
E0=$(entries 431010)
rm -f "$O/crlcache/431010.entries" "$O/crlcache/431010.head"
ok "cache deleted: rebuilt" pub --clock 2026-04-05T03:00:00Z --now
check "... one cache rebuilt" grep -q "(4 entries, 1 caches rebuilt)" "$HANKO_TMP/out"
check "... the same entries" test "$(entries 431010)" = "$E0"
# what a run killed while writing a cache left goes at the next run (under
# the lock), nothing else does
printf 'partial' >"$O/crlcache/431010.entries.tmp-0123456789abcdef"
printf 'mine' >"$O/crlcache/notes.tmp-x"
flip_byte "$O/crlcache/432024.entries" 5
E1=$(entries 432024)
ok "cache damaged: rebuilt" pub --clock 2026-04-05T03:00:00Z --now
check "... one cache rebuilt" grep -q "1 caches rebuilt" "$HANKO_TMP/out"
check "... the temporary file an interrupted run left removed, another file kept" sh -c \
	"grep -q '^Removed 1 temporary file an interrupted run left in $O/crlcache\$' '$HANKO_TMP/out' && \
	 ! test -e '$O/crlcache/431010.entries.tmp-0123456789abcdef' && test -e '$O/crlcache/notes.tmp-x'"
check "... the same entries" test "$(entries 432024)" = "$E1"
check "... the audit says which" grep -q "	crl.publish	ok	op1@ca-online	partition 432024 .*(cache rebuilt)" "$O/audit/audit.log"

# Three sets kept: the current and the two before it.
check "old sets pruned: 4, 5 and 6 remain" test "$(ls "$T/repo.sets" | sort -n | tr '\n' ' ')" = "4 5 6 "
check "a reader that opened a CRL of set 2 still reads it whole after set 2 is gone" \
	test "$(sha256sum <&8 | cut -c1-64)" = "$H2"
exec 8<&-

# CPS 2-6-2: a file of today's set damaged on disk (a fault, an edit):
# the second run of the day checks every file against the MANIFEST, names
# the first that fails, publishes a complete new set in its place and
# warns (exit 9).
crl_ok() { openssl crl -inform DER -in "$P/crl/$1.crl" -CAfile "$ISS" -noout -verify 2>&1 | grep -qx 'verify OK'; }
ok "the same day, the set intact: nothing published" pub --clock 2026-04-05T04:00:00Z
check "... and says so" grep -q "^Nothing to publish: set 6 " "$HANKO_TMP/out"
check "... set 6 stays" test "$(set_of)" = "repo.sets/6"
N6=$(crl_number 431010)
# one bit of 431010's CRL changed in place (its size kept): in its signature
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(-5, 2); c = f.read(1)[0]; f.seek(-5, 2); f.write(bytes([c ^ 1]))' \
	"$P/crl/431010.crl"
check "crl/431010.crl of set 6 damaged: openssl no longer verifies it" eval "! crl_ok 431010"
fails "the same day, 431010's CRL damaged: a new set published, the file named (exit 9)" 9 \
	"^hanko-online publish: warning: CPS 2-6-2: .*/repo\.sets/6/crl/431010\.crl: MANIFEST: SHA-256 differs: set 6 of today is damaged \(a disk fault or an edit\): published again in full; check the repository's disk and who can write to it$" \
	pub --clock 2026-04-05T05:00:00Z
check "... set 7" test "$(set_of)" = "repo.sets/7"
check "... 431010's CRL is good again: it verifies with the issuing CA (openssl crl -verify)" crl_ok 431010
check "... its number +1 ($N6 -> $(crl_number 431010))" test "$(crl_number 431010)" = $((N6 + 1))
check "... every file of set 7 matches its MANIFEST (sha256sum -c)" set_ok "$P"
check "... the warning is audited, naming the file" grep -q "	publish.warning	fail	op1@ca-online	CPS 2-6-2: .*/repo.sets/6/crl/431010.crl: MANIFEST: SHA-256 differs: set 6 of today is damaged" "$O/audit/audit.log"
check "... the damaged set is left beside it as it is" sh -c "! (cd '$T/repo.sets/6' && awk '{print \$1 \"  \" \$3}' MANIFEST | sha256sum -c --quiet) >/dev/null 2>&1"
# truncated: its size is named
L432024=$(stat -c %s "$P/crl/432024.crl")
truncate -s 100 "$P/crl/432024.crl"
fails "the same day, 432024's CRL truncated: a new set, the size named (exit 9)" 9 \
	"^hanko-online publish: warning: CPS 2-6-2: .*/repo\.sets/7/crl/432024\.crl: MANIFEST: size is 100, not $L432024: set 7 of today is damaged" \
	pub --clock 2026-04-05T06:00:00Z
check "... set 8" test "$(set_of)" = "repo.sets/8"
check "... 432024's CRL whole again: it verifies with the issuing CA (openssl crl -verify)" crl_ok 432024
ok "the same day, the set intact again: nothing published" pub --clock 2026-04-05T07:00:00Z
check "... set 8 stays" grep -q "^Nothing to publish: set 8 " "$HANKO_TMP/out"
# A run that publishes anyway (the next day, --now) checks the set it
# replaces too, beside its signing: a file damaged while that set was out
# has been served damaged, and a person must look (exit 9). The new set is
# whole; the damaged one stays beside it.
flip_byte "$P/root/gen-1.cer" 20
check "root/gen-1.cer of set 8 damaged" eval "! set_ok '$P'"
fails "the next day, a certificate of set 8 damaged: set 9 published, the file named (exit 9)" 9 \
	"^hanko-online publish: warning: CPS 2-6-2: .*/repo\.sets/8/root/gen-1\.cer: MANIFEST: SHA-256 differs: set 8 was damaged \(a disk fault or an edit\) while it was out: replaced by this run's set; check the repository's disk and who can write to it$" \
	pub --clock 2026-04-06T03:00:00Z
check "... set 9, every file as its MANIFEST says" sh -c "test '$(set_of)' = repo.sets/9 && (cd '$T/repo.sets/9' && awk '{print \$1 \"  \" \$3}' MANIFEST | sha256sum -c --quiet)"
check "... the warning is audited" grep -q "	publish.warning	fail	op1@ca-online	CPS 2-6-2: .*/repo.sets/8/root/gen-1.cer: MANIFEST: SHA-256 differs: set 8 was damaged" "$O/audit/audit.log"
check "... set 8 left beside it as it is" sh -c "! (cd '$T/repo.sets/8' && awk '{print \$1 \"  \" \$3}' MANIFEST | sha256sum -c --quiet) >/dev/null 2>&1"
truncate -s 10 "$P/crl/432105.crl"
rm "$P/issuing/issuing-1.cer"
fails "--now, two files of set 9 damaged: set 10, the first named, the other counted (exit 9)" 9 \
	"^hanko-online publish: warning: CPS 2-6-2: .*/repo\.sets/9/crl/432105\.crl: MANIFEST: size is 10, not [0-9]+ \(and 1 more file of set 9 not as its MANIFEST says\): set 9 was damaged \(a disk fault or an edit\) while it was out: replaced by this run's set; check" \
	pub --clock 2026-04-06T04:00:00Z --now
check "... set 10 whole" sh -c "test '$(set_of)' = repo.sets/10 && (cd '$T/repo.sets/10' && awk '{print \$1 \"  \" \$3}' MANIFEST | sha256sum -c --quiet)"
ok "the next day, set 10 intact: published without a warning" pub --clock 2026-04-07T03:00:00Z
check "... set 11" test "$(set_of)" = repo.sets/11

# A clock behind the set out (set back, or ahead when that set was
# published), on another day in JST: the CRLs signed now are dated before
# the ones they replace, which NSS refuses (SEC_ERROR_OLD_CRL: not later
# than the one it holds). Published (a clock that was ahead is put right
# this way), but exit 9 naming the clock.
N11=$(crl_number 431010)
fails "the clock set back 15 h (another day in JST): published, the clock named (exit 9)" 9 \
	"^hanko-online publish: warning: CPS 4-4-9: the clock reads 2026-04-06T12:00:00Z, before 2026-04-07T03:00:00Z, the thisUpdate of set 11's CRLs: the CRLs published now are older than those they replace, and NSS refuses a CRL not later than the one it holds \(SEC_ERROR_OLD_CRL\); the clock was set back, or was ahead when set 11 was published: put it right \(timedatectl\) and publish --now$" \
	pub --clock 2026-04-06T12:00:00Z
check "... set 12, numbers +1, thisUpdate the clock's" sh -c "test '$(set_of)' = repo.sets/12 &&
	grep -q ' crl/431010.crl 2026-04-06T12:00:00Z 2026-04-09T12:00:00Z $((N11 + 1))\$' '$P/MANIFEST'"
check "... the warning is audited" grep -q "	publish.warning	fail	op1@ca-online	CPS 4-4-9: the clock reads 2026-04-06T12:00:00Z, before 2026-04-07T03:00:00Z" "$O/audit/audit.log"

# CPS 4-4-10: the ARLs run out within 7 days: published, exit 9.
N5=$(crl_number 431010)
fails "CPS 4-4-10: the ARLs run out within 7 days: published with a warning" 9 \
	"warning: CPS 4-4-10: the imported ARLs run out at 2026-04-14T11:00:00Z \(within 7 days\)" \
	pub --clock 2026-04-08T03:00:00Z
check "... published all the same (ARL 6, numbers +1)" test "$(crl_number 431010)" = $((N5 + 1)) -a \
	"$(cmp -s "$P/arl.crl" "$S/certs/arl/arl-6.crl" && echo same)" = same

# One rule picks the issuing CA (hk_online_current_issuer): a later stored
# certificate of the same key that is not valid yet (a re-certification
# imported early; made here for the token's key with a real-clock
# notBefore, after every clock of this test) is passed over, by publish
# and issue alike, for the latest one valid now.
openssl x509 -in "$ISS" -noout -pubkey >"$T/iss-pub.pem"
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/other.key" -subj /CN=not-yet -out "$T/other.csr" 2>/dev/null
openssl x509 -req -in "$T/other.csr" -signkey "$T/other.key" -force_pubkey "$T/iss-pub.pem" -days 30 \
	-outform DER -out "$T/not-yet.der" 2>/dev/null
ok "store: a later issuing certificate of the same key, not valid yet (sqlite3)" sqlite3 "$O/store.db" \
	"INSERT INTO ca_certs (sha256, kind, generation, subject, der) VALUES (x'$(sha256sum "$T/not-yet.der" | cut -c1-64)', 'issuing', 1, 'CN=not-yet', x'$(od -An -tx1 -v "$T/not-yet.der" | tr -d ' \n')')"
fails "publish passes over it (the ARLs run out: exit 9)" 9 "the imported ARLs run out" pub --clock 2026-04-08T04:00:00Z --now
check "... its CRLs are the issuing CA's, and verify" sh -c \
	"openssl crl -inform DER -in '$P/crl/432024.crl' -CAfile '$ISS' -noout -verify 2>&1 | grep -qx 'verify OK'"
sed -n 1p "$REQ/valid.csv" >"$B/later.csv"
sed -n 9p "$REQ/valid.csv" >>"$B/later.csv"
ok "issue passes over it too" "$ON" issue --state "$O" --clock 2026-04-08T04:00:00Z --batch "$B/later.csv" --out "$T/issued-later"
certs_from "$T/issued-later"
openssl x509 -inform DER -in "$T/issued-later/certs/$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/issued-later/results.csv").der" -out "$T/later.pem"
check "... the certificate verifies with the issuing CA" sh -c \
	"openssl verify -partial_chain -attime 1775620800 -CAfile '$ISS' '$T/later.pem' | grep -q ': OK$'"

# A failed login changes nothing: no new set, numbers unchanged.
cp -p "$O/secrets/token-user-pin" "$T/pin.keep"
echo 000000 >"$O/secrets/token-user-pin"
L=$(set_of); SETS=$(ls -a "$T/repo.sets"); NUMS=$(db "SELECT * FROM crl_numbers ORDER BY partition")
fails "a wrong token PIN: nothing published" 5 "" pub --clock 2026-04-09T03:00:00Z
check "... the link, the sets and the numbers unchanged" test "$(set_of)" = "$L" -a "$(ls -a "$T/repo.sets")" = "$SETS" -a \
	"$(db "SELECT * FROM crl_numbers ORDER BY partition")" = "$NUMS"
cp -p "$T/pin.keep" "$O/secrets/token-user-pin"

# CPS 4-11-1, 4-11-3: the internal auditor's weekly review (audit review,
# docs/audit-log.md "Weekly review") of the JST week 2026-04-04 to 04-10:
# the issue, the revocations and publications above, then a refused import,
# an audit note, no publication on 04-09 and 04-10 (JST), and a clock set
# back and accepted. Its counts are the log's (awk), its lists name what
# needs the auditor, its last line is the SHA-256 of the text above it, and
# it writes nothing.
fails "a refused import: the ARL bundle again (replay)" 3 "replay or older" \
	"$ON" import --state "$O" --clock 2026-04-09T04:00:00Z "$T/b-arl"
ok "audit note: the auditor enters the room" "$ON" audit note --state "$O" --clock 2026-04-09T05:00:00Z \
	--event room.enter --actors aud1 --text "internal audit, weekly"
pub --clock 2026-04-10T18:30:00Z >/dev/null 2>&1 || true	# 04-11 03:30 JST: 04-09 and 04-10 had none
check "... the next publication at 2026-04-10T18:30:00Z" grep -q "^[0-9]*	2026-04-10T18:30:00Z	publish.done	ok	" "$O/audit/audit.log"
ok "a clock 90 min behind accepted (clock.accept)" "$ON" clock --state "$O" --clock 2026-04-10T17:00:00Z \
	--accept-set-back --actors cam1,op1
W0=2026-04-03T15:00:00Z W1=2026-04-10T23:59:59Z	# 04-04 00:00 to 04-10 24:00 JST, and the morning after
RV=(--since "$W0" --until "$W1")
# inp: the period's records (tab-separated fields), by the review's rule
inp() { awk -F'\t' -v a="$W0" -v b="$W1" '$2 >= a && $2 <= b' "$O/audit/audit.log"; }
L0=$(sha256sum "$O/audit/audit.log" "$O/audit/audit.log.head")
fails "audit review of the week: exit 9, naming the lines to read" 9 \
	"^hanko-online audit: audit review: [0-9]+ lines need the auditor's attention \(listed above\)$" \
	"$ON" audit review --state "$O" --clock 2026-04-11T00:00:00Z "${RV[@]}" --hours 08:00-19:00
cp "$T/out" "$T/review.txt"
R=$T/review.txt
check "... read-only: the log and its head file unchanged (no log.review record)" test "$(sha256sum "$O/audit/audit.log" "$O/audit/audit.log.head")" = "$L0"
check "... it begins with audit verify's OK line" grep -q "^$O/audit/audit.log: OK: .* (signatures verified)" "$R"
check "... the log id the record numbers are of (the genesis record's)" grep -qx \
	"  log $(head -1 "$O/audit/audit.log" | cut -f6 | sed 's/.*log-id=//'): the record numbers below are this log's" "$R"
check "... the period: its limits, first and last record and their count (awk)" grep -qx \
	"  records $(inp | head -1 | cut -f1) to $(inp | tail -1 | cut -f1): $(inp | wc -l) records, $(inp | head -1 | cut -f2) to $(inp | tail -1 | cut -f2)" "$R"
check "... the checkpoints in it (awk)" grep -qx "  checkpoints in the period: $(inp | grep -c '	audit.checkpoint	') (records $(inp | awk -F'\t' '$3 == "audit.checkpoint"' | head -1 | cut -f1) to $(inp | awk -F'\t' '$3 == "audit.checkpoint"' | tail -1 | cut -f1))" "$R"
section() { sed -n "/^$1/,/^[^ ]/p" "$R" | sed '1d;$d' | LC_ALL=C sort; }
check "... the counts per event and result are the log's (awk)" test "$(section 'Counts per event')" = \
	"$(inp | awk -F'\t' '{ n[$3 " " $4]++ } END { for (k in n) print "  " k ": " n[k] }' | LC_ALL=C sort)"
check "... among them the refused import, the revocations, the note and the acceptance" sh -c \
	"grep -qx '  bundle.import fail: 1' '$R' && grep -qx '  cert.revoke ok: 1' '$R' && grep -qx '  room.enter ok: 1' '$R' && grep -qx '  clock.accept ok: 1' '$R'"
check "... the counts per actor are the log's (awk)" test "$(section 'Counts per actor')" = \
	"$(inp | awk -F'\t' '{ k = split($5, a, ","); for (i = 1; i <= k; i++) n[a[i]]++ } END { for (k in n) print "  " k ": " n[k] }' | LC_ALL=C sort)"
NOK=$(inp | awk -F'\t' '$4 != "ok"' | wc -l)
check "... every record not ok is listed ($NOK, awk), one line each" sh -c \
	"grep -qx 'Not ok (fail, refusals, every result but ok): $NOK' '$R' && test \$(sed -n '/^Not ok/,/^Always/p' '$R' | grep -c '^  [0-9]') = $NOK"
check "... the refused import's line: seq, time, event, result, actor, details" grep -Eq \
	"^  $(grep '	bundle.import	fail	' "$O/audit/audit.log" | tail -1 | cut -f1) 2026-04-09T04:00:00Z bundle.import fail op1@ca-online $T/b-arl: " "$R"
check "... the note and the clock acceptance are in the list always read" sh -c \
	"sed -n '/^Always read/,/^Cadence/p' '$R' | grep -Eq '^  [0-9]+ 2026-04-09T05:00:00Z room.enter ok aud1 internal audit, weekly \(entered by op1@ca-online\)$' &&
	 sed -n '/^Always read/,/^Cadence/p' '$R' | grep -Eq '^  [0-9]+ 2026-04-10T17:00:00Z clock.accept ok cam1,op1 CPS 4-12-2-5: the clock reads'"
BS=$(awk -F'\t' -v a="$W0" -v b="$W1" '$2 >= a && $2 <= b && p != "" && $2 < p { n++ } { p = $2 } END { print n + 0 }' "$O/audit/audit.log")
check "... each record older than the one before it ($BS, awk) is named" test "$(grep -c ': older than the record before it (' "$R")" = "$BS" -a "$BS" -ge 2
check "... the gaps: no publication on 04-09 and 04-10 (JST), no backup all week" test "$(sed -n '/^Cadence gaps/,/^Outside/p' "$R")" = \
"Cadence gaps (CPS 4-4-9 publication, 4-11-6 backup): 3
  publication: none on 2026-04-09 (JST): no publish.done ok record that day (CPS 4-4-9: CRLs every 24 hours)
  publication: none on 2026-04-10 (JST): no publish.done ok record that day (CPS 4-4-9: CRLs every 24 hours)
  backup: none from $W0 (the period's start) to $W1 (the period's end): 176 h, over 26 h (CPS 4-11-6: daily)
Outside the working hours 08:00-19:00 JST: $(inp | awk -F'\t' '$5 != "-" { split($2, t, /[T:]/); h = (t[2] + 9) % 24; if (h < 8 || h >= 19) n++ } END { print n + 0 }')"
check "... the last line is the SHA-256 of every line before it" test "$(tail -1 "$R")" = \
	"SHA-256 of the review above (every line before this one): $(head -n -1 "$R" | sha256sum | cut -c1-64)"
# Periods not aligned to JST midnight (the default: 7 days up to the
# clock): each JST day is checked by the review whose period it ends in,
# its publications looked for over the whole day. 04-08 (JST) had its
# publication before the first period began; 04-09 had none, and ends in
# the second period, which begins after that day did.
"$ON" audit review --state "$O" --clock 2026-04-11T00:00:00Z --since 2026-04-08T05:00:00Z --until 2026-04-09T05:00:00Z >"$T/out" 2>/dev/null || true
check "a period from 04-08 14:00 JST: 04-08's publication, before it, is found" test "$(grep -c '^  publication: ' "$T/out")" = 0
"$ON" audit review --state "$O" --clock 2026-04-11T00:00:00Z --since 2026-04-09T05:00:01Z --until 2026-04-10T05:00:00Z >"$T/out" 2>/dev/null || true
check "the next one, from 04-09 14:00:01 JST: 04-09, which ends in it, had none" test "$(grep '^  publication: ' "$T/out")" = \
	"  publication: none on 2026-04-09 (JST): no publish.done ok record that day (CPS 4-4-9: CRLs every 24 hours)"
fails "--routine-actors op1@ca-online: only the acceptance (cam1,op1 at 02:00 JST) is outside the hours" 9 "lines need" \
	"$ON" audit review --state "$O" --clock 2026-04-11T00:00:00Z "${RV[@]}" --hours 08:00-19:00 --routine-actors op1@ca-online
check "... one line" sh -c "sed -n '/^Outside/,/^Needs/p' '$T/out' | grep -c '^  ' | grep -qx 1 &&
	grep -Eq '^  [0-9]+ 2026-04-10T17:00:00Z clock.accept ok cam1,op1 ' '$T/out' && grep -q '^Outside the working hours 08:00-19:00 JST, but for op1@ca-online: 1$' '$T/out'"
CA=$(grep '	clock.accept	' "$O/audit/audit.log" | cut -f1)
LAST=$(tail -1 "$O/audit/audit.log" | cut -f1)
fails "--from-seq $CA (the acceptance) to the log's end" 9 "lines need" \
	"$ON" audit review --state "$O" --clock 2026-04-11T00:00:00Z --from-seq "$CA"
check "... the period: from record $CA; records $CA to $LAST" sh -c "grep -qx 'Period: from record $CA to 2026-04-11T00:00:00Z (JST, UTC+9, for days and hours)' '$T/out' &&
	grep -q '^  records $CA to $LAST: $((LAST - CA + 1)) records, ' '$T/out'"
ok "a quiet half hour: nothing needs attention (exit 0)" "$ON" audit review --state "$O" --clock 2026-04-11T00:00:00Z \
	--since 2026-04-10T19:00:00Z --until 2026-04-10T19:30:00Z
check "... said so: no records, nothing to read" sh -c "grep -qx '  no records in the period' '$T/out' && grep -qx 'Nothing needs the auditor.s attention (exit 0)' '$T/out'"
# the week before the log began (init at 2026-04-02T00:00:00Z, 09:00 JST):
# no gap is claimed for days the log does not cover (CPS 4-4-9, 4-11-6)
"$ON" audit review --state "$O" --clock 2026-04-11T00:00:00Z --since 2026-03-28T15:00:00Z \
	--until 2026-04-03T14:59:59Z >"$T/out" 2>"$T/err" || true
check "a period begun before the log: its cadence from the log's first record, no day before it a gap" sh -c \
	"sed -n '/^Cadence gaps/,/^Working/p' '$T/out' >'$T/gaps' &&
	 ! grep -Eq 'publication: none on 2026-0(3-(29|30|31)|4-0[12])' '$T/gaps' &&
	 ! grep -q \"the period's start\" '$T/gaps'"
# a copy (--log, --key): its period ends at its last record
mkdir -p "$T/copy"
cp "$O/audit/audit.log" "$O/audit/audit.log.head" "$T/copy/"
fails "a copy: reviewed the same (--log --key), to its last record" 9 "lines need" \
	"$ON" audit review --log "$T/copy/audit.log" --key "$O/audit/audit-key.pem" --since "$W0"
check "... to $(tail -1 "$T/copy/audit.log" | cut -f2), the copy's last record" grep -qx \
	"Period: $W0 to $(tail -1 "$T/copy/audit.log" | cut -f2) (JST, UTC+9, for days and hours)" "$T/out"
sed -i "$((CA + 1))s/cam1,op1/cam1,op2/" "$T/copy/audit.log"
fails "a tampered copy (the acceptance's actors changed) is refused as audit verify refuses it (exit 6)" 6 \
	"^hanko-online audit: $T/copy/audit.log:$((CA + 1)): record $CA: hash does not match its contents" \
	"$ON" audit review --log "$T/copy/audit.log" --key "$O/audit/audit-key.pem" --since "$W0"
check "... and prints no review" test ! -s "$T/out"
fails "bad option: --since not a time" 2 "^hanko-online audit: --since 2026-04-04: must be a time YYYY-MM-DDTHH:MM:SSZ \(UTC\)$" \
	"$ON" audit review --state "$O" --since 2026-04-04
fails "bad option: --since and --from-seq" 2 "^hanko-online audit: --since $W0, --from-seq 3: give one of them, not both$" \
	"$ON" audit review --state "$O" --since "$W0" --from-seq 3
fails "bad option: --until before --since" 2 "^hanko-online audit: --until $W0: before --since $W1$" \
	"$ON" audit review --state "$O" --since "$W1" --until "$W0"
fails "bad option: --hours 25:00-08:00" 2 "^hanko-online audit: --hours 25:00-08:00: must be HH:MM-HH:MM" \
	"$ON" audit review --state "$O" --hours 25:00-08:00
fails "bad option: --log without --key" 2 "^hanko-online audit: --log $T/copy/audit.log: needs --key PEM" \
	"$ON" audit review --log "$T/copy/audit.log"
fails "bad option: an unknown one" 2 "^hanko-online audit: --week: unknown option" \
	"$ON" audit review --state "$O" --week
check "... none printed a review" test ! -s "$T/out"

# PROFILE.md: issuing CA 1 (to 2031-04-02T09:00:00Z) covers its issuing
# window + 3 years, so a 3-year certificate fits until 2028-04-02T09:00:00Z
# (issue refuses after it); the daily run warns 90 days ahead.
pub --clock 2028-01-02T03:00:00Z --now >/dev/null 2>"$T/w91.err" || true
check "91 days before issuing CA 1's window closes: no such warning" sh -c "! grep -q 'issuing CA 1' '$T/w91.err'"
fails "89 days before: a warning naming the day and the next step (exit 9)" 9 \
	"issuing CA 1 can issue 3-year certificates until 2028-04-02T09:00:00Z; request the next generation now: hanko-online request --type csr" \
	pub --clock 2028-01-04T03:00:00Z --now
check "... audited publish.warning" grep -q "	publish.warning	fail	op1@ca-online	PROFILE.md: issuing CA 1 can issue 3-year certificates until 2028-04-02T09:00:00Z" "$O/audit/audit.log"
fails "after that day: 'could issue only until'" 9 "issuing CA 1 could issue 3-year certificates only until 2028-04-02T09:00:00Z" \
	pub --clock 2028-04-03T03:00:00Z --now

# PROFILE.md: an entry stays on its CRL until its certificate expires; RFC
# 5280 3.3: and until one CRL issued after the expiry has listed it.
NA=$(openssl x509 -inform DER -in "$T/issued/certs/$S_KC.der" -noout -enddate | cut -d= -f2)
check "the revoked certificates expire 2029-04-02T11:59:59Z" test "$NA" = "Apr  2 11:59:59 2029 GMT"
fails "at the last second of its validity the entry is still listed" 9 "no imported ARL is current" \
	pub --clock 2029-04-02T11:59:59Z
check "... 431010's CRL lists it" sh -c "openssl crl -inform DER -in '$P/crl/431010.crl' -noout -text | grep -q '$S_KC'"
fails "the first CRL after the expiry still lists it (RFC 5280 3.3)" 9 "no imported ARL is current" \
	pub --clock 2029-04-02T12:00:00Z --now
check "... 431010's CRL lists it" sh -c "openssl crl -inform DER -in '$P/crl/431010.crl' -noout -text | grep -q '$S_KC'"
check "... its thisUpdate is after the certificate's notAfter" sh -c \
	"openssl crl -inform DER -in '$P/crl/431010.crl' -noout -lastupdate | grep -qx 'lastUpdate=Apr  2 12:00:00 2029 GMT'"
fails "the next one does not" 9 "no imported ARL is current" pub --clock 2029-04-02T12:00:01Z --now
check "... 431010's CRL lists nothing" sh -c "! openssl crl -inform DER -in '$P/crl/431010.crl' -noout -text | grep -q 'Serial Number'"
check "... its cache was rebuilt without it" grep -q "	crl.publish	ok	op1@ca-online	partition 431010 .*entries 0 (cache rebuilt)" "$O/audit/audit.log"
check "... and the CRL still verifies" sh -c \
	"openssl crl -inform DER -in '$P/crl/431010.crl' -CAfile '$ISS' -noout -verify 2>&1 | grep -qx 'verify OK'"

ok "the online audit log verifies (checkpoints by audit-1)" "$OFF" audit verify --state "$O"
finish

#!/usr/bin/env bash
# t_online_publish_arl.sh - the ARL of the day after an emergency ARL
# (CPS 4-4-9, 4-4-10; RFC 5280 5.2.3; PROFILE.md "CRL number: strictly
# increasing across batches"; docs/publish.md): a batch of 10 ARLs is
# imported, then the root revokes issuing CA 1 with an emergency ARL (11,
# the next number). Publish releases ARL 11 and warns at once that only
# ARL 11 counts for the horizon; once ARL 11 has expired it never falls
# back to ARL 5 of the older batch (signed before the revocation): it
# keeps arl.crl 11, exits 9 and says to import a batch made after ARL 11;
# that batch is then released and lists the revocation.
. "$(dirname "$0")/online.sh"
P=$T/repo
pub() { "$ON" publish --state "$O" --repo "$P" "$@"; }
arl_number() { printf '%d' "$(openssl crl -inform DER -in "$P/arl.crl" -noout -crlnumber | cut -d= -f2)"; }
lists() { openssl crl -inform DER -in "$1" -noout -text | grep -A4 -i "Serial Number: $ISER" | grep -q Superseded; }
A=$S/certs/arl

# Batch 1: ARLs 1..10 from 2026-04-02T11:00, one a day, each valid 72 h.
ok "offline: arl-batch of 10 (2026-04-02T11:00)" arl_batch 10 2026-04-02T11:00:00Z
ok "offline: bundle of ARLs 1..10" arl_bundle 10 2026-04-02T12:00:00Z
ok "import ARLs 1..10" "$ON" import --state "$O" --clock 2026-04-02T12:30:00Z --type arl-batch "$T/b-arl"
ok "publish (2026-04-03T03:00): ARL 1" pub --clock 2026-04-03T03:00:00Z
check "... arl.crl is ARL 1" test "$(arl_number)" = 1

# Six residents issued under issuing CA 1 before the root revokes it.
req_dir "$T/r"
six_residents "$T/r/batch.csv"
ok "issue six residents under issuing CA 1 (2026-04-03T04:00)" "$ON" issue --state "$O" \
	--clock 2026-04-03T04:00:00Z --batch "$T/r/batch.csv" --out "$T/r/out"
# A batch killed part-way (held inside a write of the store's -wal, then
# SIGKILL): rows of it left pending under issuing CA 1.
req_dir "$T/k"
many_residents 40 74000000000 >"$T/k/batch.csv"
cc -shared -fPIC -o "$T/pausewrite.so" "$HANKO_SRC/test/data/online/pausewrite.c" -ldl
env HK_PAUSE_WRITE="$T/kw" HK_PAUSE_WRITE_PATH="*/online/store.db-wal" HK_PAUSE_WRITE_SKIP=150 \
	LD_PRELOAD="$T/pausewrite.so" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$ON" issue --state "$O" --clock 2026-04-03T04:30:00Z --chunk 16 --batch "$T/k/batch.csv" \
	--out "$T/k/out" >"$T/k.out" 2>&1 &
KPID=$!
for _ in $(seq 6000); do [ -e "$T/kw.reached" ] && break; sleep 0.02; done
check "a batch held part-way" test -e "$T/kw.reached"
{ kill -KILL "$KPID" && wait "$KPID"; } 2>/dev/null || true
PENDING=$(db "SELECT count(*) FROM certificates WHERE status = 'pending'")
check "... killed: $PENDING rows left pending" test "$PENDING" -gt 0

# The root revokes issuing CA 1 with an emergency ARL: number 11.
ISER=$(grep -v '^#' "$S/issued.txt" | awk -F'\t' '$2 == "issuing" {print $1}')
sed "s/serial: \"00\"/serial: \"$ISER\"/" "$HANKO_SRC/ceremony-scripts/revoke.yaml" >"$T/revoke.yaml"
ok "offline: revoke issuing CA 1 (superseded), emergency ARL 11 (2026-04-03T11:30)" "$OFF" ceremony run \
	"$T/revoke.yaml" --state "$S" --clock 2026-04-03T11:30:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
check "ARL 11 lists issuing CA 1; ARL 5 of the older batch does not" sh -c \
	"$(declare -f lists); ISER=$ISER; lists '$A/arl-11.crl' && ! lists '$A/arl-5.crl'"
ok "offline: bundle of ARL 11" "$OFF" bundle create --state "$S" --clock 2026-04-03T12:00:00Z --type arl-batch \
	--out "$T/b-arl11" "${SH[@]}" "$A/arl-11.crl"
# (a backup of the store without ARL 11, restored at the end)
ok "back up store.db before ARL 11 is imported (sqlite3 .backup)" sqlite3 "$O/store.db" ".backup $T/before-11.db"
ok "import ARL 11" "$ON" import --state "$O" --clock 2026-04-03T12:00:00Z --type arl-batch "$T/b-arl11"

# CPS 4-14-2 (docs/publish.md "An issuing CA the root revokes"): from the
# import of ARL 11 on, nothing is issued or certified under issuing CA 1;
# its CRLs go on being published (below).
REFUSED="^hanko-online (issue|responder): store.db: ARL 11 revokes issuing CA 1's certificate serial $ISER \(superseded, revoked 2026-04-03T11:30:00Z\): CPS 4-14-2: the root has revoked this issuing CA: .*hanko-online request --type csr"
rows() { db "SELECT count(*) || ' ' || coalesce(max(rowid), 0) FROM certificates"; }
records() { grep -cE '	(cert\.reserve|issue\.start|cert\.issue)	' "$O/audit/audit.log"; }
ROWS=$(rows) RECS=$(records)
req_dir "$T/r2"
many_residents 3 73000000000 >"$T/r2/batch.csv"
fails "issue after ARL 11: refused, naming the serial, the ARL, reason and time (exit 3)" 3 "$REFUSED" \
	"$ON" issue --state "$O" --clock 2026-04-03T12:00:00Z --batch "$T/r2/batch.csv" --out "$T/r2/out"
check "... what the killed batch left pending is voided, never signed (cert.void naming ARL 11, no cert.recover)" sh -c \
	"[ \"\$(sqlite3 '$O/store.db' \"SELECT count(*) FROM certificates WHERE status = 'pending'\")\" = 0 ] &&
	 [ \"\$(sqlite3 '$O/store.db' \"SELECT count(*) FROM certificates WHERE status = 'void'\")\" = $PENDING ] &&
	 [ \"\$(grep -c '	cert.void	fail	.*the root has revoked its issuing CA (CPS 4-14-2): ARL 11 revokes' '$O/audit/audit.log')\" = $PENDING ] &&
	 ! grep -q '	cert.recover	' '$O/audit/audit.log'"
fails "the killed batch run again (the journal's, resumed): refused the same" 3 "$REFUSED" \
	"$ON" issue --state "$O" --clock 2026-04-03T12:00:00Z --batch "$T/k/batch.csv" --out "$T/k/out"
check "... nothing reserved or signed: no certificate row, no cert.reserve, issue.start or cert.issue record, no output" \
	sh -c "[ '$(rows)' = '$ROWS' ] && [ \"\$(grep -cE '	(cert\.reserve|issue\.start|cert\.issue)	' '$O/audit/audit.log')\" = '$RECS' ] &&
	 [ ! -e '$T/r2/out' ] && [ ! -e '$T/k/out/results.csv' ]"
fails "responder after ARL 11: refused the same (exit 3)" 3 "$REFUSED" \
	"$ON" responder --state "$O" --clock 2026-04-03T12:00:00Z
check "... no responder made" sh -c "! grep -q '^responder\.' '$O/state.conf'"
fails "responder --generation 1: refused the same (exit 3)" 3 "$REFUSED" \
	"$ON" responder --state "$O" --clock 2026-04-03T12:00:00Z --generation 1
rc=0
"$ON" status --state "$O" --clock 2026-04-03T12:00:00Z >"$T/st.out" 2>"$T/st.err" || rc=$?
check "status: exit 9, issuing CA 1 revoked by the root (ARL 11), a warning naming it" sh -c \
	"[ $rc = 9 ] && grep -qx 'issuing: generation 1: revoked by the root: ARL 11 revokes issuing CA 1.s certificate serial $ISER (superseded, revoked 2026-04-03T11:30:00Z) (CPS 4-14-2, 4-10)' '$T/st.out' &&
	 grep -qx 'issuing: generation 1: current, revoked by the root: issue and responder refuse under it, publish goes on with its CRLs (CPS 4-14-2)' '$T/st.out' &&
	 ! grep -q 'current (issue, publish and responder sign with it)' '$T/st.out' &&
	 grep -q '^hanko-online status: warning: CPS 4-14-2: ARL 11 revokes issuing CA 1.s certificate serial $ISER .*: issuing generation 1, the current one, is revoked by the root: issue and responder refuse under it; make the next generation' '$T/st.err'"
# The way out: the next generation's request. The offline reader refuses
# a bundle the revoked certificate signs (SPEC 13.4), so it goes alone,
# its SHA-256 read aloud (docs/air-gap.md).
ok "request --type csr after ARL 11: the request alone, no bundle" "$ON" request --state "$O" \
	--clock 2026-04-03T12:00:00Z --type csr --out "$T/r-csr2"
check "... issuing-2.csr.der and no manifest; stdout names ARL 11" sh -c \
	"[ -s '$T/r-csr2/issuing-2.csr.der' ] && [ ! -e '$T/r-csr2/manifest' ] &&
	 grep -q '^Issuing generation 1 is revoked by the root (ARL 11 revokes issuing CA 1.s certificate serial $ISER' '$HANKO_TMP/out'"
cp "$O/state.conf" "$T/state.before-rev"
fails "request --type revocation-request after ARL 11: refused, no bundle (the root refuses what a revoked issuing CA signs)" 3 \
	"^hanko-online request: issuing generation 1 is revoked by the root \\(ARL 11 revokes issuing CA 1's certificate serial $ISER .*\\): the offline reader refuses a bundle its certificate signs \\(SPEC 13.4\\); no revocation request made" \
	"$ON" request --state "$O" --clock 2026-04-03T12:00:00Z --type revocation-request --reason key-compromise --out "$T/r-rev2"
check "... nothing made, state.conf unchanged (no sequence number spent)" sh -c \
	"[ ! -e '$T/r-rev2' ] && cmp -s '$T/state.before-rev' '$O/state.conf'"

# CPS 4-4-9: published at once. ARL 11 runs out on 04-06; the ARLs of
# batch 1 that last until 04-14 do not count: warned now, in advance.
fails "publish --now: ARL 11 released, and its expiry within 7 days warned (exit 9)" 9 \
	"warning: CPS 4-4-10: the imported ARLs run out at 2026-04-06T11:30:00Z \(within 7 days; ARLs numbered below 11 do not count\)" \
	pub --clock 2026-04-03T12:00:00Z --now
check "... arl.crl is ARL 11 and lists issuing CA 1" sh -c \
	"[ $(arl_number) = 11 ] && $(declare -f lists); ISER=$ISER; lists '$P/arl.crl'"
fails "the daily run of 04-05: ARL 11, the same warning" 9 "the imported ARLs run out at 2026-04-06T11:30:00Z" \
	pub --clock 2026-04-05T03:00:00Z
check "... arl.crl is ARL 11" test "$(arl_number)" = 11

# ARL 11 has expired; ARL 5 (04-06T11:00..04-09T11:00) covers now but was
# signed before the revocation: never released after ARL 11.
S_BEFORE=$(readlink "$P")
fails "04-07, ARL 11 expired: ARL 5 is not released, arl.crl 11 kept (exit 9)" 9 \
	"^hanko-online publish: warning: CPS 4-4-10: RFC 5280 5.2.3: the stored ARL current at 2026-04-07T03:00:00Z is ARL 5, numbered below ARL 11 already out .*: not released, arl.crl 11 of set [0-9]+ kept: hold the arl-batch ceremony and import a batch made after ARL 11$" \
	pub --clock 2026-04-07T03:00:00Z
check "... the CRLs are published all the same (a new set)" test "$(readlink "$P")" != "$S_BEFORE"
check "... arl.crl is still ARL 11 (MANIFEST: number 11) and lists issuing CA 1" sh -c \
	"[ $(arl_number) = 11 ] && grep -q ' arl.crl 2026-04-03T11:30:00Z 2026-04-06T11:30:00Z 11$' '$P/MANIFEST' &&
	 $(declare -f lists); ISER=$ISER; lists '$P/arl.crl'"
check "... it still verifies with the root (openssl crl -verify)" sh -c \
	"openssl crl -inform DER -in '$P/arl.crl' -CAfile '$R' -noout -verify 2>&1 | grep -qx 'verify OK'"
check "... the warning is audited, and arl.release says it was kept" sh -c \
	"grep -q '	publish.warning	fail	.*ARL 5, numbered below ARL 11' '$O/audit/audit.log' &&
	 grep -q '	arl.release	ok	op1@ca-online	ARL 11: .*(kept: the highest already out' '$O/audit/audit.log'"
fails "a second run that day publishes nothing, and warns again (exit 9)" 9 "ARL 5, numbered below ARL 11" \
	pub --clock 2026-04-07T05:00:00Z
check "... says so on stdout" grep -q "^Nothing to publish" "$HANKO_TMP/out"
fails "--now the same: ARL 11 kept" 9 "ARL 5, numbered below ARL 11" pub --clock 2026-04-07T05:00:00Z --now
check "... arl.crl is ARL 11" test "$(arl_number)" = 11

# The current set's arl.crl damaged on disk: the CRLs (72 h) are still
# published, and ARL 11 is kept from the store's copy (imported with its
# bundle), not from the damaged file.
S_BEFORE=$(readlink "$P")
N_KU=$(openssl crl -inform DER -in "$P/crl/431010.crl" -noout -crlnumber)
printf 'damaged' >"$T/$S_BEFORE/arl.crl"
fails "arl.crl of the current set damaged: published, ARL 11 kept from the store (exit 9)" 9 \
	"ARL 5, numbered below ARL 11 .*: not released, arl.crl 11 of set [0-9]+ kept: hold the arl-batch" \
	pub --clock 2026-04-07T05:30:00Z --now
check "... its CRLs still signed by issuing CA 1 (revoked by the root: they go on, docs/publish.md)" sh -c \
	"openssl crl -inform DER -in '$P/crl/431010.crl' -CAfile '$ISS' -noout -verify 2>&1 | grep -qx 'verify OK'"
check "... a new set with new CRL numbers" sh -c \
	"[ '$(readlink "$P")' != '$S_BEFORE' ] && [ \"\$(openssl crl -inform DER -in '$P/crl/431010.crl' -noout -crlnumber)\" != '$N_KU' ]"
check "... its arl.crl is ARL 11, byte for byte ARL 11 of the root, and matches its MANIFEST line" sh -c \
	"cmp -s '$P/arl.crl' '$A/arl-11.crl' && grep -q ' arl.crl 2026-04-03T11:30:00Z 2026-04-06T11:30:00Z 11$' '$P/MANIFEST' &&
	 (cd '$P' && awk '{print \$1 \"  \" \$3}' MANIFEST | sha256sum -c --quiet)"
# A repository lost (a new one; the store, not restored, numbered last:
# --new-repository): ARL 11, expired, is what goes out as arl.crl (relying
# parties fail closed), never ARL 5.
fails "a new repository on 04-07: ARL 11 (expired) published as arl.crl, not ARL 5 (exit 9)" 9 \
	"ARL 5, numbered below ARL 11 .*: not released, ARL 11 \(expired at 2026-04-06T11:30:00Z\) published as arl.crl: hold" \
	"$ON" publish --state "$O" --repo "$T/repo-new" --clock 2026-04-07T05:40:00Z --new-repository
check "... its arl.crl is ARL 11" cmp -s "$T/repo-new/arl.crl" "$A/arl-11.crl"

# The remedy: a batch made after ARL 11 (it keeps the revocation).
ok "offline: arl-batch of 3 (ARLs 12..14, 2026-04-07T04:00)" arl_batch 3 2026-04-07T04:00:00Z
ok "offline: bundle of ARLs 12..14" "$OFF" bundle create --state "$S" --clock 2026-04-07T05:00:00Z --type arl-batch \
	--out "$T/b-arl12" "${SH[@]}" "$A"/arl-{12,13,14}.crl
ok "import ARLs 12..14" "$ON" import --state "$O" --clock 2026-04-07T05:50:00Z --type arl-batch "$T/b-arl12"
fails "publish --now: ARL 12 released (batch 1 no longer counts: warned)" 9 \
	"the imported ARLs run out at 2026-04-12T04:00:00Z \(within 7 days; ARLs numbered below 12 do not count\)" \
	pub --clock 2026-04-07T06:00:00Z --now
check "... arl.crl is ARL 12, lists issuing CA 1, verifies with the root" sh -c \
	"[ $(arl_number) = 12 ] && $(declare -f lists); ISER=$ISER; lists '$P/arl.crl' &&
	 openssl crl -inform DER -in '$P/arl.crl' -CAfile '$R' -noout -verify 2>&1 | grep -qx 'verify OK'"

# The store restored from the backup taken before ARL 11 was imported (it
# holds ARLs 1..10 only), and the current set's arl.crl (ARL 12) damaged:
# the store has no copy of ARL 12 and the file cannot be read. The CRLs are
# published, no arl.crl (never ARL 6 of the older batch), exit 9 naming the
# file and the rule; the store records ARL 12 as the floor, so the next
# day's run, whose set has no arl.crl, still releases no ARL below it.
check "the store holds ARL 12 as the highest out (crl_numbers: arl)" \
	test "$(db "SELECT number FROM crl_numbers WHERE partition = 'arl'")" = 12
cp "$T/before-11.db" "$O/store.db"
S_BEFORE=$(readlink "$P")
printf 'damaged' >"$T/$S_BEFORE/arl.crl"
fails "store restored without ARL 12, arl.crl damaged: CRLs published without arl.crl (exit 9 naming the file)" 9 \
	"^hanko-online publish: warning: CPS 4-4-10: RFC 5280 5.2.3: the stored ARL current at 2026-04-08T03:00:00Z is ARL 6, numbered below ARL 12 already out .*: not released, arl.crl not published \(.*/$S_BEFORE/arl.crl: size or SHA-256 is not its MANIFEST line's; the store holds no ARL 12\): hold the arl-batch ceremony and import a batch made after ARL 12$" \
	pub --clock 2026-04-08T03:00:00Z
check "... a new set, without arl.crl, that matches its MANIFEST" sh -c \
	"[ '$(readlink "$P")' != '$S_BEFORE' ] && [ ! -e '$P/arl.crl' ] && ! grep -q ' arl.crl ' '$P/MANIFEST' &&
	 (cd '$P' && awk '{print \$1 \"  \" \$3}' MANIFEST | sha256sum -c --quiet)"
check "... the restored store records ARL 12 as the floor" \
	test "$(db "SELECT number FROM crl_numbers WHERE partition = 'arl'")" = 12
fails "the next day (the set has no arl.crl): ARL 7 is not released either (exit 9)" 9 \
	"the stored ARL current at 2026-04-09T03:00:00Z is ARL 7, numbered below ARL 12 already out .*: not released, arl.crl not published: hold" \
	pub --clock 2026-04-09T03:00:00Z
check "... no arl.crl" test ! -e "$P/arl.crl"

ok "the online audit log verifies (checkpoints by audit-1)" "$OFF" audit verify --state "$O"
finish

#!/usr/bin/env bash
# t_online_import.sh - "hanko-online trust" and "import" (issue 5 item 1,
# issue 4 reader on the online side): a rehearsal root made by the offline
# side, the online issuing CSR certified by the issue-subca ceremony, ARLs
# by the arl-batch ceremony, carried as bundles made by "hanko-offline
# bundle create"; the root pinned only with the fingerprint the operators
# read; each bundle stored by type; replays, older bundles, tampered
# bundles and wrong contents refused, with the store, bundles.seen and the
# bundles folder unchanged after every refusal.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
fresh_tmp
T=$HANKO_TMP
ON=$HANKO_ONLINE
O=$T/online
C=(--clock 2026-04-02T10:00:00Z)
IM=(--clock 2026-04-02T11:00:00Z)	# trust and import: the bundles an hour old

# Offline: root, then the online side's request certified (issue-subca).
make_rooted_ca "$T/ca"
ok "online init" "$ON" init --state "$O" --profile "$PROFILE" --rehearsal --clock 2026-04-02T00:00:00Z
ok "issue-subca for the online CSR, with the SHA-256 the online side printed" \
	issue_subca "$O/certs/issuing-1.csr.pem" "$O/certs/issuing-1.csr.sha256"
ok "arl-batch ceremony" "$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/arl-batch.yaml" --state "$S" \
	--clock 2026-04-02T11:00:00Z --confirm-digests "${SH[@]}" "${OPS[@]}"
ok "bundle: the issuing CA certificate" "$OFF" bundle create --state "$S" "${C[@]}" --type issuing-ca-cert \
	--out "$T/b-iss" "${SH[@]}" "$S/certs/issuing-1.der"
ok "bundle: ARLs 1-5" "$OFF" bundle create --state "$S" "${C[@]}" --type arl-batch --out "$T/b-arl" \
	"${SH[@]}" "$S"/certs/arl/arl-{1,2,3,4,5}.crl
ARL_MH=$(sed -n 's/^manifest SHA-256: //p' "$HANKO_TMP/out")
ok "bundle: ARLs 3-4 again (older numbers)" "$OFF" bundle create --state "$S" "${C[@]}" --type arl-batch \
	--out "$T/b-arl-old" "${SH[@]}" "$S"/certs/arl/arl-{3,4}.crl
ok "bundle: the root where the issuing CA certificate belongs" "$OFF" bundle create --state "$S" "${C[@]}" \
	--type issuing-ca-cert --out "$T/b-wrong" "${SH[@]}" "$S/certs/root-1.der"
ok "bundle: responder-certs carrying a CA certificate" "$OFF" bundle create --state "$S" "${C[@]}" \
	--type responder-certs --out "$T/b-resp-ca" "${SH[@]}" "$S/certs/issuing-1.der"

# Trust: only with the fingerprint the operators read.
FP=$(openssl x509 -in "$R" -outform DER | sha256sum | cut -c1-64)
fails "import before any root is pinned" 3 "no root pinned yet" "$ON" import --state "$O" "${IM[@]}" "$T/b-iss"
fails "trust with a wrong fingerprint" 1 "not the one the operators read" \
	"$ON" trust --state "$O" "${IM[@]}" --fingerprint "$(printf '%064d' 0)" "$R"
check "... nothing pinned" test ! -e "$O/certs/root-anchor.der"
fails "trust of a certificate that is not the profile's root" 3 "subject: not the root DN" \
	"$ON" trust --state "$O" "${IM[@]}" --fingerprint "$(openssl x509 -in "$S/certs/issuing-1.pem" -outform DER | sha256sum | cut -c1-64)" \
	"$S/certs/issuing-1.pem"
ok "trust with the right fingerprint (colon form)" "$ON" trust --state "$O" "${IM[@]}" \
	--fingerprint "$(echo "$FP" | sed 's/../&:/g; s/:$//')" "$R"
fails "trust twice" 7 "pinned already" "$ON" trust --state "$O" "${IM[@]}" --fingerprint "$FP" "$R"

db() { sqlite3 "$O/store.db" "$1"; }
state_digest() { (db '.dump'; cat "$O/bundles.seen" 2>/dev/null; ls -R "$O/bundles") | sha256sum; }

# Import, by type.
ok "import the issuing CA certificate" "$ON" import --state "$O" "${IM[@]}" "$T/b-iss"
check "stored as issuing generation 1" test "$(db "SELECT kind, generation FROM ca_certs WHERE kind = 'issuing'")" = "issuing|1"
check "the stored bytes are the certificate" test "$(db "SELECT hex(der) FROM ca_certs WHERE kind = 'issuing'")" = \
	"$(xxd -p -u "$S/certs/issuing-1.der" | tr -d '\n')"
check "bundles.seen records sequence 1" grep -qE '^[0-9a-f]{40} 1$' "$O/bundles.seen"
check "... the certificate names the bundle that brought it (its manifest, type, sequence 1)" test \
	"$(db "SELECT b.type, b.sequence, b.manifest_sha256 FROM ca_certs c JOIN bundles b ON b.id = c.bundle WHERE c.kind = 'issuing'")" = \
	"issuing-ca-cert|1|$(sha256sum <"$T/b-iss/manifest" | cut -c1-64)"
D0=$(state_digest)
fails "the same bundle again: replay" 3 "replay or older" "$ON" import --state "$O" "${IM[@]}" "$T/b-iss"
check "... store, bundles.seen and copies unchanged" test "$(state_digest)" = "$D0"
# An import holds state.lock, as the other commands that change the state's
# files do: while another holds it (a backup copying bundles/, say) it is
# refused at once, nothing imported, and no bundle folder appears that a
# backup could copy without its store row.
# (held by this shell on fd 9: closing it releases the lock, no process
# left holding it)
exec 9>>"$O/state.lock"
flock -n 9
fails "an import while another command holds state.lock: refused at once" 3 \
	"state.lock: another hanko-online command is changing state.conf .*import.*backup copying the state's files.*nothing changed" \
	"$ON" import --state "$O" "${IM[@]}" --type arl-batch "$T/b-arl"
check "... store, bundles.seen and copies unchanged" test "$(state_digest)" = "$D0"
check "... no ARL stored, no bundle folder or temporary copy of it" bash -c \
	"[ \$(sqlite3 '$O/store.db' 'SELECT count(*) FROM arls') = 0 ] && [ \$(ls '$O/bundles' | wc -l) = 1 ]"
check "... audited as a refused import" grep -q "	bundle.import	fail	.*state.lock: another hanko-online command" "$O/audit/audit.log"
exec 9>&-
# A backup keeps state.lock until its copy of the store is made too: an
# import committed between its copy of bundles/ and of the store would
# leave a backup whose store names a bundle its bundles/ lacks. The backup
# is held inside its copy of the store (pausewrite), the import tried then.
cc -shared -fPIC -o "$T/pausewrite.so" "$HANKO_SRC/test/data/online/pausewrite.c" -ldl
ASAN_PRELOAD="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
mkdir -p "$T/bk"
rm -f "$T/pw.reached" "$T/pw.go"
env HK_PAUSE_WRITE="$T/pw" HK_PAUSE_WRITE_PATH="*/bk/held.backup-*/store.db" \
	LD_PRELOAD="$T/pausewrite.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$ON" backup --state "$O" --out "$T/bk/held" "${IM[@]}" >"$T/bk.out" 2>"$T/bk.err" &
bpid=$!
for _ in $(seq 6000); do [ -e "$T/pw.reached" ] && break; sleep 0.02; done
check "a backup is inside its copy of the store" test -e "$T/pw.reached"
fails "an import while a backup copies the store: refused at once" 3 \
	"state.lock: another hanko-online command is changing state.conf" \
	"$ON" import --state "$O" "${IM[@]}" --type arl-batch "$T/b-arl"
check "... store, bundles.seen and copies unchanged" test "$(state_digest)" = "$D0"
touch "$T/pw.go"
brc=0; wait "$bpid" || brc=$?
check "... the backup then ends (exit $brc)" test "$brc" = 0
cat "$T/bk.err" >&2
check "... its bundles/ holds a folder for each bundle its store names" test \
	"$(ls "$T/bk/held/bundles" | wc -l)" = "$(sqlite3 "$T/bk/held/store.db" 'SELECT count(*) FROM bundles')"
ok "import ARLs 1-5" "$ON" import --state "$O" "${IM[@]}" --type arl-batch "$T/b-arl"
# docs/air-gap.md, offline -> online step 4: the operator compares the
# sequence number and manifest SHA-256 the import prints with the ceremony
# record, where bundle create's are written.
check "... it prints the sequence and the manifest SHA-256 that bundle create printed" bash -c \
	'[ -n "$1" ] && grep -q "^Imported .*: type arl-batch, sequence [0-9]" "$2" && grep -qx "manifest SHA-256: $1" "$2"' _ "$ARL_MH" "$HANKO_TMP/out"
check "five ARLs stored, numbers 1-5, 72 hours each" test \
	"$(db "SELECT count(*), min(number), max(number), max(next_update - this_update) FROM arls")" = "5|1|5|259200"
check "... each names the arl-batch bundle that brought it" test \
	"$(db "SELECT count(*) FROM arls a JOIN bundles b ON b.id = a.bundle WHERE b.type = 'arl-batch'")" = 5
D1=$(state_digest)
fails "a bundle of older ARL numbers (a new sequence) is refused" 3 "arls: an ARL number only increases" \
	"$ON" import --state "$O" "${IM[@]}" "$T/b-arl-old"
check "... store, bundles.seen and copies unchanged" test "$(state_digest)" = "$D1"
fails "an issuing-ca-cert bundle carrying another key is refused" 3 "subject: not the subject|subjectPublicKeyInfo" \
	"$ON" import --state "$O" "${IM[@]}" "$T/b-wrong"
check "... unchanged" test "$(state_digest)" = "$D1"
fails "a responder-certs bundle carrying a CA is refused" 3 "not a CA" "$ON" import --state "$O" "${IM[@]}" "$T/b-resp-ca"
check "... unchanged" test "$(state_digest)" = "$D1"
fails "--type other than the bundle's" 3 "SPEC 4.2|type" "$ON" import --state "$O" "${IM[@]}" --type arl-batch "$T/b-wrong"

# Tampering.
cp -r "$T/b-arl" "$T/t1"
printf 'x' >>"$T/t1/arl-1.crl"
fails "a changed payload" 3 "arl-1.crl: SPEC 7" "$ON" import --state "$O" "${IM[@]}" "$T/t1"
cp -r "$T/b-arl" "$T/t2"
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" "$T/t2/manifest.sig"
fails "a flipped bit in manifest.sig" 1 "SPEC 6" "$ON" import --state "$O" "${IM[@]}" "$T/t2"
cp -r "$T/b-arl" "$T/t3"; printf 'x' >"$T/t3/extra"
fails "an extra file" 3 "extra: SPEC 7" "$ON" import --state "$O" "${IM[@]}" "$T/t3"
check "... store, bundles.seen and copies unchanged after every refusal" test "$(state_digest)" = "$D1"
check "every import and refusal is audited" bash -c \
	"[ \$(grep -c 'bundle.import	ok' '$O/audit/audit.log') = 2 ] && [ \$(grep -c 'bundle.import	fail' '$O/audit/audit.log') -ge 8 ]"
ok "the audit log and its checkpoints verify" "$OFF" audit verify --state "$O"

# A crash between the reader's sequence record and the store commit: the
# store is the authority, bundles.seen is rebuilt, the stale copy removed.
# The copy left is bundles/<sequence>-<type>-<signer key id>, renamed into
# place by the reader before the crash.
seq=$(sed -n 's/^sequence //p' "$T/b-arl-old/manifest")
signer=$(sed -n 's/^signer //p' "$T/b-arl-old/manifest")
left=$O/bundles/$(printf '%018d' "$seq")-arl-batch-$signer
cp -r "$T/b-arl-old" "$left"
sed -i "s/ [0-9]*\$/ $seq/" "$O/bundles.seen"
fails "after a simulated crash the older ARLs are still refused by the store" 3 "only increases" \
	"$ON" import --state "$O" "${IM[@]}" "$T/b-arl-old"
check "... bundles.seen rewritten from the store, the stale copy removed" test "$(state_digest)" = "$D1"
check "... audited as a recovery" grep -q "	bundle.recover	ok	.*$left: removed" "$O/audit/audit.log"
# A stale copy that cannot be removed (an entry held busy: failremove.so)
# stops the import, named, and is audited as a failed recovery, not as
# "removed".
cc -shared -fPIC -o "$T/failremove.so" "$HANKO_SRC/test/data/init/failremove.c" -ldl
cp -r "$T/b-arl-old" "$left"
fails "a stale copy that cannot be removed: the import stops, naming it" 8 \
	"^hanko-online import: $left: the copy of an import that never committed cannot be removed: $left/manifest[.a-z]*: cannot remove: Device or resource busy$" \
	env HK_FAIL_REMOVE=manifest LD_PRELOAD="$T/failremove.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$ON" import --state "$O" "${IM[@]}" "$T/b-arl-old"
check "... audited as a failed recovery" grep -q "	bundle.recover	fail	.*$left: the copy of an import that never committed cannot be removed" "$O/audit/audit.log"
check "... and never as removed" test "$(grep -c "	bundle.recover	ok	.*$left: removed" "$O/audit/audit.log")" = 1
rm -rf "$left"
# A folder of that name whose manifest is another bundle's is never removed.
cp -r "$T/b-arl" "$left"
fails "a folder in the copy's place holding another bundle is left alone" 7 \
	"$left: exists, is not in the store and is not a copy of this bundle" "$ON" import --state "$O" "${IM[@]}" "$T/b-arl-old"
check "... it is still there, whole" test "$(sha256sum <"$left/manifest")" = "$(sha256sum <"$T/b-arl/manifest")"
rm -rf "$left"
check "... and nothing else changed" test "$(state_digest)" = "$D1"
finish

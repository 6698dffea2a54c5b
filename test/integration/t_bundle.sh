#!/usr/bin/env bash
# t_bundle.sh - signed bundles across the air gap (DESIGN.md 6,
# media-format/SPEC.md): "bundle create" signs with the root key in the
# token after quorum activation, each bundle takes the next sequence
# number, stock `openssl cms -verify` checks it, "bundle verify/import"
# refuse tampering, replays and older bundles, and import is all or nothing.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
make_ca "$T/ca"
S=$T/ca/state
C=(--clock 2026-04-02T10:00:00Z)
mapfile -t args < <(share_args "$T/ca" 1 3 5)
ok "create-root" "$OFF" create-root --state "$S" --clock 2026-04-01T09:00:00Z "${args[@]}"
mkdir -p "$T/in"
printf 'CSR of the issuing key\n' >"$T/in/issuing-ca.csr"
head -c 3000 /dev/urandom >"$T/in/arl-2026-04-03.crl"

ok "bundle create with three shares" "$OFF" bundle create --state "$S" "${C[@]}" \
	--type arl-batch --out "$T/b1" "${args[@]}" "$T/in/issuing-ca.csr" "$T/in/arl-2026-04-03.crl"
check "the bundle holds the files, manifest and manifest.sig" \
	test "$(ls "$T/b1" | tr '\n' ' ')" = "arl-2026-04-03.crl issuing-ca.csr manifest manifest.sig "
check "state.conf records sequence 1" grep -qx 'bundle.sequence = 1' "$S/state.conf"
check "the manifest names sequence 1 and the rehearsal time" \
	bash -c "grep -qx 'sequence 1' '$T/b1/manifest' && grep -qx 'created 2026-04-02T10:00:00Z' '$T/b1/manifest'"
check "the create is in the audit log" grep -q 'bundle.create.*ok' "$S/audit/audit.log"
ok "audit log verifies" "$OFF" audit verify --state "$S"

# The auditor's check without hanko (SPEC 10), verbatim.
ok "openssl cms -verify accepts the bundle" bash -c "cd '$T/b1' && openssl cms -verify -binary \
	-inform DER -in manifest.sig -content manifest -CAfile '$S/certs/root-1.pem' -purpose any \
	-attime $(date -u -d 2026-04-02T10:00:00Z +%s) -out /dev/null"
ok "sha256sum agrees with every file line" bash -c "cd '$T/b1' && awk '\$1 == \"file\" { print \$2 \"  \" \$4 }' manifest | sha256sum --strict -c -"

fails "too few shares: no bundle" 4 "quorum|threshold|share" "$OFF" bundle create --state "$S" "${C[@]}" \
	--type csr --out "$T/bq" $(share_args "$T/ca" 2 | tr '\n' ' ') "$T/in/issuing-ca.csr"
check "no bundle left after the failed quorum" test ! -e "$T/bq"
fails "an unknown type" 2 "SPEC 4.2" "$OFF" bundle create --state "$S" --type secrets --out "$T/bx" "$T/in/issuing-ca.csr"
fails "never overwrites" 7 "already exists" "$OFF" bundle create --state "$S" "${C[@]}" --type csr --out "$T/b1" \
	"${args[@]}" "$T/in/issuing-ca.csr"
# Inputs that cannot make a bundle are refused before the quorum is asked
# for and before a sequence number is spent.
mkdir -p "$T/in2"
printf 'another CSR\n' >"$T/in2/issuing-ca.csr"
Q0=$(grep -c 'quorum.combine' "$S/audit/audit.log")
fails "two files of one name" 3 "in2/issuing-ca.csr: SPEC 4.1: its name issuing-ca.csr is also the name of .*/in/issuing-ca.csr" \
	"$OFF" bundle create --state "$S" "${C[@]}" --type csr --out "$T/bd" "${args[@]}" "$T/in/issuing-ca.csr" "$T/in2/issuing-ca.csr"
printf 'another CSR\n' >"$T/in2/Issuing-CA.csr"
fails "two names equal but for case (FAT and exFAT fold case)" 3 \
	"in2/Issuing-CA.csr: SPEC 3: its name Issuing-CA.csr differs from .*/in/issuing-ca.csr's, issuing-ca.csr, only in case; a FAT or exFAT medium holds one file of the two" \
	"$OFF" bundle create --state "$S" "${C[@]}" --type csr --out "$T/bd" "${args[@]}" "$T/in/issuing-ca.csr" "$T/in2/Issuing-CA.csr"
rm "$T/in2/Issuing-CA.csr"
for i in 1 2 3 4 5; do truncate -s 16M "$T/in2/big-$i.crl"; done
fails "files over 64 MiB together" 3 "big-5.crl: SPEC 5: .* more than the 67108864 of a bundle" \
	"$OFF" bundle create --state "$S" "${C[@]}" --type arl-batch --out "$T/bd" "${args[@]}" "$T/in2"/big-*.crl
rm -f "$T/in2"/big-*.crl
check "... no quorum asked, no sequence number spent, no bundle" bash -c \
	"[ \"\$(grep -c quorum.combine '$S/audit/audit.log')\" = $Q0 ] && grep -qx 'bundle.sequence = 1' '$S/state.conf' && [ ! -e '$T/bd' ]"
ok "a second bundle" "$OFF" bundle create --state "$S" "${C[@]}" --type csr --out "$T/b2" "${args[@]}" "$T/in/issuing-ca.csr"
check "it took sequence 2" grep -qx 'sequence 2' "$T/b2/manifest"

# Removable media (docs/air-gap.md "The medium"): exFAT or NTFS mounted
# through FUSE takes no rename flags (renameat2 RENAME_NOREPLACE: EINVAL),
# FAT and exFAT keep no modes (chmod: EPERM for a user other than the
# mount's); test/data/media/fatlike.c makes $T/usb so. The bundle is
# written there all the same (it was refused, exit 8) and verifies.
cc -shared -fPIC -o "$T/fatlike.so" "$HANKO_SRC/test/data/media/fatlike.c" -ldl
mkdir "$T/usb"
FAT=(env HK_FATLIKE_PREFIX="$T/usb" HK_FATLIKE_TRACE="$T/fat.trace" LD_PRELOAD="$T/fatlike.so"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
ok "bundle create onto a medium without rename flags or modes" "${FAT[@]}" "$OFF" bundle create \
	--state "$S" "${C[@]}" --type csr --out "$T/usb/b3" "${args[@]}" "$T/in/issuing-ca.csr"
check "... the medium refused the flag and the mode (the shim at work)" \
	bash -c "grep -q '^renameat2 ' '$T/fat.trace' && grep -q '^fchmod ' '$T/fat.trace'"
check "... sequence 3, and on the medium the bundle alone" \
	bash -c "grep -qx 'sequence 3' '$T/usb/b3/manifest' && [ \"\$(ls -A '$T/usb')\" = b3 ]"
ok "... it verifies" "$OFF" bundle verify --state "$S" "${C[@]}" "$T/usb/b3"

# docs/air-gap.md: the operators compare the sequence number and the
# manifest SHA-256 that verify (and import) print with the form on which
# bundle create's were written.
ok "bundle verify" "$OFF" bundle verify --state "$S" "${C[@]}" "$T/b1"
check "... it prints the manifest's SHA-256, as bundle create printed it (sha256sum)" \
	grep -qx "manifest SHA-256: $(sha256sum <"$T/b1/manifest" | cut -c1-64)" "$HANKO_TMP/out"
ok "bundle import of sequence 2" "$OFF" bundle import --state "$S" "${C[@]}" --into "$T/imp2" "$T/b2"
check "... it prints the manifest's SHA-256" \
	grep -qx "manifest SHA-256: $(sha256sum <"$T/b2/manifest" | cut -c1-64)" "$HANKO_TMP/out"
check "the imported copy equals the bundle" diff -r "$T/b2" "$T/imp2"
fails "import of the same bundle again: replay" 3 "replay or older" \
	"$OFF" bundle import --state "$S" "${C[@]}" --into "$T/imp2b" "$T/b2"
fails "import of an older bundle (1 after 2)" 3 "bundle 1 of signer .* replay or older than the last imported \(2\)" \
	"$OFF" bundle import --state "$S" "${C[@]}" --into "$T/imp1" "$T/b1"
check "nothing left by the refused imports" bash -c "! ls -d '$T'/imp1* '$T'/imp2b* 2>/dev/null"

cp -r "$T/b1" "$T/bad"
printf 'x' >>"$T/bad/issuing-ca.csr"
fails "a changed payload" 3 "issuing-ca.csr: SPEC 7" "$OFF" bundle verify --state "$S" "${C[@]}" "$T/bad"
cp "$T/b1/issuing-ca.csr" "$T/bad/issuing-ca.csr"
printf 'x' >"$T/bad/extra"
fails "an extra file" 3 "extra: SPEC 7: not listed" "$OFF" bundle verify --state "$S" "${C[@]}" "$T/bad"
rm "$T/bad/extra"; rm "$T/bad/arl-2026-04-03.crl"
fails "a missing file" 3 "arl-2026-04-03.crl: SPEC 7: listed in the manifest but missing" "$OFF" bundle verify --state "$S" "${C[@]}" "$T/bad"
ln -s /etc/passwd "$T/bad/arl-2026-04-03.crl"
fails "a symbolic link" 3 "symbolic link" "$OFF" bundle verify --state "$S" "${C[@]}" "$T/bad"
rm "$T/bad/arl-2026-04-03.crl"; mkdir "$T/bad/arl-2026-04-03.crl"
fails "a subfolder" 3 "a folder" "$OFF" bundle verify --state "$S" "${C[@]}" "$T/bad"
rmdir "$T/bad/arl-2026-04-03.crl"; cp "$T/b1/arl-2026-04-03.crl" "$T/bad/"
sed -i 's/^sequence 1$/sequence 9/' "$T/bad/manifest"
fails "a changed manifest" 1 "SPEC 6.1" "$OFF" bundle verify --state "$S" "${C[@]}" "$T/bad"
check "the failures are audited" bash -c "grep -c 'bundle.verify.*fail' '$S/audit/audit.log' | grep -qx 6"
finish

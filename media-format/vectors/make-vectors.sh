#!/usr/bin/env bash
# make-vectors.sh - (re)build the bundle test vectors of SPEC.md with the
# openssl command line and coreutils only: a second, independent writer.
# Keys are the test-only keys of test/data/cert/ (never used elsewhere).
#
#   media-format/vectors/make-vectors.sh      # from the repository root
#
# Writes root1.pem (generation 1, the pinned root), root2.pem (generation
# 2), link-2-by-1.pem (NewWithOld: generation 2's key signed by
# generation 1's), foreign.pem (another key, same name), one folder per
# vector, and EXPECTED: "<vector> <anchor> <link or -> <ok or a substring
# of the reader's one-line error>". Certificates are valid for 20 years
# from the day the script runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
keys=$here/../../test/data/cert
cd "$here"
rm -rf v[0-9][0-9]-* ./*.pem EXPECTED
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
dn="/C=JP/O=JPKI/OU=Kumamoto-ken/OU=Governor of Kumamoto Prefecture/OU=TEST"
cat >"$tmp/ca.ext" <<'X'
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[link]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
X
selfsign() { # key out serial
	openssl req -new -x509 -key "$1" -subj "$dn" -days 7300 -sha256 \
		-set_serial "$3" -config /dev/null -extensions ca \
		-extfile "$tmp/ca.ext" -out "$2" 2>/dev/null ||
	openssl req -new -x509 -key "$1" -subj "$dn" -days 7300 -sha256 \
		-set_serial "$3" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" -out "$2"
}
selfsign "$keys/rsa2048.pem" root1.pem 1
selfsign "$keys/rsa3072.pem" root2.pem 2
selfsign "$keys/p384.pem" foreign.pem 4
openssl req -new -key "$keys/rsa3072.pem" -subj "$dn" -out "$tmp/gen2.csr"
openssl x509 -req -in "$tmp/gen2.csr" -CA root1.pem -CAkey "$keys/rsa2048.pem" \
	-set_serial 3 -days 7300 -sha256 -extfile "$tmp/ca.ext" -extensions link \
	-out link-2-by-1.pem 2>/dev/null

# The key id of SPEC 4.3: SHA-1 of the subjectPublicKey bits, the
# "hash" subjectKeyIdentifier openssl put in each certificate.
keyid() {
	openssl x509 -in "$1" -noout -ext subjectKeyIdentifier |
		sed -n 2p | tr -d ' :\n' | tr 'A-F' 'a-f'
}
declare -A KEY=([root1.pem]=$keys/rsa2048.pem [root2.pem]=$keys/rsa3072.pem
	[foreign.pem]=$keys/p384.pem)

# file_line NAME DIR: the manifest line of one payload file.
file_line() {
	printf 'file %s %s %s\n' "$(sha256sum <"$2/$1" | cut -d' ' -f1)" \
		"$(stat -c %s "$2/$1")" "$1"
}
# manifest DIR TYPE SEQ SIGNERCERT NAME...: the canonical manifest (SPEC 4.1)
manifest() {
	local dir=$1 type=$2 seq=$3 cert=$4; shift 4
	{
		printf 'hanko-bundle 1\ntype %s\nsequence %s\n' "$type" "$seq"
		printf 'created 2026-04-01T00:00:00Z\nsigner %s\nfiles %s\n' \
			"$(keyid "$cert")" "$#"
		for n in $(printf '%s\n' "$@" | LC_ALL=C sort); do file_line "$n" "$dir"; done
		printf 'end\n'
	} >"$dir/manifest"
}
# sign DIR CERT: manifest.sig, detached CMS (SPEC 6.1).
sign() {
	openssl cms -sign -binary -nosmimecap -md sha256 -outform DER \
		-in "$1/manifest" -signer "$2" -inkey "${KEY[$2]}" \
		-out "$1/manifest.sig"
}
payloads() { # DIR: two payload files
	mkdir -p "$1"
	printf 'issuing CA CSR stand-in\n' >"$1/issuing-ca.csr"
	printf 'ARL 2026-04-01\n' >"$1/arl-2026-04-01.crl"
}
good() { # NAME TYPE SEQ CERT
	payloads "$1"; manifest "$1" "$2" "$3" "$4" issuing-ca.csr arl-2026-04-01.crl
	sign "$1" "$4"
}
expect() { echo "$*" >>EXPECTED; }

echo "# vector anchor link expected (ok, or a substring of the error)" >EXPECTED
good v01-valid-root1 csr 1 root1.pem
expect v01-valid-root1 root1.pem - ok
good v02-valid-gen2-via-link arl-batch 2 root2.pem
expect v02-valid-gen2-via-link root1.pem link-2-by-1.pem ok
cp -r v02-valid-gen2-via-link v03-gen2-without-link
expect v03-gen2-without-link root1.pem - "SPEC 6.2"
good v04-foreign-signer csr 1 foreign.pem
expect v04-foreign-signer root1.pem - "SPEC 6.2"
good v05-payload-changed csr 1 root1.pem
printf 'issuing CA CSR stand-In\n' >v05-payload-changed/issuing-ca.csr
expect v05-payload-changed root1.pem - "issuing-ca.csr: SPEC 7: SHA-256 differs"
good v06-payload-longer csr 1 root1.pem
printf 'x' >>v06-payload-longer/arl-2026-04-01.crl
expect v06-payload-longer root1.pem - "arl-2026-04-01.crl: SPEC 7: 16 bytes, the manifest says 15"
good v07-extra-file csr 1 root1.pem
printf 'x' >v07-extra-file/readme.txt
expect v07-extra-file root1.pem - "readme.txt: SPEC 7: not listed in the manifest"
good v08-missing-file csr 1 root1.pem
rm v08-missing-file/arl-2026-04-01.crl
expect v08-missing-file root1.pem - "arl-2026-04-01.crl: SPEC 7: listed in the manifest but missing"
good v09-hidden-file csr 1 root1.pem
printf 'x' >v09-hidden-file/.DS_Store
expect v09-hidden-file root1.pem - "SPEC 3: name starts with '.'"
payloads v10-name-leaves-bundle
manifest v10-name-leaves-bundle csr 1 root1.pem issuing-ca.csr arl-2026-04-01.crl
sed -i 's/ issuing-ca.csr$/ ..\/issuing-ca.csr/' v10-name-leaves-bundle/manifest
sign v10-name-leaves-bundle root1.pem
expect v10-name-leaves-bundle root1.pem - "name: SPEC 3: not an allowed name"
payloads v11-unsorted
manifest v11-unsorted csr 1 root1.pem issuing-ca.csr arl-2026-04-01.crl
awk '/^file / { f[++n] = $0; next } /^end/ { print f[2]; print f[1] } { print }' \
	v11-unsorted/manifest >"$tmp/m" && cp "$tmp/m" v11-unsorted/manifest
sign v11-unsorted root1.pem
expect v11-unsorted root1.pem - "files must be sorted by name"
payloads v12-crlf
manifest v12-crlf csr 1 root1.pem issuing-ca.csr arl-2026-04-01.crl
sed -i 's/$/\r/' v12-crlf/manifest
sign v12-crlf root1.pem
expect v12-crlf root1.pem - "SPEC 4.1"
payloads v13-version-2
manifest v13-version-2 csr 1 root1.pem issuing-ca.csr arl-2026-04-01.crl
sed -i '1s/.*/hanko-bundle 2/' v13-version-2/manifest
sign v13-version-2 root1.pem
expect v13-version-2 root1.pem - "SPEC 9: format version"
payloads v14-signer-id-other-key
manifest v14-signer-id-other-key csr 1 root2.pem issuing-ca.csr arl-2026-04-01.crl
sign v14-signer-id-other-key root1.pem
expect v14-signer-id-other-key root1.pem - "signer: SPEC 4.3: names another key"
good v15-manifest-changed csr 1 root1.pem
sed -i 's/^sequence 1$/sequence 2/' v15-manifest-changed/manifest
expect v15-manifest-changed root1.pem - "SPEC 6.1: the signature does not verify"
payloads v16-unknown-type
manifest v16-unknown-type secret-keys 1 root1.pem issuing-ca.csr arl-2026-04-01.crl
sign v16-unknown-type root1.pem
expect v16-unknown-type root1.pem - "type: SPEC 4.2: unknown type"
payloads v17-sequence-zero
manifest v17-sequence-zero csr 0 root1.pem issuing-ca.csr arl-2026-04-01.crl
sign v17-sequence-zero root1.pem
expect v17-sequence-zero root1.pem - "sequence: SPEC 4.3"
good v18-signature-pem csr 1 root1.pem
openssl cms -cmsout -inform DER -in v18-signature-pem/manifest.sig -outform PEM \
	-out "$tmp/s.pem" && cp "$tmp/s.pem" v18-signature-pem/manifest.sig
expect v18-signature-pem root1.pem - "SPEC 6.1"
payloads v19-size-leading-zero
manifest v19-size-leading-zero csr 1 root1.pem issuing-ca.csr arl-2026-04-01.crl
sed -i 's/^\(file [0-9a-f]*\) \([0-9]*\) arl/\1 0\2 arl/' v19-size-leading-zero/manifest
sign v19-size-leading-zero root1.pem
expect v19-size-leading-zero root1.pem - "size: SPEC 5"
echo "make-vectors.sh: $(grep -vc '^#' EXPECTED) vectors written"

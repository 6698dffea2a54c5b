#!/usr/bin/env bash
# t_online_import_signer.sh - who may sign what "hanko-online import" takes
# (media-format/SPEC.md 6.2 (a), 13.1; CPS 4-8): only a root generation. A
# bundle signed by a certificate the root issued (here OCSP responder 1,
# whose key is a file; the online issuing CA is the same case) is refused
# whatever it carries, with the store and the bundles folder unchanged.
# A cross-pair bundle signed by the root is checked member by member: a
# certificate the bridge CA issued to us ("forward") must verify with the
# key the root certified for that CA (the pair's own reverse member, or a
# reverse certificate of the bundle or stored earlier); a forged one (our
# DN and key, signed by another key under the bridge's name) is refused,
# alone, beside the real reverse, or inside a CertificatePair; members in
# the wrong places are refused; the real bundle is stored. A renewed
# forward certificate alone is verified with the reverse member of a
# stored CertificatePair when no reverse certificate is stored alone.
. "$(dirname "$0")/online.sh"
IMP=(--clock 2026-04-02T12:00:00Z)
db() { sqlite3 "$O/store.db" "$1"; }
state_digest() { (db '.dump'; cat "$O/bundles.seen"; ls -R "$O/bundles") | sha256sum; }

# The toy bridge CA of t_ceremony_cross.sh: bridge N makes its key, anchor
# and request; forward CERT N OUT: bridge N certifies CERT's subject and key.
. "$HANKO_SRC/test/data/issuance/bridge.sh"
# pair FORWARD REVERSE OUT: a DER CertificatePair ([0] and/or [1]; "-" = absent)
pair() {
	python3 - "$@" <<'PY'
import sys
def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([tag, 0x80 | len(b)]) + b + body
f, r, out = sys.argv[1:]
body = b''
if f != '-': body += tlv(0xa0, open(f, 'rb').read())
if r != '-': body += tlv(0xa1, open(r, 'rb').read())
open(out, 'wb').write(tlv(0x30, body))
PY
}
# forge OUT TYPE CERT KEY FILE...: a bundle made with the openssl command line
# (as media-format/vectors/make-vectors.sh does), signed by CERT and KEY
forge() {
	local out=$1 type=$2 cert=$3 key=$4 f; shift 4
	mkdir -p "$out"
	for f in "$@"; do cp "$f" "$out/"; done
	{
		printf 'hanko-bundle 1\ntype %s\nsequence 7\ncreated 2026-04-02T11:00:00Z\n' "$type"
		printf 'signer %s\nfiles %s\n' "$(openssl x509 -in "$cert" -noout -ext subjectKeyIdentifier |
			sed -n 2p | tr -d ' :\n' | tr 'A-F' 'a-f')" "$#"
		for f in $(cd "$out" && ls | LC_ALL=C sort); do
			printf 'file %s %s %s\n' "$(sha256sum <"$out/$f" | cut -d' ' -f1)" "$(stat -c %s "$out/$f")" "$f"
		done
		printf 'end\n'
	} >"$T/manifest.tmp"
	mv "$T/manifest.tmp" "$out/manifest"
	openssl cms -sign -binary -nosmimecap -md sha256 -outform DER -in "$out/manifest" \
		-signer "$cert" -inkey "$key" -out "$out/manifest.sig"
}

# The cross-certify ceremony with bridge 1, and a forged bridge x of the
# same name: its "forward" certifies our root's DN and key too.
bridge 1
forward "$R" 1 "$T/fwd1.der"
ok "cross-certify ceremony with bridge 1" "$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/cross-certify.yaml" \
	--state "$S" --clock $CLOCK --confirm-digests --input "bca-csr=$T/bca-1.csr" \
	--input "bca-csr-sha256=$T/bca-1.csr.sha256" --input "bca-cert=$T/fwd1.der" \
	--input "bca-cert-sha256=$T/fwd1.der.sha256" "${SH[@]}" "${OPS[@]}"
REV=$S/certs/cross-1.der FWD=$S/certs/cross-forward-1.der
bridge x
forward "$R" x "$T/cross-forged.der"
check "the forged forward names our root and key, issued under the bridge's name" bash -c \
	"[ \"\$(openssl x509 -inform DER -in '$T/cross-forged.der' -noout -pubkey)\" = \"\$(openssl x509 -in '$R' -noout -pubkey)\" ] &&
	 [ \"\$(openssl x509 -inform DER -in '$T/cross-forged.der' -noout -issuer)\" = \"\$(openssl x509 -inform DER -in '$FWD' -noout -issuer)\" ]"

# OCSP responder 1 and validation server 1, certified by the root from
# requests whose keys are files (responder-certs ceremony).
PFX="/C=JP/O=JPKI/OU=Kumamoto-ken"
csr 2048 "$PFX/CN=OCSP Responder 1/OU=TEST" "$T/ocsp1.csr"
csr 2048 "$PFX/CN=Official Certificate Validation Server 1/OU=TEST" "$T/val1.csr"
ok "responder-certs ceremony" "$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/responder-certs.yaml" \
	--state "$S" --clock $CLOCK --confirm-digests --input "ocsp-csr=$T/ocsp1.csr" \
	--input "ocsp-csr-sha256=$T/ocsp1.csr.sha256" --input "validation-csr=$T/val1.csr" \
	--input "validation-csr-sha256=$T/val1.csr.sha256" "${SH[@]}" "${OPS[@]}"

# Signed by a certificate the root issued: refused, whatever it carries.
D0=$(state_digest)
forge "$T/f-ocsp" cross-pair "$S/certs/ocsp-1.pem" "$T/ocsp1.csr.key" "$T/cross-forged.der"
ok "the forged bundle passes stock openssl cms -verify with the root (SPEC 10)" \
	openssl cms -verify -binary -inform DER -in "$T/f-ocsp/manifest.sig" -content "$T/f-ocsp/manifest" \
	-CAfile "$R" -purpose any -attime "$(date -u -d 2026-04-02T12:00:00Z +%s)" -out /dev/null
fails "a cross-pair bundle signed by OCSP responder 1 (the root issued it) is refused" 1 \
	'f-ocsp/manifest.sig: signer: SPEC 6.2 \(a\), 13.1: ".*CN=OCSP Responder 1.*" is not a root generation' \
	"$ON" import --state "$O" "${IMP[@]}" "$T/f-ocsp"
forge "$T/f-ocsp-arl" arl-batch "$S/certs/ocsp-1.pem" "$T/ocsp1.csr.key" "$S/certs/root-1.der"
fails "... an arl-batch bundle too, before its contents are looked at" 1 \
	'f-ocsp-arl/manifest.sig: signer: SPEC 6.2 \(a\), 13.1' "$ON" import --state "$O" "${IMP[@]}" "$T/f-ocsp-arl"
check "... store, bundles.seen and bundles folder unchanged" test "$(state_digest)" = "$D0"
check "... no cross certificate stored" test "$(db "SELECT count(*) FROM ca_certs WHERE kind IN ('cross', 'pair')")" = 0
check "... audited as refused" grep -q "	bundle.import	fail	.*f-ocsp: .*not a root generation" "$O/audit/audit.log"

# Signed by the root, carrying a forged forward certificate.
pair "$T/cross-forged.der" "$REV" "$T/pair-forged.der"
pair "$REV" "$FWD" "$T/pair-swapped.der"
pair "$T/cross-forged.der" - "$T/pair-forward-only.der"
root_bundle() { # NAME FILE...: a cross-pair bundle signed by the root
	local name=$1; shift
	"$OFF" bundle create --state "$S" --clock 2026-04-02T10:00:00Z --type cross-pair --out "$T/$name" \
		"${SH[@]}" "$@" >/dev/null
}
root_bundle b-forged-alone "$T/cross-forged.der"
root_bundle b-forged-beside "$REV" "$T/cross-forged.der"
root_bundle b-pair-forged "$REV" "$T/pair-forged.der"
root_bundle b-pair-swapped "$T/pair-swapped.der"
root_bundle b-real "$REV" "$FWD" "$S/certs/crosspair-1.der"
root_bundle b-later-forged "$T/pair-forward-only.der"
fails "a forged forward certificate alone is refused" 1 \
	'cross-forged.der: signature: RFC 5280 6.1.3: does not verify with the key the root certified for its issuer ".*Bridge CA.*" \(no cross certificate the root issued to it' \
	"$ON" import --state "$O" "${IMP[@]}" "$T/b-forged-alone"
fails "... beside the real reverse certificate: refused" 1 \
	'cross-forged.der: signature: RFC 5280 6.1.3: does not verify with the key the root certified for its issuer ".*Bridge CA.*"$' \
	"$ON" import --state "$O" "${IMP[@]}" "$T/b-forged-beside"
fails "... as the forward member of a CertificatePair beside the real reverse: refused" 1 \
	'pair-forged.der: CertificatePair forward \[0\]: signature: RFC 5280 6.1.3' \
	"$ON" import --state "$O" "${IMP[@]}" "$T/b-pair-forged"
fails "a CertificatePair with its members swapped is refused" 1 \
	'pair-swapped.der: CertificatePair reverse \[1\]: signature: CPS 4-8: not a cross certificate the root issued' \
	"$ON" import --state "$O" "${IMP[@]}" "$T/b-pair-swapped"
check "... store, bundles.seen and bundles folder unchanged" test "$(state_digest)" = "$D0"
# A renewed forward certificate alone (the bridge certified our root again),
# in a store where the reverse certificate is only the member of a stored
# CertificatePair: the pair's reverse member is the key it is verified
# with (a copy of the state, where the pair came alone).
forward "$R" 1 "$T/fwd1-renewed.der"
root_bundle b-pair-only "$S/certs/crosspair-1.der"
root_bundle b-renewed-forged "$T/cross-forged.der"
root_bundle b-renewed "$T/fwd1-renewed.der"
O2=$T/online-2
state_copy "$O" "$O2"
ok "(store 2) the ceremony's CertificatePair alone is imported" "$ON" import --state "$O2" "${IMP[@]}" "$T/b-pair-only"
fails "(store 2) a forged forward alone is refused: it does not verify with the stored pair's reverse member" 1 \
	'cross-forged.der: signature: RFC 5280 6.1.3: does not verify with the key the root certified for its issuer ".*Bridge CA.*"$' \
	"$ON" import --state "$O2" "${IMP[@]}" "$T/b-renewed-forged"
ok "(store 2) the renewed forward certificate alone is imported: it verifies with the stored pair's reverse member" \
	"$ON" import --state "$O2" "${IMP[@]}" "$T/b-renewed"
check "... stored as a cross certificate, byte for byte" test \
	"$(sqlite3 "$O2/store.db" "SELECT hex(der) FROM ca_certs WHERE kind = 'cross'")" = "$(xxd -p -u "$T/fwd1-renewed.der" | tr -d '\n')"
ok "the ceremony's cross-pair bundle (reverse, forward, pair) is imported" \
	"$ON" import --state "$O" "${IMP[@]}" "$T/b-real"
check "... three items: two cross certificates and the pair" grep -q "type cross-pair, sequence .*, 3 item(s) stored" "$HANKO_TMP/out"
check "... stored byte for byte" test \
	"$(db "SELECT kind, hex(der) FROM ca_certs WHERE kind IN ('cross', 'pair') ORDER BY rowid")" = \
	"$(printf 'cross|%s\ncross|%s\npair|%s' "$(xxd -p -u "$REV" | tr -d '\n')" "$(xxd -p -u "$FWD" | tr -d '\n')" \
		"$(xxd -p -u "$S/certs/crosspair-1.der" | tr -d '\n')")"
D1=$(state_digest)
fails "later, a forged forward-only CertificatePair is refused under the stored reverse certificate" 1 \
	'pair-forward-only.der: CertificatePair forward \[0\]: signature: RFC 5280 6.1.3: .*Bridge CA.*"$' \
	"$ON" import --state "$O" "${IMP[@]}" "$T/b-later-forged"
check "... unchanged" test "$(state_digest)" = "$D1"
# Renewal (CPS 4-9): generation 2 of the cross-certification imported
# beside generation 1; the repository's pair is replaced by the newest
# ("リポジトリ上の相互認証証明書ペアは速やかに最新のものに置換する"), the cross
# certificates of both generations stay published.
bridge 2
forward "$R" 2 "$T/fwd2.der"
ok "cross-certify again with bridge 2 (renewal: generation 2)" "$OFF" ceremony run \
	"$HANKO_SRC/ceremony-scripts/cross-certify.yaml" --state "$S" --clock 2026-04-02T09:30:00Z --confirm-digests \
	--input "bca-csr=$T/bca-2.csr" --input "bca-csr-sha256=$T/bca-2.csr.sha256" --input "bca-cert=$T/fwd2.der" \
	--input "bca-cert-sha256=$T/fwd2.der.sha256" "${SH[@]}" "${OPS[@]}"
root_bundle b-real2 "$S/certs/cross-2.der" "$S/certs/cross-forward-2.der" "$S/certs/crosspair-2.der"
ok "the renewal's cross-pair bundle is imported" "$ON" import --state "$O" "${IMP[@]}" "$T/b-real2"
fails "publish after the renewal (published; exit 9: this store has no ARL)" 9 'no imported ARL is current' \
	"$ON" publish --state "$O" --repo "$T/repo" --clock 2026-04-02T13:00:00Z
sha16() { sha256sum <"$1" | cut -c1-16; }
check "... the repository's CertificatePair is generation 2's only (CPS 4-9)" bash -c \
	"[ \"\$(cd '$T/repo/cross' && ls pair-*)\" = 'pair-$(sha16 "$S/certs/crosspair-2.der").der' ] &&
	 cmp -s '$T/repo/cross/pair-$(sha16 "$S/certs/crosspair-2.der").der' '$S/certs/crosspair-2.der'"
check "... the four cross certificates of both generations are published" bash -c \
	"for f in cross-1 cross-forward-1 cross-2 cross-forward-2; do
		cmp -s '$S/certs/'\$f.der '$T/repo/cross/cross-'\$(sha256sum <'$S/certs/'\$f.der | cut -c1-16).cer || exit 1
	 done"
ok "the audit log verifies" "$OFF" audit verify --state "$O"
finish

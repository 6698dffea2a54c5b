#!/usr/bin/env bash
# demo.sh - the README's main job: a rehearsal of the Kumamoto prefectural
# CA on the embedded default (SoftHSM2), made fresh under ./demo/.
#
#  offline half (demo/state, the air-gapped root):
#   init 3-of-5 -> init-root ceremony -> issue-subca on the online side's
#   CSR (carried by QR images) -> cross-certify with a toy bridge CA ->
#   arl-batch -> bundles for the online side -> nearly 5 years on: rollover
#  online half (demo/online, the publisher):
#   init (issuing key + CSR) -> trust the root by its fingerprint ->
#   import the signed bundles -> residents' certificates (36 residents of
#   13 municipalities) -> revocations and re-issues -> publish the
#   per-municipality CRLs and the ARL of the day into demo/repo/ ->
#   OCSP responder certificate -> a registered relying party
# Both audit logs verify; then the repository is served on loopback
# (http://127.0.0.1:8480/, HANKO_DEMO_PORT) until interrupted.
#
# usage: scripts/demo.sh [BUILD_DIR]      (dev.sh demo builds, then runs this)
# HANKO_DEMO_DIR overrides ./demo (the tests use it); HANKO_DEMO_SERVE=0
# runs everything but the serving and exits.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
OFF=$build/offline/hanko-offline
ON=$build/online/hanko-online
demo=${HANKO_DEMO_DIR:-$top/demo}
CS=$top/ceremony-scripts
[ -x "$OFF" ] && [ -x "$ON" ] || { echo "demo.sh: not built; run ./dev.sh demo" >&2; exit 2; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
quiet() { "$@" >"$demo/last.log" 2>&1 || { cat "$demo/last.log" >&2; exit 1; }; }

# The demo people's passphrases. Fictional people, rehearsal only: in a real
# ceremony each person types their own at the prompt.
export DEMO_PASS_yamada='Kumamoto castle 1607 spring!'
export DEMO_PASS_sato='Aso caldera sunrise #42 view'
export DEMO_PASS_suzuki='Amakusa pearls & dolphins 9'
export DEMO_PASS_takahashi='Hitoyoshi onsen river 88 boats'
export DEMO_PASS_tanaka='Kikuchi gorge maple leaves 2026'
export DEMO_PASS_watanabe='Shimabara bay ferry 7 gulls'
export DEMO_PASS_ito='Yatsushiro rush mats 54 weave'
export DEMO_PASS_kimura='Minamata hills tea 3 harvest'

rm -rf -- "$demo"
mkdir -p -- "$demo"
S=$demo/state
SHARES=(--share "$demo/media/yamada/share-1-yamada.hks" --passin env:DEMO_PASS_yamada
	--share "$demo/media/suzuki/share-3-suzuki.hks" --passin env:DEMO_PASS_suzuki
	--share "$demo/media/tanaka/share-5-tanaka.hks" --passin env:DEMO_PASS_tanaka)
OPS=(--operator watanabe=env:DEMO_PASS_watanabe --operator ito=env:DEMO_PASS_ito
	--operator kimura=env:DEMO_PASS_kimura)
# A rehearsal CA: the clock may be set and --confirm-digests answers the
# typed confirmations (a real CA asks at the terminal).
ceremony() { "$OFF" ceremony run "$CS/$1.yaml" --state "$S" --confirm-digests "${@:2}" "${SHARES[@]}" "${OPS[@]}"; }
PORT=${HANKO_DEMO_PORT:-8480}
# The demo profile names the repository that step 16 serves, so that CRL
# distribution points carry its http URI beside the directory name.
sed "s|^repository-url: .*|repository-url: \"http://127.0.0.1:$PORT\"|" \
	"$CS/profile-kumamoto.yaml" >"$demo/profile.yaml"

step "Rehearsal of the Kumamoto prefectural CA (everything is marked TEST)"
echo "Offline root: $S    key managers' media: $demo/media/<id>/    online publisher: $demo/online"

step "1. init: token with random PINs, quorum key split 3-of-5, sealed shares (CPS 6-2-1-2, 6-4-1)"
"$OFF" init --state "$S" --profile "$demo/profile.yaml" --roster "$CS/roster-demo.yaml" \
	--media "$demo/media" --rehearsal \
	--passin yamada=env:DEMO_PASS_yamada --passin sato=env:DEMO_PASS_sato \
	--passin suzuki=env:DEMO_PASS_suzuki --passin takahashi=env:DEMO_PASS_takahashi \
	--passin tanaka=env:DEMO_PASS_tanaka

step "2. Each key manager checks their medium (no passphrase needed)"
for km in yamada sato suzuki takahashi tanaka; do
	f=$(ls "$demo/media/$km/"*.hks)
	"$OFF" share inspect "$f" | sed -n 's/^share: *//p' | sed "s|^|  $km: share |"
done

step "3. Two shares are not enough: the token is not even asked (CPS 6-2-1-7)"
if "$OFF" activate --state "$S" "${SHARES[@]:0:8}"; then
	echo "demo.sh: two shares activated the token; that must never happen" >&2
	exit 1
fi
echo "  (refused, as it must be; the refusal is in the audit log)"

step "4. The roster: operators' passphrases, approved by the CA manager (CPS 5-2-1, 5-2-3)"
for p in watanabe ito kimura; do
	quiet "$OFF" roster set-passphrase --state "$S" --person "$p" --passin "env:DEMO_PASS_$p" --kdf interactive
done
"$OFF" roster approve --state "$S" --manager kimura --passin env:DEMO_PASS_kimura

step "5. init-root ceremony: RSA-2048 key generated in the token, root self-signed under dual control (CPS 6-1-1, 7-1-3)"
ceremony init-root | grep -E '^(Ceremony|  SHA-256|== step|  ok:|Transcript)' || true
root=$S/certs/root-1.pem
openssl verify -x509_strict -CAfile "$root" "$root"
certtool --verify --load-ca-certificate "$root" --infile "$root" 2>/dev/null |
	grep -m1 'Chain verification output' || { echo "certtool failed" >&2; exit 1; }

step "6. Online side: the publisher's own token, the issuing key and its CSR (CPS 4-1)"
"$ON" init --state "$demo/online" --profile "$demo/profile.yaml" --rehearsal
csr=$demo/online/certs/issuing-1.csr.pem

step "7. The CSR crosses the air gap as QR codes; the offline side rebuilds it from the images"
quiet "$OFF" qr encode "$csr" --out "$demo/qr-csr"
echo "  $(ls "$demo/qr-csr"/*.png | wc -l) QR images in $demo/qr-csr/"
# Shuffled, with a duplicate, as a camera would read them.
mapfile -t imgs < <(ls "$demo/qr-csr"/*.png | shuf)
quiet "$OFF" qr decode --out "$demo/issuing-1.csr.pem" "${imgs[@]}" "${imgs[0]}"
cmp "$csr" "$demo/issuing-1.csr.pem" && echo "  the CSR read back from the images is byte-identical"
cp "$demo/online/certs/issuing-1.csr.sha256" "$demo/issuing-1.csr.sha256"
echo "  SHA-256 read aloud by the online operator: $(cat "$demo/issuing-1.csr.sha256")"

step "8. issue-subca ceremony: the issuing CA certificate under the root (CPS 4-2, 7-1-1)"
ceremony issue-subca --input "issuing-csr=$demo/issuing-1.csr.pem" \
	--input "issuing-csr-sha256=$demo/issuing-1.csr.sha256" | grep -E '^(  ok:|Transcript)' || true
openssl verify -x509_strict -CAfile "$root" "$S/certs/issuing-1.pem"

step "9. A toy bridge CA (個人認証BCA) and the cross-certify ceremony (CPS 4-6..4-9)"
B=$demo/bridge; mkdir -p "$B/db"; : >"$B/db/index.txt"; openssl rand -hex 16 >"$B/db/serial"
BCA="/C=JP/O=JPKI/OU=Bridge CA"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$B/bca.key" -subj "$BCA" -days 3650 \
	-addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	-out "$B/bca.pem" 2>/dev/null
openssl req -new -key "$B/bca.key" -subj "$BCA" -out "$B/bca.csr"
openssl req -in "$B/bca.csr" -outform DER | sha256sum | cut -c1-64 >"$B/bca.csr.sha256"
# The bridge certifies our root (the "forward" half of the pair); its
# openssl ca configuration is scripts/toy-ca.cnf, shared with the tests.
TOY_CA_DIR=$B/db openssl ca -batch -config "$top/scripts/toy-ca.cnf" -ss_cert "$root" -cert "$B/bca.pem" \
	-keyfile "$B/bca.key" -preserveDN -notext -days 1825 -extensions cross -out "$B/forward.pem" >/dev/null 2>&1
openssl x509 -in "$B/forward.pem" -outform DER -out "$B/forward.der"
sha256sum <"$B/forward.der" | cut -c1-64 >"$B/forward.der.sha256"
ceremony cross-certify --input "bca-csr=$B/bca.csr" --input "bca-csr-sha256=$B/bca.csr.sha256" \
	--input "bca-cert=$B/forward.der" --input "bca-cert-sha256=$B/forward.der.sha256" |
	grep -E '^(  ok:|Transcript)' || true
echo "  a relying party trusting only the bridge reaches our issuing CA, with policy checking:"
openssl verify -policy_check -explicit_policy -policy 1.2.392.200149.8.5.1.0.10 \
	-CAfile "$B/bca.pem" -untrusted "$B/forward.pem" "$S/certs/issuing-1.pem"

step "10. arl-batch ceremony: pre-signed ARLs for the next 35 days (CPS 4-4-9, 7-2-2)"
ceremony arl-batch | grep -E '^(  ok:|Transcript)' || true
openssl crl -in "$S/certs/arl/arl-1.crl" -inform DER -noout -verify -CAfile "$root" 2>&1 | sed 's/^/  arl-1: /'

step "11. Signed bundles carry the results to the online side (media-format/SPEC.md)"
quiet "$OFF" bundle create --state "$S" --type issuing-ca-cert --out "$demo/bundle-issuing" \
	"${SHARES[@]}" "$S/certs/issuing-1.der"
quiet "$OFF" bundle create --state "$S" --type arl-batch --out "$demo/bundle-arl" \
	"${SHARES[@]}" "$S"/certs/arl/arl-*.crl
quiet "$OFF" bundle create --state "$S" --type cross-pair --out "$demo/bundle-cross" \
	"${SHARES[@]}" "$S/certs/cross-1.der" "$S/certs/cross-forward-1.der" "$S/certs/crosspair-1.der"
echo "  an auditor checks a bundle with stock openssl:"
openssl cms -verify -binary -inform DER -in "$demo/bundle-issuing/manifest.sig" \
	-content "$demo/bundle-issuing/manifest" -CAfile "$root" -purpose any -out /dev/null 2>&1 | sed 's/^/  /'
fp=$(openssl x509 -in "$root" -noout -fingerprint -sha256 | sed 's/^.*=//')
"$ON" trust --state "$demo/online" --fingerprint "$fp" "$root"
"$ON" import --state "$demo/online" "$demo/bundle-issuing"
"$ON" import --state "$demo/online" "$demo/bundle-arl"
"$ON" import --state "$demo/online" "$demo/bundle-cross"

step "12. Residents' certificates: a batch from the municipalities (CPS 4-1, 4-2, 4-3)"
RD=$demo/residents
mkdir -p "$RD/keys"
# Each resident's key pair is made on their own card in real life; here by
# openssl, one per resident, and only the public key travels in the batch.
n=0
{
	grep -v '^#' "$top/scripts/demo-residents.csv" | sed -n 1p | sed 's/$/,key/'
	grep -v '^#' "$top/scripts/demo-residents.csv" | sed 1d | while IFS= read -r line; do
		n=$((n + 1))
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$RD/keys/r$n.key" 2>/dev/null
		openssl pkey -in "$RD/keys/r$n.key" -pubout -out "$RD/keys/r$n.pub.pem"
		echo "$line,keys/r$n.pub.pem"
	done
} >"$RD/batch.csv"
"$ON" issue --state "$demo/online" --batch "$RD/batch.csv" --out "$RD/issued"
serial_of() { awk -F, -v l="$1" '$1 == l && $2 == "ok" { print $3 }' "$RD/issued/results.csv"; }
# each issued line of results.csv carries its certificate (base64 DER)
cert_of() { awk -F, -v l="$1" '$1 == l && $2 == "ok" { print $4 }' "$RD/issued/results.csv" | base64 -d; }
c35=$RD/r35.der
cert_of 36 >"$c35"
openssl x509 -in "$S/certs/issuing-1.der" -inform DER -out "$RD/issuing-1.pem"
openssl x509 -in "$c35" -inform DER -out "$RD/r35.pem"
echo "  resident 35 (高 standing for 髙, flagged as a substitute character):"
openssl x509 -in "$RD/r35.pem" -noout -subject -nameopt RFC2253 | sed 's/^/    /'
openssl verify -CAfile "$root" -untrusted "$RD/issuing-1.pem" "$RD/r35.pem" | sed 's/^/    /'
echo "    basic 4 items: six otherNames in the subjectAltName, in the PROFILE.md order:"
off=$(openssl asn1parse -inform DER -in "$c35" | grep -A1 "X509v3 Subject Alternative Name" | tail -1 | cut -d: -f1 | tr -d ' ')
openssl asn1parse -inform DER -in "$c35" -strparse "$off" | awk '/OBJECT/ { print "     ", $NF }'

step "13. Revocations and re-issues (CPS 4-4; reasons of CPS 4-4-4-2, never suspension)"
"$ON" revoke --state "$demo/online" --serial "$(serial_of 4)" --reason key-compromise
"$ON" revoke --state "$demo/online" --municipality 432024 --resident-id 43000000006 --reason cessation-of-operation
# resident 9 lost their card: the same basic 4 items, a new key (superseded);
# resident 10 moved from 菊池市 to 合志市 (affiliationChanged on the old one)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$RD/keys/r9b.key" 2>/dev/null
openssl pkey -in "$RD/keys/r9b.key" -pubout -out "$RD/keys/r9b.pub.pem"
{
	sed -n 1p "$RD/batch.csv"
	sed -n 10p "$RD/batch.csv" | sed 's|keys/r9.pub.pem$|keys/r9b.pub.pem|'
	sed -n 11p "$RD/batch.csv" | awk -F, -v OFS=, '{ $1 = "432164"; $7 = "熊本県合志市竹迫２１４０番地"; $8 = "00000000000000"; print }'
} >"$RD/reissue.csv"
"$ON" issue --state "$demo/online" --replace --batch "$RD/reissue.csv" --out "$RD/reissued"
echo "  the resident's own history (CPS 2-8-6), for the one who moved:"
"$ON" history --state "$demo/online" --resident-id 43000000010 | sed 's/^/    /'

step "14. Publish: one CRL per municipality and the ARL of the day, swapped in atomically (CPS 4-4-9, 4-4-10, 2-6-2)"
"$ON" publish --state "$demo/online" --repo "$demo/repo"
crl=$demo/repo/crl/432024.crl
echo "  八代市's CRL, checked by openssl:"
openssl crl -in "$crl" -inform DER -noout -verify -CAfile "$RD/issuing-1.pem" 2>&1 | sed 's/^/    /'
openssl crl -in "$crl" -inform DER -noout -text | grep -E 'Serial Number|Next Update|X509v3 CRL Reason Code' -A1 |
	grep -vE '^--$|X509v3 CRL Reason|CRL extensions' | sed 's/^ */    /'

step "15. OCSP responder certificate and a registered relying party (CPS 4-4-4-3, 2-6-3)"
"$ON" responder --state "$demo/online"
"$ON" ocsp-refresh --state "$demo/online"
"$ON" publish --state "$demo/online" --repo "$demo/repo" --now >/dev/null
"$ON" rp add --state "$demo/online" --name demo-relying-party --token-out "$demo/rp.token"
echo "  the relying party's token is in $demo/rp.token (0600), shown once"

# A month before root 1's five years of use end (CPS 6-3-1-2), while issuing
# CA 1 (made the same day, valid 5 years) is still valid: it is re-certified
# under root 2 with its own notAfter (an expired one would not be).
step "16. Nearly five years on: the rollover ceremony (CPS 4-13, 6-3-1-2, 7-1-4)"
later=$(date -u -d '+5 years -30 days' +%Y-%m-%dT%H:%M:%SZ)
ceremony rollover --clock "$later" | grep -E '^(  ok:|Transcript)' || true
at=$(date -u -d '+5 years -30 days 1 hour' +%s)
echo "  a party trusting only root 1 verifies the issuing CA re-certified under root 2, through NewWithOld:"
openssl verify -attime "$at" -CAfile "$root" -untrusted "$S/certs/link-2-new-with-old.pem" \
	"$S/certs/issuing-1-root-2.pem"
echo "  the new generation goes to the online side, announced by root 1 (which it trusts), then"
echo "  the re-certified issuing CA, signed by root 2:"
after=$(date -u -d '+5 years -30 days 1 hour' +%Y-%m-%dT%H:%M:%SZ)
quiet "$OFF" bundle create --state "$S" --clock "$after" --generation 1 --type root-generation \
	--out "$demo/bundle-root-2" "${SHARES[@]}" "$S/certs/root-2.der" \
	"$S/certs/link-2-new-with-old.der" "$S/certs/link-2-old-with-new.der"
quiet "$OFF" bundle create --state "$S" --clock "$after" --type issuing-ca-cert \
	--out "$demo/bundle-issuing-2" "${SHARES[@]}" "$S/certs/issuing-1-root-2.der"
"$ON" import --state "$demo/online" --clock "$after" "$demo/bundle-root-2"
"$ON" import --state "$demo/online" --clock "$after" "$demo/bundle-issuing-2"

step "17. The internal auditor verifies both audit logs (CPS 4-11-1, 4-11-5)"
"$OFF" audit verify --state "$S"
"$OFF" audit verify --log "$demo/online/audit/audit.log" --key "$demo/online/audit/audit-key.pem"

step "Summary"
printf '  root 1            %s\n' "$root"
printf '  subject           %s\n' "$(openssl x509 -in "$root" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
printf '  valid             %s .. %s\n' \
	"$(openssl x509 -in "$root" -noout -startdate | sed 's/^notBefore=//')" \
	"$(openssl x509 -in "$root" -noout -enddate | sed 's/^notAfter=//')"
printf '  SHA-256           %s\n' "$fp"
printf '  root 2            %s (SHA-256 %s)\n' "$S/certs/root-2.pem" \
	"$(openssl x509 -in "$S/certs/root-2.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')"
printf '  issued            %s\n' "$(grep -vc '^#' "$S/issued.txt") certificates in $S/issued.txt"
printf '  transcripts       %s\n' "$S/ceremonies/"
printf '  audit log         %s (%s records)\n' "$S/audit/audit.log" "$(wc -l <"$S/audit/audit.log")"
printf '  residents         %s certificates issued, %s revoked (store %s)\n' \
	"$(grep -c ',ok,' "$RD/issued/results.csv" "$RD/reissued/results.csv" | awk -F: '{ s += $2 } END { print s }')" \
	"$(sqlite3 "$demo/online/store.db" "SELECT count(*) FROM certificates WHERE status = 'revoked'")" "$demo/online/store.db"
printf '  repository        %s (%s partition CRLs, ARL of the day)\n' "$demo/repo" "$(ls "$demo/repo/crl" | wc -l)"
printf '  online audit log  %s (%s records)\n' "$demo/online/audit/audit.log" "$(wc -l <"$demo/online/audit/audit.log")"
if [ "${HANKO_DEMO_SERVE:-1}" = 0 ]; then
	echo "  HANKO_DEMO_SERVE=0: not serving."
	echo
	echo "Rehearsal complete. Everything it made is under $demo/ (marked TEST)."
	exit 0
fi
echo
echo "Rehearsal complete. Everything it made is under $demo/ (marked TEST)."
step "18. Serving the repository on loopback: HTTP, OCSP for registered relying parties (CPS 2-6, 4-4-4)"
# serve signs OCSP answers at today's clock, years behind the imports of
# step 16 (dated by the rehearsal's --clock): its key holder would sign
# nothing (CPS 4-12-2-5, docs/clock.md). Back in the present, the CA
# manager accepts today's clock, as after a clock that was ahead.
echo "  the imports of step 16 are dated nearly five years on; back to today's clock, accepted by the CA manager:"
"$ON" clock --state "$demo/online" --accept-set-back --actors kimura | sed 's/^/    /'
"$ON" serve --state "$demo/online" --repo "$demo/repo" --listen "127.0.0.1:$PORT" &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null' EXIT INT TERM
# up once it answers (it signs every OCSP response first: seconds on a slow
# or busy machine); a serve that ended is not waited for
for _ in $(seq 600); do
	curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
	kill -0 $srv 2>/dev/null || { echo "demo.sh: serve did not start" >&2; exit 1; }
	sleep 0.1
done
tok=$(cat "$demo/rp.token")
echo "  OCSP for resident 35 (openssl ocsp as the relying party's client):"
openssl ocsp -url "http://127.0.0.1:$PORT/ocsp" -header "Authorization=Bearer $tok" \
	-issuer "$RD/issuing-1.pem" -cert "$RD/r35.pem" -CAfile "$root" -VAfile "$RD/issuing-1.pem" 2>&1 | sed 's/^/    /'
echo "  CRL checking over HTTP: the relying party fetches 八代市's CRL with its token, then openssl verifies"
curl -sf -H "Authorization: Bearer $tok" "http://127.0.0.1:$PORT/crl/432024.crl" |
	openssl crl -inform DER -out "$demo/rp-432024.crl.pem"
cert_of 7 | openssl x509 -inform DER -out "$RD/r6.pem"
for r in r35 r6; do
	openssl verify -crl_check -CRLfile "$demo/rp-432024.crl.pem" -CAfile "$root" \
		-untrusted "$RD/issuing-1.pem" "$RD/$r.pem" 2>&1 | sed 's/^/    /' || true
done
echo
echo "Serving the demo repository at http://127.0.0.1:$PORT/ (index page in Japanese and English)."
echo "CRLs and OCSP answer the registered relying party: Authorization: Bearer \$(cat $demo/rp.token)"
echo "Press Ctrl-C to stop."
wait $srv


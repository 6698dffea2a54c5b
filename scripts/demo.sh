#!/usr/bin/env bash
# demo.sh - the README's main job: a rehearsal of the root key ceremony of
# the Kumamoto prefectural CA on the embedded default (SoftHSM2), made fresh
# under ./demo/. Five demo key managers receive sealed shares (threshold 3),
# three of them activate the token, the root key is generated inside it,
# and the self-signed root certificate is made, checked and logged.
#
# usage: scripts/demo.sh [BUILD_DIR]      (dev.sh demo builds, then runs this)
# HANKO_DEMO_DIR overrides ./demo (the tests use it).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
OFF=$build/offline/hanko-offline
demo=${HANKO_DEMO_DIR:-$top/demo}
[ -x "$OFF" ] || { echo "demo.sh: $OFF not built; run ./dev.sh demo" >&2; exit 2; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# The demo key managers' passphrases. Fictional people, rehearsal only: in a
# real ceremony each key manager types their own at the prompt.
export DEMO_PASS_yamada='Kumamoto castle 1607 spring!'
export DEMO_PASS_sato='Aso caldera sunrise #42 view'
export DEMO_PASS_suzuki='Amakusa pearls & dolphins 9'
export DEMO_PASS_takahashi='Hitoyoshi onsen river 88 boats'
export DEMO_PASS_tanaka='Kikuchi gorge maple leaves 2026'

rm -rf -- "$demo"
mkdir -p -- "$demo"

step "Rehearsal of the root key ceremony, Kumamoto prefectural CA (CPS 6-1-1-1)"
echo "State folder: $demo/state    key managers' media: $demo/media/<id>/"
echo "Roster: $top/ceremony-scripts/roster-demo.yaml (5 key managers, 3 of 5)"

step "1. init: token with random PINs, quorum key split 3-of-5, sealed shares (CPS 6-2-1-2, 6-4-1)"
"$OFF" init --state "$demo/state" \
	--profile "$top/ceremony-scripts/profile-kumamoto.yaml" \
	--roster "$top/ceremony-scripts/roster-demo.yaml" \
	--media "$demo/media" --rehearsal \
	--passin yamada=env:DEMO_PASS_yamada --passin sato=env:DEMO_PASS_sato \
	--passin suzuki=env:DEMO_PASS_suzuki \
	--passin takahashi=env:DEMO_PASS_takahashi \
	--passin tanaka=env:DEMO_PASS_tanaka

step "2. Each key manager checks their medium (no passphrase needed)"
for km in yamada sato suzuki takahashi tanaka; do
	f=$(ls "$demo/media/$km/"*.hks)
	"$OFF" share inspect "$f" | sed -n 's/^share: *//p' |
		paste -sd' ' | sed "s|^|  $km: share |"
done

step "3. Two shares are not enough: the token is not even asked (CPS 6-2-1-7)"
if "$OFF" activate --state "$demo/state" \
	--share "$demo/media/yamada/share-1-yamada.hks" --passin env:DEMO_PASS_yamada \
	--share "$demo/media/suzuki/share-3-suzuki.hks" --passin env:DEMO_PASS_suzuki; then
	echo "demo.sh: two shares activated the token; that must never happen" >&2
	exit 1
fi
echo "  (refused, as it must be; the refusal is in the audit log)"

step "4. create-root: yamada, suzuki and tanaka activate; RSA-2048 key generated in the token; root self-signed (CPS 6-1-1-2, 6-3-1-2, 7-1-3)"
"$OFF" create-root --state "$demo/state" \
	--share "$demo/media/yamada/share-1-yamada.hks" --passin env:DEMO_PASS_yamada \
	--share "$demo/media/suzuki/share-3-suzuki.hks" --passin env:DEMO_PASS_suzuki \
	--share "$demo/media/tanaka/share-5-tanaka.hks" --passin env:DEMO_PASS_tanaka

root=$demo/state/certs/root-1.pem
step "5. Independent checks of the root certificate"
openssl verify -x509_strict -CAfile "$root" "$root"
certtool --verify --load-ca-certificate "$root" --infile "$root" 2>/dev/null |
	grep -m1 'Chain verification output' || { echo "certtool failed" >&2; exit 1; }

step "6. The internal auditor verifies the audit log (CPS 4-11-1, 4-11-5)"
"$OFF" audit verify --state "$demo/state"

step "Summary"
fp=$(openssl x509 -in "$root" -noout -fingerprint -sha256 | sed 's/^.*=//')
printf '  root certificate  %s\n' "$root"
printf '  subject           %s\n' "$(openssl x509 -in "$root" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
printf '  valid             %s .. %s\n' \
	"$(openssl x509 -in "$root" -noout -startdate | sed 's/^notBefore=//')" \
	"$(openssl x509 -in "$root" -noout -enddate | sed 's/^notAfter=//')"
printf '  SHA-256           %s\n' "$fp"
printf '  audit log         %s (%s records)\n' "$demo/state/audit/audit.log" \
	"$(wc -l <"$demo/state/audit/audit.log")"
echo
echo "Rehearsal complete. Everything it made is under $demo/ (marked TEST)."

#!/usr/bin/env bash
# t_demo.sh - the README's main job runs from start to end: init, the
# init-root, issue-subca (CSR by QR), cross-certify and arl-batch
# ceremonies, bundles imported by the online side, a rollover 5 years on;
# both audit logs verify and the summary shows the root's real fingerprint.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
build=$(dirname "$(dirname "$OFF")")
ok "scripts/demo.sh runs to the end" env HANKO_DEMO_DIR="$T/demo" HANKO_DEMO_SERVE=0 \
	"$HANKO_SRC/scripts/demo.sh" "$build"
cat "$T/out" "$T/err" >"$T/demo.out"
R=$T/demo/state/certs/root-1.pem
fp=$(openssl x509 -in "$R" -noout -fingerprint -sha256 | sed 's/^.*=//')
check "the root certificate was written" test -s "$R"
check "the summary shows the root's SHA-256 fingerprint" grep -q "SHA-256 *$fp" "$T/demo.out"
check "the demo showed two shares failing" grep -q "2 of the 3 shares needed" "$T/demo.out"
check "the demo's audit log verified" grep -q "audit.log: OK: .* (signatures verified)" "$T/demo.out"
check "the demo made five sealed shares" test "$(find "$T/demo/media" -name '*.hks' | wc -l)" = 5
check "no PIN is on disk in clear" bash -c "! grep -rqa -e 'user.pin *=' -e 'so.pin *=' '$T/demo/state'"
check "the CSR crossed by QR images byte for byte" grep -q "the CSR read back from the images is byte-identical" "$T/demo.out"
check "the issuing CA verifies under root 1" \
	openssl verify -x509_strict -CAfile "$R" "$T/demo/state/certs/issuing-1.pem"
check "the bridge-anchored path verified with policy checking" \
	bash -c "grep -A1 'trusting only the bridge' '$T/demo.out' | grep -q 'issuing-1.pem: OK'"
check "35 ARLs were signed, each verifies under root 1" bash -c \
	"[ \$(ls '$T/demo/state/certs/arl/' | wc -l) = 35 ] && for f in '$T/demo/state/certs/arl/'*.crl; do openssl crl -inform DER -in \"\$f\" -noout -verify -CAfile '$R' 2>&1 | grep -q 'verify OK' || exit 1; done"
check "the online side imported every bundle" bash -c \
	"grep -q 'type issuing-ca-cert, sequence 1' '$T/demo.out' && grep -q 'type arl-batch, sequence 2, 35 item' '$T/demo.out' && grep -q 'type cross-pair, sequence 3' '$T/demo.out' && grep -q 'type root-generation, sequence 4, 3 item' '$T/demo.out' && grep -q 'type issuing-ca-cert, sequence 5' '$T/demo.out'"
check "the rollover made root 2 and both link certificates" bash -c \
	"[ -s '$T/demo/state/certs/root-2.pem' ] && [ -s '$T/demo/state/certs/link-2-new-with-old.pem' ] && [ -s '$T/demo/state/certs/link-2-old-with-new.pem' ]"
check "the online audit log verified" grep -q "online/audit/audit.log: OK" "$T/demo.out"
fails "bundle create refuses a root generation the CA does not have" 2 "generation 3: the CA has 2 root generations" \
	"$OFF" bundle create --state "$T/demo/state" --generation 3 --type root-generation --out "$T/bx" \
	--share "$T/demo/media/yamada/share-1-yamada.hks" "$T/demo/state/certs/root-2.der"
ok "the demo's audit log verifies again" "$OFF" audit verify --state "$T/demo/state"
finish

#!/usr/bin/env bash
# t_demo.sh - the README's main job runs from start to end: init, the
# init-root, issue-subca (CSR by QR), cross-certify and arl-batch
# ceremonies, bundles imported by the online side, residents' certificates,
# revocations and re-issues, the published repository, a rollover 5 years
# on; both audit logs verify, the summary shows the root's real
# fingerprint, and the repository is served until Ctrl-C.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
build=$(dirname "$(dirname "$OFF")")
# The demo serves its repository at the end until interrupted: run it in the
# background on a free port, check what it serves, then Ctrl-C (SIGINT).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# job control: the demo gets its own process group and keeps SIGINT (a
# background job of a non-interactive shell ignores it), so Ctrl-C can be
# sent to the whole group as a terminal does
set -m
HANKO_DEMO_DIR="$T/demo" HANKO_DEMO_PORT=$PORT "$HANKO_SRC/scripts/demo.sh" "$build" >"$T/demo.out" 2>&1 &
demo_pid=$!
set +m
trap 'kill $demo_pid 2>/dev/null || true' EXIT
for i in $(seq 1 600); do
	grep -q "Press Ctrl-C to stop" "$T/demo.out" && break
	kill -0 $demo_pid 2>/dev/null || break
	sleep 1
done
check "scripts/demo.sh runs to the serving step" grep -q "Press Ctrl-C to stop" "$T/demo.out"
check "it prints the URL it serves" grep -q "Serving the demo repository at http://127.0.0.1:$PORT/" "$T/demo.out"
check "the index page is served in Japanese and English" bash -c \
	"curl -sf http://127.0.0.1:$PORT/ | grep -q '認証局リポジトリ | CA repository'"
check "the root certificate is public, byte for byte" bash -c \
	"curl -sf http://127.0.0.1:$PORT/root/gen-1.cer | cmp -s - '$T/demo/state/certs/root-1.der'"
check "a partition CRL needs the registered relying party (401 without)" test \
	"$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/crl/432024.crl)" = 401
check "OCSP through the demo's server: resident 35 is good" grep -q "r35.pem: good" "$T/demo.out"
check "CRL checking over HTTP: resident 35 OK, resident 6 revoked" bash -c \
	"grep -q 'r35.pem: OK' '$T/demo.out' && grep -q 'certificate revoked' '$T/demo.out'"
kill -INT -- -$demo_pid
for i in $(seq 1 120); do kill -0 $demo_pid 2>/dev/null || break; sleep 0.5; done
check "Ctrl-C stops the demo's server" bash -c "! kill -0 $demo_pid 2>/dev/null"
check "... and nothing listens any more" bash -c "! curl -s -m 2 http://127.0.0.1:$PORT/ >/dev/null"
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
check "36 residents issued in one batch" grep -q "batch.csv: 36 issued, 0 refused" "$T/demo.out"
check "the re-issue batch: two residents replaced" grep -q "reissue.csv: 2 issued, 0 refused" "$T/demo.out"
check "the moved resident's history: affiliation-changed, then valid" bash -c \
	"grep -A3 'for the one who moved' '$T/demo.out' | grep -q '3 affiliation-changed' && grep -A3 'for the one who moved' '$T/demo.out' | grep -q ' valid '"
check "49 partition CRLs published into demo/repo/, each verifies with the issuing CA" bash -c \
	"[ \$(ls '$T/demo/repo/crl' | wc -l) = 49 ] && openssl x509 -in '$T/demo/state/certs/issuing-1.der' -inform DER -out '$T/iss.pem' && for f in '$T/demo/repo/crl/'*.crl; do openssl crl -inform DER -in \"\$f\" -noout -verify -CAfile '$T/iss.pem' 2>&1 | grep -q 'verify OK' || exit 1; done"
check "the ARL of the day is in demo/repo/ and verifies with root 1" bash -c \
	"openssl crl -inform DER -in '$T/demo/repo/arl.crl' -noout -verify -CAfile '$R' 2>&1 | grep -q 'verify OK'"
check "八代市's CRL lists the ceased resident with cessationOfOperation" bash -c \
	"openssl crl -inform DER -in '$T/demo/repo/crl/432024.crl' -noout -text | grep -q 'Cessation Of Operation'"
check "a certificate with a substitute character verifies against root and issuing CA" \
	openssl verify -CAfile "$R" -untrusted "$T/iss.pem" "$T/demo/residents/r35.pem"
check "the online audit log verified after everything" grep -q "online/audit/audit.log: OK" "$T/demo.out"
ok "the demo's audit log verifies again" "$OFF" audit verify --state "$T/demo/state"
# Step 16's imports are dated nearly five years on (the rehearsal's clock):
# issuing CA 1 re-certified by root 2 is valid only from then. Back at
# today's clock (accepted by the CA manager, as the demo's serve step does)
# a publication points relying parties at the certificate valid today, and
# keeps the later one beside it (docs/repository.md).
ON=$HANKO_ONLINE
ok "back at today's clock, accepted by the CA manager" \
	"$ON" clock --state "$T/demo/online" --accept-set-back --actors kimura
rc=0; "$ON" publish --state "$T/demo/online" --repo "$T/repo-today" --now --new-repository >"$T/pub.out" 2>"$T/pub.err" || rc=$?
check "publish at today's clock (exit $rc: 0, or 9 for its warnings)" test "$rc" = 0 -o "$rc" = 9
check "issuing/issuing-1.cer is the certificate valid today (root 1's), not the one valid only in five years" bash -c \
	"openssl x509 -inform DER -in '$T/repo-today/issuing/issuing-1.cer' -noout -checkend 0 >/dev/null &&
	 [ \$(date -u -d \"\$(openssl x509 -inform DER -in '$T/repo-today/issuing/issuing-1.cer' -noout -startdate | sed 's/^notBefore=//')\" +%s) -le \$(date -u +%s) ] &&
	 cmp -s '$T/repo-today/issuing/issuing-1.cer' '$T/demo/state/certs/issuing-1.der'"
check "... the re-certified one beside it, issuing-1-<sha16>.cer" bash -c \
	"ls '$T/repo-today/issuing/' | grep -Eq '^issuing-1-[0-9a-f]{16}\.cer$'"
finish

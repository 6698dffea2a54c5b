#!/usr/bin/env bash
# t_online_serve_party.sh - every relying party has its own OCSP signing
# budget (docs/ocsp.md "Why a nonce goes to the key holder",
# docs/process-model.md; CPS 4-4-4-3, 2-6-4): serve --sign-rate 4, so each
# party gets the default quarter, 1 job a second (burst 2). bank-1 sends
# nonce requests (signing jobs) one after the other until it is answered
# tryLater; right after, bank-2's two nonce requests are both signed, with
# its nonce. Before the per-party budget, bank-1 took the whole global
# budget (burst 8, 4 a second) and bank-2 was answered tryLater: this
# fails. The refusal is audited as the party's (ocsp.refuse rate-limited,
# "for this relying party"), bank-2 never refused. Counts, no clock: the
# buckets start full, so bank-2's first two jobs are signed however long
# bank-1's took; bank-1 is refused within 200 requests on any machine
# that sends them faster than one a second.
. "$(dirname "$0")/online.sh"
. "$(dirname "$0")/serve.sh"
LOG=$O/audit/audit.log

serve_one_cert
ok "rp add bank-2" "$ON" rp add --state "$O" --clock 2026-04-03T11:00:00Z --name bank-2 --token-out "$T/tok2"
openssl ocsp -issuer "$ISS" -cert "$T/c.pem" -reqout "$T/nonce.der" 2>/dev/null
check "a nonce request" test -s "$T/nonce.der"

fails "serve --sign-rate-per-party over --sign-rate" 2 "^hanko-online serve: --sign-rate-per-party 5: at most --sign-rate \(4\)$" \
	"$ON" serve --state "$O" --repo "$P" --listen 127.0.0.1:0 --sign-rate 4 --sign-rate-per-party 5
fails "serve --sign-rate-per-party 0" 2 "--sign-rate-per-party 0: a whole number from 1 to 100000" \
	"$ON" serve --state "$O" --repo "$P" --listen 127.0.0.1:0 --sign-rate-per-party 0

check "serve --sign-rate 4 (each party: 1/s by default)" serve_start --clock 2026-04-03T12:00:00Z --sign-rate 4 --flush 1

cat >"$T/party.py" <<'EOF'
# argv: port token-a token-b nonce.der
# prints: a_signed a_sent b_statuses... b_nonce_echoed
import http.client, sys
port, ta, tb = int(sys.argv[1]), sys.argv[2], sys.argv[3]
nonce = open(sys.argv[4], "rb").read()
# the nonce's value in the request: the extension's OID, then its
# extnValue OCTET STRING holding the nonce's OCTET STRING
oid = bytes.fromhex("06092b0601050507300102")
i = nonce.index(oid) + len(oid)
assert nonce[i] == 4 and nonce[i + 2] == 4
value = nonce[i + 4:i + 4 + nonce[i + 3]]

def post(tok):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/ocsp", nonce, {"Content-Type": "application/ocsp-request",
              "Authorization": "Bearer " + tok})
    r = c.getresponse()
    b = r.read()
    c.close()
    # OCSPResponse: SEQUENCE { responseStatus ENUMERATED ... }
    j = 2 + (b[1] & 0x7f if b[1] & 0x80 else 0)
    st = b[j + 2] if r.status == 200 and b[j:j + 2] == b"\x0a\x01" else "error"
    return st, b

signed = sent = 0
while sent < 200:
    st, _ = post(ta)
    sent += 1
    if st != 0:
        break
    signed += 1
bs = [post(tb) for _ in range(2)]
print(signed, sent, *[s for s, _ in bs], int(all(value in b for _, b in bs)))
EOF
read -r asig asent b1 b2 echoed < <(python3 "$T/party.py" "$PORT" "$(cat "$T/tok")" "$(cat "$T/tok2")" "$T/nonce.der")
check "bank-1: signed ($asig) until over its own budget: tryLater at request $asent" \
	test "$asig" -ge 1 -a "$asent" = $((asig + 1))
check "... right after, bank-2's two nonce requests are signed ($b1 $b2), its nonce in each ($echoed)" \
	test "$b1" = 0 -a "$b2" = 0 -a "$echoed" = 1
ok "... stop" stop_serve
check "... bank-1's refusal is audited as its own budget's (ocsp.refuse rate-limited)" grep -q \
	"	ocsp.refuse	rate-limited	op1@ca-online	client 127.0.0.1: bank-1: signing jobs over 1/s for this relying party (--sign-rate-per-party): tryLater" "$LOG"
check "... bank-2 was never refused" sh -c "! grep -q 'ocsp.refuse.*bank-2' '$LOG'"
check "... the signed answers are counted: bank-1 $asig, bank-2 2 (provisions, method ocsp)" test \
	"$(db "SELECT coalesce(sum(count), 0) FROM provisions WHERE recipient = 'bank-1' AND method = 'ocsp'") $(db "SELECT coalesce(sum(count), 0) FROM provisions WHERE recipient = 'bank-2' AND method = 'ocsp'")" = "$asig 2"
finish

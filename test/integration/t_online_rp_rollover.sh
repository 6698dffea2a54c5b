#!/usr/bin/env bash
# t_online_rp_rollover.sh - a relying party after a root rollover, following
# docs/relying-parties.md literally ("After a root rollover", "OCSP with
# GnuTLS and NSS"; CPS 4-13, 7-1-4, 4-4-4-2, 4-4-11; RFC 4210 4.4.1, RFC
# 5280 6.3.3, RFC 6960): a publisher whose profile names a repository URL,
# three residents issued under root 1 (one revoked, keyCompromise), the
# rollover to root 2 with its links, the issuing CA re-certified and root
# 2's ARLs imported, the OCSP responder, a registered relying party, one
# publication, all days ago; then serve at today's clock and, with curl,
# openssl, GnuTLS (certtool, ocsptool) and NSS (certutil, vfychain,
# ocspclnt), as the relying party:
#   - the URL space: every resident's CRL distribution point, under the
#     repository URL, is a path serve answers (application/pkix-crl) with
#     the partition CRL whose IDP names that URI; the root generations,
#     links, issuing CA and ARL with their RFC 2585 types;
#   - the recipe of before the rollover (root-1.cer, issuing-1.cer) fails
#     (openssl: error 20; certtool: issuer unknown): issuing-1.cer is the
#     one root 2 re-certified;
#   - trusting root 2, checked with root 1 through NewWithOld: openssl
#     verify -crl_check_all (partition CRL + ARL) passes the good resident
#     and refuses the revoked one; openssl ocsp verifies;
#   - trusting root 1 only, the link given: openssl -crl_check, openssl ocsp,
#     certtool, vfychain -pp pass; -crl_check_all cannot (root 1 signs no
#     more ARLs: the documented limit);
#   - ocsptool verifies a response with the issuing CA as trust, not with
#     the root; NSS's ocspclnt gets unauthorized on its own, and through a
#     client that sends the token (a forwarding proxy here) good and
#     revoked.
# dev.sh installs gnutls-bin and libnss3-tools: a missing tool fails here.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
. "$HANKO_SRC/test/data/online/setup.sh"
. "$(dirname "$0")/serve.sh"
fresh_tmp
T=$HANKO_TMP
for t in certtool ocsptool certutil vfychain ocspclnt curl python3; do
	command -v "$t" >/dev/null || { echo "FAIL - $t is not installed (dev.sh installs it)"; exit 1; }
done
BASE=http://repo.example.jp/kumamoto
sed "s|^repository-url: .*|repository-url: \"$BASE\"|" "$PROFILE" >"$T/profile.yaml"
PROFILE=$T/profile.yaml
D0=$(ago 12) D1=$(ago 11) D2=$(ago 10) D3=$(ago 9)
make_online "$T" "$D0"
P=$T/repo
C=$T/rp
mkdir -p "$C"

# Three residents under root 1: lines 2-4 of valid.csv (431010, 432024,
# 432148); 431010's revoked.
req_dir "$T/req" 4
ok "issue three certificates (root 1's time)" "$ON" issue --state "$O" --clock "${D0}T12:00:00Z" \
	--batch "$T/req/batch.csv" --out "$T/issued"
certs_from "$T/issued"
serial() { sed -n "s/^$1,ok,\([0-9A-F]*\),.*/\1/p" "$T/issued/results.csv"; }
for l in 2 3 4; do openssl x509 -inform DER -in "$T/issued/certs/$(serial $l).der" -out "$C/$l.pem"; done
ok "revoke line 2 (431010): keyCompromise" "$ON" revoke --state "$O" --clock "${D1}T09:00:00Z" \
	--serial "$(serial 2)" --reason key-compromise

# The rollover, carried to the online side as docs/air-gap.md says; then
# root 2's ARLs.
ok "rollover ceremony: root 2, links, issuing CA 1 re-certified" "$OFF" ceremony run \
	"$HANKO_SRC/ceremony-scripts/rollover.yaml" --state "$S" --clock "${D2}T09:00:00Z" --confirm-digests \
	"${SH[@]}" "${OPS[@]}"
ok "bundle: root generation 2 (signed by 1)" "$OFF" bundle create --state "$S" --clock "${D2}T10:00:00Z" \
	--generation 1 --type root-generation --out "$T/b-root2" "${SH[@]}" "$S/certs/root-2.der" \
	"$S/certs/link-2-new-with-old.der" "$S/certs/link-2-old-with-new.der"
ok "bundle: issuing CA 1 under root 2" "$OFF" bundle create --state "$S" --clock "${D2}T10:00:00Z" \
	--type issuing-ca-cert --out "$T/b-iss-r2" "${SH[@]}" "$S/certs/issuing-1-root-2.der"
ok "import root generation 2" "$ON" import --state "$O" --clock "${D2}T11:00:00Z" "$T/b-root2"
ok "import issuing CA 1 under root 2" "$ON" import --state "$O" --clock "${D2}T11:00:00Z" "$T/b-iss-r2"
ok "arl-batch ceremony (root 2)" arl_batch 35 "${D2}T12:00:00Z"
ok "bundle of the ARLs" arl_bundle 35 "${D2}T12:30:00Z"
ok "import the ARLs" "$ON" import --state "$O" --clock "${D2}T13:00:00Z" "$T/b-arl"
ok "the OCSP responder" "$ON" responder --state "$O" --clock "${D3}T09:00:00Z"
ok "rp add bank-1" "$ON" rp add --state "$O" --clock "${D3}T10:00:00Z" --name bank-1 --token-out "$T/tok"
TOKEN=$(cat "$T/tok")
ok "publish (today)" "$ON" publish --state "$O" --repo "$P"
check "serve at today's clock" serve_start

# --- the URL space ------------------------------------------------------
# get NAME PATH [CURL ARGS...]: PATH fetched into $C/NAME, its status and
# Content-Type in $C/NAME.st
get() { local n=$1 p=$2; shift 2; curl -sS -o "$C/$n" -w '%{http_code} %{content_type}' "$@" "$U/$p" >"$C/$n.st"; }
for f in root/gen-1.cer:pkix-cert root/gen-2.cer:pkix-cert root/link-2-newwithold.cer:pkix-cert \
	issuing/issuing-1.cer:pkix-cert arl.crl:pkix-crl; do
	get "$(basename "${f%:*}")" "${f%:*}"
	check "$U/${f%:*}: 200 application/${f#*:}, public" test "$(cat "$C/$(basename "${f%:*}").st")" = \
		"200 application/${f#*:}"
done
for l in 2 3 4; do
	uri=$(openssl x509 -in "$C/$l.pem" -noout -ext crlDistributionPoints | sed -n 's/^ *URI://p')
	get "cdp-$l" "${uri#"$BASE"/}" -H "Authorization: Bearer $TOKEN"
	check "line $l: its CRL DP $uri is under the repository URL and served: 200 application/pkix-crl" \
		test "${uri#"$BASE"/}" != "$uri" -a "$(cat "$C/cdp-$l.st")" = "200 application/pkix-crl"
	check "... the partition CRL there names $uri in its IDP" test "$(openssl crl -inform DER -in "$C/cdp-$l" \
		-noout -text | sed -n 's/^ *URI:\([^ ]*\).*/\1/p')" = "$uri"
done
for f in gen-1 gen-2 link-2-newwithold issuing-1; do openssl x509 -inform DER -in "$C/$f.cer" -out "$C/$f.pem"; done
openssl crl -inform DER -in "$C/arl.crl" -out "$C/arl.pem"
openssl crl -inform DER -in "$C/cdp-2" -out "$C/431010.pem"
openssl crl -inform DER -in "$C/cdp-3" -out "$C/432024.pem"
GOOD=$C/3.pem REV=$C/2.pem

# --- the recipe of before the rollover ------------------------------------
openssl verify -crl_check -CRLfile "$C/432024.pem" -CAfile "$C/gen-1.pem" -untrusted "$C/issuing-1.pem" \
	"$GOOD" >"$C/v-old" 2>&1 || true
check "root-1.cer + issuing-1.cer after the rollover: error 20 (issuing-1.cer is root 2's)" \
	grep -q "error 20 at 1 depth lookup" "$C/v-old"
cat "$GOOD" "$C/issuing-1.pem" >"$C/chain-old.pem"
certtool --verify --load-ca-certificate "$C/gen-1.pem" --infile "$C/chain-old.pem" >"$C/ct-old" 2>&1 || true
check "... certtool: the certificate issuer is unknown" grep -q "The certificate issuer is unknown" "$C/ct-old"

# --- 1. trusting root 2 ------------------------------------------------------
ok "root 2 checked with root 1: NewWithOld verifies with root 1" openssl verify -CAfile "$C/gen-1.pem" \
	"$C/link-2-newwithold.pem"
check "... and certifies root 2's key" cmp -s <(openssl x509 -in "$C/link-2-newwithold.pem" -noout -pubkey) \
	<(openssl x509 -in "$C/gen-2.pem" -noout -pubkey)
cat "$C/432024.pem" "$C/arl.pem" >"$C/crls-good.pem"
cat "$C/431010.pem" "$C/arl.pem" >"$C/crls-rev.pem"
ok "openssl verify -crl_check_all with root 2 (partition CRL + ARL): the good resident of root 1's time" \
	openssl verify -crl_check_all -CRLfile "$C/crls-good.pem" -CAfile "$C/gen-2.pem" -untrusted "$C/issuing-1.pem" "$GOOD"
openssl verify -crl_check_all -CRLfile "$C/crls-rev.pem" -CAfile "$C/gen-2.pem" -untrusted "$C/issuing-1.pem" \
	"$REV" >"$C/v-rev" 2>&1 || true
check "... the revoked one: error 23, certificate revoked" grep -q "error 23 at 0 depth lookup: certificate revoked" "$C/v-rev"
cat "$C/gen-2.pem" "$C/issuing-1.pem" >"$C/root-and-issuing.pem"
openssl ocsp -url "$U/ocsp" -header "Authorization=Bearer $TOKEN" -issuer "$C/issuing-1.pem" -cert "$REV" \
	-CAfile "$C/root-and-issuing.pem" >"$C/o-r2" 2>&1 || true
check "openssl ocsp, root 2 and issuing CA 1: revoked, keyCompromise" sh -c "grep -q 'Response verify OK' '$C/o-r2' &&
	grep -q ': revoked' '$C/o-r2' && grep -q 'Reason: keyCompromise' '$C/o-r2'"

# --- 2. trusting root 1 only, the link given ----------------------------------
cat "$C/issuing-1.pem" "$C/link-2-newwithold.pem" >"$C/untrusted.pem"
ok "openssl verify -crl_check, root 1, issuing CA and NewWithOld untrusted: the good one" \
	openssl verify -crl_check -CRLfile "$C/432024.pem" -CAfile "$C/gen-1.pem" -untrusted "$C/untrusted.pem" "$GOOD"
openssl verify -crl_check -CRLfile "$C/431010.pem" -CAfile "$C/gen-1.pem" -untrusted "$C/untrusted.pem" \
	"$REV" >"$C/v-rev1" 2>&1 || true
check "... the revoked one: certificate revoked" grep -q "error 23 at 0 depth lookup: certificate revoked" "$C/v-rev1"
openssl verify -crl_check_all -CRLfile "$C/crls-good.pem" -CAfile "$C/gen-1.pem" -untrusted "$C/untrusted.pem" \
	"$GOOD" >"$C/v-all1" 2>&1 || true
check "limit (documented): -crl_check_all through root 1: unable to get certificate CRL" \
	grep -q "unable to get certificate CRL" "$C/v-all1"
openssl ocsp -url "$U/ocsp" -header "Authorization=Bearer $TOKEN" -issuer "$C/issuing-1.pem" -cert "$GOOD" \
	-CAfile "$C/gen-1.pem" -verify_other "$C/untrusted.pem" >"$C/o-r1" 2>&1 || true
check "openssl ocsp, root 1 and -verify_other issuing CA + link: good" sh -c \
	"grep -q 'Response verify OK' '$C/o-r1' && grep -q ': good' '$C/o-r1'"
cat "$GOOD" "$C/issuing-1.pem" "$C/link-2-newwithold.pem" >"$C/chain-link.pem"
certtool --verify --load-ca-certificate "$C/gen-1.pem" --infile "$C/chain-link.pem" >"$C/ct-link" 2>&1 || true
check "certtool --verify, root 1, the link after the issuing CA: verified" \
	grep -q "Chain verification output: Verified. The certificate is trusted." "$C/ct-link"
N=$T/nss
mkdir -p "$N"
certutil -N -d "sql:$N" --empty-password
certutil -A -d "sql:$N" -n root-1 -t ,C, -i "$C/gen-1.pem"
for f in 3 issuing-1 link-2-newwithold; do openssl x509 -in "$C/$f.pem" -outform DER -out "$C/$f.der"; done
vfychain -d "sql:$N" -pp -u 4 "$C/3.der" "$C/issuing-1.der" "$C/link-2-newwithold.der" >"$C/vfy" 2>&1 || true
check "vfychain -pp, root 1 trusted, issuing CA and link given: Chain is good!" grep -q "Chain is good!" "$C/vfy"

# --- OCSP with GnuTLS and NSS ---------------------------------------------------
ocsptool -q --load-issuer "$C/issuing-1.pem" --load-cert "$REV" --outfile "$C/req.der" >/dev/null 2>&1
curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/ocsp-request' \
	--data-binary @"$C/req.der" -o "$C/resp.der" "$U/ocsp"
ocsptool -e --load-trust "$C/issuing-1.pem" --infile "$C/resp.der" >"$C/ot-iss" 2>&1 || true
check "ocsptool -e --load-trust issuing CA: Success" grep -q "Verifying OCSP Response: Success." "$C/ot-iss"
ocsptool -e --load-trust "$C/gen-2.pem" --infile "$C/resp.der" >"$C/ot-root" 2>&1 || true
check "ocsptool -e --load-trust root 2: Signer cert is not trusted (one level)" \
	grep -q "Verifying OCSP Response: Failure, Signer cert is not trusted." "$C/ot-root"
openssl x509 -inform DER -in "$P/$(cd "$P" && ls responder/*.cer | head -1)" -out "$C/responder.pem"
certutil -A -d "sql:$N" -n issuing-1 -t ,, -i "$C/issuing-1.pem"
certutil -A -d "sql:$N" -n link -t ,, -i "$C/link-2-newwithold.pem"
certutil -A -d "sql:$N" -n responder -t ,, -i "$C/responder.pem"
certutil -A -d "sql:$N" -n good -t ,, -i "$GOOD"
certutil -A -d "sql:$N" -n rev -t ,, -i "$REV"
ocspclnt -S good -d "sql:$N" -l "$U/ocsp" -t responder >"$C/nss-direct" 2>&1 || true
check "ocspclnt on its own (no credential): unauthorized" \
	grep -q "The OCSP server has refused this request as unauthorized." "$C/nss-direct"
# a client that sends the token: a forwarding proxy adding the header
cat >"$T/proxy.py" <<'PY'
import http.server, sys, urllib.error, urllib.request
tok, up = open(sys.argv[1]).read().strip(), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        req = urllib.request.Request(up + self.path, data=body, headers={
            "Content-Type": self.headers.get("Content-Type", ""), "Authorization": "Bearer " + tok})
        try:
            r = urllib.request.urlopen(req); code, data = r.status, r.read()
        except urllib.error.HTTPError as e:
            code, data = e.code, e.read()
        self.send_response(code); self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_port, flush=True)
s.serve_forever()
PY
python3 "$T/proxy.py" "$T/tok" "$U" >"$T/proxy.port" &
PXP=$!
cleanup() { kill "$PXP" 2>/dev/null; [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null; return 0; }
for _ in $(seq 100); do [ -s "$T/proxy.port" ] && break; sleep 0.1; done
PX=http://127.0.0.1:$(cat "$T/proxy.port")/ocsp
ocspclnt -S good -d "sql:$N" -l "$PX" -t responder >"$C/nss-good" 2>&1 || true
check "ocspclnt through a client sending the token: good succeeded" \
	grep -q 'Check of certificate "good" succeeded.' "$C/nss-good"
ocspclnt -S rev -d "sql:$N" -l "$PX" -t responder >"$C/nss-rev" 2>&1 || true
check "... revoked: Peer's Certificate has been revoked." grep -q "Peer's Certificate has been revoked." "$C/nss-rev"

ok "stop serve" stop_serve

# The root retires issuing CA 1's copy under root 1 (revoke, superseded,
# CPS 4-4-4-2: the copy under root 2 replaced it) with an emergency ARL:
# the key stays in use through the copy under root 2 (CPS 4-14-2 stops
# only a key with no valid copy the ARL does not list; docs/publish.md "An
# issuing CA the root revokes").
NOW=$(date -u +%FT%TZ)
OLD1=$(serial_of certs/issuing-1.der)
sed "s/serial: \"00\"/serial: \"$OLD1\"/" "$HANKO_SRC/ceremony-scripts/revoke.yaml" >"$T/revoke-old1.yaml"
ok "offline: revoke issuing CA 1's copy under root 1 (superseded), emergency ARL" "$OFF" ceremony run \
	"$T/revoke-old1.yaml" --state "$S" --clock "$NOW" --confirm-digests "${SH[@]}" "${OPS[@]}"
RN=$(sed -n 's/^arl.last-number = //p' "$S/state.conf")
ok "bundle of ARL $RN" "$OFF" bundle create --state "$S" --clock "$NOW" --type arl-batch \
	--out "$T/b-arl-old1" "${SH[@]}" "$S/certs/arl/arl-$RN.crl"
ok "import it" "$ON" import --state "$O" "$T/b-arl-old1"
check "... ARL $RN lists the copy under root 1, not the copy under root 2" sh -c \
	"openssl crl -inform DER -in '$S/certs/arl/arl-$RN.crl' -noout -text | grep -qi 'Serial Number: $OLD1' &&
	 ! openssl crl -inform DER -in '$S/certs/arl/arl-$RN.crl' -noout -text |
	   grep -qi 'Serial Number: $(serial_of certs/issuing-1-root-2.der)'"
req_dir "$T/req2"
sed -n "1p;5,6p" "$REQ/valid.csv" >"$T/req2/batch.csv"
ok "issue goes on under issuing CA 1 (its copy under root 2)" "$ON" issue --state "$O" \
	--batch "$T/req2/batch.csv" --out "$T/issued2"
"$ON" status --state "$O" >"$T/st.out" 2>"$T/st.err" || true
check "status: issuing CA 1 current, not revoked by the root" sh -c \
	"grep -qx 'issuing: generation 1: current (issue, publish and responder sign with it)' '$T/st.out' &&
	 ! grep -q 'revoked by the root' '$T/st.out' '$T/st.err'"
finish

#!/usr/bin/env bash
# t_online_ldap.sh - "hanko-online ldap-push" (issue 6 item 4; CPS 2-6,
# 4-4-4-1; PROFILE.md "Repository"; docs/ldap.md): a throwaway slapd on a
# loopback port (test/data/ldap/slapd.conf.in: core schema, mdb, suffix
# c=JP; the access rules and the administrator's entries of docs/ldap.md,
# taken from there: the publisher binds and pushes, a relying party of the
# group reads a partition CRL, a bound DN outside it and anonymous do not),
# then
#   - a set in production naming made with openssl (prodset.sh): partition
#     entries cRLDistributionPoint, two root generations and their links,
#     a CertificatePair;
#   - the rehearsal publisher's real set (make_online, an arl-batch, publish):
#     every CRL read back with ldapsearch is byte-identical to the repo's
#     and verifies with openssl crl -verify, the root entry holds every
#     generation and the ARL;
#   - a revocation, a second publish and push: every value replaced, none
#     duplicated; a third push of the same set changes nothing;
#   - an older set pushed over a newer one (older partition CRLs, an older
#     ARL): refused, exit 7, nothing written (RFC 5280 5.2.3);
#   - a wrong bind password, a closed port, a server that never answers, a
#     plain ldap:// URI to another host, ldaps:// to a server that never
#     answers the TLS handshake: one line, non-zero exit (the time taken
#     printed, not checked); the silent server connected to once;
#   - ldaps:// to a second slapd: a certificate without its CA, or for
#     another name, refused whatever TLS_REQCERT says; with the CA, pushed;
#   - CPS 4-5: a relying party's reads counted from slapd's stats log by
#     the recipe in docs/ldap.md, recorded with provision; report warns
#     about a month with LDAP publishing and no ldap provision, until one
#     is recorded.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
. "$HANKO_SRC/test/data/online/setup.sh"
. "$HANKO_SRC/test/data/ldap/prodset.sh"
fresh_tmp
T=$HANKO_TMP
P=$T/repo
L=$T/ldap
SLAPD= SILENT= CLOSEDP= SLAPD2=
trap '[ -n "$SLAPD" ] && kill "$SLAPD" 2>/dev/null; [ -n "$SILENT" ] && kill "$SILENT" 2>/dev/null; [ -n "$CLOSEDP" ] && kill "$CLOSEDP" 2>/dev/null; [ -n "$SLAPD2" ] && kill "$SLAPD2" 2>/dev/null; wait' EXIT

# The publisher with one resident's certificate, an ARL batch, set 1.
make_online "$T"
arl_batch 10 2026-04-02T11:00:00Z >/dev/null
arl_bundle 10 2026-04-02T12:00:00Z >/dev/null
"$ON" import --state "$O" --clock 2026-04-02T12:00:00Z --type arl-batch "$T/b-arl" >/dev/null
req_dir "$T/req" 2
"$ON" issue --state "$O" "${IC[@]}" --batch "$T/req/batch.csv" --out "$T/issued" >/dev/null
SERIAL=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/issued/results.csv")
ok "publish: set 1" "$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T10:00:00Z
# The revocation that set 2 lists (below), made now: the ldap-push runs in
# between are at the real clock (their records are counted by month), and
# the clock guard (docs/clock.md) refuses a revocation dated before them.
# ldap-push reads the repository, not the store: set 1's pushes are as before.
"$ON" revoke --state "$O" --clock 2026-04-03T12:00:00Z --serial "$SERIAL" --reason key-compromise >/dev/null
NCRL=$(ls "$P/crl" | wc -l)
prod_set "$T/prod"

# The directory server.
mkdir -p "$L/db"
export HK_LDAP_PW='Kumamoto LDAP bind 2026!'
export HK_WRONG_PW='not the password'
sed -e "s|@DIR@|$L|g" -e "s|@ROOTPW@|$(slappasswd -s "$HK_LDAP_PW")|" \
	"$HANKO_SRC/test/data/ldap/slapd.conf.in" >"$L/slapd.conf"
# docs_block TITLE: the code blocks of docs/ldap.md's "The server's side"
# item TITLE, each line tagged with its block's info string (or "-")
docs_block() {
	sed -n "/^\* \*\*$1\*\*/,/^\* \*\*/p" "$HANKO_SRC/docs/ldap.md" |
		awk '/^```/ { if (in_) in_ = 0; else { in_ = 1; tag = substr($0, 4); if (tag == "") tag = "-"; n++ }; next }
		    in_ { print n "\t" tag "\t" $0 }'
}
# CPS 2-6-3: the access rules of docs/ldap.md, as printed there (the block
# of "access to" lines), and the entries it says the administrator makes
docs_block 'Access (CPS 2-6-3).' >"$T/access.md"
awk -F'\t' '$3 ~ /^access to / { b = $1 } b != "" && $1 == b { print $3 }' "$T/access.md" >>"$L/slapd.conf"
awk -F'\t' '$2 == "ldif" { print $3 }' "$T/access.md" >"$T/top.ldif"
# -d stats: the access log docs/ldap.md counts provisions from, on stderr
slapd_start "$L/slapd.conf" "$L/slapd.log" stats || true
ok "slapd answers on $URI" ldapsearch -x -H "$URI" -s base -b ""
ADMIN=(-D cn=admin,c=JP -w "$HK_LDAP_PW")
push() { push_at "$URI" "$@"; }
# push_at URI ...: to another server (--ldap is once only)
push_at() { local u=$1; shift; "$ON" ldap-push --state "$O" --ldap "$u" --bind-dn cn=admin,c=JP --passin env:HK_LDAP_PW "$@"; }
# get DN ATTR: the values of ATTR of entry DN, as the administrator, one
# file each in $T/get (ldapsearch -tt); their paths on stdout.
get() {
	rm -rf "$T/get"; mkdir -p "$T/get"
	ldap_tt "$T/get" -x -H "$URI" "${ADMIN[@]}" -LLL -o ldif-wrap=no -s base -b "$1" "$2" |
		sed -n 's|^[^:]*:< file://||p'
}
same() { cmp -s "$1" "$2"; }
GOV="ou=Governor of Kumamoto Prefecture,ou=Kumamoto-ken,o=JPKI,c=JP"
CDP="ou=CRL Distribution Points,ou=Kumamoto-ken,o=JPKI,c=JP"

# Refusals.
fails "usage: --ldap is required" 2 "are required" "$ON" ldap-push --state "$O" --repo "$P" --bind-dn x
fails "plain ldap:// to another host is refused (the password in clear)" 2 \
	"plain ldap:// only to the loopback" push_at ldap://ldap.example.jp --repo "$P"
fails "nothing published there" 3 "nothing published yet" push --repo "$T/none"
fails "a wrong bind password: one line, exit 4" 4 \
	"ldap://127.0.0.1:$PORT: cn=admin,c=JP: bind: Invalid credentials" \
	"$ON" ldap-push --state "$O" --repo "$P" --ldap "$URI" --bind-dn cn=admin,c=JP --passin env:HK_WRONG_PW
check "... audited as a failure" grep -q "	ldap.publish	fail	.*Invalid credentials" "$O/audit/audit.log"
check "... nothing written" test "$(ldapsearch -x -H "$URI" "${ADMIN[@]}" -LLL -b c=JP dn 2>/dev/null | grep -c '^dn:')" = 0
# a closed port: bound, never listening, held until the check is done (so
# that nothing else listens there meanwhile)
python3 -c 'import os, socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1]); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)' "$T/closed" &
CLOSEDP=$!
for _ in $(seq 300); do [ -e "$T/closed" ] && break; sleep 0.1; done
CLOSED=$(cat "$T/closed")
t0=$(date +%s)
fails "a closed port: one line, exit 8" 8 "ldap://127.0.0.1:$CLOSED: cn=admin,c=JP: bind: Can't contact LDAP server" \
	push_at "ldap://127.0.0.1:$CLOSED" --repo "$P"
echo "# ... it took $(($(date +%s) - t0)) s"
kill "$CLOSEDP" 2>/dev/null; wait "$CLOSEDP" 2>/dev/null || true; CLOSEDP=
# a listener that accepts and never answers, on a port of its own (in
# $T/silent once it listens); $T/silent.n counts the connections
python3 -c 'import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1]); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    held.append(s.accept())
    open(sys.argv[1] + ".n.tmp", "w").write("%d\n" % len(held)); os.rename(sys.argv[1] + ".n.tmp", sys.argv[1] + ".n")' "$T/silent" &
SILENT=$!
for _ in $(seq 300); do [ -e "$T/silent" ] && break; sleep 0.1; done
SPORT=$(cat "$T/silent")
t0=$(date +%s)
fails "a server that never answers: --timeout 2, one line, exit 8" 8 "bind: no answer within 2 s" \
	push_at "ldap://127.0.0.1:$SPORT" --repo "$P" --timeout 2
echo "# ... it took $(($(date +%s) - t0)) s"
for _ in $(seq 50); do [ -e "$T/silent.n" ] && break; sleep 0.1; done
check "... one connection, not tried again" test "$(cat "$T/silent.n" 2>/dev/null)" = 1
# ldaps:// to it: the TLS handshake never answered (libldap bounds the
# connection and each operation, not the handshake); timeout(1) only so
# that a hang fails here instead of stalling the suite
t0=$(date +%s)
fails "ldaps:// to a server that never answers the TLS handshake: --timeout 2, one line, exit 8" 8 \
	"ldaps://127.0.0.1:$SPORT: cn=admin,c=JP: bind: no answer within 2 s" \
	timeout 120 "$ON" ldap-push --state "$O" --repo "$P" --ldap "ldaps://127.0.0.1:$SPORT" \
	--bind-dn cn=admin,c=JP --passin env:HK_LDAP_PW --timeout 2
echo "# ... it took $(($(date +%s) - t0)) s"
kill "$SILENT" 2>/dev/null; wait "$SILENT" 2>/dev/null || true; SILENT=

# ldaps://: the bind password goes to the server TLS authenticates, so its
# certificate is checked whatever TLS_REQCERT says (never, allow: anyone).
# A second slapd, a database of its own, a certificate for 127.0.0.1 from a
# throwaway CA.
TL=$T/ldaps
mkdir -p "$TL/db"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TL/ca.key" \
	-out "$TL/ca.pem" -days 2 -subj "/CN=t_online_ldap CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TL/srv.key" \
	-out "$TL/srv.csr" -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$TL/ext"
openssl x509 -req -in "$TL/srv.csr" -CA "$TL/ca.pem" -CAkey "$TL/ca.key" -CAcreateserial \
	-out "$TL/srv.pem" -days 2 -extfile "$TL/ext" 2>/dev/null
{ printf 'TLSCertificateFile %s\nTLSCertificateKeyFile %s\n' "$TL/srv.pem" "$TL/srv.key"
  sed -e "s|@DIR@|$TL|g" -e "s|@ROOTPW@|$(slappasswd -s "$HK_LDAP_PW")|" \
	"$HANKO_SRC/test/data/ldap/slapd.conf.in"; } >"$TL/slapd.conf"
for try in 1 2 3 4 5; do
	TURI=ldaps://127.0.0.1:$(free_port)
	slapd -f "$TL/slapd.conf" -h "$TURI/" -d 0 >"$TL/slapd.log" 2>&1 &
	SLAPD2=$!
	for _ in $(seq 300); do
		LDAPTLS_CACERT=$TL/ca.pem ldapsearch -x -H "$TURI" -s base -b "" >/dev/null 2>&1 && break 2
		kill -0 "$SLAPD2" 2>/dev/null || break
		sleep 0.2
	done
	kill "$SLAPD2" 2>/dev/null || true; wait "$SLAPD2" 2>/dev/null || true; SLAPD2=
done
# tpush [VAR=VALUE...] ARGS...: ldap-push of set 1 with those in its environment
tpush() {
	local e=()
	while [[ $1 == *=* ]]; do e+=("$1"); shift; done
	env "${e[@]}" "$ON" ldap-push --state "$O" --repo "$P" --bind-dn cn=admin,c=JP --passin env:HK_LDAP_PW "$@"
}
fails "ldaps://, LDAPTLS_REQCERT=never, no CA for the server's certificate: refused at the bind, exit 8" 8 \
	"$TURI: cn=admin,c=JP: bind: Can't contact LDAP server" tpush LDAPTLS_REQCERT=never --ldap "$TURI"
printf 'TLS_REQCERT allow\nTLS_CACERT %s\n' "$TL/ca.pem" >"$TL/.ldaprc"
fails "ldaps://localhost (not the certificate's name), TLS_REQCERT allow in ~/.ldaprc: refused, exit 8" 8 \
	"${TURI/127.0.0.1/localhost}: cn=admin,c=JP: bind: Can't contact LDAP server" \
	tpush HOME="$TL" --ldap "${TURI/127.0.0.1/localhost}"
check "... nothing written" test \
	"$(LDAPTLS_CACERT=$TL/ca.pem ldapsearch -x -H "$TURI" "${ADMIN[@]}" -LLL -b c=JP dn 2>/dev/null | grep -c '^dn:')" = 0
ok "ldaps:// with the CA (LDAPTLS_CACERT; LDAPTLS_REQCERT=never as well): pushed" \
	tpush LDAPTLS_CACERT="$TL/ca.pem" LDAPTLS_REQCERT=never --ldap "$TURI"
check "... the root's entry is there" bash -c \
	"LDAPTLS_CACERT='$TL/ca.pem' ldapsearch -x -H '$TURI' -LLL -s base -b 'ou=TEST,$GOV' dn | grep -q '^dn: '"
kill "$SLAPD2" 2>/dev/null || true; wait "$SLAPD2" 2>/dev/null || true; SLAPD2=

# The directory set up as docs/ldap.md says (CPS 2-6-3): the administrator
# makes the top, the publisher, a relying party and their group, and the
# passwords; the publisher pushes the first set into it.
ok "docs/ldap.md: the administrator adds the entries above hanko's" \
	ldapadd -x -H "$URI" "${ADMIN[@]}" -f "$T/top.ldif"
export HK_PUB_PW='publisher bind 2026!'
ok "... and the publisher's and the relying party's passwords (ldappasswd)" sh -c \
	'ldappasswd "$@" -s "$HK_PUB_PW" cn=publisher,c=JP && ldappasswd "$@" -s rp-0042-pw cn=rp-0042,c=JP' \
	- -x -H "$URI" "${ADMIN[@]}"

# Production naming: cRLDistributionPoint, generations, links, a pair.
W=$T/prod.work
PS=$T/prod.sets/1
ok "push a set in production naming, bound as cn=publisher,c=JP under docs/ldap.md's access rules" \
	"$ON" ldap-push --state "$O" --repo "$T/prod" --ldap "$URI" --bind-dn cn=publisher,c=JP --passin env:HK_PUB_PW
check "... the root's entry: certificationAuthority + pkiCA" bash -c \
	"ldapsearch -x -H '$URI' -LLL -s base -b '$GOV' objectClass | grep -qx 'objectClass: certificationAuthority' &&
	 ldapsearch -x -H '$URI' -LLL -s base -b '$GOV' objectClass | grep -qx 'objectClass: pkiCA'"
mapfile -t v < <(get "$GOV" 'cACertificate;binary')
n=0
for f in "$PS"/root/gen-1.cer "$PS"/root/gen-2.cer "$PS"/root/link-2-oldwithnew.cer "$PS"/root/link-2-newwithold.cer; do
	for x in "${v[@]}"; do same "$f" "$x" && n=$((n + 1)); done
done
check "... cACertificate: both generations and both links, each once (${#v[@]} values)" \
	test "${#v[@]}" = 4 -a "$n" = 4
mapfile -t v < <(get "$GOV" 'crossCertificatePair;binary')
check "... crossCertificatePair: the pair, byte for byte" \
	test "${#v[@]}" = 1 -a -n "$(same "$PS/cross/pair-0123456789abcdef.der" "${v[0]}" && echo y)"
mapfile -t v < <(get "$GOV" 'authorityRevocationList;binary')
check "... authorityRevocationList: the ARL" test "${#v[@]}" = 1 -a -n "$(same "$PS/arl.crl" "${v[0]}" && echo y)"
E="cn=Kumamoto-shi Chuo-ku CRLDP,$CDP"
check "the partition entry (CN=... CRLDP) is a cRLDistributionPoint" bash -c \
	"ldapsearch -x -H '$URI' -LLL -s base -b '$E' objectClass | grep -qx 'objectClass: cRLDistributionPoint'"
mapfile -t v < <(get "$E" 'certificateRevocationList;binary')
check "... holding crl/431010.crl, byte for byte" test "${#v[@]}" = 1 -a -n "$(same "$PS/crl/431010.crl" "${v[0]}" && echo y)"
check "... which verifies with the issuing CA (openssl crl -verify)" bash -c \
	"openssl crl -inform DER -in '${v[0]}' -noout -verify -CAfile '$W/iss.pem' 2>&1 | grep -qx 'verify OK'"
rm -rf "$T/rp"; mkdir -p "$T/rp"
ldap_tt "$T/rp" -x -H "$URI" -D cn=rp-0042,c=JP -w rp-0042-pw -LLL -s base -b "$E" 'certificateRevocationList;binary' >/dev/null || true
check "CPS 2-6-3: a relying party of the group (cn=rp-0042,c=JP) reads that CRL" bash -c \
	"test \$(ls '$T/rp' | wc -l) = 1 && cmp -s '$PS/crl/431010.crl' '$T/rp'/*"
check "... anonymous readers do not" test \
	"$(ldapsearch -x -H "$URI" -LLL -s base -b "$E" 'certificateRevocationList;binary' | grep -c 'certificateRevocationList')" = 0

# CPS 4-14-2: a CA started again after its root key's compromise (a new
# root under the same DN, its own issuing CA; prodset.sh with new keys,
# its CRLs numbered as the old ones) pushes into a directory of its own
# (docs/ceremony-lifecycle.md "compromise"): over the old CA's entries,
# which share its DNs, it is refused, and the old root, ARL and residents'
# CRLs stay.
prod_set "$T/prod2"
# dirsums: every value under o=JPKI,c=JP, as the administrator
dirsums() {
	rm -rf "$T/ds"; mkdir -p "$T/ds"
	ldap_tt "$T/ds" -x -H "$URI" "${ADMIN[@]}" -LLL -o ldif-wrap=no -b o=JPKI,c=JP >/dev/null
	sha256sum "$T"/ds/* | cut -c1-64 | sort
}
dirsums >"$T/ds.before"
OLDR="$(sha256sum "$PS/root/gen-1.cer" | cut -c1-64)|$(sha256sum "$PS/root/gen-2.cer" | cut -c1-64)"
NEWR=$(sha256sum "$T/prod2.sets/1/root/gen-2.cer" | cut -c1-64)
fails "ldap-push of another CA's set (a new root, the same DN) over the old CA's entries: refused, exit 3" 3 \
	"^hanko-online ldap-push: $URI: $GOV: cACertificate;binary: another CA's entry: its root certificate SHA-256 ($OLDR) \\(1 of 2\\) is none of this set's root generations \\(the newest: root/gen-2\\.cer, SHA-256 $NEWR\\); a CA started again pushes into a directory of its own, and the old CA's entries stay the old state's \\(docs/ceremony-lifecycle\\.md \"compromise\"\\); nothing written\$" \
	"$ON" ldap-push --state "$O" --repo "$T/prod2" --ldap "$URI" --bind-dn cn=publisher,c=JP --passin env:HK_PUB_PW
check "... nothing written: the old CA's root, ARL and CRLs as they were" test "$(dirsums)" = "$(cat "$T/ds.before")"
check "... audited as a failure" grep -q "	ldap.publish	fail	.*another CA's entry.*(0 entries added, 0 updated before)" "$O/audit/audit.log"
ok "... the old CA's own set pushed again: its entries, as before" \
	"$ON" ldap-push --state "$O" --repo "$T/prod" --ldap "$URI" --bind-dn cn=publisher,c=JP --passin env:HK_PUB_PW

# The rehearsal publisher's set 1.
ok "push set 1" push --repo "$P"
check "... summary: $NCRL partition CRLs" grep -q "1 cACertificate, 0 crossCertificatePair, ARL; $NCRL partition CRLs" "$HANKO_TMP/out"
check "... audited with the counts" grep -q "	ldap.publish	ok	.*1 cACertificate, 0 crossCertificatePair, ARL), $NCRL partition CRLs" "$O/audit/audit.log"
ok "... the audit log verifies (checkpointed)" "$OFF" audit verify --log "$O/audit/audit.log" --key "$O/audit/audit-key.pem"
RE="ou=TEST,$GOV"
mapfile -t v < <(get "$RE" 'cACertificate;binary')
check "root entry $RE: cACertificate = root/gen-1.cer" test "${#v[@]}" = 1 -a -n "$(same "$P/root/gen-1.cer" "${v[0]}" && echo y)"
for a in authorityRevocationList certificateRevocationList; do
	mapfile -t v < <(get "$RE" "$a;binary")
	check "... $a = arl.crl" test "${#v[@]}" = 1 -a -n "$(same "$P/arl.crl" "${v[0]}" && echo y)"
done
check "... the ARL verifies with the root (openssl crl -verify)" bash -c \
	"openssl crl -inform DER -in '${v[0]}' -noout -verify -CAfile '$R' 2>&1 | grep -qx 'verify OK'"

# readback DIR: every CRL value under the CRL DP subtree (ldapsearch -tt,
# one file each); DIR/files lists those of rehearsal entries (ou=TEST,...),
# DIR/dns their entries, one line per value.
readback() {
	rm -rf "$1"; mkdir -p "$1/raw"
	ldap_tt "$1/raw" -x -H "$URI" "${ADMIN[@]}" -LLL -o ldif-wrap=no -b "$CDP" \
		'(certificateRevocationList;binary=*)' 'certificateRevocationList;binary' >"$1/ldif"
	awk '/^dn: / { dn = substr($0, 5) }
	    /^certificateRevocationList;binary:< file:\/\// && dn ~ /^ou=TEST,cn=/ {
		print substr($0, index($0, "file://") + 7) >"'"$1"'/files"; print dn >"'"$1"'/dns" }' "$1/ldif"
}
rbsums() { sums $(cat "$1/files"); }
sums() { sha256sum "$@" | cut -c1-64 | sort; }
readback "$T/rb1"
check "one CRL value per partition entry ($NCRL entries, $NCRL values)" bash -c \
	"test \$(sort -u '$T/rb1/dns' | wc -l) = $NCRL && test \$(wc -l <'$T/rb1/files') = $NCRL"
bad=0
for f in $(cat "$T/rb1/files"); do
	openssl crl -inform DER -in "$f" -noout -verify -CAfile "$ISS" 2>&1 | grep -qx "verify OK" || bad=$((bad + 1))
done
check "every CRL read back verifies with the issuing CA (openssl crl -verify)" test "$bad" = 0
check "the CRLs read back are the repository's, byte for byte" test "$(rbsums "$T/rb1")" = "$(sums "$P"/crl/*.crl)"
E="ou=TEST,cn=Kumamoto-shi Chuo-ku CRLDP,$CDP"
mapfile -t v < <(get "$E" 'certificateRevocationList;binary')
check "the entry named by crl/431010.crl's IDP holds that file" test "${#v[@]}" = 1 -a -n "$(same "$P/crl/431010.crl" "${v[0]}" && echo y)"
check "... its IDP names CN=Kumamoto-shi Chuo-ku CRLDP, OU=TEST" bash -c \
	"openssl crl -inform DER -in '$P/crl/431010.crl' -noout -text | grep -q 'DirName:.*CN = Kumamoto-shi Chuo-ku CRLDP, OU = TEST'"
check "CPS 2-6-3: anonymous readers get no partition CRL (the server's ACL, docs/ldap.md)" test \
	"$(ldapsearch -x -H "$URI" -LLL -b "$CDP" 'certificateRevocationList;binary' | grep -c 'certificateRevocationList')" = 0
check "... but the root's certificates and ARL" test \
	"$(ldapsearch -x -H "$URI" -LLL -s base -b "$RE" 'cACertificate;binary' 'authorityRevocationList;binary' | grep -c ';binary::')" = 2

# The revocation (made after set 1), set 2, a second push: values
# replaced, none duplicated.
ok "publish: set 2 (a day later)" "$ON" publish --state "$O" --repo "$P" --clock 2026-04-04T10:00:00Z
check "... a new ARL of the day" bash -c "! cmp -s '$P/arl.crl' '$T/repo.sets/1/arl.crl'"
ok "push set 2" push --repo "$P"
check "... no entry added, every one updated" grep -q "(0 entries added, $((NCRL + 1)) updated)" "$HANKO_TMP/out"
readback "$T/rb2"
check "... still one CRL per partition entry, none duplicated" bash -c \
	"test \$(sort -u '$T/rb2/dns' | wc -l) = $NCRL && test \$(wc -l <'$T/rb2/files') = $NCRL"
check "... set 2's CRLs, byte for byte" test "$(rbsums "$T/rb2")" = "$(sums "$P"/crl/*.crl)"
check "... none of set 1's left" test -z "$(comm -12 <(rbsums "$T/rb2") <(sums "$T"/repo.sets/1/crl/*.crl))"
mapfile -t v < <(get "ou=TEST,cn=Kumamoto-shi Chuo-ku CRLDP,$CDP" 'certificateRevocationList;binary')
check "... 431010's CRL in the directory lists the revoked serial" bash -c \
	"openssl crl -inform DER -in '${v[0]}' -noout -text | grep -q 'Serial Number: $SERIAL'"
for a in authorityRevocationList certificateRevocationList; do
	mapfile -t v < <(get "$RE" "$a;binary")
	check "... root entry $a: only the new ARL" test "${#v[@]}" = 1 -a -n "$(same "$P/arl.crl" "${v[0]}" && echo y)"
done
ok "push set 2 again" push --repo "$P"
readback "$T/rb3"
check "... converges: the directory is as before" test "$(sums "$T"/rb3/raw/*)" = "$(sums "$T"/rb2/raw/*)"
check "... and the production-named entries are untouched" test "$(wc -l <"$T/rb3/files")" = "$NCRL" -a \
	"$(ls "$T/rb3/raw" | wc -l)" = $((NCRL + 2))

# Sets 1 and 2 kept aside as repositories of their own (the publisher
# prunes them), to be pushed over newer ones below.
mkdir -p "$T/old.sets"
cp -a "$T/repo.sets/1" "$T/repo.sets/2" "$T/old.sets/"

# publish --ldap: the set and the directory in one run (CPS 4-4-4-1).
ok "publish --now --ldap: set 3 and the directory" "$ON" publish --state "$O" --repo "$P" \
	--clock 2026-04-04T11:00:00Z --now --ldap "$URI" --ldap-bind-dn cn=admin,c=JP --ldap-passin env:HK_LDAP_PW
check "... the directory followed" grep -q "LDAP $URI: .*partition CRLs" "$HANKO_TMP/out"
readback "$T/rb4"
check "... set 3's CRLs, byte for byte" test "$(rbsums "$T/rb4")" = "$(sums "$P"/crl/*.crl)"
check "... ldap.publish audited after the set's publish.start" bash -c \
	"awk -F'\t' '\$3 == \"publish.start\" { p = NR } \$3 == \"ldap.publish\" && \$4 == \"ok\" { l = NR } END { exit !(l > p && p > 0) }' '$O/audit/audit.log'"
# An older set pushed over a newer one (a copy of the repository, a push
# racing publish --ldap): RFC 5280 5.2.3, the CRL numbers in the directory
# never go back, and nothing of the older set is written.
# set 2's partition CRLs beside set 3's ARL (two sets of one day share
# their ARL): the partition entries' own numbers are checked
cp "$P/arl.crl" "$T/old.sets/2/arl.crl"
{ grep -v ' arl\.crl ' "$T/old.sets/2/MANIFEST"; grep ' arl\.crl ' "$P/MANIFEST"; } |
	LC_ALL=C sort -k3,3 >"$T/manifest"
mv "$T/manifest" "$T/old.sets/2/MANIFEST"
ln -s old.sets/2 "$T/old"
fails "push set 2's CRLs (set 3's ARL) over set 3: refused, exit 7" 7 \
	"ou=TEST,cn=[^,]* CRLDP,$CDP: certificateRevocationList;binary: the directory holds CRL number [0-9]+, above crl/[0-9]+\\.crl's [0-9]+: not replaced" \
	push --repo "$T/old"
readback "$T/rb5"
check "... the directory still holds set 3's CRLs, nothing written" test "$(sums "$T"/rb5/raw/*)" = "$(sums "$T"/rb4/raw/*)"
check "... audited as a failure" grep -q "	ldap.publish	fail	.*the directory holds CRL number .*(0 entries added, 0 updated before)" "$O/audit/audit.log"
ln -sfn old.sets/1 "$T/old"
fails "push set 1 (an older ARL; without the revocation) over set 3: refused, exit 7" 7 \
	"$RE: authorityRevocationList;binary: the directory holds CRL number [0-9]+, above arl\\.crl's [0-9]+: not replaced" \
	push --repo "$T/old"
mapfile -t v < <(get "ou=TEST,cn=Kumamoto-shi Chuo-ku CRLDP,$CDP" 'certificateRevocationList;binary')
check "... 431010's CRL in the directory still lists the revoked serial" bash -c \
	"openssl crl -inform DER -in '${v[0]}' -noout -text | grep -q 'Serial Number: $SERIAL'"
fails "publish --ldap with a wrong password: the set published, the LDAP failure reported" 4 \
	"set 4 published at .*, but LDAP: .*Invalid credentials" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-04T12:00:00Z --now \
	--ldap "$URI" --ldap-bind-dn cn=admin,c=JP --ldap-passin env:HK_WRONG_PW
check "... set 4 is the current set" test "$(readlink "$P" | sed 's|.*/||')" = 4
fails "publish --ldap failing in a run with a warning (the clock behind set 4): both in the one line" 4 \
	"set 5 published at .*, but LDAP: .*Invalid credentials; and warning: .*CPS 4-4-9: the clock reads 2026-04-03T14:00:00Z, before 2026-04-04T12:00:00Z" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T14:00:00Z --now \
	--ldap "$URI" --ldap-bind-dn cn=admin,c=JP --ldap-passin env:HK_WRONG_PW
fails "publish --ldap-bind-dn without --ldap" 2 "need --ldap URI" \
	"$ON" publish --state "$O" --repo "$P" --ldap-bind-dn cn=admin,c=JP

# CPS 4-5: the directory's reads, counted from slapd's stats log with the
# recipe of docs/ldap.md (run as printed there), recorded with provision;
# report warns while LDAP was published in a month with no ldap provision.
ldapadd -x -H "$URI" "${ADMIN[@]}" >/dev/null <<EOF
dn: cn=rp-yatsushiro,c=JP
objectClass: person
cn: rp-yatsushiro
sn: Yatsushiro-shi
userPassword: rp-yatsushiro-pw
EOF
RP=(-x -H "$URI" -D cn=rp-yatsushiro,c=JP -w rp-yatsushiro-pw -LLL -s base)
E431="ou=TEST,cn=Kumamoto-shi Chuo-ku CRLDP,$CDP"
for _ in 1 2 3; do ldapsearch "${RP[@]}" -b "$E431" 'certificateRevocationList;binary' >/dev/null; done
# the same party, its DN spelled otherwise (DNs compare without case)
ldapsearch -x -H "$URI" -D "CN=RP-Yatsushiro, C=jp" -w rp-yatsushiro-pw -LLL -s base -b "$E431" \
	'certificateRevocationList;binary' >/dev/null
ldapsearch "${RP[@]}" -b "$RE" 'authorityRevocationList;binary' >/dev/null
ldapsearch "${RP[@]}" -b "$RE" 'cACertificate;binary' >/dev/null
ldapsearch "${RP[@]}" -b "cn=Nowhere CRLDP,$CDP" 'certificateRevocationList;binary' >/dev/null 2>&1 || true
ldapsearch -x -H "$URI" -D cn=rp-yatsushiro,c=JP -w wrong -s base -b "$E431" >/dev/null 2>&1 || true
for _ in 1 2; do ldapsearch -x -H "$URI" -LLL -s base -b "$RE" 'authorityRevocationList;binary' >/dev/null; done
ldapsearch -x -H "$URI" -LLL -s base -b "$RE" cn >/dev/null
for _ in $(seq 600); do [ "$(grep -c 'SEARCH RESULT' "$L/slapd.log")" -ge 9 ] && break; sleep 0.1; done
sed -n '/^## Provision records (CPS 4-5)/,/^## The public index page/p' "$HANKO_SRC/docs/ldap.md" |
	sed -n '/^```awk$/,/^```$/p' | sed '1d;$d' >"$T/ldap-provisions.awk"
ok "docs/ldap.md's recipe runs on slapd's stats log" awk -f "$T/ldap-provisions.awk" "$L/slapd.log"
sort "$T/out" >"$T/ldapcount"
check "... the party's four partition CRL reads (crl; one bound as CN=RP-Yatsushiro, C=jp) and one ARL read (arl), under its entry's DN; not its other searches" test \
	"$(grep -i '^cn=rp-yatsushiro,c=JP	' "$T/ldapcount")" = "$(printf 'cn=rp-yatsushiro,c=JP\tarl\t1\ncn=rp-yatsushiro,c=JP\tcrl\t4')"
check "... no anonymous reads (no DN)" sh -c "! grep -q '^	' '$T/ldapcount'"
sed 's/^[0-9a-f]*\.[0-9a-f]* 0x[0-9a-f]* /Apr 30 23:00:00 ldap1 slapd[4242]: /' "$L/slapd.log" >"$T/slapd.syslog"
check "... the same counts from the syslog form of the log" test \
	"$(awk -f "$T/ldap-provisions.awk" "$T/slapd.syslog" | sort)" = "$(cat "$T/ldapcount")"
ok "report --month 2026-04: LDAP published that month (publish --ldap), no ldap provision" \
	"$ON" report --state "$O" --month 2026-04 --csv
check "... warns on stderr, naming the month and the remedy" grep -qx "hanko-online report: warning: 2026-04: LDAP publishing ran (ldap.publish ok: 1) but no ldap provision is recorded: count the directory's reads (docs/ldap.md) and record them with hanko-online provision, unless no relying party read it" "$HANKO_TMP/err"
check "... the CSV itself unchanged: header only" test "$(cat "$HANKO_TMP/out")" = "recipient,month,count,method"
check "... audited with the warning" grep -q "	records.report	ok	op1@ca-online	CPS 4-5: month 2026-04 (csv): 0 rows, 0 provisions; LDAP published but no ldap provision recorded (warned)	" "$O/audit/audit.log"
# after the yearly close April's ldap.publish records are only in the
# closed log: report reads it too (it read the live log only: no warning)
ok "the yearly close (audit close)" "$ON" audit close --state "$O" --actors op1,auditor1
check "... ldap.publish ok only in the closed log now" sh -c \
	"grep -q '	ldap\.publish	ok	' \"\$(ls '$O'/audit/closed/audit-*.log)\" && ! grep -q '	ldap\.publish	' '$O/audit/audit.log'"
ok "report --month 2026-04 after the close" "$ON" report --state "$O" --month 2026-04 --csv
check "... still warns (the closed log read)" grep -q "^hanko-online report: warning: 2026-04: LDAP publishing ran (ldap.publish ok: 1) but no ldap provision is recorded" "$HANKO_TMP/err"
ok "report --month 2026-03: no LDAP publishing that month" "$ON" report --state "$O" --month 2026-03 --csv
check "... no warning" test ! -s "$HANKO_TMP/err"
ok "rp add yatsushiro-city" "$ON" rp add --state "$O" --clock 2026-04-01T00:00:00Z --name yatsushiro-city --token-out "$T/y.token"
N=$(awk -F'\t' '$1 == "cn=rp-yatsushiro,c=JP" && $2 == "crl" { print $3 }' "$T/ldapcount")
ok "provision: the counted reads recorded for April" "$ON" provision --state "$O" --clock 2026-05-01T00:00:00Z \
	--recipient yatsushiro-city --method ldap --object crl --count "$N" --at 2026-04-30T23:59:59+09:00
ok "report --month 2026-04 again" "$ON" report --state "$O" --month 2026-04 --csv
check "... the reads are in the report" test "$(tail -n +2 "$HANKO_TMP/out")" = "yatsushiro-city,2026-04,4,ldap"
check "... and no warning" test ! -s "$HANKO_TMP/err"
check "CPS 2-6-3: a bound DN outside the relying parties' group gets no partition CRL" test \
	"$(ldapsearch "${RP[@]}" -b "$E431" 'certificateRevocationList;binary' | grep -c 'certificateRevocationList')" = 0
finish

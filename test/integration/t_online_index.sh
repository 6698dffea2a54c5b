#!/usr/bin/env bash
# t_online_index.sh - "hanko-online index-page" (issue 6 item 5; CPS 2-6,
# 2-6-3, 4-4-9): the public index page of the rehearsal publisher's
# repository (make_online, an arl-batch, publish), read as a visitor's
# browser reads it (headless Chromium, --dump-dom and --screenshot):
# Japanese and English headings; each certificate's fingerprint equal to
# openssl x509 -fingerprint -sha256 of the repository's file; a QR code
# decoded from the screenshot by zbar carrying it; one freshness row per
# CRL with the nextUpdate openssl reads from the file itself; CRLs not
# linked; no script; the warning style under 24 hours and when expired; a
# hostile subject shown as text.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
. "$HANKO_SRC/test/data/online/setup.sh"
. "$HANKO_SRC/test/data/ldap/prodset.sh"	# manifest()
fresh_tmp
T=$HANKO_TMP
P=$T/repo

make_online "$T"
arl_batch 10 2026-04-02T11:00:00Z >/dev/null
arl_bundle 10 2026-04-02T12:00:00Z >/dev/null
"$ON" import --state "$O" --clock 2026-04-02T12:30:00Z --type arl-batch "$T/b-arl" >/dev/null
ok "publish (CRLs 2026-04-03T10:00Z + 72 h, ARL 1 until 2026-04-05T11:00Z)" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T10:00:00Z
NCRL=$(ls "$P/crl" | wc -l)

chrome() { chromium --headless --disable-gpu --no-sandbox --user-data-dir="$T/chrome" "$@" 2>/dev/null; }
page() {	# page CLOCK NAME: NAME.html and what Chromium makes of it, NAME.dom
	"$ON" index-page --repo "$P" --clock "$1" --out "$T/$2.html" &&
		chrome --dump-dom "file://$T/$2.html" >"$T/$2.dom"
}
iso() { date -u -d "$1" +%FT%TZ; }

fails "usage: --repo is required" 2 "--repo DIR is required" "$ON" index-page
fails "usage: a bad --clock" 2 "--clock yesterday: expected" "$ON" index-page --repo "$P" --clock yesterday
fails "nothing published there" 3 "nothing published yet" "$ON" index-page --repo "$T/none"
ok "index-page on stdout" "$ON" index-page --repo "$P" --clock 2026-04-04T00:00:00Z
cp "$HANKO_TMP/out" "$T/stdout.html"
ok "index-page --out (a day after publication)" page 2026-04-04T00:00:00Z a
check "... the same page as on stdout, mode 0644" bash -c "cmp -s '$T/stdout.html' '$T/a.html' && test \$(stat -c %a '$T/a.html') = 644"
check "Chromium read it (the DOM has the page's body)" grep -q '<section id="revocation">' "$T/a.dom"
for h in "自己署名証明書" "Root certificates" "発行局証明書" "Issuing CA certificates" "失効情報の鮮度" \
	"Freshness of the revocation lists" "利用条件" "Access"; do
	check "heading: $h" grep -q "<h2>[^<]*$h\|<span lang=\"en\">$h" "$T/a.dom"
done
check "no script: none in the page, none in the DOM" bash -c "! grep -qi '<script' '$T/a.html' && ! grep -qi '<script' '$T/a.dom'"
for f in root/gen-1.cer issuing/issuing-1.cer; do
	want=$(openssl x509 -inform DER -in "$P/$f" -noout -fingerprint -sha256 | cut -d= -f2)
	id=fp-$(echo "$f" | tr -c 'a-z0-9\n' -)
	got=$(sed -n "s|.*id=\"$id\">\([^<]*\)<.*|\1|p" "$T/a.dom")
	check "$f: the fingerprint shown is openssl's ($want)" test "$got" = "$want"
	check "$f: linked" grep -q "href=\"$f\"" "$T/a.dom"
done

# Freshness: one row per CRL, nextUpdate as openssl reads it from the file.
check "one freshness row per partition CRL ($NCRL) and the ARL" \
	test "$(grep -c '<tr class="[a-z]*" id="rl-' "$T/a.dom")" = $((NCRL + 1))
bad=0
for f in "$P"/crl/*.crl "$P/arl.crl"; do
	nu=$(iso "$(openssl crl -inform DER -in "$f" -noout -nextupdate | cut -d= -f2)")
	id=rl-$(echo "${f#"$P"/}" | tr -c 'a-z0-9\n' -)
	grep -q "<tr class=\"ok\" id=\"$id\">.*<td class=\"next\">$nu</td>" "$T/a.dom" || { bad=$((bad + 1)); echo "  $id: not ok with $nu"; }
done
check "... each shows its nextUpdate (openssl crl -nextupdate) and is fresh" test "$bad" = 0
check "... 431010: 2 d 10 h left" grep -q 'id="rl-crl-431010-crl">.*2 d 10 h left' "$T/a.dom"
check "... no warning banner" bash -c "! grep -q 'id=\"banner\"' '$T/a.dom'"
check "CPS 2-6-3: no CRL of a partition is linked, each marked restricted" bash -c \
	"! grep -q 'href=\"crl/' '$T/a.dom' && test \$(grep -c 'crl/[0-9]*\\.crl <a class=\"restricted\" href=\"#access\"' '$T/a.dom') = $NCRL"
check "... the ARL is linked" grep -q 'href="arl.crl"' "$T/a.dom"

# The QR codes, decoded from what Chromium drew (zbar, not our encoder;
# test/data/index/pngscan.py).
chrome --window-size=1000,1400 --screenshot="$T/a.png" "file://$T/a.html" >/dev/null
check "a screenshot was taken" test -s "$T/a.png"
python3 "$HANKO_SRC/test/data/index/pngscan.py" qr "$T/a.png" >"$T/qr.txt" 2>&1 || true
for f in root/gen-1.cer issuing/issuing-1.cer; do
	want=$(openssl x509 -inform DER -in "$P/$f" -noout -fingerprint -sha256 | cut -d= -f2)
	check "the QR code of $f decodes to its fingerprint" grep -qx "$want" "$T/qr.txt"
done

# Under 24 hours: the ARL warns; past nextUpdate: everything expired.
ok "the page 11 h before the ARL's nextUpdate" page 2026-04-05T00:00:00Z b
check "... the ARL row warns: 11 h 0 min left" grep -q '<tr class="warn" id="rl-arl-crl">.*only 11 h 0 min left' "$T/b.dom"
check "... a warning banner: 0 expired, 1 within 24 hours" grep -q 'class="banner warn" id="banner">.*expired: 0; expiring within 24 hours: 1' "$T/b.dom"
check "... the CRLs are still fresh" test "$(grep -c '<tr class="ok" id="rl-crl-' "$T/b.dom")" = "$NCRL"
ok "the page after every nextUpdate" page 2026-04-06T12:00:00Z c
check "... every row expired ($((NCRL + 1)))" test "$(grep -c '<tr class="expired" id="rl-' "$T/c.dom")" = $((NCRL + 1))
check "... 431010: EXPIRED 2 h 0 min ago" grep -q 'id="rl-crl-431010-crl">.*EXPIRED 2 h 0 min ago' "$T/c.dom"
check "... an expired banner" grep -q "class=\"banner expired\" id=\"banner\">.*expired: $((NCRL + 1)); expiring within 24 hours: 0" "$T/c.dom"
check "... drawn in the warning style (the CSS of tr.expired)" grep -q 'tr.expired td{background:#f8d7da;font-weight:bold}' "$T/c.html"
chrome --window-size=1000,800 --screenshot="$T/c.png" "file://$T/c.html" >/dev/null
check "... the expired banner is drawn in its colour (#f8d7da pixels in the screenshot)" \
	test "$(python3 "$HANKO_SRC/test/data/index/pngscan.py" count f8d7da "$T/c.png" 400)" -gt 10000

# A hostile subject in a set: shown as text, never as markup.
E=$T/evil
mkdir -p "$E.sets"
cp -r "$(readlink -f "$P")" "$E.sets/1"
rm "$E.sets/1/MANIFEST"
mkdir -p "$E.sets/1/responder"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/evil.key" -days 30 -utf8 \
	-subj "/C=JP/O=熊本 \"テスト\"/CN=<script>alert('x')<\/script> & <b>" -outform DER \
	-out "$E.sets/1/responder/0123456789abcdef.cer" 2>/dev/null
manifest "$E.sets/1"
ln -s evil.sets/1 "$E"
ok "index-page of a set with a hostile responder subject" bash -c \
	"'$ON' index-page --repo '$E' --clock 2026-04-04T00:00:00Z --out '$T/e.html' && chromium --headless --disable-gpu --no-sandbox --user-data-dir='$T/chrome' --dump-dom 'file://$T/e.html' >'$T/e.dom' 2>/dev/null"
check "... no script and no <b> element in the DOM" bash -c "! grep -qi '<script\|<b>' '$T/e.dom'"
check "... the subject shown as text, escaped" grep -q 'CN=&lt;script&gt;alert(.x.)&lt;/script&gt; &amp; &lt;b&gt;' "$T/e.dom"
check "... the Japanese text intact" grep -q 'O=熊本 .テスト.' "$T/e.dom"
finish

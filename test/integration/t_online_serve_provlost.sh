#!/usr/bin/env bash
# t_online_serve_provlost.sh - serve's provision counts it cannot keep are
# said where the CPS 4-5 report is made from (docs/records.md, "The monthly
# report of provision"): while another writer holds the store (as revoke
# --issuing-key-compromise does for minutes), the key holder's flushes fail
# and it keeps its counters, at most 1024 (party, method, object, JST day);
# provisions beyond them cannot be counted. Each loss is audited
# (provision.lost, with the number), and report warns for the month. Before,
# only a line on serve's stderr ("counts lost", no number) said so: the
# report fell short with nothing in the audit log. Counts, not timing: every
# 200 for a partition CRL is a provision; the store's sum and the
# audited losses add up to them. After the yearly close (audit close) the
# provision.lost records are only in the closed log: report reads it too
# (it read the live log only, and the month's warning was lost in silence),
# verified as evidence; a closed log that fails fails the report (exit 6);
# one deleted after its year is said, not passed over.
. "$(dirname "$0")/online.sh"
. "$(dirname "$0")/serve.sh"
SP=""
LK=""
cleanup() {
	[ -n "$LK" ] && kill "$LK" 2>/dev/null && wait "$LK" 2>/dev/null
	[ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null
	return 0
}
trap cleanup EXIT
LOG=$O/audit/audit.log

serve_one_cert
# parties enough for more than 1024 counters: each fetches every partition
# CRL once
many_parties 1100

check "serve --flush 1 (clock 2026-04-03T12:00:00Z)" serve_start --clock 2026-04-03T12:00:00Z --flush 1

# another writer holds the store until $T/unlock appears
python3 - "$O/store.db" "$T/locked" "$T/unlock" <<'EOF' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.1)
db.execute("ROLLBACK")
EOF
LK=$!
for _ in $(seq 300); do [ -e "$T/locked" ] && break; sleep 0.1; done
check "another writer holds the store" test -e "$T/locked"

: >"$T/codes"
for i in $(seq -w 1 "$K"); do
	args=()
	for f in "$P"/crl/*.crl; do args+=(-o /dev/null "$U/crl/$(basename "$f")"); done
	curl -s -H "Authorization: Bearer $(cat "$T/p-$i.tok")" -w '%{http_code}\n' "${args[@]}" \
		>>"$T/codes" 2>/dev/null || true
done
GOT=$(grep -cx 200 "$T/codes")
check "every fetch answered 200 ($GOT of $((K * NP)))" test "$GOT" = $((K * NP))
check "... more than the key holder's 1024 counters" test "$GOT" -gt 1024

for _ in $(seq 900); do grep -q '	provision\.lost	' "$LOG" && break; sleep 0.2; done
check "audit: provision.lost, the counts the key holder could not keep" grep -Eq \
	'	provision\.lost	fail	op1@ca-online	[0-9]+ provisions not counted: the 1024 counters are full and the store refuses them; the CPS 4-5 report of this month falls short by them	' "$LOG"
check "... said on serve's stderr with the number" grep -Eq \
	'^hanko-online serve: provisions: [0-9]+ not counted: the counters are full and the store refuses them$' "$T/serve.err"

# the store still held, the key holder's flushes failing every second: a
# nonce request (a signing job: answered within 3 s, else tryLater) is
# signed; each flush waited out the store's 10 s for the lock before
cat "$R" "$ISS" >"$T/chain.pem"
sleep 1.5	# past the flush that wrote provision.lost: the next one has begun
openssl ocsp -url "$U/ocsp" -issuer "$ISS" -CAfile "$T/chain.pem" -cert "$T/c.pem" \
	-header "Authorization=Bearer $(cat "$T/p-01.tok")" -attime "$(date -u -d 2026-04-03T12:00:00Z +%s)" \
	-validity_period "$(since 2026-04-01T00:00:00Z)" >"$T/o-nonce" 2>&1 || true
check "while the store is held: a nonce request is signed (good, verified)" sh -c \
	"grep -q 'Response verify OK' '$T/o-nonce' && grep -q ': good' '$T/o-nonce'"
GOT=$((GOT + 1))	# that answer is a provision too (ocsp)
touch "$T/unlock"
wait "$LK"; LK=""
for _ in $(seq 300); do grep -q '	provision\.flush	ok	' "$LOG" && break; sleep 0.2; done
check "the store free again: the counters kept are written (provision.flush ok)" grep -q \
	'	provision\.flush	ok	op1@ca-online	provision counts written again' "$LOG"
stored() { db "SELECT coalesce(sum(count), 0) FROM provisions WHERE recipient LIKE 'p-%'"; }
lost() { sed -n 's/.*	provision\.lost	fail	op1@ca-online	\([0-9]*\) provisions not counted.*/\1/p' "$LOG" |
	awk '{ s += $1 } END { print s + 0 }'; }
# the frames still queued: handled once the store is free
for _ in $(seq 300); do [ $(( $(stored) + $(lost) )) -ge "$GOT" ] && break; sleep 0.2; done
kill "$SP"; rc=0; wait "$SP" || rc=$?; SP=""
check "serve stops (exit $rc)" test "$rc" = 0

STORED=$(stored)
LOST=$(lost)
check "some provisions not stored ($STORED of $GOT)" test "$STORED" -lt "$GOT"
check "... the stored and the audited lost add up to every 200 ($STORED + $LOST = $GOT)" test $((STORED + LOST)) = "$GOT"

ok "report --month 2026-04 --csv" "$ON" report --state "$O" --month 2026-04 --csv
check "... warns: serve could not count them" grep -qx \
	"hanko-online report: warning: 2026-04: serve could not count $LOST provisions (provision.lost in the audit log): the counts fall short by them" "$T/err"
check "... and its audit record says so" grep -q \
	"	records.report	ok	op1@ca-online	CPS 4-5: month 2026-04 (csv): [0-9]* rows, [0-9]* provisions; $LOST provisions serve could not count (warned)	" "$LOG"
ok "report --month 2026-05 --csv" "$ON" report --state "$O" --month 2026-05 --csv
check "... no such warning for another month" sh -c "! grep -q 'could not count' '$T/err'"

# ---- the yearly close: April's records only in the closed log -------------
ok "the yearly close (audit close)" "$ON" audit close --state "$O" --actors op1,auditor1
CL=$(ls "$O"/audit/closed/audit-*.log)
check "... provision.lost only in the closed log now" sh -c \
	"grep -q '	provision\.lost	' '$CL' && ! grep -q '	provision\.lost	' '$LOG'"
ok "report --month 2026-04 --csv after the close" "$ON" report --state "$O" --month 2026-04 --csv
check "... still warns: serve could not count them (the closed log read)" grep -qx \
	"hanko-online report: warning: 2026-04: serve could not count $LOST provisions (provision.lost in the audit log): the counts fall short by them" "$T/err"
check "... and its audit record (in the new log) says so" grep -q \
	"	records.report	ok	op1@ca-online	CPS 4-5: month 2026-04 (csv): [0-9]* rows, [0-9]* provisions; $LOST provisions serve could not count (warned)	" "$LOG"
cp -p "$CL" "$T/closed.saved"
chmod u+w "$CL"
flip_byte "$CL" $(( $(stat -c%s "$CL") / 2 ))
CLQ=$(printf '%s' "$CL" | sed 's/[.[\*^$()+?{|]/\\&/g')
fails "a closed log that fails verification: report refused (exit 6), the closed log named" 6 \
	"^hanko-online report: .*$CLQ.*: its records of the month \(ldap\.publish, provision\.lost\) cannot be read$" \
	"$ON" report --state "$O" --month 2026-04 --csv
check "... no CSV printed" test ! -s "$T/out"
cp -p "$T/closed.saved" "$CL"
rm -f "$CL" "${CL%.log}.head"
fails "a closed log missing within its year: refused the same way" 6 \
	"the closed log [0-9a-f]+ it links to is missing .*CPS 4-11-4 keeps it until .*: its records of the month" \
	"$ON" report --state "$O" --month 2026-04 --csv
LATER=$(date -u -d '+2 years' +%Y-%m-%dT%H:%M:%SZ)
ok "report --month 2026-04, the closed log deleted after its year (--clock $LATER)" \
	"$ON" report --state "$O" --month 2026-04 --csv --clock "$LATER"
check "... warns: the log before the close is no longer kept, the month's warnings cannot be given" grep -Eqx \
	"hanko-online report: warning: 2026-04: the audit log before [-0-9T:]+\+09:00 is no longer kept \(closed log [0-9a-f]+, kept until [-0-9T:]+Z, CPS 4-11-4\): the month's ldap\.publish and provision\.lost records before it are not read, and their warnings cannot be given" "$T/err"
check "... and its audit record says so" grep -Eq \
	"	records\.report	ok	op1@ca-online	CPS 4-5: month 2026-04 \(csv\): [0-9]+ rows, [0-9]+ provisions; the audit log before [-0-9T:]+\+09:00 no longer kept \(closed log [0-9a-f]+\): not read \(warned\)	" "$LOG"
ok "report --month $(date -u -d "$LATER" +%Y-%m) at the same clock: begun after the close" \
	"$ON" report --state "$O" --month "$(date -u -d "$LATER" +%Y-%m)" --csv --clock "$LATER"
check "... no such warning" sh -c "! grep -q 'no longer kept' '$T/err'"
ok "the online audit log verifies" "$OFF" audit verify --state "$O" --clock "$LATER"
finish

#!/usr/bin/env bash
# t_online_crash.sh - crash safety of "hanko-online issue" (CPS 4-3, 4-11-2;
# docs/store.md "Crash safety: issuance protocol"): a batch of 10,000
# requests killed with SIGKILL at random points ten times over, half of the
# kills during the recovery of what the previous kill left pending, then
# run to its end. Afterwards every line has exactly one result, 10,000
# certificates are issued, no serial appears twice (store, results), every
# certificate in results.csv is the store's byte for byte, no temporary
# file is left in the output folder, every
# valid certificate has a cert.issue or cert.recover record, nothing is
# left pending, the audit log verifies and a sample verifies with openssl
# against the root and the issuing CA.
. "$(dirname "$0")/lib.sh"
. "$HANKO_SRC/test/data/issuance/setup.sh"
. "$HANKO_SRC/test/data/online/setup.sh"
fresh_tmp
T=$HANKO_TMP
N=10000
KILLS=10
CHUNK=(--chunk 64)
make_online "$T"
db() { sqlite3 "$O/store.db" "$1"; }

# 10,000 distinct residents over the six valid.csv samples' names and
# addresses; 16 fresh RSA-2048 keys and the five sample keys in turn (the
# validator accepts one key for several residents).
mkdir -p "$T/b/keys"
cp "$HANKO_SRC"/test/data/requests/keys/resident-[1-5].pub.pem "$T/b/keys/"
seq 1 16 | xargs -P 2 -I{} sh -c 'openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null |
	openssl pkey -pubout -out "$1/k{}.pub.pem"' _ "$T/b/keys"
(cd "$T/b" && ls keys/*.pub.pem) >"$T/keys.txt"
awk -F, -v n="$N" -v kl="$T/keys.txt" 'BEGIN { while ((getline k < kl) > 0) key[nk++] = k }
NR == 1 { print; next } NR <= 7 { row[nr++] = $0 }
END { OFS = ","
	for (i = 0; i < n; i++) {
		split(row[i % nr], f, ","); f[2] = sprintf("%011.0f", 31000000000 + i); f[9] = key[i % nk]
		print f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9] } }' \
	"$HANKO_SRC/test/data/requests/valid.csv" >"$T/b/batch.csv"
check "the batch: $N requests, $N distinct residents, $(wc -l <"$T/keys.txt") keys" test \
	"$(tail -n +2 "$T/b/batch.csv" | cut -d, -f2 | sort -u | wc -l)" = "$N"

log=$O/audit/audit.log
count() { grep -c "	$1	" "$log" || true; }
run() { "$ON" issue --state "$O" "${IC[@]}" "${CHUNK[@]}" --batch "$T/b/batch.csv" --out "$T/issued" >>"$T/runs.log" 2>&1; }

# Kill: odd ones at random points spread over the batch (once the journal
# holds a random number of results, then a random 0-0.3 s more), even ones
# as soon as the restart's recovery has written its first cert.recover
# (so inside recovery).
mapfile -t at < <(awk -v n="$N" -v k="$KILLS" -v seed="$RANDOM" 'BEGIN { srand(seed)
	for (i = 1; i <= k; i++) print int(n * (i - 1 + rand()) / (k + 1)) + 100 }')
in_recovery=0
for k in $(seq 1 "$KILLS"); do
	starts=$(count issue.start)
	recs=$(count cert.recover)
	pending=$(db "SELECT count(*) FROM certificates WHERE status = 'pending'")
	"$ON" issue --state "$O" "${IC[@]}" "${CHUNK[@]}" --batch "$T/b/batch.csv" \
		--out "$T/issued" >>"$T/runs.log" 2>&1 &
	pid=$!
	if [ $((k % 2)) = 0 ] && [ "$pending" -gt 1 ]; then
		for i in $(seq 1 500); do
			[ "$(count cert.recover)" -gt "$recs" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.01
		done
	else
		for i in $(seq 1 3000); do
			[ "$(db "SELECT count(*) FROM batch_results")" -ge "${at[$((k - 1))]}" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		sleep "$(awk -v s="$RANDOM" 'BEGIN { printf "%.2f", (s % 300) / 1000 }')"
	fi
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ "$(count issue.start)" = "$starts" ] && [ "$(count cert.recover)" -gt "$recs" ]; then
		in_recovery=$((in_recovery + 1))
	fi
	echo "# kill $k: $(db "SELECT count(*) FROM batch_results") results, $(db "SELECT count(*) FROM certificates WHERE status = 'pending'") pending (was $pending)"
done
check "$KILLS kills, $in_recovery of them during recovery" test "$in_recovery" -ge 1
check "the kills interrupted the batch" test "$(db "SELECT count(*) FROM batch_results")" -lt "$N"
check "the last run completes" run

RES=$T/issued/results.csv
check "results: $N lines and the header" test "$(wc -l <"$RES")" = $((N + 1))
check "results: each line exactly once" test "$(tail -n +2 "$RES" | cut -d, -f1 | sort -u | wc -l)" = "$N"
check "results: all $N ok, each with its certificate" test "$(grep -c '^[0-9]*,ok,[0-9A-F]\{40\},MII[A-Za-z0-9+/]*=*$' "$RES")" = "$N"
check "results: no serial twice" test "$(tail -n +2 "$RES" | cut -d, -f3 | sort -u | wc -l)" = "$N"
check "store: $N valid, none pending, none void" test \
	"$(db "SELECT count(*), sum(status = 'valid'), sum(status = 'pending'), sum(status = 'void') FROM certificates")" = "$N|$N|0|0"
check "store: no serial twice, each reserved once" test \
	"$(db "SELECT count(DISTINCT serial) FROM certificates")|$(db "SELECT count(*) FROM serials")" = "$N|$N"
check "store: the batch finished, one result per line" test \
	"$(db "SELECT count(finished_at), (SELECT count(*) FROM batch_results) FROM batches")" = "1|$N"
check "out: results.csv and the marker, no temporary left" test "$(ls -A "$T/issued" | tr '\n' ' ')" = "batch.sha256 results.csv "
certs_from "$T/issued"
mkdir -p "$T/store-certs"
db "SELECT writefile('$T/store-certs/' || hex(serial) || '.der', der) FROM certificates WHERE status = 'valid'" >/dev/null
check "results: every certificate is the store's, byte for byte, under its serial" diff -r -q "$T/store-certs" "$T/issued/certs"

# Every valid certificate audited: cert.issue lists serial/municipality/line,
# cert.recover names "serial <hex>".
{ grep "	cert.issue	ok	" "$log" | grep -o '[0-9A-F]\{40\}/' | tr -d /
  grep "	cert.recover	ok	" "$log" | grep -o 'serial [0-9A-F]\{40\}' | cut -d' ' -f2; } | sort -u >"$T/audited.txt"
db "SELECT hex(serial) FROM certificates WHERE status = 'valid'" | sort >"$T/valid.txt"
check "audit: every valid certificate has a cert.issue or cert.recover record" test \
	"$(comm -23 "$T/valid.txt" "$T/audited.txt" | wc -l)" = 0
check "audit: $(count cert.recover) certificates recovered after the kills, none voided" test \
	"$(count cert.recover)" -ge 1 -a "$(count cert.void)" = 0
ok "audit verify (chain, head, checkpoints by audit-1)" "$OFF" audit verify --state "$O"

n=0
for s in $(tail -n +2 "$RES" | shuf -n 20 --random-source=<(yes) | cut -d, -f3); do
	openssl x509 -inform DER -in "$T/issued/certs/$s.der" -out "$T/c.pem"
	openssl verify -attime "$(date -u -d 2026-04-03T00:00:00Z +%s)" -CAfile "$R" -untrusted "$ISS" "$T/c.pem" \
		>/dev/null 2>&1 && n=$((n + 1))
done
check "openssl verify: a sample of 20 against the root and the issuing CA" test "$n" = 20
finish

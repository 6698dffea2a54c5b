#!/usr/bin/env bash
# t_online_serve_provlost_worker.sh - the provision counts serve's network
# worker cannot keep reach the audit log and the CPS 4-5 report as the key
# holder's own do (docs/records.md, "The monthly report of provision";
# docs/process-model.md): the worker counts per (party, method, object) in
# a table of 3072 entries between two hand-overs to the key holder; while
# the key holder does not read the channel (here: stopped with SIGSTOP; in
# production a key holder busy or slow), the worker's hand-over blocks and
# provisions of keys beyond the table are not counted. Before, only a line
# on the worker's stderr said so: the report fell short with nothing in
# the audit log. Now the worker sends their number (AUDIT provision.lost),
# the key holder audits it (provision.lost fail, with the number) and
# report warns. Counts, not timing: every 200 for a partition CRL is a
# provision; the store's sum and the audited losses add up to them. The
# loss itself needs the channel full, which depends on the kernel's socket
# buffer: the run is repeated (at most 3 times) until the worker says it
# lost counts.
. "$(dirname "$0")/online.sh"
. "$(dirname "$0")/serve.sh"
cleanup() {
	[ -n "$SP" ] && kill -CONT "$SP" 2>/dev/null
	[ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null
	return 0
}
trap cleanup EXIT
LOG=$O/audit/audit.log

serve_one_cert
# parties enough for more than the worker's 3072 (party, method, object)
# counters: each fetches every partition CRL once a round
many_parties 3600

check "serve --flush 1 (clock 2026-04-03T12:00:00Z)" serve_start --clock 2026-04-03T12:00:00Z --flush 1

: >"$T/codes"
round() {
	local i f args
	for i in $(seq -w 1 "$K"); do
		args=()
		for f in "$P"/crl/*.crl; do args+=(-o /dev/null "$U/crl/$(basename "$f")"); done
		curl -s -H "Authorization: Bearer $(cat "$T/p-$i.tok")" -w '%{http_code}\n' "${args[@]}" \
			>>"$T/codes" 2>/dev/null || true
	done
}
WLINE='^hanko-online serve: worker: [0-9]+ provisions not counted \(counter table full\)$'
for try in 1 2 3; do
	# the key holder stopped: the worker's hand-overs fill the channel,
	# then block; its table fills with the rounds' keys
	kill -STOP "$SP"
	for _ in 1 2 3 4; do round; done
	kill -CONT "$SP"
	for _ in $(seq 100); do grep -Eq "$WLINE" "$T/serve.err" && break; sleep 0.1; done
	grep -Eq "$WLINE" "$T/serve.err" && break
done
GOT=$(grep -cx 200 "$T/codes")
check "every fetch answered 200 ($GOT of $(wc -l <"$T/codes"))" test "$GOT" = "$(wc -l <"$T/codes")"
check "the worker could not count some (its stderr, try $try)" grep -Eq "$WLINE" "$T/serve.err"
WLOST=$(sed -En 's/^hanko-online serve: worker: ([0-9]+) provisions not counted.*/\1/p' "$T/serve.err" |
	awk '{ s += $1 } END { print s + 0 }')
for _ in $(seq 100); do grep -q '	provision\.lost	' "$LOG" && break; sleep 0.2; done
stop_serve; rc=$?
check "serve stops (exit $rc)" test "$rc" = 0
check "audit: provision.lost, the counts the worker could not keep" grep -Eq \
	'	provision\.lost	fail	op1@ca-online	[0-9]+ provisions not counted: the serve worker.s counter table was full between two hand-overs to the key holder; the CPS 4-5 report of this month falls short by them	' "$LOG"
stored() { db "SELECT coalesce(sum(count), 0) FROM provisions WHERE recipient LIKE 'p-%'"; }
lost() { sed -n 's/.*	provision\.lost	fail	op1@ca-online	\([0-9]*\) provisions not counted.*/\1/p' "$LOG" |
	awk '{ s += $1 } END { print s + 0 }'; }
STORED=$(stored)
LOST=$(lost)
check "... the audited number is the worker's ($LOST = $WLOST)" test "$LOST" = "$WLOST"
check "some provisions not stored ($STORED of $GOT)" test "$STORED" -lt "$GOT"
check "... the stored and the audited lost add up to every 200 ($STORED + $LOST = $GOT)" test $((STORED + LOST)) = "$GOT"

ok "report --month 2026-04 --csv" "$ON" report --state "$O" --month 2026-04 --csv
check "... warns: serve could not count them" grep -qx \
	"hanko-online report: warning: 2026-04: serve could not count $LOST provisions (provision.lost in the audit log): the counts fall short by them" "$T/err"
check "... its CSV counts the stored ones" test \
	"$(tail -n +2 "$T/out" | awk -F, '$1 ~ /^p-/ { s += $3 } END { print s + 0 }')" = "$STORED"
ok "the online audit log verifies" "$OFF" audit verify --state "$O"
finish

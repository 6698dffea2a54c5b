#!/usr/bin/env bash
# t_online_records.sh - records (issue 5 item 8): "hanko-online history"
# (CPS 2-8-6) lists a resident's own certificates oldest first - issued,
# revoked on a move, issued again in the new municipality - with the serials
# and dates openssl reads from the certificates, never the identifier, which
# the audit log names only by 8 hex digits of its keyed hash; "hanko-online
# report" (CPS 4-5) adds up the provisions of revocation information of one
# JST calendar month, the prefecture's (rows around both boundaries, at
# 15:00Z the day before the 1st; TZ set to UTC, so the bounds cannot come
# from the process's zone), as a table with its bounds in JST and as CSV,
# by recipient and method and by object; an empty month is zero rows; a
# month not over at the clock of the run is said to be partial; a bad
# --month is one line and exit 2.
. "$(dirname "$0")/online.sh"
# iso FILE WHICH: the certificate's notBefore/notAfter (openssl) as ISO 8601
iso() { date -u -d "$(openssl x509 -in "$1" -inform DER -noout "-$2" | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ; }

B=$T/req
req_dir "$B"
six_residents "$B/batch1.csv"
ok "issue six residents" "$ON" issue --state "$O" "${IC[@]}" --batch "$B/batch1.csv" --out "$T/out1"
certs_from "$T/out1"
S1=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/out1/results.csv")
ok "the resident of line 2 moves: revoked affiliation-changed" "$ON" revoke --state "$O" --clock 2026-05-01T09:00:00Z \
	--serial "$S1" --reason affiliation-changed
{ sed -n 1p "$B/batch1.csv"
  echo "432024,12345678901,熊本　太郎,00000,319750301,1,熊本県八代市松江城町１番２５号,000000000000000,keys/resident-2.pub.pem"
} >"$B/moved.csv"
ok "... issued again in Yatsushiro (432024)" "$ON" issue --state "$O" --clock 2026-05-01T10:00:00Z --batch "$B/moved.csv" --out "$T/out2"
certs_from "$T/out2"
S2=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/out2/results.csv")

fails "history: --resident-id missing" 2 "--state and --resident-id are required" "$ON" history --state "$O"
fails "history: a resident identifier of 10 digits" 2 "CPS 3-1: the resident record code must be 11 digits" \
	"$ON" history --state "$O" --resident-id 1234567890
HC=(--clock 2026-05-02T00:00:00Z)	# valid or expired: at the clock
ok "history of the resident (CPS 2-8-6)" "$ON" history --state "$O" "${HC[@]}" --resident-id 12345678901
cp "$T/out" "$T/history.txt"
check "history: a header and two certificates" test "$(wc -l <"$T/history.txt")" = 3
check "history: the first is the revoked one in 431010" grep -Eq "^$S1 +431010 +2026-04-02T12:00:00Z +$(iso "$T/out1/certs/$S1.der" enddate) +revoked +2026-05-01T09:00:00Z +3 affiliation-changed$" "$T/history.txt"
check "history: then the new one in 432024, valid" grep -Eq "^$S2 +432024 +2026-05-01T10:00:00Z +$(iso "$T/out2/certs/$S2.der" enddate) +valid +- +-$" "$T/history.txt"
check "history: issue then re-issue, in order" test "$(sed -n '2p;3p' "$T/history.txt" | cut -c1-40 | tr -d ' ' | tr '\n' ' ')" = "$S1 $S2 "
check "history: the issued dates are the certificates' notBefore (openssl)" test \
	"$(iso "$T/out1/certs/$S1.der" startdate) $(iso "$T/out2/certs/$S2.der" startdate)" = "2026-04-02T12:00:00Z 2026-05-01T10:00:00Z"
check "history: no other resident's certificate" test "$(grep -Ec '  (valid|revoked)  ' "$T/history.txt")" = 2
check "history: the identifier is not printed" sh -c "! grep -q 12345678901 '$T/history.txt'"
RK=$(db "SELECT lower(hex(substr(resident_key, 1, 4))) FROM certificates WHERE hex(serial) = '$S1'")
check "audit: the query recorded by the keyed hash's first 8 hex digits" grep -q "	records.history	ok	op1@ca-online	CPS 2-8-6: resident $RK (keyed hash): 2 certificates disclosed" "$O/audit/audit.log"
check "audit: the identifier is never logged" sh -c "! grep -q 12345678901 '$O/audit/audit.log'"
# --resident-id -: the identifier read from standard input, so it is in
# neither the process list nor the shell's history (docs/records.md)
on_stdin() { local id=$1; shift; printf '%s\n' "$id" | "$@"; }
ok "history: the identifier on standard input (--resident-id -)" \
	on_stdin 12345678901 "$ON" history --state "$O" "${HC[@]}" --resident-id -
check "... the same rows as with the identifier on the command line" cmp "$T/out" "$T/history.txt"
ok "history: a CRLF line on standard input (typed in a Windows editor)" \
	on_stdin $'12345678901\r' "$ON" history --state "$O" "${HC[@]}" --resident-id -
check "... the same rows" cmp "$T/out" "$T/history.txt"
fails "history: --resident-id - with nothing on standard input" 2 \
	"^hanko-online history: --resident-id -: standard input: no line \(CPS 3-1" \
	"$ON" history --state "$O" "${HC[@]}" --resident-id - </dev/null
fails "history: --resident-id - with 10 digits on standard input" 2 \
	"^hanko-online history: --resident-id -: standard input: CPS 3-1: the resident record code must be 11 digits$" \
	on_stdin 1234567890 "$ON" history --state "$O" "${HC[@]}" --resident-id -
fails "history: --resident-id - with a line longer than any identifier" 2 \
	"--resident-id -: standard input: CPS 3-1: the resident record code must be 11 digits$" \
	on_stdin "$(printf '1%.0s' $(seq 100))" "$ON" history --state "$O" "${HC[@]}" --resident-id -
check "... refusals record no disclosure" test "$(grep -c '	records.history	ok	' "$O/audit/audit.log")" = 3
# ... and wiped once used: at the process's exit no copy of it is left in
# its memory (stdin's stdio buffer kept one). Given on the command line,
# the scan finds it (in argv): the scan works.
if have_gdb; then
	mem_at_exit "$T/argv.mem" 12345678901 "$ON" history --state "$O" "${HC[@]}" --resident-id 12345678901 </dev/null
	check "memory scan: the identifier given in argv is found at exit" grep -qx 12345678901 "$T/argv.mem"
	mem_at_exit "$T/stdin.mem" 12345678901 "$ON" history --state "$O" "${HC[@]}" --resident-id - <<<12345678901
	check "history --resident-id -: no copy of the identifier left in memory at exit" \
		bash -c "grep -Eq '  valid  ' '$T/stdin.mem.out' && [ -e '$T/stdin.mem' ] && ! [ -s '$T/stdin.mem' ]"
else
	echo "skip - memory scan of --resident-id - (no gdb with Python)"
fi
ok "history of a resident with no certificate" "$ON" history --state "$O" "${HC[@]}" --resident-id 99999999999
check "... zero rows" test "$(grep -c '^[0-9A-F]\{20,\} ' "$T/out")" = 0

# The monthly report (CPS 4-5). Provisions as serve records them, around the
# April boundaries of Japan's calendar: 2026-04-01T00:00:00+09:00 is
# 2026-03-31T15:00:00Z. The process's TZ is UTC: the bounds must not come
# from it.
export TZ=UTC
ok "provisions recorded (sqlite3)" sqlite3 "$O/store.db" "INSERT INTO provisions (at, recipient, method, object, count) VALUES
	(strftime('%s', '2026-03-31 14:59:59'), 'bank-a', 'ocsp', 'ocsp', 1),
	(strftime('%s', '2026-03-31 15:00:00'), 'bank-a', 'ocsp', 'ocsp', 1),
	(strftime('%s', '2026-04-15 12:00:00'), 'bank-a', 'ocsp', 'ocsp', 5),
	(strftime('%s', '2026-04-30 14:59:59'), 'bank-a', 'http', '431010', 1),
	(strftime('%s', '2026-04-10 08:00:00'), 'city, Kumamoto', 'ldap', '431010', 2),
	(strftime('%s', '2026-04-10 08:00:00'), 'city, Kumamoto', 'ldap', 'arl', 3),
	(strftime('%s', '2026-04-30 20:00:00'), 'city, Kumamoto', 'ldap', 'arl', 1)"
ok "report --month 2026-04 --csv" "$ON" report --state "$O" --month 2026-04 --csv
cat >"$T/want.csv" <<'EOF'
recipient,month,count,method
bank-a,2026-04,1,http
bank-a,2026-04,6,ocsp
"city, Kumamoto",2026-04,5,ldap
EOF
check "... by recipient and method, the boundaries in JST, a comma quoted" diff -u "$T/want.csv" "$T/out"
check "... the CSV parses (python csv) into 3 rows of 4 fields" python3 -c "
import csv, sys
rows = list(csv.reader(open('$T/out')))
assert rows[0] == ['recipient', 'month', 'count', 'method'], rows[0]
assert [len(r) for r in rows[1:]] == [4, 4, 4], rows
assert sum(int(r[2]) for r in rows[1:]) == 12
"
ok "report --month 2026-04 --csv --by-object" "$ON" report --state "$O" --month 2026-04 --csv --by-object
check "... by object" test "$(cat "$T/out")" = "$(printf 'object,month,count\n431010,2026-04,3\narl,2026-04,3\nocsp,2026-04,6')"
ok "report --month 2026-04 (table)" "$ON" report --state "$O" --month 2026-04
check "... the month's bounds in JST" grep -qx "(JST, from 2026-04-01T00:00:00+09:00 to before 2026-05-01T00:00:00+09:00;" "$T/out"
check "... and the same in UTC" grep -qx " in UTC from 2026-03-31T15:00:00Z to before 2026-04-30T15:00:00Z)" "$T/out"
check "... a row per recipient and method" grep -Eq "^bank-a +2026-04 +6  ocsp$" "$T/out"
check "... the total" grep -Eq "^total +2026-04 +12$" "$T/out"
check "... the objects" grep -Eq "^arl +2026-04 +3$" "$T/out"
ok "report --month 2026-03 --csv: 2026-03-31T14:59:59Z is 23:59:59 JST, March" "$ON" report --state "$O" --month 2026-03 --csv
check "... one provision" test "$(tail -n +2 "$T/out")" = "bank-a,2026-03,1,ocsp"
ok "report --month 2026-05 --csv: 2026-04-30T20:00:00Z is 05:00 JST on May 1, May" "$ON" report --state "$O" --month 2026-05 --csv
check "... one provision" test "$(tail -n +2 "$T/out")" = '"city, Kumamoto",2026-05,1,ldap'
ok "report of an empty month" "$ON" report --state "$O" --month 2026-06 --csv
check "... zero rows (the header only)" test "$(cat "$T/out")" = "recipient,month,count,method"
ok "report of an empty month (table)" "$ON" report --state "$O" --month 2026-06
check "... a total of 0" grep -Eq "^total +2026-06 +0$" "$T/out"
for m in 2026-13 2026-00 2026-4 26-04 2026-04-01 1969-12 2026/04 " 2026-04"; do
	fails "report: --month '$m' refused" 2 "--month $m: CPS 4-5: a calendar month YYYY-MM" \
		"$ON" report --state "$O" --month "$m"
done
fails "report: --month '' refused, no value" 2 "^hanko-online report: --month: needs a value$" \
	"$ON" report --state "$O" --month ""
fails "report: --by-object without --csv" 2 "--by-object selects the CSV part" \
	"$ON" report --state "$O" --month 2026-04 --by-object
check "audit: each report recorded" test "$(grep -c '	records.report	ok	' "$O/audit/audit.log")" = 7
ok "report --month 2026-04 (table) again" "$ON" report --state "$O" --month 2026-04
check "the table says which methods are recorded by serve and which only by provision" sh -c \
	"grep -qx 'Methods: http and ocsp are recorded by hanko-online serve as it answers;' '$T/out' &&
	 grep -qx 'ldap and media only as the operators record them with hanko-online provision.' '$T/out'"
# A month not over at the clock of the run (CPS 4-5 reports a whole month):
# the counts so far, said on stderr, in the table and in the audit record.
ok "report --month 2026-05 --csv while May runs (--clock 2026-05-20T03:00:00Z)" "$ON" report --state "$O" \
	--month 2026-05 --csv --clock 2026-05-20T03:00:00Z
check "... warns: the month is not over, the counts partial (times in JST)" grep -qx \
	"hanko-online report: warning: 2026-05: the month is not over (it ends 2026-06-01T00:00:00+09:00, the clock reads 2026-05-20T12:00:00+09:00): the counts are partial, not the month's report" "$T/err"
check "... the CSV: the counts so far" test "$(tail -n +2 "$T/out")" = '"city, Kumamoto",2026-05,1,ldap'
ok "report --month 2026-05 (table) at 23:59:59 JST on 31 May" "$ON" report --state "$O" --month 2026-05 \
	--clock 2026-05-31T14:59:59Z
check "... the table says it is partial" grep -qx \
	"PARTIAL: the month is not over at 2026-05-31T23:59:59+09:00: the counts so far, not the month's report." "$T/out"
check "... and so does its audit record" grep -Eq \
	"	records.report	ok	op1@ca-online	CPS 4-5: month 2026-05: 1 rows, 1 provisions; the month not over: partial \(warned\)	" \
	"$O/audit/audit.log"
ok "report --month 2026-07 --csv, a month not begun (--clock 2026-05-20T03:00:00Z)" "$ON" report --state "$O" \
	--month 2026-07 --csv --clock 2026-05-20T03:00:00Z
check "... warns: the month has not begun, zero rows so far, not an empty month" grep -qx \
	"hanko-online report: warning: 2026-07: the month has not begun (it begins 2026-07-01T00:00:00+09:00, the clock reads 2026-05-20T12:00:00+09:00): the counts are partial, not the month's report" "$T/err"
ok "report --month 2026-07 (table), not begun" "$ON" report --state "$O" --month 2026-07 --clock 2026-05-20T03:00:00Z
check "... the table says it has not begun" grep -qx \
	"PARTIAL: the month has not begun at 2026-05-20T12:00:00+09:00: no counts yet, not the month's report." "$T/out"
ok "report --month 2026-05 (table) at 00:00 JST on 1 June: May is over" "$ON" report --state "$O" --month 2026-05 \
	--clock 2026-05-31T15:00:00Z
check "... no warning" test ! -s "$T/err"
check "... no PARTIAL line" sh -c "! grep -q PARTIAL '$T/out'"

# Provisions made outside serve (CPS 4-5): the directory's reads (ldap) and
# CRLs handed over on media, recorded by the operators with "provision".
ok "rp add yatsushiro-city (2026-04-01T09:00:00+09:00)" "$ON" rp add --state "$O" --clock 2026-04-01T00:00:00Z \
	--name yatsushiro-city --token-out "$T/yatsushiro.token"
ok "rp add old-bank" "$ON" rp add --state "$O" --clock 2026-04-01T00:00:00Z --name old-bank --token-out "$T/old.token"
ok "rp retire old-bank (2026-04-20T00:00:00Z)" "$ON" rp retire --state "$O" --clock 2026-04-20T00:00:00Z --name old-bank
check "provision --help: the usage on stdout, exit 0" sh -c \
	"'$ON' provision --help >'$T/help' && grep -q '^usage: hanko-online provision --state DIR --recipient NAME --method ldap|media' '$T/help'"
PV=(--state "$O" --clock 2026-05-03T01:00:00Z)
ok "provision: April's LDAP reads, recorded on 3 May, --at in JST" "$ON" provision "${PV[@]}" \
	--recipient yatsushiro-city --method ldap --object crl --count 120 --at 2026-04-30T23:00:00+09:00
check "... it says what it recorded, the time in JST" \
	grep -qx "recorded: yatsushiro-city, method ldap, object crl, count 120, at 2026-04-30T23:00:00+09:00" "$T/out"
check "... one row at 2026-04-30T14:00:00Z" test \
	"$(db "SELECT method, object, count, at FROM provisions WHERE recipient = 'yatsushiro-city'")" = "ldap|crl|120|$(date -u -d 2026-04-30T14:00:00Z +%s)"
check "... audited (records.provision ok)" grep -q \
	"	records.provision	ok	op1@ca-online	CPS 4-5: yatsushiro-city, method ldap, object crl, count 120, at 2026-04-30T14:00:00Z (2026-04-30T23:00:00+09:00)	" "$O/audit/audit.log"
ok "provision: the ARL on media (--at in UTC)" "$ON" provision "${PV[@]}" \
	--recipient yatsushiro-city --method media --object arl --count 1 --at 2026-04-10T01:00:00Z
ok "provision: a partition's CRL on media (432024)" "$ON" provision "${PV[@]}" \
	--recipient yatsushiro-city --method media --object 432024 --count 2 --at 2026-04-10T01:00:00Z
ok "provision: the retired party, before its retirement" "$ON" provision "${PV[@]}" \
	--recipient old-bank --method ldap --object 431010-2 --count 7 --at 2026-04-19T23:59:59Z
ok "provision without --at: now (the clock), 3 May" "$ON" provision "${PV[@]}" \
	--recipient yatsushiro-city --method ldap --object arl --count 4
ok "report --month 2026-04 --csv: the recorded provisions counted" "$ON" report --state "$O" --month 2026-04 --csv
cat >"$T/want.csv" <<'EOF'
recipient,month,count,method
bank-a,2026-04,1,http
bank-a,2026-04,6,ocsp
"city, Kumamoto",2026-04,5,ldap
old-bank,2026-04,7,ldap
yatsushiro-city,2026-04,120,ldap
yatsushiro-city,2026-04,3,media
EOF
check "... ldap and media beside serve's http and ocsp" diff -u "$T/want.csv" "$T/out"
ok "report --month 2026-05 --csv" "$ON" report --state "$O" --month 2026-05 --csv
check "... the one without --at is May's" test "$(tail -n +2 "$T/out" | grep yatsushiro)" = "yatsushiro-city,2026-05,4,ldap"
ok "report --month 2026-04 --csv --by-object" "$ON" report --state "$O" --month 2026-04 --csv --by-object
check "... the objects" test "$(cat "$T/out")" = "$(printf 'object,month,count\n431010,2026-04,3\n431010-2,2026-04,7\n432024,2026-04,2\narl,2026-04,4\ncrl,2026-04,120\nocsp,2026-04,6')"

# Refusals: one line, exit 2 for the command line, 3 for what the state
# says, nothing recorded.
ROWS=$(db "SELECT count(*) || '/' || sum(count) FROM provisions")
Y=(--recipient yatsushiro-city)
fails "provision: --count missing" 2 "--state, --recipient, --method, --object and --count are required" \
	"$ON" provision "${PV[@]}" "${Y[@]}" --method ldap --object arl
fails "provision: --method http (serve's own)" 2 "^hanko-online provision: --method http: recorded by hanko-online serve as it answers; this command records ldap or media only$" \
	"$ON" provision "${PV[@]}" "${Y[@]}" --method http --object arl --count 1
fails "provision: --method ocsp (serve's own)" 2 "--method ocsp: recorded by hanko-online serve" \
	"$ON" provision "${PV[@]}" "${Y[@]}" --method ocsp --object arl --count 1
fails "provision: --method ftp" 2 "--method ftp: CPS 4-5: ldap \(read from the directory\) or media" \
	"$ON" provision "${PV[@]}" "${Y[@]}" --method ftp --object arl --count 1
for c in 0 -5 1000000001 12x " 3" 99999999999; do
	fails "provision: --count '$c'" 2 "--count $c: CPS 4-5: the number of provisions, a whole number from 1 to 1000000000" \
		"$ON" provision "${PV[@]}" "${Y[@]}" --method ldap --object arl --count "$c"
done
fails "provision: --count '', no value" 2 "^hanko-online provision: --count: needs a value$" \
	"$ON" provision "${PV[@]}" "${Y[@]}" --method ldap --object arl --count ""
for x in ocsp 43101 431010-1 431010-1000 431010- 431010-02 ARL "arl "; do
	fails "provision: --object '$x'" 2 "--object $x: a partition id \(431010, or 431010-2 for issuing generation 2 to 999\), arl, or crl" \
		"$ON" provision "${PV[@]}" "${Y[@]}" --method ldap --object "$x" --count 1
done
for a in 2026-04-31T00:00:00Z "2026-04-30 10:00:00Z" 2026-04-30T10:00:00+08:00 2026-04-30T10:00:00 2026-4-30T10:00:00Z \
	2026-04-30T24:00:00Z +2026-04-30T10:00:00Z; do
	fails "provision: --at '$a'" 2 "--at ${a//+/\\+}: a date and time, YYYY-MM-DDTHH:MM:SSZ \(UTC\) or YYYY-MM-DDTHH:MM:SS\+09:00 \(JST\)" \
		"$ON" provision "${PV[@]}" "${Y[@]}" --method ldap --object arl --count 1 --at "$a"
done
fails "provision: a recipient name that no party can have" 2 "--recipient city, Kumamoto: a relying party's name" \
	"$ON" provision "${PV[@]}" --recipient "city, Kumamoto" --method media --object arl --count 1
fails "provision: an unregistered recipient" 3 "^hanko-online provision: --recipient kumamoto-bank: CPS 4-4-4-5: not a registered relying party \(register it first: hanko-online rp add\)$" \
	"$ON" provision "${PV[@]}" --recipient kumamoto-bank --method media --object arl --count 1
fails "provision: before the recipient was registered" 3 \
	"--recipient yatsushiro-city: CPS 4-4-4-5: registered at 2026-04-01T09:00:00\+09:00, after the provision \(--at 2026-04-01T08:59:59\+09:00\)" \
	"$ON" provision "${PV[@]}" "${Y[@]}" --method ldap --object arl --count 1 --at 2026-03-31T23:59:59Z
fails "provision: after the recipient was retired" 3 \
	"--recipient old-bank: CPS 4-4-4-5: retired at 2026-04-20T09:00:00\+09:00, before the provision" \
	"$ON" provision "${PV[@]}" --recipient old-bank --method ldap --object arl --count 1 --at 2026-04-20T00:00:00Z
fails "provision: in the future" 3 "--at 2026-05-03T10:00:01\+09:00: in the future \(now 2026-05-03T10:00:00\+09:00\)" \
	"$ON" provision "${PV[@]}" "${Y[@]}" --method ldap --object arl --count 1 --at 2026-05-03T01:00:01Z
fails "provision: a code that is no municipality" 3 "--object 999999: 999999: not a municipality of municipalities.csv" \
	"$ON" provision "${PV[@]}" "${Y[@]}" --method media --object 999999 --count 1
fails "provision: a city whose wards are the partitions" 3 "--object 431001: 431001: not a CRL partition \(partition no\) of municipalities.csv" \
	"$ON" provision "${PV[@]}" "${Y[@]}" --method media --object 431001 --count 1
check "audit: the refusals after the state was read recorded (records.provision fail)" test \
	"$(grep -c '	records.provision	fail	' "$O/audit/audit.log")" = 6
HANKO_FAIL_AUDIT_AT=records.provision "$ON" provision "${PV[@]}" "${Y[@]}" --method ldap --object arl --count 9 \
	>"$T/lost.out" 2>"$T/lost.err" && rc=0 || rc=$?
check "provision whose audit record cannot be appended: exit 6 (exit $rc)" sh -c \
	"[ $rc = 6 ] && grep -q 'audit record records.provision ok not written: nothing recorded' '$T/lost.err'"
check "nothing recorded by any refusal (rows/sum $ROWS)" test "$(db "SELECT count(*) || '/' || sum(count) FROM provisions")" = "$ROWS"

# An exact repeat (the same recipient, method, object and count in the same
# JST month) is refused, naming the earlier row: a provision is never
# deleted, and a command run twice counted twice in the gazette's report.
# Another real provision of the same numbers: --another-provision.
ID=$(db "SELECT id FROM provisions WHERE recipient = 'yatsushiro-city' AND method = 'ldap' AND object = 'crl'")
fails "provision: the same April LDAP reads entered again: refused" 3 \
	"^hanko-online provision: yatsushiro-city, method ldap, object crl, count 120 in 2026-04 \(JST\): recorded already \(provisions row $ID, at 2026-04-30T23:00:00\+09:00\): entered again it would count twice in the CPS 4-5 report; if this is another provision, give --another-provision$" \
	"$ON" provision "${PV[@]}" "${Y[@]}" --method ldap --object crl --count 120 --at 2026-04-30T23:00:00+09:00
fails "... also at another time of the same JST month (--at 2026-04-02T00:00:00Z)" 3 \
	"count 120 in 2026-04 \(JST\): recorded already \(provisions row $ID, " \
	"$ON" provision "${PV[@]}" "${Y[@]}" --method ldap --object crl --count 120 --at 2026-04-02T00:00:00Z
ID=$(db "SELECT id FROM provisions WHERE recipient = 'yatsushiro-city' AND method = 'ldap' AND object = 'arl'")
fails "... the one recorded without --at, run again the same way" 3 \
	"count 4 in 2026-05 \(JST\): recorded already \(provisions row $ID, at 2026-05-03T10:00:00\+09:00\)" \
	"$ON" provision --state "$O" --clock 2026-05-03T02:00:00Z "${Y[@]}" --method ldap --object arl --count 4
check "... nothing recorded (rows/sum $ROWS)" test "$(db "SELECT count(*) || '/' || sum(count) FROM provisions")" = "$ROWS"
check "... audited as refusals (records.provision fail)" test \
	"$(grep -c '	records.provision	fail	.*recorded already' "$O/audit/audit.log")" = 3
ok "provision: the same numbers in the month after (00:00 JST on 1 May): not a repeat" "$ON" provision "${PV[@]}" \
	"${Y[@]}" --method ldap --object crl --count 120 --at 2026-04-30T15:00:00Z
ok "provision: another count in April: not a repeat" "$ON" provision "${PV[@]}" "${Y[@]}" \
	--method ldap --object crl --count 121 --at 2026-04-30T23:00:00+09:00
ok "provision: the same numbers, --another-provision: recorded" "$ON" provision "${PV[@]}" "${Y[@]}" \
	--method ldap --object crl --count 120 --at 2026-04-29T10:00:00+09:00 --another-provision
check "... it says so" grep -qx \
	"recorded: yatsushiro-city, method ldap, object crl, count 120, at 2026-04-29T10:00:00+09:00 (another provision of the same numbers in the month)" "$T/out"
check "... and so does its audit record" grep -q \
	"	records.provision	ok	op1@ca-online	CPS 4-5: yatsushiro-city, method ldap, object crl, count 120, at 2026-04-29T01:00:00Z (2026-04-29T10:00:00+09:00); another provision of the same numbers in the month (--another-provision)	" "$O/audit/audit.log"
ok "report --month 2026-04 --csv" "$ON" report --state "$O" --month 2026-04 --csv
check "... April's ldap: 120 + 121 + 120" test "$(grep '^yatsushiro-city,2026-04,[0-9]*,ldap$' "$T/out")" = "yatsushiro-city,2026-04,361,ldap"
ok "the online audit log verifies (checkpoints by audit-1)" "$OFF" audit verify --state "$O"
finish

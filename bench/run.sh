#!/usr/bin/env bash
# bench/run.sh - hanko's benchmarks, each printed beside its peer measured
# in the same run on the same machine (bench/README.md). Not a test: it
# asserts nothing and prints figures.
#
#   bench/run.sh [issue|publish|serve|all]     (default all)
#
# Environment: HANKO_BENCH_N (requests per batch, 10000), HANKO_BENCH_ROWS
# (certificates already in the store / revoked, 1000000), BB (build folder,
# build-bench), BT (scratch folder, /tmp/hanko-bench; needs ~3 GB).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BB=${BB:-$top/build-bench}
BT=${BT:-/tmp/hanko-bench}
N=${HANKO_BENCH_N:-10000}
ROWS=${HANKO_BENCH_ROWS:-1000000}
CORES=$(nproc)
what=${1:-all}

for p in wrk:wrk nginx:nginx time:time ab:apache2-utils; do
	command -v "${p%%:*}" >/dev/null || [ -x "/usr/bin/${p%%:*}" ] || [ -x "/usr/sbin/${p%%:*}" ] || {
		[ "$(id -u)" = 0 ] || { echo "bench: install ${p#*:}" >&2; exit 1; }
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${p#*:}" >/dev/null
	}
done
# libp11's OpenSSL engine: the openssl ca peer signing with the same token
openssl engine pkcs11 -t >/dev/null 2>&1 || {
	[ "$(id -u)" = 0 ] || { echo "bench: install libengine-pkcs11-openssl" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libengine-pkcs11-openssl >/dev/null
}
cmake -S "$top" -B "$BB" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BB" -j"$CORES" >/dev/null
. "$top/bench/lib.sh"
export HANKO_TMP=$BT/tmp
. "$top/test/integration/lib.sh"
. "$top/test/data/issuance/setup.sh"
. "$top/test/data/online/setup.sh"
set +e
exec 3>"$BT.fig" 2>/dev/null || { mkdir -p "$(dirname "$BT")"; exec 3>"$BT.fig"; }

echo "hanko benchmarks: $(date -u +%FT%TZ), $CORES cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "openssl: $(openssl version); softhsm2: $(dpkg-query -W -f='${Version}' softhsm2)"

# fig VAR CMD...: run CMD with fd 3 captured into VAR.
fig() { local __v=$1; shift; local __o; __o=$("$@" 3>&1 >/dev/null); printf -v "$__v" '%s' "$__o"; }

bench_issue() {
	local d=$BT/issue
	rm -rf "$d"; mkdir -p "$d"
	HANKO_TMP=$d/tmp; mkdir -p "$HANKO_TMP"
	make_online "$d" "$(ago 1)" >/dev/null
	local pin=$O/secrets/token-user-pin
	export SOFTHSM2_CONF=$O/token/softhsm2.conf
	local kid; kid=$(printf issuing-1 | od -An -tx1 | tr -d ' \n')
	echo
	echo "== Issuance: $N requests, durable commits (issue 5) =="
	local raw1 rawn rawout rawcpu
	raw1=$("$BB/bench/p11speed" /usr/lib/softhsm/libsofthsm2.so hanko-online-test "$pin" "$kid" 1 5 | awk '{print $(NF-1)}')
	rawout=$(/usr/bin/time -f '%U %S' -o "$BT/cpu.out" "$BB/bench/p11speed" /usr/lib/softhsm/libsofthsm2.so hanko-online-test "$pin" "$kid" "$CORES" 5)
	rawn=$(echo "$rawout" | awk '{print $(NF-1)}')
	# CPU per signature (ms): the token's own cost of one signature
	rawcpu=$(echo "$rawout $(tail -1 "$BT/cpu.out")" | awk '{ printf "%.3f", ($(NF-1) + $NF) * 1000 / $4 }')
	unset SOFTHSM2_CONF
	printf '%-58s %10s sig/s\n' "token raw RSA-2048 signing, 1 thread" "$raw1"
	printf '%-58s %10s sig/s\n' "token raw RSA-2048 signing, $CORES threads (the goal's base)" "$rawn"
	mkbatch "$d/b1.csv" "$N" 10000 "$d/keys"
	local t1 tc
	fig tc cpu "$ON" issue --state "$O" --batch "$d/b1.csv" --out "$d/out1"
	t1=${tc% *}
	local ok1; ok1=$(grep -c ',ok,' "$d/out1/results.csv")
	local r1; r1=$(rate "$ok1" "$t1")
	printf '%-58s %10s cert/s  (%s issued in %s s; %.2f of raw)\n' "hanko-online issue, empty store" "$r1" "$ok1" "$t1" "$(awk -v a="$r1" -v b="$rawn" 'BEGIN{print a/b}')"
	# Where the CPU goes: the token's signature costs rawcpu ms wherever
	# it runs; at 0.85 of the raw rate on $CORES cores everything else may
	# cost at most CORES / (0.85 raw) - rawcpu.
	awk -v c="${tc#* }" -v t="$t1" -v n="$ok1" -v s="$rawcpu" -v raw="$rawn" -v k="$CORES" 'BEGIN {
		h = c * 1000 / n; b = k * 1000 / (0.85 * raw) - s
		printf "   CPU per certificate: hanko %.3f ms, of which the token'"'"'s signature %.3f ms (raw); the rest %.3f ms\n", h, s, h - s
		printf "   at 0.85 of raw on %d cores the rest may cost at most %.3f ms\n", k, b
		printf "   cores busy: hanko %.2f, the raw signing run %.2f, of %d\n", c / t, s * raw / 1000, k
	}'

	# the peer: openssl ca with a file key
	local oc=$d/openssl-ca
	openssl_ca "$oc"
	mkdir -p "$d/reqs"
	"$BB/bench/mkreqs" "$d/reqs" "$N"
	local tb
	fig tb secs openssl ca -batch -config "$oc/ca.cnf" -notext -out "$d/ossl-batch.pem" -infiles $(ls -v "$d"/reqs/req-*.pem)
	local rb; rb=$(rate "$N" "$tb")
	printf '%-58s %10s cert/s  (%s in %s s; hanko is %.1fx)\n' "openssl ca -infiles (one batch)" "$rb" "$N" "$tb" "$(awk -v a="$r1" -v b="$rb" 'BEGIN{print a/b}')"
	printf '   3x that batch is %s cert/s; the token signs %s sig/s on all %s cores (%s)\n' "$(awk -v b="$rb" 'BEGIN{printf "%.0f", 3 * b}')" "$rawn" "$CORES" \
		"$(awk -v b="$rb" -v r="$rawn" 'BEGIN{ if (3 * b > r) print "no issuer signing with this token reaches it here"; else printf "%.2f of it", 3 * b / r }')"
	# What 3x leaves for everything but the token's signature, beside what
	# verifying that signature alone costs (the issue asks for it): CPU
	# user time per operation, as openssl speed counts it.
	local vps
	vps=$(openssl speed -seconds 2 rsa2048 2>/dev/null | awk '$1 == "rsa" && $2 == "2048" { print $NF }')
	awk -v b="$rb" -v k="$CORES" -v s="$rawcpu" -v v="$vps" 'BEGIN {
		left = k * 1000 / (3 * b) - s
		printf "   at 3x the rest may cost at most %.3f ms a certificate; an RSA-2048 verification alone costs %.3f ms (openssl speed: %.0f verify/s)\n", left, 1000 / v, v
	}'
	# the same peer with the issuing key in the same token (CPS 6-1-1-3,
	# 6-2-1-1: the CA's key lives in an HSM), through libp11's engine
	local ot=$d/openssl-ca.tok tt
	openssl_ca "$ot"
	cp "$ISS" "$ot/ca.pem"
	fig tt secs env SOFTHSM2_CONF="$O/token/softhsm2.conf" openssl ca -batch -config "$ot/ca.cnf" -notext \
		-out "$d/ossl-tok.pem" -engine pkcs11 -keyform engine -passin "file:$pin" \
		-keyfile "pkcs11:token=hanko-online-test;id=$(printf issuing-1 | od -An -tx1 | tr -d ' \n' | sed 's/../%&/g');type=private" \
		-infiles $(ls -v "$d"/reqs/req-*.pem)
	local rt; rt=$(rate "$N" "$tt")
	printf '%-58s %10s cert/s  (%s in %s s; hanko is %.1fx)\n' "openssl ca -infiles, the issuing key in the same token" "$rt" "$N" "$tt" "$(awk -v a="$r1" -v b="$rt" 'BEGIN{print a/b}')"
	local np=300 tp
	openssl_ca "$oc.1"
	fig tp secs bash -c 'for i in $(seq 0 '$((np - 1))'); do openssl ca -batch -config "'"$oc.1"'/ca.cnf" -notext -out /dev/null -in "'"$d"'/reqs/req-$i.pem" 2>/dev/null || exit 1; done'
	printf '%-58s %10s cert/s  (first %s requests in %s s)\n' "openssl ca, one process per certificate" "$(rate $np "$tp")" "$np" "$tp"

	# a million certificates already in the store
	local aki
	aki=$(openssl x509 -in "$ISS" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :')
	local tpop
	# each partition's rows carry a certificate of that municipality
	# (mkbatch's lines 2-5), as issue checks the newest one's CRL DP
	fig tpop secs "$BB/bench/populate" "$O/store.db" "$aki" "$(first_cert "$d/out1")" "$ROWS" \
		"431010:$(line_cert "$d/out1" 2)" "432024:$(line_cert "$d/out1" 3)" \
		"432148:$(line_cert "$d/out1" 4)" "432105:$(line_cert "$d/out1" 5)"
	echo "   (store filled with $ROWS more certificates in $tpop s)"
	mkbatch "$d/b2.csv" "$N" 20000 "$d/keys"
	local t2
	fig t2 secs "$ON" issue --state "$O" --batch "$d/b2.csv" --out "$d/out2"
	local ok2; ok2=$(grep -c ',ok,' "$d/out2/results.csv")
	local r2; r2=$(rate "$ok2" "$t2")
	printf '%-58s %10s cert/s  (%s in %s s; %.2f of the empty-store rate)\n' "hanko-online issue, $ROWS certificates in the store" "$r2" "$ok2" "$t2" "$(awk -v a="$r2" -v b="$r1" 'BEGIN{print a/b}')"
	# openssl ca with as many lines in index.txt
	awk -v n="$ROWS" 'BEGIN { for (i = 0; i < n; i++) printf "V\t301231235959Z\t\t%X\tunknown\t/CN=resident-%d\n", 1048576 + i, i }' >"$oc.1/index.txt"
	printf '%X\n' $((1048576 + ROWS)) >"$oc.1/serial"
	local t3
	fig t3 secs bash -c 'for i in 1 2 3; do openssl ca -batch -config "'"$oc.1"'/ca.cnf" -notext -out /dev/null -in "'"$d"'/reqs/req-$i.pem" 2>/dev/null || exit 1; done'
	printf '%-58s %10s s/cert  (3 certificates)\n' "openssl ca, one process, $ROWS lines in index.txt" "$(awk -v t="$t3" 'BEGIN{printf "%.2f", t/3}')"
}

bench_publish() {
	local d=$BT/publish
	echo
	echo "== Publication: $ROWS revoked certificates over 45 partitions (issue 5) =="
	echo "   (no ARL batch imported: publish exits 9 with its warning; the CRLs are what is measured)"
	if [ "${HANKO_BENCH_REUSE:-0}" = 1 ] && [ -s "$d/online/store.db" ]; then
		O=$d/online; ISS=$d/issuing.pem
		rm -rf "$d/repo" "$d/repo.sets" "$O/crlcache"
	else
	rm -rf "$d"; mkdir -p "$d"
	HANKO_TMP=$d/tmp; mkdir -p "$HANKO_TMP"
	make_online "$d" "$(ago 1)" >/dev/null
	mkbatch "$d/b.csv" 4 30000 "$d/keys"
	"$ON" issue --state "$O" --batch "$d/b.csv" --out "$d/out" >/dev/null
	local aki codes tpop
	aki=$(openssl x509 -in "$ISS" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :')
	codes=$(awk -F, '$1 ~ /^[0-9][0-9][0-9][0-9][0-9][0-9]$/ && $6 == "yes" { print $1 }' "$O/municipalities.csv" | head -45 | tr '\n' ' ')
	[ "$(echo $codes | wc -w)" = 45 ] || { echo "bench: 45 partitions expected in $O/municipalities.csv" >&2; return 1; }
	fig tpop secs "$BB/bench/populate" "$O/store.db" "$aki" "$(first_cert "$d/out")" "$ROWS" --revoked $codes
	echo "   (store filled with $ROWS revoked certificates in $tpop s)"
	fi
	local t1 m1 t2 m2
	fig t1 secs /usr/bin/time -f '%M' -o "$d/m1" "$ON" publish --state "$O" --repo "$d/repo" --now --new-repository
	m1=$(tail -1 "$d/m1")
	printf '%-58s %8s s  peak %6s MiB\n' "hanko-online publish, first run (entry cache built)" "$t1" "$((m1 / 1024))"
	fig t2 secs /usr/bin/time -f '%M' -o "$d/m2" "$ON" publish --state "$O" --repo "$d/repo" --now
	m2=$(tail -1 "$d/m2")
	printf '%-58s %8s s  peak %6s MiB\n' "hanko-online publish, daily run (45 CRLs signed)" "$t2" "$((m2 / 1024))"
	local oc=$d/openssl-ca t3 m3
	openssl_ca "$oc"
	awk -v n="$ROWS" 'BEGIN { split("keyCompromise CACompromise affiliationChanged superseded cessationOfOperation", r, " ");
		for (i = 0; i < n; i++) printf "R\t301231235959Z\t260101000000Z,%s\t%X\tunknown\t/CN=resident-%d\n", r[i % 5 + 1], 1048576 + i, i }' >"$oc/index.txt"
	fig t3 secs /usr/bin/time -f '%M' -o "$d/m3" openssl ca -gencrl -config "$oc/ca.cnf" -out "$d/ossl.crl"
	m3=$(tail -1 "$d/m3")
	printf '%-58s %8s s  peak %6s MiB\n' "openssl ca -gencrl, one CRL of the same $ROWS entries" "$t3" "$((m3 / 1024))"
	printf '%-58s %8.1fx (daily run), %.1fx (first run)\n' "hanko faster by" "$(awk -v a="$t3" -v b="$t2" 'BEGIN{print a/b}')" "$(awk -v a="$t3" -v b="$t1" 'BEGIN{print a/b}')"
	ls -l "$d"/repo/crl | awk 'NR > 1 { s += $5; n++ } END { printf "   (%d partition CRLs, %.1f MB in all)\n", n, s / 1e6 }'
}

# wrk_run URL SECONDS CONNS [LUA]: "req/s p99" of one wrk run (2 threads).
wrk_run() {
	local out
	out=$(wrk -t2 -c"$3" -d"$2"s --latency ${4:+-s "$4"} "$1" 2>&1)
	local rps p99
	rps=$(echo "$out" | awk '/^Requests\/sec/ { printf "%.0f", $2 }')
	p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
	echo "$out" | awk '/Non-2xx|Socket errors/ { sub(/^ +/, ""); print "      (" $0 ")" }' >&2
	echo "${rps:-0} ${p99:-?}"
}

# ab_run URL SECONDS CONNS BODY [HEADER]: "req/s p99" of ApacheBench POSTs
# (no keep-alive). openssl ocsp cannot be measured with wrk: wrk's first
# connection stays open idle and stalls the one-process responder for the
# whole run (the stall shown below), so both responders are also measured
# with ab, side by side.
ab_run() {
	local out
	out=$(ab -q -c "$3" -t "$2" -n 100000000 -p "$4" -T application/ocsp-request ${5:+-H "$5"} "$1" 2>&1)
	echo "$out" | awk '/^Failed requests/ && $3 > 0 { print "      (" $0 ")" }' >&2
	echo "$(echo "$out" | awk '/^Requests per second/ { printf "%.0f", $4 }') $(echo "$out" | awk '$1 == "99%" { print $2 "ms" }')"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

bench_serve() {
	local d=$BT/serve
	rm -rf "$d"; mkdir -p "$d"
	HANKO_TMP=$d/tmp; mkdir -p "$HANKO_TMP"
	make_online "$d" "$(ago 1)" >/dev/null
	echo
	echo "== Serving: OCSP and CRLs over HTTP on loopback (issue 6) =="
	mkbatch "$d/b.csv" 8 40000 "$d/keys"
	"$ON" issue --state "$O" --batch "$d/b.csv" --out "$d/out" >/dev/null
	local c1; c1=$(first_cert "$d/out")
	openssl x509 -in "$c1" -inform DER -out "$d/c1.pem"
	"$ON" responder --state "$O" >/dev/null
	"$ON" ocsp-refresh --state "$O" >/dev/null
	"$ON" publish --state "$O" --repo "$d/repo" --now >/dev/null
	"$ON" rp add --state "$O" --name bench --token-out "$d/rp.token" >/dev/null
	local tok; tok=$(cat "$d/rp.token")
	openssl ocsp -issuer "$ISS" -cert "$d/c1.pem" -no_nonce -reqout "$d/req.der" >/dev/null 2>&1
	local p1; p1=$(free_port)
	# one load generator on loopback is one client address: lift the
	# per-client cap (default 32) above wrk's 64 connections
	"$ON" serve --state "$O" --repo "$d/repo" --listen "127.0.0.1:$p1" --max-per-client 256 >"$d/serve.log" 2>&1 &
	local spid=$!
	sleep 2
	cat >"$d/post.lua" <<EOL
local f = io.open("$d/req.der", "rb")
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/ocsp-request"
wrk.headers["Authorization"] = "Bearer $tok"
EOL
	cat >"$d/auth.lua" <<EOL
wrk.headers["Authorization"] = "Bearer $tok"
EOL
	# the peer: openssl ocsp, one process, a responder key in a file
	local oc=$d/openssl-ca
	openssl_ca "$oc"
	openssl req -new -newkey rsa:2048 -nodes -keyout "$oc/r.key" -subj "/CN=peer responder" -out "$oc/r.csr" 2>/dev/null
	printf '[ r ]\nextendedKeyUsage = OCSPSigning\n' >"$oc/r.ext"
	openssl x509 -req -in "$oc/r.csr" -CA "$oc/ca.pem" -CAkey "$oc/ca.key" -CAcreateserial -days 30 -extfile "$oc/r.ext" -extensions r -out "$oc/r.pem" 2>/dev/null
	openssl req -new -newkey rsa:2048 -nodes -keyout "$oc/u.key" -subj "/CN=resident-0" -out "$oc/u.csr" 2>/dev/null
	openssl ca -batch -config "$oc/ca.cnf" -notext -in "$oc/u.csr" -out "$oc/u.pem" 2>/dev/null
	openssl ocsp -issuer "$oc/ca.pem" -cert "$oc/u.pem" -no_nonce -reqout "$d/req-peer.der" >/dev/null 2>&1
	local p2; p2=$(free_port)
	openssl ocsp -index "$oc/index.txt" -port "$p2" -rsigner "$oc/r.pem" -rkey "$oc/r.key" -CA "$oc/ca.pem" -ndays 1 >"$d/ossl-ocsp.log" 2>&1 &
	local opid=$!
	cat >"$d/post-peer.lua" <<EOL
local f = io.open("$d/req-peer.der", "rb")
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/ocsp-request"
EOL
	# nginx serving one pre-signed response and the same CRL file
	local p3; p3=$(free_port)
	mkdir -p "$d/nginx/www"
	curl -s -H "Authorization: Bearer $tok" --data-binary @"$d/req.der" -H 'Content-Type: application/ocsp-request' "http://127.0.0.1:$p1/ocsp" -o "$d/nginx/www/resp.der"
	cp "$d/repo/crl/431010.crl" "$d/nginx/www/431010.crl"
	cat >"$d/nginx/nginx.conf" <<EOC
worker_processes $CORES;
pid $d/nginx/nginx.pid;
error_log $d/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	types { application/ocsp-response der; application/pkix-crl crl; }
	server { listen 127.0.0.1:$p3; root $d/nginx/www; }
}
EOC
	nginx -c "$d/nginx/nginx.conf" -p "$d/nginx"
	sleep 1
	local h o n
	echo "   64 connections, 2 wrk threads, 10 s each; p99 latency in brackets"
	h=$(wrk_run "http://127.0.0.1:$p1/ocsp" 10 64 "$d/post.lua")
	printf '%-58s %8s req/s  [p99 %s]\n' "wrk: hanko-online serve, OCSP POST (pre-signed)" $h
	n=$(wrk_run "http://127.0.0.1:$p3/resp.der" 10 64)
	printf '%-58s %8s req/s  [p99 %s]\n' "wrk: nginx, one pre-signed response as a file (GET)" $n
	local ha oa
	ha=$(ab_run "http://127.0.0.1:$p1/ocsp" 10 64 "$d/req.der" "Authorization: Bearer $tok")
	printf '%-58s %8s req/s  [p99 %s]\n' "ab: hanko-online serve, OCSP POST (pre-signed)" $ha
	oa=$(ab_run "http://127.0.0.1:$p2/" 10 64 "$d/req-peer.der")
	printf '%-58s %8s req/s  [p99 %s]\n' "ab: openssl ocsp responder (one process, signs each)" $oa
	printf '%-58s %8.1fx openssl ocsp (hanko by wrk, openssl by ab), %.1fx (ab for both), %.2f of nginx (wrk)\n' "hanko OCSP" "$(awk -v a="${h%% *}" -v b="${oa%% *}" 'BEGIN{print (b>0)?a/b:0}')" "$(awk -v a="${ha%% *}" -v b="${oa%% *}" 'BEGIN{print (b>0)?a/b:0}')" "$(awk -v a="${h%% *}" -v b="${n%% *}" 'BEGIN{print (b>0)?a/b:0}')"
	h=$(wrk_run "http://127.0.0.1:$p1/crl/431010.crl" 10 64 "$d/auth.lua")
	printf '%-58s %8s req/s  [p99 %s]\n' "hanko-online serve: a partition CRL (registered)" $h
	n=$(wrk_run "http://127.0.0.1:$p3/431010.crl" 10 64)
	printf '%-58s %8s req/s  [p99 %s]\n' "nginx: the same CRL file" $n
	printf '%-58s %8.2f of nginx\n' "hanko CRL serving" "$(awk -v a="${h%% *}" -v b="${n%% *}" 'BEGIN{print (b>0)?a/b:0}')"
	# a bare TCP connection that sends nothing
	local stall
	for port in "$p1" "$p2"; do
		python3 - "$port" <<'EOP' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(12)
EOP
		local idle=$!
		sleep 0.5
		if [ "$port" = "$p1" ]; then
			if stall=$(curl -s -o /dev/null -m 8 -w '%{time_total}' -H "Authorization: Bearer $tok" --data-binary @"$d/req.der" -H 'Content-Type: application/ocsp-request' "http://127.0.0.1:$p1/ocsp"); then
				printf '%-58s %s s\n' "hanko: OCSP answer while an idle connection is open" "$stall"
			else
				printf '%-58s %s\n' "hanko: OCSP answer while an idle connection is open" "none within 8 s (stalled)"
			fi
		else
			if stall=$(curl -s -o /dev/null -m 8 -w '%{time_total}' --data-binary @"$d/req-peer.der" -H 'Content-Type: application/ocsp-request' "http://127.0.0.1:$p2/"); then
				printf '%-58s %s s\n' "openssl ocsp: answer while an idle connection is open" "$stall"
			else
				printf '%-58s %s\n' "openssl ocsp: answer while an idle connection is open" "none within 8 s (stalled)"
			fi
		fi
		kill "$idle" 2>/dev/null; wait "$idle" 2>/dev/null
	done
	kill "$spid" "$opid" 2>/dev/null
	nginx -c "$d/nginx/nginx.conf" -p "$d/nginx" -s stop 2>/dev/null
	wait 2>/dev/null
}

case $what in
issue) bench_issue ;;
publish) bench_publish ;;
serve) bench_serve ;;
all) bench_issue; bench_publish; bench_serve ;;
*) echo "usage: bench/run.sh [issue|publish|serve|all]" >&2; exit 2 ;;
esac

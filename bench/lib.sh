# lib.sh - sourced by bench/run.sh: the set-up shared by the benchmarks.
# A Release build in $BB, a rehearsal publisher made exactly as the tests
# make one (test/data/online/setup.sh), batches of requests, and the
# `openssl ca` peer with a file key.

# The test helpers expect these names.
export HANKO_SRC=$top
export HANKO_OFFLINE=$BB/offline/hanko-offline
export HANKO_ONLINE=$BB/online/hanko-online
OFF=$HANKO_OFFLINE
ON=$HANKO_ONLINE
PROFILE=$top/ceremony-scripts/profile-kumamoto.yaml

# mkbatch FILE N PREFIX KEYDIR: N valid requests (docs/requests.md) over four
# municipalities, resident ids PREFIX (5 digits) + 000000..N-1, keys KEYDIR/k-<i%16>.pub.pem
# (relative to the batch file).
mkbatch() {
	local f=$1 n=$2 base=$3 kd=$4
	if [ ! -f "$kd/k-15.pub.pem" ]; then
		mkdir -p "$kd"
		for i in $(seq 0 15); do
			openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
				2>/dev/null | openssl pkey -pubout -out "$kd/k-$i.pub.pem"
		done
	fi
	awk -v n="$n" -v base="$base" -v kd="$(basename "$kd")" 'BEGIN {
		print "municipality,resident_id,name,name_flags,birth,gender,address,address_flags,key"
		t[0] = "431010,%s%06d,熊本　太郎,00000,319750301,1,熊本県熊本市中央区水前寺６丁目１８番１号,00000000000000000000,%s/k-%d.pub.pem"
		t[1] = "432024,%s%06d,八代　花子,00000,419900815,2,熊本県八代市松江城町１番２５号,000000000000000,%s/k-%d.pub.pem"
		t[2] = "432148,%s%06d,高木　一郎,10000,520200101,1,熊本県阿蘇市一の宮町宮地５０４番地,00000000000000000,%s/k-%d.pub.pem"
		t[3] = "432105,%s%06d,鷗外　丂,0000,019500000,3,熊本県菊池市隈府８８８番地,0000000000000,%s/k-%d.pub.pem"
		for (i = 0; i < n; i++)
			printf t[i % 4] "\n", base, i, kd, i % 16
	}' >"$f"
}

# openssl_ca DIR: a CA for `openssl ca` with an RSA-2048 file key and
# user-certificate extensions like ours (3 years, SHA-256).
openssl_ca() {
	local d=$1
	mkdir -p "$d/newcerts"
	: >"$d/index.txt"
	echo 1000 >"$d/serial"
	cat >"$d/ca.cnf" <<EOC
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $d
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
serial = \$dir/serial
default_md = sha256
default_days = 1095
default_crl_hours = 72
policy = policy_any
unique_subject = no
copy_extensions = none
x509_extensions = usr
crl_extensions = crl_ext
[ policy_any ]
commonName = supplied
[ usr ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://repo.example.jp/crl/431010.crl
certificatePolicies = 1.2.392.200149.8.5.1.0.10
[ crl_ext ]
authorityKeyIdentifier = keyid
EOC
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" \
		-subj "/C=JP/O=JPKI/CN=openssl ca peer" -days 3650 \
		-out "$d/ca.pem" 2>/dev/null
}

# secs CMD...: run CMD, print the elapsed seconds (to 3 decimals) on fd 3.
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@"
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }' >&3
}

# cpu CMD...: run CMD, print "elapsed user+sys" seconds on fd 3 (elapsed
# to 3 decimals as secs; CPU from GNU time, to 2).
cpu() {
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S' -o "$BT/cpu.out" "$@"
	t1=$(date +%s.%N)
	echo "$t0 $t1 $(tail -1 "$BT/cpu.out")" | awk '{ printf "%.3f %.2f\n", $2 - $1, $3 + $4 }' >&3
}

# peak_kb CMD...: run CMD under GNU time, print its peak RSS in KiB on fd 3.
peak_kb() {
	/usr/bin/time -f '%M' -o "$BT/time.out" "$@"
	cat "$BT/time.out" >&3
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

# first_cert OUT: the first certificate of OUT/results.csv (hanko-online
# issue: "<line>,ok,<serial>,<base64 DER>") as OUT/first.der; prints its path.
first_cert() {
	awk -F, '$2 == "ok" { print $4; exit }' "$1/results.csv" | base64 -d >"$1/first.der"
	echo "$1/first.der"
}

# line_cert OUT LINE: the certificate of request line LINE in
# OUT/results.csv as OUT/line-LINE.der; prints its path.
line_cert() {
	awk -F, -v l="$2" '$1 == l && $2 == "ok" { print $4; exit }' "$1/results.csv" | base64 -d >"$1/line-$2.der"
	echo "$1/line-$2.der"
}

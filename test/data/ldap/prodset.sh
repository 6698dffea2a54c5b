# prodset.sh - sourced by t_online_ldap.sh: a repository set in production
# naming (no rehearsal marker), made with openssl alone, for what a
# rehearsal publisher cannot show: the partition entries named CN=...
# CRLDP (objectClass cRLDistributionPoint), two root generations with
# their link certificates, and a CertificatePair.
#
# manifest DIR: DIR/MANIFEST as docs/repository.md says (sorted by path;
# CRLs with thisUpdate, nextUpdate and number, read with openssl).
manifest() {
	local d=$1 f
	(cd "$d" && find . -type f ! -name MANIFEST | sed 's|^\./||' | LC_ALL=C sort |
	while read -r f; do
		printf '%s %s %s' "$(sha256sum "$f" | cut -c1-64)" "$(stat -c %s "$f")" "$f"
		case $f in
		*.crl)
			num=$(openssl crl -inform DER -in "$f" -noout -crlnumber | cut -d= -f2)
			printf ' %s %s %d' \
				"$(date -u -d "$(openssl crl -inform DER -in "$f" -noout -lastupdate | cut -d= -f2)" +%FT%TZ)" \
				"$(date -u -d "$(openssl crl -inform DER -in "$f" -noout -nextupdate | cut -d= -f2)" +%FT%TZ)" \
				"$((num))" ;;
		esac
		echo
	done) >"$d/MANIFEST"
}

# gencrl WORK KEY CERT OUT [PARTITION-CN]: a CRL by openssl ca, with a
# critical issuingDistributionPoint naming the partition DN when given.
gencrl() {
	local w=$1 key=$2 cert=$3 out=$4 cn=${5:-}
	: >"$w/index.txt"
	echo 01 >"$w/crlnumber"
	{
		printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\n' "$w"
		printf 'crlnumber = %s/crlnumber\ndefault_md = sha256\n' "$w"
		printf 'default_crl_hours = 72\n'
		if [ -n "$cn" ]; then
			printf 'crl_extensions = ext\n[ext]\n'
			printf 'issuingDistributionPoint = critical, @idp\n'
			printf '[idp]\nfullname = dirName:part\nonlyuser = TRUE\n'
			printf '[part]\nC = JP\nO = JPKI\nOU = Kumamoto-ken\n'
			printf '1.OU = CRL Distribution Points\nCN = %s\n' "$cn"
		fi
	} >"$w/ca.cnf"
	openssl ca -gencrl -config "$w/ca.cnf" -keyfile "$key" -cert "$cert" \
		-out "$w/crl.pem" 2>/dev/null
	openssl crl -in "$w/crl.pem" -outform DER -out "$out"
}

# certpair FORWARD.der REVERSE.der: CertificatePair ::= SEQUENCE {
# forward [0] EXPLICIT, reverse [1] EXPLICIT } (RFC 4523 2.6), DER.
certpair() {
	python3 - "$1" "$2" <<'EOF'
import sys
def tlv(tag, body):
    n = len(body)
    if n < 128:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body
fw = open(sys.argv[1], "rb").read()
rv = open(sys.argv[2], "rb").read()
sys.stdout.buffer.write(tlv(0x30, tlv(0xa0, fw) + tlv(0xa1, rv)))
EOF
}

# prod_set DIR: DIR -> DIR.sets/1 (the link publish makes), the work files
# in DIR.work (r1/r2: root generations, iss: issuing CA, bca: a bridge).
prod_set() {
	local d=$1 w=$1.work s=$1.sets/1 n
	local RDN="/C=JP/O=JPKI/OU=Kumamoto-ken/OU=Governor of Kumamoto Prefecture"
	local CA=(-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign")
	mkdir -p "$w" "$s/root" "$s/issuing" "$s/cross" "$s/crl"
	printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$w/ca.ext"
	for n in r1 r2 bca; do
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$w/$n.key" -days 3650 \
			-subj "$([ $n = bca ] && echo "/C=JP/O=Bridge/CN=Test Bridge CA" || echo "$RDN")" \
			"${CA[@]}" -out "$w/$n.pem" 2>/dev/null
		openssl x509 -x509toreq -in "$w/$n.pem" -signkey "$w/$n.key" -out "$w/$n.csr" 2>/dev/null
	done
	# signed SIGNER SUBJECT-CSR OUT: a CA certificate
	signed() {
		openssl x509 -req -in "$w/$2.csr" -CA "$w/$1.pem" -CAkey "$w/$1.key" \
			-set_serial "0x$(openssl rand -hex 16)" -days 1000 -extfile "$w/ca.ext" \
			-outform DER -out "$3" 2>/dev/null
	}
	openssl x509 -in "$w/r1.pem" -outform DER -out "$s/root/gen-1.cer"
	openssl x509 -in "$w/r2.pem" -outform DER -out "$s/root/gen-2.cer"
	signed r2 r1 "$s/root/link-2-oldwithnew.cer"
	signed r1 r2 "$s/root/link-2-newwithold.cer"
	openssl req -new -newkey rsa:2048 -nodes -keyout "$w/iss.key" \
		-subj "/C=JP/O=JPKI/OU=Kumamoto-ken/OU=Issuing CA 1" -out "$w/iss.csr" 2>/dev/null
	signed r2 iss "$s/issuing/issuing-1.cer"
	openssl x509 -inform DER -in "$s/issuing/issuing-1.cer" -out "$w/iss.pem"
	signed bca r2 "$w/forward.der"
	signed r2 bca "$w/reverse.der"
	certpair "$w/forward.der" "$w/reverse.der" >"$s/cross/pair-0123456789abcdef.der"
	gencrl "$w" "$w/r2.key" "$w/r2.pem" "$s/arl.crl"
	gencrl "$w" "$w/iss.key" "$w/iss.pem" "$s/crl/431010.crl" "Kumamoto-shi Chuo-ku CRLDP"
	gencrl "$w" "$w/iss.key" "$w/iss.pem" "$s/crl/432024.crl" "Yatsushiro-shi CRLDP"
	manifest "$s"
	ln -s "$(basename "$d").sets/1" "$d"
}

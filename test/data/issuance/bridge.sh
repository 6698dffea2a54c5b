# bridge.sh - the toy bridge CA (個人認証BCA) of the cross-certification
# tests, sourced after $T is set: BCA (its DN), $T/ca.ext (the extensions
# of a cross certificate), bridge N (bca-N.key, its self-signed anchor
# bca-N.pem and its request bca-N.csr with .sha256) and forward CERT N OUT
# (bridge N certifies CERT's subject and key, openssl ca -ss_cert, valid
# from the root's first day for 5 years; OUT and OUT.sha256).
BCA="/C=JP/O=JPKI/OU=Bridge CA"
cat >"$T/ca.ext" <<EXT
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
certificatePolicies = $POLICY_TEST
EXT
# bridge N: the toy bridge CA's key, self-signed anchor and request (bca-N.*)
bridge() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/bca-$1.key" -subj "$BCA" -days 3650 \
		-addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$T/bca-$1.pem" 2>/dev/null
	openssl req -new -key "$T/bca-$1.key" -subj "$BCA" -out "$T/bca-$1.csr"
	openssl req -in "$T/bca-$1.csr" -outform DER | sha256sum | cut -c1-64 >"$T/bca-$1.csr.sha256"
}
# forward SELF-SIGNED-CERT N OUT: the bridge N certifies its subject and key
# (openssl ca -ss_cert), valid from the root's first day for 5 years
forward() {
	local d=$T/ca-db-$RANDOM
	mkdir -p "$d"; : >"$d/index.txt"; openssl rand -hex 16 >"$d/serial"
	cat >"$d/ca.cnf" <<CNF
[ca]
default_ca = toy
[toy]
database = $d/index.txt
new_certs_dir = $d
serial = $d/serial
default_md = sha256
policy = any
unique_subject = no
[any]
countryName = optional
organizationName = optional
organizationalUnitName = optional
CNF
	openssl ca -batch -config "$d/ca.cnf" -ss_cert "$1" -cert "$T/bca-$2.pem" -keyfile "$T/bca-$2.key" \
		-create_serial -preserveDN -notext -startdate 20260401000000Z -enddate 20310331235959Z \
		-extfile "$T/ca.ext" -out "$d/out.pem" >/dev/null 2>&1
	openssl x509 -in "$d/out.pem" -outform DER -out "$3"
	sha256sum <"$3" | cut -c1-64 >"$3.sha256"
}

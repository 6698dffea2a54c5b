# bridge.sh - the toy bridge CA (個人認証BCA) of the cross-certification
# tests, sourced after $T is set: BCA (its DN), bridge N (bca-N.key, its
# self-signed anchor bca-N.pem and its request bca-N.csr with .sha256) and
# forward CERT N OUT (bridge N certifies CERT's subject and key, openssl ca
# -ss_cert; OUT and OUT.sha256). The anchor is valid from BDAY for 10
# years, a certificate for us from BDAY for 5 years; BDAY (YYYY-MM-DD) is
# by default the root's first day, 2026-04-01. The openssl ca
# configuration and the extensions (cross: a cross certificate with
# POLICY_TEST; anchor) are scripts/toy-ca.cnf, which scripts/demo.sh reads
# too.
BDAY=${BDAY:-2026-04-01}
BCA="/C=JP/O=JPKI/OU=Bridge CA"
# toy_ca: a fresh openssl ca database; prints its folder (TOY_CA_DIR)
toy_ca() {
	local d=$T/ca-db-$RANDOM
	mkdir -p "$d"; : >"$d/index.txt"; openssl rand -hex 16 >"$d/serial"
	echo "$d"
}
# toy_ca_run DIR ARGS...: openssl ca -batch on the database DIR
toy_ca_run() {
	TOY_CA_DIR=$1 openssl ca -batch -config "$HANKO_SRC/scripts/toy-ca.cnf" "${@:2}"
}
# years N: BDAY + N years - 1 second (openssl ca -enddate)
years() { date -u -d "$BDAY 00:00:00 UTC + $1 years - 1 second" +%Y%m%d%H%M%SZ; }
# bridge N: the toy bridge CA's key, self-signed anchor and request (bca-N.*)
bridge() {
	local d; d=$(toy_ca)
	openssl req -new -newkey rsa:2048 -nodes -keyout "$T/bca-$1.key" -subj "$BCA" \
		-out "$T/bca-$1.csr" 2>/dev/null
	openssl req -in "$T/bca-$1.csr" -outform DER | sha256sum | cut -c1-64 >"$T/bca-$1.csr.sha256"
	toy_ca_run "$d" -selfsign -keyfile "$T/bca-$1.key" -in "$T/bca-$1.csr" \
		-preserveDN -notext -startdate "$(date -u -d "$BDAY" +%Y%m%d)000000Z" -enddate "$(years 10)" \
		-extensions anchor -out "$T/bca-$1.pem" >/dev/null 2>&1
}
# forward SELF-SIGNED-CERT N OUT [EXTFILE]: the bridge N certifies its
# subject and key (openssl ca -ss_cert), valid from BDAY for 5 years, with
# the extensions of toy-ca.cnf's cross section or of EXTFILE's [x] section
forward() {
	local d ext=(-extensions cross); d=$(toy_ca)
	[ -z "${4:-}" ] || ext=(-extfile "$4" -extensions x)
	toy_ca_run "$d" -ss_cert "$1" -cert "$T/bca-$2.pem" -keyfile "$T/bca-$2.key" \
		-create_serial -preserveDN -notext -startdate "$(date -u -d "$BDAY" +%Y%m%d)000000Z" \
		-enddate "$(years 5)" "${ext[@]}" -out "$d/out.pem" >/dev/null 2>&1
	openssl x509 -in "$d/out.pem" -outform DER -out "$3"
	sha256sum <"$3" | cut -c1-64 >"$3.sha256"
}

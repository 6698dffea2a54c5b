# setup.sh - sourced after lib.sh and test/data/issuance/setup.sh by the
# tests of hanko-online that need a working publisher: a rehearsal root
# (init-root), an online state whose issuing CA the root certified
# (issue-subca) and which trusts the root and imported that certificate.
#
# make_online DIR [DAY]: sets S (offline state), R (root PEM), O (online
# state), FP (root SHA-256), ISS (issuing CA PEM), REQ (sample requests
# folder), IC (the --clock of issuance: 2026-04-02T12:00:00Z). Every step
# has its --clock: the root made on 2026-04-01 (make_rooted_ca), the online
# state at 2026-04-02T00:00:00Z, issue-subca at 09:00, the bundle at 10:00,
# trust and import at 11:00. With DAY (YYYY-MM-DD) the same on DAY and the
# day before, for what runs at the real clock (the bench, serve at today's
# time: a DAY before today, so that every step is in the past).
#
# make_online_gen2 DIR [DAY]: after make_online DIR (or the same steps:
# $O, $S, $SH, $OPS), the issuing key's rollover to generation 2 as
# t_online_request.sh does it, on DAY (YYYY-MM-DD, default 2026-04-03): the
# generation-2 CSR as a bundle signed by issuing CA 1 (request at
# DAYT09:00:00Z), imported offline, certified by the issue-subca ceremony
# (09:30), carried back as a root-signed bundle (10:00) and imported online
# (11:00; its output in DIR/import-iss2.out). Sets ISS2 (issuing CA 2 PEM)
# and IC2 (a --clock of issuance under generation 2: DAYT12:00:00Z). Returns
# 1 at the first step that fails.
ON=${ON:-$HANKO_ONLINE}
make_online() {
	local d=$1 day=${2:-2026-04-02}
	make_rooted_ca "$d/ca" "$(date -u -d "$day - 1 day" +%F)"
	O=$d/online
	REQ=$HANKO_SRC/test/data/requests
	IC=(--clock "${day}T12:00:00Z")
	"$ON" init --state "$O" --profile "$PROFILE" --rehearsal \
		--clock "${day}T00:00:00Z" >/dev/null
	issue_subca "$O/certs/issuing-1.csr.pem" "$O/certs/issuing-1.csr.sha256" \
		"${day}T09:00:00Z" >/dev/null
	"$OFF" bundle create --state "$S" --clock "${day}T10:00:00Z" \
		--type issuing-ca-cert --out "$d/b-iss" "${SH[@]}" \
		"$S/certs/issuing-1.der" >/dev/null
	FP=$(openssl x509 -in "$R" -outform DER | sha256sum | cut -c1-64)
	"$ON" trust --state "$O" --clock "${day}T11:00:00Z" \
		--fingerprint "$FP" "$R" >/dev/null
	"$ON" import --state "$O" --clock "${day}T11:00:00Z" "$d/b-iss" \
		>/dev/null
	ISS=$d/issuing.pem
	openssl x509 -in "$S/certs/issuing-1.der" -inform DER -out "$ISS"
}

make_online_gen2() {
	local d=$1 day=${2:-2026-04-03}
	"$ON" request --state "$O" --clock "${day}T09:00:00Z" --type csr \
		--out "$d/r-csr2" >/dev/null || return 1
	"$OFF" bundle import --state "$S" --clock "${day}T09:00:00Z" \
		--type csr --into "$d/in-csr2" "$d/r-csr2" >/dev/null || return 1
	issue_subca "$d/in-csr2/issuing-2.csr.der" "$d/in-csr2/issuing-2.csr.sha256" \
		"${day}T09:30:00Z" >/dev/null || return 1
	"$OFF" bundle create --state "$S" --clock "${day}T10:00:00Z" \
		--type issuing-ca-cert --out "$d/b-iss2" "${SH[@]}" \
		"$S/certs/issuing-2.der" >/dev/null || return 1
	"$ON" import --state "$O" --clock "${day}T11:00:00Z" "$d/b-iss2" \
		>"$d/import-iss2.out" || return 1
	ISS2=$d/issuing-2.pem
	IC2=(--clock "${day}T12:00:00Z")
	openssl x509 -in "$S/certs/issuing-2.der" -inform DER -out "$ISS2" ||
		return 1
}

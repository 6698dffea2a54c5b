# setup.sh - sourced after lib.sh and test/data/issuance/setup.sh by the
# tests of hanko-online that need a working publisher: a rehearsal root
# (init-root), an online state whose issuing CA the root certified
# (issue-subca) and which trusts the root and imported that certificate.
#
# make_online DIR: sets S (offline state), R (root PEM), O (online state),
# FP (root SHA-256), ISS (issuing CA PEM), REQ (sample requests folder),
# IC (the --clock of issuance: 2026-04-02T12:00:00Z).
ON=${ON:-$HANKO_ONLINE}
make_online() {
	local d=$1
	make_rooted_ca "$d/ca"
	O=$d/online
	REQ=$HANKO_SRC/test/data/requests
	IC=(--clock 2026-04-02T12:00:00Z)
	"$ON" init --state "$O" --profile "$PROFILE" --rehearsal \
		--clock 2026-04-02T00:00:00Z >/dev/null
	"$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/issue-subca.yaml" \
		--state "$S" --clock "$CLOCK" --confirm-digests \
		--input "issuing-csr=$O/certs/issuing-1.csr.pem" \
		--input "issuing-csr-sha256=$O/certs/issuing-1.csr.sha256" \
		"${SH[@]}" "${OPS[@]}" >/dev/null
	"$OFF" bundle create --state "$S" --clock 2026-04-02T10:00:00Z \
		--type issuing-ca-cert --out "$d/b-iss" "${SH[@]}" \
		"$S/certs/issuing-1.der" >/dev/null
	FP=$(openssl x509 -in "$R" -outform DER | sha256sum | cut -c1-64)
	"$ON" trust --state "$O" --fingerprint "$FP" "$R" >/dev/null
	"$ON" import --state "$O" "$d/b-iss" >/dev/null
	ISS=$d/issuing.pem
	openssl x509 -in "$S/certs/issuing-1.der" -inform DER -out "$ISS"
}

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
#
# With $T set (the test's folder), after make_online:
# req_dir DIR [LAST]: DIR with the sample requests' keys (keys/, as the
# batches name them) and, with LAST, DIR/batch.csv: lines 1 to LAST of
# valid.csv (the header and the residents of lines 2 to LAST).
# six_residents FILE: FILE, a batch of the six residents valid.csv began
# with (it grows; these stay), in a folder made by req_dir.
# arl_batch N CLOCK: the root's ARLs 1 to N made by the arl-batch ceremony
# (arl-batch.yaml with count N, $T/arl-batch.yaml) at CLOCK.
# arl_bundle N CLOCK: ARLs 1 to N in an arl-batch bundle, $T/b-arl, made at
# CLOCK.
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

req_dir() {
	mkdir -p "$1" && cp -r "$REQ/keys" "$1/" || return
	[ -z "${2:-}" ] || sed -n "1,$2p" "$REQ/valid.csv" >"$1/batch.csv"
}

six_residents() {
	cat >"$1" <<'CSV'
municipality,resident_id,name,name_flags,birth,gender,address,address_flags,key
431010,12345678901,熊本　太郎,00000,319750301,1,熊本県熊本市中央区水前寺６丁目１８番１号,00000000000000000000,keys/resident-1.pub.pem
432024,20000000002,八代　花子,00000,419900815,2,熊本県八代市松江城町１番２５号,000000000000000,keys/resident-2.pub.pem
432148,30000000003,高木　一郎,10000,520200101,1,熊本県阿蘇市一の宮町宮地５０４番地,00000000000000000,keys/resident-3.pub.pem
432105,40000000004,鷗外　丂,0000,019500000,3,熊本県菊池市隈府８８８番地,0000000000000,keys/resident-4.pub.pem
431028,50000000005,スミス　ジョン　山田　ジョン,00000000000000,319800101,1,熊本県熊本市東区東町４丁目１１番１号,000000000000000000,keys/resident-5.pub.pem
432032,60000000006,人吉　崎子,00010,119101231,2,熊本県人吉市麓町１６番地,000000000000,keys/resident-6.csr.pem
CSV
}

arl_batch() {
	sed "s/count: 35/count: $1/" "$HANKO_SRC/ceremony-scripts/arl-batch.yaml" >"$T/arl-batch.yaml"
	"$OFF" ceremony run "$T/arl-batch.yaml" --state "$S" --clock "$2" --confirm-digests \
		"${SH[@]}" "${OPS[@]}"
}

arl_bundle() {
	local i arls=()
	for i in $(seq "$1"); do arls+=("$S/certs/arl/arl-$i.crl"); done
	"$OFF" bundle create --state "$S" --clock "$2" --type arl-batch --out "$T/b-arl" \
		"${SH[@]}" "${arls[@]}"
}

# published_base CMD...: the base the fault sweep and the lost-record test
# build on, under $O with its requests in $B: responder 1, the ARLs 1-10
# (ceremony, then their bundle $T/b-arl), CMD... run on the state before
# the ARLs are imported, the import, six residents issued ($T/out1) and
# published into $P; S2 and S3 their lines 2 and 3's serials.
published_base() {
	six_residents "$B/batch1.csv"
	ok "responder 1" "$ON" responder --state "$O" --clock 2026-04-02T13:00:00Z
	ok "arl-batch ceremony: ARLs 1-10" arl_batch 10 2026-04-02T11:00:00Z
	ok "... in a bundle" arl_bundle 10 2026-04-02T11:10:00Z
	"$@"
	ok "import the ARLs" "$ON" import --state "$O" --clock 2026-04-02T13:10:00Z "$T/b-arl"
	ok "issue six residents" "$ON" issue --state "$O" --clock 2026-04-02T13:20:00Z --batch "$B/batch1.csv" --out "$T/out1"
	ok "publish" "$ON" publish --state "$O" --repo "$P" --clock 2026-04-02T13:30:00Z
	S2=$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/out1/results.csv")
	S3=$(sed -n 's/^3,ok,\([0-9A-F]*\),.*/\1/p' "$T/out1/results.csv")
}

# long_dir BASE: a folder made under BASE whose path is at least 400
# characters (a CI checkout's depth and more; SQLite takes a store.db path
# of at most 512), on stdout: messages naming the state's files must not
# lose their ends.
long_dir() {
	local d=$1
	while [ ${#d} -lt 400 ]; do d=$d/ci-runner-workspace-checkout-$((${#d} % 97))-abcdefghijklmnopqrstuvwxyz; done
	mkdir -p "$d" && echo "$d"
}

# OCSP7: SQL that makes a store's ocsp_responses the table schemas 6 and 7
# had (no column responder, docs/store.md "Schema versions"), for the tests
# of the upgrade and of older backups.
OCSP7="DROP TABLE ocsp_responses; CREATE TABLE ocsp_responses (
  serial BLOB PRIMARY KEY REFERENCES serials(serial),
  status TEXT NOT NULL CHECK (status IN ('good', 'revoked')),
  this_update INTEGER NOT NULL,
  next_update INTEGER NOT NULL CHECK (next_update > this_update),
  der BLOB NOT NULL
) STRICT;"

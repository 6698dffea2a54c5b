# setup.sh - sourced by t_ceremony_subca.sh, t_ceremony_responders.sh and
# t_ceremony_cross.sh after lib.sh: a rehearsal CA with its root made by the
# init-root ceremony, the operators' passphrases and helpers.
export HK_PASS_watanabe='Shimabara bay ferry 7 gulls'
export HK_PASS_ito='Yatsushiro rush mats 54 weave'
export HK_PASS_kimura='Minamata hills tea 3 harvest'
OPS=(--operator watanabe=env:HK_PASS_watanabe --operator ito=env:HK_PASS_ito
	--operator kimura=env:HK_PASS_kimura)
SOFT=/usr/lib/softhsm/libsofthsm2.so
CLOCK=2026-04-02T09:00:00Z
POLICY_TEST=1.2.392.200149.8.5.1.0.10

# make_rooted_ca DIR [DAY]: make_ca, passphrases, approval, init-root (real
# run on the rehearsal state) on DAY (YYYY-MM-DD, default 2026-04-01: the
# state at 00:00:00Z, the root at 10:00:00Z); S, R (root PEM) and SH (share
# arguments) set.
make_rooted_ca() {
	local day=${2:-2026-04-01}
	make_ca "$1" "${day}T00:00:00Z"
	S=$1/state
	for p in watanabe ito kimura; do
		"$OFF" roster set-passphrase --state "$S" --person "$p" \
			--passin "env:HK_PASS_$p" --kdf interactive >/dev/null
	done
	"$OFF" roster approve --state "$S" --manager kimura --passin env:HK_PASS_kimura >/dev/null
	mapfile -t SH < <(share_args "$1" 2 4 5)
	"$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/init-root.yaml" --state "$S" \
		--clock "${day}T10:00:00Z" --confirm-digests "${SH[@]}" "${OPS[@]}" >/dev/null
	R=$S/certs/root-1.pem
}

# csr KEYBITS SUBJECT OUT: a PKCS#10 request (PEM) and its key OUT.key;
# OUT.sha256 holds the SHA-256 of the DER as the requester shows it.
csr() {
	openssl req -new -newkey "rsa:$1" -nodes -keyout "$3.key" -subj "$2" \
		-out "$3" 2>/dev/null
	openssl req -in "$3" -outform DER | sha256sum | cut -c1-64 >"$3.sha256"
}

# no_key_use STATE: the token was never logged in (no quorum.activate record
# of the last run: the refusal came before the token).
last_run_no_token() {
	! tac "$1/audit/audit.log" | sed '/	ceremony.start	/q' | grep -q "	share.open	\|	cert.sign	"
}

# kept_copy FILE: the rehearsal copy printed by --keep-rehearsal.
kept_copy() { sed -n 's/^Rehearsal state kept: //p' "$1"; }

# setup.sh - sourced after lib.sh by the tests that start from a root
# (t_ceremony_subca.sh, _responders, _cross, _arl, _compromise, _rollover,
# the online tests, bench/run.sh): a rehearsal CA with its root made by the
# init-root ceremony, the operators' passphrases (operators) and helpers.
operators
CLOCK=2026-04-02T09:00:00Z
POLICY_TEST=1.2.392.200149.8.5.1.0.10

# make_rooted_ca DIR [DAY]: make_ca, passphrases, approval, init-root (real
# run on the rehearsal state) on DAY (YYYY-MM-DD, default 2026-04-01: the
# state at 00:00:00Z, the root at 10:00:00Z); S, R (root PEM) and SH (share
# arguments) set. Returns 1 at the first step that fails (ok "init-root"
# make_rooted_ca DIR checks them all).
make_rooted_ca() {
	local day=${2:-2026-04-01}
	make_ca "$1" "${day}T00:00:00Z" || return 1
	S=$1/state
	approve_roster "$S" watanabe ito kimura || return 1
	mapfile -t SH < <(share_args "$1" 2 4 5)
	R=$S/certs/root-1.pem
	"$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/init-root.yaml" --state "$S" \
		--clock "${day}T10:00:00Z" --confirm-digests "${SH[@]}" "${OPS[@]}" >/dev/null
}

# issue_subca CSR SHA256-FILE [CLOCK]: the issue-subca ceremony on $S
# certifying CSR (PEM or DER), its SHA-256 as the requester read it in
# SHA256-FILE, at CLOCK (default $CLOCK), with $SH and $OPS.
issue_subca() {
	"$OFF" ceremony run "$HANKO_SRC/ceremony-scripts/issue-subca.yaml" --state "$S" \
		--clock "${3:-$CLOCK}" --confirm-digests --input "issuing-csr=$1" \
		--input "issuing-csr-sha256=$2" "${SH[@]}" "${OPS[@]}"
}

# issue_iss1: issuing CA 1 of a key made here ($T/iss1.csr, its key
# iss1.csr.key and SHA-256 iss1.csr.sha256) certified by issue-subca at
# $CLOCK.
issue_iss1() {
	csr 2048 "/C=JP/O=JPKI/OU=Kumamoto-ken/OU=Issuing CA 1/OU=TEST" "$T/iss1.csr" &&
		issue_subca "$T/iss1.csr" "$T/iss1.csr.sha256"
}

# serial_of FILE: the serial issued.txt of $S registers for FILE (certs/...).
serial_of() { grep -v '^#' "$S/issued.txt" | awk -F'\t' -v f="$1" '$6 == f {print $1}'; }

# rollover_yaml GEN OUT: rollover.yaml made to roll over to root GEN (its
# outputs and words of generation 2 renamed), in OUT.
rollover_yaml() {
	sed "s/-2-/-$1-/g; s/root-2\./root-$1./g; s/generation 2/generation $1/" \
		"$HANKO_SRC/ceremony-scripts/rollover.yaml" >"$2"
}

# revoke_yaml SERIAL REASON OUT: revoke.yaml revoking SERIAL for REASON, in
# OUT.
revoke_yaml() {
	sed "s/serial: \"00\"/serial: \"$1\"/; s/reason: superseded/reason: $2/" \
		"$HANKO_SRC/ceremony-scripts/revoke.yaml" >"$3"
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

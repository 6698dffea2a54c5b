#!/usr/bin/env bash
# t_audit_lost.sh - a record the audit log cannot take stops the work
# (CPS 4-11-2; docs/audit-log.md "When an append fails"): on a log whose
# last line was cut, create-root, a ceremony, backup, rotate-shares, destroy
# and restore exit 6 before anything is activated, generated, signed or
# committed, and change nothing; an append made to fail in the middle of a
# run (HANKO_FAIL_AUDIT_AT, rehearsal states only) undoes what was made
# (the key destroyed, the files removed); once the log is whole again the
# same commands succeed.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
operators
make_ca "$T/ca"
S=$T/ca/state
LOG=$S/audit/audit.log
mapfile -t Q < <(share_args "$T/ca" 1 2 3)
approve_roster "$S" watanabe ito kimura
INIT=$HANKO_SRC/ceremony-scripts/init-root.yaml
keys() {
	SOFTHSM2_CONF=$S/token/softhsm2.conf pkcs11-tool --module $SOFT \
		--token-label hanko-root-test --list-objects --type pubkey 2>/dev/null |
		sed -n 's/^ *label: *//p' | sort | tr '\n' ' '
}
no_root() {
	[ ! -e "$S/certs/root-1.der" ] && [ ! -e "$S/certs/root-1.pem" ] &&
		grep -q '^root.generations = 0$' "$S/state.conf" && [ "$(keys)" = "audit-1 " ]
}
# cut / mend: the log's last newline removed (an append then refuses:
# docs/audit-log.md), and put back byte for byte.
cut_log() { truncate -s -1 "$LOG"; CUT=$(sha256sum <"$LOG"); }
mend_log() { printf '\n' >>"$LOG"; }
log_unchanged() { [ "$(sha256sum <"$LOG")" = "$CUT" ]; }

# 1. A log that takes no record: nothing starts.
cut_log
fails "create-root on a log that takes no record" 6 \
	'create-root: audit record root.create.start ok not written: .*audit.log: the last line does not end in a newline' \
	"$OFF" create-root --state "$S" "${Q[@]}"
check "... no key, no certificate, root.generations 0" no_root
check "... the log is as it was" log_unchanged
fails "a real ceremony run on it" 6 'audit record ceremony.start ok not written' \
	"$OFF" ceremony run "$INIT" --state "$S" --confirm-digests "${Q[@]}" "${OPS[@]}"
check "... nothing made" no_root
check "... the log is as it was" log_unchanged
fails "a rehearsal whose record the real log cannot take" 6 \
	'audit record ceremony.rehearsal ok not written' \
	"$OFF" ceremony run "$INIT" --state "$S" --rehearsal --confirm-digests "${Q[@]}" "${OPS[@]}"
check "... no rehearsal copy left" test -z "$(ls -d "$S".rehearsal-* 2>/dev/null)"
mend_log
ok "the mended log verifies" "$OFF" audit verify --state "$S"

# 2. One record lost in the middle of create-root (HANKO_FAIL_AUDIT_AT).
for ev in share.open token.login key.generate cert.sign; do
	fails "create-root when $ev cannot be logged" 6 "audit record $ev ok not written: .*HANKO_FAIL_AUDIT_AT" \
		env HANKO_FAIL_AUDIT_AT=$ev "$OFF" create-root --state "$S" "${Q[@]}"
	check "... no key, no certificate, root.generations 0" no_root
done
check "the key generated was destroyed again, and logged so" \
	grep -q '	key.destroy	ok	yamada,sato,suzuki	root-1 removed' "$LOG"
check "no login after the lost token.login record: none before key.generate" \
	test "$(grep -c '	key.generate	' "$LOG")" = 2
fails "a ceremony whose cert.sign record is lost" 6 'audit record cert.sign ok not written' \
	env HANKO_FAIL_AUDIT_AT=cert.sign "$OFF" ceremony run "$INIT" --state "$S" \
	--confirm-digests "${Q[@]}" "${OPS[@]}"
check "... undone: no key, no certificate" no_root
fails "a ceremony whose step record is lost" 6 'audit record ceremony.step ok not written' \
	env HANKO_FAIL_AUDIT_AT=ceremony.step "$OFF" ceremony run "$INIT" --state "$S" \
	--confirm-digests "${Q[@]}" "${OPS[@]}"
check "... nothing made" no_root
ok "the log verifies" "$OFF" audit verify --state "$S"
ok "with a whole log, create-root succeeds" "$OFF" create-root --state "$S" "${Q[@]}"
check "... root-1 in the token" test "$(keys)" = "audit-1 root-1 "

# 3. The key life-cycle commands on a log that takes no record.
mkdir -p "$T/bk"
state0=$(cd "$S" && sha256sum state.conf quorum.set roster.yaml)
set0=$(cd "$S" && sha256sum quorum.set roster.yaml && grep quorum.set-id state.conf)
cut_log
fails "backup" 6 'audit record key.backup.start ok not written' \
	"$OFF" backup --state "$S" --key root-1 --out "$T/bk/root-1.hkb" "${Q[@]}"
check "... no backup file, no KEK seed" test ! -e "$T/bk/root-1.hkb" -a ! -e "$S/secrets/backup-seed-root-1.sealed"
cp "$S/roster.yaml" "$T/roster-same.yaml"	# the same people: a new set
NEWPASS=()
for km in "${KMS[@]}"; do NEWPASS+=(--passin "$km=env:HK_PASS_$km"); done
fails "rotate-shares" 6 'audit record quorum.rotate.request ok not written' \
	"$OFF" rotate-shares --state "$S" --roster "$T/roster-same.yaml" --media "$T/nm" --kdf interactive \
	"${NEWPASS[@]}" "${Q[@]}"
check "... no new share" test ! -e "$T/nm"
fails "destroy" 6 'audit record key.destroy.request ok not written' \
	"$OFF" destroy --state "$S" --key root-1 --yes-destroy root-1 "${Q[@]}"
check "... root-1 still in the token" test "$(keys)" = "audit-1 root-1 "
fails "restore" 6 'audit record restore.start ok not written' \
	"$OFF" restore --state "$S" --backup "$T/bk/none.hkb" "${Q[@]}"
check "state.conf, quorum.set and roster.yaml unchanged" \
	test "$(cd "$S" && sha256sum state.conf quorum.set roster.yaml)" = "$state0"
check "... and the log" log_unchanged
mend_log

# 4. One record lost in the middle of backup and rotate-shares.
fails "backup whose key.backup record is lost" 6 'audit record key.backup ok not written' \
	env HANKO_FAIL_AUDIT_AT=key.backup "$OFF" backup --state "$S" --key root-1 \
	--out "$T/bk/root-1.hkb" "${Q[@]}"
check "... the backup file was removed" test ! -e "$T/bk/root-1.hkb"
fails "rotate-shares whose share.issue record is lost" 6 'audit record share.issue ok not written' \
	env HANKO_FAIL_AUDIT_AT=share.issue "$OFF" rotate-shares --state "$S" --roster "$T/roster-same.yaml" \
	--media "$T/nm" --kdf interactive "${NEWPASS[@]}" "${Q[@]}"
check "... no new share left, the set unchanged" bash -c \
	"[ -z \"\$(find '$T/nm' -name '*.hks' 2>/dev/null)\" ] && [ ! -e '$S/quorum.set.new' ]"
check "... quorum.set, its id and roster.yaml unchanged (the KEK seed stays)" \
	test "$(cd "$S" && sha256sum quorum.set roster.yaml && grep quorum.set-id state.conf)" = "$set0"
ok "backup with a whole log" "$OFF" backup --state "$S" --key root-1 --out "$T/bk/root-1.hkb" "${Q[@]}"
ok "the audit log verifies" "$OFF" audit verify --state "$S"

# 5. What verify accepts but the auditor must see: a head file one record
# behind (a crash between an append and its head update) and records older
# than the one before them (docs/audit-log.md, Verification).
make_ca "$T/ca3" 2031-01-01T00:00:00Z
S3=$T/ca3/state
cp "$S3/audit/audit.log.head" "$T/head.old"
ok "audit verify of a log made at 2031 adds its record, older than those" \
	"$OFF" audit verify --state "$S3"
cp "$T/head.old" "$S3/audit/audit.log.head"
ok "audit verify with the head file one record behind" "$OFF" audit verify --log "$S3/audit/audit.log"
check "... the time back-step is reported" grep -q '1 record older than the one before it' "$HANKO_TMP/out"
check "... the lag is reported as a crash" grep -q 'head file names the record before the last' "$HANKO_TMP/out"
finish

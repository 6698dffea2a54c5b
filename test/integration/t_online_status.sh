#!/usr/bin/env bash
# t_online_status.sh - hanko-online status (docs/status.md): the facts of
# a state, one a line, and for each that needs attention one line
# "warning: ..." on stderr and exit 9; read-only. A fresh state with
# everything done (ARLs imported, a responder, published, backed up) exits
# 0; then: no backup yet, a backup 27 h old, the CRLs' nextUpdate passed,
# the ARLs running out within 7 days, and on copies of the state (status
# does not open the token, so a copy is read as the state): a pending row
# left by a batch that stopped, a compromise mark, an edited profile.yaml,
# a damaged audit log.
. "$(dirname "$0")/online.sh"
P=$T/repo
st() { "$ON" status --state "$O" --repo "$P" "$@"; }
has() { grep -qxF -- "$1" "$HANKO_TMP/out"; }
# stderr is exactly the lines given
errs() { [ "$(cat "$HANKO_TMP/err")" = "$(printf '%s\n' "$@")" ]; }
# exit RC: run, keeping stdout and stderr
run() { local rc=0; "$@" >"$HANKO_TMP/out" 2>"$HANKO_TMP/err" || rc=$?; echo "$rc" >"$HANKO_TMP/rc"; }
rc() { [ "$(cat "$HANKO_TMP/rc")" = "$1" ]; }
W="hanko-online status: warning:"

# No ARL imported yet: the warning says so (it named 1970-01-01T00:00:00Z).
run st --clock 2026-04-02T11:30:00Z
check "no ARL imported: exit 9, the ARL warning names no time" sh -c "[ '$(cat "$HANKO_TMP/rc")' = 9 ] &&
	grep -qxF '$W CPS 4-4-10: no imported ARL left to release (none imported): hold the arl-batch ceremony and import its bundle' '$HANKO_TMP/err' &&
	! grep -q 1970 '$HANKO_TMP/err' '$HANKO_TMP/out'"

ok "offline: arl-batch of 10 (ARL n from 2026-04-0(1+n)T11:00, 72 h)" arl_batch 10 2026-04-02T11:00:00Z
ok "offline: bundle of ARLs 1..10" arl_bundle 10 2026-04-02T12:00:00Z
ok "import ARLs 1..10" "$ON" import --state "$O" --clock 2026-04-02T12:30:00Z --type arl-batch "$T/b-arl"
ok "responder" "$ON" responder --state "$O" --clock 2026-04-02T12:40:00Z
ok "publish (2026-04-03T03:00)" "$ON" publish --state "$O" --repo "$P" --clock 2026-04-03T03:00:00Z

# No backup yet: the one thing that needs attention.
fails "no backup yet: exit 9, one warning" 9 \
	"^$W CPS 4-11-6, 4-12-2-4: no backup.create ok record in the audit log: run hanko-online backup --state $O --out DIR \(the daily hanko-backup.timer, docs/backup.md\)$" \
	st --clock 2026-04-03T03:30:00Z
check "... and the fact" has "backup: none (no backup.create ok record; CPS 4-11-6, 4-12-2-4)"

ok "backup (2026-04-03T04:00)" "$ON" backup --state "$O" --out "$T/bk1" --clock 2026-04-03T04:00:00Z

# Fresh: exit 0, nothing on stderr, and nothing written.
find "$O" -type f ! -name 'store.db-*' -exec sha256sum {} + | sort >"$T/before"
run st --clock 2026-04-03T05:00:00Z
check "a fresh published state: exit 0, stderr empty" sh -c "[ '$(cat "$HANKO_TMP/rc")' = 0 ] && [ ! -s '$HANKO_TMP/err' ]"
check "... issuing generation 1's certificate, key use, mark, current, runway" sh -c "$(declare -f has); HANKO_TMP=$HANKO_TMP
	has 'issuing: generation 1: certificate notAfter 2031-04-02T08:59:59Z (CPS 6-3-1-2)' &&
	has 'issuing: generation 1: key use ends 2028-04-02T09:00:00Z (the last 3-year certificate; CPS 1-3-2, 6-3-1-2)' &&
	has 'issuing: generation 1: compromise mark: none (state.conf; CPS 4-4-1-3, 4-14-2)' &&
	has 'issuing: token: not opened: its compromise marks need the PIN and status does not log in (hanko-online check compares them with state.conf; CPS 4-14-2)' &&
	has 'issuing: generation 1: current (issue, publish and responder sign with it)' &&
	has 'issuing: 3-year certificates: 730 days left under issuing CA 1, until 2028-04-02T09:00:00Z; then issuance stops (CPS 1-3-2, 6-3-1-2)'"
check "... certificates" sh -c "$(declare -f has); HANKO_TMP=$HANKO_TMP
	has 'certificates: valid 0 (CPS 4-3)' && has 'certificates: revoked 0 (CPS 4-4, 4-4-9)' &&
	has 'certificates: pending 0 (CPS 4-3)'"
check "... publication: the set, the CRLs, the ARL, the runway" sh -c "$(declare -f has); HANKO_TMP=$HANKO_TMP
	has 'publication: set 1 published at 2026-04-03T03:00:00Z (CPS 2-6-2)' &&
	grep -qx 'publication: CRLs: [0-9]*, the first to expire crl/[0-9]*\.crl at 2026-04-06T03:00:00Z (CPS 4-4-9)' '$HANKO_TMP/out' &&
	has 'publication: CRLs: last beyond the next daily run and its margin (4 h)' &&
	has 'publication: ARL released: ARL 1, nextUpdate 2026-04-05T11:00:00Z (CPS 4-4-10)' &&
	has 'publication: pre-signed ARLs: run out at 2026-04-14T11:00:00Z, 11 days (from ARL 1; CPS 4-4-10)'"
check "... OCSP responder 1" sh -c "$(declare -f has); HANKO_TMP=$HANKO_TMP
	has 'ocsp: responder 1: notAfter 2027-04-02T12:39:59Z (CPS 1-3-2, 4-4-4-1)' &&
	has 'ocsp: responder 1: not in its renewal window (30 days before its end)'"
check "... backup: the record, its folder, its age" sh -c "$(declare -f has); HANKO_TMP=$HANKO_TMP
	grep -qx 'backup: last backup.create ok: record [0-9]* at 2026-04-03T04:00:00Z, $T/bk1 (CPS 4-11-6, 4-12-2-4)' '$HANKO_TMP/out' &&
	has 'backup: age 1 h (over 26 h needs attention: the timer is daily)'"
N=$(grep -c . "$O/audit/audit.log")
check "... audit log: every record, the last checkpoint, none after it" sh -c "$(declare -f has); HANKO_TMP=$HANKO_TMP
	has 'audit log: $N records (CPS 4-11-2)' && has 'audit log: last checkpoint record $((N - 1)) (CPS 4-11-5)' &&
	has 'audit log: 0 records after it (the unsigned tail)' &&
	has \"audit log: the chain and head file verified, not the checkpoints' signatures (they need the audit key: hanko-online check)\""
check "... profile" sh -c "grep -qx 'profile: profile.yaml is the profile accepted (SHA-256 $(sha256sum "$O/profile.yaml" | cut -c1-64), accepted 2026-04-02T00:00:00Z; CPS 7-1, 8-1)' '$HANKO_TMP/out'"
find "$O" -type f ! -name 'store.db-*' -exec sha256sum {} + | sort >"$T/after"
check "... nothing written: every file as it was (the audit log, store.db, state.conf; no lock file made)" cmp -s "$T/before" "$T/after"
ok "... the state's locks held by others are no obstacle (state.lock, publish.lock)" flock -n "$O/state.lock" \
	flock -n "$O/publish.lock" "$ON" status --state "$O" --repo "$P" --clock 2026-04-03T05:00:00Z

# The backup's age: 25 h is fine, 27 h is not.
run st --clock 2026-04-04T05:00:00Z
check "a backup 25 h old: exit 0" rc 0
# 2026-04-04T07:00: no publication since set 1 (28 h) and the backup 27 h old.
run st --clock 2026-04-04T07:00:00Z
check "the daily publication missed (set 1 28 h old) and a backup 27 h old: exit 9, a warning each" sh -c "$(declare -f errs rc); HANKO_TMP=$HANKO_TMP; rc 9 &&
	errs \"$W CPS 4-4-9: set 1 of $P was published at 2026-04-03T03:00:00Z, 28 h ago, over 26 h: the CRLs and the ARL are published every 24 h; see why hanko-publish.service did not run or failed (systemctl status hanko-publish), then hanko-online publish --state $O --repo $P\" \\
	     \"$W CPS 4-11-6, 4-12-2-4: the last backup (2026-04-03T04:00:00Z, $T/bk1) is 27 h old, over 26 h: see why hanko-backup.service did not run or failed (systemctl status hanko-backup), then hanko-online backup --state $O --out DIR\""
check "... and the fact" has "publication: set 1 is 28 h old, over 26 h: no daily publication since (CPS 4-4-9)"
run st --clock 2026-04-04T03:30:00Z
check "... 24.5 h after set 1 (the day's run may be late): no publication warning" sh -c "$(declare -f rc); HANKO_TMP=$HANKO_TMP; rc 0 && [ ! -s $HANKO_TMP/err ]"

# --clock past the CRLs' nextUpdate (and the backup 72 h old).
run st --clock 2026-04-06T04:00:00Z
check "the CRLs' nextUpdate passed: exit 9, the CRLs and the backup warned" sh -c "$(declare -f errs rc); HANKO_TMP=$HANKO_TMP; rc 9 &&
	errs \"$W CPS 4-4-9: set 1 of $P was published at 2026-04-03T03:00:00Z, 73 h ago, over 26 h: the CRLs and the ARL are published every 24 h; see why hanko-publish.service did not run or failed (systemctl status hanko-publish), then hanko-online publish --state $O --repo $P\" \\
	     \"$W CPS 4-4-9: crl/431010.crl of set 1 expired at 2026-04-06T03:00:00Z, before the next daily run and its margin (4 h): run hanko-online publish --state $O --repo $P --now\" \\
	     \"$W CPS 4-11-6, 4-12-2-4: the last backup (2026-04-03T04:00:00Z, $T/bk1) is 72 h old, over 26 h: see why hanko-backup.service did not run or failed (systemctl status hanko-backup), then hanko-online backup --state $O --out DIR\""
check "... and the fact" has "publication: CRLs: expire before the next daily run and its margin (4 h)"
run st --clock 2026-04-04T02:00:00Z
check "a day later, before the next daily run: the CRLs are fine" sh -c "$(declare -f has); HANKO_TMP=$HANKO_TMP; [ ! -s $HANKO_TMP/err ] &&
	has 'publication: CRLs: last beyond the next daily run and its margin (4 h)'"

# Copies of the state at the fresh time (the same repository).
copy() { rm -rf "$T/$1"; state_copy "$O" "$T/$1"; }
cst() { "$ON" status --state "$T/$1" --repo "$P" --clock 2026-04-03T05:00:00Z; }
copy pend
req_dir "$T/req" 3
run env HANKO_FAIL_AUDIT_AT=cert.issue "$ON" issue --state "$T/pend" --clock 2026-04-03T04:30:00Z \
	--batch "$T/req/batch.csv" --out "$T/req/out"
check "a batch that stops (its cert.issue record cannot be appended, exit 8) leaves 2 rows pending" rc 8
check "... the store holds them pending" test "$(sqlite3 "$T/pend/store.db" "SELECT count(*) FROM certificates WHERE status = 'pending'")" = 2
fails "pending rows: exit 9, one warning naming issue" 9 \
	"^$W CPS 4-3: 2 certificates pending: a batch that stopped \(or one running now\); run hanko-online issue --state $T/pend again: it completes or voids them first$" \
	cst pend
check "... and the fact" has "certificates: pending 2 (CPS 4-3)"

copy mark
echo "issuing.1.compromised = 2026-04-03T04:40:00Z" >>"$T/mark/state.conf"
fails "the current generation marked compromised (state.conf): exit 9, one warning" 9 \
	"^$W CPS 4-14-2: issuing generation 1, the current one, is marked compromised in state.conf: issue refuses under it; request the next generation \(hanko-online request --type csr, the issue-subca ceremony, hanko-online import\)$" \
	cst mark
check "... and the fact" has "issuing: generation 1: compromise mark: marked, 2026-04-03T04:40:00Z (state.conf; CPS 4-4-1-3, 4-14-2)"

copy prof
echo "# edited" >>"$T/prof/profile.yaml"
fails "profile.yaml edited: exit 9, one warning naming profile accept" 9 \
	"^$W $T/prof/profile.yaml: .*hanko-online profile accept --state $T/prof" \
	cst prof
check "... and the fact; the rest still computed by the profile accepted" sh -c "$(declare -f has); HANKO_TMP=$HANKO_TMP
	has 'profile: profile.yaml is not the profile accepted (CPS 7-1, 8-1)' &&
	has 'issuing: generation 1: key use ends 2028-04-02T09:00:00Z (the last 3-year certificate; CPS 1-3-2, 6-3-1-2)'"

copy audit
sed -i '3s/token hanko-online-test/token hanko-online-tesT/' "$T/audit/audit/audit.log"
fails "the audit log damaged: exit 6" 6 "^hanko-online status: $T/audit/audit/audit.log: fails verification: " cst audit
check "... the rest is still said" has "certificates: pending 0 (CPS 4-3)"

# The ARLs run out within 7 days: on 04-08 the last one (ARL 10) ends 04-14T11:00.
fails "publish on 2026-04-08 warns of the ARLs (exit 9)" 9 "the imported ARLs run out at 2026-04-14T11:00:00Z" \
	"$ON" publish --state "$O" --repo "$P" --clock 2026-04-08T03:00:00Z
ok "backup (2026-04-08T04:00)" "$ON" backup --state "$O" --out "$T/bk2" --clock 2026-04-08T04:00:00Z
fails "the ARLs run out within 7 days: exit 9, publish's warning" 9 \
	"^$W CPS 4-4-10: the imported ARLs run out at 2026-04-14T11:00:00Z \(within 7 days\): hold the arl-batch ceremony and import its bundle$" \
	st --clock 2026-04-08T05:00:00Z
check "... and the fact" has "publication: pre-signed ARLs: run out at 2026-04-14T11:00:00Z, 6 days (from ARL 6; CPS 4-4-10)"
run st --clock 2026-04-07T04:00:00Z
check "... 7 days and 7 h before: no ARL warning" sh -c "! grep -q 'ARLs run out' $HANKO_TMP/err"
run st --clock 2026-04-20T00:00:00Z
check "once they have run out: the fact says so, not a negative count of days" \
	has "publication: pre-signed ARLs: ran out at 2026-04-14T11:00:00Z, 5 days ago (from ARL 10; CPS 4-4-10)"

run st --clock 2027-03-05T00:00:00Z
check "28 days before responder 1 ends: exit 9, its renewal warned (among the others of that day)" sh -c "$(declare -f rc has); HANKO_TMP=$HANKO_TMP; rc 9 &&
	grep -qxF '$W CPS 4-4-4-1: OCSP responder 1 ends 2027-04-02T12:39:59Z: run hanko-online responder --state $O --generation 1 to renew it, then restart hanko-online serve' $HANKO_TMP/err &&
	has 'ocsp: responder 1: in its renewal window (30 days before its end)'"

# CPS 4-11-4: the log is closed once a year (docs/audit-log.md "Retention");
# this log began at init, 2026-04-02T00:00:00Z, so the close is due from
# 2027-04-02T00:00:00Z on.
check "... 28 days before the log's year is out: the fact, no warning of it" sh -c "$(declare -f has); HANKO_TMP=$HANKO_TMP
	has 'audit log: begun 2026-04-02T00:00:00Z; the yearly close is due in 28 days (CPS 4-11-4)' &&
	! grep -q 'yearly close' $HANKO_TMP/err"
run st --clock 2027-04-02T00:00:00Z
check "a year after the log began: exit 9, the yearly close warned" sh -c "$(declare -f rc has); HANKO_TMP=$HANKO_TMP; rc 9 &&
	grep -qxF '$W audit log: begun 2026-04-02T00:00:00Z, 365 days ago: the yearly close is due (hanko-online audit close --state DIR --actors OPERATOR,AUDITOR with the internal auditor present; CPS 4-11-4, docs/audit-log.md \"Retention\")' $HANKO_TMP/err &&
	has 'audit log: begun 2026-04-02T00:00:00Z, 365 days ago (CPS 4-11-4)'"
ok "audit close (2027-04-10)" "$ON" audit close --state "$O" --clock 2027-04-10T00:00:00Z --actors op1,auditor1
run st --clock 2027-04-11T00:00:00Z
check "... after the close, the new log's year (to 2028-04-10, past 29 February): no warning of it" sh -c "$(declare -f has); HANKO_TMP=$HANKO_TMP
	has 'audit log: begun 2027-04-10T00:00:00Z; the yearly close is due in 365 days (CPS 4-11-4)' &&
	! grep -q 'yearly close' $HANKO_TMP/err"

# The 3-year window by publish's rule (check_window): closed, the last second
# it was open; closing within 90 days while generation 2 is requested and
# not imported, the warning names the ceremony and import.
run st --clock 2028-06-01T00:00:00Z
check "the window closed on 2028-04-02: the warning names that second, as publish's" sh -c "$(declare -f rc has); HANKO_TMP=$HANKO_TMP; rc 9 &&
	grep -qxF '$W PROFILE.md: issuing CA 1 could issue 3-year certificates only until 2028-04-02T09:00:00Z; request the next generation now: hanko-online request --type csr, the issue-subca ceremony, hanko-online import (docs/air-gap.md)' $HANKO_TMP/err &&
	has 'issuing: 3-year certificates: none fits in issuing CA 1 any more: issuance has stopped (since 2028-04-02T09:00:00Z; CPS 1-3-2)'"
ok "request --type csr on 2028-01-15: generation 2 requested" "$ON" request --state "$O" --clock 2028-01-15T00:00:00Z \
	--type csr --out "$T/r-csr2"
run st --clock 2028-01-20T00:00:00Z
check "73 days before the window closes, generation 2 requested: warned as publish does" sh -c "$(declare -f rc); HANKO_TMP=$HANKO_TMP; rc 9 &&
	grep -qxF '$W PROFILE.md: issuing CA 1 can issue 3-year certificates until 2028-04-02T09:00:00Z; certify the requested next generation (the issue-subca ceremony) and hanko-online import it (docs/air-gap.md)' $HANKO_TMP/err"
fails "... publish says the same" 9 "issuing CA 1 can issue 3-year certificates until 2028-04-02T09:00:00Z; certify the requested next generation" \
	"$ON" publish --state "$O" --repo "$P" --clock 2028-01-20T00:00:00Z

# The root's 5-year key use (CPS 4-13, 6-3-1-2): root 1 (notBefore
# 2026-04-01T10:00) certifies nothing after 2031-04-01T10:00; the rollover
# is warned from 180 days before. Status said nothing of the root before.
# rc9err LINE: the run exited 9 and LINE is one of its stderr lines
rc9err() { rc 9 && grep -qxF -- "$1" "$HANKO_TMP/err"; }
run st --clock 2030-10-02T00:00:00Z
check "181 days before root 1's key use ends: the facts, no root warning" sh -c "$(declare -f has); HANKO_TMP=$HANKO_TMP
	has 'root: generation 1: certificate notAfter 2036-04-01T09:59:59Z (CPS 6-3-1-2)' &&
	has 'root: generation 1: key use ends 2031-04-01T10:00:00Z (its notBefore and root.key-use-years, 5; then the rollover: CPS 4-13, 6-3-1-2)' &&
	! grep -q 'root generation' $HANKO_TMP/err"
ROOTW="$W CPS 4-13, 6-3-1-2: root generation 1's key use ends 2031-04-01T10:00:00Z: after it the root certifies no issuing CA, responder or cross certificate; hold the rollover ceremony (ceremony-scripts/rollover.yaml, docs/ceremony-lifecycle.md), then hanko-online import its bundles"
run st --clock 2030-10-04T00:00:00Z
check "179 days before: exit 9, the rollover warned (among the others of that day)" rc9err "$ROOTW"
run st --clock 2031-05-01T00:00:00Z
check "... and once it has ended" rc9err "${ROOTW/ends 2031/ended 2031}"

# The cross certificates with the bridge CA (CPS 4-9 (1)(2): renewed when
# they near their end): the bridge's to the root ends 2031-03-31T23:59:59Z,
# the root's to the bridge 5 years from the ceremony; each warned from 90
# days before.
. "$HANKO_SRC/test/data/issuance/bridge.sh"
bridge 1
forward "$R" 1 "$T/fwd1.der"
ok "offline: cross-certify ceremony with bridge 1 (2026-04-02T13:00)" "$OFF" ceremony run \
	"$HANKO_SRC/ceremony-scripts/cross-certify.yaml" --state "$S" --clock 2026-04-02T13:00:00Z --confirm-digests \
	--input "bca-csr=$T/bca-1.csr" --input "bca-csr-sha256=$T/bca-1.csr.sha256" --input "bca-cert=$T/fwd1.der" \
	--input "bca-cert-sha256=$T/fwd1.der.sha256" "${SH[@]}" "${OPS[@]}"
ok "offline: its cross-pair bundle" "$OFF" bundle create --state "$S" --clock 2026-04-02T13:10:00Z --type cross-pair \
	--out "$T/b-cross" "${SH[@]}" "$S/certs/cross-1.der" "$S/certs/crosspair-1.der"
ok "import the cross-pair bundle" "$ON" import --state "$O" --clock 2028-01-21T00:00:00Z --type cross-pair "$T/b-cross"
REVNA=$(date -u -d "$(openssl x509 -inform DER -in "$S/certs/cross-1.der" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
run st --clock 2030-12-31T00:00:00Z
check "91 days before the first cross certificate ends: the facts, no cross warning" sh -c "$(declare -f has); HANKO_TMP=$HANKO_TMP
	has 'cross: the latest the bridge CA issued to the root (CPS 4-9 (1)): /C=JP/O=JPKI/OU=Bridge CA, notAfter 2031-03-31T23:59:59Z' &&
	has 'cross: the latest the root issued to the bridge CA (CPS 4-9 (2)): /C=JP/O=JPKI/OU=Bridge CA, notAfter $REVNA' &&
	! grep -q 'CPS 4-9:' $HANKO_TMP/err"
run st --clock 2031-01-01T12:00:00Z
check "89.5 days before: exit 9, the bridge CA's certificate to the root warned, the root's not yet" sh -c "$(declare -f rc); HANKO_TMP=$HANKO_TMP; rc 9 &&
	grep -qxF '$W CPS 4-9: the latest cross certificate the bridge CA issued to the root (CPS 4-9 (1)) ends 2031-03-31T23:59:59Z (/C=JP/O=JPKI/OU=Bridge CA): renew it with the bridge CA: the cross-certify ceremony (ceremony-scripts/cross-certify.yaml), then hanko-online import --type cross-pair' $HANKO_TMP/err &&
	! grep -q 'the root issued to the bridge CA' $HANKO_TMP/err"
run st --clock 2031-04-10T00:00:00Z
check "... once both have ended: both warned" sh -c "$(declare -f rc); HANKO_TMP=$HANKO_TMP; rc 9 &&
	grep -qxF '$W CPS 4-9: the latest cross certificate the bridge CA issued to the root (CPS 4-9 (1)) ended 2031-03-31T23:59:59Z (/C=JP/O=JPKI/OU=Bridge CA): renew it with the bridge CA: the cross-certify ceremony (ceremony-scripts/cross-certify.yaml), then hanko-online import --type cross-pair' $HANKO_TMP/err &&
	grep -qxF '$W CPS 4-9: the latest cross certificate the root issued to the bridge CA (CPS 4-9 (2)) ended $REVNA (/C=JP/O=JPKI/OU=Bridge CA): renew it with the bridge CA: the cross-certify ceremony (ceremony-scripts/cross-certify.yaml), then hanko-online import --type cross-pair' $HANKO_TMP/err"

fails "usage: an unknown option" 2 "unknown" "$ON" status --state "$O" --bogus
fails "not a state: exit 3" 3 "state" "$ON" status --state "$T/nope"
finish

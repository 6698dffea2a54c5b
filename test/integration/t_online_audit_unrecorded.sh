#!/usr/bin/env bash
# t_online_audit_unrecorded.sh - hanko-online commands whose record of
# their own work cannot be appended (HANKO_FAIL_AUDIT_AT, as a full disk
# would; the closing checkpoint of backup through the failnth shim aimed at
# audit/audit.log) do not end with exit 0 (docs/audit-log.md "When an
# append fails", CPS 4-11-2): what can still be undone is (rp add, a
# responder's key.generate, publish.start: nothing done), what cannot
# (published CRLs, delivered certificates, revocations, a responder named by
# state.conf, an imported bundle's spent sequence, OCSP responses in place,
# a retirement, a recorded backup) stays, and the run ends with exit 6, its
# last line naming what was done and is not recorded for the internal
# auditor. After each: the audit log verifies (a failed append writes
# nothing) and check --dry-run finds nothing.
. "$(dirname "$0")/online.sh"
T=$(realpath "$T")
O=$(realpath "$O")
P=$T/repo
B=$T/req
req_dir "$B"
# base0: the ARLs not imported yet
published_base eval 'rm -rf "$T/base0"; cp -a "$O" "$T/base0"'
ok "rp add kumamoto-city" "$ON" rp add --state "$O" --name kumamoto-city --token-out "$T/rp1.token" --clock 2026-04-02T13:35:00Z
{ sed -n 1p "$REQ/valid.csv"
  echo "431010,70000000007,熊本　三郎,00000,319750301,1,熊本県熊本市中央区水前寺６丁目１８番１号,00000000000000000000,keys/resident-1.pub.pem"
} >"$B/one.csv"
rm -rf "$T/base" "$T/base.repo"; cp -a "$O" "$T/base"; cp -a "$P" "$T/base.repo"

# restore [base0]: the state (and repository) as the base left them.
restore() {
	rm -rf "$O" "$P" "$T/out2" "$T/bk"
	cp -a "$T/${1:-base}" "$O"
	cp -a "$T/base.repo" "$P"
}
# run EVENT CMD...: CMD with EVENT's records failing; exit in $rc, stdout
# in $T/run.out, stderr in $T/run.err.
run() {
	local ev=$1
	shift
	rc=0
	HANKO_FAIL_AUDIT_AT=$ev "$@" >"$T/run.out" 2>"$T/run.err" || rc=$?
}
# last_line_has ERE: the last stderr line matches.
last_line_has() { tail -1 "$T/run.err" | grep -q -E "$1"; }
# clean WHAT: the log verifies and check finds nothing.
clean() {
	ok "$1: the audit log verifies" "$OFF" audit verify --state "$O" --clock 2026-04-03T10:01:00Z
	ok "$1: check finds nothing" "$ON" check --state "$O" --dry-run --clock 2026-04-03T10:01:00Z
}
AUDITOR='hand this line to the internal auditor, who records'

# rp add: undone (nothing left the machine).
restore
run rp.add "$ON" rp add --state "$O" --name yatsushiro-city --token-out "$T/rp2.token" --clock 2026-04-03T10:00:00Z
check "rp add whose rp.add record is lost: exit 6, not 0 (exit $rc)" test "$rc" = 6
check "... nothing registered" test "$(db "SELECT count(*) FROM relying_parties WHERE name = 'yatsushiro-city'")" = 0
check "... the token file removed" test ! -e "$T/rp2.token"
check "... the line says so" last_line_has 'relying party yatsushiro-city: not registered \(the registration rolled back, the token file removed\): its rp.add record could not be appended: .*forced by HANKO_FAIL_AUDIT_AT'
check "... no rp.add ok record" test "$(grep -c '	rp\.add	ok	' "$O/audit/audit.log" || true)" = 1
clean "rp add"

# rp retire: a retirement stays.
restore
run rp.retire "$ON" rp retire --state "$O" --name kumamoto-city --clock 2026-04-03T10:00:00Z
check "rp retire whose record is lost: exit 6 (exit $rc)" test "$rc" = 6
check "... it stays retired" test "$(db "SELECT retired_at IS NOT NULL AND retired_at > 0 FROM relying_parties WHERE name = 'kumamoto-city'")" = 1
check "... the line names it" last_line_has "relying party kumamoto-city: retired at 2026-04-03T10:00:00Z \(it stays retired\) but its rp.retire record is not in the audit log .*$AUDITOR the retirement"
clean "rp retire"

# ocsp-refresh: the responses in place stay.
restore
run ocsp.refresh "$ON" ocsp-refresh --state "$O" --clock 2026-04-03T10:00:00Z
check "ocsp-refresh whose record is lost: exit 6 (exit $rc)" test "$rc" = 6
check "... the line names the responses" last_line_has "ocsp-refresh: [0-9]+ OCSP responses signed at 2026-04-03T10:00:00Z and in place \(served; kept\) but its ocsp.refresh record is not in the audit log \(.*forced by HANKO_FAIL_AUDIT_AT.*\): $AUDITOR the refresh \([0-9]+ responses signed at 2026-04-03T10:00:00Z: responder 1"
clean "ocsp-refresh"

# import: the bundle's sequence is spent, the import stays.
restore base0
run bundle.import "$ON" import --state "$O" --clock 2026-04-02T13:10:00Z "$T/b-arl"
check "import whose bundle.import record is lost: exit 6 (exit $rc)" test "$rc" = 6
check "... the ARLs stored" test "$(db "SELECT count(*) FROM arls")" = 10
check "... the line names the bundle and its sequence" last_line_has "import $T/b-arl: imported into .* \(type arl-batch, sequence [0-9]+, spent; 10 rows stored; kept\) but its bundle.import record is not in the audit log .*$AUDITOR the import \(bundle $T/b-arl, type arl-batch, sequence [0-9]+, manifest SHA-256 [0-9a-f]{64}"
clean "import"

# issue: the certificates are signed and delivered.
restore
run issue.done "$ON" issue --state "$O" --clock 2026-04-03T10:00:00Z --batch "$B/one.csv" --out "$T/out2"
check "issue whose issue.done record is lost: exit 6 (exit $rc)" test "$rc" = 6
check "... the certificate delivered in results.csv" test "$(grep -c '^2,ok,' "$T/out2/results.csv")" = 1
check "... and its cert.issue record there" grep -q "	cert\.issue	ok	.*$(sed -n 's/^2,ok,\([0-9A-F]*\),.*/\1/p' "$T/out2/results.csv")" "$O/audit/audit.log"
check "... the line names the run" last_line_has "issue $B/one.csv: this run 1 issued and 0 refused, the batch 1 issued and 0 refused of 1, in $T/out2/results.csv \(signed and delivered: kept\) but its issue.done record is not in the audit log .*$AUDITOR the end of the run"
clean "issue"

# publish: a set out stays; a publish.start that cannot be recorded
# publishes nothing.
restore
run publish.done "$ON" publish --state "$O" --repo "$P" --now --clock 2026-04-03T10:00:00Z
check "publish whose publish.done record is lost: exit 6 (exit $rc)" test "$rc" = 6
check "... the set published" grep -q '^Published set 2 ' "$T/run.out"
check "... the line names the set" last_line_has "publish: set 2 published at $P \(thisUpdate 2026-04-03T10:00:00Z; out, so kept\) but its record publish.done is not in the audit log .*$AUDITOR the set \(set 2 at $P"
clean "publish (publish.done)"
restore
run crl.publish "$ON" publish --state "$O" --repo "$P" --now --clock 2026-04-03T10:00:00Z
check "publish whose crl.publish records are lost: exit 6 (exit $rc)" test "$rc" = 6
check "... the line counts them" last_line_has "but its records crl.publish \([0-9]+ of [0-9]+ CRLs\) are not in the audit log"
restore
before=$(cd "$P" && find . -type f | sort | xargs sha256sum)
run publish.start "$ON" publish --state "$O" --repo "$P" --now --clock 2026-04-03T10:00:00Z
check "publish whose publish.start record is lost: exit 6 (exit $rc)" test "$rc" = 6
check "... nothing published" test "$before" = "$(cd "$P" && find . -type f | sort | xargs sha256sum)"
check "... said" last_line_has 'nothing published: .*cannot append publish.start'
clean "publish (publish.start)"

# revoke --serial: its ocsp.refresh record.
restore
run ocsp.refresh "$ON" revoke --state "$O" --clock 2026-04-03T10:00:00Z --serial "$S3" --reason superseded
check "revoke whose ocsp.refresh record is lost: exit 6 (exit $rc)" test "$rc" = 6
check "... revoked" test "$(db "SELECT status FROM certificates WHERE hex(serial) = '$S3'")" = revoked
check "... its cert.revoke record there" grep -q "	cert\.revoke	ok	.*serial $S3: " "$O/audit/audit.log"
check "... the line names the refresh" last_line_has "serial $S3: revoked and recorded \(cert.revoke\), and [0-9]+ OCSP responses signed after it at .* and in place \(served; kept\) but their ocsp.refresh record is not in the audit log .*$AUDITOR the refresh"
clean "revoke"

# responder: a key whose key.generate record is lost is destroyed; one
# named by state.conf whose cert.issue record is lost stays.
restore
run key.generate "$ON" responder --state "$O" --clock 2026-04-03T10:00:00Z
check "responder whose key.generate record is lost: exit 6 (exit $rc)" test "$rc" = 6
check "... no responder 2 named" bash -c "! grep -q 'ocsp-responder-2\|^ocsp\.responders *=.*2' '$O/state.conf'"
check "... no certificate of it" test ! -e "$O/certs/ocsp-responder-2.der"
clean "responder (key.generate)"
restore
run cert.issue "$ON" responder --state "$O" --clock 2026-04-03T10:00:00Z
check "responder whose cert.issue record is lost: exit 6 (exit $rc)" test "$rc" = 6
check "... its certificate kept" test -s "$O/certs/ocsp-responder-2.der"
check "... the line names it" last_line_has "responder: OCSP responder 2 is made and named by state.conf \(certs/ocsp-responder-2.der, its key ocsp-2 on the token; kept\) but its cert.issue record is not in the audit log .*$AUDITOR its issue \(OCSP responder 2: serial [0-9A-F]+"
clean "responder (cert.issue)"
ok "... ocsp-refresh signs with it" "$ON" ocsp-refresh --state "$O" --clock 2026-04-03T10:05:00Z

# backup: its closing checkpoint (the last writes of audit.log).
cc -shared -fPIC -o "$T/failnth.so" "$HANKO_SRC/test/data/online/failnth.c" -ldl
ASAN_PRELOAD="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
restore
rm -f "$T/trace"
env HK_FAILNTH_PREFIX="$O/audit" HK_FAILNTH_TRACE="$T/trace" LD_PRELOAD="$T/failnth.so" \
	ASAN_OPTIONS="$ASAN_PRELOAD" "$ON" backup --state "$O" --out "$T/bk" --clock 2026-04-03T10:00:00Z >/dev/null 2>&1
# the last write to audit.log: the closing checkpoint's
n=$(awk '$2 ~ /^write/ && $3 ~ /\/audit\.log$/ { last = $1 } END { print last }' "$T/trace")
restore
rc=0
env HK_FAILNTH_PREFIX="$O/audit" HK_FAILNTH_N="$n" LD_PRELOAD="$T/failnth.so" ASAN_OPTIONS="$ASAN_PRELOAD" \
	"$ON" backup --state "$O" --out "$T/bk" --clock 2026-04-03T10:00:00Z >"$T/run.out" 2>"$T/run.err" || rc=$?
check "backup whose closing checkpoint is lost: exit 6 (exit $rc)" test "$rc" = 6
check "... the backup kept" test -s "$T/bk/MANIFEST"
check "... recorded" test "$(tail -1 "$O/audit/audit.log" | cut -f3)" = backup.create
check "... the line names it" last_line_has "backup $T/bk: made, verified and recorded \(backup.create; kept\) but its closing checkpoint \(audit.checkpoint\) is not in the audit log .*$AUDITOR the backup \($T/bk, MANIFEST SHA-256 [0-9a-f]{64}"
ok "... the audit log verifies" "$OFF" audit verify --state "$O"
ok "... backup verify" "$ON" backup verify "$T/bk"
# check: the check is done; its store.check ok record lost is exit 6.
restore
run store.check "$ON" check --state "$O" --clock 2026-04-03T10:00:00Z
check "check whose store.check record is lost: exit 6, not 0 (exit $rc)" test "$rc" = 6
check "... it says the store is consistent" grep -q "^Store consistent: " "$T/run.out"
check "... the line names the check" last_line_has "check: the store is consistent \([0-9]+ valid certificates checked, no findings\) but its store.check record is not in the audit log \(.*forced by HANKO_FAIL_AUDIT_AT.*\): $AUDITOR the check \([0-9]+ valid certificates read, 0 findings\)"
check "... no store.check ok record" test "$(tail -1 "$O/audit/audit.log" | cut -f3)" = audit.checkpoint -a "$(tail -2 "$O/audit/audit.log" | head -1 | cut -f3)" != store.check
run store.check "$ON" check --state "$O" --dry-run --clock 2026-04-03T10:00:00Z
check "... --dry-run too: exit 6 (exit $rc)" test "$rc" = 6
clean "check"
finish

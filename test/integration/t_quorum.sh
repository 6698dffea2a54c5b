#!/usr/bin/env bash
# t_quorum.sh - m-of-n activation of the token (CPS 6-2-1-2, 6-2-1-7):
# for a 3-of-5 set every subset of three or more shares activates the token;
# every smaller subset fails with no login attempt; a damaged share, a share
# of another set, a duplicated share and a wrong passphrase are refused and
# named, and each failure is an audit event; the internal auditor's weekly
# review (audit review) lists them and counts as the log does.
. "$(dirname "$0")/lib.sh"
fresh_tmp
make_ca "$HANKO_TMP/a"
make_ca "$HANKO_TMP/b"
A=$HANKO_TMP/a

logins() { grep -c '	token.login	ok	' "$A/state/audit/audit.log" || true; }
login_attempts() { grep -c '	token.login	' "$A/state/audit/audit.log" || true; }

# All 31 non-empty subsets of {1..5}.
big=0 small=0
for mask in $(seq 1 31); do
	set_=()
	for i in 1 2 3 4 5; do (( mask & (1 << (i - 1)) )) && set_+=("$i"); done
	mapfile -t args < <(share_args "$A" "${set_[@]}")
	before=$(login_attempts)
	if [ "${#set_[@]}" -ge 3 ]; then
		big=$((big + 1))
		ok "shares {${set_[*]}} activate the token" \
			"$OFF" activate --state "$A/state" "${args[@]}"
	else
		small=$((small + 1))
		fails "shares {${set_[*]}} do not reach the quorum" 4 \
			"${#set_[@]} of the 3 shares needed" \
			"$OFF" activate --state "$A/state" "${args[@]}"
		check "no login attempt with shares {${set_[*]}}" \
			test "$(login_attempts)" = "$before"
	fi
done
check "16 subsets of three or more were tried" test "$big" = 16
check "15 subsets of fewer than three were tried" test "$small" = 15
check "16 logins were audited" test "$(logins)" = 16

# A share with one flipped byte is named as damaged.
cp "$A/media/sato/share-2-sato.hks" "$HANKO_TMP/flip.hks"
python3 - "$HANKO_TMP/flip.hks" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[200] ^= 0x01
open(p, 'wb').write(b)
PY
mapfile -t args < <(share_args "$A" 1 3)
fails "a share with a flipped byte is refused and named" 4 "flip.hks" \
	"$OFF" activate --state "$A/state" "${args[@]}" \
	--share "$HANKO_TMP/flip.hks" --passin env:HK_PASS_sato

# A share of another CA's set.
mapfile -t args < <(share_args "$A" 1 3)
fails "a share from another set is refused and named" 4 "share-2-sato.hks.*(set|another)" \
	"$OFF" activate --state "$A/state" "${args[@]}" \
	--share "$HANKO_TMP/b/media/sato/share-2-sato.hks" --passin env:HK_PASS_sato

# The same share twice.
mapfile -t args < <(share_args "$A" 1 3 3)
fails "a duplicated share is refused and named" 4 "share-3-suzuki.hks" \
	"$OFF" activate --state "$A/state" "${args[@]}"

# A wrong passphrase: refused, named, and audited as a failure.
mapfile -t args < <(share_args "$A" 1 3)
fails "a wrong passphrase is refused and named" 4 "share-4-takahashi.hks.*passphrase|passphrase.*share-4-takahashi.hks" \
	"$OFF" activate --state "$A/state" "${args[@]}" \
	--share "$A/media/takahashi/share-4-takahashi.hks" --passin env:HK_PASS_tanaka
check "the wrong passphrase is an audit event naming its holder" \
	grep -q '	share.open	fail	takahashi	' "$A/state/audit/audit.log"

# A share of the set in force whose holder was changed (checksum fixed),
# beside a retired copy of that very set (a share rotation that stopped
# before its commit): refused as not this holder's, never named as a
# retired set's.
SETID=$(sed -n 's/^set-id: //p' "$A/state/quorum.set")
cp "$A/state/quorum.set" "$A/state/quorum.set.$SETID.retired"
python3 - "$A/media/suzuki/share-3-suzuki.hks" "$HANKO_TMP/holder.hks" <<'PY'
import hashlib, sys
t = open(sys.argv[1]).read().replace('holder: suzuki\n', 'holder: mallory\n')
i = t.index('checksum: ')
t = t[:i] + 'checksum: ' + hashlib.sha256(t[:i].encode()).hexdigest() + t[i + 74:]
open(sys.argv[2], 'w').write(t)
PY
mapfile -t args < <(share_args "$A" 1 2)
fails "a share of the set in force naming another holder is not called retired" 4 \
	"holder.hks: share 3 is held by 'suzuki' in set $SETID, but the file names 'mallory'" \
	"$OFF" activate --state "$A/state" "${args[@]}" \
	--share "$HANKO_TMP/holder.hks" --passin env:HK_PASS_suzuki
rm -f "$A/state/quorum.set.$SETID.retired"
check "no login followed any refused share" test "$(logins)" = 16
ok "the audit log verifies after all of it" "$OFF" audit verify --state "$A/state"

# CPS 4-11-1, 4-11-3: the internal auditor's weekly review (audit review,
# docs/audit-log.md "Weekly review") of this CA's log: its counts are the
# log's (awk), every refused share and failed combination listed, the
# records of init always read, no backup of the log since init found; it
# writes nothing (audit verify --state appends log.verify, the review
# does not); after an audit backup a review from it needs nothing (exit 0).
AL=$A/state/audit/audit.log
L0=$(sha256sum "$AL" "$AL.head")
fails "audit review of the whole log: exit 9, naming the lines to read" 9 \
	"^hanko-offline audit: audit review: [0-9]+ lines need the auditor's attention \(listed above\)$" \
	"$OFF" audit review --state "$A/state" --since 2026-04-01T00:00:00Z
R=$HANKO_TMP/review.txt
cp "$HANKO_TMP/out" "$R"
check "... read-only: the log and its head file unchanged" test "$(sha256sum "$AL" "$AL.head")" = "$L0"
check "... every record in it: records 0 to $(tail -1 "$AL" | cut -f1)" grep -q "^  records 0 to $(tail -1 "$AL" | cut -f1): $(wc -l <"$AL") records, 2026-04-01T00:00:00Z to " "$R"
section() { sed -n "/^$1/,/^[^ ]/p" "$R" | sed '1d;$d' | LC_ALL=C sort; }
check "... the counts per event and result are the log's (awk)" test "$(section 'Counts per event')" = \
	"$(awk -F'\t' '{ n[$3 " " $4]++ } END { for (k in n) print "  " k ": " n[k] }' "$AL" | LC_ALL=C sort)"
check "... 16 logins, 15 combinations short of the quorum" sh -c "grep -qx '  token.login ok: 16' '$R' && grep -qx '  quorum.combine fail: 15' '$R'"
check "... the counts per roster id are the log's (awk)" test "$(section 'Counts per actor')" = \
	"$(awk -F'\t' '{ k = split($5, a, ","); for (i = 1; i <= k; i++) n[a[i]]++ } END { for (k in n) print "  " k ": " n[k] }' "$AL" | LC_ALL=C sort)"
NOK=$(awk -F'\t' '$4 != "ok"' "$AL" | wc -l)
check "... every record not ok listed ($NOK, awk)" sh -c "grep -qx 'Not ok (fail, refusals, every result but ok): $NOK' '$R' &&
	test \$(sed -n '/^Not ok/,/^Always/p' '$R' | grep -c '^  [0-9]') = $NOK"
check "... the wrong passphrase's line names takahashi" grep -Eq \
	"^  $(grep '	share.open	fail	takahashi	' "$AL" | cut -f1) [0-9TZ:-]+ share.open fail takahashi share 4 of set [0-9a-f]{32} from $A/media/takahashi/share-4-takahashi.hks: " "$R"
AR=$(awk -F'\t' '$4 == "ok" && ($3 == "share.issue" || $3 == "key.generate" || $3 == "token.init" || $3 == "init.start")' "$AL" | wc -l)
check "... init's records always read: init.start, token.init, key.generate, five share.issue ($AR, awk)" sh -c \
	"grep -qx 'Always read (their ok records; clock, roster, quorum, profile, keys, compromise, restore, destroy, close, notes): $AR' '$R' &&
	 test \$(sed -n '/^Always read/,/^Cadence/p' '$R' | grep -Ec '^  [0-9]+ 2026-04-01T00:00:00Z share.issue ok (yamada|sato|suzuki|takahashi|tanaka) ') = 5"
check "... no log.backup since init: a gap from record 1" grep -Eq \
	"^  backup: record 1 \(2026-04-01T00:00:00Z\) and those after it have no log.backup ok after them by the period's end, [0-9]+ h later, over 26 h \(CPS 4-11-6: daily\)$" "$R"
check "... the last line is the SHA-256 of every line before it" test "$(tail -1 "$R")" = \
	"SHA-256 of the review above (every line before this one): $(head -n -1 "$R" | sha256sum | cut -c1-64)"
mkdir -p "$HANKO_TMP/medium"
ok "audit backup to a medium" "$OFF" audit backup --state "$A/state" --out "$HANKO_TMP/medium"
LB=$(grep '	log.backup	ok	' "$AL" | tail -1 | cut -f1)
# (the gap that backup ends, from record 1, ran out its 26 h long before:
# it is named by the review of the period it ran out in, the whole log's
# above, not again by a review from the backup)
ok "a review from the log.backup record $LB: the gap it ends is not named again (exit 0)" \
	"$OFF" audit review --state "$A/state" --from-seq "$LB"
check "... no backup gap" grep -qx "Cadence gaps (CPS 4-11-6 backup): 0" "$HANKO_TMP/out"
mkdir -p "$HANKO_TMP/medium2"
ok "audit backup again" "$OFF" audit backup --state "$A/state" --out "$HANKO_TMP/medium2"
LB=$(grep '	log.backup	ok	' "$AL" | tail -1 | cut -f1)
ok "a review from the log.backup record $LB: nothing needs attention (exit 0)" "$OFF" audit review --state "$A/state" --from-seq "$LB"
check "... said so, the period from record $LB" sh -c "grep -q '^Period: from record $LB to ' '$HANKO_TMP/out' &&
	grep -qx 'Nothing needs the auditor.s attention (exit 0)' '$HANKO_TMP/out'"
# A record of work late in one week without a log.backup: that week's
# review ends before its 26 h run out; the next week's, with no records of
# its own, names it (CPS 4-11-6), and the week after does not again.
ok "audit note after the backup (work: a log.backup is due)" "$OFF" audit note --state "$A/state" --event note \
	--actors kimura --text "maintenance of the offline machine"
NS=$(tail -1 "$AL" | cut -f1); NT=$(tail -1 "$AL" | cut -f2)
at() { date -u -d "$NT $1" +%Y-%m-%dT%H:%M:%SZ; }
fails "the week ending 1 h after it: the note always read (exit 9)" 9 "lines need" \
	"$OFF" audit review --state "$A/state" --since "$NT" --until "$(at '+1 hour')"
check "... no backup due yet" grep -qx "Cadence gaps (CPS 4-11-6 backup): 0" "$HANKO_TMP/out"
fails "the next week, no records in it: the note's missing backup named (exit 9)" 9 "lines need" \
	"$OFF" audit review --state "$A/state" --since "$(at '+3601 seconds')" --until "$(at '+30 hours')"
check "... record $NS, from before the period" grep -qx \
	"  backup: record $NS ($NT) and those after it have no log.backup ok after them by the period's end, 30 h later, over 26 h (CPS 4-11-6: daily)" "$HANKO_TMP/out"
ok "the week after: listed already, not again (exit 0)" "$OFF" audit review --state "$A/state" --since "$(at '+30 hours +1 second')" --until "$(at '+60 hours')"
mkdir -p "$HANKO_TMP/copy"
cp "$AL" "$AL.head" "$HANKO_TMP/copy/"
sed -i '2s/	init.start	/	init.stArt	/' "$HANKO_TMP/copy/audit.log"
fails "a tampered copy is refused as audit verify refuses it (exit 6), no review printed" 6 \
	"^hanko-offline audit: $HANKO_TMP/copy/audit.log:2: record 1: " \
	"$OFF" audit review --log "$HANKO_TMP/copy/audit.log" --key "$A/state/audit/audit-key.pem"
check "... nothing on stdout" test ! -s "$HANKO_TMP/out"
fails "bad option: --from-seq x" 2 "^hanko-offline audit: --from-seq x: must be a record number" \
	"$OFF" audit review --state "$A/state" --from-seq x
fails "bad option: --routine-actors without --hours" 2 "^hanko-offline audit: --routine-actors yamada: only with --hours$" \
	"$OFF" audit review --state "$A/state" --routine-actors yamada
fails "bad option: both --state and --log" 2 "^hanko-offline audit: audit review: give either --state DIR or --log FILE" \
	"$OFF" audit review --state "$A/state" --log "$AL"
finish

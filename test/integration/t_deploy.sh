#!/usr/bin/env bash
# t_deploy.sh - deploy/: the systemd service and timer and the crontab line
# that run "hanko-online publish" daily (docs/publish.md "Running it daily";
# CPS 2-6-2, 4-4-9, 4-4-10): the right user and umask, exit 9 (published
# with a warning) left a failure, no start condition that would skip a run
# in silence, 03:00 JST, and the same command in both.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
D=$HANKO_SRC/deploy
SVC=$D/hanko-publish.service
TIMER=$D/hanko-publish.timer
key() { sed -n "s/^$1=//p" "$2"; }

check "service: User=hanko, Group=hanko" test "$(key User "$SVC") $(key Group "$SVC")" = "hanko hanko"
check "service: UMask=0022 (the repository readable by serve's --user)" test "$(key UMask "$SVC")" = 0022
check "service: Type=oneshot" test "$(key Type "$SVC")" = oneshot
check "service: exit 9 stays a failure (no SuccessExitStatus=)" sh -c "! grep -q '^SuccessExitStatus=' '$SVC'"
check "service: no Condition*= (a missing state fails the unit, never a silent skip)" sh -c \
	"! grep -q '^Condition' '$SVC'"
check "timer: Persistent=true (a day the machine was off runs at boot)" test "$(key Persistent "$TIMER")" = true
check "timer: starts hanko-publish.service" test "$(key Unit "$TIMER")" = hanko-publish.service
CRON=$(grep -v '^#' "$D/crontab")
check "crontab: one line, 03:00 daily as user hanko (/etc/cron.d form)" sh -c \
	"[ \$(printf '%s\n' '$CRON' | wc -l) = 1 ] && printf '%s\n' '$CRON' | grep -q '^0 3 \* \* \* hanko /'"
check "crontab and service run the same command" test "${CRON#0 3 \* \* \* hanko }" = "$(key ExecStart "$SVC")"
if command -v systemd-analyze >/dev/null; then
	TZ=Asia/Tokyo systemd-analyze calendar --iterations=1 "$(key OnCalendar "$TIMER")" >"$T/cal" 2>&1 || true
	check "timer: fires at 03:00 JST (systemd-analyze calendar)" grep -q 'Next elapse: .* 03:00:00 JST' "$T/cal"
	# the units as systemd reads them, the binary at its place
	mkdir -p "$T/units"
	sed "s|/usr/local/bin/hanko-online|$HANKO_ONLINE|" "$SVC" >"$T/units/hanko-publish.service"
	cp "$TIMER" "$T/units/"
	ok "systemd-analyze verify: the service and the timer" systemd-analyze verify --man=no \
		"$T/units/hanko-publish.service" "$T/units/hanko-publish.timer"
else
	echo "# systemd-analyze not installed: calendar and verify not checked"
fi
finish

#!/usr/bin/env bash
# t_deploy.sh - deploy/: the systemd service and timer and the crontab line
# that run "hanko-online publish" daily (docs/publish.md "Running it daily";
# CPS 2-6-2, 4-4-9, 4-4-10): the right user and umask, exit 9 (published
# with a warning) left a failure, no start condition that would skip a run
# in silence, 03:00 JST, and the same command in both. And those of the
# daily "hanko-online backup" (docs/backup.md; CPS 4-11-6, 4-12-2-4): after
# publish (04:00 JST, ordered after its unit), umask 0077, and a command
# that, run by the shell as systemd and cron hand it over, makes a new
# dated folder each day.
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

# ---- the daily backup ----
BSVC=$D/hanko-backup.service
BTIMER=$D/hanko-backup.timer
check "backup service: User=hanko, Group=hanko" test "$(key User "$BSVC") $(key Group "$BSVC")" = "hanko hanko"
check "backup service: UMask=0077 (the backups are the service user's only)" test "$(key UMask "$BSVC")" = 0077
check "backup service: Type=oneshot" test "$(key Type "$BSVC")" = oneshot
check "backup service: after hanko-publish.service (behind a publish under way)" sh -c \
	"key() { sed -n \"s/^\$1=//p\" \"\$2\"; }; key After '$BSVC' | grep -qw hanko-publish.service"
check "backup service: no Condition*= and no SuccessExitStatus=" sh -c "! grep -Eq '^(Condition|SuccessExitStatus=)' '$BSVC'"
check "backup timer: Persistent=true" test "$(key Persistent "$BTIMER")" = true
check "backup timer: starts hanko-backup.service" test "$(key Unit "$BTIMER")" = hanko-backup.service
BCRON=$(grep -v '^#' "$D/crontab-backup")
check "backup crontab: one line, 04:00 daily as user hanko" sh -c \
	"[ \$(printf '%s\n' '$BCRON' | wc -l) = 1 ] && printf '%s\n' '$BCRON' | grep -q '^0 4 \* \* \* hanko /'"
# The command as the shell gets it: systemd's $$ and %% unescaped, cron's
# \% (a bare % would end cron's command line); hanko-online replaced by a
# stand-in that prints its arguments.
mkdir -p "$T/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@"\n' >"$T/bin/hanko-online"
chmod +x "$T/bin/hanko-online"
argv_ok() { [ "$(sed -n 1,4p "$1" | tr '\n' ' ')" = "backup --state /srv/hanko/online --out " ] &&
	grep -Eqx '/srv/hanko/backup/daily-20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9][0-5][0-9][0-5][0-9]' "$1" &&
	[ "$(wc -l <"$1")" = 5 ]; }
ES=$(key ExecStart "$BSVC" | sed -e 's/\$\$/$/g' -e 's/%%/%/g' -e "s|/usr/local/bin/hanko-online|$T/bin/hanko-online|")
eval "set -- $ES"
"$@" >"$T/argv.svc"
check "backup service: its command makes --out /srv/hanko/backup/daily-<date>T<time>" argv_ok "$T/argv.svc"
sh -c "$(printf '%s\n' "$BCRON" | sed -e 's/^0 4 \* \* \* hanko //' -e 's/\\%/%/g' \
	-e "s|/usr/local/bin/hanko-online|$T/bin/hanko-online|")" >"$T/argv.cron"
check "backup crontab: the same command" argv_ok "$T/argv.cron"
if command -v systemd-analyze >/dev/null; then
	TZ=Asia/Tokyo systemd-analyze calendar --iterations=1 "$(key OnCalendar "$BTIMER")" >"$T/bcal" 2>&1 || true
	check "backup timer: fires at 04:00 JST, after publish" grep -q 'Next elapse: .* 04:00:00 JST' "$T/bcal"
	sed "s|/usr/local/bin/hanko-online|$HANKO_ONLINE|" "$BSVC" >"$T/units/hanko-backup.service"
	cp "$BTIMER" "$T/units/"
	ok "systemd-analyze verify: the backup service and timer" systemd-analyze verify --man=no \
		"$T/units/hanko-backup.service" "$T/units/hanko-backup.timer"
fi
# ---- the daily status report ----
SCRON=$(grep -v -e '^#' -e '^MAILTO=' "$D/crontab-status")
check "status crontab: MAILTO set (cron mails what the job prints)" grep -q '^MAILTO=..*' "$D/crontab-status"
check "status crontab: one line, 07:00 daily as user hanko, after publish and backup" sh -c \
	"[ \$(printf '%s\n' '$SCRON' | wc -l) = 1 ] && printf '%s\n' '$SCRON' | grep -q '^0 7 \* \* \* hanko out=.*hanko-online status '"
# cron runs the command with /bin/sh: silent when status exits 0, the
# report (stdout and stderr) when it exits 9 or anything else.
SCMD=$(printf '%s\n' "$SCRON" | sed -e 's/^0 7 \* \* \* hanko //' -e "s|/usr/local/bin/hanko-online|$T/bin/hanko-online|")
printf '#!/bin/sh\necho "$*"\n[ -n "${STATUS_RC:-}" ] && { echo "warning: stand-in" >&2; exit "$STATUS_RC"; }\nexit 0\n' >"$T/bin/hanko-online"
STATUS_RC= /bin/sh -c "$SCMD" >"$T/st0" 2>&1
check "status crontab: nothing printed (no mail) when status exits 0" test ! -s "$T/st0"
STATUS_RC=9 /bin/sh -c "$SCMD" >"$T/st9" 2>&1
check "status crontab: the report and its warning printed when status exits 9" sh -c \
	"grep -qx 'status --state /srv/hanko/online --repo /srv/hanko/repo' '$T/st9' && grep -qx 'warning: stand-in' '$T/st9'"

finish

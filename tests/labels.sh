#!/bin/sh
# An access log's server: the scan labels its events with the path's
# directory (no fleet: nothing flows back from the engine's configuration),
# the engine maps the label to the fleet server. So analyze and scan + merge
# agree, also when the directory only starts with the server's name.
# Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
bin="$top_builddir/breachscope"
work="$top_builddir/tests/labels-work"
rm -rf "$work"; mkdir -p "$work/wm1_logs"
. "$top_srcdir/tests/tap.sh"
printf 'name,address,role\nwm1,10.0.1.11,webmail\nwm2,10.0.1.12,webmail\n' > "$work/fleet.csv"
for i in 1 2 3; do
	echo "192.0.2.9 - - [04/May/2007:17:31:0$i +0200] \"GET /index.php HTTP/1.1\" 200 5 \"-\" \"x\""
done > "$work/wm1_logs/access_log"
verdict() { grep "^$1," "$2/servers.csv" | cut -d, -f3; }
"$bin" analyze -q --fleet "$work/fleet.csv" -o "$work/a" "$work/wm1_logs" >/dev/null
is "analyze: the log of wm1_logs/ is wm1's" "$(verdict wm1 "$work/a")" clean
"$bin" scan -q -o "$work/st" "$work/wm1_logs" &&
	"$bin" merge -q --fleet "$work/fleet.csv" -o "$work/m" "$work/st" >/dev/null
is "scan without the fleet, then merge with it: the log is wm1's" "$(verdict wm1 "$work/m")" clean
check "analyze and scan + merge give the same servers.csv" cmp -s "$work/a/servers.csv" "$work/m/servers.csv"
is "the other server has no data" "$(verdict wm2 "$work/m")" no_data
rm -rf "$work"
done_testing

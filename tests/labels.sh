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
# IIS keeps a site's logs in W3SVC<n> (under inetpub/logs/LogFiles): the
# server is the folder above, whatever the case of those names.
mkdir -p "$work/iis/wm2/LogFiles/W3SVC1"
{
	printf '#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n'
	printf '#Fields: date time cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n'
	for i in 1 2 3; do
		printf '2007-05-04 17:31:0%s GET /owa/ - 443 - 192.0.2.9 Mozilla/5.0 - 200 0 0 15\r\n' "$i"
	done
} > "$work/iis/wm2/LogFiles/W3SVC1/u_ex070504.log"
"$bin" analyze -q --fleet "$work/fleet.csv" -o "$work/iis-out" "$work/iis" >/dev/null
is "an IIS log in wm2/LogFiles/W3SVC1/ is wm2's" "$(verdict wm2 "$work/iis-out")" clean
is "and not wm1's" "$(verdict wm1 "$work/iis-out")" no_data
"$bin" analyze -q --timeline all -o "$work/iis-nofleet" "$work/iis" >/dev/null
is "without a fleet the requests are wm2's (not W3SVC1's)" \
	"$(sed 1d "$work/iis-nofleet/timeline.csv" | cut -d, -f7 | sort -u | tr '\n' ' ')" "wm2 "
rm -rf "$work"
done_testing

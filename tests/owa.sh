#!/bin/sh
# Exchange's IIS log through the whole program: the columns from the
# #Fields header, a web shell in /aspnet_client/ reached with a bare POST
# (no command in the URI, one server: before, nothing decided it), the
# ProxyShell request as the exploit, OWA's logon page no exploit.
# Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
bin="$top_builddir/breachscope"
work="$top_builddir/tests/owa-work"
rm -rf "$work"; mkdir -p "$work/ex01"
. "$top_srcdir/tests/tap.sh"
printf 'name,address,role\nex01,10.1.0.11,webmail\n' > "$work/fleet.csv"
f='#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken'
{
	echo '#Software: Microsoft Internet Information Services 10.0'
	echo "$f"
	echo '2024-03-01 09:00:00 10.1.0.11 GET /owa/auth/logon.aspx url=https%3a%2f%2fmail.contoso.com%2fowa%2f&reason=0 443 - 203.0.113.50 Mozilla/5.0 - 200 0 0 15'
	echo '2024-03-01 09:00:05 10.1.0.11 POST /owa/auth.owa - 443 CONTOSO\alice 203.0.113.50 Mozilla/5.0 - 302 0 0 31'
	echo '2024-03-01 10:00:00 10.1.0.11 POST /autodiscover/autodiscover.json @evil.example/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.example 443 - 192.0.2.66 python-requests/2.25.1 - 200 0 0 5'
	echo '2024-03-01 10:05:00 10.1.0.11 POST /aspnet_client/system_web/e5k2q.aspx - 443 - 192.0.2.66 - - 200 0 0 3'
} > "$work/ex01/u_ex240301.log"
"$bin" analyze -q -j1 --fleet "$work/fleet.csv" -o "$work/a" "$work/ex01" >/dev/null
is "4 requests parsed, 2 headers ignored, none malformed" "$(tail -1 "$work/a/input_stats.csv" | cut -d, -f4-7)" "6,4,2,0"
is "ex01 compromised" "$(grep '^ex01,' "$work/a/servers.csv" | cut -d, -f3)" compromised
is "signals" "$(grep '^ex01,' "$work/a/servers.csv" | cut -d, -f9)" "webshell;exploit_request"
check "the shell's request is a webshell row" grep -q 'web shell request.*e5k2q.aspx.*,webshell,compromise,' "$work/a/timeline.csv"
check "the exploit is ProxyShell's" grep -q 'exploit (succeeded).*autodiscover.json.*server-side request forgery' "$work/a/timeline.csv"
check "OWA's logon page is no exploit" sh -c "! grep -q 'logon.aspx.*exploit' '$work/a/timeline.csv'"
rm -rf "$work"
done_testing

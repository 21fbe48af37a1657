#!/bin/sh
# The command line: usage errors exit 2 and write nothing; --help/--version.
# Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
bin="$top_builddir/breachscope"
work="$top_builddir/tests/cli-work"
rm -rf "$work"; mkdir -p "$work"
printf 'May  4 17:31:02 mx1 postfix/smtpd[123]: connect from unknown[192.0.2.1]\n' > "$work/maillog"
printf 'name,address,role\nwm1,10.0.1.11,webmail\n' > "$work/fleet.csv"
printf 'name,address\nwm1,10.0.1.11\n' > "$work/badfleet.csv"
. "$top_srcdir/tests/tap.sh"
t() { # t WANT_STATUS DESCRIPTION ARGS...
	want=$1; desc=$2; shift 2
	rm -rf "$work/out"
	"$bin" "$@" >"$work/stdout" 2>"$work/stderr"; got=$?
	if [ "$got" = "$want" ]; then pass "$desc (exit $got)"
	else fail "$desc: exit $got, want $want"; sed 's/^/#   /' "$work/stderr" | head -5; fi
}
nothing_written() {
	if [ ! -e "$work/out" ]; then pass "$1: nothing written"
	else fail "$1: output directory was created"; fi
}
one_line_error() {
	lines=$(wc -l < "$work/stderr")
	if [ "$lines" -eq 1 ] && grep -q "^breachscope: " "$work/stderr"; then pass "$1: one-line error"
	else fail "$1: error has $lines lines"; sed 's/^/#   /' "$work/stderr" | head -5; fi
}
t 0 "--help" --help
check "help shows analyze" grep -q "breachscope analyze" "$work/stdout"
t 0 "--version" --version
check "version line" grep -q "^breachscope [0-9]" "$work/stdout"
t 2 "no command"
t 2 "unknown command" frobnicate
t 2 "unknown option" analyze --frobnicate -o "$work/out" "$work/maillog"; nothing_written "unknown option"; one_line_error "unknown option"
t 2 "missing option argument" analyze -o "$work/out" "$work/maillog" --fleet; nothing_written "missing argument"; one_line_error "missing argument"
t 2 "no input" analyze -o "$work/out"; nothing_written "no input"
t 2 "missing input" analyze -o "$work/out" "$work/does-not-exist"; nothing_written "missing input"; one_line_error "missing input"
t 2 "unreadable fleet" analyze --fleet "$work/nope.csv" -o "$work/out" "$work/maillog"; nothing_written "unreadable fleet"; one_line_error "unreadable fleet"
t 2 "bad fleet header" analyze --fleet "$work/badfleet.csv" -o "$work/out" "$work/maillog"; nothing_written "bad fleet"
printf '\357\273\277name,address,role\nwm1,10.0.1.11,webmail\n' > "$work/bomfleet.csv"
t 0 "a fleet file beginning with a UTF-8 byte-order mark" analyze -q --fleet "$work/bomfleet.csv" -o "$work/out" "$work/maillog"
printf 'name,address,role\nwm1,10.0.1.11,webmail\n\nwm1,10.0.1.12,webmail\nwm2,10.0.1.11,webmail\n' > "$work/dupfleet.csv"
t 2 "a fleet address listed twice" analyze --fleet "$work/dupfleet.csv" -o "$work/out" "$work/maillog"
nothing_written "fleet address twice"; one_line_error "fleet address twice"
check "fleet address twice: both line numbers" grep -q "lines 2 and 5: address 10.0.1.11" "$work/stderr"
printf 'name,address,role\r\nwm1,10.0.1.11,webmail\r\nwm1,10.0.1.12,db\r\n' > "$work/rolefleet.csv"
t 2 "a fleet name given two roles" analyze --fleet "$work/rolefleet.csv" -o "$work/out" "$work/maillog"
nothing_written "fleet name two roles"; one_line_error "fleet name two roles"
check "fleet name two roles: both line numbers" grep -q 'lines 2 and 3: "wm1"' "$work/stderr"
printf 'name,address,role\nwm1,10.0.1.11,webmail\nwm1,10.0.1.12,Webmail\n' > "$work/multifleet.csv"
t 0 "a fleet server with two addresses, one role" analyze -q --fleet "$work/multifleet.csv" -o "$work/out" "$work/maillog"
# A 100,000-row fleet (issue 22, item 12): the sample's nine rows, then
# distinct names and addresses of every role. The fleet's lookups are sorted
# or hashed and servers without any host in the data are skipped by the
# per-server scans: it takes about a second (before: 3.4 s here, 32 s when
# filed), and the sample's servers are judged as with its own fleet.
sample="$top_srcdir/samples/incident"
{ cat "$sample/fleet.csv"; awk 'BEGIN { split("webmail db imap relay", role, " ")
	for (i = 0; i < 99991; i++) printf "srv%06d,10.%d.%d.%d,%s\n", i, 100 + int(i / 65536), int(i / 256) % 256, i % 256, role[i % 4 + 1] }'; } > "$work/bigfleet.csv"
t 0 "a fleet of 100,000 rows" analyze -q --fleet "$work/bigfleet.csv" -o "$work/big.out" "$sample/logs"
"$bin" analyze -q --fleet "$sample/fleet.csv" -o "$work/small.out" "$sample/logs" >/dev/null 2>&1
is "a fleet of 100,000 rows: the sample's servers judged the same" \
	"$(grep -E '^(wm[1-6]),' "$work/big.out/servers.csv")" "$(grep -E '^(wm[1-6]),' "$work/small.out/servers.csv")"
is "a fleet of 100,000 rows: every webmail row a server" "$(grep -c '^srv' "$work/big.out/servers.csv")" 24998
cmp -s "$work/big.out/exposed_addresses.csv" "$work/small.out/exposed_addresses.csv"; check_status $? "a fleet of 100,000 rows: the same exposed addresses"
rm -rf "$work/big.out" "$work/small.out" "$work/bigfleet.csv"
t 2 "bad year" analyze --year 12x -o "$work/out" "$work/maillog"; nothing_written "bad year"; one_line_error "bad year"
t 2 "bad timezone" analyze --timezone Mars/Olympus -o "$work/out" "$work/maillog"; nothing_written "bad timezone"; one_line_error "bad timezone"
t 2 "bad --timeline" analyze --timeline some -o "$work/out" "$work/maillog"; nothing_written "bad --timeline"
t 2 "bad --threshold" analyze --threshold nope=1 -o "$work/out" "$work/maillog"; nothing_written "bad --threshold"
# a value a cast would wrap or that is not a number is refused, naming the threshold
for bad in exfil-min-bytes=1e20 exfil-min-bytes=inf bulk-min-rows=1e30 bulk-min-rows=-1 \
	bruteforce-failures=2.5 exfil-factor=nan exfil-factor=-inf score-compromised=1e400; do
	t 2 "--threshold $bad refused" analyze --threshold "$bad" -o "$work/out" "$work/maillog"
	nothing_written "--threshold $bad"; one_line_error "--threshold $bad"
	check "--threshold $bad: message names it" grep -q "${bad%%=*}" "$work/stderr"
done
t 0 "--threshold exfil-min-bytes=1e6 accepted" analyze -q --threshold exfil-min-bytes=1e6 --threshold exfil-factor=2.5 -o "$work/out" "$work/maillog"
t 2 "bad jobs" analyze -j 0 -o "$work/out" "$work/maillog"; nothing_written "bad jobs"
t 2 "unreadable geoip" analyze --geoip "$work/nope.mmdb" -o "$work/out" "$work/maillog"; nothing_written "unreadable geoip"
t 2 "geoip that is not a database" analyze --geoip "$work/maillog" -o "$work/out" "$work/maillog"; nothing_written "bad geoip"
t 2 "output under a regular file" analyze -o "$work/maillog/out" "$work/maillog"
t 0 "a small good run" analyze -q --fleet "$work/fleet.csv" -o "$work/out" "$work/maillog"
for f in servers.csv exposed_addresses.csv timeline.csv input_stats.csv report.html; do
	check "$f written" test -f "$work/out/$f"
done
is "result files are mode 0600" "$(stat -c %a "$work/out/servers.csv" 2>/dev/null)" 600
# a killed --timeline all run left its spill directory: the next run removes it
mkdir -p "$work/out/.timeline-spill.999999" && : > "$work/out/.timeline-spill.999999/run0"
"$bin" analyze -q -o "$work/out" "$work/maillog" >/dev/null 2>&1
check "a dead run's spill directory is removed" test ! -e "$work/out/.timeline-spill.999999"
t 0 "stdin input" analyze -q -o "$work/out" - < "$work/maillog"
check "stdin accounted as - (written '- by the formula guard)" grep -q "^'-,text," "$work/out/input_stats.csv"
done_testing

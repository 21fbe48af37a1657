#!/bin/sh
# One capture link on several cores (src/cli/split.h, issue 21): with more
# than one job a link's packets are split by address pair across workers;
# every output must be the one a single thread gives, byte for byte. The
# link is made of the hard cases: interleaved sessions of many clients, a
# connection going on in the next file, passive FTP (the data connection
# found through the control connection's announcement), a DNS answer in two
# fragments (the second first), a connection quiet for three hours (two
# flows), a connection left open that times out at the link's end though its
# worker sees no later packet, datagrams and fragments whose times jump back
# and forth by more than the idle time, frames without IP, a damaged last
# file; a
# generated incident's link cut into rotated pieces; and the public corpus's
# captures when $BS_CORPUS is there. Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
bin="$top_builddir/breachscope"
work="$top_builddir/tests/split-work"
rm -rf "$work"; mkdir -p "$work/link" "$work/gen"
. "$top_srcdir/tests/tap.sh"

"$top_builddir/tests/mkproto_pcap" write-split "$work/link"
check_status $? "wrote the link of hard cases (a.pcap, b.pcap)"
"$top_builddir/tests/mkproto_pcap" write "$work/link/c-protocols.pcap"
check_status $? "and a capture of SMTP, MySQL, DNS and HTTP sessions after it"
# the protocols capture starts at the same time as a.pcap: it is another
# link of the same directory (scan.c), read after the first ends
printf 'name,address,role\nwm1,198.51.100.80,webmail\nwm2,198.51.100.81,webmail\n' > "$work/fleet.csv"

run() { # run NAME JOBS INPUTS...
	name=$1 jobs=$2; shift 2
	"$bin" analyze -q -j "$jobs" --timeline all --debug "$work/$name.debug" --fleet "${fleet:-$work/fleet.csv}" \
		--local-domain example.net -o "$work/$name" "$@" >/dev/null 2>"$work/$name.err"
}
same() { # same A B: every output file and the debug lines (in any order)
	for f in servers.csv exposed_addresses.csv timeline.csv input_stats.csv report.html; do
		cmp -s "$work/$1/$f" "$work/$2/$f" || { echo "# $f differs: $1 $2"; return 1; }
	done
	grep -v 'workers, its flows split by address pair' "$work/$1.debug" | sort > "$work/$1.dsorted"
	grep -v 'workers, its flows split by address pair' "$work/$2.debug" | sort > "$work/$2.dsorted"
	cmp -s "$work/$1.dsorted" "$work/$2.dsorted" || { echo "# debug lines differ: $1 $2"; return 1; }
}

run j1 1 "$work/link"; check_status $? "the link, --jobs 1"
for j in 2 3 8; do
	run "j$j" "$j" "$work/link"; check_status $? "the link, --jobs $j"
	same j1 "j$j"; check_status $? "--jobs $j gives the bytes of --jobs 1 (every output, the debug lines)"
done
grep -q 'a.pcap: capture: read by 3 workers, its flows split by address pair' "$work/j3.debug"
check_status $? "--jobs 3 did split the link (its debug file says so)"
! grep -q 'split by address pair' "$work/j1.debug"
check_status $? "--jobs 1 did not"

# the hard cases reached the output (else the comparison proves little)
tl="$work/j1/timeline.csv"
grep -q 'ftp download of users.sql, 53 bytes' "$tl"; check_status $? "the FTP data connection was matched to its announcement"
grep -q 'ftp.victim@example.net' "$tl"; check_status $? "the address in the FTP transfer was read"
grep -q 'DNS query frag.example.org (type 1) from 192.0.2.61, 1 answer' "$tl"; check_status $? "the fragmented DNS answer was reassembled"
[ "$(grep -c 'tcp 192.0.2.90:43000 -> 198.51.100.80:80' "$tl")" -eq 2 ]; check_status $? "the connection quiet for three hours is two flows"
[ "$(grep -c 'later@example.net in a response body' "$tl")" -eq 12 ]; check_status $? "the twelve connections going on in b.pcap were followed"
grep -q 'GET /inbox -> 200' "$tl"; check_status $? "their requests in b.pcap were parsed"
[ "$(grep -c -- '-> 198\.51\.100\.9:9999' "$tl")" -eq 32 ]
check_status $? "each of the 16 clients whose next datagram comes back in time after another pair's is two flows"
grep -q '/link/a.pcap,pcap,20[0-9]*,2[0-9][0-9],' "$work/j1/input_stats.csv"
check_status $? "the link's packets are counted in input_stats.csv"

# a damaged last file: cut in the middle of a record
head -c 5000 "$work/link/b.pcap" > "$work/link/b-cut.pcap" && rm "$work/link/b.pcap"
run d1 1 "$work/link"; [ $? -eq 3 ]; check_status $? "with a damaged file, --jobs 1: exit status 3 (damaged input)"
run d3 3 "$work/link"; [ $? -eq 3 ]; check_status $? "with a damaged file, --jobs 3: exit status 3"
same d1 d3; check_status $? "a damaged file: --jobs 3 gives the bytes of --jobs 1"
grep -q 'b-cut.pcap,pcap,5000,[0-9]*,[0-9]*,[0-9]*,[0-9]*,1' "$work/d3/input_stats.csv"
check_status $? "the damaged file is marked truncated"

# a generated incident's capture link, cut into rotated pieces
"$top_builddir/samples/bs-gen" --scenario reference --seed 21 --users 80 --out "$work/in" >/dev/null 2>&1
check_status $? "generated the reference incident"
"$top_builddir/tests/capsplit" cat "$work/whole.pcap" $(ls "$work/in/pcap"/* | sort) &&
	"$top_builddir/tests/capsplit" split 700 "$work/gen/edge.pcap" "$work/whole.pcap" >/dev/null
check_status $? "its captures joined and cut every 700 packets"
fleet="$work/in/fleet.csv"
run g1 1 "$work/in/logs" "$work/gen"; check_status $? "the incident, --jobs 1"
run g4 4 "$work/in/logs" "$work/gen"; check_status $? "the incident, --jobs 4"
same g1 g4; check_status $? "the incident: --jobs 4 gives the bytes of --jobs 1"
grep -q '^wm[0-9]*,[0-9.]*,compromised,' "$work/g1/servers.csv"; check_status $? "and finds the compromised server"

# the public corpus's captures (most of them damaged on purpose, times that
# jump), when it is there: one directory, so links of many files
if [ -d "${BS_CORPUS:-}/pcap" ]; then
	run c1 1 "$BS_CORPUS/pcap"; check_status $? "the corpus captures, --jobs 1"
	run c3 3 "$BS_CORPUS/pcap"; check_status $? "the corpus captures, --jobs 3"
	same c1 c3; check_status $? "the corpus captures: --jobs 3 gives the bytes of --jobs 1"
fi
done_testing

#!/bin/sh
# Rotated captures (docs/CAPTURE.md): the captures of one link, cut by a
# rotating tcpdump into files whose names do not sort in time order, must
# give exactly what the uncut capture gives: they are read in the order of
# their first packets through one reassembly, so connections cut between
# files go on. The same pieces read each on its own must differ (the test
# would otherwise prove nothing). Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
bin="$top_builddir/breachscope"
capsplit="$top_builddir/tests/capsplit"
work="$top_builddir/tests/rotated-work"
rm -rf "$work"; mkdir -p "$work/whole" "$work/rot" "$work/alone"
. "$top_srcdir/tests/tap.sh"

"$top_builddir/samples/bs-gen" --scenario reference --seed 11 --users 120 --out "$work/in" >/dev/null 2>&1
check_status $? "generated the reference incident"
fleet="$work/in/fleet.csv"
# the daily captures joined into one, then cut every 400 packets
"$capsplit" cat "$work/whole/edge.pcap" $(ls "$work/in/pcap"/* | sort)
check_status $? "joined the daily captures into one"
pieces=$("$capsplit" split 400 "$work/rot/edge.pcap" "$work/whole/edge.pcap")
[ "${pieces:-0}" -gt 20 ] && [ -e "$work/rot/edge.pcap10" ]
check_status $? "cut into $pieces rotated files (edge.pcap, edge.pcap1, ..., edge.pcap10 sorts before edge.pcap2)"
i=0
for f in "$work/rot"/*; do
	mkdir "$work/alone/$i" && ln -s "../../rot/${f##*/}" "$work/alone/$i/"
	i=$((i + 1))
done

run() { # run NAME CAPTURE-INPUTS...
	out="$work/out-$1"; shift
	"$bin" analyze -q -j 2 ${timeline:-} --fleet "$fleet" --local-domain example.net -o "$out" "$work/in/logs" "$@" >/dev/null 2>"$out.err"
}
run whole "$work/whole"; check_status $? "analyze with the uncut capture"
run rot "$work/rot"; check_status $? "analyze with the rotated captures"
run alone "$work/alone"/*; check_status $? "analyze with every rotated file in a directory of its own"

for f in servers.csv exposed_addresses.csv; do
	cmp -s "$work/out-whole/$f" "$work/out-rot/$f"
	check_status $? "rotated captures: $f identical to the uncut capture's"
done
# the timeline names the file and packet of each row: compare the rest
rest() { sed 's/,[^,]*,[^,]*$//' "$work/out-$1/timeline.csv" | sort; }
rest whole > "$work/tl-whole"; rest rot > "$work/tl-rot"; rest alone > "$work/tl-alone"
[ "$(wc -l < "$work/tl-whole")" -gt 50 ]; check_status $? "the timeline has rows to compare ($(wc -l < "$work/tl-whole"))"
cmp -s "$work/tl-whole" "$work/tl-rot"; check_status $? "rotated captures: timeline identical but for file names and packet numbers"
grep -q 'rot/edge.pcap[0-9]' "$work/out-rot/timeline.csv"; check_status $? "rotated captures: timeline rows name the rotated file they came from"
# every packet counted once, in the file that holds it
pk() { awk -F, -v pat="$2" 'NR > 1 && $1 ~ pat { r += $4 } END { print r + 0 }' "$work/out-$1/input_stats.csv"; }
whole_pk=$(pk whole 'whole/'); rot_pk=$(pk rot 'rot/')
[ "$whole_pk" -gt 0 ] && [ "$whole_pk" = "$rot_pk" ]; check_status $? "every packet counted once ($whole_pk uncut, $rot_pk in the rotated files)"
[ "$(grep -c 'rot/edge' "$work/out-rot/input_stats.csv")" = "$pieces" ]; check_status $? "one input_stats row per rotated file"
# sensitivity: read each alone, connections cut between files are torn
if cmp -s "$work/tl-whole" "$work/tl-alone" && cmp -s "$work/out-whole/exposed_addresses.csv" "$work/out-alone/exposed_addresses.csv"; then
	fail "files read each on their own differ from the uncut capture (else this test proves nothing)"
else
	pass "files read each on their own differ from the uncut capture (else this test proves nothing)"
fi
# a directory holding two links (a file that starts before the previous one
# ended is not its continuation): the same as the two links in two places.
# The second link is a copy of the last 50 rotated files: read as a
# continuation, its packets would be retransmissions of the first link's.
mkdir -p "$work/mixed" "$work/copy"
last=$((pieces - 1))
"$capsplit" cat "$work/copy/copy.pcap" $(i=$((last - 49)); while [ $i -le $last ]; do echo "$work/rot/edge.pcap$i"; i=$((i + 1)); done)
check_status $? "a second link: a copy of the last 50 rotated files"
ln -s ../copy/copy.pcap "$work/mixed/copy.pcap"
for f in "$work/rot"/*; do ln -s "../rot/${f##*/}" "$work/mixed/"; done
timeline="--timeline all" # every event: the few flows open at a file's end matter
run mixed "$work/mixed"; check_status $? "analyze with two overlapping links in one directory"
run two "$work/copy" "$work/rot"; check_status $? "analyze with the two links in two directories"
timeline=""
d=0
for f in servers.csv exposed_addresses.csv; do
	cmp -s "$work/out-mixed/$f" "$work/out-two/$f" || { d=1; echo "#   $f differs"; }
done
rest mixed > "$work/tl-mixed"; rest two > "$work/tl-two"
cmp -s "$work/tl-mixed" "$work/tl-two" || { d=1; echo "#   timeline differs"; }
check_status $d "overlapping files in one directory are not read as one connection stream"
# a sharded run keeps the link in one shard and gives the same bytes
"$bin" scan -q -j 1 --fleet "$fleet" -o "$work/logs.state" "$work/in/logs" >/dev/null 2>&1 &&
	"$bin" scan -q -j 1 --fleet "$fleet" -o "$work/rot.state" "$work/rot" >/dev/null 2>&1 &&
	"$bin" merge -q --fleet "$fleet" --local-domain example.net -o "$work/out-merged" "$work/rot.state" "$work/logs.state" >/dev/null 2>&1
check_status $? "scan (logs; the link) and merge"
d=0
for f in servers.csv exposed_addresses.csv timeline.csv input_stats.csv; do
	cmp -s "$work/out-rot/$f" "$work/out-merged/$f" || { d=1; echo "#   $f differs"; }
done
check_status $d "scan and merge of the rotated link: same bytes as analyze"
done_testing

#!/bin/sh
# Sharded runs (docs/SCALING.md): merge(scan(shard 1..k)) must give the same
# bytes as analyze over all inputs, for any split and any order of the state
# files; damaged, foreign and overlapping state files are refused (exit 2).
# Also runs the documented GNU parallel recipe with local jobs. Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
bin="$top_builddir/breachscope"
work="$top_builddir/tests/shard-work"
rm -rf "$work"; mkdir -p "$work"
. "$top_srcdir/tests/tap.sh"

# inputs: the generated reference incident
"$top_builddir/samples/bs-gen" --scenario reference --seed 11 --users 120 --out "$work/in" >/dev/null 2>&1
check_status $? "generated the reference incident"
fleet="$work/in/fleet.csv"
# every log file is a unit; the captures of the edge link are one (rotated
# captures of a link are read as one stream: docs/SCALING.md)
{ find "$work/in/logs" -type f; echo "$work/in/pcap"; } | sort > "$work/files"
total=$(wc -l < "$work/files")
[ "$total" -gt 10 ]; check_status $? "there are inputs to split ($total files)"

"$bin" analyze -q -j 2 --fleet "$fleet" --local-domain example.net -o "$work/whole" $(cat "$work/files") >/dev/null 2>&1
check_status $? "analyze over all inputs"

same() { # same DIR DESC
	d=0
	for f in servers.csv exposed_addresses.csv timeline.csv input_stats.csv report.html; do
		cmp -s "$work/whole/$f" "$1/$f" || { d=1; echo "#   $f differs"; }
	done
	check_status $d "$2"
}

# several random splits, state files merged in random order
for split in 1 2 3 4; do
	k=$((split + 1))
	rm -f "$work"/shard.* "$work"/*.state
	# deal the files to k shards by a seeded shuffle
	awk -v seed="$split" -v k="$k" 'BEGIN { srand(seed) } { print int(rand() * k) "\t" $0 }' "$work/files" > "$work/dealt"
	states=""
	for s in $(seq 0 $((k - 1))); do
		awk -F'\t' -v s="$s" '$1 == s { print $2 }' "$work/dealt" > "$work/shard.$s"
		[ -s "$work/shard.$s" ] || continue
		"$bin" scan -q -j 1 --fleet "$fleet" -o "$work/$s.state" $(cat "$work/shard.$s") >/dev/null 2>&1
		states="$states $work/$s.state"
	done
	order=$(printf '%s\n' $states | awk -v seed="$split" 'BEGIN { srand(seed * 7) } { print rand() "\t" $0 }' | sort | cut -f2)
	"$bin" merge -q --fleet "$fleet" --local-domain example.net -o "$work/merged$split" $order >/dev/null 2>&1
	check_status $? "split $split: merge of $k shards succeeds"
	same "$work/merged$split" "split $split: merge of $k shards gives the same bytes as analyze"
done

# refusals: exit 2, naming the file
s0="$work/0.state"
cp "$s0" "$work/dup.state"
"$bin" merge -q -o "$work/bad1" "$s0" "$work/dup.state" 2>"$work/err" >/dev/null
[ $? = 2 ] && grep -q "more than one state file" "$work/err"; check_status $? "the same input in two state files is refused"
head -c 1000 "$s0" > "$work/trunc.state"
"$bin" merge -q -o "$work/bad2" "$work/trunc.state" 2>"$work/err" >/dev/null
[ $? = 2 ] && grep -q "trunc.state" "$work/err"; check_status $? "a truncated state file is refused, naming it"
cp "$s0" "$work/flip.state"
printf 'X' | dd of="$work/flip.state" bs=1 seek=5000 conv=notrunc 2>/dev/null
"$bin" merge -q -o "$work/bad3" "$work/flip.state" 2>"$work/err" >/dev/null
[ $? = 2 ] && grep -q "checksum" "$work/err"; check_status $? "a damaged state file is refused (checksum)"
cp "$s0" "$work/ver.state"
printf '\011' | dd of="$work/ver.state" bs=1 seek=8 conv=notrunc 2>/dev/null
"$bin" merge -q -o "$work/bad4" "$work/ver.state" 2>"$work/err" >/dev/null
[ $? = 2 ] && grep -q "checksum\|version" "$work/err"; check_status $? "a state file of another version is refused"
# a checksum-valid state file whose first input row says truncated = 2:
# not a bool, so the file is damaged (found by reading, not by fuzzing luck)
if perl -MCompress::Zlib -e 1 2>/dev/null; then
	perl -MCompress::Zlib -e '
		local $/; open(my $in, "<", $ARGV[0]) or die; binmode $in; my $f = <$in>;
		my $body = substr($f, 0, length($f) - 12);
		my $o = 32;                                   # magic, version, fingerprint, row count
		for (1 .. 2) { $o += 8 + unpack("Q<", substr($body, $o, 8)); }  # source, format
		substr($body, $o + 40, 1) = chr(2);           # bytes, records, parsed, ignored, malformed, truncated
		open(my $out, ">", $ARGV[1]) or die; binmode $out;
		print $out $body, pack("Q<", length $body), pack("L<", crc32($body));' "$s0" "$work/bool.state"
	"$bin" merge -q -o "$work/bad6" "$work/bool.state" 2>"$work/err" >/dev/null
	[ $? = 2 ] && grep -q "bool.state.*damaged" "$work/err"; check_status $? "a state file with a truncated flag that is not 0 or 1 is refused"
else
	skip "perl's Compress::Zlib absent: bad-bool state case"
fi
"$bin" merge -q -o "$work/bad5" "$work/files" 2>"$work/err" >/dev/null
[ $? = 2 ] && grep -q "not a breachscope state file" "$work/err"; check_status $? "a file that is not a state file is refused"
[ ! -e "$work/bad1" ] && [ ! -e "$work/bad2" ] && [ ! -e "$work/bad5" ]; check_status $? "nothing is written when a state file is refused"

# the GNU parallel recipe of docs/SCALING.md, with local jobs
if command -v parallel >/dev/null 2>&1; then
	rm -f "$work"/par-*.state
	# one scan per host directory and per capture link, two at a time
	( ls -d "$work/in/logs"/* "$work/in/pcap" ) | \
		parallel --will-cite -j 2 "$bin" scan -q -j 1 --fleet "$fleet" -o "$work/par-{#}.state" {} >/dev/null 2>&1
	check_status $? "parallel: scans"
	"$bin" merge -q --fleet "$fleet" --local-domain example.net -o "$work/par" "$work"/par-*.state >/dev/null 2>&1
	check_status $? "parallel: merge"
	# directories as inputs are walked in sorted order: the same files as the whole run
	same "$work/par" "parallel: same bytes as analyze"
else
	skip "GNU parallel not installed"
fi
done_testing

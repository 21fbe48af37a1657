#!/bin/sh
# Same inputs, same bytes: whatever --jobs and whatever the order of the
# inputs on the command line. Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
bin="$top_builddir/breachscope"
work="$top_builddir/tests/determinism-work"
rm -rf "$work"; mkdir -p "$work"
. "$top_srcdir/tests/tap.sh"
"$top_builddir/samples/bs-gen" --scenario two-servers --seed 5 --users 100 --out "$work/in" >/dev/null 2>&1
check_status $? "generated the two-servers incident"
files=$(find "$work/in/logs" "$work/in/pcap" -type f | sort)
reversed=$(printf '%s\n' $files | sort -r)
run() { "$bin" analyze -q --fleet "$work/in/fleet.csv" --local-domain example.net "$@" >/dev/null 2>&1; }
run -j 1 -o "$work/j1" $files; check_status $? "--jobs 1"
run -j 4 -o "$work/j4" $files; check_status $? "--jobs 4"
run -j 3 -o "$work/rev" $reversed; check_status $? "--jobs 3, inputs reversed"
run -j 2 -o "$work/dirs" "$work/in/pcap" "$work/in/logs"; check_status $? "directories instead of files"
for f in servers.csv exposed_addresses.csv timeline.csv input_stats.csv report.html; do
	cmp -s "$work/j1/$f" "$work/j4/$f"; check_status $? "$f: --jobs 1 and --jobs 4 give the same bytes"
	cmp -s "$work/j1/$f" "$work/rev/$f"; check_status $? "$f: reversed input order gives the same bytes"
done
# --timeline all: every event, in order, the same whatever --jobs
run -j 1 --timeline all -o "$work/all1" $files; check_status $? "--timeline all, --jobs 1"
run -j 4 --timeline all -o "$work/all4" $reversed; check_status $? "--timeline all, --jobs 4, inputs reversed"
cmp -s "$work/all1/timeline.csv" "$work/all4/timeline.csv"; check_status $? "--timeline all: same bytes whatever --jobs and input order"
notable=$(wc -l < "$work/j1/timeline.csv"); all=$(wc -l < "$work/all1/timeline.csv")
[ "$all" -gt $((notable * 10)) ]; check_status $? "--timeline all has every event ($all rows, $notable notable)"
awk -F, 'NR > 1 { if ($2 < prev) bad = 1; prev = $2 } END { exit bad }' "$work/all1/timeline.csv"; check_status $? "--timeline all is ordered by time"
[ -z "$(ls -A "$work/all1" | grep -v '\.csv$\|\.html$')" ]; check_status $? "--timeline all leaves no spill files"
cmp -s "$work/j1/exposed_addresses.csv" "$work/all1/exposed_addresses.csv"; check_status $? "--timeline all changes no other result"
# directories: the sources are the walked paths, which are the same files
cmp -s "$work/j1/exposed_addresses.csv" "$work/dirs/exposed_addresses.csv"; check_status $? "directories give the same exposure"
done_testing

#!/bin/sh
# A run stopped by SIGTERM or SIGINT leaves no half-written result file and no
# mixed set (src/core/interrupt.h): stopped while the results are written, the
# previous results stay whole and no temporary is left; stopped while they
# are renamed into place, the whole new set lands, then the signal ends the
# run. The moments are made wide with an LD_PRELOAD shim (tests/slowio.c)
# that slows fsync and rename. Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
bin="$top_builddir/breachscope"
work="$top_builddir/tests/interrupt-work"
shim="$top_builddir/tests/slowio.so"
rm -rf "$work"; mkdir -p "$work"
. "$top_srcdir/tests/tap.sh"
[ -f "$shim" ] || skip_all "$shim not built"
# the shim is not built with the sanitizers: let ASan start anyway
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"; export ASAN_OPTIONS
inc="$top_srcdir/samples/incident"
files="servers.csv exposed_addresses.csv timeline.csv input_stats.csv report.html"

run_a() { "$bin" analyze -q -j 1 --fleet "$inc/fleet.csv" --local-domain example.net -o "$1" "$inc/logs" "$inc/pcap"; }
run_b() { "$bin" analyze -q -j 1 --fleet "$inc/fleet.csv" --local-domain example.net -o "$1" "$inc/logs"; }
# in the background, as the process itself (so $! is breachscope's pid), with
# SIGINT and SIGTERM at their defaults (a shell starts background jobs with
# SIGINT ignored, and breachscope leaves an ignored signal ignored)
bg_b() { # bg_b OUT ENV-ASSIGNMENTS...
	out=$1; shift
	( exec env --default-signal=INT,TERM "$@" LD_PRELOAD="$shim" "$bin" analyze -q -j 1 --fleet "$inc/fleet.csv" \
		--local-domain example.net -o "$out" "$inc/logs" >/dev/null 2>&1 ) &
	pid=$!
}
run_a "$work/ref-a" >/dev/null 2>&1; check_status $? "reference results A (logs and captures)"
run_b "$work/ref-b" >/dev/null 2>&1; check_status $? "reference results B (logs only)"
cmp -s "$work/ref-a/exposed_addresses.csv" "$work/ref-b/exposed_addresses.csv"
[ $? != 0 ]; check_status $? "A and B differ (else a mixed set could not be seen)"

same_set() { # same_set DIR REF: every result file of DIR equals REF's
	for f in $files; do cmp -s "$1/$f" "$2/$f" || return 1; done
}
no_temps() { [ -z "$(ls -A "$1" | grep '\.tmp\.')" ]; }
wait_for() { # wait_for GLOB-IN-DIR: up to 30 s
	i=0
	while [ $i -lt 300 ]; do
		for f in $1; do [ -e "$f" ] && return 0; done
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

# 1. stopped while the temporaries are written: previous results kept whole
for sig in TERM INT; do
	out="$work/out-write-$sig"; cp -r "$work/ref-a" "$out"
	bg_b "$out" SLOWIO_FSYNC_MS=3000
	wait_for "$out/*.tmp.*"; check_status $? "SIG$sig while writing: a temporary appeared"
	kill -s "$sig" $pid; wait $pid; rc=$?
	[ $rc -gt 128 ]; check_status $? "SIG$sig while writing: the run ended by the signal (status $rc)"
	no_temps "$out"; check_status $? "SIG$sig while writing: no temporary left"
	same_set "$out" "$work/ref-a"; check_status $? "SIG$sig while writing: the previous results are intact"
done

# 2. stopped while the set is renamed into place: the whole new set lands
out="$work/out-rename"; cp -r "$work/ref-a" "$out"
bg_b "$out" SLOWIO_RENAME_MS=500
wait_for "$out/report.html.tmp.*"; check_status $? "SIGTERM while renaming: the last temporary was written"
sleep 0.7 # inside the second of five slowed renames
kill -s TERM $pid; wait $pid; rc=$?
[ $rc -gt 128 ]; check_status $? "SIGTERM while renaming: the run ended by the signal afterwards (status $rc)"
no_temps "$out"; check_status $? "SIGTERM while renaming: no temporary left"
same_set "$out" "$work/ref-b"; check_status $? "SIGTERM while renaming: the new set is whole (no mix of old and new)"

# 3. a scan stopped while writing its state file leaves neither it nor a temporary
( exec env --default-signal=TERM SLOWIO_FSYNC_MS=3000 LD_PRELOAD="$shim" "$bin" scan -q -j 1 --fleet "$inc/fleet.csv" \
	-o "$work/shard.state" "$inc/logs" >/dev/null 2>&1 ) &
pid=$!
wait_for "$work/shard.state.tmp.*"; check_status $? "scan: the state temporary appeared"
kill -s TERM $pid; wait $pid; rc=$?
[ $rc -gt 128 ] && [ ! -e "$work/shard.state" ] && [ -z "$(ls "$work" | grep 'shard.state.tmp')" ]
check_status $? "scan stopped by SIGTERM: no state file, no temporary (status $rc)"
done_testing

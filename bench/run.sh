#!/bin/sh
# bench/run.sh - breachscope's benchmark in one command (issue 11).
#
# Generates (or reuses) a large sample archive, then measures with hyperfine
# (medians of RUNS runs, --output=pipe) the floors (bare zlib, bare libpcap),
# the peers (pflogsumm, tshark field export) and breachscope analyze on logs,
# captures, both, and one capture link (the first replica: one directory)
# with --jobs 1 and --jobs NPROC; peak memory comes from
# /usr/bin/time -v, at the full archive and at half of it. Writes
# $BENCH_DIR/results.md (the table for docs/PERFORMANCE.md) and prints it.
#
# Run from a build directory (or set BUILD): it needs breachscope,
# samples/bs-gen, bench/zlib_floor and bench/pcap_floor built there.
#
# Environment (defaults):
#   BENCH_DIR=/tmp/breachscope-bench  where the archive and results go
#   LOG_GB=2      uncompressed text logs in the archive (GB, 1e9 bytes)
#   PCAP_GB=1     captures in the archive (GB)
#   RUNS=3        hyperfine runs per command; PEER_RUNS (default RUNS) for the
#                 slow peers pflogsumm and tshark
#   JOBS=$(nproc) the "all cores" job count
#   BASE_SCALE=10 BASE_USERS=300 SEED=1  the generated base incident
#   BUILD=.       build directory;  ISAL_BUILD=  a --with-isal build directory
#                 (if set: its breachscope is also measured on the logs and its
#                 results are compared byte for byte with the zlib build's)
#   PEERS=yes     PEERS=no leaves out pflogsumm and tshark (their rows and the
#                 targets that compare with them say "not measured")
#
# Rows that are compared with each other (a floor and breachscope -j1 and -jN
# on the same input; zlib and ISA-L) form a group whose runs are interleaved:
# run 1 of each member, then run 2 of each, and so on (one hyperfine run per
# invocation, combined afterwards). A busy spell of the host then slows every
# member of a comparison alike instead of skewing the one it fell on.
#
# Why the archive is replicated: bs-gen writes about 70 MB of uncompressed
# maillog per minute of generation at --scale 10, so a 2 GB archive is made
# of copies of one generated base incident (the same users, hosts, flows):
# log files are copied as they are into host directories rN/HOST (an access
# log's server is named by its directory, docs/HACKING.md: HOST-rN would make
# every replica a new server, and the population would grow), the
# captures are inflated once (libpcap and the 1 GB/s target are about packet
# handling, not inflation) and copied. Input grows, the user population does
# not: exactly the condition of the "memory does not grow" target.
set -eu

BENCH_DIR=${BENCH_DIR:-/tmp/breachscope-bench}
LOG_GB=${LOG_GB:-2}
PCAP_GB=${PCAP_GB:-1}
RUNS=${RUNS:-3}
PEER_RUNS=${PEER_RUNS:-$RUNS}
JOBS=${JOBS:-$(nproc)}
BASE_SCALE=${BASE_SCALE:-10}
BASE_USERS=${BASE_USERS:-300}
SEED=${SEED:-1}
BUILD=$(cd "${BUILD:-.}" && pwd)
ISAL_BUILD=${ISAL_BUILD:-}
PEERS=${PEERS:-yes}

BS=$BUILD/breachscope
for prog in "$BS" "$BUILD/samples/bs-gen" "$BUILD/bench/zlib_floor" "$BUILD/bench/pcap_floor"; do
	test -x "$prog" || { echo "run.sh: $prog not built (make breachscope samples/bs-gen bench/zlib_floor bench/pcap_floor)" >&2; exit 2; }
done
tools="hyperfine jq /usr/bin/time"
[ "$PEERS" = no ] || tools="$tools pflogsumm tshark"
for tool in $tools; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool missing (apt-get install hyperfine jq pflogsumm tshark time)" >&2; exit 2; }
done

mkdir -p "$BENCH_DIR"
BASE=$BENCH_DIR/base-s$BASE_SCALE-u$BASE_USERS-seed$SEED
ARCH=$BENCH_DIR/archive-l$LOG_GB-p$PCAP_GB
RES=$BENCH_DIR/results-l$LOG_GB-p$PCAP_GB
mkdir -p "$RES"

# --- the base incident ------------------------------------------------------
if ! test -f "$BASE/.done"; then
	rm -rf "$BASE"
	echo "generating base incident (scale $BASE_SCALE, $BASE_USERS users) in $BASE" >&2
	"$BUILD/samples/bs-gen" --scenario reference --seed "$SEED" --users "$BASE_USERS" \
		--scale "$BASE_SCALE" --out "$BASE" >/dev/null
	mkdir -p "$BASE/pcapraw"
	for f in "$BASE"/pcap/*; do
		case $f in
		*.gz) gzip -dc "$f" >"$BASE/pcapraw/$(basename "$f" .gz)" ;;
		*) cp "$f" "$BASE/pcapraw/" ;;
		esac
	done
	find "$BASE/logs" -type f -exec gzip -dc {} + | wc -c >"$BASE/.logbytes"
	cat "$BASE"/pcapraw/* | wc -c >"$BASE/.pcapbytes"
	touch "$BASE/.done"
fi
base_log=$(cat "$BASE/.logbytes")
base_pcap=$(cat "$BASE/.pcapbytes")

# copies needed for N GB (at least one)
copies() { awk -v gb="$1" -v b="$2" 'BEGIN { n = int(gb * 1e9 / b + 0.999); print n < 1 ? 1 : n }'; }
nlog=$(copies "$LOG_GB" "$base_log")
npcap=$(copies "$PCAP_GB" "$base_pcap")

# --- the archive --------------------------------------------------------------
if ! test -f "$ARCH/.done-rN-HOST"; then
	rm -rf "$ARCH"
	mkdir -p "$ARCH/logs" "$ARCH/pcap"
	echo "building archive: $nlog copies of the logs, $npcap of the captures" >&2
	k=0
	while [ "$k" -lt "$nlog" ]; do
		for h in "$BASE"/logs/*; do
			d=$ARCH/logs/r$k/$(basename "$h")
			mkdir -p "$d" && cp "$h"/* "$d/"
		done
		k=$((k + 1))
	done
	k=0
	while [ "$k" -lt "$npcap" ]; do
		mkdir -p "$ARCH/pcap/r$k" && cp "$BASE"/pcapraw/* "$ARCH/pcap/r$k/"
		k=$((k + 1))
	done
	cp "$BASE/fleet.csv" "$ARCH/"
	touch "$ARCH/.done-rN-HOST"
fi
log_bytes=$((base_log * nlog))
pcap_bytes=$((base_pcap * npcap))
find "$ARCH/logs" -type f -name '*.gz' | sort >"$RES/logs.list"
find "$ARCH/logs" -type f -name 'maillog*' | sort >"$RES/maillogs.list"
find "$ARCH/pcap" -type f | sort >"$RES/pcaps.list"
# the first half of the replicas, for the memory-growth check
half_logs=$(i=0; while [ "$i" -lt $(((nlog + 1) / 2)) ]; do echo "$ARCH/logs/r$i"; i=$((i + 1)); done | tr '\n' ' ')
half_pcap=$(i=0; while [ "$i" -lt $(((npcap + 1) / 2)) ]; do echo "$ARCH/pcap/r$i"; i=$((i + 1)); done | tr '\n' ' ')

ANALYZE="$BS analyze -q --fleet $ARCH/fleet.csv --local-domain example.net"
OUT=$BENCH_DIR/out
FIELDS="-e http.request.uri -e smtp.req.parameter -e mysql.query"

# --- measurements -------------------------------------------------------------
# name|input bytes|runs|group|command; the rows of one group run interleaved.
# Row numbers are the table's: a peer left out keeps its row, "not measured".
cat >"$RES/commands" <<EOF
zlib_floor|$log_bytes|$RUNS|logs|xargs -a $RES/logs.list $BUILD/bench/zlib_floor
breachscope logs -j1|$log_bytes|$RUNS|logs|$ANALYZE -j 1 -o $OUT/logs-j1 $ARCH/logs
breachscope logs -j$JOBS|$log_bytes|$RUNS|logs|$ANALYZE -j $JOBS -o $OUT/logs-jN $ARCH/logs
pflogsumm (gzip -dc, piped)|$log_bytes|$PEER_RUNS|peer|xargs -a $RES/maillogs.list gzip -dc | pflogsumm
pcap_floor|$pcap_bytes|$RUNS|caps|xargs -a $RES/pcaps.list $BUILD/bench/pcap_floor
breachscope captures -j1|$pcap_bytes|$RUNS|caps|$ANALYZE -j 1 -o $OUT/caps-j1 $ARCH/pcap
breachscope captures -j$JOBS|$pcap_bytes|$RUNS|caps|$ANALYZE -j $JOBS -o $OUT/caps-jN $ARCH/pcap
tshark -T fields|$pcap_bytes|$PEER_RUNS|peer|for f in \$(cat $RES/pcaps.list); do tshark -r \$f -T fields $FIELDS; done
breachscope both -j1|$((log_bytes + pcap_bytes))|$RUNS|both|$ANALYZE -j 1 -o $OUT/both-j1 $ARCH/logs $ARCH/pcap
breachscope both -j$JOBS|$((log_bytes + pcap_bytes))|$RUNS|both|$ANALYZE -j $JOBS -o $OUT/both-jN $ARCH/logs $ARCH/pcap
breachscope one link -j1|$base_pcap|$RUNS|link|$ANALYZE -j 1 -o $OUT/link-j1 $ARCH/pcap/r0
breachscope one link -j$JOBS|$base_pcap|$RUNS|link|$ANALYZE -j $JOBS -o $OUT/link-jN $ARCH/pcap/r0
EOF
if [ -n "$ISAL_BUILD" ]; then
	ISAL_ANALYZE=$(echo "$ANALYZE" | sed "s|^$BS|$(cd "$ISAL_BUILD" && pwd)/breachscope|")
	# in the logs group: each ISA-L run next to the zlib runs it is compared with
	cat >>"$RES/commands" <<EOF
breachscope logs -j1 ISA-L|$log_bytes|$RUNS|logs|$ISAL_ANALYZE -j 1 -o $OUT/logs-j1-isal $ARCH/logs
breachscope logs -j$JOBS ISA-L|$log_bytes|$RUNS|logs|$ISAL_ANALYZE -j $JOBS -o $OUT/logs-jN-isal $ARCH/logs
EOF
fi

mkdir -p "$OUT"
rm -f "$RES"/*.json "$RES"/*.log "$RES"/*.rss "$RES"/*.time "$RES/summary"
row() { # row I: sets name, bytes, runs, group and cmd from line I of the commands
	IFS='|' read -r name bytes runs group cmd <<EOF
$(sed -n "$1p" "$RES/commands")
EOF
}
one_run() { # one_run ROW RUN: one hyperfine run of the row, exported as ROW.rRUN.json
	row "$1"
	echo "[$1] $name (run $2 of $runs)" >&2
	# breachscope exits 3 on damaged input; none is expected here, so no -i
	hyperfine --output=pipe --runs 1 --style basic --export-json "$RES/$1.r$2.json" \
		--command-name "$name" "$cmd" >>"$RES/$1.log" 2>&1 || { cat "$RES/$1.log" >&2; exit 1; }
}
combine() { # combine ROW: ROW.r*.json -> ROW.json in hyperfine's schema (median of
	# the wall times, mean of the user and of the system times)
	jq -s '{ results: [ { command: .[0].results[0].command,
		times: [ .[].results[0].times[0] ],
		mean: ([ .[].results[0].mean ] | add / length),
		median: ([ .[].results[0].times[0] ] | sort |
			if length % 2 == 1 then .[(length - 1) / 2] else (.[length / 2 - 1] + .[length / 2]) / 2 end),
		user: ([ .[].results[0].user ] | add / length),
		system: ([ .[].results[0].system ] | add / length) } ] }' "$RES/$1".r*.json >"$RES/$1.json"
	rm -f "$RES/$1".r*.json
}
peak_rss() { # peak_rss ROW: one more run under /usr/bin/time -v (breachscope and tshark)
	row "$1"
	case $name in
	breachscope* | tshark*)
		/usr/bin/time -v sh -c "$cmd" >/dev/null 2>"$RES/$1.time" || true
		awk -F': ' '/Maximum resident/ { print $2 }' "$RES/$1.time" >"$RES/$1.rss" ;;
	*) echo "" >"$RES/$1.rss" ;;
	esac
}
# the groups in order of first appearance; each peer is a group of its own
gkey='{ g = $4 == "peer" ? "peer" NR : $4 }'
for g in $(awk -F'|' "$gkey"' !(g in seen) { seen[g]; print g }' "$RES/commands"); do
	case $g in peer*) [ "$PEERS" = no ] && continue ;; esac
	rows=$(awk -F'|' -v want="$g" "$gkey"' g == want { print NR }' "$RES/commands")
	row "$(echo "$rows" | head -n 1)"
	r=1
	while [ "$r" -le "$runs" ]; do
		for i in $rows; do one_run "$i" "$r"; done
		r=$((r + 1))
	done
	for i in $rows; do combine "$i"; peak_rss "$i"; done
done

# peak memory at half of the archive (same users, half the input)
/usr/bin/time -v $ANALYZE -j 1 -o "$OUT/half-logs" $half_logs >/dev/null 2>"$RES/half-logs.time" || true
/usr/bin/time -v $ANALYZE -j 1 -o "$OUT/half-caps" $half_pcap >/dev/null 2>"$RES/half-caps.time" || true
rss() { awk -F': ' '/Maximum resident/ { printf "%.0f", $2 / 1024 }' "$1"; }

# ISA-L and zlib must give the same results
isal_same=""
if [ -n "$ISAL_BUILD" ]; then
	if diff -r -x report.html "$OUT/logs-j1" "$OUT/logs-j1-isal" >/dev/null &&
		diff -r -x report.html "$OUT/logs-jN" "$OUT/logs-jN-isal" >/dev/null; then
		isal_same="identical"
	else
		isal_same="DIFFERENT"
	fi
fi
# --jobs must not change the results either
jobs_same=identical
for s in logs caps both link; do
	diff -r -x report.html "$OUT/$s-j1" "$OUT/$s-jN" >/dev/null || jobs_same=DIFFERENT
done

# --- the table ----------------------------------------------------------------
# median wall time, and user+system CPU time (mean: hyperfine exports no CPU median)
hstat() { jq -r ".results[0] | [.median, (.user + .system)] | @tsv" "$RES/$1.json"; }
{
	echo "Archive: $(awk -v b="$log_bytes" 'BEGIN { printf "%.2f", b / 1e9 }') GB of text logs" \
		"($(wc -l <"$RES/logs.list") gzip files, $(du -sm "$ARCH/logs" | cut -f1) MB compressed)," \
		"$(awk -v b="$pcap_bytes" 'BEGIN { printf "%.2f", b / 1e9 }') GB of pcap ($(wc -l <"$RES/pcaps.list") files);" \
		"base: bs-gen --scenario reference --seed $SEED --users $BASE_USERS --scale $BASE_SCALE, logs x$nlog, captures x$npcap."
	echo "Runs: $RUNS (peers $([ "$PEERS" = no ] && echo "not run" || echo "$PEER_RUNS")), interleaved within each group" \
		"(floor, -j1, -j$JOBS${ISAL_BUILD:+, ISA-L}); wall = median; CPU = mean user+sys; MB/s on uncompressed input."
	echo
	echo "| # | command | wall s | CPU s | MB/s wall | MB/s CPU | peak RSS MB |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	i=0
	while IFS='|' read -r name bytes runs group cmd; do
		i=$((i + 1))
		if ! test -f "$RES/$i.json"; then
			echo "| $i | $name | not measured | | | | |"
			continue
		fi
		set -- $(hstat "$i")
		r=$(cat "$RES/$i.rss")
		echo "$i $name|$bytes|$1|$2|$r" >>"$RES/summary"
		awk -v i="$i" -v n="$name" -v b="$bytes" -v w="$1" -v c="$2" -v r="$r" 'BEGIN {
			printf "| %s | %s | %.2f | %.2f | %.0f | %.0f | %s |\n", i, n, w, c, b / 1e6 / w, b / 1e6 / c,
				r == "" ? "" : sprintf("%.0f", r / 1024) }'
	done <"$RES/commands"
	echo
	w() { test -f "$RES/$1.json" && jq -r ".results[0].median" "$RES/$1.json"; }
	c() { jq -r ".results[0].user + .results[0].system" "$RES/$1.json"; }
	awk -v zf="$(w 1)" -v l1="$(w 2)" -v ln="$(w 3)" -v pf="$(w 4)" -v pc="$(w 5)" \
		-v c1="$(w 6)" -v cn="$(w 7)" -v ts="$(w 8)" -v c1cpu="$(c 6)" -v zfc="$(c 1)" -v l1c="$(c 2)" \
		-v pb="$pcap_bytes" -v jobs="$JOBS" \
		-v rl="$(rss "$RES/3.time")" -v rc="$(rss "$RES/7.time")" -v rb1="$(rss "$RES/9.time")" -v rbn="$(rss "$RES/10.time")" \
		-v hl="$(rss "$RES/half-logs.time")" -v hc="$(rss "$RES/half-caps.time")" \
		-v fl="$(rss "$RES/2.time")" -v fc="$(rss "$RES/6.time")" -v k1="$(w 11)" -v kn="$(w 12)" 'function v(ok) { return ok ? "met" : "**not met**" }
	BEGIN {
		printf "| target | measured | |\n|---|---|---|\n"
		printf "| logs -j1 <= 1.25 x zlib floor | %.2f x (wall), %.2f x (CPU) | %s |\n", l1 / zf, l1c / zfc, v(l1 / zf <= 1.25)
		printf "| logs -j%d >= 1.8 x faster than -j1 | %.2f x | %s |\n", jobs, l1 / ln, v(l1 / ln >= 1.8)
		if (pf == "") printf "| logs >= 30 x faster than pflogsumm | not measured (PEERS=no) | |\n"
		else printf "| logs >= 30 x faster than pflogsumm | %.1f x (-j%d), %.1f x (-j1) | %s |\n", pf / ln, jobs, pf / l1, v(pf / ln >= 30)
		printf "| captures >= 1 GB/s per core | %.2f GB/s wall -j1, %.2f GB/s per CPU second (pcap floor %.2f GB/s wall) | %s |\n", pb / 1e9 / c1, pb / 1e9 / c1cpu, pb / 1e9 / pc, v(pb / 1e9 / c1 >= 1)
		if (ts == "") printf "| captures >= 25 x faster than tshark | not measured (PEERS=no) | |\n"
		else printf "| captures >= 25 x faster than tshark | %.1f x (-j%d), %.1f x (-j1) | %s |\n", ts / cn, jobs, ts / c1, v(ts / cn >= 25)
		printf "| one link -j%d >= 1.8 x faster than -j1 | %.2f x | %s |\n", jobs, k1 / kn, v(k1 / kn >= 1.8)
		m = rl; if (rc > m) m = rc; if (rb1 > m) m = rb1; if (rbn > m) m = rbn
		printf "| peak memory < 512 MB | %d MB (largest breachscope run) | %s |\n", m, v(m < 512)
		printf "| memory flat with input size (-j1) | logs %d MB at half, %d MB at full; captures %d MB at half, %d MB at full | %s |\n", hl, fl, hc, fc, v(fl <= hl * 1.1 + 8 && fc <= hc * 1.1 + 8)
	}'
	echo
	echo "Results with -j1 and -j$JOBS: $jobs_same.${isal_same:+ ISA-L and zlib results: $isal_same.}"
} >"$RES/results.md"
cat "$RES/results.md"
echo "(raw: $RES)" >&2

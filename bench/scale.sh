#!/bin/sh
# bench/scale.sh - how breachscope's speed holds as users grow (issue 17):
# generates `bs-gen --scenario variety --users N` (clients shared by several
# users) for each N, runs `analyze -j1` once, records MB/s of input per CPU
# second and peak RSS (/usr/bin/time -v). Not a timed test: run it by hand
# from a build directory, on a quiet machine if times are to mean anything.
#   USERS="1000 10000 100000" BENCH_DIR=/tmp/bs-scale bench/scale.sh
# bs-gen itself is slow at scale (10k users: ~5 min, 373 MB on a loaded host).
set -eu
USERS=${USERS:-"1000 10000 100000"}
BENCH_DIR=${BENCH_DIR:-/tmp/bs-scale}
BUILD=${BUILD:-.}
mkdir -p "$BENCH_DIR"
printf '| users | input MB | CPU s | MB/s per core | peak RSS MB |\n|---:|---:|---:|---:|---:|\n'
for n in $USERS; do
	d="$BENCH_DIR/variety-$n"
	[ -e "$d" ] || "$BUILD/samples/bs-gen" --scenario variety --seed 7 --users "$n" --out "$d" >/dev/null
	mb=$(du -smL "$d" | cut -f1)
	/usr/bin/time -v "$BUILD/breachscope" analyze -q -j1 -o "$BENCH_DIR/out-$n" "$d/" >/dev/null 2>"$BENCH_DIR/time-$n"
	user=$(sed -n 's/.*User time (seconds): //p' "$BENCH_DIR/time-$n")
	sys=$(sed -n 's/.*System time (seconds): //p' "$BENCH_DIR/time-$n")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$BENCH_DIR/time-$n")
	awk -v n="$n" -v mb="$mb" -v u="$user" -v s="$sys" -v r="$rss" \
		'BEGIN { cpu = u + s; printf "| %d | %d | %.2f | %.2f | %d |\n", n, mb, cpu, mb / cpu, r / 1024 }'
done

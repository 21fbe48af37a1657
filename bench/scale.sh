#!/bin/sh
# bench/scale.sh - how breachscope's speed holds as users grow (issue 17):
# generates `bs-gen --scenario variety --users N --days D --fast` (IMAP
# clients shared by several users, six webmail hosts) for each N:D pair,
# runs `analyze -j1` once and records MB/s of uncompressed input per CPU
# second (user + system) and peak RSS (/usr/bin/time -v). MB are counted
# after inflation: how well the logs of a population compress has nothing
# to do with how fast they are analysed. Not a timed test: run it by hand
# from a build directory, on a quiet machine if times are to mean anything.
#   SIZES="1000:28 10000:28 100000:28 1000000:3" BENCH_DIR=/tmp/bs-scale bench/scale.sh
# 100k users over 28 days is about 5 GB of gzip (34 GB inflated); 1M users
# over 3 days about the same.
set -eu
SIZES=${SIZES:-"1000:28 10000:28 100000:28"}
BENCH_DIR=${BENCH_DIR:-/tmp/bs-scale}
BUILD=${BUILD:-.}
mkdir -p "$BENCH_DIR"
printf '| users | days | input MB (inflated) | CPU s | MB/s per core | peak RSS MB |\n|---:|---:|---:|---:|---:|---:|\n'
for nd in $SIZES; do
	n=${nd%:*} days=${nd#*:}
	d="$BENCH_DIR/variety-$n-$days"
	[ -e "$d/truth/servers.csv" ] || "$BUILD/samples/bs-gen" --scenario variety --seed 7 --users "$n" --days "$days" --fast --out "$d" >/dev/null
	[ -s "$d.bytes" ] && [ "$(cat "$d.bytes")" != 0 ] || find "$d" -type f -name '*.gz' -exec gzip -dc {} + | wc -c > "$d.bytes"
	mb=$(awk '{ printf "%d", $1 / 1e6 }' "$d.bytes")
	/usr/bin/time -v "$BUILD/breachscope" analyze -q -j1 -o "$BENCH_DIR/out-$n-$days" "$d/logs" "$d/pcap" >/dev/null 2>"$BENCH_DIR/time-$n-$days"
	user=$(sed -n 's/.*User time (seconds): //p' "$BENCH_DIR/time-$n-$days")
	sys=$(sed -n 's/.*System time (seconds): //p' "$BENCH_DIR/time-$n-$days")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$BENCH_DIR/time-$n-$days")
	awk -v n="$n" -v days="$days" -v mb="$mb" -v u="$user" -v s="$sys" -v r="$rss" \
		'BEGIN { cpu = u + s; printf "| %d | %d | %d | %.2f | %.1f | %d |\n", n, days, mb, cpu, mb / cpu, r / 1024 }'
done

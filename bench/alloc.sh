#!/bin/sh
# bench/alloc.sh - heap calls of whole breachscope runs over 1x and Nx the
# same maillogs (LD_PRELOAD bench/mallocount.c): the count must not grow with
# the number of lines. Usage: bench/alloc.sh MAILLOG_DIR [N]   (from a build
# directory, or BUILD=dir). Concatenates the directory's gzip files once and
# N times (default 8) into one multi-member gzip each, under $BENCH_DIR/alloc,
# and prints the lines read and the heap calls of both runs.
set -eu
src=${1:?usage: alloc.sh MAILLOG_DIR [N]}
n=${2:-8}
BUILD=$(cd "${BUILD:-.}" && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/breachscope-bench}
here=$(cd "$(dirname "$0")" && pwd)
w=$BENCH_DIR/alloc
rm -rf "$w" && mkdir -p "$w/in"
cc -shared -fPIC -O2 -o "$w/mallocount.so" "$here/mallocount.c"
# One multi-member gzip file per run, so the number of inputs stays one and
# only the number of lines grows (readers and buffers are per input).
for k in 1 "$n"; do
	i=0
	while [ "$i" -lt "$k" ]; do cat "$src"/*; i=$((i + 1)); done >"$w/in/maillog-x$k.gz"
	lines=$(gzip -dcf "$w/in/maillog-x$k.gz" | wc -l)
	calls=$(LD_PRELOAD=$w/mallocount.so "$BUILD/breachscope" analyze -q -j 1 --local-domain example.net \
		-o "$w/out$k" "$w/in/maillog-x$k.gz" 2>&1 >/dev/null | grep '^mallocount')
	echo "$k copies: $lines lines; $calls"
done

#!/bin/sh
# bench/alloc.sh - heap calls of whole breachscope runs over 1x and Nx the
# same maillogs (LD_PRELOAD bench/mallocount.c): the count must not grow with
# the number of lines. Usage: bench/alloc.sh MAILLOG_DIR [N]   (from a build
# directory, or BUILD=dir). Copies the directory N times (default 8) under
# $BENCH_DIR/alloc and prints lines read and heap calls for 1 copy and N.
set -eu
src=${1:?usage: alloc.sh MAILLOG_DIR [N]}
n=${2:-8}
BUILD=$(cd "${BUILD:-.}" && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/breachscope-bench}
here=$(cd "$(dirname "$0")" && pwd)
w=$BENCH_DIR/alloc
rm -rf "$w" && mkdir -p "$w/in"
cc -shared -fPIC -O2 -o "$w/mallocount.so" "$here/mallocount.c"
i=0
while [ "$i" -lt "$n" ]; do
	mkdir -p "$w/in/r$i" && cp "$src"/* "$w/in/r$i/"
	i=$((i + 1))
done
for k in 1 "$n"; do
	dirs=$(i=0; while [ "$i" -lt "$k" ]; do echo "$w/in/r$i"; i=$((i + 1)); done)
	lines=$(cat $(find $dirs -type f) | gzip -dcf | wc -l)
	calls=$(LD_PRELOAD=$w/mallocount.so "$BUILD/breachscope" analyze -q -j 1 --local-domain example.net \
		-o "$w/out$k" $dirs 2>&1 >/dev/null | grep '^mallocount')
	echo "$k copies: $lines lines; $calls"
done

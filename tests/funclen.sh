#!/bin/sh
# No function of the engine is longer than 80 lines (issue 15): a long
# function there is a grab-bag of steps that should be named. A function is
# counted from its opening brace to its closing brace, both in column 0 (the
# house style). Output: TAP, one test per source file of src/engine.
set -u
: "${top_srcdir:=.}"
. "$top_srcdir/tests/tap.sh"
max=80
for f in "$top_srcdir"/src/engine/*.c; do
	long=$(awk -v max=$max '
		/^[A-Za-z_].*\(/ { sig = $0 }
		/^\{/ { start = NR; name = sig }
		/^\}/ && start { if (NR - start + 1 > max) printf "%s (%d lines); ", name, NR - start + 1; start = 0 }
	' "$f")
	if [ -z "$long" ]; then
		pass "${f#"$top_srcdir"/} has no function over $max lines"
	else
		fail "${f#"$top_srcdir"/}: over $max lines: $long"
	fi
done
done_testing

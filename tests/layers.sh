#!/bin/sh
# The layers of docs/HACKING.md, checked on the tree: each folder may include
# only the headers of the layers below it, so data flows one way (inputs ->
# parsers -> events -> engine -> output; the command line wires them). A
# header of a higher layer included from a lower one is a failure, named.
# Output: TAP.
set -u
: "${top_srcdir:=.}"
. "$top_srcdir/tests/tap.sh"

# allowed LAYER: the folders whose headers LAYER may include
allowed() {
	case $1 in
	src/core) echo "src/core" ;;
	src/input) echo "src/core src/input" ;;
	parsers/capture) echo "src/core src/input parsers/capture" ;;
	parsers/logs) echo "src/core src/input parsers/logs" ;;
	parsers/stream) echo "src/core parsers/capture parsers/stream" ;;
	src/engine) echo "src/core src/engine" ;;
	src/output) echo "src/core src/output" ;;
	src/cli) echo "src/core src/input parsers/capture parsers/logs parsers/stream src/engine src/output src/cli" ;;
	esac
}

for layer in src/core src/input parsers/capture parsers/logs parsers/stream src/engine src/output src/cli; do
	ok_dirs=$(allowed "$layer")
	bad=""
	for f in "$top_srcdir/$layer"/*.c "$top_srcdir/$layer"/*.h; do
		[ -f "$f" ] || continue
		for inc in $(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
			case $inc in
			config.h) continue ;;
			*/*) dir=${inc%/*} ;;
			*) dir=$layer ;; # same folder
			esac
			found=0
			for d in $ok_dirs; do [ "$dir" = "$d" ] && found=1; done
			[ $found -eq 1 ] || bad="$bad ${f#"$top_srcdir"/}:$inc"
		done
	done
	if [ -z "$bad" ]; then
		pass "$layer includes only the layers below it"
	else
		fail "$layer includes a higher or sibling layer:$bad"
	fi
done
done_testing

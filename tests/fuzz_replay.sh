#!/bin/sh
# Every crash reproducer of a fuzz target (fuzz/regress/TARGET/*) replayed
# through the target built without libFuzzer (fuzz/replay_TARGET): one test
# each, passing when the target returns. Those of `analyze` are hostile.sh's.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
. "$top_srcdir/tests/tap.sh"
for dir in "$top_srcdir"/fuzz/regress/*/; do
	target=$(basename "$dir")
	[ "$target" = analyze ] && continue
	replay="$top_builddir/fuzz/replay_$target"
	for f in "$dir"*; do
		[ -f "$f" ] || continue
		if [ -x "$replay" ]; then
			check "$target/$(basename "$f") replayed" "$replay" "$f"
		else
			fail "$target/$(basename "$f"): no $replay (add it to FUZZ_REPLAYS in fuzz/local.mk)"
		fi
	done
done
done_testing

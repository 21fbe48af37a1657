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
# A state reproducer is a state file after the harness's mode byte: of the
# format and record sizes of this build (version and fingerprint, bytes 8 to
# 24 of the file), or it stops at the version check and tests nothing.
for f in "$top_srcdir"/fuzz/regress/state/*; do
	[ -f "$f" ] || continue
	tmp=$(mktemp -d) || exit 1
	printf 'May  4 10:00:00 mx1 postfix/smtpd[1]: connect from x[192.0.2.1]\n' >"$tmp/q.log"
	"$top_builddir/breachscope" scan -q -o "$tmp/q.state" "$tmp/q.log" >/dev/null 2>&1
	is "state/$(basename "$f"): the state format and record sizes of this build" \
		"$(dd if="$f" bs=1 skip=9 count=16 2>/dev/null | od -An -tx1 | tr -d ' \n')" \
		"$(dd if="$tmp/q.state" bs=1 skip=8 count=16 2>/dev/null | od -An -tx1 | tr -d ' \n')"
	rm -rf "$tmp"
done
# The decoder seeds too (fuzz/mkseeds.py, made here as in a fuzzing build):
# every compression and nesting the input layer reads, through the checks of
# fuzz_decode (two reads agree on the bytes and the damage); and the maillog
# seeds, among them every log case's lines.
if command -v python3 >/dev/null 2>&1; then
	seeds=$(mktemp -d) || exit 1
	trap 'rm -rf "$seeds"' EXIT
	if python3 "$top_srcdir/fuzz/mkseeds.py" "$top_srcdir" "$seeds" >/dev/null; then
		for f in "$seeds"/decode/*; do
			check "decode seed $(basename "$f") replayed" "$top_builddir/fuzz/replay_decode" "$f"
		done
		# every log case seeds fuzz_maillog (without the corpus too): its
		# first line (its start: a seed is cut at 16 KB) is in a seed, and the
		# seeds replay
		for case in "$top_srcdir"/tests/cases/*/*.in; do
			first=$(sed -n 's/^L: //p' "$case" | head -n 1 | cut -c 1-200)
			[ -n "$first" ] || continue
			name=${case#"$top_srcdir"/tests/cases/}
			check "log case ${name%.in} seeds fuzz_maillog" grep -rqF -e "$first" "$seeds/maillog"
		done
		for f in "$seeds"/maillog/*; do
			check "maillog seed $(basename "$f") replayed" "$top_builddir/fuzz/replay_maillog" "$f"
		done
	else
		fail "fuzz/mkseeds.py made no seeds"
	fi
else
	skip "decode seeds: no python3"
fi
done_testing

#!/bin/sh
# The committed sample (samples/incident) must be byte-identical to what
# samples/bs-gen writes with the arguments of `make sample`. Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
gen="$top_builddir/samples/bs-gen"
ref="$top_srcdir/samples/incident"
args=$(sed -n 's/^SAMPLE_ARGS = //p' "$top_srcdir/samples/local.mk")
if [ ! -d "$ref" ]; then echo "1..0 # SKIP no committed sample in $ref"; exit 0; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bs-sample.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
emit() { n=$((n + 1)); echo "$1 $n - $2"; }
# shellcheck disable=SC2086 # SAMPLE_ARGS is a list of words
if "$gen" $args --out "$tmp/incident" >"$tmp/gen.log" 2>&1; then emit ok "bs-gen $args"
else emit "not ok" "bs-gen $args"; sed 's/^/# /' "$tmp/gen.log"; echo "1..$n"; exit 0; fi
(cd "$ref" && find . -type f | LC_ALL=C sort) >"$tmp/want.list"
(cd "$tmp/incident" && find . -type f | LC_ALL=C sort) >"$tmp/got.list"
if cmp -s "$tmp/want.list" "$tmp/got.list"; then emit ok "same file list ($(wc -l <"$tmp/want.list") files)"
else emit "not ok" "same file list"; diff "$tmp/want.list" "$tmp/got.list" | head -20 | sed 's/^/# /'; fi
while IFS= read -r f; do
	if [ -f "$tmp/incident/$f" ] && cmp -s "$ref/$f" "$tmp/incident/$f"; then emit ok "$f identical"
	else emit "not ok" "$f identical"; fi
done <"$tmp/want.list"
echo "1..$n"

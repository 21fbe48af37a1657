#!/bin/sh
# The committed sample (samples/incident) must be byte-identical to what
# samples/bs-gen writes with the arguments of `make sample`. Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
gen="$top_builddir/samples/bs-gen"
ref="$top_srcdir/samples/incident"
args=$(sed -n 's/^SAMPLE_ARGS = //p' "$top_srcdir/samples/local.mk")
. "$top_srcdir/tests/tap.sh"
[ -d "$ref" ] || skip_all "no committed sample in $ref"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bs-sample.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086 # SAMPLE_ARGS is a list of words
gen_sample() { "$gen" $args --out "$tmp/incident" >"$tmp/gen.log" 2>&1; }
if ! check "bs-gen $args" gen_sample; then
	sed 's/^/# /' "$tmp/gen.log"; done_testing; exit 0
fi
(cd "$ref" && find . -type f | LC_ALL=C sort) >"$tmp/want.list"
(cd "$tmp/incident" && find . -type f | LC_ALL=C sort) >"$tmp/got.list"
check "same file list ($(wc -l <"$tmp/want.list") files)" cmp -s "$tmp/want.list" "$tmp/got.list" ||
	diff "$tmp/want.list" "$tmp/got.list" | head -20 | sed 's/^/# /'
while IFS= read -r f; do
	check "$f identical" cmp -s "$ref/$f" "$tmp/incident/$f"
done <"$tmp/want.list"
done_testing

#!/bin/sh
# capture_follow.sh - the reassembled TCP bytes of a capture with HTTP flows
# must be what tshark's "Follow TCP Stream" (raw) gives, for every stream and
# both directions. TAP; skips when tshark or the corpus is absent.
: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"
corpus=${BS_CORPUS:-$top_srcdir/../shared/corpus}
cap=$corpus/pcap/plaso-test.pcap
capdump=$top_builddir/tests/capdump
if ! command -v tshark >/dev/null 2>&1; then echo "1..0 # SKIP tshark not installed"; exit 0; fi
if [ ! -r "$cap" ]; then echo "1..0 # SKIP corpus capture not found"; exit 0; fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

"$capdump" "$cap" 2>"$tmp/capdump.err" | sort >"$tmp/ours"
rc=$?
last=$(tshark -r "$cap" -T fields -e tcp.stream 2>/dev/null | sort -n | tail -1)
args=""
i=0
while [ "$i" -le "$last" ]; do args="$args -z follow,tcp,raw,$i"; i=$((i + 1)); done
# shellcheck disable=SC2086
tshark -r "$cap" -q $args 2>/dev/null | awk '
	function out() {
		if (n0 != "" && d0 != "") print n0 ">" n1 " " d0
		if (n1 != "" && d1 != "") print n1 ">" n0 " " d1
		n0 = n1 = d0 = d1 = ""
	}
	/^=+$/ { out(); next }
	/^Follow:|^Filter:/ { next }
	/^Node 0: / { n0 = $3; next }
	/^Node 1: / { n1 = $3; next }
	/^\t/ { sub(/^\t/, ""); d1 = d1 $0; next }
	/^[0-9a-f]+$/ { d0 = d0 $0; next }
	END { out() }' | sort >"$tmp/tshark"

echo "1..4"
[ -s "$tmp/ours" ] && echo "ok 1 - capdump printed streams ($(wc -l <"$tmp/ours") directions)" || echo "not ok 1 - capdump printed nothing (rc $rc: $(cat "$tmp/capdump.err"))"
[ -s "$tmp/tshark" ] && echo "ok 2 - tshark printed streams ($(wc -l <"$tmp/tshark") directions)" || echo "not ok 2 - tshark printed nothing"
if grep -q "^[^ ]*:80 " "$tmp/ours" && grep -q "474554202f" "$tmp/ours"; then
	echo "ok 3 - HTTP requests among the reassembled streams"
else
	echo "not ok 3 - no HTTP request found"
fi
if cmp -s "$tmp/ours" "$tmp/tshark"; then
	echo "ok 4 - every direction of every TCP stream matches tshark follow,tcp,raw"
else
	echo "not ok 4 - reassembled bytes differ from tshark"
	diff "$tmp/ours" "$tmp/tshark" | cut -c1-200 | head -20 | sed 's/^/# /'
fi

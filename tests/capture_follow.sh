#!/bin/sh
# capture_follow.sh - the reassembled TCP bytes of a capture with HTTP flows
# must be what tshark's "Follow TCP Stream" (raw) gives, for every stream and
# both directions. The capture is tests/mkproto_pcap's (SMTP, MySQL, HTTP
# over TCP); with `--corpus DIR`, the corpus' plaso-test.pcap (make
# check-corpus). TAP; skips when tshark is absent.
: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"
capdump=$top_builddir/tests/capdump
. "$top_srcdir/tests/tap.sh"
command -v tshark >/dev/null 2>&1 || skip_all "tshark not installed"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
if [ "${1:-}" = --corpus ]; then
	cap=$2/pcap/plaso-test.pcap
else
	cap=$tmp/proto.pcap
	"$top_builddir/tests/mkproto_pcap" write "$cap" || fail "mkproto_pcap cannot write the capture"
fi

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

check "capdump printed streams ($(wc -l <"$tmp/ours") directions; rc $rc: $(cat "$tmp/capdump.err"))" test -s "$tmp/ours"
check "tshark printed streams ($(wc -l <"$tmp/tshark") directions)" test -s "$tmp/tshark"
grep -q "^[^ ]*:80 " "$tmp/ours" && grep -q "474554202f" "$tmp/ours"
check_status $? "HTTP requests among the reassembled streams"
check "every direction of every TCP stream matches tshark follow,tcp,raw" cmp -s "$tmp/ours" "$tmp/tshark" ||
	diff "$tmp/ours" "$tmp/tshark" | cut -c1-200 | head -20 | sed 's/^/# /'
done_testing

#!/bin/sh
# Nothing lost (issue 10): known inputs through the binary; for every input,
# records = parsed + ignored + malformed in input_stats.csv, and records equal
# an independent count: lines by `gzip -dc | wc -l` (plus an unterminated last
# line), packets by a bare libpcap loop (tests/pktcount). Inputs: the
# committed sample incident (gzip maillogs, access logs, gzip pcaps) and
# tests/mkproto_pcap's capture; with `--corpus DIR`, the public corpus's
# maillogs and captures instead (make check-corpus). Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
bin="$top_builddir/breachscope"
pktcount="$top_builddir/tests/pktcount"
work="$top_builddir/tests/nothing-lost-work"
rm -rf "$work"; mkdir -p "$work"
. "$top_srcdir/tests/tap.sh"

if [ "${1:-}" = --corpus ]; then
	set -- "$2/maillog" "$2/pcap"
else
	"$top_builddir/tests/mkproto_pcap" write "$work/proto.pcap" || fail "mkproto_pcap cannot write its capture"
	set -- "$top_srcdir/samples/incident/logs" "$top_srcdir/samples/incident/pcap" "$work/proto.pcap"
fi
"$bin" analyze -q -j 2 -o "$work/out" "$@" >/dev/null 2>"$work/stderr"; got=$?
if [ "$got" = 0 ] || [ "$got" = 3 ]; then pass "analyze ran (exit $got)"; else fail "analyze: exit $got"; fi

# one line per input: source format records parsed ignored malformed truncated
# (the sources of these inputs hold no comma or quote)
tail -n +2 "$work/out/input_stats.csv" | awk -F, '{ print $1, $2, $4, $5, $6, $7, $8 }' > "$work/rows"
rows=$(wc -l < "$work/rows")
if [ "$rows" -gt 0 ]; then pass "$rows inputs accounted"; else fail "no input rows"; fi

total=0; indep=0; compared=0
while read -r src fmt rec par ign mal trunc; do
	if [ "$rec" = $((par + ign + mal)) ]; then pass "$src: records $rec = $par + $ign + $mal"
	else fail "$src: records $rec != parsed $par + ignored $ign + malformed $mal"; fi
	case "$fmt" in
	*pcap*) # pcap and pcapng, gzip or not: libpcap reads what gzip -dc gives
		count=$(gzip -dcf "$src" | "$pktcount" - 2>/dev/null); pc=$?
		# a capture libpcap itself calls damaged, or that we found cut, has
		# no independent count to compare with
		if [ "$pc" != 0 ] || [ "$trunc" = 1 ]; then continue; fi ;;
	*text*|*binary*)
		count=$(gzip -dcf "$src" | wc -l)
		last=$(gzip -dcf "$src" | tail -c 1 | od -An -tx1 | tr -d ' ')
		[ -n "$last" ] && [ "$last" != 0a ] && count=$((count + 1))
		[ "$trunc" = 1 ] && continue ;;
	*) continue ;;
	esac
	compared=$((compared + 1)); total=$((total + rec)); indep=$((indep + count))
	if [ "$rec" = "$count" ]; then pass "$src ($fmt): $rec records = independent count"
	else fail "$src ($fmt): $rec records, independent count $count"; fi
done < "$work/rows"
if [ "$compared" -gt 0 ] && [ "$total" = "$indep" ]; then pass "sum over $compared inputs: $total records = $indep counted independently"
else fail "sum over $compared inputs: $total records, $indep counted independently"; fi
done_testing

#!/bin/sh
# bench/memcap.sh - peak memory of many flows under the memory cap (issue 22,
# item 11; results in docs/ROBUSTNESS.md). Not part of make check.
#
#   cd BUILD && make breachscope tests/hostgen && /path/to/bench/memcap.sh
#
# For each size in SIZES (default "1000000 10000000") and each kind of flow:
#   syns  N single-packet flows (a SYN each, never answered) to port 9999;
#   http  N flows to port 80, each a SYN and an HTTP request cut before its
#         end (the parser's state is held until the flow is evicted or ends)
# it runs `breachscope analyze` under each cap in CAPS (default "default 64M")
# and prints a Markdown row: kind, flows, cap, peak RSS, wall time, evictions.
# HTTP_MAX (default 1000000) bounds the http sizes (2 packets a flow).
# The captures are written to BENCH_DIR (default /tmp/bs-memcap) and removed.
set -eu
bin=${BIN:-./breachscope}
gen=${GEN:-./tests/hostgen}
dir=${BENCH_DIR:-/tmp/bs-memcap}
sizes=${SIZES:-"1000000 10000000"}
caps=${CAPS:-"default 64M"}
http_max=${HTTP_MAX:-1000000}
mkdir -p "$dir"
echo "| flows | kind | --memcap | peak RSS | wall | evicted (by the cap) |"
echo "|---|---|---|---|---|---|"
for n in $sizes; do
	for kind in syns http; do
		if [ "$kind" = http ] && [ "$n" -gt "$http_max" ]; then continue; fi
		port=9999; [ "$kind" = http ] && port=80
		"$gen" "$kind" "$n" "$port" > "$dir/in.pcap"
		for cap in $caps; do
			opt=; [ "$cap" = default ] || opt="--memcap $cap"
			# shellcheck disable=SC2086
			/usr/bin/time -o "$dir/time" -f "%M %e" "$bin" analyze -q $opt -o "$dir/out" "$dir/in.pcap" > "$dir/stdout"
			set -- $(tail -1 "$dir/time")
			ev=$(sed -n 's/^flows evicted before their end: \([0-9]*\) (\([0-9]*\) by.*/\1 (\2)/p' "$dir/stdout")
			printf '| %s | %s | %s | %d MB | %s s | %s |\n' "$n" "$kind" "$cap" $(($1 / 1024)) "$2" "${ev:-0}"
		done
		rm -f "$dir/in.pcap"
	done
done
rm -rf "$dir"

#!/bin/sh
# --debug FILE: every record not used, of every layer, named by its input
# ("FILE:LINE: layer: reason", "FILE: packet N: layer: reason"); the debug
# file never replaces an input, is untouched by a run that fails usage, and
# is written 0600 and atomically. Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
bin="$top_builddir/breachscope"
work="$top_builddir/tests/debug-work"
rm -rf "$work"; mkdir -p "$work/logs"
. "$top_srcdir/tests/tap.sh"

# hexbin HEX...: the bytes of hex pairs (spaces ignored), with POSIX tools only
hexbin() {
	printf "$(echo "$*" | tr -d ' \n' | awk '{
		d = "0123456789abcdef"; s = tolower($0)
		for (i = 1; i < length(s); i += 2)
			printf "\\%03o", (index(d, substr(s, i, 1)) - 1) * 16 + index(d, substr(s, i + 1, 1)) - 1
	}')"
}

good='192.0.2.9 - - [04/May/2007:17:31:02 +0200] "GET / HTTP/1.1" 200 5 "-" "x"'
printf '%s\nnot.an.ip - - [04/May/2007:17:31:02 +0200] "GET / HTTP/1.1" 200 5 "-" "x"\n' "$good" > "$work/logs/access.log"
i=0; while [ $i -lt 50 ]; do echo "$good"; i=$((i + 1)); done | gzip -c | head -c 60 > "$work/cut.log.gz"
# a capture: packet 1 a TCP segment to port 25 of eight lines that are not
# SMTP (the parser gives up on the flow), packet 2 a frame shorter than an
# Ethernet header
{ hexbin d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
  hexbin 00e0c746 00000000 46000000 46000000
  hexbin 020000000002 020000000001 0800 4500 0038 0000 4000 4006 0000 c0000201 c0000202
  hexbin 9c40 0019 00000001 00000000 5018 ffff 0000 0000
  hexbin 610a 620a 630a 640a 650a 660a 670a 680a
  hexbin 00e0c746 01000000 0a000000 0a000000 00112233445566778899
} > "$work/t.pcap"

dbg="$work/debug.txt"
"$bin" analyze -q -o "$work/out" --debug "$dbg" "$work/logs" "$work/t.pcap" "$work/cut.log.gz" >/dev/null 2>&1
is "a run with damage exits 3" "$?" 3
has() { if grep -qF -- "$2" "$dbg"; then pass "$1"; else fail "$1: no line '$2'"; sed 's/^/#   /' "$dbg"; fi; }
has "a log line names its file and line" "$work/logs/access.log:2: weblog: client is not an IP address"
has "a packet names its file and number" "$work/t.pcap: packet 2: ethernet: shorter than 14 bytes"
has "a stream error names the file, packet and flow" \
	"$work/t.pcap: packet 1: smtp: not SMTP: no reply codes and no commands (flow 192.0.2.1 port 40000 -> 192.0.2.2 port 25)"
has "gzip damage names its file" "$work/cut.log.gz: gzip: gzip member truncated"
is "every line names an input" "$(grep -vc "^$work/" "$dbg")" 0
is "written 0600" "$(ls -l "$dbg" | cut -c1-10)" "-rw-------"
is "no temporary left" "$(ls "$work" | grep -c 'debug.txt.tmp')" 0

# refusals: exit 2, nothing written, the input intact
cp "$work/logs/access.log" "$work/keep"
refused() { # refused DESC DEBUGFILE INPUT...
	desc=$1; f=$2; shift 2
	rm -rf "$work/out"
	"$bin" analyze -q -o "$work/out" --debug "$f" "$@" >/dev/null 2>"$work/stderr"
	is "$desc: exit 2" "$?" 2
	check "$desc: the input is intact" cmp -s "$work/keep" "$work/logs/access.log"
	check "$desc: no output directory" test ! -e "$work/out"
}
refused "debug file = an input" "$work/logs/access.log" "$work/logs/access.log"
refused "debug file inside an input directory" "$work/logs/access.log" "$work/logs"
ln "$work/logs/access.log" "$work/hardlink"
refused "debug file = an input by another name" "$work/hardlink" "$work/logs"
check "the refusal says why" grep -q "is an input" "$work/stderr"
"$bin" scan -q -o "$work/st" --debug "$work/logs/access.log" "$work/logs" >/dev/null 2>&1
is "scan refuses it too" "$?" 2

# a run that fails usage leaves an existing debug file as it was
echo "previous run" > "$dbg"
"$bin" analyze -q -o "$work/out" --debug "$dbg" "$work/does-not-exist" >/dev/null 2>&1
is "missing input: exit 2" "$?" 2
is "missing input: the debug file untouched" "$(cat "$dbg")" "previous run"
"$bin" merge -q -o "$work/out" --debug "$dbg" "$work/logs/access.log" >/dev/null 2>&1
is "merge of a bad state file: exit 2" "$?" 2
is "bad state file: the debug file untouched" "$(cat "$dbg")" "previous run"

rm -rf "$work"
done_testing

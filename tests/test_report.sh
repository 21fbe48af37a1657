#!/bin/sh
# test_report.sh - render the sample report.html in headless Chromium
# (Debian's chromium package): a screenshot and a printout must come out,
# and the page must parse into the expected document. Skips when Chromium
# is absent. BS_KEEP_PNG=FILE keeps the screenshot for a look.
chromium=/usr/bin/chromium
: "${top_srcdir:=.}"
. "$top_srcdir/tests/tap.sh"
[ -x "$chromium" ] || skip_all "no $chromium"
builddir=${top_builddir:-.}
work=$(mktemp -d "${TMPDIR:-/tmp}/bs-report-XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM

# quiet COMMAND...: COMMAND without its output (check's commands here are noisy)
quiet() { "$@" >/dev/null 2>&1; }

run_chromium() {
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$work/profile" "$@" 2>>"$work/chromium.log"
}

check "the sample results are written" quiet "$builddir/tests/test_output" --sample "$work/out"
url="file://$work/out/report.html"

run_chromium --screenshot="$work/report.png" --window-size=1280,2000 "$url" >/dev/null
check "a screenshot is rendered" quiet test -s "$work/report.png"
# PNG signature, then the IHDR width and height (big-endian) at bytes 16..23
magic=$(od -An -tx1 -N8 "$work/report.png" 2>/dev/null | tr -d ' \n')
check "the screenshot is a PNG" quiet test "$magic" = "89504e470d0a1a0a"
size=$(od -An -tu1 -j16 -N8 "$work/report.png" 2>/dev/null | awk '{ print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8 }')
check "the screenshot is 1280x2000 ($size)" quiet test "$size" = "1280x2000"
# a blank page compresses to a few kB; the tables and pictures do not
bytes=$(wc -c <"$work/report.png" 2>/dev/null || echo 0)
check "the screenshot has content ($bytes bytes)" quiet test "$bytes" -gt 40000

run_chromium --dump-dom "$url" >"$work/dom.html"
check "the page parses: title" quiet grep -q "<title>breachscope report</title>" "$work/dom.html"
check "the page parses: verdict table" quiet grep -q "v-compromised" "$work/dom.html"
check "the page parses: activity pictures" quiet grep -q "<svg" "$work/dom.html"
check "the page runs no script" quiet sh -c "! grep -q '<script' '$work/dom.html'"

run_chromium --print-to-pdf="$work/report.pdf" --no-pdf-header-footer "$url" >/dev/null
pdf=$(head -c 5 "$work/report.pdf" 2>/dev/null)
check "the page prints to PDF" quiet test "$pdf" = "%PDF-"

if [ -n "$BS_KEEP_PNG" ]; then
	cp "$work/report.png" "$BS_KEEP_PNG"
	cp "$work/report.pdf" "${BS_KEEP_PNG%.png}.pdf" 2>/dev/null
fi
done_testing

#!/bin/sh
# test_report.sh - report.html rendered in headless Chromium (Debian's
# chromium package), a screenshot and a PDF of each of: the sample results,
# the reference incident, a clean fleet, a maillog-only archive and an
# archive whose every input is damaged; and the pages' documents checked
# (the sections, no script, nothing fetched, input text escaped).
# Chromium is expected unless configure was given --without-browser
# (BS_BROWSER=no): a missing browser FAILS the test, it does not skip.
# BS_KEEP_PNG=DIR keeps the screenshots and PDFs there for a look.
: "${top_builddir:=.}" "${top_srcdir:=.}"
. "$top_srcdir/tests/tap.sh"
chromium=${BS_BROWSER:-/usr/bin/chromium}
[ "$chromium" = no ] && skip_all "configured --without-browser"
bin="$top_builddir/breachscope"
gen="$top_builddir/samples/bs-gen"
work=$(mktemp -d "${TMPDIR:-/tmp}/bs-report-XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM

if [ ! -x "$chromium" ]; then
	fail "Chromium is expected at $chromium (./bootstrap --install installs it; ./configure --without-browser leaves the test out)"
	done_testing
	exit 0
fi

run_chromium() {
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$work/profile" "$@" 2>>"$work/chromium.log"
}

# render NAME DIR: screenshot, DOM and PDF of DIR/report.html, the generic checks
render() {
	name=$1 url="file://$2/report.html"
	run_chromium --screenshot="$work/$name.png" --window-size=1280,2000 "$url" >/dev/null
	magic=$(od -An -tx1 -N8 "$work/$name.png" 2>/dev/null | tr -d ' \n')
	is "$name: the screenshot is a PNG" "$magic" "89504e470d0a1a0a"
	# PNG IHDR: width and height (big-endian) at bytes 16..23
	size=$(od -An -tu1 -j16 -N8 "$work/$name.png" 2>/dev/null | awk '{ print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8 }')
	is "$name: the screenshot's size" "$size" "1280x2000"
	# a blank page compresses to a few kB; tables and pictures do not
	bytes=$(wc -c <"$work/$name.png" 2>/dev/null || echo 0)
	check "$name: the screenshot has content ($bytes bytes)" test "$bytes" -gt 30000
	run_chromium --dump-dom "$url" >"$work/$name.dom"
	check "$name: the page parses" grep -q "<title>breachscope report</title>" "$work/$name.dom"
	check "$name: no script" sh -c "! grep -qi '<script' '$work/$name.dom'"
	# self-contained: nothing is fetched (no src, href or url() to a host)
	check "$name: nothing fetched" sh -c "! grep -Eqi '(src|href)=\"?[a-z]+:|url\\(' '$work/$name.dom'"
	check "$name: input accounting" grep -q "<h2>Input accounting</h2>" "$work/$name.dom"
	run_chromium --print-to-pdf="$work/$name.pdf" --no-pdf-header-footer "$url" >/dev/null
	is "$name: prints to PDF" "$(head -c 5 "$work/$name.pdf" 2>/dev/null)" "%PDF-"
	[ -n "${BS_KEEP_PNG:-}" ] && mkdir -p "$BS_KEEP_PNG" && cp "$work/$name.png" "$work/$name.pdf" "$BS_KEEP_PNG/"
	:
}

# analyze NAME WANT_STATUS ARGS...: a run into $work/NAME
analyze() {
	name=$1 want=$2
	shift 2
	"$bin" analyze --local-domain example.net -q -j 2 -o "$work/$name" "$@" >"$work/$name.log" 2>&1
	is "$name: analyze exit status" "$?" "$want"
}

# 1. the writer's sample results (hostile strings among them)
check "sample: the results are written" "$top_builddir/tests/test_output" --sample "$work/sample"
render sample "$work/sample"
check "sample: verdict table" grep -q "v-compromised" "$work/sample.dom"
check "sample: activity pictures" grep -q "<svg" "$work/sample.dom"

# 2. the reference incident: the story, why, what to do
"$gen" --scenario reference --seed 7 --out "$work/ref-in" >/dev/null 2>&1
analyze reference 0 --fleet "$work/ref-in/fleet.csv" "$work/ref-in/logs" "$work/ref-in/pcap"
render reference "$work/reference"
dom="$work/reference.dom"
check "reference: the attack story" grep -q "<h3>The attack story</h3>" "$dom"
for phase in reconnaissance exploit "web shell installed" "commands run" "database read" exfiltration tampering spam; do
	check "reference: story phase $phase" grep -q "<td class=\"ph\">$phase</td>" "$dom"
done
check "reference: the tampered page's injected tag, as text" grep -Eq "injected: <span class=\"mono\">(&lt;(script|iframe)|window\\.open\\(\"http://)" "$dom"
check "reference: the injected tag is no element" sh -c "! grep -qi '<iframe' '$dom'"
check "reference: the command decoded" grep -q "decoded: .*cmd=ls -la" "$dom"
check "reference: the SQL text and rows" grep -Eq "SELECT .*\\([0-9]+ rows\\)" "$dom"
check "reference: evidence: a log line" grep -Eq "access_log-[0-9]+\\.gz</span> line [0-9]+" "$dom"
check "reference: evidence: a packet" grep -Eq "\\.pcap(\\.gz)?</span> packet [0-9]+" "$dom"
check "reference: why compromised" grep -q "<h3>Why compromised</h3>" "$dom"
check "reference: an exfiltration baseline" grep -q "median outbound flow of this server" "$dom"
check "reference: what to do now" grep -q "<td>reset_password</td>" "$dom"
check "reference: per-file table collapsed" grep -q "<details><summary>Every input" "$dom"

# 3. a clean fleet
"$gen" --scenario clean --seed 7 --users 40 --days 3 --out "$work/clean-in" >/dev/null 2>&1
analyze clean 0 --fleet "$work/clean-in/fleet.csv" "$work/clean-in/logs" "$work/clean-in/pcap"
render clean "$work/clean"
check "clean: no story to tell" grep -q "No server is compromised or suspicious" "$work/clean.dom"
check "clean: nothing damaged" grep -q " 0 damaged" "$work/clean.dom"

# 4. a maillog-only archive: the maillogs of the maillog-only scenario, no capture
"$gen" --scenario maillog-only --seed 7 --out "$work/mail-in" >/dev/null 2>&1
mkdir -p "$work/mail-only"
(cd "$work/mail-in/logs" && find . -name 'maillog*' | while read -r f; do
	mkdir -p "$work/mail-only/${f%/*}" && cp "$f" "$work/mail-only/$f"; done)
analyze maillog-only 0 --fleet "$work/mail-in/fleet.csv" "$work/mail-only"
render maillog-only "$work/maillog-only"
check "maillog-only: every format is a maillog's" sh -c "! grep -q '<td>gzip+pcap' '$work/maillog-only.dom'"

# 5. every input damaged: each gzip cut in half, one with markup in its name
mkdir -p "$work/cut"
for f in "$work"/clean-in/logs/*/maillog-*.gz "$work"/clean-in/pcap/*; do
	[ -f "$f" ] || continue
	s=$(wc -c <"$f")
	head -c $((s / 2)) "$f" >"$work/cut/$(basename "$(dirname "$f")")-$(basename "$f")"
done
cp "$work/cut/$(ls "$work/cut" | head -1)" "$work/cut/<i>cut.gz"
ninputs=$(ls "$work/cut" | wc -l)
"$bin" analyze --local-domain example.net -q -o "$work/damaged" "$work/cut" >"$work/damaged.log" 2>&1
check "damaged: analyze writes its results" test -s "$work/damaged/report.html"
render damaged "$work/damaged"
check "damaged: every input counted damaged" grep -q "$ninputs input(s), $ninputs damaged" "$work/damaged.dom"
check "damaged: a file name is text, not markup" grep -q "&lt;i&gt;cut.gz" "$work/damaged.dom"
check "damaged: no element from a file name" sh -c "! grep -q '<i>cut' '$work/damaged.dom'"

done_testing

#!/bin/sh
# End-to-end: generate every sample scenario with samples/bs-gen, run the
# real binary on it, and compare the outputs with the generator's ground
# truth (tests/truthcmp: server verdicts, windows within 60 s, attacker
# addresses, exposed addresses with precision and recall 1.0 per category).
# Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
bin="$top_builddir/breachscope"
gen="$top_builddir/samples/bs-gen"
cmp="$top_builddir/tests/truthcmp"
work="$top_builddir/tests/e2e-work"
rm -rf "$work"
mkdir -p "$work"

. "$top_srcdir/tests/tap.sh"

for scenario in reference clean maillog-only two-servers pcapng-vlan newyear variety variety-clean; do
	dir="$work/$scenario"
	mkdir -p "$dir"
	if ! "$gen" --scenario "$scenario" --seed 7 --out "$dir/in" >"$dir.gen.log" 2>&1; then
		fail "$scenario: generator failed"; sed 's/^/# /' "$dir.gen.log" | tail -20
		continue
	fi
	pass "$scenario: generated"
	set -- analyze --fleet "$dir/in/fleet.csv" --local-domain example.net -q -j 2 -o "$dir/out"
	[ -f "$top_srcdir/samples/geoip/sample.mmdb" ] && set -- "$@" --geoip "$top_srcdir/samples/geoip/sample.mmdb"
	[ -d "$dir/in/logs" ] && set -- "$@" "$dir/in/logs"
	[ -d "$dir/in/pcap" ] && set -- "$@" "$dir/in/pcap"
	"$bin" "$@" >"$dir.run.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then pass "$scenario: analyze exit status 0"
	else fail "$scenario: analyze exit status $rc"; sed 's/^/# /' "$dir.run.log" | tail -20; continue; fi
	# truthcmp prints its own TAP lines; renumber them into this stream
	"$cmp" "$dir/in/truth" "$dir/out" > "$dir.cmp.tap" 2>&1
	while IFS= read -r line; do
		case "$line" in
		"ok "*) pass "$scenario: ${line#* - }" ;;
		"not ok "*) fail "$scenario: ${line#* - }" ;;
		"#"*) echo "$line" ;;
		esac
	done < "$dir.cmp.tap"
	grep -q '^ok\|^not ok' "$dir.cmp.tap" || { fail "$scenario: truthcmp printed no result"; sed 's/^/# /' "$dir.cmp.tap" | tail -5; }
done
# Without an inventory: the fleet is discovered from the data and the
# answer must be the same (server names come from the Postfix logs); in the
# variety world the NAT, CGNAT and IMAP proxy addresses are not servers.
for scenario in reference variety variety-clean; do
	dir="$work/$scenario"
	[ -d "$dir/in/truth" ] || continue
	"$bin" analyze --local-domain example.net -q -j 2 -o "$dir/out-discovered" "$dir/in/logs" "$dir/in/pcap" >"$dir.disc.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then pass "$scenario, fleet discovered: exit status 0"
	else fail "$scenario, fleet discovered: exit status $rc"; fi
	"$cmp" "$dir/in/truth" "$dir/out-discovered" > "$dir.disc.tap" 2>&1
	while IFS= read -r line; do
		case "$line" in
		"ok "*) pass "$scenario, fleet discovered: ${line#* - }" ;;
		"not ok "*) fail "$scenario, fleet discovered: ${line#* - }" ;;
		"#"*) echo "$line" ;;
		esac
	done < "$dir.disc.tap"
	check "$scenario, fleet discovered: the report says how the fleet was found" grep -q "discovered" "$dir/out-discovered/report.html"
	is "$scenario, fleet discovered: the six webmail servers, nothing else" \
		"$(tail -n +2 "$dir/out-discovered/servers.csv" | cut -d, -f1 | tr '\n' ' ')" "wm1 wm2 wm3 wm4 wm5 wm6 "
done
done_testing

#!/bin/sh
# tests/truthcmp against itself: the committed sample's truth compared with
# itself passes; with an address removed, a category dropped, a verdict
# changed or a window moved, it fails and says what differs. Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
cmpbin="$top_builddir/tests/truthcmp"
truth="$top_srcdir/samples/incident/truth"
. "$top_srcdir/tests/tap.sh"
[ -f "$truth/servers.csv" ] || skip_all "no committed sample truth"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bs-truthcmp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

"$cmpbin" "$truth" "$truth" >"$tmp/self.tap"; rc=$?
is "truth against itself: exit status" "$rc" 0
is "truth against itself: no failing check" "$(grep -c "^not ok" "$tmp/self.tap")" 0
check "truth against itself: checks per server and per address" test "$(grep -c "^ok" "$tmp/self.tap")" -gt 50

mk() { rm -rf "$tmp/out"; mkdir "$tmp/out"; cp "$truth/servers.csv" "$truth/exposed_addresses.csv" "$tmp/out/"; }
# One exposed address missing.
mk
# (the first plain address: a quoted local part would need CSV unquoting here)
line=$(awk 'NR > 1 && !/^"/ { print NR; exit }' "$truth/exposed_addresses.csv")
victim=$(sed -n "${line}p" "$truth/exposed_addresses.csv" | cut -d, -f1)
sed -i "${line}d" "$tmp/out/exposed_addresses.csv"
"$cmpbin" "$truth" "$tmp/out" >"$tmp/miss.tap"; rc=$?
is "missing address: exit status" "$rc" 1
check "missing address: overall recall fails" grep -q "^not ok.*all categories: recall" "$tmp/miss.tap"
check "missing address: listed ($victim)" grep -qF "missing (any): $victim" "$tmp/miss.tap"
# An extra address with a category.
mk
echo 'intruder@example.org,example.org,0,sent_to,low,notify,,,,' >>"$tmp/out/exposed_addresses.csv"
"$cmpbin" "$truth" "$tmp/out" >"$tmp/extra.tap"
check "extra address: sent_to precision fails" grep -q "^not ok.*sent_to: precision" "$tmp/extra.tap"
check "extra address: listed" grep -qF "extra sent_to: intruder@example.org" "$tmp/extra.tap"
# A verdict changed and a window end moved by two minutes.
mk
awk -F, 'BEGIN{OFS=","} $1=="wm3"{ split($6,a,/[T:]/); m=a[3]+2; if (m>59) m-=60; $6=sprintf("%sT%s:%02d:%s",a[1],a[2],m,a[4]) } {print}' "$truth/servers.csv" \
	| sed 's/^wm3,\([^,]*\),compromised,/wm3,\1,clean,/' >"$tmp/out/servers.csv"
"$cmpbin" "$truth" "$tmp/out" >"$tmp/srv.tap"
check "changed verdict fails" grep -q "^not ok.*server wm3 verdict" "$tmp/srv.tap"
check "moved window end fails" grep -q "^not ok.*wm3 window_end" "$tmp/srv.tap"
check "unchanged window start passes" grep -q "^ok.*wm3 window_start" "$tmp/srv.tap"
# Output dir missing entirely.
"$cmpbin" "$truth" "$tmp/nowhere" >"$tmp/none.tap"; rc=$?
is "missing results: exit status" "$rc" 1
check "missing results: reported as failures" grep -q "^not ok.*readable" "$tmp/none.tap"
done_testing

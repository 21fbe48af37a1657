#!/bin/sh
# tests/truthcmp against itself: the committed sample's truth compared with
# itself passes; with an address removed, a category dropped, a verdict
# changed or a window moved, it fails and says what differs. Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
cmpbin="$top_builddir/tests/truthcmp"
truth="$top_srcdir/samples/incident/truth"
if [ ! -f "$truth/servers.csv" ]; then echo "1..0 # SKIP no committed sample truth"; exit 0; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bs-truthcmp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
emit() { n=$((n + 1)); echo "$1 $n - $2"; }
check() { if eval "$1"; then emit ok "$2"; else emit "not ok" "$2"; fi; }

"$cmpbin" "$truth" "$truth" >"$tmp/self.tap"; rc=$?
check '[ $rc -eq 0 ]' "truth against itself: exit status 0"
check '! grep -q "^not ok" "$tmp/self.tap"' "truth against itself: no failing check"
check '[ "$(grep -c "^ok" "$tmp/self.tap")" -gt 50 ]' "truth against itself: checks per server and per address"

mk() { rm -rf "$tmp/out"; mkdir "$tmp/out"; cp "$truth/servers.csv" "$truth/exposed_addresses.csv" "$tmp/out/"; }
# One exposed address missing.
mk
# (the first plain address: a quoted local part would need CSV unquoting here)
line=$(awk 'NR > 1 && !/^"/ { print NR; exit }' "$truth/exposed_addresses.csv")
victim=$(sed -n "${line}p" "$truth/exposed_addresses.csv" | cut -d, -f1)
sed -i "${line}d" "$tmp/out/exposed_addresses.csv"
"$cmpbin" "$truth" "$tmp/out" >"$tmp/miss.tap"; rc=$?
check '[ $rc -eq 1 ]' "missing address: exit status 1"
check 'grep -q "^not ok.*all categories: recall" "$tmp/miss.tap"' "missing address: overall recall fails"
check 'grep -qF "missing (any): $victim" "$tmp/miss.tap"' "missing address: listed ($victim)"
# An extra address with a category.
mk
echo 'intruder@example.org,example.org,0,sent_to,low,notify,,,,' >>"$tmp/out/exposed_addresses.csv"
"$cmpbin" "$truth" "$tmp/out" >"$tmp/extra.tap"
check 'grep -q "^not ok.*sent_to: precision" "$tmp/extra.tap"' "extra address: sent_to precision fails"
check 'grep -qF "extra sent_to: intruder@example.org" "$tmp/extra.tap"' "extra address: listed"
# A verdict changed and a window end moved by two minutes.
mk
awk -F, 'BEGIN{OFS=","} $1=="wm3"{ split($6,a,/[T:]/); m=a[3]+2; if (m>59) m-=60; $6=sprintf("%sT%s:%02d:%s",a[1],a[2],m,a[4]) } {print}' "$truth/servers.csv" \
	| sed 's/^wm3,\([^,]*\),compromised,/wm3,\1,clean,/' >"$tmp/out/servers.csv"
"$cmpbin" "$truth" "$tmp/out" >"$tmp/srv.tap"
check 'grep -q "^not ok.*server wm3 verdict" "$tmp/srv.tap"' "changed verdict fails"
check 'grep -q "^not ok.*wm3 window_end" "$tmp/srv.tap"' "moved window end fails"
check 'grep -q "^ok.*wm3 window_start" "$tmp/srv.tap"' "unchanged window start passes"
# Output dir missing entirely.
"$cmpbin" "$truth" "$tmp/nowhere" >"$tmp/none.tap"; rc=$?
check '[ $rc -eq 1 ] && grep -q "^not ok.*readable" "$tmp/none.tap"' "missing results: reported as failures"
echo "1..$n"

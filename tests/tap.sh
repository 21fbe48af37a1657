# tests/tap.sh - TAP helpers for the shell tests, sourced after top_srcdir is set.
#   pass DESC / fail DESC     one test
#   check STATUS DESC         passes when STATUS is 0 (usually "$?")
# The script prints the plan "1..$n" at its end.
n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if [ "$1" = 0 ]; then pass "$2"; else fail "$2"; fi; }

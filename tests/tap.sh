# tests/tap.sh - the TAP helpers of every shell test, sourced after
# top_srcdir is set. One meaning per name:
#   pass DESC                  one passing test
#   fail DESC                  one failing test
#   skip DESC                  one skipped test (ok # SKIP)
#   todo DESC WHY              one failing test of a known bug (not ok # TODO)
#   check DESC COMMAND...      passes when COMMAND succeeds
#   check_status STATUS DESC   passes when STATUS is 0 (usually "$?")
#   is DESC GOT WANT           passes when the two strings are equal
#   skip_all WHY               the whole script is skipped: plan 1..0, exit 0
#   done_testing               prints the plan "1..$n"; call it at the end
n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; }
todo() { n=$((n + 1)); echo "not ok $n - $1 # TODO $2"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
check() { d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
check_status() { if [ "$1" = 0 ]; then pass "$2"; else fail "$2"; fi; }
is() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
done_testing() { echo "1..$n"; }

#!/bin/sh
# corpus_parts.sh - the corpus passes of tests whose own checks run in `make
# check` on crafted data (make check-corpus, tests/corpus.mk): each program
# or script is run with `--corpus DIR` and is one test here; its own TAP
# lines follow as comments. BS_CORPUS names the corpus.
: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/tap.sh"
corpus=${BS_CORPUS:?BS_CORPUS names the corpus}
for t in tests/test_dns tests/test_dispatch tests/test_dovecot tests/test_output \
	tests/proto_tshark.sh tests/capture_follow.sh tests/nothing_lost.sh; do
	case $t in
	*.sh) out=$(sh "$top_srcdir/$t" --corpus "$corpus" 2>&1) ;;
	*) out=$("$top_builddir/$t" --corpus "$corpus" 2>&1) ;;
	esac
	rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
	if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -q '^ok ' && ! printf '%s\n' "$out" | grep -q '^not ok\|SKIP'; then
		pass "$t --corpus"
	else
		fail "$t --corpus (exit $rc)"
	fi
done
done_testing

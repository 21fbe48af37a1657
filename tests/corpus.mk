# tests/corpus.mk - `make check-corpus`: the checks against the public corpus
# (real maillogs and web logs, public captures, MaxMind's GeoIP test
# databases), which stays outside the project (others' data). Not part of
# `make check`, which is complete without it; CI runs this layer when the
# corpus is there. BS_CORPUS names it (default: ../shared/corpus beside the
# source tree); a missing corpus is an error here, not a skip.
# corpus_parts.sh runs the corpus passes of test_dns, test_dispatch,
# test_dovecot, test_output (GeoIP), proto_tshark.sh, capture_follow.sh and
# nothing_lost.sh (each with --corpus DIR), whose other checks are in make check.
CORPUS_TESTS = tests/test_corpus_maillog tests/test_corpus_pcap tests/test_geoip tests/corpus_parts.sh
# Listed under a condition that never holds: automake writes their .log
# rules, `make check` leaves them out, check-corpus runs them.
if CORPUS_LAYER
TESTS += $(CORPUS_TESTS)
endif
.PHONY: check-corpus
check-corpus:
	@corpus=$${BS_CORPUS:-$(abs_top_srcdir)/../shared/corpus}; \
	if [ ! -d "$$corpus/maillog" ] || [ ! -d "$$corpus/pcap" ] || [ ! -d "$$corpus/geoip" ]; then \
		echo "check-corpus: no corpus at $$corpus (set BS_CORPUS)" >&2; exit 1; fi; \
	rm -f $(CORPUS_TESTS:=.log) $(CORPUS_TESTS:=.trs); \
	BS_CORPUS=$$corpus $(MAKE) $(AM_MAKEFLAGS) check TESTS='$(CORPUS_TESTS)' TEST_SUITE_LOG=tests/corpus-suite.log
CLEANFILES += tests/corpus-suite.log
EXTRA_DIST += tests/corpus_parts.sh

# parsers/capture/local.mk - the capture engine (issue 5): libpcap and pcapng reading,
# link layers, IP and fragments, TCP reassembly, flows. See docs/CAPTURE.md.
libbscapture_a_SOURCES += parsers/capture/capture.c parsers/capture/capture.h \
	parsers/capture/ipfrag.c parsers/capture/ipfrag.h parsers/capture/tcpreasm.c parsers/capture/tcpreasm.h \
	parsers/capture/pcapng.c parsers/capture/pcapng.h

check_PROGRAMS += tests/test_tcpreasm tests/test_ipfrag tests/test_capture tests/test_corpus_pcap \
	tests/capdump tests/capsplit
TESTS += tests/test_tcpreasm tests/test_ipfrag tests/test_capture tests/rotated.sh
tests_test_tcpreasm_SOURCES = tests/test_tcpreasm.c tests/tap.h
tests_test_tcpreasm_LDADD = libbscapture.a libbscore.a $(DEPS_LIBS)
tests_test_ipfrag_SOURCES = tests/test_ipfrag.c tests/tap.h
tests_test_ipfrag_LDADD = libbscapture.a libbscore.a $(DEPS_LIBS)
tests_test_capture_SOURCES = tests/test_capture.c tests/tap.h
tests_test_capture_LDADD = libbscapture.a libbscore.a $(DEPS_LIBS)
tests_test_corpus_pcap_SOURCES = tests/test_corpus_pcap.c tests/tap.h
tests_test_corpus_pcap_LDADD = libbscapture.a libbscore.a $(DEPS_LIBS)
# capdump: prints the reassembled bytes of each TCP flow, for capture_follow.sh
tests_capdump_SOURCES = tests/capdump.c
tests_capdump_LDADD = libbscapture.a libbscore.a $(DEPS_LIBS)
# capsplit: joins and cuts captures like a rotating tcpdump, for rotated.sh
tests_capsplit_SOURCES = tests/capsplit.c
tests_capsplit_LDADD = libbscore.a $(DEPS_LIBS)
EXTRA_DIST += tests/capture_follow.sh tests/rotated.sh
TESTS += tests/capture_follow.sh
clean-local: clean-local-rotated
clean-local-rotated:
	-rm -rf tests/rotated-work

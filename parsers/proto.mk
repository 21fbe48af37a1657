# parsers/proto.mk - HTTP/1.x parser, shared address scanner, protocol dispatcher
# (see docs/PROTOCOLS.md).
libbsproto_a_SOURCES += parsers/proto.h parsers/proto.c parsers/http.h parsers/http.c \
	parsers/addrscan.h parsers/addrscan.c

check_PROGRAMS += tests/test_addrscan tests/test_http tests/test_dispatch
TESTS += tests/test_addrscan tests/test_http tests/test_dispatch
tests_test_addrscan_SOURCES = tests/test_addrscan.c
tests_test_addrscan_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
tests_test_http_SOURCES = tests/test_http.c
tests_test_http_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
tests_test_dispatch_SOURCES = tests/test_dispatch.c
tests_test_dispatch_LDADD = libbsproto.a libbscapture.a libbscore.a $(DEPS_LIBS)

# parsers/daemons.mk - the stateless mail store and filter daemon parsers:
# Dovecot, Courier, Cyrus, amavis, spamd (see docs/DAEMONS.md).
libbslogs_a_SOURCES += parsers/dovecot.c parsers/courier.c parsers/cyrus.c \
	parsers/amavis.c parsers/spamd.c

DAEMONS_TEST_LIBS = libbslogs.a libbscore.a $(DEPS_LIBS)

check_PROGRAMS += tests/test_dovecot tests/test_courier tests/test_cyrus \
	tests/test_amavis tests/test_spamd
TESTS += tests/test_dovecot tests/test_courier tests/test_cyrus \
	tests/test_amavis tests/test_spamd
tests_test_dovecot_SOURCES = tests/test_dovecot.c
tests_test_dovecot_LDADD = $(DAEMONS_TEST_LIBS)
tests_test_courier_SOURCES = tests/test_courier.c
tests_test_courier_LDADD = $(DAEMONS_TEST_LIBS)
tests_test_cyrus_SOURCES = tests/test_cyrus.c
tests_test_cyrus_LDADD = $(DAEMONS_TEST_LIBS)
tests_test_amavis_SOURCES = tests/test_amavis.c
tests_test_amavis_LDADD = $(DAEMONS_TEST_LIBS)
tests_test_spamd_SOURCES = tests/test_spamd.c
tests_test_spamd_LDADD = $(DAEMONS_TEST_LIBS)

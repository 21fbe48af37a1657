# parsers/daemons.mk - the stateless mail store and filter daemon parsers:
# Dovecot, Courier, Cyrus, amavis, spamd (see docs/DAEMONS.md).
libbslogs_a_SOURCES += parsers/dovecot.c parsers/courier.c parsers/cyrus.c \
	parsers/amavis.c parsers/spamd.c

DAEMONS_TEST_LIBS = libbslogs.a libbscore.a $(DEPS_LIBS)

check_PROGRAMS += tests/test_dovecot
TESTS += tests/test_dovecot
tests_test_dovecot_SOURCES = tests/test_dovecot.c
tests_test_dovecot_LDADD = $(DAEMONS_TEST_LIBS)

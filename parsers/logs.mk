# parsers/logs.mk - syslog framing, the text-log reader and the Postfix,
# Sendmail, Exim and web access log parsers (see docs/FORMATS.md).
libbslogs_a_SOURCES += parsers/syslog.c parsers/syslog.h parsers/linectx.c parsers/daemons.h \
	parsers/postfix.c parsers/weblog.c parsers/sendmail.c parsers/exim.c \
	parsers/maillog.c parsers/maillog.h

LOGS_TEST_LIBS = libbslogs.a libbscore.a $(DEPS_LIBS)

check_PROGRAMS += tests/test_syslog tests/test_postfix tests/test_weblog tests/test_sendmail tests/test_exim tests/test_maillog \
	tests/test_corpus_maillog
TESTS += tests/test_syslog tests/test_postfix tests/test_weblog tests/test_sendmail tests/test_exim tests/test_maillog \
	tests/test_corpus_maillog
tests_test_syslog_SOURCES = tests/test_syslog.c
tests_test_syslog_LDADD = $(LOGS_TEST_LIBS)
tests_test_postfix_SOURCES = tests/test_postfix.c
tests_test_postfix_LDADD = $(LOGS_TEST_LIBS)
tests_test_weblog_SOURCES = tests/test_weblog.c
tests_test_weblog_LDADD = $(LOGS_TEST_LIBS)
tests_test_sendmail_SOURCES = tests/test_sendmail.c
tests_test_sendmail_LDADD = $(LOGS_TEST_LIBS)
tests_test_exim_SOURCES = tests/test_exim.c
tests_test_exim_LDADD = $(LOGS_TEST_LIBS)
tests_test_maillog_SOURCES = tests/test_maillog.c
tests_test_maillog_LDADD = $(LOGS_TEST_LIBS)
tests_test_corpus_maillog_SOURCES = tests/test_corpus_maillog.c
tests_test_corpus_maillog_LDADD = $(LOGS_TEST_LIBS)

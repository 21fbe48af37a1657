# parsers/logs/local.mk - syslog framing, the text-log reader (maillog) and
# its registry of daemon parsers (daemons.h): Postfix, Sendmail, Exim (their
# open messages in queue.c), web access logs, and the mail store and filter
# daemons Dovecot, Courier, Cyrus, amavis, spamd (docs/FORMATS.md,
# docs/DAEMONS.md).
libbslogs_a_SOURCES += parsers/logs/syslog.c parsers/logs/syslog.h parsers/logs/linectx.c parsers/logs/daemons.h \
	parsers/logs/postfix.c parsers/logs/weblog.c parsers/logs/sendmail.c parsers/logs/exim.c \
	parsers/logs/maillog.c parsers/logs/maillog.h parsers/logs/queue.c parsers/logs/queue.h

LOGS_TEST_LIBS = libbslogs.a libbscore.a $(DEPS_LIBS)

check_PROGRAMS += tests/test_syslog tests/test_postfix tests/test_weblog tests/test_sendmail tests/test_exim tests/test_maillog \
	tests/test_corpus_maillog
TESTS += tests/test_syslog tests/test_postfix tests/test_weblog tests/test_sendmail tests/test_exim tests/test_maillog
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

libbslogs_a_SOURCES += parsers/logs/dovecot.c parsers/logs/courier.c parsers/logs/cyrus.c \
	parsers/logs/amavis.c parsers/logs/spamd.c parsers/logs/sudo.c parsers/logs/roundcube.c \
	parsers/logs/w3c.c parsers/logs/webmail.c parsers/logs/webmail.h parsers/logs/zimbra.c parsers/logs/sogo.c \
	parsers/logs/horde.c parsers/logs/squirrelmail.c parsers/logs/snappymail.c parsers/logs/domino.c parsers/logs/kerio.c parsers/logs/openwebmail.c \
	parsers/logs/qmail.c parsers/logs/opensmtpd.c parsers/logs/nginxmail.c parsers/logs/perdition.c parsers/logs/uwimap.c parsers/logs/solidpop3d.c \
	parsers/logs/groupoffice.c parsers/logs/tine20.c parsers/logs/mailscanner.c

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

# parsers/proto2.mk - SMTP, IMAP, POP3, FTP, MySQL and DNS stream parsers (see docs/PROTOCOLS.md)
libbsproto_a_SOURCES += parsers/smtp.c parsers/smtp.h parsers/imap.c parsers/imap.h \
	parsers/pop3.c parsers/pop3.h parsers/ftp.c parsers/ftp.h \
	parsers/mysql.c parsers/mysql.h parsers/dns.c parsers/dns.h

PROTO2_TESTS = tests/test_smtp
check_PROGRAMS += $(PROTO2_TESTS)
TESTS += $(PROTO2_TESTS)
tests_test_smtp_SOURCES = tests/test_smtp.c tests/proto2_harness.h
tests_test_smtp_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
PROTO2_TESTS += tests/test_mysql
tests_test_mysql_SOURCES = tests/test_mysql.c tests/proto2_harness.h
tests_test_mysql_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
PROTO2_TESTS += tests/test_dns
tests_test_dns_SOURCES = tests/test_dns.c tests/proto2_harness.h
tests_test_dns_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
PROTO2_TESTS += tests/test_pop3
tests_test_pop3_SOURCES = tests/test_pop3.c tests/proto2_harness.h
tests_test_pop3_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
PROTO2_TESTS += tests/test_ftp
tests_test_ftp_SOURCES = tests/test_ftp.c tests/proto2_harness.h
tests_test_ftp_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
PROTO2_TESTS += tests/test_imap
tests_test_imap_SOURCES = tests/test_imap.c tests/proto2_harness.h
tests_test_imap_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)

# Agreement with tshark on a generated capture and the corpus' DNS captures.
check_PROGRAMS += tests/mkproto_pcap
tests_mkproto_pcap_SOURCES = tests/mkproto_pcap.c
tests_mkproto_pcap_LDADD = libbsproto.a libbscapture.a libbscore.a $(DEPS_LIBS)
TESTS += tests/proto_tshark.sh
EXTRA_DIST += tests/proto_tshark.sh

# parsers/stream/local.mk - the stream protocol dispatcher (proto) and the
# HTTP, SMTP, IMAP, POP3, FTP, MySQL and DNS parsers; lineproto, the layer the
# line-based ones (SMTP, IMAP, POP3, FTP) share; content.c, which classifies
# bodies only a parser sees; jsonkv.c, gzfile.c and jsexpr.c, the readers
# of JSON, gzip files and script expressions in bodies (docs/PROTOCOLS.md).
libbsproto_a_SOURCES += parsers/stream/proto.h parsers/stream/proto.c parsers/stream/http.h parsers/stream/http.c \
	parsers/stream/lineproto.h parsers/stream/lineproto.c \
	parsers/stream/smtp.c parsers/stream/smtp.h parsers/stream/imap.c parsers/stream/imap.h \
	parsers/stream/pop3.c parsers/stream/pop3.h parsers/stream/ftp.c parsers/stream/ftp.h \
	parsers/stream/mysql.c parsers/stream/mysql.h parsers/stream/dns.c parsers/stream/dns.h \
	parsers/stream/content.c parsers/stream/content.h parsers/stream/jsonkv.c parsers/stream/jsonkv.h parsers/stream/jsexpr.c parsers/stream/jsexpr.h \
	parsers/stream/gzfile.c parsers/stream/gzfile.h

check_PROGRAMS += tests/test_http tests/test_dispatch tests/test_jsonkv tests/test_gzfile tests/test_jsexpr
TESTS += tests/test_http tests/test_dispatch tests/test_jsonkv tests/test_gzfile tests/test_jsexpr
tests_test_jsexpr_SOURCES = tests/test_jsexpr.c
tests_test_jsexpr_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
tests_test_gzfile_SOURCES = tests/test_gzfile.c
tests_test_gzfile_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
tests_test_jsonkv_SOURCES = tests/test_jsonkv.c
tests_test_jsonkv_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
tests_test_http_SOURCES = tests/test_http.c
tests_test_http_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
tests_test_dispatch_SOURCES = tests/test_dispatch.c
tests_test_dispatch_LDADD = libbsproto.a libbscapture.a libbscore.a $(DEPS_LIBS)

STREAM_SESSION_TESTS = tests/test_smtp
check_PROGRAMS += $(STREAM_SESSION_TESTS)
TESTS += $(STREAM_SESSION_TESTS)
tests_test_smtp_SOURCES = tests/test_smtp.c tests/stream_session.h
tests_test_smtp_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
STREAM_SESSION_TESTS += tests/test_mysql
tests_test_mysql_SOURCES = tests/test_mysql.c tests/stream_session.h
tests_test_mysql_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
STREAM_SESSION_TESTS += tests/test_dns
tests_test_dns_SOURCES = tests/test_dns.c tests/stream_session.h
tests_test_dns_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
STREAM_SESSION_TESTS += tests/test_pop3
tests_test_pop3_SOURCES = tests/test_pop3.c tests/stream_session.h
tests_test_pop3_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
STREAM_SESSION_TESTS += tests/test_ftp
tests_test_ftp_SOURCES = tests/test_ftp.c tests/stream_session.h
tests_test_ftp_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)
STREAM_SESSION_TESTS += tests/test_imap
tests_test_imap_SOURCES = tests/test_imap.c tests/stream_session.h
tests_test_imap_LDADD = libbsproto.a libbscore.a $(DEPS_LIBS)

# Agreement with tshark on a generated capture and the corpus' DNS captures.
check_PROGRAMS += tests/mkproto_pcap
tests_mkproto_pcap_SOURCES = tests/mkproto_pcap.c
tests_mkproto_pcap_LDADD = libbsproto.a libbscapture.a libbscore.a $(DEPS_LIBS)
TESTS += tests/proto_tshark.sh
EXTRA_DIST += tests/proto_tshark.sh

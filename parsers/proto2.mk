# parsers/proto2.mk - SMTP, IMAP, POP3, FTP, MySQL and DNS stream parsers (see docs/PROTOCOLS.md)
libbsproto_a_SOURCES += parsers/smtp.c parsers/smtp.h parsers/imap.c parsers/imap.h \
	parsers/pop3.c parsers/pop3.h parsers/ftp.c parsers/ftp.h \
	parsers/mysql.c parsers/mysql.h parsers/dns.c parsers/dns.h

/* mkproto_pcap.c - helper of proto_tshark.sh.
 *
 *   mkproto_pcap write OUT.pcap   write a capture of SMTP, MySQL, DNS, odd
 *                                 HTTP (and IMAP, POP3, FTP) sessions with libpcap
 *   mkproto_pcap write-link KIND OUT.pcap   DNS and HTTP over the link layer
 *                                 KIND: nflog, pppoe, qinq-pppoe, mpls, arcnet, arcnet-1051
 *   mkproto_pcap write-split DIR  a link of two rotated captures (DIR/a.pcap,
 *                                 DIR/b.pcap) for split.sh: interleaved HTTP
 *                                 sessions of many clients, a flow going on in
 *                                 the second file, passive FTP, IPv4
 *                                 fragments, a flow idle three hours, a flow
 *                                 left idle at the end, datagrams and
 *                                 fragments whose times jump back and forth,
 *                                 non-IP frames
 *   mkproto_pcap write-encrypted OUT.pcap   two TLS flows, an SSH flow and
 *                                 a plain HTTP request (hostile.sh)
 *   mkproto_pcap dump FILE        read a capture through the capture engine
 *                                 and the protocol dispatcher, and print the
 *                                 items tshark also prints, one a line:
 *                                 "smtp.from A", "smtp.to A", "mysql.query Q",
 *                                 "mysql.command C", "mysql.stmt_id C ID",
 *                                 "mysql.context C USER DB", "mysql.rows N",
 *                                 "mysql.user U",
 *                                 "dns.qry.name N", "http.request M U",
 *                                 "http.response.code N"
 */
#include "config.h"
#include <pcap/pcap.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parsers/capture/capture.h"
#include "parsers/stream/proto.h"

/* ------------------------------------------------------------ writing */

static pcap_dumper_t *dumper;
static long long clock_us = 1179250200LL * 1000000; /* 2007-05-15 */

static uint16_t ip_checksum(const uint8_t *h, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The link layer under the IPv4 packets written. */
enum link_kind { LINK_ETHERNET = 0, LINK_NFLOG, LINK_PPPOE, LINK_QINQ_PPPOE, LINK_MPLS, LINK_ARCNET, LINK_ARCNET_1051 };
static enum link_kind link_kind;

static size_t put_be16(uint8_t *f, size_t at, unsigned v)
{
	f[at] = (uint8_t)(v >> 8);
	f[at + 1] = (uint8_t)v;
	return at + 2;
}

/* The link header before an IPv4 packet of iplen bytes; its length. */
static size_t link_header(uint8_t *f, size_t iplen)
{
	if (link_kind == LINK_NFLOG) {
		/* AF_INET, version 0, resource id 0; NFULA_PACKET_HDR (hw protocol
		 * 0x0800, hook 1); NFULA_PAYLOAD: TLV lengths and types in the
		 * (little-endian) capturing host's order */
		memcpy(f, "\x02\x00\x00\x00\x08\x00\x01\x00\x08\x00\x01\x00", 12);
		f[12] = (uint8_t)(iplen + 4);
		f[13] = (uint8_t)((iplen + 4) >> 8);
		f[14] = 9;
		f[15] = 0;
		return 16;
	}
	if (link_kind == LINK_ARCNET) {
		/* Linux ARCNET: stations 0x01 -> 0x02, offset, IP (RFC 1201),
		 * split flag 0, sequence number */
		memcpy(f, "\x01\x02\x00\x00\xd4\x00\x12\x34", 8);
		return 8;
	}
	if (link_kind == LINK_ARCNET_1051) {
		memcpy(f, "\x01\x02\x00\x00\xf0", 5); /* RFC 1051: IP right after the protocol id */
		return 5;
	}
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	size_t o = 12;
	switch (link_kind) {
	case LINK_QINQ_PPPOE:
		o = put_be16(f, o, 0x88a8); /* service tag, VLAN 100 */
		o = put_be16(f, o, 100);
		o = put_be16(f, o, 0x8100); /* customer tag, VLAN 200 */
		o = put_be16(f, o, 200);
		/* fall through */
	case LINK_PPPOE:
		o = put_be16(f, o, 0x8864); /* session stage: ver/type 0x11, code 0, id 0x1234 */
		o = put_be16(f, o, 0x1100);
		o = put_be16(f, o, 0x1234);
		o = put_be16(f, o, (unsigned)iplen + 2);
		return put_be16(f, o, 0x0021); /* PPP: IPv4 */
	case LINK_MPLS:
		o = put_be16(f, o, 0x8847); /* labels 1000 and 2000 (bottom of stack), TTL 64 */
		o = put_be16(f, o, 1000 >> 4);
		o = put_be16(f, o, (1000 & 0xf) << 12 | 64);
		o = put_be16(f, o, 2000 >> 4);
		return put_be16(f, o, (2000 & 0xf) << 12 | 0x100 | 64);
	default:
		return put_be16(f, o, 0x0800);
	}
}

/* One frame of n bytes, a millisecond after the last. */
static void dump_frame(const uint8_t *f, size_t n)
{
	struct pcap_pkthdr h;
	clock_us += 1000;
	h.ts.tv_sec = (time_t)(clock_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(clock_us % 1000000);
	h.caplen = h.len = (bpf_u_int32)n;
	pcap_dump((u_char *)dumper, &h, f);
}

/* One IPv4 frame with a TCP (proto 6) or UDP (17) payload. */
static void frame(int proto, const uint8_t src[4], const uint8_t dst[4], uint16_t sport, uint16_t dport,
                  uint32_t seq, uint32_t ack, uint8_t flags, const void *data, size_t n)
{
	uint8_t f[1600];
	size_t l4 = proto == 6 ? 20 : 8;
	size_t total = 20 + l4 + n;
	memset(f, 0, 64 + 20 + l4);
	size_t lh = link_header(f, total);
	uint8_t *ip = f + lh, *t = ip + 20;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = (uint8_t)proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	uint16_t ck = ip_checksum(ip, 20);
	ip[10] = (uint8_t)(ck >> 8);
	ip[11] = (uint8_t)ck;
	t[0] = (uint8_t)(sport >> 8); t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8); t[3] = (uint8_t)dport;
	if (proto == 6) {
		for (int i = 0; i < 4; i++) {
			t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
			t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
		}
		t[12] = 0x50;
		t[13] = flags;
		t[14] = 0xff; t[15] = 0xff;
	} else {
		t[4] = (uint8_t)((8 + n) >> 8);
		t[5] = (uint8_t)(8 + n);
	}
	memcpy(t + l4, data, n);
	dump_frame(f, lh + total);
}

struct tcp_session {
	uint8_t cli[4], srv[4];
	uint16_t cport, sport;
	uint32_t seq[2];
};

static void tcp_open(struct tcp_session *s, const char *cli, const char *srv, uint16_t cport, uint16_t sport)
{
	bs_ip a, b;
	bs_ip_parse(cli, strlen(cli), &a);
	bs_ip_parse(srv, strlen(srv), &b);
	memcpy(s->cli, a.a, 4);
	memcpy(s->srv, b.a, 4);
	s->cport = cport;
	s->sport = sport;
	s->seq[0] = 1000;
	s->seq[1] = 5000;
	frame(6, s->cli, s->srv, cport, sport, s->seq[0]++, 0, 0x02, "", 0);
	frame(6, s->srv, s->cli, sport, cport, s->seq[1]++, s->seq[0], 0x12, "", 0);
	frame(6, s->cli, s->srv, cport, sport, s->seq[0], s->seq[1], 0x10, "", 0);
}

/* Bytes from one side, cut in segments of at most `seg` bytes. */
static void tcp_send(struct tcp_session *s, int dir, const void *data, size_t n, size_t seg)
{
	const uint8_t *p = data;
	while (n > 0) {
		size_t k = n < seg ? n : seg;
		if (dir == 0)
			frame(6, s->cli, s->srv, s->cport, s->sport, s->seq[0], s->seq[1], 0x18, p, k);
		else
			frame(6, s->srv, s->cli, s->sport, s->cport, s->seq[1], s->seq[0], 0x18, p, k);
		s->seq[dir] += (uint32_t)k;
		p += k;
		n -= k;
	}
}
#define SEND(s, dir, str) tcp_send((s), (dir), (str), sizeof(str) - 1, 1400)

static void tcp_close(struct tcp_session *s)
{
	frame(6, s->cli, s->srv, s->cport, s->sport, s->seq[0]++, s->seq[1], 0x11, "", 0);
	frame(6, s->srv, s->cli, s->sport, s->cport, s->seq[1]++, s->seq[0], 0x11, "", 0);
	frame(6, s->cli, s->srv, s->cport, s->sport, s->seq[0], s->seq[1], 0x10, "", 0);
}

static void smtp_sessions(void)
{
	struct tcp_session s;
	tcp_open(&s, "192.0.2.50", "198.51.100.25", 40001, 25);
	SEND(&s, 1, "220 mx.example.net ESMTP Postfix\r\n");
	SEND(&s, 0, "EHLO webmail3.example.net\r\n");
	SEND(&s, 1, "250-mx.example.net\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
	/* a command cut across two segments */
	tcp_send(&s, 0, "MAIL FROM:<alice@example.com> SIZE=120\r\n", 40, 13);
	SEND(&s, 1, "250 2.1.0 Ok\r\n");
	SEND(&s, 0, "RCPT TO:<bob@example.org>\r\n");
	SEND(&s, 1, "250 2.1.5 Ok\r\n");
	SEND(&s, 0, "RCPT TO:<carol@example.net>\r\n");
	SEND(&s, 1, "250 2.1.5 Ok\r\n");
	SEND(&s, 0, "DATA\r\n");
	SEND(&s, 1, "354 End data with <CR><LF>.<CR><LF>\r\n");
	SEND(&s, 0, "From: alice@example.com\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nhello\r\n.\r\n");
	SEND(&s, 1, "250 2.0.0 Ok: queued as 4B1C23D\r\n");
	SEND(&s, 0, "MAIL FROM:<>\r\n");
	SEND(&s, 1, "250 2.1.0 Ok\r\n");
	SEND(&s, 0, "RCPT TO:<dave@example.com>\r\n");
	SEND(&s, 1, "250 2.1.5 Ok\r\n");
	SEND(&s, 0, "DATA\r\n");
	SEND(&s, 1, "354 go ahead\r\n");
	SEND(&s, 0, "Subject: bounce\r\n\r\nx\r\n.\r\n");
	SEND(&s, 1, "250 2.0.0 Ok: queued as 5C2D34E\r\n");
	SEND(&s, 0, "QUIT\r\n");
	SEND(&s, 1, "221 2.0.0 Bye\r\n");
	tcp_close(&s);

	tcp_open(&s, "203.0.113.77", "198.51.100.25", 40002, 25);
	SEND(&s, 1, "220 mx.example.net ESMTP Postfix\r\n");
	SEND(&s, 0, "EHLO spammer\r\n");
	SEND(&s, 1, "250-mx.example.net\r\n250 PIPELINING\r\n");
	SEND(&s, 0, "MAIL FROM:<promo@cheap.example.biz>\r\n");
	SEND(&s, 1, "250 2.1.0 Ok\r\n");
	SEND(&s, 0, "RCPT TO:<erin@example.com>\r\n");
	SEND(&s, 1, "250 2.1.5 Ok\r\n");
	SEND(&s, 0, "RCPT TO:<frank@example.com>\r\n");
	SEND(&s, 1, "550 5.1.1 <frank@example.com>: Recipient address rejected\r\n");
	SEND(&s, 0, "DATA\r\n");
	SEND(&s, 1, "354 go\r\n");
	SEND(&s, 0, "Subject: cheap\r\n\r\nbuy\r\n.\r\n");
	SEND(&s, 1, "250 2.0.0 Ok: queued as 6D3E45F\r\n");
	SEND(&s, 0, "QUIT\r\n");
	SEND(&s, 1, "221 Bye\r\n");
	tcp_close(&s);
}

static uint8_t pkt[20000];
static size_t pktn;
static void p_start(void) { pktn = 4; }
static void p_u8(unsigned v) { pkt[pktn++] = (uint8_t)v; }
static void p_mem(const void *d, size_t n) { memcpy(pkt + pktn, d, n); pktn += n; }
static void p_str(const char *s) { p_u8((unsigned)strlen(s)); p_mem(s, strlen(s)); }
static void p_send(struct tcp_session *s, int dir, unsigned seq, size_t seg)
{
	size_t len = pktn - 4;
	pkt[0] = (uint8_t)len;
	pkt[1] = (uint8_t)(len >> 8);
	pkt[2] = (uint8_t)(len >> 16);
	pkt[3] = (uint8_t)seq;
	tcp_send(s, dir, pkt, pktn, seg);
}

static void mysql_result(struct tcp_session *s, const char *col, const char *const *vals, size_t nvals)
{
	unsigned seq = 1;
	p_start(); p_u8(1); p_send(s, 1, seq++, 1400);
	p_start();
	p_str("def"); p_str("atmail"); p_str("Users"); p_str("Users"); p_str(col); p_str(col);
	p_u8(0x0c); p_u8(33); p_u8(0); p_mem("\xff\x00\x00\x00", 4); p_u8(0xfd); p_u8(0); p_u8(0);
	p_u8(0); p_u8(0); p_u8(0);
	p_send(s, 1, seq++, 1400);
	p_start(); p_mem("\xfe\x00\x00\x02\x00", 5); p_send(s, 1, seq++, 1400);
	for (size_t i = 0; i < nvals; i++) {
		p_start(); p_str(vals[i]); p_send(s, 1, seq++, 1400);
	}
	p_start(); p_mem("\xfe\x00\x00\x02\x00", 5); p_send(s, 1, seq++, 1400);
}

static void mysql_session(void)
{
	struct tcp_session s;
	tcp_open(&s, "192.0.2.50", "192.0.2.200", 50001, 3306);
	p_start();
	p_u8(10); p_mem("5.0.51a-24+lenny5\0", 18); p_mem("\x2a\x00\x00\x00", 4);
	p_mem("abcdefgh\0", 9); p_mem("\x2c\xa2", 2); p_u8(8); p_mem("\x02\x00", 2);
	p_mem("\0\0\0\0\0\0\0\0\0\0\0\0\0", 13); p_mem("ijklmnopqrst\0", 13);
	p_send(&s, 1, 0, 1400);
	p_start();
	p_mem("\x8d\xa2\x00\x00", 4); p_mem("\x00\x00\x00\x01", 4); p_u8(8);
	for (int i = 0; i < 23; i++) p_u8(0);
	p_mem("atmail\0", 7); p_u8(20); p_mem("01234567890123456789", 20); p_mem("atmail\0", 7);
	p_send(&s, 0, 1, 1400);
	p_start(); p_mem("\x00\x00\x00\x02\x00\x00\x00", 7); p_send(&s, 1, 2, 1400);

	static const char *const q[] = {
		"SELECT Account FROM UserSession WHERE SessionID='x'",
		"SELECT DISTINCT EmailAddress FROM Abook_atmail",
		"SELECT Account, Password FROM Users",
	};
	static const char *const v1[] = { "alice@example.com" };
	static const char *const v2[] = { "bob@example.org", "carol@example.net", "dave@example.com" };
	for (size_t i = 0; i < 3; i++) {
		p_start(); p_u8(3); p_mem(q[i], strlen(q[i]));
		p_send(&s, 0, 0, i == 1 ? 17 : 1400); /* one query cut in small segments */
		if (i == 0)
			mysql_result(&s, "Account", v1, 1);
		else if (i == 1)
			mysql_result(&s, "EmailAddress", v2, 3);
		else {
			p_start(); p_mem("\xff\x7a\x04#42000", 9); p_mem("Access denied", 13); p_send(&s, 1, 1, 1400);
		}
	}
	p_start(); p_u8(1); p_send(&s, 0, 0, 1400);
	tcp_close(&s);
}

static void p_le16(unsigned v) { p_u8(v & 0xff); p_u8(v >> 8); }
static void p_le32(uint32_t v) { p_le16(v & 0xffff); p_le16(v >> 16); }
static void p_zstr(const char *s) { p_mem(s, strlen(s) + 1); }
/* OK (status: autocommit) and ERR packets of the server */
static void p_ok(struct tcp_session *s, unsigned seq) { p_start(); p_mem("\x00\x00\x00\x02\x00\x00\x00", 7); p_send(s, 1, seq, 1400); }
static void p_err(struct tcp_session *s, unsigned seq, const char *msg)
{
	p_start(); p_mem("\xff\x19\x04#42000", 9); p_mem(msg, strlen(msg)); p_send(s, 1, seq, 1400);
}
/* EOF with a server status */
static void p_eof(struct tcp_session *s, unsigned seq, unsigned status)
{
	p_start(); p_u8(0xfe); p_le16(0); p_le16(status); p_send(s, 1, seq, 1400);
}
/* A VAR_STRING column (or parameter) definition of the Users table */
static void p_coldef(struct tcp_session *s, unsigned seq, const char *name)
{
	p_start();
	p_str("def"); p_str("mail"); p_str("Users"); p_str("Users"); p_str(name); p_str(name);
	p_u8(0x0c); p_le16(33); p_le32(255); p_u8(0xfd); p_le16(0); p_u8(0); p_le16(0);
	p_send(s, 1, seq, 1400);
}
/* A binary row of two strings: 0x00, NULL bitmap (offset 2), values */
static void p_binrow(struct tcp_session *s, unsigned seq, const char *a, const char *b)
{
	p_start(); p_u8(0); p_u8(0); p_str(a); p_str(b); p_send(s, 1, seq, 1400);
}

/* Greeting of a MySQL 8.0 server offering query attributes, and the
 * client's HandshakeResponse41 (caps) with a database; its OK. */
static void mysql8_login(struct tcp_session *s, uint32_t caps, const char *user, const char *db)
{
	p_start();
	p_u8(10); p_zstr("8.0.36"); p_le32(42); p_mem("abcdefgh\0", 9);
	p_le16(0xf7ff); p_u8(255); p_le16(2); p_le16(0x080f); p_u8(21);
	p_mem("\0\0\0\0\0\0\0\0\0\0", 10); p_mem("ijklmnopqrst\0", 13); p_zstr("mysql_native_password");
	p_send(s, 1, 0, 1400);
	p_start();
	p_le32(caps); p_le32(1 << 24); p_u8(255);
	for (int i = 0; i < 23; i++) p_u8(0);
	p_zstr(user); p_u8(20); p_mem("01234567890123456789", 20); p_zstr(db); p_zstr("mysql_native_password");
	p_send(s, 0, 1, 1400);
	p_ok(s, 2);
}

#define MYSQL8_CAPS 0x000ba20fu /* 4.1, secure connection, plugin auth, with database */
#define CAPS_QUERY_ATTRIBUTES 0x08000000u

static void p_command(struct tcp_session *s, unsigned cmd, const char *arg)
{
	p_start(); p_u8(cmd); p_mem(arg, strlen(arg)); p_send(s, 0, 0, 1400);
}

/* COM_QUERY of a client with query attributes: no attribute (counts 0, 1) */
static void p_query_qa(struct tcp_session *s, const char *sql)
{
	p_start(); p_u8(3); p_u8(0); p_u8(1); p_mem(sql, strlen(sql)); p_send(s, 0, 0, 1400);
}

/* A client with query attributes: a query with one attribute, one without,
 * COM_INIT_DB accepted and refused, COM_CHANGE_USER; a query after each,
 * which carries the user and database in force. */
static void mysql_attributes_session(void)
{
	static const char *const one[] = { "alice@example.com" };
	static const char *const two[] = { "bob@example.org", "carol@example.net" };
	struct tcp_session s;
	tcp_open(&s, "192.0.2.51", "192.0.2.201", 50002, 3306);
	mysql8_login(&s, MYSQL8_CAPS | CAPS_QUERY_ATTRIBUTES, "webmail", "mail");
	/* one STRING attribute "trace" = "t-1": counts, NULL bitmap, bind flag, type and name, value */
	p_start(); p_u8(3); p_u8(1); p_u8(1); p_u8(0); p_u8(1); p_le16(0xfe); p_str("trace"); p_str("t-1");
	p_mem("SELECT Email FROM Users", 23); p_send(&s, 0, 0, 1400);
	mysql_result(&s, "Email", one, 1);
	p_query_qa(&s, "select now()");
	mysql_result(&s, "now()", one, 1);
	p_command(&s, 2, "addressbook");
	p_ok(&s, 1);
	p_query_qa(&s, "SELECT Email FROM Contacts");
	mysql_result(&s, "Email", two, 2);
	p_command(&s, 2, "secret");
	p_err(&s, 1, "Access denied for user 'webmail' to database 'secret'");
	p_query_qa(&s, "SELECT 1");
	mysql_result(&s, "1", one, 0);
	p_start(); p_u8(0x11); p_zstr("root"); p_u8(20); p_mem("98765432109876543210", 20); p_zstr("mysql");
	p_le16(255); p_zstr("mysql_native_password"); p_send(&s, 0, 0, 1400);
	p_ok(&s, 1);
	p_query_qa(&s, "SELECT User, Host FROM user");
	mysql_result(&s, "User", one, 1);
	/* refused: root and mysql stay in force */
	p_start(); p_u8(0x11); p_zstr("guest"); p_u8(0); p_zstr("guestdb"); p_le16(255);
	p_zstr("mysql_native_password"); p_send(&s, 0, 0, 1400);
	p_err(&s, 1, "Access denied for user 'guest'");
	p_query_qa(&s, "SELECT 2");
	mysql_result(&s, "2", one, 1);
	p_command(&s, 1, "");
	tcp_close(&s);
}

/* COM_STMT_PREPARE and its PREPARE_OK (stmt id, columns, parameters),
 * the parameter and column definitions each followed by an EOF */
static void mysql_prepare(struct tcp_session *s, const char *sql, uint32_t id, unsigned ncols, unsigned nparams)
{
	unsigned seq = 1;
	p_command(s, 0x16, sql);
	p_start(); p_u8(0); p_le32(id); p_le16(ncols); p_le16(nparams); p_u8(0); p_le16(0); p_send(s, 1, seq++, 1400);
	for (unsigned i = 0; i < nparams; i++)
		p_coldef(s, seq++, "?");
	if (nparams)
		p_eof(s, seq++, 2);
	for (unsigned i = 0; i < ncols; i++)
		p_coldef(s, seq++, i ? "Name" : "Email");
	if (ncols)
		p_eof(s, seq++, 2);
}

/* COM_STMT_EXECUTE header: statement, flags, iteration count 1 */
static void p_execute(uint32_t id, unsigned flags)
{
	p_start(); p_u8(0x17); p_le32(id); p_u8(flags); p_le32(1);
}

/* The column count and definitions of a binary result; status of its EOF */
static unsigned mysql_binary_header(struct tcp_session *s, unsigned status)
{
	p_start(); p_u8(2); p_send(s, 1, 1, 1400);
	p_coldef(s, 2, "Email");
	p_coldef(s, 3, "Name");
	p_eof(s, 4, status);
	return 5;
}

/* A modern driver: prepared statements with string parameters, an execute
 * with binary rows, a cursor read by two fetches, a parameter sent as long
 * data, a statement closed. */
static void mysql_prepared_session(void)
{
	struct tcp_session s;
	tcp_open(&s, "192.0.2.52", "192.0.2.201", 50003, 3306);
	mysql8_login(&s, MYSQL8_CAPS, "app", "mail");
	mysql_prepare(&s, "INSERT INTO Users (Email, Name) VALUES (?, ?)", 1, 0, 2);
	p_execute(1, 0); p_u8(0); p_u8(1); p_le16(0xfd); p_le16(0xfd); p_str("eve@example.com"); p_str("Eve");
	p_send(&s, 0, 0, 1400);
	p_ok(&s, 1);
	mysql_prepare(&s, "SELECT Email, Name FROM Users WHERE Name LIKE ?", 2, 2, 1);
	p_execute(2, 0); p_u8(0); p_u8(1); p_le16(0xfd); p_str("%a%");
	p_send(&s, 0, 0, 1400);
	unsigned seq = mysql_binary_header(&s, 2);
	p_binrow(&s, seq++, "alice@example.com", "Alice");
	p_binrow(&s, seq++, "carol@example.net", "Carol");
	p_eof(&s, seq, 2);
	/* CURSOR_TYPE_READ_ONLY, the types not sent again */
	p_execute(2, 1); p_u8(0); p_u8(0); p_str("%o%");
	p_send(&s, 0, 0, 1400);
	mysql_binary_header(&s, 0x42);
	p_start(); p_u8(0x1c); p_le32(2); p_le32(2); p_send(&s, 0, 0, 1400);
	p_binrow(&s, 1, "bob@example.org", "Bob");
	p_binrow(&s, 2, "dora@example.com", "Dora");
	p_eof(&s, 3, 0x42);
	p_start(); p_u8(0x1c); p_le32(2); p_le32(2); p_send(&s, 0, 0, 1400);
	p_binrow(&s, 1, "oscar@example.net", "Oscar");
	p_eof(&s, 2, 0x82);
	/* the first parameter in two pieces of long data, then the execute */
	p_start(); p_u8(0x18); p_le32(1); p_le16(0); p_mem("frank@exa", 9); p_send(&s, 0, 0, 1400);
	p_start(); p_u8(0x18); p_le32(1); p_le16(0); p_mem("mple.com", 8); p_send(&s, 0, 0, 1400);
	p_execute(1, 0); p_u8(0); p_u8(1); p_le16(0xfd); p_le16(0xfd); p_str("Frank");
	p_send(&s, 0, 0, 1400);
	p_ok(&s, 1);
	p_start(); p_u8(0x19); p_le32(1); p_send(&s, 0, 0, 1400); /* COM_STMT_CLOSE: no answer */
	p_command(&s, 1, "");
	tcp_close(&s);
}

/* One answer record of a DNS response: its type and data (name: the query's). */
struct dns_rr {
	unsigned type;
	const uint8_t *data;
	size_t n;
};

static size_t put16(uint8_t *m, size_t n, unsigned v)
{
	m[n] = (uint8_t)(v >> 8);
	m[n + 1] = (uint8_t)v;
	return n + 2;
}

/* A DNS message: the question (qtype in two bytes, URI's 256 included), the
 * answers of a response, and with edns an OPT record (DNSSEC OK, a cookie
 * option) as the additional one. Returns its length. */
static size_t dns_message(uint8_t *m, uint16_t id, const char *name, unsigned type, bool edns,
                          const struct dns_rr *ans, size_t nans)
{
	size_t n = 12;
	memset(m, 0, 12);
	put16(m, 0, id);
	m[2] = ans ? 0x81 : 0x01;
	m[3] = ans ? 0x80 : 0x00;
	m[5] = 1;
	m[7] = (uint8_t)nans;
	m[11] = edns;
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		m[n++] = (uint8_t)len;
		memcpy(m + n, p, len);
		n += len;
		p += len + (dot ? 1 : 0);
	}
	m[n++] = 0;
	n = put16(m, put16(m, n, type), 1);
	for (size_t i = 0; ans && i < nans; i++) {
		n = put16(m, n, 0xc00c);
		n = put16(m, put16(m, n, ans[i].type), 1);
		memcpy(m + n, "\x00\x00\x01\x2c", 4);
		n = put16(m, n + 4, (unsigned)ans[i].n);
		memcpy(m + n, ans[i].data, ans[i].n);
		n += ans[i].n;
	}
	if (edns) {
		static const uint8_t opt[] = { 0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 12, 0, 10, 0, 8,
		                               1, 2, 3, 4, 5, 6, 7, 8 };
		memcpy(m + n, opt, sizeof opt);
		n += sizeof opt;
	}
	return n;
}

static void dns_exchange(const char *cli, uint16_t port, uint16_t id, const char *name, unsigned type,
                         bool edns, const struct dns_rr *ans, size_t nans)
{
	uint8_t m[512];
	bs_ip c, s;
	bs_ip_parse(cli, strlen(cli), &c);
	bs_ip_parse("192.0.2.53", 10, &s);
	size_t n = dns_message(m, id, name, type, edns, NULL, 0);
	frame(17, c.a, s.a, port, 53, 0, 0, 0, m, n);
	n = dns_message(m, id, name, type, edns, ans, nans);
	frame(17, s.a, c.a, 53, port, 0, 0, 0, m, n);
}

static void dns_pair(const char *cli, uint16_t port, uint16_t id, const char *name, unsigned type,
                     const uint8_t *addr, size_t alen)
{
	struct dns_rr rr = { type, addr, alen };
	dns_exchange(cli, port, id, name, type, false, &rr, 1);
}

/* DNS over TCP (two-byte length before each message): two queries on one
 * connection, the second one's length prefix in a segment of its own. */
static void dns_tcp_session(void)
{
	struct tcp_session s;
	uint8_t m[514];
	struct dns_rr a = { 1, (const uint8_t *)"\xc6\x33\x64\x07", 4 };
	tcp_open(&s, "192.0.2.52", "192.0.2.53", 40053, 53);
	size_t n = dns_message(m + 2, 0x2a01, "axfr-probe.example.com", 1, false, NULL, 0);
	put16(m, 0, (unsigned)n);
	tcp_send(&s, 0, m, n + 2, 1400);
	n = dns_message(m + 2, 0x2a01, "axfr-probe.example.com", 1, false, &a, 1);
	put16(m, 0, (unsigned)n);
	tcp_send(&s, 1, m, n + 2, 1400);
	n = dns_message(m + 2, 0x2a02, "second.example.com", 28, true, NULL, 0);
	put16(m, 0, (unsigned)n);
	tcp_send(&s, 0, m, 2, 1400);
	tcp_send(&s, 0, m + 2, n, 1400);
	tcp_close(&s);
}

/* What the corpus' DNS captures exercise, crafted: EDNS options, DNSSEC
 * records among the answers, a URI (type 256) query, DNS over TCP. */
static void dns_variety(void)
{
	static const uint8_t rrsig[] = { 0, 1, 8, 3, 0, 0, 1, 0x2c, 0x5f, 0, 0, 0, 0x5e, 0, 0, 0, 0x12, 0x34,
	                                 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	                                 0xde, 0xad, 0xbe, 0xef };
	struct dns_rr signed_a[] = { { 1, (const uint8_t *)"\xc6\x33\x64\x08", 4 }, { 46, rrsig, sizeof rrsig } };
	dns_exchange("192.0.2.50", 33004, 0x1a2e, "signed.example.com", 1, true, signed_a, 2);
	static const uint8_t uri[] = { 0, 10, 0, 1, 'h', 't', 't', 'p', ':', '/', '/', 'x', '/' };
	struct dns_rr uri_rr = { 256, uri, sizeof uri };
	dns_exchange("192.0.2.50", 33005, 0x1a2f, "_http._tcp.example.com", 256, true, &uri_rr, 1);
	dns_tcp_session();
}

/* HTTP that used to end the parse: a method outside the list, a
 * Content-Length with leading zeros, then chunked and plain exchanges. */
static void http_session(void)
{
	struct tcp_session s;
	tcp_open(&s, "192.0.2.60", "198.51.100.80", 40010, 80);
	SEND(&s, 0, "CCM_POST /ccm/api HTTP/1.1\r\nHost: a.example\r\nContent-Length: 0003\r\n\r\nabc");
	SEND(&s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	SEND(&s, 0, "POST /form HTTP/1.1\r\nHost: a.example\r\nContent-Length: 000000000000000000000000000000005\r\n\r\nx=abc");
	SEND(&s, 1, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n");
	SEND(&s, 0, "GET /chunked HTTP/1.1\r\nHost: a.example\r\n\r\n");
	SEND(&s, 1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
	SEND(&s, 0, "HEAD /update.cab HTTP/1.1\r\nHost: a.example\r\n\r\n");
	SEND(&s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 35840\r\n\r\n");
	SEND(&s, 0, "GET /after HTTP/1.1\r\nHost: a.example\r\n\r\n");
	SEND(&s, 1, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	tcp_close(&s);
}

static pcap_t *dead;

/* The capture written: path, of link type dlt; false when it cannot be. */
static bool dump_open(const char *path, int dlt)
{
	dead = pcap_open_dead(dlt, 65535);
	dumper = pcap_dump_open(dead, path);
	if (!dumper)
		fprintf(stderr, "mkproto_pcap: %s\n", pcap_geterr(dead));
	return dumper != NULL;
}

static int dump_close(void)
{
	pcap_dump_close(dumper);
	pcap_close(dead);
	return 0;
}

static int write_capture(const char *path)
{
	if (!dump_open(path, DLT_EN10MB))
		return 1;
	dns_pair("192.0.2.50", 33001, 0x1a2b, "www.example.com", 1, (const uint8_t *)"\x5d\xb8\xd8\x22", 4);
	smtp_sessions();
	dns_pair("192.0.2.50", 33002, 0x1a2c, "mail.example.org", 28,
	         (const uint8_t *)"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x25", 16);
	mysql_session();
	mysql_attributes_session();
	mysql_prepared_session();
	http_session();
	dns_pair("192.0.2.51", 33003, 0x1a2d, "trojan.example.ru", 1, (const uint8_t *)"\xcb\x00\x71\x05", 4);
	dns_variety();
	return dump_close();
}

/* DNS and HTTP over one of the other link layers (NFLOG its own link type). */
static int write_link_capture(const char *kind, const char *path)
{
	static const char *const kinds[] = { "", "nflog", "pppoe", "qinq-pppoe", "mpls", "arcnet", "arcnet-1051" };
	link_kind = LINK_ETHERNET;
	for (int i = 1; i < (int)(sizeof kinds / sizeof *kinds); i++)
		if (strcmp(kind, kinds[i]) == 0)
			link_kind = (enum link_kind)i;
	if (link_kind == LINK_ETHERNET) {
		fprintf(stderr, "mkproto_pcap: unknown link kind %s\n", kind);
		return 2;
	}
	int dlt = link_kind == LINK_NFLOG ? 239 /* LINKTYPE_NFLOG */
	        : link_kind >= LINK_ARCNET ? 129 /* LINKTYPE_ARCNET_LINUX */ : DLT_EN10MB;
	if (!dump_open(path, dlt))
		return 1;
	dns_pair("192.0.2.50", 33001, 0x1a2b, "www.example.com", 1, (const uint8_t *)"\x5d\xb8\xd8\x22", 4);
	http_session();
	dns_pair("192.0.2.51", 33003, 0x1a2d, "trojan.example.ru", 1, (const uint8_t *)"\xcb\x00\x71\x05", 4);
	dns_tcp_session();
	return dump_close();
}

/* ---------------------------------------------------- a link to split */

/* One fragment of an IPv4 UDP datagram cut in two: part 0 the head (More
 * Fragments set), part 1 the rest. */
static void udp_fragment(const char *src, const char *dst, uint16_t sport, uint16_t dport, const uint8_t *data,
                         size_t n, int part)
{
	bs_ip a, b;
	bs_ip_parse(src, strlen(src), &a);
	bs_ip_parse(dst, strlen(dst), &b);
	uint8_t l4[1024];
	size_t total = 8 + n;
	l4[0] = (uint8_t)(sport >> 8); l4[1] = (uint8_t)sport;
	l4[2] = (uint8_t)(dport >> 8); l4[3] = (uint8_t)dport;
	l4[4] = (uint8_t)(total >> 8); l4[5] = (uint8_t)total;
	l4[6] = l4[7] = 0;
	memcpy(l4 + 8, data, n);
	size_t cut = 16; /* a multiple of 8 */
	{
		uint8_t f[1200];
		size_t off = part ? cut : 0, len = part ? total - cut : cut;
		size_t lh = link_header(f, 20 + len);
		uint8_t *ip = f + lh;
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = (uint8_t)((20 + len) >> 8);
		ip[3] = (uint8_t)(20 + len);
		ip[4] = 0x4a; ip[5] = 0x51;
		unsigned fo = (unsigned)(off / 8) | (part ? 0 : 0x2000);
		ip[6] = (uint8_t)(fo >> 8);
		ip[7] = (uint8_t)fo;
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, a.a, 4);
		memcpy(ip + 16, b.a, 4);
		uint16_t ck = ip_checksum(ip, 20);
		ip[10] = (uint8_t)(ck >> 8);
		ip[11] = (uint8_t)ck;
		memcpy(ip + 20, l4 + off, len);
		dump_frame(f, lh + 20 + len);
	}
}

/* One IPv4 UDP datagram sent as two fragments (the second first). */
static void udp_fragmented(const char *src, const char *dst, uint16_t sport, uint16_t dport, const uint8_t *data,
                           size_t n)
{
	udp_fragment(src, dst, sport, dport, data, n, 1);
	udp_fragment(src, dst, sport, dport, data, n, 0);
}

/* An ARP request: a frame with no IP address pair. */
static void arp_frame(void)
{
	uint8_t f[60];
	memset(f, 0, sizeof f);
	memset(f, 0xff, 6);
	f[12] = 0x08; f[13] = 0x06;
	dump_frame(f, sizeof f);
}

#define SPLIT_CLIENTS 24
static int write_split(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/a.pcap", dir);
	if (!dump_open(path, DLT_EN10MB))
		return 1;
	struct tcp_session web[SPLIT_CLIENTS], idle, left, ftp, data;
	for (int i = 0; i < SPLIT_CLIENTS; i++) {
		char cli[32];
		snprintf(cli, sizeof cli, "192.0.2.%d", 100 + i);
		tcp_open(&web[i], cli, "198.51.100.80", (uint16_t)(41000 + i), 80);
	}
	for (int i = 0; i < SPLIT_CLIENTS; i++) {
		char req[256];
		int n = snprintf(req, sizeof req,
		                 "POST /login.php HTTP/1.1\r\nHost: webmail.example.net\r\nContent-Length: %d\r\n\r\n"
		                 "user=u%02d%%40example.net",
		                 (int)strlen("user=u00%40example.net"), i);
		tcp_send(&web[i], 0, req, (size_t)n, 40);
	}
	for (int i = 0; i < SPLIT_CLIENTS; i++)
		SEND(&web[i], 1, "HTTP/1.1 302 Found\r\nLocation: /inbox\r\nContent-Length: 0\r\n\r\n");
	arp_frame();
	/* a DNS answer in two fragments, the second first */
	{
		uint8_t m[512];
		bs_ip c, d;
		bs_ip_parse("192.0.2.61", 10, &c);
		bs_ip_parse("192.0.2.53", 10, &d);
		size_t n = dns_message(m, 0x2f01, "frag.example.org", 1, false, NULL, 0);
		frame(17, c.a, d.a, 33010, 53, 0, 0, 0, m, n);
		struct dns_rr rr = { 1, (const uint8_t *)"\xcb\x00\x71\x09", 4 };
		n = dns_message(m, 0x2f01, "frag.example.org", 1, false, &rr, 1);
		udp_fragmented("192.0.2.53", "192.0.2.61", 53, 33010, m, n);
	}
	/* passive FTP: the data connection goes to the announced port */
	tcp_open(&ftp, "192.0.2.77", "198.51.100.21", 42000, 21);
	SEND(&ftp, 1, "220 ftp ready\r\n");
	SEND(&ftp, 0, "USER dump\r\n");
	SEND(&ftp, 1, "331 password\r\n");
	SEND(&ftp, 0, "PASS secret\r\n");
	SEND(&ftp, 1, "230 in\r\n");
	SEND(&ftp, 0, "PASV\r\n");
	SEND(&ftp, 1, "227 Entering Passive Mode (198,51,100,21,195,80)\r\n");
	SEND(&ftp, 0, "RETR users.sql\r\n");
	tcp_open(&data, "192.0.2.77", "198.51.100.21", 42001, 50000);
	SEND(&ftp, 1, "150 opening\r\n");
	SEND(&data, 1, "INSERT INTO users VALUES ('ftp.victim@example.net');\n");
	tcp_close(&data);
	SEND(&ftp, 1, "226 done\r\n");
	tcp_close(&ftp);
	/* a flow that goes quiet for three hours, then says more: two flows */
	tcp_open(&idle, "192.0.2.90", "198.51.100.80", 43000, 80);
	SEND(&idle, 0, "GET /before HTTP/1.1\r\nHost: webmail.example.net\r\n\r\n");
	for (int i = 0; i < SPLIT_CLIENTS / 2; i++) /* half the sessions go on in the next file */
		tcp_close(&web[i]);
	dump_close();
	snprintf(path, sizeof path, "%s/b.pcap", dir);
	if (!dump_open(path, DLT_EN10MB))
		return 1;
	for (int i = SPLIT_CLIENTS / 2; i < SPLIT_CLIENTS; i++) {
		SEND(&web[i], 0, "GET /inbox HTTP/1.1\r\nHost: webmail.example.net\r\n\r\n");
		SEND(&web[i], 1, "HTTP/1.1 200 OK\r\nContent-Length: 24\r\n\r\nto: later@example.net ok");
		tcp_close(&web[i]);
	}
	clock_us += 3LL * 3600 * 1000000;
	SEND(&idle, 0, "GET /after HTTP/1.1\r\nHost: webmail.example.net\r\n\r\n");
	SEND(&idle, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	/* left open, then three hours later one frame of nothing: the flow
	 * times out at the link's end, though its worker sees no later packet */
	tcp_open(&left, "192.0.2.91", "198.51.100.80", 43001, 80);
	SEND(&left, 0, "GET /left HTTP/1.1\r\nHost: webmail.example.net\r\n\r\n");
	/* datagrams whose times jump back, as in a merged capture: client X
	 * sends, another pair 400 s later (more than UDP's idle time), then X
	 * again 10 s after its first: by the link's clock X went idle in
	 * between (two flows), whichever worker holds the other pair (when a
	 * worker measured by its own packets' times, X stayed one flow there) */
	long long base = clock_us;
	for (int i = 0; i < 16; i++) {
		uint8_t x[4] = { 192, 0, 2, (uint8_t)(150 + i) }, other[4] = { 10, 9, 0, (uint8_t)(1 + i) };
		uint8_t srv[4] = { 198, 51, 100, 9 }, other_srv[4] = { 198, 51, 100, 10 };
		long long t = base + i * 2000LL * 1000000;
		clock_us = t;
		frame(17, x, srv, (uint16_t)(40000 + i), 9999, 0, 0, 0, "jump", 4);
		clock_us = t + 400LL * 1000000;
		frame(17, other, other_srv, (uint16_t)(41000 + i), 9999, 0, 0, 0, "later", 5);
		clock_us = t + 10LL * 1000000;
		frame(17, x, srv, (uint16_t)(40000 + i), 9999, 0, 0, 0, "back", 4);
	}
	/* fragments whose times jump back: the tail of a DNS answer to X, the
	 * head of another pair's datagram 400 s later (more than a fragment's
	 * 60 s), then X's head 10 s after its tail: by the link's clock X's
	 * datagram timed out in between, whichever worker holds the other pair
	 * (when fragments timed out by their own times, X's was rebuilt in a
	 * worker without the other pair) */
	base += 16 * 2000LL * 1000000;
	for (int i = 0; i < 8; i++) {
		char x[32], other[32], name[32];
		snprintf(x, sizeof x, "192.0.2.%d", 180 + i);
		snprintf(other, sizeof other, "10.9.1.%d", 1 + i);
		snprintf(name, sizeof name, "frag%d.example.org", i);
		uint8_t m[512];
		struct dns_rr rr = { 1, (const uint8_t *)"\xcb\x00\x71\x0a", 4 };
		size_t n = dns_message(m, (uint16_t)(0x3000 + i), name, 1, false, &rr, 1);
		long long t = base + i * 2000LL * 1000000;
		clock_us = t;
		udp_fragment("192.0.2.53", x, 53, (uint16_t)(34000 + i), m, n, 1);
		clock_us = t + 400LL * 1000000;
		udp_fragment(other, "198.51.100.10", 53, (uint16_t)(35000 + i), m, n, 0);
		clock_us = t + 10LL * 1000000;
		udp_fragment("192.0.2.53", x, 53, (uint16_t)(34000 + i), m, n, 0);
	}
	clock_us = base + 8 * 2000LL * 1000000 + 3LL * 3600 * 1000000;
	arp_frame();
	return dump_close();
}

/* ------------------------------------------------------------ dumping */

static void print_sink(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	switch (ev->type) {
	case BS_EV_MAIL:
		printf("smtp.from %.*s\n", (int)ev->u.mail.sender.n, ev->u.mail.sender.p ? ev->u.mail.sender.p : "");
		for (size_t i = 0; i < ev->u.mail.nrcpt; i++)
			printf("smtp.to %.*s\n", (int)ev->u.mail.rcpts[i].n, ev->u.mail.rcpts[i].p);
		break;
	case BS_EV_DBQUERY: {
		const struct bs_ev_dbquery *q = &ev->u.dbquery;
		printf("mysql.command %u\n", (unsigned)q->command);
		if (q->command == 3 || q->command == 22) /* tshark's Statement: the text of these only */
			printf("mysql.query %.*s\n", (int)q->sql.n, q->sql.p);
		else
			printf("mysql.stmt_id %u %" PRIu32 "\n", (unsigned)q->command, q->stmt_id);
		printf("mysql.context %u %.*s %.*s\n", (unsigned)q->command, (int)q->db_user.n,
		       q->db_user.p ? q->db_user.p : "", (int)q->db_name.n, q->db_name.p ? q->db_name.p : "");
		break;
	}
	case BS_EV_DBRESULT:
		printf("mysql.rows %" PRIu64 "\n", ev->u.dbresult.rows);
		break;
	case BS_EV_AUTH:
		if (ev->u.auth.proto == BS_AUTH_MYSQL)
			printf("mysql.user %.*s\n", (int)ev->u.auth.user.n, ev->u.auth.user.p ? ev->u.auth.user.p : "");
		break;
	case BS_EV_HTTP:
		if (ev->u.http.phase == BS_HTTP_REQUEST)
			printf("http.request %.*s %.*s\n", (int)ev->u.http.method.n, ev->u.http.method.p,
			       (int)ev->u.http.uri.n, ev->u.http.uri.p ? ev->u.http.uri.p : "");
		else if (ev->u.http.phase == BS_HTTP_COMPLETE && ev->u.http.status)
			printf("http.response.code %d\n", ev->u.http.status);
		break;
	case BS_EV_DNS:
		printf("dns.qry.name %.*s\n", (int)ev->u.dns.qname.n, ev->u.dns.qname.p ? ev->u.dns.qname.p : "");
		break;
	default:
		break;
	}
}

static int dump_capture(const char *path)
{
	char err[512];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (!r) {
		fprintf(stderr, "mkproto_pcap: %s\n", err);
		return 1;
	}
	uint8_t head[64];
	enum bs_format fmt = bs_detect_format(head, bs_reader_peek(r, head, sizeof head));
	struct bs_sink sink = { print_sink, NULL };
	struct bs_dispatch *d = bs_dispatch_new(0, &sink);
	struct bs_capture_opts o = { .name = path };
	struct bs_capture *c = bs_capture_new(&o, bs_dispatch_ops(), d, &sink);
	struct bs_input_stats st = { 0 };
	bs_capture_read(c, r, fmt, &st, err, sizeof err);
	bs_capture_finish(c, BS_TIME_NONE);
	bs_capture_free(c);
	bs_dispatch_free(d);
	bs_reader_close(r);
	return 0;
}

/* Encrypted and plain flows (hostile.sh, "encrypted"): two HTTPS
 * sessions (a TLS ClientHello and ServerHello, then application data), an
 * SSH session (banners), SMTP turned to TLS by STARTTLS, a MySQL client's
 * SSL request, an SMTP session whose STARTTLS is refused, and one plain
 * HTTP request: 5 of 7 flows are unreadable. */
static int write_encrypted(const char *path)
{
	if (!dump_open(path, DLT_EN10MB))
		return 1;
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00 };
	static const uint8_t server_hello[] = { 0x16, 0x03, 0x03, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00 };
	static const uint8_t data[] = { 0x17, 0x03, 0x03, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef };
	struct tcp_session s;
	for (int i = 0; i < 2; i++) {
		tcp_open(&s, "192.0.2.120", "198.51.100.80", (uint16_t)(44000 + i), 443);
		tcp_send(&s, 0, hello, sizeof hello, 1400);
		tcp_send(&s, 1, server_hello, sizeof server_hello, 1400);
		tcp_send(&s, 0, data, sizeof data, 1400);
		tcp_close(&s);
	}
	tcp_open(&s, "192.0.2.121", "198.51.100.80", 44100, 22);
	SEND(&s, 1, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
	SEND(&s, 0, "SSH-2.0-OpenSSH_9.2\r\n");
	tcp_close(&s);
	tcp_open(&s, "192.0.2.123", "198.51.100.25", 44300, 25);
	SEND(&s, 1, "220 mx.example.net ESMTP Postfix\r\n");
	SEND(&s, 0, "EHLO client.example\r\n");
	SEND(&s, 1, "250-mx.example.net\r\n250 STARTTLS\r\n");
	SEND(&s, 0, "STARTTLS\r\n");
	SEND(&s, 1, "220 2.0.0 Ready to start TLS\r\n");
	tcp_send(&s, 0, hello, sizeof hello, 1400);
	tcp_close(&s);
	tcp_open(&s, "192.0.2.124", "198.51.100.25", 44301, 25);
	SEND(&s, 1, "220 mx.example.net ESMTP Postfix\r\n");
	SEND(&s, 0, "EHLO client.example\r\n");
	SEND(&s, 1, "250 mx.example.net\r\n");
	SEND(&s, 0, "STARTTLS\r\n");
	SEND(&s, 1, "454 4.7.0 TLS not available\r\n");
	SEND(&s, 0, "QUIT\r\n");
	tcp_close(&s);
	tcp_open(&s, "10.0.1.13", "10.0.2.10", 44400, 3306);
	p_start(); /* the greeting, then a 32-byte SSL request (CLIENT_SSL): TLS follows */
	p_u8(10); p_zstr("8.0.36"); p_le32(42); p_mem("abcdefgh\0", 9);
	p_le16(0xffff); p_u8(255); p_le16(2); p_le16(0x080f); p_u8(21);
	p_mem("\0\0\0\0\0\0\0\0\0\0", 10); p_mem("ijklmnopqrst\0", 13); p_zstr("caching_sha2_password");
	p_send(&s, 1, 0, 1400);
	p_start();
	p_le32(MYSQL8_CAPS | 0x800u); p_le32(1 << 24); p_u8(255);
	for (int i = 0; i < 23; i++) p_u8(0);
	p_send(&s, 0, 1, 1400);
	tcp_send(&s, 0, hello, sizeof hello, 1400);
	tcp_close(&s);
	tcp_open(&s, "192.0.2.122", "198.51.100.80", 44200, 80);
	SEND(&s, 0, "GET / HTTP/1.1\r\nHost: webmail.example.net\r\n\r\n");
	SEND(&s, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tcp_close(&s);
	return dump_close();
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "write") == 0)
		return write_capture(argv[2]);
	if (argc == 4 && strcmp(argv[1], "write-link") == 0)
		return write_link_capture(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "write-split") == 0)
		return write_split(argv[2]);
	if (argc == 3 && strcmp(argv[1], "write-encrypted") == 0)
		return write_encrypted(argv[2]);
	if (argc == 3 && strcmp(argv[1], "dump") == 0)
		return dump_capture(argv[2]);
	fprintf(stderr, "usage: mkproto_pcap write OUT.pcap | write-link KIND OUT.pcap | write-split DIR |"
	        " write-encrypted OUT.pcap | dump FILE\n");
	return 2;
}

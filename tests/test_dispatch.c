/* test_dispatch.c - the protocol dispatcher driven through bs_stream_ops as
 * the capture engine drives it: port choice, sniffing, swapped flows,
 * unknown payload scanning across segments, FTP data expectations, UDP. */
#include "config.h"
#include "parsers/stream/proto.h"
#include "parsers/stream/http.h"
#include "tap.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_EV 64
static struct bs_event events[MAX_EV];
static char strs[MAX_EV][3][256]; /* copies of a few strings per event */
static size_t nev;

static void keep(char *dst, bs_str s)
{
	size_t n = s.n < 255 ? s.n : 255;
	if (n)
		memcpy(dst, s.p, n);
	dst[n] = 0;
}

static void record(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	if (nev == MAX_EV)
		return;
	events[nev] = *ev;
	if (ev->type == BS_EV_HTTP) {
		keep(strs[nev][0], ev->u.http.uri);
		keep(strs[nev][1], ev->u.http.method);
	} else if (ev->type == BS_EV_ADDR) {
		keep(strs[nev][0], ev->u.addr.address);
	} else if (ev->type == BS_EV_MAIL) {
		keep(strs[nev][0], ev->u.mail.sender);
		keep(strs[nev][1], ev->u.mail.nrcpt ? ev->u.mail.rcpts[0] : BS_STR_NULL);
	} else if (ev->type == BS_EV_FILEXFER) {
		keep(strs[nev][0], ev->u.xfer.filename);
		keep(strs[nev][1], ev->u.xfer.user);
		keep(strs[nev][2], ev->u.xfer.proto);
	}
	nev++;
}

static struct bs_sink sink = { record, NULL };
static const struct bs_stream_ops *ops;
static struct bs_dispatch *disp;

static void flow_init(struct bs_cflow *f, const char *cli, uint16_t cport, const char *srv, uint16_t sport,
                      bool syn, uint64_t id)
{
	memset(f, 0, sizeof *f);
	bs_ip_parse(cli, strlen(cli), &f->key.cli);
	bs_ip_parse(srv, strlen(srv), &f->key.srv);
	f->key.cport = cport;
	f->key.sport = sport;
	f->key.proto = 6;
	f->id = id;
	f->handshake_seen = syn;
	f->first = 1000 * BS_USEC;
	ops->open(disp, f);
}

static uint64_t pkt;
static void send_str(struct bs_cflow *f, int dir, const char *s)
{
	pkt++;
	ops->data(disp, f, dir, (const uint8_t *)s, strlen(s), 1000 * BS_USEC + (bs_time)pkt, pkt);
}

static void send_bytes(struct bs_cflow *f, int dir, const void *p, size_t n)
{
	pkt++;
	ops->data(disp, f, dir, p, n, 1000 * BS_USEC + (bs_time)pkt, pkt);
}

static void reset(void)
{
	if (disp)
		bs_dispatch_free(disp);
	disp = bs_dispatch_new(3, &sink);
	nev = 0;
	pkt = 0;
}

static size_t count_type(enum bs_event_type t)
{
	size_t k = 0;
	for (size_t i = 0; i < nev; i++)
		if (events[i].type == t)
			k++;
	return k;
}

static void test_port_choice(void)
{
	reset();
	struct bs_cflow f;
	flow_init(&f, "192.0.2.10", 40000, "198.51.100.5", 80, true, 1);
	is_str(f.app, "http", "port 80 is http before any byte");
	send_str(&f, 0, "GET /index.php HTTP/1.1\r\nHost: webmail.example.com\r\n\r\n");
	send_str(&f, 1, "HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\nmail me: ann@example.org\r\n");
	ops->close(disp, &f, BS_FLOW_FIN, 1001 * BS_USEC);
	is_int(count_type(BS_EV_HTTP), 2, "request and completion");
	ok(nev > 0 && events[0].type == BS_EV_HTTP && strcmp(strs[0][0], "/index.php") == 0, "request URI");
	ok(nev > 0 && events[0].origin.input == 3 && events[0].origin.from_capture && events[0].origin.ref == 1,
	   "origin: input index and packet number");
	ok(nev > 0 && events[0].sport == 40000 && events[0].dport == 80, "event ports: client then server");
	ok(nev > 1 && events[1].type == BS_EV_ADDR && strcmp(strs[1][0], "ann@example.org") == 0 &&
	   events[1].u.addr.ctx == BS_ADDR_HTTP_RESP_BODY, "response body address");
	is_int(bs_dispatch_counters(disp)->by_port, 1, "chosen by port");
	ok(f.user == NULL, "per-flow state freed at close");

	struct bs_cflow s;
	flow_init(&s, "192.0.2.10", 40001, "198.51.100.25", 25, true, 2);
	is_str(s.app, "smtp", "port 25 is smtp");
	ops->close(disp, &s, BS_FLOW_FIN, 1001 * BS_USEC);
	struct bs_cflow m;
	flow_init(&m, "192.0.2.10", 40002, "198.51.100.33", 3306, true, 3);
	is_str(m.app, "mysql", "port 3306 is mysql");
	ops->close(disp, &m, BS_FLOW_FIN, 1001 * BS_USEC);
}

static void test_sniffing(void)
{
	reset();
	struct bs_cflow f;
	flow_init(&f, "192.0.2.10", 40000, "198.51.100.5", 8888, true, 10);
	ok(f.app == NULL, "odd port: undecided at open");
	send_str(&f, 0, "GE");
	ok(f.app == NULL, "two bytes are not enough");
	send_str(&f, 0, "T /shell.php?c=id HTTP/1.1\r\nHost: x\r\n\r\n");
	is_str(f.app, "http", "sniffed http on port 8888");
	send_str(&f, 1, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nuid=");
	ops->close(disp, &f, BS_FLOW_FIN, 1002 * BS_USEC);
	ok(nev >= 1 && events[0].type == BS_EV_HTTP && strcmp(strs[0][0], "/shell.php?c=id") == 0 &&
	   strcmp(strs[0][1], "GET") == 0, "bytes held while sniffing were replayed");
	is_int(count_type(BS_EV_HTTP), 2, "whole exchange parsed");

	static const struct { const char *banner; const char *app; } cases[] = {
		{ "220 mail.example.com ESMTP Postfix\r\n", "smtp" },
		{ "220 ProFTPD 1.3.0 Server (ProFTPD) [192.0.2.1]\r\n", "ftp" },
		{ "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", "imap" },
		{ "+OK Dovecot ready.\r\n", "pop3" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct bs_cflow g;
		flow_init(&g, "192.0.2.10", (uint16_t)(41000 + i), "198.51.100.7", 2525, true, 20 + i);
		send_str(&g, 1, cases[i].banner);
		is_str(g.app ? g.app : "(none)", cases[i].app, "sniffed banner %zu", i);
		ops->close(disp, &g, BS_FLOW_FIN, 1003 * BS_USEC);
	}
	static const uint8_t mysql_greeting[] = { 0x4a, 0, 0, 0, 0x0a, '5', '.', '0', '.', '4', '5', 0, 1, 2, 3, 4 };
	struct bs_cflow my;
	flow_init(&my, "192.0.2.10", 42000, "198.51.100.33", 3307, true, 30);
	send_bytes(&my, 1, mysql_greeting, sizeof mysql_greeting);
	is_str(my.app ? my.app : "(none)", "mysql", "mysql handshake sniffed on 3307");
	ops->close(disp, &my, BS_FLOW_FIN, 1003 * BS_USEC);
	struct bs_cflow t;
	flow_init(&t, "192.0.2.10", 42001, "198.51.100.5", 8443, true, 31);
	send_bytes(&t, 0, "\x16\x03\x01\x00\xa5\x01\x00", 7);
	is_str(t.app ? t.app : "(none)", "tls", "TLS is opaque");
	ops->close(disp, &t, BS_FLOW_FIN, 1003 * BS_USEC);
	ok(bs_dispatch_counters(disp)->by_sniff >= 6, "sniff decisions counted");
}

static void test_swapped(void)
{
	reset();
	/* no SYN seen and the first packet came from the server: the engine's
	 * "client" is the web server */
	struct bs_cflow f;
	flow_init(&f, "198.51.100.5", 80, "192.0.2.10", 40000, false, 40);
	is_str(f.app, "http", "swapped flow still http by port");
	send_str(&f, 1, "GET /late HTTP/1.1\r\n\r\n");
	send_str(&f, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ops->close(disp, &f, BS_FLOW_EOF, 1004 * BS_USEC);
	char ip[BS_IP_STRLEN] = "";
	if (nev)
		bs_ip_format(&events[0].src, ip, sizeof ip);
	ok(nev >= 1 && strcmp(ip, "192.0.2.10") == 0 && events[0].dport == 80, "event src is the real client");
	ok(nev >= 2 && events[1].u.http.status == 200, "directions flipped for the parser");
	is_int(bs_dispatch_counters(disp)->swapped, 1, "swap counted");
}

static void test_unknown_payload(void)
{
	reset();
	struct bs_cflow f;
	flow_init(&f, "192.0.2.66", 50000, "203.0.113.9", 4444, true, 50);
	send_str(&f, 0, "\x01\x02 dump: first@example.org, second.person@exa");
	is_str(f.app ? f.app : "(none)", "(none)", "unknown protocol leaves app empty");
	send_str(&f, 0, "mple.net; third@");
	send_str(&f, 0, "example.com\n");
	send_str(&f, 1, "ack for zed@example.org");
	ops->close(disp, &f, BS_FLOW_FIN, 1005 * BS_USEC);
	is_int(count_type(BS_EV_ADDR), 4, "four addresses in the unknown stream");
	ok(nev == 4 && strcmp(strs[0][0], "first@example.org") == 0, "first");
	ok(nev == 4 && strcmp(strs[1][0], "second.person@example.net") == 0, "split across segments");
	ok(nev == 4 && strcmp(strs[2][0], "third@example.com") == 0, "split right after the @");
	ok(nev == 4 && events[3].u.addr.to_client && events[3].u.addr.ctx == BS_ADDR_PAYLOAD, "server side flagged");
	ok(nev == 4 && !events[0].u.addr.to_client && events[0].u.addr.ref == 0, "client side, no ref");

	/* a gap: what is on both sides of the hole is not glued together */
	reset();
	flow_init(&f, "192.0.2.66", 50001, "203.0.113.9", 4444, true, 51);
	send_str(&f, 0, "\x01 lost: bob@exam");
	ops->gap(disp, &f, 0, 100, 1006 * BS_USEC, 99);
	send_str(&f, 0, "ple.org rest");
	ops->close(disp, &f, BS_FLOW_FIN, 1006 * BS_USEC);
	is_int(count_type(BS_EV_ADDR), 0, "no address made across a gap");
}

static void test_ftp_data(void)
{
	reset();
	bs_ip srv;
	bs_ip_parse("198.51.100.21", 13, &srv);
	bs_dispatch_expect(disp, &srv, 50123, 1, "addressbook.csv", false, "webadmin", 1000 * BS_USEC);
	bs_dispatch_expect(disp, &srv, 50124, 2, "stolen.txt", true, "webadmin", 1000 * BS_USEC);
	struct bs_cflow f;
	flow_init(&f, "192.0.2.10", 40100, "198.51.100.21", 50123, true, 60);
	is_str(f.app ? f.app : "(none)", "ftp-data", "expected data connection");
	send_str(&f, 1, "name,email\nann,ann@example.org\nbob,bob@exam");
	send_str(&f, 1, "ple.org\n");
	ops->close(disp, &f, BS_FLOW_FIN, 1010 * BS_USEC);
	is_int(count_type(BS_EV_ADDR), 2, "addresses in the transferred file");
	size_t x = nev;
	for (size_t i = 0; i < nev; i++)
		if (events[i].type == BS_EV_FILEXFER)
			x = i;
	ok(x < nev, "file transfer emitted at close");
	ok(x < nev && strcmp(strs[x][0], "addressbook.csv") == 0 && strcmp(strs[x][1], "webadmin") == 0 &&
	   strcmp(strs[x][2], "ftp") == 0, "file name, user and proto");
	ok(x < nev && events[x].u.xfer.size == 51 && !events[x].u.xfer.upload, "size and direction");

	/* the expectation is used once */
	struct bs_cflow again;
	flow_init(&again, "192.0.2.10", 40101, "198.51.100.21", 50123, true, 61);
	ok(again.app == NULL, "an expectation is used once");
	ops->close(disp, &again, BS_FLOW_FIN, 1011 * BS_USEC);

	/* expired after five minutes of capture time */
	struct bs_cflow late;
	memset(&late, 0, sizeof late);
	late.key.cli = f.key.cli;
	late.key.srv = srv;
	late.key.cport = 40102;
	late.key.sport = 50124;
	late.key.proto = 6;
	late.handshake_seen = true;
	late.id = 62;
	late.first = 1000 * BS_USEC + BS_DISPATCH_EXPECT_TTL + BS_USEC;
	ops->open(disp, &late);
	ok(late.app == NULL, "expectation expired after 5 minutes");
	ops->close(disp, &late, BS_FLOW_FIN, late.first);

	/* the table is bounded */
	for (uint16_t p = 0; p < BS_DISPATCH_MAX_EXPECT + 10; p++)
		bs_dispatch_expect(disp, &srv, (uint16_t)(20000 + p), p, "f", false, "u", 2000 * BS_USEC + p);
	ok(bs_dispatch_counters(disp)->expect_dropped >= 10, "expectations beyond the cap replace the oldest");
}

/* A gzip file sent over an FTP data connection (mysqldump | gzip, STOR)
 * and over a raw connection: the addresses inside are found, the file
 * counted; a plain payload stays scanned as it is. */
static void test_gzip_payload(void)
{
	static const char sql[] = "INSERT INTO Users VALUES ('gz.one@example.net'),('gz.two@example.net');\n";
	uint8_t gz[512];
	z_stream z;
	memset(&z, 0, sizeof z);
	deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (Bytef *)(uintptr_t)sql;
	z.avail_in = sizeof sql - 1;
	z.next_out = gz;
	z.avail_out = sizeof gz;
	deflate(&z, Z_FINISH);
	size_t gn = z.total_out;
	deflateEnd(&z);
	for (int ftp = 0; ftp < 2; ftp++) {
		reset();
		bs_ip srv;
		bs_ip_parse("203.0.113.66", 12, &srv);
		if (ftp)
			bs_dispatch_expect(disp, &srv, 50200, 3, "users.sql.gz", true, "dump", 1000 * BS_USEC);
		struct bs_cflow f;
		flow_init(&f, "10.0.1.13", 40200, "203.0.113.66", ftp ? 50200 : 4445, true, 70);
		uint64_t before = bs_dispatch_counters(disp)->gzip_files;
		for (size_t i = 0; i < gn; i += 7) /* in pieces that cut the header and the stream */
			send_bytes(&f, 0, gz + i, gn - i < 7 ? gn - i : 7);
		ops->close(disp, &f, BS_FLOW_FIN, 1010 * BS_USEC);
		size_t found = 0;
		for (size_t i = 0; i < nev; i++)
			if (events[i].type == BS_EV_ADDR && (strcmp(strs[i][0], "gz.one@example.net") == 0 ||
			                                     strcmp(strs[i][0], "gz.two@example.net") == 0))
				found++;
		is_int(found, 2, "%s: both addresses inside the gzip file", ftp ? "FTP data" : "a raw connection");
		is_int(bs_dispatch_counters(disp)->gzip_files - before, 1, "%s: one gzip file counted",
		       ftp ? "FTP data" : "a raw connection");
	}
}

/* A RETR whose data connection is not in the capture is still a transfer,
 * reported with its size unknown on the control connection; a refused one
 * is not (issue 18). */
static void test_ftp_data_missing(void)
{
	reset();
	struct bs_cflow f;
	flow_init(&f, "192.0.2.10", 40200, "198.51.100.21", 21, true, 70);
	send_str(&f, 1, "220 FTP server ready\r\n");
	send_str(&f, 0, "USER webadmin\r\n");
	send_str(&f, 1, "331 Password required\r\n");
	send_str(&f, 0, "PASS x\r\n");
	send_str(&f, 1, "230 Logged in\r\n");
	send_str(&f, 0, "PASV\r\n");
	send_str(&f, 1, "227 Entering Passive Mode (198,51,100,21,195,80)\r\n");
	send_str(&f, 0, "RETR secret.tar.gz\r\n");
	send_str(&f, 1, "150 Opening\r\n226 Done\r\n");
	send_str(&f, 0, "PASV\r\n");
	send_str(&f, 1, "227 Entering Passive Mode (198,51,100,21,195,81)\r\n");
	send_str(&f, 0, "RETR nothere.txt\r\n");
	send_str(&f, 1, "550 No such file\r\n");
	ops->close(disp, &f, BS_FLOW_FIN, 1100 * BS_USEC);
	is_int(count_type(BS_EV_FILEXFER), 0, "nothing while the data connection may still come");
	bs_dispatch_free(disp);
	disp = NULL;
	is_int(count_type(BS_EV_FILEXFER), 1, "at the end: one transfer, the refused one not");
	size_t x = nev;
	for (size_t i = 0; i < nev; i++)
		if (events[i].type == BS_EV_FILEXFER)
			x = i;
	ok(x < nev && strcmp(strs[x][0], "secret.tar.gz") == 0 && strcmp(strs[x][1], "webadmin") == 0 &&
	   events[x].u.xfer.size_unknown && events[x].u.xfer.size == 0 && !events[x].u.xfer.upload,
	   "file name, user, size unknown");
	ok(x < nev && events[x].dport == 21 && events[x].origin.ref == 8, "on the control connection, at the RETR");
	reset();
}

static void test_udp_dns(void)
{
	reset();
	static const uint8_t query[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1 };
	struct bs_flow_key k;
	memset(&k, 0, sizeof k);
	bs_ip_parse("192.0.2.10", 10, &k.cli);
	bs_ip_parse("192.0.2.53", 10, &k.srv);
	k.cport = 33333;
	k.sport = 53;
	k.proto = 17;
	ops->udp(disp, &k, 0, query, sizeof query, 1000 * BS_USEC, 1);
	k.sport = 5353;
	ops->udp(disp, &k, 0, query, sizeof query, 1000 * BS_USEC, 2);
	k.sport = 123;
	ops->udp(disp, &k, 0, query, sizeof query, 1000 * BS_USEC, 3);
	ops->udp(disp, &k, 0, (const uint8_t *)"\xff", 1, 1000 * BS_USEC, 4);
	is_int(bs_dispatch_counters(disp)->udp_datagrams, 2, "DNS datagrams on 53 and 5353 fed");
	is_int(bs_dispatch_counters(disp)->udp_ignored, 2, "other UDP ignored");
}

/* A query never answered, given up after the next file was opened, is
 * reported with the file and packet of the query itself. */
static void test_udp_dns_unanswered_origin(void)
{
	reset();
	static const uint8_t query[] = { 0x56, 0x78, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		4, 'w', 'p', 'a', 'd', 0, 0, 1, 0, 1 };
	struct bs_flow_key k;
	memset(&k, 0, sizeof k);
	bs_ip_parse("192.0.2.10", 10, &k.cli);
	bs_ip_parse("192.0.2.53", 10, &k.srv);
	k.cport = 33334;
	k.sport = 53;
	k.proto = 17;
	ops->udp(disp, &k, 0, query, sizeof query, 1000 * BS_USEC, 11);
	bs_dispatch_set_input(disp, 4);
	k.cport = 33335; /* the next file's DNS traffic: another querier */
	ops->udp(disp, &k, 0, query, sizeof query, 1001 * BS_USEC, 1);
	bs_dispatch_free(disp); /* the end of the link: pending queries reported */
	disp = NULL;
	size_t x = nev;
	for (size_t i = 0; i < nev; i++)
		if (events[i].type == BS_EV_DNS && events[i].sport == 33334)
			x = i;
	ok(x < nev && events[x].u.dns.rcode == -1, "the unanswered query is reported");
	ok(x < nev && events[x].origin.input == 3 && events[x].origin.ref == 11,
	   "with the file and packet of the query, not the file open at the end");
	reset();
}

static void test_helpers(void)
{
	reset();
	struct bs_proto_ctx c;
	memset(&c, 0, sizeof c);
	c.sink = &sink;
	c.input = 5;
	c.pktno = 77;
	c.ts = 123;
	bs_proto_emit_addrs(&c, BS_ADDR_DB_RESULT, 9, true, BS_STR_LIT("email"), "x A@B.example.org, c@d.example.net", 34);
	is_int(nev, 2, "emit_addrs: one event per address");
	ok(nev == 2 && strcmp(strs[0][0], "a@b.example.org") == 0 && events[0].u.addr.ref == 9 &&
	   events[0].u.addr.ctx == BS_ADDR_DB_RESULT && events[0].origin.ref == 77 && events[0].ts == 123 &&
	   events[0].u.addr.column.n == 5, "emit_addrs: fields from ctx and arguments");
	struct bs_event ev;
	bs_proto_event(&c, &ev, BS_EV_DNS);
	ok(ev.type == BS_EV_DNS && ev.origin.input == 5 && ev.origin.from_capture, "bs_proto_event fills the origin");
	is_str(bs_dispatch_proto_name(0), "http", "proto name 0");
	is_str(bs_dispatch_proto_name(BS_DISPATCH_NPROTO - 1), "dns-udp", "proto name of the datagram module");
	FILE *devnull = fopen("/dev/null", "w");
	if (devnull) {
		bs_dispatch_print(disp, devnull);
		fclose(devnull);
	}
	ok(bs_dispatch_ops()->open && bs_dispatch_ops()->udp, "ops are complete");
}

/* bs_event_init zeroes only an event's header and its type's member: an
 * event so made over garbage reads (bs_event_format, every field of its
 * type) as one zeroed whole, for every type and for an unknown one. */
static void test_event_init(void)
{
	static struct bs_event dirty, clean;
	char a[4096], b[4096];
	bool same = true;
	for (int t = 0; t <= BS_EV_TYPE_MAX; t++) {
		memset(&dirty, 0xa5, sizeof dirty);
		bs_event_init(&dirty, (enum bs_event_type)t);
		memset(&clean, 0, sizeof clean);
		clean.type = (enum bs_event_type)t;
		clean.ts = BS_TIME_NONE;
		bs_event_format(&dirty, a, sizeof a);
		bs_event_format(&clean, b, sizeof b);
		if (strcmp(a, b) != 0 || memcmp(&dirty, &clean, offsetof(struct bs_event, u)) != 0) {
			fprintf(stderr, "# type %d: %s | %s\n", t, a, b);
			same = false;
		}
	}
	ok(same, "bs_event_init: every type formats as an event zeroed whole");
}

/* ------------------------------------------------------------------ real capture
 * plaso's test.pcap (Ethernet, HTTP among DNS and TLS) through the capture
 * engine and the dispatcher; compared with tshark when it is installed. */

#define MAX_TXN 64
static struct { uint64_t pktno; char method[16]; char uri[512]; } corpus_req[MAX_TXN];
static int corpus_status[MAX_TXN];
static size_t n_req, n_done;

static void corpus_record(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	if (ev->type != BS_EV_HTTP)
		return;
	if (ev->u.http.phase == BS_HTTP_REQUEST && n_req < MAX_TXN) {
		corpus_req[n_req].pktno = ev->origin.ref;
		keep(corpus_req[n_req].method, ev->u.http.method);
		size_t n = ev->u.http.uri.n < 511 ? ev->u.http.uri.n : 511;
		memcpy(corpus_req[n_req].uri, ev->u.http.uri.p, n);
		corpus_req[n_req].uri[n] = 0;
		n_req++;
	} else if (ev->u.http.phase == BS_HTTP_COMPLETE && n_done < MAX_TXN) {
		corpus_status[n_done++] = ev->u.http.status;
	}
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* The corpus' plaso-test.pcap (make check-corpus; the suite's own HTTP
 * agreement with tshark is proto_tshark.sh on mkproto_pcap's capture). */
static void test_corpus_http(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/pcap/plaso-test.pcap", dir);
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, errbuf);
	if (!ok(pc != NULL, "open %s", path))
		return;
	struct bs_sink csink = { corpus_record, NULL };
	struct bs_dispatch *d = bs_dispatch_new(0, &csink);
	struct bs_capture_opts o;
	memset(&o, 0, sizeof o);
	struct bs_capture *cap = bs_capture_new(&o, bs_dispatch_ops(), d, &csink);
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t pktno = 0;
	bs_time last = 0;
	while (pcap_next_ex(pc, &h, &data) == 1) {
		last = (bs_time)h->ts.tv_sec * BS_USEC + h->ts.tv_usec;
		bs_capture_packet(cap, pcap_datalink(pc), data, h->caplen, h->len, last, ++pktno);
	}
	pcap_close(pc);
	bs_capture_finish(cap, last);
	bs_capture_free(cap);
	is_int(n_req, 13, "plaso pcap: 13 HTTP requests");
	is_int(n_done, 13, "plaso pcap: 13 completions");
	ok(n_req > 0 && corpus_req[0].pktno == 473 && strcmp(corpus_req[0].uri, "/") == 0, "first request GET / at packet 473");
	size_t heads = 0, ok200 = 0;
	for (size_t i = 0; i < n_req; i++)
		heads += strcmp(corpus_req[i].method, "HEAD") == 0;
	for (size_t i = 0; i < n_done; i++)
		ok200 += corpus_status[i] == 200;
	is_int(heads, 4, "four HEAD requests (Windows Update)");
	is_int(ok200, 13, "every response 200");
	is_int(bs_dispatch_counters(d)->proto_errors[0], 0, "no HTTP flow abandoned");
	bs_dispatch_free(d);

	/* agreement with tshark: same requests, same order; same status codes */
	if (!ok(system("tshark -v >/dev/null 2>&1") == 0, "tshark installed"))
		return;
	char cmd[4400];
	snprintf(cmd, sizeof cmd, "tshark -r '%s' -Y http.request -T fields -e frame.number "
	         "-e http.request.method -e http.request.uri 2>/dev/null", path);
	FILE *t = popen(cmd, "r");
	size_t i = 0, same = 0;
	char line[1024];
	while (t && fgets(line, sizeof line, t)) {
		unsigned long long fn;
		char m[16], u[600];
		if (sscanf(line, "%llu\t%15s\t%599[^\n]", &fn, m, u) == 3 && i < n_req &&
		    fn == corpus_req[i].pktno && strcmp(m, corpus_req[i].method) == 0 && strcmp(u, corpus_req[i].uri) == 0)
			same++;
		i++;
	}
	if (t)
		pclose(t);
	ok(i == n_req && same == n_req, "tshark agreement: %zu of %zu requests (packet, method, URI)", same, i);
	snprintf(cmd, sizeof cmd, "tshark -r '%s' -Y http.response -T fields -e http.response.code 2>/dev/null", path);
	t = popen(cmd, "r");
	int codes[MAX_TXN];
	size_t nc = 0;
	while (t && fgets(line, sizeof line, t) && nc < MAX_TXN)
		codes[nc++] = atoi(line);
	if (t)
		pclose(t);
	qsort(codes, nc, sizeof codes[0], cmp_int);
	qsort(corpus_status, n_done, sizeof corpus_status[0], cmp_int);
	ok(nc == n_done && memcmp(codes, corpus_status, nc * sizeof codes[0]) == 0,
	   "tshark agreement: status codes (%zu vs %zu)", nc, n_done);
}

/* SMTP through an HTTP proxy: after the 2xx to CONNECT the tunnel's bytes
 * are sniffed like a new flow's, so the mail inside is reported. The
 * banner comes in the segment of the 200. */
static void test_connect_tunnel(void)
{
	reset();
	struct bs_cflow f;
	flow_init(&f, "192.0.2.10", 40000, "198.51.100.5", 3128, true, 30);
	send_str(&f, 0, "CONNECT mx.example.net:25 HTTP/1.1\r\nHost: mx.example.net:25\r\n\r\n");
	send_str(&f, 1, "HTTP/1.1 200 Connection established\r\n\r\n220 mx.example.net ESMTP\r\n");
	send_str(&f, 0, "HELO spammer\r\n");
	send_str(&f, 1, "250 hello\r\n");
	send_str(&f, 0, "MAIL FROM:<x@spam.example>\r\n");
	send_str(&f, 1, "250 ok\r\n");
	send_str(&f, 0, "RCPT TO:<victim@example.net>\r\n");
	send_str(&f, 1, "250 ok\r\n");
	send_str(&f, 0, "DATA\r\n");
	send_str(&f, 1, "354 go\r\n");
	send_str(&f, 0, "Subject: hi\r\n\r\nbuy\r\n.\r\n");
	send_str(&f, 1, "250 ok queued as ABC123\r\n");
	is_str(f.app, "smtp", "the tunnel is sniffed: smtp");
	ops->close(disp, &f, BS_FLOW_FIN, 1002 * BS_USEC);
	is_int(count_type(BS_EV_HTTP), 2, "the CONNECT is reported");
	is_int(count_type(BS_EV_MAIL), 1, "the mail inside the tunnel is reported");
	bool found = false;
	for (size_t i = 0; i < nev; i++)
		if (events[i].type == BS_EV_MAIL && strcmp(strs[i][1], "victim@example.net") == 0 &&
		    events[i].dport == 3128)
			found = true;
	ok(found, "its recipient, on the proxy flow");
	is_int(bs_dispatch_counters(disp)->tunnels, 1, "tunnel counted");
}

/* `test_dispatch --corpus DIR`: the corpus pass alone. */
int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--corpus") == 0) {
		test_corpus_http(argv[2]);
		return tap_done();
	}
	ops = bs_dispatch_ops();
	test_port_choice();
	test_sniffing();
	test_connect_tunnel();
	test_swapped();
	test_unknown_payload();
	test_gzip_payload();
	test_ftp_data();
	test_ftp_data_missing();
	test_udp_dns();
	test_udp_dns_unanswered_origin();
	test_helpers();
	test_event_init();
	bs_dispatch_free(disp);
	return tap_done();
}

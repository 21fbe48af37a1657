/* test_ftp.c - FTP control connection parser on hand-made sessions. */
#include "proto2_harness.h"
#include "parsers/stream/ftp.h"

static const struct step session[] = {
	S("220-Welcome to the example FTP service.\r\n220-Be nice.\r\n220 (vsFTPd 3.0.3)\r\n"),
	C("USER webadmin\r\n"),
	S("331 Please specify the password.\r\n"),
	C("PASS wrongpass\r\n"),
	S("530 Login incorrect.\r\n"),
	C("USER webadmin\r\n"),
	S("331 Please specify the password.\r\n"),
	C("PASS s3cret\r\n"),
	S("230 Login successful.\r\n"),
	C("PASV\r\n"),
	S("227 Entering Passive Mode (198,51,100,20,195,80).\r\n"),
	C("STOR /var/www/html/shell.php\r\n"),
	S("150 Ok to send data.\r\n226 Transfer complete.\r\n"),
	C("EPSV\r\n"),
	S("229 Entering Extended Passive Mode (|||6446|)\r\n"),
	C("RETR index.html\r\n"),
	S("150 Opening BINARY mode data connection.\r\n226 Transfer complete.\r\n"),
	C("PORT 192,0,2,10,7,138\r\n"),
	S("200 PORT command successful.\r\n"),
	C("LIST\r\n"),
	S("150 Here comes the directory listing.\r\n226 Directory send OK.\r\n"),
	C("EPRT |2|2001:db8::1|5282|\r\n"),
	S("200 EPRT command successful.\r\n"),
	C("APPE log with spaces.txt\r\n"),
	S("150 ok\r\n226 ok\r\n"),
	C("RETR no-pasv-before.txt\r\n"),
	S("425 Use PORT or PASV first.\r\n"),
	C("PASV\r\n"),
	S("227 Entering Passive Mode (10,0,0,5,4,1)\r\n"),
	C("RETR behind-nat.bin\r\nQUIT\r\n"),
	S("150 ok\r\n226 ok\r\n221 Goodbye.\r\n"),
};

static const struct step tls[] = {
	S("220 ProFTPD Server ready.\r\n"),
	C("AUTH TLS\r\n"),
	S("234 AUTH TLS successful\r\n"),
	C("\x16\x03\x01\x00\x20\r\nUSER hidden\r\n"),
	S("\x16\x03\x03\x00\x10\r\n230 x\r\n"),
};

static const struct step gap[] = {
	S("220 FTP ready\r\n"),
	C("USER anonymous\r\n"),
	S("331 Guest login ok, send your email address\r\n"),
	C("PASS guest@"),
	GAP(0, 10),
	C("ple.com\r\n"),
	S("230 Guest login ok\r\n"),
	C("USER ftp\r\n"),
	S("230 Already logged in.\r\n"),
};

int main(void)
{
	check_segmentation(&bs_proto_ftp, session, NSTEPS(session), "session");
	is_int(rec.n, 11, "session: two logins, five endpoints, four named transfers");
	is_str(rec.line[0], "AUTH proto=5 user=webadmin method=PASS success=0", "530: failed login");
	is_str(rec.line[1], "AUTH proto=5 user=webadmin method=PASS success=1", "230: login");
	is_str(rec.line[2], "EXPECT 198.51.100.20:50000 cookie=458753 file= upload=0 user=webadmin",
	       "227: endpoint announced at once, before the transfer command");
	is_str(rec.line[3], "EXPECT 198.51.100.20:50000 cookie=458753 file=/var/www/html/shell.php upload=1 user=webadmin",
	       "STOR: the same endpoint again with file name, upload and user");
	is_str(rec.line[5], "EXPECT 198.51.100.20:6446 cookie=458754 file=index.html upload=0 user=webadmin",
	       "EPSV + RETR: the server address, port from 229");
	is_str(rec.line[6], "EXPECT 192.0.2.10:1930 cookie=458755 file= upload=0 user=webadmin",
	       "PORT: the client's endpoint; LIST adds nothing to the empty name");
	is_str(rec.line[7], "EXPECT 2001:db8::1:5282 cookie=458756 file= upload=0 user=webadmin", "EPRT IPv6");
	is_str(rec.line[8], "EXPECT 2001:db8::1:5282 cookie=458756 file=log with spaces.txt upload=1 user=webadmin",
	       "APPE: upload with spaces in the name");
	is_str(rec.line[10], "EXPECT 198.51.100.20:1025 cookie=458757 file=behind-nat.bin upload=0 user=webadmin",
	       "227 with a private address behind NAT: the server's own address; no PASV, no announcement");
	ok(strstr(rec.line[1], "s3cret") == NULL, "password never in an event");

	check_segmentation(&bs_proto_ftp, tls, NSTEPS(tls), "tls");
	is_int(rec.n, 0, "AUTH TLS: opaque after 234");

	check_segmentation(&bs_proto_ftp, gap, NSTEPS(gap), "gap");
	is_int(rec.n, 1, "gap in the client line: the reply after it is not paired");
	is_str(rec.line[0], "AUTH proto=5 user=ftp method=PASS success=1", "USER answered 230 directly");

	bs_ip ip;
	uint16_t port;
	ok(!bs_ftp_parse_hostport("1,2,3,4,5", 9, &ip, &port), "hostport: five numbers refused");
	ok(!bs_ftp_parse_hostport("1,2,3,400,5,6", 13, &ip, &port), "hostport: number over 255 refused");
	ok(bs_ftp_parse_hostport("=10,1,2,3,0,21", 14, &ip, &port) && port == 21, "hostport without parentheses");

	static uint8_t junk[2048];
	uint32_t x = 5;
	for (size_t i = 0; i < sizeof junk; i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (uint8_t)(x >> 16);
	}
	struct step g[] = { SB(junk, sizeof junk), CB(junk, sizeof junk) };
	int err = run_session(&bs_proto_ftp, g, NSTEPS(g), 0, 0);
	ok(err == 0 || err == BS_FTP_ERR_NOT_FTP, "garbage: no crash");
	is_int(rec.n, 0, "garbage: no events");
	ok(bs_proto_ftp.sniff(1, (const uint8_t *)"220 ProFTPD 1.3.5 Server\r\n", 26), "sniff FTP greeting");
	ok(!bs_proto_ftp.sniff(1, (const uint8_t *)"220 mx ESMTP Postfix\r\n", 22), "sniff: SMTP is not FTP");
	return tap_done();
}

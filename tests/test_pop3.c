/* test_pop3.c - POP3 parser on hand-made sessions. */
#include "proto2_harness.h"
#include "parsers/stream/pop3.h"

static const struct step session[] = {
	S("+OK Dovecot ready. <1896.697170952@dbc.mtview.ca.us>\r\n"),
	C("CAPA\r\n"),
	S("+OK\r\nTOP\r\nUSER\r\nSASL PLAIN LOGIN\r\nSTLS\r\n.\r\n"),
	C("USER alice@example.com\r\n"),
	S("+OK\r\n"),
	C("PASS wrong\r\n"),
	S("-ERR [AUTH] Authentication failed.\r\n"),
	C("USER alice@example.com\r\nPASS hunter2\r\n"),
	S("+OK\r\n+OK Logged in.\r\n"),
	C("STAT\r\nLIST\r\n"),
	S("+OK 2 320\r\n+OK 2 messages:\r\n1 120\r\n2 200\r\n.\r\n"),
	C("RETR 1\r\n"),
	S("+OK 120 octets\r\nFrom: x@example.org\r\n\r\n..dot stuffed\r\n-ERR inside a body\r\n+OK inside a body\r\n.\r\n"),
	C("TOP 2 0\r\nQUIT\r\n"),
	S("+OK\r\nSubject: hi\r\n\r\n.\r\n+OK Logging out.\r\n"),
};

static const struct step sasl[] = {
	S("+OK POP3 ready\r\n"),
	C("AUTH PLAIN\r\n"),
	S("+ \r\n"),
	C("AGJvYkBleGFtcGxlLm9yZwBzM2NyZXQ=\r\n"),
	S("+OK Logged in.\r\n"),
	C("AUTH LOGIN YWxpY2U=\r\n"),
	S("+ UGFzc3dvcmQ6\r\n"),
	C("aHVudGVyMg==\r\n"),
	S("-ERR nope\r\n"),
	C("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
	S("+OK maildrop has 1 message (369 octets)\r\n"),
};

static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x00, 0x10, '\n', 'U', 'S', 'E', 'R', ' ', 'x', '\n' };
static const struct step stls[] = {
	S("+OK ready\r\n"),
	C("STLS\r\n"),
	S("+OK Begin TLS negotiation now.\r\n"),
	CB(tls, sizeof tls),
	SB(tls, sizeof tls),
	C("USER hidden\r\nPASS x\r\n"),
	S("+OK\r\n+OK\r\n"),
};

static const struct step gap[] = {
	S("+OK ready\r\n"),
	C("USER carol\r\n"),
	S("+OK\r\n"),
	C("RETR 1\r\n"),
	S("+OK\r\nSubject: a very long mess"),
	GAP(1, 70000),
	S("age line\r\nend\r\n.\r\n"),
	C("USER dave\r\nPASS pw\r\n"),
	S("+OK\r\n+OK\r\n"),
};

int main(void)
{
	check_segmentation(&bs_proto_pop3, session, NSTEPS(session), "session");
	is_int(rec.n, 2, "session: two logins, nothing from message bodies");
	is_str(rec.line[0], "AUTH proto=3 user=alice@example.com method=USER success=0", "USER/PASS failure");
	is_str(rec.line[1], "AUTH proto=3 user=alice@example.com method=USER success=1", "pipelined USER/PASS success");
	ok(strstr(rec.line[1], "hunter2") == NULL, "password never in an event");

	check_segmentation(&bs_proto_pop3, sasl, NSTEPS(sasl), "sasl");
	is_int(rec.n, 3, "sasl: three logins");
	is_str(rec.line[0], "AUTH proto=3 user=bob@example.org method=PLAIN success=1", "AUTH PLAIN after '+ '");
	is_str(rec.line[1], "AUTH proto=3 user=alice method=LOGIN success=0", "AUTH LOGIN with initial response");
	is_str(rec.line[2], "AUTH proto=3 user=mrose method=APOP success=1", "APOP");

	check_segmentation(&bs_proto_pop3, stls, NSTEPS(stls), "stls");
	is_int(rec.n, 0, "STLS: opaque after +OK");

	check_segmentation(&bs_proto_pop3, gap, NSTEPS(gap), "gap");
	is_int(rec.n, 1, "gap inside a message: resynchronised at the '.' line");
	is_str(rec.line[0], "AUTH proto=3 user=dave method=USER success=1", "login after the gap paired");

	/* no reply seen: result unknown */
	struct step cut[] = { S("+OK\r\n"), C("USER eve\r\nPASS x\r\n"), S("+OK\r\n") };
	run_session(&bs_proto_pop3, cut, NSTEPS(cut), 0, 0);
	is_str(rec.line[0], "AUTH proto=3 user=eve method=USER success=-1", "PASS without reply: success unknown");

	static uint8_t junk[2048];
	uint32_t x = 3;
	for (size_t i = 0; i < sizeof junk; i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (uint8_t)(x >> 16);
	}
	struct step g[] = { SB(junk, sizeof junk), CB(junk, sizeof junk) };
	int err = run_session(&bs_proto_pop3, g, NSTEPS(g), 0, 0);
	ok(err == 0 || err == BS_POP3_ERR_NOT_POP3, "garbage: no crash");
	is_int(rec.n, 0, "garbage: no events");
	ok(bs_proto_pop3.sniff(1, (const uint8_t *)"+OK hello\r\n", 11), "sniff +OK greeting");
	ok(!bs_proto_pop3.sniff(1, (const uint8_t *)"* OK IMAP\r\n", 11), "sniff: IMAP is not POP3");
	return tap_done();
}

/* test_imap.c - IMAP parser on hand-made sessions. */
#include "proto2_harness.h"
#include "parsers/stream/imap.h"

static const struct step session[] = {
	S("* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE STARTTLS AUTH=PLAIN] Dovecot ready.\r\n"),
	C("a001 CAPABILITY\r\n"),
	S("* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN\r\na001 OK Pre-login capabilities listed.\r\n"),
	C("a002 LOGIN alice@example.com wrongpw\r\n"),
	S("a002 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
	C("a003 LOGIN \"bob \\\"the\\\" user\" \"pa ss\"\r\n"),
	S("a003 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
	C("a004 LOGIN {17}\r\n"),
	S("+ Ready for literal data\r\n"),
	C("carol@example.com {7}\r\n"),
	S("+ Ready for literal data\r\n"),
	C("sec{r}t\r\n"),
	S("a004 OK [CAPABILITY IMAP4rev1] Logged in\r\n"),
	C("a005 SELECT INBOX\r\n"),
	S("* 2 EXISTS\r\n* OK [UIDVALIDITY 1] UIDs valid\r\na005 OK [READ-WRITE] Select completed.\r\n"),
	C("a006 FETCH 1 BODY[]\r\n"),
	S("* 1 FETCH (BODY[] {58}\r\n"
	  "From: x@example.org\r\na006 OK fake tag inside a literal\r\n\r\n)\r\n"
	  "a006 OK Fetch completed.\r\n"),
	C("a007 APPEND INBOX {27+}\r\na008 LOGIN inside literal\r\n\r\n"),
	S("a007 OK Append completed.\r\n"),
	C("a009 LOGOUT\r\n"),
	S("* BYE Logging out\r\na009 OK Logout completed.\r\n"),
};

static const struct step sasl[] = {
	S("* OK IMAP ready\r\n"),
	C("A1 AUTHENTICATE PLAIN AGJvYkBleGFtcGxlLm9yZwBzM2NyZXQ=\r\n"),
	S("A1 OK Logged in\r\n"),
	C("A2 AUTHENTICATE PLAIN\r\n"),
	S("+ \r\n"),
	C("YWRtaW4AY2Fyb2wAcHc=\r\n"),
	S("A2 NO failed\r\n"),
	C("A3 AUTHENTICATE LOGIN\r\n"),
	S("+ VXNlcm5hbWU6\r\n"),
	C("YWxpY2U=\r\n"),
	S("+ UGFzc3dvcmQ6\r\n"),
	C("aHVudGVyMg==\r\n"),
	S("A3 OK done\r\n"),
	C("A4 LOGIN dave pw\r\n"),
};

static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x00, 0x10, '\r', '\n', 'x', ' ', 'O', 'K', '\r', '\n' };
static const struct step starttls[] = {
	S("* OK ready\r\n"),
	C("t1 STARTTLS\r\n"),
	S("t1 OK Begin TLS negotiation now.\r\n"),
	CB(tls, sizeof tls),
	SB(tls, sizeof tls),
	C("t2 LOGIN hidden pw\r\n"),
	S("t2 OK\r\n"),
};

static const struct step gap[] = {
	S("* OK ready\r\n"),
	C("g1 LOGIN erin pw\r\n"),
	C("g2 FETCH 1 BODY[]\r\n"),
	S("* 1 FETCH (BODY[] {1000}\r\n0123456789"),
	GAP(1, 500),
	S("0123456789"),
	GAP(1, 480),
	S(")\r\ng2 OK done\r\n"),
	S("g1 OK late reply, paired by tag\r\n"),
};

int main(void)
{
	check_segmentation(&bs_proto_imap, session, NSTEPS(session), "session");
	is_int(rec.n, 3, "session: three logins, nothing from literals");
	is_str(rec.line[0], "AUTH proto=2 user=alice@example.com method=LOGIN success=0", "atom user, NO");
	is_str(rec.line[1], "AUTH proto=2 user=bob \"the\" user method=LOGIN success=0", "quoted user with escapes");
	is_str(rec.line[2], "AUTH proto=2 user=carol@example.com method=LOGIN success=1",
	       "literal user after '+', password literal skipped");
	ok(strstr(rec.line[2], "sec{r}t") == NULL, "password never in an event");

	check_segmentation(&bs_proto_imap, sasl, NSTEPS(sasl), "sasl");
	is_int(rec.n, 4, "sasl: four logins (one without reply)");
	is_str(rec.line[0], "AUTH proto=2 user=bob@example.org method=PLAIN success=1", "AUTHENTICATE PLAIN with SASL-IR");
	is_str(rec.line[1], "AUTH proto=2 user=carol method=PLAIN success=0", "AUTHENTICATE PLAIN after '+ '");
	is_str(rec.line[2], "AUTH proto=2 user=alice method=LOGIN success=1", "AUTHENTICATE LOGIN");
	is_str(rec.line[3], "AUTH proto=2 user=dave method=LOGIN success=-1", "no tagged reply: unknown");

	check_segmentation(&bs_proto_imap, starttls, NSTEPS(starttls), "starttls");
	is_int(rec.n, 0, "STARTTLS: opaque after OK");

	check_segmentation(&bs_proto_imap, gap, NSTEPS(gap), "gap");
	is_int(rec.n, 1, "gaps inside a literal keep the parser in step");
	is_str(rec.line[0], "AUTH proto=2 user=erin method=LOGIN success=1", "reply after the literal paired by tag");

	/* a 1 MB line and NUL bytes */
	size_t big = 1 << 20;
	char *line = malloc(big + 64);
	memcpy(line, "x1 SEARCH TEXT \"", 16);
	memset(line + 16, 'a', big);
	line[500] = '\0';
	memcpy(line + 16 + big, "\" {3}\r\nabc\r\n", 12);
	struct step b[] = { S("* OK\r\n"), CB(line, big + 28), C("x2 LOGIN frank pw\r\n"), S("x2 OK\r\n") };
	run_session(&bs_proto_imap, b, NSTEPS(b), 0, 0);
	is_int(rec.n, 1, "1 MB line ending in a literal: literal found from the line's tail");
	is_str(rec.line[0], "AUTH proto=2 user=frank method=LOGIN success=1", "session goes on after it");
	free(line);

	static uint8_t junk[2048];
	uint32_t x = 11;
	for (size_t i = 0; i < sizeof junk; i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (uint8_t)(x >> 16);
	}
	struct step g[] = { SB(junk, sizeof junk), CB(junk, sizeof junk) };
	int err = run_session(&bs_proto_imap, g, NSTEPS(g), 0, 0);
	ok(err == 0 || err == BS_IMAP_ERR_NOT_IMAP, "garbage: no crash");
	ok(bs_proto_imap.sniff(1, (const uint8_t *)"* OK IMAP4rev1\r\n", 16), "sniff greeting");
	ok(!bs_proto_imap.sniff(1, (const uint8_t *)"+OK POP3\r\n", 10), "sniff: POP3 is not IMAP");
	return tap_done();
}

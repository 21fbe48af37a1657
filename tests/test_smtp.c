/* test_smtp.c - SMTP parser on hand-made sessions. */
#include "stream_session.h"
#include "parsers/stream/smtp.h"

static const struct step session[] = {
	S("220 mx.example.net ESMTP Postfix (Debian/GNU)\r\n"),
	C("EHLO client.example.org\r\n"),
	S("250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"),
	C("AUTH PLAIN AGJvYkBleGFtcGxlLm9yZwBzM2NyZXQ=\r\n"),
	S("235 2.7.0 Authentication successful\r\n"),
	C("MAIL FROM:<Bob@Example.org> SIZE=321 BODY=8BITMIME\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<carol@example.com>\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("RCPT TO:<nobody@example.com>\r\n"),
	S("550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown\r\n"),
	C("DATA\r\n"),
	S("354 End data with <CR><LF>.<CR><LF>\r\n"),
	C("From: Bob <bob@example.org>\r\nTo: carol@example.com,\r\n\tdan@example.com\r\n"
	  "Cc: \"Eve\" <Eve@Example.COM>\r\nSubject: hello\r\nMessage-ID: <1234.5678@client.example.org>\r\n"
	  "\r\nbody line one\r\n..leading dot\r\nmail me at fake@notaheader.com\r\n.\r\n"),
	S("250 2.0.0 Ok: queued as 3F2A81C2B4\r\n"),
	C("RSET\r\n"),
	S("250 2.0.0 Ok\r\n"),
	C("MAIL FROM:<>\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<frank@example.com>\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("DATA\r\n"),
	S("354 go ahead\r\n"),
	C("Subject: bounce\r\n\r\nx\r\n.\r\n"),
	S("250 2.0.0 Ok: queued as 9ABCDEF\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

/* PIPELINING: the whole envelope in one segment, the replies in another. */
static const struct step pipelined[] = {
	S("220 mx ESMTP\r\n"),
	C("EHLO c\r\n"),
	S("250-mx\r\n250 PIPELINING\r\n"),
	C("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\n"
	  "RCPT TO:<d@example.com>\r\nDATA\r\n"),
	S("250 ok\r\n250 ok\r\n450 4.2.0 greylisted\r\n250 ok\r\n354 go\r\n"),
	C("Subject: x\r\n\r\nhi\r\n.\r\n"),
	S("250 ok id=1\r\n"),
};

/* Transactions that end without a message. */
static const struct step refused[] = {
	S("220 mx ESMTP\r\n"),
	C("EHLO bot\r\n"),
	S("250 mx\r\n"),
	C("MAIL FROM:<spam@bad.example>\r\nRCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"),
	S("250 ok\r\n554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org\r\n"
	  "554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org\r\n554 5.5.1 Error: no valid recipients\r\n"),
	C("MAIL FROM:<spam@bad.example>\r\n"),
	S("250 ok\r\n"),
	C("RCPT TO:<c@example.com>\r\n"),
	S("250 ok\r\n"),
	C("RSET\r\n"),
	S("250 ok\r\n"),
	C("MAIL FROM:<x@bad.example>\r\n"),
	S("250 ok\r\n"),
	C("QUIT\r\n"),
	S("221 bye\r\n"),
};

static void test_refused(void)
{
	check_segmentation(&bs_proto_smtp, refused, NSTEPS(refused), "refused");
	is_int(rec_count("MAIL"), 3, "three transactions and no message");
	is_str(rec_find("MAIL", 0),
	       "MAIL from=spam@bad.example rcpts=[a@example.com:rejected,b@example.com:rejected] dropped=0 sasl= size=0 "
	       "mid= qid= rejected=1 helo=bot reason=5.5.1 Error: no valid recipients",
	       "every recipient refused, DATA refused: a rejected mail with the last refusal");
	is_str(rec_find("MAIL", 1),
	       "MAIL from=spam@bad.example rcpts=[c@example.com:accepted] dropped=0 sasl= size=0 mid= qid= rejected=1 "
	       "helo=bot reason=",
	       "RSET before DATA: reported as never accepted");
	is_str(rec_find("MAIL", 2),
	       "MAIL from=x@bad.example rcpts=[] dropped=0 sasl= size=0 mid= qid= rejected=1 helo=bot reason=",
	       "MAIL without recipients then QUIT: reported too, with what was seen");
}

/* Found by fuzz_proto: "RCPT TO" with no address at all. */
static const struct step rcpt_empty[] = {
	S("220 mx ESMTP\r\n"),
	C("MAIL FROM:<a@b.org>\r\n"),
	S("250 ok\r\n"),
	C("RCPT TO\r\n"),
	S("501 syntax\r\n"),
	C("QUIT\r\n"),
	S("221 bye\r\n"),
};

static void test_rcpt_empty(void)
{
	check_segmentation(&bs_proto_smtp, rcpt_empty, NSTEPS(rcpt_empty), "rcpt without address");
	is_int(rec_count("MAIL"), 1, "RCPT TO without an address: one rejected transaction, no crash");
}

static const struct step auth_login_fail[] = {
	S("220 smtp.example.net ESMTP\r\n"),
	C("EHLO x\r\n"),
	S("250 ok\r\n"),
	C("AUTH LOGIN\r\n"),
	S("334 VXNlcm5hbWU6\r\n"),
	C("YWxpY2U=\r\n"),
	S("334 UGFzc3dvcmQ6\r\n"),
	C("aHVudGVyMg==\r\n"),
	S("535 5.7.8 Error: authentication failed\r\n"),
	C("AUTH PLAIN\r\n"),
	S("334 \r\n"),
	C("YWRtaW4AY2Fyb2wAcHc=\r\n"),
	S("235 ok\r\n"),
	C("AUTH CRAM-MD5\r\n"),
	S("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
	C("ZGF2ZSA1ZjRkY2MzYjVhYTc2NWQ2MWQ4MzI3ZGViODgyY2Y5OQ==\r\n"),
	S("235 ok\r\n"),
};

static const uint8_t tls_hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x0a, '\n', 'R', 'C', 'P', 'T', '\n' };
static const struct step starttls[] = {
	S("220 mx ESMTP\r\n"),
	C("EHLO x\r\n"),
	S("250-mx\r\n250 STARTTLS\r\n"),
	C("STARTTLS\r\n"),
	S("220 2.0.0 Ready to start TLS\r\n"),
	CB(tls_hello, sizeof tls_hello),
	SB(tls_hello, sizeof tls_hello),
	C("MAIL FROM:<hidden@example.org>\r\n"),
};

/* A gap inside the message: the terminator is still found, replies re-pair. */
static const struct step gap_in_data[] = {
	S("220 mx ESMTP\r\n"),
	C("HELO x\r\n"),
	S("250 ok\r\n"),
	C("MAIL FROM:<g@example.org>\r\n"),
	S("250 ok\r\n"),
	C("RCPT TO:<h@example.com>\r\n"),
	S("250 ok\r\n"),
	C("DATA\r\n"),
	S("354 go\r\n"),
	C("Subject: a\r\n\r\nsome text that is cut"),
	GAP(0, 5000),
	C("in the middle of a line\r\nmore\r\n.\r\n"),
	S("250 2.0.0 Ok: queued as ABC\r\n"),
	C("QUIT\r\n"),
	S("221 bye\r\n"),
};

/* CHUNKING (RFC 3030): the message in BDAT chunks, a header cut by a chunk
 * boundary, a dot line that is content, a gap inside a chunk. */
static const struct step bdat[] = {
	S("220 mx ESMTP\r\n"),
	C("EHLO relay.example.org\r\n"),
	S("250-mx\r\n250-CHUNKING\r\n250 PIPELINING\r\n"),
	C("MAIL FROM:<gina@example.org>\r\nRCPT TO:<hal@example.com>\r\nBDAT 45\r\nFrom: gina@example.org\r\nTo: hal@example.com\r\n"),
	S("250 ok\r\n250 ok\r\n250 2.0.0 45 octets received\r\n"),
	C("BDAT 28\r\nCc: ivy@example.net\r\n\r\n.\r\nab"),
	C("BDAT 1000 LAST\r\n0123456789"),
	GAP(0, 980),
	C("0123456789"),
	S("250 ok\r\n250 2.0.0 Ok: queued as 7E8F9A0\r\n"),
	C("QUIT\r\n"),
	S("221 bye\r\n"),
};

static void test_bdat(void)
{
	check_segmentation(&bs_proto_smtp, bdat, NSTEPS(bdat), "bdat");
	is_str(rec_find("MAIL", 0),
	       "MAIL from=gina@example.org rcpts=[hal@example.com:accepted] dropped=0 sasl= size=1073 mid= "
	       "qid=7E8F9A0 rejected=0 helo=relay.example.org",
	       "BDAT: chunk sizes summed, gap inside a chunk counted, queue id of BDAT LAST");
	is_int(rec_count("ADDR"), 3, "BDAT: From, To and Cc header addresses");
	is_int(rec_count("AUTH") + rec_count("EVENT"), 0, "BDAT: chunk bytes never read as commands");
}

static void test_session(void)
{
	check_segmentation(&bs_proto_smtp, session, NSTEPS(session), "session");
	is_int(rec_count("AUTH"), 1, "one AUTH event");
	is_str(rec_find("AUTH", 0), "AUTH proto=4 user=bob@example.org method=PLAIN success=1",
	       "AUTH PLAIN user decoded, success from 235");
	ok(strstr(rec_find("AUTH", 0), "s3cret") == NULL, "password not in the event");
	is_int(rec_count("MAIL"), 2, "two transactions");
	is_str(rec_find("MAIL", 0),
	       "MAIL from=Bob@Example.org rcpts=[carol@example.com:accepted,nobody@example.com:rejected] "
	       "dropped=0 sasl=bob@example.org size=223 mid=<1234.5678@client.example.org> qid=3F2A81C2B4 "
	       "rejected=0 helo=client.example.org",
	       "first MAIL: sender, recipients with status, size, message id, queue id");
	is_str(rec_find("MAIL", 1),
	       "MAIL from= rcpts=[frank@example.com:accepted] dropped=0 sasl=bob@example.org size=22 mid= "
	       "qid=9ABCDEF rejected=0 helo=client.example.org",
	       "second MAIL after RSET: null sender, own queue id");
	is_int(rec_count("ADDR"), 4, "four header addresses (From, To twice, Cc), none from the body");
	is_str(rec_find("ADDR", 0), "ADDR ctx=4 ref=0 addr=bob@example.org col= to_client=0", "From address");
	is_str(rec_find("ADDR", 2), "ADDR ctx=4 ref=0 addr=dan@example.com col= to_client=0",
	       "folded To continuation scanned");
	is_str(rec_find("ADDR", 3), "ADDR ctx=4 ref=0 addr=eve@example.com col= to_client=0", "Cc address");
}

static void test_pipelined(void)
{
	check_segmentation(&bs_proto_smtp, pipelined, NSTEPS(pipelined), "pipelined");
	is_str(rec_find("MAIL", 0),
	       "MAIL from=a@example.org rcpts=[b@example.com:accepted,c@example.com:rejected,d@example.com:accepted] "
	       "dropped=0 sasl= size=18 mid= qid= rejected=0 helo=c",
	       "pipelined replies paired in order");
}

static void test_auth(void)
{
	check_segmentation(&bs_proto_smtp, auth_login_fail, NSTEPS(auth_login_fail), "auth");
	is_int(rec_count("AUTH"), 3, "three AUTH exchanges");
	is_str(rec_find("AUTH", 0), "AUTH proto=4 user=alice method=LOGIN success=0", "AUTH LOGIN failure");
	is_str(rec_find("AUTH", 1), "AUTH proto=4 user=carol method=PLAIN success=1",
	       "AUTH PLAIN after 334: authcid, not authzid");
	is_str(rec_find("AUTH", 2), "AUTH proto=4 user=dave method=CRAM-MD5 success=1", "CRAM-MD5 user");
}

static void test_starttls(void)
{
	int err = run_session(&bs_proto_smtp, starttls, NSTEPS(starttls), 0, 0);
	is_int(err, 0, "STARTTLS: no error");
	is_int(rec.n, 0, "STARTTLS: nothing parsed after the 220");
	check_segmentation(&bs_proto_smtp, starttls, NSTEPS(starttls), "starttls");
}

static void test_gap(void)
{
	check_segmentation(&bs_proto_smtp, gap_in_data, NSTEPS(gap_in_data), "gap");
	is_int(rec_count("MAIL"), 1, "gap in DATA: the message is still reported");
	ok(strstr(rec_find("MAIL", 0), "qid=ABC") != NULL, "gap in DATA: reply paired after the gap");
}

static void test_garbage(void)
{
	static uint8_t junk[4096];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof junk; i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (uint8_t)(x >> 16);
		if (junk[i] == '\n' && (i & 3))
			junk[i] = 0;
	}
	struct step g[] = { CB(junk, sizeof junk), SB(junk, sizeof junk), CB(junk, sizeof junk) };
	int err = run_session(&bs_proto_smtp, g, NSTEPS(g), 0, 0);
	ok(err == 0 || err == BS_SMTP_ERR_NOT_SMTP, "binary garbage: no crash, at most NOT_SMTP");
	is_int(rec.n, 0, "binary garbage: no events");

	/* a 1 MB line with NUL bytes inside a session does not break it */
	size_t big = 1 << 20;
	char *line = malloc(big + 32);
	memcpy(line, "RCPT TO:<", 9);
	memset(line + 9, 'a', big);
	line[100] = '\0';
	memcpy(line + 9 + big, ">\r\n", 3);
	struct step s[] = {
		S("220 mx ESMTP\r\n"), C("HELO x\r\n"), S("250 ok\r\n"),
		C("MAIL FROM:<z@example.org>\r\n"), S("250 ok\r\n"),
		CB(line, big + 12), S("501 too long\r\n"),
		C("RCPT TO:<y@example.com>\r\n"), S("250 ok\r\n"),
		C("DATA\r\n"), S("354 go\r\n"), C("\r\nx\r\n.\r\n"), S("250 ok\r\n"),
	};
	err = run_session(&bs_proto_smtp, s, NSTEPS(s), 0, 0);
	is_int(err, 0, "1 MB command line: no error");
	ok(strstr(rec_find("MAIL", 0), "y@example.com:accepted") != NULL, "1 MB line truncated, session goes on");
	free(line);
	const char *dot = ".";
	is_int(bs_proto_smtp.strerror(BS_SMTP_ERR_NOT_SMTP)[0] != '\0', 1, "strerror names the error");
	(void)dot;
}

static void test_sniff(void)
{
	ok(bs_proto_smtp.sniff(1, (const uint8_t *)"220 mx.example.net ESMTP Postfix\r\n", 34), "sniff server greeting");
	ok(!bs_proto_smtp.sniff(1, (const uint8_t *)"220 ProFTPD Server\r\n", 20), "FTP greeting is not SMTP");
	ok(bs_proto_smtp.sniff(0, (const uint8_t *)"EHLO x\r\n", 8), "sniff EHLO");
}

static void test_base64(void)
{
	uint8_t out[16];
	is_int(bs_base64_decode("YWxpY2U=", 8, out, sizeof out), 5, "base64 length");
	ok(memcmp(out, "alice", 5) == 0, "base64 bytes");
	is_int(bs_base64_decode("YW*x", 4, out, sizeof out), -1, "base64 rejects bad characters");
	is_int(bs_base64_decode("YWxpY2VhbGljZWFsaWNlYWxpY2U=", 28, out, 4), -1, "base64 output bounded");
}

int main(void)
{
	test_session();
	test_pipelined();
	test_bdat();
	test_refused();
	test_rcpt_empty();
	test_auth();
	test_starttls();
	test_gap();
	test_garbage();
	test_sniff();
	test_base64();
	return tap_done();
}

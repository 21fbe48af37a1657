/* test_smtp.c - SMTP parser: what is not a case of events (those are
 * tests/cases/smtp): garbage, a 1 MB command line, sniffing, base64. */
#include "stream_session.h"
#include "parsers/stream/smtp.h"

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
	is_int(bs_proto_smtp.strerror(BS_SMTP_ERR_NOT_SMTP)[0] != '\0', 1, "strerror names the error");
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
	test_garbage();
	test_sniff();
	test_base64();
	return tap_done();
}

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

static size_t count_in(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *q = strstr(hay, needle); q; q = strstr(q + 1, needle))
		n++;
	return n;
}

/* 70,000 recipients in one transaction, pipelined 50 at a time, every
 * 997th refused: none is dropped (the store grew without a count limit;
 * before, 1,000 were kept), the mail event comes in parts of
 * BS_MAIL_MAX_RCPT, and each reply reaches its recipient also past 65,536
 * (RCPTs pipelined together are one queue entry that counts them). */
static void test_many_recipients(void)
{
	enum { NRCPT = 70000, GROUP = 50 };
	size_t nsteps = 0, cap = 2 * (NRCPT / GROUP) + 16;
	struct step *st = calloc(cap, sizeof *st);
	char *cli = malloc((size_t)NRCPT * 32), *srv = malloc((size_t)NRCPT * 16);
	size_t co = 0, so = 0;
	st[nsteps++] = (struct step)S("220 mx ESMTP\r\n");
	st[nsteps++] = (struct step)C("EHLO x\r\nMAIL FROM:<z@example.org>\r\n");
	st[nsteps++] = (struct step)S("250 mx\r\n250 ok\r\n");
	for (int g = 0; g < NRCPT / GROUP; g++) {
		size_t c0 = co, s0 = so;
		for (int i = g * GROUP; i < (g + 1) * GROUP; i++) {
			co += (size_t)sprintf(cli + co, "RCPT TO:<r%06d@e.com>\r\n", i);
			so += (size_t)sprintf(srv + so, i % 997 == 0 ? "550 no\r\n" : "250 ok\r\n");
		}
		st[nsteps++] = (struct step){ 0, cli + c0, co - c0, 0, 0 };
		st[nsteps++] = (struct step){ 1, srv + s0, so - s0, 0, 0 };
	}
	st[nsteps++] = (struct step)C("DATA\r\n");
	st[nsteps++] = (struct step)S("354 go\r\n");
	st[nsteps++] = (struct step)C("\r\nx\r\n.\r\n");
	st[nsteps++] = (struct step)S("250 ok: queued as 4A1B\r\n");
	is_int(run_session(&bs_proto_smtp, st, nsteps, 0, 0), 0, "70,000 recipients: no error");
	is_int((long)rec.n, NRCPT / BS_MAIL_MAX_RCPT, "70,000 recipients: one event per 1,000");
	size_t accepted = 0, refused = 0, parts_ok = 0;
	for (size_t i = 0; i < rec.n; i++) {
		accepted += count_in(rec.line[i], ":accepted");
		refused += count_in(rec.line[i], ":rejected");
		parts_ok += strstr(rec.line[i], "from=z@example.org") && strstr(rec.line[i], "qid=4A1B") &&
		            strstr(rec.line[i], "dropped=0");
	}
	is_int((long)(accepted + refused), NRCPT, "every recipient in exactly one part");
	is_int((long)refused, (NRCPT + 996) / 997, "every refused one refused");
	is_int((long)parts_ok, (long)rec.n, "every part carries the message's sender and queue id");
	ok(rec.n && strstr(rec.line[rec.n - 1], "r069999@e.com:accepted") &&
	   strstr(rec.line[rec.n - 1], "r069790@e.com:rejected"), "replies past 65,536 reach their recipients");
	free(st);
	free(cli);
	free(srv);
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
	test_many_recipients();
	test_sniff();
	test_base64();
	return tap_done();
}

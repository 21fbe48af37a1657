/* test_imap.c - IMAP parser: what is not a case of events (those are
 * tests/cases/imap): a 1 MB line, garbage, sniffing. */
#include "stream_session.h"
#include "parsers/stream/imap.h"

int main(void)
{
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

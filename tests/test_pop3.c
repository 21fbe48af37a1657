/* test_pop3.c - POP3 parser: what is not a session of events (those are
 * tests/cases/pop3): garbage, sniffing. */
#include "stream_session.h"
#include "parsers/stream/pop3.h"

int main(void)
{
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

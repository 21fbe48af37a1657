/* test_ftp.c - FTP control connection parser: what is not a case of events
 * (those are tests/cases/ftp): host-port parsing, garbage, sniffing. */
#include "stream_session.h"
#include "parsers/stream/ftp.h"

int main(void)
{
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

/* ftp.h - FTP control connection parser (port 21).
 *
 * USER and the reply to PASS (230/530) give BS_EV_AUTH proto FTP. The data
 * connection endpoint comes from PASV (227), EPSV (229), PORT or EPRT and is
 * announced to the dispatcher through c->expect() at once with an empty file
 * name; a transfer command (STOR, STOU, APPE, RETR) announces the same
 * endpoint again with its file name, which updates the expectation (LIST,
 * NLST, MLSD keep the empty name). The dispatcher turns the data flow into a
 * BS_EV_FILEXFER. After 234 to AUTH TLS the flow
 * is opaque.
 */
#ifndef BS_FTP_H
#define BS_FTP_H

#include "parsers/stream/lineproto.h"

enum bs_ftp_err { BS_FTP_OK = 0, BS_FTP_ERR_NOT_FTP };

enum bs_ftp_cmd {
	BS_FTP_CMD_OTHER = 0, BS_FTP_CMD_USER, BS_FTP_CMD_PASS, BS_FTP_CMD_PASV, BS_FTP_CMD_EPSV,
	BS_FTP_CMD_AUTH_TLS, BS_FTP_CMD_XFER
};

#define BS_FTP_QUEUE 16
#define BS_FTP_NAME_MAX 512

/* Commands are queued with kind enum bs_ftp_cmd. */
struct bs_ftp {
	struct bs_lineproto lp;
	char user[BS_USER_MAX + 1];
	size_t user_len;
	bs_ip data_ip;                 /* the endpoint of the next data connection */
	uint16_t data_port;
	bool data_set;
	bool user_logged_in;           /* a 230 answered USER: the PASS that follows is the same login */
	char filename[BS_FTP_NAME_MAX + 1];
	uint64_t transfers;
};

void bs_ftp_init(struct bs_ftp *p);
enum bs_ftp_err bs_ftp_feed(struct bs_ftp *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_ftp_gap(struct bs_ftp *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_ftp_end(struct bs_ftp *p, struct bs_proto_ctx *c);
const char *bs_ftp_strerror(enum bs_ftp_err e);
bool bs_ftp_sniff(int dir, const uint8_t *p, size_t n);
/* "h1,h2,h3,h4,p1,p2" anywhere in s (PORT argument, 227 reply text). */
bool bs_ftp_parse_hostport(const char *s, size_t n, bs_ip *ip, uint16_t *port);

extern const struct bs_proto_def bs_proto_ftp;

#endif

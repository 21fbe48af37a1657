/* pop3.h - POP3 stream parser (port 110; 995 is TLS and not parsed).
 *
 * Commands are paired with +OK/-ERR replies in order (RFC 2449 pipelining).
 * USER/PASS, APOP and AUTH (PLAIN, LOGIN, CRAM-MD5 through the shared SASL
 * helper) give BS_EV_AUTH proto POP3 with the user name, never the password.
 * Multi-line responses (RETR, TOP, LIST, UIDL, CAPA) are skipped up to the
 * terminating "." line. After +OK to STLS the flow is opaque.
 */
#ifndef BS_POP3_H
#define BS_POP3_H

#include "parsers/stream/lineproto.h"

enum bs_pop3_err { BS_POP3_OK = 0, BS_POP3_ERR_NOT_POP3 };

enum bs_pop3_cstate { BS_POP3_C_CMD = 0, BS_POP3_C_SASL };
enum bs_pop3_sstate { BS_POP3_S_REPLY = 0, BS_POP3_S_MULTI };
enum bs_pop3_cmd {
	BS_POP3_CMD_OTHER = 0, BS_POP3_CMD_USER, BS_POP3_CMD_PASS, BS_POP3_CMD_APOP,
	BS_POP3_CMD_AUTH, BS_POP3_CMD_STLS, BS_POP3_CMD_MULTI
};

#define BS_POP3_QUEUE 16

/* Commands are queued with kind enum bs_pop3_cmd. */
struct bs_pop3 {
	struct bs_lineproto lp;
	enum bs_pop3_cstate cstate;
	enum bs_pop3_sstate sstate;
	struct bs_sasl sasl;
	char user[BS_USER_MAX];
	size_t user_len;
};

void bs_pop3_init(struct bs_pop3 *p);
enum bs_pop3_err bs_pop3_feed(struct bs_pop3 *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_pop3_gap(struct bs_pop3 *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_pop3_end(struct bs_pop3 *p, struct bs_proto_ctx *c);
const char *bs_pop3_strerror(enum bs_pop3_err e);
bool bs_pop3_sniff(int dir, const uint8_t *p, size_t n);

extern const struct bs_proto_def bs_proto_pop3;

#endif

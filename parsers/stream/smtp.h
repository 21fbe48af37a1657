/* smtp.h - SMTP stream parser (ports 25 and 587; 465 is TLS and not parsed).
 *
 * Client commands and server replies are paired in order through a queue of
 * pending commands (pipelining). Emits BS_EV_AUTH (AUTH LOGIN/PLAIN/CRAM-MD5
 * user name, never the password), one BS_EV_MAIL per finished transaction
 * (sender, recipients with their reply, SASL user, size, Message-ID, queue id)
 * and BS_EV_ADDR (ctx BS_ADDR_SMTP_HEADER) for the From/To/Cc header
 * addresses. After a 220 reply to STARTTLS the flow is opaque.
 *
 * The line framing, the command queue, reply codes, STARTTLS, BS_EV_AUTH
 * and the SASL user extraction come from lineproto.h.
 */
#ifndef BS_SMTP_H
#define BS_SMTP_H

#include "parsers/stream/lineproto.h"

enum bs_smtp_err { BS_SMTP_OK = 0, BS_SMTP_ERR_NOT_SMTP };

enum bs_smtp_cstate {
	BS_SMTP_C_CMD = 0,     /* client sends commands */
	BS_SMTP_C_SASL,        /* client lines are SASL responses */
	BS_SMTP_C_DATA_WAIT,   /* DATA sent, 354 not seen yet */
	BS_SMTP_C_DATA,        /* message content until CRLF.CRLF */
	BS_SMTP_C_BDAT         /* the bytes of a BDAT chunk (CHUNKING, RFC 3030) */
};

enum bs_smtp_cmd {
	BS_SMTP_CMD_OTHER = 0, BS_SMTP_CMD_HELO, BS_SMTP_CMD_MAIL, BS_SMTP_CMD_RCPT,
	BS_SMTP_CMD_DATA, BS_SMTP_CMD_DATA_END, BS_SMTP_CMD_AUTH, BS_SMTP_CMD_STARTTLS,
	BS_SMTP_CMD_RSET, BS_SMTP_CMD_QUIT
};

#define BS_SMTP_QUEUE BS_CMDQ_MAX /* pipelined commands awaiting a reply */
/* Recipients are kept in a per-flow store that grows on demand (allocated
 * with the first recipient, freed at end), without a count limit: the mail
 * event goes out in parts of BS_MAIL_MAX_RCPT (event.h), and the store's
 * bytes are charged to the flow (bs_smtp_held_bytes), so the capture's
 * memory cap, not a recipient cap, bounds it: a flow too big is evicted and
 * what it held is reported. */
#define BS_SMTP_ADDR_MAX 320

struct bs_smtp_rcpt {
	size_t off;                 /* in rcpt_pool (which only --memcap bounds: past 4 GiB
	                             * with a cap that large, 32 bits would wrap) */
	uint16_t len;
	int8_t ok;                  /* -1 pending, 0 rejected, 1 accepted */
};

/* Commands are queued with kind enum bs_smtp_cmd. Consecutive RCPTs are one
 * entry whose arg counts them (a client pipelines every recipient of a
 * message at once: a queue of BS_CMDQ_MAX single commands lost the replies
 * past it); their replies go to the recipients in order (rcpt_answered). */
struct bs_smtp {
	struct bs_lineproto lp;
	enum bs_smtp_cstate cstate;
	struct bs_sasl sasl;
	char sasl_user[BS_USER_MAX];
	size_t sasl_user_len;
	char helo[256];
	size_t helo_len;

	/* current transaction: from a MAIL command, whatever its reply */
	bool txn;
	bool mail_ok;               /* the server accepted its MAIL */
	bool mail_refused;          /* ... or refused it */
	char sender[BS_SMTP_ADDR_MAX];
	size_t sender_len;
	/* a MAIL sent inside an open transaction (servers answer 503): its
	 * sender waits for the reply instead of replacing the accepted one */
	char nested_sender[BS_SMTP_ADDR_MAX];
	size_t nested_sender_len;
	struct bs_smtp_rcpt *rcpt;  /* rcpt_cap entries, nrcpt used */
	char *rcpt_pool;            /* pool_cap bytes, rcpt_pool_len used */
	bs_str *ev_rcpts, *ev_status; /* rcpt_cap entries each: the event's lists */
	size_t rcpt_cap, pool_cap, rcpt_pool_len, nrcpt;
	size_t rcpt_answered;       /* recipients whose RCPT reply was read */
	/* message content */
	bool in_headers;
	int hdr_kind;               /* header being read: 0 other, 1 address header, 2 Message-ID */
	char message_id[256];
	size_t message_id_len;
	uint64_t size;
	bool data_done;             /* CRLF.CRLF (or BDAT LAST) seen, waiting for the 250 */
	char reject_text[256];      /* the last 4xx/5xx reply to MAIL, RCPT or DATA */
	size_t reject_len;
	bool bdat_started;          /* content of this transaction came in BDAT chunks */
	bool bdat_last;
	uint64_t bdat_left;         /* bytes of the current chunk still to come */

	uint64_t mails;
};

void bs_smtp_init(struct bs_smtp *p);
enum bs_smtp_err bs_smtp_feed(struct bs_smtp *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_smtp_gap(struct bs_smtp *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_smtp_end(struct bs_smtp *p, struct bs_proto_ctx *c);
/* Bytes the parser holds beyond its state (the recipient store). */
size_t bs_smtp_held_bytes(const struct bs_smtp *p);
const char *bs_smtp_strerror(enum bs_smtp_err e);
bool bs_smtp_sniff(int dir, const uint8_t *p, size_t n);

extern const struct bs_proto_def bs_proto_smtp;

#endif

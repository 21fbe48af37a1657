/* smtp.h - SMTP stream parser (ports 25 and 587; 465 is TLS and not parsed).
 *
 * Client commands and server replies are paired in order through a queue of
 * pending commands (pipelining). Emits BS_EV_AUTH (AUTH LOGIN/PLAIN/CRAM-MD5
 * user name, never the password), one BS_EV_MAIL per finished transaction
 * (sender, recipients with their reply, SASL user, size, Message-ID, queue id)
 * and BS_EV_ADDR (ctx BS_ADDR_SMTP_HEADER) for the From/To/Cc header
 * addresses. After a 220 reply to STARTTLS the flow is opaque.
 *
 * This header also carries the helpers shared by the line-based parsers of
 * this area (SMTP, IMAP, POP3, FTP): a fixed-size line assembler and the
 * SASL user-name extraction.
 */
#ifndef BS_SMTP_H
#define BS_SMTP_H

#include "parsers/stream/proto.h"

/* ---- line assembler shared by the text protocols ---- */

#define BS_TEXT_LINE_MAX 1024
#define BS_TEXT_LINE_TAIL 32

/* One line being assembled: the first BS_TEXT_LINE_MAX bytes are kept, the rest
 * only counted, except the last BS_TEXT_LINE_TAIL bytes (IMAP needs the "{n}" at
 * the end of a long line). */
struct bs_line {
	char buf[BS_TEXT_LINE_MAX];
	size_t len;          /* bytes kept in buf (CR LF excluded once complete) */
	uint64_t total;      /* bytes of the line as sent, CR LF included */
	char tail[BS_TEXT_LINE_TAIL];
	size_t tail_len;     /* bytes in tail (only used once buf overflowed) */
	bool truncated;
	bool skip_partial;   /* after a gap: drop bytes up to the next LF */
};

/* Take bytes up to and including the next LF. Returns the bytes consumed;
 * *complete is set when a whole line (CR LF stripped) is in l->buf. */
size_t bs_line_take(struct bs_line *l, const uint8_t *p, size_t n, bool *complete);
/* Forget the current line (after processing it). */
void bs_line_reset(struct bs_line *l);
/* After a gap: the next bytes start mid-line; drop them up to the next LF. */
void bs_line_gap(struct bs_line *l);
/* The last bytes of the line (whole line if it fit), for suffix checks. */
bs_str bs_line_end(const struct bs_line *l);

/* ---- SASL user extraction shared by SMTP, IMAP and POP3 ---- */

enum bs_sasl_mech { BS_SASL_NONE = 0, BS_SASL_PLAIN, BS_SASL_LOGIN, BS_SASL_CRAM_MD5, BS_SASL_OTHER };
#define BS_USER_MAX 256

struct bs_sasl {
	enum bs_sasl_mech mech;
	unsigned step;            /* client responses seen so far */
	char user[BS_USER_MAX];
	size_t user_len;
	char mech_name[24];
};

/* Begin an exchange with a mechanism name and an optional initial response. */
void bs_sasl_start(struct bs_sasl *s, const char *mech, size_t mech_len,
                   const char *initial, size_t initial_len, bool has_initial);
/* One base64 client response line; takes the user name out of it when this
 * step carries it. The decoded password is wiped, never kept. */
void bs_sasl_response(struct bs_sasl *s, const char *line, size_t n);
/* Decode base64 (whitespace ignored); returns the length or -1. */
long bs_base64_decode(const char *in, size_t n, uint8_t *out, size_t out_size);

/* Small parsing helpers shared by the text protocols. */
bs_str bs_text_word(const char *p, size_t n, size_t *pos);   /* next space-separated word */
bs_str bs_text_rest(const char *p, size_t n, size_t pos);    /* rest after spaces */
void bs_text_copy(char *dst, size_t dst_size, size_t *dst_len, bs_str src);

/* The bs_proto_def adapters (def_init, def_feed, def_gap, def_end,
 * def_strerror) of a module whose API is bs_X_init/feed/gap/end/strerror. */
#define BS_PROTO_ADAPTERS(X) \
	static void def_init(void *s) { bs_##X##_init(s); } \
	static int def_feed(void *s, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n) \
	{ return (int)bs_##X##_feed(s, c, dir, p, n); } \
	static void def_gap(void *s, struct bs_proto_ctx *c, int dir, uint64_t n) { bs_##X##_gap(s, c, dir, n); } \
	static void def_end(void *s, struct bs_proto_ctx *c) { bs_##X##_end(s, c); } \
	static const char *def_strerror(int e) { return bs_##X##_strerror((enum bs_##X##_err)e); }

/* ---- SMTP ---- */

enum bs_smtp_err { BS_SMTP_OK = 0, BS_SMTP_ERR_NOT_SMTP };

enum bs_smtp_cstate {
	BS_SMTP_C_CMD = 0,     /* client sends commands */
	BS_SMTP_C_SASL,        /* client lines are SASL responses */
	BS_SMTP_C_DATA_WAIT,   /* DATA sent, 354 not seen yet */
	BS_SMTP_C_DATA,        /* message content until CRLF.CRLF */
	BS_SMTP_C_TLS_WAIT,    /* STARTTLS sent, reply not seen: client bytes ignored */
	BS_SMTP_C_BDAT,        /* the bytes of a BDAT chunk (CHUNKING, RFC 3030) */
	BS_SMTP_C_OPAQUE       /* TLS: nothing more to read */
};

enum bs_smtp_cmd {
	BS_SMTP_CMD_OTHER = 0, BS_SMTP_CMD_HELO, BS_SMTP_CMD_MAIL, BS_SMTP_CMD_RCPT,
	BS_SMTP_CMD_DATA, BS_SMTP_CMD_DATA_END, BS_SMTP_CMD_AUTH, BS_SMTP_CMD_STARTTLS,
	BS_SMTP_CMD_RSET, BS_SMTP_CMD_QUIT
};

#define BS_SMTP_QUEUE 32        /* pipelined commands awaiting a reply */
#define BS_SMTP_RCPT_MAX 128    /* recipients kept per transaction; the rest counted */
#define BS_SMTP_RCPT_POOL 8192  /* bytes of recipient text per transaction */
#define BS_SMTP_ADDR_MAX 320

struct bs_smtp_pending {
	uint8_t cmd;            /* enum bs_smtp_cmd */
	uint16_t rcpt;          /* index of the recipient for RCPT */
};

struct bs_smtp {
	enum bs_smtp_cstate cstate;
	struct bs_line cline, sline;
	bool greeted;
	struct bs_smtp_pending queue[BS_SMTP_QUEUE];
	unsigned qhead, qlen;
	uint64_t queue_dropped;     /* commands beyond the queue: replies unpaired */

	struct bs_sasl sasl;
	char sasl_user[BS_USER_MAX];
	size_t sasl_user_len;
	char helo[256];
	size_t helo_len;

	/* current transaction */
	bool txn;                   /* MAIL FROM accepted (or pending) */
	char sender[BS_SMTP_ADDR_MAX];
	size_t sender_len;
	char rcpt_pool[BS_SMTP_RCPT_POOL];
	size_t rcpt_pool_len;
	uint16_t rcpt_off[BS_SMTP_RCPT_MAX], rcpt_len[BS_SMTP_RCPT_MAX];
	int8_t rcpt_ok[BS_SMTP_RCPT_MAX]; /* -1 pending, 0 rejected, 1 accepted */
	size_t nrcpt;
	size_t rcpts_dropped;
	/* message content */
	bool in_headers;
	int hdr_kind;               /* header being read: 0 other, 1 address header, 2 Message-ID */
	char message_id[256];
	size_t message_id_len;
	uint64_t size;
	bool data_done;             /* CRLF.CRLF (or BDAT LAST) seen, waiting for the 250 */
	char reject_text[256];      /* the last 4xx/5xx reply to RCPT or DATA */
	size_t reject_len;
	bool bdat_started;          /* content of this transaction came in BDAT chunks */
	bool bdat_last;
	uint64_t bdat_left;         /* bytes of the current chunk still to come */

	uint64_t lines_truncated;   /* command/reply/header lines longer than BS_TEXT_LINE_MAX */
	uint64_t garbage_lines;     /* client lines that are no SMTP command */
	uint64_t mails;
};

void bs_smtp_init(struct bs_smtp *p);
enum bs_smtp_err bs_smtp_feed(struct bs_smtp *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_smtp_gap(struct bs_smtp *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_smtp_end(struct bs_smtp *p, struct bs_proto_ctx *c);
const char *bs_smtp_strerror(enum bs_smtp_err e);
bool bs_smtp_sniff(int dir, const uint8_t *p, size_t n);

extern const struct bs_proto_def bs_proto_smtp;

#endif

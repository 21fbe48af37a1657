/* lineproto.h - what the line-based stream parsers (SMTP, IMAP, POP3, FTP)
 * have in common, after the shape of tcpdump's txtproto_print.
 *
 * Each of these parsers is a client that sends command lines and a server
 * that answers with reply lines, both fed in arbitrary segments. This layer
 * owns, in a fixed-size struct bs_lineproto per flow:
 *   - line framing per direction (struct bs_line: CR LF or LF, bounded
 *     buffer, longer lines truncated and counted, gaps resynchronised at the
 *     next LF), driven by bs_lineproto_feed() with the parser's hooks;
 *   - the bounded queue of commands awaiting a reply (struct bs_cmdq): in
 *     order (SMTP, POP3, FTP) or by tag (IMAP);
 *   - numeric reply codes ("250-...", "250 ...") and multi-line replies;
 *   - STARTTLS: the client's bytes are skipped until the server answers, the
 *     whole flow once the server accepts;
 *   - BS_EV_AUTH, the "not this protocol" test and the SASL user extraction.
 * What differs (the verbs, the replies' meaning, IMAP literals, SMTP content)
 * stays in each parser: its line hooks, its raw-byte hook, its command kinds.
 */
#ifndef BS_LINEPROTO_H
#define BS_LINEPROTO_H

#include "parsers/stream/proto.h"

/* ---- line assembler ---- */

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
/* A "." alone: the end of an SMTP message or of a POP3 multi-line response. */
bool bs_line_is_dot(const struct bs_line *l);

/* ---- small parsing helpers ---- */

bs_str bs_text_word(const char *p, size_t n, size_t *pos);   /* next space-separated word */
bs_str bs_text_rest(const char *p, size_t n, size_t pos);    /* rest after spaces */
void bs_text_copy(char *dst, size_t dst_size, size_t *dst_len, bs_str src);
/* "ddd", "ddd text" or "ddd-text" with a first digit 1 to 5: the code, and
 * in *sep the byte after it (' ', '-', or '\0' at the end); -1 otherwise. */
int bs_reply_code(const char *s, size_t n, char *sep);
/* A server's first line "220 ... keyword ...": SMTP and FTP greetings. */
bool bs_greeting_names(const uint8_t *p, size_t n, const char *keyword);

/* ---- SASL user extraction (SMTP, IMAP and POP3) ---- */

enum bs_sasl_mech { BS_SASL_NONE = 0, BS_SASL_PLAIN, BS_SASL_LOGIN, BS_SASL_CRAM_MD5, BS_SASL_OTHER };
#define BS_USER_MAX 256

struct bs_sasl {
	enum bs_sasl_mech mech;
	unsigned step;            /* client responses seen so far */
	char user[BS_USER_MAX];
	size_t user_len;
	char mech_name[24];
};

/* Begin an exchange with a mechanism name and an optional initial response
 * (none when initial is empty). */
void bs_sasl_start(struct bs_sasl *s, bs_str mech, bs_str initial);
/* One base64 client response line; takes the user name out of it when this
 * step carries it. The decoded password is wiped, never kept. */
void bs_sasl_response(struct bs_sasl *s, const char *line, size_t n);
/* A client line during the exchange: a response, or "*" (cancelled: the
 * server's error reply ends the exchange). */
void bs_sasl_client_line(struct bs_sasl *s, const struct bs_line *l);
/* Decode base64 (whitespace ignored); returns the length or -1. */
long bs_base64_decode(const char *in, size_t n, uint8_t *out, size_t out_size);

/* ---- commands awaiting a reply ---- */

#define BS_CMDQ_MAX 32
#define BS_CMD_TAG_MAX 32

struct bs_cmd {
	uint8_t kind;                  /* the parser's command enum */
	uint8_t tag_len;
	uint16_t arg;                  /* the parser's own (SMTP: recipient index) */
	char tag[BS_CMD_TAG_MAX];      /* IMAP: the tag its reply names */
};

/* A FIFO of at most cap (<= BS_CMDQ_MAX) commands, oldest first. */
struct bs_cmdq {
	struct bs_cmd q[BS_CMDQ_MAX];
	unsigned head, len, cap;
	uint64_t dropped;              /* commands pushed on a full queue */
};

/* Append a command; on a full queue the new one is dropped and counted (its
 * reply will be taken for a later command's: SMTP, POP3 and FTP pipelining
 * are shallow). Returns the entry, or NULL when dropped. */
struct bs_cmd *bs_cmdq_push(struct bs_cmdq *q, uint8_t kind, uint16_t arg);
/* Append a command; on a full queue the oldest is dropped and counted (a
 * tagged reply finds its command anywhere: IMAP). */
struct bs_cmd *bs_cmdq_push_evict(struct bs_cmdq *q, uint8_t kind, bs_str tag);
/* The oldest command, NULL when none. */
struct bs_cmd *bs_cmdq_head(struct bs_cmdq *q);
/* The newest command, NULL when none: a parser may fold a run of one kind into it. */
struct bs_cmd *bs_cmdq_tail(struct bs_cmdq *q);
/* Take the oldest command out into *out; false when none. */
bool bs_cmdq_pop(struct bs_cmdq *q, struct bs_cmd *out);
/* Take the oldest command with this tag out into *out; false when none. */
bool bs_cmdq_take_tag(struct bs_cmdq *q, bs_str tag, struct bs_cmd *out);
void bs_cmdq_clear(struct bs_cmdq *q);

/* ---- the per-flow layer ---- */

enum bs_lineproto_tls {
	BS_LINEPROTO_CLEAR = 0,        /* text both ways */
	BS_LINEPROTO_TLS_WAIT,         /* STARTTLS sent: the client's bytes are not text */
	BS_LINEPROTO_OPAQUE            /* TLS accepted: nothing more to read */
};

struct bs_lineproto {
	struct bs_line line[2];        /* [0] client, [1] server */
	struct bs_cmdq cmds;
	enum bs_lineproto_tls tls;
	int multiline_code;            /* FTP: the code of the open multi-line reply, 0 if none */
	enum bs_auth_proto auth_proto;
	bool greeted;                  /* the server spoke with no command pending */
	uint64_t lines_truncated;      /* lines longer than BS_TEXT_LINE_MAX, both ways */
	uint64_t garbage_lines;        /* lines that are no command or no reply */
	uint64_t logins;               /* BS_EV_AUTH emitted */
};

/* How multi-line numeric replies end. */
enum bs_reply_style {
	BS_REPLY_EVERY_LINE_CODED = 0, /* SMTP: "250-a" "250 b"; an uncoded line is garbage */
	BS_REPLY_UNTIL_SAME_CODE       /* FTP: "230-" then any text up to "230 " */
};

/* What a parser plugs into bs_lineproto_feed(). The line hooks get each whole
 * line of their direction (reset afterwards). A parser whose server answers
 * with numeric codes (SMTP, FTP) sets reply and reply_style instead of
 * server_line: reply gets the code and text of each final reply line (the
 * lines before it in a multi-line reply are skipped; a line that is no reply
 * is counted as garbage). raw, when not NULL, is
 * offered the bytes first: it returns how many it took as raw bytes (IMAP
 * literals, SMTP BDAT chunks; at least one when it takes any), 0 to have a
 * line framed. */
struct bs_lineproto_hooks {
	void (*client_line)(void *parser, const struct bs_proto_ctx *c, const struct bs_line *l);
	void (*server_line)(void *parser, const struct bs_proto_ctx *c, const struct bs_line *l);
	void (*reply)(void *parser, const struct bs_proto_ctx *c, int code, bs_str text);
	enum bs_reply_style reply_style;
	size_t (*raw)(void *parser, const struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
};

void bs_lineproto_init(struct bs_lineproto *lp, enum bs_auth_proto auth_proto, unsigned queue_cap);
/* Frame the bytes of one direction (0 client, 1 server) into lines for the
 * hooks. Returns false when the flow is, or became, opaque (TLS): the
 * remaining bytes are not text. */
bool bs_lineproto_feed(struct bs_lineproto *lp, const struct bs_lineproto_hooks *h, void *parser,
                       const struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
/* Bytes of a direction were lost: its partial line is dropped up to the next
 * LF, and replies can no longer be paired by order (queue and open
 * multi-line reply forgotten). */
void bs_lineproto_gap(struct bs_lineproto *lp, int dir);
/* No greeting, no result (logins or mails, as the parser counts them) and
 * 8 lines of garbage: the flow is not this protocol. */
bool bs_lineproto_foreign(const struct bs_lineproto *lp, uint64_t results);

/* The command a server reply answers: the oldest pending, or NULL for a
 * reply with nothing pending (a greeting: lp->greeted is set). */
struct bs_cmd *bs_lineproto_answered(struct bs_lineproto *lp);

/* STARTTLS (STLS, AUTH TLS) sent; then the server's answer to it. */
void bs_lineproto_starttls(struct bs_lineproto *lp);
void bs_lineproto_starttls_reply(struct bs_lineproto *lp, bool accepted);
/* The server accepted STARTTLS: the rest of the flow is encrypted. */
static inline bool bs_lineproto_encrypted(const struct bs_lineproto *lp) { return lp->tls == BS_LINEPROTO_OPAQUE; }

/* The same for the flow's protocol, counted in lp->logins. */
void bs_lineproto_emit_auth(struct bs_lineproto *lp, const struct bs_proto_ctx *c, bs_str user, bs_str method,
                            int success);
/* The same for a SASL exchange (user and mechanism from s), which ends it. */
void bs_lineproto_emit_sasl(struct bs_lineproto *lp, const struct bs_proto_ctx *c, struct bs_sasl *s, int success);

/* The bs_proto_def adapters (def_init, def_feed, def_gap, def_end,
 * def_strerror) of a module whose API is bs_X_init/feed/gap/end/strerror. */
#define BS_PROTO_ADAPTERS(X) \
	static void def_init(void *s) { bs_##X##_init(s); } \
	static int def_feed(void *s, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n) \
	{ return (int)bs_##X##_feed(s, c, dir, p, n); } \
	static void def_gap(void *s, struct bs_proto_ctx *c, int dir, uint64_t n) { bs_##X##_gap(s, c, dir, n); } \
	static void def_end(void *s, struct bs_proto_ctx *c) { bs_##X##_end(s, c); } \
	static const char *def_strerror(int e) { return bs_##X##_strerror((enum bs_##X##_err)e); }

#endif

/* smtp.c - SMTP stream parser.
 *
 * Both directions are fed independently in capture order, framed into lines
 * by lineproto.h. The client side is a state machine (commands, SASL
 * responses, message content, BDAT chunks read by count); the server side
 * pairs each final reply line with the oldest pending command. Everything
 * lives in the fixed-size struct bs_smtp: recipients go to a fixed pool.
 */
#include <stdlib.h>
#include <string.h>
#include "parsers/stream/smtp.h"

static bool is_space(char ch) { return ch == ' ' || ch == '\t'; }

void bs_smtp_init(struct bs_smtp *p)
{
	memset(p, 0, sizeof *p);
	bs_lineproto_init(&p->lp, BS_AUTH_SMTP, BS_SMTP_QUEUE);
	p->cstate = BS_SMTP_C_CMD;
}

static void txn_reset(struct bs_smtp *p)
{
	p->txn = false;
	p->mail_ok = false;
	p->mail_refused = false;
	p->sender_len = 0;
	p->nested_sender_len = 0;
	p->rcpt_pool_len = 0;
	p->nrcpt = 0;
	p->rcpt_answered = 0;
	p->in_headers = false;
	p->hdr_kind = 0;
	p->message_id_len = 0;
	p->size = 0;
	p->data_done = false;
	p->bdat_started = false;
	p->reject_len = 0;
}

static void queue_push(struct bs_smtp *p, enum bs_smtp_cmd cmd, uint16_t rcpt)
{
	bs_cmdq_push(&p->lp.cmds, (uint8_t)cmd, rcpt);
}

/* "FROM:<a@b> SIZE=10" -> "a@b"; also accepts a missing space or brackets. */
static bs_str smtp_path(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	if (!colon)
		return BS_STR_NULL;
	size_t i = (size_t)(colon - s) + 1;
	while (i < n && is_space(s[i]))
		i++;
	if (i < n && s[i] == '<') {
		const char *gt = memchr(s + i + 1, '>', n - i - 1);
		size_t end = gt ? (size_t)(gt - s) : n;
		return bs_str_make(s + i + 1, end - i - 1);
	}
	size_t start = i;
	while (i < n && !is_space(s[i]))
		i++;
	return bs_str_make(s + start, i - start);
}

/* Room for one more recipient of n bytes: the store doubles (once per
 * flow it reaches a size). */
static void rcpt_room(struct bs_smtp *p, size_t n)
{
	if (p->nrcpt == p->rcpt_cap) {
		size_t cap = p->rcpt_cap ? p->rcpt_cap * 2 : 16;
		p->rcpt = bs_xrealloc(p->rcpt, cap * sizeof *p->rcpt);
		p->ev_rcpts = bs_xrealloc(p->ev_rcpts, cap * sizeof *p->ev_rcpts);
		p->ev_status = bs_xrealloc(p->ev_status, cap * sizeof *p->ev_status);
		p->rcpt_cap = cap;
	}
	if (p->rcpt_pool_len + n > p->pool_cap || !p->rcpt_pool) { /* empty addresses point into it too */
		size_t cap = p->pool_cap ? p->pool_cap : 1024;
		while (cap < p->rcpt_pool_len + n)
			cap *= 2;
		p->rcpt_pool = bs_xrealloc(p->rcpt_pool, cap);
		p->pool_cap = cap;
	}
}

size_t bs_smtp_held_bytes(const struct bs_smtp *p)
{
	return p->rcpt_cap * (sizeof *p->rcpt + sizeof *p->ev_rcpts + sizeof *p->ev_status) + p->pool_cap;
}

static void add_rcpt(struct bs_smtp *p, bs_str a)
{
	if (a.n > BS_SMTP_ADDR_MAX)
		a.n = BS_SMTP_ADDR_MAX;
	p->txn = true; /* a RCPT whose MAIL the capture missed is a transaction too */
	rcpt_room(p, a.n);
	if (a.n) /* "RCPT TO" without an address: an empty recipient, and no copy from NULL */
		memcpy(p->rcpt_pool + p->rcpt_pool_len, a.p, a.n);
	p->rcpt[p->nrcpt] = (struct bs_smtp_rcpt){ p->rcpt_pool_len, (uint16_t)a.n, -1 };
	p->rcpt_pool_len += a.n;
	struct bs_cmd *last = bs_cmdq_tail(&p->lp.cmds);
	if (last && last->kind == BS_SMTP_CMD_RCPT && last->arg < UINT16_MAX)
		last->arg++;
	else
		queue_push(p, BS_SMTP_CMD_RCPT, 1);
	p->nrcpt++;
}

/* The result of AUTH; a success names the user of the mails that follow. */
static void emit_auth(struct bs_smtp *p, const struct bs_proto_ctx *c, int success)
{
	if (success == 1) {
		memcpy(p->sasl_user, p->sasl.user, p->sasl.user_len);
		p->sasl_user_len = p->sasl.user_len;
	}
	bs_lineproto_emit_sasl(&p->lp, c, &p->sasl, success);
}

/* One BS_EV_MAIL for the transaction whose content just ended; reply is the
 * final reply line to the end of data, or empty when none was seen. */
static void emit_mail(struct bs_smtp *p, const struct bs_proto_ctx *c, int code, bs_str reply)
{
	struct bs_event ev;
	bs_proto_event(c, &ev, BS_EV_MAIL);
	struct bs_ev_mail *m = &ev.u.mail;
	for (size_t i = 0; i < p->nrcpt; i++) {
		p->ev_rcpts[i] = bs_str_make(p->rcpt_pool + p->rcpt[i].off, p->rcpt[i].len);
		p->ev_status[i] = p->rcpt[i].ok > 0 ? BS_STR_LIT("accepted")
		                : p->rcpt[i].ok == 0 ? BS_STR_LIT("rejected") : BS_STR_LIT("");
	}
	m->rcpts = p->ev_rcpts;
	m->rcpt_status = p->ev_status;
	m->nrcpt = p->nrcpt < BS_MAIL_MAX_RCPT ? p->nrcpt : BS_MAIL_MAX_RCPT;
	m->sender = bs_str_make(p->sender, p->sender_len);
	m->sasl_user = bs_str_make(p->sasl_user, p->sasl_user_len);
	m->message_id = bs_str_make(p->message_id, p->message_id_len);
	m->size = p->size;
	m->local_uid = -1;
	m->client_name = bs_str_make(p->helo, p->helo_len);
	if (code >= 400) {
		m->rejected = true;
		m->reject_reason = reply;
	} else if (code >= 200) {
		/* Postfix: "250 2.0.0 Ok: queued as 3F2A81C2B4"; others: "... id=X" */
		const char *q = bs_memmem_ci(reply.p, reply.n, "queued as ", 10);
		if (q) {
			size_t pos = (size_t)(q - reply.p) + 10;
			m->queue_id = bs_text_word(reply.p, reply.n, &pos);
		}
	}
	p->mails++;
	bs_emit(c->sink, &ev);
	/* more recipients: further parts, each with the message's fields */
	for (size_t from = BS_MAIL_MAX_RCPT; from < p->nrcpt; from += BS_MAIL_MAX_RCPT) {
		m->part++;
		m->rcpts = p->ev_rcpts + from;
		m->rcpt_status = p->ev_status + from;
		m->nrcpt = p->nrcpt - from < BS_MAIL_MAX_RCPT ? p->nrcpt - from : BS_MAIL_MAX_RCPT;
		bs_emit(c->sink, &ev);
	}
}

/* A transaction that ends without a message (MAIL or every recipient
 * refused, DATA refused, RSET, QUIT, a new MAIL): reported as a rejected
 * mail with what was seen of it, because refused spam runs are evidence too. */
static void txn_abandon(struct bs_smtp *p, const struct bs_proto_ctx *c)
{
	if (p->txn && !p->data_done)
		emit_mail(p, c, 554, bs_str_make(p->reject_text, p->reject_len));
	txn_reset(p);
}

/* The reason a transaction failed: the last refusal of RCPT or DATA, or the
 * refusal of its MAIL, which the 503s that follow would only hide. */
static void keep_reject(struct bs_smtp *p, int code, bs_str text)
{
	if (code >= 400 && !p->mail_refused)
		bs_text_copy(p->reject_text, sizeof p->reject_text, &p->reject_len, text);
}

static void header_line(struct bs_smtp *p, const struct bs_proto_ctx *c, const char *s, size_t n)
{
	if (n == 0) {
		p->in_headers = false;
		return;
	}
	if (is_space(s[0])) {
		/* folded continuation of the previous header */
		if (p->hdr_kind == 1)
			bs_proto_emit_addrs(c, BS_ADDR_SMTP_HEADER, 0, false, BS_STR_NULL, s, n);
		return;
	}
	const char *colon = memchr(s, ':', n);
	p->hdr_kind = 0;
	if (!colon)
		return;
	bs_str name = bs_str_make(s, (size_t)(colon - s));
	bs_str value = bs_text_rest(s, n, (size_t)(colon - s) + 1);
	if (bs_str_ieq(name, "From") || bs_str_ieq(name, "To") || bs_str_ieq(name, "Cc")) {
		p->hdr_kind = 1;
		bs_proto_emit_addrs(c, BS_ADDR_SMTP_HEADER, 0, false, BS_STR_NULL, value.p, value.n);
	} else if (bs_str_ieq(name, "Message-ID") && p->message_id_len == 0) {
		bs_text_copy(p->message_id, sizeof p->message_id, &p->message_id_len, value);
	}
}

static void data_line(struct bs_smtp *p, const struct bs_proto_ctx *c, const struct bs_line *l)
{
	const char *s = l->buf;
	size_t n = l->len;
	if (bs_line_is_dot(l)) {
		p->cstate = BS_SMTP_C_CMD;
		p->data_done = true;
		queue_push(p, BS_SMTP_CMD_DATA_END, 0);
		return;
	}
	uint64_t size = l->total;
	if (n > 0 && s[0] == '.') { /* dot-stuffing */
		s++;
		n--;
		size--;
	}
	p->size += size;
	if (p->in_headers)
		header_line(p, c, s, n);
}

static void start_data(struct bs_smtp *p)
{
	p->cstate = BS_SMTP_C_DATA;
	p->in_headers = true;
	p->hdr_kind = 0;
	p->size = 0;
	p->message_id_len = 0;
}

/* A content line of a BDAT chunk: no dot-stuffing, no terminator. */
static void bdat_line(struct bs_smtp *p, const struct bs_proto_ctx *c, const struct bs_line *l)
{
	if (p->in_headers)
		header_line(p, c, l->buf, l->len);
}

static void bdat_chunk_end(struct bs_smtp *p, const struct bs_proto_ctx *c, bool flush_partial)
{
	/* a line cut by the chunk boundary is taken as it is (headers seldom are) */
	struct bs_line *cline = &p->lp.line[0];
	if (flush_partial && cline->total > 0)
		bdat_line(p, c, cline);
	/* the next command starts here, even when a gap left the line skipping */
	bs_line_reset(cline);
	cline->skip_partial = false;
	p->cstate = BS_SMTP_C_CMD;
	if (p->bdat_last) {
		p->data_done = true;
		queue_push(p, BS_SMTP_CMD_DATA_END, 0);
	} else {
		queue_push(p, BS_SMTP_CMD_OTHER, 0);
	}
}

static void client_command(struct bs_smtp *p, const struct bs_proto_ctx *c, const char *s, size_t n)
{
	size_t pos = 0;
	bs_str verb = bs_text_word(s, n, &pos);
	if (bs_str_ieq(verb, "EHLO") || bs_str_ieq(verb, "HELO")) {
		bs_text_copy(p->helo, sizeof p->helo, &p->helo_len, bs_text_word(s, n, &pos));
		queue_push(p, BS_SMTP_CMD_HELO, 0);
	} else if (bs_str_ieq(verb, "MAIL")) {
		/* a MAIL pipelined behind the end of data: the previous message
		 * is reported now, without the queue id of its reply */
		if (p->data_done) {
			emit_mail(p, c, 0, BS_STR_NULL);
			txn_reset(p);
		}
		bs_str a = smtp_path(s, n);
		if (p->txn && p->mail_ok) {
			/* nested MAIL: the reply (503) decides, the transaction stays */
			bs_text_copy(p->nested_sender, sizeof p->nested_sender, &p->nested_sender_len, a);
			queue_push(p, BS_SMTP_CMD_MAIL, 1);
			return;
		}
		txn_abandon(p, c);
		p->txn = true;
		bs_text_copy(p->sender, sizeof p->sender, &p->sender_len, a);
		queue_push(p, BS_SMTP_CMD_MAIL, 0);
	} else if (bs_str_ieq(verb, "RCPT")) {
		add_rcpt(p, smtp_path(s, n));
	} else if (bs_str_ieq(verb, "DATA")) {
		queue_push(p, BS_SMTP_CMD_DATA, 0);
		p->cstate = BS_SMTP_C_DATA_WAIT;
	} else if (bs_str_ieq(verb, "AUTH")) {
		bs_str mech = bs_text_word(s, n, &pos);
		bs_sasl_start(&p->sasl, mech, bs_text_word(s, n, &pos));
		queue_push(p, BS_SMTP_CMD_AUTH, 0);
		p->cstate = BS_SMTP_C_SASL;
	} else if (bs_str_ieq(verb, "STARTTLS")) {
		queue_push(p, BS_SMTP_CMD_STARTTLS, 0);
		bs_lineproto_starttls(&p->lp);
	} else if (bs_str_ieq(verb, "RSET")) {
		txn_abandon(p, c);
		queue_push(p, BS_SMTP_CMD_RSET, 0);
	} else if (bs_str_ieq(verb, "BDAT")) {
		bs_str size = bs_text_word(s, n, &pos);
		uint64_t k = 0;
		bool good = size.n > 0 && size.n <= 15;
		for (size_t i = 0; good && i < size.n; i++) {
			good = size.p[i] >= '0' && size.p[i] <= '9';
			k = k * 10 + (uint64_t)(size.p[i] - '0');
		}
		if (!good) {
			queue_push(p, BS_SMTP_CMD_OTHER, 0);
			return;
		}
		if (!p->bdat_started) {
			start_data(p);
			p->bdat_started = true;
		}
		p->bdat_last = bs_str_ieq(bs_text_word(s, n, &pos), "LAST");
		p->bdat_left = k;
		p->cstate = BS_SMTP_C_BDAT;
		if (k == 0)
			bdat_chunk_end(p, c, false);
	} else if (bs_str_ieq(verb, "QUIT")) {
		if (!p->data_done)
			txn_abandon(p, c);
		queue_push(p, BS_SMTP_CMD_QUIT, 0);
	} else {
		bool alpha = verb.n >= 3 && verb.n <= 12;
		for (size_t i = 0; alpha && i < verb.n; i++)
			alpha = (verb.p[i] | 0x20) >= 'a' && (verb.p[i] | 0x20) <= 'z';
		if (!alpha)
			p->lp.garbage_lines++;
		queue_push(p, BS_SMTP_CMD_OTHER, 0);
	}
}

static void client_line(void *parser, const struct bs_proto_ctx *c, const struct bs_line *l)
{
	struct bs_smtp *p = parser;
	switch (p->cstate) {
	case BS_SMTP_C_DATA_WAIT:
		/* The client only sends content after 354; when its bytes come
		 * first in the capture, the 354 is taken for granted. */
		start_data(p);
		/* fall through */
	case BS_SMTP_C_DATA:
		data_line(p, c, l);
		return;
	case BS_SMTP_C_SASL:
		bs_sasl_client_line(&p->sasl, l);
		return;
	case BS_SMTP_C_CMD:
		client_command(p, c, l->buf, l->len);
		return;
	default:
		return;
	}
}

static void server_reply(void *parser, const struct bs_proto_ctx *c, int code, bs_str text)
{
	struct bs_smtp *p = parser;
	struct bs_cmd *pending = bs_lineproto_answered(&p->lp);
	if (!pending)
		return;
	if (pending->kind == BS_SMTP_CMD_AUTH && code == 334)
		return; /* SASL challenge: the exchange goes on */
	if (pending->kind == BS_SMTP_CMD_RCPT) {
		if (p->rcpt_answered < p->nrcpt)
			p->rcpt[p->rcpt_answered++].ok = code < 400 ? 1 : 0;
		keep_reject(p, code, text);
		if (--pending->arg) /* more RCPTs of the run wait for theirs */
			return;
	}
	struct bs_cmd cmd;
	bs_cmdq_pop(&p->lp.cmds, &cmd);
	switch (cmd.kind) {
	case BS_SMTP_CMD_AUTH:
		emit_auth(p, c, code >= 200 && code < 300 ? 1 : 0);
		if (p->cstate == BS_SMTP_C_SASL)
			p->cstate = BS_SMTP_C_CMD;
		break;
	case BS_SMTP_CMD_MAIL:
		if (cmd.arg == 1 && code < 400) {
			/* a server that restarts the transaction: the new sender, and
			 * the recipients stay (they were pipelined behind it) */
			memcpy(p->sender, p->nested_sender, p->nested_sender_len);
			p->sender_len = p->nested_sender_len;
		} else if (cmd.arg == 0) {
			keep_reject(p, code, text);
			p->mail_ok = code < 400;
			p->mail_refused = code >= 400;
		}
		p->nested_sender_len = 0;
		break;
	case BS_SMTP_CMD_RCPT: /* answered above */
		break;
	case BS_SMTP_CMD_DATA:
		if (code == 354) {
			if (p->cstate == BS_SMTP_C_DATA_WAIT)
				start_data(p);
		} else {
			if (p->cstate == BS_SMTP_C_DATA_WAIT || p->cstate == BS_SMTP_C_DATA)
				p->cstate = BS_SMTP_C_CMD;
			keep_reject(p, code, text);
			if (code >= 400)
				txn_abandon(p, c);
		}
		break;
	case BS_SMTP_CMD_DATA_END:
		if (p->data_done)
			emit_mail(p, c, code, text);
		txn_reset(p);
		break;
	case BS_SMTP_CMD_STARTTLS:
		bs_lineproto_starttls_reply(&p->lp, code == 220);
		break;
	default:
		break;
	}
}

/* The bytes of a BDAT chunk are content read by count, not lines. */
static size_t bdat_bytes(void *parser, const struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	struct bs_smtp *p = parser;
	if (dir != 0 || p->cstate != BS_SMTP_C_BDAT)
		return 0;
	struct bs_line *l = &p->lp.line[0];
	size_t k = p->bdat_left < n ? (size_t)p->bdat_left : n;
	bool complete;
	size_t t = bs_line_take(l, b, k, &complete);
	p->bdat_left -= t;
	p->size += t; /* chunks are counted as sent: no dot-stuffing */
	if (complete) {
		bdat_line(p, c, l);
		bs_line_reset(l);
	}
	if (p->bdat_left == 0)
		bdat_chunk_end(p, c, true);
	return t;
}

static const struct bs_lineproto_hooks smtp_hooks = {
	.client_line = client_line, .raw = bdat_bytes,
	.reply = server_reply, .reply_style = BS_REPLY_EVERY_LINE_CODED,
};

enum bs_smtp_err bs_smtp_feed(struct bs_smtp *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	/* A flow that never looked like SMTP is handed back to the dispatcher. */
	if (bs_lineproto_feed(&p->lp, &smtp_hooks, p, c, dir, b, n) && bs_lineproto_foreign(&p->lp, p->mails))
		return BS_SMTP_ERR_NOT_SMTP;
	return BS_SMTP_OK;
}

void bs_smtp_gap(struct bs_smtp *p, struct bs_proto_ctx *c, int dir, uint64_t n)
{
	if (dir == 0 && p->cstate == BS_SMTP_C_BDAT && n <= p->bdat_left) {
		/* the bytes lost were inside a chunk, up to its end at most:
		 * still in step, and the reply to the chunk pairs as usual */
		p->bdat_left -= n;
		p->size += n;
		bs_line_gap(&p->lp.line[0]);
		if (p->bdat_left == 0)
			bdat_chunk_end(p, c, false);
		return;
	}
	if (dir == 0 && p->cstate == BS_SMTP_C_BDAT) {
		/* the end of the chunk was lost with what followed: the content
		 * of a LAST chunk is over all the same, and the message is reported
		 * (its reply can no longer be paired: status unknown, not rejected) */
		p->size += p->bdat_left;
		p->bdat_left = 0;
		p->cstate = BS_SMTP_C_CMD;
		if (p->bdat_last)
			p->data_done = true;
	}
	bs_lineproto_gap(&p->lp, dir);
	if (p->cstate == BS_SMTP_C_SASL || p->cstate == BS_SMTP_C_DATA_WAIT)
		p->cstate = BS_SMTP_C_CMD;
}

void bs_smtp_end(struct bs_smtp *p, struct bs_proto_ctx *c)
{
	/* results whose reply the capture did not hold */
	const struct bs_cmd *pending = bs_cmdq_head(&p->lp.cmds);
	if (p->sasl.mech != BS_SASL_NONE && pending && pending->kind == BS_SMTP_CMD_AUTH)
		emit_auth(p, c, -1);
	if (p->data_done)
		emit_mail(p, c, 0, BS_STR_NULL);
	txn_abandon(p, c);
	bs_cmdq_clear(&p->lp.cmds);
	free(p->rcpt);
	free(p->rcpt_pool);
	free(p->ev_rcpts);
	free(p->ev_status);
	p->rcpt = NULL;
	p->rcpt_pool = NULL;
	p->ev_rcpts = p->ev_status = NULL;
	p->rcpt_cap = p->pool_cap = 0;
}

const char *bs_smtp_strerror(enum bs_smtp_err e)
{
	switch (e) {
	case BS_SMTP_OK: return "ok";
	case BS_SMTP_ERR_NOT_SMTP: return "not SMTP: no reply codes and no commands";
	}
	return "unknown SMTP error";
}

bool bs_smtp_sniff(int dir, const uint8_t *p, size_t n)
{
	bs_str s = bs_str_make((const char *)p, n);
	if (dir == 0)
		return bs_str_istarts(s, "EHLO ") || bs_str_istarts(s, "HELO ");
	return bs_greeting_names(p, n, "SMTP");
}

BS_PROTO_ADAPTERS(smtp)

static size_t def_held_bytes(const void *state) { return bs_smtp_held_bytes(state); }

static bool def_encrypted(const void *state) { return bs_lineproto_encrypted(&((const struct bs_smtp *)state)->lp); }

const struct bs_proto_def bs_proto_smtp = {
	.name = "smtp", .ports = { 25, 587, 0 }, .sniff = bs_smtp_sniff, .state_size = sizeof(struct bs_smtp),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.held_bytes = def_held_bytes, .udp = false,
	.encrypted = def_encrypted,
};

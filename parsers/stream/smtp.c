/* smtp.c - SMTP stream parser, and the line/SASL helpers of the text protocols.
 *
 * Both directions are fed independently in capture order. The client side
 * is a state machine (commands, SASL responses, message content); the
 * server side pairs each final reply line with the oldest pending command.
 * Everything lives in the fixed-size struct bs_smtp: recipients go to a
 * fixed pool, longer lines are truncated and counted.
 */
#include <string.h>
#include "parsers/stream/smtp.h"

/* ---------------------------------------------------------------- lines */

void bs_line_reset(struct bs_line *l)
{
	l->len = 0;
	l->total = 0;
	l->tail_len = 0;
	l->truncated = false;
}

void bs_line_gap(struct bs_line *l)
{
	bs_line_reset(l);
	l->skip_partial = true;
}

/* Keep the first BS_TEXT_LINE_MAX bytes in buf and the last BS_TEXT_LINE_TAIL of the
 * overflow in tail. */
static void line_append(struct bs_line *l, const uint8_t *p, size_t n)
{
	size_t room = BS_TEXT_LINE_MAX - l->len;
	size_t k = n < room ? n : room;
	memcpy(l->buf + l->len, p, k);
	l->len += k;
	p += k;
	n -= k;
	if (n == 0)
		return;
	l->truncated = true;
	if (n >= BS_TEXT_LINE_TAIL) {
		memcpy(l->tail, p + n - BS_TEXT_LINE_TAIL, BS_TEXT_LINE_TAIL);
		l->tail_len = BS_TEXT_LINE_TAIL;
		return;
	}
	if (l->tail_len + n > BS_TEXT_LINE_TAIL) {
		size_t drop = l->tail_len + n - BS_TEXT_LINE_TAIL;
		memmove(l->tail, l->tail + drop, l->tail_len - drop);
		l->tail_len -= drop;
	}
	memcpy(l->tail + l->tail_len, p, n);
	l->tail_len += n;
}

size_t bs_line_take(struct bs_line *l, const uint8_t *p, size_t n, bool *complete)
{
	const uint8_t *lf = memchr(p, '\n', n);
	size_t take = lf ? (size_t)(lf - p) + 1 : n;

	*complete = false;
	if (l->skip_partial) {
		if (lf)
			l->skip_partial = false;
		return take;
	}
	l->total += take;
	line_append(l, p, lf ? take - 1 : take);
	if (lf) {
		/* strip the CR of CR LF wherever the last byte was kept */
		if (l->truncated) {
			if (l->tail_len > 0 && l->tail[l->tail_len - 1] == '\r')
				l->tail_len--;
		} else if (l->len > 0 && l->buf[l->len - 1] == '\r') {
			l->len--;
		}
		*complete = true;
	}
	return take;
}

bs_str bs_line_end(const struct bs_line *l)
{
	if (!l->truncated)
		return bs_str_make(l->buf, l->len);
	return bs_str_make(l->tail, l->tail_len);
}

/* --------------------------------------------------------------- text */

static bool is_space(char ch) { return ch == ' ' || ch == '\t'; }

bs_str bs_text_word(const char *p, size_t n, size_t *pos)
{
	size_t i = *pos;
	while (i < n && is_space(p[i]))
		i++;
	size_t start = i;
	while (i < n && !is_space(p[i]))
		i++;
	*pos = i;
	return bs_str_make(p + start, i - start);
}

bs_str bs_text_rest(const char *p, size_t n, size_t pos)
{
	while (pos < n && is_space(p[pos]))
		pos++;
	size_t end = n;
	while (end > pos && is_space(p[end - 1]))
		end--;
	return bs_str_make(p + pos, end - pos);
}

void bs_text_copy(char *dst, size_t dst_size, size_t *dst_len, bs_str src)
{
	size_t k = src.n < dst_size ? src.n : dst_size;
	if (k)
		memcpy(dst, src.p, k);
	*dst_len = k;
}

/* --------------------------------------------------------------- SASL */

static int b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z') return ch - 'A';
	if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9') return ch - '0' + 52;
	if (ch == '+') return 62;
	if (ch == '/') return 63;
	return -1;
}

long bs_base64_decode(const char *in, size_t n, uint8_t *out, size_t out_size)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch == '=')
			break;
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		int v = b64_value(ch);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= out_size)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)o;
}

void bs_sasl_start(struct bs_sasl *s, const char *mech, size_t mech_len,
                   const char *initial, size_t initial_len, bool has_initial)
{
	bs_str m = bs_str_make(mech, mech_len);
	memset(s, 0, sizeof *s);
	bs_text_copy(s->mech_name, sizeof s->mech_name - 1, &mech_len, m);
	s->mech_name[mech_len] = '\0';
	for (size_t i = 0; i < mech_len; i++)
		if (s->mech_name[i] >= 'a' && s->mech_name[i] <= 'z')
			s->mech_name[i] = (char)(s->mech_name[i] - 'a' + 'A');
	if (bs_str_ieq(m, "PLAIN"))
		s->mech = BS_SASL_PLAIN;
	else if (bs_str_ieq(m, "LOGIN"))
		s->mech = BS_SASL_LOGIN;
	else if (bs_str_ieq(m, "CRAM-MD5"))
		s->mech = BS_SASL_CRAM_MD5;
	else
		s->mech = BS_SASL_OTHER;
	/* "=" is an empty initial response (RFC 4954) */
	if (has_initial && !(initial_len == 1 && initial[0] == '='))
		bs_sasl_response(s, initial, initial_len);
	else if (has_initial)
		s->step++;
}

static void sasl_set_user(struct bs_sasl *s, const uint8_t *p, size_t n)
{
	if (n > BS_USER_MAX)
		n = BS_USER_MAX;
	memcpy(s->user, p, n);
	s->user_len = n;
}

void bs_sasl_response(struct bs_sasl *s, const char *line, size_t n)
{
	uint8_t dec[768];
	unsigned step = s->step++;
	long k = bs_base64_decode(line, n, dec, sizeof dec);
	if (k < 0)
		return;
	size_t len = (size_t)k;
	switch (s->mech) {
	case BS_SASL_PLAIN: {
		/* authzid NUL authcid NUL passwd: the user is authcid (authzid if empty) */
		const uint8_t *nul1 = memchr(dec, 0, len);
		if (!nul1)
			break;
		const uint8_t *authc = nul1 + 1;
		const uint8_t *nul2 = memchr(authc, 0, len - (size_t)(authc - dec));
		if (!nul2)
			break;
		if (nul2 > authc)
			sasl_set_user(s, authc, (size_t)(nul2 - authc));
		else
			sasl_set_user(s, dec, (size_t)(nul1 - dec));
		break;
	}
	case BS_SASL_LOGIN:
		if (step == 0)
			sasl_set_user(s, dec, len);
		break;
	case BS_SASL_CRAM_MD5: {
		/* "user hexdigest" */
		const uint8_t *sp = memchr(dec, ' ', len);
		sasl_set_user(s, dec, sp ? (size_t)(sp - dec) : len);
		break;
	}
	default:
		break;
	}
	/* the decoded bytes held the password: do not leave it on the stack */
	memset(dec, 0, sizeof dec);
}

/* ---------------------------------------------------------------- SMTP */

void bs_smtp_init(struct bs_smtp *p)
{
	memset(p, 0, sizeof *p);
	p->cstate = BS_SMTP_C_CMD;
}

static void txn_reset(struct bs_smtp *p)
{
	p->txn = false;
	p->sender_len = 0;
	p->rcpt_pool_len = 0;
	p->nrcpt = 0;
	p->rcpts_dropped = 0;
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
	if (p->qlen == BS_SMTP_QUEUE) {
		p->queue_dropped++;
		return;
	}
	struct bs_smtp_pending *e = &p->queue[(p->qhead + p->qlen) % BS_SMTP_QUEUE];
	e->cmd = (uint8_t)cmd;
	e->rcpt = rcpt;
	p->qlen++;
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

static void add_rcpt(struct bs_smtp *p, bs_str a)
{
	if (a.n > BS_SMTP_ADDR_MAX)
		a.n = BS_SMTP_ADDR_MAX;
	if (p->nrcpt == BS_SMTP_RCPT_MAX || p->rcpt_pool_len + a.n > BS_SMTP_RCPT_POOL) {
		p->rcpts_dropped++;
		queue_push(p, BS_SMTP_CMD_RCPT, UINT16_MAX);
		return;
	}
	if (a.n) /* "RCPT TO" without an address: an empty recipient, and no copy from NULL */
		memcpy(p->rcpt_pool + p->rcpt_pool_len, a.p, a.n);
	p->rcpt_off[p->nrcpt] = (uint16_t)p->rcpt_pool_len;
	p->rcpt_len[p->nrcpt] = (uint16_t)a.n;
	p->rcpt_ok[p->nrcpt] = -1;
	p->rcpt_pool_len += a.n;
	queue_push(p, BS_SMTP_CMD_RCPT, (uint16_t)p->nrcpt);
	p->nrcpt++;
}

static void emit_auth(struct bs_smtp *p, const struct bs_proto_ctx *c, int success)
{
	struct bs_event ev;
	bs_proto_event(c, &ev, BS_EV_AUTH);
	ev.u.auth.proto = BS_AUTH_SMTP;
	ev.u.auth.user = bs_str_make(p->sasl.user, p->sasl.user_len);
	ev.u.auth.method = bs_str_make(p->sasl.mech_name, strlen(p->sasl.mech_name));
	ev.u.auth.success = success;
	bs_emit(c->sink, &ev);
	if (success == 1) {
		memcpy(p->sasl_user, p->sasl.user, p->sasl.user_len);
		p->sasl_user_len = p->sasl.user_len;
	}
	p->sasl.mech = BS_SASL_NONE;
}

/* One BS_EV_MAIL for the transaction whose content just ended; reply is the
 * final reply line to the end of data, or empty when none was seen. */
static void emit_mail(struct bs_smtp *p, const struct bs_proto_ctx *c, int code, bs_str reply)
{
	bs_str rcpts[BS_SMTP_RCPT_MAX], status[BS_SMTP_RCPT_MAX];
	struct bs_event ev;
	bs_proto_event(c, &ev, BS_EV_MAIL);
	struct bs_ev_mail *m = &ev.u.mail;
	for (size_t i = 0; i < p->nrcpt; i++) {
		rcpts[i] = bs_str_make(p->rcpt_pool + p->rcpt_off[i], p->rcpt_len[i]);
		status[i] = p->rcpt_ok[i] > 0 ? BS_STR_LIT("accepted")
		          : p->rcpt_ok[i] == 0 ? BS_STR_LIT("rejected") : BS_STR_LIT("");
	}
	m->rcpts = rcpts;
	m->rcpt_status = status;
	m->nrcpt = p->nrcpt;
	m->rcpts_dropped = p->rcpts_dropped;
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
}

/* A transaction with recipients that ends without a message (every
 * recipient refused, DATA refused, RSET, QUIT, a new MAIL): reported as a
 * rejected mail, because refused spam runs are evidence too. */
static void txn_abandon(struct bs_smtp *p, const struct bs_proto_ctx *c)
{
	if (p->txn && !p->data_done && p->nrcpt > 0)
		emit_mail(p, c, 554, bs_str_make(p->reject_text, p->reject_len));
	txn_reset(p);
}

static void keep_reject(struct bs_smtp *p, int code, bs_str text)
{
	if (code >= 400)
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
	if (n == 1 && s[0] == '.' && !l->truncated) {
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
	if (flush_partial && p->cline.total > 0) {
		bdat_line(p, c, &p->cline);
		bs_line_reset(&p->cline);
	}
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
		if (p->data_done)
			emit_mail(p, c, 0, BS_STR_NULL);
		txn_abandon(p, c);
		p->txn = true;
		bs_str a = smtp_path(s, n);
		bs_text_copy(p->sender, sizeof p->sender, &p->sender_len, a);
		queue_push(p, BS_SMTP_CMD_MAIL, 0);
	} else if (bs_str_ieq(verb, "RCPT")) {
		add_rcpt(p, smtp_path(s, n));
	} else if (bs_str_ieq(verb, "DATA")) {
		queue_push(p, BS_SMTP_CMD_DATA, 0);
		p->cstate = BS_SMTP_C_DATA_WAIT;
	} else if (bs_str_ieq(verb, "AUTH")) {
		bs_str mech = bs_text_word(s, n, &pos);
		bs_str init = bs_text_word(s, n, &pos);
		bs_sasl_start(&p->sasl, mech.p, mech.n, init.p, init.n, init.n > 0);
		queue_push(p, BS_SMTP_CMD_AUTH, 0);
		p->cstate = BS_SMTP_C_SASL;
	} else if (bs_str_ieq(verb, "STARTTLS")) {
		queue_push(p, BS_SMTP_CMD_STARTTLS, 0);
		p->cstate = BS_SMTP_C_TLS_WAIT;
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
			p->garbage_lines++;
		queue_push(p, BS_SMTP_CMD_OTHER, 0);
	}
}

static void client_line(struct bs_smtp *p, const struct bs_proto_ctx *c, const struct bs_line *l)
{
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
		if (l->len == 1 && l->buf[0] == '*')
			return; /* cancelled: the 501 reply ends the exchange */
		bs_sasl_response(&p->sasl, l->buf, l->len);
		return;
	case BS_SMTP_C_CMD:
		if (l->truncated)
			p->lines_truncated++;
		client_command(p, c, l->buf, l->len);
		return;
	default:
		return;
	}
}

static void server_reply(struct bs_smtp *p, const struct bs_proto_ctx *c, int code, bs_str text)
{
	if (p->qlen == 0) {
		p->greeted = true; /* the greeting, or an unsolicited 421 */
		return;
	}
	struct bs_smtp_pending *e = &p->queue[p->qhead];
	if (e->cmd == BS_SMTP_CMD_AUTH && code == 334)
		return; /* SASL challenge: the exchange goes on */
	p->qhead = (p->qhead + 1) % BS_SMTP_QUEUE;
	p->qlen--;
	switch (e->cmd) {
	case BS_SMTP_CMD_AUTH:
		emit_auth(p, c, code >= 200 && code < 300 ? 1 : 0);
		if (p->cstate == BS_SMTP_C_SASL)
			p->cstate = BS_SMTP_C_CMD;
		break;
	case BS_SMTP_CMD_MAIL:
		if (code >= 400)
			txn_reset(p);
		break;
	case BS_SMTP_CMD_RCPT:
		if (e->rcpt < p->nrcpt)
			p->rcpt_ok[e->rcpt] = code < 400 ? 1 : 0;
		keep_reject(p, code, text);
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
		p->cstate = code == 220 ? BS_SMTP_C_OPAQUE : BS_SMTP_C_CMD;
		break;
	default:
		break;
	}
}

static void server_line(struct bs_smtp *p, const struct bs_proto_ctx *c, const struct bs_line *l)
{
	const char *s = l->buf;
	size_t n = l->len;
	if (l->truncated)
		p->lines_truncated++;
	if (n < 3 || s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9'
	    || (n > 3 && s[3] != ' ' && s[3] != '-')) {
		p->garbage_lines++;
		return;
	}
	if (n > 3 && s[3] == '-')
		return; /* continuation of a multi-line reply: the last line decides */
	int code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	server_reply(p, c, code, bs_text_rest(s, n, 3));
}

enum bs_smtp_err bs_smtp_feed(struct bs_smtp *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	struct bs_line *l = dir ? &p->sline : &p->cline;
	while (n > 0) {
		if (p->cstate == BS_SMTP_C_OPAQUE)
			return BS_SMTP_OK;
		if (dir == 0 && p->cstate == BS_SMTP_C_TLS_WAIT)
			return BS_SMTP_OK; /* TLS hello before the 220 was read: not text */
		if (dir == 0 && p->cstate == BS_SMTP_C_BDAT) {
			size_t k = p->bdat_left < n ? (size_t)p->bdat_left : n;
			bool complete;
			size_t t = bs_line_take(l, b, k, &complete);
			b += t;
			n -= t;
			p->bdat_left -= t;
			p->size += t; /* chunks are counted as sent: no dot-stuffing */
			if (complete) {
				bdat_line(p, c, l);
				bs_line_reset(l);
			}
			if (p->bdat_left == 0)
				bdat_chunk_end(p, c, true);
			continue;
		}
		bool complete;
		size_t k = bs_line_take(l, b, n, &complete);
		b += k;
		n -= k;
		if (!complete)
			continue; /* more bytes needed, or a partial line after a gap dropped */
		if (dir)
			server_line(p, c, l);
		else
			client_line(p, c, l);
		bs_line_reset(l);
	}
	/* A flow that never looked like SMTP is handed back to the dispatcher. */
	if (!p->greeted && p->mails == 0 && p->garbage_lines >= 8)
		return BS_SMTP_ERR_NOT_SMTP;
	return BS_SMTP_OK;
}

void bs_smtp_gap(struct bs_smtp *p, struct bs_proto_ctx *c, int dir, uint64_t n)
{
	if (dir == 0 && p->cstate == BS_SMTP_C_BDAT && n < p->bdat_left) {
		/* the bytes lost were inside a chunk: still in step */
		p->bdat_left -= n;
		p->size += n;
		bs_line_gap(&p->cline);
		return;
	}
	if (dir == 0 && p->cstate == BS_SMTP_C_BDAT)
		p->cstate = BS_SMTP_C_CMD;
	bs_line_gap(dir ? &p->sline : &p->cline);
	/* commands or replies were lost: pairing by order is no longer possible */
	p->qhead = p->qlen = 0;
	if (p->cstate == BS_SMTP_C_SASL || p->cstate == BS_SMTP_C_DATA_WAIT)
		p->cstate = BS_SMTP_C_CMD;
}

void bs_smtp_end(struct bs_smtp *p, struct bs_proto_ctx *c)
{
	/* results whose reply the capture did not hold */
	if (p->sasl.mech != BS_SASL_NONE && p->qlen > 0 && p->queue[p->qhead].cmd == BS_SMTP_CMD_AUTH)
		emit_auth(p, c, -1);
	if (p->data_done)
		emit_mail(p, c, 0, BS_STR_NULL);
	txn_abandon(p, c);
	p->qlen = 0;
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
	if (!bs_str_istarts(s, "220"))
		return false;
	const uint8_t *lf = memchr(p, '\n', n);
	size_t ln = lf ? (size_t)(lf - p) : n;
	return bs_memmem_ci((const char *)p, ln, "SMTP", 4) != NULL;
}

BS_PROTO_ADAPTERS(smtp)

const struct bs_proto_def bs_proto_smtp = {
	.name = "smtp", .ports = { 25, 587, 0 }, .sniff = bs_smtp_sniff, .state_size = sizeof(struct bs_smtp),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = false,
};

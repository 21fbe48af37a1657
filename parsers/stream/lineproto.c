/* lineproto.c - the layer shared by the line-based stream parsers: line
 * framing, the queue of commands awaiting a reply, reply codes, STARTTLS,
 * BS_EV_AUTH and the SASL user extraction. Fixed-size state only.
 */
#include <string.h>
#include "parsers/stream/lineproto.h"

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

bool bs_line_is_dot(const struct bs_line *l)
{
	return l->len == 1 && l->buf[0] == '.' && !l->truncated;
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

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

int bs_reply_code(const char *s, size_t n, char *sep)
{
	if (n < 3 || s[0] < '1' || s[0] > '5' || !is_digit(s[1]) || !is_digit(s[2]))
		return -1;
	*sep = n > 3 ? s[3] : '\0';
	if (*sep != '\0' && *sep != ' ' && *sep != '-')
		return -1;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

bool bs_greeting_names(const uint8_t *p, size_t n, const char *keyword)
{
	if (!bs_str_istarts(bs_str_make((const char *)p, n), "220"))
		return false;
	const uint8_t *lf = memchr(p, '\n', n);
	size_t first_line = lf ? (size_t)(lf - p) : n;
	return bs_memmem_ci((const char *)p, first_line, keyword, strlen(keyword)) != NULL;
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

void bs_sasl_start(struct bs_sasl *s, bs_str mech, bs_str initial)
{
	size_t name_len;
	memset(s, 0, sizeof *s);
	bs_text_copy(s->mech_name, sizeof s->mech_name - 1, &name_len, mech);
	s->mech_name[name_len] = '\0';
	for (size_t i = 0; i < name_len; i++)
		if (s->mech_name[i] >= 'a' && s->mech_name[i] <= 'z')
			s->mech_name[i] = (char)(s->mech_name[i] - 'a' + 'A');
	if (bs_str_ieq(mech, "PLAIN"))
		s->mech = BS_SASL_PLAIN;
	else if (bs_str_ieq(mech, "LOGIN"))
		s->mech = BS_SASL_LOGIN;
	else if (bs_str_ieq(mech, "CRAM-MD5"))
		s->mech = BS_SASL_CRAM_MD5;
	else
		s->mech = BS_SASL_OTHER;
	/* "=" is an empty initial response (RFC 4954) */
	if (initial.n > 0 && !(initial.n == 1 && initial.p[0] == '='))
		bs_sasl_response(s, initial.p, initial.n);
	else if (initial.n > 0)
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

void bs_sasl_client_line(struct bs_sasl *s, const struct bs_line *l)
{
	if (!(l->len == 1 && l->buf[0] == '*'))
		bs_sasl_response(s, l->buf, l->len);
}

/* ------------------------------------------------------------ commands */

struct bs_cmd *bs_cmdq_push(struct bs_cmdq *q, uint8_t kind, uint16_t arg)
{
	if (q->len == q->cap) {
		q->dropped++;
		return NULL;
	}
	struct bs_cmd *e = &q->q[(q->head + q->len) % BS_CMDQ_MAX];
	q->len++;
	e->kind = kind;
	e->arg = arg;
	e->tag_len = 0;
	return e;
}

struct bs_cmd *bs_cmdq_push_evict(struct bs_cmdq *q, uint8_t kind, bs_str tag)
{
	struct bs_cmd oldest;
	if (q->len == q->cap) {
		bs_cmdq_pop(q, &oldest);
		q->dropped++;
	}
	struct bs_cmd *e = bs_cmdq_push(q, kind, 0);
	size_t tag_len;
	bs_text_copy(e->tag, sizeof e->tag, &tag_len, tag);
	e->tag_len = (uint8_t)tag_len;
	return e;
}

struct bs_cmd *bs_cmdq_head(struct bs_cmdq *q)
{
	return q->len ? &q->q[q->head] : NULL;
}

struct bs_cmd *bs_cmdq_tail(struct bs_cmdq *q)
{
	return q->len ? &q->q[(q->head + q->len - 1) % BS_CMDQ_MAX] : NULL;
}

bool bs_cmdq_pop(struct bs_cmdq *q, struct bs_cmd *out)
{
	if (q->len == 0)
		return false;
	*out = q->q[q->head];
	q->head = (q->head + 1) % BS_CMDQ_MAX;
	q->len--;
	return true;
}

bool bs_cmdq_take_tag(struct bs_cmdq *q, bs_str tag, struct bs_cmd *out)
{
	for (unsigned i = 0; i < q->len; i++) {
		struct bs_cmd *e = &q->q[(q->head + i) % BS_CMDQ_MAX];
		if (e->tag_len != tag.n || memcmp(e->tag, tag.p, tag.n) != 0)
			continue;
		*out = *e;
		/* close the hole: the younger commands move up one place */
		for (unsigned j = i; j + 1 < q->len; j++)
			q->q[(q->head + j) % BS_CMDQ_MAX] = q->q[(q->head + j + 1) % BS_CMDQ_MAX];
		q->len--;
		return true;
	}
	return false;
}

void bs_cmdq_clear(struct bs_cmdq *q)
{
	q->head = q->len = 0;
}

/* ------------------------------------------------------------ the layer */

void bs_lineproto_init(struct bs_lineproto *lp, enum bs_auth_proto auth_proto, unsigned queue_cap)
{
	memset(lp, 0, sizeof *lp);
	lp->auth_proto = auth_proto;
	lp->cmds.cap = queue_cap < BS_CMDQ_MAX ? queue_cap : BS_CMDQ_MAX;
}

/* A numeric reply line: its code with the text after it in *text when the
 * line is a final reply line; 0 for a line inside a multi-line reply; -1 for
 * a line that is no reply (counted as garbage). */
static int reply_code(struct bs_lineproto *lp, enum bs_reply_style style, const struct bs_line *l, bs_str *text)
{
	char sep = '\0';
	int code = bs_reply_code(l->buf, l->len, &sep);
	if (lp->multiline_code) {
		/* only "code<SP>" with the opening code ends a multi-line reply */
		if (code != lp->multiline_code || sep == '-')
			return 0;
		lp->multiline_code = 0;
	} else if (code < 0) {
		lp->garbage_lines++;
		return -1;
	} else if (sep == '-') {
		/* SMTP: the last line decides; FTP: wait for the closing line */
		if (style == BS_REPLY_UNTIL_SAME_CODE)
			lp->multiline_code = code;
		return 0;
	}
	*text = bs_text_rest(l->buf, l->len, 3);
	return code;
}

static void server_reply_line(struct bs_lineproto *lp, const struct bs_lineproto_hooks *h, void *parser,
                              const struct bs_proto_ctx *c, const struct bs_line *l)
{
	bs_str text;
	int code = reply_code(lp, h->reply_style, l, &text);
	if (code > 0)
		h->reply(parser, c, code, text);
}

bool bs_lineproto_feed(struct bs_lineproto *lp, const struct bs_lineproto_hooks *h, void *parser,
                       const struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	dir = dir ? 1 : 0;
	struct bs_line *l = &lp->line[dir];
	while (n > 0) {
		if (lp->tls == BS_LINEPROTO_OPAQUE || (dir == 0 && lp->tls == BS_LINEPROTO_TLS_WAIT))
			return false; /* a TLS hello, or what it protects: not text */
		size_t k = h->raw ? h->raw(parser, c, dir, b, n) : 0;
		if (k > 0) {
			b += k;
			n -= k;
			continue;
		}
		bool complete;
		k = bs_line_take(l, b, n, &complete);
		b += k;
		n -= k;
		if (!complete)
			continue; /* more bytes needed, or a partial line after a gap dropped */
		if (l->truncated)
			lp->lines_truncated++;
		if (dir == 0)
			h->client_line(parser, c, l);
		else if (h->server_line)
			h->server_line(parser, c, l);
		else
			server_reply_line(lp, h, parser, c, l);
		bs_line_reset(l);
	}
	return true;
}

void bs_lineproto_gap(struct bs_lineproto *lp, int dir)
{
	bs_line_gap(&lp->line[dir ? 1 : 0]);
	bs_cmdq_clear(&lp->cmds);
	lp->multiline_code = 0;
}

bool bs_lineproto_foreign(const struct bs_lineproto *lp, uint64_t results)
{
	return !lp->greeted && results == 0 && lp->garbage_lines >= 8;
}

struct bs_cmd *bs_lineproto_answered(struct bs_lineproto *lp)
{
	struct bs_cmd *cmd = bs_cmdq_head(&lp->cmds);
	if (!cmd)
		lp->greeted = true; /* the greeting, or an unsolicited reply (421) */
	return cmd;
}

void bs_lineproto_starttls(struct bs_lineproto *lp)
{
	lp->tls = BS_LINEPROTO_TLS_WAIT;
}

void bs_lineproto_starttls_reply(struct bs_lineproto *lp, bool accepted)
{
	lp->tls = accepted ? BS_LINEPROTO_OPAQUE : BS_LINEPROTO_CLEAR;
}

void bs_lineproto_emit_auth(struct bs_lineproto *lp, const struct bs_proto_ctx *c, bs_str user, bs_str method,
                            int success)
{
	bs_emit_auth(c, lp->auth_proto, user, method, success);
	lp->logins++;
}

void bs_lineproto_emit_sasl(struct bs_lineproto *lp, const struct bs_proto_ctx *c, struct bs_sasl *s, int success)
{
	bs_lineproto_emit_auth(lp, c, bs_str_make(s->user, s->user_len),
	                       bs_str_make(s->mech_name, strlen(s->mech_name)), success);
	s->mech = BS_SASL_NONE;
}

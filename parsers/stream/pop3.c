/* pop3.c - POP3 stream parser: logins and their results.
 *
 * The client side reads command lines (or SASL responses); the server side
 * pairs each status line with the oldest pending command and, after +OK to
 * a multi-line command, skips the response body to the "." line.
 */
#include <string.h>
#include "parsers/stream/pop3.h"

void bs_pop3_init(struct bs_pop3 *p)
{
	memset(p, 0, sizeof *p);
}

static void push(struct bs_pop3 *p, enum bs_pop3_cmd cmd)
{
	if (p->qlen == BS_POP3_QUEUE) {
		p->queue_dropped++;
		return;
	}
	p->queue[(p->qhead + p->qlen) % BS_POP3_QUEUE] = (uint8_t)cmd;
	p->qlen++;
}

static void emit_auth(struct bs_pop3 *p, const struct bs_proto_ctx *c, bs_str user, const char *method, int success)
{
	struct bs_event ev;
	bs_proto_event(c, &ev, BS_EV_AUTH);
	ev.u.auth.proto = BS_AUTH_POP3;
	ev.u.auth.user = user;
	ev.u.auth.method = bs_str_make(method, strlen(method));
	ev.u.auth.success = success;
	bs_emit(c->sink, &ev);
	p->logins++;
}

static void client_command(struct bs_pop3 *p, const char *s, size_t n)
{
	size_t pos = 0;
	bs_str verb = bs_text_word(s, n, &pos);
	bs_str arg = bs_text_word(s, n, &pos);
	if (bs_str_ieq(verb, "USER")) {
		bs_text_copy(p->user, sizeof p->user, &p->user_len, arg);
		push(p, BS_POP3_CMD_USER);
	} else if (bs_str_ieq(verb, "PASS")) {
		push(p, BS_POP3_CMD_PASS);
	} else if (bs_str_ieq(verb, "APOP")) {
		bs_text_copy(p->user, sizeof p->user, &p->user_len, arg);
		push(p, BS_POP3_CMD_APOP);
	} else if (bs_str_ieq(verb, "AUTH")) {
		if (arg.n == 0) {
			push(p, BS_POP3_CMD_MULTI); /* the list of mechanisms */
			return;
		}
		bs_str init = bs_text_word(s, n, &pos);
		bs_sasl_start(&p->sasl, arg.p, arg.n, init.p, init.n, init.n > 0);
		push(p, BS_POP3_CMD_AUTH);
		p->cstate = BS_POP3_C_SASL;
	} else if (bs_str_ieq(verb, "STLS")) {
		push(p, BS_POP3_CMD_STLS);
		p->cstate = BS_POP3_C_TLS_WAIT;
	} else if (bs_str_ieq(verb, "RETR") || bs_str_ieq(verb, "TOP") || bs_str_ieq(verb, "CAPA") ||
	           ((bs_str_ieq(verb, "LIST") || bs_str_ieq(verb, "UIDL")) && arg.n == 0)) {
		push(p, BS_POP3_CMD_MULTI);
	} else {
		if (verb.n < 3 || verb.n > 4)
			p->garbage_lines++;
		push(p, BS_POP3_CMD_OTHER);
	}
}

static void client_line(struct bs_pop3 *p, const struct bs_line *l)
{
	if (p->cstate == BS_POP3_C_SASL) {
		if (!(l->len == 1 && l->buf[0] == '*'))
			bs_sasl_response(&p->sasl, l->buf, l->len);
		return;
	}
	if (l->truncated)
		p->lines_truncated++;
	client_command(p, l->buf, l->len);
}

static void server_line(struct bs_pop3 *p, const struct bs_proto_ctx *c, const struct bs_line *l)
{
	bs_str s = bs_str_make(l->buf, l->len);
	if (p->sstate == BS_POP3_S_MULTI) {
		if (l->len == 1 && l->buf[0] == '.' && !l->truncated)
			p->sstate = BS_POP3_S_REPLY;
		return;
	}
	if (l->truncated)
		p->lines_truncated++;
	bool okr = bs_str_istarts(s, "+OK"), err = bs_str_istarts(s, "-ERR");
	bool cont = !okr && s.n >= 1 && s.p[0] == '+' && (s.n == 1 || s.p[1] == ' ');
	if (!okr && !err && !cont) {
		p->garbage_lines++;
		return;
	}
	if (p->qlen == 0) {
		p->greeted = true;
		return;
	}
	enum bs_pop3_cmd cmd = (enum bs_pop3_cmd)p->queue[p->qhead];
	if (cont) {
		if (cmd != BS_POP3_CMD_AUTH)
			p->garbage_lines++;
		return; /* SASL challenge: the exchange goes on */
	}
	p->qhead = (p->qhead + 1) % BS_POP3_QUEUE;
	p->qlen--;
	switch (cmd) {
	case BS_POP3_CMD_PASS:
		emit_auth(p, c, bs_str_make(p->user, p->user_len), "USER", okr);
		break;
	case BS_POP3_CMD_APOP:
		emit_auth(p, c, bs_str_make(p->user, p->user_len), "APOP", okr);
		break;
	case BS_POP3_CMD_AUTH:
		emit_auth(p, c, bs_str_make(p->sasl.user, p->sasl.user_len), p->sasl.mech_name, okr);
		p->sasl.mech = BS_SASL_NONE;
		if (p->cstate == BS_POP3_C_SASL)
			p->cstate = BS_POP3_C_CMD;
		break;
	case BS_POP3_CMD_MULTI:
		if (okr)
			p->sstate = BS_POP3_S_MULTI;
		break;
	case BS_POP3_CMD_STLS:
		p->cstate = okr ? BS_POP3_C_OPAQUE : BS_POP3_C_CMD;
		break;
	default:
		break;
	}
}

enum bs_pop3_err bs_pop3_feed(struct bs_pop3 *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	struct bs_line *l = dir ? &p->sline : &p->cline;
	while (n > 0) {
		if (p->cstate == BS_POP3_C_OPAQUE || (dir == 0 && p->cstate == BS_POP3_C_TLS_WAIT))
			return BS_POP3_OK;
		bool complete;
		size_t k = bs_line_take(l, b, n, &complete);
		b += k;
		n -= k;
		if (!complete)
			continue;
		if (dir)
			server_line(p, c, l);
		else
			client_line(p, l);
		bs_line_reset(l);
	}
	if (!p->greeted && p->logins == 0 && p->garbage_lines >= 8)
		return BS_POP3_ERR_NOT_POP3;
	return BS_POP3_OK;
}

void bs_pop3_gap(struct bs_pop3 *p, struct bs_proto_ctx *c, int dir, uint64_t n)
{
	(void)c;
	(void)n;
	bs_line_gap(dir ? &p->sline : &p->cline);
	p->qhead = p->qlen = 0;
	if (dir == 0 && p->cstate == BS_POP3_C_SASL)
		p->cstate = BS_POP3_C_CMD;
	/* in a message body the "." line still ends it; elsewhere nothing is lost */
}

void bs_pop3_end(struct bs_pop3 *p, struct bs_proto_ctx *c)
{
	/* a login whose reply the capture did not hold */
	if (p->qlen > 0) {
		enum bs_pop3_cmd cmd = (enum bs_pop3_cmd)p->queue[p->qhead];
		if (cmd == BS_POP3_CMD_PASS || cmd == BS_POP3_CMD_APOP)
			emit_auth(p, c, bs_str_make(p->user, p->user_len), cmd == BS_POP3_CMD_PASS ? "USER" : "APOP", -1);
		else if (cmd == BS_POP3_CMD_AUTH)
			emit_auth(p, c, bs_str_make(p->sasl.user, p->sasl.user_len), p->sasl.mech_name, -1);
	}
	p->qlen = 0;
}

const char *bs_pop3_strerror(enum bs_pop3_err e)
{
	switch (e) {
	case BS_POP3_OK: return "ok";
	case BS_POP3_ERR_NOT_POP3: return "not POP3: no +OK/-ERR replies";
	}
	return "unknown POP3 error";
}

bool bs_pop3_sniff(int dir, const uint8_t *p, size_t n)
{
	return dir == 1 && bs_str_istarts(bs_str_make((const char *)p, n), "+OK");
}

BS_PROTO_ADAPTERS(pop3)

const struct bs_proto_def bs_proto_pop3 = {
	.name = "pop3", .ports = { 110, 0 }, .sniff = bs_pop3_sniff, .state_size = sizeof(struct bs_pop3),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = false,
};

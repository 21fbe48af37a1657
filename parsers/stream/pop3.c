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
	bs_lineproto_init(&p->lp, BS_AUTH_POP3, BS_POP3_QUEUE);
}

static void push(struct bs_pop3 *p, enum bs_pop3_cmd cmd)
{
	bs_cmdq_push(&p->lp.cmds, (uint8_t)cmd, 0);
}

/* The result of a login by USER/PASS, APOP or AUTH. */
static void emit_auth(struct bs_pop3 *p, const struct bs_proto_ctx *c, enum bs_pop3_cmd cmd, int success)
{
	if (cmd == BS_POP3_CMD_AUTH)
		bs_lineproto_emit_sasl(&p->lp, c, &p->sasl, success);
	else
		bs_lineproto_emit_auth(&p->lp, c, bs_str_make(p->user, p->user_len),
		                       cmd == BS_POP3_CMD_PASS ? BS_STR_LIT("USER") : BS_STR_LIT("APOP"), success);
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
		bs_sasl_start(&p->sasl, arg, bs_text_word(s, n, &pos));
		push(p, BS_POP3_CMD_AUTH);
		p->cstate = BS_POP3_C_SASL;
	} else if (bs_str_ieq(verb, "STLS")) {
		push(p, BS_POP3_CMD_STLS);
		bs_lineproto_starttls(&p->lp);
	} else if (bs_str_ieq(verb, "RETR") || bs_str_ieq(verb, "TOP") || bs_str_ieq(verb, "CAPA") ||
	           ((bs_str_ieq(verb, "LIST") || bs_str_ieq(verb, "UIDL")) && arg.n == 0)) {
		push(p, BS_POP3_CMD_MULTI);
	} else {
		if (verb.n < 3 || verb.n > 4)
			p->lp.garbage_lines++;
		push(p, BS_POP3_CMD_OTHER);
	}
}

static void client_line(void *parser, const struct bs_proto_ctx *c, const struct bs_line *l)
{
	struct bs_pop3 *p = parser;
	(void)c;
	if (p->cstate == BS_POP3_C_SASL)
		bs_sasl_client_line(&p->sasl, l);
	else
		client_command(p, l->buf, l->len);
}

static void server_line(void *parser, const struct bs_proto_ctx *c, const struct bs_line *l)
{
	struct bs_pop3 *p = parser;
	bs_str s = bs_str_make(l->buf, l->len);
	if (p->sstate == BS_POP3_S_MULTI) {
		if (bs_line_is_dot(l))
			p->sstate = BS_POP3_S_REPLY;
		return;
	}
	bool okr = bs_str_istarts(s, "+OK"), err = bs_str_istarts(s, "-ERR");
	bool cont = !okr && s.n >= 1 && s.p[0] == '+' && (s.n == 1 || s.p[1] == ' ');
	if (!okr && !err && !cont) {
		p->lp.garbage_lines++;
		return;
	}
	struct bs_cmd *pending = bs_lineproto_answered(&p->lp);
	if (!pending)
		return;
	if (cont) {
		if (pending->kind != BS_POP3_CMD_AUTH)
			p->lp.garbage_lines++;
		return; /* SASL challenge: the exchange goes on */
	}
	struct bs_cmd cmd;
	bs_cmdq_pop(&p->lp.cmds, &cmd);
	switch (cmd.kind) {
	case BS_POP3_CMD_PASS:
	case BS_POP3_CMD_APOP:
		emit_auth(p, c, (enum bs_pop3_cmd)cmd.kind, okr);
		break;
	case BS_POP3_CMD_AUTH:
		emit_auth(p, c, BS_POP3_CMD_AUTH, okr);
		if (p->cstate == BS_POP3_C_SASL)
			p->cstate = BS_POP3_C_CMD;
		break;
	case BS_POP3_CMD_MULTI:
		if (okr)
			p->sstate = BS_POP3_S_MULTI;
		break;
	case BS_POP3_CMD_STLS:
		bs_lineproto_starttls_reply(&p->lp, okr);
		break;
	default:
		break;
	}
}

static const struct bs_lineproto_hooks pop3_hooks = { .client_line = client_line, .server_line = server_line };

enum bs_pop3_err bs_pop3_feed(struct bs_pop3 *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	if (bs_lineproto_feed(&p->lp, &pop3_hooks, p, c, dir, b, n) && bs_lineproto_foreign(&p->lp, p->lp.logins))
		return BS_POP3_ERR_NOT_POP3;
	return BS_POP3_OK;
}

void bs_pop3_gap(struct bs_pop3 *p, struct bs_proto_ctx *c, int dir, uint64_t n)
{
	(void)c;
	(void)n;
	bs_lineproto_gap(&p->lp, dir);
	if (dir == 0 && p->cstate == BS_POP3_C_SASL)
		p->cstate = BS_POP3_C_CMD;
	/* in a message body the "." line still ends it; elsewhere nothing is lost */
}

void bs_pop3_end(struct bs_pop3 *p, struct bs_proto_ctx *c)
{
	/* a login whose reply the capture did not hold */
	const struct bs_cmd *pending = bs_cmdq_head(&p->lp.cmds);
	if (pending && (pending->kind == BS_POP3_CMD_PASS || pending->kind == BS_POP3_CMD_APOP ||
	                pending->kind == BS_POP3_CMD_AUTH))
		emit_auth(p, c, (enum bs_pop3_cmd)pending->kind, -1);
	bs_cmdq_clear(&p->lp.cmds);
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

static bool def_encrypted(const void *state) { return bs_lineproto_encrypted(&((const struct bs_pop3 *)state)->lp); }

const struct bs_proto_def bs_proto_pop3 = {
	.name = "pop3", .ports = { 110, 0 }, .sniff = bs_pop3_sniff, .state_size = sizeof(struct bs_pop3),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = false,
	.encrypted = def_encrypted,
};

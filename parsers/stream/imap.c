/* imap.c - IMAP stream parser: logins, tagged results, literals skipped.
 *
 * A line that ends with "{n}" (or "{n+}", "~{n}") is followed by n raw
 * bytes; both sides skip them by count, so a FETCH of a 50 MB message costs
 * nothing but the count. Only the LOGIN user name literal is copied.
 */
#include <string.h>
#include "parsers/stream/imap.h"

void bs_imap_init(struct bs_imap *p)
{
	memset(p, 0, sizeof *p);
	bs_lineproto_init(&p->lp, BS_AUTH_IMAP, BS_IMAP_PENDING);
}

/* "{123}" or "{123+}" at the end of the line: the literal length, and where
 * the marker starts (only known when the line was not truncated). */
static bool literal_suffix(const struct bs_line *l, uint64_t *len, size_t *marker)
{
	bs_str e = bs_line_end(l);
	size_t i = e.n;
	if (i < 3 || e.p[i - 1] != '}')
		return false;
	i--;
	if (e.p[i - 1] == '+')
		i--;
	size_t digits_end = i;
	while (i > 0 && e.p[i - 1] >= '0' && e.p[i - 1] <= '9')
		i--;
	if (i == 0 || i == digits_end || e.p[i - 1] != '{' || digits_end - i > 18)
		return false;
	uint64_t v = 0;
	for (size_t k = i; k < digits_end; k++)
		v = v * 10 + (uint64_t)(e.p[k] - '0');
	*len = v;
	*marker = l->truncated ? l->len : i - 1;
	return true;
}

static void emit_auth(struct bs_imap *p, const struct bs_proto_ctx *c, enum bs_imap_cmd kind, int success)
{
	if (kind == BS_IMAP_CMD_LOGIN)
		bs_lineproto_emit_auth(&p->lp, c, bs_str_make(p->user, p->user_len), BS_STR_LIT("LOGIN"), success);
	else
		bs_lineproto_emit_sasl(&p->lp, c, &p->sasl, success);
}

/* A command whose tagged reply matters, under the tag being read. */
static void pending_add(struct bs_imap *p, enum bs_imap_cmd kind)
{
	bs_cmdq_push_evict(&p->lp.cmds, (uint8_t)kind, bs_str_make(p->tag, p->tag_len));
}

/* Arguments of LOGIN in s[0..n): the first one is the user. */
static void login_args(struct bs_imap *p, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && s[i] == ' ')
			i++;
		if (i >= n)
			break;
		bool user = p->argi == 0;
		if (user)
			p->user_len = 0;
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				if (user && p->user_len < sizeof p->user)
					p->user[p->user_len++] = s[i];
			}
			i++; /* closing quote */
		} else {
			size_t start = i;
			while (i < n && s[i] != ' ')
				i++;
			if (user)
				bs_text_copy(p->user, sizeof p->user, &p->user_len, bs_str_make(s + start, i - start));
		}
		p->argi++;
	}
}

static void command_start(struct bs_imap *p, const char *s, size_t n, size_t *pos)
{
	bs_str tag = bs_text_word(s, n, pos);
	bs_str verb = bs_text_word(s, n, pos);
	bs_text_copy(p->tag, sizeof p->tag, &p->tag_len, tag);
	p->cmd_active = true;
	p->argi = 0;
	p->cmd = BS_IMAP_CMD_OTHER;
	if (tag.n == 0 || verb.n == 0) {
		p->lp.garbage_lines++;
	} else if (bs_str_ieq(verb, "LOGIN")) {
		p->cmd = BS_IMAP_CMD_LOGIN;
		p->user_len = 0;
	} else if (bs_str_ieq(verb, "AUTHENTICATE")) {
		bs_str mech = bs_text_word(s, n, pos);
		bs_sasl_start(&p->sasl, mech, bs_text_word(s, n, pos));
		p->cmd = BS_IMAP_CMD_AUTHENTICATE;
		pending_add(p, BS_IMAP_CMD_AUTHENTICATE);
		p->cstate = BS_IMAP_C_SASL;
		p->cmd_active = false;
	} else if (bs_str_ieq(verb, "STARTTLS")) {
		pending_add(p, BS_IMAP_CMD_STARTTLS);
		bs_lineproto_starttls(&p->lp);
		p->cmd_active = false;
	}
}

static void client_line(void *parser, const struct bs_proto_ctx *c, const struct bs_line *l)
{
	struct bs_imap *p = parser;
	(void)c;
	if (p->cstate == BS_IMAP_C_SASL) {
		bs_sasl_client_line(&p->sasl, l);
		return;
	}
	uint64_t lit = 0;
	size_t end = l->len, pos = 0;
	bool has_lit = literal_suffix(l, &lit, &end);
	if (!p->cmd_active) {
		command_start(p, l->buf, end, &pos);
		if (!p->cmd_active)
			return;
	}
	if (p->cmd == BS_IMAP_CMD_LOGIN && pos < end)
		login_args(p, l->buf + pos, end - pos);
	if (has_lit) {
		p->literal_left[0] = lit;
		p->capture_user = p->cmd == BS_IMAP_CMD_LOGIN && p->argi == 0;
		if (p->capture_user)
			p->user_len = 0;
		if (p->cmd == BS_IMAP_CMD_LOGIN)
			p->argi++;
		return; /* the command goes on after the literal */
	}
	if (p->cmd == BS_IMAP_CMD_LOGIN)
		pending_add(p, BS_IMAP_CMD_LOGIN);
	p->cmd_active = false;
}

static void server_line(void *parser, const struct bs_proto_ctx *c, const struct bs_line *l)
{
	struct bs_imap *p = parser;
	const char *s = l->buf;
	size_t n = l->len, pos = 0;
	uint64_t lit;
	size_t marker;
	if (literal_suffix(l, &lit, &marker))
		p->literal_left[1] = lit;
	if (n >= 1 && (s[0] == '*' || s[0] == '+')) {
		if (s[0] == '*')
			p->lp.greeted = true;
		return; /* untagged data, or a continuation request */
	}
	bs_str tag = bs_text_word(s, n, &pos);
	bs_str status = bs_text_word(s, n, &pos);
	bool okr = bs_str_ieq(status, "OK");
	if (!okr && !bs_str_ieq(status, "NO") && !bs_str_ieq(status, "BAD")) {
		p->lp.garbage_lines++;
		return;
	}
	struct bs_cmd cmd;
	if (!bs_cmdq_take_tag(&p->lp.cmds, tag, &cmd))
		return;
	if (cmd.kind == BS_IMAP_CMD_STARTTLS) {
		bs_lineproto_starttls_reply(&p->lp, okr);
	} else {
		emit_auth(p, c, (enum bs_imap_cmd)cmd.kind, okr);
		if (cmd.kind == BS_IMAP_CMD_AUTHENTICATE && p->cstate == BS_IMAP_C_SASL)
			p->cstate = BS_IMAP_C_LINE;
	}
}

/* Literal bytes are skipped by count; only the LOGIN user is copied. */
static size_t literal_bytes(void *parser, const struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	struct bs_imap *p = parser;
	(void)c;
	if (p->literal_left[dir] == 0)
		return 0;
	size_t k = p->literal_left[dir] < n ? (size_t)p->literal_left[dir] : n;
	if (dir == 0 && p->capture_user) {
		size_t room = sizeof p->user - p->user_len;
		size_t t = k < room ? k : room;
		memcpy(p->user + p->user_len, b, t);
		p->user_len += t;
	}
	p->literal_left[dir] -= k;
	if (p->literal_left[dir] == 0 && dir == 0)
		p->capture_user = false;
	return k;
}

static const struct bs_lineproto_hooks imap_hooks = {
	.client_line = client_line, .server_line = server_line, .raw = literal_bytes,
};

enum bs_imap_err bs_imap_feed(struct bs_imap *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	if (bs_lineproto_feed(&p->lp, &imap_hooks, p, c, dir, b, n) && bs_lineproto_foreign(&p->lp, p->lp.logins))
		return BS_IMAP_ERR_NOT_IMAP;
	return BS_IMAP_OK;
}

void bs_imap_gap(struct bs_imap *p, struct bs_proto_ctx *c, int dir, uint64_t n)
{
	(void)c;
	dir = dir ? 1 : 0;
	if (p->literal_left[dir] >= n) {
		/* the bytes lost were inside a literal: still in step */
		p->literal_left[dir] -= n;
		if (dir == 0)
			p->capture_user = false;
		return;
	}
	p->literal_left[dir] = 0;
	/* only the partial line: tags make the pairing survive */
	bs_line_gap(&p->lp.line[dir]);
	if (dir == 0) {
		p->capture_user = false;
		p->cmd_active = false;
		if (p->cstate == BS_IMAP_C_SASL)
			p->cstate = BS_IMAP_C_LINE;
	}
}

void bs_imap_end(struct bs_imap *p, struct bs_proto_ctx *c)
{
	/* logins whose result the capture did not hold, in order */
	struct bs_cmd cmd;
	while (bs_cmdq_pop(&p->lp.cmds, &cmd))
		if (cmd.kind != BS_IMAP_CMD_STARTTLS)
			emit_auth(p, c, (enum bs_imap_cmd)cmd.kind, -1);
}

const char *bs_imap_strerror(enum bs_imap_err e)
{
	switch (e) {
	case BS_IMAP_OK: return "ok";
	case BS_IMAP_ERR_NOT_IMAP: return "not IMAP: no tagged or untagged responses";
	}
	return "unknown IMAP error";
}

bool bs_imap_sniff(int dir, const uint8_t *p, size_t n)
{
	bs_str s = bs_str_make((const char *)p, n);
	return dir == 1 && (bs_str_istarts(s, "* OK") || bs_str_istarts(s, "* PREAUTH"));
}

BS_PROTO_ADAPTERS(imap)

static bool def_encrypted(const void *state) { return bs_lineproto_encrypted(&((const struct bs_imap *)state)->lp); }

const struct bs_proto_def bs_proto_imap = {
	.name = "imap", .ports = { 143, 0 }, .sniff = bs_imap_sniff, .state_size = sizeof(struct bs_imap),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = false,
	.encrypted = def_encrypted,
};

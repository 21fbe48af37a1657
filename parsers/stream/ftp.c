/* ftp.c - FTP control connection: logins and data connection announcements. */
#include <string.h>
#include "parsers/stream/ftp.h"

void bs_ftp_init(struct bs_ftp *p)
{
	memset(p, 0, sizeof *p);
	bs_lineproto_init(&p->lp, BS_AUTH_FTP, BS_FTP_QUEUE);
}

static void push(struct bs_ftp *p, enum bs_ftp_cmd cmd)
{
	bs_cmdq_push(&p->lp.cmds, (uint8_t)cmd, 0);
}

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* A decimal number of at most 5 digits at *i. */
static bool number(const char *s, size_t n, size_t *i, unsigned *v)
{
	size_t start = *i;
	*v = 0;
	while (*i < n && is_digit(s[*i]) && *i - start < 5)
		*v = *v * 10 + (unsigned)(s[(*i)++] - '0');
	return *i > start && !(*i < n && is_digit(s[*i]));
}

bool bs_ftp_parse_hostport(const char *s, size_t n, bs_ip *ip, uint16_t *port)
{
	for (size_t start = 0; start < n; start++) {
		if (!is_digit(s[start]) || (start > 0 && is_digit(s[start - 1])))
			continue;
		unsigned v[6];
		size_t i = start;
		int k = 0;
		while (k < 6 && number(s, n, &i, &v[k]) && v[k] <= 255) {
			k++;
			if (k < 6) {
				if (i >= n || s[i] != ',')
					break;
				i++;
			}
		}
		if (k == 6) {
			memset(ip, 0, sizeof *ip);
			ip->family = 4;
			for (int j = 0; j < 4; j++)
				ip->a[j] = (uint8_t)v[j];
			*port = (uint16_t)(v[4] * 256 + v[5]);
			return true;
		}
	}
	return false;
}

/* EPRT |1|132.235.1.2|6275| ; EPSV reply (|||6446|): the delimiter is the first character. */
static bool parse_extended(const char *s, size_t n, bs_ip *ip, uint16_t *port)
{
	const char *open = memchr(s, '(', n);
	size_t i = open ? (size_t)(open - s) + 1 : 0;
	while (!open && i < n && s[i] == ' ')
		i++;
	if (i >= n)
		return false;
	char d = s[i];
	if (d < 33 || d > 126 || is_digit(d))
		return false;
	const char *f[4];
	size_t flen[3];
	int k = 0;
	f[0] = s + i + 1;
	for (size_t j = i + 1; j < n && k < 3; j++) {
		if (s[j] == d) {
			flen[k] = (size_t)(s + j - f[k]);
			f[++k] = s + j + 1;
		}
	}
	if (k < 3)
		return false;
	unsigned v;
	size_t pi = 0;
	if (!number(f[2], flen[2], &pi, &v) || pi != flen[2] || v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	if (flen[1] > 0)
		return bs_ip_parse(f[1], flen[1], ip);
	ip->family = 0; /* EPSV: the server's own address */
	return true;
}

/* Announce the data endpoint to the dispatcher; the same ip:port announced
 * again (with the file name of the transfer command) updates it. */
static void announce(struct bs_ftp *p, const struct bs_proto_ctx *c, const char *name, bool upload)
{
	p->user[p->user_len] = '\0';
	if (c->expect)
		c->expect(c->disp, &p->data_ip, p->data_port, (c->flow_id << 16) | ((p->transfers + 1) & 0xffff),
		          name, upload, p->user);
}

/* A new endpoint: announced at once, because clients often open the data
 * connection before they send the transfer command. */
static void set_data(struct bs_ftp *p, const struct bs_proto_ctx *c, const bs_ip *ip, uint16_t port)
{
	p->data_ip = *ip;
	p->data_port = port;
	p->data_set = true;
	announce(p, c, "", false);
}

/* A file transfer command; its reply decides (see xfer_reply). The
 * command is queued with arg 1 when its endpoint was announced. */
static void transfer(struct bs_ftp *p, const struct bs_proto_ctx *c, bs_str name, bool upload)
{
	bool named = name.n > 0;
	if (named)
		bs_cmdq_push(&p->lp.cmds, BS_FTP_CMD_XFER, (uint16_t)((p->data_set ? 1 : 0) | (upload ? 2 : 0)));
	else
		push(p, BS_FTP_CMD_OTHER);
	size_t k = name.n < BS_FTP_NAME_MAX ? name.n : BS_FTP_NAME_MAX;
	memcpy(p->filename, name.p, k);
	p->filename[k] = '\0';
	for (size_t i = 0; i < k; i++)
		if (p->filename[i] == '\0')
			p->filename[i] = '?';
	if (!p->data_set)
		return; /* no PASV/PORT seen: the data connection cannot be found */
	if (k > 0) /* a listing keeps the empty name of the first announcement */
		announce(p, c, p->filename, upload);
	p->transfers++;
	p->data_set = false;
}

/* The final reply to RETR/STOR/STOU/APPE. Refused: the announced endpoint
 * forgets the name (no transfer to report). Accepted without an endpoint
 * (no PASV/PORT in the capture): no data connection can be matched, so the
 * transfer is reported here, size unknown. */
static void xfer_reply(struct bs_ftp *p, const struct bs_proto_ctx *c, int code, unsigned arg)
{
	bool announced = arg & 1, upload = arg & 2;
	if (code >= 400 && announced && c->expect) {
		p->user[p->user_len] = '\0';
		c->expect(c->disp, &p->data_ip, p->data_port, (c->flow_id << 16) | (p->transfers & 0xffff), NULL,
		          upload, p->user);
	} else if (code < 400 && !announced) {
		struct bs_event ev;
		bs_proto_event(c, &ev, BS_EV_FILEXFER);
		ev.u.xfer.proto = BS_STR_LIT("ftp");
		ev.u.xfer.upload = upload;
		ev.u.xfer.filename = bs_str_make(p->filename, strlen(p->filename));
		ev.u.xfer.user = bs_str_make(p->user, p->user_len);
		ev.u.xfer.size_unknown = true;
		bs_emit(c->sink, &ev);
	}
}

static void client_command(struct bs_ftp *p, const struct bs_proto_ctx *c, const char *s, size_t n)
{
	size_t pos = 0;
	bs_str verb = bs_text_word(s, n, &pos);
	bs_str arg = bs_text_rest(s, n, pos);
	bs_ip ip;
	uint16_t port;
	if (bs_str_ieq(verb, "USER")) {
		bs_text_copy(p->user, BS_USER_MAX, &p->user_len, arg);
		p->user_logged_in = false;
		push(p, BS_FTP_CMD_USER);
	} else if (bs_str_ieq(verb, "PASS")) {
		push(p, BS_FTP_CMD_PASS);
	} else if (bs_str_ieq(verb, "PASV")) {
		push(p, BS_FTP_CMD_PASV);
	} else if (bs_str_ieq(verb, "EPSV")) {
		push(p, BS_FTP_CMD_EPSV);
	} else if (bs_str_ieq(verb, "PORT")) {
		if (bs_ftp_parse_hostport(arg.p, arg.n, &ip, &port))
			set_data(p, c, &ip, port);
		push(p, BS_FTP_CMD_OTHER);
	} else if (bs_str_ieq(verb, "EPRT")) {
		if (parse_extended(arg.p, arg.n, &ip, &port) && ip.family)
			set_data(p, c, &ip, port);
		push(p, BS_FTP_CMD_OTHER);
	} else if (bs_str_ieq(verb, "STOR") || bs_str_ieq(verb, "STOU") || bs_str_ieq(verb, "APPE")) {
		transfer(p, c, arg, true);
	} else if (bs_str_ieq(verb, "RETR")) {
		transfer(p, c, arg, false);
	} else if (bs_str_ieq(verb, "LIST") || bs_str_ieq(verb, "NLST") || bs_str_ieq(verb, "MLSD")) {
		transfer(p, c, BS_STR_LIT(""), false);
	} else if (bs_str_ieq(verb, "AUTH") && (bs_str_ieq(arg, "TLS") || bs_str_ieq(arg, "SSL") ||
	                                        bs_str_ieq(arg, "TLS-C"))) {
		push(p, BS_FTP_CMD_AUTH_TLS);
		bs_lineproto_starttls(&p->lp);
	} else {
		if (verb.n < 3 || verb.n > 4)
			p->lp.garbage_lines++;
		push(p, BS_FTP_CMD_OTHER);
	}
}

static void emit_auth(struct bs_ftp *p, const struct bs_proto_ctx *c, int success)
{
	bs_lineproto_emit_auth(&p->lp, c, bs_str_make(p->user, p->user_len), BS_STR_LIT("PASS"), success);
}

static void server_reply(void *parser, const struct bs_proto_ctx *c, int code, bs_str text)
{
	struct bs_ftp *p = parser;
	if (!bs_lineproto_answered(&p->lp))
		return; /* greeting, or a 1xx/2xx of a transfer */
	if (code < 200)
		return; /* preliminary (150 opening data connection): the command is still pending */
	struct bs_cmd cmd;
	bs_cmdq_pop(&p->lp.cmds, &cmd);
	bs_ip ip;
	uint16_t port;
	switch (cmd.kind) {
	case BS_FTP_CMD_USER:
		if (code == 230 || code == 530)
			emit_auth(p, c, code == 230); /* no password asked, or refused at once */
		p->user_logged_in = code == 230;
		break;
	case BS_FTP_CMD_PASS:
		/* a fake server answers 230 to USER and PASS alike: one login */
		if (code != 332 && !(p->user_logged_in && code == 230))
			emit_auth(p, c, code == 230 || code == 202);
		break;
	case BS_FTP_CMD_XFER:
		xfer_reply(p, c, code, cmd.arg);
		break;
	case BS_FTP_CMD_PASV:
		if (code == 227 && bs_ftp_parse_hostport(text.p, text.n, &ip, &port)) {
			/* 0.0.0.0 or a private address behind NAT: the server's own */
			if (ip.a[0] == 0 || (bs_ip_is_private(&ip) && !bs_ip_is_private(&c->srv)))
				ip = c->srv;
			set_data(p, c, &ip, port);
		}
		break;
	case BS_FTP_CMD_EPSV:
		if (code == 229 && parse_extended(text.p, text.n, &ip, &port)) {
			if (!ip.family)
				ip = c->srv;
			set_data(p, c, &ip, port);
		}
		break;
	case BS_FTP_CMD_AUTH_TLS:
		bs_lineproto_starttls_reply(&p->lp, code == 234);
		break;
	default:
		break;
	}
}

static void client_line(void *parser, const struct bs_proto_ctx *c, const struct bs_line *l)
{
	client_command(parser, c, l->buf, l->len);
}

static const struct bs_lineproto_hooks ftp_hooks = {
	.client_line = client_line, .reply = server_reply, .reply_style = BS_REPLY_UNTIL_SAME_CODE,
};

enum bs_ftp_err bs_ftp_feed(struct bs_ftp *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	if (bs_lineproto_feed(&p->lp, &ftp_hooks, p, c, dir, b, n) && bs_lineproto_foreign(&p->lp, p->lp.logins))
		return BS_FTP_ERR_NOT_FTP;
	return BS_FTP_OK;
}

void bs_ftp_gap(struct bs_ftp *p, struct bs_proto_ctx *c, int dir, uint64_t n)
{
	(void)c;
	(void)n;
	bs_lineproto_gap(&p->lp, dir);
}

void bs_ftp_end(struct bs_ftp *p, struct bs_proto_ctx *c)
{
	const struct bs_cmd *pending = bs_cmdq_head(&p->lp.cmds);
	if (pending && pending->kind == BS_FTP_CMD_PASS)
		emit_auth(p, c, -1);
	bs_cmdq_clear(&p->lp.cmds);
}

const char *bs_ftp_strerror(enum bs_ftp_err e)
{
	switch (e) {
	case BS_FTP_OK: return "ok";
	case BS_FTP_ERR_NOT_FTP: return "not FTP: no reply codes and no commands";
	}
	return "unknown FTP error";
}

bool bs_ftp_sniff(int dir, const uint8_t *p, size_t n)
{
	bs_str s = bs_str_make((const char *)p, n);
	if (dir == 0)
		return bs_str_istarts(s, "USER ") && n < 512;
	return bs_greeting_names(p, n, "FTP");
}

BS_PROTO_ADAPTERS(ftp)

static bool def_encrypted(const void *state) { return bs_lineproto_encrypted(&((const struct bs_ftp *)state)->lp); }

const struct bs_proto_def bs_proto_ftp = {
	.name = "ftp", .ports = { 21, 0 }, .sniff = bs_ftp_sniff, .state_size = sizeof(struct bs_ftp),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = false,
	.encrypted = def_encrypted,
};

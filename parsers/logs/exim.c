/* exim.c - Exim main log, raw ("2024-05-04 17:31:02 [pid] 1abcDE-000123-XY <= ...")
 * or behind a syslog prefix ("exim4[123]: ..."). A message's lines are
 * joined by its id: "<=" (arrival), "=>" / "->" (delivered), "**" (failed),
 * "==" (deferred), and one BS_EV_MAIL is emitted at "Completed". Rejects,
 * authenticator failures and SpamAssassin actions emit at once.
 *
 * State: fixed-size records in a queue.h table, at most EX_MAX_OPEN open; when
 * full every open message is flushed unfinished (counted). A record holds
 * EX_MAX_RCPT recipients (EX_RCPT_BYTES of them): when full, those held are
 * emitted as a part of the message (event.h) and forgotten, so none is
 * dropped (an "address" longer than 512 bytes is not one: counted dropped). */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "parsers/logs/queue.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EX_MAX_OPEN 16384
#define EX_MAX_RCPT 64
#define EX_RCPT_BYTES 2048

enum { ST_NONE, ST_SENT, ST_BOUNCED, ST_DEFERRED };
static const char *const status_names[] = { "", "sent", "bounced", "deferred" };

struct ex_msg {
	struct bs_queue_msg q; /* message id, links */
	uint8_t nrcpt;
	bs_time ts;
	uint64_t lineno, size;
	uint32_t dropped, parts; /* parts: emitted so far */
	bs_ip client;
	char host[64], name[128], sender[256], msgid[192], auth[128], luser[64], relay[128];
	uint16_t host_n, name_n, sender_n, msgid_n, auth_n, luser_n, relay_n, rbuf_n;
	char rbuf[EX_RCPT_BYTES];
	struct {
		uint16_t off, len;
		uint8_t status;
	} r[EX_MAX_RCPT];
};

struct bs_exim {
	struct bs_queue open; /* open messages */
	bs_str rcpts[EX_MAX_RCPT], status[EX_MAX_RCPT];
};

#define SET(m, f, s) do { size_t n_ = (s).n < sizeof((m)->f) ? (s).n : sizeof((m)->f); \
	if (n_) { memcpy((m)->f, (s).p, n_); } \
	(m)->f##_n = (uint16_t)n_; } while (0)
#define GET(m, f) bs_str_make((m)->f, (m)->f##_n)

bool bs_exim_prog(bs_str prog)
{
	return bs_str_eq(prog, "exim") || bs_str_eq(prog, "exim4") || bs_str_eq(prog, "exim3");
}

static struct ex_msg *msg_find(struct bs_exim *p, bs_str id)
{
	return (struct ex_msg *)bs_queue_find(&p->open, id);
}

static void emit_msg(struct bs_exim *p, const struct bs_line_ctx *c, const struct ex_msg *m)
{
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_MAIL);
	ev.ts = m->ts;
	ev.origin.ref = m->lineno;
	ev.host = GET(m, host);
	ev.src = m->client;
	struct bs_ev_mail *e = &ev.u.mail;
	for (size_t i = 0; i < m->nrcpt; i++) {
		p->rcpts[i] = bs_str_make(m->rbuf + m->r[i].off, m->r[i].len);
		p->status[i] = bs_str_make(status_names[m->r[i].status], strlen(status_names[m->r[i].status]));
	}
	e->queue_id = bs_queue_qid(&m->q);
	e->rcpts = p->rcpts;
	e->rcpt_status = p->status;
	e->nrcpt = m->nrcpt;
	e->rcpts_dropped = m->dropped;
	e->part = m->parts;
	e->sender = GET(m, sender);
	e->message_id = GET(m, msgid);
	e->sasl_user = GET(m, auth);
	e->local_user = GET(m, luser);
	e->local_uid = -1;
	e->size = m->size;
	e->relay = GET(m, relay);
	e->client_name = GET(m, name);
	bs_emit(c->sink, &ev);
}

/* A message flushed unfinished (table full, end of input). */
static void flush_msg(void *owner, const struct bs_line_ctx *c, struct bs_queue_msg *q)
{
	const struct ex_msg *m = (const struct ex_msg *)q;
	if (m->nrcpt || !m->parts)
		emit_msg(owner, c, m);
}

static const struct bs_queue_def msg_table = {
	.msg_size = sizeof(struct ex_msg),
	.max_open = EX_MAX_OPEN,
	.seed = 11,
	.when_full = BS_QUEUE_FLUSH_ALL,
	.flush_order = BS_QUEUE_HASH_ORDER,
	.flush = flush_msg,
};

struct bs_exim *bs_exim_new(void)
{
	struct bs_exim *p = bs_xcalloc(1, sizeof *p);
	bs_queue_init(&p->open, &msg_table, p);
	return p;
}

void bs_exim_free(struct bs_exim *p)
{
	if (p) {
		bs_queue_free(&p->open);
		free(p);
	}
}

static struct ex_msg *msg_open(struct bs_exim *p, const struct bs_line_ctx *c, bs_str id, bs_time ts)
{
	bool created;
	struct ex_msg *m = (struct ex_msg *)bs_queue_open(&p->open, c, id, &created);
	if (!created)
		return m;
	/* the recipient buffer needs no clearing */
	memset((char *)m + sizeof m->q, 0, offsetof(struct ex_msg, rbuf) - sizeof m->q);
	m->ts = ts;
	m->lineno = c->lineno;
	if (c->sl)
		SET(m, host, c->sl->host);
	return m;
}

/* The recipient's slot in the record, or -1. */
static int rcpt_find(const struct ex_msg *m, bs_str addr)
{
	for (size_t i = 0; i < m->nrcpt; i++)
		if (m->r[i].len == addr.n && memcmp(m->rbuf + m->r[i].off, addr.p, addr.n) == 0)
			return (int)i;
	return -1;
}

static void rcpt_set(struct bs_exim *p, const struct bs_line_ctx *c, struct ex_msg *m, bs_str addr, uint8_t status)
{
	int i = rcpt_find(m, addr);
	if (i >= 0) {
		m->r[i].status = status;
		return;
	}
	if (addr.n > 512) {
		m->dropped++;
		return;
	}
	if (m->nrcpt == EX_MAX_RCPT || m->rbuf_n + addr.n > EX_RCPT_BYTES) {
		emit_msg(p, c, m); /* the record is full: emit what it holds as a part */
		m->parts++;
		m->nrcpt = 0;
		m->rbuf_n = 0;
		m->dropped = 0; /* a part carries the drops since the last */
	}
	memcpy(m->rbuf + m->rbuf_n, addr.p, addr.n);
	m->r[m->nrcpt].off = m->rbuf_n;
	m->r[m->nrcpt].len = (uint16_t)addr.n;
	m->r[m->nrcpt].status = status;
	m->rbuf_n = (uint16_t)(m->rbuf_n + addr.n);
	m->nrcpt++;
}

/* ------------------------------------------------------------ line pieces */

static bool digit(char ch) { return ch >= '0' && ch <= '9'; }

static bool alnum(char ch)
{
	return digit(ch) || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bs_str after(bs_str s, size_t n)
{
	return n >= s.n ? bs_str_make(s.p + s.n, 0) : bs_str_make(s.p + n, s.n - n);
}

static bool starts_with(bs_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static bs_str token(bs_str s)
{
	const char *sp = memchr(s.p, ' ', s.n);
	return bs_str_make(s.p, sp ? (size_t)(sp - s.p) : s.n);
}

static bs_str strip_angle(bs_str s)
{
	if (s.n >= 2 && s.p[0] == '<' && s.p[s.n - 1] == '>')
		return bs_str_make(s.p + 1, s.n - 2);
	return s;
}

/* Message ids: "1abcDE-000123-XY" (6-6-2) and, since 4.97, 6-11-4. */
static bool is_id(bs_str s)
{
	if (s.n < 16 || s.n > 23 || s.p[6] != '-')
		return false;
	const char *dash = memchr(s.p + 7, '-', s.n - 7);
	if (!dash)
		return false;
	size_t mid = (size_t)(dash - s.p - 7), tail = (size_t)(s.p + s.n - dash - 1);
	if (mid < 6 || mid > 11 || tail < 2 || tail > 4)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!alnum(s.p[i]) && s.p + i != dash && i != 6)
			return false;
	return true;
}

/* " KEY=value" where value runs to the next " X=" token (X alphabetic) and
 * may hold a "quoted string". */
static bool field(bs_str s, const char *key, bs_str *val)
{
	size_t kn = strlen(key);
	for (size_t i = 0; i + kn <= s.n; i++) {
		if ((i == 0 || s.p[i - 1] == ' ') && memcmp(s.p + i, key, kn) == 0) {
			const char *v = s.p + i + kn, *end = s.p + s.n, *e = v;
			bool q = false;
			for (; e < end; e++) {
				if (*e == '"')
					q = !q;
				else if (*e == '\\' && e + 1 < end)
					e++;
				else if (!q && *e == ' ') {
					const char *k = e + 1;
					while (k < end && ((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z')))
						k++;
					if (k > e + 1 && k < end && *k == '=')
						break;
				}
			}
			*val = bs_str_make(v, (size_t)(e - v));
			return true;
		}
	}
	return false;
}

/* H= value: "name (helo) [ip]:port", "(helo) [ip]", "[ip]:port". */
static void parse_host(bs_str v, bs_str *name, bs_ip *ip)
{
	memset(ip, 0, sizeof *ip);
	*name = BS_STR_LIT("");
	const char *lb = NULL;
	for (const char *q = v.p; q < v.p + v.n; q++)
		if (*q == '[' && (q == v.p || q[-1] == ' ')) {
			lb = q;
			break;
		}
	if (lb) {
		const char *rb = memchr(lb, ']', (size_t)(v.p + v.n - lb));
		if (rb)
			bs_ip_parse(lb + 1, (size_t)(rb - lb - 1), ip);
	}
	if (v.n && v.p[0] != '(' && v.p[0] != '[')
		*name = token(v);
}

static uint64_t to_u64(bs_str s)
{
	uint64_t v = 0;
	for (size_t i = 0; i < s.n && digit(s.p[i]) && v < UINT64_MAX / 10 - 10; i++)
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	return v;
}

/* ---------------------------------------------------------------- handlers */

static void emit_reject(const struct bs_line_ctx *c, bs_time ts, bs_str id, bs_str rest, bs_str sender, bs_str rcpt,
			bs_str reason)
{
	bs_str h = BS_STR_LIT(""), name;
	bs_ip ip;
	field(rest, "H=", &h);
	parse_host(h, &name, &ip);
	bs_str st = BS_STR_LIT("rejected");
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_MAIL);
	ev.ts = ts;
	ev.src = ip;
	struct bs_ev_mail *e = &ev.u.mail;
	e->queue_id = id;
	e->sender = sender;
	e->rcpts = rcpt.n ? &rcpt : NULL;
	e->rcpt_status = rcpt.n ? &st : NULL;
	e->nrcpt = rcpt.n ? 1 : 0;
	e->local_uid = -1;
	e->rejected = true;
	e->reject_reason = reason;
	e->client_name = name;
	bs_emit(c->sink, &ev);
	if (bs_memmem_ci(reason.p, reason.n, "RBL", 3) || bs_memmem_ci(reason.p, reason.n, "dnsbl", 5) ||
	    bs_memmem_ci(reason.p, reason.n, "black list", 10) || bs_memmem_ci(reason.p, reason.n, "blacklist", 9)) {
		bs_line_event(c, &ev, BS_EV_SPAM);
		ev.ts = ts;
		ev.src = ip;
		ev.u.spam.spam = true;
		ev.u.spam.score = NAN;
		ev.u.spam.sender = sender;
		ev.u.spam.rcpts = rcpt.n ? &rcpt : NULL;
		ev.u.spam.nrcpt = rcpt.n ? 1 : 0;
		ev.u.spam.filter = BS_STR_LIT("exim-rbl");
		bs_emit(c->sink, &ev);
	}
}

/* "H=x [ip] F=<s> rejected RCPT <r>: why", "... rejected after DATA: why" */
static enum bs_verdict on_rejected(const struct bs_line_ctx *c, bs_time ts, bs_str id, bs_str rest, const char *rej)
{
	bs_str f = BS_STR_LIT(""), rcpt = BS_STR_LIT(""), reason = BS_STR_LIT("");
	bs_str tail = after(rest, (size_t)(rej - rest.p) + 10); /* after " rejected " */
	if (field(rest, "F=", &f))
		f = strip_angle(token(f));
	if (bs_str_istarts(tail, "RCPT ")) {
		tail = after(tail, 5);
		const char *colon = memchr(tail.p, ':', tail.n);
		rcpt = strip_angle(bs_str_make(tail.p, colon ? (size_t)(colon - tail.p) : token(tail).n));
		tail = colon ? after(tail, (size_t)(colon - tail.p) + 1) : BS_STR_LIT("");
	} else {
		const char *colon = memchr(tail.p, ':', tail.n);
		if (colon)
			tail = after(tail, (size_t)(colon - tail.p) + 1);
	}
	reason = tail.n && tail.p[0] == ' ' ? after(tail, 1) : tail;
	emit_reject(c, ts, id, rest, f, rcpt, reason);
	return BS_PARSED;
}

/* "dovecot_login authenticator failed for (helo) [ip]:port: 535 Incorrect authentication data (set_id=user)" */
static enum bs_verdict on_auth_failed(const struct bs_line_ctx *c, bs_time ts, bs_str rest, const char *af)
{
	bs_str method = bs_str_make(rest.p, (size_t)(af - rest.p)), user = BS_STR_LIT(""), name;
	const char *set = bs_memmem_ci(rest.p, rest.n, "(set_id=", 8);
	if (set) {
		bs_str t = after(rest, (size_t)(set + 8 - rest.p));
		const char *close = memchr(t.p, ')', t.n);
		user = bs_str_make(t.p, close ? (size_t)(close - t.p) : t.n);
	}
	bs_ip ip;
	bs_str h = after(rest, (size_t)(af - rest.p) + 26); /* after " authenticator failed for " */
	parse_host(h, &name, &ip);
	struct bs_event ev;
	bs_line_auth(c, &ev, BS_AUTH_SMTP, user, method, 0);
	ev.ts = ts;
	ev.src = ip;
	bs_emit(c->sink, &ev);
	return BS_PARSED;
}

/* "<= sender H=... P=esmtpsa A=login:user S=size id=msgid ... for r1 r2" */
static enum bs_verdict on_arrival(struct bs_exim *p, const struct bs_line_ctx *c, bs_time ts, bs_str id, bs_str rest)
{
	struct ex_msg *m = msg_open(p, c, id, ts);
	m->ts = ts;
	m->lineno = c->lineno;
	bs_str sender = token(rest), v, name;
	if (bs_str_eq(sender, "<>"))
		sender = BS_STR_LIT("");
	SET(m, sender, sender);
	if (field(rest, "H=", &v)) {
		parse_host(v, &name, &m->client);
		SET(m, name, name);
	}
	if (field(rest, "A=", &v)) {
		const char *colon = memchr(v.p, ':', v.n);
		bs_str user = token(colon ? after(v, (size_t)(colon - v.p) + 1) : v);
		SET(m, auth, user);
	}
	if (field(rest, "U=", &v)) {
		v = token(v);
		SET(m, luser, v);
	}
	if (field(rest, "S=", &v))
		m->size = to_u64(v);
	if (field(rest, "id=", &v)) {
		v = strip_angle(token(v));
		SET(m, msgid, v);
	}
	/* log_selector +received_recipients: "... for a@x b@y" at the end */
	const char *f = NULL;
	for (const char *q = rest.p; q + 5 <= rest.p + rest.n; q++)
		if (memcmp(q, " for ", 5) == 0)
			f = q;
	if (f) {
		bs_str list = after(rest, (size_t)(f + 5 - rest.p));
		while (list.n) {
			bs_str t = token(list);
			if (t.n && !memchr(t.p, '=', t.n))
				rcpt_set(p, c, m, strip_angle(t), ST_NONE);
			list = after(list, t.n + 1);
		}
	}
	return BS_PARSED;
}

/* "=> bob <bob@example.org>", "=> /var/mail/x (x@dom) <x@dom>": the address
 * as routed (a local part, a file, an alias's target), then the one the
 * message was sent to. When "<= ... for" listed that one, it is the
 * recipient, else one recipient counts twice; otherwise the routed one. */
static bs_str original_rcpt(bs_str rest, bs_str addr)
{
	bs_str t = bs_str_make(addr.p + addr.n, rest.n - addr.n);
	for (int k = 0; k < 2; k++) {
		while (t.n && t.p[0] == ' ')
			t.p++, t.n--;
		bs_str next = token(t);
		if (next.n >= 2 && next.p[0] == '(') { /* the parent address */
			t = bs_str_make(next.p + next.n, t.n - next.n);
			continue;
		}
		return next.n > 2 && next.p[0] == '<' && next.p[next.n - 1] == '>' ? next : addr;
	}
	return addr;
}

/* "=> addr <orig> R=router T=transport H=host [ip] C=..." and ->, **, == */
static enum bs_verdict on_delivery(struct bs_exim *p, const struct bs_line_ctx *c, bs_time ts, bs_str id, bs_str rest,
				   uint8_t status)
{
	bs_str addr = token(rest), v, name;
	if (!addr.n)
		return bs_line_debug(c, "exim", "delivery without an address"), BS_MALFORMED;
	if (addr.n && addr.p[addr.n - 1] == ':') /* "** a@b: reason" */
		addr.n--;
	struct ex_msg *m = msg_open(p, c, id, ts);
	bs_str orig = strip_angle(original_rcpt(rest, addr));
	rcpt_set(p, c, m, rcpt_find(m, orig) >= 0 ? orig : strip_angle(addr), status);
	if (field(rest, "H=", &v)) {
		bs_ip ip;
		parse_host(v, &name, &ip);
		if (name.n)
			SET(m, relay, name);
	}
	return BS_PARSED;
}

enum bs_verdict bs_exim_line(struct bs_exim *p, const struct bs_line_ctx *c, const char *line, size_t len,
			     struct bs_tz *tz)
{
	bs_str rest = bs_str_make(line, len);
	bs_time ts = c->sl ? c->sl->ts : BS_TIME_NONE;
	bs_time own;
	size_t used = bs_line_iso_stamp(rest, tz, &own);
	if (used) {
		rest = after(rest, used);
		if (!c->sl)
			ts = own; /* behind syslog the syslog time stands */
	} else if (!c->sl) {
		return bs_line_debug(c, "exim", "no time stamp"), BS_MALFORMED;
	}
	if (!bs_time_valid(ts))
		return bs_line_debug(c, "exim", BS_TIME_RANGE_WHY), BS_MALFORMED;
	if (rest.n && rest.p[0] == '[') { /* log_selector +pid */
		const char *rb = memchr(rest.p, ']', rest.n < 16 ? rest.n : 16);
		if (rb)
			rest = after(rest, (size_t)(rb - rest.p) + 1 + (rb + 1 < rest.p + rest.n && rb[1] == ' '));
	}
	bs_str id = BS_STR_LIT(""), first = token(rest);
	if (is_id(first)) {
		id = first;
		rest = after(rest, first.n + 1);
	}
	const char *rej = bs_memmem_ci(rest.p, rest.n, " rejected ", 10);
	const char *af = bs_memmem_ci(rest.p, rest.n, " authenticator failed for ", 26);
	if (af && !id.n)
		return on_auth_failed(c, ts, rest, af);
	if (rej && (bs_str_istarts(rest, "H=") || (id.n && bs_memmem_ci(rest.p, rest.n, "H=", 2))))
		return on_rejected(c, ts, id, rest, rej);
	if (!id.n)
		return BS_IGNORED; /* connection notices, protocol errors, "no host name found" ... */
	if (starts_with(rest, "<= "))
		return on_arrival(p, c, ts, id, after(rest, 3));
	if (starts_with(rest, "=> ") || starts_with(rest, "-> ") || starts_with(rest, "*> "))
		return on_delivery(p, c, ts, id, after(rest, 3), rest.p[0] == '*' ? ST_NONE : ST_SENT);
	if (starts_with(rest, "** "))
		return on_delivery(p, c, ts, id, after(rest, 3), ST_BOUNCED);
	if (starts_with(rest, "== "))
		return on_delivery(p, c, ts, id, after(rest, 3), ST_DEFERRED);
	if (bs_str_eq(rest, "Completed") || starts_with(rest, "Completed ")) {
		struct ex_msg *m = msg_find(p, id);
		if (!m)
			return BS_IGNORED; /* arrived in an earlier file */
		if (m->nrcpt || !m->parts)
			emit_msg(p, c, m);
		bs_queue_forget(&p->open, &m->q);
		return BS_PARSED;
	}
	return BS_IGNORED; /* "Message is frozen", "SA: Action", "Frozen", "Unfrozen" ... */
}

uint64_t bs_exim_finish(struct bs_exim *p, const struct bs_line_ctx *c)
{
	return bs_queue_finish(&p->open, c);
}

/* "2024-05-04 17:31:02": a main-log line (syslog ISO lines have a 'T' or a
 * "prog[pid]:" tag and were taken before). */
static bool exim_raw(const char *p, size_t n)
{
	return n >= 20 && digit(p[0]) && digit(p[3]) && p[4] == '-' && p[7] == '-' && p[10] == ' ' && p[13] == ':' &&
	       p[16] == ':';
}

static void *exim_state_new(void) { return bs_exim_new(); }
static void exim_state_free(void *state) { bs_exim_free(state); }
static uint64_t exim_finish(void *state, const struct bs_line_ctx *c) { return bs_exim_finish(state, c); }

static enum bs_verdict exim_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	return bs_exim_line(state, c, text.p, text.n, tz);
}

const struct bs_daemon_def bs_daemon_exim = { .name = "exim", .prog = bs_exim_prog, .raw = exim_raw,
	.state_new = exim_state_new, .state_free = exim_state_free, .line = exim_line, .finish = exim_finish };

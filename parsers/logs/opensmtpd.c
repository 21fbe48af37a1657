/* opensmtpd.c - OpenSMTPD (smtpd): logins and messages by session and msgid.
 *
 * OpenSMTPD 6.4+ writes one line per step of an SMTP session, keyed by the
 * session id:
 *   <sid> smtp connected address=1.2.3.4 host=x
 *   <sid> smtp authentication user=u result=ok|permfail|tempfail
 *   <sid> smtp message msgid=8a1f0b1f size=2154 nrcpt=2 proto=ESMTP
 *   <sid> smtp envelope evpid=8a1f0b1f8e1b0c2d from=<a> to=<b>     (one per recipient)
 *   <sid> mta delivery evpid=... from=<a> to=<b> ... result="Ok"   (outbound)
 * and 6.0-6.3 the same as "smtp event=connected|authentication|message ..."
 * with the message line carrying from=, to= (one), size= itself.
 * Rule: the session's client (connected) is kept in a table; an
 * authentication line emits BS_EV_AUTH (proto smtp) from that client at
 * once; a message emits one BS_EV_MAIL (client, authenticated user, sender,
 * every recipient, size, msgid) when its last announced envelope is seen
 * (the old form: at its message line); one of more than OS_MAX_RCPT
 * recipients is emitted in parts (event.h) as it fills, none dropped. Deliveries, disconnections and failed
 * commands are ignored: the message was counted when it was received. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "parsers/logs/queue.h"

#include <stdlib.h>
#include <string.h>

#define OS_MAX_SESS 4096
#define OS_MAX_MSG 4096
#define OS_MAX_RCPT 32     /* recipients held per message: when full, emitted as a part */
#define OS_RCPT_BYTES 2048
#define OS_ADDR_MAX 512    /* longer is not an address: counted dropped */

struct os_sess {
	struct bs_queue_msg q; /* session id */
	bs_ip client;
	uint8_t name_n, user_n;
	char name[128], user[128];
};

struct os_msg {
	struct bs_queue_msg q; /* msgid */
	bs_time ts;
	uint64_t lineno, size;
	bs_ip client;
	uint16_t nrcpt, rcpt_used, sender_n;
	uint32_t want; /* nrcpt= announced */
	uint32_t dropped, parts, emitted; /* parts emitted so far, with this many recipients */
	uint8_t name_n, user_n, host_n;
	char name[128], user[128], host[64], sender[256];
	uint16_t rcpt_off[OS_MAX_RCPT], rcpt_len[OS_MAX_RCPT];
	char rcpt_text[OS_RCPT_BYTES];
};

struct bs_opensmtpd {
	struct bs_queue sess, msgs;
	bs_str rcpts[OS_MAX_RCPT];
};

#define KEEP(dst, s) do { size_t n_ = (s).n < sizeof(dst) ? (s).n : sizeof(dst); \
	if (n_) \
		memcpy((dst), (s).p, n_); \
	dst##_n = (uint8_t)n_; } while (0)
#define STR(m, f) bs_str_make((m)->f, (m)->f##_n)

static void emit(struct bs_opensmtpd *p, const struct bs_line_ctx *c, const struct os_msg *m)
{
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_MAIL);
	ev.ts = m->ts;
	ev.origin.ref = m->lineno;
	ev.host = STR(m, host);
	ev.src = m->client;
	for (size_t i = 0; i < m->nrcpt; i++)
		p->rcpts[i] = bs_str_make(m->rcpt_text + m->rcpt_off[i], m->rcpt_len[i]);
	struct bs_ev_mail *e = &ev.u.mail;
	e->queue_id = bs_queue_qid(&m->q);
	e->message_id = e->local_user = e->relay = BS_STR_LIT("");
	e->sender = bs_str_make(m->sender, m->sender_n);
	e->rcpts = p->rcpts;
	e->nrcpt = m->nrcpt;
	e->rcpts_dropped = m->dropped;
	e->part = m->parts;
	e->size = m->size;
	e->local_uid = -1;
	e->sasl_user = STR(m, user);
	e->client_name = STR(m, name);
	bs_emit(c->sink, &ev);
}

/* The message's last part: the only one, or what is held after the others. */
static void flush_msg(void *owner, const struct bs_line_ctx *c, struct bs_queue_msg *q)
{
	const struct os_msg *m = (const struct os_msg *)q;
	if (m->nrcpt || !m->parts)
		emit(owner, c, m);
}

static void flush_nothing(void *owner, const struct bs_line_ctx *c, struct bs_queue_msg *q)
{
	(void)owner, (void)c, (void)q; /* a session carries no event of its own */
}

static const struct bs_queue_def sess_table = {
	.msg_size = sizeof(struct os_sess), .max_open = OS_MAX_SESS, .seed = 17,
	.when_full = BS_QUEUE_EVICT_OLDEST, .flush_order = BS_QUEUE_OLDEST_FIRST, .flush = flush_nothing,
};

static const struct bs_queue_def msg_table = {
	.msg_size = sizeof(struct os_msg), .max_open = OS_MAX_MSG, .seed = 19,
	.when_full = BS_QUEUE_EVICT_OLDEST, .flush_order = BS_QUEUE_OLDEST_FIRST, .flush = flush_msg,
};

static void *opensmtpd_state_new(void)
{
	struct bs_opensmtpd *p = bs_xcalloc(1, sizeof *p);
	bs_queue_init(&p->sess, &sess_table, p);
	bs_queue_init(&p->msgs, &msg_table, p);
	return p;
}

static void opensmtpd_state_free(void *state)
{
	struct bs_opensmtpd *p = state;
	if (p) {
		bs_queue_free(&p->sess);
		bs_queue_free(&p->msgs);
		free(p);
	}
}

static uint64_t opensmtpd_finish(void *state, const struct bs_line_ctx *c)
{
	struct bs_opensmtpd *p = state;
	bs_queue_finish(&p->sess, c);
	return bs_queue_finish(&p->msgs, c);
}

/* ------------------------------------------------------------ line pieces */

/* The value of " key=" (or key= at the start), up to the next space; a
 * quoted value ("...") without its quotes. */
static bool field(bs_str s, const char *key, bs_str *val)
{
	size_t kn = strlen(key);
	for (size_t i = 0; i + kn + 1 <= s.n; i++) {
		if ((i == 0 || s.p[i - 1] == ' ') && memcmp(s.p + i, key, kn) == 0 && s.p[i + kn] == '=') {
			const char *v = s.p + i + kn + 1, *end = s.p + s.n;
			const char *e;
			if (v < end && *v == '"') {
				v++;
				e = memchr(v, '"', (size_t)(end - v));
				if (!e)
					e = end;
			} else {
				e = memchr(v, ' ', (size_t)(end - v));
				if (!e)
					e = end;
			}
			*val = bs_str_make(v, (size_t)(e - v));
			return true;
		}
	}
	return false;
}

static bs_str strip_angle(bs_str s)
{
	if (s.n >= 2 && s.p[0] == '<' && s.p[s.n - 1] == '>')
		return bs_str_make(s.p + 1, s.n - 2);
	return s;
}

static uint64_t to_u64(bs_str s)
{
	uint64_t v = 0;
	for (size_t i = 0; i < s.n && i < 19 && s.p[i] >= '0' && s.p[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	return v;
}

static bool is_hex_id(bs_str s)
{
	if (s.n < 8 || s.n >= BS_QID_MAX)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!((s.p[i] >= '0' && s.p[i] <= '9') || (s.p[i] >= 'a' && s.p[i] <= 'f')))
			return false;
	return true;
}

/* ------------------------------------------------------------ steps */

static enum bs_verdict connected(struct bs_opensmtpd *p, const struct bs_line_ctx *c, bs_str sid, bs_str kv)
{
	bs_str addr, host = BS_STR_LIT("");
	if (!field(kv, "address", &addr))
		return BS_MALFORMED;
	field(kv, "host", &host);
	bool created;
	struct os_sess *s = (struct os_sess *)bs_queue_open(&p->sess, c, sid, &created);
	memset(&s->client, 0, sizeof s->client);
	bs_ip_parse(addr.p, addr.n, &s->client); /* "local" for the local enqueuer */
	KEEP(s->name, host);
	s->user_n = 0;
	return BS_PARSED;
}

static enum bs_verdict authentication(struct bs_opensmtpd *p, const struct bs_line_ctx *c, bs_str sid, bs_str kv)
{
	bs_str user, result;
	if (!field(kv, "user", &user) || !field(kv, "result", &result))
		return BS_MALFORMED;
	bool ok = bs_str_eq(result, "ok");
	struct os_sess *s = (struct os_sess *)bs_queue_find(&p->sess, sid);
	struct bs_event ev;
	bs_line_auth(c, &ev, BS_AUTH_SMTP, user, BS_STR_LIT(""), ok ? 1 : 0);
	ev.u.auth.session = sid;
	bs_str addr;
	if (s)
		ev.src = s->client;
	else if (field(kv, "address", &addr)) /* the old form names it again */
		bs_ip_parse(addr.p, addr.n, &ev.src);
	if (ok && s)
		KEEP(s->user, user);
	bs_emit(c->sink, &ev);
	return BS_PARSED;
}

/* A recipient of the part being held; when the part is full, it is emitted
 * (event.h) and forgotten, so none is dropped. */
static void add_rcpt(struct bs_opensmtpd *p, const struct bs_line_ctx *c, struct os_msg *m, bs_str rcpt)
{
	if (rcpt.n > OS_ADDR_MAX) {
		m->dropped++;
		return;
	}
	if (m->nrcpt == OS_MAX_RCPT || rcpt.n > sizeof m->rcpt_text - m->rcpt_used) {
		emit(p, c, m);
		m->parts++;
		m->emitted += m->nrcpt + m->dropped; /* a part carries the drops since the last */
		m->nrcpt = m->rcpt_used = 0;
		m->dropped = 0;
	}
	m->rcpt_off[m->nrcpt] = m->rcpt_used;
	m->rcpt_len[m->nrcpt] = (uint16_t)rcpt.n;
	memcpy(m->rcpt_text + m->rcpt_used, rcpt.p, rcpt.n);
	m->rcpt_used = (uint16_t)(m->rcpt_used + rcpt.n);
	m->nrcpt++;
}

static struct os_msg *open_msg(struct bs_opensmtpd *p, const struct bs_line_ctx *c, bs_str sid, bs_str msgid)
{
	bool created;
	struct os_msg *m = (struct os_msg *)bs_queue_open(&p->msgs, c, msgid, &created);
	if (!created)
		return m;
	m->ts = c->sl->ts;
	m->lineno = c->lineno;
	m->size = 0;
	m->nrcpt = m->want = m->rcpt_used = m->sender_n = 0;
	m->dropped = m->parts = m->emitted = 0;
	m->name_n = m->user_n = 0;
	KEEP(m->host, c->sl->host);
	memset(&m->client, 0, sizeof m->client);
	struct os_sess *s = (struct os_sess *)bs_queue_find(&p->sess, sid);
	if (s) {
		m->client = s->client;
		memcpy(m->name, s->name, m->name_n = s->name_n);
		memcpy(m->user, s->user, m->user_n = s->user_n);
	}
	return m;
}

static void set_sender(struct os_msg *m, bs_str from)
{
	from = strip_angle(from);
	m->sender_n = (uint16_t)(from.n < sizeof m->sender ? from.n : sizeof m->sender);
	memcpy(m->sender, from.p, m->sender_n);
}

static void done(struct bs_opensmtpd *p, const struct bs_line_ctx *c, struct os_msg *m)
{
	flush_msg(p, c, &m->q);
	bs_queue_forget(&p->msgs, &m->q);
}

/* "msgid=8a1f0b1f size=2154 nrcpt=2 proto=ESMTP"; the old form
 * "msgid=... from=<a> to=<b> size=N ndest=1 proto=ESMTP" is whole. */
static enum bs_verdict message(struct bs_opensmtpd *p, const struct bs_line_ctx *c, bs_str sid, bs_str kv)
{
	bs_str msgid, v, from, to;
	if (!field(kv, "msgid", &msgid) || !is_hex_id(msgid))
		return BS_MALFORMED;
	struct os_msg *m = open_msg(p, c, sid, msgid);
	if (field(kv, "size", &v))
		m->size = to_u64(v);
	if (field(kv, "from", &from) && field(kv, "to", &to)) {
		set_sender(m, from);
		add_rcpt(p, c, m, strip_angle(to));
		done(p, c, m);
		return BS_PARSED;
	}
	m->want = field(kv, "nrcpt", &v) ? (uint32_t)to_u64(v) : 0;
	if (m->want && m->emitted + m->nrcpt + m->dropped >= m->want)
		done(p, c, m);
	return BS_PARSED;
}

/* "evpid=8a1f0b1f8e1b0c2d from=<a> to=<b>": the msgid is the evpid's first 8 digits. */
static enum bs_verdict envelope(struct bs_opensmtpd *p, const struct bs_line_ctx *c, bs_str sid, bs_str kv)
{
	bs_str evpid, from, to;
	if (!field(kv, "evpid", &evpid) || !is_hex_id(evpid) || !field(kv, "from", &from) || !field(kv, "to", &to))
		return BS_MALFORMED;
	struct os_msg *m = open_msg(p, c, sid, bs_str_make(evpid.p, 8));
	set_sender(m, from);
	add_rcpt(p, c, m, strip_angle(to));
	if (m->want && m->emitted + m->nrcpt + m->dropped >= m->want)
		done(p, c, m);
	return BS_PARSED;
}

static enum bs_verdict opensmtpd_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)tz;
	const char *sp = text.n ? memchr(text.p, ' ', text.n) : NULL;
	if (!sp)
		return BS_IGNORED;
	bs_str sid = bs_str_make(text.p, (size_t)(sp - text.p));
	bs_str rest = bs_str_make(sp + 1, (size_t)(text.p + text.n - sp - 1));
	if (!is_hex_id(sid) || !bs_line_skip(&rest, "smtp "))
		return BS_IGNORED; /* mta delivery, info/warn lines, startup */
	bs_line_skip(&rest, "event="); /* 6.0-6.3 */
	if (bs_line_skip(&rest, "connected "))
		return connected(state, c, sid, rest);
	if (bs_line_skip(&rest, "authentication "))
		return authentication(state, c, sid, rest);
	if (bs_line_skip(&rest, "message "))
		return message(state, c, sid, rest);
	if (bs_line_skip(&rest, "envelope "))
		return envelope(state, c, sid, rest);
	if (bs_line_skip(&rest, "disconnected") || bs_line_skip(&rest, "closed")) {
		struct os_sess *s = (struct os_sess *)bs_queue_find(&((struct bs_opensmtpd *)state)->sess, sid);
		if (s)
			bs_queue_forget(&((struct bs_opensmtpd *)state)->sess, &s->q);
	}
	return BS_IGNORED; /* failed-command, tls, disconnected ... */
}

static bool opensmtpd_prog(bs_str prog)
{
	return bs_str_eq(prog, "smtpd");
}

/* smtpd is also the name of Postfix's smtpd when logged without "postfix/"
 * and of other servers: only OpenSMTPD opens with a hex session id. */
static bool opensmtpd_shape(bs_str msg)
{
	const char *sp = msg.n ? memchr(msg.p, ' ', msg.n) : NULL;
	return sp && is_hex_id(bs_str_make(msg.p, (size_t)(sp - msg.p)));
}

const struct bs_daemon_def bs_daemon_opensmtpd = { .name = "opensmtpd", .prog = opensmtpd_prog,
	.shape = opensmtpd_shape, .state_new = opensmtpd_state_new, .state_free = opensmtpd_state_free,
	.line = opensmtpd_line, .finish = opensmtpd_finish };

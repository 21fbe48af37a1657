/* sendmail.c - Sendmail (sm-mta, sendmail, sm-msp-queue): messages by queue id.
 *
 * Sendmail logs one "from=" line per message, then one "to=" line per
 * delivery attempt (each naming one or more recipients and their common
 * stat=). Rule: every to= line emits one BS_EV_MAIL with its recipients and
 * their status, completed with the sender, client, size, message id and
 * submitter of the message's from= line (time and line of the from= line:
 * the submission). The message is forgotten once as many recipients had a
 * final status (Sent, or a permanent failure) as its from= line announced
 * (nrcpts=); bs_sendmail_finish emits the messages that never had a
 * delivery line. Rejects ("ruleset=check_* ... reject=") and AUTH lines
 * emit at once. State: fixed-size records in a queue.h table, at most
 * SM_MAX_OPEN open; when full every open message is flushed unfinished. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "parsers/logs/queue.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SM_MAX_OPEN 16384

/* A bounded copy of a string. */
#define FIXSTR(name, size) char name[size]; uint16_t name##_n

struct sm_msg {
	struct bs_queue_msg q; /* queue id, links */
	bs_time ts;
	uint64_t lineno, size;
	bs_ip client;
	long uid;
	int nrcpts, ndone;
	FIXSTR(host, 64);
	FIXSTR(name, 128);
	FIXSTR(sender, 256);
	FIXSTR(msgid, 192);
	FIXSTR(auth, 128);
	FIXSTR(luser, 64);
};

struct bs_sendmail {
	struct bs_queue open; /* open messages */
	bs_str rcpts[BS_MAIL_MAX_RCPT], status[BS_MAIL_MAX_RCPT];
};

/* An empty field may have no bytes at all (p NULL): nothing to copy then. */
#define COPY(dst, s) do { size_t n_ = (s).n < sizeof(dst) ? (s).n : sizeof(dst); \
	if (n_) { memcpy((dst), (s).p, n_); } \
	dst##_n = (uint16_t)n_; } while (0)
#define STR(m, f) bs_str_make((m)->f, (m)->f##_n)

bool bs_sendmail_prog(bs_str prog)
{
	/* sm-mta, sm-msp-queue, and the process titles sm-acceptingconnections ... */
	return bs_str_eq(prog, "sendmail") || (prog.n > 3 && memcmp(prog.p, "sm-", 3) == 0);
}

static struct sm_msg *find(struct bs_sendmail *p, bs_str qid)
{
	return (struct sm_msg *)bs_queue_find(&p->open, qid);
}

static void forget(struct bs_sendmail *p, struct sm_msg *m)
{
	bs_queue_forget(&p->open, &m->q);
}

static void emit(struct bs_sendmail *p, const struct bs_line_ctx *c, const struct sm_msg *m, bs_str qid,
		 size_t nrcpt, uint32_t part, bs_str relay)
{
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_MAIL);
	struct bs_ev_mail *e = &ev.u.mail;
	e->queue_id = qid;
	e->rcpts = p->rcpts;
	e->rcpt_status = p->status;
	e->nrcpt = nrcpt;
	e->part = part;
	e->relay = relay;
	e->local_uid = -1;
	if (m) {
		ev.ts = m->ts;
		ev.origin.ref = m->lineno;
		ev.host = STR(m, host);
		ev.src = m->client;
		e->sender = STR(m, sender);
		e->message_id = STR(m, msgid);
		e->sasl_user = STR(m, auth);
		e->local_user = STR(m, luser);
		e->local_uid = m->uid;
		e->size = m->size;
		e->client_name = STR(m, name);
	}
	bs_emit(c->sink, &ev);
}

/* A message flushed unfinished (table full, end of input): it is emitted
 * only if no delivery line did. */
static void flush_msg(void *owner, const struct bs_line_ctx *c, struct bs_queue_msg *q)
{
	const struct sm_msg *m = (const struct sm_msg *)q;
	if (m->ndone == 0)
		emit(owner, c, m, bs_queue_qid(q), 0, 0, BS_STR_LIT(""));
}

static const struct bs_queue_def msg_table = {
	.msg_size = sizeof(struct sm_msg),
	.max_open = SM_MAX_OPEN, /* rare: a flood of messages never delivered */
	.seed = 7,
	.when_full = BS_QUEUE_FLUSH_ALL,
	.flush_order = BS_QUEUE_SLOT_ORDER,
	.flush = flush_msg,
};

struct bs_sendmail *bs_sendmail_new(void)
{
	struct bs_sendmail *p = bs_xcalloc(1, sizeof *p);
	bs_queue_init(&p->open, &msg_table, p);
	return p;
}

void bs_sendmail_free(struct bs_sendmail *p)
{
	if (p) {
		bs_queue_free(&p->open);
		free(p);
	}
}

static struct sm_msg *open_msg(struct bs_sendmail *p, const struct bs_line_ctx *c, bs_str qid)
{
	bool created;
	struct sm_msg *m = (struct sm_msg *)bs_queue_open(&p->open, c, qid, &created);
	if (!created)
		return m;
	*m = (struct sm_msg){ .q = m->q };
	m->ts = c->sl ? c->sl->ts : BS_TIME_NONE;
	m->lineno = c->lineno;
	m->uid = -1;
	if (c->sl)
		COPY(m->host, c->sl->host);
	return m;
}

/* ------------------------------------------------------------ line pieces */

static bs_str after(bs_str s, size_t n)
{
	return n >= s.n ? bs_str_make(s.p + s.n, 0) : bs_str_make(s.p + n, s.n - n);
}

static bs_str strip_angle(bs_str s)
{
	if (s.n >= 2 && s.p[0] == '<' && s.p[s.n - 1] == '>')
		return bs_str_make(s.p + 1, s.n - 2);
	return s;
}

/* Value of "key=" (at the start or after ", "), up to the next ", " or the end. */
static bool field(bs_str s, const char *key, bs_str *val)
{
	size_t kn = strlen(key);
	for (size_t i = 0; i + kn <= s.n; i++) {
		if ((i == 0 || (i >= 2 && s.p[i - 2] == ',' && s.p[i - 1] == ' ')) && memcmp(s.p + i, key, kn) == 0) {
			const char *v = s.p + i + kn, *end = s.p + s.n, *e = v;
			while (e < end && !(e[0] == ',' && e + 1 < end && e[1] == ' '))
				e++;
			*val = bs_str_make(v, (size_t)(e - v));
			return true;
		}
	}
	return false;
}

/* "name [ip]", "[ip]", "name. [ip] (may be forged)", "user@localhost". */
static void parse_relay(bs_str v, bs_str *name, bs_ip *ip)
{
	memset(ip, 0, sizeof *ip);
	*name = v;
	const char *lb = memchr(v.p, '[', v.n);
	if (!lb) {
		return;
	}
	const char *rb = memchr(lb, ']', (size_t)(v.p + v.n - lb));
	if (rb)
		bs_ip_parse(lb + 1, (size_t)(rb - lb - 1), ip);
	name->n = lb > v.p && lb[-1] == ' ' ? (size_t)(lb - 1 - v.p) : 0;
	if (name->n && name->p[name->n - 1] == '.')
		name->n--;
}

static uint64_t to_u64(bs_str s)
{
	uint64_t v = 0;
	for (size_t i = 0; i < s.n && s.p[i] >= '0' && s.p[i] <= '9' && v < UINT64_MAX / 10 - 10; i++)
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	return v;
}

/* Queue ids: 14 characters since 8.12 ("s1P819mk027713"), shorter before. */
static bool is_qid(bs_str s)
{
	if (s.n < 8 || s.n >= BS_QID_MAX)
		return false;
	bool digit = false;
	for (size_t i = 0; i < s.n; i++) {
		char ch = s.p[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')))
			return false;
		digit |= ch >= '0' && ch <= '9';
	}
	return digit;
}

static bool rbl_like(bs_str reason)
{
	static const char *const words[] = { "blacklist", "blocklist", "RBL", "spamhaus", "listed at", "blocked using", "SpamCop" };
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (bs_memmem_ci(reason.p, reason.n, words[i], strlen(words[i])))
			return true;
	return false;
}

/* --------------------------------------------------------------- handlers */

static enum bs_verdict on_from(struct bs_sendmail *p, const struct bs_line_ctx *c, bs_str qid, bs_str rest)
{
	bs_str v;
	if (!field(rest, "from=", &v))
		return bs_line_debug(c, "sendmail", "from= unreadable"), BS_MALFORMED;
	struct sm_msg *m = open_msg(p, c, qid);
	bs_str sender = strip_angle(v);
	COPY(m->sender, sender);
	if (field(rest, "size=", &v))
		m->size = to_u64(v);
	if (field(rest, "nrcpts=", &v))
		m->nrcpts = (int)to_u64(v);
	if (field(rest, "msgid=", &v)) {
		bs_str id = strip_angle(v);
		COPY(m->msgid, id);
	}
	if (field(rest, "relay=", &v)) {
		bs_str name;
		parse_relay(v, &name, &m->client);
		if (!m->client.family && memchr(v.p, '@', v.n)) {
			/* local submission (sm-msp-queue): relay=user@localhost */
			bs_str user = bs_str_make(v.p, (size_t)((const char *)memchr(v.p, '@', v.n) - v.p));
			COPY(m->luser, user);
		} else {
			COPY(m->name, name);
		}
	}
	return BS_PARSED;
}

static enum bs_verdict on_to(struct bs_sendmail *p, const struct bs_line_ctx *c, bs_str qid, bs_str rest)
{
	bs_str to, stat, v, relay = BS_STR_LIT("");
	if (!field(rest, "to=", &to) || !field(rest, "stat=", &stat))
		return bs_line_debug(c, "sendmail", "to= without stat="), BS_MALFORMED;
	const char *status = "bounced";
	bool final = true;
	if (bs_str_istarts(stat, "Sent")) {
		status = "sent";
	} else if (bs_str_istarts(stat, "Deferred") || bs_str_istarts(stat, "queued")) {
		status = "deferred";
		final = false;
	}
	struct sm_msg *m = find(p, qid);
	if (field(rest, "ctladdr=", &v)) {
		/* ctladdr=<www-data> (33/33): the local submitter and its uid */
		if (!m)
			m = open_msg(p, c, qid);
		const char *paren = memchr(v.p, '(', v.n);
		bs_str user = strip_angle(bs_str_make(v.p, paren && paren > v.p ? (size_t)(paren - 1 - v.p) : v.n));
		COPY(m->luser, user);
		if (paren)
			m->uid = (long)to_u64(bs_str_make(paren + 1, (size_t)(v.p + v.n - paren - 1)));
	}
	if (field(rest, "relay=", &v))
		relay = v;
	/* A line of more than BS_MAIL_MAX_RCPT recipients is emitted in parts. */
	size_t n = 0, total = 0;
	uint32_t part = 0;
	const char *s = to.p, *end = to.p + to.n;
	while (s < end) {
		const char *e = memchr(s, ',', (size_t)(end - s));
		if (!e)
			e = end;
		bs_str a = strip_angle(bs_str_make(s, (size_t)(e - s)));
		if (a.n) {
			if (n == BS_MAIL_MAX_RCPT) {
				emit(p, c, m, qid, n, part++, relay);
				n = 0;
			}
			p->rcpts[n] = a;
			p->status[n] = bs_str_make(status, strlen(status));
			n++;
			total++;
		}
		s = e + 1;
	}
	emit(p, c, m, qid, n, part, relay);
	if (m && final) { /* a deferred recipient keeps the message open */
		m->ndone += (int)total;
		if (m->ndone >= m->nrcpts)
			forget(p, m);
	}
	return BS_PARSED;
}

/* "ruleset=check_rcpt, arg1=<a>, relay=name [ip], reject=550 5.7.1 <a>... Relaying denied" */
static enum bs_verdict on_ruleset(struct bs_sendmail *p, const struct bs_line_ctx *c, bs_str qid, bs_str rest)
{
	bs_str rule, arg1 = BS_STR_LIT(""), relay = BS_STR_LIT(""), reject, name;
	if (!field(rest, "ruleset=", &rule))
		return BS_IGNORED;
	if (!field(rest, "reject=", &reject))
		return BS_IGNORED; /* a ruleset that only logged (e.g. "discard") */
	field(rest, "arg1=", &arg1);
	field(rest, "relay=", &relay);
	bs_ip ip;
	parse_relay(relay, &name, &ip);
	bs_str addr = strip_angle(arg1), st = BS_STR_LIT("rejected");
	bool rcpt = bs_str_eq(rule, "check_rcpt"), mail = bs_str_eq(rule, "check_mail");
	const struct sm_msg *m = qid.n ? find(p, qid) : NULL;
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_MAIL);
	ev.src = ip;
	struct bs_ev_mail *e = &ev.u.mail;
	e->queue_id = qid;
	e->sender = mail ? addr : m ? STR(m, sender) : BS_STR_LIT("");
	e->rcpts = rcpt ? &addr : NULL;
	e->rcpt_status = rcpt ? &st : NULL;
	e->nrcpt = rcpt ? 1 : 0;
	e->local_uid = -1;
	e->rejected = true;
	e->reject_reason = reject;
	e->client_name = name;
	bs_emit(c->sink, &ev);
	if (rbl_like(reject)) {
		bs_line_event(c, &ev, BS_EV_SPAM);
		ev.src = ip;
		ev.u.spam.spam = true;
		ev.u.spam.score = NAN;
		ev.u.spam.sender = mail ? addr : BS_STR_LIT("");
		ev.u.spam.rcpts = rcpt ? &addr : NULL;
		ev.u.spam.nrcpt = rcpt ? 1 : 0;
		ev.u.spam.filter = BS_STR_LIT("sendmail-rbl");
		bs_emit(c->sink, &ev);
	}
	return BS_PARSED;
}

/* "AUTH=server, relay=name [ip], authid=user, mech=LOGIN, bits=0" and
 * "AUTH failure (LOGIN): authentication failure (-13) ..., user=u, relay=name [ip]" */
static enum bs_verdict on_auth(struct bs_sendmail *p, const struct bs_line_ctx *c, bs_str qid, bs_str rest, bool success)
{
	bs_str relay = BS_STR_LIT(""), user = BS_STR_LIT(""), method = BS_STR_LIT(""), name;
	field(rest, "relay=", &relay);
	if (success) {
		field(rest, "authid=", &user);
		field(rest, "mech=", &method);
	} else {
		const char *u = bs_memmem_ci(rest.p, rest.n, " user=", 6);
		if (u) {
			bs_str tail = after(rest, (size_t)(u + 6 - rest.p));
			const char *e = memchr(tail.p, ',', tail.n);
			user = bs_str_make(tail.p, e ? (size_t)(e - tail.p) : tail.n);
		}
		const char *lp = memchr(rest.p, '(', rest.n), *rp = lp ? memchr(lp, ')', (size_t)(rest.p + rest.n - lp)) : NULL;
		if (rp)
			method = bs_str_make(lp + 1, (size_t)(rp - lp - 1));
	}
	bs_ip ip;
	parse_relay(relay, &name, &ip);
	if (success && qid.n) {
		struct sm_msg *m = open_msg(p, c, qid);
		COPY(m->auth, user);
	}
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_AUTH);
	ev.src = ip;
	ev.u.auth.proto = BS_AUTH_SMTP;
	ev.u.auth.user = user;
	ev.u.auth.method = method;
	ev.u.auth.success = success ? 1 : 0;
	ev.u.auth.session = qid;
	bs_emit(c->sink, &ev);
	return BS_PARSED;
}

enum bs_verdict bs_sendmail_line(struct bs_sendmail *p, const struct bs_line_ctx *c)
{
	if (!c->sl)
		return BS_IGNORED;
	bs_str msg = c->sl->msg, qid = BS_STR_LIT(""), rest = msg;
	const char *colon = memchr(msg.p, ':', msg.n < 25 ? msg.n : 25);
	if (colon && colon + 1 < msg.p + msg.n && colon[1] == ' ' && is_qid(bs_str_make(msg.p, (size_t)(colon - msg.p)))) {
		qid = bs_str_make(msg.p, (size_t)(colon - msg.p));
		rest = after(msg, qid.n + 2);
	}
	if (bs_str_istarts(rest, "ruleset="))
		return on_ruleset(p, c, qid, rest);
	if (bs_str_istarts(rest, "AUTH="))
		return on_auth(p, c, qid, rest, true);
	if (bs_str_istarts(rest, "AUTH failure"))
		return on_auth(p, c, qid, rest, false);
	if (!qid.n)
		return BS_IGNORED; /* STARTTLS, daemon start, "rejecting commands" ... */
	if (bs_str_istarts(rest, "from="))
		return on_from(p, c, qid, rest);
	if (bs_str_istarts(rest, "to="))
		return on_to(p, c, qid, rest);
	if (rest.n > 2 && rest.p[0] == '<') {
		/* "QID: <user@x>... User unknown": a recipient refused in the SMTP dialogue */
		const char *dots = bs_memmem_ci(rest.p, rest.n, ">... ", 5);
		if (dots) {
			bs_str addr = bs_str_make(rest.p + 1, (size_t)(dots - rest.p - 1)), st = BS_STR_LIT("rejected");
			const struct sm_msg *m = find(p, qid);
			struct bs_event ev;
			bs_line_event(c, &ev, BS_EV_MAIL);
			struct bs_ev_mail *e = &ev.u.mail;
			if (m) {
				ev.src = m->client;
				e->sender = STR(m, sender);
				e->client_name = STR(m, name);
			}
			e->queue_id = qid;
			e->rcpts = &addr;
			e->rcpt_status = &st;
			e->nrcpt = 1;
			e->local_uid = -1;
			e->rejected = true;
			e->reject_reason = after(rest, (size_t)(dots + 5 - rest.p));
			bs_emit(c->sink, &ev);
			return BS_PARSED;
		}
	}
	/* "QID2: DSN: ...", "possible SMTP attack", "EXPN root [rejected]", "Milter ..." */
	return BS_IGNORED;
}

uint64_t bs_sendmail_finish(struct bs_sendmail *p, const struct bs_line_ctx *c)
{
	return bs_queue_finish(&p->open, c);
}

static void *sendmail_state_new(void) { return bs_sendmail_new(); }
static void sendmail_state_free(void *state) { bs_sendmail_free(state); }
static uint64_t sendmail_finish(void *state, const struct bs_line_ctx *c) { return bs_sendmail_finish(state, c); }

static enum bs_verdict sendmail_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)text, (void)tz;
	return bs_sendmail_line(state, c);
}

const struct bs_daemon_def bs_daemon_sendmail = { .name = "sendmail", .prog = bs_sendmail_prog, .state_new = sendmail_state_new,
	.state_free = sendmail_state_free, .line = sendmail_line, .finish = sendmail_finish };

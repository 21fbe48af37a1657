/* qmail.c - qmail-send, qmail-smtpd and rblsmtpd: messages by message number.
 *
 * qmail writes through multilog ("@4000000063ea1b2c0e6b7f4c new msg 123",
 * a TAI64N stamp) or through splogger to syslog ("qmail: 1157520813.485077
 * new msg 123"). qmail-send's lines of one message, joined by its number
 * (the inode of its queue file):
 *   new msg 123
 *   info msg 123: bytes 2345 from <s@x> qp 4567 uid 89
 *   starting delivery 12: msg 123 to remote r@y     (delivery 12 -> message 123)
 *   delivery 12: success: ...|deferral: ...|failure: ...
 *   end msg 123
 * Rule: "end msg" emits one BS_EV_MAIL with the sender, size, uid (the
 * injecting process's: qmaild's for mail received by SMTP), every recipient
 * with its last status (sent, deferred, bounced; "" when no result was
 * logged) at the time and line of "new msg" (or "info msg"). Messages never
 * ended are flushed at the end of input. A message of more than QM_MAX_RCPT
 * recipients is emitted in parts (event.h) as it fills, none dropped; a
 * result for a recipient of a part already emitted adds it again, with its
 * status, to the part being held (the delivery keeps the address). rblsmtpd's and qmail-smtpd's RBL
 * refusals emit a rejected BS_EV_MAIL and a BS_EV_SPAM (filter "rblsmtpd")
 * at once; tcpserver, status and bounce lines are ignored. State: two
 * queue.h tables (open messages, deliveries in progress). */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "parsers/logs/queue.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QM_MAX_OPEN 16384
#define QM_MAX_DLV 4096
#define QM_MAX_RCPT 32      /* recipients held per message: when full, emitted as a part */
#define QM_RCPT_BYTES 2048  /* their text */
#define QM_ADDR_MAX 512     /* longer is not an address: counted dropped */

enum qm_status { QM_PENDING, QM_SENT, QM_DEFERRED, QM_BOUNCED };

struct qm_msg {
	struct bs_queue_msg q; /* message number */
	bs_time ts;
	uint64_t lineno, size;
	long uid;
	uint16_t sender_n, rcpt_used, nrcpt;
	uint32_t dropped, parts; /* parts: emitted so far */
	uint8_t host_n;
	char host[64]; /* the syslog host, for a message flushed at the end */
	char sender[256];
	uint16_t rcpt_off[QM_MAX_RCPT], rcpt_len[QM_MAX_RCPT];
	uint8_t rcpt_status[QM_MAX_RCPT];
	char rcpt_text[QM_RCPT_BYTES];
};

struct qm_dlv {
	struct bs_queue_msg q; /* delivery number */
	char msg[BS_QID_MAX];
	uint8_t msg_n, rcpt; /* rcpt: index in the message's part, QM_MAX_RCPT if not kept */
	uint32_t part;       /* the part holding it: once emitted, a result adds it again */
	uint16_t addr_n;
	char addr[QM_ADDR_MAX];
};

struct bs_qmail {
	struct bs_queue msgs, dlvs;
	bs_str rcpts[QM_MAX_RCPT], status[QM_MAX_RCPT];
};

static const char *const status_name[] = { "", "sent", "deferred", "bounced" };

static void emit(struct bs_qmail *p, const struct bs_line_ctx *c, const struct qm_msg *m)
{
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_MAIL);
	ev.ts = m->ts;
	ev.origin.ref = m->lineno;
	ev.host = bs_str_make(m->host, m->host_n);
	struct bs_ev_mail *e = &ev.u.mail;
	for (size_t i = 0; i < m->nrcpt; i++) {
		p->rcpts[i] = bs_str_make(m->rcpt_text + m->rcpt_off[i], m->rcpt_len[i]);
		const char *st = status_name[m->rcpt_status[i]];
		p->status[i] = bs_str_make(st, strlen(st));
	}
	e->queue_id = bs_queue_qid(&m->q);
	e->message_id = e->sasl_user = e->local_user = e->relay = e->client_name = BS_STR_LIT("");
	e->sender = bs_str_make(m->sender, m->sender_n);
	e->rcpts = p->rcpts;
	e->rcpt_status = p->status;
	e->nrcpt = m->nrcpt;
	e->rcpts_dropped = m->dropped;
	e->part = m->parts;
	e->size = m->size;
	/* Not local_uid: qmail logs the uid of whatever queued the message, which
	 * for mail received by SMTP is qmaild's, so every inbound message would
	 * read as a local submission (the engine's mark of a web server mailing
	 * out). The uid is kept in local_user, as text, for the timeline. */
	e->local_uid = -1;
	char uid[24];
	int un = m->uid >= 0 ? snprintf(uid, sizeof uid, "uid %ld", (long)m->uid) : 0;
	if (un > 0)
		e->local_user = bs_str_make(uid, (size_t)un);
	bs_emit(c->sink, &ev);
}

/* The message's last part: the only one, or what is held after the others. */
static void flush_msg(void *owner, const struct bs_line_ctx *c, struct bs_queue_msg *q)
{
	const struct qm_msg *m = (const struct qm_msg *)q;
	if (m->nrcpt || !m->parts)
		emit(owner, c, m);
}

static void flush_nothing(void *owner, const struct bs_line_ctx *c, struct bs_queue_msg *q)
{
	(void)owner, (void)c, (void)q; /* a delivery whose result never came: its recipient stays pending */
}

static const struct bs_queue_def msg_table = {
	.msg_size = sizeof(struct qm_msg),
	.max_open = QM_MAX_OPEN,
	.seed = 11,
	.when_full = BS_QUEUE_EVICT_OLDEST,
	.flush_order = BS_QUEUE_OLDEST_FIRST,
	.flush = flush_msg,
};

static const struct bs_queue_def dlv_table = {
	.msg_size = sizeof(struct qm_dlv),
	.max_open = QM_MAX_DLV,
	.seed = 13,
	.when_full = BS_QUEUE_EVICT_OLDEST,
	.flush_order = BS_QUEUE_OLDEST_FIRST,
	.flush = flush_nothing,
};

static void *qmail_state_new(void)
{
	struct bs_qmail *p = bs_xcalloc(1, sizeof *p);
	bs_queue_init(&p->msgs, &msg_table, p);
	bs_queue_init(&p->dlvs, &dlv_table, p);
	return p;
}

static void qmail_state_free(void *state)
{
	struct bs_qmail *p = state;
	if (p) {
		bs_queue_free(&p->msgs);
		bs_queue_free(&p->dlvs);
		free(p);
	}
}

static uint64_t qmail_finish(void *state, const struct bs_line_ctx *c)
{
	struct bs_qmail *p = state;
	bs_queue_finish(&p->dlvs, c);
	return bs_queue_finish(&p->msgs, c);
}

/* ------------------------------------------------------------ line pieces */

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* "@4000000063ea1b2c0e6b7f4c ": a TAI64N label (2^62 + TAI seconds, then
 * nanoseconds). UTC is TAI less 10 s as daemontools' tai64nlocal takes it
 * (leap seconds since 1972 are not subtracted: tai64nlocal does not either). */
static bool tai64n(const char *p, size_t n, bs_time *ts)
{
	if (n < 26 || p[0] != '@' || p[25] != ' ')
		return false;
	uint64_t secs = 0, nano = 0;
	for (size_t i = 1; i < 25; i++) {
		int v = bs_hexval(p[i]);
		if (v < 0)
			return false;
		if (i <= 16)
			secs = secs << 4 | (uint64_t)v;
		else
			nano = nano << 4 | (uint64_t)v;
	}
	const uint64_t base = (uint64_t)1 << 62;
	if (secs < base + 10 || secs - base - 10 > (uint64_t)1 << 40 || nano >= 1000000000u)
		return false;
	*ts = (bs_time)(secs - base - 10) * BS_USEC + (bs_time)(nano / 1000);
	return true;
}

static bool qmail_raw(const char *line, size_t len)
{
	bs_time ts;
	return tai64n(line, len, &ts);
}

/* A run of digits (at most 20), skipped. */
static bool take_number(bs_str *s, bs_str *num)
{
	size_t i = 0;
	while (i < s->n && i < 20 && is_digit(s->p[i]))
		i++;
	if (i == 0)
		return false;
	*num = bs_str_make(s->p, i);
	s->p += i;
	s->n -= i;
	return true;
}

static uint64_t to_u64(bs_str s)
{
	uint64_t v = 0;
	for (size_t i = 0; i < s.n; i++)
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	return v;
}

/* The word up to the next space (or the end), skipped with that space. */
static bs_str take_word(bs_str *s)
{
	const char *sp = s->n ? memchr(s->p, ' ', s->n) : NULL;
	size_t n = sp ? (size_t)(sp - s->p) : s->n;
	bs_str w = bs_str_make(s->p, n);
	s->p += sp ? n + 1 : n;
	s->n -= sp ? n + 1 : n;
	return w;
}

/* ------------------------------------------------------------ qmail-send */

static struct qm_msg *open_msg(struct bs_qmail *p, const struct bs_line_ctx *c, bs_str num, bs_time ts)
{
	bool created;
	struct qm_msg *m = (struct qm_msg *)bs_queue_open(&p->msgs, c, num, &created);
	if (created) {
		m->ts = ts;
		m->lineno = c->lineno;
		m->size = 0;
		m->uid = -1;
		m->sender_n = m->rcpt_used = m->nrcpt = 0;
		m->dropped = m->parts = 0;
		m->host_n = 0;
		if (c->sl && c->sl->host.n) { /* an empty host may be a NULL pointer */
			m->host_n = (uint8_t)(c->sl->host.n < sizeof m->host ? c->sl->host.n : sizeof m->host);
			memcpy(m->host, c->sl->host.p, m->host_n);
		}
	}
	return m;
}

/* "bytes 2345 from <s@x> qp 4567 uid 89" */
static enum bs_verdict info_msg(struct bs_qmail *p, const struct bs_line_ctx *c, bs_str num, bs_str s, bs_time ts)
{
	bs_str v;
	if (!bs_line_skip(&s, ": bytes ") || !take_number(&s, &v) || !bs_line_skip(&s, " from <"))
		return BS_MALFORMED;
	uint64_t size = to_u64(v);
	const char *close = memchr(s.p, '>', s.n);
	if (!close)
		return BS_MALFORMED;
	bs_str sender = bs_str_make(s.p, (size_t)(close - s.p));
	s.p = close + 1;
	s.n -= sender.n + 1;
	struct qm_msg *m = open_msg(p, c, num, ts);
	m->size = size;
	m->sender_n = (uint16_t)(sender.n < sizeof m->sender ? sender.n : sizeof m->sender);
	memcpy(m->sender, sender.p, m->sender_n);
	const char *uid = bs_memmem_ci(s.p, s.n, " uid ", 5);
	if (uid) {
		bs_str rest = bs_str_make(uid + 5, (size_t)(s.p + s.n - uid - 5));
		if (take_number(&rest, &v) && v.n < 10)
			m->uid = (long)to_u64(v);
	}
	return BS_PARSED;
}

/* A recipient of the part being held; when the part is full, it is emitted
 * (event.h) and forgotten, so none is dropped. */
static uint8_t add_rcpt(struct bs_qmail *p, const struct bs_line_ctx *c, struct qm_msg *m, bs_str rcpt)
{
	for (uint8_t i = 0; i < m->nrcpt; i++)
		if (m->rcpt_len[i] == rcpt.n && memcmp(m->rcpt_text + m->rcpt_off[i], rcpt.p, rcpt.n) == 0)
			return i; /* a retry of a deferred recipient */
	if (rcpt.n > QM_ADDR_MAX) {
		m->dropped++;
		return QM_MAX_RCPT;
	}
	if (m->nrcpt == QM_MAX_RCPT || rcpt.n > sizeof m->rcpt_text - m->rcpt_used) {
		emit(p, c, m);
		m->parts++;
		m->nrcpt = m->rcpt_used = 0;
		m->dropped = 0; /* a part carries the drops since the last */
	}
	uint8_t i = (uint8_t)m->nrcpt++;
	m->rcpt_off[i] = m->rcpt_used;
	m->rcpt_len[i] = (uint16_t)rcpt.n;
	m->rcpt_status[i] = QM_PENDING;
	memcpy(m->rcpt_text + m->rcpt_used, rcpt.p, rcpt.n);
	m->rcpt_used = (uint16_t)(m->rcpt_used + rcpt.n);
	return i;
}

/* "starting delivery 12: msg 123 to remote r@y" */
static enum bs_verdict start_delivery(struct bs_qmail *p, const struct bs_line_ctx *c, bs_str s, bs_time ts)
{
	bs_str dnum, mnum;
	if (!take_number(&s, &dnum) || !bs_line_skip(&s, ": msg ") || !take_number(&s, &mnum) ||
	    !(bs_line_skip(&s, " to remote ") || bs_line_skip(&s, " to local ")) || s.n == 0)
		return BS_MALFORMED;
	struct qm_msg *m = open_msg(p, c, mnum, ts);
	uint8_t idx = add_rcpt(p, c, m, s);
	bool created;
	struct qm_dlv *d = (struct qm_dlv *)bs_queue_open(&p->dlvs, c, dnum, &created);
	memcpy(d->msg, mnum.p, mnum.n);
	d->msg_n = (uint8_t)mnum.n;
	d->rcpt = idx;
	d->part = m->parts;
	d->addr_n = (uint16_t)(idx < QM_MAX_RCPT ? s.n : 0);
	memcpy(d->addr, s.p, d->addr_n);
	return BS_PARSED;
}

/* "delivery 12: success: ..." */
static enum bs_verdict delivery_result(struct bs_qmail *p, const struct bs_line_ctx *c, bs_str s)
{
	bs_str dnum;
	if (!take_number(&s, &dnum) || !bs_line_skip(&s, ": "))
		return BS_MALFORMED;
	uint8_t st = bs_line_skip(&s, "success") ? QM_SENT : bs_line_skip(&s, "deferral") ? QM_DEFERRED
	                                             : bs_line_skip(&s, "failure")    ? QM_BOUNCED
	                                                                          : QM_PENDING;
	if (st == QM_PENDING)
		return BS_MALFORMED;
	struct qm_dlv *d = (struct qm_dlv *)bs_queue_find(&p->dlvs, dnum);
	if (!d)
		return BS_IGNORED; /* its start is before the log */
	struct qm_msg *m = (struct qm_msg *)bs_queue_find(&p->msgs, bs_str_make(d->msg, d->msg_n));
	if (m && d->addr_n && d->part != m->parts) { /* its part was emitted: it comes again with its status */
		d->rcpt = add_rcpt(p, c, m, bs_str_make(d->addr, d->addr_n));
		d->part = m->parts;
	}
	if (m && d->part == m->parts && d->rcpt < m->nrcpt)
		m->rcpt_status[d->rcpt] = st;
	bs_queue_forget(&p->dlvs, &d->q);
	return BS_PARSED;
}

static enum bs_verdict send_line(struct bs_qmail *p, const struct bs_line_ctx *c, bs_str s, bs_time ts)
{
	bs_str num;
	if (bs_line_skip(&s, "new msg ")) {
		if (!take_number(&s, &num))
			return BS_MALFORMED;
		open_msg(p, c, num, ts);
		return BS_PARSED;
	}
	if (bs_line_skip(&s, "info msg "))
		return take_number(&s, &num) ? info_msg(p, c, num, s, ts) : BS_MALFORMED;
	if (bs_line_skip(&s, "starting delivery "))
		return start_delivery(p, c, s, ts);
	if (bs_line_skip(&s, "delivery "))
		return delivery_result(p, c, s);
	if (bs_line_skip(&s, "end msg ")) {
		if (!take_number(&s, &num))
			return BS_MALFORMED;
		struct qm_msg *m = (struct qm_msg *)bs_queue_find(&p->msgs, num);
		if (!m)
			return BS_IGNORED; /* begun before the log */
		flush_msg(p, c, &m->q);
		bs_queue_forget(&p->msgs, &m->q);
		return BS_PARSED;
	}
	return BS_IGNORED; /* status:, bounce msg, triple bounce, warning:, tcpserver ... */
}

/* ------------------------------------------------------------ RBL refusals */

static enum bs_verdict rbl_refusal(const struct bs_line_ctx *c, bs_str ipstr, bs_str reason, bs_time ts)
{
	bs_ip ip;
	if (!bs_ip_parse(ipstr.p, ipstr.n, &ip))
		return BS_MALFORMED;
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_MAIL);
	ev.ts = ts;
	ev.src = ip;
	struct bs_ev_mail *m = &ev.u.mail;
	m->queue_id = m->message_id = m->sender = m->sasl_user = m->local_user = m->relay = m->client_name =
		BS_STR_LIT("");
	m->local_uid = -1;
	m->rejected = true;
	m->reject_reason = reason;
	bs_emit(c->sink, &ev);
	bs_line_event(c, &ev, BS_EV_SPAM);
	ev.ts = ts;
	ev.src = ip;
	ev.u.spam.spam = true;
	ev.u.spam.score = NAN;
	ev.u.spam.sender = BS_STR_LIT("");
	ev.u.spam.filter = BS_STR_LIT("rblsmtpd");
	bs_emit(c->sink, &ev);
	return BS_PARSED;
}

/* "1.2.3.4 pid 19597: 451 text", "1.2.3.4 pid 19597 rbl.name: 451 text"
 * (a patched rblsmtpd) or the old "relays.ordb.org blocked 1.2.3.4 host -". */
static enum bs_verdict rblsmtpd_line(const struct bs_line_ctx *c, bs_str s, bs_time ts)
{
	bs_str first = take_word(&s);
	if (bs_line_skip(&s, "pid ")) {
		bs_str pid;
		if (!take_number(&s, &pid))
			return BS_MALFORMED;
		if (!bs_line_skip(&s, ": "))
			bs_line_skip(&s, " ");
		return rbl_refusal(c, first, s, ts);
	}
	if (bs_line_skip(&s, "blocked ")) {
		bs_str ip = take_word(&s);
		return rbl_refusal(c, ip, first, ts);
	}
	return BS_IGNORED;
}

/* A patched qmail-smtpd: "421 badiprbl: ip 198.51.100.54 rbl: zen.example". */
static enum bs_verdict smtpd_line(const struct bs_line_ctx *c, bs_str s, bs_time ts)
{
	const char *at = bs_memmem_ci(s.p, s.n, "rbl: ip ", 8);
	if (!at)
		return BS_IGNORED;
	bs_str rest = bs_str_make(at + 8, (size_t)(s.p + s.n - at - 8));
	bs_str ip = take_word(&rest);
	return rbl_refusal(c, ip, s, ts);
}

/* ------------------------------------------------------------ registry */

static bool qmail_prog(bs_str prog)
{
	return bs_str_eq(prog, "qmail") || bs_str_eq(prog, "rblsmtpd") || (prog.n > 6 && memcmp(prog.p, "qmail-", 6) == 0);
}

/* splogger's "1157520813.485077 ": skipped (the syslog stamp is the line's). */
static void skip_splogger_stamp(bs_str *s)
{
	size_t i = 0;
	while (i < s->n && is_digit(s->p[i]))
		i++;
	if (i >= 9 && i < s->n && s->p[i] == '.') {
		size_t j = i + 1;
		while (j < s->n && is_digit(s->p[j]))
			j++;
		if (j < s->n && s->p[j] == ' ') {
			s->p += j + 1;
			s->n -= j + 1;
		}
	}
}

static enum bs_verdict qmail_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)tz; /* TAI64N is absolute */
	bs_time ts;
	if (c->sl) {
		ts = c->sl->ts;
		if (bs_str_eq(c->sl->prog, "rblsmtpd"))
			return rblsmtpd_line(c, text, ts);
		if (bs_str_eq(c->sl->prog, "qmail-smtpd"))
			return smtpd_line(c, text, ts);
		skip_splogger_stamp(&text);
	} else {
		if (!tai64n(text.p, text.n, &ts))
			return BS_IGNORED;
		text.p += 26;
		text.n -= 26;
	}
	if (bs_line_skip(&text, "rblsmtpd: "))
		return rblsmtpd_line(c, text, ts);
	if (bs_line_skip(&text, "qmail-smtpd: "))
		return smtpd_line(c, text, ts);
	return send_line(state, c, text, ts);
}

const struct bs_daemon_def bs_daemon_qmail = { .name = "qmail", .prog = qmail_prog, .raw = qmail_raw,
	.state_new = qmail_state_new, .state_free = qmail_state_free, .line = qmail_line, .finish = qmail_finish };

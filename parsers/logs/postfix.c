/* postfix.c - Postfix: every service's lines, joined by queue id into one
 * mail transaction (BS_EV_MAIL when qmgr logs "removed"), plus immediate
 * events for rejects (BS_EV_MAIL rejected, BS_EV_SPAM for RBL hits) and
 * SMTP AUTH (BS_EV_AUTH). See docs/FORMATS.md "Maillog daemons".
 *
 * State: the open transactions in a queue.h table, at most PF_MAX_OPEN; when
 * full the oldest is flushed unfinished. Transaction records keep their
 * string arenas when the table recycles them, so that in steady state a line
 * allocates nothing. A transaction holds at most BS_MAIL_MAX_RCPT recipients
 * (and PF_ARENA_MAX bytes): when full, the recipients held are emitted as a
 * part of the message (event.h) and forgotten, so none is dropped. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "parsers/logs/queue.h"
#include "src/core/bytes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PF_MAX_OPEN 200000       /* open queue ids kept */
#define PF_QID_MAX BS_QID_MAX     /* longer "queue ids" are not queue ids */
#define PF_FIELD_MAX 1024        /* a longer field value is cut to this */
#define PF_ARENA_MAX (256 * 1024) /* strings of one transaction */

enum { ST_NONE, ST_SENT, ST_BOUNCED, ST_DEFERRED, ST_REJECTED };
static const char *const status_names[] = { "", "sent", "bounced", "deferred", "rejected" };

struct span {
	uint32_t off, len;
};

struct rcpt {
	struct span addr;
	uint8_t status;
};

struct txn {
	struct bs_queue_msg q; /* queue id, links */
	bs_time ts;           /* first line's time: the submission */
	uint64_t lineno;
	bs_ip client;
	struct span host, client_name, sasl_user, sender, message_id, relay, local_user;
	bool has_data;        /* something worth an event was seen */
	bool client_proxied;  /* client set by a before-queue proxy: a later
	                         re-injection's 127.0.0.1 is not the client */
	long local_uid;
	uint64_t size;
	char *buf;            /* arena of this transaction's strings */
	uint32_t len, cap;
	struct rcpt *rcpts;
	uint32_t nrcpt, rcap;
	uint32_t parts;       /* parts emitted so far (a message of many recipients) */
	size_t rcpts_dropped;
};

/* The client of each smtpd process's last SASL failure: a "lost connection
 * after AUTH" that follows one is the same attempt, already counted. */
#define PF_SASL_SLOTS 256
struct sasl_seen {
	uint64_t proc; /* hash of host and pid; 0: empty */
	bs_ip client;
};

/* The client of each smtpd process's last "NOQUEUE: client=" (a
 * before-queue proxy names no queue id until "proxy-accept ... queued as
 * ID", and that line may not name the client). */
#define PF_PROXY_SLOTS 64
#define PF_PROXY_NAME_MAX 128
struct proxy_seen {
	uint64_t proc; /* hash of host and pid; 0: empty */
	bs_ip client;
	char name[PF_PROXY_NAME_MAX], user[PF_PROXY_NAME_MAX];
	uint8_t name_len, user_len;
};

struct bs_postfix {
	struct bs_queue open; /* open transactions */
	struct sasl_seen sasl_failed[PF_SASL_SLOTS];
	struct proxy_seen proxy_client[PF_PROXY_SLOTS];
	bs_str scratch_rcpt[BS_MAIL_MAX_RCPT];
	bs_str scratch_status[BS_MAIL_MAX_RCPT];
};

static bs_str span_str(const struct txn *t, struct span s)
{
	return s.len ? bs_str_make(t->buf + s.off, s.len) : BS_STR_LIT("");
}

static void emit_txn(struct bs_postfix *p, const struct bs_line_ctx *c, const struct txn *t)
{
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_MAIL);
	ev.ts = t->ts;
	ev.origin.ref = t->lineno;
	ev.host = span_str(t, t->host);
	ev.src = t->client;
	struct bs_ev_mail *m = &ev.u.mail;
	m->queue_id = bs_queue_qid(&t->q);
	m->message_id = span_str(t, t->message_id);
	m->sender = span_str(t, t->sender);
	m->sasl_user = span_str(t, t->sasl_user);
	m->local_uid = t->local_uid;
	m->local_user = span_str(t, t->local_user);
	m->size = t->size;
	m->relay = span_str(t, t->relay);
	m->client_name = span_str(t, t->client_name);
	for (uint32_t i = 0; i < t->nrcpt; i++) {
		p->scratch_rcpt[i] = span_str(t, t->rcpts[i].addr);
		p->scratch_status[i] = bs_str_make(status_names[t->rcpts[i].status], strlen(status_names[t->rcpts[i].status]));
	}
	m->rcpts = p->scratch_rcpt;
	m->rcpt_status = p->scratch_status;
	m->nrcpt = t->nrcpt;
	m->rcpts_dropped = t->rcpts_dropped;
	m->part = t->parts;
	m->reject_reason = BS_STR_LIT("");
	bs_emit(c->sink, &ev);
}

/* An open transaction flushed unfinished (table full, end of input). */
static void flush_txn(void *owner, const struct bs_line_ctx *c, struct bs_queue_msg *m)
{
	const struct txn *t = (const struct txn *)m;
	if (t->has_data && (t->nrcpt || !t->parts))
		emit_txn(owner, c, t);
}

static void txn_release(struct bs_queue_msg *m)
{
	struct txn *t = (struct txn *)m;
	free(t->buf);
	free(t->rcpts);
}

static const struct bs_queue_def txn_table = {
	.msg_size = sizeof(struct txn),
	.max_open = PF_MAX_OPEN,
	.seed = 0,
	.when_full = BS_QUEUE_EVICT_OLDEST,
	.flush_order = BS_QUEUE_OLDEST_FIRST,
	.flush = flush_txn,
	.release = txn_release,
};

struct bs_postfix *bs_postfix_new(void)
{
	struct bs_postfix *p = bs_xcalloc(1, sizeof *p);
	bs_queue_init(&p->open, &txn_table, p);
	return p;
}

void bs_postfix_free(struct bs_postfix *p)
{
	if (!p)
		return;
	bs_queue_free(&p->open);
	free(p);
}

static struct txn *txn_find(struct bs_postfix *p, bs_str qid)
{
	return (struct txn *)bs_queue_find(&p->open, qid);
}

static bool str_store(struct txn *t, bs_str s, struct span *out);

/* The open transaction of qid, opened if need be (a pointer good until the next txn_open). */
static struct txn *txn_open(struct bs_postfix *p, const struct bs_line_ctx *c, bs_str qid)
{
	bool created;
	struct txn *t = (struct txn *)bs_queue_open(&p->open, c, qid, &created);
	if (!created)
		return t;
	/* Keep the arenas, forget the rest. */
	struct txn fresh = { .q = t->q, .buf = t->buf, .cap = t->cap, .rcpts = t->rcpts, .rcap = t->rcap };
	*t = fresh;
	t->local_uid = -1;
	t->ts = c->sl ? c->sl->ts : BS_TIME_NONE;
	t->lineno = c->lineno;
	if (c->sl)
		str_store(t, c->sl->host, &t->host);
	return t;
}

/* Copy a string into the transaction's arena; false when the arena is full. */
static bool str_store(struct txn *t, bs_str s, struct span *out)
{
	if (s.n > PF_FIELD_MAX)
		s.n = PF_FIELD_MAX;
	if (s.n == 0) {
		*out = (struct span){ 0, 0 };
		return true;
	}
	if ((size_t)t->len + s.n > PF_ARENA_MAX)
		return false;
	if (t->len + s.n > t->cap) {
		uint32_t cap = t->cap ? t->cap : 256;
		while (cap < t->len + s.n)
			cap *= 2;
		t->buf = bs_xrealloc(t->buf, cap);
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s.p, s.n);
	*out = (struct span){ t->len, (uint32_t)s.n };
	t->len += (uint32_t)s.n;
	return true;
}

/* Keep only the message's own strings in the arena (no recipient is held:
 * they were emitted), each field being at most PF_FIELD_MAX. */
static void arena_compact(struct txn *t)
{
	struct span *keep[] = { &t->host, &t->client_name, &t->sasl_user, &t->sender,
	                        &t->message_id, &t->relay, &t->local_user };
	enum { NKEEP = sizeof keep / sizeof keep[0] };
	char tmp[NKEEP * PF_FIELD_MAX];
	uint32_t n = 0;
	for (size_t i = 0; i < NKEEP; i++) {
		memcpy(tmp + n, t->buf + keep[i]->off, keep[i]->len);
		keep[i]->off = n;
		n += keep[i]->len;
	}
	if (n)
		memcpy(t->buf, tmp, n);
	t->len = n;
}

/* Emit the recipients held as one part of the message and forget them. */
static void emit_part(struct bs_postfix *p, const struct bs_line_ctx *c, struct txn *t)
{
	if (t->nrcpt) {
		emit_txn(p, c, t);
		t->parts++;
		t->nrcpt = 0;
	}
	arena_compact(t);
}

/* Add a recipient or update the status of one already held. */
static void rcpt_set(struct bs_postfix *p, const struct bs_line_ctx *c, struct txn *t, bs_str addr, uint8_t status)
{
	for (uint32_t i = 0; i < t->nrcpt; i++) {
		struct rcpt *r = &t->rcpts[i];
		if (r->addr.len == addr.n && memcmp(t->buf + r->addr.off, addr.p, addr.n) == 0) {
			if (status != ST_NONE)
				r->status = status;
			return;
		}
	}
	if (t->nrcpt >= BS_MAIL_MAX_RCPT)
		emit_part(p, c, t);
	if (t->nrcpt == t->rcap) {
		t->rcap = t->rcap ? t->rcap * 2 : 8;
		t->rcpts = bs_xrealloc(t->rcpts, t->rcap * sizeof *t->rcpts);
	}
	if (!str_store(t, addr, &t->rcpts[t->nrcpt].addr)) {
		emit_part(p, c, t); /* the arena is full: make room */
		if (!str_store(t, addr, &t->rcpts[t->nrcpt].addr)) {
			t->rcpts_dropped++; /* not reached: the message's own fields are far smaller */
			return;
		}
	}
	struct rcpt *r = &t->rcpts[t->nrcpt];
	r->status = status;
	t->nrcpt++;
}

/* ---------------------------------------------------------- line pieces */

/* What each byte can be in a queue id: QID_OK any (letters and digits),
 * QID_HEX an upper-case hex digit, QID_VOWEL a vowel of either case. A
 * table: every character of every queue id candidate passes here, on the
 * hottest path of a maillog. */
enum { QID_OK = 1, QID_HEX = 2, QID_VOWEL = 4 };
#define QID_VOWEL_OF(c) (((c) | 0x20) == 'a' || ((c) | 0x20) == 'e' || ((c) | 0x20) == 'i' || ((c) | 0x20) == 'o' || \
			 ((c) | 0x20) == 'u')
#define QID_CLASS(c)                                                                                            \
	(((c) >= '0' && (c) <= '9') ? QID_OK | QID_HEX                                                       \
	 : ((c) >= 'A' && (c) <= 'Z') ? QID_OK | ((c) <= 'F' ? QID_HEX : 0) | (QID_VOWEL_OF(c) ? QID_VOWEL : 0) \
	 : ((c) >= 'a' && (c) <= 'z') ? QID_OK | (QID_VOWEL_OF(c) ? QID_VOWEL : 0)                           \
				      : 0)
#define QID_CLASS4(c) QID_CLASS(c), QID_CLASS((c) + 1), QID_CLASS((c) + 2), QID_CLASS((c) + 3)
#define QID_CLASS16(c) QID_CLASS4(c), QID_CLASS4((c) + 4), QID_CLASS4((c) + 8), QID_CLASS4((c) + 12)
#define QID_CLASS64(c) QID_CLASS16(c), QID_CLASS16((c) + 16), QID_CLASS16((c) + 32), QID_CLASS16((c) + 48)
static const unsigned char qid_class[256] = { QID_CLASS64(0), QID_CLASS64(64), QID_CLASS64(128), QID_CLASS64(192) };

static bool qid_char(char ch)
{
	return qid_class[(unsigned char)ch] & QID_OK;
}

/* Bit 7 set in each byte of x that is '0'..'9' or 'A'..'F' (each test on
 * the low seven bits of a byte, with no carry into the next: SWAR). */
#define EACH_BYTE(c) (UINT64_C(0x0101010101010101) * (c))
static uint64_t upper_hex_bytes(uint64_t x)
{
	uint64_t t = x & EACH_BYTE(0x7f);
	uint64_t digit = (t + EACH_BYTE(0x50)) & ~(t + EACH_BYTE(0x46)); /* 0x30 <= t < 0x3a */
	uint64_t letter = (t + EACH_BYTE(0x3f)) & ~(t + EACH_BYTE(0x39)); /* 0x41 <= t < 0x47 */
	return (digit | letter) & ~x & EACH_BYTE(0x80);
}

static bool upper_hex_at(const char *p)
{
	return upper_hex_bytes(bs_le64((const uint8_t *)p)) == EACH_BYTE(0x80);
}

/* Every byte of s (8 or more) upper-case hex: the bytes eight at a time, the
 * last eight overlapping the others. */
static bool all_upper_hex(bs_str s)
{
	size_t i = 0;
	for (; i + 8 <= s.n; i += 8)
		if (!upper_hex_at(s.p + i))
			return false;
	return i == s.n || upper_hex_at(s.p + s.n - 8);
}

/* Short ids are upper-case hex; long ids (enable_long_queue_ids) are 10
 * base-52 characters of time, 'z', then the inode: no vowels in either. */
static bool is_qid(bs_str s)
{
	if (s.n < 5 || s.n >= PF_QID_MAX)
		return false;
	if (s.n >= 8 && all_upper_hex(s))
		return true; /* the common short id, eight bytes a step */
	unsigned all = QID_OK | QID_HEX, any = 0;
	for (size_t i = 0; i < s.n; i++) {
		unsigned k = qid_class[(unsigned char)s.p[i]];
		if (!(k & QID_OK))
			return false;
		all &= k;
		any |= k;
	}
	bool z_after_time = s.n >= 12 && s.p[10] == 'z';
	return (all & QID_HEX) || (z_after_time && !(any & QID_VOWEL));
}

/* The dispatch asks a line several of these in turn: most fail at the first
 * byte, tested before the call to memcmp. */
static bool starts_n(bs_str s, const char *lit, size_t n)
{
	return s.n >= n && s.p[0] == lit[0] && memcmp(s.p, lit, n) == 0;
}

/* lit is a string literal: its length is known when compiling. */
#define starts(s, lit) starts_n(s, "" lit, sizeof lit - 1)

static bs_str after(bs_str s, size_t n)
{
	return n >= s.n ? bs_str_make(s.p + s.n, 0) : bs_str_make(s.p + n, s.n - n);
}

/* Bit 7 set in the bytes of x that are ',' or ' ' (exact per byte: each
 * test on the low seven bits, none carrying into the next byte). */
static uint64_t comma_or_space(uint64_t x)
{
	uint64_t t = x & EACH_BYTE(0x7f);
	uint64_t comma = ~((t ^ EACH_BYTE(',')) + EACH_BYTE(0x7f)), space = ~((t ^ EACH_BYTE(' ')) + EACH_BYTE(0x7f));
	return (comma | space) & ~x & EACH_BYTE(0x80);
}

/* The end of a plain value from v: the first ',' or ' ', else end. Eight
 * bytes a step ("relay=host[ip]:port" runs to some 40 bytes). */
static const char *value_end(const char *v, const char *end)
{
	for (; end - v >= 8; v += 8) {
		uint64_t hit = comma_or_space(bs_le64((const uint8_t *)v));
		if (hit)
			return v + __builtin_ctzll(hit) / 8;
	}
	while (v < end && *v != ',' && *v != ' ')
		v++;
	return v;
}

/* key[1..kn) at hit[1..kn) (hit[0] is key[0]): keys are a few bytes, a loop
 * costs less than memcmp's call. */
static bool rest_equal(const char *hit, const char *key, size_t kn)
{
	for (size_t i = 1; i < kn; i++)
		if (hit[i] != key[i])
			return false;
	return true;
}

/* Value of "key=" in s, where key starts s or follows ' ' or ','. A value in
 * <> is returned without them (and may hold ',' or ' '); other values end at
 * ',' or ' '. */
static bool field_n(bs_str s, const char *key, size_t kn, bs_str *val)
{
	const char *p = s.p, *end = s.p + s.n;
	while (p && (size_t)(end - p) >= kn) {
		const char *hit = memchr(p, key[0], (size_t)(end - p) - kn + 1);
		if (!hit)
			return false;
		/* the byte before first: most hits of key[0] are inside a word */
		if ((hit == s.p || hit[-1] == ' ' || hit[-1] == ',') && rest_equal(hit, key, kn)) {
			const char *v = hit + kn, *e = v;
			if (v < end && *v == '<') {
				v++;
				e = v;
				/* The closing '>' is the last one before the next ", x=" / " x=" or the end. */
				const char *close = NULL;
				for (const char *q = v; q < end && (q = memchr(q, '>', (size_t)(end - q))) != NULL; q++) {
					if (q + 1 == end || q[1] == ',' || q[1] == ' ' || q[1] == ';') {
						close = q;
						break;
					}
				}
				if (!close)
					return false;
				e = close;
			} else {
				e = value_end(v, end);
			}
			*val = bs_str_make(v, (size_t)(e - v));
			return true;
		}
		p = hit + 1;
	}
	return false;
}

/* key is a string literal: its length is known when compiling. */
#define field(s, key, val) field_n(s, "" key, sizeof key - 1, val)

/* "name[ip]" or "name[ip]:port" or "[ip]:port" at the start of s; returns
 * bytes used, 0 if it is not one. IPv6 may be written "[IPv6:...]". */
static size_t parse_client(bs_str s, bs_str *name, bs_ip *ip)
{
	const char *lb = memchr(s.p, '[', s.n);
	if (!lb)
		return 0;
	const char *end = s.p + s.n, *rb = memchr(lb, ']', (size_t)(end - lb));
	if (!rb)
		return 0;
	for (const char *q = s.p; q < lb; q++)
		if (*q == ' ')
			return 0;
	*name = bs_str_make(s.p, (size_t)(lb - s.p));
	const char *a = lb + 1;
	if (rb - a > 5 && bs_str_istarts(bs_str_make(a, (size_t)(rb - a)), "ipv6:"))
		a += 5;
	memset(ip, 0, sizeof *ip);
	if (!bs_ip_parse(a, (size_t)(rb - a), ip))
		return 0;
	const char *q = rb + 1;
	if (q < end && *q == ':' && q + 1 < end && q[1] >= '0' && q[1] <= '9') {
		q++;
		while (q < end && *q >= '0' && *q <= '9')
			q++;
	}
	return (size_t)(q - s.p);
}

static uint64_t to_u64(bs_str s)
{
	uint64_t v = 0;
	for (size_t i = 0; i < s.n && s.p[i] >= '0' && s.p[i] <= '9' && v < UINT64_MAX / 10 - 10; i++)
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	return v;
}

static bs_str unknown_as_empty(bs_str name)
{
	return bs_str_eq(name, "unknown") ? BS_STR_LIT("") : name;
}

/* ------------------------------------------------------------- handlers */

/* "[NOQUEUE|QID]: reject: RCPT from name[ip]: 554 5.7.1 <x>: why; from=<s> to=<r> proto=ESMTP helo=<h>"
 * (also milter-reject, postscreen's "from [ip]:port", and cleanup's
 * "reject: header ... from name[ip]; from=<> ...: 5.7.1 text"). */
static enum bs_verdict on_reject(struct bs_postfix *p, const struct bs_line_ctx *c, bs_str qid, bs_str rest)
{
	const char *from = bs_memmem_ci(rest.p, rest.n, " from ", 6);
	if (!from)
		return bs_line_debug(c, "postfix", "reject without a client"), BS_MALFORMED;
	bs_str stage = bs_str_make(rest.p, (size_t)(from - rest.p));
	bs_str tail = after(rest, (size_t)(from + 6 - rest.p)), name;
	bs_ip ip;
	size_t used = parse_client(tail, &name, &ip);
	if (!used)
		return bs_line_debug(c, "postfix", "reject with an unreadable client"), BS_MALFORMED;
	tail = after(tail, used);
	/* The reply text: after ": " up to the fields ("; from=" ...). */
	const char *fields = NULL;
	static const char *const field_starts[] = { "; from=", "; to=", "; proto=" };
	for (size_t i = 0; i < 3 && !fields; i++)
		fields = bs_memmem_ci(tail.p, tail.n, field_starts[i], strlen(field_starts[i]));
	bs_str reply = tail;
	if (fields)
		reply.n = (size_t)(fields - tail.p);
	if (starts(reply, ": "))
		reply = after(reply, 2);
	bs_str fs = fields ? after(tail, (size_t)(fields - tail.p)) : BS_STR_LIT("");
	if (!fields && tail.n && memchr(tail.p, '=', tail.n)) /* cleanup: "from x[ip]; from=<> to=<> ...: 5.7.1 text" */
		fs = tail;
	if (bs_str_eq(reply, "") && fs.n) {
		/* cleanup puts the text after the fields: "helo=<h>: 5.7.1 text" */
		const char *colon = bs_memmem_ci(fs.p, fs.n, ">: ", 3);
		if (colon)
			reply = after(fs, (size_t)(colon + 3 - fs.p));
	}
	bs_str sender = BS_STR_LIT(""), rcpt = BS_STR_LIT("");
	bool has_sender = field(fs, "from=", &sender);
	bool has_rcpt = field(fs, "to=", &rcpt);
	bool rbl = bs_memmem_ci(reply.p, reply.n, "blocked using ", 14) != NULL;

	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_MAIL);
	ev.src = ip;
	struct bs_ev_mail *m = &ev.u.mail;
	bs_str status = BS_STR_LIT("rejected");
	m->queue_id = bs_str_eq(qid, "NOQUEUE") ? BS_STR_LIT("") : qid;
	m->message_id = BS_STR_LIT("");
	m->sender = sender;
	m->rcpts = has_rcpt ? &rcpt : NULL;
	m->rcpt_status = has_rcpt ? &status : NULL;
	m->nrcpt = has_rcpt ? 1 : 0;
	m->local_uid = -1;
	m->rejected = true;
	m->reject_reason = reply;
	m->client_name = unknown_as_empty(name);
	m->sasl_user = m->local_user = m->relay = BS_STR_LIT("");
	struct txn *t = m->queue_id.n ? txn_find(p, qid) : NULL;
	if (t)
		m->sasl_user = span_str(t, t->sasl_user);
	bs_emit(c->sink, &ev);
	if (rbl) {
		bs_line_event(c, &ev, BS_EV_SPAM);
		ev.src = ip;
		ev.u.spam.spam = true;
		ev.u.spam.score = NAN;
		ev.u.spam.sender = sender;
		ev.u.spam.rcpts = has_rcpt ? &rcpt : NULL;
		ev.u.spam.nrcpt = has_rcpt ? 1 : 0;
		ev.u.spam.filter = BS_STR_LIT("postfix-rbl");
		bs_emit(c->sink, &ev);
	}
	(void)has_sender;
	/* A whole message refused after DATA is never queued: forget it. A
	 * RCPT reject leaves the other recipients of the transaction alone. */
	if (t && !bs_str_istarts(stage, "reject: RCPT") && !bs_str_istarts(stage, "milter-reject: RCPT"))
		bs_queue_forget(&p->open, &t->q);
	return BS_PARSED;
}

static uint64_t proc_key(const struct bs_line_ctx *c)
{
	uint64_t h = bs_hash_bytes(c->sl->host.p, c->sl->host.n, 1);
	return bs_hash_bytes(c->sl->pid.p, c->sl->pid.n, h) | 1;
}

static void emit_smtp_fail(const struct bs_line_ctx *c, const bs_ip *ip, bs_str user, bs_str method)
{
	struct bs_event ev;
	bs_line_auth(c, &ev, BS_AUTH_SMTP, user, method, 0);
	ev.src = *ip;
	bs_emit(c->sink, &ev);
}

/* "lost connection after AUTH from name[ip]": the client gave up inside the
 * AUTH exchange (or after a failure, logged just before by the same process:
 * then it is that attempt). */
static enum bs_verdict on_lost_after_auth(struct bs_postfix *p, const struct bs_line_ctx *c, bs_str rest)
{
	bs_str name;
	bs_ip ip;
	if (!parse_client(rest, &name, &ip))
		return bs_line_debug(c, "postfix", "lost connection after AUTH with an unreadable client"), BS_MALFORMED;
	uint64_t key = proc_key(c);
	struct sasl_seen *seen = &p->sasl_failed[key % PF_SASL_SLOTS];
	bool counted = seen->proc == key && bs_ip_eq(&seen->client, &ip);
	seen->proc = 0;
	if (counted)
		return BS_IGNORED;
	emit_smtp_fail(c, &ip, BS_STR_LIT(""), BS_STR_LIT(""));
	return BS_PARSED;
}

/* "warning: unknown[1.2.3.4]: SASL LOGIN authentication failed: ..., sasl_username=u" */
static enum bs_verdict on_warning(struct bs_postfix *p, const struct bs_line_ctx *c, bs_str rest)
{
	const char *sasl = bs_memmem_ci(rest.p, rest.n, ": SASL ", 7);
	if (!sasl || !bs_memmem_ci(rest.p, rest.n, "authentication failed", 21))
		return BS_IGNORED;
	bs_str name, user = BS_STR_LIT("");
	bs_ip ip;
	if (!parse_client(rest, &name, &ip))
		return bs_line_debug(c, "postfix", "SASL failure with an unreadable client"), BS_MALFORMED;
	bs_str method = after(rest, (size_t)(sasl + 7 - rest.p));
	const char *sp = memchr(method.p, ' ', method.n);
	if (sp)
		method.n = (size_t)(sp - method.p);
	field(rest, "sasl_username=", &user);
	uint64_t key = proc_key(c);
	p->sasl_failed[key % PF_SASL_SLOTS] = (struct sasl_seen){ key, ip };
	emit_smtp_fail(c, &ip, user, method);
	return BS_PARSED;
}

static bool is_loopback(const bs_ip *ip)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };
	return (ip->family == 4 && ip->a[0] == 127) || (ip->family == 6 && memcmp(ip->a, v6_loopback, 16) == 0);
}

static void copy_cut(char *dst, uint8_t *len, bs_str s)
{
	size_t n = s.n < PF_PROXY_NAME_MAX ? s.n : PF_PROXY_NAME_MAX;
	memcpy(dst, s.p, n);
	*len = (uint8_t)n;
}

/* A content filter's re-injection: "QID2: client=localhost[127.0.0.1],
 * orig_queue_id=QID1, orig_client=name[ip]" (XFORWARD). Whichever of client=
 * and orig_client= is not the loopback is the real client; failing that, the
 * original transaction's client. */
static void take_forwarded_client(struct bs_postfix *p, const struct txn *t, bs_str rest, bs_str *name, bs_ip *ip)
{
	bs_str v, oname;
	bs_ip oip;
	if (!is_loopback(ip))
		return;
	if (field(rest, "orig_client=", &v) && parse_client(v, &oname, &oip) && !is_loopback(&oip)) {
		*name = oname;
		*ip = oip;
		return;
	}
	struct txn *orig = field(rest, "orig_queue_id=", &v) && is_qid(v) ? txn_find(p, v) : NULL;
	if (orig && orig != t && orig->client.family && !is_loopback(&orig->client)) {
		*name = span_str(orig, orig->client_name);
		*ip = orig->client;
	}
}

static void emit_sasl_login(const struct bs_line_ctx *c, const bs_ip *ip, bs_str user, bs_str rest, bs_str session)
{
	bs_str method = BS_STR_LIT("");
	field(rest, "sasl_method=", &method);
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_AUTH);
	ev.src = *ip;
	ev.u.auth.proto = BS_AUTH_SMTP;
	ev.u.auth.user = user;
	ev.u.auth.method = method;
	ev.u.auth.success = 1;
	ev.u.auth.session = session;
	bs_emit(c->sink, &ev);
}

/* A before-queue proxy's smtpd: "NOQUEUE: client=name[ip][, sasl_...]". */
static enum bs_verdict on_proxy_client(struct bs_postfix *p, const struct bs_line_ctx *c, bs_str rest)
{
	bs_str name, user = BS_STR_LIT("");
	bs_ip ip;
	if (!parse_client(after(rest, 7), &name, &ip))
		return bs_line_debug(c, "postfix", "client= with an unreadable client"), BS_MALFORMED;
	uint64_t key = proc_key(c);
	struct proxy_seen *seen = &p->proxy_client[key % PF_PROXY_SLOTS];
	seen->proc = key;
	seen->client = ip;
	copy_cut(seen->name, &seen->name_len, unknown_as_empty(name));
	seen->user_len = 0;
	if (field(rest, "sasl_username=", &user)) {
		copy_cut(seen->user, &seen->user_len, user);
		emit_sasl_login(c, &ip, user, rest, BS_STR_LIT(""));
	}
	return BS_PARSED;
}

/* "NOQUEUE: proxy-accept: END-OF-MESSAGE[ from name[ip]]: 250 2.0.0 Ok:
 * queued as QID; from=<s> to=<r> proto=ESMTP helo=<h>": the message the
 * filter behind the proxy queued as QID came from this client (the filter's
 * own "QID: client=" is 127.0.0.1). */
static enum bs_verdict on_proxy_accept(struct bs_postfix *p, const struct bs_line_ctx *c, bs_str rest)
{
	const char *queued = bs_memmem_ci(rest.p, rest.n, "queued as ", 10);
	if (!queued)
		return BS_IGNORED; /* a filter's reply without a queue id */
	bs_str qid = after(rest, (size_t)(queued + 10 - rest.p));
	size_t n = 0;
	while (n < qid.n && qid_char(qid.p[n]))
		n++;
	qid.n = n;
	if (!is_qid(qid))
		return bs_line_debug(c, "postfix", "proxy-accept with an unreadable queue id"), BS_MALFORMED;
	bs_str name = BS_STR_LIT(""), user = BS_STR_LIT(""), sender;
	bs_ip ip = { 0 };
	const char *from = bs_memmem_ci(rest.p, (size_t)(queued - rest.p), " from ", 6);
	uint64_t key = proc_key(c);
	struct proxy_seen *seen = &p->proxy_client[key % PF_PROXY_SLOTS];
	if (seen->proc == key) {
		ip = seen->client;
		name = bs_str_make(seen->name, seen->name_len);
		user = bs_str_make(seen->user, seen->user_len);
	}
	if (from && !parse_client(after(rest, (size_t)(from + 6 - rest.p)), &name, &ip))
		return bs_line_debug(c, "postfix", "proxy-accept with an unreadable client"), BS_MALFORMED;
	struct txn *t = txn_open(p, c, qid);
	t->has_data = true;
	if (ip.family) {
		t->client = ip;
		t->client_proxied = true;
		str_store(t, unknown_as_empty(name), &t->client_name);
	}
	if (user.n)
		str_store(t, user, &t->sasl_user);
	const char *fields = bs_memmem_ci(queued, (size_t)(rest.p + rest.n - queued), "; from=", 7);
	if (fields && field(after(rest, (size_t)(fields + 2 - rest.p)), "from=", &sender) && !t->sender.len)
		str_store(t, sender, &t->sender);
	return BS_PARSED;
}

/* "QID: client=name[ip], sasl_method=PLAIN, sasl_username=u" */
static enum bs_verdict on_client(struct bs_postfix *p, const struct bs_line_ctx *c, bs_str qid, bs_str rest)
{
	bs_str name, v;
	bs_ip ip;
	if (!parse_client(after(rest, 7), &name, &ip))
		return bs_line_debug(c, "postfix", "client= with an unreadable client"), BS_MALFORMED;
	struct txn *t = txn_open(p, c, qid);
	t->has_data = true;
	take_forwarded_client(p, t, rest, &name, &ip);
	if (!t->client_proxied || !is_loopback(&ip)) {
		t->client = ip;
		str_store(t, unknown_as_empty(name), &t->client_name);
	}
	if (field(rest, "sasl_username=", &v)) {
		str_store(t, v, &t->sasl_user);
		emit_sasl_login(c, &ip, v, rest, qid);
	}
	return BS_PARSED;
}

static uint8_t status_code(bs_str s)
{
	if (bs_str_eq(s, "sent"))
		return ST_SENT;
	if (bs_str_eq(s, "deferred"))
		return ST_DEFERRED;
	if (bs_str_eq(s, "bounced") || bs_str_eq(s, "expired") || bs_str_eq(s, "undeliverable"))
		return ST_BOUNCED;
	return ST_NONE;
}

/* "QID: to=<r>, orig_to=<o>, relay=x[ip]:25, delay=1, delays=..., dsn=2.0.0, status=sent (250 ok)" */
static enum bs_verdict on_delivery(struct bs_postfix *p, const struct bs_line_ctx *c, bs_str qid, bs_str rest)
{
	bs_str to, status, relay;
	if (!field(rest, "to=", &to) || !field(rest, "status=", &status))
		return bs_line_debug(c, "postfix", "delivery without to= or status="), BS_MALFORMED;
	struct txn *t = txn_open(p, c, qid);
	t->has_data = true;
	rcpt_set(p, c, t, to, status_code(status));
	if (field(rest, "relay=", &relay) && !str_store(t, relay, &t->relay)) {
		emit_part(p, c, t); /* the arena is full: make room */
		str_store(t, relay, &t->relay);
	}
	return BS_PARSED;
}

/* qmgr: "QID: from=<s>, size=N, nrcpt=M (queue active)" or
 * "QID: from=<s>, status=expired, returned to sender". */
static enum bs_verdict on_from(struct bs_postfix *p, const struct bs_line_ctx *c, bs_str qid, bs_str rest)
{
	bs_str sender, v;
	if (!field(rest, "from=", &sender))
		return bs_line_debug(c, "postfix", "from= without an address"), BS_MALFORMED;
	struct txn *t = txn_open(p, c, qid);
	t->has_data = true;
	str_store(t, sender, &t->sender);
	if (field(rest, "size=", &v))
		t->size = to_u64(v);
	if (field(rest, "status=", &v) && bs_str_eq(v, "expired"))
		for (uint32_t i = 0; i < t->nrcpt; i++)
			if (t->rcpts[i].status == ST_NONE || t->rcpts[i].status == ST_DEFERRED)
				t->rcpts[i].status = ST_BOUNCED;
	return BS_PARSED;
}

/* pickup: "QID: uid=33 from=<www-data>" */
static enum bs_verdict on_uid(struct bs_postfix *p, const struct bs_line_ctx *c, bs_str qid, bs_str rest)
{
	bs_str uid, from = BS_STR_LIT("");
	if (!field(rest, "uid=", &uid) || uid.n == 0 || uid.p[0] < '0' || uid.p[0] > '9')
		return bs_line_debug(c, "postfix", "pickup uid= unreadable"), BS_MALFORMED;
	struct txn *t = txn_open(p, c, qid);
	t->has_data = true;
	t->local_uid = (long)to_u64(uid);
	if (field(rest, "from=", &from)) {
		str_store(t, from, &t->local_user);
		if (t->sender.len == 0)
			str_store(t, from, &t->sender);
	}
	return BS_PARSED;
}

bool bs_postfix_prog(bs_str prog)
{
	/* postfix/smtpd, postfix-out/smtp, postfix/submission/smtpd, postfix-script */
	return prog.n >= 7 && memcmp(prog.p, "postfix", 7) == 0;
}

enum bs_verdict bs_postfix_line(struct bs_postfix *p, const struct bs_line_ctx *c)
{
	if (!c->sl)
		return BS_IGNORED;
	bs_str msg = c->sl->msg;
	const char *colon = memchr(msg.p, ':', msg.n < PF_QID_MAX + 1 ? msg.n : PF_QID_MAX + 1);
	bs_str qid = BS_STR_NULL, rest = msg;
	if (colon && colon + 1 < msg.p + msg.n && colon[1] == ' ') {
		bs_str word = bs_str_make(msg.p, (size_t)(colon - msg.p));
		if (bs_str_eq(word, "NOQUEUE") || is_qid(word)) {
			qid = word;
			rest = after(msg, word.n + 2);
		}
	}
	if (starts(rest, "reject: ") || starts(rest, "milter-reject: "))
		return qid.n ? on_reject(p, c, qid, rest) : (bs_line_debug(c, "postfix", "reject without a queue id"), BS_MALFORMED);
	if (starts(rest, "warning: "))
		return on_warning(p, c, after(rest, 9));
	if (starts(rest, "lost connection after AUTH from "))
		return on_lost_after_auth(p, c, after(rest, 32));
	if (bs_str_eq(qid, "NOQUEUE") && starts(rest, "client="))
		return on_proxy_client(p, c, rest);
	if (starts(rest, "proxy-accept: "))
		return on_proxy_accept(p, c, rest);
	if (!qid.n || bs_str_eq(qid, "NOQUEUE"))
		return BS_IGNORED; /* connect, disconnect, statistics, postscreen verdicts ... */
	if (starts(rest, "client="))
		return on_client(p, c, qid, rest);
	if (starts(rest, "message-id=")) {
		bs_str id = after(rest, 11);
		if (id.n >= 2 && id.p[0] == '<' && id.p[id.n - 1] == '>')
			id = bs_str_make(id.p + 1, id.n - 2);
		struct txn *t = txn_open(p, c, qid);
		str_store(t, id, &t->message_id);
		return BS_PARSED;
	}
	if (starts(rest, "from="))
		return on_from(p, c, qid, rest);
	if (starts(rest, "to="))
		return on_delivery(p, c, qid, rest);
	if (starts(rest, "uid="))
		return on_uid(p, c, qid, rest);
	if (bs_str_eq(rest, "removed")) {
		struct txn *t = txn_find(p, qid);
		if (!t)
			return BS_IGNORED; /* its start is in an earlier file */
		if (t->has_data && (t->nrcpt || !t->parts))
			emit_txn(p, c, t);
		bs_queue_forget(&p->open, &t->q);
		return BS_PARSED;
	}
	/* "host x said", "sender non-delivery notification: QID2", "lost connection",
	 * "conversation with", "resent-message-id=", "hold:", "discard:" ... */
	return BS_IGNORED;
}

uint64_t bs_postfix_finish(struct bs_postfix *p, const struct bs_line_ctx *c)
{
	return bs_queue_finish(&p->open, c);
}

static void *postfix_state_new(void) { return bs_postfix_new(); }
static void postfix_state_free(void *state) { bs_postfix_free(state); }
static uint64_t postfix_finish(void *state, const struct bs_line_ctx *c) { return bs_postfix_finish(state, c); }

static enum bs_verdict postfix_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)text, (void)tz;
	return bs_postfix_line(state, c);
}

const struct bs_daemon_def bs_daemon_postfix = { .name = "postfix", .prog = bs_postfix_prog, .state_new = postfix_state_new,
	.state_free = postfix_state_free, .line = postfix_line, .finish = postfix_finish };

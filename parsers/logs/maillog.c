/* maillog.c - the text-log reader: frames each line and hands it to the
 * parser of the daemon that wrote it. Lines of other programs are ignored,
 * never dropped uncounted. No allocation per line: the per-daemon state is
 * made once per input. */
#include "config.h"
#include "parsers/logs/maillog.h"
#include "parsers/logs/daemons.h"

#include <stdlib.h>
#include <string.h>

/* The daemon parsers, in the order of matching (daemons.h). */
static const struct bs_daemon_def *const daemons[] = {
#define DAEMON_ENTRY(name) &bs_daemon_##name,
	BS_DAEMONS(DAEMON_ENTRY)
#undef DAEMON_ENTRY
};
#define NDAEMONS (sizeof daemons / sizeof *daemons)
_Static_assert(NDAEMONS <= 64, "a program's owners are a 64-bit mask");

/* Which daemons own a program name is a pure function of the name, and a
 * log holds a handful of names: the answer is kept per name in a small
 * open-addressed table (emptied when three quarters full) instead of asking
 * every daemon on every line. */
#define PROG_SLOTS 64
#define PROG_KEEP 48
#define PROG_MAX 46 /* longer names are asked every time */
struct prog_slot {
	uint64_t owners; /* bit d: daemons[d]->prog(name) */
	uint8_t n;       /* 0: empty */
	char name[PROG_MAX];
};

struct bs_maillog {
	struct bs_maillog_opts opts;
	struct bs_tz tz;        /* a private copy: its cache is written per line */
	struct bs_clock clock;
	struct bs_sink sink;
	/* each daemon's state, made at its first line: the MTA parsers hold
	 * about 100 KB of tables together, and most inputs hold one MTA's lines
	 * or none */
	void *state[NDAEMONS];
	uint64_t last_lineno;
	/* "last message repeated N times" repeats the line before it: when that
	 * line gave one failed login, it is kept here (its strings copied, cut
	 * at the buffer's size) and given again N times. */
	struct bs_sink tap;
	unsigned line_events;
	bool repeatable;
	struct bs_event last_fail;
	char last_buf[1024];
	/* Events of the line whose time lies outside 1970..9999, dropped here
	 * whatever stamp a daemon read (its own, not syslog's), and the daemon
	 * that took the line: the line is then malformed. */
	unsigned out_of_range;
	const char *line_daemon;
	struct prog_slot progs[PROG_SLOTS];
	unsigned nprogs;
	/* bit d: daemons[d] has a raw or raw_in test (a line not framed as
	 * syslog is asked only those, in the same order) */
	uint64_t raw_testers;
};

static bs_str keep(char **w, const char *end, bs_str s)
{
	size_t n = s.n < (size_t)(end - *w) ? s.n : (size_t)(end - *w);
	bs_str out = bs_str_make(*w, n);
	if (n)
		memcpy(*w, s.p, n);
	*w += n;
	return out;
}

/* Every event of a line passes here on its way to the engine. */
static void tap_event(void *ctx, const struct bs_event *ev)
{
	struct bs_maillog *m = ctx;
	if (!bs_time_valid(ev->ts)) {
		m->out_of_range++;
		return;
	}
	m->line_events++;
	m->repeatable = m->line_events == 1 && ev->type == BS_EV_AUTH && ev->u.auth.success == 0;
	if (m->repeatable) {
		char *w = m->last_buf, *end = m->last_buf + sizeof m->last_buf;
		m->last_fail = *ev;
		m->last_fail.host = keep(&w, end, ev->host);
		m->last_fail.u.auth.user = keep(&w, end, ev->u.auth.user);
		m->last_fail.u.auth.method = keep(&w, end, ev->u.auth.method);
		m->last_fail.u.auth.session = keep(&w, end, ev->u.auth.session);
	}
	bs_emit(&m->sink, ev);
}

/* "last message repeated N times", "--- last message repeated N times ---":
 * N, or 0 for any other message. */
static unsigned long repeat_count(bs_str msg)
{
	const char *p = msg.p, *end = msg.p + msg.n;
	if (end - p > 4 && memcmp(p, "--- ", 4) == 0)
		p += 4;
	static const char lead[] = "last message repeated ";
	if ((size_t)(end - p) < sizeof lead || memcmp(p, lead, sizeof lead - 1) != 0)
		return 0;
	unsigned long n = 0;
	for (p += sizeof lead - 1; p < end && *p >= '0' && *p <= '9' && n < 1000000; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	return (size_t)(end - p) >= 6 && memcmp(p, " time", 5) == 0 ? n : 0;
}

/* rsyslog's "message repeated N times: [ MSG]" (N more of the program's
 * line MSG, the first written before it): N, MSG in *inner; 0 otherwise. */
static unsigned long rsyslog_repeat(bs_str msg, bs_str *inner)
{
	static const char lead[] = "message repeated ";
	const char *p = msg.p, *end = msg.p + msg.n;
	if (msg.n < sizeof lead + 10 || memcmp(p, lead, sizeof lead - 1) != 0 || end[-1] != ']')
		return 0;
	unsigned long n = 0;
	for (p += sizeof lead - 1; p < end && *p >= '0' && *p <= '9' && n < 1000000; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	if ((size_t)(end - p) < 10 || memcmp(p, " times: [", 9) != 0)
		return 0;
	p += 9;
	if (*p == ' ')
		p++;
	*inner = bs_str_make(p, (size_t)(end - 1 - p));
	return n;
}

/* The failed login of the line before, again n times (at most 10 000: a
 * syslogd flushes its count far earlier), at this line's time and place. */
static enum bs_verdict repeat_last(struct bs_maillog *m, const struct bs_line_ctx *c, unsigned long n)
{
	if (!m->repeatable)
		return BS_IGNORED;
	struct bs_event ev = m->last_fail;
	ev.ts = c->sl->ts;
	ev.origin.ref = c->lineno;
	for (unsigned long i = 0; i < n && i < 10000; i++)
		bs_emit(&m->sink, &ev);
	return BS_PARSED;
}

struct bs_maillog *bs_maillog_new(const struct bs_maillog_opts *o, const struct bs_sink *sink)
{
	struct bs_maillog *m = bs_xcalloc(1, sizeof *m);
	m->opts = *o;
	if (o->tz)
		m->tz = *o->tz;
	else
		bs_tz_parse("UTC", &m->tz);
	bs_clock_init(&m->clock, o->forced_year, o->ref_epoch, &m->tz);
	if (sink)
		m->sink = *sink;
	m->tap.fn = tap_event;
	m->tap.ctx = m;
	for (size_t d = 0; d < NDAEMONS; d++)
		if (daemons[d]->raw_in || daemons[d]->raw)
			m->raw_testers |= UINT64_C(1) << d;
	return m;
}

void bs_maillog_free(struct bs_maillog *m)
{
	if (!m)
		return;
	for (size_t d = 0; d < NDAEMONS; d++)
		if (m->state[d])
			daemons[d]->state_free(m->state[d]);
	free(m);
}

static bool owns_raw(const struct bs_maillog *m, size_t d, const char *line, size_t len)
{
	return (daemons[d]->raw_in && daemons[d]->raw_in(m->state[d], line, len)) ||
	       (daemons[d]->raw && daemons[d]->raw(line, len));
}

static enum bs_verdict daemon_line(struct bs_maillog *m, size_t d, const struct bs_line_ctx *c, bs_str text)
{
	if (daemons[d]->state_new && !m->state[d])
		m->state[d] = daemons[d]->state_new();
	m->line_daemon = daemons[d]->name;
	return daemons[d]->line(m->state[d], c, text, &m->tz);
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Looks like a syslog line whose date did not parse ("MMM 22 ...", "May 32 ..."),
 * as opposed to text of some unknown format. */
static bool syslog_shaped(const char *p, size_t n)
{
	if (n >= 4 && p[0] == '<' && is_digit(p[1]))
		return true;
	if (n >= 16 && p[3] == ' ' && (p[4] == ' ' || is_digit(p[4])) && p[9] == ':' && p[12] == ':') /* "Mmm dd hh:mm:ss" */
		return true;
	if (n >= 16 && p[3] == ' ' && is_digit(p[4]) && p[5] == ' ' && p[8] == ':' && p[11] == ':') /* "Mmm d hh:mm:ss" */
		return true;
	return n >= 19 && is_digit(p[0]) && is_digit(p[3]) && p[4] == '-' && p[7] == '-' && p[10] == 'T';
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

static bool owns_prog(size_t d, bs_str prog)
{
	return daemons[d]->prog && daemons[d]->prog(prog);
}

static uint64_t ask_owners(bs_str prog)
{
	uint64_t owners = 0;
	for (size_t d = 0; d < NDAEMONS; d++)
		if (owns_prog(d, prog))
			owners |= UINT64_C(1) << d;
	return owners;
}

/* A program name's first and last 8 bytes and its length, mixed: a few
 * instructions per line (names differ at their ends: postfix/smtp, smtpd). */
static size_t prog_hash(bs_str prog)
{
	uint64_t head = 0, tail = 0;
	if (prog.n >= 8) {
		memcpy(&head, prog.p, 8);
		memcpy(&tail, prog.p + prog.n - 8, 8);
	} else {
		for (size_t i = 0; i < prog.n; i++)
			head = head << 8 | (unsigned char)prog.p[i];
	}
	return (size_t)(((head ^ tail * UINT64_C(0x9E3779B97F4A7C15) ^ prog.n) * UINT64_C(0xff51afd7ed558ccd)) >> 58);
}

/* The daemons whose program test takes this name, as a mask. */
static uint64_t prog_owners(struct bs_maillog *m, bs_str prog)
{
	if (prog.n == 0 || prog.n > PROG_MAX)
		return prog.n ? ask_owners(prog) : 0;
	size_t h = prog_hash(prog);
	for (;; h++) {
		struct prog_slot *slot = &m->progs[h % PROG_SLOTS];
		if (slot->n == prog.n && memcmp(slot->name, prog.p, prog.n) == 0)
			return slot->owners;
		if (slot->n == 0)
			break;
	}
	if (m->nprogs == PROG_KEEP) {
		memset(m->progs, 0, sizeof m->progs);
		m->nprogs = 0;
		return prog_owners(m, prog);
	}
	struct prog_slot *slot = &m->progs[h % PROG_SLOTS];
	slot->owners = ask_owners(prog);
	slot->n = (uint8_t)prog.n;
	memcpy(slot->name, prog.p, prog.n);
	m->nprogs++;
	return slot->owners;
}

static enum bs_verdict by_program(struct bs_maillog *m, const struct bs_line_ctx *c)
{
	const struct bs_syslog *sl = c->sl;
	uint64_t owners = prog_owners(m, sl->prog);
	if (owners == 0) {
		/* No daemon's program (or none at all): a daemon known by its
		 * message alone may take it, e.g. an access line nginx sent to
		 * syslog, Horde's log under any ident. */
		for (size_t d = 0; d < NDAEMONS; d++)
			if (!daemons[d]->prog && daemons[d]->shape && daemons[d]->shape(sl->msg))
				return daemon_line(m, d, c, sl->msg);
		return BS_IGNORED; /* untagged text, other programs */
	}
	size_t first = (size_t)__builtin_ctzll(owners);
	if (daemons[first]->shape && !daemons[first]->shape(sl->msg))
		for (size_t d = first + 1; d < NDAEMONS; d++)
			if (daemons[d]->shape && (owners >> d & 1) && daemons[d]->shape(sl->msg))
				return daemon_line(m, d, c, sl->msg); /* "imapd", "pop3d": decided by the message */
	return daemon_line(m, first, c, sl->msg);
}

static enum bs_verdict frame_line(struct bs_maillog *m, const char *line, size_t len, uint64_t lineno);

enum bs_verdict bs_maillog_line(struct bs_maillog *m, const char *line, size_t len, uint64_t lineno)
{
	m->out_of_range = 0;
	enum bs_verdict v = frame_line(m, line, len, lineno);
	if (m->out_of_range && v == BS_PARSED) {
		struct bs_line_ctx c = { NULL, &m->sink, m->opts.input, lineno, m->opts.diag };
		bs_line_debug(&c, m->line_daemon, BS_TIME_RANGE_WHY);
		v = BS_MALFORMED;
	}
	return v;
}

/* The line's verdict: framed as syslog, or in a daemon's own format. */
static enum bs_verdict frame_line(struct bs_maillog *m, const char *line, size_t len, uint64_t lineno)
{
	m->last_lineno = lineno;
	if (!line || ((len == 0 || line[0] == ' ' || line[0] == '\t' || line[0] == '\r') && blank(line, len)))
		return BS_IGNORED;
	struct bs_syslog sl;
	struct bs_line_ctx c = { NULL, &m->tap, m->opts.input, lineno, m->opts.diag };
	if (line[0] == '#') {
		/* a header of a format whose columns it names (W3C "#Fields:"),
		 * else an annotation (fail2ban test files) */
		for (size_t d = 0; d < NDAEMONS; d++)
			if (daemons[d]->raw_in && daemons[d]->raw_in(m->state[d], line, len))
				return daemon_line(m, d, &c, bs_str_make(line, len));
		return BS_IGNORED;
	}
	bool was_repeatable = m->repeatable;
	m->line_events = 0;
	m->repeatable = false;
	if (bs_syslog_parse(line, len, &m->clock, &sl)) {
		c.sl = &sl;
		unsigned long n = sl.prog.n ? 0 : repeat_count(sl.msg);
		if (n) {
			m->repeatable = was_repeatable; /* a count may be flushed in several lines */
			return repeat_last(m, &c, n);
		}
		bs_str inner;
		unsigned long again = rsyslog_repeat(sl.msg, &inner);
		if (!again)
			return by_program(m, &c);
		sl.msg = inner;
		enum bs_verdict v = by_program(m, &c);
		if (v == BS_PARSED && m->repeatable && again > 1)
			repeat_last(m, &c, again - 1);
		return v;
	}
	if (sl.time_out_of_range) {
		bs_line_debug(&c, "syslog", BS_TIME_RANGE_WHY);
		return BS_MALFORMED;
	}
	for (uint64_t left = m->raw_testers; left; left &= left - 1) {
		size_t d = (size_t)__builtin_ctzll(left);
		if (owns_raw(m, d, line, len))
			return daemon_line(m, d, &c, bs_str_make(line, len));
	}
	if (syslog_shaped(line, len)) {
		bs_line_debug(&c, "syslog", "syslog-like line with an impossible date");
		return BS_MALFORMED;
	}
	return BS_IGNORED; /* text of an unknown format */
}

uint64_t bs_maillog_finish(struct bs_maillog *m)
{
	struct bs_line_ctx c = { NULL, &m->tap, m->opts.input, m->last_lineno, m->opts.diag };
	uint64_t flushed = 0;
	m->out_of_range = 0;
	for (size_t d = 0; d < NDAEMONS; d++)
		if (m->state[d] && daemons[d]->finish)
			flushed += daemons[d]->finish(m->state[d], &c);
	if (m->out_of_range)
		bs_line_debug(&c, "maillog", "an unfinished message's time outside 1970..9999: not used");
	return flushed;
}

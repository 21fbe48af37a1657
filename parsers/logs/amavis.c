/* amavis.c - amavisd-new content-filter verdicts (docs/DAEMONS.md).
 *
 * One main line per message:
 *   (12345-01) Passed CLEAN {RelayedInbound}, [1.2.3.4]:5678 [1.2.3.4] <f@x> -> <t@y>,<u@y>,
 *     Queue-ID: 4XYZ, Message-ID: <m@x>, mail_id: abc, Hits: -1.2, size: 2345, queued_as: 4ABC, 423 ms
 *   (12345-01) Blocked INFECTED (Eicar-Test-Signature) {DiscardedInbound,Quarantined}, ...
 *   (12345-01) Passed CLEAN, [1.2.3.4] [1.2.3.4] <f> -> <t>, ...      (2.4 - 2.6: no {action})
 *   (12345-01) Passed, <f> -> <t>, Message-ID: <m>, Hits: 1.2         (2.2, 2.3: no category)
 *   (12345-01) SPAM, <f> -> <t>, quarantine: ..., Hits: 15.3          (2.2, 2.3: category alone)
 * becomes one BS_EV_SPAM. The first bracketed address is the SMTP client
 * that handed the message to the MTA (amavis learns it from XFORWARD).
 * Everything else amavis writes (SPAM-TAG lines, which repeat the main line's
 * verdict at log level 2; warnings "(!)..."; start-up; timing) is ignored.
 */
#include "config.h"
#include "parsers/logs/daemons.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char DAEMON[] = "amavis";

bool bs_amavis_prog(bs_str prog)
{
	/* Some installations log the path: "/usr/sbin/amavisd". */
	const char *slash = memrchr(prog.p, '/', prog.n);
	bs_str base = slash ? bs_str_make(slash + 1, prog.n - (size_t)(slash + 1 - prog.p)) : prog;
	return bs_str_eq(base, "amavis") || bs_str_eq(base, "amavisd") || bs_str_eq(base, "amavisd-new");
}

/* A cursor over the message: p[0..n) with the position i. */
struct av_cur {
	const char *p;
	size_t n, i;
};

static bool av_at(const struct av_cur *c, const char *lit)
{
	size_t n = strlen(lit);
	return c->n - c->i >= n && memcmp(c->p + c->i, lit, n) == 0;
}

static void av_skip_spaces(struct av_cur *c)
{
	while (c->i < c->n && c->p[c->i] == ' ')
		c->i++;
}

/* Skip a balanced group that starts at the cursor ("(...)" or "{...}").
 * Returns false when it is not closed on the line. */
static bool av_skip_group(struct av_cur *c, char open, char close)
{
	int depth = 0;
	for (size_t j = c->i; j < c->n; j++) {
		if (c->p[j] == open)
			depth++;
		else if (c->p[j] == close && --depth == 0) {
			c->i = j + 1;
			return true;
		}
	}
	return false;
}

/* An address in angle brackets at the cursor; quoted local parts may hold
 * '>' and ','. Returns false when it is not closed. */
static bool av_angle_addr(struct av_cur *c, bs_str *out)
{
	if (c->i >= c->n || c->p[c->i] != '<')
		return false;
	/* Most addresses hold no '"': the first '>' ends them, found by memchr. */
	const char *from = c->p + c->i + 1, *end = c->p + c->n;
	const char *gt = memchr(from, '>', (size_t)(end - from));
	if (!gt)
		return false; /* no '>' at all: none ends it, quoted or not */
	if (!memchr(from, '"', (size_t)(gt - from))) {
		*out = bs_str_make(from, (size_t)(gt - from));
		c->i = (size_t)(gt - c->p) + 1;
		return true;
	}
	bool quoted = false;
	for (size_t j = c->i + 1; j < c->n; j++) {
		if (c->p[j] == '"')
			quoted = !quoted;
		else if (c->p[j] == '>' && !quoted) {
			*out = bs_str_make(c->p + c->i + 1, j - c->i - 1);
			c->i = j + 1;
			return true;
		}
	}
	return false;
}

/* The port after "[ip]:", read as strtoul(p, NULL, 10) would but never past
 * end, the token's end (strtoul ran on past the line when it ended in
 * digits: an overread found by the sanitizers on a line cut there): spaces,
 * a sign ('-' gives no port: a negated value is past 65535 or 0), digits;
 * past 65535 is no port, however far past. */
static unsigned long port_at(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || (*p >= '\t' && *p <= '\r')))
		p++;
	if (p < end && *p == '-')
		return 0;
	if (p < end && *p == '+')
		p++;
	unsigned long v = 0;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		v = v < 65536 ? v * 10 + (unsigned long)(*p - '0') : 65536;
	return v;
}

/* The last ", Hits: " in f, else NULL: searched from the end, where it is
 * (the fields after it are few). */
static const char *last_hits(bs_str f)
{
	if (f.n < 8)
		return NULL;
	for (size_t lim = f.n - 7; lim > 0;) { /* a start at lim - 1 or before */
		const char *comma = memrchr(f.p, ',', lim);
		if (!comma)
			return NULL;
		if (memcmp(comma, ", Hits: ", 8) == 0)
			return comma;
		lim = (size_t)(comma - f.p);
	}
	return NULL;
}

/* strtod's value of "-?D+(.D+)?" with at most 15 digits D, without its
 * call: the digits as an integer (exact, below 2^53) over an exact power of
 * ten is one correctly rounded division, the value strtod gives. false:
 * another spelling, left to strtod. */
static bool plain_decimal(const char *s, double *v)
{
	static const double ten[16] = { 1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
		                        1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
	bool neg = *s == '-';
	s += neg;
	uint64_t m = 0;
	int digits = 0, frac = -1; /* frac: digits after the '.', -1 before one */
	for (; *s; s++) {
		if (*s == '.' && frac < 0 && digits > 0) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || ++digits > 15)
			return false;
		m = m * 10 + (uint64_t)(*s - '0');
		frac += frac >= 0;
	}
	if (digits == 0 || frac == 0)
		return false;
	double x = (double)m / ten[frac > 0 ? frac : 0];
	*v = neg ? -x : x;
	return true;
}

static double av_score(bs_str fields)
{
	/* The last ", Hits: ": the Message-ID before it is the sender's to choose. */
	const char *hits = last_hits(fields);
	if (!hits)
		return NAN;
	char buf[32];
	size_t k = 0, at = (size_t)(hits - fields.p) + 8;
	while (at < fields.n && k < sizeof buf - 1 && fields.p[at] != ',' && fields.p[at] != ' ')
		buf[k++] = fields.p[at++];
	buf[k] = 0;
	double v;
	if (k > 0 && plain_decimal(buf, &v))
		return v;
	char *end;
	v = strtod(buf, &end);
	return (k > 0 && *end == 0 && isfinite(v)) ? v : NAN; /* "Hits: -" means not scanned */
}

enum av_kind { AV_CLEAN, AV_SPAM, AV_VIRUS, AV_OTHER };

static enum av_kind av_category(bs_str cat)
{
	if (cat.n == 0 || bs_str_eq(cat, "CLEAN"))
		return AV_CLEAN;
	if (bs_str_eq(cat, "SPAM") || bs_str_eq(cat, "SPAMMY"))
		return AV_SPAM;
	if (bs_str_eq(cat, "INFECTED") || bs_str_eq(cat, "VIRUS"))
		return AV_VIRUS;
	/* BANNED (a forbidden attachment type) counts as blocked content. */
	if (bs_str_eq(cat, "BANNED"))
		return AV_SPAM;
	return AV_OTHER; /* BAD-HEADER, UNCHECKED, OVERSIZED, MTA-BLOCKED ... */
}

enum bs_verdict bs_amavis_line(const struct bs_line_ctx *c)
{
	if (!c || !c->sl)
		return BS_IGNORED;
	struct av_cur cur = { c->sl->msg.p, c->sl->msg.n, 0 };
	/* "(12345-01) " log id */
	if (av_at(&cur, "(") && !av_at(&cur, "(!")) {
		if (!av_skip_group(&cur, '(', ')'))
			return BS_IGNORED;
		av_skip_spaces(&cur);
	}
	static const char *const actions[] = { "Passed", "Blocked", "Not-Delivered" };
	static const char *const old_categories[] = { "SPAM,", "SPAM ", "INFECTED ", "BANNED ", "SPAMMY," };
	bool main_line = false;
	for (size_t i = 0; i < sizeof actions / sizeof actions[0] && !main_line; i++)
		if (av_at(&cur, actions[i])) {
			cur.i += strlen(actions[i]);
			main_line = cur.i < cur.n && (cur.p[cur.i] == ' ' || cur.p[cur.i] == ',');
		}
	if (!main_line)
		for (size_t i = 0; i < sizeof old_categories / sizeof old_categories[0] && !main_line; i++)
			main_line = av_at(&cur, old_categories[i]);
	if (!main_line)
		return BS_IGNORED;

	av_skip_spaces(&cur);
	size_t cat_start = cur.i;
	while (cur.i < cur.n && cur.p[cur.i] != ' ' && cur.p[cur.i] != ',' && cur.p[cur.i] != '{')
		cur.i++;
	bs_str category = bs_str_make(cur.p + cat_start, cur.i - cat_start);
	av_skip_spaces(&cur);
	if (av_at(&cur, "(") && !av_skip_group(&cur, '(', ')')) { /* virus or banned name */
		bs_line_debug(c, DAEMON, "verdict details without their closing )");
		return BS_MALFORMED;
	}
	av_skip_spaces(&cur);
	if (av_at(&cur, "{") && !av_skip_group(&cur, '{', '}')) {
		bs_line_debug(c, DAEMON, "verdict {action} without its closing }");
		return BS_MALFORMED;
	}
	if (!av_at(&cur, ",")) {
		bs_line_debug(c, DAEMON, "verdict not followed by a comma");
		return BS_MALFORMED;
	}
	cur.i++;

	/* Client part: "LOCAL [1.2.3.4]:5678 [1.2.3.4]" ... up to the sender. */
	bs_ip src = { 0 };
	uint16_t sport = 0;
	for (;;) {
		av_skip_spaces(&cur);
		if (cur.i >= cur.n || cur.p[cur.i] == '<')
			break;
		size_t tok = cur.i;
		while (cur.i < cur.n && cur.p[cur.i] != ' ')
			cur.i++;
		const char *close = memchr(cur.p + tok, ']', cur.i - tok);
		if (cur.p[tok] == '[' && close && !src.family &&
		    bs_ip_parse(cur.p + tok, (size_t)(close - cur.p - tok) + 1, &src) && close + 1 < cur.p + cur.i &&
		    close[1] == ':') {
			unsigned long port = port_at(close + 2, cur.p + cur.i); /* digits end at the space */
			sport = port <= 65535 ? (uint16_t)port : 0;
		}
	}
	bs_str sender;
	if (!av_angle_addr(&cur, &sender)) {
		bs_line_debug(c, DAEMON, "verdict without <sender>");
		return BS_MALFORMED;
	}
	if (!av_at(&cur, " -> ")) {
		bs_line_debug(c, DAEMON, "verdict without -> recipients");
		return BS_MALFORMED;
	}
	cur.i += 4;

	/* the list is checked whole first: a cut one emits nothing */
	const struct av_cur list = cur;
	for (bs_str r;; cur.i++) {
		if (!av_angle_addr(&cur, &r)) {
			bs_line_debug(c, DAEMON, "recipient list cut or without <>");
			return BS_MALFORMED;
		}
		if (!av_at(&cur, ",<"))
			break;
	}

	enum av_kind kind = av_category(category);
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_SPAM);
	ev.src = src;
	ev.sport = sport;
	ev.u.spam.spam = kind == AV_SPAM || kind == AV_VIRUS;
	ev.u.spam.virus = kind == AV_VIRUS;
	ev.u.spam.score = av_score(bs_str_make(cur.p + cur.i, cur.n - cur.i));
	ev.u.spam.sender = sender;
	ev.u.spam.filter = BS_STR_LIT("amavis");
	/* more than BS_MAIL_MAX_RCPT recipients: emitted in parts, none dropped */
	struct bs_line_rcpts parts;
	bs_line_rcpts_init(&parts, c, &ev);
	cur = list;
	for (bs_str r; av_angle_addr(&cur, &r); cur.i++) {
		bs_line_rcpts_add(&parts, r, BS_STR_NULL);
		if (!av_at(&cur, ",<"))
			break;
	}
	bs_line_rcpts_end(&parts);
	return BS_PARSED;
}

static enum bs_verdict amavis_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state, (void)text, (void)tz;
	return bs_amavis_line(c);
}

const struct bs_daemon_def bs_daemon_amavis = { .name = "amavis", .prog = bs_amavis_prog, .shape = NULL, .line = amavis_line };

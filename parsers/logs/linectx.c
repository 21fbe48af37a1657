/* linectx.c - what every daemon parser does with a line context: start an
 * event from it, and report why a line is malformed. */
#include "config.h"
#include "parsers/logs/daemons.h"

#include <string.h>


void bs_line_event(const struct bs_line_ctx *c, struct bs_event *ev, enum bs_event_type t)
{
	bs_event_init(ev, t);
	ev->origin.input = c->input;
	ev->origin.ref = c->lineno;
	ev->origin.from_capture = false;
	if (c->sl) {
		ev->ts = c->sl->ts;
		ev->host = c->sl->host;
	}
	/* bs_event_init leaves host as { NULL, 0 }: give consumers a valid empty string. */
	if (!ev->host.p)
		ev->host = BS_STR_LIT("");
}

void bs_line_debug(const struct bs_line_ctx *c, const char *daemon, const char *why)
{
	if (c)
		bs_diag(c->diag, c->input, c->lineno, false, daemon, "%s", why ? why : "?");
}

void bs_line_auth(const struct bs_line_ctx *c, struct bs_event *ev, enum bs_auth_proto proto, bs_str user,
                  bs_str method, int success)
{
	bs_line_event(c, ev, BS_EV_AUTH);
	ev->u.auth.proto = proto;
	ev->u.auth.user = user;
	ev->u.auth.method = method;
	ev->u.auth.success = success;
	ev->u.auth.session = BS_STR_LIT("");
}

void bs_line_access(const struct bs_line_ctx *c, struct bs_event *ev, bs_time ts, int status, uint64_t bytes)
{
	bs_line_event(c, ev, BS_EV_HTTP);
	ev->ts = ts;
	ev->host = BS_STR_LIT(""); /* the server is not in the line: the engine maps the input */
	struct bs_ev_http *h = &ev->u.http;
	h->phase = BS_HTTP_COMPLETE;
	h->txn_id = c->lineno;
	h->from_access_log = true;
	h->status = status;
	h->resp_bytes = bytes;
}

static void rcpts_emit(struct bs_line_rcpts *r)
{
	if (r->ev->type == BS_EV_SPAM) {
		r->ev->u.spam.rcpts = r->rcpts;
		r->ev->u.spam.nrcpt = r->n;
	} else {
		r->ev->u.mail.rcpts = r->rcpts;
		r->ev->u.mail.rcpt_status = r->with_status ? r->status : NULL;
		r->ev->u.mail.nrcpt = r->n;
		r->ev->u.mail.part = r->part;
	}
	bs_emit(r->c->sink, r->ev);
	r->part++;
	r->n = 0;
}

void bs_line_rcpts_init(struct bs_line_rcpts *r, const struct bs_line_ctx *c, struct bs_event *ev)
{
	/* not the arrays: 32 KB zeroed per line was a third of a maillog run's
	 * instructions (amavis lines); only their first n entries are read */
	r->c = c;
	r->ev = ev;
	r->with_status = false;
	r->n = 0;
	r->part = 0;
}

void bs_line_rcpts_add(struct bs_line_rcpts *r, bs_str rcpt, bs_str status)
{
	if (r->n == BS_MAIL_MAX_RCPT)
		rcpts_emit(r);
	r->rcpts[r->n] = rcpt;
	r->status[r->n++] = status;
}

void bs_line_rcpts_end(struct bs_line_rcpts *r)
{
	if (r->n || !r->part)
		rcpts_emit(r);
}

static bool digit(char c) { return c >= '0' && c <= '9'; }

size_t bs_line_iso_stamp(bs_str s, struct bs_tz *tz, bs_time *ts)
{
	const char *p = s.p;
	if (s.n < 20 || !digit(p[0]) || p[4] != '-' || p[7] != '-' || p[10] != ' ' || p[13] != ':' || p[16] != ':')
		return 0;
	for (int i = 0; i < 19; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && !digit(p[i]))
			return 0;
#define N2(o) ((p[o] - '0') * 10 + (p[o + 1] - '0'))
	int y = N2(0) * 100 + N2(2), mon = N2(5), d = N2(8), h = N2(11), mi = N2(14), sec = N2(17);
	if (mon < 1 || mon > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	size_t i = 19;
	int usec = 0, scale = 100000;
	if (i < s.n && (p[i] == '.' || p[i] == ',')) { /* Exim's '.', log4j's ',' (Zimbra) */
		for (i++; i < s.n && digit(p[i]); i++, scale /= 10)
			usec += scale > 0 ? (p[i] - '0') * scale : 0;
	}
	bs_time local = bs_time_make(y, mon, d, h, mi, sec, usec);
	int64_t off;
	if (i + 6 <= s.n && p[i] == ' ' && (p[i + 1] == '+' || p[i + 1] == '-') && digit(p[i + 2]) && digit(p[i + 3]) &&
	    digit(p[i + 4]) && digit(p[i + 5])) {
		off = (N2(i + 2) * 3600 + N2(i + 4) * 60) * (p[i + 1] == '-' ? -1 : 1);
		i += 6;
	} else {
		off = bs_tz_offset_for_local(tz, local / BS_USEC - (local % BS_USEC < 0));
	}
#undef N2
	*ts = local - off * BS_USEC;
	if (i < s.n && p[i] == ' ')
		i++;
	return i;
}

bool bs_line_skip(bs_str *s, const char *lit)
{
	size_t n = strlen(lit);
	if (s->n < n || memcmp(s->p, lit, n) != 0)
		return false;
	s->p += n;
	s->n -= n;
	return true;
}

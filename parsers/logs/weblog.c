/* weblog.c - Apache/nginx access logs: common and combined formats, with an
 * optional leading virtual host ("host:port " or "host "). One BS_EV_HTTP
 * (phase COMPLETE, from_access_log) per line. */
#include "config.h"
#include "parsers/logs/daemons.h"

#include <string.h>

struct cursor {
	const char *p, *end;
	bool request; /* the quoted string to read is the request line */
};

static bool at_end(const struct cursor *k) { return k->p >= k->end; }

static bs_str next_token(struct cursor *k)
{
	while (!at_end(k) && *k->p == ' ')
		k->p++;
	const char *s = k->p;
	while (!at_end(k) && *k->p != ' ')
		k->p++;
	return bs_str_make(s, (size_t)(k->p - s));
}

/* The quote that closes a string whose bytes start at s: the first '"' not
 * taken by a backslash (a backslash takes the byte after it). Found with
 * memchr: a quote is escaped only if a backslash comes before it. */
static const char *closing_quote(const char *s, const char *end)
{
	const char *q = memchr(s, '"', (size_t)(end - s));
	while (q) {
		const char *b = memchr(s, '\\', (size_t)(q - s));
		if (!b)
			return q;
		s = b + 2; /* b < q: the byte it takes is there */
		if (s > q) /* it took q */
			q = memchr(s, '"', (size_t)(end - s));
	}
	return NULL;
}

/* nginx's end of a request line: a quote followed by " NNN" (the status)
 * and a space or the line's end. */
static const char *request_end(const char *s, const char *end)
{
	if (end - s < 5)
		return NULL;
	for (const char *q = s; (q = memchr(q, '"', (size_t)(end - 4 - q))) != NULL; q++)
		if (q[1] == ' ' && q[2] >= '1' && q[2] <= '5' && q[3] >= '0' && q[3] <= '9' && q[4] >= '0' &&
		    q[4] <= '9' && (q + 5 == end || q[5] == ' '))
			return q;
	return NULL;
}

/* A "quoted" string where \" and \\ are escapes (Apache writes them so);
 * the bytes are returned as written, escapes included. */
static bool quoted(struct cursor *k, bs_str *out)
{
	while (!at_end(k) && *k->p == ' ')
		k->p++;
	if (at_end(k) || *k->p != '"')
		return false;
	const char *s = ++k->p;
	/* nginx does not escape '"' in the request line: its end is the
	 * quote followed by the status, when there is one. */
	const char *q = k->request ? request_end(s, k->end) : NULL;
	if (!q)
		q = closing_quote(s, k->end);
	if (!q) {
		k->p = k->end;
		return false;
	}
	*out = bs_str_make(s, (size_t)(q - s));
	k->p = q + 1;
	return true;
}

static bool digits(bs_str s, uint64_t *v)
{
	*v = 0;
	if (s.n == 0 || s.n > 19)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		*v = *v * 10 + (uint64_t)(s.p[i] - '0');
	}
	return true;
}

static int num2(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

static bool all_digit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* "04/May/2007:17:31:02 +0200" (the zone may be missing: then UTC). */
static bool clf_time(bs_str s, bs_time *ts)
{
	if (s.n < 20 || !all_digit(s.p, 2) || s.p[2] != '/' || s.p[6] != '/' || !all_digit(s.p + 7, 4) ||
	    s.p[11] != ':' || !all_digit(s.p + 12, 2) || s.p[14] != ':' || !all_digit(s.p + 15, 2) ||
	    s.p[17] != ':' || !all_digit(s.p + 18, 2))
		return false;
	char mname[4] = { s.p[3], s.p[4], s.p[5], 0 };
	int mon = bs_month_from_abbr(mname), day = num2(s.p), y = num2(s.p + 7) * 100 + num2(s.p + 9);
	int h = num2(s.p + 12), mi = num2(s.p + 15), sec = num2(s.p + 18);
	if (mon == 0 || day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	int off = 0;
	const char *z = s.p + 20, *end = s.p + s.n;
	while (z < end && *z == ' ')
		z++;
	if (end - z >= 5 && (z[0] == '+' || z[0] == '-') && all_digit(z + 1, 4)) {
		off = (num2(z + 1) * 3600 + num2(z + 3) * 60) * (z[0] == '-' ? -1 : 1);
	} else if (z != end && !bs_str_eq(bs_str_make(z, (size_t)(end - z)), "GMT") &&
	           !bs_str_eq(bs_str_make(z, (size_t)(end - z)), "UTC")) { /* SOGo writes "GMT" */
		return false;
	}
	*ts = bs_time_make(y, mon, day, h, mi, sec, 0) - (bs_time)off * BS_USEC;
	return true;
}

/* The prefix up to the date: "[vhost[:port]] client ident user [" */
struct prefix {
	bs_str tok[5];
	int n;
	const char *date; /* after '[' */
};

static bool scan_prefix(const char *line, size_t len, struct prefix *pf)
{
	struct cursor k = { line, line + len, false };
	pf->n = 0;
	while (pf->n < 5) {
		while (!at_end(&k) && *k.p == ' ')
			k.p++;
		if (at_end(&k))
			return false;
		if (*k.p == '[' && pf->n >= 3) {
			pf->date = k.p + 1;
			return true;
		}
		pf->tok[pf->n++] = next_token(&k);
	}
	return false;
}

/* "A, B, C client ..." (LogFormat "%{X-Forwarded-For}i ..."): the length of
 * the list's leading "A, B, " and the client: each proxy appends the address
 * it received the request from, so the entries left of the site's own proxies
 * are the client's to write; the rightmost public address is the one the
 * site's edge proxy saw (the ones after it are the site's proxies, private).
 * Without a public one, the rightmost; "unknown" entries are passed over.
 * 0: no list. */
static size_t forwarded_list(const char *line, size_t len, bs_ip *client)
{
	size_t i = 0, lead = 0;
	/* A list has a ',' right after its first entry; without one the loop
	 * below answers 0 whatever the entry is (it needs a second entry), so
	 * the usual line is not made to parse its client twice. */
	while (i < len && line[i] != ' ' && line[i] != ',')
		i++;
	if (i + 1 >= len || line[i] != ',')
		return 0;
	i = 0;
	bool found = false, public_found = false, have = false;
	for (int k = 0; k < 32; k++) {
		size_t s = i;
		while (i < len && line[i] != ' ' && line[i] != ',')
			i++;
		bs_ip a;
		bool unknown = bs_str_ieq(bs_str_make(line + s, i - s), "unknown"); /* a proxy that hides its peer */
		if (i == s || (!unknown && !bs_ip_parse(line + s, i - s, &a)))
			return 0;
		if (!unknown && (!public_found || !bs_ip_is_private(&a))) {
			have = true;
			public_found = public_found || !bs_ip_is_private(&a);
			*client = a;
		}
		if (i + 1 >= len || line[i] != ',') /* the last entry */
			return found && have ? lead : 0;
		found = true;
		i++;
		while (i < len && line[i] == ' ')
			i++;
		lead = i;
	}
	return 0;
}

bool bs_weblog_detect(const char *line, size_t len)
{
	struct prefix pf;
	bs_ip ip;
	size_t lead = forwarded_list(line, len, &ip);
	line += lead, len -= lead;
	if (!scan_prefix(line, len, &pf))
		return false;
	const char *end = line + len, *close = memchr(pf.date, ']', (size_t)(end - pf.date));
	/* "[dd/Mon/yyyy:" : nginx error lines and the like also have brackets */
	if (!close || close - pf.date < 12 || pf.date[2] != '/' || pf.date[6] != '/' || pf.date[11] != ':')
		return false;
	return close + 2 < end && memchr(close, '"', (size_t)(end - close)) != NULL;
}

/* A client token: "A", or "A:port" and "[A]:port" (the $remote_addr:$remote_port
 * of nginx proxies such as Zimbra's). A bare IPv6 address parses whole first. */
static bool client_token(bs_str t, bs_ip *ip)
{
	if (bs_ip_parse(t.p, t.n, ip))
		return true;
	const char *colon = t.n ? memrchr(t.p, ':', t.n) : NULL;
	if (!colon || colon == t.p || colon + 1 == t.p + t.n)
		return false;
	for (const char *d = colon + 1; d < t.p + t.n; d++)
		if (*d < '0' || *d > '9')
			return false;
	size_t n = (size_t)(colon - t.p);
	if (t.p[0] == '[')
		return t.p[n - 1] == ']' && bs_ip_parse(t.p, n, ip);
	return !memchr(t.p, ':', n) && bs_ip_parse(t.p, n, ip);
}

static bool method_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_';
}

enum bs_verdict bs_weblog_line(const struct bs_line_ctx *c, const char *line, size_t len)
{
	struct prefix pf;
	bs_ip forwarded;
	size_t lead = forwarded_list(line, len, &forwarded);
	line += lead, len -= lead;
	if (!scan_prefix(line, len, &pf))
		return bs_line_debug(c, "weblog", "no [date] after client, ident and user"), BS_MALFORMED;
	/* "client ident user", or "vhost client ident user"; a stray "-" between
	 * user and date (seen in custom formats) is tolerated. The client is the
	 * second token when that one is an address, else the first. */
	bs_ip client;
	memset(&client, 0, sizeof client);
	int ci = -1;
	if (pf.n >= 4 && bs_ip_parse(pf.tok[1].p, pf.tok[1].n, &client))
		ci = 1;
	else if (client_token(pf.tok[0], &client))
		ci = 0;
	if (ci < 0)
		return bs_line_debug(c, "weblog", "client is not an IP address"), BS_MALFORMED;
	if (lead)
		client = forwarded;
	const char *end = line + len, *close = memchr(pf.date, ']', (size_t)(end - pf.date));
	bs_time ts;
	if (!close || !clf_time(bs_str_make(pf.date, (size_t)(close - pf.date)), &ts))
		return bs_line_debug(c, "weblog", "bad [date]"), BS_MALFORMED;
	if (!bs_time_valid(ts))
		return bs_line_debug(c, "weblog", BS_TIME_RANGE_WHY), BS_MALFORMED;
	struct cursor k = { close + 1, end, true };
	bs_str request, referer = BS_STR_LIT(""), agent = BS_STR_LIT("");
	if (!quoted(&k, &request)) {
		/* Some LogFormats put the virtual host between date and request. */
		(void)next_token(&k);
		if (!quoted(&k, &request))
			return bs_line_debug(c, "weblog", "no quoted request"), BS_MALFORMED;
	}
	k.request = false;
	uint64_t status, bytes = 0;
	bs_str st = next_token(&k), by = next_token(&k);
	const char *slash = memchr(by.p, '/', by.n);
	if (slash) /* SOGo: "34/38", the bytes written, then the request's */
		by.n = (size_t)(slash - by.p);
	if (!digits(st, &status) || status > 999 || (!bs_str_eq(by, "-") && !digits(by, &bytes)))
		return bs_line_debug(c, "weblog", "bad status or bytes"), BS_MALFORMED;
	if (quoted(&k, &referer) && !quoted(&k, &agent))
		agent = BS_STR_LIT("");
	if (bs_str_eq(referer, "-"))
		referer = BS_STR_LIT("");
	if (bs_str_eq(agent, "-"))
		agent = BS_STR_LIT("");

	struct bs_event ev;
	bs_line_access(c, &ev, ts, (int)status, bytes);
	ev.src = client;
	struct bs_ev_http *h = &ev.u.http;
	h->referer = referer;
	h->user_agent = agent;
	/* "METHOD uri PROTO" (or "METHOD uri" for HTTP/0.9). Anything else (TLS
	 * bytes on the HTTP port, "-", "") is still a request, with no method
	 * and the raw text as the uri so that detectors see it. */
	struct cursor rq = { request.p, request.p + request.n, false };
	bs_str method = next_token(&rq), uri = next_token(&rq), proto = next_token(&rq), extra = next_token(&rq);
	bool ok = method.n > 0 && method.n <= 20 && uri.n > 0 && extra.n == 0;
	for (size_t i = 0; ok && i < method.n; i++)
		ok = method_char(method.p[i]);
	if (ok && proto.n && !bs_str_istarts(proto, "HTTP/"))
		ok = false;
	if (ok) {
		h->method = method;
		h->uri = uri;
	} else {
		h->method = BS_STR_LIT("");
		h->uri = bs_str_eq(request, "-") ? BS_STR_LIT("") : request;
	}
	if (ci == 1) {
		/* The virtual host, without its port, stands for the Host header. */
		bs_str vhost = pf.tok[0];
		const char *colon = memchr(vhost.p, ':', vhost.n);
		if (colon && !memchr(colon + 1, ':', (size_t)(vhost.p + vhost.n - colon - 1)))
			vhost.n = (size_t)(colon - vhost.p);
		h->host = vhost;
	}
	bs_emit(c->sink, &ev);
	return BS_PARSED;
}

static enum bs_verdict weblog_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state, (void)tz;
	return bs_weblog_line(c, text.p, text.n);
}

/* An access line carried by syslog ("nginx: A - - [..] "GET .."", nginx's
 * access_log syslog:server=...), under a program no other daemon owns. */
static bool weblog_shape(bs_str msg) { return bs_weblog_detect(msg.p, msg.n); }

const struct bs_daemon_def bs_daemon_weblog = { .name = "weblog", .shape = weblog_shape, .raw = bs_weblog_detect,
	                                        .line = weblog_line };

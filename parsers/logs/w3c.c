/* w3c.c - logs whose columns a "#Fields:" header names (docs/DAEMONS.md):
 * IIS's W3C extended log (values separated by spaces, which IIS never writes
 * inside a value), and Exchange's CSV logs, the message tracking log and the
 * HttpProxy logs (read with libcsv: a subject may hold commas and quotes).
 *
 * The field list is per input: this daemon's state, made at the first header
 * line of the input; a later "#Fields:" replaces it (IIS writes a new header
 * when the site restarts or its field set changes). A line is this format's
 * only after a header: its first column is a date, as an Exim line's is.
 * No allocation per line: CSV fields are copied into a buffer that grows only
 * for a line longer than any before. */
#include "config.h"
#include "parsers/logs/daemons.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

/* The columns used, by meaning: IIS's, Exchange's, HttpProxy's names of one
 * thing share an id. */
enum col {
	C_DATE, C_TIME, C_DATETIME, C_CIP, C_SIP, C_SPORT, C_METHOD, C_STEM, C_QUERY, C_USER, C_UA,
	C_REFERER, C_STATUS, C_BYTES, C_HOST, C_XFF, C_CLIENT_NAME, C_SERVER_NAME, C_EVENT, C_MSGID,
	C_QID, C_RCPT, C_RCPT_STATUS, C_SIZE, C_SENDER, C_SOURCE, NCOL
};

static const struct {
	const char *name;
	enum col col;
} col_names[] = {
	/* IIS W3C extended (Microsoft's "W3C Logging" field list) */
	{ "date", C_DATE }, { "time", C_TIME }, { "c-ip", C_CIP }, { "s-ip", C_SIP }, { "s-port", C_SPORT },
	{ "cs-method", C_METHOD }, { "cs-uri-stem", C_STEM }, { "cs-uri-query", C_QUERY },
	{ "cs-username", C_USER }, { "cs(User-Agent)", C_UA }, { "cs(Referer)", C_REFERER },
	{ "sc-status", C_STATUS }, { "sc-bytes", C_BYTES }, { "cs-host", C_HOST },
	{ "s-computername", C_SERVER_NAME },
	/* IIS 8.5+ custom fields keep the name they were given */
	{ "X-Forwarded-For", C_XFF }, { "cs(X-Forwarded-For)", C_XFF }, { "X_Forwarded_For", C_XFF },
	/* Exchange 2013+ message tracking log */
	{ "date-time", C_DATETIME }, { "client-ip", C_CIP }, { "client-hostname", C_CLIENT_NAME },
	{ "server-ip", C_SIP }, { "server-hostname", C_SERVER_NAME }, { "event-id", C_EVENT },
	{ "message-id", C_MSGID }, { "internal-message-id", C_QID }, { "recipient-address", C_RCPT },
	{ "recipient-status", C_RCPT_STATUS }, { "total-bytes", C_SIZE }, { "sender-address", C_SENDER },
	{ "source", C_SOURCE },
	/* Exchange 2013+ HttpProxy logs */
	{ "DateTime", C_DATETIME }, { "ClientIpAddress", C_CIP }, { "UrlHost", C_HOST }, { "UrlStem", C_STEM },
	{ "UrlQuery", C_QUERY }, { "Method", C_METHOD }, { "HttpStatus", C_STATUS },
	{ "AuthenticatedUser", C_USER }, { "UserAgent", C_UA }, { "ServerHostName", C_SERVER_NAME },
	{ "ResponseBytes", C_BYTES },
};

#define W3C_MAX_FIELDS 192  /* HttpProxy logs about 80; the rest of a longer list is not read */
#define URI_MAX 8192        /* stem "?" query, joined (longer: cut) */
#define OWA_PENDING 64      /* OWA form logins awaiting their client's next request */
#define OWA_USER_MAX 256    /* a pending login's user name (longer: cut) */

/* An OWA form login answered 302: IIS logs no Location header, so whether
 * the redirect went back to the logon page (failed) or into the mailbox is
 * known only from the same client's next request. */
struct owa_pending {
	bool used;
	bs_ip client;
	bs_time ts;
	uint64_t lineno;
	uint64_t seq;              /* arrival order: the oldest is flushed when full */
	char user[OWA_USER_MAX];
	size_t user_len;
};

struct w3c {
	bool fields_known;
	bool csv;                  /* the #Fields list is comma-separated */
	short col[NCOL];           /* the index of each column, -1: not logged */
	struct csv_parser parser;
	char *buf;                 /* CSV fields, copied */
	size_t cap, used;
	bs_str f[W3C_MAX_FIELDS];
	size_t nf;
	bool overflow;
	char uri[URI_MAX];
	struct owa_pending pending[OWA_PENDING];
	uint64_t pending_seq;
};

static void *w3c_new(void)
{
	struct w3c *w = bs_xcalloc(1, sizeof *w);
	if (csv_init(&w->parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
		abort();
	return w;
}

static void w3c_free(void *state)
{
	struct w3c *w = state;
	csv_free(&w->parser);
	free(w->buf);
	free(w);
}

static bool digit(char c) { return c >= '0' && c <= '9'; }

/* The directive lines of both families. */
static bool directive(const char *line, size_t len)
{
	static const char *const names[] = { "#Fields:", "#Software:", "#Version:", "#Date:", "#Log-type:",
	                                     "#Start-Date:", "#End-Date:", "#Remark:" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (bs_str_istarts(bs_str_make(line, len), names[i]))
			return true;
	return false;
}

static bool w3c_raw(const void *state, const char *line, size_t len)
{
	const struct w3c *w = state;
	if (len && line[0] == '#')
		return directive(line, len);
	/* a record: after a field list, opening with "YYYY-MM-DD" */
	return w && w->fields_known && len >= 10 && digit(line[0]) && digit(line[3]) && line[4] == '-' &&
	       line[7] == '-';
}

static void set_fields(struct w3c *w, bs_str list)
{
	for (size_t i = 0; i < NCOL; i++)
		w->col[i] = -1;
	w->csv = memchr(list.p, ',', list.n) != NULL;
	char sep = w->csv ? ',' : ' ';
	size_t idx = 0;
	for (size_t i = 0; i < list.n && idx < W3C_MAX_FIELDS;) {
		while (i < list.n && list.p[i] == ' ')
			i++;
		size_t j = i;
		while (j < list.n && list.p[j] != sep)
			j++;
		size_t e = j;
		while (e > i && (list.p[e - 1] == ' ' || list.p[e - 1] == '\t'))
			e--;
		bs_str name = bs_str_make(list.p + i, e - i);
		if (name.n) {
			for (size_t k = 0; k < sizeof col_names / sizeof *col_names; k++)
				if (bs_str_ieq(name, col_names[k].name) && w->col[col_names[k].col] < 0)
					w->col[col_names[k].col] = (short)idx;
			idx++;
		}
		i = j + 1;
	}
	w->fields_known = idx > 0;
}

static void on_csv_field(void *s, size_t n, void *ctx)
{
	struct w3c *w = ctx;
	if (w->nf >= W3C_MAX_FIELDS) {
		w->overflow = true;
		return;
	}
	if (w->used + n > w->cap)
		n = w->cap - w->used; /* cannot happen: the buffer holds the whole line */
	memcpy(w->buf + w->used, s, n);
	w->f[w->nf++] = bs_str_make(w->buf + w->used, n);
	w->used += n;
}

static bool split_csv(struct w3c *w, const char *line, size_t len)
{
	if (len + 1 > w->cap) {
		w->cap = len + 1 > 4096 ? len + 1 : 4096;
		w->buf = bs_xrealloc(w->buf, w->cap);
	}
	w->used = 0;
	w->nf = 0;
	w->overflow = false;
	bool ok = csv_parse(&w->parser, line, len, on_csv_field, NULL, w) == len;
	if (csv_fini(&w->parser, on_csv_field, NULL, w) != 0) {
		/* an unclosed quote: libcsv keeps the field open after a strict
		 * refusal; finish it leniently so the next line starts afresh */
		csv_set_opts(&w->parser, CSV_STRICT);
		(void)csv_fini(&w->parser, on_csv_field, NULL, w);
		csv_set_opts(&w->parser, CSV_STRICT | CSV_STRICT_FINI);
		ok = false;
	}
	return ok;
}

static void split_spaces(struct w3c *w, const char *line, size_t len)
{
	w->nf = 0;
	for (size_t i = 0; i < len && w->nf < W3C_MAX_FIELDS;) {
		size_t j = i;
		while (j < len && line[j] != ' ')
			j++;
		w->f[w->nf++] = bs_str_make(line + i, j - i);
		i = j + 1;
	}
}

/* A column's value; "" when not logged or "-" (W3C's empty value). */
static bs_str val(const struct w3c *w, enum col c)
{
	int i = w->col[c];
	if (i < 0 || (size_t)i >= w->nf || bs_str_eq(w->f[i], "-"))
		return BS_STR_LIT("");
	return w->f[i];
}

static int num(const char *p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!digit(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static bool parse_u64(bs_str s, uint64_t *v)
{
	*v = 0;
	if (!s.n || s.n > 19)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (!digit(s.p[i]))
			return false;
		*v = *v * 10 + (uint64_t)(s.p[i] - '0');
	}
	return true;
}

/* "YYYY-MM-DD" and "hh:mm:ss[.fff]" (UTC: IIS and Exchange log in UTC; a
 * trailing "Z" is allowed). */
static bool utc_time(bs_str date, bs_str time, bs_time *ts)
{
	if (date.n != 10 || time.n < 8 || date.p[4] != '-' || date.p[7] != '-' || time.p[2] != ':' || time.p[5] != ':')
		return false;
	int y = num(date.p, 4), mo = num(date.p + 5, 2), d = num(date.p + 8, 2);
	int h = num(time.p, 2), mi = num(time.p + 3, 2), s = num(time.p + 6, 2), usec = 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60)
		return false;
	size_t i = 8;
	if (i < time.n && time.p[i] == '.') {
		int scale = 100000;
		for (i++; i < time.n && digit(time.p[i]); i++, scale /= 10)
			usec += scale > 0 ? (time.p[i] - '0') * scale : 0;
	}
	if (i < time.n && time.p[i] == 'Z')
		i++;
	if (i != time.n)
		return false;
	*ts = bs_time_make(y, mo, d, h, mi, s, usec);
	return true;
}

static bool line_time(const struct w3c *w, bs_time *ts)
{
	bs_str dt = val(w, C_DATETIME);
	if (dt.n > 11 && dt.p[10] == 'T')
		return utc_time(bs_str_make(dt.p, 10), bs_str_make(dt.p + 11, dt.n - 11), ts);
	return utc_time(val(w, C_DATE), val(w, C_TIME), ts);
}

/* The client: c-ip; behind a proxy of the site (c-ip private or loopback),
 * the last address of X-Forwarded-For, the one that proxy appended (the
 * ones before it are the client's to write). */
static bool client_address(const struct w3c *w, bs_ip *ip)
{
	bs_str cip = val(w, C_CIP);
	bool ok = cip.n && bs_ip_parse(cip.p, cip.n, ip);
	bs_str xff = val(w, C_XFF);
	if (xff.n && (!ok || bs_ip_is_private(ip))) {
		const char *end = xff.p + xff.n, *s = end;
		while (s > xff.p && s[-1] != ',' && s[-1] != '+' && s[-1] != ' ')
			s--;
		bs_ip fwd;
		if (bs_ip_parse(s, (size_t)(end - s), &fwd))
			*ip = fwd, ok = true;
	}
	return ok;
}

/* Outlook on the web's form login: a POST to /owa/auth.owa. IIS writes the
 * name the form gave as cs-username. */
static bool owa_login(bs_str method, bs_str stem)
{
	return bs_str_ieq(method, "POST") && bs_str_ieq(stem, "/owa/auth.owa");
}

/* The login's outcome as one AUTH event (docs/DAEMONS.md): 1 success, 0
 * failure, -1 unknown (its client made no request that tells). */
static void owa_emit(const struct bs_line_ctx *c, struct owa_pending *p, int success)
{
	struct bs_line_ctx at = *c;
	at.lineno = p->lineno;
	struct bs_event ev;
	bs_line_auth(&at, &ev, BS_AUTH_HTTP, bs_str_make(p->user, p->user_len), BS_STR_LIT("form"), success);
	ev.ts = p->ts;
	ev.host = BS_STR_LIT(""); /* the engine labels the input's path, as for the requests */
	ev.src = p->client;
	p->used = false;
	bs_emit(c->sink, &ev);
}

static struct owa_pending *owa_find(struct w3c *w, const bs_ip *client)
{
	for (size_t i = 0; i < OWA_PENDING; i++)
		if (w->pending[i].used && bs_ip_eq(&w->pending[i].client, client))
			return &w->pending[i];
	return NULL;
}

/* What a client's request after its login says of it: back to the logon
 * page with a reason (reason=2: wrong name or password) is a failure; any
 * other page of OWA or ECP (where the login redirected to) a success;
 * another login post says nothing (a script that follows no redirect);
 * the rest (Autodiscover, EWS...) waits for a page. -2: still pending. */
static int owa_outcome(bs_str stem, bs_str query)
{
	if (bs_str_ieq(stem, "/owa/auth/logon.aspx")) {
		const char *r = query.n ? bs_memmem_ci(query.p, query.n, "reason=", 7) : NULL;
		return r && (size_t)(query.p + query.n - r) > 7 && r[7] != '0' ? 0 : -1;
	}
	if (bs_str_ieq(stem, "/owa/auth.owa"))
		return -1;
	if (bs_str_istarts(stem, "/owa/") || bs_str_ieq(stem, "/owa") || bs_str_istarts(stem, "/ecp/"))
		return 1;
	return -2;
}

/* The OWA login bookkeeping of one record: resolve its client's pending
 * login, then hold its own (a redirect) or give its outcome now (any other
 * status: the form page again, a failure). */
static void owa_record(struct w3c *w, const struct bs_line_ctx *c, const bs_ip *client, bs_time ts, bs_str method,
                       bs_str stem, bs_str query, uint64_t status)
{
	struct owa_pending *p = owa_find(w, client);
	if (p) {
		int outcome = owa_outcome(stem, query);
		if (outcome != -2)
			owa_emit(c, p, outcome);
	}
	bs_str user = val(w, C_USER);
	if (!owa_login(method, stem) || !user.n)
		return;
	struct owa_pending now = { .used = true, .client = *client, .ts = ts, .lineno = c->lineno };
	now.user_len = user.n < OWA_USER_MAX ? user.n : OWA_USER_MAX;
	memcpy(now.user, user.p, now.user_len);
	if (status < 300 || status >= 400) {
		owa_emit(c, &now, 0);
		return;
	}
	struct owa_pending *slot = &w->pending[0];
	for (size_t i = 0; i < OWA_PENDING && slot->used; i++)
		if (!w->pending[i].used || w->pending[i].seq < slot->seq)
			slot = &w->pending[i];
	if (slot->used)
		owa_emit(c, slot, -1); /* full: the oldest waited longest */
	*slot = now;
	slot->seq = ++w->pending_seq;
}

/* End of input: the logins still waiting have an unknown outcome. */
static uint64_t w3c_finish(void *state, const struct bs_line_ctx *c)
{
	struct w3c *w = state;
	uint64_t n = 0;
	for (size_t i = 0; i < OWA_PENDING; i++)
		if (w->pending[i].used)
			owa_emit(c, &w->pending[i], -1), n++;
	return n;
}

static enum bs_verdict http_line(struct w3c *w, const struct bs_line_ctx *c, bs_time ts)
{
	bs_ip client;
	if (!client_address(w, &client))
		return bs_line_debug(c, "w3c", "no client address"), BS_MALFORMED;
	uint64_t port = 0, status = 0, bytes = 0;
	if (!parse_u64(val(w, C_STATUS), &status) || status > 999)
		return bs_line_debug(c, "w3c", "bad status"), BS_MALFORMED;
	(void)parse_u64(val(w, C_BYTES), &bytes);
	struct bs_event ev;
	bs_line_access(c, &ev, ts, (int)status, bytes);
	ev.src = client;
	bs_str sip = val(w, C_SIP);
	if (sip.n)
		(void)bs_ip_parse(sip.p, sip.n, &ev.dst);
	if (parse_u64(val(w, C_SPORT), &port) && port < 65536)
		ev.dport = (uint16_t)port;
	ev.host = val(w, C_SERVER_NAME); /* empty: the engine labels the input's path */
	struct bs_ev_http *h = &ev.u.http;
	h->method = val(w, C_METHOD);
	bs_str stem = val(w, C_STEM), query = val(w, C_QUERY);
	/* HttpProxy's UrlQuery keeps its "?", IIS's cs-uri-query has none */
	if (query.n && query.p[0] == '?')
		query.p++, query.n--;
	h->uri = stem;
	if (query.n) {
		size_t n = stem.n < URI_MAX - 1 ? stem.n : URI_MAX - 1;
		memcpy(w->uri, stem.p, n);
		w->uri[n++] = '?';
		size_t q = query.n < URI_MAX - n ? query.n : URI_MAX - n;
		memcpy(w->uri + n, query.p, q);
		h->uri = bs_str_make(w->uri, n + q);
	}
	h->user_agent = val(w, C_UA);
	h->referer = val(w, C_REFERER);
	h->host = val(w, C_HOST);
	bs_emit(c->sink, &ev);
	owa_record(w, c, &client, ts, h->method, stem, query, status);
	return BS_PARSED;
}

/* The events of the message tracking log that say a message moved: received
 * (from SMTP or submitted from a mailbox), sent to another server, delivered
 * to a mailbox. The rest (EXPAND, RESOLVE, AGENTINFO, HAREDIRECT...) say how
 * it moved: ignored. */
static enum bs_verdict tracking_line(struct w3c *w, const struct bs_line_ctx *c, bs_time ts)
{
	bs_str event = val(w, C_EVENT);
	bool receive = bs_str_ieq(event, "RECEIVE"), send = bs_str_ieq(event, "SEND");
	bool deliver = bs_str_ieq(event, "DELIVER"), fail = bs_str_ieq(event, "FAIL");
	if (!receive && !send && !deliver && !fail)
		return BS_IGNORED;
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_MAIL);
	ev.ts = ts;
	bs_str cip = val(w, C_CIP), sip = val(w, C_SIP);
	if (cip.n && !bs_ip_parse(cip.p, cip.n, &ev.src))
		return bs_line_debug(c, "w3c", "bad client-ip"), BS_MALFORMED;
	if (sip.n && !bs_ip_parse(sip.p, sip.n, &ev.dst))
		return bs_line_debug(c, "w3c", "bad server-ip"), BS_MALFORMED;
	/* the logging server: the receiving end of RECEIVE and DELIVER, the
	 * sending end of SEND */
	ev.host = send ? val(w, C_CLIENT_NAME) : val(w, C_SERVER_NAME);
	struct bs_ev_mail *m = &ev.u.mail;
	m->queue_id = val(w, C_QID);
	m->message_id = val(w, C_MSGID);
	if (m->message_id.n > 2 && m->message_id.p[0] == '<' && m->message_id.p[m->message_id.n - 1] == '>')
		m->message_id = bs_str_make(m->message_id.p + 1, m->message_id.n - 2);
	m->sender = val(w, C_SENDER);
	m->client_name = receive ? val(w, C_CLIENT_NAME) : BS_STR_LIT("");
	if (send)
		m->relay = val(w, C_SERVER_NAME);
	/* submitted from a mailbox (Outlook on the web, Outlook, ActiveSync):
	 * the mailbox's owner is signed in, as an authenticated submission */
	if (receive && bs_str_ieq(val(w, C_SOURCE), "STOREDRIVER"))
		m->sasl_user = m->sender;
	(void)parse_u64(val(w, C_SIZE), &m->size);
	m->local_uid = -1;
	struct bs_line_rcpts r = { .c = c, .ev = &ev, .with_status = true };
	bs_str list = val(w, C_RCPT);
	bs_str st = receive ? BS_STR_LIT("") : fail ? BS_STR_LIT("bounced") : BS_STR_LIT("sent");
	for (size_t i = 0; i < list.n;) {
		size_t j = i;
		while (j < list.n && list.p[j] != ';')
			j++;
		if (j > i)
			bs_line_rcpts_add(&r, bs_str_make(list.p + i, j - i), st);
		i = j + 1;
	}
	bs_line_rcpts_end(&r);
	return BS_PARSED;
}

static enum bs_verdict w3c_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)tz; /* both families log in UTC */
	struct w3c *w = state;
	if (text.n && text.p[0] == '#') {
		if (bs_str_istarts(text, "#Fields:"))
			set_fields(w, bs_str_make(text.p + 8, text.n - 8));
		return BS_IGNORED;
	}
	if (w->csv) {
		if (!split_csv(w, text.p, text.n))
			return bs_line_debug(c, "w3c", "bad CSV quoting"), BS_MALFORMED;
	} else {
		split_spaces(w, text.p, text.n);
	}
	bs_time ts;
	if (!line_time(w, &ts))
		return bs_line_debug(c, "w3c", "bad date or time"), BS_MALFORMED;
	if (w->col[C_EVENT] >= 0)
		return tracking_line(w, c, ts);
	if (w->col[C_STATUS] >= 0)
		return http_line(w, c, ts);
	return BS_IGNORED; /* a log of these families with neither (Exchange's other logs) */
}

const struct bs_daemon_def bs_daemon_w3c = { .name = "w3c", .raw_in = w3c_raw, .state_new = w3c_new,
                                             .state_free = w3c_free, .line = w3c_line,
                                             .finish = w3c_finish };

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
#include "parsers/logs/queue.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

/* The columns used, by meaning: IIS's, Exchange's, HttpProxy's names of one
 * thing share an id. */
enum col {
	C_DATE, C_TIME, C_DATETIME, C_CIP, C_SIP, C_SPORT, C_METHOD, C_STEM, C_QUERY, C_USER, C_UA,
	C_REFERER, C_STATUS, C_BYTES, C_HOST, C_XFF, C_CLIENT_NAME, C_SERVER_NAME, C_EVENT, C_MSGID,
	C_QID, C_RCPT, C_RCPT_STATUS, C_SIZE, C_SENDER, C_SOURCE, C_RELATED, NCOL
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
	{ "source", C_SOURCE }, { "related-recipient-address", C_RELATED },
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

#define TRK_MAX_OPEN 8192   /* open messages of the tracking log per input (oldest flushed when full) */
#define TRK_STR_MAX 256     /* a message's own field (longer: cut) */
#define TRK_RCPT_MAX 320    /* a recipient address (longer: cut) */
#define TRK_RBUF_MAX (1u << 30) /* a message's recipients' bytes kept (some 30 M addresses; more: counted dropped) */

struct trk_str {
	uint16_t n;
	char p[TRK_STR_MAX];
};

struct trk_rcpt {
	uint32_t off;   /* in the message's rbuf */
	uint16_t len;
	uint8_t status; /* RS_* */
	bool done;      /* a final record named it */
};

/* A message of the tracking log being joined (see tracking_line). Records
 * keep their buffers when the table recycles them. */
struct trk_msg {
	struct bs_queue_msg q;  /* key: trk_key */
	bs_time ts;             /* the RECEIVE's (else the first record's) */
	uint64_t lineno;
	bs_ip src, dst;
	bool received;          /* its RECEIVE was read */
	bool from_mailbox;      /* submitted from a mailbox (STOREDRIVER RECEIVE, SUBMIT) */
	uint64_t size;
	uint32_t parts;         /* parts emitted so far */
	uint32_t dropped;       /* recipients past TRK_RBUF_MAX bytes of addresses: counted, not kept */
	struct trk_str id, host, client_name, relay, sender, message_id;
	char *rbuf;             /* the recipients' addresses */
	uint32_t rlen, rbuf_cap;
	struct trk_rcpt *rcpts;
	uint32_t nrcpt, rcap, pending; /* pending: recipients without a final record */
	/* Where each recipient is in rcpts, by its address's hash (open
	 * addressing, UINT32_MAX: empty), once a message has many: every
	 * record names its recipients, and the message keeps them all to its
	 * end (its parts of 1,000 are cut when it is emitted). */
	uint32_t *rindex;
	uint32_t rindex_cap, indexed; /* indexed: how many of rcpts the index holds (0 after recycling) */
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
	struct bs_queue messages;  /* the tracking log's open messages */
	struct trk_msg lone;       /* a record without an internal-message-id */
	bs_str rcpt[BS_MAIL_MAX_RCPT], rcpt_status[BS_MAIL_MAX_RCPT];
};

static const struct bs_queue_def trk_table;
static void trk_release(struct bs_queue_msg *q);

static void *w3c_new(void)
{
	struct w3c *w = bs_xcalloc(1, sizeof *w);
	if (csv_init(&w->parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
		abort();
	bs_queue_init(&w->messages, &trk_table, w);
	return w;
}

static void w3c_free(void *state)
{
	struct w3c *w = state;
	csv_free(&w->parser);
	bs_queue_free(&w->messages);
	trk_release(&w->lone.q);
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

/* End of input: the logins still waiting have an unknown outcome; the
 * tracking log's messages still open are emitted as they are. */
static uint64_t w3c_finish(void *state, const struct bs_line_ctx *c)
{
	struct w3c *w = state;
	uint64_t n = bs_queue_finish(&w->messages, c);
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

/* ------------------------------------------- the message tracking log
 *
 * One message passes a transport server as several records sharing its
 * internal-message-id (RECEIVE, then SEND, DELIVER or FAIL per recipient, in
 * one record or several, interleaved with other messages' records). They are
 * joined into one BS_EV_MAIL in the queue.h table, keyed by the logging
 * server and the id (Exchange numbers messages per server). A message is
 * complete, and emitted, when it was received and every recipient has a
 * final record (SEND, DELIVER, FAIL; or was handed on by RESOLVE, EXPAND,
 * REDIRECT, TRANSFER); the rest are emitted unfinished when the table is
 * full (the oldest) or at the end of the input. */

enum trk_kind { K_NONE, K_RECEIVE, K_SUBMIT, K_SEND, K_DELIVER, K_FAIL, K_DEFER, K_TRANSFER, K_REROUTE };
enum { RS_NONE, RS_SENT, RS_BOUNCED, RS_DEFERRED };
static const char *const rcpt_status_names[] = { "", "sent", "bounced", "deferred" };

static enum trk_kind trk_kind(bs_str event)
{
	static const struct {
		const char *name;
		enum trk_kind kind;
	} kinds[] = { { "RECEIVE", K_RECEIVE }, { "SUBMIT", K_SUBMIT }, { "SEND", K_SEND },
	              { "DELIVER", K_DELIVER }, { "FAIL", K_FAIL }, { "DEFER", K_DEFER },
	              { "TRANSFER", K_TRANSFER }, { "RESOLVE", K_REROUTE }, { "EXPAND", K_REROUTE },
	              { "REDIRECT", K_REROUTE } };
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (bs_str_ieq(event, kinds[i].name))
			return kinds[i].kind;
	return K_NONE;
}

/* The logging server: the receiving end of RECEIVE and DELIVER, the sending
 * end of SEND and DEFER (either when the other is not logged). */
static bs_str trk_server(const struct w3c *w, enum trk_kind kind)
{
	bs_str client = val(w, C_CLIENT_NAME), server = val(w, C_SERVER_NAME);
	if (kind == K_SEND || kind == K_DEFER)
		return client.n ? client : server;
	return server.n ? server : client;
}

/* The table key: hashes of the server's first label (EX01 and
 * ex01.contoso.com are one server), compared without case, and of the id. */
static bs_str trk_key(bs_str server, bs_str id, char key[16])
{
	char lower[TRK_STR_MAX];
	size_t n = 0;
	for (; n < server.n && n < sizeof lower && server.p[n] != '.'; n++)
		lower[n] = (char)(server.p[n] >= 'A' && server.p[n] <= 'Z' ? server.p[n] + 32 : server.p[n]);
	uint64_t h[2] = { bs_hash_bytes(lower, n, 0x7472616b), bs_hash_bytes(id.p, id.n, 0x6d736764) };
	memcpy(key, h, 16);
	return bs_str_make(key, 16);
}

static void trk_keep(struct trk_str *dst, bs_str s)
{
	dst->n = (uint16_t)(s.n < TRK_STR_MAX ? s.n : TRK_STR_MAX);
	memcpy(dst->p, s.p, dst->n);
}

static bs_str trk_str(const struct trk_str *s) { return bs_str_make(s->p, s->n); }

/* One part of the message: its recipients [from, from + n). */
static void trk_emit_slice(struct w3c *w, const struct bs_line_ctx *c, const struct trk_msg *m, uint32_t from,
                           uint32_t n, uint32_t part)
{
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_MAIL);
	ev.ts = m->ts;
	ev.origin.ref = m->lineno;
	ev.host = trk_str(&m->host);
	ev.src = m->src;
	ev.dst = m->dst;
	struct bs_ev_mail *mail = &ev.u.mail;
	mail->queue_id = trk_str(&m->id);
	mail->message_id = trk_str(&m->message_id);
	mail->sender = trk_str(&m->sender);
	/* submitted from a mailbox (Outlook on the web, Outlook, ActiveSync):
	 * the mailbox's owner is signed in, as an authenticated submission */
	mail->sasl_user = m->from_mailbox ? mail->sender : BS_STR_LIT("");
	mail->client_name = trk_str(&m->client_name);
	mail->relay = trk_str(&m->relay);
	mail->size = m->size;
	mail->local_uid = -1;
	for (uint32_t i = 0; i < n; i++) {
		const struct trk_rcpt *r = &m->rcpts[from + i];
		w->rcpt[i] = bs_str_make(m->rbuf + r->off, r->len);
		w->rcpt_status[i] = bs_str_make(rcpt_status_names[r->status], strlen(rcpt_status_names[r->status]));
	}
	mail->rcpts = w->rcpt;
	mail->rcpt_status = w->rcpt_status;
	mail->nrcpt = n;
	mail->part = part;
	mail->rcpts_dropped = part == 0 ? m->dropped : 0;
	mail->reject_reason = BS_STR_LIT("");
	bs_emit(c->sink, &ev);
}

/* The message with all its recipients, in parts of 1,000 (one part when it
 * has none). */
static void trk_emit(struct w3c *w, const struct bs_line_ctx *c, struct trk_msg *m)
{
	uint32_t from = 0;
	do {
		uint32_t n = m->nrcpt - from < BS_MAIL_MAX_RCPT ? m->nrcpt - from : BS_MAIL_MAX_RCPT;
		trk_emit_slice(w, c, m, from, n, m->parts++);
		from += n;
	} while (from < m->nrcpt);
}

/* A message flushed unfinished (table full, end of input). */
static void trk_flush(void *owner, const struct bs_line_ctx *c, struct bs_queue_msg *q)
{
	struct trk_msg *m = (struct trk_msg *)q;
	trk_emit(owner, c, m);
}

static void trk_release(struct bs_queue_msg *q)
{
	struct trk_msg *m = (struct trk_msg *)q;
	free(m->rbuf);
	free(m->rcpts);
	free(m->rindex);
}

static const struct bs_queue_def trk_table = {
	.msg_size = sizeof(struct trk_msg),
	.max_open = TRK_MAX_OPEN,
	.seed = 0x4d534754524b,
	.when_full = BS_QUEUE_EVICT_OLDEST,
	.flush_order = BS_QUEUE_OLDEST_FIRST,
	.flush = trk_flush,
	.release = trk_release,
};

/* A recipient of the message, added if new (as pending: no final record
 * yet); NULL for an empty address. */
#define TRK_INDEX_FROM 16 /* recipients from which a message indexes them */

static size_t trk_hash(const char *p, size_t n) { return (size_t)bs_hash_bytes(p, n, 0x7263707473); }

static bool trk_rcpt_is(const struct trk_msg *m, uint32_t i, bs_str addr)
{
	return m->rcpts[i].len == addr.n && memcmp(m->rbuf + m->rcpts[i].off, addr.p, addr.n) == 0;
}

/* The index slot of addr: its recipient's, or the empty one it would take. */
static uint32_t *trk_slot(struct trk_msg *m, bs_str addr)
{
	size_t mask = m->rindex_cap - 1;
	for (size_t h = trk_hash(addr.p, addr.n) & mask;; h = (h + 1) & mask)
		if (m->rindex[h] == UINT32_MAX || trk_rcpt_is(m, m->rindex[h], addr))
			return &m->rindex[h];
}

/* The index rebuilt, at twice the recipients' count at least, all of them
 * in it (when it fell behind: grown past, or recycled with its message). */
static void trk_index_grow(struct trk_msg *m)
{
	uint32_t cap = m->rindex_cap ? m->rindex_cap : 64;
	while (cap < 2 * (m->nrcpt + 1))
		cap *= 2;
	if (cap != m->rindex_cap) {
		free(m->rindex);
		m->rindex = bs_xmalloc(cap * sizeof *m->rindex);
		m->rindex_cap = cap;
	}
	memset(m->rindex, 0xff, cap * sizeof *m->rindex);
	for (uint32_t i = 0; i < m->nrcpt; i++)
		*trk_slot(m, bs_str_make(m->rbuf + m->rcpts[i].off, m->rcpts[i].len)) = i;
	m->indexed = m->nrcpt;
}

static struct trk_rcpt *trk_find(struct trk_msg *m, bs_str addr)
{
	if (m->nrcpt < TRK_INDEX_FROM) {
		for (uint32_t i = 0; i < m->nrcpt; i++)
			if (trk_rcpt_is(m, i, addr))
				return &m->rcpts[i];
		return NULL;
	}
	if (m->indexed != m->nrcpt || m->rindex_cap < 2 * (m->nrcpt + 1))
		trk_index_grow(m);
	uint32_t at = *trk_slot(m, addr);
	return at == UINT32_MAX ? NULL : &m->rcpts[at];
}

/* A recipient of the message, added if new (as pending: no final record
 * yet); NULL for an empty address. */
static struct trk_rcpt *trk_rcpt(struct trk_msg *m, bs_str addr, bool add)
{
	if (addr.n > TRK_RCPT_MAX)
		addr.n = TRK_RCPT_MAX;
	struct trk_rcpt *known = trk_find(m, addr);
	if (known || !add || !addr.n)
		return known;
	if (m->nrcpt == m->rcap) {
		m->rcap = m->rcap ? m->rcap * 2 : 8;
		m->rcpts = bs_xrealloc(m->rcpts, m->rcap * sizeof *m->rcpts);
	}
	if (m->rlen + addr.n > TRK_RBUF_MAX) {
		m->dropped++; /* the offsets are 32-bit and the buffer doubles: bounded here */
		return NULL;
	}
	if (m->rlen + addr.n > m->rbuf_cap) {
		m->rbuf_cap = m->rbuf_cap ? m->rbuf_cap * 2 : 512;
		while (m->rlen + addr.n > m->rbuf_cap)
			m->rbuf_cap *= 2;
		m->rbuf = bs_xrealloc(m->rbuf, m->rbuf_cap);
	}
	memcpy(m->rbuf + m->rlen, addr.p, addr.n);
	struct trk_rcpt *r = &m->rcpts[m->nrcpt];
	*r = (struct trk_rcpt){ .off = m->rlen, .len = (uint16_t)addr.n };
	if (m->indexed == m->nrcpt && m->nrcpt >= TRK_INDEX_FROM && m->rindex_cap >= 2 * (m->nrcpt + 2)) {
		*trk_slot(m, addr) = m->nrcpt; /* else the next search rebuilds the index */
		m->indexed++;
	}
	m->nrcpt++;
	m->rlen += (uint32_t)addr.n;
	m->pending++;
	return r;
}

static void trk_rcpt_done(struct trk_msg *m, struct trk_rcpt *r)
{
	if (r && !r->done) {
		r->done = true;
		m->pending--;
	}
}

/* What one record says of each recipient of a ;-separated list. */
static void trk_rcpts(struct w3c *w, const struct bs_line_ctx *c, struct trk_msg *m, bs_str list, enum trk_kind kind)
{
	for (size_t i = 0; i < list.n;) {
		size_t j = i;
		while (j < list.n && list.p[j] != ';')
			j++;
		struct trk_rcpt *r = trk_rcpt(m, bs_str_make(list.p + i, j - i), kind != K_TRANSFER);
		i = j + 1;
		if (!r)
			continue;
		if (kind == K_SEND || kind == K_DELIVER || kind == K_FAIL)
			r->status = kind == K_FAIL ? RS_BOUNCED : RS_SENT;
		else if (kind == K_DEFER)
			r->status = RS_DEFERRED;
		if (kind == K_SEND || kind == K_DELIVER || kind == K_FAIL || kind == K_TRANSFER)
			trk_rcpt_done(m, r);
	}
}

/* The message's own fields from a record: the first record's, the
 * RECEIVE's for where it came from, a SEND's next hop. */
static void trk_fields(const struct w3c *w, const struct bs_line_ctx *c, struct trk_msg *m, enum trk_kind kind,
                       bs_time ts, const bs_ip *client, const bs_ip *server)
{
	if (kind == K_RECEIVE && !m->received) {
		m->received = true;
		m->ts = ts;
		m->lineno = c->lineno;
		m->src = *client;
		m->dst = *server;
		trk_keep(&m->client_name, val(w, C_CLIENT_NAME));
		m->from_mailbox |= bs_str_ieq(val(w, C_SOURCE), "STOREDRIVER");
	}
	m->from_mailbox |= kind == K_SUBMIT;
	if (kind == K_SEND)
		trk_keep(&m->relay, val(w, C_SERVER_NAME));
	bs_str msgid = val(w, C_MSGID);
	if (msgid.n > 2 && msgid.p[0] == '<' && msgid.p[msgid.n - 1] == '>')
		msgid = bs_str_make(msgid.p + 1, msgid.n - 2);
	if (!m->message_id.n)
		trk_keep(&m->message_id, msgid);
	if (!m->sender.n)
		trk_keep(&m->sender, val(w, C_SENDER));
	if (!m->size)
		(void)parse_u64(val(w, C_SIZE), &m->size);
}

/* A message opened by this record: it is the message until a RECEIVE says
 * where it came from. */
static void trk_start(struct trk_msg *m, const struct bs_line_ctx *c, bs_time ts, bs_str server, bs_str id,
                      const bs_ip *client, const bs_ip *sip)
{
	struct trk_msg fresh = { .q = m->q, .rbuf = m->rbuf, .rbuf_cap = m->rbuf_cap, .rcpts = m->rcpts, .rcap = m->rcap,
	                         .rindex = m->rindex, .rindex_cap = m->rindex_cap };
	*m = fresh;
	m->ts = ts;
	m->lineno = c->lineno;
	m->src = *client;
	m->dst = *sip;
	trk_keep(&m->host, server);
	trk_keep(&m->id, id);
}

static void trk_fold(struct w3c *w, const struct bs_line_ctx *c, struct trk_msg *m, enum trk_kind kind, bs_time ts,
                     const bs_ip *client, const bs_ip *server)
{
	trk_fields(w, c, m, kind, ts, client, server);
	if (kind == K_REROUTE) /* the address the new ones replace is done with */
		trk_rcpt_done(m, trk_rcpt(m, val(w, C_RELATED), false));
	if (kind != K_SUBMIT)
		trk_rcpts(w, c, m, val(w, C_RCPT), kind);
}

static enum bs_verdict tracking_line(struct w3c *w, const struct bs_line_ctx *c, bs_time ts)
{
	enum trk_kind kind = trk_kind(val(w, C_EVENT));
	if (kind == K_NONE)
		return BS_IGNORED; /* how a message moved (AGENTINFO, HAREDIRECT, DSN...) */
	bs_ip client = { 0 }, server = { 0 };
	bs_str cip = val(w, C_CIP), sip = val(w, C_SIP);
	if (cip.n && !bs_ip_parse(cip.p, cip.n, &client))
		return bs_line_debug(c, "w3c", "bad client-ip"), BS_MALFORMED;
	if (sip.n && !bs_ip_parse(sip.p, sip.n, &server))
		return bs_line_debug(c, "w3c", "bad server-ip"), BS_MALFORMED;
	bool opens = kind == K_RECEIVE || kind == K_SEND || kind == K_DELIVER || kind == K_FAIL || kind == K_DEFER;
	bs_str name = trk_server(w, kind), id = val(w, C_QID);
	if (!id.n) { /* nothing to join by: a message of its own */
		if (!opens)
			return BS_IGNORED;
		trk_start(&w->lone, c, ts, name, id, &client, &server);
		trk_fold(w, c, &w->lone, kind, ts, &client, &server);
		trk_flush(w, c, &w->lone.q);
		return BS_PARSED;
	}
	char keybuf[16];
	bs_str key = trk_key(name, id, keybuf);
	struct trk_msg *m = (struct trk_msg *)bs_queue_find(&w->messages, key);
	if (!m) {
		if (!opens)
			return BS_IGNORED; /* amends a message not in this input */
		bool created;
		m = (struct trk_msg *)bs_queue_open(&w->messages, c, key, &created);
		trk_start(m, c, ts, name, id, &client, &server);
	}
	trk_fold(w, c, m, kind, ts, &client, &server);
	if (m->received && !m->pending && m->nrcpt) {
		trk_emit(w, c, m);
		bs_queue_forget(&w->messages, &m->q);
	}
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

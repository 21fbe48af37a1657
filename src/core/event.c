/* event.c - helpers of the normalized event. */
#include "config.h"
#include "src/core/event.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The bytes of an event of each type: its header and its own member of the
 * union. Zeroing only these (an HTTP member is 520 bytes, an address's 72)
 * was most of an event's cost in a capture run; no reader looks past its
 * type's member. */
#define EV_BYTES(member) (offsetof(struct bs_event, u) + sizeof(((struct bs_event *)0)->u.member))
static const size_t event_bytes[BS_EV_TYPE_MAX] = {
	[BS_EV_HTTP] = EV_BYTES(http), [BS_EV_AUTH] = EV_BYTES(auth), [BS_EV_MAIL] = EV_BYTES(mail),
	[BS_EV_SPAM] = EV_BYTES(spam), [BS_EV_DBQUERY] = EV_BYTES(dbquery), [BS_EV_DBRESULT] = EV_BYTES(dbresult),
	[BS_EV_ADDR] = EV_BYTES(addr), [BS_EV_FLOW] = EV_BYTES(flow), [BS_EV_FILEXFER] = EV_BYTES(xfer),
	[BS_EV_DNS] = EV_BYTES(dns), [BS_EV_ADMIN] = EV_BYTES(admin),
};

void bs_event_init(struct bs_event *ev, enum bs_event_type type)
{
	bool known = type > 0 && type < BS_EV_TYPE_MAX;
	memset(ev, 0, known ? event_bytes[type] : sizeof *ev);
	ev->type = type;
	ev->ts = BS_TIME_NONE;
}

const char *bs_event_type_name(enum bs_event_type t)
{
	static const char *const names[BS_EV_TYPE_MAX] = {
		[BS_EV_HTTP] = "http", [BS_EV_AUTH] = "auth", [BS_EV_MAIL] = "mail",
		[BS_EV_SPAM] = "spam", [BS_EV_DBQUERY] = "dbquery", [BS_EV_DBRESULT] = "dbresult",
		[BS_EV_ADDR] = "addr", [BS_EV_FLOW] = "flow", [BS_EV_FILEXFER] = "filexfer",
		[BS_EV_DNS] = "dns", [BS_EV_ADMIN] = "admin",
	};
	return (t > 0 && t < BS_EV_TYPE_MAX && names[t]) ? names[t] : "unknown";
}

/* bit i of enum bs_http_anomaly */
static const char *const http_anomaly_names[BS_HTTP_AN_COUNT] = {
	"client_junk", "server_junk", "http09", "bad_version", "no_uri", "bad_length", "bad_chunk",
	"ambiguous_framing", "smuggled", "body_cut",
};

const char *bs_http_anomaly_name(unsigned bit)
{
	return bit < BS_HTTP_AN_COUNT ? http_anomaly_names[bit] : "?";
}

/* ---- bs_event_format: one field table per event type ---- */

enum field_kind {
	FK_STR,      /* bs_str */
	FK_STRS,     /* const bs_str * with a size_t count (count_off) */
	FK_STR_LIST, /* bs_str[max] inside the event, size_t count (count_off) */
	FK_IP,       /* bs_ip */
	FK_IP_LIST,  /* bs_ip[max] inside the event, size_t count (count_off) */
	FK_TIME,     /* bs_time, written as ISO 8601 UTC with microseconds */
	FK_U64, FK_U32, FK_U16, FK_U8, FK_SIZE, FK_LONG, FK_INT,
	FK_BOOL,
	FK_DOUBLE,   /* NaN written as "none" */
	FK_ENUM,     /* an enum (int sized), written by its name in names[] */
	FK_FLAGS,    /* uint32_t bits, written [name,name] with names[bit] */
};

struct field {
	const char *name;
	enum field_kind kind;
	size_t off, count_off, max;  /* count_off, max: lists only */
	const char *const *names;    /* FK_ENUM: names[value], NULL where none */
	size_t nnames;
	bool always;                 /* written even at its zero value */
};

#define EVOFF(m) offsetof(struct bs_event, m)
#define F(nm, k, m) { .name = (nm), .kind = (k), .off = EVOFF(m) }
#define F_ALWAYS(nm, k, m) { .name = (nm), .kind = (k), .off = EVOFF(m), .always = true }
#define F_LIST(nm, k, m, cnt, mx) { .name = (nm), .kind = (k), .off = EVOFF(m), .count_off = EVOFF(cnt), .max = (mx) }
#define F_ENUM(nm, m, tbl) { .name = (nm), .kind = FK_ENUM, .off = EVOFF(m), .names = (tbl), \
	.nnames = sizeof(tbl) / sizeof((tbl)[0]) }
#define F_FLAGS(nm, m, tbl) { .name = (nm), .kind = FK_FLAGS, .off = EVOFF(m), .names = (tbl), \
	.nnames = sizeof(tbl) / sizeof((tbl)[0]) }
#define F_END { .name = NULL }

_Static_assert(sizeof(enum bs_http_phase) == sizeof(int) && sizeof(enum bs_auth_proto) == sizeof(int) &&
               sizeof(enum bs_addr_ctx) == sizeof(int) && sizeof(enum bs_flow_end) == sizeof(int),
               "FK_ENUM reads an int");

static const char *const http_phase_names[] = { [BS_HTTP_REQUEST] = "request", [BS_HTTP_COMPLETE] = "complete",
	[BS_HTTP_ANOMALY] = "anomaly" };
static const char *const auth_proto_names[] = {
	[BS_AUTH_HTTP] = "http", [BS_AUTH_IMAP] = "imap", [BS_AUTH_POP3] = "pop3", [BS_AUTH_SMTP] = "smtp",
	[BS_AUTH_FTP] = "ftp", [BS_AUTH_MYSQL] = "mysql", [BS_AUTH_OTHER] = "other",
};
static const char *const addr_ctx_names[] = {
	[BS_ADDR_DB_RESULT] = "db_result", [BS_ADDR_HTTP_REQ_BODY] = "http_req_body",
	[BS_ADDR_HTTP_RESP_BODY] = "http_resp_body", [BS_ADDR_SMTP_HEADER] = "smtp_header",
	[BS_ADDR_PAYLOAD] = "payload", [BS_ADDR_DB_PARAM] = "db_param",
};
static const char *const login_answer_names[] = {
	[BS_LOGIN_ANSWER_NONE] = "", [BS_LOGIN_ANSWER_SUCCESS] = "success", [BS_LOGIN_ANSWER_FAILURE] = "failure",
};
static const char *const flow_end_names[] = {
	[BS_FLOW_FIN] = "fin", [BS_FLOW_RST] = "rst", [BS_FLOW_TIMEOUT] = "timeout", [BS_FLOW_EOF] = "eof",
	[BS_FLOW_EVICTED] = "evicted",
};

/* The fields every event has, written first: when and where from (then
 * pkt= or line=, see bs_event_format), then the endpoints. */
static const struct field origin_fields[] = {
	F_ALWAYS("ts", FK_TIME, ts),
	F_ALWAYS("in", FK_U32, origin.input),
	F_END
};
static const struct field endpoint_fields[] = {
	F("flow_in", FK_U32, origin.flow_input),
	F("host", FK_STR, host),
	F("src", FK_IP, src), F("sport", FK_U16, sport),
	F("dst", FK_IP, dst), F("dport", FK_U16, dport),
	F_END
};

static const struct field http_fields[] = {
	F_ENUM("phase", u.http.phase, http_phase_names),
	F("txn", FK_U64, u.http.txn_id),
	F("method", FK_STR, u.http.method), F("uri", FK_STR, u.http.uri), F("host", FK_STR, u.http.host),
	F("user_agent", FK_STR, u.http.user_agent), F("referer", FK_STR, u.http.referer),
	F("cookie", FK_STR, u.http.cookie), F("content_type", FK_STR, u.http.content_type),
	F("req_body_len", FK_U64, u.http.req_body_len),
	F("login_user", FK_STR, u.http.login_user), F("password_in_clear", FK_BOOL, u.http.password_in_clear),
	F("login_json", FK_BOOL, u.http.login_json),
	F("login_basic", FK_BOOL, u.http.login_basic),
	F("upload_filename", FK_STR, u.http.upload_filename),
	F("status", FK_INT, u.http.status), F("resp_bytes", FK_U64, u.http.resp_bytes),
	F("resp_body_len", FK_U64, u.http.resp_body_len),
	F("resp_content_type", FK_STR, u.http.resp_content_type), F("set_cookie", FK_STR, u.http.set_cookie),
	F("location", FK_STR, u.http.location),
	F_ENUM("login_answer", u.http.login_answer, login_answer_names),
	F("body_hash", FK_U64, u.http.body_hash),
	F_LIST("refs", FK_STR_LIST, u.http.refs, u.http.nrefs, BS_HTTP_MAX_REFS),
	F_LIST("ref_tags", FK_STR_LIST, u.http.ref_tags, u.http.nrefs, BS_HTTP_MAX_REFS),
	F("ref_weak", FK_U8, u.http.ref_weak),
	F("cmd_output", FK_BOOL, u.http.cmd_output), F("from_access_log", FK_BOOL, u.http.from_access_log),
	F_FLAGS("anomalies", u.http.anomalies, http_anomaly_names), F("skipped", FK_U64, u.http.skipped),
	F_END
};

static const struct field auth_fields[] = {
	F_ENUM("proto", u.auth.proto, auth_proto_names),
	F("user", FK_STR, u.auth.user), F("method", FK_STR, u.auth.method),
	F_ALWAYS("success", FK_INT, u.auth.success),
	F("session", FK_STR, u.auth.session),
	F_END
};

static const struct field mail_fields[] = {
	F("queue_id", FK_STR, u.mail.queue_id), F("message_id", FK_STR, u.mail.message_id),
	F("sender", FK_STR, u.mail.sender),
	F_LIST("rcpts", FK_STRS, u.mail.rcpts, u.mail.nrcpt, 0),
	F_LIST("rcpt_status", FK_STRS, u.mail.rcpt_status, u.mail.nrcpt, 0),
	F("rcpts_dropped", FK_SIZE, u.mail.rcpts_dropped), F("part", FK_U32, u.mail.part),
	F("sasl_user", FK_STR, u.mail.sasl_user),
	F("local_uid", FK_LONG, u.mail.local_uid), F("local_user", FK_STR, u.mail.local_user),
	F("size", FK_U64, u.mail.size), F("relay", FK_STR, u.mail.relay),
	F("rejected", FK_BOOL, u.mail.rejected), F("reject_reason", FK_STR, u.mail.reject_reason),
	F("client_name", FK_STR, u.mail.client_name),
	F_END
};

static const struct field spam_fields[] = {
	F("spam", FK_BOOL, u.spam.spam), F("virus", FK_BOOL, u.spam.virus),
	F_ALWAYS("score", FK_DOUBLE, u.spam.score),
	F("sender", FK_STR, u.spam.sender),
	F_LIST("rcpts", FK_STRS, u.spam.rcpts, u.spam.nrcpt, 0),
	F("filter", FK_STR, u.spam.filter),
	F_END
};

static const struct field dbquery_fields[] = {
	F("query", FK_U64, u.dbquery.query_id),
	F("db_user", FK_STR, u.dbquery.db_user), F("db_name", FK_STR, u.dbquery.db_name),
	F("sql", FK_STR, u.dbquery.sql), F("sql_truncated", FK_BOOL, u.dbquery.sql_truncated),
	F("command", FK_U8, u.dbquery.command), F("stmt", FK_U32, u.dbquery.stmt_id),
	F_END
};

static const struct field dbresult_fields[] = {
	F("query", FK_U64, u.dbresult.query_id),
	F("rows", FK_U64, u.dbresult.rows), F("columns", FK_U64, u.dbresult.columns),
	F("bytes", FK_U64, u.dbresult.bytes), F("error", FK_BOOL, u.dbresult.error),
	F("cut", FK_BOOL, u.dbresult.cut),
	F_END
};

static const struct field addr_fields[] = {
	F_ENUM("ctx", u.addr.ctx, addr_ctx_names),
	F("ref", FK_U64, u.addr.ref), F("address", FK_STR, u.addr.address),
	F("to_client", FK_BOOL, u.addr.to_client), F("column", FK_STR, u.addr.column),
	F("row_tags", FK_STR, u.addr.row_tags),
	F_END
};

static const struct field flow_fields[] = {
	F("l4proto", FK_U8, u.flow.l4proto), F("initiator_known", FK_BOOL, u.flow.initiator_known),
	F("first", FK_TIME, u.flow.first), F("last", FK_TIME, u.flow.last),
	F("pkts_fwd", FK_U64, u.flow.pkts_fwd), F("pkts_rev", FK_U64, u.flow.pkts_rev),
	F("bytes_fwd", FK_U64, u.flow.bytes_fwd), F("bytes_rev", FK_U64, u.flow.bytes_rev),
	F_ENUM("end", u.flow.end, flow_end_names), F("app", FK_STR, u.flow.app),
	F("encrypted", FK_BOOL, u.flow.encrypted),
	F("overlap_conflicts", FK_U64, u.flow.overlap_conflicts),
	F_END
};

static const struct field filexfer_fields[] = {
	F("proto", FK_STR, u.xfer.proto), F("upload", FK_BOOL, u.xfer.upload),
	F("filename", FK_STR, u.xfer.filename), F("size", FK_U64, u.xfer.size),
	F("size_unknown", FK_BOOL, u.xfer.size_unknown),
	F("user", FK_STR, u.xfer.user),
	F_END
};

static const struct field dns_fields[] = {
	F("qname", FK_STR, u.dns.qname), F("qtype", FK_U16, u.dns.qtype),
	F_LIST("answers", FK_IP_LIST, u.dns.answers, u.dns.nanswers, BS_DNS_MAX_ANS),
	F("cname", FK_STR, u.dns.cname), F_ALWAYS("rcode", FK_INT, u.dns.rcode),
	F_LIST("updates", FK_STR_LIST, u.dns.updates, u.dns.nupdates, BS_DNS_MAX_UPDATES),
	F("updates_more", FK_SIZE, u.dns.updates_more),
	F_END
};

static const struct field admin_fields[] = {
	F("user", FK_STR, u.admin.user), F("run_as", FK_STR, u.admin.run_as),
	F("command", FK_STR, u.admin.command), F("tty", FK_STR, u.admin.tty), F("pwd", FK_STR, u.admin.pwd),
	F_ALWAYS("success", FK_INT, u.admin.success), F("reason", FK_STR, u.admin.reason),
	F_END
};

static const struct field *const type_fields[BS_EV_TYPE_MAX] = {
	[BS_EV_HTTP] = http_fields, [BS_EV_AUTH] = auth_fields, [BS_EV_MAIL] = mail_fields,
	[BS_EV_SPAM] = spam_fields, [BS_EV_DBQUERY] = dbquery_fields, [BS_EV_DBRESULT] = dbresult_fields,
	[BS_EV_ADDR] = addr_fields, [BS_EV_FLOW] = flow_fields, [BS_EV_FILEXFER] = filexfer_fields,
	[BS_EV_DNS] = dns_fields, [BS_EV_ADMIN] = admin_fields,
};

/* An snprintf-like output: len counts every byte, stored or not. */
struct out {
	char *buf;
	size_t size, len;
};

static void out_bytes(struct out *o, const char *p, size_t n)
{
	if (o->len < o->size) {
		size_t room = o->size - o->len;
		memcpy(o->buf + o->len, p, n < room ? n : room);
	}
	o->len += n;
}

static void out_fmt(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_fmt(struct out *o, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		out_bytes(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void out_str(struct out *o, bs_str s, bool in_list)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; s.p && i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c < 0x20 || c > 0x7e || c == '\\' || (in_list && (c == ',' || c == ']'))) {
			char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
			out_bytes(o, esc, 4);
		} else {
			out_bytes(o, (const char *)&c, 1);
		}
	}
}

static void out_ip(struct out *o, const bs_ip *ip)
{
	char a[BS_IP_STRLEN];
	bs_ip_format(ip, a, sizeof a);
	out_bytes(o, a, strlen(a));
}

static size_t field_count(const struct bs_event *ev, const struct field *f)
{
	size_t n;
	memcpy(&n, (const char *)ev + f->count_off, sizeof n);
	return f->max && n > f->max ? f->max : n;
}

/* Is the field at its zero value (and so left out)? */
static bool field_is_zero(const struct bs_event *ev, const struct field *f)
{
	const void *p = (const char *)ev + f->off;
	switch (f->kind) {
	case FK_STR: return ((const bs_str *)p)->n == 0;
	case FK_STRS: return field_count(ev, f) == 0 || *(const bs_str *const *)p == NULL;
	case FK_STR_LIST: case FK_IP_LIST: return field_count(ev, f) == 0;
	case FK_IP: return ((const bs_ip *)p)->family == 0;
	case FK_TIME: return *(const bs_time *)p == 0;
	case FK_U64: return *(const uint64_t *)p == 0;
	case FK_U32: case FK_FLAGS: return *(const uint32_t *)p == 0;
	case FK_U16: return *(const uint16_t *)p == 0;
	case FK_U8: return *(const uint8_t *)p == 0;
	case FK_SIZE: return *(const size_t *)p == 0;
	case FK_LONG: return *(const long *)p == 0;
	case FK_INT: case FK_ENUM: return *(const int *)p == 0;
	case FK_BOOL: return !*(const bool *)p;
	case FK_DOUBLE: return *(const double *)p == 0;
	}
	return false;
}

static void out_value(struct out *o, const struct bs_event *ev, const struct field *f)
{
	const void *p = (const char *)ev + f->off;
	switch (f->kind) {
	case FK_STR:
		out_str(o, *(const bs_str *)p, false);
		break;
	case FK_STRS: case FK_STR_LIST: {
		const bs_str *v = f->kind == FK_STRS ? *(const bs_str *const *)p : (const bs_str *)p;
		size_t n = v ? field_count(ev, f) : 0;
		out_bytes(o, "[", 1);
		for (size_t i = 0; i < n; i++) {
			if (i)
				out_bytes(o, ",", 1);
			out_str(o, v[i], true);
		}
		out_bytes(o, "]", 1);
		break;
	}
	case FK_IP:
		out_ip(o, (const bs_ip *)p);
		break;
	case FK_IP_LIST: {
		size_t n = field_count(ev, f);
		out_bytes(o, "[", 1);
		for (size_t i = 0; i < n; i++) {
			if (i)
				out_bytes(o, ",", 1);
			out_ip(o, (const bs_ip *)p + i);
		}
		out_bytes(o, "]", 1);
		break;
	}
	case FK_TIME: {
		bs_time t = *(const bs_time *)p;
		char tb[40];
		if (t == BS_TIME_NONE) {
			out_bytes(o, "none", 4);
		} else {
			bs_time_format(t, 6, tb, sizeof tb);
			out_bytes(o, tb, strlen(tb));
		}
		break;
	}
	case FK_U64: out_fmt(o, "%" PRIu64, *(const uint64_t *)p); break;
	case FK_U32: out_fmt(o, "%" PRIu32, *(const uint32_t *)p); break;
	case FK_U16: out_fmt(o, "%u", (unsigned)*(const uint16_t *)p); break;
	case FK_U8: out_fmt(o, "%u", (unsigned)*(const uint8_t *)p); break;
	case FK_SIZE: out_fmt(o, "%zu", *(const size_t *)p); break;
	case FK_LONG: out_fmt(o, "%ld", *(const long *)p); break;
	case FK_INT: out_fmt(o, "%d", *(const int *)p); break;
	case FK_BOOL: out_fmt(o, "%d", (int)*(const bool *)p); break;
	case FK_DOUBLE: {
		double d = *(const double *)p;
		if (isnan(d))
			out_bytes(o, "none", 4);
		else
			out_fmt(o, "%.6g", d);
		break;
	}
	case FK_FLAGS: {
		uint32_t v = *(const uint32_t *)p;
		bool first = true;
		out_bytes(o, "[", 1);
		for (unsigned bit = 0; bit < 32; bit++) {
			if (!(v & (1u << bit)))
				continue;
			if (!first)
				out_bytes(o, ",", 1);
			first = false;
			if (bit < f->nnames && f->names[bit])
				out_bytes(o, f->names[bit], strlen(f->names[bit]));
			else
				out_fmt(o, "bit%u", bit);
		}
		out_bytes(o, "]", 1);
		break;
	}
	case FK_ENUM: {
		int v = *(const int *)p;
		if (v >= 0 && (size_t)v < f->nnames && f->names[v])
			out_bytes(o, f->names[v], strlen(f->names[v]));
		else
			out_fmt(o, "%d", v);
		break;
	}
	}
}

static void out_fields(struct out *o, const struct bs_event *ev, const struct field *f)
{
	for (; f && f->name; f++) {
		if (!f->always && field_is_zero(ev, f))
			continue;
		out_bytes(o, " ", 1);
		out_bytes(o, f->name, strlen(f->name));
		out_bytes(o, "=", 1);
		out_value(o, ev, f);
	}
}

size_t bs_event_format(const struct bs_event *ev, char *buf, size_t size)
{
	struct out o = { buf, size ? size - 1 : 0, 0 };
	const char *type = bs_event_type_name(ev->type);
	out_bytes(&o, type, strlen(type));
	out_fields(&o, ev, origin_fields);
	/* the origin's reference names its unit: a packet or a line */
	if (ev->origin.ref)
		out_fmt(&o, " %s=%" PRIu64, ev->origin.from_capture ? "pkt" : "line", ev->origin.ref);
	out_fields(&o, ev, endpoint_fields);
	if (ev->type > 0 && ev->type < BS_EV_TYPE_MAX)
		out_fields(&o, ev, type_fields[ev->type]);
	if (size)
		buf[o.len < o.size ? o.len : o.size] = '\0';
	return o.len;
}

/* event.h - the normalized event: the one language between parsers and the engine.
 *
 * Every parser (maillogs, web access logs, capture protocols) turns its input
 * into a stream of these and pushes them into a bs_sink. The engine consumes
 * them and knows nothing of byte formats; parsers know nothing of verdicts.
 *
 * Lifetime: every bs_str and array in an event is borrowed from the parser and
 * valid only during the sink call. The sink copies what it keeps.
 */
#ifndef BS_EVENT_H
#define BS_EVENT_H

#include "src/core/common.h"

enum bs_event_type {
	BS_EV_HTTP = 1, /* an HTTP transaction (capture or access log) */
	BS_EV_AUTH,     /* a login attempt: webmail form, IMAP, POP3, SMTP AUTH, FTP, MySQL */
	BS_EV_MAIL,     /* a mail transaction: sender, recipients, client, size */
	BS_EV_SPAM,     /* a content filter or RBL verdict for a message */
	BS_EV_DBQUERY,  /* an SQL statement sent to a database server */
	BS_EV_DBRESULT, /* end of a query's result set (rows, columns) */
	BS_EV_ADDR,     /* an email address found inside content (see bs_addr_ctx) */
	BS_EV_FLOW,     /* a finished TCP/UDP flow record */
	BS_EV_FILEXFER, /* a file transfer: FTP STOR/RETR, HTTP multipart upload */
	BS_EV_DNS,      /* a DNS query and its answers */
	BS_EV_ADMIN,    /* an administrator's privileged command (sudo), run or refused */
	BS_EV_TYPE_MAX
};

/* Where the event came from, for the timeline's source/source_ref. */
struct bs_origin {
	uint32_t input;      /* index of the input (see input.h) */
	uint64_t ref;        /* line number (logs) or packet number (captures), 1-based */
	bool from_capture;   /* true: packet number; false: line number */
	uint32_t flow_input; /* captures: the input of the flow's first packet. A
	                      * flow can go on in the next rotated file, so this,
	                      * not input, joins the events of one flow */
};

enum bs_http_phase {
	BS_HTTP_REQUEST = 1, /* request complete, response not yet seen (capture only) */
	BS_HTTP_COMPLETE,    /* request and response (or request with no response at end) */
	BS_HTTP_ANOMALY,     /* bytes skipped at the end of a flow, no message after them
	                      * (capture only): not a transaction */
};

/* What was odd about a captured transaction (bs_ev_http.anomalies): the
 * parser reports what it saw and says so, rather than dropping it. */
enum bs_http_anomaly {
	BS_HTTP_AN_CLIENT_JUNK = 1u << 0,  /* client bytes skipped before this request (skipped=) */
	BS_HTTP_AN_SERVER_JUNK = 1u << 1,  /* server bytes skipped before this response (skipped=) */
	BS_HTTP_AN_HTTP09 = 1u << 2,       /* request without version / response without status line */
	BS_HTTP_AN_BAD_VERSION = 1u << 3,  /* request line with a malformed HTTP version */
	BS_HTTP_AN_NO_URI = 1u << 4,       /* request line without a target */
	BS_HTTP_AN_BAD_LENGTH = 1u << 5,   /* Content-Length negative, too big, not a number or
	                                    * conflicting: the body's extent is unknown */
	BS_HTTP_AN_BAD_CHUNK = 1u << 6,    /* chunk size or framing broken: the body stops there */
	BS_HTTP_AN_AMBIGUOUS_FRAMING = 1u << 7, /* Transfer-Encoding folded, repeated, chunked not
	                                    * last, or with Content-Length: peers may disagree */
	BS_HTTP_AN_SMUGGLED = 1u << 8,     /* follows a message of ambiguous framing on the flow */
	BS_HTTP_AN_BODY_CUT = 1u << 9,     /* the capture ends inside the body */
};
#define BS_HTTP_AN_COUNT 10

#define BS_HTTP_MAX_REFS 8
#define BS_HTTP_REF_TAG_MAX 160 /* bytes of the tag kept with each reference */
/* What a login's JSON answer said (captures: {"Result": true}, {"success": false}). */
enum bs_login_answer { BS_LOGIN_ANSWER_NONE = 0, BS_LOGIN_ANSWER_SUCCESS, BS_LOGIN_ANSWER_FAILURE };

struct bs_ev_http {
	enum bs_http_phase phase;
	uint64_t txn_id;       /* unique per input: ties REQUEST, ADDR and COMPLETE events */
	bs_str method, uri;    /* uri as sent: path and query, not decoded */
	bs_str host, user_agent, referer, cookie, content_type;
	uint64_t req_body_len; /* decoded request body length */
	/* A login form (a user field and a password field) was posted: */
	bs_str login_user;     /* the user name, if any; never the password */
	bool password_in_clear;
	bool login_json;       /* ... posted as JSON (SOGo, Tine 2.0), not as a form */
	bool login_basic;      /* ... in an Authorization: Basic header (ActiveSync, EWS, DAV) */
	bs_str upload_filename; /* first multipart file name, if any */
	/* Response: status 0 when none was seen (or in a REQUEST phase event). */
	int status;
	uint64_t resp_bytes;   /* body bytes as sent (access log: the bytes field) */
	uint64_t resp_body_len;/* decoded body length; 0 if unknown */
	bs_str resp_content_type, set_cookie;
	bs_str location;       /* a redirect's Location, as sent (captures only) */
	enum bs_login_answer login_answer; /* a login answered by JSON that says so */
	uint64_t body_hash;    /* 0 if no body or not captured */
	/* Script, iframe, window.open, meta refresh or location targets found in
	 * an HTML body: absolute URLs (or host-relative when no scheme). */
	bs_str refs[BS_HTTP_MAX_REFS];
	/* ref_tags[i]: the tag or script call that carried refs[i], from its
	 * start ("<script", "window.open", ...) to its end, cut at
	 * BS_HTTP_REF_TAG_MAX bytes: what a tampered page had injected. */
	bs_str ref_tags[BS_HTTP_MAX_REFS];
	size_t nrefs;
	/* bit i: refs[i] is weak: a link (<a href>), which a visitor must
	 * follow, or a URL a script holds in a variable (var u = "http://..."),
	 * which it may or may not use; what loads or opens by itself is the
	 * rest. */
	uint8_t ref_weak;
	bool cmd_output;       /* the response body looks like shell command output */
	bool from_access_log;
	uint32_t anomalies;    /* enum bs_http_anomaly bits, of the request and its response */
	uint64_t skipped;      /* bytes skipped before the request and its response (ANOMALY: at the end) */
};

enum bs_auth_proto {
	BS_AUTH_HTTP = 1, BS_AUTH_IMAP, BS_AUTH_POP3, BS_AUTH_SMTP,
	BS_AUTH_FTP, BS_AUTH_MYSQL, BS_AUTH_OTHER
};
struct bs_ev_auth {
	enum bs_auth_proto proto;
	bs_str user;           /* as given; the engine normalizes */
	bs_str method;         /* PLAIN, LOGIN, form ... */
	int success;           /* 1 success, 0 failure, -1 unknown */
	bs_str session;        /* daemon session id, if any */
};

/* Recipients in one MAIL event. A message with more is emitted in parts of
 * at most this many (issue 22, item 1): every part carries the message's
 * fields, part 0 counts as the message, parts 1.. only add recipients. The
 * MTA parsers emit a part as soon as a message holds this many, so their
 * memory per message is bounded and no recipient is dropped. */
#define BS_MAIL_MAX_RCPT 1000
struct bs_ev_mail {
	bs_str queue_id, message_id;
	bs_str sender;           /* envelope sender as written; "" for <> */
	const bs_str *rcpts;     /* accepted / attempted recipients */
	size_t nrcpt;
	size_t rcpts_dropped;    /* recipients a parser could not keep (counted, not emitted),
	                          * since the message's previous part: their sum is the message's */
	uint32_t part;           /* 0: the message (or its first part); N: its N+1th part, more recipients only */
	const bs_str *rcpt_status; /* per recipient: "sent", "bounced", "deferred", "rejected", "" */
	bs_str sasl_user;        /* authenticated submitter */
	long local_uid;          /* -1 unless submitted locally (Postfix pickup uid=) */
	bs_str local_user;       /* local submitter name if the log gives one */
	uint64_t size;
	bs_str relay;            /* next hop of delivery, if known */
	bool rejected;           /* NOQUEUE reject: never accepted */
	bs_str reject_reason;    /* e.g. "RBL zen.spamhaus.org" text */
	/* The client the message came from is the event's src ip (and
	 * client_name below); the logging host is bs_event.host. */
	bs_str client_name;
};

struct bs_ev_spam {
	bool spam;               /* true: spam / virus / RBL; false: clean */
	bool virus;
	double score;            /* NaN when none */
	bs_str sender;
	const bs_str *rcpts;
	size_t nrcpt;
	bs_str filter;           /* "amavis", "spamd", "postfix-rbl" ... */
};

struct bs_ev_dbquery {
	uint64_t query_id;       /* unique per input; ties ADDR(DB_RESULT) and DBRESULT */
	bs_str db_user, db_name; /* from the handshake / COM_INIT_DB when known */
	bs_str sql;              /* the statement text (capped by the parser) */
	bool sql_truncated;
	uint8_t command;         /* the client's command code (MySQL: 3 COM_QUERY, 22 COM_STMT_PREPARE,
	                          * 23 COM_STMT_EXECUTE, 28 COM_STMT_FETCH); 0 unknown (logs) */
	uint32_t stmt_id;        /* EXECUTE/FETCH: the statement id sent; sql is the prepared text */
};

struct bs_ev_dbresult {
	uint64_t query_id;
	uint64_t rows, columns, bytes;
	bool error;              /* the server answered with an error packet */
	bool cut;                /* the rows stop at a capture gap or end: not all seen */
};

enum bs_addr_ctx {
	BS_ADDR_DB_RESULT = 1,   /* a value in a query result set (ref = query_id) */
	BS_ADDR_HTTP_REQ_BODY,   /* request body or form value (ref = txn_id) */
	BS_ADDR_HTTP_RESP_BODY,  /* response body (ref = txn_id) */
	BS_ADDR_SMTP_HEADER,     /* From/To/Cc of a message sent over SMTP */
	BS_ADDR_PAYLOAD,         /* any other stream payload: FTP data, unknown TCP */
	BS_ADDR_DB_PARAM,        /* a prepared statement's parameter sent by the client (ref = query_id) */
};
struct bs_ev_addr {
	enum bs_addr_ctx ctx;
	uint64_t ref;            /* query_id or txn_id; 0 otherwise */
	bs_str address;          /* already normalized by the address scanner */
	bool to_client;          /* direction: bytes sent by the server side of the flow */
	bool normal;             /* address is its own bs_addr_normalize() form, so
	                          * the engine need not normalize it again */
	bs_str column;           /* DB_RESULT: the column name if known */
	bs_str row_tags;         /* DB_RESULT: the row's short cells without an
	                          * address, "Column=value;..." (a row's
	                          * Direction=received reaches its addresses) */
};

enum bs_flow_end { BS_FLOW_FIN = 1, BS_FLOW_RST, BS_FLOW_TIMEOUT, BS_FLOW_EOF, BS_FLOW_EVICTED };
struct bs_ev_flow {
	uint8_t l4proto;         /* 6 tcp, 17 udp */
	bool initiator_known;    /* SYN seen: src is the initiator */
	bs_time first, last;
	uint64_t pkts_fwd, pkts_rev, bytes_fwd, bytes_rev; /* payload bytes, src->dst and back */
	enum bs_flow_end end;
	bs_str app;              /* "http", "smtp", "mysql", ... or "" */
	bool encrypted;          /* TLS or SSH from the start, or turned to TLS (STARTTLS, MySQL SSL) */
	uint64_t overlap_conflicts; /* TCP segments dropped for differing from a buffered copy of
	                             * their bytes (an anomaly: two versions of the same data) */
};

struct bs_ev_filexfer {
	bs_str proto;            /* "ftp", "http" */
	bool upload;             /* true: client to server (STOR, POST upload) */
	bs_str filename;
	uint64_t size;
	bool size_unknown;       /* the data connection is not in the capture: size is 0 */
	bs_str user;
};

#define BS_DNS_MAX_ANS 16
#define BS_DNS_MAX_UPDATES 16
struct bs_ev_dns {
	bs_str qname;
	uint16_t qtype;
	bs_ip answers[BS_DNS_MAX_ANS];
	size_t nanswers;
	bs_str cname;
	int rcode;               /* -1: no response seen */
	/* UPDATE (RFC 2136): the distinct owner names of the update section, in
	 * order (qname is the first); names past BS_DNS_MAX_UPDATES or the
	 * parser's pool, and records past its read limit, are counted */
	bs_str updates[BS_DNS_MAX_UPDATES];
	size_t nupdates;
	size_t updates_more;
};

/* A command run (or refused) through sudo on the logging host: who asked,
 * as whom, what. The engine decides what a command means (a script removed
 * from a web root is evidence of a web shell); the parser only splits it. */
struct bs_ev_admin {
	bs_str user;             /* who invoked it (the login name) */
	bs_str run_as;           /* USER=: the account it runs as */
	bs_str command;          /* COMMAND=: the command line as logged */
	bs_str tty, pwd;
	int success;             /* 1 allowed (run), 0 refused */
	bs_str reason;           /* why refused: "user NOT in sudoers", "3 incorrect password attempts", ... */
};

struct bs_event {
	enum bs_event_type type;
	bs_time ts;              /* UTC microseconds */
	struct bs_origin origin;
	bs_str host;             /* logging host name (logs); "" for captures */
	bs_ip src, dst;          /* client and server of the exchange (src initiates) */
	uint16_t sport, dport;
	union {
		struct bs_ev_http http;
		struct bs_ev_auth auth;
		struct bs_ev_mail mail;
		struct bs_ev_spam spam;
		struct bs_ev_dbquery dbquery;
		struct bs_ev_dbresult dbresult;
		struct bs_ev_addr addr;
		struct bs_ev_flow flow;
		struct bs_ev_filexfer xfer;
		struct bs_ev_dns dns;
		struct bs_ev_admin admin;
	} u;
};

/* Where events go. Parsers call bs_emit(); it never fails. */
struct bs_sink {
	void (*fn)(void *ctx, const struct bs_event *ev);
	void *ctx;
};

static inline void bs_emit(const struct bs_sink *s, const struct bs_event *ev)
{
	if (s && s->fn)
		s->fn(s->ctx, ev);
}

/* Zero an event and set its type; fields then filled by the parser. */
void bs_event_init(struct bs_event *ev, enum bs_event_type type);
const char *bs_event_type_name(enum bs_event_type t);
/* Name of bit `bit` of enum bs_http_anomaly ("smuggled"), "?" for others. */
const char *bs_http_anomaly_name(unsigned bit);

/* One event as one deterministic line of text, without a newline: the type
 * name, then `name=value` for each field in the order of the event's field
 * table (event.c), e.g.
 *   auth ts=1970-01-01T00:16:40.000000Z in=1 pkt=3 ... proto=pop3 user=alice method=USER success=1
 * A field at its zero value ("" string, 0, false, no address, empty list) is
 * left out, except the fields whose zero means something (auth success,
 * spam score). Lists are written [a,b]. Bytes outside printable ASCII, the
 * backslash, and ',' ']' inside lists are written \xNN, so a line holds any
 * value unambiguously and never a raw control byte. Events carry no password,
 * so none can appear. Every string and list of the event is read, which is
 * what the fuzz targets use it for.
 * Writes at most size bytes (NUL included) like snprintf and returns the
 * length of the whole line. */
size_t bs_event_format(const struct bs_event *ev, char *buf, size_t size);

#endif

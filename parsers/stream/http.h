/* http.h - HTTP/1.x stream parser (see proto.h for the shape of every stream
 * parser).
 *
 * One struct bs_http per TCP flow; dir 0 carries requests, dir 1 responses.
 * Requests wait in a bounded FIFO until their response completes, so
 * pipelined and keep-alive exchanges pair up. Everything is fixed-size except
 * two things allocated at most once per flow, when first needed: the zlib
 * stream (gzip/deflate responses) and the larger FIFO (more than
 * BS_HTTP_INLINE_PENDING requests pipelined). bs_http_end() flushes and frees
 * them: call it exactly once per flow.
 */
#ifndef BS_HTTP_H
#define BS_HTTP_H

#include "parsers/stream/gzfile.h"
#include "parsers/stream/jsonkv.h"
#include "parsers/stream/proto.h"
#include "src/core/addrscan.h"

struct bs_jsexpr_vars; /* jsexpr.h */

/* ------------------------------------------------------------------ HTTP */
#define BS_HTTP_LINE_MAX 8192        /* start and header lines; longer ones truncated, counted */
#define BS_HTTP_URI_MAX 2048         /* a longer URI keeps 2045 bytes and ends in "..." */
#define BS_HTTP_MAX_PENDING 16       /* requests waiting for their response */
#define BS_HTTP_INLINE_PENDING 2
#define BS_HTTP_INFLATE_MAX (8u << 20) /* decoded bytes kept per body (bomb cap) */
#define BS_HTTP_SNIFF_MAX 1024       /* first decoded bytes checked for command output */
#define BS_HTTP_REF_POOL 2048        /* bytes of all HTML references of one response */
#define BS_HTTP_EXPR_MAX (32 * 1024) /* a script expression read across windows */
#define BS_HTTP_REF_MAX 512          /* longer references are skipped */
#define BS_HTTP_SETCOOKIE_MAX 1024
#define BS_HTTP_LOCATION_MAX 512   /* a redirect's target, kept to judge a login's outcome */
#define BS_HTTP_FIELD_NAME_MAX 64    /* form field names kept for login detection */
#define BS_HTTP_USER_MAX 128
#define BS_HTTP_HIDDEN_MAX 1024      /* bytes kept of a request hidden in a chunked body (TE.CL) */

/* The parser never gives up on a flow any more: what it cannot parse it
 * skips, counts and flags (enum bs_http_anomaly in event.h). The codes stay
 * for their names. */
enum bs_http_err {
	BS_HTTP_OK = 0,
	BS_HTTP_ERR_REQUEST_LINE,   /* dir 0 does not start with a request line */
	BS_HTTP_ERR_STATUS_LINE,    /* dir 1 does not start with a status line */
	BS_HTTP_ERR_CHUNK_SIZE,     /* bad hex chunk size, or one over 2^60 */
	BS_HTTP_ERR_CHUNK_FRAMING,  /* no CRLF after chunk data */
	BS_HTTP_ERR_CONTENT_LENGTH, /* unparseable or conflicting Content-Length */
	BS_HTTP_ERR_MAX
};

/* Message state of one direction. */
enum bs_http_state {
	BS_HTTP_S_START = 0,   /* expecting a start line (empty lines skipped) */
	BS_HTTP_S_HEADERS,     /* header lines up to the empty line */
	BS_HTTP_S_BODY_LENGTH, /* Content-Length bytes */
	BS_HTTP_S_CHUNK_SIZE,  /* hex digits */
	BS_HTTP_S_CHUNK_EXT,   /* ;ext up to LF */
	BS_HTTP_S_CHUNK_DATA,
	BS_HTTP_S_CHUNK_CR,    /* CRLF after data */
	BS_HTTP_S_CHUNK_LF,
	BS_HTTP_S_TRAILERS,    /* trailer lines up to the empty line */
	BS_HTTP_S_BODY_CLOSE,  /* response body until the connection closes */
	BS_HTTP_S_RESYNC,      /* after a gap or a broken body: skip lines up to the next start line */
	BS_HTTP_S_OPAQUE,      /* after 101 / CONNECT: not HTTP any more */
	BS_HTTP_S_FAILED,
};

enum bs_http_coding { BS_HTTP_CODING_NONE = 0, BS_HTTP_CODING_GZIP, BS_HTTP_CODING_DEFLATE };
enum bs_http_form { BS_HTTP_FORM_NONE = 0, BS_HTTP_FORM_URLENCODED, BS_HTTP_FORM_MULTIPART, BS_HTTP_FORM_JSON };

/* bs_http_init() does not zero the buffers whose used part a length gives:
 * bs_http_dir.line and what follows it, bs_http_req from method on,
 * bs_http_reqbody from dec.name on (dec's name and value, the domain, the
 * boundary, the multipart line and part names, the window),
 * bs_http.inline_pending, and bs_http_resp from ctype on (reset field by
 * field). A new scalar goes before those. */

/* A request as kept until its response completes. */
struct bs_http_req {
	uint64_t txn_id;
	bs_time ts;              /* request line's packet */
	uint64_t pktno;
	uint64_t body_len;
	bool head, connect, lost, password_in_clear;
	bool login_json;         /* the login came as JSON (its success is told otherwise) */
	bool login_basic;        /* ... in an Authorization: Basic header (ActiveSync, EWS, DAV) */
	bool http09;             /* no version: the answer may have no status line */
	uint32_t anomalies;      /* enum bs_http_anomaly */
	uint64_t skipped;        /* client bytes skipped before the request line */
	uint16_t method_len, uri_len, host_len, ua_len, referer_len, cookie_len, ctype_len,
		user_len, upload_len;
	char method[16];         /* a token of at most 15 bytes */
	char uri[BS_HTTP_URI_MAX];
	char host[256], ua[256], referer[512], cookie[512], ctype[128];
	char user[BS_HTTP_USER_MAX], upload[256];
};

/* Incremental decoder of form fields (urlencoded body, query string, or one
 * multipart part), looking for a login. */
struct bs_http_form_dec { /* the scalars before name: a length says what of name and value is used */
	uint8_t pct;             /* 0, or 1/2 hex digits of a %XX seen */
	uint8_t pct_hi;
	bool in_value;
	uint8_t kind;            /* what the field is, once its name is known (http.c) */
	bool name_long;          /* name over BS_HTTP_FIELD_NAME_MAX: cannot be a login field */
	size_t name_len, value_len;
	char name[BS_HTTP_FIELD_NAME_MAX];
	char value[BS_HTTP_USER_MAX]; /* kept only for user and domain fields, never passwords */
};

struct bs_http_counters {
	uint64_t requests, responses, interim, orphan_responses, unanswered;
	uint64_t long_lines, folded_lines, uri_truncated, field_truncated, queue_overflow;
	uint64_t gaps, gap_bytes, messages_dropped, bombs, inflate_errors, refs_dropped;
	uint64_t gzip_files;     /* response bodies that were gzip files, inflated for the scan */
	uint64_t logins, uploads;
	uint64_t junk_bytes, junk_runs; /* bytes skipped outside messages (not after gaps), runs of them */
	uint64_t http09, bad_lengths, bad_chunks, ambiguous_framing;
	uint64_t hidden_requests;       /* TE.CL: requests found inside a chunked body */
};

/* TE.CL smuggling: a chunked request that also has a Content-Length. A back
 * end framing by Content-Length reads a new request at that offset of the
 * chunked body's wire bytes; those bytes are kept (up to BS_HTTP_HIDDEN_MAX)
 * and parsed when the carrier ends. */
struct bs_http_hidden {
	bool armed;
	bool cut;                /* a gap: what follows the kept bytes is lost */
	uint64_t start;          /* the carrier's Content-Length */
	uint64_t raw;            /* wire bytes of its chunked body so far */
	bs_time ts;              /* packet of the hidden request's first byte */
	uint64_t pktno;
	size_t len;
	char buf[BS_HTTP_HIDDEN_MAX];
};

/* Per-direction message parser. */
struct bs_http_dir {
	enum bs_http_state state;
	bool line_long;          /* the current line went over BS_HTTP_LINE_MAX */
	bool chunked, has_length, close_delimited;
	bool body_damaged;       /* a gap inside the body: hash not kept */
	uint8_t chunk_digits;    /* hex digits of the chunk size read so far */
	uint64_t remaining;      /* body or chunk bytes left */
	uint64_t content_length;
	bool bad_length;         /* Content-Length unusable: no body read, resync after the headers */
	bool te_seen, ambiguous; /* Transfer-Encoding seen; framing peers may read differently */
	bool last_hdr_te;        /* the last header line was Transfer-Encoding (obs-fold joins it) */
	bool smuggle_next;       /* the message before had ambiguous framing */
	bool after_gap;          /* RESYNC after a gap: skipped bytes are the gap's, not counted */
	uint64_t line_raw;       /* bytes of the current line as sent (line_len is capped) */
	uint64_t skipped;        /* bytes skipped since the last message */
	bs_time skip_ts;         /* packet of the first of them */
	uint64_t skip_pktno;
	size_t line_len;
	char line[BS_HTTP_LINE_MAX];
};

/* The response being parsed. */
struct bs_http_resp {
	int status;
	bool active;             /* a status line was read */
	bool interim;            /* 1xx other than 101: headers only, not paired */
	bool html, script, paired, no_body, opaque_after;
	bool typed_by_sniff;     /* no Content-Type: html decided from the body's start */
	enum bs_http_coding coding;
	uint64_t txn_id;         /* of the paired request, or fresh for an orphan */
	bs_time ts;
	uint64_t pktno;
	uint64_t wire_bytes, decoded_len;
	struct bs_hash64 hasher; /* of the decoded body so far */
	uint64_t hash;           /* final, at the end of the body */
	bool capped, decode_failed, deflate_raw_checked;
	bool z_started, z_done;  /* inflater reset for this body; its stream ended */
	bool cmd_output;
	uint32_t anomalies;      /* enum bs_http_anomaly */
	uint64_t skipped;        /* server bytes skipped before the status line */
	uint8_t deflate_head[2];
	size_t deflate_head_len;
	/* a body without a content coding that is a gzip file (a .sql.gz
	 * fetched through a web shell): inflated for the address scan only */
	struct bs_gzfile gz;
	/* the answer to a login, when the body is JSON that says it
	 * ({"Result": true}, {"success": false}): bs_ev_http.login_answer */
	bool json_answer;        /* the paired request was a login and the body is JSON */
	bool page_answer;        /* ... answered 2xx by a page (the inbox, or the form again) */
	bool answer_form;        /* that page asks for a password again, or says the login failed */
	uint8_t login_answer;
	/* A script expression that began before the overlap of the window it
	 * did not end in (a long unescape string, packed code): its text from
	 * its start, kept and read again as the body goes on, until it ends
	 * or reaches BS_HTTP_EXPR_MAX bytes; on the heap while it lasts. */
	char *expr_buf;
	uint32_t expr_len, expr_cap;
	uint8_t expr_pat;            /* its pattern (http.c's js_patterns) */
	uint16_t ctype_len, setcookie_len, location_len;
	char ctype[128];
	char setcookie[BS_HTTP_SETCOOKIE_MAX];
	char location[BS_HTTP_LOCATION_MAX];
	struct bs_jsonkv answer;     /* json_answer: the body's members (set up then) */
	size_t sniff_len;
	char sniff[BS_HTTP_SNIFF_MAX];
	size_t nrefs, ref_pool_len;
	uint8_t ref_weak;            /* bit i: refs[i] is weak (a link, a script variable's URL) */
	uint16_t ref_off[BS_HTTP_MAX_REFS], ref_len[BS_HTTP_MAX_REFS];
	char ref_pool[BS_HTTP_REF_POOL];
	uint8_t ref_tag_len[BS_HTTP_MAX_REFS];
	char ref_tag[BS_HTTP_MAX_REFS][BS_HTTP_REF_TAG_MAX];
	struct bs_scan_window win;   /* decoded body: addresses and references */
};

/* The request being parsed (headers and body), before it joins the FIFO. */
struct bs_http_reqbody {
	/* The scalars, then dec (its scalars first), then the buffers, whose
	 * used part a length says: bs_http_init zeroes up to dec's buffers. */
	enum bs_http_form form;
	bool have_user, have_password;
	bool user_by_value;       /* cur.user holds a field's address value: the user when no
	                           * field is named as one (acct=alice@example.net&pw=...) */
	size_t domain_len;        /* @Mail-style "pop3host"/"domain" field, completes a bare user */
	/* multipart */
	size_t boundary_len;
	size_t delim_match;       /* bytes of "\r\n--boundary" matched */
	int mp_state;             /* see http.c */
	size_t mp_line_len;
	bool part_is_file, part_name_long;
	size_t part_name_len, part_file_len;
	uint64_t part_size;
	/* a raw body, or a multipart file part, that is a gzip file (a dump
	 * posted out): inflated for the address scan; zeroed at init */
	struct bs_gzfile gz;
	struct bs_http_form_dec dec;
	char domain[128];
	char boundary[76];
	char mp_line[512];
	char part_name[BS_HTTP_FIELD_NAME_MAX];
	char part_file[256];
	struct bs_scan_window win;   /* decoded body: addresses */
	struct bs_jsonkv json;       /* BS_HTTP_FORM_JSON: its members (set up by its Content-Type) */
};

struct bs_http {
	struct bs_http_dir dir[2];
	struct bs_http_req cur;      /* request being parsed */
	struct bs_http_reqbody rb;
	struct bs_http_resp resp;
	bool cur_active;             /* cur holds a request line */
	bool tunnel_pending;         /* 2xx to CONNECT: hand the rest to the dispatcher (ctx.tunnel) */
	/* FIFO of requests waiting for a response */
	struct bs_http_req *pending; /* inline_pending, or heap array of BS_HTTP_MAX_PENDING */
	size_t pending_cap, pending_head, pending_count;
	struct bs_http_req inline_pending[BS_HTTP_INLINE_PENDING];
	struct bs_http_hidden hidden; /* scalars zeroed by bs_http_init, buf not */
	uint32_t seq;
	bs_str ref_via;              /* while decoded script text is scanned: the call
	                              * that decoded it, which its references' tags name */
	bool ref_weak_text;          /* ... and it is a script variable's value: its
	                              * references are weak */
	struct bs_jsexpr_vars *js_vars; /* the page's script variables set to strings (on the
	                              * heap from the first, for the flow's life) */
	uint16_t js_lookups;         /* names looked up in the response's text (http.c) */
	bool expr_retry;             /* resp.expr_buf is being read again */
	bool expr_wants_more;        /* the expression just read ended with its text */
	void *zs;                    /* z_stream, allocated on the first compressed body */
	struct bs_http_counters count;
	enum bs_http_err err;
};

void bs_http_init(struct bs_http *p);
enum bs_http_err bs_http_feed(struct bs_http *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n);
void bs_http_gap(struct bs_http *p, struct bs_proto_ctx *c, int dir, uint64_t n);
void bs_http_end(struct bs_http *p, struct bs_proto_ctx *c);
const char *bs_http_strerror(enum bs_http_err e);
/* The first position from at on where an HTML reference pattern (<script,
 * <iframe, <frame, <meta, location, window.open) can start, judged by its
 * first three bytes; n if none. The scan of response bodies; exported for
 * its test. */
size_t bs_http_next_ref_start(const char *w, size_t at, size_t n);
/* Tests only: true makes bs_http_next_ref_start take its SSE2 path on a CPU
 * with AVX2 too. */
extern bool bs_http_avx2_off;
/* Tests: take the straightforward paths only (forms decoded byte by byte,
 * every header line parsed), the reference for the fast ones. */
extern bool bs_http_fast_off;
/* Does p look like the start of an HTTP request (dir 0) or response (dir 1)? */
bool bs_http_sniff(int dir, const uint8_t *p, size_t n);

extern const struct bs_proto_def bs_proto_http;

#endif

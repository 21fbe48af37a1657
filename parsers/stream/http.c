/* http.c - HTTP/1.x stream parser: requests and responses of one TCP flow,
 * paired in FIFO order, bodies de-chunked and inflated, forms decoded.
 *
 * Push parser: each direction has a state (http.h, enum bs_http_state) and
 * bytes are consumed as they come, whatever the segment boundaries. Lines
 * (start line, headers, chunk trailers) are collected in a fixed buffer;
 * bodies are never buffered, only streamed through the decoders (chunk
 * framing, zlib, form decoder, multipart splitter) into fixed-size sinks
 * (hash, first KB, scan window). See docs/PROTOCOLS.md, "HTTP".
 */
#include "config.h"
#include "parsers/stream/http.h"
#include "parsers/stream/content.h"
#include "parsers/stream/jsexpr.h"
#include "parsers/stream/lineproto.h"
#include "src/core/addrscan.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define AVX2_DISPATCH 1 /* an AVX2 path, taken when the CPU has it */
#endif

#define CHUNK_SIZE_LIMIT (1ULL << 60)
#define INFLATE_OUT 16384

/* FIELD_MAYBE_USER: a field not named as a login's, kept while no user is
 * known: its value is the user when it is an address (note_user). */
enum field_kind { FIELD_OTHER = 0, FIELD_USER, FIELD_PASSWORD, FIELD_DOMAIN, FIELD_MAYBE_USER };
enum mp_state { MP_PREAMBLE = 0, MP_AFTER_DELIM, MP_PART_HEADERS, MP_PART_BODY, MP_EPILOGUE };

#define M(s) { s, sizeof s - 1 }
static const struct { const char *name; size_t len; } methods[] = { M("GET"), M("POST"), M("HEAD"), M("PUT"),
	M("DELETE"), M("OPTIONS"), M("TRACE"), M("CONNECT"), M("PATCH"), M("PROPFIND"), M("PROPPATCH"),
	M("MKCOL"), M("COPY"), M("MOVE"), M("LOCK"), M("UNLOCK"), M("REPORT"), M("SEARCH"), { NULL, 0 } };
#undef M

static inline bool is_ows(char c) { return c == ' ' || c == '\t'; }
static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bs_str trim(const char *p, size_t n)
{
	while (n && (is_ows(p[0]) || p[0] == '\r')) {
		p++;
		n--;
	}
	while (n && (is_ows(p[n - 1]) || p[n - 1] == '\r'))
		n--;
	return bs_str_make(p, n);
}

/* trim(), with the usual case (nothing to trim: a header name) inline. */
static inline bs_str trim_ends(const char *p, size_t n)
{
	if (n && !is_ows(p[0]) && p[0] != '\r' && !is_ows(p[n - 1]) && p[n - 1] != '\r')
		return bs_str_make(p, n);
	return trim(p, n);
}

/* Copy into a fixed buffer, counting what did not fit. */
static void put_capped(char *dst, size_t cap, uint16_t *len, bs_str v, uint64_t *trunc)
{
	size_t n = v.n;
	if (n > cap) {
		n = cap;
		(*trunc)++;
	}
	if (n)
		memcpy(dst, v.p, n);
	*len = (uint16_t)n;
}

/* Append "; "-joined, counting what did not fit. */
static void append_joined(char *dst, size_t cap, uint16_t *len, bs_str v, uint64_t *trunc)
{
	size_t at = *len;
	if (v.n == 0)
		return;
	if (at && at + 2 <= cap) {
		memcpy(dst + at, "; ", 2);
		at += 2;
	}
	size_t n = v.n;
	if (at + n > cap) {
		n = cap > at ? cap - at : 0;
		(*trunc)++;
	}
	if (n)
		memcpy(dst + at, v.p, n);
	*len = (uint16_t)(at + n);
}

/* ------------------------------------------------------------------ events */

struct scan_ctx {
	struct bs_http *h;
	struct bs_proto_ctx *c;
	enum bs_addr_ctx actx;
	uint64_t ref;
	bool to_client;
};

static void req_window_cb(void *vctx, const char *p, size_t n, size_t fresh, bool final)
{
	struct scan_ctx *s = vctx;
	bs_proto_addr_window(s->c, s->actx, s->ref, s->to_client, p, n, fresh, final);
}

static void set_req_fields(struct bs_ev_http *e, const struct bs_http_req *r)
{
	e->txn_id = r->txn_id;
	e->method = bs_str_make(r->method, r->method_len);
	e->uri = bs_str_make(r->uri, r->uri_len);
	e->host = bs_str_make(r->host, r->host_len);
	e->user_agent = bs_str_make(r->ua, r->ua_len);
	e->referer = bs_str_make(r->referer, r->referer_len);
	e->cookie = bs_str_make(r->cookie, r->cookie_len);
	e->content_type = bs_str_make(r->ctype, r->ctype_len);
	e->req_body_len = r->body_len;
	e->login_user = bs_str_make(r->user, r->user_len);
	e->password_in_clear = r->password_in_clear;
	e->login_json = r->login_json;
	e->login_basic = r->login_basic;
	e->upload_filename = bs_str_make(r->upload, r->upload_len);
	e->anomalies = r->anomalies;
	e->skipped = r->skipped;
}

static void emit_request(struct bs_http *p, struct bs_proto_ctx *c, const struct bs_http_req *r)
{
	struct bs_event ev;
	bs_proto_event(c, &ev, BS_EV_HTTP);
	ev.ts = r->ts;
	ev.origin.ref = r->pktno;
	ev.u.http.phase = BS_HTTP_REQUEST;
	set_req_fields(&ev.u.http, r);
	bs_emit(c->sink, &ev);
	p->count.requests++;
}

/* COMPLETE: r may be NULL (a response nobody asked for), rs NULL (no response). */
static void emit_complete(struct bs_proto_ctx *c, const struct bs_http_req *r, const struct bs_http_resp *rs)
{
	struct bs_event ev;
	bs_proto_event(c, &ev, BS_EV_HTTP);
	struct bs_ev_http *e = &ev.u.http;
	e->phase = BS_HTTP_COMPLETE;
	if (r) {
		ev.ts = r->ts;
		ev.origin.ref = r->pktno;
		set_req_fields(e, r);
	} else if (rs) {
		ev.ts = rs->ts;
		ev.origin.ref = rs->pktno;
		e->txn_id = rs->txn_id;
	}
	if (rs) {
		e->status = rs->status;
		e->resp_bytes = rs->wire_bytes;
		e->resp_body_len = rs->decoded_len;
		e->resp_content_type = bs_str_make(rs->ctype, rs->ctype_len);
		e->set_cookie = bs_str_make(rs->setcookie, rs->setcookie_len);
		e->location = bs_str_make(rs->location, rs->location_len);
		e->login_answer = (enum bs_login_answer)rs->login_answer;
		e->body_hash = rs->hash;
		for (size_t i = 0; i < rs->nrefs; i++)
		{
			e->refs[i] = bs_str_make(rs->ref_pool + rs->ref_off[i], rs->ref_len[i]);
			e->ref_tags[i] = bs_str_make(rs->ref_tag[i], rs->ref_tag_len[i]);
		}
		e->nrefs = rs->nrefs;
		e->ref_weak = rs->ref_weak;
		e->cmd_output = rs->cmd_output;
		e->anomalies |= rs->anomalies;
		e->skipped += rs->skipped;
	}
	bs_emit(c->sink, &ev);
}

/* ------------------------------------------------------------------ FIFO */

static struct bs_http_req *pending_at(struct bs_http *p, size_t i)
{
	return &p->pending[(p->pending_head + i) % p->pending_cap];
}

static void pending_pop(struct bs_http *p)
{
	p->pending_head = (p->pending_head + 1) % p->pending_cap;
	p->pending_count--;
}

/* *dst = *src, but of the buffers only the part their lengths say is used
 * (the request is 4.2 KB, mostly the URI buffer; everything reads its
 * buffers by their lengths). */
static void req_copy(struct bs_http_req *dst, const struct bs_http_req *src)
{
	memcpy(dst, src, offsetof(struct bs_http_req, method));
#define COPY_USED(field, len) memcpy(dst->field, src->field, src->len)
	COPY_USED(method, method_len);
	COPY_USED(uri, uri_len);
	COPY_USED(host, host_len);
	COPY_USED(ua, ua_len);
	COPY_USED(referer, referer_len);
	COPY_USED(cookie, cookie_len);
	COPY_USED(ctype, ctype_len);
	COPY_USED(user, user_len);
	COPY_USED(upload, upload_len);
#undef COPY_USED
}

static void pending_push(struct bs_http *p, struct bs_proto_ctx *c, const struct bs_http_req *r)
{
	if (p->pending_count == p->pending_cap && p->pending_cap < BS_HTTP_MAX_PENDING) {
		/* Deep pipelining: move to the full-size ring, once per flow. */
		struct bs_http_req *big = bs_xcalloc(BS_HTTP_MAX_PENDING, sizeof *big);
		for (size_t i = 0; i < p->pending_count; i++)
			req_copy(&big[i], pending_at(p, i));
		p->pending = big;
		p->pending_cap = BS_HTTP_MAX_PENDING;
		p->pending_head = 0;
	}
	if (p->pending_count == p->pending_cap) {
		/* The oldest will never be answered as far as we can tell. */
		struct bs_http_req *old = pending_at(p, 0);
		if (!old->lost)
			emit_complete(c, old, NULL);
		pending_pop(p);
		p->count.queue_overflow++;
	}
	req_copy(pending_at(p, p->pending_count), r);
	p->pending_count++;
}

/* ------------------------------------------------------------------ forms */

/* What a form field is, by its name: the lengths are compared first (this
 * runs for every field of every query string and form). The names are the
 * login forms of the webmail applications a fleet runs: @Mail (username,
 * pop3host, password; email), Roundcube (_user, _pass), SquirrelMail
 * (login_username, secretkey), Horde and IMP (horde_user, horde_pass;
 * imapuser, pass), Kerio (kerio_username, kerio_password), OWA, Zimbra and
 * Group-Office (username, password), RainLoop and SnappyMail (Email,
 * Password), cPanel (user, pass), Plesk (login_name, passwd), Java
 * containers (j_username, j_password). A login is a user field and a
 * password field in one request (request_done). */
static enum field_kind field_kind(const char *name, size_t n)
{
#define K(s, kind) { sizeof s - 1, s, kind }
	static const struct { size_t len; const char *name; enum field_kind kind; } names[] = {
		K("username", FIELD_USER), K("user", FIELD_USER), K("login", FIELD_USER), K("email", FIELD_USER),
		K("account", FIELD_USER), K("userid", FIELD_USER), K("user_name", FIELD_USER),
		K("loginname", FIELD_USER), K("login_name", FIELD_USER), K("user_id", FIELD_USER),
		K("uname", FIELD_USER), K("mail", FIELD_USER), K("_user", FIELD_USER),
		K("login_username", FIELD_USER), K("horde_user", FIELD_USER), K("imapuser", FIELD_USER),
		K("kerio_username", FIELD_USER), K("j_username", FIELD_USER),
		K("password", FIELD_PASSWORD), K("pass", FIELD_PASSWORD), K("passwd", FIELD_PASSWORD),
		K("pwd", FIELD_PASSWORD), K("secret", FIELD_PASSWORD), K("passwort", FIELD_PASSWORD),
		K("user_password", FIELD_PASSWORD), K("_pass", FIELD_PASSWORD), K("secretkey", FIELD_PASSWORD),
		K("horde_pass", FIELD_PASSWORD), K("kerio_password", FIELD_PASSWORD), K("j_password", FIELD_PASSWORD),
		K("pop3host", FIELD_DOMAIN), K("domain", FIELD_DOMAIN), K("maildomain", FIELD_DOMAIN) };
#undef K
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (names[i].len == n && bs_mem_ieq_lower(name, names[i].name, n))
			return names[i].kind;
	/* a webmail not listed: a name that says password (user_pass,
	 * loginPassword, f_pwd, pw) is one; its user is found by its value
	 * (field_end) */
	if ((n == 2 && bs_mem_ieq_lower(name, "pw", 2)) || bs_memmem_ci(name, n, "pass", 4) ||
	    bs_memmem_ci(name, n, "pwd", 3))
		return FIELD_PASSWORD;
	return FIELD_OTHER;
}

/* A field's value that is an address (text@domain.tld, no blank): the
 * user of a login form whose user field has a name not listed. */
static bool address_value(const char *v, size_t n)
{
	const char *at = n ? memchr(v, '@', n) : NULL;
	if (!at || at == v || n > 254)
		return false;
	size_t d = (size_t)(at - v) + 1;
	if (!memchr(at + 1, '.', n - d) || v[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == '<' || v[i] == '>' || v[i] == ',' || v[i] == ';')
			return false;
	return true;
}

/* A login's user from a field: by the field's name, or, while none is
 * named as one, by an address value (the first). */
static void note_user(struct bs_http *p, enum field_kind kind, const char *v, size_t n, bool value_long)
{
	struct bs_http_reqbody *rb = &p->rb;
	if (rb->have_user || !n || (kind != FIELD_USER && (kind != FIELD_OTHER || rb->user_by_value || !address_value(v, n))))
		return;
	size_t k = n < sizeof p->cur.user ? n : sizeof p->cur.user;
	memcpy(p->cur.user, v, k);
	p->cur.user_len = (uint16_t)k;
	if (kind == FIELD_USER)
		rb->have_user = true;
	else
		rb->user_by_value = true;
	if (value_long || k < n)
		p->count.field_truncated++;
}

static void field_start_value(struct bs_http_form_dec *d, bool want_user)
{
	d->in_value = true;
	d->kind = d->name_long ? FIELD_OTHER : (uint8_t)field_kind(d->name, d->name_len);
	if (d->kind == FIELD_OTHER && want_user)
		d->kind = FIELD_MAYBE_USER;
	d->value_len = 0;
}

/* A field is complete: note a login user, a password, a domain. */
static void field_end(struct bs_http *p, struct bs_http_form_dec *d, bool value_long)
{
	struct bs_http_reqbody *rb = &p->rb;
	if (d->in_value) {
		if (d->kind == FIELD_USER || d->kind == FIELD_MAYBE_USER) {
			note_user(p, d->kind == FIELD_USER ? FIELD_USER : FIELD_OTHER, d->value, d->value_len, value_long);
		} else if (d->kind == FIELD_PASSWORD && d->value_len) {
			rb->have_password = true;
		} else if (d->kind == FIELD_DOMAIN && d->value_len && !rb->domain_len &&
		           d->value_len <= sizeof rb->domain) {
			memcpy(rb->domain, d->value, d->value_len);
			rb->domain_len = d->value_len;
		}
	}
	d->in_value = false;
	d->name_len = 0;
	d->name_long = false;
	d->value_len = 0;
	d->kind = FIELD_OTHER;
	d->pct = 0;
}

/* One decoded byte of a name or value. The value of a password field is
 * only counted, never stored. */
static void field_byte(struct bs_http_form_dec *d, char ch, bool *value_long)
{
	if (!d->in_value) {
		if (d->name_len < sizeof d->name)
			d->name[d->name_len++] = ch;
		else
			d->name_long = true;
		return;
	}
	if (d->kind == FIELD_PASSWORD) {
		d->value_len = 1;
		return;
	}
	if (d->kind == FIELD_USER || d->kind == FIELD_DOMAIN || d->kind == FIELD_MAYBE_USER) {
		if (d->value_len < sizeof d->value)
			d->value[d->value_len++] = ch;
		else
			*value_long = true;
	}
}

bool bs_http_fast_off;

enum { BS_HTTP_FORM_OUT = 256 }; /* decoded form bytes fed to the window at a time */

/* Bytes of a form that field_byte() takes as they are: 1 = never ("%&+"),
 * 2 = not in a name ("="). */
static const uint8_t form_special[256] = { ['%'] = 1, ['&'] = 1, ['+'] = 1, ['='] = 2 };

/* Appends up to m bytes to dst (length *len, capacity cap); *over when some
 * did not fit. */
static void append_some(char *dst, size_t cap, size_t *len, const char *b, size_t m, bool *over)
{
	size_t room = cap - *len;
	if (m > room) {
		*over = true;
		m = room;
	}
	memcpy(dst + *len, b, m);
	*len += m;
}

/* A run of bytes that are neither escapes nor separators, taken in bulk: what
 * field_byte() and the window would get byte by byte, with the window fed at
 * the same points (out full to sizeof out - 2). Returns the bytes taken. */
static size_t urlencoded_plain(struct bs_http *p, struct scan_ctx *sc, const char *b, size_t n,
                               char *out, size_t *on, bool *value_long)
{
	struct bs_http_form_dec *d = &p->rb.dec;
	unsigned stop = d->in_value ? 1u : 3u;
	size_t m = 0;
	/* a full window is the byte path's to flush: the room below must not
	 * wrap (the byte path keeps *on under the limit, but not by a rule of
	 * this function's) */
	if (bs_http_fast_off || *on >= BS_HTTP_FORM_OUT - 2)
		return 0;
	while (m < n && !(form_special[(unsigned char)b[m]] & stop))
		m++;
	if (!m)
		return 0;
	if (!d->in_value) {
		bool over = false;
		append_some(d->name, sizeof d->name, &d->name_len, b, m, &over);
		if (over)
			d->name_long = true;
		return m;
	}
	if (d->kind == FIELD_PASSWORD) {
		d->value_len = 1;
		return m;
	}
	if (d->kind == FIELD_USER || d->kind == FIELD_DOMAIN || d->kind == FIELD_MAYBE_USER)
		append_some(d->value, sizeof d->value, &d->value_len, b, m, value_long);
	for (size_t done = 0; done < m;) {
		size_t k = m - done < BS_HTTP_FORM_OUT - 2 - *on ? m - done : BS_HTTP_FORM_OUT - 2 - *on;
		memcpy(out + *on, b + done, k);
		*on += k;
		done += k;
		if (*on >= BS_HTTP_FORM_OUT - 2) {
			bs_window_feed(&p->rb.win, out, *on, req_window_cb, sc);
			*on = 0;
		}
	}
	return m;
}

/* application/x-www-form-urlencoded (also a query string): decoded values go
 * to the request's scan window, one field per line. */
static void urlencoded_feed(struct bs_http *p, struct scan_ctx *sc, const char *b, size_t n)
{
	struct bs_http_form_dec *d = &p->rb.dec;
	char out[BS_HTTP_FORM_OUT];
	size_t on = 0;
	bool value_long = false;
	for (size_t i = 0; i < n; i++) {
		if (!d->pct) {
			i += urlencoded_plain(p, sc, b + i, n - i, out, &on, &value_long);
			if (i == n)
				break;
		}
		/* room for the most one byte writes (an invalid escape's two
		 * literal bytes and the byte itself), made before it: a "%" read
		 * without writing must not leave the buffer fuller than that */
		if (on > sizeof out - 3) {
			bs_window_feed(&p->rb.win, out, on, req_window_cb, sc);
			on = 0;
		}
		char ch = b[i];
		if (d->pct) {
			int v = bs_hexval(ch);
			if (v < 0) {
				/* Not an escape: keep the bytes literally. */
				char lit[2] = { '%', (char)d->pct_hi };
				for (int k = 0; k < d->pct; k++) {
					field_byte(d, lit[k], &value_long);
					if (d->in_value && d->kind != FIELD_PASSWORD && on < sizeof out)
						out[on++] = lit[k];
				}
				d->pct = 0;
			} else if (d->pct == 1) {
				d->pct_hi = (uint8_t)ch;
				d->pct = 2;
				continue;
			} else {
				ch = (char)(bs_hexval((char)d->pct_hi) * 16 + v);
				d->pct = 0;
				goto decoded;
			}
		}
		if (ch == '%') {
			d->pct = 1;
			continue;
		}
		if (ch == '&') {
			field_end(p, d, value_long);
			value_long = false;
			if (on < sizeof out)
				out[on++] = '\n';
			goto flush_check;
		}
		if (ch == '=' && !d->in_value) {
			field_start_value(d, !p->rb.have_user && !p->rb.user_by_value);
			continue;
		}
		if (ch == '+')
			ch = ' ';
decoded:
		field_byte(d, ch, &value_long);
		if (d->in_value && d->kind != FIELD_PASSWORD && on < sizeof out)
			out[on++] = ch;
flush_check:
		if (on >= sizeof out - 2) {
			bs_window_feed(&p->rb.win, out, on, req_window_cb, sc);
			on = 0;
		}
	}
	if (value_long)
		p->count.field_truncated++;
	if (on)
		bs_window_feed(&p->rb.win, out, on, req_window_cb, sc);
}

static void urlencoded_end(struct bs_http *p, struct scan_ctx *sc)
{
	struct bs_http_form_dec *d = &p->rb.dec;
	if (d->pct) {
		/* a dangling "%" or "%4" at the end is literal */
		bool value_long = false;
		char lit[2] = { '%', (char)d->pct_hi };
		for (int k = 0; k < d->pct; k++)
			field_byte(d, lit[k], &value_long);
		d->pct = 0;
	}
	if (d->in_value || d->name_len)
		field_end(p, d, false);
	bs_window_feed(&p->rb.win, "\n", 1, req_window_cb, sc);
}

/* --- multipart/form-data */

static bs_str header_param(bs_str v, const char *name)
{
	size_t nn = strlen(name);
	for (size_t i = 0; i + nn < v.n; i++) {
		if (!bs_str_istarts(bs_str_make(v.p + i, v.n - i), name))
			continue;
		if (i > 0 && !(is_ows(v.p[i - 1]) || v.p[i - 1] == ';'))
			continue;
		size_t j = i + nn;
		while (j < v.n && is_ows(v.p[j]))
			j++;
		if (j >= v.n || v.p[j] != '=')
			continue;
		j++;
		while (j < v.n && is_ows(v.p[j]))
			j++;
		if (j < v.n && v.p[j] == '"') {
			size_t k = j + 1;
			while (k < v.n && v.p[k] != '"')
				k++;
			return bs_str_make(v.p + j + 1, k - j - 1);
		}
		size_t k = j;
		while (k < v.n && v.p[k] != ';' && !is_ows(v.p[k]))
			k++;
		return bs_str_make(v.p + j, k - j);
	}
	return BS_STR_NULL;
}

static void mp_part_header(struct bs_http *p, const char *line, size_t n)
{
	struct bs_http_reqbody *rb = &p->rb;
	bs_str l = bs_str_make(line, n);
	if (!bs_str_istarts(l, "content-disposition:"))
		return;
	bs_str v = trim(line + 20, n - 20);
	bs_str name = header_param(v, "name");
	bs_str file = header_param(v, "filename");
	if (name.p) {
		size_t k = name.n < sizeof rb->part_name ? name.n : sizeof rb->part_name;
		memcpy(rb->part_name, name.p, k);
		rb->part_name_len = k;
		rb->part_name_long = name.n > sizeof rb->part_name;
	}
	if (file.p) {
		rb->part_is_file = true;
		/* browsers of the time sent the client's full path: keep the base name */
		for (size_t i = file.n; i-- > 0;)
			if (file.p[i] == '\\' || file.p[i] == '/') {
				file.p += i + 1;
				file.n -= i + 1;
				break;
			}
		size_t k = file.n < sizeof rb->part_file ? file.n : sizeof rb->part_file;
		memcpy(rb->part_file, file.p, k);
		rb->part_file_len = k;
	}
}

static void mp_part_begin(struct bs_http *p)
{
	struct bs_http_reqbody *rb = &p->rb;
	rb->part_is_file = false;
	rb->part_name_long = false;
	rb->part_name_len = 0;
	rb->part_file_len = 0;
	rb->part_size = 0;
	rb->mp_line_len = 0;
}

/* A gzip file a body or file part was: counted with its stops. */
static void gz_count(struct bs_http *p, const struct bs_gzfile *g)
{
	p->count.gzip_files += g->gzip;
	p->count.bombs += g->capped;
	p->count.inflate_errors += g->damaged;
}

/* The request's scan window fed from its gzip file decoder. */
static void gz_req_out(void *ctx, const char *b, size_t n)
{
	struct scan_ctx *sc = ctx;
	bs_window_feed(&sc->h->rb.win, b, n, req_window_cb, sc);
}

/* The end of a request body's (or file part's) gzip file decoder. */
static void gz_req_end(struct bs_http *p, struct scan_ctx *sc)
{
	struct bs_gzfile *g = &p->rb.gz;
	gz_count(p, g);
	bs_gzfile_end(g, gz_req_out, sc);
	bs_gzfile_init(g, BS_HTTP_INFLATE_MAX);
}

static void mp_content_start(struct bs_http *p)
{
	struct bs_http_reqbody *rb = &p->rb;
	struct bs_http_form_dec *d = &rb->dec;
	d->name_len = 0;
	d->name_long = rb->part_name_long;
	if (!rb->part_is_file) {
		memcpy(d->name, rb->part_name, rb->part_name_len);
		d->name_len = rb->part_name_len;
	}
	field_start_value(d, !rb->have_user && !rb->user_by_value);
	if (rb->part_is_file)
		d->kind = FIELD_OTHER;
}

static void mp_content(struct bs_http *p, struct scan_ctx *sc, const char *b, size_t n)
{
	struct bs_http_reqbody *rb = &p->rb;
	if (!n)
		return;
	rb->part_size += n;
	bool value_long = false;
	if (!rb->part_is_file && rb->dec.kind != FIELD_OTHER)
		for (size_t i = 0; i < n; i++)
			field_byte(&rb->dec, b[i], &value_long);
	if (rb->part_is_file)
		bs_gzfile_feed(&rb->gz, (const uint8_t *)b, n, gz_req_out, sc);
	else if (rb->dec.kind != FIELD_PASSWORD)
		bs_window_feed(&rb->win, b, n, req_window_cb, sc);
}

static void mp_part_end(struct bs_http *p, struct bs_proto_ctx *c, struct scan_ctx *sc)
{
	struct bs_http_reqbody *rb = &p->rb;
	if (rb->part_is_file) {
		gz_req_end(p, sc);
		p->count.uploads++;
		if (!p->cur.upload_len && rb->part_file_len) {
			memcpy(p->cur.upload, rb->part_file, rb->part_file_len);
			p->cur.upload_len = (uint16_t)rb->part_file_len;
		}
		struct bs_event ev;
		bs_proto_event(c, &ev, BS_EV_FILEXFER);
		ev.u.xfer.proto = BS_STR_LIT("http");
		ev.u.xfer.upload = true;
		ev.u.xfer.filename = bs_str_make(rb->part_file, rb->part_file_len);
		ev.u.xfer.size = rb->part_size;
		ev.u.xfer.user = bs_str_make(p->cur.user, p->cur.user_len);
		bs_emit(c->sink, &ev);
	}
	field_end(p, &rb->dec, false);
	bs_window_feed(&rb->win, "\n", 1, req_window_cb, sc);
}

static void multipart_feed(struct bs_http *p, struct bs_proto_ctx *c, struct scan_ctx *sc,
                           const char *b, size_t n)
{
	struct bs_http_reqbody *rb = &p->rb;
	/* delimiter: CRLF "--" boundary; the body start counts as after a CRLF */
	char delim[4 + sizeof rb->boundary];
	size_t dl = 4 + rb->boundary_len;
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, rb->boundary, rb->boundary_len);

	size_t i = 0;
	while (i < n) {
		switch (rb->mp_state) {
		case MP_PREAMBLE:
		case MP_PART_BODY: {
			size_t run = i;
			bool in_body = rb->mp_state == MP_PART_BODY;
			while (i < n) {
				char ch = b[i];
				if (ch == delim[rb->delim_match]) {
					if (rb->delim_match == 0 && in_body)
						mp_content(p, sc, b + run, i - run);
					rb->delim_match++;
					i++;
					if (rb->delim_match == dl) {
						rb->delim_match = 0;
						if (in_body)
							mp_part_end(p, c, sc);
						rb->mp_state = MP_AFTER_DELIM;
						rb->mp_line_len = 0;
						break;
					}
					continue;
				}
				if (rb->delim_match) {
					/* a false start: what matched was content */
					if (in_body)
						mp_content(p, sc, delim, rb->delim_match);
					rb->delim_match = 0;
					run = i;
					continue; /* this byte again, from delimiter position 0 */
				}
				i++;
			}
			if (i == n && rb->mp_state != MP_AFTER_DELIM && rb->delim_match == 0 && in_body)
				mp_content(p, sc, b + run, i - run);
			break;
		}
		case MP_AFTER_DELIM: {
			/* "--" closes the body; otherwise padding up to LF opens a part */
			char ch = b[i++];
			if (rb->mp_line_len == 0 && ch == '-') {
				rb->mp_line_len = 1;
			} else if (rb->mp_line_len == 1 && ch == '-') {
				rb->mp_state = MP_EPILOGUE;
			} else if (ch == '\n') {
				mp_part_begin(p);
				rb->mp_state = MP_PART_HEADERS;
			} else {
				rb->mp_line_len = 2;
			}
			break;
		}
		case MP_PART_HEADERS: {
			const char *lf = memchr(b + i, '\n', n - i);
			size_t take = (lf ? (size_t)(lf - (b + i)) : n - i);
			size_t room = sizeof rb->mp_line - rb->mp_line_len;
			memcpy(rb->mp_line + rb->mp_line_len, b + i, take < room ? take : room);
			rb->mp_line_len += take < room ? take : room;
			i += take;
			if (!lf)
				break;
			i++;
			bs_str line = trim(rb->mp_line, rb->mp_line_len);
			rb->mp_line_len = 0;
			if (line.n == 0) {
				rb->mp_state = MP_PART_BODY;
				rb->delim_match = 0;
				mp_content_start(p);
			} else {
				mp_part_header(p, line.p, line.n);
			}
			break;
		}
		default:
			i = n; /* epilogue */
			break;
		}
	}
}

/* ------------------------------------------------------------------ request */

/* A string member of a JSON request body: a login's user, password or
 * domain by the member's name, as a form field's (SOGo posts userName and
 * password, Tine 2.0 params.username and params.password). */
static void json_member(void *ctx, const char *name, size_t name_len, bool name_long, const char *value,
                        size_t value_len, bool value_long, bool literal)
{
	struct bs_http *p = ctx;
	if (literal) /* a user or password is a string */
		return;
	struct bs_http_reqbody *rb = &p->rb;
	enum field_kind kind = name_long ? FIELD_OTHER : field_kind(name, name_len);
	if (kind == FIELD_USER || kind == FIELD_OTHER) {
		note_user(p, kind, value, value_len, value_long);
	} else if (kind == FIELD_PASSWORD && value_len) {
		rb->have_password = true;
	} else if (kind == FIELD_DOMAIN && value_len && !rb->domain_len && value_len <= sizeof rb->domain) {
		memcpy(rb->domain, value, value_len);
		rb->domain_len = value_len;
	}
}

static void request_body(struct bs_http *p, struct bs_proto_ctx *c, const uint8_t *b, size_t n)
{
	struct scan_ctx sc = { p, c, BS_ADDR_HTTP_REQ_BODY, p->cur.txn_id, false };
	p->cur.body_len += n;
	switch (p->rb.form) {
	case BS_HTTP_FORM_URLENCODED:
		urlencoded_feed(p, &sc, (const char *)b, n);
		break;
	case BS_HTTP_FORM_MULTIPART:
		multipart_feed(p, c, &sc, (const char *)b, n);
		break;
	case BS_HTTP_FORM_JSON:
		bs_jsonkv_feed(&p->rb.json, (const char *)b, n, json_member, p);
		bs_window_feed(&p->rb.win, (const char *)b, n, req_window_cb, &sc);
		break;
	default:
		bs_gzfile_feed(&p->rb.gz, b, n, gz_req_out, &sc);
		break;
	}
}

static void request_done(struct bs_http *p, struct bs_proto_ctx *c)
{
	struct scan_ctx sc = { p, c, BS_ADDR_HTTP_REQ_BODY, p->cur.txn_id, false };
	struct bs_http_reqbody *rb = &p->rb;
	if (rb->form == BS_HTTP_FORM_URLENCODED)
		urlencoded_end(p, &sc);
	else if (rb->form == BS_HTTP_FORM_MULTIPART && rb->mp_state == MP_PART_BODY)
		mp_part_end(p, c, &sc); /* body cut short: keep what we have */
	else if (rb->form == BS_HTTP_FORM_NONE)
		gz_req_end(p, &sc);
	bs_window_end(&rb->win, req_window_cb, &sc);
	rb->have_user |= rb->user_by_value;
	if (rb->have_user && rb->have_password) {
		p->cur.password_in_clear = true;
		p->cur.login_json = rb->form == BS_HTTP_FORM_JSON;
		p->count.logins++;
		/* @Mail posts "username" and "pop3host" separately */
		if (rb->domain_len && !memchr(p->cur.user, '@', p->cur.user_len) &&
		    p->cur.user_len + 1 + rb->domain_len <= sizeof p->cur.user) {
			p->cur.user[p->cur.user_len] = '@';
			memcpy(p->cur.user + p->cur.user_len + 1, rb->domain, rb->domain_len);
			p->cur.user_len = (uint16_t)(p->cur.user_len + 1 + rb->domain_len);
		}
	} else if (!rb->have_password) {
		p->cur.user_len = 0; /* a user field alone (a search box) is no login */
		p->cur.login_basic = false;
	}
	emit_request(p, c, &p->cur);
	pending_push(p, c, &p->cur);
	p->cur_active = false;
	p->dir[0].state = BS_HTTP_S_START;
	p->dir[0].smuggle_next = p->dir[0].ambiguous;
}

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') ||
		(ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* The method token at the start of l, followed by a space: its length, or
 * 0. Any method of the list; another token (CCM_POST, QUERY, M-SEARCH)
 * when it looks like one: an upper-case letter, then upper-case letters,
 * digits, '_', '-' or '.', at most 15 bytes. */
static size_t method_token(const char *l, size_t n, bool *known)
{
	size_t k = 0;
	while (k < n && k < 16 && is_tchar((unsigned char)l[k]))
		k++;
	if (k == 0 || k > 15 || k >= n || l[k] != ' ')
		return 0;
	*known = false;
	for (size_t i = 0; methods[i].name && !*known; i++)
		*known = methods[i].len == k && methods[i].name[0] == l[0] && memcmp(l, methods[i].name, k) == 0;
	if (*known)
		return k;
	if (l[0] < 'A' || l[0] > 'Z')
		return 0;
	for (size_t i = 1; i < k; i++)
		if (!((l[i] >= 'A' && l[i] <= 'Z') || is_digit(l[i]) || l[i] == '_' || l[i] == '-' || l[i] == '.'))
			return 0;
	return k;
}

/* "HTTP/d.d", the protocol name in either case. */
static bool is_version(const char *v, size_t n)
{
	return n == 8 && bs_str_istarts(bs_str_make(v, n), "http/") && is_digit(v[5]) && v[6] == '.' &&
		is_digit(v[7]);
}

struct reqline {
	bs_str method, uri;
	size_t skip;        /* junk bytes before the method, in the line */
	uint32_t anomalies; /* BS_HTTP_AN_HTTP09, _BAD_VERSION, _NO_URI */
};

/* "METHOD SP request-target SP HTTP/d.d". A line cut by the line cap keeps
 * its method and the start of its target. lenient (a line where a request
 * is expected, not after a gap) also takes, for a method of the list, a
 * malformed version ("GET / HTTP/1."), no target ("GET HTTP/1.1") and,
 * for GET, HTTP/0.9 ("GET /path"), each flagged. */
static bool parse_request_at(const char *l, size_t n, bool cut, bool lenient, struct reqline *rl)
{
	bool known;
	size_t mlen = method_token(l, n, &known);
	if (!mlen)
		return false;
	lenient = lenient && known;
	size_t u = mlen + 1;
	while (u < n && l[u] == ' ')
		u++;
	size_t e = n;
	while (e > u && l[e - 1] == ' ')
		e--;
	if (e <= u)
		return false; /* a method alone */
	size_t sp = e;
	while (sp > u && l[sp - 1] != ' ')
		sp--;
	uint32_t an = 0;
	if (is_version(l + sp, e - sp) || (lenient && bs_str_istarts(bs_str_make(l + sp, e - sp), "http/"))) {
		if (!is_version(l + sp, e - sp))
			an |= BS_HTTP_AN_BAD_VERSION;
		e = sp;
		while (e > u && l[e - 1] == ' ')
			e--;
	} else if (!cut) {
		if (!(lenient && sp == u && l[u] == '/' && mlen == 3 && memcmp(l, "GET", 3) == 0))
			return false;
		an |= BS_HTTP_AN_HTTP09;
	}
	if (e <= u) {
		if (!lenient)
			return false;
		an |= BS_HTTP_AN_NO_URI;
	}
	for (size_t i = u; i < e; i++)
		if ((unsigned char)l[i] < 0x21 && !(cut && l[i] == ' '))
			return false;
	rl->method = bs_str_make(l, mlen);
	rl->uri = bs_str_make(l + u, e > u ? e - u : 0);
	rl->anomalies = an;
	rl->skip = 0;
	return true;
}

/* A request line, or one with junk before it ("\0\0\0\0GET / HTTP/1.1"):
 * then a method of the list, with its whole version, is looked for in the
 * line. */
static bool parse_request_line(const char *l, size_t n, bool cut, bool lenient, struct reqline *rl)
{
	if (parse_request_at(l, n, cut, lenient, rl))
		return true;
	if (!bs_memmem_ci(l, n, " http/", 6))
		return false;
	for (size_t k = 1; k + 4 < n; k++) {
		bool known;
		if (l[k] < 'A' || l[k] > 'Z' || !method_token(l + k, n - k, &known) || !known)
			continue;
		if (parse_request_at(l + k, n - k, cut, false, rl)) {
			rl->skip = k;
			return true;
		}
	}
	return false;
}

static void reqbody_reset(struct bs_http_reqbody *rb)
{
	rb->form = BS_HTTP_FORM_NONE;
	rb->have_user = rb->have_password = rb->user_by_value = false;
	rb->domain_len = 0;
	memset(&rb->dec, 0, offsetof(struct bs_http_form_dec, name));
	rb->boundary_len = 0;
	rb->delim_match = 2; /* the body start counts as a CRLF */
	rb->mp_state = MP_PREAMBLE;
	rb->mp_line_len = 0;
	bs_window_reset(&rb->win);
	bs_gzfile_drop(&rb->gz); /* a body cut short: its decoder's state goes */
	bs_gzfile_init(&rb->gz, BS_HTTP_INFLATE_MAX);
}

static void request_start(struct bs_http *p, struct bs_proto_ctx *c, const struct reqline *rl)
{
	struct bs_http_req *r = &p->cur;
	bs_str method = rl->method, uri = rl->uri;
	memset(r, 0, offsetof(struct bs_http_req, method)); /* every number and length */
	r->txn_id = (c->flow_id << 16) | (uint64_t)(++p->seq & 0xffff);
	r->ts = c->ts;
	r->pktno = c->pktno;
	r->anomalies = rl->anomalies;
	r->http09 = rl->anomalies & BS_HTTP_AN_HTTP09;
	if (r->http09)
		p->count.http09++;
	memcpy(r->method, method.p, method.n); /* <= 15 bytes: method_token() */
	r->method_len = (uint16_t)method.n;
	r->head = bs_str_eq(method, "HEAD");
	r->connect = bs_str_eq(method, "CONNECT");
	if (uri.n > BS_HTTP_URI_MAX || p->dir[0].line_long) {
		size_t k = uri.n > BS_HTTP_URI_MAX - 3 ? BS_HTTP_URI_MAX - 3 : uri.n;
		memcpy(r->uri, uri.p, k);
		memcpy(r->uri + k, "...", 3);
		r->uri_len = (uint16_t)(k + 3);
		p->count.uri_truncated++;
	} else {
		memcpy(r->uri, uri.p, uri.n);
		r->uri_len = (uint16_t)uri.n;
	}
	p->cur_active = true;
	reqbody_reset(&p->rb);
	/* A login by GET, or addresses in the query string, count as form values. */
	const char *q = uri.n ? memchr(uri.p, '?', uri.n) : NULL;
	if (q) {
		struct scan_ctx sc = { p, c, BS_ADDR_HTTP_REQ_BODY, r->txn_id, false };
		urlencoded_feed(p, &sc, q + 1, (size_t)(uri.p + uri.n - q - 1));
		urlencoded_end(p, &sc);
		memset(&p->rb.dec, 0, offsetof(struct bs_http_form_dec, name));
	}
}

/* ------------------------------------------------------------------ response body */

static bool within_tag_attr(const char *t, size_t tn, const char *attr, bs_str *val)
{
	size_t an = strlen(attr);
	for (size_t i = 1; i + an < tn; i++) {
		if (!(is_ows(t[i - 1]) || t[i - 1] == '\n' || t[i - 1] == '\r' || t[i - 1] == '"' || t[i - 1] == '\''))
			continue;
		if (!bs_str_istarts(bs_str_make(t + i, tn - i), attr))
			continue;
		size_t j = i + an;
		while (j < tn && is_ows(t[j]))
			j++;
		if (j >= tn || t[j] != '=')
			continue;
		j++;
		while (j < tn && is_ows(t[j]))
			j++;
		if (j >= tn)
			return false;
		if (t[j] == '"' || t[j] == '\'') {
			const char *e = memchr(t + j + 1, t[j], tn - j - 1);
			if (!e)
				return false;
			*val = bs_str_make(t + j + 1, (size_t)(e - (t + j + 1)));
		} else {
			size_t k = j;
			while (k < tn && !is_ows(t[k]) && t[k] != '>')
				k++;
			*val = bs_str_make(t + j, k - j);
		}
		return true;
	}
	return false;
}

/* Bytes of a decoding call kept in the tag of what its text referenced:
 * enough to find it in the page's file, room left for the tag itself. */
#define REF_VIA_MAX 48

/* The host part of an absolute or protocol-relative URL. */
static bs_str url_host(bs_str u)
{
	const char *s = memchr(u.p, '/', u.n);
	size_t i = s && (size_t)(s - u.p) + 1 < u.n && s[1] == '/' ? (size_t)(s - u.p) + 2 : u.n, j = i;
	while (j < u.n && u.p[j] != '/' && u.p[j] != '?' && u.p[j] != '#' && u.p[j] != '\\')
		j++;
	return bs_str_make(u.p + i, j - i);
}

/* A weak reference (a link) to the host of a reference already kept adds
 * nothing: the engine judges hosts, and a page's many links to one site
 * would take the slots. */
static bool host_kept(const struct bs_http_resp *rs, bs_str u)
{
	bs_str h = url_host(u);
	for (size_t i = 0; i < rs->nrefs; i++) {
		bs_str k = url_host(bs_str_make(rs->ref_pool + rs->ref_off[i], rs->ref_len[i]));
		size_t j = 0;
		while (k.n == h.n && j < h.n && bs_ascii_lower((unsigned char)k.p[j]) == bs_ascii_lower((unsigned char)h.p[j]))
			j++;
		if (k.n == h.n && j == h.n)
			return true;
	}
	return false;
}

/* A reference u, carried by the tag or call tag (kept cut to
 * BS_HTTP_REF_TAG_MAX); weak: a link (<a href>) or a URL a script holds in
 * a variable, which the engine counts only when many visitors were served
 * it (a message's link, per-user data, reach one reader). Weak references
 * leave WEAK_SLOTS_LEFT slots to what loads or opens by itself; past their
 * share, a new one takes the latest weak one's slot. */
#define WEAK_SLOTS_LEFT 2
static void add_ref(struct bs_http *p, bs_str u, bs_str tag, bool weak)
{
	struct bs_http_resp *rs = &p->resp;
	weak |= p->ref_weak_text;
	u = trim(u.p, u.n);
	while (u.n && (u.p[0] == '\'' || u.p[0] == '"')) {
		u.p++;
		u.n--;
	}
	while (u.n && (u.p[u.n - 1] == '\'' || u.p[u.n - 1] == '"'))
		u.n--;
	bool absolute = bs_str_istarts(u, "http://") || bs_str_istarts(u, "https://") ||
		(u.n > 2 && u.p[0] == '/' && u.p[1] == '/' && u.p[2] != '/');
	if (!absolute || u.n > BS_HTTP_REF_MAX)
		return;
	/* a host after the "//" (not a scheme alone: var h = "http://" of a URL
	 * built from parts) */
	const char *host = (const char *)memchr(u.p, '/', u.n) + 2;
	if (host >= u.p + u.n || *host == '/' || *host == '?' || *host == '#' || is_ows(*host))
		return;
	if (weak) { /* a variable's "http://ev" of a URL built from parts: a host of one label is none outside */
		size_t hl = 0;
		while (host + hl < u.p + u.n && host[hl] != '/' && host[hl] != '?' && host[hl] != '#' && host[hl] != ':')
			hl++;
		if (!memchr(host, '.', hl) && host[0] != '[')
			return;
	}
	for (size_t i = 0; i < rs->nrefs; i++)
		if (rs->ref_len[i] == u.n && memcmp(rs->ref_pool + rs->ref_off[i], u.p, u.n) == 0)
			return;
	if (weak && host_kept(rs, u))
		return;
	size_t slot = rs->nrefs;
	if (weak && rs->ref_weak && (rs->nrefs >= BS_HTTP_MAX_REFS - WEAK_SLOTS_LEFT)) {
		/* The weak slots are full: the latest weak reference gives way.
		 * Code injected before </body> comes after the page's own links,
		 * so the first ones and the last are kept. */
		slot = 31 - (size_t)__builtin_clz(rs->ref_weak);
		p->count.refs_dropped++;
	} else if (rs->nrefs == BS_HTTP_MAX_REFS || (weak && rs->nrefs >= BS_HTTP_MAX_REFS - WEAK_SLOTS_LEFT)) {
		p->count.refs_dropped++;
		return;
	}
	if (rs->ref_pool_len + u.n > sizeof rs->ref_pool) {
		p->count.refs_dropped++;
		return;
	}
	memcpy(rs->ref_pool + rs->ref_pool_len, u.p, u.n);
	rs->ref_off[slot] = (uint16_t)rs->ref_pool_len;
	rs->ref_len[slot] = (uint16_t)u.n;
	rs->ref_pool_len += u.n;
	char *t = rs->ref_tag[slot];
	size_t tn = 0;
	if (p->ref_via.n) { /* found in decoded text: "document.write(unescape("%3C... => <script src=...>" */
		static const char arrow[] = "... => ";
		tn = p->ref_via.n < REF_VIA_MAX ? p->ref_via.n : REF_VIA_MAX;
		memcpy(t, p->ref_via.p, tn);
		memcpy(t + tn, arrow, sizeof arrow - 1);
		tn += sizeof arrow - 1;
	}
	size_t k = tag.n < BS_HTTP_REF_TAG_MAX - tn ? tag.n : BS_HTTP_REF_TAG_MAX - tn;
	memcpy(t + tn, tag.p, k);
	rs->ref_tag_len[slot] = (uint8_t)(tn + k);
	if (slot < rs->nrefs)
		return;
	if (weak)
		rs->ref_weak |= (uint8_t)(1u << rs->nrefs);
	rs->nrefs++;
}

/* A tag starting at w[at]: its extent up to '>' (bounded), or 0 if not in the window. */
static size_t tag_extent(const char *w, size_t n, size_t at)
{
	size_t lim = n - at > 2048 ? at + 2048 : n;
	const char *gt = memchr(w + at, '>', lim - at);
	return gt ? (size_t)(gt - (w + at)) + 1 : 0;
}

/* JS call or assignment target: after the pattern, optional spaces, then
 * the opener ('(' or '='), then a quoted string. Returns the end of the string
 * (after its closing quote) or 0. */
static size_t js_string(const char *w, size_t n, size_t j, char opener, bs_str *val)
{
	while (j < n && is_ows(w[j]))
		j++;
	if (j >= n || w[j] != opener)
		return 0;
	j++;
	if (opener == '=' && j < n && w[j] == '=')
		return 0; /* a comparison */
	while (j < n && is_ows(w[j]))
		j++;
	if (j >= n || (w[j] != '"' && w[j] != '\'' && w[j] != '`'))
		return 0;
	size_t lim = n - j > BS_HTTP_REF_MAX + 2 ? j + BS_HTTP_REF_MAX + 2 : n;
	const char *e = memchr(w + j + 1, w[j], lim - j - 1);
	if (!e)
		return 0;
	*val = bs_str_make(w + j + 1, (size_t)(e - (w + j + 1)));
	return (size_t)(e - w) + 1;
}

/* An attribute's value as the browser reads it (character references
 * decoded: an iframe's src written &#104;&#116;&#116;&#112;...), then as a
 * URL parser does (tabs and line breaks dropped). */
static void add_attr_ref(struct bs_http *p, bs_str v, bs_str tag, bool weak)
{
	if (!memchr(v.p, '&', v.n) && !memchr(v.p, '\t', v.n) && !memchr(v.p, '\n', v.n) && !memchr(v.p, '\r', v.n)) {
		add_ref(p, v, tag, weak);
		return;
	}
	char buf[BS_HTTP_REF_MAX + 1];
	size_t k = bs_html_attr_decode(v.p, v.n, buf, sizeof buf), m = 0;
	for (size_t i = 0; i < k; i++)
		if (buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
			buf[m++] = buf[i];
	add_ref(p, bs_str_make(buf, m), tag, weak);
}

/* The usual link, `<a href="/path">` or `<a href="page.php">`, told at
 * once: its value, right after `<a href=` and a quote, starts neither with
 * "//", "http" nor a character reference. Others take the whole check. */
static bool relative_link(const char *w, size_t n, size_t at)
{
	size_t v = at + 8;
	if (v + 4 > n || !bs_mem_ieq_lower(w + at + 3, "href=", 5))
		return false;
	if (w[v] == '"' || w[v] == '\'')
		v++;
	if (v + 4 > n)
		return false;
	if (w[v] == '/')
		return w[v + 1] != '/';
	return w[v] != '&' && !bs_mem_ieq_lower(w + v, "http", 4) && w[v] != ' ' && w[v] != '\t' &&
		w[v] != '\n' && w[v] != '\r';
}

/* "//" in t (glibc's memmem costs some 300 instructions of setup a call). */
static bool has_two_slashes(bs_str t)
{
	const char *end = t.p + t.n;
	for (const char *s = memchr(t.p, '/', t.n); s && s + 1 < end; s = memchr(s + 1, '/', (size_t)(end - s - 1)))
		if (s[1] == '/')
			return true;
	return false;
}

/* A tag's reference: the attribute named (src, an <object>'s data, an
 * <a>'s href: a link), or with attr NULL a meta refresh's URL. */
static void tag_ref(struct bs_http *p, const char *w, size_t n, size_t fresh, size_t at, size_t tl, const char *attr)
{
	if (at + tl < n && !is_ows(w[at + tl]) && w[at + tl] != '\n' && w[at + tl] != '\r')
		return; /* <scripts>, <frameset> */
	if (attr && attr[0] == 'h' && relative_link(w, n, at))
		return;
	size_t ext = tag_extent(w, n, at);
	if (!ext || at + ext <= fresh)
		return;
	bs_str tag = bs_str_make(w + at, ext), v;
	/* A page has many links, most within the site: one without "//" (nor a
	 * character reference that could spell it) is not absolute. */
	if (attr && attr[0] == 'h' && !has_two_slashes(tag) && !memchr(tag.p, '&', tag.n))
		return;
	if (attr) {
		if (within_tag_attr(tag.p, tag.n, attr, &v))
			add_attr_ref(p, v, tag, attr[0] == 'h');
	} else if (bs_memmem_ci(tag.p, tag.n, "http-equiv", 10) &&
	           bs_memmem_ci(tag.p, tag.n, "refresh", 7) &&
	           within_tag_attr(tag.p, tag.n, "content", &v)) {
		const char *u = bs_memmem_ci(v.p, v.n, "url", 3);
		if (u) {
			size_t k = (size_t)(u - v.p) + 3;
			while (k < v.n && is_ows(v.p[k]))
				k++;
			if (k < v.n && v.p[k] == '=')
				add_attr_ref(p, bs_str_make(v.p + k + 1, v.n - k - 1), tag, false);
		}
	}
}

/* Can a reference pattern start at w[0]: its first three bytes those of
 * one, letters in either case? Tags "<sc" "<if" "<fr" "<me" "<em" "<ob",
 * "<ap", "<a" and a blank; script calls
 * and assignments "loc" "win" "doc" "eva" ".sr" ".in" "var"; decoders
 * "une" "ato" ".fr". */
static inline bool ref_start(const char *w)
{
	char c2 = (char)(w[1] | 0x20), c3 = (char)(w[2] | 0x20);
	switch (w[0]) {
	case '<':
		return (c2 == 's' && c3 == 'c') || (c2 == 'i' && c3 == 'f') || (c2 == 'f' && c3 == 'r') ||
			(c2 == 'm' && c3 == 'e') || (c2 == 'e' && c3 == 'm') || (c2 == 'o' && c3 == 'b') ||
			(c2 == 'a' && (w[2] == ' ' || w[2] == '\t' || w[2] == '\n' || w[2] == '\r' || c3 == 'p'));
	case '.':
		return (c2 == 's' && c3 == 'r') || (c2 == 'i' && c3 == 'n') || (c2 == 'f' && c3 == 'r');
	case 'l':
	case 'L':
	case 'd':
	case 'D':
		return c2 == 'o' && c3 == 'c';
	case 'w':
	case 'W':
		return c2 == 'i' && c3 == 'n';
	case 'e':
	case 'E':
		return c2 == 'v' && c3 == 'a';
	case 'u':
	case 'U':
		return c2 == 'n' && c3 == 'e';
	case 'a':
	case 'A':
		return c2 == 't' && c3 == 'o';
	case 'v':
	case 'V':
		return c2 == 'a' && c3 == 'r';
	default:
		return false;
	}
}

/* The places of a vector whose first two bytes may start a pattern (a
 * superset of ref_start(), the pairs exact, the third byte left to it).
 * x | 0x20 is a lower-case letter only for that letter in either case;
 * '<' and '.' are compared as they are. The SSE2 path's; the AVX2 one
 * looks the pairs up in nibble tables (next_ref_start_avx2). */
#define REF_PAIRS(EQ, OR, AND)                                                                   \
	OR(OR(OR(AND(EQ(v, '<'), OR(OR(sif, EQ(l2, 'm')), OR(OR(EQ(l2, 'e'), EQ(l2, 'o')), EQ(l2, 'a')))),          \
	         AND(EQ(v, '.'), sif)),                                                                           \
	      OR(AND(OR(EQ(l1, 'l'), EQ(l1, 'd')), EQ(l2, 'o')), AND(EQ(l1, 'w'), EQ(l2, 'i')))),      \
	   OR(OR(AND(EQ(l1, 'e'), EQ(l2, 'v')), AND(EQ(l1, 'u'), EQ(l2, 'n'))),                          \
	      OR(AND(EQ(l1, 'a'), EQ(l2, 't')), AND(EQ(l1, 'v'), EQ(l2, 'a')))))

#ifdef __SSE2__
static unsigned ref_pairs16(const char *w)
{
#define EQ(v, ch) _mm_cmpeq_epi8((v), _mm_set1_epi8(ch))
	const __m128i lower = _mm_set1_epi8(0x20);
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)w);
	__m128i l2 = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(w + 1)), lower);
	__m128i l1 = _mm_or_si128(v, lower);
	__m128i sif = _mm_or_si128(_mm_or_si128(EQ(l2, 's'), EQ(l2, 'i')), EQ(l2, 'f'));
	__m128i m = REF_PAIRS(EQ, _mm_or_si128, _mm_and_si128);
#undef EQ
	return (unsigned)_mm_movemask_epi8(m);
}
#endif

bool bs_http_avx2_off;

#ifdef AVX2_DISPATCH
/* The pairs by table instead of compares: a bit per kind of pair (0 '<'
 * then s i f m e o a; 1 '.' then s i f; 2 l or d then o; 3 w i; 4 e v; 5 u n;
 * 6 a t; 7 v a). A byte's kinds as a first byte are those of its low nibble and of
 * its high nibble (exact for these bytes), as a second byte nearly so (a
 * few more: "<c" "<u" "<v" "<y" "<}" ..., left to ref_start()); a place is a
 * candidate when the two share a kind. Both bytes lower-cased by | 0x20
 * ('<' and '.' have that bit already). */
#define NIB16(...) _mm256_setr_epi8(__VA_ARGS__, __VA_ARGS__)
/* the kinds' bits, as the char _mm256_setr_epi8 takes (K7 is 0x80) */
#define K0 ((char)0x01)
#define K1 ((char)0x02)
#define K2 ((char)0x04)
#define K3 ((char)0x08)
#define K4 ((char)0x10)
#define K5 ((char)0x20)
#define K6 ((char)0x40)
#define K7 ((char)(unsigned char)0x80)
__attribute__((target("avx2"))) static inline __m256i nibble_kinds(__m256i x, __m256i lo_tab, __m256i hi_tab)
{
	const __m256i nib = _mm256_set1_epi8(0x0f);
	return _mm256_and_si256(_mm256_shuffle_epi8(lo_tab, _mm256_and_si256(x, nib)),
	                        _mm256_shuffle_epi8(hi_tab, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib)));
}

/* The first place from at whose three bytes start a pattern, 32 places at
 * a time: the position found, or where it stopped (*found false). */
__attribute__((target("avx2"))) static size_t next_ref_start_avx2(const char *w, size_t at, size_t n, bool *found)
{
	const __m256i first_lo = NIB16(0, K6, 0, 0, K2, K4 | K5, K7, K3, 0, 0, 0, 0, K0 | K2, 0, K1, 0);
	const __m256i first_hi = NIB16(0, 0, K1, K0, 0, 0, K2 | K4 | K6, K3 | K5 | K7, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i second_lo = NIB16(0, K0 | K7, 0, K0 | K1, K6, K0, K0 | K1 | K4, 0, 0, K0 | K1 | K3, 0, 0, 0, K0,
	                                 K5, K2 | K0);
	const __m256i second_hi = NIB16(0, 0, 0, 0, 0, 0, K0 | K1 | K2 | K3 | K5 | K7, K0 | K1 | K4 | K6, 0, 0, 0, 0, 0,
	                                 0, 0, 0);
	const __m256i lower = _mm256_set1_epi8(0x20), zero = _mm256_setzero_si256();
	for (; at + 34 <= n; at += 32) {
		__m256i l1 = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(const void *)(w + at)), lower);
		__m256i l2 = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(const void *)(w + at + 1)), lower);
		__m256i both = _mm256_and_si256(nibble_kinds(l1, first_lo, first_hi), nibble_kinds(l2, second_lo, second_hi));
		unsigned mask = ~(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(both, zero));
		for (; mask; mask &= mask - 1) {
			size_t k = at + (size_t)__builtin_ctz(mask);
			if (ref_start(w + k)) {
				*found = true;
				return k;
			}
		}
	}
	return at;
}
#undef NIB16
#undef K0
#undef K1
#undef K2
#undef K3
#undef K4
#undef K5
#undef K6
#undef K7
#endif

size_t bs_http_next_ref_start(const char *w, size_t at, size_t n)
{
#ifdef AVX2_DISPATCH
	if (!bs_http_avx2_off && __builtin_cpu_supports("avx2")) {
		bool found = false;
		at = next_ref_start_avx2(w, at, n, &found);
		if (found)
			return at;
	}
#endif
#ifdef __SSE2__
	for (; at + 18 <= n; at += 16)
		for (unsigned mask = ref_pairs16(w + at); mask; mask &= mask - 1) {
			size_t k = at + (size_t)__builtin_ctz(mask);
			if (ref_start(w + k))
				return k;
		}
#endif
	for (; at + 3 <= n; at++)
		if (ref_start(w + at))
			return at;
	return n;
}

/* What a script pattern's value is: a URL the page sends the visitor to
 * or loads (window.open, location, an element's src), text written into
 * the page (document.write, eval, innerHTML: scanned as page text), or a
 * decoder's result wherever it goes (var u = unescape(...)): both; a
 * variable's value (var u = "http://..."; window.open(u)): both, weak
 * (a page's script may hold URLs it never uses, and per-user data). */
enum js_value { JS_URL, JS_TEXT, JS_DECODED, JS_VAR };

/* The script patterns (ref_start knows their first bytes). */
#define PAT(s) s, sizeof s - 1
static const struct {
	const char *pat;
	size_t len;
	char opener;
	uint8_t kind;   /* enum js_value */
	bool word;      /* not the end of a longer name (medieval(...)) */
} js_patterns[] = {
	{ PAT("window.open"), '(', JS_URL, false }, { PAT("location.href"), '=', JS_URL, false },
	{ PAT("location.replace"), '(', JS_URL, false }, { PAT("location.assign"), '(', JS_URL, false },
	{ PAT("location"), '=', JS_URL, false }, { PAT(".src"), '=', JS_URL, false },
	{ PAT("document.write"), '(', JS_TEXT, false }, { PAT("document.writeln"), '(', JS_TEXT, false },
	{ PAT("eval"), '(', JS_TEXT, true }, { PAT(".innerhtml"), '=', JS_TEXT, false },
	{ PAT("unescape"), 0, JS_DECODED, true }, { PAT("atob"), 0, JS_DECODED, true },
	{ PAT(".fromcharcode"), 0, JS_DECODED, false }, { PAT("var"), '=', JS_VAR, true } };
#undef PAT

/* Decoded text is scanned again, to this depth (eval(atob(...)) whose
 * text is document.write(unescape(...)) is two). */
#define REF_DEPTH_MAX 3

static void scan_refs(struct bs_http *p, const char *w, size_t n, size_t fresh, bool final, int depth);

/* After a call's name or an assignment's target at w[j]: the opener
 * ('(' or '=', "+=" too: innerHTML += '...'), or 0 when it is not there
 * (a comparison "==" is not an assignment). */
static size_t js_opener(const char *w, size_t n, size_t j, char opener)
{
	while (j < n && is_ows(w[j]))
		j++;
	if (opener == '=' && j + 1 < n && w[j] == '+' && w[j + 1] == '=')
		j++;
	if (j >= n || w[j] != opener)
		return 0;
	j++;
	if (opener == '=' && j < n && w[j] == '=')
		return 0;
	return j;
}

/* After "var" at w[j]: blanks, a name (from *name); the index after the
 * name (the opener follows), or 0. */
static size_t var_name_end(const char *w, size_t n, size_t j, size_t *name_at)
{
	size_t k = j;
	while (k < n && (is_ows(w[k]) || w[k] == '\n' || w[k] == '\r'))
		k++;
	if (k == j)
		return 0;
	size_t name = *name_at = k;
	while (k < n && ((w[k] >= 'a' && w[k] <= 'z') || (w[k] >= 'A' && w[k] <= 'Z') || w[k] == '_' || w[k] == '$' ||
	                 (k > name && w[k] >= '0' && w[k] <= '9')))
		k++;
	return k > name && k < n ? k : 0;
}

/* An expression whose start the next window will not hold (it is before
 * that window's overlap) and that did not end in this one: its text from
 * its start is kept, and read again with every window after (expr_again).
 * One at a time; false when none can be kept (then it is taken as a text
 * that ends here, as before). */
static bool expr_start(struct bs_http *p, const char *w, size_t n, size_t at, uint8_t pat)
{
	struct bs_http_resp *rs = &p->resp;
	if (rs->expr_buf || at + BS_WIN_TAIL >= n || n - at >= BS_HTTP_EXPR_MAX)
		return at + BS_WIN_TAIL >= n; /* the next window holds its start: it reads it */
	size_t cap = 2 * (n - at) > BS_HTTP_EXPR_MAX ? BS_HTTP_EXPR_MAX : 2 * (n - at);
	rs->expr_buf = bs_xmalloc(cap);
	rs->expr_cap = (uint32_t)cap;
	rs->expr_len = (uint32_t)(n - at);
	rs->expr_pat = pat;
	memcpy(rs->expr_buf, w + at, n - at);
	return true;
}

static void expr_drop(struct bs_http_resp *rs)
{
	free(rs->expr_buf);
	rs->expr_buf = NULL;
	rs->expr_len = rs->expr_cap = 0;
}

static size_t js_ref(struct bs_http *p, const char *w, size_t n, size_t fresh, bool final, int depth, size_t at,
                     uint8_t pat);

/* A kept expression, with the window's new bytes w[fresh, n) added, read
 * again: kept while it still wants more text, up to BS_HTTP_EXPR_MAX
 * (read then as ending there). */
static void expr_again(struct bs_http *p, const char *w, size_t n, size_t fresh, bool final)
{
	struct bs_http_resp *rs = &p->resp;
	size_t add = n - fresh, room = BS_HTTP_EXPR_MAX - rs->expr_len;
	bool full = add >= room;
	if (full)
		add = room;
	if (rs->expr_len + add > rs->expr_cap) {
		size_t cap = 2 * ((size_t)rs->expr_len + add);
		cap = cap > BS_HTTP_EXPR_MAX ? BS_HTTP_EXPR_MAX : cap;
		rs->expr_buf = bs_xrealloc(rs->expr_buf, cap);
		rs->expr_cap = (uint32_t)cap;
	}
	memcpy(rs->expr_buf + rs->expr_len, w + fresh, add);
	rs->expr_len += (uint32_t)add;
	p->expr_retry = true;
	p->expr_wants_more = false;
	js_ref(p, rs->expr_buf, rs->expr_len, 0, final || full, 0, 0, rs->expr_pat);
	p->expr_retry = false;
	if (!p->expr_wants_more || final || full)
		expr_drop(rs);
}

/* Names looked up in the text before an expression (find_assignment), at
 * most, per response; and how far back, at most. A page names few; a
 * crafted one naming thousands costs no more. */
#define LOOKUPS_MAX 64
#define LOOKUP_BACK ((size_t)4096)

struct assignments {
	struct bs_http *p;
	const char *w;
	size_t before;                 /* the expression's start: assignments end before it */
	struct bs_jsexpr_scope scope;  /* the page's variables, and this lookup */
};

static bool is_name_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
}

/* A name no variable of the page holds (const u = "http://..."; let, or no
 * keyword at all: `var` values are in p->js_vars already): the value of its
 * latest assignment in the text before the expression, when that reads
 * (an assignment that does not read leaves the name unknown). */
static bool find_assignment(void *ctx, const char *name, size_t len, struct bs_jsexpr_out *out)
{
	struct assignments *a = ctx;
	struct bs_http *p = a->p;
	if (p->js_lookups >= LOOKUPS_MAX || len == 0 || len > a->before)
		return false;
	p->js_lookups++;
	const char *w = a->w;
	size_t stop = a->before > LOOKUP_BACK ? a->before - LOOKUP_BACK : 0;
	for (size_t k = a->before - len + 1; k-- > stop;) {
		if (w[k] != name[0] || memcmp(w + k, name, len) != 0)
			continue;
		if ((k > 0 && (is_name_byte(w[k - 1]) || w[k - 1] == '.')) || is_name_byte(w[k + len]))
			continue;
		size_t j = k + len;
		while (j < a->before && is_ows(w[j]))
			j++;
		if (j + 1 >= a->before || w[j] != '=' || w[j + 1] == '=' || w[j + 1] == '>')
			continue; /* a use, a comparison, an arrow: not an assignment */
		struct assignments inner = *a;
		inner.before = k;
		inner.scope.ctx = &inner;
		struct bs_jsexpr_out v;
		if (!bs_jsexpr_eval_in(w + j + 1, a->before - j - 1, true, &inner.scope, &v))
			return false;
		size_t room = BS_JSEXPR_OUT_MAX - out->n, take = v.n < room ? v.n : room;
		memcpy(out->b + out->n, v.b, take);
		out->n += take;
		out->cut |= v.cut || take < v.n;
		out->obfuscated |= v.obfuscated;
		return true;
	}
	return false;
}

/* The scope of an expression at w[at]: the page's variables, and the
 * assignments in the text before it. */
static void scope_at(struct assignments *a, struct bs_http *p, const char *w, size_t at)
{
	*a = (struct assignments){ .p = p, .w = w, .before = at,
	                           .scope = { .vars = p->js_vars, .lookup = find_assignment } };
	a->scope.ctx = a;
}

/* Elements of a string table read, at most (an obfuscator's holds every
 * string of the script: a few hundred). */
#define VAR_ARRAY_MAX 512

/* var NAME = ['...', '...', ...] at w[at], its '[' at w[j]: a string table,
 * which obfuscators make of a script's strings (window[_0x1a[1]](_0x1a[0])):
 * each element's value that is a URL a reference, weak unless a decoder or
 * \x escapes made it (as a variable's). Returns where the scan goes on;
 * an element not a string ends the reading there. */
static size_t var_array(struct bs_http *p, const char *w, size_t n, size_t fresh, bool final, int depth,
                        size_t at, size_t j, uint8_t pat)
{
	size_t k = j + 1;
	for (int count = 0; count <= VAR_ARRAY_MAX; count++) {
		while (k < n && (is_ows(w[k]) || w[k] == '\n' || w[k] == '\r'))
			k++;
		if (k < n && w[k] == ']')
			return k + 1;
		struct bs_jsexpr_out v;
		struct assignments scope;
		scope_at(&scope, p, w, at);
		size_t used = k < n && count < VAR_ARRAY_MAX ? bs_jsexpr_eval_in(w + k, n - k, final, &scope.scope, &v) : 0;
		if (!used) {
			if ((k >= n || v.incomplete) && !final && depth == 0 && count < VAR_ARRAY_MAX) {
				p->expr_wants_more = true;
				if (!p->expr_retry)
					expr_start(p, w, n, at, pat);
			}
			return k > at + 1 ? k : at + 1;
		}
		k += used;
		if (k > fresh)
			add_ref(p, bs_str_make(v.b, v.n), bs_str_make(w + at, k - at), !v.obfuscated);
		while (k < n && (is_ows(w[k]) || w[k] == '\n' || w[k] == '\r'))
			k++;
		if (k < n && w[k] == ',')
			k++;
	}
	return k;
}

/* The script pattern k at w[at]: its expression's value evaluated
 * (jsexpr.h) and taken as what the pattern makes of it. Returns where
 * the scan goes on: after the expression when it was read (what is
 * inside it was read decoded), else at + 1. */
static size_t js_ref(struct bs_http *p, const char *w, size_t n, size_t fresh, bool final, int depth, size_t at,
                     uint8_t pat)
{
	const size_t pl = js_patterns[pat].len;
	const char opener = js_patterns[pat].opener;
	const enum js_value kind = (enum js_value)js_patterns[pat].kind;
	size_t j = at + pl, name = 0, name_end = 0;
	if (kind == JS_DECODED)
		j = w[at] == '.' ? at + 1 : at; /* the call itself: unescape(...), fromCharCode(...) */
	else if (kind == JS_VAR && !(j = name_end = var_name_end(w, n, j, &name)))
		return at + 1;
	if (kind != JS_DECODED && !(j = js_opener(w, n, j, opener)))
		return at + 1;
	struct bs_jsexpr_vars *vars = p->js_vars;
	if (kind == JS_VAR) {
		size_t k = j;
		while (k < n && is_ows(w[k]))
			k++;
		if (vars)
			bs_jsexpr_vars_forget(vars, w + name, name_end - name); /* set again below if it can be */
		if (k < n && w[k] == '[')
			return var_array(p, w, n, fresh, final, depth, at, k, pat);
	}
	struct bs_jsexpr_out v;
	struct assignments scope;
	scope_at(&scope, p, w, at);
	size_t used = bs_jsexpr_eval_in(w + j, n - j, final, &scope.scope, &v);
	if (used && kind == JS_VAR) { /* var a = "http://ev"; ... window.open(a + "il.cn/x") */
		if (!vars)
			vars = p->js_vars = bs_xcalloc(1, sizeof *vars);
		bs_jsexpr_vars_set(vars, w + name, name_end - name, &v);
	}
	if (!used && kind == JS_TEXT) { /* eval(function(p,a,c,k,e,d){...}('...',62,...)): packed code */
		bool eval_wants_more = v.incomplete;
		used = bs_jsexpr_unpack(w + j, n - j, final, &v);
		v.incomplete |= !used && eval_wants_more;
	}
	if (!used && v.incomplete && depth == 0) {
		/* the text ended first: the next window reads it again when it
		 * starts in its overlap; else its text is kept (expr_start) */
		p->expr_wants_more = true;
		if (p->expr_retry || expr_start(p, w, n, at, pat))
			return at + 1;
	}
	if (!used) {
		bs_str s;
		size_t end = kind == JS_URL ? js_string(w, n, at + pl, opener, &s) : 0;
		if (end && end > fresh) /* not evaluated ("http://x/?" + id): the first string, as written */
			add_ref(p, s, bs_str_make(w + at, end - at), false);
		return at + 1;
	}
	size_t end = j + used;
	if (end <= fresh) /* seen in the window before */
		return end;
	/* a variable's plain value is weak; one a decoder made is not data */
	bool weak = kind == JS_VAR && !v.obfuscated;
	if (kind != JS_TEXT)
		add_ref(p, bs_str_make(v.b, v.n), bs_str_make(w + at, end - at), weak);
	if (kind != JS_URL && depth < REF_DEPTH_MAX) {
		bs_str outer = p->ref_via;
		bool outer_weak = p->ref_weak_text;
		if (!outer.n)
			p->ref_via = bs_str_make(w + at, end - at);
		p->ref_weak_text |= weak;
		scan_refs(p, v.b, v.n, 0, true, depth + 1);
		p->ref_via = outer;
		p->ref_weak_text = outer_weak;
	}
	return end;
}

/* A reference pattern may start at w[at]: compare them there. Returns
 * where the scan goes on. */
static size_t ref_at(struct bs_http *p, const char *w, size_t n, size_t fresh, bool final, int depth, size_t at)
{
#define PAT(s) s, sizeof s - 1
	/* by the tag name's first letter (ref_start let only these through) */
	static const struct { const char *pat; size_t len; const char *attr; } tags[] = {
		{ PAT("<script"), "src" }, { PAT("<iframe"), "src" }, { PAT("<frame"), "src" }, { PAT("<meta"), NULL },
		{ PAT("<embed"), "src" }, { PAT("<object"), "data" }, { PAT("<object"), "codebase" },
		{ PAT("<applet"), "codebase" }, { PAT("<applet"), "archive" }, { PAT("<a"), "href" } };
#undef PAT
	if (w[at] == '<') {
		size_t t = 0, end = 0;
		switch (w[at + 1] | 0x20) { /* ref_start: w[at + 2] is there */
		case 's': t = 0, end = 1; break;
		case 'i': t = 1, end = 2; break;
		case 'f': t = 2, end = 3; break;
		case 'm': t = 3, end = 4; break;
		case 'e': t = 4, end = 5; break;
		case 'o': t = 5, end = 7; break;
		case 'a': t = (w[at + 2] | 0x20) == 'p' ? 7 : 9, end = (w[at + 2] | 0x20) == 'p' ? 9 : 10; break;
		}
		for (; t < end; t++)
			if (bs_mem_at_ieq_lower(w, n, at, tags[t].pat, tags[t].len))
				tag_ref(p, w, n, fresh, at, tags[t].len, tags[t].attr);
		return at + 1;
	}
	const char first = (char)(w[at] | 0x20); /* '.' has that bit */
	for (size_t k = 0; k < sizeof js_patterns / sizeof *js_patterns; k++) {
		size_t pl = js_patterns[k].len;
		if (js_patterns[k].pat[0] != first || !bs_mem_at_ieq_lower(w, n, at, js_patterns[k].pat, pl))
			continue;
		if (js_patterns[k].word && at > 0) {
			char b = w[at - 1];
			if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_' || b == '$')
				continue;
		}
		size_t next = js_ref(p, w, n, fresh, final, depth, at, (uint8_t)k);
		if (next > at + 1)
			return next;
	}
	return at + 1;
}

/* References in one window: a match counts when it ends in the fresh part
 * (earlier windows saw the others). One pass over the window (this runs on
 * every HTML byte served): the patterns are compared only where the first
 * three bytes of one are, a few places a page (formerly at every '<', 'l'
 * and 'w': 9.7 M places in a bench capture, 640 M instructions). A
 * script expression read whole is passed over: its decoded value was
 * scanned instead (depth counts those scans). */
static void scan_refs(struct bs_http *p, const char *w, size_t n, size_t fresh, bool final, int depth)
{
	for (size_t at = bs_http_next_ref_start(w, 0, n); at < n; at = bs_http_next_ref_start(w, at, n))
		at = ref_at(p, w, n, fresh, final, depth, at);
}

/* A response without a Content-Type is a page when its body starts as one
 * (a hand-made server, a generator's capture): decided at the first window,
 * when the body's first KB is in the sniff buffer (or the whole body). */
static bool untyped_page(struct bs_http_resp *rs)
{
	if (rs->ctype_len || rs->typed_by_sniff)
		return rs->html;
	rs->typed_by_sniff = true;
	size_t i = 0;
	if (rs->sniff_len >= 3 && memcmp(rs->sniff, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < rs->sniff_len && (is_ows(rs->sniff[i]) || rs->sniff[i] == '\r' || rs->sniff[i] == '\n'))
		i++;
	if (i >= rs->sniff_len || rs->sniff[i] != '<')
		return false;
	static const char *const marks[] = { "<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<div",
	                                     "<table", "<p>", "<a " };
	for (size_t k = 0; k < sizeof marks / sizeof *marks && !rs->html; k++)
		rs->html = bs_memmem_ci(rs->sniff + i, rs->sniff_len - i, marks[k], strlen(marks[k])) != NULL;
	return rs->html;
}

/* A page answering a login that asks for the password again (its form:
 * an input of type password) or says the login failed: the login failed.
 * Phrases an inbox's subjects are unlikely to hold. The window's tail
 * overlaps the next, so a match across two is seen. */
static bool login_refused_in(const char *w, size_t n)
{
	static const char *const marks[] = { "type=\"password\"", "type='password'", "type=password", "login failed",
	                                     "authentication failed", "incorrect password", "invalid password",
	                                     "wrong password", "invalid username", "invalid login", "login incorrect",
	                                     "failed login", "invalid credentials", "incorrect username",
	                                     "wrong username", "bad password", "unknown user", "logon failed" };
	for (size_t k = 0; k < sizeof marks / sizeof *marks; k++)
		if (bs_memmem_ci(w, n, marks[k], strlen(marks[k])))
			return true;
	return false;
}

static void resp_window_cb(void *vctx, const char *w, size_t n, size_t fresh, bool final)
{
	struct scan_ctx *sc = vctx;
	struct bs_http_resp *rs = &sc->h->resp;
	bs_proto_addr_window(sc->c, sc->actx, sc->ref, sc->to_client, w, n, fresh, final);
	if (rs->html || rs->script || untyped_page(rs)) {
		if (rs->expr_buf)
			expr_again(sc->h, w, n, fresh, final);
		scan_refs(sc->h, w, n, fresh, final, 0);
		if (rs->page_answer && !rs->answer_form)
			rs->answer_form = login_refused_in(w, n);
	}
}

/* The scan window's feed from a gzip file body (bs_gzfile's output). */
struct gz_scan {
	struct bs_http *p;
	struct scan_ctx sc;
};
static void gz_scan_out(void *ctx, const char *b, size_t n)
{
	struct gz_scan *g = ctx;
	bs_window_feed(&g->p->resp.win, b, n, resp_window_cb, &g->sc);
}

/* The end of a body's gzip file decoder: what it held goes to the scan,
 * its zlib state is freed, and a file is counted. */
static void gz_body_end(struct bs_http *p, struct bs_proto_ctx *c)
{
	struct bs_http_resp *rs = &p->resp;
	struct gz_scan g = { p, { p, c, BS_ADDR_HTTP_RESP_BODY, rs->txn_id, true } };
	gz_count(p, &rs->gz);
	bs_gzfile_end(&rs->gz, gz_scan_out, &g);
}

/* A member of a login's JSON answer: the first success-like flag that is
 * true or false decides (SnappyMail's "Result", Tine 2.0's "success"). */
static void answer_member(void *ctx, const char *name, size_t name_len, bool name_long, const char *value,
                          size_t value_len, bool value_long, bool literal)
{
	struct bs_http_resp *rs = ctx;
	(void)value_long;
	if (!literal || name_long || rs->login_answer != BS_LOGIN_ANSWER_NONE)
		return;
	static const char *const flags[] = { "success", "result", "ok", "authenticated", "loggedin", "logged_in" };
	bool flag = false;
	for (size_t i = 0; i < sizeof flags / sizeof *flags && !flag; i++)
		flag = name_len == strlen(flags[i]) && bs_mem_ieq_lower(name, flags[i], name_len);
	if (!flag)
		return;
	if (value_len == 4 && bs_mem_ieq_lower(value, "true", 4))
		rs->login_answer = BS_LOGIN_ANSWER_SUCCESS;
	else if (value_len == 5 && bs_mem_ieq_lower(value, "false", 5))
		rs->login_answer = BS_LOGIN_ANSWER_FAILURE;
}

/* Decoded response body bytes: hash, first KB, scan window (through the
 * gzip file decoder when the body has no content coding). */
static void decoded_data(struct bs_http *p, struct bs_proto_ctx *c, const char *b, size_t n, bool inflated)
{
	struct bs_http_resp *rs = &p->resp;
	if (inflated) {
		if (rs->capped)
			return;
		if (rs->decoded_len + n > BS_HTTP_INFLATE_MAX) {
			n = (size_t)(BS_HTTP_INFLATE_MAX - rs->decoded_len);
			rs->capped = true;
			p->count.bombs++;
		}
	}
	bs_hash64_feed(&rs->hasher, b, n);
	rs->decoded_len += n;
	if (rs->sniff_len < sizeof rs->sniff) {
		size_t k = sizeof rs->sniff - rs->sniff_len;
		if (k > n)
			k = n;
		memcpy(rs->sniff + rs->sniff_len, b, k);
		rs->sniff_len += k;
	}
	if (rs->json_answer)
		bs_jsonkv_feed(&rs->answer, b, n, answer_member, rs);
	struct gz_scan g = { p, { p, c, BS_ADDR_HTTP_RESP_BODY, rs->txn_id, true } };
	if (!inflated)
		bs_gzfile_feed(&rs->gz, (const uint8_t *)b, n, gz_scan_out, &g);
	else
		bs_window_feed(&rs->win, b, n, resp_window_cb, &g.sc);
}

static z_stream *inflater(struct bs_http *p, int window_bits)
{
	z_stream *zs = p->zs;
	if (!zs) {
		zs = bs_xcalloc(1, sizeof *zs);
		if (inflateInit2(zs, window_bits) != Z_OK) {
			free(zs);
			return NULL;
		}
		p->zs = zs;
	} else if (inflateReset2(zs, window_bits) != Z_OK) {
		return NULL;
	}
	return zs;
}

static void inflate_run(struct bs_http *p, struct bs_proto_ctx *c, const uint8_t *b, size_t n)
{
	struct bs_http_resp *rs = &p->resp;
	z_stream *zs = p->zs;
	unsigned char out[INFLATE_OUT];
	zs->next_in = (unsigned char *)(uintptr_t)b;
	zs->avail_in = (uInt)n;
	while (!rs->capped && !rs->decode_failed && !rs->z_done) {
		zs->next_out = out;
		zs->avail_out = sizeof out;
		int r = inflate(zs, Z_NO_FLUSH);
		size_t got = sizeof out - zs->avail_out;
		if (got)
			decoded_data(p, c, (const char *)out, got, true);
		if (r == Z_STREAM_END) {
			rs->z_done = true; /* whatever follows the stream is not decoded */
			break;
		}
		if (r != Z_OK && r != Z_BUF_ERROR) {
			rs->decode_failed = true;
			p->count.inflate_errors++;
			break;
		}
		if (zs->avail_in == 0 && zs->avail_out != 0)
			break;
		if (r == Z_BUF_ERROR && got == 0)
			break;
	}
}

/* Body bytes as sent (after de-chunking) into the content decoder. */
static void response_body(struct bs_http *p, struct bs_proto_ctx *c, const uint8_t *b, size_t n)
{
	struct bs_http_resp *rs = &p->resp;
	rs->wire_bytes += n;
	if (rs->coding == BS_HTTP_CODING_NONE) {
		decoded_data(p, c, (const char *)b, n, false);
		return;
	}
	if (rs->decode_failed || rs->capped || rs->z_done || n == 0)
		return;
	if (rs->coding == BS_HTTP_CODING_GZIP && !rs->z_started) {
		rs->z_started = true;
		if (!inflater(p, 15 + 32)) { /* +32: gzip or zlib header, whichever comes */
			rs->decode_failed = true;
			return;
		}
	}
	if (rs->coding == BS_HTTP_CODING_DEFLATE && !rs->deflate_raw_checked) {
		/* "deflate" is meant to be zlib-wrapped, but many servers send raw
		 * deflate: the first two bytes tell which. */
		while (n > 0 && rs->deflate_head_len < 2) {
			rs->deflate_head[rs->deflate_head_len++] = *b++;
			n--;
		}
		if (rs->deflate_head_len < 2)
			return;
		unsigned h0 = rs->deflate_head[0], h1 = rs->deflate_head[1];
		bool zlib = (h0 & 0x0f) == 8 && ((h0 << 8) | h1) % 31 == 0;
		rs->deflate_raw_checked = true;
		rs->z_started = true;
		if (!inflater(p, zlib ? 15 : -15)) {
			rs->decode_failed = true;
			return;
		}
		inflate_run(p, c, rs->deflate_head, 2);
	}
	if (n)
		inflate_run(p, c, b, n);
}

static void resp_reset(struct bs_http_resp *rs)
{
	expr_drop(rs);
	memset(rs, 0, offsetof(struct bs_http_resp, ctype));
	bs_gzfile_init(&rs->gz, BS_HTTP_INFLATE_MAX);
	bs_hash64_init(&rs->hasher, 0);
	rs->sniff_len = 0;
	rs->nrefs = 0;
	rs->ref_weak = 0;
	rs->ref_pool_len = 0;
	bs_window_reset(&rs->win);
}

static void set_opaque(struct bs_http *p)
{
	p->dir[0].state = p->dir[1].state = BS_HTTP_S_OPAQUE;
}

static void response_done(struct bs_http *p, struct bs_proto_ctx *c)
{
	struct bs_http_resp *rs = &p->resp;
	struct bs_http_dir *d = &p->dir[1];
	d->state = BS_HTTP_S_START;
	if (rs->interim) {
		p->count.interim++;
		rs->active = false;
		return;
	}
	struct scan_ctx sc = { p, c, BS_ADDR_HTTP_RESP_BODY, rs->txn_id, true };
	if (rs->coding == BS_HTTP_CODING_DEFLATE && !rs->deflate_raw_checked && rs->deflate_head_len) {
		/* a one-byte body: cannot be valid, count it */
		p->count.inflate_errors++;
	}
	gz_body_end(p, c);
	if (rs->json_answer)
		bs_jsonkv_end(&rs->answer, answer_member, rs);
	bs_window_end(&rs->win, resp_window_cb, &sc);
	expr_drop(rs);
	/* a login answered 2xx by a page: the inbox is a success, the form
	 * again (or a refusal) a failure; no page (no body, not HTML) leaves it
	 * to the status, as before (docs/PROTOCOLS.md) */
	if (rs->page_answer && rs->login_answer == BS_LOGIN_ANSWER_NONE && rs->decoded_len && !d->body_damaged &&
	    rs->html)
		rs->login_answer = rs->answer_form ? BS_LOGIN_ANSWER_FAILURE : BS_LOGIN_ANSWER_SUCCESS;
	/* equal to bs_hash64(body, len, 0): a capture and a file hash alike */
	rs->hash = rs->decoded_len == 0 || d->body_damaged ? 0 : bs_hash64_final(&rs->hasher);
	rs->cmd_output = bs_content_is_shell_output(rs->sniff, rs->sniff_len);
	p->count.responses++;
	if (rs->paired && p->pending_count) {
		struct bs_http_req *r = pending_at(p, 0);
		if (!r->lost)
			emit_complete(c, r, rs);
		pending_pop(p);
	} else if (!rs->paired) {
		emit_complete(c, NULL, rs);
	}
	rs->active = false;
	d->body_damaged = false;
	d->smuggle_next = d->ambiguous;
	if (rs->opaque_after)
		set_opaque(p);
}

/* ------------------------------------------------------------------ headers */

static bool last_coding_is(bs_str v, const char *coding)
{
	/* "gzip, chunked": the last listed coding is the outermost */
	size_t e = v.n;
	while (e && (is_ows(v.p[e - 1]) || v.p[e - 1] == ','))
		e--;
	size_t s = e;
	while (s && v.p[s - 1] != ',' && !is_ows(v.p[s - 1]))
		s--;
	return bs_str_ieq(bs_str_make(v.p + s, e - s), coding);
}

/* Digits only (leading zeros are valid), below 2^60: a negative, huge or
 * overflowing length is no length. */
static bool parse_length(bs_str v, uint64_t *out)
{
	if (v.n == 0)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < v.n; i++) {
		if (!is_digit(v.p[i]) || x >= CHUNK_SIZE_LIMIT / 10)
			return false;
		x = x * 10 + (uint64_t)(v.p[i] - '0');
	}
	*out = x;
	return true;
}

/* Is "chunked" one of the listed codings? */
static bool has_coding(bs_str v, const char *coding)
{
	size_t i = 0;
	while (i < v.n) {
		while (i < v.n && (is_ows(v.p[i]) || v.p[i] == ','))
			i++;
		size_t s = i;
		while (i < v.n && v.p[i] != ',' && !is_ows(v.p[i]))
			i++;
		if (i > s && bs_str_ieq(bs_str_make(v.p + s, i - s), coding))
			return true;
	}
	return false;
}

/* A Transfer-Encoding value, or a folded continuation of one. Chunked
 * anywhere in the list frames the body (a back end that reads "chunked,
 * identity" or a folded "chunked" does); anything but one plain header
 * ending in chunked is ambiguous: a front end may frame it otherwise, which
 * is how requests are smuggled. */
static void transfer_encoding(struct bs_http_dir *d, bs_str v)
{
	if (d->te_seen)
		d->ambiguous = true;
	d->te_seen = true;
	if (has_coding(v, "chunked")) {
		d->chunked = true;
		if (!last_coding_is(v, "chunked"))
			d->ambiguous = true;
	}
}

enum header_field {
	HDR_OTHER = 0, HDR_CONTENT_LENGTH, HDR_TRANSFER_ENCODING, HDR_HOST, HDR_USER_AGENT, HDR_REFERER,
	HDR_COOKIE, HDR_CONTENT_TYPE, HDR_CONTENT_ENCODING, HDR_SET_COOKIE, HDR_LOCATION, HDR_AUTHORIZATION
};

static inline uint64_t load64(const char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t load32(const char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* memcmp(a, b, n) == 0 for 4 <= n <= 24, in a few loads (no call). */
static inline bool same_bytes(const char *a, const char *b, size_t n)
{
	if (n < 8)
		return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
	if (load64(a) != load64(b) || load64(a + n - 8) != load64(b + n - 8))
		return false;
	return n <= 16 || load64(a + 8) == load64(b + 8);
}

/* The fields the parser reads, found by the name's length, then compared
 * as mostly written, then in either case: this runs on every header line
 * (a chain of comparisons was ~230 instructions a line, 930k lines in a
 * bench replica). */
static enum header_field header_field(bs_str name)
{
#define F(canonical, lower, field) { sizeof canonical - 1, canonical, lower, field }
	static const struct { size_t len; const char *canonical, *lower; enum header_field field; } fields[] = {
		F("Host", "host", HDR_HOST), F("Cookie", "cookie", HDR_COOKIE), F("Referer", "referer", HDR_REFERER),
		F("Location", "location", HDR_LOCATION),
		F("User-Agent", "user-agent", HDR_USER_AGENT), F("Set-Cookie", "set-cookie", HDR_SET_COOKIE),
		F("Content-Type", "content-type", HDR_CONTENT_TYPE),
		F("Authorization", "authorization", HDR_AUTHORIZATION),
		F("Content-Length", "content-length", HDR_CONTENT_LENGTH),
		F("Content-Encoding", "content-encoding", HDR_CONTENT_ENCODING),
		F("Transfer-Encoding", "transfer-encoding", HDR_TRANSFER_ENCODING) };
#undef F
	/* 1 + the first entry of each length */
	static const uint8_t first_of_len[18] = { [4] = 1, [6] = 2, [7] = 3, [8] = 4, [10] = 5, [12] = 7, [13] = 8,
	                                          [14] = 9, [16] = 10, [17] = 11 };
	if (name.n >= sizeof first_of_len || !first_of_len[name.n])
		return HDR_OTHER;
	for (size_t i = first_of_len[name.n] - 1u; i < sizeof fields / sizeof *fields && fields[i].len == name.n; i++) {
		if (same_bytes(name.p, fields[i].canonical, name.n))
			return fields[i].field;
		if (bs_mem_ieq_lower(name.p, fields[i].lower, name.n))
			return fields[i].field;
	}
	return HDR_OTHER;
}

/* application/json, text/json, or a type of the +json suffix
 * (application/vnd.api+json): the media type, before any parameter. */
static bool is_json_type(bs_str v)
{
	const char *semi = memchr(v.p, ';', v.n);
	bs_str t = trim(v.p, semi ? (size_t)(semi - v.p) : v.n);
	return bs_str_ieq(t, "application/json") || bs_str_ieq(t, "text/json") ||
	       (t.n > 5 && bs_mem_ieq_lower(t.p + t.n - 5, "+json", 5));
}

/* Authorization: Basic base64(user:password), as mail clients send it to
 * ActiveSync, EWS or a DAV server through the webmail front end: a login
 * like a form's, the password in clear on the wire. */
static void basic_auth(struct bs_http *p, bs_str v)
{
	if (v.n < 7 || !bs_mem_ieq_lower(v.p, "basic ", 6))
		return;
	uint8_t dec[384];
	bs_str b64 = trim(v.p + 6, v.n - 6);
	long n = bs_base64_decode(b64.p, b64.n, dec, sizeof dec);
	const uint8_t *colon = n > 0 ? memchr(dec, ':', (size_t)n) : NULL;
	/* it names the user, over a query's User= (ActiveSync's) */
	if (!colon || colon == dec)
		return;
	size_t un = (size_t)(colon - dec);
	if (un > sizeof p->cur.user) {
		un = sizeof p->cur.user;
		p->count.field_truncated++;
	}
	memcpy(p->cur.user, dec, un);
	p->cur.user_len = (uint16_t)un;
	p->rb.have_user = true;
	p->rb.have_password = colon + 1 < dec + n;
	p->cur.login_basic = true;
}

static void request_header(struct bs_http *p, enum header_field h, bs_str v)
{
	struct bs_http_req *r = &p->cur;
	uint64_t *tr = &p->count.field_truncated;
	if (h == HDR_AUTHORIZATION) {
		basic_auth(p, v);
		return;
	}
	if (h == HDR_HOST)
		put_capped(r->host, sizeof r->host, &r->host_len, v, tr);
	else if (h == HDR_USER_AGENT)
		put_capped(r->ua, sizeof r->ua, &r->ua_len, v, tr);
	else if (h == HDR_REFERER)
		put_capped(r->referer, sizeof r->referer, &r->referer_len, v, tr);
	else if (h == HDR_COOKIE)
		append_joined(r->cookie, sizeof r->cookie, &r->cookie_len, v, tr);
	else if (h == HDR_CONTENT_TYPE) {
		put_capped(r->ctype, sizeof r->ctype, &r->ctype_len, v, tr);
		if (bs_str_istarts(v, "application/x-www-form-urlencoded")) {
			p->rb.form = BS_HTTP_FORM_URLENCODED;
		} else if (is_json_type(v)) {
			p->rb.form = BS_HTTP_FORM_JSON;
			bs_jsonkv_init(&p->rb.json);
		} else if (bs_str_istarts(v, "multipart/form-data")) {
			bs_str b = header_param(v, "boundary");
			if (b.n && b.n <= 70) {
				p->rb.form = BS_HTTP_FORM_MULTIPART;
				memcpy(p->rb.boundary, b.p, b.n);
				p->rb.boundary_len = b.n;
			}
		}
	}
}

static void response_header(struct bs_http *p, enum header_field h, bs_str v)
{
	struct bs_http_resp *rs = &p->resp;
	switch (h) {
	case HDR_CONTENT_TYPE:
		put_capped(rs->ctype, sizeof rs->ctype, &rs->ctype_len, v, &p->count.field_truncated);
		rs->html = bs_memmem_ci(v.p, v.n, "html", 4) != NULL;
		rs->script = bs_memmem_ci(v.p, v.n, "javascript", 10) != NULL ||
			bs_memmem_ci(v.p, v.n, "ecmascript", 10) != NULL;
		break;
	case HDR_CONTENT_ENCODING:
		if (last_coding_is(v, "gzip") || last_coding_is(v, "x-gzip"))
			rs->coding = BS_HTTP_CODING_GZIP;
		else if (last_coding_is(v, "deflate"))
			rs->coding = BS_HTTP_CODING_DEFLATE;
		break;
	case HDR_LOCATION:
		put_capped(rs->location, sizeof rs->location, &rs->location_len, v, &p->count.field_truncated);
		break;
	case HDR_SET_COOKIE: {
		/* keep name=value of each cookie, like a Cookie header */
		const char *semi = memchr(v.p, ';', v.n);
		bs_str pair = trim(v.p, semi ? (size_t)(semi - v.p) : v.n);
		append_joined(rs->setcookie, sizeof rs->setcookie, &rs->setcookie_len, pair,
		              &p->count.field_truncated);
		break;
	}
	default:
		break;
	}
}

static void header_line(struct bs_http *p, int dir, const char *l, size_t n)
{
	struct bs_http_dir *d = &p->dir[dir];
	const char *colon = memchr(l, ':', n);
	d->last_hdr_te = false;
	if (!colon)
		return;
	enum header_field h = header_field(trim_ends(l, (size_t)(colon - l)));
	if (h == HDR_OTHER)
		return;
	bs_str v = trim(colon + 1, n - (size_t)(colon - l) - 1);
	if (h == HDR_CONTENT_LENGTH) {
		uint64_t len;
		if (!parse_length(v, &len) || (d->has_length && len != d->content_length)) {
			d->bad_length = true;
			return;
		}
		d->has_length = true;
		d->content_length = len;
	} else if (h == HDR_TRANSFER_ENCODING) {
		transfer_encoding(d, v);
		d->last_hdr_te = true;
	} else if (dir == 0) {
		request_header(p, h, v);
	} else {
		response_header(p, h, v);
	}
}

static void body_begin(struct bs_http_dir *d)
{
	if (d->chunked) {
		d->state = BS_HTTP_S_CHUNK_SIZE;
		d->remaining = 0;
		d->chunk_digits = 0;
	} else if (d->has_length && d->content_length) {
		d->state = BS_HTTP_S_BODY_LENGTH;
		d->remaining = d->content_length;
	} else {
		d->state = BS_HTTP_S_START; /* no body: caller completes the message */
	}
}

/* After a message whose body cannot be framed: skip to the next start line,
 * counting what is skipped. */
static void resync_after_body(struct bs_http_dir *d)
{
	d->state = BS_HTTP_S_RESYNC;
	d->after_gap = false;
	d->line_len = 0;
	d->line_raw = 0;
	d->line_long = false;
}

/* The framing anomalies of a message's headers, for its event. */
static uint32_t framing_anomalies(struct bs_http *p, struct bs_http_dir *d)
{
	uint32_t an = 0;
	if (d->te_seen && (d->has_length || d->bad_length))
		d->ambiguous = true;
	if (d->ambiguous) {
		an |= BS_HTTP_AN_AMBIGUOUS_FRAMING;
		p->count.ambiguous_framing++;
	}
	if (d->bad_length && !d->chunked) {
		an |= BS_HTTP_AN_BAD_LENGTH;
		p->count.bad_lengths++;
	}
	return an;
}

/* ------------------------------------------------------------------ TE.CL */

/* A chunked request whose framing is ambiguous and that has a Content-Length:
 * a back end framing by the length reads a request of its own at that offset
 * of the body's wire bytes (TE.CL smuggling). */
static void hidden_arm(struct bs_http_hidden *h, const struct bs_http_dir *d)
{
	h->armed = d->chunked && d->ambiguous && d->has_length;
	h->start = d->content_length;
	h->raw = 0;
	h->len = 0;
	h->cut = false;
}

static bool in_chunked_body(enum bs_http_state s)
{
	return (s >= BS_HTTP_S_CHUNK_SIZE && s <= BS_HTTP_S_CHUNK_LF) || s == BS_HTTP_S_TRAILERS;
}

/* Wire bytes of the carrier's chunked body: those from offset start on are
 * kept. */
static void hidden_feed(struct bs_http_hidden *h, const struct bs_proto_ctx *c, const uint8_t *b, size_t n)
{
	if (h->cut)
		return;
	if (h->raw + n <= h->start) {
		h->raw += n;
		return;
	}
	size_t from = h->raw < h->start ? (size_t)(h->start - h->raw) : 0;
	h->raw += n;
	if (!h->len) {
		h->ts = c->ts;
		h->pktno = c->pktno;
	}
	size_t room = sizeof h->buf - h->len;
	size_t k = n - from < room ? n - from : room;
	memcpy(h->buf + h->len, b + from, k);
	h->len += k;
}

/* The carrier ended: a request line at the start of the kept bytes is the
 * hidden request, reported with its header fields (the complete header lines
 * kept), flagged smuggled and completed at once with status unknown: the
 * responses on the flow follow the chunked framing, they answer the carrier.
 * p->cur is free here (the carrier went to the FIFO). */
static void hidden_request(struct bs_http *p, struct bs_proto_ctx *c)
{
	struct bs_http_hidden *h = &p->hidden;
	if (!h->armed)
		return;
	h->armed = false;
	const char *b = h->buf, *end = h->buf + h->len;
	const char *lf = memchr(b, '\n', h->len);
	size_t n = lf ? (size_t)(lf - b) : h->len;
	if (n && b[n - 1] == '\r')
		n--;
	struct reqline rl;
	if (!h->len || !parse_request_line(b, n, !lf, false, &rl))
		return;
	struct bs_http_dir *d = &p->dir[0];
	request_start(p, c, &rl);
	for (const char *l = lf ? lf + 1 : end; l < end;) {
		const char *e = memchr(l, '\n', (size_t)(end - l));
		if (!e)
			break; /* a header line cut by the cap */
		size_t ln = (size_t)(e - l);
		if (ln && l[ln - 1] == '\r')
			ln--;
		if (ln == 0)
			break;
		header_line(p, 0, l, ln);
		l = e + 1;
	}
	/* header_line() framed nothing: the next start line resets these */
	d->chunked = d->has_length = d->bad_length = d->te_seen = d->ambiguous = d->last_hdr_te = false;
	if (!p->rb.have_password)
		p->cur.user_len = 0; /* as request_done(): a user alone is no login */
	p->cur.ts = h->ts;
	p->cur.pktno = h->pktno;
	p->cur.anomalies |= BS_HTTP_AN_SMUGGLED;
	p->count.hidden_requests++;
	emit_request(p, c, &p->cur);
	emit_complete(c, &p->cur, NULL);
	p->cur_active = false;
}

static void headers_done(struct bs_http *p, struct bs_proto_ctx *c, int dir)
{
	struct bs_http_dir *d = &p->dir[dir];
	uint32_t framing = framing_anomalies(p, d);
	if (dir == 0) {
		p->cur.anomalies |= framing;
		if (framing & BS_HTTP_AN_BAD_LENGTH) {
			/* the body's extent is unknown: report the request as seen */
			request_done(p, c);
			resync_after_body(d);
			return;
		}
		body_begin(d);
		if (d->state == BS_HTTP_S_START)
			request_done(p, c);
		else
			hidden_arm(&p->hidden, d);
		return;
	}
	struct bs_http_resp *rs = &p->resp;
	rs->anomalies |= framing;
	if (rs->interim) {
		response_done(p, c);
		return;
	}
	bool head = false, connect = false;
	if (p->pending_count) {
		struct bs_http_req *r = pending_at(p, 0);
		rs->paired = true;
		rs->txn_id = r->txn_id;
		head = r->head;
		connect = r->connect;
		/* a script's answer to a login (SnappyMail, RainLoop, Tine 2.0):
		 * the body says whether it succeeded */
		if (r->password_in_clear && is_json_type(bs_str_make(rs->ctype, rs->ctype_len))) {
			rs->json_answer = true;
			bs_jsonkv_init(&rs->answer);
		} else if (r->password_in_clear && rs->status / 100 == 2 && !r->head) {
			rs->page_answer = true; /* decided by the page: login_answer_page() */
		}
	} else {
		rs->txn_id = (c->flow_id << 16) | (uint64_t)(++p->seq & 0xffff);
		p->count.orphan_responses++;
	}
	rs->opaque_after = rs->status == 101 || (connect && rs->status / 100 == 2);
	p->tunnel_pending = connect && rs->status / 100 == 2;
	rs->no_body = head || rs->status == 204 || rs->status == 304 || rs->opaque_after;
	if (rs->no_body) {
		response_done(p, c);
		return;
	}
	if (framing & BS_HTTP_AN_BAD_LENGTH) {
		response_done(p, c);
		resync_after_body(d);
		return;
	}
	body_begin(d);
	if (d->state == BS_HTTP_S_START) {
		if (d->chunked || d->has_length)
			response_done(p, c);
		else
			d->state = BS_HTTP_S_BODY_CLOSE;
	}
}

/* "HTTP/1.x NNN[ reason]", the protocol name in either case
 * ("http/1.1 200 OK" is answered by real servers). */
static bool parse_status_line(const char *l, size_t n, int *status)
{
	if (n < 12 || !bs_str_istarts(bs_str_make(l, n), "http/1.") || !is_digit(l[7]) || l[8] != ' ')
		return false;
	if (!is_digit(l[9]) || !is_digit(l[10]) || !is_digit(l[11]) || (n > 12 && l[12] != ' '))
		return false;
	*status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	return *status >= 100;
}

/* Bytes that are no message (junk before a start line, the body of a
 * message that could not be framed), counted and reported with the next
 * message of the direction, or at the end. Bytes skipped after a gap are
 * the gap's: not counted. */
static void skip_bytes(struct bs_http *p, struct bs_proto_ctx *c, struct bs_http_dir *d, uint64_t n)
{
	if (d->after_gap || n == 0)
		return;
	if (!d->skipped) {
		d->skip_ts = c->ts;
		d->skip_pktno = c->pktno;
		p->count.junk_runs++;
	}
	d->skipped += n;
	p->count.junk_bytes += n;
}

/* A start line was found: the skipped bytes and a smuggling suspicion go
 * to its message; the message framing starts afresh. */
static uint32_t message_begins(struct bs_http_dir *d, uint64_t *skipped, uint32_t junk_flag)
{
	uint32_t an = 0;
	*skipped = d->skipped;
	if (d->skipped)
		an |= junk_flag;
	if (d->smuggle_next)
		an |= BS_HTTP_AN_SMUGGLED;
	d->skipped = 0;
	d->smuggle_next = d->after_gap = false;
	d->state = BS_HTTP_S_HEADERS;
	d->chunked = d->has_length = d->bad_length = false;
	d->te_seen = d->ambiguous = d->last_hdr_te = false;
	d->content_length = 0;
	d->body_damaged = false;
	return an;
}

static bool start_request(struct bs_http *p, struct bs_proto_ctx *c, const char *l, size_t n)
{
	struct bs_http_dir *d = &p->dir[0];
	struct reqline rl;
	if (!parse_request_line(l, n, d->line_long, d->state == BS_HTTP_S_START, &rl))
		return false;
	skip_bytes(p, c, d, rl.skip);
	uint64_t skipped;
	uint32_t an = message_begins(d, &skipped, BS_HTTP_AN_CLIENT_JUNK);
	request_start(p, c, &rl);
	p->cur.anomalies |= an;
	p->cur.skipped = skipped;
	if (p->cur.http09)
		request_done(p, c); /* no headers, no body */
	return true;
}

static void response_begin(struct bs_http *p, struct bs_proto_ctx *c, int status)
{
	struct bs_http_resp *rs = &p->resp;
	struct bs_http_dir *d = &p->dir[1];
	bs_gzfile_drop(&rs->gz); /* a body cut short by this response: its decoder's state goes */
	resp_reset(rs);
	if (p->js_vars) /* a page's variables are its own */
		p->js_vars->n = p->js_vars->next = 0;
	p->js_lookups = 0;
	rs->anomalies = message_begins(d, &rs->skipped, BS_HTTP_AN_SERVER_JUNK);
	rs->status = status;
	rs->active = true;
	rs->interim = status / 100 == 1 && status != 101;
	rs->ts = c->ts;
	rs->pktno = c->pktno;
}

/* The answer to an HTTP/0.9 request: no status line, the body runs to the
 * close. */
static void response_http09(struct bs_http *p, struct bs_proto_ctx *c)
{
	response_begin(p, c, 0);
	p->resp.anomalies |= BS_HTTP_AN_HTTP09;
	headers_done(p, c, 1);
}

static bool awaits_http09(struct bs_http *p)
{
	return p->pending_count && pending_at(p, 0)->http09 && p->dir[1].state == BS_HTTP_S_START;
}

/* l is the line as read (raw_n bytes), n its length without the CR. */
static bool start_response(struct bs_http *p, struct bs_proto_ctx *c, const char *l, size_t n, size_t raw_n)
{
	struct bs_http_dir *d = &p->dir[1];
	int status;
	size_t skip = 0;
	bool found = parse_status_line(l, n, &status);
	for (const char *h = l; !found && (h = bs_memmem_ci(h + 1, n - (size_t)(h + 1 - l), "http/1.", 7));) {
		skip = (size_t)(h - l);
		found = parse_status_line(h, n - skip, &status);
	}
	if (!found) {
		if (!awaits_http09(p))
			return false;
		/* a line of the body of an HTTP/0.9 answer */
		response_http09(p, c);
		response_body(p, c, (const uint8_t *)l, raw_n);
		response_body(p, c, (const uint8_t *)"\n", 1);
		return true;
	}
	skip_bytes(p, c, d, skip);
	response_begin(p, c, status);
	return true;
}

/* Can the header line l (n > 0, not folded) be one header_line() reads?
 * Their names begin "ho", "co", "re", "us", "se", "tr", "lo" or "au" in either
 * case (header_field's table: a field added there needs its two letters
 * here, test_http's header test compares the two): most lines of other
 * fields are dropped here, before the colon is searched (a line starting
 * with CR, trimmed there, goes on too). */
static bool may_be_read_field(const char *l, size_t n)
{
	if (bs_http_fast_off || n < 2 || l[0] == '\r')
		return true;
	unsigned a = (unsigned char)l[0] | 0x20u, b = (unsigned char)l[1] | 0x20u;
	switch (a) {
	case 'h':
	case 'c':
		return b == 'o';
	case 'r':
	case 's':
		return b == 'e';
	case 'u':
		return b == 's';
	case 't':
		return b == 'r';
	case 'l':
		return b == 'o';
	case 'a':
		return b == 'u';
	default:
		return false;
	}
}

/* The common line, a header line that neither ends the headers nor is
 * folded, taken as line_done() would but without its frame (the start
 * lines inlined there make it costly: 1 M calls in a bench replica).
 * Returns false for the other lines. */
static inline bool plain_header_line(struct bs_http *p, int dir, const char *l, size_t raw_n)
{
	struct bs_http_dir *d = &p->dir[dir];
	size_t n = raw_n && l[raw_n - 1] == '\r' ? raw_n - 1 : raw_n;
	if (d->state != BS_HTTP_S_HEADERS || n == 0 || is_ows(l[0]))
		return false;
	if (may_be_read_field(l, n))
		header_line(p, dir, l, n);
	else
		d->last_hdr_te = false; /* what header_line() would do */
	return true;
}

/* A complete line of a direction in a line state, without its LF: in the
 * line buffer, or in the segment when it lay whole there. */
static void line_done(struct bs_http *p, struct bs_proto_ctx *c, int dir, const char *l, size_t raw_n)
{
	struct bs_http_dir *d = &p->dir[dir];
	size_t n = raw_n;
	if (n && l[n - 1] == '\r')
		n--;
	switch (d->state) {
	case BS_HTTP_S_START:
	case BS_HTTP_S_RESYNC:
		if (n == 0) {
			if (d->skipped)
				skip_bytes(p, c, d, d->line_raw); /* inside a run of junk */
			return; /* CRLF between messages */
		}
		if (!(dir == 0 ? start_request(p, c, l, n) : start_response(p, c, l, n, raw_n)))
			skip_bytes(p, c, d, d->line_raw);
		return;
	case BS_HTTP_S_HEADERS:
		if (n == 0) {
			headers_done(p, c, dir);
		} else if (is_ows(l[0])) {
			/* obsolete folding: the continuation is ignored, except of
			 * Transfer-Encoding (a folded "chunked" smuggles requests) */
			p->count.folded_lines++;
			if (d->last_hdr_te)
				transfer_encoding(d, trim(l, n));
		} else if (may_be_read_field(l, n)) {
			header_line(p, dir, l, n);
		} else {
			d->last_hdr_te = false; /* what header_line() would do */
		}
		return;
	case BS_HTTP_S_TRAILERS:
		if (n == 0) {
			if (dir == 0)
				request_done(p, c);
			else
				response_done(p, c);
		}
		return;
	default:
		return;
	}
}

static void body_bytes(struct bs_http *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	if (dir == 0)
		request_body(p, c, b, n);
	else
		response_body(p, c, b, n);
}

static void message_done(struct bs_http *p, struct bs_proto_ctx *c, int dir)
{
	if (dir == 0)
		request_done(p, c);
	else
		response_done(p, c);
}

/* A chunk size that is no hex number or is 2^60 or more, or chunk data
 * not followed by CRLF: the message ends there, reported with what was
 * read and flagged; the direction resynchronises. */
static void chunk_broken(struct bs_http *p, struct bs_proto_ctx *c, int dir)
{
	p->count.bad_chunks++;
	if (dir == 0)
		p->cur.anomalies |= BS_HTTP_AN_BAD_CHUNK;
	else
		p->resp.anomalies |= BS_HTTP_AN_BAD_CHUNK;
	message_done(p, c, dir);
	resync_after_body(&p->dir[dir]);
}

/* ------------------------------------------------------------------ API */

void bs_http_init(struct bs_http *p)
{
	/* Once per flow, and the state is 43 KB, mostly buffers whose used part
	 * a length says (line, URI, headers, windows, queued requests): zero
	 * everything else, not them. http.h keeps the scalars of each struct
	 * before its buffers. */
	for (int d = 0; d < 2; d++)
		memset(&p->dir[d], 0, offsetof(struct bs_http_dir, line));
	memset(&p->cur, 0, offsetof(struct bs_http_req, method));
	memset(&p->rb, 0, offsetof(struct bs_http_reqbody, dec.name));
	memset(&p->cur_active, 0, offsetof(struct bs_http, inline_pending) - offsetof(struct bs_http, cur_active));
	memset(&p->hidden, 0, offsetof(struct bs_http_hidden, buf));
	memset((char *)p + offsetof(struct bs_http, seq), 0, sizeof *p - offsetof(struct bs_http, seq));
	p->pending = p->inline_pending;
	p->pending_cap = BS_HTTP_INLINE_PENDING;
	p->resp.expr_buf = NULL;
	resp_reset(&p->resp);
	reqbody_reset(&p->rb);
}

enum bs_http_err bs_http_feed(struct bs_http *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	if (p->err)
		return p->err;
	dir = dir ? 1 : 0;
	struct bs_http_dir *d = &p->dir[dir];
	size_t i = 0;
	while (i < n && !p->err) {
		enum bs_http_state was = d->state;
		size_t from = i;
		switch (d->state) {
		case BS_HTTP_S_START:
		case BS_HTTP_S_HEADERS:
		case BS_HTTP_S_TRAILERS:
		case BS_HTTP_S_RESYNC: {
			if (dir == 1 && d->line_len == 0 && awaits_http09(p) && (b[i] | 0x20) != 'h') {
				/* no status line can start here: an HTTP/0.9 answer */
				response_http09(p, c);
				break;
			}
			const uint8_t *lf = memchr(b + i, '\n', n - i);
			size_t take = lf ? (size_t)(lf - (b + i)) : n - i;
			d->line_raw += take + (lf ? 1 : 0);
			if (lf && d->line_len == 0 && take <= sizeof d->line) {
				/* whole in the segment: parsed there, not copied first */
				if (!plain_header_line(p, dir, (const char *)b + i, take))
					line_done(p, c, dir, (const char *)b + i, take);
				i += take + 1;
				d->line_len = 0;
				d->line_raw = 0;
				d->line_long = false;
				break;
			}
			size_t room = sizeof d->line - d->line_len;
			if (take > room) {
				if (!d->line_long)
					p->count.long_lines++;
				d->line_long = true;
			}
			size_t k = take < room ? take : room;
			memcpy(d->line + d->line_len, b + i, k);
			d->line_len += k;
			i += take;
			if (lf) {
				i++;
				line_done(p, c, dir, d->line, d->line_len);
				d->line_len = 0;
				d->line_raw = 0;
				d->line_long = false;
			}
			break;
		}
		case BS_HTTP_S_BODY_LENGTH:
		case BS_HTTP_S_CHUNK_DATA: {
			size_t take = n - i;
			if (take > d->remaining)
				take = (size_t)d->remaining;
			body_bytes(p, c, dir, b + i, take);
			i += take;
			d->remaining -= take;
			if (d->remaining == 0) {
				if (d->state == BS_HTTP_S_CHUNK_DATA)
					d->state = BS_HTTP_S_CHUNK_CR;
				else
					message_done(p, c, dir);
			}
			break;
		}
		case BS_HTTP_S_CHUNK_SIZE: {
			char ch = (char)b[i++];
			int v = bs_hexval(ch);
			if (v >= 0) {
				if (d->remaining >= CHUNK_SIZE_LIMIT >> 4) {
					chunk_broken(p, c, dir);
					break;
				}
				d->remaining = d->remaining * 16 + (uint64_t)v;
				d->chunk_digits++;
			} else if (d->chunk_digits && (ch == ';' || is_ows(ch))) {
				d->state = BS_HTTP_S_CHUNK_EXT;
			} else if (d->chunk_digits && ch == '\r') {
				d->state = BS_HTTP_S_CHUNK_EXT;
			} else if (d->chunk_digits && ch == '\n') {
				goto size_line_done;
			} else {
				chunk_broken(p, c, dir);
			}
			break;
		}
		case BS_HTTP_S_CHUNK_EXT: {
			/* chunk extensions are skipped, never stored */
			const uint8_t *lf = memchr(b + i, '\n', n - i);
			if (!lf) {
				i = n;
				break;
			}
			i = (size_t)(lf - b) + 1;
		size_line_done:
			d->chunk_digits = 0;
			if (d->remaining == 0) {
				d->state = BS_HTTP_S_TRAILERS;
				d->line_len = 0;
				d->line_raw = 0;
				d->line_long = false;
			} else {
				d->state = BS_HTTP_S_CHUNK_DATA;
			}
			break;
		}
		case BS_HTTP_S_CHUNK_CR:
			if (b[i] == '\r') {
				d->state = BS_HTTP_S_CHUNK_LF;
				i++;
			} else if (b[i] == '\n') {
				d->state = BS_HTTP_S_CHUNK_SIZE; /* bare LF, tolerated */
				i++;
			} else {
				chunk_broken(p, c, dir);
			}
			break;
		case BS_HTTP_S_CHUNK_LF:
			if (b[i] == '\n') {
				d->state = BS_HTTP_S_CHUNK_SIZE;
				i++;
			} else {
				chunk_broken(p, c, dir);
			}
			break;
		case BS_HTTP_S_BODY_CLOSE:
			body_bytes(p, c, dir, b + i, n - i);
			i = n;
			break;
		case BS_HTTP_S_OPAQUE:
			if (p->tunnel_pending) {
				/* a CONNECT tunnel: what follows may be any protocol */
				p->tunnel_pending = false;
				c->tunnel = true;
				c->tunnel_at = i;
			}
			i = n;
			break;
		case BS_HTTP_S_FAILED:
			return p->err;
		}
		if (dir == 0 && p->hidden.armed && in_chunked_body(was)) {
			hidden_feed(&p->hidden, c, b + from, i - from);
			if (!in_chunked_body(d->state))
				hidden_request(p, c); /* the carrier ended */
		}
	}
	if (p->err)
		d->state = BS_HTTP_S_FAILED;
	return p->err;
}

void bs_http_gap(struct bs_http *p, struct bs_proto_ctx *c, int dir, uint64_t n)
{
	dir = dir ? 1 : 0;
	struct bs_http_dir *d = &p->dir[dir];
	p->count.gaps++;
	p->count.gap_bytes += n;
	if (p->err || d->state == BS_HTTP_S_OPAQUE)
		return;
	/* A hole inside a body of known length keeps the framing: the message
	 * goes on, marked damaged (no hash; decoding stops). */
	if ((d->state == BS_HTTP_S_BODY_LENGTH || d->state == BS_HTTP_S_CHUNK_DATA) && n < d->remaining) {
		if (dir == 0 && p->hidden.armed) {
			/* a hidden request in or after the hole: keep what was read */
			if (p->hidden.len || p->hidden.raw + n > p->hidden.start)
				p->hidden.cut = true;
			p->hidden.raw += n;
		}
		d->remaining -= n;
		d->body_damaged = true;
		if (dir == 1)
			expr_drop(&p->resp); /* an expression is not read across a hole */
		if (dir == 1 && p->resp.coding != BS_HTTP_CODING_NONE)
			p->resp.decode_failed = true;
		if (dir == 1)
			p->resp.wire_bytes += n;
		else
			p->cur.body_len += n;
		return;
	}
	if (d->state == BS_HTTP_S_BODY_CLOSE) {
		d->body_damaged = true;
		expr_drop(&p->resp);
		if (p->resp.coding != BS_HTTP_CODING_NONE)
			p->resp.decode_failed = true;
		p->resp.wire_bytes += n;
		return;
	}
	bool mid_message = d->state != BS_HTTP_S_START && d->state != BS_HTTP_S_RESYNC;
	if (d->state == BS_HTTP_S_START && d->line_len)
		mid_message = true;
	if (mid_message) {
		p->count.messages_dropped++;
		if (dir == 0 && p->cur_active) {
			/* keep the pairing: its response will come and is skipped */
			p->cur.lost = true;
			pending_push(p, c, &p->cur);
			p->cur_active = false;
			hidden_request(p, c);
		} else if (dir == 1 && p->resp.active) {
			/* the response in progress answered the oldest request */
			if (!p->resp.interim && p->pending_count) {
				struct bs_http_req *r = pending_at(p, 0);
				if (!r->lost)
					emit_complete(c, r, NULL);
				pending_pop(p);
			}
			p->resp.active = false;
		}
	}
	d->state = BS_HTTP_S_RESYNC;
	d->after_gap = true;
	d->line_len = 0;
	d->line_raw = 0;
	d->line_long = false;
}

static bool in_body(const struct bs_http_dir *d)
{
	return d->state == BS_HTTP_S_BODY_LENGTH || (d->state >= BS_HTTP_S_CHUNK_SIZE && d->state <= BS_HTTP_S_CHUNK_LF);
}

/* Bytes skipped with no message after them: one ANOMALY event per
 * direction, at the time of the first. */
static void trailing_junk(struct bs_http *p, struct bs_proto_ctx *c, int dir)
{
	struct bs_http_dir *d = &p->dir[dir];
	if (d->state == BS_HTTP_S_START || d->state == BS_HTTP_S_RESYNC)
		skip_bytes(p, c, d, d->line_raw); /* a last line without its end */
	if (!d->skipped)
		return;
	struct bs_event ev;
	bs_proto_event(c, &ev, BS_EV_HTTP);
	ev.ts = d->skip_ts;
	ev.origin.ref = d->skip_pktno;
	ev.u.http.phase = BS_HTTP_ANOMALY;
	ev.u.http.anomalies = dir ? BS_HTTP_AN_SERVER_JUNK : BS_HTTP_AN_CLIENT_JUNK;
	ev.u.http.skipped = d->skipped;
	bs_emit(c->sink, &ev);
	d->skipped = 0;
}

void bs_http_end(struct bs_http *p, struct bs_proto_ctx *c)
{
	if (!p->err) {
		/* a request cut by the end of the capture is still a request */
		if (p->cur_active && p->dir[0].state != BS_HTTP_S_RESYNC && p->dir[0].state != BS_HTTP_S_OPAQUE) {
			if (in_body(&p->dir[0]))
				p->cur.anomalies |= BS_HTTP_AN_BODY_CUT;
			request_done(p, c);
			hidden_request(p, c);
		}
		struct bs_http_dir *d = &p->dir[1];
		if (p->resp.active && d->state != BS_HTTP_S_START && d->state != BS_HTTP_S_OPAQUE &&
		    d->state != BS_HTTP_S_RESYNC) {
			if (in_body(d))
				p->resp.anomalies |= BS_HTTP_AN_BODY_CUT;
			if (d->state == BS_HTTP_S_HEADERS && !p->resp.interim && p->pending_count) {
				p->resp.paired = true;
				p->resp.txn_id = pending_at(p, 0)->txn_id;
			} else if (d->state == BS_HTTP_S_HEADERS && !p->resp.paired) {
				p->resp.txn_id = (c->flow_id << 16) | (uint64_t)(++p->seq & 0xffff);
			}
			response_done(p, c);
		}
		trailing_junk(p, c, 0);
		trailing_junk(p, c, 1);
	}
	while (p->pending_count) {
		struct bs_http_req *r = pending_at(p, 0);
		if (!r->lost) {
			emit_complete(c, r, NULL);
			p->count.unanswered++;
		}
		pending_pop(p);
	}
	expr_drop(&p->resp);
	free(p->js_vars);
	p->js_vars = NULL;
	if (p->zs) {
		inflateEnd(p->zs);
		free(p->zs);
		p->zs = NULL;
	}
	bs_gzfile_drop(&p->resp.gz);
	bs_gzfile_drop(&p->rb.gz);
	if (p->pending != p->inline_pending) {
		free(p->pending);
		p->pending = p->inline_pending;
		p->pending_cap = BS_HTTP_INLINE_PENDING;
	}
}

const char *bs_http_strerror(enum bs_http_err e)
{
	static const char *const names[BS_HTTP_ERR_MAX] = {
		[BS_HTTP_OK] = "ok",
		[BS_HTTP_ERR_REQUEST_LINE] = "not an HTTP request line",
		[BS_HTTP_ERR_STATUS_LINE] = "not an HTTP status line",
		[BS_HTTP_ERR_CHUNK_SIZE] = "bad chunk size",
		[BS_HTTP_ERR_CHUNK_FRAMING] = "no CRLF after chunk data",
		[BS_HTTP_ERR_CONTENT_LENGTH] = "bad or conflicting Content-Length",
	};
	return ((unsigned)e < BS_HTTP_ERR_MAX && names[e]) ? names[e] : "unknown error";
}

bool bs_http_sniff(int dir, const uint8_t *p, size_t n)
{
	const char *s = (const char *)p;
	if (dir == 1)
		return n >= 9 && bs_str_istarts(bs_str_make(s, n), "http/1.") && is_digit(s[7]) && s[8] == ' ';
	bool known;
	size_t mlen = method_token(s, n, &known);
	if (!mlen)
		return false;
	if (!known) {
		/* another method token: only a whole request line claims the flow */
		const char *lf = memchr(s, '\n', n);
		struct reqline rl;
		size_t ln = lf ? (size_t)(lf - s) : 0;
		if (ln && s[ln - 1] == '\r')
			ln--;
		return lf && parse_request_at(s, ln, false, false, &rl);
	}
	/* the target must start like one: "/", "http", "*" or a host:port for CONNECT */
	return n > mlen + 1 && (s[mlen + 1] == '/' || s[mlen + 1] == 'h' || s[mlen + 1] == '*' ||
	                        (mlen == 7 && s[mlen + 1] > ' '));
}

static void def_init(void *s) { bs_http_init(s); }
static int def_feed(void *s, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n)
{
	return (int)bs_http_feed(s, c, dir, p, n);
}
static void def_gap(void *s, struct bs_proto_ctx *c, int dir, uint64_t n) { bs_http_gap(s, c, dir, n); }
static void def_end(void *s, struct bs_proto_ctx *c) { bs_http_end(s, c); }
static const char *def_strerror(int e) { return bs_http_strerror((enum bs_http_err)e); }

/* What the flow's parser holds on the heap: the content coding's inflater
 * (kept for the flow's life once a body used it) and a gzip file body's,
 * while one is inflated; each a zlib state and its 32 KB window. */
static size_t def_held_bytes(const void *state)
{
	const struct bs_http *p = state;
	return (p->zs ? BS_GZFILE_ZLIB_BYTES : 0) + bs_gzfile_held_bytes(&p->resp.gz) + bs_gzfile_held_bytes(&p->rb.gz) +
	       p->resp.expr_cap + (p->js_vars ? sizeof *p->js_vars : 0);
}

const struct bs_proto_def bs_proto_http = {
	.name = "http",
	.ports = { 80, 8080, 8000, 8008, 3128, 0 },
	.sniff = bs_http_sniff,
	.state_size = sizeof(struct bs_http),
	.init = def_init,
	.feed = def_feed,
	.gap = def_gap,
	.end = def_end,
	.strerror = def_strerror,
	.udp = false,
	.held_bytes = def_held_bytes,
};

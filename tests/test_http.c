/* test_http.c - what the HTTP cases (tests/cases/http) cannot hold: bodies
 * built in C (gzip, deflate, a 20 MB bomb, a 1 MB header line, pages past the
 * scan window), the parser's counters, garbage and gaps, the sniffer and
 * bs_hash64. Each session is also fed split at every byte position and one
 * byte at a time. */
#include "config.h"
#include "parsers/stream/content.h"
#include "parsers/stream/http.h"
#include "tap.h"

#include <stdlib.h>
#include <zlib.h>

/* ------------------------------------------------------------------ event log */

#define MAX_EV 64
#define LINE 6144
static char evlog[MAX_EV][LINE];
static size_t nev, ev_overflow;

static void put_bs(char *b, size_t *o, const char *key, bs_str s)
{
	*o += (size_t)snprintf(b + *o, LINE - *o, " %s=", key);
	for (size_t i = 0; i < s.n && *o < LINE - 8; i++) {
		unsigned char ch = (unsigned char)s.p[i];
		if (ch < 0x20 || ch >= 0x7f || ch == '|')
			*o += (size_t)snprintf(b + *o, LINE - *o, "\\x%02x", ch);
		else
			b[(*o)++] = (char)ch;
	}
	b[*o] = 0;
}

static void record(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	if (nev == MAX_EV) {
		ev_overflow++;
		return;
	}
	char *b = evlog[nev++];
	size_t o = 0;
	if (ev->type == BS_EV_HTTP) {
		const struct bs_ev_http *h = &ev->u.http;
		o += (size_t)snprintf(b, LINE, "HTTP %s txn=%llx", h->phase == BS_HTTP_REQUEST ? "REQ" : "DONE",
		                      (unsigned long long)h->txn_id);
		put_bs(b, &o, "m", h->method);
		put_bs(b, &o, "uri", h->uri);
		put_bs(b, &o, "host", h->host);
		put_bs(b, &o, "ua", h->user_agent);
		put_bs(b, &o, "ref", h->referer);
		put_bs(b, &o, "cookie", h->cookie);
		put_bs(b, &o, "ct", h->content_type);
		o += (size_t)snprintf(b + o, LINE - o, " blen=%llu", (unsigned long long)h->req_body_len);
		put_bs(b, &o, "user", h->login_user);
		o += (size_t)snprintf(b + o, LINE - o, " pw=%d", h->password_in_clear);
		put_bs(b, &o, "up", h->upload_filename);
		o += (size_t)snprintf(b + o, LINE - o, " st=%d rb=%llu rl=%llu", h->status,
		                      (unsigned long long)h->resp_bytes, (unsigned long long)h->resp_body_len);
		put_bs(b, &o, "rct", h->resp_content_type);
		put_bs(b, &o, "sc", h->set_cookie);
		o += (size_t)snprintf(b + o, LINE - o, " hash=%llx nrefs=%zu", (unsigned long long)h->body_hash, h->nrefs);
		for (size_t i = 0; i < h->nrefs; i++)
			put_bs(b, &o, "r", h->refs[i]);
		snprintf(b + o, LINE - o, " cmd=%d |", h->cmd_output);
	} else if (ev->type == BS_EV_ADDR) {
		o += (size_t)snprintf(b, LINE, "ADDR ctx=%d ref=%llx toc=%d", ev->u.addr.ctx,
		                      (unsigned long long)ev->u.addr.ref, ev->u.addr.to_client);
		put_bs(b, &o, "a", ev->u.addr.address);
	} else if (ev->type == BS_EV_FILEXFER) {
		o += (size_t)snprintf(b, LINE, "XFER up=%d size=%llu", ev->u.xfer.upload,
		                      (unsigned long long)ev->u.xfer.size);
		put_bs(b, &o, "proto", ev->u.xfer.proto);
		put_bs(b, &o, "file", ev->u.xfer.filename);
		put_bs(b, &o, "user", ev->u.xfer.user);
	} else {
		snprintf(b, LINE, "OTHER %d", ev->type);
	}
}

static struct bs_sink sink = { record, NULL };

/* ------------------------------------------------------------------ scripts */

struct seg {
	int dir;          /* 0, 1; 2 = a gap of len bytes in direction gap_dir */
	const char *p;
	size_t n;
	int gap_dir;
};
#define S0(s) { 0, s, sizeof(s) - 1, 0 }
#define S1(s) { 1, s, sizeof(s) - 1, 0 }

static struct bs_http parser;
static struct bs_proto_ctx pctx;
static int last_err;
static char joined[MAX_EV * LINE];

/* Feed a script: each segment cut at `cut` (0: whole), or in pieces of
 * `piece` bytes. Returns the event log joined by newlines. */
static const char *run(const struct seg *s, size_t nseg, size_t cut, size_t piece)
{
	nev = ev_overflow = 0;
	memset(&pctx, 0, sizeof pctx);
	pctx.sink = &sink;
	pctx.flow_id = 7;
	bs_ip_parse("192.0.2.10", 10, &pctx.cli);
	bs_ip_parse("198.51.100.5", 12, &pctx.srv);
	pctx.cport = 40000;
	pctx.sport = 80;
	bs_http_init(&parser);
	last_err = 0;
	for (size_t k = 0; k < nseg; k++) {
		pctx.ts = (bs_time)k * BS_USEC;
		pctx.pktno = k + 1;
		if (s[k].dir == 2) {
			bs_http_gap(&parser, &pctx, s[k].gap_dir, s[k].n);
			continue;
		}
		const uint8_t *b = (const uint8_t *)s[k].p;
		size_t n = s[k].n;
		if (piece) {
			for (size_t i = 0; i < n; i += piece) {
				int e = bs_http_feed(&parser, &pctx, s[k].dir, b + i, n - i < piece ? n - i : piece);
				if (e)
					last_err = e;
			}
		} else {
			size_t c = cut && cut < n ? cut : n;
			int e = bs_http_feed(&parser, &pctx, s[k].dir, b, c);
			if (e)
				last_err = e;
			if (c < n && (e = bs_http_feed(&parser, &pctx, s[k].dir, b + c, n - c)) != 0)
				last_err = e;
		}
	}
	bs_http_end(&parser, &pctx);
	size_t o = 0;
	for (size_t i = 0; i < nev; i++)
		o += (size_t)snprintf(joined + o, sizeof joined - o, "%s\n", evlog[i]);
	if (ev_overflow)
		snprintf(joined + o, sizeof joined - o, "OVERFLOW %zu\n", ev_overflow);
	return joined;
}

/* The whole script, then every cut position and byte-at-a-time, must give
 * the same log. Leaves the whole-feed log in evlog/nev. */
static void check_splits(const char *name, const struct seg *s, size_t nseg, size_t max_cut)
{
	static char whole[MAX_EV * LINE];
	snprintf(whole, sizeof whole, "%s", run(s, nseg, 0, 0));
	size_t maxn = 0;
	for (size_t k = 0; k < nseg; k++)
		if (s[k].n > maxn && s[k].dir != 2)
			maxn = s[k].n;
	if (max_cut && maxn > max_cut)
		maxn = max_cut;
	size_t bad = 0, first_bad = 0;
	for (size_t cut = 1; cut < maxn; cut++)
		if (strcmp(run(s, nseg, cut, 0), whole) != 0 && !bad++)
			first_bad = cut;
	if (!ok(bad == 0, "%s: same events split at every byte position", name))
		printf("#   first differing cut %zu:\n%s#   vs whole:\n%s", first_bad, run(s, nseg, first_bad, 0), whole);
	const char *one = run(s, nseg, 0, 1);
	if (!ok(strcmp(one, whole) == 0, "%s: same events one byte at a time", name))
		printf("# one byte:\n%s# whole:\n%s", one, whole);
	run(s, nseg, 0, 0); /* leave the whole-feed events for the caller */
}

static const char *ev(size_t i) { return i < nev ? evlog[i] : ""; }
static bool has(size_t i, const char *needle) { return strstr(ev(i), needle) != NULL; }
static bool log_has(const char *needle)
{
	for (size_t i = 0; i < nev; i++)
		if (strstr(evlog[i], needle))
			return true;
	return false;
}

static size_t gz(const char *in, size_t n, unsigned char *out, size_t cap, int window_bits)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	deflateInit2(&z, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	size_t r = cap - z.avail_out;
	deflateEnd(&z);
	return r;
}

static char hashbuf[32];
static const char *hash_of(const char *s, size_t n)
{
	snprintf(hashbuf, sizeof hashbuf, "hash=%llx ", (unsigned long long)bs_hash64(s, n, 0));
	return hashbuf;
}

/* ------------------------------------------------------------------ tests */

static void test_gzip_deflate(void)
{
	static char html[4000];
	size_t hn = (size_t)snprintf(html, sizeof html,
		"<html><head><script src=\"http://evil.example.net/t.js\"></script>"
		"<script type=\"text/javascript\" SRC='//cdn.example.org/lib.js'></script>"
		"<script src=\"/local.js\"></script></head><body>"
		"<iframe width=0 height=0 src=http://iframe.example.com/x.html></iframe>"
		"<p>contact: webmaster@example.com</p>"
		"<script>window.open( \"http://popup.example.ru/trojan.exe\" ,'_blank');"
		"if (a == b) location.href = 'https://redirect.example.info/';"
		"window.location.replace(\"http://replace.example.biz/\");"
		"document.location=\"http://assign.example.cc/\"; var x = location == y;</script>"
		"<meta http-equiv=\"refresh\" content=\"0; URL='http://meta.example.de/go'\">"
		"</body></html>");
	static unsigned char gzbody[4096], zbody[4096], rawbody[4096];
	size_t gn = gz(html, hn, gzbody, sizeof gzbody, 15 + 16);
	size_t zn = gz(html, hn, zbody, sizeof zbody, 15);
	size_t rn = gz(html, hn, rawbody, sizeof rawbody, -15);
	static char r1[5000], r2[5000], r3[5000];
	int h1 = snprintf(r1, sizeof r1, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
	                  "Content-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", gn);
	memcpy(r1 + h1, gzbody, gn);
	int h2 = snprintf(r2, sizeof r2, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
	                  "Content-Encoding: deflate\r\nContent-Length: %zu\r\n\r\n", zn);
	memcpy(r2 + h2, zbody, zn);
	int h3 = snprintf(r3, sizeof r3, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
	                  "Content-Encoding: deflate\r\nContent-Length: %zu\r\n\r\n", rn);
	memcpy(r3 + h3, rawbody, rn);
	struct seg s[] = {
		S0("GET /p1 HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n"), { 1, r1, (size_t)h1 + gn, 0 },
		S0("GET /p2 HTTP/1.1\r\n\r\n"), { 1, r2, (size_t)h2 + zn, 0 },
		S0("GET /p3 HTTP/1.1\r\n\r\n"), { 1, r3, (size_t)h3 + rn, 0 },
	};
	check_splits("gzip+deflate", s, 6, 0);
	const char *h = hash_of(html, hn);
	char want[64];
	snprintf(want, sizeof want, "rl=%zu ", hn);
	size_t done[3], k = 0;
	for (size_t i = 0; i < nev && k < 3; i++)
		if (strncmp(evlog[i], "HTTP DONE", 9) == 0)
			done[k++] = i;
	is_int(k, 3, "three completions");
	ok(k == 3 && has(done[0], want) && has(done[0], h), "gzip body inflated, hash of the plain page");
	ok(k == 3 && has(done[1], want) && has(done[1], h), "deflate (zlib-wrapped) inflated");
	ok(k == 3 && has(done[2], want) && has(done[2], h), "deflate (raw) inflated");
	ok(k == 3 && has(done[0], "nrefs=8 r=http://evil.example.net/t.js r=//cdn.example.org/lib.js "
	                 "r=http://iframe.example.com/x.html"), "script and iframe src, relative skipped");
	ok(k == 3 && has(done[0], "r=http://popup.example.ru/trojan.exe "), "window.open target");
	ok(k == 3 && has(done[0], "r=https://redirect.example.info/ "), "location.href assignment");
	ok(k == 3 && has(done[0], "r=http://replace.example.biz/ "), "location.replace target");
	ok(k == 3 && has(done[0], "r=http://assign.example.cc/ "), "location= assignment");
	ok(k == 3 && has(done[0], "r=http://meta.example.de/go "), "meta refresh url");
	ok(log_has("ADDR ctx=3 ref=70001 toc=1 a=webmaster@example.com"), "address in the decoded body");
	is_int(parser.count.refs_dropped, 0, "no reference dropped");
}

static void test_refs_across_windows(void)
{
	/* the pop-up sits across a window boundary and the page is sent in
	 * 1-byte pieces: the streaming window must still find it */
	static char page[12000];
	size_t n = 0;
	n += (size_t)snprintf(page, sizeof page, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>");
	size_t body_start = n - 6;
	while (n - body_start < BS_WIN_TAIL + BS_WIN_CHUNK - 20)
		page[n++] = ' ';
	n += (size_t)snprintf(page + n, sizeof page - n,
		"<script>window.open('http://popup.example.ru/a.exe')</script>");
	while (n < 11000)
		page[n++] = 'x';
	n += (size_t)snprintf(page + n, sizeof page - n, "<iframe src=\"http://late.example.com/\"></iframe>");
	struct seg s[] = { S0("GET / HTTP/1.0\r\n\r\n"), { 1, page, n, 0 } };
	check_splits("refs across windows", s, 2, 200);
	ok(has(1, "st=200") && has(1, "nrefs=2 r=http://popup.example.ru/a.exe r=http://late.example.com/ "),
	   "until-close body: references across window boundaries");
}

/* The parser's counters on short exchanges (their events are the cases
 * http/keepalive, pipelined, login-urlencoded, multipart and end-cut). */
static void test_counters(void)
{
	static const struct seg two[] = { S0("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
		S1("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") };
	run(two, 2, 0, 0);
	is_int(parser.count.requests, 2, "requests counted");
	static const struct seg four[] = {
		S0("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nHEAD /c HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n\r\n") };
	run(four, 1, 0, 0);
	is_int(parser.count.queue_overflow, 0, "four pipelined requests fit (FIFO grown past its inline slots)");
	static const struct seg login[] = {
		S0("POST /l HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 21\r\n\r\n"
		   "username=a&password=b"),
		S1("HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n") };
	run(login, 2, 0, 0);
	ok(log_has("user=a pw=1"), "login form seen");
	is_int(parser.count.logins, 1, "one login counted");
	static const struct seg upload[] = {
		S0("POST /u HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 163\r\n\r\n"
		   "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.php\"\r\n\r\nA\r\n"
		   "--XyZ\r\nContent-Disposition: form-data; name=\"g\"; filename=\"b.txt\"\r\n\r\nB\r\n--XyZ--\r\n") };
	run(upload, 1, 0, 0);
	is_int(parser.count.uploads, 2, "two uploads counted");
	static const struct seg cut[] = { S0("POST /cut HTTP/1.1\r\nContent-Length: 100\r\n\r\nuser=eve") };
	run(cut, 1, 0, 0);
	is_int(parser.count.unanswered, 1, "unanswered counted");
}

static void test_bomb(void)
{
	size_t plain = 20u << 20;
	char *zeros = calloc(1, plain);
	size_t cap = plain / 100;
	unsigned char *z = malloc(cap);
	size_t zn = gz(zeros, plain, z, cap, 15 + 16);
	char *resp = malloc(zn + 200);
	int h = snprintf(resp, 200, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", zn);
	memcpy(resp + h, z, zn);
	struct seg s[] = { S0("GET /bomb HTTP/1.1\r\n\r\n"), { 1, resp, (size_t)h + zn, 0 },
	                   S0("GET /after HTTP/1.1\r\n\r\n"), S1("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") };
	const char *log = run(s, 4, 0, 0);
	char want[64];
	snprintf(want, sizeof want, "st=200 rb=%zu rl=%u ", zn, BS_HTTP_INFLATE_MAX);
	ok(strstr(log, want) != NULL, "bomb: %zu bytes of gzip stop at the 8 MiB cap", zn);
	is_int(parser.count.bombs, 1, "bomb counted");
	ok(strstr(log, "uri=/after") && strstr(log, "st=200 rb=0"), "the flow goes on after the bomb");
	static char whole[MAX_EV * LINE];
	snprintf(whole, sizeof whole, "%s", log);
	ok(strcmp(run(s, 4, 0, 997), whole) == 0, "bomb: same events in 997-byte pieces");
	ok(strcmp(run(s, 4, 1234, 0), whole) == 0, "bomb: same events cut at 1234");
	free(zeros);
	free(z);
	free(resp);
}

static void test_long_header(void)
{
	size_t n = 1 << 20;
	char *req = malloc(n + 200);
	size_t o = (size_t)sprintf(req, "GET /x HTTP/1.1\r\nX-Long: ");
	memset(req + o, 'A', n);
	o += n;
	o += (size_t)sprintf(req + o, "\r\nHost: after.example.com\r\n\r\n");
	char *uri = malloc(n + 200);
	size_t u = (size_t)sprintf(uri, "GET /");
	memset(uri + u, 'b', 5000);
	u += 5000;
	u += (size_t)sprintf(uri + u, " HTTP/1.1\r\n\r\n");
	struct seg s[] = { { 0, req, o, 0 }, S1("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	                   { 0, uri, u, 0 }, S1("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") };
	const char *log = run(s, 4, 0, 0);
	ok(strstr(log, "uri=/x host=after.example.com") != NULL, "1 MB header line skipped, later header kept");
	is_int(parser.count.long_lines, 1, "long line counted");
	is_int(last_err, 0, "no error");
	ok(strstr(log, "bbb... ") != NULL, "5000-byte URI truncated and marked");
	is_int(parser.count.uri_truncated, 1, "URI truncation counted");
	static char whole[MAX_EV * LINE];
	snprintf(whole, sizeof whole, "%s", log);
	ok(strcmp(run(s, 4, 0, 4093), whole) == 0, "1 MB line: same events in 4093-byte pieces");
	ok(strcmp(run(s, 4, 8190, 0), whole) == 0, "1 MB line: same events cut near the line cap");
	free(req);
	free(uri);
}

static void test_garbage(void)
{
	/* nothing is fatal any more: junk is skipped and counted, broken
	 * framing ends the message there (tests/cases/http hold the details) */
	static const struct seg tls[] = { S0("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n") };
	run(tls, 1, 0, 0);
	is_int(last_err, 0, "TLS bytes: no error");
	is_int(nev, 1, "TLS bytes: one anomaly event");
	is_int(parser.count.junk_bytes, 12, "TLS bytes: counted as skipped");
	is_str(bs_http_strerror(BS_HTTP_ERR_REQUEST_LINE), "not an HTTP request line", "strerror");
	static const struct seg bad_status[] = { S0("GET / HTTP/1.1\r\n\r\n"), S1("SSH-2.0-OpenSSH_4.3\r\n") };
	run(bad_status, 2, 0, 0);
	is_int(last_err, 0, "not a status line: no error");
	ok(has(0, "HTTP REQ") && has(1, "HTTP DONE") && has(1, "st=0 "), "request still reported at end, unanswered");
	static const struct seg bad_chunk[] = { S0("GET / HTTP/1.1\r\n\r\n"),
		S1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") };
	run(bad_chunk, 2, 0, 0);
	ok(last_err == 0 && has(1, "st=200 "), "bad chunk size: the response is reported");
	static const struct seg huge_chunk[] = { S0("GET / HTTP/1.1\r\n\r\n"),
		S1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n") };
	run(huge_chunk, 2, 0, 0);
	ok(last_err == 0 && has(1, "st=200 "), "chunk size overflow: the response is reported");
	is_int(parser.count.bad_chunks, 1, "chunk size overflow counted");
	static const struct seg bad_len[] = { S0("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") };
	run(bad_len, 1, 0, 0);
	ok(last_err == 0 && has(0, "HTTP REQ") && has(0, "m=POST"), "conflicting Content-Length: request reported");
	static const struct seg nul[] = { S0("GET /a\0b HTTP/1.1\r\n\r\n") };
	run(nul, 1, 0, 0);
	ok(last_err == 0 && nev == 1 && parser.count.junk_bytes == 21, "NUL byte in the request line: skipped, counted");
	static const struct seg binary_body[] = { S0("GET / HTTP/1.1\r\n\r\n"),
		S1("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: 14\r\n\r\n"
		   "\x1f\x8b\x08\x00\xff\xfe\x00\xc3\x28\x00\xff\xff\xff\xff"),
		S0("GET /2 HTTP/1.1\r\n\r\n"), S1("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\xff\x00\xfe") };
	check_splits("corrupt gzip", binary_body, 4, 0);
	ok(has(1, "st=200 rb=14") && has(3, "uri=/2") && has(3, "rl=3 "), "corrupt gzip body: flow goes on");
	is_int(parser.count.inflate_errors, 1, "inflate error counted");
}

static void test_gap(void)
{
	static const struct seg s[] = {
		S0("GET /one HTTP/1.1\r\nHost: h\r\n\r\n"),
		S0("GET /two HTTP/1.1\r\nHo"),
		{ 2, NULL, 1400, 0 },
		S0("ost: lost\r\n\r\nxx\r\nGET /three HTTP/1.1\r\nHost: h\r\n\r\n"),
		S1("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"),
		S1("HTTP/1.1 500 Oops\r\nContent-Length: 1\r\n\r\n2"),
		S1("HTTP/1.1 403 Forbidden\r\nContent-Length: 1\r\n\r\n3"),
		S0("POST /four HTTP/1.1\r\nContent-Length: 10000\r\n\r\nabc"),
		{ 2, NULL, 500, 0 },
		S0("GET /not-a-request-it-is-body HTTP/1.1\r\n\r\n"),
		S1("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123"),
		{ 2, NULL, 5000, 1 },
		S1("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	check_splits("gap", s, 13, 0);
	ok(has(0, "HTTP REQ") && has(0, "uri=/one"), "request before the gap");
	ok(has(1, "HTTP REQ") && has(1, "uri=/three"), "resynchronised on the next request line");
	ok(has(2, "HTTP DONE") && has(2, "uri=/one") && has(2, "st=200"), "first response pairs with /one");
	ok(has(3, "HTTP DONE") && has(3, "uri=/three") && has(3, "st=403"), "lost request's response skipped");
	ok(!log_has("uri=/two") && !log_has("host=lost"), "the damaged request is dropped");
	ok(log_has("uri=/four") && log_has("blen=545 "), "gap inside a body keeps the framing");
	ok(!log_has("not-a-request"), "body bytes after a gap are not parsed as a request");
	ok(log_has("uri=/four") && log_has("st=0 "), "response cut by a gap: completion without status");
	is_int(parser.count.gaps, 3, "gaps counted");
	is_int(parser.count.messages_dropped, 2, "dropped messages counted");
}

static void test_sniff_and_def(void)
{
	ok(bs_http_sniff(0, (const uint8_t *)"GET / HTTP/1.1\r\n", 16), "sniff GET");
	ok(bs_http_sniff(0, (const uint8_t *)"POST /x", 7), "sniff POST");
	ok(bs_http_sniff(1, (const uint8_t *)"HTTP/1.1 200 OK", 15), "sniff status line");
	ok(!bs_http_sniff(0, (const uint8_t *)"GETS / HTTP/1.1", 15), "GETS is no method");
	ok(!bs_http_sniff(0, (const uint8_t *)"EHLO x", 6), "SMTP is not HTTP");
	ok(!bs_http_sniff(1, (const uint8_t *)"220 mail ESMTP", 14), "SMTP banner is not HTTP");
	ok(!bs_http_sniff(0, (const uint8_t *)"GE", 2), "too short");
	is_str(bs_proto_http.name, "http", "def name");
	is_int(bs_proto_http.ports[0], 80, "def port 80");
	is_int(bs_proto_http.state_size, sizeof(struct bs_http), "def state size");
}

/* bs_hash64: the same value whatever the pieces, and sensitive to length
 * and content. */
static void test_hash64(void)
{
	static unsigned char buf[1000];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	uint64_t whole = bs_hash64(buf, sizeof buf, 0);
	bool same = true;
	for (size_t piece = 1; piece <= 17; piece++) {
		struct bs_hash64 h;
		bs_hash64_init(&h, 0);
		for (size_t o = 0; o < sizeof buf; o += piece)
			bs_hash64_feed(&h, buf + o, o + piece > sizeof buf ? sizeof buf - o : piece);
		same &= bs_hash64_final(&h) == whole;
	}
	ok(same, "hash64: pieces of 1 to 17 bytes give the hash of the whole");
	/* every length of the whole-buffer path (word by word, the tail read as
	 * one last word) against the byte-at-a-time stream, from a separately
	 * allocated copy of exactly that length */
	int wrong = 0;
	for (size_t n = 0; n <= 64; n++) {
		unsigned char *b = malloc(n ? n : 1);
		memcpy(b, buf + 3, n);
		struct bs_hash64 h;
		bs_hash64_init(&h, 5);
		for (size_t o = 0; o < n; o++)
			bs_hash64_feed(&h, b + o, 1);
		wrong += bs_hash64(b, n, 5) != bs_hash64_final(&h);
		free(b);
	}
	is_int(wrong, 0, "hash64: a whole buffer of 0 to 64 bytes hashes as fed byte by byte");
	ok(bs_hash64("a", 1, 0) != bs_hash64("a\0", 2, 0), "hash64: a trailing NUL changes the hash");
	ok(bs_hash64("", 0, 0) != bs_hash64("", 0, 1), "hash64: the seed changes the hash");
	buf[500] ^= 1;
	ok(bs_hash64(buf, sizeof buf, 0) != whole, "hash64: one bit changes the hash");
}

/* ------------------------------------------------------------------ content */

/* The shell-output check as first written (five searches and a line loop):
 * bs_content_is_shell_output() must agree with it on any bytes. */
static bool ref_perm_line(const char *l, size_t n)
{
	if (n < 10 || !strchr("-dlcbps", l[0]) || l[0] == 0)
		return false;
	for (size_t i = 1; i < 10; i++)
		if (!strchr("rwxsStT-", l[i]) || l[i] == 0)
			return false;
	return true;
}

static bool ref_ci_after_space(const char *s, size_t n, const char *pat, size_t pl)
{
	for (const char *p = s; (p = bs_memmem_ci(p, (size_t)(s + n - p), pat, pl)) != NULL; p++)
		if (p > s && p[-1] == ' ')
			return true;
	return false;
}

static bool ref_uid_gid(const char *s, size_t n)
{
	const char *u = s;
	while ((u = bs_memmem_ci(u, (size_t)(s + n - u), "uid=", 4)) != NULL) {
		u += 4;
		size_t k = (size_t)(u - s), d = k;
		while (d < n && s[d] >= '0' && s[d] <= '9')
			d++;
		if (d > k && d < n && s[d] == '(') {
			size_t lim = d + 64 < n ? d + 64 : n;
			if (bs_memmem_ci(s + d, lim - d, ") gid=", 6))
				return true;
		}
	}
	return false;
}

static bool ref_lines(const char *s, size_t n)
{
	bool linux_seen = bs_memmem_ci(s, n, "gnu/linux", 9) != NULL;
	size_t perms_in_row = 0;
	bool prev_total = false;
	for (size_t i = 0; i < n;) {
		const char *lf = memchr(s + i, '\n', n - i);
		size_t e = lf ? (size_t)(lf - s) : n;
		const char *l = s + i;
		size_t ln = e - i;
		if (ln >= 5 && bs_str_istarts(bs_str_make(l, ln), "<pre>")) {
			l += 5;
			ln -= 5;
		}
		bool perm = ref_perm_line(l, ln);
		if (perm && (prev_total || ++perms_in_row >= 2))
			return true;
		if (!perm)
			perms_in_row = 0;
		prev_total = ln >= 7 && memcmp(l, "total ", 6) == 0 && l[6] >= '0' && l[6] <= '9';
		const char *lx = linux_seen ? bs_memmem_ci(l, ln, "Linux ", 6) : NULL;
		if (lx && bs_memmem_ci(lx, ln - (size_t)(lx - l), "GNU/Linux", 9))
			return true;
		i = e + 1;
	}
	return false;
}

static bool ref_shell_output(const char *s, size_t n)
{
	if (ref_uid_gid(s, n))
		return true;
	for (const char *z = s; (z = memmem(z, (size_t)(s + n - z), ":0:0:", 5)) != NULL; z++) {
		size_t at = (size_t)(z - s);
		if (at >= 6 && bs_str_istarts(bs_str_make(z - 6, 5), "root:") && (z[-1] == 'x' || z[-1] == 'X' || z[-1] == '*'))
			return true;
	}
	if (ref_ci_after_space(s, n, "volume in drive ", 16) || ref_ci_after_space(s, n, "directory of ", 13))
		return true;
	return ref_lines(s, n);
}

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

/* n bytes of the pieces (their letters' case flipped now and then) and
 * random bytes: pieces of every pattern and near misses, so that both
 * answers come often. */
static void ugly_fill(char *b, size_t n, const char *const *pieces, size_t npieces)
{
	for (size_t o = 0; o < n;) {
		uint32_t r = rng();
		if (r % 5 == 0) {
			b[o++] = (char)(rng() & 0xff);
			continue;
		}
		const char *pc = pieces[r % npieces];
		size_t pl = pc[0] ? strlen(pc) : 1;
		for (size_t i = 0; i < pl && o < n; i++) {
			char ch = pc[i];
			if ((rng() & 7) == 0 && ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'))
				ch ^= 0x20;
			b[o++] = ch;
		}
	}
}

static size_t ugly_text(char *b, size_t cap)
{
	static const char *const pieces[] = { "uid=", "UID=", "0", "48", "(", ")", " gid=", ") gid=", "root:",
		"x", "*", ":0:0:", ":0:", " ", "volume in drive ", "Directory of ", "GNU/Linux", "Linux ", "gnu/",
		"\n", "\r\n", "<pre>", "<PRE>", "drwxr-xr-x", "-rw-r--r--", "lrwxrwxrwx", "-rw-", "total ",
		"total 9", "a", "<b>", "/l", "ui", "\0", "\t", "uid=0(root) gid=0(root)" };
	size_t n = rng() % cap;
	ugly_fill(b, n, pieces, sizeof pieces / sizeof *pieces);
	return n;
}

static void test_shell_output(bool avx2_off)
{
	bs_content_avx2_off = avx2_off;
	static const char *const yes[] = { "uid=33(www-data) gid=33(www-data) groups=33(www-data)\n",
		"root:x:0:0:root:/root:/bin/bash\n", " Volume in drive C has no label.\n",
		"<pre>total 8\ndrwxr-xr-x 2 root root 4096 .\n", "-rw-r--r-- 1 a a 1 x\n-rw-r--r-- 1 a a 1 y\n",
		"Linux www 2.6.18 #1 SMP i686 GNU/Linux\n" };
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		ok(bs_content_is_shell_output(yes[i], strlen(yes[i])), "shell output: %.20s", yes[i]);
	ok(!bs_content_is_shell_output("<html><body>GNU/Linux rocks</body></html>", 41), "a page is no shell output");
	static char buf[1100];
	size_t agree = 0, trials = 0, positives = 0;
	for (int t = 0; t < 20000; t++) {
		size_t n = ugly_text(buf, t % 10 ? 200 : sizeof buf);
		/* every length of the first ones: the end of the buffer cuts a pattern anywhere */
		for (size_t m = t < 300 ? 0 : n; m <= n; m++) {
			bool want = ref_shell_output(buf, m);
			trials++;
			positives += want;
			agree += bs_content_is_shell_output(buf, m) == want;
		}
	}
	is_int(agree, trials, "shell output (%s): one pass agrees with the five searches (%zu texts, %zu positive)",
	       avx2_off ? "SSE2" : "AVX2 where the CPU has it", trials, positives);
	bs_content_avx2_off = false;
	ok(positives > trials / 10 && positives < trials - trials / 10, "shell output: both answers tested");
}

/* bs_http_next_ref_start (SSE2, 16 bytes at a time) against the three bytes
 * of each pattern compared one place after the other. */
static size_t ref_next_slow(const char *w, size_t at, size_t n)
{
	static const char *const pre[] = { "<sc", "<if", "<fr", "<me", "<em", "<ob", "loc", "win", "doc", "eva",
		".sr", ".in", "une", "ato", ".fr", "<a ", "<a\t", "<a\n", "<a\r", "<ap" };
	for (; at + 3 <= n; at++)
		for (size_t k = 0; k < sizeof pre / sizeof *pre; k++)
			if (bs_ascii_lower((unsigned char)w[at]) == (unsigned char)pre[k][0] &&
			    bs_ascii_lower((unsigned char)w[at + 1]) == (unsigned char)pre[k][1] &&
			    bs_ascii_lower((unsigned char)w[at + 2]) == (unsigned char)pre[k][2])
				return at;
	return n;
}

static void test_ref_starts(bool avx2_off)
{
	bs_http_avx2_off = avx2_off;
	static const char *const pieces[] = { "<script", "<SCRIPT", "<sc", "<iframe", "<IF", "<frame", "<Fr",
		"<meta", "<ME", "location", "LOC", "lo", "window", "WIN", "wi", "<", "l", "w", "L", "W", ",", "\xcc",
		"\xec", "\x0c", "\0", " ", "a", "<s", "<i", "document", "DO", "d", "eval", "EV", "e", ".src", ".S",
		".innerHTML", ".IN", ".", "\x0e", "unescape", "UN", "u", "atob", "AT", "t", ".fromCharCode", ".F", "n", "<embed", "<EM",
		"<object", "<Ob", "o", "<e", "<o", "<a", "<A", "\t", "\n", "\r", "<a href", "<applet", "<aP", "p" };
	static char buf[300];
	size_t agree = 0, trials = 0, found = 0;
	for (int t = 0; t < 20000; t++) {
		size_t n = rng() % sizeof buf;
		ugly_fill(buf, n, pieces, sizeof pieces / sizeof *pieces);
		for (size_t at = 0; at <= n; at++) {
			size_t want = ref_next_slow(buf, at, n);
			trials++;
			found += want < n;
			agree += bs_http_next_ref_start(buf, at, n) == want;
		}
	}
	is_int(agree, trials, "ref starts (%s): agree with byte by byte (%zu starts, %zu found)",
	       avx2_off ? "SSE2" : "AVX2 where the CPU has it", trials, found);
	bs_http_avx2_off = false;
}

/* Lines that lie whole in a segment are parsed there, others in the line
 * buffer: feeding a script whole must give what random pieces give (pieces
 * of 1 to 40 bytes, and some up to 9000, so lines fall either way). */
static const char *run_random(const struct seg *s, size_t nseg, size_t maxpiece)
{
	static struct seg pieces[4096];
	size_t np = 0;
	for (size_t k = 0; k < nseg; k++)
		for (size_t i = 0; i < s[k].n && np < sizeof pieces / sizeof *pieces;) {
			size_t m = 1 + rng() % maxpiece;
			if (m > s[k].n - i)
				m = s[k].n - i;
			pieces[np++] = (struct seg){ s[k].dir, s[k].p + i, m, 0 };
			i += m;
		}
	return run(pieces, np, 0, 0);
}

static void check_random_pieces(const char *name, const struct seg *s, size_t nseg)
{
	static char whole[MAX_EV * LINE];
	snprintf(whole, sizeof whole, "%s", run(s, nseg, 0, 0));
	size_t bad = 0;
	for (int t = 0; t < 200; t++)
		if (strcmp(run_random(s, nseg, t % 2 ? 40 : 9000), whole) != 0)
			bad++;
	ok(bad == 0 && nev > 0, "%s: same events in random pieces as whole (%zu of 200 differ)", name, bad);
}

static void test_inplace_lines(void)
{
	static char longhdr[9000 + 64];
	memcpy(longhdr, "GET /l HTTP/1.1\r\nHost: a.example\r\nX-Long: ", 43);
	memset(longhdr + 43, 'x', 8300);
	memcpy(longhdr + 43 + 8300, "\r\nCookie: a=b\r\n\r\n", 18);
	const struct seg s[] = {
		S0("junk line\r\nGET /a?user=bob%40x.example&pass=1 HTTP/1.1\r\nHost: www.example\r\n"
		   "User-Agent: t\r\nCookie: s=1\r\n folded\r\nReferer: http://r.example/\r\n\r\n"),
		S1("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: k=v; path=/\r\n"
		   "Transfer-Encoding: gzip,\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n"),
		S0("POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
		   "Content-Length: 27\r\n\r\nuser=eve%40y.example&pw=zz"),
		S0("\n"),
		S1("HTTP/1.0 302 Found\nLocation: /x\nContent-Length: 0\n\n"),
		{ 0, longhdr, 43 + 8300 + 17, 0 },
		S1("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno\n"),
		S0("GET /nine\r\n"),
		S1("<html><a href=\"http://nine.example/\">x</a>\r\nmail bob@z.example\nend"),
	};
	check_random_pieces("in-place lines", s, sizeof s / sizeof *s);
	const struct seg s09[] = {
		S0("GET /\r\n"),
		S1("no status line\r\nsecond line bob@q.example\r\n"),
	};
	check_random_pieces("in-place HTTP/0.9 lines", s09, sizeof s09 / sizeof *s09);
}

/* An invalid escape written out just before the decoder's window buffer
 * fills ("%%4z": a literal "%", a pending "%4", then a byte that is no hex
 * digit): every byte reaches the scan window, at every fill level, so the
 * address after it keeps its first letter. */
static void test_form_escape_at_fill(void)
{
	static char req[1024];
	size_t bad = 0;
	for (size_t k = 230; k < 290; k++) {
		char body[512];
		size_t bn = 0;
		memcpy(body, "note=", 5);
		bn = 5;
		memset(body + bn, 'a', k);
		bn += k;
		const char *tail = "+%%4zbob@q.example&x=1";
		memcpy(body + bn, tail, strlen(tail));
		bn += strlen(tail);
		int hn = snprintf(req, sizeof req, "POST /f HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded"
		                  "\r\nContent-Length: %zu\r\n\r\n", bn);
		memcpy(req + hn, body, bn);
		const struct seg s[] = { { 0, req, (size_t)hn + bn, 0 } };
		for (int fast = 0; fast < 2; fast++) {
			bs_http_fast_off = !fast;
			run(s, 1, 0, 0);
			if (!log_has("zbob@q.example")) {
				if (!bad++)
					printf("# first miss: %zu bytes before the escape%s\n", k, fast ? "" : " (byte path)");
			}
		}
		bs_http_fast_off = false;
	}
	ok(bad == 0, "an address after an invalid escape at the window's fill level is whole (%zu misses)", bad);
}

/* Form bodies and query strings of escapes, separators, long names and
 * values of every kind: decoded in bulk runs they give the events of the
 * byte-by-byte decoder, whole and in random pieces. */
static void test_form_bulk(void)
{
	static const char *const pieces[] = { "user=", "username=", "pass=", "password=", "domain=", "x=", "&",
		"=", "%", "%4", "%40", "%4G", "%%", "+", "bob", "@", "eve@x.example", "a.example", "&&", "==",
		"mail=", "pwd=", "%2540", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "\0", "\n" };
	static char body[3000], req[3400], url[3400];
	size_t bad = 0, trials = 300;
	for (size_t t = 0; t < trials; t++) {
		size_t bn = 1 + rng() % (t % 3 ? 300 : sizeof body);
		ugly_fill(body, bn, pieces, sizeof pieces / sizeof *pieces);
		int hn = snprintf(req, sizeof req, "POST /f HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded"
		                  "\r\nContent-Length: %zu\r\n\r\n", bn);
		memcpy(req + hn, body, bn);
		size_t qn = 0;
		for (size_t i = 0; i < bn && i < 2000; i++)
			if ((unsigned char)body[i] > 0x20 && body[i] != '?')
				url[16 + qn++] = body[i];
		memcpy(url, "GET /q?a=1&user=", 16);
		memcpy(url + 16 + qn, " HTTP/1.1\r\n\r\n", 13);
		const struct seg s[] = { { 0, req, (size_t)hn + bn, 0 }, { 0, url, 16 + qn + 13, 0 } };
		static char slow[MAX_EV * LINE], slow_pieces[MAX_EV * LINE];
		bs_http_fast_off = true;
		snprintf(slow, sizeof slow, "%s", run(s, 2, 0, 0));
		snprintf(slow_pieces, sizeof slow_pieces, "%s", run_random(s, 2, 40));
		bs_http_fast_off = false;
		if (strcmp(run(s, 2, 0, 0), slow) != 0 || strcmp(run_random(s, 2, 40), slow_pieces) != 0) {
			if (!bad++)
				printf("# first differing body (%zu bytes):\n%s", bn, slow);
		}
	}
	ok(bad == 0, "forms decoded in bulk runs give the byte-by-byte events (%zu of %zu differ)", bad, trials);
}

/* Header blocks of names known, near and unknown in every case, values
 * that frame bodies, CRs and garbage: the lines dropped before the colon
 * is searched give the events of parsing every line. */
static size_t ugly_headers(char *b, size_t cap)
{
	static const char *const names[] = { "Host", "Cookie", "Referer", "User-Agent", "Set-Cookie",
		"Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding", "\rHost", "\rTransfer-Encoding",
		"Location", "Authorization", "Locatio", "Authorisation",
		"Server", "Connection", "Accept", "X-Host", "Hos", "Ho", "Trailer", "Usage", "Referrer", "Se", "", "@st" };
	static const char *const seps[] = { ":", ": ", " :", "\t: ", "", "\r:" };
	static const char *const values[] = { "5", "0", "chunked", "gzip, chunked", "gzip", "text/html",
		"multipart/form-data; boundary=zz", "application/x-www-form-urlencoded", "bob@x.example",
		"k=v; path=/", "", "a\rb", "identity", "Basic YWxpY2U6cHc=", "/login?error=1" };
	static const char *const ends[] = { "\r\n", "\n", "\r\r\n", "\r\n " };
	size_t o = 0;
	while (o + 120 < cap && rng() % 12) {
		char line[120];
		if (rng() % 6 == 0) {
			static const char *const junk[] = { "x", ":", "\r", " ", "\t", "Ho", "st", "\0" };
			ugly_fill(line, 1 + rng() % 30, junk, sizeof junk / sizeof *junk);
			size_t ln = 1 + rng() % 30;
			memcpy(b + o, line, ln);
			o += ln;
		} else {
			int ln = snprintf(line, sizeof line, "%s%s%s", names[rng() % (sizeof names / sizeof *names)],
			                  seps[rng() % (sizeof seps / sizeof *seps)], values[rng() % (sizeof values / sizeof *values)]);
			for (int i = 0; i < ln; i++)
				if ((rng() & 7) == 0 && ((line[i] | 0x20) >= 'a' && (line[i] | 0x20) <= 'z'))
					line[i] ^= 0x20;
			memcpy(b + o, line, (size_t)ln);
			o += (size_t)ln;
		}
		const char *e = ends[rng() % (sizeof ends / sizeof *ends)];
		memcpy(b + o, e, strlen(e));
		o += strlen(e);
	}
	return o;
}

static void test_header_prefilter(void)
{
	static char req[2600], resp[2600], hdrs[2000];
	size_t bad = 0, trials = 1000;
	for (size_t t = 0; t < trials; t++) {
		size_t hn = ugly_headers(hdrs, sizeof hdrs);
		int rn = snprintf(req, sizeof req, "POST /p HTTP/1.1\r\n%.*s\r\nuser=a%%40b&x=1\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
		                  "GET /n HTTP/1.1\r\n\r\n", (int)hn, hdrs);
		int sn = snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\n%.*s\r\n0\r\n\r\n<a href=\"http://r.example/\">"
		                  "HTTP/1.1 204 No\r\n\r\n", (int)hn, hdrs);
		const struct seg s[] = { { 0, req, (size_t)rn, 0 }, { 1, resp, (size_t)sn, 0 } };
		static char slow[MAX_EV * LINE];
		bs_http_fast_off = true;
		snprintf(slow, sizeof slow, "%s", run(s, 2, 0, 0));
		bs_http_fast_off = false;
		if (strcmp(run(s, 2, 0, 0), slow) != 0 && !bad++)
			printf("# first differing headers:\n%s", slow);
	}
	ok(bad == 0, "header lines dropped early give the events of parsing each (%zu of %zu differ)", bad, trials);
}

int main(void)
{
	test_ref_starts(false);
	test_ref_starts(true);
	test_shell_output(false);
	test_shell_output(true);
	test_hash64();
	test_gzip_deflate();
	test_refs_across_windows();
	test_counters();
	test_bomb();
	test_long_header();
	test_garbage();
	test_gap();
	test_sniff_and_def();
	test_inplace_lines();
	test_form_bulk();
	test_form_escape_at_fill();
	test_header_prefilter();
	return tap_done();
}

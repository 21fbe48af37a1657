/* test_weblog.c - Apache/nginx access log lines. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static struct bs_event last;
static int nevents;

static void record(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	last = *ev; /* strings point into the test's line, which outlives the check */
	nevents++;
}

static struct bs_sink sink = { record, NULL };

static enum bs_verdict feed(const char *line)
{
	struct bs_line_ctx c = { NULL, &sink, 3, 42, NULL };
	nevents = 0;
	memset(&last, 0, sizeof last);
	return bs_weblog_line(&c, line, strlen(line));
}

static void test_combined(void)
{
	const char *l = "192.0.2.9 - - [04/May/2007:17:31:02 +0200] \"GET /atmail/index.php?func=login HTTP/1.1\" 200 5123 \"http://webmail.example.net/\" \"Mozilla/5.0 (X11; Linux x86_64) \\\"quoted\\\"\"";
	ok(bs_weblog_detect(l, strlen(l)), "combined: detected");
	is_int(feed(l), BS_PARSED, "combined: parsed");
	is_int(nevents, 1, "combined: one event");
	is_int(last.type, BS_EV_HTTP, "combined: HTTP event");
	is_int(last.u.http.phase, BS_HTTP_COMPLETE, "combined: phase COMPLETE");
	ok(last.u.http.from_access_log, "combined: from_access_log");
	is_int(last.ts, bs_time_make(2007, 5, 4, 15, 31, 2, 0), "combined: zone applied");
	char ip[BS_IP_STRLEN];
	bs_ip_format(&last.src, ip, sizeof ip);
	is_str(ip, "192.0.2.9", "combined: client");
	is_int(last.dst.family, 0, "combined: server unknown");
	is_bs(last.host, "", "combined: no logging host");
	is_bs(last.u.http.method, "GET", "combined: method");
	is_bs(last.u.http.uri, "/atmail/index.php?func=login", "combined: uri with query");
	is_int(last.u.http.status, 200, "combined: status");
	is_int(last.u.http.resp_bytes, 5123, "combined: bytes");
	is_bs(last.u.http.referer, "http://webmail.example.net/", "combined: referer");
	is_bs(last.u.http.user_agent, "Mozilla/5.0 (X11; Linux x86_64) \\\"quoted\\\"", "combined: agent with escaped quotes");
	is_int(last.origin.input, 3, "origin input");
	is_int(last.origin.ref, 42, "origin line");
	is_int(last.u.http.txn_id, 42, "txn id is the line number");
}

static void test_variants(void)
{
	is_int(feed("172.17.0.1 - - [29/Sep/2021:12:37:05 +0000] \"GET /start.php?lang=http://cirt.net/rfiinc.txt? HTTP/1.1\" 404 196"), BS_PARSED, "common format");
	is_bs(last.u.http.referer, "", "common: no referer");
	is_bs(last.u.http.user_agent, "", "common: no agent");
	is_int(feed("webmail.example.net:443 2001:db8::7 - alice [04/May/2007:17:31:02 -0500] \"POST /login HTTP/1.1\" 302 - \"-\" \"curl/7.68.0\""), BS_PARSED, "vhost:port and IPv6");
	char ip[BS_IP_STRLEN];
	bs_ip_format(&last.src, ip, sizeof ip);
	is_str(ip, "2001:db8::7", "IPv6 client");
	is_bs(last.u.http.host, "webmail.example.net", "vhost without port");
	is_int(last.u.http.resp_bytes, 0, "bytes '-' is 0");
	is_bs(last.u.http.referer, "", "referer '-' is empty");
	is_int(last.ts, bs_time_make(2007, 5, 4, 22, 31, 2, 0), "negative zone");
	is_int(feed("www.sitename.com 192.0.2.222 - - [18/Aug/2024:21:08:39 +0100] \"GET / HTTP/1.1\" 403 332 \"-\" \"Googlebot\""), BS_PARSED, "vhost without port");
	is_bs(last.u.http.host, "www.sitename.com", "vhost host");
	is_int(feed("1.2.3.4 - - [17/Oct/2023:05:57:49 +1100] \"\\x16\\x03\\x01\\x01 \\x02\" 400 226 \"-\" \"-\""), BS_PARSED, "TLS bytes as request");
	is_bs(last.u.http.method, "", "TLS bytes: no method");
	is_bs(last.u.http.uri, "\\x16\\x03\\x01\\x01 \\x02", "TLS bytes: raw request as uri");
	is_int(feed("12.34.56.78 - root [20/Jan/2015:19:53:28 +0100] \"\" 400 47 \"-\" \"-\" \"-\""), BS_PARSED, "empty request (nginx)");
	is_bs(last.u.http.uri, "", "empty request: empty uri");
	is_int(feed("12.34.56.78 - - [20/Jan/2015:19:53:28 +0100] \"-\" 400 0 \"-\" \"-\""), BS_PARSED, "'-' request");
	is_bs(last.u.http.uri, "", "'-' request: empty uri");
	is_int(feed("10.0.0.1 - - [13/Jan/2016:19:31:16 +0000] \"GET /x.php?a=b c HTTP/1.1\" 200 494"), BS_PARSED, "space in uri");
	is_bs(last.u.http.method, "", "four-part request line is not trusted");
	is_int(feed("66.249.66.1 - - - [31/Jan/2015:14:29:44 ] fail2ban.org \"GET / HTTP/1.1\" 200 814 \"-\" \"x\""), BS_PARSED, "custom format with empty zone");
	is_int(last.ts, bs_time_make(2015, 1, 31, 14, 29, 44, 0), "no zone: UTC");
	is_int(feed("10.0.0.1 - - [13/Jan/2016:19:31:16 +0000] \"GET / HTTP/1.0\""), BS_MALFORMED, "missing status");
	is_int(feed("10.0.0.1 - - [13/Foo/2016:19:31:16 +0000] \"GET / HTTP/1.0\" 200 1"), BS_MALFORMED, "bad month");
	is_int(feed("notanip - - [13/Jan/2016:19:31:16 +0000] \"GET / HTTP/1.0\" 200 1"), BS_MALFORMED, "client not an address");
	is_int(feed("10.0.0.1 - - [13/Jan/2016:19:31:16 +0000] \"GET / HTTP/1.0 200 1"), BS_MALFORMED, "unterminated request");
	ok(!bs_weblog_detect("May  4 17:31:02 mx1 postfix/smtpd[1]: connect", 44), "syslog is not an access log");
	ok(!bs_weblog_detect("", 0), "empty is not an access log");
}

static void test_prefixes(void)
{
	const char *l = "webmail.example.net:443 2001:db8::7 - alice [04/May/2007:17:31:02 -0500] \"POST /login?x=\\\"1 HTTP/1.1\" 302 17 \"http://r/\" \"curl/7.68.0\"";
	size_t n = strlen(l);
	int survived = 0;
	for (size_t cut = 0; cut <= n; cut++) {
		char *copy = malloc(cut ? cut : 1);
		memcpy(copy, l, cut);
		struct bs_line_ctx c = { NULL, &sink, 0, 1, NULL };
		(void)bs_weblog_detect(copy, cut);
		(void)bs_weblog_line(&c, copy, cut);
		free(copy);
		survived++;
	}
	is_int(survived, (int)n + 1, "every prefix of a line handled without reading past it");
}

int main(void)
{
	test_combined();
	test_variants();
	test_prefixes();
	return tap_done();
}

/* test_weblog.c - Apache/nginx access logs: what is not a case of events
 * (the lines, and every cut of them, are tests/cases/weblog): what the
 * detector claims, and the quoted fields against the byte-at-a-time scan
 * the parser had before it used memchr. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

/* The scan as it was: skip spaces, a '"', then bytes up to a '"' that no
 * backslash takes; in the request line first a quote followed by " NNN". */
static bool ref_quoted(const char **pp, const char *end, bool request, bs_str *out)
{
	const char *p = *pp;
	while (p < end && *p == ' ')
		p++;
	*pp = p;
	if (p >= end || *p != '"')
		return false;
	const char *s = ++p;
	if (request)
		for (const char *q = s; q + 5 <= end; q++)
			if (q[0] == '"' && q[1] == ' ' && q[2] >= '1' && q[2] <= '5' && q[3] >= '0' && q[3] <= '9' &&
			    q[4] >= '0' && q[4] <= '9' && (q + 5 == end || q[5] == ' ')) {
				*out = bs_str_make(s, (size_t)(q - s));
				*pp = q + 1;
				return true;
			}
	while (p < end && *p != '"') {
		if (*p == '\\' && p + 1 < end)
			p++;
		p++;
	}
	*pp = p;
	if (p >= end)
		return false;
	*out = bs_str_make(s, (size_t)(p - s));
	*pp = p + 1;
	return true;
}

static bs_str ref_token(const char **pp, const char *end)
{
	const char *p = *pp;
	while (p < end && *p == ' ')
		p++;
	const char *s = p;
	while (p < end && *p != ' ')
		p++;
	*pp = p;
	return bs_str_make(s, (size_t)(p - s));
}

static bool ref_number(bs_str s, bool dash_ok)
{
	if (dash_ok && s.n == 1 && s.p[0] == '-')
		return true;
	if (s.n == 0 || s.n > (dash_ok ? 19 : 3))
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

struct fields {
	enum bs_verdict verdict;
	bs_str request, referer, agent;
};

/* What the parser made of the part after the date, the old way (the
 * request's "-" and method rules do not apply: the alphabet has neither). */
static struct fields ref_fields(const char *p, const char *end)
{
	struct fields f = { BS_MALFORMED, BS_STR_LIT(""), BS_STR_LIT(""), BS_STR_LIT("") };
	if (!ref_quoted(&p, end, true, &f.request)) {
		(void)ref_token(&p, end);
		if (!ref_quoted(&p, end, true, &f.request))
			return f;
	}
	bs_str st = ref_token(&p, end), by = ref_token(&p, end);
	const char *slash = memchr(by.p, '/', by.n);
	if (slash)
		by.n = (size_t)(slash - by.p);
	if (!ref_number(st, false) || !ref_number(by, true))
		return f;
	if (ref_quoted(&p, end, false, &f.referer) && !ref_quoted(&p, end, false, &f.agent))
		f.agent = BS_STR_LIT("");
	f.verdict = BS_PARSED;
	return f;
}

static struct fields got;

static void on_event(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	got.request = ev->u.http.uri;
	got.referer = ev->u.http.referer;
	got.agent = ev->u.http.user_agent;
}

static bool same_bs(bs_str a, bs_str b) { return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0); }

/* Random tails of quotes, backslashes, spaces and status-like digits. */
static void test_quoted_fields(void)
{
	static const char *const parts[] = { "\"", "\\", " ", "a", "2", "0", "5", "\\\"", "\\\\", "\" 200 ", " 200 5 ", "\" 404" };
	const char *head = "192.0.2.9 - - [04/May/2007:17:31:02 +0200] ";
	struct bs_sink sink = { on_event, NULL };
	struct bs_line_ctx c = { NULL, &sink, 0, 1, NULL };
	uint32_t seed = 12345;
	int bad = 0, parsed = 0;
	for (int round = 0; round < 50000; round++) {
		char line[256];
		size_t n = strlen(head);
		memcpy(line, head, n);
		seed = seed * 1103515245u + 12345u;
		int nparts = (int)(seed >> 16) % 16;
		for (int i = 0; i < nparts; i++) {
			seed = seed * 1103515245u + 12345u;
			const char *pt = parts[(seed >> 16) % (sizeof parts / sizeof *parts)];
			memcpy(line + n, pt, strlen(pt));
			n += strlen(pt);
		}
		const char *tail = line + strlen(head);
		struct fields want = ref_fields(tail, line + n);
		memset(&got, 0, sizeof got);
		got.verdict = bs_weblog_line(&c, line, n);
		bool same = got.verdict == want.verdict;
		if (same && want.verdict == BS_PARSED) {
			parsed++;
			same = same_bs(got.request, want.request) && same_bs(got.referer, want.referer) &&
			       same_bs(got.agent, want.agent);
		}
		if (!same && bad++ < 5)
			printf("# differs: %.*s\n", (int)(n - strlen(head)), tail);
	}
	is_int(bad, 0, "quoted fields: as the byte-at-a-time scan on 50000 random lines");
	ok(parsed > 1000, "quoted fields: enough of them parsed (%d)", parsed);
}

int main(void)
{
	const char *l = "192.0.2.9 - - [04/May/2007:17:31:02 +0200] \"GET /atmail/index.php?func=login HTTP/1.1\" 200 5123 \"http://webmail.example.net/\" \"Mozilla/5.0 (X11; Linux x86_64) \\\"quoted\\\"\"";
	ok(bs_weblog_detect(l, strlen(l)), "combined: detected");
	ok(!bs_weblog_detect("May  4 17:31:02 mx1 postfix/smtpd[1]: connect", 44), "syslog is not an access log");
	ok(!bs_weblog_detect("", 0), "empty is not an access log");
	test_quoted_fields();
	return tap_done();
}

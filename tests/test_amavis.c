/* test_amavis.c - amavisd-new verdict lines, from 2.2 to 2.13 forms. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int nev;
static char verdict_text[2048];
static size_t last_nrcpt;

/* "spam virus score=15.9 <sender> -> <r1>,<r2> client=1.2.3.4:5 by amavis" */
static void on_spam(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	nev++;
	if (ev->type != BS_EV_SPAM)
		return;
	const struct bs_ev_spam *s = &ev->u.spam;
	char ip[BS_IP_STRLEN], score[32];
	bs_ip_format(&ev->src, ip, sizeof ip);
	if (isnan(s->score))
		strcpy(score, "none");
	else
		snprintf(score, sizeof score, "%.3g", s->score);
	int at = snprintf(verdict_text, sizeof verdict_text, "%s%s score=%s <%.*s> ->", s->spam ? "spam" : "clean",
			  s->virus ? " virus" : "", score, (int)s->sender.n, s->sender.p ? s->sender.p : "");
	for (size_t i = 0; i < s->nrcpt && i < 4 && at < (int)sizeof verdict_text - 64; i++)
		at += snprintf(verdict_text + at, sizeof verdict_text - (size_t)at, "%s<%.*s>", i ? "," : " ",
			       (int)s->rcpts[i].n, s->rcpts[i].p);
	snprintf(verdict_text + at, sizeof verdict_text - (size_t)at, " client=%s:%u by %.*s", ip, ev->sport,
		 (int)s->filter.n, s->filter.p);
	last_nrcpt = s->nrcpt;
}

static enum bs_verdict amavis(const char *msg, size_t n)
{
	static const struct bs_sink sink = { on_spam, NULL };
	struct bs_syslog sl = { .prog = BS_STR_LIT("amavis"), .msg = bs_str_make(msg, n) };
	struct bs_line_ctx c = { .sl = &sl, .sink = &sink, .lineno = 9 };
	nev = 0;
	verdict_text[0] = 0;
	return bs_amavis_line(&c);
}

static const struct {
	const char *msg, *want;
} verdicts[] = {
	{ "(12345-01) Passed CLEAN {RelayedInbound}, [1.2.3.4]:5678 [1.2.3.4] <from@x.example> -> <to@y.example>,<to2@y.example>, Queue-ID: 4ABC, Message-ID: <m1@x.example>, mail_id: abc, Hits: -1.2, size: 2345, queued_as: 4DEF, 423 ms",
	  "clean score=-1.2 <from@x.example> -> <to@y.example>,<to2@y.example> client=1.2.3.4:5678 by amavis" },
	{ "(4051607-09) Blocked INFECTED (Porcupine.Phishing.55542.UNOFFICIAL) {DiscardedInbound,Quarantined}, [192.168.0.1]:1434 [192.168.0.1] <someone1@something1.com> -> <someon2@something2.com>, quarantine: 2/virus-26W2lJY63nCZ, Queue-ID: 83B741009CD35, Message-ID: <20240223075525.8CD9941B67@xxx.xxx.shop>, mail_id: 26W2lJY63nCZ, Hits: -, size: 28646, 104 ms",
	  "spam virus score=none <someone1@something1.com> -> <someon2@something2.com> client=192.168.0.1:1434 by amavis" },
	{ "(29341-07) Blocked SPAM {DiscardedInbound,Quarantined}, [203.0.113.50]:40422 [203.0.113.50] <bounce@spam.example> -> <victim@example.net>, quarantine: spam-Xy12, Queue-ID: 4Q, Message-ID: <z@spam.example>, mail_id: Xy12, Hits: 15.873, size: 4502, 1853 ms",
	  "spam score=15.9 <bounce@spam.example> -> <victim@example.net> client=203.0.113.50:40422 by amavis" },
	{ "(03154-02) Passed SPAMMY {RelayedTaggedInbound}, [198.51.100.7]:3301 [198.51.100.7] <a@b.example> -> <c@example.net>, Queue-ID: 5R, Hits: 6.2, size: 100, queued_as: 6S, 900 ms",
	  "spam score=6.2 <a@b.example> -> <c@example.net> client=198.51.100.7:3301 by amavis" },
	{ "(05882-10) Passed CLEAN, [10.0.0.5] [198.51.100.20] <alice@example.net> -> <bob@example.org>, Message-ID: <x@y>, mail_id: q, Hits: 0.1, size: 2000, queued_as: 4AB, 500 ms",
	  "clean score=0.1 <alice@example.net> -> <bob@example.org> client=10.0.0.5:0 by amavis" },
	{ "(11111-01) Passed, <old@example.com> -> <new@example.net>, Message-ID: <m@x>, Hits: 1.2",
	  "clean score=1.2 <old@example.com> -> <new@example.net> client=:0 by amavis" },
	{ "(22222-01) SPAM, <s@spam.example> -> <t@example.net>, quarantine: spam-abc.gz, Message-ID: <m@x>, Hits: 22.3",
	  "spam score=22.3 <s@spam.example> -> <t@example.net> client=:0 by amavis" },
	{ "(33333-01) Blocked BANNED (multipart/mixed | application/octet-stream,.exe,virus.exe) {DiscardedInbound,Quarantined}, [192.0.2.77]:555 [192.0.2.77] <x@y.example> -> <z@example.net>, Hits: -, size: 1",
	  "spam score=none <x@y.example> -> <z@example.net> client=192.0.2.77:555 by amavis" },
	{ "(44444-01) Passed BAD-HEADER-0 {RelayedInbound}, LOCAL [10.1.1.1]:2525 [10.1.1.1] <> -> <postmaster@example.net>, Hits: 0.5, size: 10",
	  "clean score=0.5 <> -> <postmaster@example.net> client=10.1.1.1:2525 by amavis" },
	{ "(55555-01) Passed CLEAN {RelayedInbound}, [2001:db8::25]:41000 [2001:db8::25] <a@b.example> -> <c@d.example>, Hits: 2.0",
	  "clean score=2 <a@b.example> -> <c@d.example> client=2001:db8::25:41000 by amavis" },
	{ "(66666-01) Passed CLEAN {RelayedInbound}, [192.0.2.1]:1 [192.0.2.1] <\"odd,name>\"@example.org> -> <\"x,y\"@example.net>,<plain@example.net>, Message-ID: <Hits: 99@evil>, Hits: 1.5",
	  "clean score=1.5 <\"odd,name>\"@example.org> -> <\"x,y\"@example.net>,<plain@example.net> client=192.0.2.1:1 by amavis" },
	{ "(12345-01) Blocked INFECTED (Eicar-Test-Signature) {DiscardedOutbound,Quarantined}, MYNETS LOCAL [192.168.1.10]:49152 [192.168.1.10] <user@example.net> -> <outside@example.com>, quarantine: virus-Q, Queue-ID: 1, Message-ID: <e@x>, mail_id: Q, Hits: -, size: 1000, 300 ms",
	  "spam virus score=none <user@example.net> -> <outside@example.com> client=192.168.1.10:49152 by amavis" },
	{ "Passed CLEAN {RelayedOpenRelay}, [198.51.100.1]:99999 [198.51.100.1] <a@b.example> -> <c@d.example>, Hits: 3",
	  "clean score=3 <a@b.example> -> <c@d.example> client=198.51.100.1:0 by amavis" },
};

static const struct {
	const char *msg;
	enum bs_verdict verdict;
} others[] = {
	{ "(12345-01) SPAM-TAG, <a@b.example> -> <c@d.example>, Yes, score=15.3 required=5 tests=[BAYES_99=3.5]", BS_IGNORED },
	{ "(!)DENIED ACCESS from IP 198.51.100.9, policy bank ''", BS_IGNORED },
	{ "(12345-01) (!)WARN save_info_final: sql exec: err=1", BS_IGNORED },
	{ "starting.  /usr/sbin/amavisd at mail.example.net amavisd-new-2.11.0 (20160426), Unicode aware", BS_IGNORED },
	{ "(12345-01) Checking: 4ABC [1.2.3.4] <a@b.example> -> <c@d.example>", BS_IGNORED },
	{ "(12345-01) Passed", BS_IGNORED },
	{ "TIMING [total 423 ms] - SMTP greeting: 5 (1%)1, SMTP EHLO: 1 (0%)1", BS_IGNORED },
	{ "(12345-01", BS_IGNORED },
	{ "", BS_IGNORED },
	{ "(12345-01) Passed CLEAN {RelayedInbound", BS_MALFORMED },
	{ "(12345-01) Passed CLEAN {RelayedInbound} [1.2.3.4]:1 [1.2.3.4] <a@b> -> <c@d>", BS_MALFORMED },
	{ "(12345-01) Passed CLEAN {RelayedInbound}, [1.2.3.4]:1 [1.2.3.4] <a@b", BS_MALFORMED },
	{ "(12345-01) Passed CLEAN {RelayedInbound}, [1.2.3.4]:1 [1.2.3.4] <a@b> to <c@d>", BS_MALFORMED },
	{ "(12345-01) Passed CLEAN {RelayedInbound}, [1.2.3.4]:1 [1.2.3.4] <a@b> -> c@d, Hits: 1", BS_MALFORMED },
	{ "(12345-01) Blocked INFECTED (Eicar {DiscardedInbound}, <a@b> -> <c@d>", BS_MALFORMED },
	{ "(12345-01) Passed CLEAN {RelayedInbound}, [1.2.3.4]:1 [1.2.3.4]", BS_MALFORMED },
};

int main(void)
{
	for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++) {
		is_int(amavis(verdicts[i].msg, strlen(verdicts[i].msg)), BS_PARSED, "parsed %zu: %.40s", i, verdicts[i].msg);
		is_int(nev, 1, "one event %zu", i);
		is_str(verdict_text, verdicts[i].want, "verdict %zu", i);
	}
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		is_int(amavis(others[i].msg, strlen(others[i].msg)), others[i].verdict, "verdict of: %s", others[i].msg);
		is_int(nev, 0, "no event from: %s", others[i].msg);
	}

	/* 2000 recipients: the event keeps BS_MAIL_MAX_RCPT of them. */
	const char *head = "(1-1) Passed CLEAN {RelayedInbound}, [192.0.2.3]:25 [192.0.2.3] <s@example.org> -> ";
	size_t hn = strlen(head), per = strlen("<r@example.net>,"), n = hn + 2000 * per;
	char *many = malloc(n);
	memcpy(many, head, hn);
	for (size_t i = 0; i < 2000; i++)
		memcpy(many + hn + i * per, "<r@example.net>,", per);
	n--; /* no comma after the last one */
	is_int(amavis(many, n), BS_PARSED, "2000 recipients parsed");
	is_int(last_nrcpt, BS_MAIL_MAX_RCPT, "recipients capped at BS_MAIL_MAX_RCPT");
	free(many);

	size_t big = 1 << 20;
	char *huge = malloc(big);
	memset(huge, '(', big);
	is_int(amavis(huge, big), BS_IGNORED, "1 MB of ( is not a verdict");
	memcpy(huge, "(1-1) Passed CLEAN ", 19);
	is_int(amavis(huge, big), BS_MALFORMED, "verdict with 1 MB of unclosed (");
	memset(huge + 19, '<', big - 19);
	huge[19] = ',';
	is_int(amavis(huge, big), BS_MALFORMED, "verdict with 1 MB of unclosed <");
	free(huge);
	static const char nul[] = "(1-1) Passed CLEAN, <a\0b@example.org> -> <c@example.net>, Hits: 1";
	is_int(amavis(nul, sizeof nul - 1), BS_PARSED, "NUL inside an address");

	ok(bs_amavis_prog(BS_STR_LIT("amavis")), "prog amavis");
	ok(bs_amavis_prog(BS_STR_LIT("amavisd-new")), "prog amavisd-new");
	ok(bs_amavis_prog(BS_STR_LIT("/usr/sbin/amavisd")), "prog /usr/sbin/amavisd");
	ok(!bs_amavis_prog(BS_STR_LIT("amavisd-milter")), "prog amavisd-milter is not amavis");
	return tap_done();
}

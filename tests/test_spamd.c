/* test_spamd.c - SpamAssassin spamd verdicts (and spamc's error lines). */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int events;
static struct bs_ev_spam last;
static char last_rcpt[256];

static void on_event(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	events++;
	last = ev->u.spam;
	size_t n = last.nrcpt ? last.rcpts[0].n : 0;
	if (n >= sizeof last_rcpt)
		n = sizeof last_rcpt - 1;
	if (n)
		memcpy(last_rcpt, last.rcpts[0].p, n);
	last_rcpt[n] = 0;
}

static enum bs_verdict spamd(const char *prog, const char *msg, size_t n)
{
	static const struct bs_sink sink = { on_event, NULL };
	struct bs_syslog sl = { .prog = bs_str_make(prog, strlen(prog)), .msg = bs_str_make(msg, n) };
	struct bs_line_ctx c = { .sl = &sl, .sink = &sink, .lineno = 11 };
	events = 0;
	last_rcpt[0] = 0;
	memset(&last, 0, sizeof last);
	return bs_spamd_line(&c);
}

static const struct {
	const char *msg;
	bool spam;
	double score;
	const char *rcpt;
} verdicts[] = {
	{ "spamd: identified spam (15.3/5.0) for user:1000 in 2.1 seconds, 3456 bytes.", true, 15.3, "user" },
	{ "spamd: clean message (-0.1/5.0) for user:1000 in 0.5 seconds, 1234 bytes.", false, -0.1, "user" },
	{ "spamd: identified spam (7.9/5.0) for alice@example.net:5000 in 1.4 seconds, 9876 bytes.", true, 7.9, "alice@example.net" },
	{ "spamd: clean message (2.4/5.0) for vpopmail:89 in 0.2 seconds, 512 bytes.", false, 2.4, "vpopmail" },
	{ "spamd: clean message (0.0/6.5) for nobody:65534 in 0.1 seconds, 200 bytes.", false, 0.0, "nobody" },
	{ "identified spam (999.0/5.0) for bob:1001 in 12.0 seconds, 100000 bytes.", true, 999.0, "bob" },
	{ "spamd: identified spam (20.1/5.0) for odd:name:1002 in 1.0 seconds, 10 bytes.", true, 20.1, "odd:name" },
	{ "spamd: clean message (-5.5/5.0) for carol:1003 in 0.3 seconds, 2000 bytes.", false, -5.5, "carol" },
	{ "spamd: identified spam (5.0/5.0) for dave:1004", true, 5.0, "dave" },
	{ "spamd: identified spam (12.2/5.0) for spamfilter@example.org:1000 in 3.0 seconds, 4096 bytes.", true, 12.2, "spamfilter@example.org" },
};

static const struct {
	const char *prog, *msg;
	enum bs_verdict verdict;
} others[] = {
	{ "spamd", "spamd: result: Y 15 - BAYES_99,HTML_MESSAGE,RCVD_IN_XBL scantime=2.1,size=3456,user=user,uid=1000,required_score=5.0,rhost=localhost,raddr=127.0.0.1,rport=54321,mid=<a@b.example>,autolearn=spam",
	  BS_IGNORED },
	{ "spamd", "spamd: connection from localhost [127.0.0.1]:54321 to port 783, fd 5", BS_IGNORED },
	{ "spamd", "spamd: setuid to user succeeded", BS_IGNORED },
	{ "spamd", "spamd: processing message <a@b.example> for user:1000", BS_IGNORED },
	{ "spamd", "spamd: checking message <a@b.example> for user:1000", BS_IGNORED },
	{ "spamd", "prefork: child states: II", BS_IGNORED },
	{ "spamc", "connect to spamd on 127.0.0.1 failed, retrying (#1 of 3): Connection refused", BS_IGNORED },
	{ "spamc", "identified spam (15.3/5.0) for user:1000 in 2.1 seconds, 3456 bytes.", BS_IGNORED },
	{ "spamd", "", BS_IGNORED },
	{ "spamd", "spamd: identified spam (15.3/5.0", BS_MALFORMED },
	{ "spamd", "spamd: identified spam (x/5.0) for user:1000 in 2.1 seconds, 3456 bytes.", BS_MALFORMED },
	{ "spamd", "spamd: clean message (1.0/5.0)for user:1", BS_MALFORMED },
	{ "spamd", "spamd: clean message (inf/5.0) for user:1 in 1 seconds, 1 bytes.", BS_MALFORMED },
	{ "spamd", "spamd: clean message 1.0/5.0 for user:1", BS_MALFORMED },
};

int main(void)
{
	for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++) {
		const char *m = verdicts[i].msg;
		is_int(spamd("spamd", m, strlen(m)), BS_PARSED, "parsed: %.45s", m);
		is_int(events, 1, "one event %zu", i);
		is_int(last.spam, verdicts[i].spam, "spam flag %zu", i);
		ok(fabs(last.score - verdicts[i].score) < 1e-9, "score %zu", i);
		is_str(last_rcpt, verdicts[i].rcpt, "recipient %zu", i);
		is_bs(last.filter, "spamd", "filter name %zu", i);
		ok(!last.virus, "not a virus verdict %zu", i);
	}
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		is_int(spamd(others[i].prog, others[i].msg, strlen(others[i].msg)), others[i].verdict, "verdict of %s: %s",
		       others[i].prog, others[i].msg);
		is_int(events, 0, "no event from: %s", others[i].msg);
	}

	size_t big = 1 << 20;
	char *huge = malloc(big);
	memset(huge, '9', big);
	memcpy(huge, "spamd: identified spam (", 24);
	is_int(spamd("spamd", huge, big), BS_MALFORMED, "1 MB score");
	memcpy(huge, "spamd: identified spam (1/5) for ", 33);
	is_int(spamd("spamd", huge, big), BS_PARSED, "1 MB user");
	is_int(last.rcpts[0].n, big - 33 - 0, "1 MB user kept whole (no uid)");
	free(huge);

	ok(bs_spamd_prog(BS_STR_LIT("spamd")), "prog spamd");
	ok(bs_spamd_prog(BS_STR_LIT("spamc")), "prog spamc");
	ok(!bs_spamd_prog(BS_STR_LIT("spamass-milter")), "prog spamass-milter is not spamd");
	return tap_done();
}

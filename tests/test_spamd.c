/* test_spamd.c - spamd: what is not a case of events (those are
 * tests/cases/spamd): a 1 MB score and user, the programs claimed. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static int events;
static struct bs_ev_spam last;

static void on_event(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	events++;
	last = ev->u.spam;
}

static enum bs_verdict spamd(const char *prog, const char *msg, size_t n)
{
	static const struct bs_sink sink = { on_event, NULL };
	struct bs_syslog sl = { .prog = bs_str_make(prog, strlen(prog)), .msg = bs_str_make(msg, n) };
	struct bs_line_ctx c = { .sl = &sl, .sink = &sink, .lineno = 11 };
	events = 0;
	memset(&last, 0, sizeof last);
	return bs_spamd_line(&c);
}

int main(void)
{
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

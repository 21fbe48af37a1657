/* test_amavis.c - amavisd-new: what is not a case of events (the verdict
 * lines, from 2.2 to 2.13 forms, are tests/cases/amavis): an empty message,
 * 2000 recipients, 1 MB, a NUL, the programs claimed. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static int nev;
static size_t last_nrcpt;

static void on_spam(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	nev++;
	if (ev->type == BS_EV_SPAM)
		last_nrcpt = ev->u.spam.nrcpt;
}

static enum bs_verdict amavis(const char *msg, size_t n)
{
	static const struct bs_sink sink = { on_spam, NULL };
	struct bs_syslog sl = { .prog = BS_STR_LIT("amavis"), .msg = bs_str_make(msg, n) };
	struct bs_line_ctx c = { .sl = &sl, .sink = &sink, .lineno = 9 };
	nev = 0;
	return bs_amavis_line(&c);
}

int main(void)
{
	/* An empty message to the parser itself (through the reader, the
	 * syslog framing decides before amavis sees it). */
	is_int(amavis("", 0), BS_IGNORED, "empty message");
	is_int(nev, 0, "no event from an empty message");

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

/* test_sendmail.c - Sendmail: what is not a case of events (those are
 * tests/cases/sendmail): more open messages than the queue-id table holds. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* The count of events (the events themselves are tests/cases/sendmail). */
static int nseen;

static void record(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	(void)ev;
	nseen++;
}

static struct bs_sink sink = { record, NULL };
static struct bs_clock clk;
static uint64_t lineno;

static enum bs_verdict feed(struct bs_sendmail *p, const char *line)
{
	struct bs_syslog sl;
	if (!bs_syslog_parse(line, strlen(line), &clk, &sl) || !bs_sendmail_prog(sl.prog))
		return (enum bs_verdict)-1;
	struct bs_line_ctx c = { &sl, &sink, 0, ++lineno, NULL };
	return bs_sendmail_line(p, &c);
}

static uint64_t finish(struct bs_sendmail *p)
{
	struct bs_line_ctx c = { NULL, &sink, 0, lineno, NULL };
	return bs_sendmail_finish(p, &c);
}

static void test_many_open(void)
{
	struct bs_sendmail *p = bs_sendmail_new();
	char line[256];
	nseen = 0;
	for (int i = 0; i < 20000; i++) {
		snprintf(line, sizeof line, "May  4 17:31:02 mx2 sm-mta[1]: s44HV1mk%06d: from=<a%d@x>, size=1, class=0, nrcpts=1, relay=[10.0.0.1]", i, i);
		feed(p, line);
	}
	snprintf(line, sizeof line, "May  4 17:31:09 mx2 sm-mta[1]: s44HV1mk%06d: to=<b@y>, mailer=esmtp, stat=Sent", 19999);
	feed(p, line);
	ok(nseen >= 1, "open messages beyond the cap are flushed, the last one still joins");
	is_int(finish(p) > 0, 1, "finish counts the unfinished");
	bs_sendmail_free(p);
}

int main(void)
{
	bs_clock_init(&clk, 0, bs_time_make(2008, 1, 1, 0, 0, 0, 0) / BS_USEC, NULL);
	test_many_open();
	return tap_done();
}

/* test_exim.c - Exim: what is not a case of events (those are
 * tests/cases/exim): lines the parser calls malformed, every prefix of a line. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static void on_event(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	(void)ev;
}

static struct bs_sink sink = { on_event, NULL };

static enum bs_verdict raw(struct bs_exim *p, const char *line)
{
	struct bs_line_ctx c = { NULL, &sink, 0, 1, NULL };
	return bs_exim_line(p, &c, line, strlen(line), NULL);
}

static void test_malformed(void)
{
	struct bs_exim *p = bs_exim_new();
	is_int(raw(p, "2013-06-02 09:22"), BS_MALFORMED, "cut stamp is malformed");
	is_int(raw(p, "garbage"), BS_MALFORMED, "no stamp is malformed");
	bs_exim_free(p);
}

static void test_prefixes(void)
{
	struct bs_exim *p = bs_exim_new();
	const char *l = "2007-05-04 17:31:02.5 +0200 [4711] 1HjwXy-0001Ab-7Q <= a@b H=n (h) [192.0.2.13]:1 A=x:y S=2 id=<m> for c@d";
	size_t n = strlen(l);
	int survived = 0;
	for (size_t cut = 0; cut <= n; cut++) {
		char *copy = malloc(cut ? cut : 1);
		memcpy(copy, l, cut);
		struct bs_line_ctx c = { NULL, &sink, 0, 1, NULL };
		bs_exim_line(p, &c, copy, cut, NULL);
		free(copy);
		survived++;
	}
	struct bs_line_ctx c = { NULL, &sink, 0, 1, NULL };
	bs_exim_finish(p, &c);
	is_int(survived, (int)n + 1, "every prefix handled without reading past it");
	bs_exim_free(p);
}

int main(void)
{
	test_malformed();
	test_prefixes();
	return tap_done();
}

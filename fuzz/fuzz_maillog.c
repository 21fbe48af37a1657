/* fuzz_maillog.c - the maillog dispatcher fed line by line: syslog framing,
 * then whichever daemon parser claims the line (Postfix, Sendmail, Exim,
 * Dovecot, Courier, Cyrus, amavis, spamd, web access logs), queue-id joins,
 * and the flush at the end of input. When bit 1 of the first byte is set the
 * events also go through the aggregate, so that the engine's intake is
 * fuzzed with them (only then: a fresh aggregate costs more than the lines). */
#include "config.h"
#include "fuzz_util.h"
#include "parsers/logs/maillog.h"
#include "src/engine/engine.h"

struct run {
	struct bs_maillog *m;
	struct bs_input_stats st;
};

static void one_line(void *ctx, const char *line, size_t n, uint64_t lineno)
{
	struct run *r = ctx;
	bs_stats_count(&r->st, bs_maillog_line(r->m, line, n, lineno));
}

struct both {
	struct bs_agg *agg;
};

static void sink_fn(void *ctx, const struct bs_event *ev)
{
	struct both *b = ctx;
	fuzz_touch_event(NULL, ev);
	if (b->agg)
		bs_agg_sink(b->agg, ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct both b = { (data[0] & 2) ? bs_agg_new() : NULL };
	struct bs_sink sink = { sink_fn, &b };
	struct bs_maillog_opts o = { .forced_year = (data[0] & 1) ? 2007 : 0, .ref_epoch = 1180000000, .input = 0 };
	struct run r = { .m = bs_maillog_new(&o, &sink) };
	fuzz_each_line(data + 1, size - 1, one_line, &r);
	bs_maillog_finish(r.m);
	bs_maillog_free(r.m);
	if (r.st.records != r.st.parsed + r.st.ignored + r.st.malformed)
		abort(); /* every line counted exactly once */
	if (b.agg) {
		bs_agg_end_input(b.agg);
		bs_agg_free(b.agg);
	}
	return 0;
}

/* fuzz_syslog.c - syslog framing (RFC 3164, RFC 5424, ISO 8601) line by line,
 * with the year either inferred from a reference time or forced. */
#include "config.h"
#include "fuzz_util.h"
#include "parsers/logs/syslog.h"

static void one_line(void *ctx, const char *line, size_t n, uint64_t lineno)
{
	(void)lineno;
	struct bs_syslog out;
	if (bs_syslog_parse(line, n, ctx, &out)) {
		fuzz_touch(out.host);
		fuzz_touch(out.prog);
		fuzz_touch(out.pid);
		fuzz_touch(out.msg);
		fuzz_touch(out.service);
		fuzz_touch(out.prog_base);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct bs_tz tz;
	/* a fixed zone, east or west, or none (UTC) */
	bool have_tz = bs_tz_parse((data[0] & 2) ? "+05:30" : "-0800", &tz);
	struct bs_clock clock;
	int forced = (data[0] & 1) ? 1970 + data[0] % 100 : 0;
	bs_clock_init(&clock, forced, 1180000000 + (int64_t)data[0] * 86400 * 3, (data[0] & 4) && have_tz ? &tz : NULL);
	fuzz_each_line(data + 1, size - 1, one_line, &clock);
	return 0;
}

/* syslog.h - syslog framing: RFC 3164, RFC 5424 and rsyslog ISO 8601 lines.
 *
 * Splits a line into time, host, program, pid and message. RFC 3164 has no
 * year and often no zone: see bs_clock for the inference (docs/FORMATS.md).
 */
#ifndef BS_SYSLOG_H
#define BS_SYSLOG_H

#include "src/core/common.h"
#include "src/core/tz.h"

/* Year inference for RFC 3164 stamps, one per input.
 * - forced_year > 0 (--year): the first line gets it; a backwards jump of more
 *   than six months between consecutive lines (December to January) moves to
 *   the next year.
 * - else: each line gets the latest year that does not put it more than a day
 *   after the reference time (the gzip MTIME or file mtime): walking back from
 *   the file's modification time, which also handles rotated files that cross
 *   a new year.
 */
struct bs_clock {
	int forced_year;
	int64_t ref_epoch;     /* reference time, seconds */
	int ref_year;          /* civil year of ref_epoch (computed once: it was per line) */
	int cur_year;          /* state for forced mode */
	int last_month;
	struct bs_tz *tz;      /* shared, may be NULL = UTC */
	/* The last date seen (most lines share their predecessor's) and what
	 * decides its year: one year at most lies so near the reference time
	 * that the time of day matters (near_year, 0: none); otherwise, or
	 * when the time puts it after, the year is plain_year (0: the date
	 * cannot exist). Days since 1970 of both kept. Month 0: none yet. */
	unsigned memo_mon, memo_day;
	int near_year, plain_year, forced_memo_year;
	int64_t near_days, plain_days;
};
void bs_clock_init(struct bs_clock *c, int forced_year, int64_t ref_epoch, struct bs_tz *tz);

struct bs_syslog {
	bs_time ts;
	int frac_digits;       /* digits of fraction in the source (0 if none) */
	bs_str host, prog, pid, msg;
	bs_str service;        /* "smtpd" of "postfix/smtpd" and of "postfix/submission/smtpd" */
	bs_str prog_base;      /* "postfix" of "postfix/smtpd", else == prog */
	enum { BS_SYSLOG_3164 = 1, BS_SYSLOG_5424, BS_SYSLOG_ISO } kind;
	bool time_out_of_range; /* set when false was returned for that (bs_time_valid) */
};

/* Parse one line. Returns false if it is not a syslog line. An RFC 3164 line
 * with an impossible date (month "MMM", day 32) returns false too, and a
 * line whose time is outside 1970..9999 (time_out_of_range set). */
bool bs_syslog_parse(const char *line, size_t len, struct bs_clock *clock, struct bs_syslog *out);

#endif

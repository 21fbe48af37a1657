/* test_syslog.c - syslog framing, time zones and RFC 3164 year inference. */
#include "config.h"
#include "parsers/logs/syslog.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse(const char *line, struct bs_clock *c, struct bs_syslog *o)
{
	return bs_syslog_parse(line, strlen(line), c, o);
}

static int64_t epoch(int y, int mon, int d, int h, int mi, int s)
{
	return bs_time_make(y, mon, d, h, mi, s, 0) / BS_USEC;
}

static void test_3164(void)
{
	struct bs_clock c;
	struct bs_syslog o;
	bs_clock_init(&c, 0, epoch(2007, 5, 10, 0, 0, 0), NULL);
	ok(parse("May  4 17:31:02 mail1 postfix/smtpd[1234]: connect from x[1.2.3.4]", &c, &o), "3164 single-digit day");
	is_int(o.ts, bs_time_make(2007, 5, 4, 17, 31, 2, 0), "3164 time, year from reference");
	is_bs(o.host, "mail1", "3164 host");
	is_bs(o.prog, "postfix/smtpd", "3164 prog");
	is_bs(o.pid, "1234", "3164 pid");
	is_bs(o.msg, "connect from x[1.2.3.4]", "3164 msg");
	is_bs(o.service, "smtpd", "service of postfix/smtpd");
	is_bs(o.prog_base, "postfix", "prog_base of postfix/smtpd");
	is_int(o.kind, BS_SYSLOG_3164, "kind 3164");

	ok(parse("Jun 04 22:24:28 machine postfix/submission/smtpd[3967801]: x", &c, &o), "zero-padded day");
	is_bs(o.service, "smtpd", "service of postfix/submission/smtpd");
	is_bs(o.prog_base, "postfix", "prog_base of postfix/submission/smtpd");
	ok(parse("Jun 4 22:24:28 machine postfix-out/smtp[1]: x", &c, &o), "day with one space");
	is_bs(o.prog_base, "postfix-out", "prog_base of postfix-out/smtp");
	is_bs(o.service, "smtp", "service of postfix-out/smtp");
	ok(parse("Jun 4 22:24:28 machine dovecot: imap-login: Login", &c, &o), "tag without pid");
	is_bs(o.prog, "dovecot", "prog without pid");
	is_int(o.pid.n, 0, "no pid");
	is_bs(o.service, "dovecot", "service of a plain prog is the prog");
	is_bs(o.msg, "imap-login: Login", "msg after tag without pid");
	ok(parse("Nov 18 08:30:20 kernel: [997.390602] sda2: rw=0", &c, &o), "no host, tag first");
	is_bs(o.prog, "kernel", "prog when no host");
	is_int(o.host.n, 0, "empty host");
	ok(parse("Nov 18 01:15:43: --- last message repeated 5 times ---", &c, &o), "repeated-line marker framed");
	is_int(o.prog.n, 0, "repeated: no program");
	is_bs(o.msg, "--- last message repeated 5 times ---", "repeated: msg");
	ok(parse("Jan 22 07:54:32 myhost Job `cron.daily' terminated", &c, &o), "host and untagged text");
	is_int(o.prog.n, 0, "untagged: no program");
	is_bs(o.msg, "Job `cron.daily' terminated", "untagged msg");
	ok(parse("Mar 23 23:01:18.123 myhost prog[19]: frac", &c, &o), "fraction in 3164");
	is_int(o.frac_digits, 3, "frac digits");
	is_int(o.ts % BS_USEC, 123000, "fraction kept");
	ok(parse("Dec 31 17:54:32 myhost /sbin/anacron[1234]: x", &c, &o), "path program");
	is_bs(o.prog, "/sbin/anacron", "path prog kept");
	is_bs(o.prog_base, "/sbin/anacron", "path prog base");
	ok(parse("<34>May  4 17:31:02 mail1 su: 'su root' failed", &c, &o), "3164 with PRI");
	is_bs(o.prog, "su", "PRI prog");
	ok(parse("May  4 17:31:02 h p[1]: x\r", &c, &o), "trailing CR");
	is_bs(o.msg, "x", "CR stripped");

	ok(!parse("MMM 22 07:54:32 myhost anacron[29782]: x", &c, &o), "bad month rejected");
	ok(!parse("May 32 07:54:32 myhost anacron[29782]: x", &c, &o), "day 32 rejected");
	ok(!parse("May  4 25:00:00 h p: x", &c, &o), "hour 25 rejected");
	ok(!parse("May  4 17:31", &c, &o), "short line rejected");
	ok(!parse("", &c, &o), "empty rejected");
	ok(!parse("1.2.3.4 - - [04/May/2007:17:31:02 +0200] \"GET / HTTP/1.1\" 200 1", &c, &o), "access log is not syslog");
	ok(!parse("<999999>x", &c, &o), "bad PRI rejected");
}

static void test_5424(void)
{
	struct bs_clock c;
	struct bs_syslog o;
	bs_clock_init(&c, 0, 0, NULL);
	ok(parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - BOM'su root' failed", &c, &o), "5424 basic");
	is_int(o.kind, BS_SYSLOG_5424, "kind 5424");
	is_int(o.ts, bs_time_make(2003, 10, 11, 22, 14, 15, 3000), "5424 time");
	is_int(o.frac_digits, 3, "5424 frac digits");
	is_bs(o.host, "mymachine.example.com", "5424 host");
	is_bs(o.prog, "su", "5424 app");
	is_int(o.pid.n, 0, "5424 nil procid");
	is_bs(o.msg, "BOM'su root' failed", "5424 msg");
	ok(parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time", &c, &o), "5424 offset");
	is_int(o.ts, bs_time_make(2003, 8, 24, 12, 14, 15, 3), "5424 offset applied");
	is_bs(o.pid, "8710", "5424 procid");
	ok(parse("<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Appl\\]x\"][b@1 x=\"y\"] \xEF\xBB\xBF" "An application event", &c, &o), "5424 structured data");
	is_bs(o.msg, "An application event", "5424 msg after SD, BOM stripped");
	ok(parse("1 2021-03-06T04:07:38.251122+00:00 hostname log_tag - 123 -  this is debug", &c, &o), "5424 without PRI");
	is_bs(o.prog, "log_tag", "5424 without PRI app");
	ok(!parse("<34>1 2003-10-11T22:14:15.003Z host", &c, &o), "5424 truncated header rejected");
	ok(!parse("<34>1 2003-13-11T22:14:15Z h a - - - m", &c, &o), "5424 month 13 rejected");
	ok(!parse("<34>1 2003-10-11T22:14:15Z h a - - [unterminated", &c, &o), "5424 unterminated SD rejected");
}

static void test_iso(void)
{
	struct bs_clock c;
	struct bs_syslog o;
	struct bs_tz berlin;
	bs_clock_init(&c, 0, 0, NULL);
	ok(parse("2007-05-04T17:31:02.123456+02:00 mail1 postfix/qmgr[99]: ABC: removed", &c, &o), "ISO rsyslog");
	is_int(o.kind, BS_SYSLOG_ISO, "kind ISO");
	is_int(o.ts, bs_time_make(2007, 5, 4, 15, 31, 2, 123456), "ISO offset and fraction");
	is_int(o.frac_digits, 6, "ISO frac digits");
	is_bs(o.service, "qmgr", "ISO service");
	ok(parse("2020-05-31T00:00:45.698463+00:00 localhost rsyslogd:  message repeated 76 times", &c, &o), "ISO tag no pid");
	is_bs(o.prog, "rsyslogd", "ISO prog");
	ok(parse("2019-10-22 03:39:17 mx1.fqdn.local exim[29786]: dovecot_login authenticator failed", &c, &o), "ISO with space and pid tag");
	is_bs(o.prog, "exim", "ISO space prog");
	ok(!parse("2013-06-02 09:22:06 SMTP call from [192.0.2.109] dropped", &c, &o), "Exim main-log line is not syslog");
	ok(!parse("2024-05-04 17:31:02 1abcDE-000123-XY <= a@b H=x [1.2.3.4]", &c, &o), "Exim delivery line is not syslog");
	/* Zone applied to a stamp without one. */
	ok(bs_tz_parse("+02:00", &berlin), "fixed zone parses");
	bs_clock_init(&c, 0, 0, &berlin);
	ok(parse("2007-05-04T17:31:02 h p: x", &c, &o), "ISO without zone");
	is_int(o.ts, bs_time_make(2007, 5, 4, 15, 31, 2, 0), "ISO without zone takes --timezone");
}

static void test_tz(void)
{
	struct bs_tz tz;
	ok(bs_tz_parse("UTC", &tz) && tz.is_fixed && tz.fixed_offset == 0, "UTC");
	ok(bs_tz_parse("Z", &tz) && tz.fixed_offset == 0, "Z");
	ok(bs_tz_parse("-0530", &tz) && tz.fixed_offset == -19800, "-0530");
	ok(bs_tz_parse("+02:00", &tz) && tz.fixed_offset == 7200, "+02:00");
	ok(!bs_tz_parse("+25:00", &tz), "+25:00 rejected");
	ok(!bs_tz_parse("No/Such_Zone", &tz), "unknown zone rejected");
	ok(!bs_tz_parse("../../etc/passwd", &tz), "path escape rejected");
	if (!bs_tz_parse("Europe/Berlin", &tz)) {
		ok(1, "# SKIP no zoneinfo for Europe/Berlin");
		return;
	}
	ok(!tz.is_fixed, "Europe/Berlin is a named zone");
	is_int(bs_tz_offset_for_local(&tz, epoch(2007, 5, 4, 17, 31, 2)), 7200, "Berlin summer +2");
	is_int(bs_tz_offset_for_local(&tz, epoch(2007, 1, 4, 17, 31, 2)), 3600, "Berlin winter +1");
	is_int(bs_tz_offset_for_local(&tz, epoch(2024, 3, 31, 1, 59, 59)), 3600, "Berlin before spring change");
	is_int(bs_tz_offset_for_local(&tz, epoch(2024, 3, 31, 3, 0, 0)), 7200, "Berlin after spring change");
	is_int(bs_tz_offset_for_local(&tz, epoch(2024, 10, 27, 4, 0, 0)), 3600, "Berlin after autumn change");
	is_int(bs_tz_offset_for_local(&tz, epoch(2024, 7, 1, 12, 0, 0)), 7200, "Berlin cached hour again");
	if (bs_tz_parse("America/New_York", &tz))
		is_int(bs_tz_offset_for_local(&tz, epoch(2007, 12, 24, 12, 0, 0)), -18000, "New York winter -5");
	else
		ok(1, "# SKIP no America/New_York");
	struct bs_clock c;
	struct bs_syslog o;
	bs_tz_parse("Europe/Berlin", &tz);
	bs_clock_init(&c, 2007, 0, &tz);
	ok(parse("May  4 17:31:02 h p: x", &c, &o), "3164 with named zone");
	is_int(o.ts, bs_time_make(2007, 5, 4, 15, 31, 2, 0), "3164 local Berlin time to UTC");
}

static void test_year(void)
{
	struct bs_clock c;
	struct bs_syslog o;
	/* --year forced, with a December -> January rollover inside the file. */
	bs_clock_init(&c, 2006, epoch(2020, 1, 1, 0, 0, 0), NULL);
	ok(parse("Dec 30 23:59:59 h p: x", &c, &o), "forced: December line");
	is_int(o.ts, bs_time_make(2006, 12, 30, 23, 59, 59, 0), "forced year used");
	ok(parse("Dec 31 23:59:59 h p: x", &c, &o), "forced: Dec 31");
	ok(parse("Jan  1 00:00:01 h p: x", &c, &o), "forced: January after December");
	is_int(o.ts, bs_time_make(2007, 1, 1, 0, 0, 1, 0), "rollover to next year");
	ok(parse("Jan  1 00:00:02 h p: x", &c, &o), "forced: still January");
	is_int(o.ts, bs_time_make(2007, 1, 1, 0, 0, 2, 0), "year stays after rollover");
	ok(parse("Mar  1 00:00:02 h p: x", &c, &o), "forced: forward in year");
	is_int(o.ts, bs_time_make(2007, 3, 1, 0, 0, 2, 0), "forward jump keeps year");
	/* Forced year without Feb 29. */
	bs_clock_init(&c, 2011, 0, NULL);
	ok(!parse("Feb 29 01:15:43 h p: x", &c, &o), "forced non-leap year: Feb 29 impossible");
	bs_clock_init(&c, 2012, 0, NULL);
	ok(parse("Feb 29 01:15:43 h p: x", &c, &o), "forced leap year: Feb 29 fine");

	/* Inferred from mtime, walking back: a file written until Jan 3 2008
	 * holds December 2007 lines and January 2008 lines. */
	bs_clock_init(&c, 0, epoch(2008, 1, 3, 6, 0, 0), NULL);
	ok(parse("Dec 31 23:00:00 h p: x", &c, &o), "mtime walk-back: December");
	is_int(o.ts, bs_time_make(2007, 12, 31, 23, 0, 0, 0), "December goes to the previous year");
	ok(parse("Jan  2 10:00:00 h p: x", &c, &o), "mtime walk-back: January");
	is_int(o.ts, bs_time_make(2008, 1, 2, 10, 0, 0, 0), "January stays in the mtime year");
	ok(parse("Jan  4 05:00:00 h p: x", &c, &o), "within one day after mtime");
	is_int(o.ts, bs_time_make(2008, 1, 4, 5, 0, 0, 0), "one day of slack after mtime");
	ok(parse("Jan  5 10:00:00 h p: x", &c, &o), "later than mtime + 1 day");
	is_int(o.ts, bs_time_make(2007, 1, 5, 10, 0, 0, 0), "later date goes back a year");
	/* A rotated file (maillog.1) with an mtime in late December. */
	bs_clock_init(&c, 0, epoch(2007, 12, 28, 0, 0, 0), NULL);
	ok(parse("Dec 27 10:00:00 h p: x", &c, &o), "rotated file line");
	is_int(o.ts, bs_time_make(2007, 12, 27, 10, 0, 0, 0), "rotated file keeps its own year");
	/* Mtime Dec 31 late: a Jan 1 line within the slack is next year. */
	bs_clock_init(&c, 0, epoch(2007, 12, 31, 23, 30, 0), NULL);
	ok(parse("Jan  1 00:10:00 h p: x", &c, &o), "Jan 1 just after mtime");
	is_int(o.ts, bs_time_make(2008, 1, 1, 0, 10, 0, 0), "within a day after mtime: next year");
	/* Leap day: inferred year must be a leap year. */
	bs_clock_init(&c, 0, epoch(2015, 6, 1, 0, 0, 0), NULL);
	ok(parse("Feb 29 01:15:43 h p: x", &c, &o), "Feb 29 inferred");
	is_int(o.ts, bs_time_make(2012, 2, 29, 1, 15, 43, 0), "Feb 29 goes back to 2012");
	bs_clock_init(&c, 0, epoch(2016, 6, 1, 0, 0, 0), NULL);
	ok(parse("Feb 29 01:15:43 h p: x", &c, &o), "Feb 29 in a leap reference year");
	is_int(o.ts, bs_time_make(2016, 2, 29, 1, 15, 43, 0), "Feb 29 of 2016");
}

/* Garbage never crashes and never reads past the line (ASan checks the reads:
 * each line is copied into a buffer of exactly its length). */
static void test_garbage(void)
{
	static const char *const lines[] = {
		"<", "<1", "<12>", "<12>1", "<12>1 ", "1 2003-10-11T22:14:15Z", "2003-10-11T22:14:15.",
		"2003-10-11T22:14:15+0", "May  4 17:31:02", "May  4 17:31:02 ", "May  4 17:31:02 h",
		"May  4 17:31:02 h p[", "May  4 17:31:02 h p[1", "May  4 17:31:02 h p[1]", "May  4 17:31:02 h p:",
		"2019-10-22 03:39:17 h p[1", "Jan 1 00:00:00.", "May  4 17:31:02 h p[1]:\0x",
		/* fuzz_syslog: a line ending right after MSGID was read one byte past its end */
		"<34>1 2003-10-11T22:14:15Z h app 1 ID47 - msg",
	};
	struct bs_clock c;
	struct bs_syslog o;
	bs_clock_init(&c, 0, 0, NULL);
	int survived = 0;
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		size_t n = strlen(lines[i]);
		char *copy = malloc(n ? n : 1);
		memcpy(copy, lines[i], n);
		for (size_t cut = 0; cut <= n; cut++)
			(void)bs_syslog_parse(copy, cut, &c, &o);
		free(copy);
		survived++;
	}
	is_int(survived, (int)(sizeof lines / sizeof *lines), "garbage and every prefix of it parsed without crash");
	const char hdr_only[] = "<34>1 2003-10-11T22:14:15Z h app 1 ID47 ";
	char *exact = malloc(sizeof hdr_only - 1);
	memcpy(exact, hdr_only, sizeof hdr_only - 1);
	ok(!bs_syslog_parse(exact, sizeof hdr_only - 1, &c, &o), "RFC 5424 header ending after MSGID: not a line");
	free(exact);
	char big[1 << 20];
	memset(big, 'A', sizeof big);
	memcpy(big, "May  4 17:31:02 h ", 18);
	ok(bs_syslog_parse(big, sizeof big, &c, &o), "1 MB line framed");
	is_int(o.prog.n, 0, "1 MB line: over-long tag is not a program");
}

/* RFC 3164 year inference as docs/FORMATS.md states it, written
 * independently of syslog.c: the latest year, from the year after the
 * reference's back 10, in which the date exists and is not more than a day
 * after the reference. */
static bool rule_time(int64_t ref, struct bs_tz *tz, int mon, int day, int h, int mi, int s, bs_time *ts)
{
	static const int dim[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int year = 1970 + (int)(ref / 86400 / 366);
	while (bs_time_make(year + 1, 1, 1, 0, 0, 0, 0) / BS_USEC <= ref)
		year++;
	for (int y = year + 1; y > year - 9; y--) {
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		if (day > dim[mon - 1] || (mon == 2 && day == 29 && !leap))
			continue;
		int64_t local = bs_time_make(y, mon, day, h, mi, s, 0) / BS_USEC;
		int64_t utc = local - bs_tz_offset_for_local(tz, local);
		if (utc <= ref + 86400) {
			*ts = utc * BS_USEC;
			return true;
		}
	}
	return false;
}

/* The clock keeps what decides the last date's year (bs_clock.memo_*): a
 * clock that has read every line before must give each line the time the
 * rule gives it, around the reference time (where the time of day decides
 * the year), across year ends, Feb 29, in zones east and west. */
static void test_year_memo(void)
{
	static const char *const zones[] = { "UTC", "+05:30", "-11:00", "+14:00", "America/New_York" };
	static const int dates[][2] = { { 12, 31 }, { 1, 1 }, { 2, 29 }, { 3, 1 }, { 5, 9 }, { 5, 10 }, { 5, 11 }, { 6, 30 } };
	static const int times[][3] = { { 0, 0, 0 }, { 6, 59, 59 }, { 13, 0, 0 }, { 23, 59, 59 }, { 23, 59, 60 } };
	int64_t refs[] = { epoch(2007, 5, 10, 0, 0, 0), epoch(2008, 2, 28, 23, 0, 0), epoch(2007, 1, 1, 3, 0, 0),
			   epoch(2007, 5, 9, 13, 30, 0) };
	static const char *const mnames[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int differ = 0, lines = 0;
	for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
		struct bs_tz tz, rule_tz;
		if (!bs_tz_parse(zones[z], &tz) || !bs_tz_parse(zones[z], &rule_tz))
			continue; /* no zoneinfo on this machine */
		for (size_t r = 0; r < sizeof refs / sizeof *refs; r++) {
			struct bs_clock kept;
			bs_clock_init(&kept, 0, refs[r], &tz);
			for (size_t d = 0; d < sizeof dates / sizeof *dates; d++)
				for (size_t i = 0; i < 2 * sizeof times / sizeof *times; i++) {
					const int *t = times[i < 5 ? i : 9 - i]; /* forwards, then backwards */
					char line[80];
					snprintf(line, sizeof line, "%s %2d %02d:%02d:%02d h p[1]: m", mnames[dates[d][0] - 1],
						 dates[d][1], t[0], t[1], t[2]);
					struct bs_syslog got;
					bs_time want = 0;
					bool pg = parse(line, &kept, &got);
					bool pw = rule_time(refs[r], &rule_tz, dates[d][0], dates[d][1], t[0], t[1], t[2], &want);
					lines++;
					if (pg != pw || (pg && got.ts != want)) {
						differ++;
						printf("# %s ref %zu: \"%s\" got %d %lld, rule %d %lld\n", zones[z], r, line, pg,
						       (long long)got.ts, pw, (long long)want);
					}
				}
		}
	}
	ok(lines > 500, "year memo: %d lines read", lines);
	is_int(differ, 0, "year memo: a clock that read the lines before gives each line the rule's time");
}

/* The month, the time and the tag are read by fast paths (a hashed month
 * table, eight bytes at a time); each is checked against the plain byte rule
 * here with every byte value at every position. */
static bool slow_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static void test_fast_month(void)
{
	static const char letters[] = "aAbcDeFgjJlmMnNoOprsStuvyxz\x80\xe1";
	int bad = 0;
	for (const char *a = letters; *a; a++)
		for (const char *b = letters; *b; b++)
			for (const char *d = letters; *d; d++) {
				char line[64];
				snprintf(line, sizeof line, "%c%c%c  4 17:31:02 h p: m", *a, *b, *d);
				char mname[4] = { *a, *b, *d, 0 };
				struct bs_clock c;
				struct bs_syslog o;
				bs_clock_init(&c, 2007, 0, NULL);
				int mon = bs_month_from_abbr(mname);
				bool parsed = parse(line, &c, &o);
				bad += parsed != (mon != 0) ||
				       (parsed && o.ts != bs_time_make(2007, mon, 4, 17, 31, 2, 0));
			}
	is_int(bad, 0, "month: the table agrees with bs_month_from_abbr, month by month");
}

static void test_fast_hms(void)
{
	int bad = 0;
	for (int pos = 0; pos < 8; pos++)
		for (int b = 1; b < 256; b++) {
			char t[9] = "12:34:56";
			t[pos] = (char)b;
			char line[64];
			snprintf(line, sizeof line, "May  4 %s h p: m", t);
			bool want = slow_digit(t[0]) && slow_digit(t[1]) && t[2] == ':' && slow_digit(t[3]) && slow_digit(t[4]) &&
			            t[5] == ':' && slow_digit(t[6]) && slow_digit(t[7]) && (t[0] - '0') * 10 + t[1] - '0' < 24 &&
			            (t[3] - '0') * 10 + t[4] - '0' < 60 && (t[6] - '0') * 10 + t[7] - '0' <= 60;
			struct bs_clock c;
			struct bs_syslog o;
			bs_clock_init(&c, 2007, 0, NULL);
			bool got = parse(line, &c, &o);
			bad += got != want;
			if (got && want)
				bad += o.ts != bs_time_make(2007, 5, 4, (t[0] - '0') * 10 + t[1] - '0', (t[3] - '0') * 10 + t[4] - '0',
				                            (t[6] - '0') * 10 + t[7] - '0', 0);
		}
	is_int(bad, 0, "time: every byte at every place as the digit rule says");
	struct bs_clock c;
	struct bs_syslog o;
	bs_clock_init(&c, 2007, 0, NULL);
	ok(!bs_syslog_parse("May  4 23:59:5", 14, &c, &o), "time cut short");
	ok(parse("May  4 23:59:60 h p: m", &c, &o), "leap second");
}

static bool slow_tag_byte(unsigned char c) { return c > ' ' && c < 0x7f && c != '[' && c != ':'; }

/* One tag "postfix/submission/smtpd[1]: m" with byte b at pos; the prog,
 * prog_base and service the plain byte loop gives. (':' and '[' end a tag
 * too, then the pid and the colon decide: the cases above test those.) */
static int check_tag_byte(int pos, int b)
{
	char tag[] = "postfix/submission/smtpd";
	tag[pos] = (char)b;
	char line[96];
	int n = snprintf(line, sizeof line, "May  4 17:31:02 h %s[1]: m", tag);
	size_t end = 0, first = 0, last = 0;
	while (end < sizeof tag - 1 && slow_tag_byte((unsigned char)tag[end])) {
		if (tag[end] == '/') {
			last = end;
			if (!first)
				first = end;
		}
		end++;
	}
	struct bs_clock c;
	struct bs_syslog o;
	bs_clock_init(&c, 2007, 0, NULL);
	if (!bs_syslog_parse(line, (size_t)n, &c, &o))
		return 1;
	if (end < sizeof tag - 1) /* not a tag: the host's word, then the message */
		return o.prog.n != 0;
	bool split = first && tag[0] != '/';
	return o.prog.n != end || o.prog_base.n != (split ? first : end) ||
	       o.service.p != (split ? o.prog.p + last + 1 : o.prog.p);
}

static void test_fast_tag(void)
{
	int bad = 0;
	for (int pos = 0; pos < 24; pos++)
		for (int b = 1; b < 256; b++)
			bad += b != ':' && b != '[' && check_tag_byte(pos, b);
	is_int(bad, 0, "tag: every byte at every place as the byte loop says");
}

static bool parse_2007(const char *line, int n, struct bs_syslog *o)
{
	struct bs_clock c;
	bs_clock_init(&c, 2007, 0, NULL);
	return bs_syslog_parse(line, (size_t)n, &c, o);
}

/* The host ends at the first ' ' (a host ending in ':' may be a tag: not
 * this rule): byte b at pos of a 20-byte host. */
static int host_error(int pos, int b)
{
	char host[] = "mailhost.example.net", line[96];
	host[pos] = (char)b;
	struct bs_syslog o;
	if (b == ':' || !parse_2007(line, snprintf(line, sizeof line, "May  4 17:31:02 %s p[1]: m", host), &o))
		return 0;
	return o.host.n != (b == ' ' ? (size_t)pos : 20);
}

/* The pid ends at the first ']' or ' ', and a tag needs "]:": byte b at pos
 * of a 13-byte pid. */
static int pid_error(int pos, int b)
{
	char pid[] = "1234567890123", line[96];
	pid[pos] = (char)b;
	struct bs_syslog o;
	if (!parse_2007(line, snprintf(line, sizeof line, "May  4 17:31:02 h prog[%s]: m", pid), &o))
		return 1;
	if (b == ']' || b == ' ')
		return o.prog.n != 0;
	return o.pid.n != 13 || memcmp(o.pid.p, pid, 13) != 0;
}

/* Every byte value at every place (for whoever makes those loops faster). */
static void test_fast_host_pid(void)
{
	int bad = 0;
	for (int b = 1; b < 256; b++) {
		for (int pos = 0; pos < 20; pos++)
			bad += host_error(pos, b);
		for (int pos = 0; pos < 13; pos++)
			bad += pid_error(pos, b);
	}
	is_int(bad, 0, "host and pid: every byte at every place as the byte loops say");
}

int main(void)
{
	test_3164();
	test_5424();
	test_iso();
	test_tz();
	test_year();
	test_year_memo();
	test_garbage();
	test_fast_month();
	test_fast_hms();
	test_fast_tag();
	test_fast_host_pid();
	return tap_done();
}

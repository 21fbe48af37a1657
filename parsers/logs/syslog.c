/* syslog.c - syslog framing (RFC 3164, RFC 5424, rsyslog ISO 8601) and
 * RFC 3164 year inference. See docs/FORMATS.md. */
#include "config.h"
#include "parsers/logs/syslog.h"
#include "src/core/bytes.h"

#include <string.h>
#include <time.h>

/* ------------------------------------------------------- year inference */

static int year_of_epoch(int64_t sec);

void bs_clock_init(struct bs_clock *c, int forced_year, int64_t ref_epoch, struct bs_tz *tz)
{
	memset(c, 0, sizeof *c);
	c->forced_year = forced_year;
	c->ref_epoch = ref_epoch > 0 ? ref_epoch : (int64_t)time(NULL);
	c->cur_year = forced_year;
	c->tz = tz;
	c->ref_year = year_of_epoch(c->ref_epoch);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static int year_of_epoch(int64_t sec)
{
	/* Civil year of a UTC instant (the ref time is an mtime: UTC is close enough
	 * with the one-day slack of the rule). */
	int64_t days = sec >= 0 ? sec / 86400 : (sec - 86399) / 86400;
	int64_t y = 1970 + days / 366;
	while (bs_days_from_civil(y + 1, 1, 1) <= days)
		y++;
	while (bs_days_from_civil(y, 1, 1) > days)
		y--;
	return (int)y;
}

static int64_t local_seconds(int64_t y, unsigned mon, unsigned day, int h, int mi, int s)
{
	return bs_days_from_civil(y, mon, day) * 86400 + h * 3600 + mi * 60 + s;
}

static int64_t to_utc(struct bs_tz *tz, int64_t local)
{
	return local - bs_tz_offset_for_local(tz, local);
}

/* Zone offsets are within a day (the tz database's largest is under 16
 * hours); two days of margin make a test on a whole day independent of the
 * time and of the zone's rules. */
#define DAY_MARGIN (2 * 86400)

/* What decides the year of a date without --year: the latest year (walking
 * back at most 10 from the year after the reference; Feb 29 skips non-leap
 * years) in which the date exists and is not more than a day after the
 * reference time. Years whose every time of that day falls after the limit
 * are skipped, the first whose every time falls before it is plain_year;
 * one year at most lies in between (years are 365 days apart): near_year,
 * decided per line by its time. */
static void plan_year(struct bs_clock *c, unsigned mon, unsigned day)
{
	int64_t limit = c->ref_epoch + 86400;
	int y = c->ref_year + 1;
	c->near_year = c->plain_year = 0;
	for (int tries = 0; tries < 10; tries++, y--) {
		if (day > days_in_month(y, mon))
			continue;
		int64_t start = bs_days_from_civil(y, mon, day) * 86400;
		if (start - DAY_MARGIN > limit)
			continue; /* all of it after the limit */
		if (start + 86400 + DAY_MARGIN > limit && !c->near_year) {
			c->near_year = y;
			c->near_days = start / 86400;
			continue;
		}
		c->plain_year = y;
		c->plain_days = start / 86400;
		break;
	}
	c->memo_mon = mon;
	c->memo_day = day;
}

/* The year of an RFC 3164 stamp and the date's days since 1970; 0 when the
 * date cannot exist. */
static int clock_year(struct bs_clock *c, unsigned mon, unsigned day, int h, int mi, int s, int64_t *days)
{
	if (c->forced_year > 0) {
		if (c->last_month && (int)mon + 6 < c->last_month)
			c->cur_year++; /* December -> January */
		c->last_month = (int)mon;
		if (day > days_in_month(c->cur_year, mon))
			return 0;
		if (c->forced_memo_year != c->cur_year || mon != c->memo_mon || day != c->memo_day) {
			c->forced_memo_year = c->cur_year;
			c->memo_mon = mon;
			c->memo_day = day;
			c->plain_days = bs_days_from_civil(c->cur_year, mon, day);
		}
		*days = c->plain_days;
		return c->cur_year;
	}
	if (mon != c->memo_mon || day != c->memo_day)
		plan_year(c, mon, day);
	if (c->near_year && to_utc(c->tz, c->near_days * 86400 + h * 3600 + mi * 60 + s) <= c->ref_epoch + 86400) {
		*days = c->near_days;
		return c->near_year;
	}
	*days = c->plain_days;
	return c->plain_year;
}

/* ---------------------------------------------------------------- framing */

static bool digit(char c) { return c >= '0' && c <= '9'; }

static int num(const char *p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

static bool all_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!digit(p[i]))
			return false;
	return n > 0;
}

/* ".123456" at p: sets usec and digit count, returns bytes used. */
static size_t parse_frac(const char *p, const char *end, int *usec, int *frac_digits)
{
	*usec = 0;
	*frac_digits = 0;
	if (p >= end || (*p != '.' && *p != ',') || p + 1 >= end || !digit(p[1]))
		return 0;
	size_t i = 1;
	int scale = 100000;
	while (p + i < end && digit(p[i])) {
		if (scale > 0) {
			*usec += (p[i] - '0') * scale;
			scale /= 10;
		}
		if (*frac_digits < 9)
			(*frac_digits)++;
		i++;
	}
	return i;
}

/* The month of an RFC 3164 stamp, once per line. Daemons write "Jan".."Dec":
 * (second + third byte) & 31 tells those twelve apart, one comparison confirms;
 * any other spelling ("JAN", "jan", garbage) goes to bs_month_from_abbr. */
static int month_of(const char *p)
{
	static const struct {
		char name[3];
		unsigned char mon;
	} slot[32] = {
		[1] = { "Jul", 7 },  [2] = { "Apr", 4 },   [3] = { "Jun", 6 },  [5] = { "Nov", 11 },
		[7] = { "Feb", 2 },  [8] = { "Dec", 12 },  [15] = { "Jan", 1 }, [19] = { "Mar", 3 },
		[21] = { "Sep", 9 }, [23] = { "Oct", 10 }, [26] = { "May", 5 }, [28] = { "Aug", 8 },
	};
	unsigned i = ((unsigned char)p[1] + (unsigned char)p[2]) & 31;
	if (slot[i].mon && p[0] == slot[i].name[0] && p[1] == slot[i].name[1] && p[2] == slot[i].name[2])
		return slot[i].mon;
	char mname[4] = { p[0], p[1], p[2], 0 };
	return bs_month_from_abbr(mname);
}

/* "HH:MM:SS", the eight bytes as one number (on every syslog line). XOR with
 * "00:00:00" leaves 0..9 in a byte that held a digit and 0 in one that held
 * the ':'. Adding 0x76 to a digit byte (0x7f to a ':' byte), its low seven
 * bits only, carries into bit 7 exactly when the byte was larger; bit 7 of the
 * byte itself catches the rest. */
static bool parse_hms(const char *p, const char *end, int *h, int *mi, int *s)
{
	if (end - p < 8)
		return false;
	uint64_t v = bs_le64((const uint8_t *)p) ^ UINT64_C(0x30303a30303a3030);
	uint64_t high = UINT64_C(0x8080808080808080);
	if (((((v & ~high) + UINT64_C(0x76767f76767f7676)) | v) & high) != 0)
		return false;
	*h = (int)(v & 0xff) * 10 + (int)(v >> 8 & 0xff);
	*mi = (int)(v >> 24 & 0xff) * 10 + (int)(v >> 32 & 0xff);
	*s = (int)(v >> 48 & 0xff) * 10 + (int)(v >> 56);
	return *h < 24 && *mi < 60 && *s <= 60;
}

/* ISO 8601 "YYYY-MM-DD[T ]HH:MM:SS[.f][Z|+hh:mm]". sep_space allows ' ' as
 * the date/time separator. Returns bytes used, 0 if none. */
static size_t parse_iso(const char *p, const char *end, bool sep_space, struct bs_tz *tz, bs_time *ts,
			int *frac_digits)
{
	if (end - p < 19 || !all_digits(p, 4) || p[4] != '-' || !all_digits(p + 5, 2) || p[7] != '-' ||
	    !all_digits(p + 8, 2) || !(p[10] == 'T' || (sep_space && p[10] == ' ')))
		return 0;
	int y = num(p, 4), mon = num(p + 5, 2), day = num(p + 8, 2), h, mi, s, usec;
	if (mon < 1 || mon > 12 || day < 1 || (unsigned)day > days_in_month(y, (unsigned)mon))
		return 0;
	if (!parse_hms(p + 11, end, &h, &mi, &s))
		return 0;
	const char *q = p + 19;
	q += parse_frac(q, end, &usec, frac_digits);
	int64_t local = local_seconds(y, (unsigned)mon, (unsigned)day, h, mi, s);
	int64_t utc;
	if (q < end && *q == 'Z') {
		utc = local;
		q++;
	} else if (q < end && (*q == '+' || *q == '-')) {
		size_t zl = (end - q >= 6 && q[3] == ':') ? 6 : 5;
		int32_t off;
		if ((size_t)(end - q) < zl || !bs_tz_parse_offset(q, zl, &off))
			return 0;
		utc = local - off;
		q += zl;
	} else {
		utc = to_utc(tz, local);
	}
	*ts = utc * BS_USEC + usec;
	return (size_t)(q - p);
}

/* Service and base of a program name whose first and last '/' are known
 * (NULL: none). */
static void split_prog_at(struct bs_syslog *o, const char *slash, const char *last_slash)
{
	o->prog_base = o->prog;
	o->service = o->prog;
	if (o->prog.n == 0 || o->prog.p[0] == '/' || !slash)
		return; /* a path ("/sbin/anacron") is a name, not a service */
	o->prog_base.n = (size_t)(slash - o->prog.p);
	const char *svc = last_slash + 1;
	o->service = bs_str_make(svc, (size_t)(o->prog.p + o->prog.n - svc));
}

static void split_prog(struct bs_syslog *o)
{
	const char *slash = o->prog.n ? memchr(o->prog.p, '/', o->prog.n) : NULL;
	const char *last = slash ? memrchr(o->prog.p, '/', o->prog.n) : NULL;
	split_prog_at(o, slash, last);
}

/* A tag's bytes: 0 ends it, 1 is part of it, 2 is a '/' in it (a program
 * name "postfix/smtpd" splits there). A table: the tag loop runs on every
 * syslog line. */
#define TAG_CLASS(c) ((c) > ' ' && (c) < 0x7f && (c) != '[' && (c) != ':' ? ((c) == '/' ? 2 : 1) : 0)
#define TAG_CLASS4(c) TAG_CLASS(c), TAG_CLASS((c) + 1), TAG_CLASS((c) + 2), TAG_CLASS((c) + 3)
#define TAG_CLASS16(c) TAG_CLASS4(c), TAG_CLASS4((c) + 4), TAG_CLASS4((c) + 8), TAG_CLASS4((c) + 12)
#define TAG_CLASS64(c) TAG_CLASS16(c), TAG_CLASS16((c) + 16), TAG_CLASS16((c) + 32), TAG_CLASS16((c) + 48)
static const unsigned char tag_class[256] = { TAG_CLASS64(0), TAG_CLASS64(64), TAG_CLASS64(128), TAG_CLASS64(192) };

static bool tag_char(unsigned char c)
{
	return tag_class[c] != 0;
}

/* Eight bytes at a time (SWAR): every byte's test leaves bit 7 of that byte
 * set or clear, exactly, with no carry between bytes. t is x with bit 7 of
 * each byte cleared. */
#define EACH_BYTE(c) (UINT64_C(0x0101010101010101) * (c))

/* Bit 7 set in the bytes of t equal to c (c < 0x80). */
static uint64_t bytes_equal(uint64_t t, unsigned char c)
{
	return ~((t ^ EACH_BYTE(c)) + EACH_BYTE(0x7f)) & EACH_BYTE(0x80);
}

/* Bit 7 set in the bytes of x that are not tag bytes (tag_class 0): 0x80 and
 * up (bit 7 itself), up to ' ' (t + 0x5f stays below 0x80), 0x7f (t + 1
 * reaches 0x80), '[' and ':'. */
static uint64_t non_tag_bytes(uint64_t x, uint64_t t)
{
	return (x | ~(t + EACH_BYTE(0x5f)) | (t + EACH_BYTE(0x01)) | bytes_equal(t, '[') | bytes_equal(t, ':')) &
	       EACH_BYTE(0x80);
}

/* The end of the tag bytes from p (at most lim), noting the first and the
 * last '/' among them. Eight bytes a step, then byte by byte. */
static const char *tag_end(const char *p, const char *lim, const char **slash, const char **last_slash)
{
	const char *q = p;
	while (lim - q >= 8) {
		uint64_t x = bs_le64((const uint8_t *)q), t = x & EACH_BYTE(0x7f);
		uint64_t stop = non_tag_bytes(x, t), slashes = bytes_equal(t, '/');
		if (stop)
			slashes &= (stop & -stop) - 1; /* only those before the first stop */
		if (slashes) {
			if (!*slash)
				*slash = q + __builtin_ctzll(slashes) / 8;
			*last_slash = q + (63 - __builtin_clzll(slashes)) / 8;
		}
		if (stop)
			return q + __builtin_ctzll(stop) / 8;
		q += 8;
	}
	for (unsigned char k; q < lim && (k = tag_class[(unsigned char)*q]) != 0; q++)
		if (k == 2) {
			*last_slash = q;
			if (!*slash)
				*slash = q;
		}
	return q;
}

/* "prog[pid]: msg", "prog: msg". strict: only "prog[pid]:" (the ISO form with
 * a space separator, so that Exim main-log lines are not taken for syslog).
 * Returns false when p does not start with a tag; then nothing is set. */
static bool parse_tag(const char *p, const char *end, bool strict, struct bs_syslog *o)
{
	const char *lim = end - p > 128 ? p + 128 : end, *slash = NULL, *last_slash = NULL;
	const char *q = tag_end(p, lim, &slash, &last_slash);
	if (q == p || q >= end)
		return false;
	bs_str prog = bs_str_make(p, (size_t)(q - p)), pid = BS_STR_NULL;
	if (*q == '[') {
		const char *ps = q + 1, *pe = ps, *pe_lim = end - ps > 20 ? ps + 20 : end;
		while (pe < pe_lim && *pe != ']' && *pe != ' ')
			pe++;
		if (pe >= end || *pe != ']' || pe == ps)
			return false;
		pid = bs_str_make(ps, (size_t)(pe - ps));
		q = pe + 1;
	} else if (strict) {
		return false;
	}
	if (q >= end || *q != ':')
		return false;
	q++;
	if (q < end && *q == ' ')
		q++;
	o->prog = prog;
	o->pid = pid;
	o->msg = bs_str_make(q, (size_t)(end - q));
	split_prog_at(o, slash, last_slash);
	return true;
}

static const char *skip_token(const char *p, const char *end)
{
	while (p < end && *p != ' ')
		p++;
	return p;
}

/* Dovecot's own log file (log_path) has no host and puts a level next to the
 * service: "imap-login: Info: Login: ..." (2.x) or "Info: imap-login: Login:
 * ..." (1.x). The level is dropped, so the service is the program as under
 * syslog. */
static bool is_level(const char *p, size_t n)
{
	static const char *const levels[] = { "Info", "Warning", "Error", "Fatal", "Panic", "Debug" };
	for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
		if (n == strlen(levels[i]) && memcmp(p, levels[i], n) == 0)
			return true;
	return false;
}

static void drop_level(struct bs_syslog *o)
{
	if (o->pid.n)
		return;
	if (is_level(o->prog.p, o->prog.n)) {
		struct bs_syslog inner = *o;
		if (parse_tag(o->msg.p, o->msg.p + o->msg.n, false, &inner) && !is_level(inner.prog.p, inner.prog.n))
			*o = inner;
		return;
	}
	const char *colon = memchr(o->msg.p, ':', o->msg.n < 8 ? o->msg.n : 8);
	if (colon && is_level(o->msg.p, (size_t)(colon - o->msg.p)) && (size_t)(colon - o->msg.p) + 1 < o->msg.n &&
	    colon[1] == ' ')
		o->msg = bs_str_make(colon + 2, o->msg.n - (size_t)(colon + 2 - o->msg.p));
}

/* After the time: "host tag msg", or "tag msg" with no host, or "msg". */
static void parse_host_tag(const char *p, const char *end, bool strict, struct bs_syslog *o)
{
	const char *h_end = skip_token(p, end);
	/* "<mail.notice> host prog[pid]:" (syslog-ng's facility.priority template) */
	if (h_end - p >= 5 && *p == '<' && h_end[-1] == '>' && memchr(p, '.', (size_t)(h_end - p)) && h_end < end) {
		p = h_end + 1;
		h_end = skip_token(p, end);
	}
	/* "kernel: ..." with no host: the first token already is the tag. */
	if (h_end > p && h_end[-1] == ':' && !strict && parse_tag(p, end, false, o)) {
		drop_level(o);
		return;
	}
	o->host = bs_str_make(p, (size_t)(h_end - p));
	const char *t = h_end < end ? h_end + 1 : end;
	if (parse_tag(t, end, strict, o))
		return;
	o->msg = bs_str_make(t, (size_t)(end - t));
	/* "sogod [26818]: msg": a program's own log file in the syslog shape,
	 * no host, a space before the pid (SOGo's, GNUstep's NSLog) */
	const char *q = t + 1;
	while (q < end && digit(*q) && q - t < 12)
		q++;
	if (!strict && t < end && *t == '[' && q > t + 1 && q + 1 < end && q[0] == ']' && q[1] == ':' &&
	    tag_char((unsigned char)*p)) {
		o->prog = o->host;
		o->pid = bs_str_make(t + 1, (size_t)(q - t - 1));
		o->host = BS_STR_LIT("");
		q += 2;
		if (q < end && *q == ' ')
			q++;
		o->msg = bs_str_make(q, (size_t)(end - q));
		split_prog(o);
	}
}

/* RFC 5424 after "<PRI>1 " (or "1 "). */
static bool parse_5424(const char *p, const char *end, struct bs_clock *clock, struct bs_syslog *o)
{
	size_t used = parse_iso(p, end, false, clock ? clock->tz : NULL, &o->ts, &o->frac_digits);
	if (!used || p + used >= end || p[used] != ' ')
		return false;
	p += used + 1;
	bs_str f[4]; /* host, app, procid, msgid */
	for (int i = 0; i < 4; i++) {
		const char *e = skip_token(p, end);
		if (e == p || e >= end)
			return false;
		f[i] = bs_str_make(p, (size_t)(e - p));
		if (f[i].n == 1 && f[i].p[0] == '-')
			f[i].n = 0;
		p = e + 1;
	}
	/* Structured data: "-" or [id k="v" ...]... with \] and \" escapes.
	 * The header may end right after MSGID: nothing to read then. */
	if (p >= end) {
		return false;
	} else if (*p == '-') {
		p++;
	} else if (*p == '[') {
		while (p < end && *p == '[') {
			bool quoted = false;
			p++;
			while (p < end && (quoted || *p != ']')) {
				if (*p == '\\' && p + 1 < end)
					p++;
				else if (*p == '"')
					quoted = !quoted;
				p++;
			}
			if (p >= end)
				return false;
			p++;
		}
	} else {
		return false;
	}
	if (p < end && *p == ' ')
		p++;
	if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3; /* the BOM RFC 5424 puts before UTF-8 messages */
	o->host = f[0];
	o->prog = f[1];
	o->pid = f[2];
	o->msg = bs_str_make(p, (size_t)(end - p));
	split_prog(o);
	o->kind = BS_SYSLOG_5424;
	return true;
}

static bool parse_line(const char *line, size_t len, struct bs_clock *clock, struct bs_syslog *out);

bool bs_syslog_parse(const char *line, size_t len, struct bs_clock *clock, struct bs_syslog *out)
{
	if (!parse_line(line, len, clock, out))
		return false;
	if (!bs_time_valid(out->ts)) {
		out->time_out_of_range = true;
		return false;
	}
	return true;
}

static bool parse_line(const char *line, size_t len, struct bs_clock *clock, struct bs_syslog *out)
{
	memset(out, 0, sizeof *out);
	if (!line)
		return false;
	const char *p = line, *end = line + len;
	/* Strip a trailing CR (files copied from Windows). */
	if (end > p && end[-1] == '\r')
		end--;
	/* Optional "<PRI>". */
	if (p < end && *p == '<') {
		const char *q = p + 1;
		while (q < end && digit(*q) && q - p <= 4)
			q++;
		if (q == p + 1 || q >= end || *q != '>')
			return false;
		p = q + 1;
	}
	/* RFC 5424: version "1" then a space. */
	if (end - p > 2 && p[0] == '1' && p[1] == ' ')
		return parse_5424(p + 2, end, clock, out);
	struct bs_tz *tz = clock ? clock->tz : NULL;
	/* rsyslog ISO 8601 ("T") and the same with a space (strict tag). */
	if (end - p >= 19 && digit(p[0]) && p[4] == '-') {
		bool space = p[10] == ' ';
		size_t used = parse_iso(p, end, true, tz, &out->ts, &out->frac_digits);
		if (!used || p + used >= end || p[used] != ' ')
			return false;
		parse_host_tag(p + used + 1, end, space, out);
		if (space && out->prog.n == 0)
			return false;
		out->kind = BS_SYSLOG_ISO;
		return true;
	}
	/* RFC 3164: "Mmm dd HH:MM:SS" (day space-padded or zero-padded). */
	if (end - p < 15)
		return false;
	int mon = month_of(p);
	if (mon == 0 || p[3] != ' ')
		return false;
	const char *q = p + 4;
	if (*q == ' ')
		q++;
	/* one or two digits; q + 1 < end (the line holds 15 bytes from p, q <= p + 5) */
	int day = 0, nd = 0;
	if (digit(q[0])) {
		day = q[0] - '0';
		nd = 1;
		if (digit(q[1])) {
			day = day * 10 + (q[1] - '0');
			nd = 2;
		}
	}
	q += nd;
	if (nd == 0 || q >= end || *q != ' ' || day < 1 || day > 31)
		return false;
	q++;
	int h, mi, s, usec;
	if (!parse_hms(q, end, &h, &mi, &s))
		return false;
	q += 8;
	usec = 0; /* frac_digits is 0 from the memset */
	if (q < end && (*q == '.' || *q == ','))
		q += parse_frac(q, end, &usec, &out->frac_digits);
	struct bs_clock fallback;
	if (!clock) {
		bs_clock_init(&fallback, 0, 0, NULL);
		clock = &fallback;
	}
	int64_t days;
	if (clock_year(clock, (unsigned)mon, (unsigned)day, h, mi, s, &days) == 0)
		return false;
	out->ts = to_utc(clock->tz, days * 86400 + h * 3600 + mi * 60 + s) * BS_USEC + usec;
	out->kind = BS_SYSLOG_3164;
	if (q < end && *q == ':') {
		/* "Nov 18 01:15:43: --- last message repeated 5 times ---": no host. */
		q++;
		if (q < end && *q == ' ')
			q++;
		out->msg = bs_str_make(q, (size_t)(end - q));
		return true;
	}
	if (q < end && *q == ' ')
		q++;
	else if (q < end)
		return false;
	parse_host_tag(q, end, false, out);
	return true;
}

/* roundcube.c - Roundcube webmail's own logs (docs/DAEMONS.md): the
 * `userlogins` log (successful and failed logins), the IMAP login failures of
 * the `errors` log, and the `sendmail` log (messages sent). Both the file form
 * "[22-Jan-2013 22:28:21 +0200]: <sess> MESSAGE" and the syslog form
 * "roundcube[pid]: <sess> MESSAGE". Stateless; every string is borrowed from
 * the line. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

static bool digit(char c) { return c >= '0' && c <= '9'; }

static bool prog_roundcube(bs_str prog)
{
	return bs_str_ieq(prog, "roundcube") || bs_str_ieq(prog, "roundcubemail");
}

/* "[22-Jan-2013 22:28:21 +0200]: " (PHP's 'd-M-Y H:i:s O', Roundcube's
 * default log_date_format; the zone may be missing): the time and the length
 * of the stamp with its ": ". tz NULL: only the shape is checked. */
static size_t parse_stamp(const char *p, size_t n, struct bs_tz *tz, bs_time *ts)
{
	size_t i = 1, d0;
	if (n < 24 || p[0] != '[')
		return 0;
	int day = 0;
	for (d0 = i; i < n && digit(p[i]) && i - d0 < 2; i++)
		day = day * 10 + (p[i] - '0');
	if (i == d0 || i + 21 > n || p[i] != '-' || p[i + 4] != '-' || p[i + 9] != ' ')
		return 0;
	char mon_abbr[4] = { p[i + 1], p[i + 2], p[i + 3], 0 };
	int mon = bs_month_from_abbr(mon_abbr);
	const char *y = p + i + 5, *t = p + i + 10;
	for (int k = 0; k < 4; k++)
		if (!digit(y[k]))
			return 0;
	if (!digit(t[0]) || !digit(t[1]) || t[2] != ':' || !digit(t[3]) || !digit(t[4]) || t[5] != ':' ||
	    !digit(t[6]) || !digit(t[7]))
		return 0;
	int year = (y[0] - '0') * 1000 + (y[1] - '0') * 100 + (y[2] - '0') * 10 + (y[3] - '0');
	int h = (t[0] - '0') * 10 + (t[1] - '0'), mi = (t[3] - '0') * 10 + (t[4] - '0');
	int sec = (t[6] - '0') * 10 + (t[7] - '0');
	if (mon < 1 || day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	i += 18;
	bs_time local = bs_time_make(year, mon, day, h, mi, sec, 0);
	int32_t off;
	const char *close = memchr(p + i, ']', n - i);
	if (!close || (size_t)(close - p) + 2 > n || close[1] != ':')
		return 0;
	if (p[i] == ' ' && bs_tz_parse_offset(p + i + 1, (size_t)(close - p - i - 1), &off))
		;
	else if (close == p + i)
		off = tz ? bs_tz_offset_for_local(tz, local / BS_USEC) : 0;
	else
		return 0;
	*ts = local - (bs_time)off * BS_USEC;
	i = (size_t)(close - p) + 2;
	return i < n && p[i] == ' ' ? i + 1 : i;
}

static bool roundcube_raw(const char *line, size_t len)
{
	bs_time ts;
	return parse_stamp(line, len, NULL, &ts) > 0;
}

/* "... USER from A<rest>": the last " from " before limit that is followed
 * by an address; user is what lies between start and it. The user name is
 * the client's to choose ("admin from 127.0.0.1"), the address Roundcube's. */
static bool user_from(bs_str s, bs_str *user, bs_ip *ip, bs_str *rest)
{
	for (size_t i = s.n; i-- > 0;) {
		if (i + 6 > s.n || memcmp(s.p + i, " from ", 6) != 0)
			continue;
		if (bs_wm_client_at(bs_str_make(s.p + i + 6, s.n - i - 6), ip, rest)) {
			*user = bs_str_make(s.p, i);
			return true;
		}
	}
	return false;
}

/* " in session S" after the client: the session id (Roundcube's, not the
 * client's), else the log prefix's short one. */
static bs_str session_of(bs_str rest, bs_str prefix)
{
	const char *in = bs_wm_find(rest, " in session ");
	if (!in)
		return prefix;
	bs_str s = bs_wm_after(rest, in, 12);
	size_t n = 0;
	while (n < s.n && s.p[n] != ' ')
		n++;
	return bs_str_make(s.p, n);
}

/* userlogins: "Successful login for U (ID: N) from A in session S",
 * "Failed login for U from A in session S (error: N)", 0.x "FAILED login for U from A". */
static enum bs_verdict userlogin(const struct bs_line_ctx *c, bs_time ts, bs_str msg, bs_str prefix, int success)
{
	/* the caller matched the opening without regard to case: skip it by its
	 * length (a search for " for " may find none: "FAILED LOGIN FOR") */
	bs_str body = bs_wm_after(msg, msg.p, success ? strlen("Successful login for ") : strlen("Failed login for ")), user, rest;
	bs_ip ip;
	if (success) {
		const char *id = bs_wm_find_last(body, " (ID: ");
		if (!id) {
			bs_line_debug(c, "roundcube", "successful login without (ID: n)");
			return BS_MALFORMED;
		}
		bs_str tail = bs_wm_after(body, id, 6);
		const char *from = bs_wm_find(tail, ") from ");
		if (!from || !bs_wm_client_at(bs_wm_after(tail, from, 7), &ip, &rest)) {
			bs_line_debug(c, "roundcube", "successful login without a client address");
			return BS_MALFORMED;
		}
		user = bs_str_make(body.p, (size_t)(id - body.p));
	} else {
		const char *in = bs_wm_find_last(body, " in session ");
		bs_str head = in ? bs_str_make(body.p, (size_t)(in - body.p)) : body;
		if (!user_from(head, &user, &ip, &rest)) {
			bs_line_debug(c, "roundcube", "failed login without a client address");
			return BS_MALFORMED;
		}
		if (in)
			rest = bs_wm_after(body, in, 0);
	}
	bs_wm_login(c, ts, BS_AUTH_HTTP, user, &ip, session_of(rest, prefix), success);
	return BS_PARSED;
}

/* errors: "IMAP Error: Login failed for U [against H] from A[(X-Real-IP: ..)].
 * AUTHENTICATE PLAIN: <the IMAP server's answer> in FILE on line N (POST ...)".
 * The server's answer may repeat the user name, so the address is looked for
 * before it. */
static enum bs_verdict imap_failure(const struct bs_line_ctx *c, bs_time ts, bs_str msg, bs_str prefix)
{
	bs_str body = bs_wm_after(msg, msg.p, strlen("IMAP Error: Login failed for ")), user, rest; /* matched without regard to case */
	static const char *const ends[] = { ". AUTHENTICATE ", ". LOGIN: ", ". LOGIN ", " in /" };
	for (size_t k = 0; k < sizeof ends / sizeof *ends; k++) {
		const char *e = bs_wm_find(body, ends[k]);
		if (e) /* the first end: the user name, before it, holds no IMAP answer */
			body.n = (size_t)(e - body.p) + (ends[k][0] == '.' ? 1 : 0);
	}
	bs_ip ip;
	if (!user_from(body, &user, &ip, &rest)) {
		bs_line_debug(c, "roundcube", "IMAP login failure without a client address");
		return BS_MALFORMED;
	}
	const char *against = bs_wm_find_last(user, " against ");
	if (against)
		user.n = (size_t)(against - user.p);
	bs_wm_login(c, ts, BS_AUTH_HTTP, user, &ip, prefix, 0);
	return BS_PARSED;
}

/* sendmail: "User U [A]; Message <id> for r1, r2; 250: 2.0.0 Ok: queued as X". */
static enum bs_verdict sent(const struct bs_line_ctx *c, bs_time ts, bs_str msg)
{
	bs_str body = bs_wm_after(msg, msg.p, 5);
	const char *mark = bs_wm_find(body, "]; Message ");
	const char *open = mark ? memrchr(body.p, '[', (size_t)(mark - body.p)) : NULL;
	bs_ip ip;
	if (!open || open == body.p || open[-1] != ' ' || !bs_ip_parse(open + 1, (size_t)(mark - open - 1), &ip)) {
		bs_line_debug(c, "roundcube", "sendmail line without User U [address]; Message");
		return BS_MALFORMED;
	}
	bs_str user = bs_str_make(body.p, (size_t)(open - 1 - body.p));
	bs_str tail = bs_wm_after(body, mark, 11);
	const char *for_ = bs_wm_find(tail, " for ");
	if (!for_) {
		bs_line_debug(c, "roundcube", "sendmail line without recipients");
		return BS_MALFORMED;
	}
	bs_str msgid = bs_str_make(tail.p, (size_t)(for_ - tail.p));
	if (msgid.n >= 2 && msgid.p[0] == '<' && msgid.p[msgid.n - 1] == '>')
		msgid = bs_str_make(msgid.p + 1, msgid.n - 2);
	bs_str list = bs_wm_after(tail, for_, 5);
	const char *semi = bs_wm_find(list, "; ");
	if (semi)
		list.n = (size_t)(semi - list.p);
	else if (list.n && list.p[list.n - 1] == ';')
		list.n--;
	bs_wm_sent(c, ts, user, &ip, msgid, list);
	return BS_PARSED;
}

static enum bs_verdict roundcube_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state;
	bs_time ts = 0;
	bs_str msg = text;
	if (!c->sl) {
		size_t used = parse_stamp(text.p, text.n, tz, &ts);
		msg = bs_str_make(text.p + used, text.n - used);
		if (used && !bs_time_valid(ts))
			return bs_line_debug(c, "roundcube", BS_TIME_RANGE_WHY), BS_MALFORMED;
	}
	bs_str prefix = BS_STR_NULL; /* "<3z506z6r> ": the session's first characters */
	if (msg.n > 2 && msg.p[0] == '<') {
		const char *gt = memchr(msg.p, '>', msg.n < 80 ? msg.n : 80);
		if (gt && (size_t)(gt - msg.p) + 1 < msg.n && gt[1] == ' ') {
			prefix = bs_str_make(msg.p + 1, (size_t)(gt - msg.p) - 1);
			msg = bs_wm_after(msg, gt, 2);
		}
	}
	if (bs_str_istarts(msg, "Successful login for "))
		return userlogin(c, ts, msg, prefix, 1);
	if (bs_str_istarts(msg, "Failed login for "))
		return userlogin(c, ts, msg, prefix, 0);
	if (bs_str_istarts(msg, "IMAP Error: Login failed for "))
		return imap_failure(c, ts, msg, prefix);
	if (bs_str_istarts(msg, "User ") && bs_wm_find(msg, "]; Message "))
		return sent(c, ts, msg);
	return BS_IGNORED; /* PHP and database errors, logouts, plugin lines */
}

const struct bs_daemon_def bs_daemon_roundcube = { .name = "roundcube", .prog = prog_roundcube,
                                                   .raw = roundcube_raw, .line = roundcube_line };

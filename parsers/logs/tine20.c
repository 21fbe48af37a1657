/* tine20.c - Tine 2.0's logins (docs/DAEMONS.md), in its own log
 * ("78017 00cff -- none -- - 2014-01-13T05:02:22+00:00 WARN (4): MESSAGE":
 * request id, transaction id, user, execution time, an ISO 8601 stamp,
 * priority) or the same message under syslog, any ident. Its controller
 * writes "Tinebase_Controller::login::N Login with username U from A failed
 * (CODE)!" for a refused login (CODE -1 no such user, -3 wrong password,
 * -100 disabled, -102 blocked ...) and "Tinebase_Controller::_loginUser::N
 * Login with username U from A succeeded." for an accepted one. The user
 * is the client's: the address is the one after the last " from " that is
 * followed by an address and the outcome. Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

static const char MARK[] = "Login with username ";

/* The stamp "yyyy-mm-ddThh:mm:ss[.fff][+hh:mm|Z] " at the start of s: its
 * length with the space, the time in *ts (in tz when it has no offset). */
static size_t iso_stamp(bs_str s, struct bs_tz *tz, bs_time *ts)
{
	size_t n = bs_wm_stamp(s, "YYYY-mm-ddTHH:MM:SS", tz, ts);
	if (!n)
		return 0;
	while (n < s.n && (s.p[n] == '.' || (s.p[n] >= '0' && s.p[n] <= '9')))
		n++;
	size_t zone = n;
	while (n < s.n && s.p[n] != ' ')
		n++;
	if (n == s.n)
		return 0;
	if (n > zone) {
		int32_t off;
		if (n - zone == 1 && s.p[zone] == 'Z')
			off = 0;
		else if (!bs_tz_parse_offset(s.p + zone, n - zone, &off))
			return 0;
		if (ts) { /* written with its offset: the zone given does not apply */
			bs_time utc;
			bs_wm_stamp(s, "YYYY-mm-ddTHH:MM:SS", NULL, &utc);
			*ts = utc - (bs_time)off * BS_USEC;
		}
	}
	return n + 1;
}

/* The message of a line of Tine's own log: after "ID ID -- USER -- ...
 * STAMP PRIORITY (N): "; the stamp's time in *ts. BS_STR_NULL if the line
 * is not one. */
static bs_str own_message(bs_str s, struct bs_tz *tz, bs_time *ts)
{
	const char *dashes = bs_wm_find(bs_str_make(s.p, s.n < 48 ? s.n : 48), " -- ");
	if (!dashes)
		return BS_STR_NULL;
	/* the user (any text) and the execution time come before the stamp:
	 * the first " " followed by one that reads */
	for (const char *sp = dashes + 4; (sp = bs_wm_find(bs_wm_after(s, sp, 1), " ")) != NULL && sp - s.p < 300;) {
		bs_str at = bs_wm_after(s, sp, 1);
		size_t n = iso_stamp(at, tz, ts);
		if (!n)
			continue;
		bs_str rest = bs_wm_after(at, at.p, n);
		const char *open = bs_wm_find(bs_str_make(rest.p, rest.n < 16 ? rest.n : 16), " (");
		const char *close = open ? bs_wm_find(rest, "): ") : NULL;
		if (!close || close < open)
			return BS_STR_NULL;
		return bs_wm_after(rest, close, 3);
	}
	return BS_STR_NULL;
}

static bool tine_raw(const char *line, size_t len)
{
	return own_message(bs_str_make(line, len), NULL, NULL).p != NULL;
}

static bool tine_shape(bs_str msg)
{
	const char *at = bs_wm_find(msg, "Tinebase_Controller::");
	return at && bs_wm_find(bs_wm_after(msg, at, 21), MARK);
}

static enum bs_verdict tine_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state;
	bs_time ts = 0;
	bs_str msg = c->sl ? text : own_message(text, tz, &ts);
	const char *mark = tine_shape(msg) ? bs_wm_find(msg, MARK) : NULL;
	if (!mark)
		return BS_IGNORED; /* the rest of the application's log */
	bs_str body = bs_wm_after(msg, mark, sizeof MARK - 1);
	const char *from = NULL;
	bs_ip ip;
	int success = -1;
	for (const char *f = bs_wm_find(body, " from "); f; f = bs_wm_find(bs_wm_after(body, f, 1), " from ")) {
		bs_ip a;
		bs_str rest;
		if (!bs_wm_client_at(bs_wm_after(body, f, 6), &a, &rest))
			continue;
		if (bs_str_istarts(rest, " failed"))
			success = 0;
		else if (bs_str_istarts(rest, " succeeded"))
			success = 1;
		else
			continue;
		from = f;
		ip = a;
	}
	if (!from)
		return bs_line_debug(c, "tine20", "login line without \"from address failed|succeeded\""), BS_MALFORMED;
	bs_wm_login(c, ts, BS_AUTH_HTTP, bs_str_make(body.p, (size_t)(from - body.p)), &ip, BS_STR_NULL, success);
	return BS_PARSED;
}

const struct bs_daemon_def bs_daemon_tine20 = { .name = "tine20", .shape = tine_shape, .raw = tine_raw,
	                                        .line = tine_line };

/* openwebmail.c - OpenWebMail's log (docs/DAEMONS.md): "Sat Dec 28 19:03:53
 * 2013 - [PID] (ADDRESS) USER - ACTION - DETAIL" (Perl's localtime, the
 * server's zone). "login" is a login, "login error" and "userinfo error"
 * failed ones, "send message" a message sent. Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

static bool digit(char c) { return c >= '0' && c <= '9'; }

/* "Www Mmm dd hh:mm:ss yyyy - [": the length up to '[' or 0. */
static size_t stamp(const char *p, size_t n, struct bs_tz *tz, bs_time *ts)
{
	if (n < 28 || p[3] != ' ' || p[7] != ' ' || p[13] != ':' || p[16] != ':' || p[19] != ' ' ||
	    memcmp(p + 24, " - [", 4) != 0)
		return 0;
	char mname[4] = { p[4], p[5], p[6], 0 };
	int mon = bs_month_from_abbr(mname);
	int d = (p[8] == ' ' ? 0 : p[8] - '0') * 10 + (p[9] - '0');
	for (int i = 20; i < 24; i++)
		if (!digit(p[i]))
			return 0;
	if (!mon || !digit(p[9]) || !digit(p[11]) || !digit(p[12]) || !digit(p[14]) || !digit(p[15]) || !digit(p[17]) ||
	    !digit(p[18]) || (p[8] != ' ' && !digit(p[8])))
		return 0;
#define N2(o) ((p[o] - '0') * 10 + (p[o + 1] - '0'))
	int y = N2(20) * 100 + N2(22), h = N2(11), mi = N2(14), s = N2(17);
#undef N2
	if (d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return 0;
	if (ts) {
		bs_time local = bs_time_make(y, mon, d, h, mi, s, 0);
		*ts = local - (bs_time)bs_tz_offset_for_local(tz, local / BS_USEC) * BS_USEC;
	}
	return 27;
}

static bool owm_raw(const char *line, size_t len) { return stamp(line, len, NULL, NULL) > 0; }

static enum bs_verdict owm_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state;
	bs_time ts = 0;
	bs_str rest = bs_wm_after(text, text.p, stamp(text.p, text.n, tz, &ts)), tail;
	const char *close = memchr(rest.p, ']', rest.n);
	bs_ip ip;
	if (!close || (size_t)(close - rest.p) + 3 > rest.n || close[1] != ' ' || close[2] != '(' ||
	    !bs_wm_client_at(bs_wm_after(rest, close, 3), &ip, &tail) || !tail.n || tail.p[0] != ')')
		return bs_line_debug(c, "openwebmail", "no (address) after [pid]"), BS_MALFORMED;
	bs_str body = bs_wm_after(tail, tail.p, tail.n > 1 && tail.p[1] == ' ' ? 2 : 1);
	/* USER - ACTION - DETAIL: the user is the client's to choose, the action
	 * one of OpenWebMail's words: the last " - login", etc. */
	static const struct { const char *act; int kind; } acts[] = {
		{ " - login error", 0 }, { " - userinfo error", 0 }, { " - login", 1 }, { " - send message", 2 },
	};
	for (size_t k = 0; k < sizeof acts / sizeof *acts; k++) {
		const char *at = bs_wm_find_last(body, acts[k].act);
		size_t n = strlen(acts[k].act);
		size_t left = at ? (size_t)(body.p + body.n - at) - n : 0;
		if (!at || (left && (left < 2 || memcmp(at + n, " -", 2) != 0)))
			continue;
		bs_str user = bs_str_make(body.p, (size_t)(at - body.p));
		if (acts[k].kind == 2)
			bs_wm_sent(c, ts, user, &ip, BS_STR_NULL, BS_STR_LIT(""));
		else
			bs_wm_login(c, ts, BS_AUTH_HTTP, user, &ip, BS_STR_NULL, acts[k].kind);
		return BS_PARSED;
	}
	return BS_IGNORED; /* logout, folder and message operations, errors */
}

const struct bs_daemon_def bs_daemon_openwebmail = { .name = "openwebmail", .raw = owm_raw, .line = owm_line };

/* kerio.c - Kerio Connect's security log (docs/DAEMONS.md): "[17/May/2017
 * 19:43:42] SMTP: User X doesn't exist. Attempt from IP address A.",
 * "Failed SMTP login from A with SASL method M.", "Administration login
 * into Web Administration from A failed: ..." are AUTH failures; relay
 * attempts, unknown recipients, blacklist hits and spam attacks are
 * ignored (rejected before a login). Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

/* "[dd/Mon/yyyy hh:mm:ss] ": 23 bytes, or 0. */
static size_t stamp(bs_str s, struct bs_tz *tz, bs_time *ts)
{
	const char *p = s.p;
	if (s.n < 23 || p[0] != '[' || p[3] != '/' || p[7] != '/' || p[12] != ' ' || p[15] != ':' || p[18] != ':' ||
	    p[21] != ']' || p[22] != ' ')
		return 0;
	static const int at[] = { 1, 2, 8, 9, 10, 11, 13, 14, 16, 17, 19, 20 };
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
		if (p[at[i]] < '0' || p[at[i]] > '9')
			return 0;
	int mon = bs_month_from_abbr(p + 4);
#define N2(o) ((p[o] - '0') * 10 + (p[o + 1] - '0'))
	int d = N2(1), y = N2(8) * 100 + N2(10), h = N2(13), mi = N2(16), sec = N2(19);
#undef N2
	if (mon < 1 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	if (ts) {
		bs_time local = bs_time_make(y, mon, d, h, mi, sec, 0);
		*ts = local - (bs_time)bs_tz_offset_for_local(tz, local / BS_USEC) * BS_USEC;
	}
	return 23;
}

static bool kerio_raw(const char *line, size_t len) { return stamp(bs_str_make(line, len), NULL, NULL) != 0; }

/* The address at "lit" in msg. */
static bool ip_after(bs_str msg, const char *lit, bs_ip *ip, bs_str *rest)
{
	const char *at = bs_wm_find(msg, lit);
	return at && bs_wm_client_at(bs_wm_after(msg, at, strlen(lit)), ip, rest);
}

static void fail(const struct bs_line_ctx *c, bs_time ts, enum bs_auth_proto proto, bs_str user, bs_str method,
                 const bs_ip *ip)
{
	struct bs_event ev;
	bs_line_auth(c, &ev, proto, user, method, 0);
	if (!c->sl)
		ev.ts = ts;
	ev.src = *ip;
	bs_emit(c->sink, &ev);
}

static enum bs_verdict kerio_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state;
	bs_time ts = 0;
	size_t used = c->sl ? 0 : stamp(text, tz, &ts);
	bs_str msg = bs_wm_after(text, text.p, used), rest;
	bs_ip ip;
	if (bs_str_istarts(msg, "SMTP: User ") && bs_wm_find(msg, " doesn't exist.")) {
		if (!ip_after(msg, "Attempt from IP address ", &ip, &rest))
			return bs_line_debug(c, "kerio", "unknown user without an address"), BS_MALFORMED;
		bs_str user = bs_wm_after(msg, msg.p, 11);
		user.n = (size_t)(bs_wm_find(msg, " doesn't exist.") - user.p);
		fail(c, ts, BS_AUTH_SMTP, user, BS_STR_LIT(""), &ip);
		return BS_PARSED;
	}
	if (bs_str_istarts(msg, "Failed SMTP login from ")) {
		if (!ip_after(msg, " login from ", &ip, &rest))
			return bs_line_debug(c, "kerio", "failed login without an address"), BS_MALFORMED;
		bs_str method = BS_STR_LIT("");
		const char *m = bs_wm_find(rest, "SASL method ");
		if (m) {
			method = bs_wm_after(rest, m, 12);
			while (method.n && (method.p[method.n - 1] == '.' || method.p[method.n - 1] == ' '))
				method.n--;
		}
		fail(c, ts, BS_AUTH_SMTP, BS_STR_LIT(""), method, &ip);
		return BS_PARSED;
	}
	if (bs_str_istarts(msg, "Administration login into ") && bs_wm_find(msg, " failed")) {
		if (!ip_after(msg, " from ", &ip, &rest))
			return bs_line_debug(c, "kerio", "administration login without an address"), BS_MALFORMED;
		fail(c, ts, BS_AUTH_HTTP, BS_STR_LIT(""), BS_STR_LIT("admin"), &ip);
		return BS_PARSED;
	}
	return BS_IGNORED;
}

const struct bs_daemon_def bs_daemon_kerio = { .name = "kerio", .raw = kerio_raw, .line = kerio_line };

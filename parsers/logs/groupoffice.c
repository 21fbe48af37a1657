/* groupoffice.c - Group-Office's login lines (docs/DAEMONS.md), in its own
 * log file ("[2014-01-06 10:59:38]LOGIN FAILED for user: "U" from IP: A",
 * its local time) or the same message under syslog, any ident: "LOGIN
 * FAILED" a login to the webmail form it refused, "LOGIN SUCCESS" one it
 * accepted. The user is the client's and may hold quotes: the address is
 * the one after the last "" from IP: ". Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

/* "[yyyy-mm-dd hh:mm:ss]" and the spaces after it: the length, or 0. */
static size_t stamp(bs_str s, struct bs_tz *tz, bs_time *ts)
{
	size_t n = bs_wm_stamp(s, "[YYYY-mm-dd HH:MM:SS]", tz, ts);
	while (n && n < s.n && s.p[n] == ' ')
		n++;
	return n;
}

/* The login lines: 1 accepted, 0 refused, -1 neither; body what follows
 * the marker. */
static int login_kind(bs_str msg, bs_str *body)
{
	static const char *const markers[] = { "LOGIN FAILED for user: ", "LOGIN SUCCESS for user: " };
	for (int k = 0; k < 2; k++)
		if (bs_str_istarts(msg, markers[k])) {
			*body = bs_wm_after(msg, msg.p, strlen(markers[k]));
			return k;
		}
	return -1;
}

/* under syslog the message may keep the file's stamp */
static bool go_shape(bs_str msg)
{
	bs_str body;
	return login_kind(bs_wm_after(msg, msg.p, stamp(msg, NULL, NULL)), &body) >= 0;
}

static bool go_raw(const char *line, size_t len)
{
	bs_str s = bs_str_make(line, len);
	return stamp(s, NULL, NULL) && go_shape(s);
}

static enum bs_verdict go_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state;
	bs_time ts = 0;
	size_t used = stamp(text, tz, c->sl ? NULL : &ts);
	bs_str body;
	int success = login_kind(bs_wm_after(text, text.p, used), &body);
	if (success < 0)
		return BS_IGNORED; /* not reached: the shape test found it */
	const char *from = bs_wm_find_last(body, "\" from IP:");
	bs_str at = from ? bs_wm_after(body, from, 10) : BS_STR_NULL, rest;
	while (at.n && at.p[0] == ' ')
		at = bs_wm_after(at, at.p, 1);
	bs_ip ip;
	if (!from || !bs_wm_client_at(at, &ip, &rest))
		return bs_line_debug(c, "group-office", "login line without \"from IP: address\""), BS_MALFORMED;
	bs_str user = bs_str_make(body.p, (size_t)(from - body.p));
	if (user.n && user.p[0] == '"')
		user = bs_wm_after(user, user.p, 1);
	bs_wm_login(c, ts, BS_AUTH_HTTP, user, &ip, BS_STR_NULL, success);
	return BS_PARSED;
}

const struct bs_daemon_def bs_daemon_groupoffice = { .name = "group-office", .shape = go_shape, .raw = go_raw,
	                                             .line = go_line };

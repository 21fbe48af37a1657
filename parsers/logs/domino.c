/* domino.c - the SMTP task of HCL (Lotus) Domino in its console log
 * (docs/DAEMONS.md): "dd-mm-yyyy hh:mm:ss   SMTP Server: Authentication
 * failed for user X ; connecting host 1.2.3.4", "... smtp: X [1.2.3.4]
 * authentication failure using internet password", with an optional
 * "[pid:thread-id] " before the stamp and a "yyyy-mm-dd" stamp too (which
 * opens like Exim's main log: the daemon is tried before Exim). Each
 * failure is one AUTH failure (SMTP). Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

static bool digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* "[pid:tid] " (optional), the stamp, then its spaces: the length up to the
 * message, or 0. */
static size_t stamp(bs_str s, struct bs_tz *tz, bs_time *ts)
{
	size_t i = 0;
	if (s.n && s.p[0] == '[') {
		const char *close = memchr(s.p, ']', s.n < 48 ? s.n : 48);
		if (!close || close + 1 >= s.p + s.n || close[1] != ' ')
			return 0;
		i = (size_t)(close - s.p) + 2;
	}
	const char *p = s.p + i;
	if (s.n < i + 21)
		return 0;
	char iso[20];
	if (p[2] == '-' && p[5] == '-' && digits(p, 2) && digits(p + 3, 2) && digits(p + 6, 4)) {
		/* dd-mm-yyyy: rewritten as yyyy-mm-dd for the shared reader */
		memcpy(iso, p + 6, 4), iso[4] = '-', memcpy(iso + 5, p + 3, 2), iso[7] = '-', memcpy(iso + 8, p, 2);
		memcpy(iso + 10, p + 10, 9);
		iso[19] = ' ';
		p = iso;
	}
	bs_time t;
	size_t used = bs_line_iso_stamp(bs_str_make(p, 20), tz, ts ? ts : &t);
	if (used != 20 || s.p[i + 19] != ' ' || s.p[i + 20] != ' ')
		return 0; /* Domino pads with spaces: Exim writes one */
	i += 20;
	while (i < s.n && s.p[i] == ' ')
		i++;
	return i;
}

static bool smtp_task(bs_str msg) { return bs_str_istarts(msg, "SMTP Server") || bs_str_istarts(msg, "smtp: "); }

static bool domino_raw(const char *line, size_t len)
{
	bs_str s = bs_str_make(line, len);
	size_t used = stamp(s, NULL, NULL);
	return used && smtp_task(bs_wm_after(s, s.p, used));
}

static bs_str trim(bs_str s)
{
	while (s.n && s.p[s.n - 1] == ' ')
		s.n--;
	while (s.n && s.p[0] == ' ')
		s.p++, s.n--;
	return s;
}

/* "X [ip]" or "X ip": the address is the last word. */
static bool user_then_ip(bs_str s, bs_str *user, bs_ip *ip)
{
	s = trim(s);
	const char *sp = s.p + s.n;
	while (sp > s.p && sp[-1] != ' ')
		sp--;
	bs_str a = bs_wm_after(s, sp, 0);
	if (a.n >= 2 && a.p[0] == '[' && a.p[a.n - 1] == ']')
		a = bs_str_make(a.p + 1, a.n - 2);
	if (!bs_ip_parse(a.p, a.n, ip))
		return false;
	*user = trim(bs_str_make(s.p, (size_t)(sp - s.p)));
	return true;
}

static enum bs_verdict domino_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state;
	bs_time ts = 0;
	size_t used = c->sl ? 0 : stamp(text, tz, &ts);
	bs_str msg = bs_wm_after(text, text.p, used), user;
	bs_ip ip;
	const char *at = bs_wm_find(msg, "Authentication failed for user ");
	if (at) {
		bs_str rest = bs_wm_after(msg, at, 31);
		const char *host = bs_wm_find(rest, " ; connecting host ");
		if (!host)
			return bs_line_debug(c, "domino", "authentication failure without a host"), BS_MALFORMED;
		bs_str a = trim(bs_wm_after(rest, host, 19));
		if (a.n >= 2 && a.p[0] == '[' && a.p[a.n - 1] == ']')
			a = bs_str_make(a.p + 1, a.n - 2);
		if (!bs_ip_parse(a.p, a.n, &ip))
			return bs_line_debug(c, "domino", "authentication failure with an unreadable host"), BS_MALFORMED;
		bs_wm_login(c, ts, BS_AUTH_SMTP, trim(bs_str_make(rest.p, (size_t)(host - rest.p))), &ip, BS_STR_NULL, 0);
		return BS_PARSED;
	}
	/* searched from the prefix's own space: the phrase may start there
	 * ("smtp: authentication failure using ..."), and the user and address
	 * before it are then empty (searched in the whole message, they had a
	 * length of -1: fuzz finding 15) */
	bs_str body = bs_wm_after(msg, msg.p, 5);
	at = bs_str_istarts(msg, "smtp: ") ? bs_wm_find(body, " authentication failure using ") : NULL;
	if (at) {
		if (!user_then_ip(bs_str_make(body.p, (size_t)(at - body.p)), &user, &ip))
			return bs_line_debug(c, "domino", "authentication failure without an address"), BS_MALFORMED;
		bs_wm_login(c, ts, BS_AUTH_SMTP, user, &ip, BS_STR_NULL, 0);
		return BS_PARSED;
	}
	return BS_IGNORED; /* connections, policy rejections, other notices */
}

const struct bs_daemon_def bs_daemon_domino = { .name = "domino", .raw = domino_raw, .line = domino_line };

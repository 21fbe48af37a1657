/* snappymail.c - the authentication log of SnappyMail and RainLoop
 * (docs/DAEMONS.md), their default auth_logging_format: "[2023-02-01
 * 10:00:00] Auth failed: ip=A user=U host=H port=P" (RainLoop may add the
 * zone's name inside the brackets), in its file or as a syslog message under
 * any ident. Only failures are logged. Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

/* "[stamp[ ZONE]] ": the length up to the message, or 0. */
static size_t stamp(bs_str s, struct bs_tz *tz, bs_time *ts)
{
	if (s.n < 22 || s.p[0] != '[')
		return 0;
	bs_time t;
	size_t used = bs_line_iso_stamp(bs_wm_after(s, s.p, 1), tz, ts ? ts : &t);
	if (!used)
		return 0;
	const char *close = memchr(s.p + 1 + used - 1, ']', s.n - used < 10 ? s.n - used : 10);
	if (!close || close + 2 > s.p + s.n || close[1] != ' ')
		return 0;
	return (size_t)(close - s.p) + 2;
}

static bool failed(bs_str msg) { return bs_str_istarts(msg, "Auth failed: ip="); }

static bool snappy_raw(const char *line, size_t len)
{
	bs_str s = bs_str_make(line, len);
	size_t used = stamp(s, NULL, NULL);
	return used && failed(bs_wm_after(s, s.p, used));
}

/* The value of " key=" up to the next space (a login has none). */
static bs_str field(bs_str msg, const char *key)
{
	const char *at = bs_wm_find(msg, key);
	if (!at)
		return BS_STR_NULL;
	bs_str v = bs_wm_after(msg, at, strlen(key));
	const char *sp = memchr(v.p, ' ', v.n);
	return sp ? bs_str_make(v.p, (size_t)(sp - v.p)) : v;
}

static enum bs_verdict snappy_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state;
	bs_time ts = 0;
	size_t used = c->sl ? 0 : stamp(text, tz, &ts);
	bs_str msg = bs_wm_after(text, text.p, used);
	bs_str a = field(msg, "ip="), user = field(msg, " user=");
	bs_ip ip;
	if (!a.n || !bs_ip_parse(a.p, a.n, &ip))
		return bs_line_debug(c, "snappymail", "Auth failed without ip="), BS_MALFORMED;
	bs_wm_login(c, ts, BS_AUTH_HTTP, user.p ? user : BS_STR_LIT(""), &ip, BS_STR_NULL, 0);
	return BS_PARSED;
}

const struct bs_daemon_def bs_daemon_snappymail = { .name = "snappymail", .shape = failed, .raw = snappy_raw,
	                                            .line = snappy_line };

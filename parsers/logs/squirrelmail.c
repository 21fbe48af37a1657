/* squirrelmail.c - SquirrelMail's squirrel_logger plugin (docs/DAEMONS.md):
 * "[EVENT] USER (DOMAIN) from ADDRESS: MESSAGE", its default format, after
 * the date "10/06/2013 15:50:41 " (its default 'm/d/Y H:i:s', local time) in
 * its file, or as the message of a syslog line under any ident. LOGIN is a
 * login, LOGIN_ERROR a failed one, OUTGOING_MAIL a message sent. Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

/* "mm/dd/yyyy hh:mm:ss [": the stamp's length with its space, or 0. */
static size_t stamp(const char *p, size_t n, struct bs_tz *tz, bs_time *ts)
{
	return bs_wm_stamp(bs_str_make(p, n), "mm/dd/YYYY HH:MM:SS [", tz, ts) ? 20 : 0;
}

static bool sm_raw(const char *line, size_t len) { return stamp(line, len, NULL, NULL) > 0; }

/* "[EVENT] U (D) from A: ": the event and where the body starts. */
static bool event_of(bs_str msg, bs_str *event, bs_str *body)
{
	if (msg.n < 4 || msg.p[0] != '[')
		return false;
	const char *close = memchr(msg.p, ']', msg.n < 32 ? msg.n : 32);
	if (!close || close == msg.p + 1 || close + 2 > msg.p + msg.n || close[1] != ' ')
		return false;
	for (const char *q = msg.p + 1; q < close; q++)
		if (!(*q >= 'A' && *q <= 'Z') && *q != '_')
			return false;
	*event = bs_str_make(msg.p + 1, (size_t)(close - msg.p - 1));
	*body = bs_wm_after(msg, close, 2);
	return bs_wm_find(*body, ") from ") != NULL;
}

static bool sm_shape(bs_str msg)
{
	bs_str event, body;
	return event_of(msg, &event, &body);
}

static enum bs_verdict sm_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state;
	bs_time ts = 0;
	size_t used = c->sl ? 0 : stamp(text.p, text.n, tz, &ts);
	bs_str msg = bs_str_make(text.p + used, text.n - used), event, body;
	if (!event_of(msg, &event, &body))
		return bs_line_debug(c, "squirrelmail", "no [EVENT] user (domain) from"), BS_MALFORMED;
	int success = bs_str_eq(event, "LOGIN") ? 1 : bs_str_eq(event, "LOGIN_ERROR") ? 0 : -1;
	bool sent = bs_str_eq(event, "OUTGOING_MAIL");
	if (success < 0 && !sent)
		return BS_IGNORED; /* LOGOUT, TIMEOUT, MASS_MAILING (a warning about a message OUTGOING_MAIL logs) */
	/* the user is the client's to choose: the last ") from A: " */
	const char *from = NULL;
	bs_ip ip;
	for (const char *o = bs_wm_find(body, ") from "); o; o = bs_wm_find(bs_wm_after(body, o, 7), ") from ")) {
		bs_str rest;
		bs_ip a;
		if (bs_wm_client_at(bs_wm_after(body, o, 7), &a, &rest) && (rest.n == 0 || rest.p[0] == ':'))
			from = o, ip = a;
	}
	const char *paren = from ? memrchr(body.p, '(', (size_t)(from - body.p)) : NULL;
	if (!paren || paren == body.p)
		return bs_line_debug(c, "squirrelmail", "no client address"), BS_MALFORMED;
	bs_str user = bs_str_make(body.p, (size_t)(paren - body.p) - (paren[-1] == ' '));
	if (sent) {
		/* "Message sent via webmail: To: a@b, c@d": the recipients, when
		 * the message names them after the client's address */
		bs_str after = bs_wm_after(body, from, 7), list = BS_STR_LIT("");
		const char *to = bs_wm_find(after, "To: ");
		if (to)
			list = bs_wm_after(after, to, 4);
		bs_wm_sent(c, ts, user, &ip, BS_STR_NULL, list);
	}
	else
		bs_wm_login(c, ts, BS_AUTH_HTTP, user, &ip, BS_STR_NULL, success);
	return BS_PARSED;
}

const struct bs_daemon_def bs_daemon_squirrelmail = { .name = "squirrelmail", .shape = sm_shape, .raw = sm_raw,
	                                              .line = sm_line };

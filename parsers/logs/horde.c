/* horde.c - Horde's login lines (docs/DAEMONS.md): "FAILED LOGIN for U [A]
 * to APP" and "Login success for U [A] to APP", under syslog (ident HORDE),
 * in PEAR Log's file ("Nov 11 18:57:57 HORDE [error] [horde] ...") or
 * Horde_Log's ("2016-02-01T10:00:00+01:00 NOTICE: HORDE [imp] ..."). Found
 * by the message, whatever the program: the framing names none that is
 * Horde's in the file forms. Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

/* The marker and whether it is a success; NULL: not a Horde login line. */
static const char *marker(bs_str msg, int *success)
{
	const char *at = bs_wm_find(msg, "FAILED LOGIN for ");
	*success = 0;
	if (!at && (at = bs_wm_find(msg, "Login success for ")) != NULL)
		*success = 1;
	return at;
}

/* The client: the last " [A]" followed by "] to " or "] (": the user name
 * before it is the client's to choose, the application after it (with
 * brackets of its own, "{mx:993 [imap/ssl]}") the server's. */
static const char *client_bracket(bs_str body, bs_ip *ip)
{
	const char *found = NULL;
	for (const char *o = bs_wm_find(body, " ["); o; o = bs_wm_find(bs_wm_after(body, o, 2), " [")) {
		bs_str in = bs_wm_after(body, o, 2), rest;
		bs_ip a;
		if (bs_wm_client_at(in, &a, &rest) && (bs_str_istarts(rest, "] to ") || bs_str_istarts(rest, "] ("))) {
			found = o;
			*ip = a;
		}
	}
	return found;
}

static bool horde_shape(bs_str msg)
{
	int success;
	bs_ip ip;
	const char *at = marker(msg, &success);
	return at && client_bracket(bs_wm_after(msg, at, 17 + (size_t)success), &ip);
}

static enum bs_verdict horde_line(void *state, const struct bs_line_ctx *c, bs_str msg, struct bs_tz *tz)
{
	(void)state, (void)tz;
	int success;
	const char *at = marker(msg, &success);
	if (!at)
		return BS_IGNORED; /* not reached: the shape test found it */
	bs_str body = bs_wm_after(msg, at, 17 + (size_t)success);
	bs_ip ip;
	const char *open = client_bracket(body, &ip);
	if (!open)
		return bs_line_debug(c, "horde", "login line without [address] to"), BS_MALFORMED;
	/* PEAR Log's file form puts the ident where syslog puts the host */
	struct bs_syslog sl;
	struct bs_line_ctx own = *c;
	if (c->sl && !c->sl->prog.n && bs_str_ieq(c->sl->host, "HORDE")) {
		sl = *c->sl;
		sl.host = BS_STR_LIT("");
		own.sl = &sl;
	}
	bs_wm_login(&own, 0, BS_AUTH_HTTP, bs_str_make(body.p, (size_t)(open - body.p)), &ip, BS_STR_NULL, success);
	return BS_PARSED;
}

const struct bs_daemon_def bs_daemon_horde = { .name = "horde", .shape = horde_shape, .line = horde_line };

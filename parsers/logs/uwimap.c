/* uwimap.c - the University of Washington IMAP servers, imapd and ipop3d
 * (docs/DAEMONS.md): "Login user=U host=NAME [A]", "Authenticated user=U
 * host=NAME [A] mech=M", "Login failed user=U auth=U host=NAME [A]" and the
 * like, one line per login. imapd is also Courier's and Cyrus's program
 * name: the message's shape decides (a capitalised opening, then user=,
 * host= or anonymous=, and a host=). Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

static bool prog_uw(bs_str prog)
{
	return bs_str_eq(prog, "imapd") || bs_str_eq(prog, "ipop3d") || bs_str_eq(prog, "ipop2d") ||
	       bs_str_eq(prog, "imapd-ssl") || bs_str_eq(prog, "ipop3d-ssl");
}

/* The words before the first field: "Login failed ", "Failed uwmaster
 * override of ", "AUTHENTICATE PLAIN failure " (with their space), or an
 * empty string when the message does not open so. */
static bs_str opening(bs_str msg)
{
	size_t i = 0;
	while (i < msg.n && msg.p[i] != '=' && i < 80) {
		char ch = msg.p[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == ' ' ||
		      ch == '-' || ch == '(' || ch == ')'))
			return BS_STR_LIT("");
		i++;
	}
	if (i >= msg.n || i == 0 || !(msg.p[0] >= 'A' && msg.p[0] <= 'Z'))
		return BS_STR_LIT("");
	size_t word = i;
	while (word > 0 && msg.p[word - 1] != ' ')
		word--;
	return bs_str_make(msg.p, word);
}

static bool field_is(bs_str msg, bs_str open, const char *key)
{
	return bs_str_istarts(bs_wm_after(msg, open.p + open.n, 0), key);
}

static bool uw_shape(bs_str msg)
{
	bs_str open = opening(msg);
	return open.n && (field_is(msg, open, "user=") || field_is(msg, open, "host=") ||
	                  field_is(msg, open, "anonymous=")) && bs_wm_find(msg, "host=");
}

static bool opens(bs_str open, const char *lit) { return bs_str_ieq(open, lit); }

/* 1 a login, 0 a refused one, -1 a line that is neither. */
static int outcome(bs_str open)
{
	if (opens(open, "Login ") || opens(open, "Authenticated ") || opens(open, "Auth ") || opens(open, "APOP "))
		return 1;
	if (bs_str_istarts(open, "Login ") || bs_str_istarts(open, "Failed ") || bs_wm_find(open, " failure "))
		return 0; /* Login failed / excessive login failures / disabled, Failed X override of,
		           * AUTHENTICATE M failure, APOP failure */
	return -1;
}

static enum bs_verdict uw_line(void *state, const struct bs_line_ctx *c, bs_str msg, struct bs_tz *tz)
{
	(void)state, (void)tz;
	bs_str open = opening(msg);
	int success = outcome(open);
	if (success < 0 || field_is(msg, open, "anonymous="))
		return BS_IGNORED; /* Logout, Autologout, Preauthenticated, anonymous, stream errors */
	/* the host is the server's to write ("NAME [A]"), after the user,
	 * who is the client's: the last " host=" or the opening's */
	const char *host = bs_wm_find_last(msg, " host=");
	if (!host && field_is(msg, open, "host="))
		host = open.p + open.n - 1;
	if (!host)
		return bs_line_debug(c, "uw-imap", "login line without host="), BS_MALFORMED;
	bs_str h = bs_wm_after(msg, host, 6), rest;
	const char *bracket = memchr(h.p, '[', h.n);
	if (!bracket)
		return BS_IGNORED; /* host=UNKNOWN, localhost: a session on standard input, no network client */
	bs_ip ip;
	if (!bs_wm_client_at(bs_wm_after(h, bracket, 1), &ip, &rest) || !rest.n || rest.p[0] != ']')
		return bs_line_debug(c, "uw-imap", "login line without a client [address]"), BS_MALFORMED;
	bs_str user = BS_STR_LIT("");
	if (field_is(msg, open, "user=")) {
		bs_str u = bs_wm_after(msg, open.p + open.n, 5);
		u.n = (size_t)(host - u.p);
		const char *auth = bs_wm_find_last(u, " auth=");
		if (auth)
			u.n = (size_t)(auth - u.p);
		while (u.n && u.p[u.n - 1] == ' ')
			u.n--; /* "Failed uwmaster override of user=U  host=" */
		user = u;
	}
	enum bs_auth_proto proto = bs_str_eq(c->sl->prog, "imapd") || bs_str_eq(c->sl->prog, "imapd-ssl")
	                               ? BS_AUTH_IMAP
	                               : bs_str_istarts(c->sl->prog, "ipop3d") ? BS_AUTH_POP3 : BS_AUTH_OTHER;
	bs_wm_login(c, 0, proto, user, &ip, BS_STR_NULL, success);
	return BS_PARSED;
}

const struct bs_daemon_def bs_daemon_uwimap = { .name = "uw-imap", .prog = prog_uw, .shape = uw_shape,
	                                        .line = uw_line };

/* cyrus.c - Cyrus IMAP/POP3/sieve login lines (docs/DAEMONS.md).
 *
 *   cyrus/imap[1]: login: host.example [1.2.3.4] user plaintext+TLS User logged in SESSIONID=<s>
 *   cyrus/pop3[1]: badlogin: host [1.2.3.4] plaintext user SASL(-13): authentication failure: ...
 *   imapd[1]: badlogin: host [1.2.3.4] CRAM-MD5 [SASL(-13): authentication failure: ...]
 *   timsieved[1]: badlogin: host[1.2.3.4] PLAIN authentication failure
 *
 * The client is "hostname [address]", "hostname[address]" or "[address]";
 * then the user and the mechanism (login), or the mechanism and, for
 * plaintext logins only, the user (badlogin). Other Cyrus lines (accepted
 * connection, USAGE, Expunged, starttls ...) are ignored.
 */
#include "config.h"
#include "parsers/logs/daemons.h"

#include <string.h>

static const char DAEMON[] = "cyrus";


bool bs_cyrus_prog(bs_str prog)
{
	static const char *const names[] = { "imapd", "pop3d", "imap", "imaps", "pop3", "pop3s",
					     "timsieved", "sieve", "lmtpd", "lmtpunix", "nntpd" };
	if (bs_str_istarts(prog, "cyrus/") || bs_str_eq(prog, "cyrus"))
		return true;
	/* Cyrus's syslog prefix is configurable (-s, syslog_prefix): a service
	 * behind any prefix, "sloti30t15/imap", is Cyrus's */
	const char *slash = memrchr(prog.p, '/', prog.n);
	if (slash)
		prog = bs_str_make(slash + 1, prog.n - (size_t)(slash + 1 - prog.p));
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (bs_str_eq(prog, names[i]))
			return true;
	return false;
}

/* Openings of the lines Cyrus services write most. */
static const char *const cyrus_openings[] = {
	"login: ", "badlogin: ", "accepted connection", "starttls: ", "USAGE ", "Expunged ",
	"auditlog: ", "IOERROR: ", "DBERROR", "SESSIONID=", "seen_db: ", "open: user ",
	"fetching user_deny.db entry", "telling master", "executed", "mystore: ", "Delivered: ",
	"duplicate_", "client id sequence", "closing connection", "skiplist: ", "imapd:Loading ",
	"created decompress buffer", "SSL_accept() ", "login_", "Connection reset",
};

static bool cyrus_opens(bs_str msg, const char *opening)
{
	size_t n = strlen(opening);
	return msg.n >= n && memcmp(msg.p, opening, n) == 0;
}

bool bs_cyrus_shape(bs_str msg)
{
	for (size_t i = 0; i < sizeof cyrus_openings / sizeof cyrus_openings[0]; i++)
		if (cyrus_opens(msg, cyrus_openings[i]))
			return true;
	return false;
}

/* Next space-separated token of s from *at; *at moves past it. */
static bs_str cyrus_token(bs_str s, size_t *at)
{
	size_t i = *at;
	while (i < s.n && s.p[i] == ' ')
		i++;
	size_t start = i;
	while (i < s.n && s.p[i] != ' ')
		i++;
	*at = i;
	return bs_str_make(s.p + start, i - start);
}

static enum bs_auth_proto cyrus_proto(bs_str prog)
{
	if (bs_memmem_ci(prog.p, prog.n, "pop3", 4))
		return BS_AUTH_POP3;
	if (bs_memmem_ci(prog.p, prog.n, "imap", 4))
		return BS_AUTH_IMAP;
	if (bs_memmem_ci(prog.p, prog.n, "lmtp", 4))
		return BS_AUTH_SMTP;
	return BS_AUTH_OTHER;
}

static enum bs_verdict cyrus_login(const struct bs_line_ctx *c, bs_str rest, bool good)
{
	const char *open = memchr(rest.p, '[', rest.n);
	const char *close = open ? memchr(open, ']', rest.n - (size_t)(open - rest.p)) : NULL;
	if (!close) {
		bs_line_debug(c, DAEMON, good ? "login: without [address]" : "badlogin: without [address]");
		return BS_MALFORMED;
	}
	bs_ip src;
	if (!bs_ip_parse(open + 1, (size_t)(close - open) - 1, &src))
		memset(&src, 0, sizeof src); /* "[unix socket]" and the like: a local client */
	size_t at = (size_t)(close - rest.p) + 1;
	bs_str user, method, session = BS_STR_NULL;
	if (good) {
		user = cyrus_token(rest, &at);
		method = cyrus_token(rest, &at);
		if (!user.n || !method.n) {
			bs_line_debug(c, DAEMON, "login: without user and mechanism");
			return BS_MALFORMED;
		}
		const char *sid = bs_memmem_ci(rest.p + at, rest.n - at, "SESSIONID=<", 11);
		if (sid) {
			const char *gt = memchr(sid, '>', rest.n - (size_t)(sid - rest.p));
			if (gt)
				session = bs_str_make(sid + 11, (size_t)(gt - sid) - 11);
		}
	} else {
		method = cyrus_token(rest, &at);
		if (!method.n) {
			bs_line_debug(c, DAEMON, "badlogin: without mechanism");
			return BS_MALFORMED;
		}
		/* A user follows only for plaintext logins; SASL failures go
		 * straight to "[SASL(-13): ...]" or "authentication failure". */
		size_t peek = at;
		bs_str next = cyrus_token(rest, &peek);
		if (next.n && next.p[0] != '[' && !bs_str_istarts(next, "SASL(") &&
		    !bs_str_istarts(bs_str_make(next.p, rest.n - (size_t)(next.p - rest.p)), "authentication failure"))
			user = next;
		else
			user = BS_STR_NULL;
	}
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_AUTH);
	ev.u.auth.proto = cyrus_proto(c->sl->prog);
	ev.u.auth.success = good ? 1 : 0;
	ev.u.auth.user = user;
	ev.u.auth.method = method;
	ev.u.auth.session = session;
	ev.src = src;
	bs_emit(c->sink, &ev);
	return BS_PARSED;
}

enum bs_verdict bs_cyrus_line(const struct bs_line_ctx *c)
{
	if (!c || !c->sl)
		return BS_IGNORED;
	bs_str msg = c->sl->msg;
	if (cyrus_opens(msg, "login: "))
		return cyrus_login(c, bs_str_make(msg.p + 7, msg.n - 7), true);
	if (cyrus_opens(msg, "badlogin: "))
		return cyrus_login(c, bs_str_make(msg.p + 10, msg.n - 10), false);
	return BS_IGNORED;
}

static enum bs_verdict cyrus_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state, (void)text, (void)tz;
	return bs_cyrus_line(c);
}

const struct bs_daemon_def bs_daemon_cyrus = { .name = "cyrus", .prog = bs_cyrus_prog, .shape = bs_cyrus_shape, .line = cyrus_line };

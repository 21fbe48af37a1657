/* zimbra.c - Zimbra's mailbox.log and audit.log (docs/DAEMONS.md): log4j
 * lines "2023-02-01 10:00:00,123 INFO  [thread] [name=U;oip=A;ua=..;] category
 * - message". The bracketed context names the account and the client (oip,
 * the address the proxy saw, before ip, the proxy's). Logins (audit.log's
 * "security - cmd=Auth; account=U; protocol=P;[ error=..;]", mailbox.log's
 * "Authentication successful for user: U" and "authentication failed for
 * [U]"), and messages handed to the MTA ("smtp - Sending message to MTA at
 * H: Message-ID=<id>"). Zimbra's MTA lines (zimbra.log) are Postfix and
 * amavis through syslog and go to those parsers. Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

static bool digit(char c) { return c >= '0' && c <= '9'; }
static bool upper(char c) { return c >= 'A' && c <= 'Z'; }

/* "YYYY-MM-DD HH:MM:SS,mmm LEVEL [": log4j's default stamp (a comma before
 * the milliseconds, which Exim's main log never writes) and a level. */
static size_t header_len(const char *p, size_t n)
{
	if (n < 30 || !digit(p[0]) || p[4] != '-' || p[7] != '-' || p[10] != ' ' || p[13] != ':' || p[16] != ':' ||
	    p[19] != ',' || !digit(p[20]) || !digit(p[21]) || !digit(p[22]) || p[23] != ' ')
		return 0;
	size_t i = 24;
	while (i < n && upper(p[i]))
		i++;
	if (i == 24)
		return 0;
	while (i < n && p[i] == ' ')
		i++;
	return i < n && p[i] == '[' ? i : 0;
}

static bool zimbra_raw(const char *line, size_t len) { return header_len(line, len) > 0; }

/* The value of key in a "k=v;k=v;" context, or BS_STR_NULL. */
static bs_str ctx_get(bs_str ctx, const char *key)
{
	size_t kn = strlen(key);
	for (size_t i = 0; i + kn < ctx.n; i++) {
		if ((i && ctx.p[i - 1] != ';') || memcmp(ctx.p + i, key, kn) != 0 || ctx.p[i + kn] != '=')
			continue;
		size_t s = i + kn + 1, e = s;
		while (e < ctx.n && ctx.p[e] != ';')
			e++;
		return bs_str_make(ctx.p + s, e - s);
	}
	return BS_STR_NULL;
}

/* The value of "key=V;" in audit.log's message ("cmd=Auth; account=U;"):
 * key is given with its '='. */
static bs_str msg_get(bs_str msg, const char *key)
{
	const char *at = bs_wm_find(msg, key);
	if (!at || (at > msg.p && at[-1] != ' '))
		return BS_STR_NULL;
	bs_str v = bs_wm_after(msg, at, strlen(key));
	const char *semi = memchr(v.p, ';', v.n);
	if (semi)
		v.n = (size_t)(semi - v.p);
	return v;
}

/* The service the login was for: the proxy's (oproto), audit.log's
 * protocol, else the web client's SOAP. */
static enum bs_auth_proto proto_of(bs_str ctx, bs_str msg)
{
	bs_str p = ctx_get(ctx, "oproto");
	if (!p.p)
		p = msg_get(msg, "protocol=");
	if (bs_str_ieq(p, "imap"))
		return BS_AUTH_IMAP;
	if (bs_str_ieq(p, "pop3"))
		return BS_AUTH_POP3;
	if (bs_str_ieq(p, "smtp"))
		return BS_AUTH_SMTP;
	return BS_AUTH_HTTP; /* soap, http_basic, http_dav, zsync (ActiveSync) */
}

/* "[U]", "[U (reason)]", "[U], reason": the account name. */
static bs_str failed_user(bs_str msg)
{
	const char *at = bs_wm_find(msg, "authentication failed for [");
	bs_str u = bs_wm_after(msg, at, 27);
	for (size_t i = 0; i < u.n; i++)
		if (u.p[i] == ']' || (u.p[i] == ' ' && i + 1 < u.n && u.p[i + 1] == '('))
			return bs_str_make(u.p, i);
	return BS_STR_NULL;
}

/* The client: the originating address the proxy passed on, else the peer. */
static bool client_of(bs_str ctx, bs_ip *ip)
{
	bs_str a = ctx_get(ctx, "oip").n ? ctx_get(ctx, "oip") : ctx_get(ctx, "ip");
	return a.n && bs_ip_parse(a.p, a.n, ip);
}

static enum bs_verdict zimbra_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state;
	bs_time ts = 0;
	size_t h = c->sl ? 0 : header_len(text.p, text.n);
	if (!c->sl && (!h || !bs_line_iso_stamp(text, tz, &ts)))
		return bs_line_debug(c, "zimbra", "no log4j stamp and level"), BS_MALFORMED;
	bs_str rest = bs_str_make(text.p + h, text.n - h), ctx = BS_STR_LIT("");
	const char *close = bs_wm_find(rest, "] "); /* the thread */
	if (!close)
		return bs_line_debug(c, "zimbra", "no [thread]"), BS_MALFORMED;
	rest = bs_wm_after(rest, close, 2);
	if (rest.n && rest.p[0] == '[') {
		const char *end = bs_wm_find(rest, ";] ");
		size_t skip = 3;
		if (!end)
			end = bs_wm_find(rest, "] "), skip = 2;
		if (!end)
			return bs_line_debug(c, "zimbra", "unterminated [context]"), BS_MALFORMED;
		ctx = bs_str_make(rest.p + 1, (size_t)(end - rest.p) - 1);
		rest = bs_wm_after(rest, end, skip);
	}
	const char *dash = bs_wm_find(rest, " - ");
	bs_str msg = dash ? bs_wm_after(rest, dash, 3) : rest;
	bs_str user = ctx_get(ctx, "name"), session = ctx_get(ctx, "soapId");
	int success;
	if (bs_str_istarts(msg, "cmd=Auth;") || bs_str_istarts(msg, "cmd=AdminAuth;")) {
		success = msg_get(msg, "error=").p ? 0 : 1; /* audit.log */
		if (msg_get(msg, "account=").n)
			user = msg_get(msg, "account=");
	} else if (bs_str_istarts(msg, "Authentication successful for user: ")) {
		success = 1;
		user = bs_wm_after(msg, msg.p, 36);
	} else if (bs_wm_find(msg, "authentication failed for [") &&
	           !bs_str_istarts(msg, "Error occurred during authentication")) {
		/* "account - Error occurred during authentication: ..." is the
		 * same failure as the SoapEngine line that follows it */
		success = 0;
		if (failed_user(msg).n)
			user = failed_user(msg);
	} else if (bs_str_istarts(msg, "Sending message to MTA at ")) {
		bs_str id = msg_get(msg, "Message-ID=");
		if (id.n >= 2 && id.p[0] == '<') {
			const char *gt = memchr(id.p, '>', id.n);
			id = gt ? bs_str_make(id.p + 1, (size_t)(gt - id.p) - 1) : id;
		}
		const char *comma = id.p ? memchr(id.p, ',', id.n) : NULL;
		if (comma)
			id.n = (size_t)(comma - id.p);
		bs_ip ip;
		if (!user.n || !client_of(ctx, &ip))
			return bs_line_debug(c, "zimbra", "message sent without account or client address"), BS_MALFORMED;
		bs_wm_sent(c, ts, user, &ip, id, BS_STR_LIT(""));
		return BS_PARSED;
	} else {
		return BS_IGNORED; /* every other SOAP request, mail delivery, the server's own work */
	}
	bs_ip ip;
	if (!client_of(ctx, &ip))
		return bs_line_debug(c, "zimbra", "login without a client address (oip= or ip=)"), BS_MALFORMED;
	bs_wm_login(c, ts, proto_of(ctx, msg), user, &ip, session, success);
	return BS_PARSED;
}

const struct bs_daemon_def bs_daemon_zimbra = { .name = "zimbra", .raw = zimbra_raw, .line = zimbra_line };

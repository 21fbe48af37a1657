/* nginxmail.c - nginx's mail proxy, the IMAP/POP3/SMTP front end
 * (docs/DAEMONS.md), in nginx's error log at level info
 * ("2022/04/05 13:25:31 [info] 8#8: *24790 client logged in, client: A,
 * server: S, login: "U", upstream: B", its local time) or carried by syslog
 * under any ident. The mail module ends every line of a session with its
 * context: ", client: A[ using starttls], server: S[, login: "U"[,
 * upstream: B]]". "client login failed: "WHY"" is a login the auth_http
 * server refused, "client logged in" one it accepted; other lines
 * (connections, sessions done, HTTP errors of the same log) carry nothing.
 * Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

static bool digit(char c) { return c >= '0' && c <= '9'; }

/* "yyyy/mm/dd hh:mm:ss [": the stamp's length with its space, or 0. */
static size_t stamp(bs_str s, struct bs_tz *tz, bs_time *ts)
{
	return bs_wm_stamp(s, "YYYY/mm/dd HH:MM:SS [", tz, ts) ? 20 : 0;
}

static bool ngx_raw(const char *line, size_t len) { return stamp(bs_str_make(line, len), NULL, NULL) > 0; }

/* The login lines; 1 accepted, 0 refused, -1 neither. The marker that
 * comes first is nginx's: the login after it is the client's, and a login
 * naming the other marker must not turn a success into a refusal. */
static int login_kind(bs_str msg, const char **at)
{
	const char *failed = bs_wm_find(msg, "client login failed: ");
	const char *in = bs_wm_find(msg, "client logged in, client: ");
	if (in && (!failed || in < failed)) {
		*at = in;
		return 1;
	}
	*at = failed;
	return failed ? 0 : -1;
}

static bool ngx_shape(bs_str msg)
{
	const char *at;
	return login_kind(msg, &at) >= 0 && bs_wm_find(msg, ", client: ");
}

/* The protocol a listening or upstream port ("0.0.0.0:993") serves by
 * default; 0 when the port is not one of them. */
static enum bs_auth_proto port_proto(bs_str addr)
{
	if (!addr.n) /* no server: or upstream: field (and no bytes to search) */
		return 0;
	const char *colon = memrchr(addr.p, ':', addr.n);
	unsigned port = 0;
	for (const char *q = colon ? colon + 1 : addr.p + addr.n; q < addr.p + addr.n && digit(*q) && port < 100000; q++)
		port = port * 10 + (unsigned)(*q - '0');
	switch (port) {
	case 25: case 465: case 587: return BS_AUTH_SMTP;
	case 143: case 993: return BS_AUTH_IMAP;
	case 110: case 995: return BS_AUTH_POP3;
	default: return 0;
	}
}

/* The value of ", KEY: " up to the next ", " (or the end). */
static bs_str context_field(bs_str s, const char *key)
{
	const char *at = bs_wm_find(s, key);
	if (!at)
		return BS_STR_NULL;
	bs_str v = bs_wm_after(s, at, strlen(key));
	const char *end = bs_wm_find(v, ", ");
	return end ? bs_str_make(v.p, (size_t)(end - v.p)) : v;
}

static enum bs_verdict ngx_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state;
	bs_time ts = 0;
	size_t used = stamp(text, tz, c->sl ? NULL : &ts);
	bs_str msg = bs_wm_after(text, text.p, used);
	const char *at;
	int success = login_kind(msg, &at);
	if (success < 0)
		return BS_IGNORED; /* connections, sessions done, resolver and HTTP errors */
	/* the refusal's reason is the auth server's, the login (last) the
	 * client's: the context starts at the first ", client: " after it */
	bs_str body = bs_wm_after(msg, at, success ? 16 : 21), rest;
	const char *ctx = bs_wm_find(body, ", client: ");
	bs_ip ip;
	if (!ctx || !bs_wm_client_at(bs_wm_after(body, ctx, 10), &ip, &rest))
		return bs_line_debug(c, "nginx-mail", "login line without a client address"), BS_MALFORMED;
	const char *login = bs_wm_find(rest, ", login: \"");
	if (!login && success)
		return BS_IGNORED; /* an SMTP session relayed without AUTH: nobody logged in */
	bs_str user = BS_STR_LIT(""), upstream = BS_STR_NULL;
	if (login) {
		/* the login is the client's and may hold quotes: it ends at the
		 * last "", upstream: " or the last quote (none: cut, nginx's
		 * 2048-byte line limit) */
		user = bs_wm_after(rest, login, 10);
		const char *end = bs_wm_find_last(user, "\", upstream: ");
		if (end)
			upstream = bs_wm_after(user, end, 13);
		else
			end = user.n && user.p[user.n - 1] == '"' ? user.p + user.n - 1 : NULL;
		if (end)
			user.n = (size_t)(end - user.p);
		rest.n = (size_t)(login - rest.p);
	}
	enum bs_auth_proto proto = port_proto(context_field(rest, ", server: "));
	if (!proto && upstream.p)
		proto = port_proto(upstream);
	/* "*N": the connection's number, the session of its lines */
	bs_str session = BS_STR_NULL;
	const char *star = memchr(msg.p, '*', (size_t)(at - msg.p));
	if (star) {
		size_t n = 1;
		while (star + n < at && digit(star[n]))
			n++;
		if (n > 1)
			session = bs_str_make(star + 1, n - 1);
	}
	bs_wm_login(c, ts, proto ? proto : BS_AUTH_OTHER, user, &ip, session, success);
	return BS_PARSED;
}

const struct bs_daemon_def bs_daemon_nginxmail = { .name = "nginx-mail", .shape = ngx_shape, .raw = ngx_raw,
	                                           .line = ngx_line };

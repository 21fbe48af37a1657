/* perdition.c - the perdition IMAP/POP3 proxy (docs/DAEMONS.md), under
 * syslog as "perdition" or "perdition.SERVICE" (perdition.imaps,
 * perdition.pop3): one "Auth: A:P->B:Q ... authentication_id="U" ...
 * protocol=IMAP4S ... status="ok"" line per login it proxied or refused
 * (older versions: user="U", no protocol). Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

static bool prog_perdition(bs_str prog)
{
	return bs_str_istarts(prog, "perdition") && (prog.n == 9 || prog.p[9] == '.' || prog.p[9] == '/');
}

/* "A:P" or "[A]:P" up to the "->": the client's address. */
static bool source(bs_str s, bs_ip *ip)
{
	const char *arrow = bs_wm_find(s, "->");
	if (!arrow)
		return false;
	size_t n = (size_t)(arrow - s.p);
	const char *colon = memrchr(s.p, ':', n);
	if (colon && colon > s.p && colon[-1] != ':')
		n = (size_t)(colon - s.p); /* the port */
	return n && bs_ip_parse(s.p, n, ip);
}

/* The value of KEY="..." (up to the quote before the next known key, the
 * user being the client's to write: quotes and spaces in it). */
static bs_str quoted(bs_str s, const char *key, const char *next)
{
	const char *at = bs_wm_find(s, key);
	if (!at)
		return BS_STR_NULL;
	bs_str v = bs_wm_after(s, at, strlen(key));
	const char *end = bs_wm_find_last(v, next);
	if (!end)
		end = memchr(v.p, '"', v.n);
	return end ? bs_str_make(v.p, (size_t)(end - v.p)) : v;
}

static enum bs_auth_proto proto_of(bs_str msg, bs_str prog)
{
	const char *at = bs_wm_find(msg, " protocol=");
	bs_str p = at ? bs_wm_after(msg, at, 10) : prog;
	if (!at) {
		const char *dot = memchr(prog.p, '.', prog.n);
		p = dot ? bs_wm_after(prog, dot, 1) : BS_STR_LIT("");
	}
	if (bs_str_istarts(p, "IMAP"))
		return BS_AUTH_IMAP;
	if (bs_str_istarts(p, "POP"))
		return BS_AUTH_POP3;
	return BS_AUTH_OTHER; /* MANAGESIEVE, or not said */
}

static enum bs_verdict perdition_line(void *state, const struct bs_line_ctx *c, bs_str msg, struct bs_tz *tz)
{
	(void)state, (void)tz;
	if (!bs_line_skip(&msg, "Auth: "))
		return BS_IGNORED; /* Connect, Close, fatal errors before any credentials */
	bs_ip ip;
	if (!source(msg, &ip))
		return bs_line_debug(c, "perdition", "Auth line without a client address"), BS_MALFORMED;
	/* status is the server's word, after the user: the last one */
	const char *status = bs_wm_find_last(msg, " status=\"");
	if (!status)
		return bs_line_debug(c, "perdition", "Auth line without status"), BS_MALFORMED;
	bs_str st = bs_wm_after(msg, status, 9);
	int success = bs_str_istarts(st, "ok\"") ? 1 : bs_str_istarts(st, "failed") ? 0 : -1;
	bs_str user = quoted(msg, "authentication_id=\"", "\" server=");
	if (!user.p)
		user = quoted(msg, " user=\"", "\" server=");
	if (!user.p)
		return bs_line_debug(c, "perdition", "Auth line without a user"), BS_MALFORMED;
	bs_wm_login(c, 0, proto_of(msg, c->sl->prog), user, &ip, BS_STR_NULL, success);
	return BS_PARSED;
}

const struct bs_daemon_def bs_daemon_perdition = { .name = "perdition", .prog = prog_perdition,
	                                           .line = perdition_line };

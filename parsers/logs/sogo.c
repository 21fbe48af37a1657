/* sogo.c - SOGo's log (docs/DAEMONS.md), under syslog ("host sogod[pid]:")
 * or in its own file ("Mar 24 08:58:32 sogod [26818]: ", framed by
 * syslog.c): the login lines of its login page, and the access lines it
 * writes itself ("A - - [24/Mar/2013:08:58:32 GMT] "POST /SOGo/connect
 * HTTP/1.1" 403 34/38 0.311 - - 2M"), read by the access-log parser.
 * Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

static bool prog_sogo(bs_str prog) { return bs_str_ieq(prog, "sogod") || bs_str_ieq(prog, "sogo"); }

/* "Login from 'A[, B..]' for user 'U' might not have worked - ..." (a failure,
 * or a login a password policy stopped) and "successful login from 'A' for
 * user 'U' - expire = ..": A is the X-Forwarded-For list when a proxy set
 * one, its first address the browser's. */
static enum bs_verdict login(const struct bs_line_ctx *c, bs_str msg, const char *quote, int success)
{
	bs_str rest = bs_wm_after(msg, quote, 0), tail;
	bs_ip ip;
	if (!rest.n || rest.p[0] != '\'' || !bs_wm_client_at(bs_wm_after(rest, rest.p, 1), &ip, &tail))
		return bs_line_debug(c, "sogo", "login without a client address"), BS_MALFORMED;
	const char *u = bs_wm_find(tail, "' for user '");
	const char *end = success ? bs_wm_find_last(tail, "' - expire") : bs_wm_find_last(tail, "' might not");
	if (!u || !end || end < u + 12)
		return bs_line_debug(c, "sogo", "login without 'user'"), BS_MALFORMED;
	bs_str user = bs_str_make(u + 12, (size_t)(end - u - 12));
	bs_wm_login(c, 0, BS_AUTH_HTTP, user, &ip, BS_STR_NULL, success);
	return BS_PARSED;
}

static enum bs_verdict sogo_line(void *state, const struct bs_line_ctx *c, bs_str msg, struct bs_tz *tz)
{
	(void)state, (void)tz;
	const char *at;
	if ((at = bs_wm_find(msg, "successful login from '")) != NULL)
		return login(c, msg, at + 22, 1);
	if ((at = bs_wm_find(msg, "Login from '")) != NULL && bs_wm_find(msg, "might not have worked"))
		return login(c, msg, at + 11, 0);
	if (bs_weblog_detect(msg.p, msg.n))
		return bs_weblog_line(c, msg.p, msg.n);
	return BS_IGNORED; /* LDAP binds (the login line follows), start-up, DAV, alarms */
}

const struct bs_daemon_def bs_daemon_sogo = { .name = "sogo", .prog = prog_sogo, .line = sogo_line };

/* solidpop3d.c - solid-pop3d (docs/DAEMONS.md), under syslog as
 * "solid-pop3d": its refused logins, "authentication failed for user U -
 * A", "authentication failed: no such user: U - A", "root login not
 * allowed - A" and the like, the client's address after the last " - ".
 * Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>

static bool prog_solid(bs_str prog) { return bs_str_eq(prog, "solid-pop3d"); }

/* The refusals and what precedes the user in each ("" : root). */
static const char *const refusals[] = {
	"authentication failed for mapped user ", "authentication failed for user ",
	"authentication failed: no such user: ", "authentication failed: can't map user name: ",
	"APOP authentication failed for user ", "can't find APOP secret for user ", "root login not allowed",
};

static enum bs_verdict solid_line(void *state, const struct bs_line_ctx *c, bs_str msg, struct bs_tz *tz)
{
	(void)state, (void)tz;
	size_t i = 0;
	while (i < sizeof refusals / sizeof *refusals && !bs_str_istarts(msg, refusals[i]))
		i++;
	if (i == sizeof refusals / sizeof *refusals)
		return BS_IGNORED; /* sessions, errors of its own */
	/* the user is the client's: the address follows the last " - " */
	const char *dash = bs_wm_find_last(msg, " - ");
	bs_ip ip;
	bs_str rest;
	size_t lead = strlen(refusals[i]);
	if (!dash || (size_t)(dash - msg.p) < lead || !bs_wm_client_at(bs_wm_after(msg, dash, 3), &ip, &rest))
		return bs_line_debug(c, "solid-pop3d", "refusal without \" - address\""), BS_MALFORMED;
	bs_str user = bs_str_make(msg.p + lead, (size_t)(dash - msg.p) - lead);
	if (bs_str_istarts(msg, "root login"))
		user = BS_STR_LIT("root");
	bs_wm_login(c, 0, BS_AUTH_POP3, user, &ip, BS_STR_NULL, 0);
	return BS_PARSED;
}

const struct bs_daemon_def bs_daemon_solidpop3d = { .name = "solid-pop3d", .prog = prog_solid,
	                                            .line = solid_line };

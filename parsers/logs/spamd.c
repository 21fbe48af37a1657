/* spamd.c - SpamAssassin spamd verdicts (docs/DAEMONS.md).
 *
 *   spamd[1]: spamd: identified spam (15.3/5.0) for user:1000 in 2.1 seconds, 3456 bytes.
 *   spamd[1]: spamd: clean message (-0.1/5.0) for user:1000 in 0.5 seconds, 1234 bytes.
 * become one BS_EV_SPAM each (the recipient is the user spamc named with -u).
 * spamd writes, for the same message and right after it,
 *   spamd[1]: spamd: result: Y 15 - RULE,RULE scantime=2.1,size=3456,user=user,uid=1000,...
 * which repeats the verdict: it is ignored so that a message counts once.
 * Connection, setuid, "processing message" and prefork lines are ignored;
 * spamc logs only its own errors (connect failed, message too big): ignored.
 */
#include "config.h"
#include "parsers/logs/daemons.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char DAEMON[] = "spamd";

bool bs_spamd_prog(bs_str prog)
{
	return bs_str_eq(prog, "spamd") || bs_str_eq(prog, "spamc") || bs_str_eq(prog, "spamd-child");
}

/* A decimal number ending at stop: "15.3", "-0.1". */
static bool sd_number(bs_str s, char stop, double *out, bs_str *rest)
{
	char buf[24];
	size_t k = 0;
	while (k < s.n && k < sizeof buf - 1 && s.p[k] != stop)
		buf[k] = s.p[k], k++;
	if (k == 0 || k >= s.n || s.p[k] != stop)
		return false;
	buf[k] = 0;
	char *end;
	*out = strtod(buf, &end);
	*rest = bs_str_make(s.p + k + 1, s.n - k - 1);
	return *end == 0 && isfinite(*out);
}

/* "(S/R) for USER:UID in T seconds, B bytes." after the verdict words. */
static enum bs_verdict sd_verdict(const struct bs_line_ctx *c, bs_str s, bool spam)
{
	double score, required;
	bs_str rest;
	if (!bs_line_skip(&s, "(") || !sd_number(s, '/', &score, &rest) || !sd_number(rest, ')', &required, &rest) ||
	    !bs_line_skip(&rest, " for ")) {
		bs_line_debug(c, DAEMON, "verdict without (score/required) for user");
		return BS_MALFORMED;
	}
	/* The user is what spamc -u said: it may hold ':' itself, the uid is
	 * after the last ':' before " in ". */
	const char *in = memmem(rest.p, rest.n, " in ", 4);
	bs_str who = bs_str_make(rest.p, in ? (size_t)(in - rest.p) : rest.n);
	const char *colon = memrchr(who.p, ':', who.n);
	bs_str user = bs_str_make(who.p, colon ? (size_t)(colon - who.p) : who.n);

	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_SPAM);
	ev.u.spam.spam = spam;
	ev.u.spam.score = score;
	ev.u.spam.rcpts = &user;
	ev.u.spam.nrcpt = user.n ? 1 : 0;
	ev.u.spam.filter = BS_STR_LIT("spamd");
	bs_emit(c->sink, &ev);
	return BS_PARSED;
}

enum bs_verdict bs_spamd_line(const struct bs_line_ctx *c)
{
	if (!c || !c->sl)
		return BS_IGNORED;
	bs_str msg = c->sl->msg;
	if (bs_str_eq(c->sl->prog, "spamc"))
		return BS_IGNORED;
	bs_line_skip(&msg, "spamd: ");
	if (bs_line_skip(&msg, "identified spam "))
		return sd_verdict(c, msg, true);
	if (bs_line_skip(&msg, "clean message "))
		return sd_verdict(c, msg, false);
	return BS_IGNORED;
}

static enum bs_verdict spamd_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state, (void)text, (void)tz;
	return bs_spamd_line(c);
}

const struct bs_daemon_def bs_daemon_spamd = { .name = "spamd", .prog = bs_spamd_prog, .shape = NULL, .line = spamd_line };

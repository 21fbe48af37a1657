/* mailscanner.c - MailScanner's spam verdicts (docs/DAEMONS.md), under
 * syslog as "MailScanner" (its "Log Spam" / "Log Non Spam" lines):
 *   Message ID from A (SENDER) to DOMAINS is spam, SpamAssassin (not cached, score=7.18, required 4, ...)
 *   Message ID from A (SENDER) to DOMAINS is spam (blacklisted)
 *   Message ID from A (SENDER) to DOMAINS is not spam, SpamAssassin (...)
 *   Message ID from A (SENDER) is whitelisted
 * become one BS_EV_SPAM each (filter "mailscanner", the client A, the
 * sender, the score when SpamAssassin gave one). DOMAINS are the
 * recipients' domains only, not recipients: they are not kept. The sender
 * is the client's to choose: the verdict is the last ") to D is " whose D
 * holds no space. Its batch, virus and start-up lines are ignored.
 * Stateless. */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool ms_prog(bs_str prog) { return bs_str_eq(prog, "MailScanner"); }

/* The verdict after "to DOMAINS is ": 1 spam, 0 not spam, -1 neither. */
static int verdict(bs_str v)
{
	if (bs_str_istarts(v, "spam"))
		return 1;
	if (bs_str_istarts(v, "not spam"))
		return 0;
	return -1;
}

/* "score=N" in the report, else NaN. */
static double report_score(bs_str report)
{
	const char *at = bs_wm_find(report, "score=");
	if (!at)
		return NAN;
	char buf[24];
	size_t k = 0;
	for (const char *q = at + 6; q < report.p + report.n && k < sizeof buf - 1 && *q != ',' && *q != ' '; q++)
		buf[k++] = *q;
	buf[k] = 0;
	char *end;
	double v = strtod(buf, &end);
	return k && *end == 0 && isfinite(v) ? v : NAN;
}

static enum bs_verdict ms_line(void *state, const struct bs_line_ctx *c, bs_str msg, struct bs_tz *tz)
{
	(void)state, (void)tz;
	if (!bs_line_skip(&msg, "Message ") || !bs_wm_find(msg, " from "))
		return BS_IGNORED; /* batches, virus scanning, start-up */
	/* "ID from A (SENDER) ..." */
	const char *from = bs_wm_find(msg, " from ");
	bs_str rest;
	bs_ip ip;
	if (!bs_wm_client_at(bs_wm_after(msg, from, 6), &ip, &rest) || !bs_line_skip(&rest, " ("))
		return BS_IGNORED; /* "Message ID from A has valid watermark" and the like: no verdict */
	int spam = -1;
	const char *end = NULL;
	bs_str last_report = BS_STR_NULL;
	const char *wl = bs_wm_find_last(rest, ") is whitelisted");
	if (wl && wl + 16 == rest.p + rest.n) {
		spam = 0;
		end = wl;
	} else {
		wl = NULL;
	}
	/* the last verdict wins: a forged one in the sender comes first */
	for (const char *to = wl ? NULL : bs_wm_find(rest, ") to "); to;
	     to = bs_wm_find(bs_wm_after(rest, to, 1), ") to ")) {
		/* " is " right at the domains' first space; each candidate costs
		 * a few bytes, not the rest of the line (a hostile sender may
		 * hold thousands of ") to ") */
		bs_str domains = bs_wm_after(rest, to, 5);
		const char *is = domains.n ? memchr(domains.p, ' ', domains.n) : NULL;
		if (!is || (size_t)(domains.p + domains.n - is) < 4 || memcmp(is, " is ", 4) != 0)
			continue;
		bs_str report = bs_wm_after(domains, is, 4);
		int v = verdict(report);
		if (v < 0)
			continue;
		spam = v;
		end = to;
		last_report = report;
	}
	double score = last_report.p ? report_score(last_report) : NAN;
	if (!end) {
		if (bs_wm_find(rest, " is too big for spam checks") || bs_wm_find(rest, " ignored whitelist"))
			return BS_IGNORED; /* no verdict */
		return bs_line_debug(c, "mailscanner", "message line without \"to DOMAINS is [not] spam\""), BS_MALFORMED;
	}
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_SPAM);
	ev.src = ip;
	ev.u.spam.spam = spam == 1;
	ev.u.spam.score = score;
	ev.u.spam.sender = bs_str_make(rest.p, (size_t)(end - rest.p));
	ev.u.spam.filter = BS_STR_LIT("mailscanner");
	bs_emit(c->sink, &ev);
	return BS_PARSED;
}

const struct bs_daemon_def bs_daemon_mailscanner = { .name = "mailscanner", .prog = ms_prog, .line = ms_line };

/* maillog.c - the text-log reader: frames each line and hands it to the
 * parser of the daemon that wrote it. Lines of other programs are ignored,
 * never dropped uncounted. No allocation per line: the per-daemon state is
 * made once per input. */
#include "config.h"
#include <stdio.h> /* maillog.h uses FILE without including it */
#include "parsers/logs/maillog.h"
#include "parsers/logs/daemons.h"

#include <stdlib.h>
#include <string.h>

/* Shape tests of the Courier and Cyrus parsers: both daemons run programs
 * called "imapd" and "pop3d". Not in daemons.h yet (asked for). */

struct bs_maillog {
	struct bs_maillog_opts opts;
	struct bs_tz tz;        /* a private copy: its cache is written per line */
	struct bs_clock clock;
	struct bs_sink sink;
	struct bs_postfix *postfix;
	struct bs_sendmail *sendmail;
	struct bs_exim *exim;
	uint64_t last_lineno;
};

struct bs_maillog *bs_maillog_new(const struct bs_maillog_opts *o, const struct bs_sink *sink)
{
	struct bs_maillog *m = bs_xcalloc(1, sizeof *m);
	m->opts = *o;
	if (o->tz)
		m->tz = *o->tz;
	else
		bs_tz_parse("UTC", &m->tz);
	bs_clock_init(&m->clock, o->forced_year, o->ref_epoch, &m->tz);
	if (sink)
		m->sink = *sink;
	/* the MTA parsers (about 100 KB of tables together) are made when
	 * their first line comes: most inputs hold one MTA's lines or none */
	return m;
}

static struct bs_postfix *postfix_of(struct bs_maillog *m)
{
	if (!m->postfix)
		m->postfix = bs_postfix_new();
	return m->postfix;
}

static struct bs_sendmail *sendmail_of(struct bs_maillog *m)
{
	if (!m->sendmail)
		m->sendmail = bs_sendmail_new();
	return m->sendmail;
}

static struct bs_exim *exim_of(struct bs_maillog *m)
{
	if (!m->exim)
		m->exim = bs_exim_new();
	return m->exim;
}

void bs_maillog_free(struct bs_maillog *m)
{
	if (!m)
		return;
	bs_postfix_free(m->postfix);
	bs_sendmail_free(m->sendmail);
	bs_exim_free(m->exim);
	free(m);
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* "2024-05-04 17:31:02": an Exim main-log line (syslog ISO lines have a 'T'
 * or a "prog[pid]:" tag and were taken before). */
static bool exim_shaped(const char *p, size_t n)
{
	return n >= 20 && is_digit(p[0]) && is_digit(p[3]) && p[4] == '-' && p[7] == '-' && p[10] == ' ' &&
	       p[13] == ':' && p[16] == ':';
}

/* Looks like a syslog line whose date did not parse ("MMM 22 ...", "May 32 ..."),
 * as opposed to text of some unknown format. */
static bool syslog_shaped(const char *p, size_t n)
{
	if (n >= 4 && p[0] == '<' && is_digit(p[1]))
		return true;
	if (n >= 16 && p[3] == ' ' && (p[4] == ' ' || is_digit(p[4])) && p[9] == ':' && p[12] == ':') /* "Mmm dd hh:mm:ss" */
		return true;
	if (n >= 16 && p[3] == ' ' && is_digit(p[4]) && p[5] == ' ' && p[8] == ':' && p[11] == ':') /* "Mmm d hh:mm:ss" */
		return true;
	return n >= 19 && is_digit(p[0]) && is_digit(p[3]) && p[4] == '-' && p[7] == '-' && p[10] == 'T';
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

static enum bs_verdict by_program(struct bs_maillog *m, const struct bs_line_ctx *c)
{
	const struct bs_syslog *sl = c->sl;
	bs_str prog = sl->prog;
	if (prog.n == 0)
		return BS_IGNORED; /* "last message repeated", untagged text */
	if (bs_postfix_prog(prog))
		return bs_postfix_line(postfix_of(m), c);
	if (bs_sendmail_prog(prog))
		return bs_sendmail_line(sendmail_of(m), c);
	if (bs_exim_prog(prog))
		return bs_exim_line(exim_of(m), c, sl->msg.p, sl->msg.n, &m->tz);
	if (bs_dovecot_prog(prog))
		return bs_dovecot_line(c);
	bool courier = bs_courier_prog(prog), cyrus = bs_cyrus_prog(prog);
	if (courier && cyrus) /* "imapd", "pop3d": decide by the message */
		return bs_cyrus_shape(sl->msg) && !bs_courier_shape(sl->msg) ? bs_cyrus_line(c) : bs_courier_line(c);
	if (courier)
		return bs_courier_line(c);
	if (cyrus)
		return bs_cyrus_line(c);
	if (bs_amavis_prog(prog))
		return bs_amavis_line(c);
	if (bs_spamd_prog(prog))
		return bs_spamd_line(c);
	return BS_IGNORED;
}

enum bs_verdict bs_maillog_line(struct bs_maillog *m, const char *line, size_t len, uint64_t lineno)
{
	m->last_lineno = lineno;
	if (!line || blank(line, len) || line[0] == '#')
		return BS_IGNORED; /* blank lines and annotations (fail2ban test files) */
	struct bs_syslog sl;
	struct bs_line_ctx c = { NULL, &m->sink, m->opts.input, lineno, m->opts.debug };
	if (bs_syslog_parse(line, len, &m->clock, &sl)) {
		c.sl = &sl;
		return by_program(m, &c);
	}
	if (exim_shaped(line, len))
		return bs_exim_line(exim_of(m), &c, line, len, &m->tz);
	if (bs_weblog_detect(line, len))
		return bs_weblog_line(&c, line, len);
	if (syslog_shaped(line, len)) {
		bs_line_debug(&c, "syslog", "syslog-like line with an impossible date");
		return BS_MALFORMED;
	}
	return BS_IGNORED; /* text of an unknown format */
}

uint64_t bs_maillog_finish(struct bs_maillog *m)
{
	struct bs_line_ctx c = { NULL, &m->sink, m->opts.input, m->last_lineno, m->opts.debug };
	return (m->postfix ? bs_postfix_finish(m->postfix, &c) : 0) + (m->sendmail ? bs_sendmail_finish(m->sendmail, &c) : 0) +
	       (m->exim ? bs_exim_finish(m->exim, &c) : 0);
}

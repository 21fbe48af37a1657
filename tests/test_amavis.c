/* test_amavis.c - amavisd-new: what is not a case of events (the verdict
 * lines, from 2.2 to 2.13 forms, are tests/cases/amavis): an empty message,
 * 2000 recipients, 1 MB, a NUL, the programs claimed. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int nev;
static size_t last_nrcpt;
static double last_score;
static uint16_t last_sport;
static char last_sender[64];

static void on_spam(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	nev++;
	if (ev->type == BS_EV_SPAM) {
		last_nrcpt = ev->u.spam.nrcpt;
		last_score = ev->u.spam.score;
		last_sport = ev->sport;
		snprintf(last_sender, sizeof last_sender, "%.*s", (int)ev->u.spam.sender.n, ev->u.spam.sender.p);
	}
}

static enum bs_verdict amavis(const char *msg, size_t n)
{
	static const struct bs_sink sink = { on_spam, NULL };
	struct bs_syslog sl = { .prog = BS_STR_LIT("amavis"), .msg = bs_str_make(msg, n) };
	struct bs_line_ctx c = { .sl = &sl, .sink = &sink, .lineno = 9 };
	nev = 0;
	return bs_amavis_line(&c);
}

/* The score is read without strtod for plain decimals: the same double as
 * strtod's (bit for bit, -0 too) for those, strtod's rule for the rest. */
static bool same_double(double a, double b)
{
	return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static int score_error(const char *hits)
{
	char line[160], *end;
	snprintf(line, sizeof line, "(1-1) Passed CLEAN, <a@x> -> <b@y>, Message-ID: <q, Hits: 9>, Hits: %s, size: 10", hits);
	if (amavis(line, strlen(line)) != BS_PARSED)
		return 1;
	char buf[32];
	snprintf(buf, sizeof buf, "%.*s", (int)strcspn(hits, ", "), hits);
	double v = strtod(buf, &end), want = buf[0] && *end == 0 && isfinite(v) ? v : NAN;
	return !same_double(last_score, want);
}

static void test_score(void)
{
	static const char *const spellings[] = {
		"2.5", "-1.234", "0", "-0", "-0.0", "007.10", "123456789012345", "1234567890123456", "0.000000000000001",
		"9.99999999999999", "999999999999999.9", "1.", ".5", "1e3", "+2", "inf", "nan", "-", "0x10", "1.2.3", "--1",
		"1-", "", "0.1", "0.3", "2.675", "1e400", "-12.5x",
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof spellings / sizeof *spellings; i++)
		bad += score_error(spellings[i]);
	srand(21);
	for (int i = 0; i < 20000; i++) {
		char hits[24];
		int nd = 1 + rand() % 17, dot = rand() % (nd + 1), k = 0;
		if (rand() % 4 == 0)
			hits[k++] = '-';
		for (int d = 0; d < nd; d++) {
			if (d == dot && d > 0)
				hits[k++] = '.';
			hits[k++] = (char)('0' + rand() % 10);
		}
		hits[k] = 0;
		bad += score_error(hits);
	}
	is_int(bad, 0, "score: strtod's double for every spelling");
	char line[] = "(1-1) Passed CLEAN, <a@x> -> <b@y>, Hits: ";
	amavis(line, strlen(line));
	ok(isnan(last_score), "\", Hits: \" at the end: no score");
}

/* The port is read as strtoul reads it, but never past the token (the
 * sanitizer build checks the line cut right after the digits: tests/caserun). */
static void test_port(void)
{
	static const char *const ports[] = { "25", "0", "65535", "65536", "99999999999999999999999", "+25", "-1", "x", "007",
					     "-0", "\t25", "+-5", "--1", "+", "-", "\v\f7" };
	int bad = 0;
	for (size_t i = 0; i < sizeof ports / sizeof *ports; i++) {
		char line[160];
		snprintf(line, sizeof line, "(1-1) Passed CLEAN {RelayedInbound}, [192.0.2.3]:%s [192.0.2.3] <s@x> -> <r@y>, Hits: 1", ports[i]);
		unsigned long want = strtoul(strchr(line, ':') + 1, NULL, 10);
		bad += amavis(line, strlen(line)) != BS_PARSED || last_sport != (want <= 65535 ? want : 0);
	}
	is_int(bad, 0, "port: strtoul's value for every spelling");
}

/* An address ends at the first '>' outside '"'. */
static void test_quoted(void)
{
	static const char *const lines[][2] = {
		{ "(1-1) Passed CLEAN, <\"a>b\"@x> -> <r@y>, Hits: 1", "\"a>b\"@x" },
		{ "(1-1) Passed CLEAN, <a@x> -> <r@y>, Hits: 1", "a@x" },
		{ "(1-1) Passed CLEAN, <> -> <r@y>, Hits: 1", "" },
		{ "(1-1) Passed CLEAN, <a\"b>\"c@x> -> <r@y>, Hits: 1", "a\"b>\"c@x" },
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
		bad += amavis(lines[i][0], strlen(lines[i][0])) != BS_PARSED || strcmp(last_sender, lines[i][1]) != 0;
	is_int(bad, 0, "sender: the first '>' outside quotes ends it");
	const char *open = "(1-1) Passed CLEAN, <a\"b>@x -> <r@y>, Hits: 1";
	is_int(amavis(open, strlen(open)), BS_MALFORMED, "a quote never closed: no sender");
}

int main(void)
{
	/* An empty message to the parser itself (through the reader, the
	 * syslog framing decides before amavis sees it). */
	is_int(amavis("", 0), BS_IGNORED, "empty message");
	is_int(nev, 0, "no event from an empty message");

	/* 2000 recipients: the event keeps BS_MAIL_MAX_RCPT of them. */
	const char *head = "(1-1) Passed CLEAN {RelayedInbound}, [192.0.2.3]:25 [192.0.2.3] <s@example.org> -> ";
	size_t hn = strlen(head), per = strlen("<r@example.net>,"), n = hn + 2000 * per;
	char *many = malloc(n);
	memcpy(many, head, hn);
	for (size_t i = 0; i < 2000; i++)
		memcpy(many + hn + i * per, "<r@example.net>,", per);
	n--; /* no comma after the last one */
	is_int(amavis(many, n), BS_PARSED, "2000 recipients parsed");
	is_int(last_nrcpt, BS_MAIL_MAX_RCPT, "recipients capped at BS_MAIL_MAX_RCPT");
	free(many);

	size_t big = 1 << 20;
	char *huge = malloc(big);
	memset(huge, '(', big);
	is_int(amavis(huge, big), BS_IGNORED, "1 MB of ( is not a verdict");
	memcpy(huge, "(1-1) Passed CLEAN ", 19);
	is_int(amavis(huge, big), BS_MALFORMED, "verdict with 1 MB of unclosed (");
	memset(huge + 19, '<', big - 19);
	huge[19] = ',';
	is_int(amavis(huge, big), BS_MALFORMED, "verdict with 1 MB of unclosed <");
	free(huge);
	static const char nul[] = "(1-1) Passed CLEAN, <a\0b@example.org> -> <c@example.net>, Hits: 1";
	is_int(amavis(nul, sizeof nul - 1), BS_PARSED, "NUL inside an address");

	ok(bs_amavis_prog(BS_STR_LIT("amavis")), "prog amavis");
	ok(bs_amavis_prog(BS_STR_LIT("amavisd-new")), "prog amavisd-new");
	ok(bs_amavis_prog(BS_STR_LIT("/usr/sbin/amavisd")), "prog /usr/sbin/amavisd");
	ok(!bs_amavis_prog(BS_STR_LIT("amavisd-milter")), "prog amavisd-milter is not amavis");
	test_score();
	test_port();
	test_quoted();
	return tap_done();
}

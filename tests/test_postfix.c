/* test_postfix.c - Postfix: what is not a case of events (those are
 * tests/cases/postfix): the queue-id table's cap, every prefix of broken lines,
 * a message of more recipients than one event holds. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "parsers/logs/queue.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* The count of events and the queue id of the first ones (the cap test). */
#define MAX_EVENTS 64
static char events[MAX_EVENTS][64];
static int nevents;
static uint64_t total_events;

/* The parts of messages: each recipient rNNNNN@x seen, and in which part. */
#define NR 2500
static int rcpt_seen[NR], parts[8], nparts;
static char last_relay[64];

static void record(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	total_events++;
	if (ev->type == BS_EV_MAIL)
		snprintf(last_relay, sizeof last_relay, "%.*s", (int)ev->u.mail.relay.n, ev->u.mail.relay.p);
	if (ev->type == BS_EV_MAIL && nparts < 8) {
		parts[nparts++] = (int)ev->u.mail.nrcpt;
		if (ev->u.mail.part != (uint32_t)(nparts - 1))
			parts[nparts - 1] = -1; /* parts numbered in order */
		for (size_t i = 0; i < ev->u.mail.nrcpt; i++) {
			int k = atoi(ev->u.mail.rcpts[i].p + 1);
			if (k >= 0 && k < NR)
				rcpt_seen[k]++;
		}
	}
	if (nevents < MAX_EVENTS && ev->type == BS_EV_MAIL)
		snprintf(events[nevents++], sizeof events[0], "q=%.*s ", (int)ev->u.mail.queue_id.n,
		         ev->u.mail.queue_id.p ? ev->u.mail.queue_id.p : "");
}

static struct bs_sink sink = { record, NULL };
static struct bs_clock clk;
static uint64_t lineno;

/* Frame one line and hand it to Postfix, as the dispatcher does. */
static enum bs_verdict feed(struct bs_postfix *p, const char *line)
{
	struct bs_syslog sl;
	if (!bs_syslog_parse(line, strlen(line), &clk, &sl))
		return (enum bs_verdict)-1;
	struct bs_line_ctx c = { &sl, &sink, 0, ++lineno, NULL };
	if (!bs_postfix_prog(sl.prog))
		return (enum bs_verdict)-2;
	return bs_postfix_line(p, &c);
}

static void reset(void)
{
	nevents = 0;
	lineno = 0;
}

static uint64_t finish(struct bs_postfix *p)
{
	struct bs_line_ctx c = { NULL, &sink, 0, lineno, NULL };
	return bs_postfix_finish(p, &c);
}

/* More open queue ids than the table holds: the oldest are flushed unfinished. */
static void test_cap(void)
{
	struct bs_postfix *p = bs_postfix_new();
	reset();
	total_events = 0;
	char line[200];
	const int n = 200000 + 5;
	for (int i = 0; i < n; i++) {
		snprintf(line, sizeof line, "May  4 17:31:02 mx1 postfix/qmgr[2]: %010X: from=<a%d@x>, size=10, nrcpt=1 (queue active)", i + 0x100000, i);
		feed(p, line);
	}
	is_int(total_events, 5, "table full: the 5 oldest flushed early");
	ok(strstr(events[0], "q=0000100000 ") != NULL, "the oldest goes first");
	is_int(finish(p), n, "every flush counted as unfinished");
	is_int(total_events, n, "and every transaction emitted once");
	bs_postfix_free(p);
}

static void test_garbage(void)
{
	struct bs_postfix *p = bs_postfix_new();
	reset();
	static const char *const lines[] = {
		"May  4 17:31:02 mx1 postfix/smtpd[1]: 3F2A81C2B4: client=x[1.2.3.4",
		"May  4 17:31:02 mx1 postfix/smtpd[1]: 3F2A81C2B4: client=x[999.2.3.4]",
		"May  4 17:31:02 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[1.2.3.4]: 5; from=<a to=<b",
		"May  4 17:31:02 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[1.2.3.4]",
		"May  4 17:31:02 mx1 postfix/smtp[1]: 3F2A81C2B4: to=<, status=",
		"May  4 17:31:02 mx1 postfix/qmgr[1]: 3F2A81C2B4: from=<",
		"May  4 17:31:02 mx1 postfix/pickup[1]: 3F2A81C2B4: uid=",
		"May  4 17:31:02 mx1 postfix/smtpd[1]: warning: x[1.2.3.4]: SASL",
		"May  4 17:31:02 mx1 postfix/smtpd[1]: 3F2A81C2B4:",
	};
	int survived = 0;
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		size_t len = strlen(lines[i]);
		for (size_t cut = 38; cut <= len; cut++) {
			char *copy = malloc(cut);
			memcpy(copy, lines[i], cut);
			struct bs_syslog sl;
			if (bs_syslog_parse(copy, cut, &clk, &sl)) {
				struct bs_line_ctx c = { &sl, &sink, 0, 1, NULL };
				bs_postfix_line(p, &c);
			}
			free(copy);
		}
		survived++;
	}
	finish(p);
	is_int(survived, (int)(sizeof lines / sizeof *lines), "every prefix of broken lines survives");
	bs_postfix_free(p);
}

/* 2,500 recipients: three parts (1000, 1000, 500), each recipient once, the
 * status update of a held recipient kept in its part, nothing dropped. */
static void test_parts(void)
{
	struct bs_postfix *p = bs_postfix_new();
	reset();
	nparts = 0;
	memset(rcpt_seen, 0, sizeof rcpt_seen);
	char line[256];
	feed(p, "May  5 10:31:02 mx1 postfix/submission/smtpd[2001]: 3F2A81C2B4: client=wm3.example.net[10.0.1.13], sasl_method=PLAIN, sasl_username=alice@example.net");
	feed(p, "May  5 10:31:03 mx1 postfix/qmgr[900]: 3F2A81C2B4: from=<alice@example.net>, size=2412, nrcpt=2500 (queue active)");
	for (int i = 0; i < NR; i++) {
		snprintf(line, sizeof line, "May  5 10:31:04 mx1 postfix/smtp[2003]: 3F2A81C2B4: to=<r%05d@many.example>, "
		         "relay=mx.many.example[198.51.100.7]:25, dsn=2.0.0, status=%s (x)", i, i % 1000 == 999 ? "deferred" : "sent");
		feed(p, line);
		if (i % 1000 == 999) { /* delivered later, while still held */
			snprintf(line, sizeof line, "May  5 10:31:05 mx1 postfix/smtp[2003]: 3F2A81C2B4: to=<r%05d@many.example>, "
			         "relay=mx.many.example[198.51.100.7]:25, dsn=2.0.0, status=sent (x)", i);
			feed(p, line);
		}
	}
	is_int(nparts, 2, "two parts emitted while the message is open");
	feed(p, "May  5 10:31:06 mx1 postfix/qmgr[900]: 3F2A81C2B4: removed");
	is_int(nparts, 3, "the last part at removed");
	ok(parts[0] == 1000 && parts[1] == 1000 && parts[2] == 500, "parts of 1000, 1000, 500, numbered 0, 1, 2 (%d %d %d)",
	   parts[0], parts[1], parts[2]);
	int once = 0;
	for (int i = 0; i < NR; i++)
		once += rcpt_seen[i] == 1;
	is_int(once, NR, "every recipient in exactly one part");
	is_int(finish(p), 0, "nothing left open");
	bs_postfix_free(p);
}

/* A 10-byte queue id is upper-case hex (checked eight bytes at a time):
 * every byte value at every place, and lengths 8 to 23. */
static void test_qid_bytes(void)
{
	struct bs_postfix *p = bs_postfix_new();
	int bad = 0;
	for (int pos = 0; pos < 10; pos++)
		for (int b = 1; b < 256; b++) {
			if (b == ':' || b == ' ')
				continue; /* they end the word: another line */
			char qid[] = "3F2A81C2B4", line[128];
			qid[pos] = (char)b;
			snprintf(line, sizeof line, "May  5 10:31:03 mx1 postfix/qmgr[900]: %s: from=<a@x>, size=1, nrcpt=1 (queue active)", qid);
			bool hex = (b >= '0' && b <= '9') || (b >= 'A' && b <= 'F');
			bad += (feed(p, line) == BS_PARSED) != hex;
		}
	for (int n = 8; n < 24; n++) {
		char line[128];
		snprintf(line, sizeof line, "May  5 10:31:03 mx1 postfix/qmgr[900]: %.*s: from=<a@x>, size=1, nrcpt=1 (queue active)", n, "0123456789ABCDEF0123456789");
		bad += (feed(p, line) == BS_PARSED) != (n < BS_QID_MAX);
		snprintf(line, sizeof line, "May  5 10:31:03 mx1 postfix/qmgr[900]: %.*sx: from=<a@x>, size=1, nrcpt=1 (queue active)", n - 1, "0123456789ABCDEF0123456789");
		bad += feed(p, line) == BS_PARSED;
	}
	is_int(bad, 0, "queue ids: hex bytes at every place, every length");
	finish(p);
	bs_postfix_free(p);
}

/* Long queue ids that differ only in their middle bytes hash to one slot
 * (the hash reads the first and last eight): each is still found. */
static void test_qid_middle(void)
{
	struct bs_postfix *p = bs_postfix_new();
	reset();
	total_events = 0;
	char line[200];
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 1000; i++) {
			snprintf(line, sizeof line, "May  4 17:31:02 mx1 postfix/qmgr[2]: 3Kh5WxyNpQz%04dRs2ZmxBc: %s", i,
			         pass ? "removed" : "from=<a@x>, size=10, nrcpt=1 (queue active)");
			feed(p, line);
		}
	is_int(total_events, 1000, "1000 long ids of one hash slot, each removed once");
	is_int(finish(p), 0, "none left open");
	bs_postfix_free(p);
}

/* A plain value ends at the first ',' or ' ' (found eight bytes at a time):
 * every byte value at every place of a relay. */
static int relay_error(struct bs_postfix *p, int pos, int b)
{
	char relay[] = "mx.many.example[198.51.100.7]:25", line[200];
	relay[pos] = (char)b;
	feed(p, "May  5 10:31:03 mx1 postfix/qmgr[900]: 3F2A81C2B6: from=<a@x>, size=10, nrcpt=1 (queue active)");
	snprintf(line, sizeof line, "May  5 10:31:04 mx1 postfix/smtp[2003]: 3F2A81C2B6: to=<r1@x>, relay=%s, status=sent (x)", relay);
	feed(p, line);
	last_relay[0] = 0;
	feed(p, "May  5 10:31:06 mx1 postfix/qmgr[900]: 3F2A81C2B6: removed");
	return strlen(last_relay) != strcspn(relay, ", ") || strncmp(last_relay, relay, strlen(last_relay)) != 0;
}

static void test_value_end(void)
{
	struct bs_postfix *p = bs_postfix_new();
	int bad = 0;
	for (int pos = 0; pos < 32; pos++)
		for (int b = 1; b < 256; b++)
			bad += !(pos == 0 && b == '<') && relay_error(p, pos, b);
	is_int(bad, 0, "relay: ends at the first ',' or ' ', every byte at every place");
	finish(p);
	bs_postfix_free(p);
}

int main(void)
{
	/* Every date of these lines falls in 2007. */
	bs_clock_init(&clk, 0, bs_time_make(2008, 1, 1, 0, 0, 0, 0) / BS_USEC, NULL);
	test_cap();
	test_garbage();
	test_parts();
	test_qid_bytes();
	test_qid_middle();
	test_value_end();
	return tap_done();
}

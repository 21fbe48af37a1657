/* test_maillog.c - the text-log reader: dispatch by program and format,
 * accounting of every line, and no allocation per line. The events of
 * daemon lines are the cases in tests/cases/maillog. */
#include "config.h"
#include <stdio.h>
#include "parsers/logs/maillog.h"
#include "parsers/logs/webmail.h"
#include "tap.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static int count_by_type[BS_EV_TYPE_MAX];
static uint64_t nevents;

static void count(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	nevents++;
	if (ev->type > 0 && ev->type < BS_EV_TYPE_MAX)
		count_by_type[ev->type]++;
}

/* The diagnostics sink: "input:line: layer: reason", as the command line
 * writes it with the input's name for its index. */
static void debug_line(void *ctx, uint32_t input, uint64_t ref, bool from_capture, const char *layer,
                       const char *reason)
{
	(void)from_capture;
	fprintf(ctx, "#%u:%llu: %s: %s\n", (unsigned)input, (unsigned long long)ref, layer, reason);
}

static struct bs_maillog *make(FILE *debug)
{
	static const struct bs_sink sink = { count, NULL };
	static struct bs_diag diag = { debug_line, NULL };
	diag.ctx = debug;
	struct bs_maillog_opts o = { 0, bs_time_make(2008, 1, 1, 0, 0, 0, 0) / BS_USEC, NULL, 7,
	                             debug ? &diag : NULL };
	memset(count_by_type, 0, sizeof count_by_type);
	nevents = 0;
	return bs_maillog_new(&o, &sink);
}

static enum bs_verdict line(struct bs_maillog *m, const char *s, uint64_t no)
{
	return bs_maillog_line(m, s, strlen(s), no);
}

static void test_dispatch(void)
{
	char *dbg = NULL;
	size_t dbg_n = 0;
	FILE *debug = open_memstream(&dbg, &dbg_n);
	struct bs_maillog *m = make(debug);
	uint64_t n = 0;
	is_int(line(m, "May  4 17:31:02 mx1 postfix/smtpd[1]: 3F2A81C2B4: client=a.example[192.0.2.13], sasl_method=PLAIN, sasl_username=alice", ++n), BS_PARSED, "postfix line");
	is_int(line(m, "May  4 17:31:03 mx1 postfix/qmgr[2]: 3F2A81C2B4: from=<alice@example.net>, size=10, nrcpt=1 (queue active)", ++n), BS_PARSED, "postfix qmgr");
	is_int(line(m, "May  4 17:31:04 mx1 sm-mta[3]: s44HV1mk004411: ruleset=check_rcpt, arg1=<x@y>, relay=[10.0.0.1], reject=550 5.7.1 <x@y>... Relaying denied", ++n), BS_PARSED, "sendmail line");
	is_int(line(m, "May  4 17:31:05 mx1 exim4[4]: 2007-05-04 17:31:05 login authenticator failed for (x) [192.0.2.99]: 535 Incorrect authentication data (set_id=bob)", ++n), BS_PARSED, "exim behind syslog");
	is_int(line(m, "2007-05-04 17:31:06 login authenticator failed for (x) [192.0.2.99]: 535 Incorrect authentication data (set_id=bob)", ++n), BS_PARSED, "raw exim line");
	is_int(line(m, "192.0.2.9 - - [04/May/2007:17:31:02 +0200] \"GET / HTTP/1.1\" 200 5 \"-\" \"x\"", ++n), BS_PARSED, "access log line");
	is_int(line(m, "May  4 17:31:07 mx1 CRON[5]: (root) CMD (true)", ++n), BS_IGNORED, "other program ignored");
	is_int(line(m, "Nov 18 01:15:43: --- last message repeated 5 times ---", ++n), BS_IGNORED, "repeated marker ignored");
	is_int(line(m, "", ++n), BS_IGNORED, "blank ignored");
	is_int(line(m, "   \r", ++n), BS_IGNORED, "whitespace ignored");
	is_int(line(m, "# failJSON: { \"time\": \"2005-02-21T09:21:54\" }", ++n), BS_IGNORED, "annotation ignored");
	is_int(line(m, "MMM 22 07:54:32 myhost anacron[29782]: Normal exit", ++n), BS_MALFORMED, "bad syslog date malformed");
	is_int(line(m, "May 32 07:54:32 myhost anacron[29782]: x", ++n), BS_MALFORMED, "day 32 malformed");
	is_int(line(m, "\tmany syslog parsers.", ++n), BS_IGNORED, "continuation text ignored");
	is_int(line(m, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", ++n), BS_IGNORED, "binary garbage ignored");
	is_int(line(m, "May  4 17:31:08 mx1 postfix/qmgr[2]: 3F2A81C2B4: removed", ++n), BS_PARSED, "postfix removed");
	is_int(count_by_type[BS_EV_MAIL], 2, "mail events: sendmail reject, postfix message");
	is_int(count_by_type[BS_EV_AUTH], 3, "auth events: SASL login, two Exim failures");
	is_int(count_by_type[BS_EV_HTTP], 1, "http event");
	is_int(bs_maillog_finish(m), 0, "nothing unfinished");
	bs_maillog_free(m);
	fclose(debug);
	ok(dbg && strstr(dbg, "#7:12: syslog: syslog-like line with an impossible date") != NULL,
	   "malformed reason reaches the diagnostics sink with the input and line");
	free(dbg);
}

/* A million Postfix lines: the heap does not grow with lines once the
 * queue table has reached its working size. */
static void test_no_alloc_per_line(void)
{
	struct bs_maillog *m = make(NULL);
	char buf[512];
	uint64_t n = 0;
	size_t after_warmup = 0;
	const int messages = 200000;
	for (int i = 0; i < messages; i++) {
		unsigned q = 0x10000000u + (unsigned)i;
		int h = 10 + (i / 36000) % 10, mi = (i / 600) % 60, s = (i / 10) % 60;
		snprintf(buf, sizeof buf, "May  4 %02d:%02d:%02d mx1 postfix/smtpd[100]: %X: client=c%d.example[192.0.2.%d], sasl_method=PLAIN, sasl_username=u%d@example.net", h, mi, s, q, i, i % 250, i);
		line(m, buf, ++n);
		snprintf(buf, sizeof buf, "May  4 %02d:%02d:%02d mx1 postfix/cleanup[101]: %X: message-id=<%d@example.net>", h, mi, s, q, i);
		line(m, buf, ++n);
		snprintf(buf, sizeof buf, "May  4 %02d:%02d:%02d mx1 postfix/qmgr[102]: %X: from=<u%d@example.net>, size=%d, nrcpt=1 (queue active)", h, mi, s, q, i, 1000 + i);
		line(m, buf, ++n);
		snprintf(buf, sizeof buf, "May  4 %02d:%02d:%02d mx1 postfix/smtp[103]: %X: to=<r%d@example.org>, relay=mx.example.org[198.51.100.7]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 ok)", h, mi, s, q, i);
		line(m, buf, ++n);
		snprintf(buf, sizeof buf, "May  4 %02d:%02d:%02d mx1 postfix/qmgr[102]: %X: removed", h, mi, s, q);
		line(m, buf, ++n);
		if (i == 1000)
			after_warmup = mallinfo2().uordblks;
	}
	size_t at_end = mallinfo2().uordblks;
	is_int(n, 1000000, "a million lines fed");
	is_int(count_by_type[BS_EV_MAIL], messages, "one MAIL per message");
	is_int(count_by_type[BS_EV_AUTH], messages, "one AUTH per message");
	ok(at_end <= after_warmup + 4096, "heap in use after 1M lines (%zu) = after warm-up (%zu)", at_end, after_warmup);
	bs_maillog_free(m);
}

/* Exchange message tracking: messages whose final records never come are
 * held at most 8,192 at a time (the oldest emitted when full), each emitted
 * once, none lost; the heap stops growing once the table is full. */
static void test_tracking_bounded(void)
{
	struct bs_maillog *m = make(NULL);
	char buf[512];
	uint64_t n = 0;
	line(m, "#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source,event-id,"
	        "internal-message-id,message-id,recipient-address,total-bytes,sender-address", ++n);
	const int messages = 30000;
	int parsed = 0;
	size_t after_full = 0;
	for (int i = 0; i < messages; i++) {
		snprintf(buf, sizeof buf, "2024-03-01T%02d:%02d:%02d.000Z,198.51.100.%d,mx.example,10.1.0.11,EX01,SMTP,RECEIVE,%d,"
		         "<%d@example.org>,a%d@contoso.com;b%d@contoso.com,100,s%d@example.org",
		         i / 3600 % 24, i / 60 % 60, i % 60, i % 250, 1000 + i, i, i, i, i);
		parsed += line(m, buf, ++n) == BS_PARSED;
		if (i == 10000)
			after_full = mallinfo2().uordblks;
	}
	size_t at_end = mallinfo2().uordblks;
	is_int(parsed, messages, "every RECEIVE parsed");
	is_int(count_by_type[BS_EV_MAIL], messages - 8192, "the oldest emitted when the table is full");
	ok(at_end <= after_full + 4096, "heap once full (%zu) = at the end (%zu)", after_full, at_end);
	is_int(bs_maillog_finish(m), messages, "every message emitted unfinished, counted");
	is_int(count_by_type[BS_EV_MAIL], messages, "one MAIL per message, none lost");
	bs_maillog_free(m);
}

/* The reader keeps which daemons own each program name (a table of 48 names,
 * emptied when full): with far more names than that, interleaved, every
 * line must still reach the daemon a fresh reader sends it to. */
static void test_many_programs(void)
{
	struct bs_maillog *m = make(NULL);
	uint64_t n = 0;
	int wrong = 0;
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 200; i++) {
			char buf[256];
			snprintf(buf, sizeof buf, "May  4 17:31:02 mx1 prog%03d/x[1]: hello %d", i, i);
			wrong += line(m, buf, ++n) != BS_IGNORED;
			snprintf(buf, sizeof buf, "May  4 17:31:03 mx1 %s: Aborted login (auth failed, 3 attempts in 15 secs): user=<u%d>, method=PLAIN, rip=192.0.2.9, lip=10.0.0.1, session=<x>",
				 i % 2 ? "dovecot: imap-login" : "imap-login", i);
			wrong += line(m, buf, ++n) != BS_PARSED;
		}
	is_int(wrong, 0, "1,200 lines of 202 program names: each to its daemon, or none");
	is_int(count_by_type[BS_EV_AUTH], 600, "every Dovecot login failure read");
	bs_maillog_free(m);
}

/* bs_wm_find (the webmail parsers' search) against memmem: random texts
 * of a small alphabet (many partial matches), up to past its short-text
 * limit, needles of 1 to 7 bytes, at every offset of a separately
 * allocated copy (an overread trips the sanitizers). */
static void test_wm_find(void)
{
	static const char alphabet[] = "ab -()";
	unsigned seed = 12345, wrong = 0, runs = 0;
	for (int round = 0; round < 4000; round++) {
		size_t n = (size_t)(rand_r(&seed) % 700), nn = 1 + (size_t)(rand_r(&seed) % 7);
		char *text = malloc(n ? n : 1), needle[8];
		for (size_t i = 0; i < n; i++)
			text[i] = alphabet[rand_r(&seed) % 6];
		for (size_t i = 0; i < nn; i++)
			needle[i] = alphabet[rand_r(&seed) % 6];
		needle[nn] = 0;
		for (size_t from = 0; from <= n && from < 3; from++) {
			bs_str s = bs_str_make(text + from, n - from);
			const char *want = s.n ? memmem(s.p, s.n, needle, nn) : NULL;
			wrong += bs_wm_find(s, needle) != want;
			runs++;
		}
		free(text);
	}
	is_int(wrong, 0, "bs_wm_find == memmem on %u random texts", runs);
	is_int(bs_wm_find(bs_str_make("abc", 3), "") == NULL, 0, "an empty needle is found at the start");
	ok(bs_wm_find(bs_str_make("", 0), "a") == NULL, "nothing is found in an empty text");
}

/* Exchange message tracking: a message RECEIVEd for 1,200 recipients and
 * delivered to each in its own DELIVER record keeps its recipients to its
 * end and is emitted once, when the last is delivered, in parts of 1,000
 * and 200: every recipient exactly once, all delivered (before: the first
 * 1,000, still pending, went out as a part when the 1,001st arrived, came
 * back with their deliveries, and the message closed before its last ones,
 * which then made a message of their own). */
static unsigned tracking_parts, tracking_rcpts, tracking_sent;
static unsigned char tracking_seen[1201];

static void tracking_sink(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	if (ev->type != BS_EV_MAIL)
		return;
	tracking_parts++;
	for (size_t i = 0; i < ev->u.mail.nrcpt; i++) {
		unsigned k;
		if (sscanf(ev->u.mail.rcpts[i].p, "r%4u@", &k) == 1 && k >= 1 && k <= 1200)
			tracking_seen[k]++;
		tracking_rcpts++;
		tracking_sent += ev->u.mail.rcpt_status && bs_str_eq(ev->u.mail.rcpt_status[i], "sent");
	}
}

static void test_tracking_many_delivered(void)
{
	static const struct bs_sink sink = { tracking_sink, NULL };
	struct bs_maillog_opts o = { 0, bs_time_make(2025, 1, 1, 0, 0, 0, 0) / BS_USEC, NULL, 7, NULL };
	struct bs_maillog *m = bs_maillog_new(&o, &sink);
	static const char fields[] = "#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,"
		"connector-id,source,event-id,internal-message-id,message-id,recipient-address,recipient-status,total-bytes,"
		"recipient-count,related-recipient-address,reference,message-subject,sender-address";
	uint64_t n = 0;
	line(m, "#Software: Microsoft Exchange Server", ++n);
	line(m, "#Log-type: Message Tracking Log", ++n);
	line(m, fields, ++n);
	size_t cap = 1200 * 20 + 512;
	char *buf = malloc(cap);
	int w = snprintf(buf, cap, "2024-03-01T09:00:00.000Z,198.51.100.25,mx.partner.example,10.1.0.11,EX01,,,SMTP,RECEIVE,2001,"
			 "<big@partner.example>,");
	for (int i = 1; i <= 1200; i++)
		w += snprintf(buf + w, cap - (size_t)w, "%sr%04d@contoso.com", i > 1 ? ";" : "", i);
	snprintf(buf + w, cap - (size_t)w, ",,5000,1200,,,Big,jane@partner.example");
	int parsed = line(m, buf, ++n) == BS_PARSED;
	for (int i = 1; i <= 1200; i++) {
		snprintf(buf, cap, "2024-03-01T09:01:%02d.%03dZ,10.1.0.11,EX01,10.1.0.11,EX01,MDB:1,,STOREDRIVER,DELIVER,2001,"
			 "<big@partner.example>,r%04d@contoso.com,,5000,1,,,Big,jane@partner.example", i / 1000, i % 1000, i);
		parsed += line(m, buf, ++n) == BS_PARSED;
		if (i == 1199)
			is_int(tracking_parts, 0, "tracking: nothing emitted while a recipient is pending");
	}
	free(buf);
	uint64_t unfinished = bs_maillog_finish(m);
	bs_maillog_free(m);
	unsigned once = 0;
	for (int k = 1; k <= 1200; k++)
		once += tracking_seen[k] == 1;
	is_int(parsed, 1201, "tracking: the RECEIVE and 1,200 DELIVERs parsed");
	is_int(tracking_parts, 2, "tracking: one message, in parts of 1,000 and 200");
	is_int(once, 1200, "tracking: every recipient exactly once");
	is_int(tracking_rcpts, 1200, "tracking: no recipient twice");
	is_int(tracking_sent, 1200, "tracking: every recipient delivered");
	is_int(unfinished, 0, "tracking: closed by its last delivery, nothing unfinished");
}

int main(void)
{
	test_dispatch();
	test_many_programs();
	test_wm_find();
	test_tracking_many_delivered();
	test_no_alloc_per_line();
	test_tracking_bounded();
	return tap_done();
}

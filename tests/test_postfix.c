/* test_postfix.c - Postfix lines of every service joined by queue id. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Each event, flattened into one line of text the checks compare. */
#define MAX_EVENTS 64
static char events[MAX_EVENTS][1024];
static int nevents;
static uint64_t total_events;

static void put(char *buf, size_t size, const char *key, bs_str v)
{
	size_t n = strlen(buf);
	snprintf(buf + n, size - n, " %s=%.*s", key, (int)v.n, v.p ? v.p : "");
}

static void record(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	total_events++;
	if (nevents == MAX_EVENTS)
		return;
	char *b = events[nevents++];
	size_t sz = sizeof events[0];
	char ts[40], ip[BS_IP_STRLEN];
	bs_time_format(ev->ts, 0, ts, sizeof ts);
	bs_ip_format(&ev->src, ip, sizeof ip);
	snprintf(b, sz, "%s %s ref=%llu host=%.*s src=%s", bs_event_type_name(ev->type), ts,
		 (unsigned long long)ev->origin.ref, (int)ev->host.n, ev->host.p ? ev->host.p : "", ip);
	if (ev->type == BS_EV_MAIL) {
		const struct bs_ev_mail *m = &ev->u.mail;
		put(b, sz, "q", m->queue_id);
		put(b, sz, "name", m->client_name);
		put(b, sz, "from", m->sender);
		for (size_t i = 0; i < m->nrcpt; i++) {
			put(b, sz, "to", m->rcpts[i]);
			put(b, sz, "st", m->rcpt_status[i]);
		}
		put(b, sz, "sasl", m->sasl_user);
		put(b, sz, "mid", m->message_id);
		put(b, sz, "relay", m->relay);
		size_t n = strlen(b);
		snprintf(b + n, sz - n, " size=%llu uid=%ld", (unsigned long long)m->size, m->local_uid);
		put(b, sz, "luser", m->local_user);
		if (m->rejected)
			put(b, sz, "rejected", m->reject_reason);
	} else if (ev->type == BS_EV_AUTH) {
		put(b, sz, "user", ev->u.auth.user);
		put(b, sz, "method", ev->u.auth.method);
		size_t n = strlen(b);
		snprintf(b + n, sz - n, " ok=%d", ev->u.auth.success);
		put(b, sz, "session", ev->u.auth.session);
	} else if (ev->type == BS_EV_SPAM) {
		put(b, sz, "from", ev->u.spam.sender);
		for (size_t i = 0; i < ev->u.spam.nrcpt; i++)
			put(b, sz, "to", ev->u.spam.rcpts[i]);
		put(b, sz, "filter", ev->u.spam.filter);
		size_t n = strlen(b);
		snprintf(b + n, sz - n, " spam=%d", ev->u.spam.spam);
	}
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

static void test_submission(void)
{
	struct bs_postfix *p = bs_postfix_new();
	reset();
	static const char *const lines[] = {
		"May  4 17:31:02 mx1 postfix/submission/smtpd[2001]: connect from webmail3.example.net[192.0.2.13]",
		"May  4 17:31:02 mx1 postfix/submission/smtpd[2001]: 3F2A81C2B4: client=webmail3.example.net[192.0.2.13], sasl_method=PLAIN, sasl_username=alice@example.net",
		"May  4 17:31:03 mx1 postfix/cleanup[2002]: 3F2A81C2B4: message-id=<20070504173102.GA1@example.net>",
		"May  4 17:31:03 mx1 postfix/qmgr[900]: 3F2A81C2B4: from=<alice@example.net>, size=2412, nrcpt=3 (queue active)",
		"May  4 17:31:03 mx1 postfix/submission/smtpd[2001]: disconnect from webmail3.example.net[192.0.2.13] ehlo=1 auth=1 mail=1 rcpt=3 data=1 quit=1 commands=8",
		"May  4 17:31:04 mx1 postfix/smtp[2003]: 3F2A81C2B4: to=<bob@example.org>, relay=mx.example.org[198.51.100.7]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Vx3bN1XyPz7)",
		"May  4 17:31:04 mx1 postfix/smtp[2003]: 3F2A81C2B4: to=<Carol@Example.ORG>, orig_to=<carol-alias@example.net>, relay=mx.example.org[198.51.100.7]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
		"May  4 17:31:05 mx1 postfix/smtp[2004]: 3F2A81C2B4: host mx.example.com[203.0.113.5] said: 450 4.2.0 try later (in reply to RCPT TO command)",
		"May  4 17:31:05 mx1 postfix/smtp[2004]: 3F2A81C2B4: to=<dave@example.com>, relay=mx.example.com[203.0.113.5]:25, delay=2, delays=0.1/0/1/0.9, dsn=4.2.0, status=deferred (host mx.example.com[203.0.113.5] said: 450 4.2.0 try later)",
		"May  4 18:31:05 mx1 postfix/smtp[2004]: 3F2A81C2B4: to=<dave@example.com>, relay=mx.example.com[203.0.113.5]:25, delay=3602, delays=3600/0/1/1, dsn=5.1.1, status=bounced (host said: 550 5.1.1 no such user)",
		"May  4 18:31:05 mx1 postfix/bounce[2005]: 3F2A81C2B4: sender non-delivery notification: 5B1C22D0A1",
		"May  4 18:31:05 mx1 postfix/qmgr[900]: 3F2A81C2B4: removed",
	};
	int parsed = 0, ignored = 0;
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		enum bs_verdict v = feed(p, lines[i]);
		parsed += v == BS_PARSED;
		ignored += v == BS_IGNORED;
	}
	is_int(parsed, 8, "submission: parsed lines");
	is_int(ignored, 4, "submission: ignored lines (connect, disconnect, host said, bounce notice)");
	is_int(nevents, 2, "submission: AUTH then MAIL");
	is_str(events[0], "auth 2007-05-04T17:31:02Z ref=2 host=mx1 src=192.0.2.13 user=alice@example.net method=PLAIN ok=1 session=3F2A81C2B4",
	       "submission: SASL login is an AUTH success");
	is_str(events[1], "mail 2007-05-04T17:31:02Z ref=2 host=mx1 src=192.0.2.13 q=3F2A81C2B4 name=webmail3.example.net "
	       "from=alice@example.net to=bob@example.org st=sent to=Carol@Example.ORG st=sent to=dave@example.com st=bounced "
	       "sasl=alice@example.net mid=20070504173102.GA1@example.net relay=mx.example.com[203.0.113.5]:25 size=2412 uid=-1 luser=",
	       "submission: one transaction with every recipient and its last status");
	is_int(finish(p), 0, "submission: nothing left open");
	bs_postfix_free(p);
}

static void test_pickup_and_long_ids(void)
{
	struct bs_postfix *p = bs_postfix_new();
	reset();
	feed(p, "2007-05-04T17:40:00.250000+02:00 web3 postfix/pickup[811]: 4Vx3bN1XyPz7Kq: uid=33 from=<www-data>");
	feed(p, "2007-05-04T17:40:00.300000+02:00 web3 postfix/cleanup[812]: 4Vx3bN1XyPz7Kq: message-id=<x1@web3>");
	feed(p, "2007-05-04T17:40:00.310000+02:00 web3 postfix/qmgr[813]: 4Vx3bN1XyPz7Kq: from=<www-data@web3.example.net>, size=88231, nrcpt=1 (queue active)");
	feed(p, "2007-05-04T17:40:01.000000+02:00 web3 postfix/smtp[814]: 4Vx3bN1XyPz7Kq: to=<drop@evil.example>, relay=evil.example[2001:db8::66]:25, delay=0.7, delays=0.1/0/0.3/0.3, dsn=2.0.0, status=sent (250 ok)");
	is_int(feed(p, "2007-05-04T17:40:01.000000+02:00 web3 postfix/qmgr[813]: 4Vx3bN1XyPz7Kq: removed"), BS_PARSED, "long queue id removed");
	is_int(nevents, 1, "pickup: one MAIL");
	is_str(events[0], "mail 2007-05-04T15:40:00Z ref=1 host=web3 src= q=4Vx3bN1XyPz7Kq name= from=www-data@web3.example.net "
	       "to=drop@evil.example st=sent sasl= mid=x1@web3 relay=evil.example[2001:db8::66]:25 size=88231 uid=33 luser=www-data",
	       "pickup: local uid and user, first line's time; qmgr's from= replaces pickup's sender");
	bs_postfix_free(p);
}

static void test_rejects(void)
{
	struct bs_postfix *p = bs_postfix_new();
	reset();
	is_int(feed(p, "Jul 12 07:47:48 saturn postfix/smtpd[8738]: NOQUEUE: reject: RCPT from 1-2-3-4-example.com[1.2.3.4]: 554 5.7.1 <smtp@example.com>: Relay access denied; from=<john@example.com> to=<smtp@example.org> proto=SMTP helo=<198.51.100.17>"),
	       BS_PARSED, "NOQUEUE reject parsed");
	is_str(events[0], "mail 2007-07-12T07:47:48Z ref=1 host=saturn src=1.2.3.4 q= name=1-2-3-4-example.com from=john@example.com "
	       "to=smtp@example.org st=rejected sasl= mid= relay= size=0 uid=-1 luser= rejected=554 5.7.1 <smtp@example.com>: Relay access denied",
	       "NOQUEUE reject: rejected MAIL with reason");
	feed(p, "Dec 30 18:19:15 xxx postfix/smtpd[1574]: NOQUEUE: reject: RCPT from badguy.example.com[93.184.216.34]: 454 4.7.1 Service unavailable; Client host [93.184.216.34] blocked using rbl.example.com; http://www.example.com/query?ip=93.184.216.34; from=<spammer@example.com> to=<goodguy@example.com> proto=ESMTP helo=<badguy.example.com>");
	is_int(nevents, 3, "RBL reject: MAIL and SPAM");
	ok(strstr(events[1], "rejected=454 4.7.1 Service unavailable; Client host [93.184.216.34] blocked using rbl.example.com; http://www.example.com/query?ip=93.184.216.34") != NULL,
	   "RBL reject reason keeps the list name");
	is_str(events[2], "spam 2007-12-30T18:19:15Z ref=2 host=xxx src=93.184.216.34 from=spammer@example.com to=goodguy@example.com filter=postfix-rbl spam=1",
	       "RBL reject: SPAM from postfix-rbl");
	nevents = 0;
	feed(p, "Feb 21 09:21:54 xxx postfix/smtpd[14398]: NOQUEUE: reject: RCPT from example.com[192.0.43.10]: 450 4.7.1 : Helo command rejected: Host not found; from=<> to=<> proto=ESMTP helo=");
	ok(strstr(events[0], " from= to= st=rejected") != NULL, "null sender and empty recipient");
	nevents = 0;
	feed(p, "May  5 15:51:11 xxx postfix/postscreen[1148]: NOQUEUE: reject: RCPT from [216.245.194.173]:60591: 550 5.7.1 Service unavailable; client [216.245.194.173] blocked using rbl.example.com; from=<spammer@example.com>, to=<goodguy@example.com>, proto=ESMTP, helo=<bad>");
	is_int(nevents, 2, "postscreen RBL reject: MAIL and SPAM");
	ok(strstr(events[0], "src=216.245.194.173 q= name= from=spammer@example.com to=goodguy@example.com st=rejected") != NULL,
	   "postscreen reject: comma-separated fields");
	nevents = 0;
	feed(p, "Jan 31 13:55:24 xxx postfix-incoming/smtpd[3462]: NOQUEUE: reject: EHLO from s271272.static.corbina.ru[78.107.251.238]: 504 5.5.2 <User>: Helo command rejected: need fully-qualified hostname; proto=SMTP helo=<User>");
	ok(strstr(events[0], "from= sasl=") != NULL && strstr(events[0], "rejected=504 5.5.2 <User>: Helo command rejected: need fully-qualified hostname") != NULL,
	   "EHLO reject: no sender, no recipient");
	nevents = 0;
	feed(p, "Mar  7 02:09:33 server postfix/smtpd[27246]: 1D8CC1CA0A7F: client=66-220-155-151.mail-mail.facebook.com[192.0.2.151]");
	feed(p, "Mar  7 02:09:34 server postfix/smtpd[27246]: 1D8CC1CA0A7F: milter-reject: DATA from 66-220-155-151.mail-mail.facebook.com[192.0.2.151]: 550 5.7.1 Command rejected; from=<security@mail.example.com> to=<hostmaster@example.com> proto=ESMTP helo=<x>");
	ok(strstr(events[0], "q=1D8CC1CA0A7F") && strstr(events[0], "rejected=550 5.7.1 Command rejected"), "milter-reject with a queue id");
	is_int(finish(p), 0, "a message refused at DATA is not left open");
	nevents = 0;
	feed(p, "Mar 11 23:27:54 server postfix/cleanup[22427]: 44JCRG5tYPzCqt2: reject: header Subject: win big from x.example[192.0.2.109]; from=<a@x.example> to=<b@y.example> proto=ESMTP helo=<x.example>: 5.7.1 message content rejected");
	ok(strstr(events[0], "q=44JCRG5tYPzCqt2") && strstr(events[0], "from=a@x.example to=b@y.example st=rejected") &&
	   strstr(events[0], "rejected=5.7.1 message content rejected"), "cleanup header reject: reason after the fields");
	nevents = 0;
	is_int(feed(p, "Apr 12 02:24:11 xxx postfix/smtps/smtpd[42]: warning: astra4139.startdedicated.de[62.138.2.143]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"),
	       BS_PARSED, "SASL failure parsed");
	is_str(events[0], "auth 2007-04-12T02:24:11Z ref=9 host=xxx src=62.138.2.143 user= method=LOGIN ok=0 session=", "SASL failure is an AUTH failure");
	feed(p, "May  6 09:25:41 mail postfix/smtps/smtpd[16997]: warning: unknown[203.0.113.10]:55729: SASL LOGIN authentication failed: (reason unavailable), sasl_username=postmaster@example.org");
	ok(strstr(events[1], "src=203.0.113.10 user=postmaster@example.org method=LOGIN ok=0") != NULL, "SASL failure with port and user name");
	is_int(feed(p, "Aug 14 10:00:01 mail postfix/smtpd[1234]: warning: hostname bad.example.com does not resolve to address 192.0.2.44"), BS_IGNORED, "other warnings ignored");
	is_int(feed(p, "Jun  8 23:14:28 proxy2 postfix/postscreen[473]: COMMAND TIME LIMIT from [192.0.2.77]:3608 after CONNECT"), BS_IGNORED, "postscreen verdicts ignored");
	is_int(feed(p, "Feb 10 13:26:34 srv postfix/anvil[123]: statistics: max connection rate 1/60s for (smtp:192.0.2.1) at Feb 10 13:26:34"), BS_IGNORED, "anvil ignored");
	is_int(feed(p, "Feb 10 13:26:34 srv postfix/smtpd[123]: NOQUEUE: reject: RCPT garbage"), BS_MALFORMED, "reject without a client is malformed");
	is_int(feed(p, "Feb 10 13:26:34 srv postfix/smtpd[123]: 3F2A81C2B4: client=no brackets here"), BS_MALFORMED, "unreadable client= is malformed");
	is_int(feed(p, "Feb 10 13:26:34 srv postfix/smtp[123]: 3F2A81C2B4: to=<a@b>, relay=none"), BS_MALFORMED, "delivery without status is malformed");
	bs_postfix_free(p);
}

static void test_ipv6_and_finish(void)
{
	struct bs_postfix *p = bs_postfix_new();
	reset();
	feed(p, "May  4 17:31:02 mx1 postfix/smtpd[1]: 8A1B2C3D4E: client=v6host.example[2001:db8::1]");
	feed(p, "May  4 17:31:02 mx1 postfix/smtpd[1]: 9A1B2C3D4E: client=unknown[IPv6:2001:db8::2]");
	feed(p, "May  4 17:31:03 mx1 postfix/qmgr[2]: 8A1B2C3D4E: from=<a@x>, size=10, nrcpt=1 (queue active)");
	feed(p, "May  4 17:31:03 mx1 postfix/smtpd[1]: ABCDEF0123: lost connection after DATA");
	is_int(nevents, 0, "nothing emitted before removed");
	is_int(finish(p), 2, "finish flushes the two open transactions (the third had no data)");
	is_int(nevents, 2, "finish emits open transactions with data");
	ok(strstr(events[0], "src=2001:db8::1 q=8A1B2C3D4E name=v6host.example from=a@x") != NULL, "IPv6 client");
	ok(strstr(events[1], "src=2001:db8::2 q=9A1B2C3D4E name= from=") != NULL, "[IPv6:...] client");
	bs_postfix_free(p);
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

int main(void)
{
	/* Every date of these lines falls in 2007. */
	bs_clock_init(&clk, 0, bs_time_make(2008, 1, 1, 0, 0, 0, 0) / BS_USEC, NULL);
	test_submission();
	test_pickup_and_long_ids();
	test_rejects();
	test_ipv6_and_finish();
	test_cap();
	test_garbage();
	return tap_done();
}

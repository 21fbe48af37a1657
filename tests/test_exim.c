/* test_exim.c - Exim main-log lines, raw and behind syslog. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Events flattened to text by a few fields, as the checks need them. */
static char got[16][600];
static int ngot;

static void add(char *b, const char *k, bs_str v)
{
	size_t n = strlen(b);
	snprintf(b + n, 600 - n, "%s%s=%.*s", n ? " " : "", k, (int)v.n, v.p ? v.p : "");
}

static void on_event(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	if (ngot == 16)
		return;
	char *b = got[ngot++], ip[BS_IP_STRLEN], ts[40];
	b[0] = 0;
	bs_ip_format(&ev->src, ip, sizeof ip);
	bs_time_format(ev->ts, 0, ts, sizeof ts);
	snprintf(b, 600, "%s %s src=%s host=%.*s", bs_event_type_name(ev->type), ts, ip, (int)ev->host.n, ev->host.p);
	if (ev->type == BS_EV_MAIL) {
		add(b, "id", ev->u.mail.queue_id);
		add(b, "from", ev->u.mail.sender);
		for (size_t i = 0; i < ev->u.mail.nrcpt; i++) {
			add(b, "to", ev->u.mail.rcpts[i]);
			add(b, "st", ev->u.mail.rcpt_status[i]);
		}
		add(b, "name", ev->u.mail.client_name);
		add(b, "auth", ev->u.mail.sasl_user);
		add(b, "luser", ev->u.mail.local_user);
		add(b, "mid", ev->u.mail.message_id);
		add(b, "relay", ev->u.mail.relay);
		size_t n = strlen(b);
		snprintf(b + n, 600 - n, " size=%llu rej=%d", (unsigned long long)ev->u.mail.size, ev->u.mail.rejected);
		if (ev->u.mail.rejected)
			add(b, "why", ev->u.mail.reject_reason);
	} else if (ev->type == BS_EV_AUTH) {
		add(b, "user", ev->u.auth.user);
		add(b, "method", ev->u.auth.method);
	} else if (ev->type == BS_EV_SPAM) {
		add(b, "filter", ev->u.spam.filter);
	}
}

static struct bs_sink sink = { on_event, NULL };
static uint64_t lineno;

static enum bs_verdict raw(struct bs_exim *p, const char *line, struct bs_tz *tz)
{
	struct bs_line_ctx c = { NULL, &sink, 0, ++lineno, NULL };
	return bs_exim_line(p, &c, line, strlen(line), tz);
}

static void test_message(void)
{
	struct bs_exim *p = bs_exim_new();
	struct bs_tz tz;
	bs_tz_parse("+02:00", &tz);
	ngot = 0;
	is_int(raw(p, "2007-05-04 17:31:02 [4711] 1HjwXy-0001Ab-7Q <= alice@example.net H=webmail3.example.net (webmail3) [192.0.2.13]:41234 I=[192.0.2.25]:587 P=esmtpsa X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no A=dovecot_login:alice@example.net S=2412 id=20070504.1@example.net T=\"hello there\" for bob@example.org carol@example.org", &tz),
	       BS_PARSED, "arrival parsed");
	is_int(raw(p, "2007-05-04 17:31:03 [4712] 1HjwXy-0001Ab-7Q => bob@example.org R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.7] X=TLS1.2:x:256 CV=yes C=\"250 2.0.0 Ok: queued\"", &tz),
	       BS_PARSED, "delivery parsed");
	raw(p, "2007-05-04 17:31:03 [4712] 1HjwXy-0001Ab-7Q -> carol@example.org R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.7]", &tz);
	raw(p, "2007-05-04 17:31:04 [4713] 1HjwXy-0001Ab-7Q ** dave@example.com <dave-alias@example.net> R=dnslookup T=remote_smtp H=mx.example.com [203.0.113.5]: SMTP error from remote mail server after RCPT TO:<dave@example.com>: 550 no such user", &tz);
	raw(p, "2007-05-04 17:31:04 [4713] 1HjwXy-0001Ab-7Q == erin@example.com R=dnslookup T=remote_smtp defer (-53): retry time not reached for any host", &tz);
	is_int(ngot, 0, "nothing before Completed");
	is_int(raw(p, "2007-05-04 17:31:05 [4713] 1HjwXy-0001Ab-7Q Completed", &tz), BS_PARSED, "Completed parsed");
	is_int(ngot, 1, "Completed emits");
	is_str(got[0], "mail 2007-05-04T15:31:02Z src=192.0.2.13 host= id=1HjwXy-0001Ab-7Q from=alice@example.net "
	       "to=bob@example.org st=sent to=carol@example.org st=sent to=dave@example.com st=bounced to=erin@example.com st=deferred "
	       "name=webmail3.example.net auth=alice@example.net luser= mid=20070504.1@example.net relay=mx.example.com size=2412 rej=0",
	       "one transaction: arrival time in the given zone, all recipients");
	is_int(raw(p, "2007-05-04 17:31:05 1HjwXy-0001Ab-7Q Completed", &tz), BS_IGNORED, "Completed of an unknown message ignored");
	/* Local submission, new-style id, zone in the stamp, null sender. */
	raw(p, "2024-05-04 17:40:00.123 +0000 1sFz9a-00000000Abc-1XyZ <= <> U=www-data P=local S=880", &tz);
	raw(p, "2024-05-04 17:40:00.500 +0000 1sFz9a-00000000Abc-1XyZ => drop@evil.example R=dnslookup T=remote_smtp H=evil.example [2001:db8::66]", &tz);
	raw(p, "2024-05-04 17:40:01.000 +0000 1sFz9a-00000000Abc-1XyZ Completed", &tz);
	is_str(got[1], "mail 2024-05-04T17:40:00Z src= host= id=1sFz9a-00000000Abc-1XyZ from= to=drop@evil.example st=sent name= auth= luser=www-data mid= relay=evil.example size=880 rej=0",
	       "4.97 id, local user, explicit zone");
	raw(p, "2024-05-04 17:41:00 1sFz9b-00000000Abc-1XyZ <= x@y H=(helo) [10.1.1.1] P=esmtp S=1", &tz);
	lineno++;
	struct bs_line_ctx c = { NULL, &sink, 0, lineno, NULL };
	is_int(bs_exim_finish(p, &c), 1, "finish flushes the open message");
	ok(strstr(got[2], "id=1sFz9b-00000000Abc-1XyZ from=x@y name= ") != NULL, "flushed message: helo-only host has no name");
	bs_exim_free(p);
}

static void test_rejects_and_auth(void)
{
	struct bs_exim *p = bs_exim_new();
	ngot = 0;
	is_int(raw(p, "2022-06-29 15:33:46 H=test.com [1.2.3.4]:53343 F=<info@test.com> rejected RCPT <toto@toto.com>: \"JunkMail rejected - test.com [1.2.3.4]:53343 is in an RBL: https://www.spamhaus.org/sbl/query/SBLCSS\"", NULL),
	       BS_PARSED, "RCPT reject parsed");
	is_str(got[0], "mail 2022-06-29T15:33:46Z src=1.2.3.4 host= id= from=info@test.com to=toto@toto.com st=rejected name=test.com auth= luser= mid= relay= size=0 rej=1 why=\"JunkMail rejected - test.com [1.2.3.4]:53343 is in an RBL: https://www.spamhaus.org/sbl/query/SBLCSS\"",
	       "RCPT reject: sender, recipient, client, reason");
	is_str(got[1], "spam 2022-06-29T15:33:46Z src=1.2.3.4 host= filter=exim-rbl", "RBL reject: SPAM");
	raw(p, "2013-06-10 18:33:32 [10099] H=(yakult.com.tw) [202.132.70.178]:3755 I=[1.2.3.4]:25 F=menacedsj04@listserv.eurasia.org rejected RCPT dir@ml3.ru: relay not permitted", NULL);
	ok(strstr(got[2], "src=202.132.70.178") && strstr(got[2], "from=menacedsj04@listserv.eurasia.org to=dir@ml3.ru st=rejected") &&
	   strstr(got[2], "why=relay not permitted"), "unbracketed F= and RCPT");
	raw(p, "2013-06-15 11:20:36 [2516] 1Unmew-0000ea-SE H=egeftech.static.otenet.gr [83.235.177.148]:32706 I=[1.2.3.4]:25 F=auguriesvbd40@google.com rejected after DATA: This message contains a virus (Sanesecurity.Junk.39934.UNOFFICIAL).", NULL);
	ok(strstr(got[3], "id=1Unmew-0000ea-SE from=auguriesvbd40@google.com name=egeftech.static.otenet.gr") &&
	   strstr(got[3], "why=This message contains a virus"), "rejected after DATA");
	is_int(raw(p, "2022-06-29 16:04:19 dovecot_login authenticator failed for ([1.2.3.5]) [1.2.3.4]:55379: 535 Incorrect authentication data (set_id=abuse@test.com)", NULL),
	       BS_PARSED, "authenticator failure parsed");
	is_str(got[4], "auth 2022-06-29T16:04:19Z src=1.2.3.4 host= user=abuse@test.com method=dovecot_login", "authenticator failure: AUTH");
	raw(p, "2013-06-12 13:18:11 login authenticator failed for (USER-KVI9FGS9KP) [101.66.165.86]: 535 Incorrect authentication data", NULL);
	is_str(got[5], "auth 2013-06-12T13:18:11Z src=101.66.165.86 host= user= method=login", "authenticator failure without set_id");
	is_int(raw(p, "2013-06-02 09:22:06 SMTP call from [192.0.2.109] dropped: too many syntax or protocol errors (last command was \"AUTH LOGIN\")", NULL),
	       BS_IGNORED, "connection notices ignored");
	is_int(raw(p, "2013-06-02 09:22", NULL), BS_MALFORMED, "cut stamp is malformed");
	is_int(raw(p, "garbage", NULL), BS_MALFORMED, "no stamp is malformed");
	bs_exim_free(p);
}

static void test_syslog_prefix(void)
{
	struct bs_exim *p = bs_exim_new();
	struct bs_clock clk;
	struct bs_syslog sl;
	bs_clock_init(&clk, 2019, 0, NULL);
	ngot = 0;
	const char *l = "Oct 22 03:39:17 mx1 exim[29786]: 2019-10-22 03:39:17 dovecot_login authenticator failed for (User) [192.0.2.37]: 535 Incorrect authentication data (set_id=test@domain.com)";
	ok(bs_syslog_parse(l, strlen(l), &clk, &sl) && bs_exim_prog(sl.prog), "syslog-framed exim");
	struct bs_line_ctx c = { &sl, &sink, 0, 1, NULL };
	is_int(bs_exim_line(p, &c, sl.msg.p, sl.msg.n, NULL), BS_PARSED, "syslog-framed line parsed");
	is_str(got[0], "auth 2019-10-22T03:39:17Z src=192.0.2.37 host=mx1 user=test@domain.com method=dovecot_login", "syslog host and time");
	const char *l2 = "Oct 22 03:39:18 mx1 exim4[29786]: 1HjwXy-0001Ab-7Q <= a@b H=x [192.0.2.1] P=esmtp S=5";
	ok(bs_syslog_parse(l2, strlen(l2), &clk, &sl), "exim4 without its own stamp");
	c.lineno = 2;
	is_int(bs_exim_line(p, &c, sl.msg.p, sl.msg.n, NULL), BS_PARSED, "arrival behind syslog without a stamp");
	c.sl = NULL;
	is_int(bs_exim_finish(p, &c), 1, "flushed at finish");
	ok(strstr(got[1], "mail 2019-10-22T03:39:18Z src=192.0.2.1 host=mx1 id=1HjwXy-0001Ab-7Q") != NULL, "syslog time and host kept for the flush");
	bs_exim_free(p);
}

static void test_prefixes(void)
{
	struct bs_exim *p = bs_exim_new();
	const char *l = "2007-05-04 17:31:02.5 +0200 [4711] 1HjwXy-0001Ab-7Q <= a@b H=n (h) [192.0.2.13]:1 A=x:y S=2 id=<m> for c@d";
	size_t n = strlen(l);
	int survived = 0;
	for (size_t cut = 0; cut <= n; cut++) {
		char *copy = malloc(cut ? cut : 1);
		memcpy(copy, l, cut);
		struct bs_line_ctx c = { NULL, &sink, 0, 1, NULL };
		ngot = 0;
		bs_exim_line(p, &c, copy, cut, NULL);
		free(copy);
		survived++;
	}
	struct bs_line_ctx c = { NULL, &sink, 0, 1, NULL };
	ngot = 0;
	bs_exim_finish(p, &c);
	is_int(survived, (int)n + 1, "every prefix handled without reading past it");
	bs_exim_free(p);
}

int main(void)
{
	test_message();
	test_rejects_and_auth();
	test_syslog_prefix();
	test_prefixes();
	return tap_done();
}

/* test_sendmail.c - Sendmail lines joined by queue id. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* What a check needs of an event, copied (the parser's strings do not
 * outlive the sink call). */
struct seen {
	int type;
	bs_time ts;
	uint64_t ref;
	char src[BS_IP_STRLEN], text[512];
};
static struct seen seen[16];
static int nseen;

static void cat(char *b, const char *k, bs_str v)
{
	size_t n = strlen(b);
	snprintf(b + n, 512 - n, "%s%s=%.*s", n ? " " : "", k, (int)v.n, v.p ? v.p : "");
}

static void record(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	if (nseen == 16)
		return;
	struct seen *s = &seen[nseen++];
	memset(s, 0, sizeof *s);
	s->type = ev->type;
	s->ts = ev->ts;
	s->ref = ev->origin.ref;
	bs_ip_format(&ev->src, s->src, sizeof s->src);
	if (ev->type == BS_EV_MAIL) {
		const struct bs_ev_mail *m = &ev->u.mail;
		cat(s->text, "q", m->queue_id);
		cat(s->text, "from", m->sender);
		for (size_t i = 0; i < m->nrcpt; i++) {
			cat(s->text, "to", m->rcpts[i]);
			cat(s->text, "st", m->rcpt_status[i]);
		}
		cat(s->text, "name", m->client_name);
		cat(s->text, "mid", m->message_id);
		cat(s->text, "luser", m->local_user);
		cat(s->text, "auth", m->sasl_user);
		size_t n = strlen(s->text);
		snprintf(s->text + n, sizeof s->text - n, " uid=%ld size=%llu rej=%d", m->local_uid, (unsigned long long)m->size, m->rejected);
		cat(s->text, "why", m->reject_reason);
	} else if (ev->type == BS_EV_AUTH) {
		cat(s->text, "user", ev->u.auth.user);
		cat(s->text, "mech", ev->u.auth.method);
		size_t n = strlen(s->text);
		snprintf(s->text + n, sizeof s->text - n, " ok=%d", ev->u.auth.success);
	} else if (ev->type == BS_EV_SPAM) {
		cat(s->text, "filter", ev->u.spam.filter);
	}
}

static struct bs_sink sink = { record, NULL };
static struct bs_clock clk;
static uint64_t lineno;

static enum bs_verdict feed(struct bs_sendmail *p, const char *line)
{
	struct bs_syslog sl;
	if (!bs_syslog_parse(line, strlen(line), &clk, &sl) || !bs_sendmail_prog(sl.prog))
		return (enum bs_verdict)-1;
	struct bs_line_ctx c = { &sl, &sink, 0, ++lineno, NULL };
	return bs_sendmail_line(p, &c);
}

static uint64_t finish(struct bs_sendmail *p)
{
	struct bs_line_ctx c = { NULL, &sink, 0, lineno, NULL };
	return bs_sendmail_finish(p, &c);
}

static void test_message(void)
{
	struct bs_sendmail *p = bs_sendmail_new();
	nseen = 0;
	is_int(feed(p, "May  4 17:31:02 mx2 sm-mta[4411]: s44HV1mk004411: from=<alice@example.net>, size=2412, class=0, nrcpts=3, msgid=<20070504.1@example.net>, bodytype=8BITMIME, proto=ESMTPA, daemon=MTA, relay=webmail3.example.net. [192.0.2.13] (may be forged)"),
	       BS_PARSED, "from= parsed");
	is_int(nseen, 0, "from= alone emits nothing");
	is_int(feed(p, "May  4 17:31:04 mx2 sm-mta[4412]: s44HV1mk004411: to=<bob@example.org>,<carol@example.org>, delay=00:00:02, xdelay=00:00:01, mailer=esmtp, pri=122412, relay=mx.example.org. [198.51.100.7], dsn=2.0.0, stat=Sent (Ok: queued as 4Vx3bN1XyPz7)"),
	       BS_PARSED, "to= list parsed");
	is_int(nseen, 1, "to= line emits");
	is_str(seen[0].text, "q=s44HV1mk004411 from=alice@example.net to=bob@example.org st=sent to=carol@example.org st=sent "
	       "name=webmail3.example.net mid=20070504.1@example.net luser= auth= uid=-1 size=2412 rej=0 why=", "delivery joined with its from= line");
	is_str(seen[0].src, "192.0.2.13", "client from relay=");
	is_int(seen[0].ts, bs_time_make(2007, 5, 4, 17, 31, 2, 0), "submission time");
	is_int(seen[0].ref, 1, "line of the from= line");
	feed(p, "May  4 17:31:05 mx2 sm-mta[4413]: s44HV1mk004411: to=<dave@example.com>, delay=00:00:03, xdelay=00:00:01, mailer=esmtp, pri=122412, relay=mx.example.com. [203.0.113.5], dsn=4.0.0, stat=Deferred: Connection refused by mx.example.com.");
	ok(strstr(seen[1].text, "to=dave@example.com st=deferred") != NULL, "deferred status");
	feed(p, "May  5 17:31:05 mx2 sm-mta[4413]: s44HV1mk004411: to=<dave@example.com>, delay=1+00:00:03, xdelay=00:00:01, mailer=esmtp, pri=122412, relay=mx.example.com. [203.0.113.5], dsn=5.1.1, stat=User unknown");
	ok(strstr(seen[2].text, "to=dave@example.com st=bounced") != NULL, "permanent failure is bounced");
	is_int(finish(p), 0, "message closed once every recipient is final");
	bs_sendmail_free(p);
}

static void test_local_and_rejects(void)
{
	struct bs_sendmail *p = bs_sendmail_new();
	nseen = 0;
	feed(p, "May  4 17:40:00 web3 sm-msp-queue[811]: s44He0Zx000811: from=www-data, size=88231, class=0, nrcpts=1, msgid=<x1@web3>, relay=www-data@localhost");
	feed(p, "May  4 17:40:01 web3 sm-msp-queue[811]: s44He0Zx000811: to=drop@evil.example, ctladdr=www-data (33/33), delay=00:00:01, xdelay=00:00:01, mailer=relay, pri=118231, relay=[127.0.0.1] [127.0.0.1], dsn=2.0.0, stat=Sent (s44He1mk004420 Message accepted for delivery)");
	is_str(seen[0].text, "q=s44He0Zx000811 from=www-data to=drop@evil.example st=sent name= mid=x1@web3 luser=www-data auth= uid=33 size=88231 rej=0 why=",
	       "local submission: user and uid from ctladdr");
	is_int(feed(p, "Feb 23 21:36:14 petermurray sm-mta[22248]: s1NLaDQT022248: ruleset=check_rcpt, arg1=<dautareuk2@hotmail.it>, relay=int0.client.access.azadnet.net [80.253.155.119] (may be forged), reject=550 5.7.1 <dautareuk2@hotmail.it>... Relaying denied. IP name possibly forged [80.253.155.119]"),
	       BS_PARSED, "check_rcpt reject parsed");
	is_str(seen[1].text, "q=s1NLaDQT022248 from= to=dautareuk2@hotmail.it st=rejected name=int0.client.access.azadnet.net mid= luser= auth= uid=-1 size=0 rej=1 why=550 5.7.1 <dautareuk2@hotmail.it>... Relaying denied. IP name possibly forged [80.253.155.119]",
	       "check_rcpt reject: recipient, client, reason");
	is_str(seen[1].src, "80.253.155.119", "reject client address");
	feed(p, "Feb 23 04:38:57 kismet sm-acceptingconnections[16772]: s1N9csSZ016772: ruleset=check_rcpt, arg1=<user@host.com>, relay=[203.229.186.250], reject=550 5.7.1 <user@host.com>... Rejected: IP in Barracuda RBL, see: http://www.barracudacentral.org/reputation");
	is_int(nseen, 4, "RBL reject: MAIL and SPAM");
	is_str(seen[3].text, "filter=sendmail-rbl", "RBL reject: SPAM event");
	is_int(feed(p, "Feb 19 18:01:50 batman sm-mta[78152]: ruleset=check_relay, arg1=[196.213.73.146], arg2=196.213.73.146, relay=[196.213.73.146], reject=421 4.3.2 Connection rate limit exceeded."),
	       BS_PARSED, "check_relay without queue id");
	ok(strstr(seen[4].text, "q= from= name= ") && strstr(seen[4].text, "rej=1"), "connection reject: no addresses");
	is_int(feed(p, "Feb 25 04:02:27 relay1 sendmail[16664]: 06I02CNi016764: AUTH failure (LOGIN): authentication failure (-13) SASL(-13): authentication failure: checkpass failed, user=user@example.com, relay=example.com [192.0.2.3] (may be forged)"),
	       BS_PARSED, "AUTH failure parsed");
	is_str(seen[5].text, "user=user@example.com mech=LOGIN ok=0", "AUTH failure event");
	is_str(seen[5].src, "192.0.2.3", "AUTH failure client");
	feed(p, "May  4 17:31:02 mx2 sm-mta[4411]: s44HV1mk004499: AUTH=server, relay=webmail3.example.net [192.0.2.13], authid=alice, mech=PLAIN, bits=0");
	is_str(seen[6].text, "user=alice mech=PLAIN ok=1", "AUTH success event");
	is_int(feed(p, "Feb 16 23:33:20 smtp1 sm-mta[5133]: s1GNXHYB005133: [190.5.230.178]: possible SMTP attack: command=AUTH, count=5"), BS_IGNORED, "attack notice ignored");
	is_int(feed(p, "Feb 16 23:33:20 smtp1 sm-mta[5133]: STARTTLS=server, relay=x [1.2.3.4], version=TLSv1.2"), BS_IGNORED, "STARTTLS ignored");
	is_int(feed(p, "Feb 16 23:33:20 smtp1 sm-mta[5133]: s1GNXHYB005133: to=<a@b>, delay=00:00:01"), BS_MALFORMED, "to= without stat= malformed");
	nseen = 0;
	is_int(finish(p), 1, "finish: the AUTH-only message is flushed");
	bs_sendmail_free(p);
}

static void test_many_open(void)
{
	struct bs_sendmail *p = bs_sendmail_new();
	char line[256];
	nseen = 0;
	for (int i = 0; i < 20000; i++) {
		snprintf(line, sizeof line, "May  4 17:31:02 mx2 sm-mta[1]: s44HV1mk%06d: from=<a%d@x>, size=1, class=0, nrcpts=1, relay=[10.0.0.1]", i, i);
		feed(p, line);
	}
	snprintf(line, sizeof line, "May  4 17:31:09 mx2 sm-mta[1]: s44HV1mk%06d: to=<b@y>, mailer=esmtp, stat=Sent", 19999);
	feed(p, line);
	ok(nseen >= 1, "open messages beyond the cap are flushed, the last one still joins");
	is_int(finish(p) > 0, 1, "finish counts the unfinished");
	bs_sendmail_free(p);
}

int main(void)
{
	bs_clock_init(&clk, 0, bs_time_make(2008, 1, 1, 0, 0, 0, 0) / BS_USEC, NULL);
	test_message();
	test_local_and_rejects();
	test_many_open();
	return tap_done();
}

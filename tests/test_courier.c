/* test_courier.c - Courier imapd/pop3d logins and courieresmtpd errors. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Not in daemons.h yet (courier.c). */
bool bs_courier_shape(bs_str msg);

static char got[4][512];
static size_t ngot;

static const char *cproto(enum bs_auth_proto p)
{
	return p == BS_AUTH_IMAP ? "IMAP" : p == BS_AUTH_POP3 ? "POP3" : p == BS_AUTH_SMTP ? "SMTP" : "OTHER";
}

#define S(x) (int)(x).n, (x).p ? (x).p : ""

/* AUTH: "auth fail IMAP user=u method=m from 1.2.3.4:5"
 * MAIL: "mail rejected from=<s> to=<r>(status) why=reason client 1.2.3.4:5" */
static void record(void *ctx, const struct bs_event *ev)
{
	char ip[BS_IP_STRLEN];
	(void)ctx;
	if (ngot == 4)
		return;
	bs_ip_format(&ev->src, ip, sizeof ip);
	if (ev->type == BS_EV_AUTH) {
		const struct bs_ev_auth *a = &ev->u.auth;
		snprintf(got[ngot++], sizeof got[0], "auth %s %s user=%.*s method=%.*s from %s:%u",
			 a->success ? "ok" : "fail", cproto(a->proto), S(a->user), S(a->method), ip, ev->sport);
	} else if (ev->type == BS_EV_MAIL) {
		const struct bs_ev_mail *m = &ev->u.mail;
		bs_str to = m->nrcpt ? m->rcpts[0] : BS_STR_LIT("-");
		bs_str st = m->nrcpt ? m->rcpt_status[0] : BS_STR_LIT("-");
		snprintf(got[ngot++], sizeof got[0], "mail %s from=<%.*s> to=<%.*s>(%.*s) why=%.*s client %s:%u",
			 m->rejected ? "rejected" : "accepted", S(m->sender), S(to), S(st), S(m->reject_reason), ip,
			 ev->sport);
	} else {
		snprintf(got[ngot++], sizeof got[0], "unexpected %s", bs_event_type_name(ev->type));
	}
}

static enum bs_verdict feed(const char *prog, const char *msg, size_t n)
{
	static const struct bs_sink sink = { record, NULL };
	struct bs_syslog sl;
	memset(&sl, 0, sizeof sl);
	sl.prog = bs_str_make(prog, strlen(prog));
	sl.msg = bs_str_make(msg, n);
	struct bs_line_ctx c = { &sl, &sink, 0, 7, NULL };
	ngot = 0;
	return bs_courier_line(&c);
}

static const struct {
	const char *prog, *msg;
	enum bs_verdict verdict;
	const char *event;
} cases[] = {
	{ "imapd", "LOGIN, user=u@example.net, ip=[::ffff:1.2.3.4], port=[51234], protocol=IMAP", BS_PARSED,
	  "auth ok IMAP user=u@example.net method= from 1.2.3.4:51234" },
	{ "pop3d-ssl", "LOGIN, user=bob, ip=[::ffff:10.0.0.5], port=[40000], protocol=POP3", BS_PARSED,
	  "auth ok POP3 user=bob method= from 10.0.0.5:40000" },
	{ "imapd", "LOGIN FAILED, user=sales@example.com, ip=[::ffff:1.2.3.4]", BS_PARSED,
	  "auth fail IMAP user=sales@example.com method= from 1.2.3.4:0" },
	{ "pop3d", "LOGIN FAILED, user=info@example.com, ip=[::ffff:198.51.100.76]", BS_PARSED,
	  "auth fail POP3 user=info@example.com method= from 198.51.100.76:0" },
	{ "imapd-ssl", "LOGIN FAILED, method=PLAIN, ip=[::ffff:192.0.2.4]", BS_PARSED,
	  "auth fail IMAP user= method=PLAIN from 192.0.2.4:0" },
	{ "courierpop3login", "LOGIN FAILED, user=USER@EXAMPLE.org, ip=[::ffff:1.2.3.4]", BS_PARSED,
	  "auth fail POP3 user=USER@EXAMPLE.org method= from 1.2.3.4:0" },
	{ "imapd", "LOGIN FAILED, user=tester, ip=[::ffff:192.0.2.5], port=[255]", BS_PARSED,
	  "auth fail IMAP user=tester method= from 192.0.2.5:255" },
	{ "courier-imapd", "LOGIN, user=v6user, ip=[2001:db8::10], port=[5555], protocol=IMAP", BS_PARSED,
	  "auth ok IMAP user=v6user method= from 2001:db8::10:5555" },
	{ "imapd", "LOGIN FAILED, user=x, ip=[6.6.6.6], ip=[::ffff:192.0.2.8]", BS_PARSED,
	  "auth fail IMAP user=x, ip=[6.6.6.6] method= from 192.0.2.8:0" },
	{ "imapd", "LOGIN, user=John Smith, ip=[::ffff:10.1.1.1], port=[1], protocol=IMAP", BS_PARSED,
	  "auth ok IMAP user=John Smith method= from 10.1.1.1:1" },
	{ "courieresmtpd", "error,relay=::ffff:1.2.3.4,ident=tmf,from=<tmf@example.com>,to=<mailman-subscribe@example.com>: 550 User unknown.",
	  BS_PARSED, "mail rejected from=<tmf@example.com> to=<mailman-subscribe@example.com>(rejected) why=550 User unknown. client 1.2.3.4:0" },
	{ "courieresmtpd", "error,relay=::ffff:1.2.3.4,from=<>,to=<>: 550 User unknown.", BS_PARSED,
	  "mail rejected from=<> to=<>(rejected) why=550 User unknown. client 1.2.3.4:0" },
	{ "courieresmtpd", "error,relay=::ffff:1.2.3.4,from=<>,to=<admin at memcpy>: 550 User unknown.", BS_PARSED,
	  "mail rejected from=<> to=<admin at memcpy>(rejected) why=550 User unknown. client 1.2.3.4:0" },
	{ "courieresmtpd", "error,relay=::ffff:1.2.3.4,msg=\"535 Authentication failed.\",cmd: YWRvYmVhZG9iZQ==", BS_PARSED,
	  "auth fail SMTP user= method= from 1.2.3.4:0" },
	{ "courieresmtpd", "error,relay=::ffff:192.0.2.3,port=43632,msg=\"535 Authentication failed.\",cmd: AUTH LOGIN PlcmSpIp@example.com",
	  BS_PARSED, "auth fail SMTP user= method=LOGIN from 192.0.2.3:43632" },
	{ "courieresmtpd", "error,relay=::ffff:1.2.3.4,msg=\"550 5.7.1 Relaying denied\",cmd: RCPT TO:<victim@example.org>",
	  BS_PARSED, "mail rejected from=<> to=<victim@example.org>(rejected) why=550 5.7.1 Relaying denied client 1.2.3.4:0" },
	{ "courieresmtpd", "error,relay=2001:db8::9,from=<a@b.example>,to=<c@d.example>: 550 Mailbox unavailable", BS_PARSED,
	  "mail rejected from=<a@b.example> to=<c@d.example>(rejected) why=550 Mailbox unavailable client 2001:db8::9:0" },
	/* understood, nothing to report */
	{ "courieresmtpd", "error,relay=::ffff:1.2.3.4,msg=\"502 ESMTP command error\",cmd: XYZZY", BS_IGNORED, NULL },
	{ "courieresmtpd", "started,ip=[::ffff:1.2.3.4],port=[1234]", BS_IGNORED, NULL },
	{ "imapd", "LOGOUT, user=u@example.net, ip=[::ffff:1.2.3.4], headers=0, body=0, rcvd=30, sent=300, time=5", BS_IGNORED, NULL },
	{ "imapd-ssl", "DISCONNECTED, user=u@example.net, ip=[::ffff:1.2.3.4], headers=0, body=0, rcvd=1, sent=2, time=3, starttls=1",
	  BS_IGNORED, NULL },
	{ "pop3d", "Connection, ip=[::ffff:1.2.3.4]", BS_IGNORED, NULL },
	{ "imapd", "TIMEOUT, user=u@example.net, ip=[::ffff:1.2.3.4], headers=0, body=0, rcvd=1, sent=2, time=1800", BS_IGNORED, NULL },
	{ "imapd", "Maximum connection limit reached for ::ffff:1.2.3.4", BS_IGNORED, NULL },
	{ "imapd", "Login failed user=lizdy auth=lizdy host=h2066373.stratoserver.net [81.169.154.112]", BS_IGNORED, NULL },
	/* damaged */
	{ "imapd", "LOGIN, user=u@example.net", BS_MALFORMED, NULL },
	{ "imapd", "LOGIN FAILED, user=x, ip=[not-an-ip]", BS_MALFORMED, NULL },
	{ "imapd", "LOGIN, user=x, ip=[::ffff:1.2.3.4", BS_MALFORMED, NULL },
	{ "courieresmtpd", "error,relay=garbage,from=<a>,to=<b>: 550 x", BS_MALFORMED, NULL },
	{ "courieresmtpd", "error,relay=::ffff:1.2.3.4,from=<a", BS_MALFORMED, NULL },
};
#define NCASES (sizeof cases / sizeof cases[0])

int main(void)
{
	for (size_t i = 0; i < NCASES; i++) {
		enum bs_verdict v = feed(cases[i].prog, cases[i].msg, strlen(cases[i].msg));
		is_int(v, cases[i].verdict, "verdict %zu: %.50s", i, cases[i].msg);
		is_int(ngot, cases[i].event ? 1 : 0, "event count %zu", i);
		if (cases[i].event)
			is_str(got[0], cases[i].event, "event %zu", i);
	}

	static const char nul[] = "LOGIN, user=a\0b, ip=[::ffff:10.0.0.1], port=[1], protocol=IMAP";
	is_int(feed("imapd", nul, sizeof nul - 1), BS_PARSED, "NUL in the user name");
	size_t big = 1 << 20;
	char *huge = malloc(big);
	memset(huge, ',', big);
	memcpy(huge, "error,relay=::ffff:1.2.3.4,", 27);
	ok(feed("courieresmtpd", huge, big) != BS_PARSED, "1 MB of commas after relay= is not an event");
	memcpy(huge, "LOGIN FAILED, user=", 19);
	memset(huge + 19, 'x', big - 19);
	is_int(feed("imapd", huge, big), BS_MALFORMED, "1 MB user name without ip=");
	free(huge);

	ok(bs_courier_shape(BS_STR_LIT("LOGIN, user=a, ip=[1.2.3.4]")), "shape: LOGIN");
	ok(bs_courier_shape(BS_STR_LIT("LOGIN FAILED, method=PLAIN, ip=[::ffff:1.2.3.4]")), "shape: LOGIN FAILED");
	ok(bs_courier_shape(BS_STR_LIT("Connection, ip=[::ffff:1.2.3.4]")), "shape: Connection");
	ok(bs_courier_shape(BS_STR_LIT("error,relay=::ffff:1.2.3.4,msg=\"x\"")), "shape: esmtpd error");
	ok(!bs_courier_shape(BS_STR_LIT("login: host [1.2.3.4] u plaintext User logged in")), "shape: Cyrus login is not Courier");
	ok(!bs_courier_shape(BS_STR_LIT("badlogin: [1.2.3.4] plain [SASL(-13): x]")), "shape: Cyrus badlogin is not Courier");
	ok(!bs_courier_shape(BS_STR_LIT("Login failed user=x auth=x host=h [1.2.3.4]")), "shape: UW-IMAP is not Courier");
	ok(!bs_courier_shape(BS_STR_LIT("LOGIN,")), "shape: cut after the comma");
	ok(bs_courier_prog(BS_STR_LIT("courieresmtpd")), "prog courieresmtpd");
	ok(bs_courier_prog(BS_STR_LIT("imapd-ssl")), "prog imapd-ssl");
	ok(!bs_courier_prog(BS_STR_LIT("dovecot")), "prog dovecot is not Courier");
	return tap_done();
}

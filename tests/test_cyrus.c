/* test_cyrus.c - Cyrus imapd, pop3d and timsieved login and badlogin lines. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Not in daemons.h yet (cyrus.c). */
bool bs_cyrus_shape(bs_str msg);

static struct {
	int n, success;
	enum bs_auth_proto proto;
	char user[128], method[32], session[64], src[BS_IP_STRLEN];
} seen;

static void keep(char *dst, size_t size, bs_str s)
{
	size_t n = s.n < size - 1 ? s.n : size - 1;
	if (n)
		memcpy(dst, s.p, n);
	dst[n] = 0;
}

static void on_event(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	seen.n++;
	if (ev->type != BS_EV_AUTH)
		return;
	seen.success = ev->u.auth.success;
	seen.proto = ev->u.auth.proto;
	keep(seen.user, sizeof seen.user, ev->u.auth.user);
	keep(seen.method, sizeof seen.method, ev->u.auth.method);
	keep(seen.session, sizeof seen.session, ev->u.auth.session);
	bs_ip_format(&ev->src, seen.src, sizeof seen.src);
}

static enum bs_verdict line(const char *prog, const char *msg, size_t n)
{
	static const struct bs_sink sink = { on_event, NULL };
	struct bs_syslog sl = { .prog = bs_str_make(prog, strlen(prog)), .msg = bs_str_make(msg, n) };
	struct bs_line_ctx c = { .sl = &sl, .sink = &sink, .lineno = 3 };
	memset(&seen, 0, sizeof seen);
	return bs_cyrus_line(&c);
}

struct login_case {
	const char *prog, *msg;
	int success;
	enum bs_auth_proto proto;
	const char *user, *method, *src, *session;
};

static const struct login_case logins[] = {
	{ "cyrus/imap", "login: host.example.com [192.0.2.10] alice plaintext+TLS User logged in SESSIONID=<cyrus-1234-1-1>",
	  1, BS_AUTH_IMAP, "alice", "plaintext+TLS", "192.0.2.10", "cyrus-1234-1-1" },
	{ "cyrus/pop3", "login: localhost [127.0.0.1] bob@example.net plaintext User logged in",
	  1, BS_AUTH_POP3, "bob@example.net", "plaintext", "127.0.0.1", "" },
	{ "imapd", "login: mail.example.org [2001:db8::20] carol PLAIN User logged in",
	  1, BS_AUTH_IMAP, "carol", "PLAIN", "2001:db8::20", "" },
	{ "cyrus/imap", "login: localhost [UNIX] admin EXTERNAL User logged in",
	  1, BS_AUTH_IMAP, "admin", "EXTERNAL", "", "" },
	{ "cyrus/imap", "badlogin: localhost.localdomain [127.0.0.1] plaintext cyrus@localdomain SASL(-13): authentication failure: checkpass failed",
	  0, BS_AUTH_IMAP, "cyrus@localdomain", "plaintext", "127.0.0.1", "" },
	{ "cyrus/pop3", "badlogin: domain [198.51.100.23] plaintext administrator SASL(-13): authentication failure: checkpass failed",
	  0, BS_AUTH_POP3, "administrator", "plaintext", "198.51.100.23", "" },
	{ "cyrus/imaps", "badlogin: serafinat.xxxxxx [1.2.3.4] plain [SASL(-13): user not found: user: pressy@derry property: cmusaslsecretPLAIN not found in sasldb]",
	  0, BS_AUTH_IMAP, "", "plain", "1.2.3.4", "" },
	{ "imap", "badlogin: example.com [198.51.100.45] DIGEST-MD5 [SASL(-13): authentication failure: client response doesn't match what we generated]",
	  0, BS_AUTH_IMAP, "", "DIGEST-MD5", "198.51.100.45", "" },
	{ "imapd", "badlogin: local-somehost[1.2.3.4] OTP [SASL(-13): authentication failure: External SSF not good enough]",
	  0, BS_AUTH_IMAP, "", "OTP", "1.2.3.4", "" },
	{ "imap", "badlogin: [192.0.2.4] plain [SASL(-13): authentication failure: Password verification failed]",
	  0, BS_AUTH_IMAP, "", "plain", "192.0.2.4", "" },
	{ "sieve", "badlogin: example.com[1.2.3.4] PLAIN authentication failure",
	  0, BS_AUTH_OTHER, "", "PLAIN", "1.2.3.4", "" },
	{ "cyrus/timsieved", "badlogin: example.com[1.2.3.4] PLAIN authentication failure",
	  0, BS_AUTH_OTHER, "", "PLAIN", "1.2.3.4", "" },
	{ "cyrus/pop3s", "badlogin: dsl-1-2-3-4.example [::ffff:203.0.113.9] plaintext first.last SASL(-13): authentication failure: Password verification failed",
	  0, BS_AUTH_POP3, "first.last", "plaintext", "203.0.113.9", "" },
};

static const struct {
	const char *msg;
	enum bs_verdict verdict;
} others[] = {
	{ "accepted connection", BS_IGNORED },
	{ "USAGE alice user: 0.010000 sys: 0.000000", BS_IGNORED },
	{ "Expunged 1 messages from user.alice", BS_IGNORED },
	{ "starttls: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits new) no authentication", BS_IGNORED },
	{ "SSL_accept() incomplete -> wait", BS_IGNORED },
	{ "", BS_IGNORED },
	{ "login: nohost alice plaintext User logged in", BS_MALFORMED },
	{ "login: host [1.2.3.4]", BS_MALFORMED },
	{ "login: host [1.2.3.4] alice", BS_MALFORMED },
	{ "badlogin: host [1.2.3.4]", BS_MALFORMED },
	{ "badlogin: host [1.2.3.4 plain", BS_MALFORMED },
};

int main(void)
{
	for (size_t i = 0; i < sizeof logins / sizeof logins[0]; i++) {
		const struct login_case *t = &logins[i];
		is_int(line(t->prog, t->msg, strlen(t->msg)), BS_PARSED, "parsed: %.50s", t->msg);
		is_int(seen.n, 1, "one event %zu", i);
		is_int(seen.success, t->success, "success %zu", i);
		is_int(seen.proto, t->proto, "proto %zu", i);
		is_str(seen.user, t->user, "user %zu", i);
		is_str(seen.method, t->method, "method %zu", i);
		is_str(seen.src, t->src, "client address %zu", i);
		is_str(seen.session, t->session, "session %zu", i);
	}
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		is_int(line("cyrus/imap", others[i].msg, strlen(others[i].msg)), others[i].verdict, "verdict: %s",
		       others[i].msg);
		is_int(seen.n, 0, "no event: %s", others[i].msg);
	}

	size_t big = 1 << 20;
	char *huge = malloc(big);
	memset(huge, '[', big);
	memcpy(huge, "login: ", 7);
	is_int(line("cyrus/imap", huge, big), BS_MALFORMED, "1 MB of [ after login:");
	memset(huge + 7, ' ', big - 7);
	huge[big / 2] = '[';
	huge[big / 2 + 1] = ']';
	is_int(line("cyrus/imap", huge, big), BS_MALFORMED, "1 MB of spaces around []");
	free(huge);
	static const char nul[] = "badlogin: h [10.0.0.1] plaintext a\0b SASL(-13): authentication failure";
	is_int(line("cyrus/imap", nul, sizeof nul - 1), BS_PARSED, "NUL in a user name");
	is_int(strlen(seen.user), 1, "user as far as the NUL (copied by the test with its NUL)");

	ok(bs_cyrus_shape(BS_STR_LIT("login: h [1.2.3.4] a plaintext User logged in")), "shape: login");
	ok(bs_cyrus_shape(BS_STR_LIT("badlogin: [1.2.3.4] plain [SASL(-13): x]")), "shape: badlogin");
	ok(!bs_cyrus_shape(BS_STR_LIT("LOGIN, user=a, ip=[1.2.3.4]")), "shape: Courier LOGIN is not Cyrus");
	ok(!bs_cyrus_shape(BS_STR_LIT("Disconnected: Logged out in=0 out=0")), "shape: Dovecot imap is not Cyrus");
	ok(bs_cyrus_prog(BS_STR_LIT("cyrus/imaps")), "prog cyrus/imaps");
	ok(bs_cyrus_prog(BS_STR_LIT("imapd")), "prog imapd");
	ok(!bs_cyrus_prog(BS_STR_LIT("imap-login")), "prog imap-login is not Cyrus");
	return tap_done();
}

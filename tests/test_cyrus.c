/* test_cyrus.c - Cyrus: what is not a case of events (the imapd, pop3d and
 * timsieved login and badlogin lines are tests/cases/cyrus): an empty
 * message, 1 MB, a NUL, the shapes and programs claimed. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Not in daemons.h yet (cyrus.c). */
bool bs_cyrus_shape(bs_str msg);

static struct {
	int n;
	char user[128];
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
	keep(seen.user, sizeof seen.user, ev->u.auth.user);
}

static enum bs_verdict line(const char *prog, const char *msg, size_t n)
{
	static const struct bs_sink sink = { on_event, NULL };
	struct bs_syslog sl = { .prog = bs_str_make(prog, strlen(prog)), .msg = bs_str_make(msg, n) };
	struct bs_line_ctx c = { .sl = &sl, .sink = &sink, .lineno = 3 };
	memset(&seen, 0, sizeof seen);
	return bs_cyrus_line(&c);
}

int main(void)
{
	/* An empty message to the parser itself (through the reader, the
	 * syslog framing decides before Cyrus sees it). */
	is_int(line("cyrus/imap", "", 0), BS_IGNORED, "empty message");
	is_int(seen.n, 0, "no event from an empty message");

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

/* test_courier.c - Courier: what is not a case of events (the imapd/pop3d
 * logins and courieresmtpd errors are tests/cases/courier): a line the
 * reader routes elsewhere, a NUL and 1 MB, the shapes and programs claimed. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Not in daemons.h yet (courier.c). */
bool bs_courier_shape(bs_str msg);

static size_t nevents;

static void count(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	(void)ev;
	nevents++;
}

static enum bs_verdict feed(const char *prog, const char *msg, size_t n)
{
	static const struct bs_sink sink = { count, NULL };
	struct bs_syslog sl;
	memset(&sl, 0, sizeof sl);
	sl.prog = bs_str_make(prog, strlen(prog));
	sl.msg = bs_str_make(msg, n);
	struct bs_line_ctx c = { &sl, &sink, 0, 7, NULL };
	nevents = 0;
	return bs_courier_line(&c);
}

int main(void)
{
	/* UW-IMAP's line, with the program name imapd that Courier shares: the
	 * reader gives it to Cyrus (not Courier's shape), so a case would test
	 * Cyrus; Courier's own parser must ignore it too. */
	static const char uw[] = "Login failed user=lizdy auth=lizdy host=h2066373.stratoserver.net [81.169.154.112]";
	is_int(feed("imapd", uw, sizeof uw - 1), BS_IGNORED, "UW-IMAP's Login failed is not Courier's");
	is_int(nevents, 0, "no event from UW-IMAP's line");
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

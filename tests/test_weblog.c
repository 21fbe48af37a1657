/* test_weblog.c - Apache/nginx access logs: what is not a case of events
 * (the lines, and every cut of them, are tests/cases/weblog): what the
 * detector claims. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <string.h>

int main(void)
{
	const char *l = "192.0.2.9 - - [04/May/2007:17:31:02 +0200] \"GET /atmail/index.php?func=login HTTP/1.1\" 200 5123 \"http://webmail.example.net/\" \"Mozilla/5.0 (X11; Linux x86_64) \\\"quoted\\\"\"";
	ok(bs_weblog_detect(l, strlen(l)), "combined: detected");
	ok(!bs_weblog_detect("May  4 17:31:02 mx1 postfix/smtpd[1]: connect", 44), "syslog is not an access log");
	ok(!bs_weblog_detect("", 0), "empty is not an access log");
	return tap_done();
}

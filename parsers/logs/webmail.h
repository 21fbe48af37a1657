/* webmail.h - what the parsers of the webmail applications' own logs share
 * (roundcube.c, zimbra.c, sogo.c, webapps.c; docs/DAEMONS.md): finding
 * text in a message, reading a client address, and the two events they give,
 * a webmail login (AUTH, proto HTTP, method "webmail") and a message sent
 * from the webmail (MAIL). Every string stays borrowed from the line. */
#ifndef BS_WEBMAIL_H
#define BS_WEBMAIL_H

#include "parsers/logs/daemons.h"

/* The first / last occurrence of lit in s, or NULL. */
const char *bs_wm_find(bs_str s, const char *lit);
const char *bs_wm_find_last(bs_str s, const char *lit);
/* What follows at + skip in s (at points into s). */
bs_str bs_wm_after(bs_str s, const char *at, size_t skip);
/* The address at the start of s ("A", "A.", "A: ", "A(X-Forwarded-For: ..)", "A,
 * B"): it ends at the first character that cannot be in one, a trailing full
 * stop dropped. rest: what follows it. */
bool bs_wm_client_at(bs_str s, bs_ip *ip, bs_str *rest);
/* A stamp written after a pattern at the start of s: 'Y', 'm', 'd', 'H',
 * 'M', 'S' each stand for one digit of the year, month, day, hour, minute,
 * second, any other character for itself ("mm/dd/YYYY HH:MM:SS ["). The
 * time (local, in tz) in *ts when ts is not NULL, and the pattern's length;
 * 0 when s does not start so or the date is impossible. */
size_t bs_wm_stamp(bs_str s, const char *pattern, struct bs_tz *tz, bs_time *ts);
/* A login to the webmail (proto HTTP, method "webmail"), or with proto other
 * than HTTP a login the application checked for another service (method
 * ""). ts is the line's own stamp, used when c->sl is NULL (a file form). */
void bs_wm_login(const struct bs_line_ctx *c, bs_time ts, enum bs_auth_proto proto, bs_str user, const bs_ip *ip,
                 bs_str session, int success);
/* A message sent from the webmail by user from ip: list holds the
 * recipients separated by commas (may be empty), message_id may be empty. */
void bs_wm_sent(const struct bs_line_ctx *c, bs_time ts, bs_str user, const bs_ip *ip, bs_str message_id,
                bs_str list);

#endif

/* webmail.c - the helpers of the webmail applications' parsers (webmail.h). */
#include "config.h"
#include "parsers/logs/webmail.h"

#include <string.h>


/* The first occurrence of lit in s. Short texts (a line's head, a field)
 * are searched from memchr's candidates for lit's first byte, checked at
 * its last byte before a memcmp: glibc's memmem spends some 300
 * instructions setting up per call, and every access line is offered to
 * several daemons' tests of this kind. Long texts go to memmem. */
const char *bs_wm_find(bs_str s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.n == 0 || n == 0 || s.n > 512)
		return s.n ? memmem(s.p, s.n, lit, n) : NULL;
	if (s.n < n)
		return NULL;
	const char *p = s.p, *end = s.p + (s.n - n) + 1; /* a match starts before end */
	for (; p < end && (p = memchr(p, lit[0], (size_t)(end - p))) != NULL; p++)
		if (p[n - 1] == lit[n - 1] && memcmp(p, lit, n) == 0)
			return p;
	return NULL;
}

const char *bs_wm_find_last(bs_str s, const char *lit)
{
	size_t n = strlen(lit);
	for (size_t i = s.n >= n ? s.n - n + 1 : 0; i-- > 0;)
		if (memcmp(s.p + i, lit, n) == 0)
			return s.p + i;
	return NULL;
}

bs_str bs_wm_after(bs_str s, const char *at, size_t skip)
{
	size_t o = (size_t)(at - s.p) + skip;
	return o <= s.n ? bs_str_make(s.p + o, s.n - o) : bs_str_make(s.p + s.n, 0);
}

/* Which value a pattern letter fills (Y m d H M S), or -1 for a literal. */
static int stamp_field(char letter)
{
	switch (letter) {
	case 'Y': return 0;
	case 'm': return 1;
	case 'd': return 2;
	case 'H': return 3;
	case 'M': return 4;
	case 'S': return 5;
	default: return -1;
	}
}

size_t bs_wm_stamp(bs_str s, const char *pattern, struct bs_tz *tz, bs_time *ts)
{
	int v[6] = { 0 };
	size_t n = strlen(pattern);
	if (s.n < n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int f = stamp_field(pattern[i]);
		if (f < 0) {
			if (s.p[i] != pattern[i])
				return 0;
		} else if (s.p[i] < '0' || s.p[i] > '9') {
			return 0;
		} else {
			v[f] = v[f] * 10 + (s.p[i] - '0');
		}
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return 0;
	if (ts) {
		bs_time local = bs_time_make(v[0], v[1], v[2], v[3], v[4], v[5], 0);
		*ts = local - (bs_time)bs_tz_offset_for_local(tz, local / BS_USEC) * BS_USEC;
	}
	return n;
}

static bool addr_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

bool bs_wm_client_at(bs_str s, bs_ip *ip, bs_str *rest)
{
	size_t n = 0;
	while (n < s.n && n < 64 && addr_char(s.p[n]))
		n++;
	while (n > 0 && s.p[n - 1] == '.') /* the sentence's full stop */
		n--;
	if (n > 1 && s.p[n - 1] == ':' && s.p[n - 2] != ':' && !bs_ip_parse(s.p, n, ip))
		n--; /* "from A: message" */
	if (!n || !bs_ip_parse(s.p, n, ip))
		return false;
	*rest = bs_str_make(s.p + n, s.n - n);
	return true;
}

void bs_wm_login(const struct bs_line_ctx *c, bs_time ts, enum bs_auth_proto proto, bs_str user, const bs_ip *ip,
                 bs_str session, int success)
{
	struct bs_event ev;
	bs_line_auth(c, &ev, proto, user, proto == BS_AUTH_HTTP ? BS_STR_LIT("webmail") : BS_STR_LIT(""), success);
	if (!c->sl)
		ev.ts = ts;
	ev.src = *ip;
	if (session.p)
		ev.u.auth.session = session;
	bs_emit(c->sink, &ev);
}

void bs_wm_sent(const struct bs_line_ctx *c, bs_time ts, bs_str user, const bs_ip *ip, bs_str message_id,
                bs_str list)
{
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_MAIL);
	if (!c->sl)
		ev.ts = ts;
	ev.src = *ip;
	ev.u.mail.sender = user;
	ev.u.mail.sasl_user = user;
	ev.u.mail.message_id = message_id.p ? message_id : BS_STR_LIT("");
	ev.u.mail.local_uid = -1;
	struct bs_line_rcpts r;
	bs_line_rcpts_init(&r, c, &ev);
	for (size_t i = 0; i < list.n;) {
		size_t j = i;
		while (j < list.n && list.p[j] != ',')
			j++;
		size_t a = i, b = j;
		while (a < b && list.p[a] == ' ')
			a++;
		while (b > a && list.p[b - 1] == ' ')
			b--;
		if (b > a)
			bs_line_rcpts_add(&r, bs_str_make(list.p + a, b - a), BS_STR_NULL);
		i = j + 1;
	}
	bs_line_rcpts_end(&r);
}

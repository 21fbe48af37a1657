/* courier.c - Courier-IMAP/POP3 logins and courieresmtpd errors (docs/DAEMONS.md).
 *
 *   imapd: LOGIN, user=u@x, ip=[::ffff:1.2.3.4], port=[123], protocol=IMAP   -> success
 *   pop3d: LOGIN FAILED, user=u@x, ip=[::ffff:1.2.3.4]                     -> failure
 *   imapd: LOGOUT, ... / DISCONNECTED, ... / TIMEOUT, ... / Connection, ...   -> ignored
 *   courieresmtpd: error,relay=::ffff:1.2.3.4,from=<a>,to=<b>: 550 ...      -> rejected mail
 *   courieresmtpd: error,relay=...,msg="535 Authentication failed.",cmd: AUTH PLAIN ... -> SMTP auth failure
 *
 * Courier and Cyrus both log as imapd/pop3d: bs_courier_shape() tells a
 * Courier message from a Cyrus one so that the text-log reader can pick.
 */
#include "config.h"
#include "parsers/logs/daemons.h"

#include <string.h>

static const char DAEMON[] = "courier";


static bs_str ci_rest(bs_str s, size_t k)
{
	return k <= s.n ? bs_str_make(s.p + k, s.n - k) : bs_str_make(s.p + s.n, 0);
}

bool bs_courier_prog(bs_str prog)
{
	return bs_str_eq(prog, "imapd") || bs_str_eq(prog, "pop3d") || bs_str_eq(prog, "imapd-ssl") ||
	       bs_str_eq(prog, "pop3d-ssl") || bs_str_eq(prog, "imaplogin") || bs_str_eq(prog, "pop3login") ||
	       bs_str_istarts(prog, "courier");
}

/* The three openings that carry an event. */
static const char OPEN_LOGIN[] = "LOGIN, ", OPEN_LOGIN_FAILED[] = "LOGIN FAILED, ",
		  OPEN_ERROR_RELAY[] = "error,relay=";

static bool courier_opens(bs_str msg, const char *opening)
{
	size_t n = strlen(opening);
	return msg.n >= n && memcmp(msg.p, opening, n) == 0;
}

/* Courier's imapd, pop3d and esmtpd open their messages with a word, a comma
 * and a "key=" field: "LOGIN, user=", "LOGOUT, user=", "TIMEOUT, ip=",
 * "Connection, ip=", "error,relay=", "started,ip=". Cyrus writes
 * "login: host [ip] ..." and UW-IMAP "Login user=...": neither has that shape. */
bool bs_courier_shape(bs_str msg)
{
	size_t i = 0;
	while (i < msg.n && ((msg.p[i] >= 'A' && msg.p[i] <= 'Z') || (msg.p[i] >= 'a' && msg.p[i] <= 'z') ||
			     msg.p[i] == ' '))
		i++;
	if (i == 0 || i >= msg.n || msg.p[i] != ',')
		return false;
	i += (i + 1 < msg.n && msg.p[i + 1] == ' ') ? 2 : 1;
	size_t key = i;
	while (i < msg.n && msg.p[i] >= 'a' && msg.p[i] <= 'z')
		i++;
	return i > key && i < msg.n && msg.p[i] == '=';
}

static enum bs_auth_proto courier_proto(bs_str protocol, bs_str prog)
{
	bs_str from = protocol.n ? protocol : prog;
	if (bs_memmem_ci(from.p, from.n, "pop3", 4))
		return BS_AUTH_POP3;
	if (bs_memmem_ci(from.p, from.n, "imap", 4))
		return BS_AUTH_IMAP;
	if (bs_memmem_ci(from.p, from.n, "smtp", 4))
		return BS_AUTH_SMTP;
	return BS_AUTH_OTHER;
}

/* The last ", key=" in s (or "key=" at its start): offset of the value, or SIZE_MAX. */
static size_t courier_last_key(bs_str s, const char *key)
{
	size_t kn = strlen(key), found = SIZE_MAX;
	if (s.n >= kn && memcmp(s.p, key, kn) == 0)
		found = kn;
	for (size_t i = 0; i + 2 + kn <= s.n; i++)
		if (s.p[i] == ',' && s.p[i + 1] == ' ' && memcmp(s.p + i + 2, key, kn) == 0)
			found = i + 2 + kn;
	return found;
}

/* "[value]" at s[at..]: the inside, or NULL string. */
static bs_str courier_bracketed(bs_str s, size_t at)
{
	if (at >= s.n || s.p[at] != '[')
		return BS_STR_NULL;
	const char *close = memchr(s.p + at, ']', s.n - at);
	return close ? bs_str_make(s.p + at + 1, (size_t)(close - s.p) - at - 1) : BS_STR_NULL;
}

static uint16_t courier_port(bs_str v)
{
	unsigned n = 0;
	if (v.n == 0 || v.n > 5)
		return 0;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return 0;
		n = n * 10 + (unsigned)(v.p[i] - '0');
	}
	return n <= 65535 ? (uint16_t)n : 0;
}

/* "LOGIN[ FAILED], [method=M, ]user=U, ip=[A], port=[P], protocol=X".
 * The user name is client-chosen and may hold ", ip=[": the address is the
 * last ip= field, and the user runs from user= up to it. */
static enum bs_verdict courier_login(const struct bs_line_ctx *c, bs_str fields, int success)
{
	size_t ip_at = courier_last_key(fields, "ip=");
	bs_str ip_text = ip_at == SIZE_MAX ? BS_STR_NULL : courier_bracketed(fields, ip_at);
	bs_ip src;
	if (!ip_text.p || !bs_ip_parse(ip_text.p, ip_text.n, &src)) {
		bs_line_debug(c, DAEMON, ip_at == SIZE_MAX ? "LOGIN without ip=" : "LOGIN with a bad ip=[...]");
		return BS_MALFORMED;
	}
	bs_str before_ip = bs_str_make(fields.p, ip_at - 3 >= 2 ? ip_at - 3 - 2 : 0);
	bs_str after_ip = ci_rest(fields, (size_t)(ip_text.p - fields.p) + ip_text.n + 1);

	bs_str user = BS_STR_NULL, method = BS_STR_NULL;
	size_t user_at = SIZE_MAX;
	if (bs_str_istarts(before_ip, "user="))
		user_at = 5;
	else {
		const char *u = bs_memmem_ci(before_ip.p, before_ip.n, ", user=", 7);
		if (u)
			user_at = (size_t)(u - before_ip.p) + 7;
	}
	if (user_at != SIZE_MAX)
		user = ci_rest(before_ip, user_at);
	if (bs_str_istarts(fields, "method=")) {
		const char *comma = memchr(fields.p, ',', fields.n);
		method = bs_str_make(fields.p + 7, comma ? (size_t)(comma - fields.p) - 7 : 0);
	}

	size_t port_at = courier_last_key(after_ip, "port=");
	size_t proto_at = courier_last_key(after_ip, "protocol=");
	bs_str protocol = BS_STR_NULL;
	if (proto_at != SIZE_MAX) {
		protocol = ci_rest(after_ip, proto_at);
		const char *comma = memchr(protocol.p, ',', protocol.n);
		if (comma)
			protocol.n = (size_t)(comma - protocol.p);
	}

	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_AUTH);
	ev.u.auth.proto = courier_proto(protocol, c->sl->prog);
	ev.u.auth.success = success;
	ev.u.auth.user = user;
	ev.u.auth.method = method;
	ev.src = src;
	if (port_at != SIZE_MAX)
		ev.sport = courier_port(courier_bracketed(after_ip, port_at));
	bs_emit(c->sink, &ev);
	return BS_PARSED;
}

/* courieresmtpd "error,relay=A,ident=I,from=<S>,to=<R>: 550 reason" and
 * "error,relay=A,port=P,msg=\"535 ...\",cmd: AUTH PLAIN ...". */
struct courier_smtp_error {
	bs_str relay, port, from, to, msg, cmd, reason;
	bool has_from, has_to;
};

static bool courier_smtp_fields(bs_str s, struct courier_smtp_error *e)
{
	size_t i = 6; /* after "error," */
	memset(e, 0, sizeof *e);
	while (i < s.n) {
		size_t k = i;
		while (k < s.n && s.p[k] >= 'a' && s.p[k] <= 'z')
			k++;
		if (k == i || k >= s.n)
			return false;
		bs_str key = bs_str_make(s.p + i, k - i);
		if (s.p[k] == ':') { /* "cmd: the command as the client sent it" */
			if (bs_str_eq(key, "cmd"))
				e->cmd = ci_rest(s, k + 2);
			return true;
		}
		if (s.p[k] != '=')
			return false;
		size_t v = k + 1, end;
		char closer = v < s.n && s.p[v] == '<' ? '>' : v < s.n && s.p[v] == '"' ? '"' : 0;
		if (closer) {
			const char *close = memchr(s.p + v + 1, closer, s.n - v - 1);
			if (!close)
				return false;
			end = (size_t)(close - s.p) + 1;
		} else {
			/* A plain value ends at ',' or ": " (an IPv6 address has bare ':'). */
			end = v;
			while (end < s.n && s.p[end] != ',' && !(s.p[end] == ':' && end + 1 < s.n && s.p[end + 1] == ' '))
				end++;
		}
		bs_str value = bs_str_make(s.p + v, end - v);
		bs_str inner = closer ? bs_str_make(value.p + 1, value.n - 2) : value;
		if (bs_str_eq(key, "relay"))
			e->relay = value;
		else if (bs_str_eq(key, "port"))
			e->port = value;
		else if (bs_str_eq(key, "from"))
			e->from = inner, e->has_from = true;
		else if (bs_str_eq(key, "to"))
			e->to = inner, e->has_to = true;
		else if (bs_str_eq(key, "msg"))
			e->msg = inner;
		if (end >= s.n)
			return true;
		if (s.p[end] == ':') {
			e->reason = ci_rest(s, end + 2);
			return true;
		}
		i = end + 1;
	}
	return true;
}

/* Address of "MAIL FROM:<a>" / "RCPT TO:<a>" in a client command. */
static bs_str courier_cmd_address(bs_str cmd, const char *verb)
{
	if (!bs_str_istarts(cmd, verb))
		return BS_STR_NULL;
	const char *lt = memchr(cmd.p, '<', cmd.n);
	const char *gt = lt ? memchr(lt, '>', cmd.n - (size_t)(lt - cmd.p)) : NULL;
	return gt ? bs_str_make(lt + 1, (size_t)(gt - lt) - 1) : BS_STR_NULL;
}

static enum bs_verdict courier_smtp_error(const struct bs_line_ctx *c, bs_str msg)
{
	struct courier_smtp_error e;
	bs_ip src;
	if (!courier_smtp_fields(msg, &e) || !bs_ip_parse(e.relay.p, e.relay.n, &src)) {
		bs_line_debug(c, DAEMON, "esmtpd error,relay= line without a client address");
		return BS_MALFORMED;
	}
	struct bs_event ev;
	bs_str mail_from = courier_cmd_address(e.cmd, "MAIL FROM:");
	bs_str rcpt_to = courier_cmd_address(e.cmd, "RCPT TO:");
	if (e.has_from || e.has_to || mail_from.p || rcpt_to.p) {
		static const bs_str rejected = BS_STR_LIT("rejected");
		bs_str rcpt = e.has_to ? e.to : rcpt_to;
		bs_line_event(c, &ev, BS_EV_MAIL);
		ev.u.mail.sender = e.has_from ? e.from : mail_from;
		ev.u.mail.rcpts = &rcpt;
		ev.u.mail.rcpt_status = &rejected;
		ev.u.mail.nrcpt = rcpt.p ? 1 : 0;
		ev.u.mail.local_uid = -1;
		ev.u.mail.rejected = true;
		ev.u.mail.reject_reason = e.reason.n ? e.reason : e.msg;
		ev.src = src;
		ev.sport = courier_port(e.port);
		bs_emit(c->sink, &ev);
		return BS_PARSED;
	}
	if (bs_str_istarts(e.cmd, "AUTH") || bs_str_istarts(e.msg, "535")) {
		/* Never the rest of the command: it is the client's credentials. */
		bs_str method = BS_STR_NULL;
		if (bs_str_istarts(e.cmd, "AUTH ")) {
			method = ci_rest(e.cmd, 5);
			const char *sp = memchr(method.p, ' ', method.n);
			if (sp)
				method.n = (size_t)(sp - method.p);
		}
		bs_line_event(c, &ev, BS_EV_AUTH);
		ev.u.auth.proto = BS_AUTH_SMTP;
		ev.u.auth.success = 0;
		ev.u.auth.method = method;
		ev.src = src;
		ev.sport = courier_port(e.port);
		bs_emit(c->sink, &ev);
		return BS_PARSED;
	}
	return BS_IGNORED; /* protocol errors: unknown command, syntax ... */
}

enum bs_verdict bs_courier_line(const struct bs_line_ctx *c)
{
	if (!c || !c->sl)
		return BS_IGNORED;
	bs_str msg = c->sl->msg;
	if (courier_opens(msg, OPEN_LOGIN))
		return courier_login(c, ci_rest(msg, sizeof OPEN_LOGIN - 1), 1);
	if (courier_opens(msg, OPEN_LOGIN_FAILED))
		return courier_login(c, ci_rest(msg, sizeof OPEN_LOGIN_FAILED - 1), 0);
	if (courier_opens(msg, OPEN_ERROR_RELAY))
		return courier_smtp_error(c, msg);
	/* Logouts, timeouts, connections, TLS noise; and lines of another
	 * daemon under the same name (a Cyrus or UW imapd) that the text-log
	 * reader sent here anyway. */
	return BS_IGNORED;
}

static enum bs_verdict courier_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state, (void)text, (void)tz;
	return bs_courier_line(c);
}

const struct bs_daemon_def bs_daemon_courier = { .name = "courier", .prog = bs_courier_prog, .shape = bs_courier_shape, .line = courier_line };

/* dovecot.c - Dovecot login-process and auth-process lines (docs/DAEMONS.md).
 *
 * Dovecot logs through syslog as "dovecot" with the service in the message
 * ("imap-login: Login: user=<u>, method=PLAIN, rip=..., lip=..."), or, from
 * its own log files and some setups, with the service as the program name.
 * Two kinds of lines matter:
 *   - login processes (*-login): "Login: user=<..>, ..." is a success; a
 *     disconnect whose reason says "auth failed" or "tried to use disallowed
 *     plaintext auth" is a failure. Other disconnects (no auth attempts, TLS
 *     handshake errors) carry no login and are ignored.
 *   - the auth process: "DRIVER(user,ip[,<session>]): unknown user",
 *     "Password mismatch", "pam_authenticate() failed" and pam_unix's
 *     "authentication failure; ... rhost=" are failures.
 * Mail processes (imap(user): Logged out, lmtp deliveries) are ignored: the
 * MTA's own lines carry the delivery with its sender.
 *
 * Everything is borrowed from the line: no allocation, no copy.
 */
#include "config.h"
#include "parsers/logs/daemons.h"

#include <string.h>

static const char DAEMON[] = "dovecot";

/* Position of lit in s at or after from, or SIZE_MAX. */
static size_t dc_find(bs_str s, size_t from, const char *lit)
{
	size_t n = strlen(lit);
	if (from > s.n)
		return SIZE_MAX;
	const char *hit = memmem(s.p + from, s.n - from, lit, n);
	return hit ? (size_t)(hit - s.p) : SIZE_MAX;
}

/* Position of the last occurrence of lit in s[0..limit), or SIZE_MAX. */
static size_t dc_rfind(bs_str s, size_t limit, const char *lit)
{
	size_t n = strlen(lit);
	if (limit > s.n)
		limit = s.n;
	if (n == 0 || n > limit)
		return n == 0 ? limit : SIZE_MAX;
	/* backwards from the end: the first hit is the last occurrence */
	for (size_t end = limit - n + 1; end > 0;) {
		const char *c = memrchr(s.p, lit[0], end);
		if (!c)
			break;
		size_t at = (size_t)(c - s.p);
		if (memcmp(s.p + at, lit, n) == 0)
			return at;
		end = at;
	}
	return SIZE_MAX;
}

static bs_str dc_sub(bs_str s, size_t from, size_t to)
{
	if (from > s.n)
		from = s.n;
	if (to > s.n || to < from)
		to = s.n;
	return bs_str_make(s.p + from, to - from);
}

static bool dc_starts(bs_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static bool dc_is_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_';
}

/* Leading "Info: ", "Warning: " ... of Dovecot's log levels. */
static bs_str dc_skip_level(bs_str s)
{
	static const char *const levels[] = { "Info: ", "Warning: ", "Error: ", "Fatal: ", "Panic: ",
					      "Debug: " };
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (dc_starts(s, levels[i]))
			return dc_sub(s, strlen(levels[i]), s.n);
	return s;
}

static bool dc_name_in(bs_str name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bs_str_eq(name, list[i]))
			return true;
	return false;
}

static bool dc_ends_with(bs_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n >= n && memcmp(s.p + s.n - n, lit, n) == 0;
}

/* Program names Dovecot writes under. Its mail processes ("imap", "pop3",
 * "lmtp" ...) are claimed only in Dovecot's own "imap(user)" form: a bare
 * "imap" or "pop3" is Cyrus's. */
bool bs_dovecot_prog(bs_str prog)
{
	static const char *const names[] = { "dovecot", "dovecot-auth", "dovecot-lda", "auth", "auth-worker",
					     "indexer-worker" };
	static const char *const mail_processes[] = { "imap", "pop3", "lmtp", "submission", "managesieve", "lda" };
	size_t paren = dc_find(prog, 0, "(");
	bs_str base = dc_sub(prog, 0, paren);
	return dc_name_in(base, names, sizeof names / sizeof names[0]) ||
	       (paren != SIZE_MAX && dc_name_in(base, mail_processes, sizeof mail_processes / sizeof mail_processes[0])) ||
	       (base.n > 6 && dc_ends_with(base, "-login"));
}

/* The service of a line: its name, the "(...)" arguments that follow it, and
 * the text after "name(args)<id>: ". */
struct dc_service {
	bs_str name, args, text;
};

/* Split "imap-login: text" or "auth(user,ip,sasl:login)<id>: text".
 * Returns false when s does not start with a service prefix. */
static bool dc_split_service(bs_str s, struct dc_service *out)
{
	size_t i = 0;
	while (i < s.n && dc_is_name_char(s.p[i]))
		i++;
	if (i == 0 || i >= s.n)
		return false;
	out->name = dc_sub(s, 0, i);
	out->args = BS_STR_NULL;
	if (s.p[i] == '(') {
		/* The arguments end at the first ')' that is followed by ':' or
		 * '<' (a user name may hold a ')' of its own). */
		size_t j = i + 1;
		while (j < s.n && !(s.p[j] == ')' && j + 1 < s.n && (s.p[j + 1] == ':' || s.p[j + 1] == '<')))
			j++;
		if (j >= s.n)
			return false;
		out->args = dc_sub(s, i + 1, j);
		i = j + 1;
		if (i < s.n && s.p[i] == '<') {
			size_t close = dc_find(s, i, ">");
			if (close == SIZE_MAX)
				return false;
			i = close + 1;
		}
	}
	if (i + 1 >= s.n || s.p[i] != ':' || s.p[i + 1] != ' ')
		return false;
	out->text = dc_sub(s, i + 2, s.n);
	return true;
}

static enum bs_auth_proto dc_proto_of(bs_str service)
{
	if (bs_str_istarts(service, "imap"))
		return BS_AUTH_IMAP;
	if (bs_str_istarts(service, "pop3"))
		return BS_AUTH_POP3;
	if (bs_str_istarts(service, "submission") || bs_str_istarts(service, "lmtp") ||
	    bs_str_istarts(service, "smtp"))
		return BS_AUTH_SMTP;
	return BS_AUTH_OTHER;
}

static void dc_emit_auth(const struct bs_line_ctx *c, enum bs_auth_proto proto, int success, bs_str user,
			 bs_str method, bs_str session, const bs_ip *src, const bs_ip *dst, uint16_t sport,
			 uint16_t dport)
{
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_AUTH);
	ev.u.auth.proto = proto;
	ev.u.auth.success = success;
	ev.u.auth.user = user;
	ev.u.auth.method = method;
	ev.u.auth.session = session;
	if (src)
		ev.src = *src;
	if (dst)
		ev.dst = *dst;
	ev.sport = sport;
	ev.dport = dport;
	bs_emit(c->sink, &ev);
}

/* ---------------------------------------------------------- login processes */

/* The "key=value, ..." list of a login line starts at the first "user=<",
 * "method=", "rip=" or "lip=" found at the start or after ": ". The reason
 * before it is server text; the user name inside it is not. */
static size_t dc_kv_start(bs_str text)
{
	static const char *const keys[] = { "user=<", "method=", "rip=", "lip=" };
	for (size_t k = 0;;) {
		bs_str rest = dc_sub(text, k, text.n);
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (dc_starts(rest, keys[i]))
				return k;
		size_t sep = dc_find(text, k, ": ");
		if (sep == SIZE_MAX)
			return SIZE_MAX;
		k = sep + 2;
	}
}

/* The keys of a login line's list that are read. */
enum dc_key { DK_METHOD, DK_RIP, DK_LIP, DK_SESSION, DK_RPORT, DK_LPORT, DK_N };
static const struct {
	const char *name;
	size_t n;
} dc_keys[DK_N] = { { "method", 6 }, { "rip", 3 }, { "lip", 3 }, { "session", 7 }, { "rport", 5 }, { "lport", 5 } };

/* Does s start with "key="? */
static bool dc_key_at(bs_str s, int k)
{
	size_t kn = dc_keys[k].n;
	return s.n > kn && s.p[0] == dc_keys[k].name[0] && s.p[kn] == '=' && memcmp(s.p, dc_keys[k].name, kn) == 0;
}

/* For each key: where its last ", key=" is (sep) and where its value
 * starts (val), SIZE_MAX when absent. The last occurrence, so that a forged
 * ", rip=" inside a user name is overridden by the real field after it;
 * "key=" at the very start when there is no ", key=". One pass over the
 * list's commas (a search backwards per key was a tenth of a line). */
struct dc_kv_index {
	size_t sep[DK_N], val[DK_N];
};

static void dc_kv_index(bs_str kv, struct dc_kv_index *ix)
{
	for (int k = 0; k < DK_N; k++)
		ix->sep[k] = ix->val[k] = SIZE_MAX;
	const char *end = kv.p + kv.n;
	for (const char *p = kv.p; p < end && (p = memchr(p, ',', (size_t)(end - p))) != NULL; p++) {
		if (end - p < 2 || p[1] != ' ')
			continue;
		bs_str rest = bs_str_make(p + 2, (size_t)(end - p - 2));
		for (int k = 0; k < DK_N; k++)
			if (dc_key_at(rest, k)) {
				ix->sep[k] = (size_t)(p - kv.p);
				ix->val[k] = ix->sep[k] + 3 + dc_keys[k].n;
				break;
			}
	}
	for (int k = 0; k < DK_N; k++)
		if (ix->sep[k] == SIZE_MAX && dc_key_at(kv, k))
			ix->val[k] = dc_keys[k].n + 1;
}

/* The value of a key: up to the next ',' (values hold none but the user's). */
static bs_str dc_kv(bs_str kv, const struct dc_kv_index *ix, enum dc_key key)
{
	size_t at = ix->val[key];
	if (at == SIZE_MAX)
		return BS_STR_NULL;
	const char *comma = at < kv.n ? memchr(kv.p + at, ',', kv.n - at) : NULL;
	return dc_sub(kv, at, comma ? (size_t)(comma - kv.p) : SIZE_MAX);
}

/* Key positions after which the user name cannot extend. */
static size_t dc_user_limit(bs_str kv, const struct dc_kv_index *ix)
{
	static const enum dc_key after_user[] = { DK_METHOD, DK_RIP, DK_LIP };
	size_t limit = kv.n;
	for (size_t i = 0; i < sizeof after_user / sizeof after_user[0]; i++)
		if (ix->sep[after_user[i]] < limit)
			limit = ix->sep[after_user[i]];
	return limit;
}

static uint16_t dc_port(bs_str v)
{
	unsigned long n = 0;
	if (v.n == 0 || v.n > 5)
		return 0;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return 0;
		n = n * 10 + (unsigned long)(v.p[i] - '0');
	}
	return n <= 65535 ? (uint16_t)n : 0;
}

static enum bs_verdict dc_login_line(const struct bs_line_ctx *c, bs_str service, bs_str text)
{
	size_t k = dc_kv_start(text);
	if (k == SIZE_MAX) {
		/* "Login: " cut before its fields is damage; any other
		 * login-process line without fields carries nothing. */
		if (dc_starts(text, "Login:")) {
			bs_line_debug(c, DAEMON, "Login without user=/rip= fields");
			return BS_MALFORMED;
		}
		return BS_IGNORED;
	}
	bs_str reason = dc_sub(text, 0, k >= 2 ? k - 2 : 0);
	bs_str kv = dc_sub(text, k, text.n);
	struct dc_kv_index ix;
	dc_kv_index(kv, &ix);
	bs_str user = BS_STR_NULL;
	if (dc_starts(kv, "user=<")) {
		size_t limit = dc_user_limit(kv, &ix), close = SIZE_MAX;
		for (size_t i = 6; i < limit; i++)
			if (kv.p[i] == '>')
				close = i;
		if (close == SIZE_MAX) {
			bs_line_debug(c, DAEMON, "user=< without its closing >");
			return BS_MALFORMED;
		}
		user = dc_sub(kv, 6, close);
	}
	int success;
	if (bs_str_eq(reason, "Login"))
		success = 1;
	else if (bs_memmem_ci(reason.p, reason.n, "auth failed", 11) ||
		 bs_memmem_ci(reason.p, reason.n, "tried to use disabled", 21) ||
		 bs_memmem_ci(reason.p, reason.n, "tried to use disallowed", 23))
		success = 0;
	else if (dc_starts(reason, "Aborted login") && user.n &&
		 !bs_memmem_ci(reason.p, reason.n, "no auth attempts", 16))
		success = 0; /* Dovecot 1.x: a user was tried and the client gave up */
	else
		return BS_IGNORED; /* no auth attempts, TLS handshake failures ... */
	bs_str rip = dc_kv(kv, &ix, DK_RIP);
	bs_ip src, dst;
	if (!bs_ip_parse(rip.p, rip.n, &src)) {
		bs_line_debug(c, DAEMON, rip.n ? "rip= is not an address" : "login line without rip=");
		return BS_MALFORMED;
	}
	bs_str lip = dc_kv(kv, &ix, DK_LIP);
	if (!bs_ip_parse(lip.p, lip.n, &dst))
		memset(&dst, 0, sizeof dst);
	bs_str session = BS_STR_NULL;
	size_t spos = ix.val[DK_SESSION];
	bs_str sval = dc_kv(kv, &ix, DK_SESSION);
	if (sval.n >= 2 && sval.p[0] == '<') {
		size_t close = dc_find(kv, spos, ">");
		if (close != SIZE_MAX)
			session = dc_sub(kv, spos + 1, close);
	}
	dc_emit_auth(c, dc_proto_of(service), success, user, dc_kv(kv, &ix, DK_METHOD), session, &src,
		     &dst, dc_port(dc_kv(kv, &ix, DK_RPORT)), dc_port(dc_kv(kv, &ix, DK_LPORT)));
	return BS_PARSED;
}

/* ------------------------------------------------------------- auth process */

static bool dc_is_auth_failure(bs_str result)
{
	static const char *const failures[] = { "unknown user", "password mismatch", "authenticate() failed",
						"invalid credentials", "authentication failure" };
	for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++)
		if (bs_memmem_ci(result.p, result.n, failures[i], strlen(failures[i])))
			return true;
	return false;
}

/* "user,ip[,<session>|,sasl:mech|,]": the address is the last field that
 * parses as one with at most one field after it; the user is all before it
 * (user names may hold commas). Without an address, the user is the first
 * field. */
static void dc_split_user_ip(bs_str args, bs_str *user, bs_ip *ip)
{
	size_t end = args.n, fields_after = 0;
	memset(ip, 0, sizeof *ip);
	while (fields_after < 2) {
		size_t comma = SIZE_MAX;
		for (size_t i = end; i > 0; i--)
			if (args.p[i - 1] == ',') {
				comma = i - 1;
				break;
			}
		if (comma == SIZE_MAX)
			break;
		if (bs_ip_parse(args.p + comma + 1, end - comma - 1, ip)) {
			*user = dc_sub(args, 0, comma);
			return;
		}
		end = comma;
		fields_after++;
	}
	*user = dc_sub(args, 0, dc_find(args, 0, ","));
}

/* pam_unix(dovecot:auth): authentication failure; logname= uid=0 ... rhost=1.2.3.4 user=u */
static enum bs_verdict dc_pam_unix(const struct bs_line_ctx *c, bs_str text)
{
	size_t colon = dc_find(text, 0, ":");
	size_t close = dc_find(text, 0, "): ");
	if (close == SIZE_MAX || colon == SIZE_MAX || colon > close) {
		bs_line_debug(c, DAEMON, "pam_unix( without its service");
		return BS_MALFORMED;
	}
	bs_str pam_service = dc_sub(text, 9, colon);
	bs_str what = dc_sub(text, close + 3, text.n);
	if (!dc_starts(what, "authentication failure;"))
		return BS_IGNORED; /* "check pass; user unknown" precedes the failure line */
	bs_str rhost = BS_STR_NULL, user = BS_STR_NULL, ruser = BS_STR_NULL;
	for (size_t i = 0; i < what.n;) {
		while (i < what.n && what.p[i] == ' ')
			i++;
		size_t j = i;
		while (j < what.n && what.p[j] != ' ')
			j++;
		bs_str tok = dc_sub(what, i, j);
		/* The last rhost= wins: ruser= is client-chosen and comes first. */
		if (dc_starts(tok, "rhost="))
			rhost = dc_sub(tok, 6, tok.n);
		else if (dc_starts(tok, "user="))
			user = dc_sub(tok, 5, tok.n);
		else if (dc_starts(tok, "ruser="))
			ruser = dc_sub(tok, 6, tok.n);
		i = j;
	}
	bs_ip src;
	if (!bs_ip_parse(rhost.p, rhost.n, &src))
		memset(&src, 0, sizeof src); /* local or named host: a failure all the same */
	/* Dovecot sets PAM_RUSER to the login name: the fallback when user= is absent. */
	dc_emit_auth(c, dc_proto_of(pam_service), 0, user.n ? user : ruser, BS_STR_NULL, BS_STR_NULL,
		     src.family ? &src : NULL, NULL, 0, 0);
	return BS_PARSED;
}

static enum bs_verdict dc_auth_line(const struct bs_line_ctx *c, const struct dc_service *svc)
{
	bs_str text = dc_skip_level(svc->text);
	/* "conn unix:auth-worker (pid=1,uid=2): auth-worker<6>: pam(...)" */
	if (dc_starts(text, "conn ")) {
		size_t close = dc_find(text, 0, "): ");
		if (close == SIZE_MAX)
			return BS_IGNORED;
		text = dc_sub(text, close + 3, text.n);
		if (dc_starts(text, "auth-worker<")) {
			size_t gt = dc_find(text, 0, ">: ");
			if (gt == SIZE_MAX)
				return BS_IGNORED;
			text = dc_sub(text, gt + 3, text.n);
		}
		text = dc_skip_level(text);
	}
	if (dc_starts(text, "pam_unix("))
		return dc_pam_unix(c, text);

	bs_str user = BS_STR_NULL;
	bs_ip ip;
	size_t name_end = 0;
	while (name_end < text.n && dc_is_name_char(text.p[name_end]))
		name_end++;
	if (name_end > 0 && name_end < text.n && text.p[name_end] == '(') {
		/* passdb/userdb driver: "pam(user,ip): result" */
		size_t close = dc_find(text, name_end, "): ");
		if (close == SIZE_MAX) {
			bs_line_debug(c, DAEMON, "auth driver( without its closing ): ");
			return BS_MALFORMED;
		}
		bs_str result = dc_sub(text, close + 3, text.n);
		if (!dc_is_auth_failure(result))
			return BS_IGNORED;
		dc_split_user_ip(dc_sub(text, name_end + 1, close), &user, &ip);
	} else if (svc->args.n && dc_is_auth_failure(text)) {
		/* Dovecot 2.4: "auth(user,ip,sasl:login)<id>: Info: sql: Password mismatch" */
		dc_split_user_ip(svc->args, &user, &ip);
		if (!ip.family)
			return BS_IGNORED;
	} else {
		return BS_IGNORED;
	}
	dc_emit_auth(c, BS_AUTH_OTHER, 0, user, BS_STR_NULL, BS_STR_NULL, ip.family ? &ip : NULL, NULL, 0, 0);
	return BS_PARSED;
}

/* ------------------------------------------------------------------ the line */

enum bs_verdict bs_dovecot_line(const struct bs_line_ctx *c)
{
	if (!c || !c->sl)
		return BS_IGNORED;
	bs_str msg = c->sl->msg;
	struct dc_service svc;
	size_t paren = dc_find(c->sl->prog, 0, "(");
	bs_str prog_base = dc_sub(c->sl->prog, 0, paren);

	if (bs_str_eq(prog_base, "dovecot")) {
		/* Dovecot 1.x repeated its ident: "dovecot: auth(default): ..." */
		if (dc_starts(msg, "dovecot: "))
			msg = dc_sub(msg, 9, msg.n);
		if (!dc_split_service(msg, &svc))
			return BS_IGNORED; /* master process: start-up, signals ... */
	} else {
		svc.name = bs_str_eq(prog_base, "dovecot-auth") ? BS_STR_LIT("auth") : prog_base;
		/* "auth-worker(80180)", "auth(user,ip,sasl:login)<id>" */
		size_t close = dc_rfind(c->sl->prog, c->sl->prog.n, ")");
		svc.args = paren == SIZE_MAX ? BS_STR_NULL : dc_sub(c->sl->prog, paren + 1, close);
		svc.text = msg;
		/* Some setups still log the service again in the message. */
		struct dc_service inner;
		if (dc_split_service(msg, &inner) && bs_str_eq(inner.name, "auth") && bs_str_eq(svc.name, "auth"))
			svc = inner;
	}

	if (svc.name.n > 6 && dc_ends_with(svc.name, "-login"))
		return dc_login_line(c, svc.name, dc_skip_level(svc.text));
	if (bs_str_eq(svc.name, "auth") || bs_str_eq(svc.name, "auth-worker"))
		return dc_auth_line(c, &svc);
	return BS_IGNORED; /* mail processes: logouts, deliveries, quota ... */
}

static enum bs_verdict dovecot_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state, (void)text, (void)tz;
	return bs_dovecot_line(c);
}

const struct bs_daemon_def bs_daemon_dovecot = { .name = "dovecot", .prog = bs_dovecot_prog, .shape = NULL, .line = dovecot_line };

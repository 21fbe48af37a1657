/* sudo.c - sudo's own log lines (docs/DAEMONS.md).
 *
 *   sudo:    admin : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/rm /var/www/html/x.php
 *   sudo:      bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/ls
 *   sudo:      bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/ls
 *   sudo: pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=bob
 * become one BS_EV_ADMIN each: run (success 1) when the list after "USER :"
 * holds only KEY=VALUE items, refused (success 0, the first item as the
 * reason) otherwise; the PAM failure is refused with its logname (else
 * ruser, else user). COMMAND= is the last item and keeps any " ; " of its
 * own. PAM session lines ("session opened for user root by admin") and
 * other messages of sudo ("unable to resolve host") are ignored.
 */
#include "config.h"
#include "parsers/logs/daemons.h"

#include <stddef.h>
#include <string.h>

static const char DAEMON[] = "sudo";

static bool sudo_prog(bs_str prog) { return bs_str_eq(prog, "sudo"); }

static bs_str sudo_trim(bs_str s)
{
	while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
		s.p++, s.n--;
	while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r'))
		s.n--;
	return s;
}

/* The value of KEY=VALUE in a PAM message ("logname=bob uid=1000 ..."):
 * up to the next blank; empty when absent. */
static bs_str pam_value(bs_str msg, const char *key)
{
	size_t k = strlen(key);
	for (size_t i = 0; i + k <= msg.n; i++) {
		if ((i && msg.p[i - 1] != ' ') || memcmp(msg.p + i, key, k) != 0)
			continue;
		size_t e = i + k;
		while (e < msg.n && msg.p[e] != ' ')
			e++;
		return bs_str_make(msg.p + i + k, e - i - k);
	}
	return bs_str_make("", 0);
}

static enum bs_verdict sudo_pam(const struct bs_line_ctx *c, bs_str msg)
{
	static const char tag[] = "pam_unix(sudo:auth): authentication failure";
	if (msg.n < sizeof tag - 1 || memcmp(msg.p, tag, sizeof tag - 1) != 0)
		return BS_IGNORED; /* sessions opened and closed, other PAM lines */
	bs_str user = pam_value(msg, "logname=");
	if (!user.n)
		user = pam_value(msg, "ruser=");
	if (!user.n)
		user = pam_value(msg, "user=");
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_ADMIN);
	ev.u.admin.user = user;
	ev.u.admin.success = 0;
	ev.u.admin.reason = BS_STR_LIT("authentication failure");
	bs_emit(c->sink, &ev);
	return BS_PARSED;
}

/* One " ; "-separated item of the command list into the event. */
static void sudo_item(struct bs_ev_admin *a, bs_str item, bool first)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "TTY=", offsetof(struct bs_ev_admin, tty) }, { "PWD=", offsetof(struct bs_ev_admin, pwd) },
		{ "USER=", offsetof(struct bs_ev_admin, run_as) },
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		size_t k = strlen(keys[i].key);
		if (item.n >= k && memcmp(item.p, keys[i].key, k) == 0) {
			*(bs_str *)((char *)a + keys[i].off) = bs_str_make(item.p + k, item.n - k);
			return;
		}
	}
	if (first && !memchr(item.p, '=', item.n)) {
		a->reason = item;  /* "user NOT in sudoers", "3 incorrect password attempts" */
		a->success = 0;
	}
	/* other KEY=VALUE items (ENV=, GROUP=, TSID=) carry nothing the engine uses */
}

enum bs_verdict bs_sudo_line(const struct bs_line_ctx *c)
{
	if (!c || !c->sl)
		return BS_IGNORED;
	bs_str msg = sudo_trim(c->sl->msg);
	if (msg.n >= 2 && msg.p[0] == ':' && msg.p[1] == ' ') {
		bs_line_debug(c, DAEMON, "a \": ...\" line without the user");
		return BS_MALFORMED;
	}
	const char *sep = memmem(msg.p, msg.n, " : ", 3);
	if (!sep)
		return sudo_pam(c, msg);
	bs_str user = sudo_trim(bs_str_make(msg.p, (size_t)(sep - msg.p)));
	bs_str rest = bs_str_make(sep + 3, msg.n - (size_t)(sep - msg.p) - 3);
	const char *cmd = memmem(rest.p, rest.n, "COMMAND=", 8);
	if (!user.n || memchr(user.p, ' ', user.n) || !cmd) {
		bs_line_debug(c, DAEMON, "a \"USER : ...\" line without a user or a COMMAND=");
		return BS_MALFORMED;
	}
	struct bs_event ev;
	bs_line_event(c, &ev, BS_EV_ADMIN);
	struct bs_ev_admin *a = &ev.u.admin;
	a->user = user;
	a->success = 1;
	a->command = sudo_trim(bs_str_make(cmd + 8, rest.n - (size_t)(cmd + 8 - rest.p)));
	bs_str list = bs_str_make(rest.p, (size_t)(cmd - rest.p));
	for (bool first = true; list.n; first = false) {
		const char *semi = memchr(list.p, ';', list.n);
		size_t n = semi ? (size_t)(semi - list.p) : list.n;
		bs_str item = sudo_trim(bs_str_make(list.p, n));
		if (item.n)
			sudo_item(a, item, first);
		list = semi ? bs_str_make(semi + 1, list.n - n - 1) : bs_str_make("", 0);
	}
	bs_emit(c->sink, &ev);
	return BS_PARSED;
}

static enum bs_verdict sudo_line(void *state, const struct bs_line_ctx *c, bs_str text, struct bs_tz *tz)
{
	(void)state, (void)text, (void)tz;
	return bs_sudo_line(c);
}

const struct bs_daemon_def bs_daemon_sudo = { .name = "sudo", .prog = sudo_prog, .shape = NULL, .line = sudo_line };

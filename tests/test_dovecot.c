/* test_dovecot.c - Dovecot: what is not a case of events (the login and auth
 * lines are tests/cases/dovecot, every cut of them checked there, as for
 * Courier, Cyrus, amavis and spamd): a NUL and 1 MB in the user name, the
 * programs claimed; and with --corpus DIR (make check-corpus) the pass over
 * DIR/maillog, which checks every cut of every line and fail2ban's own
 * annotations: every line fail2ban calls a failure from host H must give an
 * event from H. */
#include "config.h"
#include "parsers/logs/daemons.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Not in daemons.h yet: the dispatcher's shape tests (courier.c, cyrus.c). */
bool bs_courier_shape(bs_str msg);
bool bs_cyrus_shape(bs_str msg);

#define GOT_MAX 4
static size_t ngot;
static bs_str last_user;

/* Only what test_ugly looks at: how many events, the last user name. */
static void record(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	ngot++;
	if (ev->type == BS_EV_AUTH)
		last_user = ev->u.auth.user;
}

static const struct bs_sink sink = { record, NULL };

static enum bs_verdict feed_n(const char *prog, const char *msg, size_t n)
{
	struct bs_syslog sl;
	memset(&sl, 0, sizeof sl);
	sl.host = BS_STR_LIT("mail1");
	sl.prog = bs_str_make(prog, strlen(prog));
	sl.msg = bs_str_make(msg, n);
	struct bs_line_ctx c = { &sl, &sink, 0, 42, NULL };
	ngot = 0;
	return bs_dovecot_line(&c);
}

/* ------------------------------------- every cut, every daemon (corpus) */

typedef enum bs_verdict (*line_parser)(const struct bs_line_ctx *c);

static void count_event(void *ctx, const struct bs_event *ev)
{
	(void)ev;
	++*(size_t *)ctx;
}

/* Feeds every cut of msg (lengths 0..n) to parse, each copied to a buffer
 * of exactly that size so that AddressSanitizer sees any read past the
 * line. Returns how many cuts broke "one event exactly when parsed". */
static size_t cut_mismatches(line_parser parse, const char *prog, const char *msg, size_t n)
{
	size_t events, mismatches = 0;
	struct bs_sink counter = { count_event, &events };
	for (size_t k = 0; k <= n; k++) {
		char *cut = malloc(k ? k : 1);
		memcpy(cut, msg, k);
		struct bs_syslog sl = { .prog = bs_str_make(prog, strlen(prog)), .msg = bs_str_make(cut, k) };
		struct bs_line_ctx c = { .sl = &sl, .sink = &counter, .lineno = 1 };
		events = 0;
		enum bs_verdict v = parse(&c);
		mismatches += (v == BS_PARSED) != (events == 1);
		free(cut);
	}
	return mismatches;
}

static void test_ugly(void)
{
	static const char nul_user[] = "imap-login: Login: user=<a\0b>, method=PLAIN, rip=10.0.0.1, lip=10.0.0.2";
	is_int(feed_n("dovecot", nul_user, sizeof nul_user - 1), BS_PARSED, "NUL inside the user name");
	is_int(last_user.n, 3, "user keeps its NUL byte");

	const char *head = "imap-login: Disconnected (auth failed, 1 attempts): user=<";
	const char *tailp = ">, method=PLAIN, rip=10.9.8.7, lip=10.9.8.1";
	size_t big = 1 << 20, hn = strlen(head), tn = strlen(tailp);
	char *line = malloc(hn + big + tn);
	memcpy(line, head, hn);
	memset(line + hn, 'A', big);
	memcpy(line + hn + big, tailp, tn);
	is_int(feed_n("dovecot", line, hn + big + tn), BS_PARSED, "1 MB user name");
	is_int(last_user.n, big, "1 MB user name kept whole");
	memset(line, ':', hn + big + tn); /* separators only */
	ok(feed_n("dovecot", line, hn + big + tn) != BS_PARSED, "1 MB of colons is not a login");
	memset(line, 0xff, hn + big + tn);
	ok(feed_n("dovecot", line, hn + big + tn) == BS_IGNORED, "1 MB of invalid UTF-8 is ignored");
	free(line);
	is_int(feed_n("dovecot", "", 0), BS_IGNORED, "empty message");

	ok(bs_dovecot_prog(BS_STR_LIT("dovecot")), "prog dovecot");
	ok(bs_dovecot_prog(BS_STR_LIT("imap-login")), "prog imap-login");
	ok(bs_dovecot_prog(BS_STR_LIT("auth-worker(22401)")), "prog auth-worker(pid)");
	ok(!bs_dovecot_prog(BS_STR_LIT("-login")), "prog -login alone is not Dovecot");
	ok(bs_dovecot_prog(BS_STR_LIT("imap(u@example.net)")), "prog imap(user) is Dovecot's mail process");
	ok(!bs_dovecot_prog(BS_STR_LIT("imap")), "bare prog imap is left to Cyrus");
	ok(!bs_dovecot_prog(BS_STR_LIT("pop3")), "bare prog pop3 is left to Cyrus");
	ok(!bs_dovecot_prog(BS_STR_LIT("postfix/smtpd")), "prog postfix/smtpd is not Dovecot");
}

/* ------------------------------------------------------------- corpus pass */

/* A minimal syslog splitter for the corpus files (the real framing is
 * syslog.c's): "Mon dd hh:mm:ss [host ]prog[pid]: msg", also with an ISO
 * 8601 stamp or "yyyy-mm-dd hh:mm:ss". Returns false for anything else. */
static bool split_line(const char *line, size_t n, struct bs_syslog *sl)
{
	size_t i = 0, fields = 0;
	memset(sl, 0, sizeof *sl);
	if (n > 4 && line[0] >= '0' && line[0] <= '9' && line[4] == '-') {
		fields = (n > 13 && line[10] == ' ') ? 2 : 1;
	} else if (n > 3 && bs_month_from_abbr(line)) {
		fields = 3;
	} else {
		return false;
	}
	for (size_t f = 0; f < fields; f++) {
		while (i < n && line[i] == ' ')
			i++;
		while (i < n && line[i] != ' ')
			i++;
	}
	const char *tok[2];
	size_t tlen[2], ntok = 0;
	while (ntok < 2) {
		while (i < n && line[i] == ' ')
			i++;
		tok[ntok] = line + i;
		while (i < n && line[i] != ' ')
			i++;
		tlen[ntok] = (size_t)(line + i - tok[ntok]);
		if (tlen[ntok] == 0)
			return false;
		if (tok[ntok][tlen[ntok] - 1] == ':')
			break;
		ntok++;
	}
	if (ntok == 2)
		return false;
	sl->host = ntok == 1 ? bs_str_make(tok[0], tlen[0]) : BS_STR_LIT("");
	bs_str prog = bs_str_make(tok[ntok], tlen[ntok] - 1);
	const char *lb = memchr(prog.p, '[', prog.n);
	if (lb && prog.p[prog.n - 1] == ']') {
		sl->pid = bs_str_make(lb + 1, prog.n - (size_t)(lb - prog.p) - 2);
		prog.n = (size_t)(lb - prog.p);
	}
	sl->prog = sl->prog_base = sl->service = prog;
	if (i < n && line[i] == ' ')
		i++;
	sl->msg = bs_str_make(line + i, n - i);
	return true;
}

enum { P_DOVECOT, P_COURIER, P_CYRUS, P_AMAVIS, P_SPAMD, P_NONE };
static const char *const parser_names[] = { "dovecot", "courier", "cyrus", "amavis", "spamd", "other" };

/* What the dispatcher is asked to do: Courier-shaped messages to Courier,
 * Cyrus-shaped ones to Cyrus, then by program name. */
static int pick_parser(const struct bs_syslog *sl)
{
	if (bs_courier_prog(sl->prog) && bs_courier_shape(sl->msg))
		return P_COURIER;
	if (bs_cyrus_prog(sl->prog) && (bs_cyrus_shape(sl->msg) || !bs_dovecot_prog(sl->prog)))
		return P_CYRUS;
	if (bs_dovecot_prog(sl->prog))
		return P_DOVECOT;
	if (bs_amavis_prog(sl->prog))
		return P_AMAVIS;
	if (bs_spamd_prog(sl->prog))
		return P_SPAMD;
	if (bs_courier_prog(sl->prog))
		return P_COURIER;
	return P_NONE;
}

static const line_parser parsers[] = { bs_dovecot_line, bs_courier_line, bs_cyrus_line, bs_amavis_line,
					bs_spamd_line };

/* The program name as a C string for cut_mismatches. */
static const char *prog_copy(const struct bs_syslog *sl)
{
	static char prog[128];
	size_t n = sl->prog.n < sizeof prog - 1 ? sl->prog.n : sizeof prog - 1;
	memcpy(prog, sl->prog.p, n);
	prog[n] = 0;
	return prog;
}

/* Any event's source address as text (all our parsers put the client there). */
static char corpus_src[GOT_MAX][BS_IP_STRLEN];
static size_t corpus_nsrc;
static void record_src(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	if (corpus_nsrc < GOT_MAX)
		bs_ip_format(&ev->src, corpus_src[corpus_nsrc++], BS_IP_STRLEN);
}

struct corpus_counts {
	unsigned lines, annotations, unframed, other, verdict[3], events;
	unsigned want_match, matched, want_nomatch, nomatch_ok;
	size_t cut_mismatches;
};

/* fail2ban's "# failJSON: { ..., "match": true , "host": "1.2.3.4" }" */
static void read_annotation(const char *line, int *match, char *host, size_t hsize)
{
	*match = strstr(line, "\"match\": true") ? 1 : strstr(line, "\"match\": false") ? 0 : -1;
	host[0] = 0;
	const char *h = strstr(line, "\"host\": \"");
	if (h) {
		h += 9;
		size_t k = 0;
		while (h[k] && h[k] != '"' && k + 1 < hsize) {
			host[k] = h[k];
			k++;
		}
		host[k] = 0;
	}
}

static bool corpus_file(const char *dir, const char *name, struct corpus_counts *k)
{
	char path[2048];
	snprintf(path, sizeof path, "%s/maillog/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	memset(k, 0, sizeof *k);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int match = -1;
	bool aggressive = false;
	char host[64] = "";
	uint64_t lineno = 0;
	struct bs_sink s = { record_src, NULL };
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (len == 0)
			continue;
		if (line[0] == '#') {
			k->annotations++;
			if (strstr(line, "filterOptions"))
				aggressive = true; /* fail2ban's aggressive mode: extra matches we do not claim */
			if (strstr(line, "failJSON"))
				read_annotation(line, &match, host, sizeof host);
			continue;
		}
		k->lines++;
		struct bs_syslog sl;
		if (!split_line(line, (size_t)len, &sl)) {
			k->unframed++;
			match = -1;
			continue;
		}
		int which = pick_parser(&sl);
		if (which == P_NONE) {
			k->other++;
			match = -1;
			continue;
		}
		struct bs_line_ctx c = { &sl, &s, 0, lineno, NULL };
		corpus_nsrc = 0;
		enum bs_verdict v = parsers[which](&c);
		k->cut_mismatches += cut_mismatches(parsers[which], prog_copy(&sl), sl.msg.p, sl.msg.n);
		k->verdict[v]++;
		if (v != BS_PARSED && getenv("BS_TEST_VERBOSE"))
			printf("# %s %s: %s\n", v == BS_IGNORED ? "ignored" : "malformed", parser_names[which], line);
		k->events += (unsigned)corpus_nsrc;
		if (match == 1 && !aggressive) {
			k->want_match++;
			if (corpus_nsrc == 1 && strcmp(corpus_src[0], host) == 0)
				k->matched++;
			else if (getenv("BS_TEST_VERBOSE"))
				printf("# %s:%" PRIu64 ": fail2ban expects host %s, got %zu events (%s)\n", name, lineno,
				       host, corpus_nsrc, corpus_nsrc ? corpus_src[0] : "");
		} else if (match == 0 && !aggressive) {
			k->want_nomatch++;
			if (corpus_nsrc == 0)
				k->nomatch_ok++;
		}
		match = -1;
	}
	free(line);
	fclose(f);
	return true;
}

struct corpus_expect {
	const char *file;
	unsigned parsed, ignored, malformed, unframed, other;
	bool ours; /* every fail2ban failure in it is a line of our daemons */
};

static void test_corpus(const char *dir)
{
	/* Counts checked line by line by hand (BS_TEST_VERBOSE=1 lists the
	 * lines not parsed): every ignored Dovecot line is a connection with no
	 * auth attempt; unframed lines are fail2ban's daemontools (tai64n
	 * "@4000...") stamps, which are not syslog. UW-IMAP's imapd lines reach
	 * the Cyrus parser by their program name and are ignored, not malformed;
	 * ipop3d is nobody's here. */
	static const struct corpus_expect files[] = {
		{ "fail2ban-dovecot.log", 41, 22, 0, 4, 0, true },
		{ "crowdsec-hub-dovecot-logs.log", 14, 1, 0, 0, 0, true },
		{ "crowdsec-hub-dovecot-spam.log", 12, 0, 0, 0, 0, true },
		{ "fail2ban-courier-auth.log", 6, 0, 0, 0, 0, true },
		{ "fail2ban-courier-smtp.log", 8, 0, 0, 0, 0, true },
		{ "fail2ban-cyrus-imap.log", 10, 0, 0, 0, 0, true },
		{ "fail2ban-sieve.log", 3, 0, 0, 0, 0, true },
		{ "crowdsec-hub-amavis-logs.log", 1, 0, 0, 0, 0, true },
		{ "fail2ban-uwimap-auth.log", 0, 5, 0, 0, 1, false },
	};
	struct corpus_counts k;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		const struct corpus_expect *e = &files[i];
		if (!corpus_file(dir, e->file, &k)) {
			ok(0, "%s readable", e->file);
			continue;
		}
		printf("# %s: %u lines, %u unframed, %u other programs; parsed %u, ignored %u, malformed %u; %u events; "
		       "fail2ban matches %u/%u, non-matches without event %u/%u\n",
		       e->file, k.lines, k.unframed, k.other, k.verdict[BS_PARSED], k.verdict[BS_IGNORED],
		       k.verdict[BS_MALFORMED], k.events, k.matched, k.want_match, k.nomatch_ok, k.want_nomatch);
		is_int(k.verdict[BS_PARSED], e->parsed, "%s: lines parsed", e->file);
		is_int(k.verdict[BS_IGNORED], e->ignored, "%s: lines ignored", e->file);
		is_int(k.verdict[BS_MALFORMED], e->malformed, "%s: lines malformed", e->file);
		is_int(k.unframed, e->unframed, "%s: lines not framed by the test splitter", e->file);
		is_int(k.other, e->other, "%s: lines of programs none of ours claims", e->file);
		is_int(k.events, e->parsed, "%s: one event per parsed line", e->file);
		is_int(k.cut_mismatches, 0, "%s: every cut of every line, one event exactly when parsed", e->file);
		if (e->ours) {
			is_int(k.matched, k.want_match, "%s: every fail2ban failure gives an event from its host", e->file);
			is_int(k.nomatch_ok, k.want_nomatch, "%s: fail2ban non-failures give no event", e->file);
		}
	}
}

/* `test_dovecot --corpus DIR`: the corpus pass alone (make check-corpus). */
int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--corpus") == 0) {
		test_corpus(argv[2]);
		return tap_done();
	}
	test_ugly();
	return tap_done();
}

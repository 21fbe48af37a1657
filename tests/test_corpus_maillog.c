/* test_corpus_maillog.c - every file of $BS_CORPUS/maillog and /weblog (plain
 * text) through the text-log reader, line by line: no crash, every line
 * counted once, and the share of lines parsed for the daemons covered. */
#include "config.h"
#include <stdio.h>
#include "parsers/logs/maillog.h"
#include "tap.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static uint64_t nevents;
static void count(void *ctx, const struct bs_event *ev)
{
	(void)ctx;
	(void)ev;
	nevents++;
}

/* Files whose every non-comment line belongs to a daemon we parse, with the
 * least share of those lines that must be PARSED (the rest are lines of
 * that daemon that carry nothing: see docs/FORMATS.md). */
static const struct {
	const char *name;
	int min_parsed_pct;
} expect[] = {
	{ "crowdsec-hub-postfix-logs.log", 60 },
	{ "fail2ban-postfix.log", 30 }, /* connect/disconnect/lost connection carry nothing */
	{ "crowdsec-hub-exim-logs.log", 90 },
	{ "fail2ban-sendmail-reject.log", 50 }, /* "did not issue MAIL", EXPN/VRFY notices */
	{ "crowdsec-hub-apache2-logs.log", 75 }, /* two lines are of the Apache error log */
	{ "plaso-apache_access.log", 100 },
	{ "crowdsec-hub-nginx-http-backdoor.log", 100 },
	/* nginx's error log: connections, sessions done, resolver errors and a
	 * relay without AUTH carry nothing; the 4 logins and 2 access lines do */
	{ "crowdsec-hub-nginx-mail-logs.log", 35 },
	{ "fail2ban-uwimap-auth.log", 100 },
	{ "fail2ban-perdition.log", 50 },
	{ "fail2ban-solid-pop3d.log", 100 }, /* a client that sent no credentials carries no login */
	{ "fail2ban-groupoffice.log", 100 },
	{ "fail2ban-tine20.log", 100 },
	{ "crowdsec-hub-mailscanner-logs.log", 100 },
};

static void run_file(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	size_t nlen = strlen(name);
	if (nlen > 3 && strcmp(name + nlen - 3, ".gz") == 0)
		return; /* gzip is the input layer's: its own tests read it */
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	struct bs_sink sink = { count, NULL };
	struct bs_maillog_opts o = { 0, bs_time_make(2025, 1, 1, 0, 0, 0, 0) / BS_USEC, NULL, 0, NULL };
	struct bs_maillog *m = bs_maillog_new(&o, &sink);
	struct bs_input_stats st = { 0 };
	char *buf = NULL;
	size_t cap = 0;
	ssize_t got;
	uint64_t lineno = 0, comments = 0;
	const char *show = getenv("BS_CORPUS_SHOW"); /* a file name: list its unparsed lines */
	nevents = 0;
	while ((got = getline(&buf, &cap, f)) >= 0) {
		size_t len = (size_t)got;
		if (len && buf[len - 1] == '\n')
			len--;
		size_t lead = strspn(buf, " \t\r");
		if (lead >= len || buf[0] == '#')
			comments++; /* blank lines and annotations: not daemon lines */
		enum bs_verdict v = bs_maillog_line(m, buf, len, ++lineno);
		bs_stats_count(&st, v);
		if (show && strcmp(show, name) == 0 && v != BS_PARSED && lead < len && buf[0] != '#')
			printf("#   %s: %.*s\n", v == BS_IGNORED ? "ignored" : "malformed", (int)(len > 200 ? 200 : len), buf);
	}
	uint64_t unfinished = bs_maillog_finish(m);
	bs_maillog_free(m);
	free(buf);
	fclose(f);
	printf("# %-52s lines %5llu parsed %5llu ignored %5llu (blank/comments %4llu) malformed %4llu events %5llu unfinished %llu\n",
	       name, (unsigned long long)st.records, (unsigned long long)st.parsed, (unsigned long long)st.ignored,
	       (unsigned long long)comments, (unsigned long long)st.malformed, (unsigned long long)nevents,
	       (unsigned long long)unfinished);
	ok(st.records == lineno && st.records == st.parsed + st.ignored + st.malformed, "%s: every line counted once", name);
	for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
		if (strcmp(expect[i].name, name) != 0)
			continue;
		uint64_t daemon_lines = st.records - comments;
		int pct = daemon_lines ? (int)(st.parsed * 100 / daemon_lines) : 0;
		ok(pct >= expect[i].min_parsed_pct, "%s: %d%% of daemon lines parsed (want >= %d%%)", name, pct, expect[i].min_parsed_pct);
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		ok(1, "# SKIP %s absent", dir);
		return;
	}
	char *names[512];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 512)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		run_file(dir, names[i]);
		free(names[i]);
	}
}

int main(void)
{
	const char *corpus = getenv("BS_CORPUS");
	char buf[4096];
	if (!corpus || !*corpus) {
		const char *top = getenv("top_srcdir");
		snprintf(buf, sizeof buf, "%s/../shared/corpus", top && *top ? top : ".");
		corpus = buf;
	}
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/maillog", corpus);
	DIR *probe = opendir(dir);
	if (!probe) {
		tap_skip_all("no corpus (set BS_CORPUS)");
		return 0;
	}
	closedir(probe);
	run_dir(dir);
	snprintf(dir, sizeof dir, "%s/weblog", corpus);
	run_dir(dir);
	return tap_done();
}

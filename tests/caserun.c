/* caserun.c - the data-driven parser cases (tests/cases, docs/HACKING.md).
 *
 * tests/cases/TESTLIST names one case a line (a path without extension,
 * relative to tests/cases). A case is two files:
 *   NAME.in      the input, in the format below
 *   NAME.events  the expected events, one bs_event_format() line each
 * A stream case is fed to its parser through the public bs_proto_def: whole,
 * one byte at a time, and with every segment split in two at every position;
 * all three must give the expected lines. A log case is fed line by line to
 * the text-log reader (maillog.h), as `breachscope analyze` does.
 *
 * NAME.in, one directive or data line a line; '#' starts a comment line:
 *   proto NAME [tcp|udp]  a stream case for the parser NAME of the
 *                      dispatcher's registry (http, smtp, pop3, dns ...);
 *                      where two share a name (dns), the transport picks
 *                      one, and without it the datagram one is taken
 *   log                a log case: every "L: " line is one log line
 *   year N             log case: the year of stamps without one
 *   client IP PORT     stream case endpoints (default 192.0.2.10 40000,
 *   server IP PORT      198.51.100.20 and the parser's first port)
 *   C: TEXT            client bytes TEXT and CRLF
 *   C- TEXT            client bytes TEXT only
 *   S: TEXT / S- TEXT  the same from the server
 *   C= HEX / S= HEX    bytes in hex (binary protocols), spaces allowed
 *                      between bytes: "C= 0a 00 00 00 0a 35 2e"
 *   gap C|S N          N bytes lost in one direction
 *   push               ends the current segment (consecutive lines of one
 *                      direction are otherwise one segment, one packet)
 *   wait N             N seconds pass before the next segment (and it
 *                      starts a new one)
 *   L: TEXT            a log line
 *   secret TEXT        TEXT (a password of the input) must be in no event
 *   verdicts           log case: each line's verdict is an event line too,
 *                      "line N: parsed|ignored|malformed", and the end adds
 *                      "finish: N unfinished" (transactions flushed open)
 *   timezone SPEC      log case: the zone of stamps without one (--tz SPEC)
 *   ref-time EPOCH     log case: the reference of year inference (seconds;
 *                      the file's mtime in a real run); `year` overrides it
 *   cuts               log case: every cut of every log line (its first 0..n
 *                      bytes, each through a fresh reader, in a block of
 *                      exactly that size for ASan) gives one event exactly
 *                      when the reader says parsed (daemons whose lines stand
 *                      alone: not the MTAs, whose events wait for the queue)
 * In TEXT, \r \n \t \\ and \xNN stand for their bytes.
 * A parse error a stream parser returns ends its run and is one more event
 * line, "error TEXT" (TEXT its strerror).
 * Segment i gets packet number i+1 and time 1000+i s (plus the waits before it). FTP's announcements of
 * data connections appear as `EXPECT` lines among the events.
 *
 * Usage: caserun [--update] [CASE...]   (default: every case in TESTLIST)
 * --update or BS_UPDATE=1 writes each case's whole-run events into NAME.events.
 * Cases are read from $top_srcdir/tests/cases (or ./tests/cases).
 */
#include "config.h"
#include "stream_session.h"
#include "parsers/logs/maillog.h"
#include "src/core/tz.h"

#include <errno.h>

#define CASE_MAX_STEPS 512
#define CASE_MAX_BYTES (1 << 20)

struct kase {
	const struct bs_proto_def *proto; /* NULL: a log case */
	bool is_log;
	int year;
	char cli[BS_IP_STRLEN], srv[BS_IP_STRLEN];
	uint16_t cport, sport;
	struct step steps[CASE_MAX_STEPS];
	size_t nsteps;
	char *bytes;                      /* the data of every step, in order */
	size_t nbytes;
	bool open;                        /* the last step still takes bytes */
	char secret[64];                  /* text no event may hold (a password) */
	bool verdicts;                    /* log case: verdicts are event lines */
	bool has_tz;
	struct bs_tz tz;
	int64_t ref_epoch;
	bool cuts;                        /* log case: check every cut of every line */
	int64_t wait;                     /* seconds to pass before the next step */
};

static char *bytes_store;

static void die(const char *what, const char *path, size_t lineno)
{
	printf("Bail out! %s:%zu: %s\n", path, lineno, what);
	exit(99);
}

/* TEXT with its escapes, appended to the case's bytes. */
static bool unescape(struct kase *k, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < n) {
			char e = s[++i];
			if (e == 'r')
				c = '\r';
			else if (e == 'n')
				c = '\n';
			else if (e == 't')
				c = '\t';
			else if (e == '\\')
				c = '\\';
			else if (e == 'x' && i + 2 < n) {
				char hx[3] = { s[i + 1], s[i + 2], 0 };
				char *end;
				long v = strtol(hx, &end, 16);
				if (*end)
					return false;
				c = (char)v;
				i += 2;
			} else {
				return false;
			}
		}
		if (k->nbytes == CASE_MAX_BYTES)
			return false;
		k->bytes[k->nbytes++] = c;
	}
	return true;
}

/* "0a 0b0c": hex bytes, appended to the case's bytes. */
static bool unhex(struct kase *k, const char *s)
{
	for (;;) {
		while (*s == ' ')
			s++;
		if (!*s)
			return true;
		char hx[3] = { s[0], s[1], 0 };
		char *end;
		long v = strtol(hx, &end, 16);
		if (!s[1] || *end || k->nbytes == CASE_MAX_BYTES)
			return false;
		k->bytes[k->nbytes++] = (char)v;
		s += 2;
	}
}

/* Data of one direction: TEXT with escapes (and CRLF), or hex bytes. */
static void add_data(struct kase *k, int dir, const char *text, size_t n, bool crlf, bool hex,
                     const char *path, size_t lineno)
{
	struct step *st = k->nsteps ? &k->steps[k->nsteps - 1] : NULL;
	if (!st || !k->open || st->dir != dir || st->gap) {
		if (k->nsteps == CASE_MAX_STEPS)
			die("too many segments", path, lineno);
		st = &k->steps[k->nsteps++];
		*st = (struct step){ dir, k->bytes + k->nbytes, 0, 0, k->wait };
		k->wait = 0;
		k->open = true;
	}
	size_t before = k->nbytes;
	if (hex ? !unhex(k, text) : !unescape(k, text, n) || (crlf && !unescape(k, "\\r\\n", 4)))
		die(hex ? "bad hex or case too big" : "bad escape or case too big", path, lineno);
	st->n += k->nbytes - before;
}

static int dir_of(const char *s)
{
	return s[0] == 'C' ? 0 : s[0] == 'S' ? 1 : -1;
}

/* Reads NAME.in into k; log lines go to logs (NUL-separated). */
static void load_case(const char *path, struct kase *k, char *logs, size_t *nlogs)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die(strerror(errno), path, 0);
	memset(k, 0, sizeof *k);
	k->bytes = bytes_store;
	snprintf(k->cli, sizeof k->cli, "192.0.2.10");
	snprintf(k->srv, sizeof k->srv, "198.51.100.20");
	k->cport = 40000;
	*nlogs = 0;
	static char line[65536];
	size_t lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t n = strlen(line);
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		char word[32], a[BS_IP_STRLEN];
		unsigned long num;
		if ((line[0] == 'C' || line[0] == 'S') && (line[1] == ':' || line[1] == '-' || line[1] == '=') &&
		    (line[2] == ' ' || n == 2)) {
			/* "S:" alone: an empty line (an editor may strip the space) */
			add_data(k, dir_of(line), line + 3 - (n == 2), n - 3 + (n == 2), line[1] == ':', line[1] == '=',
			         path, lineno);
		} else if (strncmp(line, "L: ", 3) == 0) {
			if (*nlogs + n - 3 + 1 > CASE_MAX_BYTES)
				die("case too big", path, lineno);
			memcpy(logs + *nlogs, line + 3, n - 3);
			*nlogs += n - 3;
			logs[(*nlogs)++] = '\0';
		} else if (sscanf(line, "proto %31s", word) == 1) {
			/* the parsers a case may name: the dispatcher's registry */
			const char *transport = strchr(line + 6, ' ');
			bool want_udp = !transport || strcmp(transport + 1, "udp") == 0;
			if (transport && !want_udp && strcmp(transport + 1, "tcp") != 0)
				die("transport is tcp or udp", path, lineno);
			for (size_t i = 0; i < BS_DISPATCH_NPROTO; i++) {
				const struct bs_proto_def *d = bs_stream_protocols[i];
				if (strcmp(d->name, word) == 0 && (!k->proto || d->udp == want_udp))
					k->proto = d;
			}
			if (k->proto && transport && k->proto->udp != want_udp)
				die("no such transport for this protocol", path, lineno);
			if (!k->proto)
				die("unknown protocol", path, lineno);
			if (!k->sport)
				k->sport = k->proto->ports[0];
		} else if (strcmp(line, "log") == 0) {
			k->is_log = true;
		} else if (sscanf(line, "year %lu", &num) == 1) {
			k->year = (int)num;
		} else if (sscanf(line, "client %45s %lu", a, &num) == 2) {
			snprintf(k->cli, sizeof k->cli, "%s", a);
			k->cport = (uint16_t)num;
		} else if (sscanf(line, "server %45s %lu", a, &num) == 2) {
			snprintf(k->srv, sizeof k->srv, "%s", a);
			k->sport = (uint16_t)num;
		} else if (sscanf(line, "gap %1s %lu", word, &num) == 2 && dir_of(word) >= 0) {
			if (k->nsteps == CASE_MAX_STEPS)
				die("too many segments", path, lineno);
			k->steps[k->nsteps++] = (struct step){ dir_of(word), NULL, 0, num, k->wait };
			k->wait = 0;
			k->open = false;
		} else if (strncmp(line, "secret ", 7) == 0 && n - 7 < sizeof k->secret) {
			memcpy(k->secret, line + 7, n - 7 + 1);
		} else if (strcmp(line, "verdicts") == 0) {
			k->verdicts = true;
		} else if (strcmp(line, "cuts") == 0) {
			k->cuts = true;
		} else if (strncmp(line, "timezone ", 9) == 0) {
			if (!bs_tz_parse(line + 9, &k->tz))
				die("bad time zone", path, lineno);
			k->has_tz = true;
		} else if (sscanf(line, "ref-time %lu", &num) == 1) {
			k->ref_epoch = (int64_t)num;
		} else if (strcmp(line, "push") == 0) {
			k->open = false;
		} else if (sscanf(line, "wait %lu", &num) == 1) {
			k->wait += (int64_t)num;
			k->open = false;
		} else {
			die("not a directive or data line", path, lineno);
		}
	}
	fclose(f);
	if (!k->proto && !k->is_log)
		die("neither 'proto NAME' nor 'log'", path, lineno);
}

static void run_log(const struct kase *k, const char *logs, size_t nlogs)
{
	static const char *const verdict[] = { "parsed", "ignored", "malformed" };
	struct bs_tz tz = k->tz;
	struct bs_maillog_opts o = { .forced_year = k->year, .ref_epoch = k->ref_epoch,
	                             .tz = k->has_tz ? &tz : NULL, .input = 1 };
	struct bs_maillog *m = bs_maillog_new(&o, &rec_sink_obj);
	uint64_t lineno = 0;
	rec.n = rec.dropped = 0;
	for (size_t off = 0; off < nlogs; lineno++) {
		size_t n = strlen(logs + off);
		/* its own exactly-sized block, so that a read past the line trips ASan */
		char *line = malloc(n ? n : 1);
		memcpy(line, logs + off, n);
		enum bs_verdict v = bs_maillog_line(m, line, n, lineno + 1);
		free(line);
		if (k->verdicts)
			rec_add("line %" PRIu64 ": %s", lineno + 1, verdict[v]);
		off += n + 1;
	}
	uint64_t unfinished = bs_maillog_finish(m);
	if (k->verdicts)
		rec_add("finish: %" PRIu64 " unfinished", unfinished);
	bs_maillog_free(m);
}

static void count_event(void *ctx, const struct bs_event *ev)
{
	(void)ev;
	++*(size_t *)ctx;
}

/* The `cuts` check: how many cuts of the log lines broke "one event exactly
 * when parsed" (the first such cut is printed). */
static size_t cut_mismatches(const struct kase *k, const char *logs, size_t nlogs)
{
	size_t events, mismatches = 0;
	const struct bs_sink counter = { count_event, &events };
	struct bs_tz tz = k->tz;
	struct bs_maillog_opts o = { .forced_year = k->year, .ref_epoch = k->ref_epoch,
	                             .tz = k->has_tz ? &tz : NULL, .input = 1 };
	for (size_t off = 0; off < nlogs;) {
		size_t n = strlen(logs + off);
		for (size_t cut = 0; cut <= n; cut++) {
			struct bs_maillog *m = bs_maillog_new(&o, &counter);
			char *line = malloc(cut ? cut : 1);
			memcpy(line, logs + off, cut);
			events = 0;
			enum bs_verdict v = bs_maillog_line(m, line, cut, 1);
			if ((v == BS_PARSED) != (events == 1) && mismatches++ == 0)
				printf("# cut at %zu: %zu events, verdict %d: %.*s\n", cut, events, (int)v, (int)cut, line);
			free(line);
			bs_maillog_free(m);
		}
		off += n + 1;
	}
	return mismatches;
}

/* One run of a stream case; a parse error the feed returns is one more
 * line of the events, "error TEXT" (so a case expects it or its absence). */
static void run_stream(const struct kase *k, size_t piece, size_t split_at)
{
	int err = run_session(k->proto, k->steps, k->nsteps, piece, split_at);
	if (err)
		rec_add("error %s", k->proto->strerror(err));
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *s = malloc(cap);
	size_t k;
	while ((k = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (cap - n - 1 == 0)
			s = realloc(s, cap *= 2);
	}
	fclose(f);
	s[n] = '\0';
	return s;
}

static void run_case(const char *dir, const char *name, bool update)
{
	static struct kase k;
	static char logs[CASE_MAX_BYTES], want_path[4096], in_path[4096];
	static char whole[REC_MAX * REC_LINE], other[REC_MAX * REC_LINE];
	size_t nlogs;
	if (snprintf(in_path, sizeof in_path, "%s/%s.in", dir, name) >= (int)sizeof in_path ||
	    snprintf(want_path, sizeof want_path, "%s/%s.events", dir, name) >= (int)sizeof want_path)
		die("path too long", name, 0);
	load_case(in_path, &k, logs, &nlogs);

	if (k.is_log) {
		run_log(&k, logs, nlogs);
	} else {
		session_ends = (struct session_endpoints){ k.cli, k.srv, k.cport, k.sport };
		run_stream(&k, 0, 0);
	}
	rec_join(whole, sizeof whole);
	ok(rec.dropped == 0, "%s: at most %d events", name, REC_MAX);
	if (k.is_log && k.cuts)
		ok(cut_mismatches(&k, logs, nlogs) == 0, "%s: every cut of every line, one event exactly when parsed",
		   name);
	if (k.secret[0])
		ok(strstr(whole, k.secret) == NULL, "%s: '%s' in no event", name, k.secret);

	if (k.proto && !k.proto->udp) {
		run_stream(&k, 1, 0);
		rec_join(other, sizeof other);
		if (!ok(strcmp(whole, other) == 0, "%s: one byte at a time gives the same events", name))
			printf("# whole:\n%s# bytewise:\n%s", whole, other);
		size_t maxlen = 0, bad = 0;
		for (size_t i = 0; i < k.nsteps; i++)
			if (k.steps[i].n > maxlen)
				maxlen = k.steps[i].n;
		for (size_t cut = 1; cut < maxlen && !bad; cut++) {
			run_stream(&k, 0, cut);
			rec_join(other, sizeof other);
			if (strcmp(whole, other) != 0)
				bad = cut;
		}
		if (!ok(bad == 0, "%s: split at every position gives the same events", name))
			printf("# first differing split at %zu:\n%s", bad, other);
	}

	if (update) {
		FILE *f = fopen(want_path, "w");
		ok(f && fputs(whole, f) >= 0 && fclose(f) == 0, "%s: %s written", name, want_path);
		return;
	}
	char *want = slurp(want_path);
	if (!ok(want && strcmp(want, whole) == 0, "%s: the events of %s.events", name, name))
		printf("# got:\n%s# want:\n%s", whole, want ? want : "(no file)\n");
	free(want);
}

int main(int argc, char **argv)
{
	const char *env = getenv("BS_UPDATE");
	bool update = env && strcmp(env, "1") == 0;
	int first = 1;
	if (argc > 1 && strcmp(argv[1], "--update") == 0) {
		update = true;
		first = 2;
	}
	const char *top = getenv("top_srcdir");
	static char dir[4096], listpath[4096];
	snprintf(dir, sizeof dir, "%s/tests/cases", top ? top : ".");
	bytes_store = malloc(CASE_MAX_BYTES);
	rec_sink_obj.fn = format_sink;

	if (first < argc) {
		for (int i = first; i < argc; i++)
			run_case(dir, argv[i], update);
		return tap_done();
	}
	if (snprintf(listpath, sizeof listpath, "%s/TESTLIST", dir) >= (int)sizeof listpath)
		die("path too long", dir, 0);
	FILE *list = fopen(listpath, "r");
	if (!list) {
		printf("Bail out! %s: %s\n", listpath, strerror(errno));
		return 99;
	}
	char name[1024];
	while (fgets(name, sizeof name, list)) {
		name[strcspn(name, " \t\r\n#")] = '\0';
		if (name[0])
			run_case(dir, name, update);
	}
	fclose(list);
	free(bytes_store);
	return tap_done();
}

/* main.c - the command line: breachscope analyze | scan | merge.
 *
 * analyze = scan (inputs -> aggregate) + merge (aggregate -> correlation ->
 * outputs) in one process; scan and merge split the same two stages across
 * machines through state files (see docs/SCALING.md). */
#include "config.h"
#include "src/engine/engine.h"
#include "src/output/geoip.h"
#include "src/input/inputs.h"
#include "src/core/interrupt.h"
#include "src/output/output.h"
#include "src/cli/scan.h"
#include "src/engine/state.h"
#include "src/output/spill.h"
#include "src/core/tables.h"
#include "src/core/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_DAMAGED = 3 };

static void usage(FILE *f)
{
	fputs("Usage: breachscope analyze [OPTIONS] INPUT...\n"
	      "       breachscope scan [OPTIONS] -o STATE INPUT...\n"
	      "       breachscope merge [OPTIONS] -o DIR STATE...\n"
	      "\n"
	      "Find which webmail server was broken into, when, and which addresses are exposed,\n"
	      "from maillogs, web access logs and packet captures (plain or gzip).\n"
	      "\n"
	      "  -o, --output DIR         where the results go (default: ./breachscope-out)\n"
	      "      --fleet FILE         fleet inventory CSV (name,address,role)\n"
	      "      --local-domain DOM   a customer mail domain (repeatable)\n"
	      "      --year YEAR          year of RFC 3164 timestamps (default: inferred)\n"
	      "      --timezone TZ        zone of timestamps that carry none (default: UTC)\n"
	      "      --geoip FILE         MaxMind DB file (repeatable)\n"
	      "  -j, --jobs N             worker threads (default: number of processors);\n"
	      "                           a capture link's packets are split across them\n"
	      "  -q, --quiet              no progress on standard error\n"
	      "      --debug FILE         the reason for every line, packet or stream not used\n"
	      "      --threshold NAME=VAL a detector threshold (docs/DETECTION.md; repeatable)\n"
	      "      --timeline all       every event in timeline.csv, not only the notable ones (analyze)\n"
	      "      --memcap SIZE        memory for capture flow and parser state, K/M/G suffixes\n"
	      "                           (default 1G; least recently used flows evicted beyond)\n"
	      "      --help, --version\n"
	      "\n"
	      "Exit status: 0 all inputs read to their end; 3 results written but some input was\n"
	      "damaged or truncated (see input_stats.csv); 2 usage or configuration error; 1 other failure.\n"
	      "See breachscope(1).\n", f);
}

struct cli {
	const char *cmd;
	const char *output;
	char **geoip;
	size_t ngeoip;
	int year;
	const char *timezone;
	int jobs;
	bool quiet;
	const char *debug;
	bool timeline_all;
	size_t memcap;
	struct bs_engine_config cfg;
	char **args;
	size_t nargs;
};

static int die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "breachscope: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static bool parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

/* --threshold NAME=VALUE: the detectors' thresholds (docs/DETECTION.md).
 * A count must be a whole number from 0 to 2^53 (exactly representable, so
 * no cast can wrap it: 1e20 once became 0 and switched a detector off), a
 * factor or score a finite number >= 0. Returns NULL or why VALUE is refused;
 * *known tells whether NAME is a threshold. */
static const char *set_threshold(struct bs_thresholds *t, const char *arg, bool *known)
{
	static const struct { const char *name; size_t off; bool is_double; } names[] = {
		{ "exfil-min-bytes", offsetof(struct bs_thresholds, exfil_min_bytes), false },
		{ "exfil-factor", offsetof(struct bs_thresholds, exfil_factor), true },
		{ "exfil-min-addrs", offsetof(struct bs_thresholds, exfil_min_addrs), false },
		{ "bulk-min-rows", offsetof(struct bs_thresholds, bulk_min_rows), false },
		{ "tamper-weak-clients", offsetof(struct bs_thresholds, tamper_weak_clients), false },
		{ "bruteforce-failures", offsetof(struct bs_thresholds, bruteforce_failures), false },
		{ "login-burst-users", offsetof(struct bs_thresholds, login_burst_users), false },
		{ "login-burst-factor", offsetof(struct bs_thresholds, login_burst_factor), true },
		{ "login-burst-slot", offsetof(struct bs_thresholds, login_burst_slot), false },
		{ "score-compromised", offsetof(struct bs_thresholds, score_compromised), true },
		{ "score-suspicious", offsetof(struct bs_thresholds, score_suspicious), true },
	};
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	*known = false;
	size_t i = 0;
	while (i < sizeof names / sizeof *names &&
	       (strlen(names[i].name) != n || strncmp(arg, names[i].name, n) != 0))
		i++;
	if (i == sizeof names / sizeof *names)
		return "unknown threshold";
	*known = true;
	if (!eq || !eq[1])
		return "no value";
	char *end;
	errno = 0;
	double v = strtod(eq + 1, &end);
	if (*end || end == eq + 1)
		return "not a number";
	if (errno == ERANGE || !isfinite(v) || v < 0)
		return "must be a finite number >= 0";
	char *field = (char *)t + names[i].off;
	if (names[i].is_double) {
		memcpy(field, &v, sizeof v);
		return NULL;
	}
	if (v > 9007199254740992.0)
		return "must be a whole number from 0 to 2^53";
	uint64_t u = (uint64_t)v; /* in range: the cast is defined */
	if ((double)u != v)
		return "must be a whole number from 0 to 2^53";
	memcpy(field, &u, sizeof u);
	return NULL;
}

/* --memcap SIZE: a whole number of bytes with an optional K, M or G
 * (binary multiples), from 1M up (below that every flow would be evicted as
 * soon as it carries data). Returns NULL or why SIZE is refused. */
static const char *parse_memcap(const char *s, size_t *out)
{
	if (*s < '0' || *s > '9')
		return "not a size (a number with an optional K, M or G)";
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end)
		return "not a size (a number with an optional K, M or G)";
	if (errno == ERANGE || v > (SIZE_MAX >> 1 >> shift))
		return "too large";
	if ((v << shift) < ((size_t)1 << 20))
		return "must be at least 1M";
	*out = (size_t)(v << shift);
	return NULL;
}

static int parse_cli(int argc, char **argv, struct cli *c)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "fleet", required_argument, NULL, 'F' },
		{ "local-domain", required_argument, NULL, 'L' },
		{ "year", required_argument, NULL, 'Y' },
		{ "timezone", required_argument, NULL, 'Z' },
		{ "geoip", required_argument, NULL, 'G' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "debug", required_argument, NULL, 'D' },
		{ "threshold", required_argument, NULL, 'T' },
		{ "timeline", required_argument, NULL, 'E' },
		{ "memcap", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bs_thresholds_default(&c->cfg.th);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	c->jobs = ncpu > 0 ? (int)(ncpu > 256 ? 256 : ncpu) : 1;
	opterr = 0;
	optind = 2;
	int ch;
	while ((ch = getopt_long(argc, argv, ":o:j:q", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': c->output = optarg; break;
		case 'F':
			if (c->cfg.fleet_file)
				return die_usage("--fleet given twice", "");
			{
				char err[BS_ERRBUF_SIZE];
				if (!bs_fleet_load(optarg, &c->cfg, err, sizeof err))
					return die_usage("%s", err);
			}
			break;
		case 'L': {
			char *d = bs_xstrndup(optarg, strlen(optarg));
			for (char *p = d; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p + 32);
			if (!d[0] || strchr(d, '@') || strchr(d, ' ')) {
				free(d);
				return die_usage("bad --local-domain \"%s\"", optarg);
			}
			c->cfg.local_domains = bs_xrealloc(c->cfg.local_domains, (c->cfg.nlocal + 1) * sizeof(char *));
			c->cfg.local_domains[c->cfg.nlocal++] = d;
			break;
		}
		case 'Y':
			if (!parse_int(optarg, 1970, 2199, &c->year))
				return die_usage("bad --year \"%s\" (a year from 1970 to 2199)", optarg);
			break;
		case 'Z': c->timezone = optarg; break;
		case 'G':
			c->geoip = bs_xrealloc(c->geoip, (c->ngeoip + 1) * sizeof(char *));
			c->geoip[c->ngeoip++] = optarg;
			break;
		case 'j':
			if (!parse_int(optarg, 1, 1024, &c->jobs))
				return die_usage("bad --jobs \"%s\" (a number from 1 to 1024)", optarg);
			break;
		case 'q': c->quiet = true; break;
		case 'D': c->debug = optarg; break;
		case 'E':
			if (strcmp(optarg, "all") == 0)
				c->timeline_all = true;
			else if (strcmp(optarg, "notable") == 0)
				c->timeline_all = false;
			else
				return die_usage("bad --timeline \"%s\" (notable or all)", optarg);
			break;
		case 'M': {
			const char *why = parse_memcap(optarg, &c->memcap);
			if (why) {
				char msg[BS_ERRBUF_SIZE];
				snprintf(msg, sizeof msg, "bad --memcap \"%.200s\": %s", optarg, why);
				return die_usage("%s", msg);
			}
			break;
		}
		case 'T': {
			bool known;
			const char *why = set_threshold(&c->cfg.th, optarg, &known);
			char msg[BS_ERRBUF_SIZE];
			if (why && !known)
				return die_usage("bad --threshold \"%s\" (see breachscope(1) for names)", optarg);
			if (why) {
				snprintf(msg, sizeof msg, "bad --threshold \"%.200s\": %s", optarg, why);
				return die_usage("%s", msg);
			}
			break;
		}
		case 'h': usage(stdout); exit(EXIT_OK);
		case 'V': printf("%s\n", PACKAGE_STRING); exit(EXIT_OK);
		case ':': return die_usage("option %s needs an argument", argv[optind - 1]);
		default: return die_usage("unknown option %s (see --help)", argv[optind - 1]);
		}
	}
	c->args = argv + optind;
	c->nargs = (size_t)(argc - optind);
	return -1;
}

/* The merge stage shared by analyze and merge: correlate, write, summarize. */
static int finish(struct cli *c, struct bs_agg *agg, struct bs_input_row *rows, size_t nrows, int rc,
                  const char *outdir, struct bs_geoip *geo, struct bs_spill *spill)
{
	char err[BS_ERRBUF_SIZE];
	/* a fleet that serves one domain: its bare login names are addresses
	 * of it (with several given, nobody can tell which); with none given,
	 * the one domain all logins by address share, if they do */
	char inferred[256];
	bool from_mail = false;
	const char *domain = c->cfg.nlocal == 1 ? c->cfg.local_domains[0]
	                     : c->cfg.nlocal == 0 ? bs_agg_login_domain(agg, inferred, sizeof inferred, &from_mail) : NULL;
	size_t bare = bs_agg_complete_logins(agg, domain);
	struct bs_results *res = bs_correlate(agg, &c->cfg, rows, nrows);
	res->bare_logins = bare;
	res->bare_domain_inferred = bare && domain && c->cfg.nlocal == 0;
	res->bare_domain_from_mail = res->bare_domain_inferred && from_mail;
	snprintf(res->bare_domain, sizeof res->bare_domain, "%s", bare && domain ? domain : "");
	res->timeline_all = spill;
	if (!bs_output_write_all(outdir, res, geo, err, sizeof err)) {
		fprintf(stderr, "breachscope: %s\n", err);
		rc = EXIT_FAIL;
	} else {
		bs_output_summary(stdout, outdir, res, geo);
	}
	bs_results_free(res);
	return rc;
}

static int open_common(struct cli *c, struct bs_tz *tz, struct bs_geoip **geo)
{
	char err[BS_ERRBUF_SIZE];
	if (!bs_tz_parse(c->timezone ? c->timezone : "UTC", tz))
		return die_usage("unknown --timezone \"%s\"", c->timezone);
	if (c->ngeoip) {
		*geo = bs_geoip_open(c->geoip, c->ngeoip, err, sizeof err);
		if (!*geo)
			return die_usage("%s", err);
	}
	return -1;
}

/* --debug FILE: one line per record not used, naming the input (the sink of
 * src/core/diag.h). The file is written as a temporary (mode 0600: it holds
 * pieces of the data) next to FILE, removed on a signal, and renamed into
 * place at the end: a run that fails usage, or is interrupted, leaves FILE as
 * it was. It is opened only after every argument was checked. */
struct debug_file {
	FILE *f;
	char tmp[PATH_MAX + 32];
	int slot;
	const struct bs_input_list *inputs; /* the names of the inputs, by index */
	struct bs_diag diag;
};

static void debug_write(void *ctx, uint32_t input, uint64_t ref, bool from_capture, const char *layer,
                        const char *reason)
{
	struct debug_file *d = ctx;
	const char *name = d->inputs && input < d->inputs->n ? d->inputs->paths[input] : "?";
	char where[48] = "";
	if (ref && from_capture)
		snprintf(where, sizeof where, " packet %llu:", (unsigned long long)ref);
	else if (ref)
		snprintf(where, sizeof where, "%llu:", (unsigned long long)ref);
	/* one line at a time from the worker threads; names and reasons may
	 * hold bytes of the data: escaped as on the terminal */
	flockfile(d->f);
	bs_term_puts(d->f, name);
	fprintf(d->f, ":%s ", where);
	bs_term_puts(d->f, layer);
	fputs(": ", d->f);
	bs_term_puts(d->f, reason);
	fputc('\n', d->f);
	funlockfile(d->f);
}

static bool same_file(const struct stat *a, const char *path)
{
	struct stat b;
	int rc = strcmp(path, "-") == 0 ? fstat(0, &b) : stat(path, &b);
	return rc == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

/* Refuse a debug file that is one of the inputs (it would be replaced), then
 * open its temporary. inputs: files (directories already walked). */
static int debug_open(struct cli *c, struct debug_file *d, char *const *inputs, size_t ninputs)
{
	d->slot = -1;
	if (!c->debug)
		return -1;
	struct stat st;
	if (stat(c->debug, &st) == 0)
		for (size_t i = 0; i < ninputs; i++)
			if (same_file(&st, inputs[i]))
				return die_usage("--debug \"%s\" is an input: refused (it would be overwritten)", c->debug);
	if (strlen(c->debug) >= PATH_MAX)
		return die_usage("--debug: name too long \"%s\"", c->debug);
	snprintf(d->tmp, sizeof d->tmp, "%s.tmp.%ld", c->debug, (long)getpid());
	bs_temp_remove_stale(c->debug);
	int fd = open(d->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	d->f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!d->f) {
		if (fd >= 0)
			close(fd);
		return die_usage("--debug: cannot write \"%s\"", c->debug);
	}
	d->slot = bs_interrupt_add_temp(d->tmp);
	d->diag = (struct bs_diag){ debug_write, d };
	return -1;
}

/* publish: rename the temporary into place (the run got to its end), else
 * remove it. */
static void debug_close(struct cli *c, struct debug_file *d, bool publish)
{
	if (!d->f)
		return;
	bool ok = fclose(d->f) == 0;
	d->f = NULL;
	if (publish && ok && rename(d->tmp, c->debug) == 0) {
		bs_interrupt_forget(d->slot);
		return;
	}
	if (publish)
		fprintf(stderr, "breachscope: --debug: cannot write \"%s\": %s\n", c->debug, strerror(errno));
	unlink(d->tmp);
	bs_interrupt_forget(d->slot);
}

/* What every command opens before its work, and closes after. */
struct run_ctx {
	struct bs_tz tz;
	struct bs_geoip *geo;
	struct debug_file debug;
};

static int run_begin(struct cli *c, struct run_ctx *r, const char *what)
{
	memset(r, 0, sizeof *r);
	r->debug.slot = -1;
	if (!c->nargs)
		return die_usage("no %s given (see --help)", what);
	return open_common(c, &r->tz, &r->geo);
}

/* rc: the run's exit status; the debug file is published unless the run
 * failed on usage (then it stays as it was). */
static void run_end(struct cli *c, struct run_ctx *r, int rc)
{
	bs_geoip_close(r->geo);
	debug_close(c, &r->debug, rc != EXIT_USAGE);
}

static void scan_inputs(struct cli *c, struct run_ctx *r, const struct bs_input_list *list, struct bs_spill *spill,
                        struct bs_scan_result *sr)
{
	struct bs_scan_opts so = { .jobs = c->jobs, .forced_year = c->year, .tz = &r->tz,
	                           .progress = !c->quiet && isatty(2), .warn = c->quiet ? NULL : stderr,
	                           .diag = r->debug.f ? &r->debug.diag : NULL, .spill = spill, .memcap = c->memcap };
	bs_scan(list, &so, sr);
}

/* scan: parse a shard of the inputs into a state file. */
/* The INPUT arguments expanded into files, then the debug file opened (it
 * must not be one of them). -1 when both went well, else the exit status. */
static int expand_inputs(struct cli *c, struct run_ctx *r, struct bs_input_list *list, size_t *refused)
{
	char err[BS_ERRBUF_SIZE];
	if (!bs_inputs_expand(c->args, c->nargs, list, stderr, refused, err, sizeof err))
		return die_usage("%s", err);
	r->debug.inputs = list;
	return debug_open(c, &r->debug, list->paths, list->n);
}

static int run_scan(struct cli *c)
{
	char err[BS_ERRBUF_SIZE];
	if (!c->output)
		return die_usage("scan needs -o STATE", "");
	struct run_ctx r;
	int rc = run_begin(c, &r, "INPUT");
	if (rc >= 0)
		return rc;
	struct bs_input_list list = { 0 };
	size_t refused = 0;
	if ((rc = expand_inputs(c, &r, &list, &refused)) >= 0)
		goto out;
	struct bs_scan_result sr;
	scan_inputs(c, &r, &list, NULL, &sr);
	rc = sr.damaged || refused ? EXIT_DAMAGED : EXIT_OK;
	if (!bs_state_write(c->output, sr.agg, sr.rows, sr.nrows, err, sizeof err)) {
		fprintf(stderr, "breachscope: %s\n", err);
		rc = EXIT_FAIL;
	}
	bs_agg_free(sr.agg);
	for (size_t i = 0; i < sr.nrows; i++) {
		free(sr.rows[i].source);
		free(sr.rows[i].format);
	}
	free(sr.rows);
out:
	bs_inputs_free(&list);
	run_end(c, &r, rc);
	return rc;
}

static int cmp_row_source(const void *x, const void *y)
{
	return strcmp(((const struct bs_input_row *)x)->source, ((const struct bs_input_row *)y)->source);
}

/* merge: combine state files and run the correlation, as analyze would. */
static int run_merge(struct cli *c)
{
	const char *outdir = c->output ? c->output : "./breachscope-out";
	char err[BS_ERRBUF_SIZE];
	struct run_ctx r;
	int rc = run_begin(c, &r, "STATE");
	if (rc >= 0)
		return rc;
	struct bs_state **st = bs_xcalloc(c->nargs, sizeof *st);
	size_t nrows = 0;
	rc = -1;
	for (size_t i = 0; i < c->nargs && rc < 0; i++) {
		st[i] = bs_state_open(c->args[i], err, sizeof err);
		if (!st[i]) {
			rc = die_usage("%s", err);
			break;
		}
		size_t n;
		bs_state_rows(st[i], &n);
		nrows += n;
	}
	/* the merged input list: every shard's rows, sorted by source; an input
	 * in two shards would be counted twice, so it is refused */
	struct bs_input_row *rows = bs_xcalloc(nrows ? nrows : 1, sizeof *rows);
	size_t k = 0;
	for (size_t i = 0; rc < 0 && i < c->nargs; i++) {
		size_t n;
		const struct bs_input_row *in = bs_state_rows(st[i], &n);
		for (size_t j = 0; j < n; j++) {
			rows[k] = in[j];
			rows[k].source = bs_xstrndup(in[j].source, strlen(in[j].source));
			rows[k].format = bs_xstrndup(in[j].format, strlen(in[j].format));
			k++;
		}
	}
	if (rc < 0) {
		bs_qsort(rows, k, sizeof *rows, cmp_row_source);
		for (size_t i = 1; i < k && rc < 0; i++)
			if (strcmp(rows[i - 1].source, rows[i].source) == 0) {
				char why[BS_ERRBUF_SIZE];
				snprintf(why, sizeof why, "input %s is in more than one state file", rows[i].source);
				rc = die_usage("%s", why);
			}
	}
	struct bs_agg *agg = NULL;
	bool damaged = false;
	if (rc < 0) {
		agg = bs_agg_new();
		for (size_t i = 0; i < c->nargs && rc < 0; i++) {
			size_t n;
			const struct bs_input_row *in = bs_state_rows(st[i], &n);
			uint32_t *remap = bs_xcalloc(n ? n : 1, sizeof *remap);
			for (size_t j = 0; j < n; j++) {
				struct bs_input_row key = { .source = in[j].source };
				struct bs_input_row *hit = bsearch(&key, rows, k, sizeof *rows, cmp_row_source);
				remap[j] = (uint32_t)(hit - rows);
				if (in[j].st.truncated)
					damaged = true;
			}
			if (!bs_state_merge_into(st[i], agg, remap, err, sizeof err))
				rc = die_usage("%s", err);
			free(remap);
		}
	}
	/* the debug file and -o are made only once every state file has been
	 * read and accepted */
	if (rc < 0)
		rc = debug_open(c, &r.debug, c->args, c->nargs);
	if (rc < 0 && !bs_output_prepare(outdir, err, sizeof err))
		rc = die_usage("%s", err);
	for (size_t i = 0; i < c->nargs; i++)
		bs_state_close(st[i]);
	free(st);
	if (rc < 0) {
		rc = finish(c, agg, rows, k, damaged ? EXIT_DAMAGED : EXIT_OK, outdir, r.geo, NULL);
	} else {
		for (size_t i = 0; i < k; i++) {
			free(rows[i].source);
			free(rows[i].format);
		}
		free(rows);
	}
	bs_agg_free(agg);
	run_end(c, &r, rc);
	return rc;
}

static int run_analyze(struct cli *c)
{
	const char *outdir = c->output ? c->output : "./breachscope-out";
	char err[BS_ERRBUF_SIZE];
	struct run_ctx r;
	int rc = run_begin(c, &r, "INPUT");
	if (rc >= 0)
		return rc;
	struct bs_input_list list = { 0 };
	struct bs_spill *spill = NULL;
	size_t refused = 0;
	if ((rc = expand_inputs(c, &r, &list, &refused)) >= 0)
		goto out;
	if (!bs_output_prepare(outdir, err, sizeof err)) {
		rc = die_usage("%s", err);
		goto out;
	}
	bs_spill_remove_stale(outdir);
	if (c->timeline_all) {
		spill = bs_spill_new(outdir, err, sizeof err);
		if (!spill) {
			rc = die_usage("%s", err);
			goto out;
		}
	}
	struct bs_scan_result sr;
	scan_inputs(c, &r, &list, spill, &sr);
	rc = finish(c, sr.agg, sr.rows, sr.nrows, sr.damaged || refused ? EXIT_DAMAGED : EXIT_OK, outdir, r.geo, spill);
	bs_agg_free(sr.agg);
out:
	bs_spill_free(spill);
	bs_inputs_free(&list);
	run_end(c, &r, rc);
	return rc;
}

static void cli_free(struct cli *c)
{
	for (size_t i = 0; i < c->cfg.nfleet; i++) {
		free(c->cfg.fleet[i].name);
		free(c->cfg.fleet[i].role);
	}
	free(c->cfg.fleet);
	free(c->cfg.fleet_file);
	for (size_t i = 0; i < c->cfg.nlocal; i++)
		free(c->cfg.local_domains[i]);
	free(c->cfg.local_domains);
	free(c->geoip);
}

int main(int argc, char **argv)
{
	bs_term_guard_stderr(); /* file names and data on stderr are escaped */
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s\n", PACKAGE_STRING);
		return EXIT_OK;
	}
	struct cli c = { .cmd = argv[1] };
	int (*run)(struct cli *) = strcmp(c.cmd, "analyze") == 0 ? run_analyze :
	                           strcmp(c.cmd, "scan") == 0 ? run_scan :
	                           strcmp(c.cmd, "merge") == 0 ? run_merge : NULL;
	if (!run) {
		fprintf(stderr, "breachscope: unknown command \"%s\" (analyze, scan or merge; see --help)\n", c.cmd);
		return EXIT_USAGE;
	}
	int rc = parse_cli(argc, argv, &c);
	if (rc < 0) {
		bs_interrupt_install();
		rc = run(&c);
	}
	cli_free(&c);
	return rc;
}

/* main.c - the command line: breachscope analyze | scan | merge.
 *
 * analyze = scan (inputs -> aggregate) + merge (aggregate -> correlation ->
 * outputs) in one process; scan and merge split the same two stages across
 * machines through state files (see docs/SCALING.md). */
#include "config.h"
#include "engine.h"
#include "geoip.h"
#include "inputs.h"
#include "output.h"
#include "scan.h"
#include "../parsers/syslog.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	      "  -j, --jobs N             worker threads (default: number of processors)\n"
	      "  -q, --quiet              no progress on standard error\n"
	      "      --debug FILE         write the reason for every malformed line to FILE\n"
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
				char err[600];
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

static void free_results_inputs(struct bs_results *r) { bs_results_free(r); }

static int run_analyze(struct cli *c)
{
	const char *outdir = c->output ? c->output : "./breachscope-out";
	char err[1024];
	if (!c->nargs)
		return die_usage("no INPUT given (see --help)", "");
	struct bs_tz tz;
	if (!bs_tz_parse(c->timezone ? c->timezone : "UTC", &tz))
		return die_usage("unknown --timezone \"%s\"", c->timezone);
	struct bs_geoip *geo = NULL;
	if (c->ngeoip) {
		geo = bs_geoip_open(c->geoip, c->ngeoip, err, sizeof err);
		if (!geo)
			return die_usage("%s", err);
	}
	FILE *debug = NULL;
	if (c->debug) {
		debug = fopen(c->debug, "w");
		if (!debug)
			return die_usage("--debug: cannot write \"%s\"", c->debug);
	}
	struct bs_input_list list = { 0 };
	size_t refused = 0;
	if (!bs_inputs_expand(c->args, c->nargs, &list, stderr, &refused, err, sizeof err))
		return die_usage("%s", err);
	if (!bs_output_prepare(outdir, err, sizeof err))
		return die_usage("%s", err);

	struct bs_scan_opts so = { .jobs = c->jobs, .forced_year = c->year, .tz = &tz,
	                           .progress = !c->quiet && isatty(2), .warn = c->quiet ? NULL : stderr,
	                           .debug = debug, .cfg = &c->cfg };
	struct bs_scan_result sr;
	bs_scan(&list, &so, &sr);
	struct bs_results *res = bs_correlate(sr.agg, &c->cfg, sr.rows, sr.nrows);
	bs_agg_free(sr.agg);
	int rc = sr.damaged || refused ? EXIT_DAMAGED : EXIT_OK;
	if (!bs_output_write_all(outdir, res, geo, err, sizeof err)) {
		fprintf(stderr, "breachscope: %s\n", err);
		rc = EXIT_FAIL;
	} else {
		bs_output_summary(stdout, outdir, res, geo);
	}
	free_results_inputs(res);
	bs_inputs_free(&list);
	bs_geoip_close(geo);
	if (debug)
		fclose(debug);
	return rc;
}

int main(int argc, char **argv)
{
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
	if (strcmp(c.cmd, "analyze") != 0) {
		fprintf(stderr, "breachscope: unknown command \"%s\" (analyze; see --help)\n", c.cmd);
		return EXIT_USAGE;
	}
	int rc = parse_cli(argc, argv, &c);
	if (rc >= 0)
		return rc;
	return run_analyze(&c);
}

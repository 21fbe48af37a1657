/* main.c - bs-gen: writes a simulated webmail-fleet incident (maillogs,
 * access logs, edge captures) and its ground truth. See docs/SAMPLES.md. */
#include "config.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "gen.h"

struct gen_opts {
	const char *scenario, *dir;
	uint64_t seed;
	int users, days;
	double scale;
	bool pcapng_flag;
};
int gen_run(const struct gen_opts *o);

static void usage(FILE *fp)
{
	fputs("usage: bs-gen --scenario NAME --seed N --out DIR [--users N] [--days N] [--scale X] [--pcapng] [--fast]\n"
		"  scenarios: reference, clean, maillog-only, two-servers, pcapng-vlan, newyear,\n"
		"             opened-only, opened-only-cut, post-shell, maillog-only-exfil, role-spam,\n"
		"             variety, variety-clean, roundcube, roundcube-logs, owa-logs,\n"
		"             bare-logins\n"
		"  --users N   customer accounts (default 300)\n"
		"  --days N    simulated days (default 28, the exploit on day 15)\n"
		"  --scale X   activity multiplier: sessions, mail and spam rates, backup size (default 1)\n"
		"  --pcapng    write captures as pcapng (pcapng-vlan implies it)\n"
		"  --fast      gzip level 1 instead of 9: same contents, bigger files, several times\n"
		"              faster to write (benchmark archives of 100k+ users)\n", fp);
}

int main(int argc, char **argv)
{
	struct gen_opts o = { NULL, NULL, 1, 300, 28, 1.0, false };
	static const struct option longopts[] = {
		{ "scenario", required_argument, NULL, 's' }, { "seed", required_argument, NULL, 'S' },
		{ "out", required_argument, NULL, 'o' }, { "users", required_argument, NULL, 'u' },
		{ "days", required_argument, NULL, 'd' }, { "scale", required_argument, NULL, 'x' },
		{ "pcapng", no_argument, NULL, 'n' }, { "fast", no_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "s:S:o:u:d:x:nfh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o.scenario = optarg; break;
		case 'S': o.seed = strtoull(optarg, NULL, 10); break;
		case 'o': o.dir = optarg; break;
		case 'u': o.users = atoi(optarg); break;
		case 'd': o.days = atoi(optarg); break;
		case 'x': o.scale = atof(optarg); break;
		case 'n': o.pcapng_flag = true; break;
		case 'f': gzf_set_fast(true); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.scenario || !o.dir || optind != argc || o.users < 20 || o.users > 10000000 || o.days < 1 || o.days > 3650 ||
		!(o.scale > 0 && o.scale < 10000)) {
		usage(stderr);
		return 2;
	}
	mkdir(o.dir, 0755);
	struct stat st;
	if (stat(o.dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "bs-gen: cannot create %s\n", o.dir);
		return 1;
	}
	return gen_run(&o);
}

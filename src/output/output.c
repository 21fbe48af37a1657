/* output.c - the result files and the verdict on standard output.
 *
 * The CSV columns, their order and their value sets are SPEC.md's contract
 * (docs/OUTPUTS.md documents them for the notification pipeline). The
 * writers are deliberately dumb: rows go out in the order of the bs_results
 * arrays, which the engine sorts, so that equal results give byte-identical
 * files. Nothing here takes a path from the data. */
#include "config.h"
#include "src/output/output.h"
#include "src/core/interrupt.h"
#include "src/output/spill.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* report.c; there is no private header for the writers' area. */

/* ------------------------------------------------------------ cell helpers */

static void cell_u64(struct bs_csv *c, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof buf, "%" PRIu64, v);
	bs_csv_cell(c, buf, (size_t)n);
}

/* servers.csv and exposed_addresses.csv use whole seconds: their times are
 * window bounds, and a stable format is easier on the pipeline. */
static void cell_time(struct bs_csv *c, bs_time t, int frac_digits)
{
	char buf[40];
	bs_time_format(t, frac_digits, buf, sizeof buf);
	bs_csv_cellz(c, buf);
}

static void cell_ip(struct bs_csv *c, const bs_ip *ip)
{
	char buf[BS_IP_STRLEN];
	bs_ip_format(ip, buf, sizeof buf);
	bs_csv_cellz(c, buf);
}

/* A ';'-joined list of the names of the bits set in mask, in enum order. */
static void cell_names(struct bs_csv *c, unsigned mask, unsigned count, const char *(*name)(unsigned))
{
	char buf[256];
	size_t len = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < count; i++) {
		if (!(mask & (1u << i)))
			continue;
		int n = snprintf(buf + len, sizeof buf - len, "%s%s", len ? ";" : "", name(i));
		if (n < 0 || (size_t)n >= sizeof buf - len)
			break;
		len += (size_t)n;
	}
	bs_csv_cell(c, buf, len);
}

static const char *signal_name(unsigned i) { return bs_signal_name((enum bs_signal)i); }
static const char *category_name(unsigned i) { return bs_category_name((enum bs_category)i); }
static const char *action_name(unsigned i) { return bs_action_name((enum bs_action)i); }

static void header(struct bs_csv *c, const char *const *names)
{
	for (; *names; names++)
		bs_csv_cellz(c, *names);
	bs_csv_end_row(c);
}

/* --------------------------------------------------------------- the files */

static bool write_servers(FILE *f, const struct bs_results *r, struct bs_geoip *geo)
{
	(void)geo; /* same signature as the writers that enrich */
	static const char *const cols[] = { "server", "address", "verdict", "score", "window_start",
		"window_end", "tamper_start", "tamper_end", "signals", "attacker_ips", "evidence", NULL };
	struct bs_csv *c = bs_csv_open(f);
	char *ips = NULL;
	size_t ips_cap = 0;
	header(c, cols);
	for (size_t i = 0; i < r->nservers; i++) {
		const struct bs_server_result *s = &r->servers[i];
		bs_csv_cellz(c, s->name);
		bs_csv_cellz(c, s->addresses);
		bs_csv_cellz(c, bs_verdict_name(s->verdict));
		char score[32] = "";
		/* Two decimals: enough to rank, stable across platforms. */
		if (isfinite(s->score))
			snprintf(score, sizeof score, "%.2f", s->score);
		bs_csv_cellz(c, score);
		cell_time(c, s->window_start, 0);
		cell_time(c, s->window_end, 0);
		cell_time(c, s->tamper_start, 0);
		cell_time(c, s->tamper_end, 0);
		cell_names(c, s->signals, BS_SIG_COUNT, signal_name);
		size_t need = s->nattacker_ips * BS_IP_STRLEN + 1;
		if (need > ips_cap) {
			ips_cap = need;
			ips = bs_xrealloc(ips, ips_cap);
		}
		size_t len = 0;
		for (size_t k = 0; k < s->nattacker_ips; k++) {
			char one[BS_IP_STRLEN];
			bs_ip_format(&s->attacker_ips[k], one, sizeof one);
			if (!one[0])
				continue;
			if (len)
				ips[len++] = ';';
			size_t n = strlen(one);
			memcpy(ips + len, one, n);
			len += n;
		}
		bs_csv_cell(c, ips, len);
		cell_u64(c, s->evidence);
		bs_csv_end_row(c);
	}
	free(ips);
	bs_csv_close(c);
	return !ferror(f);
}

static bool write_exposed(FILE *f, const struct bs_results *r, struct bs_geoip *geo)
{
	(void)geo; /* same signature as the writers that enrich */
	static const char *const cols[] = { "address", "domain", "customer", "categories", "risk",
		"action", "first_seen", "last_seen", "servers", "evidence", "basis", NULL };
	struct bs_csv *c = bs_csv_open(f);
	header(c, cols);
	for (size_t i = 0; i < r->nexposed; i++) {
		const struct bs_exposed *e = &r->exposed[i];
		bs_csv_cellz(c, e->address);
		bs_csv_cellz(c, e->domain);
		bs_csv_cellz(c, e->customer ? "1" : "0");
		cell_names(c, e->categories, BS_CAT_COUNT, category_name);
		bs_csv_cellz(c, bs_risk_name(e->risk));
		cell_names(c, e->actions, BS_ACT_COUNT, action_name);
		cell_time(c, e->first_seen, 0);
		cell_time(c, e->last_seen, 0);
		bs_csv_cellz(c, e->servers);
		cell_u64(c, e->evidence);
		bs_csv_cellz(c, bs_basis_name(e->basis));
		bs_csv_end_row(c);
	}
	bs_csv_close(c);
	return !ferror(f);
}

/* The timeline repeats the same few outside addresses over and over: a
 * small direct-mapped cache spares most database lookups. */
#define GEO_CACHE_SLOTS 256
struct geo_slot {
	bool used;
	bs_ip ip;
	struct bs_geo_info info;
};

static const struct bs_geo_info *geo_cached(struct geo_slot *cache, struct bs_geoip *geo, const bs_ip *ip)
{
	struct geo_slot *slot = &cache[bs_ip_hash(ip) % GEO_CACHE_SLOTS];
	if (!slot->used || !bs_ip_eq(&slot->ip, ip)) {
		slot->used = true;
		slot->ip = *ip;
		bs_geoip_lookup(geo, ip, &slot->info);
	}
	return &slot->info;
}

static void timeline_row(struct bs_csv *c, const struct bs_results *r, const struct bs_timeline_row *t,
                         struct geo_slot *cache, struct bs_geoip *geo)
{
	cell_time(c, t->ts, t->frac_digits);
	char usec[24] = "";
	if (t->ts != BS_TIME_NONE)
		snprintf(usec, sizeof usec, "%" PRId64, t->ts);
	bs_csv_cellz(c, usec);
	bs_csv_cellz(c, t->timestamp_desc);
	bs_csv_cellz(c, t->message);
	bs_csv_cellz(c, t->event);
	bs_csv_cellz(c, bs_severity_name(t->severity));
	bs_csv_cellz(c, t->server);
	cell_ip(c, &t->src_ip);
	const struct bs_geo_info *gi = NULL;
	if (cache && t->src_ip.family)
		gi = geo_cached(cache, geo, &t->src_ip);
	bs_csv_cellz(c, gi ? gi->country : "");
	bs_csv_cellz(c, gi ? gi->asn : "");
	cell_ip(c, &t->dst_ip);
	bs_csv_cellz(c, t->user);
	bs_csv_cellz(c, t->address);
	bs_csv_cellz(c, t->input < r->ninputs ? r->inputs[t->input].source : "");
	/* Line and packet numbers start at 1: 0 means the row has none. */
	if (t->source_ref)
		cell_u64(c, t->source_ref);
	else
		bs_csv_cell(c, NULL, 0);
	bs_csv_end_row(c);
}

/* Notable rows first when an event row has the same time and position. */
static bool notable_first(const struct bs_timeline_row *n, const struct bs_timeline_row *e)
{
	if (n->ts != e->ts)
		return n->ts < e->ts;
	if (n->input != e->input)
		return n->input < e->input;
	return n->source_ref <= e->source_ref;
}

static bool write_timeline(FILE *f, const struct bs_results *r, struct bs_geoip *geo)
{
	static const char *const cols[] = { "datetime", "timestamp", "timestamp_desc", "message",
		"event", "severity", "server", "src_ip", "src_country", "src_asn", "dst_ip", "user",
		"address", "source", "source_ref", NULL };
	struct bs_csv *c = bs_csv_open(f);
	struct geo_slot *cache = geo ? bs_xcalloc(GEO_CACHE_SLOTS, sizeof *cache) : NULL;
	header(c, cols);
	/* --timeline all: merge every event (already in order) with the notable rows */
	struct bs_timeline_row ev;
	bool have = r->timeline_all && bs_spill_next(r->timeline_all, &ev);
	size_t i = 0;
	while (i < r->ntimeline || have) {
		if (i < r->ntimeline && (!have || notable_first(&r->timeline[i], &ev))) {
			timeline_row(c, r, &r->timeline[i++], cache, geo);
		} else {
			timeline_row(c, r, &ev, cache, geo);
			have = bs_spill_next(r->timeline_all, &ev);
		}
	}
	free(cache);
	bs_csv_close(c);
	return !ferror(f);
}

static bool write_input_stats(FILE *f, const struct bs_results *r, struct bs_geoip *geo)
{
	(void)geo; /* same signature as the writers that enrich */
	static const char *const cols[] = { "source", "format", "bytes", "records", "parsed",
		"ignored", "malformed", "truncated", NULL };
	struct bs_csv *c = bs_csv_open(f);
	header(c, cols);
	for (size_t i = 0; i < r->ninputs; i++) {
		const struct bs_input_row *in = &r->inputs[i];
		bs_csv_cellz(c, in->source);
		bs_csv_cellz(c, in->format);
		cell_u64(c, in->st.bytes);
		cell_u64(c, in->st.records);
		cell_u64(c, in->st.parsed);
		cell_u64(c, in->st.ignored);
		cell_u64(c, in->st.malformed);
		bs_csv_cellz(c, in->st.truncated ? "1" : "0");
		bs_csv_end_row(c);
	}
	bs_csv_close(c);
	return !ferror(f);
}

/* ---------------------------------------------------------- atomic replace */

static const struct result_file {
	const char *name;
	bool (*write)(FILE *f, const struct bs_results *r, struct bs_geoip *geo);
} result_files[] = {
	{ "servers.csv", write_servers },
	{ "exposed_addresses.csv", write_exposed },
	{ "timeline.csv", write_timeline },
	{ "input_stats.csv", write_input_stats },
	{ "report.html", bs_report_write },
};
#define NRESULT_FILES (sizeof result_files / sizeof result_files[0])

/* The probe of bs_output_prepare, a temporary like the others. */
#define PROBE_NAME ".breachscope-probe"

/* Temporaries "<name>.tmp.<pid>" of runs that died are removed (interrupt.h);
 * those of a live process (a concurrent run) are left alone. */
static void remove_stale_temps(const char *dir)
{
	char path[PATH_MAX];
	for (size_t i = 0; i <= NRESULT_FILES; i++) {
		const char *name = i < NRESULT_FILES ? result_files[i].name : PROBE_NAME;
		if (snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path)
			bs_temp_remove_stale(path);
	}
}

/* ------------------------------------------------------ the directory lock */

/* Two runs writing into one directory at once would each rename its five
 * files, and the set left could be made of both. The whole writing of a
 * set (stale temporaries removed, temporaries written, renames) holds an
 * exclusive flock on DIR/.breachscope.lock. A second run waits for it at
 * most lock_wait_seconds, then fails naming the directory: never a mix.
 *
 * The holder unlinks the lock file before releasing it, so no run leaves
 * it behind; a waiter that then gets the lock on the unlinked file sees
 * that the name no longer leads to it and starts over (the classic
 * "lock file, then check it is still the one" of lockfile-create). */
#define LOCK_NAME ".breachscope.lock"
#define LOCK_WAIT_DEFAULT 60

static int lock_wait_seconds(void)
{
	/* for tests, and for a site whose writes take longer */
	const char *env = getenv("BREACHSCOPE_LOCK_WAIT");
	char *end;
	long v = env && *env ? strtol(env, &end, 10) : -1;
	if (v < 0 || v > 86400 || (env && *env && *end))
		return LOCK_WAIT_DEFAULT;
	return (int)v;
}

static int lock_dir(const char *dir, char *path, int *slot, char *err, size_t errlen)
{
	if (snprintf(path, PATH_MAX, "%s/%s", dir, LOCK_NAME) >= PATH_MAX) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	int wait_s = lock_wait_seconds();
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool told = false;
	for (;;) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			snprintf(err, errlen, "%s: cannot open the lock file %s: %s", dir, LOCK_NAME, strerror(errno));
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			struct stat held, named;
			if (fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_dev == named.st_dev &&
			    held.st_ino == named.st_ino) {
				fchmod(fd, 0600); /* the umask narrows open's mode, never widens it */
				*slot = bs_interrupt_add_temp(path); /* a signal removes it too */
				return fd;
			}
			close(fd); /* unlinked by the run that held it: take the new one */
			continue;
		}
		int e = errno;
		close(fd);
		if (e != EWOULDBLOCK && e != EINTR) {
			snprintf(err, errlen, "%s: cannot lock %s: %s", dir, LOCK_NAME, strerror(e));
			return -1;
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= wait_s) {
			snprintf(err, errlen, "%s: another breachscope run is writing its results there (%s locked); "
			         "waited %d s, wrote nothing: run again when it is done, or use another -o",
			         dir, LOCK_NAME, wait_s);
			return -1;
		}
		if (!told) {
			/* stderr escapes it (bs_term_guard_stderr) */
			fprintf(stderr, "breachscope: %s: another breachscope run is writing its results there; "
			        "waiting up to %d s\n", dir, wait_s);
			told = true;
		}
		struct timespec nap = { 0, 100 * 1000 * 1000 };
		nanosleep(&nap, NULL);
	}
}

static void unlock_dir(int fd, const char *path, int slot)
{
	unlink(path); /* while still held: see above */
	bs_interrupt_forget(slot);
	close(fd);
}

static bool make_dirs(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof path) {
		snprintf(err, errlen, "%s: bad output directory name", dir);
		return false;
	}
	memcpy(path, dir, n + 1);
	/* mkdir -p, each new level private to the user: results name people. */
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != 0)
			continue;
		char saved = path[i];
		path[i] = 0;
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
			return false;
		}
		path[i] = saved;
	}
	return true;
}

bool bs_output_prepare(const char *dir, char *err, size_t errlen)
{
	if (!make_dirs(dir, err, errlen))
		return false;
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return false;
	}
	/* access() says yes to root on a read-only mount: create a file instead. */
	char probe[PATH_MAX];
	if (snprintf(probe, sizeof probe, "%s/" PROBE_NAME ".tmp.%ld", dir, (long)getpid()) >= (int)sizeof probe) {
		snprintf(err, errlen, "%s: path too long", dir);
		return false;
	}
	int fd = open(probe, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: not writable: %s", dir, strerror(errno));
		return false;
	}
	close(fd);
	unlink(probe);
	remove_stale_temps(dir);
	return true;
}

/* Write one result into a fresh temporary; false with err set on failure. */
static bool write_temp(const char *tmp, const struct result_file *rf, const struct bs_results *r,
                       struct bs_geoip *geo, bool *created, char *err, size_t errlen)
{
	int fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	*created = fd >= 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return false;
	}
	/* open's mode is narrowed by the umask, never widened; make it exact. */
	FILE *f = fchmod(fd, 0600) == 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		return false;
	}
	bool ok = rf->write(f, r, geo);
	ok = fflush(f) == 0 && ok && !ferror(f);
	int saved = errno;
	if (ok && fsync(fd) < 0) {
		saved = errno;
		ok = false;
	}
	if (fclose(f) != 0 && ok) {
		saved = errno;
		ok = false;
	}
	if (!ok)
		snprintf(err, errlen, "%s: write failed: %s", tmp, saved ? strerror(saved) : "error");
	return ok;
}

bool bs_output_write_all(const char *dir, const struct bs_results *r, struct bs_geoip *geo,
                         char *err, size_t errlen)
{
	char tmp[NRESULT_FILES][PATH_MAX], final[NRESULT_FILES][PATH_MAX];
	int slot[NRESULT_FILES];
	size_t ntemps = 0, nslots = 0; /* temporaries created; registered with interrupt.h */
	bool ok = true;
	char lock_path[PATH_MAX];
	int lock_slot;
	int lock = lock_dir(dir, lock_path, &lock_slot, err, errlen);
	if (lock < 0)
		return false;

	remove_stale_temps(dir);
	for (size_t i = 0; i < NRESULT_FILES && ok; i++) {
		int a = snprintf(tmp[i], PATH_MAX, "%s/%s.tmp.%ld", dir, result_files[i].name, (long)getpid());
		int b = snprintf(final[i], PATH_MAX, "%s/%s", dir, result_files[i].name);
		if (a < 0 || a >= PATH_MAX || b < 0 || b >= PATH_MAX) {
			snprintf(err, errlen, "%s: path too long", dir);
			ok = false;
			break;
		}
		bool created;
		slot[nslots++] = bs_interrupt_add_temp(tmp[i]); /* before it exists: no window */
		ok = write_temp(tmp[i], &result_files[i], r, geo, &created, err, errlen);
		if (created)
			ntemps = i + 1; /* a failed temp may exist half-written: remove it too */
	}
	/* Refuse before the first rename what would make a later rename fail,
	 * so a failure leaves the older results whole. */
	for (size_t i = 0; i < NRESULT_FILES && ok; i++) {
		struct stat st;
		if (lstat(final[i], &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
			snprintf(err, errlen, "%s: exists and is not a regular file", final[i]);
			ok = false;
		}
	}
	/* The set is published whole: SIGINT or SIGTERM now waits until the
	 * renames are done (interrupt.h). */
	sigset_t saved;
	bs_interrupt_hold(&saved);
	size_t renamed = 0;
	for (size_t i = 0; i < NRESULT_FILES && ok; i++) {
		if (rename(tmp[i], final[i]) < 0) {
			snprintf(err, errlen, "%s: cannot rename into place: %s", final[i], strerror(errno));
			ok = false;
			break;
		}
		bs_interrupt_forget(slot[i]);
		renamed = i + 1;
	}
	for (size_t i = renamed; i < nslots; i++) {
		if (i < ntemps)
			unlink(tmp[i]);
		bs_interrupt_forget(slot[i]);
	}
	bs_interrupt_release(&saved);
	/* Make the renames themselves durable. */
	int dfd = ok ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	unlock_dir(lock, lock_path, lock_slot);
	return ok;
}

/* ----------------------------------------------------------------- summary */

/* Server names and the like come from the data: keep terminal control
 * sequences in them from reaching the responder's terminal. */
static void put_safe(FILE *out, const char *s)
{
	bs_term_puts(out, s);
}

static void put_window(FILE *out, const char *what, bs_time a, bs_time b)
{
	char ta[40], tb[40];
	if (a == BS_TIME_NONE)
		return;
	bs_time_format(a, 0, ta, sizeof ta);
	bs_time_format(b == BS_TIME_NONE ? a : b, 0, tb, sizeof tb);
	fprintf(out, "\n    %s %s .. %s", what, ta, tb);
}

static void put_signals(FILE *out, unsigned mask)
{
	const char *sep = "";
	for (unsigned i = 0; i < BS_SIG_COUNT; i++)
		if (mask & (1u << i)) {
			fprintf(out, "%s%s", sep, bs_signal_name((enum bs_signal)i));
			sep = ", ";
		}
}

static int cmp_ip(const void *a, const void *b)
{
	return bs_ip_cmp(a, b);
}

/* The summary lists this many attacker addresses; servers.csv has them all. */
#define SUMMARY_MAX_ATTACKERS 20

static void put_attackers(FILE *out, const struct bs_results *r, struct bs_geoip *geo)
{
	size_t total = 0;
	for (size_t i = 0; i < r->nservers; i++)
		total += r->servers[i].nattacker_ips;
	if (total == 0)
		return;
	/* The same address may be attributed on several servers: list it once. */
	bs_ip *all = bs_xmalloc(total * sizeof *all);
	size_t n = 0;
	for (size_t i = 0; i < r->nservers; i++)
		for (size_t k = 0; k < r->servers[i].nattacker_ips; k++)
			all[n++] = r->servers[i].attacker_ips[k];
	qsort(all, n, sizeof *all, cmp_ip);
	size_t unique = 0;
	for (size_t i = 0; i < n; i++)
		if (unique == 0 || !bs_ip_eq(&all[unique - 1], &all[i]))
			all[unique++] = all[i];
	fprintf(out, "attacker addresses: %zu\n", unique);
	for (size_t i = 0; i < unique && i < SUMMARY_MAX_ATTACKERS; i++) {
		char ip[BS_IP_STRLEN];
		bs_ip_format(&all[i], ip, sizeof ip);
		fprintf(out, "    %s", ip);
		if (geo) {
			struct bs_geo_info gi;
			bs_geoip_lookup(geo, &all[i], &gi);
			fprintf(out, "  %s  ", gi.country[0] ? gi.country : "--");
			put_safe(out, gi.asn);
		}
		fputc('\n', out);
	}
	if (unique > SUMMARY_MAX_ATTACKERS)
		fprintf(out, "    ... and %zu more (servers.csv)\n", unique - SUMMARY_MAX_ATTACKERS);
	free(all);
}

void bs_output_summary(FILE *out, const char *dir, const struct bs_results *r, struct bs_geoip *geo)
{
	size_t ncomp = 0, nsusp = 0;
	for (size_t i = 0; i < r->nservers; i++) {
		ncomp += r->servers[i].verdict == BS_V_COMPROMISED;
		nsusp += r->servers[i].verdict == BS_V_SUSPICIOUS;
	}
	fprintf(out, "servers judged: %zu (", r->nservers);
	put_safe(out, r->fleet_origin ? r->fleet_origin : "fleet unknown");
	fprintf(out, ")\n");
	if (ncomp == 0)
		fprintf(out, "compromised: none\n");
	for (size_t i = 0; i < r->nservers; i++) {
		const struct bs_server_result *s = &r->servers[i];
		if (s->verdict != BS_V_COMPROMISED && s->verdict != BS_V_SUSPICIOUS)
			continue;
		fprintf(out, "%s: ", s->verdict == BS_V_COMPROMISED ? "COMPROMISED" : "suspicious");
		put_safe(out, s->name);
		fprintf(out, " (score %.2f; ", isfinite(s->score) ? s->score : 0.0);
		put_signals(out, s->signals);
		fputc(')', out);
		put_window(out, "attacker access", s->window_start, s->window_end);
		put_window(out, "tampered pages ", s->tamper_start, s->tamper_end);
		fputc('\n', out);
	}
	if (nsusp == 0 && ncomp > 0)
		fprintf(out, "suspicious: none\n");
	put_attackers(out, r, geo);
	uint64_t total = r->risk_counts[BS_RISK_HIGH] + r->risk_counts[BS_RISK_MEDIUM] + r->risk_counts[BS_RISK_LOW];
	fprintf(out, "exposed addresses: %" PRIu64 " (high %" PRIu64 ", medium %" PRIu64 ", low %" PRIu64 ")\n",
	        total, r->risk_counts[BS_RISK_HIGH], r->risk_counts[BS_RISK_MEDIUM], r->risk_counts[BS_RISK_LOW]);
	if (total) {
		fprintf(out, "    by category:");
		for (unsigned i = 0; i < BS_CAT_COUNT; i++)
			fprintf(out, "%s %s %" PRIu64, i ? "," : "", bs_category_name((enum bs_category)i),
			        r->category_counts[i]);
		fprintf(out, "\n    by basis: observed %" PRIu64 " (in a copy the attacker was seen to take, or observed"
		        " through the compromised server), inferred %" PRIu64 "\n",
		        r->basis_counts[BS_BASIS_OBSERVED], r->basis_counts[BS_BASIS_INFERRED]);
		if (r->tables_whole[0] || r->tables_cut[0])
			fprintf(out, "    stolen tables seen: whole %s; cut %s\n", r->tables_whole[0] ? r->tables_whole : "none",
			        r->tables_cut[0] ? r->tables_cut : "none");
	}
	if (r->spam_onset != BS_TIME_NONE) {
		char t[40];
		bs_time_format(r->spam_onset, 0, t, sizeof t);
		fprintf(out, "spam onset: %s (spam to exposed addresses: %" PRIu64 " before, %" PRIu64 " after)\n",
		        t, r->spam_exposed_before, r->spam_exposed_after);
	} else {
		fprintf(out, "spam onset: none seen\n");
	}
	size_t damaged = 0;
	uint64_t rcpts_dropped = 0;
	for (size_t i = 0; i < r->ninputs; i++) {
		damaged += r->inputs[i].st.truncated;
		rcpts_dropped += r->inputs[i].st.rcpts_dropped;
	}
	if (damaged)
		fprintf(out, "damaged or truncated inputs: %zu of %zu (see input_stats.csv)\n", damaged, r->ninputs);
	uint64_t evicted, by_memcap;
	bs_results_evictions(r, &evicted, &by_memcap);
	if (evicted)
		fprintf(out, "flows evicted before their end: %" PRIu64 " (%" PRIu64 " by the memory cap, --memcap);"
		        " what their parsers held is reported\n", evicted, by_memcap);
	if (rcpts_dropped)
		fprintf(out, "recipients not kept: %" PRIu64 " (not an address, or beyond a parser's bound; see --debug)\n",
		        rcpts_dropped);
	if (r->bare_logins && r->bare_domain[0]) {
		fprintf(out, "logins by bare user names: %" PRIu64 ", taken as NAME@", r->bare_logins);
		put_safe(out, r->bare_domain);
		fprintf(out, r->bare_domain_from_mail ? " (the domain of the mail those names receive; give --local-domain to"
		                                        " choose)\n"
		             : r->bare_domain_inferred ? " (the one domain of the logins by address; give --local-domain to"
		                                         " choose)\n"
		                                       : " (the only --local-domain)\n");
	} else if (r->bare_logins) {
		fprintf(out, "logins by bare user names: %" PRIu64 ", tied to no address (give --local-domain when the"
		        " fleet serves one domain)\n", r->bare_logins);
	}
	uint64_t flows, encrypted;
	bs_results_flows(r, &flows, &encrypted);
	if (encrypted)
		fprintf(out, "capture flows encrypted: %" PRIu64 " of %" PRIu64 " (TLS or SSH, from the start or after"
		        " STARTTLS: what they carried cannot be read; the servers' logs are the evidence for it)\n", encrypted, flows);
	fprintf(out, "results: ");
	put_safe(out, dir);
	fprintf(out, "/{servers.csv,exposed_addresses.csv,timeline.csv,input_stats.csv,report.html}\n");
}

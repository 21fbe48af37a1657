/* scan.c - the scan stage: every input through its parser into an aggregate.
 *
 * Every input is an independent task (a capture file has its own TCP
 * reassembly), biggest first. Each worker thread has its own aggregate; the
 * aggregates are merged at the end (merging is commutative, so the result
 * does not depend on the number of threads or the scheduling). */
#include "config.h"
#include "scan.h"
#include "agg.h"
#include "spill.h"
#include "tables.h"
#include "input.h"
#include "../parsers/maillog.h"
#include "../parsers/capture.h"
#include "../parsers/proto.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct task {
	size_t *inputs;        /* indexes into the input list */
	size_t ninputs;
};

struct shared {
	const struct bs_input_list *list;
	const struct bs_scan_opts *o;
	struct bs_input_row *rows;
	struct task *tasks;
	size_t ntasks;
	atomic_size_t next;
	atomic_uint_fast64_t bytes_done;
	uint64_t bytes_total;
	atomic_bool damaged;
	pthread_mutex_t warn_lock;
};

static void warnf(struct shared *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void warnf(struct shared *sh, const char *fmt, ...)
{
	if (!sh->o->warn)
		return;
	va_list ap;
	pthread_mutex_lock(&sh->warn_lock);
	va_start(ap, fmt);
	fputs("breachscope: ", sh->o->warn);
	vfprintf(sh->o->warn, fmt, ap);
	fputc('\n', sh->o->warn);
	va_end(ap);
	pthread_mutex_unlock(&sh->warn_lock);
}

void bs_scan_server_of_path(const char *path, const struct bs_engine_config *cfg, char *out, size_t size)
{
	out[0] = 0;
	/* a path component naming a fleet server */
	if (cfg) {
		for (size_t i = 0; i < cfg->nfleet; i++) {
			const char *name = cfg->fleet[i].name;
			size_t n = strlen(name);
			for (const char *p = path; (p = strstr(p, name)) != NULL; p++) {
				bool left = p == path || p[-1] == '/';
				bool right = p[n] == '/' || p[n] == '.' || p[n] == '_' || p[n] == '-';
				if (left && right && strchr(p + n, '/')) {
					snprintf(out, size, "%s", name);
					return;
				}
			}
		}
	}
	/* else the directory holding the file, skipping generic names */
	static const char *const generic[] = { "log", "logs", "apache", "apache2", "httpd", "nginx", "var",
	                                       "www", "web", "access", "archive", "." };
	const char *end = strrchr(path, '/');
	while (end && end > path) {
		const char *start = end - 1;
		while (start > path && start[-1] != '/')
			start--;
		size_t n = (size_t)(end - start);
		bool gen = n == 0;
		for (size_t i = 0; i < sizeof generic / sizeof *generic && !gen; i++)
			if (strlen(generic[i]) == n && strncmp(start, generic[i], n) == 0)
				gen = true;
		if (!gen) {
			snprintf(out, size, "%.*s", (int)n, start);
			return;
		}
		end = start > path ? start - 1 : NULL;
	}
}

/* Where a worker's events go: its aggregate, and with --timeline all its
 * spill writer. Access-log events get their server from the input path. */
struct tee {
	struct bs_agg *agg;
	struct bs_spill_writer *spill;
	char server[128];
};

static void tee_fn(void *ctx, const struct bs_event *ev)
{
	struct tee *t = ctx;
	struct bs_event copy;
	if (ev->type == BS_EV_HTTP && ev->u.http.from_access_log && !ev->host.n && t->server[0]) {
		copy = *ev;
		copy.host = bs_str_make(t->server, strlen(t->server));
		ev = &copy;
	}
	bs_agg_sink(t->agg, ev);
	if (t->spill)
		bs_spill_event(t->spill, ev);
}

static void scan_text(struct shared *sh, size_t ix, struct bs_reader *r, struct tee *ts)
{
	struct bs_input_row *row = &sh->rows[ix];
	const char *path = sh->list->paths[ix];
	bs_scan_server_of_path(path, sh->o->cfg, ts->server, sizeof ts->server);
	struct bs_sink sink = { tee_fn, ts };
	struct bs_maillog_opts mo = { .forced_year = sh->o->forced_year, .ref_epoch = bs_reader_mtime(r),
	                              .tz = sh->o->tz, .input = (uint32_t)ix, .debug = sh->o->debug };
	struct bs_maillog *m = bs_maillog_new(&mo, &sink);
	struct bs_lines *lines = bs_lines_new(r);
	bs_str line;
	bool too_long;
	uint64_t last_raw = 0, n = 0;
	while (bs_lines_next(lines, &line, &too_long)) {
		uint64_t lineno = bs_lines_lineno(lines);
		if (too_long) {
			bs_stats_count(&row->st, BS_MALFORMED);
			if (sh->o->debug)
				fprintf(sh->o->debug, "%s:%llu: line longer than %u bytes\n", path,
				        (unsigned long long)lineno, BS_LINE_MAX);
		} else {
			bs_stats_count(&row->st, bs_maillog_line(m, line.p, line.n, lineno));
		}
		if ((++n & 0xffff) == 0) {
			uint64_t raw = bs_reader_raw_bytes(r);
			atomic_fetch_add(&sh->bytes_done, raw - last_raw);
			last_raw = raw;
		}
	}
	bs_maillog_finish(m);
	bs_maillog_free(m);
	bs_lines_free(lines);
	atomic_fetch_add(&sh->bytes_done, bs_reader_raw_bytes(r) - last_raw);
}

static void scan_capture(struct shared *sh, size_t ix, struct bs_reader *r, enum bs_format fmt, struct tee *ts)
{
	struct bs_input_row *row = &sh->rows[ix];
	ts->server[0] = 0;
	struct bs_sink sink = { tee_fn, ts };
	struct bs_dispatch *d = bs_dispatch_new((uint32_t)ix, &sink);
	struct bs_capture_opts co = { .input = (uint32_t)ix, .warn = sh->o->warn, .name = sh->list->paths[ix] };
	struct bs_capture *cap = bs_capture_new(&co, bs_dispatch_ops(), d, &sink);
	char err[512] = "";
	if (!bs_capture_read(cap, r, fmt, &row->st, err, sizeof err)) {
		row->st.truncated = true;
		if (err[0])
			warnf(sh, "%s: %s", sh->list->paths[ix], err);
	}
	bs_capture_finish(cap, BS_TIME_NONE);
	bs_capture_free(cap);
	bs_dispatch_free(d);
	atomic_fetch_add(&sh->bytes_done, bs_reader_raw_bytes(r));
}

static void scan_one(struct shared *sh, size_t ix, struct tee *tee)
{
	struct bs_agg *agg = tee->agg;
	struct bs_input_row *row = &sh->rows[ix];
	const char *path = sh->list->paths[ix];
	char err[512];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (!r) {
		warnf(sh, "%s", err);
		row->format = bs_xstrndup("unreadable", 10);
		row->st.truncated = true;
		atomic_store(&sh->damaged, true);
		return;
	}
	uint8_t head[4096];
	size_t nh = bs_reader_peek(r, head, sizeof head);
	enum bs_format fmt = bs_detect_format(head, nh);
	const char *fname = bs_format_name(fmt, bs_reader_is_gzip(r));
	row->format = bs_xstrndup(fname, strlen(fname));
	if (fmt == BS_FMT_PCAP || fmt == BS_FMT_PCAPNG)
		scan_capture(sh, ix, r, fmt, tee);
	else if (fmt != BS_FMT_EMPTY)
		scan_text(sh, ix, r, tee);
	bs_agg_end_input(agg);
	row->st.bytes = bs_reader_raw_size(r) ? bs_reader_raw_size(r) : bs_reader_raw_bytes(r);
	if (bs_reader_damaged(r)) {
		row->st.truncated = true;
		warnf(sh, "%s: %s", path, bs_reader_damage(r));
	}
	if (row->st.truncated)
		atomic_store(&sh->damaged, true);
	bs_reader_close(r);
}

struct worker {
	struct shared *sh;
	struct bs_agg *agg;
	pthread_t th;
};

static void worker_tasks(struct worker *w);

static void *worker_main(void *arg)
{
	worker_tasks(arg);
	return NULL;
}

static void worker_tasks(struct worker *w)
{
	struct shared *sh = w->sh;
	struct tee tee = { .agg = w->agg };
	if (sh->o->spill)
		tee.spill = bs_spill_writer_new(sh->o->spill);
	for (;;) {
		size_t t = atomic_fetch_add(&sh->next, 1);
		if (t >= sh->ntasks)
			break;
		for (size_t i = 0; i < sh->tasks[t].ninputs; i++)
			scan_one(sh, sh->tasks[t].inputs[i], &tee);
	}
	if (tee.spill && !bs_spill_writer_close(tee.spill))
		warnf(sh, "--timeline all: cannot write the event spill files");
}

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct progress {
	struct shared *sh;
	atomic_bool stop;
	pthread_t th;
};

static void *progress_main(void *arg)
{
	struct progress *p = arg;
	double t0 = now_sec();
	while (!atomic_load(&p->stop)) {
		struct timespec ts = { 0, 250 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		double el = now_sec() - t0;
		uint64_t done = atomic_load(&p->sh->bytes_done), total = p->sh->bytes_total;
		double rate = el > 0 ? (double)done / el : 0;
		double left = rate > 0 && total > done ? (double)(total - done) / rate : 0;
		fprintf(stderr, "\r  read %.1f of %.1f MB, %.1f MB/s, %.0f s left   ", (double)done / 1e6,
		        (double)total / 1e6, rate / 1e6, left);
		fflush(stderr);
	}
	fputs("\r\033[K", stderr);
	return NULL;
}

struct cap_order { size_t ix; int64_t t; };
static int cmp_cap(const void *x, const void *y)
{
	const struct cap_order *a = x, *b = y;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->ix < b->ix ? -1 : a->ix > b->ix;
}

void bs_scan(const struct bs_input_list *list, const struct bs_scan_opts *o, struct bs_scan_result *out)
{
	struct shared sh = { .list = list, .o = o };
	pthread_mutex_init(&sh.warn_lock, NULL);
	sh.rows = bs_xcalloc(list->n ? list->n : 1, sizeof *sh.rows);
	for (size_t i = 0; i < list->n; i++)
		sh.rows[i].source = bs_xstrndup(list->paths[i], strlen(list->paths[i]));
	/* tasks: one per input. Each capture has its own reassembly (a
	 * connection that spans two rotated files is seen as two), so captures
	 * are independent too; the largest inputs go first so that the last
	 * task to finish is a small one. */
	sh.tasks = bs_xcalloc(list->n + 1, sizeof *sh.tasks);
	struct cap_order *order = bs_xcalloc(list->n + 1, sizeof *order);
	for (size_t i = 0; i < list->n; i++) {
		char err[256];
		struct bs_reader *r = strcmp(list->paths[i], "-") == 0 ? NULL : bs_reader_open(list->paths[i], err, sizeof err);
		int64_t size = 0;
		if (r) {
			size = (int64_t)bs_reader_raw_size(r);
			sh.bytes_total += (uint64_t)size;
			bs_reader_close(r);
		}
		order[i].ix = i;
		order[i].t = -size; /* biggest first */
	}
	bs_qsort(order, list->n, sizeof *order, cmp_cap);
	for (size_t i = 0; i < list->n; i++) {
		sh.tasks[sh.ntasks].inputs = bs_xmalloc(sizeof(size_t));
		sh.tasks[sh.ntasks].inputs[0] = order[i].ix;
		sh.tasks[sh.ntasks++].ninputs = 1;
	}
	free(order);

	int jobs = o->jobs < 1 ? 1 : o->jobs;
	if ((size_t)jobs > sh.ntasks && sh.ntasks)
		jobs = (int)sh.ntasks;
	struct worker *w = bs_xcalloc((size_t)jobs, sizeof *w);
	struct progress pr = { .sh = &sh };
	if (o->progress)
		pthread_create(&pr.th, NULL, progress_main, &pr);
	for (int i = 0; i < jobs; i++) {
		w[i].sh = &sh;
		w[i].agg = bs_agg_new();
		if (jobs == 1)
			worker_main(&w[i]);
		else
			pthread_create(&w[i].th, NULL, worker_main, &w[i]);
	}
	if (jobs > 1)
		for (int i = 0; i < jobs; i++)
			pthread_join(w[i].th, NULL);
	if (o->progress) {
		atomic_store(&pr.stop, true);
		pthread_join(pr.th, NULL);
	}
	struct bs_agg *agg = w[0].agg;
	for (int i = 1; i < jobs; i++) {
		bs_agg_merge(agg, w[i].agg);
		bs_agg_free(w[i].agg);
	}
	free(w);
	for (size_t t = 0; t < sh.ntasks; t++)
		free(sh.tasks[t].inputs);
	free(sh.tasks);
	for (size_t i = 0; i < list->n; i++)
		if (!sh.rows[i].format)
			sh.rows[i].format = bs_xstrndup("unreadable", 10);
	out->agg = agg;
	out->rows = sh.rows;
	out->nrows = list->n;
	out->damaged = atomic_load(&sh.damaged);
	pthread_mutex_destroy(&sh.warn_lock);
}

/* scan.c - the scan stage: every input through its parser into an aggregate.
 *
 * Every log is an independent task; the captures of one directory are one
 * task, read in the order of their first packets through one reassembly
 * (rotated captures of a link continue each other). Tasks run biggest
 * first. Each worker thread has its own aggregate; the
 * aggregates are merged at the end (merging is commutative, so the result
 * does not depend on the number of threads or the scheduling). */
#include "config.h"
#include "src/cli/scan.h"
#include "src/cli/split.h"
#include "src/engine/agg.h"
#include "src/output/spill.h"
#include "src/core/tables.h"
#include "src/core/pathlabel.h"
#include "src/input/input.h"
#include "parsers/logs/maillog.h"
#include "parsers/capture/capture.h"
#include "parsers/stream/proto.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One unit of work: an input, or the rotated captures of one link in the
 * order they are read. */
struct task {
	size_t *inputs;        /* indexes into the input list */
	size_t ninputs;
	int64_t size;          /* compressed bytes, for scheduling */
};

struct shared {
	const struct bs_input_list *list;
	const struct bs_scan_opts *o;
	struct bs_input_row *rows;
	bs_time *first_time;   /* per input: a capture's first packet time */
	struct task *tasks;
	size_t ntasks;
	atomic_size_t next;
	atomic_uint_fast64_t bytes_done;
	uint64_t bytes_total;
	atomic_bool damaged;
	size_t memcap;         /* each worker's share of --memcap (one link open per worker) */
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

/* Where a worker's events go: its aggregate, and with --timeline all its
 * spill writer. An access log names no host in its lines, nor does a webmail
 * application's own log in its file form (Roundcube's userlogins): their
 * events carry the label of the input's path (bs_path_server_label), as a
 * syslog line carries its host; which fleet server that is, the engine
 * decides.
 * Recipients a parser could not keep are counted on their input's row
 * (the summary and the report show them) and said on --debug. */
struct tee {
	struct bs_agg *agg;
	struct bs_spill_writer *spill;
	struct bs_input_row *rows;
	const struct bs_diag *diag;
	char server[BS_PATH_LABEL_SIZE];
};

static void tee_fn(void *ctx, const struct bs_event *ev)
{
	struct tee *t = ctx;
	struct bs_event copy;
	bool web_access = ev->type == BS_EV_HTTP && ev->u.http.from_access_log;
	bool webmail_login = ev->type == BS_EV_AUTH && ev->u.auth.proto == BS_AUTH_HTTP && !ev->dst.family;
	if ((web_access || webmail_login) && !ev->host.n && t->server[0]) {
		copy = *ev;
		copy.host = bs_str_make(t->server, strlen(t->server));
		ev = &copy;
	}
	if (ev->type == BS_EV_MAIL && ev->u.mail.rcpts_dropped) {
		/* the workers of a split link share their files' rows */
		__atomic_fetch_add(&t->rows[ev->origin.input].st.rcpts_dropped, ev->u.mail.rcpts_dropped,
		                   __ATOMIC_RELAXED);
		bs_diag(t->diag, ev->origin.input, ev->origin.ref, ev->origin.from_capture, "mail",
		        "%zu recipient(s) of a message not kept", ev->u.mail.rcpts_dropped);
	}
	if (ev->type == BS_EV_FLOW) {
		/* how much of a capture could be read */
		struct bs_input_stats *st = &t->rows[ev->origin.input].st;
		__atomic_fetch_add(&st->flows, 1, __ATOMIC_RELAXED);
		if (ev->u.flow.encrypted)
			__atomic_fetch_add(&st->flows_encrypted, 1, __ATOMIC_RELAXED);
	}
	bs_agg_sink(t->agg, ev);
	if (t->spill)
		bs_spill_event(t->spill, ev);
}

static void scan_text(struct shared *sh, size_t ix, struct bs_reader *r, struct tee *ts)
{
	struct bs_input_row *row = &sh->rows[ix];
	const char *path = sh->list->paths[ix];
	bs_path_server_label(path, ts->server, sizeof ts->server);
	struct bs_sink sink = { tee_fn, ts };
	struct bs_maillog_opts mo = { .forced_year = sh->o->forced_year, .ref_epoch = bs_reader_mtime(r),
	                              .tz = sh->o->tz, .input = (uint32_t)ix, .diag = sh->o->diag };
	struct bs_maillog *m = bs_maillog_new(&mo, &sink);
	struct bs_lines *lines = bs_lines_new(r);
	bs_str line;
	bool too_long;
	uint64_t last_raw = 0, n = 0;
	while (bs_lines_next(lines, &line, &too_long)) {
		uint64_t lineno = bs_lines_lineno(lines);
		if (too_long) {
			bs_stats_count(&row->st, BS_MALFORMED);
			bs_diag(sh->o->diag, (uint32_t)ix, lineno, false, "input", "line longer than %u bytes", BS_LINE_MAX);
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

/* The capture engine and dispatcher of one link: the rotated captures of a
 * directory, read in the order of their first packets, share them, so a
 * connection that goes on in the next file is one connection. With more
 * than one job the link is split across workers by address pair (split.h),
 * each with its own aggregate, merged into this worker's at the link's end. */
#define SPLIT_MAX 64
struct link {
	struct bs_capture *cap;
	struct bs_dispatch *disp;
	struct bs_sink sink;
	struct bs_split *split;
	int nsub;
	struct tee *subtee;
	struct bs_sink *subsink;
	struct tee *parent;
	struct shared *sh;
};

static void link_end(struct link *lk)
{
	if (lk->split) {
		bs_split_finish(lk->split);
		for (int i = 0; i < lk->nsub; i++) {
			struct tee *t = &lk->subtee[i];
			bs_agg_end_input(t->agg);
			bs_agg_merge(lk->parent->agg, t->agg);
			bs_agg_free(t->agg);
			if (t->spill && !bs_spill_writer_close(t->spill))
				warnf(lk->sh, "--timeline all: cannot write the event spill files");
		}
		free(lk->subtee);
		free(lk->subsink);
		lk->split = NULL;
		lk->subtee = NULL;
		lk->subsink = NULL;
		return;
	}
	if (!lk->cap)
		return;
	bs_capture_finish(lk->cap, BS_TIME_NONE);
	bs_capture_free(lk->cap);
	bs_dispatch_free(lk->disp);
	lk->cap = NULL;
	lk->disp = NULL;
}

static void split_start(struct shared *sh, struct tee *ts, struct link *lk)
{
	int n = sh->o->jobs > SPLIT_MAX ? SPLIT_MAX : sh->o->jobs;
	lk->nsub = n;
	lk->parent = ts;
	lk->sh = sh;
	lk->subtee = bs_xcalloc((size_t)n, sizeof *lk->subtee);
	lk->subsink = bs_xcalloc((size_t)n, sizeof *lk->subsink);
	for (int i = 0; i < n; i++) {
		struct tee *t = &lk->subtee[i];
		t->agg = bs_agg_new();
		t->rows = sh->rows;
		t->diag = sh->o->diag;
		if (sh->o->spill)
			t->spill = bs_spill_writer_new(sh->o->spill);
		lk->subsink[i] = (struct bs_sink){ tee_fn, t };
	}
	struct bs_split_opts so = { .workers = n, .memcap = sh->memcap, .warn = sh->o->warn, .diag = sh->o->diag,
	                            .sinks = lk->subsink };
	lk->split = bs_split_new(&so);
}

static void scan_capture(struct shared *sh, size_t ix, struct bs_reader *r, enum bs_format fmt, struct tee *ts,
                         struct link *lk)
{
	struct bs_input_row *row = &sh->rows[ix];
	ts->server[0] = 0;
	if (lk->cap || lk->split) {
		bs_time latest = lk->split ? bs_split_latest(lk->split) : bs_capture_latest(lk->cap);
		bs_time first = sh->first_time[ix];
		/* it starts before the last file ended: not the next piece of
		 * the same capture (another link, or a copy), so its
		 * connections are not continuations */
		if (first != BS_TIME_NONE && latest != BS_TIME_NONE && first < latest)
			link_end(lk);
	}
	char err[BS_ERRBUF_SIZE] = "";
	bool ok;
	if (sh->o->jobs > 1) {
		/* the workers count the packets and evictions at the link's end */
		if (!lk->split)
			split_start(sh, ts, lk);
		ok = bs_split_read(lk->split, (uint32_t)ix, sh->list->paths[ix], r, fmt, &row->st, err, sizeof err);
	} else {
		if (!lk->cap) {
			lk->sink = (struct bs_sink){ tee_fn, ts };
			lk->disp = bs_dispatch_new((uint32_t)ix, &lk->sink);
			bs_dispatch_set_diag(lk->disp, sh->o->diag);
			struct bs_capture_opts co = { .input = (uint32_t)ix, .warn = sh->o->warn,
			                              .name = sh->list->paths[ix], .diag = sh->o->diag,
			                              .memcap = sh->memcap };
			lk->cap = bs_capture_new(&co, bs_dispatch_ops(), lk->disp, &lk->sink);
		} else {
			bs_capture_set_input(lk->cap, (uint32_t)ix, sh->list->paths[ix]);
			bs_dispatch_set_input(lk->disp, (uint32_t)ix);
		}
		const struct bs_capture_counters *k = bs_capture_counters(lk->cap);
		uint64_t evicted = k->flows_evicted, by_memcap = k->flows_evicted_memcap;
		ok = bs_capture_read(lk->cap, r, fmt, &row->st, err, sizeof err);
		row->st.flows_evicted += k->flows_evicted - evicted;
		row->st.flows_evicted_memcap += k->flows_evicted_memcap - by_memcap;
		bs_capture_note_evictions(sh->o->diag, (uint32_t)ix, &row->st);
	}
	if (!ok) {
		row->st.truncated = true;
		if (err[0])
			warnf(sh, "%s: %s", sh->list->paths[ix], err);
	}
	atomic_fetch_add(&sh->bytes_done, bs_reader_raw_bytes(r));
}

static void scan_one(struct shared *sh, size_t ix, struct tee *tee, struct link *lk)
{
	struct bs_input_row *row = &sh->rows[ix];
	const char *path = sh->list->paths[ix];
	char err[BS_ERRBUF_SIZE];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (!r) {
		size_t np = strlen(path); /* the sink names the file: the reason alone */
		const char *why = strncmp(err, path, np) == 0 && err[np] == ':' && err[np + 1] == ' ' ? err + np + 2 : err;
		bs_diag(sh->o->diag, (uint32_t)ix, 0, false, "input", "%s", why);
		warnf(sh, "%s", err);
		row->format = bs_xstrndup("unreadable", 10);
		row->st.truncated = true;
		atomic_store(&sh->damaged, true);
		return;
	}
	bs_reader_set_diag(r, sh->o->diag, (uint32_t)ix);
	uint8_t head[4096];
	size_t nh = bs_reader_peek(r, head, sizeof head);
	enum bs_format fmt = bs_detect_format(head, nh);
	const char *fname = bs_reader_format_name(r, fmt);
	row->format = bs_xstrndup(fname, strlen(fname));
	if (fmt == BS_FMT_PCAP || fmt == BS_FMT_PCAPNG)
		scan_capture(sh, ix, r, fmt, tee, lk);
	else if (fmt != BS_FMT_EMPTY)
		scan_text(sh, ix, r, tee);
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

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	struct tee tee = { .agg = w->agg, .rows = sh->rows, .diag = sh->o->diag };
	if (sh->o->spill)
		tee.spill = bs_spill_writer_new(sh->o->spill);
	for (;;) {
		size_t t = atomic_fetch_add(&sh->next, 1);
		if (t >= sh->ntasks)
			break;
		struct link lk = { 0 };
		for (size_t i = 0; i < sh->tasks[t].ninputs; i++)
			scan_one(sh, sh->tasks[t].inputs[i], &tee, &lk);
		link_end(&lk);
		/* a task is one input or one link: what it left open (queries,
		 * transactions without their answers) joins nothing else */
		bs_agg_end_input(w->agg);
	}
	if (tee.spill && !bs_spill_writer_close(tee.spill))
		warnf(sh, "--timeline all: cannot write the event spill files");
	return NULL;
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

/* Inputs in scheduling order: a link's captures together, by first packet
 * time; tasks biggest first so that the last one to finish is small. */
struct order {
	size_t ix;
	const char *path;
	size_t dir_len;        /* captures: length of the directory part of the path; else SIZE_MAX */
	bs_time first;
	int64_t size;
};

static int cmp_link(const void *x, const void *y)
{
	const struct order *a = x, *b = y;
	bool ca = a->dir_len != SIZE_MAX, cb = b->dir_len != SIZE_MAX;
	if (ca != cb)
		return ca ? -1 : 1;
	if (!ca)
		return a->ix < b->ix ? -1 : a->ix > b->ix;
	int c = a->dir_len != b->dir_len ? (a->dir_len < b->dir_len ? -1 : 1)
	                                  : strncmp(a->path, b->path, a->dir_len);
	if (c)
		return c;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->ix < b->ix ? -1 : a->ix > b->ix;
}

static bool same_link(const struct order *a, const struct order *b)
{
	return a->dir_len != SIZE_MAX && a->dir_len == b->dir_len &&
	       strncmp(a->path, b->path, a->dir_len) == 0;
}

static int cmp_task(const void *x, const void *y)
{
	const struct task *a = x, *b = y;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return a->inputs[0] < b->inputs[0] ? -1 : a->inputs[0] > b->inputs[0];
}

static void plan_tasks(struct shared *sh)
{
	const struct bs_input_list *list = sh->list;
	struct order *order = bs_xcalloc(list->n + 1, sizeof *order);
	for (size_t i = 0; i < list->n; i++) {
		order[i] = (struct order){ i, list->paths[i], SIZE_MAX, BS_TIME_NONE, 0 };
		sh->first_time[i] = BS_TIME_NONE;
		if (strcmp(list->paths[i], "-") == 0)
			continue;
		char err[BS_ERRBUF_SIZE];
		struct bs_reader *r = bs_reader_open(list->paths[i], err, sizeof err);
		if (!r)
			continue;
		order[i].size = (int64_t)bs_reader_raw_size(r);
		sh->bytes_total += (uint64_t)order[i].size;
		uint8_t head[64];
		enum bs_format fmt = bs_detect_format(head, bs_reader_peek(r, head, sizeof head));
		if (fmt == BS_FMT_PCAP || fmt == BS_FMT_PCAPNG) {
			const char *slash = strrchr(list->paths[i], '/');
			order[i].dir_len = slash ? (size_t)(slash - list->paths[i]) : 0;
			order[i].first = sh->first_time[i] = bs_capture_first_time(r, fmt);
		}
		bs_reader_close(r);
	}
	bs_qsort(order, list->n, sizeof *order, cmp_link);
	sh->tasks = bs_xcalloc(list->n + 1, sizeof *sh->tasks);
	for (size_t i = 0; i < list->n;) {
		size_t j = i + 1;
		while (j < list->n && same_link(&order[i], &order[j]))
			j++;
		struct task *t = &sh->tasks[sh->ntasks++];
		t->inputs = bs_xcalloc(j - i, sizeof *t->inputs);
		for (size_t k = i; k < j; k++) {
			t->inputs[t->ninputs++] = order[k].ix;
			t->size += order[k].size;
		}
		i = j;
	}
	free(order);
	bs_qsort(sh->tasks, sh->ntasks, sizeof *sh->tasks, cmp_task);
}

void bs_scan(const struct bs_input_list *list, const struct bs_scan_opts *o, struct bs_scan_result *out)
{
	struct shared sh = { .list = list, .o = o };
	pthread_mutex_init(&sh.warn_lock, NULL);
	sh.rows = bs_xcalloc(list->n ? list->n : 1, sizeof *sh.rows);
	sh.first_time = bs_xcalloc(list->n ? list->n : 1, sizeof *sh.first_time);
	for (size_t i = 0; i < list->n; i++)
		sh.rows[i].source = bs_xstrndup(list->paths[i], strlen(list->paths[i]));
	plan_tasks(&sh);

	int jobs = o->jobs < 1 ? 1 : o->jobs;
	if ((size_t)jobs > sh.ntasks && sh.ntasks)
		jobs = (int)sh.ntasks;
	/* --memcap is for the whole run: each worker holds one link at a time */
	sh.memcap = (o->memcap ? o->memcap : BS_CAPTURE_MEMCAP_DEFAULT) / (size_t)jobs;
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
	free(sh.first_time);
	for (size_t i = 0; i < list->n; i++)
		if (!sh.rows[i].format)
			sh.rows[i].format = bs_xstrndup("unreadable", 10);
	out->agg = agg;
	out->rows = sh.rows;
	out->nrows = list->n;
	out->damaged = atomic_load(&sh.damaged);
	pthread_mutex_destroy(&sh.warn_lock);
}

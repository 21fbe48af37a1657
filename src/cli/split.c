/* split.c - one capture link on several cores (split.h).
 *
 * The reading thread walks each record's link and IP headers only (a
 * classifier engine) and appends the record to the current batch of the
 * worker its address pair hashes to; a full batch goes to the worker's queue.
 * Besides packets (each with the link's clock, the latest time so far, by
 * which flows' idleness is measured) a worker's stream carries the link's
 * file changes (so that events name the file of their packet) and the end
 * of the link with its latest time (so that flows time out as they would in
 * one engine).
 * Each worker's stream is in link order, which is all its flows need. */
#include "config.h"
#include "src/cli/split.h"
#include "parsers/stream/proto.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_BYTES ((size_t)256 << 10)
/* Batches per worker: one being filled, the rest queued or in work. Up to
 * 16, not 4: one address pair carrying most of a link (a web server and its
 * database) fills its worker's queue in bursts while the other worker drains
 * its own and waits; deeper queues ride those bursts out (-j 2 on the bench
 * link, 5 to 9 % faster, less system time; docs/PERFORMANCE.md). But every
 * job can hold a split link at once, so a link's batches stay within
 * SPLIT_BATCH_BYTES: 16 per worker with two workers, 8 with four, and from
 * eight workers on the 4 of before (never more memory than then). */
#define NBATCH_MAX 16
#define NBATCH_MIN 4
#define SPLIT_BATCH_BYTES ((size_t)8 << 20)

enum rec_kind { REC_PACKET, REC_FILE, REC_END };

/* One record of a worker's stream; a packet's bytes follow, padded to 8. */
struct rec {
	uint32_t kind;
	int32_t linktype;
	uint32_t caplen;
	uint32_t file;         /* REC_FILE: the file's place in the link's reading order */
	uint64_t origlen;
	bs_time ts;            /* REC_END: the time to close the rest at */
	bs_time clock;         /* REC_PACKET: the link's latest time with this packet, by
	                        * which one engine would measure its flows' idleness */
	uint64_t pktno;        /* REC_FILE: the input index; REC_END: the link's latest time */
	const char *name;      /* REC_FILE: the file's name */
};

struct batch {
	uint8_t *buf;
	size_t cap, used;
};

struct file {                  /* one file of the link, in reading order */
	uint32_t input;
	struct bs_input_stats *st;
};

struct counts {                /* a worker's counts for one file */
	uint64_t records, parsed, ignored, malformed, evicted, evicted_memcap;
};

struct worker {
	struct bs_split *s;
	pthread_t th;
	const struct bs_sink *sink;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t nbatch;                 /* batches of this worker (the link's share) */
	struct batch batches[NBATCH_MAX];
	struct batch *queue[NBATCH_MAX]; /* filled, oldest first */
	size_t qhead, qlen;
	struct batch *spare[NBATCH_MAX]; /* empty, for the reader */
	size_t nspare;
	struct batch *cur;             /* being filled by the reader */
	/* the worker thread's own */
	struct bs_capture *cap;
	struct bs_dispatch *disp;
	struct counts *counts;         /* per file, grown as files come */
	size_t ncounts;
	uint32_t file;                 /* the file being read */
	uint64_t evicted_mark, evicted_memcap_mark;
};

struct bs_split {
	struct bs_split_opts o;
	struct worker *w;
	struct bs_capture *classifier;
	struct file *files;
	size_t nfiles;
	bs_time last_ts, latest;
};

/* ------------------------------------------------------------ the queues */

static struct batch *take_spare(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	while (!w->nspare)
		pthread_cond_wait(&w->cv, &w->mu);
	struct batch *b = w->spare[--w->nspare];
	pthread_mutex_unlock(&w->mu);
	b->used = 0;
	return b;
}

static void submit(struct worker *w)
{
	if (!w->cur)
		return;
	pthread_mutex_lock(&w->mu);
	w->queue[(w->qhead + w->qlen++) % w->nbatch] = w->cur;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->cur = NULL;
}

/* Room for a record of n bytes at the end of the worker's current batch. */
static uint8_t *reserve(struct worker *w, size_t n)
{
	if (w->cur && w->cur->cap - w->cur->used < n)
		submit(w);
	if (!w->cur) {
		w->cur = take_spare(w);
		if (w->cur->cap < n) { /* a record larger than a batch: the batch grows for it */
			w->cur->buf = bs_xrealloc(w->cur->buf, n);
			w->cur->cap = n;
		}
	}
	uint8_t *p = w->cur->buf + w->cur->used;
	w->cur->used += n;
	return p;
}

static void put_rec(struct worker *w, const struct rec *r, const uint8_t *data)
{
	size_t len = r->kind == REC_PACKET ? r->caplen : 0;
	size_t n = sizeof *r + ((len + 7) & ~(size_t)7);
	uint8_t *p = reserve(w, n);
	memcpy(p, r, sizeof *r);
	if (len)
		memcpy(p + sizeof *r, data, len);
}

/* --------------------------------------------------------- the workers */

static struct counts *counts_of(struct worker *w, uint32_t file)
{
	if (file >= w->ncounts) {
		size_t n = w->ncounts ? w->ncounts : 4;
		while (n <= file)
			n *= 2;
		w->counts = bs_xrealloc(w->counts, n * sizeof *w->counts);
		memset(w->counts + w->ncounts, 0, (n - w->ncounts) * sizeof *w->counts);
		w->ncounts = n;
	}
	return &w->counts[file];
}

/* Evictions since the last mark belong to the file being read. */
static void mark_evictions(struct worker *w)
{
	if (!w->cap)
		return;
	const struct bs_capture_counters *k = bs_capture_counters(w->cap);
	struct counts *c = counts_of(w, w->file);
	c->evicted += k->flows_evicted - w->evicted_mark;
	c->evicted_memcap += k->flows_evicted_memcap - w->evicted_memcap_mark;
	w->evicted_mark = k->flows_evicted;
	w->evicted_memcap_mark = k->flows_evicted_memcap;
}

static void start_file(struct worker *w, uint32_t file, uint32_t input, const char *name)
{
	mark_evictions(w);
	w->file = file;
	counts_of(w, file);
	if (w->cap) {
		bs_capture_set_input(w->cap, input, name);
		bs_dispatch_set_input(w->disp, input);
		return;
	}
	const struct bs_split_opts *o = &w->s->o;
	w->disp = bs_dispatch_new(input, w->sink);
	bs_dispatch_set_diag(w->disp, o->diag);
	size_t share = o->memcap / (size_t)o->workers;
	struct bs_capture_opts co = { .input = input, .warn = o->warn, .name = name, .diag = o->diag,
	                              .memcap = share ? share : 1 };
	w->cap = bs_capture_new(&co, bs_dispatch_ops(), w->disp, w->sink);
}

/* Handle one batch; false after the end of the link. */
static bool work_batch(struct worker *w, const struct batch *b)
{
	for (size_t off = 0; off < b->used;) {
		struct rec r;
		memcpy(&r, b->buf + off, sizeof r);
		const uint8_t *data = b->buf + off + sizeof r;
		off += sizeof r + ((r.kind == REC_PACKET ? ((size_t)r.caplen + 7) & ~(size_t)7 : 0));
		if (r.kind == REC_FILE) {
			start_file(w, r.file, (uint32_t)r.pktno, r.name);
		} else if (r.kind == REC_PACKET) {
			bs_capture_set_latest(w->cap, r.clock);
			enum bs_verdict v = bs_capture_packet(w->cap, r.linktype, data, r.caplen, (size_t)r.origlen,
			                                      r.ts, r.pktno);
			struct counts *c = &w->counts[w->file];
			c->records++;
			if (v == BS_PARSED) c->parsed++;
			else if (v == BS_IGNORED) c->ignored++;
			else c->malformed++;
		} else {
			if (w->cap) {
				bs_capture_set_latest(w->cap, (bs_time)r.pktno);
				bs_capture_finish(w->cap, r.ts);
				mark_evictions(w);
				bs_capture_free(w->cap);
				bs_dispatch_free(w->disp);
				w->cap = NULL;
				w->disp = NULL;
			}
			return false;
		}
	}
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (bool more = true; more;) {
		pthread_mutex_lock(&w->mu);
		while (!w->qlen)
			pthread_cond_wait(&w->cv, &w->mu);
		struct batch *b = w->queue[w->qhead];
		w->qhead = (w->qhead + 1) % w->nbatch;
		w->qlen--;
		pthread_mutex_unlock(&w->mu);
		more = work_batch(w, b);
		pthread_mutex_lock(&w->mu);
		w->spare[w->nspare++] = b;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

/* ---------------------------------------------------------- the reader */

static void route(void *ctx, int linktype, const uint8_t *p, size_t caplen, size_t origlen, bs_time ts,
                  uint64_t pktno)
{
	struct bs_split *s = ctx;
	/* what one engine takes as the packet's time (bs_capture_packet): a
	 * packet without one has the last valid time of the link */
	if (ts == BS_TIME_NONE)
		ts = s->last_ts;
	else if (bs_time_valid(ts)) {
		s->last_ts = ts;
		if (s->latest == BS_TIME_NONE || ts > s->latest)
			s->latest = ts;
	}
	uint64_t h = bs_capture_pair_hash(s->classifier, linktype, p, caplen, origlen);
	struct worker *w = &s->w[(h >> 32) % (uint64_t)s->o.workers];
	struct rec r = { .kind = REC_PACKET, .linktype = linktype, .caplen = (uint32_t)caplen,
	                 .origlen = origlen, .ts = ts, .clock = s->latest, .pktno = pktno };
	put_rec(w, &r, p);
}

struct bs_split *bs_split_new(const struct bs_split_opts *o)
{
	struct bs_split *s = bs_xcalloc(1, sizeof *s);
	s->o = *o;
	s->last_ts = s->latest = BS_TIME_NONE;
	struct bs_capture_opts co = { .warn = o->warn, .diag = o->diag };
	s->classifier = bs_capture_classifier_new(&co);
	bs_capture_set_router(s->classifier, route, s);
	s->w = bs_xcalloc((size_t)o->workers, sizeof *s->w);
	for (int i = 0; i < o->workers; i++) {
		struct worker *w = &s->w[i];
		w->s = s;
		w->sink = &o->sinks[i];
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
		size_t per = SPLIT_BATCH_BYTES / BATCH_BYTES / (size_t)o->workers;
		w->nbatch = per > NBATCH_MAX ? NBATCH_MAX : per < NBATCH_MIN ? NBATCH_MIN : per;
		for (size_t k = 0; k < w->nbatch; k++) {
			w->batches[k].buf = bs_xmalloc(BATCH_BYTES);
			w->batches[k].cap = BATCH_BYTES;
			w->spare[w->nspare++] = &w->batches[k];
		}
		pthread_create(&w->th, NULL, worker_main, w);
	}
	return s;
}

bool bs_split_read(struct bs_split *s, uint32_t input, const char *name, struct bs_reader *r,
                   enum bs_format fmt, struct bs_input_stats *st, char *err, size_t errlen)
{
	s->files = bs_xrealloc(s->files, (s->nfiles + 1) * sizeof *s->files);
	s->files[s->nfiles] = (struct file){ input, st };
	/* every worker learns of the file before its first packet */
	struct rec fr = { .kind = REC_FILE, .file = (uint32_t)s->nfiles, .pktno = input, .name = name };
	for (int i = 0; i < s->o.workers; i++)
		put_rec(&s->w[i], &fr, NULL);
	s->nfiles++;
	bs_diag(s->o.diag, input, 0, true, "capture", "read by %d workers, its flows split by address pair",
	        s->o.workers);
	bs_capture_set_input(s->classifier, input, name);
	bool ok = bs_capture_read(s->classifier, r, fmt, st, err, errlen);
	for (int i = 0; i < s->o.workers; i++)
		submit(&s->w[i]); /* the workers need not wait for the next file's packets */
	return ok;
}

bs_time bs_split_latest(const struct bs_split *s) { return s->latest; }

void bs_split_finish(struct bs_split *s)
{
	struct rec er = { .kind = REC_END, .ts = s->last_ts, .pktno = (uint64_t)s->latest };
	for (int i = 0; i < s->o.workers; i++) {
		put_rec(&s->w[i], &er, NULL);
		submit(&s->w[i]);
	}
	for (int i = 0; i < s->o.workers; i++)
		pthread_join(s->w[i].th, NULL);
	for (size_t f = 0; f < s->nfiles; f++) {
		struct bs_input_stats *st = s->files[f].st;
		uint64_t evicted = 0, by_memcap = 0;
		for (int i = 0; i < s->o.workers; i++) {
			const struct worker *w = &s->w[i];
			if (f >= w->ncounts)
				continue;
			const struct counts *c = &w->counts[f];
			st->records += c->records;
			st->parsed += c->parsed;
			st->ignored += c->ignored;
			st->malformed += c->malformed;
			evicted += c->evicted;
			by_memcap += c->evicted_memcap;
		}
		st->flows_evicted += evicted;
		st->flows_evicted_memcap += by_memcap;
		bs_capture_note_evictions(s->o.diag, s->files[f].input, st);
	}
	for (int i = 0; i < s->o.workers; i++) {
		struct worker *w = &s->w[i];
		for (size_t k = 0; k < w->nbatch; k++)
			free(w->batches[k].buf);
		free(w->counts);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
	}
	bs_capture_free(s->classifier);
	free(s->files);
	free(s->w);
	free(s);
}

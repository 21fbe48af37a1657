/* spill.c - sorted runs of timeline rows on disk, merged on read. */
#include "config.h"
#include "src/output/spill.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN_BYTES (32u << 20)   /* a worker's in-memory run */
#define FIELD_MAX 1024          /* each text field is cut here */

/* A row on disk: fixed header then NF length-prefixed strings. */
enum { F_DESC, F_MSG, F_EVENT, F_SERVER, F_USER, F_ADDR, NF };
struct rowhdr {
	int64_t ts;
	uint32_t input;
	uint32_t frac;
	uint64_t ref;
	bs_ip src, dst;
	uint32_t len[NF];
};

struct bs_spill {
	char *dir;
	pthread_mutex_t lock;
	int *run_fd;            /* run files, unlinked as soon as created (-1: failed) */
	size_t nruns;
	char *row_text;         /* the fields of the row last handed out, NUL-separated */
	size_t row_text_cap;
	/* reading */
	struct run_reader *readers;
	size_t nreaders;
	size_t *heap;
	size_t nheap;
	bool reading;
};

struct bs_spill_writer {
	struct bs_spill *s;
	char *buf;              /* rows, back to back */
	size_t used;
	size_t *offs;           /* row offsets */
	size_t nrows, caprows;
	bool err;
};

#define SPILL_PREFIX ".timeline-spill."

/* Spill directories of --timeline all runs that were killed: removed when
 * their process is gone (a live one belongs to a concurrent run). Run files
 * are unlinked when made; one can only be left by a kill between its open
 * and its unlink (or by an older version). */
void bs_spill_remove_stale(const char *outdir)
{
	DIR *d = opendir(outdir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, SPILL_PREFIX, strlen(SPILL_PREFIX)) != 0)
			continue;
		char *end;
		long pid = strtol(e->d_name + strlen(SPILL_PREFIX), &end, 10);
		if (*end || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* not ours, or its process lives */
		char dir[4200];
		snprintf(dir, sizeof dir, "%s/%s", outdir, e->d_name);
		DIR *sd = opendir(dir);
		struct dirent *f;
		while (sd && (f = readdir(sd)) != NULL) {
			if (strncmp(f->d_name, "run", 3) != 0)
				continue; /* only our run files */
			char path[8400];
			snprintf(path, sizeof path, "%s/%s", dir, f->d_name);
			unlink(path);
		}
		if (sd)
			closedir(sd);
		rmdir(dir);
	}
	closedir(d);
}

struct bs_spill *bs_spill_new(const char *outdir, char *err, size_t errlen)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/" SPILL_PREFIX "%ld", outdir, (long)getpid());
	if (mkdir(dir, 0700) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	struct bs_spill *s = bs_xcalloc(1, sizeof *s);
	s->dir = bs_xstrndup(dir, strlen(dir));
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

struct bs_spill_writer *bs_spill_writer_new(struct bs_spill *s)
{
	struct bs_spill_writer *w = bs_xcalloc(1, sizeof *w);
	w->s = s;
	w->buf = bs_xmalloc(RUN_BYTES);
	return w;
}

static const struct rowhdr *row_at(const struct bs_spill_writer *w, size_t i)
{
	return (const struct rowhdr *)(w->buf + w->offs[i]);
}

/* Rows by time, input and position, then by their contents: events of one
 * packet (an HTTP request and the addresses in its body) reach the writers
 * in an order that depends on what else the worker saw (a split link's
 * workers each see some flows), so their order must come from what they
 * say. Rows equal in all of it are the same row on output. fa, fb: the
 * NF fields back to back after each header. */
static int cmp_row(const struct rowhdr *a, const char *fa, const struct rowhdr *b, const char *fb)
{
	if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
	if (a->input != b->input) return a->input < b->input ? -1 : 1;
	if (a->ref != b->ref) return a->ref < b->ref ? -1 : 1;
	if (a->frac != b->frac) return a->frac < b->frac ? -1 : 1;
	for (int k = 0; k < NF; k++) {
		uint32_t n = a->len[k] < b->len[k] ? a->len[k] : b->len[k];
		int c = n ? memcmp(fa, fb, n) : 0;
		if (c)
			return c;
		if (a->len[k] != b->len[k])
			return a->len[k] < b->len[k] ? -1 : 1;
		if (a->len[k]) /* never an offset on a NULL run-reader buffer */
			fa += a->len[k];
		if (b->len[k])
			fb += b->len[k];
	}
	int c = bs_ip_cmp(&a->src, &b->src);
	return c ? c : bs_ip_cmp(&a->dst, &b->dst);
}

static int cmp_off(const void *x, const void *y, void *ctx)
{
	const struct bs_spill_writer *w = ctx;
	const char *pa = w->buf + *(const size_t *)x, *pb = w->buf + *(const size_t *)y;
	return cmp_row((const struct rowhdr *)pa, pa + sizeof(struct rowhdr), (const struct rowhdr *)pb,
	               pb + sizeof(struct rowhdr));
}

static void flush_run(struct bs_spill_writer *w)
{
	if (!w->nrows)
		return;
	qsort_r(w->offs, w->nrows, sizeof *w->offs, cmp_off, w);
	pthread_mutex_lock(&w->s->lock);
	char path[4200];
	snprintf(path, sizeof path, "%s/run%zu", w->s->dir, w->s->nruns);
	/* unlinked at once and kept open: the rows (personal data) never
	 * outlive the process, however it ends */
	int fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		unlink(path);
	w->s->run_fd = bs_xrealloc(w->s->run_fd, (w->s->nruns + 1) * sizeof *w->s->run_fd);
	w->s->run_fd[w->s->nruns++] = fd;
	pthread_mutex_unlock(&w->s->lock);
	int wfd = fd >= 0 ? dup(fd) : -1;
	FILE *f = wfd >= 0 ? fdopen(wfd, "wb") : NULL;
	if (!f) {
		w->err = true;
		if (wfd >= 0)
			close(wfd);
	} else {
		for (size_t i = 0; i < w->nrows; i++) {
			const struct rowhdr *h = row_at(w, i);
			size_t n = sizeof *h;
			for (int k = 0; k < NF; k++)
				n += h->len[k];
			if (fwrite(h, 1, n, f) != n)
				w->err = true;
		}
		if (fclose(f) != 0)
			w->err = true;
	}
	w->used = 0;
	w->nrows = 0;
}

static void add_row(struct bs_spill_writer *w, const struct bs_event *ev, int frac, const char *desc,
                    const char *msg, const char *event, bs_str server, bs_str user, bs_str addr)
{
	struct rowhdr h;
	memset(&h, 0, sizeof h);
	h.ts = ev->ts;
	h.input = ev->origin.input;
	h.ref = ev->origin.ref;
	h.frac = (uint32_t)frac;
	h.src = ev->src;
	h.dst = ev->dst;
	bs_str f[NF] = { bs_str_make(desc, strlen(desc)), bs_str_make(msg, strlen(msg)),
	                 bs_str_make(event, strlen(event)), server, user, addr };
	size_t need = sizeof h;
	for (int k = 0; k < NF; k++) {
		if (!f[k].p)
			f[k].n = 0;
		h.len[k] = (uint32_t)(f[k].n < FIELD_MAX ? f[k].n : FIELD_MAX);
		need += h.len[k];
	}
	/* rows start 8-byte aligned in the run buffer (the header holds 64-bit fields) */
	w->used = (w->used + 7) & ~(size_t)7;
	if (w->used + need > RUN_BYTES)
		flush_run(w);
	if (w->nrows == w->caprows) {
		w->caprows = w->caprows ? w->caprows * 2 : 4096;
		w->offs = bs_xrealloc(w->offs, w->caprows * sizeof *w->offs);
	}
	w->offs[w->nrows++] = w->used;
	memcpy(w->buf + w->used, &h, sizeof h);
	w->used += sizeof h;
	for (int k = 0; k < NF; k++) {
		if (h.len[k])
			memcpy(w->buf + w->used, f[k].p, h.len[k]);
		w->used += h.len[k];
	}
}

#define SHOW(s) (int)((s).n < 400 ? (s).n : 400), (s).p ? (s).p : ""

/* " [anomalies: a,b; N bytes skipped]": what the parser found odd. */
static void http_anomalies(char *out, size_t size, const struct bs_ev_http *h)
{
	size_t o = (size_t)snprintf(out, size, " [anomalies:");
	for (unsigned bit = 0; bit < 32 && o < size; bit++)
		if (h->anomalies & (1u << bit))
			o += (size_t)snprintf(out + o, size - o, " %s", bs_http_anomaly_name(bit));
	if (h->skipped && o < size)
		o += (size_t)snprintf(out + o, size - o, "; %llu bytes skipped", (unsigned long long)h->skipped);
	if (o < size)
		snprintf(out + o, size - o, "]");
}

/* "N recipient(s) <a> <b> ...": every recipient that fits, then how many
 * more the event holds and how many its parser could not keep. */
static void mail_rcpt_list(const struct bs_ev_mail *m, char *buf, size_t size)
{
	size_t o = (size_t)snprintf(buf, size, "%zu recipient(s)", m->nrcpt + m->rcpts_dropped);
	size_t i = 0;
	for (; i < m->nrcpt; i++) {
		bs_str r = m->rcpts[i];
		if (o + r.n + 3 + 24 >= size)
			break;
		o += (size_t)snprintf(buf + o, size - o, " <%.*s>", SHOW(r));
	}
	if (i < m->nrcpt)
		o += (size_t)snprintf(buf + o, size - o, " and %zu more", m->nrcpt - i);
	if (m->rcpts_dropped && o < size)
		snprintf(buf + o, size - o, " (%zu not kept)", m->rcpts_dropped);
}

void bs_spill_event(struct bs_spill_writer *w, const struct bs_event *ev)
{
	if (ev->ts == BS_TIME_NONE)
		return;
	char msg[1024];
	char a[BS_IP_STRLEN], b[BS_IP_STRLEN];
	bs_ip_format(&ev->src, a, sizeof a);
	bs_ip_format(&ev->dst, b, sizeof b);
	int frac = ev->origin.from_capture ? 6 : 0;
	const char *name = bs_event_type_name(ev->type);
	switch (ev->type) {
	case BS_EV_HTTP: {
		const struct bs_ev_http *h = &ev->u.http;
		if (h->phase == BS_HTTP_REQUEST)
			return; /* the complete transaction repeats the request */
		if (h->phase == BS_HTTP_ANOMALY) {
			snprintf(msg, sizeof msg, "%llu bytes of non-HTTP data skipped from the %s between %s and %s",
			         (unsigned long long)h->skipped, h->anomalies & BS_HTTP_AN_SERVER_JUNK ? "server" : "client",
			         a, b);
			add_row(w, ev, frac, "Anomaly", msg, name, ev->host, BS_STR_NULL, BS_STR_NULL);
			return;
		}
		int n = snprintf(msg, sizeof msg, "%.*s %.*s -> %d (%llu bytes)%s%.*s", SHOW(h->method), SHOW(h->uri), h->status,
		                 (unsigned long long)(h->resp_bytes ? h->resp_bytes : h->resp_body_len),
		                 h->user_agent.n ? " UA: " : "", SHOW(h->user_agent));
		if (h->anomalies && n > 0 && (size_t)n < sizeof msg)
			http_anomalies(msg + n, sizeof msg - (size_t)n, h);
		add_row(w, ev, frac, "Request Time", msg, name, ev->host, h->login_user, BS_STR_NULL);
		return;
	}
	case BS_EV_AUTH: {
		static const char *const proto[] = { "", "http", "imap", "pop3", "smtp", "ftp", "mysql", "other" };
		const struct bs_ev_auth *u = &ev->u.auth;
		snprintf(msg, sizeof msg, "%s login of %.*s from %s to %s: %s", proto[u->proto <= 7 ? u->proto : 7],
		         SHOW(u->user), a, b, u->success == 1 ? "success" : u->success == 0 ? "failure" : "unknown");
		add_row(w, ev, frac, "Login Time", msg, name, ev->host, u->user, BS_STR_NULL);
		return;
	}
	case BS_EV_MAIL: {
		const struct bs_ev_mail *m = &ev->u.mail;
		char to[512], part[32] = "";
		mail_rcpt_list(m, to, sizeof to);
		if (m->part)
			snprintf(part, sizeof part, " (part %u)", m->part + 1);
		snprintf(msg, sizeof msg, "%s mail%s from <%.*s> to %s, %llu bytes, client %s%s%.*s",
		         m->rejected ? "rejected" : "accepted", part, SHOW(m->sender), to, (unsigned long long)m->size, a,
		         m->sasl_user.n ? ", user " : "", SHOW(m->sasl_user));
		add_row(w, ev, frac, "Submission Time", msg, name, ev->host, m->sasl_user, m->sender);
		return;
	}
	case BS_EV_SPAM: {
		const struct bs_ev_spam *s = &ev->u.spam;
		snprintf(msg, sizeof msg, "%.*s: %s from <%.*s> to %zu recipient(s)", SHOW(s->filter),
		         s->virus ? "virus" : s->spam ? "spam" : "clean", SHOW(s->sender), s->nrcpt);
		add_row(w, ev, frac, "Scan Time", msg, name, ev->host, BS_STR_NULL, s->nrcpt ? s->rcpts[0] : BS_STR_NULL);
		return;
	}
	case BS_EV_DBQUERY:
		snprintf(msg, sizeof msg, "query from %s to %s as %.*s: %.*s", a, b, SHOW(ev->u.dbquery.db_user),
		         SHOW(ev->u.dbquery.sql));
		add_row(w, ev, frac, "Query Time", msg, name, ev->host, ev->u.dbquery.db_user, BS_STR_NULL);
		return;
	case BS_EV_DBRESULT:
		snprintf(msg, sizeof msg, "result to %s: %llu rows, %llu columns%s", a,
		         (unsigned long long)ev->u.dbresult.rows, (unsigned long long)ev->u.dbresult.columns,
		         ev->u.dbresult.error ? " (error)" : "");
		add_row(w, ev, frac, "Result Time", msg, name, ev->host, BS_STR_NULL, BS_STR_NULL);
		return;
	case BS_EV_ADDR: {
		static const char *const ctx[] = { "", "query result", "request body", "response body", "message header", "payload" };
		unsigned c = ev->u.addr.ctx <= 5 ? ev->u.addr.ctx : 0;
		snprintf(msg, sizeof msg, "address %.*s in a %s between %s and %s", SHOW(ev->u.addr.address), ctx[c], a, b);
		add_row(w, ev, frac, "Content Time", msg, name, ev->host, BS_STR_NULL, ev->u.addr.address);
		return;
	}
	case BS_EV_FLOW: {
		const struct bs_ev_flow *f = &ev->u.flow;
		char conflicts[96] = "";
		if (f->overlap_conflicts)
			snprintf(conflicts, sizeof conflicts, ", %llu segment(s) differing from a first copy dropped",
			         (unsigned long long)f->overlap_conflicts);
		snprintf(msg, sizeof msg, "%s %s:%u -> %s:%u%s%.*s, %llu bytes out, %llu bytes back%s%s", f->l4proto == 17 ? "udp" : "tcp",
		         a, ev->sport, b, ev->dport, f->app.n ? " " : "", SHOW(f->app), (unsigned long long)f->bytes_fwd,
		         (unsigned long long)f->bytes_rev, f->end == BS_FLOW_EVICTED ? ", evicted before its end" : "",
		         conflicts);
		add_row(w, ev, frac, "Connection Start", msg, name, ev->host, BS_STR_NULL, BS_STR_NULL);
		return;
	}
	case BS_EV_FILEXFER: {
		char size[48] = "size unknown (data connection not captured)";
		if (!ev->u.xfer.size_unknown)
			snprintf(size, sizeof size, "%llu bytes", (unsigned long long)ev->u.xfer.size);
		snprintf(msg, sizeof msg, "%.*s %s of %.*s, %s, %s -> %s", SHOW(ev->u.xfer.proto),
		         ev->u.xfer.upload ? "upload" : "download", SHOW(ev->u.xfer.filename), size, a, b);
		add_row(w, ev, frac, "Transfer End", msg, name, ev->host, ev->u.xfer.user, BS_STR_NULL);
		return;
	}
	case BS_EV_DNS:
		snprintf(msg, sizeof msg, "DNS query %.*s (type %u) from %s, %zu answer(s)", SHOW(ev->u.dns.qname),
		         ev->u.dns.qtype, a, ev->u.dns.nanswers);
		add_row(w, ev, frac, "Query Time", msg, name, ev->host, BS_STR_NULL, BS_STR_NULL);
		return;
	case BS_EV_ADMIN:
		snprintf(msg, sizeof msg, "sudo on %.*s: %.*s as %.*s %s: %.*s%s%.*s", SHOW(ev->host), SHOW(ev->u.admin.user),
		         SHOW(ev->u.admin.run_as), ev->u.admin.success ? "ran" : "refused", SHOW(ev->u.admin.command),
		         ev->u.admin.reason.n ? " - " : "", SHOW(ev->u.admin.reason));
		add_row(w, ev, frac, "Command Time", msg, name, ev->host, ev->u.admin.user, BS_STR_NULL);
		return;
	default:
		return;
	}
}

bool bs_spill_writer_close(struct bs_spill_writer *w)
{
	flush_run(w);
	bool ok = !w->err;
	free(w->buf);
	free(w->offs);
	free(w);
	return ok;
}

/* ------------------------------------------------------------ reading */

struct run_reader {
	FILE *f;
	struct rowhdr h;
	char *fields;            /* NF strings back to back */
	size_t cap;
	bool have;
};

static bool run_advance(struct run_reader *r)
{
	r->have = false;
	if (!r->f || fread(&r->h, sizeof r->h, 1, r->f) != 1)
		return false;
	size_t n = 0;
	for (int k = 0; k < NF; k++) {
		if (r->h.len[k] > FIELD_MAX)
			return false;
		n += r->h.len[k];
	}
	if (n + NF > r->cap) {
		r->cap = n + NF;
		r->fields = bs_xrealloc(r->fields, r->cap);
	}
	if (n && fread(r->fields, 1, n, r->f) != n)
		return false;
	r->have = true;
	return true;
}

static bool heap_less(struct bs_spill *s, size_t x, size_t y)
{
	return cmp_row(&s->readers[x].h, s->readers[x].fields, &s->readers[y].h, s->readers[y].fields) < 0;
}

static void sift_down(struct bs_spill *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->nheap && heap_less(s, s->heap[l], s->heap[m])) m = l;
		if (r < s->nheap && heap_less(s, s->heap[r], s->heap[m])) m = r;
		if (m == i)
			return;
		size_t t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
}

bool bs_spill_next(struct bs_spill *s, struct bs_timeline_row *row)
{
	if (!s->reading) {
		s->reading = true;
		s->readers = bs_xcalloc(s->nruns ? s->nruns : 1, sizeof *s->readers);
		s->heap = bs_xcalloc(s->nruns ? s->nruns : 1, sizeof *s->heap);
		for (size_t i = 0; i < s->nruns; i++) {
			int fd = s->run_fd[i];
			s->readers[i].f = fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 ? fdopen(fd, "rb") : NULL;
			if (s->readers[i].f)
				s->run_fd[i] = -1; /* closed with the stream */
			if (run_advance(&s->readers[i]))
				s->heap[s->nheap++] = i;
		}
		s->nreaders = s->nruns;
		for (size_t i = s->nheap; i-- > 0;)
			sift_down(s, i);
	} else if (s->nheap) {
		/* advance the run whose row was handed out last */
		size_t top = s->heap[0];
		if (run_advance(&s->readers[top])) {
			sift_down(s, 0);
		} else {
			s->heap[0] = s->heap[--s->nheap];
			sift_down(s, 0);
		}
	}
	if (!s->nheap)
		return false;
	struct run_reader *r = &s->readers[s->heap[0]];
	memset(row, 0, sizeof *row);
	row->ts = r->h.ts;
	row->frac_digits = (int)r->h.frac;
	row->input = r->h.input;
	row->source_ref = r->h.ref;
	row->src_ip = r->h.src;
	row->dst_ip = r->h.dst;
	row->severity = BS_SEV_INFO;
	/* the fields, each NUL-terminated, into one buffer reused row after row */
	size_t need = NF;
	for (int k = 0; k < NF; k++)
		need += r->h.len[k];
	if (need > s->row_text_cap) {
		s->row_text_cap = need * 2;
		s->row_text = bs_xrealloc(s->row_text, s->row_text_cap);
	}
	char *field[NF];
	size_t in = 0, out = 0;
	for (int k = 0; k < NF; k++) {
		memcpy(s->row_text + out, r->fields + in, r->h.len[k]);
		field[k] = s->row_text + out;
		in += r->h.len[k];
		out += r->h.len[k];
		s->row_text[out++] = 0;
	}
	row->timestamp_desc = field[F_DESC];
	row->message = field[F_MSG];
	row->event = field[F_EVENT];
	row->server = field[F_SERVER];
	row->user = field[F_USER];
	row->address = field[F_ADDR];
	return true;
}

void bs_spill_free(struct bs_spill *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nreaders; i++) {
		if (s->readers[i].f)
			fclose(s->readers[i].f);
		free(s->readers[i].fields);
	}
	for (size_t i = 0; i < s->nruns; i++)
		if (s->run_fd[i] >= 0)
			close(s->run_fd[i]);
	rmdir(s->dir);
	free(s->run_fd);
	free(s->row_text);
	free(s->readers);
	free(s->heap);
	free(s->dir);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* out.c - the time-ordered record queue and the files it writes.
 *
 * Sources write records with times at or after their own start; the
 * scheduler calls out_flush_before(next start), so every record older than
 * that is final and is written in time order (ties keep emission order).
 * Records come from size-class free lists, so a long run allocates only
 * while the in-flight set grows.
 */
#include "config.h"
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "gen.h"

struct rec {
	bs_time ts;
	uint64_t seq;
	uint32_t len;
	uint16_t target;
	uint8_t cls;
	unsigned char data[];
};

#define NCLASS 24
static struct rec *free_list[NCLASS]; /* singly linked through the first data bytes */
static struct rec **heap;
static size_t heap_n, heap_cap;
static uint64_t rec_seq;
static bs_time flushed_to = INT64_MIN;

static const struct out_config *cfg;

/* Per log target: the open file and its rotation period. */
struct logfile {
	struct gzfile *f;
	int64_t period_end_day; /* day number (since epoch) of the next rotation */
	bs_time last_ts;
};
static struct logfile *logs;

/* Captures: one file per UTC day. */
static pcap_t *dead;
static pcap_dumper_t *dumper;
static FILE *ng_fp;      /* pcapng stream */
static int64_t cap_day = INT64_MIN;
static unsigned nfiles;

static struct rec *rec_alloc(size_t len)
{
	size_t need = sizeof(struct rec) + len;
	unsigned cls = 6;
	while (((size_t)1 << cls) < need)
		cls++;
	if (cls >= NCLASS) {
		fprintf(stderr, "bs-gen: record of %zu bytes too large\n", len);
		exit(1);
	}
	struct rec *r = free_list[cls];
	if (r)
		memcpy(&free_list[cls], r->data, sizeof(struct rec *));
	else
		r = bs_xmalloc((size_t)1 << cls);
	r->cls = (uint8_t)cls;
	return r;
}

static void rec_free(struct rec *r)
{
	memcpy(r->data, &free_list[r->cls], sizeof(struct rec *));
	free_list[r->cls] = r;
}

static bool rec_before(const struct rec *a, const struct rec *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

static void heap_push(struct rec *r)
{
	if (heap_n == heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 4096;
		heap = bs_xrealloc(heap, heap_cap * sizeof *heap);
	}
	size_t i = heap_n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!rec_before(r, heap[parent]))
			break;
		heap[i] = heap[parent];
		i = parent;
	}
	heap[i] = r;
}

static struct rec *heap_pop(void)
{
	struct rec *top = heap[0], *last = heap[--heap_n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= heap_n)
			break;
		if (c + 1 < heap_n && rec_before(heap[c + 1], heap[c]))
			c++;
		if (!rec_before(heap[c], last))
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (heap_n)
		heap[i] = last;
	return top;
}

static void mkdirs(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	mkdir(tmp, 0755);
}

static void civil(int64_t day, int *y, int *m, int *d)
{
	char iso[40];
	bs_time_format(day * 86400 * BS_USEC, 0, iso, sizeof iso);
	sscanf(iso, "%d-%d-%d", y, m, d);
}

void out_open(const struct out_config *c)
{
	cfg = c;
	logs = bs_xcalloc((size_t)c->nhosts * NLOG_KINDS, sizeof *logs);
	char path[4096];
	for (int h = 0; h < c->nhosts; h++) {
		snprintf(path, sizeof path, "%s/logs/%s", c->dir, c->host_names[h]);
		mkdirs(path);
	}
	if (c->captures) {
		snprintf(path, sizeof path, "%s/pcap", c->dir);
		mkdirs(path);
	}
}

void out_emit(uint16_t target, bs_time ts, const void *data, size_t len)
{
	if (ts < flushed_to) {
		fprintf(stderr, "bs-gen: internal error: record at %lld before flushed time %lld\n",
			(long long)ts, (long long)flushed_to);
		abort();
	}
	struct rec *r = rec_alloc(len);
	r->ts = ts;
	r->seq = rec_seq++;
	r->len = (uint32_t)len;
	r->target = target;
	memcpy(r->data, data, len);
	heap_push(r);
}

static int64_t day_of(bs_time t) { return t >= 0 ? t / (86400 * BS_USEC) : (t - 86400 * BS_USEC + 1) / (86400 * BS_USEC); }

static void write_log(int idx, const struct rec *r)
{
	struct logfile *lf = &logs[idx];
	int host = idx / NLOG_KINDS;
	enum log_kind kind = (enum log_kind)(idx % NLOG_KINDS);
	static const char *const kind_file[NLOG_KINDS] = { "maillog", "access_log", "roundcube/userlogins",
		"roundcube/sendmail", "roundcube/errors", "MessageTracking/MSGTRK" };
	int64_t day = day_of(r->ts);
	if (lf->f && day >= lf->period_end_day) {
		gzf_close(lf->f, lf->last_ts / BS_USEC);
		lf->f = NULL;
	}
	if (!lf->f) {
		int period = kind == LOG_MAIL ? cfg->rotate_days[host] : 1;
		if (period == 7) {
			int dow = (int)((day + 4) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
			lf->period_end_day = day + (7 - dow);
		} else {
			lf->period_end_day = day + 1;
		}
		int y, m, d;
		/* logrotate's dateext names a file by the day it was rotated. */
		civil(lf->period_end_day, &y, &m, &d);
		char path[4096];
		if (kind >= LOG_RC_LOGINS) {
			snprintf(path, sizeof path, "%s/logs/%s/%.*s", cfg->dir, cfg->host_names[host],
				(int)strcspn(kind_file[kind], "/"), kind_file[kind]);
			mkdirs(path);
		}
		bool iis = cfg->iis && kind == LOG_ACCESS;
		if (iis) /* IIS names a daily file by its own day, UTC */
			civil(day, &y, &m, &d), snprintf(path, sizeof path, "%s/logs/%s/u_ex%02d%02d%02d.log.gz", cfg->dir,
				cfg->host_names[host], y % 100, m, d);
		else if (kind == LOG_MSGTRK) /* Exchange too, with a sequence number */
			civil(day, &y, &m, &d), snprintf(path, sizeof path, "%s/logs/%s/%s%04d%02d%02d-1.LOG.gz", cfg->dir,
				cfg->host_names[host], kind_file[kind], y, m, d);
		else
			snprintf(path, sizeof path, "%s/logs/%s/%s-%04d%02d%02d.gz", cfg->dir, cfg->host_names[host],
				kind_file[kind], y, m, d);
		lf->f = gzf_open(path);
		nfiles++;
		if (iis) {
			/* the header IIS writes at the top of each file: it names the columns */
			char hdr[512];
			int n = snprintf(hdr, sizeof hdr, "#Software: Microsoft Internet Information Services 7.5\n#Version: 1.0\n"
				"#Date: %04d-%02d-%02d 00:00:00\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port "
				"cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n", y, m, d);
			gzf_write(lf->f, hdr, (size_t)n);
		}
		if (kind == LOG_MSGTRK) {
			/* Exchange 2013+'s header: the columns of every record */
			char hdr[1024];
			int n = snprintf(hdr, sizeof hdr, "#Software: Microsoft Exchange Server\n#Version: 15.01.2507.006\n"
				"#Log-type: Message Tracking Log\n#Date: %04d-%02d-%02dT00:00:00.000Z\n#Fields: date-time,"
				"client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,"
				"internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,"
				"recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,"
				"message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,"
				"transport-traffic-type,log-id,schema-version\n", y, m, d);
			gzf_write(lf->f, hdr, (size_t)n);
		}
	}
	gzf_write(lf->f, r->data, r->len);
	lf->last_ts = r->ts;
}

static void put32(FILE *fp, uint32_t v) { fwrite(&v, 4, 1, fp); } /* pcapng is host byte order */
static void put16(FILE *fp, uint16_t v) { fwrite(&v, 2, 1, fp); }

static void close_capture(void)
{
	if (dumper) {
		pcap_dump_close(dumper);
		dumper = NULL;
	}
	if (ng_fp) {
		fclose(ng_fp);
		ng_fp = NULL;
	}
}

static void open_capture(int64_t day)
{
	close_capture();
	int y, m, d;
	civil(day, &y, &m, &d);
	char path[4096];
	snprintf(path, sizeof path, "%s/pcap/edge-%04d%02d%02d.%s.gz", cfg->dir, y, m, d, cfg->pcapng ? "pcapng" : "pcap");
	FILE *fp = gzf_fopen_stream(path);
	nfiles++;
	cap_day = day;
	if (!cfg->pcapng) {
		if (!dead)
			dead = pcap_open_dead(DLT_EN10MB, 65535);
		dumper = pcap_dump_fopen(dead, fp);
		if (!dumper) {
			fprintf(stderr, "bs-gen: pcap_dump_fopen: %s\n", pcap_geterr(dead));
			exit(1);
		}
		return;
	}
	ng_fp = fp;
	/* Section Header Block: no options, section length unknown (-1). */
	put32(fp, 0x0A0D0D0A); put32(fp, 28); put32(fp, 0x1A2B3C4D);
	put16(fp, 1); put16(fp, 0);
	put32(fp, 0xFFFFFFFF); put32(fp, 0xFFFFFFFF);
	put32(fp, 28);
	/* Interface Description Block: Ethernet, snaplen 65535, if_tsresol = 9 (ns), opt_endofopt. */
	put32(fp, 1); put32(fp, 32);
	put16(fp, 1); put16(fp, 0); put32(fp, 65535);
	put16(fp, 9); put16(fp, 1);
	unsigned char tsresol[4] = { 9, 0, 0, 0 };
	fwrite(tsresol, 1, 4, fp);
	put16(fp, 0); put16(fp, 0);
	put32(fp, 32);
}

static void write_frame(const struct rec *r)
{
	int64_t day = day_of(r->ts);
	if (day != cap_day)
		open_capture(day);
	if (!cfg->pcapng) {
		struct pcap_pkthdr h;
		h.ts.tv_sec = (time_t)(r->ts / BS_USEC);
		h.ts.tv_usec = (suseconds_t)(r->ts % BS_USEC);
		h.caplen = h.len = r->len;
		pcap_dump((u_char *)dumper, &h, r->data);
		return;
	}
	/* Enhanced Packet Block; the sub-microsecond digits come from the record
	 * sequence so that nanosecond parsing is exercised. */
	uint64_t ns = (uint64_t)r->ts * 1000u + (r->seq * 7919u) % 1000u;
	uint32_t pad = (4 - r->len % 4) % 4;
	uint32_t total = 32 + r->len + pad;
	put32(ng_fp, 6); put32(ng_fp, total);
	put32(ng_fp, 0);
	put32(ng_fp, (uint32_t)(ns >> 32)); put32(ng_fp, (uint32_t)ns);
	put32(ng_fp, r->len); put32(ng_fp, r->len);
	fwrite(r->data, 1, r->len, ng_fp);
	static const unsigned char zeros[4];
	fwrite(zeros, 1, pad, ng_fp);
	put32(ng_fp, total);
}

static void write_rec(const struct rec *r)
{
	if (r->target == TGT_CAPTURE) {
		if (cfg->captures)
			write_frame(r);
	} else if (!(cfg->no_access_logs && (r->target - 1) % NLOG_KINDS == LOG_ACCESS)) {
		write_log(r->target - 1, r);
	}
}

void out_flush_before(bs_time t)
{
	while (heap_n && heap[0]->ts < t) {
		struct rec *r = heap_pop();
		write_rec(r);
		rec_free(r);
	}
	if (t > flushed_to)
		flushed_to = t;
}

void out_close(void)
{
	out_flush_before(INT64_MAX);
	for (int i = 0; i < cfg->nhosts * NLOG_KINDS; i++)
		if (logs[i].f)
			gzf_close(logs[i].f, logs[i].last_ts / BS_USEC);
	close_capture();
	if (dead)
		pcap_close(dead);
	free(logs);
	free(heap);
	for (int c = 0; c < NCLASS; c++) {
		while (free_list[c]) {
			struct rec *r = free_list[c];
			memcpy(&free_list[c], r->data, sizeof(struct rec *));
			free(r);
		}
	}
}

void out_totals(uint64_t *bytes, unsigned *files)
{
	*bytes = gzf_total_bytes();
	*files = nfiles;
}

/* A log line: the prefix already in line[0, n), then the message, a newline. */
static void emit_line(int host, enum log_kind kind, bs_time ts, char *line, size_t size, int n, const char *fmt,
	va_list ap)
{
	int k = vsnprintf(line + n, size - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (k < 0 ? 0 : (size_t)k);
	if (len > size - 2)
		len = size - 2;
	line[len++] = '\n';
	out_emit(tgt_log(host, kind), ts, line, len);
}

static const char month_abbrs[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

void out_syslog(int host, bs_time ts, const char *prog, int pid, const char *fmt, ...)
{
	const char *mon = month_abbrs;
	char iso[40], line[8192];
	bs_time_format(ts, 0, iso, sizeof iso);
	int y, m, d, hh, mi, ss;
	sscanf(iso, "%d-%d-%dT%d:%d:%d", &y, &m, &d, &hh, &mi, &ss);
	int n;
	if (pid > 0)
		n = snprintf(line, sizeof line, "%.3s %2d %02d:%02d:%02d %s %s[%d]: ", mon + 3 * (m - 1), d, hh, mi, ss,
			cfg->host_names[host], prog, pid);
	else
		n = snprintf(line, sizeof line, "%.3s %2d %02d:%02d:%02d %s %s: ", mon + 3 * (m - 1), d, hh, mi, ss,
			cfg->host_names[host], prog);
	va_list ap;
	va_start(ap, fmt);
	emit_line(host, LOG_MAIL, ts, line, sizeof line, n, fmt, ap);
	va_end(ap);
}

void out_roundcube(int host, enum log_kind kind, bs_time ts, const char *fmt, ...)
{
	char iso[40], line[8192];
	bs_time_format(ts, 0, iso, sizeof iso);
	int y, m, d, hh, mi, ss;
	sscanf(iso, "%d-%d-%dT%d:%d:%d", &y, &m, &d, &hh, &mi, &ss);
	int n = snprintf(line, sizeof line, "[%02d-%.3s-%04d %02d:%02d:%02d +0000]: ", d, month_abbrs + 3 * (m - 1), y, hh, mi,
		ss);
	va_list ap;
	va_start(ap, fmt);
	emit_line(host, kind, ts, line, sizeof line, n, fmt, ap);
	va_end(ap);
}

void out_msgtrk(int host, bs_time ts, const char *fmt, ...)
{
	char iso[40], line[8192];
	bs_time_format(ts, 3, iso, sizeof iso);
	int n = snprintf(line, sizeof line, "%s,", iso);
	va_list ap;
	va_start(ap, fmt);
	emit_line(host, LOG_MSGTRK, ts, line, sizeof line, n, fmt, ap);
	va_end(ap);
}

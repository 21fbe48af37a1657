/* test_corpus_pcap.c - every capture of the public corpus through the whole
 * reading path (reader, format detection, libpcap or the pcapng reader, the
 * engine): no crash, and every record counted exactly once. Many of these
 * files are malformed on purpose (tcpdump's crash regressions). */
#include "config.h"
#include "tap.h"
#include "parsers/capture/capture.h"

#include <dirent.h>
#include <stdlib.h>

struct counts {
	uint64_t bytes[2], gaps, udp, flows;
};

static void c_data(void *ctx, struct bs_cflow *f, int dir, const uint8_t *p, size_t n, bs_time ts, uint64_t pktno)
{
	((struct counts *)ctx)->bytes[dir] += n;
}

static void c_gap(void *ctx, struct bs_cflow *f, int dir, uint64_t n, bs_time ts, uint64_t pktno)
{
	((struct counts *)ctx)->gaps++;
}

static void c_udp(void *ctx, const struct bs_flow_key *k, int dir, const uint8_t *p, size_t n, bs_time ts,
                  uint64_t pktno)
{
	((struct counts *)ctx)->udp++;
}

static void c_event(void *ctx, const struct bs_event *ev)
{
	((struct counts *)ctx)->flows++;
}

/* The packet count SOURCES.md gives for a file (records found by walking it
 * independently of libpcap), or -1. */
static long sources_packets(const char *sources, const char *name)
{
	char pat[600];
	snprintf(pat, sizeof pat, "| `%s` |", name);
	const char *line = sources ? strstr(sources, pat) : NULL;
	if (!line)
		return -1;
	for (int bars = 0; bars < 10; line++) { /* the packets column is the 10th */
		if (*line == '\n' || *line == 0)
			return -1;
		bars += *line == '|';
	}
	return strtol(line, NULL, 10);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 20, n = 0, got;
	char *buf = bs_xmalloc(cap);
	while ((got = fread(buf + n, 1, cap - 1 - n, f)) > 0) {
		n += got;
		if (n == cap - 1)
			buf = bs_xrealloc(buf, cap *= 2);
	}
	buf[n] = 0;
	fclose(f);
	return buf;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	char dir[4096];
	const char *corpus = getenv("BS_CORPUS");
	const char *top = getenv("top_srcdir");
	if (corpus)
		snprintf(dir, sizeof dir, "%s/pcap", corpus);
	else
		snprintf(dir, sizeof dir, "%s/../shared/corpus/pcap", top ? top : ".");
	DIR *d = opendir(dir);
	if (!d) {
		tap_skip_all("corpus not found (set BS_CORPUS)");
		return 0;
	}
	char *names[2048];
	size_t nn = 0;
	struct dirent *e;
	while ((e = readdir(d)) && nn < 2048)
		if (e->d_name[0] != '.')
			names[nn++] = bs_xstrndup(e->d_name, strlen(e->d_name));
	closedir(d);
	qsort(names, nn, sizeof names[0], by_name);
	char spath[4200];
	snprintf(spath, sizeof spath, "%s/../SOURCES.md", dir);
	char *sources = slurp(spath);

	static const struct bs_stream_ops ops = { NULL, c_data, c_gap, NULL, c_udp };
	struct counts cnt = { 0 };
	struct bs_sink sink = { c_event, &cnt };
	uint64_t all_records = 0, damaged = 0;
	for (size_t i = 0; i < nn; i++) {
		char path[8192], err[512] = "";
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		struct bs_reader *r = bs_reader_open(path, err, sizeof err);
		if (!ok(r != NULL, "%s: opened", names[i])) {
			free(names[i]);
			continue;
		}
		uint8_t head[64];
		size_t hn = bs_reader_peek(r, head, sizeof head);
		enum bs_format fmt = bs_detect_format(head, hn);
		struct bs_capture_opts o = { .input = (uint32_t)i, .max_flows = 4096, .name = names[i] };
		struct bs_capture *c = bs_capture_new(&o, &ops, &cnt, &sink);
		struct bs_input_stats st = { 0 };
		if (fmt == BS_FMT_PCAP || fmt == BS_FMT_PCAPNG) {
			bool clean = bs_capture_read(c, r, fmt, &st, err, sizeof err);
			if (!clean) {
				damaged++;
				printf("# %s: %s\n", names[i], err);
			}
			bs_capture_finish(c, BS_TIME_NONE);
		}
		is_int(st.records, st.parsed + st.ignored + st.malformed, "%s (%s): %llu records = parsed + ignored + malformed",
		       names[i], bs_format_name(fmt, false), (unsigned long long)st.records);
		all_records += st.records;
		long want = sources_packets(sources, names[i]);
		if (want >= 0)
			is_int(st.records, want, "%s: as many records as SOURCES.md lists", names[i]);
		if (strcmp(names[i], "plaso-test.pcap") == 0) {
			is_int(st.records, 1434, "plaso-test.pcap: every packet read");
			ok(!st.truncated, "plaso-test.pcap: clean end");
			is_int(st.parsed, st.records - st.ignored - st.malformed, "plaso-test.pcap: parsed count");
			ok(st.parsed > 1400, "plaso-test.pcap: nearly all packets parsed (%llu)", (unsigned long long)st.parsed);
		}
		bs_capture_free(c);
		bs_reader_close(r);
		free(names[i]);
	}
	ok(all_records > 1000, "corpus: records read (%llu, %llu files damaged)", (unsigned long long)all_records,
	   (unsigned long long)damaged);
	free(sources);
	ok(cnt.flows > 0 && cnt.bytes[0] > 0 && cnt.bytes[1] > 0, "corpus: flows and stream bytes came out");
	return tap_done();
}

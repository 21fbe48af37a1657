/* capdump.c - print the reassembled bytes of every TCP flow of a capture, one
 * line per direction: "SENDER>RECEIVER HEX" (a gap prints as "[gap N]").
 * Used by capture_follow.sh to compare with tshark's Follow TCP Stream.
 * Also the throughput measurement of docs/CAPTURE.md:
 *   capdump --bare FILE    a bare libpcap loop (pcap_next_ex, nothing else)
 *   capdump --count FILE   the whole engine with consumers that only count */
#include "config.h"
#include "parsers/capture/capture.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct side {
	char *hex;
	size_t n, cap;
};

static void put(struct side *s, const char *p, size_t n)
{
	if (s->n + n + 1 > s->cap) {
		s->cap = (s->n + n + 1) * 2;
		s->hex = bs_xrealloc(s->hex, s->cap);
	}
	memcpy(s->hex + s->n, p, n);
	s->n += n;
	s->hex[s->n] = 0;
}

static void d_open(void *ctx, struct bs_cflow *f)
{
	f->user = bs_xcalloc(2, sizeof(struct side));
}

static void d_data(void *ctx, struct bs_cflow *f, int dir, const uint8_t *p, size_t n, bs_time ts, uint64_t pktno)
{
	struct side *s = (struct side *)f->user + dir;
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		char h[2] = { digits[p[i] >> 4], digits[p[i] & 15] };
		put(s, h, 2);
	}
}

static void d_gap(void *ctx, struct bs_cflow *f, int dir, uint64_t n, bs_time ts, uint64_t pktno)
{
	char g[40];
	int k = snprintf(g, sizeof g, "[gap %llu]", (unsigned long long)n);
	put((struct side *)f->user + dir, g, (size_t)k);
}

static void endpoint(const bs_ip *ip, uint16_t port, char *buf, size_t n)
{
	char a[BS_IP_STRLEN];
	bs_ip_format(ip, a, sizeof a);
	snprintf(buf, n, ip->family == 6 ? "[%s]:%u" : "%s:%u", a, port);
}

static void d_close(void *ctx, struct bs_cflow *f, enum bs_flow_end why, bs_time ts)
{
	struct side *s = f->user;
	char cli[64], srv[64];
	endpoint(&f->key.cli, f->key.cport, cli, sizeof cli);
	endpoint(&f->key.srv, f->key.sport, srv, sizeof srv);
	for (int dir = 0; dir < 2; dir++)
		if (s[dir].n)
			printf("%s>%s %s\n", dir ? srv : cli, dir ? cli : srv, s[dir].hex);
	free(s[0].hex);
	free(s[1].hex);
	free(s);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int bare_loop(const char *path)
{
	char eb[PCAP_ERRBUF_SIZE];
	double t0 = now();
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (!p) {
		fprintf(stderr, "capdump: %s\n", eb);
		return 1;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0, bytes = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		n++;
		bytes += h->caplen;
	}
	pcap_close(p);
	double s = now() - t0;
	printf("bare libpcap: %llu packets, %.1f MB in %.3f s: %.0f MB/s, %.2f Mpkt/s\n", (unsigned long long)n,
	       (double)bytes / 1e6, s, (double)bytes / 1e6 / s, (double)n / 1e6 / s);
	return 0;
}

struct tally {
	uint64_t bytes, gaps, flows;
};

static void t_data(void *ctx, struct bs_cflow *f, int dir, const uint8_t *p, size_t n, bs_time ts, uint64_t pktno)
{
	((struct tally *)ctx)->bytes += n;
}

static void t_gap(void *ctx, struct bs_cflow *f, int dir, uint64_t n, bs_time ts, uint64_t pktno)
{
	((struct tally *)ctx)->gaps++;
}

static void t_flow(void *ctx, const struct bs_event *ev)
{
	((struct tally *)ctx)->flows++;
}

static int engine_count(const char *path)
{
	char err[512];
	double t0 = now();
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (!r) {
		fprintf(stderr, "capdump: %s\n", err);
		return 1;
	}
	uint8_t head[64];
	enum bs_format fmt = bs_detect_format(head, bs_reader_peek(r, head, sizeof head));
	static const struct bs_stream_ops ops = { NULL, t_data, t_gap, NULL, NULL };
	struct tally t = { 0 };
	struct bs_sink sink = { t_flow, &t };
	struct bs_capture_opts o = { .warn = stderr, .name = path };
	struct bs_capture *c = bs_capture_new(&o, &ops, &t, &sink);
	struct bs_input_stats st = { 0 };
	bool clean = bs_capture_read(c, r, fmt, &st, err, sizeof err);
	bs_capture_finish(c, BS_TIME_NONE);
	const struct bs_capture_counters *k = bs_capture_counters(c);
	double s = now() - t0;
	printf("engine: %llu packets (%llu parsed) in %.3f s: %.2f Mpkt/s; %.1f MB of stream bytes, %llu flows, "
	       "%llu retransmissions, %llu gaps%s\n",
	       (unsigned long long)st.records, (unsigned long long)st.parsed, s, (double)st.records / 1e6 / s,
	       (double)t.bytes / 1e6, (unsigned long long)t.flows, (unsigned long long)k->tcp_retrans,
	       (unsigned long long)t.gaps, clean ? "" : " (damaged)");
	bs_capture_free(c);
	bs_reader_close(r);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--bare") == 0)
		return bare_loop(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--count") == 0)
		return engine_count(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: capdump [--bare|--count] CAPTURE\n");
		return 2;
	}
	char err[512];
	struct bs_reader *r = bs_reader_open(argv[1], err, sizeof err);
	if (!r) {
		fprintf(stderr, "capdump: %s\n", err);
		return 1;
	}
	uint8_t head[64];
	enum bs_format fmt = bs_detect_format(head, bs_reader_peek(r, head, sizeof head));
	static const struct bs_stream_ops ops = { d_open, d_data, d_gap, d_close, NULL };
	struct bs_capture_opts o = { .warn = stderr, .name = argv[1] };
	struct bs_capture *c = bs_capture_new(&o, &ops, NULL, NULL);
	struct bs_input_stats st = { 0 };
	bool clean = bs_capture_read(c, r, fmt, &st, err, sizeof err);
	bs_capture_finish(c, BS_TIME_NONE);
	bs_capture_free(c);
	bs_reader_close(r);
	if (!clean)
		fprintf(stderr, "capdump: %s\n", err);
	return clean ? 0 : 3;
}

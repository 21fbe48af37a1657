/* test_dns.c - what the DNS cases (tests/cases/dns) cannot hold: the name
 * decoder on pointer loops and over-long names, the TCP sniffer, garbage,
 * the overflow of the pending-query table; with --corpus DIR, the corpus'
 * malformed captures (make check-corpus). */
#include "config.h"
#include <pcap/pcap.h>
#include "stream_session.h"
#include "parsers/stream/dns.h"

static uint8_t m[1024];
static size_t mn;
static void put8(unsigned v) { m[mn++] = (uint8_t)v; }
static void put16(unsigned v) { put8(v >> 8); put8(v & 0xff); }
static void put_name(const char *dotted)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t len = dot ? (size_t)(dot - dotted) : strlen(dotted);
		put8((unsigned)len);
		memcpy(m + mn, dotted, len);
		mn += len;
		dotted += len + (dot ? 1 : 0);
	}
	put8(0);
}
static void header(unsigned id, unsigned flags, unsigned qd, unsigned an)
{
	mn = 0;
	put16(id); put16(flags); put16(qd); put16(an); put16(0); put16(0);
}

static void query(unsigned id, const char *name, unsigned type)
{
	header(id, 0x0100, 1, 0);
	put_name(name);
	put16(type); put16(1);
}

/* bs_dns_name on pointer loops, forward pointers and over-long names; the
 * datagrams that carry them are the case dns/malformed. */
static void test_name_loops(void)
{
	char out[BS_DNS_NAME_MAX + 1];

	/* a pointer to itself in the question */
	header(0x5555, 0x8180, 1, 0);
	put16(0xc00c); put16(1); put16(1);
	size_t pos = 12;
	is_int(bs_dns_name(m, mn, &pos, out), -1, "pointer to itself: malformed");

	/* a label, then a pointer back to it */
	header(0x5556, 0x8180, 1, 0);
	put8(1); put8('a'); put16(0xc000 | 12);
	pos = 12;
	is_int(bs_dns_name(m, mn, &pos, out), -1, "label then pointer back to it: malformed, no loop");

	/* a forward pointer */
	header(0x5557, 0x8180, 1, 0);
	put16(0xc000 | 20); put16(1); put16(1); put8(1); put8('x'); put8(0);
	pos = 12;
	is_int(bs_dns_name(m, mn, &pos, out), -1, "forward pointer refused");

	/* a name of 63-byte labels longer than 255 */
	header(1, 0x0100, 1, 0);
	for (int i = 0; i < 5; i++) {
		put8(63);
		memset(m + mn, 'a', 63);
		mn += 63;
	}
	put8(0);
	pos = 12;
	is_int(bs_dns_name(m, mn, &pos, out), -1, "name over 255 bytes refused");
}

/* The TCP sniffer: a length-prefixed query is DNS, HTTP is not (the
 * sessions are the cases dns/tcp and dns/tcp-gap). */
static void test_tcp_sniff(void)
{
	uint8_t stream[512];
	query(0x7777, "axfr.example.com", 1);
	stream[0] = 0;
	stream[1] = (uint8_t)mn;
	memcpy(stream + 2, m, mn);
	ok(bs_proto_dns_tcp.sniff(0, stream, mn + 2), "tcp sniff: a query");
	ok(!bs_proto_dns_tcp.sniff(0, (const uint8_t *)"GET / HTTP/1.1\r\n", 16), "tcp sniff: not HTTP");
}

static void test_garbage(void)
{
	static uint8_t junk[64][512];
	struct step s[64];
	uint32_t x = 7;
	for (size_t i = 0; i < 64; i++) {
		for (size_t j = 0; j < sizeof junk[i]; j++) {
			x = x * 1103515245u + 12345u;
			junk[i][j] = (uint8_t)(x >> 16);
		}
		junk[i][5] = 1; /* one question */
		s[i] = (struct step)SB(junk[i], 12 + (i * 7) % 500);
	}
	int err = run_session(&bs_proto_dns, s, 64, 0, 0);
	is_int(err, 0, "random datagrams: no error");
	err = run_session(&bs_proto_dns_tcp, s, 64, 0, 0);
	is_int(err, 0, "random stream: no error");
}

/* The corpus' DNS captures (malformed ones among them): UDP and TCP port
 * 53 payloads through the parser; the test is that nothing crashes or
 * reads out of bounds (run under ASan). */
static void test_corpus(const char *dir)
{
	char path[2048];
	static const char *files[] = {
		"tcpdump-dns-badcookie.pcap", "tcpdump-dns-badlabel.pcap", "tcpdump-dns-badvers.pcap",
		"tcpdump-dns-uri.pcap", "tcpdump-dns-zlip-1.pcap", "tcpdump-dns-zlip-2.pcap",
		"tcpdump-dns-zlip-3.pcap", "tcpdump-dns_fwdptr.pcap", "tcpdump-dns_udp.pcap",
		"tcpdump-dns_udp_2.pcap", "tcpdump-dnssec.pcap", "tcpdump-edns-opts.pcap",
	};
	size_t opened = 0, datagrams = 0;
	struct bs_dns *st = malloc(BS_DNS_SIZE(BS_DNS_PENDING_UDP));
	struct bs_proto_ctx c;
	ctx_init(&c);
	bs_dns_init(st, BS_DNS_PENDING_UDP);
	rec.n = 0;
	for (size_t i = 0; i < NSTEPS(files); i++) {
		char errbuf[PCAP_ERRBUF_SIZE];
		snprintf(path, sizeof path, "%s/pcap/%s", dir, files[i]);
		pcap_t *pc = pcap_open_offline(path, errbuf);
		if (!pc)
			continue;
		opened++;
		struct pcap_pkthdr *h;
		const u_char *d;
		int link = pcap_datalink(pc);
		while (pcap_next_ex(pc, &h, &d) == 1) {
			size_t off = link == DLT_EN10MB ? 14 : link == DLT_NULL ? 4 : link == DLT_RAW ? 0 : 9999;
			if (h->caplen < off + 28 || (d[off] >> 4) != 4)
				continue;
			size_t ihl = (size_t)(d[off] & 0xf) * 4;
			if (d[off + 9] != 17 || h->caplen < off + ihl + 8)
				continue;
			const uint8_t *udp = d + off + ihl;
			int dport = (udp[2] << 8) | udp[3];
			bs_dns_feed(st, &c, dport == 53 ? 0 : 1, udp + 8, h->caplen - off - ihl - 8);
			datagrams++;
		}
		pcap_close(pc);
	}
	bs_dns_end(st, &c);
	free(st);
	if (!ok(opened > 0, "corpus: DNS captures found in %s/pcap", dir))
		return;
	ok(datagrams > 0, "corpus: %zu DNS datagrams from %zu captures parsed without fault", datagrams, opened);
	ok(rec.n > 0, "corpus: %zu DNS events", rec.n);
}

/* More queries than the UDP table holds: the oldest are reported unanswered,
 * none is lost. */
static void test_eviction(void)
{
	enum { N = BS_DNS_PENDING_UDP + 8 };
	static uint8_t qs[N][64];
	static struct step s[N];
	for (size_t i = 0; i < N; i++) {
		query((unsigned)i, "flood.example.com", 1);
		memcpy(qs[i], m, mn);
		s[i] = (struct step)CB(qs[i], mn);
	}
	run_session(&bs_proto_dns, s, N, 0, 0);
	is_int(rec.n + rec.dropped, N, "table overflow: every query reported once");
	is_str(rec.line[0],
	       "dns ts=1970-01-01T00:16:40.000000Z in=1 pkt=1 src=192.0.2.10 sport=40000 dst=198.51.100.20"
	       " dport=25 qname=flood.example.com qtype=1 rcode=-1",
	       "the oldest query evicted as unanswered");
}

/* `test_dns --corpus DIR`: the corpus pass alone (make check-corpus). */
int main(int argc, char **argv)
{
	rec_sink_obj.fn = format_sink;
	if (argc == 3 && strcmp(argv[1], "--corpus") == 0) {
		test_corpus(argv[2]);
		return tap_done();
	}
	test_name_loops();
	test_tcp_sniff();
	test_eviction();
	test_garbage();
	return tap_done();
}

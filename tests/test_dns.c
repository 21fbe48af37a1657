/* test_dns.c - DNS parser: hand-built messages over UDP and TCP, compression
 * pointers and loops, truncation, garbage; with --corpus DIR, the corpus'
 * malformed captures (make check-corpus). */
#include "config.h"
#include <pcap/pcap.h>
#include "stream_session.h"
#include "parsers/stream/dns.h"

static uint8_t m[1024];
static size_t mn;
static void put8(unsigned v) { m[mn++] = (uint8_t)v; }
static void put16(unsigned v) { put8(v >> 8); put8(v & 0xff); }
static void put32(uint32_t v) { put16(v >> 16); put16(v & 0xffff); }
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
static void rr_head(unsigned name_ptr, unsigned type, unsigned rdlen)
{
	put16(0xc000 | name_ptr); put16(type); put16(1); put32(300); put16(rdlen);
}

/* messages kept for the steps */
static uint8_t msgs[16][1024];
static size_t msg_len[16];
static size_t nmsg;
static const uint8_t *keep_msg(void)
{
	memcpy(msgs[nmsg], m, mn);
	msg_len[nmsg] = mn;
	return msgs[nmsg++];
}
#define STEP_MSG(dir) { (dir), (const char *)keep_msg(), mn, 0 }

static void query(unsigned id, const char *name, unsigned type)
{
	header(id, 0x0100, 1, 0);
	put_name(name);
	put16(type); put16(1);
}

static void test_udp(void)
{
	struct step s[8];
	size_t ns = 0;
	nmsg = 0;

	query(0x1234, "www.Example.com", 1);
	s[ns] = (struct step)STEP_MSG(0); ns++;
	/* response: CNAME www -> web.example.com (pointer into the question),
	 * then two A records for the target (pointer into the CNAME rdata) */
	header(0x1234, 0x8180, 1, 3);
	put_name("www.Example.com");
	put16(1); put16(1);
	rr_head(12, 5, 6);
	size_t target = mn;
	put8(3); memcpy(m + mn, "web", 3); mn += 3; put16(0xc000 | 16); /* web + ".example.com" */
	rr_head((unsigned)target, 1, 4); put8(93); put8(184); put8(216); put8(34);
	rr_head((unsigned)target, 1, 4); put8(93); put8(184); put8(216); put8(35);
	s[ns] = (struct step)STEP_MSG(1); ns++;

	/* AAAA answered */
	query(0x2222, "mail.example.org", 28);
	s[ns] = (struct step)STEP_MSG(0); ns++;
	header(0x2222, 0x8180, 1, 1);
	put_name("mail.example.org"); put16(28); put16(1);
	rr_head(12, 28, 16);
	put32(0x20010db8); put32(0); put32(0); put32(0x25);
	s[ns] = (struct step)STEP_MSG(1); ns++;

	/* NXDOMAIN */
	query(0x3333, "nonexistent.example.net", 1);
	s[ns] = (struct step)STEP_MSG(0); ns++;
	header(0x3333, 0x8183, 1, 0);
	put_name("nonexistent.example.net"); put16(1); put16(1);
	s[ns] = (struct step)STEP_MSG(1); ns++;

	/* never answered */
	query(0x4444, "evil.example.ru", 15);
	s[ns] = (struct step)STEP_MSG(0); ns++;

	int err = run_session(&bs_proto_dns, s, ns, 0, 0);
	is_int(err, 0, "udp: no error");
	is_int(rec.n, 4, "udp: one event per query");
	is_str(rec.line[0],
	       "DNS 192.0.2.10>198.51.100.20 q=www.Example.com type=1 ans=[93.184.216.34,93.184.216.35] cname=web.Example.com rcode=0",
	       "A answers and the CNAME through nested compression pointers");
	is_str(rec.line[1], "DNS 192.0.2.10>198.51.100.20 q=mail.example.org type=28 ans=[2001:db8::25] cname= rcode=0",
	       "AAAA answer");
	is_str(rec.line[2], "DNS 192.0.2.10>198.51.100.20 q=nonexistent.example.net type=1 ans=[] cname= rcode=3",
	       "NXDOMAIN rcode");
	is_str(rec.line[3], "DNS 192.0.2.10>198.51.100.20 q=evil.example.ru type=15 ans=[] cname= rcode=-1",
	       "unanswered query at the end: rcode -1");
}

static void test_loops_and_truncation(void)
{
	struct step s[8];
	size_t ns = 0;
	nmsg = 0;
	char out[BS_DNS_NAME_MAX + 1];

	/* a pointer to itself in the question */
	header(0x5555, 0x8180, 1, 0);
	put16(0xc00c); put16(1); put16(1);
	size_t pos = 12;
	is_int(bs_dns_name(m, mn, &pos, out), -1, "pointer to itself: malformed");
	s[ns] = (struct step)STEP_MSG(1); ns++;

	/* two labels pointing at each other: 12 -> label, then pointer forward/back */
	header(0x5556, 0x8180, 1, 0);
	put8(1); put8('a'); put16(0xc000 | 12);
	pos = 12;
	is_int(bs_dns_name(m, mn, &pos, out), -1, "label then pointer back to it: malformed, no loop");
	s[ns] = (struct step)STEP_MSG(1); ns++;

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

	/* a response cut inside its second answer keeps the first */
	query(0x6666, "cut.example.com", 1);
	s[ns] = (struct step)STEP_MSG(0); ns++;
	header(0x6666, 0x8180, 1, 2);
	put_name("cut.example.com"); put16(1); put16(1);
	rr_head(12, 1, 4); put8(192); put8(0); put8(2); put8(1);
	rr_head(12, 1, 4); put8(192);
	s[ns] = (struct step)STEP_MSG(1); ns++;
	/* a header alone and a 5-byte datagram */
	header(7, 0x8180, 1, 1);
	s[ns] = (struct step)STEP_MSG(1); ns++;
	s[ns++] = (struct step)SB("\x00\x01\x81\x80\x00", 5);

	int err = run_session(&bs_proto_dns, s, ns, 0, 0);
	is_int(err, 0, "malformed datagrams: no error");
	is_int(rec.n, 1, "malformed datagrams: only the good response gives an event");
	is_str(rec.line[0], "DNS 192.0.2.10>198.51.100.20 q=cut.example.com type=1 ans=[192.0.2.1] cname= rcode=0",
	       "truncated response: the complete answer kept");
}

static void test_tcp(void)
{
	static uint8_t stream0[512], stream1[512];
	size_t n0 = 0, n1 = 0;
	nmsg = 0;
	query(0x7777, "axfr.example.com", 1);
	stream0[n0++] = 0; stream0[n0++] = (uint8_t)mn;
	memcpy(stream0 + n0, m, mn); n0 += mn;
	query(0x7778, "second.example.com", 28);
	stream0[n0++] = 0; stream0[n0++] = (uint8_t)mn;
	memcpy(stream0 + n0, m, mn); n0 += mn;
	header(0x7777, 0x8180, 1, 1);
	put_name("axfr.example.com"); put16(1); put16(1);
	rr_head(12, 1, 4); put8(198); put8(51); put8(100); put8(7);
	stream1[n1++] = 0; stream1[n1++] = (uint8_t)mn;
	memcpy(stream1 + n1, m, mn); n1 += mn;
	header(0x7778, 0x8182, 1, 0);
	put_name("second.example.com"); put16(28); put16(1);
	stream1[n1++] = 0; stream1[n1++] = (uint8_t)mn;
	memcpy(stream1 + n1, m, mn); n1 += mn;
	struct step s[] = { CB(stream0, n0), SB(stream1, n1), GAP(0, 40), CB(stream0, n0), SB(stream1, n1) };

	check_segmentation(&bs_proto_dns_tcp, s, 2, "tcp");
	is_int(rec.n, 2, "tcp: two answered queries");
	is_str(rec.line[0], "DNS 192.0.2.10>198.51.100.20 q=axfr.example.com type=1 ans=[198.51.100.7] cname= rcode=0",
	       "tcp: length-prefixed response");
	is_str(rec.line[1], "DNS 192.0.2.10>198.51.100.20 q=second.example.com type=28 ans=[] cname= rcode=2",
	       "tcp: SERVFAIL");
	check_segmentation(&bs_proto_dns_tcp, s, NSTEPS(s), "tcp gap");
	is_int(rec.n, 4, "tcp: after a gap the next turn resynchronises");
	ok(bs_proto_dns_tcp.sniff(0, stream0, n0), "tcp sniff: a query");
	ok(!bs_proto_dns_tcp.sniff(0, (const uint8_t *)"GET / HTTP/1.1\r\n", 16), "tcp sniff: not HTTP");
}

static void test_reversed_flow(void)
{
	/* the capture saw the response first: the flow key's client is the server */
	nmsg = 0;
	header(0x8888, 0x8180, 1, 1);
	put_name("late.example.com"); put16(1); put16(1);
	rr_head(12, 1, 4); put8(203); put8(0); put8(113); put8(5);
	struct step s[] = { STEP_MSG(0) };
	run_session(&bs_proto_dns, s, 1, 0, 0);
	is_str(rec.line[0], "DNS 198.51.100.20>192.0.2.10 q=late.example.com type=1 ans=[203.0.113.5] cname= rcode=0",
	       "response without its query: the receiver is the querier");
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
	is_str(rec.line[0], "DNS 192.0.2.10>198.51.100.20 q=flood.example.com type=1 ans=[] cname= rcode=-1",
	       "the oldest query evicted as unanswered");
}

/* `test_dns --corpus DIR`: the corpus pass alone (make check-corpus). */
int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--corpus") == 0) {
		test_corpus(argv[2]);
		return tap_done();
	}
	test_udp();
	test_loops_and_truncation();
	test_tcp();
	test_reversed_flow();
	test_eviction();
	test_garbage();
	return tap_done();
}

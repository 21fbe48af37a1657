/* test_capture.c - the capture engine on packets built in memory: link
 * layers, IPv6 extension headers, fragments through the engine, TCP flows
 * (handshake, FIN, RST, mid-stream, eviction, timeout), UDP directions, and
 * pcap / pcapng files (both byte orders, nanoseconds, cut records, mixed
 * link types through the project's own pcapng reader). */
#include "config.h"
#include "tap.h"
#include "parsers/capture/capture.h"
#include "parsers/capture/pcapng.h"
#include "src/core/bytes.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

/* ----------------------------------------------------------- recorder */

#define MAXF 16
struct rflow {
	char data[2][4096];
	size_t n[2];
	int closed; /* enum bs_flow_end, 0 while open */
};

struct recorder {
	struct rflow flows[MAXF];
	int nflows;
	int nudp;
	char udp[8][256];
	size_t udp_len[8];
	int udp_dir[8];
	struct bs_event ev[MAXF]; /* flow records (app not kept) */
	int nev;
};

static size_t state_per_flow; /* what the recorder says it holds per flow (memory cap tests) */

static void r_open(void *ctx, struct bs_cflow *f)
{
	struct recorder *r = ctx;
	f->user = r->nflows < MAXF ? &r->flows[r->nflows++] : NULL;
	f->app = "test";
	f->user_bytes = state_per_flow;
}

static void r_append(struct rflow *rf, int dir, const char *p, size_t n)
{
	if (rf && rf->n[dir] + n < sizeof rf->data[dir]) {
		memcpy(rf->data[dir] + rf->n[dir], p, n);
		rf->n[dir] += n;
		rf->data[dir][rf->n[dir]] = 0;
	}
}

static void r_data(void *ctx, struct bs_cflow *f, int dir, const uint8_t *p, size_t n, bs_time ts, uint64_t pktno)
{
	r_append(f->user, dir, (const char *)p, n);
}

static void r_gap(void *ctx, struct bs_cflow *f, int dir, uint64_t n, bs_time ts, uint64_t pktno)
{
	char g[32];
	int k = snprintf(g, sizeof g, "<gap %llu>", (unsigned long long)n);
	r_append(f->user, dir, g, (size_t)k);
}

static void r_close(void *ctx, struct bs_cflow *f, enum bs_flow_end why, bs_time ts)
{
	struct rflow *rf = f->user;
	if (rf)
		rf->closed = (int)why;
}

static void r_udp(void *ctx, const struct bs_flow_key *k, int dir, const uint8_t *p, size_t n, bs_time ts,
                  uint64_t pktno)
{
	struct recorder *r = ctx;
	if (r->nudp < 8 && n < 256) {
		memcpy(r->udp[r->nudp], p, n);
		r->udp[r->nudp][n] = 0;
		r->udp_len[r->nudp] = n;
		r->udp_dir[r->nudp] = dir;
		r->nudp++;
	}
}

static void r_event(void *ctx, const struct bs_event *ev)
{
	struct recorder *r = ctx;
	if (ev->type == BS_EV_FLOW && r->nev < MAXF) {
		r->ev[r->nev] = *ev;
		r->ev[r->nev].u.flow.app = BS_STR_NULL;
		r->nev++;
	}
}

static const struct bs_stream_ops rec_ops = { r_open, r_data, r_gap, r_close, r_udp };

static struct recorder rec;
static struct bs_capture *cap;
static uint64_t pktno;
static FILE *warnf; /* where the engine's warnings go, when a test looks at them */

static size_t memcap; /* 0: the default */

static void fresh(size_t max_flows)
{
	bs_capture_free(cap);
	memset(&rec, 0, sizeof rec);
	pktno = 0;
	struct bs_capture_opts o = { .input = 3, .max_flows = max_flows, .warn = warnf, .name = "t.pcap", .memcap = memcap };
	static struct bs_sink sink;
	sink = (struct bs_sink){ r_event, &rec };
	cap = bs_capture_new(&o, &rec_ops, &rec, &sink);
}

/* ------------------------------------------------------- packet builders */

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static void ip4(uint8_t *a, const char *s) { bs_ip ip; bs_ip_parse(s, strlen(s), &ip); memcpy(a, ip.a, 4); }
static void ip6(uint8_t *a, const char *s) { bs_ip ip; bs_ip_parse(s, strlen(s), &ip); memcpy(a, ip.a, 16); }

static size_t tcp_hdr(uint8_t *p, uint16_t sp, uint16_t dp, uint32_t seq, uint8_t flags, const char *data)
{
	size_t n = strlen(data);
	memset(p, 0, 20);
	put16(p, sp);
	put16(p + 2, dp);
	put32(p + 4, seq);
	p[12] = 5 << 4;
	p[13] = flags;
	put16(p + 14, 65535);
	memcpy(p + 20, data, n);
	return 20 + n;
}

static size_t udp_hdr(uint8_t *p, uint16_t sp, uint16_t dp, const char *data)
{
	size_t n = strlen(data);
	put16(p, sp);
	put16(p + 2, dp);
	put16(p + 4, (unsigned)(8 + n));
	put16(p + 6, 0);
	memcpy(p + 8, data, n);
	return 8 + n;
}

static size_t ipv4_hdr(uint8_t *p, const char *src, const char *dst, uint8_t proto, size_t payload,
                       uint16_t id, uint16_t frag)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, (unsigned)(20 + payload));
	put16(p + 4, id);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	ip4(p + 12, src);
	ip4(p + 16, dst);
	return 20;
}

/* IPv4 + TCP into p; returns the length. */
static size_t v4tcp(uint8_t *p, const char *src, uint16_t sp, const char *dst, uint16_t dp, uint32_t seq,
                    uint8_t flags, const char *data)
{
	size_t n = tcp_hdr(p + 20, sp, dp, seq, flags, data);
	return ipv4_hdr(p, src, dst, 6, n, 1, 0) + n;
}

static size_t v4udp(uint8_t *p, const char *data)
{
	size_t n = udp_hdr(p + 20, 5353, 53, data);
	return ipv4_hdr(p, "10.0.0.1", "10.0.0.53", 17, n, 7, 0) + n;
}

static enum bs_verdict feed(int linktype, const uint8_t *p, size_t n, bs_time ts)
{
	return bs_capture_packet(cap, linktype, p, n, n, ts, ++pktno);
}

/* A TCP packet of the test conversation 10.0.0.1:40000 <-> 10.0.0.2:80. */
#define CLI 0
#define SRV 1
static enum bs_verdict tcp(int from, uint32_t seq, uint8_t flags, const char *data, bs_time ts)
{
	uint8_t b[2048];
	size_t n = from == CLI ? v4tcp(b, "10.0.0.1", 40000, "10.0.0.2", 80, seq, flags, data)
	                       : v4tcp(b, "10.0.0.2", 80, "10.0.0.1", 40000, seq, flags, data);
	return feed(228, b, n, ts);
}

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01
#define RST 0x04
#define PSH 0x08

/* ----------------------------------------------------------- link layers */

/* Ethertype 0x8864 and a PPPoE session header at P, PPP protocol PROTO,
 * the datagram D after it (10 bytes before D). */
static void pppoe(uint8_t *p, unsigned proto, const uint8_t *d, size_t n)
{
	put16(p, 0x8864);
	p[2] = 0x11; /* version 1, type 1 */
	p[3] = 0;    /* session data */
	put16(p + 4, 0x1234);
	put16(p + 6, (unsigned)(n + 2));
	put16(p + 8, proto);
	memcpy(p + 10, d, n);
}

/* PPPoE, MPLS and NFLOG around the IPv4 datagram IP and the IPv6 one V6
 * (issue 18): each one is delivered. */
static void test_tunnel_link_layers(const uint8_t *ip, size_t n, const uint8_t *v6, size_t n6)
{
	uint8_t b[512];
	fresh(0);
	int before = rec.nudp;

	/* PPPoE session over QinQ: 88a8, 8100, 8864, ver/type 0x11, code 0,
	 * session, length, PPP 0x0021 */
	memset(b, 0xaa, 12);
	put16(b + 12, 0x88a8);
	put16(b + 14, 10);
	put16(b + 16, 0x8100);
	put16(b + 18, 20);
	pppoe(b + 20, 0x0021, ip, n);
	is_int(feed(1, b, 30 + n, 1), BS_PARSED, "PPPoE over QinQ, IPv4: parsed");
	is_str(rec.udp[rec.nudp - 1], "hello", "PPPoE over QinQ: UDP payload");
	/* PPPoE on a plain frame, IPv6 */
	pppoe(b + 12, 0x0057, v6, n6);
	is_int(feed(1, b, 22 + n6, 1), BS_PARSED, "PPPoE, IPv6: parsed");
	put16(b + 20, 0xc021);
	is_int(feed(1, b, 22 + n6, 1), BS_IGNORED, "PPPoE LCP: ignored");
	is_int(feed(1, b, 18, 1), BS_MALFORMED, "PPPoE cut in its header: malformed");

	/* MPLS: two labels, the second with bottom of stack, then IPv4 */
	put16(b + 12, 0x8847);
	memset(b + 14, 0, 8);
	b[14 + 1] = 0x10;
	b[18 + 1] = 0x20;
	b[18 + 2] = 0x01;
	b[18 + 3] = 64;
	memcpy(b + 22, ip, n);
	is_int(feed(1, b, 22 + n, 1), BS_PARSED, "MPLS two labels, IPv4: parsed");
	is_str(rec.udp[rec.nudp - 1], "hello", "MPLS: UDP payload");
	/* MPLS multicast behind 802.1Q, one label, IPv6 */
	put16(b + 12, 0x8100);
	put16(b + 14, 7);
	put16(b + 16, 0x8848);
	memset(b + 18, 0, 4);
	b[18 + 2] = 0x01;
	memcpy(b + 22, v6, n6);
	is_int(feed(1, b, 22 + n6, 1), BS_PARSED, "MPLS behind 802.1Q, IPv6: parsed");
	put16(b + 16, 0x8847);
	memset(b + 18, 0, 8);
	is_int(feed(1, b, 26, 1), BS_MALFORMED, "MPLS without bottom of stack: malformed");

	/* NFLOG: AF_INET, version 0, group 5; a prefix TLV (padded), the
	 * payload TLV; little-endian TLVs as an x86 host writes them */
	size_t o = 0;
	b[o++] = 2;
	b[o++] = 0;
	put16(b + o, 5);
	o += 2;
	b[o] = 4 + 3; b[o + 1] = 0; b[o + 2] = 10; b[o + 3] = 0; /* NFULA_PREFIX "ab\0" */
	memcpy(b + o + 4, "ab", 3);
	o += 8;
	b[o] = (uint8_t)(4 + n); b[o + 1] = 0; b[o + 2] = 9; b[o + 3] = 0;
	memcpy(b + o + 4, ip, n);
	is_int(feed(239, b, o + 4 + n, 1), BS_PARSED, "NFLOG little-endian, IPv4: parsed");
	is_str(rec.udp[rec.nudp - 1], "hello", "NFLOG: UDP payload");
	/* big-endian TLVs, AF_INET6 */
	b[0] = 10;
	o = 4;
	b[o] = 0; b[o + 1] = (uint8_t)(4 + n6); b[o + 2] = 0; b[o + 3] = 9;
	memcpy(b + o + 4, v6, n6);
	is_int(feed(239, b, o + 4 + n6, 1), BS_PARSED, "NFLOG big-endian, IPv6: parsed");
	b[o + 3] = 1; /* NFULA_PACKET_HDR only */
	is_int(feed(239, b, o + 4 + n6, 1), BS_IGNORED, "NFLOG without a payload: ignored");
	is_int(rec.nudp - before, 6, "PPPoE, MPLS, NFLOG: every datagram delivered");

	/* ARCNET. BSD (DLT_ARCNET): stations, IP (RFC 1201), split flag,
	 * sequence; an exception packet (split flag 0xff) has 4 more bytes */
	fresh(0);
	before = rec.nudp;
	static const struct { int dlt; const char *hdr; size_t hlen; bool v6; const char *what; } arc[] = {
		{ 7, "\x01\x02\xd4\x00\x00\x07", 6, false, "ARCNET (BSD), RFC 1201: parsed" },
		{ 7, "\x01\x02\xd4\xff\x00\x00\xd4\x00\x00\x07", 10, false, "ARCNET (BSD), exception packet: parsed" },
		/* Linux: stations, offset; RFC 1051 (IP right after), IPv6 (RFC 2497) */
		{ 129, "\x01\x02\x00\x00\xf0", 5, false, "ARCNET (Linux), RFC 1051: parsed" },
		{ 129, "\x01\x02\x00\x00\xc4\x00\x00\x07", 8, true, "ARCNET (Linux), IPv6: parsed" },
	};
	for (size_t i = 0; i < sizeof arc / sizeof *arc; i++) {
		memcpy(b, arc[i].hdr, arc[i].hlen);
		memcpy(b + arc[i].hlen, arc[i].v6 ? v6 : ip, arc[i].v6 ? n6 : n);
		is_int(feed(arc[i].dlt, b, arc[i].hlen + (arc[i].v6 ? n6 : n), 1), BS_PARSED, arc[i].what);
	}
	is_int(rec.nudp - before, 4, "ARCNET: every datagram delivered");
	is_str(rec.udp[before], "hello", "ARCNET: UDP payload");
	b[4] = 0xd5; /* ARP */
	is_int(feed(129, b, 8 + n6, 1), BS_IGNORED, "ARCNET ARP: ignored");
	is_int(feed(129, b, 4, 1), BS_MALFORMED, "ARCNET without its protocol id: malformed");
	b[4] = 0xd4;
	is_int(feed(129, b, 6, 1), BS_MALFORMED, "ARCNET RFC 1201 header cut: malformed");
}

static void test_link_layers(void)
{
	uint8_t ip[256], b[512];
	size_t n = v4udp(ip, "hello");

	fresh(0);
	/* Ethernet II */
	memset(b, 0xaa, 12);
	put16(b + 12, 0x0800);
	memcpy(b + 14, ip, n);
	is_int(feed(1, b, 14 + n, 1), BS_PARSED, "Ethernet: parsed");
	is_str(rec.udp[0], "hello", "Ethernet: UDP payload");
	/* Ethernet frame padded to 60 bytes: the IP length wins */
	uint8_t small[64] = { 0 };
	size_t sn = v4udp(small + 14, "");
	put16(small + 12, 0x0800);
	is_int(feed(1, small, 60, 1), BS_PARSED, "Ethernet padding: parsed");
	is_int(rec.udp_len[1], 0, "Ethernet padding: not taken as payload");
	(void)sn;
	/* 802.1Q */
	put16(b + 12, 0x8100);
	put16(b + 14, 100);
	put16(b + 16, 0x0800);
	memcpy(b + 18, ip, n);
	is_int(feed(1, b, 18 + n, 1), BS_PARSED, "802.1Q: parsed");
	/* QinQ 802.1ad outer + 802.1Q inner */
	put16(b + 12, 0x88a8);
	put16(b + 14, 10);
	put16(b + 16, 0x8100);
	put16(b + 18, 20);
	put16(b + 20, 0x0800);
	memcpy(b + 22, ip, n);
	is_int(feed(1, b, 22 + n, 1), BS_PARSED, "QinQ: parsed");
	is_str(rec.udp[3], "hello", "QinQ: UDP payload");
	/* too many tags */
	for (int i = 0; i < 6; i++)
		put16(b + 12 + 4 * i, 0x9100);
	is_int(feed(1, b, 40, 1), BS_MALFORMED, "Ethernet: endless VLAN tags are malformed");
	/* ARP */
	put16(b + 12, 0x0806);
	is_int(feed(1, b, 42, 1), BS_IGNORED, "Ethernet: ARP ignored");
	is_int(feed(1, b, 10, 1), BS_MALFORMED, "Ethernet: short frame malformed");

	/* Linux cooked v1 */
	memset(b, 0, 16);
	put16(b + 14, 0x0800);
	memcpy(b + 16, ip, n);
	is_int(feed(113, b, 16 + n, 1), BS_PARSED, "Linux SLL: parsed");
	/* Linux cooked v2 */
	memset(b, 0, 20);
	put16(b, 0x0800);
	memcpy(b + 20, ip, n);
	is_int(feed(276, b, 20 + n, 1), BS_PARSED, "Linux SLL2: parsed");
	/* raw IP, all its numbers */
	is_int(feed(101, ip, n, 1), BS_PARSED, "LINKTYPE_RAW: parsed");
	is_int(feed(12, ip, n, 1), BS_PARSED, "DLT_RAW 12: parsed");
	is_int(feed(14, ip, n, 1), BS_PARSED, "DLT_RAW 14: parsed");
	is_int(feed(228, ip, n, 1), BS_PARSED, "LINKTYPE_IPV4: parsed");
	is_int(feed(101 | 0x04000000 | (4u << 28), ip, n, 1), BS_PARSED, "FCS bits of the link type masked");
	/* BSD loopback, both byte orders */
	b[0] = 2; b[1] = b[2] = b[3] = 0;
	memcpy(b + 4, ip, n);
	is_int(feed(0, b, 4 + n, 1), BS_PARSED, "DLT_NULL little-endian AF_INET: parsed");
	b[0] = b[1] = b[2] = 0; b[3] = 2;
	is_int(feed(108, b, 4 + n, 1), BS_PARSED, "DLT_LOOP network order AF_INET: parsed");
	is_int(rec.nudp, 8, "every link type delivered its datagram");

	/* IPv6 over loopback with each AF_INET6 value */
	uint8_t v6[128];
	memset(v6, 0, 40);
	v6[0] = 0x60;
	size_t un = udp_hdr(v6 + 40, 5000, 53, "six");
	put16(v6 + 4, (unsigned)un);
	v6[6] = 17;
	v6[7] = 64;
	ip6(v6 + 8, "2001:db8::1");
	ip6(v6 + 24, "2001:db8::53");
	int good = 0;
	const unsigned afs[] = { 24, 28, 30 };
	for (int i = 0; i < 3; i++) {
		memset(b, 0, 4);
		b[0] = (uint8_t)afs[i]; /* little-endian */
		memcpy(b + 4, v6, 40 + un);
		good += feed(0, b, 44 + un, 1) == BS_PARSED;
		memset(b, 0, 4);
		b[3] = (uint8_t)afs[i]; /* big-endian */
		good += feed(0, b, 44 + un, 1) == BS_PARSED;
	}
	is_int(good, 6, "DLT_NULL AF_INET6 24/28/30 in both byte orders: parsed");
	is_int(feed(229, v6, 40 + un, 1), BS_PARSED, "LINKTYPE_IPV6: parsed");
	is_int(feed(101, v6, 40 + un, 1), BS_PARSED, "raw IPv6: parsed");
	b[0] = 7; b[1] = b[2] = b[3] = 0;
	is_int(feed(0, b, 44, 1), BS_IGNORED, "DLT_NULL other family: ignored");

	/* unsupported link type */
	is_int(feed(147, ip, n, 1), BS_IGNORED, "unsupported link type: ignored");
	is_int(bs_capture_counters(cap)->unsupported_linktype, 1, "unsupported link type: counted");

	/* broken IP */
	uint8_t bad[64];
	memcpy(bad, ip, n);
	bad[0] = 0x43; /* IHL 3 */
	is_int(feed(228, bad, n, 1), BS_MALFORMED, "IPv4 IHL < 5: malformed");
	memcpy(bad, ip, n);
	put16(bad + 2, 200);
	is_int(feed(228, bad, n, 1), BS_MALFORMED, "IPv4 total length beyond the packet: malformed");
	is_int(bs_capture_packet(cap, 228, bad, n, 200, 1, ++pktno), BS_PARSED,
	       "IPv4 cut by the snap length: still parsed");
	memcpy(bad, ip, n);
	bad[9] = 1;
	is_int(feed(228, bad, n, 1), BS_IGNORED, "ICMP: ignored");
	is_int(feed(228, ip, 12, 1), BS_MALFORMED, "IPv4 shorter than its header: malformed");
	is_int(feed(101, (const uint8_t *)"\x50", 1, 1), BS_MALFORMED, "raw: version 5 malformed");
	/* a packet timed outside 1970..9999 (issue 22, item 8) */
	is_int(feed(228, ip, n, -1), BS_MALFORMED, "a packet before 1970: malformed");
	is_int(feed(228, ip, n, BS_TIME_END), BS_MALFORMED, "a packet in year 10000: malformed");
	is_int(feed(228, ip, n, BS_TIME_END - 1), BS_PARSED, "a packet in the last microsecond of 9999: read");
	is_int(feed(101, ip, 0, 1), BS_MALFORMED, "raw: empty packet malformed");
	test_tunnel_link_layers(ip, n, v6, 40 + un);
}

/* ----------------------------------------------------------------- IPv6 */

static size_t v6_with_exts(uint8_t *p, int nexts, uint8_t last_nh, const char *data)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	ip6(p + 8, "2001:db8::1");
	ip6(p + 24, "2001:db8::2");
	p[6] = nexts ? 0 : last_nh; /* hop-by-hop first */
	size_t off = 40;
	static const uint8_t kinds[] = { 60, 43, 51, 60, 60, 60, 60, 60, 60, 60, 60, 60 };
	for (int i = 0; i < nexts; i++) {
		uint8_t next = i + 1 < nexts ? kinds[i] : last_nh;
		p[off] = next;
		uint8_t kind = i == 0 ? 0 : kinds[i - 1];
		if (kind == 51) { /* AH: (len + 2) * 4 bytes */
			p[off + 1] = 4;
			memset(p + off + 2, 0, 22);
			off += 24;
		} else {
			p[off + 1] = 1; /* 16 bytes */
			memset(p + off + 2, 0, 14);
			off += 16;
		}
	}
	size_t n = udp_hdr(p + off, 1234, 53, data);
	put16(p + 4, (unsigned)(off - 40 + n));
	return off + n;
}

static void test_ipv6_exts(void)
{
	uint8_t p[512];
	fresh(0);
	size_t n = v6_with_exts(p, 4, 17, "ext");
	is_int(feed(229, p, n, 1), BS_PARSED, "IPv6 hop-by-hop, dest opts, routing, AH: parsed");
	is_str(rec.udp[0], "ext", "IPv6 extension chain: UDP payload found");
	n = v6_with_exts(p, 11, 17, "long");
	is_int(feed(229, p, n, 1), BS_MALFORMED, "IPv6 over-long extension chain: malformed");
	n = v6_with_exts(p, 2, 50, "esp");
	is_int(feed(229, p, n, 1), BS_IGNORED, "IPv6 ESP: ignored");
	n = v6_with_exts(p, 2, 17, "cut");
	is_int(feed(229, p, 50, 1), BS_MALFORMED, "IPv6 extension header cut: malformed");
	is_int(rec.nudp, 1, "only the good chain delivered");
}

/* ------------------------------------------------------------ fragments */

static void test_fragments(void)
{
	fresh(0);
	/* A UDP datagram of 8 + 24 bytes in three IPv4 fragments, out of order. */
	uint8_t udp[64], b[128];
	size_t un = udp_hdr(udp, 5353, 53, "abcdefghijklmnopqrstuvwx");
	size_t offs[] = { 16, 0, 8 };
	enum bs_verdict v[3];
	for (int i = 0; i < 3; i++) {
		size_t off = offs[i], len = off + 16 > un ? un - off : (off == 0 ? 8 : 8);
		if (off == 16)
			len = un - 16;
		bool more = off + len < un;
		ipv4_hdr(b, "10.0.0.9", "10.0.0.53", 17, len, 4242, (uint16_t)((more ? 0x2000 : 0) | off / 8));
		memcpy(b + 20, udp + off, len);
		v[i] = feed(228, b, 20 + len, 1);
	}
	ok(v[0] == BS_PARSED && v[1] == BS_PARSED && v[2] == BS_PARSED, "IPv4 fragments: parsed");
	is_int(rec.nudp, 1, "IPv4 fragments: one datagram delivered");
	is_str(rec.udp[0], "abcdefghijklmnopqrstuvwx", "IPv4 fragments out of order: rebuilt");
	const struct bs_capture_counters *k = bs_capture_counters(cap);
	is_int(k->ip_fragments, 3, "IPv4 fragments counted");
	is_int(k->frags_reassembled, 1, "IPv4 datagram reassembled counted");

	/* IPv6: fragment header, two pieces. */
	uint8_t p[256];
	for (int part = 1; part >= 0; part--) {
		memset(p, 0, 48);
		p[0] = 0x60;
		p[6] = 44;
		ip6(p + 8, "2001:db8::9");
		ip6(p + 24, "2001:db8::53");
		p[40] = 17;
		size_t off = part ? 16 : 0, len = part ? un - 16 : 16;
		put16(p + 42, (unsigned)(off | (part ? 0 : 1)));
		put32(p + 44, 0xabcdef01);
		memcpy(p + 48, udp + off, len);
		put16(p + 4, (unsigned)(8 + len));
		feed(229, p, 48 + len, 2);
	}
	is_int(rec.nudp, 2, "IPv6 fragments: datagram delivered");
	is_str(rec.udp[1], "abcdefghijklmnopqrstuvwx", "IPv6 fragments: rebuilt");

	/* a fragment that never gets its partner: dropped at finish */
	ipv4_hdr(b, "10.0.0.9", "10.0.0.53", 17, 8, 999, 0x2000);
	memcpy(b + 20, udp, 8);
	is_int(feed(228, b, 28, 3), BS_PARSED, "lonely fragment: held");
	bs_capture_finish(cap, 4);
	ok(bs_capture_counters(cap)->frag_dropped >= 1, "lonely fragment: dropped and counted at the end");
}

/* ------------------------------------------------------------------ TCP */

static const struct bs_event *flow_event(int i)
{
	return i < rec.nev ? &rec.ev[i] : NULL;
}

static void test_tcp_session(void)
{
	fresh(0);
	bs_time t = 1000 * BS_USEC;
	tcp(CLI, 100, SYN, "", t);
	tcp(SRV, 5000, SYN | ACK, "", t + 1);
	tcp(CLI, 101, ACK, "", t + 2);
	tcp(CLI, 101, ACK | PSH, "GET / HTTP/1.1\r\n", t + 3);
	tcp(CLI, 117, ACK | PSH, "\r\n", t + 4);
	tcp(SRV, 5001, ACK | PSH, "HTTP/1.1 200 OK\r\n\r\n", t + 5);
	tcp(CLI, 117, ACK | PSH, "\r\n", t + 6); /* retransmission */
	tcp(CLI, 119, FIN | ACK, "", t + 7);
	tcp(SRV, 5020, FIN | ACK, "", t + 8);
	is_int(rec.flows[0].closed, BS_FLOW_FIN, "FIN both ways: closed with FIN");
	enum bs_verdict last = tcp(CLI, 120, ACK, "", t + 9);
	is_int(last, BS_PARSED, "last ACK after close: parsed");
	is_int(rec.nflows, 1, "last ACK after close: no new flow");
	is_str(rec.flows[0].data[0], "GET / HTTP/1.1\r\n\r\n", "client bytes");
	is_str(rec.flows[0].data[1], "HTTP/1.1 200 OK\r\n\r\n", "server bytes");
	is_int(bs_capture_counters(cap)->tcp_retrans, 1, "retransmission counted");
	const struct bs_event *ev = flow_event(0);
	ok(ev != NULL, "flow record emitted");
	if (ev) {
		char a[64];
		bs_ip_format(&ev->src, a, sizeof a);
		is_str(a, "10.0.0.1", "flow record: src is the client");
		is_int(ev->sport, 40000, "flow record: client port");
		is_int(ev->dport, 80, "flow record: server port");
		ok(ev->u.flow.initiator_known, "flow record: initiator known");
		is_int(ev->u.flow.l4proto, 6, "flow record: tcp");
		is_int(ev->u.flow.pkts_fwd, 6, "flow record: client packets");
		is_int(ev->u.flow.pkts_rev, 3, "flow record: server packets");
		is_int(ev->u.flow.bytes_fwd, 18, "flow record: client payload bytes");
		is_int(ev->u.flow.bytes_rev, 19, "flow record: server payload bytes");
		is_int(ev->u.flow.end, BS_FLOW_FIN, "flow record: end FIN");
		is_int(ev->u.flow.first, t, "flow record: first");
		is_int(ev->u.flow.last, t + 8, "flow record: last");
		is_int(ev->origin.ref, 1, "flow record: first packet number");
		is_int(ev->origin.input, 3, "flow record: input");
	}

	/* Port reuse: a new SYN on a closed flow starts a new one. */
	tcp(CLI, 9000, SYN, "", t + 20);
	is_int(rec.nflows, 2, "new SYN on the same ports: new flow");

	/* SYN-ACK seen first: its receiver is the client. */
	fresh(0);
	tcp(SRV, 5000, SYN | ACK, "", t);
	tcp(CLI, 101, ACK | PSH, "hi", t + 1);
	tcp(SRV, 5001, ACK | PSH, "yo", t + 2);
	bs_capture_finish(cap, t + 3);
	is_str(rec.flows[0].data[0], "hi", "SYN-ACK first: client direction");
	is_str(rec.flows[0].data[1], "yo", "SYN-ACK first: server direction");
	ev = flow_event(0);
	ok(ev && ev->sport == 40000 && ev->u.flow.end == BS_FLOW_EOF, "SYN-ACK first: key and EOF end");

	/* Mid-stream: the first sender is taken as the client. */
	fresh(0);
	tcp(SRV, 777777, ACK | PSH, "tail of a response", t);
	tcp(CLI, 3333, ACK | PSH, "next request", t + 1);
	bs_capture_finish(cap, t + 2);
	ev = flow_event(0);
	ok(ev && ev->sport == 80 && !ev->u.flow.initiator_known, "mid-stream: first sender is the client, initiator unknown");
	is_str(rec.flows[0].data[0], "tail of a response", "mid-stream: data from the first sequence seen");

	/* Out of order, then a hole closed by RST. */
	fresh(0);
	tcp(CLI, 100, SYN, "", t);
	tcp(SRV, 5000, SYN | ACK, "", t + 1);
	tcp(CLI, 106, ACK, "world", t + 2);
	tcp(CLI, 101, ACK, "hello", t + 3);
	tcp(CLI, 120, ACK, "late", t + 4);
	tcp(SRV, 5001, RST, "", t + 5);
	is_str(rec.flows[0].data[0], "helloworld<gap 9>late", "RST: buffered data after the hole handed out with a gap");
	is_int(rec.flows[0].closed, BS_FLOW_RST, "RST: closed with RST");
	is_int(bs_capture_counters(cap)->tcp_gaps, 1, "RST: gap counted");

	/* FIN with missing data before it. */
	fresh(0);
	tcp(CLI, 100, SYN, "", t);
	tcp(SRV, 5000, SYN | ACK, "", t + 1);
	tcp(CLI, 101, ACK, "abc", t + 2);
	tcp(CLI, 110, FIN | ACK, "", t + 3);
	tcp(SRV, 5001, FIN | ACK, "", t + 4);
	ok(rec.flows[0].closed == 0, "FIN behind a hole: flow waits");
	bs_capture_finish(cap, t + 5);
	is_str(rec.flows[0].data[0], "abc<gap 6>", "FIN behind a hole: gap to the FIN at the end");
	is_int(rec.flows[0].closed, BS_FLOW_EOF, "finish closes with EOF");
}

static void conv(int i, bs_time t)
{
	uint8_t b[256];
	char cli[32];
	snprintf(cli, sizeof cli, "10.1.0.%d", i + 1);
	size_t n = v4tcp(b, cli, 1000, "10.0.0.2", 80, 1, ACK | PSH, "x");
	feed(228, b, n, t);
}

static void test_flow_table(void)
{
	fresh(2);
	conv(0, 10);
	conv(1, 20);
	conv(2, 30);
	const struct bs_capture_counters *k = bs_capture_counters(cap);
	is_int(k->flows_evicted, 1, "cap: one flow evicted");
	is_int(rec.flows[0].closed, BS_FLOW_EVICTED, "cap: the least recently used flow goes");
	is_int(rec.flows[1].closed, 0, "cap: the others stay");
	conv(1, 40); /* touch flow 1: flow 2 is now the oldest */
	conv(3, 50);
	is_int(rec.flows[2].closed, BS_FLOW_EVICTED, "LRU: recently used flow kept");
	is_int(k->flows, 4, "flows counted");

	/* idle timeout (2 hours by default) */
	fresh(0);
	conv(0, 0);
	conv(1, 3 * 3600 * BS_USEC);
	is_int(rec.flows[0].closed, BS_FLOW_TIMEOUT, "idle flow closed by timeout");
	ok(rec.nev == 1 && rec.ev[0].u.flow.end == BS_FLOW_TIMEOUT, "timeout flow record");
	uint64_t id0 = rec.nev ? 3ull << 40 : 0;
	ok(id0 != 0, "flow ids carry the input index");

	/* Many flows under a small cap: table stays bounded and all flows reported. */
	fresh(64);
	for (int i = 0; i < 1000; i++) {
		uint8_t b[128];
		char src[32];
		snprintf(src, sizeof src, "10.%d.%d.1", i / 200, i % 200);
		size_t n = v4tcp(b, src, (uint16_t)(1024 + i), "10.0.0.2", 80, 1, SYN, "");
		feed(228, b, n, i);
	}
	is_int(bs_capture_counters(cap)->flows_evicted, 1000 - 64, "1000 flows, cap 64: evictions counted");
}

/* Memory charged against the cap comes back when flows end: a closed
 * flow keeps only its structure while it lingers, a timed-out or finished
 * one nothing; buffered segments and consumer state are charged. */
static void test_memory_accounting(void)
{
	state_per_flow = 50000;
	fresh(0);
	size_t empty = bs_capture_memory(cap);
	ok(empty > 0 && empty < 64 * 1024, "memory: an empty engine holds its hash buckets only");
	for (int i = 0; i < 4; i++)
		conv(i, 10 + i);
	size_t four = bs_capture_memory(cap);
	ok(four >= empty + 4 * 50000, "memory: the consumer's state of four flows charged");
	tcp(CLI, 100, SYN, "", 20);
	tcp(CLI, 106, ACK, "later bytes", 21); /* ahead of a hole: buffered */
	size_t buffered = bs_capture_memory(cap);
	ok(buffered >= four + 50000 + 11, "memory: a buffered segment charged");
	tcp(CLI, 101, RST, "", 22);
	size_t lingering = bs_capture_memory(cap);
	ok(lingering < buffered - 50000 - 11 && lingering > four, "memory: a reset flow frees its state and segments at once");
	uint8_t b[256];
	size_t n = v4udp(b, "query");
	feed(228, b, n, 23);
	size_t with_udp = bs_capture_memory(cap);
	ok(with_udp > lingering, "memory: a UDP flow charged");
	conv(0, 62 * BS_USEC); /* the reset flow's linger (60 s) is over, flow 0 is 2 h from its timeout */
	ok(bs_capture_memory(cap) < with_udp, "memory: the closed flow leaves after its linger, older open flows stay");
	is_int(rec.flows[0].closed, 0, "memory: the older open flow stays");
	feed(228, b, n, 400 * BS_USEC); /* the UDP flow's idle time (300 s) is over: a new one */
	bs_capture_finish(cap, 500 * BS_USEC);
	is_int(bs_capture_memory(cap), empty, "memory: back to the empty engine when every flow ended");
	state_per_flow = 0;
}

/* A segment that differs from the buffered copy of its bytes is an anomaly
 * of the flow: counted in its record. */
static void test_overlap_anomaly(void)
{
	fresh(0);
	tcp(CLI, 100, SYN, "", 1);
	tcp(CLI, 102, ACK, "alry", 2);
	tcp(CLI, 101, ACK, "alice", 3);
	tcp(CLI, 102, ACK, "alry", 4); /* the same copy again: no conflict */
	bs_capture_finish(cap, 5);
	is_str(rec.flows[0].data[0], "<gap 1>alry", "overlap: the first copy delivered");
	ok(rec.nev == 1 && rec.ev[0].u.flow.overlap_conflicts == 1, "overlap: one conflict on the flow's record");
}

/* Over the memory cap the least recently used flows go first, down to 90 %
 * of the cap, each closed as evicted and counted. */
static void test_memcap(void)
{
	state_per_flow = 300000; /* three flows fit in 1 MiB, four do not */
	memcap = 1 << 20;
	fresh(0);
	conv(0, 10);
	conv(1, 20);
	conv(2, 30);
	const struct bs_capture_counters *k = bs_capture_counters(cap);
	is_int(k->flows_evicted, 0, "memcap: three flows fit");
	conv(0, 40); /* flow 0 used again: flow 1 is now the idlest */
	conv(3, 50);
	is_int(rec.flows[1].closed, BS_FLOW_EVICTED, "memcap: the least recently used flow evicted");
	ok(rec.flows[0].closed == 0 && rec.flows[2].closed == 0 && rec.flows[3].closed == 0,
	   "memcap: the others stay");
	is_int(k->flows_evicted_memcap, 1, "memcap: the eviction counted as the memory cap's");
	is_int(k->flows_evicted, 1, "memcap: and among all evictions");
	ok(rec.nev == 1 && rec.ev[0].u.flow.end == BS_FLOW_EVICTED && rec.ev[0].u.flow.pkts_fwd == 1,
	   "memcap: the evicted flow's record says so");
	ok(bs_capture_memory(cap) <= (1u << 20) / 10 * 9, "memcap: down to the low-water mark");
	/* a flood: memory stays under the cap whatever the number of flows */
	size_t peak = 0;
	for (int i = 4; i < 200; i++) {
		conv(i, 100 + i);
		if (bs_capture_memory(cap) > peak)
			peak = bs_capture_memory(cap);
	}
	ok(peak <= 1u << 20, "memcap: 200 flows, never above the cap between packets");
	is_int(k->flows_evicted_memcap, 1 + 196, "memcap: every flow beyond the cap evicted and counted");
	bs_capture_finish(cap, 1000);
	memcap = 0;
	state_per_flow = 0;
}

static void test_udp(void)
{
	fresh(0);
	uint8_t b[256];
	size_t n = udp_hdr(b + 20, 40001, 53, "query");
	ipv4_hdr(b, "10.0.0.1", "10.0.0.53", 17, n, 1, 0);
	feed(228, b, 20 + n, 1);
	n = udp_hdr(b + 20, 53, 40001, "answer");
	ipv4_hdr(b, "10.0.0.53", "10.0.0.1", 17, n, 2, 0);
	feed(228, b, 20 + n, 2);
	is_int(rec.nudp, 2, "UDP: both datagrams");
	is_int(rec.udp_dir[0], 0, "UDP: query goes client to server");
	is_int(rec.udp_dir[1], 1, "UDP: answer comes back");
	bs_capture_finish(cap, 3);
	ok(rec.nev == 1 && rec.ev[0].u.flow.l4proto == 17 && rec.ev[0].u.flow.bytes_fwd == 5 &&
	   rec.ev[0].u.flow.bytes_rev == 6 && rec.ev[0].dport == 53, "UDP flow record at finish");
	put16(b + 24, 4); /* UDP length < 8 */
	is_int(feed(228, b, 20 + n, 4), BS_MALFORMED, "UDP length below its header: malformed");
}

/* --------------------------------------------------------------- files */

struct buf {
	uint8_t p[1 << 16];
	size_t n;
};

static void b_put(struct buf *b, const void *p, size_t n)
{
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void b_u32(struct buf *b, uint32_t v, bool big)
{
	uint8_t x[4];
	if (big)
		put32(x, v);
	else
		for (int i = 0; i < 4; i++)
			x[i] = (uint8_t)(v >> (8 * i));
	b_put(b, x, 4);
}

static void b_u16(struct buf *b, unsigned v, bool big)
{
	uint8_t x[2] = { big ? (uint8_t)(v >> 8) : (uint8_t)v, big ? (uint8_t)v : (uint8_t)(v >> 8) };
	b_put(b, x, 2);
}

/* A classic pcap of packets lo..hi-1 of the test conversation (raw IPv4). */
static void make_pcap_part(struct buf *b, bool big, bool nano, int lo, int hi)
{
	b->n = 0;
	b_u32(b, nano ? 0xa1b23c4d : 0xa1b2c3d4, big);
	b_u16(b, 2, big);
	b_u16(b, 4, big);
	b_u32(b, 0, big);
	b_u32(b, 0, big);
	b_u32(b, 65535, big);
	b_u32(b, 228, big);
	const char *data[] = { "", "", "", "GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\nbody" };
	const uint8_t fl[] = { SYN, SYN | ACK, ACK, ACK | PSH, ACK | PSH | FIN };
	const uint32_t seq[] = { 10, 20, 11, 11, 21 };
	for (int i = lo; i < hi; i++) {
		uint8_t pk[256];
		bool from_srv = i == 1 || i == 4;
		size_t n = from_srv ? v4tcp(pk, "10.0.0.2", 80, "10.0.0.1", 40000, seq[i], fl[i], data[i])
		                    : v4tcp(pk, "10.0.0.1", 40000, "10.0.0.2", 80, seq[i], fl[i], data[i]);
		b_u32(b, 1700000000 + (uint32_t)i, big);
		b_u32(b, nano ? 123456789 : 123456, big);
		b_u32(b, (uint32_t)n, big);
		b_u32(b, (uint32_t)n, big);
		b_put(b, pk, n);
	}
}

static void make_pcap(struct buf *b, bool big, bool nano)
{
	make_pcap_part(b, big, nano, 0, 5);
}

static bool read_mem(const uint8_t *p, size_t n, int fmt, struct bs_input_stats *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof *st);
	FILE *fp = fmemopen((void *)p, n, "r");
	return bs_capture_read_stream(cap, fp, fmt, st, err, errlen);
}

static void test_pcap_files(void)
{
	static struct buf b;
	struct bs_input_stats st;
	char err[256];
	for (int v = 0; v < 4; v++) {
		bool big = v & 1, nano = v & 2;
		char what[64];
		snprintf(what, sizeof what, "pcap %s-endian %s", big ? "big" : "little", nano ? "nsec" : "usec");
		fresh(0);
		make_pcap(&b, big, nano);
		ok(read_mem(b.p, b.n, BS_FMT_PCAP, &st, err, sizeof err), "%s: read cleanly", what);
		ok(st.records == 5 && st.parsed == 5 && !st.truncated, "%s: 5 records parsed", what);
		bs_capture_finish(cap, BS_TIME_NONE);
		is_str(rec.flows[0].data[1], "HTTP/1.0 200 OK\r\n\r\nbody", "%s: server stream", what);
		is_int(rec.nev ? rec.ev[0].u.flow.first : 0, 1700000000 * BS_USEC + 123456, "%s: time kept to the microsecond", what);
	}

	/* cut in the last record: every earlier packet used, damage reported */
	fresh(0);
	make_pcap(&b, false, true);
	bool okr = read_mem(b.p, b.n - 7, BS_FMT_PCAP, &st, err, sizeof err);
	ok(!okr, "cut pcap: read reports damage");
	ok(st.truncated, "cut pcap: truncated set");
	is_int(st.parsed, 4, "cut pcap: the four complete packets were used");
	is_int(st.records, st.parsed + st.ignored + st.malformed, "cut pcap: every record counted once");
	ok(strncmp(err, "packet 5: truncated dump file", 29) == 0, "cut pcap: message names the packet (%s)", err);
	is_str(rec.flows[0].data[0], "GET / HTTP/1.0\r\n\r\n", "cut pcap: earlier data delivered");

	/* a record with an absurd captured length */
	fresh(0);
	make_pcap(&b, false, false);
	size_t rec2 = 24 + 16 + 40; /* second record header: after file header and a 40-byte SYN */
	b.p[rec2 + 8] = 0xff;
	b.p[rec2 + 9] = 0xff;
	b.p[rec2 + 10] = 0xff;
	b.p[rec2 + 11] = 0x7f;
	okr = read_mem(b.p, b.n, BS_FMT_PCAP, &st, err, sizeof err);
	ok(!okr && st.truncated && st.parsed == 1, "bad caplen: damage after the first packet");
	ok(strncmp(err, "packet 2: ", 10) == 0, "bad caplen: packet number in the message (%s)", err);

	/* written by libpcap itself */
	fresh(0);
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	FILE *tf = tmpfile();
	pcap_dumper_t *d = pcap_dump_fopen(dead, tf);
	for (int i = 0; i < 3; i++) {
		uint8_t fr[256] = { 0 };
		put16(fr + 12, 0x0800);
		size_t n = 14 + v4udp(fr + 14, "dumped");
		struct pcap_pkthdr h = { .caplen = (bpf_u_int32)n, .len = (bpf_u_int32)n };
		h.ts.tv_sec = 1600000000 + i;
		pcap_dump((u_char *)d, &h, fr);
	}
	pcap_dump_flush(d);
	static struct buf dumped;
	rewind(tf);
	dumped.n = fread(dumped.p, 1, sizeof dumped.p, tf);
	pcap_dump_close(d);
	pcap_close(dead);
	ok(read_mem(dumped.p, dumped.n, BS_FMT_PCAP, &st, err, sizeof err) && st.parsed == 3,
	   "pcap_dump file: 3 packets parsed");
	is_int(rec.nudp, 3, "pcap_dump file: 3 datagrams");
	fresh(0);
	okr = read_mem(dumped.p, dumped.n - 20, BS_FMT_PCAP, &st, err, sizeof err);
	ok(!okr && st.truncated && st.parsed == 2 && rec.nudp == 2, "pcap_dump file cut: 2 packets used, damage reported");
	fresh(0);
	okr = read_mem(dumped.p, 10, BS_FMT_PCAP, &st, err, sizeof err);
	ok(!okr && st.truncated && st.records == 0, "file header cut: damage, no records");
}

/* pcapng: SHB, an Ethernet IDB, a raw-IP IDB with nanosecond resolution, and
 * one EPB on each. */
static void pcapng_block(struct buf *b, uint32_t type, const struct buf *body, bool big)
{
	uint32_t len = 12 + (uint32_t)((body->n + 3) & ~(size_t)3);
	b_u32(b, type, big);
	b_u32(b, len, big);
	b_put(b, body->p, body->n);
	static const uint8_t zero[4];
	b_put(b, zero, (4 - body->n % 4) % 4);
	b_u32(b, len, big);
}

static void make_pcapng(struct buf *b, bool big, bool mixed)
{
	static struct buf body;
	b->n = 0;
	body.n = 0;
	b_u32(&body, 0x1A2B3C4D, big);
	b_u16(&body, 1, big);
	b_u16(&body, 0, big);
	b_u32(&body, 0xffffffff, big);
	b_u32(&body, 0xffffffff, big);
	pcapng_block(b, 0x0A0D0D0A, &body, big);
	body.n = 0; /* IDB 0: Ethernet */
	b_u16(&body, 1, big);
	b_u16(&body, 0, big);
	b_u32(&body, 65535, big);
	pcapng_block(b, 1, &body, big);
	body.n = 0; /* IDB 1: raw IP (or Ethernet), if_tsresol = 9 */
	b_u16(&body, mixed ? 101 : 1, big);
	b_u16(&body, 0, big);
	b_u32(&body, 65535, big);
	b_u16(&body, 9, big);
	b_u16(&body, 1, big);
	uint8_t res[4] = { 9, 0, 0, 0 };
	b_put(&body, res, 4);
	b_u16(&body, 0, big);
	b_u16(&body, 0, big);
	pcapng_block(b, 1, &body, big);
	for (uint32_t ifc = 0; ifc < 2; ifc++) {
		uint8_t pk[256] = { 0 };
		size_t n;
		if (ifc == 0 || !mixed) {
			put16(pk + 12, 0x0800);
			n = 14 + v4udp(pk + 14, ifc ? "second" : "first");
		} else {
			n = v4udp(pk, "second");
		}
		uint64_t ticks = ifc == 0 ? 1700000000ull * 1000000 + 5 : 1700000001ull * 1000000000 + 7000;
		body.n = 0;
		b_u32(&body, ifc, big);
		b_u32(&body, (uint32_t)(ticks >> 32), big);
		b_u32(&body, (uint32_t)ticks, big);
		b_u32(&body, (uint32_t)n, big);
		b_u32(&body, (uint32_t)n, big);
		b_put(&body, pk, n);
		pcapng_block(b, 6, &body, big);
	}
}

struct ngrec {
	int n;
	int linktype[4];
	bs_time ts[4];
	size_t caplen[4];
};

static void ng_pkt(void *ctx, const struct bs_pcapng_packet *p)
{
	struct ngrec *r = ctx;
	if (r->n < 4) {
		r->linktype[r->n] = p->linktype;
		r->ts[r->n] = p->ts;
		r->caplen[r->n] = p->caplen;
	}
	r->n++;
}

static void test_pcapng(void)
{
	static struct buf b;
	struct bs_input_stats st;
	char err[256];
	warnf = tmpfile();
	for (int v = 0; v < 4; v++) {
		bool big = v & 1, mixed = v & 2;
		char what[64];
		snprintf(what, sizeof what, "pcapng %s-endian, %s link types", big ? "big" : "little", mixed ? "mixed" : "one");
		fresh(0);
		make_pcapng(&b, big, mixed);
		ok(read_mem(b.p, b.n, BS_FMT_PCAPNG, &st, err, sizeof err), "%s: read cleanly (%s)", what, err);
		ok(st.records == 2 && st.parsed == 2, "%s: both packets parsed", what);
		ok(rec.nudp == 2 && strcmp(rec.udp[0], "first") == 0 && strcmp(rec.udp[1], "second") == 0,
		   "%s: both payloads", what);
	}
	char line[512] = "";
	rewind(warnf);
	ok(fgets(line, sizeof line, warnf) && strstr(line, "t.pcap: packet 1: libpcap: an interface has a type 101") &&
	   strstr(line, "pcapng reader"), "mixed link types: the switch to our reader is reported (%s)", line);
	/* the direct reader: timestamps per interface resolution, byte at a time */
	make_pcapng(&b, false, true);
	struct ngrec whole = { 0 }, bytes = { 0 };
	struct bs_pcapng *g = bs_pcapng_new(true, ng_pkt, &whole);
	ok(bs_pcapng_feed(g, b.p, b.n) && bs_pcapng_end(g), "pcapng reader: whole buffer");
	ok(bs_pcapng_mixed_linktypes(g), "pcapng reader: mixed link types noticed");
	bs_pcapng_free(g);
	is_int(whole.n, 2, "pcapng reader: two packets");
	is_int(whole.linktype[1], 101, "pcapng reader: second interface link type");
	is_int(whole.ts[0], 1700000000ll * BS_USEC + 5, "pcapng reader: microsecond interface time");
	is_int(whole.ts[1], 1700000001ll * BS_USEC + 7, "pcapng reader: if_tsresol 9 time");
	g = bs_pcapng_new(true, ng_pkt, &bytes);
	bool fed = true;
	for (size_t i = 0; i < b.n; i++)
		fed = fed && bs_pcapng_feed(g, b.p + i, 1);
	ok(fed && bs_pcapng_end(g), "pcapng reader: one byte at a time");
	bs_pcapng_free(g);
	ok(bytes.n == whole.n && memcmp(bytes.ts, whole.ts, sizeof whole.ts) == 0 &&
	   memcmp(bytes.caplen, whole.caplen, sizeof whole.caplen) == 0, "pcapng reader: same packets whatever the split");
	/* every split into two pieces */
	int same = 0;
	for (size_t k = 0; k <= b.n; k++) {
		struct ngrec two = { 0 };
		g = bs_pcapng_new(true, ng_pkt, &two);
		bool okk = bs_pcapng_feed(g, b.p, k) && bs_pcapng_feed(g, b.p + k, b.n - k) && bs_pcapng_end(g);
		bs_pcapng_free(g);
		same += okk && two.n == 2 && memcmp(two.ts, whole.ts, sizeof whole.ts) == 0;
	}
	is_int(same, b.n + 1, "pcapng reader: split at every byte position");

	/* damage: a cut block and a bad block length */
	fresh(0);
	bool okr = read_mem(b.p, b.n - 6, BS_FMT_PCAPNG, &st, err, sizeof err);
	ok(!okr && st.truncated && st.parsed == 1, "mixed pcapng cut: first packet used, damage reported (%s)", err);
	is_int(st.records, st.parsed + st.ignored + st.malformed, "mixed pcapng cut: counts add up");
	fresh(0);
	make_pcapng(&b, false, false);
	b.p[b.n - 4] ^= 0x01; /* trailing length of the last block no longer a multiple of 4: libpcap's concern */
	b.p[28 + 4] = 0x03;    /* the first IDB's length: 3, not a multiple of 4 */
	okr = read_mem(b.p, b.n, BS_FMT_PCAPNG, &st, err, sizeof err);
	ok(!okr && st.truncated, "pcapng bad block length: damage (%s)", err);
	g = bs_pcapng_new(true, NULL, NULL);
	ok(!bs_pcapng_feed(g, b.p, b.n) && strstr(bs_pcapng_error(g), "bad block length"), "pcapng reader: bad block length refused");
	bs_pcapng_free(g);
	g = bs_pcapng_new(true, NULL, NULL);
	ok(!bs_pcapng_feed(g, (const uint8_t *)"\x01\x00\x00\x00\x0c\x00\x00\x00\x0c\x00\x00\x00", 12),
	   "pcapng reader: a stream not starting with a section header is refused");
	bs_pcapng_free(g);
	fclose(warnf);
	warnf = NULL;
}

/* Through the input layer: a gzip-compressed pcapng with mixed link types,
 * so libpcap reads through the inflating stream and our reader takes over. */
/* Classic pcap walked by our own reader (bs_capture_read on a reader) gives
 * what libpcap gives (bs_capture_read_stream): the verdicts, the damage, the
 * message, the streams, the flow records' times; for every cut of a file, a
 * record longer than the snapshot length, absurd lengths, times with the top
 * bit set, and the files it leaves to libpcap (other byte order, link type). */
struct outcome {
	bool ok;
	struct bs_input_stats st;
	char err[256];
	char digest[4096];
};

static void digest_of(char *out, size_t size)
{
	size_t o = 0;
	for (int i = 0; i < rec.nflows && o < size; i++)
		o += (size_t)snprintf(out + o, size - o, "[%s|%s|%d]", rec.flows[i].data[0], rec.flows[i].data[1],
		                      rec.flows[i].closed);
	for (int i = 0; i < rec.nudp && o < size; i++)
		o += (size_t)snprintf(out + o, size - o, "{%s}", rec.udp[i]);
	for (int i = 0; i < rec.nev && o < size; i++)
		o += (size_t)snprintf(out + o, size - o, "<%lld %lld %llu>", (long long)rec.ev[i].u.flow.first,
		                      (long long)rec.ev[i].u.flow.last, (unsigned long long)rec.ev[i].origin.ref);
}

static void read_both(const uint8_t *p, size_t n, struct outcome *walked, struct outcome *libpcap)
{
	char path[] = "/tmp/test_capture_XXXXXX";
	int fd = mkstemp(path);
	FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (fp) {
		fwrite(p, 1, n, fp);
		fclose(fp);
	}
	memset(walked, 0, sizeof *walked);
	fresh(0);
	struct bs_reader *r = bs_reader_open(path, walked->err, sizeof walked->err);
	if (r) {
		walked->ok = bs_capture_read(cap, r, BS_FMT_PCAP, &walked->st, walked->err, sizeof walked->err);
		bs_capture_finish(cap, BS_TIME_NONE);
		bs_reader_close(r);
	}
	digest_of(walked->digest, sizeof walked->digest);
	unlink(path);
	memset(libpcap, 0, sizeof *libpcap);
	fresh(0);
	libpcap->ok = read_mem(p, n, BS_FMT_PCAP, &libpcap->st, libpcap->err, sizeof libpcap->err);
	bs_capture_finish(cap, BS_TIME_NONE);
	digest_of(libpcap->digest, sizeof libpcap->digest);
}

static bool same_outcome(const struct outcome *a, const struct outcome *b)
{
	return a->ok == b->ok && a->st.records == b->st.records && a->st.parsed == b->st.parsed &&
	       a->st.ignored == b->st.ignored && a->st.malformed == b->st.malformed &&
	       a->st.truncated == b->st.truncated && strcmp(a->err, b->err) == 0 && strcmp(a->digest, b->digest) == 0;
}

static void test_pcap_walk(void)
{
	static struct buf b, v;
	static struct outcome w, l;
	for (int k = 0; k < 3; k++) {
		bool big = k == 2, nano = k == 1;
		make_pcap(&b, big, nano);
		read_both(b.p, b.n, &w, &l);
		ok(same_outcome(&w, &l) && w.ok && w.st.parsed == 5 && w.digest[0],
		   "walk = libpcap: whole file (%s-endian %s)", big ? "big" : "little", nano ? "nsec" : "usec");
		int bad = -1;
		for (size_t cut = 24; cut < b.n && bad < 0; cut++) {
			read_both(b.p, cut, &w, &l);
			if (!same_outcome(&w, &l))
				bad = (int)cut;
		}
		is_int(bad, -1, "walk = libpcap: the file cut at every byte after its header (%s-endian %s; first difference)",
		       big ? "big" : "little", nano ? "nsec" : "usec");
		if (bad >= 0)
			printf("# walked: ok %d records %llu err '%s' %s\n# libpcap: ok %d records %llu err '%s' %s\n", w.ok,
			     (unsigned long long)w.st.records, w.err, w.digest, l.ok, (unsigned long long)l.st.records, l.err,
			     l.digest);
	}
	/* snapshot lengths: 50 (records longer are cut there by libpcap, the
	 * rest skipped), 0 and above 262144 (libpcap's maximum instead) */
	const uint32_t snaps[] = { 50, 0, 300000, 0x80000000u };
	for (size_t i = 0; i < sizeof snaps / sizeof *snaps; i++) {
		make_pcap(&b, false, false);
		for (int j = 0; j < 4; j++)
			b.p[16 + j] = (uint8_t)(snaps[i] >> (8 * j));
		read_both(b.p, b.n, &w, &l);
		ok(same_outcome(&w, &l) && w.st.records == 5, "walk = libpcap: snapshot length %u (%s)", snaps[i], w.err);
	}
	/* record lengths: above 262144, the top bit set */
	const uint32_t caplens[] = { 262145, 0x7fffffffu, 0xffffffffu };
	for (size_t i = 0; i < sizeof caplens / sizeof *caplens; i++) {
		make_pcap(&b, false, false);
		for (int j = 0; j < 4; j++)
			b.p[24 + 16 + 40 + 8 + j] = (uint8_t)(caplens[i] >> (8 * j));
		read_both(b.p, b.n, &w, &l);
		ok(same_outcome(&w, &l) && !w.ok && w.st.parsed == 1, "walk = libpcap: captured length %u (%s)", caplens[i],
		   w.err);
	}
	/* times: seconds and fraction with the top bit set */
	make_pcap(&b, false, false);
	memcpy(v.p, b.p, b.n);
	v.n = b.n;
	for (size_t off = 24, i = 0; off + 16 <= v.n; i++) {
		uint32_t caplen = bs_le32(v.p + off + 8);
		v.p[off + 3] |= 0x80;
		if (i & 1)
			v.p[off + 7] |= 0x80;
		off += 16 + caplen;
	}
	read_both(v.p, v.n, &w, &l);
	ok(same_outcome(&w, &l), "walk = libpcap: times with the top bit set");
	/* link types: LINKTYPE_RAW (DLT_RAW for libpcap), one we do not decode */
	const uint32_t lts[] = { 101, 147, 228 | (1u << 28) };
	for (size_t i = 0; i < sizeof lts / sizeof *lts; i++) {
		make_pcap(&b, false, false);
		for (int j = 0; j < 4; j++)
			b.p[20 + j] = (uint8_t)(lts[i] >> (8 * j));
		read_both(b.p, b.n, &w, &l);
		ok(same_outcome(&w, &l), "walk = libpcap: link type 0x%x (parsed %llu)", lts[i],
		   (unsigned long long)w.st.parsed);
	}
}

static void test_reader_gzip(void)
{
	static struct buf b;
	char path[] = "/tmp/test_capture_XXXXXX";
	int fd = mkstemp(path);
	if (!ok(fd >= 0, "gzip: temporary file"))
		return;
	gzFile gz = gzdopen(fd, "wb");
	make_pcapng(&b, false, true);
	gzwrite(gz, b.p, (unsigned)b.n);
	gzclose(gz);
	char err[256] = "";
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	ok(r != NULL, "gzip: reader opened (%s)", err);
	if (r) {
		uint8_t head[16];
		enum bs_format fmt = bs_detect_format(head, bs_reader_peek(r, head, sizeof head));
		is_int(fmt, BS_FMT_PCAPNG, "gzip: pcapng detected inside");
		fresh(0);
		struct bs_input_stats st = { 0 };
		ok(bs_capture_read(cap, r, fmt, &st, err, sizeof err), "gzip: read cleanly (%s)", err);
		ok(st.parsed == 2 && rec.nudp == 2 && strcmp(rec.udp[1], "second") == 0,
		   "gzip: both interfaces' packets through the fallback");
		bs_reader_close(r);
	}
	unlink(path);
}

static bs_time first_time_of(const struct buf *b)
{
	char path[] = "/tmp/test_capture_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return BS_TIME_NONE + 1;
	FILE *fp = fdopen(fd, "wb");
	fwrite(b->p, 1, b->n, fp);
	fclose(fp);
	char err[256];
	bs_time t = BS_TIME_NONE + 1;
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (r) {
		uint8_t head[16];
		enum bs_format fmt = bs_detect_format(head, bs_reader_peek(r, head, sizeof head));
		t = bs_capture_first_time(r, fmt);
		bs_reader_close(r);
	}
	unlink(path);
	return t;
}

/* Rotated captures of one link: a connection cut between two files goes on
 * in the second when it is read through the same engine. */
static void test_rotated(void)
{
	static struct buf a, b;
	struct bs_input_stats st;
	char err[256];
	fresh(0);
	make_pcap_part(&a, false, false, 0, 4); /* handshake and request */
	make_pcap_part(&b, true, true, 4, 5);   /* the response, in a file of another byte order */
	ok(read_mem(a.p, a.n, BS_FMT_PCAP, &st, err, sizeof err) && st.parsed == 4, "rotated: first file read");
	is_int(bs_capture_latest(cap), 1700000003 * BS_USEC + 123456, "rotated: latest packet time after the first file");
	bs_capture_set_input(cap, 4, "t.pcap1");
	ok(read_mem(b.p, b.n, BS_FMT_PCAP, &st, err, sizeof err) && st.parsed == 1, "rotated: second file read");
	bs_capture_finish(cap, BS_TIME_NONE);
	is_int(rec.nflows, 1, "rotated: one connection across the two files");
	is_str(rec.flows[0].data[0], "GET / HTTP/1.0\r\n\r\n", "rotated: request from the first file");
	is_str(rec.flows[0].data[1], "HTTP/1.0 200 OK\r\n\r\nbody", "rotated: response from the second file");
	is_int(rec.nev, 1, "rotated: one flow record");
	is_int(rec.nev ? rec.ev[0].origin.input : 99, 3, "rotated: the flow record names the file of its first packet");
	ok(rec.nev && rec.ev[0].u.flow.initiator_known, "rotated: the handshake of the first file is the flow's");
	is_int(rec.nev ? rec.ev[0].u.flow.bytes_rev : 0, 23, "rotated: response bytes counted in the flow record");

	/* the first packet's time, as scan orders a link's files by it */
	for (int v = 0; v < 4; v++) {
		bool big = v & 1, nano = v & 2;
		make_pcap_part(&a, big, nano, 2, 5);
		is_int(first_time_of(&a), 1700000002 * BS_USEC + 123456, "first time: pcap %s-endian %s", big ? "big" : "little",
		       nano ? "nsec" : "usec");
	}
	make_pcapng(&a, true, false);
	is_int(first_time_of(&a), 1700000000 * BS_USEC + 5, "first time: pcapng (first enhanced packet block)");
	make_pcap_part(&a, false, false, 0, 0);
	is_int(first_time_of(&a), BS_TIME_NONE, "first time: a pcap without packets has none");
	a.n = 0;
	b_put(&a, "not a capture at all\n", 21);
	is_int(first_time_of(&a), BS_TIME_NONE, "first time: not a capture");
}

int main(void)
{
	test_link_layers();
	test_ipv6_exts();
	test_fragments();
	test_tcp_session();
	test_flow_table();
	test_memory_accounting();
	test_memcap();
	test_overlap_anomaly();
	test_udp();
	test_pcap_files();
	test_pcap_walk();
	test_pcapng();
	test_reader_gzip();
	test_rotated();
	bs_capture_free(cap);
	return tap_done();
}

/* cap.c - Ethernet/IPv4/TCP/UDP frames as seen at the cluster edge, and a
 * small TCP model: handshake, MSS segmentation, delayed ACKs, a window of
 * ten segments per round trip, ~0.5% loss (the capture sees the segment
 * twice, or only its late retransmission), some reordering, FIN or RST. */
#include "config.h"
#include <string.h>
#include "gen.h"

#define MSS 1460
#define LOSS_RATE 0.005
#define REORDER_RATE 0.003

static rng_t *cap_rng;
static bool cap_vlan;
static const uint8_t router_mac[6] = { 0x00, 0x1b, 0x21, 0x3a, 0x9c, 0x01 };

void cap_set_rng(rng_t *r, bool vlan)
{
	cap_rng = r;
	cap_vlan = vlan;
}

void host_addr_v4(struct host_addr *h, uint32_t ip, bool internal)
{
	memset(h, 0, sizeof *h);
	h->ip[0] = (uint8_t)(ip >> 24); h->ip[1] = (uint8_t)(ip >> 16);
	h->ip[2] = (uint8_t)(ip >> 8); h->ip[3] = (uint8_t)ip;
	if (internal) {
		/* A stable locally administered MAC per host. */
		h->mac[0] = 0x52; h->mac[1] = 0x54; h->mac[2] = 0x00;
		h->mac[3] = h->ip[1]; h->mac[4] = h->ip[2]; h->mac[5] = h->ip[3];
		h->ttl = 64;
		h->vlan = h->ip[2] == 1 ? 10 : 20;
	} else {
		/* Outside hosts reach the edge through the router, some hops away. */
		memcpy(h->mac, router_mac, 6);
		h->ttl = (uint8_t)(64 - 6 - (ip % 13));
		h->vlan = 100;
	}
}

void host_addr_format(const struct host_addr *h, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", h->ip[0], h->ip[1], h->ip[2], h->ip[3]);
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16be(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32be(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }

/* Ethernet (+802.1Q) and IPv4 headers around an L4 header+payload already in
 * frame at the returned offset; returns the frame length. */
static size_t frame_l2l3(uint8_t *f, const struct host_addr *src, const struct host_addr *dst,
	uint8_t proto, uint16_t ipid, size_t l4len, size_t *l4off)
{
	size_t o = 0;
	memcpy(f, dst->mac, 6);
	memcpy(f + 6, src->mac, 6);
	o = 12;
	if (cap_vlan) {
		/* Tag with the VLAN of the segment the frame travels on. */
		uint16_t vid = src->vlan == 10 ? dst->vlan : src->vlan;
		put16be(f + o, 0x8100);
		put16be(f + o + 2, vid);
		o += 4;
	}
	put16be(f + o, 0x0800);
	o += 2;
	uint8_t *ip = f + o;
	ip[0] = 0x45; ip[1] = 0;
	put16be(ip + 2, (uint16_t)(20 + l4len));
	put16be(ip + 4, ipid);
	put16be(ip + 6, 0x4000); /* DF */
	ip[8] = src->ttl; ip[9] = proto;
	put16be(ip + 10, 0);
	memcpy(ip + 12, src->ip, 4);
	memcpy(ip + 16, dst->ip, 4);
	put16be(ip + 10, csum_fold(csum_add(0, ip, 20)));
	*l4off = o + 20;
	return o + 20 + l4len;
}

static uint16_t l4_checksum(const struct host_addr *src, const struct host_addr *dst, uint8_t proto,
	const uint8_t *l4, size_t len)
{
	uint32_t sum = csum_add(0, src->ip, 4);
	sum = csum_add(sum, dst->ip, 4);
	sum += proto;
	sum += (uint32_t)len;
	return csum_fold(csum_add(sum, l4, len));
}

enum { F_FIN = 1, F_SYN = 2, F_RST = 4, F_PSH = 8, F_ACK = 16 };

static uint8_t frame[65536 + 64];

static void tcp_frame(struct tcpconn *c, bool from_server, bs_time t, uint32_t seq, uint32_t ack,
	uint8_t flags, const uint8_t *payload, size_t len)
{
	if (!c->captured)
		return;
	const struct host_addr *src = from_server ? &c->s : &c->c, *dst = from_server ? &c->c : &c->s;
	size_t optlen = (flags & F_SYN) ? 4 : 0;
	size_t l4len = 20 + optlen + len, l4off;
	uint16_t *ipid = from_server ? &c->sipid : &c->cipid;
	size_t flen = frame_l2l3(frame, src, dst, 6, (*ipid)++, l4len, &l4off);
	uint8_t *tcp = frame + l4off;
	put16be(tcp, from_server ? c->sport : c->cport);
	put16be(tcp + 2, from_server ? c->cport : c->sport);
	put32be(tcp + 4, seq);
	put32be(tcp + 8, (flags & F_ACK) ? ack : 0);
	tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	tcp[13] = flags;
	put16be(tcp + 14, from_server ? 5792 : 65535);
	put16be(tcp + 16, 0);
	put16be(tcp + 18, 0);
	if (optlen) {
		tcp[20] = 2; tcp[21] = 4;
		put16be(tcp + 22, MSS);
	}
	if (len)
		memcpy(tcp + 20 + optlen, payload, len);
	put16be(tcp + 16, l4_checksum(src, dst, 6, tcp, l4len));
	out_emit(TGT_CAPTURE, t, frame, flen);
}

void tcp_connect(struct tcpconn *c, const struct host_addr *cli, const struct host_addr *srv,
	uint16_t cport, uint16_t sport, bs_time t, bs_time crt, bs_time srt, bool captured)
{
	memset(c, 0, sizeof *c);
	c->c = *cli;
	c->s = *srv;
	c->cport = cport;
	c->sport = sport;
	c->crt = crt;
	c->srt = srt;
	c->captured = captured;
	c->cipid = (uint16_t)rng_next(cap_rng);
	c->sipid = (uint16_t)rng_next(cap_rng);
	uint32_t ciss = (uint32_t)rng_next(cap_rng), siss = (uint32_t)rng_next(cap_rng);
	tcp_frame(c, false, t, ciss, 0, F_SYN, NULL, 0);
	t += srt;
	tcp_frame(c, true, t, siss, ciss + 1, F_SYN | F_ACK, NULL, 0);
	t += crt;
	tcp_frame(c, false, t, ciss + 1, siss + 1, F_ACK, NULL, 0);
	c->cseq = ciss + 1;
	c->sseq = siss + 1;
	c->t = t + 20;
	c->open = true;
}

void tcp_send(struct tcpconn *c, bool from_server, const void *p, size_t len)
{
	if (!len)
		return;
	const uint8_t *data = p;
	uint32_t *seq = from_server ? &c->sseq : &c->cseq;
	uint32_t peer_seq = from_server ? c->cseq : c->sseq;
	bs_time ack_delay = from_server ? c->crt : c->srt; /* capture -> receiver -> capture */
	bs_time round = c->crt + c->srt;
	size_t nseg = (len + MSS - 1) / MSS;
	/* At most one lost segment per burst: enough for the parsers to see the
	 * retransmission logic, simple enough to keep ACKs exact. */
	size_t lost = SIZE_MAX;
	bool lost_seen_first = false;
	if (rng_chance(cap_rng, LOSS_RATE * (double)nseg)) {
		lost = rng_below(cap_rng, (uint32_t)nseg);
		lost_seen_first = rng_chance(cap_rng, 0.5);
	}
	size_t swap = SIZE_MAX;
	if (nseg > 1 && rng_chance(cap_rng, REORDER_RATE * (double)nseg))
		swap = rng_below(cap_rng, (uint32_t)nseg - 1);
	bs_time t0 = c->t, last = c->t;
	uint32_t base = *seq;
	for (size_t i = 0; i < nseg; i++) {
		size_t off = i * MSS, n = len - off < MSS ? len - off : MSS;
		bs_time ti = t0 + (bs_time)i * 15 + (bs_time)(i / 10) * round;
		if (i == swap && swap != lost && swap + 1 != lost)
			ti += 16; /* seen just after the next segment */
		uint8_t flags = F_ACK | (i + 1 == nseg ? F_PSH : 0);
		if (i != lost || lost_seen_first)
			tcp_frame(c, from_server, ti, base + (uint32_t)off, peer_seq, flags, data + off, n);
		/* The receiver ACKs every second segment, and the last one. */
		if (i % 2 == 1 || i + 1 == nseg) {
			uint32_t acked = (lost != SIZE_MAX && i >= lost) ? base + (uint32_t)(lost * MSS) : base + (uint32_t)(off + n);
			bs_time ta = ti + ack_delay + 40;
			tcp_frame(c, !from_server, ta, peer_seq, acked, F_ACK, NULL, 0);
			if (ta > last)
				last = ta;
		}
		if (ti > last)
			last = ti;
	}
	if (lost != SIZE_MAX) {
		/* Fast retransmit after the duplicate ACKs reach the sender. */
		size_t off = lost * MSS, n = len - off < MSS ? len - off : MSS;
		bs_time tr = last + (from_server ? c->srt : c->crt) + 200;
		tcp_frame(c, from_server, tr, base + (uint32_t)off, peer_seq, F_ACK | F_PSH, data + off, n);
		tcp_frame(c, !from_server, tr + ack_delay + 40, peer_seq, base + (uint32_t)len, F_ACK, NULL, 0);
		last = tr + ack_delay + 40;
	}
	*seq = base + (uint32_t)len;
	c->t = last + 30;
}

void tcp_send_as(struct tcpconn *c, bool from_server, const void *p, size_t len, size_t as_len)
{
	if (as_len == len) {
		tcp_send(c, from_server, p, len);
		return;
	}
	/* The send of as_len bytes, not captured: where the cursor and the
	 * drawing end. Then the real bytes, from the same draws. */
	struct tcpconn ghost = *c;
	ghost.captured = false;
	rng_t before = *cap_rng;
	tcp_send(&ghost, from_server, p, as_len);
	rng_t after = *cap_rng;
	*cap_rng = before;
	tcp_send(c, from_server, p, len);
	*cap_rng = after;
	c->t = ghost.t;
}

void tcp_close(struct tcpconn *c, bool from_server, bool rst)
{
	if (!c->open)
		return;
	uint32_t *seq = from_server ? &c->sseq : &c->cseq, *pseq = from_server ? &c->cseq : &c->sseq;
	bs_time peer_rt = from_server ? c->crt : c->srt, own_rt = from_server ? c->srt : c->crt;
	if (rst) {
		tcp_frame(c, from_server, c->t, *seq, *pseq, F_RST | F_ACK, NULL, 0);
	} else {
		tcp_frame(c, from_server, c->t, *seq, *pseq, F_FIN | F_ACK, NULL, 0);
		(*seq)++;
		c->t += peer_rt;
		tcp_frame(c, !from_server, c->t, *pseq, *seq, F_FIN | F_ACK, NULL, 0);
		(*pseq)++;
		c->t += own_rt;
		tcp_frame(c, from_server, c->t, *seq, *pseq, F_ACK, NULL, 0);
	}
	c->t += 10;
	c->open = false;
}

void udp_send(const struct host_addr *src, const struct host_addr *dst, uint16_t sport, uint16_t dport,
	bs_time t, const void *p, size_t len)
{
	static uint16_t ipid;
	size_t l4off;
	size_t flen = frame_l2l3(frame, src, dst, 17, ipid++, 8 + len, &l4off);
	uint8_t *udp = frame + l4off;
	put16be(udp, sport);
	put16be(udp + 2, dport);
	put16be(udp + 4, (uint16_t)(8 + len));
	put16be(udp + 6, 0);
	memcpy(udp + 8, p, len);
	put16be(udp + 6, l4_checksum(src, dst, 17, udp, 8 + len));
	out_emit(TGT_CAPTURE, t, frame, flen);
}

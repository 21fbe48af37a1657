/* capture.c - the capture engine: libpcap (or our pcapng reader) -> link
 * layer -> IPv4/IPv6 (fragments rebuilt) -> TCP streams and UDP datagrams,
 * with a bounded flow table and flow records. See docs/CAPTURE.md. */
#include "config.h"
#include "parsers/capture/capture.h"
#include "parsers/capture/ipfrag.h"
#include "parsers/capture/pcapng.h"
#include "parsers/capture/tcpreasm.h"
#include "src/core/bytes.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#define LINKTYPE_MASK 0x03ffffffu /* the upper bits carry FCS information */
#define MAX_VLAN_TAGS 4
#define MAX_IPV6_EXT 8            /* extension headers walked before giving up */
#define UDP_IDLE_MAX (300 * BS_USEC)
#define CLOSED_LINGER (60 * BS_USEC) /* a closed TCP flow absorbs its last ACKs this long */
#define FRAG_TIMEOUT (60 * BS_USEC)

struct flow {
	struct bs_cflow pub;
	struct flow *hnext;
	struct flow *newer, *older; /* its LRU list (open or closed flows): newest at head */
	uint64_t hash;
	uint64_t first_pktno;
	bs_time touch;              /* the link's clock (bs_capture.latest) at its last packet:
	                             * what idleness is measured by, never going back, so
	                             * each LRU list is in touch order */
	bool closed;                /* closed and reported; kept to absorb stray packets */
	size_t user_charged;        /* pub.user_bytes as last charged to bs_capture.user_mem */
	struct bs_tcpdir dir[2];
};

/* Flows in least-recently-used order. */
struct lru {
	struct flow *newest, *oldest;
};

struct flowtab {
	struct flow **buckets;
	size_t nbuckets, count, cap;
	/* open flows, and closed ones lingering to absorb their last packets:
	 * apart, so that a closed flow leaves after its linger even when older
	 * open flows are still within their idle time */
	struct lru live, closed;
	struct flow *spare;         /* freed flows kept for reuse */
	bs_time idle;
	bs_time linger;             /* a closed flow's stay: CLOSED_LINGER, or idle when shorter */
	uint8_t proto;
};

struct bs_capture {
	struct bs_capture_opts o;
	const struct bs_stream_ops *ops;
	void *ops_ctx;
	struct bs_sink sink;
	struct flowtab tcp, udp;
	struct bs_tcpreasm reasm;
	struct bs_ipfrag *frag;
	struct bs_capture_counters cnt;
	/* classify mode (bs_capture_classifier_new): the link and IP layers are
	 * walked only to hash the packet's address pair; nothing is counted,
	 * reassembled or reported */
	bool classify;
	uint64_t pair_hash;
	bs_capture_router_fn router; /* reading hands each record here instead */
	void *router_ctx;
	uint8_t *rbuf;              /* classic pcap walked in our own buffer (walk_pcap) */
	size_t user_mem;            /* consumer state of all flows (bs_cflow.user_bytes) */
	uint64_t frags_snapped;     /* fragments cut by the snap length */
	bool warned_linktype;       /* one warning per file */
	bs_time ts;                 /* of the packet being handled */
	bs_time latest;             /* the latest packet time seen */
	uint64_t pktno;
};

/* A packet that does not parse: counted by the caller, its reason (with the
 * packet number) to the diagnostics path. */
static enum bs_verdict malformed(const struct bs_capture *c, const char *layer, const char *why)
{
	if (!c->classify)
		bs_diag(c->o.diag, c->o.input, c->pktno, true, layer, "%s", why);
	return BS_MALFORMED;
}

/* ------------------------------------------------------------ flow table */

/* One endpoint of a flow as a word: the address's bytes folded, the port
 * and the family in the upper bits. Read straight from the address, not
 * through bs_ip_hash's byte-at-a-time loop, because it runs for every
 * packet; the table's buckets are its only use (never an output order). */
static inline uint64_t endpoint_word(const bs_ip *ip, uint16_t port)
{
	uint64_t w;
	if (ip->family == 4) {
		uint32_t v4;
		memcpy(&v4, ip->a, 4);
		w = v4;
	} else {
		uint64_t lo, hi;
		memcpy(&lo, ip->a, 8);
		memcpy(&hi, ip->a + 8, 8);
		w = lo ^ (hi * 0xC2B2AE3D27D4EB4FULL);
	}
	return (w ^ ((uint64_t)port << 40) ^ ((uint64_t)ip->family << 56)) * 0x9E3779B97F4A7C15ULL;
}

/* The same for both directions of a flow. */
static inline uint64_t flow_hash(const bs_ip *a, uint16_t ap, const bs_ip *b, uint16_t bp)
{
	uint64_t h = endpoint_word(a, ap) + endpoint_word(b, bp);
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ULL;
	return h ^ (h >> 32);
}

static void tab_init(struct flowtab *t, size_t cap, bs_time idle, uint8_t proto)
{
	memset(t, 0, sizeof *t);
	t->cap = cap ? cap : 1;
	t->idle = idle;
	t->linger = idle > CLOSED_LINGER ? CLOSED_LINGER : idle;
	t->proto = proto;
	t->nbuckets = 1024;
	t->buckets = bs_xcalloc(t->nbuckets, sizeof *t->buckets);
}

static void tab_grow(struct flowtab *t)
{
	size_t n = t->nbuckets * 2;
	struct flow **b = bs_xcalloc(n, sizeof *b);
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct flow *f = t->buckets[i], *next;
		for (; f; f = next) {
			next = f->hnext;
			f->hnext = b[f->hash & (n - 1)];
			b[f->hash & (n - 1)] = f;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

/* Find the flow of a packet from (src, sp) to (dst, dp); dir: 0 when the
 * sender is the flow's client. Inlined into do_tcp and do_udp: it runs for
 * every packet. */
static inline __attribute__((always_inline)) struct flow *
tab_find(struct flowtab *t, const bs_ip *src, uint16_t sp, const bs_ip *dst, uint16_t dp, uint64_t h, int *dir)
{
	for (struct flow *f = t->buckets[h & (t->nbuckets - 1)]; f; f = f->hnext) {
		const struct bs_flow_key *k = &f->pub.key;
		if (f->hash != h)
			continue;
		if (k->cport == sp && k->sport == dp && bs_ip_eq(&k->cli, src) && bs_ip_eq(&k->srv, dst)) {
			*dir = 0;
			return f;
		}
		if (k->cport == dp && k->sport == sp && bs_ip_eq(&k->cli, dst) && bs_ip_eq(&k->srv, src)) {
			*dir = 1;
			return f;
		}
	}
	return NULL;
}

static void lru_unlink(struct lru *l, struct flow *f)
{
	if (f->newer)
		f->newer->older = f->older;
	else
		l->newest = f->older;
	if (f->older)
		f->older->newer = f->newer;
	else
		l->oldest = f->newer;
	f->newer = f->older = NULL;
}

static void lru_push(struct lru *l, struct flow *f)
{
	f->older = l->newest;
	f->newer = NULL;
	if (l->newest)
		l->newest->newer = f;
	else
		l->oldest = f;
	l->newest = f;
}

static struct lru *lru_of(struct flowtab *t, const struct flow *f)
{
	return f->closed ? &t->closed : &t->live;
}

static void tab_touch(struct flowtab *t, struct flow *f)
{
	struct lru *l = lru_of(t, f);
	if (l->newest == f)
		return;
	lru_unlink(l, f);
	lru_push(l, f);
}

/* The flow to give up first for room: a closed one (its record is out,
 * it only absorbs stray packets), else the open flow idle longest. */
static struct flow *tab_oldest(const struct flowtab *t)
{
	return t->closed.oldest ? t->closed.oldest : t->live.oldest;
}

static void tab_remove(struct flowtab *t, struct flow *f)
{
	struct flow **pp = &t->buckets[f->hash & (t->nbuckets - 1)];
	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	lru_unlink(lru_of(t, f), f);
	t->count--;
	f->hnext = t->spare;
	t->spare = f;
}

/* ------------------------------------------------------- stream delivery */

/* The consumer's state of a flow as it says now (bs_cflow.user_bytes),
 * charged against the memory cap: called after every callback. */
static void charge_user(struct bs_capture *c, struct flow *f)
{
	c->user_mem = c->user_mem - f->user_charged + f->pub.user_bytes;
	f->user_charged = f->pub.user_bytes;
}

struct deliver {
	struct bs_capture *c;
	struct flow *f;
	int dir;
};

static void deliver_data(void *ctx, const uint8_t *p, size_t n)
{
	struct deliver *d = ctx;
	d->f->pub.bytes[d->dir] += n;
	if (d->c->ops->data)
		d->c->ops->data(d->c->ops_ctx, &d->f->pub, d->dir, p, n, d->c->ts, d->c->pktno);
	charge_user(d->c, d->f);
}

static void deliver_gap(void *ctx, uint64_t n)
{
	struct deliver *d = ctx;
	if (d->c->ops->gap)
		d->c->ops->gap(d->c->ops_ctx, &d->f->pub, d->dir, n, d->c->ts, d->c->pktno);
	charge_user(d->c, d->f);
}

static struct bs_tcpout tcp_out(struct deliver *d, struct bs_capture *c, struct flow *f, int dir)
{
	*d = (struct deliver){ c, f, dir };
	return (struct bs_tcpout){ deliver_data, deliver_gap, d };
}

static void emit_flow_record(struct bs_capture *c, const struct flow *f, enum bs_flow_end why)
{
	struct bs_event ev;
	bs_event_init(&ev, BS_EV_FLOW);
	ev.ts = f->pub.first;
	/* the file of the flow's first packet (rotated captures): in its id */
	uint32_t first_input = (uint32_t)(f->pub.id >> 40);
	ev.origin = (struct bs_origin){ first_input, f->first_pktno, true, first_input };
	ev.src = f->pub.key.cli;
	ev.dst = f->pub.key.srv;
	ev.sport = f->pub.key.cport;
	ev.dport = f->pub.key.sport;
	struct bs_ev_flow *r = &ev.u.flow;
	r->l4proto = f->pub.key.proto;
	r->initiator_known = f->pub.handshake_seen;
	r->first = f->pub.first;
	r->last = f->pub.last;
	r->pkts_fwd = f->pub.pkts[0];
	r->pkts_rev = f->pub.pkts[1];
	r->bytes_fwd = f->pub.bytes[0];
	r->bytes_rev = f->pub.bytes[1];
	r->end = why;
	r->overlap_conflicts = (uint64_t)f->dir[0].overlap_conflicts + f->dir[1].overlap_conflicts;
	r->app = f->pub.app ? bs_str_make(f->pub.app, strlen(f->pub.app)) : BS_STR_LIT("");
	r->encrypted = f->pub.encrypted;
	bs_emit(&c->sink, &ev);
}

/* Hand out what is left, tell the consumer, write the record. The flow stays
 * in the table (closed) until the caller removes it. */
static void flow_close(struct bs_capture *c, struct flow *f, enum bs_flow_end why, bs_time ts)
{
	if (f->closed)
		return;
	struct flowtab *t = f->pub.key.proto == 6 ? &c->tcp : &c->udp;
	lru_unlink(&t->live, f);
	f->closed = true;
	lru_push(&t->closed, f);
	if (f->pub.key.proto == 6) {
		for (int dir = 0; dir < 2; dir++) {
			struct deliver d;
			struct bs_tcpout out = tcp_out(&d, c, f, dir);
			bs_tcpreasm_flush(&c->reasm, &f->dir[dir], &out);
			bs_tcpdir_release(&c->reasm, &f->dir[dir]);
		}
		if (c->ops->close)
			c->ops->close(c->ops_ctx, &f->pub, why, ts);
		f->pub.user_bytes = 0; /* the consumer freed its state */
		charge_user(c, f);
	}
	emit_flow_record(c, f, why);
}

static void flow_drop(struct bs_capture *c, struct flowtab *t, struct flow *f, enum bs_flow_end why,
                      bs_time ts)
{
	if (!f->closed && why == BS_FLOW_EVICTED)
		c->cnt.flows_evicted++;
	flow_close(c, f, why, ts);
	tab_remove(t, f);
}

/* Close flows idle for too long, and let closed flows go after their
 * linger. Idleness is measured on the link's clock, the latest packet time
 * seen (packet times can go back: merged or multi-queue captures), from the
 * clock at the flow's last packet; so each LRU list is in the order of that
 * measure, its tail is the flow idle longest, and this costs nothing while
 * no flow is due. Whether a flow has timed out depends only on its own
 * packets and the link's clock, never on which other flows the engine holds
 * (a worker of a split link holds only its share: split.c gives it the
 * link's clock with every packet). It times out at its last packet plus the
 * idle time, not at the packet that notices it. */
static bool idle_past(const struct flow *f, bs_time now, bs_time limit)
{
	/* a flow of packets without a time (pcapng Simple Packet Blocks
	 * before any timed one) is idle past any limit once the link has one */
	return f->touch == BS_TIME_NONE || now - f->touch > limit;
}

static bs_time timed_out_at(const struct flow *f, bs_time now, bs_time limit)
{
	return f->pub.last == BS_TIME_NONE ? now : f->pub.last + limit;
}

static void tab_expire(struct bs_capture *c, struct flowtab *t, bs_time now)
{
	if (now == BS_TIME_NONE)
		return;
	while (t->closed.oldest && idle_past(t->closed.oldest, now, t->linger))
		flow_drop(c, t, t->closed.oldest, BS_FLOW_TIMEOUT, timed_out_at(t->closed.oldest, now, t->linger));
	while (t->live.oldest && idle_past(t->live.oldest, now, t->idle))
		flow_drop(c, t, t->live.oldest, BS_FLOW_TIMEOUT, timed_out_at(t->live.oldest, now, t->idle));
}

/* Whether tab_expire has anything to do: asked before every packet, and
 * almost always no, so without the call. */
static inline bool tab_due(const struct flowtab *t, bs_time now)
{
	return (t->closed.oldest && idle_past(t->closed.oldest, now, t->linger)) ||
	       (t->live.oldest && idle_past(t->live.oldest, now, t->idle));
}

size_t bs_capture_memory(const struct bs_capture *c)
{
	return (c->tcp.count + c->udp.count) * sizeof(struct flow) +
	       (c->tcp.nbuckets + c->udp.nbuckets) * sizeof(struct flow *) + c->reasm.total_buffered + c->user_mem;
}

/* The flow of both tables to give up first (tab_oldest), NULL when both
 * are empty: closed flows, then the open flow idle longest. */
static struct flow *lru_oldest(struct bs_capture *c, struct flowtab **t)
{
	struct flow *ft = tab_oldest(&c->tcp), *fu = tab_oldest(&c->udp);
	bool udp = fu && (!ft || (fu->closed == ft->closed ? fu->touch < ft->touch : fu->closed));
	*t = udp ? &c->udp : &c->tcp;
	return udp ? fu : ft;
}

/* Over the memory cap: close the least recently used flows (the idle ones
 * first, as Suricata's emergency mode does) until 90 % of the cap, so that
 * the next packets do not each evict one. An evicted flow is closed like one
 * the flow-table cap evicts: its parsers flush what they hold. Called
 * between packets, never while a flow's bytes are being delivered. */
static void memcap_enforce(struct bs_capture *c)
{
	if (bs_capture_memory(c) <= c->o.memcap)
		return;
	size_t low = c->o.memcap / 10 * 9;
	struct flowtab *t;
	struct flow *f;
	while (bs_capture_memory(c) > low && (f = lru_oldest(c, &t)) != NULL) {
		if (!f->closed)
			c->cnt.flows_evicted_memcap++;
		flow_drop(c, t, f, BS_FLOW_EVICTED, c->ts);
	}
}

/* A packet of the flow: the newest of its table's list, its last time, and
 * the link clock by which its idleness is measured (in that list's order). */
static inline void flow_seen(struct bs_capture *c, struct flowtab *t, struct flow *f)
{
	tab_touch(t, f);
	f->pub.last = c->ts;
	f->touch = c->latest;
}

static struct flow *flow_new(struct bs_capture *c, struct flowtab *t, const bs_ip *cli, uint16_t cport,
                             const bs_ip *srv, uint16_t sport, uint64_t h)
{
	if (t->count >= t->cap)
		flow_drop(c, t, tab_oldest(t), BS_FLOW_EVICTED, c->ts);
	if (t->count >= t->nbuckets)
		tab_grow(t);
	struct flow *f = t->spare;
	if (f)
		t->spare = f->hnext;
	else
		f = bs_xmalloc(sizeof *f);
	memset(f, 0, sizeof *f);
	f->pub.key = (struct bs_flow_key){ *cli, *srv, cport, sport, t->proto };
	/* the number of the flow's first packet in its file: the same whichever
	 * worker of a split link (bs_capture_pair_hash) makes the flow, and
	 * whatever other flows were made before it */
	f->pub.id = ((uint64_t)c->o.input << 40) | (c->pktno & (((uint64_t)1 << 40) - 1));
	f->pub.first = f->pub.last = c->ts;
	f->touch = c->latest;
	f->first_pktno = c->pktno;
	f->hash = h;
	f->hnext = t->buckets[h & (t->nbuckets - 1)];
	t->buckets[h & (t->nbuckets - 1)] = f;
	lru_push(&t->live, f);
	t->count++;
	c->cnt.flows++;
	return f;
}

/* ---------------------------------------------------------------- L4 */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

/* A segment differed from a buffered copy of its bytes and was dropped
 * (tcpreasm.c): an anomaly of the flow, counted in its record; each one to
 * the diagnostics path with its packet. */
static void overlap_conflict(const struct bs_capture *c, const struct flow *f, int dir, uint32_t seq, size_t len)
{
	if (!bs_diag_on(c->o.diag))
		return;
	const struct bs_flow_key *k = &f->pub.key;
	char from[BS_IP_STRLEN], to[BS_IP_STRLEN];
	bs_ip_format(dir ? &k->srv : &k->cli, from, sizeof from);
	bs_ip_format(dir ? &k->cli : &k->srv, to, sizeof to);
	bs_diag(c->o.diag, c->o.input, c->pktno, true, "tcp",
	        "segment of %zu bytes at sequence %u differs from the buffered copy of the same bytes:"
	        " dropped whole, the first copy kept (%s port %u -> %s port %u)",
	        len, (unsigned)seq, from, (unsigned)(dir ? k->sport : k->cport), to,
	        (unsigned)(dir ? k->cport : k->sport));
}

static enum bs_verdict do_tcp(struct bs_capture *c, const bs_ip *src, const bs_ip *dst,
                              const uint8_t *p, size_t have, size_t wire)
{
	if (have < 20)
		return malformed(c, "tcp", "header shorter than 20 bytes");
	size_t doff = (size_t)(p[12] >> 4) * 4;
	if (doff < 20 || doff > have || doff > wire)
		return malformed(c, "tcp", "data offset outside the segment");
	uint16_t sp = bs_be16(p), dp = bs_be16(p + 2);
	uint32_t seq = bs_be32(p + 4);
	uint8_t flags = p[13];
	bool syn = flags & TH_SYN, ack = flags & TH_ACK;
	const uint8_t *data = p + doff;
	size_t len = wire - doff, cap = have - doff;

	uint64_t h = flow_hash(src, sp, dst, dp);
	int dir = 0;
	struct flow *f = tab_find(&c->tcp, src, sp, dst, dp, h, &dir);
	if (f && f->closed) {
		if (!(syn && !ack)) {
			/* the last ACKs of a finished connection */
			flow_seen(c, &c->tcp, f);
			return BS_PARSED;
		}
		tab_remove(&c->tcp, f); /* a new connection on the same ports */
		f = NULL;
	}
	if (!f) {
		if (syn && ack) { /* the SYN was missed: the receiver initiated */
			f = flow_new(c, &c->tcp, dst, dp, src, sp, h);
			dir = 1;
		} else {
			f = flow_new(c, &c->tcp, src, sp, dst, dp, h);
			dir = 0;
		}
		f->pub.handshake_seen = syn;
		if (c->ops->open)
			c->ops->open(c->ops_ctx, &f->pub);
		charge_user(c, f);
	}
	flow_seen(c, &c->tcp, f);
	f->pub.pkts[dir]++;

	struct bs_tcpdir *d = &f->dir[dir];
	if (syn) {
		bs_tcpdir_start(d, seq + 1);
		seq++; /* data in a SYN (TCP Fast Open) starts after it */
	}
	if (flags & TH_RST) {
		flow_close(c, f, BS_FLOW_RST, c->ts);
		return BS_PARSED;
	}
	if (len || (flags & TH_FIN)) {
		struct deliver dl;
		struct bs_tcpout out = tcp_out(&dl, c, f, dir);
		uint32_t conflicts = d->overlap_conflicts;
		bs_tcpreasm_segment(&c->reasm, d, seq, data, cap, len, flags & TH_FIN, &out);
		if (d->overlap_conflicts != conflicts)
			overlap_conflict(c, f, dir, seq, len);
	} else {
		bs_tcpdir_start(d, seq); /* a bare ACK carries the next byte's number */
	}
	if (f->dir[0].done && f->dir[1].done)
		flow_close(c, f, BS_FLOW_FIN, c->ts);
	return BS_PARSED;
}

static enum bs_verdict do_udp(struct bs_capture *c, const bs_ip *src, const bs_ip *dst,
                              const uint8_t *p, size_t have, size_t wire)
{
	if (have < 8)
		return malformed(c, "udp", "header shorter than 8 bytes");
	size_t ulen = bs_be16(p + 4);
	if (ulen == 0)
		ulen = wire; /* IPv6 jumbogram */
	if (ulen < 8 || ulen > wire)
		return malformed(c, "udp", "length field outside the datagram");
	uint16_t sp = bs_be16(p), dp = bs_be16(p + 2);
	size_t n = (have < ulen ? have : ulen) - 8;

	uint64_t h = flow_hash(src, sp, dst, dp);
	int dir = 0;
	struct flow *f = tab_find(&c->udp, src, sp, dst, dp, h, &dir);
	if (!f)
		f = flow_new(c, &c->udp, src, sp, dst, dp, h);
	flow_seen(c, &c->udp, f);
	f->pub.pkts[dir]++;
	f->pub.bytes[dir] += n;
	if (c->ops->udp)
		c->ops->udp(c->ops_ctx, &f->pub.key, dir, p + 8, n, c->ts, c->pktno);
	return BS_PARSED;
}

static enum bs_verdict do_l4(struct bs_capture *c, uint8_t proto, const bs_ip *src, const bs_ip *dst,
                             const uint8_t *p, size_t have, size_t wire)
{
	if (proto == 6)
		return do_tcp(c, src, dst, p, have, wire);
	if (proto == 17)
		return do_udp(c, src, dst, p, have, wire);
	return BS_IGNORED; /* ICMP, GRE, ESP ... */
}

/* ---------------------------------------------------------------- IP */

/* An address folded to a mixed word: the sum of two is the same in both
 * directions. Word loads, not bs_ip_hash's byte loop: the reader of a split
 * link hashes every packet, and this was a sixth of its work. */
static uint64_t address_word(const bs_ip *ip)
{
	uint64_t lo, hi = 0;
	if (ip->family == 4) {
		uint32_t v4;
		memcpy(&v4, ip->a, 4);
		lo = v4;
	} else {
		memcpy(&lo, ip->a, 8);
		memcpy(&hi, ip->a + 8, 8);
	}
	uint64_t h = (lo ^ (hi * 0xC2B2AE3D27D4EB4FULL)) * 0x9E3779B97F4A7C15ULL;
	return h ^ (h >> 29);
}

/* Classify mode: the packet's address pair, the same hash in both
 * directions. Every packet of a flow (fragments included: they carry no
 * ports) and both flows of an FTP session share it. */
static enum bs_verdict classified(struct bs_capture *c, const bs_ip *a, const bs_ip *b)
{
	uint64_t h = address_word(a) + address_word(b);
	h ^= h >> 31;
	c->pair_hash = (h * 0x94D049BB133111EBULL) | 1; /* never 0: 0 means no address pair */
	return BS_PARSED;
}

static enum bs_verdict do_ipv4(struct bs_capture *c, const uint8_t *p, size_t n, bool snapped)
{
	if (n < 20 || (p[0] >> 4) != 4)
		return malformed(c, "ipv4", "shorter than 20 bytes or not version 4");
	size_t ihl = (size_t)(p[0] & 15) * 4;
	size_t tot = bs_be16(p + 2);
	if (tot == 0)
		tot = n; /* segmentation offload (BIG TCP): the length is not in the header */
	if (ihl < 20 || ihl > n || tot < ihl)
		return malformed(c, "ipv4", "header length outside the packet");
	if (tot > n && !snapped)
		return malformed(c, "ipv4", "total length beyond the captured packet");
	size_t have = tot < n ? tot : n; /* drop link padding */
	bs_ip src = { .family = 4 }, dst = { .family = 4 };
	memcpy(src.a, p + 12, 4);
	memcpy(dst.a, p + 16, 4);
	if (c->classify)
		return classified(c, &src, &dst);
	uint16_t frag = bs_be16(p + 6);
	uint32_t off = (uint32_t)(frag & 0x1fff) * 8;
	bool more = frag & 0x2000;
	if (off || more) {
		c->cnt.ip_fragments++;
		if (have < tot) {
			c->frags_snapped++; /* cut by the snap length: cannot be rebuilt */
			return BS_IGNORED;
		}
		struct bs_ipfrag_key k = { src, dst, bs_be16(p + 4), p[9] };
		struct bs_ipfrag_done done;
		/* fragments time out on the link's clock, as flows do: by
		 * their own times a worker of a split link, which sees only
		 * its pairs' fragments, would keep a datagram one engine
		 * dropped when times went back */
		enum bs_ipfrag_result r = bs_ipfrag_add(c->frag, &k, off, more, p[9], p + ihl, tot - ihl,
		                                        c->latest, &done);
		if (r == BS_FRAG_HELD)
			return BS_PARSED;
		if (r == BS_FRAG_DROPPED)
			return BS_IGNORED;
		return do_l4(c, done.next_proto, &src, &dst, done.p, done.n, done.n);
	}
	return do_l4(c, p[9], &src, &dst, p + ihl, have - ihl, tot - ihl);
}

static enum bs_verdict do_ipv6(struct bs_capture *c, const uint8_t *p, size_t n, bool snapped)
{
	if (n < 40 || (p[0] >> 4) != 6)
		return malformed(c, "ipv6", "shorter than 40 bytes or not version 6");
	size_t wire = 40 + (size_t)bs_be16(p + 4);
	if (wire == 40)
		wire = n; /* jumbogram or segmentation offload: take what was captured */
	if (wire > n && !snapped)
		return malformed(c, "ipv6", "payload length beyond the captured packet");
	size_t have = wire < n ? wire : n;
	bs_ip src = { .family = 6 }, dst = { .family = 6 };
	memcpy(src.a, p + 8, 16);
	memcpy(dst.a, p + 24, 16);
	if (c->classify)
		return classified(c, &src, &dst);
	uint8_t nh = p[6];
	size_t off = 40;
	bool reassembled = false;
	for (int i = 0; i < MAX_IPV6_EXT; i++) {
		size_t hl;
		switch (nh) {
		case 0:  /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
		case 51: /* AH */
			if (have - off < 2)
				return malformed(c, "ipv6", "extension header cut");
			hl = nh == 51 ? ((size_t)p[off + 1] + 2) * 4 : ((size_t)p[off + 1] + 1) * 8;
			if (have - off < hl)
				return malformed(c, "ipv6", "extension header cut");
			nh = p[off];
			off += hl;
			break;
		case 44: { /* fragment */
			if (have - off < 8)
				return malformed(c, "ipv6", "fragment header cut");
			uint8_t fnh = p[off];
			uint16_t fo = bs_be16(p + off + 2);
			uint32_t id = bs_be32(p + off + 4);
			off += 8;
			if ((fo & 0xfff8) == 0 && !(fo & 1)) { /* atomic fragment */
				nh = fnh;
				break;
			}
			c->cnt.ip_fragments++;
			/* one Fragment header per datagram: a second one inside a
			 * rebuilt payload would point into the buffer being rebuilt */
			if (reassembled)
				return malformed(c, "ipv6", "a second fragment header in a rebuilt datagram");
			if (have < wire) {
				c->frags_snapped++;
				return BS_IGNORED;
			}
			struct bs_ipfrag_key k = { src, dst, id, 0 };
			struct bs_ipfrag_done done;
			enum bs_ipfrag_result r = bs_ipfrag_add(c->frag, &k, fo & 0xfff8, fo & 1, fnh, p + off,
			                                        wire - off, c->latest, &done);
			if (r == BS_FRAG_HELD)
				return BS_PARSED;
			if (r == BS_FRAG_DROPPED)
				return BS_IGNORED;
			reassembled = true;
			p = done.p;
			have = wire = done.n;
			off = 0;
			nh = done.next_proto;
			break;
		}
		case 6:
		case 17:
			return do_l4(c, nh, &src, &dst, p + off, have - off, wire - off);
		default: /* ESP, no next header, ICMPv6, ... */
			return BS_IGNORED;
		}
	}
	return malformed(c, "ipv6", "extension header chain too long");
}

/* ------------------------------------------------------------ link layers */

static bool is_vlan(uint16_t type)
{
	return type == 0x8100 || type == 0x88a8 || type == 0x9100;
}

static enum bs_verdict do_raw(struct bs_capture *c, const uint8_t *p, size_t n, bool snapped)
{
	if (n < 1)
		return malformed(c, "raw", "empty packet");
	if ((p[0] >> 4) == 4)
		return do_ipv4(c, p, n, snapped);
	if ((p[0] >> 4) == 6)
		return do_ipv6(c, p, n, snapped);
	return malformed(c, "raw", "not IPv4 nor IPv6");
}

/* PPPoE session stage (RFC 2516): version/type, code 0, session id, length
 * (of the PPP frame), then the PPP protocol (RFC 1661; one byte when
 * compressed: an odd first byte) - 0x0021 IPv4, 0x0057 IPv6. */
static enum bs_verdict do_pppoe(struct bs_capture *c, const uint8_t *p, size_t n, bool snapped)
{
	if (n < 8)
		return malformed(c, "pppoe", "shorter than its 6-byte header and protocol");
	if (p[0] != 0x11 || p[1] != 0x00)
		return BS_IGNORED; /* another version, or not a session data frame */
	size_t len = bs_be16(p + 4);
	if (len > n - 6)
		len = n - 6; /* snapped */
	const uint8_t *ppp = p + 6;
	unsigned proto = ppp[0] & 1 ? ppp[0] : bs_be16(ppp);
	size_t off = ppp[0] & 1 ? 1 : 2;
	if (len < off)
		return malformed(c, "pppoe", "PPP frame shorter than its protocol");
	if (proto == 0x0021)
		return do_ipv4(c, ppp + off, len - off, snapped);
	if (proto == 0x0057)
		return do_ipv6(c, ppp + off, len - off, snapped);
	return BS_IGNORED; /* LCP, IPCP, CHAP ... */
}

/* MPLS (RFC 3032): 4-byte label entries up to the one with the bottom of
 * stack bit; the payload has no type, IPv4 or IPv6 by its first nibble
 * (a pseudowire control word, nibble 0, is not read). */
#define MAX_MPLS_LABELS 16
static enum bs_verdict do_mpls(struct bs_capture *c, const uint8_t *p, size_t n, bool snapped)
{
	size_t off = 0;
	for (int labels = 0;; labels++) {
		if (labels == MAX_MPLS_LABELS || n - off < 4)
			return malformed(c, "mpls", "too many labels or a label cut");
		bool bottom = p[off + 2] & 1;
		off += 4;
		if (bottom)
			break;
	}
	if (n - off < 1)
		return malformed(c, "mpls", "no payload after the labels");
	unsigned version = p[off] >> 4;
	if (version == 4 || version == 6)
		return do_raw(c, p + off, n - off, snapped);
	return BS_IGNORED;
}

static enum bs_verdict do_ethertype(struct bs_capture *c, uint16_t type, const uint8_t *p, size_t n,
                                    bool snapped)
{
	if (type == 0x0800)
		return do_ipv4(c, p, n, snapped);
	if (type == 0x86dd)
		return do_ipv6(c, p, n, snapped);
	if (type == 0x8864)
		return do_pppoe(c, p, n, snapped);
	if (type == 0x8847 || type == 0x8848)
		return do_mpls(c, p, n, snapped);
	return BS_IGNORED; /* ARP, LLDP, PPPoE discovery, 802.3 lengths ... */
}

/* NFLOG (LINKTYPE_NFLOG 239): family, version, resource id, then TLVs
 * (length with its 4-byte header, type; padded to 4 bytes) in the byte
 * order of the capturing host, read as the one whose first length fits.
 * The packet is in NFULA_PAYLOAD (type 9), an IP datagram of the family. */
#define NFULA_PAYLOAD 9
static enum bs_verdict do_nflog(struct bs_capture *c, const uint8_t *p, size_t n, bool snapped)
{
	if (n < 4)
		return malformed(c, "nflog", "shorter than its 4-byte header");
	uint8_t family = p[0];
	size_t off = 4;
	bool big_endian = false;
	if (n - off >= 4) {
		size_t le = bs_le16(p + off);
		big_endian = le < 4 || le > n - off;
	}
	while (n - off >= 4) {
		size_t len = big_endian ? bs_be16(p + off) : bs_le16(p + off);
		unsigned type = (big_endian ? bs_be16(p + off + 2) : bs_le16(p + off + 2)) & 0x7fff;
		if (len < 4 || len > n - off)
			return malformed(c, "nflog", "a TLV longer than the packet or shorter than 4 bytes");
		if (type == NFULA_PAYLOAD) {
			if (family == 2)
				return do_ipv4(c, p + off + 4, len - 4, snapped);
			if (family == 10)
				return do_ipv6(c, p + off + 4, len - 4, snapped);
			return do_raw(c, p + off + 4, len - 4, snapped);
		}
		off += (len + 3) & ~(size_t)3;
		if (off > n)
			break;
	}
	return BS_IGNORED; /* no payload attribute: a rule hit without the packet */
}

/* ARCNET: after the source and destination stations (and Linux's 2-byte
 * offset), a protocol id; RFC 1051 carries IP right after it, RFC 1201
 * (and IPv6, RFC 2497) a split flag and a 2-byte sequence number first,
 * and on BSD's DLT_ARCNET an exception packet (split flag 0xff) 4 more
 * bytes. ARP and the other protocols carry nothing of ours. */
enum { ARC_IP_1051 = 0xf0, ARC_IP_1201 = 0xd4, ARC_IPV6 = 0xc4 };
static enum bs_verdict do_arcnet(struct bs_capture *c, const uint8_t *p, size_t n, size_t off, bool exceptions,
                                 bool snapped)
{
	if (n <= off)
		return malformed(c, "arcnet", "shorter than its header");
	uint8_t proto = p[off++];
	if (proto == ARC_IP_1051)
		return do_ipv4(c, p + off, n - off, snapped);
	if (proto != ARC_IP_1201 && proto != ARC_IPV6)
		return BS_IGNORED;
	if (exceptions && off < n && p[off] == 0xff)
		off += 4;
	off += 3;
	if (off > n)
		return malformed(c, "arcnet", "shorter than its RFC 1201 header");
	return proto == ARC_IPV6 ? do_ipv6(c, p + off, n - off, snapped) : do_ipv4(c, p + off, n - off, snapped);
}

/* BSD loopback: the address family, in the byte order of the machine that
 * wrote it (DLT_NULL) or in network order (DLT_LOOP). Read it either way. */
static enum bs_verdict do_null(struct bs_capture *c, const uint8_t *p, size_t n, bool snapped)
{
	if (n < 4)
		return malformed(c, "loopback", "shorter than its 4-byte family");
	uint32_t af = bs_le32(p);
	if (af > 0xffff)
		af = bs_be32(p);
	if (af == 2)
		return do_ipv4(c, p + 4, n - 4, snapped);
	if (af == 24 || af == 28 || af == 30 || af == 10) /* BSDs, macOS, Linux */
		return do_ipv6(c, p + 4, n - 4, snapped);
	return BS_IGNORED;
}

static enum bs_verdict do_link(struct bs_capture *c, int linktype, const uint8_t *p, size_t n,
                               bool snapped)
{
	switch (linktype) {
	case 1: { /* Ethernet */
		if (n < 14)
			return malformed(c, "ethernet", "shorter than 14 bytes");
		size_t off = 14;
		uint16_t type = bs_be16(p + 12);
		for (int tags = 0; is_vlan(type); tags++) {
			if (tags == MAX_VLAN_TAGS || n - off < 4)
				return malformed(c, "ethernet", "too many VLAN tags or a VLAN tag cut");
			type = bs_be16(p + off + 2);
			off += 4;
		}
		return do_ethertype(c, type, p + off, n - off, snapped);
	}
	case 113: /* Linux cooked v1 */
		if (n < 16)
			return malformed(c, "sll", "shorter than 16 bytes");
		return do_ethertype(c, bs_be16(p + 14), p + 16, n - 16, snapped);
	case 276: /* Linux cooked v2 */
		if (n < 20)
			return malformed(c, "sll2", "shorter than 20 bytes");
		return do_ethertype(c, bs_be16(p), p + 20, n - 20, snapped);
	case 12:  /* DLT_RAW on most systems */
	case 14:  /* DLT_RAW on OpenBSD */
	case 101: /* LINKTYPE_RAW */
		return do_raw(c, p, n, snapped);
	case 228: /* LINKTYPE_IPV4 */
		return do_ipv4(c, p, n, snapped);
	case 229: /* LINKTYPE_IPV6 */
		return do_ipv6(c, p, n, snapped);
	case 0:   /* DLT_NULL */
	case 108: /* DLT_LOOP */
		return do_null(c, p, n, snapped);
	case 239: /* LINKTYPE_NFLOG */
		return do_nflog(c, p, n, snapped);
	case 7:   /* DLT_ARCNET (BSD): source, destination */
		return do_arcnet(c, p, n, 2, true, snapped);
	case 129: /* LINKTYPE_ARCNET_LINUX: source, destination, offset */
		return do_arcnet(c, p, n, 4, false, snapped);
	default:
		if (c->classify)
			return BS_IGNORED;
		c->cnt.unsupported_linktype++;
		if (!c->warned_linktype && c->o.warn)
			fprintf(c->o.warn, "%s: packet %llu: unsupported link type %d; its packets are ignored\n",
			        c->o.name ? c->o.name : "capture", (unsigned long long)c->pktno, linktype);
		c->warned_linktype = true;
		return BS_IGNORED;
	}
}

/* ---------------------------------------------------------------- API */

struct bs_capture *bs_capture_new(const struct bs_capture_opts *o, const struct bs_stream_ops *ops,
                                  void *ops_ctx, const struct bs_sink *sink)
{
	static const struct bs_stream_ops no_ops;
	struct bs_capture *c = bs_xcalloc(1, sizeof *c);
	c->o = *o;
	c->latest = BS_TIME_NONE;
	if (!c->o.max_flows)
		c->o.max_flows = 1u << 20;
	if (!c->o.max_flow_buffer)
		c->o.max_flow_buffer = 1u << 20;
	if (!c->o.max_total_buffer)
		c->o.max_total_buffer = (size_t)256 << 20;
	if (!c->o.max_frag_bytes)
		c->o.max_frag_bytes = (size_t)64 << 20;
	if (c->o.flow_timeout <= 0)
		c->o.flow_timeout = 2 * 3600 * BS_USEC;
	if (!c->o.memcap)
		c->o.memcap = BS_CAPTURE_MEMCAP_DEFAULT;
	c->ops = ops ? ops : &no_ops;
	c->ops_ctx = ops_ctx;
	if (sink)
		c->sink = *sink;
	tab_init(&c->tcp, c->o.max_flows, c->o.flow_timeout, 6);
	tab_init(&c->udp, c->o.max_flows, c->o.flow_timeout < UDP_IDLE_MAX ? c->o.flow_timeout : UDP_IDLE_MAX, 17);
	bs_tcpreasm_init(&c->reasm, c->o.max_flow_buffer, c->o.max_total_buffer);
	c->frag = bs_ipfrag_new(c->o.max_frag_bytes, FRAG_TIMEOUT);
	return c;
}

void bs_capture_set_latest(struct bs_capture *c, bs_time latest)
{
	if (latest != BS_TIME_NONE && (c->latest == BS_TIME_NONE || latest > c->latest))
		c->latest = latest;
}

void bs_capture_note_evictions(const struct bs_diag *diag, uint32_t input, const struct bs_input_stats *st)
{
	if (st->flows_evicted)
		bs_diag(diag, input, 0, true, "capture",
		        "%llu flows closed before their end, %llu of them by the memory cap (--memcap)",
		        (unsigned long long)st->flows_evicted, (unsigned long long)st->flows_evicted_memcap);
}

enum bs_verdict bs_capture_packet(struct bs_capture *c, int linktype, const uint8_t *p,
                                  size_t caplen, size_t origlen, bs_time ts, uint64_t pktno)
{
	c->cnt.packets++;
	if (ts == BS_TIME_NONE)
		ts = c->ts; /* a Simple Packet Block has no time: keep the last one */
	if (ts != BS_TIME_NONE && !bs_time_valid(ts))
		return malformed(c, "capture", BS_TIME_RANGE_WHY);
	c->ts = ts;
	bs_capture_set_latest(c, ts);
	c->pktno = pktno;
	if (c->latest != BS_TIME_NONE) {
		if (tab_due(&c->tcp, c->latest))
			tab_expire(c, &c->tcp, c->latest);
		if (tab_due(&c->udp, c->latest))
			tab_expire(c, &c->udp, c->latest);
	}
	if (linktype < 0)
		return malformed(c, "pcapng", "a packet of an interface never described");
	enum bs_verdict v = do_link(c, (int)((unsigned)linktype & LINKTYPE_MASK), p, caplen, origlen > caplen);
	memcap_enforce(c);
	return v;
}

void bs_capture_set_input(struct bs_capture *c, uint32_t input, const char *name)
{
	c->o.input = input;
	c->o.name = name;
	c->warned_linktype = false; /* one warning per file, read whole or by a split link's worker */
}

bs_time bs_capture_latest(const struct bs_capture *c) { return c->latest; }

static void tab_close_all(struct bs_capture *c, struct flowtab *t, bs_time ts)
{
	while (t->live.oldest)
		flow_drop(c, t, t->live.oldest, BS_FLOW_EOF, ts);
	while (t->closed.oldest)
		flow_drop(c, t, t->closed.oldest, BS_FLOW_EOF, ts);
}

void bs_capture_finish(struct bs_capture *c, bs_time ts)
{
	if (ts == BS_TIME_NONE)
		ts = c->ts;
	c->ts = ts;
	/* what the link's later packets would have timed out (a worker of a
	 * split link is told the link's latest time) */
	tab_expire(c, &c->tcp, c->latest);
	tab_expire(c, &c->udp, c->latest);
	tab_close_all(c, &c->tcp, ts);
	tab_close_all(c, &c->udp, ts);
	bs_ipfrag_drop_all(c->frag); /* fragments that never completed */
}

const struct bs_capture_counters *bs_capture_counters(const struct bs_capture *c)
{
	/* The reassemblers keep their own counts; copy them in on demand. The
	 * object is never const itself, only this view of it. */
	struct bs_capture *m = (struct bs_capture *)c;
	const struct bs_ipfrag_counters *fc = bs_ipfrag_counters(c->frag);
	m->cnt.frags_reassembled = fc->reassembled;
	m->cnt.frag_overlaps = fc->overlaps;
	m->cnt.frag_dropped = fc->dropped + c->frags_snapped;
	m->cnt.tcp_retrans = c->reasm.retrans;
	m->cnt.tcp_overlap_conflicts = c->reasm.overlap_conflicts;
	m->cnt.tcp_gaps = c->reasm.gaps;
	m->cnt.tcp_gap_bytes = c->reasm.gap_bytes;
	return &m->cnt;
}

static void tab_free(struct flowtab *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct flow *f = t->buckets[i], *next;
		for (; f; f = next) {
			next = f->hnext;
			free(f);
		}
	}
	for (struct flow *f = t->spare, *next; f; f = next) {
		next = f->hnext;
		free(f);
	}
	free(t->buckets);
}

void bs_capture_free(struct bs_capture *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->tcp.nbuckets; i++)
		for (struct flow *f = c->tcp.buckets[i]; f; f = f->hnext)
			for (int dir = 0; dir < 2; dir++)
				bs_tcpdir_release(&c->reasm, &f->dir[dir]);
	tab_free(&c->tcp);
	tab_free(&c->udp);
	bs_ipfrag_free(c->frag);
	free(c->rbuf);
	free(c);
}

struct bs_capture *bs_capture_classifier_new(const struct bs_capture_opts *opts)
{
	struct bs_capture_opts o = *opts;
	o.max_flows = 1;
	struct bs_capture *c = bs_capture_new(&o, NULL, NULL, NULL);
	c->classify = true;
	return c;
}

uint64_t bs_capture_pair_hash(struct bs_capture *c, int linktype, const uint8_t *p, size_t caplen, size_t origlen)
{
	c->pair_hash = 0;
	if (linktype >= 0)
		do_link(c, (int)((unsigned)linktype & LINKTYPE_MASK), p, caplen, origlen > caplen);
	return c->pair_hash;
}

void bs_capture_set_router(struct bs_capture *c, bs_capture_router_fn fn, void *ctx)
{
	c->router = fn;
	c->router_ctx = ctx;
}

/* ------------------------------------------------------------- reading */

struct reading {
	struct bs_capture *c;
	struct bs_input_stats *st;
	uint64_t pktno;
};

static void count_packet(struct reading *rd, int linktype, const uint8_t *p, size_t caplen,
                         size_t origlen, bs_time ts)
{
	rd->pktno++;
	if (rd->c->router) {
		rd->c->router(rd->c->router_ctx, linktype, p, caplen, origlen, ts, rd->pktno);
		return;
	}
	bs_stats_count(rd->st, bs_capture_packet(rd->c, linktype, p, caplen, origlen, ts, rd->pktno));
}

static void pcapng_packet(void *ctx, const struct bs_pcapng_packet *pkt)
{
	count_packet(ctx, pkt->linktype, pkt->data, pkt->caplen, pkt->origlen, pkt->ts);
}

/* The stream libpcap reads when the file is pcapng: every byte it takes also
 * goes through our block tracker, unbuffered so that the tracker stands
 * exactly where libpcap stands when it gives up. */
struct tee {
	FILE *fp;
	struct bs_pcapng *tracker;
};

static ssize_t tee_read(void *cookie, char *buf, size_t n)
{
	struct tee *t = cookie;
	size_t got = fread(buf, 1, n, t->fp);
	if (got)
		bs_pcapng_feed(t->tracker, (const uint8_t *)buf, got);
	return (ssize_t)got;
}

static int tee_close(void *cookie)
{
	(void)cookie; /* the underlying stream is closed by its owner */
	return 0;
}

static void damage(struct reading *rd, char *err, size_t errlen, const char *what)
{
	rd->st->truncated = true;
	bs_diag(rd->c->o.diag, rd->c->o.input, rd->pktno + 1, true, "capture", "%s", what);
	if (err && errlen)
		snprintf(err, errlen, "packet %llu: %s", (unsigned long long)rd->pktno + 1, what);
}

/* The rest of a pcapng stream through our own reader. */
static bool read_pcapng_rest(struct reading *rd, FILE *fp, struct bs_pcapng *g, char *err, size_t errlen)
{
	uint8_t buf[1 << 16];
	bs_pcapng_set_emit(g, true);
	size_t got;
	while ((got = fread(buf, 1, sizeof buf, fp)) > 0)
		if (!bs_pcapng_feed(g, buf, got))
			break;
	if (bs_pcapng_end(g))
		return true;
	bs_stats_count(rd->st, BS_MALFORMED);
	damage(rd, err, errlen, bs_pcapng_error(g));
	return false;
}

static bool is_packet_block(uint32_t type)
{
	return type == 2 || type == 3 || type == 6;
}

/* A pcap record's time: libpcap hands the seconds sign-extended from 32
 * bits and, at nanosecond precision, the fraction in nanoseconds. */
static bs_time record_time(int64_t sec, int64_t nsec)
{
	/* a pcap record's seconds are unsigned 32 bits, which libpcap
	 * sign-extends: 2038..2106 would read as 1901..1969, and then as times
	 * before 1970 */
	if (sec < 0 && sec >= INT32_MIN)
		sec += INT64_C(4294967296);
	/* a pcapng timestamp can be any 64-bit count: clamp the seconds so
	 * the conversion cannot overflow */
	const int64_t sec_max = INT64_MAX / 4 / BS_USEC;
	sec = sec > sec_max ? sec_max : sec < -sec_max ? -sec_max : sec;
	return sec * BS_USEC + nsec / 1000;
}

static bool read_stream(struct reading *rd, FILE *fp, int fmt, char *err, size_t errlen);

bool bs_capture_read_stream(struct bs_capture *c, FILE *fp, int fmt, struct bs_input_stats *st,
                            char *err, size_t errlen)
{
	struct reading rd = { c, st, 0 };
	if (err && errlen)
		err[0] = 0;
	c->warned_linktype = false;
	return read_stream(&rd, fp, fmt, err, errlen);
}

/* libpcap (and our pcapng reader where libpcap gives up) over a stream;
 * fp is closed. */
static bool read_stream(struct reading *rd, FILE *fp, int fmt, char *err, size_t errlen)
{
	struct bs_capture *c = rd->c;
	struct bs_input_stats *st = rd->st;
	struct tee tee = { fp, NULL };
	FILE *src = fp;
	bool ok = true;
	if (fmt == BS_FMT_PCAPNG) {
		tee.tracker = bs_pcapng_new(false, pcapng_packet, rd);
		src = fopencookie(&tee, "r", (cookie_io_functions_t){ .read = tee_read, .close = tee_close });
		if (!src) {
			bs_pcapng_free(tee.tracker);
			fclose(fp);
			snprintf(err, errlen, "cannot open a stream: out of memory");
			st->truncated = true;
			return false;
		}
		setvbuf(src, NULL, _IONBF, 0);
	}

	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(src, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	const char *why = ebuf;
	if (pc) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int linktype = pcap_datalink(pc), r;
		while ((r = pcap_next_ex(pc, &h, &data)) == 1)
			count_packet(rd, linktype, data, h->caplen, h->len,
			             record_time((int64_t)h->ts.tv_sec, (int64_t)h->ts.tv_usec));
		if (r == PCAP_ERROR) {
			snprintf(ebuf, sizeof ebuf, "%s", pcap_geterr(pc));
			ok = false;
		}
		pcap_close(pc); /* closes src */
		if (src == fp)
			fp = NULL;
	} else {
		ok = false;
		if (src != fp)
			fclose(src);
	}
	if (!ok && tee.tracker && bs_pcapng_at_block_boundary(tee.tracker)) {
		/* libpcap refused something our reader takes (interfaces of
		 * different link types, libpcap issue 1259): go on from here. */
		if (is_packet_block(bs_pcapng_last_type(tee.tracker)))
			bs_stats_count(st, BS_MALFORMED);
		if (c->o.warn)
			fprintf(c->o.warn, "%s: packet %llu: libpcap: %s; reading on with breachscope's pcapng reader\n",
			        c->o.name ? c->o.name : "capture", (unsigned long long)rd->pktno + 1, why);
		bs_diag(c->o.diag, c->o.input, rd->pktno + 1, true, "libpcap", "%s; reading on with breachscope's pcapng reader",
		        why);
		ok = read_pcapng_rest(rd, fp, tee.tracker, err, errlen);
	} else if (!ok) {
		if (pc || rd->pktno)
			bs_stats_count(st, BS_MALFORMED); /* the record libpcap could not read */
		damage(rd, err, errlen, why);
	}
	bs_pcapng_free(tee.tracker);
	if (fp)
		fclose(fp);
	return ok;
}

/* ------------------------------------------- classic pcap, our own walk */

/* Classic pcap in this machine's byte order, version 2.4, of a link type we
 * decode, is walked in our own buffer: one copy out of the reader instead of
 * libpcap's two freads per record through stdio (issue 21: the reading was
 * a tenth of a capture run, and all of a split link's reader). The first
 * record that libpcap treats in a way of its own (longer than the snapshot
 * length, or cut short by the end) and everything after it go to libpcap,
 * reading the file's header and then the rest of the stream from there, so
 * that its answers and messages stay what they were. */
#define WALK_BUF ((size_t)1 << 20)  /* > a record header and the largest record */
#define WALK_MAX_SNAPLEN 262144u    /* libpcap's largest record for these link types */

struct walk {
	uint8_t head[24];             /* the file header, as read */
	int dlt;                      /* what pcap_datalink() would say */
	uint32_t snapshot;            /* libpcap's snapshot length for the file */
	bool nsec;                    /* nanosecond timestamps */
	struct bs_reader *r;
	uint8_t *buf;
	size_t pos, have;             /* unread bytes: buf[pos, have) */
	bool eof;
	size_t head_pos;              /* the hand-over stream: header bytes given */
};

/* The DLT libpcap maps a file's link type to; -1: not one to walk ourselves
 * (other link types keep libpcap's view, warnings included). */
static int walk_dlt(uint32_t linktype)
{
	switch (linktype) {
	case 0: case 1: case 7: case 108: case 113: case 129: case 228: case 229: case 239: case 276:
		return (int)linktype;
	case 101: /* LINKTYPE_RAW is DLT_RAW */
		return 12;
	default:
		return -1;
	}
}

static bool host_little_endian(void)
{
	const uint16_t one = 1;
	return *(const uint8_t *)&one == 1;
}

/* libpcap swaps some link types' pseudo-headers in a file of the other byte
 * order: such files stay libpcap's. */
static bool walkable(struct walk *w)
{
	uint32_t magic = bs_le32(w->head);
	if (!host_little_endian() || (magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) ||
	    bs_le16(w->head + 4) != 2 || bs_le16(w->head + 6) != 4)
		return false;
	w->dlt = walk_dlt(bs_le32(w->head + 20));
	uint32_t snap = bs_le32(w->head + 16);
	w->snapshot = snap == 0 || snap > WALK_MAX_SNAPLEN ? WALK_MAX_SNAPLEN : snap;
	w->nsec = magic == 0xa1b23c4du;
	return w->dlt >= 0;
}

/* At least need unread bytes in the buffer; false at the end of the input. */
static bool walk_fill(struct walk *w, size_t need)
{
	if (w->have - w->pos >= need)
		return true;
	memmove(w->buf, w->buf + w->pos, w->have - w->pos);
	w->have -= w->pos;
	w->pos = 0;
	while (w->have < need && !w->eof) {
		size_t got = bs_reader_read(w->r, w->buf + w->have, WALK_BUF - w->have);
		if (!got)
			w->eof = true;
		w->have += got;
	}
	return w->have >= need;
}

/* The hand-over stream: the file header, the unread bytes, the reader. */
static ssize_t walk_handover_read(void *cookie, char *out, size_t n)
{
	struct walk *w = cookie;
	size_t k = 0;
	if (w->head_pos < sizeof w->head) {
		k = sizeof w->head - w->head_pos < n ? sizeof w->head - w->head_pos : n;
		memcpy(out, w->head + w->head_pos, k);
		w->head_pos += k;
	} else if (w->pos < w->have) {
		k = w->have - w->pos < n ? w->have - w->pos : n;
		memcpy(out, w->buf + w->pos, k);
		w->pos += k;
	} else if (!w->eof) {
		k = bs_reader_read(w->r, out, n);
	}
	return (ssize_t)k;
}

static int walk_handover_close(void *cookie)
{
	(void)cookie;
	return 0;
}

static bool walk_pcap(struct reading *rd, struct walk *w, char *err, size_t errlen)
{
	struct bs_capture *c = rd->c;
	if (!c->rbuf)
		c->rbuf = bs_xmalloc(WALK_BUF);
	w->buf = c->rbuf;
	for (;;) {
		/* the record is in the buffer almost always: asked here, not
		 * by a call per record and field */
		if (w->have - w->pos < 16 && !walk_fill(w, 16)) {
			if (w->have == w->pos)
				return true; /* the end, between records */
			break;
		}
		const uint8_t *h = w->buf + w->pos;
		uint32_t caplen = bs_le32(h + 8), len = bs_le32(h + 12);
		if (caplen > w->snapshot || (w->have - w->pos < 16 + (size_t)caplen && !walk_fill(w, 16 + (size_t)caplen)))
			break;
		h = w->buf + w->pos; /* the fill may have moved it */
		int64_t frac = (int32_t)bs_le32(h + 4);
		count_packet(rd, w->dlt, h + 16, caplen, len,
		             record_time((int32_t)bs_le32(h), w->nsec ? frac : frac * 1000));
		w->pos += 16 + (size_t)caplen;
	}
	FILE *f = fopencookie(w, "r", (cookie_io_functions_t){ .read = walk_handover_read,
	                                                      .close = walk_handover_close });
	if (!f) {
		damage(rd, err, errlen, "cannot open a stream: out of memory");
		return false;
	}
	return read_stream(rd, f, BS_FMT_PCAP, err, errlen);
}

bool bs_capture_read(struct bs_capture *c, struct bs_reader *r, enum bs_format fmt,
                     struct bs_input_stats *st, char *err, size_t errlen)
{
	struct walk w = { .r = r };
	bool ok;
	if (fmt == BS_FMT_PCAP && bs_reader_peek(r, w.head, sizeof w.head) == sizeof w.head && walkable(&w)) {
		struct reading rd = { c, st, 0 };
		if (err && errlen)
			err[0] = 0;
		c->warned_linktype = false;
		bs_reader_read(r, w.head, sizeof w.head);
		ok = walk_pcap(&rd, &w, err, errlen);
	} else {
		FILE *fp = bs_reader_fopen(r);
		if (!fp) {
			snprintf(err, errlen, "cannot open a stream on the input");
			st->truncated = true;
			return false;
		}
		ok = bs_capture_read_stream(c, fp, (int)fmt, st, err, errlen);
	}
	if (ok && bs_reader_damaged(r)) {
		/* the decompressor hit damage: the records ended cleanly */
		st->truncated = true;
		snprintf(err, errlen, "%s", bs_reader_damage(r));
		ok = false;
	}
	return ok;
}

/* ------------------------------------------------- first packet's time */

/* A field of a pcap file header, in the byte order of the machine that
 * wrote it (its magic number tells). */
static uint32_t pcap_header_u32(const uint8_t *p, bool big_endian)
{
	return big_endian ? bs_be32(p) : bs_le32(p);
}

static void first_ng_packet(void *ctx, const struct bs_pcapng_packet *pkt)
{
	bs_time *ts = ctx;
	if (*ts == BS_TIME_NONE && pkt->ts != BS_TIME_NONE)
		*ts = pkt->ts;
}

#define FIRST_TIME_READ_MAX (4u << 20) /* a pcapng file's leading blocks looked through */

bs_time bs_capture_first_time(struct bs_reader *r, enum bs_format fmt)
{
	uint8_t buf[4096];
	bs_time ts = BS_TIME_NONE;
	if (fmt == BS_FMT_PCAP) {
		size_t n = 0, got;
		while (n < 40 && (got = bs_reader_read(r, buf + n, 40 - n)) > 0)
			n += got;
		if (n < 40)
			return BS_TIME_NONE;
		uint32_t magic = bs_le32(buf);
		bool big_endian = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
		bool nano = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u;
		int64_t sec = pcap_header_u32(buf + 24, big_endian), frac = pcap_header_u32(buf + 28, big_endian);
		return sec * BS_USEC + (nano ? frac / 1000 : frac);
	}
	if (fmt != BS_FMT_PCAPNG)
		return BS_TIME_NONE;
	struct bs_pcapng *g = bs_pcapng_new(true, first_ng_packet, &ts);
	size_t total = 0, got;
	while (ts == BS_TIME_NONE && total < FIRST_TIME_READ_MAX && (got = bs_reader_read(r, buf, sizeof buf)) > 0) {
		total += got;
		if (!bs_pcapng_feed(g, buf, got))
			break;
	}
	bs_pcapng_free(g);
	return ts;
}

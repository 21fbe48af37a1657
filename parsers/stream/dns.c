/* dns.c - DNS messages over UDP and TCP: queries paired with their answers.
 *
 * Every read is checked against the message length; names follow
 * compression pointers only to offsets lower than any visited before, so
 * a pointer loop ends at once and is counted as malformed.
 */
#include <string.h>
#include "parsers/stream/dns.h"
#include "src/core/bytes.h"

#define TYPE_A 1
#define TYPE_CNAME 5
#define TYPE_AAAA 28
#define MAX_RECORDS 64     /* answer records read per message */
#define OPCODE_UPDATE 5
#define MAX_HOPS 64

void bs_dns_init(struct bs_dns *p, size_t npending)
{
	memset(p, 0, BS_DNS_SIZE(npending));
	p->npending = npending;
	p->last_dir = -1;
}


int bs_dns_name(const uint8_t *msg, size_t n, size_t *pos, char *out)
{
	size_t p = *pos, limit = *pos, end = 0, o = 0;
	bool jumped = false;
	unsigned hops = 0;
	for (;;) {
		if (p >= n)
			return -1;
		uint8_t len = msg[p];
		if (len == 0) {
			if (!jumped)
				end = p + 1;
			break;
		}
		if ((len & 0xc0) == 0xc0) {
			if (p + 1 >= n)
				return -1;
			size_t target = ((size_t)(len & 0x3f) << 8) | msg[p + 1];
			if (!jumped)
				end = p + 2;
			/* only backwards, below everything seen: no loop possible */
			if (target >= limit || ++hops > MAX_HOPS)
				return -1;
			limit = p = target;
			jumped = true;
			continue;
		}
		if (len & 0xc0)
			return -1; /* extended label types */
		if (len > n - p - 1 || o + len + (o ? 1 : 0) > BS_DNS_NAME_MAX)
			return -1;
		if (o)
			out[o++] = '.';
		for (size_t i = 0; i < len; i++) {
			uint8_t ch = msg[p + 1 + i];
			out[o++] = (ch > 0x20 && ch < 0x7f) ? (char)ch : '?';
		}
		p += 1 + (size_t)len;
	}
	out[o] = '\0';
	*pos = end;
	return (int)o;
}

static char lower(char ch) { return (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch; }

static bool name_ieq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* The event's endpoints: the querier is the source. */
static void dns_event(const struct bs_proto_ctx *c, struct bs_event *ev, int query_dir)
{
	bs_proto_event(c, ev, BS_EV_DNS);
	if (query_dir == 1) {
		bs_ip ip = ev->src;
		uint16_t port = ev->sport;
		ev->src = ev->dst;
		ev->sport = ev->dport;
		ev->dst = ip;
		ev->dport = port;
	}
}

/* ------------------------------------------------------------------ UPDATE names */

/* Keep a distinct name of an update section; false when it did not fit. */
static bool update_name(struct bs_dns_update *u, const char *name, size_t n)
{
	for (size_t i = 0; i < u->nnames; i++)
		if (name_ieq(u->pool + u->off[i], u->len[i], name, n))
			return true;
	if (u->nnames == BS_DNS_MAX_UPDATES || n > sizeof u->pool - u->pool_len)
		return false;
	memcpy(u->pool + u->pool_len, name, n);
	u->off[u->nnames] = (uint16_t)u->pool_len;
	u->len[u->nnames++] = (uint8_t)n;
	u->pool_len += n;
	return true;
}

/* The owner names of the count records of an update section at pos: the
 * distinct ones kept, the others (and records past MAX_RECORDS) counted;
 * a broken record ends the walk with what was read. */
static void update_names(const uint8_t *m, size_t n, size_t pos, unsigned count, struct bs_dns_update *u)
{
	char name[BS_DNS_NAME_MAX + 1];
	u->nnames = u->more = u->pool_len = 0;
	for (unsigned i = 0; i < count; i++) {
		if (i == MAX_RECORDS) {
			u->more += count - i;
			return;
		}
		int k = bs_dns_name(m, n, &pos, name);
		if (k < 0 || n - pos < 10)
			return;
		uint16_t rdlen = bs_be16(m + pos + 8);
		pos += 10;
		if (!update_name(u, name, (size_t)k))
			u->more++;
		if (rdlen > n - pos)
			return;
		pos += rdlen;
	}
}

/* The names of the UPDATE query q, kept until it is reported. */
static void update_keep(struct bs_dns *p, const struct bs_dns_query *q, const struct bs_dns_update *names)
{
	struct bs_dns_update *slot = NULL;
	for (size_t i = 0; i < BS_DNS_UPDATE_SLOTS; i++) {
		struct bs_dns_update *u = &p->updates[i];
		if (u->query_seq == q->seq || !u->query_seq) {
			slot = u;
			break;
		}
		if (!slot || u->query_seq < slot->query_seq)
			slot = u;
	}
	if (slot->query_seq && slot->query_seq != q->seq)
		p->update_names_dropped++;
	*slot = *names;
	slot->query_seq = q->seq;
}

/* The kept names of query q onto its event; the slot is free again once
 * the event is emitted (the caller emits at once). */
static void update_attach(struct bs_dns *p, const struct bs_dns_query *q, struct bs_ev_dns *d)
{
	for (size_t i = 0; i < BS_DNS_UPDATE_SLOTS; i++) {
		struct bs_dns_update *u = &p->updates[i];
		if (u->query_seq != q->seq)
			continue;
		for (size_t k = 0; k < u->nnames; k++)
			d->updates[k] = bs_str_make(u->pool + u->off[k], u->len[k]);
		d->nupdates = u->nnames;
		d->updates_more = u->more;
		u->query_seq = 0;
		return;
	}
}

static void emit_unanswered(struct bs_dns *p, const struct bs_proto_ctx *c, struct bs_dns_query *q)
{
	struct bs_event ev;
	bs_proto_event(c, &ev, BS_EV_DNS);
	ev.src = q->cli;
	ev.dst = q->srv;
	ev.sport = q->cport;
	ev.dport = q->sport;
	ev.ts = q->ts;
	ev.origin.input = q->input;
	if (!c->flow_id) /* a datagram's flow is its own file */
		ev.origin.flow_input = q->input;
	ev.origin.ref = q->pktno;
	ev.u.dns.qname = bs_str_make(q->qname, q->qname_len);
	ev.u.dns.qtype = q->qtype;
	ev.u.dns.rcode = -1;
	update_attach(p, q, &ev.u.dns);
	bs_emit(c->sink, &ev);
	q->used = false;
}

/* The querier's endpoint of a message: the sender of a query, the receiver of a response. */
static void querier(const struct bs_proto_ctx *c, bool from_cli, bs_ip *ip, uint16_t *port)
{
	*ip = from_cli ? c->cli : c->srv;
	*port = from_cli ? c->cport : c->sport;
}

/* A resolver retries a query for seconds (Windows: 1, 1, 2, 4 s; glibc: 5 s
 * twice), never minutes: the same id, port and name later is a new query,
 * and the old one went unanswered (rotated captures of one link hold the
 * same query a year apart). */
#define DNS_RETRY_WINDOW (30 * BS_USEC)

static bool query_stale(const struct bs_dns_query *q, bs_time now)
{
	return now != BS_TIME_NONE && q->ts != BS_TIME_NONE &&
	       (now - q->ts > DNS_RETRY_WINDOW || q->ts - now > DNS_RETRY_WINDOW);
}

static struct bs_dns_query *find_query(struct bs_dns *p, const bs_ip *ip, uint16_t port, uint16_t id,
                                       const char *qname, size_t qn)
{
	for (size_t i = 0; i < p->npending; i++) {
		struct bs_dns_query *q = &p->pending[i];
		if (q->used && q->id == id && q->cport == port && bs_ip_eq(&q->cli, ip) &&
		    (!qname || name_ieq(q->qname, q->qname_len, qname, qn)))
			return q;
	}
	return NULL;
}

/* The pending query a message continues, or NULL; one past the retry
 * window is reported unanswered and freed. */
static struct bs_dns_query *find_live_query(struct bs_dns *p, const struct bs_proto_ctx *c, const bs_ip *ip,
                                            uint16_t port, uint16_t id, const char *qname, size_t qn)
{
	struct bs_dns_query *q = find_query(p, ip, port, id, qname, qn);
	if (q && query_stale(q, c->ts)) {
		emit_unanswered(p, c, q);
		return NULL;
	}
	return q;
}

static struct bs_dns_query *add_query(struct bs_dns *p, const struct bs_proto_ctx *c, int dir, uint16_t id,
                                      uint16_t qtype, const char *qname, size_t qn)
{
	bs_ip ip;
	uint16_t port;
	querier(c, dir == 0, &ip, &port);
	struct bs_dns_query *known = find_live_query(p, c, &ip, port, id, qname, qn);
	if (known)
		return known; /* a retransmission */
	struct bs_dns_query *slot = NULL, *oldest = NULL;
	for (size_t i = 0; i < p->npending && !slot; i++) {
		struct bs_dns_query *q = &p->pending[i];
		if (!q->used)
			slot = q;
		else if (!oldest || q->seq < oldest->seq)
			oldest = q;
	}
	if (!slot) {
		/* table full: the oldest is reported unanswered */
		p->evicted++;
		emit_unanswered(p, c, oldest);
		slot = oldest;
	}
	slot->used = true;
	slot->dir = (uint8_t)dir;
	slot->cli = ip;
	slot->cport = port;
	querier(c, dir != 0, &slot->srv, &slot->sport);
	slot->id = id;
	slot->qtype = qtype;
	memcpy(slot->qname, qname, qn + 1);
	slot->qname_len = (uint8_t)qn;
	slot->ts = c->ts;
	slot->pktno = c->pktno;
	slot->input = c->input;
	slot->seq = ++p->seq;
	return slot;
}

/* Answers of a response: A/AAAA addresses and the first CNAME target. */
static bool read_answers(const uint8_t *m, size_t n, size_t pos, unsigned ancount, struct bs_ev_dns *d,
                         char *cname)
{
	char scratch[BS_DNS_NAME_MAX + 1];
	if (ancount > MAX_RECORDS)
		ancount = MAX_RECORDS;
	for (unsigned i = 0; i < ancount; i++) {
		if (bs_dns_name(m, n, &pos, scratch) < 0 || n - pos < 10)
			return false;
		uint16_t type = bs_be16(m + pos), rdlen = bs_be16(m + pos + 8);
		pos += 10;
		if (rdlen > n - pos)
			return false;
		if (type == TYPE_A && rdlen == 4 && d->nanswers < BS_DNS_MAX_ANS) {
			bs_ip *ip = &d->answers[d->nanswers++];
			memset(ip, 0, sizeof *ip);
			ip->family = 4;
			memcpy(ip->a, m + pos, 4);
		} else if (type == TYPE_AAAA && rdlen == 16 && d->nanswers < BS_DNS_MAX_ANS) {
			bs_ip *ip = &d->answers[d->nanswers++];
			ip->family = 6;
			memcpy(ip->a, m + pos, 16);
		} else if (type == TYPE_CNAME && d->cname.n == 0) {
			size_t cpos = pos;
			int k = bs_dns_name(m, pos + rdlen, &cpos, cname);
			if (k > 0)
				d->cname = bs_str_make(cname, (size_t)k);
		}
		pos += rdlen;
	}
	return true;
}

/* Skip count resource records from *pos; false when they are cut or broken. */
static bool skip_records(const uint8_t *m, size_t n, size_t *pos, unsigned count)
{
	char scratch[BS_DNS_NAME_MAX + 1];
	for (unsigned i = 0; i < count && i < MAX_RECORDS; i++) {
		if (bs_dns_name(m, n, pos, scratch) < 0 || n - *pos < 10)
			return false;
		uint16_t rdlen = bs_be16(m + *pos + 8);
		*pos += 10;
		if (rdlen > n - *pos)
			return false;
		*pos += rdlen;
	}
	return true;
}

/* The owner name and type of the record at pos (the names an UPDATE sets,
 * the names an mDNS announcement gives); -1 when broken. */
static int record_owner(const uint8_t *m, size_t n, size_t pos, char *name, uint16_t *type)
{
	int k = bs_dns_name(m, n, &pos, name);
	if (k < 0 || n - pos < 10)
		return -1;
	*type = bs_be16(m + pos);
	return k;
}

/* A message without a question: a response whose answers stand alone (mDNS
 * announcements, RFC 6762 section 8.3) is reported under the owner name of
 * its first record, not counted as malformed. */
static void answers_only(struct bs_dns *p, const struct bs_proto_ctx *c, int dir, const uint8_t *m, size_t n,
                         unsigned ancount, unsigned flags)
{
	char qname[BS_DNS_NAME_MAX + 1], cname[BS_DNS_NAME_MAX + 1];
	uint16_t qtype = 0;
	int qn = ancount ? record_owner(m, n, 12, qname, &qtype) : -1;
	if (qn < 0) {
		p->malformed++;
		return;
	}
	struct bs_event ev;
	dns_event(c, &ev, dir); /* no querier: src is the host that announces */
	struct bs_ev_dns *d = &ev.u.dns;
	d->qname = bs_str_make(qname, (size_t)qn);
	d->qtype = qtype;
	d->rcode = (int)(flags & 0xf);
	if (!read_answers(m, n, 12, ancount, d, cname))
		p->malformed++;
	bs_emit(c->sink, &ev);
}

static void message(struct bs_dns *p, const struct bs_proto_ctx *c, int dir, const uint8_t *m, size_t n)
{
	char qname[BS_DNS_NAME_MAX + 1], cname[BS_DNS_NAME_MAX + 1];
	p->messages++;
	if (n < 12) {
		p->malformed++;
		return;
	}
	uint16_t id = bs_be16(m), flags = bs_be16(m + 2), qdcount = bs_be16(m + 4), ancount = bs_be16(m + 6);
	bool response = (flags & 0x8000) != 0;
	unsigned opcode = (flags >> 11) & 0xf;
	size_t pos = 12;
	if (qdcount == 0) {
		if (opcode == 0 && response)
			answers_only(p, c, dir, m, n, ancount, flags);
		else if (opcode == 0)
			p->malformed++; /* NOTIFY/UPDATE may have none: nothing to pair */
		return;
	}
	int qn = bs_dns_name(m, n, &pos, qname);
	if (qn < 0 || n - pos < 4) {
		p->malformed++;
		return;
	}
	uint16_t qtype = bs_be16(m + pos);
	pos += 4;
	/* further questions (almost never sent) are skipped */
	for (unsigned i = 1; i < qdcount && i < MAX_RECORDS; i++) {
		char skip[BS_DNS_NAME_MAX + 1];
		if (bs_dns_name(m, n, &pos, skip) < 0 || n - pos < 4) {
			p->malformed++;
			return;
		}
		pos += 4;
	}
	if (opcode == OPCODE_UPDATE && !response) {
		/* RFC 2136: the question is the zone; the names updated are the
		 * owners of the update section, after the prerequisites. The
		 * first one is what the query waits under. */
		size_t upos = pos;
		uint16_t utype;
		int un = -1;
		if (skip_records(m, n, &upos, ancount) && bs_be16(m + 8) > 0)
			un = record_owner(m, n, upos, qname, &utype);
		if (un >= 0) {
			qn = un;
			qtype = utype;
			struct bs_dns_update names;
			update_names(m, n, upos, bs_be16(m + 8), &names);
			update_keep(p, add_query(p, c, dir, id, qtype, qname, (size_t)qn), &names);
			return;
		}
	}
	if (!response) {
		add_query(p, c, dir, id, qtype, qname, (size_t)qn);
		return;
	}
	bs_ip qip;
	uint16_t qport;
	querier(c, dir == 1, &qip, &qport);
	/* an UPDATE response names the zone: its query is found by id alone */
	struct bs_dns_query *q = find_live_query(p, c, &qip, qport, id, opcode == OPCODE_UPDATE ? NULL : qname, (size_t)qn);
	if (q && opcode == OPCODE_UPDATE) {
		memcpy(qname, q->qname, q->qname_len + 1u);
		qn = q->qname_len;
		qtype = q->qtype;
	}
	struct bs_event ev;
	dns_event(c, &ev, dir == 1 ? 0 : 1);
	struct bs_ev_dns *d = &ev.u.dns;
	if (q && opcode == OPCODE_UPDATE)
		update_attach(p, q, d);
	d->qname = bs_str_make(qname, (size_t)qn);
	d->qtype = qtype;
	d->rcode = flags & 0xf;
	if (!read_answers(m, n, pos, ancount, d, cname))
		p->malformed++; /* answers cut or broken: what was read is kept */
	if (q)
		q->used = false;
	bs_emit(c->sink, &ev);
}

enum bs_dns_err bs_dns_feed(struct bs_dns *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	message(p, c, dir ? 1 : 0, b, n);
	return BS_DNS_OK;
}

enum bs_dns_err bs_dns_feed_tcp(struct bs_dns *p, struct bs_proto_ctx *c, int dir, const uint8_t *b, size_t n)
{
	dir = dir ? 1 : 0;
	struct bs_dns_tcp *t = &p->tcp[dir];
	if (n > 0 && p->last_dir != dir && t->state == BS_DNS_T_DESYNC) {
		/* a turn of the conversation starts a new message */
		t->state = BS_DNS_T_LEN;
		t->lenb_have = 0;
	}
	if (n > 0)
		p->last_dir = dir;
	while (n > 0) {
		switch (t->state) {
		case BS_DNS_T_DESYNC:
			return BS_DNS_OK;
		case BS_DNS_T_LEN:
			t->lenb[t->lenb_have++] = *b++;
			n--;
			if (t->lenb_have == 2) {
				t->msg_len = bs_be16(t->lenb);
				t->lenb_have = 0;
				t->have = 0;
				if (t->msg_len > 0)
					t->state = BS_DNS_T_MSG;
				else
					p->malformed++;
			}
			break;
		case BS_DNS_T_MSG: {
			size_t k = (size_t)t->msg_len - t->have;
			if (k > n)
				k = n;
			if (t->have < BS_DNS_TCP_BUF) {
				size_t keep = BS_DNS_TCP_BUF - t->have < k ? BS_DNS_TCP_BUF - t->have : k;
				memcpy(t->buf + t->have, b, keep);
			}
			t->have += k;
			b += k;
			n -= k;
			if (t->have == t->msg_len) {
				size_t kept = t->have < BS_DNS_TCP_BUF ? t->have : BS_DNS_TCP_BUF;
				if (kept < t->have)
					p->truncated++;
				message(p, c, dir, t->buf, kept);
				t->state = BS_DNS_T_LEN;
			}
			break;
		}
		}
	}
	return BS_DNS_OK;
}

void bs_dns_gap(struct bs_dns *p, struct bs_proto_ctx *c, int dir, uint64_t n)
{
	(void)c;
	(void)n;
	p->tcp[dir ? 1 : 0].state = BS_DNS_T_DESYNC;
}

void bs_dns_end(struct bs_dns *p, struct bs_proto_ctx *c)
{
	/* unanswered queries, oldest first */
	for (;;) {
		struct bs_dns_query *oldest = NULL;
		for (size_t i = 0; i < p->npending; i++)
			if (p->pending[i].used && (!oldest || p->pending[i].seq < oldest->seq))
				oldest = &p->pending[i];
		if (!oldest)
			break;
		emit_unanswered(p, c, oldest);
	}
}

const char *bs_dns_strerror(enum bs_dns_err e)
{
	return e == BS_DNS_OK ? "ok" : "unknown DNS error";
}

static bool dns_tcp_sniff(int dir, const uint8_t *b, size_t n)
{
	/* length prefix, then a header with one question and a sane flags word */
	return n >= 14 && bs_be16(b) >= 12 && bs_be16(b + 6) == 1 && ((b[4] >> 3) & 0xf) == 0 && dir == (b[4] >> 7);
}

static void def_init(void *s) { bs_dns_init(s, BS_DNS_PENDING_UDP); }
static void def_init_tcp(void *s) { bs_dns_init(s, BS_DNS_PENDING_TCP); }
static int def_feed(void *s, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n) { return (int)bs_dns_feed(s, c, dir, p, n); }
static int def_feed_tcp(void *s, struct bs_proto_ctx *c, int dir, const uint8_t *p, size_t n) { return (int)bs_dns_feed_tcp(s, c, dir, p, n); }
static void def_gap(void *s, struct bs_proto_ctx *c, int dir, uint64_t n) { bs_dns_gap(s, c, dir, n); }
static void def_end(void *s, struct bs_proto_ctx *c) { bs_dns_end(s, c); }
static const char *def_strerror(int e) { return bs_dns_strerror((enum bs_dns_err)e); }

const struct bs_proto_def bs_proto_dns = {
	.name = "dns", .ports = { 53, 5353 /* mDNS */, 0 }, .sniff = NULL, .state_size = BS_DNS_SIZE(BS_DNS_PENDING_UDP),
	.init = def_init, .feed = def_feed, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = true,
};

const struct bs_proto_def bs_proto_dns_tcp = {
	.name = "dns", .ports = { 53, 0 }, .sniff = dns_tcp_sniff, .state_size = BS_DNS_SIZE(BS_DNS_PENDING_TCP),
	.init = def_init_tcp, .feed = def_feed_tcp, .gap = def_gap, .end = def_end, .strerror = def_strerror,
	.udp = false,
};

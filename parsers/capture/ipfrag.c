/* ipfrag.c - IP fragment reassembly: first copy wins, bounded in bytes and time. */
#include "config.h"
#include "parsers/capture/ipfrag.h"

#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024u

struct range {
	uint32_t a, b; /* [a, b) */
};

struct dgram {
	struct dgram *hnext;
	struct dgram *older, *newer; /* age list: oldest first */
	struct bs_ipfrag_key key;
	uint64_t hash;
	bs_time first;
	bool total_known, have_first;
	uint8_t next_proto;
	uint32_t total;
	uint32_t npieces;
	struct range pieces[BS_IPFRAG_MAX_PIECES]; /* received ranges, sorted, disjoint, not touching */
	uint8_t *buf;
	uint32_t cap;
};

struct bs_ipfrag {
	size_t max_bytes, held;
	int64_t timeout;
	struct dgram *buckets[NBUCKETS];
	struct dgram *oldest, *newest;
	uint8_t *done_buf; /* the last completed datagram, freed at the next call */
	struct bs_ipfrag_counters cnt;
};

static size_t dgram_cost(const struct dgram *g)
{
	return sizeof *g + g->cap;
}

static uint64_t key_hash(const struct bs_ipfrag_key *k)
{
	uint64_t h = bs_ip_hash(&k->src) * 31 + bs_ip_hash(&k->dst);
	return bs_hash_bytes(&k->id, sizeof k->id, h ^ k->proto);
}

static bool key_eq(const struct bs_ipfrag_key *x, const struct bs_ipfrag_key *y)
{
	return x->id == y->id && x->proto == y->proto && bs_ip_eq(&x->src, &y->src) &&
	       bs_ip_eq(&x->dst, &y->dst);
}

struct bs_ipfrag *bs_ipfrag_new(size_t max_bytes, int64_t timeout_usec)
{
	struct bs_ipfrag *f = bs_xcalloc(1, sizeof *f);
	f->max_bytes = max_bytes;
	f->timeout = timeout_usec;
	return f;
}

static void dgram_remove(struct bs_ipfrag *f, struct dgram *g)
{
	struct dgram **pp = &f->buckets[g->hash % NBUCKETS];
	while (*pp != g)
		pp = &(*pp)->hnext;
	*pp = g->hnext;
	if (g->older)
		g->older->newer = g->newer;
	else
		f->oldest = g->newer;
	if (g->newer)
		g->newer->older = g->older;
	else
		f->newest = g->older;
	f->held -= dgram_cost(g);
	free(g->buf);
	free(g);
}

static void dgram_drop(struct bs_ipfrag *f, struct dgram *g)
{
	f->cnt.dropped++;
	dgram_remove(f, g);
}

void bs_ipfrag_expire(struct bs_ipfrag *f, bs_time now)
{
	while (f->oldest && now - f->oldest->first > f->timeout)
		dgram_drop(f, f->oldest);
}

/* Make room for `need` more bytes by dropping the oldest datagrams other than keep. */
static bool make_room(struct bs_ipfrag *f, size_t need, const struct dgram *keep)
{
	while (f->held + need > f->max_bytes) {
		struct dgram *victim = f->oldest;
		if (victim == keep)
			victim = victim->newer;
		if (!victim)
			return false;
		dgram_drop(f, victim);
	}
	return true;
}

static struct dgram *dgram_find(struct bs_ipfrag *f, const struct bs_ipfrag_key *k, uint64_t h)
{
	for (struct dgram *g = f->buckets[h % NBUCKETS]; g; g = g->hnext)
		if (g->hash == h && key_eq(&g->key, k))
			return g;
	return NULL;
}

static struct dgram *dgram_new(struct bs_ipfrag *f, const struct bs_ipfrag_key *k, uint64_t h, bs_time ts)
{
	if (!make_room(f, sizeof(struct dgram), NULL))
		return NULL;
	struct dgram *g = bs_xcalloc(1, sizeof *g);
	g->key = *k;
	g->hash = h;
	g->first = ts;
	g->hnext = f->buckets[h % NBUCKETS];
	f->buckets[h % NBUCKETS] = g;
	g->older = f->newest;
	if (f->newest)
		f->newest->newer = g;
	else
		f->oldest = g;
	f->newest = g;
	f->held += dgram_cost(g);
	return g;
}

static bool grow(struct bs_ipfrag *f, struct dgram *g, uint32_t end)
{
	if (end <= g->cap)
		return true;
	uint32_t cap = (end + 2047u) & ~2047u;
	if (cap > BS_IPFRAG_MAX_DATAGRAM)
		cap = BS_IPFRAG_MAX_DATAGRAM;
	if (!make_room(f, cap - g->cap, g))
		return false;
	g->buf = bs_xrealloc(g->buf, cap);
	f->held += cap - g->cap;
	g->cap = cap;
	return true;
}

/* Copy the bytes of [s, e) that no earlier fragment brought; merge the range.
 * Returns false when the datagram would need too many ranges. */
static bool add_range(struct dgram *g, uint32_t s, uint32_t e, const uint8_t *p, bool *overlap)
{
	if (s == e && g->npieces)
		return true; /* an empty fragment adds nothing */
	uint32_t pos = s;
	for (uint32_t i = 0; i < g->npieces && pos < e; i++) {
		struct range r = g->pieces[i];
		if (r.b <= pos)
			continue;
		if (r.a >= e)
			break;
		if (r.a > pos)
			memcpy(g->buf + pos, p + (pos - s), r.a - pos);
		*overlap = true;
		pos = r.b;
	}
	if (pos < e)
		memcpy(g->buf + pos, p + (pos - s), e - pos);

	struct range merged[BS_IPFRAG_MAX_PIECES + 1];
	uint32_t n = 0;
	bool placed = false;
	for (uint32_t i = 0; i <= g->npieces; i++) {
		struct range r;
		if (i == g->npieces) {
			if (placed)
				break;
			r = (struct range){ s, e };
			placed = true;
		} else if (!placed && s < g->pieces[i].a) {
			r = (struct range){ s, e };
			placed = true;
			i--;
		} else {
			r = g->pieces[i];
		}
		if (n && r.a <= merged[n - 1].b) {
			if (r.b > merged[n - 1].b)
				merged[n - 1].b = r.b;
		} else {
			merged[n++] = r;
		}
	}
	if (n > BS_IPFRAG_MAX_PIECES)
		return false;
	memcpy(g->pieces, merged, n * sizeof merged[0]);
	g->npieces = n;
	return true;
}

enum bs_ipfrag_result bs_ipfrag_add(struct bs_ipfrag *f, const struct bs_ipfrag_key *k,
                                    uint32_t offset, bool more, uint8_t next_proto,
                                    const uint8_t *p, size_t n, bs_time ts,
                                    struct bs_ipfrag_done *out)
{
	free(f->done_buf);
	f->done_buf = NULL;
	bs_ipfrag_expire(f, ts);
	f->cnt.fragments++;

	uint64_t h = key_hash(k);
	struct dgram *g = dgram_find(f, k, h);
	if (offset > BS_IPFRAG_MAX_DATAGRAM || n > BS_IPFRAG_MAX_DATAGRAM - offset) {
		if (g)
			dgram_remove(f, g);
		f->cnt.dropped++;
		return BS_FRAG_DROPPED;
	}
	uint32_t s = offset, e = offset + (uint32_t)n;
	if (!g) {
		g = dgram_new(f, k, h, ts);
		if (!g) {
			f->cnt.dropped++;
			return BS_FRAG_DROPPED;
		}
	}
	/* The last fragment fixes the length; anything disagreeing with it is
	 * not a datagram we can rebuild honestly. */
	bool bad = false;
	if (!more) {
		if (g->total_known && g->total != e)
			bad = true;
		if (g->npieces && g->pieces[g->npieces - 1].b > e)
			bad = true;
		g->total_known = true;
		g->total = e;
	} else if (g->total_known && e > g->total) {
		bad = true;
	}
	bool overlap = false;
	if (bad || !grow(f, g, e) || !add_range(g, s, e, p, &overlap)) {
		dgram_drop(f, g);
		return BS_FRAG_DROPPED;
	}
	if (overlap)
		f->cnt.overlaps++;
	if (offset == 0) {
		g->have_first = true;
		g->next_proto = next_proto;
	}
	if (!(g->total_known && g->have_first && g->npieces == 1 && g->pieces[0].a == 0 &&
	      g->pieces[0].b == g->total))
		return BS_FRAG_HELD;

	f->cnt.reassembled++;
	out->p = g->buf ? g->buf : (const uint8_t *)"";
	out->n = g->total;
	out->next_proto = g->next_proto;
	f->done_buf = g->buf;
	g->buf = NULL; /* handed over to done_buf; dgram_remove frees NULL */
	f->held -= g->cap;
	g->cap = 0;
	dgram_remove(f, g);
	return BS_FRAG_DONE;
}

size_t bs_ipfrag_held_bytes(const struct bs_ipfrag *f)
{
	return f->held;
}

const struct bs_ipfrag_counters *bs_ipfrag_counters(const struct bs_ipfrag *f)
{
	return &f->cnt;
}

void bs_ipfrag_drop_all(struct bs_ipfrag *f)
{
	while (f->oldest)
		dgram_drop(f, f->oldest);
}

void bs_ipfrag_free(struct bs_ipfrag *f)
{
	if (!f)
		return;
	bs_ipfrag_drop_all(f);
	free(f->done_buf);
	free(f);
}

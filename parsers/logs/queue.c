/* queue.c - the bounded table of open messages by queue id (queue.h).
 *
 * Index: open addressing with linear probing over pool indices, at most half
 * full, deletion by backward shift (no tombstones). Age: a doubly linked list
 * of the open messages, oldest first. */
#include "config.h"
#include "parsers/logs/queue.h"
#include "src/core/bytes.h"

#include <stdlib.h>
#include <string.h>

#define HASH_ORDER_BUCKETS 4096

static struct bs_queue_msg *msg_at(const struct bs_queue *q, int32_t i)
{
	return (struct bs_queue_msg *)(void *)(q->pool + (size_t)i * q->def->msg_size);
}

static int32_t index_of(const struct bs_queue *q, const struct bs_queue_msg *m)
{
	return (int32_t)(((const char *)m - q->pool) / (ptrdiff_t)q->def->msg_size);
}

/* The bytes of an id shorter than 8 as one number. */
static uint64_t short_word(bs_str s)
{
	uint64_t w = 0;
	for (size_t i = 0; i < s.n; i++)
		w = w << 8 | (unsigned char)s.p[i];
	return w;
}

/* The slot a queue id hashes to: all its bytes eight at a time (the tail
 * as one short word) and its length, a multiply per word, where
 * bs_hash_bytes takes one per byte (several lookups per log line). Every
 * byte counts: ids alike but in their middle (Postfix's long ids accept
 * that) must not share a slot, or crafted ones make every lookup walk them
 * all. Where slots are the flush order (BS_QUEUE_SLOT_ORDER) they stay
 * bs_hash_bytes': that order is output. */
static uint32_t home_slot(const struct bs_queue *q, bs_str qid)
{
	if (q->def->flush_order == BS_QUEUE_SLOT_ORDER)
		return (uint32_t)bs_hash_bytes(qid.p, qid.n, q->def->seed) & (q->nslots - 1);
	const uint8_t *p = (const uint8_t *)qid.p;
	uint64_t h = qid.n ^ q->def->seed;
	size_t i = 0;
	for (; i + 8 <= qid.n; i += 8) {
		h = (h ^ bs_le64(p + i)) * UINT64_C(0x9E3779B97F4A7C15);
		h ^= h >> 29;
	}
	if (i < qid.n)
		h = (h ^ short_word(bs_str_make(qid.p + i, qid.n - i))) * UINT64_C(0x9E3779B97F4A7C15);
	h *= UINT64_C(0xff51afd7ed558ccd);
	return (uint32_t)(h >> 32) & (q->nslots - 1);
}

static void slots_clear(int32_t *slots, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		slots[i] = -1;
}

void bs_queue_init(struct bs_queue *q, const struct bs_queue_def *def, void *owner)
{
	memset(q, 0, sizeof *q);
	q->def = def;
	q->owner = owner;
	q->nslots = 256;
	q->slots = bs_xmalloc(q->nslots * sizeof *q->slots);
	slots_clear(q->slots, q->nslots);
	q->free_head = q->oldest = q->newest = -1;
}

void bs_queue_free(struct bs_queue *q)
{
	if (q->def->release)
		for (int32_t i = 0; i < q->npool; i++)
			q->def->release(msg_at(q, i));
	free(q->pool);
	free(q->slots);
	q->pool = NULL;
	q->slots = NULL;
}

static void slot_put(struct bs_queue *q, int32_t i)
{
	uint32_t s = home_slot(q, bs_queue_qid(msg_at(q, i)));
	while (q->slots[s] >= 0)
		s = (s + 1) & (q->nslots - 1);
	q->slots[s] = i;
}

/* Double the index, re-placing the messages in the order of the old slots. */
static void slots_grow(struct bs_queue *q)
{
	int32_t *old = q->slots;
	uint32_t n = q->nslots;
	q->nslots *= 2;
	q->slots = bs_xmalloc(q->nslots * sizeof *q->slots);
	slots_clear(q->slots, q->nslots);
	for (uint32_t s = 0; s < n; s++)
		if (old[s] >= 0)
			slot_put(q, old[s]);
	free(old);
}

struct bs_queue_msg *bs_queue_find(struct bs_queue *q, bs_str qid)
{
	for (uint32_t s = home_slot(q, qid);; s = (s + 1) & (q->nslots - 1)) {
		int32_t i = q->slots[s];
		if (i < 0)
			return NULL;
		struct bs_queue_msg *m = msg_at(q, i);
		if (m->qid_n == qid.n && memcmp(m->qid, qid.p, qid.n) == 0)
			return m;
	}
}

/* Remove from the index (backward shift), the age list, and put on the free list. */
void bs_queue_forget(struct bs_queue *q, struct bs_queue_msg *m)
{
	int32_t idx = index_of(q, m);
	uint32_t mask = q->nslots - 1, i = home_slot(q, bs_queue_qid(m)), j;
	while (q->slots[i] != idx)
		i = (i + 1) & mask;
	q->slots[i] = -1;
	for (j = i;;) {
		j = (j + 1) & mask;
		if (q->slots[j] < 0)
			break;
		uint32_t home = home_slot(q, bs_queue_qid(msg_at(q, q->slots[j])));
		bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			q->slots[i] = q->slots[j];
			q->slots[j] = -1;
			i = j;
		}
	}
	if (m->older >= 0)
		msg_at(q, m->older)->newer = m->newer;
	else
		q->oldest = m->newer;
	if (m->newer >= 0)
		msg_at(q, m->newer)->older = m->older;
	else
		q->newest = m->older;
	m->newer = q->free_head;
	q->free_head = idx;
	q->open--;
}

/* Exim's earlier table flushed bucket by bucket of a 4096-bucket hash, each
 * bucket's newest message first: a counting sort of the age list, walked
 * from the newest, by bucket. */
static void flush_by_hash(struct bs_queue *q, const struct bs_line_ctx *c)
{
	uint32_t *start = bs_xcalloc(HASH_ORDER_BUCKETS + 1, sizeof *start);
	int32_t *order = bs_xmalloc((size_t)q->open * sizeof *order);
	for (int32_t i = q->newest; i >= 0; i = msg_at(q, i)->older) {
		bs_str qid = bs_queue_qid(msg_at(q, i));
		start[(bs_hash_bytes(qid.p, qid.n, q->def->seed) & (HASH_ORDER_BUCKETS - 1)) + 1]++;
	}
	for (uint32_t b = 0; b < HASH_ORDER_BUCKETS; b++)
		start[b + 1] += start[b];
	for (int32_t i = q->newest; i >= 0; i = msg_at(q, i)->older) {
		bs_str qid = bs_queue_qid(msg_at(q, i));
		order[start[bs_hash_bytes(qid.p, qid.n, q->def->seed) & (HASH_ORDER_BUCKETS - 1)]++] = i;
	}
	for (int32_t k = 0; k < q->open; k++)
		q->def->flush(q->owner, c, msg_at(q, order[k]));
	free(order);
	free(start);
}

/* Flush every open message in def->flush_order, then close them all. */
static void flush_all(struct bs_queue *q, const struct bs_line_ctx *c)
{
	switch (q->def->flush_order) {
	case BS_QUEUE_OLDEST_FIRST:
		for (int32_t i = q->oldest; i >= 0; i = msg_at(q, i)->newer)
			q->def->flush(q->owner, c, msg_at(q, i));
		break;
	case BS_QUEUE_SLOT_ORDER:
		for (uint32_t s = 0; s < q->nslots; s++)
			if (q->slots[s] >= 0)
				q->def->flush(q->owner, c, msg_at(q, q->slots[s]));
		break;
	case BS_QUEUE_HASH_ORDER:
		if (q->open)
			flush_by_hash(q, c);
		break;
	}
	q->flushed_unfinished += (uint64_t)q->open;
	for (int32_t i = q->oldest, next; i >= 0; i = next) {
		next = msg_at(q, i)->newer;
		msg_at(q, i)->newer = q->free_head;
		q->free_head = i;
	}
	slots_clear(q->slots, q->nslots);
	q->open = 0;
	q->oldest = q->newest = -1;
}

static void make_room(struct bs_queue *q, const struct bs_line_ctx *c)
{
	if (q->def->when_full == BS_QUEUE_FLUSH_ALL) {
		flush_all(q, c);
		return;
	}
	struct bs_queue_msg *oldest = msg_at(q, q->oldest);
	q->def->flush(q->owner, c, oldest);
	q->flushed_unfinished++;
	bs_queue_forget(q, oldest);
}

struct bs_queue_msg *bs_queue_open(struct bs_queue *q, const struct bs_line_ctx *c, bs_str qid, bool *created)
{
	struct bs_queue_msg *m = bs_queue_find(q, qid);
	*created = !m;
	if (m)
		return m;
	if ((uint32_t)q->open >= q->def->max_open)
		make_room(q, c);
	if ((uint32_t)q->open * 2 >= q->nslots)
		slots_grow(q);
	int32_t i;
	if (q->free_head >= 0) {
		i = q->free_head;
		q->free_head = msg_at(q, i)->newer;
	} else {
		if (q->npool == q->pool_cap) {
			q->pool_cap = q->pool_cap ? q->pool_cap * 2 : 64;
			q->pool = bs_xrealloc(q->pool, (size_t)q->pool_cap * q->def->msg_size);
		}
		i = q->npool++;
		memset(msg_at(q, i), 0, q->def->msg_size);
	}
	m = msg_at(q, i);
	memcpy(m->qid, qid.p, qid.n);
	m->qid_n = (uint8_t)qid.n;
	m->older = q->newest;
	m->newer = -1;
	if (q->newest >= 0)
		msg_at(q, q->newest)->newer = i;
	else
		q->oldest = i;
	q->newest = i;
	slot_put(q, i);
	q->open++;
	return m;
}

uint64_t bs_queue_finish(struct bs_queue *q, const struct bs_line_ctx *c)
{
	flush_all(q, c);
	uint64_t n = q->flushed_unfinished;
	q->flushed_unfinished = 0;
	return n;
}

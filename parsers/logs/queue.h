/* queue.h - the open messages of an MTA, by queue id. Postfix, Sendmail and
 * Exim join the lines of one message by its queue id until the message is
 * done; this is the one bounded table they keep them in.
 *
 * A message record is the MTA's own struct whose first member is a struct
 * bs_queue_msg; records live in a pool that grows by doubling (a pointer is
 * good until the next bs_queue_open) and are recycled, so that in steady
 * state a line allocates nothing. At most def->max_open messages are open:
 * opening one more first flushes, unfinished, either the oldest message
 * (BS_QUEUE_EVICT_OLDEST) or every open message (BS_QUEUE_FLUSH_ALL).
 * Flushing hands each message to def->flush, which emits what it holds, and
 * counts it. */
#ifndef BS_QUEUE_H
#define BS_QUEUE_H

#include "src/core/common.h"

#define BS_QID_MAX 24 /* a queue id is shorter than this */

struct bs_line_ctx;

struct bs_queue_msg {
	char qid[BS_QID_MAX];
	uint8_t qid_n;
	int32_t older, newer; /* age list of open messages; newer links the free list */
};

enum bs_queue_when_full { BS_QUEUE_EVICT_OLDEST, BS_QUEUE_FLUSH_ALL };

/* The order in which a full flush (BS_QUEUE_FLUSH_ALL, bs_queue_finish)
 * hands the open messages to def->flush. Sendmail and Exim keep the order
 * their own tables gave (flushed messages reach the engine in this order and
 * the results must not change); a new MTA takes BS_QUEUE_OLDEST_FIRST. */
enum bs_queue_order {
	BS_QUEUE_OLDEST_FIRST, /* in the order they were opened (Postfix) */
	BS_QUEUE_SLOT_ORDER,   /* in the order of the table's slots (Sendmail) */
	BS_QUEUE_HASH_ORDER,   /* by hash of the id modulo 4096, newest first within one (Exim) */
};

struct bs_queue_def {
	size_t msg_size;  /* sizeof the MTA's record */
	uint32_t max_open;
	uint64_t seed;    /* of the id hash */
	enum bs_queue_when_full when_full;
	enum bs_queue_order flush_order;
	/* Emit a message flushed unfinished (it is forgotten afterwards). */
	void (*flush)(void *owner, const struct bs_line_ctx *c, struct bs_queue_msg *m);
	/* Free what a record owns, for every record made (NULL: nothing). */
	void (*release)(struct bs_queue_msg *m);
};

struct bs_queue {
	const struct bs_queue_def *def;
	void *owner;             /* first argument of def->flush */
	char *pool;              /* records of def->msg_size bytes; indices are stable */
	int32_t npool, pool_cap, free_head;
	int32_t *slots;          /* pool index or -1: open addressing, linear probing */
	uint32_t nslots;         /* power of two */
	int32_t open, oldest, newest;
	uint64_t flushed_unfinished;
};

void bs_queue_init(struct bs_queue *q, const struct bs_queue_def *def, void *owner);
void bs_queue_free(struct bs_queue *q);
static inline bs_str bs_queue_qid(const struct bs_queue_msg *m) { return bs_str_make(m->qid, m->qid_n); }
/* The open message of this id, or NULL. */
struct bs_queue_msg *bs_queue_find(struct bs_queue *q, bs_str qid);
/* The open message of this id, opened if need be (qid.n < BS_QID_MAX); c is
 * the line that opens it, for what a full table flushes. *created says the
 * record is new to this id: the caller sets its own fields then (a recycled
 * record still holds those of its last message, a fresh one zeros). */
struct bs_queue_msg *bs_queue_open(struct bs_queue *q, const struct bs_line_ctx *c, bs_str qid, bool *created);
/* The message is done (or refused): close it without flushing. */
void bs_queue_forget(struct bs_queue *q, struct bs_queue_msg *m);
/* End of input: flush every open message in def->flush_order. Returns how
 * many were flushed unfinished since the last call (full-table flushes too). */
uint64_t bs_queue_finish(struct bs_queue *q, const struct bs_line_ctx *c);

#endif

/* tcpreasm.c - per-direction TCP reassembly: in-order bytes out at once,
 * out-of-order bytes buffered under caps, holes become gaps. A segment whose
 * bytes differ from a buffered copy of the same sequence numbers is dropped
 * whole (first segment wins, as most stacks do): merging byte by byte made
 * names neither copy held ("alry" then "alice" gave "aalry"). */
#include "config.h"
#include "parsers/capture/tcpreasm.h"

#include <stdlib.h>
#include <string.h>
#include "src/core/common.h"

struct bs_tcpseg {
	struct bs_tcpseg *next;
	uint32_t seq;   /* first byte */
	uint32_t len;   /* bytes covered in sequence space */
	uint32_t have;  /* bytes present in data[]; the rest of len was lost by the capture */
	uint8_t data[];
};

/* Memory charged against the caps for one buffered segment: its bytes and its
 * header, so that a flood of one-byte segments is bounded too. */
static size_t seg_cost(const struct bs_tcpseg *s)
{
	return sizeof *s + s->have;
}

/* Offset of seq ahead of the next expected byte, modulo 2^32. */
static inline uint32_t ahead(const struct bs_tcpdir *d, uint32_t seq)
{
	return seq - d->next_seq;
}

void bs_tcpreasm_init(struct bs_tcpreasm *r, size_t max_dir_buffer, size_t max_total_buffer)
{
	memset(r, 0, sizeof *r);
	r->max_dir_buffer = max_dir_buffer;
	r->max_total_buffer = max_total_buffer;
}

void bs_tcpdir_start(struct bs_tcpdir *d, uint32_t seq)
{
	if (d->started)
		return;
	d->started = true;
	d->next_seq = seq;
}

static void emit_gap(struct bs_tcpreasm *r, const struct bs_tcpout *out, uint64_t n)
{
	if (n == 0)
		return;
	r->gaps++;
	r->gap_bytes += n;
	if (out->gap)
		out->gap(out->ctx, n);
}

/* Hand out len bytes at next_seq of which the first have are at p. */
static void emit_inorder(struct bs_tcpreasm *r, struct bs_tcpdir *d, const struct bs_tcpout *out,
                         const uint8_t *p, size_t have, size_t len)
{
	if (have > len)
		have = len;
	if (have && out->data)
		out->data(out->ctx, p, have);
	emit_gap(r, out, len - have);
	d->next_seq += (uint32_t)len;
}

static void check_done(struct bs_tcpdir *d)
{
	if (d->fin_seen && !d->done && (int32_t)(d->next_seq - d->fin_seq) >= 0)
		d->done = true;
}

static void unlink_head(struct bs_tcpreasm *r, struct bs_tcpdir *d)
{
	struct bs_tcpseg *s = d->ooo;
	d->ooo = s->next;
	d->buffered -= seg_cost(s);
	r->total_buffered -= seg_cost(s);
	free(s);
}

/* Release buffered segments that now start at next_seq. */
static void drain(struct bs_tcpreasm *r, struct bs_tcpdir *d, const struct bs_tcpout *out)
{
	while (d->ooo && d->ooo->seq == d->next_seq) {
		struct bs_tcpseg *s = d->ooo;
		emit_inorder(r, d, out, s->data, s->have, s->len);
		unlink_head(r, d);
	}
}

/* Give up waiting for the hole before the first buffered segment. */
static void skip_hole(struct bs_tcpreasm *r, struct bs_tcpdir *d, const struct bs_tcpout *out)
{
	if (!d->ooo)
		return;
	uint32_t hole = ahead(d, d->ooo->seq);
	emit_gap(r, out, hole);
	d->next_seq = d->ooo->seq;
	drain(r, d, out);
}

static void insert_piece(struct bs_tcpreasm *r, struct bs_tcpdir *d, struct bs_tcpseg **link,
                         uint32_t seq, const uint8_t *p, size_t have, size_t len)
{
	struct bs_tcpseg *s = bs_xmalloc(sizeof *s + have);
	s->seq = seq;
	s->len = (uint32_t)len;
	s->have = (uint32_t)have;
	if (have)
		memcpy(s->data, p, have);
	s->next = *link;
	*link = s;
	d->buffered += seg_cost(s);
	r->total_buffered += seg_cost(s);
}

/* Bytes of [from, to) (offsets into the segment) present in a segment that has
 * `have` bytes. */
static size_t present(size_t have, size_t from, size_t to)
{
	if (have <= from)
		return 0;
	return (have < to ? have : to) - from;
}

/* Whether a segment at or after next_seq carries bytes that differ from a
 * buffered copy of the same sequence numbers. */
static bool conflicts_with_buffered(const struct bs_tcpdir *d, uint32_t seq, const uint8_t *p,
                                    size_t have, size_t len)
{
	uint64_t start = ahead(d, seq), end = start + len;
	for (const struct bs_tcpseg *x = d->ooo; x; x = x->next) {
		uint64_t xs = ahead(d, x->seq), xe = xs + x->len;
		if (xs >= end)
			break;
		uint64_t from = xs > start ? xs : start, to = xe < end ? xe : end;
		if (from >= to)
			continue;
		size_t na = (size_t)(from - start), xa = (size_t)(from - xs), n = (size_t)(to - from);
		size_t both = present(have, na, na + n), xhave = present(x->have, xa, xa + n);
		if (memcmp(p + na, x->data + xa, both < xhave ? both : xhave) != 0)
			return true;
	}
	return false;
}

/* Buffer a segment that starts ahead of next_seq and agrees with every
 * buffered byte it overlaps (a repacketised retransmission): it fills the
 * holes between them; a fully repeated segment counts as a retransmission. */
static void buffer_segment(struct bs_tcpreasm *r, struct bs_tcpdir *d, uint32_t seq,
                           const uint8_t *p, size_t have, size_t len)
{
	uint64_t start = ahead(d, seq), end = start + len, pos = start;
	bool overlapped = false, fresh = false;
	struct bs_tcpseg **link = &d->ooo;
	while (*link && pos < end) {
		struct bs_tcpseg *x = *link;
		uint64_t xs = ahead(d, x->seq), xe = xs + x->len;
		if (xe <= pos) {
			link = &x->next;
			continue;
		}
		if (xs >= end)
			break;
		if (xs > pos) {
			size_t a = (size_t)(pos - start), b = (size_t)(xs - start);
			insert_piece(r, d, link, seq + (uint32_t)a, p + a, present(have, a, b), b - a);
			link = &(*link)->next;
			fresh = true;
			pos = xs;
		}
		/* [pos, min(end, xe)) is covered by x: the first copy stays. */
		uint64_t ov_end = end < xe ? end : xe;
		overlapped = true;
		pos = ov_end;
		link = &x->next;
	}
	if (pos < end) {
		size_t a = (size_t)(pos - start);
		insert_piece(r, d, link, seq + (uint32_t)a, p + a, present(have, a, len), len - a);
		fresh = true;
	}
	if (overlapped && !fresh)
		r->retrans++;
}

void bs_tcpreasm_segment(struct bs_tcpreasm *r, struct bs_tcpdir *d, uint32_t seq,
                         const uint8_t *p, size_t have, size_t len, bool fin,
                         const struct bs_tcpout *out)
{
	if (have > len)
		have = len;
	/* A segment can never cover more than half the sequence space. */
	if (len >= (1u << 30))
		return;
	bs_tcpdir_start(d, seq);
	if (fin && !d->fin_seen) {
		d->fin_seen = true;
		d->fin_seq = seq + (uint32_t)len;
	}
	if (len == 0) {
		check_done(d);
		return;
	}
	int32_t off = (int32_t)(seq - d->next_seq);
	if (off <= 0) {
		size_t skip = (size_t)(-(int64_t)off);
		if (skip >= len) {
			r->retrans++; /* everything here was handed out already */
			check_done(d);
			return;
		}
		if (skip)
			r->retrans++; /* the front repeats bytes already handed out */
		p += skip < have ? skip : have;
		have = have > skip ? have - skip : 0;
		len -= skip;
		seq += (uint32_t)skip;
		if (conflicts_with_buffered(d, seq, p, have, len)) {
			r->overlap_conflicts++;
			d->overlap_conflicts++;
			check_done(d);
			return;
		}
		/* Bytes already buffered were seen first: stop before them. */
		size_t now = len;
		if (d->ooo && ahead(d, d->ooo->seq) < now)
			now = ahead(d, d->ooo->seq);
		emit_inorder(r, d, out, p, have < now ? have : now, now);
		if (now < len) {
			size_t h = have > now ? have - now : 0;
			buffer_segment(r, d, seq + (uint32_t)now, p + (have > now ? now : have), h, len - now);
		}
		drain(r, d, out);
	} else if (conflicts_with_buffered(d, seq, p, have, len)) {
		r->overlap_conflicts++;
		d->overlap_conflicts++;
		check_done(d);
		return;
	} else {
		buffer_segment(r, d, seq, p, have, len);
	}
	/* Over a cap: the hole before the buffered data is not going to be
	 * filled in time; skip it so that memory stays bounded. */
	while (d->ooo && (d->buffered > r->max_dir_buffer || r->total_buffered > r->max_total_buffer)) {
		r->cap_flushes++;
		skip_hole(r, d, out);
	}
	check_done(d);
}

void bs_tcpreasm_flush(struct bs_tcpreasm *r, struct bs_tcpdir *d, const struct bs_tcpout *out)
{
	while (d->ooo)
		skip_hole(r, d, out);
	if (d->started && d->fin_seen && !d->done) {
		uint32_t missing = d->fin_seq - d->next_seq;
		if (missing < (1u << 31))
			emit_gap(r, out, missing);
		d->next_seq = d->fin_seq;
		d->done = true;
	}
}

void bs_tcpdir_release(struct bs_tcpreasm *r, struct bs_tcpdir *d)
{
	while (d->ooo)
		unlink_head(r, d);
}

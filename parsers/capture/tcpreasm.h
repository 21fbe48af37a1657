/* tcpreasm.h - one direction of a TCP stream put back in sequence order.
 *
 * The capture engine owns one bs_tcpdir per direction of each flow and one
 * bs_tcpreasm shared by all of them (caps, global buffered bytes, counters).
 * In-order data is handed out straight from the packet (no copy); only
 * segments that arrive ahead of a hole are copied and buffered, and only up to
 * the per-direction and global caps. Holes that are never filled come out as
 * explicit gaps so that the consumer resynchronises instead of reading
 * garbage. Sequence numbers are compared modulo 2^32.
 */
#ifndef BS_TCPREASM_H
#define BS_TCPREASM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct bs_tcpseg; /* a buffered out-of-order segment (private) */

struct bs_tcpdir {
	bool started;            /* next_seq is known (SYN seen, or first segment) */
	bool fin_seen;           /* fin_seq is known */
	bool done;               /* every byte up to the FIN has been handed out */
	uint32_t next_seq;       /* sequence number of the next byte to hand out */
	uint32_t fin_seq;        /* sequence number of the FIN */
	size_t buffered;         /* bytes held in ooo */
	uint32_t overlap_conflicts; /* segments of this direction dropped for differing from a buffered copy */
	struct bs_tcpseg *ooo;   /* buffered segments, sorted by sequence, disjoint */
};

/* Where reassembled bytes go. */
struct bs_tcpout {
	void (*data)(void *ctx, const uint8_t *p, size_t n);
	void (*gap)(void *ctx, uint64_t n);
	void *ctx;
};

struct bs_tcpreasm {
	size_t max_dir_buffer;   /* out-of-order bytes per direction */
	size_t max_total_buffer; /* out-of-order bytes of all directions */
	size_t total_buffered;
	/* counters */
	uint64_t retrans;        /* segments (or parts) that repeated bytes already seen */
	uint64_t overlap_conflicts; /* segments that differed from a buffered copy (dropped whole) */
	uint64_t gaps, gap_bytes;   /* holes handed out as gaps */
	uint64_t cap_flushes;    /* times a cap forced a hole to be skipped */
};

void bs_tcpreasm_init(struct bs_tcpreasm *r, size_t max_dir_buffer, size_t max_total_buffer);

/* Start the direction at seq (the byte after the SYN, or the first byte seen
 * when the stream was picked up mid-way). No-op when already started. */
void bs_tcpdir_start(struct bs_tcpdir *d, uint32_t seq);

/* One segment: its first byte has sequence number seq, it carries len bytes of
 * which the first have are present at p (have < len when the capture cut the
 * packet: the rest is a known loss). fin: the FIN flag (at seq + len). */
void bs_tcpreasm_segment(struct bs_tcpreasm *r, struct bs_tcpdir *d, uint32_t seq,
                         const uint8_t *p, size_t have, size_t len, bool fin,
                         const struct bs_tcpout *out);

/* The flow ends: hand out everything still buffered, skipping holes as gaps,
 * and the missing tail before a FIN as a gap. Frees the buffers. */
void bs_tcpreasm_flush(struct bs_tcpreasm *r, struct bs_tcpdir *d, const struct bs_tcpout *out);

/* Free the buffers without handing anything out. */
void bs_tcpdir_release(struct bs_tcpreasm *r, struct bs_tcpdir *d);

#endif

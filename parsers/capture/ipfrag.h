/* ipfrag.h - IPv4 and IPv6 fragment reassembly under limits.
 *
 * Datagrams are keyed by (source, destination, identification, protocol) and
 * rebuilt from the fragments' payloads (the bytes after the IPv4 header or
 * after the IPv6 Fragment header). Limits: 65535 bytes per datagram, a
 * budget of bytes held for all datagrams, and a timeout in capture time
 * (the caller's ts: the capture engine gives the link's clock, the latest
 * packet time, so that datagrams time out in the order they began).
 * Overlapping fragments: the first copy of a byte wins and the overlap is
 * counted. Whatever a limit throws away is counted as dropped.
 */
#ifndef BS_IPFRAG_H
#define BS_IPFRAG_H

#include "src/core/common.h"

#define BS_IPFRAG_MAX_DATAGRAM 65535u
#define BS_IPFRAG_MAX_PIECES 64 /* distinct ranges per datagram; more is a teardrop-style attack */

struct bs_ipfrag_key {
	bs_ip src, dst;
	uint32_t id;     /* IPv4: 16 bits; IPv6: 32 bits */
	uint8_t proto;   /* IPv4: the protocol; IPv6: 0 (the next header comes from offset 0) */
};

struct bs_ipfrag_counters {
	uint64_t fragments;    /* fragments offered */
	uint64_t reassembled;  /* datagrams completed */
	uint64_t overlaps;     /* fragments that overlapped bytes already held */
	uint64_t dropped;      /* datagrams (or fragments) given up: timeout, budget, size, shape */
};

enum bs_ipfrag_result {
	BS_FRAG_HELD = 0,   /* kept; datagram not complete yet */
	BS_FRAG_DONE,       /* the datagram is complete: see out */
	BS_FRAG_DROPPED,    /* the fragment (and maybe its datagram) was thrown away */
};

struct bs_ipfrag_done {
	const uint8_t *p;   /* the rebuilt payload, valid until the next call */
	size_t n;
	uint8_t next_proto; /* the protocol / next header of the fragment at offset 0 */
};

struct bs_ipfrag;
struct bs_ipfrag *bs_ipfrag_new(size_t max_bytes, int64_t timeout_usec);
/* One fragment: payload bytes p[0..n) at byte offset `offset` of the
 * datagram; more: the More Fragments flag. next_proto: the protocol (IPv4) or
 * the Fragment header's Next Header (IPv6). */
enum bs_ipfrag_result bs_ipfrag_add(struct bs_ipfrag *f, const struct bs_ipfrag_key *k,
                                    uint32_t offset, bool more, uint8_t next_proto,
                                    const uint8_t *p, size_t n, bs_time ts,
                                    struct bs_ipfrag_done *out);
/* Drop datagrams older than the timeout at time now (also done by add). */
void bs_ipfrag_expire(struct bs_ipfrag *f, bs_time now);
/* Give up every pending datagram (end of input); counted as dropped. */
void bs_ipfrag_drop_all(struct bs_ipfrag *f);
size_t bs_ipfrag_held_bytes(const struct bs_ipfrag *f);
const struct bs_ipfrag_counters *bs_ipfrag_counters(const struct bs_ipfrag *f);
void bs_ipfrag_free(struct bs_ipfrag *f); /* pending datagrams are counted as dropped */

#endif

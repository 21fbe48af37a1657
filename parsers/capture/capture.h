/* capture.h - the capture engine: packets from pcap/pcapng files through the
 * link layers, IPv4/IPv6 (fragments reassembled), to TCP streams reassembled
 * in order per direction and UDP datagrams, with flow records.
 *
 * Consumers (the protocol dispatcher, proto.h) see ordered bytes, explicit
 * gaps, and flow open/close; they never see packets. Memory is bounded by the
 * caps in bs_capture_opts; whatever a cap drops is counted.
 */
#ifndef BS_CAPTURE_H
#define BS_CAPTURE_H

#include <stdio.h>
#include "src/core/common.h"
#include "src/core/diag.h"
#include "src/core/event.h"
#include "src/core/stats.h"
#include "src/input/input.h"

struct bs_flow_key {
	bs_ip cli, srv;        /* cli: the side that sent the first SYN (or the first packet seen) */
	uint16_t cport, sport;
	uint8_t proto;         /* 6 or 17 */
};

/* A flow as consumers see it. dir 0 = client to server, 1 = server to client. */
struct bs_cflow {
	struct bs_flow_key key;
	uint64_t id;           /* unique within the input set: ((uint64_t)input << 40) | the
	                        * number of the flow's first packet in that input */
	bool handshake_seen;   /* SYN seen: key.cli really initiated */
	bs_time first, last;
	uint64_t pkts[2], bytes[2]; /* payload bytes delivered per direction */
	const char *app;       /* set by the consumer ("http", ...); static string */
	bool encrypted;        /* set by the consumer: TLS or SSH from the start, or turned to TLS */
	void *user;            /* consumer state */
	size_t user_bytes;     /* bytes the consumer holds for this flow, kept current by it
	                        * (read after each callback): charged against the memory cap */
};

struct bs_stream_ops {
	void (*open)(void *ctx, struct bs_cflow *f);
	void (*data)(void *ctx, struct bs_cflow *f, int dir, const uint8_t *p, size_t n,
	             bs_time ts, uint64_t pktno);
	/* n bytes of this direction were lost (capture loss, eviction, cap). */
	void (*gap)(void *ctx, struct bs_cflow *f, int dir, uint64_t n, bs_time ts, uint64_t pktno);
	/* The flow ended; consumer frees its state (user_bytes counts as 0 after).
	 * The engine emits BS_EV_FLOW after. */
	void (*close)(void *ctx, struct bs_cflow *f, enum bs_flow_end why, bs_time ts);
	/* One UDP datagram; dir relative to the key as for TCP. */
	void (*udp)(void *ctx, const struct bs_flow_key *k, int dir, const uint8_t *p, size_t n,
	            bs_time ts, uint64_t pktno);
};

struct bs_capture_opts {
	uint32_t input;                 /* input index for event origins and flow ids */
	size_t max_flows;               /* open TCP flows (default 1<<20); LRU eviction beyond */
	size_t max_flow_buffer;         /* out-of-order bytes buffered per direction (default 1 MiB) */
	size_t max_total_buffer;        /* all buffered bytes (default 256 MiB) */
	size_t max_frag_bytes;          /* all fragment bytes held (default 64 MiB) */
	bs_time flow_timeout;           /* idle flows closed after this (default 2 hours) */
	size_t memcap;                  /* bytes of flows, buffered segments and consumer state
	                                 * (default BS_CAPTURE_MEMCAP_DEFAULT): above it the least
	                                 * recently used flows are evicted down to 90 % */
	FILE *warn;                     /* one-line warnings (file, packet number); NULL: none */
	const char *name;               /* file name for warnings */
	const struct bs_diag *diag;     /* why a packet is malformed, with its number; NULL: nowhere */
};

struct bs_capture_counters {
	uint64_t packets, ip_fragments, frags_reassembled, frag_overlaps, frag_dropped;
	uint64_t tcp_retrans, tcp_overlap_conflicts, tcp_gaps, tcp_gap_bytes, flows, flows_evicted;
	uint64_t unsupported_linktype;
	uint64_t flows_evicted_memcap;  /* of flows_evicted: by the memory cap */
};

#define BS_CAPTURE_MEMCAP_DEFAULT ((size_t)1 << 30)

struct bs_capture;
struct bs_capture *bs_capture_new(const struct bs_capture_opts *o, const struct bs_stream_ops *ops,
                                  void *ops_ctx, const struct bs_sink *sink);
/* Read a whole capture (pcap or pcapng, already decompressed by the reader).
 * Every record read is counted in st. Damage (a cut record, a bad length) is
 * reported with the packet number in err, st->truncated is set, and every
 * packet before it has been used. Returns false on damage. Flows stay open
 * across calls, so rotated captures of one link continue each other. */
bool bs_capture_read(struct bs_capture *c, struct bs_reader *r, enum bs_format fmt,
                     struct bs_input_stats *st, char *err, size_t errlen);
/* The same from a FILE* of capture bytes (closed by the call). */
bool bs_capture_read_stream(struct bs_capture *c, FILE *f, int fmt, struct bs_input_stats *st,
                            char *err, size_t errlen);
/* One packet, for tests and fuzzers (linktype is a LINKTYPE_ value). */
enum bs_verdict bs_capture_packet(struct bs_capture *c, int linktype, const uint8_t *p,
                                  size_t caplen, size_t origlen, bs_time ts, uint64_t pktno);
/* The next file read continues the same link (a rotated capture): events
 * and flow records name it from now on; open flows go on. */
void bs_capture_set_input(struct bs_capture *c, uint32_t input, const char *name);
/* The latest packet time seen, BS_TIME_NONE before any packet. */
bs_time bs_capture_latest(const struct bs_capture *c);
/* The time of a capture's first packet, read from the start of r (which it
 * consumes); BS_TIME_NONE when there is none or it cannot be found. */
bs_time bs_capture_first_time(struct bs_reader *r, enum bs_format fmt);
/* Close every open flow (end of all inputs): those idle longer than the
 * flow timeout at the latest time seen (bs_capture_set_latest) time out,
 * the rest end at ts (BS_TIME_NONE: the last packet's time). */
void bs_capture_finish(struct bs_capture *c, bs_time ts);
/* A later time the link reached, seen by another engine (split links). */
void bs_capture_set_latest(struct bs_capture *c, bs_time latest);
/* The --debug line of an input whose reading evicted flows (st's counts);
 * nothing when none was. */
void bs_capture_note_evictions(const struct bs_diag *diag, uint32_t input, const struct bs_input_stats *st);

/* Splitting one link across workers (src/cli/split.c). A classifier walks
 * only the link and IP layers of a packet to hash its address pair: the
 * same in both directions, for every packet of a flow, its fragments and
 * the FTP data connections of its control connection. 0 when the packet has
 * no IP address pair (not IP, cut, unsupported link type). The options
 * name the file and the diagnostics path for damage found while reading. */
struct bs_capture *bs_capture_classifier_new(const struct bs_capture_opts *o);
uint64_t bs_capture_pair_hash(struct bs_capture *c, int linktype, const uint8_t *p, size_t caplen,
                              size_t origlen);
/* Reading (bs_capture_read) hands every record, numbered, to fn instead of
 * handling it; the records are not counted in the stats (the receiver
 * counts its verdicts). Damage is still found and reported by the read. */
typedef void (*bs_capture_router_fn)(void *ctx, int linktype, const uint8_t *p, size_t caplen,
                                     size_t origlen, bs_time ts, uint64_t pktno);
void bs_capture_set_router(struct bs_capture *c, bs_capture_router_fn fn, void *ctx);
const struct bs_capture_counters *bs_capture_counters(const struct bs_capture *c);
/* Bytes charged against the memory cap now: flow structures, hash buckets,
 * buffered segments, consumer state (bs_cflow.user_bytes). */
size_t bs_capture_memory(const struct bs_capture *c);
void bs_capture_free(struct bs_capture *c);

#endif

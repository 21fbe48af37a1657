/* pcapng.h - a small push parser of pcapng blocks, for the files libpcap
 * refuses (interfaces of different link types in one file: libpcap issue
 * 1259) and to follow the block structure while libpcap reads, so that the
 * capture engine can take over mid-file without rewinding a stream that may
 * be a gzip pipe.
 *
 * Handles the Section Header Block in both byte orders (a new section resets
 * the interfaces), Interface Description Blocks with if_tsresol and
 * if_tsoffset, Enhanced, Simple and (obsolete) Packet Blocks; any other block
 * is skipped. A bad block length is damage: the parser stops and says where.
 * Bytes may be fed in pieces of any size; a block that arrives whole in one
 * piece is handed out without a copy.
 */
#ifndef BS_PCAPNG_H
#define BS_PCAPNG_H

#include <stdio.h>
#include "src/core/common.h"

#define BS_PCAPNG_MAX_BLOCK (16u << 20) /* libpcap's limit too */
#define BS_PCAPNG_MAX_IFACES 256        /* packets of interfaces beyond this are malformed */

struct bs_pcapng_packet {
	uint32_t iface;          /* interface index in the section */
	int linktype;            /* LINKTYPE_ value of the interface, -1 if the interface is unknown */
	bs_time ts;              /* BS_TIME_NONE for a Simple Packet Block */
	const uint8_t *data;
	size_t caplen, origlen;
	uint64_t block_offset;   /* byte offset of the block in the stream */
};

typedef void (*bs_pcapng_packet_fn)(void *ctx, const struct bs_pcapng_packet *pkt);

struct bs_pcapng;
/* emit_packets false: follow SHB and IDB blocks only (tracking mode). */
struct bs_pcapng *bs_pcapng_new(bool emit_packets, bs_pcapng_packet_fn fn, void *ctx);
void bs_pcapng_set_emit(struct bs_pcapng *g, bool emit_packets);
/* Feed bytes. Returns false once the stream is damaged (see bs_pcapng_error). */
bool bs_pcapng_feed(struct bs_pcapng *g, const uint8_t *p, size_t n);
/* End of the stream: false if it ended inside a block (damage). */
bool bs_pcapng_end(struct bs_pcapng *g);
bool bs_pcapng_at_block_boundary(const struct bs_pcapng *g);
const char *bs_pcapng_error(const struct bs_pcapng *g); /* "" when none */
uint64_t bs_pcapng_offset(const struct bs_pcapng *g); /* bytes fed so far */
/* type of the last complete block (1 IDB, 2 PB, 3 SPB, 6 EPB, 0x0A0D0D0A SHB) */
uint32_t bs_pcapng_last_type(const struct bs_pcapng *g);
uint32_t bs_pcapng_ifaces(const struct bs_pcapng *g);  /* interfaces of the current section */
/* true when two interfaces of the current section have different link types */
bool bs_pcapng_mixed_linktypes(const struct bs_pcapng *g);
void bs_pcapng_free(struct bs_pcapng *g);

#endif

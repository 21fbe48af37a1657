/* pcapng.c - push parser of pcapng blocks (see pcapng.h for why it exists). */
#include "config.h"
#include "parsers/capture/pcapng.h"
#include "src/core/bytes.h"

#include <stdlib.h>
#include <string.h>

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 1u
#define BT_PB 2u  /* obsolete Packet Block */
#define BT_SPB 3u
#define BT_EPB 6u
#define HDR_LEN 12u /* type, length, and the first body word (the SHB byte-order magic) */

struct iface {
	int linktype;
	bool resol_base2;
	uint8_t resol_exp; /* ticks per second: 10^exp or 2^exp */
	int64_t tsoffset;  /* seconds */
	uint32_t snaplen;
};

struct bs_pcapng {
	bool emit;
	bs_pcapng_packet_fn fn;
	void *ctx;
	bool in_section, big_endian, failed, mixed;
	uint8_t hdr[HDR_LEN];
	size_t hdr_have;
	uint32_t block_type, block_len, last_type;
	bool keep;          /* the block's bytes are collected in buf */
	uint8_t *buf;
	size_t buf_cap, buf_have;
	size_t skip_left;   /* bytes of a skipped block still to come */
	uint64_t offset, block_start;
	struct iface ifs[BS_PCAPNG_MAX_IFACES];
	uint32_t nif;
	char err[BS_ERRBUF_SIZE];
};

static uint32_t rd32(const struct bs_pcapng *g, const uint8_t *p)
{
	return g->big_endian ? bs_be32(p) : bs_le32(p);
}

static uint16_t rd16(const struct bs_pcapng *g, const uint8_t *p)
{
	return g->big_endian ? bs_be16(p) : bs_le16(p);
}

static uint64_t rd64(const struct bs_pcapng *g, const uint8_t *p)
{
	return g->big_endian ? bs_be64(p) : bs_le64(p);
}

static bool fail(struct bs_pcapng *g, const char *what, uint64_t value)
{
	snprintf(g->err, sizeof g->err, "pcapng block at byte %llu: %s (%llu)",
	         (unsigned long long)g->block_start, what, (unsigned long long)value);
	g->failed = true;
	return false;
}

struct bs_pcapng *bs_pcapng_new(bool emit_packets, bs_pcapng_packet_fn fn, void *ctx)
{
	struct bs_pcapng *g = bs_xcalloc(1, sizeof *g);
	g->emit = emit_packets;
	g->fn = fn;
	g->ctx = ctx;
	return g;
}

void bs_pcapng_set_emit(struct bs_pcapng *g, bool emit_packets)
{
	g->emit = emit_packets;
}

/* Parse the first HDR_LEN bytes of a block: type, length, byte order. */
static bool parse_header(struct bs_pcapng *g, const uint8_t *h)
{
	uint32_t type = rd32(g, h); /* the SHB type reads the same in both orders */
	if (type == BT_SHB) {
		static const uint8_t be[4] = { 0x1A, 0x2B, 0x3C, 0x4D }, le[4] = { 0x4D, 0x3C, 0x2B, 0x1A };
		if (memcmp(h + 8, be, 4) == 0)
			g->big_endian = true;
		else if (memcmp(h + 8, le, 4) == 0)
			g->big_endian = false;
		else
			return fail(g, "bad byte-order magic", rd32(g, h + 8));
		g->in_section = true;
	} else if (!g->in_section) {
		return fail(g, "not a pcapng stream: first block type", type);
	}
	uint32_t len = rd32(g, h + 4);
	if (len < HDR_LEN || len % 4 || len > BS_PCAPNG_MAX_BLOCK || (type == BT_SHB && len < 28))
		return fail(g, "bad block length", len);
	g->block_type = type;
	g->block_len = len;
	g->keep = type == BT_SHB || type == BT_IDB ||
	          (g->emit && (type == BT_EPB || type == BT_SPB || type == BT_PB));
	return true;
}

static bs_time ticks_to_usec(const struct iface *f, uint64_t t)
{
	unsigned __int128 us;
	if (f->resol_base2) {
		unsigned e = f->resol_exp;
		if (e >= 64)
			us = ((unsigned __int128)t * 1000000u) >> e;
		else
			us = (unsigned __int128)(t >> e) * 1000000u +
			     ((((unsigned __int128)(t & ((1ULL << e) - 1))) * 1000000u) >> e);
	} else if (f->resol_exp <= 6) {
		us = t;
		for (unsigned i = f->resol_exp; i < 6; i++)
			us *= 10;
	} else if (f->resol_exp - 6 > 19) {
		us = 0;
	} else {
		uint64_t div = 1;
		for (unsigned i = 6; i < f->resol_exp; i++)
			div *= 10;
		us = t / div;
	}
	if (us > (unsigned __int128)INT64_MAX / 2)
		us = (unsigned __int128)INT64_MAX / 2;
	int64_t off = f->tsoffset;
	if (off > INT64_MAX / 4 / BS_USEC || off < -(INT64_MAX / 4 / BS_USEC))
		off = 0;
	return (bs_time)us + off * BS_USEC;
}

static bool do_idb(struct bs_pcapng *g, const uint8_t *b, uint32_t len)
{
	if (len < 20)
		return fail(g, "Interface Description Block too short", len);
	struct iface f = { .linktype = rd16(g, b + 8), .resol_exp = 6, .snaplen = rd32(g, b + 12) };
	const uint8_t *o = b + 16, *end = b + len - 4;
	while (end - o >= 4) {
		uint16_t code = rd16(g, o), olen = rd16(g, o + 2);
		o += 4;
		if (code == 0 || olen > end - o)
			break;
		if (code == 9 && olen == 1) {
			f.resol_base2 = o[0] & 0x80;
			f.resol_exp = o[0] & 0x7f;
		} else if (code == 14 && olen == 8) {
			f.tsoffset = (int64_t)rd64(g, o);
		}
		o += (olen + 3u) & ~3u;
		if (o > end)
			break;
	}
	if (g->nif < BS_PCAPNG_MAX_IFACES)
		g->ifs[g->nif] = f;
	if (g->nif > 0 && f.linktype != g->ifs[0].linktype)
		g->mixed = true;
	if (g->nif < UINT32_MAX)
		g->nif++;
	return true;
}

static bool do_packet(struct bs_pcapng *g, const uint8_t *b, uint32_t len)
{
	struct bs_pcapng_packet pkt = { .ts = BS_TIME_NONE, .block_offset = g->block_start };
	uint64_t ticks = 0;
	if (g->block_type == BT_SPB) {
		if (len < 16)
			return fail(g, "Simple Packet Block too short", len);
		pkt.iface = 0;
		pkt.origlen = rd32(g, b + 8);
		pkt.data = b + 12;
		pkt.caplen = len - 16;
		if (pkt.caplen > pkt.origlen)
			pkt.caplen = pkt.origlen;
		if (g->nif && g->ifs[0].snaplen && pkt.caplen > g->ifs[0].snaplen)
			pkt.caplen = g->ifs[0].snaplen;
	} else {
		if (len < 32)
			return fail(g, "packet block too short", len);
		pkt.iface = g->block_type == BT_PB ? rd16(g, b + 8) : rd32(g, b + 8);
		ticks = (uint64_t)rd32(g, b + 12) << 32 | rd32(g, b + 16);
		pkt.caplen = rd32(g, b + 20);
		pkt.origlen = rd32(g, b + 24);
		pkt.data = b + 28;
		if (pkt.caplen > len - 32)
			return fail(g, "captured length larger than its block", pkt.caplen);
	}
	if (pkt.iface < g->nif && pkt.iface < BS_PCAPNG_MAX_IFACES) {
		pkt.linktype = g->ifs[pkt.iface].linktype;
		if (g->block_type != BT_SPB)
			pkt.ts = ticks_to_usec(&g->ifs[pkt.iface], ticks);
	} else {
		pkt.linktype = -1;
	}
	if (g->fn)
		g->fn(g->ctx, &pkt);
	return true;
}

static bool process_block(struct bs_pcapng *g, const uint8_t *b, uint32_t len)
{
	switch (g->block_type) {
	case BT_SHB:
		if (rd16(g, b + 12) != 1)
			return fail(g, "unsupported pcapng major version", rd16(g, b + 12));
		g->nif = 0;
		g->mixed = false;
		return true;
	case BT_IDB:
		return do_idb(g, b, len);
	case BT_EPB:
	case BT_SPB:
	case BT_PB:
		return g->emit ? do_packet(g, b, len) : true;
	default:
		return true;
	}
}

static void begin_body(struct bs_pcapng *g)
{
	if (g->keep) {
		if (g->buf_cap < g->block_len) {
			free(g->buf);
			g->buf_cap = g->block_len < 65536 ? 65536 : g->block_len;
			g->buf = bs_xmalloc(g->buf_cap);
		}
		memcpy(g->buf, g->hdr, HDR_LEN);
		g->buf_have = HDR_LEN;
	} else {
		g->skip_left = g->block_len - HDR_LEN;
	}
}

static void end_block(struct bs_pcapng *g)
{
	g->last_type = g->block_type;
	g->hdr_have = 0;
	g->block_start = g->offset;
}

bool bs_pcapng_feed(struct bs_pcapng *g, const uint8_t *p, size_t n)
{
	while (n > 0 && !g->failed) {
		size_t take;
		if (g->hdr_have == 0 && n >= HDR_LEN) {
			if (!parse_header(g, p))
				return false;
			if (g->keep && n >= g->block_len) {
				/* The whole block is here: no copy. */
				take = g->block_len;
				g->offset += take;
				if (!process_block(g, p, g->block_len))
					return false;
				end_block(g);
				p += take;
				n -= take;
				continue;
			}
			memcpy(g->hdr, p, HDR_LEN);
			g->hdr_have = HDR_LEN;
			take = HDR_LEN;
			begin_body(g);
		} else if (g->hdr_have < HDR_LEN) {
			take = HDR_LEN - g->hdr_have;
			if (take > n)
				take = n;
			memcpy(g->hdr + g->hdr_have, p, take);
			g->hdr_have += take;
			if (g->hdr_have == HDR_LEN) {
				if (!parse_header(g, g->hdr))
					return false;
				begin_body(g);
			}
		} else if (g->keep) {
			take = g->block_len - g->buf_have;
			if (take > n)
				take = n;
			memcpy(g->buf + g->buf_have, p, take);
			g->buf_have += take;
		} else {
			take = g->skip_left < n ? g->skip_left : n;
			g->skip_left -= take;
		}
		p += take;
		n -= take;
		g->offset += take;
		if (g->hdr_have == HDR_LEN &&
		    ((g->keep && g->buf_have == g->block_len) || (!g->keep && g->skip_left == 0))) {
			if (g->keep && !process_block(g, g->buf, g->block_len))
				return false;
			end_block(g);
		}
	}
	return !g->failed;
}

bool bs_pcapng_end(struct bs_pcapng *g)
{
	if (g->failed)
		return false;
	if (g->hdr_have != 0) {
		uint64_t need = g->hdr_have < HDR_LEN ? HDR_LEN : g->block_len;
		return fail(g, "stream cut inside a block of length", need);
	}
	return true;
}

bool bs_pcapng_at_block_boundary(const struct bs_pcapng *g)
{
	return !g->failed && g->hdr_have == 0;
}

const char *bs_pcapng_error(const struct bs_pcapng *g)
{
	return g->err;
}

uint64_t bs_pcapng_offset(const struct bs_pcapng *g)
{
	return g->offset;
}

uint32_t bs_pcapng_last_type(const struct bs_pcapng *g)
{
	return g->last_type;
}

uint32_t bs_pcapng_ifaces(const struct bs_pcapng *g)
{
	return g->nif;
}

bool bs_pcapng_mixed_linktypes(const struct bs_pcapng *g)
{
	return g->mixed;
}

void bs_pcapng_free(struct bs_pcapng *g)
{
	if (!g)
		return;
	free(g->buf);
	free(g);
}

/* gzfile.h - what a gzip file carried in a stream holds, for the address
 * scan.
 *
 * Attackers compress what they take (mysqldump | gzip, a .sql.gz fetched
 * through a web shell or sent out by FTP): the addresses are then inside a
 * deflate stream, invisible to a scan of the bytes as sent. A push decoder
 * in the shape of curl's http_chunks (state enum, small struct, init, feed,
 * end): the first bytes of a stream decide. A stream that begins with the
 * gzip magic (1f 8b 08) goes out inflated (members one after another, at
 * most `cap` bytes: a bomb stops there and is counted); any other goes out
 * as it came. The bytes may come in any pieces: up to two are held until
 * the magic can be told. A gzip stream that turns out damaged stops there
 * (what was inflated went out) and is counted.
 *
 * Used for HTTP bodies without a content coding (http.c) and for the
 * payloads of unknown flows and FTP data connections (proto.c). The zlib
 * state (about 45 KB) is allocated only for a gzip stream, and freed at its
 * end: bs_gzfile_held_bytes says what it holds.
 */
#ifndef BS_GZFILE_H
#define BS_GZFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bs_gzfile_state {
	BS_GZFILE_UNDECIDED = 0, /* fewer than three bytes seen */
	BS_GZFILE_PLAIN,         /* not gzip: bytes go out as they came */
	BS_GZFILE_INFLATE,       /* gzip: inflated bytes go out */
	BS_GZFILE_STOPPED,       /* gzip, ended, damaged or capped: nothing more goes out */
};

struct bs_gzfile {
	uint8_t state;           /* enum bs_gzfile_state */
	uint8_t head_len;
	uint8_t head[3];
	bool gzip;               /* the stream began as a gzip file (what callers count) */
	bool capped, damaged;    /* why a gzip stream stopped early */
	bool between;            /* a member ended at the end of a piece */
	uint64_t out_bytes;      /* inflated so far */
	uint64_t cap;
	void *zs;                /* z_stream, while inflating */
};

/* Bytes for the scan, in order. */
typedef void (*bs_gzfile_out_fn)(void *ctx, const char *b, size_t n);

/* cap: the most bytes inflated from one stream. */
void bs_gzfile_init(struct bs_gzfile *g, uint64_t cap);
void bs_gzfile_feed(struct bs_gzfile *g, const uint8_t *b, size_t n, bs_gzfile_out_fn out, void *ctx);
/* The stream's end: held bytes of a short stream go out; the zlib state is
 * freed. The struct can be initialized again for the next stream. */
void bs_gzfile_end(struct bs_gzfile *g, bs_gzfile_out_fn out, void *ctx);
/* A stream given up (cut short, its flow gone): the zlib state is freed,
 * nothing goes out. */
void bs_gzfile_drop(struct bs_gzfile *g);
/* What it holds: zlib's inflate state and its 32 KB window, while
 * inflating (asked after every segment of a flow: inline). */
#define BS_GZFILE_ZLIB_BYTES (7u * 1024 + 32u * 1024 + 112u)
static inline size_t bs_gzfile_held_bytes(const struct bs_gzfile *g) { return g->zs ? BS_GZFILE_ZLIB_BYTES : 0; }

#endif

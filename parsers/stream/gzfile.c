/* gzfile.c - what a gzip file carried in a stream holds (gzfile.h). */
#include "config.h"
#include "parsers/stream/gzfile.h"
#include "src/core/common.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define GZFILE_OUT 16384

void bs_gzfile_init(struct bs_gzfile *g, uint64_t cap)
{
	memset(g, 0, sizeof *g);
	g->cap = cap;
}

static void stop(struct bs_gzfile *g)
{
	if (g->zs) {
		inflateEnd(g->zs);
		free(g->zs);
		g->zs = NULL;
	}
	g->state = BS_GZFILE_STOPPED;
}

static void inflate_some(struct bs_gzfile *g, const uint8_t *b, size_t n, bs_gzfile_out_fn out, void *ctx)
{
	z_stream *zs = g->zs;
	char buf[GZFILE_OUT];
	if (g->between && n) { /* a member ended with the last piece: another, or the end */
		if (b[0] != 0x1f || inflateReset(zs) != Z_OK) {
			stop(g);
			return;
		}
		g->between = false;
	}
	zs->next_in = (Bytef *)(uintptr_t)b;
	zs->avail_in = (uInt)n;
	while (g->state == BS_GZFILE_INFLATE) {
		zs->next_out = (Bytef *)buf;
		zs->avail_out = sizeof buf;
		int r = inflate(zs, Z_NO_FLUSH);
		size_t got = sizeof buf - zs->avail_out;
		if (got > g->cap - g->out_bytes) {
			got = (size_t)(g->cap - g->out_bytes);
			g->capped = true;
		}
		if (got) {
			g->out_bytes += got;
			out(ctx, buf, got);
		}
		if (g->capped) {
			stop(g);
			return;
		}
		if (r == Z_STREAM_END) {
			/* the next member, if the file has one (gzip -c a b > ab.gz) */
			if (!zs->avail_in) {
				g->between = true; /* the next piece tells */
				return;
			}
			if (zs->next_in[0] == 0x1f && inflateReset(zs) == Z_OK)
				continue;
			stop(g); /* what follows the last member is not the file's */
			return;
		}
		if (r != Z_OK && r != Z_BUF_ERROR) {
			g->damaged = true;
			stop(g);
			return;
		}
		if (zs->avail_in == 0 && zs->avail_out != 0)
			return;
		if (r == Z_BUF_ERROR && got == 0)
			return;
	}
}

/* Three bytes are known: gzip or not. */
static void decide(struct bs_gzfile *g, bs_gzfile_out_fn out, void *ctx)
{
	if (g->head[0] == 0x1f && g->head[1] == 0x8b && g->head[2] == 8) {
		g->gzip = true;
		z_stream *zs = bs_xcalloc(1, sizeof *zs);
		if (inflateInit2(zs, 15 + 16) != Z_OK) {
			free(zs);
			g->damaged = true;
			g->state = BS_GZFILE_STOPPED;
			return;
		}
		g->zs = zs;
		g->state = BS_GZFILE_INFLATE;
		inflate_some(g, g->head, sizeof g->head, out, ctx);
	} else {
		g->state = BS_GZFILE_PLAIN;
		out(ctx, (const char *)g->head, sizeof g->head);
	}
}

void bs_gzfile_feed(struct bs_gzfile *g, const uint8_t *b, size_t n, bs_gzfile_out_fn out, void *ctx)
{
	/* the usual first piece: three bytes or more, no gzip file: out at once */
	if (g->state == BS_GZFILE_UNDECIDED && !g->head_len && n >= 3 && !(b[0] == 0x1f && b[1] == 0x8b && b[2] == 8)) {
		g->state = BS_GZFILE_PLAIN;
		out(ctx, (const char *)b, n);
		return;
	}
	if (g->state == BS_GZFILE_UNDECIDED) {
		while (n && g->head_len < sizeof g->head) {
			g->head[g->head_len++] = *b++;
			n--;
		}
		if (g->head_len < sizeof g->head)
			return;
		decide(g, out, ctx);
	}
	if (!n)
		return;
	if (g->state == BS_GZFILE_PLAIN)
		out(ctx, (const char *)b, n);
	else if (g->state == BS_GZFILE_INFLATE)
		inflate_some(g, b, n, out, ctx);
}

void bs_gzfile_drop(struct bs_gzfile *g)
{
	stop(g);
}

void bs_gzfile_end(struct bs_gzfile *g, bs_gzfile_out_fn out, void *ctx)
{
	if (g->state == BS_GZFILE_UNDECIDED && g->head_len)
		out(ctx, (const char *)g->head, g->head_len);
	if (g->zs)
		stop(g);
	g->state = BS_GZFILE_STOPPED;
}

_Static_assert(sizeof(z_stream) <= 112, "BS_GZFILE_ZLIB_BYTES counts a z_stream of at most 112 bytes");

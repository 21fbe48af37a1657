/* test_gzfile.c - gzip files inside streams (parsers/stream/gzfile.h): a
 * plain stream goes out unchanged, a gzip file inflated (one member or
 * several), whole, byte by byte and cut at every position, each piece its
 * own heap block; short streams, a damaged file, trailing bytes, the cap. */
#include "config.h"
#include "parsers/stream/gzfile.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static char got[1 << 20];
static size_t got_len;

static void out(void *ctx, const char *b, size_t n)
{
	(void)ctx;
	if (got_len + n <= sizeof got)
		memcpy(got + got_len, b, n);
	got_len += n;
}

/* The bytes out of in[0..n) fed whole (piece 0), in pieces of `piece`, or cut once at `cut`. */
static size_t run(const uint8_t *in, size_t n, size_t piece, size_t cut, uint64_t cap, struct bs_gzfile *g)
{
	bs_gzfile_init(g, cap);
	got_len = 0;
	for (size_t i = 0; i < n;) {
		size_t m = piece ? piece : cut && i < cut ? cut - i : n - i;
		if (m > n - i)
			m = n - i;
		uint8_t *copy = malloc(m);
		memcpy(copy, in + i, m);
		bs_gzfile_feed(g, copy, m, out, NULL);
		free(copy);
		i += m;
	}
	bs_gzfile_end(g, out, NULL);
	return got_len;
}

static size_t gz(const char *text, size_t n, uint8_t *buf, size_t cap)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (Bytef *)(uintptr_t)text;
	z.avail_in = (uInt)n;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	size_t k = z.total_out;
	deflateEnd(&z);
	return k;
}

/* in gives want (wn bytes) whole, byte by byte and at every cut. */
static void check(const uint8_t *in, size_t n, const char *want, size_t wn, const char *what)
{
	struct bs_gzfile g;
	size_t bad = 0;
	for (size_t way = 0; way < n + 2; way++) {
		size_t piece = way == 0 ? 0 : way == 1 ? 1 : 0, cut = way >= 2 ? way - 1 : 0;
		if (way >= 2 && cut >= n)
			break;
		run(in, n, piece, cut, 1 << 20, &g);
		if (got_len != wn || memcmp(got, want, wn) != 0)
			bad++;
	}
	is_int(bad, 0, "%s: the same bytes out whole, byte by byte and at every cut", what);
}

int main(void)
{
	static const char text[] = "INSERT INTO Users VALUES ('alice@example.net','x'),('bob@example.net','y');\n";
	size_t tn = sizeof text - 1;
	uint8_t z1[512], z2[1024];
	size_t n1 = gz(text, tn, z1, sizeof z1);

	check((const uint8_t *)text, tn, text, tn, "plain text");
	check((const uint8_t *)"ab", 2, "ab", 2, "a two-byte stream");
	check((const uint8_t *)"\x1f\x8b", 2, "\x1f\x8b", 2, "the magic's first two bytes alone");
	check((const uint8_t *)"\x1f\x8b\x09rest", 7, "\x1f\x8b\x09rest", 7, "1f 8b not followed by deflate: plain");
	check(z1, n1, text, tn, "a gzip file");

	/* two members, as gzip -c a b writes them */
	memcpy(z2, z1, n1);
	size_t n2 = n1 + gz(text, tn, z2 + n1, sizeof z2 - n1);
	char twice[2 * sizeof text];
	memcpy(twice, text, tn);
	memcpy(twice + tn, text, tn);
	check(z2, n2, twice, 2 * tn, "two members");

	/* trailing bytes after the last member are not the file's */
	memcpy(z2, z1, n1);
	memcpy(z2 + n1, "TRAILER", 7);
	check(z2, n1 + 7, text, tn, "trailing bytes");

	/* damage in the deflate data: what was inflated before, then a stop, counted */
	struct bs_gzfile g;
	memcpy(z2, z1, n1);
	memset(z2 + 14, 0xff, 6);
	run(z2, n1, 0, 0, 1 << 20, &g);
	ok(g.damaged && got_len < tn, "a damaged file stops and says so (%zu bytes out)", got_len);

	/* the cap: a bomb stops at it */
	static char zeros[200000];
	static uint8_t zz[4096];
	size_t nz = gz(zeros, sizeof zeros, zz, sizeof zz);
	run(zz, nz, 0, 0, 50000, &g);
	ok(g.capped && got_len == 50000, "a file past the cap stops at it (%zu bytes out)", got_len);
	is_int(bs_gzfile_held_bytes(&g), 0, "the zlib state is freed at the end");

	/* nothing fed */
	run(z1, 0, 0, 0, 1 << 20, &g);
	is_int(got_len, 0, "an empty stream gives nothing");
	return tap_done();
}

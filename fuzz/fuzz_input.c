/* fuzz_input.c - format detection, the plain/gzip reader and the line reader.
 *
 * The first byte picks a mode: bit 0 wraps the rest in gzip first (so that
 * the inflater sees arbitrary content behind a valid header), bit 1 then cuts
 * the compressed bytes at a position taken from the second byte, bit 2
 * appends trailing bytes, bit 3 also reads the bytes raw (bs_reader_read and
 * the stdio view). Without bit 0 the rest is read as it is, so gzip
 * seeds get mutated in their compressed form. The bytes go through a memory
 * file opened by path, like any input. */
#include "config.h"
#include "fuzz_util.h"
#include "src/input/input.h"

#include <zlib.h>

static size_t gzip_wrap(const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	size_t len = cap - z.avail_out;
	deflateEnd(&z);
	return len;
}

static void read_lines(const char *path)
{
	char err[256];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (!r)
		return;
	uint8_t head[4096];
	size_t nh = bs_reader_peek(r, head, sizeof head);
	enum bs_format fmt = bs_detect_format(head, nh);
	(void)bs_format_name(fmt, bs_reader_is_gzip(r));
	struct bs_lines *l = bs_lines_new(r);
	bs_str line;
	bool too_long;
	while (bs_lines_next(l, &line, &too_long)) {
		fuzz_touch(line);
		(void)bs_lines_lineno(l);
	}
	bs_lines_free(l);
	(void)bs_reader_damaged(r);
	(void)strlen(bs_reader_damage(r));
	(void)bs_reader_raw_bytes(r);
	(void)bs_reader_mtime(r);
	bs_reader_close(r);
}

/* The same bytes through bs_reader_read with odd buffer sizes, and through
 * the stdio view libpcap uses. */
static void read_raw(const char *path, unsigned step)
{
	char err[256];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (!r)
		return;
	uint8_t buf[8192];
	size_t want = 1 + step % sizeof buf;
	size_t k = bs_reader_read(r, buf, want);
	if (k) {
		uint8_t *copy = fuzz_dup(buf, k);
		fuzz_touch(bs_str_make((const char *)copy, k));
		free(copy);
	}
	FILE *f = bs_reader_fopen(r);
	if (f) {
		while (fread(buf, 1, 1 + step % 977, f) > 0)
			;
		fclose(f);
	}
	bs_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t mode = data[0], cutb = data[1];
	const uint8_t *body = data + 2;
	size_t n = size - 2;
	uint8_t *bytes;
	size_t len;
	if (mode & 1) {
		size_t cap = compressBound((uLong)n) + 64 + 16;
		bytes = malloc(cap);
		len = gzip_wrap(body, n, bytes, cap - 16);
		if (mode & 2)
			len = len * cutb / 256;
		if (mode & 4) {
			memcpy(bytes + len, "\x1f\x8b\x08garbage\n", 11);
			len += 11;
		}
	} else {
		bytes = fuzz_dup(body, n);
		len = n;
	}
	char path[64];
	int fd = fuzz_memfile(bytes, len, path, sizeof path);
	read_lines(path);
	if (mode & 8)
		read_raw(path, (unsigned)mode * 31u + cutb);
	close(fd);
	free(bytes);
	return 0;
}

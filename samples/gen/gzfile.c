/* gzfile.c - gzip output files: log files (with the header MTIME patched to
 * the time of their last line) and gzip streams behind a stdio FILE for
 * libpcap's pcap_dump_fopen(). */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "gen.h"

struct gzfile {
	gzFile gz;
	char *path;
};

static uint64_t total_bytes;
/* Level 9 keeps the committed sample small; --fast trades size for speed:
 * at 100k users and more, deflate at level 9 is most of bs-gen's time. */
static const char *write_mode = "wb9";

void gzf_set_fast(bool fast) { write_mode = fast ? "wb1" : "wb9"; }

uint64_t gzf_total_bytes(void) { return total_bytes; }

static gzFile open_or_die(const char *path)
{
	gzFile gz = gzopen(path, write_mode);
	if (!gz) {
		fprintf(stderr, "bs-gen: cannot create %s\n", path);
		exit(1);
	}
	gzbuffer(gz, 1 << 17);
	return gz;
}

struct gzfile *gzf_open(const char *path)
{
	struct gzfile *f = bs_xcalloc(1, sizeof *f);
	f->gz = open_or_die(path);
	f->path = bs_xstrndup(path, strlen(path));
	return f;
}

void gzf_write(struct gzfile *f, const void *p, size_t n)
{
	if (n && gzwrite(f->gz, p, (unsigned)n) != (int)n) {
		fprintf(stderr, "bs-gen: write error on %s\n", f->path);
		exit(1);
	}
}

static void add_size(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return;
	if (fseek(fp, 0, SEEK_END) == 0)
		total_bytes += (uint64_t)ftell(fp);
	fclose(fp);
}

void gzf_close(struct gzfile *f, int64_t mtime)
{
	if (gzclose(f->gz) != Z_OK) {
		fprintf(stderr, "bs-gen: write error on %s\n", f->path);
		exit(1);
	}
	/* gzip header: ID1 ID2 CM FLG MTIME(4, little-endian) ... zlib wrote 0. */
	FILE *fp = fopen(f->path, "r+b");
	if (fp) {
		uint32_t m = (uint32_t)mtime;
		unsigned char le[4] = { (unsigned char)m, (unsigned char)(m >> 8), (unsigned char)(m >> 16), (unsigned char)(m >> 24) };
		if (fseek(fp, 4, SEEK_SET) == 0)
			fwrite(le, 1, 4, fp);
		fclose(fp);
	}
	add_size(f->path);
	free(f->path);
	free(f);
}

/* fopencookie glue: the FILE's writes go to gzwrite(). */
static ssize_t cookie_write(void *cookie, const char *p, size_t n)
{
	gzf_write(cookie, p, n);
	return (ssize_t)n;
}

static int cookie_close(void *cookie)
{
	gzf_close(cookie, 0);
	return 0;
}

FILE *gzf_fopen_stream(const char *path)
{
	cookie_io_functions_t io = { .read = NULL, .write = cookie_write, .seek = NULL, .close = cookie_close };
	FILE *fp = fopencookie(gzf_open(path), "w", io);
	if (!fp) {
		fprintf(stderr, "bs-gen: fopencookie failed for %s\n", path);
		exit(1);
	}
	return fp;
}

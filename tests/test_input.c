/* test_input.c - the input layer: plain and gzip readers, damage, peek,
 * format detection, the stdio stream, and the line reader.
 * Fixtures are made at run time in a temporary directory. */
#include "config.h"
#include "src/input/input.h"
#include "src/input/crc32.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ------------------------------------------------------------- helpers */

struct bytes {
	uint8_t *p;
	size_t n, cap;
};

static void bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = bs_xrealloc(b->p, b->cap);
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void bytes_addstr(struct bytes *b, const char *s) { bytes_add(b, s, strlen(s)); }
static void bytes_free(struct bytes *b) { free(b->p); memset(b, 0, sizeof *b); }
/* got is the first got->n bytes of whole */
static bool bytes_is_prefix(const struct bytes *got, const struct bytes *whole)
{
	return got->n <= whole->n && (got->n == 0 || memcmp(got->p, whole->p, got->n) == 0);
}
static bool bytes_eq(const struct bytes *a, const struct bytes *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
	static char buf[4][256];
	static int slot;
	slot = (slot + 1) % 4;
	snprintf(buf[slot], sizeof buf[slot], "%s/%s", tmpdir, name);
	return buf[slot];
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

/* One gzip member of data; hdr may set MTIME, name, comment, extra, hcrc. */
static void gz_member(struct bytes *out, const void *data, size_t n, gz_header *hdr)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	if (hdr)
		deflateSetHeader(&zs, hdr);
	uLong bound = deflateBound(&zs, (uLong)n) + 1024;
	uint8_t *buf = bs_xmalloc(bound);
	zs.next_in = (Bytef *)(uintptr_t)data;
	zs.avail_in = (uInt)n;
	zs.next_out = buf;
	zs.avail_out = (uInt)bound;
	deflate(&zs, Z_FINISH);
	bytes_add(out, buf, bound - zs.avail_out);
	deflateEnd(&zs);
	free(buf);
}

static void gz_member_str(struct bytes *out, const char *s) { gz_member(out, s, strlen(s), NULL); }

/* Hand-made members: a bare header, raw deflate pieces, a trailer. */
static const uint8_t bare_gzip_header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

static void deflate_piece(z_stream *zs, const void *p, size_t n, int flush, struct bytes *out)
{
	uint8_t buf[1u << 16];
	zs->next_in = (Bytef *)(uintptr_t)p;
	zs->avail_in = (uInt)n;
	do {
		zs->next_out = buf;
		zs->avail_out = sizeof buf;
		deflate(zs, flush);
		bytes_add(out, buf, sizeof buf - zs->avail_out);
	} while (zs->avail_out == 0);
}

static void gz_trailer(struct bytes *out, uLong crc, uint32_t isize)
{
	uint8_t t[8] = { (uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16), (uint8_t)(crc >> 24),
	                 (uint8_t)isize, (uint8_t)(isize >> 8), (uint8_t)(isize >> 16), (uint8_t)(isize >> 24) };
	bytes_add(out, t, sizeof t);
}

/* What a whole reading of a path gave. */
struct got {
	bool opened;
	struct bytes data;
	bool damaged;
	char damage[256];
	uint64_t raw_bytes;
};

static void read_reader(struct bs_reader *r, struct got *g)
{
	uint8_t buf[65536 + 7]; /* an odd size, so reads do not align with anything */
	size_t n;
	while ((n = bs_reader_read(r, buf, sizeof buf)) > 0)
		bytes_add(&g->data, buf, n);
	g->damaged = bs_reader_damaged(r);
	snprintf(g->damage, sizeof g->damage, "%s", bs_reader_damage(r));
	g->raw_bytes = bs_reader_raw_bytes(r);
}

static struct got read_path(const char *path)
{
	struct got g;
	memset(&g, 0, sizeof g);
	char err[256];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (!r)
		return g;
	g.opened = true;
	read_reader(r, &g);
	bs_reader_close(r);
	return g;
}

/* Lines serialised as length, bytes and the too_long flag, so that two
 * readings can be compared whatever bytes the lines hold. */
struct lines_got {
	struct bytes ser;
	size_t count;
	uint64_t last_lineno;
};

static void lines_collect(struct bs_reader *r, struct lines_got *lg)
{
	struct bs_lines *l = bs_lines_new(r);
	bs_str line;
	bool too_long;
	while (bs_lines_next(l, &line, &too_long)) {
		uint64_t len = line.n;
		uint8_t flag = too_long;
		bytes_add(&lg->ser, &len, sizeof len);
		bytes_add(&lg->ser, line.p, line.n);
		bytes_add(&lg->ser, &flag, 1);
		lg->count++;
		lg->last_lineno = bs_lines_lineno(l);
	}
	bs_lines_free(l);
}

static struct lines_got lines_of_path(const char *path)
{
	struct lines_got lg;
	memset(&lg, 0, sizeof lg);
	char err[256];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (r) {
		lines_collect(r, &lg);
		bs_reader_close(r);
	}
	return lg;
}

static void lines_expect(struct lines_got *lg, const char *line, bool too_long)
{
	uint64_t len = strlen(line);
	uint8_t flag = too_long;
	bytes_add(&lg->ser, &len, sizeof len);
	bytes_add(&lg->ser, line, len);
	bytes_add(&lg->ser, &flag, 1);
	lg->count++;
}

/* A writer thread feeding a pipe in chunks, each written only once the
 * reader has drained the previous one: the reader then sees exactly these
 * splits in its read() calls. */
struct feeder {
	int fd;
	const uint8_t *p;
	size_t n;
	size_t split;  /* two chunks: [0, split) and [split, n); 0 = use chunk */
	size_t chunk;  /* fixed chunk size */
};

static void wait_drained(int fd)
{
	for (int spins = 0; spins < 200000; spins++) {
		int pending = 0;
		if (ioctl(fd, FIONREAD, &pending) != 0 || pending == 0)
			return;
		if (spins > 100)
			usleep(10);
	}
}

static void *feed(void *arg)
{
	struct feeder *f = arg;
	size_t off = 0;
	while (off < f->n) {
		size_t take = f->split ? (off == 0 ? f->split : f->n - off) : f->chunk;
		if (take > f->n - off)
			take = f->n - off;
		size_t done = 0;
		while (done < take) {
			ssize_t w = write(f->fd, f->p + off + done, take - done);
			if (w <= 0)
				goto out;
			done += (size_t)w;
		}
		off += take;
		wait_drained(f->fd);
	}
out:
	close(f->fd);
	return NULL;
}

/* Read "-" (a pipe put on fd 0) fed by a feeder; lines or raw bytes. */
static void read_stdin_fed(const uint8_t *p, size_t n, size_t split, size_t chunk,
                           struct lines_got *lg, struct got *g)
{
	int fds[2];
	if (pipe(fds) != 0)
		return;
	if (fds[0] != 0) { /* fd 0 was closed by the previous run: pipe() may reuse it */
		dup2(fds[0], 0);
		close(fds[0]);
	}
	struct feeder f = { fds[1], p, n, split, chunk };
	pthread_t t;
	pthread_create(&t, NULL, feed, &f);
	char err[256];
	struct bs_reader *r = bs_reader_open("-", err, sizeof err);
	if (r) {
		if (lg)
			lines_collect(r, lg);
		if (g) {
			g->opened = true;
			read_reader(r, g);
		}
		bs_reader_close(r);
	}
	close(0); /* a writer still blocked gets EPIPE */
	pthread_join(t, NULL);
}

static long maxrss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Reference for how much a cut deflate stream can give: zlib itself. */
static size_t zlib_decodable(const uint8_t *p, size_t n)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	inflateInit2(&zs, 31);
	uint8_t out[65536];
	size_t total = 0;
	zs.next_in = (Bytef *)(uintptr_t)p;
	zs.avail_in = (uInt)n;
	for (;;) {
		zs.next_out = out;
		zs.avail_out = sizeof out;
		int rc = inflate(&zs, Z_SYNC_FLUSH);
		total += sizeof out - zs.avail_out;
		if (rc != Z_OK || zs.avail_out != 0)
			break;
	}
	inflateEnd(&zs);
	return total;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A log of n realistic lines, varied enough to compress in many blocks. */
static void make_log(struct bytes *b, int n)
{
	char line[256];
	unsigned seed = 12345;
	for (int i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		int len = snprintf(line, sizeof line,
		                   "May  4 17:%02d:%02d mail%u postfix/smtpd[%u]: %s from unknown[10.%u.%u.%u] id=%08x\n",
		                   (i / 60) % 60, i % 60, seed % 6, 1000 + seed % 30000,
		                   (seed >> 8) & 1 ? "connect" : "disconnect", (seed >> 4) & 255,
		                   (seed >> 12) & 255, (seed >> 20) & 255, seed);
		bytes_add(b, line, (size_t)len);
	}
}

/* ---------------------------------------------------------------- tests */

/* A tiny file that inflates to 256 MiB of one character and no LF: memory
 * must stay flat, and the line comes once, cut. */
static void test_gzip_bomb(void)
{
	const size_t chunk_n = 1u << 20, chunks = 256;
	uint8_t *plain = bs_xmalloc(chunk_n);
	memset(plain, 'a', chunk_n);
	struct bytes gz = { 0 }, block = { 0 };
	bytes_add(&gz, bare_gzip_header, sizeof bare_gzip_header);
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
	/* A full flush resets the history and aligns to a byte, so the block
	 * can be repeated as it is. */
	deflate_piece(&zs, plain, chunk_n, Z_FULL_FLUSH, &block);
	for (size_t i = 0; i < chunks; i++)
		bytes_add(&gz, block.p, block.n);
	deflate_piece(&zs, NULL, 0, Z_FINISH, &gz);
	deflateEnd(&zs);
	bytes_free(&block);
	uLong c1 = crc32(0, plain, (uInt)chunk_n), crc = c1;
	for (size_t i = 1; i < chunks; i++)
		crc = crc32_combine(crc, c1, (z_off_t)chunk_n);
	gz_trailer(&gz, crc, (uint32_t)(chunk_n * chunks));
	free(plain);
	const char *path = tmp_path("bomb.gz");
	write_file(path, gz.p, gz.n);

	long rss_before = maxrss_kib();
	char err[256];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	ok(r != NULL, "gzip bomb opens");
	if (!r)
		return;
	struct bs_lines *l = bs_lines_new(r);
	bs_str line;
	bool too_long = false;
	size_t count = 0, first_len = 0;
	bool first_too_long = false;
	while (bs_lines_next(l, &line, &too_long)) {
		if (count++ == 0) {
			first_len = line.n;
			first_too_long = too_long;
		}
	}
	long rss_after = maxrss_kib();
	is_int(count, 1, "gzip bomb: 256 MiB without LF is one line");
	is_int(first_len, BS_LINE_MAX, "gzip bomb: the line is cut at BS_LINE_MAX");
	ok(first_too_long, "gzip bomb: the line is marked too long");
	ok(!bs_reader_damaged(r), "gzip bomb: a valid member is not damage (%s)", bs_reader_damage(r));
	is_int(bs_reader_raw_bytes(r), gz.n, "gzip bomb: every compressed byte consumed");
	ok(rss_after - rss_before < 48 * 1024, "gzip bomb: memory stays flat (grew %ld KiB for 256 MiB)",
	   rss_after - rss_before);
	bs_lines_free(l);
	bs_reader_close(r);
	bytes_free(&gz);
}

static void *feed_huge_line(void *arg)
{
	int fd = *(int *)arg;
	size_t chunk_n = 1u << 20;
	char *chunk = bs_xmalloc(chunk_n);
	memset(chunk, 'a', chunk_n);
	bool failed = false;
	for (size_t i = 0; i < 1024 && !failed; i++)
		for (size_t done = 0; done < chunk_n && !failed;) {
			ssize_t w = write(fd, chunk + done, chunk_n - done);
			failed = w <= 0;
			done += failed ? 0 : (size_t)w;
		}
	if (!failed && write(fd, "\nnext\n", 6) != 6)
		failed = true;
	free(chunk);
	close(fd);
	return NULL;
}

/* A 1 GiB line of one character on standard input: one cut line, then the
 * next line intact, and the memory of one line buffer. */
static void test_huge_line(void)
{
	int fds[2];
	if (pipe(fds) != 0) {
		ok(0, "pipe: %s", strerror(errno));
		return;
	}
	if (fds[0] != 0) {
		dup2(fds[0], 0);
		close(fds[0]);
	}
	pthread_t t;
	pthread_create(&t, NULL, feed_huge_line, &fds[1]);
	long rss_before = maxrss_kib();
	char err[256];
	struct bs_reader *r = bs_reader_open("-", err, sizeof err);
	struct bs_lines *l = r ? bs_lines_new(r) : NULL;
	bs_str line;
	bool too_long = false;
	ok(l && bs_lines_next(l, &line, &too_long) && too_long && line.n == BS_LINE_MAX,
	   "1 GiB line: one line cut at BS_LINE_MAX, marked too long");
	ok(l && bs_lines_next(l, &line, &too_long) && !too_long && line.n == 4 && memcmp(line.p, "next", 4) == 0,
	   "1 GiB line: the next line is intact");
	ok(l && !bs_lines_next(l, &line, &too_long), "1 GiB line: then the end");
	long rss_after = maxrss_kib();
	ok(rss_after - rss_before < 48 * 1024, "1 GiB line: memory stays flat (grew %ld KiB)", rss_after - rss_before);
	bs_lines_free(l);
	bs_reader_close(r);
	close(0);
	pthread_join(t, NULL);
}

static void test_plain_and_gzip(void)
{
	struct bytes log = { 0 };
	make_log(&log, 3000);
	write_file(tmp_path("plain.log"), log.p, log.n);
	struct got g = read_path(tmp_path("plain.log"));
	ok(g.opened && bytes_eq(&g.data, &log), "plain file read whole");
	ok(!g.damaged, "plain file: no damage");
	is_int(g.raw_bytes, log.n, "plain file: raw bytes = file size");
	bytes_free(&g.data);

	struct bytes gz = { 0 };
	gz_member(&gz, log.p, log.n, NULL);
	write_file(tmp_path("one.gz"), gz.p, gz.n);
	g = read_path(tmp_path("one.gz"));
	ok(g.opened && bytes_eq(&g.data, &log), "gzip member inflated whole");
	ok(!g.damaged, "gzip: no damage (%s)", g.damage);
	is_int(g.raw_bytes, gz.n, "gzip: raw bytes = compressed size");
	bytes_free(&g.data);

	/* Members of very different sizes, including an empty one, and a
	 * line cut across two members. */
	struct bytes multi = { 0 }, want = { 0 };
	const char *parts[] = { "", "x", "first half of a line ", "second half\n", NULL };
	for (size_t i = 0; parts[i]; i++) {
		gz_member_str(&multi, parts[i]);
		bytes_addstr(&want, parts[i]);
	}
	gz_member(&multi, log.p, log.n, NULL);
	bytes_add(&want, log.p, log.n);
	gz_member_str(&multi, "tail without LF");
	bytes_addstr(&want, "tail without LF");
	write_file(tmp_path("multi.gz"), multi.p, multi.n);
	g = read_path(tmp_path("multi.gz"));
	ok(g.opened && bytes_eq(&g.data, &want), "multi-member gzip: every member inflated, in order");
	ok(!g.damaged, "multi-member gzip: no damage (%s)", g.damage);
	bytes_free(&g.data);
	struct lines_got lg = lines_of_path(tmp_path("multi.gz"));
	is_int(lg.count, 3000 + 2, "multi-member gzip: a line across members is one line");
	bytes_free(&lg.ser);

	/* Header fields: name, comment, extra, header CRC, MTIME. */
	gz_header hdr;
	memset(&hdr, 0, sizeof hdr);
	hdr.time = 1178300000;
	hdr.name = (Bytef *)"maillog.1";
	hdr.comment = (Bytef *)"rotated";
	hdr.extra = (Bytef *)"XY\002\000ab";
	hdr.extra_len = 6;
	hdr.hcrc = 1;
	struct bytes fancy = { 0 };
	gz_member(&fancy, "line one\nline two\n", 18, &hdr);
	write_file(tmp_path("fancy.gz"), fancy.p, fancy.n);
	char err[256];
	struct bs_reader *r = bs_reader_open(tmp_path("fancy.gz"), err, sizeof err);
	ok(r && bs_reader_is_gzip(r), "gzip with FNAME, FCOMMENT, FEXTRA, FHCRC recognised");
	if (r) {
		is_int(bs_reader_mtime(r), 1178300000, "mtime is the gzip header MTIME");
		struct got fg;
		memset(&fg, 0, sizeof fg);
		read_reader(r, &fg);
		is_int(fg.data.n, 18, "gzip with every header field: data inflated");
		ok(!fg.damaged, "gzip with every header field: no damage (%s)", fg.damage);
		bytes_free(&fg.data);
		bs_reader_close(r);
	}
	bytes_free(&fancy);
	bytes_free(&log);
	bytes_free(&gz);
	bytes_free(&multi);
	bytes_free(&want);
}

static void test_mtime_and_open(void)
{
	struct bytes gz = { 0 };
	gz_member_str(&gz, "no mtime in header\n"); /* zlib writes MTIME 0 */
	const char *path = tmp_path("nomtime.gz");
	write_file(path, gz.p, gz.n);
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	utimensat(AT_FDCWD, path, ts, 0);
	char err[256];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	ok(r && bs_reader_mtime(r) == 1000000000, "gzip MTIME 0: the file's mtime is used");
	ok(r && bs_reader_raw_size(r) == gz.n, "raw size is the file size");
	bs_reader_close(r);

	write_file(tmp_path("p.log"), "x\n", 2);
	utimensat(AT_FDCWD, tmp_path("p.log"), ts, 0);
	r = bs_reader_open(tmp_path("p.log"), err, sizeof err);
	ok(r && bs_reader_mtime(r) == 1000000000 && !bs_reader_is_gzip(r), "plain file: mtime from the file");
	bs_reader_close(r);

	r = bs_reader_open(tmp_path("does-not-exist"), err, sizeof err);
	ok(!r && strstr(err, "does-not-exist") && strstr(err, "No such file"),
	   "missing file: NULL and a message naming it (%s)", err);
	r = bs_reader_open(tmpdir, err, sizeof err);
	ok(!r && strstr(err, "not a regular file"), "directory refused (%s)", err);
	const char *fifo = tmp_path("fifo");
	if (mkfifo(fifo, 0600) == 0) {
		r = bs_reader_open(fifo, err, sizeof err);
		ok(!r && strstr(err, "not a regular file"), "FIFO refused without blocking (%s)", err);
	} else {
		ok(0, "mkfifo failed: %s", strerror(errno));
	}
	bytes_free(&gz);
}

/* Cut a gzip of log at offsets 3.. (every byte near both ends, every
 * stride-th byte between): every byte before the cut that zlib can decode
 * comes out, then the damage names the cut. */
static void check_cuts(const char *what, const struct bytes *log, const struct bytes *gz, size_t stride)
{
	const char *path = tmp_path("cut.gz");
	size_t cuts = 0, bad_prefix = 0, bad_damage = 0, bad_amount = 0, bad_lines = 0;
	char first_bad[300] = "";
	for (size_t cut = 3; cut < gz->n; cut += (cut < 64 || cut > gz->n - 64) ? 1 : stride) {
		cuts++;
		write_file(path, gz->p, cut);
		struct got g = read_path(path);
		if (!bytes_is_prefix(&g.data, log))
			bad_prefix++;
		char want[128];
		snprintf(want, sizeof want, "gzip member truncated at compressed byte offset %zu", cut);
		if (!g.damaged || strcmp(g.damage, want) != 0) {
			if (!bad_damage++)
				snprintf(first_bad, sizeof first_bad, "cut %zu: \"%s\"", cut, g.damage);
		}
		/* ISA-L wants look-ahead bits before it decodes a symbol: at a cut
		 * it holds back the last byte or two that zlib still gives. */
		size_t ref = zlib_decodable(gz->p, cut);
#ifdef HAVE_ISAL
		if (g.data.n > ref || g.data.n + 8 < ref)
#else
		if (g.data.n != ref)
#endif
			bad_amount++;
		/* Every complete line in what came out is handed out whole. */
		size_t complete = 0;
		for (size_t i = 0; i < g.data.n; i++)
			complete += g.data.p[i] == '\n';
		struct lines_got lg = lines_of_path(path);
		bool partial = g.data.n > 0 && g.data.p[g.data.n - 1] != '\n';
		if (lg.count != complete + partial)
			bad_lines++;
		bytes_free(&lg.ser);
		bytes_free(&g.data);
	}
	ok(cuts > 100, "%s: truncation tried at %zu offsets", what, cuts);
	is_int(bad_prefix, 0, "%s: output is always a prefix of the original", what);
	is_int(bad_damage, 0, "%s: damage names the cut offset %s", what, first_bad);
	is_int(bad_amount, 0, "%s: every decodable byte before the cut is returned", what);
	is_int(bad_lines, 0, "%s: every complete line before the cut is returned", what);
}

static void test_truncated(void)
{
	struct bytes log = { 0 }, gz = { 0 };
	make_log(&log, 3000);
	gz_member(&gz, log.p, log.n, NULL);
	check_cuts("truncated gzip, 3000 lines", &log, &gz, 97);

	/* The trailer missing altogether: all data, and still damage. */
	const char *path = tmp_path("cut.gz");
	write_file(path, gz.p, gz.n - 8);
	struct got g = read_path(path);
	ok(bytes_eq(&g.data, &log), "trailer cut off: all data returned");
	ok(g.damaged, "trailer cut off: damaged");
	bytes_free(&g.data);

	/* Many small blocks (a full flush every tenth of the data), cut at every byte:
	 * every block boundary, block header and stored-block length is hit. */
	struct bytes small = { 0 };
	make_log(&small, 100);
	gz.n = 0;
	bytes_add(&gz, bare_gzip_header, sizeof bare_gzip_header);
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	size_t step = small.n / 10;
	for (size_t off = 0; off < small.n; off += step) {
		size_t take = small.n - off < step ? small.n - off : step;
		deflate_piece(&zs, small.p + off, take, off + take < small.n ? Z_FULL_FLUSH : Z_FINISH, &gz);
	}
	deflateEnd(&zs);
	gz_trailer(&gz, crc32(0, small.p, (uInt)small.n), (uint32_t)small.n);
	write_file(path, gz.p, gz.n);
	g = read_path(path);
	ok(bytes_eq(&g.data, &small) && !g.damaged, "many-block gzip reads whole (%s)", g.damage);
	bytes_free(&g.data);
	check_cuts("gzip of ten flushed blocks, cut at every byte", &small, &gz, 1);
	bytes_free(&small);
	bytes_free(&log);
	bytes_free(&gz);
}

/* A fixed-Huffman block whose first symbol copies from before the start. */
static void write_bits(struct bytes *b, uint32_t *acc, int *nacc, uint32_t v, int n)
{
	*acc |= v << *nacc;
	*nacc += n;
	while (*nacc >= 8) {
		uint8_t byte = (uint8_t)*acc;
		bytes_add(b, &byte, 1);
		*acc >>= 8;
		*nacc -= 8;
	}
}

static uint32_t reverse_bits(uint32_t v, int n)
{
	uint32_t r = 0;
	for (int i = 0; i < n; i++)
		r |= ((v >> i) & 1) << (n - 1 - i);
	return r;
}

static void test_corrupt(void)
{
	struct bytes a = { 0 }, b = { 0 };
	make_log(&a, 500);
	make_log(&b, 700);
	struct bytes gz = { 0 };
	gz_member(&gz, a.p, a.n, NULL);
	size_t second = gz.n;
	gz_member(&gz, b.p, b.n, NULL);
	const char *path = tmp_path("corrupt.gz");

	/* Reserved block type 11 in the second member's first block. */
	struct bytes bad = { 0 };
	bytes_add(&bad, gz.p, gz.n);
	bad.p[second + 10] |= 0x06;
	write_file(path, bad.p, bad.n);
	struct got g = read_path(path);
	ok(bytes_eq(&g.data, &a), "corrupt second member: the first member comes out whole");
	ok(g.damaged && starts_with(g.damage, "gzip data corrupt at compressed byte offset "),
	   "corrupt block type: damage reported (%s)", g.damage);
	bytes_free(&g.data);
	bytes_free(&bad);

	/* A match reaching before the start of the data. */
	struct bytes far = { 0 };
	bytes_add(&far, bare_gzip_header, sizeof bare_gzip_header);
	uint32_t acc = 0;
	int nacc = 0;
	write_bits(&far, &acc, &nacc, 1, 1); /* BFINAL */
	write_bits(&far, &acc, &nacc, 1, 2); /* BTYPE 01, fixed Huffman */
	write_bits(&far, &acc, &nacc, reverse_bits(0x30 + 'o', 8), 8); /* literal 'o' */
	write_bits(&far, &acc, &nacc, reverse_bits(1, 7), 7); /* length 3 (code 257) */
	write_bits(&far, &acc, &nacc, reverse_bits(4, 5), 5); /* distance 5..6 */
	write_bits(&far, &acc, &nacc, 0, 1);                   /* its extra bit */
	write_bits(&far, &acc, &nacc, 0, 7);                   /* end of block */
	write_bits(&far, &acc, &nacc, 0, 7);                   /* flush */
	bytes_add(&far, "\0\0\0\0\0\0\0\0", 8);
	write_file(path, far.p, far.n);
	g = read_path(path);
	ok(g.damaged && starts_with(g.damage, "gzip data corrupt at compressed byte offset ") &&
	   strstr(g.damage, "(invalid distance too far back)"),
	   "distance too far back: damage with the reason (%s)", g.damage);
	ok(g.data.n <= 1, "distance too far back: nothing invented (%zu bytes)", g.data.n);
	bytes_free(&g.data);
	bytes_free(&far);

	/* CRC and length of the last member. */
	struct bytes crc = { 0 };
	bytes_add(&crc, gz.p, gz.n);
	crc.p[gz.n - 8] ^= 0x55;
	write_file(path, crc.p, crc.n);
	g = read_path(path);
	char want[160];
	snprintf(want, sizeof want, "gzip member CRC mismatch at compressed byte offset %zu (member starting at %zu)",
	         gz.n - 8, second);
	ok(g.damaged && strcmp(g.damage, want) == 0, "CRC mismatch reported with offsets (%s)", g.damage);
	is_int(g.data.n, a.n + b.n, "CRC mismatch: the bytes before it were all returned");
	bytes_free(&g.data);
	crc.p[gz.n - 8] ^= 0x55;
	crc.p[gz.n - 2] ^= 0x01;
	write_file(path, crc.p, crc.n);
	g = read_path(path);
	ok(g.damaged && starts_with(g.damage, "gzip member length mismatch at compressed byte offset "),
	   "ISIZE mismatch reported (%s)", g.damage);
	bytes_free(&g.data);
	bytes_free(&crc);

	/* Reserved header flags. */
	struct bytes rf = { 0 };
	gz_member_str(&rf, "x\n");
	rf.p[3] = 0x20;
	write_file(path, rf.p, rf.n);
	g = read_path(path);
	ok(g.damaged && starts_with(g.damage, "invalid gzip header"), "reserved header flags: damage (%s)", g.damage);
	bytes_free(&g.data);
	bytes_free(&rf);

	/* Every byte of a small member flipped in turn: never a crash, and
	 * either damage or the original bytes. */
	struct bytes small = { 0 }, smallgz = { 0 };
	make_log(&small, 8);
	gz_member(&smallgz, small.p, small.n, NULL);
	size_t silent = 0;
	for (size_t i = 10; i < smallgz.n; i++) {
		for (int m = 0; m < 2; m++) {
			uint8_t mask = m ? 0xff : 0x01;
			smallgz.p[i] ^= mask;
			write_file(path, smallgz.p, smallgz.n);
			g = read_path(path);
			if (!g.damaged && !bytes_eq(&g.data, &small))
				silent++;
			bytes_free(&g.data);
			smallgz.p[i] ^= mask;
		}
	}
	is_int(silent, 0, "every flipped byte: damage or the original, never silent change");
	bytes_free(&small);
	bytes_free(&smallgz);
	bytes_free(&a);
	bytes_free(&b);
	bytes_free(&gz);
}

/* A valid header followed by random bytes, hundreds of times: the inflater
 * must always stop, and always call it damage (a random body that happens
 * to be valid deflate still fails the CRC or runs out of input). */
static void test_random_bodies(void)
{
	const char *path = tmp_path("random.gz");
	uint8_t file[10 + 2048];
	memcpy(file, bare_gzip_header, sizeof bare_gzip_header);
	uint32_t seed = 7;
	size_t runs = 0, undamaged = 0, overlong = 0;
	for (int run = 0; run < 300; run++) {
		size_t body = 1 + (size_t)run * 7 % 2048;
		for (size_t i = 0; i < body; i++) {
			seed = seed * 1664525u + 1013904223u;
			file[10 + i] = (uint8_t)(seed >> 24);
		}
		/* Every third body starts as a stored block, to get deeper. */
		if (run % 3 == 0 && body > 5) {
			file[10] = 0x00;
			file[11] = (uint8_t)(body - 5);
			file[12] = 0;
			file[13] = (uint8_t)~(body - 5);
			file[14] = 0xff;
		}
		write_file(path, file, 10 + body);
		struct got g = read_path(path);
		runs++;
		undamaged += !g.damaged;
		overlong += g.data.n > 258u * 8 * body + 65536; /* more than deflate can expand */
		bytes_free(&g.data);
	}
	is_int(undamaged, 0, "%zu random deflate bodies: all reported as damage", runs);
	is_int(overlong, 0, "random deflate bodies: output bounded by what the input can encode");
}

static void test_trailing(void)
{
	struct bytes gz = { 0 };
	const char *text = "Jan  1 00:00:01 mx postfix/qmgr[1]: ABC: removed\n";
	gz_member_str(&gz, text);
	const char *path = tmp_path("trail.gz");
	static const uint8_t zeros[1000];
	/* What follows the member, and the damage it must give (%zu: the
	 * member's size plus delta), or NULL when it is to be tolerated. */
	const struct {
		const char *what;
		const uint8_t *suffix;
		size_t suffix_n;
		const char *damage;
		size_t delta;
	} cases[] = {
		{ "garbage appended", (const uint8_t *)"GARBAGE\n", 8,
		  "trailing garbage after gzip member at compressed byte offset %zu; no gzip member after it (%zu bytes skipped to the end)", 0 },
		{ "trailing zero padding", zeros, sizeof zeros, NULL, 0 },
		{ "a second member cut in its header", (const uint8_t *)"\x1f\x8b\x08\x00", 4,
		  "gzip member truncated at compressed byte offset %zu", 4 },
		{ "a lone stray byte after a member", (const uint8_t *)"\x1f", 1,
		  "trailing garbage after gzip member at compressed byte offset %zu; no gzip member after it (%zu bytes skipped to the end)", 0 },
		{ "a second header with another method", (const uint8_t *)"\x1f\x8b\x07\x00", 4,
		  "trailing garbage after gzip member at compressed byte offset %zu; no gzip member after it (%zu bytes skipped to the end)", 0 },
	};
	struct bytes t = { 0 };
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		t.n = 0;
		bytes_add(&t, gz.p, gz.n);
		bytes_add(&t, cases[i].suffix, cases[i].suffix_n);
		write_file(path, t.p, t.n);
		struct got g = read_path(path);
		if (cases[i].damage) {
			char want[200];
			/* the second number, when the message has one: the bytes skipped */
			snprintf(want, sizeof want, cases[i].damage, gz.n + cases[i].delta, cases[i].suffix_n - cases[i].delta);
			ok(g.damaged && strcmp(g.damage, want) == 0, "%s: damage at its offset (%s)", cases[i].what, g.damage);
		} else {
			ok(!g.damaged, "%s: tolerated (%s)", cases[i].what, g.damage);
		}
		ok(g.data.n == strlen(text) && memcmp(g.data.p, text, g.data.n) == 0,
		   "%s: the member's bytes all returned", cases[i].what);
		bytes_free(&g.data);
	}
	/* Zeros, then something else: garbage where the zeros stop. */
	t.n = 0;
	bytes_add(&t, gz.p, gz.n);
	bytes_add(&t, zeros, sizeof zeros);
	bytes_addstr(&t, "Z");
	write_file(path, t.p, t.n);
	struct got g = read_path(path);
	char want[200];
	snprintf(want, sizeof want, "trailing garbage after gzip member at compressed byte offset %zu"
	         "; no gzip member after it (1 bytes skipped to the end)", gz.n + sizeof zeros);
	ok(g.damaged && strcmp(g.damage, want) == 0, "zeros then garbage: damage at the garbage (%s)", g.damage);
	bytes_free(&g.data);
	bytes_free(&t);
	bytes_free(&gz);
}

static void test_lines(void)
{
	static const char text[] = "first line\r\n\r\nthird \xff\xfe invalid utf8\nnul\0inside\n"
	                           "bare\rcr stays\nlast without lf";
	const char *path = tmp_path("lines.log");
	write_file(path, text, sizeof text - 1);
	struct lines_got want = { 0 };
	lines_expect(&want, "first line", false);
	lines_expect(&want, "", false);
	lines_expect(&want, "third \xff\xfe invalid utf8", false);
	/* a line holding a NUL: written by hand */
	uint64_t len = 10;
	uint8_t no = 0;
	bytes_add(&want.ser, &len, sizeof len);
	bytes_add(&want.ser, "nul\0inside", 10);
	bytes_add(&want.ser, &no, 1);
	want.count++;
	lines_expect(&want, "bare\rcr stays", false);
	lines_expect(&want, "last without lf", false);

	struct lines_got lg = lines_of_path(path);
	is_int(lg.count, 6, "lines: CRLF, empty line, invalid UTF-8, NUL, no final LF");
	ok(bytes_eq(&lg.ser, &want.ser), "lines: each line as written, CR of CRLF removed, NUL kept");
	is_int(lg.last_lineno, 6, "lines: numbers are 1-based");
	bytes_free(&lg.ser);

	/* The same through gzip, split in two members in the middle of a line,
	 * then fed through stdin split at every byte and one byte at a time. */
	struct bytes gz = { 0 };
	gz_member(&gz, text, 30, NULL);
	gz_member(&gz, text + 30, sizeof text - 1 - 30, NULL);
	write_file(tmp_path("lines.gz"), gz.p, gz.n);
	lg = lines_of_path(tmp_path("lines.gz"));
	ok(bytes_eq(&lg.ser, &want.ser), "lines: the same from a two-member gzip");
	bytes_free(&lg.ser);

	size_t bad_plain = 0, bad_gz = 0;
	for (size_t split = 1; split < sizeof text - 1; split++) {
		memset(&lg, 0, sizeof lg);
		read_stdin_fed((const uint8_t *)text, sizeof text - 1, split, 0, &lg, NULL);
		bad_plain += !bytes_eq(&lg.ser, &want.ser);
		bytes_free(&lg.ser);
	}
	for (size_t split = 1; split < gz.n; split++) {
		memset(&lg, 0, sizeof lg);
		read_stdin_fed(gz.p, gz.n, split, 0, &lg, NULL);
		bad_gz += !bytes_eq(&lg.ser, &want.ser);
		bytes_free(&lg.ser);
	}
	is_int(bad_plain, 0, "lines: plain stdin split at every byte gives the same lines");
	is_int(bad_gz, 0, "lines: gzip stdin split at every compressed byte gives the same lines");
	memset(&lg, 0, sizeof lg);
	read_stdin_fed((const uint8_t *)text, sizeof text - 1, 0, 1, &lg, NULL);
	ok(bytes_eq(&lg.ser, &want.ser), "lines: plain stdin one byte at a time");
	bytes_free(&lg.ser);
	memset(&lg, 0, sizeof lg);
	read_stdin_fed(gz.p, gz.n, 0, 1, &lg, NULL);
	ok(bytes_eq(&lg.ser, &want.ser), "lines: gzip stdin one compressed byte at a time");
	bytes_free(&lg.ser);
	bytes_free(&gz);
	bytes_free(&want.ser);

	/* Empty file: no line at all. */
	write_file(tmp_path("empty.log"), "", 0);
	lg = lines_of_path(tmp_path("empty.log"));
	is_int(lg.count, 0, "empty file: no line");
	/* One LF: one empty line. */
	write_file(tmp_path("lf.log"), "\n", 1);
	lg = lines_of_path(tmp_path("lf.log"));
	is_int(lg.count, 1, "a lone LF: one empty line");
	bytes_free(&lg.ser);
}

static void test_long_lines(void)
{
	/* A 1 MB line is one line. */
	struct bytes b = { 0 };
	bytes_addstr(&b, "a\n");
	size_t mb = 1u << 20;
	char *big = bs_xmalloc(BS_LINE_MAX + 4096);
	memset(big, 'b', BS_LINE_MAX + 4096);
	bytes_add(&b, big, mb);
	bytes_addstr(&b, "\nc\n");
	const char *path = tmp_path("mb.log");
	write_file(path, b.p, b.n);
	char err[256];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	struct bs_lines *l = bs_lines_new(r);
	bs_str line;
	bool too_long;
	ok(bs_lines_next(l, &line, &too_long), "1 MB line: first line");
	is_bs(line, "a", "1 MB line: the line before it");
	ok(bs_lines_next(l, &line, &too_long) && line.n == mb && !too_long, "1 MB line comes whole (%zu bytes)", line.n);
	ok(bs_lines_next(l, &line, &too_long), "1 MB line: a line after it");
	is_bs(line, "c", "1 MB line: the next line is intact");
	is_int(bs_lines_lineno(l), 3, "1 MB line: line numbers count it once");
	ok(!bs_lines_next(l, &line, &too_long), "1 MB line: then the end");
	bs_lines_free(l);
	bs_reader_close(r);

	/* Exactly BS_LINE_MAX with CRLF: whole. One more byte: cut. */
	for (int extra = 0; extra <= 1; extra++) {
		b.n = 0;
		bytes_add(&b, big, BS_LINE_MAX + (size_t)extra);
		bytes_addstr(&b, "\r\nnext\n");
		write_file(path, b.p, b.n);
		r = bs_reader_open(path, err, sizeof err);
		l = bs_lines_new(r);
		bool got = bs_lines_next(l, &line, &too_long);
		ok(got && line.n == BS_LINE_MAX && too_long == (extra == 1),
		   "a line of BS_LINE_MAX%s bytes: %s", extra ? "+1" : "", extra ? "cut, too_long" : "whole");
		ok(bs_lines_next(l, &line, &too_long) && !too_long, "after a line of BS_LINE_MAX%s: next line", extra ? "+1" : "");
		is_bs(line, "next", "after a line of BS_LINE_MAX%s: next line intact", extra ? "+1" : "");
		bs_lines_free(l);
		bs_reader_close(r);
	}

	/* Far over the limit: cut once, the rest skipped, the next line fine. */
	b.n = 0;
	bytes_addstr(&b, "head\n");
	for (int i = 0; i < 5; i++)
		bytes_add(&b, big, BS_LINE_MAX);
	bytes_addstr(&b, "\nnext\n");
	write_file(path, b.p, b.n);
	r = bs_reader_open(path, err, sizeof err);
	l = bs_lines_new(r);
	bs_lines_next(l, &line, &too_long);
	is_bs(line, "head", "over-long line: the line before");
	ok(bs_lines_next(l, &line, &too_long) && too_long && line.n == BS_LINE_MAX,
	   "over-long line (5 x BS_LINE_MAX): one cut line marked too_long");
	ok(line.n > 0 && line.p[0] == 'b' && line.p[line.n - 1] == 'b', "over-long line: the cut holds its first bytes");
	ok(bs_lines_next(l, &line, &too_long) && !too_long, "over-long line: its rest is skipped");
	is_bs(line, "next", "over-long line: the next line is fine");
	is_int(bs_lines_lineno(l), 3, "over-long line: counted as one line");
	ok(!bs_lines_next(l, &line, &too_long), "over-long line: then the end");
	bs_lines_free(l);
	bs_reader_close(r);

	/* CR LF straddling the 256 KiB read boundary. */
	size_t bad = 0;
	for (size_t s = 0; s < 4; s++) {
		size_t first = (256u << 10) - 1 - s;
		b.n = 0;
		bytes_add(&b, big, first);
		bytes_addstr(&b, "\r\nz\r\n");
		write_file(path, b.p, b.n);
		r = bs_reader_open(path, err, sizeof err);
		l = bs_lines_new(r);
		bad += !(bs_lines_next(l, &line, &too_long) && line.n == first);
		bad += !(bs_lines_next(l, &line, &too_long) && line.n == 1 && line.p[0] == 'z');
		bad += bs_lines_next(l, &line, &too_long);
		bs_lines_free(l);
		bs_reader_close(r);
	}
	is_int(bad, 0, "CRLF across the read buffer boundary, at 4 offsets");
	free(big);
	bytes_free(&b);
}


/* ------------------------------------------ bzip2, xz, zstd, nesting (issue 22) */

/* Two log lines, compressed by the command-line tools (xz 5.4, bzip2 1.0.8,
 * zstd 1.5.4, default levels): the tests need no tool and no library. */
static const char fixture_text[] = "Jan  1 00:00:01 mx postfix/qmgr[1]: ABC: removed\n"
                                   "Jan  1 00:00:02 mx postfix/qmgr[1]: DEF: removed\n";
static const uint8_t fixture_xz[] = {
	0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04, 0xe6, 0xd6, 0xb4, 0x46, 0x02, 0x00, 0x21, 0x01,
	0x16, 0x00, 0x00, 0x00, 0x74, 0x2f, 0xe5, 0xa3, 0xe0, 0x00, 0x61, 0x00, 0x3c, 0x5d, 0x00, 0x25,
	0x18, 0x49, 0xc2, 0x0b, 0xb4, 0xb5, 0xa4, 0x47, 0x98, 0x57, 0x56, 0xc8, 0xb2, 0x83, 0x12, 0x00,
	0x19, 0x66, 0x20, 0xbc, 0x9e, 0x70, 0x93, 0x56, 0x07, 0x3e, 0xe4, 0xcc, 0xf5, 0x23, 0x9e, 0x61,
	0x78, 0x35, 0xfc, 0xec, 0xd4, 0x14, 0x0f, 0x6a, 0x97, 0xa5, 0xcd, 0xc9, 0x43, 0x86, 0x44, 0x9d,
	0xf2, 0xbc, 0x95, 0x18, 0x58, 0xde, 0x2c, 0x83, 0x41, 0xa1, 0xa9, 0x00, 0x61, 0xcb, 0x89, 0x4a,
	0x1e, 0x5e, 0x8a, 0x16, 0x00, 0x01, 0x58, 0x62, 0x03, 0x62, 0x58, 0xf1, 0x1f, 0xb6, 0xf3, 0x7d,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x04, 0x59, 0x5a,
};
static const uint8_t fixture_bz2[] = {
	0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0x86, 0x75, 0x35, 0x6a, 0x00, 0x00,
	0x18, 0x5f, 0x80, 0x00, 0x10, 0x40, 0x00, 0xf0, 0x10, 0x3f, 0x10, 0x00, 0x0a, 0x27, 0xa3, 0xfd,
	0x40, 0x20, 0x00, 0x50, 0xc6, 0x00, 0x09, 0x80, 0x00, 0x98, 0x15, 0x55, 0x3c, 0x9a, 0x6a, 0x68,
	0x34, 0xf4, 0xd4, 0x00, 0xc9, 0xe5, 0x2a, 0xf4, 0x9a, 0x4c, 0x91, 0xca, 0xec, 0x10, 0x49, 0x13,
	0x81, 0x14, 0x2a, 0x87, 0x55, 0x69, 0x81, 0x8f, 0x4a, 0x47, 0x4a, 0xe8, 0xd9, 0x47, 0x67, 0x85,
	0xd2, 0x5d, 0xab, 0xe2, 0xc9, 0xb9, 0xbe, 0xac, 0x9b, 0x06, 0xad, 0x91, 0x59, 0x74, 0x18, 0xae,
	0xfe, 0x2e, 0xe4, 0x8a, 0x70, 0xa1, 0x21, 0x0c, 0xea, 0x6a, 0xd4,
};
static const uint8_t fixture_zst[] = {
	0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x62, 0xfd, 0x01, 0x00, 0x14, 0x03, 0x4a, 0x61, 0x6e, 0x20, 0x20,
	0x31, 0x20, 0x30, 0x30, 0x3a, 0x31, 0x20, 0x6d, 0x78, 0x20, 0x70, 0x6f, 0x73, 0x74, 0x66, 0x69,
	0x78, 0x2f, 0x71, 0x6d, 0x67, 0x72, 0x5b, 0x31, 0x5d, 0x3a, 0x20, 0x41, 0x42, 0x43, 0x3a, 0x20,
	0x72, 0x65, 0x6d, 0x6f, 0x76, 0x65, 0x64, 0x0a, 0x32, 0x44, 0x45, 0x46, 0x04, 0x00, 0x60, 0x1b,
	0xf0, 0xdd, 0x51, 0x25, 0x4f, 0xd6, 0x21, 0x01, 0x6c, 0xba, 0x13, 0x95,
};

static const struct {
	const char *codec;
	const uint8_t *p;
	size_t n;
	size_t magic; /* bytes of magic the reader needs to see it */
} fixtures[] = {
	{ "xz", fixture_xz, sizeof fixture_xz, 6 },
	{ "bzip2", fixture_bz2, sizeof fixture_bz2, 10 },
	{ "zstd", fixture_zst, sizeof fixture_zst, 4 },
};

/* Read path whole; the format name for its content is put in fmt. */
static struct got read_path_fmt(const char *path, char *fmt, size_t fmtlen)
{
	struct got g;
	memset(&g, 0, sizeof g);
	char err[256];
	fmt[0] = 0;
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (!r)
		return g;
	g.opened = true;
	uint8_t head[4096];
	size_t nh = bs_reader_peek(r, head, sizeof head);
	snprintf(fmt, fmtlen, "%s", bs_reader_format_name(r, bs_detect_format(head, nh)));
	read_reader(r, &g);
	bs_reader_close(r);
	return g;
}

static bool got_text(const struct got *g, const char *text)
{
	return g->data.n == strlen(text) && memcmp(g->data.p, text, g->data.n) == 0;
}

static bool codec_is(const uint8_t *p, size_t n, const char *c);

static void test_other_codecs(void)
{
	const char *path = tmp_path("codec.bin");
	char fmt[128], want[64];
	for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) {
		const char *c = fixtures[i].codec;
		bool built = bs_decoder_available(c);
		printf("# %s decoder in this build: %s\n", c, built ? "yes" : "no");
		write_file(path, fixtures[i].p, fixtures[i].n);

		/* the path the build without the library takes, in every build */
		bs_decoder_pretend_missing(c);
		struct got g = read_path_fmt(path, fmt, sizeof fmt);
		bs_decoder_pretend_missing(NULL);
		snprintf(want, sizeof want, "%s-unsupported", c);
		is_str(fmt, want, "%s without its decoder: the format says so", c);
		ok(g.damaged && strstr(g.damage, "this build has no") && strstr(g.damage, c),
		   "%s without its decoder: damage names the missing decoder (%s)", c, g.damage);
		is_int(g.data.n, 0, "%s without its decoder: no bytes made up", c);
		bytes_free(&g.data);

		if (!built) {
			printf("ok %d # SKIP %s: built without its decoder\n", ++tap_n, c);
			continue;
		}
		g = read_path_fmt(path, fmt, sizeof fmt);
		snprintf(want, sizeof want, "%s+text", c);
		is_str(fmt, want, "%s: found from its magic bytes, whatever the name", c);
		ok(got_text(&g, fixture_text) && !g.damaged, "%s: decoded whole (%s)", c, g.damage);
		is_int(g.raw_bytes, fixtures[i].n, "%s: every compressed byte consumed", c);
		bytes_free(&g.data);

		/* concatenated streams (pbzip2, appended xz or zstd): all of them */
		struct bytes two = { 0 }, text2 = { 0 };
		bytes_add(&two, fixtures[i].p, fixtures[i].n);
		bytes_add(&two, fixtures[i].p, fixtures[i].n);
		bytes_addstr(&text2, fixture_text);
		bytes_addstr(&text2, fixture_text);
		write_file(path, two.p, two.n);
		g = read_path(path);
		ok(bytes_eq(&g.data, &text2) && !g.damaged, "%s: two concatenated streams both decoded (%s)", c, g.damage);
		bytes_free(&g.data);

		/* cut at every byte: damage "truncated" with the offset, and
		 * what comes out is a prefix of the text */
		size_t bad_trunc = 0, bad_prefix = 0;
		char first_bad[300] = "";
		struct bytes whole = { 0 };
		bytes_addstr(&whole, fixture_text);
		for (size_t cut = fixtures[i].magic; cut < fixtures[i].n; cut++) {
			write_file(path, fixtures[i].p, cut);
			g = read_path(path);
			char want_d[128];
			snprintf(want_d, sizeof want_d, "%s stream truncated at compressed byte offset %zu", c, cut);
			if (!g.damaged || (strcmp(g.damage, want_d) != 0 && !strstr(g.damage, " corrupt at "))) {
				if (!bad_trunc++)
					snprintf(first_bad, sizeof first_bad, "cut %zu: \"%s\"", cut, g.damage);
			}
			bad_prefix += !bytes_is_prefix(&g.data, &whole);
			bytes_free(&g.data);
		}
		is_int(bad_trunc, 0, "%s cut at every byte: always damage, truncated at the cut %s", c, first_bad);
		is_int(bad_prefix, 0, "%s cut at every byte: the output is a prefix of the text", c);

		/* every byte flipped: damage, or exactly the text (never a silent change) */
		size_t silent = 0;
		struct bytes flip = { 0 };
		for (size_t at = 0; at < fixtures[i].n; at++) {
			flip.n = 0;
			bytes_add(&flip, fixtures[i].p, fixtures[i].n);
			flip.p[at] ^= 0x55;
			write_file(path, flip.p, flip.n);
			g = read_path(path);
			if (!g.damaged && !got_text(&g, fixture_text) && codec_is(flip.p, flip.n, c))
				silent++;
			bytes_free(&g.data);
		}
		is_int(silent, 0, "%s with each byte flipped: damage or the original, never a silent change", c);

		/* garbage after the stream */
		two.n = 0;
		bytes_add(&two, fixtures[i].p, fixtures[i].n);
		bytes_addstr(&two, "GARBAGE GARBAGE\n");
		write_file(path, two.p, two.n);
		g = read_path(path);
		ok(g.damaged, "%s then garbage: damage (%s)", c, g.damage);
		ok(bytes_is_prefix(&g.data, &text2), "%s then garbage: nothing made up", c);
		bytes_free(&g.data);
		bytes_free(&flip);
		bytes_free(&whole);
		bytes_free(&two);
		bytes_free(&text2);
	}
}

/* The flipped byte left the magic intact (else it is plain binary, not damage). */
static bool codec_is(const uint8_t *p, size_t n, const char *c)
{
	for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++)
		if (strcmp(fixtures[i].codec, c) == 0)
			return n >= fixtures[i].magic && memcmp(p, fixtures[i].p, fixtures[i].magic) == 0;
	return false;
}

static void test_nested(void)
{
	const char *path = tmp_path("nested.gz");
	char fmt[128];
	struct bytes layer = { 0 }, next = { 0 };
	bytes_addstr(&layer, fixture_text);
	const char *want[] = { "gzip+text", "gzip+gzip+text", "gzip+gzip+gzip+text", "gzip+gzip+gzip+gzip+text" };
	for (int depth = 1; depth <= 5; depth++) {
		next.n = 0;
		gz_member(&next, layer.p, layer.n, NULL);
		layer.n = 0;
		bytes_add(&layer, next.p, next.n);
		write_file(path, layer.p, layer.n);
		struct got g = read_path_fmt(path, fmt, sizeof fmt);
		if (depth <= 4) {
			is_str(fmt, want[depth - 1], "gzip %d deep: the format names every layer", depth);
			ok(got_text(&g, fixture_text) && !g.damaged, "gzip %d deep: decoded whole (%s)", depth, g.damage);
		} else {
			is_str(fmt, "gzip+gzip+gzip+gzip+nested-too-deep", "gzip 5 deep: past the bound, named");
			ok(g.damaged && strstr(g.damage, "nested deeper than 4"), "gzip 5 deep: damage (%s)", g.damage);
			is_int(g.data.n, 0, "gzip 5 deep: no compressed bytes handed out as content");
		}
		bytes_free(&g.data);
	}

	/* gzip inside gzip, the inner one corrupt: damage named in its layer */
	struct bytes inner = { 0 }, outer = { 0 };
	gz_member_str(&inner, fixture_text);
	inner.p[inner.n - 6] ^= 0xff; /* its CRC */
	gz_member(&outer, inner.p, inner.n, NULL);
	write_file(path, outer.p, outer.n);
	struct got g = read_path(path);
	ok(g.damaged && strstr(g.damage, "CRC mismatch") && strstr(g.damage, "layer 2: gzip data inside gzip"),
	   "corrupt gzip inside gzip: damage names the inner layer (%s)", g.damage);
	bytes_free(&g.data);

	/* other codecs nested, where built */
	if (bs_decoder_available("xz")) {
		outer.n = 0;
		gz_member(&outer, fixture_xz, sizeof fixture_xz, NULL);
		write_file(path, outer.p, outer.n);
		g = read_path_fmt(path, fmt, sizeof fmt);
		is_str(fmt, "gzip+xz+text", "xz inside gzip: both layers named");
		ok(got_text(&g, fixture_text) && !g.damaged, "xz inside gzip: decoded (%s)", g.damage);
		bytes_free(&g.data);
		bs_decoder_pretend_missing("xz");
		g = read_path_fmt(path, fmt, sizeof fmt);
		bs_decoder_pretend_missing(NULL);
		is_str(fmt, "gzip+xz-unsupported", "xz inside gzip without the xz decoder: named");
		ok(g.damaged && strstr(g.damage, "xz-compressed data inside gzip"), "... and damage (%s)", g.damage);
		bytes_free(&g.data);
	} else {
		printf("ok %d # SKIP no xz decoder\n", ++tap_n);
	}
	bytes_free(&inner);
	bytes_free(&outer);
	bytes_free(&layer);
	bytes_free(&next);
}

/* A multi-member gzip whose middle member is corrupt: the members after it
 * are read, the skipped span is counted (issue 22, item 4). */
static void test_resync(void)
{
	const char *path = tmp_path("resync.gz");
	struct bytes all = { 0 }, want = { 0 }, member = { 0 };
	struct bytes logs[5] = { { 0 } };
	size_t starts[5], ends[5];
	for (int m = 0; m < 5; m++) {
		make_log(&logs[m], 200 + m);
		starts[m] = all.n;
		member.n = 0;
		gz_member(&member, logs[m].p, logs[m].n, NULL);
		bytes_add(&all, member.p, member.n);
		ends[m] = all.n;
	}
	/* corrupt member 2 in the middle of its deflate data */
	size_t mid = starts[2] + (ends[2] - starts[2]) / 2;
	for (size_t k = mid; k < mid + 16; k++)
		all.p[k] ^= 0xa5;
	write_file(path, all.p, all.n);
	struct got g = read_path(path);
	ok(g.damaged && strstr(g.damage, "resynchronised at the gzip member at compressed byte offset"),
	   "corrupt middle member: damage says where reading resumed (%s)", g.damage);
	char at[64];
	snprintf(at, sizeof at, "offset %zu (", starts[3]);
	ok(strstr(g.damage, at) != NULL, "corrupt middle member: resumed at the next member, %zu", starts[3]);
	ok(g.raw_bytes == all.n, "corrupt middle member: read to the end of the file");
	/* members 0, 1 whole at the start; 3 and 4 whole at the end */
	bytes_add(&want, logs[0].p, logs[0].n);
	bytes_add(&want, logs[1].p, logs[1].n);
	struct bytes tail = { 0 };
	bytes_add(&tail, logs[3].p, logs[3].n);
	bytes_add(&tail, logs[4].p, logs[4].n);
	ok(g.data.n >= want.n + tail.n && memcmp(g.data.p, want.p, want.n) == 0,
	   "corrupt middle member: the members before it come out whole");
	ok(g.data.n >= tail.n && memcmp(g.data.p + g.data.n - tail.n, tail.p, tail.n) == 0,
	   "corrupt middle member: every member after it comes out whole");
	bytes_free(&g.data);

	/* the line reader: every line of members 0, 1, 3, 4 comes out as a line */
	struct lines_got lg = lines_of_path(path);
	size_t lines_after = 0;
	for (size_t k = 0; k < tail.n; k++)
		lines_after += tail.p[k] == '\n';
	ok(lg.count >= 200 + 201 + lines_after, "corrupt middle member: the line reader gives every line of the "
	   "other members (%zu lines, at least %zu)", lg.count, (size_t)(200 + 201) + lines_after);
	/* the serialised last lines must equal the tail's lines */
	struct lines_got want_tail;
	memset(&want_tail, 0, sizeof want_tail);
	for (size_t k = 0, s0 = 0; k < tail.n; k++)
		if (tail.p[k] == '\n') {
			char *line = strndup((const char *)tail.p + s0, k - s0);
			lines_expect(&want_tail, line, false);
			free(line);
			s0 = k + 1;
		}
	ok(lg.ser.n >= want_tail.ser.n &&
	   memcmp(lg.ser.p + lg.ser.n - want_tail.ser.n, want_tail.ser.p, want_tail.ser.n) == 0,
	   "corrupt middle member: the lines after the damage are whole lines, the first one too");
	bytes_free(&lg.ser);
	bytes_free(&want_tail.ser);

	/* the span skipped is counted */
	char err[256];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	struct got g2;
	memset(&g2, 0, sizeof g2);
	read_reader(r, &g2);
	ok(bs_reader_skipped_bytes(r) > 0 && bs_reader_skipped_bytes(r) < ends[2] - starts[2],
	   "corrupt middle member: skipped span counted (%" PRIu64 " bytes, the member has %zu)",
	   bs_reader_skipped_bytes(r), ends[2] - starts[2]);
	bs_reader_close(r);
	bytes_free(&g2.data);

	/* two corrupt members: both skipped, both counted */
	mid = starts[3] + (ends[3] - starts[3]) / 2;
	for (size_t k = mid; k < mid + 16; k++)
		all.p[k] ^= 0xa5;
	write_file(path, all.p, all.n);
	g = read_path(path);
	ok(strstr(g.damage, "2 damaged spans in all"), "two corrupt members: both counted (%s)", g.damage);
	ok(g.data.n >= logs[4].n && memcmp(g.data.p + g.data.n - logs[4].n, logs[4].p, logs[4].n) == 0,
	   "two corrupt members: the last member whole");
	bytes_free(&g.data);

	/* garbage between members (not after the last): skipped, the rest read */
	struct bytes gg = { 0 };
	gz_member_str(&gg, "first\n");
	bytes_addstr(&gg, "some garbage \x1f\x8b in between");
	size_t second = gg.n;
	gz_member_str(&gg, "second\n");
	write_file(path, gg.p, gg.n);
	g = read_path(path);
	ok(got_text(&g, "first\nsecond\n"), "garbage between members: both members read");
	snprintf(at, sizeof at, "offset %zu (%zu bytes skipped)", second, second - (size_t)26);
	ok(g.damaged && strstr(g.damage, "trailing garbage") && strstr(g.damage, at),
	   "garbage between members: the span counted (%s)", g.damage);
	bytes_free(&g.data);
	bytes_free(&gg);
	bytes_free(&tail);
	bytes_free(&want);
	bytes_free(&member);
	bytes_free(&all);
	for (int m = 0; m < 5; m++)
		bytes_free(&logs[m]);
}

/* An endless binary stream on standard input ends (issue 22, item 13). */
static void test_binary_stream(void)
{
	size_t n = 64u << 20; /* four times the bound: the writer is cut off */
	uint8_t *zeros = calloc(1, n);
	struct lines_got lg;
	memset(&lg, 0, sizeof lg);
	int fds[2];
	if (!zeros || pipe(fds) != 0) {
		ok(0, "binary stream: setup");
		free(zeros);
		return;
	}
	if (fds[0] != 0) {
		dup2(fds[0], 0);
		close(fds[0]);
	}
	struct feeder f = { fds[1], zeros, n, 0, 1u << 20 };
	pthread_t t;
	pthread_create(&t, NULL, feed, &f);
	char err[256];
	struct bs_reader *r = bs_reader_open("-", err, sizeof err);
	lines_collect(r, &lg);
	ok(bs_reader_damaged(r) && strstr(bs_reader_damage(r), "binary data on a stream"),
	   "zeros on stdin: given up, and said so (%s)", bs_reader_damage(r));
	ok(bs_reader_raw_bytes(r) <= BS_BINARY_STREAM_MAX + (1u << 20),
	   "zeros on stdin: read at most the bound (%" PRIu64 " bytes)", bs_reader_raw_bytes(r));
	is_int(lg.count, 1, "zeros on stdin: the one (too long) line counted");
	bs_reader_close(r);
	close(0);
	pthread_join(t, NULL);
	bytes_free(&lg.ser);
	free(zeros);

	/* a text stream is not bounded: the same amount of text is read whole */
	struct bytes text = { 0 };
	while (text.n < BS_BINARY_STREAM_MAX + (1u << 20))
		bytes_addstr(&text, "Jan  1 00:00:01 mx postfix/qmgr[1]: ABC: removed\n");
	memset(&lg, 0, sizeof lg);
	read_stdin_fed(text.p, text.n, 0, 1u << 20, &lg, NULL);
	is_int(lg.count, text.n / 49, "text on stdin past the binary bound: every line read");
	bytes_free(&lg.ser);
	bytes_free(&text);
}

static void test_stdin(void)
{
	static const char text[] = "one\ntwo\n";
	struct got g;
	memset(&g, 0, sizeof g);
	read_stdin_fed((const uint8_t *)text, sizeof text - 1, 0, 4096, NULL, &g);
	ok(g.opened && g.data.n == 8 && memcmp(g.data.p, text, 8) == 0, "\"-\" reads standard input");
	bytes_free(&g.data);

	struct bytes gz = { 0 };
	gz_member_str(&gz, text);
	gz_member_str(&gz, text);
	memset(&g, 0, sizeof g);
	read_stdin_fed(gz.p, gz.n, 0, 4096, NULL, &g);
	ok(g.opened && g.data.n == 16 && !g.damaged, "gzip on standard input, two members");
	bytes_free(&g.data);

	/* Cut on stdin: the damage is found the same way. */
	memset(&g, 0, sizeof g);
	read_stdin_fed(gz.p, gz.n - 3, 0, 7, NULL, &g);
	ok(g.damaged && strstr(g.damage, "truncated"), "truncated gzip on standard input (%s)", g.damage);
	bytes_free(&g.data);
	bytes_free(&gz);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* A little-endian pcap with two 60-byte Ethernet frames. */
static void make_pcap(struct bytes *b)
{
	uint8_t gh[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 };
	put_le32(gh + 16, 65535);
	put_le32(gh + 20, 1);
	bytes_add(b, gh, sizeof gh);
	for (uint32_t i = 0; i < 2; i++) {
		uint8_t rh[16];
		put_le32(rh, 1178300000 + i);
		put_le32(rh + 4, 500);
		put_le32(rh + 8, 60);
		put_le32(rh + 12, 60);
		bytes_add(b, rh, sizeof rh);
		uint8_t frame[60];
		memset(frame, (int)i, sizeof frame);
		frame[12] = 0x08;
		frame[13] = 0x00;
		bytes_add(b, frame, sizeof frame);
	}
}

static void test_detect(void)
{
	static const uint8_t magics[4][4] = {
		{ 0xa1, 0xb2, 0xc3, 0xd4 }, { 0xd4, 0xc3, 0xb2, 0xa1 },
		{ 0xa1, 0xb2, 0x3c, 0x4d }, { 0x4d, 0x3c, 0xb2, 0xa1 },
	};
	static const char *const names[4] = { "usec big-endian", "usec little-endian", "nsec big-endian",
	                                       "nsec little-endian" };
	for (int i = 0; i < 4; i++) {
		uint8_t h[24] = { 0 };
		memcpy(h, magics[i], 4);
		is_int(bs_detect_format(h, sizeof h), BS_FMT_PCAP, "pcap %s detected", names[i]);
	}
	uint8_t ng_le[28] = { 0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0 };
	uint8_t ng_be[28] = { 0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0 };
	is_int(bs_detect_format(ng_le, sizeof ng_le), BS_FMT_PCAPNG, "pcapng little-endian detected");
	is_int(bs_detect_format(ng_be, sizeof ng_be), BS_FMT_PCAPNG, "pcapng big-endian detected");
	static const char fake_ng[] = "\n\r\r\nnot a capture, a text line\n";
	is_int(bs_detect_format((const uint8_t *)fake_ng, sizeof fake_ng - 1), BS_FMT_TEXT,
	       "pcapng block type without byte-order magic: text");
	is_int(bs_detect_format(ng_le, 8), BS_FMT_BINARY, "pcapng cut before its byte-order magic: not pcapng");
	is_int(bs_detect_format(NULL, 0), BS_FMT_EMPTY, "no bytes: empty");
	static const char syslog[] = "May  4 17:31:02 web3 httpd[123]: GET /index.php\n";
	is_int(bs_detect_format((const uint8_t *)syslog, sizeof syslog - 1), BS_FMT_TEXT, "syslog line: text");
	static const char latin1[] = "Mai  4 17:31:02 web3 app: utilisateur \xe9l\xe8ve \xff\xfe connect\xe9\n";
	is_int(bs_detect_format((const uint8_t *)latin1, sizeof latin1 - 1), BS_FMT_TEXT,
	       "invalid UTF-8 alone is still text");
	is_int(bs_detect_format((const uint8_t *)"hi", 2), BS_FMT_TEXT, "two letters: text");
	uint8_t zeros[4096] = { 0 };
	is_int(bs_detect_format(zeros, sizeof zeros), BS_FMT_BINARY, "NUL-heavy: binary");
	uint8_t noise[4096];
	uint32_t seed = 42;
	for (size_t i = 0; i < sizeof noise; i++) {
		seed = seed * 1664525u + 1013904223u;
		noise[i] = (uint8_t)(seed >> 24);
	}
	is_int(bs_detect_format(noise, sizeof noise), BS_FMT_BINARY, "random bytes: binary");
	char crash[600];
	memset(crash, 0, 100); /* a log with a NUL block after a crash, then text */
	memset(crash + 100, 'x', 500);
	is_int(bs_detect_format((const uint8_t *)crash, sizeof crash), BS_FMT_BINARY,
	       "a sample one sixth NUL: binary (lines are still counted)");

	is_str(bs_format_name(BS_FMT_TEXT, false), "text", "name text");
	is_str(bs_format_name(BS_FMT_TEXT, true), "gzip+text", "name gzip+text");
	is_str(bs_format_name(BS_FMT_PCAP, false), "pcap", "name pcap");
	is_str(bs_format_name(BS_FMT_PCAP, true), "gzip+pcap", "name gzip+pcap");
	is_str(bs_format_name(BS_FMT_PCAPNG, false), "pcapng", "name pcapng");
	is_str(bs_format_name(BS_FMT_PCAPNG, true), "gzip+pcapng", "name gzip+pcapng");
	is_str(bs_format_name(BS_FMT_EMPTY, false), "empty", "name empty");
	is_str(bs_format_name(BS_FMT_BINARY, false), "binary", "name binary");
	is_str(bs_format_name(BS_FMT_BINARY, true), "gzip+binary", "name gzip+binary");

	/* Through the reader: gzip wrapping a pcap, found by peek. */
	struct bytes pcap = { 0 }, gz = { 0 };
	make_pcap(&pcap);
	gz_member(&gz, pcap.p, pcap.n, NULL);
	const char *path = tmp_path("capture.pcap.gz");
	write_file(path, gz.p, gz.n);
	char err[256];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	uint8_t head[64];
	size_t n = r ? bs_reader_peek(r, head, sizeof head) : 0;
	is_int(n, 64, "peek gives the first decompressed bytes");
	ok(r && bs_reader_is_gzip(r), "gzip+pcap: gzip found from the magic, whatever the name");
	is_str(bs_format_name(bs_detect_format(head, n), r && bs_reader_is_gzip(r)), "gzip+pcap",
	       "gzip+pcap detected through peek");
	n = r ? bs_reader_peek(r, head, 16) : 0;
	ok(n == 16 && memcmp(head, pcap.p, 16) == 0, "a second peek sees the same bytes");
	/* After peek, the stream still starts at byte 0: libpcap reads it. */
	FILE *f = r ? bs_reader_fopen(r) : NULL;
	ok(f != NULL, "fopencookie stream opened");
	if (f) {
		char perr[PCAP_ERRBUF_SIZE];
		pcap_t *pc = pcap_fopen_offline(f, perr);
		ok(pc != NULL, "libpcap opens the decompressed stream (%s)", pc ? "" : perr);
		if (pc) {
			struct pcap_pkthdr *ph;
			const u_char *data;
			int packets = 0;
			while (pcap_next_ex(pc, &ph, &data) == 1)
				packets++;
			is_int(packets, 2, "libpcap reads both packets through the stream");
			is_int(pcap_datalink(pc), DLT_EN10MB, "libpcap sees the link type");
			pcap_close(pc); /* closes f, not the reader */
		} else {
			fclose(f);
		}
	}
	bs_reader_close(r);

	/* The same file, not compressed, named as if it were. */
	write_file(path, pcap.p, pcap.n);
	r = bs_reader_open(path, err, sizeof err);
	n = r ? bs_reader_peek(r, head, 16) : 0;
	ok(r && !bs_reader_is_gzip(r) && bs_detect_format(head, n) == BS_FMT_PCAP,
	   "a plain pcap named .gz is a plain pcap");
	f = r ? bs_reader_fopen(r) : NULL;
	if (f) {
		uint8_t all[512];
		size_t got = fread(all, 1, sizeof all, f);
		ok(got == pcap.n && memcmp(all, pcap.p, got) == 0, "fread on the stream gives the whole file after a peek");
		fclose(f);
	} else {
		ok(0, "fopencookie on a plain file");
	}
	bs_reader_close(r);

	/* Names found through the reader, whatever the file is called. */
	static const char text_line[] = "May  4 17:31:02 host sshd[1]: hello\n";
	const struct {
		const void *p;
		size_t n;
		bool compress;
		const char *want;
	} named[] = {
		{ text_line, sizeof text_line - 1, true, "gzip+text" },
		{ text_line, sizeof text_line - 1, false, "text" },
		{ ng_be, sizeof ng_be, true, "gzip+pcapng" },
		{ ng_le, sizeof ng_le, false, "pcapng" },
		{ noise, sizeof noise, true, "gzip+binary" }, /* the random bytes above */
		{ "", 0, true, "empty" },
		{ "", 0, false, "empty" },
	};
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		gz.n = 0;
		if (named[i].compress)
			gz_member(&gz, named[i].p, named[i].n, NULL);
		else
			bytes_add(&gz, named[i].p, named[i].n);
		write_file(path, gz.p, gz.n);
		r = bs_reader_open(path, err, sizeof err);
		n = r ? bs_reader_peek(r, head, sizeof head) : 0;
		ok(r && !bs_reader_damaged(r) &&
		   strcmp(bs_format_name(bs_detect_format(head, n), bs_reader_is_gzip(r)), named[i].want) == 0,
		   "%s detected through peek", named[i].want);
		bs_reader_close(r);
	}
	bytes_free(&pcap);
	bytes_free(&gz);
}

static const char *corpus_dir(void)
{
	static char buf[1024];
	const char *env = getenv("BS_CORPUS");
	if (env && *env)
		return env;
	const char *top = getenv("top_srcdir");
	snprintf(buf, sizeof buf, "%s/../shared/corpus", top && *top ? top : "..");
	return buf;
}

/* Real files: what we read must match zlib's own gzread, byte for byte. */
static void test_corpus(void)
{
	char dir[1200];
	const char *subdirs[] = { "maillog", "weblog" };
	size_t files = 0, mismatched = 0, lines_off = 0;
	char first_bad[3000] = "";
	for (size_t s = 0; s < 2; s++) {
		snprintf(dir, sizeof dir, "%s/%s", corpus_dir(), subdirs[s]);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char path[2600];
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			gzFile zf = gzopen(path, "rb");
			if (!zf)
				continue;
			uLong ref_crc = crc32(0, NULL, 0);
			uint64_t ref_n = 0, ref_lf = 0;
			uint8_t buf[65536];
			int n;
			while ((n = gzread(zf, buf, sizeof buf)) > 0) {
				ref_crc = crc32(ref_crc, buf, (uInt)n);
				ref_n += (uint64_t)n;
				for (int i = 0; i < n; i++)
					ref_lf += buf[i] == '\n';
			}
			gzclose(zf);
			struct got g = read_path(path);
			files++;
			if (!g.opened || g.damaged || g.data.n != ref_n ||
			    crc32(crc32(0, NULL, 0), g.data.p, (uInt)g.data.n) != ref_crc) {
				if (!mismatched++)
					snprintf(first_bad, sizeof first_bad, "%s %s", path, g.damage);
			}
			struct lines_got lg = lines_of_path(path);
			bool partial = g.data.n > 0 && g.data.p[g.data.n - 1] != '\n';
			if (lg.count != ref_lf + partial)
				lines_off++;
			bytes_free(&lg.ser);
			bytes_free(&g.data);
		}
		closedir(d);
	}
	if (files == 0) {
		printf("# corpus not found under %s: corpus checks skipped\n", corpus_dir());
		return;
	}
	is_int(mismatched, 0, "corpus: %zu logs read identical to zlib's gzread %s", files, first_bad);
	is_int(lines_off, 0, "corpus: line counts match LF counts");

	/* Every capture of the corpus is found to be pcap or pcapng. */
	snprintf(dir, sizeof dir, "%s/pcap", corpus_dir());
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t captures = 0, misdetected = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[2600];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		char err[256];
		struct bs_reader *r = bs_reader_open(path, err, sizeof err);
		if (!r)
			continue;
		uint8_t head[4096];
		size_t n = bs_reader_peek(r, head, sizeof head);
		enum bs_format f = bs_detect_format(head, n);
		captures++;
		if (f != BS_FMT_PCAP && f != BS_FMT_PCAPNG) {
			if (!misdetected++)
				snprintf(first_bad, sizeof first_bad, "%s: %s", e->d_name, bs_format_name(f, bs_reader_is_gzip(r)));
		}
		bs_reader_close(r);
	}
	closedir(d);
	is_int(misdetected, 0, "corpus: %zu captures detected as pcap/pcapng %s", captures, first_bad);
}

/* The line end owed after a resynchronisation (a member cut mid-line, then
 * skipped damage) comes before anything else: before the next member's
 * bytes, also when the damage was found while producing nothing, and before
 * the end when the member found is damaged too. Found by fuzz_decode. */
static void test_resync_line_end(void)
{
	const char *path = tmp_path("resync-lf.gz");
	struct bytes b = { 0 };
	gz_member_str(&b, "first\npartial");
	size_t bad = b.n;
	gz_member_str(&b, "lost\n");
	b.p[bad + 10] |= 0x06; /* its first deflate block of the reserved type 3 */
	gz_member_str(&b, "next\n");
	write_file(path, b.p, b.n);
	struct got g = read_path(path);
	ok(got_text(&g, "first\npartial\nnext\n"), "corrupt member at its first block: the cut line ends before the "
	   "next member (%zu bytes)", g.data.n);
	bytes_free(&g.data);

	b.n = 0;
	gz_member_str(&b, "first\npartial");
	bytes_addstr(&b, "garbage");
	bad = b.n;
	gz_member_str(&b, "lost\n");
	b.p[bad + 10] |= 0x06;
	write_file(path, b.p, b.n);
	char err[256];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	memset(&g, 0, sizeof g);
	read_reader(r, &g);
	uint8_t after[16];
	ok(got_text(&g, "first\npartial\n"), "resynchronised at a damaged member: the cut line ends before the end "
	   "(%zu bytes)", g.data.n);
	is_int(bs_reader_read(r, after, sizeof after), 0, "resynchronised at a damaged member: nothing after the end");
	ok(strstr(g.damage, "2 damaged spans in all"), "resynchronised at a damaged member: both spans counted (%s)",
	   g.damage);
	bs_reader_close(r);
	bytes_free(&g.data);
	bytes_free(&b);
}

/* bs_crc32 (folded with carry-less multiplies where the CPU has them) is
 * zlib's crc32: every length to 1,100 at four alignments, from random and
 * zero registers, chained in random pieces, and 1 MiB at once; each buffer
 * allocated to its exact size, so that an overread trips the sanitizers. */
static void test_crc32(void)
{
	unsigned seed = 7, wrong = 0, runs = 0;
	for (size_t n = 0; n <= 1100; n++)
		for (size_t off = 0; off < 4; off++) {
			uint8_t *b = malloc(n + off ? n + off : 1);
			for (size_t i = 0; i < n + off; i++)
				b[i] = (uint8_t)rand_r(&seed);
			uint32_t init = n % 3 ? (uint32_t)rand_r(&seed) : 0;
			wrong += bs_crc32(init, b + off, n) != (uint32_t)crc32_z(init, b + off, n);
			runs++;
			free(b);
		}
	size_t big = (size_t)1 << 20;
	uint8_t *b = malloc(big);
	for (size_t i = 0; i < big; i++)
		b[i] = (uint8_t)rand_r(&seed);
	uint32_t whole = (uint32_t)crc32_z(0, b, big), chained = 0;
	for (size_t at = 0; at < big;) {
		size_t k = 1 + (size_t)rand_r(&seed) % 5000;
		if (k > big - at)
			k = big - at;
		chained = bs_crc32(chained, b + at, k);
		at += k;
	}
	free(b);
	printf("# CRC-32 folded with carry-less multiplies: %s\n", bs_crc32_folds() ? "yes" : "no (zlib's table)");
	is_int(wrong, 0, "bs_crc32 == zlib crc32 on %u buffers (lengths 0..1100, four alignments)", runs);
	is_int(chained, whole, "bs_crc32 over 1 MiB in random pieces == zlib's CRC of the whole");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* Thousands of small fixtures are written: memory-backed if possible. */
	snprintf(tmpdir, sizeof tmpdir, "/dev/shm/bs-test-input.XXXXXX");
	if (!mkdtemp(tmpdir))
		snprintf(tmpdir, sizeof tmpdir, "/tmp/bs-test-input.XXXXXX");
	if (tmpdir[1] == 't' && !mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	printf("# ISA-L inflater: %s\n",
#ifdef HAVE_ISAL
	       "yes"
#else
	       "no (zlib)"
#endif
	);
	/* first: they measure the peak memory */
	test_gzip_bomb();
	test_huge_line();
	test_crc32();
	test_plain_and_gzip();
	test_mtime_and_open();
	test_truncated();
	test_corrupt();
	test_trailing();
	test_random_bodies();
	test_lines();
	test_long_lines();
	test_stdin();
	test_other_codecs();
	test_nested();
	test_resync();
	test_resync_line_end();
	test_binary_stream();
	test_detect();
	test_corpus();

	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return tap_done();
}

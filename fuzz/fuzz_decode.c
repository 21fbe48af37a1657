/* fuzz_decode.c - the input layer's decoder stack: gzip (multi-member,
 * resynchronised after a corrupt member), bzip2, xz, zstd (those this build
 * has), and compression nested inside compression.
 *
 * The fuzz input is a file's bytes and nothing else: compression is
 * recognised from content, as for any input, so the seeds are real .gz,
 * .bz2, .xz and .zst files (fuzz/mkseeds.py) mutated in compressed form. A
 * memory file opened by path is read twice, each time by a fresh reader:
 *  1. in reads of odd sizes, each into its own exactly-sized heap block (as
 *     Suricata's harnesses hand out chunks), so that a decoder writing one
 *     byte past the caller's buffer trips ASan; up to DECODED_MAX bytes, as
 *     a 64 KiB input can expand to gigabytes (zstd RLE blocks, a gzip of a
 *     gzip) and a bomb is not a finding (memory stays flat: tests/hostile.sh);
 *  2. when it fits in DECODED_MAX, as breachscope reads a text input
 *     (src/cli/scan.c): damage reported to a diagnostics sink, peek, format
 *     detection, the format name, every line, the damage and the counters.
 * Both reads must agree, or it aborts: the same bytes and the same damage.
 * Only where the damage lies in a bzip2, xz or zstd layer may the bytes
 * before it differ: those libraries find an error sooner or later depending
 * on the room they are given to write into (zstd hands out a raw block's
 * bytes to a small buffer before it sees the next block is corrupt). Our
 * gzip framing and the inflater must not: the same bytes whatever the reads. */
#include "config.h"
#include "fuzz_util.h"
#include "src/input/input.h"

/* Decoded bytes read before the input counts as a bomb and is left. Below
 * BS_LINE_MAX, so that no line of a read that fits is cut. */
#define DECODED_MAX ((size_t)BS_LINE_MAX - 1)

/* Sizes of the reads of pass 1, in turn: single bytes, sizes around the
 * stages' 10-byte magic probe, and large reads. */
static const size_t read_sizes[] = { 1, 2, 9, 10, 11, 4095, 65537, 1, 262145 };

struct decoded {
	uint64_t hash; /* FNV-1a of the bytes */
	size_t len;
	bool has_cr;   /* the line reader drops a CR before LF: no byte compare then */
	bool ends_lf;
	bool damaged;
	uint64_t skipped;
	char damage[BS_ERRBUF_SIZE + 128];
	bool foreign_layer; /* a bzip2, xz or zstd layer */
};

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}
#define FNV_START 0xcbf29ce484222325ull

static void keep_damage(struct decoded *d, struct bs_reader *r)
{
	const char *layers = bs_reader_format_name(r, BS_FMT_TEXT);
	d->foreign_layer = strstr(layers, "bzip2") || strstr(layers, "xz") || strstr(layers, "zstd");
	d->damaged = bs_reader_damaged(r);
	d->skipped = bs_reader_skipped_bytes(r);
	snprintf(d->damage, sizeof d->damage, "%s", bs_reader_damage(r));
}

/* Pass 1. False when the decoded stream is longer than DECODED_MAX. */
static bool read_chunks(const char *path, struct decoded *d)
{
	char err[256];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (!r)
		abort(); /* a memory file always opens */
	d->hash = FNV_START;
	bool whole = false;
	for (size_t i = 0; d->len <= DECODED_MAX; i++) {
		size_t want = read_sizes[i % (sizeof read_sizes / sizeof *read_sizes)];
		uint8_t *chunk = malloc(want);
		if (!chunk)
			abort();
		size_t got = bs_reader_read(r, chunk, want);
		if (got > want)
			abort();
		if (got == 0) {
			free(chunk);
			whole = true;
			break;
		}
		d->hash = fnv(d->hash, chunk, got);
		d->has_cr = d->has_cr || memchr(chunk, '\r', got) != NULL;
		d->ends_lf = chunk[got - 1] == '\n';
		d->len += got;
		free(chunk);
	}
	if (whole && bs_reader_read(r, &(uint8_t){ 0 }, 1) != 0)
		abort(); /* the end stays the end */
	keep_damage(d, r);
	bs_reader_close(r);
	return whole;
}

/* Every damage report goes through here: read it all. */
static void diag_sink(void *ctx, uint32_t input, uint64_t ref, bool from_capture, const char *layer,
                      const char *reason)
{
	(void)ctx;
	(void)ref;
	size_t n = strlen(reason);
	if (input != 7 || from_capture || !layer[0] || n == 0 || n >= BS_ERRBUF_SIZE)
		abort();
	fuzz_touch(bs_str_make(reason, n));
	fuzz_touch(bs_str_make(layer, strlen(layer)));
}

/* Pass 2: as a text input is read. */
static void read_lines(const char *path, struct decoded *d)
{
	char err[256];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (!r)
		abort();
	static const struct bs_diag diag = { diag_sink, NULL };
	bs_reader_set_diag(r, &diag, 7);
	uint8_t head[4096];
	size_t nh = bs_reader_peek(r, head, sizeof head);
	enum bs_format fmt = bs_detect_format(head, nh);
	const char *name = bs_reader_format_name(r, fmt);
	fuzz_touch(bs_str_make(name, strlen(name)));
	(void)bs_reader_is_gzip(r);
	(void)bs_reader_mtime(r);
	struct bs_lines *l = bs_lines_new(r);
	bs_str line;
	bool too_long;
	d->hash = FNV_START;
	/* A cut line (too_long) only comes from a read that decoded more than
	 * pass 1 (damage in a bzip2, xz or zstd layer): its length differs. */
	while (bs_lines_next(l, &line, &too_long)) {
		fuzz_touch(line);
		d->hash = fnv(d->hash, (const uint8_t *)line.p, line.n);
		d->hash = fnv(d->hash, (const uint8_t *)"\n", 1);
		d->len += line.n + 1;
	}
	bs_lines_free(l);
	if (bs_reader_raw_bytes(r) > bs_reader_raw_size(r))
		abort(); /* more consumed than the file holds */
	keep_damage(d, r);
	bs_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *bytes = fuzz_dup(data, size);
	char path[64];
	int fd = fuzz_memfile(bytes, size, path, sizeof path);
	struct decoded chunks = { 0 }, lines = { 0 };
	if (read_chunks(path, &chunks)) {
		read_lines(path, &lines);
		/* The line reader gives every line with an LF (a last line
		 * without one gets it here): the same bytes, unless CRs went. */
		size_t want_len = chunks.len + (chunks.len > 0 && !chunks.ends_lf);
		if (!chunks.has_cr && !chunks.ends_lf && chunks.len > 0)
			chunks.hash = fnv(chunks.hash, (const uint8_t *)"\n", 1);
		bool exact = !chunks.damaged || !chunks.foreign_layer;
		if (chunks.damaged != lines.damaged)
			abort();
		if (exact && !chunks.has_cr && (lines.len != want_len || lines.hash != chunks.hash))
			abort();
		if (exact && (chunks.skipped != lines.skipped || strcmp(chunks.damage, lines.damage) != 0))
			abort();
	}
	close(fd);
	free(bytes);
	return 0;
}

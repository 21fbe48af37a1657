/* input.c - byte streams over plain or compressed files (gzip, bzip2, xz,
 * zstd, nested), format detection from content, and the in-place line reader.
 *
 * gzip framing (header, trailer, member boundaries, padding, garbage) is
 * parsed here, and the inflater (zlib, or ISA-L when HAVE_ISAL) only ever
 * sees raw deflate data: both builds then judge damage by the same rules and
 * report it with the same words, whatever the engine.
 */
#include "config.h"
#include "src/input/input.h"
#include "src/input/crc32.h"
#include "src/core/bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif
#ifdef HAVE_BZIP2
#include <bzlib.h>
#endif
#ifdef HAVE_LZMA
#include <lzma.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

/* Compressed (or plain) bytes are read in chunks this large. */
#define RAW_BUF_SIZE (256u << 10)
#define PEEK_MAX 4096u
/* Bytes read at open to recognise gzip and take the header MTIME. */
#define HEAD_PROBE 10u

/* ------------------------------------------------------------ detection */

const char *bs_format_name(enum bs_format f, bool gzip)
{
	switch (f) {
	case BS_FMT_EMPTY: return "empty";
	case BS_FMT_TEXT: return gzip ? "gzip+text" : "text";
	case BS_FMT_PCAP: return gzip ? "gzip+pcap" : "pcap";
	case BS_FMT_PCAPNG: return gzip ? "gzip+pcapng" : "pcapng";
	case BS_FMT_BINARY: return gzip ? "gzip+binary" : "binary";
	}
	return gzip ? "gzip+binary" : "binary";
}

static bool is_pcap_magic(const uint8_t *p)
{
	static const uint8_t magics[4][4] = {
		{ 0xa1, 0xb2, 0xc3, 0xd4 }, { 0xd4, 0xc3, 0xb2, 0xa1 }, /* usec */
		{ 0xa1, 0xb2, 0x3c, 0x4d }, { 0x4d, 0x3c, 0xb2, 0xa1 }, /* nsec */
	};
	for (size_t i = 0; i < 4; i++)
		if (memcmp(p, magics[i], 4) == 0)
			return true;
	return false;
}

static bool is_pcapng_start(const uint8_t *p, size_t n)
{
	/* The section header block type is a palindrome, so it says nothing
	 * about byte order: the byte-order magic at offset 8 must confirm it,
	 * or a text file starting with "\n\r\r\n" would pass for a capture. */
	static const uint8_t shb[4] = { 0x0a, 0x0d, 0x0d, 0x0a };
	static const uint8_t bom_le[4] = { 0x4d, 0x3c, 0x2b, 0x1a };
	static const uint8_t bom_be[4] = { 0x1a, 0x2b, 0x3c, 0x4d };
	return n >= 12 && memcmp(p, shb, 4) == 0 &&
	       (memcmp(p + 8, bom_le, 4) == 0 || memcmp(p + 8, bom_be, 4) == 0);
}

/* Text unless control bytes are more than 5% of the sample. Bytes >= 0x80
 * count as text: logs in Latin-1 or with broken UTF-8 are still logs. Random
 * or compressed data has about 10% control bytes (NUL included), text logs
 * almost none. */
static bool looks_binary(const uint8_t *p, size_t n)
{
	size_t sample = n < PEEK_MAX ? n : PEEK_MAX, control = 0;
	for (size_t i = 0; i < sample; i++) {
		uint8_t c = p[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
		    c != '\v' && c != '\b' && c != 0x1b)
			control++;
		else if (c == 0x7f)
			control++;
	}
	return control * 20 > sample;
}

enum bs_format bs_detect_format(const uint8_t *p, size_t n)
{
	if (n == 0)
		return BS_FMT_EMPTY;
	if (n >= 4 && is_pcap_magic(p))
		return BS_FMT_PCAP;
	if (is_pcapng_start(p, n))
		return BS_FMT_PCAPNG;
	return looks_binary(p, n) ? BS_FMT_BINARY : BS_FMT_TEXT;
}

/* --------------------------------------------------------------- reader */

/* Copy up to n bytes of src[*pos..len) out and advance *pos. */
static size_t take_buffered(const uint8_t *src, size_t *pos, size_t len, void *out, size_t n)
{
	size_t take = len - *pos;
	if (take > n)
		take = n;
	memcpy(out, src + *pos, take);
	*pos += take;
	return take;
}

/* The reader is a stack of stages: stage 0 reads the file; each stage above
 * decodes the bytes the stage below it produces. A stage with codec
 * CODEC_NONE passes its input on (only stage 0 can be one). */
enum codec { CODEC_NONE, CODEC_GZIP, CODEC_BZIP2, CODEC_XZ, CODEC_ZSTD };
static const char *const codec_names[] = { "plain", "gzip", "bzip2", "xz", "zstd" };
static const char *const codec_packages[] = { "", "zlib1g-dev", "libbz2-dev", "liblzma-dev", "libzstd-dev" };

/* Bytes of a stage's output looked at to recognise the next layer. */
#define MAGIC_PROBE 10u
/* Memory a decoder may ask for from the stream's header: xz -9 needs 65 MiB,
 * zstd's default window limit is 128 MiB (window log 27). */
#define XZ_MEMLIMIT ((uint64_t)128 << 20)
#define ZSTD_WINDOWLOG_MAX 27

static enum codec codec_of(const uint8_t *p, size_t n)
{
	static const uint8_t xz[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	static const uint8_t zstd[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	static const uint8_t bz_block[6] = { 0x31, 0x41, 0x59, 0x26, 0x53, 0x59 }; /* pi */
	static const uint8_t bz_end[6] = { 0x17, 0x72, 0x45, 0x38, 0x50, 0x90 };   /* sqrt(pi): empty */
	if (n >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8)
		return CODEC_GZIP;
	if (n >= 6 && memcmp(p, xz, 6) == 0)
		return CODEC_XZ;
	if (n >= 4 && memcmp(p, zstd, 4) == 0)
		return CODEC_ZSTD;
	if (n >= 10 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9' &&
	    (memcmp(p + 4, bz_block, 6) == 0 || memcmp(p + 4, bz_end, 6) == 0))
		return CODEC_BZIP2;
	return CODEC_NONE;
}

static unsigned pretend_missing; /* bit per codec, for tests */

void bs_decoder_pretend_missing(const char *codec)
{
	if (!codec) {
		pretend_missing = 0;
		return;
	}
	for (size_t i = 1; i < sizeof codec_names / sizeof *codec_names; i++)
		if (strcmp(codec, codec_names[i]) == 0)
			pretend_missing |= 1u << i;
}

static bool codec_built(enum codec c)
{
	if (pretend_missing & (1u << c))
		return false;
	switch (c) {
	case CODEC_NONE:
	case CODEC_GZIP:
		return true;
	case CODEC_BZIP2:
#ifdef HAVE_BZIP2
		return true;
#else
		return false;
#endif
	case CODEC_XZ:
#ifdef HAVE_LZMA
		return true;
#else
		return false;
#endif
	case CODEC_ZSTD:
#ifdef HAVE_ZSTD
		return true;
#else
		return false;
#endif
	}
	return false;
}

bool bs_decoder_available(const char *codec)
{
	for (size_t i = 1; i < sizeof codec_names / sizeof *codec_names; i++)
		if (strcmp(codec, codec_names[i]) == 0)
			return codec_built((enum codec)i);
	return false;
}

enum gz_state {
	GZ_HEADER,  /* at the start of a member (its first byte is s->gz_first) */
	GZ_DATA,    /* inflating a member's deflate data */
	GZ_TRAILER, /* CRC32 and ISIZE of the member */
	GZ_NEXT,    /* between members: another member, zero padding, or the end */
};

struct stage {
	struct bs_reader *r;
	struct stage *below; /* NULL: stage 0, reading the file */
	enum codec codec;
	unsigned depth;
	bool done;           /* its stream ended (the end, or damage it cannot pass) */

	/* Input bytes: in[in_pos..in_len) is unread; in[0] is at offset in_base
	 * of this stage's input. back[] holds bytes an engine read ahead and
	 * gave back: they come before in[in_pos]. */
	uint8_t *in;
	size_t in_pos, in_len;
	uint64_t in_base;
	bool in_eof;
	uint8_t back[8];
	unsigned back_pos, back_n;

	/* Output bytes read to recognise the next layer and given back. */
	uint8_t pend[MAGIC_PROBE];
	size_t pend_pos, pend_len;
	bool produced_any;
	uint8_t last_out;    /* the last byte produced */
	bool lf_owed;        /* after a skipped span: end the cut line first */

	/* gzip */
	enum gz_state gz_state;
	int gz_first;             /* first byte of the next member, -1 if not read */
	uint64_t member_start;    /* input offset of the current member */
	uint64_t member_count;
	uint32_t member_crc;
	uint64_t member_out;
#ifdef HAVE_ISAL
	struct inflate_state *isal;
#else
	z_stream zs;
	bool zs_ready;
#endif
#ifdef HAVE_BZIP2
	bz_stream bz;
	bool bz_ready, bz_in_stream;
#endif
#ifdef HAVE_LZMA
	lzma_stream xz;
	bool xz_ready;
#endif
#ifdef HAVE_ZSTD
	ZSTD_DStream *zd;
	size_t zd_hint;           /* last ZSTD_decompressStream result: 0 at a frame's end */
#endif
};

struct bs_reader {
	int fd;
	bool own_fd;
	bool stream;  /* not a regular file: its end is not known in advance */
	bool done;    /* no more bytes will be produced (the reader gave up) */
	bool damaged;
	bool fatal_seen; /* a damage that ended a stage was recorded */
	char damage[BS_ERRBUF_SIZE];           /* the first damage */
	char damage_all[BS_ERRBUF_SIZE + 128]; /* ... and the count of spans when more than one */
	const struct bs_diag *diag;            /* where each damage is reported as it is found */
	uint32_t diag_input;
	unsigned damage_spans;
	uint64_t skipped;

	struct stage *stages[BS_MAX_LAYERS + 1];
	unsigned nstages;
	struct stage *top;
	const char *unsupported; /* "xz-unsupported", "nested-too-deep", or NULL */
	char unsup[32];
	char format[96];

	/* Decompressed bytes looked at by peek and not yet read. */
	uint8_t peek[PEEK_MAX];
	size_t peek_pos, peek_len;
	uint64_t delivered;      /* bytes handed to the caller */

	int64_t mtime;
	uint64_t raw_size;
};

/* " (in layer 2, the gzip data inside bzip2)": where an offset of an inner
 * stage lies. Empty for stage 0, whose offsets are file offsets. */
static void layer_label(const struct stage *s, char *buf, size_t n)
{
	buf[0] = 0;
	if (s->depth == 0)
		return;
	snprintf(buf, n, " (layer %u: %s data inside %s)", s->depth + 1, codec_names[s->codec],
	         codec_names[s->below->codec]);
}

/* s NULL: damage of the reader as a whole (no layer named). */
static void record_damage(struct bs_reader *r, struct stage *s, bool fatal, uint64_t skipped, const char *fmt,
                          va_list ap)
{
	/* Damage that ends a stage ends the stages above it too, which then
	 * see their input end early: that is the same damage, not counted twice. */
	if (fatal) {
		if (s)
			s->done = true;
		else
			r->done = true;
		if (r->fatal_seen)
			return;
		r->fatal_seen = true;
	}
	r->skipped += skipped;
	r->damage_spans++;
	char label[96] = "";
	if (s)
		layer_label(s, label, sizeof label);
	char msg[BS_ERRBUF_SIZE];
	int k = vsnprintf(msg, sizeof msg, fmt, ap);
	if (k >= 0 && (size_t)k < sizeof msg)
		snprintf(msg + k, sizeof msg - (size_t)k, "%s", label);
	bs_diag(r->diag, r->diag_input, 0, false, s ? codec_names[s->codec] : "input", "%s", msg);
	if (!r->damaged) {
		r->damaged = true;
		snprintf(r->damage, sizeof r->damage, "%s", msg);
	}
	if (r->damage_spans > 1)
		snprintf(r->damage_all, sizeof r->damage_all, "%s; %u damaged spans in all, %" PRIu64 " compressed bytes skipped",
		         r->damage, r->damage_spans, r->skipped);
	else
		snprintf(r->damage_all, sizeof r->damage_all, "%s", r->damage);
}

/* Damage that ends the stream. */
static void set_damage(struct stage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_damage(struct stage *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record_damage(s->r, s, true, 0, fmt, ap);
	va_end(ap);
}

/* Damage the stage reads past (skipping `skipped` input bytes). */
static void note_damage(struct stage *s, uint64_t skipped, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note_damage(struct stage *s, uint64_t skipped, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record_damage(s->r, s, false, skipped, fmt, ap);
	va_end(ap);
}

/* Damage of the reader as a whole, that ends it. */
static void reader_fatal(struct bs_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reader_fatal(struct bs_reader *r, const char *fmt, ...)
{
	if (r->done)
		return;
	va_list ap;
	va_start(ap, fmt);
	record_damage(r, NULL, true, 0, fmt, ap);
	va_end(ap);
}

/* Input offset of the next byte to be consumed. */
static uint64_t raw_offset(const struct stage *s)
{
	return s->in_base + s->in_pos - (s->back_n - s->back_pos);
}

static ssize_t read_retry(int fd, void *buf, size_t n)
{
	for (;;) {
		ssize_t got = read(fd, buf, n);
		if (got >= 0 || errno != EINTR)
			return got;
	}
}

static size_t stage_produce(struct stage *s, uint8_t *out, size_t n);

/* Refill in[] once it is all consumed. False at the end of the input. */
static bool raw_refill(struct stage *s)
{
	if (s->in_pos < s->in_len)
		return true;
	if (s->in_eof)
		return false;
	s->in_base += s->in_len;
	s->in_pos = s->in_len = 0;
	if (s->below) {
		size_t got = stage_produce(s->below, s->in, RAW_BUF_SIZE);
		if (got == 0) {
			s->in_eof = true;
			return false;
		}
		s->in_len = got;
		return true;
	}
	ssize_t got = read_retry(s->r->fd, s->in, RAW_BUF_SIZE);
	if (got < 0) {
		s->in_eof = true;
		set_damage(s, "read error at byte offset %" PRIu64 " (%s)", s->in_base, strerror(errno));
		return false;
	}
	if (got == 0) {
		s->in_eof = true;
		return false;
	}
	s->in_len = (size_t)got;
	return true;
}

/* Next input byte, or -1 at the end of the input. */
static int raw_getc(struct stage *s)
{
	if (s->back_pos < s->back_n)
		return s->back[s->back_pos++];
	if (s->in_pos == s->in_len && !raw_refill(s))
		return -1;
	return s->in[s->in_pos++];
}

static void damage_truncated(struct stage *s)
{
	set_damage(s, "%s %s truncated at compressed byte offset %" PRIu64, codec_names[s->codec],
	           s->codec == CODEC_GZIP ? "member" : "stream", raw_offset(s));
}

/* ------------------------------------------------------- inflate engines */

enum engine_rc { ENGINE_MORE, ENGINE_END, ENGINE_ERROR };

#ifdef HAVE_ISAL
static bool engine_init(struct stage *s)
{
	s->isal = malloc(sizeof *s->isal);
	if (s->isal)
		isal_inflate_init(s->isal);
	return s->isal != NULL;
}

static void engine_member_start(struct stage *s)
{
	isal_inflate_reset(s->isal);
	s->isal->crc_flag = ISAL_GZIP_NO_HDR; /* raw deflate, CRC32 of the output kept */
	s->isal->hist_bits = 0;
}

static const char *isal_reason(int rc)
{
	switch (rc) {
	case ISAL_INVALID_BLOCK: return "invalid block";
	case ISAL_INVALID_SYMBOL: return "invalid code";
	case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
	default: return "invalid deflate data";
	}
}

static enum engine_rc engine_run(struct stage *s, uint8_t *out, size_t n, size_t *produced,
                                 const char **why)
{
	struct inflate_state *st = s->isal;
	size_t in_avail = s->in_len - s->in_pos;
	st->next_in = s->in + s->in_pos;
	st->avail_in = (uint32_t)(in_avail < UINT32_MAX ? in_avail : UINT32_MAX);
	st->next_out = out;
	st->avail_out = (uint32_t)(n < (1u << 30) ? n : (1u << 30));
	uint32_t out_before = st->avail_out;
	int rc = isal_inflate(st);
	s->in_pos = (size_t)(st->next_in - s->in);
	*produced = out_before - st->avail_out;
	if (rc < 0) {
		*why = isal_reason(rc);
		return ENGINE_ERROR;
	}
	if (st->block_state != ISAL_BLOCK_FINISH)
		return ENGINE_MORE;
	/* ISA-L reads 64 bits at a time: whole bytes past the end of the deflate
	 * data sit in its bit buffer. They are the trailer's first bytes. */
	int spare_bits = st->read_in_length > 0 ? st->read_in_length : 0;
	uint64_t spare = st->read_in >> (spare_bits % 8);
	s->back_pos = 0;
	s->back_n = (unsigned)(spare_bits / 8);
	for (unsigned i = 0; i < s->back_n; i++)
		s->back[i] = (uint8_t)(spare >> (8 * i));
	s->member_crc = st->crc;
	return ENGINE_END;
}

static void engine_free(struct stage *s)
{
	free(s->isal);
}
#else
static bool engine_init(struct stage *s)
{
	memset(&s->zs, 0, sizeof s->zs);
	s->zs_ready = inflateInit2(&s->zs, -MAX_WBITS) == Z_OK; /* raw deflate */
	return s->zs_ready;
}

static void engine_member_start(struct stage *s)
{
	inflateReset(&s->zs);
}

static enum engine_rc engine_run(struct stage *s, uint8_t *out, size_t n, size_t *produced,
                                 const char **why)
{
	z_stream *zs = &s->zs;
	size_t in_avail = s->in_len - s->in_pos;
	zs->next_in = s->in + s->in_pos;
	zs->avail_in = (uInt)(in_avail < UINT_MAX ? in_avail : UINT_MAX);
	zs->next_out = out;
	zs->avail_out = (uInt)(n < (1u << 30) ? n : (1u << 30));
	uInt out_before = zs->avail_out;
	int rc = inflate(zs, Z_NO_FLUSH);
	s->in_pos = (size_t)(zs->next_in - s->in);
	*produced = out_before - zs->avail_out;
	s->member_crc = bs_crc32(s->member_crc, out, *produced);
	if (rc == Z_STREAM_END)
		return ENGINE_END;
	if (rc == Z_OK || rc == Z_BUF_ERROR)
		return ENGINE_MORE;
	*why = zs->msg ? zs->msg : "invalid deflate data";
	return ENGINE_ERROR;
}

static void engine_free(struct stage *s)
{
	if (s->zs_ready)
		inflateEnd(&s->zs);
}
#endif

/* ----------------------------------------------------------- gzip framing */

/* Skip n input bytes; false if the input ends first. */
static bool raw_skip(struct stage *s, uint32_t n)
{
	while (n > 0) {
		if (s->back_pos < s->back_n) {
			s->back_pos++;
			n--;
			continue;
		}
		if (s->in_pos == s->in_len && !raw_refill(s))
			return false;
		size_t take = s->in_len - s->in_pos;
		if (take > n)
			take = n;
		s->in_pos += take;
		n -= (uint32_t)take;
	}
	return true;
}

/* Skip a NUL-terminated header field (name, comment) of any length without
 * keeping it; false if the input ends first. */
static bool raw_skip_cstring(struct stage *s)
{
	for (;;) {
		while (s->back_pos < s->back_n)
			if (s->back[s->back_pos++] == 0)
				return true;
		if (s->in_pos == s->in_len && !raw_refill(s))
			return false;
		const uint8_t *p = s->in + s->in_pos;
		const uint8_t *nul = memchr(p, 0, s->in_len - s->in_pos);
		if (nul) {
			s->in_pos += (size_t)(nul - p) + 1;
			return true;
		}
		s->in_pos = s->in_len;
	}
}

/* The optional fields of a member header whose 10 fixed bytes h[] (starting
 * at input offset start) were read and checked. False (damage set) if the
 * input ends inside them. */
static bool gz_header_rest(struct stage *s, const uint8_t h[10], uint64_t start)
{
	uint8_t flags = h[3];
	if (flags & 0x04) { /* FEXTRA */
		int lo = raw_getc(s), hi = lo < 0 ? -1 : raw_getc(s);
		if (hi < 0 || !raw_skip(s, (uint32_t)lo | ((uint32_t)hi << 8))) {
			damage_truncated(s);
			return false;
		}
	}
	if (((flags & 0x08) && !raw_skip_cstring(s)) || /* FNAME */
	    ((flags & 0x10) && !raw_skip_cstring(s)) || /* FCOMMENT */
	    ((flags & 0x02) && !raw_skip(s, 2))) {      /* FHCRC */
		damage_truncated(s);
		return false;
	}
	if (s->member_count == 0 && s->depth == 0 && start == 0) {
		uint32_t mtime = bs_le32(h + 4);
		if (mtime != 0)
			s->r->mtime = mtime;
	}
	s->member_start = start;
	s->member_crc = 0;
	s->member_out = 0;
	return true;
}

/* Whether w[0..n) can begin a member header as gzip writes them: the magic,
 * deflate, no reserved flag, XFL 0, 2 or 4, a known OS (0..13) or 255. */
static bool gz_header_plausible(const uint8_t *w, size_t n)
{
	return (n < 1 || w[0] == 0x1f) && (n < 2 || w[1] == 0x8b) && (n < 3 || w[2] == 8) &&
	       (n < 4 || (w[3] & 0xe0) == 0) && (n < 9 || w[8] == 0 || w[8] == 2 || w[8] == 4) &&
	       (n < 10 || w[9] <= 13 || w[9] == 255);
}

/* After damage at input offset damage_at (what says what it was): skip to the
 * next plausible member header and go on from there, or to the end of the
 * input. seed[] holds bytes after damage_at already consumed that may begin
 * that header. The skipped span is counted and reported. */
static void gz_resync(struct stage *s, uint64_t damage_at, const char *what, const uint8_t *seed, size_t nseed)
{
	uint8_t w[10];
	size_t have = 0;
	for (size_t i = 0;; i++) {
		int c;
		if (i < nseed)
			c = seed[i];
		else if ((c = raw_getc(s)) < 0)
			break;
		if (have == 0 && c != 0x1f)
			continue;
		w[have++] = (uint8_t)c;
		while (have > 0 && !gz_header_plausible(w, have)) {
			size_t k = 1;
			while (k < have && w[k] != 0x1f)
				k++;
			memmove(w, w + k, have - k);
			have -= k;
		}
		if (have == sizeof w) {
			uint64_t at = raw_offset(s) - sizeof w;
			note_damage(s, at - damage_at, "%s; resynchronised at the gzip member at compressed byte offset %" PRIu64
			            " (%" PRIu64 " bytes skipped)", what, at, at - damage_at);
			if (!gz_header_rest(s, w, at))
				return;
			engine_member_start(s);
			s->gz_state = GZ_DATA;
			s->lf_owed = s->produced_any && s->last_out != '\n';
			return;
		}
	}
	if (s->done)
		return; /* a read error ended it */
	uint64_t end = raw_offset(s);
	note_damage(s, end - damage_at, "%s; no gzip member after it (%" PRIu64 " bytes skipped to the end)", what,
	            end - damage_at);
	s->done = true;
}

/* Read the rest of a member header whose first byte (s->gz_first) was already
 * consumed. Returns false when it is not a valid header (then damage is set
 * and, unless the input ended, the stage has resynchronised). */
static bool gz_read_header(struct stage *s)
{
	uint64_t start = raw_offset(s) - 1;
	uint8_t h[10];
	char what[160];
	h[0] = (uint8_t)s->gz_first;
	for (size_t i = 1; i < sizeof h; i++) {
		int c = raw_getc(s);
		if (c < 0) {
			/* A byte or two of stray data after a member is garbage, not
			 * a member that was cut short. */
			if (s->member_count > 0 && i == 1) {
				note_damage(s, raw_offset(s) - start, "trailing garbage after gzip member at compressed byte offset %" PRIu64
				            "; no gzip member after it (%" PRIu64 " bytes skipped to the end)", start, raw_offset(s) - start);
				s->done = true;
				return false;
			}
			damage_truncated(s);
			return false;
		}
		h[i] = (uint8_t)c;
		if ((i == 1 && c != 0x8b) || (i == 2 && c != 8)) {
			snprintf(what, sizeof what, "trailing garbage after gzip member at compressed byte offset %" PRIu64, start);
			gz_resync(s, start, what, h + 1, i);
			return false;
		}
	}
	uint8_t flags = h[3];
	if (flags & 0xe0) {
		snprintf(what, sizeof what, "invalid gzip header (reserved flags 0x%02x) at compressed byte offset %" PRIu64,
		         flags, start);
		gz_resync(s, start, what, h + 1, sizeof h - 1);
		return false;
	}
	return gz_header_rest(s, h, start);
}

static bool gz_read_trailer(struct stage *s)
{
	uint64_t at = raw_offset(s);
	uint8_t t[8];
	for (size_t i = 0; i < sizeof t; i++) {
		int c = raw_getc(s);
		if (c < 0) {
			damage_truncated(s);
			return false;
		}
		t[i] = (uint8_t)c;
	}
	uint32_t crc = bs_le32(t);
	uint32_t isize = bs_le32(t + 4);
	/* The member's bytes are out already: say so and go on with the next. */
	if (crc != s->member_crc)
		note_damage(s, 0, "gzip member CRC mismatch at compressed byte offset %" PRIu64
		            " (member starting at %" PRIu64 ")", at, s->member_start);
	else if (isize != (uint32_t)s->member_out)
		note_damage(s, 0, "gzip member length mismatch at compressed byte offset %" PRIu64
		            " (member starting at %" PRIu64 ")", at + 4, s->member_start);
	s->member_count++;
	return true;
}

/* After a member: the end, another member, or zero padding to the end (as
 * tape and block devices leave it, and gzip accepts). Anything else is
 * garbage, skipped up to a member header that may follow. */
static void gz_next(struct stage *s)
{
	int c = raw_getc(s);
	if (c < 0) {
		s->done = true;
		return;
	}
	if (c == 0) {
		while ((c = raw_getc(s)) == 0)
			;
		if (c < 0) {
			s->done = true;
			return;
		}
		uint64_t at = raw_offset(s) - 1;
		char what[128];
		snprintf(what, sizeof what, "trailing garbage after gzip member at compressed byte offset %" PRIu64, at);
		uint8_t seed = (uint8_t)c;
		gz_resync(s, at, what, &seed, 1);
		return;
	}
	s->gz_first = c;
	s->gz_state = GZ_HEADER;
}

static size_t gz_produce(struct stage *s, uint8_t *out, size_t n)
{
	unsigned stalls = 0;
	while (!s->done) {
		/* The line end owed after a resynchronisation goes out before
		 * anything else: before the next member's bytes (a resync
		 * found while producing nothing goes on to inflate), and before
		 * the end (that member may be damaged too). */
		if (s->lf_owed) {
			s->lf_owed = false;
			out[0] = '\n';
			return 1;
		}
		switch (s->gz_state) {
		case GZ_HEADER:
			if (!gz_read_header(s))
				break; /* resynchronised (GZ_DATA), or done */
			engine_member_start(s);
			s->gz_state = GZ_DATA;
			break;
		case GZ_DATA: {
			/* At the end of the input the engine still gets a call: ISA-L
			 * holds decoded bytes back until it knows no more input comes. */
			bool at_end = s->in_pos == s->in_len && !raw_refill(s);
			size_t got = 0;
			const char *why = "";
			enum engine_rc rc = engine_run(s, out, n, &got, &why);
			s->member_out += got;
			if (rc == ENGINE_ERROR) {
				uint64_t at = raw_offset(s);
				char what[192];
				snprintf(what, sizeof what, "gzip data corrupt at compressed byte offset %" PRIu64 " (%s)", at, why);
				if (got > 0) { /* for the line end owed after the skip */
					s->produced_any = true;
					s->last_out = out[got - 1];
				}
				gz_resync(s, at, what, NULL, 0);
				if (got > 0)
					return got;
				break;
			}
			if (rc == ENGINE_END)
				s->gz_state = GZ_TRAILER;
			if (got > 0)
				return got;
			if (at_end && rc == ENGINE_MORE) {
				damage_truncated(s);
				return 0;
			}
			/* An engine that neither reads nor writes while both sides
			 * have room would spin forever: call it corrupt. */
			if (rc == ENGINE_MORE && s->in_pos < s->in_len && ++stalls > 4) {
				uint64_t at = raw_offset(s);
				char what[128];
				snprintf(what, sizeof what, "gzip data corrupt at compressed byte offset %" PRIu64 " (no progress)", at);
				gz_resync(s, at, what, NULL, 0);
				stalls = 0;
			}
			break;
		}
		case GZ_TRAILER:
			if (!gz_read_trailer(s))
				return 0;
			s->gz_state = GZ_NEXT;
			break;
		case GZ_NEXT:
			gz_next(s);
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------- bzip2, xz, zstd stages */

/* Streams of these formats may be concatenated (pbzip2, xz and zstd append
 * whole streams or frames): each decoder goes on after a stream's end while
 * input remains. Damage ends the stage: unlike gzip, their framing has no
 * header a reader can find again reliably. */

#ifdef HAVE_BZIP2
static const char *bz_reason(int rc)
{
	switch (rc) {
	case BZ_DATA_ERROR: return "data error";
	case BZ_DATA_ERROR_MAGIC: return "bad magic";
	case BZ_MEM_ERROR: return "out of memory";
	default: return "decoder error";
	}
}

static size_t bz_produce(struct stage *s, uint8_t *out, size_t n)
{
	while (!s->done) {
		bool at_end = s->in_pos == s->in_len && !raw_refill(s);
		if (at_end) {
			if (s->bz_in_stream)
				damage_truncated(s);
			else
				s->done = true;
			return 0;
		}
		if (!s->bz_in_stream) {
			if (s->bz_ready)
				BZ2_bzDecompressEnd(&s->bz);
			memset(&s->bz, 0, sizeof s->bz);
			s->bz_ready = BZ2_bzDecompressInit(&s->bz, 0, 0) == BZ_OK;
			if (!s->bz_ready) {
				set_damage(s, "bzip2 decoder could not start (out of memory)");
				return 0;
			}
			s->bz_in_stream = true;
		}
		size_t in_avail = s->in_len - s->in_pos;
		s->bz.next_in = (char *)(s->in + s->in_pos);
		s->bz.avail_in = (unsigned)(in_avail < UINT_MAX ? in_avail : UINT_MAX);
		s->bz.next_out = (char *)out;
		s->bz.avail_out = (unsigned)(n < (1u << 30) ? n : (1u << 30));
		unsigned out_before = s->bz.avail_out;
		int rc = BZ2_bzDecompress(&s->bz);
		s->in_pos = (size_t)((uint8_t *)s->bz.next_in - s->in);
		size_t got = out_before - s->bz.avail_out;
		if (rc == BZ_STREAM_END) {
			s->bz_in_stream = false;
		} else if (rc != BZ_OK) {
			set_damage(s, "bzip2 data corrupt at compressed byte offset %" PRIu64 " (%s)", raw_offset(s),
			           bz_reason(rc));
			return got;
		}
		if (got > 0)
			return got;
	}
	return 0;
}
#endif

#ifdef HAVE_LZMA
static const char *xz_reason(lzma_ret rc)
{
	switch (rc) {
	case LZMA_FORMAT_ERROR: return "not xz data";
	case LZMA_OPTIONS_ERROR: return "unsupported options";
	case LZMA_DATA_ERROR: return "data error";
	case LZMA_BUF_ERROR: return "unexpected end";
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_MEMLIMIT_ERROR: return "needs more memory than the 128 MiB allowed";
	default: return "decoder error";
	}
}

static size_t xz_produce(struct stage *s, uint8_t *out, size_t n)
{
	while (!s->done) {
		bool at_end = s->in_pos == s->in_len && !raw_refill(s);
		size_t in_avail = s->in_len - s->in_pos;
		s->xz.next_in = s->in + s->in_pos;
		s->xz.avail_in = in_avail;
		s->xz.next_out = out;
		s->xz.avail_out = n;
		lzma_ret rc = lzma_code(&s->xz, at_end ? LZMA_FINISH : LZMA_RUN);
		s->in_pos = (size_t)(s->xz.next_in - s->in);
		size_t got = n - s->xz.avail_out;
		if (rc == LZMA_STREAM_END) {
			s->done = true;
			return got;
		}
		if (rc != LZMA_OK) {
			if (at_end && rc == LZMA_BUF_ERROR)
				damage_truncated(s);
			else
				set_damage(s, "xz data corrupt at compressed byte offset %" PRIu64 " (%s)", raw_offset(s),
				           xz_reason(rc));
			return got;
		}
		if (got > 0)
			return got;
		if (at_end) {
			damage_truncated(s);
			return 0;
		}
	}
	return 0;
}
#endif

#ifdef HAVE_ZSTD
static size_t zstd_produce(struct stage *s, uint8_t *out, size_t n)
{
	while (!s->done) {
		bool at_end = s->in_pos == s->in_len && !raw_refill(s);
		if (at_end) {
			if (s->zd_hint != 0)
				damage_truncated(s);
			else
				s->done = true;
			return 0;
		}
		ZSTD_inBuffer ib = { s->in, s->in_len, s->in_pos };
		ZSTD_outBuffer ob = { out, n, 0 };
		size_t rc = ZSTD_decompressStream(s->zd, &ob, &ib);
		s->in_pos = ib.pos;
		if (ZSTD_isError(rc)) {
			set_damage(s, "zstd data corrupt at compressed byte offset %" PRIu64 " (%s)", raw_offset(s),
			           ZSTD_getErrorName(rc));
			return ob.pos;
		}
		s->zd_hint = rc;
		if (ob.pos > 0)
			return ob.pos;
	}
	return 0;
}
#endif

/* ------------------------------------------------------------- stages */

/* Stage 0 without compression: its probe bytes, then the file itself. */
static size_t plain_produce(struct stage *s, uint8_t *out, size_t n)
{
	if (s->done)
		return 0;
	if (s->in_pos < s->in_len)
		return take_buffered(s->in, &s->in_pos, s->in_len, out, n);
	if (s->in_eof) {
		s->done = true;
		return 0;
	}
	/* Straight into the caller's buffer: no copy for plain files. */
	ssize_t got = read_retry(s->r->fd, out, n);
	if (got <= 0) {
		s->in_eof = s->done = true;
		if (got < 0)
			set_damage(s, "read error at byte offset %" PRIu64 " (%s)", s->in_base + s->in_len, strerror(errno));
		return 0;
	}
	s->in_base += (size_t)got; /* in[] stays empty: in_base counts what was read past it */
	return (size_t)got;
}

static size_t stage_produce(struct stage *s, uint8_t *out, size_t n)
{
	if (n == 0 || s->r->done)
		return 0;
	if (s->pend_pos < s->pend_len)
		return take_buffered(s->pend, &s->pend_pos, s->pend_len, out, n);
	size_t got = 0;
	switch (s->codec) {
	case CODEC_NONE: got = plain_produce(s, out, n); break;
	case CODEC_GZIP: got = gz_produce(s, out, n); break;
#ifdef HAVE_BZIP2
	case CODEC_BZIP2: got = bz_produce(s, out, n); break;
#endif
#ifdef HAVE_LZMA
	case CODEC_XZ: got = xz_produce(s, out, n); break;
#endif
#ifdef HAVE_ZSTD
	case CODEC_ZSTD: got = zstd_produce(s, out, n); break;
#endif
	default: break;
	}
	if (got > 0) {
		s->produced_any = true;
		s->last_out = out[got - 1];
	}
	return got;
}

/* Set up the decoder of a stage whose codec is set. False: out of memory. */
static bool stage_init(struct stage *s)
{
	switch (s->codec) {
	case CODEC_NONE:
		return true;
	case CODEC_GZIP:
		if (!engine_init(s))
			return false;
		s->gz_state = GZ_HEADER;
		s->gz_first = raw_getc(s);
		/* Parse the first header now so that the MTIME is known at once. */
		if (gz_read_header(s)) {
			engine_member_start(s);
			s->gz_state = GZ_DATA;
		}
		return true;
#ifdef HAVE_BZIP2
	case CODEC_BZIP2:
		return true; /* each stream starts its decoder */
#endif
#ifdef HAVE_LZMA
	case CODEC_XZ: {
		lzma_stream init = LZMA_STREAM_INIT;
		s->xz = init;
		s->xz_ready = lzma_stream_decoder(&s->xz, XZ_MEMLIMIT, LZMA_CONCATENATED) == LZMA_OK;
		return s->xz_ready;
	}
#endif
#ifdef HAVE_ZSTD
	case CODEC_ZSTD:
		s->zd = ZSTD_createDStream();
		if (!s->zd)
			return false;
		ZSTD_DCtx_setParameter(s->zd, ZSTD_d_windowLogMax, ZSTD_WINDOWLOG_MAX);
		return true;
#endif
	default:
		return true;
	}
}

static void stage_free(struct stage *s)
{
	if (!s)
		return;
	switch (s->codec) {
	case CODEC_GZIP:
		engine_free(s);
		break;
#ifdef HAVE_BZIP2
	case CODEC_BZIP2:
		if (s->bz_ready)
			BZ2_bzDecompressEnd(&s->bz);
		break;
#endif
#ifdef HAVE_LZMA
	case CODEC_XZ:
		if (s->xz_ready)
			lzma_end(&s->xz);
		break;
#endif
#ifdef HAVE_ZSTD
	case CODEC_ZSTD:
		ZSTD_freeDStream(s->zd);
		break;
#endif
	default:
		break;
	}
	free(s->in);
	free(s);
}

static struct stage *stage_new(struct bs_reader *r, struct stage *below)
{
	struct stage *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->in = malloc(RAW_BUF_SIZE);
	if (!s->in) {
		free(s);
		return NULL;
	}
	s->r = r;
	s->below = below;
	s->depth = r->nstages;
	s->gz_first = -1;
	r->stages[r->nstages++] = s;
	return s;
}

/* Read the first bytes s produces into buf (up to MAGIC_PROBE). */
static size_t stage_probe(struct stage *s, uint8_t *buf)
{
	size_t have = 0;
	while (have < MAGIC_PROBE) {
		size_t got = stage_produce(s, buf + have, MAGIC_PROBE - have);
		if (got == 0)
			break;
		have += got;
	}
	return have;
}

static void reader_unsupported(struct bs_reader *r, enum codec c)
{
	snprintf(r->unsup, sizeof r->unsup, "%s-unsupported", codec_names[c]);
	r->unsupported = r->unsup;
	char inside[64] = "";
	if (r->nstages > 0 && r->top->codec != CODEC_NONE)
		snprintf(inside, sizeof inside, " inside %s", codec_names[r->top->codec]);
	reader_fatal(r, "%s-compressed data%s, but this build has no %s decoder "
	           "(configure --with-%s; Debian package %s)", codec_names[c], inside, codec_names[c],
	           c == CODEC_XZ ? "lzma" : codec_names[c], codec_packages[c]);
}

/* Stack the decoders: while the top stage's output starts with a
 * compression's magic, put its decoder on top. False: out of memory. */
static bool reader_stack(struct bs_reader *r)
{
	struct stage *s0 = r->stages[0];
	enum codec c = codec_of(s0->in, s0->in_len);
	if (c == CODEC_NONE)
		return true;
	if (!codec_built(c)) {
		reader_unsupported(r, c);
		return true;
	}
	s0->codec = c;
	if (!stage_init(s0))
		return false;
	for (;;) {
		struct stage *top = r->top;
		uint8_t head[MAGIC_PROBE];
		size_t nh = stage_probe(top, head);
		/* give the bytes back to the top stage, before anything else it has */
		memcpy(top->pend, head, nh);
		top->pend_pos = 0;
		top->pend_len = nh;
		c = codec_of(head, nh);
		if (c == CODEC_NONE)
			return true;
		if (r->nstages == BS_MAX_LAYERS) {
			r->unsupported = "nested-too-deep";
			reader_fatal(r, "compression nested deeper than %u layers (the next is %s)", BS_MAX_LAYERS,
			           codec_names[c]);
			return true;
		}
		if (!codec_built(c)) {
			/* the name of what was found, after the layers above it */
			reader_unsupported(r, c);
			return true;
		}
		struct stage *s = stage_new(r, top);
		if (!s)
			return false;
		/* its input starts with the probed bytes */
		memcpy(s->in, top->pend, nh);
		s->in_len = nh;
		top->pend_len = top->pend_pos = 0;
		s->codec = c;
		r->top = s;
		if (!stage_init(s))
			return false;
	}
}


/* ------------------------------------------------------------- the reader */

static size_t produce(struct bs_reader *r, uint8_t *out, size_t n)
{
	if (n == 0 || !r->top)
		return 0;
	size_t got = stage_produce(r->top, out, n);
	r->delivered += got;
	return got;
}

struct bs_reader *bs_reader_open(const char *path, char *err, size_t errlen)
{
	bool is_stdin = strcmp(path, "-") == 0;
	int fd = 0;
	if (!is_stdin) {
		/* O_NONBLOCK so that opening a FIFO cannot hang before we refuse it. */
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return NULL;
		}
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (!is_stdin)
			close(fd);
		return NULL;
	}
	if (!is_stdin) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file", path);
			close(fd);
			return NULL;
		}
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}

	struct bs_reader *r = calloc(1, sizeof *r);
	struct stage *s0 = r ? stage_new(r, NULL) : NULL;
	if (!s0) {
		free(r);
		if (!is_stdin)
			close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	r->top = s0;
	r->fd = fd;
	r->own_fd = !is_stdin;
	if (S_ISREG(st.st_mode)) {
		r->raw_size = (uint64_t)st.st_size;
		r->mtime = (int64_t)st.st_mtime;
	} else {
		r->stream = true;
		r->mtime = (int64_t)time(NULL);
	}

	/* Pipes hand out what was written so far: read until the probe is full. */
	while (s0->in_len < HEAD_PROBE && !s0->in_eof) {
		ssize_t got = read_retry(fd, s0->in + s0->in_len, RAW_BUF_SIZE - s0->in_len);
		if (got < 0) {
			set_damage(s0, "read error at byte offset %zu (%s)", s0->in_len, strerror(errno));
			s0->in_eof = true;
		} else if (got == 0) {
			s0->in_eof = true;
		} else {
			s0->in_len += (size_t)got;
		}
	}
	if (!reader_stack(r)) {
		snprintf(err, errlen, "%s: cannot initialise a decompressor (out of memory)", path);
		bs_reader_close(r);
		return NULL;
	}
	return r;
}

size_t bs_reader_read(struct bs_reader *r, void *buf, size_t n)
{
	if (r->peek_pos < r->peek_len)
		return take_buffered(r->peek, &r->peek_pos, r->peek_len, buf, n);
	return produce(r, buf, n);
}

size_t bs_reader_peek(struct bs_reader *r, void *buf, size_t n)
{
	if (n > PEEK_MAX)
		n = PEEK_MAX;
	if (r->peek_pos > 0) {
		memmove(r->peek, r->peek + r->peek_pos, r->peek_len - r->peek_pos);
		r->peek_len -= r->peek_pos;
		r->peek_pos = 0;
	}
	while (r->peek_len < n) {
		size_t got = produce(r, r->peek + r->peek_len, n - r->peek_len);
		if (got == 0)
			break;
		r->peek_len += got;
	}
	size_t have = r->peek_len < n ? r->peek_len : n;
	memcpy(buf, r->peek, have);
	return have;
}

bool bs_reader_is_gzip(const struct bs_reader *r) { return r->stages[0]->codec == CODEC_GZIP; }
bool bs_reader_damaged(const struct bs_reader *r) { return r->damaged; }
const char *bs_reader_damage(const struct bs_reader *r) { return r->damaged ? r->damage_all : ""; }

void bs_reader_set_diag(struct bs_reader *r, const struct bs_diag *diag, uint32_t input)
{
	r->diag = diag;
	r->diag_input = input;
}
uint64_t bs_reader_raw_size(const struct bs_reader *r) { return r->raw_size; }
uint64_t bs_reader_skipped_bytes(const struct bs_reader *r) { return r->skipped; }
int64_t bs_reader_mtime(const struct bs_reader *r) { return r->mtime; }

uint64_t bs_reader_raw_bytes(const struct bs_reader *r)
{
	return raw_offset(r->stages[0]);
}

const char *bs_reader_format_name(struct bs_reader *r, enum bs_format content)
{
	size_t k = 0;
	r->format[0] = 0;
	for (unsigned i = 0; i < r->nstages && r->stages[i]->codec != CODEC_NONE; i++) {
		int w = snprintf(r->format + k, sizeof r->format - k, "%s+", codec_names[r->stages[i]->codec]);
		if (w > 0 && (size_t)w < sizeof r->format - k)
			k += (size_t)w;
	}
	const char *what = r->unsupported ? r->unsupported : bs_format_name(content, false);
	snprintf(r->format + k, sizeof r->format - k, "%s", what);
	return r->format;
}

static ssize_t cookie_read(void *cookie, char *buf, size_t size)
{
	return (ssize_t)bs_reader_read(cookie, buf, size);
}

static int cookie_close(void *cookie)
{
	(void)cookie; /* the reader belongs to the caller */
	return 0;
}

FILE *bs_reader_fopen(struct bs_reader *r)
{
	cookie_io_functions_t io = { .read = cookie_read, .write = NULL, .seek = NULL, .close = cookie_close };
	return fopencookie(r, "r", io);
}

void bs_reader_close(struct bs_reader *r)
{
	if (!r)
		return;
	for (unsigned i = r->nstages; i-- > 0;)
		stage_free(r->stages[i]);
	if (r->own_fd)
		close(r->fd);
	free(r);
}

/* ---------------------------------------------------------- line reader */

#define LINES_BUF_START RAW_BUF_SIZE
/* Room for a longest whole line and its CR LF. */
#define LINES_BUF_MAX ((size_t)BS_LINE_MAX + 2)
/* Below this much free room at the end, move the partial line to the front
 * before reading, so that reads stay large. */
#define LINES_MIN_READ (64u << 10)

struct bs_lines {
	struct bs_reader *r;
	char *buf;
	size_t cap;
	size_t pos;  /* start of the next line */
	size_t len;  /* bytes in buf */
	size_t scan; /* buf[pos..scan) holds no LF */
	bool eof;
	bool skipping; /* inside the rest of a line cut at BS_LINE_MAX */
	uint64_t lineno;
	uint64_t read_total;
	uint64_t read_limit; /* binary stream: give up past this many bytes; 0: none */
};

struct bs_lines *bs_lines_new(struct bs_reader *r)
{
	struct bs_lines *l = bs_xcalloc(1, sizeof *l);
	l->r = r;
	l->cap = LINES_BUF_START;
	l->buf = bs_xmalloc(l->cap);
	if (r->stream) {
		/* A binary file ends; a binary stream may not (zeros from a
		 * device, a wrong pipe): it gets a bounded prefix. */
		uint8_t head[PEEK_MAX];
		size_t n = bs_reader_peek(r, head, sizeof head);
		if (bs_detect_format(head, n) == BS_FMT_BINARY)
			l->read_limit = BS_BINARY_STREAM_MAX;
	}
	return l;
}

static void lines_fill(struct bs_lines *l)
{
	if (l->pos > 0 && (l->len == l->cap || l->cap - l->len < LINES_MIN_READ)) {
		memmove(l->buf, l->buf + l->pos, l->len - l->pos);
		l->len -= l->pos;
		l->scan -= l->pos;
		l->pos = 0;
	}
	if (l->len == l->cap) {
		/* Only a line longer than the buffer gets here; the cap on a line
		 * bounds the growth. */
		size_t cap = l->cap * 2 < LINES_BUF_MAX ? l->cap * 2 : LINES_BUF_MAX;
		l->buf = bs_xrealloc(l->buf, cap);
		l->cap = cap;
	}
	if (l->read_limit && l->read_total >= l->read_limit) {
		reader_fatal(l->r, "binary data on a stream (not a regular file): gave up after the first %" PRIu64
		             " bytes", l->read_total);
		l->eof = true;
		return;
	}
	size_t got = bs_reader_read(l->r, l->buf + l->len, l->cap - l->len);
	if (got == 0)
		l->eof = true;
	l->len += got;
	l->read_total += got;
}

static void lines_hand_out(struct bs_lines *l, size_t end, size_t next, bs_str *line)
{
	size_t n = end - l->pos;
	if (n > 0 && l->buf[l->pos + n - 1] == '\r')
		n--;
	*line = bs_str_make(l->buf + l->pos, n);
	l->pos = l->scan = next;
	l->lineno++;
}

bool bs_lines_next(struct bs_lines *l, bs_str *line, bool *too_long)
{
	*too_long = false;
	for (;;) {
		if (l->skipping) {
			const char *nl = memchr(l->buf + l->pos, '\n', l->len - l->pos);
			if (nl) {
				l->pos = l->scan = (size_t)(nl - l->buf) + 1;
				l->skipping = false;
			} else {
				/* Drop what was read of the long line: nothing kept. */
				l->pos = l->len = l->scan = 0;
				if (l->eof)
					return false;
				lines_fill(l);
				continue;
			}
		}
		const char *nl = memchr(l->buf + l->scan, '\n', l->len - l->scan);
		if (nl) {
			size_t end = (size_t)(nl - l->buf);
			lines_hand_out(l, end, end + 1, line);
			return true;
		}
		l->scan = l->len;
		size_t pending = l->len - l->pos;
		if (pending >= LINES_BUF_MAX) {
			*line = bs_str_make(l->buf + l->pos, BS_LINE_MAX);
			*too_long = true;
			l->pos = l->scan = l->pos + BS_LINE_MAX;
			l->skipping = true;
			l->lineno++;
			return true;
		}
		if (l->eof) {
			if (pending == 0)
				return false;
			lines_hand_out(l, l->len, l->len, line); /* a last line without LF */
			return true;
		}
		lines_fill(l);
	}
}

uint64_t bs_lines_lineno(const struct bs_lines *l) { return l->lineno; }

void bs_lines_free(struct bs_lines *l)
{
	if (!l)
		return;
	free(l->buf);
	free(l);
}

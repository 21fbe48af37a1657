/* input.c - byte streams over plain or gzip files, format detection from
 * content, and the in-place line reader.
 *
 * gzip framing (header, trailer, member boundaries, padding, garbage) is
 * parsed here, and the inflater (zlib, or ISA-L when HAVE_ISAL) only ever
 * sees raw deflate data: both builds then judge damage by the same rules and
 * report it with the same words, whatever the engine.
 */
#include "config.h"
#include "src/input/input.h"
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

enum gz_state {
	GZ_HEADER,  /* at the start of a member (its first byte is r->gz_first) */
	GZ_DATA,    /* inflating a member's deflate data */
	GZ_TRAILER, /* CRC32 and ISIZE of the member */
	GZ_NEXT,    /* between members: another member, zero padding, or the end */
};

struct bs_reader {
	int fd;
	bool own_fd;
	bool gzip;
	bool done;    /* no more bytes will be produced */
	bool damaged;
	char damage[BS_ERRBUF_SIZE];
	const struct bs_diag *diag;  /* where damage is reported as it is found */
	uint32_t diag_input;

	/* Raw (file) bytes: in[in_pos..in_len) is unread; in[0] is at file
	 * offset in_base. back[] holds bytes an engine read ahead and gave back:
	 * they come before in[in_pos]. */
	uint8_t *in;
	size_t in_pos, in_len;
	uint64_t in_base;
	bool in_eof;
	uint8_t back[8];
	unsigned back_pos, back_n;

	/* Decompressed bytes looked at by peek and not yet read. */
	uint8_t peek[PEEK_MAX];
	size_t peek_pos, peek_len;

	enum gz_state gz_state;
	int gz_first;             /* first byte of the next member, -1 if not read */
	uint64_t member_start;    /* file offset of the current member */
	uint64_t member_count;
	uint32_t member_crc;
	uint64_t member_out;

	int64_t mtime;
	uint64_t raw_size;

#ifdef HAVE_ISAL
	struct inflate_state *isal;
#else
	z_stream zs;
	bool zs_ready;
#endif
};

static void set_damage(struct bs_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_damage(struct bs_reader *r, const char *fmt, ...)
{
	r->done = true;
	if (r->damaged)
		return; /* the first damage is the one that matters */
	r->damaged = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->damage, sizeof r->damage, fmt, ap);
	va_end(ap);
	bs_diag(r->diag, r->diag_input, 0, false, r->gzip ? "gzip" : "input", "%s", r->damage);
}

void bs_reader_set_diag(struct bs_reader *r, const struct bs_diag *diag, uint32_t input)
{
	r->diag = diag;
	r->diag_input = input;
}

/* File offset of the next raw byte to be consumed. */
static uint64_t raw_offset(const struct bs_reader *r)
{
	return r->in_base + r->in_pos - (r->back_n - r->back_pos);
}

static ssize_t read_retry(int fd, void *buf, size_t n)
{
	for (;;) {
		ssize_t got = read(fd, buf, n);
		if (got >= 0 || errno != EINTR)
			return got;
	}
}

/* Refill in[] once it is all consumed. False at the end of the file. */
static bool raw_refill(struct bs_reader *r)
{
	if (r->in_pos < r->in_len)
		return true;
	if (r->in_eof)
		return false;
	r->in_base += r->in_len;
	r->in_pos = r->in_len = 0;
	ssize_t got = read_retry(r->fd, r->in, RAW_BUF_SIZE);
	if (got < 0) {
		r->in_eof = true;
		set_damage(r, "read error at byte offset %" PRIu64 " (%s)", r->in_base, strerror(errno));
		return false;
	}
	if (got == 0) {
		r->in_eof = true;
		return false;
	}
	r->in_len = (size_t)got;
	return true;
}

/* Next raw byte, or -1 at the end of the file. */
static int raw_getc(struct bs_reader *r)
{
	if (r->back_pos < r->back_n)
		return r->back[r->back_pos++];
	if (r->in_pos == r->in_len && !raw_refill(r))
		return -1;
	return r->in[r->in_pos++];
}

static void damage_truncated(struct bs_reader *r)
{
	if (!r->damaged)
		set_damage(r, "gzip member truncated at compressed byte offset %" PRIu64, raw_offset(r));
}

/* ------------------------------------------------------- inflate engines */

enum engine_rc { ENGINE_MORE, ENGINE_END, ENGINE_ERROR };

#ifdef HAVE_ISAL
static bool engine_init(struct bs_reader *r)
{
	r->isal = malloc(sizeof *r->isal);
	if (r->isal)
		isal_inflate_init(r->isal);
	return r->isal != NULL;
}

static void engine_member_start(struct bs_reader *r)
{
	isal_inflate_reset(r->isal);
	r->isal->crc_flag = ISAL_GZIP_NO_HDR; /* raw deflate, CRC32 of the output kept */
	r->isal->hist_bits = 0;
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

static enum engine_rc engine_run(struct bs_reader *r, uint8_t *out, size_t n, size_t *produced,
                                 const char **why)
{
	struct inflate_state *st = r->isal;
	size_t in_avail = r->in_len - r->in_pos;
	st->next_in = r->in + r->in_pos;
	st->avail_in = (uint32_t)(in_avail < UINT32_MAX ? in_avail : UINT32_MAX);
	st->next_out = out;
	st->avail_out = (uint32_t)(n < (1u << 30) ? n : (1u << 30));
	uint32_t out_before = st->avail_out;
	int rc = isal_inflate(st);
	r->in_pos = (size_t)(st->next_in - r->in);
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
	r->back_pos = 0;
	r->back_n = (unsigned)(spare_bits / 8);
	for (unsigned i = 0; i < r->back_n; i++)
		r->back[i] = (uint8_t)(spare >> (8 * i));
	r->member_crc = st->crc;
	return ENGINE_END;
}

static void engine_free(struct bs_reader *r)
{
	free(r->isal);
}
#else
static bool engine_init(struct bs_reader *r)
{
	memset(&r->zs, 0, sizeof r->zs);
	r->zs_ready = inflateInit2(&r->zs, -MAX_WBITS) == Z_OK; /* raw deflate */
	return r->zs_ready;
}

static void engine_member_start(struct bs_reader *r)
{
	inflateReset(&r->zs);
}

static enum engine_rc engine_run(struct bs_reader *r, uint8_t *out, size_t n, size_t *produced,
                                 const char **why)
{
	z_stream *zs = &r->zs;
	size_t in_avail = r->in_len - r->in_pos;
	zs->next_in = r->in + r->in_pos;
	zs->avail_in = (uInt)(in_avail < UINT_MAX ? in_avail : UINT_MAX);
	zs->next_out = out;
	zs->avail_out = (uInt)(n < (1u << 30) ? n : (1u << 30));
	uInt out_before = zs->avail_out;
	int rc = inflate(zs, Z_NO_FLUSH);
	r->in_pos = (size_t)(zs->next_in - r->in);
	*produced = out_before - zs->avail_out;
	r->member_crc = (uint32_t)crc32(r->member_crc, out, (uInt)*produced);
	if (rc == Z_STREAM_END)
		return ENGINE_END;
	if (rc == Z_OK || rc == Z_BUF_ERROR)
		return ENGINE_MORE;
	*why = zs->msg ? zs->msg : "invalid deflate data";
	return ENGINE_ERROR;
}

static void engine_free(struct bs_reader *r)
{
	if (r->zs_ready)
		inflateEnd(&r->zs);
}
#endif

/* ----------------------------------------------------------- gzip framing */

/* Skip n raw bytes; false if the file ends first. */
static bool raw_skip(struct bs_reader *r, uint32_t n)
{
	while (n > 0) {
		if (r->back_pos < r->back_n) {
			r->back_pos++;
			n--;
			continue;
		}
		if (r->in_pos == r->in_len && !raw_refill(r))
			return false;
		size_t take = r->in_len - r->in_pos;
		if (take > n)
			take = n;
		r->in_pos += take;
		n -= (uint32_t)take;
	}
	return true;
}

/* Skip a NUL-terminated header field (name, comment) of any length without
 * keeping it; false if the file ends first. */
static bool raw_skip_cstring(struct bs_reader *r)
{
	for (;;) {
		while (r->back_pos < r->back_n)
			if (r->back[r->back_pos++] == 0)
				return true;
		if (r->in_pos == r->in_len && !raw_refill(r))
			return false;
		const uint8_t *p = r->in + r->in_pos;
		const uint8_t *nul = memchr(p, 0, r->in_len - r->in_pos);
		if (nul) {
			r->in_pos += (size_t)(nul - p) + 1;
			return true;
		}
		r->in_pos = r->in_len;
	}
}

/* Read the rest of a member header whose first byte (r->gz_first) was already
 * consumed. Returns false (with damage set) when it is not a valid header. */
static bool gz_read_header(struct bs_reader *r)
{
	uint64_t start = raw_offset(r) - 1;
	uint8_t h[10];
	h[0] = (uint8_t)r->gz_first;
	for (size_t i = 1; i < sizeof h; i++) {
		int c = raw_getc(r);
		if (c < 0) {
			/* A byte or two of stray data after a member is garbage, not
			 * a member that was cut short. */
			if (r->member_count > 0 && i == 1)
				set_damage(r, "trailing garbage after gzip member at compressed byte offset %" PRIu64, start);
			damage_truncated(r);
			return false;
		}
		h[i] = (uint8_t)c;
		if ((i == 1 && c != 0x8b) || (i == 2 && c != 8)) {
			set_damage(r, "trailing garbage after gzip member at compressed byte offset %" PRIu64, start);
			return false;
		}
	}
	uint8_t flags = h[3];
	if (flags & 0xe0) {
		set_damage(r, "invalid gzip header (reserved flags 0x%02x) at compressed byte offset %" PRIu64,
		           flags, start);
		return false;
	}
	if (flags & 0x04) { /* FEXTRA */
		int lo = raw_getc(r), hi = lo < 0 ? -1 : raw_getc(r);
		if (hi < 0 || !raw_skip(r, (uint32_t)lo | ((uint32_t)hi << 8))) {
			damage_truncated(r);
			return false;
		}
	}
	if (((flags & 0x08) && !raw_skip_cstring(r)) || /* FNAME */
	    ((flags & 0x10) && !raw_skip_cstring(r)) || /* FCOMMENT */
	    ((flags & 0x02) && !raw_skip(r, 2))) {      /* FHCRC */
		damage_truncated(r);
		return false;
	}
	if (r->member_count == 0) {
		uint32_t mtime = bs_le32(h + 4);
		if (mtime != 0)
			r->mtime = mtime;
	}
	r->member_start = start;
	r->member_crc = 0;
	r->member_out = 0;
	return true;
}

static bool gz_read_trailer(struct bs_reader *r)
{
	uint64_t at = raw_offset(r);
	uint8_t t[8];
	for (size_t i = 0; i < sizeof t; i++) {
		int c = raw_getc(r);
		if (c < 0) {
			damage_truncated(r);
			return false;
		}
		t[i] = (uint8_t)c;
	}
	uint32_t crc = bs_le32(t);
	uint32_t isize = bs_le32(t + 4);
	if (crc != r->member_crc) {
		set_damage(r, "gzip member CRC mismatch at compressed byte offset %" PRIu64
		           " (member starting at %" PRIu64 ")", at, r->member_start);
		return false;
	}
	if (isize != (uint32_t)r->member_out) {
		set_damage(r, "gzip member length mismatch at compressed byte offset %" PRIu64
		           " (member starting at %" PRIu64 ")", at + 4, r->member_start);
		return false;
	}
	r->member_count++;
	return true;
}

/* After a member: the end, another member, or zero padding to the end (as
 * tape and block devices leave it, and gzip accepts). Anything else is
 * garbage. */
static void gz_next(struct bs_reader *r)
{
	int c = raw_getc(r);
	if (c < 0) {
		r->done = true;
		return;
	}
	if (c == 0) {
		while ((c = raw_getc(r)) == 0)
			;
		if (c < 0) {
			r->done = true;
			return;
		}
		set_damage(r, "trailing garbage after gzip member at compressed byte offset %" PRIu64,
		           raw_offset(r) - 1);
		return;
	}
	r->gz_first = c;
	r->gz_state = GZ_HEADER;
}

static size_t gz_produce(struct bs_reader *r, uint8_t *out, size_t n)
{
	unsigned stalls = 0;
	while (!r->done) {
		switch (r->gz_state) {
		case GZ_HEADER:
			if (!gz_read_header(r))
				return 0;
			engine_member_start(r);
			r->gz_state = GZ_DATA;
			break;
		case GZ_DATA: {
			/* At the end of the file the engine still gets a call: ISA-L
			 * holds decoded bytes back until it knows no more input comes. */
			bool at_end = r->in_pos == r->in_len && !raw_refill(r);
			if (at_end && r->damaged)
				return 0; /* a read error */
			size_t got = 0;
			const char *why = "";
			enum engine_rc rc = engine_run(r, out, n, &got, &why);
			r->member_out += got;
			if (rc == ENGINE_ERROR) {
				set_damage(r, "gzip data corrupt at compressed byte offset %" PRIu64 " (%s)",
				           raw_offset(r), why);
				return got;
			}
			if (rc == ENGINE_END)
				r->gz_state = GZ_TRAILER;
			if (got > 0)
				return got;
			if (at_end && rc == ENGINE_MORE) {
				damage_truncated(r);
				return 0;
			}
			/* An engine that neither reads nor writes while both sides
			 * have room would spin forever: call it corrupt. */
			if (rc == ENGINE_MORE && r->in_pos < r->in_len && ++stalls > 4) {
				set_damage(r, "gzip data corrupt at compressed byte offset %" PRIu64 " (no progress)",
				           raw_offset(r));
				return 0;
			}
			break;
		}
		case GZ_TRAILER:
			if (!gz_read_trailer(r))
				return 0;
			r->gz_state = GZ_NEXT;
			break;
		case GZ_NEXT:
			gz_next(r);
			break;
		}
	}
	return 0;
}

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

static size_t plain_produce(struct bs_reader *r, uint8_t *out, size_t n)
{
	if (r->done || n == 0)
		return 0;
	if (r->in_pos < r->in_len)
		return take_buffered(r->in, &r->in_pos, r->in_len, out, n);
	if (r->in_eof) {
		r->done = true;
		return 0;
	}
	/* Straight into the caller's buffer: no copy for plain files. */
	ssize_t got = read_retry(r->fd, out, n);
	if (got <= 0) {
		r->in_eof = r->done = true;
		if (got < 0)
			set_damage(r, "read error at byte offset %" PRIu64 " (%s)",
			           r->in_base + r->in_len, strerror(errno));
		return 0;
	}
	r->in_base += (size_t)got; /* in[] stays empty: in_base counts what was read past it */
	return (size_t)got;
}

static size_t produce(struct bs_reader *r, uint8_t *out, size_t n)
{
	if (n == 0)
		return 0;
	return r->gzip ? gz_produce(r, out, n) : plain_produce(r, out, n);
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
	uint8_t *in = malloc(RAW_BUF_SIZE);
	if (!r || !in) {
		free(r);
		free(in);
		if (!is_stdin)
			close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	r->fd = fd;
	r->own_fd = !is_stdin;
	r->in = in;
	r->gz_first = -1;
	if (S_ISREG(st.st_mode)) {
		r->raw_size = (uint64_t)st.st_size;
		r->mtime = (int64_t)st.st_mtime;
	} else {
		r->mtime = (int64_t)time(NULL);
	}

	/* Pipes hand out what was written so far: read until the probe is full. */
	while (r->in_len < HEAD_PROBE && !r->in_eof) {
		ssize_t got = read_retry(fd, in + r->in_len, RAW_BUF_SIZE - r->in_len);
		if (got < 0) {
			set_damage(r, "read error at byte offset %zu (%s)", r->in_len, strerror(errno));
			r->in_eof = true;
		} else if (got == 0) {
			r->in_eof = true;
		} else {
			r->in_len += (size_t)got;
		}
	}
	r->gzip = r->in_len >= 3 && in[0] == 0x1f && in[1] == 0x8b && in[2] == 8;
	if (r->gzip) {
		if (!engine_init(r)) {
			snprintf(err, errlen, "%s: cannot initialise the inflater", path);
			bs_reader_close(r);
			return NULL;
		}
		r->gz_state = GZ_HEADER;
		r->gz_first = raw_getc(r);
		/* Parse the first header now so that the MTIME is known at once. */
		if (gz_read_header(r)) {
			engine_member_start(r);
			r->gz_state = GZ_DATA;
		}
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

bool bs_reader_is_gzip(const struct bs_reader *r) { return r->gzip; }
bool bs_reader_damaged(const struct bs_reader *r) { return r->damaged; }
const char *bs_reader_damage(const struct bs_reader *r) { return r->damaged ? r->damage : ""; }
uint64_t bs_reader_raw_size(const struct bs_reader *r) { return r->raw_size; }
int64_t bs_reader_mtime(const struct bs_reader *r) { return r->mtime; }

uint64_t bs_reader_raw_bytes(const struct bs_reader *r)
{
	return raw_offset(r);
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
	if (r->gzip)
		engine_free(r);
	if (r->own_fd)
		close(r->fd);
	free(r->in);
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
};

struct bs_lines *bs_lines_new(struct bs_reader *r)
{
	struct bs_lines *l = bs_xcalloc(1, sizeof *l);
	l->r = r;
	l->cap = LINES_BUF_START;
	l->buf = bs_xmalloc(l->cap);
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
	size_t got = bs_reader_read(l->r, l->buf + l->len, l->cap - l->len);
	if (got == 0)
		l->eof = true;
	l->len += got;
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

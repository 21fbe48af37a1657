/* input.h - the input layer: byte streams (plain or gzip), format detection
 * from content, and a line reader that hands out lines in place.
 */
#ifndef BS_INPUT_H
#define BS_INPUT_H

#include <stdio.h>
#include <sys/types.h>
#include "src/core/common.h"
#include "src/core/diag.h"

enum bs_format {
	BS_FMT_EMPTY = 0, /* no bytes at all */
	BS_FMT_TEXT,      /* lines of text (logs); also the fallback for unknown bytes */
	BS_FMT_PCAP,      /* libpcap classic, any byte order, usec or nsec */
	BS_FMT_PCAPNG,
	BS_FMT_BINARY,    /* not text, not a capture: counted, lines still accounted */
};
const char *bs_format_name(enum bs_format f, bool gzip); /* "text", "gzip+pcap", ... */
/* Detect from the first bytes (at least 16 if available) of the decompressed stream. */
enum bs_format bs_detect_format(const uint8_t *p, size_t n);

/* A decompressing byte stream. Compression is recognised from magic bytes,
 * never the name: gzip (every member of a multi-member file), bzip2, xz and
 * zstd (the last three when the build has their library), nested up to
 * BS_MAX_LAYERS deep (a gzip of a gzip, a zstd of an xz...). Damage (a
 * corrupt or cut stream, trailing garbage) is reported with a message that
 * names the compressed byte offset; a corrupt gzip member is skipped up to
 * the next member header (the span counted), anything else ends the stream
 * cleanly. A compression this build cannot decode ends it at once, as damage,
 * and names itself in bs_reader_format_name ("xz-unsupported"). */
#define BS_MAX_LAYERS 4
struct bs_reader;
/* path "-" reads standard input. On failure returns NULL with a message in err. */
struct bs_reader *bs_reader_open(const char *path, char *err, size_t errlen);
/* Returns decompressed bytes read, 0 at the end (or after damage), never < 0. */
size_t bs_reader_read(struct bs_reader *r, void *buf, size_t n);
/* Look at the first n decompressed bytes without consuming them (n <= 4096). */
size_t bs_reader_peek(struct bs_reader *r, void *buf, size_t n);
bool bs_reader_is_gzip(const struct bs_reader *r); /* the outermost layer is gzip */
/* The format column of input_stats.csv: the compression layers from the
 * outside in, then the content: "text", "gzip+text", "xz+pcap",
 * "gzip+gzip+text"; "bzip2-unsupported" (or "gzip+zstd-unsupported") when a
 * layer needs a decoder this build lacks; "...+nested-too-deep" past
 * BS_MAX_LAYERS. The string lives as long as the reader. */
const char *bs_reader_format_name(struct bs_reader *r, enum bs_format content);
/* Whether this build decodes "gzip", "bzip2", "xz", "zstd" (for tests and --version). */
bool bs_decoder_available(const char *codec);
/* Tests: readers opened from now on act as if the build lacked the decoder of
 * codec ("bzip2", "xz", "zstd", "gzip"); NULL gives them all back. Not
 * thread-safe: call it before readers are opened. */
void bs_decoder_pretend_missing(const char *codec);
bool bs_reader_damaged(const struct bs_reader *r);
const char *bs_reader_damage(const struct bs_reader *r); /* "" when none */
/* Report damage also to diag (src/core/diag.h) as input `input`, when found. */
void bs_reader_set_diag(struct bs_reader *r, const struct bs_diag *diag, uint32_t input);
uint64_t bs_reader_raw_bytes(const struct bs_reader *r); /* compressed bytes consumed */
uint64_t bs_reader_raw_size(const struct bs_reader *r);  /* file size, 0 if unknown */
/* Compressed bytes skipped over damage (corrupt gzip members) so far. */
uint64_t bs_reader_skipped_bytes(const struct bs_reader *r);
/* Read-size bound on a binary stream (a pipe or terminal, whose end is not
 * known in advance) given to the line reader: past it, it gives up. */
#define BS_BINARY_STREAM_MAX ((uint64_t)16 << 20)
/* Modification time for year inference: the gzip header MTIME of the first
 * member when set, else the file's mtime, else now. Seconds since epoch. */
int64_t bs_reader_mtime(const struct bs_reader *r);
/* A stdio stream reading the decompressed bytes (for libpcap's
 * pcap_fopen_offline); the reader must outlive it. */
FILE *bs_reader_fopen(struct bs_reader *r);
void bs_reader_close(struct bs_reader *r);

/* Line reader: lines without their LF (and CR before it), in place, no
 * allocation per line. Lines up to BS_LINE_MAX bytes come whole; a longer one
 * comes once, cut at BS_LINE_MAX with too_long set, and the rest of it is
 * skipped, so memory stays flat whatever the input. On a stream (not a
 * regular file) whose content is binary, the line reader stops after
 * BS_BINARY_STREAM_MAX bytes and marks the reader damaged ("gave up"): an
 * endless stream of zeros on standard input ends. */
#define BS_LINE_MAX (4u << 20)
struct bs_lines;
struct bs_lines *bs_lines_new(struct bs_reader *r);
/* Returns true with the next line, false at the end. */
bool bs_lines_next(struct bs_lines *l, bs_str *line, bool *too_long);
uint64_t bs_lines_lineno(const struct bs_lines *l); /* number of the line just returned */
void bs_lines_free(struct bs_lines *l);

#endif

/* fuzz_util.h - shared pieces of the libFuzzer harnesses (docs/ROBUSTNESS.md).
 *
 * Like Suricata's src/tests/fuzz/, every piece of input a harness hands to
 * the code under test is copied into its own exactly-sized heap block, so
 * that a read one byte past the end of a line, a chunk or a packet is caught
 * by AddressSanitizer instead of landing in the fuzzer's larger buffer.
 */
#ifndef BS_FUZZ_UTIL_H
#define BS_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "src/core/common.h"
#include "src/core/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every byte of a borrowed range, so that a dangling or short pointer
 * handed out by a parser trips ASan. The sum is kept in a volatile so the
 * loop is not optimized away. */
static volatile uint64_t fuzz_touch_sum;
static inline void fuzz_touch(bs_str s)
{
	uint64_t sum = 0;
	for (size_t i = 0; s.p && i < s.n; i++)
		sum += (uint8_t)s.p[i];
	fuzz_touch_sum += sum;
}

/* A sink that reads every string and list of every event type, inside the
 * sink call: bs_event_format reads each byte of each field (also those past
 * its buffer's end). */
static inline void fuzz_touch_event(void *ctx, const struct bs_event *ev)
{
	static char line[4096];
	(void)ctx;
	size_t n = bs_event_format(ev, line, sizeof line);
	fuzz_touch(bs_str_make(line, n < sizeof line ? n : sizeof line - 1));
}

/* A copy of p[0..n) in its own heap block of exactly n bytes (1 if n is 0). */
static inline uint8_t *fuzz_dup(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	if (!b)
		abort();
	if (n)
		memcpy(b, p, n);
	return b;
}

/* The input as a file: an anonymous memory file, named through /proc so that
 * the code under test opens it by path like any input. Returns the fd (close
 * it after use) and writes the path into path[]. */
static inline int fuzz_memfile(const uint8_t *p, size_t n, char *path, size_t pathlen)
{
	int fd = memfd_create("fuzz-input", 0);
	if (fd < 0)
		abort();
	size_t off = 0;
	while (off < n) {
		ssize_t k = write(fd, p + off, n - off);
		if (k <= 0)
			abort();
		off += (size_t)k;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

/* Calls fn once per line of the input (split at LF, without it), each line
 * in its own exactly-sized block. */
typedef void (*fuzz_line_fn)(void *ctx, const char *line, size_t n, uint64_t lineno);
static inline void fuzz_each_line(const uint8_t *data, size_t size, fuzz_line_fn fn, void *ctx)
{
	uint64_t lineno = 0;
	size_t start = 0;
	while (start <= size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - data) : size;
		if (!nl && end == start && lineno > 0)
			break; /* no empty last line after a final LF */
		uint8_t *line = fuzz_dup(data + start, end - start);
		fn(ctx, (const char *)line, end - start, ++lineno);
		free(line);
		if (!nl)
			break;
		start = end + 1;
	}
}

#endif

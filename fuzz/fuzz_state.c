/* fuzz_state.c - the state-file reader of sharded runs (bs_state_open, then
 * bs_state_merge_into a fresh aggregate).
 *
 * A state file ends with its length and CRC-32; random bytes would never get
 * past that check, so when the first byte is odd the harness appends a valid
 * trailer for the rest of the input, and the body parser is what gets fuzzed.
 * When it is even the bytes are used as they are (the check itself). */
#include "config.h"
#include "fuzz_util.h"
#include "src/engine/state.h"
#include "src/engine/engine.h"

#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *body = data + 1;
	size_t n = size - 1;
	uint8_t *file = malloc(n + 12);
	if (n)
		memcpy(file, body, n);
	size_t len = n;
	if (data[0] & 1) {
		uint64_t blen = n;
		uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), body, (uInt)n);
		memcpy(file + n, &blen, 8);
		memcpy(file + n + 8, &crc, 4);
		len += 12;
	}
	char path[64], err[512];
	int fd = fuzz_memfile(file, len, path, sizeof path);
	free(file);
	struct bs_state *s = bs_state_open(path, err, sizeof err);
	if (s) {
		size_t nrows;
		const struct bs_input_row *rows = bs_state_rows(s, &nrows);
		uint32_t *remap = calloc(nrows ? nrows : 1, sizeof *remap);
		for (size_t i = 0; i < nrows; i++) {
			fuzz_touch(bs_str_make(rows[i].source, strlen(rows[i].source)));
			remap[i] = (uint32_t)(nrows - 1 - i);
		}
		struct bs_agg *agg = bs_agg_new();
		bs_state_merge_into(s, agg, remap, err, sizeof err);
		bs_agg_free(agg);
		free(remap);
		bs_state_close(s);
	}
	close(fd);
	return 0;
}

/* state.h - state files of sharded runs: `scan` writes one per shard (the
 * shard's aggregate and input accounting), `merge` reads any number.
 *
 * Format (docs/SCALING.md): magic "BSSTATE\n", format version, a build
 * fingerprint (record sizes), the shard's input rows, then the aggregate's
 * string table and record tables; a trailer holds the byte count and the
 * CRC-32 of everything before it. A state of another version, a damaged or
 * truncated one is refused with a message naming the file. */
#ifndef BS_STATE_H
#define BS_STATE_H

#include <stdio.h>
#include "src/engine/engine.h"

bool bs_state_write(const char *path, const struct bs_agg *a, const struct bs_input_row *rows, size_t nrows,
                    char *err, size_t errlen);

struct bs_state;
/* Opens, verifies the whole file's checksum and reads the input rows. */
struct bs_state *bs_state_open(const char *path, char *err, size_t errlen);
const struct bs_input_row *bs_state_rows(const struct bs_state *s, size_t *n);
/* Folds the aggregate into dst, renumbering the shard's input i to remap[i]. */
bool bs_state_merge_into(struct bs_state *s, struct bs_agg *dst, const uint32_t *remap, char *err, size_t errlen);
void bs_state_close(struct bs_state *s);

#endif

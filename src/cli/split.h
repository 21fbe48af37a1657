/* split.h - one capture link on several cores.
 *
 * One thread reads the link's captures; each packet goes, by a symmetric
 * hash of its IP address pair (bs_capture_pair_hash), to one of N workers,
 * each with its own capture engine, protocol dispatcher and event sink.
 * Every packet of a flow, its fragments, and the FTP data connections
 * between the same two hosts as their control connection meet in one
 * worker, which makes the very events one engine reading the whole link
 * makes; the aggregates merge commutatively, so the results are those of
 * one thread (docs/CAPTURE.md, "One link on several cores", says where they
 * can differ: when a cap evicts).
 *
 * Memory: each worker holds up to 16 batches of 256 KiB in flight (8 MiB for
 * the link's workers together, at least 4 each), and its share
 * of the link's --memcap. */
#ifndef BS_SPLIT_H
#define BS_SPLIT_H

#include <stdio.h>
#include "parsers/capture/capture.h"

struct bs_split_opts {
	int workers;                  /* >= 2 */
	size_t memcap;                /* for the link: each worker has its share */
	FILE *warn;                   /* the capture engines' one-line warnings */
	const struct bs_diag *diag;
	const struct bs_sink *sinks;  /* one per worker, called from that worker's thread */
};

struct bs_split;
struct bs_split *bs_split_new(const struct bs_split_opts *o);
/* Read the link's next file. Its packets are counted into st (parsed,
 * ignored, malformed; flows evicted) when the link is finished; damage is
 * reported here, as by bs_capture_read. */
bool bs_split_read(struct bs_split *s, uint32_t input, const char *name, struct bs_reader *r,
                   enum bs_format fmt, struct bs_input_stats *st, char *err, size_t errlen);
/* The latest packet time of the link, BS_TIME_NONE before any packet. */
bs_time bs_split_latest(const struct bs_split *s);
/* Close every flow, wait for the workers, count each file's packets into
 * its stats, then free s. Evictions are said on diag per file. */
void bs_split_finish(struct bs_split *s);

#endif

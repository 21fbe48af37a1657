/* spill.h - `--timeline all`: every normalized event as a timeline row.
 *
 * Events arrive from worker threads in no global order and there can be
 * billions: each worker formats them into rows and spills sorted runs to a
 * private directory; the timeline writer merges the runs (and the notable
 * rows) by time, input, position and contents. Memory: one run buffer per worker. */
#ifndef BS_SPILL_H
#define BS_SPILL_H

#include "src/core/event.h"
#include "src/core/result.h"

struct bs_spill;          /* the whole spill: directory and run files */
struct bs_spill_writer;   /* one per worker thread */

/* Remove the spill directories in outdir of runs whose process is gone. */
void bs_spill_remove_stale(const char *outdir);
/* A private directory OUTDIR/.timeline-spill.PID (mode 0700), removed at the
 * end. Run files are
 * unlinked as soon as they are made (kept open), so no row stays on disk
 * after the process, however it ends. */
struct bs_spill *bs_spill_new(const char *outdir, char *err, size_t errlen);
struct bs_spill_writer *bs_spill_writer_new(struct bs_spill *s);
/* One event, from the writer's own thread, in any order. */
void bs_spill_event(struct bs_spill_writer *w, const struct bs_event *ev);
/* Flush the last run; the writer is freed. Returns false on an I/O error. */
bool bs_spill_writer_close(struct bs_spill_writer *w);

/* Reading back, merged: rows in (ts, input, ref) order, rows of the same
 * packet or line by their contents (the same order whatever the number of
 * writers and whichever of them had which row). The row's strings are valid
 * until the next call. */
bool bs_spill_next(struct bs_spill *s, struct bs_timeline_row *row);
/* Remove the run files and the directory. */
void bs_spill_free(struct bs_spill *s);

#endif

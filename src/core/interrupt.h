/* interrupt.h - a run stopped by SIGINT, SIGTERM or SIGHUP leaves no
 * half-written file and no mixed set of results.
 *
 * Files being written are temporaries registered here; the handler unlinks
 * them (unlink is async-signal-safe), then lets the signal end the process as
 * it would have. The renames that publish a set of results run with those
 * signals blocked, so a signal arriving then takes effect after the whole set
 * is in place: the previous results stay whole, or the new ones are. */
#ifndef BS_INTERRUPT_H
#define BS_INTERRUPT_H

#include <signal.h>
#include <stdbool.h>

#define BS_INTERRUPT_MAX_TEMPS 16

/* Install the handlers (once, at start). */
void bs_interrupt_install(void);
/* Remember a temporary file to remove if interrupted; returns a slot, or -1
 * when the table is full (the file is then left to the next run's cleanup). */
int bs_interrupt_add_temp(const char *path);
/* The temporary was renamed or removed: forget it. */
void bs_interrupt_forget(int slot);
/* Hold the signals over a critical section (the renames), then deliver any
 * that arrived. */
void bs_interrupt_hold(sigset_t *saved);
void bs_interrupt_release(const sigset_t *saved);

/* Temporaries are named "<final name>.tmp.<pid>" next to the file they
 * become. Remove those next to path that a process no longer running left
 * (SIGKILL, a crash); those of a live process (a concurrent run) stay. Call
 * it before creating one's own temporary for path. */
void bs_temp_remove_stale(const char *path);

#endif

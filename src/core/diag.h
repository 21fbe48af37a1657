/* diag.h - the one diagnostics path: why a record of an input was not used.
 *
 * Every layer that rejects a line, a packet, a stream or a span of bytes
 * (parsers/logs, parsers/capture, parsers/stream, src/input) calls bs_diag()
 * with where it was: the input (its index, as in event origins), the line or
 * packet number, the layer ("weblog", "ipv4", "http", "gzip") and the reason.
 * The command line owns the sink and writes each as
 *   FILE:LINE: layer: reason          (a line of a text input)
 *   FILE: packet N: layer: reason     (a packet of a capture)
 *   FILE: layer: reason               (the input as a whole, ref 0)
 * (--debug FILE, breachscope(1)). A layer holds a `const struct bs_diag *`
 * that may be NULL: then nothing is formatted. The sink may be called from
 * several worker threads at once and must write each call as one line. */
#ifndef BS_DIAG_H
#define BS_DIAG_H

#include <stdbool.h>
#include <stdint.h>

struct bs_diag {
	/* reason is NUL-terminated, at most BS_ERRBUF_SIZE - 1 bytes */
	void (*write)(void *ctx, uint32_t input, uint64_t ref, bool from_capture, const char *layer,
	              const char *reason);
	void *ctx;
};

/* Is anyone listening? (to skip building an expensive reason) */
static inline bool bs_diag_on(const struct bs_diag *d) { return d && d->write; }

/* ref: the 1-based line (from_capture false) or packet number (true), 0 for
 * the input as a whole. No allocation: the reason is formatted on the stack. */
void bs_diag(const struct bs_diag *d, uint32_t input, uint64_t ref, bool from_capture, const char *layer,
             const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif

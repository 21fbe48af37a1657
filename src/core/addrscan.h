/* addrscan.h - the one shared email address scanner and normalizer.
 *
 * Practical RFC 5322 subset: dot-atom and quoted local parts, domains with at
 * least one dot and a letter TLD (or an IP literal). No false matches on CSS
 * @media / @import, on Message-IDs (<...@...> after "Message-ID:"), or on
 * user@localhost (unless allow_dotless).
 */
#ifndef BS_ADDRSCAN_H
#define BS_ADDRSCAN_H

#include "src/core/common.h"

#define BS_ADDR_MAX 320

/* Normalize one address as written in a log or header field: strips angle
 * brackets, surrounding space, a display name ("Bob <b@x.org>"), the quotes of
 * a quoted local part when they are not needed; lower-cases the local part and
 * the domain. Writes a NUL-terminated result into out (>= BS_ADDR_MAX+1).
 * Returns the length, 0 for the null sender <> and -1 if not an address. */
int bs_addr_normalize(const char *s, size_t n, char *out);

/* Find addresses in arbitrary bytes (HTML, SQL results, payloads). Calls fn
 * with each normalized address; returns how many were found. */
typedef void (*bs_addr_fn)(void *ctx, const char *addr, size_t n);
size_t bs_addr_scan(const char *p, size_t n, bool allow_dotless, bs_addr_fn fn, void *ctx);

/* Is an address the scanner reported (bs_addr_fn's addr) its own
 * bs_addr_normalize() form? It is unless its local part is quoted (the quotes
 * may hold '<', which the normalizer reads as a display name) or its domain is
 * an IP literal (whose "IPv6:" tag the scanner lower-cases). */
static inline bool bs_addr_scanned_is_normal(const char *addr, size_t n)
{
	return n && addr[0] != '"' && addr[n - 1] != ']';
}

/* The domain part of a normalized address (after the last '@'). */
bs_str bs_addr_domain(const char *addr, size_t n);

/* The scan window, shared by HTTP bodies and the dispatcher's scan of unknown
 * payloads.
 * A stream is cut into windows of BS_WIN_CHUNK fresh bytes preceded by the last
 * BS_WIN_TAIL bytes of the previous window, so a match split across segments
 * (an address, an HTML reference) lies whole in some window. The windows depend
 * on the stream's bytes only, never on how they were segmented, so one byte at
 * a time gives the same matches. */
#define BS_WIN_TAIL 1024
#define BS_WIN_CHUNK 3072
struct bs_scan_window {
	size_t len;          /* bytes in buf */
	size_t fresh_from;   /* bytes before this were already scanned as fresh */
	char buf[BS_WIN_TAIL + BS_WIN_CHUNK];
};
/* Called per full window (and once at the end with final = true): p[0..n) is
 * the window, bytes before fresh_from were seen by the previous call. A match
 * that reaches the end of p when !final must be left for the next call. */
typedef void (*bs_window_fn)(void *ctx, const char *p, size_t n, size_t fresh_from, bool final);
void bs_window_reset(struct bs_scan_window *w);
void bs_window_feed(struct bs_scan_window *w, const char *p, size_t n, bs_window_fn fn, void *ctx);
/* Scan what is left (final = true) and reset. Nothing to do when empty. */
void bs_window_end(struct bs_scan_window *w, bs_window_fn fn, void *ctx);

/* bs_addr_scan over one window: reports only the addresses that end at or
 * after fresh_from and, unless final, do not touch the end of p. */
size_t bs_addr_scan_window(const char *p, size_t n, size_t fresh_from, bool final,
                           bool allow_dotless, bs_addr_fn fn, void *ctx);

#endif

/* addrscan.h - the one shared email address scanner and normalizer.
 *
 * Practical RFC 5322 subset: dot-atom and quoted local parts, domains with at
 * least one dot and a letter TLD (or an IP literal). No false matches on CSS
 * @media / @import, on Message-IDs (<...@...> after "Message-ID:"), or on
 * user@localhost (unless allow_dotless).
 */
#ifndef BS_ADDRSCAN_H
#define BS_ADDRSCAN_H

#include "../src/common.h"

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

/* The domain part of a normalized address (after the last '@'). */
bs_str bs_addr_domain(const char *addr, size_t n);

#endif

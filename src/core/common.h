/* common.h - small value types shared by every module of breachscope.
 *
 * Parsers hand out borrowed byte ranges (bs_str) that point into their own
 * buffers and stay valid only for the duration of a callback: nothing on the
 * per-line or per-packet path allocates. Whoever needs a value longer must
 * copy (intern) it.
 */
#ifndef BS_COMMON_H
#define BS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

/* Microseconds since 1970-01-01T00:00:00Z. */
typedef int64_t bs_time;
#define BS_TIME_NONE INT64_MIN
#define BS_USEC 1000000LL
/* The times a record may have (issue 22, item 8): from 1970-01-01T00:00:00Z
 * to the end of 9999. A line or packet timed outside is malformed (counted,
 * BS_TIME_RANGE_WHY to --debug) and nothing of it is written: no negative
 * timestamp, no year 0000 or 10000 in an output. Every parser that makes a
 * time checks it with bs_time_valid. */
#define BS_TIME_END (253402300800LL * BS_USEC) /* 10000-01-01T00:00:00Z */
#define BS_TIME_RANGE_WHY "time outside 1970..9999"
static inline bool bs_time_valid(bs_time t) { return t >= 0 && t < BS_TIME_END; }

/* The size of every buffer that receives an error message, in every layer
 * (as libpcap has one PCAP_ERRBUF_SIZE): room for a path (PATH_MAX on Linux,
 * 4096) and a message about it. */
#define BS_ERRBUF_SIZE (4096 + 256)

/* A borrowed byte range: not NUL-terminated, may hold any byte. */
typedef struct {
	const char *p;
	size_t n;
} bs_str;

#define BS_STR_NULL ((bs_str){ NULL, 0 })
#define BS_STR_LIT(s) ((bs_str){ (s), sizeof(s) - 1 })

static inline bs_str bs_str_make(const char *p, size_t n) { return (bs_str){ p, n }; }
static inline unsigned char bs_ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* The value of a hex digit, either case, or -1. */
static inline int bs_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20); /* a letter in either case, and no other byte, lands on a..f */
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A code point as UTF-8 into b (4 bytes at most); a surrogate or a value
 * past U+10FFFF is U+FFFD. Returns the bytes written. */
static inline size_t bs_utf8_encode(uint32_t cp, char *b)
{
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | cp >> 18);
	b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Comparisons with a literal, inline: called with constant strings on every
 * line, whose length the compiler then knows (no strlen, a fixed memcmp). */
static inline bool bs_str_eq(bs_str a, const char *lit) /* exact, case-sensitive */
{
	size_t n = strlen(lit);
	return a.n == n && (n == 0 || memcmp(a.p, lit, n) == 0);
}

static inline bool bs_str_istarts(bs_str a, const char *lit) /* ASCII case-insensitive prefix */
{
	size_t n = strlen(lit);
	if (a.n < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (bs_ascii_lower((unsigned char)a.p[i]) != bs_ascii_lower((unsigned char)lit[i]))
			return false;
	return true;
}

/* The n bytes at p are lower, a lower-case pattern, in any ASCII case. */
static inline bool bs_mem_ieq_lower(const char *p, const char *lower, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bs_ascii_lower((unsigned char)p[i]) != (unsigned char)lower[i])
			return false;
	return true;
}

/* The same at s[at], within s's n bytes. */
static inline bool bs_mem_at_ieq_lower(const char *s, size_t n, size_t at, const char *lower, size_t pl)
{
	return at + pl <= n && bs_mem_ieq_lower(s + at, lower, pl);
}

static inline bool bs_str_ieq(bs_str a, const char *lit) /* ASCII case-insensitive */
{
	return a.n == strlen(lit) && bs_str_istarts(a, lit);
}
const char *bs_memmem_ci(const char *hay, size_t hn, const char *needle, size_t nn);

/* An IPv4 or IPv6 address. IPv4-mapped IPv6 (::ffff:a.b.c.d) is stored as
 * IPv4 so that the same host compares equal whatever notation a log used. */
typedef struct {
	uint8_t family; /* 0 = none, 4, 6 */
	uint8_t a[16];  /* IPv4 in a[0..3] */
} bs_ip;

#define BS_IP_STRLEN 46
bool bs_ip_parse(const char *s, size_t n, bs_ip *out); /* accepts [..] and ::ffff: */
void bs_ip_format(const bs_ip *ip, char *buf, size_t size); /* "" for none */
/* Inline: the flow table compares two keys a packet, the aggregate an
 * address an event. Equal as bs_ip_cmp finds them. */
static inline bool bs_ip_eq(const bs_ip *x, const bs_ip *y)
{
	if (x->family != y->family)
		return false;
	if (x->family == 4)
		return memcmp(x->a, y->a, 4) == 0;
	return x->family != 6 || memcmp(x->a, y->a, 16) == 0;
}
int bs_ip_cmp(const bs_ip *x, const bs_ip *y); /* total order: v4 before v6 */
/* RFC 1918, loopback, link-local, CGNAT 100.64/10, ULA fc00::/7 ... */
bool bs_ip_is_private(const bs_ip *ip);
uint64_t bs_ip_hash(const bs_ip *ip);

/* Times. */
/* Days since epoch of a proleptic Gregorian date; no libc, no time zone. */
int64_t bs_days_from_civil(int64_t y, unsigned m, unsigned d);
bs_time bs_time_make(int y, int mon, int day, int h, int mi, int s, int usec);
/* ISO 8601 UTC with Z; fraction digits: 0, 3 or 6. buf >= 32. */
void bs_time_format(bs_time t, int frac_digits, char *buf, size_t size);
/* Month from a 3-letter English abbreviation (case-insensitive), 1..12, 0 if none. */
int bs_month_from_abbr(const char *p);

/* FNV-1a 64 with a final mix: small keys (queue ids, addresses of IPs). Its
 * values also pick the generator's sample data, so it never changes. */
uint64_t bs_hash_bytes(const void *p, size_t n, uint64_t seed);

/* A streaming hash that takes 8 bytes per step (FNV-1a takes one), for what
 * is hashed in bulk: interned strings and HTTP bodies. The value does not
 * depend on how the bytes are cut into pieces. Not for adversarial keys. */
struct bs_hash64 {
	uint64_t h, tail, len;
};
void bs_hash64_init(struct bs_hash64 *s, uint64_t seed);
void bs_hash64_feed(struct bs_hash64 *s, const void *p, size_t n);
uint64_t bs_hash64_final(const struct bs_hash64 *s);
uint64_t bs_hash64(const void *p, size_t n, uint64_t seed);

/* Fatal allocation failure: prints a message and exits 1. */
void *bs_xmalloc(size_t n);
void *bs_xcalloc(size_t n, size_t m);
void *bs_xrealloc(void *p, size_t n);
char *bs_xstrndup(const char *s, size_t n);

#endif

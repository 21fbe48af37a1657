/* common.c - shared helpers: byte strings, IP addresses, civil time, hashing. */
#include "config.h"
#include "src/core/common.h"
#include "src/core/bytes.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Candidate positions come from memchr (vectorised in libc) for both cases
 * of the needle's first byte; only there is the rest compared. This is on
 * the per-body path of the HTML scanner, so it matters. */
const char *bs_memmem_ci(const char *hay, size_t hn, const char *needle, size_t nn)
{
	if (nn == 0)
		return hay;
	if (hn < nn)
		return NULL;
	unsigned char fl = bs_ascii_lower((unsigned char)needle[0]);
	unsigned char fu = (fl >= 'a' && fl <= 'z') ? (unsigned char)(fl - 32) : fl;
	const char *p = hay, *end = hay + (hn - nn) + 1; /* a match starts before end */
	const char *nl = NULL, *nu = NULL;               /* next occurrence of each case, or end */
	while (p < end) {
		if (fl == fu) {
			p = memchr(p, fl, (size_t)(end - p));
			if (!p)
				return NULL;
		} else {
			if (!nl || nl < p) {
				nl = memchr(p, fl, (size_t)(end - p));
				if (!nl)
					nl = end;
			}
			if (!nu || nu < p) {
				nu = memchr(p, fu, (size_t)(end - p));
				if (!nu)
					nu = end;
			}
			p = nl < nu ? nl : nu;
			if (p >= end)
				return NULL;
		}
		size_t j = 1;
		while (j < nn && bs_ascii_lower((unsigned char)p[j]) == bs_ascii_lower((unsigned char)needle[j]))
			j++;
		if (j == nn)
			return p;
		p++;
	}
	return NULL;
}

/* The common case without libc's inet_pton: exactly four dot-separated
 * decimal octets, 0-255, without leading zeros, and nothing else - what
 * glibc's inet_pton4 accepts. Anything else (a zone, a NUL, IPv6, garbage)
 * is left to inet_pton, so this only ever accepts what it would accept. */
static bool ipv4_dotted_quad(const char *s, size_t n, uint8_t out[4])
{
	uint8_t a[4]; /* out is written only on success, as inet_pton does */
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	for (int octet = 0; octet < 4; octet++) {
		if (octet && (p == end || *p++ != '.'))
			return false;
		unsigned v, d;
		if (p == end || (v = (unsigned)*p++ - '0') > 9)
			return false;
		if (p != end && (d = (unsigned)*p - '0') <= 9) {
			if (v == 0)
				return false; /* a leading zero */
			v = v * 10 + d;
			if (++p != end && (d = (unsigned)*p - '0') <= 9) {
				v = v * 10 + d;
				p++;
				if (v > 255)
					return false;
			}
		}
		a[octet] = (uint8_t)v;
	}
	if (p != end)
		return false;
	memcpy(out, a, 4);
	return true;
}

bool bs_ip_parse(const char *s, size_t n, bs_ip *out)
{
	char buf[64];
	memset(out, 0, sizeof *out);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= 5 && (memcmp(s, "IPv6:", 5) == 0 || memcmp(s, "ipv6:", 5) == 0)) {
		s += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof buf)
		return false;
	if (ipv4_dotted_quad(s, n, out->a)) {
		out->family = 4;
		return true;
	}
	memcpy(buf, s, n);
	buf[n] = 0;
	/* Strip an IPv6 zone index ("fe80::1%eth0"). */
	char *pct = strchr(buf, '%');
	if (pct)
		*pct = 0;
	if (inet_pton(AF_INET, buf, out->a) == 1) {
		out->family = 4;
		return true;
	}
	uint8_t v6[16];
	if (inet_pton(AF_INET6, buf, v6) == 1) {
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(v6, mapped, 12) == 0) {
			out->family = 4;
			memcpy(out->a, v6 + 12, 4);
		} else {
			out->family = 6;
			memcpy(out->a, v6, 16);
		}
		return true;
	}
	return false;
}

void bs_ip_format(const bs_ip *ip, char *buf, size_t size)
{
	if (size == 0)
		return;
	buf[0] = 0;
	if (ip->family == 4)
		inet_ntop(AF_INET, ip->a, buf, (socklen_t)size);
	else if (ip->family == 6)
		inet_ntop(AF_INET6, ip->a, buf, (socklen_t)size);
}

int bs_ip_cmp(const bs_ip *x, const bs_ip *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	size_t n = x->family == 4 ? 4 : x->family == 6 ? 16 : 0;
	return n ? memcmp(x->a, y->a, n) : 0;
}

bool bs_ip_is_private(const bs_ip *ip)
{
	const uint8_t *a = ip->a;
	if (ip->family == 4) {
		return a[0] == 10 || a[0] == 127 || a[0] == 0 ||
		       (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		       (a[0] == 192 && a[1] == 168) ||
		       (a[0] == 169 && a[1] == 254) ||
		       (a[0] == 100 && (a[1] & 0xc0) == 64);
	}
	if (ip->family == 6) {
		static const uint8_t loop[16] = { [15] = 1 };
		return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
		       memcmp(a, loop, 16) == 0;
	}
	return false;
}

uint64_t bs_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ULL ^ seed;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	/* final avalanche so low bits are usable for table indexes */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

#define H64_K1 0x9E3779B97F4A7C15ULL
#define H64_K2 0xC2B2AE3D27D4EB4FULL

static inline uint64_t h64_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * H64_K1;
	return h ^ (h >> 29);
}

void bs_hash64_init(struct bs_hash64 *s, uint64_t seed)
{
	s->h = seed * H64_K2 + H64_K1;
	s->tail = 0;
	s->len = 0;
}

void bs_hash64_feed(struct bs_hash64 *s, const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned used = (unsigned)(s->len & 7);
	/* in locals: the byte loops stored s->tail at every byte */
	uint64_t h = s->h, tail = s->tail;
	s->len += n;
	if (used) {
		while (used < 8 && n) {
			tail |= (uint64_t)*b++ << (8 * used++);
			n--;
		}
		if (used < 8) {
			s->tail = tail;
			return;
		}
		h = h64_mix(h, tail);
		tail = 0;
	}
	/* little-endian words, so a word read whole and one assembled from a
	 * piece's tail above are the same; unrolled, since the loop's own
	 * counting was a third of its instructions */
#pragma GCC unroll 4
	for (; n >= 8; b += 8, n -= 8)
		h = h64_mix(h, bs_le64(b));
	for (unsigned i = 0; i < n; i++)
		tail |= (uint64_t)b[i] << (8 * i);
	s->h = h;
	s->tail = tail;
}

uint64_t bs_hash64_final(const struct bs_hash64 *s)
{
	uint64_t h = h64_mix(s->h, s->tail ^ (s->len * H64_K2));
	/* murmur3's finalizer: every input bit reaches the low bits */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t bs_hash64(const void *p, size_t n, uint64_t seed)
{
	struct bs_hash64 s;
	bs_hash64_init(&s, seed);
	if (n < 8) {
		bs_hash64_feed(&s, p, n);
		return bs_hash64_final(&s);
	}
	/* whole: the words, then the tail read as the last word with the bytes
	 * already hashed shifted out, not byte by byte */
	const unsigned char *b = p;
	size_t rem = n & 7;
	for (size_t i = 0; i + 8 <= n; i += 8)
		s.h = h64_mix(s.h, bs_le64(b + i));
	s.len = n;
	s.tail = rem ? bs_le64(b + n - 8) >> (8 * (8 - rem)) : 0;
	return bs_hash64_final(&s);
}

uint64_t bs_ip_hash(const bs_ip *ip)
{
	return bs_hash_bytes(ip->a, ip->family == 4 ? 4 : 16, ip->family);
}

/* Howard Hinnant's days_from_civil. */
int64_t bs_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

bs_time bs_time_make(int y, int mon, int day, int h, int mi, int s, int usec)
{
	int64_t days = bs_days_from_civil(y, (unsigned)mon, (unsigned)day);
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + s;
	return secs * BS_USEC + usec;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t yy = (int64_t)yoe + era * 400;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

void bs_time_format(bs_time t, int frac_digits, char *buf, size_t size)
{
	if (t == BS_TIME_NONE) {
		if (size)
			buf[0] = 0;
		return;
	}
	int64_t secs = t / BS_USEC;
	int64_t us = t % BS_USEC;
	if (us < 0) {
		us += BS_USEC;
		secs--;
	}
	int64_t days = secs / 86400;
	int64_t rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	int hh = (int)(rem / 3600), mm = (int)(rem / 60 % 60), ss = (int)(rem % 60);
	if (frac_digits >= 6)
		snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d.%06lldZ", (long long)y, m, d, hh, mm, ss, (long long)us);
	else if (frac_digits >= 1)
		snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d.%03lldZ", (long long)y, m, d, hh, mm, ss, (long long)(us / 1000));
	else
		snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, hh, mm, ss);
}

int bs_month_from_abbr(const char *p)
{
	/* once per syslog line: the three letters as one number, no loop */
	uint32_t k = (uint32_t)bs_ascii_lower((unsigned char)p[0]) << 16 | (uint32_t)bs_ascii_lower((unsigned char)p[1]) << 8 |
	             (uint32_t)bs_ascii_lower((unsigned char)p[2]);
#define M3(a, b, c) ((uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (uint32_t)(c))
	switch (k) {
	case M3('j', 'a', 'n'): return 1;
	case M3('f', 'e', 'b'): return 2;
	case M3('m', 'a', 'r'): return 3;
	case M3('a', 'p', 'r'): return 4;
	case M3('m', 'a', 'y'): return 5;
	case M3('j', 'u', 'n'): return 6;
	case M3('j', 'u', 'l'): return 7;
	case M3('a', 'u', 'g'): return 8;
	case M3('s', 'e', 'p'): return 9;
	case M3('o', 'c', 't'): return 10;
	case M3('n', 'o', 'v'): return 11;
	case M3('d', 'e', 'c'): return 12;
	default: return 0;
	}
#undef M3
}

static void oom(size_t n)
{
	fprintf(stderr, "breachscope: out of memory (%zu bytes)\n", n);
	exit(1);
}

void *bs_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *bs_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom(n * m);
	return p;
}

void *bs_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *bs_xstrndup(const char *s, size_t n)
{
	char *p = bs_xmalloc(n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = 0;
	return p;
}

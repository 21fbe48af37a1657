/* tap.h - a minimal TAP producer for unit tests (automake's tap-driver.sh).
 * Every check is one test: a failing one prints what differed. */
#ifndef BS_TAP_H
#define BS_TAP_H

#include <stdio.h>
#include <string.h>
#include <inttypes.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
static inline int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static inline int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("%s %d - ", pass ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

#define is_int(got, want, ...) do { long long g_ = (long long)(got), w_ = (long long)(want); \
	if (!ok(g_ == w_, __VA_ARGS__)) printf("#   got %lld, want %lld\n", g_, w_); } while (0)
#define is_str(got, want, ...) do { const char *g_ = (got), *w_ = (want); \
	if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__)) printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } while (0)
/* compare a bs_str with a C string */
#define is_bs(got, want, ...) do { bs_str g_ = (got); const char *w_ = (want); \
	if (!ok(g_.n == strlen(w_) && (g_.n == 0 || memcmp(g_.p, w_, g_.n) == 0), __VA_ARGS__)) \
		printf("#   got \"%.*s\", want \"%s\"\n", (int)g_.n, g_.p ? g_.p : "", w_); } while (0)

static inline void tap_skip_all(const char *why) { printf("1..0 # SKIP %s\n", why); }
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return 0; /* failures are reported through "not ok" lines */
}

#endif

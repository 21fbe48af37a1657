/* mallocount.so - counts heap calls of a whole process (LD_PRELOAD).
 *
 * Evidence for "no allocation per line": run breachscope over 1x and Nx the
 * same maillogs and compare the counts (bench/alloc.sh). Wraps malloc,
 * calloc, realloc and free through glibc's __libc_* entry points (dlsym would
 * itself allocate), counts with atomics (the scan is multi-threaded) and
 * prints the totals to standard error at exit.
 * Build: cc -shared -fPIC -O2 -o mallocount.so bench/mallocount.c
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static atomic_ullong mallocs, callocs, reallocs, frees, bytes_asked;

void *malloc(size_t n)
{
	atomic_fetch_add_explicit(&mallocs, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&bytes_asked, n, memory_order_relaxed);
	return __libc_malloc(n);
}

void *calloc(size_t k, size_t n)
{
	atomic_fetch_add_explicit(&callocs, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&bytes_asked, k * n, memory_order_relaxed);
	return __libc_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
	atomic_fetch_add_explicit(&reallocs, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&bytes_asked, n, memory_order_relaxed);
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (p)
		atomic_fetch_add_explicit(&frees, 1, memory_order_relaxed);
	__libc_free(p);
}

__attribute__((destructor)) static void report(void)
{
	fprintf(stderr, "mallocount: malloc %llu calloc %llu realloc %llu free %llu bytes %llu\n",
	        (unsigned long long)mallocs, (unsigned long long)callocs, (unsigned long long)reallocs,
	        (unsigned long long)frees, (unsigned long long)bytes_asked);
}

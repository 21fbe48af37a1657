/* fuzz_addrscan.c - the address scanner and normalizer: the whole input
 * scanned (with and without dotless domains) and each line normalized; every
 * result must be a NUL-terminated address of at most BS_ADDR_MAX bytes. */
#include "config.h"
#include "fuzz_util.h"
#include "src/core/addrscan.h"

static void found(void *ctx, const char *addr, size_t n)
{
	(void)ctx;
	if (n == 0 || n > BS_ADDR_MAX)
		abort();
	char *copy = (char *)fuzz_dup((const uint8_t *)addr, n);
	fuzz_touch(bs_addr_domain(copy, n));
	free(copy);
}

static void one_line(void *ctx, const char *line, size_t n, uint64_t lineno)
{
	(void)ctx;
	(void)lineno;
	char out[BS_ADDR_MAX + 1];
	int k = bs_addr_normalize(line, n, out);
	if (k > BS_ADDR_MAX)
		abort();
	if (k > 0) {
		if (strlen(out) != (size_t)k)
			abort();
		fuzz_touch(bs_addr_domain(out, (size_t)k));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = fuzz_dup(data, size);
	bs_addr_scan((const char *)copy, size, false, found, NULL);
	bs_addr_scan((const char *)copy, size, true, found, NULL);
	free(copy);
	fuzz_each_line(data, size, one_line, NULL);
	return 0;
}

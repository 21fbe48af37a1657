/* replay.c - a fuzz target without libFuzzer: runs LLVMFuzzerTestOneInput
 * once on each file named, so that `make check` (also from the distribution
 * tarball, with any compiler) replays the crash reproducers of
 * fuzz/regress/TARGET. A reproducer passes when the target returns. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_util.h"

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		size_t cap = 1 << 16, n = 0, k;
		uint8_t *buf = malloc(cap);
		while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0)
			if ((n += k) == cap)
				buf = realloc(buf, cap *= 2);
		fclose(f);
		if (!buf)
			abort();
		/* exactly n bytes, so that a read past the input trips ASan */
		uint8_t *input = fuzz_dup(buf, n);
		free(buf);
		LLVMFuzzerTestOneInput(input, n);
		free(input);
	}
	return 0;
}

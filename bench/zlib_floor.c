/* zlib_floor - the decompression floor for the log benchmark.
 *
 * Inflates every file named on the command line with zlib's gzread() in large
 * chunks and counts newlines, nothing else: no parser can read the logs faster
 * than this, so breachscope's log time is compared to it (docs/PERFORMANCE.md).
 * GNU zcat is no floor: it is about twice slower than zlib itself.
 * Prints "<files> files, <bytes> bytes, <lines> lines".
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { CHUNK = 1 << 20 };

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: zlib_floor FILE.gz...\n");
		return 2;
	}
	static unsigned char buf[CHUNK];
	unsigned long long bytes = 0, lines = 0;
	int failed = 0;
	for (int i = 1; i < argc; i++) {
		gzFile gz = gzopen(argv[i], "rb");
		if (!gz) {
			fprintf(stderr, "zlib_floor: cannot open %s\n", argv[i]);
			failed = 1;
			continue;
		}
		/* Same order of input buffer as a streaming reader would use. */
		gzbuffer(gz, 256 * 1024);
		int n;
		while ((n = gzread(gz, buf, CHUNK)) > 0) {
			bytes += (unsigned long long)n;
			const unsigned char *p = buf, *end = buf + n;
			while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
				lines++;
				p++;
			}
		}
		if (n < 0) {
			int err;
			fprintf(stderr, "zlib_floor: %s: %s\n", argv[i], gzerror(gz, &err));
			failed = 1;
		}
		gzclose(gz);
	}
	printf("%d files, %llu bytes, %llu lines\n", argc - 1, bytes, lines);
	return failed;
}

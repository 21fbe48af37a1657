/* slowio.c - an LD_PRELOAD shim for interrupt.sh: makes fsync() and the
 * rename() of a temporary ("*.tmp.*") slow, so that a test can send a signal
 * while results are being written or published.
 *   SLOWIO_FSYNC_MS   pause before each fsync
 *   SLOWIO_RENAME_MS  pause before each rename of a temporary */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void pause_ms(const char *var)
{
	const char *v = getenv(var);
	long ms = v ? atol(v) : 0;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (ms > 0 && nanosleep(&ts, &ts) != 0)
		; /* a handled signal cut the pause short: finish it */
}

int rename(const char *from, const char *to)
{
	int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	if (strstr(from, ".tmp."))
		pause_ms("SLOWIO_RENAME_MS");
	return real(from, to);
}

int fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	pause_ms("SLOWIO_FSYNC_MS");
	return real(fd);
}

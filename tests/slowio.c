/* slowio.c - an LD_PRELOAD shim for interrupt.sh: makes fsync() and the
 * rename() of a temporary ("*.tmp.*") slow, so that a test can send a signal
 * while results are being written or published.
 *   SLOWIO_FSYNC_MS   pause before each fsync
 *   SLOWIO_RENAME_MS  pause before each rename of a temporary
 * and, for hostile.sh, makes chosen paths unreadable even to root (who reads
 * a mode-0000 file):
 *   SLOWIO_DENY       open() and opendir() of a path containing this text
 *                     fail with EACCES */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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

static int denied(const char *path)
{
	const char *v = getenv("SLOWIO_DENY");
	if (v && *v && path && strstr(path, v)) {
		errno = EACCES;
		return 1;
	}
	return 0;
}

static int open_as(const char *sym, const char *path, int flags, va_list ap)
{
	mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
	if (denied(path))
		return -1;
	int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
	return real(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	int fd = open_as("open", path, flags, ap);
	va_end(ap);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	int fd = open_as("open64", path, flags, ap);
	va_end(ap);
	return fd;
}

DIR *opendir(const char *path)
{
	DIR *(*real)(const char *) = (DIR * (*)(const char *))dlsym(RTLD_NEXT, "opendir");
	return denied(path) ? NULL : real(path);
}

/* interrupt.c - see interrupt.h. */
#include "config.h"
#include "src/core/interrupt.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int handled[] = { SIGINT, SIGTERM, SIGHUP };
#define NHANDLED (sizeof handled / sizeof *handled)

static char temp_path[BS_INTERRUPT_MAX_TEMPS][PATH_MAX];
static volatile sig_atomic_t temp_live[BS_INTERRUPT_MAX_TEMPS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig)
{
	for (int i = 0; i < BS_INTERRUPT_MAX_TEMPS; i++)
		if (temp_live[i])
			unlink(temp_path[i]);
	/* end as the signal would have: the shell sees 128 + sig */
	signal(sig, SIG_DFL);
	raise(sig);
}

void bs_interrupt_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NHANDLED; i++)
		sigaddset(&sa.sa_mask, handled[i]); /* one handler at a time */
	for (size_t i = 0; i < NHANDLED; i++) {
		struct sigaction old;
		/* a signal ignored by whoever started us (nohup) stays ignored */
		if (sigaction(handled[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(handled[i], &sa, NULL);
	}
}

int bs_interrupt_add_temp(const char *path)
{
	if (strlen(path) >= PATH_MAX)
		return -1;
	int slot = -1;
	pthread_mutex_lock(&slots_lock);
	for (int i = 0; i < BS_INTERRUPT_MAX_TEMPS && slot < 0; i++)
		if (!temp_live[i])
			slot = i;
	if (slot >= 0) {
		strcpy(temp_path[slot], path);
		/* the path is complete before the handler may look at it */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		temp_live[slot] = 1;
	}
	pthread_mutex_unlock(&slots_lock);
	return slot;
}

void bs_interrupt_forget(int slot)
{
	if (slot >= 0 && slot < BS_INTERRUPT_MAX_TEMPS)
		temp_live[slot] = 0;
}

void bs_interrupt_hold(sigset_t *saved)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < NHANDLED; i++)
		sigaddset(&set, handled[i]);
	pthread_sigmask(SIG_BLOCK, &set, saved);
}

void bs_interrupt_release(const sigset_t *saved)
{
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/* Whether entry is "<base>.tmp.<pid>" of a process that no longer runs. The
 * pid of this process counts as dead: it is called before this process
 * makes its own, so such a file is an earlier holder's of the same pid. */
static bool is_stale_temp(const char *entry, const char *base, size_t nbase)
{
	if (strncmp(entry, base, nbase) != 0 || strncmp(entry + nbase, ".tmp.", 5) != 0)
		return false;
	const char *digits = entry + nbase + 5;
	size_t nd = strlen(digits);
	if (nd == 0 || nd > 9 || strspn(digits, "0123456789") != nd)
		return false;
	long pid = strtol(digits, NULL, 10);
	return pid == (long)getpid() || pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH);
}

void bs_temp_remove_stale(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t ndir = slash ? (size_t)(slash - path) : 1;
	if (!*base || ndir >= sizeof dir)
		return;
	if (!slash)
		memcpy(dir, ".", 2);
	else if (ndir == 0)
		memcpy(dir, "/", 2);
	else {
		memcpy(dir, path, ndir);
		dir[ndir] = 0;
	}
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t nbase = strlen(base);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (is_stale_temp(de->d_name, base, nbase))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

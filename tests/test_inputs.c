/* test_inputs.c - expansion of INPUT arguments: directory walking order,
 * hidden files, VCS directories, symlink loops, duplicates, FIFOs, unreadable
 * files, stdin, missing paths. A tree is built at run time under /tmp. */
#include "config.h"
#include "src/input/inputs.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

static const char *at(const char *rel)
{
	static char buf[8][300];
	static int slot;
	slot = (slot + 1) % 8;
	snprintf(buf[slot], sizeof buf[slot], "%s/%s", root, rel);
	return buf[slot];
}

static void touch(const char *rel)
{
	FILE *f = fopen(at(rel), "w");
	if (!f) {
		printf("Bail out! cannot create %s: %s\n", at(rel), strerror(errno));
		exit(1);
	}
	fputs("May  4 17:31:02 host app: line\n", f);
	fclose(f);
}

/* The list, with the root replaced by "R", joined by spaces. */
static const char *joined(const struct bs_input_list *l)
{
	static char buf[4096];
	size_t used = 0, rn = strlen(root);
	buf[0] = 0;
	for (size_t i = 0; i < l->n && used < sizeof buf - 1; i++) {
		const char *p = l->paths[i];
		const char *shown = strncmp(p, root, rn) == 0 ? p + rn : p;
		int w = snprintf(buf + used, sizeof buf - used, "%s%s%s", i ? " " : "",
		                 shown != p ? "R" : "", shown);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return buf;
}

/* Run an expansion with warnings captured into a string. */
struct run {
	bool ok;
	struct bs_input_list list;
	size_t refused;
	char err[512];
	char *warnings;
	size_t warnings_n;
};

static struct run expand(char *const *args, size_t n)
{
	struct run r;
	memset(&r, 0, sizeof r);
	FILE *w = open_memstream(&r.warnings, &r.warnings_n);
	r.ok = bs_inputs_expand(args, n, &r.list, w, &r.refused, r.err, sizeof r.err);
	fclose(w);
	return r;
}

static void run_free(struct run *r)
{
	bs_inputs_free(&r->list);
	free(r->warnings);
}

int main(void)
{
	snprintf(root, sizeof root, "/tmp/bs-test-inputs.XXXXXX");
	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	/* R/logs: the tree to walk. */
	mkdir(at("logs"), 0700);
	mkdir(at("logs/b"), 0700);
	mkdir(at("logs/a"), 0700);
	mkdir(at("logs/a/deep"), 0700);
	mkdir(at("logs/.git"), 0700);
	touch("logs/b/maillog");
	touch("logs/a.log");
	touch("logs/a/z.log");
	touch("logs/a/deep/x");
	touch("logs/a/.hidden.log");
	touch("logs/.git/HEAD");
	touch("logs/B.log");
	touch("logs/maillog.1.gz");
	int fails = 0;
	fails += symlink("..", at("logs/a/deep/up")) != 0;        /* a loop */
	fails += symlink("a.log", at("logs/zz-same-as-a")) != 0;  /* the same file twice */
	fails += symlink("nowhere", at("logs/dangling")) != 0;
	fails += mkfifo(at("logs/fifo"), 0600) != 0;
	ok(fails == 0, "fixture tree built (symlinks, FIFO)");

	char *args1[] = { (char *)at("logs") };
	struct run r = expand(args1, 1);
	ok(r.ok, "a directory expands (%s)", r.err);
	is_str(joined(&r.list),
	       "R/logs/B.log R/logs/a.log R/logs/a/.hidden.log R/logs/a/deep/x R/logs/a/z.log "
	       "R/logs/b/maillog R/logs/maillog.1.gz",
	       "walk: recursive, sorted by full path in byte order, hidden files in, .git out");
	is_int(r.refused, 3, "walk: loop, dangling symlink and FIFO refused");
	ok(r.warnings && strstr(r.warnings, "logs/fifo: not a regular file"),
	   "walk: the FIFO is named with the reason");
	ok(r.warnings && strstr(r.warnings, "logs/a/deep/up: directory loop"), "walk: the symlink loop is named");
	ok(r.warnings && strstr(r.warnings, "logs/dangling: No such file or directory"),
	   "walk: a dangling symlink is named with errno's message");
	ok(r.warnings && strstr(r.warnings, "zz-same-as-a: same file as"), "walk: a file reached twice is read once");
	ok(r.warnings && strncmp(r.warnings, "breachscope: ", 13) == 0, "warnings start with the program name");
	char *expected = bs_xstrndup(joined(&r.list), strlen(joined(&r.list)));
	run_free(&r);

	/* Same set of arguments in another order, with overlaps: same list. */
	char *args2[] = { (char *)at("logs/a/z.log"), (char *)at("logs/b"), (char *)at("logs"), (char *)at("logs/a/") };
	r = expand(args2, 4);
	ok(r.ok, "overlapping arguments expand");
	is_str(joined(&r.list), expected, "overlapping arguments in any order: the same list, each file once");
	run_free(&r);
	free(expected);

	/* stdin: kept once, first. */
	char *args3[] = { "-", (char *)at("logs/b/maillog"), "-" };
	r = expand(args3, 3);
	ok(r.ok, "\"-\" accepted");
	is_str(joined(&r.list), "- R/logs/b/maillog", "\"-\" kept once");
	run_free(&r);

	/* A named FIFO is refused, not an error; a named missing path is. */
	char *args4[] = { (char *)at("logs/fifo"), (char *)at("logs/a.log") };
	r = expand(args4, 2);
	ok(r.ok && r.refused == 1 && r.list.n == 1, "a named FIFO is refused with a warning, the rest kept");
	run_free(&r);
	char *args5[] = { (char *)at("logs/a.log"), (char *)at("missing.log") };
	r = expand(args5, 2);
	ok(!r.ok, "a missing named path is an error");
	ok(strstr(r.err, "missing.log") && strstr(r.err, "No such file"), "the error names the path (%s)", r.err);
	is_int(r.list.n, 0, "on error the list is empty");
	run_free(&r);

	/* A named directory loop through symlinks only. */
	mkdir(at("loop"), 0700);
	symlink("../loop", at("loop/again"));
	touch("loop/f.log");
	char *args6[] = { (char *)at("loop") };
	r = expand(args6, 1);
	ok(r.ok && r.list.n == 1 && r.refused == 1, "a self-referencing directory ends (%s)", joined(&r.list));
	run_free(&r);

	/* Unreadable file: kept as an input, for the scan to give it its row
	 * ("unreadable", hostile.sh checks it through a shim, as root too). */
	touch("secret.log");
	chmod(at("secret.log"), 0);
	char *args7[] = { (char *)at("secret.log") };
	r = expand(args7, 1);
	ok(r.ok && r.list.n == 1 && r.refused == 0, "an unreadable file stays an input");
	run_free(&r);

	/* A named .git directory is walked: only walks skip VCS metadata. */
	char *args8[] = { (char *)at("logs/.git") };
	r = expand(args8, 1);
	is_str(joined(&r.list), "R/logs/.git/HEAD", "a named VCS directory is read");
	run_free(&r);

	/* Empty directory: nothing, no error. */
	mkdir(at("empty"), 0700);
	char *args9[] = { (char *)at("empty") };
	r = expand(args9, 1);
	ok(r.ok && r.list.n == 0 && r.refused == 0, "an empty directory gives no input and no error");
	run_free(&r);

	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", root);
	return tap_done();
}

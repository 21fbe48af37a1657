/* inputs.c - INPUT arguments expanded into the sorted list of files to read.
 *
 * The result must not depend on the order of the arguments nor on the order
 * a file system lists a directory: arguments are walked in sorted order,
 * directory entries are sorted, a file reached by several paths is kept under
 * the smallest one, and the final list is sorted by path (byte order).
 */
#include "config.h"
#include "src/input/inputs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deeper trees are refused: the walk recurses, and no log archive needs it. */
#define WALK_MAX_DEPTH 128

struct file_id {
	dev_t dev;
	ino_t ino;
};

struct candidate {
	char *path;
	struct file_id id;
};

struct walk {
	struct candidate *files;
	size_t nfiles, capfiles;
	struct file_id *walked; /* every directory walked so far */
	size_t nwalked, capwalked;
	struct file_id stack[WALK_MAX_DEPTH]; /* directories being walked, outermost first */
	size_t depth;
	FILE *warn;
	size_t *refused;
};

static void refuse(struct walk *w, const char *path, const char *why)
{
	if (w->warn)
		fprintf(w->warn, "breachscope: %s: %s\n", path, why);
	(*w->refused)++;
}

static bool same_id(struct file_id a, struct file_id b)
{
	return a.dev == b.dev && a.ino == b.ino;
}

static char *path_join(const char *dir, const char *name)
{
	size_t dn = strlen(dir), nn = strlen(name);
	while (dn > 1 && dir[dn - 1] == '/')
		dn--;
	bool slash = !(dn > 0 && dir[dn - 1] == '/'); /* the root keeps its own */
	char *p = bs_xmalloc(dn + slash + nn + 1);
	memcpy(p, dir, dn);
	if (slash)
		p[dn] = '/';
	memcpy(p + dn + slash, name, nn + 1);
	return p;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Version-control metadata is never a log, and can hold many files. */
static bool is_vcs_dir_name(const char *name)
{
	return strcmp(name, ".git") == 0 || strcmp(name, ".hg") == 0 ||
	       strcmp(name, ".svn") == 0 || strcmp(name, ".bzr") == 0;
}

/* A file to read; also a file or directory that cannot be opened
 * (permission denied): it stays an input, so that the scan gives it its
 * row (format "unreadable") and counts it, with the error on stderr and in
 * --debug (issue 22, item 6), instead of a line on stderr only. */
static void add_candidate(struct walk *w, const char *path, struct file_id id)
{
	if (w->nfiles == w->capfiles) {
		w->capfiles = w->capfiles ? w->capfiles * 2 : 64;
		w->files = bs_xrealloc(w->files, w->capfiles * sizeof *w->files);
	}
	w->files[w->nfiles++] = (struct candidate){ bs_xstrndup(path, strlen(path)), id };
}

static void add_file(struct walk *w, const char *path, const struct stat *st)
{
	add_candidate(w, path, (struct file_id){ st->st_dev, st->st_ino });
}

static void walk_path(struct walk *w, const char *path, const struct stat *st);

static void walk_dir(struct walk *w, const char *path, struct file_id id)
{
	for (size_t i = 0; i < w->depth; i++)
		if (same_id(w->stack[i], id)) {
			refuse(w, path, "directory loop (a symlink back to a parent), skipped");
			return;
		}
	for (size_t i = 0; i < w->nwalked; i++)
		if (same_id(w->walked[i], id)) {
			if (w->warn)
				fprintf(w->warn, "breachscope: %s: directory already read under another path, skipped\n", path);
			return;
		}
	if (w->depth == WALK_MAX_DEPTH) {
		refuse(w, path, "directory tree too deep, skipped");
		return;
	}
	DIR *d = opendir(path);
	if (!d) {
		add_candidate(w, path, id); /* unreadable: its row says so */
		return;
	}
	if (w->nwalked == w->capwalked) {
		w->capwalked = w->capwalked ? w->capwalked * 2 : 16;
		w->walked = bs_xrealloc(w->walked, w->capwalked * sizeof *w->walked);
	}
	w->walked[w->nwalked++] = id;

	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *name = e->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || is_vcs_dir_name(name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = bs_xrealloc(names, cap * sizeof *names);
		}
		names[n++] = path_join(path, name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_cstr);

	w->stack[w->depth++] = id;
	for (size_t i = 0; i < n; i++) {
		struct stat est;
		if (stat(names[i], &est) != 0)
			refuse(w, names[i], strerror(errno)); /* a dangling symlink, a race */
		else
			walk_path(w, names[i], &est);
		free(names[i]);
	}
	w->depth--;
	free(names);
}

static void walk_path(struct walk *w, const char *path, const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		walk_dir(w, path, (struct file_id){ st->st_dev, st->st_ino });
	else if (S_ISREG(st->st_mode))
		add_file(w, path, st);
	else
		refuse(w, path, "not a regular file (FIFO, socket or device), skipped");
}

static int cmp_by_id_then_path(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	if (x->id.dev != y->id.dev)
		return x->id.dev < y->id.dev ? -1 : 1;
	if (x->id.ino != y->id.ino)
		return x->id.ino < y->id.ino ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int cmp_by_path(const void *a, const void *b)
{
	return strcmp(((const struct candidate *)a)->path, ((const struct candidate *)b)->path);
}

/* Keep each file once, under its smallest path. */
static void drop_duplicates(struct walk *w)
{
	if (w->nfiles < 2)
		return;
	qsort(w->files, w->nfiles, sizeof *w->files, cmp_by_id_then_path);
	size_t kept = 1;
	for (size_t i = 1; i < w->nfiles; i++) {
		struct candidate *first = &w->files[kept - 1];
		if (same_id(first->id, w->files[i].id)) {
			if (w->warn && strcmp(first->path, w->files[i].path) != 0)
				fprintf(w->warn, "breachscope: %s: same file as %s, read once\n",
				        w->files[i].path, first->path);
			free(w->files[i].path);
		} else {
			w->files[kept++] = w->files[i];
		}
	}
	w->nfiles = kept;
	qsort(w->files, w->nfiles, sizeof *w->files, cmp_by_path);
}

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->nfiles; i++)
		free(w->files[i].path);
	free(w->files);
	free(w->walked);
}

bool bs_inputs_expand(char *const *args, size_t nargs, struct bs_input_list *out,
                      FILE *warn, size_t *refused, char *err, size_t errlen)
{
	size_t refused_here = 0;
	struct walk w = { .warn = warn, .refused = refused ? refused : &refused_here };
	*w.refused = 0;
	memset(out, 0, sizeof *out);
	if (errlen > 0)
		err[0] = 0;

	/* Walk in sorted order: which path a twice-reached directory is read
	 * under must not depend on the order of the arguments. */
	char **sorted = bs_xmalloc((nargs ? nargs : 1) * sizeof *sorted);
	memcpy(sorted, args, nargs * sizeof *sorted);
	if (nargs > 1)
		qsort(sorted, nargs, sizeof *sorted, cmp_cstr);

	bool want_stdin = false;
	for (size_t i = 0; i < nargs; i++) {
		const char *path = sorted[i];
		if (strcmp(path, "-") == 0) {
			want_stdin = true;
			continue;
		}
		struct stat st;
		if (path[0] == 0 || stat(path, &st) != 0) {
			snprintf(err, errlen, "%s: %s", path, path[0] ? strerror(errno) : "empty path");
			free(sorted);
			walk_free(&w);
			return false;
		}
		walk_path(&w, path, &st);
	}
	free(sorted);
	drop_duplicates(&w);

	out->cap = w.nfiles + want_stdin;
	out->paths = bs_xmalloc((out->cap ? out->cap : 1) * sizeof *out->paths);
	/* Standard input has no path to sort by: it comes first. */
	if (want_stdin)
		out->paths[out->n++] = bs_xstrndup("-", 1);
	for (size_t i = 0; i < w.nfiles; i++)
		out->paths[out->n++] = w.files[i].path;
	w.nfiles = 0;
	walk_free(&w);
	return true;
}

void bs_inputs_free(struct bs_input_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	memset(l, 0, sizeof *l);
}

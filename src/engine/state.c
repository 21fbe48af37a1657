/* state.c - write and read state files (see state.h). */
#include "config.h"
#include "src/engine/state.h"
#include "src/core/interrupt.h"
#include "src/engine/agg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAGIC "BSSTATE\n"
/* 2: join keys are a table of typed records (format 1 spelled them as
 * strings "\001T:input:id" in the string table). 3: the scripts table
 * (a client's successful requests to a script path). 6: a page reference
 * says whether it was only ever a link and which clients were served it. */
#define STATE_VERSION 6u

struct wbuf {
	FILE *f;
	uLong crc;
	uint64_t n;
	bool err;
};

static void w(struct wbuf *b, const void *p, size_t n)
{
	if (b->err || !n)
		return;
	if (fwrite(p, 1, n, b->f) != n)
		b->err = true;
	b->crc = crc32(b->crc, p, (uInt)n);
	b->n += n;
}
static void w64(struct wbuf *b, uint64_t v) { w(b, &v, sizeof v); }

/* Record sizes: a state from a build with other layouts is refused. */
static uint64_t fingerprint(void)
{
#define RECORD_SIZE(name, type, kind) sizeof(type),
	uint64_t s[] = { BS_AGG_TABLES(RECORD_SIZE) sizeof(struct bs_input_stats) };
#undef RECORD_SIZE
	return bs_hash_bytes(s, sizeof s, STATE_VERSION);
}

static void wstr(struct wbuf *b, const char *s)
{
	uint64_t n = strlen(s);
	w64(b, n);
	w(b, s, n);
}

/* A table: its record count, then its records as bytes. */
#define WRITE_TABLE(name, type, kind) w64(&b, a->name.n); w(&b, a->name.v, a->name.n * sizeof *a->name.v);

bool bs_state_write(const char *path, const struct bs_agg *a, const struct bs_input_row *rows, size_t nrows,
                    char *err, size_t errlen)
{
	char tmp[4096];
	bs_temp_remove_stale(path); /* a killed scan's STATE.tmp.PID */
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	int slot = bs_interrupt_add_temp(tmp); /* removed if the scan is interrupted */
	int fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		bs_interrupt_forget(slot);
		return false;
	}
	FILE *f = fdopen(fd, "wb");
	struct wbuf b = { .f = f, .crc = crc32(0, NULL, 0) };
	w(&b, MAGIC, 8);
	w64(&b, STATE_VERSION);
	w64(&b, fingerprint());
	w64(&b, nrows);
	for (size_t i = 0; i < nrows; i++) {
		wstr(&b, rows[i].source);
		wstr(&b, rows[i].format ? rows[i].format : "");
		w(&b, &rows[i].st, sizeof rows[i].st);
	}
	w64(&b, a->str.n);
	for (size_t i = 0; i < a->str.n; i++) {
		uint32_t n = (uint32_t)bs_strtab_len(&a->str, (uint32_t)i);
		w(&b, &n, sizeof n);
		w(&b, bs_strtab_get(&a->str, (uint32_t)i), n);
	}
	BS_AGG_TABLES(WRITE_TABLE)
	w64(&b, a->cand_dropped);
	w64(&b, a->events);
	w(&b, &a->first_ts, sizeof a->first_ts);
	w(&b, &a->last_ts, sizeof a->last_ts);
	/* trailer: not covered by the CRC */
	uint64_t n = b.n;
	uint32_t crc = (uint32_t)b.crc;
	bool ok = !b.err && fwrite(&n, sizeof n, 1, f) == 1 && fwrite(&crc, sizeof crc, 1, f) == 1;
	ok = ok && fflush(f) == 0 && fsync(fd) == 0;
	if (fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
		unlink(tmp);
		bs_interrupt_forget(slot);
		return false;
	}
	bs_interrupt_forget(slot);
	return true;
}

struct bs_state {
	char *path;
	unsigned char *buf;       /* the whole file, verified */
	size_t len, pos;
	struct bs_input_row *rows;
	size_t nrows;
};

static bool rd(struct bs_state *s, void *p, size_t n)
{
	if (n > s->len - s->pos)
		return false;
	memcpy(p, s->buf + s->pos, n);
	s->pos += n;
	return true;
}

static bool r64(struct bs_state *s, uint64_t *v) { return rd(s, v, sizeof *v); }

static char *rstr(struct bs_state *s)
{
	uint64_t n;
	if (!r64(s, &n) || n > s->len - s->pos)
		return NULL;
	char *p = bs_xstrndup((const char *)s->buf + s->pos, (size_t)n);
	s->pos += (size_t)n;
	return p;
}

void bs_state_close(struct bs_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nrows; i++) {
		free(s->rows[i].source);
		free(s->rows[i].format);
	}
	free(s->rows);
	free(s->buf);
	free(s->path);
	free(s);
}

static struct bs_state *fail(struct bs_state *s, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s: %s", s->path, why);
	bs_state_close(s);
	return NULL;
}

struct bs_state *bs_state_open(const char *path, char *err, size_t errlen)
{
	struct bs_state *s = bs_xcalloc(1, sizeof *s);
	s->path = bs_xstrndup(path, strlen(path));
	FILE *f = fopen(path, "rb");
	if (!f)
		return fail(s, err, errlen, strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return fail(s, err, errlen, "not a regular file");
	}
	s->len = (size_t)st.st_size;
	s->buf = bs_xmalloc(s->len ? s->len : 1);
	size_t got = fread(s->buf, 1, s->len, f);
	fclose(f);
	if (got != s->len)
		return fail(s, err, errlen, "read error");
	if (s->len < 8 + 12 || memcmp(s->buf, MAGIC, 8) != 0)
		return fail(s, err, errlen, "not a breachscope state file");
	uint64_t n;
	uint32_t crc;
	memcpy(&n, s->buf + s->len - 12, 8);
	memcpy(&crc, s->buf + s->len - 4, 4);
	if (n != s->len - 12)
		return fail(s, err, errlen, "truncated or damaged state file (length mismatch)");
	if ((uint32_t)crc32(crc32(0, NULL, 0), s->buf, (uInt)n) != crc)
		return fail(s, err, errlen, "damaged state file (checksum mismatch)");
	s->len -= 12;
	s->pos = 8;
	uint64_t version = 0, fp = 0;
	if (!r64(s, &version) || !r64(s, &fp))
		return fail(s, err, errlen, "truncated state file");
	if (version != STATE_VERSION || fp != fingerprint()) {
		char why[BS_ERRBUF_SIZE];
		snprintf(why, sizeof why, "state file of another breachscope version (format %llu, this is %u)",
		         (unsigned long long)version, STATE_VERSION);
		return fail(s, err, errlen, why);
	}
	uint64_t nrows;
	if (!r64(s, &nrows) || nrows > s->len)
		return fail(s, err, errlen, "damaged state file (input rows)");
	s->rows = bs_xcalloc(nrows ? nrows : 1, sizeof *s->rows);
	for (uint64_t i = 0; i < nrows; i++) {
		struct bs_input_row *r = &s->rows[s->nrows];
		r->source = rstr(s);
		r->format = rstr(s);
		if (!r->source || !r->format || !rd(s, &r->st, sizeof r->st) || !bs_bool_byte_ok(&r->st.truncated)) {
			free(r->source);
			free(r->format);
			return fail(s, err, errlen, "damaged state file (input rows)");
		}
		s->nrows++;
	}
	return s;
}

const struct bs_input_row *bs_state_rows(const struct bs_state *s, size_t *n)
{
	*n = s->nrows;
	return s->rows;
}

/* A table: its record count, then its records (replacing what the new
 * aggregate held: the "no key" of the keys table comes from the file). */
#define READ_TABLE(name, type, kind) if (!read_table(s, (void **)&a->name.v, &a->name.n, sizeof(type))) goto damaged; \
	a->name.cap = a->name.n;

static bool read_table(struct bs_state *s, void **v, size_t *n, size_t recsize)
{
	uint64_t n_;
	if (!r64(s, &n_) || n_ > (s->len - s->pos) / recsize)
		return false;
	free(*v);
	*v = bs_xmalloc((n_ ? n_ : 1) * recsize);
	*n = (size_t)n_;
	return rd(s, *v, (size_t)n_ * recsize);
}

static bool read_strings(struct bs_state *s, struct bs_agg *a)
{
	uint64_t nstr;
	if (!r64(s, &nstr) || nstr > s->len)
		return false;
	for (uint64_t i = 0; i < nstr; i++) {
		uint32_t n;
		if (!rd(s, &n, sizeof n) || n > s->len - s->pos || n > 4096 * 1024)
			return false;
		uint32_t id = bs_strtab_intern(&a->str, (const char *)s->buf + s->pos, n);
		s->pos += n;
		if (id != i && !(i == 0 && id == 0))
			return false; /* duplicate strings: not a file we wrote */
	}
	return true;
}

bool bs_state_merge_into(struct bs_state *s, struct bs_agg *dst, const uint32_t *remap, char *err, size_t errlen)
{
	struct bs_agg *a = bs_agg_new();
	if (!read_strings(s, a))
		goto damaged;
	BS_AGG_TABLES(READ_TABLE)
	if (!r64(s, &a->cand_dropped) || !r64(s, &a->events) || !rd(s, &a->first_ts, sizeof a->first_ts) ||
	    !rd(s, &a->last_ts, sizeof a->last_ts) || s->pos != s->len)
		goto damaged;
	/* every id checked and inputs renumbered before folding */
	if (!bs_agg_check_loaded(a, remap, s->nrows))
		goto damaged;
	/* the loaded tables have no index maps (the keys' one holds only the
	 * new aggregate's "no key"): merging rebuilds them in dst */
	bs_u64map_clear(&a->keys_ix);
	bs_agg_merge(dst, a);
	bs_agg_free(a);
	return true;
damaged:
	snprintf(err, errlen, "%s: damaged state file (tables)", s->path);
	bs_agg_free(a);
	return false;
}

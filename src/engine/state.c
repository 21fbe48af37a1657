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
#define STATE_VERSION 1u

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
	uint64_t s[] = { sizeof(struct bs_evidence), sizeof(struct bs_cand), sizeof(struct bs_pathrec),
	                 sizeof(struct bs_refrec), sizeof(struct bs_clientrec), sizeof(struct bs_sessrec),
	                 sizeof(struct bs_sessref), sizeof(struct bs_hourrec), sizeof(struct bs_failrec),
	                 sizeof(struct bs_destrec), sizeof(struct bs_hostrec), sizeof(struct bs_shaperec),
	                 sizeof(struct bs_aliasrec), sizeof(struct bs_input_stats) };
	return bs_hash_bytes(s, sizeof s, STATE_VERSION);
}

static void wstr(struct wbuf *b, const char *s)
{
	uint64_t n = strlen(s);
	w64(b, n);
	w(b, s, n);
}

#define WVEC(b, vec) do { w64((b), (vec).n); w((b), (vec).v, (vec).n * sizeof *(vec).v); } while (0)

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
	WVEC(&b, a->ev); WVEC(&b, a->cand); WVEC(&b, a->paths); WVEC(&b, a->refs);
	WVEC(&b, a->clients); WVEC(&b, a->sess); WVEC(&b, a->sref); WVEC(&b, a->hours);
	WVEC(&b, a->fails); WVEC(&b, a->dests); WVEC(&b, a->hosts); WVEC(&b, a->shapes);
	WVEC(&b, a->aliases);
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

/* A bool read from the file must be 0 or 1 before it is used as one. */
static bool bool_byte_ok(const bool *b)
{
	unsigned char v;
	memcpy(&v, b, 1);
	return v <= 1;
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
		char why[128];
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
		if (!r->source || !r->format || !rd(s, &r->st, sizeof r->st) || !bool_byte_ok(&r->st.truncated)) {
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

/* Keys that embed an input index ("\1T:3:...", "\1Q:3:...", "\1F:3:...") are
 * rewritten with the merged index. */
static void remap_key(char *buf, size_t *len, size_t cap, const uint32_t *remap, size_t nrows)
{
	if (*len < 5 || buf[0] != '\001' || buf[2] != ':' || (buf[1] != 'T' && buf[1] != 'Q' && buf[1] != 'F'))
		return;
	char *end;
	unsigned long in = strtoul(buf + 3, &end, 10);
	if (end == buf + 3 || *end != ':' || in >= nrows)
		return;
	char tmp[512];
	int n = snprintf(tmp, sizeof tmp, "\001%c:%u%.*s", buf[1], remap[in], (int)(*len - (size_t)(end - buf)), end);
	if (n > 0 && (size_t)n < cap) {
		memcpy(buf, tmp, (size_t)n);
		*len = (size_t)n;
	}
}

#define RVEC(s, vec) do { uint64_t n_; if (!r64((s), &n_) || n_ > ((s)->len - (s)->pos) / sizeof *(vec).v) goto damaged; \
	(vec).v = bs_xmalloc((n_ ? n_ : 1) * sizeof *(vec).v); (vec).n = (vec).cap = (size_t)n_; \
	if (!rd((s), (vec).v, (size_t)n_ * sizeof *(vec).v)) goto damaged; } while (0)

bool bs_state_merge_into(struct bs_state *s, struct bs_agg *dst, const uint32_t *remap, char *err, size_t errlen)
{
	struct bs_agg *a = bs_agg_new();
	uint64_t nstr;
	if (!r64(s, &nstr) || nstr > s->len)
		goto damaged;
	for (uint64_t i = 0; i < nstr; i++) {
		uint32_t n;
		if (!rd(s, &n, sizeof n) || n > s->len - s->pos || n > 4096 * 1024)
			goto damaged;
		char buf[512];
		const char *p = (const char *)s->buf + s->pos;
		size_t len = n;
		if (len < sizeof buf) {
			memcpy(buf, p, len);
			remap_key(buf, &len, sizeof buf, remap, s->nrows);
			p = buf;
		}
		uint32_t id = bs_strtab_intern(&a->str, p, len);
		s->pos += n;
		if (id != i && !(i == 0 && id == 0))
			goto damaged; /* duplicate strings: not a file we wrote */
	}
	RVEC(s, a->ev); RVEC(s, a->cand); RVEC(s, a->paths); RVEC(s, a->refs);
	RVEC(s, a->clients); RVEC(s, a->sess); RVEC(s, a->sref); RVEC(s, a->hours);
	RVEC(s, a->fails); RVEC(s, a->dests); RVEC(s, a->hosts); RVEC(s, a->shapes);
	RVEC(s, a->aliases);
	if (!r64(s, &a->cand_dropped) || !r64(s, &a->events) || !rd(s, &a->first_ts, sizeof a->first_ts) ||
	    !rd(s, &a->last_ts, sizeof a->last_ts) || s->pos != s->len)
		goto damaged;
	/* validate every string id and renumber inputs before folding */
	{
		size_t ns = a->str.n;
#define ID_OK(x) ((size_t)(x) < ns)
		for (size_t i = 0; i < a->ev.n; i++) {
			struct bs_evidence *e = &a->ev.v[i];
			if (!ID_OK(e->addr) || !ID_OK(e->host) || e->input >= s->nrows)
				goto damaged;
			if ((e->kind == EK_RECV_PAIR || e->kind == EK_DB_UNFILTERED || e->kind == EK_HTTP_SUSPECT ||
			     e->kind == EK_PAYLOAD) && !ID_OK(e->peer))
				goto damaged;
			e->input = remap[e->input];
		}
		for (size_t i = 0; i < a->cand.n; i++) {
			struct bs_cand *c = &a->cand.v[i];
			if (!ID_OK(c->host) || !ID_OK(c->s_main) || !ID_OK(c->s_user) || !ID_OK(c->s_extra) ||
			    !ID_OK(c->key) || c->input >= s->nrows)
				goto damaged;
			c->input = remap[c->input];
		}
		for (size_t i = 0; i < a->paths.n; i++)
			if (!ID_OK(a->paths.v[i].path) || !ID_OK(a->paths.v[i].host))
				goto damaged;
		for (size_t i = 0; i < a->refs.n; i++) {
			struct bs_refrec *r = &a->refs.v[i];
			if (!ID_OK(r->path) || !ID_OK(r->host) || !ID_OK(r->refhost) || r->input >= s->nrows)
				goto damaged;
			r->input = remap[r->input];
		}
		for (size_t i = 0; i < a->clients.n; i++)
			if (!ID_OK(a->clients.v[i].host))
				goto damaged;
		for (size_t i = 0; i < a->sess.n; i++)
			if (!ID_OK(a->sess.v[i].pair) || !ID_OK(a->sess.v[i].user) || !ID_OK(a->sess.v[i].host))
				goto damaged;
		for (size_t i = 0; i < a->sref.n; i++)
			if (!ID_OK(a->sref.v[i].pair) || !ID_OK(a->sref.v[i].host) || !ID_OK(a->sref.v[i].refhost) ||
			    !ID_OK(a->sref.v[i].ua))
				goto damaged;
		for (size_t i = 0; i < a->hours.n; i++)
			if (!ID_OK(a->hours.v[i].host))
				goto damaged;
		for (size_t i = 0; i < a->fails.n; i++)
			if (!ID_OK(a->fails.v[i].host))
				goto damaged;
		for (size_t i = 0; i < a->dests.n; i++)
			if (!ID_OK(a->dests.v[i].host) || !ID_OK(a->dests.v[i].dest) || !bool_byte_ok(&a->dests.v[i].is_name))
				goto damaged;
		for (size_t i = 0; i < a->hosts.n; i++)
			if (!ID_OK(a->hosts.v[i].host))
				goto damaged;
		for (size_t i = 0; i < a->shapes.n; i++)
			if (!ID_OK(a->shapes.v[i].host))
				goto damaged;
		for (size_t i = 0; i < a->aliases.n; i++)
			if (!ID_OK(a->aliases.v[i].name) || !ID_OK(a->aliases.v[i].ip))
				goto damaged;
#undef ID_OK
	}
	/* the loaded tables have no index maps; merging rebuilds them in dst */
	bs_agg_merge(dst, a);
	bs_agg_free(a);
	return true;
damaged:
	snprintf(err, errlen, "%s: damaged state file (tables)", s->path);
	bs_agg_free(a);
	return false;
}

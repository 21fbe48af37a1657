/* srvindex.c - what each server owns of the aggregate, indexed once per
 * correlation (after build_host_map): per table the rows whose host is the
 * server's, and the few fleet-wide counts the detectors compare a server
 * with (which servers serve a path, contact a destination, issue an SQL
 * shape). Judging a server then costs its own rows, never a scan of every
 * table per server: with a discovered fleet of 64 servers or a large
 * inventory, scans per server were quadratic (issue 17). Each server's rows
 * are in ascending row order, so every loop visits the rows it visited
 * when it scanned the whole table, in the same order. docs/HACKING.md,
 * "Cost of the correlation". */
#include "config.h"
#include "src/engine/correlate.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The rows of a table (n records of size bytes, each with a host id at
 * host_off) by server: a counting sort, one srv_of_host per row. */
static void rows_build(const struct ctx *c, struct srv_rows *r, const void *base, size_t n, size_t size,
                       size_t host_off)
{
	r->start = bs_xcalloc(c->nsrv + 1, sizeof *r->start);
	r->row = bs_xmalloc((n ? n : 1) * sizeof *r->row);
	int *of = bs_xmalloc((n ? n : 1) * sizeof *of);
	for (size_t i = 0; i < n; i++) {
		uint32_t host;
		memcpy(&host, (const char *)base + i * size + host_off, sizeof host);
		of[i] = srv_of_host(c, host);
		if (of[i] >= 0)
			r->start[of[i] + 1]++;
	}
	for (size_t s = 0; s < c->nsrv; s++)
		r->start[s + 1] += r->start[s];
	size_t *next = bs_xmalloc((c->nsrv ? c->nsrv : 1) * sizeof *next);
	if (c->nsrv)
		memcpy(next, r->start, c->nsrv * sizeof *next);
	for (size_t i = 0; i < n; i++)
		if (of[i] >= 0)
			r->row[next[of[i]]++] = (uint32_t)i;
	free(next);
	free(of);
}

static void rows_free(struct srv_rows *r)
{
	free(r->row);
	free(r->start);
}

/* Paths: which servers serve each, and whether a server serves it. */
static void paths_index(struct ctx *c, struct srv_index *x)
{
	const struct bs_agg *a = c->a;
	bool *has = bs_xcalloc(c->nsrv ? c->nsrv : 1, 1);
	for (size_t s = 0; s < c->nsrv; s++) {
		struct srv_span rows = srv_rows_of(&x->paths, s);
		for (size_t j = 0; j < rows.n; j++) {
			uint32_t path = a->paths.v[rows.v[j]].path;
			id_set_add(&x->path_srv, path, (uint32_t)s);
			bool found;
			*bs_u64map_upsert(&x->path_on, (uint64_t)path << 32 | s, &found) = 1;
			if (!has[s]) {
				has[s] = true;
				x->nhttp++;
			}
		}
	}
	free(has);
}

/* (shape, server) pairs, sorted: each server counted once per shape. */
struct shape_srv { uint64_t shape; size_t srv; };

static int cmp_shape_srv(const void *p, const void *q)
{
	const struct shape_srv *x = p, *y = q;
	if (x->shape != y->shape)
		return x->shape < y->shape ? -1 : 1;
	return (x->srv > y->srv) - (x->srv < y->srv);
}

/* SQL shapes: how many servers issue each, and how many issue any. */
static void shapes_index(struct ctx *c, struct srv_index *x)
{
	const struct bs_agg *a = c->a;
	struct shape_srv *v = bs_xmalloc((a->shapes.n ? a->shapes.n : 1) * sizeof *v);
	bool *issues = bs_xcalloc(c->nsrv ? c->nsrv : 1, 1);
	size_t n = 0;
	for (size_t i = 0; i < a->shapes.n; i++) {
		int o = srv_of_host(c, a->shapes.v[i].host);
		if (o < 0)
			continue;
		v[n++] = (struct shape_srv){ a->shapes.v[i].shape, (size_t)o };
		if (!issues[o]) {
			issues[o] = true;
			x->nquery++;
		}
	}
	bs_qsort(v, n, sizeof *v, cmp_shape_srv);
	for (size_t i = 0; i < n; i++) {
		if (i && v[i].shape == v[i - 1].shape && v[i].srv == v[i - 1].srv)
			continue;
		bool found;
		uint32_t *cnt = bs_u64map_upsert(&x->shape_nsrv, v[i].shape, &found);
		*cnt = found ? *cnt + 1 : 2; /* the map stores value + 1 */
	}
	free(issues);
	free(v);
}

/* agg: the aggregate whose candidates the rows are (qsort_r's context) */
static int cmp_cand_src(const void *p, const void *q, void *agg)
{
	const struct bs_agg *a = agg;
	uint32_t i = *(const uint32_t *)p, j = *(const uint32_t *)q;
	int k = bs_ip_cmp(&a->cand.v[i].src, &a->cand.v[j].src);
	return k ? k : (i > j) - (i < j);
}

/* The fleet's HTTP candidates by client address, then row. */
static void http_by_src_index(struct ctx *c, struct srv_index *x)
{
	const struct bs_agg *a = c->a;
	for (size_t s = 0; s < c->nsrv; s++) {
		struct srv_span rows = srv_rows_of(&x->cand, s);
		for (size_t j = 0; j < rows.n; j++)
			if (a->cand.v[rows.v[j]].kind == CK_HTTP)
				*BS_VEC_PUSH(x->http_by_src) = rows.v[j];
	}
	if (x->http_by_src.n > 1)
		qsort_r(x->http_by_src.v, x->http_by_src.n, sizeof *x->http_by_src.v, cmp_cand_src, (void *)a);
}

void srv_index_build(struct ctx *c)
{
	const struct bs_agg *a = c->a;
	struct srv_index *x = &c->by_srv;
	memset(x, 0, sizeof *x);
	bs_u64map_init(&x->path_srv);
	bs_u64map_init(&x->path_on);
	bs_u64map_init(&x->dest_srv);
	bs_u64map_init(&x->shape_nsrv);
	rows_build(c, &x->cand, a->cand.v, a->cand.n, sizeof *a->cand.v, offsetof(struct bs_cand, host));
	rows_build(c, &x->paths, a->paths.v, a->paths.n, sizeof *a->paths.v, offsetof(struct bs_pathrec, host));
	rows_build(c, &x->refs, a->refs.v, a->refs.n, sizeof *a->refs.v, offsetof(struct bs_refrec, host));
	rows_build(c, &x->scripts, a->scripts.v, a->scripts.n, sizeof *a->scripts.v, offsetof(struct bs_scriptrec, host));
	rows_build(c, &x->hours, a->hours.v, a->hours.n, sizeof *a->hours.v, offsetof(struct bs_hourrec, host));
	rows_build(c, &x->fails, a->fails.v, a->fails.n, sizeof *a->fails.v, offsetof(struct bs_failrec, host));
	rows_build(c, &x->dests, a->dests.v, a->dests.n, sizeof *a->dests.v, offsetof(struct bs_destrec, host));
	rows_build(c, &x->hosts, a->hosts.v, a->hosts.n, sizeof *a->hosts.v, offsetof(struct bs_hostrec, host));
	paths_index(c, x);
	for (size_t s = 0; s < c->nsrv; s++) {
		struct srv_span rows = srv_rows_of(&x->dests, s);
		for (size_t j = 0; j < rows.n; j++)
			id_set_add(&x->dest_srv, a->dests.v[rows.v[j]].dest, (uint32_t)s);
	}
	shapes_index(c, x);
	http_by_src_index(c, x);
}

void srv_index_free(struct ctx *c)
{
	struct srv_index *x = &c->by_srv;
	rows_free(&x->cand);
	rows_free(&x->paths);
	rows_free(&x->refs);
	rows_free(&x->scripts);
	rows_free(&x->hours);
	rows_free(&x->fails);
	rows_free(&x->dests);
	rows_free(&x->hosts);
	bs_u64map_free(&x->path_srv);
	bs_u64map_free(&x->path_on);
	bs_u64map_free(&x->dest_srv);
	bs_u64map_free(&x->shape_nsrv);
	BS_VEC_FREE(x->http_by_src);
}

bool path_unique_to(const struct ctx *c, uint32_t path, size_t s)
{
	uint32_t only;
	return id_set_get(&c->by_srv.path_srv, path, &only) && only == s;
}

bool path_served_by(const struct ctx *c, uint32_t path, size_t s)
{
	uint32_t one;
	return bs_u64map_get(&c->by_srv.path_on, (uint64_t)path << 32 | s, &one);
}

bool dest_only_of(const struct ctx *c, uint32_t dest, size_t s)
{
	uint32_t only;
	return id_set_get(&c->by_srv.dest_srv, dest, &only) && only == s;
}

size_t shape_servers(const struct ctx *c, uint64_t shape)
{
	uint32_t n = 0;
	bs_u64map_get(&c->by_srv.shape_nsrv, shape, &n);
	return n;
}

/* The first of the fleet's HTTP candidates from ip in http_by_src (its
 * length when none). */
size_t http_from_first(const struct ctx *c, const bs_ip *ip)
{
	const struct srv_index *x = &c->by_srv;
	size_t lo = 0, hi = x->http_by_src.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (bs_ip_cmp(&c->a->cand.v[x->http_by_src.v[mid]].src, ip) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* correlate.h - what the stages of bs_correlate share: the correlation
 * context, the per-server state and the small queries every stage asks.
 * Internal to src/engine; the public interface is engine.h.
 *
 * Stages, in the order bs_correlate (correlate.c) runs them:
 *   fleet.c     the servers (inventory or discovery), host ids -> server, local domains
 *   srvindex.c  each server's rows of the aggregate's tables, fleet-wide counts
 *   signals.c   per-server detectors (web shell, exploit, DB, exfiltration, tampering, auth, foreign)
 *   verdict.c   the attacker window's end, scores and verdicts
 *   exposure.c  exposure of every address, spam onset
 *   timeline.c  the timeline rows behind the verdicts
 * docs/DETECTION.md explains each rule. */
#ifndef BS_CORRELATE_H
#define BS_CORRELATE_H

#include "src/engine/agg.h"

#include <stdlib.h>

/* One server of the fleet, as the stages fill it in. */
struct srv {
	char *name;
	bs_ip addrs[8];
	size_t naddrs;
	bool has_data;
	unsigned signals;
	double score;
	enum bs_server_verdict verdict;
	bs_time ws, we, ts, te, exploit;   /* attacker window, tamper window, exploit time */
	bs_time burst_first, burst_last;   /* logins of the hours far above the same hour of other days */
	BS_VEC(bs_ip) attackers;
	BS_VEC(uint32_t) shell_paths;
	BS_VEC(uint32_t) tamper_refhosts;
	BS_VEC(uint32_t) attack_queries;   /* query key ids */
	BS_VEC(uint32_t) exfil_keys;       /* flow key ids of exfil flows/transfers */
	BS_VEC(size_t) exfil_cands;
	BS_VEC(size_t) shell_removals;     /* candidates: scripts an administrator removed from the web root */
	BS_VEC(size_t) bruteforces;        /* rows of the fails table judged brute forces (detect_auth) */
	BS_VEC(uint64_t) exfil_base;       /* per exfil_cands: the baseline it was judged against */
	char *baseline[BS_SIG_COUNT];      /* what each fired signal was measured against (report) */
};

/* What exfiltration asks per mail and transfer, indexed once (signals.c). */
struct exfil_index {
	struct bs_u64map login_addr;      /* addresses that logged in */
	struct bs_u64map sent_to;         /* recipients of authenticated submissions */
	struct bs_u64map wrote_peer;      /* recipient -> the customer who mailed it, UINT32_MAX for several */
	struct bs_u64map payload_addrs;   /* (flow key, sending host) -> distinct addresses it sent */
	struct grouped *by_group;         /* mails by local part, fleet transfers by destination; largest first */
	size_t n;
};

/* What tampering asks per page reference, indexed once (signals.c): how
 * many servers serve a path, how many of them serve it with a reference
 * to an outside host, and the outside hosts that most servers' copies of
 * some page reference (the fleet's own resources). */
struct tamper_index {
	struct bs_u64map nserve;          /* path -> servers serving it */
	struct bs_u64map nwith;           /* (path, ref host) -> servers whose copy has it */
	struct bs_u64map fleetwide;       /* ref host -> 1: on most servers' copies of a page */
};

/* The rows of one aggregate table that belong to each server, in ascending
 * row order: server s's are row[start[s]] .. row[start[s + 1] - 1]. A row
 * whose host is no server's is in no list. */
struct srv_rows { uint32_t *row; size_t *start; };
struct srv_span { const uint32_t *v; size_t n; };

/* What each server owns of the aggregate and what the fleet shares,
 * indexed once after build_host_map (srvindex.c): judging a server walks
 * its own rows, never a whole table per server. */
struct srv_index {
	struct srv_rows cand, paths, refs, scripts, hours, fails, dests, hosts;
	struct bs_u64map path_srv;        /* path -> the server serving it (id_set: UINT32_MAX - 1 for several) */
	struct bs_u64map path_on;         /* (path << 32 | server): the server serves the path */
	struct bs_u64map dest_srv;        /* destination -> the server contacting it (id_set) */
	struct bs_u64map shape_nsrv;      /* SQL shape -> how many servers issue it */
	size_t nhttp;                     /* servers that served any path */
	size_t nquery;                    /* servers that issue any query */
	BS_VEC(uint32_t) http_by_src;     /* the fleet's HTTP candidates by client address, then row */
};

struct srv_name {
	const char *name;
	size_t s;                         /* index in ctx.srv */
};

struct ctx {
	const struct bs_agg *a;           /* candidates in canonical order */
	const struct bs_engine_config *cfg;
	const struct bs_input_row *inputs; /* the inputs read, by index (their paths) */
	size_t ninputs;
	struct srv *srv;
	size_t nsrv;
	struct bs_u64map host_srv;        /* host id -> server index */
	bool *srv_hosted;                 /* per server: some host id maps to it (else
	                                   * no record of the data is its) */
	bs_ip *infra;                     /* inventory addresses of every role; with the
	                                   * servers', sorted by fleet_index (bsearch) */
	size_t ninfra;
	struct srv_name *srv_names;       /* the servers by name (fleet_index; bsearch) */
	char **local;                     /* local domains (given or inferred) */
	size_t nlocal;
	bool local_inferred;
	BS_VEC(struct bs_timeline_row) tl;
	bs_time T;                        /* latest window end over compromised servers */
	char *origin_text;                /* how the fleet was found */
	struct bs_u64map cand_ix;         /* (kind, key) -> first candidate, for joins */
	struct exfil_index ex;
	struct tamper_index tamper;
	struct srv_index by_srv;
};

/* ------------------------------------------------------- small queries */

/* The fleet's lookups, sorted once the fleet is known (build_host_map
 * calls it): the servers by name, every address of the fleet (fleet.c). */
void fleet_index(struct ctx *c);
/* The server named by the n bytes at name, or -1 (bsearch). */
int srv_by_name(const struct ctx *c, const char *name, size_t n);
/* The first entry of srv_names named name, or of a later name (nsrv when none). */
size_t srv_name_first(const struct ctx *c, const char *name);

/* The server a host id of the aggregate belongs to, or -1. */
static inline int srv_of_host(const struct ctx *c, uint32_t host)
{
	uint32_t v;
	return host && bs_u64map_get(&c->host_srv, host, &v) ? (int)v : -1;
}

/* Server s's rows of a table of the index. */
static inline struct srv_span srv_rows_of(const struct srv_rows *r, size_t s)
{
	return (struct srv_span){ r->row + r->start[s], r->start[s + 1] - r->start[s] };
}

/* A map from a string id to one value, or to UINT32_MAX - 1 (a value no
 * caller has) when ids were added with several. */
static inline void id_set_add(struct bs_u64map *m, uint32_t id, uint32_t val)
{
	bool found;
	uint32_t *slot = bs_u64map_upsert(m, (uint64_t)id + 1, &found);
	if (!found)
		*slot = val + 1; /* the map stores value + 1 */
	else if (*slot != val + 1)
		*slot = UINT32_MAX; /* several values: reads as one no caller has */
}

static inline bool id_set_get(const struct bs_u64map *m, uint32_t id, uint32_t *val)
{
	return bs_u64map_get(m, (uint64_t)id + 1, val);
}

/* The interned string of an id. */
static inline const char *S(const struct ctx *c, uint32_t id) { return bs_strtab_get(&c->a->str, id); }

/* The first candidate (in canonical order) of a kind with a key: the join of
 * evidence records to the request, query or transfer they came from. */
static inline const struct bs_cand *cand_find(const struct ctx *c, enum bs_ck kind, uint32_t key)
{
	uint32_t ix;
	return key && bs_u64map_get(&c->cand_ix, bs_key2(kind, key), &ix) ? &c->a->cand.v[ix] : NULL;
}

static inline bool u32_in(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static inline bool ip_in(const bs_ip *v, size_t n, const bs_ip *x)
{
	for (size_t i = 0; i < n; i++)
		if (bs_ip_eq(&v[i], x))
			return true;
	return false;
}

static inline void add_ip_unique(struct srv *s, const bs_ip *ip)
{
	if (!ip_in(s->attackers.v, s->attackers.n, ip))
		*BS_VEC_PUSH(s->attackers) = *ip;
}

static inline void push_u32_unique(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	if (u32_in(*v, *n, x))
		return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = bs_xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = x;
}
#define PUSH_UNIQUE(vec, x) push_u32_unique(&(vec).v, &(vec).n, &(vec).cap, (x))

static inline bs_time tmin(bs_time a, bs_time b) { return a == BS_TIME_NONE ? b : b == BS_TIME_NONE ? a : a < b ? a : b; }
static inline bs_time tmax(bs_time a, bs_time b) { return a == BS_TIME_NONE ? b : b == BS_TIME_NONE ? a : a > b ? a : b; }

/* Digits of the fraction of a second a candidate's time is known to. */
static inline int cand_frac(const struct bs_cand *k) { return (k->flags & CF_FROM_LOG) ? 0 : 6; }

/* correlate.c: where an address, name or domain stands */
bool is_local_domain(const struct ctx *c, const char *dom);
/* Whether an address is the fleet's or its infrastructure's (bsearch). */
bool ip_is_infra(const struct ctx *c, const bs_ip *ip);
bool ip_is_outside(const struct ctx *c, const bs_ip *ip);      /* not private, not the fleet's */
bool host_is_outside(const struct ctx *c, const char *h);      /* a reference target, a DNS name */
bool addr_domain_outside(const struct ctx *c, const char *addr);
uint32_t path_id_of(const struct ctx *c, const struct bs_cand *k); /* the id of an HTTP candidate's path */
int cmp_str(const void *x, const void *y);                     /* qsort of char * */

/* fleet.c */
void fleet_from_inventory(struct ctx *c);
void discover_fleet(struct ctx *c);
void build_host_map(struct ctx *c);
void find_local_domains(struct ctx *c);
void mark_servers_with_data(struct ctx *c);

/* srvindex.c */
void srv_index_build(struct ctx *c);   /* after build_host_map */
void srv_index_free(struct ctx *c);
bool path_unique_to(const struct ctx *c, uint32_t path, size_t s);   /* only server s serves the path (2xx) */
bool path_served_by(const struct ctx *c, uint32_t path, size_t s);   /* server s serves it (2xx) */
bool dest_only_of(const struct ctx *c, uint32_t dest, size_t s);    /* no other server contacted it */
size_t shape_servers(const struct ctx *c, uint64_t shape);           /* servers issuing an SQL shape */
size_t http_from_first(const struct ctx *c, const bs_ip *ip);       /* first of ip's in by_srv.http_by_src */

/* signals.c: each sets its signal bits of server s */
void detect_web(struct ctx *c, size_t s);
void detect_db(struct ctx *c, size_t s);
void exfil_index_build(struct ctx *c);  /* before detect_exfil */
void exfil_index_free(struct ctx *c);
void detect_exfil(struct ctx *c, size_t s);
void tamper_index_build(struct ctx *c); /* before detect_tamper */
void tamper_index_free(struct ctx *c);
void detect_tamper(struct ctx *c, size_t s);
void detect_auth(struct ctx *c, size_t s);
/* emit: also write the timeline rows of the destinations found */
void detect_foreign(struct ctx *c, size_t s, bool emit);
/* The baseline text of a signal that fired (the first noted is kept). */
void note_baseline(struct srv *v, enum bs_signal g, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* verdict.c */
void find_window_end(struct ctx *c, size_t s);
void decide_verdict(struct ctx *c, size_t s);
double signal_weight_of(enum bs_signal g);

/* exposure.c */
void build_exposure(struct ctx *c, struct bs_results *r);
void spam_onset(struct ctx *c, struct bs_results *r);

/* timeline.c */
struct bs_timeline_row *tl_add(struct ctx *c, bs_time ts, int frac, const char *desc, const char *event,
            enum bs_severity sev, int srv, const bs_ip *src, const bs_ip *dst, const char *user,
            const char *address, uint32_t input, uint64_t ref, const char *fmt, ...)
	__attribute__((format(printf, 14, 15)));
void server_timeline(struct ctx *c, size_t s);
void count_evidence_rows(const struct ctx *c, struct bs_results *r);
void sort_timeline(struct ctx *c, struct bs_results *r);

#endif

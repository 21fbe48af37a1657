/* fleet.c - the fleet: the inventory (--fleet FILE), a CSV with header
 * name,address,role, read with libcsv (one row per address; a server with
 * several addresses has several rows); and the first stage of correlation:
 * the servers (from the inventory, or discovered from the logins), which
 * host ids of the aggregate are theirs, and the local domains.
 * docs/DETECTION.md, "Fleet". */
#include "config.h"
#include "src/engine/correlate.h"
#include "src/core/pathlabel.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fleet_reader {
	struct bs_engine_config *cfg;
	char *fields[3];
	size_t nfields;
	size_t row;
	size_t line;              /* of the text being parsed: a record's last line */
	size_t *entry_lines;       /* the line of each entry of cfg->fleet */
	size_t cap;                /* entries room in cfg->fleet and entry_lines */
	int col_name, col_addr, col_role;
	char err[BS_ERRBUF_SIZE];
};

static void on_field(void *s, size_t len, void *data)
{
	struct fleet_reader *r = data;
	if (r->nfields < 3) {
		r->fields[r->nfields] = bs_xstrndup(s ? s : "", s ? len : 0);
		/* trim spaces */
		char *f = r->fields[r->nfields];
		size_t n = strlen(f);
		while (n && (f[n - 1] == ' ' || f[n - 1] == '\t'))
			f[--n] = 0;
		size_t k = 0;
		while (f[k] == ' ' || f[k] == '\t')
			k++;
		memmove(f, f + k, n - k + 1);
	}
	r->nfields++;
}

static void clear_fields(struct fleet_reader *r)
{
	for (size_t i = 0; i < 3; i++) {
		free(r->fields[i]);
		r->fields[i] = NULL;
	}
	r->nfields = 0;
}

static void on_row(int c, void *data)
{
	struct fleet_reader *r = data;
	r->row++;
	if (r->err[0]) {
		clear_fields(r);
		return;
	}
	if (r->row == 1) {
		if (r->nfields != 3 || !r->fields[0] || strcmp(r->fields[0], "name") != 0 ||
		    strcmp(r->fields[1], "address") != 0 || strcmp(r->fields[2], "role") != 0)
			snprintf(r->err, sizeof r->err, "line 1: header must be name,address,role");
		clear_fields(r);
		return;
	}
	if (r->nfields == 1 && r->fields[0][0] == 0) {
		clear_fields(r);
		return; /* blank line */
	}
	if (r->nfields != 3) {
		snprintf(r->err, sizeof r->err, "line %zu: expected 3 fields, got %zu", r->line, r->nfields);
		clear_fields(r);
		return;
	}
	bs_ip ip;
	if (!r->fields[0][0]) {
		snprintf(r->err, sizeof r->err, "line %zu: empty name", r->line);
	} else if (!bs_ip_parse(r->fields[1], strlen(r->fields[1]), &ip)) {
		snprintf(r->err, sizeof r->err, "line %zu: bad address \"%.64s\"", r->line, r->fields[1]);
	} else if (!r->fields[2][0]) {
		snprintf(r->err, sizeof r->err, "line %zu: empty role", r->line);
	} else {
		struct bs_engine_config *cfg = r->cfg;
		if (cfg->nfleet == r->cap) { /* doubling: a 100,000-row inventory in 17 copies, not 100,000 */
			r->cap = r->cap ? r->cap * 2 : 64;
			cfg->fleet = bs_xrealloc(cfg->fleet, r->cap * sizeof *cfg->fleet);
			r->entry_lines = bs_xrealloc(r->entry_lines, r->cap * sizeof *r->entry_lines);
		}
		r->entry_lines[cfg->nfleet] = r->line;
		struct bs_fleet_entry *e = &cfg->fleet[cfg->nfleet++];
		e->name = r->fields[0];
		e->address = ip;
		for (char *p = r->fields[2]; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		e->role = r->fields[2];
		free(r->fields[1]);
		r->fields[0] = r->fields[1] = r->fields[2] = NULL;
	}
	(void)c;
	clear_fields(r);
}

/* Duplicates: an address listed twice, or one name given two roles (a
 * name may repeat, once per address of a multi-address server). Sorted
 * copies, so a large inventory costs n log n, not n^2. */
struct fleet_row { const struct bs_fleet_entry *e; size_t line; };

static int by_address(const void *a, const void *b)
{
	const struct fleet_row *x = a, *y = b;
	if (x->e->address.family != y->e->address.family)
		return x->e->address.family < y->e->address.family ? -1 : 1;
	int c = memcmp(x->e->address.a, y->e->address.a, sizeof x->e->address.a);
	return c ? c : (x->line < y->line ? -1 : x->line > y->line);
}

static int by_name(const void *a, const void *b)
{
	const struct fleet_row *x = a, *y = b;
	int c = strcmp(x->e->name, y->e->name);
	return c ? c : (x->line < y->line ? -1 : x->line > y->line);
}

static bool fleet_check_duplicates(const struct bs_engine_config *cfg, const size_t *entry_lines,
                                   char *err, size_t errlen)
{
	size_t n = cfg->nfleet;
	if (n < 2)
		return true;
	struct fleet_row *rows = bs_xcalloc(n, sizeof *rows);
	for (size_t i = 0; i < n; i++)
		rows[i] = (struct fleet_row){ &cfg->fleet[i], entry_lines[i] };
	bool ok = true;
	qsort(rows, n, sizeof *rows, by_address);
	for (size_t i = 1; i < n && ok; i++) {
		const struct fleet_row *a = &rows[i - 1], *b = &rows[i];
		if (a->e->address.family == b->e->address.family &&
		    memcmp(a->e->address.a, b->e->address.a, sizeof a->e->address.a) == 0) {
			char text[BS_IP_STRLEN];
			bs_ip_format(&a->e->address, text, sizeof text);
			snprintf(err, errlen, "lines %zu and %zu: address %s listed twice", a->line, b->line, text);
			ok = false;
		}
	}
	qsort(rows, n, sizeof *rows, by_name);
	for (size_t i = 1; i < n && ok; i++) {
		const struct fleet_row *a = &rows[i - 1], *b = &rows[i];
		if (strcmp(a->e->name, b->e->name) == 0 && strcmp(a->e->role, b->e->role) != 0) {
			snprintf(err, errlen, "lines %zu and %zu: \"%.64s\" given roles \"%.32s\" and \"%.32s\"",
			         a->line, b->line, a->e->name, a->e->role, b->e->role);
			ok = false;
		}
	}
	free(rows);
	return ok;
}

static bool fleet_has_webmail(const struct bs_engine_config *cfg)
{
	for (size_t i = 0; i < cfg->nfleet; i++)
		if (strcmp(cfg->fleet[i].role, "webmail") == 0)
			return true;
	return false;
}

bool bs_fleet_load(const char *path, struct bs_engine_config *cfg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	struct csv_parser p;
	struct fleet_reader r = { .cfg = cfg };
	csv_init(&p, CSV_APPEND_NULL);
	char buf[65536];
	size_t n;
	bool ok = true;
	bool line_ended = false;
	size_t total = 0;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		const char *data = buf;
		/* a UTF-8 byte-order mark (as spreadsheets save) is not part of the header */
		if (total == 0 && n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
			data += 3;
			n -= 3;
			total += 3;
		}
		total += n;
		if (total > (64u << 20)) {
			snprintf(err, errlen, "%s: inventory larger than 64 MiB", path);
			ok = false;
			break;
		}
		/* fed a line at a time so that a record knows its line number */
		while (n && ok) {
			const char *nl = memchr(data, '\n', n);
			size_t len = nl ? (size_t)(nl - data) + 1 : n;
			if (r.line == 0 || line_ended)
				r.line++;
			line_ended = nl != NULL;
			if (csv_parse(&p, data, len, on_field, on_row, &r) != len) {
				snprintf(err, errlen, "%s: line %zu: %s", path, r.line, csv_strerror(csv_error(&p)));
				ok = false;
			}
			data += len;
			n -= len;
		}
		if (!ok)
			break;
	}
	if (ok && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		ok = false;
	}
	if (ok)
		csv_fini(&p, on_field, on_row, &r);
	csv_free(&p);
	clear_fields(&r);
	fclose(f);
	if (ok && r.err[0]) {
		snprintf(err, errlen, "%s: %s", path, r.err);
		ok = false;
	}
	if (ok && r.row == 0) {
		snprintf(err, errlen, "%s: empty inventory", path);
		ok = false;
	}
	char why[BS_ERRBUF_SIZE];
	if (ok && !fleet_check_duplicates(cfg, r.entry_lines, why, sizeof why)) {
		snprintf(err, errlen, "%s: %s", path, why);
		ok = false;
	}
	free(r.entry_lines);
	if (ok && !fleet_has_webmail(cfg)) {
		snprintf(err, errlen, "%s: no server with role webmail", path);
		ok = false;
	}
	if (ok)
		cfg->fleet_file = bs_xstrndup(path, strlen(path));
	return ok;
}

/* ------------------------------------------------ the correlation's fleet */

static int cmp_row_by_name(const void *x, const void *y)
{
	const struct fleet_row *a = x, *b = y;
	int c = strcmp(a->e->name, b->e->name);
	return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* For each webmail row, the first row of its name (a server may be listed
 * once per address): the rows sorted by name, so n log n, not a scan of
 * the servers per row. first[i] is SIZE_MAX for the other roles. */
static size_t *first_row_of_name(const struct bs_engine_config *cfg)
{
	size_t *first = bs_xcalloc(cfg->nfleet ? cfg->nfleet : 1, sizeof *first);
	struct fleet_row *rows = bs_xcalloc(cfg->nfleet ? cfg->nfleet : 1, sizeof *rows);
	size_t n = 0;
	for (size_t i = 0; i < cfg->nfleet; i++) {
		first[i] = SIZE_MAX;
		if (strcmp(cfg->fleet[i].role, "webmail") == 0)
			rows[n++] = (struct fleet_row){ &cfg->fleet[i], i }; /* line: the row's index */
	}
	bs_qsort(rows, n, sizeof *rows, cmp_row_by_name);
	for (size_t k = 0, g = 0; k < n; k++) {
		if (strcmp(rows[k].e->name, rows[g].e->name) != 0)
			g = k;
		first[rows[k].line] = rows[g].line;
	}
	free(rows);
	return first;
}

/* The webmail servers of the inventory; every address of any role is
 * infrastructure (not "outside"). */
void fleet_from_inventory(struct ctx *c)
{
	const struct bs_engine_config *cfg = c->cfg;
	size_t *first = first_row_of_name(cfg), *srv_of_row = bs_xcalloc(cfg->nfleet ? cfg->nfleet : 1, sizeof *srv_of_row);
	size_t nweb = 0;
	for (size_t i = 0; i < cfg->nfleet; i++)
		nweb += first[i] == i;
	c->srv = bs_xcalloc(nweb ? nweb : 1, sizeof *c->srv);
	c->infra = bs_xcalloc(cfg->nfleet ? cfg->nfleet : 1, sizeof *c->infra);
	for (size_t i = 0; i < cfg->nfleet; i++) {
		c->infra[c->ninfra++] = cfg->fleet[i].address;
		if (first[i] == SIZE_MAX)
			continue;
		if (first[i] == i) {
			srv_of_row[i] = c->nsrv++;
			c->srv[srv_of_row[i]].name = bs_xstrndup(cfg->fleet[i].name, strlen(cfg->fleet[i].name));
		}
		struct srv *v = &c->srv[srv_of_row[first[i]]];
		if (v->naddrs < 8 && cfg->fleet[i].address.family)
			v->addrs[v->naddrs++] = cfg->fleet[i].address;
	}
	free(first);
	free(srv_of_row);
	char buf[BS_ERRBUF_SIZE]; /* "inventory PATH" */
	snprintf(buf, sizeof buf, "inventory %s", cfg->fleet_file ? cfg->fleet_file : "");
	c->origin_text = bs_xstrndup(buf, strlen(buf));
}

static int cmp_ip(const void *x, const void *y) { return bs_ip_cmp(x, y); }

static int cmp_srv_name(const void *x, const void *y)
{
	const struct srv_name *a = x, *b = y;
	int c = strcmp(a->name, b->name);
	return c ? c : (a->s > b->s) - (a->s < b->s);
}

void fleet_index(struct ctx *c)
{
	size_t naddrs = 0;
	for (size_t s = 0; s < c->nsrv; s++)
		naddrs += c->srv[s].naddrs;
	c->infra = bs_xrealloc(c->infra, (c->ninfra + naddrs + 1) * sizeof *c->infra);
	for (size_t s = 0; s < c->nsrv; s++)
		for (size_t k = 0; k < c->srv[s].naddrs; k++)
			c->infra[c->ninfra++] = c->srv[s].addrs[k];
	bs_qsort(c->infra, c->ninfra, sizeof *c->infra, cmp_ip);
	c->srv_names = bs_xcalloc(c->nsrv ? c->nsrv : 1, sizeof *c->srv_names);
	for (size_t s = 0; s < c->nsrv; s++)
		c->srv_names[s] = (struct srv_name){ c->srv[s].name, s };
	bs_qsort(c->srv_names, c->nsrv, sizeof *c->srv_names, cmp_srv_name);
}

/* entry m against the key name[0..n): strncmp, then a longer m is after */
static int name_vs_key(const char *m, const char *name, size_t n)
{
	int d = strncmp(m, name, n);
	return d ? d : m[n] != 0;
}

/* The first entry of srv_names not below the key name[0..n). */
static size_t srv_name_lower(const struct ctx *c, const char *name, size_t n)
{
	size_t lo = 0, hi = c->nsrv;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (name_vs_key(c->srv_names[mid].name, name, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t srv_name_first(const struct ctx *c, const char *name)
{
	return srv_name_lower(c, name, strlen(name));
}

int srv_by_name(const struct ctx *c, const char *name, size_t n)
{
	size_t lo = srv_name_lower(c, name, n);
	return lo < c->nsrv && name_vs_key(c->srv_names[lo].name, name, n) == 0 ? (int)c->srv_names[lo].s : -1;
}

static void srv_add_host(struct ctx *c, uint32_t host, size_t s)
{
	if (!host)
		return;
	bool found;
	uint32_t *slot = bs_u64map_upsert(&c->host_srv, host, &found);
	if (!found)
		*slot = (uint32_t)s + 1;
}

/* The same, where the servers are not visited in order: the lowest index
 * wins, as when added in server order. */
static void srv_add_host_min(struct ctx *c, uint32_t host, size_t s)
{
	if (!host)
		return;
	bool found;
	uint32_t *slot = bs_u64map_upsert(&c->host_srv, host, &found);
	if (!found || *slot > (uint32_t)s + 1)
		*slot = (uint32_t)s + 1;
}

static uint32_t find_host_ip(const struct bs_agg *a, const bs_ip *ip)
{
	char buf[BS_IP_STRLEN + 4] = "ip:";
	bs_ip_format(ip, buf + 3, sizeof buf - 3);
	uint32_t id = bs_strtab_find(&a->str, buf, strlen(buf));
	return id == UINT32_MAX ? 0 : id;
}

static uint32_t find_host_name(const struct bs_agg *a, const char *name)
{
	char buf[160];
	int n = snprintf(buf, sizeof buf, "name:%s", name);
	for (int i = 5; i < n; i++)
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] = (char)(buf[i] + 32);
	uint32_t id = bs_strtab_find(&a->str, buf, (size_t)n);
	return id == UINT32_MAX ? 0 : id;
}


/* The inventory server a path names: a directory component equal to its
 * name, or starting with it before '.', '_' or '-' ("web01.example.com/",
 * "web01_logs/"); the first in inventory order. -1 when none. */
static int srv_of_path(const struct ctx *c, const char *path)
{
	const struct bs_engine_config *cfg = c->cfg;
	for (size_t i = 0; i < cfg->nfleet; i++) {
		const char *name = cfg->fleet[i].name;
		size_t n = strlen(name);
		for (const char *p = path; n && (p = strstr(p, name)) != NULL; p++) {
			bool left = p == path || p[-1] == '/';
			bool right = p[n] == '/' || p[n] == '.' || p[n] == '_' || p[n] == '-';
			if (left && right && strchr(p + n, '/')) {
				int s = srv_by_name(c, name, n);
				if (s >= 0)
					return s;
			}
		}
	}
	return -1;
}

/* Access logs name their server by the label of their path (the scan knows
 * no fleet: bs_path_server_label). A label is the server whose name the
 * input's path holds, when it holds one of the inventory. */
static void map_path_labels(struct ctx *c)
{
	for (size_t i = 0; i < c->ninputs; i++) {
		int s = srv_of_path(c, c->inputs[i].source);
		if (s < 0)
			continue;
		char label[BS_PATH_LABEL_SIZE];
		bs_path_server_label(c->inputs[i].source, label, sizeof label);
		if (label[0])
			srv_add_host(c, find_host_name(c->a, label), (size_t)s);
	}
}

/* Map every host id of the aggregate that belongs to a server. */
void build_host_map(struct ctx *c)
{
	const struct bs_agg *a = c->a;
	fleet_index(c);
	bs_u64map_init(&c->host_srv);
	struct bs_u64map addr_srv; /* a server's address id -> the first server */
	bs_u64map_init(&addr_srv);
	for (size_t s = 0; s < c->nsrv; s++) {
		struct srv *v = &c->srv[s];
		srv_add_host(c, find_host_name(a, v->name), s);
		const char *dot = strchr(v->name, '.');
		if (dot) {
			char first[128];
			size_t n = (size_t)(dot - v->name) < sizeof first - 1 ? (size_t)(dot - v->name) : sizeof first - 1;
			memcpy(first, v->name, n);
			first[n] = 0;
			srv_add_host(c, find_host_name(a, first), s);
		}
		for (size_t k = 0; k < v->naddrs; k++) {
			uint32_t ipid = find_host_ip(a, &v->addrs[k]);
			srv_add_host(c, ipid, s);
			bool found;
			uint32_t *slot = ipid ? bs_u64map_upsert(&addr_srv, ipid, &found) : NULL;
			if (slot && !found)
				*slot = (uint32_t)s + 1; /* the map's slots hold value + 1 */
		}
	}
	/* names that the data ties to a server's address: one pass over the
	 * aliases; the first server of the address wins, as a host added in
	 * server order (a name already a host of a server keeps it) */
	for (size_t i = 0; i < a->aliases.n; i++) {
		uint32_t s;
		if (a->aliases.v[i].source == BS_ALIAS_MAILLOG && bs_u64map_get(&addr_srv, a->aliases.v[i].ip, &s))
			srv_add_host_min(c, a->aliases.v[i].name, s);
	}
	bs_u64map_free(&addr_srv);
	map_path_labels(c);
	/* names aliased to an address of a server (reverse direction) */
	for (size_t i = 0; i < a->aliases.n; i++) {
		int s = srv_of_host(c, a->aliases.v[i].name);
		if (s >= 0 && a->aliases.v[i].source == BS_ALIAS_MAILLOG)
			srv_add_host(c, a->aliases.v[i].ip, (size_t)s);
	}
	c->srv_hosted = bs_xcalloc(c->nsrv ? c->nsrv : 1, sizeof *c->srv_hosted);
	for (size_t i = 0; i < c->host_srv.cap; i++)
		if (c->host_srv.vals[i])
			c->srv_hosted[c->host_srv.vals[i] - 1] = true;
}

/* Why the data shows a host serving (0: it does not): a syslog host name
 * tied to its address (Postfix client=name[addr]), HTTP pages it answered,
 * or a DNS answer giving its address for a name of the domain of users who
 * log in through it (wm1.example.net for alice@example.net). An address
 * through which many users log in without any (a NAT, a carrier's CGNAT,
 * an IMAP proxy) is a crowd of clients. */
enum { SERVES_NAME = 1, SERVES_HTTP = 2, SERVES_DNS = 4 };
/* host id -> why it serves, built once (the map stores value + 1). */
static void serve_mark(struct bs_u64map *serves, uint32_t host, unsigned why)
{
	bool found;
	uint32_t *slot = bs_u64map_upsert(serves, (uint64_t)host + 1, &found);
	*slot = (found ? ((*slot - 1) | why) : why) + 1;
}

static void serving_index(const struct bs_agg *a, struct bs_u64map *serves)
{
	bs_u64map_init(serves);
	for (size_t i = 0; i < a->aliases.n; i++)
		if (a->aliases.v[i].source == BS_ALIAS_MAILLOG)
			serve_mark(serves, a->aliases.v[i].ip, SERVES_NAME);
	for (size_t i = 0; i < a->paths.n; i++)
		serve_mark(serves, a->paths.v[i].host, SERVES_HTTP);
}

static unsigned host_serves(const struct bs_u64map *serves, uint32_t host)
{
	uint32_t why;
	return bs_u64map_get(serves, (uint64_t)host + 1, &why) ? why : 0;
}

/* Whether NAME ("name:wm1.example.net") lies in the domain of USER
 * ("alice@example.net"): it ends in ".example.net". */
static bool name_in_user_domain(const char *name, const char *user)
{
	const char *at = strrchr(user, '@');
	if (!at || !at[1])
		return false;
	size_t nl = strlen(name), dl = strlen(at + 1);
	return nl > 5 + dl + 1 && name[nl - dl - 1] == '.' && strcmp(name + nl - dl, at + 1) == 0;
}

/* The names of each address from one source of aliases, sorted by
 * address, to find those of a host in O(log n). */
struct alias_names {
	BS_VEC(struct bs_aliasrec) v;
};

static int cmp_alias_ip(const void *x, const void *y)
{
	const struct bs_aliasrec *p = x, *q = y;
	return p->ip < q->ip ? -1 : p->ip > q->ip ? 1 : (p->name > q->name) - (p->name < q->name);
}

static void alias_names_build(const struct bs_agg *a, struct alias_names *d, enum bs_alias_source source)
{
	memset(d, 0, sizeof *d);
	for (size_t i = 0; i < a->aliases.n; i++)
		if (a->aliases.v[i].source == source)
			*BS_VEC_PUSH(d->v) = a->aliases.v[i];
	bs_qsort(d->v.v, d->v.n, sizeof *d->v.v, cmp_alias_ip);
}

/* The first name of host in d (d->v.n when none). */
static size_t alias_names_first(const struct alias_names *d, uint32_t host)
{
	size_t lo = 0, hi = d->v.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->v.v[mid].ip < host)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A new user through HOST: its address serves when a DNS name of the
 * user's domain resolved to it. */
static void dns_mark_user(struct ctx *c, const struct alias_names *d, struct bs_u64map *serves, uint32_t host,
                          uint32_t user)
{
	if (!d->v.n || (host_serves(serves, host) & SERVES_DNS))
		return;
	for (size_t i = alias_names_first(d, host); i < d->v.n && d->v.v[i].ip == host; i++)
		if (name_in_user_domain(S(c, d->v.v[i].name), S(c, user))) {
			serve_mark(serves, host, SERVES_DNS);
			return;
		}
}

/* The shortest host name the mail logs tie to an address (the first in
 * byte order of the shortest), or NULL. */
static const char *shortest_alias(const struct ctx *c, const struct alias_names *named, uint32_t ipid)
{
	const char *best = NULL;
	for (size_t k = alias_names_first(named, ipid); k < named->v.n && named->v.v[k].ip == ipid; k++) {
		const char *n = S(c, named->v.v[k].name) + 5;
		if (!best || strlen(n) < strlen(best) || (strlen(n) == strlen(best) && strcmp(n, best) < 0))
			best = n;
	}
	return best;
}

#define DISCOVERED_MAX 64

/* The summary's account of a discovered fleet: a warning first when it is
 * too large to be judged silently, then why each server was taken. */
static void discovered_origin(struct ctx *c, const uint64_t *nusers, const unsigned *why)
{
	size_t cap = 600 + c->nsrv * 120, off = 0;
	char *buf = bs_xmalloc(cap);
	if (c->nsrv > DISCOVERED_MAX)
		off += (size_t)snprintf(buf + off, cap - off,
			"WARNING: %zu servers discovered (more than %d): check them or pass --fleet FILE; ", c->nsrv, DISCOVERED_MAX);
	off += (size_t)snprintf(buf + off, cap - off,
		"discovered: %zu host(s) through which 3 or more users logged in to webmail or IMAP and that the data shows serving", c->nsrv);
	for (size_t i = 0; i < c->nsrv && off < cap; i++) {
		char ip[BS_IP_STRLEN];
		bs_ip_format(&c->srv[i].addrs[0], ip, sizeof ip);
		off += (size_t)snprintf(buf + off, cap - off, "%s %s (%s: %llu users%s%s%s)", i ? ";" : ":", c->srv[i].name, ip,
			(unsigned long long)nusers[i], (why[i] & SERVES_NAME) ? ", named in the mail logs" : "",
			(why[i] & SERVES_HTTP) ? ", answered HTTP" : "", (why[i] & SERVES_DNS) ? ", its address in DNS answers" : "");
	}
	c->origin_text = buf;
}

/* Discovery: hosts (by address) through which many distinct users logged in. */
void discover_fleet(struct ctx *c)
{
	const struct bs_agg *a = c->a;
	struct bs_u64map users;  /* (host, user) seen */
	struct bs_u64map count;  /* host -> index in counts */
	bs_u64map_init(&users);
	bs_u64map_init(&count);
	struct bs_u64map serves; /* host -> why it serves */
	serving_index(a, &serves);
	struct alias_names dns, named;
	alias_names_build(a, &dns, BS_ALIAS_DNS);
	alias_names_build(a, &named, BS_ALIAS_MAILLOG);
	BS_VEC(struct { uint32_t host; uint64_t n; }) counts = { 0 };
	for (size_t i = 0; i < a->ev.n; i++) {
		const struct bs_evidence *e = &a->ev.v[i];
		/* a bare name is a user too (when given a domain, its EK_LOGIN
		 * twin is counted instead) */
		bool bare = e->kind == EK_LOGIN_BARE && !a->logins_completed;
		if ((e->kind != EK_LOGIN && !bare) || !e->host)
			continue;
		bool f;
		uint32_t *slot = bs_u64map_upsert(&users, bs_key2(e->host, e->addr), &f);
		if (f)
			continue;
		*slot = 1;
		dns_mark_user(c, &dns, &serves, e->host, e->addr);
		slot = bs_u64map_upsert(&count, e->host, &f);
		if (!f) {
			*slot = (uint32_t)counts.n + 1;
			BS_VEC_PUSH(counts)->host = e->host;
			counts.v[counts.n - 1].n = 0;
		}
		counts.v[*slot - 1].n++;
	}
	char **names = bs_xmalloc((counts.n ? counts.n : 1) * sizeof *names);
	size_t nn = 0;
	for (size_t i = 0; i < counts.n; i++) {
		const char *h = S(c, counts.v[i].host);
		if (counts.v[i].n < 3 || strncmp(h, "ip:", 3) != 0 || !host_serves(&serves, counts.v[i].host))
			continue;
		names[nn++] = bs_xstrndup(h + 3, strlen(h + 3));
	}
	bs_qsort(names, nn, sizeof *names, cmp_str);
	uint64_t *nusers = bs_xcalloc(nn ? nn : 1, sizeof *nusers);
	unsigned *why = bs_xcalloc(nn ? nn : 1, sizeof *why);
	c->srv = bs_xcalloc(nn ? nn : 1, sizeof *c->srv);
	c->nsrv = nn;
	for (size_t i = 0; i < nn; i++) {
		struct srv *v = &c->srv[i];
		bs_ip_parse(names[i], strlen(names[i]), &v->addrs[0]);
		v->naddrs = 1;
		/* prefer a host name learnt from the data (shortest alias) */
		uint32_t ipid = find_host_ip(a, &v->addrs[0]);
		const char *best = shortest_alias(c, &named, ipid);
		v->name = best ? bs_xstrndup(best, strlen(best)) : names[i];
		if (best)
			free(names[i]);
		bool f;
		uint32_t *slot = bs_u64map_upsert(&count, ipid, &f);
		nusers[i] = f && slot ? counts.v[*slot - 1].n : 0;
		why[i] = host_serves(&serves, ipid);
	}
	free(names);
	discovered_origin(c, nusers, why);
	free(nusers);
	free(why);
	bs_u64map_free(&users);
	bs_u64map_free(&count);
	bs_u64map_free(&serves);
	BS_VEC_FREE(dns.v);
	BS_VEC_FREE(named.v);
	BS_VEC_FREE(counts);
}

/* Local domains: given, or those of the users who logged in through the fleet. */
void find_local_domains(struct ctx *c)
{
	const struct bs_agg *a = c->a;
	if (c->cfg->nlocal) {
		c->local = c->cfg->local_domains;
		c->nlocal = c->cfg->nlocal;
		return;
	}
	c->local_inferred = true;
	for (size_t i = 0; i < a->ev.n; i++) {
		const struct bs_evidence *e = &a->ev.v[i];
		if (e->kind != EK_LOGIN || srv_of_host(c, e->host) < 0)
			continue;
		const char *at = strrchr(S(c, e->addr), '@');
		if (!at)
			continue;
		bool have = false;
		for (size_t k = 0; k < c->nlocal; k++)
			if (strcmp(c->local[k], at + 1) == 0)
				have = true;
		if (!have && c->nlocal < 64) {
			c->local = bs_xrealloc(c->local, (c->nlocal + 1) * sizeof *c->local);
			c->local[c->nlocal++] = bs_xstrndup(at + 1, strlen(at + 1));
		}
	}
	bs_qsort(c->local, c->nlocal, sizeof *c->local, cmp_str);
}

/* Which servers have data at all (the others get no verdict but "no data"). */
void mark_servers_with_data(struct ctx *c)
{
	const struct bs_agg *a = c->a;
	for (size_t i = 0; i < a->hosts.n; i++) {
		int s = srv_of_host(c, a->hosts.v[i].host);
		if (s >= 0 && a->hosts.v[i].events)
			c->srv[s].has_data = true;
	}
	for (size_t i = 0; i < a->paths.n; i++) {
		int s = srv_of_host(c, a->paths.v[i].host);
		if (s >= 0)
			c->srv[s].has_data = true;
	}
}

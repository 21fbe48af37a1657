/* fleet.c - the fleet inventory (--fleet FILE): CSV with header
 * name,address,role, read with libcsv. One row per address; a server with
 * several addresses has several rows. */
#include "config.h"
#include "src/engine/engine.h"

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
	int col_name, col_addr, col_role;
	char err[256];
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
		snprintf(r->err, sizeof r->err, "row %zu: expected 3 fields, got %zu", r->row, r->nfields);
		clear_fields(r);
		return;
	}
	bs_ip ip;
	if (!r->fields[0][0]) {
		snprintf(r->err, sizeof r->err, "row %zu: empty name", r->row);
	} else if (!bs_ip_parse(r->fields[1], strlen(r->fields[1]), &ip)) {
		snprintf(r->err, sizeof r->err, "row %zu: bad address \"%.64s\"", r->row, r->fields[1]);
	} else if (!r->fields[2][0]) {
		snprintf(r->err, sizeof r->err, "row %zu: empty role", r->row);
	} else {
		struct bs_engine_config *cfg = r->cfg;
		cfg->fleet = bs_xrealloc(cfg->fleet, (cfg->nfleet + 1) * sizeof *cfg->fleet);
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
	size_t total = 0;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		total += n;
		if (total > (64u << 20)) {
			snprintf(err, errlen, "%s: inventory larger than 64 MiB", path);
			ok = false;
			break;
		}
		if (csv_parse(&p, buf, n, on_field, on_row, &r) != n) {
			snprintf(err, errlen, "%s: %s", path, csv_strerror(csv_error(&p)));
			ok = false;
			break;
		}
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
	if (ok) {
		bool any = false;
		for (size_t i = 0; i < cfg->nfleet; i++)
			if (strcmp(cfg->fleet[i].role, "webmail") == 0)
				any = true;
		if (!any) {
			snprintf(err, errlen, "%s: no server with role webmail", path);
			ok = false;
		}
	}
	if (ok)
		cfg->fleet_file = bs_xstrndup(path, strlen(path));
	return ok;
}

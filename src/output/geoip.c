/* geoip.c - country and ASN of outside addresses from MaxMind DB files.
 *
 * Every --geoip file is opened once (memory-mapped) and checked before any
 * input is read, so that a damaged database is a configuration error at
 * start (exit 2) rather than a crash or silent misses halfway through a run.
 * After opening, the databases are only read: lookups from several threads
 * need no lock (libmaxminddb's lookups are reentrant on a shared MMDB_s). */
#include "config.h"
#include "src/output/geoip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct bs_geoip {
	MMDB_s *dbs;
	size_t ndbs;
};

/* How many distinct data records of the search tree are decoded fully at
 * open. Decoding catches broken pointers, bad lengths and bad UTF-8 in the
 * data section; a bound keeps the start-up cost flat on a 4-million-node
 * City database (the tree walk itself is cheap and always complete). */
#define GEOIP_DATA_SAMPLES 512

static bool decode_entry(const MMDB_s *db, uint32_t record_offset)
{
	MMDB_entry_s entry = { .mmdb = db, .offset = record_offset };
	MMDB_entry_data_list_s *list = NULL;
	int status = MMDB_get_entry_data_list(&entry, &list);
	MMDB_free_entry_data_list(list);
	return status == MMDB_SUCCESS;
}

/* Walk every node of the search tree: a record that points neither at a
 * node, nor at the empty marker, nor into the data section means a damaged
 * tree, which libmaxminddb would otherwise only report (or not) on the
 * lookup that reaches it. Records pointing back to earlier nodes are legal
 * (IPv6 databases alias ::ffff:0:0/96 to the IPv4 subtree) and cannot loop a
 * lookup, which stops after 128 bits. */
static int check_tree(const MMDB_s *db)
{
	uint32_t samples[GEOIP_DATA_SAMPLES];
	size_t nsamples = 0;
	for (uint32_t node = 0; node < db->metadata.node_count; node++) {
		MMDB_search_node_s sn;
		int status = MMDB_read_node(db, node, &sn);
		if (status != MMDB_SUCCESS)
			return status;
		const uint8_t types[2] = { sn.left_record_type, sn.right_record_type };
		const MMDB_entry_s entries[2] = { sn.left_record_entry, sn.right_record_entry };
		for (int side = 0; side < 2; side++) {
			if (types[side] == MMDB_RECORD_TYPE_INVALID)
				return MMDB_CORRUPT_SEARCH_TREE_ERROR;
			if (types[side] != MMDB_RECORD_TYPE_DATA || nsamples >= GEOIP_DATA_SAMPLES)
				continue;
			bool seen = false;
			for (size_t i = 0; i < nsamples && !seen; i++)
				seen = samples[i] == entries[side].offset;
			if (!seen)
				samples[nsamples++] = entries[side].offset;
		}
	}
	for (size_t i = 0; i < nsamples; i++)
		if (!decode_entry(db, samples[i]))
			return MMDB_INVALID_DATA_ERROR;
	return MMDB_SUCCESS;
}

static int check_database(const MMDB_s *db)
{
	MMDB_entry_data_list_s *meta = NULL;
	int status = MMDB_get_metadata_as_entry_data_list(db, &meta);
	MMDB_free_entry_data_list(meta);
	if (status != MMDB_SUCCESS)
		return status;
	if (db->metadata.node_count == 0)
		return MMDB_INVALID_METADATA_ERROR;
	return check_tree(db);
}

struct bs_geoip *bs_geoip_open(char *const *files, size_t nfiles, char *err, size_t errlen)
{
	struct bs_geoip *g = bs_xcalloc(1, sizeof *g);
	g->dbs = bs_xcalloc(nfiles ? nfiles : 1, sizeof *g->dbs);
	for (size_t i = 0; i < nfiles; i++) {
		int status = MMDB_open(files[i], MMDB_MODE_MMAP, &g->dbs[i]);
		if (status == MMDB_SUCCESS) {
			g->ndbs = i + 1;
			status = check_database(&g->dbs[i]);
		}
		if (status != MMDB_SUCCESS) {
			if (status == MMDB_IO_ERROR || status == MMDB_FILE_OPEN_ERROR)
				snprintf(err, errlen, "%s: %s (%s)", files[i], MMDB_strerror(status), strerror(errno));
			else
				snprintf(err, errlen, "%s: %s", files[i], MMDB_strerror(status));
			bs_geoip_close(g);
			return NULL;
		}
	}
	return g;
}

/* Copy a database string into out, keeping it one safe line: control bytes
 * become spaces, and a cut never splits a UTF-8 character. */
static void copy_text(char *out, size_t size, const char *s, size_t n)
{
	if (size == 0)
		return;
	if (n > size - 1) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[i] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	out[n] = 0;
}

static bool get_string(MMDB_entry_s *entry, MMDB_entry_data_s *data, const char *k1, const char *k2)
{
	int status = k2 ? MMDB_get_value(entry, data, k1, k2, NULL) : MMDB_get_value(entry, data, k1, NULL);
	return status == MMDB_SUCCESS && data->has_data && data->type == MMDB_DATA_TYPE_UTF8_STRING;
}

static void lookup_country(MMDB_entry_s *entry, struct bs_geo_info *out)
{
	MMDB_entry_data_s data;
	if (!get_string(entry, &data, "country", "iso_code") &&
	    !get_string(entry, &data, "registered_country", "iso_code"))
		return;
	/* ISO 3166 codes are letters; anything else in the field is damage. */
	size_t n = 0;
	for (uint32_t i = 0; i < data.data_size && n < sizeof out->country - 1; i++) {
		char ch = data.utf8_string[i];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			out->country[n++] = ch;
	}
	out->country[n] = 0;
}

/* "AS<number> <organisation>" into out->asn; true when both were known. */
static bool lookup_asn(MMDB_entry_s *entry, char *asn, size_t size)
{
	MMDB_entry_data_s data;
	int status = MMDB_get_value(entry, &data, "autonomous_system_number", NULL);
	if (status != MMDB_SUCCESS || !data.has_data)
		return false;
	uint64_t number;
	if (data.type == MMDB_DATA_TYPE_UINT32)
		number = data.uint32;
	else if (data.type == MMDB_DATA_TYPE_UINT16)
		number = data.uint16;
	else if (data.type == MMDB_DATA_TYPE_UINT64)
		number = data.uint64;
	else
		return false;
	int len = snprintf(asn, size, "AS%llu", (unsigned long long)number);
	if (len < 0 || (size_t)len + 2 >= size)
		return false;
	/* Only the AS's own name: an ISP database's "organization" is the
	 * customer the block is assigned to, not the AS. */
	if (!get_string(entry, &data, "autonomous_system_organization", NULL) || data.data_size == 0)
		return false;
	asn[len] = ' ';
	copy_text(asn + len + 1, size - (size_t)len - 1, data.utf8_string, data.data_size);
	return true;
}

void bs_geoip_lookup(struct bs_geoip *g, const bs_ip *ip, struct bs_geo_info *out)
{
	out->country[0] = 0;
	out->asn[0] = 0;
	if (!g || ip->family == 0 || bs_ip_is_private(ip))
		return;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (ip->family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip->a, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip->a, 16);
	}
	/* The first database that knows a field gives it; an AS number without
	 * a name is kept only if no later database knows both. */
	bool asn_complete = false;
	for (size_t i = 0; i < g->ndbs && (!out->country[0] || !asn_complete); i++) {
		int mmdb_error = MMDB_SUCCESS;
		MMDB_lookup_result_s res = MMDB_lookup_sockaddr(&g->dbs[i], (const struct sockaddr *)&ss, &mmdb_error);
		/* An IPv6 address in an IPv4-only database is simply unknown there. */
		if (mmdb_error != MMDB_SUCCESS || !res.found_entry)
			continue;
		if (!out->country[0])
			lookup_country(&res.entry, out);
		char asn[sizeof out->asn];
		asn[0] = 0;
		if (!asn_complete) {
			asn_complete = lookup_asn(&res.entry, asn, sizeof asn);
			if (asn[0] && (asn_complete || !out->asn[0]))
				memcpy(out->asn, asn, sizeof asn);
		}
	}
}

void bs_geoip_close(struct bs_geoip *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->ndbs; i++)
		MMDB_close(&g->dbs[i]);
	free(g->dbs);
	free(g);
}

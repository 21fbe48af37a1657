/* test_geoip.c - lookups against MaxMind's own test databases (whose .json
 * sources, next to them in the corpus, say what each lookup must return),
 * the order of several databases, private addresses, errors, and the
 * corrupt databases of MaxMind's bad-data set. Skips when the corpus is
 * absent. */
#include "config.h"
#include "src/output/geoip.h"
#include "tap.h"

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char geodir[4096];

static bool find_corpus(void)
{
	const char *corpus = getenv("BS_CORPUS");
	const char *top = getenv("top_srcdir");
	if (corpus && *corpus)
		snprintf(geodir, sizeof geodir, "%s/geoip", corpus);
	else
		snprintf(geodir, sizeof geodir, "%s/../shared/corpus/geoip", top && *top ? top : ".");
	struct stat st;
	return stat(geodir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Open the named test databases, in order. */
static struct bs_geoip *open_dbs(const char *const *names, size_t n, char *err, size_t errlen)
{
	char paths[4][4200];
	char *files[4];
	for (size_t i = 0; i < n && i < 4; i++) {
		snprintf(paths[i], sizeof paths[i], "%s/%s", geodir, names[i]);
		files[i] = paths[i];
	}
	return bs_geoip_open(files, n, err, errlen);
}

static void expect(struct bs_geoip *g, const char *addr, const char *country, const char *asn, const char *db)
{
	bs_ip ip;
	struct bs_geo_info gi;
	memset(&gi, 'x', sizeof gi); /* the lookup must set both fields */
	bs_ip_parse(addr, strlen(addr), &ip);
	bs_geoip_lookup(g, &ip, &gi);
	is_str(gi.country, country, "%s: %s country", db, addr);
	is_str(gi.asn, asn, "%s: %s AS", db, addr);
}

static void test_city(void)
{
	static const char *const city[] = { "maxmind-GeoIP2-City-Test.mmdb" };
	char err[512] = "";
	struct bs_geoip *g = open_dbs(city, 1, err, sizeof err);
	ok(g != NULL, "GeoIP2 City test database opens (%s)", err);
	if (!g)
		return;
	expect(g, "81.2.69.142", "GB", "", "City");
	expect(g, "89.160.20.112", "SE", "", "City");
	expect(g, "216.160.83.56", "US", "", "City");
	expect(g, "67.43.156.1", "BT", "", "City");
	expect(g, "2001:220::1", "KR", "", "City");
	expect(g, "2a02:cf40::1", "NO", "", "City");
	expect(g, "::ffff:81.2.69.142", "GB", "", "City (IPv4-mapped)");
	expect(g, "8.8.8.8", "", "", "City (a miss)");
	expect(g, "10.1.2.3", "", "", "City (private)");
	expect(g, "127.0.0.1", "", "", "City (loopback)");
	expect(g, "fd00::1", "", "", "City (ULA)");
	bs_ip none = { 0 };
	struct bs_geo_info gi;
	bs_geoip_lookup(g, &none, &gi);
	ok(gi.country[0] == 0 && gi.asn[0] == 0, "no address gives empty fields");
	bs_geoip_close(g);
}

static void test_asn(void)
{
	static const char *const asn[] = { "maxmind-GeoLite2-ASN-Test.mmdb" };
	char err[512] = "";
	struct bs_geoip *g = open_dbs(asn, 1, err, sizeof err);
	ok(g != NULL, "GeoLite2 ASN test database opens (%s)", err);
	if (!g)
		return;
	expect(g, "1.128.0.1", "", "AS1221 Telstra Pty Ltd", "ASN");
	expect(g, "1.0.0.1", "", "AS15169 Google Inc.", "ASN");
	expect(g, "12.81.96.1", "", "AS7018", "ASN (number without a name)");
	expect(g, "89.160.20.112", "", "AS29518 Bredband2 AB", "ASN");
	bs_geoip_close(g);
}

static void test_several(void)
{
	/* ISP first: it knows 216.160.83.56's AS number but not the AS name, and
	 * an empty record for 8.8.8.8; Country fills the country. */
	static const char *const dbs[] = { "maxmind-GeoIP2-ISP-Test.mmdb", "maxmind-GeoLite2-ASN-Test.mmdb",
		"maxmind-GeoIP2-Country-Test.mmdb" };
	char err[512] = "";
	struct bs_geoip *g = open_dbs(dbs, 3, err, sizeof err);
	ok(g != NULL, "ISP, ASN and Country databases open together (%s)", err);
	if (!g)
		return;
	expect(g, "89.160.20.112", "SE", "AS29518 Bredband2 AB", "ISP+ASN+Country");
	expect(g, "216.160.83.56", "US", "AS209", "ISP+ASN+Country");
	expect(g, "12.81.96.1", "", "AS7018", "ISP+ASN+Country (the ISP's customer is not the AS name)");
	expect(g, "149.101.100.1", "US", "AS6167 CELLCO-PART", "ISP+ASN+Country");
	expect(g, "8.8.8.8", "", "", "ISP+ASN+Country (empty record)");
	expect(g, "2001:218::1", "JP", "", "ISP+ASN+Country (IPv6)");
	bs_geoip_close(g);
}

static struct bs_geoip *shared_db;
static int thread_mismatches[4];

static void *lookup_many(void *arg)
{
	int *bad = arg;
	static const char *const addrs[] = { "81.2.69.142", "89.160.20.112", "2001:220::1", "1.128.0.1", "8.8.8.8" };
	static const char *const want[] = { "GB", "SE", "KR", "", "" };
	for (int round = 0; round < 2000; round++) {
		size_t k = (size_t)round % 5;
		bs_ip ip;
		struct bs_geo_info gi;
		bs_ip_parse(addrs[k], strlen(addrs[k]), &ip);
		bs_geoip_lookup(shared_db, &ip, &gi);
		*bad += strcmp(gi.country, want[k]) != 0;
	}
	return NULL;
}

static void test_threads(void)
{
	static const char *const city[] = { "maxmind-GeoLite2-City-Test.mmdb", "maxmind-GeoLite2-ASN-Test.mmdb" };
	char err[512] = "";
	shared_db = open_dbs(city, 2, err, sizeof err);
	ok(shared_db != NULL, "GeoLite2 City and ASN open (%s)", err);
	if (!shared_db)
		return;
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, lookup_many, &thread_mismatches[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	is_int(thread_mismatches[0] + thread_mismatches[1] + thread_mismatches[2] + thread_mismatches[3], 0,
	       "lookups from 4 threads at once all give the right country");
	bs_geoip_close(shared_db);
}

static void test_errors(void)
{
	char err[512] = "";
	char missing[4200];
	snprintf(missing, sizeof missing, "%s/no-such.mmdb", geodir);
	char *files[] = { missing };
	ok(bs_geoip_open(files, 1, err, sizeof err) == NULL, "a missing database is an error");
	ok(strstr(err, "no-such.mmdb") != NULL, "the error names the file (%s)", err);

	char json[4200];
	snprintf(json, sizeof json, "%s/maxmind-GeoIP2-City-Test.json", geodir);
	files[0] = json;
	err[0] = 0;
	ok(bs_geoip_open(files, 1, err, sizeof err) == NULL, "a file that is not a MaxMind DB is an error");
	ok(strstr(err, ".json: ") != NULL, "the error names the file and the cause (%s)", err);

	/* a good database then a bad one: nothing is opened */
	char good[4200];
	snprintf(good, sizeof good, "%s/maxmind-GeoIP2-City-Test.mmdb", geodir);
	char *two[] = { good, missing };
	ok(bs_geoip_open(two, 2, err, sizeof err) == NULL, "one bad database among good ones is an error");

	struct bs_geoip *none = bs_geoip_open(NULL, 0, err, sizeof err);
	ok(none != NULL, "no database at all is valid");
	bs_ip ip;
	struct bs_geo_info gi;
	bs_ip_parse("81.2.69.142", 11, &ip);
	bs_geoip_lookup(none, &ip, &gi);
	ok(gi.country[0] == 0 && gi.asn[0] == 0, "and knows nothing");
	bs_geoip_close(none);
	bs_geoip_lookup(NULL, &ip, &gi);
	ok(gi.country[0] == 0 && gi.asn[0] == 0, "a NULL handle knows nothing");
}

/* MaxMind's bad-data set: every file must be refused with a message, except
 * those that are structurally valid: a build_epoch of UINT64_MAX, and an
 * empty array or map at the end of the metadata (regression files for a
 * reader's out-of-bounds read: libmaxminddb's own tests open them and look
 * up in them successfully, and a lookup there finds nothing). */
static bool structurally_valid(const char *name)
{
	return strstr(name, "uint64-max-epoch") || strstr(name, "empty-array-last-in-metadata") ||
	       strstr(name, "empty-map-last-in-metadata");
}

static void test_bad_data(void)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/bad-data", geodir);
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		ok(1, "no bad-data directory: nothing to check");
		return;
	}
	int checked = 0;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		if (len > 5 && strcmp(name + len - 5, ".mmdb") == 0) {
			char path[8400], err[512] = "";
			snprintf(path, sizeof path, "%s/%s", dir, name);
			char *files[] = { path };
			struct bs_geoip *g = bs_geoip_open(files, 1, err, sizeof err);
			bool valid = structurally_valid(name);
			if (g) {
				/* accepted: lookups must still be safe */
				static const char *const probes[] = { "1.1.1.1", "81.2.69.142", "2001:220::1", "::1.2.3.4" };
				for (size_t k = 0; k < 4; k++) {
					bs_ip ip;
					struct bs_geo_info gi;
					bs_ip_parse(probes[k], strlen(probes[k]), &ip);
					bs_geoip_lookup(g, &ip, &gi);
				}
				bs_geoip_close(g);
			}
			if (valid)
				ok(g != NULL, "%s: structurally valid, accepted (%s)", name, err);
			else
				ok(g == NULL && strstr(err, name) != NULL, "%s: rejected (%s)", name, g ? "accepted" : err);
			checked++;
		}
		free(names[i]);
	}
	free(names);
	ok(checked > 0, "bad-data databases were checked (%d)", checked);
}

int main(void)
{
	if (!find_corpus()) {
		tap_skip_all("no GeoIP corpus (set BS_CORPUS)");
		return 0;
	}
	test_city();
	test_asn();
	test_several();
	test_threads();
	test_errors();
	test_bad_data();
	return tap_done();
}

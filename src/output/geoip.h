/* geoip.h - GeoIP enrichment with libmaxminddb: country ISO code and ASN /
 * organisation of outside addresses, from any mix of City, Country, ASN or
 * ISP databases given with --geoip. */
#ifndef BS_GEOIP_H
#define BS_GEOIP_H

#include "src/core/common.h"

struct bs_geoip;
/* Opens every file; a missing or damaged database is an error (message in err). */
struct bs_geoip *bs_geoip_open(char *const *files, size_t nfiles, char *err, size_t errlen);
struct bs_geo_info {
	char country[8];          /* ISO 3166 alpha-2, "" if unknown */
	char asn[128];            /* "AS64496 Example Org", "" if unknown */
};
/* Private addresses and misses give empty fields. g may be NULL. Thread-safe. */
void bs_geoip_lookup(struct bs_geoip *g, const bs_ip *ip, struct bs_geo_info *out);
void bs_geoip_close(struct bs_geoip *g);

#endif

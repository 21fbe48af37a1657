/* tz.h - the time zone of stamps that carry none (--timezone): a fixed
 * offset or a zoneinfo name. Used by the CLI to check the option and by the
 * parsers that turn local wall-clock stamps into UTC (syslog.h, exim.c). */
#ifndef BS_TZ_H
#define BS_TZ_H

#include "src/core/common.h"

struct bs_tz {
	bool is_fixed;
	int32_t fixed_offset;  /* seconds east of UTC */
	char name[64];         /* zoneinfo name when !is_fixed */
	/* small cache of local-hour -> offset, filled lazily */
	int64_t cache_hour[4];
	int32_t cache_off[4];
};
/* "UTC", "Z", "+02:00", "-0530", or a zoneinfo name ("Europe/Berlin").
 * Returns false for an unknown zone. */
bool bs_tz_parse(const char *spec, struct bs_tz *tz);
/* A numeric offset, "+02:00", "-0530" or "+02", as seconds east of UTC;
 * false if s[0..n) is not one. */
bool bs_tz_parse_offset(const char *s, size_t n, int32_t *off);
/* Seconds to subtract from a local wall-clock time to get UTC. The fixed
 * case is inline: it is every line's case (UTC by default), and a call per
 * line cost 0.7 % of a log run when this moved out of syslog.c. */
int32_t bs_tz_zone_offset_for_local(struct bs_tz *tz, int64_t local_epoch_sec);
static inline int32_t bs_tz_offset_for_local(struct bs_tz *tz, int64_t local_epoch_sec)
{
	if (!tz || tz->is_fixed)
		return tz ? tz->fixed_offset : 0;
	return bs_tz_zone_offset_for_local(tz, local_epoch_sec);
}

#endif

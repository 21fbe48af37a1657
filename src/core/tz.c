/* tz.c - time zones for stamps that carry none: fixed offsets and zoneinfo
 * files, read once per process (docs/FORMATS.md "Time zones"). */
#include "config.h"
#include "src/core/tz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A zoneinfo file, parsed once per process and shared by every input: the
 * C library's tzset/localtime_r work on one global TZ and are no use to
 * threads that read logs of different zones at the same time. */
struct zone {
	char name[64];
	size_t ntrans;
	int64_t *trans_at;     /* UTC seconds of each transition, ascending */
	int32_t *trans_off;    /* offset in force from that transition on */
	int32_t base_off;      /* before the first transition */
};

#define MAX_ZONES 16
static struct zone zones[MAX_ZONES];
static size_t nzones;
static pthread_mutex_t zones_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Parse a TZif file (RFC 8536). Uses the 64-bit (v2+) block when present.
 * Times after the last transition keep its offset: the POSIX TZ footer is
 * not evaluated (Debian ships "fat" files with transitions up to 2037). */
static bool zone_parse(const unsigned char *buf, size_t n, struct zone *z)
{
	if (n < 44 || memcmp(buf, "TZif", 4) != 0)
		return false;
	size_t off = 0;
	int tsize = 4;
	for (int pass = 0; pass < 2; pass++) {
		if (off + 44 > n || memcmp(buf + off, "TZif", 4) != 0)
			return false;
		const unsigned char *h = buf + off;
		uint32_t isutcnt = be32(h + 20), isstdcnt = be32(h + 24), leapcnt = be32(h + 28);
		uint32_t timecnt = be32(h + 32), typecnt = be32(h + 36), charcnt = be32(h + 40);
		if (timecnt > 100000 || typecnt == 0 || typecnt > 256 || charcnt > 65536 || leapcnt > 100000 ||
		    isutcnt > 256 || isstdcnt > 256)
			return false;
		size_t body = (size_t)timecnt * (size_t)tsize + timecnt + typecnt * 6u + charcnt +
			      leapcnt * (size_t)(tsize + 4) + isstdcnt + isutcnt;
		if (off + 44 + body > n)
			return false;
		if (pass == 0 && h[4] >= '2') {
			off += 44 + body; /* skip the 32-bit block */
			tsize = 8;
			continue;
		}
		const unsigned char *times = h + 44;
		const unsigned char *idx = times + (size_t)timecnt * (size_t)tsize;
		const unsigned char *types = idx + timecnt;
		z->ntrans = timecnt;
		z->trans_at = bs_xcalloc(timecnt ? timecnt : 1, sizeof *z->trans_at);
		z->trans_off = bs_xcalloc(timecnt ? timecnt : 1, sizeof *z->trans_off);
		/* Before the first transition: the first non-DST type, as RFC 8536 says. */
		z->base_off = (int32_t)be32(types);
		for (uint32_t t = 0; t < typecnt; t++)
			if (types[t * 6 + 4] == 0) {
				z->base_off = (int32_t)be32(types + t * 6);
				break;
			}
		for (uint32_t i = 0; i < timecnt; i++) {
			z->trans_at[i] = tsize == 8 ? be64(times + i * 8u) : (int32_t)be32(times + i * 4u);
			unsigned ti = idx[i] < typecnt ? idx[i] : 0;
			z->trans_off[i] = (int32_t)be32(types + ti * 6u);
		}
		return true;
	}
	return false;
}

static bool zone_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= 64 || name[0] == '/' || strstr(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '_' || c == '-' || c == '+'))
			return false;
	}
	return true;
}

/* Find or load a zone; caller holds zones_lock. */
static const struct zone *zone_get_locked(const char *name)
{
	for (size_t i = 0; i < nzones; i++)
		if (strcmp(zones[i].name, name) == 0)
			return &zones[i];
	if (nzones == MAX_ZONES || !zone_name_ok(name))
		return NULL;
	const char *dir = getenv("TZDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static unsigned char buf[1 << 17]; /* zoneinfo files are a few KB; protected by zones_lock */
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	struct zone *z = &zones[nzones];
	memset(z, 0, sizeof *z);
	if (!zone_parse(buf, n, z))
		return NULL;
	snprintf(z->name, sizeof z->name, "%s", name);
	nzones++;
	return z;
}

static int32_t zone_offset_at_utc(const struct zone *z, int64_t utc)
{
	if (z->ntrans == 0 || utc < z->trans_at[0])
		return z->base_off;
	size_t lo = 0, hi = z->ntrans; /* last transition <= utc */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->trans_at[mid] <= utc)
			lo = mid;
		else
			hi = mid;
	}
	return z->trans_off[lo];
}

/* "+02:00", "-0530", "+02": seconds east, or false. */
bool bs_tz_parse_offset(const char *s, size_t n, int32_t *off)
{
	if (n < 3 || (s[0] != '+' && s[0] != '-'))
		return false;
	int d[4], nd = 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] == ':' && i == 3)
			continue;
		if (s[i] < '0' || s[i] > '9' || nd == 4)
			return false;
		d[nd++] = s[i] - '0';
	}
	if (nd != 2 && nd != 4)
		return false;
	int h = d[0] * 10 + d[1], m = nd == 4 ? d[2] * 10 + d[3] : 0;
	if (h > 23 || m > 59)
		return false;
	*off = (int32_t)((h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1));
	return true;
}

bool bs_tz_parse(const char *spec, struct bs_tz *tz)
{
	memset(tz, 0, sizeof *tz);
	tz->is_fixed = true;
	for (int i = 0; i < 4; i++)
		tz->cache_hour[i] = INT64_MIN;
	if (!spec || !*spec || strcmp(spec, "UTC") == 0 || strcmp(spec, "Z") == 0 ||
	    strcmp(spec, "GMT") == 0 || strcmp(spec, "utc") == 0)
		return true;
	if (bs_tz_parse_offset(spec, strlen(spec), &tz->fixed_offset))
		return true;
	pthread_mutex_lock(&zones_lock);
	const struct zone *z = zone_get_locked(spec);
	pthread_mutex_unlock(&zones_lock);
	if (!z)
		return false;
	tz->is_fixed = false;
	snprintf(tz->name, sizeof tz->name, "%s", spec);
	return true;
}

int32_t bs_tz_zone_offset_for_local(struct bs_tz *tz, int64_t local_epoch_sec)
{
	int64_t hour = local_epoch_sec >= 0 ? local_epoch_sec / 3600 : (local_epoch_sec - 3599) / 3600;
	for (int i = 0; i < 4; i++)
		if (tz->cache_hour[i] == hour)
			return tz->cache_off[i];
	pthread_mutex_lock(&zones_lock);
	const struct zone *z = zone_get_locked(tz->name);
	pthread_mutex_unlock(&zones_lock);
	if (!z)
		return 0;
	/* Zones never change after loading, so reading without the lock is safe.
	 * Local -> UTC: guess with the offset at the local time taken as UTC, then
	 * correct once. In a gap or an overlap (DST changes) this picks one of the
	 * two readings consistently. Offsets change on whole hours in practice,
	 * so caching per local hour is exact except for odd historic zones. */
	int32_t off = zone_offset_at_utc(z, local_epoch_sec);
	int32_t off2 = zone_offset_at_utc(z, local_epoch_sec - off);
	if (off2 != off) {
		int32_t off3 = zone_offset_at_utc(z, local_epoch_sec - off2);
		off = off3 == off2 ? off2 : off;
	}
	int slot = (int)(((uint64_t)hour) & 3);
	tz->cache_hour[slot] = hour;
	tz->cache_off[slot] = off;
	return off;
}

/* test_ipfrag.c - fragment reassembly: order, overlaps, loss, limits. */
#include "config.h"
#include "tap.h"
#include "parsers/capture/ipfrag.h"

#include <stdlib.h>

static struct bs_ipfrag_key key(uint32_t id)
{
	struct bs_ipfrag_key k = { .id = id, .proto = 17 };
	bs_ip_parse("192.0.2.1", 9, &k.src);
	bs_ip_parse("198.51.100.7", 12, &k.dst);
	return k;
}

static enum bs_ipfrag_result add(struct bs_ipfrag *f, uint32_t id, uint32_t off, bool more,
                                 const char *s, bs_time ts, struct bs_ipfrag_done *d)
{
	struct bs_ipfrag_key k = key(id);
	return bs_ipfrag_add(f, &k, off, more, 17, (const uint8_t *)s, strlen(s), ts, d);
}

int main(void)
{
	struct bs_ipfrag_done d;
	struct bs_ipfrag *f = bs_ipfrag_new(1 << 20, 60 * BS_USEC);

	is_int(add(f, 1, 0, true, "AAAAAAAA", 0, &d), BS_FRAG_HELD, "in order: first held");
	is_int(add(f, 1, 8, true, "BBBBBBBB", 0, &d), BS_FRAG_HELD, "in order: second held");
	is_int(add(f, 1, 16, false, "CC", 0, &d), BS_FRAG_DONE, "in order: last completes");
	ok(d.n == 18 && memcmp(d.p, "AAAAAAAABBBBBBBBCC", 18) == 0, "in order: payload rebuilt");
	is_int(d.next_proto, 17, "next protocol from the first fragment");
	is_int(bs_ipfrag_held_bytes(f), 0, "completed datagram no longer held");

	is_int(add(f, 2, 16, false, "CC", 0, &d), BS_FRAG_HELD, "out of order: last first");
	is_int(add(f, 2, 0, true, "AAAAAAAA", 0, &d), BS_FRAG_HELD, "out of order: first");
	is_int(add(f, 2, 8, true, "BBBBBBBB", 0, &d), BS_FRAG_DONE, "out of order: middle completes");
	ok(d.n == 18 && memcmp(d.p, "AAAAAAAABBBBBBBBCC", 18) == 0, "out of order: payload rebuilt");

	is_int(add(f, 3, 0, true, "AAAAAAAAAAAAAAAA", 0, &d), BS_FRAG_HELD, "overlap: first copy");
	is_int(add(f, 3, 8, false, "XXXXXXXXYY", 0, &d), BS_FRAG_DONE, "overlap: completes");
	ok(d.n == 18 && memcmp(d.p, "AAAAAAAAAAAAAAAAYY", 18) == 0, "overlap: first copy wins");
	is_int(bs_ipfrag_counters(f)->overlaps, 1, "overlap counted");

	is_int(add(f, 4, 8, false, "ZZ", 0, &d), BS_FRAG_HELD, "missing first fragment: held");
	ok(bs_ipfrag_held_bytes(f) > 0, "missing: bytes held");
	uint64_t dropped = bs_ipfrag_counters(f)->dropped;
	bs_ipfrag_expire(f, 61 * BS_USEC);
	is_int(bs_ipfrag_counters(f)->dropped, dropped + 1, "timeout: incomplete datagram dropped");
	is_int(bs_ipfrag_held_bytes(f), 0, "timeout: memory released");

	is_int(add(f, 5, 0, true, "AAAAAAAA", 100 * BS_USEC, &d), BS_FRAG_HELD, "late: first");
	is_int(add(f, 5, 8, false, "BB", 200 * BS_USEC, &d), BS_FRAG_HELD,
	       "fragment after the timeout starts a new datagram");
	is_int(add(f, 6, 65530, false, "0123456789", 200 * BS_USEC, &d), BS_FRAG_DROPPED, "beyond 65535 bytes: dropped");
	is_int(add(f, 7, 16, true, "AAAAAAAA", 200 * BS_USEC, &d), BS_FRAG_HELD, "inconsistent: first part");
	is_int(add(f, 7, 0, false, "AAAAAAAA", 200 * BS_USEC, &d), BS_FRAG_DROPPED,
	       "inconsistent: last fragment ends before held data: dropped");

	/* More distinct ranges than allowed. */
	enum bs_ipfrag_result r = BS_FRAG_HELD;
	for (uint32_t i = 0; i < BS_IPFRAG_MAX_PIECES + 2 && r == BS_FRAG_HELD; i++)
		r = add(f, 8, 1000 + i * 16, true, "AAAAAAAA", 200 * BS_USEC, &d);
	is_int(r, BS_FRAG_DROPPED, "too many pieces: datagram dropped");
	bs_ipfrag_free(f);

	/* Byte budget: old datagrams give way to new ones. */
	f = bs_ipfrag_new(8192, 60 * BS_USEC);
	char blob[1025];
	memset(blob, 'q', 1024);
	blob[1024] = 0;
	for (uint32_t id = 100; id < 120; id++)
		add(f, id, 0, true, blob, 0, &d);
	ok(bs_ipfrag_held_bytes(f) <= 8192, "budget: held bytes stay under max_frag_bytes");
	ok(bs_ipfrag_counters(f)->dropped > 0, "budget: older datagrams dropped and counted");
	is_int(add(f, 119, 1024, false, "end", 0, &d), BS_FRAG_DONE, "budget: the newest datagram still completes");
	is_int(d.n, 1027, "budget: completed length");
	bs_ipfrag_drop_all(f);
	is_int(bs_ipfrag_held_bytes(f), 0, "drop_all releases everything");

	/* IPv6 ids are 32 bits and keys differ by address family. */
	struct bs_ipfrag_key k6 = { .id = 0xdeadbeef };
	bs_ip_parse("2001:db8::1", 11, &k6.src);
	bs_ip_parse("2001:db8::2", 11, &k6.dst);
	is_int(bs_ipfrag_add(f, &k6, 8, false, 0, (const uint8_t *)"tail", 4, 0, &d), BS_FRAG_HELD, "v6: tail held");
	is_int(bs_ipfrag_add(f, &k6, 0, true, 6, (const uint8_t *)"headhead", 8, 0, &d), BS_FRAG_DONE, "v6: complete");
	is_int(d.next_proto, 6, "v6: next header from offset 0");
	ok(d.n == 12 && memcmp(d.p, "headheadtail", 12) == 0, "v6: payload rebuilt");

	/* Every split of one payload into two fragments, both orders. */
	const char *payload = "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCD"; /* 50 bytes */
	int good = 0, tries = 0;
	for (uint32_t cut = 8; cut < 50; cut += 8) {
		for (int order = 0; order < 2; order++) {
			struct bs_ipfrag_key kk = key(1000 + cut * 2 + (uint32_t)order);
			enum bs_ipfrag_result r1, r2;
			if (order == 0) {
				r1 = bs_ipfrag_add(f, &kk, 0, true, 17, (const uint8_t *)payload, cut, 0, &d);
				r2 = bs_ipfrag_add(f, &kk, cut, false, 17, (const uint8_t *)payload + cut, 50 - cut, 0, &d);
			} else {
				r1 = bs_ipfrag_add(f, &kk, cut, false, 17, (const uint8_t *)payload + cut, 50 - cut, 0, &d);
				r2 = bs_ipfrag_add(f, &kk, 0, true, 17, (const uint8_t *)payload, cut, 0, &d);
			}
			tries++;
			good += r1 == BS_FRAG_HELD && r2 == BS_FRAG_DONE && d.n == 50 && memcmp(d.p, payload, 50) == 0;
		}
	}
	is_int(good, tries, "every 8-byte split, both orders: same payload");
	bs_ipfrag_free(f);
	return tap_done();
}

/* test_tcpreasm.c - per-direction TCP reassembly: order, repeats, overlaps,
 * gaps, caps, sequence wrap. */
#include "config.h"
#include "tap.h"
#include "parsers/capture/tcpreasm.h"

#include <stdlib.h>

/* What came out: the bytes, with "<gap N>" where a hole was skipped. */
struct rec {
	char buf[8192];
	size_t n;
};

static void rec_data(void *ctx, const uint8_t *p, size_t n)
{
	struct rec *r = ctx;
	if (r->n + n < sizeof r->buf) {
		memcpy(r->buf + r->n, p, n);
		r->n += n;
	}
	r->buf[r->n] = 0;
}

static void rec_gap(void *ctx, uint64_t n)
{
	struct rec *r = ctx;
	char g[32];
	int k = snprintf(g, sizeof g, "<gap %llu>", (unsigned long long)n);
	rec_data(r, (const uint8_t *)g, (size_t)k);
}

struct fixture {
	struct bs_tcpreasm r;
	struct bs_tcpdir d;
	struct rec out;
	struct bs_tcpout o;
};

static void setup(struct fixture *f, size_t dir_cap, size_t total_cap)
{
	memset(f, 0, sizeof *f);
	bs_tcpreasm_init(&f->r, dir_cap, total_cap);
	f->o = (struct bs_tcpout){ rec_data, rec_gap, &f->out };
}

static void seg(struct fixture *f, uint32_t seq, const char *s)
{
	size_t n = strlen(s);
	bs_tcpreasm_segment(&f->r, &f->d, seq, (const uint8_t *)s, n, n, false, &f->o);
}

static void finish(struct fixture *f)
{
	bs_tcpreasm_flush(&f->r, &f->d, &f->o);
	bs_tcpdir_release(&f->r, &f->d);
}

int main(void)
{
	struct fixture f;

	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 1001);
	seg(&f, 1001, "GET / ");
	seg(&f, 1007, "HTTP/1.1\r\n");
	finish(&f);
	is_str(f.out.buf, "GET / HTTP/1.1\r\n", "in order: bytes as sent");
	is_int(f.r.total_buffered, 0, "in order: nothing buffered");

	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 100);
	seg(&f, 108, "CCCC");
	seg(&f, 104, "BBBB");
	is_int(f.out.n, 0, "out of order: held while the front is missing");
	ok(f.d.buffered > 0, "out of order: bytes are buffered");
	seg(&f, 100, "AAAA");
	is_str(f.out.buf, "AAAABBBBCCCC", "out of order: released in order");
	is_int(f.r.total_buffered, 0, "out of order: buffer empty after release");
	finish(&f);

	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 0);
	seg(&f, 0, "hello ");
	seg(&f, 0, "hello ");
	seg(&f, 6, "world");
	seg(&f, 3, "lo wor");
	finish(&f);
	is_str(f.out.buf, "hello world", "retransmission: dropped");
	is_int(f.r.retrans, 2, "retransmission: counted");

	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 0);
	seg(&f, 4, "1234");
	seg(&f, 2, "xxXXXXyy"); /* covers 2..10: 4..8 conflicts with the buffered copy */
	seg(&f, 0, "ab");
	finish(&f);
	is_str(f.out.buf, "ab<gap 2>1234", "overlap: the first copy wins, the conflicting segment dropped whole");
	is_int(f.r.overlap_conflicts, 1, "overlap: the conflicting segment counted");

	/* "malry" seen first (its "m" lost), then "alice": merging byte by byte
	 * made "aalry", a name neither copy held */
	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 0);
	seg(&f, 1, "alry");
	seg(&f, 0, "alice");
	finish(&f);
	is_str(f.out.buf, "<gap 1>alry", "alice over malry: the first copy, never a mix");
	is_int(f.r.overlap_conflicts, 1, "alice over malry: one conflict");
	is_int(f.d.overlap_conflicts, 1, "alice over malry: counted on the direction (the flow's anomaly)");

	/* a repacketised retransmission that agrees still fills the holes */
	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 0);
	seg(&f, 2, "ic");
	seg(&f, 1, "lice");
	seg(&f, 0, "a");
	finish(&f);
	is_str(f.out.buf, "alice", "agreeing overlap: merged");
	is_int(f.r.overlap_conflicts, 0, "agreeing overlap: no conflict");

	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 0);
	seg(&f, 4, "5678");
	seg(&f, 4, "5678");
	is_int(f.r.retrans, 1, "identical repeat of a buffered segment: retransmission");
	is_int(f.r.overlap_conflicts, 0, "identical repeat: no conflict");
	finish(&f);

	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 0);
	seg(&f, 0, "abc");
	seg(&f, 10, "xyz");
	finish(&f);
	is_str(f.out.buf, "abc<gap 7>xyz", "hole never filled: a gap at close");
	is_int(f.r.gaps, 1, "gap counted");
	is_int(f.r.gap_bytes, 7, "gap bytes counted");

	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 0xfffffffcu);
	seg(&f, 0xfffffffcu, "wrap");
	seg(&f, 4, "ping");
	seg(&f, 0, "-and");
	finish(&f);
	is_str(f.out.buf, "wrap-andping", "sequence wraps past 2^32");

	setup(&f, 1 << 20, 1 << 24);
	seg(&f, 123456789, "mid");
	seg(&f, 123456792, "-stream");
	finish(&f);
	is_str(f.out.buf, "mid-stream", "mid-stream: starts at the first sequence seen");

	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 0);
	bs_tcpreasm_segment(&f.r, &f.d, 0, (const uint8_t *)"end", 3, 3, true, &f.o);
	ok(f.d.done, "FIN after in-order data: direction done");
	finish(&f);

	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 0);
	seg(&f, 0, "ab");
	bs_tcpreasm_segment(&f.r, &f.d, 6, (const uint8_t *)"gh", 2, 2, true, &f.o);
	ok(!f.d.done, "FIN behind a hole: not done yet");
	finish(&f);
	is_str(f.out.buf, "ab<gap 4>gh", "FIN behind a hole: gap at close");

	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 0);
	bs_tcpreasm_segment(&f.r, &f.d, 0, (const uint8_t *)"abcdef", 2, 6, false, &f.o);
	seg(&f, 6, "gh");
	finish(&f);
	is_str(f.out.buf, "ab<gap 4>gh", "segment cut by the snap length: the lost tail is a gap");

	/* Per-direction cap: 3 segments of 100 bytes ahead of a hole, cap 250. */
	setup(&f, 250, 1 << 24);
	bs_tcpdir_start(&f.d, 0);
	char big[101];
	memset(big, 'x', 100);
	big[100] = 0;
	seg(&f, 10, big);
	seg(&f, 110, big);
	is_int(f.out.n, 0, "cap: held while under the cap");
	seg(&f, 210, big);
	ok(f.out.n > 0 && memcmp(f.out.buf, "<gap 10>", 8) == 0, "cap: hole skipped as a gap when over the cap");
	ok(f.d.buffered <= 250, "cap: buffered bytes back under the cap");
	is_int(f.r.cap_flushes, 1, "cap: forced flush counted");
	finish(&f);

	/* Global cap shared by two directions. */
	setup(&f, 1 << 20, 300);
	struct bs_tcpdir other = { 0 };
	bs_tcpdir_start(&f.d, 0);
	bs_tcpdir_start(&other, 0);
	bs_tcpreasm_segment(&f.r, &other, 50, (const uint8_t *)big, 100, 100, false, &f.o);
	bs_tcpreasm_segment(&f.r, &other, 150, (const uint8_t *)big, 100, 100, false, &f.o);
	size_t before = f.out.n;
	seg(&f, 10, big);
	ok(f.out.n > before, "global cap: the direction that overflows is flushed");
	ok(f.r.total_buffered <= 300 + 100 + 64, "global cap: total bounded");
	bs_tcpdir_release(&f.r, &other);
	finish(&f);
	is_int(f.r.total_buffered, 0, "release frees every buffered byte");

	/* The same stream split at every byte position, second half first. */
	const char *msg = "POST /login HTTP/1.1\r\nHost: a\r\n\r\nuser=x";
	size_t mlen = strlen(msg);
	int same = 0;
	for (size_t k = 0; k <= mlen; k++) {
		setup(&f, 1 << 20, 1 << 24);
		bs_tcpdir_start(&f.d, 4000000000u);
		bs_tcpreasm_segment(&f.r, &f.d, 4000000000u + (uint32_t)k, (const uint8_t *)msg + k, mlen - k,
		                    mlen - k, false, &f.o);
		bs_tcpreasm_segment(&f.r, &f.d, 4000000000u, (const uint8_t *)msg, k, k, false, &f.o);
		finish(&f);
		same += f.out.n == mlen && memcmp(f.out.buf, msg, mlen) == 0;
	}
	is_int(same, mlen + 1, "split at every byte, halves reversed: same bytes");

	/* One byte at a time in reverse order. */
	setup(&f, 1 << 20, 1 << 24);
	bs_tcpdir_start(&f.d, 7);
	for (size_t k = mlen; k-- > 0;)
		bs_tcpreasm_segment(&f.r, &f.d, 7 + (uint32_t)k, (const uint8_t *)msg + k, 1, 1, false, &f.o);
	finish(&f);
	ok(f.out.n == mlen && memcmp(f.out.buf, msg, mlen) == 0, "one byte at a time, reversed: same bytes");

	/* A segment far ahead then garbage sequence numbers: no crash, bounded. */
	setup(&f, 4096, 1 << 20);
	bs_tcpdir_start(&f.d, 0);
	for (uint32_t i = 0; i < 2000; i++)
		bs_tcpreasm_segment(&f.r, &f.d, i * 2654435761u, (const uint8_t *)big, 50, 50, false, &f.o);
	ok(f.d.buffered <= 4096 + 50 + 64, "random sequence numbers: buffer stays bounded");
	finish(&f);
	return tap_done();
}

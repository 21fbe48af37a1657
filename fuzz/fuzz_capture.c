/* fuzz_capture.c - the capture engine with the real protocol dispatcher
 * attached, so that link layers, IPv4/IPv6, fragments, TCP reassembly and
 * every application parser (HTTP, SMTP, IMAP, POP3, FTP, MySQL, DNS) are
 * reached from raw bytes.
 *
 * First byte even: the rest is a capture file (pcap or pcapng, read from a
 * memory stream as the binary reads a decompressed input). First byte odd:
 * the rest is a list of packets, each [link selector][length: 2 bytes][bytes],
 * every packet in its own exactly-sized block, handed to bs_capture_packet.
 * Small caps (flows, buffers, fragments) so that eviction and the caps'
 * accounting are exercised too. */
#include "config.h"
#include "fuzz_util.h"
#include "parsers/capture/capture.h"
#include "parsers/stream/proto.h"

static const int linktypes[] = { 1, 113, 276, 12, 14, 101, 228, 229, 0, 108, 1 | (1 << 28), 147, 239 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct bs_sink sink = { fuzz_touch_event, NULL };
	struct bs_dispatch *d = bs_dispatch_new(1, &sink);
	struct bs_capture_opts o = { .input = 1, .max_flows = 16, .max_flow_buffer = 8192,
	                             .max_total_buffer = 65536, .max_frag_bytes = 65536,
	                             .flow_timeout = 60 * BS_USEC };
	struct bs_capture *c = bs_capture_new(&o, bs_dispatch_ops(), d, &sink);
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	if ((data[0] & 1) == 0) {
		uint8_t *copy = fuzz_dup(p, n);
		FILE *f = fmemopen(copy, n ? n : 1, "rb");
		if (f) {
			struct bs_input_stats st = { 0 };
			char err[256];
			enum bs_format fmt = bs_detect_format(copy, n);
			if (fmt != BS_FMT_PCAPNG)
				fmt = BS_FMT_PCAP;
			bs_capture_read_stream(c, f, fmt, &st, err, sizeof err);
			if (st.records != st.parsed + st.ignored + st.malformed)
				abort(); /* every packet counted exactly once */
		}
		free(copy);
	} else {
		uint64_t pktno = 0;
		bs_time ts = 1180000000 * BS_USEC;
		while (n >= 3) {
			int lt = linktypes[p[0] % (sizeof linktypes / sizeof linktypes[0])];
			size_t len = (size_t)p[1] << 8 | p[2];
			ts += (bs_time)(p[0] >> 4) * 7 * BS_USEC; /* time moves, so idle flows expire */
			p += 3;
			n -= 3;
			if (len > n)
				len = n;
			uint8_t *pkt = fuzz_dup(p, len);
			bs_capture_packet(c, lt, pkt, len, len + (data[0] & 2), ts, ++pktno);
			free(pkt);
			p += len;
			n -= len;
		}
	}
	bs_capture_finish(c, BS_TIME_NONE);
	bs_capture_free(c);
	bs_dispatch_free(d);
	return 0;
}

/* fuzz_capture.c - the capture engine with the real protocol dispatcher
 * attached, so that link layers, IPv4/IPv6, fragments, TCP reassembly and
 * every application parser (HTTP, SMTP, IMAP, POP3, FTP, MySQL, DNS) are
 * reached from raw bytes.
 *
 * First byte even: the rest is a capture file (pcap or pcapng), read twice:
 * from a memory stream through libpcap (bs_capture_read_stream), and as a
 * file through the input layer (bs_capture_read, which walks classic pcap
 * itself); the two must count the same records the same way. First byte odd:
 * the rest is a list of packets, each [link selector][length: 2 bytes][bytes],
 * every packet in its own exactly-sized block, handed to the classifier of
 * split links (bs_capture_pair_hash) and to bs_capture_packet.
 * Small caps (flows, buffers, fragments) so that eviction and the caps'
 * accounting are exercised too. */
#include "config.h"
#include "fuzz_util.h"
#include "parsers/capture/capture.h"
#include "parsers/stream/proto.h"

static const int linktypes[] = { 1, 113, 276, 12, 14, 101, 228, 229, 0, 108, 1 | (1 << 28), 147, 239, 7, 129 };

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
		enum bs_format fmt = bs_detect_format(copy, n);
		if (fmt != BS_FMT_PCAPNG)
			fmt = BS_FMT_PCAP;
		struct bs_input_stats st = { 0 }, st2 = { 0 };
		char err[256] = "", err2[256] = "";
		bool ok = false;
		if (f) {
			ok = bs_capture_read_stream(c, f, fmt, &st, err, sizeof err);
			if (st.records != st.parsed + st.ignored + st.malformed)
				abort(); /* every packet counted exactly once */
		}
		free(copy);
		char path[64];
		int fd = fuzz_memfile(p, n, path, sizeof path);
		struct bs_reader *r = bs_reader_open(path, err2, sizeof err2);
		/* the same bytes only when no decoder layer is in between */
		if (r && f && !strchr(bs_reader_format_name(r, fmt), '+')) {
			struct bs_capture *c2 = bs_capture_new(&o, bs_dispatch_ops(), d, &sink);
			bool ok2 = bs_capture_read(c2, r, fmt, &st2, err2, sizeof err2);
			/* an empty stream is no capture to either; otherwise the walk
			 * and libpcap agree record for record */
			if (n && (ok != ok2 || st.records != st2.records || st.parsed != st2.parsed ||
			          st.malformed != st2.malformed || st.truncated != st2.truncated || strcmp(err, err2) != 0))
				abort();
			bs_capture_finish(c2, BS_TIME_NONE);
			bs_capture_free(c2);
		}
		bs_reader_close(r);
		close(fd);
	} else {
		struct bs_capture_opts co = { .input = 1 };
		struct bs_capture *classifier = bs_capture_classifier_new(&co);
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
			bs_capture_pair_hash(classifier, lt, pkt, len, len + (data[0] & 2));
			bs_capture_packet(c, lt, pkt, len, len + (data[0] & 2), ts, ++pktno);
			free(pkt);
			p += len;
			n -= len;
		}
		bs_capture_free(classifier);
	}
	bs_capture_finish(c, BS_TIME_NONE);
	bs_capture_free(c);
	bs_dispatch_free(d);
	return 0;
}

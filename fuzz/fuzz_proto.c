/* fuzz_proto.c - each protocol parser directly, through its bs_proto_def:
 * the first byte picks the parser (its index in BS_STREAM_PROTOCOLS, modulo
 * their number), the rest is a script of steps. A step byte s: s == 0xff is
 * a gap (the next byte gives its direction and size); otherwise dir = s & 1 and the next (s >> 1) + 1 bytes are fed in that
 * direction, as one separately allocated chunk. So the fuzzer chooses the
 * split positions and the turn-taking; UDP parsers (DNS) get each chunk as
 * one datagram. The sniffers see the first chunk of each direction. */
#include "config.h"
#include "fuzz_util.h"
#include "parsers/stream/proto.h"

static void expect_stub(void *disp, const bs_ip *ip, uint16_t port, uint64_t cookie, const char *filename,
                        bool upload, const char *user)
{
	(void)disp;
	(void)ip;
	(void)port;
	(void)cookie;
	(void)upload;
	if (filename)
		fuzz_touch(bs_str_make(filename, strlen(filename)));
	if (user)
		fuzz_touch(bs_str_make(user, strlen(user)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const struct bs_proto_def *def = bs_stream_protocols[data[0] % BS_DISPATCH_NPROTO];
	struct bs_sink sink = { fuzz_touch_event, NULL };
	struct bs_proto_ctx c = { .sink = &sink, .input = 2, .flow_id = 7, .cport = 40000, .sport = def->ports[0],
	                          .ts = 1180000000 * BS_USEC, .expect = expect_stub };
	bs_ip_parse("192.0.2.10", 10, &c.cli);
	bs_ip_parse("198.51.100.5", 12, &c.srv);
	void *state = malloc(def->state_size ? def->state_size : 1);
	def->init(state);
	bool sniffed[2] = { false, false };
	bool dead = false;
	size_t i = 1;
	while (i < size && !dead) {
		uint8_t s = data[i++];
		c.pktno++;
		c.ts += BS_USEC;
		if (s == 0xff) {
			if (i >= size)
				break;
			uint8_t g = data[i++];
			if (def->gap && !def->udp)
				def->gap(state, &c, g & 1, (uint64_t)(g >> 1) * ((g & 0x80) ? 100000 : 1) + 1);
			continue;
		}
		int dir = s & 1;
		size_t len = (size_t)(s >> 1) + 1;
		if (len > size - i)
			len = size - i;
		uint8_t *chunk = fuzz_dup(data + i, len);
		i += len;
		if (def->sniff && !sniffed[dir]) {
			def->sniff(dir, chunk, len);
			sniffed[dir] = true;
		}
		int err = def->feed(state, &c, dir, chunk, len);
		if (err) {
			(void)strlen(def->strerror(err));
			dead = true; /* the dispatcher stops feeding a flow in error */
		}
		free(chunk);
	}
	if (def->end)
		def->end(state, &c);
	free(state);
	return 0;
}

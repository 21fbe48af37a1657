/* hostgen.c - writes the hostile inputs of tests/hostile.sh to stdout.
 *
 *   hostgen flushgz LINES     stdin text -> gzip on stdout with a full flush
 *                             every LINES lines; prints "offset lines" of each
 *                             flush point (a block boundary) on stderr
 *   hostgen syns N [PORT]     pcap: N TCP SYNs from distinct clients to PORT
 *                             (default 80): N half-open flows
 *   hostgen http N [PORT]     pcap: N TCP flows from distinct clients to PORT
 *                             (default 80), each a SYN and a request cut
 *                             before its end: N flows holding parser state
 *   hostgen overlap           pcap: one flow to port 9999 whose "alry" (at the
 *                             second byte) is followed by "alice" (at the
 *                             first): a conflicting overlap, packet 3
 *   hostgen v6chain DEPTH     pcap: IPv6 packets behind DEPTH extension headers
 *   hostgen pcap4g            pcap whose second record claims 4 GB
 *   hostgen snaplen0          pcap with snaplen 0 and a few packets
 *   hostgen badpcapng         pcapng whose second block has a wrong length
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void out(const void *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n) {
		perror("hostgen");
		exit(1);
	}
}
static void u32(uint32_t v) { out(&v, 4); }
static void u16(uint16_t v) { out(&v, 2); }

static void pcap_header(uint32_t snaplen, uint32_t linktype)
{
	u32(0xa1b2c3d4);
	u16(2);
	u16(4);
	u32(0);
	u32(0);
	u32(snaplen);
	u32(linktype);
}

static void record(uint32_t sec, const uint8_t *p, uint32_t n)
{
	u32(sec);
	u32(0);
	u32(n);
	u32(n);
	out(p, n);
}

/* An Ethernet + IPv4 + TCP SYN from 10.x.y.z:port to 192.0.2.80:80. */
static size_t syn(uint8_t *b, uint32_t client, uint16_t port, uint16_t dport)
{
	memset(b, 0, 54);
	b[12] = 0x08;
	uint8_t *ip = b + 14;
	ip[0] = 0x45;
	ip[3] = 40;
	ip[8] = 64;
	ip[9] = 6;
	ip[12] = 10;
	ip[13] = (uint8_t)(client >> 16);
	ip[14] = (uint8_t)(client >> 8);
	ip[15] = (uint8_t)client;
	ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = 80;
	uint8_t *tcp = ip + 20;
	tcp[0] = (uint8_t)(port >> 8);
	tcp[1] = (uint8_t)port;
	tcp[2] = (uint8_t)(dport >> 8);
	tcp[3] = (uint8_t)dport;
	tcp[7] = 1;
	tcp[12] = 0x50;
	tcp[13] = 0x02; /* SYN */
	tcp[15] = 0xff;
	return 54;
}

/* A data segment of the same flow as syn(): seq is its low byte (the SYN
 * has 1, so its data starts at 2). */
static size_t segment(uint8_t *b, uint32_t client, uint16_t port, uint16_t dport, uint8_t seq, const char *data)
{
	size_t n = syn(b, client, port, dport), len = strlen(data);
	memcpy(b + n, data, len);
	uint8_t *ip = b + 14, *tcp = ip + 20;
	ip[2] = (uint8_t)((40 + len) >> 8);
	ip[3] = (uint8_t)(40 + len);
	tcp[7] = seq;
	tcp[13] = 0x18;   /* PSH ACK */
	return n + len;
}

/* The flow's first data packet: an HTTP request whose headers never end,
 * so the parser keeps its state until the flow closes. */
static size_t request(uint8_t *b, uint32_t client, uint16_t port, uint16_t dport, long i)
{
	char req[200];
	snprintf(req, sizeof req, "GET /page/%ld HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: hostgen\r\n", i);
	return segment(b, client, port, dport, 2, req);
}

static int flushgz(long per_block)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 1;
	static char line[1 << 16];
	static uint8_t buf[1 << 17];
	unsigned long lines = 0, written = 0;
	int more = 1;
	while (more) {
		more = fgets(line, sizeof line, stdin) != NULL;
		int flush = Z_NO_FLUSH;
		if (more) {
			lines++;
			if (lines % (unsigned long)per_block == 0)
				flush = Z_FULL_FLUSH;
		} else {
			flush = Z_FINISH;
		}
		z.next_in = (Bytef *)line;
		z.avail_in = more ? (uInt)strlen(line) : 0;
		int rc;
		do {
			z.next_out = buf;
			z.avail_out = sizeof buf;
			rc = deflate(&z, flush);
			out(buf, sizeof buf - z.avail_out);
			written += sizeof buf - z.avail_out;
		} while (z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
		if (flush == Z_FULL_FLUSH)
			fprintf(stderr, "%lu %lu\n", written, lines);
	}
	deflateEnd(&z);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *what = argv[1];
	long n = argc > 2 ? atol(argv[2]) : 0;
	uint8_t pkt[2048];
	if (strcmp(what, "flushgz") == 0)
		return flushgz(n > 0 ? n : 100);
	if (strcmp(what, "syns") == 0) {
		uint16_t dport = argc > 3 ? (uint16_t)atoi(argv[3]) : 80;
		pcap_header(65535, 1);
		for (long i = 0; i < n; i++)
			record(1178300000 + (uint32_t)(i / 100000), pkt,
			       (uint32_t)syn(pkt, (uint32_t)(i / 50000), (uint16_t)(1024 + i % 50000), dport));
		return 0;
	}
	if (strcmp(what, "http") == 0) {
		uint16_t dport = argc > 3 ? (uint16_t)atoi(argv[3]) : 80;
		pcap_header(65535, 1);
		for (long i = 0; i < n; i++) {
			uint32_t sec = 1178300000 + (uint32_t)(i / 100000), client = (uint32_t)(i / 50000);
			uint16_t port = (uint16_t)(1024 + i % 50000);
			record(sec, pkt, (uint32_t)syn(pkt, client, port, dport));
			record(sec, pkt, (uint32_t)request(pkt, client, port, dport, i));
		}
		return 0;
	}
	if (strcmp(what, "overlap") == 0) {
		pcap_header(65535, 1);
		record(1178300000, pkt, (uint32_t)syn(pkt, 1, 40000, 9999));
		record(1178300001, pkt, (uint32_t)segment(pkt, 1, 40000, 9999, 3, "alry"));
		record(1178300002, pkt, (uint32_t)segment(pkt, 1, 40000, 9999, 2, "alice"));
		return 0;
	}
	if (strcmp(what, "v6chain") == 0) {
		/* raw IPv6 (LINKTYPE_RAW): DEPTH destination-options headers of 8
		 * bytes each, then TCP; as many as fit the packet */
		pcap_header(65535, 101);
		for (int k = 0; k < 3; k++) {
			size_t depth = (size_t)(n > 0 ? n : 200);
			if (depth > 250)
				depth = 250;
			memset(pkt, 0, sizeof pkt);
			pkt[0] = 0x60;
			size_t plen = depth * 8 + 20;
			pkt[4] = (uint8_t)(plen >> 8);
			pkt[5] = (uint8_t)plen;
			pkt[6] = 60; /* destination options */
			pkt[7] = 64;
			pkt[8] = 0x20, pkt[9] = 0x01, pkt[10] = 0x0d, pkt[11] = 0xb8, pkt[23] = 1;
			pkt[24] = 0x20, pkt[25] = 0x01, pkt[26] = 0x0d, pkt[27] = 0xb8, pkt[39] = 2;
			for (size_t i = 0; i < depth; i++) {
				uint8_t *h = pkt + 40 + i * 8;
				h[0] = i + 1 < depth ? (k == 1 ? 0 : 60) : 6; /* k == 1: hop-by-hop deep in the chain */
				h[1] = 0;
			}
			uint8_t *tcp = pkt + 40 + depth * 8;
			tcp[1] = 99, tcp[3] = 80, tcp[12] = 0x50, tcp[13] = 0x02;
			record(1178300000, pkt, (uint32_t)(40 + plen));
		}
		return 0;
	}
	if (strcmp(what, "pcap4g") == 0) {
		pcap_header(65535, 1);
		record(1178300000, pkt, (uint32_t)syn(pkt, 1, 1000, 80));
		u32(1178300001);
		u32(0);
		u32(0xffffffffu);
		u32(0xffffffffu);
		out(pkt, 54);
		return 0;
	}
	if (strcmp(what, "snaplen0") == 0) {
		pcap_header(0, 1);
		for (int i = 0; i < 3; i++)
			record(1178300000, pkt, (uint32_t)syn(pkt, 2, (uint16_t)(2000 + i), 80));
		return 0;
	}
	if (strcmp(what, "badpcapng") == 0) {
		/* section header block (28 bytes), then an interface description
		 * block whose two length fields disagree and exceed the file */
		u32(0x0a0d0d0a), u32(28), u32(0x1a2b3c4d), u16(1), u16(0);
		u32(0xffffffffu), u32(0xffffffffu), u32(28);
		u32(1), u32(0x7ffffff0), u16(1), u16(0), u32(65535), u32(20);
		return 0;
	}
	fprintf(stderr, "hostgen: unknown %s\n", what);
	return 2;
}

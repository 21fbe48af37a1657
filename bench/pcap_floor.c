/* pcap_floor - the capture-reading floor for the capture benchmark.
 *
 * Reads every capture named on the command line with libpcap's pcap_next_ex()
 * and does nothing with the packets (it only counts them and their captured
 * bytes, so the loop cannot be optimised away). Plain pcap/pcapng files:
 * libpcap does not inflate gzip, and the harness benchmarks uncompressed
 * captures so that the measure is packet handling, not inflation.
 * Prints "<files> files, <packets> packets, <bytes> captured bytes".
 */
#include "config.h"
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: pcap_floor FILE.pcap...\n");
		return 2;
	}
	unsigned long long packets = 0, bytes = 0;
	int failed = 0;
	for (int i = 1; i < argc; i++) {
		char err[PCAP_ERRBUF_SIZE];
		pcap_t *p = pcap_open_offline(argv[i], err);
		if (!p) {
			fprintf(stderr, "pcap_floor: %s: %s\n", argv[i], err);
			failed = 1;
			continue;
		}
		struct pcap_pkthdr *h;
		const unsigned char *data;
		int rc;
		while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
			packets++;
			bytes += h->caplen;
		}
		if (rc == PCAP_ERROR) {
			fprintf(stderr, "pcap_floor: %s: %s\n", argv[i], pcap_geterr(p));
			failed = 1;
		}
		pcap_close(p);
	}
	printf("%d files, %llu packets, %llu captured bytes\n", argc - 1, packets, bytes);
	return failed;
}

/* pktcount.c - counts the packet records of a capture with nothing but a bare
 * libpcap loop, as the independent count that tests/nothing_lost.sh compares
 * breachscope's input_stats.csv against. libpcap reads pcap and pcapng (and
 * gzip is undone by the caller: `zcat FILE | pktcount -`).
 *
 * usage: pktcount FILE|-    prints the number of records; exit 1 on error
 * (the records read before a damaged one are still printed). */
#include "config.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pktcount FILE|-\n");
		return 2;
	}
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = strcmp(argv[1], "-") == 0 ? pcap_fopen_offline(stdin, err) : pcap_open_offline(argv[1], err);
	if (!p) {
		fprintf(stderr, "pktcount: %s: %s\n", argv[1], err);
		return 1;
	}
	unsigned long long n = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1)
		n++;
	printf("%llu\n", n);
	if (rc == PCAP_ERROR)
		fprintf(stderr, "pktcount: %s: %s\n", argv[1], pcap_geterr(p));
	pcap_close(p);
	return rc == PCAP_ERROR ? 1 : 0;
}

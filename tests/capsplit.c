/* capsplit.c - helper of rotated.sh: rewrite captures the way a rotating
 * tcpdump (-C) would have written them.
 *
 *   capsplit cat OUT IN...        all packets of the inputs, in the order given,
 *                                 into one pcap OUT
 *   capsplit split N PREFIX IN    IN cut every N packets into PREFIX, PREFIX1,
 *                                 PREFIX2, ... (tcpdump's names, which do not
 *                                 sort in time order past PREFIX9)
 *
 * Inputs go through the input layer (gzip is fine) and libpcap; outputs are
 * nanosecond pcap files of the first input's link type. */
#include "config.h"
#include "src/input/input.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pcap_t *open_input(const char *path, struct bs_reader **rp)
{
	char err[512];
	struct bs_reader *r = bs_reader_open(path, err, sizeof err);
	if (!r) {
		fprintf(stderr, "capsplit: %s\n", err);
		exit(2);
	}
	FILE *fp = bs_reader_fopen(r);
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *p = fp ? pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, eb) : NULL;
	if (!p) {
		fprintf(stderr, "capsplit: %s: %s\n", path, fp ? eb : "cannot open a stream");
		exit(2);
	}
	*rp = r;
	return p;
}

static pcap_dumper_t *open_output(pcap_t **dead, int linktype, const char *path)
{
	if (!*dead)
		*dead = pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *d = pcap_dump_open(*dead, path);
	if (!d) {
		fprintf(stderr, "capsplit: %s: %s\n", path, pcap_geterr(*dead));
		exit(2);
	}
	return d;
}

int main(int argc, char **argv)
{
	pcap_t *dead = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	struct bs_reader *r;
	if (argc >= 4 && strcmp(argv[1], "cat") == 0) {
		pcap_dumper_t *out = NULL;
		for (int i = 3; i < argc; i++) {
			pcap_t *in = open_input(argv[i], &r);
			if (!out)
				out = open_output(&dead, pcap_datalink(in), argv[2]);
			while (pcap_next_ex(in, &h, &data) == 1)
				pcap_dump((u_char *)out, h, data);
			pcap_close(in);
			bs_reader_close(r);
		}
		pcap_dump_close(out);
	} else if (argc == 5 && strcmp(argv[1], "split") == 0) {
		long per = atol(argv[2]);
		if (per < 1)
			per = 1;
		pcap_t *in = open_input(argv[4], &r);
		pcap_dumper_t *out = NULL;
		long n = 0, files = 0;
		while (pcap_next_ex(in, &h, &data) == 1) {
			if (n++ % per == 0) {
				if (out)
					pcap_dump_close(out);
				char path[4096];
				if (files)
					snprintf(path, sizeof path, "%s%ld", argv[3], files);
				else
					snprintf(path, sizeof path, "%s", argv[3]);
				files++;
				out = open_output(&dead, pcap_datalink(in), path);
			}
			pcap_dump((u_char *)out, h, data);
		}
		if (out)
			pcap_dump_close(out);
		pcap_close(in);
		bs_reader_close(r);
		printf("%ld\n", files);
	} else {
		fprintf(stderr, "usage: capsplit cat OUT IN... | capsplit split N PREFIX IN\n");
		return 2;
	}
	if (dead)
		pcap_close(dead);
	return 0;
}

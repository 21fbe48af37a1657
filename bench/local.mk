# bench/local.mk - the benchmark floors (see bench/README, docs/PERFORMANCE.md).
# Built with the tree (noinst) so bench/run.sh finds them in the build
# directory; the benchmark itself is never part of make check.
noinst_PROGRAMS += bench/zlib_floor bench/pcap_floor
bench_zlib_floor_SOURCES = bench/zlib_floor.c
bench_zlib_floor_LDADD = $(ZLIB_LIBS)
bench_pcap_floor_SOURCES = bench/pcap_floor.c
bench_pcap_floor_LDADD = $(PCAP_LIBS)
dist_noinst_SCRIPTS += bench/run.sh bench/memcap.sh
EXTRA_DIST += bench/README bench/mallocount.c

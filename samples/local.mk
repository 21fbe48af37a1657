# samples/local.mk - the sample-incident generator (bs-gen), the committed
# sample, the GeoIP test database and the truth comparison tool.
noinst_PROGRAMS += samples/bs-gen
samples_bs_gen_SOURCES = samples/gen/main.c samples/gen/sim.c samples/gen/web.c samples/gen/proto.c \
	samples/gen/world.c samples/gen/cap.c samples/gen/out.c samples/gen/gzfile.c samples/gen/util.c samples/gen/variety.c \
	samples/gen/gen.h samples/gen/sim.h
samples_bs_gen_LDADD = libbscore.a $(DEPS_LIBS)

# truthcmp: breachscope's results against a sample's truth (TAP), for tests/e2e.sh.
check_PROGRAMS += tests/truthcmp
tests_truthcmp_SOURCES = tests/truthcmp.c
tests_truthcmp_LDADD = libbscore.a $(DEPS_LIBS)

# The committed sample must be what the generator writes; truthcmp checks itself.
TESTS += tests/sample_fresh.sh tests/truthcmp_self.sh
dist_noinst_SCRIPTS += tests/sample_fresh.sh tests/truthcmp_self.sh samples/mkgeoip.pl
EXTRA_DIST += samples/incident samples/geoip docs/SAMPLES.md

# Regenerate the committed sample incident (a few MB) in the source tree.
SAMPLE_ARGS = --scenario reference --seed 1 --users 150
sample: samples/bs-gen$(EXEEXT)
	rm -rf $(srcdir)/samples/incident
	samples/bs-gen$(EXEEXT) $(SAMPLE_ARGS) --out $(srcdir)/samples/incident
# Rebuild the sample GeoIP database (needs libmaxmind-db-writer-perl).
sample-geoip:
	perl $(srcdir)/samples/mkgeoip.pl $(srcdir)/samples/geoip/geoip.csv $(srcdir)/samples/geoip/sample.mmdb
.PHONY: sample sample-geoip

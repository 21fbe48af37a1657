# tests/local.mk - the tests of the whole program: command line, end to end,
# sharded runs (GNU parallel, and a real Slurm), determinism, interrupted runs.
TESTS += tests/cli.sh tests/e2e.sh tests/shard.sh tests/slurm.sh tests/determinism.sh \
	tests/interrupt.sh
dist_noinst_SCRIPTS += tests/cli.sh tests/e2e.sh tests/shard.sh tests/slurm.sh tests/determinism.sh
EXTRA_DIST += tests/tap.sh tests/interrupt.sh tests/slowio.c
# slowio.so: the LD_PRELOAD shim of interrupt.sh, built without the project's
# flags (no sanitizer runtime in a preloaded library)
check_DATA = tests/slowio.so
tests/slowio.so: $(srcdir)/tests/slowio.c
	@$(MKDIR_P) tests
	$(CC) -shared -fPIC -O2 -o $@ $(srcdir)/tests/slowio.c -ldl
CLEANFILES += tests/slowio.so
clean-local: clean-local-tests
clean-local-tests:
	-rm -rf tests/e2e-work tests/cli-work tests/split-work tests/shard-work tests/slurm-work tests/determinism-work tests/interrupt-work

# The parser cases: tests/cases/TESTLIST, NAME.in fed to the parser, NAME.events
# expected (caserun.c; `tests/caserun --update` rewrites the .events files).
check_PROGRAMS += tests/caserun
TESTS += tests/caserun
tests_caserun_SOURCES = tests/caserun.c tests/stream_session.h tests/tap.h
tests_caserun_LDADD = libbsproto.a libbscapture.a libbslogs.a libbscore.a $(DEPS_LIBS)
EXTRA_DIST += tests/cases
# The suite's own data (tests/data/geoip-test.mmdb: samples/mkgeoip.pl from its .csv)
EXTRA_DIST += tests/data

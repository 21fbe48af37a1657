# tests/: engine unit tests and the end-to-end tests.
check_PROGRAMS += tests/test_detect tests/test_engine
TESTS += tests/test_detect tests/test_engine tests/cli.sh tests/e2e.sh tests/shard.sh tests/determinism.sh \
	tests/interrupt.sh
tests_test_detect_SOURCES = tests/test_detect.c tests/tap.h
tests_test_detect_LDADD = libbsengine.a libbsproto.a libbscore.a $(DEPS_LIBS)
tests_test_engine_SOURCES = tests/test_engine.c tests/tap.h
tests_test_engine_LDADD = $(BS_ALL_LIBS)
dist_noinst_SCRIPTS += tests/cli.sh tests/e2e.sh tests/shard.sh tests/determinism.sh
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
	-rm -rf tests/e2e-work tests/cli-work tests/shard-work tests/determinism-work tests/interrupt-work

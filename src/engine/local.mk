# src/engine/local.mk - the engine: the mergeable aggregate of events (agg;
# its tables declared once in agg.h, generated in agg_tables.c),
# its state files for sharded runs (state), correlation by stage (correlate.h:
# fleet, srvindex, signals, verdict, exposure, timeline; correlate.c drives them),
# per-event classifiers (detect).
libbsengine_a_SOURCES += src/engine/engine.h src/engine/agg.h src/engine/agg.c src/engine/agg_tables.c \
	src/engine/correlate.h src/engine/correlate.c src/engine/fleet.c src/engine/srvindex.c src/engine/signals.c \
	src/engine/verdict.c src/engine/exposure.c src/engine/timeline.c \
	src/engine/detect.h src/engine/detect.c src/engine/state.h src/engine/state.c

check_PROGRAMS += tests/test_detect tests/test_engine
TESTS += tests/test_detect tests/test_engine tests/funclen.sh tests/owa.sh tests/discovery.sh
dist_noinst_SCRIPTS += tests/owa.sh tests/discovery.sh
EXTRA_DIST += tests/funclen.sh
tests_test_detect_SOURCES = tests/test_detect.c tests/tap.h
tests_test_detect_LDADD = libbsengine.a libbsproto.a libbscore.a $(DEPS_LIBS)
tests_test_engine_SOURCES = tests/test_engine.c tests/tap.h
tests_test_engine_LDADD = $(BS_ALL_LIBS)

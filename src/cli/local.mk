# src/cli/local.mk - the command line (main) and the pipeline it runs (scan:
# inputs through the decoders and parsers into the engine, on worker threads).
bin_PROGRAMS += breachscope
breachscope_SOURCES = src/cli/main.c src/cli/scan.h src/cli/scan.c src/cli/split.h src/cli/split.c
breachscope_LDADD = $(BS_ALL_LIBS)

# --debug: diagnostics of every layer named by input; the debug file's safety.
# labels: access logs' servers from their path, mapped by the engine.
# split: one capture link read by several workers gives the bytes of one.
TESTS += tests/debug.sh tests/labels.sh tests/split.sh
dist_noinst_SCRIPTS += tests/debug.sh tests/labels.sh tests/split.sh

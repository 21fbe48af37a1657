# src/cli/local.mk - the command line (main) and the pipeline it runs (scan:
# inputs through the decoders and parsers into the engine, on worker threads).
bin_PROGRAMS += breachscope
breachscope_SOURCES = src/cli/main.c src/cli/scan.h src/cli/scan.c
breachscope_LDADD = $(BS_ALL_LIBS)

# --debug: diagnostics of every layer named by input; the debug file's safety
TESTS += tests/debug.sh
dist_noinst_SCRIPTS += tests/debug.sh

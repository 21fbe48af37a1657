# src/input/local.mk - the input layer: byte streams (plain, gzip), format
# detection, the line reader, the expansion of INPUT arguments, and the
# CRC-32 of gzip members (crc32: folded with carry-less multiplies).
libbscore_a_SOURCES += src/input/input.h src/input/input.c src/input/inputs.h src/input/inputs.c \
	src/input/crc32.h src/input/crc32.c
check_PROGRAMS += tests/test_input tests/test_inputs
TESTS += tests/test_input tests/test_inputs
tests_test_input_SOURCES = tests/test_input.c tests/tap.h
tests_test_input_LDADD = libbscore.a $(DEPS_LIBS)
tests_test_inputs_SOURCES = tests/test_inputs.c tests/tap.h
tests_test_inputs_LDADD = libbscore.a $(DEPS_LIBS)

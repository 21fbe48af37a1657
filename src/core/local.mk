# src/core/local.mk - the core model every layer shares: small value types
# (common), the normalized event (event), per-input accounting (stats), the
# engine's conclusions as the writers read them (result), the string interner
# and hash maps (tables), email address normalization and scanning (addrscan),
# the registry of temporaries removed on a signal (interrupt), integers read
# from bytes in a stated byte order (bytes), and the time zone of stamps that
# carry none (tz), and the one path of diagnostics (diag: why a record
# was not used, to --debug), the server label of an input's path (pathlabel).
libbscore_a_SOURCES += src/core/common.h src/core/common.c src/core/event.h src/core/event.c \
	src/core/stats.h src/core/result.h src/core/result.c src/core/tables.h src/core/tables.c \
	src/core/addrscan.h src/core/addrscan.c src/core/interrupt.h src/core/interrupt.c \
	src/core/bytes.h src/core/tz.h src/core/tz.c src/core/diag.h src/core/diag.c \
	src/core/pathlabel.h src/core/pathlabel.c

check_PROGRAMS += tests/test_addrscan
TESTS += tests/test_addrscan
tests_test_addrscan_SOURCES = tests/test_addrscan.c
tests_test_addrscan_LDADD = libbscore.a $(DEPS_LIBS)

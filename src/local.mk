# src/: command line, core model, correlation and verdicts, outputs.
libbs_a_SOURCES += src/common.h src/common.c src/event.h src/event.c \
	src/input.h src/stats.h

bin_PROGRAMS += breachscope
breachscope_SOURCES = src/main.c
breachscope_LDADD = libbs.a $(DEPS_LIBS)

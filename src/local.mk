# src/: command line, core model, correlation and verdicts. Owner of libbscore.a's
# base and of libbsengine.a.
libbscore_a_SOURCES += src/common.h src/common.c src/event.h src/event.c \
	src/input.h src/inputs.h src/stats.h src/result.h src/output.h src/geoip.h \
	src/interrupt.h src/interrupt.c

libbsengine_a_SOURCES += src/engine.h src/agg.h src/agg.c src/correlate.c src/detect.h src/detect.c \
	src/tables.h src/tables.c src/fleet.c src/scan.h src/scan.c src/state.h src/state.c

bin_PROGRAMS += breachscope
breachscope_SOURCES = src/main.c
breachscope_LDADD = $(BS_ALL_LIBS)

# fuzz/local.mk - libFuzzer targets, seed corpora, `make fuzz-smoke`, and the
# hostile-input and nothing-lost tests (docs/ROBUSTNESS.md).

# Shell tests run in every `make check`; pktcount is their independent packet
# counter (a bare libpcap loop).
check_PROGRAMS += tests/pktcount tests/hostgen
tests_pktcount_SOURCES = tests/pktcount.c
tests_pktcount_LDADD = $(PCAP_LIBS)
tests_hostgen_SOURCES = tests/hostgen.c
tests_hostgen_LDADD = $(ZLIB_LIBS)
TESTS += tests/hostile.sh tests/nothing_lost.sh
dist_noinst_SCRIPTS += tests/hostile.sh tests/nothing_lost.sh fuzz/mkseeds.py
clean-local: clean-local-robustness
clean-local-robustness:
	-rm -rf tests/hostile-work tests/nothing-lost-work
EXTRA_DIST += fuzz/fuzz_util.h docs/ROBUSTNESS.md

FUZZ_TARGETS = fuzz/fuzz_input fuzz/fuzz_syslog fuzz/fuzz_maillog fuzz/fuzz_addrscan \
	fuzz/fuzz_capture fuzz/fuzz_proto fuzz/fuzz_fleet fuzz/fuzz_state fuzz/fuzz_decode
EXTRA_DIST += $(FUZZ_TARGETS:=.c)
# fuzz/regress/TARGET: the one home of the inputs that once made something
# fail (kept in git and in the tarball, so a fixed bug stays fixed). TARGET is
# a fuzz target (read with the seeds by fuzz-smoke, and replayed in every
# `make check` by fuzz/replay_TARGET: the target without libFuzzer) or
# `analyze` (whole inputs of `breachscope analyze`, run by hostile.sh).
# The whole folder is distributed: a new reproducer needs no edit here.
EXTRA_DIST += fuzz/regress fuzz/replay.c
# Every target has its replay program (one per FUZZ_TARGETS entry: automake
# needs the names spelled out), so any fuzz/regress/TARGET/ is replayed.
FUZZ_REPLAYS = fuzz/replay_input fuzz/replay_syslog fuzz/replay_maillog fuzz/replay_addrscan \
	fuzz/replay_capture fuzz/replay_proto fuzz/replay_fleet fuzz/replay_state fuzz/replay_decode
check_PROGRAMS += $(FUZZ_REPLAYS)
fuzz_replay_input_SOURCES = fuzz/fuzz_input.c fuzz/replay.c fuzz/fuzz_util.h
fuzz_replay_input_LDADD = $(BS_ALL_LIBS)
fuzz_replay_syslog_SOURCES = fuzz/fuzz_syslog.c fuzz/replay.c fuzz/fuzz_util.h
fuzz_replay_syslog_LDADD = $(BS_ALL_LIBS)
fuzz_replay_maillog_SOURCES = fuzz/fuzz_maillog.c fuzz/replay.c fuzz/fuzz_util.h
fuzz_replay_maillog_LDADD = $(BS_ALL_LIBS)
fuzz_replay_addrscan_SOURCES = fuzz/fuzz_addrscan.c fuzz/replay.c fuzz/fuzz_util.h
fuzz_replay_addrscan_LDADD = $(BS_ALL_LIBS)
fuzz_replay_capture_SOURCES = fuzz/fuzz_capture.c fuzz/replay.c fuzz/fuzz_util.h
fuzz_replay_capture_LDADD = $(BS_ALL_LIBS)
fuzz_replay_proto_SOURCES = fuzz/fuzz_proto.c fuzz/replay.c fuzz/fuzz_util.h
fuzz_replay_proto_LDADD = $(BS_ALL_LIBS)
fuzz_replay_fleet_SOURCES = fuzz/fuzz_fleet.c fuzz/replay.c fuzz/fuzz_util.h
fuzz_replay_fleet_LDADD = $(BS_ALL_LIBS)
fuzz_replay_state_SOURCES = fuzz/fuzz_state.c fuzz/replay.c fuzz/fuzz_util.h
fuzz_replay_state_LDADD = $(BS_ALL_LIBS)
fuzz_replay_decode_SOURCES = fuzz/fuzz_decode.c fuzz/replay.c fuzz/fuzz_util.h
fuzz_replay_decode_LDADD = libbscore.a $(DEPS_LIBS)
TESTS += tests/fuzz_replay.sh
dist_noinst_SCRIPTS += tests/fuzz_replay.sh


if FUZZING
# configure --enable-fuzzing CC=clang: every object gets coverage
# instrumentation and the sanitizers; only the harnesses link libFuzzer's main.
AM_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g
AM_LDFLAGS += -fsanitize=address,undefined
FUZZER_LINK_FLAGS = -fsanitize=fuzzer,address,undefined
noinst_PROGRAMS += $(FUZZ_TARGETS)

fuzz_fuzz_input_SOURCES = fuzz/fuzz_input.c fuzz/fuzz_util.h
fuzz_fuzz_input_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_input_LDADD = libbscore.a $(DEPS_LIBS)
fuzz_fuzz_syslog_SOURCES = fuzz/fuzz_syslog.c fuzz/fuzz_util.h
fuzz_fuzz_syslog_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_syslog_LDADD = libbslogs.a libbscore.a $(DEPS_LIBS)
fuzz_fuzz_maillog_SOURCES = fuzz/fuzz_maillog.c fuzz/fuzz_util.h
fuzz_fuzz_maillog_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_maillog_LDADD = $(BS_ALL_LIBS)
fuzz_fuzz_addrscan_SOURCES = fuzz/fuzz_addrscan.c fuzz/fuzz_util.h
fuzz_fuzz_addrscan_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_addrscan_LDADD = $(BS_ALL_LIBS)
fuzz_fuzz_capture_SOURCES = fuzz/fuzz_capture.c fuzz/fuzz_util.h
fuzz_fuzz_capture_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_capture_LDADD = $(BS_ALL_LIBS)
fuzz_fuzz_proto_SOURCES = fuzz/fuzz_proto.c fuzz/fuzz_util.h
fuzz_fuzz_proto_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_proto_LDADD = $(BS_ALL_LIBS)
fuzz_fuzz_fleet_SOURCES = fuzz/fuzz_fleet.c fuzz/fuzz_util.h
fuzz_fuzz_fleet_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_fleet_LDADD = $(BS_ALL_LIBS)
fuzz_fuzz_state_SOURCES = fuzz/fuzz_state.c fuzz/fuzz_util.h
fuzz_fuzz_state_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_state_LDADD = $(BS_ALL_LIBS)
fuzz_fuzz_decode_SOURCES = fuzz/fuzz_decode.c fuzz/fuzz_util.h
fuzz_fuzz_decode_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_decode_LDADD = libbscore.a $(DEPS_LIBS)

# Seed corpora are generated in the build tree (samples, hand-written
# sessions, the public corpus when present); fuzzers write new inputs into
# fuzz/work/TARGET so the seeds stay as generated.
# Runs per target; the targets that build a reader, a maillog context or a
# capture engine per input run at tens per second under ASan, so fewer.
FUZZ_RUNS = 20000
FUZZ_RUNS_SLOW = 3000
PYTHON3 = python3
fuzz/seeds.stamp: $(srcdir)/fuzz/mkseeds.py breachscope$(EXEEXT)
	rm -rf fuzz/seeds
	$(PYTHON3) $(srcdir)/fuzz/mkseeds.py $(srcdir) fuzz/seeds ./breachscope$(EXEEXT)
	touch $@
CLEANFILES += fuzz/seeds.stamp

# max_len per target: whole small files for the readers, a few KB for lines.
fuzz_maxlen_input = 65536
fuzz_maxlen_syslog = 4096
fuzz_maxlen_maillog = 16384
fuzz_maxlen_addrscan = 8192
fuzz_maxlen_capture = 65536
fuzz_maxlen_proto = 16384
fuzz_maxlen_fleet = 4096
fuzz_maxlen_state = 65536
fuzz_maxlen_decode = 65536

fuzz-smoke: $(FUZZ_TARGETS) fuzz/seeds.stamp
	@set -e; for t in $(FUZZ_TARGETS); do \
	  n=$${t#fuzz/fuzz_}; mkdir -p fuzz/work/$$n fuzz/seeds/$$n; \
	  r=$(FUZZ_RUNS); \
	  case $$n in input) m=$(fuzz_maxlen_input); r=$(FUZZ_RUNS_SLOW);; syslog) m=$(fuzz_maxlen_syslog);; \
	    maillog) m=$(fuzz_maxlen_maillog); r=$(FUZZ_RUNS_SLOW);; addrscan) m=$(fuzz_maxlen_addrscan);; \
	    capture) m=$(fuzz_maxlen_capture); r=$(FUZZ_RUNS_SLOW);; proto) m=$(fuzz_maxlen_proto);; \
	    fleet) m=$(fuzz_maxlen_fleet);; decode) m=$(fuzz_maxlen_decode); r=$(FUZZ_RUNS_SLOW);; *) m=$(fuzz_maxlen_state); r=$(FUZZ_RUNS_SLOW);; esac; \
	  reg=; if [ -d $(srcdir)/fuzz/regress/$$n ]; then reg=$(srcdir)/fuzz/regress/$$n; fi; \
	  echo "fuzz-smoke: $$n ($$r runs)"; \
	  ./$$t -runs=$$r -max_len=$$m -timeout=10 -rss_limit_mb=2048 -seed=1 \
	    -print_final_stats=1 fuzz/work/$$n fuzz/seeds/$$n $$reg 2>fuzz/work/$$n.log \
	    || { tail -40 fuzz/work/$$n.log; exit 1; }; \
	  grep -E '^(stat::number_of_executed_units|Done)' fuzz/work/$$n.log || true; \
	done
mostlyclean-local: clean-fuzz
clean-fuzz:
	rm -rf fuzz/seeds fuzz/work
else
fuzz-smoke:
	@echo "fuzz-smoke: skipped: configure with --enable-fuzzing CC=clang to build the fuzz targets"
endif
.PHONY: fuzz-smoke clean-fuzz

# src/output/local.mk - the writers: the CSV files, report.html, the stdout
# summary, GeoIP enrichment, and the --timeline all spill.
libbsout_a_SOURCES += src/output/output.h src/output/output.c src/output/escape.c src/output/csvout.c src/output/report.c src/output/report_html.h src/output/story.c \
	src/output/geoip.h src/output/geoip.c src/output/spill.h src/output/spill.c
dist_man_MANS += docs/breachscope.1

check_PROGRAMS += tests/test_csv tests/test_output
TESTS += tests/test_csv tests/test_output
tests_test_csv_SOURCES = tests/test_csv.c
tests_test_csv_LDADD = libbsout.a libbscore.a $(DEPS_LIBS)
tests_test_output_SOURCES = tests/test_output.c
tests_test_output_LDADD = libbsout.a libbscore.a $(DEPS_LIBS)
check_PROGRAMS += tests/test_geoip
tests_test_geoip_SOURCES = tests/test_geoip.c
tests_test_geoip_LDADD = libbsout.a libbscore.a $(DEPS_LIBS)
# Renders the sample report in headless Chromium (skips without it).
TESTS += tests/test_report.sh
dist_noinst_SCRIPTS += tests/test_report.sh
# One output directory, several runs: the lock, stale temporaries, merge
# creating nothing before validating (issue 22).
TESTS += tests/outdir.sh
dist_noinst_SCRIPTS += tests/outdir.sh

# src/output.mk - see docs/HACKING.md
# Writers: the CSV files, report.html, the stdout summary, GeoIP enrichment.
libbsout_a_SOURCES += src/output.c src/csvout.c src/report.c src/geoip.c src/result.c
dist_man_MANS += docs/breachscope.1

check_PROGRAMS += tests/test_csv
TESTS += tests/test_csv
tests_test_csv_SOURCES = tests/test_csv.c
tests_test_csv_LDADD = libbsout.a libbscore.a $(DEPS_LIBS)

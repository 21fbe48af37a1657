# samples/local.mk - the sample-incident generator (bs-gen), the committed
# sample, the GeoIP test database and the truth comparison tool.
noinst_PROGRAMS += samples/bs-gen
samples_bs_gen_SOURCES = samples/gen/main.c samples/gen/sim.c samples/gen/web.c samples/gen/proto.c \
	samples/gen/world.c samples/gen/cap.c samples/gen/out.c samples/gen/gzfile.c samples/gen/util.c \
	samples/gen/gen.h samples/gen/sim.h
samples_bs_gen_LDADD = libbscore.a $(DEPS_LIBS)

/* fuzz_fleet.c - the --fleet inventory reader (CSV through libcsv) on a file
 * holding the input. */
#include "config.h"
#include "fuzz_util.h"
#include "src/engine/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	int fd = fuzz_memfile(data, size, path, sizeof path);
	struct bs_engine_config cfg;
	memset(&cfg, 0, sizeof cfg);
	if (bs_fleet_load(path, &cfg, err, sizeof err)) {
		for (size_t i = 0; i < cfg.nfleet; i++) {
			fuzz_touch(bs_str_make(cfg.fleet[i].name, strlen(cfg.fleet[i].name)));
			fuzz_touch(bs_str_make(cfg.fleet[i].role, strlen(cfg.fleet[i].role)));
		}
	} else if (!memchr(err, 0, sizeof err)) {
		abort(); /* the message must be a terminated string */
	}
	for (size_t i = 0; i < cfg.nfleet; i++) {
		free(cfg.fleet[i].name);
		free(cfg.fleet[i].role);
	}
	free(cfg.fleet);
	free(cfg.fleet_file);
	close(fd);
	return 0;
}

/* inputs.h - the command line's INPUT arguments expanded into the list of
 * files to read: directories walked recursively in sorted order, symlink
 * loops broken, FIFOs and devices refused with a message, "-" for stdin. */
#ifndef BS_INPUTS_H
#define BS_INPUTS_H

#include <stdio.h>
#include "src/core/common.h"

struct bs_input_list {
	char **paths;     /* as given or as found under a directory; "-" for stdin */
	size_t n, cap;
};

/* Expand. Refused entries (FIFO, device, unreadable, loop) are reported to
 * warn ("breachscope: PATH: why") and counted in *refused; a named path that
 * does not exist is an error: returns false with a message in err. Duplicate
 * paths (the same file reached twice) are kept once. The result is sorted by
 * path so that the order of arguments does not matter. */
bool bs_inputs_expand(char *const *args, size_t nargs, struct bs_input_list *out,
                      FILE *warn, size_t *refused, char *err, size_t errlen);
void bs_inputs_free(struct bs_input_list *l);

#endif

/* crc32.h - the CRC-32 of gzip members (ISO 3309, reflected 0xEDB88320).
 *
 * bs_crc32 is zlib's crc32() in what it computes: crc32(crc32(0, a), b) is
 * the CRC of a then b. On x86-64 with PCLMULQDQ it folds 64 bytes per step
 * with carry-less multiplies; elsewhere, and for short buffers, it is zlib's.
 * zlib 1.2.13's table-driven CRC cost about 4 instructions per inflated byte,
 * a tenth of a maillog run (docs/PERFORMANCE.md).
 */
#ifndef BS_CRC32_H
#define BS_CRC32_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

uint32_t bs_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* Whether bs_crc32 uses the carry-less multiply (tests/test_input.c says
 * which path it compared with zlib's). */
bool bs_crc32_folds(void);

#endif

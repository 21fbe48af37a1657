/* crc32.c - gzip's CRC-32, folded with carry-less multiplies (crc32.h).
 *
 * The CRC of a message M, computed bytewise from a register r, is that of M
 * with r xored into its first four bytes from a register 0; and from 0 it
 * depends only on M(x) mod P(x). So the bulk is folded 128 bits at a time:
 * a lane X followed by D at distance T is replaced by the smaller
 * X(x) x^T + D(x) mod P, two 64x33-bit carry-less products, which keeps the
 * message's class mod P; four lanes run side by side over 64-byte steps,
 * then meet in one, and the last lane and the tail (under 16 bytes) go
 * through zlib's table as ordinary bytes. The fold constants are
 * x^(T+32) and x^(T-32) mod P, bit-reflected and shifted left by one (the
 * alignment of reflected 64-bit products), for T = 512 and T = 128: the
 * values of Intel's "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ" (2009), checked against zlib on every length and alignment by
 * tests/test_input. */
#include "config.h"
#include "src/input/crc32.h"

#include <zlib.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
#define CRC_CAN_FOLD 1
#endif

/* zlib's CRC from a raw register (no pre- and post-inversion). */
static uint32_t raw_table(uint32_t raw, const uint8_t *p, size_t n)
{
	return ~(uint32_t)crc32_z(~raw, p, n);
}

#ifdef CRC_CAN_FOLD
static const uint64_t fold_by_512[2] = { 0x154442bd4, 0x1c6e41596 };
static const uint64_t fold_by_128[2] = { 0x1751997d0, 0x0ccaa009e };

__attribute__((target("pclmul,sse2"))) static inline __m128i fold(__m128i lane, __m128i k, __m128i next)
{
	__m128i high_part = _mm_clmulepi64_si128(lane, k, 0x00); /* the lane's first 8 bytes */
	__m128i low_part = _mm_clmulepi64_si128(lane, k, 0x11);  /* its last 8 */
	return _mm_xor_si128(_mm_xor_si128(high_part, low_part), next);
}

__attribute__((target("pclmul,sse2"))) static inline __m128i load(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* The raw register after n >= 64 bytes. */
__attribute__((target("pclmul,sse2"))) static uint32_t raw_fold(uint32_t raw, const uint8_t *p, size_t n)
{
	__m128i x0 = _mm_xor_si128(load(p), _mm_cvtsi32_si128((int)raw));
	__m128i x1 = load(p + 16), x2 = load(p + 32), x3 = load(p + 48);
	p += 64;
	n -= 64;
	__m128i k = load((const uint8_t *)fold_by_512);
	for (; n >= 64; p += 64, n -= 64) {
		x0 = fold(x0, k, load(p));
		x1 = fold(x1, k, load(p + 16));
		x2 = fold(x2, k, load(p + 32));
		x3 = fold(x3, k, load(p + 48));
	}
	k = load((const uint8_t *)fold_by_128);
	x0 = fold(x0, k, x1);
	x0 = fold(x0, k, x2);
	x0 = fold(x0, k, x3);
	for (; n >= 16; p += 16, n -= 16)
		x0 = fold(x0, k, load(p));
	uint8_t lane[16];
	_mm_storeu_si128((__m128i *)(void *)lane, x0);
	return raw_table(raw_table(0, lane, sizeof lane), p, n);
}
#endif

bool bs_crc32_folds(void)
{
#ifdef CRC_CAN_FOLD
	return __builtin_cpu_supports("pclmul");
#else
	return false;
#endif
}

uint32_t bs_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
#ifdef CRC_CAN_FOLD
	if (n >= 64 && bs_crc32_folds())
		return ~raw_fold(~crc, p, n);
#endif
	return (uint32_t)crc32_z(crc, p, n);
}

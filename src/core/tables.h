/* tables.h - the engine's storage primitives: a string interner and a hash
 * map from 64-bit keys to record indexes. Both grow with distinct keys only
 * (never per event), which is what bounds the engine's memory. */
#ifndef BS_TABLES_H
#define BS_TABLES_H

#include "src/core/common.h"

/* Interned strings: id 0 is the empty string. */
struct bs_strtab {
	char **blocks;
	size_t nblocks, block_used;
	uint32_t *off_block;   /* per id: block index */
	uint32_t *off_pos;     /* per id: position in block */
	uint32_t *len;         /* per id: length */
	uint64_t *hash;        /* per id */
	size_t n, cap;
	uint32_t *slots;       /* open addressing: id+1, 0 = empty */
	size_t nslots;
};
void bs_strtab_init(struct bs_strtab *t);
void bs_strtab_free(struct bs_strtab *t);
uint32_t bs_strtab_intern(struct bs_strtab *t, const char *s, size_t n);
/* Returns the id or UINT32_MAX when absent. */
uint32_t bs_strtab_find(const struct bs_strtab *t, const char *s, size_t n);
static inline const char *bs_strtab_get(const struct bs_strtab *t, uint32_t id)
{
	return t->blocks[t->off_block[id]] + t->off_pos[id];
}
static inline size_t bs_strtab_len(const struct bs_strtab *t, uint32_t id) { return t->len[id]; }

/* A map from a 64-bit key (already well mixed) to a uint32 value. Keys are
 * exact (no false positives): the caller's key must identify the record. */
struct bs_u64map {
	uint64_t *keys;
	uint32_t *vals;        /* value+1, 0 = empty */
	size_t n, cap;
};
void bs_u64map_init(struct bs_u64map *m);
void bs_u64map_free(struct bs_u64map *m);
/* Returns a pointer to the value slot; *found says whether it existed (when
 * not, the slot holds UINT32_MAX and the caller must set it). */
uint32_t *bs_u64map_upsert(struct bs_u64map *m, uint64_t key, bool *found);
bool bs_u64map_get(const struct bs_u64map *m, uint64_t key, uint32_t *val);
void bs_u64map_del(struct bs_u64map *m, uint64_t key);
void bs_u64map_clear(struct bs_u64map *m);

/* Growable array of fixed-size records. */
#define BS_VEC(type) struct { type *v; size_t n, cap; }
#define BS_VEC_PUSH(vec) ((vec).n == (vec).cap ? \
	((vec).cap = (vec).cap ? (vec).cap * 2 : 64, \
	 (vec).v = bs_xrealloc((vec).v, (vec).cap * sizeof *(vec).v)) : (void)0, \
	&(vec).v[(vec).n++])
#define BS_VEC_FREE(vec) do { free((vec).v); (vec).v = NULL; (vec).n = (vec).cap = 0; } while (0)

/* qsort that accepts an empty (NULL) array, which libc's does not. */
#include <stdlib.h>
static inline void bs_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (base && n > 1)
		qsort(base, n, size, cmp);
}

/* Mix several values into one 64-bit key. */
static inline uint64_t bs_mix64(uint64_t h)
{
	h ^= h >> 30; h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27; h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}
static inline uint64_t bs_key2(uint64_t a, uint64_t b) { return bs_mix64(a * 0x9E3779B97F4A7C15ULL + bs_mix64(b)); }
static inline uint64_t bs_key3(uint64_t a, uint64_t b, uint64_t c) { return bs_key2(bs_key2(a, b), c); }

#endif

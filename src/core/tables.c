/* tables.c - string interner and 64-bit hash map (linear probing). */
#include "config.h"
#include "src/core/tables.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE (1u << 20)

void bs_strtab_init(struct bs_strtab *t)
{
	memset(t, 0, sizeof *t);
	bs_strtab_intern(t, "", 0);
}

void bs_strtab_free(struct bs_strtab *t)
{
	for (size_t i = 0; i < t->nblocks; i++)
		free(t->blocks[i]);
	free(t->blocks);
	free(t->off_block);
	free(t->off_pos);
	free(t->len);
	free(t->hash);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

static void strtab_rehash(struct bs_strtab *t, size_t nslots)
{
	free(t->slots);
	t->slots = bs_xcalloc(nslots, sizeof *t->slots);
	t->nslots = nslots;
	for (size_t id = 0; id < t->n; id++) {
		size_t i = t->hash[id] & (nslots - 1);
		while (t->slots[i])
			i = (i + 1) & (nslots - 1);
		t->slots[i] = (uint32_t)id + 1;
	}
}

static uint32_t find_hashed(const struct bs_strtab *t, const char *s, size_t n, uint64_t h)
{
	if (!t->nslots)
		return UINT32_MAX;
	size_t i = h & (t->nslots - 1);
	while (t->slots[i]) {
		uint32_t id = t->slots[i] - 1;
		if (t->hash[id] == h && t->len[id] == n && memcmp(bs_strtab_get(t, id), s, n) == 0)
			return id;
		i = (i + 1) & (t->nslots - 1);
	}
	return UINT32_MAX;
}

uint32_t bs_strtab_find(const struct bs_strtab *t, const char *s, size_t n)
{
	return find_hashed(t, s, n, bs_hash64(s, n, 0));
}

uint32_t bs_strtab_intern(struct bs_strtab *t, const char *s, size_t n)
{
	/* Interned values are capped (callers cap long fields earlier); cap
	 * before the lookup, so that a long value is found again, not added again. */
	if (n > BLOCK_SIZE / 4)
		n = BLOCK_SIZE / 4;
	uint64_t h = bs_hash64(s, n, 0); /* once: for the lookup and for a new entry */
	uint32_t found = find_hashed(t, s, n, h);
	if (found != UINT32_MAX)
		return found;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->off_block = bs_xrealloc(t->off_block, t->cap * sizeof *t->off_block);
		t->off_pos = bs_xrealloc(t->off_pos, t->cap * sizeof *t->off_pos);
		t->len = bs_xrealloc(t->len, t->cap * sizeof *t->len);
		t->hash = bs_xrealloc(t->hash, t->cap * sizeof *t->hash);
	}
	if (t->nblocks == 0 || t->block_used + n + 1 > BLOCK_SIZE) {
		t->blocks = bs_xrealloc(t->blocks, (t->nblocks + 1) * sizeof *t->blocks);
		t->blocks[t->nblocks++] = bs_xmalloc(BLOCK_SIZE);
		t->block_used = 0;
	}
	uint32_t id = (uint32_t)t->n++;
	char *dst = t->blocks[t->nblocks - 1] + t->block_used;
	if (n)
		memcpy(dst, s, n);
	dst[n] = 0;
	t->off_block[id] = (uint32_t)(t->nblocks - 1);
	t->off_pos[id] = (uint32_t)t->block_used;
	t->len[id] = (uint32_t)n;
	t->hash[id] = h;
	t->block_used += n + 1;
	if (t->n * 2 > t->nslots)
		strtab_rehash(t, t->nslots ? t->nslots * 2 : 2048);
	else {
		size_t i = t->hash[id] & (t->nslots - 1);
		while (t->slots[i])
			i = (i + 1) & (t->nslots - 1);
		t->slots[i] = id + 1;
	}
	return id;
}

void bs_u64map_init(struct bs_u64map *m) { memset(m, 0, sizeof *m); }

void bs_u64map_free(struct bs_u64map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

void bs_u64map_clear(struct bs_u64map *m)
{
	if (m->cap)
		memset(m->vals, 0, m->cap * sizeof *m->vals);
	m->n = 0;
}

static void u64map_grow(struct bs_u64map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 1024;
	uint64_t *ok = m->keys;
	uint32_t *ov = m->vals;
	size_t ocap = m->cap;
	m->keys = bs_xmalloc(ncap * sizeof *m->keys);
	m->vals = bs_xcalloc(ncap, sizeof *m->vals);
	m->cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		if (!ov[i])
			continue;
		size_t j = bs_mix64(ok[i]) & (ncap - 1);
		while (m->vals[j])
			j = (j + 1) & (ncap - 1);
		m->keys[j] = ok[i];
		m->vals[j] = ov[i];
	}
	free(ok);
	free(ov);
}

uint32_t *bs_u64map_upsert(struct bs_u64map *m, uint64_t key, bool *found)
{
	if ((m->n + 1) * 2 > m->cap)
		u64map_grow(m);
	size_t i = bs_mix64(key) & (m->cap - 1);
	while (m->vals[i]) {
		if (m->keys[i] == key) {
			*found = true;
			return &m->vals[i];
		}
		i = (i + 1) & (m->cap - 1);
	}
	m->keys[i] = key;
	m->vals[i] = UINT32_MAX; /* caller sets value+1 semantics below */
	m->n++;
	*found = false;
	return &m->vals[i];
}

bool bs_u64map_get(const struct bs_u64map *m, uint64_t key, uint32_t *val)
{
	if (!m->cap)
		return false;
	size_t i = bs_mix64(key) & (m->cap - 1);
	while (m->vals[i]) {
		if (m->keys[i] == key) {
			*val = m->vals[i] - 1;
			return true;
		}
		i = (i + 1) & (m->cap - 1);
	}
	return false;
}

void bs_u64map_del(struct bs_u64map *m, uint64_t key)
{
	if (!m->cap)
		return;
	size_t i = bs_mix64(key) & (m->cap - 1);
	while (m->vals[i]) {
		if (m->keys[i] == key)
			break;
		i = (i + 1) & (m->cap - 1);
	}
	if (!m->vals[i])
		return;
	m->vals[i] = 0;
	m->n--;
	/* backward-shift deletion keeps probe chains intact */
	size_t j = i;
	for (;;) {
		j = (j + 1) & (m->cap - 1);
		if (!m->vals[j])
			break;
		size_t home = bs_mix64(m->keys[j]) & (m->cap - 1);
		bool move = (j > i) ? (home <= i || home > j) : (home <= i && home > j);
		if (move) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->vals[j] = 0;
			i = j;
		}
	}
}

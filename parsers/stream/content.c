/* content.c - what a body's bytes are, for parsers that hold bytes the
 * engine never sees (see content.h). */
#include "config.h"
#include "parsers/stream/content.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define AVX2_DISPATCH 1 /* an AVX2 path, taken when the CPU has it */
#endif

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool perm_type(char c)
{
	return c == '-' || c == 'd' || c == 'l' || c == 'c' || c == 'b' || c == 'p' || c == 's';
}

static bool perm_char(char c)
{
	return c == 'r' || c == 'w' || c == 'x' || c == 's' || c == 'S' || c == 't' || c == 'T' || c == '-';
}

/* An ls -l line: type and nine permission characters. n may run past the
 * line's end: no character of the line's start is a newline. */
static bool perm_line(const char *l, size_t n)
{
	if (n < 10 || !perm_type(l[0]))
		return false;
	for (size_t i = 1; i < 10; i++)
		if (!perm_char(l[i]))
			return false;
	return true;
}

/* Lines so far: "total 48" then ls -l lines, or two ls -l lines in a row. */
struct ls_lines {
	size_t start;        /* of the current line */
	size_t perms_in_row;
	bool prev_total;
};

/* A line starts at s[i]: is it the ls -l line that makes a listing? What
 * is checked at a line's start holds no newline, so the bytes up to n
 * stand for the line. */
static bool line_begins(struct ls_lines *ls, const char *s, size_t n, size_t i)
{
	ls->start = i;
	const char *l = s + i;
	size_t ln = n - i;
	/* output wrapped in <pre> by the web shell */
	if (l[0] == '<' && bs_mem_at_ieq_lower(l, ln, 0, "<pre>", 5)) {
		l += 5;
		ln -= 5;
	}
	if (ln == 0 || (l[0] != 't' && !perm_type(l[0]))) {
		/* most lines of a page ('<' among them): neither kind */
		ls->perms_in_row = 0;
		ls->prev_total = false;
		return false;
	}
	bool perm = perm_line(l, ln);
	if (perm && (ls->prev_total || ++ls->perms_in_row >= 2))
		return true;
	if (!perm)
		ls->perms_in_row = 0;
	ls->prev_total = ln >= 7 && memcmp(l, "total ", 6) == 0 && is_digit(l[6]);
	return false;
}

/* Can no listing line start at l (ln bytes up to the buffer's end)? Most
 * lines of a page: neither "<pre>", nor 't', nor a file type. */
static inline bool line_plain(const char *l, size_t ln)
{
	if (l[0] == '<')
		return !bs_mem_at_ieq_lower(l, ln, 0, "<pre>", 5);
	return l[0] != 't' && !perm_type(l[0]);
}

/* A newline at s[j]: a line starts after it. A plain one only ends the
 * listing state, here (this runs at every newline of every page). */
static inline bool newline_at(struct ls_lines *ls, const char *s, size_t n, size_t j)
{
	if (j + 1 >= n)
		return false;
	if (!line_plain(s + j + 1, n - j - 1))
		return line_begins(ls, s, n, j + 1);
	ls->start = j + 1;
	ls->perms_in_row = 0;
	ls->prev_total = false;
	return false;
}

/* uid=N(name) gid= (id) */
static bool id_output(const char *s, size_t n, size_t k)
{
	if (!bs_mem_at_ieq_lower(s, n, k, "uid=", 4))
		return false;
	size_t d = k + 4;
	while (d < n && is_digit(s[d]))
		d++;
	if (d == k + 4 || d >= n || s[d] != '(')
		return false;
	size_t lim = d + 64 < n ? d + 64 : n;
	return bs_memmem_ci(s + d, lim - d, ") gid=", 6) != NULL;
}

/* root:x:0:0: or root:*:0:0: (/etc/passwd), z at ":0:0:" */
static bool passwd_root(const char *s, size_t n, size_t z)
{
	return z + 5 <= n && memcmp(s + z, ":0:0:", 5) == 0 && z >= 6 && bs_mem_at_ieq_lower(s, n, z - 6, "root:", 5) &&
		(s[z - 1] == 'x' || s[z - 1] == 'X' || s[z - 1] == '*');
}

/* uname -a: "GNU/Linux" at g, in a line with "Linux " at or before g. */
static bool uname_output(const char *s, size_t n, size_t line_start, size_t slash)
{
	if (slash < 3 || !bs_mem_at_ieq_lower(s, n, slash - 3, "gnu/linux", 9))
		return false;
	size_t g = slash - 3;
	return bs_memmem_ci(s + line_start, g + 6 - line_start, "linux ", 6) != NULL;
}

/* What the byte at k may start; the candidates of shell_candidate() only. */
static bool check_at(struct ls_lines *ls, const char *s, size_t n, size_t k)
{
	switch (s[k]) {
	case '\n':
		return newline_at(ls, s, n, k);
	case ':':
		return passwd_root(s, n, k);
	case ' ':
		/* dir of cmd.exe: " Volume in drive ", " Directory of " */
		return bs_mem_at_ieq_lower(s, n, k + 1, "volume in drive ", 16) || bs_mem_at_ieq_lower(s, n, k + 1, "directory of ", 13);
	case '/':
		return uname_output(s, n, ls->start, k);
	default: /* 'u' or 'U' */
		return id_output(s, n, k);
	}
}

/* check_at() with newlines, the most of the candidates, taken inline. */
static inline bool candidate_at(struct ls_lines *ls, const char *s, size_t n, size_t k)
{
	return s[k] == '\n' ? newline_at(ls, s, n, k) : check_at(ls, s, n, k);
}

/* Can a pattern start at s[k] (s[k + 1] read when k + 1 < n)? Each pattern
 * is found by two of its bytes: "ui" of uid=, ":0" of :0:0:, " v" and " d"
 * (either case) before "volume in drive" and "directory of", "/l" of
 * GNU/Linux, and every newline (a line starts after it). */
static bool shell_candidate(const char *s, size_t n, size_t k)
{
	char c = s[k], c2 = k + 1 < n ? (char)(s[k + 1] | 0x20) : 0;
	switch (c) {
	case '\n':
		return true;
	case ':':
		return k + 1 < n && s[k + 1] == '0';
	case ' ':
		return c2 == 'v' || c2 == 'd';
	case '/':
		return c2 == 'l';
	case 'u':
	case 'U':
		return c2 == 'i';
	default:
		return false;
	}
}

#ifdef __SSE2__
/* shell_candidate() for s[at..at+16), as a bit mask (s[at + 16] is read). */
static unsigned shell_candidates16(const char *s, size_t at)
{
	const __m128i lower = _mm_set1_epi8(0x20);
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + at));
	__m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(s + at + 1));
	__m128i lc = _mm_or_si128(v, lower), lc2 = _mm_or_si128(v2, lower);
	__m128i m = _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'));
	m = _mm_or_si128(m, _mm_and_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(':')), _mm_cmpeq_epi8(v2, _mm_set1_epi8('0'))));
	__m128i vd = _mm_or_si128(_mm_cmpeq_epi8(lc2, _mm_set1_epi8('v')), _mm_cmpeq_epi8(lc2, _mm_set1_epi8('d')));
	m = _mm_or_si128(m, _mm_and_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), vd));
	m = _mm_or_si128(m, _mm_and_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')), _mm_cmpeq_epi8(lc2, _mm_set1_epi8('l'))));
	m = _mm_or_si128(m, _mm_and_si128(_mm_cmpeq_epi8(lc, _mm_set1_epi8('u')), _mm_cmpeq_epi8(lc2, _mm_set1_epi8('i'))));
	return (unsigned)_mm_movemask_epi8(m);
}
#endif

#ifdef AVX2_DISPATCH
/* shell_candidates16() over 32 bytes at a time, each candidate checked:
 * true when one holds; *at is where it stopped. */
__attribute__((target("avx2"))) static bool shell_scan_avx2(struct ls_lines *ls, const char *s, size_t n, size_t *at)
{
#define EQ(v, ch) _mm256_cmpeq_epi8((v), _mm256_set1_epi8(ch))
	const __m256i lower = _mm256_set1_epi8(0x20);
	size_t k = *at;
	for (; k + 33 <= n; k += 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + k));
		__m256i v2 = _mm256_loadu_si256((const __m256i *)(const void *)(s + k + 1));
		__m256i lc = _mm256_or_si256(v, lower), lc2 = _mm256_or_si256(v2, lower);
		__m256i m = EQ(v, '\n');
		m = _mm256_or_si256(m, _mm256_and_si256(EQ(v, ':'), EQ(v2, '0')));
		m = _mm256_or_si256(m, _mm256_and_si256(EQ(v, ' '), _mm256_or_si256(EQ(lc2, 'v'), EQ(lc2, 'd'))));
		m = _mm256_or_si256(m, _mm256_and_si256(EQ(v, '/'), EQ(lc2, 'l')));
		m = _mm256_or_si256(m, _mm256_and_si256(EQ(lc, 'u'), EQ(lc2, 'i')));
		for (unsigned bits = (unsigned)_mm256_movemask_epi8(m); bits; bits &= bits - 1)
			if (candidate_at(ls, s, n, k + (size_t)__builtin_ctz(bits))) {
				*at = k;
				return true;
			}
	}
#undef EQ
	*at = k;
	return false;
}
#endif

bool bs_content_avx2_off;

/* One pass: the candidates in order (a page has few: SSE2 finds them 16
 * bytes at a time), each checked whole where it is; the lines' state goes
 * along, from newline to newline. Formerly five searches and a line loop,
 * ~8,700 instructions a KB. */
bool bs_content_is_shell_output(const char *s, size_t n)
{
	struct ls_lines ls = { 0, 0, false };
	if (n && line_begins(&ls, s, n, 0))
		return true;
	size_t k = 0;
#ifdef AVX2_DISPATCH
	if (!bs_content_avx2_off && __builtin_cpu_supports("avx2") && shell_scan_avx2(&ls, s, n, &k))
		return true;
#endif
#ifdef __SSE2__
	for (; k + 17 <= n; k += 16)
		for (unsigned m = shell_candidates16(s, k); m; m &= m - 1)
			if (candidate_at(&ls, s, n, k + (size_t)__builtin_ctz(m)))
				return true;
#endif
	for (; k < n; k++)
		if (shell_candidate(s, n, k) && check_at(&ls, s, n, k))
			return true;
	return false;
}

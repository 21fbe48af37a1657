/* content.c - what a body's bytes are, for parsers that hold bytes the
 * engine never sees (see content.h). */
#include "config.h"
#include "parsers/stream/content.h"

#include <string.h>

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* An ls -l line: type and nine permission characters. */
static bool perm_line(const char *l, size_t n)
{
	if (n < 10 || !strchr("-dlcbps", l[0]) || l[0] == 0)
		return false;
	for (size_t i = 1; i < 10; i++)
		if (!strchr("rwxsStT-", l[i]) || l[i] == 0)
			return false;
	return true;
}

/* Is there a space followed by pat (case-insensitive) in s? */
static bool ci_after_space(const char *s, size_t n, const char *pat, size_t pl)
{
	for (const char *p = s; (p = bs_memmem_ci(p, (size_t)(s + n - p), pat, pl)) != NULL; p++)
		if (p > s && p[-1] == ' ')
			return true;
	return false;
}

bool bs_content_is_shell_output(const char *s, size_t n)
{
	const char *u = s;
	while ((u = bs_memmem_ci(u, (size_t)(s + n - u), "uid=", 4)) != NULL) {
		u += 4;
		size_t k = (size_t)(u - s), d = k;
		while (d < n && is_digit(s[d]))
			d++;
		if (d > k && d < n && s[d] == '(') {
			size_t lim = d + 64 < n ? d + 64 : n;
			if (bs_memmem_ci(s + d, lim - d, ") gid=", 6))
				return true;
		}
	}
	/* Each pattern below is found by its rarest part, then checked whole:
	 * a page has a space or an 'l' every few bytes, ":0:0:" seldom. */
	for (const char *z = s; (z = memmem(z, (size_t)(s + n - z), ":0:0:", 5)) != NULL; z++) {
		/* root:x:0:0: or root:*:0:0: (/etc/passwd) */
		size_t at = (size_t)(z - s);
		if (at >= 6 && bs_str_istarts(bs_str_make(z - 6, 5), "root:") && (z[-1] == 'x' || z[-1] == 'X' || z[-1] == '*'))
			return true;
	}
	/* dir of cmd.exe: " Volume in drive ", " Directory of " (no pattern
	 * holds a newline, so a match in the buffer is a match in a line) */
	if (ci_after_space(s, n, "volume in drive ", 16) || ci_after_space(s, n, "directory of ", 13))
		return true;
	/* uname -a: looked for line by line only when the buffer has it */
	bool linux_seen = bs_memmem_ci(s, n, "gnu/linux", 9) != NULL;
	/* "total 48" then ls -l lines; or two ls -l lines in a row */
	size_t perms_in_row = 0;
	bool prev_total = false;
	for (size_t i = 0; i < n;) {
		const char *lf = memchr(s + i, '\n', n - i);
		size_t e = lf ? (size_t)(lf - s) : n;
		const char *l = s + i;
		size_t ln = e - i;
		/* output wrapped in <pre> by the web shell */
		if (ln >= 5 && bs_str_istarts(bs_str_make(l, ln), "<pre>")) {
			l += 5;
			ln -= 5;
		}
		bool perm = perm_line(l, ln);
		if (perm && (prev_total || ++perms_in_row >= 2))
			return true;
		if (!perm)
			perms_in_row = 0;
		prev_total = ln >= 7 && memcmp(l, "total ", 6) == 0 && is_digit(l[6]);
		const char *lx = linux_seen ? bs_memmem_ci(l, ln, "Linux ", 6) : NULL;
		if (lx && bs_memmem_ci(lx, ln - (size_t)(lx - l), "GNU/Linux", 9))
			return true;
		i = e + 1;
	}
	return false;
}

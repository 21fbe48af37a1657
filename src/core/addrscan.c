/* addrscan.c - the shared email address scanner and normalizer, and the
 * bounded scan window that lets stream parsers scan across segment
 * boundaries.
 *
 * The scanner finds each '@' with memchr and grows the candidate both ways,
 * so the cost is linear in the input and nothing is allocated. Candidates
 * are validated by the same code as bs_addr_normalize(), so an address found
 * in content and one read from a log field normalize to the same string.
 */
#include "config.h"
#include "src/core/addrscan.h"

#include <string.h>

#define LOCAL_MAX 64
#define DOMAIN_MAX 255
#define LABEL_MAX 63
/* How far back from a '<' we look for the header name of a folded header. */
#define HEADER_LOOKBACK 1024

/* Character classes, looked up in one table: the validation of every
 * address character was a chain of range tests (and a strchr for atext). */
enum {
	C_ALPHA = 1,
	C_DIGIT = 2,
	C_ATEXT = 4,      /* RFC 5322 atext, for local parts given as an address field */
	C_SCAN_LOCAL = 8, /* the narrower set the scanner grows a local part over */
	C_LABEL = 16,     /* a domain label's letters, digits and hyphens */
	C_DOMAIN = 32,    /* C_LABEL or '.': what the scanner grows a domain over */
	C_TOKEN_STOP = 64, /* ends the token a message id's local part sits in */
};
#define CC_ALPHA(c) ((((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'z') ? C_ALPHA : 0)
#define CC_DIGIT(c) (((c) >= '0' && (c) <= '9') ? C_DIGIT : 0)
#define CC_ALNUM(c) (CC_ALPHA(c) || CC_DIGIT(c))
#define CC_ATEXT_PUNCT(c) ((c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || (c) == '&' || \
	(c) == '\'' || (c) == '*' || (c) == '+' || (c) == '-' || (c) == '/' || (c) == '=' || (c) == '?' || \
	(c) == '^' || (c) == '_' || (c) == '`' || (c) == '{' || (c) == '|' || (c) == '}' || (c) == '~')
/* In free text, URLs and SQL the other atext characters ('=', '/', '\'', '&',
 * '{'...) are nearly always delimiters ("?email=bob@x.org", "'bob@x.org'"),
 * not part of the address. */
#define CC_SCAN(c) (CC_ALNUM(c) || (c) == '.' || (c) == '_' || (c) == '+' || (c) == '-')
#define CC_LABEL(c) (CC_ALNUM(c) || (c) == '-')
/* NUL included: the walk used strchr(" \t\r\n<>\"", c), which matches NUL */
#define CC_STOP(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n' || (c) == '<' || (c) == '>' || \
	(c) == '"' || (c) == 0)
#define CC(c) (CC_ALPHA(c) | CC_DIGIT(c) | ((CC_ALNUM(c) || CC_ATEXT_PUNCT(c)) ? C_ATEXT : 0) | \
	(CC_SCAN(c) ? C_SCAN_LOCAL : 0) | (CC_LABEL(c) ? C_LABEL : 0) | \
	((CC_LABEL(c) || (c) == '.') ? C_DOMAIN : 0) | (CC_STOP(c) ? C_TOKEN_STOP : 0))
#define CC4(c) CC(c), CC((c) + 1), CC((c) + 2), CC((c) + 3)
#define CC16(c) CC4(c), CC4((c) + 4), CC4((c) + 8), CC4((c) + 12)
#define CC64(c) CC16(c), CC16((c) + 16), CC16((c) + 32), CC16((c) + 48)
static const unsigned char char_class[256] = { CC64(0), CC64(64), CC64(128), CC64(192) };
/* ASCII lower case by table: one load instead of two compares per byte */
#define LC(c) ((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
#define LC4(c) LC(c), LC((c) + 1), LC((c) + 2), LC((c) + 3)
#define LC16(c) LC4(c), LC4((c) + 4), LC4((c) + 8), LC4((c) + 12)
#define LC64(c) LC16(c), LC16((c) + 16), LC16((c) + 32), LC16((c) + 48)
static const unsigned char lower_of[256] = { LC64(0), LC64(64), LC64(128), LC64(192) };

static inline bool is_alpha(unsigned char c) { return char_class[c] & C_ALPHA; }
static inline bool is_digit(unsigned char c) { return char_class[c] & C_DIGIT; }
static inline bool is_alnum(unsigned char c) { return char_class[c] & (C_ALPHA | C_DIGIT); }
static inline char lower(unsigned char c) { return (char)lower_of[c]; }
static inline bool is_scan_local(unsigned char c) { return char_class[c] & C_SCAN_LOCAL; }
static inline bool is_domain_char(unsigned char c) { return char_class[c] & C_DOMAIN; }
static inline bool is_token_stop(unsigned char c) { return char_class[c] & C_TOKEN_STOP; }

/* Content of a quoted local part (between the quotes): printable ASCII,
 * backslash escapes a following printable character (RFC 5321
 * quoted-pairSMTP: never a control character, never NUL), no bare quote. */
static bool quoted_ok(const char *s, size_t n)
{
	if (n == 0 || n + 2 > LOCAL_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e)
			return false;
		if (c == '\\') {
			if (++i >= n || (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
				return false;
		} else if (c == '"') {
			return false;
		}
	}
	return true;
}

/* "2x.png", "1.5x.jpg": the retina image suffix "name@2x.png" is not an address. */
static bool is_retina_suffix(const char *d, size_t n)
{
	size_t i = 0;
	while (i < n && is_digit((unsigned char)d[i]))
		i++;
	if (i == 0)
		return false;
	if (i < n && d[i] == '.') {
		size_t j = i + 1;
		while (j < n && is_digit((unsigned char)d[j]))
			j++;
		if (j > i + 1)
			i = j;
	}
	return i + 1 < n && (d[i] == 'x' || d[i] == 'X') && (d[i + 1] == '.' || d[i + 1] == '-');
}

static bool is_css_at_rule(const char *d, size_t n)
{
	static const char *const rules[] = { "media", "import", "font-face", "keyframes", "charset",
		"supports", "page", "namespace", "-webkit-keyframes", "layer", "container", NULL };
	for (size_t i = 0; rules[i]; i++)
		if (bs_str_ieq(bs_str_make(d, n), rules[i]))
			return true;
	return false;
}

static bool label_ok(const char *l, size_t len)
{
	return len && len <= LABEL_MAX && l[0] != '-' && l[len - 1] != '-';
}

static void copy_lower(char *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = lower((unsigned char)s[i]);
}

/* An IP literal "[...]": hex digits, dots, colons and the "IPv6:" tag only:
 * bs_ip_parse also takes an IPv6 zone ("%eth0"), whose bytes could be
 * anything, NUL included. */
static bool literal_ok(const char *d, size_t n)
{
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_digit((unsigned char)d[i]) && !strchr("abcdefABCDEF.:IiPpVv", d[i] ? d[i] : '%'))
			return false;
	bs_ip ip;
	return n > 2 && d[n - 1] == ']' && bs_ip_parse(d, n, &ip);
}

/* The last label of a domain of several: alphabetic (letters says whether
 * it is all letters), or an xn-- IDN label. */
static bool tld_shape_ok(const char *tld, size_t len, bool letters)
{
	if (len >= 5 && (tld[0] == 'x' || tld[0] == 'X') && bs_str_istarts(bs_str_make(tld, len), "xn--"))
		return true;
	return len >= 2 && letters;
}

static bool tld_ok(const char *tld, size_t len)
{
	unsigned char classes = C_ALPHA;
	for (size_t k = 0; k < len; k++)
		classes &= char_class[(unsigned char)tld[k]];
	return tld_shape_ok(tld, len, classes);
}

/* Domain: dot-separated labels of letters, digits and inner hyphens, the last
 * one alphabetic (or an xn-- IDN label); or a bracketed IP literal. Checked
 * and written lower-cased into out in one pass: out may be written before a
 * failure. */
static bool domain_copy(const char *d, size_t n, bool allow_dotless, char *out)
{
	if (n == 0 || n > DOMAIN_MAX)
		return false;
	if (d[0] == '[') {
		if (!literal_ok(d, n))
			return false;
		copy_lower(out, d, n);
		return true;
	}
	size_t labels = 0, start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		out[i] = lower(c);
		if (c != '.') {
			if (!(char_class[c] & C_LABEL))
				return false;
			continue;
		}
		if (!label_ok(d + start, i - start))
			return false;
		labels++;
		start = i + 1;
	}
	const char *tld = d + start;
	size_t len = n - start;
	if (!label_ok(tld, len))
		return false;
	if (labels == 0)
		return allow_dotless && is_alpha((unsigned char)d[0]) && !is_css_at_rule(d, n);
	return tld_ok(tld, len);
}

/* A dot-atom local part, checked and written lower-cased into out in one
 * pass: out may be written before a failure. */
static bool dot_atom_copy(const char *s, size_t n, bool scan_set, char *out)
{
	if (n == 0 || n > LOCAL_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	unsigned char want = scan_set ? C_SCAN_LOCAL : C_ATEXT;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = lower(c);
		if (c == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!(char_class[c] & want)) {
			return false;
		}
	}
	return true;
}

/* The domain after the local part already in out[0..ln); the total length. */
static int finish_domain(const char *dom, size_t dn, bool allow_dotless, size_t ln, char *out)
{
	if (!domain_copy(dom, dn, allow_dotless, out + ln + 1))
		return -1;
	out[ln] = '@';
	out[ln + 1 + dn] = 0;
	return (int)(ln + 1 + dn);
}

/* build's work; out may hold anything after a failure. */
static int build_into(const char *local, size_t ln, const char *dom, size_t dn, bool allow_dotless,
                      bool scan_set, char *out)
{
	if (ln + 1 + dn > BS_ADDR_MAX)
		return -1; /* first: out is written while the parts are checked */
	bool quoted = ln >= 2 && local[0] == '"' && local[ln - 1] == '"';
	if (quoted) {
		if (!quoted_ok(local + 1, ln - 2))
			return -1;
		/* Quotes that protect nothing are dropped: "bob"@x.org is bob@x.org. */
		if (dot_atom_copy(local + 1, ln - 2, false, out))
			ln -= 2;
		else
			copy_lower(out, local, ln);
	} else if (!dot_atom_copy(local, ln, scan_set, out)) {
		return -1;
	}
	return finish_domain(dom, dn, allow_dotless, ln, out);
}

/* Validate and write the normalized form. local includes its quotes when
 * quoted. Returns the length or -1 (out then holds the empty string). */
static int build(const char *local, size_t ln, const char *dom, size_t dn, bool allow_dotless,
                 bool scan_set, char *out)
{
	int len = build_into(local, ln, dom, dn, allow_dotless, scan_set, out);
	if (len < 0)
		out[0] = 0;
	return len;
}

/* The last label of a domain the scanner grew, and the dotless rule: the
 * rest of domain_copy's checks for a run whose labels were checked on the
 * way (grow_domain). */
static bool run_tld_ok(const char *dom, size_t dn, bool allow_dotless)
{
	size_t start = dn;
	unsigned char classes = C_ALPHA; /* tld_ok's letters-only test, on the way back */
	while (start > 0 && dom[start - 1] != '.')
		classes &= char_class[(unsigned char)dom[--start]];
	const char *tld = dom + start;
	size_t len = dn - start;
	if (!label_ok(tld, len))
		return false;
	if (start == 0)
		return allow_dotless && is_alpha((unsigned char)dom[0]) && !is_css_at_rule(dom, dn);
	return tld_shape_ok(tld, len, classes);
}

/* Eight bytes lower-cased at once: 0x20 added to each byte from 'A' to 'Z'
 * (seven-bit sums that cannot carry into the next byte find them). */
static inline uint64_t lower8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL, low7 = ~high;
	uint64_t ge_a = (w & low7) + ones * (0x80 - 'A');
	uint64_t gt_z = (w & low7) + ones * (0x80 - 'Z' - 1);
	return w | ((ge_a & ~gt_z & ~w & high) >> 2);
}

/* copy_lower a word at a time; the last word overlaps the one before it, so
 * nothing is read or written outside s[0..n) and out[0..n). */
static void copy_lower_words(char *out, const char *s, size_t n)
{
	if (n < 8) {
		copy_lower(out, s, n);
		return;
	}
	uint64_t w;
	for (size_t i = 0; i + 8 < n; i += 8) {
		memcpy(&w, s + i, 8);
		w = lower8(w);
		memcpy(out + i, &w, 8);
	}
	memcpy(&w, s + n - 8, 8);
	w = lower8(w);
	memcpy(out + n - 8, &w, 8);
}

/* build for what the scanner grew: a local part of 1 to LOCAL_MAX scan
 * characters, no "..", not starting with '.' (so of dot_atom_copy's checks
 * only the trailing dot is left), and a domain of domain characters whose
 * first label failing label_ok ends at dom[bad_dot] (SIZE_MAX if none);
 * the domain follows the local part's '@' (dom == local + ln + 1). */
static int build_run(const char *local, size_t ln, const char *dom, size_t dn, size_t bad_dot,
                     bool allow_dotless, char *out)
{
	if (ln + 1 + dn > BS_ADDR_MAX || local[ln - 1] == '.' || dn > DOMAIN_MAX || bad_dot < dn ||
	    !run_tld_ok(dom, dn, allow_dotless)) {
		out[0] = 0;
		return -1;
	}
	copy_lower_words(out, local, ln + 1 + dn); /* the '@' in between too */
	out[ln + 1 + dn] = 0;
	return (int)(ln + 1 + dn);
}

/* The scanner's domain run from p[d]: domain characters, at most
 * DOMAIN_MAX + 2 of them. The label each dot ends is checked on the way:
 * *bad_dot is the offset from d of the first dot whose label fails label_ok
 * (SIZE_MAX if none), so a domain cut short after the run holds a bad label
 * iff its length passes *bad_dot. */
static size_t grow_domain(const char *p, size_t n, size_t d, size_t *bad_dot)
{
	size_t lim = n - d > DOMAIN_MAX + 2 ? d + DOMAIN_MAX + 2 : n;
	size_t e = d, label = d, bad = SIZE_MAX;
	for (; e < lim; e++) {
		unsigned char c = (unsigned char)p[e];
		if (!is_domain_char(c))
			break;
		if (c == '.') {
			if (bad == SIZE_MAX && !label_ok(p + label, e - label))
				bad = e - d;
			label = e + 1;
		}
	}
	*bad_dot = bad;
	return e;
}

static bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int bs_addr_normalize(const char *s, size_t n, char *out)
{
	out[0] = 0;
	while (n && is_space((unsigned char)s[0])) {
		s++;
		n--;
	}
	while (n && is_space((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || n > 4 * BS_ADDR_MAX)
		return -1;
	/* Display name: take what is inside the last <...>. */
	const char *lt = memrchr(s, '<', n);
	if (lt) {
		const char *gt = memchr(lt, '>', (size_t)(s + n - lt));
		if (!gt)
			return -1;
		s = lt + 1;
		n = (size_t)(gt - s);
		while (n && is_space((unsigned char)s[0])) {
			s++;
			n--;
		}
		while (n && is_space((unsigned char)s[n - 1]))
			n--;
		if (n == 0)
			return 0; /* <> : the null sender */
	}
	if ((s[0] == 'm' || s[0] == 'M') && bs_str_istarts(bs_str_make(s, n), "mailto:")) {
		s += 7;
		n -= 7;
	}
	/* A whole address in quotes or apostrophes: 'bob@x.org', "bob@x.org". */
	if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0]) {
		const char *close = memchr(s + 1, s[0], n - 1);
		if (close == s + n - 1 && memchr(s + 1, '@', n - 2)) {
			s++;
			n -= 2;
		}
	}
	size_t at;
	if (n && s[0] == '"') {
		/* Quoted local part: the '@' follows the closing quote. */
		size_t i = 1;
		while (i < n && s[i] != '"')
			i += (s[i] == '\\') ? 2 : 1;
		if (i + 1 >= n || s[i + 1] != '@')
			return -1;
		at = i + 1;
	} else {
		const char *a = memrchr(s, '@', n);
		if (!a)
			return -1;
		at = (size_t)(a - s);
	}
	/* A log field names one mailbox explicitly, so a dotless domain
	 * (root@localhost) is accepted here, unlike in free text. */
	return build(s, at, s + at + 1, n - at - 1, true, false, out);
}

bs_str bs_addr_domain(const char *addr, size_t n)
{
	for (size_t i = n; i-- > 0;)
		if (addr[i] == '@')
			return bs_str_make(addr + i + 1, n - i - 1);
	return bs_str_make(addr + n, 0);
}

static bool prefix_ci_before(const char *p, size_t end, const char *word)
{
	size_t wn = strlen(word);
	return end >= wn && bs_str_ieq(bs_str_make(p + end - wn, wn), word);
}

/* Is the '<' at p[lt] the start of a message id: "Message-ID: <", "message-id=<"
 * (Postfix), or inside a (possibly folded) References / In-Reply-To header? */
static bool in_message_id(const char *p, size_t lt)
{
	static const char *const names[] = { "message-id", "in-reply-to", "references",
		"resent-message-id", "content-id", "msgid", "msg-id", NULL };
	size_t e = lt;
	while (e > 0 && (p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;
	if (e > 0 && (p[e - 1] == ':' || p[e - 1] == '=')) {
		for (size_t i = 0; names[i]; i++)
			if (prefix_ci_before(p, e - 1, names[i]))
				return true;
	}
	/* Header line holding several ids, maybe folded over continuation lines:
	 * walk back to the start of the logical header line. */
	size_t floor = lt > HEADER_LOOKBACK ? lt - HEADER_LOOKBACK : 0;
	size_t i = lt;
	for (;;) {
		while (i > floor && p[i - 1] != '\n')
			i--;
		if (i == floor && floor > 0)
			return false; /* line start not in reach */
		if (i > floor && (p[i] == ' ' || p[i] == '\t')) {
			i--; /* continuation: go on from the previous line's LF */
			continue;
		}
		break;
	}
	for (size_t k = 0; names[k]; k++) {
		size_t kn = strlen(names[k]);
		if (lt - i > kn && bs_str_istarts(bs_str_make(p + i, lt - i), names[k]) && p[i + kn] == ':')
			return true;
	}
	return false;
}

size_t bs_addr_scan_window(const char *p, size_t n, size_t fresh_from, bool final,
                           bool allow_dotless, bs_addr_fn fn, void *ctx)
{
	size_t found = 0, pos = 0;
	char out[BS_ADDR_MAX + 1];
	while (pos < n) {
		const char *hit = memchr(p + pos, '@', n - pos);
		if (!hit)
			break;
		size_t a = (size_t)(hit - p);
		pos = a + 1;

		/* Right side: the domain, or an IP literal. */
		size_t d = a + 1, e = d, bad_dot = SIZE_MAX;
		if (e < n && p[e] == '[') {
			while (e < n && e - d < 64 && p[e] != ']' && p[e] != '\n')
				e++;
			if (e < n && p[e] == ']')
				e++;
		} else {
			e = grow_domain(p, n, d, &bad_dot);
		}
		size_t raw_end = e;
		if (raw_end == n && !final)
			continue; /* may go on in the next window */
		if (raw_end < fresh_from)
			continue; /* reported by the previous window */
		if (e < n && (p[e] == '_' || p[e] == '@'))
			continue; /* part of a longer token */
		size_t dn = e - d;
		if (dn && p[d] != '[')
			while (dn && (p[d + dn - 1] == '.' || p[d + dn - 1] == '-'))
				dn--; /* sentence punctuation: "write to bob@x.org." */
		if (dn == 0)
			continue;

		/* Left side: a quoted local part, or a run of local characters. */
		size_t l;
		if (a > 0 && p[a - 1] == '"') {
			size_t q = a - 1, lim = a > LOCAL_MAX + 1 ? a - LOCAL_MAX - 1 : 0;
			bool open = false;
			while (q > lim) {
				q--;
				if (p[q] == '\n')
					break;
				if (p[q] == '"' && !(q > 0 && p[q - 1] == '\\')) {
					open = true;
					break;
				}
			}
			if (!open || (q > 0 && is_alnum((unsigned char)p[q - 1])))
				continue;
			l = q;
		} else {
			l = a;
			/* ".." cannot be inside a local part: it ends the run ("see...bob@");
			 * the run stops at LOCAL_MAX + 1 characters, found too long below */
			size_t lim = a > LOCAL_MAX + 1 ? a - LOCAL_MAX - 1 : 0;
			while (l > lim) {
				unsigned char c = (unsigned char)p[l - 1];
				if (!is_scan_local(c) || (c == '.' && l > 1 && p[l - 2] == '.'))
					break;
				l--;
			}
			if (a - l > LOCAL_MAX)
				continue; /* a long token, not a local part */
			while (l < a && p[l] == '.')
				l++; /* "see...bob@x.org" */
			if (l == a)
				continue; /* "@media", " @ ", "@import" */
		}
		if (l > 0 && p[l - 1] == '@')
			continue; /* a@b@c */
		if (p[d] != '[' && is_retina_suffix(p + d, dn))
			continue;
		/* Message ids carry '$', '=', '%' ... before the '@': find the '<'
		 * that opens the token the local part ends. */
		size_t k = l;
		while (k > 0 && l - k < 2 * LOCAL_MAX && !is_token_stop((unsigned char)p[k - 1]))
			k--;
		if (k > 0 && p[k - 1] == '<' && in_message_id(p, k - 1))
			continue;
		int len = p[l] == '"' || p[d] == '[' ? build(p + l, a - l, p + d, dn, allow_dotless, true, out)
		                                     : build_run(p + l, a - l, p + d, dn, bad_dot, allow_dotless, out);
		if (len <= 0)
			continue;
		found++;
		if (fn)
			fn(ctx, out, (size_t)len);
		pos = e;
	}
	return found;
}

size_t bs_addr_scan(const char *p, size_t n, bool allow_dotless, bs_addr_fn fn, void *ctx)
{
	if (!p)
		return 0;
	return bs_addr_scan_window(p, n, 0, true, allow_dotless, fn, ctx);
}

/* ------------------------------------------------------------------ window */

void bs_window_reset(struct bs_scan_window *w)
{
	w->len = 0;
	w->fresh_from = 0;
}

void bs_window_feed(struct bs_scan_window *w, const char *p, size_t n, bs_window_fn fn, void *ctx)
{
	const size_t cap = sizeof w->buf;
	while (n) {
		size_t take = cap - w->len;
		if (take > n)
			take = n;
		memcpy(w->buf + w->len, p, take);
		w->len += take;
		p += take;
		n -= take;
		if (w->len == cap) {
			fn(ctx, w->buf, w->len, w->fresh_from, false);
			memmove(w->buf, w->buf + cap - BS_WIN_TAIL, BS_WIN_TAIL);
			w->len = BS_WIN_TAIL;
			w->fresh_from = BS_WIN_TAIL;
		}
	}
}

void bs_window_end(struct bs_scan_window *w, bs_window_fn fn, void *ctx)
{
	if (w->len)
		fn(ctx, w->buf, w->len, w->fresh_from, true);
	bs_window_reset(w);
}

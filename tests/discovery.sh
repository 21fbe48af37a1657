#!/bin/sh
# Fleet discovery without --fleet on crafted maillogs: a fleet of more than
# 64 servers is never judged silently (the summary's first line and the
# report warn, give each server's reason and hint at --fleet); an address
# through which many users log in but that nothing shows serving (a NAT, a
# carrier's CGNAT) is a crowd of clients, not a server.
# Output: TAP.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
bin="$top_builddir/breachscope"
work="$top_builddir/tests/discovery-work"
rm -rf "$work"; mkdir -p "$work/big" "$work/crowd"
. "$top_srcdir/tests/tap.sh"

# Host N (10.9.0.N) relays mail as webN.example.net and 3 users log in to
# IMAP through it: serving, and used by several users.
login() { # HOST-IP USER SEQ
	printf 'Apr 20 08:%02d:00 imap1 dovecot: imap-login: Login: user=<%s@example.net>, method=PLAIN, rip=%s, lip=10.0.2.20, mpid=%d, TLS, session=<s%d>\n' \
		$(($3 % 60)) "$2" "$1" "$3" "$3"
}
relay() { # HOST-IP NAME SEQ: one message the host relayed
	q=$(printf '%06XAB' "$3")
	t=$(printf 'Apr 20 09:%02d:00 relay1 postfix' $(($3 % 60)))
	echo "$t/smtpd[100]: $q: client=$2.example.net[$1]"
	echo "$t/qmgr[101]: $q: from=<news@example.net>, size=700, nrcpt=1 (queue active)"
	echo "$t/smtp[102]: $q: to=<bob@partner.example>, relay=mx.partner.example[198.51.100.25]:25, delay=1, delays=0.1/0/0.3/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok)"
	echo "$t/qmgr[101]: $q: removed"
}
fleet() { # COUNT -> a maillog
	h=1
	while [ "$h" -le "$1" ]; do
		for u in a b c; do login "10.9.0.$h" "user$u$h" "$h"; done
		relay "10.9.0.$h" "web$h" "$h"
		h=$((h + 1))
	done
}
fleet 65 > "$work/big/maillog"
"$bin" analyze -q -j1 -o "$work/big/out" "$work/big/maillog" > "$work/big/stdout" 2>&1
check_status $? "65 servers: analyzed"
first=$(head -1 "$work/big/stdout")
is "65 servers judged" "$(wc -l < "$work/big/out/servers.csv" | tr -d ' ')" 66
check "the summary's first line warns" sh -c "printf '%s' \"\$1\" | grep -q '^servers judged: 65 (WARNING: 65 servers discovered (more than 64): check them or pass --fleet FILE'" - "$first"
check "the summary's first line gives each server's reason" sh -c "printf '%s' \"\$1\" | grep -q 'web65 (10.9.0.65: 3 users, named in the mail logs)'" - "$first"
check "the report warns" grep -q 'WARNING: 65 servers discovered (more than 64): check them or pass --fleet FILE' "$work/big/out/report.html"
check "the report gives each server's reason" grep -q 'web1 (10.9.0.1: 3 users, named in the mail logs)' "$work/big/out/report.html"

# 64 servers: no warning.
fleet 64 > "$work/big/maillog64"
"$bin" analyze -q -j1 -o "$work/big/out64" "$work/big/maillog64" > "$work/big/stdout64" 2>&1
check "64 servers: judged, no warning" grep -q '^servers judged: 64 (discovered: 64 host(s)' "$work/big/stdout64"

# A crowd: 40 users behind one CGNAT address, nothing shows it serving;
# beside it one server named in the mail logs.
{
	fleet 1
	u=1
	while [ "$u" -le 40 ]; do login 100.64.7.9 "cust$u" "$u"; u=$((u + 1)); done
} > "$work/crowd/maillog"
"$bin" analyze -q -j1 -o "$work/crowd/out" "$work/crowd/maillog" > "$work/crowd/stdout" 2>&1
check_status $? "crowd: analyzed"
is "only the serving host is a server" "$(cut -d, -f1 "$work/crowd/out/servers.csv" | sed 1d | tr '\n' ' ')" "web1 "
check "the CGNAT address is no server" sh -c "! grep -q '100.64.7.9' '$work/crowd/out/servers.csv'"
check "the summary names one discovered server" grep -q '^servers judged: 1 (discovered: 1 host(s)' "$work/crowd/stdout"
rm -rf "$work"
done_testing

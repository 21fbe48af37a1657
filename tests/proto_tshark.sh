#!/bin/sh
# proto_tshark.sh - agreement with tshark: the SMTP MAIL FROM / RCPT TO
# addresses, MySQL queries, DNS query names, HTTP request lines and status codes that breachscope's capture
# engine and protocol parsers find must be the ones tshark finds, in the same
# order. On a capture written by tests/mkproto_pcap (DNS over UDP and TCP,
# EDNS, DNSSEC and URI records among its queries), and on captures of DNS
# and HTTP over NFLOG, PPPoE, PPPoE under QinQ tags and MPLS; with `--corpus DIR`, on
# the corpus' DNS captures instead (make check-corpus). TAP output; skipped
# when tshark is absent.

builddir=${top_builddir:-.}
srcdir=${top_srcdir:-.}
helper=$builddir/tests/mkproto_pcap
corpus=
[ "${1:-}" = --corpus ] && corpus=$2
. "$srcdir/tests/tap.sh"

command -v tshark >/dev/null 2>&1 || skip_all "tshark not installed"
[ -x "$helper" ] || skip_all "$helper not built"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/proto_tshark.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# compare NAME OURS THEIRS: one TAP test
compare() {
	if [ ! -s "$2" ] && [ ! -s "$3" ]; then
		fail "$1: no items on either side"
	elif cmp -s "$2" "$3"; then
		pass "$1 ($(wc -l < "$2" | tr -d ' ') items)"
	else
		fail "$1"
		diff "$2" "$3" | head -20 | sed 's/^/# /'
	fi
}

# ours FILE PREFIX: the helper's items of one kind
ours() {
	"$helper" dump "$1" 2>/dev/null | sed -n "s/^$2 //p"
}

if [ -n "$corpus" ]; then
	for f in dns_udp dns_udp_2 dns_tcp dnssec edns-opts dns-uri; do
		p=$corpus/pcap/tcpdump-$f.pcap
		tshark -r "$p" -Y 'dns.flags.response == 0' -T fields -e dns.qry.name 2>/dev/null > "$tmp/c.theirs"
		ours "$p" dns.qry.name > "$tmp/c.ours"
		compare "DNS query names of corpus tcpdump-$f.pcap" "$tmp/c.ours" "$tmp/c.theirs"
	done
	done_testing
	exit
fi

cap=$tmp/proto.pcap
"$helper" write "$cap" || fail "mkproto_pcap cannot write the capture"

# SMTP: tshark gives "MAIL<TAB>FROM:<a> SIZE=1"; keep the address between < >
tshark -r "$cap" -Y 'smtp.req.command == "MAIL" || smtp.req.command == "RCPT"' \
	-T fields -e smtp.req.command -e smtp.req.parameter 2>/dev/null |
	sed -n 's/^MAIL\t[^<]*<\([^>]*\)>.*/smtp.from \1/p; s/^RCPT\t[^<]*<\([^>]*\)>.*/smtp.to \1/p' > "$tmp/smtp.theirs"
"$helper" dump "$cap" 2>/dev/null | grep '^smtp\.' > "$tmp/smtp.ours"
compare "SMTP MAIL FROM / RCPT TO" "$tmp/smtp.ours" "$tmp/smtp.theirs"

tshark -r "$cap" -Y mysql.query -T fields -e mysql.query 2>/dev/null > "$tmp/mysql.theirs"
ours "$cap" mysql.query > "$tmp/mysql.ours"
compare "MySQL queries" "$tmp/mysql.ours" "$tmp/mysql.theirs"

# dns_http CAPTURE LABEL: DNS query names, HTTP request methods and URIs
dns_http() {
	tshark -r "$1" -Y 'dns.flags.response == 0' -T fields -e dns.qry.name 2>/dev/null > "$tmp/dns.theirs"
	ours "$1" dns.qry.name > "$tmp/dns.ours"
	compare "${2}DNS query names" "$tmp/dns.ours" "$tmp/dns.theirs"
	tshark -r "$1" -Y 'http.request' -T fields -e http.request.method -e http.request.uri 2>/dev/null |
		sed 's/\t/ /' > "$tmp/http.theirs"
	ours "$1" http.request > "$tmp/http.ours"
	compare "${2}HTTP request methods and URIs" "$tmp/http.ours" "$tmp/http.theirs"
}

# HTTP that used to end the parse (a method outside the list, leading zeros
# in Content-Length): every request line and status code
dns_http "$cap" ""
tshark -r "$cap" -Y 'http.response' -T fields -e http.response.code 2>/dev/null > "$tmp/httpst.theirs"
ours "$cap" http.response.code > "$tmp/httpst.ours"
compare "HTTP status codes" "$tmp/httpst.ours" "$tmp/httpst.theirs"

# The same DNS names and HTTP requests over the other link layers the
# capture engine reads: NFLOG (its own link type), PPPoE sessions (also
# under 802.1ad + 802.1Q tags) and MPLS label stacks; tshark must see the
# link layer in every frame, as breachscope does.
for link in nflog:nflog pppoe:pppoes qinq-pppoe:vlan.etype==0x8864 mpls:mpls.bottom==1; do
	kind=${link%%:*}
	lcap=$tmp/$kind.pcap
	if ! "$helper" write-link "$kind" "$lcap"; then
		fail "mkproto_pcap cannot write the $kind capture"
		continue
	fi
	all=$(tshark -r "$lcap" 2>/dev/null | wc -l)
	linked=$(tshark -r "$lcap" -Y "${link#*:}" 2>/dev/null | wc -l)
	is "$kind: tshark reads the link layer in every frame" "$linked" "$all"
	dns_http "$lcap" "$kind: "
done

done_testing

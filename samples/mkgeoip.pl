#!/usr/bin/perl
# mkgeoip.pl - build the tiny GeoIP database of the sample incidents from
# samples/geoip/geoip.csv (network,country,asn,organization).
# usage: perl samples/mkgeoip.pl samples/geoip/geoip.csv samples/geoip/sample.mmdb
# (also tests/data/geoip-test.csv -> tests/data/geoip-test.mmdb, the tests' own).
# Needs Debian's libmaxmind-db-writer-perl. One City-like database carries both
# country.iso_code and autonomous_system_number/organization, so a single
# --geoip file gives countries and ASNs.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($in, $out) = @ARGV;
die "usage: $0 geoip.csv sample.mmdb\n" unless $in && $out;

my %types = (
    country                        => 'map',
    iso_code                       => 'utf8_string',
    names                          => 'map',
    en                             => 'utf8_string',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version            => 6,
    record_size           => 24,
    database_type         => 'GeoIP2-City',
    languages             => ['en'],
    description           => { en => 'breachscope sample incident GeoIP (documentation ranges only)' },
    map_key_type_callback => sub { $types{ $_[0] } },
    # IPv4 lives in ::/96; the sample uses documentation ranges only.
    remove_reserved_networks => 0,
    alias_ipv6_to_ipv4    => 1,
);
# Reproducible output: a fixed build time rather than the clock's.
$tree->_set_build_epoch(1178236800);
open my $fh, '<', $in or die "$in: $!\n";
my $header = <$fh>;
while (my $line = <$fh>) {
    chomp $line;
    next if $line =~ /^\s*(#|$)/;
    my ($net, $cc, $asn, $org) = split /,/, $line, 4;
    # An empty country or ASN is left out: the address is unknown to that part
    # (as in a country-only or ASN-only database).
    my %rec;
    $rec{country} = { iso_code => $cc, names => { en => $cc } } if $cc ne '';
    if ($asn ne '') {
        $rec{autonomous_system_number}       = 0 + $asn;
        $rec{autonomous_system_organization} = $org;
    }
    $tree->insert_network($net, \%rec);
}
close $fh;
open my $o, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($o);
close $o or die "$out: $!\n";

#!/usr/bin/perl
# Reads a urlencoded POST body and answers 201 with what it read.
use strict;
use warnings;
my $len = $ENV{CONTENT_LENGTH} || 0;
my $body = '';
read(STDIN, $body, $len) if $len > 0;
my %form = map { my ($k, $v) = split /=/, $_, 2; ($k, $v // '') } split /&/, $body;
print STDERR "form.pl read $len bytes\n";
print "Status: 201 Created\r\n";
print "Content-Type: text/plain\r\n";
print "X-Perl: yes\r\n\r\n";
print "name=$form{name}\n";
print "method=$ENV{REQUEST_METHOD}\n";

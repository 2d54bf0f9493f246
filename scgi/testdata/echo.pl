#!/usr/bin/perl
# An SCGI server on Debian's libscgi-perl that echoes what it received.
# Usage: echo.pl PORT
use strict;
use warnings;
use SCGI;
use IO::Socket::INET;
use Digest::SHA qw(sha256_hex);

my $port = shift or die "usage: $0 PORT\n";
my $socket = IO::Socket::INET->new(
    Listen => 16, ReuseAddr => 1, LocalAddr => '127.0.0.1', LocalPort => $port,
) or die "cannot listen on $port: $!\n";
my $scgi = SCGI->new($socket, blocking => 1);
$| = 1;
print "listening on $port\n";
while (my $request = $scgi->accept) {
    # A port probe connects and closes without a request; carry on.
    eval { serve($request); 1 } or warn "request failed: $@";
}

sub serve {
    my ($request) = @_;
    $request->read_env;
    my $env = $request->env;
    my $body = '';
    my $len = $env->{CONTENT_LENGTH} || 0;
    while (length($body) < $len) {
        my $n = read $request->connection, $body, $len - length($body), length($body);
        last unless $n;
    }
    my $out = join '', map { "$_\n" } (
        "method=" . ($env->{REQUEST_METHOD} // ''),
        "script=" . ($env->{SCRIPT_NAME} // ''),
        "path=" . ($env->{PATH_INFO} // ''),
        "query=" . ($env->{QUERY_STRING} // ''),
        "x-test=" . ($env->{HTTP_X_TEST} // ''),
        "scgi=" . ($env->{SCGI} // ''),
        "len=" . length($body),
        "sha256=" . sha256_hex($body),
    );
    my $c = $request->connection;
    print $c "Status: 200 OK\r\nContent-Type: text/plain\r\nX-Backend: perl\r\n\r\n$out";
    $request->close;
}

#!/bin/sh
# A CGI script for the fcgiwrap interop test.
printf 'Content-Type: text/plain\r\nX-Script: hello\r\n\r\n'
echo "method=$REQUEST_METHOD query=$QUERY_STRING script=$SCRIPT_NAME path_info=$PATH_INFO"
if [ -n "$CONTENT_LENGTH" ] && [ "$CONTENT_LENGTH" -gt 0 ]; then
    head -c "$CONTENT_LENGTH"
fi

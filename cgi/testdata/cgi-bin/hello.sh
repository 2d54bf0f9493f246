#!/bin/sh
# Prints the CGI variables the tests look at.
printf 'Content-Type: text/plain\r\nX-Script: hello\r\n\r\n'
echo "SCRIPT_NAME=$SCRIPT_NAME"
echo "PATH_INFO=$PATH_INFO"
echo "QUERY_STRING=$QUERY_STRING"
echo "REQUEST_METHOD=$REQUEST_METHOD"
echo "SCRIPT_FILENAME=$SCRIPT_FILENAME"
echo "PWD=$(pwd)"

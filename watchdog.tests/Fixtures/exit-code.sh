#!/bin/sh
# Prints to both pipes, then exits with the code given in the query string (?3).
echo "out line"
echo "err line one" >&2
echo "err line two" >&2
exit "${Http_Query:-0}"

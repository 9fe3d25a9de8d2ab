#!/bin/sh
# Streams 1 MiB (past the response buffer), then fails.
head -c 1048576 /dev/zero | tr '\0' 'y'
exit 7

#!/bin/sh
# Writes 1 MiB before reading any input, then counts the input: deadlocks a naive watchdog.
head -c 1048576 /dev/zero | tr '\0' 'x'
echo
wc -c

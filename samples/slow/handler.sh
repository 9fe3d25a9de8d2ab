#!/bin/sh
# Sleeps for the number of seconds in the query string (?5), longer than exec_timeout (2s) allows.
sleep "${Http_Query:-5}"
echo "woke up after ${Http_Query:-5}s"

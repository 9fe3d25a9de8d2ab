#!/bin/sh
# Reads the request from the environment the watchdog sets (docs/watchdog.md#what-the-process-gets).
name=$(printf '%s' "$Http_Query" | sed -n 's/.*name=\([^&]*\).*/\1/p')
echo "Hello, ${name:-world}! You sent a $Http_Method to $Http_Path."

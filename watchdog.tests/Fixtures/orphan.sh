#!/bin/sh
# Leaves a short-lived orphan behind and exits at once.
sh -c 'sleep 0.2' &
echo done

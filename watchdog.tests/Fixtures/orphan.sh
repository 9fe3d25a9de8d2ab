#!/bin/sh
# Leaves an orphan behind, in a session of its own so no group kill reaches it, and exits at
# once: the orphan is re-parented to PID 1, and exits (to be reaped there) once $1/go exists.
setsid sh -c 'while [ ! -e "$1/go" ]; do sleep 0.05; done' orphan "$1" &
echo done

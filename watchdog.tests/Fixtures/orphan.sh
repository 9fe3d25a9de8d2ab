#!/bin/sh
# Leaves an orphan behind, in a session of its own so no group kill reaches it and with its own
# stdio so the call need not wait for it, and exits once the orphan is in that session: the
# orphan is re-parented to PID 1, and exits (to be reaped there) once $1/go exists.
setsid sh -c 'touch "$1/in-session.$$"; while [ ! -e "$1/go" ]; do sleep 0.05; done' orphan "$1" </dev/null >/dev/null 2>&1 &
while [ ! -e "$1/in-session.$!" ]; do sleep 0.01; done
echo done

#!/bin/sh
# Leaves a short-lived orphan behind, in a session of its own so no group kill reaches it,
# and exits at once: the orphan is re-parented to PID 1 and must be reaped there.
setsid sleep 0.3 &
echo done

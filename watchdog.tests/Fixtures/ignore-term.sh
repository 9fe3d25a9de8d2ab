#!/bin/sh
# Ignores SIGTERM, as does its grandchild: only SIGKILL to the whole group stops them.
trap '' TERM
echo $$ > "$Http_X_Pid_Dir/main"
sh -c 'trap "" TERM; sleep 300' &
echo $! > "$Http_X_Pid_Dir/grandchild"
while true; do sleep 1; done

#!/bin/sh
# Starts a daemon in a session of its own (setsid: out of reach of a group kill) that keeps
# stdout and stderr open, waits until it runs, then exits.
echo "$$" > "$Http_X_Pid_Dir/main"
setsid sh -c 'echo $$ > "$Http_X_Pid_Dir/daemon"; exec sleep 300' &
i=0
while [ ! -s "$Http_X_Pid_Dir/daemon" ] && [ "$i" -lt 200 ]; do
  sleep 0.05
  i=$((i + 1))
done
echo finished

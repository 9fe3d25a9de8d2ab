#!/bin/sh
# Records its pid and starts a grandchild that would outlive it; both pids go to $Http_X_Pid_Dir.
echo $$ > "$Http_X_Pid_Dir/main"
sleep 300 &
echo $! > "$Http_X_Pid_Dir/grandchild"
echo started
sleep 300

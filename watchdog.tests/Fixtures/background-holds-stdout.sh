#!/bin/sh
# Exits at once but leaves a background process holding stdout open.
echo "$$" > "$Http_X_Pid_Dir/main"
sleep 300 &
echo $! > "$Http_X_Pid_Dir/grandchild"
echo finished

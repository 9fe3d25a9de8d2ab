#!/bin/sh
# cgi_response=true helper: prints the header lines given in X-Cgi-Head (printf escapes, each
# line ended by \r\n), a blank line, then the body given in X-Cgi-Body (printf escapes too).
# Without X-Cgi-Head it prints just "own answer", so a spec can tell its own reply apart.
if [ -z "$Http_X_Cgi_Head" ]; then
  printf 'own answer'
  exit 0
fi
printf "$Http_X_Cgi_Head"
printf '\r\n'
printf "$Http_X_Cgi_Body"

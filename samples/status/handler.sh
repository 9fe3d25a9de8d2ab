#!/bin/sh
# cgi_response=true: a header block, a blank line, then the body.
printf 'Status: 201 Created\r\n'
printf 'Content-Type: application/json\r\n'
printf 'Location: /items/42\r\n'
printf '\r\n'
printf '{"id":42}\n'

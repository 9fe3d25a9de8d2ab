#!/bin/sh
# Sets status and headers CGI-style.
printf 'Status: 201 Created\r\nContent-Type: application/json\r\nX-Custom: yes\r\n\r\n'
printf '{"created":true}'

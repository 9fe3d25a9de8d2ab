"""Reads JSON from stdin and answers JSON on stdout."""
import json
import sys

request = json.load(sys.stdin)
print(json.dumps({"greeting": f"Hello, {request.get('name', 'world')}!"}))

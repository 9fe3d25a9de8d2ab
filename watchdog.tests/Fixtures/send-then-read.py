"""Python's http.client as users call it: the whole body goes out before the answer is read.

python3 send-then-read.py URL SIZE
  POSTs SIZE bytes of the specs' pattern (PatternStream: byte i is (i mod 251) * 31 mod 251)
  and prints "STATUS LENGTH SHA256" of the answer, or "error NAME MESSAGE".
"""
import hashlib
import http.client
import sys
import urllib.parse

url = urllib.parse.urlsplit(sys.argv[1])
size = int(sys.argv[2])
period = bytes((i * 31) % 251 for i in range(251)) * 1100


def body():
    sent = 0
    while sent < size:
        piece = period[sent % 251:][: min(256 * 1024, size - sent)]
        sent += len(piece)
        yield piece


try:
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    connection.request("POST", url.path or "/", body=body(), headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"})
    response = connection.getresponse()
    digest = hashlib.sha256()
    length = 0
    while True:
        data = response.read(1 << 16)
        if not data:
            break
        digest.update(data)
        length += len(data)
    print(response.status, length, digest.hexdigest())
except Exception as e:  # the spec reads what went wrong
    print("error", type(e).__name__, e)

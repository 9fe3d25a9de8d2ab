# A Flask function written the way OpenFaaS's python3-flask template is: every method and path to
# one handler, served by waitress on the port the image's upstream_url names.
import os
import sys
import time
from urllib.parse import urlparse

from flask import Flask, jsonify, request
from waitress import serve

app = Flask(__name__)
METHODS = ["GET", "PUT", "POST", "PATCH", "DELETE"]


@app.route("/", defaults={"path": ""}, methods=METHODS)
@app.route("/<path:path>", methods=METHODS)
def call_handler(path):
    if path == "slow":
        print("slow: started", file=sys.stderr, flush=True)
        time.sleep(1.5)
        return "slow done"
    return jsonify(
        host=request.host,
        forwardedHost=request.headers.get("X-Forwarded-Host"),
        method=request.method,
        path="/" + path,
        body=request.get_data(as_text=True),
    )


if __name__ == "__main__":
    serve(app, host="127.0.0.1", port=urlparse(os.environ["upstream_url"]).port)

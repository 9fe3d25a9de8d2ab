# The ENV lines of OpenFaaS's python3-flask template (of-watchdog, mode=http), read by
# TemplateHandlerSpecs; python3 is Debian's, with python3-flask and python3-waitress.
ENV fprocess="python3 index.py"
ENV cgi_headers="true"
ENV mode="http"
ENV upstream_url="http://127.0.0.1:5000"

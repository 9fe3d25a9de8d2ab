# The ENV lines of OpenFaaS's node templates (of-watchdog, mode=http), read by TemplateHandlerSpecs.
ENV fprocess="node index.js"
ENV mode="http"
ENV upstream_url="http://127.0.0.1:3000"
ENV exec_timeout="10s"
ENV write_timeout="15s"
ENV read_timeout="15s"
ENV prefix_logs="false"

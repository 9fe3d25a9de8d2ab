// An express function written the way OpenFaaS's node templates are: one app, every method and
// path to one handler, the body as it came, listening on the port the image's upstream_url names.
// Node's default on SIGTERM is to exit, which the templates rely on.
"use strict";
const express = require("express");

const app = express();
app.disable("x-powered-by");
app.use(express.raw({ type: () => true, limit: "10mb" }));

app.all("*", (req, res) => {
  if (req.path === "/slow") {
    console.error("slow: started");
    setTimeout(() => res.type("text/plain").send("slow done"), 1500);
    return;
  }
  res.json({
    host: req.headers.host,
    forwardedHost: req.headers["x-forwarded-host"] || null,
    method: req.method,
    path: req.path,
    body: Buffer.isBuffer(req.body) ? req.body.toString() : "",
  });
});

const port = new URL(process.env.upstream_url).port;
app.listen(port, "127.0.0.1", () => console.log(`node listening on port: ${port}`));

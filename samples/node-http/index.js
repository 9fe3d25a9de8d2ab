// An http-mode function (mode=http): one long-lived server, Node's standard `http` module only.
// It listens where the watchdog proxies to: the address in http_upstream_url, which the
// watchdog's own environment passes down to it.
const http = require("http");

const upstream = new URL(process.env.http_upstream_url || "http://127.0.0.1:3000");

const server = http.createServer((req, res) => {
  const reply = (status, document) => {
    const body = JSON.stringify(document) + "\n";
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  };
  if (req.method === "GET") {
    return reply(200, req.url === "/healthz" ? { status: "ok" } : { greeting: "Hello, world!" });
  }
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    try {
      const text = Buffer.concat(chunks).toString() || "{}";
      reply(200, { greeting: `Hello, ${JSON.parse(text).name || "world"}!` });
    } catch {
      reply(400, { error: 'send JSON like {"name": "Grace"}' });
    }
  });
});

// The watchdog sends SIGTERM once the calls in flight are done: exit promptly.
process.on("SIGTERM", () => server.close(() => process.exit(0)));
server.listen(Number(upstream.port), upstream.hostname, () => console.log(`listening on ${upstream.host}`));

// Usage: node bench/echo-upstream.js PORT. Streams every request body straight back (for the
// 1 GiB mode=http row): back-pressure both ways, nothing held in memory.
const http = require("http");
http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "application/octet-stream" });
  req.pipe(res);
}).listen(Number(process.argv[2]), "127.0.0.1");

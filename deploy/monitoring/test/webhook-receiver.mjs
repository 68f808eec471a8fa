// A local stand-in for Slack's incoming webhooks: listens on 127.0.0.1 (port 0 unless given),
// writes its port to PORT_FILE once listening, and appends every request as one JSON line
// ({path, body}) to LOG_FILE. Answers 200 "ok" like Slack.
//   node webhook-receiver.mjs PORT_FILE LOG_FILE
import { appendFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";

const [portFile, logFile] = process.argv.slice(2);
if (!portFile || !logFile) {
  console.error("usage: node webhook-receiver.mjs PORT_FILE LOG_FILE");
  process.exit(2);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const raw = Buffer.concat(chunks).toString("utf8");
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    appendFileSync(logFile, JSON.stringify({ path: req.url, body }) + "\n");
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
});

server.listen(0, "127.0.0.1", () => {
  writeFileSync(portFile, String(server.address().port));
});

for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));

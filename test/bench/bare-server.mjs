// The baseline: the least a JSON collector can do on this machine. Reads the body, JSON.parses
// it, answers 202 with a small JSON body. Plain JS so no loader cost is measured.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let n = 0;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      n = Array.isArray(body.identities) ? body.identities.length : 0;
    } catch {
      res.writeHead(400).end();
      return;
    }
    const out = JSON.stringify({ status: 'queued', accepted: n, rejected: [] });
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

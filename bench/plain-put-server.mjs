// B6's baseline: what a minimal HTTP front for Redis costs. A node:http server that answers
// `PUT /v1/items/<key>` with one plain `SET <key> <body>` on one ioredis connection, and a small JSON
// reply, as the daemon does. No validation, no hashing, no tree, no CDC. Plain JavaScript, so it runs on
// bare Node as the daemon does. Usage: node bench/plain-put-server.mjs REDIS_URL; prints "listening PORT".
import http from 'node:http';
import { Redis } from 'ioredis';

const redis = new Redis(process.argv[2]);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const key = decodeURIComponent(req.url.slice('/v1/items/'.length));
    redis.set(key, Buffer.concat(chunks)).then(
      () => {
        const body = JSON.stringify({ key });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      },
      (err) => {
        res.writeHead(500);
        res.end(String(err));
      },
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => {
  server.close();
  redis.disconnect();
  process.exit(0);
});

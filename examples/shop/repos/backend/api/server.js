// The example's API: answers its health check and one route, so `docker compose up` can be checked.
import { createServer } from 'node:http';

createServer((request, response) => {
  const body = request.url === '/healthz' ? 'ok' : JSON.stringify({ service: 'api', path: request.url, redis: process.env.REDIS_ADDR });
  response.writeHead(200, { 'content-type': request.url === '/healthz' ? 'text/plain' : 'application/json' });
  response.end(body);
}).listen(8080);

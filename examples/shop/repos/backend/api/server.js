// The example's API: its health check, a visit counter kept in the cache (Redis), and what the
// worker has done, read from the cache too.
import { createServer } from 'node:http';
import { redis } from '../shared/redis.js';

const routes = {
  '/healthz': async () => 'ok',
  '/visits': async () => ({ visits: await redis('INCR', 'shop:visits') }),
  '/worker': async () => ({ beats: Number((await redis('GET', 'shop:worker-beats')) ?? 0) }),
};

createServer(async (request, response) => {
  const path = new URL(request.url, 'http://api').pathname;
  const route = routes[path] ?? (async () => ({ service: 'api', path }));
  try {
    const body = await route();
    response.writeHead(200, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  } catch (error) {
    response.writeHead(503, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: error.message }));
  }
}).listen(8080);

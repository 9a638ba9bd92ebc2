// The example's worker: counts its beats in the cache every 2 seconds, and tells its health check
// it is alive each time that works.
import { writeFileSync } from 'node:fs';
import { redis } from '../shared/redis.js';

const alive = () => writeFileSync('/tmp/alive', String(Date.now()));

setInterval(async () => {
  try {
    await redis('INCR', 'shop:worker-beats');
    alive();
  } catch (error) {
    console.error(`worker: ${error.message}`);
  }
}, 2000);
// Alive at start, so the health check gives the cache time to come up.
alive();

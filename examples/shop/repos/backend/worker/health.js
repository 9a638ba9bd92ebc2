// Healthy while the worker has written its heartbeat in the last 10 seconds.
import { readFileSync } from 'node:fs';

process.exit(Date.now() - Number(readFileSync('/tmp/alive', 'utf8')) < 10_000 ? 0 : 1);

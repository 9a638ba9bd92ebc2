// One size of the push benchmark in a process of its own, so that its memory figures are the
// controller's alone: `tsx bench/push-one.ts SERVICES PUSHES WORK STATE_DIR`; prints one JSON line.
import { fileURLToPath } from 'node:url';
import { benchPush } from './push.js';

const [services, pushes, work, stateDir] = process.argv.slice(2);
const root = fileURLToPath(new URL('..', import.meta.url));
const result = await benchPush(Number(services), { root, work: work!, pushes: Number(pushes), stateDir: stateDir! });
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);

// The example's worker: does nothing but stay up and tell its health check it is alive.
import { writeFileSync } from 'node:fs';

setInterval(() => writeFileSync('/tmp/alive', String(Date.now())), 2000);
writeFileSync('/tmp/alive', String(Date.now()));

// The build step (no dependencies, no network): dist/index.html, and the app script under a name
// that carries a hash of its content, so browsers may cache it for a year.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist/assets', { recursive: true });
const app = readFileSync('src/app.js');
const name = `app.${createHash('sha256').update(app).digest('hex').slice(0, 10)}.js`;
writeFileSync(`dist/assets/${name}`, app);
writeFileSync('dist/index.html', readFileSync('src/index.html', 'utf8').replace('/assets/app.js', `/assets/${name}`));

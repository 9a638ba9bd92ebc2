import { defineService } from 'diploid';

// A monorepo: two services, each with its folder and Dockerfile, and code they share in shared/.
// Both build from the repo's root (the context), so each image copies shared/ beside its own
// folder; a change anywhere in the repo rebuilds both.
export default defineService([
  {
    name: 'api',
    extends: ['node-service'],
    build: { context: '.', dockerfile: 'api/Dockerfile' },
    port: 8080,
  },
  {
    name: 'worker',
    extends: ['node-service'],
    build: { context: '.', dockerfile: 'worker/Dockerfile' },
    command: ['node', 'worker.js'],
    health: { exec: ['node', 'health.js'] },
  },
]);

import { defineService } from 'diploid';

// A monorepo: two services, each owning its folder.
export default defineService([
  {
    name: 'api',
    extends: ['node-service'],
    build: { context: 'api', watch: ['shared'] },
    port: 8080,
  },
  {
    name: 'worker',
    extends: ['node-service'],
    build: { context: 'worker', watch: ['shared'] },
    command: ['node', 'worker.js'],
    health: { exec: ['node', 'health.js'] },
  },
]);

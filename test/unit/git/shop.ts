import { GitRoot, type TestRepo } from '../../support/git-repos.js';

export const OPS_CONFIG = (extra = '') => `import { defineConfig } from 'diploid';

export default defineConfig({
  project: 'shop',
  repos: {
    web: { path: 'shop/web' },
    billing: { path: 'shop/billing' },
    backend: { path: 'shop/backend', services: ['api', 'worker'] },
  },
  registry: { url: 'registry.test/shop' },
  shared: { CURRENCY: 'EUR', LOG_LEVEL: 'info' },
  environments: { production: {}, staging: {} },
  branches: [
    { branch: 'main', environment: 'production' },
    { branch: 'develop', environment: 'staging' },
    { branch: 'feature/*', preview: { mode: 'full', base: 'staging' } },
    { branch: 'single/*', preview: { mode: 'single', base: 'staging', ttl: '3d' } },${extra}
  ],
});
`;

/**
 * The test shop: an ops repo, two service repos (web, billing) and a monorepo (backend: api and
 * worker, each owning its folder and watching `shared/`). Every repo has `main` and `develop`
 * unless told otherwise.
 */
export function createShop(options: { withoutDevelop?: readonly string[]; config?: string } = {}) {
  const root = new GitRoot();
  const ops = root.repo('ops', {
    '.diploid.conf.js': options.config ?? OPS_CONFIG(),
    'services/cache.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'cache', image: 'redis:7', ports: { redis: { port: 6379, protocol: 'tcp' } } });\n`,
    'services/billing.js': `import { defineService, shared } from 'diploid';\nexport default defineService({ name: 'billing', env: { CURRENCY: shared('CURRENCY') } });\n`,
    'README.md': '# ops\n',
  });
  const web = root.repo('shop/web', {
    'diploid.service.js': `import { defineService, ref } from 'diploid';\nexport default defineService({ name: 'web', build: {}, port: 8080, env: { API_URL: ref('api').url } });\n`,
    Dockerfile: 'FROM nginx\nCOPY . /usr/share/nginx/html\n',
    'index.html': '<h1>shop</h1>\n',
  });
  const billing = root.repo('shop/billing', {
    'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'billing', build: { context: 'app' }, port: 9000 });\n`,
    'app/Dockerfile': 'FROM alpine\n',
    'app/main.sh': 'echo billing\n',
  });
  const backend = root.repo('shop/backend', {
    'diploid.service.js': `import { defineService, ref, shared } from 'diploid';
export default defineService([
  { name: 'api', build: { context: 'api', watch: ['shared'] }, port: 8080, env: { LOG_LEVEL: shared('LOG_LEVEL') } },
  { name: 'worker', build: { context: 'worker', watch: ['shared'] }, env: { API_URL: ref('api').url } },
]);
`,
    'api/Dockerfile': 'FROM node:20\n',
    'api/index.js': 'console.log("api v1")\n',
    'worker/Dockerfile': 'FROM node:20\n',
    'worker/index.js': 'console.log("worker v1")\n',
    'shared/util.js': 'export const x = 1\n',
    'README.md': '# backend\n',
  });
  const repos: Record<string, TestRepo> = { ops, web, billing, backend };
  for (const [name, repo] of Object.entries(repos)) {
    if (options.withoutDevelop?.includes(name)) continue;
    repo.git('branch', 'develop');
  }
  return { root, ...repos, ops, web, billing, backend };
}

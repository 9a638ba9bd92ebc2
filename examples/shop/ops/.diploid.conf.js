// @ts-check
import { defineConfig, secret } from 'diploid';

export default defineConfig({
  project: 'shop',
  git: {
    hosts: {
      gitlab: { provider: 'gitlab', url: 'https://gitlab.example.com', user: 'diploid-bot', token: { env: 'GITLAB_TOKEN' } },
    },
  },
  ops: { path: 'shop/ops' },
  repos: {
    web: { path: 'shop/web', local: '../repos/web' },
    backend: { path: 'shop/backend', local: '../repos/backend', services: ['api', 'worker'] },
    billing: { path: 'shop/billing', local: '../repos/billing' },
  },
  registry: { url: 'registry.example.com/shop', pullSecret: 'registry-credentials' },
  ingress: { domain: 'shop.example.com', className: 'nginx', tls: { issuer: 'letsencrypt' } },
  shared: {
    LOG_LEVEL: 'info',
    CURRENCY: 'EUR',
    DATABASE_PASSWORD: secret('shop-db', 'password'),
  },
  fragments: {
    'node-service': {
      env: { NODE_ENV: 'production', LOG_LEVEL: { $shared: 'LOG_LEVEL' } },
      resources: { cpu: '100m..500m', memory: '128Mi..256Mi' },
      health: { http: '/healthz' },
    },
  },
  environments: {
    development: { namespace: 'shop-dev', domain: 'dev.shop.example.com', shared: { LOG_LEVEL: 'debug' }, defaults: { replicas: 1 } },
    staging: { domain: 'staging.shop.example.com' },
    production: {
      domain: 'shop.example.com',
      services: { api: { replicas: { min: 3, max: 10, cpu: 70 } }, web: { replicas: 2 } },
    },
  },
  branches: [
    { branch: 'main', environment: 'production' },
    { branch: 'develop', environment: 'staging' },
    { branch: 'release/*', environment: 'staging' },
    { branch: 'feature/*', preview: { mode: 'single', base: 'staging', ttl: '7d' } },
  ],
});

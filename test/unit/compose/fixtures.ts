import type { ResolvedApp, ResolvedPort, ResolvedService } from '../../../src/resolve/model.js';

export const http8080: ResolvedPort = { name: 'http', port: 8080, servicePort: 8080, protocol: 'http' };

/** A plain, valid service; tests override what they look at. */
export function service(name: string, overrides: Partial<ResolvedService> = {}): ResolvedService {
  return {
    name,
    sources: [`services/${name}.js`],
    image: { kind: 'pull', ref: `example/${name}:1` },
    ports: [http8080],
    env: [],
    replicas: { kind: 'fixed', count: 1 },
    resources: {},
    health: {},
    volumes: [],
    files: [],
    routes: [],
    spa: false,
    placement: 'default',
    serviceAccount: { kind: 'none' },
    security: { runAsNonRoot: true, runAsUser: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, addCapabilities: [] },
    after: [],
    references: [],
    labels: {},
    containerName: name,
    sidecars: [],
    init: [],
    tasks: [],
    schedules: [],
    annotations: {},
    podLabels: {},
    podAnnotations: {},
    ...overrides,
  };
}

export function app(services: readonly ResolvedService[], overrides: Partial<ResolvedApp> = {}): ResolvedApp {
  return {
    project: 'demo',
    environment: { name: 'test', namespace: 'demo-test', ownsNamespace: true, domain: 'demo.test' },
    ingress: { api: 'ingress' },
    images: { utility: 'busybox:1.36', static: 'nginx:1', node: 'node:20-alpine' },
    services: [...services].sort((a, b) => a.name.localeCompare(b.name)),
    ...overrides,
  };
}

import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Synthetic apps for the benchmarks: the same N services x M environments written twice, once as
 * a diploid ops repo and once as a cdk8s-plus app, so that both tools compile the same thing.
 *
 * Every service is a realistic web service: an image, two named ports, five environment
 * variables (a shared value, literals and the addresses of two other services), a config file
 * that names its environment, a public route, resources and an HTTP health check.
 */
export interface AppShape {
  readonly services: number;
  readonly environments: number;
}

/** Names of the synthetic environments: `production` alone, or `env-00`.. for several. */
export function environmentNames(count: number): string[] {
  return count === 1 ? ['production'] : Array.from({ length: count }, (_, i) => `env-${String(i).padStart(2, '0')}`);
}

export function serviceName(index: number): string {
  return `svc-${String(index).padStart(4, '0')}`;
}

/** The two services a service talks to; deterministic, so runs and tools see the same graph. */
export function upstreams(index: number, count: number): [string, string] {
  return [serviceName((index * 7 + 1) % count), serviceName((index * 13 + 5) % count)];
}

const DOMAIN = 'bench.example.com';
const REGISTRY = 'registry.example.com/bench';

function configFile(shape: AppShape): string {
  const environments = environmentNames(shape.environments)
    .map((name) => `    '${name}': { namespace: 'bench-${name}', domain: '${name}.${DOMAIN}' },`)
    .join('\n');
  return `import { defineConfig } from 'diploid';

export default defineConfig({
  project: 'bench',
  registry: { url: '${REGISTRY}' },
  ingress: { domain: '${DOMAIN}', className: 'nginx' },
  shared: { LOG_LEVEL: 'info', REGION: 'eu-west-1' },
  environments: {
${environments}
  },
  branches: [{ branch: 'main', environment: '${environmentNames(shape.environments)[0]}' }],
});
`;
}

/** One diploid service file; `revision` changes the image tag, to make a push for the plan benchmark. */
export function serviceFile(index: number, shape: AppShape, revision = 0): string {
  const name = serviceName(index);
  const [a, b] = upstreams(index, shape.services);
  return `import { defineService, ref, shared } from 'diploid';

export default defineService({
  name: '${name}',
  image: '${REGISTRY}/${name}:1.${revision}.${index}',
  ports: { http: 8080, metrics: 9090 },
  replicas: 2,
  env: {
    LOG_LEVEL: shared('LOG_LEVEL'),
    MAX_CONNECTIONS: '100',
    FEATURES: 'search,checkout,reviews',
    UPSTREAM_A: ref('${a}').address,
    UPSTREAM_B: ref('${b}').address,
  },
  files: {
    '/etc/${name}/app.conf': \`[app]
name = ${name}
environment = {{ environment }}
region = {{ shared.REGION }}
upstream = {{ services.${a}.address }}
\`,
  },
  routes: ['${name}'],
  resources: { cpu: '100m..500m', memory: '128Mi..256Mi' },
  health: { http: '/healthz' },
});
`;
}

/** Writes the diploid ops repo for `shape` into `dir` (emptied first). */
export function writeOpsRepo(dir: string, shape: AppShape): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'services'), { recursive: true });
  writeFileSync(join(dir, '.diploid.conf.js'), configFile(shape));
  for (let i = 0; i < shape.services; i++) writeFileSync(join(dir, 'services', `${serviceName(i)}.js`), serviceFile(i, shape));
}

function cdk8sServiceModule(index: number, shape: AppShape): string {
  const name = serviceName(index);
  const [a, b] = upstreams(index, shape.services);
  return `import * as kplus from 'cdk8s-plus-31';
import { Size } from 'cdk8s';
import { address } from '../lib.mjs';

export function define(chart, env) {
  const files = new kplus.ConfigMap(chart, '${name}-files', {
    metadata: { name: '${name}-files' },
    data: {
      'app.conf': \`[app]
name = ${name}
environment = \${env.name}
region = \${env.shared.REGION}
upstream = \${address('${a}')}
\`,
    },
  });
  const deployment = new kplus.Deployment(chart, '${name}', {
    metadata: { name: '${name}' },
    replicas: 2,
    containers: [{
      name: '${name}',
      image: '${REGISTRY}/${name}:1.0.${index}',
      ports: [{ name: 'http', number: 8080 }, { name: 'metrics', number: 9090 }],
      envVariables: {
        LOG_LEVEL: kplus.EnvValue.fromValue(env.shared.LOG_LEVEL),
        MAX_CONNECTIONS: kplus.EnvValue.fromValue('100'),
        FEATURES: kplus.EnvValue.fromValue('search,checkout,reviews'),
        UPSTREAM_A: kplus.EnvValue.fromValue(address('${a}')),
        UPSTREAM_B: kplus.EnvValue.fromValue(address('${b}')),
      },
      resources: {
        cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
        memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) },
      },
      readiness: kplus.Probe.fromHttpGet('/healthz', { port: 8080 }),
      liveness: kplus.Probe.fromHttpGet('/healthz', { port: 8080 }),
      securityContext: { ensureNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
    }],
  });
  deployment.containers[0].mount('/etc/${name}', kplus.Volume.fromConfigMap(chart, '${name}-files-volume', files));
  const service = deployment.exposeViaService({
    name: '${name}',
    ports: [{ name: 'http', port: 8080, targetPort: 8080 }, { name: 'metrics', port: 9090, targetPort: 9090 }],
  });
  new kplus.Ingress(chart, '${name}-route', {
    metadata: { name: '${name}', annotations: { 'kubernetes.io/ingress.class': 'nginx' } },
    rules: [{ host: '${name}.' + env.domain, path: '/', pathType: kplus.HttpIngressPathType.PREFIX, backend: kplus.IngressBackend.fromService(service, { port: 8080 }) }],
  });
}
`;
}

function cdk8sMain(shape: AppShape): string {
  const names = Array.from({ length: shape.services }, (_, i) => serviceName(i));
  const imports = names.map((name, i) => `import { define as s${i} } from './services/${name}.mjs';`).join('\n');
  const environments = environmentNames(shape.environments).map((name) => `  { name: '${name}', namespace: 'bench-${name}', domain: '${name}.${DOMAIN}', shared: { LOG_LEVEL: 'info', REGION: 'eu-west-1' } },`);
  return `import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-31';
${imports}

const services = [${names.map((_, i) => `s${i}`).join(', ')}];
const environments = [
${environments.join('\n')}
];

const app = new App({ outdir: process.argv[2] ?? 'dist' });
for (const env of environments) {
  const chart = new Chart(app, env.name, { namespace: env.namespace, labels: { 'app.kubernetes.io/part-of': 'bench' } });
  new kplus.Namespace(chart, 'namespace', { metadata: { name: env.namespace } });
  for (const define of services) define(chart, env);
}
app.synth();
`;
}

/**
 * Writes the equivalent cdk8s-plus app into `dir` (emptied first): one module per service, and a
 * main module with a Chart per environment. `nodeModules` is linked in so that it resolves cdk8s.
 */
export function writeCdk8sApp(dir: string, shape: AppShape, nodeModules: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'services'), { recursive: true });
  symlinkSync(nodeModules, join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  writeFileSync(join(dir, 'lib.mjs'), `/** A service's in-cluster address, as diploid's ref('name').address yields it. */\nexport const address = (name) => \`\${name}:8080\`;\n`);
  writeFileSync(join(dir, 'main.mjs'), cdk8sMain(shape));
  for (let i = 0; i < shape.services; i++) writeFileSync(join(dir, 'services', `${serviceName(i)}.mjs`), cdk8sServiceModule(i, shape));
}

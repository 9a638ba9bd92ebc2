/**
 * The pure parts of `diploid up`: the bed's copy of an ops repo (the example's own config imported
 * by an overlay, evaluated by the real loader and compiled by the real backend), the choice of
 * environment and branch, the Secrets rendered objects read, and the routes of Ingresses.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileKubernetes } from '../../src/backends/kubernetes/index.js';
import { environmentAndBranch } from '../../src/cli/up/example.js';
import { ingressRoutes } from '../../src/cli/up/follow.js';
import { BASE_CONFIG_FILE, overlayConfig } from '../../src/cli/up/overlay.js';
import { secretsReadBy } from '../../src/cli/up/prepare.js';
import { readStandIns } from '../../src/cli/up/stand-ins.js';
import { UserError } from '../../src/errors.js';
import type { ConfigSpec } from '../../src/model/config.js';
import { planTargets } from '../../src/plan/targets.js';
import { environmentNames, resolveApp } from '../../src/resolve/index.js';
import { loadOpsDir } from '../../src/sources/load-dir.js';
import { SHOP_EXAMPLE } from '../support/golden.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The bed's copy of the shop's ops repo, as `up` pushes it. */
function bedCopy(environment = 'production'): string {
  const dir = mkdtempSync(join(tmpdir(), 'diploid-up-ops-'));
  dirs.push(dir);
  cpSync(join(SHOP_EXAMPLE, 'ops'), dir, { recursive: true });
  cpSync(join(dir, '.diploid.conf.js'), join(dir, BASE_CONFIG_FILE));
  writeFileSync(join(dir, '.diploid.conf.js'), overlayConfig({ gitUrl: 'http://10.244.0.1:4000', registry: '10.244.0.1:5000', ingressClass: 'traefik', domain: 'shop.localhost', resync: '15s', environment }));
  return dir;
}

describe("the bed's copy of the shop's ops repo", () => {
  it('keeps the services and points the git host, registry and ingress at the bed, for one environment', async () => {
    const { sources, problems } = await loadOpsDir(bedCopy(), { reposDir: join(SHOP_EXAMPLE, 'repos') });
    expect(problems).toEqual([]);
    expect(environmentNames(sources).sort()).toEqual(['development', 'production', 'staging']);
    const app = resolveApp(sources, { environment: 'production' });
    expect(app.services.map((service) => service.name).sort()).toEqual(['api', 'billing', 'cache', 'log-agent', 'web', 'worker']);
    const objects = compileKubernetes(app).objects;
    const ingresses = objects.filter((object) => object.kind === 'Ingress') as unknown as Array<{ spec: { ingressClassName: string; tls?: unknown; rules: Array<{ host: string }> } }>;
    expect(ingresses.map((ingress) => ingress.spec.rules[0]?.host).sort()).toEqual(['api.production.shop.localhost', 'production.shop.localhost']);
    expect(ingresses.every((ingress) => ingress.spec.ingressClassName === 'traefik' && ingress.spec.tls === undefined)).toBe(true);
    const images = JSON.stringify(objects.filter((object) => object.kind === 'Deployment'));
    expect(images).toContain('"image":"10.244.0.1:5000/shop/api:');
    expect(images).not.toContain('registry.example.com/shop');
    // The vendor's image is the example's own: the bed resolves it to a stand-in.
    expect(images).toContain('"image":"registry.example.com/vendor/billing:4.2"');
    // The example's own file is there, unchanged.
    expect(sources.config.value).toMatchObject({ project: 'shop', controller: { resync: '15s' }, git: { hosts: { bed: { url: 'http://10.244.0.1:4000' } } }, branches: [
      { branch: 'main', environment: 'production' },
      { branch: 'diploid-up-not-deployed/development/*', environment: 'development' },
      { branch: 'diploid-up-not-deployed/staging/*', environment: 'staging' },
    ] });
  });

  it('deploys only the environment brought up: a push to main plans no other', async () => {
    const { sources } = await loadOpsDir(bedCopy('staging'), { reposDir: join(SHOP_EXAMPLE, 'repos') });
    const config = sources.config.value as ConfigSpec;
    const plan = planTargets({ config, configFile: '.diploid.conf.js', push: { repo: 'ops', branch: 'develop', after: 'a'.repeat(40) }, pushedRepo: { branches: new Set(['develop']), defaultBranch: 'develop' } });
    expect(plan.targets.map((target) => target.name)).toEqual(['staging']);
    const ingress = compileKubernetes(resolveApp(sources, { environment: 'staging' })).objects.find((object) => object.kind === 'Ingress' && object.metadata?.name === 'web') as unknown as { spec: { rules: Array<{ host: string }> } };
    expect(ingress.spec.rules[0]?.host).toBe('staging.shop.localhost');
  });
});

describe('diploid up, pure parts', () => {
  const config = { project: 'shop', environments: { production: {}, staging: {} }, branches: [{ branch: 'develop', environment: 'staging' }, { branch: 'main', environment: 'production' }, { branch: 'feature/*', preview: { mode: 'single', base: 'staging' } }] } as unknown as ConfigSpec;

  it('brings up the environment main deploys to, or the one asked for, with the branch that feeds it', () => {
    expect(environmentAndBranch(config, undefined, 'ops/.diploid.conf.js')).toEqual({ environment: 'production', branch: 'main' });
    expect(environmentAndBranch(config, 'staging', 'ops/.diploid.conf.js')).toEqual({ environment: 'staging', branch: 'develop' });
    expect(() => environmentAndBranch(config, 'qa', 'ops/.diploid.conf.js')).toThrow(new UserError('ops/.diploid.conf.js: no environment "qa"; environments: production, staging'));
    const fedByNone = { ...config, branches: [{ branch: 'release/*', environment: 'staging' }] } as unknown as ConfigSpec;
    expect(() => environmentAndBranch(fedByNone, 'staging', 'c.js')).toThrow(/c\.js branches: no branch feeds environment "staging"/);
  });

  it('finds every Secret and key that rendered objects read', () => {
    const objects = [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api' }, spec: { template: { spec: {
        containers: [{ env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'shop-db', key: 'password' } } }], envFrom: [{ secretRef: { name: 'all' } }] }],
        volumes: [{ name: 'v', secret: { secretName: 'tls', items: [{ key: 'crt' }] } }],
      } } } },
    ];
    const found = secretsReadBy(objects);
    expect([...found.entries()].map(([name, keys]) => [name, [...keys]])).toEqual([['shop-db', ['password']], ['all', []], ['tls', ['crt']]]);
  });

  it('lists routes with the ingress port, each URL with its Host', () => {
    const routes = ingressRoutes([{ metadata: { name: 'web', labels: { 'app.kubernetes.io/name': 'web' } }, spec: { rules: [{ host: 'production.shop.localhost', http: { paths: [{ path: '/', pathType: 'Prefix', backend: {} }] } }] } }], 'http://127.0.0.1:45199');
    expect(routes).toEqual([{ service: 'web', host: 'production.shop.localhost', path: '/', url: 'http://production.shop.localhost:45199/' }]);
    expect(ingressRoutes([{ metadata: { name: 'a' }, spec: { tls: [{}], rules: [{ host: 'a.example.com' }] } }], undefined)[0]?.url).toBe('https://a.example.com/');
  });

  it("reads the example's stand-in images, and says what a bad file should hold", () => {
    expect(readStandIns(SHOP_EXAMPLE)).toEqual({ 'registry.example.com/vendor/billing:4.2': { repo: 'billing', context: 'vendor-image' } });
    const dir = mkdtempSync(join(tmpdir(), 'diploid-up-standins-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'bed-images.json'), JSON.stringify({ 'x/y:1': { repo: 'billing' } }));
    expect(() => readStandIns(dir)).toThrow(new UserError(`${join(dir, 'bed-images.json')}: x/y:1.context: Invalid input: expected string, received undefined; expected { "IMAGE": { "repo": NAME, "context": FOLDER } }`));
  });
});

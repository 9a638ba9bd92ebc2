import { describe, expect, it } from 'vitest';
import { compileKubernetes } from '../../../src/backends/kubernetes/index.js';
import type { DeployResult } from '../../../src/cluster/deploy.js';
import { inventoryOf } from '../../../src/cluster/environment-inventory.js';
import type { DesiredEnvironment } from '../../../src/controller/desired.js';
import { EnvironmentReport } from '../../../src/controller/environment-report.js';
import { reportPhase, type RunContext } from '../../../src/controller/environment-run.js';
import { HISTORY_LIMIT } from '../../../src/controller/history.js';
import { noopStatusReporter } from '../../../src/controller/reporter.js';
import { parseStatus, statusConfigMap, type EnvironmentStatus } from '../../../src/controller/status.js';
import type { StatusStore } from '../../../src/controller/status-store.js';
import type { EnvironmentPlan, Push } from '../../../src/plan/types.js';
import { resolveApp, type AppSources } from '../../../src/resolve/index.js';

/** The statuses as the ConfigMap store would hold them: each put goes through the ConfigMap's text and back. */
class ConfigMapTextStore implements StatusStore {
  readonly data = new Map<string, Record<string, string>>();
  async list() {
    return [...this.data.values()].map((data) => parseStatus(data)!);
  }
  async get(environment: string) {
    const data = this.data.get(environment);
    return data === undefined ? undefined : parseStatus(data);
  }
  async put(status: EnvironmentStatus) {
    this.data.set(status.environment, statusConfigMap('diploid-system', status).data as Record<string, string>);
  }
  async delete(environment: string) {
    this.data.delete(environment);
  }
  /** Bytes of the ConfigMap's data as the API server would store it. */
  bytes(environment: string): number {
    return Buffer.byteLength(JSON.stringify(this.data.get(environment)));
  }
}

/** `count` services, the benchmark's shape: a route and two ports each; `tag(i)` is service i's image tag. */
function sources(count: number, tag: (i: number) => string): AppSources {
  return {
    config: { file: '.diploid.conf.js', value: { project: 'bench', ingress: { domain: 'bench.example.com' }, environments: { production: {} } } },
    services: Array.from({ length: count }, (_, i) => {
      const name = `svc-${String(i).padStart(4, '0')}`;
      return { document: { file: `services/${name}.js`, value: { name, image: `registry.example.com/bench/${name}:${tag(i)}`, ports: { http: 8080, metrics: 9090 }, routes: [name] } }, origin: { kind: 'ops' as const } };
    }),
  };
}

/**
 * `deploys` successful deploys of `count` services through the report phase the controller runs,
 * each status written to and read back from its ConfigMap's text; `tag(deploy, i)` is service i's
 * image tag at that deploy. Returns the store and the images each deploy ran, newest first.
 */
async function deployAll(count: number, deploys: number, tag: (deploy: number, i: number) => string): Promise<{ store: ConfigMapTextStore; ran: Record<string, string>[] }> {
  const store = new ConfigMapTextStore();
  const ran: Record<string, string>[] = [];
  const plan: EnvironmentPlan = { name: 'production', namespace: 'bench-production', branch: 'main', reason: 'push', action: 'update', builds: [], deploy: [], remove: [], reuse: [], problems: [] };
  for (let deploy = 1; deploy <= deploys; deploy++) {
    const app = resolveApp(sources(count, (i) => tag(deploy, i)), { environment: 'production' });
    const { objects } = compileKubernetes(app);
    ran.unshift(Object.fromEntries(app.services.map((service) => [service.name, service.image.ref])));
    const desired: DesiredEnvironment = { app, objects, builds: [], revision: `rev-${deploy}`, warnings: [], annotate: (list) => list };
    const result: DeployResult = { applied: [], pruned: [], failures: [], drifted: [], inventory: inventoryOf(objects) };
    const after = `${deploy}`.padStart(40, '0');
    const push: Push = { repo: 'ops', branch: 'main', after };
    const previous = await store.get('production');
    const report = new EnvironmentReport(plan, push, previous, store, noopStatusReporter, () => new Date());
    const context = { plan, push, resync: false, previous, report } as unknown as RunContext;
    const fields = { environment: 'production', namespace: 'bench-production', repo: 'ops', commit: after, commits: { ops: after }, ...(previous?.history === undefined ? {} : { history: previous.history }), updatedAt: new Date().toISOString() };
    await reportPhase(context, desired, fields, result, 0);
  }
  return { store, ran };
}

const MiB = 1024 * 1024;

describe('the status of an environment of 1000 services', () => {
  it('fits a ConfigMap (1 MiB) after more deploys than the history keeps', async () => {
    const { store } = await deployAll(1000, 12, (deploy, i) => `1.${deploy}.${i}`);
    const status = (await store.get('production'))!;
    expect(status.history).toHaveLength(10);
    expect(Object.keys(status.images ?? {})).toHaveLength(1000);
    expect(store.bytes('production')).toBeLessThan(MiB);
  });
});

describe('the status of an environment of 3000 services with a full history', () => {
  it('one service changed per push: every entry keeps all its images, and the status is about one image list, not ten', async () => {
    // Push d changes service d's image only, as the benchmark pushes do.
    const { store, ran } = await deployAll(3000, HISTORY_LIMIT + 2, (deploy, i) => (i < deploy ? `2.${i}` : '1.0'));
    const status = (await store.get('production'))!;
    expect(status.history).toHaveLength(HISTORY_LIMIT);
    // Read back from the ConfigMap, each entry names every service's image as that deploy ran it.
    expect(status.history!.map((entry) => entry.images)).toEqual(ran.slice(0, HISTORY_LIMIT));
    expect(status.history!.map((entry) => entry.revision)).toEqual(Array.from({ length: HISTORY_LIMIT }, (_, n) => `rev-${HISTORY_LIMIT + 2 - n}`));
    const bytes = store.bytes('production');
    // The image list alone, pretty-printed as the status is: the history adds little to it.
    const oneList = Buffer.byteLength(JSON.stringify(status.images, null, 2));
    expect(bytes).toBeLessThan(oneList * 1.5);
    expect(bytes).toBeLessThan(MiB / 2);
  });

  it('every image changed at every push: still well under 1 MiB; the newest entries keep their images, older ones their commits', async () => {
    const { store, ran } = await deployAll(3000, HISTORY_LIMIT + 2, (deploy, i) => `1.${deploy}.${i}`);
    const status = (await store.get('production'))!;
    expect(status.history).toHaveLength(HISTORY_LIMIT);
    expect(store.bytes('production')).toBeLessThan(0.75 * MiB);
    const kept = status.history!.filter((entry) => entry.images !== undefined);
    // The newest always; then as many as the budget holds, newest first, each exactly as deployed.
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(status.history!.slice(0, kept.length)).toEqual(kept);
    expect(kept.map((entry) => entry.images)).toEqual(ran.slice(0, kept.length));
    // An entry without images still names the commits a rollback renders again.
    for (const entry of status.history!) expect(entry.commits.ops).toMatch(/^0+\d+$/);
  });
});

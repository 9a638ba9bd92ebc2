import { describe, expect, it } from 'vitest';
import { compileKubernetes } from '../../../src/backends/kubernetes/index.js';
import type { DeployResult } from '../../../src/cluster/deploy.js';
import { inventoryOf } from '../../../src/cluster/environment-inventory.js';
import type { DesiredEnvironment } from '../../../src/controller/desired.js';
import { EnvironmentReport } from '../../../src/controller/environment-report.js';
import { reportPhase, type RunContext } from '../../../src/controller/environment-run.js';
import { noopStatusReporter } from '../../../src/controller/reporter.js';
import { statusConfigMap, type EnvironmentStatus } from '../../../src/controller/status.js';
import type { StatusStore } from '../../../src/controller/status-store.js';
import type { EnvironmentPlan, Push } from '../../../src/plan/types.js';
import { resolveApp, type AppSources } from '../../../src/resolve/index.js';

/** The statuses as the ConfigMap store would hold them, kept in memory: what is measured is what would be written. */
class MemoryStore implements StatusStore {
  readonly statuses = new Map<string, EnvironmentStatus>();
  async list() {
    return [...this.statuses.values()];
  }
  async get(environment: string) {
    return this.statuses.get(environment);
  }
  async put(status: EnvironmentStatus) {
    this.statuses.set(status.environment, status);
  }
  async delete(environment: string) {
    this.statuses.delete(environment);
  }
}

/** 1000 services, the benchmark's shape: a route and two ports each; `version` changes every image. */
function sources(version: number): AppSources {
  return {
    config: { file: '.diploid.conf.js', value: { project: 'bench', ingress: { domain: 'bench.example.com' }, environments: { production: {} } } },
    services: Array.from({ length: 1000 }, (_, i) => {
      const name = `svc-${String(i).padStart(4, '0')}`;
      return { document: { file: `services/${name}.js`, value: { name, image: `registry.example.com/bench/${name}:1.${version}.${i}`, ports: { http: 8080, metrics: 9090 }, routes: [name] } }, origin: { kind: 'ops' as const } };
    }),
  };
}

describe('the status of an environment of 1000 services', () => {
  it('fits a ConfigMap (1 MiB) after more deploys than the history keeps', async () => {
    const store = new MemoryStore();
    const plan: EnvironmentPlan = { name: 'production', namespace: 'bench-production', branch: 'main', reason: 'push', action: 'update', builds: [], deploy: [], remove: [], reuse: [], problems: [] };
    for (let deploy = 1; deploy <= 12; deploy++) {
      const app = resolveApp(sources(deploy), { environment: 'production' });
      const { objects } = compileKubernetes(app);
      const desired: DesiredEnvironment = { app, objects, builds: [], revision: `rev-${deploy}`, warnings: [], annotate: (list) => list };
      const result: DeployResult = { applied: [], pruned: [], failures: [], drifted: [], inventory: inventoryOf(objects) };
      const push: Push = { repo: 'ops', branch: 'main', after: `${deploy}`.padStart(40, '0') };
      const previous = await store.get('production');
      const report = new EnvironmentReport(plan, push, previous, store, noopStatusReporter, () => new Date());
      const context = { plan, push, resync: false, previous, report } as unknown as RunContext;
      const fields = { environment: 'production', namespace: 'bench-production', repo: 'ops', commit: push.after, ...(previous?.history === undefined ? {} : { history: previous.history }), updatedAt: new Date().toISOString() };
      await reportPhase(context, desired, fields, result, 0);
    }
    const status = (await store.get('production'))!;
    expect(status.history).toHaveLength(10);
    expect(Object.keys(status.images ?? {})).toHaveLength(1000);
    const bytes = Buffer.byteLength(JSON.stringify(statusConfigMap('diploid-system', status).data));
    expect(bytes).toBeLessThan(1024 * 1024);
  });
});

/**
 * The controller's side of a DaemonSet and a StatefulSet restored to their previous revision
 * (real-node-rollout-sets.test.ts proves the restore through `diploid apply`): the controller's real
 * path (signed push, queue, reconciler, deployer) deploys a repo with both kinds on the bed's real
 * node, then a push whose new revision never becomes ready. The environment is Stalled with
 * `RolloutFailed`, whose message, in the status and in the notification a real receiver gets,
 * says that each was restored to revision 1 and runs again; the pods answer with version 1.
 */
import * as k8s from '@kubernetes/client-node';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebhookNotifier } from '../../src/controller/notify.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { condition } from '../../src/controller/status.js';
import { GitRoot } from '../support/git-repos.js';
import { startNotificationReceiver } from '../support/notification-receiver.js';
import { ControllerHarness } from './controller-harness.js';
import { appSpec, http, pods, realNodeNamespace } from './real-node-app.js';
import { eventually, freshGitRepoUrl, freshNamespace, kubeConfig, uniqueSuffix } from './testbed.js';

const readiness = { health: { readiness: { http: '/healthz', period: 2, failureThreshold: 1 } } };

/** The app repo: a DaemonSet (`one-per-host`) and a StatefulSet (volumes, two replicas), at `version`. */
function appRepo(version: string, env: Record<string, string> = {}): Record<string, string> {
  const services = [
    appSpec('agent', { security: { runAsUser: 1000 }, placement: 'one-per-host', ...readiness }, { VERSION: version, ...env }),
    appSpec('store', { security: { runAsUser: 1000 }, replicas: 2, volumes: { '/data': { size: '1Gi' } }, ...readiness }, { VERSION: version, ...env }),
  ];
  return { 'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService(${JSON.stringify(services, null, 2)});\n` };
}

/** The versions the ready pods of a service answer with, asked over HTTP from the host. */
async function answeringVersions(namespace: string, service: string): Promise<string[]> {
  const ready = (await pods(namespace, service)).filter((pod) => pod.metadata?.deletionTimestamp === undefined && pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  const versions: string[] = [];
  for (const pod of ready) versions.push((JSON.parse((await http(`http://${pod.status?.podIP}:8080/`)).body) as { version: string }).version);
  return versions.sort();
}

describe('the controller, when a DaemonSet and a StatefulSet are restored to their previous revision on a real node', () => {
  it('reports RolloutFailed saying each was restored and runs again, in its status and its notification, and version 1 answers', async () => {
    const namespace = await realNodeNamespace('ctl-sets');
    const system = await freshNamespace('ctl-sets-system');
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    // The bed has no storage provisioner: a host folder per claim, as an administrator would.
    for (const ordinal of [0, 1]) {
      const name = `pv-${namespace}-${ordinal}`;
      await core.createPersistentVolume({
        body: { metadata: { name }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: mkdtempSync(join(tmpdir(), 'ctl-sets-pv-')) }, claimRef: { namespace, name: `data-store-${ordinal}` } } },
      });
      onTestFinished(async () => {
        await core.deletePersistentVolume({ name }).catch(() => undefined);
      });
    }

    const root = new GitRoot();
    const opsUrl = freshGitRepoUrl('ops');
    const appUrl = freshGitRepoUrl('app');
    const ops = root.repo('ops', {
      '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: 'sets${uniqueSuffix()}',
  repos: { app: { path: 'team/app', services: ['agent', 'store'] } },
  environments: { test: { namespace: '${namespace}' } },
  branches: [{ branch: 'main', environment: 'test' }],
});
`,
    });
    const app = root.repo('app', appRepo('1'));
    ops.git('push', '-q', opsUrl, 'main');
    app.git('push', '-q', appUrl, 'main');

    // A real receiver on loopback for the controller's notifications.
    const receiver = await startNotificationReceiver();
    onTestFinished(() => receiver.close());
    const notifier = new WebhookNotifier(receiver.url);
    const controller = new ControllerHarness({ ops: opsUrl, urls: { app: appUrl }, hooked: { app: 'team/app' }, namespace: system.name, cacheDir: root.cache, deployTimeoutMs: 30_000, notifier });
    await controller.start();
    onTestFinished(() => controller.stop());
    await controller.waitForLog(/^test: deployed/, 0, 240_000);
    expect(await answeringVersions(namespace, 'agent')).toEqual(['1']);
    expect(await answeringVersions(namespace, 'store')).toEqual(['1', '1']);

    // Version 2 never becomes ready.
    const previous = app.head();
    const next = app.commit('never ready', appRepo('2', { READY: 'fail' }));
    app.git('push', '-q', appUrl, 'main');
    const mark = controller.logs.length;
    expect((await controller.push('app', `sets-${uniqueSuffix()}`, { ref: 'refs/heads/main', before: previous, after: next })).status).toBe(202);
    const line = await controller.waitForLog(/^test: stalled \(RolloutFailed\)/, mark, 240_000);
    const daemonSetText = /DaemonSet [\w-]+\/agent: .*?Readiness probe failed: HTTP probe failed with statuscode: 500; a DaemonSet stops the old pod on a host before its new one starts, so diploid restored revision 1, which runs again/;
    const statefulSetText = /StatefulSet [\w-]+\/store: .*?Readiness probe failed: HTTP probe failed with statuscode: 500; a StatefulSet replaced a pod that never became ready and would wait on it forever, so diploid restored revision 1, which runs again/;
    expect(line).toMatch(/the rollout failed; the previous version keeps serving: /);
    expect(line).toMatch(daemonSetText);
    expect(line).toMatch(statefulSetText);

    // The status the operator reads says the same.
    const saved = await new ConfigMapStatusStore(kubeConfig(), system.name).get('test');
    const stalled = condition(saved, 'Stalled');
    expect(stalled).toMatchObject({ status: 'True', reason: 'RolloutFailed' });
    expect(stalled?.message).toMatch(daemonSetText);
    expect(stalled?.message).toMatch(statefulSetText);

    // So does the notification.
    const failed = await eventually('the failure notification', async () => receiver.received.find((item) => item.diploid.kind === 'failed'), 30_000, 200);
    expect(failed.text).toBe(`:x: test: failed at app@${next.slice(0, 12)} (RolloutFailed)`);
    expect(failed.diploid.message).toMatch(daemonSetText);
    expect(failed.diploid.message).toMatch(statefulSetText);

    // Both run version 1 again, and only version 1 answers.
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const version = (spec: k8s.V1PodTemplateSpec | undefined) => spec?.spec?.containers[0]?.env?.find((variable) => variable.name === 'VERSION')?.value;
    expect(version((await apps.readNamespacedDaemonSet({ name: 'agent', namespace })).spec?.template)).toBe('1');
    expect(version((await apps.readNamespacedStatefulSet({ name: 'store', namespace })).spec?.template)).toBe('1');
    expect(await eventually('agent answering with version 1 only', async () => ((await answeringVersions(namespace, 'agent')).join() === '1' ? true : undefined), 60_000, 500)).toBe(true);
    expect(await eventually('store answering with version 1 only', async () => ((await answeringVersions(namespace, 'store')).join() === '1,1' ? true : undefined), 60_000, 500)).toBe(true);
  }, 600_000);
});

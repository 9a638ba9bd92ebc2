/**
 * DaemonSets and StatefulSets whose new revision never becomes ready, on the bed's real node and
 * seen from the host through Traefik: neither kind can keep its old pods through such a rollout
 * (a DaemonSet stops a host's old pod first; a StatefulSet's replaced pod stays broken, and its
 * controller waits on it forever), so `diploid apply` restores the previous revision by itself,
 * says so, and the previous version answers again.
 */
import * as k8s from '@kubernetes/client-node';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { apply, appService, http, opsConfig, pods, realNodeNamespace } from './real-node-app.js';
import { eventually, kubeConfig, requireIngress } from './testbed.js';

const readiness = { health: { readiness: { http: '/healthz', period: 2, failureThreshold: 1 } } };

async function hostOf(namespace: string, service: string): Promise<string> {
  const networking = kubeConfig().makeApiClient(k8s.NetworkingV1Api);
  return (await networking.readNamespacedIngress({ name: service, namespace })).spec?.rules?.[0]?.host ?? '';
}

/** The version the app answers with through the ingress, or undefined while nothing answers. */
async function versionThroughIngress(host: string): Promise<string | undefined> {
  const response = await http(`${requireIngress().url}/`, { headers: { host } }).catch(() => undefined);
  return response?.status === 200 ? (JSON.parse(response.body) as { version: string }).version : undefined;
}

/** Ten answers through the ingress, each waited for: the set of versions seen. */
async function versionsSeen(host: string): Promise<string[]> {
  const seen = new Set<string>();
  for (let i = 0; i < 10; i++) seen.add(await eventually('an answer through the ingress', () => versionThroughIngress(host), 60_000, 500));
  return [...seen];
}

function versionOf(pod: k8s.V1Pod): string | undefined {
  return pod.spec?.containers[0]?.env?.find((variable) => variable.name === 'VERSION')?.value;
}

describe('a DaemonSet whose new revision never becomes ready, on a real node', () => {
  it('is restored to its previous revision by `diploid apply`, which says so, and the previous version answers again', async () => {
    const namespace = await realNodeNamespace('rn-ds');
    const agent = (version: string, env: Record<string, string> = {}) =>
      appService('agent', { security: { runAsUser: 1000 }, placement: 'one-per-host', routes: ['agent'], ...readiness }, { VERSION: version, ...env });

    const first = await apply({ '.diploid.conf.js': opsConfig(namespace), 'services/agent.js': agent('1') });
    expect(first.code, first.stderr).toBe(0);
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const daemonSet = await apps.readNamespacedDaemonSet({ name: 'agent', namespace });
    // One pod, on the real node only.
    expect(daemonSet.status?.desiredNumberScheduled).toBe(1);
    const host = await hostOf(namespace, 'agent');
    expect(await versionsSeen(host)).toEqual(['1']);

    const second = await apply({ '.diploid.conf.js': opsConfig(namespace), 'services/agent.js': agent('2', { READY: 'fail' }) }, 30);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('DaemonSet');
    expect(second.stderr).toMatch(/Readiness probe failed: HTTP probe failed with statuscode: 500/);
    expect(second.stderr).toMatch(/a DaemonSet stops the old pod on a host before its new one starts, so diploid restored revision 1, which runs again/);

    // The DaemonSet runs version 1 again, and only version 1 answers.
    const restored = await apps.readNamespacedDaemonSet({ name: 'agent', namespace });
    expect(restored.spec?.template.spec?.containers[0]?.env?.find((variable) => variable.name === 'VERSION')?.value).toBe('1');
    expect(await versionsSeen(host)).toEqual(['1']);
    const running = await pods(namespace, 'agent');
    expect(running.map(versionOf)).toEqual(['1']);
  });
});

describe('a StatefulSet whose new revision never becomes ready, on a real node', () => {
  it('keeps its untouched pods serving during the rollout, then is restored by `diploid apply`, which says so', async () => {
    const namespace = await realNodeNamespace('rn-sts');
    // Persistent volumes and two replicas make diploid choose a StatefulSet; the bed has no
    // provisioner, so the test provisions a host folder per claim, as an administrator would.
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    for (const ordinal of [0, 1]) {
      const name = `pv-${namespace}-${ordinal}`;
      await core.createPersistentVolume({
        body: {
          metadata: { name },
          spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: mkdtempSync(join(tmpdir(), 'rn-sts-pv-')) }, claimRef: { namespace, name: `data-app-${ordinal}` } },
        },
      });
      onTestFinished(async () => {
        await core.deletePersistentVolume({ name }).catch(() => undefined);
      });
    }
    const app = (version: string, env: Record<string, string> = {}) =>
      appService('app', { security: { runAsUser: 1000 }, replicas: 2, routes: ['app'], volumes: { '/data': { size: '1Gi' } }, ...readiness }, { VERSION: version, ...env });

    const first = await apply({ '.diploid.conf.js': opsConfig(namespace), 'services/app.js': app('1') }, 120);
    expect(first.code, first.stderr).toBe(0);
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    expect((await apps.readNamespacedStatefulSet({ name: 'app', namespace })).spec?.volumeClaimTemplates?.[0]?.metadata?.name).toBe('data');
    const host = await hostOf(namespace, 'app');
    expect(await versionsSeen(host)).toEqual(['1']);

    // While the failing rollout runs, app-0 (untouched: the controller replaces app-1 first and
    // stops there) keeps answering with version 1.
    let applying = true;
    const during: (string | undefined)[] = [];
    const watcher = (async () => {
      while (applying) {
        during.push(await versionThroughIngress(host));
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    const second = await apply({ '.diploid.conf.js': opsConfig(namespace), 'services/app.js': app('2', { READY: 'fail' }) }, 30);
    applying = false;
    await watcher;
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('StatefulSet');
    expect(second.stderr).toMatch(/Readiness probe failed: HTTP probe failed with statuscode: 500/);
    expect(second.stderr).toMatch(/a StatefulSet replaced a pod that never became ready and would wait on it forever, so diploid restored revision 1, which runs again/);
    expect(during.filter((version) => version !== undefined).length).toBeGreaterThan(during.length / 2);
    expect(new Set(during.filter((version) => version !== undefined))).toEqual(new Set(['1']));

    // Both pods run version 1 again, ready.
    const restored = await apps.readNamespacedStatefulSet({ name: 'app', namespace });
    expect(restored.status?.readyReplicas).toBe(2);
    expect((await pods(namespace, 'app')).map(versionOf).sort()).toEqual(['1', '1']);
    expect(await versionsSeen(host)).toEqual(['1']);
  });
});

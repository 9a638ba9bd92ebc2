/**
 * Rollouts and health checks on the bed's real node, seen from the host through the bed's
 * ingress controller (Traefik) the way a user sees them: a new revision that never becomes ready
 * leaves the old one serving, and a failing liveness check restarts the container.
 */
import * as k8s from '@kubernetes/client-node';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { apply, appService, http, opsConfig, pods, readyPodIp, realNodeNamespace, report } from './real-node-app.js';
import { eventually, kubeConfig, requireIngress } from './testbed.js';

const asNodeUser = { security: { runAsUser: 1000 } };

/** GET through Traefik with the host of the service's Ingress. */
async function throughIngress(namespace: string, service: string, path = '/', headers: Record<string, string> = {}, method = 'GET') {
  const networking = kubeConfig().makeApiClient(k8s.NetworkingV1Api);
  const host = (await networking.readNamespacedIngress({ name: service, namespace })).spec?.rules?.[0]?.host ?? '';
  return http(`${requireIngress().url}${path}`, { method, headers: { host, ...headers } });
}

describe('a Deployment whose new revision never becomes ready, on a real node', () => {
  it('keeps the old pods serving over HTTP, and `diploid apply` names the reason', async () => {
    const namespace = await realNodeNamespace('rn-rollout');
    const service = (version: string, env: Record<string, string> = {}) => appService('app', {
      ...asNodeUser,
      replicas: 2,
      routes: ['app'],
      health: { readiness: { http: '/healthz', period: 2, failureThreshold: 1 } },
    }, { VERSION: version, ...env });

    const first = await apply({ '.diploid.conf.js': opsConfig(namespace), 'services/app.js': service('1') });
    expect(first.code, first.stderr).toBe(0);
    const v1 = await eventually('version 1 through the ingress', async () => {
      const response = await throughIngress(namespace, 'app');
      return response.status === 200 ? (JSON.parse(response.body) as { version: string }) : undefined;
    }, 60_000, 500);
    expect(v1.version).toBe('1');

    const second = await apply({ '.diploid.conf.js': opsConfig(namespace), 'services/app.js': service('2', { READY: 'fail' }) }, 30);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('the rollout of test failed; the previous version keeps running');
    expect(second.stderr).toContain('Deployment');
    expect(second.stderr).toMatch(/Readiness probe failed: HTTP probe failed with statuscode: 500/);

    // Every request still reaches a ready pod of version 1.
    const versions = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const response = await throughIngress(namespace, 'app');
      expect(response.status).toBe(200);
      versions.add((JSON.parse(response.body) as { version: string }).version);
    }
    expect([...versions]).toEqual(['1']);
    // The new revision's pod runs, but is never ready.
    const running = await pods(namespace, 'app');
    expect(running.some((pod) => pod.spec?.containers[0]?.env?.some((e) => e.name === 'VERSION' && e.value === '2'))).toBe(true);
  });
});

describe('a Recreate Deployment whose new revision never becomes ready, on a real node', () => {
  it('is restored to its previous revision, which answers again, and `diploid apply` says so', async () => {
    const namespace = await realNodeNamespace('rn-recreate');
    // A persistent volume makes diploid choose Recreate; the bed has no provisioner, so the
    // test provisions a host folder statically, as an administrator would.
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const folder = mkdtempSync(join(tmpdir(), 'rn-pv-'));
    const volume = `pv-${namespace}`;
    await core.createPersistentVolume({
      body: {
        metadata: { name: volume },
        spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: folder }, claimRef: { namespace, name: 'app-data' } },
      },
    });
    onTestFinished(async () => {
      await core.deletePersistentVolume({ name: volume }).catch(() => undefined);
    });
    const service = (version: string, env: Record<string, string> = {}) => appService('app', {
      ...asNodeUser,
      routes: ['app'],
      volumes: { '/data': { size: '1Gi' } },
      health: { readiness: { http: '/healthz', period: 2, failureThreshold: 1 } },
    }, { VERSION: version, ...env });

    const first = await apply({ '.diploid.conf.js': opsConfig(namespace), 'services/app.js': service('1') });
    expect(first.code, first.stderr).toBe(0);
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    expect((await apps.readNamespacedDeployment({ name: 'app', namespace })).spec?.strategy?.type).toBe('Recreate');

    const second = await apply({ '.diploid.conf.js': opsConfig(namespace), 'services/app.js': service('2', { READY: 'fail' }) }, 30);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/Readiness probe failed: HTTP probe failed with statuscode: 500/);
    expect(second.stderr).toMatch(/a Recreate Deployment keeps no old pods, so diploid restored revision 1, which runs again/);

    // Version 1 answers again through the ingress, and only version 1.
    const versions = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const response = await eventually('an answer through the ingress', async () => {
        const answer = await throughIngress(namespace, 'app');
        return answer.status === 200 ? answer : undefined;
      }, 30_000, 500);
      versions.add((JSON.parse(response.body) as { version: string }).version);
    }
    expect([...versions]).toEqual(['1']);
  });
});

describe('a failing liveness check on a real node', () => {
  it('restarts the container', async () => {
    const namespace = await realNodeNamespace('rn-liveness');
    const result = await apply({
      '.diploid.conf.js': opsConfig(namespace),
      // Alive for 6 s after each start, then /livez fails.
      'services/app.js': appService('app', {
        ...asNodeUser,
        health: { readiness: { http: '/healthz', period: 2 }, liveness: { http: '/livez', period: 2, failureThreshold: 1 } },
      }, { LIVE_FOR: '6' }),
    });
    expect(result.code, result.stderr).toBe(0);
    const firstStart = (await report(await readyPodIp(namespace, 'app'))).startedAt;

    const restarted = await eventually('a restart of the app container', async () => {
      const [pod] = await pods(namespace, 'app');
      const status = pod?.status?.containerStatuses?.find((container) => container.name === 'app');
      return (status?.restartCount ?? 0) >= 1 ? status : undefined;
    }, 90_000, 1_000);
    expect(restarted.lastState?.terminated?.exitCode).toBeDefined();
    // The same pod, a new process.
    const again = await eventually('the restarted app answering', async () => {
      const seen = await report(await readyPodIp(namespace, 'app'));
      return seen.startedAt > firstStart ? seen : undefined;
    }, 60_000, 500);
    expect(again.startedAt).toBeGreaterThan(firstStart);
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'reason=Unhealthy' });
    expect(events.items.some((event) => event.message?.startsWith('Liveness probe failed'))).toBe(true);
  });
});

describe('the cors preset through Traefik on a real node', () => {
  it('answers a preflight for the allowed origin with its headers, and not for another origin', async () => {
    const namespace = await realNodeNamespace('rn-cors');
    const origin = 'http://web.example.test';
    const result = await apply({
      '.diploid.conf.js': opsConfig(namespace),
      'services/api.js': appService('api', { ...asNodeUser, routes: ['api'], cors: { origins: [origin], credentials: true } }),
    });
    expect(result.code, result.stderr).toBe(0);
    const preflight = (from: string) => throughIngress(namespace, 'api', '/', { origin: from, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' }, 'OPTIONS');

    const allowed = await eventually('the preflight answered by Traefik', async () => {
      const response = await preflight(origin);
      return response.headers['access-control-allow-origin'] === undefined ? undefined : response;
    }, 60_000, 500);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(origin);
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect(String(allowed.headers['access-control-allow-methods'])).toContain('PUT');
    expect(String(allowed.headers['access-control-allow-headers']).toLowerCase()).toContain('content-type');

    const other = await preflight('http://elsewhere.example.test');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    // A plain request from the allowed origin reaches the app and carries the header too. Traefik
    // answers a preflight itself, so it may do so before its provider has the pod's endpoints:
    // the first GET can still get a 502 there, which is Traefik's catching up, not the rollout's.
    const get = await eventually('a GET through Traefik reaching the app', async () => {
      const response = await throughIngress(namespace, 'api', '/', { origin });
      return response.status === 502 ? undefined : response;
    }, 30_000, 250);
    expect(get.status).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBe(origin);
  });
});

/**
 * What diploid renders, run by a real kubelet in real containers (the bed's real node), and
 * observed over HTTP from the host: the hardened defaults, `after`, and config files whose
 * secrets are filled in inside the pod.
 */
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apply, appService, opsConfig, podGet, pods, readyPodIp, realNodeNamespace, report } from './real-node-app.js';
import { kubeConfig } from './testbed.js';

/** The node image runs as root like the original; a user gives such images a user of their own. */
const asNodeUser = { security: { runAsUser: 1000 } };

describe('hardened defaults on a real node', () => {
  it('run the app as a non-root user, with a read-only root file system, no capabilities and no privilege escalation', async () => {
    const namespace = await realNodeNamespace('rn-hardened');
    const result = await apply({ '.diploid.conf.js': opsConfig(namespace), 'services/app.js': appService('app', asNodeUser) });
    expect(result.code, result.stderr).toBe(0);

    const seen = await report(await readyPodIp(namespace, 'app'));
    expect(seen.uid).toBe(1000);
    expect(seen.rootWrite).toBe('EROFS');
    // The scratch /tmp diploid adds to a read-only root file system is writable.
    expect(seen.tmpWrite).toBe('ok');
    expect(seen.capEff).toBe('0000000000000000');
    expect(seen.noNewPrivs).toBe('1');
  });

  it('refuse an image that would run as root, and `diploid apply` says why', async () => {
    const namespace = await realNodeNamespace('rn-root');
    const result = await apply({ '.diploid.conf.js': opsConfig(namespace), 'services/app.js': appService('app') }, 30);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the rollout of test failed; the previous version keeps running');
    expect(result.stderr).toMatch(/container app CreateContainerConfigError: container has runAsNonRoot and image will run as root/);
  });
});

describe('`after` on a real node', () => {
  it('holds a pod until its dependency answers, found by its service name through cluster DNS', async () => {
    const namespace = await realNodeNamespace('rn-after');
    const result = await apply({
      '.diploid.conf.js': opsConfig(namespace),
      // db takes 15 s before it listens; app waits for it.
      'services/db.js': appService('db', { ...asNodeUser, health: { readiness: { http: '/healthz', period: 1 } } }, { LISTEN_AFTER: '15' }),
      'services/app.js': appService('app', { ...asNodeUser, after: ['db'] }),
    }, 120);
    expect(result.code, result.stderr).toBe(0);

    const db = await report(await readyPodIp(namespace, 'db'));
    const app = await report(await readyPodIp(namespace, 'app'));
    expect(app.startedAt).toBeGreaterThanOrEqual(db.listeningAt);
    // The wait step's own output, read through the API server from the kubelet.
    const [pod] = await pods(namespace, 'app');
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const log = await core.readNamespacedPodLog({ name: pod?.metadata?.name ?? '', namespace, container: 'wait-for-db' });
    expect(log).toContain('waiting for db:8080');
  });
});

describe('config files on a real node', () => {
  it('hold their rendered values, with the secret filled in inside the pod and in no object', async () => {
    const namespace = await realNodeNamespace('rn-files');
    const password = randomBytes(12).toString('hex');
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'app-db' }, stringData: { password } } });
    const ini = '[app]\nenvironment = {{ environment }}\n\n[database]\npassword = {{ secrets.app-db.password }}\n';
    const result = await apply({
      '.diploid.conf.js': opsConfig(namespace),
      'services/app.js': appService('app', { ...asNodeUser, files: { '/etc/app/app.ini': ini } }),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain(password);

    const ip = await readyPodIp(namespace, 'app');
    const file = await podGet(ip, '/file?path=/etc/app/app.ini');
    expect(file.status).toBe(200);
    expect((JSON.parse(file.body) as { content: string }).content).toBe(`[app]\nenvironment = test\n\n[database]\npassword = ${password}\n`);

    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const objects = [
      ...(await core.listNamespacedConfigMap({ namespace })).items,
      ...(await apps.listNamespacedDeployment({ namespace })).items,
      ...(await core.listNamespacedPod({ namespace })).items,
    ];
    expect(JSON.stringify(objects)).not.toContain(password);
  });
});

/**
 * `diploid logs` on the bed: the API server reads each pod's logs from its node, which here is
 * kwok answering the kubelet's log endpoint with the lines of one file (the bed's
 * `kwok-logs/container.log`, which this test appends to). So what is real is the whole path
 * from the CLI through the API server to the node; the lines themselves come from that file.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { conditionsFor } from '../../src/controller/status.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { runCli, writeOpsRepo } from '../support/ops-repo.js';
import { eventually, freshNamespace, isNotFound, kubeConfig, requireKubernetes, testbed, uniqueSuffix, type TestNamespace } from './testbed.js';

const project = `logs${uniqueSuffix()}`;
const namespace = `${project}-production`;
let system: TestNamespace | undefined;

afterAll(async () => {
  await kubeConfig().makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: namespace }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await system?.delete();
});

describe('diploid logs', { timeout: 180_000 }, () => {
  it('shows a service\'s logs across all its pods, each line with its pod, and a build\'s logs', async () => {
    const kubeconfig = requireKubernetes().kubeconfig;
    const marker = `line-${uniqueSuffix()}`;
    appendFileSync(join(testbed().stateDir, 'kubernetes', 'kwok-logs', 'container.log'), `2026-11-29T04:00:00.000000000Z stdout F ${marker} served\n`);
    const dir = writeOpsRepo({
      '.diploid.conf.js': `import { defineConfig } from 'diploid';\nexport default defineConfig({ project: '${project}', environments: { production: {} } });\n`,
      'services/web.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080, replicas: 2 });\n`,
    });
    expect((await runCli(['apply', dir, '--env', 'production', '--kubeconfig', kubeconfig, '--timeout', '90'])).code).toBe(0);
    // The status the controller would have written, so `--env` finds the namespace.
    system = await freshNamespace('logs-system');
    const now = new Date().toISOString();
    await new ConfigMapStatusStore(kubeConfig(), system.name).put({ environment: 'production', namespace, updatedAt: now, conditions: conditionsFor('ready', 'Succeeded', 'deployed', now) });
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const pods = await eventually('two running pods', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=web' });
      const running = list.items.filter((pod) => pod.status?.phase === 'Running').map((pod) => pod.metadata?.name ?? '').sort();
      return running.length === 2 ? running : undefined;
    }, 60_000);

    const run = await runCli(['logs', 'web', '--env', 'production', '--kubeconfig', kubeconfig, '--namespace', system.name]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const pod of pods) expect(run.stdout).toContain(`[${pod}] ${marker} served\n`);
    const asJson = await runCli(['logs', 'web', '--env', 'production', '--tail', '1', '-o', 'json', '--kubeconfig', kubeconfig, '--namespace', system.name]);
    expect(JSON.parse(asJson.stdout)).toEqual({ service: 'web', environment: 'production', pods: pods.map((pod) => ({ pod, text: `${marker} served\n` })) });
    const none = await runCli(['logs', 'nope', '--env', 'production', '--kubeconfig', kubeconfig, '--namespace', system.name]);
    expect(none).toMatchObject({ code: 1, stderr: `error: no pods of service nope in namespace ${namespace}\n` });

    // A build: the newest Job labelled for the service, in the controller's namespace.
    await kubeConfig().makeApiClient(k8s.BatchV1Api).createNamespacedJob({
      namespace: system.name,
      body: { metadata: { name: 'build-web-1', labels: { 'diploid.dev/build': 'web' } }, spec: { template: { metadata: { labels: { 'diploid.dev/build': 'web' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'build', image: 'busybox:1.36' }] } } } },
    });
    const buildPod = await eventually('the build pod', async () => {
      const list = await core.listNamespacedPod({ namespace: system!.name, labelSelector: 'diploid.dev/build=web' });
      const pod = list.items.find((item) => item.status?.phase === 'Running' || item.status?.phase === 'Succeeded');
      return pod?.metadata?.name;
    }, 60_000);
    expect(buildPod).toBeDefined();
    const build = await runCli(['logs', 'web', '--build', '--kubeconfig', kubeconfig, '--namespace', system.name]);
    expect(build.stderr).toMatch(new RegExp(`^build Job ${system.name}/build-web-1: (running|complete)\n$`));
    expect(build.stdout).toContain(`${marker} served\n`);
  });
});

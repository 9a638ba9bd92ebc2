/**
 * `diploid diff` against the bed's API server: after `diploid apply`, a changed ops repo shows the
 * fields that would change, the objects to create and to prune (by inventory), exits 1, and
 * changes nothing; an unchanged one exits 0. A hand edit in the cluster shows as a difference.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, writeOpsRepo } from '../support/ops-repo.js';
import { isNotFound, kubeConfig, requireKubernetes, uniqueSuffix } from './testbed.js';

const project = `diff${uniqueSuffix()}`;
const namespace = `${project}-production`;
const config = `import { defineConfig } from 'diploid';\nexport default defineConfig({ project: '${project}', environments: { production: {} } });\n`;
const svc = (name: string, body: string) => `import { defineService } from 'diploid';\nexport default defineService({ name: '${name}', image: 'busybox:1.36', port: 8080, ${body} });\n`;

afterAll(async () => {
  await kubeConfig().makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: namespace }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
});

describe('diploid diff', { timeout: 180_000 }, () => {
  it('shows what an apply would change, create and prune, exits 1, and changes nothing; 0 when in step', async () => {
    const kubeconfig = requireKubernetes().kubeconfig;
    const first = writeOpsRepo({ '.diploid.conf.js': config, 'services/web.js': svc('web', "env: { VERSION: 'v1' }, resources: { cpu: '200m', memory: '64Mi' }"), 'services/old.js': svc('old', '') });
    const fresh = await runCli(['diff', first, '--env', 'production', '--kubeconfig', kubeconfig]);
    expect(fresh.code).toBe(1);
    expect(fresh.stdout).toContain(`+ Namespace ${namespace} (create)\n`);
    expect(fresh.stdout).toContain(`+ Deployment ${namespace}/web (create)\n`);
    const applied = await runCli(['apply', first, '--env', 'production', '--kubeconfig', kubeconfig, '--timeout', '90']);
    expect(applied.code).toBe(0);

    const same = await runCli(['diff', first, '--env', 'production', '--kubeconfig', kubeconfig]);
    expect(same.stderr).toBe('');
    expect(same).toMatchObject({ code: 0 });
    expect(same.stdout).toMatch(/^production: no difference \(\d+ objects as rendered\)\n$/);

    // 0.2 CPU is what the server keeps for 200m: a dry run normalises, so this is no change.
    const next = writeOpsRepo({ '.diploid.conf.js': config, 'services/web.js': svc('web', "env: { VERSION: 'v2' }, resources: { cpu: '0.2', memory: '64Mi' }"), 'services/api.js': svc('api', '') });
    const changed = await runCli(['diff', next, '--env', 'production', '--kubeconfig', kubeconfig]);
    expect(changed.stderr).toBe('');
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain(`+ Deployment ${namespace}/api (create)\n`);
    expect(changed.stdout).toContain(`~ Deployment ${namespace}/web\n    spec.template.spec.containers[0].env[0].value: "v1" -> "v2"\n`);
    expect(changed.stdout).not.toContain('resources');
    expect(changed.stdout).toContain(`- Deployment ${namespace}/old (prune: no longer rendered)\n`);
    expect(changed.stdout).toContain(`- Service ${namespace}/old (prune: no longer rendered)\n`);
    expect(changed.stdout).toMatch(/\nproduction: 2 to create, 1 to change, 2 to prune, \d+ unchanged\n$/);
    const json = await runCli(['diff', next, '--env', 'production', '--kubeconfig', kubeconfig, '-o', 'json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ environment: 'production', namespace, different: true, change: [{ object: `Deployment ${namespace}/web`, fields: [{ path: 'spec.template.spec.containers[0].env[0].value', before: 'v1', after: 'v2' }] }] });

    // A dry run: nothing moved.
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const web = await apps.readNamespacedDeployment({ name: 'web', namespace });
    expect(web.spec?.template.spec?.containers[0]?.env?.[0]?.value).toBe('v1');
    await expect(apps.readNamespacedDeployment({ name: 'api', namespace })).rejects.toSatisfy(isNotFound);
    await apps.readNamespacedDeployment({ name: 'old', namespace });

    // Someone scales by hand: diff shows the managed field going back.
    await apps.patchNamespacedDeploymentScale({ name: 'web', namespace, body: { spec: { replicas: 3 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const drift = await runCli(['diff', first, '--env', 'production', '--kubeconfig', kubeconfig]);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain(`~ Deployment ${namespace}/web\n    spec.replicas: 3 -> 1\n`);
  });
});

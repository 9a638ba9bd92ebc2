/**
 * `diploid apply` applies the add-ons of the environment's cluster before the environment, as the
 * controller does, sharing its inventory: on the bed's real API server, through the CLI.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { readInventory } from '../../src/cluster/inventory.js';
import { crdManifest } from '../support/addon-manifests.js';
import { runCli, writeOpsRepo } from '../support/ops-repo.js';
import { isNotFound, kubeConfig, requireKubernetes, serviceAccountConfig, uniqueSuffix } from './testbed.js';

const suffix = uniqueSuffix();
const project = `aa${suffix}`;
const production = `${project}-production`;
const controllerNamespace = `aa-system-${suffix}`;
const group = `a${suffix}.example.com`;
const addonNs = `boxes-${suffix}`;

const CONFIG = `import { defineConfig } from 'diploid';
export default defineConfig({ project: '${project}', controller: { namespace: '${controllerNamespace}' }, environments: { production: {} } });
`;
const SERVICE = `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080 });\n`;
const NAMESPACE = `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${addonNs} }\n`;
const BOX = `apiVersion: ${group}/v1\nkind: Box\nmetadata: { name: big, namespace: ${addonNs} }\nspec: { size: 3 }\n`;

const opsRepo = (addons: Record<string, string>) => writeOpsRepo({ '.diploid.conf.js': CONFIG, 'services/web.js': SERVICE, ...addons });
const boxes = () => kubeConfig().makeApiClient(k8s.CustomObjectsApi);
const readBox = () => boxes().getNamespacedCustomObject({ group, version: 'v1', namespace: addonNs, plural: 'boxes', name: 'big' });

const teamNamespaces: string[] = [];

afterAll(async () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const name of [production, addonNs, controllerNamespace, ...teamNamespaces]) await core.deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await kubeConfig().makeApiClient(k8s.ApiextensionsV1Api).deleteCustomResourceDefinition({ name: `boxes.${group}` }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
});

describe('diploid apply and the add-ons', { timeout: 180_000 }, () => {
  it('applies the CRD before its custom resource and both before the environment, records them where the controller would, and prunes a removed one', async () => {
    const { kubeconfig } = requireKubernetes();
    const all = opsRepo({ 'addons/crd.yaml': crdManifest(group, 'Box', 'boxes'), 'addons/ns.yaml': NAMESPACE, 'addons/box.yaml': BOX });
    const first = await runCli(['apply', all, '--env', 'production', '--kubeconfig', kubeconfig, '--no-wait']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const lines = first.stdout.trim().split('\n');
    const at = (line: string) => lines.indexOf(line);
    expect(at(`created CustomResourceDefinition boxes.${group} (add-on)`)).toBeGreaterThanOrEqual(0);
    // The custom resource could only be created once its CRD was Established: it comes after.
    expect(at(`created Box ${addonNs}/big (add-on)`)).toBeGreaterThan(at(`created CustomResourceDefinition boxes.${group} (add-on)`));
    expect(at(`created Deployment ${production}/web`)).toBeGreaterThan(at(`created Box ${addonNs}/big (add-on)`));
    expect(((await readBox()) as { spec?: { size?: number } }).spec?.size).toBe(3);
    // The controller's inventory of add-ons, in its namespace (made for it: no controller runs here).
    const recorded = (await readInventory(kubeConfig(), controllerNamespace, 'diploid-addons')).map((entry) => `${entry.kind}/${entry.name}`).sort();
    expect(recorded).toEqual([`Box/big`, `CustomResourceDefinition/boxes.${group}`, `Namespace/${addonNs}`]);

    const again = await runCli(['apply', all, '--env', 'production', '--kubeconfig', kubeconfig, '--no-wait']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`unchanged Box ${addonNs}/big (add-on)`);

    const withoutBox = opsRepo({ 'addons/crd.yaml': crdManifest(group, 'Box', 'boxes'), 'addons/ns.yaml': NAMESPACE });
    const pruned = await runCli(['apply', withoutBox, '--env', 'production', '--kubeconfig', kubeconfig, '--no-wait']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain(`pruned Box ${addonNs}/big (add-on)`);
    await expect(readBox()).rejects.toSatisfy(isNotFound);
  });

  it('asks nothing of the controller\'s namespace when the ops repo has no add-ons: a deployer whose role covers only its namespace applies', async () => {
    const team = `aa-team-${suffix}`;
    await kubeConfig().makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: team } } });
    teamNamespaces.push(team);
    const deployer = await serviceAccountConfig(team, 'deployer', [
      { apiGroups: [''], resources: ['configmaps', 'services'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
    ]);
    const file = join(mkdtempSync(join(tmpdir(), 'diploid-deployer-')), 'kubeconfig');
    writeFileSync(file, deployer.exportConfig(), { mode: 0o600 });
    const ops = writeOpsRepo({
      '.diploid.conf.js': CONFIG.replace('environments: { production: {} }', `environments: { production: { namespace: '${team}', existingNamespace: true } }`),
      'services/web.js': SERVICE,
    });
    const applied = await runCli(['apply', ops, '--env', 'production', '--kubeconfig', file, '--no-wait']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`created Deployment ${team}/web`);
  });

  it('with --no-addons leaves the add-ons alone; a bad add-on stops the apply before the environment, saying so', async () => {
    const { kubeconfig } = requireKubernetes();
    // Without the CRD file, an apply with add-ons would prune the CRD: --no-addons touches nothing.
    const none = opsRepo({});
    const skipped = await runCli(['apply', none, '--env', 'production', '--kubeconfig', kubeconfig, '--no-wait', '--no-addons']);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).not.toContain('(add-on)');
    const definition = await kubeConfig().makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: `boxes.${group}` });
    expect(definition.metadata?.deletionTimestamp).toBeUndefined();

    // A custom resource the API server refuses (size must be an integer).
    const refused = opsRepo({ 'addons/crd.yaml': crdManifest(group, 'Box', 'boxes'), 'addons/ns.yaml': NAMESPACE, 'addons/box.yaml': BOX.replace('size: 3', 'size: three'), 'services/api.js': SERVICE.replace("'web'", "'api'") });
    const failed = await runCli(['apply', refused, '--env', 'production', '--kubeconfig', kubeconfig, '--no-wait']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('the add-ons of the cluster of --kubeconfig failed, so nothing of the environment was applied (--no-addons skips them)');
    expect(failed.stderr).toContain(`Box ${addonNs}/big`);
    await expect(kubeConfig().makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'api', namespace: production })).rejects.toSatisfy(isNotFound);
  });
});

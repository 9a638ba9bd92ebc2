/**
 * Writes an environment's Secrets from the encrypted files of the ops repo: decrypts them with
 * the cluster's private key (read from a Secret in the controller's namespace at each call, so a
 * replaced key needs no restart), applies them into the environment's namespace, and prunes the
 * ones it wrote before and no longer finds, by inventory. Values live only in memory and in the
 * Secrets; messages name files, keys and Secrets, never values.
 */
import * as k8s from '@kubernetes/client-node';
import { ENVIRONMENT_LABEL } from '../backends/kubernetes/labels.js';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import type { ConfigSpec } from '../model/config.js';
import type { FileTree } from '../addons/load.js';
import { parseIdentities } from '../secrets/age-keys.js';
import { DEFAULT_KEY_SECRET, environmentSecretFiles, KEY_SECRET_KEY, secretsDir } from '../secrets/layout.js';
import { openSecretFile } from '../secrets/secret-file.js';
import { applyObjects, type ApplyOutcome } from './apply.js';
import { deleteEntry, entryOf, inventoryDiff, readInventory, writeInventory } from './inventory.js';
import { statusOf } from './kube-client.js';

/** The cluster's private key is not there (yet): retried, since creating the Secret fixes it. */
export class MissingClusterKeyError extends Error {
  override readonly name = 'MissingClusterKeyError';
}

export interface EnvironmentSecretsInput {
  /** The ops repo at the commit being deployed (a git commit, or a folder). */
  readonly tree: FileTree;
  readonly config: Pick<ConfigSpec, 'secrets'>;
  readonly project: string;
  readonly environment: string;
  /** Whose files it gets (`secrets/<filesOf>/`): the environment's own, or a preview's base environment's. */
  readonly filesOf?: string;
  readonly namespace: string;
  /** The environment's Namespace object, applied first when the namespace is new. */
  readonly namespaceObject?: KubeObject;
  /** The controller's namespace: where the key Secret and the inventory live. */
  readonly controllerNamespace: string;
  /** The cluster the Secrets go to, when not `kube`'s (the key and the inventory stay in `kube`'s). */
  readonly target?: k8s.KubeConfig;
}

export interface EnvironmentSecretsResult {
  /** `namespace/name` of each Secret written, with its keys (never values) and whether the apply changed it. */
  readonly written: ReadonlyArray<{ readonly secret: string; readonly keys: readonly string[]; readonly outcome: ApplyOutcome }>;
  readonly pruned: readonly string[];
}

/** The inventory ConfigMap of an environment's Secrets, in the controller's namespace. */
export function secretsInventoryName(environment: string): string {
  return `diploid-secrets-${environment}`;
}

/**
 * Decrypts and applies the Secrets of one environment, then prunes the ones written before that
 * the ops repo no longer has. With no secret files and none written before, it does nothing (and
 * needs no key).
 */
export async function writeEnvironmentSecrets(kube: k8s.KubeConfig, input: EnvironmentSecretsInput): Promise<EnvironmentSecretsResult> {
  const dir = secretsDir(input.config);
  const files = environmentSecretFiles(await secretFilesOf(input.tree, dir), input.filesOf ?? input.environment, dir);
  const inventoryName = secretsInventoryName(input.environment);
  const previous = await readInventory(kube, input.controllerNamespace, inventoryName);
  if (files.size === 0 && previous.length === 0) return { written: [], pruned: [] };

  const objects: KubeObject[] = [];
  const written: Array<{ secret: string; keys: string[]; outcome: ApplyOutcome }> = [];
  if (files.size > 0) {
    const identities = await readClusterIdentities(kube, input.controllerNamespace, input.config.secrets?.keySecret ?? DEFAULT_KEY_SECRET);
    for (const [name, file] of files) {
      const open = await openSecretFile((await input.tree.read(file)) ?? '', file, identities);
      objects.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name,
          namespace: input.namespace,
          labels: { 'app.kubernetes.io/managed-by': 'diploid', 'app.kubernetes.io/part-of': input.project, [ENVIRONMENT_LABEL]: input.environment },
          annotations: { 'diploid.dev/source': file },
        },
        // A file whose only key is `.dockerconfigjson` is an image pull Secret (`registry.pullSecret`).
        type: open.values.length === 1 && open.values[0]?.[0] === '.dockerconfigjson' ? 'kubernetes.io/dockerconfigjson' : 'Opaque',
        data: Object.fromEntries(open.values.map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')])),
      });
      written.push({ secret: `${input.namespace}/${name}`, keys: open.values.map(([key]) => key), outcome: 'unchanged' });
    }
  }
  const target = input.target ?? kube;
  if (input.namespaceObject !== undefined && objects.length > 0) await applyObjects(target, [input.namespaceObject]);
  const applied = await applyObjects(target, objects);
  applied.forEach((item, index) => {
    const entry = written[index];
    if (entry !== undefined) entry.outcome = item.outcome;
  });

  // Prune only what this inventory recorded, and only if it still carries diploid's label.
  const here = objects.map(entryOf);
  // Secrets in another namespace belong to a copy the environment left when its namespace changed:
  // they serve it until the new one is Ready, and the left-behind removal deletes them by this record.
  const elsewhere = previous.filter((entry) => entry.namespace !== undefined && entry.namespace !== input.namespace);
  const current = [...here, ...elsewhere];
  const pruned: string[] = [];
  const core = target.makeApiClient(k8s.CoreV1Api);
  for (const entry of inventoryDiff(previous, current)) {
    const existing = await core.readNamespacedSecret({ name: entry.name, namespace: entry.namespace ?? input.namespace }).catch((error: unknown) => (statusOf(error) === 404 ? undefined : Promise.reject(error)));
    if (existing?.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'diploid') continue;
    if (await deleteEntry(target, entry)) pruned.push(`${entry.namespace ?? ''}/${entry.name}`);
  }
  await writeInventory(kube, input.controllerNamespace, inventoryName, current, { 'app.kubernetes.io/part-of': input.project, [ENVIRONMENT_LABEL]: input.environment });
  return { written, pruned };
}

/** The identities in the key Secret (key `age.key`, an age key file). */
export async function readClusterIdentities(kube: k8s.KubeConfig, namespace: string, name: string): Promise<string[]> {
  let secret: k8s.V1Secret;
  try {
    secret = await kube.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ name, namespace });
  } catch (error) {
    if (statusOf(error) === 404) throw new MissingClusterKeyError(`the cluster's private key is missing: create Secret ${namespace}/${name} with key ${KEY_SECRET_KEY} (kubectl -n ${namespace} create secret generic ${name} --from-file=${KEY_SECRET_KEY}=cluster.key)`, { cause: error });
    throw error;
  }
  const encoded = secret.data?.[KEY_SECRET_KEY];
  const identities = encoded === undefined ? [] : parseIdentities(Buffer.from(encoded, 'base64').toString('utf8'));
  if (identities.length === 0) throw new MissingClusterKeyError(`Secret ${namespace}/${name} has no age key under ${KEY_SECRET_KEY}`);
  return identities;
}

/** Secret files of a tree, relative to the secrets folder: `db.yaml`, `production/db.yaml`. */
export async function secretFilesOf(tree: FileTree, dir: string): Promise<string[]> {
  const found = await tree.glob([`${dir}/*.yaml`, `${dir}/*.yml`, `${dir}/*/*.yaml`, `${dir}/*/*.yml`]);
  return found.map((path) => path.slice(dir.length + 1));
}

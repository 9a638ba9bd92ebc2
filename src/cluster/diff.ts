import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { ApplyError, describeObject, FIELD_MANAGER } from './apply.js';
import { managedChanges, type FieldChange } from './field-diff.js';
import { entryOf, inventoryDiff, inventoryKey, inventoryOf, readInventory } from './environment-inventory.js';
import { reasonOf, statusOf } from './kube-client.js';

/** What applying an environment now would do, found without changing anything. */
export interface EnvironmentDiff {
  /** Objects that do not exist yet. */
  readonly create: readonly string[];
  /** Objects whose managed fields would change, with the fields. */
  readonly change: ReadonlyArray<{ readonly object: string; readonly fields: readonly FieldChange[] }>;
  /** Objects the last deploy applied that are no longer rendered: the next deploy deletes them. */
  readonly prune: readonly string[];
  readonly unchanged: number;
}

/**
 * Compares what diploid renders with the live cluster: each object is server-side applied as a
 * dry run (`dryRun=All`, field manager `diploid`: admission, defaulting and validation run, nothing
 * is stored), and the result is compared with the live object on the fields diploid sets. Objects
 * to prune come from the environment's inventory, as the deploy computes them.
 */
export async function diffEnvironment(config: k8s.KubeConfig, objects: readonly KubeObject[], namespace: string): Promise<EnvironmentDiff> {
  const client = k8s.KubernetesObjectApi.makeApiClient(config);
  const create: string[] = [];
  const change: Array<{ object: string; fields: FieldChange[] }> = [];
  let unchanged = 0;
  let namespaceMissing = false;
  for (const object of objects) {
    const name = describeObject(object);
    const live = await read(client, object, name);
    if (live === undefined) {
      create.push(name);
      if (object.kind === 'Namespace') namespaceMissing = true;
      continue;
    }
    // In a namespace that does not exist yet nothing can be dry-run; everything in it is created.
    if (namespaceMissing && object.metadata.namespace !== undefined) {
      create.push(name);
      continue;
    }
    let next: k8s.KubernetesObject;
    try {
      next = await client.patch(object as k8s.KubernetesObject, undefined, 'All', FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
    } catch (error) {
      throw new ApplyError(name, reasonOf(error), [], statusOf(error), { cause: error });
    }
    const fields = managedChanges(object, live, next);
    if (fields.length === 0) unchanged++;
    else change.push({ object: name, fields });
  }
  const previous = await readInventory(config, namespace);
  const rendered = new Set(objects.map((object) => inventoryKey(entryOf(object))));
  const prune = inventoryDiff(previous, inventoryOf(objects))
    .filter((entry) => !rendered.has(inventoryKey(entry)))
    .map((entry) => describeObject({ kind: entry.kind, metadata: { name: entry.name, ...(entry.namespace === undefined ? {} : { namespace: entry.namespace }) } }));
  return { create, change, prune, unchanged };
}

async function read(client: k8s.KubernetesObjectApi, object: KubeObject, name: string): Promise<k8s.KubernetesObject | undefined> {
  try {
    return await client.read({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata.name, ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }) } });
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw new ApplyError(name, reasonOf(error), [], statusOf(error), { cause: error });
  }
}

/** True when applying would change something. Pure. */
export function hasDifference(diff: EnvironmentDiff): boolean {
  return diff.create.length > 0 || diff.change.length > 0 || diff.prune.length > 0;
}

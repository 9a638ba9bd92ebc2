import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { UserError } from '../errors.js';
import { objectClient, reasonOf, statusOf } from './kube-client.js';

/** The field manager diploid's server-side applies run under. */
export const FIELD_MANAGER = 'diploid';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface AppliedObject {
  readonly object: string;
  readonly outcome: ApplyOutcome;
}

/**
 * An apply that failed; earlier objects stay applied, later ones untouched. `status` is the API
 * server's HTTP answer (undefined when none came: the server was not reached), kept so callers
 * classify by it, and `cause` the client's own error.
 */
export class ApplyError extends UserError {
  override readonly name = 'ApplyError';
  constructor(readonly object: string, readonly reason: string, readonly applied: readonly AppliedObject[], readonly status?: number, options?: { cause?: unknown }) {
    super(`the cluster refused ${object}: ${reason}`, options);
  }
}

export function describeObject(object: { kind: string; metadata: { name?: string; namespace?: string } }): string {
  const namespace = object.metadata.namespace === undefined ? '' : `${object.metadata.namespace}/`;
  return `${object.kind} ${namespace}${object.metadata.name ?? ''}`;
}

/**
 * Server-side applies objects in order (namespaces first, routes last), as field manager
 * `diploid`. An object counts as unchanged when the server kept its resourceVersion.
 */
export async function applyObjects(config: k8s.KubeConfig, objects: readonly KubeObject[]): Promise<AppliedObject[]> {
  const client = objectClient(config);
  const applied: AppliedObject[] = [];
  for (const object of objects) {
    const name = describeObject(object);
    try {
      const before = await readVersion(client, object);
      const after = await client.patch(object as k8s.KubernetesObject, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
      const outcome: ApplyOutcome = before === undefined ? 'created' : before === after.metadata?.resourceVersion ? 'unchanged' : 'configured';
      applied.push({ object: name, outcome });
    } catch (error) {
      throw new ApplyError(name, reasonOf(error), applied, statusOf(error), { cause: error });
    }
  }
  return applied;
}

async function readVersion(client: k8s.KubernetesObjectApi, object: KubeObject): Promise<string | undefined> {
  try {
    const current = await client.read({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata.name, ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }) } });
    return current.metadata?.resourceVersion;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

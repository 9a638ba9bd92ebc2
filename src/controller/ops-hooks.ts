/**
 * What the reconciler does besides environments, from the ops repo: the Secrets of an
 * environment, written before its objects, and the add-ons of every cluster, applied before any
 * environment (in `addons-hook.ts`). Each is one function the reconciler calls at one place.
 */
import type * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { MissingClusterKeyError, writeEnvironmentSecrets } from '../cluster/secrets-sync.js';
import { NoMatchingKeyError } from '../secrets/errors.js';
import type { Workspace } from '../sources/git/workspace.js';
import { RetryableError, TerminalError } from '../errors.js';
import type { ClusterConnections } from '../cluster/clusters.js';
import type { ResolvedCluster } from '../resolve/model.js';

/** One environment about to be deployed. */
export interface EnvironmentSecretsRequest {
  readonly workspace: Workspace;
  /** The ops commit the environment is deployed from. */
  readonly opsCommit: string;
  readonly project: string;
  readonly environment: string;
  /** Whose secret files it gets: its own, or a preview's base environment's. */
  readonly filesOf: string;
  readonly namespace: string;
  /** The environment's objects (its Namespace is applied first when Secrets are written). */
  readonly objects: readonly KubeObject[];
  /** The cluster the environment is deployed to, when not the controller's own. */
  readonly cluster?: ResolvedCluster;
}

/** Writes an environment's Secrets; throws to stop its deploy. */
export type EnvironmentSecretsHook = (request: EnvironmentSecretsRequest) => Promise<void>;

export { kubeAddonsHook, type AddonsHook } from './addons-hook.js';

/**
 * Secrets decrypted with the key in the controller's namespace and written by server-side apply,
 * into the environment's cluster (`clusters` reaches the others); key and inventory stay home.
 */
export function kubeSecretsHook(kube: k8s.KubeConfig, controllerNamespace: string, log: (line: string) => void, clusters?: ClusterConnections): EnvironmentSecretsHook {
  return async (request) => {
    const target = request.cluster === undefined ? kube : clusters === undefined ? undefined : await clusters.config(request.cluster);
    if (target === undefined) throw new TerminalError('ClusterUnknown', `cluster ${request.cluster?.name ?? ''}: this controller was started without access to other clusters`);
    const tree = await (await request.workspace.ops()).tree(request.opsCommit, '');
    const { config } = await request.workspace.config(request.opsCommit);
    const namespaceObject = request.objects.find((object) => object.kind === 'Namespace');
    try {
      const result = await writeEnvironmentSecrets(kube, { target, tree, config, project: request.project, environment: request.environment, filesOf: request.filesOf, namespace: request.namespace, controllerNamespace, ...(namespaceObject === undefined ? {} : { namespaceObject }) });
      for (const item of result.written) if (item.outcome !== 'unchanged') log(`${request.environment}: secret ${item.secret} ${item.outcome} (keys ${item.keys.join(', ')})`);
      for (const item of result.pruned) log(`${request.environment}: pruned secret ${item}`);
    } catch (error) {
      // Both are fixed in the cluster as well as in git (the key Secret replaced): retried, with backoff.
      if (error instanceof MissingClusterKeyError || error instanceof NoMatchingKeyError) throw new RetryableError(error.message, { cause: error });
      throw error;
    }
  };
}
